//! awk's tokens.

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    Num(f64),
    Str(String),
    Regex(String),
    Name(String),
    /// A name directly followed by `(`: a user function call.
    FuncName(String),
    Builtin(String),
    Begin,
    End,
    Function,
    If,
    Else,
    While,
    For,
    Do,
    Break,
    Continue,
    Next,
    Nextfile,
    Exit,
    Return,
    Delete,
    In,
    Getline,
    Print,
    Printf,
    LBrace,
    RBrace,
    LParen,
    RParen,
    LBracket,
    RBracket,
    Semi,
    Newline,
    Comma,
    Plus,
    Minus,
    Star,
    Slash,
    Percent,
    Caret,
    Not,
    Gt,
    Lt,
    Pipe,
    Question,
    Colon,
    Tilde,
    NoMatch,
    Dollar,
    Assign,
    AddAssign,
    SubAssign,
    MulAssign,
    DivAssign,
    ModAssign,
    PowAssign,
    Eq,
    Le,
    Ge,
    Ne,
    Incr,
    Decr,
    And,
    Or,
    Append,
    Eof,
}

pub(crate) const BUILTINS: &[&str] = &[
    "atan2", "close", "cos", "exp", "fflush", "gsub", "index", "int", "length", "log", "match",
    "rand", "sin", "split", "sprintf", "sqrt", "srand", "sub", "substr", "system", "tolower",
    "toupper",
];

/// Whether a `/` after this token divides (rather than starting a regex).
fn ends_operand(t: &Tok) -> bool {
    matches!(
        t,
        Tok::Num(_)
            | Tok::Str(_)
            | Tok::Regex(_)
            | Tok::Name(_)
            | Tok::Builtin(_)
            | Tok::RParen
            | Tok::RBracket
            | Tok::Dollar
            | Tok::Incr
            | Tok::Decr
    )
}

/// Processes the escapes of an awk string literal (the text between the quotes).
pub(crate) fn string_escapes(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        i += 1;
        if c != '\\' || i >= chars.len() {
            out.push(c);
            continue;
        }
        let e = chars[i];
        i += 1;
        match e {
            'n' => out.push('\n'),
            't' => out.push('\t'),
            'r' => out.push('\r'),
            'a' => out.push('\x07'),
            'b' => out.push('\x08'),
            'f' => out.push('\x0c'),
            'v' => out.push('\x0b'),
            '\\' => out.push('\\'),
            '"' => out.push('"'),
            '/' => out.push('/'),
            '0'..='7' => {
                let mut v = e.to_digit(8).unwrap_or(0);
                let mut n = 1;
                while n < 3 && i < chars.len() && ('0'..='7').contains(&chars[i]) {
                    v = v * 8 + chars[i].to_digit(8).unwrap_or(0);
                    i += 1;
                    n += 1;
                }
                out.push(char::from_u32(v).unwrap_or('\0'));
            }
            other => {
                out.push('\\');
                out.push(other);
            }
        }
    }
    out
}

