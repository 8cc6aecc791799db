//! skiff's toolbox shell: the POSIX `sh` subset that Argo script and container steps use, run as plain
//! function calls (no processes, no threads). See `docs/toolbox-sh.md` for what it supports.
//!
//! The script is parsed whole first (`parse`); a syntax error means nothing runs (status 2). Then
//! `exec` runs the tree: builtins (`builtins`) change the shell, everything else is a tool of the toolbox
//! called through [`crate::run`], or a script file run by a new shell.

mod arith;
mod builtins;
mod exec;
mod parse;
mod pattern;
#[cfg(test)]
mod tests;

use crate::{Io, Sys, describe};
use exec::{Opts, Shell};
use std::cell::RefCell;
use std::io::Read;

/// Reads `script` the way `sh -c` does, without running anything: `Ok` when it parses, otherwise the
/// message `sh` would print (`line N: ...`). For fuzzing and for checks before a run.
///
/// # Errors
/// The syntax error, with its line.
pub fn check_syntax(script: &str) -> Result<(), String> {
    parse::parse(script, 1, 0)
        .map(|_| ())
        .map_err(|e| format!("line {}: {}", e.line, e.msg))
}

/// Evaluates the arithmetic expression `expr` as `$((expr))` would, with no variables set (a name reads
/// as 0; assignments are kept for the rest of the expression). For fuzzing.
///
/// # Errors
/// The shell's message for a malformed expression or a division by zero.
pub fn eval_arithmetic(expr: &str) -> Result<i64, String> {
    struct Local(std::collections::BTreeMap<String, i64>);
    impl arith::Vars for Local {
        fn get(&mut self, name: &str) -> Result<i64, String> {
            Ok(self.0.get(name).copied().unwrap_or(0))
        }
        fn set(&mut self, name: &str, value: i64) -> Result<(), String> {
            self.0.insert(name.to_string(), value);
            Ok(())
        }
    }
    arith::eval(expr, &mut Local(std::collections::BTreeMap::new()))
}

/// Whether the shell pattern `pattern` (`*`, `?`, `[...]`, `\`) matches all of `text`, as `case` decides.
pub fn pattern_matches(pattern: &str, text: &str) -> bool {
    pattern::matches(pattern, text)
}

/// Runs `sh` with `args` (`argv[1..]`), returns the exit status.
///
/// `sh -c SCRIPT [NAME [ARGS...]]`, `sh FILE [ARGS...]`, `sh` (script from standard input), with the
/// options `-e`, `-x`, `-u`, `-f`, `-o NAME` before them (combined as in `-exc`).
pub fn main(args: &[String], sys: &mut Sys, io: &mut Io<'_>) -> i32 {
    let mut opts = Opts::default();
    let mut command = false;
    let mut from_stdin = false;
    let mut i = 0;
    while let Some(a) = args.get(i) {
        if a == "--" || a == "-" {
            i += 1;
            break;
        }
        let on = a.starts_with('-');
        if !(on || a.starts_with('+')) || a.len() < 2 {
            break;
        }
        i += 1;
        for c in a[1..].chars() {
            let known = match c {
                'c' => {
                    command = on;
                    true
                }
                's' => {
                    from_stdin = on;
                    true
                }
                'i' | 'l' => true,
                'o' => {
                    let name = args.get(i).cloned().unwrap_or_default();
                    i += 1;
                    opts.set_named(&name, on)
                }
                c => opts.set_letter(c, on),
            };
            if !known {
                let _ = writeln!(io.stderr, "sh: {a}: invalid option");
                return 2;
            }
        }
    }
    let rest = &args[i.min(args.len())..];
    let (text, arg0, params) = if command {
        let Some(script) = rest.first() else {
            let _ = writeln!(io.stderr, "sh: -c requires an argument");
            return 2;
        };
        let arg0 = rest.get(1).cloned().unwrap_or_else(|| "sh".to_string());
        (
            script.clone(),
            arg0,
            rest.get(2..).unwrap_or_default().to_vec(),
        )
    } else if let (Some(file), false) = (rest.first(), from_stdin) {
        let read = sys.open_read(file).and_then(|mut r| {
            let mut bytes = Vec::new();
            r.read_to_end(&mut bytes).map(|_| bytes)
        });
        match read {
            Ok(bytes) => (
                String::from_utf8_lossy(&bytes).into_owned(),
                file.clone(),
                rest[1..].to_vec(),
            ),
            Err(e) => {
                let _ = writeln!(io.stderr, "sh: can't open '{file}': {}", describe(&e));
                return 127;
            }
        }
    } else {
        let mut bytes = Vec::new();
        if let Err(e) = io.stdin.read_to_end(&mut bytes) {
            let _ = writeln!(io.stderr, "sh: can't read standard input: {}", describe(&e));
            return 2;
        }
        (
            String::from_utf8_lossy(&bytes).into_owned(),
            "sh".to_string(),
            rest.to_vec(),
        )
    };
    let seed = sys.next_u64();
    let mut shell = Shell::new(sys.clone(), arg0, params, opts, seed);
    let base = RefCell::new(Io {
        stdin: &mut *io.stdin,
        stdout: &mut *io.stdout,
        stderr: &mut *io.stderr,
    });
    match parse::parse(&text, 1, 0) {
        Ok(list) => shell.run_list(&list, &base),
        Err(e) => {
            shell.error_plain(&base, &format!("line {}: {}", e.line, e.msg));
            2
        }
    }
}
