//! The toolbox program: one multi-call binary, the tool named by `argv[0]` (or by `argv[1]` when `argv[0]`
//! is `toolbox` or `skiff-toolbox`). All the work is in the library.

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let code = skiff_toolbox::main_with_args(&args);
    std::process::exit(code);
}
