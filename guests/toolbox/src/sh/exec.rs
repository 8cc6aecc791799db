//! Execution: the shell's state, expansions, simple and compound commands, pipelines, redirections.

use super::parse::{
    self, AndOr, Command, Compound, List, Op, Param, Part, Pipeline, Redir, RedirOp, Simple, Word,
    lit,
};
use super::{arith, pattern};
use crate::{Io, NOT_FOUND, Sys, describe};
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::io::{self, Cursor, Read, Write};
use std::rc::Rc;

/// The standard streams the shell was started with, shared by everything it runs.
pub type Base<'a> = RefCell<Io<'a>>;

/// How deeply lists may nest while running (function recursion included).
const MAX_EXEC_DEPTH: usize = 200;

/// A file descriptor of the shell.
#[derive(Clone)]
pub enum Fd {
    /// One of the streams the shell was started with (0, 1, 2).
    Base(u8),
    Out(Rc<RefCell<Box<dyn Write>>>),
    In(Rc<RefCell<Box<dyn Read>>>),
    Closed,
}

fn out_fd(w: impl Write + 'static) -> Fd {
    Fd::Out(Rc::new(RefCell::new(Box::new(w))))
}

fn in_fd(r: impl Read + 'static) -> Fd {
    Fd::In(Rc::new(RefCell::new(Box::new(r))))
}

fn busy() -> io::Error {
    io::Error::other("stream busy")
}

fn bad_fd() -> io::Error {
    io::Error::other("Bad file descriptor")
}

/// A writer for one of the shell's descriptors.
pub struct FdWriter<'r, 'a> {
    fd: Fd,
    base: &'r Base<'a>,
}

impl FdWriter<'_, '_> {
    /// Calls `f` on the writer this descriptor names; `unopened` when it names none.
    fn with<T>(
        &self,
        f: impl FnOnce(&mut dyn Write) -> io::Result<T>,
        unopened: impl FnOnce() -> io::Result<T>,
    ) -> io::Result<T> {
        match &self.fd {
            Fd::Base(1) => f(&mut self.base.try_borrow_mut().map_err(|_| busy())?.stdout),
            Fd::Base(2) => f(&mut self.base.try_borrow_mut().map_err(|_| busy())?.stderr),
            Fd::Out(w) => f(&mut *w.try_borrow_mut().map_err(|_| busy())?),
            _ => unopened(),
        }
    }
}

impl Write for FdWriter<'_, '_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.with(|w| w.write(buf), || Err(bad_fd()))
    }

    fn flush(&mut self) -> io::Result<()> {
        self.with(|w| w.flush(), || Ok(()))
    }
}

/// A reader for one of the shell's descriptors.
pub struct FdReader<'r, 'a> {
    fd: Fd,
    base: &'r Base<'a>,
}

impl Read for FdReader<'_, '_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match &self.fd {
            Fd::Base(0) => self
                .base
                .try_borrow_mut()
                .map_err(|_| busy())?
                .stdin
                .read(buf),
            Fd::In(r) => r.try_borrow_mut().map_err(|_| busy())?.read(buf),
            _ => Err(bad_fd()),
        }
    }
}

/// Collects what a stage of a pipeline or a command substitution writes.
struct Shared(Rc<RefCell<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0
            .try_borrow_mut()
            .map_err(|_| busy())?
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Reads a shared descriptor (a `-` operand of a lazy `cat`).
struct RcRead(Rc<RefCell<Box<dyn Read>>>);

impl Read for RcRead {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.try_borrow_mut().map_err(|_| busy())?.read(buf)
    }
}

/// The lazy `cat FILE...` at the head of a pipeline.
struct Chain(VecDeque<Box<dyn Read>>);

impl Read for Chain {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while let Some(r) = self.0.front_mut() {
            let n = r.read(buf)?;
            if n > 0 || buf.is_empty() {
                return Ok(n);
            }
            self.0.pop_front();
        }
        Ok(0)
    }
}

/// The lazy `yes [WORD]` at the head of a pipeline.
struct Repeat {
    data: Vec<u8>,
    pos: usize,
}

impl Read for Repeat {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        for b in buf.iter_mut() {
            *b = self.data[self.pos];
            self.pos = (self.pos + 1) % self.data.len();
        }
        Ok(buf.len())
    }
}

/// How control leaves the normal flow.
#[derive(Debug)]
pub enum Flow {
    Exit(i32),
    Return(i32),
    Break(usize),
    Continue(usize),
}

pub type R<T = i32> = Result<T, Flow>;

#[derive(Clone, Debug)]
pub(super) struct Var {
    pub value: String,
    pub exported: bool,
    pub readonly: bool,
}

#[derive(Clone, Copy, Debug, Default)]
pub struct Opts {
    pub errexit: bool,
    pub xtrace: bool,
    pub nounset: bool,
    pub pipefail: bool,
    pub noglob: bool,
}

impl Opts {
    /// Sets an option by its `-o` name; false when there is no such option.
    pub fn set_named(&mut self, name: &str, on: bool) -> bool {
        match name {
            "errexit" => self.errexit = on,
            "xtrace" => self.xtrace = on,
            "nounset" => self.nounset = on,
            "pipefail" => self.pipefail = on,
            "noglob" => self.noglob = on,
            "verbose" | "noclobber" | "monitor" | "allexport" | "notify" | "posix" | "noexec" => {}
            _ => return false,
        }
        true
    }

    /// Sets an option by its letter; false when there is no such option.
    pub fn set_letter(&mut self, c: char, on: bool) -> bool {
        match c {
            'e' => self.errexit = on,
            'x' => self.xtrace = on,
            'u' => self.nounset = on,
            'f' => self.noglob = on,
            'v' | 'C' | 'm' | 'a' | 'b' | 'n' | 'h' => {}
            _ => return false,
        }
        true
    }
}

