//! The `skiff` binary: parses the command line and hands it to [`skiff::cli`].

use clap::Parser;

fn main() {
    let cli = skiff::cli::Cli::parse();
    let result = skiff::cli::run(cli);
    if let Err(e) = &result {
        match e {
            skiff::cli::CliError::Internal(e) => eprintln!("skiff: internal error: {e:#}"),
            other => eprintln!("{other}"),
        }
    }
    std::process::exit(skiff::cli::exit_code(&result));
}
