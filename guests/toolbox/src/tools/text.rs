//! Text tools: echo, cat, head, tail, wc, tee, tr, cut, sort, uniq, seq, yes, base64, sha256sum.

use super::{Opts, Output, fail, getopt, is_stdin, lines, open_input, read_all, unescape};
use crate::{Io, Sys, describe};
use std::cmp::Ordering;
use std::io::{self, BufRead, BufReader, Read};

/// `echo [-neE] [ARG]...`: busybox's echo (no escapes unless `-e`).
pub(crate) fn echo(args: &[String], io: &mut Io<'_>) -> i32 {
    let mut newline = true;
    let mut escapes = false;
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        if a.len() < 2
            || !a.starts_with('-')
            || !a[1..].chars().all(|c| matches!(c, 'n' | 'e' | 'E'))
        {
            break;
        }
        for c in a[1..].chars() {
            match c {
                'n' => newline = false,
                'e' => escapes = true,
                _ => escapes = false,
            }
        }
        i += 1;
    }
    let text = args[i..].join(" ");
    let mut out = if escapes {
        let (bytes, stop) = unescape(&text, true);
        if stop {
            newline = false;
        }
        bytes
    } else {
        text.into_bytes()
    };
    if newline {
        out.push(b'\n');
    }
    match io.stdout.write_all(&out) {
        Ok(()) => 0,
        Err(e) => fail(io, "echo", format!("write error: {}", describe(&e))),
    }
}

/// `cat [-nbu] [FILE]...`
pub(crate) fn cat(args: &[String], sys: &mut Sys, io: &mut Io<'_>) -> i32 {
    let opts = match getopt(args, "nbuvetA", "", false) {
        Ok(o) => o,
        Err(e) => return fail(io, "cat", e),
    };
    let number = opts.has('n') || opts.has('b');
    let nonblank = opts.has('b');
    let files = if opts.operands.is_empty() {
        vec!["-".to_string()]
    } else {
        opts.operands.clone()
    };
    let mut code = 0;
    let mut lineno = 0usize;
    for file in &files {
        let result = open_input(file, sys, &mut *io.stdin).and_then(|r| {
            if !number {
                let mut r = r;
                return io::copy(&mut r, io.stdout).map(|_| ());
            }
            let mut reader = BufReader::new(r);
            let mut line = Vec::new();
            loop {
                line.clear();
                if reader.read_until(b'\n', &mut line)? == 0 {
                    break;
                }
                if nonblank && line == b"\n" {
                    io.stdout.write_all(&line)?;
                    continue;
                }
                lineno += 1;
                write!(io.stdout, "{lineno:6}\t")?;
                io.stdout.write_all(&line)?;
            }
            Ok(())
        });
        if let Err(e) = result {
            let _ = writeln!(io.stderr, "cat: {file}: {}", describe(&e));
            code = 1;
        }
    }
    code
}

/// A count option with an optional sign: `5`, `-5`, `+5`.
fn parse_signed_count(s: &str) -> Option<(char, u64)> {
    let (sign, digits) = match s.chars().next() {
        Some(c @ ('+' | '-')) => (c, &s[1..]),
        _ => (' ', s),
    };
    let (digits, mult) = match digits.chars().last() {
        Some('k') => (&digits[..digits.len() - 1], 1024),
        Some('m') => (&digits[..digits.len() - 1], 1024 * 1024),
        Some('b') => (&digits[..digits.len() - 1], 512),
        _ => (digits, 1),
    };
    digits
        .parse::<u64>()
        .ok()
        .map(|n| (sign, n.saturating_mul(mult)))
}

/// Rewrites the obsolete `-5` / `+5` forms of head and tail as `-n 5` / `-n +5`.
fn obsolete_count(args: &[String], allow_plus: bool) -> Vec<String> {
    let mut out = Vec::with_capacity(args.len() + 1);
    for (i, a) in args.iter().enumerate() {
        let numeric = a.len() > 1 && a[1..].chars().all(|c| c.is_ascii_digit());
        if i == 0 && numeric && a.starts_with('-') {
            out.push("-n".to_string());
            out.push(a[1..].to_string());
        } else if i == 0 && numeric && allow_plus && a.starts_with('+') {
            out.push("-n".to_string());
            out.push(a.clone());
        } else {
            out.push(a.clone());
        }
    }
    out
}

/// head's and tail's count: `-c` (bytes) over `-n` (lines), 10 lines by default.
fn count_option(opts: &Opts) -> (bool, String) {
    match (opts.value('c'), opts.value('n')) {
        (Some(c), _) => (true, c.to_string()),
        (None, Some(n)) => (false, n.to_string()),
        (None, None) => (false, "10".to_string()),
    }
}

/// The file operands, or `-` (stdin) when there are none.
fn operands_or_stdin(opts: &Opts) -> Vec<String> {
    if opts.operands.is_empty() {
        vec!["-".to_string()]
    } else {
        opts.operands.clone()
    }
}

/// `==> NAME <==` before the `k`th file, a blank line before all but the first.
fn file_header(out: &mut dyn std::io::Write, k: usize, file: &str) {
    let name = if is_stdin(file) {
        "standard input"
    } else {
        file
    };
    let _ = writeln!(out, "{}==> {name} <==", if k > 0 { "\n" } else { "" });
}

