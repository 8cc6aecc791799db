//! `when` conditions: evaluating a step's or task's `when` string, after `{{...}}` substitution, exactly
//! as Argo does.
//!
//! Argo hands the substituted string to the Go library govaluate (Knetic/govaluate, pinned at commit
//! 9aa4983, October 2017) in `shouldExecute`, with one twist: once the string has been tokenized, every
//! bare word (govaluate calls it a variable) is turned into a string literal. So:
//!
//! - `heads == heads` is `'heads' == 'heads'`: true; `tails == heads` is false; `Succeeded != Succeeded`
//!   is false. Quoting (`'heads'` or `"heads"`) changes nothing.
//! - `true` and `false` are booleans, numbers are numbers: `5 > 3` compares numbers, `'5' == 5` is false
//!   (a string is never equal to a number), `5 > heads` is an error (`>` wants two numbers or two
//!   strings; two strings compare byte-wise).
//! - A word is letters, digits and `_` after a first letter. A dash is the minus operator: `flip-coin ==
//!   flip-coin` fails ("Value 'flip' cannot be used with the modifier '-', it is not a number"). A dot
//!   makes a field access on a variable that does not exist: `v1.Ready == x` fails. Two words in a row
//!   (`hello world == x`) fail to parse. Quote such values in the workflow: `'{{item}}' == 'hello world'`.
//! - An empty operand fails: `== heads` (`Cannot transition token types from UNKNOWN [<nil>] to
//!   COMPARATOR [==]`), `heads ==` ("Unexpected end of expression"). An empty `when` is true.
//! - `!word` fails (`!` applies to booleans and, once the word is a string, does not even parse).
//! - `=~` and `!~` match a regular expression anywhere in the left string; `in` tests membership in a
//!   parenthesized list: `Error in (Failed, Error)`.
//! - A quoted string that reads as a date or time (`'2024-01-02'`, RFC 3339, ...) is a timestamp, compared
//!   as seconds since the epoch (local time taken as UTC, as in Argo's container).
//! - Precedence, loosest first: `,`; `?:` `??`; `||`; `&&`; comparators (`==` `!=` `<` `<=` `>` `>=` `=~`
//!   `!~` `in`); `|` `&` `^`; `<<` `>>`; `+` `-`; `*` `/` `%`; `**`; prefix `-` `!` `~`. Operators of one
//!   level associate to the left; `&&` and `||` short-circuit.
//!
//! Anything that does not parse or evaluate is an [`ExprError`]; Argo marks the step Error with that
//! message. The evaluator mirrors govaluate's structure (its lexer states, its recursive stage planner,
//! the reordering pass that makes same-level operators left-associative) so that odd inputs behave the
//! same too. `{{=...}}` expressions are not handled here: they are substituted before `when` is read.

use regex::Regex;

use super::error::{ExprError, column};
use super::gofmt;

const CONTEXT: &str = "when";

/// Evaluates a `when` condition (after `{{...}}` substitution) the way Argo does: see the
/// [module documentation](self) for what the words and operators mean. An empty string is `true`.
///
/// # Errors
/// [`ExprError::Syntax`] when the string does not parse (a dangling operator, two words in a row, an
/// unknown symbol, unbalanced parentheses or quotes), [`ExprError::Unparsable`] when it only parses while
/// its bare words are variables (`!word`), [`ExprError::Regex`] for a bad pattern after `=~`/`!~`,
/// [`ExprError::Eval`] when an operator meets an operand of the wrong type (`flip-coin`, `5 > heads`), and
/// [`ExprError::NotBoolean`] when the result is not a boolean (`heads`).
pub fn eval_when(expr: &str) -> Result<bool, ExprError> {
    if expr.is_empty() {
        return Ok(true);
    }
    let syntax = |e: Located| ExprError::Syntax {
        context: CONTEXT,
        expr: expr.to_owned(),
        column: column(expr, e.at),
        message: e.message,
    };
    // First pass: govaluate's own parse, with bare words as variables.
    let mut tokens = lex(expr).map_err(syntax)?;
    check_balance(&tokens, expr.len()).map_err(syntax)?;
    check_syntax(&tokens, expr.len()).map_err(syntax)?;
    compile_patterns(expr, &mut tokens)?;
    // Second pass: Argo turns every variable into a string and parses the tokens again.
    for token in &mut tokens {
        if token.kind == Kind::Variable {
            token.kind = Kind::Str;
        }
    }
    let unparsable = |e: Located| ExprError::Unparsable {
        context: CONTEXT,
        expr: expr.to_owned(),
        column: column(expr, e.at),
        message: e.message,
    };
    check_syntax(&tokens, expr.len()).map_err(unparsable)?;
    compile_patterns(expr, &mut tokens)?;
    // Planning cannot fail differently in the two passes (variables and strings plan alike), so it runs
    // once and its errors read as first-pass errors.
    let mut planner = Planner {
        tokens: &tokens,
        index: 0,
        stages: Vec::new(),
    };
    let root = planner.plan_tokens().map_err(syntax)?;
    let mut stages = planner.stages;
    let Some(root) = root else {
        return Err(ExprError::NotBoolean {
            expr: expr.to_owned(),
            value: "<nil>".to_owned(),
        });
    };
    reorder(&mut stages, root);
    let value = evaluate(&stages, Some(root)).map_err(|e| ExprError::Eval {
        context: CONTEXT,
        expr: expr.to_owned(),
        column: column(expr, e.at),
        message: e.message,
    })?;
    match value {
        Value::Bool(b) => Ok(b),
        other => Err(ExprError::NotBoolean {
            expr: expr.to_owned(),
            value: other.to_string(),
        }),
    }
}

/// A message and the byte offset it is about.
#[derive(Debug)]
struct Located {
    message: String,
    at: usize,
}

fn located(message: impl Into<String>, at: usize) -> Located {
    Located {
        message: message.into(),
        at,
    }
}

// ---------------------------------------------------------------------------------------------------
// Tokens

/// govaluate's token kinds; the names are printed in its messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Unknown,
    Prefix,
    Numeric,
    Boolean,
    Str,
    Pattern,
    Time,
    Variable,
    Separator,
    Accessor,
    Comparator,
    LogicalOp,
    Modifier,
    Clause,
    ClauseClose,
    Ternary,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Unknown => "UNKNOWN",
            Kind::Prefix => "PREFIX",
            Kind::Numeric => "NUMERIC",
            Kind::Boolean => "BOOLEAN",
            Kind::Str => "STRING",
            Kind::Pattern => "PATTERN",
            Kind::Time => "TIME",
            Kind::Variable => "VARIABLE",
            Kind::Separator => "SEPARATOR",
            Kind::Accessor => "ACCESSOR",
            Kind::Comparator => "COMPARATOR",
            Kind::LogicalOp => "LOGICALOP",
            Kind::Modifier => "MODIFIER",
            Kind::Clause => "CLAUSE",
            Kind::ClauseClose => "CLAUSE_CLOSE",
            Kind::Ternary => "TERNARY",
        }
    }

    /// The kinds that may follow this one (govaluate's lexer states).
    fn can_precede(self, next: Kind) -> bool {
        use Kind as K;
        let allowed: &[Kind] = match self {
            K::Unknown => &[
                K::Prefix,
                K::Numeric,
                K::Boolean,
                K::Variable,
                K::Pattern,
                K::Accessor,
                K::Str,
                K::Time,
                K::Clause,
            ],
            K::Clause => &[
                K::Prefix,
                K::Numeric,
                K::Boolean,
                K::Variable,
                K::Pattern,
                K::Accessor,
                K::Str,
                K::Time,
                K::Clause,
                K::ClauseClose,
            ],
            K::ClauseClose => &[
                K::Comparator,
                K::Modifier,
                K::Numeric,
                K::Boolean,
                K::Variable,
                K::Str,
                K::Pattern,
                K::Time,
                K::Clause,
                K::ClauseClose,
                K::LogicalOp,
                K::Ternary,
                K::Separator,
            ],
            K::Numeric | K::Boolean | K::Str | K::Variable => &[
                K::Modifier,
                K::Comparator,
                K::LogicalOp,
                K::ClauseClose,
                K::Ternary,
                K::Separator,
            ],
            K::Time | K::Pattern => &[
                K::Modifier,
                K::Comparator,
                K::LogicalOp,
                K::ClauseClose,
                K::Separator,
            ],
            K::Modifier => &[
                K::Prefix,
                K::Numeric,
                K::Variable,
                K::Accessor,
                K::Str,
                K::Boolean,
                K::Clause,
                K::ClauseClose,
            ],
            K::Comparator => &[
                K::Prefix,
                K::Numeric,
                K::Boolean,
                K::Variable,
                K::Accessor,
                K::Str,
                K::Time,
                K::Clause,
                K::ClauseClose,
                K::Pattern,
            ],
            K::LogicalOp => &[
                K::Prefix,
                K::Numeric,
                K::Boolean,
                K::Variable,
                K::Accessor,
                K::Str,
                K::Time,
                K::Clause,
                K::ClauseClose,
            ],
            K::Prefix => &[
                K::Numeric,
                K::Boolean,
                K::Variable,
                K::Accessor,
                K::Clause,
                K::ClauseClose,
            ],
            K::Ternary => &[
                K::Prefix,
                K::Numeric,
                K::Boolean,
                K::Str,
                K::Time,
                K::Variable,
                K::Accessor,
                K::Clause,
                K::Separator,
            ],
            K::Accessor => &[
                K::Clause,
                K::Modifier,
                K::Comparator,
                K::LogicalOp,
                K::ClauseClose,
                K::Ternary,
                K::Separator,
            ],
            K::Separator => &[
                K::Prefix,
                K::Numeric,
                K::Boolean,
                K::Str,
                K::Time,
                K::Variable,
                K::Accessor,
                K::Clause,
            ],
        };
        allowed.contains(&next)
    }

    /// Whether an expression may end after a token of this kind.
    fn can_end(self) -> bool {
        matches!(
            self,
            Kind::ClauseClose
                | Kind::Numeric
                | Kind::Boolean
                | Kind::Str
                | Kind::Time
                | Kind::Pattern
                | Kind::Variable
                | Kind::Accessor
        )
    }
}

