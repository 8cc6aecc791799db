//! Example skiff component: adds the integer input parameters `a` and `b`.
//!
//! Prints the sum (the step's `outputs.result`) and writes it as the output parameter `sum`
//! (`/tmp/outputs/parameters/sum`). A missing or non-integer input fails the step with a message
//! on stderr and exit code 1. Inputs come as env `SKIFF_INPUT_A` / `SKIFF_INPUT_B` (what skiff
//! sets for a `wasm:` template's input parameters) or as `--a=1 --b=2`.
//!
//! Build: `cargo build -p skiff-example-add --target wasm32-wasip1 --release`; see
//! `examples/add.yaml`.

use skiff_guest::{OrFail, input, output};

fn main() {
    let a: i64 = input::param_as("a").or_fail();
    let b: i64 = input::param_as("b").or_fail();
    let sum = a
        .checked_add(b)
        .unwrap_or_else(|| skiff_guest::fail(format!("{a} + {b} does not fit in 64 bits")));
    output::param("sum", sum).or_fail();
    skiff_guest::result(sum);
}
