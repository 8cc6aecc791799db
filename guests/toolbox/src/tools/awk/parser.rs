//! awk's syntax tree and parser.

use super::lexer::{Tok, lex};
use crate::tools::regex::{Regex, Syntax};
use std::collections::HashMap;
use std::rc::Rc;

#[derive(Debug, Clone)]
pub(crate) enum VarRef {
    Global(String),
    Local(usize),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Pow,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CmpOp {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
}

#[derive(Debug, Clone)]
pub(crate) enum Expr {
    Num(f64),
    Str(String),
    Regex(usize),
    Var(VarRef),
    Field(Box<Expr>),
    Index(VarRef, Vec<Expr>),
    Assign(Option<BinOp>, Box<Expr>, Box<Expr>),
    Cond(Box<Expr>, Box<Expr>, Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    Neg(Box<Expr>),
    Pos(Box<Expr>),
    Bin(BinOp, Box<Expr>, Box<Expr>),
    Cmp(CmpOp, Box<Expr>, Box<Expr>),
    Match(bool, Box<Expr>, Box<Expr>),
    Concat(Box<Expr>, Box<Expr>),
    In(Vec<Expr>, VarRef),
    Incr {
        pre: bool,
        delta: f64,
        target: Box<Expr>,
    },
    Builtin(String, Vec<Expr>),
    Call(String, Vec<Expr>),
    Getline {
        var: Option<Box<Expr>>,
        file: Option<Box<Expr>>,
    },
    Group(Box<Expr>),
    /// `(a, b)`: only valid before `in` or as print's arguments.
    List(Vec<Expr>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Redir {
    Write,
    Append,
}

#[derive(Debug, Clone)]
pub(crate) enum Stmt {
    Expr(Expr),
    Print(Vec<Expr>, Option<(Redir, Expr)>),
    Printf(Vec<Expr>, Option<(Redir, Expr)>),
    If(Expr, Box<Stmt>, Option<Box<Stmt>>),
    While(Expr, Box<Stmt>),
    Do(Box<Stmt>, Expr),
    For(
        Option<Box<Stmt>>,
        Option<Expr>,
        Option<Box<Stmt>>,
        Box<Stmt>,
    ),
    ForIn(VarRef, VarRef, Box<Stmt>),
    Block(Vec<Stmt>),
    Next,
    Nextfile,
    Exit(Option<Expr>),
    Return(Option<Expr>),
    Break,
    Continue,
    Delete(VarRef, Option<Vec<Expr>>),
}

#[derive(Debug, Clone)]
pub(crate) enum Pattern {
    All,
    Expr(Expr),
    Range(Expr, Expr),
}

#[derive(Debug, Clone)]
pub(crate) struct Rule {
    pub pattern: Pattern,
    pub action: Option<Vec<Stmt>>,
}

#[derive(Debug, Clone)]
pub(crate) struct Func {
    pub params: Vec<String>,
    /// Which parameters the body uses as arrays.
    pub array_params: Vec<bool>,
    pub body: Vec<Stmt>,
}

#[derive(Debug, Default)]
pub(crate) struct Program {
    pub begin: Vec<Vec<Stmt>>,
    pub end: Vec<Vec<Stmt>>,
    pub rules: Vec<Rule>,
    pub funcs: HashMap<String, Rc<Func>>,
    pub regexes: Vec<Rc<Regex>>,
}

struct Parser {
    toks: Vec<(Tok, usize)>,
    pos: usize,
    params: Vec<String>,
    array_params: Vec<bool>,
    no_gt: bool,
    no_in: bool,
    regexes: Vec<Rc<Regex>>,
    depth: usize,
}

type PResult<T> = Result<T, String>;

/// How deep expressions and statements may nest (the parser and the interpreter recurse).
const MAX_DEPTH: usize = 60;

/// Parses a program.
///
/// # Errors
/// A syntax error, with its line.
pub(crate) fn parse(src: &str) -> PResult<Program> {
    let toks = lex(src)?;
    let mut p = Parser {
        toks,
        pos: 0,
        params: Vec::new(),
        array_params: Vec::new(),
        no_gt: false,
        no_in: false,
        regexes: Vec::new(),
        depth: 0,
    };
    let mut prog = Program::default();
    p.skip_terms();
    while p.peek() != &Tok::Eof {
        match p.peek().clone() {
            Tok::Function => {
                p.advance();
                let name = match p.advance() {
                    Tok::Name(n) | Tok::FuncName(n) => n,
                    _ => return Err(p.error()),
                };
                p.expect(&Tok::LParen)?;
                let mut params = Vec::new();
                while p.peek() != &Tok::RParen {
                    match p.advance() {
                        Tok::Name(n) => params.push(n),
                        _ => return Err(p.error()),
                    }
                    if p.peek() == &Tok::Comma {
                        p.advance();
                        p.skip_newlines();
                    }
                }
                p.advance();
                p.skip_newlines();
                p.params = params.clone();
                p.array_params = vec![false; params.len()];
                let body = p.block()?;
                let array_params = std::mem::take(&mut p.array_params);
                p.params.clear();
                prog.funcs.insert(
                    name,
                    Rc::new(Func {
                        params,
                        array_params,
                        body,
                    }),
                );
            }
            Tok::Begin => {
                p.advance();
                p.skip_newlines();
                prog.begin.push(p.block()?);
            }
            Tok::End => {
                p.advance();
                p.skip_newlines();
                prog.end.push(p.block()?);
            }
            Tok::LBrace => {
                let action = p.block()?;
                prog.rules.push(Rule {
                    pattern: Pattern::All,
                    action: Some(action),
                });
            }
            _ => {
                let first = p.expr()?;
                let pattern = if p.peek() == &Tok::Comma {
                    p.advance();
                    p.skip_newlines();
                    Pattern::Range(first, p.expr()?)
                } else {
                    Pattern::Expr(first)
                };
                let action = if p.peek() == &Tok::LBrace {
                    Some(p.block()?)
                } else {
                    None
                };
                prog.rules.push(Rule { pattern, action });
            }
        }
        p.skip_terms();
    }
    prog.regexes = p.regexes;
    Ok(prog)
}

fn is_lvalue(e: &Expr) -> bool {
    matches!(e, Expr::Var(_) | Expr::Field(_) | Expr::Index(..))
}

impl Parser {
    fn peek(&self) -> &Tok {
        &self.toks[self.pos.min(self.toks.len() - 1)].0
    }

    fn peek_at(&self, k: usize) -> &Tok {
        &self.toks[(self.pos + k).min(self.toks.len() - 1)].0
    }

    fn advance(&mut self) -> Tok {
        let t = self.peek().clone();
        if self.pos < self.toks.len() - 1 {
            self.pos += 1;
        }
        t
    }

    fn error(&self) -> String {
        let (tok, line) = &self.toks[self.pos.saturating_sub(1).min(self.toks.len() - 1)];
        let near = match tok {
            Tok::Newline => "end of line".to_string(),
            Tok::Eof => "end of program".to_string(),
            Tok::Name(n) | Tok::FuncName(n) | Tok::Builtin(n) => n.clone(),
            Tok::Str(s) => format!("\"{s}\""),
            Tok::Num(n) => n.to_string(),
            other => format!("{other:?}"),
        };
        format!("line {line}: syntax error near {near}")
    }

    fn expect(&mut self, t: &Tok) -> PResult<()> {
        if self.peek() == t {
            self.advance();
            Ok(())
        } else {
            self.advance();
            Err(self.error())
        }
    }

    fn skip_newlines(&mut self) {
        while self.peek() == &Tok::Newline {
            self.advance();
        }
    }

    fn skip_terms(&mut self) {
        while matches!(self.peek(), Tok::Newline | Tok::Semi) {
            self.advance();
        }
    }

    fn var(&mut self, name: String) -> VarRef {
        match self.params.iter().position(|p| *p == name) {
            Some(i) => VarRef::Local(i),
            None => VarRef::Global(name),
        }
    }

    fn array_var(&mut self, name: String) -> VarRef {
        let v = self.var(name);
        if let VarRef::Local(i) = v {
            self.array_params[i] = true;
        }
        v
    }

    fn block(&mut self) -> PResult<Vec<Stmt>> {
        self.expect(&Tok::LBrace)?;
        let mut stmts = Vec::new();
        self.skip_terms();
        while self.peek() != &Tok::RBrace {
            if self.peek() == &Tok::Eof {
                self.advance();
                return Err(self.error());
            }
            stmts.push(self.stmt()?);
            self.skip_terms();
        }
        self.advance();
        Ok(stmts)
    }

    /// Ends a simple statement: `;`, a newline, or before `}`.
    fn end_simple(&mut self) -> PResult<()> {
        match self.peek() {
            Tok::Semi | Tok::Newline => {
                self.advance();
                Ok(())
            }
            Tok::RBrace | Tok::Eof => Ok(()),
            _ => {
                self.advance();
                Err(self.error())
            }
        }
    }

    fn stmt(&mut self) -> PResult<Stmt> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err("statements nested too deeply".to_string());
        }
        let s = self.stmt_inner();
        self.depth -= 1;
        s
    }

    fn stmt_inner(&mut self) -> PResult<Stmt> {
        match self.peek().clone() {
            Tok::LBrace => Ok(Stmt::Block(self.block()?)),
            Tok::Semi => {
                self.advance();
                Ok(Stmt::Block(Vec::new()))
            }
            Tok::If => {
                self.advance();
                self.expect(&Tok::LParen)?;
                let cond = self.expr()?;
                self.expect(&Tok::RParen)?;
                self.skip_newlines();
                let then = self.stmt()?;
                let save = self.pos;
                self.skip_terms();
                if self.peek() == &Tok::Else {
                    self.advance();
                    self.skip_newlines();
                    let els = self.stmt()?;
                    Ok(Stmt::If(cond, Box::new(then), Some(Box::new(els))))
                } else {
                    self.pos = save;
                    Ok(Stmt::If(cond, Box::new(then), None))
                }
            }
            Tok::While => {
                self.advance();
                self.expect(&Tok::LParen)?;
                let cond = self.expr()?;
                self.expect(&Tok::RParen)?;
                if self.peek() == &Tok::Semi {
                    self.advance();
                    return Ok(Stmt::While(cond, Box::new(Stmt::Block(Vec::new()))));
                }
                self.skip_newlines();
                let body = self.stmt()?;
                Ok(Stmt::While(cond, Box::new(body)))
            }
            Tok::Do => {
                self.advance();
                self.skip_newlines();
                let body = self.stmt()?;
                self.skip_terms();
                self.expect(&Tok::While)?;
                self.expect(&Tok::LParen)?;
                let cond = self.expr()?;
                self.expect(&Tok::RParen)?;
                self.end_simple()?;
                Ok(Stmt::Do(Box::new(body), cond))
            }
            Tok::For => {
                self.advance();
                self.expect(&Tok::LParen)?;
                if let (Tok::Name(k), Tok::In, Tok::Name(a), Tok::RParen) = (
                    self.peek_at(0).clone(),
                    self.peek_at(1).clone(),
                    self.peek_at(2).clone(),
                    self.peek_at(3).clone(),
                ) {
                    self.pos += 4;
                    let key = self.var(k);
                    let arr = self.array_var(a);
                    self.skip_newlines();
                    let body = self.stmt()?;
                    return Ok(Stmt::ForIn(key, arr, Box::new(body)));
                }
                let init = if self.peek() == &Tok::Semi {
                    None
                } else {
                    Some(Box::new(self.simple_stmt()?))
                };
                self.expect(&Tok::Semi)?;
                self.skip_newlines();
                let cond = if self.peek() == &Tok::Semi {
                    None
                } else {
                    Some(self.expr()?)
                };
                self.expect(&Tok::Semi)?;
                self.skip_newlines();
                let incr = if self.peek() == &Tok::RParen {
                    None
                } else {
                    Some(Box::new(self.simple_stmt()?))
                };
                self.expect(&Tok::RParen)?;
                if self.peek() == &Tok::Semi {
                    self.advance();
                    return Ok(Stmt::For(
                        init,
                        cond,
                        incr,
                        Box::new(Stmt::Block(Vec::new())),
                    ));
                }
                self.skip_newlines();
                let body = self.stmt()?;
                Ok(Stmt::For(init, cond, incr, Box::new(body)))
            }
            _ => {
                let s = self.simple_stmt()?;
                self.end_simple()?;
                Ok(s)
            }
        }
    }

    fn simple_stmt(&mut self) -> PResult<Stmt> {
        match self.peek().clone() {
            Tok::Print | Tok::Printf => {
                let is_printf = self.advance() == Tok::Printf;
                let mut args = Vec::new();
                let saved = self.no_gt;
                self.no_gt = true;
                if !matches!(
                    self.peek(),
                    Tok::Semi
                        | Tok::Newline
                        | Tok::RBrace
                        | Tok::Gt
                        | Tok::Append
                        | Tok::Pipe
                        | Tok::Eof
                ) {
                    let first = self.expr()?;
                    match first {
                        Expr::List(items) => args.extend(items),
                        other => args.push(other),
                    }
                    while self.peek() == &Tok::Comma {
                        self.advance();
                        self.skip_newlines();
                        args.push(self.expr()?);
                    }
                }
                self.no_gt = saved;
                let redir = match self.peek() {
                    Tok::Gt => {
                        self.advance();
                        Some((Redir::Write, self.concat()?))
                    }
                    Tok::Append => {
                        self.advance();
                        Some((Redir::Append, self.concat()?))
                    }
                    Tok::Pipe => {
                        return Err("output to a command (print | \"cmd\") is not supported in skiff's toolbox".to_string());
                    }
                    _ => None,
                };
                if is_printf {
                    if args.is_empty() {
                        return Err(self.error());
                    }
                    Ok(Stmt::Printf(args, redir))
                } else {
                    Ok(Stmt::Print(args, redir))
                }
            }
            Tok::Next => {
                self.advance();
                Ok(Stmt::Next)
            }
            Tok::Nextfile => {
                self.advance();
                Ok(Stmt::Nextfile)
            }
            Tok::Break => {
                self.advance();
                Ok(Stmt::Break)
            }
            Tok::Continue => {
                self.advance();
                Ok(Stmt::Continue)
            }
            Tok::Exit | Tok::Return => {
                let is_exit = self.advance() == Tok::Exit;
                let value = if matches!(
                    self.peek(),
                    Tok::Semi | Tok::Newline | Tok::RBrace | Tok::Eof
                ) {
                    None
                } else {
                    Some(self.expr()?)
                };
                Ok(if is_exit {
                    Stmt::Exit(value)
                } else {
                    Stmt::Return(value)
                })
            }
            Tok::Delete => {
                self.advance();
                let name = match self.advance() {
                    Tok::Name(n) => n,
                    _ => return Err(self.error()),
                };
                let arr = self.array_var(name);
                if self.peek() == &Tok::LBracket {
                    self.advance();
                    let subs = self.expr_list(&Tok::RBracket)?;
                    Ok(Stmt::Delete(arr, Some(subs)))
                } else {
                    Ok(Stmt::Delete(arr, None))
                }
            }
            _ => Ok(Stmt::Expr(self.expr()?)),
        }
    }

    fn expr_list(&mut self, close: &Tok) -> PResult<Vec<Expr>> {
        let mut items = Vec::new();
        let (sg, si) = (self.no_gt, self.no_in);
        self.no_gt = false;
        self.no_in = false;
        self.skip_newlines();
        while self.peek() != close {
            items.push(self.expr()?);
            self.skip_newlines();
            if self.peek() == &Tok::Comma {
                self.advance();
                self.skip_newlines();
            } else if self.peek() != close {
                self.advance();
                return Err(self.error());
            }
        }
        self.advance();
        self.no_gt = sg;
        self.no_in = si;
        Ok(items)
    }

    fn expr(&mut self) -> PResult<Expr> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err("expression nested too deeply".to_string());
        }
        let e = self.assignment();
        self.depth -= 1;
        e
    }