#[derive(Debug, Clone)]
enum TokenValue {
    Number(f64),
    Bool(bool),
    /// Strings, variables and operator symbols.
    Text(String),
    Pattern(Regex),
    /// A timestamp in seconds, with the text it was read from.
    Time(f64, String),
    /// The parts of `a.b.c`.
    Path(Vec<String>),
    Paren(char),
}

impl std::fmt::Display for TokenValue {
    /// As govaluate prints a token's value (`%v`): parentheses print as their code points.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TokenValue::Number(n) => f.write_str(&gofmt::float_v(*n)),
            TokenValue::Bool(b) => write!(f, "{b}"),
            TokenValue::Text(s) | TokenValue::Time(_, s) => f.write_str(s),
            TokenValue::Pattern(re) => f.write_str(re.as_str()),
            TokenValue::Path(parts) => write!(f, "[{}]", parts.join(" ")),
            TokenValue::Paren(c) => write!(f, "{}", u32::from(*c)),
        }
    }
}

#[derive(Debug, Clone)]
struct Token {
    kind: Kind,
    value: TokenValue,
    /// Byte offset in the expression.
    at: usize,
}

impl Token {
    fn text(&self) -> &str {
        match &self.value {
            TokenValue::Text(s) => s,
            _ => "",
        }
    }
}

// ---------------------------------------------------------------------------------------------------
// Lexer

/// A rune stream with govaluate's rewind semantics.
struct Stream {
    chars: Vec<(usize, char)>,
    position: usize,
    end: usize,
}

impl Stream {
    fn new(src: &str) -> Self {
        Stream {
            chars: src.char_indices().collect(),
            position: 0,
            end: src.len(),
        }
    }

    fn can_read(&self) -> bool {
        self.position < self.chars.len()
    }

    fn read(&mut self) -> Option<char> {
        let c = self.chars.get(self.position).map(|&(_, c)| c);
        self.position += 1;
        c
    }

    /// Moves back `n` runes (forward for a negative `n`).
    fn rewind(&mut self, n: isize) {
        self.position = self.position.saturating_add_signed(-n);
    }

    /// Byte offset of the rune at `position`.
    fn offset(&self, position: usize) -> usize {
        self.chars.get(position).map_or(self.end, |&(i, _)| i)
    }

    /// govaluate's `readUntilFalse`: reads runes while `condition` holds; a backslash escapes the next
    /// rune; whitespace ends the read (`break_whitespace`, once something was read) or is kept
    /// (`include_whitespace`) or skipped. Returns the text and whether a terminator was met.
    fn read_until(
        &mut self,
        include_whitespace: bool,
        break_whitespace: bool,
        condition: impl Fn(char) -> bool,
    ) -> Result<(String, bool), Located> {
        let mut buffer = String::new();
        while self.can_read() {
            let at = self.offset(self.position);
            let Some(mut c) = self.read() else { break };
            if c == '\\' {
                c = self
                    .read()
                    .ok_or_else(|| located("Unexpected end of expression after '\\'", at))?;
                buffer.push(c);
                continue;
            }
            if c.is_whitespace() {
                if break_whitespace && !buffer.is_empty() {
                    return Ok((buffer, true));
                }
                if !include_whitespace {
                    continue;
                }
            }
            if condition(c) {
                buffer.push(c);
            } else {
                self.rewind(1);
                return Ok((buffer, true));
            }
        }
        Ok((buffer, false))
    }
}

fn is_digit(c: char) -> bool {
    c.is_numeric()
}

fn is_letter(c: char) -> bool {
    c.is_alphabetic()
}

fn is_numeric_char(c: char) -> bool {
    is_digit(c) || c == '.'
}

fn is_quote(c: char) -> bool {
    c == '\'' || c == '"'
}

fn is_variable_char(c: char) -> bool {
    is_letter(c) || is_digit(c) || c == '_' || c == '.'
}

fn is_symbol_char(c: char) -> bool {
    !is_digit(c) && !is_letter(c) && !matches!(c, '(' | ')' | '[' | ']') && !is_quote(c)
}

const PREFIX_SYMBOLS: &[&str] = &["-", "!", "~"];
const MODIFIER_SYMBOLS: &[&str] = &["+", "-", "*", "/", "%", "**", "&", "|", "^", ">>", "<<"];
const LOGICAL_SYMBOLS: &[&str] = &["&&", "||"];
const COMPARATOR_SYMBOLS: &[&str] = &["==", "!=", ">", ">=", "<", "<=", "=~", "!~", "in"];
const TERNARY_SYMBOLS: &[&str] = &["?", ":", "??"];

/// Splits an expression into tokens (govaluate's `parseTokens`).
fn lex(expr: &str) -> Result<Vec<Token>, Located> {
    let mut stream = Stream::new(expr);
    let mut tokens = Vec::new();
    let mut state = Kind::Unknown;
    while stream.can_read() {
        let Some(token) = read_token(&mut stream, state)? else {
            break;
        };
        state = token.kind;
        tokens.push(token);
    }
    Ok(tokens)
}

