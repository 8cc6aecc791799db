//! Durations as Argo reads them: a bare number is seconds, anything else is a Go duration.

use std::time::Duration;

use thiserror::Error;

/// A duration text that is neither a number of seconds nor a Go duration.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("invalid duration `{text}`: {reason}")]
pub struct DurationError {
    /// The text as given.
    pub text: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

/// Parses a duration the way Argo does for `timeout`, `suspend.duration` and retry backoffs.
///
/// A bare number is seconds (`"30"`, `"1.5"`); anything else is a Go duration: one or more decimal numbers,
/// each with a unit among `ns`, `us` (or `µs`), `ms`, `s`, `m`, `h` (`"2m"`, `"6h"`, `"1m30s"`, `"500ms"`,
/// `"1.5s"`). Spaces around the text are ignored. Negative durations are refused.
///
/// # Errors
/// [`DurationError`] when the text is empty, negative, has a number without a unit (after the first
/// component), an unknown unit, or is too large.
pub fn parse_duration(text: &str) -> Result<Duration, DurationError> {
    let err = |reason| DurationError {
        text: text.to_string(),
        reason,
    };
    let s = text.trim();
    if s.is_empty() {
        return Err(err("it is empty"));
    }
    if s.starts_with('-') {
        return Err(err("it is negative"));
    }
    let s = s.strip_prefix('+').unwrap_or(s);
    if let Ok(seconds) = s.parse::<f64>()
        && s.bytes().all(|b| b.is_ascii_digit() || b == b'.')
    {
        return Duration::try_from_secs_f64(seconds).map_err(|_| err("it is too large"));
    }
    let mut total = Duration::ZERO;
    let mut rest = s;
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let number = &rest[..number_len];
        if number.is_empty() || number == "." {
            return Err(err("expected a number (as in 1m30s)"));
        }
        let value: f64 = number
            .parse()
            .map_err(|_| err("expected a number (as in 1m30s)"))?;
        rest = &rest[number_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        let scale = match unit {
            "ns" => 1e-9,
            "us" | "µs" | "μs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            "" => return Err(err("a number is missing its unit (ns, us, ms, s, m, h)")),
            _ => return Err(err("unknown unit (use ns, us, ms, s, m or h)")),
        };
        let part =
            Duration::try_from_secs_f64(value * scale).map_err(|_| err("it is too large"))?;
        total = total
            .checked_add(part)
            .ok_or_else(|| err("it is too large"))?;
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_numbers_are_seconds() {
        assert_eq!(parse_duration("1"), Ok(Duration::from_secs(1)));
        assert_eq!(parse_duration(" 30 "), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("1.5"), Ok(Duration::from_millis(1500)));
    }

    #[test]
    fn go_durations() {
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("6h"), Ok(Duration::from_secs(6 * 3600)));
        assert_eq!(parse_duration("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(
            parse_duration("1h2m3s4ms"),
            Ok(Duration::from_millis(3_723_004))
        );
        assert_eq!(parse_duration("10us"), Ok(Duration::from_micros(10)));
    }

    #[test]
    fn bad_durations() {
        assert_eq!(
            parse_duration("ten").unwrap_err().to_string(),
            "invalid duration `ten`: expected a number (as in 1m30s)"
        );
        assert_eq!(
            parse_duration("5x").unwrap_err().reason,
            "unknown unit (use ns, us, ms, s, m or h)"
        );
        assert_eq!(
            parse_duration("1m30").unwrap_err().reason,
            "a number is missing its unit (ns, us, ms, s, m, h)"
        );
        assert_eq!(parse_duration("-1s").unwrap_err().reason, "it is negative");
        assert_eq!(parse_duration("").unwrap_err().reason, "it is empty");
        assert!(parse_duration("1d").is_err());
    }
}