/// `head [-n N | -N | -c N] [-qv] [FILE]...`
pub(crate) fn head(args: &[String], sys: &mut Sys, io: &mut Io<'_>) -> i32 {
    let args = obsolete_count(args, false);
    let opts = match getopt(&args, "qv", "nc", false) {
        Ok(o) => o,
        Err(e) => return fail(io, "head", e),
    };
    let (bytes, spec) = count_option(&opts);
    let Some((sign, count)) = parse_signed_count(&spec) else {
        return fail(io, "head", format!("invalid number '{spec}'"));
    };
    let all_but = sign == '-';
    let files = operands_or_stdin(&opts);
    let headers = (files.len() > 1 || opts.has('v')) && !opts.has('q');
    let mut code = 0;
    for (k, file) in files.iter().enumerate() {
        let reader = match open_input(file, sys, &mut *io.stdin) {
            Ok(r) => r,
            Err(e) => {
                let _ = writeln!(io.stderr, "head: {file}: {}", describe(&e));
                code = 1;
                continue;
            }
        };
        if headers {
            file_header(io.stdout, k, file);
        }
        let result: io::Result<()> = (|| {
            if all_but {
                let mut data = Vec::new();
                let mut reader = reader;
                reader.read_to_end(&mut data)?;
                let keep = if bytes {
                    data.len()
                        .saturating_sub(usize::try_from(count).unwrap_or(usize::MAX))
                } else {
                    let ls = lines(&data);
                    let n = ls
                        .len()
                        .saturating_sub(usize::try_from(count).unwrap_or(usize::MAX));
                    ls[..n]
                        .iter()
                        .map(|l| l.len() + 1)
                        .sum::<usize>()
                        .min(data.len())
                };
                return io.stdout.write_all(&data[..keep]);
            }
            if bytes {
                let mut r = reader.take(count);
                io::copy(&mut r, io.stdout)?;
                return Ok(());
            }
            let mut reader = BufReader::new(reader);
            let mut line = Vec::new();
            for _ in 0..count {
                line.clear();
                if reader.read_until(b'\n', &mut line)? == 0 {
                    break;
                }
                io.stdout.write_all(&line)?;
            }
            Ok(())
        })();
        if let Err(e) = result {
            let _ = writeln!(io.stderr, "head: {file}: {}", describe(&e));
            code = 1;
        }
    }
    code
}

/// `tail [-n [+]N | -N | -c [+]N] [-qvf] [FILE]...`
pub(crate) fn tail(args: &[String], sys: &mut Sys, io: &mut Io<'_>) -> i32 {
    let args = obsolete_count(args, true);
    let opts = match getopt(&args, "qvfF", "ncs", false) {
        Ok(o) => o,
        Err(e) => return fail(io, "tail", e),
    };
    let (bytes, spec) = count_option(&opts);
    let Some((sign, count)) = parse_signed_count(&spec) else {
        return fail(io, "tail", format!("invalid number '{spec}'"));
    };
    let count = usize::try_from(count).unwrap_or(usize::MAX);
    let from_start = sign == '+';
    let files = operands_or_stdin(&opts);
    let headers = (files.len() > 1 || opts.has('v')) && !opts.has('q');
    let mut code = 0;
    for (k, file) in files.iter().enumerate() {
        let data = match read_all(file, sys, &mut *io.stdin) {
            Ok(d) => d,
            Err(e) => {
                let _ = writeln!(io.stderr, "tail: {file}: {}", describe(&e));
                code = 1;
                continue;
            }
        };
        if headers {
            file_header(io.stdout, k, file);
        }
        let start = if bytes {
            if from_start {
                count.saturating_sub(1).min(data.len())
            } else {
                data.len().saturating_sub(count)
            }
        } else {
            let ls = lines(&data);
            let skip = if from_start {
                count.saturating_sub(1).min(ls.len())
            } else {
                ls.len().saturating_sub(count)
            };
            ls[..skip]
                .iter()
                .map(|l| l.len() + 1)
                .sum::<usize>()
                .min(data.len())
        };
        if io.stdout.write_all(&data[start..]).is_err() {
            code = 1;
        }
    }
    code
}