fn read_token(stream: &mut Stream, state: Kind) -> Result<Option<Token>, Located> {
    while stream.can_read() {
        let at = stream.offset(stream.position);
        let Some(c) = stream.read() else { break };
        if c.is_whitespace() {
            continue;
        }
        let token = |kind, value| Ok(Some(Token { kind, value, at }));

        if is_numeric_char(c) {
            if c == '0' && stream.can_read() {
                let next = stream.read();
                if stream.can_read() && next == Some('x') {
                    let (hex, _) = stream.read_until(false, true, |c| c.is_ascii_hexdigit())?;
                    return match u64::from_str_radix(&hex, 16) {
                        Ok(n) => token(Kind::Numeric, TokenValue::Number(n as f64)),
                        Err(_) => Err(located(
                            format!("Unable to parse hex value '{hex}' to uint64"),
                            at,
                        )),
                    };
                }
                stream.rewind(1);
            }
            stream.rewind(1);
            let (text, _) = stream.read_until(false, true, is_numeric_char)?;
            return match text.parse::<f64>() {
                Ok(n) if text.chars().all(|c| c.is_ascii_digit() || c == '.') => {
                    token(Kind::Numeric, TokenValue::Number(n))
                }
                _ => Err(located(
                    format!("Unable to parse numeric value '{text}' to float64"),
                    at,
                )),
            };
        }

        if c == ',' {
            return token(Kind::Separator, TokenValue::Text(",".to_owned()));
        }

        if c == '[' {
            let (name, closed) = stream.read_until(true, false, |c| c != ']')?;
            if !closed {
                return Err(located("Unclosed parameter bracket", at));
            }
            stream.rewind(-1);
            return token(Kind::Variable, TokenValue::Text(name));
        }

        if is_letter(c) {
            stream.rewind(1);
            let (word, _) = stream.read_until(false, true, is_variable_char)?;
            let mut kind = Kind::Variable;
            let mut value = TokenValue::Text(word.clone());
            if word == "true" || word == "false" {
                kind = Kind::Boolean;
                value = TokenValue::Bool(word == "true");
            }
            if word == "in" || word == "IN" {
                kind = Kind::Comparator;
                value = TokenValue::Text("in".to_owned());
            }
            if word.contains('.') {
                if word.ends_with('.') {
                    return Err(located(format!("Hanging accessor on token '{word}'"), at));
                }
                let parts: Vec<String> = word.split('.').map(str::to_owned).collect();
                for part in &parts[1..] {
                    if let Some(first) = part.chars().next() {
                        let mut upper = first.to_uppercase();
                        let unchanged = upper.len() != 1 || upper.next() == Some(first);
                        if !unchanged {
                            return Err(located(
                                format!(
                                    "Unable to access unexported field '{part}' in token '{word}'"
                                ),
                                at,
                            ));
                        }
                    }
                }
                kind = Kind::Accessor;
                value = TokenValue::Path(parts);
            }
            return token(kind, value);
        }

        if is_quote(c) {
            let (text, closed) = stream.read_until(true, false, |c| !is_quote(c))?;
            if !closed {
                return Err(located("Unclosed string literal", at));
            }
            stream.rewind(-1);
            return match parse_time(&text) {
                Some(seconds) => token(Kind::Time, TokenValue::Time(seconds as f64, text)),
                None => token(Kind::Str, TokenValue::Text(text)),
            };
        }

        if c == '(' {
            return token(Kind::Clause, TokenValue::Paren(c));
        }
        if c == ')' {
            return token(Kind::ClauseClose, TokenValue::Paren(c));
        }

        stream.rewind(1);
        let (symbol, _) = stream.read_until(false, true, is_symbol_char)?;
        let s = symbol.as_str();
        let kind = if state.can_precede(Kind::Prefix) && PREFIX_SYMBOLS.contains(&s) {
            Kind::Prefix
        } else if MODIFIER_SYMBOLS.contains(&s) {
            Kind::Modifier
        } else if LOGICAL_SYMBOLS.contains(&s) {
            Kind::LogicalOp
        } else if COMPARATOR_SYMBOLS.contains(&s) {
            Kind::Comparator
        } else if TERNARY_SYMBOLS.contains(&s) {
            Kind::Ternary
        } else {
            return Err(located(
                format!(
                    "Invalid token: '{symbol}' (hint: try wrapping the affected expression in quotes (\"))"
                ),
                at,
            ));
        };
        return token(kind, TokenValue::Text(symbol));
    }
    Ok(None)
}

/// Parentheses must pair up (govaluate only counts them; order is checked by the syntax pass).
fn check_balance(tokens: &[Token], end: usize) -> Result<(), Located> {
    let mut open = Vec::new();
    let mut depth = 0_i64;
    let mut stray = None;
    for token in tokens {
        match token.kind {
            Kind::Clause => {
                depth += 1;
                open.push(token.at);
            }
            Kind::ClauseClose => {
                depth -= 1;
                if open.pop().is_none() && stray.is_none() {
                    stray = Some(token.at);
                }
            }
            _ => {}
        }
    }
    if depth != 0 {
        let at = stray.or_else(|| open.last().copied()).unwrap_or(end);
        return Err(located("Unbalanced parenthesis", at));
    }
    Ok(())
}

/// govaluate's `checkExpressionSyntax`: every token must be allowed after the one before it.
fn check_syntax(tokens: &[Token], end: usize) -> Result<(), Located> {
    let mut state = Kind::Unknown;
    let mut last: Option<&Token> = None;
    for token in tokens {
        if !state.can_precede(token.kind) {
            if let Some(last) = last
                && last.kind == Kind::Variable
                && token.kind == Kind::Clause
            {
                return Err(located(
                    format!("Undefined function {}", last.value),
                    token.at,
                ));
            }
            let last_value = last.map_or_else(|| "<nil>".to_owned(), |t| t.value.to_string());
            return Err(located(
                format!(
                    "Cannot transition token types from {} [{last_value}] to {} [{}]",
                    state.name(),
                    token.kind.name(),
                    token.value
                ),
                token.at,
            ));
        }
        state = token.kind;
        last = Some(token);
    }
    if !state.can_end() {
        return Err(located("Unexpected end of expression", end));
    }
    Ok(())
}

/// govaluate's `optimizeTokens`: a string right after `=~` or `!~` is compiled into a pattern.
fn compile_patterns(expr: &str, tokens: &mut [Token]) -> Result<(), ExprError> {
    for i in 0..tokens.len() {
        let is_regex_op =
            tokens[i].kind == Kind::Comparator && matches!(tokens[i].text(), "=~" | "!~");
        if !is_regex_op {
            continue;
        }
        let Some(next) = tokens.get_mut(i + 1) else {
            continue;
        };
        if next.kind != Kind::Str {
            continue;
        }
        let pattern = next.text().to_owned();
        let regex = Regex::new(&pattern).map_err(|source| ExprError::Regex {
            context: CONTEXT,
            expr: expr.to_owned(),
            column: column(expr, next.at),
            pattern: pattern.clone(),
            source,
        })?;
        next.kind = Kind::Pattern;
        next.value = TokenValue::Pattern(regex);
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------------
// Stage planner (govaluate's stagePlanner.go)

/// Operators and leaves of the evaluation tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sym {
    /// A variable: never evaluated here, since Argo turns them into strings.
    Value,
    Literal,
    Noop,
    Eq,
    Neq,
    Gt,
    Lt,
    Gte,
    Lte,
    Req,
    Nreq,
    In,
    And,
    Or,
    Plus,
    Minus,
    BitAnd,
    BitOr,
    BitXor,
    Shl,
    Shr,
    Mul,
    Div,
    Mod,
    Exp,
    Negate,
    Invert,
    BitNot,
    TernaryTrue,
    TernaryFalse,
    Coalesce,
    Separate,
    Access,
}

impl Sym {
    /// How govaluate prints the operator in type errors (`==` really prints as `=`).
    fn text(self) -> &'static str {
        match self {
            Sym::Eq => "=",
            Sym::Neq => "!=",
            Sym::Gt => ">",
            Sym::Lt => "<",
            Sym::Gte => ">=",
            Sym::Lte => "<=",
            Sym::Req => "=~",
            Sym::Nreq => "!~",
            Sym::In => "in",
            Sym::And => "&&",
            Sym::Or => "||",
            Sym::Plus => "+",
            Sym::Minus | Sym::Negate => "-",
            Sym::BitAnd => "&",
            Sym::BitOr => "|",
            Sym::BitXor => "^",
            Sym::Shl => "<<",
            Sym::Shr => ">>",
            Sym::Mul => "*",
            Sym::Div => "/",
            Sym::Mod => "%",
            Sym::Exp => "**",
            Sym::Invert => "!",
            Sym::BitNot => "~",
            Sym::TernaryTrue => "?",
            Sym::TernaryFalse => ":",
            Sym::Coalesce => "??",
            Sym::Value => "VALUE",
            Sym::Noop => "NOOP",
            Sym::Literal | Sym::Separate | Sym::Access => "",
        }
    }

    /// The precedence class used by the reordering pass (`findOperatorPrecedenceForSymbol`).
    fn precedence(self) -> u8 {
        match self {
            Sym::Noop => 0,
            Sym::Value | Sym::Literal | Sym::Access => 1,
            Sym::Negate | Sym::Invert | Sym::BitNot => 3,
            Sym::Exp => 4,
            Sym::Plus | Sym::Minus => 5,
            Sym::BitAnd | Sym::BitOr | Sym::BitXor => 6,
            Sym::Shl | Sym::Shr => 7,
            Sym::Mul | Sym::Div | Sym::Mod => 8,
            Sym::Eq
            | Sym::Neq
            | Sym::Gt
            | Sym::Lt
            | Sym::Gte
            | Sym::Lte
            | Sym::Req
            | Sym::Nreq
            | Sym::In => 9,
            Sym::TernaryTrue | Sym::TernaryFalse | Sym::Coalesce => 10,
            Sym::And => 11,
            Sym::Or => 12,
            Sym::Separate => 13,
        }
    }
}

/// What a stage holds besides its children; the reordering pass swaps these between stages.
#[derive(Debug, Clone)]
struct StageInfo {
    sym: Sym,
    payload: Payload,
    /// Byte offset of the token the stage came from.
    at: usize,
}

#[derive(Debug, Clone)]
enum Payload {
    None,
    Literal(Value),
    Name(String),
    Path(Vec<String>),
}

#[derive(Debug, Clone)]
struct Stage {
    info: StageInfo,
    left: Option<usize>,
    right: Option<usize>,
}

/// The precedence levels of the planner, loosest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Level {
    Separator,
    Ternary,
    LogicalOr,
    LogicalAnd,
    Comparator,
    Bitwise,
    Shift,
    Additive,
    Multiplicative,
    Exponential,
    Prefix,
}

