//! `argosay` (the program of argoproj/argosay:v2) and `argosay-v1` (argoproj/argosay:v1).

use super::sysinfo::sleep_for;
use super::{Output, read_all};
use crate::{Io, Sys, describe};

/// Parses a Go duration: `300ms`, `1.5h`, `2h45m`, `10s`; a bare `0` too.
pub(crate) fn parse_go_duration(s: &str) -> Option<f64> {
    let (neg, mut rest) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    if rest == "0" {
        return Some(0.0);
    }
    if rest.is_empty() {
        return None;
    }
    let mut total = 0.0;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if num_len == 0 {
            return None;
        }
        let value: f64 = rest[..num_len].parse().ok()?;
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let scale = match &rest[..unit_len] {
            "ns" => 1e-9,
            "us" | "µs" | "μs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return None,
        };
        total += value * scale;
        rest = &rest[unit_len..];
    }
    Some(if neg { -total } else { total })
}

fn fail_with(io: &mut Io<'_>, msg: impl std::fmt::Display) -> i32 {
    let _ = writeln!(io.stderr, "argosay: {msg}");
    1
}

/// `argosay [echo [MSG [FILE]] | cat FILE... | sleep DURATION | exit [CODE] | assert_contains FILE TEXT |
/// assert_equals A B | sh ARGS...]`
pub(crate) fn main(args: &[String], sys: &mut Sys, io: &mut Io<'_>) -> i32 {
    let Some(cmd) = args.first() else {
        return i32::from(writeln!(io.stdout, "hello argo").is_err());
    };
    let rest = &args[1..];
    match cmd.as_str() {
        "echo" => match rest {
            [] => i32::from(writeln!(io.stdout, "hello argo").is_err()),
            [msg] => i32::from(writeln!(io.stdout, "{msg}").is_err()),
            [msg, file, ..] => {
                let host = sys.host_path(file);
                if let Some(parent) = host.parent()
                    && !crate::is_device(&sys.resolve(file))
                    && let Err(e) = std::fs::create_dir_all(parent)
                {
                    return fail_with(io, format!("{file}: {}", describe(&e)));
                }
                match Output::open(file, false, sys)
                    .and_then(|mut o| o.write_all(io, msg.as_bytes()))
                {
                    Ok(()) => 0,
                    Err(e) => fail_with(io, format!("{file}: {}", describe(&e))),
                }
            }
        },
        "cat" => {
            let mut code = 0;
            for f in rest {
                match read_all(f, sys, &mut *io.stdin) {
                    Ok(d) => {
                        let _ = io.stdout.write_all(&d);
                    }
                    Err(e) => {
                        code = fail_with(io, format!("{f}: {}", describe(&e)));
                    }
                }
            }
            code
        }
        "sleep" => {
            let Some(d) = rest.first() else {
                return fail_with(io, "sleep: missing duration");
            };
            match parse_go_duration(d) {
                Some(secs) => {
                    let _ = io.stdout.flush();
                    sleep_for(secs);
                    0
                }
                None => fail_with(io, format!("time: invalid duration \"{d}\"")),
            }
        }
        "exit" => match rest.first() {
            None => 0,
            Some(c) => match c.parse::<i32>() {
                Ok(code) => code,
                Err(_) => fail_with(io, format!("exit: invalid code \"{c}\"")),
            },
        },
        "assert_contains" => {
            let [file, text, ..] = rest else {
                return fail_with(io, "assert_contains: want FILE TEXT");
            };
            match read_all(file, sys, &mut *io.stdin) {
                Ok(d) if String::from_utf8_lossy(&d).contains(text.as_str()) => 0,
                Ok(_) => fail_with(io, format!("{file} does not contain \"{text}\"")),
                Err(e) => fail_with(io, format!("{file}: {}", describe(&e))),
            }
        }
        "assert_equals" => {
            let [a, b, ..] = rest else {
                return fail_with(io, "assert_equals: want A B");
            };
            if a == b {
                0
            } else {
                fail_with(io, format!("\"{a}\" does not equal \"{b}\""))
            }
        }
        // `argosay sh ARGS...`: the image's shell, for steps that pass a script through argosay.
        "sh" => crate::sh::main(rest, sys, io),
        other => fail_with(io, format!("unknown command {other}")),
    }
}

/// `argosay-v1 [TEXT]...`: the text, or `hello argo`.
pub(crate) fn v1(args: &[String], io: &mut Io<'_>) -> i32 {
    let text = if args.is_empty() {
        "hello argo".to_string()
    } else {
        args.join(" ")
    };
    i32::from(writeln!(io.stdout, "{text}").is_err())
}
