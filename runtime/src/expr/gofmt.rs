//! Go's ways of printing numbers and JSON, which Argo's messages and node names show.
//!
//! Argo is written in Go: a float in an error message is printed with `%v`, an item in a node name with
//! `encoding/json`. These helpers reproduce those two formats so that skiff shows the same text.

/// The shortest decimal digits of `f` and its decimal exponent: `f = 0.d1d2d3... * 10^(exp+1)`, that is
/// `d1.d2d3... * 10^exp`. `f` must be finite; the sign is dropped.
fn shortest_digits(f: f64) -> (String, i32) {
    // Rust's `{:e}` prints the shortest digits that read back as the same f64, as Go's strconv does.
    let text = format!("{:e}", f.abs());
    let (mantissa, exponent) = text.split_once('e').unwrap_or((&text, "0"));
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    (digits, exponent.parse().unwrap_or(0))
}

/// `d.ddd` with the point after the first digit.
fn scientific_mantissa(digits: &str) -> String {
    if digits.len() <= 1 {
        return digits.to_owned();
    }
    format!("{}.{}", &digits[..1], &digits[1..])
}

/// Digits placed around the decimal point for exponent `exp`.
fn positional(digits: &str, exp: i32) -> String {
    let point = exp + 1;
    if point <= 0 {
        let zeros = usize::try_from(-point).unwrap_or(0);
        format!("0.{}{digits}", "0".repeat(zeros))
    } else {
        let point = usize::try_from(point).unwrap_or(0);
        if point >= digits.len() {
            format!("{digits}{}", "0".repeat(point - digits.len()))
        } else {
            format!("{}.{}", &digits[..point], &digits[point..])
        }
    }
}

/// Go's `fmt.Sprint` of a float64 (`%v`, which is `%g` with the shortest precision): `5`, `0.5`,
/// `1e+06`, `1.5e-07`, `+Inf`, `NaN`.
pub(crate) fn float_v(f: f64) -> String {
    if f.is_nan() {
        return "NaN".to_owned();
    }
    if f.is_infinite() {
        return if f > 0.0 { "+Inf" } else { "-Inf" }.to_owned();
    }
    let sign = if f.is_sign_negative() { "-" } else { "" };
    let (digits, exp) = shortest_digits(f);
    if f == 0.0 {
        return format!("{sign}0");
    }
    if !(-4..6).contains(&exp) {
        let exp_sign = if exp < 0 { '-' } else { '+' };
        format!(
            "{sign}{}e{exp_sign}{:02}",
            scientific_mantissa(&digits),
            exp.abs()
        )
    } else {
        format!("{sign}{}", positional(&digits, exp))
    }
}

/// Go's `encoding/json` text of a float64: positional between 1e-6 and 1e21, else `1e+21`, `1e-7`.
pub(crate) fn float_json(f: f64) -> String {
    if !f.is_finite() {
        return "null".to_owned();
    }
    let sign = if f.is_sign_negative() { "-" } else { "" };
    if f == 0.0 {
        return format!("{sign}0");
    }
    let (digits, exp) = shortest_digits(f);
    let abs = f.abs();
    if !(1e-6..1e21).contains(&abs) {
        let exp_sign = if exp < 0 { '-' } else { '+' };
        // Go prints two exponent digits, then trims `e-07` to `e-7` (but keeps `e+21`).
        let exp_digits = if exp < 0 {
            exp.abs().to_string()
        } else {
            format!("{:02}", exp.abs())
        };
        format!(
            "{sign}{}e{exp_sign}{exp_digits}",
            scientific_mantissa(&digits)
        )
    } else {
        format!("{sign}{}", positional(&digits, exp))
    }
}

/// Appends `s` escaped the way Go's `encoding/json` escapes string contents (without the quotes):
/// `"`, `\`, control characters, U+2028/U+2029, and, with `html`, `<`, `>`, `&`.
pub(crate) fn json_escape_into(s: &str, html: bool, out: &mut String) {
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '<' | '>' | '&' if html => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            '\u{2028}' | '\u{2029}' => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
}

/// The JSON text of a number as Go prints it: integers as they are, floats via [`float_json`].
pub(crate) fn json_number(n: &serde_json::Number) -> String {
    if n.is_i64() || n.is_u64() {
        n.to_string()
    } else {
        float_json(n.as_f64().unwrap_or(0.0))
    }
}

/// Appends the compact JSON of `value` as Go's `encoding/json` writes it: object keys sorted, floats in
/// Go's format, and with `html` the `<`, `>`, `&` escapes that `json.Marshal` adds.
pub(crate) fn json_into(value: &serde_json::Value, html: bool, out: &mut String) {
    use serde_json::Value;
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&json_number(n)),
        Value::String(s) => {
            out.push('"');
            json_escape_into(s, html, out);
            out.push('"');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                json_into(item, html, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            // Go sorts map keys; serde_json keeps them sorted only without its `preserve_order` feature.
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push('"');
                json_escape_into(key, html, out);
                out.push_str("\":");
                json_into(&map[key.as_str()], html, out);
            }
            out.push('}');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_print_like_go_v() {
        let cases = [
            (5.0, "5"),
            (0.5, "0.5"),
            (-2.25, "-2.25"),
            (123456.0, "123456"),
            (1_000_000.0, "1e+06"),
            (1_234_567.0, "1.234567e+06"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (0.0, "0"),
            (f64::INFINITY, "+Inf"),
        ];
        for (f, want) in cases {
            assert_eq!(float_v(f), want, "{f}");
        }
    }

    #[test]
    fn floats_print_like_go_json() {
        let cases = [
            (1.0, "1"),
            (1.5, "1.5"),
            (1_000_000.0, "1000000"),
            (1e21, "1e+21"),
            (1e-7, "1e-7"),
            (0.000001, "0.000001"),
            (-3.0, "-3"),
        ];
        for (f, want) in cases {
            assert_eq!(float_json(f), want, "{f}");
        }
    }

    #[test]
    fn json_is_compact_sorted_and_escaped() {
        let value = serde_json::json!({"b": [1, 2.5, "x<y"], "a": {"q": "say \"hi\"\n"}});
        let mut html = String::new();
        json_into(&value, true, &mut html);
        assert_eq!(html, r#"{"a":{"q":"say \"hi\"\n"},"b":[1,2.5,"x\u003cy"]}"#);
        let mut plain = String::new();
        json_into(&value, false, &mut plain);
        assert_eq!(plain, r#"{"a":{"q":"say \"hi\"\n"},"b":[1,2.5,"x<y"]}"#);
    }
}
