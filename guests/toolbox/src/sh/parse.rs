//! The parser: reads a whole script into a tree before anything runs. Lexing is done on demand by the
//! parser (the shell's grammar is context-sensitive: reserved words, here-documents, `$(...)`).

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

/// How deeply constructs may nest (lists, quotes, substitutions) before the parser gives up.
pub const MAX_DEPTH: usize = 150;

/// One piece of a word.
#[derive(Debug, Clone)]
pub enum Part {
    /// Unquoted text: subject to pathname expansion (and field splitting inside `${x:-...}`).
    Lit(String),
    /// Quoted text: taken as it is.
    Quoted(String),
    /// A double-quoted group.
    Dq(Vec<Part>),
    /// A parameter expansion.
    Param(Box<Param>),
    /// A command substitution.
    Cmd(Rc<List>),
    /// An arithmetic expansion: the expression text, itself expanded first.
    Arith(Vec<Part>),
}

/// A word: parts that expand into fields.
pub type Word = Vec<Part>;

/// What a parameter expansion does with the value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Plain,
    Len,
    Default,
    Assign,
    Alt,
    Error,
    TrimPrefix { long: bool },
    TrimSuffix { long: bool },
    Replace { all: bool },
    Substr,
}

/// `$name`, `${name...}`.
#[derive(Debug, Clone)]
pub struct Param {
    pub name: String,
    pub op: Op,
    pub colon: bool,
    pub word: Word,
    pub word2: Option<Word>,
}

/// Commands separated by `;`, `&` or newlines.
#[derive(Debug, Default)]
pub struct List(pub Vec<Item>);

#[derive(Debug)]
pub struct Item {
    pub and_or: AndOr,
    pub background: bool,
}

/// Pipelines joined by `&&` (true) and `||` (false).
#[derive(Debug)]
pub struct AndOr {
    pub first: Pipeline,
    pub rest: Vec<(bool, Pipeline)>,
}

#[derive(Debug)]
pub struct Pipeline {
    pub negated: bool,
    pub commands: Vec<Command>,
}

#[derive(Debug)]
pub enum Command {
    Simple(Simple),
    Compound(Box<Compound>, Vec<Redir>),
    Function(String, Rc<Command>),
}

#[derive(Debug)]
pub struct Simple {
    pub assigns: Vec<(String, Word)>,
    pub words: Vec<Word>,
    pub redirs: Vec<Redir>,
    pub line: usize,
}