/// `wc [-lwcmL] [FILE]...`
pub(crate) fn wc(args: &[String], sys: &mut Sys, io: &mut Io<'_>) -> i32 {
    let opts = match getopt(args, "lwcmL", "", false) {
        Ok(o) => o,
        Err(e) => return fail(io, "wc", e),
    };
    let mut which: Vec<usize> = Vec::new();
    for (i, c) in ['l', 'w', 'c', 'L'].iter().enumerate() {
        if opts.has(*c) || (*c == 'c' && opts.has('m')) {
            which.push(i);
        }
    }
    if which.is_empty() {
        which = vec![0, 1, 2];
    }
    let use_stdin = opts.operands.is_empty();
    let files = if use_stdin {
        vec!["-".to_string()]
    } else {
        opts.operands.clone()
    };
    let mut totals = [0u64; 4];
    let mut code = 0;
    let mut out = String::new();
    let print = |counts: &[u64; 4], name: Option<&str>, out: &mut String| {
        for (k, &i) in which.iter().enumerate() {
            if k > 0 {
                out.push(' ');
            }
            if name.is_none() && which.len() == 1 {
                out.push_str(&counts[i].to_string());
            } else {
                out.push_str(&format!("{:9}", counts[i]));
            }
        }
        if let Some(n) = name {
            out.push(' ');
            out.push_str(n);
        }
        out.push('\n');
    };
    for file in &files {
        let data = match read_all(file, sys, &mut *io.stdin) {
            Ok(d) => d,
            Err(e) => {
                let _ = writeln!(io.stderr, "wc: {file}: {}", describe(&e));
                code = 1;
                continue;
            }
        };
        let mut counts = [0u64; 4];
        counts[0] = data.iter().filter(|&&b| b == b'\n').count() as u64;
        counts[1] = data
            .split(|b| b.is_ascii_whitespace())
            .filter(|w| !w.is_empty())
            .count() as u64;
        counts[2] = if opts.has('m') {
            String::from_utf8_lossy(&data).chars().count() as u64
        } else {
            data.len() as u64
        };
        counts[3] = lines(&data)
            .iter()
            .map(|l| l.len() as u64)
            .max()
            .unwrap_or(0);
        for i in 0..3 {
            totals[i] += counts[i];
        }
        totals[3] = totals[3].max(counts[3]);
        print(&counts, if use_stdin { None } else { Some(file) }, &mut out);
    }
    if files.len() > 1 {
        print(&totals, Some("total"), &mut out);
    }
    if io.stdout.write_all(out.as_bytes()).is_err() {
        code = 1;
    }
    code
}

/// `tee [-a] [FILE]...`
pub(crate) fn tee(args: &[String], sys: &mut Sys, io: &mut Io<'_>) -> i32 {
    let opts = match getopt(args, "ai", "", false) {
        Ok(o) => o,
        Err(e) => return fail(io, "tee", e),
    };
    let mut code = 0;
    let mut outs: Vec<(String, Output)> = Vec::new();
    for f in &opts.operands {
        match Output::open(f, opts.has('a'), sys) {
            Ok(o) => outs.push((f.clone(), o)),
            Err(e) => {
                let _ = writeln!(io.stderr, "tee: {f}: {}", describe(&e));
                code = 1;
            }
        }
    }
    let mut buf = [0u8; 16 * 1024];
    loop {
        let n = match io.stdin.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                let _ = writeln!(io.stderr, "tee: read error: {}", describe(&e));
                code = 1;
                break;
            }
        };
        if io.stdout.write_all(&buf[..n]).is_err() {
            code = 1;
        }
        for (name, o) in &mut outs {
            if let Err(e) = o.write_all(io, &buf[..n]) {
                let _ = writeln!(io.stderr, "tee: {name}: {}", describe(&e));
                code = 1;
            }
        }
    }
    for (_, o) in &mut outs {
        let _ = o.flush(io);
    }
    code
}