/// How a word's parts are being expanded.
#[derive(Clone, Copy)]
struct Ctx {
    quoted: bool,
    split: bool,
    lit_split: bool,
}

const WORDS: Ctx = Ctx {
    quoted: false,
    split: true,
    lit_split: false,
};
const STRING: Ctx = Ctx {
    quoted: false,
    split: false,
    lit_split: false,
};

/// Fields under construction: characters with whether they may act as pattern characters.
#[derive(Default)]
struct Fields {
    done: Vec<Vec<(char, bool)>>,
    cur: Vec<(char, bool)>,
    have: bool,
}

impl Fields {
    fn push(&mut self, s: &str, active: bool) {
        self.cur.extend(s.chars().map(|c| (c, active)));
        self.have = true;
    }

    fn end(&mut self) {
        if self.have {
            self.force_end();
        }
    }

    fn force_end(&mut self) {
        self.done.push(std::mem::take(&mut self.cur));
        self.have = false;
    }

    fn finish(mut self) -> Vec<Vec<(char, bool)>> {
        self.end();
        self.done
    }
}

/// A field as a pattern: quoted pattern characters escaped.
fn to_pattern(field: &[(char, bool)]) -> String {
    let mut s = String::new();
    for &(c, active) in field {
        if !active && matches!(c, '*' | '?' | '[' | ']' | '\\') {
            s.push('\\');
        }
        s.push(c);
    }
    s
}

/// A word as `set -x` shows it.
pub fn quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-./=+:,%@^".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// The shell's state. A subshell is a clone.
#[derive(Clone)]
pub struct Shell {
    pub sys: Sys,
    pub(super) vars: BTreeMap<String, Var>,
    pub(super) funcs: HashMap<String, Rc<Command>>,
    pub params: Vec<String>,
    pub arg0: String,
    pub status: i32,
    pub opts: Opts,
    pub(super) exit_trap: Option<String>,
    pub(super) fds: [Fd; 10],
    pub(super) cond: usize,
    pub(super) loops: usize,
    pub(super) depth: usize,
    pub(super) line: usize,
    pub(super) locals: Vec<Vec<(String, Option<Var>)>>,
    pub(super) pid: u32,
    pub(super) last_bg: Option<u32>,
    sub_status: Option<i32>,
    random: u64,
}

impl Shell {
    pub fn new(sys: Sys, arg0: String, params: Vec<String>, opts: Opts, seed: u64) -> Self {
        let mut vars: BTreeMap<String, Var> = sys
            .env
            .iter()
            .map(|(k, v)| {
                (
                    k.clone(),
                    Var {
                        value: v.clone(),
                        exported: true,
                        readonly: false,
                    },
                )
            })
            .collect();
        // PWD is the shell's; it reaches the environment only when it came from there.
        let pwd_exported = sys.env.contains_key("PWD");
        vars.insert(
            "PWD".to_string(),
            Var {
                value: sys.cwd.clone(),
                exported: pwd_exported,
                readonly: false,
            },
        );
        let mut shell = Self {
            sys,
            vars,
            funcs: HashMap::new(),
            params,
            arg0,
            status: 0,
            opts,
            exit_trap: None,
            fds: [
                Fd::Base(0),
                Fd::Base(1),
                Fd::Base(2),
                Fd::Closed,
                Fd::Closed,
                Fd::Closed,
                Fd::Closed,
                Fd::Closed,
                Fd::Closed,
                Fd::Closed,
            ],
            cond: 0,
            loops: 0,
            depth: 0,
            line: 1,
            locals: Vec::new(),
            pid: 100 + (seed % 30000) as u32,
            last_bg: None,
            sub_status: None,
            random: seed,
        };
        shell.sync_env("PWD");
        shell
    }

    // ---- output helpers ----

    pub fn writer<'r, 'a>(&self, fd: usize, base: &'r Base<'a>) -> FdWriter<'r, 'a> {
        FdWriter {
            fd: self.fds[fd].clone(),
            base,
        }
    }

    pub fn reader<'r, 'a>(&self, base: &'r Base<'a>) -> FdReader<'r, 'a> {
        FdReader {
            fd: self.fds[0].clone(),
            base,
        }
    }

    pub fn out(&self, b: &Base<'_>, text: &str) {
        let _ = self.writer(1, b).write_all(text.as_bytes());
    }

    /// `sh: line N: msg` on standard error.
    pub fn error(&self, b: &Base<'_>, msg: &str) {
        let _ = writeln!(self.writer(2, b), "sh: line {}: {msg}", self.line);
    }

    /// `sh: msg` on standard error.
    pub fn error_plain(&self, b: &Base<'_>, msg: &str) {
        let _ = writeln!(self.writer(2, b), "sh: {msg}");
    }

    // ---- variables ----

    pub fn get_var(&self, name: &str) -> Option<&str> {
        self.vars.get(name).map(|v| v.value.as_str())
    }

    pub(super) fn sync_env(&mut self, name: &str) {
        match self.vars.get(name) {
            Some(v) if v.exported => {
                self.sys.env.insert(name.to_string(), v.value.clone());
            }
            _ => {
                self.sys.env.remove(name);
            }
        }
    }

    pub fn set_var(&mut self, name: &str, value: &str) -> Result<(), String> {
        match self.vars.get_mut(name) {
            Some(v) if v.readonly => return Err(format!("{name}: is read only")),
            Some(v) => v.value = value.to_string(),
            None => {
                self.vars.insert(
                    name.to_string(),
                    Var {
                        value: value.to_string(),
                        exported: false,
                        readonly: false,
                    },
                );
            }
        }
        self.sync_env(name);
        Ok(())
    }

