//! The tools: each a function from arguments, [`Sys`] and [`Io`] to an exit code.
//!
//! Every tool reads and writes files through [`Sys`] (never a raw guest path), treats `-` and `/dev/stdin`
//! as its standard input, and `/dev/stdout` and `/dev/stderr` as output files as its standard streams.
//! `docs/toolbox-tools.md` lists each tool, the options it has, and where it differs from busybox.

mod argosay;
mod awk;
mod cowsay;
mod files;
mod grep;
mod od;
mod printf;
mod regex;
mod sysinfo;
mod test;
mod text;

#[cfg(test)]
mod tests;

use crate::{Io, Sys};
use std::io::{self, Read, Write};

/// Every tool's name, `sh` aside, sorted.
pub const NAMES: &[&str] = &[
    "[",
    "argosay",
    "argosay-v1",
    "awk",
    "base64",
    "basename",
    "cat",
    "cowsay",
    "cp",
    "cut",
    "date",
    "dirname",
    "echo",
    "egrep",
    "env",
    "false",
    "fgrep",
    "grep",
    "head",
    "hostname",
    "id",
    "ls",
    "mkdir",
    "mv",
    "od",
    "printf",
    "pwd",
    "rm",
    "seq",
    "sha256sum",
    "sleep",
    "sort",
    "tail",
    "tee",
    "test",
    "touch",
    "tr",
    "true",
    "uname",
    "uniq",
    "wc",
    "whoami",
    "xargs",
    "yes",
];

/// Runs the tool `name` with `args` (`argv[1..]`); `None` when there is no such tool.
pub fn run(name: &str, args: &[String], sys: &mut Sys, io: &mut Io<'_>) -> Option<i32> {
    let code = match name {
        "true" => 0,
        "false" => 1,
        "[" => test::main(args, true, sys, io),
        "test" => test::main(args, false, sys, io),
        "argosay" => argosay::main(args, sys, io),
        "argosay-v1" => argosay::v1(args, io),
        "awk" => awk::main(args, sys, io),
        "base64" => text::base64(args, sys, io),
        "basename" => files::basename(args, io),
        "cat" => text::cat(args, sys, io),
        "cowsay" => cowsay::main(args, io),
        "cp" => files::cp(args, sys, io),
        "cut" => text::cut(args, sys, io),
        "date" => sysinfo::date(args, io),
        "dirname" => files::dirname(args, io),
        "echo" => text::echo(args, io),
        "egrep" => grep::main("egrep", args, sys, io),
        "env" => sysinfo::env(args, sys, io),
        "fgrep" => grep::main("fgrep", args, sys, io),
        "grep" => grep::main("grep", args, sys, io),
        "head" => text::head(args, sys, io),
        "hostname" => sysinfo::simple(io, "skiff"),
        "id" => sysinfo::id(args, io),
        "ls" => files::ls(args, sys, io),
        "mkdir" => files::mkdir(args, sys, io),
        "mv" => files::mv(args, sys, io),
        "od" => od::main(args, sys, io),
        "printf" => printf::main(args, io),
        "pwd" => sysinfo::simple(io, &sys.cwd.clone()),
        "rm" => files::rm(args, sys, io),
        "seq" => text::seq(args, io),
        "sha256sum" => text::sha256sum(args, sys, io),
        "sleep" => sysinfo::sleep(args, io),
        "sort" => text::sort(args, sys, io),
        "tail" => text::tail(args, sys, io),
        "tee" => text::tee(args, sys, io),
        "touch" => files::touch(args, sys, io),
        "tr" => text::tr(args, io),
        "uname" => sysinfo::uname(args, io),
        "uniq" => text::uniq(args, sys, io),
        "wc" => text::wc(args, sys, io),
        "whoami" => sysinfo::simple(io, "root"),
        "xargs" => sysinfo::xargs(args, sys, io),
        "yes" => text::yes(args, io),
        _ => return None,
    };
    Some(code)
}

/// Prints `tool: message` on standard error and returns 1.
pub(crate) fn fail(io: &mut Io<'_>, tool: &str, message: impl std::fmt::Display) -> i32 {
    let _ = writeln!(io.stderr, "{tool}: {message}");
    1
}

/// Whether `path` names the tool's standard input.
pub(crate) fn is_stdin(path: &str) -> bool {
    path == "-" || path == "/dev/stdin"
}

/// Opens an input operand: `-` and `/dev/stdin` are standard input, anything else goes through [`Sys`].
pub(crate) fn open_input<'a>(
    path: &str,
    sys: &mut Sys,
    stdin: &'a mut dyn Read,
) -> io::Result<Box<dyn Read + 'a>> {
    if is_stdin(path) {
        Ok(Box::new(stdin))
    } else {
        sys.open_read(path)
    }
}

/// Reads a whole input operand.
pub(crate) fn read_all(path: &str, sys: &mut Sys, stdin: &mut dyn Read) -> io::Result<Vec<u8>> {
    let mut data = Vec::new();
    open_input(path, sys, stdin)?.read_to_end(&mut data)?;
    Ok(data)
}

/// An output file: a standard stream (`/dev/stdout`, `/dev/stderr`, `-` where a tool allows it) or a file.
pub(crate) enum Output {
    Stdout,
    Stderr,
    File(Box<dyn Write>),
}