/// Expands a tr set: escapes, ranges, classes, `[c*n]`.
fn tr_set(spec: &str) -> Result<Vec<u8>, String> {
    let (b, _) = unescape_tr(spec);
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'['
            && i + 1 < b.len()
            && b[i + 1] == b':'
            && let Some(end) =
                (i + 2..b.len().saturating_sub(1)).find(|&k| b[k] == b':' && b[k + 1] == b']')
        {
            {
                let name = String::from_utf8_lossy(&b[i + 2..end]).into_owned();
                let class: Box<dyn Fn(u8) -> bool> = match name.as_str() {
                    "upper" => Box::new(|c: u8| c.is_ascii_uppercase()),
                    "lower" => Box::new(|c: u8| c.is_ascii_lowercase()),
                    "digit" => Box::new(|c: u8| c.is_ascii_digit()),
                    "alpha" => Box::new(|c: u8| c.is_ascii_alphabetic()),
                    "alnum" => Box::new(|c: u8| c.is_ascii_alphanumeric()),
                    "space" => Box::new(|c: u8| c.is_ascii_whitespace() || c == 11),
                    "blank" => Box::new(|c: u8| c == b' ' || c == b'\t'),
                    "punct" => Box::new(|c: u8| c.is_ascii_punctuation()),
                    "xdigit" => Box::new(|c: u8| c.is_ascii_hexdigit()),
                    "cntrl" => Box::new(|c: u8| c.is_ascii_control()),
                    "print" => Box::new(|c: u8| (32..127).contains(&c)),
                    "graph" => Box::new(|c: u8| (33..127).contains(&c)),
                    _ => return Err(format!("invalid character class '{name}'")),
                };
                out.extend((0u8..=255).filter(|&c| class(c)));
                i = end + 2;
                continue;
            }
        }
        if b[i] == b'['
            && i + 3 < b.len()
            && b[i + 2] == b'*'
            && let Some(end) = (i + 3..b.len()).find(|&k| b[k] == b']')
        {
            {
                let n: usize = std::str::from_utf8(&b[i + 3..end])
                    .ok()
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(0);
                // n == 0: fill later (as many as needed); approximate with a long run.
                out.extend(std::iter::repeat_n(b[i + 1], if n == 0 { 256 } else { n }));
                i = end + 1;
                continue;
            }
        }
        if i + 2 < b.len() && b[i + 1] == b'-' {
            let (lo, hi) = (b[i], b[i + 2]);
            if hi < lo {
                return Err(format!(
                    "range-endpoints of '{}-{}' are in reverse collating sequence order",
                    char::from(lo),
                    char::from(hi)
                ));
            }
            out.extend(lo..=hi);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    Ok(out)
}

fn unescape_tr(spec: &str) -> (Vec<u8>, bool) {
    // `\\-` and similar keep their meaning as literal characters.
    unescape(spec, false)
}

/// `tr [-cds] SET1 [SET2]`
pub(crate) fn tr(args: &[String], io: &mut Io<'_>) -> i32 {
    let opts = match getopt(args, "cdsCt", "", false) {
        Ok(o) => o,
        Err(e) => return fail(io, "tr", e),
    };
    let complement = opts.has('c') || opts.has('C');
    let delete = opts.has('d');
    let squeeze = opts.has('s');
    let ops = &opts.operands;
    let need = if delete && !squeeze {
        1
    } else if delete || !squeeze {
        2
    } else {
        1
    };
    if ops.len() < need || ops.is_empty() {
        return fail(
            io,
            "tr",
            "missing operand\nUsage: tr [-cds] STRING1 [STRING2]",
        );
    }
    let set1 = match tr_set(&ops[0]) {
        Ok(s) => s,
        Err(e) => return fail(io, "tr", e),
    };
    let set2 = match ops.get(1).map(|s| tr_set(s)) {
        Some(Ok(s)) => Some(s),
        Some(Err(e)) => return fail(io, "tr", e),
        None => None,
    };
    let mut in1 = [false; 256];
    for &c in &set1 {
        in1[usize::from(c)] = true;
    }
    if complement {
        for v in &mut in1 {
            *v = !*v;
        }
    }
    let mut map: [u8; 256] = std::array::from_fn(|i| i as u8);
    let mut squeeze_set = [false; 256];
    if let Some(s2) = &set2
        && !delete
    {
        if s2.is_empty() {
            return fail(
                io,
                "tr",
                "when not truncating set1, string2 must be non-empty",
            );
        }
        let last = *s2.last().unwrap_or(&0);
        if complement {
            for c in 0..256 {
                if in1[c] {
                    map[c] = last;
                }
            }
        } else {
            for (k, &c) in set1.iter().enumerate() {
                map[usize::from(c)] = *s2.get(k).unwrap_or(&last);
            }
        }
        for &c in s2 {
            squeeze_set[usize::from(c)] = true;
        }
    } else if let Some(s2) = &set2 {
        for &c in s2 {
            squeeze_set[usize::from(c)] = true;
        }
    } else {
        squeeze_set = in1;
    }
    let mut data = Vec::new();
    if let Err(e) = io.stdin.read_to_end(&mut data) {
        return fail(io, "tr", describe(&e));
    }
    let mut out = Vec::with_capacity(data.len());
    let mut last: Option<u8> = None;
    for &b in &data {
        if delete && in1[usize::from(b)] {
            continue;
        }
        let c = if delete { b } else { map[usize::from(b)] };
        if squeeze && squeeze_set[usize::from(c)] && last == Some(c) {
            continue;
        }
        out.push(c);
        last = Some(c);
    }
    i32::from(io.stdout.write_all(&out).is_err())
}

/// A cut list: `1,3-5,7-`, 1-based inclusive ranges.
fn parse_list(spec: &str) -> Result<Vec<(usize, usize)>, String> {
    let mut out = Vec::new();
    for part in spec.split([',', ' ']) {
        if part.is_empty() {
            continue;
        }
        let bad = || format!("invalid field value '{part}'");
        let (a, b) = match part.split_once('-') {
            Some((a, b)) => {
                let a = if a.is_empty() {
                    1
                } else {
                    a.parse().map_err(|_| bad())?
                };
                let b = if b.is_empty() {
                    usize::MAX
                } else {
                    b.parse().map_err(|_| bad())?
                };
                (a, b)
            }
            None => {
                let n = part.parse().map_err(|_| bad())?;
                (n, n)
            }
        };
        if a == 0 {
            return Err("fields and positions are numbered from 1".to_string());
        }
        if b < a {
            return Err("invalid decreasing range".to_string());
        }
        out.push((a, b));
    }
    if out.is_empty() {
        return Err("missing list of fields".to_string());
    }
    Ok(out)
}

/// `cut -f LIST [-d DELIM] [-s] | -c LIST | -b LIST [FILE]...`
pub(crate) fn cut(args: &[String], sys: &mut Sys, io: &mut Io<'_>) -> i32 {
    let opts = match getopt(args, "sn", "fcbdD", false) {
        Ok(o) => o,
        Err(e) => return fail(io, "cut", e),
    };
    let (fields_mode, spec) = match (opts.value('f'), opts.value('c').or(opts.value('b'))) {
        (Some(f), None) => (true, f),
        (None, Some(c)) => (false, c),
        _ => {
            return fail(
                io,
                "cut",
                "expected a list of bytes, characters, or fields (one of -b, -c, -f)",
            );
        }
    };
    let list = match parse_list(spec) {
        Ok(l) => l,
        Err(e) => return fail(io, "cut", e),
    };
    let delim = match opts.value('d') {
        None => b'\t',
        Some(d) if d.len() == 1 => d.as_bytes()[0],
        Some("") => b'\t',
        Some(_) => return fail(io, "cut", "the delimiter must be a single character"),
    };
    let selected = |i: usize| list.iter().any(|&(a, b)| a <= i && i <= b);
    let files = if opts.operands.is_empty() {
        vec!["-".to_string()]
    } else {
        opts.operands.clone()
    };
    let mut code = 0;
    let mut out = Vec::new();
    for file in &files {
        let data = match read_all(file, sys, &mut *io.stdin) {
            Ok(d) => d,
            Err(e) => {
                let _ = writeln!(io.stderr, "cut: {file}: {}", describe(&e));
                code = 1;
                continue;
            }
        };
        for line in lines(&data) {
            if fields_mode {
                if !line.contains(&delim) {
                    if !opts.has('s') {
                        out.extend_from_slice(line);
                        out.push(b'\n');
                    }
                    continue;
                }
                let mut first = true;
                for (i, f) in line.split(|&b| b == delim).enumerate() {
                    if selected(i + 1) {
                        if !first {
                            out.push(delim);
                        }
                        out.extend_from_slice(f);
                        first = false;
                    }
                }
            } else {
                for (i, &b) in line.iter().enumerate() {
                    if selected(i + 1) {
                        out.push(b);
                    }
                }
            }
            out.push(b'\n');
        }
    }
    if io.stdout.write_all(&out).is_err() {
        code = 1;
    }
    code
}

struct SortKey {
    start_field: usize,
    start_char: usize,
    end_field: Option<usize>,
    end_char: usize,
    numeric: bool,
    reverse: bool,
    fold: bool,
    blanks: bool,
}

fn parse_key(spec: &str) -> Option<SortKey> {
    let mut key = SortKey {
        start_field: 1,
        start_char: 0,
        end_field: None,
        end_char: 0,
        numeric: false,
        reverse: false,
        fold: false,
        blanks: false,
    };
    let (start, end) = match spec.split_once(',') {
        Some((a, b)) => (a, Some(b)),
        None => (spec, None),
    };
    let pos = |s: &str, key: &mut SortKey| -> Option<(usize, usize)> {
        let digits_end = s
            .find(|c: char| !c.is_ascii_digit() && c != '.')
            .unwrap_or(s.len());
        for c in s[digits_end..].chars() {
            match c {
                'n' | 'g' | 'h' => key.numeric = true,
                'r' => key.reverse = true,
                'f' => key.fold = true,
                'b' => key.blanks = true,
                _ => return None,
            }
        }
        let body = &s[..digits_end];
        let (f, c) = match body.split_once('.') {
            Some((f, c)) => (f.parse().ok()?, c.parse().ok()?),
            None => (body.parse().ok()?, 0),
        };
        Some((f, c))
    };
    let (f, c) = pos(start, &mut key)?;
    if f == 0 {
        return None;
    }
    key.start_field = f;
    key.start_char = c;
    if let Some(e) = end {
        let (f, c) = pos(e, &mut key)?;
        key.end_field = Some(f);
        key.end_char = c;
    }
    Some(key)
}

/// Field boundaries of a line: with a separator, split on it; else fields start at runs of blanks.
fn field_spans(line: &[u8], sep: Option<u8>) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    match sep {
        Some(s) => {
            let mut start = 0;
            for (i, &b) in line.iter().enumerate() {
                if b == s {
                    spans.push((start, i));
                    start = i + 1;
                }
            }
            spans.push((start, line.len()));
        }
        None => {
            let mut i = 0;
            while i < line.len() {
                let start = i;
                while i < line.len() && (line[i] == b' ' || line[i] == b'\t') {
                    i += 1;
                }
                while i < line.len() && line[i] != b' ' && line[i] != b'\t' {
                    i += 1;
                }
                spans.push((start, i));
            }
        }
    }
    spans
}

