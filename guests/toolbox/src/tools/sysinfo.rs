//! System tools: date, env, uname, id, sleep, xargs, and the one-line ones (hostname, whoami, pwd).

use super::{fail, getopt};
use crate::{Io, Sys, describe};
use std::io;
use std::time::Duration;

/// Prints `text` and a newline.
pub(crate) fn simple(io: &mut Io<'_>, text: &str) -> i32 {
    i32::from(writeln!(io.stdout, "{text}").is_err())
}

/// A moment in UTC, broken down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Civil {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    /// 0 = Sunday.
    pub weekday: u32,
    /// 0 = January 1st.
    pub yday: u32,
}

/// Days since 1970-01-01 of a civil date (proleptic Gregorian).
pub(crate) fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Breaks seconds since the epoch into a UTC date and time.
pub(crate) fn civil(secs: i64) -> Civil {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    Civil {
        year,
        month,
        day,
        hour: (rem / 3600) as u32,
        minute: (rem % 3600 / 60) as u32,
        second: (rem % 60) as u32,
        weekday: (days + 4).rem_euclid(7) as u32,
        yday: (days - days_from_civil(year, 1, 1)) as u32,
    }
}

/// Seconds since the epoch, now.
pub(crate) fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0))
}

const DAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];
const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// Formats `secs` (UTC) with a strftime format.
pub(crate) fn strftime(fmt: &str, secs: i64) -> String {
    let c = civil(secs);
    let mut out = String::new();
    let mut chars = fmt.chars().peekable();
    while let Some(ch) = chars.next() {
        if ch != '%' {
            out.push(ch);
            continue;
        }
        // GNU flags: `-` (no padding), `_` (space padding), `0`.
        let mut pad: Option<char> = None;
        while let Some(&f) = chars.peek() {
            if matches!(f, '-' | '_' | '0' | '^' | '#') {
                pad = Some(f);
                chars.next();
            } else {
                break;
            }
        }
        let Some(conv) = chars.next() else {
            out.push('%');
            break;
        };
        let num = |v: i64, width: usize, default_pad: char| -> String {
            match pad.unwrap_or(default_pad) {
                '-' => v.to_string(),
                '_' | ' ' => format!("{v:>width$}"),
                _ => format!("{v:0width$}"),
            }
        };
        let hour12 = if c.hour.is_multiple_of(12) {
            12
        } else {
            c.hour % 12
        };
        let piece = match conv {
            'Y' => c.year.to_string(),
            'C' => num(c.year.div_euclid(100), 2, '0'),
            'y' => num(c.year.rem_euclid(100), 2, '0'),
            'm' => num(i64::from(c.month), 2, '0'),
            'd' => num(i64::from(c.day), 2, '0'),
            'e' => num(i64::from(c.day), 2, '_'),
            'H' => num(i64::from(c.hour), 2, '0'),
            'k' => num(i64::from(c.hour), 2, '_'),
            'I' => num(i64::from(hour12), 2, '0'),
            'l' => num(i64::from(hour12), 2, '_'),
            'M' => num(i64::from(c.minute), 2, '0'),
            'S' => num(i64::from(c.second), 2, '0'),
            'N' => "000000000".to_string(),
            's' => secs.to_string(),
            'j' => num(i64::from(c.yday) + 1, 3, '0'),
            'a' => DAYS[c.weekday as usize][..3].to_string(),
            'A' => DAYS[c.weekday as usize].to_string(),
            'b' | 'h' => MONTHS[(c.month - 1) as usize][..3].to_string(),
            'B' => MONTHS[(c.month - 1) as usize].to_string(),
            'u' => (if c.weekday == 0 { 7 } else { c.weekday }).to_string(),
            'w' => c.weekday.to_string(),
            'U' => num(i64::from((c.yday + 7 - c.weekday) / 7), 2, '0'),
            'W' => num(i64::from((c.yday + 7 - (c.weekday + 6) % 7) / 7), 2, '0'),
            'p' => (if c.hour < 12 { "AM" } else { "PM" }).to_string(),
            'P' => (if c.hour < 12 { "am" } else { "pm" }).to_string(),
            'F' => format!("{}-{:02}-{:02}", c.year, c.month, c.day),
            'T' => format!("{:02}:{:02}:{:02}", c.hour, c.minute, c.second),
            'R' => format!("{:02}:{:02}", c.hour, c.minute),
            'D' => format!("{:02}/{:02}/{:02}", c.month, c.day, c.year.rem_euclid(100)),
            'c' => strftime("%a %b %e %H:%M:%S %Y", secs),
            'x' => strftime("%m/%d/%y", secs),
            'X' => strftime("%H:%M:%S", secs),
            'Z' => "UTC".to_string(),
            'z' => "+0000".to_string(),
            'n' => "\n".to_string(),
            't' => "\t".to_string(),
            '%' => "%".to_string(),
            other => format!("%{other}"),
        };
        if pad == Some('^') {
            out.push_str(&piece.to_uppercase());
        } else {
            out.push_str(&piece);
        }
    }
    out
}