impl Level {
    /// The token kind and the symbols this level takes.
    fn symbol(self, token: &Token) -> Option<Sym> {
        let wanted = match self {
            Level::Separator => Kind::Separator,
            Level::Ternary => Kind::Ternary,
            Level::LogicalOr | Level::LogicalAnd => Kind::LogicalOp,
            Level::Comparator => Kind::Comparator,
            Level::Prefix => Kind::Prefix,
            _ => Kind::Modifier,
        };
        if token.kind != wanted {
            return None;
        }
        let sym = match (self, token.text()) {
            (Level::Separator, ",") => Sym::Separate,
            (Level::Ternary, "?") => Sym::TernaryTrue,
            (Level::Ternary, ":") => Sym::TernaryFalse,
            (Level::Ternary, "??") => Sym::Coalesce,
            (Level::LogicalOr, "||") => Sym::Or,
            (Level::LogicalAnd, "&&") => Sym::And,
            (Level::Comparator, "==") => Sym::Eq,
            (Level::Comparator, "!=") => Sym::Neq,
            (Level::Comparator, ">") => Sym::Gt,
            (Level::Comparator, ">=") => Sym::Gte,
            (Level::Comparator, "<") => Sym::Lt,
            (Level::Comparator, "<=") => Sym::Lte,
            (Level::Comparator, "=~") => Sym::Req,
            (Level::Comparator, "!~") => Sym::Nreq,
            (Level::Comparator, "in") => Sym::In,
            (Level::Bitwise, "^") => Sym::BitXor,
            (Level::Bitwise, "&") => Sym::BitAnd,
            (Level::Bitwise, "|") => Sym::BitOr,
            (Level::Shift, ">>") => Sym::Shr,
            (Level::Shift, "<<") => Sym::Shl,
            (Level::Additive, "+") => Sym::Plus,
            (Level::Additive, "-") => Sym::Minus,
            (Level::Multiplicative, "*") => Sym::Mul,
            (Level::Multiplicative, "/") => Sym::Div,
            (Level::Multiplicative, "%") => Sym::Mod,
            (Level::Exponential, "**") => Sym::Exp,
            (Level::Prefix, "-") => Sym::Negate,
            (Level::Prefix, "!") => Sym::Invert,
            (Level::Prefix, "~") => Sym::BitNot,
            _ => return None,
        };
        Some(sym)
    }

    /// The next tighter level, which parses the left operand (`None` for the prefix level).
    fn tighter(self) -> Option<Level> {
        Some(match self {
            Level::Separator => Level::Ternary,
            Level::Ternary => Level::LogicalOr,
            Level::LogicalOr => Level::LogicalAnd,
            Level::LogicalAnd => Level::Comparator,
            Level::Comparator => Level::Bitwise,
            Level::Bitwise => Level::Shift,
            Level::Shift => Level::Additive,
            Level::Additive => Level::Multiplicative,
            Level::Multiplicative => Level::Exponential,
            Level::Exponential | Level::Prefix => return None,
        })
    }
}

/// govaluate's planner: each level parses a left operand at the next tighter level, then one operator of
/// its own and a right operand at its own level (so it builds right-nested trees, which [`reorder`] then
/// turns left-associative). Like govaluate's token stream, the index is moved back unconditionally when a
/// level finds no operator of its own.
struct Planner<'t> {
    tokens: &'t [Token],
    index: usize,
    stages: Vec<Stage>,
}

type Planned = Result<Option<usize>, Located>;

impl Planner<'_> {
    fn has_next(&self) -> bool {
        self.index < self.tokens.len()
    }

    fn next(&mut self) -> Option<&Token> {
        let token = self.tokens.get(self.index);
        self.index += 1;
        token
    }

    fn rewind(&mut self) {
        self.index = self.index.saturating_sub(1);
    }

    fn push(
        &mut self,
        sym: Sym,
        payload: Payload,
        at: usize,
        left: Option<usize>,
        right: Option<usize>,
    ) -> usize {
        self.stages.push(Stage {
            info: StageInfo { sym, payload, at },
            left,
            right,
        });
        self.stages.len() - 1
    }

    fn plan_tokens(&mut self) -> Planned {
        if !self.has_next() {
            return Ok(None);
        }
        self.plan_level(Level::Separator)
    }

    fn plan_level(&mut self, level: Level) -> Planned {
        let left = match level.tighter() {
            Some(tighter) => self.plan_level(tighter)?,
            None if level == Level::Exponential => self.plan_function()?,
            None => None,
        };
        if self.has_next() {
            let token = self.next().cloned();
            if let Some(token) = token
                && let Some(sym) = level.symbol(&token)
            {
                let right = match level {
                    Level::Prefix => self.plan_function()?,
                    _ => self.plan_level(level)?,
                };
                return Ok(Some(self.push(sym, Payload::None, token.at, left, right)));
            }
        }
        self.rewind();
        Ok(left)
    }

    fn plan_function(&mut self) -> Planned {
        // There are no functions in Argo's `when`; a function token cannot occur.
        self.plan_accessor()
    }

    fn plan_accessor(&mut self) -> Planned {
        if !self.has_next() {
            return Ok(None);
        }
        let Some(token) = self.next().cloned() else {
            return Ok(None);
        };
        let TokenValue::Path(path) = token.value else {
            self.rewind();
            return self.plan_value();
        };
        let mut right = None;
        if self.has_next() {
            let is_call = self.next().is_some_and(|t| t.kind == Kind::Clause);
            self.rewind();
            if is_call {
                right = self.plan_tokens()?;
            }
        }
        Ok(Some(self.push(
            Sym::Access,
            Payload::Path(path),
            token.at,
            None,
            right,
        )))
    }

    fn plan_value(&mut self) -> Planned {
        if !self.has_next() {
            return Ok(None);
        }
        let Some(token) = self.next().cloned() else {
            return Ok(None);
        };
        let literal = |value| Payload::Literal(value);
        let payload = match (&token.kind, token.value.clone()) {
            (Kind::Clause, _) => {
                let inner = self.plan_tokens()?;
                self.next(); // the closing parenthesis
                return Ok(Some(self.push(
                    Sym::Noop,
                    Payload::None,
                    token.at,
                    None,
                    inner,
                )));
            }
            (Kind::ClauseClose, _) => {
                self.rewind();
                return Ok(None);
            }
            (Kind::Prefix, _) => {
                self.rewind();
                return self.plan_level(Level::Prefix);
            }
            (Kind::Variable, TokenValue::Text(name)) => {
                return Ok(Some(self.push(
                    Sym::Value,
                    Payload::Name(name),
                    token.at,
                    None,
                    None,
                )));
            }
            (Kind::Numeric, TokenValue::Number(n)) => literal(Value::Num(n)),
            (Kind::Str, TokenValue::Text(s)) => literal(Value::Str(s)),
            (Kind::Pattern, TokenValue::Pattern(re)) => literal(Value::Pattern(re)),
            (Kind::Boolean, TokenValue::Bool(b)) => literal(Value::Bool(b)),
            (Kind::Time, TokenValue::Time(seconds, _)) => literal(Value::Num(seconds)),
            (kind, value) => {
                return Err(located(
                    format!(
                        "Unable to plan token kind: '{}', value: '{value}'",
                        kind.name()
                    ),
                    token.at,
                ));
            }
        };
        Ok(Some(self.push(Sym::Literal, payload, token.at, None, None)))
    }
}

/// govaluate's `reorderStages`: runs of same-precedence operators down a right spine are mirrored so
/// that they evaluate left to right.
fn reorder(stages: &mut [Stage], root: usize) {
    let mut identical: Vec<usize> = Vec::new();
    let mut precedence = stages[root].info.sym.precedence();
    let mut next = Some(root);
    while let Some(current) = next {
        next = stages[current].right;
        if let Some(left) = stages[current].left {
            reorder(stages, left);
        }
        let current_precedence = stages[current].info.sym.precedence();
        if current_precedence == precedence {
            identical.push(current);
            continue;
        }
        if identical.len() > 1 {
            mirror(stages, &identical);
        }
        identical = vec![current];
        precedence = current_precedence;
    }
    if identical.len() > 1 {
        mirror(stages, &identical);
    }
}

/// govaluate's `mirrorStageSubtree`, step for step.
fn mirror(stages: &mut [Stage], run: &[usize]) {
    let n = run.len();
    for &s in run {
        let stage = &mut stages[s];
        std::mem::swap(&mut stage.left, &mut stage.right);
    }
    let (root, front) = (run[0], run[n - 1]);
    let carry = stages[front].left;
    stages[front].left = stages[root].right;
    stages[root].right = carry;
    for i in 0..((n - 2) / 2 + 1) {
        let (front, inverse) = (run[i + 1], run[n - i - 1]);
        let carry = stages[front].right;
        stages[front].right = stages[inverse].right;
        stages[inverse].right = carry;
    }
    for i in 0..n / 2 {
        let (a, b) = (run[i], run[n - i - 1]);
        let info_a = stages[a].info.clone();
        stages[a].info = std::mem::replace(&mut stages[b].info, info_a);
    }
}

