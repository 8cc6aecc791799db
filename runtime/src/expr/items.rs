//! Loop expansion: the items of `withParam` and `withSequence`, how an item is written into `{{item}}`
//! and `{{item.key}}`, and how Argo names the node of each iteration.
//!
//! The rules follow Argo's controller (workflow/controller/dag/expansion.go and
//! pkg/apis/workflow/v1alpha1/item.go on main after v4.1.2):
//! - `withParam` must be a JSON list (`null` counts as an empty one); its elements may be strings,
//!   numbers, booleans, objects or lists.
//! - `withSequence` counts from `start` (default 0) to `end`, or gives `count` numbers; it counts down when
//!   `end < start`; each number is formatted with the printf-style `format` (default `%d`) and the items
//!   are strings.
//! - `{{item}}` is a string item as it is, a number or boolean as JSON writes it, an object or list as
//!   compact JSON with sorted keys (and Go's `\u003c`-style escapes of `<`, `>`, `&`).
//! - The node of iteration `i` is `name(i:text)`: `text` is the item as above, except that an object is
//!   written `key:value` pairs sorted and joined by `,`, a list as its elements joined by spaces inside
//!   `[...]`, and any parentheses are removed (so that the index can be read back from the name).
//!
//! Items are `serde_json::Value`s, which keep integers exactly but read `1.0` as the float 1: such a
//! number is written `1`, as Go writes a float that came from YAML (Argo keeps the text of a `withParam`
//! number as written; skiff cannot).

use serde_json::Value;

use super::error::ExprError;
use super::gofmt;

/// Parses a `withParam` value (after substitution) into its items, as Argo does.
///
/// # Errors
/// [`ExprError::WithParam`] when the text is not JSON or is JSON but not a list.
pub fn param_items(text: &str) -> Result<Vec<Value>, ExprError> {
    let error = |reason: String| ExprError::WithParam {
        text: text.trim().to_owned(),
        reason,
    };
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Array(items)) => Ok(items),
        // Go's json.Unmarshal of `null` into a slice leaves it empty, without an error.
        Ok(Value::Null) => Ok(Vec::new()),
        Ok(other) => Err(error(format!(
            "expected a JSON list, got {}",
            json_kind(&other)
        ))),
        Err(e) => Err(error(e.to_string())),
    }
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// The items of a `withSequence` (after substitution): `count` numbers from `start`, or the numbers from
/// `start` to `end` (counting down when `end < start`), each formatted with the printf-style `format`
/// (default `%d`: `%02X`, `2020-05-%02d`, ...). An absent or empty field is unset; `start` defaults to 0.
/// A `count` of zero or less gives no items.
///
/// # Errors
/// [`ExprError::Sequence`] when a field is not an integer, or when `count` and `end` are both set or both
/// unset.
pub fn sequence_items(
    count: Option<&str>,
    start: Option<&str>,
    end: Option<&str>,
    format: Option<&str>,
) -> Result<Vec<String>, ExprError> {
    fn field(name: &str, value: Option<&str>) -> Result<Option<i64>, ExprError> {
        let Some(text) = value.map(str::trim).filter(|t| !t.is_empty()) else {
            return Ok(None);
        };
        text.parse::<i64>()
            .map(Some)
            .map_err(|_| ExprError::Sequence {
                message: format!("{name} '{text}' is not an integer"),
            })
    }
    let count = field("count", count)?;
    let start = field("start", start)?.unwrap_or(0);
    let end = field("end", end)?;
    let end = match (count, end) {
        (Some(_), Some(_)) => {
            return Err(ExprError::Sequence {
                message: "only one of count or end can be defined in withSequence".to_owned(),
            });
        }
        (None, None) => {
            return Err(ExprError::Sequence {
                message: "neither end nor count was specified in withSequence".to_owned(),
            });
        }
        (None, Some(end)) => end,
        (Some(count), None) => start.saturating_add(count).saturating_sub(1),
    };
    let step: i64 = if start > end { -1 } else { 1 };
    let mut length = end.abs_diff(start).saturating_add(1);
    if let Some(count) = count {
        length = length.min(u64::try_from(count).unwrap_or(0));
    }
    if length > MAX_SEQUENCE_ITEMS {
        return Err(ExprError::Sequence {
            message: format!(
                "it gives {length} items, more than the {MAX_SEQUENCE_ITEMS} skiff expands a loop into"
            ),
        });
    }
    let format = format.filter(|f| !f.is_empty()).unwrap_or("%d");
    let mut items = Vec::new();
    let mut total = 0usize;
    let mut value = start;
    for _ in 0..length {
        let item = sprintf_int(format, value);
        total = total.saturating_add(item.len());
        if total > MAX_SEQUENCE_TEXT {
            return Err(ExprError::Sequence {
                message: format!(
                    "its items' text is longer than the {} MiB skiff expands a loop into",
                    MAX_SEQUENCE_TEXT >> 20
                ),
            });
        }
        items.push(item);
        value = value.wrapping_add(step);
    }
    Ok(items)
}

