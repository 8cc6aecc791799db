//! `printf`, and the format engine it shares with awk's `printf` and `sprintf`.

use super::unescape;
use crate::Io;

/// Where a format's conversions take their arguments from.
pub(crate) trait ArgSource {
    /// Whether any argument is left.
    fn has_next(&self) -> bool;
    /// The next argument as text (`""` when none is left).
    fn text(&mut self) -> String;
    /// The next argument as an integer (0 when none is left).
    fn int(&mut self) -> i64;
    /// The next argument as a floating-point number (0 when none is left).
    fn float(&mut self) -> f64;
    /// The next argument for `%c`: the character to print.
    fn character(&mut self) -> String;
}

/// A parsed conversion: flags, width, precision.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Spec {
    pub left: bool,
    pub plus: bool,
    pub space: bool,
    pub zero: bool,
    pub alt: bool,
    pub width: Option<usize>,
    pub precision: Option<usize>,
}

/// What [`format`] did.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Outcome {
    /// `\c` was met: stop all output.
    pub stop: bool,
    /// The format had an invalid conversion (the error is written at the end of the output).
    pub invalid: Option<char>,
}

/// Formats `fmt` with arguments from `args` into `out`. `escapes`: interpret backslash escapes in the
/// format (the printf tool; awk's strings have theirs already).
pub(crate) fn format(
    fmt: &[u8],
    args: &mut dyn ArgSource,
    escapes: bool,
    out: &mut Vec<u8>,
) -> Outcome {
    let mut i = 0;
    while i < fmt.len() {
        let b = fmt[i];
        if b == b'\\' && escapes {
            let mut j = i + 1;
            if j < fmt.len() {
                if fmt[j].is_ascii_digit() && fmt[j] < b'8' {
                    let mut n = 0;
                    while j < fmt.len() && n < 3 && (b'0'..=b'7').contains(&fmt[j]) {
                        j += 1;
                        n += 1;
                    }
                } else if fmt[j] == b'x' {
                    j += 1;
                    let mut n = 0;
                    while j < fmt.len() && n < 2 && fmt[j].is_ascii_hexdigit() {
                        j += 1;
                        n += 1;
                    }
                } else {
                    j += 1;
                }
            }
            let (bytes, stop) = unescape(&String::from_utf8_lossy(&fmt[i..j]), false);
            out.extend_from_slice(&bytes);
            if stop {
                return Outcome {
                    stop: true,
                    invalid: None,
                };
            }
            i = j;
            continue;
        }
        if b != b'%' {
            out.push(b);
            i += 1;
            continue;
        }
        i += 1;
        if i >= fmt.len() {
            out.push(b'%');
            break;
        }
        if fmt[i] == b'%' {
            out.push(b'%');
            i += 1;
            continue;
        }
        let mut spec = Spec::default();
        while i < fmt.len() {
            match fmt[i] {
                b'-' => spec.left = true,
                b'+' => spec.plus = true,
                b' ' => spec.space = true,
                b'0' => spec.zero = true,
                b'#' => spec.alt = true,
                _ => break,
            }
            i += 1;
        }
        if i < fmt.len() && fmt[i] == b'*' {
            let w = args.int();
            if w < 0 {
                spec.left = true;
            }
            spec.width = Some(usize::try_from(w.unsigned_abs()).unwrap_or(0));
            i += 1;
        } else {
            let start = i;
            while i < fmt.len() && fmt[i].is_ascii_digit() {
                i += 1;
            }
            if i > start {
                spec.width = std::str::from_utf8(&fmt[start..i])
                    .ok()
                    .and_then(|s| s.parse().ok());
            }
        }
        if i < fmt.len() && fmt[i] == b'.' {
            i += 1;
            if i < fmt.len() && fmt[i] == b'*' {
                let p = args.int();
                spec.precision = usize::try_from(p).ok();
                i += 1;
            } else {
                let start = i;
                while i < fmt.len() && fmt[i].is_ascii_digit() {
                    i += 1;
                }
                spec.precision = Some(
                    std::str::from_utf8(&fmt[start..i])
                        .ok()
                        .and_then(|s| s.parse().ok())
                        .unwrap_or(0),
                );
            }
        }
        // Length modifiers mean nothing here.
        while i < fmt.len() && matches!(fmt[i], b'h' | b'l' | b'L' | b'q' | b'j' | b'z' | b't') {
            i += 1;
        }
        if i >= fmt.len() {
            return Outcome {
                stop: false,
                invalid: Some('%'),
            };
        }
        let conv = char::from(fmt[i]);
        i += 1;
        match conv {
            'd' | 'i' => out.extend_from_slice(format_int(&spec, args.int()).as_bytes()),
            'u' => {
                let v = args.int();
                out.extend_from_slice(
                    format_unsigned(&spec, v.cast_unsigned(), 10, false).as_bytes(),
                );
            }
            'o' => out.extend_from_slice(
                format_unsigned(&spec, args.int().cast_unsigned(), 8, false).as_bytes(),
            ),
            'x' => out.extend_from_slice(
                format_unsigned(&spec, args.int().cast_unsigned(), 16, false).as_bytes(),
            ),
            'X' => out.extend_from_slice(
                format_unsigned(&spec, args.int().cast_unsigned(), 16, true).as_bytes(),
            ),
            'f' | 'F' | 'e' | 'E' | 'g' | 'G' => {
                out.extend_from_slice(format_float(&spec, conv, args.float()).as_bytes());
            }
            's' => out.extend_from_slice(format_str(&spec, &args.text()).as_bytes()),
            'c' => {
                let text = args.character();
                let first: String = text.chars().next().map(String::from).unwrap_or_default();
                let spec = Spec {
                    precision: None,
                    ..spec
                };
                if first.is_empty() && spec.width.is_none() {
                    // printf '%c' '' prints nothing (a NUL in C; nothing useful here).
                } else {
                    out.extend_from_slice(format_str(&spec, &first).as_bytes());
                }
            }
            'b' => {
                let (bytes, stop) = unescape(&args.text(), true);
                let text = String::from_utf8_lossy(&bytes).into_owned();
                out.extend_from_slice(format_str(&spec, &text).as_bytes());
                if stop {
                    return Outcome {
                        stop: true,
                        invalid: None,
                    };
                }
            }
            other => {
                return Outcome {
                    stop: false,
                    invalid: Some(other),
                };
            }
        }
    }
    Outcome {
        stop: false,
        invalid: None,
    }
}