/// Parses `date -d` input: `@EPOCH`, `now`, `YYYY-MM-DD[ T]HH:MM[:SS]`, `YYYY-MM-DD`, `HH:MM[:SS]` (today).
fn parse_date(s: &str) -> Option<i64> {
    let s = s.trim();
    if let Some(e) = s.strip_prefix('@') {
        return e.trim().parse::<f64>().ok().map(|v| v.floor() as i64);
    }
    if s.is_empty() || s == "now" {
        return Some(now_secs());
    }
    let s = s.trim_end_matches('Z').trim_end_matches(" UTC");
    let (date, time) = match s.split_once(['T', ' ']) {
        Some((d, t)) => (Some(d), Some(t)),
        None if s.contains(':') => (None, Some(s)),
        None => (Some(s), None),
    };
    let days = match date {
        Some(d) => {
            let parts: Vec<&str> = d.split(['-', '/']).collect();
            let (y, m, dd) = match parts.as_slice() {
                [y, m, dd] => (
                    y.parse::<i64>().ok()?,
                    m.parse::<u32>().ok()?,
                    dd.parse::<u32>().ok()?,
                ),
                _ => return None,
            };
            if !(1..=12).contains(&m) || !(1..=31).contains(&dd) {
                return None;
            }
            days_from_civil(y, m, dd)
        }
        None => now_secs().div_euclid(86_400),
    };
    let secs = match time {
        Some(t) => {
            let parts: Vec<&str> = t.split(':').collect();
            let nums: Option<Vec<u32>> = parts
                .iter()
                .map(|p| p.split('.').next()?.parse().ok())
                .collect();
            match nums?.as_slice() {
                [h, m] if *h < 24 && *m < 60 => i64::from(h * 3600 + m * 60),
                [h, m, s] if *h < 24 && *m < 60 && *s < 61 => i64::from(h * 3600 + m * 60 + s),
                _ => return None,
            }
        }
        None => 0,
    };
    Some(days * 86_400 + secs)
}