fn key_slice<'l>(line: &'l [u8], key: &SortKey, sep: Option<u8>) -> &'l [u8] {
    let spans = field_spans(line, sep);
    let Some(&(fs, fe)) = spans.get(key.start_field - 1) else {
        return &[];
    };
    let mut start = fs;
    if key.blanks || sep.is_none() && key.start_char > 0 {
        while start < fe && (line[start] == b' ' || line[start] == b'\t') {
            start += 1;
        }
    }
    if key.start_char > 0 {
        start = (start + key.start_char - 1).min(fe);
    }
    let end = match key.end_field {
        None => line.len(),
        Some(ef) => match spans.get(ef.max(1) - 1) {
            None => line.len(),
            Some(&(s, e)) => {
                if key.end_char == 0 {
                    e
                } else {
                    let mut s = s;
                    while sep.is_none() && s < e && (line[s] == b' ' || line[s] == b'\t') {
                        s += 1;
                    }
                    (s + key.end_char).min(e)
                }
            }
        },
    };
    if end <= start { &[] } else { &line[start..end] }
}

fn numeric_value(s: &[u8]) -> f64 {
    let text = String::from_utf8_lossy(s);
    let t = text.trim_start();
    let end = t
        .char_indices()
        .find(|&(i, c)| !(c.is_ascii_digit() || c == '.' || (i == 0 && (c == '-' || c == '+'))))
        .map_or(t.len(), |(i, _)| i);
    super::printf::float_prefix(&t[..end]).0
}