/// The most items a `withSequence` expands into: each is a node of the run, and a typo such as
/// `count: "10000000000"` must not take the machine's memory.
pub const MAX_SEQUENCE_ITEMS: u64 = 100_000;

/// The most text a `withSequence`'s items add up to (a `format` with a huge width would otherwise
/// multiply it).
const MAX_SEQUENCE_TEXT: usize = 64 << 20;

/// Go's fmt refuses a width or precision written with more than this value (`tooLarge`): the width is then
/// dropped and the precision taken as 0.
const MAX_FMT_NUMBER: usize = 1_000_000;

/// Go's `fmt.Sprintf(format, n)` for one `int64` argument: the integer verbs `d v b o O x X c q U` with
/// flags `-+# 0`, width and precision; a second verb prints `%!d(MISSING)`, a format without a verb gets
/// `%!(EXTRA int64=n)`, a verb for another type `%!f(int64=n)`.
fn sprintf_int(format: &str, n: i64) -> String {
    let mut out = String::new();
    let mut used = false;
    let mut chars = format.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let (mut minus, mut plus, mut sharp, mut zero, mut space) =
            (false, false, false, false, false);
        while let Some(&flag) = chars.peek() {
            match flag {
                '-' => minus = true,
                '+' => plus = true,
                '#' => sharp = true,
                '0' => zero = true,
                ' ' => space = true,
                _ => break,
            }
            chars.next();
        }
        let mut width = None;
        while let Some(d) = chars.peek().and_then(|c| c.to_digit(10)) {
            width = Some(
                width
                    .unwrap_or(0_usize)
                    .saturating_mul(10)
                    .saturating_add(d as usize),
            );
            chars.next();
        }
        if width.is_some_and(|w| w > MAX_FMT_NUMBER) {
            width = None;
        }
        let mut precision = None;
        if chars.peek() == Some(&'.') {
            chars.next();
            let mut p = 0_usize;
            while let Some(d) = chars.peek().and_then(|c| c.to_digit(10)) {
                p = p.saturating_mul(10).saturating_add(d as usize);
                chars.next();
            }
            precision = Some(if p > MAX_FMT_NUMBER { 0 } else { p });
        }
        let Some(verb) = chars.next() else {
            out.push_str("%!(NOVERB)");
            break;
        };
        if verb == '%' {
            out.push('%');
            continue;
        }
        if used {
            out.push_str(&format!("%!{verb}(MISSING)"));
            continue;
        }
        used = true;
        let spec = IntSpec {
            minus,
            plus,
            zero,
            space,
            width,
            precision,
        };
        match verb {
            'd' | 'v' => out.push_str(&spec.integer(n, 10, false, "")),
            'b' => out.push_str(&spec.integer(n, 2, false, if sharp { "0b" } else { "" })),
            'o' => out.push_str(&spec.integer(n, 8, false, if sharp { "0" } else { "" })),
            'O' => out.push_str(&spec.integer(n, 8, false, "0o")),
            'x' => out.push_str(&spec.integer(n, 16, false, if sharp { "0x" } else { "" })),
            'X' => out.push_str(&spec.integer(n, 16, true, if sharp { "0X" } else { "" })),
            'c' => out.push_str(&spec.pad(&rune_of(n).to_string())),
            'q' => out.push_str(&spec.pad(&format!("{:?}", rune_of(n)))),
            'U' => out.push_str(&spec.pad(&format!("U+{:04X}", n))),
            other => out.push_str(&format!("%!{other}(int64={n})")),
        }
    }
    if !used {
        out.push_str(&format!("%!(EXTRA int64={n})"));
    }
    out
}

fn rune_of(n: i64) -> char {
    u32::try_from(n)
        .ok()
        .and_then(char::from_u32)
        .unwrap_or('\u{FFFD}')
}