/// `date [-u] [-d DATE] [-R] [-I[SPEC]] [+FORMAT]`: always UTC.
pub(crate) fn date(args: &[String], io: &mut Io<'_>) -> i32 {
    let mut when: Option<i64> = None;
    let mut format: Option<String> = None;
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        i += 1;
        if let Some(f) = a.strip_prefix('+') {
            format = Some(f.to_string());
            continue;
        }
        let date_arg = if a == "-d" || a == "--date" {
            if i >= args.len() {
                return fail(io, "date", "option requires an argument -- 'd'");
            }
            i += 1;
            Some(args[i - 1].clone())
        } else {
            a.strip_prefix("--date=")
                .or_else(|| a.strip_prefix("-d"))
                .map(str::to_string)
        };
        if let Some(d) = date_arg {
            match parse_date(&d) {
                Some(v) => when = Some(v),
                None => return fail(io, "date", format!("invalid date '{d}'")),
            }
            continue;
        }
        match a.as_str() {
            "-u" | "--utc" | "--universal" => {}
            "-R" | "--rfc-2822" | "--rfc-email" => {
                format = Some("%a, %d %b %Y %H:%M:%S %z".to_string())
            }
            "-I" | "-Idate" | "--iso-8601" => format = Some("%Y-%m-%d".to_string()),
            "-Iseconds" => format = Some("%Y-%m-%dT%H:%M:%S+00:00".to_string()),
            "-Iminutes" => format = Some("%Y-%m-%dT%H:%M+00:00".to_string()),
            "-Ihours" => format = Some("%Y-%m-%dT%H+00:00".to_string()),
            _ if a.starts_with('-') => {
                return fail(io, "date", format!("unrecognized option: {}", &a[1..]));
            }
            _ => {
                return fail(
                    io,
                    "date",
                    "setting the date is not supported in skiff's toolbox",
                );
            }
        }
    }
    let secs = when.unwrap_or_else(now_secs);
    let fmt = format.unwrap_or_else(|| "%a %b %e %H:%M:%S %Z %Y".to_string());
    i32::from(writeln!(io.stdout, "{}", strftime(&fmt, secs)).is_err())
}

/// `env [-i] [-u NAME]... [NAME=VALUE]... [COMMAND [ARG]...]`
pub(crate) fn env(args: &[String], sys: &mut Sys, io: &mut Io<'_>) -> i32 {
    let mut sub = sys.clone();
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        match a.as_str() {
            "-i" | "-" | "--ignore-environment" => sub.env.clear(),
            "-u" => {
                i += 1;
                match args.get(i) {
                    Some(n) => {
                        sub.env.remove(n);
                    }
                    None => return fail(io, "env", "option requires an argument -- 'u'"),
                }
            }
            "--" => {
                i += 1;
                break;
            }
            _ if a.starts_with("-u") && a.len() > 2 => {
                sub.env.remove(&a[2..]);
            }
            _ if a.starts_with('-') && a.len() > 1 => {
                return fail(io, "env", format!("unrecognized option: {}", &a[1..]));
            }
            _ => break,
        }
        i += 1;
    }
    while i < args.len() {
        match args[i].split_once('=') {
            Some((k, v)) if !k.is_empty() => {
                sub.env.insert(k.to_string(), v.to_string());
                i += 1;
            }
            _ => break,
        }
    }
    if i >= args.len() {
        let mut out = String::new();
        for (k, v) in &sub.env {
            out.push_str(&format!("{k}={v}\n"));
        }
        return i32::from(io.stdout.write_all(out.as_bytes()).is_err());
    }
    let name = crate::tool_name(&args[i]);
    match crate::run(&name, &args[i + 1..], &mut sub, io) {
        Some(code) => code,
        None => {
            let _ = writeln!(
                io.stderr,
                "env: can't execute '{}': No such file or directory",
                args[i]
            );
            127
        }
    }
}

/// `uname [-asnrvmpio]`
pub(crate) fn uname(args: &[String], io: &mut Io<'_>) -> i32 {
    let opts = match getopt(args, "asnrvmpio", "", false) {
        Ok(o) => o,
        Err(e) => return fail(io, "uname", e),
    };
    let fields: [(char, &str); 8] = [
        ('s', "Linux"),
        ('n', "skiff"),
        ('r', "6.0.0-skiff"),
        ('v', "#1 SMP"),
        ('m', "wasm32"),
        ('p', "unknown"),
        ('i', "unknown"),
        ('o', "Linux"),
    ];
    let all = opts.has('a');
    let mut parts = Vec::new();
    for (c, v) in fields {
        let wanted = if all {
            !matches!(c, 'p' | 'i')
        } else {
            opts.has(c)
        };
        if wanted {
            parts.push(v);
        }
    }
    if parts.is_empty() {
        parts.push("Linux");
    }
    i32::from(writeln!(io.stdout, "{}", parts.join(" ")).is_err())
}