    fn assignment(&mut self) -> PResult<Expr> {
        let lhs = self.ternary()?;
        let op = match self.peek() {
            Tok::Assign => None,
            Tok::AddAssign => Some(BinOp::Add),
            Tok::SubAssign => Some(BinOp::Sub),
            Tok::MulAssign => Some(BinOp::Mul),
            Tok::DivAssign => Some(BinOp::Div),
            Tok::ModAssign => Some(BinOp::Mod),
            Tok::PowAssign => Some(BinOp::Pow),
            _ => return Ok(lhs),
        };
        if !is_lvalue(&lhs) {
            return Ok(lhs);
        }
        self.advance();
        self.skip_newlines();
        let rhs = self.expr()?;
        Ok(Expr::Assign(op, Box::new(lhs), Box::new(rhs)))
    }

    fn ternary(&mut self) -> PResult<Expr> {
        let cond = self.or()?;
        if self.peek() != &Tok::Question {
            return Ok(cond);
        }
        self.advance();
        self.skip_newlines();
        let a = self.expr()?;
        self.skip_newlines();
        self.expect(&Tok::Colon)?;
        self.skip_newlines();
        let b = self.expr()?;
        Ok(Expr::Cond(Box::new(cond), Box::new(a), Box::new(b)))
    }

    fn or(&mut self) -> PResult<Expr> {
        let mut lhs = self.and()?;
        while self.peek() == &Tok::Or {
            self.advance();
            self.skip_newlines();
            let rhs = self.and()?;
            lhs = Expr::Or(Box::new(lhs), Box::new(rhs));
        }
        Ok(lhs)
    }

