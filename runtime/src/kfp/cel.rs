//! Translating the CEL conditions KFP writes in `triggerPolicy.condition` into Argo `when` expressions.
//!
//! KFP's compiler writes a small part of CEL: comparisons of two operands with `==`, `!=`, `<`, `<=`,
//! `>`, `>=`, where an operand is a task input (`inputs.parameter_values['NAME']`), that wrapped in
//! `int(...)` or `double(...)`, a quoted string, a number, `true` or `false`; `dsl.Elif`/`dsl.Else` add
//! `!(...)` and `&&`, and hand-written IR may use `||` and parentheses. That subset is translated here;
//! anything else is an error that says what is understood.
//!
//! The result is read by Argo's `when` (govaluate, after `{{...}}` substitution, bare words as strings):
//! a task input becomes the `{{...}}` reference of whatever feeds it, quoted (`'{{...}}'`) when it is a
//! string and bare when it is a number or a boolean, so that `int(x) > 5` compares numbers and
//! `x == 'heads'` compares strings.

/// How a task input referenced by a condition is fed: the text that stands for its value in the `when`
/// expression (a `{{...}}` reference or a constant), and its KFP parameter type.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct InputRef {
    /// The value's text in the expression, before quoting.
    pub text: String,
    /// `STRING`, `NUMBER_INTEGER`, `NUMBER_DOUBLE`, `BOOLEAN`, ...
    pub parameter_type: String,
}

/// Translates `condition` into an Argo `when` expression; `input` resolves a task input name.
///
/// # Errors
/// A message for CEL outside the subset, and for an input `input` does not know (its message is kept).
pub(crate) fn to_when(
    condition: &str,
    input: &dyn Fn(&str) -> Result<InputRef, String>,
) -> Result<String, String> {
    let tokens = lex(condition)?;
    let mut parser = Parser {
        src: condition,
        tokens,
        pos: 0,
        input,
    };
    let out = parser.or()?;
    match parser.tokens.get(parser.pos) {
        None => Ok(out.render()),
        Some(t) => Err(parser.unexpected(t)),
    }
}

const UNDERSTOOD: &str = "skiff translates comparisons (==, !=, <, <=, >, >=) of inputs.parameter_values['NAME'], int(...), double(...), quoted strings, numbers and true/false, joined with &&, || and !(...)";

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Str(String),
    Num(String),
    Sym(&'static str),
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    /// Byte offset in the condition.
    at: usize,
}

fn lex(src: &str) -> Result<Vec<Token>, String> {
    const SYMBOLS: &[&str] = &[
        "==", "!=", "<=", ">=", "&&", "||", "<", ">", "!", "(", ")", "[", "]", ".", "-", ",",
    ];
    let mut out = Vec::new();
    let bytes = src.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let at = i;
        if c == b'\'' || c == b'"' {
            let quote = c;
            let mut text = String::new();
            i += 1;
            loop {
                let Some(&b) = bytes.get(i) else {
                    return Err(format!(
                        "the string starting at column {} is not closed",
                        column(src, at)
                    ));
                };
                if b == quote {
                    i += 1;
                    break;
                }
                if b == b'\\' {
                    let Some(&next) = bytes.get(i + 1) else {
                        return Err("a backslash ends the condition".into());
                    };
                    match next {
                        b'\\' | b'\'' | b'"' => text.push(next as char),
                        b'n' => text.push('\n'),
                        b't' => text.push('\t'),
                        _ => {
                            return Err(format!(
                                "the escape `\\{}` at column {} is not supported",
                                next as char,
                                column(src, i)
                            ));
                        }
                    }
                    i += 2;
                    continue;
                }
                // Copy one UTF-8 character.
                let ch = src[i..].chars().next().unwrap_or('\u{fffd}');
                text.push(ch);
                i += ch.len_utf8();
            }
            out.push(Token {
                tok: Tok::Str(text),
                at,
            });
            continue;
        }
        if c.is_ascii_digit() {
            let start = i;
            while i < bytes.len()
                && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'.' || bytes[i] == b'_')
            {
                // An exponent's sign belongs to the number.
                if (bytes[i] == b'e' || bytes[i] == b'E')
                    && matches!(bytes.get(i + 1), Some(b'+') | Some(b'-'))
                {
                    i += 1;
                }
                i += 1;
            }
            let text = &src[start..i];
            let text = text.strip_suffix(['u', 'U']).unwrap_or(text);
            if text.parse::<f64>().is_err() {
                return Err(format!(
                    "`{text}` at column {} is not a number",
                    column(src, at)
                ));
            }
            out.push(Token {
                tok: Tok::Num(text.to_string()),
                at,
            });
            continue;
        }
        if c.is_ascii_alphabetic() || c == b'_' {
            let start = i;
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            out.push(Token {
                tok: Tok::Ident(src[start..i].to_string()),
                at,
            });
            continue;
        }
        match SYMBOLS.iter().find(|s| src[i..].starts_with(**s)) {
            Some(s) => {
                out.push(Token {
                    tok: Tok::Sym(s),
                    at,
                });
                i += s.len();
            }
            None => {
                let ch = src[i..].chars().next().unwrap_or('?');
                return Err(format!(
                    "`{ch}` at column {} is not part of the CEL skiff translates; {UNDERSTOOD}",
                    column(src, at)
                ));
            }
        }
    }
    Ok(out)
}

