//! `awk`: a POSIX awk subset with an interpreter of its own (lexer, parser, tree-walking interpreter).

mod interp;
mod lexer;
mod parser;

use crate::tools::{fail, read_all};
use crate::{Io, Sys, describe};
use interp::{Interp, Value, assignment, strnum};

const USAGE: &str = "Usage: awk [-F SEP] [-v VAR=VAL]... [-f PROGFILE | 'PROGRAM'] [FILE]...";

/// `awk [-F fs] [-v var=val]... [-f progfile | 'program'] [file | var=val]...`
pub(crate) fn main(args: &[String], sys: &mut Sys, io: &mut Io<'_>) -> i32 {
    let mut fs: Option<String> = None;
    let mut assigns: Vec<String> = Vec::new();
    let mut progfiles: Vec<String> = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        if a == "--" {
            i += 1;
            break;
        }
        if a.len() < 2 || !a.starts_with('-') {
            break;
        }
        let (opt, rest) = a.split_at(2);
        let value = if rest.is_empty() {
            if matches!(opt, "-F" | "-v" | "-f") {
                i += 1;
                match args.get(i) {
                    Some(v) => v.clone(),
                    None => {
                        return fail(
                            io,
                            "awk",
                            format!("option requires an argument -- '{}'\n{USAGE}", &opt[1..]),
                        );
                    }
                }
            } else {
                String::new()
            }
        } else {
            rest.to_string()
        };
        match opt {
            "-F" => fs = Some(value),
            "-v" => assigns.push(value),
            "-f" => progfiles.push(value),
            _ if a == "--version" => {
                let _ = writeln!(io.stdout, "awk (skiff toolbox)");
                return 0;
            }
            _ => {
                return fail(
                    io,
                    "awk",
                    format!("unrecognized option: {}\n{USAGE}", &a[1..]),
                );
            }
        }
        i += 1;
    }
    let source = if progfiles.is_empty() {
        let Some(p) = args.get(i) else {
            return fail(io, "awk", USAGE);
        };
        i += 1;
        p.clone()
    } else {
        let mut text = String::new();
        for f in &progfiles {
            match read_all(f, sys, &mut *io.stdin) {
                Ok(data) => {
                    text.push_str(&String::from_utf8_lossy(&data));
                    text.push('\n');
                }
                Err(e) => return fail(io, "awk", format!("can't open file {f}: {}", describe(&e))),
            }
        }
        text
    };
    let operands = &args[i..];
    let prog = match parser::parse(&source) {
        Ok(p) => p,
        Err(e) => {
            let _ = writeln!(io.stderr, "awk: {e}");
            return 2;
        }
    };
    let mut interp = Interp::new(prog, sys, io);
    if let Some(fs) = fs {
        let fs = if fs == "t" {
            "\t".to_string()
        } else {
            lexer::string_escapes(&fs)
        };
        interp.set_global("FS", Value::Str(fs));
    }
    for a in &assigns {
        match assignment(a) {
            Some((name, value)) => interp.set_global(name, strnum(lexer::string_escapes(value))),
            None => {
                drop(interp);
                return fail(io, "awk", format!("-v: '{a}' is not a variable assignment"));
            }
        }
    }
    interp.set_args(operands);
    interp.run()
}