/// `id [-u|-g|-G] [-n]`: everything runs as root.
pub(crate) fn id(args: &[String], io: &mut Io<'_>) -> i32 {
    let opts = match getopt(args, "ugGnr", "", false) {
        Ok(o) => o,
        Err(e) => return fail(io, "id", e),
    };
    if let Some(user) = opts.operands.first()
        && user != "root"
        && user != "0"
    {
        return fail(io, "id", format!("unknown user {user}"));
    }
    let name = opts.has('n');
    let text = if opts.has('u') || opts.has('g') || opts.has('G') {
        if name { "root" } else { "0" }
    } else {
        "uid=0(root) gid=0(root) groups=0(root)"
    };
    simple(io, text)
}

/// Parses a sleep duration: `N`, `N.5`, with an optional `s`, `m`, `h` or `d` suffix.
fn parse_sleep(s: &str) -> Option<f64> {
    if matches!(s, "inf" | "infinity") {
        return Some(f64::INFINITY);
    }
    let (num, mult) = match s.chars().last()? {
        's' => (&s[..s.len() - 1], 1.0),
        'm' => (&s[..s.len() - 1], 60.0),
        'h' => (&s[..s.len() - 1], 3600.0),
        'd' => (&s[..s.len() - 1], 86_400.0),
        _ => (s, 1.0),
    };
    if num.is_empty() || !num.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return None;
    }
    let v: f64 = num.parse().ok()?;
    (v.is_finite() && v >= 0.0).then_some(v * mult)
}

/// Sleeps `secs` seconds (what the host allows: a very long sleep is still a sleep).
pub(crate) fn sleep_for(secs: f64) {
    if secs <= 0.0 {
        return;
    }
    let d = if secs.is_finite() && secs < 1e12 {
        Duration::from_secs_f64(secs)
    } else {
        Duration::from_secs(u64::from(u32::MAX))
    };
    std::thread::sleep(d);
}

/// `sleep DURATION...`: the durations add up.
pub(crate) fn sleep(args: &[String], io: &mut Io<'_>) -> i32 {
    if args.is_empty() {
        return fail(io, "sleep", "missing operand\nUsage: sleep [N]...");
    }
    let mut total = 0.0;
    for a in args {
        match parse_sleep(a) {
            Some(v) => total += v,
            None => return fail(io, "sleep", format!("invalid number '{a}'")),
        }
    }
    let _ = io.stdout.flush();
    let _ = io.stderr.flush();
    sleep_for(total);
    0
}

/// Splits xargs input into items: blanks separate, quotes and backslashes protect.
fn xargs_items(text: &str) -> Result<Vec<String>, String> {
    let mut items = Vec::new();
    let mut cur = String::new();
    let mut has = false;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' | '\n' | '\r' => {
                if has {
                    items.push(std::mem::take(&mut cur));
                    has = false;
                }
            }
            '\'' | '"' => {
                has = true;
                loop {
                    match chars.next() {
                        Some(q) if q == c => break,
                        Some('\n') | None => {
                            return Err(format!(
                                "unmatched {} quote",
                                if c == '"' { "double" } else { "single" }
                            ));
                        }
                        Some(other) => cur.push(other),
                    }
                }
            }
            '\\' => {
                has = true;
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            other => {
                has = true;
                cur.push(other);
            }
        }
    }
    if has {
        items.push(cur);
    }
    Ok(items)
}