    fn and(&mut self) -> PResult<Expr> {
        let mut lhs = self.in_expr()?;
        while self.peek() == &Tok::And {
            self.advance();
            self.skip_newlines();
            let rhs = self.in_expr()?;
            lhs = Expr::And(Box::new(lhs), Box::new(rhs));
        }
        Ok(lhs)
    }

    fn in_expr(&mut self) -> PResult<Expr> {
        let mut lhs = self.match_expr()?;
        while self.peek() == &Tok::In && !self.no_in {
            self.advance();
            let name = match self.advance() {
                Tok::Name(n) => n,
                _ => return Err(self.error()),
            };
            let arr = self.array_var(name);
            let subs = match lhs {
                Expr::List(items) => items,
                other => vec![other],
            };
            lhs = Expr::In(subs, arr);
        }
        Ok(lhs)
    }

    fn match_expr(&mut self) -> PResult<Expr> {
        let mut lhs = self.comparison()?;
        loop {
            let negate = match self.peek() {
                Tok::Tilde => false,
                Tok::NoMatch => true,
                _ => break,
            };
            self.advance();
            let rhs = self.comparison()?;
            lhs = Expr::Match(negate, Box::new(lhs), Box::new(rhs));
        }
        Ok(lhs)
    }

    fn comparison(&mut self) -> PResult<Expr> {
        let lhs = self.concat()?;
        let op = match self.peek() {
            Tok::Lt => CmpOp::Lt,
            Tok::Le => CmpOp::Le,
            Tok::Gt if !self.no_gt => CmpOp::Gt,
            Tok::Ge => CmpOp::Ge,
            Tok::Eq => CmpOp::Eq,
            Tok::Ne => CmpOp::Ne,
            Tok::Pipe if self.peek_at(1) == &Tok::Getline => {
                return Err("command | getline is not supported in skiff's toolbox".to_string());
            }
            _ => return Ok(lhs),
        };
        self.advance();
        let rhs = self.concat()?;
        Ok(Expr::Cmp(op, Box::new(lhs), Box::new(rhs)))
    }