    /// Sets a variable; a read-only one ends the shell with an error, as in dash.
    pub fn assign(&mut self, name: &str, value: &str, b: &Base<'_>) -> R<()> {
        self.set_var(name, value).map_err(|msg| {
            self.error(b, &msg);
            Flow::Exit(2)
        })
    }

    pub fn unset_var(&mut self, name: &str) -> Result<(), String> {
        if self.vars.get(name).is_some_and(|v| v.readonly) {
            return Err(format!("{name}: is read only"));
        }
        self.vars.remove(name);
        self.sync_env(name);
        Ok(())
    }

    fn ifs(&self) -> String {
        self.get_var("IFS").unwrap_or(" \t\n").to_string()
    }

    fn flags(&self) -> String {
        let mut s = String::new();
        for (on, c) in [
            (self.opts.errexit, 'e'),
            (self.opts.noglob, 'f'),
            (self.opts.nounset, 'u'),
            (self.opts.xtrace, 'x'),
        ] {
            if on {
                s.push(c);
            }
        }
        s
    }

    /// A parameter's value; `None` when unset.
    fn param_value(&mut self, name: &str) -> Option<String> {
        match name {
            "?" => Some(self.status.to_string()),
            "#" => Some(self.params.len().to_string()),
            "$" => Some(self.pid.to_string()),
            "!" => self.last_bg.map(|p| p.to_string()),
            "-" => Some(self.flags()),
            "@" | "*" => (!self.params.is_empty()).then(|| self.params.join(" ")),
            "RANDOM" if !self.vars.contains_key("RANDOM") => {
                Some((crate::splitmix64(&mut self.random) % 32768).to_string())
            }
            "LINENO" if !self.vars.contains_key("LINENO") => Some(self.line.to_string()),
            n if n.bytes().all(|c| c.is_ascii_digit()) => match n.parse::<usize>() {
                Ok(0) => Some(self.arg0.clone()),
                Ok(i) => self.params.get(i - 1).cloned(),
                Err(_) => None,
            },
            _ => self.get_var(name).map(str::to_string),
        }
    }

    fn require(&self, name: &str, value: Option<String>, b: &Base<'_>) -> R<String> {
        match value {
            Some(v) => Ok(v),
            None if self.opts.nounset && name != "@" && name != "*" => {
                self.error(b, &format!("{name}: parameter not set"));
                Err(Flow::Exit(2))
            }
            None => Ok(String::new()),
        }
    }

    // ---- expansion ----

    /// Expands words into fields: parameter, command and arithmetic expansion, field splitting, pathnames.
    pub fn expand_words(&mut self, words: &[Word], b: &Base<'_>) -> R<Vec<String>> {
        let mut out = Vec::new();
        for w in words {
            let mut f = Fields::default();
            self.expand_word(w, WORDS, &mut f, b)?;
            for field in f.finish() {
                self.glob_field(&field, &mut out);
            }
        }
        Ok(out)
    }

    /// Expands a word into one string: no field splitting, no pathname expansion.
    pub fn expand_str(&mut self, w: &Word, b: &Base<'_>) -> R<String> {
        let mut f = Fields::default();
        self.expand_word(w, STRING, &mut f, b)?;
        let fields: Vec<String> = f
            .finish()
            .into_iter()
            .map(|f| f.into_iter().map(|c| c.0).collect())
            .collect();
        Ok(fields.join(" "))
    }

    /// Expands a word into a pattern: quoted pattern characters are escaped.
    fn expand_pattern(&mut self, w: &Word, b: &Base<'_>) -> R<String> {
        let mut f = Fields::default();
        self.expand_word(w, STRING, &mut f, b)?;
        let fields: Vec<String> = f.finish().iter().map(|f| to_pattern(f)).collect();
        Ok(fields.join(" "))
    }

    fn expand_word(&mut self, w: &Word, ctx: Ctx, f: &mut Fields, b: &Base<'_>) -> R<()> {
        if let Some(Part::Lit(s)) = w.first()
            && (s == "~" || s.starts_with("~/"))
        {
            let home = self.get_var("HOME").unwrap_or("/").to_string();
            f.push(&home, false);
            f.push(&s[1..], true);
            return self.expand_parts(&w[1..], ctx, f, b);
        }
        self.expand_parts(w, ctx, f, b)
    }

    fn push_value(&self, f: &mut Fields, text: &str, ctx: Ctx) {
        if ctx.quoted {
            f.push(text, false);
        } else if ctx.split {
            self.push_split(f, text);
        } else if !text.is_empty() {
            f.push(text, true);
        }
    }

    fn push_split(&self, f: &mut Fields, text: &str) {
        let ifs = self.ifs();
        for c in text.chars() {
            if ifs.contains(c) {
                if matches!(c, ' ' | '\t' | '\n') {
                    f.end();
                } else {
                    f.force_end();
                }
            } else {
                f.cur.push((c, true));
                f.have = true;
            }
        }
    }

    fn expand_parts(&mut self, parts: &[Part], ctx: Ctx, f: &mut Fields, b: &Base<'_>) -> R<()> {
        for part in parts {
            match part {
                Part::Lit(s) => {
                    if ctx.quoted {
                        f.push(s, false);
                    } else if ctx.lit_split && ctx.split {
                        self.push_split(f, s);
                    } else {
                        f.push(s, true);
                    }
                }
                Part::Quoted(s) => f.push(s, false),
                Part::Dq(inner) => {
                    let has_at = inner
                        .iter()
                        .any(|p| matches!(p, Part::Param(p) if p.name == "@" && p.op == Op::Plain));
                    if !has_at {
                        f.have = true;
                    }
                    self.expand_parts(
                        inner,
                        Ctx {
                            quoted: true,
                            ..ctx
                        },
                        f,
                        b,
                    )?;
                }
                Part::Param(p) => self.expand_param(p, ctx, f, b)?,
                Part::Cmd(list) => {
                    let out = self.command_output(list, b);
                    self.push_value(f, &out, ctx);
                }
                Part::Arith(w) => {
                    let text = self.expand_str(w, b)?;
                    let v = self.arith(&text, b)?;
                    self.push_value(f, &v.to_string(), ctx);
                }
            }
        }
        Ok(())
    }