/// `sort [-nrufbs] [-k KEY]... [-t SEP] [-o FILE] [FILE]...`
pub(crate) fn sort(args: &[String], sys: &mut Sys, io: &mut Io<'_>) -> i32 {
    let opts = match getopt(args, "nrufbsgchVM", "kto", false) {
        Ok(o) => o,
        Err(e) => return fail(io, "sort", e),
    };
    let sep = match opts.value('t') {
        None => None,
        Some(t) if t.len() == 1 => Some(t.as_bytes()[0]),
        Some(t) => return fail(io, "sort", format!("bad -t parameter '{t}'")),
    };
    let mut keys = Vec::new();
    for (k, v) in &opts.values {
        if *k == 'k' {
            match parse_key(v) {
                Some(key) => keys.push(key),
                None => return fail(io, "sort", format!("invalid key '{v}'")),
            }
        }
    }
    let numeric = opts.has('n') || opts.has('g') || opts.has('h');
    let reverse = opts.has('r');
    let fold = opts.has('f');
    let files = if opts.operands.is_empty() {
        vec!["-".to_string()]
    } else {
        opts.operands.clone()
    };
    let mut all = Vec::new();
    for file in &files {
        match read_all(file, sys, &mut *io.stdin) {
            Ok(d) => {
                all.extend_from_slice(&d);
                if !all.is_empty() && !all.ends_with(b"\n") {
                    all.push(b'\n');
                }
            }
            Err(e) => return fail(io, "sort", format!("{file}: {}", describe(&e))),
        }
    }
    let mut ls: Vec<&[u8]> = lines(&all);
    let cmp_bytes = |a: &[u8], b: &[u8], numeric: bool, fold: bool| -> Ordering {
        if numeric {
            numeric_value(a)
                .partial_cmp(&numeric_value(b))
                .unwrap_or(Ordering::Equal)
        } else if fold {
            a.to_ascii_uppercase().cmp(&b.to_ascii_uppercase())
        } else {
            a.cmp(b)
        }
    };
    let compare = |a: &[u8], b: &[u8]| -> Ordering {
        if keys.is_empty() {
            let o = cmp_bytes(a, b, numeric, fold);
            return if reverse { o.reverse() } else { o };
        }
        for key in &keys {
            let ka = key_slice(a, key, sep);
            let kb = key_slice(b, key, sep);
            let o = cmp_bytes(ka, kb, numeric || key.numeric, fold || key.fold);
            let o = if reverse != key.reverse {
                o.reverse()
            } else {
                o
            };
            if o != Ordering::Equal {
                return o;
            }
        }
        Ordering::Equal
    };
    let stable = opts.has('s') || opts.has('u');
    ls.sort_by(|a, b| {
        let o = compare(a, b);
        if o != Ordering::Equal || stable {
            return o;
        }
        let last = a.cmp(b);
        if reverse { last.reverse() } else { last }
    });
    if opts.has('u') {
        ls.dedup_by(|a, b| compare(a, b) == Ordering::Equal);
    }
    let mut out = Vec::with_capacity(all.len());
    for l in ls {
        out.extend_from_slice(l);
        out.push(b'\n');
    }
    let written = match opts.value('o') {
        Some(f) => Output::open(f, false, sys).and_then(|mut o| o.write_all(io, &out)),
        None => io.stdout.write_all(&out),
    };
    match written {
        Ok(()) => 0,
        Err(e) => fail(io, "sort", describe(&e)),
    }
}

/// `uniq [-cdu] [-i] [-f N] [-s N] [INPUT [OUTPUT]]`
pub(crate) fn uniq(args: &[String], sys: &mut Sys, io: &mut Io<'_>) -> i32 {
    let opts = match getopt(args, "cdui", "fsw", false) {
        Ok(o) => o,
        Err(e) => return fail(io, "uniq", e),
    };
    let input = opts.operands.first().map_or("-", String::as_str);
    let data = match read_all(input, sys, &mut *io.stdin) {
        Ok(d) => d,
        Err(e) => return fail(io, "uniq", format!("{input}: {}", describe(&e))),
    };
    let skip_fields: usize = opts.value('f').and_then(|v| v.parse().ok()).unwrap_or(0);
    let skip_chars: usize = opts.value('s').and_then(|v| v.parse().ok()).unwrap_or(0);
    let width: Option<usize> = opts.value('w').and_then(|v| v.parse().ok());
    let icase = opts.has('i');
    let key = |l: &[u8]| -> Vec<u8> {
        let mut s = l;
        for _ in 0..skip_fields {
            let mut i = 0;
            while i < s.len() && (s[i] == b' ' || s[i] == b'\t') {
                i += 1;
            }
            while i < s.len() && s[i] != b' ' && s[i] != b'\t' {
                i += 1;
            }
            s = &s[i..];
        }
        s = &s[skip_chars.min(s.len())..];
        if let Some(w) = width {
            s = &s[..w.min(s.len())];
        }
        if icase {
            s.to_ascii_lowercase()
        } else {
            s.to_vec()
        }
    };
    let mut out = Vec::new();
    let ls = lines(&data);
    let mut i = 0;
    while i < ls.len() {
        let k = key(ls[i]);
        let mut j = i + 1;
        while j < ls.len() && key(ls[j]) == k {
            j += 1;
        }
        let n = j - i;
        let show = (!opts.has('d') || n > 1) && (!opts.has('u') || n == 1);
        if show {
            if opts.has('c') {
                out.extend_from_slice(format!("{n:7} ").as_bytes());
            }
            out.extend_from_slice(ls[i]);
            out.push(b'\n');
        }
        i = j;
    }
    let written = match opts.operands.get(1) {
        Some(f) => Output::open(f, false, sys).and_then(|mut o| o.write_all(io, &out)),
        None => io.stdout.write_all(&out),
    };
    match written {
        Ok(()) => 0,
        Err(e) => fail(io, "uniq", describe(&e)),
    }
}