impl Output {
    /// Opens `path` for writing (truncating unless `append`).
    pub(crate) fn open(path: &str, append: bool, sys: &Sys) -> io::Result<Output> {
        match path {
            "/dev/stdout" => Ok(Output::Stdout),
            "/dev/stderr" => Ok(Output::Stderr),
            _ => Ok(Output::File(sys.open_write(path, append)?)),
        }
    }

    /// Writes `data` to the output.
    pub(crate) fn write_all(&mut self, io: &mut Io<'_>, data: &[u8]) -> io::Result<()> {
        match self {
            Output::Stdout => io.stdout.write_all(data),
            Output::Stderr => io.stderr.write_all(data),
            Output::File(f) => f.write_all(data),
        }
    }

    /// Flushes the output.
    pub(crate) fn flush(&mut self, io: &mut Io<'_>) -> io::Result<()> {
        match self {
            Output::Stdout => io.stdout.flush(),
            Output::Stderr => io.stderr.flush(),
            Output::File(f) => f.flush(),
        }
    }
}

/// Parsed command-line options: flags seen (in order, repeated), option values, operands.
#[derive(Debug, Default)]
pub(crate) struct Opts {
    pub flags: Vec<char>,
    pub values: Vec<(char, String)>,
    pub operands: Vec<String>,
}

impl Opts {
    /// Whether the flag `c` was given.
    pub(crate) fn has(&self, c: char) -> bool {
        self.flags.contains(&c)
    }

    /// The last value given to option `c`.
    pub(crate) fn value(&self, c: char) -> Option<&str> {
        self.values
            .iter()
            .rev()
            .find(|(k, _)| *k == c)
            .map(|(_, v)| v.as_str())
    }
}

/// Parses short options as getopt does: `flags` take no argument, `with_value` take one (`-n5` or `-n 5`).
/// Operands and options may mix (as GNU getopt allows) unless `stop_at_operand`; `--` ends the options.
///
/// # Errors
/// The busybox-style message of an unknown option or a missing argument.
pub(crate) fn getopt(
    args: &[String],
    flags: &str,
    with_value: &str,
    stop_at_operand: bool,
) -> Result<Opts, String> {
    let mut opts = Opts::default();
    let mut i = 0;
    while i < args.len() {
        let arg = &args[i];
        i += 1;
        if arg == "--" {
            opts.operands.extend(args[i..].iter().cloned());
            break;
        }
        if arg.len() < 2 || !arg.starts_with('-') {
            opts.operands.push(arg.clone());
            if stop_at_operand {
                opts.operands.extend(args[i..].iter().cloned());
                break;
            }
            continue;
        }
        let chars: Vec<char> = arg.chars().skip(1).collect();
        let mut j = 0;
        while j < chars.len() {
            let c = chars[j];
            j += 1;
            if with_value.contains(c) {
                let value = if j < chars.len() {
                    chars[j..].iter().collect()
                } else if i < args.len() {
                    i += 1;
                    args[i - 1].clone()
                } else {
                    return Err(format!("option requires an argument -- '{c}'"));
                };
                opts.values.push((c, value));
                break;
            } else if flags.contains(c) {
                opts.flags.push(c);
            } else {
                return Err(format!("unrecognized option: {c}"));
            }
        }
    }
    Ok(opts)
}

/// Processes backslash escapes as `echo -e`, `printf`'s `%b` and awk's `-F` do. Returns the bytes and
/// whether `\c` (stop all output) was met.
pub(crate) fn unescape(text: &str, octal_needs_zero: bool) -> (Vec<u8>, bool) {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        i += 1;
        if b != b'\\' || i >= bytes.len() {
            out.push(b);
            continue;
        }
        let e = bytes[i];
        i += 1;
        match e {
            b'n' => out.push(b'\n'),
            b't' => out.push(b'\t'),
            b'r' => out.push(b'\r'),
            b'a' => out.push(7),
            b'b' => out.push(8),
            b'f' => out.push(12),
            b'v' => out.push(11),
            b'e' => out.push(27),
            b'\\' => out.push(b'\\'),
            b'c' => return (out, true),
            b'x' => {
                let mut v = 0u32;
                let mut n = 0;
                while n < 2 && i < bytes.len() && bytes[i].is_ascii_hexdigit() {
                    v = v * 16 + char::from(bytes[i]).to_digit(16).unwrap_or(0);
                    i += 1;
                    n += 1;
                }
                if n == 0 {
                    out.extend_from_slice(b"\\x");
                } else {
                    out.push(u8::try_from(v).unwrap_or(0));
                }
            }
            b'0'..=b'7' => {
                let (mut v, max) = if octal_needs_zero && e == b'0' {
                    (0u32, 3)
                } else {
                    (u32::from(e - b'0'), 2)
                };
                let mut n = 0;
                while n < max && i < bytes.len() && (b'0'..=b'7').contains(&bytes[i]) {
                    v = v * 8 + u32::from(bytes[i] - b'0');
                    i += 1;
                    n += 1;
                }
                out.push((v & 0xff) as u8);
            }
            other => {
                out.push(b'\\');
                out.push(other);
            }
        }
    }
    (out, false)
}

/// Splits data into lines (without their `\n`); a last line without `\n` counts.
pub(crate) fn lines(data: &[u8]) -> Vec<&[u8]> {
    let mut out: Vec<&[u8]> = data.split(|&b| b == b'\n').collect();
    if data.is_empty() || data.ends_with(b"\n") {
        out.pop();
    }
    out
}
