//! Arithmetic expansion `$((...))`: 64-bit signed integers, C operators, wrapping on overflow.

/// Variables as arithmetic sees them.
pub trait Vars {
    fn get(&mut self, name: &str) -> Result<i64, String>;
    fn set(&mut self, name: &str, value: i64) -> Result<(), String>;
}

#[derive(Debug, Clone, PartialEq)]
enum T {
    Num(i64),
    Name(String),
    Op(&'static str),
}

const OPS: &[&str] = &[
    "<<=", ">>=", "**", "<<", ">>", "<=", ">=", "==", "!=", "&&", "||", "+=", "-=", "*=", "/=",
    "%=", "&=", "|=", "^=", "++", "--", "+", "-", "*", "/", "%", "<", ">", "&", "|", "^", "!", "~",
    "?", ":", "=", "(", ")",
];
const ASSIGN: &[&str] = &[
    "=", "+=", "-=", "*=", "/=", "%=", "<<=", ">>=", "&=", "|=", "^=",
];
const LEVELS: &[&[&str]] = &[
    &["||"],
    &["&&"],
    &["|"],
    &["^"],
    &["&"],
    &["==", "!="],
    &["<", ">", "<=", ">="],
    &["<<", ">>"],
    &["+", "-"],
    &["*", "/", "%"],
];

/// Parses an integer constant as the shell does: decimal, `0x` hex, leading-`0` octal, optional sign.
pub fn parse_number(text: &str) -> Option<i64> {
    let t = text.trim();
    let (neg, t) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let (digits, radix) = if let Some(h) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        (h, 16)
    } else if t.len() > 1 && t.starts_with('0') {
        (&t[1..], 8)
    } else {
        (t, 10)
    };
    if digits.is_empty() {
        return None;
    }
    let mut v: i64 = 0;
    for c in digits.chars() {
        let d = c.to_digit(radix)?;
        v = v.wrapping_mul(i64::from(radix)).wrapping_add(i64::from(d));
    }
    Some(if neg { v.wrapping_neg() } else { v })
}

fn lex(s: &str) -> Result<Vec<T>, String> {
    let chars: Vec<char> = s.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c.is_ascii_alphanumeric() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            if c.is_ascii_digit() {
                out.push(T::Num(
                    parse_number(&word).ok_or_else(|| format!("bad number: {word}"))?,
                ));
            } else {
                out.push(T::Name(word));
            }
        } else {
            let rest: String = chars[i..chars.len().min(i + 3)].iter().collect();
            let op = OPS
                .iter()
                .find(|op| rest.starts_with(**op))
                .ok_or_else(|| format!("syntax error: {s}"))?;
            out.push(T::Op(op));
            i += op.len();
        }
    }
    Ok(out)
}

/// Evaluates an arithmetic expression.
pub fn eval(expr: &str, vars: &mut dyn Vars) -> Result<i64, String> {
    let toks = lex(expr)?;
    if toks.is_empty() {
        return Ok(0);
    }
    let mut p = P {
        toks,
        i: 0,
        vars,
        depth: 0,
        text: expr,
    };
    let v = p.assign(true)?;
    if p.i != p.toks.len() {
        return Err(format!("syntax error: {}", expr.trim()));
    }
    Ok(v)
}

struct P<'v, 't> {
    toks: Vec<T>,
    i: usize,
    vars: &'v mut dyn Vars,
    depth: usize,
    text: &'t str,
}

fn apply(op: &str, l: i64, r: i64) -> Result<i64, String> {
    Ok(match op {
        "+" => l.wrapping_add(r),
        "-" => l.wrapping_sub(r),
        "*" => l.wrapping_mul(r),
        "/" | "%" if r == 0 => return Err("division by zero".to_string()),
        "/" => l.wrapping_div(r),
        "%" => l.wrapping_rem(r),
        "<<" => l.wrapping_shl((r & 63) as u32),
        ">>" => l.wrapping_shr((r & 63) as u32),
        "&" => l & r,
        "|" => l | r,
        "^" => l ^ r,
        "==" => i64::from(l == r),
        "!=" => i64::from(l != r),
        "<" => i64::from(l < r),
        ">" => i64::from(l > r),
        "<=" => i64::from(l <= r),
        ">=" => i64::from(l >= r),
        "&&" => i64::from(l != 0 && r != 0),
        "||" => i64::from(l != 0 || r != 0),
        _ => return Err(format!("bad operator {op}")),
    })
}