fn decimals(s: &str) -> usize {
    match s.split_once('.') {
        Some((_, frac)) => frac.chars().take_while(char::is_ascii_digit).count(),
        None => 0,
    }
}

/// `seq [-w] [-s SEP] [FIRST [INC]] LAST`
pub(crate) fn seq(args: &[String], io: &mut Io<'_>) -> i32 {
    let mut sep = "\n".to_string();
    let mut equal_width = false;
    let mut nums: Vec<&String> = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        i += 1;
        if nums.is_empty() && a.starts_with('-') && a.len() > 1 && a.parse::<f64>().is_err() {
            if a == "-w" {
                equal_width = true;
            } else if a == "-s" {
                match args.get(i) {
                    Some(s) => sep = String::from_utf8_lossy(&unescape(s, false).0).into_owned(),
                    None => return fail(io, "seq", "option requires an argument -- 's'"),
                }
                i += 1;
            } else if let Some(s) = a.strip_prefix("-s") {
                sep = String::from_utf8_lossy(&unescape(s, false).0).into_owned();
            } else if a == "--" {
                continue;
            } else {
                return fail(io, "seq", format!("unrecognized option: {}", &a[1..]));
            }
            continue;
        }
        nums.push(a);
    }
    if nums.is_empty() || nums.len() > 3 {
        return fail(io, "seq", "Usage: seq [-w] [-s SEP] [FIRST [INC]] LAST");
    }
    let mut values = Vec::new();
    for n in &nums {
        match n.trim().parse::<f64>() {
            Ok(v) if v.is_finite() => values.push(v),
            _ => return fail(io, "seq", format!("invalid number '{n}'")),
        }
    }
    let (first, inc, last) = match values.len() {
        1 => (1.0, 1.0, values[0]),
        2 => (values[0], 1.0, values[1]),
        _ => (values[0], values[1], values[2]),
    };
    if inc == 0.0 {
        return fail(io, "seq", "invalid Zero increment value: '0'");
    }
    let prec = nums
        .iter()
        .take(if nums.len() == 3 { 2 } else { 1 })
        .map(|n| decimals(n))
        .max()
        .unwrap_or(0);
    let prec = if nums.len() == 1 { 0 } else { prec };
    let fmt = |v: f64| format!("{v:.prec$}");
    let width = if equal_width {
        fmt(first).len().max(fmt(last).len())
    } else {
        0
    };
    let mut out = String::new();
    let mut k = 0u64;
    loop {
        let v = first + inc * k as f64;
        if (inc > 0.0 && v > last + 1e-10 * inc.abs())
            || (inc < 0.0 && v < last - 1e-10 * inc.abs())
        {
            break;
        }
        if k > 0 {
            out.push_str(&sep);
        }
        let mut s = fmt(v);
        if s.starts_with('-') && s.trim_start_matches(['-', '0', '.']).is_empty() {
            s = s[1..].to_string();
        }
        if equal_width && s.len() < width {
            let (neg, body) = match s.strip_prefix('-') {
                Some(b) => ("-", b.to_string()),
                None => ("", s.clone()),
            };
            s = format!("{neg}{}{body}", "0".repeat(width - s.len()));
        }
        out.push_str(&s);
        k += 1;
        if out.len() > 1 << 20 {
            if io.stdout.write_all(out.as_bytes()).is_err() {
                return 1;
            }
            out.clear();
        }
    }
    if k > 0 {
        out.push('\n');
    }
    i32::from(io.stdout.write_all(out.as_bytes()).is_err())
}