    fn starts_concat_operand(&self) -> bool {
        match self.peek() {
            Tok::Num(_)
            | Tok::Str(_)
            | Tok::Regex(_)
            | Tok::Name(_)
            | Tok::FuncName(_)
            | Tok::Builtin(_)
            | Tok::Dollar
            | Tok::Not
            | Tok::LParen
            | Tok::Minus
            | Tok::Plus
            | Tok::Incr
            | Tok::Decr => true,
            Tok::In => false,
            _ => false,
        }
    }

    fn concat(&mut self) -> PResult<Expr> {
        let mut lhs = self.additive()?;
        while self.starts_concat_operand()
            && !matches!(self.peek(), Tok::Minus | Tok::Plus | Tok::Not)
        {
            if self.peek() == &Tok::Getline {
                break;
            }
            let rhs = self.additive()?;
            lhs = Expr::Concat(Box::new(lhs), Box::new(rhs));
        }
        Ok(lhs)
    }

    fn additive(&mut self) -> PResult<Expr> {
        let mut lhs = self.multiplicative()?;
        loop {
            let op = match self.peek() {
                Tok::Plus => BinOp::Add,
                Tok::Minus => BinOp::Sub,
                _ => break,
            };
            self.advance();
            let rhs = self.multiplicative()?;
            lhs = Expr::Bin(op, Box::new(lhs), Box::new(rhs));
        }
        Ok(lhs)
    }