    pub fn arith(&mut self, text: &str, b: &Base<'_>) -> R<i64> {
        arith::eval(text, self).map_err(|msg| {
            self.error(b, &format!("arithmetic: {msg}"));
            Flow::Exit(2)
        })
    }

    fn expand_param(&mut self, p: &Param, ctx: Ctx, f: &mut Fields, b: &Base<'_>) -> R<()> {
        let all = p.name == "@" || p.name == "*";
        if all && (p.op == Op::Plain || (p.op == Op::Default && !self.params.is_empty())) {
            let params = self.params.clone();
            if ctx.quoted && ctx.split && p.name == "@" {
                for (i, v) in params.iter().enumerate() {
                    if i > 0 {
                        f.force_end();
                    }
                    f.push(v, false);
                }
            } else if ctx.quoted || !ctx.split {
                let sep = if p.name == "*" {
                    self.ifs()
                        .chars()
                        .next()
                        .map(String::from)
                        .unwrap_or_default()
                } else {
                    " ".to_string()
                };
                self.push_value(f, &params.join(&sep), ctx);
            } else {
                for (i, v) in params.iter().enumerate() {
                    if i > 0 {
                        f.end();
                    }
                    self.push_split(f, v);
                }
            }
            return Ok(());
        }
        let value = self.param_value(&p.name);
        let set = value.as_ref().is_some_and(|v| !(p.colon && v.is_empty()));
        match p.op {
            Op::Plain => {
                let v = self.require(&p.name, value, b)?;
                self.push_value(f, &v, ctx);
            }
            Op::Len => {
                let n = if all {
                    self.params.len()
                } else {
                    self.require(&p.name, value, b)?.chars().count()
                };
                self.push_value(f, &n.to_string(), ctx);
            }
            Op::Default | Op::Alt => {
                let use_word = if p.op == Op::Default { !set } else { set };
                if use_word {
                    self.expand_parts(
                        &p.word,
                        Ctx {
                            lit_split: !ctx.quoted,
                            ..ctx
                        },
                        f,
                        b,
                    )?;
                } else if p.op == Op::Default {
                    self.push_value(f, &value.unwrap_or_default(), ctx);
                }
            }
            Op::Assign => {
                let v = if set {
                    value.unwrap_or_default()
                } else {
                    let v = self.expand_str(&p.word, b)?;
                    self.assign(&p.name, &v, b)?;
                    v
                };
                self.push_value(f, &v, ctx);
            }
            Op::Error => {
                if !set {
                    let msg = self.expand_str(&p.word, b)?;
                    let msg = if msg.is_empty() {
                        "parameter not set".to_string()
                    } else {
                        msg
                    };
                    self.error(b, &format!("{}: {msg}", p.name));
                    return Err(Flow::Exit(2));
                }
                self.push_value(f, &value.unwrap_or_default(), ctx);
            }
            Op::TrimPrefix { long } | Op::TrimSuffix { long } => {
                let v = self.require(&p.name, value, b)?;
                let pat = self.expand_pattern(&p.word, b)?;
                let suffix = matches!(p.op, Op::TrimSuffix { .. });
                self.push_value(f, &pattern::trim(&v, &pat, suffix, long), ctx);
            }
            Op::Replace { all } => {
                let v = self.require(&p.name, value, b)?;
                let pat = self.expand_pattern(&p.word, b)?;
                let rep = match &p.word2 {
                    Some(w) => self.expand_str(w, b)?,
                    None => String::new(),
                };
                self.push_value(f, &pattern::replace(&v, &pat, &rep, all), ctx);
            }
            Op::Substr => {
                let v: Vec<char> = self.require(&p.name, value, b)?.chars().collect();
                let n = v.len() as i64;
                let off_text = self.expand_str(&p.word, b)?;
                let off = self.arith(&off_text, b)?;
                let start = if off < 0 {
                    (n + off).max(0)
                } else {
                    off.min(n)
                };
                let end = match &p.word2 {
                    Some(w) => {
                        let len_text = self.expand_str(w, b)?;
                        let len = self.arith(&len_text, b)?;
                        if len < 0 {
                            (n + len).max(start)
                        } else {
                            start.saturating_add(len).min(n)
                        }
                    }
                    None => n,
                };
                let s: String = v[start as usize..end as usize].iter().collect();
                self.push_value(f, &s, ctx);
            }
        }
        Ok(())
    }

    fn glob_field(&self, field: &[(char, bool)], out: &mut Vec<String>) {
        let text: String = field.iter().map(|c| c.0).collect();
        if self.opts.noglob
            || !field
                .iter()
                .any(|&(c, a)| a && matches!(c, '*' | '?' | '['))
        {
            out.push(text);
            return;
        }
        let mut found = self.glob(field);
        if found.is_empty() {
            out.push(text);
        } else {
            found.sort();
            out.extend(found);
        }
    }