#[derive(Debug)]
pub enum Compound {
    Brace(List),
    Subshell(List),
    If(Vec<(List, List)>, Option<List>),
    Loop {
        until: bool,
        cond: List,
        body: List,
    },
    For {
        var: String,
        words: Option<Vec<Word>>,
        body: List,
    },
    Case(Word, Vec<(Vec<Word>, List)>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RedirOp {
    In,
    Out,
    Append,
    DupIn,
    DupOut,
    Both,
    BothAppend,
    Here,
    HereString,
    ReadWrite,
}

#[derive(Debug)]
pub struct Redir {
    pub fd: usize,
    pub op: RedirOp,
    pub target: Word,
    /// The body of a here-document, filled in when the parser reaches the end of its line.
    pub here: Option<Rc<RefCell<Word>>>,
}

/// A syntax error (or unsupported syntax), with its line.
#[derive(Debug)]
pub struct SyntaxError {
    pub line: usize,
    pub msg: String,
}

pub type PResult<T> = Result<T, SyntaxError>;

#[derive(Debug, Clone)]
enum Tok {
    Word(Word),
    Op(&'static str),
    IoNum(usize),
    Newline,
    Eof,
}

struct Pending {
    delim: String,
    strip: bool,
    quoted: bool,
    slot: Rc<RefCell<Word>>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Normal,
    Dq,
    Here,
    Brace(Option<char>),
}

const OPS: &[&str] = &[
    "<<<", "<<-", "&>>", ";;", "&&", "||", "&>", ">>", "<<", "<&", ">&", "<>", ">|", "|", "&", ";",
    "<", ">", "(", ")",
];
const REDIR_OPS: &[&str] = &[
    "<<<", "<<-", "&>>", "&>", ">>", "<<", "<&", ">&", "<>", ">|", "<", ">",
];
const LIST_END: &[&str] = &["then", "elif", "else", "fi", "do", "done", "esac", "}"];

/// Parses a whole script. `line` is the line number of its first line, `depth` the nesting it starts at.
pub fn parse(text: &str, line: usize, depth: usize) -> PResult<List> {
    Parser::new(text, line, depth).program()
}

/// The text of a word when it is a single unquoted literal (reserved words, `name=`).
pub fn lit(w: &Word) -> Option<&str> {
    match w.as_slice() {
        [Part::Lit(s)] => Some(s),
        _ => None,
    }
}

pub fn is_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c == '_' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

/// The source-like text of a word, for messages and here-document delimiters.
fn word_text(w: &Word) -> String {
    let mut s = String::new();
    for p in w {
        match p {
            Part::Lit(t) | Part::Quoted(t) => s.push_str(t),
            Part::Dq(inner) => s.push_str(&word_text(inner)),
            Part::Param(p) => {
                s.push('$');
                s.push_str(&p.name);
            }
            Part::Cmd(_) => s.push_str("$(...)"),
            Part::Arith(_) => s.push_str("$((...))"),
        }
    }
    s
}

fn describe(t: &Tok) -> String {
    match t {
        Tok::Word(w) => format!("\"{}\"", word_text(w)),
        Tok::Op(op) => format!("\"{op}\""),
        Tok::IoNum(n) => format!("\"{n}\""),
        Tok::Newline => "newline".to_string(),
        Tok::Eof => "end of file".to_string(),
    }
}

fn is_kw(t: &Tok, kw: &str) -> bool {
    matches!(t, Tok::Word(w) if lit(w) == Some(kw))
}

fn unsupported<T>(line: usize, what: &str) -> PResult<T> {
    Err(SyntaxError {
        line,
        msg: format!("{what} is not supported by skiff's toolbox shell"),
    })
}

struct Parser {
    s: Vec<char>,
    pos: usize,
    line: usize,
    peeked: VecDeque<(Tok, usize)>,
    pending: Vec<Pending>,
    depth: usize,
}

impl Parser {
    fn new(text: &str, line: usize, depth: usize) -> Self {
        Self {
            s: text.chars().collect(),
            pos: 0,
            line,
            peeked: VecDeque::new(),
            pending: Vec::new(),
            depth,
        }
    }

    fn err<T>(&self, msg: impl Into<String>) -> PResult<T> {
        Err(SyntaxError {
            line: self.line,
            msg: msg.into(),
        })
    }

    fn at(&self, k: usize) -> Option<char> {
        self.s.get(self.pos + k).copied()
    }

    fn enter(&mut self) -> PResult<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return self.err("nesting too deep");
        }
        Ok(())
    }

    fn starts_with(&self, op: &str) -> bool {
        op.chars().enumerate().all(|(k, c)| self.at(k) == Some(c))
    }

    // ---- lexer ----

    fn lex(&mut self) -> PResult<(Tok, usize)> {
        loop {
            match self.at(0) {
                Some(' ' | '\t' | '\r') => self.pos += 1,
                Some('\\') if self.at(1) == Some('\n') => {
                    self.pos += 2;
                    self.line += 1;
                }
                Some('#') => {
                    while self.at(0).is_some_and(|c| c != '\n') {
                        self.pos += 1;
                    }
                }
                _ => break,
            }
        }
        let line = self.line;
        let Some(c) = self.at(0) else {
            self.read_heredocs()?;
            return Ok((Tok::Eof, line));
        };
        if c == '\n' {
            self.pos += 1;
            self.line += 1;
            self.read_heredocs()?;
            return Ok((Tok::Newline, line));
        }
        for op in OPS {
            if self.starts_with(op) {
                self.pos += op.len();
                return Ok((Tok::Op(op), line));
            }
        }
        let mut k = 0;
        while self.at(k).is_some_and(|c| c.is_ascii_digit()) {
            k += 1;
        }
        if k > 0 && matches!(self.at(k), Some('<' | '>')) {
            let digits: String = self.s[self.pos..self.pos + k].iter().collect();
            self.pos += k;
            return Ok((Tok::IoNum(digits.parse().unwrap_or(usize::MAX)), line));
        }
        let start = self.pos;
        let w = self.read_parts(Mode::Normal)?;
        if self.pos == start {
            return self.err(format!("syntax error: unexpected \"{c}\""));
        }
        Ok((Tok::Word(w), line))
    }

    fn read_heredocs(&mut self) -> PResult<()> {
        for p in std::mem::take(&mut self.pending) {
            let first_line = self.line;
            let mut body = String::new();
            while self.pos < self.s.len() {
                let start = self.pos;
                while self.at(0).is_some_and(|c| c != '\n') {
                    self.pos += 1;
                }
                let mut text: String = self.s[start..self.pos].iter().collect();
                if self.pos < self.s.len() {
                    self.pos += 1;
                }
                self.line += 1;
                if p.strip {
                    text = text.trim_start_matches('\t').to_string();
                }
                if text == p.delim || text.strip_suffix('\r') == Some(p.delim.as_str()) {
                    break;
                }
                body.push_str(&text);
                body.push('\n');
            }
            let word = if p.quoted {
                vec![Part::Quoted(body)]
            } else {
                let mut sub = Parser::new(&body, first_line, self.depth + 1);
                sub.read_parts(Mode::Here)?
            };
            *p.slot.borrow_mut() = word;
        }
        Ok(())
    }

    fn read_parts(&mut self, mode: Mode) -> PResult<Word> {
        let mut parts = Vec::new();
        let mut lit = String::new();
        let quoted_lit = matches!(mode, Mode::Dq | Mode::Here);
        let flush = |parts: &mut Vec<Part>, lit: &mut String| {
            if !lit.is_empty() {
                let text = std::mem::take(lit);
                parts.push(if quoted_lit {
                    Part::Quoted(text)
                } else {
                    Part::Lit(text)
                });
            }
        };
        loop {
            let Some(c) = self.at(0) else {
                match mode {
                    Mode::Dq => return self.err("syntax error: unterminated quoted string"),
                    Mode::Brace(_) => return self.err("syntax error: missing '}'"),
                    _ => break,
                }
            };
            let stop = match mode {
                Mode::Normal => matches!(
                    c,
                    ' ' | '\t' | '\r' | '\n' | '|' | '&' | ';' | '<' | '>' | '(' | ')'
                ),
                Mode::Dq => c == '"',
                Mode::Here => false,
                Mode::Brace(extra) => c == '}' || Some(c) == extra,
            };
            if stop {
                break;
            }
            let unquoted = matches!(mode, Mode::Normal | Mode::Brace(_));
            match c {
                '\\' => {
                    let Some(n) = self.at(1) else {
                        lit.push('\\');
                        self.pos += 1;
                        continue;
                    };
                    if n == '\n' {
                        self.pos += 2;
                        self.line += 1;
                        continue;
                    }
                    let escapes = match mode {
                        Mode::Normal | Mode::Brace(_) => true,
                        Mode::Dq => matches!(n, '$' | '`' | '"' | '\\'),
                        Mode::Here => matches!(n, '$' | '`' | '\\'),
                    };
                    if escapes {
                        flush(&mut parts, &mut lit);
                        parts.push(Part::Quoted(n.to_string()));
                        self.pos += 2;
                    } else {
                        lit.push('\\');
                        self.pos += 1;
                    }
                }
                '\'' if unquoted => {
                    self.pos += 1;
                    let start = self.pos;
                    while self.at(0).is_some_and(|c| c != '\'') {
                        if self.at(0) == Some('\n') {
                            self.line += 1;
                        }
                        self.pos += 1;
                    }
                    if self.at(0).is_none() {
                        return self.err("syntax error: unterminated quoted string");
                    }
                    let text: String = self.s[start..self.pos].iter().collect();
                    self.pos += 1;
                    flush(&mut parts, &mut lit);
                    parts.push(Part::Quoted(text));
                }
                '"' if unquoted => {
                    self.pos += 1;
                    self.enter()?;
                    let inner = self.read_parts(Mode::Dq)?;
                    self.depth -= 1;
                    self.pos += 1;
                    flush(&mut parts, &mut lit);
                    parts.push(Part::Dq(inner));
                }
                '$' => match self.dollar(mode)? {
                    Some(p) => {
                        flush(&mut parts, &mut lit);
                        parts.push(p);
                    }
                    None => {
                        lit.push('$');
                        self.pos += 1;
                    }
                },
                '`' => {
                    flush(&mut parts, &mut lit);
                    let p = self.backtick(mode)?;
                    parts.push(p);
                }
                _ => {
                    if c == '\n' {
                        self.line += 1;
                    }
                    lit.push(c);
                    self.pos += 1;
                }
            }
        }
        flush(&mut parts, &mut lit);
        Ok(parts)
    }

    fn dollar(&mut self, mode: Mode) -> PResult<Option<Part>> {
        let plain = |name: String| {
            Part::Param(Box::new(Param {
                name,
                op: Op::Plain,
                colon: false,
                word: Vec::new(),
                word2: None,
            }))
        };
        match self.at(1) {
            Some('{') => {
                self.pos += 2;
                self.enter()?;
                let p = self.braced()?;
                self.depth -= 1;
                Ok(Some(Part::Param(Box::new(p))))
            }
            Some('(') => {
                if self.at(2) == Some('(')
                    && let Some(p) = self.arith()?
                {
                    return Ok(Some(p));
                }
                self.pos += 2;
                self.enter()?;
                let saved = std::mem::take(&mut self.peeked);
                let list = self.list()?;
                let (t, line) = self.next()?;
                if !matches!(t, Tok::Op(")")) {
                    return Err(SyntaxError {
                        line,
                        msg: format!("syntax error: unexpected {}", describe(&t)),
                    });
                }
                self.peeked = saved;
                self.depth -= 1;
                Ok(Some(Part::Cmd(Rc::new(list))))
            }
            Some('\'') if matches!(mode, Mode::Normal | Mode::Brace(_)) => {
                self.pos += 2;
                let mut text = String::new();
                loop {
                    match self.at(0) {
                        None => return self.err("syntax error: unterminated quoted string"),
                        Some('\'') => break,
                        Some('\\') => {
                            let n = self.at(1).unwrap_or('\\');
                            self.pos += 1;
                            text.push(match n {
                                'n' => '\n',
                                't' => '\t',
                                'r' => '\r',
                                'a' => '\x07',
                                'b' => '\x08',
                                'e' | 'E' => '\x1b',
                                'v' => '\x0b',
                                'f' => '\x0c',
                                other => other,
                            });
                        }
                        Some(c) => text.push(c),
                    }
                    self.pos += 1;
                }
                self.pos += 1;
                Ok(Some(Part::Quoted(text)))
            }
            Some(c) if c == '_' || c.is_ascii_alphabetic() => {
                self.pos += 1;
                let start = self.pos;
                while self
                    .at(0)
                    .is_some_and(|c| c == '_' || c.is_ascii_alphanumeric())
                {
                    self.pos += 1;
                }
                Ok(Some(plain(self.s[start..self.pos].iter().collect())))
            }
            Some(c) if c.is_ascii_digit() || "@*#?$!-".contains(c) => {
                self.pos += 2;
                Ok(Some(plain(c.to_string())))
            }
            _ => Ok(None),
        }
    }

    /// `$((...))`; `None` when the parentheses do not close as `))` (then it is `$( (...) )`).
    fn arith(&mut self) -> PResult<Option<Part>> {
        let mut k = 3;
        let mut depth = 0usize;
        loop {
            match self.at(k) {
                None => return self.err("syntax error: missing '))'"),
                Some('(') => depth += 1,
                Some(')') if depth == 0 => {
                    if self.at(k + 1) == Some(')') {
                        break;
                    }
                    return Ok(None);
                }
                Some(')') => depth -= 1,
                _ => {}
            }
            k += 1;
        }
        let text: String = self.s[self.pos + 3..self.pos + k].iter().collect();
        let mut sub = Parser::new(&text, self.line, self.depth + 1);
        let word = sub.read_parts(Mode::Here)?;
        self.line = sub.line;
        self.pos += k + 2;
        Ok(Some(Part::Arith(word)))
    }

    fn braced(&mut self) -> PResult<Param> {
        let special = |c: char| "@*#?$!-".contains(c);
        let mut op = Op::Plain;
        if self.at(0) == Some('#')
            && self.at(1).is_some_and(|c| {
                c == '_' || c.is_ascii_alphanumeric() || (special(c) && self.at(2) == Some('}'))
            })
        {
            op = Op::Len;
            self.pos += 1;
        }
        let start = self.pos;
        match self.at(0) {
            Some(c) if c == '_' || c.is_ascii_alphabetic() => {
                while self
                    .at(0)
                    .is_some_and(|c| c == '_' || c.is_ascii_alphanumeric())
                {
                    self.pos += 1;
                }
            }
            Some(c) if c.is_ascii_digit() => {
                while self.at(0).is_some_and(|c| c.is_ascii_digit()) {
                    self.pos += 1;
                }
            }
            Some(c) if special(c) => self.pos += 1,
            _ => return self.err("syntax error: bad substitution"),
        }
        let name: String = self.s[start..self.pos].iter().collect();
        let mut p = Param {
            name,
            op,
            colon: false,
            word: Vec::new(),
            word2: None,
        };
        if op == Op::Len {
            if self.at(0) != Some('}') {
                return self.err("syntax error: bad substitution");
            }
            self.pos += 1;
            return Ok(p);
        }
        let c = self.at(0);
        let two = self.at(1);
        match c {
            Some('}') => {
                self.pos += 1;
                return Ok(p);
            }
            Some(':') if matches!(two, Some('-' | '=' | '+' | '?')) => {
                p.colon = true;
                self.pos += 1;
                return self.param_op(p);
            }
            Some(':') => {
                self.pos += 1;
                p.op = Op::Substr;
                p.word = self.read_parts(Mode::Brace(Some(':')))?;
                if self.at(0) == Some(':') {
                    self.pos += 1;
                    p.word2 = Some(self.read_parts(Mode::Brace(None))?);
                }
            }
            Some('-' | '=' | '+' | '?') => return self.param_op(p),
            Some('#' | '%') => {
                let long = two == c;
                self.pos += if long { 2 } else { 1 };
                p.op = if c == Some('#') {
                    Op::TrimPrefix { long }
                } else {
                    Op::TrimSuffix { long }
                };
                p.word = self.read_parts(Mode::Brace(None))?;
            }
            Some('/') => {
                let all = two == Some('/');
                self.pos += if all { 2 } else { 1 };
                p.op = Op::Replace { all };
                p.word = self.read_parts(Mode::Brace(Some('/')))?;
                if self.at(0) == Some('/') {
                    self.pos += 1;
                    p.word2 = Some(self.read_parts(Mode::Brace(None))?);
                }
            }
            _ => return self.err("syntax error: bad substitution"),
        }
        self.pos += 1;
        Ok(p)
    }

    fn param_op(&mut self, mut p: Param) -> PResult<Param> {
        p.op = match self.at(0) {
            Some('-') => Op::Default,
            Some('=') => Op::Assign,
            Some('+') => Op::Alt,
            _ => Op::Error,
        };
        self.pos += 1;
        p.word = self.read_parts(Mode::Brace(None))?;
        self.pos += 1;
        Ok(p)
    }

    fn backtick(&mut self, mode: Mode) -> PResult<Part> {
        self.pos += 1;
        let line = self.line;
        let mut text = String::new();
        loop {
            match self.at(0) {
                None => return self.err("syntax error: unterminated backquote"),
                Some('`') => {
                    self.pos += 1;
                    break;
                }
                Some('\\') => match self.at(1) {
                    Some(n) if matches!(n, '$' | '`' | '\\') || (n == '"' && mode == Mode::Dq) => {
                        text.push(n);
                        self.pos += 2;
                    }
                    _ => {
                        text.push('\\');
                        self.pos += 1;
                    }
                },
                Some(c) => {
                    if c == '\n' {
                        self.line += 1;
                    }
                    text.push(c);
                    self.pos += 1;
                }
            }
        }
        let list = parse(&text, line, self.depth + 1)?;
        Ok(Part::Cmd(Rc::new(list)))
    }

    // ---- token stream ----

    fn peek_n(&mut self, n: usize) -> PResult<Tok> {
        while self.peeked.len() <= n {
            let t = self.lex()?;
            self.peeked.push_back(t);
        }
        Ok(self.peeked[n].0.clone())
    }

    fn peek(&mut self) -> PResult<Tok> {
        self.peek_n(0)
    }

    fn peek_line(&mut self) -> PResult<usize> {
        self.peek_n(0)?;
        Ok(self.peeked[0].1)
    }

    fn next(&mut self) -> PResult<(Tok, usize)> {
        match self.peeked.pop_front() {
            Some(t) => Ok(t),
            None => self.lex(),
        }
    }

    fn unexpected<T>(&mut self) -> PResult<T> {
        let (t, line) = self.next()?;
        Err(SyntaxError {
            line,
            msg: format!("syntax error: unexpected {}", describe(&t)),
        })
    }

    fn expect_kw(&mut self, kw: &str) -> PResult<()> {
        if is_kw(&self.peek()?, kw) {
            self.next()?;
            Ok(())
        } else {
            self.unexpected()
        }
    }

    fn expect_op(&mut self, op: &str) -> PResult<()> {
        if matches!(self.peek()?, Tok::Op(o) if o == op) {
            self.next()?;
            Ok(())
        } else {
            self.unexpected()
        }
    }

    fn skip_newlines(&mut self) -> PResult<()> {
        while matches!(self.peek()?, Tok::Newline) {
            self.next()?;
        }
        Ok(())
    }

    // ---- grammar ----

    fn program(&mut self) -> PResult<List> {
        let list = self.list()?;
        match self.peek()? {
            Tok::Eof => Ok(list),
            _ => self.unexpected(),
        }
    }

    fn list(&mut self) -> PResult<List> {
        self.enter()?;
        let mut items = Vec::new();
        loop {
            self.skip_newlines()?;
            match self.peek()? {
                Tok::Eof | Tok::Op(")" | ";;") => break,
                Tok::Word(w) if lit(&w).is_some_and(|s| LIST_END.contains(&s)) => break,
                _ => {}
            }
            let and_or = self.and_or()?;
            let mut background = false;
            match self.peek()? {
                Tok::Op("&") => {
                    self.next()?;
                    background = true;
                }
                Tok::Op(";") => {
                    self.next()?;
                }
                Tok::Newline => {}
                _ => {
                    items.push(Item { and_or, background });
                    break;
                }
            }
            items.push(Item { and_or, background });
        }
        self.depth -= 1;
        Ok(List(items))
    }

    /// A list that must hold at least one command (bodies of compound commands).
    fn body(&mut self) -> PResult<List> {
        let list = self.list()?;
        if list.0.is_empty() {
            return self.unexpected();
        }
        Ok(list)
    }

    fn and_or(&mut self) -> PResult<AndOr> {
        let first = self.pipeline()?;
        let mut rest = Vec::new();
        while let Tok::Op(op @ ("&&" | "||")) = self.peek()? {
            self.next()?;
            self.skip_newlines()?;
            rest.push((op == "&&", self.pipeline()?));
        }
        Ok(AndOr { first, rest })
    }

    fn pipeline(&mut self) -> PResult<Pipeline> {
        let mut negated = false;
        if is_kw(&self.peek()?, "!") {
            self.next()?;
            negated = true;
        }
        let mut commands = vec![self.command()?];
        while matches!(self.peek()?, Tok::Op("|")) {
            self.next()?;
            self.skip_newlines()?;
            commands.push(self.command()?);
        }
        Ok(Pipeline { negated, commands })
    }

    fn command(&mut self) -> PResult<Command> {
        let line = self.peek_line()?;
        let compound = match self.peek()? {
            Tok::Word(w) => match lit(&w) {
                Some("if") => self.if_clause()?,
                Some(kw @ ("while" | "until")) => {
                    self.next()?;
                    let cond = self.body()?;
                    self.expect_kw("do")?;
                    let body = self.body()?;
                    self.expect_kw("done")?;
                    Compound::Loop {
                        until: kw == "until",
                        cond,
                        body,
                    }
                }
                Some("for") => self.for_clause()?,
                Some("case") => self.case_clause()?,
                Some("{") => {
                    self.next()?;
                    let list = self.body()?;
                    self.expect_kw("}")?;
                    Compound::Brace(list)
                }
                Some("function") => {
                    self.next()?;
                    let (t, line) = self.next()?;
                    let name = match &t {
                        Tok::Word(w) => lit(w).filter(|n| is_name(n)).map(str::to_string),
                        _ => None,
                    };
                    let Some(name) = name else {
                        return Err(SyntaxError {
                            line,
                            msg: format!("syntax error: unexpected {}", describe(&t)),
                        });
                    };
                    if matches!(self.peek()?, Tok::Op("(")) {
                        self.next()?;
                        self.expect_op(")")?;
                    }
                    return self.function_body(name);
                }
                Some("[[") => return unsupported(line, "[[ ... ]]"),
                Some("select") => return unsupported(line, "select"),
                Some(k) if LIST_END.contains(&k) || k == "!" => return self.unexpected(),
                _ => return self.simple(),
            },
            Tok::Op("(") => {
                self.next()?;
                if self.at(0) == Some('(') && matches!(self.peek()?, Tok::Op("(")) {
                    return unsupported(line, "((...)) arithmetic command");
                }
                let list = self.body()?;
                self.expect_op(")")?;
                Compound::Subshell(list)
            }
            Tok::Op(op) if REDIR_OPS.contains(&op) => return self.simple(),
            Tok::IoNum(_) => return self.simple(),
            _ => return self.unexpected(),
        };
        let redirs = self.redirs()?;
        Ok(Command::Compound(Box::new(compound), redirs))
    }

    fn function_body(&mut self, name: String) -> PResult<Command> {
        self.skip_newlines()?;
        let body = self.command()?;
        if !matches!(body, Command::Compound(..)) {
            return self.err(format!(
                "syntax error: function {name} needs a compound command body"
            ));
        }
        Ok(Command::Function(name, Rc::new(body)))
    }

    fn if_clause(&mut self) -> PResult<Compound> {
        self.next()?;
        let mut arms = Vec::new();
        loop {
            let cond = self.body()?;
            self.expect_kw("then")?;
            let body = self.body()?;
            arms.push((cond, body));
            match self.peek()? {
                t if is_kw(&t, "elif") => {
                    self.next()?;
                }
                t if is_kw(&t, "else") => {
                    self.next()?;
                    let otherwise = self.body()?;
                    self.expect_kw("fi")?;
                    return Ok(Compound::If(arms, Some(otherwise)));
                }
                _ => {
                    self.expect_kw("fi")?;
                    return Ok(Compound::If(arms, None));
                }
            }
        }
    }

    fn for_clause(&mut self) -> PResult<Compound> {
        let (_, line) = self.next()?;
        let var = match self.next()? {
            (Tok::Word(w), _) if lit(&w).is_some_and(is_name) => {
                lit(&w).unwrap_or_default().to_string()
            }
            (Tok::Op("("), _) => return unsupported(line, "for ((...))"),
            (t, line) => {
                return Err(SyntaxError {
                    line,
                    msg: format!("syntax error: unexpected {}", describe(&t)),
                });
            }
        };
        self.skip_newlines()?;
        let mut words = None;
        if is_kw(&self.peek()?, "in") {
            self.next()?;
            let mut list = Vec::new();
            while let Tok::Word(w) = self.peek()? {
                self.next()?;
                list.push(w);
            }
            words = Some(list);
            match self.peek()? {
                Tok::Op(";") | Tok::Newline => {
                    self.next()?;
                }
                _ => return self.unexpected(),
            }
        } else if matches!(self.peek()?, Tok::Op(";")) {
            self.next()?;
        }
        self.skip_newlines()?;
        self.expect_kw("do")?;
        let body = self.body()?;
        self.expect_kw("done")?;
        Ok(Compound::For { var, words, body })
    }

    fn case_clause(&mut self) -> PResult<Compound> {
        self.next()?;
        let word = match self.next()? {
            (Tok::Word(w), _) => w,
            (t, line) => {
                return Err(SyntaxError {
                    line,
                    msg: format!("syntax error: unexpected {}", describe(&t)),
                });
            }
        };
        self.skip_newlines()?;
        self.expect_kw("in")?;
        let mut arms = Vec::new();
        loop {
            self.skip_newlines()?;
            if is_kw(&self.peek()?, "esac") {
                self.next()?;
                break;
            }
            if matches!(self.peek()?, Tok::Op("(")) {
                self.next()?;
            }
            let mut pats = Vec::new();
            loop {
                match self.next()? {
                    (Tok::Word(w), _) => pats.push(w),
                    (t, line) => {
                        return Err(SyntaxError {
                            line,
                            msg: format!("syntax error: unexpected {}", describe(&t)),
                        });
                    }
                }
                if matches!(self.peek()?, Tok::Op("|")) {
                    self.next()?;
                } else {
                    break;
                }
            }
            self.expect_op(")")?;
            let body = self.list()?;
            arms.push((pats, body));
            match self.peek()? {
                Tok::Op(";;") => {
                    self.next()?;
                }
                t if is_kw(&t, "esac") => {}
                _ => return self.unexpected(),
            }
        }
        Ok(Compound::Case(word, arms))
    }

    fn redirs(&mut self) -> PResult<Vec<Redir>> {
        let mut redirs = Vec::new();
        loop {
            match self.peek()? {
                Tok::IoNum(n) => {
                    self.next()?;
                    match self.next()? {
                        (Tok::Op(op), _) => redirs.push(self.redir(n, op)?),
                        (t, line) => {
                            return Err(SyntaxError {
                                line,
                                msg: format!("syntax error: unexpected {}", describe(&t)),
                            });
                        }
                    }
                }
                Tok::Op(op) if REDIR_OPS.contains(&op) => {
                    self.next()?;
                    let fd = if op.starts_with('<') { 0 } else { 1 };
                    redirs.push(self.redir(fd, op)?);
                }
                _ => return Ok(redirs),
            }
        }
    }

    fn redir(&mut self, fd: usize, op: &str) -> PResult<Redir> {
        let (t, line) = self.next()?;
        let target = match t {
            Tok::Word(w) => w,
            Tok::Op("(") if op == "<" || op == ">" => {
                return unsupported(line, "process substitution");
            }
            t => {
                return Err(SyntaxError {
                    line,
                    msg: format!("syntax error: unexpected {}", describe(&t)),
                });
            }
        };
        let op = match op {
            "<" => RedirOp::In,
            ">" | ">|" => RedirOp::Out,
            ">>" => RedirOp::Append,
            "<&" => RedirOp::DupIn,
            ">&" => RedirOp::DupOut,
            "&>" => RedirOp::Both,
            "&>>" => RedirOp::BothAppend,
            "<>" => RedirOp::ReadWrite,
            "<<<" => RedirOp::HereString,
            _ => {
                let quoted = target.iter().any(|p| !matches!(p, Part::Lit(_)));
                let slot = Rc::new(RefCell::new(Vec::new()));
                self.pending.push(Pending {
                    delim: word_text(&target),
                    strip: op == "<<-",
                    quoted,
                    slot: Rc::clone(&slot),
                });
                return Ok(Redir {
                    fd,
                    op: RedirOp::Here,
                    target,
                    here: Some(slot),
                });
            }
        };
        Ok(Redir {
            fd,
            op,
            target,
            here: None,
        })
    }

    fn simple(&mut self) -> PResult<Command> {
        let line = self.peek_line()?;
        if let Tok::Word(w) = self.peek()?
            && lit(&w).is_some_and(is_name)
            && matches!(self.peek_n(1)?, Tok::Op("("))
        {
            let name = lit(&w).unwrap_or_default().to_string();
            self.next()?;
            self.next()?;
            self.expect_op(")")?;
            return self.function_body(name);
        }
        let mut s = Simple {
            assigns: Vec::new(),
            words: Vec::new(),
            redirs: Vec::new(),
            line,
        };
        loop {
            match self.peek()? {
                Tok::Word(w) => {
                    self.next()?;
                    if s.words.is_empty()
                        && let Some((name, value)) = split_assign(&w)
                    {
                        if value.is_empty() && matches!(self.peek()?, Tok::Op("(")) {
                            return unsupported(line, "arrays");
                        }
                        s.assigns.push((name, value));
                        continue;
                    }
                    s.words.push(w);
                }
                Tok::IoNum(_) => s.redirs.extend(self.redirs()?),
                Tok::Op(op) if REDIR_OPS.contains(&op) => s.redirs.extend(self.redirs()?),
                _ => break,
            }
        }
        if s.words.is_empty() && s.assigns.is_empty() && s.redirs.is_empty() {
            return self.unexpected();
        }
        Ok(Command::Simple(s))
    }
}

/// `NAME=value` as an assignment: the name and the value's parts.
fn split_assign(w: &Word) -> Option<(String, Word)> {
    let Some(Part::Lit(first)) = w.first() else {
        return None;
    };
    let eq = first.find('=')?;
    let name = &first[..eq];
    if !is_name(name) {
        return None;
    }
    let mut value = Vec::new();
    if eq + 1 < first.len() {
        value.push(Part::Lit(first[eq + 1..].to_string()));
    }
    value.extend(w[1..].iter().cloned());
    Some((name.to_string(), value))
}