/// `yes [STRING]...`: until writing fails.
pub(crate) fn yes(args: &[String], io: &mut Io<'_>) -> i32 {
    let line = if args.is_empty() {
        "y".to_string()
    } else {
        args.join(" ")
    };
    let chunk = format!("{line}\n").repeat((4096 / (line.len() + 1)).max(1));
    loop {
        if io.stdout.write_all(chunk.as_bytes()).is_err() {
            return 0;
        }
    }
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Base64 of `data` (no line breaks).
pub(crate) fn b64_encode(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for k in 0..4 {
            if k <= chunk.len() {
                out.push(char::from(B64[((n >> (18 - 6 * k)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn b64_decode(text: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let mut acc = 0u32;
    let mut bits = 0;
    let mut pad = false;
    for &c in text {
        if c.is_ascii_whitespace() {
            continue;
        }
        if c == b'=' {
            pad = true;
            continue;
        }
        if pad {
            return None;
        }
        let v = B64.iter().position(|&x| x == c)? as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(((acc >> bits) & 0xff) as u8);
        }
    }
    Some(out)
}

/// `base64 [-d] [-w COLS] [FILE]`
pub(crate) fn base64(args: &[String], sys: &mut Sys, io: &mut Io<'_>) -> i32 {
    let opts = match getopt(args, "di", "w", false) {
        Ok(o) => o,
        Err(e) => return fail(io, "base64", e),
    };
    let file = opts.operands.first().map_or("-", String::as_str);
    let data = match read_all(file, sys, &mut *io.stdin) {
        Ok(d) => d,
        Err(e) => return fail(io, "base64", format!("{file}: {}", describe(&e))),
    };
    if opts.has('d') {
        return match b64_decode(&data) {
            Some(bytes) => i32::from(io.stdout.write_all(&bytes).is_err()),
            None => fail(io, "base64", "invalid input"),
        };
    }
    let wrap: usize = match opts.value('w') {
        None => 76,
        Some(w) => match w.parse() {
            Ok(v) => v,
            Err(_) => return fail(io, "base64", format!("invalid number '{w}'")),
        },
    };
    let text = b64_encode(&data);
    let mut out = String::new();
    if wrap == 0 {
        out.push_str(&text);
        if !text.is_empty() {
            out.push('\n');
        }
    } else {
        for chunk in text.as_bytes().chunks(wrap) {
            out.push_str(&String::from_utf8_lossy(chunk));
            out.push('\n');
        }
    }
    i32::from(io.stdout.write_all(out.as_bytes()).is_err())
}

/// SHA-256 of `data`, as lowercase hex.
pub(crate) fn sha256_hex(data: &[u8]) -> String {
    const K: [u32; 64] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
        0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
        0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
        0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
        0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
        0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
        0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
        0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
        0xc67178f2,
    ];
    let mut h: [u32; 8] = [
        0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab,
        0x5be0cd19,
    ];
    let mut msg = data.to_vec();
    let bit_len = (data.len() as u64).wrapping_mul(8);
    msg.push(0x80);
    while msg.len() % 64 != 56 {
        msg.push(0);
    }
    msg.extend_from_slice(&bit_len.to_be_bytes());
    for block in msg.chunks(64) {
        let mut w = [0u32; 64];
        for (i, word) in block.chunks(4).enumerate() {
            w[i] = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
        }
        for i in 16..64 {
            let s0 = w[i - 15].rotate_right(7) ^ w[i - 15].rotate_right(18) ^ (w[i - 15] >> 3);
            let s1 = w[i - 2].rotate_right(17) ^ w[i - 2].rotate_right(19) ^ (w[i - 2] >> 10);
            w[i] = w[i - 16]
                .wrapping_add(s0)
                .wrapping_add(w[i - 7])
                .wrapping_add(s1);
        }
        let [mut a, mut b, mut c, mut d, mut e, mut f, mut g, mut hh] = h;
        for i in 0..64 {
            let s1 = e.rotate_right(6) ^ e.rotate_right(11) ^ e.rotate_right(25);
            let ch = (e & f) ^ (!e & g);
            let t1 = hh
                .wrapping_add(s1)
                .wrapping_add(ch)
                .wrapping_add(K[i])
                .wrapping_add(w[i]);
            let s0 = a.rotate_right(2) ^ a.rotate_right(13) ^ a.rotate_right(22);
            let maj = (a & b) ^ (a & c) ^ (b & c);
            let t2 = s0.wrapping_add(maj);
            hh = g;
            g = f;
            f = e;
            e = d.wrapping_add(t1);
            d = c;
            c = b;
            b = a;
            a = t1.wrapping_add(t2);
        }
        for (slot, v) in h.iter_mut().zip([a, b, c, d, e, f, g, hh]) {
            *slot = slot.wrapping_add(v);
        }
    }
    h.iter().map(|v| format!("{v:08x}")).collect()
}

/// `sha256sum [-c] [FILE]...`
pub(crate) fn sha256sum(args: &[String], sys: &mut Sys, io: &mut Io<'_>) -> i32 {
    let opts = match getopt(args, "cbtsw", "", false) {
        Ok(o) => o,
        Err(e) => return fail(io, "sha256sum", e),
    };
    let files = if opts.operands.is_empty() {
        vec!["-".to_string()]
    } else {
        opts.operands.clone()
    };
    let mut code = 0;
    for file in &files {
        let data = match read_all(file, sys, &mut *io.stdin) {
            Ok(d) => d,
            Err(e) => {
                let _ = writeln!(io.stderr, "sha256sum: {file}: {}", describe(&e));
                code = 1;
                continue;
            }
        };
        if !opts.has('c') {
            let _ = writeln!(io.stdout, "{}  {file}", sha256_hex(&data));
            continue;
        }
        for line in lines(&data) {
            let line = String::from_utf8_lossy(line);
            let Some((hash, name)) = line.split_once("  ").or_else(|| line.split_once(" *")) else {
                continue;
            };
            let ok = match read_all(name, sys, &mut *io.stdin) {
                Ok(d) => sha256_hex(&d) == hash.to_ascii_lowercase(),
                Err(e) => {
                    let _ = writeln!(io.stderr, "sha256sum: {name}: {}", describe(&e));
                    false
                }
            };
            let _ = writeln!(io.stdout, "{name}: {}", if ok { "OK" } else { "FAILED" });
            if !ok {
                code = 1;
            }
        }
    }
    code
}