    fn glob(&self, field: &[(char, bool)]) -> Vec<String> {
        let absolute = field.first().is_some_and(|c| c.0 == '/');
        let trailing = field.len() > 1 && field.last().is_some_and(|c| c.0 == '/');
        let comps: Vec<&[(char, bool)]> = field
            .split(|c| c.0 == '/')
            .filter(|c| !c.is_empty())
            .collect();
        let mut paths = vec![if absolute {
            "/".to_string()
        } else {
            String::new()
        }];
        let join = |p: &str, n: &str| {
            if p.is_empty() {
                n.to_string()
            } else if p.ends_with('/') {
                format!("{p}{n}")
            } else {
                format!("{p}/{n}")
            }
        };
        for comp in comps {
            let mut next = Vec::new();
            let has_glob = comp.iter().any(|&(c, a)| a && matches!(c, '*' | '?' | '['));
            for p in &paths {
                if has_glob {
                    let pat = to_pattern(comp);
                    let dir = if p.is_empty() { "." } else { p.as_str() };
                    let Ok(entries) = std::fs::read_dir(self.sys.host_path(dir)) else {
                        continue;
                    };
                    let mut names: Vec<String> = entries
                        .filter_map(|e| e.ok()?.file_name().into_string().ok())
                        .collect();
                    names.sort();
                    for n in names {
                        if n.starts_with('.') && comp.first().is_none_or(|c| c.0 != '.') {
                            continue;
                        }
                        if pattern::matches(&pat, &n) {
                            next.push(join(p, &n));
                        }
                    }
                } else {
                    let name: String = comp.iter().map(|c| c.0).collect();
                    next.push(join(p, &name));
                }
            }
            paths = next;
        }
        paths.retain(|p| self.sys.exists(p) && (!trailing || self.sys.host_path(p).is_dir()));
        if trailing {
            for p in &mut paths {
                p.push('/');
            }
        }
        paths
    }

    /// Runs a command substitution in a copy of the shell; its output without trailing newlines.
    fn command_output(&mut self, list: &List, b: &Base<'_>) -> String {
        let buf = Rc::new(RefCell::new(Vec::new()));
        let mut sub = self.subshell();
        sub.fds[1] = out_fd(Shared(Rc::clone(&buf)));
        let st = sub.run_list(list, b);
        self.sub_status = Some(st);
        let bytes = std::mem::take(&mut *buf.borrow_mut());
        let mut out = String::from_utf8_lossy(&bytes).into_owned();
        while out.ends_with('\n') {
            out.pop();
        }
        out
    }

    // ---- running ----

    pub fn subshell(&self) -> Shell {
        let mut s = self.clone();
        s.exit_trap = None;
        s
    }

    /// Runs a list to its end as a whole shell does: `exit` ends it, the EXIT trap runs.
    pub fn run_list(&mut self, list: &List, b: &Base<'_>) -> i32 {
        let st = match self.exec_list(list, b) {
            Ok(st) => st,
            Err(Flow::Exit(n) | Flow::Return(n)) => n,
            Err(Flow::Break(_) | Flow::Continue(_)) => self.status,
        };
        self.finish(st, b)
    }

    /// Runs the EXIT trap, if any; the shell's exit status.
    pub fn finish(&mut self, st: i32, b: &Base<'_>) -> i32 {
        let Some(trap) = self.exit_trap.take() else {
            return st;
        };
        self.status = st;
        match parse::parse(&trap, self.line, 0) {
            Ok(list) => match self.exec_list(&list, b) {
                Err(Flow::Exit(n)) => n,
                _ => st,
            },
            Err(e) => {
                let _ = writeln!(self.writer(2, b), "sh: line {}: {}", e.line, e.msg);
                st
            }
        }
    }

    fn run_sub(&self, list: &List, b: &Base<'_>) -> i32 {
        let mut sub = self.subshell();
        sub.run_list(list, b)
    }

    pub fn exec_list(&mut self, list: &List, b: &Base<'_>) -> R {
        self.depth += 1;
        if self.depth > MAX_EXEC_DEPTH {
            self.depth -= 1;
            self.error(b, "nesting too deep");
            return Err(Flow::Exit(2));
        }
        let r = self.exec_items(list, b);
        self.depth -= 1;
        r
    }

    fn exec_items(&mut self, list: &List, b: &Base<'_>) -> R {
        let mut st = 0;
        for item in &list.0 {
            st = if item.background {
                let mut sub = self.subshell();
                let s = match sub.exec_and_or(&item.and_or, b) {
                    Ok(s) => s,
                    Err(Flow::Exit(n) | Flow::Return(n)) => n,
                    Err(_) => sub.status,
                };
                sub.finish(s, b);
                self.last_bg = Some(self.pid + 1 + self.last_bg.map_or(0, |p| p - self.pid));
                0
            } else {
                self.exec_and_or(&item.and_or, b)?
            };
            self.status = st;
        }
        Ok(st)
    }

    fn exec_and_or(&mut self, ao: &AndOr, b: &Base<'_>) -> R {
        let n = ao.rest.len();
        let mut st = self.exec_checked(&ao.first, n > 0, b)?;
        for (i, (and, p)) in ao.rest.iter().enumerate() {
            self.status = st;
            if *and == (st == 0) {
                st = self.exec_checked(p, i + 1 < n, b)?;
            }
        }
        Ok(st)
    }

    /// Runs a pipeline; with `set -e`, a failure outside a condition ends the shell.
    fn exec_checked(&mut self, p: &Pipeline, in_cond: bool, b: &Base<'_>) -> R {
        if in_cond {
            self.cond += 1;
        }
        let r = self.exec_pipeline(p, b);
        if in_cond {
            self.cond -= 1;
        }
        let st = r?;
        if st != 0 && self.opts.errexit && self.cond == 0 && !in_cond && !p.negated {
            return Err(Flow::Exit(st));
        }
        Ok(st)
    }

    fn exec_pipeline(&mut self, p: &Pipeline, b: &Base<'_>) -> R {
        if p.negated {
            self.cond += 1;
        }
        let r = if p.commands.len() == 1 {
            self.exec_command(&p.commands[0], b)
        } else {
            self.exec_stages(p, b)
        };
        if p.negated {
            self.cond -= 1;
        }
        let st = r?;
        Ok(if p.negated { i32::from(st == 0) } else { st })
    }