// ---------------------------------------------------------------------------------------------------
// Evaluation

/// A govaluate value.
#[derive(Debug, Clone)]
enum Value {
    Nil,
    Bool(bool),
    Num(f64),
    Str(String),
    List(Vec<Value>),
    Pattern(Regex),
}

impl PartialEq for Value {
    /// Go's `reflect.DeepEqual` on these values: different types are never equal.
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Value::Nil, Value::Nil) => true,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Num(a), Value::Num(b)) => a == b,
            (Value::Str(a), Value::Str(b)) => a == b,
            (Value::List(a), Value::List(b)) => a == b,
            (Value::Pattern(a), Value::Pattern(b)) => a.as_str() == b.as_str(),
            _ => false,
        }
    }
}

impl std::fmt::Display for Value {
    /// Go's `%v`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Value::Nil => f.write_str("<nil>"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Num(n) => f.write_str(&gofmt::float_v(*n)),
            Value::Str(s) => f.write_str(s),
            Value::Pattern(re) => f.write_str(re.as_str()),
            Value::List(items) => {
                f.write_str("[")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" ")?;
                    }
                    write!(f, "{item}")?;
                }
                f.write_str("]")
            }
        }
    }
}

const LOGICAL_ERROR: &str = "cannot be used with the logical operator";
const MODIFIER_ERROR: &str = "cannot be used with the modifier";
const COMPARATOR_ERROR: &str = "cannot be used with the comparator";
const TERNARY_ERROR: &str = "cannot be used with the ternary operator";

fn type_error(value: &Value, sym: Sym, at: usize) -> Located {
    let (phrase, tail) = match sym {
        Sym::And | Sym::Or => (LOGICAL_ERROR, ", it is not a bool"),
        Sym::Gt
        | Sym::Lt
        | Sym::Gte
        | Sym::Lte
        | Sym::Req
        | Sym::Nreq
        | Sym::In
        | Sym::Eq
        | Sym::Neq => (COMPARATOR_ERROR, ", it is not a number"),
        Sym::TernaryTrue | Sym::TernaryFalse | Sym::Coalesce => {
            (TERNARY_ERROR, ", it is not a bool")
        }
        Sym::Negate | Sym::Invert | Sym::BitNot => {
            return located(
                format!(
                    "Value '{value}' cannot be used with the prefix '{}'",
                    sym.text()
                ),
                at,
            );
        }
        _ => (MODIFIER_ERROR, ", it is not a number"),
    };
    located(
        format!("Value '{value}' {phrase} '{}'{tail}", sym.text()),
        at,
    )
}

fn num(value: &Value) -> f64 {
    match value {
        Value::Num(n) => *n,
        _ => 0.0,
    }
}
fn int(value: &Value) -> i64 {
    num(value) as i64
}
fn float(n: i64) -> f64 {
    n as f64
}

/// Checks operand types as govaluate does before it applies an operator.
fn check_types(sym: Sym, left: &Value, right: &Value, at: usize) -> Result<(), Located> {
    let is_num = |v: &Value| matches!(v, Value::Num(_));
    let is_str = |v: &Value| matches!(v, Value::Str(_));
    let is_bool = |v: &Value| matches!(v, Value::Bool(_));
    // The operand that fails the operator's check, left first.
    let first_bad = |left_ok: bool, right_ok: bool| {
        if !left_ok {
            Some(left)
        } else if !right_ok {
            Some(right)
        } else {
            None
        }
    };
    let bad = match sym {
        // Checks on both operands at once report the left one.
        Sym::Gt | Sym::Lt | Sym::Gte | Sym::Lte => first_bad(
            is_num(left) && is_num(right) || is_str(left) && is_str(right),
            true,
        ),
        Sym::Plus => first_bad(
            is_num(left) && is_num(right) || is_str(left) || is_str(right),
            true,
        ),
        Sym::Req | Sym::Nreq => first_bad(
            is_str(left),
            is_str(right) || matches!(right, Value::Pattern(_)),
        ),
        Sym::And | Sym::Or => first_bad(is_bool(left), is_bool(right)),
        Sym::In => first_bad(true, matches!(right, Value::List(_))),
        Sym::Minus
        | Sym::Mul
        | Sym::Div
        | Sym::Mod
        | Sym::Exp
        | Sym::BitAnd
        | Sym::BitOr
        | Sym::BitXor
        | Sym::Shl
        | Sym::Shr => first_bad(is_num(left), is_num(right)),
        Sym::Negate | Sym::BitNot => first_bad(true, is_num(right)),
        Sym::Invert => first_bad(true, is_bool(right)),
        Sym::TernaryTrue => first_bad(is_bool(left), true),
        _ => None,
    };
    match bad {
        Some(value) => Err(type_error(value, sym, at)),
        None => Ok(()),
    }
}

/// govaluate's `evaluateStage`: left first, then short-circuits, then right, then type checks, then the
/// operator.
fn evaluate(stages: &[Stage], stage: Option<usize>) -> Result<Value, Located> {
    let Some(index) = stage else {
        return Ok(Value::Nil);
    };
    let stage = &stages[index];
    let StageInfo { sym, payload, at } = &stage.info;
    let (sym, at) = (*sym, *at);
    let left = match stage.left {
        Some(left) => evaluate(stages, Some(left))?,
        None => Value::Nil,
    };
    let mut skip_right = false;
    match sym {
        Sym::And if left == Value::Bool(false) => return Ok(Value::Bool(false)),
        Sym::Or if left == Value::Bool(true) => return Ok(Value::Bool(true)),
        Sym::Coalesce if left != Value::Nil => return Ok(left),
        Sym::TernaryTrue if left == Value::Bool(false) => skip_right = true,
        Sym::TernaryFalse if left != Value::Nil => skip_right = true,
        _ => {}
    }
    let right = match stage.right {
        Some(right) if !skip_right => evaluate(stages, Some(right))?,
        _ => Value::Nil,
    };
    check_types(sym, &left, &right, at)?;
    let value = match sym {
        Sym::Literal => match payload {
            Payload::Literal(value) => value.clone(),
            _ => Value::Nil,
        },
        Sym::Value => {
            let name = match payload {
                Payload::Name(name) => name.as_str(),
                _ => "",
            };
            return Err(located(format!("No parameter '{name}' found."), at));
        }
        Sym::Access => {
            let first = match payload {
                Payload::Path(path) => path.first().map_or("", String::as_str),
                _ => "",
            };
            return Err(located(format!("No parameter '{first}' found."), at));
        }
        Sym::Noop => right,
        Sym::Eq => Value::Bool(left == right),
        Sym::Neq => Value::Bool(left != right),
        Sym::Gt | Sym::Lt | Sym::Gte | Sym::Lte => {
            let ordering = match (&left, &right) {
                (Value::Str(a), Value::Str(b)) => a.partial_cmp(b),
                _ => num(&left).partial_cmp(&num(&right)),
            };
            let result = match (sym, ordering) {
                (_, None) => false,
                (Sym::Gt, Some(o)) => o.is_gt(),
                (Sym::Lt, Some(o)) => o.is_lt(),
                (Sym::Gte, Some(o)) => o.is_ge(),
                (_, Some(o)) => o.is_le(),
            };
            Value::Bool(result)
        }
        Sym::Req | Sym::Nreq => {
            let subject = match &left {
                Value::Str(s) => s.as_str(),
                _ => "",
            };
            let matched = match &right {
                Value::Pattern(re) => re.is_match(subject),
                Value::Str(pattern) => Regex::new(pattern)
                    .map_err(|e| {
                        located(
                            format!("Unable to compile regexp pattern '{pattern}': {e}"),
                            at,
                        )
                    })?
                    .is_match(subject),
                _ => false,
            };
            Value::Bool(matched == (sym == Sym::Req))
        }
        Sym::And => {
            Value::Bool(matches!(left, Value::Bool(true)) && matches!(right, Value::Bool(true)))
        }
        Sym::Or => {
            Value::Bool(matches!(left, Value::Bool(true)) || matches!(right, Value::Bool(true)))
        }
        Sym::In => {
            let found = match &right {
                Value::List(items) => items.contains(&left),
                _ => false,
            };
            Value::Bool(found)
        }
        Sym::Plus => match (&left, &right) {
            (Value::Num(a), Value::Num(b)) => Value::Num(a + b),
            _ => Value::Str(format!("{left}{right}")),
        },
        Sym::Minus => Value::Num(num(&left) - num(&right)),
        Sym::Mul => Value::Num(num(&left) * num(&right)),
        Sym::Div => Value::Num(num(&left) / num(&right)),
        Sym::Mod => Value::Num(num(&left) % num(&right)),
        Sym::Exp => Value::Num(num(&left).powf(num(&right))),
        Sym::BitAnd => Value::Num(float(int(&left) & int(&right))),
        Sym::BitOr => Value::Num(float(int(&left) | int(&right))),
        Sym::BitXor => Value::Num(float(int(&left) ^ int(&right))),
        Sym::Shl | Sym::Shr => {
            let (a, b) = (int(&left).cast_unsigned(), int(&right).cast_unsigned());
            let shifted = match (sym, u32::try_from(b)) {
                (Sym::Shl, Ok(b)) => a.checked_shl(b).unwrap_or(0),
                (_, Ok(b)) => a.checked_shr(b).unwrap_or(0),
                _ => 0,
            };
            Value::Num(shifted as f64)
        }
        Sym::Negate => Value::Num(-num(&right)),
        Sym::Invert => Value::Bool(!matches!(right, Value::Bool(true))),
        Sym::BitNot => Value::Num(float(!int(&right))),
        Sym::TernaryTrue => {
            if left == Value::Bool(true) {
                right
            } else {
                Value::Nil
            }
        }
        Sym::TernaryFalse | Sym::Coalesce => {
            if left == Value::Nil {
                right
            } else {
                left
            }
        }
        Sym::Separate => match left {
            Value::List(mut items) => {
                items.push(right);
                Value::List(items)
            }
            other => Value::List(vec![other, right]),
        },
    };
    Ok(value)
}

