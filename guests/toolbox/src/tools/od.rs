//! `od`: dumps bytes as octal, decimal, hex or characters, as GNU and busybox od do.

use super::{fail, getopt, open_input};
use crate::{Io, Sys, describe};
use std::io::Read;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Signed,
    Unsigned,
    Octal,
    Hex,
    Char,
}

#[derive(Debug, Clone, Copy)]
struct Type {
    kind: Kind,
    size: usize,
}

fn parse_type(spec: &str) -> Result<Vec<Type>, String> {
    let mut out = Vec::new();
    let chars: Vec<char> = spec.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let kind = match chars[i] {
            'd' => Kind::Signed,
            'u' => Kind::Unsigned,
            'o' => Kind::Octal,
            'x' => Kind::Hex,
            'c' | 'a' => Kind::Char,
            _ => return Err(format!("invalid type string '{spec}'")),
        };
        i += 1;
        let mut size = if kind == Kind::Char { 1 } else { 4 };
        if kind != Kind::Char && i < chars.len() {
            match chars[i] {
                'C' => {
                    size = 1;
                    i += 1;
                }
                'S' => {
                    size = 2;
                    i += 1;
                }
                'I' => {
                    size = 4;
                    i += 1;
                }
                'L' => {
                    size = 8;
                    i += 1;
                }
                c if c.is_ascii_digit() => {
                    let start = i;
                    while i < chars.len() && chars[i].is_ascii_digit() {
                        i += 1;
                    }
                    size = chars[start..i]
                        .iter()
                        .collect::<String>()
                        .parse()
                        .unwrap_or(0);
                    if ![1, 2, 4, 8].contains(&size) {
                        return Err(format!(
                            "invalid type string '{spec}'; this system doesn't provide a {size}-byte integral type"
                        ));
                    }
                }
                _ => {}
            }
        }
        out.push(Type { kind, size });
    }
    Ok(out)
}

fn parse_count(s: &str) -> Option<u64> {
    let s = s.trim();
    let (digits, mult) = match s.chars().last() {
        Some('k' | 'K') => (&s[..s.len() - 1], 1024),
        Some('m' | 'M') => (&s[..s.len() - 1], 1024 * 1024),
        Some('b') if !s.starts_with("0x") => (&s[..s.len() - 1], 512),
        _ => (s, 1),
    };
    let v = if let Some(h) = digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
    {
        u64::from_str_radix(h, 16).ok()?
    } else if digits.len() > 1 && digits.starts_with('0') {
        u64::from_str_radix(&digits[1..], 8).ok()?
    } else {
        digits.parse().ok()?
    };
    v.checked_mul(mult)
}

fn width(t: Type) -> usize {
    match (t.kind, t.size) {
        (Kind::Char, _) => 3,
        (Kind::Signed, 1) => 4,
        (Kind::Signed, 2) => 6,
        (Kind::Signed, 4) => 11,
        (Kind::Signed, _) => 20,
        (Kind::Unsigned, 1) => 3,
        (Kind::Unsigned, 2) => 5,
        (Kind::Unsigned, 4) => 10,
        (Kind::Unsigned, _) => 20,
        (Kind::Octal, 1) => 3,
        (Kind::Octal, 2) => 6,
        (Kind::Octal, 4) => 11,
        (Kind::Octal, _) => 22,
        (Kind::Hex, s) => s * 2,
    }
}

fn char_field(b: u8) -> String {
    match b {
        0 => "\\0".to_string(),
        7 => "\\a".to_string(),
        8 => "\\b".to_string(),
        12 => "\\f".to_string(),
        b'\n' => "\\n".to_string(),
        b'\r' => "\\r".to_string(),
        b'\t' => "\\t".to_string(),
        11 => "\\v".to_string(),
        32..=126 => char::from(b).to_string(),
        _ => format!("{b:03o}"),
    }
}

fn format_line(t: Type, bytes: &[u8]) -> String {
    let w = width(t);
    let mut line = String::new();
    for chunk in bytes.chunks(t.size) {
        if t.kind == Kind::Char {
            line.push_str(&format!(" {:>w$}", char_field(chunk[0])));
            continue;
        }
        let mut word = [0u8; 8];
        word[..chunk.len()].copy_from_slice(chunk);
        let raw = u64::from_le_bytes(word);
        let bits = t.size * 8;
        let unsigned = if bits == 64 {
            raw
        } else {
            raw & ((1u64 << bits) - 1)
        };
        let field = match t.kind {
            Kind::Signed => {
                let shift = 64 - bits;
                let signed = (unsigned << shift).cast_signed() >> shift;
                format!("{signed:>w$}")
            }
            Kind::Unsigned => format!("{unsigned:>w$}"),
            Kind::Octal => format!("{unsigned:0w$o}"),
            Kind::Hex => format!("{unsigned:0w$x}"),
            Kind::Char => String::new(),
        };
        line.push(' ');
        line.push_str(&field);
    }
    line
}