fn pad(spec: &Spec, prefix: &str, body: &str, zero_ok: bool) -> String {
    let len = prefix.chars().count() + body.chars().count();
    let width = spec.width.unwrap_or(0);
    if len >= width {
        return format!("{prefix}{body}");
    }
    let fill = width - len;
    if spec.left {
        format!("{prefix}{body}{}", " ".repeat(fill))
    } else if spec.zero && zero_ok {
        format!("{prefix}{}{body}", "0".repeat(fill))
    } else {
        format!("{}{prefix}{body}", " ".repeat(fill))
    }
}

fn sign(spec: &Spec, negative: bool) -> &'static str {
    if negative {
        "-"
    } else if spec.plus {
        "+"
    } else if spec.space {
        " "
    } else {
        ""
    }
}

/// `%d`.
pub(crate) fn format_int(spec: &Spec, v: i64) -> String {
    let mut digits = v.unsigned_abs().to_string();
    if let Some(p) = spec.precision {
        if p == 0 && v == 0 {
            digits.clear();
        }
        while digits.len() < p {
            digits.insert(0, '0');
        }
    }
    pad(spec, sign(spec, v < 0), &digits, spec.precision.is_none())
}

/// `%u`, `%o`, `%x`, `%X`.
pub(crate) fn format_unsigned(spec: &Spec, v: u64, radix: u32, upper: bool) -> String {
    let mut digits = match radix {
        8 => format!("{v:o}"),
        16 if upper => format!("{v:X}"),
        16 => format!("{v:x}"),
        _ => v.to_string(),
    };
    if let Some(p) = spec.precision {
        if p == 0 && v == 0 {
            digits.clear();
        }
        while digits.len() < p {
            digits.insert(0, '0');
        }
    }
    let prefix = match radix {
        8 if spec.alt && !digits.starts_with('0') => {
            digits.insert(0, '0');
            ""
        }
        16 if spec.alt && v != 0 => {
            if upper {
                "0X"
            } else {
                "0x"
            }
        }
        _ => "",
    };
    pad(spec, prefix, &digits, spec.precision.is_none())
}