// ---------------------------------------------------------------------------------------------------
// Timestamps in quoted strings (govaluate's `tryParseTime`)

/// One element of a Go time layout.
#[derive(Debug, Clone, Copy)]
enum Layout {
    Lit(&'static str),
    Weekday,
    MonthName,
    UnderDay,
    ZeroDay,
    ZeroMonth,
    Year,
    Hour,
    Hour12,
    Minute,
    Second,
    Fraction,
    Pm,
    ZoneName,
    NumZone,
    NumColonZone,
    IsoZone,
    IsoColonZone,
}

/// The formats govaluate tries, in its order.
#[rustfmt::skip]
const TIME_LAYOUTS: &[&[Layout]] = {
    use Layout::*;
    &[
        // ANSIC: Mon Jan _2 15:04:05 2006
        &[Weekday, Lit(" "), MonthName, Lit(" "), UnderDay, Lit(" "), Hour, Lit(":"), Minute, Lit(":"), Second, Lit(" "), Year],
        // UnixDate: Mon Jan _2 15:04:05 MST 2006
        &[
            Weekday, Lit(" "), MonthName, Lit(" "), UnderDay, Lit(" "), Hour, Lit(":"), Minute, Lit(":"), Second, Lit(" "),
            ZoneName, Lit(" "), Year,
        ],
        // RubyDate: Mon Jan 02 15:04:05 -0700 2006
        &[
            Weekday, Lit(" "), MonthName, Lit(" "), ZeroDay, Lit(" "), Hour, Lit(":"), Minute, Lit(":"), Second, Lit(" "),
            NumZone, Lit(" "), Year,
        ],
        // Kitchen: 3:04PM
        &[Hour12, Lit(":"), Minute, Pm],
        // RFC3339: 2006-01-02T15:04:05Z07:00
        &[Year, Lit("-"), ZeroMonth, Lit("-"), ZeroDay, Lit("T"), Hour, Lit(":"), Minute, Lit(":"), Second, IsoColonZone],
        // RFC3339Nano: 2006-01-02T15:04:05.999999999Z07:00
        &[
            Year, Lit("-"), ZeroMonth, Lit("-"), ZeroDay, Lit("T"), Hour, Lit(":"), Minute, Lit(":"), Second, Fraction,
            IsoColonZone,
        ],
        // 2006-01-02
        &[Year, Lit("-"), ZeroMonth, Lit("-"), ZeroDay],
        // 2006-01-02 15:04
        &[Year, Lit("-"), ZeroMonth, Lit("-"), ZeroDay, Lit(" "), Hour, Lit(":"), Minute],
        // 2006-01-02 15:04:05
        &[Year, Lit("-"), ZeroMonth, Lit("-"), ZeroDay, Lit(" "), Hour, Lit(":"), Minute, Lit(":"), Second],
        // 2006-01-02 15:04:05-07:00
        &[
            Year, Lit("-"), ZeroMonth, Lit("-"), ZeroDay, Lit(" "), Hour, Lit(":"), Minute, Lit(":"), Second, NumColonZone,
        ],
        // 2006-01-02T15Z0700
        &[Year, Lit("-"), ZeroMonth, Lit("-"), ZeroDay, Lit("T"), Hour, IsoZone],
        // 2006-01-02T15:04Z0700
        &[Year, Lit("-"), ZeroMonth, Lit("-"), ZeroDay, Lit("T"), Hour, Lit(":"), Minute, IsoZone],
        // 2006-01-02T15:04:05Z0700
        &[Year, Lit("-"), ZeroMonth, Lit("-"), ZeroDay, Lit("T"), Hour, Lit(":"), Minute, Lit(":"), Second, IsoZone],
        // 2006-01-02T15:04:05.999999999Z0700
        &[
            Year, Lit("-"), ZeroMonth, Lit("-"), ZeroDay, Lit("T"), Hour, Lit(":"), Minute, Lit(":"), Second, Fraction,
            IsoZone,
        ],
    ]
};

/// Seconds since the epoch if `text` reads as a time in one of govaluate's formats.
fn parse_time(text: &str) -> Option<i64> {
    TIME_LAYOUTS
        .iter()
        .find_map(|layout| parse_layout(text, layout))
}

/// Go's `getnum`: one or two digits (exactly two when `fixed`).
fn get_num(value: &str, fixed: bool) -> Option<(i64, &str)> {
    let bytes = value.as_bytes();
    let d0 = *bytes.first().filter(|b| b.is_ascii_digit())?;
    match bytes.get(1).filter(|b| b.is_ascii_digit()) {
        Some(&d1) => Some((
            i64::from(d0 - b'0') * 10 + i64::from(d1 - b'0'),
            &value[2..],
        )),
        None if fixed => None,
        None => Some((i64::from(d0 - b'0'), &value[1..])),
    }
}

/// Go's `lookup` of a three-letter name, case-insensitively.
fn lookup_name<'v>(value: &'v str, names: &[&str]) -> Option<(usize, &'v str)> {
    names.iter().enumerate().find_map(|(i, name)| {
        let head = value.get(..name.len())?;
        head.eq_ignore_ascii_case(name)
            .then(|| (i, &value[name.len()..]))
    })
}

/// A numeric zone offset `+hhmm` (`colon`: `+hh:mm`), in seconds east of UTC.
fn num_zone(value: &str, colon: bool) -> Option<(i64, &str)> {
    let bytes = value.as_bytes();
    let sign = match bytes.first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let (hours, rest) = get_num(value.get(1..)?, true)?;
    let rest = if colon { rest.strip_prefix(':')? } else { rest };
    let (minutes, rest) = get_num(rest, true)?;
    if hours > 24 || minutes > 60 {
        return None;
    }
    Some((sign * (hours * 3600 + minutes * 60), rest))
}

/// A zone abbreviation (`MST`, `UTC`, `GMT+3`): Go accepts it with a zero offset unless it is `GMT±h`.
fn zone_name(value: &str) -> Option<(i64, &str)> {
    if let Some(rest) = value.strip_prefix("UTC") {
        return Some((0, rest));
    }
    if value.starts_with("ChST") || value.starts_with("MeST") {
        return Some((0, &value[4..]));
    }
    if let Some(rest) = value.strip_prefix("GMT") {
        let sign = match rest.as_bytes().first() {
            Some(b'+') => 1,
            Some(b'-') => -1,
            _ => return Some((0, rest)),
        };
        let digits = rest[1..].bytes().take_while(u8::is_ascii_digit).count();
        let hours: i64 = rest[1..1 + digits].parse().ok()?;
        return Some((sign * hours * 3600, &rest[1 + digits..]));
    }
    let upper = value
        .bytes()
        .take(6)
        .take_while(u8::is_ascii_uppercase)
        .count();
    let length = match upper {
        3 => 3,
        4 if value.as_bytes()[3] == b'T' || value.starts_with("WITA") => 4,
        5 if value.as_bytes()[4] == b'T' => 5,
        _ => return None,
    };
    Some((0, &value[length..]))
}