fn column(src: &str, at: usize) -> usize {
    src[..at.min(src.len())].chars().count() + 1
}

/// A translated piece of the expression.
#[derive(Debug, Clone, PartialEq)]
enum Piece {
    /// A string value: quoted when rendered.
    Text(String),
    /// A number, a boolean, or a whole sub-expression: written as is.
    Raw(String),
}

impl Piece {
    fn render(&self) -> String {
        match self {
            Piece::Raw(s) => s.clone(),
            Piece::Text(s) if !s.contains('\'') => format!("'{s}'"),
            Piece::Text(s) => format!("\"{s}\""),
        }
    }
}

struct Parser<'a> {
    src: &'a str,
    tokens: Vec<Token>,
    pos: usize,
    input: &'a dyn Fn(&str) -> Result<InputRef, String>,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.tokens.get(self.pos).map(|t| &t.tok)
    }

    fn eat(&mut self, sym: &str) -> bool {
        if self.at(sym) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, sym: &str) -> Result<(), String> {
        if self.eat(sym) {
            return Ok(());
        }
        match self.tokens.get(self.pos) {
            Some(t) => Err(format!(
                "expected `{sym}` at column {}, found {}",
                column(self.src, t.at),
                describe(&t.tok)
            )),
            None => Err(format!("expected `{sym}`, found the end of the condition")),
        }
    }

    fn unexpected(&self, t: &Token) -> String {
        format!(
            "unexpected {} at column {}; {UNDERSTOOD}",
            describe(&t.tok),
            column(self.src, t.at)
        )
    }

    fn at(&self, sym: &str) -> bool {
        matches!(self.peek(), Some(Tok::Sym(s)) if *s == sym)
    }

    fn or(&mut self) -> Result<Piece, String> {
        let first = self.and()?;
        if !self.at("||") {
            return Ok(first);
        }
        let mut parts = vec![first.render()];
        while self.eat("||") {
            parts.push(self.and()?.render());
        }
        Ok(Piece::Raw(parts.join(" || ")))
    }

    fn and(&mut self) -> Result<Piece, String> {
        let first = self.unary()?;
        if !self.at("&&") {
            return Ok(first);
        }
        let mut parts = vec![first.render()];
        while self.eat("&&") {
            parts.push(self.unary()?.render());
        }
        Ok(Piece::Raw(parts.join(" && ")))
    }

    fn unary(&mut self) -> Result<Piece, String> {
        if self.eat("!") {
            let inner = self.unary()?.render();
            let wrapped = if inner.starts_with('(') && inner.ends_with(')') {
                inner
            } else {
                format!("({inner})")
            };
            return Ok(Piece::Raw(format!("!{wrapped}")));
        }
        self.comparison()
    }

    fn comparison(&mut self) -> Result<Piece, String> {
        let left = self.operand()?;
        let op = match self.peek() {
            Some(Tok::Sym(s)) if matches!(*s, "==" | "!=" | "<" | "<=" | ">" | ">=") => *s,
            _ => return Ok(Piece::Raw(left.render())),
        };
        self.pos += 1;
        let right = self.operand()?;
        Ok(Piece::Raw(format!(
            "{} {op} {}",
            left.render(),
            right.render()
        )))
    }

    fn operand(&mut self) -> Result<Piece, String> {
        let Some(token) = self.tokens.get(self.pos).cloned() else {
            return Err(format!(
                "the condition ends where a value was expected; {UNDERSTOOD}"
            ));
        };
        self.pos += 1;
        match token.tok.clone() {
            Tok::Sym("(") => {
                let inner = self.or()?.render();
                self.expect(")")?;
                Ok(Piece::Raw(format!("({inner})")))
            }
            Tok::Sym("-") => match self.peek().cloned() {
                Some(Tok::Num(n)) => {
                    self.pos += 1;
                    Ok(Piece::Raw(format!("-{n}")))
                }
                _ => Err(self.unexpected(&token)),
            },
            Tok::Str(s) => Ok(Piece::Text(s)),
            Tok::Num(n) => Ok(Piece::Raw(n)),
            Tok::Ident(id) => match id.as_str() {
                "true" | "false" => Ok(Piece::Raw(id)),
                "int" | "double" | "uint" => {
                    self.expect("(")?;
                    let inner = self.operand_value()?;
                    self.expect(")")?;
                    Ok(Piece::Raw(inner))
                }
                "string" => {
                    self.expect("(")?;
                    let inner = self.operand_value()?;
                    self.expect(")")?;
                    Ok(Piece::Text(inner))
                }
                "bool" => {
                    self.expect("(")?;
                    let inner = self.operand_value()?;
                    self.expect(")")?;
                    Ok(Piece::Raw(inner))
                }
                "inputs" => self.input_reference(&token),
                _ => Err(self.unexpected(&token)),
            },
            _ => Err(self.unexpected(&token)),
        }
    }

    /// The text of an operand inside a conversion: its value, without quotes.
    fn operand_value(&mut self) -> Result<String, String> {
        Ok(match self.operand()? {
            Piece::Text(s) | Piece::Raw(s) => s,
        })
    }

    /// `inputs.parameter_values['NAME']`, the `inputs` already read.
    fn input_reference(&mut self, start: &Token) -> Result<Piece, String> {
        self.expect(".")?;
        match self.peek().cloned() {
            Some(Tok::Ident(field)) if field == "parameter_values" => self.pos += 1,
            Some(Tok::Ident(field)) if field == "artifacts" => {
                return Err(format!(
                    "a condition on an artifact (column {}) is not supported; {UNDERSTOOD}",
                    column(self.src, start.at)
                ));
            }
            _ => return Err(self.unexpected(start)),
        }
        self.expect("[")?;
        let name = match self.peek().cloned() {
            Some(Tok::Str(name)) => {
                self.pos += 1;
                name
            }
            _ => {
                return Err(format!(
                    "expected a quoted input name after `inputs.parameter_values[` (column {})",
                    column(self.src, start.at)
                ));
            }
        };
        self.expect("]")?;
        if matches!(self.peek(), Some(Tok::Sym(".")) | Some(Tok::Sym("["))) {
            return Err(format!(
                "selecting inside inputs.parameter_values['{name}'] (column {}) is not supported; {UNDERSTOOD}",
                column(self.src, start.at)
            ));
        }
        let input = (self.input)(&name)?;
        match input.parameter_type.as_str() {
            "STRING" => Ok(Piece::Text(input.text)),
            "NUMBER_INTEGER" | "NUMBER_DOUBLE" | "BOOLEAN" => Ok(Piece::Raw(input.text)),
            other => Err(format!(
                "input '{name}' is a {other} parameter: skiff's conditions compare strings, numbers and booleans"
            )),
        }
    }
}