/// `%s` (precision truncates).
pub(crate) fn format_str(spec: &Spec, s: &str) -> String {
    let body: String = match spec.precision {
        Some(p) => s.chars().take(p).collect(),
        None => s.to_string(),
    };
    pad(spec, "", &body, false)
}

/// C's `%e` body for a non-negative finite number.
fn exp_form(v: f64, prec: usize, upper: bool) -> String {
    let s = format!("{v:.prec$e}");
    let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let e = if upper { 'E' } else { 'e' };
    let es = if exp < 0 { '-' } else { '+' };
    format!("{mant}{e}{es}{:02}", exp.unsigned_abs())
}

fn strip_zeros(s: &str) -> String {
    if let Some((mant, exp)) = s.split_once(['e', 'E']) {
        let sep = if s.contains('E') { 'E' } else { 'e' };
        let mant = if mant.contains('.') {
            mant.trim_end_matches('0').trim_end_matches('.')
        } else {
            mant
        };
        format!("{mant}{sep}{exp}")
    } else if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s.to_string()
    }
}

/// `%f`, `%e`, `%g` (and upper-case forms).
pub(crate) fn format_float(spec: &Spec, conv: char, v: f64) -> String {
    let upper = conv.is_ascii_uppercase();
    let negative = v.is_sign_negative() && !v.is_nan();
    let a = v.abs();
    if !a.is_finite() {
        let body = if a.is_nan() { "nan" } else { "inf" };
        let body = if upper {
            body.to_uppercase()
        } else {
            body.to_string()
        };
        return pad(spec, sign(spec, negative && !a.is_nan()), &body, false);
    }
    let prec = spec.precision.unwrap_or(6);
    let mut body = match conv.to_ascii_lowercase() {
        'f' => format!("{a:.prec$}"),
        'e' => exp_form(a, prec, upper),
        _ => {
            let p = if prec == 0 { 1 } else { prec };
            let x = if a == 0.0 {
                0
            } else {
                let e = exp_form(a, p - 1, false);
                e.rsplit_once('e')
                    .and_then(|(_, x)| x.parse::<i32>().ok())
                    .unwrap_or(0)
            };
            let p_i = i32::try_from(p).unwrap_or(i32::MAX);
            let s = if p_i > x && x >= -4 {
                let decimals = usize::try_from(p_i - 1 - x).unwrap_or(0);
                format!("{a:.decimals$}")
            } else {
                exp_form(a, p - 1, upper)
            };
            if spec.alt { s } else { strip_zeros(&s) }
        }
    };
    if spec.alt && !body.contains('.') && !conv.eq_ignore_ascii_case(&'g') {
        match body.find(['e', 'E']) {
            Some(at) => body.insert(at, '.'),
            None => body.push('.'),
        }
    }
    pad(spec, sign(spec, negative), &body, true)
}

/// Parses an integer as the printf tool does: decimal, `0x` hex, `0` octal, `'c` (the character's code).
/// `Err` holds the value of the valid prefix.
pub(crate) fn parse_int(text: &str) -> Result<i64, i64> {
    let t = text.trim_start();
    if let Some(rest) = t.strip_prefix(['\'', '"']) {
        return Ok(rest.chars().next().map_or(0, |c| i64::from(u32::from(c))));
    }
    let (neg, body) = match t.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let (radix, digits) =
        if let Some(h) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
            (16, h)
        } else if body.len() > 1 && body.starts_with('0') {
            (8, &body[1..])
        } else {
            (10, body)
        };
    let end = digits
        .find(|c: char| !c.is_digit(radix))
        .unwrap_or(digits.len());
    let mut v: i64 = 0;
    for c in digits[..end].chars() {
        v = v
            .wrapping_mul(i64::from(radix))
            .wrapping_add(i64::from(c.to_digit(radix).unwrap_or(0)));
    }
    if neg {
        v = v.wrapping_neg();
    }
    if end == digits.len() && (end > 0 || radix == 8) {
        Ok(v)
    } else {
        Err(v)
    }
}