/// `xargs [-n N] [-I REPL] [-d DELIM] [-0] [-r] [-t] [COMMAND [ARG]...]`: runs the toolbox's tools.
pub(crate) fn xargs(args: &[String], sys: &mut Sys, io: &mut Io<'_>) -> i32 {
    let opts = match getopt(args, "0rtxp", "nIdisLPE", true) {
        Ok(o) => o,
        Err(e) => return fail(io, "xargs", e),
    };
    let max_args: Option<usize> = match opts.value('n').or(opts.value('L')) {
        None => None,
        Some(n) => match n.parse::<usize>() {
            Ok(v) if v > 0 => Some(v),
            _ => return fail(io, "xargs", format!("invalid number '{n}'")),
        },
    };
    let replace = opts.value('I').or(opts.value('i')).map(str::to_string);
    let mut data = Vec::new();
    if let Err(e) = io.stdin.read_to_end(&mut data) {
        return fail(io, "xargs", describe(&e));
    }
    let text = String::from_utf8_lossy(&data).into_owned();
    let items: Vec<String> = if opts.has('0') {
        text.split('\0')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()
    } else if let Some(d) = opts.value('d') {
        let (bytes, _) = super::unescape(d, false);
        let delim = char::from(*bytes.first().unwrap_or(&b'\n'));
        let mut v: Vec<String> = text.split(delim).map(str::to_string).collect();
        if v.last().is_some_and(String::is_empty) {
            v.pop();
        }
        v
    } else if replace.is_some() || opts.value('L').is_some() {
        text.lines()
            .map(|l| l.trim_start().to_string())
            .filter(|l| !l.is_empty())
            .collect()
    } else {
        match xargs_items(&text) {
            Ok(v) => v,
            Err(e) => return fail(io, "xargs", e),
        }
    };
    let (cmd, base): (String, Vec<String>) = match opts.operands.split_first() {
        Some((c, rest)) => (c.clone(), rest.to_vec()),
        None => ("echo".to_string(), Vec::new()),
    };
    let mut batches: Vec<Vec<String>> = Vec::new();
    if let Some(r) = &replace {
        for item in &items {
            batches.push(base.iter().map(|a| a.replace(r.as_str(), item)).collect());
        }
    } else if items.is_empty() {
        if !opts.has('r') {
            batches.push(base.clone());
        }
    } else {
        let n = max_args.unwrap_or(usize::MAX);
        for chunk in items.chunks(n.min(items.len()).max(1)) {
            let mut argv = base.clone();
            argv.extend(chunk.iter().cloned());
            batches.push(argv);
        }
    }
    let name = crate::tool_name(&cmd);
    let mut code = 0;
    for argv in batches {
        if opts.has('t') {
            let _ = writeln!(io.stderr, "{cmd} {}", argv.join(" "));
        }
        let mut empty = io::empty();
        let mut sub = Io {
            stdin: &mut empty,
            stdout: &mut *io.stdout,
            stderr: &mut *io.stderr,
        };
        match crate::run(&name, &argv, sys, &mut sub) {
            None => {
                let _ = writeln!(io.stderr, "xargs: {cmd}: No such file or directory");
                return 127;
            }
            Some(255) => {
                let _ = writeln!(io.stderr, "xargs: {cmd}: exited with status 255; aborting");
                return 124;
            }
            Some(0) => {}
            Some(_) => code = 123,
        }
    }
    code
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(strftime("%F %T", 0), "1970-01-01 00:00:00");
        assert_eq!(
            strftime("%a %b %e %H:%M:%S %Z %Y", 1_700_000_000),
            "Tue Nov 14 22:13:20 UTC 2023"
        );
        assert_eq!(
            strftime("%j %u %w %A %B", 951_782_400),
            "060 2 2 Tuesday February"
        );
        assert_eq!(strftime("%F", -86_400), "1969-12-31");
        assert_eq!(
            strftime("%c %U %W", 1_234_567_890),
            "Fri Feb 13 23:31:30 2009 06 06"
        );
        assert_eq!(strftime("%F", 4_102_444_800), "2100-01-01");
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(parse_date("2023-11-14 22:13:20"), Some(1_700_000_000));
        assert_eq!(parse_date("@1700000000"), Some(1_700_000_000));
        assert_eq!(parse_date("garbage"), None);
    }

    #[test]
    fn sleep_durations() {
        assert_eq!(parse_sleep("1.5"), Some(1.5));
        assert_eq!(parse_sleep("2m"), Some(120.0));
        assert_eq!(parse_sleep("1d"), Some(86_400.0));
        assert_eq!(parse_sleep("x"), None);
        assert_eq!(parse_sleep("-1"), None);
    }
}