    fn multiplicative(&mut self) -> PResult<Expr> {
        let mut lhs = self.unary()?;
        loop {
            let op = match self.peek() {
                Tok::Star => BinOp::Mul,
                Tok::Slash => BinOp::Div,
                Tok::Percent => BinOp::Mod,
                _ => break,
            };
            self.advance();
            let rhs = self.unary()?;
            lhs = Expr::Bin(op, Box::new(lhs), Box::new(rhs));
        }
        Ok(lhs)
    }

    fn unary(&mut self) -> PResult<Expr> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err("expression nested too deeply".to_string());
        }
        let e = self.unary_inner();
        self.depth -= 1;
        e
    }

    fn unary_inner(&mut self) -> PResult<Expr> {
        match self.peek() {
            Tok::Not => {
                self.advance();
                Ok(Expr::Not(Box::new(self.unary()?)))
            }
            Tok::Minus => {
                self.advance();
                Ok(Expr::Neg(Box::new(self.unary()?)))
            }
            Tok::Plus => {
                self.advance();
                Ok(Expr::Pos(Box::new(self.unary()?)))
            }
            _ => self.power(),
        }
    }

    fn power(&mut self) -> PResult<Expr> {
        let base = self.postfix()?;
        if self.peek() == &Tok::Caret {
            self.advance();
            let exp = self.unary_for_power()?;
            return Ok(Expr::Bin(BinOp::Pow, Box::new(base), Box::new(exp)));
        }
        Ok(base)
    }

    fn unary_for_power(&mut self) -> PResult<Expr> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err("expression nested too deeply".to_string());
        }
        let e = self.unary_for_power_inner();
        self.depth -= 1;
        e
    }

    fn unary_for_power_inner(&mut self) -> PResult<Expr> {
        match self.peek() {
            Tok::Minus => {
                self.advance();
                Ok(Expr::Neg(Box::new(self.unary_for_power()?)))
            }
            Tok::Plus => {
                self.advance();
                Ok(Expr::Pos(Box::new(self.unary_for_power()?)))
            }
            Tok::Not => {
                self.advance();
                Ok(Expr::Not(Box::new(self.unary_for_power()?)))
            }
            _ => self.power(),
        }
    }

    fn postfix(&mut self) -> PResult<Expr> {
        let e = self.primary()?;
        if is_lvalue(&e) {
            match self.peek() {
                Tok::Incr => {
                    self.advance();
                    return Ok(Expr::Incr {
                        pre: false,
                        delta: 1.0,
                        target: Box::new(e),
                    });
                }
                Tok::Decr => {
                    self.advance();
                    return Ok(Expr::Incr {
                        pre: false,
                        delta: -1.0,
                        target: Box::new(e),
                    });
                }
                _ => {}
            }
        }
        Ok(e)
    }

    fn primary(&mut self) -> PResult<Expr> {
        let tok = self.advance();
        match tok {
            Tok::Num(n) => Ok(Expr::Num(n)),
            Tok::Str(s) => Ok(Expr::Str(s)),
            Tok::Regex(r) => {
                let re = Regex::new(&r, Syntax::Awk, false)
                    .map_err(|e| format!("regular expression /{r}/: {e}"))?;
                self.regexes.push(Rc::new(re));
                Ok(Expr::Regex(self.regexes.len() - 1))
            }
            Tok::LParen => {
                let (sg, si) = (self.no_gt, self.no_in);
                self.no_gt = false;
                self.no_in = false;
                self.skip_newlines();
                let first = self.expr()?;
                self.skip_newlines();
                let result = if self.peek() == &Tok::Comma {
                    let mut items = vec![first];
                    while self.peek() == &Tok::Comma {
                        self.advance();
                        self.skip_newlines();
                        items.push(self.expr()?);
                        self.skip_newlines();
                    }
                    self.expect(&Tok::RParen)?;
                    Expr::List(items)
                } else {
                    self.expect(&Tok::RParen)?;
                    Expr::Group(Box::new(first))
                };
                self.no_gt = sg;
                self.no_in = si;
                Ok(result)
            }
            Tok::Dollar => {
                let operand = match self.peek() {
                    Tok::Incr | Tok::Decr => {
                        let delta = if self.advance() == Tok::Incr {
                            1.0
                        } else {
                            -1.0
                        };
                        let target = self.primary()?;
                        if !is_lvalue(&target) {
                            return Err(self.error());
                        }
                        Expr::Incr {
                            pre: true,
                            delta,
                            target: Box::new(target),
                        }
                    }
                    Tok::Minus => {
                        self.advance();
                        Expr::Neg(Box::new(self.primary()?))
                    }
                    _ => self.primary()?,
                };
                Ok(Expr::Field(Box::new(operand)))
            }
            Tok::Incr | Tok::Decr => {
                let delta = if tok == Tok::Incr { 1.0 } else { -1.0 };
                let target = self.primary()?;
                if !is_lvalue(&target) {
                    return Err(self.error());
                }
                Ok(Expr::Incr {
                    pre: true,
                    delta,
                    target: Box::new(target),
                })
            }
            Tok::Name(name) => {
                if self.peek() == &Tok::LBracket {
                    self.advance();
                    let subs = self.expr_list(&Tok::RBracket)?;
                    if subs.is_empty() {
                        return Err(self.error());
                    }
                    Ok(Expr::Index(self.array_var(name), subs))
                } else {
                    Ok(Expr::Var(self.var(name)))
                }
            }
            Tok::FuncName(name) => {
                self.expect(&Tok::LParen)?;
                let args = self.expr_list(&Tok::RParen)?;
                Ok(Expr::Call(name, args))
            }
            Tok::Builtin(name) => {
                if self.peek() == &Tok::LParen {
                    self.advance();
                    let args = self.expr_list(&Tok::RParen)?;
                    if name == "split"
                        && let Some(Expr::Var(VarRef::Local(i))) = args.get(1)
                    {
                        self.array_params[*i] = true;
                    }
                    Ok(Expr::Builtin(name, args))
                } else if name == "length" {
                    Ok(Expr::Builtin(name, Vec::new()))
                } else {
                    Err(self.error())
                }
            }
            Tok::Getline => {
                let var = if matches!(self.peek(), Tok::Name(_) | Tok::Dollar) {
                    Some(Box::new(self.primary()?))
                } else {
                    None
                };
                let file = if self.peek() == &Tok::Lt {
                    self.advance();
                    Some(Box::new(self.primary()?))
                } else {
                    None
                };
                Ok(Expr::Getline { var, file })
            }
            Tok::Minus => Ok(Expr::Neg(Box::new(self.unary()?))),
            Tok::Plus => Ok(Expr::Pos(Box::new(self.unary()?))),
            Tok::Not => Ok(Expr::Not(Box::new(self.unary()?))),
            _ => Err(self.error()),
        }
    }
}