/// Splits program text into tokens with their line numbers.
pub(crate) fn lex(src: &str) -> Result<Vec<(Tok, usize)>, String> {
    let chars: Vec<char> = src.chars().collect();
    let mut toks: Vec<(Tok, usize)> = Vec::new();
    let mut i = 0;
    let mut line = 1;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '\\' && next == Some('\n') {
            i += 2;
            line += 1;
            continue;
        }
        if c == '\\' && next == Some('\r') && chars.get(i + 2) == Some(&'\n') {
            i += 3;
            line += 1;
            continue;
        }
        if c == ' ' || c == '\t' || c == '\r' {
            i += 1;
            continue;
        }
        if c == '#' {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
            continue;
        }
        if c == '\n' {
            toks.push((Tok::Newline, line));
            line += 1;
            i += 1;
            continue;
        }
        let start_line = line;
        if c.is_ascii_digit() || (c == '.' && next.is_some_and(|d| d.is_ascii_digit())) {
            let start = i;
            if c == '0'
                && matches!(next, Some('x' | 'X'))
                && chars.get(i + 2).is_some_and(char::is_ascii_hexdigit)
            {
                i += 2;
                let hs = i;
                while i < chars.len() && chars[i].is_ascii_hexdigit() {
                    i += 1;
                }
                let text: String = chars[hs..i].iter().collect();
                let v = u64::from_str_radix(&text, 16).unwrap_or(0);
                toks.push((Tok::Num(v as f64), start_line));
                continue;
            }
            while i < chars.len() && chars[i].is_ascii_digit() {
                i += 1;
            }
            if i < chars.len() && chars[i] == '.' {
                i += 1;
                while i < chars.len() && chars[i].is_ascii_digit() {
                    i += 1;
                }
            }
            if i < chars.len() && (chars[i] == 'e' || chars[i] == 'E') {
                let mut j = i + 1;
                if j < chars.len() && (chars[j] == '+' || chars[j] == '-') {
                    j += 1;
                }
                if j < chars.len() && chars[j].is_ascii_digit() {
                    while j < chars.len() && chars[j].is_ascii_digit() {
                        j += 1;
                    }
                    i = j;
                }
            }
            let text: String = chars[start..i].iter().collect();
            toks.push((Tok::Num(text.parse().unwrap_or(0.0)), start_line));
            continue;
        }
        if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            let tok = match word.as_str() {
                "BEGIN" => Tok::Begin,
                "END" => Tok::End,
                "function" | "func" => Tok::Function,
                "if" => Tok::If,
                "else" => Tok::Else,
                "while" => Tok::While,
                "for" => Tok::For,
                "do" => Tok::Do,
                "break" => Tok::Break,
                "continue" => Tok::Continue,
                "next" => Tok::Next,
                "nextfile" => Tok::Nextfile,
                "exit" => Tok::Exit,
                "return" => Tok::Return,
                "delete" => Tok::Delete,
                "in" => Tok::In,
                "getline" => Tok::Getline,
                "print" => Tok::Print,
                "printf" => Tok::Printf,
                w if BUILTINS.contains(&w) => Tok::Builtin(word),
                _ if chars.get(i) == Some(&'(') => Tok::FuncName(word),
                _ => Tok::Name(word),
            };
            toks.push((tok, start_line));
            continue;
        }
        if c == '"' {
            i += 1;
            let start = i;
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' && i + 1 < chars.len() {
                    if chars[i + 1] == '\n' {
                        line += 1;
                    }
                    i += 1;
                } else if chars[i] == '\n' {
                    return Err(format!("line {start_line}: unterminated string"));
                }
                i += 1;
            }
            if i >= chars.len() {
                return Err(format!("line {start_line}: unterminated string"));
            }
            let raw: String = chars[start..i].iter().collect();
            i += 1;
            toks.push((
                Tok::Str(string_escapes(&raw.replace("\\\n", ""))),
                start_line,
            ));
            continue;
        }
        if c == '/' && !toks.last().is_some_and(|(t, _)| ends_operand(t)) {
            i += 1;
            let mut text = String::new();
            let mut in_bracket = false;
            loop {
                let Some(&ch) = chars.get(i) else {
                    return Err(format!(
                        "line {start_line}: unterminated regular expression"
                    ));
                };
                if ch == '\n' {
                    return Err(format!(
                        "line {start_line}: unterminated regular expression"
                    ));
                }
                if ch == '\\' && i + 1 < chars.len() {
                    if chars[i + 1] == '/' {
                        text.push('/');
                    } else {
                        text.push('\\');
                        text.push(chars[i + 1]);
                    }
                    i += 2;
                    continue;
                }
                if ch == '[' && !in_bracket {
                    in_bracket = true;
                    text.push(ch);
                    i += 1;
                    if chars.get(i) == Some(&'^') {
                        text.push('^');
                        i += 1;
                    }
                    if chars.get(i) == Some(&']') {
                        text.push(']');
                        i += 1;
                    }
                    continue;
                }
                if ch == '[' && in_bracket && chars.get(i + 1) == Some(&':') {
                    // [:class:] inside a bracket
                    if let Some(end) = (i + 2..chars.len().saturating_sub(1))
                        .find(|&k| chars[k] == ':' && chars[k + 1] == ']')
                    {
                        text.extend(&chars[i..end + 2]);
                        i = end + 2;
                        continue;
                    }
                }
                if ch == ']' && in_bracket {
                    in_bracket = false;
                }
                if ch == '/' && !in_bracket {
                    i += 1;
                    break;
                }
                text.push(ch);
                i += 1;
            }
            toks.push((Tok::Regex(text), start_line));
            continue;
        }
        let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
        let (tok, len) = match two.as_str() {
            "+=" => (Tok::AddAssign, 2),
            "-=" => (Tok::SubAssign, 2),
            "*=" => (Tok::MulAssign, 2),
            "/=" => (Tok::DivAssign, 2),
            "%=" => (Tok::ModAssign, 2),
            "^=" => (Tok::PowAssign, 2),
            "==" => (Tok::Eq, 2),
            "<=" => (Tok::Le, 2),
            ">=" => (Tok::Ge, 2),
            "!=" => (Tok::Ne, 2),
            "++" => (Tok::Incr, 2),
            "--" => (Tok::Decr, 2),
            "&&" => (Tok::And, 2),
            "||" => (Tok::Or, 2),
            ">>" => (Tok::Append, 2),
            "!~" => (Tok::NoMatch, 2),
            "**" => {
                if chars.get(i + 2) == Some(&'=') {
                    (Tok::PowAssign, 3)
                } else {
                    (Tok::Caret, 2)
                }
            }
            _ => {
                let t = match c {
                    '{' => Tok::LBrace,
                    '}' => Tok::RBrace,
                    '(' => Tok::LParen,
                    ')' => Tok::RParen,
                    '[' => Tok::LBracket,
                    ']' => Tok::RBracket,
                    ';' => Tok::Semi,
                    ',' => Tok::Comma,
                    '+' => Tok::Plus,
                    '-' => Tok::Minus,
                    '*' => Tok::Star,
                    '/' => Tok::Slash,
                    '%' => Tok::Percent,
                    '^' => Tok::Caret,
                    '!' => Tok::Not,
                    '>' => Tok::Gt,
                    '<' => Tok::Lt,
                    '|' => Tok::Pipe,
                    '?' => Tok::Question,
                    ':' => Tok::Colon,
                    '~' => Tok::Tilde,
                    '$' => Tok::Dollar,
                    '=' => Tok::Assign,
                    other => return Err(format!("line {line}: unexpected character '{other}'")),
                };
                (t, 1)
            }
        };
        toks.push((tok, start_line));
        i += len;
    }
    toks.push((Tok::Eof, line));
    Ok(toks)
}
