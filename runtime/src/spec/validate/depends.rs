//! Reads the task names out of a dag `depends` expression (`A && (B.Failed || !C.Skipped)`), checking its
//! shape. Evaluating the expression is `expr`'s job; this only serves validation.

/// A task named in a `depends` expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct DependsRef {
    /// The task's name.
    pub name: String,
    /// Byte offset of the name in the expression.
    pub offset: usize,
}

/// A `depends` expression that cannot be read: what is wrong and at which byte offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct DependsError {
    pub message: String,
    pub offset: usize,
}

/// The results a `depends` name may be qualified with.
pub(super) const RESULTS: &[&str] = &[
    "Succeeded",
    "Failed",
    "Errored",
    "Skipped",
    "Omitted",
    "Daemoned",
    "AnySucceeded",
    "AllFailed",
];

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Name(DependsRef),
    And,
    Or,
    Not,
    Open,
    Close,
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

fn tokenize(expr: &str) -> Result<Vec<(Token, usize)>, DependsError> {
    let mut out = Vec::new();
    let mut chars = expr.char_indices().peekable();
    while let Some(&(i, c)) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '&' | '|' => {
                chars.next();
                match chars.peek() {
                    Some(&(_, d)) if d == c => {
                        chars.next();
                        out.push((if c == '&' { Token::And } else { Token::Or }, i));
                    }
                    _ => {
                        return Err(DependsError {
                            message: format!("`{c}` must be doubled (`{c}{c}`)"),
                            offset: i,
                        });
                    }
                }
            }
            '!' => {
                chars.next();
                out.push((Token::Not, i));
            }
            '(' => {
                chars.next();
                out.push((Token::Open, i));
            }
            ')' => {
                chars.next();
                out.push((Token::Close, i));
            }
            c if is_name_char(c) => {
                let mut end = i;
                while let Some(&(j, d)) = chars.peek() {
                    if !is_name_char(d) {
                        break;
                    }
                    end = j + d.len_utf8();
                    chars.next();
                }
                let name = expr[i..end].to_string();
                if let Some(&(dot, '.')) = chars.peek() {
                    chars.next();
                    let mut rend = dot + 1;
                    while let Some(&(j, d)) = chars.peek() {
                        if !d.is_ascii_alphabetic() {
                            break;
                        }
                        rend = j + d.len_utf8();
                        chars.next();
                    }
                    let result = &expr[dot + 1..rend];
                    if !RESULTS.contains(&result) {
                        return Err(DependsError {
                            message: format!(
                                "unknown task result `.{result}` (use one of .{})",
                                RESULTS.join(", .")
                            ),
                            offset: dot,
                        });
                    }
                }
                out.push((Token::Name(DependsRef { name, offset: i }), i));
            }
            other => {
                return Err(DependsError {
                    message: format!("unexpected `{other}`"),
                    offset: i,
                });
            }
        }
    }
    Ok(out)
}

struct Reader {
    tokens: Vec<(Token, usize)>,
    at: usize,
    end: usize,
    names: Vec<DependsRef>,
}

impl Reader {
    fn offset(&self) -> usize {
        self.tokens.get(self.at).map_or(self.end, |t| t.1)
    }

    fn or(&mut self) -> Result<(), DependsError> {
        self.and()?;
        while matches!(self.tokens.get(self.at), Some((Token::Or, _))) {
            self.at += 1;
            self.and()?;
        }
        Ok(())
    }

    fn and(&mut self) -> Result<(), DependsError> {
        self.unary()?;
        while matches!(self.tokens.get(self.at), Some((Token::And, _))) {
            self.at += 1;
            self.unary()?;
        }
        Ok(())
    }

    fn unary(&mut self) -> Result<(), DependsError> {
        let offset = self.offset();
        match self.tokens.get(self.at).map(|t| t.0.clone()) {
            Some(Token::Not) => {
                self.at += 1;
                self.unary()
            }
            Some(Token::Open) => {
                self.at += 1;
                self.or()?;
                match self.tokens.get(self.at) {
                    Some((Token::Close, _)) => {
                        self.at += 1;
                        Ok(())
                    }
                    _ => Err(DependsError {
                        message: "`(` is not closed".into(),
                        offset,
                    }),
                }
            }
            Some(Token::Name(r)) => {
                self.at += 1;
                self.names.push(r);
                Ok(())
            }
            _ => Err(DependsError {
                message: "expected a task name".into(),
                offset,
            }),
        }
    }
}

/// The task names `expr` refers to, in order (a name may repeat).
///
/// A name is `[A-Za-z0-9_-]+`, optionally followed by one of [`RESULTS`] (`A.Failed`); names are joined
/// by `&&` and `||`, negated by `!`, grouped by parentheses.
pub(super) fn task_names(expr: &str) -> Result<Vec<DependsRef>, DependsError> {
    let tokens = tokenize(expr)?;
    if tokens.is_empty() {
        return Err(DependsError {
            message: "the expression is empty".into(),
            offset: 0,
        });
    }
    let mut reader = Reader {
        tokens,
        at: 0,
        end: expr.len(),
        names: Vec::new(),
    };
    reader.or()?;
    if reader.at < reader.tokens.len() {
        let (token, offset) = &reader.tokens[reader.at];
        let message = match token {
            Token::Close => "`)` has no matching `(`".to_string(),
            Token::Name(_) => "expected `&&` or `||` between task names".to_string(),
            _ => "unexpected operator".to_string(),
        };
        return Err(DependsError {
            message,
            offset: *offset,
        });
    }
    Ok(reader.names)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(expr: &str) -> Vec<String> {
        task_names(expr)
            .unwrap()
            .into_iter()
            .map(|r| r.name)
            .collect()
    }

    #[test]
    fn reads_names_with_results_and_operators() {
        assert_eq!(names("A"), ["A"]);
        assert_eq!(names("A && B"), ["A", "B"]);
        assert_eq!(
            names("(A.Succeeded || B.Failed) && !C.Skipped"),
            ["A", "B", "C"]
        );
        assert_eq!(
            names("flip-coin.AnySucceeded||x_1.AllFailed"),
            ["flip-coin", "x_1"]
        );
        let refs = task_names("A &&  B-2").unwrap();
        assert_eq!(refs[1].offset, 6);
    }

    #[test]
    fn rejects_malformed_expressions() {
        let err = |e: &str| task_names(e).unwrap_err();
        assert_eq!(err("").message, "the expression is empty");
        assert_eq!(err("A & B").message, "`&` must be doubled (`&&`)");
        assert_eq!(
            err("A B").message,
            "expected `&&` or `||` between task names"
        );
        assert_eq!(err("(A || B").message, "`(` is not closed");
        assert_eq!(err("A)").message, "`)` has no matching `(`");
        assert_eq!(err("A &&").message, "expected a task name");
        assert!(
            err("A.Done")
                .message
                .starts_with("unknown task result `.Done`")
        );
        assert_eq!(err("A.Done").offset, 1);
        assert_eq!(err("A + B").message, "unexpected `+`");
    }
}
