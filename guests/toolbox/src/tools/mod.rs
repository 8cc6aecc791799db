//! The tools: each a function from arguments, [`Sys`] and [`Io`] to an exit code.

use crate::{describe, Io, Sys};
use std::io::{self, Write};

/// Every tool's name, `sh` aside.
pub const NAMES: &[&str] = &["cat", "echo", "false", "true"];

/// Runs the tool `name` with `args` (`argv[1..]`); `None` when there is no such tool.
pub fn run(name: &str, args: &[String], sys: &mut Sys, io: &mut Io<'_>) -> Option<i32> {
    let code = match name {
        "true" => 0,
        "false" => 1,
        "echo" => echo(args, io),
        "cat" => cat(args, sys, io),
        _ => return None,
    };
    Some(code)
}

fn echo(args: &[String], io: &mut Io<'_>) -> i32 {
    let (newline, words) = match args.first().map(String::as_str) {
        Some("-n") => (false, &args[1..]),
        _ => (true, args),
    };
    let mut text = words.join(" ");
    if newline {
        text.push('\n');
    }
    i32::from(io.stdout.write_all(text.as_bytes()).is_err())
}

fn cat(args: &[String], sys: &mut Sys, io: &mut Io<'_>) -> i32 {
    let files: Vec<&str> = if args.is_empty() { vec!["-"] } else { args.iter().map(String::as_str).collect() };
    let mut code = 0;
    for file in files {
        let copied = if file == "-" || file == "/dev/stdin" {
            io::copy(io.stdin, io.stdout).map(|_| ())
        } else {
            sys.open_read(file).and_then(|mut r| io::copy(&mut r, io.stdout).map(|_| ()))
        };
        if let Err(e) = copied {
            let _ = writeln!(io.stderr, "cat: {file}: {}", describe(&e));
            code = 1;
        }
    }
    code
}