    fn exec_stages(&mut self, p: &Pipeline, b: &Base<'_>) -> R {
        let mut input = None;
        let mut statuses = Vec::new();
        let mut start = 0;
        if let Some((fd, st)) = self.lazy_head(&p.commands[0], b)? {
            input = Some(fd);
            statuses.push(st);
            start = 1;
        }
        let n = p.commands.len();
        for (i, c) in p.commands.iter().enumerate().skip(start) {
            let mut sub = self.subshell();
            if let Some(fd) = input.take() {
                sub.fds[0] = fd;
            }
            let buf = (i + 1 < n).then(|| Rc::new(RefCell::new(Vec::new())));
            if let Some(v) = &buf {
                sub.fds[1] = out_fd(Shared(Rc::clone(v)));
            }
            let st = match sub.exec_command(c, b) {
                Ok(s) => s,
                Err(Flow::Exit(s) | Flow::Return(s)) => s,
                Err(_) => sub.status,
            };
            statuses.push(sub.finish(st, b));
            if let Some(v) = buf {
                input = Some(in_fd(Cursor::new(std::mem::take(&mut *v.borrow_mut()))));
            }
        }
        let last = statuses.last().copied().unwrap_or(0);
        if self.opts.pipefail {
            return Ok(statuses
                .iter()
                .rev()
                .find(|&&s| s != 0)
                .copied()
                .unwrap_or(0));
        }
        Ok(last)
    }

    /// `cat FILE...` or `yes [WORD]` heading a pipeline, read lazily by the next stage.
    fn lazy_head(&mut self, c: &Command, b: &Base<'_>) -> R<Option<(Fd, i32)>> {
        let Command::Simple(s) = c else {
            return Ok(None);
        };
        let Some(name) = s.words.first().and_then(lit) else {
            return Ok(None);
        };
        let options = s.words[1..]
            .iter()
            .any(|w| matches!(w.first(), Some(Part::Lit(t)) if t.starts_with('-') && t != "-"));
        if !s.assigns.is_empty() || !s.redirs.is_empty() || self.funcs.contains_key(name) || options
        {
            return Ok(None);
        }
        if name != "yes" && name != "cat" {
            return Ok(None);
        }
        self.line = s.line;
        let argv = self.expand_words(&s.words, b)?;
        self.trace(&[], &argv, b);
        if name == "yes" {
            let word = if argv.len() > 1 {
                argv[1..].join(" ")
            } else {
                "y".to_string()
            };
            let data = format!("{word}\n").into_bytes();
            return Ok(Some((in_fd(Repeat { data, pos: 0 }), 0)));
        }
        let files = if argv.len() > 1 {
            argv[1..].to_vec()
        } else {
            vec!["-".to_string()]
        };
        let mut readers: VecDeque<Box<dyn Read>> = VecDeque::new();
        let mut st = 0;
        for file in files {
            if file == "-" || file == "/dev/stdin" {
                match &self.fds[0] {
                    Fd::In(r) => readers.push_back(Box::new(RcRead(Rc::clone(r)))),
                    Fd::Base(_) => {
                        let mut all = Vec::new();
                        let _ = self.reader(b).read_to_end(&mut all);
                        readers.push_back(Box::new(Cursor::new(all)));
                    }
                    _ => {}
                }
                continue;
            }
            match self.sys.open_read(&file) {
                Ok(r) => readers.push_back(r),
                Err(e) => {
                    let _ = writeln!(self.writer(2, b), "cat: {file}: {}", describe(&e));
                    st = 1;
                }
            }
        }
        Ok(Some((in_fd(Chain(readers)), st)))
    }

    pub fn exec_command(&mut self, c: &Command, b: &Base<'_>) -> R {
        match c {
            Command::Simple(s) => self.exec_simple(s, b),
            Command::Function(name, body) => {
                self.funcs.insert(name.clone(), Rc::clone(body));
                Ok(0)
            }
            Command::Compound(cc, redirs) => {
                if redirs.is_empty() {
                    return self.exec_compound(cc, b);
                }
                let saved = self.fds.clone();
                let r = match self.redirect(redirs, b) {
                    Ok(true) => self.exec_compound(cc, b),
                    Ok(false) => Ok(1),
                    Err(e) => Err(e),
                };
                self.fds = saved;
                r
            }
        }
    }

    fn cond_list(&mut self, list: &List, b: &Base<'_>) -> R {
        self.cond += 1;
        let r = self.exec_list(list, b);
        self.cond -= 1;
        r
    }

    /// Runs a loop body; `Some(status)` to go on, `None` to stop the loop.
    fn loop_body(&mut self, body: &List, b: &Base<'_>) -> R<Option<i32>> {
        self.loops += 1;
        let r = self.exec_list(body, b);
        self.loops -= 1;
        match r {
            Ok(st) => Ok(Some(st)),
            Err(Flow::Break(n)) if n > 1 => Err(Flow::Break(n - 1)),
            Err(Flow::Break(_)) => Ok(None),
            Err(Flow::Continue(n)) if n > 1 => Err(Flow::Continue(n - 1)),
            Err(Flow::Continue(_)) => Ok(Some(0)),
            Err(e) => Err(e),
        }
    }