fn describe(tok: &Tok) -> String {
    match tok {
        Tok::Ident(s) => format!("`{s}`"),
        Tok::Str(s) => format!("the string '{s}'"),
        Tok::Num(n) => format!("the number {n}"),
        Tok::Sym(s) => format!("`{s}`"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs(name: &str) -> Result<InputRef, String> {
        let (text, ty) = match name {
            "pipelinechannel--flip-coin-Output" => {
                ("{{tasks.flip-coin.outputs.parameters.Output}}", "STRING")
            }
            "n" => ("{{inputs.parameters.n}}", "NUMBER_INTEGER"),
            "acc" => ("{{inputs.parameters.acc}}", "NUMBER_DOUBLE"),
            "ok" => ("{{inputs.parameters.ok}}", "BOOLEAN"),
            "xs" => ("{{inputs.parameters.xs}}", "LIST"),
            _ => return Err(format!("the task has no input '{name}'")),
        };
        Ok(InputRef {
            text: text.into(),
            parameter_type: ty.into(),
        })
    }

    fn when(cel: &str) -> Result<String, String> {
        to_when(cel, &inputs)
    }

    #[test]
    fn kfp_conditions() {
        assert_eq!(
            when("inputs.parameter_values['pipelinechannel--flip-coin-Output'] == 'heads'")
                .unwrap(),
            "'{{tasks.flip-coin.outputs.parameters.Output}}' == 'heads'"
        );
        assert_eq!(
            when("int(inputs.parameter_values['n']) > 5").unwrap(),
            "{{inputs.parameters.n}} > 5"
        );
        assert_eq!(
            when("!(inputs.parameter_values['acc'] > 0.8)").unwrap(),
            "!({{inputs.parameters.acc}} > 0.8)"
        );
        assert_eq!(
            when("!(int(inputs.parameter_values['n']) == 1) && int(inputs.parameter_values['n']) <= -2")
                .unwrap(),
            "!({{inputs.parameters.n}} == 1) && {{inputs.parameters.n}} <= -2"
        );
        assert_eq!(
            when("inputs.parameter_values['ok'] == true || (double(inputs.parameter_values['n']) >= 1.5e3)")
                .unwrap(),
            "{{inputs.parameters.ok}} == true || ({{inputs.parameters.n}} >= 1.5e3)"
        );
        assert_eq!(
            when("inputs.parameter_values[\"pipelinechannel--flip-coin-Output\"] != \"it's\"")
                .unwrap(),
            "'{{tasks.flip-coin.outputs.parameters.Output}}' != \"it's\""
        );
        assert_eq!(
            when("!inputs.parameter_values['ok']").unwrap(),
            "!({{inputs.parameters.ok}})"
        );
    }

    #[test]
    fn translated_conditions_evaluate_in_argo_when() {
        let text = when("int(inputs.parameter_values['n']) > 5")
            .unwrap()
            .replace("{{inputs.parameters.n}}", "7");
        assert!(matches!(crate::expr::eval_when(&text), Ok(true)), "{text}");
        let text = when("!(inputs.parameter_values['acc'] > 0.8)")
            .unwrap()
            .replace("{{inputs.parameters.acc}}", "0.9");
        assert!(matches!(crate::expr::eval_when(&text), Ok(false)), "{text}");
        let text = when("inputs.parameter_values['pipelinechannel--flip-coin-Output'] == 'heads'")
            .unwrap()
            .replace("{{tasks.flip-coin.outputs.parameters.Output}}", "heads");
        assert!(matches!(crate::expr::eval_when(&text), Ok(true)), "{text}");
    }

    #[test]
    fn refuses_what_it_does_not_understand() {
        let err = when("size(inputs.parameter_values['xs']) > 2").unwrap_err();
        assert!(err.contains("unexpected `size` at column 1"), "{err}");
        assert!(err.contains("skiff translates"), "{err}");
        let err = when("inputs.parameter_values['xs'] == '[]'").unwrap_err();
        assert!(err.contains("LIST parameter"), "{err}");
        let err = when("inputs.parameter_values['missing'] == 'x'").unwrap_err();
        assert_eq!(err, "the task has no input 'missing'");
        let err = when("inputs.parameter_values['n'] ==").unwrap_err();
        assert!(err.contains("ends where a value was expected"), "{err}");
        let err = when("inputs.parameter_values['n'] == 1 1").unwrap_err();
        assert!(
            err.contains("unexpected the number 1 at column 35"),
            "{err}"
        );
        let err = when("'unclosed == x").unwrap_err();
        assert!(err.contains("not closed"), "{err}");
        let err = when("inputs.parameter_values['n'] in [1, 2]").unwrap_err();
        assert!(err.contains("`in`"), "{err}");
    }
}