/// `od [-A RADIX] [-N COUNT] [-j SKIP] [-t TYPE]... [-bcdiloxsv] [FILE]...`
pub(crate) fn main(args: &[String], sys: &mut Sys, io: &mut Io<'_>) -> i32 {
    let opts = match getopt(args, "bcdilosxv", "ANjtw", false) {
        Ok(o) => o,
        Err(e) => return fail(io, "od", e),
    };
    let mut types: Vec<Type> = Vec::new();
    for f in &opts.flags {
        let t = match f {
            'b' => Type {
                kind: Kind::Octal,
                size: 1,
            },
            'c' => Type {
                kind: Kind::Char,
                size: 1,
            },
            'd' => Type {
                kind: Kind::Unsigned,
                size: 2,
            },
            'i' => Type {
                kind: Kind::Signed,
                size: 4,
            },
            'l' => Type {
                kind: Kind::Signed,
                size: 8,
            },
            'o' => Type {
                kind: Kind::Octal,
                size: 2,
            },
            's' => Type {
                kind: Kind::Signed,
                size: 2,
            },
            'x' => Type {
                kind: Kind::Hex,
                size: 2,
            },
            _ => continue,
        };
        types.push(t);
    }
    for (k, v) in &opts.values {
        if *k == 't' {
            match parse_type(v) {
                Ok(ts) => types.extend(ts),
                Err(e) => return fail(io, "od", e),
            }
        }
    }
    if types.is_empty() {
        types.push(Type {
            kind: Kind::Octal,
            size: 2,
        });
    }
    let radix = match opts.value('A') {
        None | Some("o") => 'o',
        Some("d") => 'd',
        Some("x") => 'x',
        Some("n") => 'n',
        Some(other) => {
            return fail(
                io,
                "od",
                format!(
                    "invalid output address radix '{other}'; it must be one character from [doxn]"
                ),
            );
        }
    };
    let limit = match opts.value('N') {
        None => None,
        Some(n) => match parse_count(n) {
            Some(v) => Some(v),
            None => return fail(io, "od", format!("invalid number '{n}'")),
        },
    };
    let mut skip = match opts.value('j') {
        None => 0,
        Some(n) => match parse_count(n) {
            Some(v) => v,
            None => return fail(io, "od", format!("invalid number '{n}'")),
        },
    };
    let line_width = match opts.value('w') {
        None => 16,
        Some(w) => match w.parse::<usize>() {
            Ok(v) if v > 0 => v,
            _ => return fail(io, "od", format!("invalid number '{w}'")),
        },
    };
    let verbose = opts.has('v');
    let files: Vec<String> = if opts.operands.is_empty() {
        vec!["-".to_string()]
    } else {
        opts.operands.clone()
    };

    // Read only what is needed: `-N` bounds reads from endless inputs such as /dev/urandom.
    let mut data = Vec::new();
    let mut code = 0;
    for f in &files {
        if limit.is_some_and(|l| data.len() as u64 >= l) {
            break;
        }
        let mut reader = match open_input(f, sys, &mut *io.stdin) {
            Ok(r) => r,
            Err(e) => {
                let _ = writeln!(io.stderr, "od: {f}: {}", describe(&e));
                code = 1;
                continue;
            }
        };
        if skip > 0 {
            match std::io::copy(&mut (&mut reader).take(skip), &mut std::io::sink()) {
                Ok(n) => skip -= n,
                Err(e) => {
                    let _ = writeln!(io.stderr, "od: {f}: {}", describe(&e));
                    code = 1;
                    continue;
                }
            }
        }
        let result = match limit {
            Some(l) => reader.take(l - data.len() as u64).read_to_end(&mut data),
            None => reader.read_to_end(&mut data),
        };
        if let Err(e) = result {
            let _ = writeln!(io.stderr, "od: {f}: {}", describe(&e));
            code = 1;
        }
    }
    let start = opts
        .value('j')
        .and_then(parse_count)
        .unwrap_or(0)
        .saturating_sub(skip);
    let offset = |n: u64| -> String {
        match radix {
            'd' => format!("{n:07}"),
            'x' => format!("{n:06x}"),
            'n' => String::new(),
            _ => format!("{n:07o}"),
        }
    };
    let pad = offset(0).len();
    let mut out = String::new();
    let mut previous: Option<&[u8]> = None;
    let mut starred = false;
    for (i, chunk) in data.chunks(line_width).enumerate() {
        let at = start + (i * line_width) as u64;
        if !verbose && previous == Some(chunk) && chunk.len() == line_width {
            if !starred {
                out.push_str("*\n");
                starred = true;
            }
            continue;
        }
        starred = false;
        previous = Some(chunk);
        for (k, t) in types.iter().enumerate() {
            if k == 0 {
                out.push_str(&offset(at));
            } else {
                out.push_str(&" ".repeat(pad));
            }
            out.push_str(&format_line(*t, chunk));
            out.push('\n');
        }
    }
    if radix != 'n' {
        out.push_str(&offset(start + data.len() as u64));
        out.push('\n');
    }
    if io.stdout.write_all(out.as_bytes()).is_err() {
        return 1;
    }
    code
}