    fn exec_compound(&mut self, c: &Compound, b: &Base<'_>) -> R {
        match c {
            Compound::Brace(list) => self.exec_list(list, b),
            Compound::Subshell(list) => Ok(self.run_sub(list, b)),
            Compound::If(arms, otherwise) => {
                for (cond, body) in arms {
                    if self.cond_list(cond, b)? == 0 {
                        return self.exec_list(body, b);
                    }
                }
                match otherwise {
                    Some(list) => self.exec_list(list, b),
                    None => Ok(0),
                }
            }
            Compound::Loop { until, cond, body } => {
                let mut st = 0;
                loop {
                    let c = self.cond_list(cond, b)?;
                    if (c == 0) == *until {
                        break;
                    }
                    match self.loop_body(body, b)? {
                        Some(s) => st = s,
                        None => {
                            st = 0;
                            break;
                        }
                    }
                }
                Ok(st)
            }
            Compound::For { var, words, body } => {
                let items = match words {
                    Some(ws) => self.expand_words(ws, b)?,
                    None => self.params.clone(),
                };
                let mut st = 0;
                for item in items {
                    self.assign(var, &item, b)?;
                    match self.loop_body(body, b)? {
                        Some(s) => st = s,
                        None => {
                            st = 0;
                            break;
                        }
                    }
                }
                Ok(st)
            }
            Compound::Case(word, arms) => {
                let w = self.expand_str(word, b)?;
                for (pats, body) in arms {
                    for p in pats {
                        let pat = self.expand_pattern(p, b)?;
                        if pattern::matches(&pat, &w) {
                            return self.exec_list(body, b);
                        }
                    }
                }
                Ok(0)
            }
        }
    }

    fn trace(&self, assigns: &[(String, String)], argv: &[String], b: &Base<'_>) {
        if !self.opts.xtrace {
            return;
        }
        let mut parts: Vec<String> = assigns
            .iter()
            .map(|(n, v)| format!("{n}={}", quote(v)))
            .collect();
        parts.extend(argv.iter().map(|a| quote(a)));
        let _ = writeln!(self.writer(2, b), "+ {}", parts.join(" "));
    }

    fn exec_simple(&mut self, c: &Simple, b: &Base<'_>) -> R {
        self.line = c.line;
        self.sub_status = None;
        let argv = self.expand_words(&c.words, b)?;
        let mut assigns = Vec::with_capacity(c.assigns.len());
        for (name, w) in &c.assigns {
            let v = self.expand_str(w, b)?;
            assigns.push((name.clone(), v));
        }
        self.trace(&assigns, &argv, b);
        if argv.is_empty() {
            for (name, v) in &assigns {
                self.assign(name, v, b)?;
            }
            let st = self.sub_status.unwrap_or(0);
            if c.redirs.is_empty() {
                return Ok(st);
            }
            let saved = self.fds.clone();
            let r = self.redirect(&c.redirs, b);
            self.fds = saved;
            return Ok(if r? { st } else { 1 });
        }
        if argv.len() == 1 && argv[0] == "exec" {
            return if self.redirect(&c.redirs, b)? {
                Ok(0)
            } else {
                Err(Flow::Exit(1))
            };
        }
        let saved = self.fds.clone();
        let r = match self.redirect(&c.redirs, b) {
            Ok(true) => self.run_command(&argv, &assigns, b),
            Ok(false) => Ok(1),
            Err(e) => Err(e),
        };
        self.fds = saved;
        r
    }

    /// Runs an expanded command: special builtin, function, builtin, tool or script file.
    pub fn run_command(
        &mut self,
        argv: &[String],
        assigns: &[(String, String)],
        b: &Base<'_>,
    ) -> R {
        let name = argv[0].as_str();
        if super::builtins::is_special(name) {
            for (n, v) in assigns {
                self.assign(n, v, b)?;
            }
            return self.builtin(argv, b);
        }
        if let Some(body) = self.funcs.get(name).cloned() {
            let saved = self.push_temp(assigns, b)?;
            let r = self.call_function(&body, argv, b);
            self.pop_temp(saved);
            return r;
        }
        if super::builtins::is_builtin(name) {
            let saved = self.push_temp(assigns, b)?;
            let r = self.builtin(argv, b);
            self.pop_temp(saved);
            return r;
        }
        Ok(self.external(argv, assigns, b))
    }

    fn push_temp(
        &mut self,
        assigns: &[(String, String)],
        b: &Base<'_>,
    ) -> R<Vec<(String, Option<Var>)>> {
        let mut saved = Vec::new();
        for (n, v) in assigns {
            saved.push((n.clone(), self.vars.get(n).cloned()));
            self.assign(n, v, b)?;
            if let Some(var) = self.vars.get_mut(n) {
                var.exported = true;
            }
            self.sync_env(n);
        }
        Ok(saved)
    }

    pub(super) fn pop_temp(&mut self, saved: Vec<(String, Option<Var>)>) {
        for (n, old) in saved.into_iter().rev() {
            match old {
                Some(v) => {
                    self.vars.insert(n.clone(), v);
                }
                None => {
                    self.vars.remove(&n);
                }
            }
            self.sync_env(&n);
        }
    }

    pub fn call_function(&mut self, body: &Command, argv: &[String], b: &Base<'_>) -> R {
        let saved_params = std::mem::replace(&mut self.params, argv[1..].to_vec());
        let saved_loops = std::mem::take(&mut self.loops);
        self.locals.push(Vec::new());
        let r = self.exec_command(body, b);
        if let Some(frame) = self.locals.pop() {
            self.pop_temp(frame);
        }
        self.params = saved_params;
        self.loops = saved_loops;
        match r {
            Err(Flow::Return(n)) => Ok(n),
            other => other,
        }
    }