/// A printf directive's flags, width and precision.
#[derive(Debug, Clone, Copy)]
struct IntSpec {
    minus: bool,
    plus: bool,
    zero: bool,
    space: bool,
    width: Option<usize>,
    precision: Option<usize>,
}

impl IntSpec {
    /// Go's `fmtInteger`.
    fn integer(&self, n: i64, base: u32, upper: bool, prefix: &str) -> String {
        let magnitude = n.unsigned_abs();
        let mut digits = match base {
            2 => format!("{magnitude:b}"),
            8 => format!("{magnitude:o}"),
            16 if upper => format!("{magnitude:X}"),
            16 => format!("{magnitude:x}"),
            _ => magnitude.to_string(),
        };
        let sign = if n < 0 {
            "-"
        } else if self.plus {
            "+"
        } else if self.space {
            " "
        } else {
            ""
        };
        // A `0` prefix for octal is not added when the digits already start with 0.
        let prefix = if prefix == "0" && digits.starts_with('0') {
            ""
        } else {
            prefix
        };
        let mut min_digits = self.precision;
        if self.precision == Some(0) && n == 0 {
            digits.clear();
        }
        if min_digits.is_none()
            && self.zero
            && !self.minus
            && let Some(width) = self.width
        {
            min_digits = Some(width.saturating_sub(sign.len() + prefix.len()));
        }
        if let Some(min) = min_digits
            && digits.len() < min
        {
            digits = format!("{}{digits}", "0".repeat(min - digits.len()));
        }
        self.pad(&format!("{sign}{prefix}{digits}"))
    }

    /// Pads to the width with spaces (on the right with `-`).
    fn pad(&self, text: &str) -> String {
        let length = text.chars().count();
        match self.width {
            Some(width) if width > length => {
                let fill = " ".repeat(width - length);
                if self.minus {
                    format!("{text}{fill}")
                } else {
                    format!("{fill}{text}")
                }
            }
            _ => text.to_owned(),
        }
    }
}

/// How Argo writes an item into `{{item}}`: a string as it is, a number or boolean as JSON, an object or
/// list as compact JSON (keys sorted, `<`, `>`, `&` escaped as Go's `json.Marshal` does), `null` as
/// `null`.
pub fn item_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => gofmt::json_number(n),
        Value::Bool(b) => b.to_string(),
        Value::Null => "null".to_owned(),
        Value::Array(_) | Value::Object(_) => {
            let mut out = String::new();
            gofmt::json_into(value, true, &mut out);
            out
        }
    }
}