/// Go's `time.Parse` for one layout, in UTC; `None` if `text` does not fit.
fn parse_layout(text: &str, layout: &[Layout]) -> Option<i64> {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
    let (mut year, mut month, mut day) = (0_i64, 1_i64, 1_i64);
    let (mut hour, mut minute, mut second, mut offset) = (0_i64, 0_i64, 0_i64, 0_i64);
    let (mut pm, mut am) = (false, false);
    let mut value = text;
    for (i, element) in layout.iter().enumerate() {
        match *element {
            Layout::Lit(literal) => {
                let mut literal = literal;
                while let Some(c) = literal.chars().next() {
                    if c == ' ' {
                        // A space in the layout matches one or more spaces.
                        if !value.is_empty() && !value.starts_with(' ') {
                            return None;
                        }
                        literal = literal.trim_start_matches(' ');
                        value = value.trim_start_matches(' ');
                        continue;
                    }
                    value = value.strip_prefix(c)?;
                    literal = &literal[c.len_utf8()..];
                }
            }
            Layout::Weekday => value = lookup_name(value, &DAYS)?.1,
            Layout::MonthName => {
                let (index, rest) = lookup_name(value, &MONTHS)?;
                month = i64::try_from(index).ok()? + 1;
                value = rest;
            }
            Layout::UnderDay | Layout::ZeroDay => {
                if matches!(element, Layout::UnderDay) {
                    value = value.strip_prefix(' ').unwrap_or(value);
                }
                (day, value) = get_num(value, matches!(element, Layout::ZeroDay))?;
                if !(0..=31).contains(&day) {
                    return None;
                }
            }
            Layout::ZeroMonth => {
                (month, value) = get_num(value, true)?;
                if !(1..=12).contains(&month) {
                    return None;
                }
            }
            Layout::Year => {
                let head = value.get(..4)?;
                let digits = head.strip_prefix(['+', '-']).unwrap_or(head);
                if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                year = head.parse().ok()?;
                value = &value[4..];
            }
            Layout::Hour => {
                (hour, value) = get_num(value, false)?;
                if hour >= 24 {
                    return None;
                }
            }
            Layout::Hour12 => {
                (hour, value) = get_num(value, false)?;
                if hour > 12 {
                    return None;
                }
            }
            Layout::Minute => {
                (minute, value) = get_num(value, true)?;
                if minute >= 60 {
                    return None;
                }
            }
            Layout::Second => {
                (second, value) = get_num(value, true)?;
                if second >= 60 {
                    return None;
                }
                // Go reads a fraction after the seconds even when the layout has none.
                let fraction_next = matches!(layout.get(i + 1), Some(Layout::Fraction));
                let bytes = value.as_bytes();
                if !fraction_next
                    && bytes.len() >= 2
                    && matches!(bytes[0], b'.' | b',')
                    && bytes[1].is_ascii_digit()
                {
                    let digits = value[1..].bytes().take_while(u8::is_ascii_digit).count();
                    value = &value[1 + digits..];
                }
            }
            Layout::Fraction => {
                let bytes = value.as_bytes();
                if bytes.len() >= 2 && matches!(bytes[0], b'.' | b',') && bytes[1].is_ascii_digit()
                {
                    let digits = value[1..].bytes().take_while(u8::is_ascii_digit).count();
                    value = &value[1 + digits..];
                }
            }
            Layout::Pm => {
                let head = value.get(..2)?;
                match head {
                    "PM" => pm = true,
                    "AM" => am = true,
                    _ => return None,
                }
                value = &value[2..];
            }
            Layout::ZoneName => (offset, value) = zone_name(value)?,
            Layout::NumZone => (offset, value) = num_zone(value, false)?,
            Layout::NumColonZone => (offset, value) = num_zone(value, true)?,
            Layout::IsoZone | Layout::IsoColonZone => {
                if let Some(rest) = value.strip_prefix('Z') {
                    (offset, value) = (0, rest);
                } else {
                    (offset, value) = num_zone(value, matches!(element, Layout::IsoColonZone))?;
                }
            }
        }
    }
    if !value.is_empty() {
        return None;
    }
    if pm && hour < 12 {
        hour += 12;
    } else if am && hour == 12 {
        hour = 0;
    }
    if day < 1 || day > days_in_month(month, year) {
        return None;
    }
    Some(days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second - offset)
}