/// Parses a floating-point number as the printf tool does. `Err` holds the value of the valid prefix.
pub(crate) fn parse_float(text: &str) -> Result<f64, f64> {
    let t = text.trim_start();
    if let Some(rest) = t.strip_prefix(['\'', '"']) {
        return Ok(rest.chars().next().map_or(0.0, |c| f64::from(u32::from(c))));
    }
    if let Ok(v) = t.parse::<f64>() {
        return Ok(v);
    }
    if t.starts_with("0x") || t.starts_with("0X") {
        return parse_int(t).map(|v| v as f64).map_err(|v| v as f64);
    }
    let (v, len) = float_prefix(t);
    if len == t.len() && len > 0 {
        Ok(v)
    } else {
        Err(v)
    }
}

/// The number at the start of `s` (after no skipping) and how many bytes it takes: `[+-]digits[.digits][e[+-]digits]`.
pub(crate) fn float_prefix(s: &str) -> (f64, usize) {
    let b = s.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        i += 1;
    }
    let digits_start = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    let mut mantissa_digits = i - digits_start;
    if i < b.len() && b[i] == b'.' {
        let j = i + 1;
        let mut k = j;
        while k < b.len() && b[k].is_ascii_digit() {
            k += 1;
        }
        mantissa_digits += k - j;
        if mantissa_digits > 0 {
            i = k;
        }
    }
    if mantissa_digits == 0 {
        return (0.0, 0);
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        let mut k = i + 1;
        if k < b.len() && (b[k] == b'+' || b[k] == b'-') {
            k += 1;
        }
        let e_start = k;
        while k < b.len() && b[k].is_ascii_digit() {
            k += 1;
        }
        if k > e_start {
            i = k;
        }
    }
    (s[..i].parse().unwrap_or(0.0), i)
}

struct ToolArgs<'a> {
    args: &'a [String],
    next: usize,
    errors: Vec<String>,
}

impl ToolArgs<'_> {
    fn take(&mut self) -> Option<&str> {
        let a = self.args.get(self.next)?;
        self.next += 1;
        Some(a.as_str())
    }
}

impl ArgSource for ToolArgs<'_> {
    fn has_next(&self) -> bool {
        self.next < self.args.len()
    }

    fn text(&mut self) -> String {
        self.take().unwrap_or("").to_string()
    }

    fn int(&mut self) -> i64 {
        let Some(a) = self.take().map(str::to_string) else {
            return 0;
        };
        match parse_int(&a) {
            Ok(v) => v,
            Err(v) => match parse_float(&a) {
                // GNU and busybox accept no fractions for %d; take the integer part, as they print it.
                Ok(f) if a.contains(['.', 'e', 'E']) => {
                    self.errors.push(format!("invalid number '{a}'"));
                    f as i64
                }
                _ => {
                    self.errors.push(format!("invalid number '{a}'"));
                    v
                }
            },
        }
    }

    fn float(&mut self) -> f64 {
        let Some(a) = self.take().map(str::to_string) else {
            return 0.0;
        };
        match parse_float(&a) {
            Ok(v) => v,
            Err(v) => {
                self.errors.push(format!("invalid number '{a}'"));
                v
            }
        }
    }

    fn character(&mut self) -> String {
        self.text()
    }
}

/// `printf FORMAT [ARG]...`: the format is reused while arguments remain.
pub(crate) fn main(args: &[String], io: &mut Io<'_>) -> i32 {
    let args = match args.first().map(String::as_str) {
        Some("--") => &args[1..],
        _ => args,
    };
    let Some(fmt) = args.first() else {
        let _ = writeln!(
            io.stderr,
            "printf: missing format\nUsage: printf FORMAT [ARG]..."
        );
        return 1;
    };
    let mut source = ToolArgs {
        args: &args[1..],
        next: 0,
        errors: Vec::new(),
    };
    let mut out = Vec::new();
    let mut code = 0;
    loop {
        let before = source.next;
        let outcome = format(fmt.as_bytes(), &mut source, true, &mut out);
        if let Some(c) = outcome.invalid {
            let _ = io.stdout.write_all(&out);
            let _ = writeln!(io.stderr, "printf: %{c}: invalid format");
            return 1;
        }
        if outcome.stop || !source.has_next() || source.next == before {
            break;
        }
    }
    if io.stdout.write_all(&out).is_err() {
        code = 1;
    }
    for e in &source.errors {
        let _ = writeln!(io.stderr, "printf: {e}");
        code = 1;
    }
    code
}