    /// Runs a tool of the toolbox, or a script file with a new shell.
    pub fn external(&mut self, argv: &[String], assigns: &[(String, String)], b: &Base<'_>) -> i32 {
        let name = argv[0].as_str();
        let mut args = argv[1..].to_vec();
        let tool = if name.contains('/') {
            let base = crate::tool_name(name);
            let dir = name.rsplit_once('/').map_or("", |(d, _)| d);
            let bin_dir = matches!(
                dir,
                "/bin" | "/usr/bin" | "/sbin" | "/usr/sbin" | "/usr/local/bin"
            );
            if crate::has_tool(&base) && (bin_dir || !self.sys.exists(name)) {
                base
            } else if self.sys.exists(name) {
                if self.sys.host_path(name).is_dir() {
                    self.error_plain(b, &format!("{name}: Permission denied"));
                    return 126;
                }
                args.insert(0, name.to_string());
                "sh".to_string()
            } else {
                self.error_plain(b, &format!("{name}: command not found in skiff's toolbox"));
                return NOT_FOUND;
            }
        } else {
            let base = crate::tool_name(name);
            if !crate::has_tool(&base) {
                self.error_plain(b, &format!("{name}: command not found in skiff's toolbox"));
                return NOT_FOUND;
            }
            base
        };
        self.call_tool(&tool, &args, assigns, b)
    }

    fn call_tool(
        &mut self,
        tool: &str,
        args: &[String],
        assigns: &[(String, String)],
        b: &Base<'_>,
    ) -> i32 {
        let saved_env = if assigns.is_empty() {
            None
        } else {
            let saved = self.sys.env.clone();
            for (n, v) in assigns {
                self.sys.env.insert(n.clone(), v.clone());
            }
            Some(saved)
        };
        let mut stdin = self.reader(b);
        let mut stdout = self.writer(1, b);
        let mut stderr = self.writer(2, b);
        let code = {
            let mut io = Io {
                stdin: &mut stdin,
                stdout: &mut stdout,
                stderr: &mut stderr,
            };
            crate::run(tool, args, &mut self.sys, &mut io)
        };
        let _ = stdout.flush();
        if let Some(env) = saved_env {
            self.sys.env = env;
        }
        code.unwrap_or_else(|| {
            self.error_plain(b, &format!("{tool}: command not found in skiff's toolbox"));
            NOT_FOUND
        })
    }

    /// Applies redirections to the shell's descriptors; false (after a message) when one fails.
    pub fn redirect(&mut self, redirs: &[Redir], b: &Base<'_>) -> R<bool> {
        for r in redirs {
            if r.fd >= self.fds.len() {
                self.error(b, &format!("{}: bad file descriptor", r.fd));
                return Ok(false);
            }
            let mut both = matches!(r.op, RedirOp::Both | RedirOp::BothAppend);
            let fd = match r.op {
                RedirOp::Here => {
                    let body = r
                        .here
                        .as_ref()
                        .map(|h| h.borrow().clone())
                        .unwrap_or_default();
                    let text = self.expand_str(&body, b)?;
                    in_fd(Cursor::new(text.into_bytes()))
                }
                RedirOp::HereString => {
                    let text = self.expand_str(&r.target, b)? + "\n";
                    in_fd(Cursor::new(text.into_bytes()))
                }
                _ => {
                    let target = self.expand_str(&r.target, b)?;
                    match self.open_target(r.op, &target, b) {
                        Some((fd, as_both)) => {
                            both |= as_both;
                            fd
                        }
                        None => return Ok(false),
                    }
                }
            };
            if both {
                self.fds[1] = fd.clone();
                self.fds[2] = fd;
            } else {
                self.fds[r.fd] = fd;
            }
        }
        Ok(true)
    }

    fn open_target(&mut self, op: RedirOp, target: &str, b: &Base<'_>) -> Option<(Fd, bool)> {
        let std_fd = match target {
            "/dev/stdin" => Some(0),
            "/dev/stdout" => Some(1),
            "/dev/stderr" => Some(2),
            _ => None,
        };
        match op {
            RedirOp::DupIn | RedirOp::DupOut => {
                if target == "-" {
                    return Some((Fd::Closed, false));
                }
                if let Ok(n) = target.parse::<usize>()
                    && n < self.fds.len()
                {
                    return Some((self.fds[n].clone(), false));
                }
                if op == RedirOp::DupIn {
                    self.error(b, &format!("{target}: bad file descriptor"));
                    return None;
                }
                self.open_target(RedirOp::Out, target, b)
                    .map(|(fd, _)| (fd, true))
            }
            RedirOp::In | RedirOp::ReadWrite => {
                if let Some(n) = std_fd {
                    return Some((self.fds[n].clone(), false));
                }
                match self.sys.open_read(target) {
                    Ok(r) => Some((in_fd(r), false)),
                    Err(e) if op == RedirOp::ReadWrite && e.kind() == io::ErrorKind::NotFound => {
                        let _ = self.sys.open_write(target, true);
                        Some((in_fd(io::empty()), false))
                    }
                    Err(e) => {
                        self.error_plain(b, &format!("can't open {target}: {}", describe(&e)));
                        None
                    }
                }
            }
            _ => {
                if let Some(n) = std_fd {
                    return Some((self.fds[n].clone(), false));
                }
                let append = matches!(op, RedirOp::Append | RedirOp::BothAppend);
                match self.sys.open_write(target, append) {
                    Ok(w) => Some((Fd::Out(Rc::new(RefCell::new(w))), false)),
                    Err(e) => {
                        self.error_plain(b, &format!("can't create {target}: {}", describe(&e)));
                        None
                    }
                }
            }
        }
    }
}

impl arith::Vars for Shell {
    fn get(&mut self, name: &str) -> Result<i64, String> {
        let v = self.param_value(name).unwrap_or_default();
        if v.trim().is_empty() {
            return Ok(0);
        }
        arith::parse_number(&v).ok_or_else(|| format!("bad number: {name}={v}"))
    }

    fn set(&mut self, name: &str, value: i64) -> Result<(), String> {
        self.set_var(name, &value.to_string())
    }
}
