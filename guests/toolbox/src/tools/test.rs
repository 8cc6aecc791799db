//! `test` and `[`: string, integer and file tests with `!`, `-a`, `-o` and parentheses.

use crate::{Io, Sys};
use std::fs::Metadata;

const UNARY: &[&str] = &[
    "-n", "-z", "-e", "-f", "-d", "-s", "-r", "-w", "-x", "-L", "-h", "-b", "-c", "-p", "-S", "-t",
    "-g", "-u", "-k", "-O", "-G",
];
const BINARY: &[&str] = &[
    "=", "==", "!=", "<", ">", "-eq", "-ne", "-lt", "-le", "-gt", "-ge", "-nt", "-ot", "-ef",
];

struct Eval<'s> {
    args: &'s [String],
    pos: usize,
    name: &'static str,
    sys: &'s Sys,
}

type R<T> = Result<T, String>;

#[cfg(unix)]
fn executable(m: &Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    m.is_dir() || m.permissions().mode() & 0o111 != 0
}

#[cfg(not(unix))]
fn executable(m: &Metadata) -> bool {
    m.is_dir()
}

impl Eval<'_> {
    fn peek(&self) -> Option<&str> {
        self.args.get(self.pos).map(String::as_str)
    }

    fn or(&mut self) -> R<bool> {
        let mut v = self.and()?;
        while self.peek() == Some("-o") {
            self.pos += 1;
            let r = self.and()?;
            v = v || r;
        }
        Ok(v)
    }

    fn and(&mut self) -> R<bool> {
        let mut v = self.not()?;
        while self.peek() == Some("-a") {
            self.pos += 1;
            let r = self.not()?;
            v = v && r;
        }
        Ok(v)
    }

    fn not(&mut self) -> R<bool> {
        if self.peek() == Some("!") && self.pos + 1 < self.args.len() {
            self.pos += 1;
            return Ok(!self.not()?);
        }
        self.primary()
    }

    fn primary(&mut self) -> R<bool> {
        let Some(tok) = self.peek().map(str::to_string) else {
            return Err("argument expected".to_string());
        };
        // A binary expression takes precedence: `[ -n = -n ]`, `[ ! = x ]`.
        if let Some(op) = self.args.get(self.pos + 1)
            && BINARY.contains(&op.as_str())
            && self.pos + 2 < self.args.len()
        {
            let op = op.clone();
            let rhs = self.args[self.pos + 2].clone();
            self.pos += 3;
            return self.binary(&tok, &op, &rhs);
        }
        if tok == "(" {
            self.pos += 1;
            let v = self.or()?;
            if self.peek() != Some(")") {
                return Err("missing )".to_string());
            }
            self.pos += 1;
            return Ok(v);
        }
        if UNARY.contains(&tok.as_str()) && self.pos + 1 < self.args.len() {
            let arg = self.args[self.pos + 1].clone();
            self.pos += 2;
            return Ok(self.unary(&tok, &arg));
        }
        self.pos += 1;
        Ok(!tok.is_empty())
    }

    fn int(&self, s: &str) -> R<i64> {
        s.trim()
            .parse::<i64>()
            .map_err(|_| format!("{s}: bad number"))
    }

    fn binary(&self, a: &str, op: &str, b: &str) -> R<bool> {
        Ok(match op {
            "=" | "==" => a == b,
            "!=" => a != b,
            "<" => a < b,
            ">" => a > b,
            "-eq" => self.int(a)? == self.int(b)?,
            "-ne" => self.int(a)? != self.int(b)?,
            "-lt" => self.int(a)? < self.int(b)?,
            "-le" => self.int(a)? <= self.int(b)?,
            "-gt" => self.int(a)? > self.int(b)?,
            "-ge" => self.int(a)? >= self.int(b)?,
            "-nt" | "-ot" => {
                let ta = self
                    .sys
                    .host_path(a)
                    .metadata()
                    .and_then(|m| m.modified())
                    .ok();
                let tb = self
                    .sys
                    .host_path(b)
                    .metadata()
                    .and_then(|m| m.modified())
                    .ok();
                match (ta, tb) {
                    (Some(x), Some(y)) => (op == "-nt" && x > y) || (op == "-ot" && x < y),
                    (Some(_), None) => op == "-nt",
                    (None, Some(_)) => op == "-ot",
                    (None, None) => false,
                }
            }
            "-ef" => {
                let ra = self.sys.host_path(a).canonicalize().ok();
                ra.is_some() && ra == self.sys.host_path(b).canonicalize().ok()
            }
            _ => return Err(format!("{op}: unknown operand")),
        })
    }

    fn unary(&self, op: &str, arg: &str) -> bool {
        match op {
            "-n" => !arg.is_empty(),
            "-z" => arg.is_empty(),
            "-t" => false,
            _ => {
                let device = crate::is_device(&self.sys.resolve(arg));
                let host = self.sys.host_path(arg);
                let lmeta = host.symlink_metadata().ok();
                let meta = host.metadata().ok();
                match op {
                    "-e" => device || meta.is_some(),
                    "-f" => meta.as_ref().is_some_and(Metadata::is_file),
                    "-d" => meta.as_ref().is_some_and(Metadata::is_dir),
                    "-s" => meta.as_ref().is_some_and(|m| m.len() > 0),
                    "-r" => device || meta.is_some(),
                    "-w" => {
                        device
                            || meta
                                .as_ref()
                                .is_some_and(|m| !m.permissions().readonly() || m.is_dir())
                    }
                    "-x" => meta.as_ref().is_some_and(executable),
                    "-L" | "-h" => lmeta.is_some_and(|m| m.file_type().is_symlink()),
                    "-c" => device,
                    _ => false,
                }
            }
        }
    }
}

/// `test EXPR` / `[ EXPR ]`: 0 true, 1 false, 2 error.
pub(crate) fn main(args: &[String], bracket: bool, sys: &mut Sys, io: &mut Io<'_>) -> i32 {
    let name = if bracket { "[" } else { "test" };
    let args = if bracket {
        match args.split_last() {
            Some((last, rest)) if last == "]" => rest,
            _ => {
                let _ = writeln!(io.stderr, "[: missing ]");
                return 2;
            }
        }
    } else {
        args
    };
    if args.is_empty() {
        return 1;
    }
    let mut e = Eval {
        args,
        pos: 0,
        name,
        sys,
    };
    let result = e.or().and_then(|v| match e.peek() {
        None => Ok(v),
        Some(extra) => Err(format!("{extra}: unknown operand")),
    });
    match result {
        Ok(true) => 0,
        Ok(false) => 1,
        Err(msg) => {
            let _ = writeln!(io.stderr, "{}: {msg}", e.name);
            2
        }
    }
}