impl P<'_, '_> {
    fn peek(&self) -> Option<&T> {
        self.toks.get(self.i)
    }

    fn is_op(&self, op: &str) -> bool {
        matches!(self.peek(), Some(T::Op(o)) if *o == op)
    }

    fn syntax(&self) -> String {
        format!("syntax error: {}", self.text.trim())
    }

    fn assign(&mut self, live: bool) -> Result<i64, String> {
        self.depth += 1;
        if self.depth > 200 {
            return Err("expression nested too deeply".to_string());
        }
        let r = self.assign_inner(live);
        self.depth -= 1;
        r
    }

    fn assign_inner(&mut self, live: bool) -> Result<i64, String> {
        if let (Some(T::Name(name)), Some(T::Op(op))) =
            (self.toks.get(self.i), self.toks.get(self.i + 1))
            && ASSIGN.contains(op)
        {
            let (name, op) = (name.clone(), *op);
            self.i += 2;
            let rhs = self.assign(live)?;
            if !live {
                return Ok(0);
            }
            let v = if op == "=" {
                rhs
            } else {
                apply(&op[..op.len() - 1], self.vars.get(&name)?, rhs)?
            };
            self.vars.set(&name, v)?;
            return Ok(v);
        }
        let c = self.binary(0, live)?;
        if self.is_op("?") {
            self.i += 1;
            let a = self.assign(live && c != 0)?;
            if !self.is_op(":") {
                return Err(self.syntax());
            }
            self.i += 1;
            let b = self.assign(live && c == 0)?;
            return Ok(if c != 0 { a } else { b });
        }
        Ok(c)
    }

    fn binary(&mut self, level: usize, live: bool) -> Result<i64, String> {
        let Some(ops) = LEVELS.get(level) else {
            return self.power(live);
        };
        let mut l = self.binary(level + 1, live)?;
        while let Some(T::Op(op)) = self.peek() {
            let op = *op;
            if !ops.contains(&op) {
                break;
            }
            self.i += 1;
            let r_live = match op {
                "&&" => live && l != 0,
                "||" => live && l == 0,
                _ => live,
            };
            let r = self.binary(level + 1, r_live)?;
            l = if live { apply(op, l, r)? } else { 0 };
        }
        Ok(l)
    }

    fn power(&mut self, live: bool) -> Result<i64, String> {
        let base = self.unary(live)?;
        if self.is_op("**") {
            self.i += 1;
            let exp = self.power(live)?;
            if !live {
                return Ok(0);
            }
            if exp < 0 {
                return Err("exponent less than 0".to_string());
            }
            return Ok(base.wrapping_pow(u32::try_from(exp).unwrap_or(u32::MAX)));
        }
        Ok(base)
    }

    fn unary(&mut self, live: bool) -> Result<i64, String> {
        self.depth += 1;
        if self.depth > 200 {
            return Err("expression nested too deeply".to_string());
        }
        let r = self.unary_inner(live);
        self.depth -= 1;
        r
    }

    fn unary_inner(&mut self, live: bool) -> Result<i64, String> {
        let Some(t) = self.peek().cloned() else {
            return Err(self.syntax());
        };
        self.i += 1;
        match t {
            T::Op("-") => Ok(self.unary(live)?.wrapping_neg()),
            T::Op("+") => self.unary(live),
            T::Op("!") => Ok(i64::from(self.unary(live)? == 0)),
            T::Op("~") => Ok(!self.unary(live)?),
            T::Op(op @ ("++" | "--")) => {
                let Some(T::Name(name)) = self.peek().cloned() else {
                    return Err(self.syntax());
                };
                self.i += 1;
                if !live {
                    return Ok(0);
                }
                let v = self
                    .vars
                    .get(&name)?
                    .wrapping_add(if op == "++" { 1 } else { -1 });
                self.vars.set(&name, v)?;
                Ok(v)
            }
            T::Op("(") => {
                let v = self.assign(live)?;
                if !self.is_op(")") {
                    return Err(self.syntax());
                }
                self.i += 1;
                Ok(v)
            }
            T::Num(n) => Ok(n),
            T::Name(name) => {
                let v = if live { self.vars.get(&name)? } else { 0 };
                if let Some(T::Op(op @ ("++" | "--"))) = self.peek().cloned() {
                    self.i += 1;
                    if live {
                        self.vars
                            .set(&name, v.wrapping_add(if op == "++" { 1 } else { -1 }))?;
                    }
                }
                Ok(v)
            }
            T::Op(_) => Err(self.syntax()),
        }
    }
}