fn days_in_month(month: i64, year: i64) -> i64 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_index = (month + 9) % 12;
    let day_of_year = (153 * month_index + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    fn when(expr: &str) -> bool {
        match eval_when(expr) {
            Ok(b) => b,
            Err(e) => panic!("{expr:?}: {e}"),
        }
    }

    fn error(expr: &str) -> String {
        match eval_when(expr) {
            Ok(b) => panic!("{expr:?} evaluated to {b}, expected an error"),
            Err(e) => e.to_string(),
        }
    }

    /// Every `when:` in the conformance workflows (core and extended), with the values their
    /// substitutions take.
    #[test]
    fn conformance_when_lines() {
        let table: &[(&str, &str, bool)] = &[
            // coinflip.yaml, coinflip-recursive.yaml, dag-coinflip.yaml, conditional-artifacts.yaml,
            // conditional-parameters.yaml: "{{steps.flip-coin.outputs.result}} == heads" / "== tails"
            ("coinflip heads", "heads == heads", true),
            ("coinflip heads", "heads == tails", false),
            ("coinflip tails", "tails == heads", false),
            ("coinflip tails", "tails == tails", true),
            // dag-conditional-parameters.yaml: "{{tasks.flip-coin.outputs.result}} == heads"
            ("dag coinflip", "tails == heads", false),
            // exit-handlers.yaml: "{{workflow.status}} == Succeeded" / "!= Succeeded"
            ("exit handler ok", "Succeeded == Succeeded", true),
            ("exit handler ok", "Succeeded != Succeeded", false),
            ("exit handler failed", "Failed == Succeeded", false),
            ("exit handler failed", "Failed != Succeeded", true),
            ("exit handler error", "Error != Succeeded", true),
            // parameter-aggregation.yaml: "{{item.evenness}} == even"
            ("aggregation even", "even == even", true),
            ("aggregation odd", "odd == even", false),
            // skipped-output-defaults (core and extended): when: "false"
            ("skipped producer", "false", false),
            // conditionals.yaml: "{{inputs.parameters.should-print}} == true" (govaluate form)
            ("should print", "true == true", true),
            ("should not print", "false == true", false),
            // conditionals.yaml: the two `{{=...}}` forms are substituted to a bare boolean first
            ("expr form true", "true", true),
            ("expr form false", "false", false),
            // the brief's examples: "{{steps.X.outputs.result}} > 5" and '... =~ "^h.*"'
            ("number above", "7 > 5", true),
            ("number below", "3 > 5", false),
            ("number equal", "5 > 5", false),
            ("regex match", "heads =~ \"^h.*\"", true),
            ("regex miss", "tails =~ \"^h.*\"", false),
            ("regex quoted left", "'hello' =~ '^h.*'", true),
        ];
        for (name, expr, want) in table {
            assert_eq!(when(expr), *want, "{name}: {expr}");
        }
    }

    /// Argo's own table (workflow/controller/dag/when_test.go).
    #[test]
    fn argo_should_execute_table() {
        let truths = [
            "foo == foo",
            "'ref/branch/master' == 'ref/branch/master'",
            "foo != bar",
            "1 == 1",
            "1 != 2",
            "1 < 2",
            "1 <= 1",
            "1/2 == 0.5",
            "a < b",
            "(foo == bar) || (foo == foo)",
            "(1 > 0) && (1 < 2)",
            "Error in (Failed, Error)",
            "!(Succeeded in (Failed, Error))",
            "true == true",
            "even == 'even'",
        ];
        for expr in truths {
            assert!(when(expr), "{expr}");
        }
        let falsehoods = [
            "foo != foo",
            "'ref/branch/master' != 'ref/branch/master'",
            "foo == bar",
            "1 != 1",
            "1 == 2",
            "1 > 2",
            "1 <= 0",
            "1/2 != 0.5",
            "a > b",
            "(foo == bar) || (bar == foo)",
            "(1 > 0) && (11 < 2)",
            "Succeeded in (Failed, Error)",
            "!(Error in (Failed, Error))",
            "false == true",
        ];
        for expr in falsehoods {
            assert!(!when(expr), "{expr}");
        }
        assert!(
            error("heads == @tails")
                .contains("(hint: try wrapping the affected expression in quotes (\"))")
        );
        assert!(eval_when("").unwrap_or(false));
    }

    #[test]
    fn words_numbers_and_quotes() {
        let table: &[(&str, bool)] = &[
            ("heads == 'heads'", true),
            ("\"heads\" == heads", true),
            ("'5' == 5", false),
            ("5 == 5.0", true),
            ("05 == 5", true),
            ("'5' == '5'", true),
            ("10 > 9", true),
            ("'10' > '9'", false),
            ("abc < abd", true),
            ("B < a", true),
            ("true == 'true'", false),
            ("True == true", false),
            ("True == True", true),
            ("snake_case == snake_case", true),
            ("x1 == x1", true),
            ("[hello world] == 'hello world'", true),
            ("'hello world' == \"hello world\"", true),
            ("'it\\'s' == \"it\\'s\"", true),
            ("0x10 == 16", true),
            (".5 == 0.5", true),
            ("'café' == café", true),
            ("1 + 2 == 3", true),
            ("'a' + 'b' == ab", true),
            ("'a' + 1 == a1", true),
            ("2 ** 3 == 8", true),
            ("7 % 4 == 3", true),
            ("-1 < 0", true),
            ("5 == -(-5)", true),
            ("3 & 1 == 1", true),
            ("1 << 4 == 16", true),
            ("~0 == -1", true),
        ];
        for (expr, want) in table {
            assert_eq!(when(expr), *want, "{expr}");
        }
    }

    #[test]
    fn precedence_and_associativity() {
        let table: &[(&str, bool)] = &[
            ("true || false && false", true),
            ("false && true || true", true),
            ("true && true || false && false", true),
            ("(true || false) && false", false),
            ("10 - 4 - 3 == 3", true),
            ("1 - 2 + 3 == 2", true),
            ("2 * 3 + 1 == 7", true),
            ("1 + 2 * 3 == 7", true),
            ("16 / 4 / 2 == 2", true),
            ("a == a == true", true),
            ("true ? true : false", true),
            ("false ? false : true", true),
            ("!false && true", true),
            ("!(a == b)", true),
            ("a != b && c == c", true),
            ("1 == 1 && 2 == 2 || 3 == 4", true),
        ];
        for (expr, want) in table {
            assert_eq!(when(expr), *want, "{expr}");
        }
    }

    #[test]
    fn short_circuits_skip_errors() {
        assert!(!when("false && (1 > heads)"));
        assert!(when("true || (1 > heads)"));
        assert!(!when("false && v1.Ready == x"));
        assert!(error("true && (1 > heads)").contains("it is not a number"));
    }

    #[test]
    fn regex_operators() {
        assert!(when("heads !~ '^t'"));
        assert!(when("'a1b2' =~ '[0-9]'"));
        assert!(!when("'a1b2' =~ '^[0-9]'"));
        assert!(when("heads =~ ead"), "a bare word is a pattern too");
        let err = eval_when("x =~ '['");
        assert!(
            matches!(err, Err(ExprError::Regex { ref pattern, .. }) if pattern == "["),
            "{err:?}"
        );
        assert!(error("5 =~ '5'").contains("Value '5' cannot be used with the comparator '=~'"));
    }

    #[test]
    fn timestamps_compare_as_times() {
        assert!(when("'2024-01-02' == '2024-01-02T00:00:00Z'"));
        assert!(when(
            "'2024-01-02T10:00:00+02:00' == '2024-01-02T08:00:00Z'"
        ));
        assert!(when("'2024-01-02' < '2024-01-03 00:00'"));
        assert!(!when(
            "'2024-01-02' == '2024-01-02'  && '2024-02-30' == '2024-03-01'"
        ));
        assert!(when("'3:04PM' == '3:04PM'"));
        assert_eq!(
            parse_time("3:04PM"),
            Some(-719_528 * 86_400 + 15 * 3600 + 4 * 60)
        );
        assert_eq!(parse_time("1970-01-01"), Some(0));
        assert_eq!(parse_time("2000-03-01T00:00:00Z"), Some(951_868_800));
        assert_eq!(parse_time("2024-01-02 03:04:05-01:00"), Some(1_704_168_245));
        assert_eq!(parse_time("Mon Jan  2 15:04:05 2006"), Some(1_136_214_245));
        assert_eq!(
            parse_time("Mon Jan 02 15:04:05 -0700 2006"),
            Some(1_136_239_445)
        );
        assert_eq!(parse_time("2024-02-30"), None);
        assert_eq!(parse_time("heads"), None);
        assert_eq!(parse_time("2024-1-02"), None);
        assert_eq!(parse_time("2024-01-02T15:04:05.123Z"), Some(1_704_207_845));
    }

    #[test]
    fn argo_errors_for_unquoted_odd_values() {
        let cases: &[(&str, &str)] = &[
            // an empty substitution
            (
                "== heads",
                "Cannot transition token types from UNKNOWN [<nil>] to COMPARATOR [==]",
            ),
            ("heads ==", "Unexpected end of expression"),
            ("   ", "Unexpected end of expression"),
            // words with dashes are subtraction
            (
                "flip-coin == flip-coin",
                "Value 'flip' cannot be used with the modifier '-', it is not a number",
            ),
            // words with dots are field accesses
            ("v1.Ready == v1.Ready", "No parameter 'v1' found."),
            (
                "a.b == a.b",
                "Unable to access unexported field 'b' in token 'a.b'",
            ),
            ("foo. == x", "Hanging accessor on token 'foo.'"),
            // two words in a row
            (
                "hello world == x",
                "Cannot transition token types from VARIABLE [hello] to VARIABLE [world]",
            ),
            // numbers and words
            (
                "5 > heads",
                "Value '5' cannot be used with the comparator '>', it is not a number",
            ),
            (
                "5abc == x",
                "Cannot transition token types from NUMERIC [5] to VARIABLE [abc]",
            ),
            (
                "1.2.3 == x",
                "Unable to parse numeric value '1.2.3' to float64",
            ),
            // prefixes on words
            (
                "!heads",
                "Cannot transition token types from PREFIX [!] to STRING [heads]",
            ),
            ("!5", "Value '5' cannot be used with the prefix '!'"),
            // operators
            ("a = b", "Invalid token: '='"),
            ("a==-1", "Invalid token: '==-'"),
            ("a @ b", "Invalid token: '@'"),
            ("(a == b", "Unbalanced parenthesis"),
            ("a == b)", "Unbalanced parenthesis"),
            ("'open", "Unclosed string literal"),
            ("[open", "Unclosed parameter bracket"),
            ("len(x) == 1", "Undefined function len"),
            (
                "heads && tails",
                "Value 'heads' cannot be used with the logical operator '&&', it is not a bool",
            ),
            (
                "x in y",
                "Value 'y' cannot be used with the comparator 'in', it is not a number",
            ),
            (
                "x in (y)",
                "Value 'y' cannot be used with the comparator 'in', it is not a number",
            ),
            (
                "- - 5 == 5",
                "Cannot transition token types from PREFIX [-] to MODIFIER [-]",
            ),
        ];
        for (expr, want) in cases {
            let message = error(expr);
            assert!(message.contains(want), "{expr:?}: {message}");
        }
    }

    #[test]
    fn non_boolean_results() {
        let cases: &[(&str, &str)] = &[
            ("heads", "got heads"),
            ("5", "got 5"),
            ("1000000", "got 1e+06"),
            ("'a', 'b'", "got [a b]"),
            ("()", "got <nil>"),
            ("1 + 1", "got 2"),
        ];
        for (expr, want) in cases {
            let err = eval_when(expr);
            assert!(
                matches!(err, Err(ExprError::NotBoolean { .. })),
                "{expr}: {err:?}"
            );
            let message = error(expr);
            assert!(message.ends_with(want), "{expr}: {message}");
        }
    }

    #[test]
    fn errors_name_the_expression_and_column() {
        let message = error("heads == @tails");
        assert!(
            message.starts_with(
                "invalid 'when' expression 'heads == @tails' at column 10: Invalid token: '@'"
            ),
            "{message}"
        );
        let message = error("flip-coin == x");
        assert!(
            message
                .starts_with("failed to evaluate 'when' expression 'flip-coin == x' at column 5"),
            "{message}"
        );
        let message = error("!heads");
        assert!(
            message.starts_with("failed to parse 'when' expression '!heads' at column 2"),
            "{message}"
        );
    }

    #[test]
    fn govaluate_quirks_are_kept() {
        // Tokens after a closing parenthesis that no operator claims are ignored by govaluate's planner.
        assert!(when("(true) false"));
        // A backslash escapes the next character, even in a bare word.
        assert!(when("hello\\ world == 'hello world'"));
        // A quote of either kind ends a string.
        assert!(error("\"it's\" == x").contains("Unclosed string literal"));
    }
}