/// How Argo writes a field of an object item into `{{item.key}}`: as [`item_text`] for strings, numbers
/// and booleans, and compact JSON for nested objects and lists. `path` is matched as a key first (Argo's
/// only rule: keys may contain dots); failing that, skiff also follows it as a dotted path into nested
/// objects and lists (`a.b`, `a.0`), where Argo would leave the tag unresolved. `None` when the item is
/// not an object or has no such field.
pub fn item_field(value: &Value, path: &str) -> Option<String> {
    let Value::Object(map) = value else {
        return None;
    };
    if let Some(field) = map.get(path) {
        return Some(field_text(field));
    }
    let mut current = value;
    for part in path.split('.') {
        current = match current {
            Value::Object(map) => map.get(part)?,
            Value::Array(items) => items.get(part.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(field_text(current))
}

/// An `Item`'s `String()` in Argo: strings without their quotes, anything else as compact JSON (with Go's
/// HTML escapes undone).
fn field_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => {
            let mut out = String::new();
            gofmt::json_into(other, false, &mut out);
            out
        }
    }
}

/// An item as Argo writes it inside a node name: `Item.String()`, whose strings keep their JSON escapes.
fn name_text(value: &Value) -> String {
    let mut out = String::new();
    match value {
        Value::String(s) => gofmt::json_escape_into(s, false, &mut out),
        other => gofmt::json_into(other, false, &mut out),
    }
    out
}

/// Argo's name suffix for iteration `index` of a loop over `item`: `(0:hello world)`, `(1:5)`,
/// `(2:a:1,b:x)` for the object `{"b":"x","a":1}`, `(3:[1 2 three])` for a list, with parentheses removed
/// from the item's text.
pub fn loop_node_suffix(index: usize, item: &Value) -> String {
    let text = match item {
        Value::Object(map) => {
            let mut pairs: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{k}:{}", name_text(v)))
                .collect();
            pairs.sort();
            pairs.join(",")
        }
        Value::Array(items) => {
            let parts: Vec<String> = items.iter().map(name_text).collect();
            format!("[{}]", parts.join(" "))
        }
        // Argo reads a `null` item as an empty list.
        Value::Null => "[]".to_owned(),
        other => name_text(other),
    };
    let text: String = text.chars().filter(|&c| c != '(' && c != ')').collect();
    format!("({index}:{text})")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn sequences_too_long_to_expand_are_refused() {
        let e = sequence_items(Some("10000000000"), None, None, None).unwrap_err();
        assert!(e.to_string().contains("10000000000 items"), "{e}");
        let e = sequence_items(
            None,
            Some("-9223372036854775808"),
            Some("9223372036854775807"),
            None,
        );
        assert!(e.is_err());
        let e = sequence_items(Some("100"), None, None, Some("%900000d")).unwrap_err();
        assert!(e.to_string().contains("64 MiB"), "{e}");
        assert!(sequence_items(Some("100000"), None, None, None).is_ok());
    }

    #[test]
    fn widths_and_precisions_too_large_for_go_are_dropped() {
        // Go's fmt ignores a width over 1e6 and reads a precision over 1e6 as 0.
        let items = sequence_items(Some("1"), Some("5"), None, Some("[%99999999999d]")).unwrap();
        assert_eq!(items, ["[5]"]);
        let items = sequence_items(Some("1"), Some("5"), None, Some("[%.99999999999d]")).unwrap();
        assert_eq!(items, ["[5]"]);
    }

    #[test]
    fn with_param_lists() {
        assert_eq!(
            param_items(r#"["a", 1, 2.5, true, {"k": "v"}, [1, 2]]"#).ok(),
            Some(vec![
                json!("a"),
                json!(1),
                json!(2.5),
                json!(true),
                json!({"k": "v"}),
                json!([1, 2])
            ])
        );
        assert_eq!(param_items("  [ ]\n").ok(), Some(vec![]));
        assert_eq!(param_items("null").ok(), Some(vec![]));
        for bad in [r#"{"a": 1}"#, "\"[1]\"", "5", "[1, 2", "hello", ""] {
            let err = param_items(bad);
            assert!(
                matches!(err, Err(ExprError::WithParam { .. })),
                "{bad:?}: {err:?}"
            );
        }
        let message = param_items(" {\"a\": 1} ")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            message.starts_with("withParam value could not be parsed as a JSON list: {\"a\": 1}: "),
            "{message}"
        );
    }

    fn seq(
        count: Option<&str>,
        start: Option<&str>,
        end: Option<&str>,
        format: Option<&str>,
    ) -> Vec<String> {
        sequence_items(count, start, end, format).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn with_sequence() {
        assert_eq!(seq(Some("5"), None, None, None), ["0", "1", "2", "3", "4"]);
        assert_eq!(
            seq(None, Some("100"), Some("105"), None),
            ["100", "101", "102", "103", "104", "105"]
        );
        assert_eq!(seq(None, Some("5"), Some("2"), None), ["5", "4", "3", "2"]);
        assert_eq!(seq(Some("3"), Some("-1"), None, None), ["-1", "0", "1"]);
        assert_eq!(seq(Some("0"), None, None, None), Vec::<String>::new());
        assert_eq!(seq(Some("-2"), None, None, None), Vec::<String>::new());
        assert_eq!(seq(None, None, Some("0"), None), ["0"]);
        // Argo's loops docs: a sequence of dates.
        assert_eq!(
            seq(Some("3"), Some("9"), None, Some("2020-05-%02X")),
            ["2020-05-09", "2020-05-0A", "2020-05-0B"]
        );
        assert_eq!(
            seq(Some("2"), Some("254"), None, Some("%02x")),
            ["fe", "ff"]
        );
        assert_eq!(seq(Some(" 2 "), Some(""), None, Some("")), ["0", "1"]);
        for (count, start, end, want) in [
            (Some("2"), None, Some("3"), "only one of count or end"),
            (None, Some("1"), None, "neither end nor count"),
            (Some("two"), None, None, "count 'two' is not an integer"),
            (
                None,
                Some("1.5"),
                Some("3"),
                "start '1.5' is not an integer",
            ),
        ] {
            let message = sequence_items(count, start, end, None)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(message.contains(want), "{message}");
        }
    }

    #[test]
    fn printf_like_go() {
        let table: &[(&str, i64, &str)] = &[
            ("%d", 7, "7"),
            ("%v", -7, "-7"),
            ("%05d", -42, "-0042"),
            ("%5d", 42, "   42"),
            ("%-5d|", 42, "42   |"),
            ("%+d", 3, "+3"),
            ("%x", 255, "ff"),
            ("%X", 255, "FF"),
            ("%#x", 255, "0xff"),
            ("%o", 8, "10"),
            ("%#o", 8, "010"),
            ("%O", 8, "0o10"),
            ("%b", 5, "101"),
            ("%.3d", 7, "007"),
            ("%c", 65, "A"),
            ("%U", 65, "U+0041"),
            ("item-%d%%", 3, "item-3%"),
            ("%d-%d", 1, "1-%!d(MISSING)"),
            ("plain", 4, "plain%!(EXTRA int64=4)"),
            ("%f", 4, "%!f(int64=4)"),
            ("%s", 4, "%!s(int64=4)"),
        ];
        for (format, n, want) in table {
            assert_eq!(sprintf_int(format, *n), *want, "{format}");
        }
    }

    #[test]
    fn item_rendering() {
        let table: &[(Value, &str)] = &[
            (json!("hello world"), "hello world"),
            (json!("say \"hi\""), "say \"hi\""),
            (json!(5), "5"),
            (json!(-3), "-3"),
            (json!(2.5), "2.5"),
            (json!(1.0), "1"),
            (json!(true), "true"),
            (json!(null), "null"),
            (
                json!({"os": "debian", "version": 9}),
                r#"{"os":"debian","version":9}"#,
            ),
            (json!({"b": 1, "a": [1, "x"]}), r#"{"a":[1,"x"],"b":1}"#),
            (json!({"html": "<b>&"}), r#"{"html":"\u003cb\u003e\u0026"}"#),
            (json!([1, "two", {"k": 3}]), r#"[1,"two",{"k":3}]"#),
        ];
        for (value, want) in table {
            assert_eq!(item_text(value), *want, "{value}");
        }
    }

    #[test]
    fn item_fields() {
        let item = json!({"os": "debian", "version": 9, "nested": {"a": {"b": "deep"}, "l": [1, 2]}, "a.b": "dotted", "html": "<x>"});
        assert_eq!(item_field(&item, "os").as_deref(), Some("debian"));
        assert_eq!(item_field(&item, "version").as_deref(), Some("9"));
        assert_eq!(
            item_field(&item, "nested").as_deref(),
            Some(r#"{"a":{"b":"deep"},"l":[1,2]}"#)
        );
        assert_eq!(
            item_field(&item, "a.b").as_deref(),
            Some("dotted"),
            "a key with a dot wins"
        );
        assert_eq!(item_field(&item, "nested.a.b").as_deref(), Some("deep"));
        assert_eq!(item_field(&item, "nested.l.1").as_deref(), Some("2"));
        assert_eq!(item_field(&item, "html").as_deref(), Some("<x>"));
        assert_eq!(item_field(&item, "missing"), None);
        assert_eq!(item_field(&item, "os.x"), None);
        assert_eq!(item_field(&json!("plain"), "os"), None);
    }

    #[test]
    fn node_suffixes() {
        let table: &[(usize, Value, &str)] = &[
            (0, json!("hello world"), "(0:hello world)"),
            (1, json!(5), "(1:5)"),
            (2, json!(true), "(2:true)"),
            (
                3,
                json!({"os": "debian", "version": 9}),
                "(3:os:debian,version:9)",
            ),
            (4, json!({"b": "x", "a": 1}), "(4:a:1,b:x)"),
            (5, json!({"a-b": 1, "a": 2}), "(5:a-b:1,a:2)"),
            (6, json!([1, "two", {"k": 3}]), r#"(6:[1 two {"k":3}])"#),
            (7, json!("f(x)"), "(7:fx)"),
            (8, json!("say \"hi\""), r#"(8:say \"hi\")"#),
            (9, json!(null), "(9:[])"),
            (
                10,
                json!({"m": {"z": 1, "y": "<"}}),
                r#"(10:m:{"y":"<","z":1})"#,
            ),
            (11, json!(2.50), "(11:2.5)"),
        ];
        for (index, item, want) in table {
            assert_eq!(loop_node_suffix(*index, item), *want, "{item}");
        }
    }
}
