//! awk's interpreter: values, variables, records and fields, statements, builtins.

use super::parser::{BinOp, CmpOp, Expr, Pattern, Program, Redir, Stmt, VarRef};
use crate::tools::printf::{self, ArgSource, float_prefix};
use crate::tools::regex::{Regex, Syntax};
use crate::tools::{Output, is_stdin};
use crate::{Io, Sys, describe};
use std::cell::RefCell;
use std::cmp::Ordering;
use std::collections::HashMap;
use std::io::{self, Read};
use std::rc::Rc;

/// An awk value.
#[derive(Debug, Clone)]
pub(crate) enum Value {
    Uninit,
    Num(f64),
    Str(String),
    /// A string from input that looks like a number: compares as a number.
    StrNum(String),
}

fn is_blank(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0b' | '\x0c')
}

/// Whether `s` looks like a number (for input strings).
pub(crate) fn looks_numeric(s: &str) -> bool {
    let t = s.trim_matches(is_blank);
    !t.is_empty() && float_prefix(t).1 == t.len()
}

/// A value from input: a strnum when it looks like a number.
pub(crate) fn strnum(s: String) -> Value {
    if looks_numeric(&s) {
        Value::StrNum(s)
    } else {
        Value::Str(s)
    }
}

/// The numeric value of a string: its leading number, 0 when none.
pub(crate) fn str_to_num(s: &str) -> f64 {
    let t = s.trim_start_matches(is_blank);
    float_prefix(t).0
}

fn to_num(v: &Value) -> f64 {
    match v {
        Value::Uninit => 0.0,
        Value::Num(n) => *n,
        Value::Str(s) | Value::StrNum(s) => str_to_num(s),
    }
}

fn truthy(v: &Value) -> bool {
    match v {
        Value::Uninit => false,
        Value::Num(n) => *n != 0.0,
        Value::Str(s) => !s.is_empty(),
        Value::StrNum(s) => str_to_num(s) != 0.0,
    }
}

fn is_numeric(v: &Value) -> bool {
    matches!(v, Value::Uninit | Value::Num(_) | Value::StrNum(_))
}

struct OneFloat(f64, bool);

impl ArgSource for OneFloat {
    fn has_next(&self) -> bool {
        !self.1
    }
    fn text(&mut self) -> String {
        self.1 = true;
        format!("{}", self.0)
    }
    fn int(&mut self) -> i64 {
        self.1 = true;
        clamp_int(self.0)
    }
    fn float(&mut self) -> f64 {
        self.1 = true;
        self.0
    }
    fn character(&mut self) -> String {
        self.text()
    }
}

fn clamp_int(n: f64) -> i64 {
    if n.is_nan() {
        0
    } else {
        n.trunc().clamp(i64::MIN as f64, i64::MAX as f64) as i64
    }
}

/// A number as text: integers as integers, others through `fmt` (CONVFMT or OFMT).
pub(crate) fn num_to_str(n: f64, fmt: &str) -> String {
    if n.is_nan() {
        return if n.is_sign_negative() { "-nan" } else { "nan" }.to_string();
    }
    if n.is_infinite() {
        return if n < 0.0 { "-inf" } else { "inf" }.to_string();
    }
    if n == n.trunc() {
        if n.abs() < 1e18 {
            return format!("{}", n as i64);
        }
        return format!("{n:.0}");
    }
    let mut out = Vec::new();
    printf::format(fmt.as_bytes(), &mut OneFloat(n, false), false, &mut out);
    String::from_utf8_lossy(&out).into_owned()
}

/// An associative array, iterated in insertion order.
#[derive(Debug, Default)]
pub(crate) struct AwkArray {
    map: HashMap<String, Value>,
    order: Vec<String>,
}

impl AwkArray {
    fn get(&mut self, key: &str) -> Value {
        if let Some(v) = self.map.get(key) {
            return v.clone();
        }
        self.set(key.to_string(), Value::Uninit);
        Value::Uninit
    }

    fn set(&mut self, key: String, v: Value) {
        if let Some(slot) = self.map.get_mut(&key) {
            *slot = v;
        } else {
            self.order.push(key.clone());
            self.map.insert(key, v);
        }
    }

    fn contains(&self, key: &str) -> bool {
        self.map.contains_key(key)
    }

    fn remove(&mut self, key: &str) {
        if self.map.remove(key).is_some() {
            self.order.retain(|k| k != key);
        }
    }

    fn clear(&mut self) {
        self.map.clear();
        self.order.clear();
    }

    fn keys(&self) -> Vec<String> {
        self.order.clone()
    }

    fn len(&self) -> usize {
        self.map.len()
    }
}

type Array = Rc<RefCell<AwkArray>>;

#[derive(Debug, Clone)]
enum Cell {
    Val(Value),
    Arr(Array),
}

enum Flow {
    Normal,
    Break,
    Continue,
    Return(Value),
}

/// Why evaluation stopped early.
pub(crate) enum Abort {
    Error(String),
    Exit,
    Next,
    Nextfile,
}

type R<T> = Result<T, Abort>;

/// How deep user functions may call each other. The interpreter recurses on the native stack (about 2 KiB a
/// call in a release build; wasm32-wasip1 gives 1 MiB), and debug builds use ten times as much.
const MAX_CALL_DEPTH: usize = if cfg!(debug_assertions) { 40 } else { 200 };

fn fail<T>(msg: impl Into<String>) -> R<T> {
    Err(Abort::Error(msg.into()))
}

/// Reads records from a stream.
struct Reader {
    /// `None`: standard input.
    src: Option<Box<dyn Read>>,
    buf: Vec<u8>,
    start: usize,
    eof: bool,
}

impl Reader {
    fn new(src: Option<Box<dyn Read>>) -> Reader {
        Reader {
            src,
            buf: Vec::new(),
            start: 0,
            eof: false,
        }
    }

    fn read_until(&mut self, stdin: &mut dyn Read, sep: u8) -> io::Result<Option<String>> {
        loop {
            if let Some(idx) = self.buf[self.start..].iter().position(|&b| b == sep) {
                let rec =
                    String::from_utf8_lossy(&self.buf[self.start..self.start + idx]).into_owned();
                self.start += idx + 1;
                return Ok(Some(rec));
            }
            if self.eof {
                if self.start < self.buf.len() {
                    let rec = String::from_utf8_lossy(&self.buf[self.start..]).into_owned();
                    self.start = self.buf.len();
                    return Ok(Some(rec));
                }
                return Ok(None);
            }
            self.buf.drain(..self.start);
            self.start = 0;
            let mut chunk = [0u8; 8192];
            let n = match &mut self.src {
                Some(r) => r.read(&mut chunk),
                None => stdin.read(&mut chunk),
            };
            match n {
                Ok(0) => self.eof = true,
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    fn read_record(&mut self, stdin: &mut dyn Read, rs: &str) -> io::Result<Option<String>> {
        if rs.is_empty() {
            // Paragraph mode: records are separated by blank lines.
            let mut lines: Vec<String> = Vec::new();
            loop {
                match self.read_until(stdin, b'\n')? {
                    None => break,
                    Some(l) if l.is_empty() => {
                        if !lines.is_empty() {
                            break;
                        }
                    }
                    Some(l) => lines.push(l),
                }
            }
            return Ok(if lines.is_empty() {
                None
            } else {
                Some(lines.join("\n"))
            });
        }
        let sep = rs.as_bytes()[0];
        self.read_until(stdin, sep)
    }
}

/// The interpreter's state for one run.
pub(crate) struct Interp<'a, 'b> {
    prog: Rc<Program>,
    sys: &'a mut Sys,
    io: &'a mut Io<'b>,
    globals: HashMap<String, Cell>,
    frames: Vec<Vec<Cell>>,
    record: String,
    fields: Vec<String>,
    split_done: bool,
    range_active: Vec<bool>,
    main: Option<Reader>,
    argi: usize,
    had_file: bool,
    inputs: HashMap<String, Reader>,
    outputs: HashMap<String, Output>,
    cache: HashMap<String, Rc<Regex>>,
    seed: f64,
    rng: u64,
    exit_code: i32,
}

impl<'a, 'b> Interp<'a, 'b> {
    pub(crate) fn new(prog: Program, sys: &'a mut Sys, io: &'a mut Io<'b>) -> Self {
        let rules = prog.rules.len();
        let mut interp = Interp {
            prog: Rc::new(prog),
            sys,
            io,
            globals: HashMap::new(),
            frames: Vec::new(),
            record: String::new(),
            fields: Vec::new(),
            split_done: true,
            range_active: vec![false; rules],
            main: None,
            argi: 1,
            had_file: false,
            inputs: HashMap::new(),
            outputs: HashMap::new(),
            cache: HashMap::new(),
            seed: 0.0,
            rng: 0,
            exit_code: 0,
        };
        interp.reseed(0.0);
        for (k, v) in [
            ("FS", " "),
            ("OFS", " "),
            ("ORS", "\n"),
            ("RS", "\n"),
            ("SUBSEP", "\x1c"),
            ("CONVFMT", "%.6g"),
            ("OFMT", "%.6g"),
            ("FILENAME", ""),
        ] {
            interp.set_global(k, Value::Str(v.to_string()));
        }
        for k in ["NR", "FNR", "RSTART", "RLENGTH"] {
            interp.set_global(k, Value::Num(0.0));
        }
        let env = Rc::new(RefCell::new(AwkArray::default()));
        for (k, v) in &interp.sys.env {
            env.borrow_mut().set(k.clone(), strnum(v.clone()));
        }
        interp.globals.insert("ENVIRON".to_string(), Cell::Arr(env));
        interp
    }

    /// Sets a global variable.
    pub(crate) fn set_global(&mut self, name: &str, v: Value) {
        self.globals.insert(name.to_string(), Cell::Val(v));
    }

    /// Sets `ARGV` and `ARGC` from the operands.
    pub(crate) fn set_args(&mut self, operands: &[String]) {
        let argv = Rc::new(RefCell::new(AwkArray::default()));
        argv.borrow_mut()
            .set("0".to_string(), Value::Str("awk".to_string()));
        for (i, a) in operands.iter().enumerate() {
            argv.borrow_mut()
                .set((i + 1).to_string(), strnum(a.clone()));
        }
        self.globals.insert("ARGV".to_string(), Cell::Arr(argv));
        self.set_global("ARGC", Value::Num((operands.len() + 1) as f64));
    }

    fn global_str(&self, name: &str) -> String {
        match self.globals.get(name) {
            Some(Cell::Val(v)) => self.str_of(v),
            _ => String::new(),
        }
    }

    fn convfmt(&self) -> String {
        self.global_str("CONVFMT")
    }

    fn str_of(&self, v: &Value) -> String {
        match v {
            Value::Uninit => String::new(),
            Value::Num(n) => {
                let fmt = match self.globals.get("CONVFMT") {
                    Some(Cell::Val(Value::Str(f))) => f.as_str(),
                    _ => "%.6g",
                };
                num_to_str(*n, fmt)
            }
            Value::Str(s) | Value::StrNum(s) => s.clone(),
        }
    }

    fn out_str(&self, v: &Value) -> String {
        match v {
            Value::Num(n) => num_to_str(*n, &self.global_str("OFMT")),
            other => self.str_of(other),
        }
    }

    fn fatal(&mut self, msg: &str) -> i32 {
        let _ = self.io.stdout.flush();
        let _ = writeln!(self.io.stderr, "awk: {msg}");
        2
    }

    /// Runs BEGIN, the main loop and END; returns the exit code.
    pub(crate) fn run(&mut self) -> i32 {
        let prog = Rc::clone(&self.prog);
        let mut exiting = false;
        for block in &prog.begin {
            match self.exec_block(block) {
                Ok(_) => {}
                Err(Abort::Exit) => {
                    exiting = true;
                    break;
                }
                Err(Abort::Error(e)) => return self.fatal(&e),
                Err(Abort::Next | Abort::Nextfile) => return self.fatal("next used in BEGIN"),
            }
        }
        if !exiting && (!prog.rules.is_empty() || !prog.end.is_empty()) {
            'records: loop {
                let rec = match self.next_main_record() {
                    Ok(Some(r)) => r,
                    Ok(None) => break,
                    Err(Abort::Error(e)) => return self.fatal(&e),
                    Err(_) => break,
                };
                self.bump("NR");
                self.bump("FNR");
                self.set_record(rec);
                for (i, rule) in prog.rules.iter().enumerate() {
                    let result = self.rule_matches(i, &rule.pattern).and_then(|hit| {
                        if !hit {
                            return Ok(());
                        }
                        match &rule.action {
                            None => {
                                let line = format!("{}{}", self.record, self.global_str("ORS"));
                                self.write_out(None, line.as_bytes())
                            }
                            Some(block) => self.exec_block(block).map(|_| ()),
                        }
                    });
                    match result {
                        Ok(()) => {}
                        Err(Abort::Next) => continue 'records,
                        Err(Abort::Nextfile) => {
                            self.main = None;
                            continue 'records;
                        }
                        Err(Abort::Exit) => break 'records,
                        Err(Abort::Error(e)) => return self.fatal(&e),
                    }
                }
            }
        }
        for block in &prog.end {
            match self.exec_block(block) {
                Ok(_) => {}
                Err(Abort::Exit) => break,
                Err(Abort::Error(e)) => return self.fatal(&e),
                Err(Abort::Next | Abort::Nextfile) => return self.fatal("next used in END"),
            }
        }
        let _ = self.io.stdout.flush();
        let names: Vec<String> = self.outputs.keys().cloned().collect();
        for name in names {
            if let Some(mut out) = self.outputs.remove(&name) {
                let _ = out.flush(self.io);
            }
        }
        self.exit_code
    }

    fn bump(&mut self, name: &str) {
        let n = match self.globals.get(name) {
            Some(Cell::Val(v)) => to_num(v),
            _ => 0.0,
        };
        self.set_global(name, Value::Num(n + 1.0));
    }

    fn rule_matches(&mut self, i: usize, pattern: &Pattern) -> R<bool> {
        match pattern {
            Pattern::All => Ok(true),
            Pattern::Expr(e) => Ok(truthy(&self.eval(e)?)),
            Pattern::Range(a, b) => {
                if self.range_active[i] {
                    if truthy(&self.eval(b)?) {
                        self.range_active[i] = false;
                    }
                    Ok(true)
                } else if truthy(&self.eval(a)?) {
                    if !truthy(&self.eval(b)?) {
                        self.range_active[i] = true;
                    }
                    Ok(true)
                } else {
                    Ok(false)
                }
            }
        }
    }

    fn next_main_record(&mut self) -> R<Option<String>> {
        loop {
            if self.main.is_none() && !self.open_next_main()? {
                return Ok(None);
            }
            let rs = self.global_str("RS");
            let Some(reader) = self.main.as_mut() else {
                return Ok(None);
            };
            match reader.read_record(&mut *self.io.stdin, &rs) {
                Ok(Some(r)) => return Ok(Some(r)),
                Ok(None) => self.main = None,
                Err(e) => {
                    let name = self.global_str("FILENAME");
                    self.main = None;
                    return fail(format!("read error ({name}): {}", describe(&e)));
                }
            }
        }
    }

    fn open_next_main(&mut self) -> R<bool> {
        let argc = match self.globals.get("ARGC") {
            Some(Cell::Val(v)) => to_num(v) as usize,
            _ => 1,
        };
        while self.argi < argc {
            let key = self.argi.to_string();
            self.argi += 1;
            let arg = match self.globals.get("ARGV") {
                Some(Cell::Arr(a)) => {
                    let v = a.borrow_mut().get(&key);
                    self.str_of(&v)
                }
                _ => String::new(),
            };
            if arg.is_empty() {
                continue;
            }
            if let Some((name, value)) = assignment(&arg) {
                let value = super::lexer::string_escapes(value);
                self.set_global(name, strnum(value));
                continue;
            }
            self.had_file = true;
            self.set_global("FILENAME", Value::Str(arg.clone()));
            self.set_global("FNR", Value::Num(0.0));
            if is_stdin(&arg) {
                self.main = Some(Reader::new(None));
                return Ok(true);
            }
            match self.sys.open_read(&arg) {
                Ok(r) => {
                    self.main = Some(Reader::new(Some(r)));
                    return Ok(true);
                }
                Err(e) => {
                    let _ = writeln!(
                        self.io.stderr,
                        "awk: cannot open \"{arg}\" ({})",
                        describe(&e)
                    );
                    self.exit_code = 2;
                }
            }
        }
        if !self.had_file {
            self.had_file = true;
            self.main = Some(Reader::new(None));
            return Ok(true);
        }
        Ok(false)
    }

    fn set_record(&mut self, rec: String) {
        self.record = rec;
        self.split_done = false;
    }

    fn split_record(&mut self) -> R<()> {
        if self.split_done {
            return Ok(());
        }
        let fs = self.global_str("FS");
        let record = std::mem::take(&mut self.record);
        let fields = self.split_with(&record, &fs);
        self.record = record;
        self.fields = fields?;
        self.split_done = true;
        Ok(())
    }

    fn split_with(&mut self, text: &str, fs: &str) -> R<Vec<String>> {
        if text.is_empty() {
            return Ok(Vec::new());
        }
        if fs == " " {
            return Ok(text
                .split(is_blank)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect());
        }
        if fs.is_empty() {
            return Ok(text.chars().map(String::from).collect());
        }
        let mut chars = fs.chars();
        if let (Some(c), None) = (chars.next(), chars.next())
            && c != '\\'
        {
            return Ok(text.split(c).map(str::to_string).collect());
        }
        let re = self.dyn_regex(fs)?;
        Ok(regex_split(&re, text))
    }

    fn rebuild(&mut self) {
        let ofs = self.global_str("OFS");
        self.record = self.fields.join(&ofs);
    }

    fn get_field(&mut self, i: usize) -> R<Value> {
        if i == 0 {
            return Ok(strnum(self.record.clone()));
        }
        self.split_record()?;
        Ok(match self.fields.get(i - 1) {
            Some(f) => strnum(f.clone()),
            None => Value::Uninit,
        })
    }

    fn set_field(&mut self, i: usize, s: String) -> R<()> {
        if i == 0 {
            self.set_record(s);
            return Ok(());
        }
        self.split_record()?;
        if self.fields.len() < i {
            self.fields.resize(i, String::new());
        }
        self.fields[i - 1] = s;
        self.rebuild();
        Ok(())
    }

    fn field_index(&mut self, e: &Expr) -> R<usize> {
        let v = self.eval(e)?;
        let n = to_num(&v);
        if n < 0.0 || n.is_nan() {
            return fail(format!(
                "trying to access out of range field {}",
                clamp_int(n)
            ));
        }
        if n > 1e7 {
            return fail(format!("field index {} is too large", clamp_int(n)));
        }
        Ok(n as usize)
    }

    fn frame_cell(&mut self, i: usize) -> R<&mut Cell> {
        match self.frames.last_mut().and_then(|f| f.get_mut(i)) {
            Some(c) => Ok(c),
            None => fail("internal error: no such local variable"),
        }
    }

    fn get_var(&mut self, v: &VarRef) -> R<Value> {
        match v {
            VarRef::Global(name) => {
                if name == "NF" {
                    self.split_record()?;
                    return Ok(Value::Num(self.fields.len() as f64));
                }
                match self.globals.get(name) {
                    None => Ok(Value::Uninit),
                    Some(Cell::Val(v)) => Ok(v.clone()),
                    Some(Cell::Arr(_)) => fail(format!("can't use array {name} in scalar context")),
                }
            }
            VarRef::Local(i) => match self.frame_cell(*i)? {
                Cell::Val(v) => Ok(v.clone()),
                Cell::Arr(_) => fail("can't use an array parameter in scalar context"),
            },
        }
    }

    fn set_var(&mut self, v: &VarRef, val: Value) -> R<()> {
        match v {
            VarRef::Global(name) => {
                if name == "NF" {
                    self.split_record()?;
                    let n = to_num(&val).max(0.0) as usize;
                    self.fields.resize(n, String::new());
                    self.rebuild();
                    return Ok(());
                }
                if let Some(Cell::Arr(_)) = self.globals.get(name) {
                    return fail(format!("can't assign to {name}; it's an array name."));
                }
                self.globals.insert(name.clone(), Cell::Val(val));
                Ok(())
            }
            VarRef::Local(i) => {
                let cell = self.frame_cell(*i)?;
                if let Cell::Arr(_) = cell {
                    return fail("can't assign to an array parameter");
                }
                *cell = Cell::Val(val);
                Ok(())
            }
        }
    }

    fn is_array(&mut self, v: &VarRef) -> bool {
        match v {
            VarRef::Global(name) => matches!(self.globals.get(name), Some(Cell::Arr(_))),
            VarRef::Local(i) => matches!(self.frame_cell(*i), Ok(Cell::Arr(_))),
        }
    }

    fn array(&mut self, v: &VarRef) -> R<Array> {
        let cell = match v {
            VarRef::Global(name) => self
                .globals
                .entry(name.clone())
                .or_insert_with(|| Cell::Val(Value::Uninit)),
            VarRef::Local(i) => self.frame_cell(*i)?,
        };
        match cell {
            Cell::Arr(a) => Ok(Rc::clone(a)),
            Cell::Val(Value::Uninit) => {
                let a: Array = Rc::new(RefCell::new(AwkArray::default()));
                *cell = Cell::Arr(Rc::clone(&a));
                Ok(a)
            }
            Cell::Val(_) => fail(match v {
                VarRef::Global(name) => format!("can't use scalar {name} as array"),
                VarRef::Local(_) => "can't use a scalar parameter as array".to_string(),
            }),
        }
    }

    fn key(&mut self, subs: &[Expr]) -> R<String> {
        if subs.len() == 1 {
            let v = self.eval(&subs[0])?;
            return Ok(self.str_of(&v));
        }
        let sep = self.global_str("SUBSEP");
        let mut parts = Vec::with_capacity(subs.len());
        for s in subs {
            let v = self.eval(s)?;
            parts.push(self.str_of(&v));
        }
        Ok(parts.join(&sep))
    }

    fn dyn_regex(&mut self, src: &str) -> R<Rc<Regex>> {
        if let Some(re) = self.cache.get(src) {
            return Ok(Rc::clone(re));
        }
        let re = match Regex::new(src, Syntax::Awk, false) {
            Ok(re) => Rc::new(re),
            Err(e) => return fail(format!("regular expression /{src}/: {e}")),
        };
        if self.cache.len() > 500 {
            self.cache.clear();
        }
        self.cache.insert(src.to_string(), Rc::clone(&re));
        Ok(re)
    }

    fn regex_of(&mut self, e: &Expr) -> R<Rc<Regex>> {
        if let Expr::Regex(i) = e {
            return Ok(Rc::clone(&self.prog.regexes[*i]));
        }
        let v = self.eval(e)?;
        let s = self.str_of(&v);
        self.dyn_regex(&s)
    }

    fn assign(&mut self, target: &Expr, val: Value) -> R<()> {
        match target {
            Expr::Var(v) => self.set_var(v, val),
            Expr::Field(e) => {
                let i = self.field_index(e)?;
                let s = self.str_of(&val);
                self.set_field(i, s)
            }
            Expr::Index(v, subs) => {
                let key = self.key(subs)?;
                let arr = self.array(v)?;
                arr.borrow_mut().set(key, val);
                Ok(())
            }
            Expr::Group(inner) => self.assign(inner, val),
            _ => fail("assignment to something that is not a variable"),
        }
    }

    fn compare(&self, a: &Value, b: &Value) -> Ordering {
        if is_numeric(a) && is_numeric(b) {
            to_num(a).partial_cmp(&to_num(b)).unwrap_or(Ordering::Equal)
        } else {
            self.str_of(a).cmp(&self.str_of(b))
        }
    }

    fn eval(&mut self, e: &Expr) -> R<Value> {
        match e {
            Expr::Num(n) => Ok(Value::Num(*n)),
            Expr::Str(s) => Ok(Value::Str(s.clone())),
            Expr::Regex(i) => {
                let re = Rc::clone(&self.prog.regexes[*i]);
                Ok(bool_value(re.is_match(&self.record)))
            }
            Expr::Var(v) => self.get_var(v),
            Expr::Field(i) => {
                let i = self.field_index(i)?;
                self.get_field(i)
            }
            Expr::Index(v, subs) => {
                let key = self.key(subs)?;
                let arr = self.array(v)?;
                let value = arr.borrow_mut().get(&key);
                Ok(value)
            }
            Expr::Assign(op, target, rhs) => {
                let r = self.eval(rhs)?;
                let val = match op {
                    None => r,
                    Some(op) => {
                        let cur = self.eval(target)?;
                        Value::Num(arith(*op, to_num(&cur), to_num(&r))?)
                    }
                };
                self.assign(target, val.clone())?;
                Ok(val)
            }
            Expr::Cond(c, a, b) => {
                if truthy(&self.eval(c)?) {
                    self.eval(a)
                } else {
                    self.eval(b)
                }
            }
            Expr::And(a, b) => {
                let v = truthy(&self.eval(a)?) && truthy(&self.eval(b)?);
                Ok(bool_value(v))
            }
            Expr::Or(a, b) => {
                let v = truthy(&self.eval(a)?) || truthy(&self.eval(b)?);
                Ok(bool_value(v))
            }
            Expr::Not(a) => Ok(bool_value(!truthy(&self.eval(a)?))),
            Expr::Neg(a) => Ok(Value::Num(-to_num(&self.eval(a)?))),
            Expr::Pos(a) => Ok(Value::Num(to_num(&self.eval(a)?))),
            Expr::Bin(op, a, b) => {
                let x = to_num(&self.eval(a)?);
                let y = to_num(&self.eval(b)?);
                Ok(Value::Num(arith(*op, x, y)?))
            }
            Expr::Cmp(op, a, b) => {
                let x = self.eval(a)?;
                let y = self.eval(b)?;
                let ord = self.compare(&x, &y);
                Ok(bool_value(match op {
                    CmpOp::Lt => ord == Ordering::Less,
                    CmpOp::Le => ord != Ordering::Greater,
                    CmpOp::Gt => ord == Ordering::Greater,
                    CmpOp::Ge => ord != Ordering::Less,
                    CmpOp::Eq => ord == Ordering::Equal,
                    CmpOp::Ne => ord != Ordering::Equal,
                }))
            }
            Expr::Match(negate, a, b) => {
                let v = self.eval(a)?;
                let s = self.str_of(&v);
                let re = self.regex_of(b)?;
                Ok(bool_value(re.is_match(&s) != *negate))
            }
            Expr::Concat(a, b) => {
                let x = self.eval(a)?;
                let y = self.eval(b)?;
                let mut s = self.str_of(&x);
                s.push_str(&self.str_of(&y));
                Ok(Value::Str(s))
            }
            Expr::In(subs, v) => {
                let key = self.key(subs)?;
                let arr = self.array(v)?;
                Ok(bool_value(arr.borrow().contains(&key)))
            }
            Expr::Incr { pre, delta, target } => {
                let cur = to_num(&self.eval(target)?);
                let new = cur + delta;
                self.assign(target, Value::Num(new))?;
                Ok(Value::Num(if *pre { new } else { cur }))
            }
            Expr::Builtin(name, args) => self.builtin(name, args),
            Expr::Call(name, args) => self.call(name, args),
            Expr::Getline { var, file } => self.getline(var.as_deref(), file.as_deref()),
            Expr::Group(inner) => self.eval(inner),
            Expr::List(_) => fail("syntax error: a parenthesized list is only allowed before 'in'"),
        }
    }

    fn getline(&mut self, var: Option<&Expr>, file: Option<&Expr>) -> R<Value> {
        let rec = match file {
            None => match self.next_main_record()? {
                None => return Ok(Value::Num(0.0)),
                Some(r) => {
                    self.bump("NR");
                    self.bump("FNR");
                    r
                }
            },
            Some(f) => {
                let v = self.eval(f)?;
                let name = self.str_of(&v);
                if !self.inputs.contains_key(&name) {
                    let reader = if is_stdin(&name) {
                        Reader::new(None)
                    } else {
                        match self.sys.open_read(&name) {
                            Ok(r) => Reader::new(Some(r)),
                            Err(_) => return Ok(Value::Num(-1.0)),
                        }
                    };
                    self.inputs.insert(name.clone(), reader);
                }
                let rs = self.global_str("RS");
                let Some(reader) = self.inputs.get_mut(&name) else {
                    return Ok(Value::Num(-1.0));
                };
                match reader.read_record(&mut *self.io.stdin, &rs) {
                    Ok(Some(r)) => r,
                    Ok(None) => return Ok(Value::Num(0.0)),
                    Err(_) => return Ok(Value::Num(-1.0)),
                }
            }
        };
        match var {
            Some(target) => self.assign(target, strnum(rec))?,
            None => self.set_record(rec),
        }
        Ok(Value::Num(1.0))
    }

    fn call(&mut self, name: &str, args: &[Expr]) -> R<Value> {
        let Some(func) = self.prog.funcs.get(name).cloned() else {
            return fail(format!("calling undefined function {name}"));
        };
        if args.len() > func.params.len() {
            return fail(format!(
                "function {name} called with {} args, accepts only {}",
                args.len(),
                func.params.len()
            ));
        }
        if self.frames.len() > MAX_CALL_DEPTH {
            return fail(format!("function {name}: calls nested too deeply"));
        }
        let mut frame = Vec::with_capacity(func.params.len());
        for (i, is_array) in func.array_params.iter().enumerate() {
            let cell = match args.get(i) {
                Some(Expr::Var(v)) if *is_array || self.is_array(v) => Cell::Arr(self.array(v)?),
                Some(a) => {
                    if *is_array {
                        return fail(format!(
                            "function {name}: argument {} must be an array",
                            i + 1
                        ));
                    }
                    Cell::Val(self.eval(a)?)
                }
                None if *is_array => Cell::Arr(Rc::new(RefCell::new(AwkArray::default()))),
                None => Cell::Val(Value::Uninit),
            };
            frame.push(cell);
        }
        self.frames.push(frame);
        let result = self.exec_block(&func.body);
        self.frames.pop();
        match result? {
            Flow::Return(v) => Ok(v),
            _ => Ok(Value::Uninit),
        }
    }

    fn exec_block(&mut self, block: &[Stmt]) -> R<Flow> {
        for s in block {
            match self.exec(s)? {
                Flow::Normal => {}
                other => return Ok(other),
            }
        }
        Ok(Flow::Normal)
    }

    fn write_out(&mut self, redir: Option<&(Redir, Expr)>, data: &[u8]) -> R<()> {
        let result = match redir {
            None => self.io.stdout.write_all(data),
            Some((kind, e)) => {
                let v = self.eval(e)?;
                let name = self.str_of(&v);
                if !self.outputs.contains_key(&name) {
                    match Output::open(&name, *kind == Redir::Append, self.sys) {
                        Ok(out) => {
                            self.outputs.insert(name.clone(), out);
                        }
                        Err(err) => {
                            return fail(format!("can't redirect to {name} ({})", describe(&err)));
                        }
                    }
                }
                match self.outputs.get_mut(&name) {
                    Some(out) => out.write_all(self.io, data),
                    None => Ok(()),
                }
            }
        };
        result.or_else(|e| fail(format!("write error: {}", describe(&e))))
    }

    fn sprintf(&mut self, args: &[Expr]) -> R<String> {
        let mut vals = Vec::with_capacity(args.len());
        for a in args {
            vals.push(self.eval(a)?);
        }
        let Some(fmt) = vals.first() else {
            return Ok(String::new());
        };
        let fmt = self.str_of(fmt);
        let mut source = AwkArgs {
            vals: &vals[1..],
            next: 0,
            convfmt: self.convfmt(),
        };
        let mut out = Vec::new();
        let outcome = printf::format(fmt.as_bytes(), &mut source, false, &mut out);
        if let Some(c) = outcome.invalid {
            return fail(format!("printf: %{c}: invalid format"));
        }
        Ok(String::from_utf8_lossy(&out).into_owned())
    }

    fn exec(&mut self, s: &Stmt) -> R<Flow> {
        match s {
            Stmt::Expr(e) => {
                self.eval(e)?;
            }
            Stmt::Print(args, redir) => {
                let mut line = if args.is_empty() {
                    self.record.clone()
                } else {
                    let ofs = self.global_str("OFS");
                    let mut parts = Vec::with_capacity(args.len());
                    for a in args {
                        let v = self.eval(a)?;
                        parts.push(self.out_str(&v));
                    }
                    parts.join(&ofs)
                };
                line.push_str(&self.global_str("ORS"));
                self.write_out(redir.as_ref(), line.as_bytes())?;
            }
            Stmt::Printf(args, redir) => {
                let text = self.sprintf(args)?;
                self.write_out(redir.as_ref(), text.as_bytes())?;
            }
            Stmt::If(c, then, els) => {
                if truthy(&self.eval(c)?) {
                    return self.exec(then);
                } else if let Some(e) = els {
                    return self.exec(e);
                }
            }
            Stmt::While(c, body) => {
                while truthy(&self.eval(c)?) {
                    match self.exec(body)? {
                        Flow::Break => break,
                        Flow::Return(v) => return Ok(Flow::Return(v)),
                        _ => {}
                    }
                }
            }
            Stmt::Do(body, c) => loop {
                match self.exec(body)? {
                    Flow::Break => break,
                    Flow::Return(v) => return Ok(Flow::Return(v)),
                    _ => {}
                }
                if !truthy(&self.eval(c)?) {
                    break;
                }
            },
            Stmt::For(init, cond, incr, body) => {
                if let Some(i) = init {
                    self.exec(i)?;
                }
                loop {
                    if let Some(c) = cond
                        && !truthy(&self.eval(c)?)
                    {
                        break;
                    }
                    match self.exec(body)? {
                        Flow::Break => break,
                        Flow::Return(v) => return Ok(Flow::Return(v)),
                        _ => {}
                    }
                    if let Some(i) = incr {
                        self.exec(i)?;
                    }
                }
            }
            Stmt::ForIn(k, a, body) => {
                let arr = self.array(a)?;
                let keys = arr.borrow().keys();
                for key in keys {
                    if !arr.borrow().contains(&key) {
                        continue;
                    }
                    self.set_var(k, strnum(key))?;
                    match self.exec(body)? {
                        Flow::Break => break,
                        Flow::Return(v) => return Ok(Flow::Return(v)),
                        _ => {}
                    }
                }
            }
            Stmt::Block(b) => return self.exec_block(b),
            Stmt::Next => return Err(Abort::Next),
            Stmt::Nextfile => return Err(Abort::Nextfile),
            Stmt::Exit(e) => {
                if let Some(e) = e {
                    let v = self.eval(e)?;
                    self.exit_code = clamp_int(to_num(&v)) as i32;
                }
                return Err(Abort::Exit);
            }
            Stmt::Return(e) => {
                let v = match e {
                    Some(e) => self.eval(e)?,
                    None => Value::Uninit,
                };
                return Ok(Flow::Return(v));
            }
            Stmt::Break => return Ok(Flow::Break),
            Stmt::Continue => return Ok(Flow::Continue),
            Stmt::Delete(a, subs) => {
                let arr = self.array(a)?;
                match subs {
                    None => arr.borrow_mut().clear(),
                    Some(subs) => {
                        let key = self.key(subs)?;
                        arr.borrow_mut().remove(&key);
                    }
                }
            }
        }
        Ok(Flow::Normal)
    }

    fn reseed(&mut self, seed: f64) {
        self.seed = seed;
        self.rng = (seed.to_bits() ^ 0x2545_F491_4F6C_DD1D).max(1);
    }

    fn rand(&mut self) -> f64 {
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        (self.rng >> 11) as f64 / (1u64 << 53) as f64
    }

    fn arg_num(&mut self, args: &[Expr], i: usize) -> R<f64> {
        match args.get(i) {
            Some(e) => Ok(to_num(&self.eval(e)?)),
            None => Ok(0.0),
        }
    }

    fn arg_str(&mut self, args: &[Expr], i: usize) -> R<String> {
        match args.get(i) {
            Some(e) => {
                let v = self.eval(e)?;
                Ok(self.str_of(&v))
            }
            None => Ok(String::new()),
        }
    }

    fn builtin(&mut self, name: &str, args: &[Expr]) -> R<Value> {
        let need = |n: usize| -> R<()> {
            if args.len() < n {
                fail(format!("{name}: not enough arguments"))
            } else {
                Ok(())
            }
        };
        match name {
            "length" => {
                if args.is_empty() {
                    return Ok(Value::Num(self.record.chars().count() as f64));
                }
                if let Expr::Var(v) = &args[0]
                    && self.is_array(v)
                {
                    let arr = self.array(v)?;
                    return Ok(Value::Num(arr.borrow().len() as f64));
                }
                let s = self.arg_str(args, 0)?;
                Ok(Value::Num(s.chars().count() as f64))
            }
            "substr" => {
                need(2)?;
                let s: Vec<char> = self.arg_str(args, 0)?.chars().collect();
                let m = round_half_even(self.arg_num(args, 1)?);
                let n = if args.len() > 2 {
                    round_half_even(self.arg_num(args, 2)?)
                } else {
                    f64::INFINITY
                };
                let len = s.len() as f64;
                let start = m.max(1.0);
                let end = (m + n).min(len + 1.0);
                if m.is_nan() || n.is_nan() || end <= start {
                    return Ok(Value::Str(String::new()));
                }
                let (a, b) = (start as usize - 1, end as usize - 1);
                Ok(Value::Str(s[a..b].iter().collect()))
            }
            "index" => {
                need(2)?;
                let s = self.arg_str(args, 0)?;
                let t = self.arg_str(args, 1)?;
                Ok(Value::Num(match s.find(&t) {
                    Some(at) => (s[..at].chars().count() + 1) as f64,
                    None => 0.0,
                }))
            }
            "split" => {
                need(2)?;
                let s = self.arg_str(args, 0)?;
                let arr = match &args[1] {
                    Expr::Var(v) => self.array(v)?,
                    _ => return fail("split: second argument is not an array name"),
                };
                let pieces = match args.get(2) {
                    None => {
                        let fs = self.global_str("FS");
                        self.split_with(&s, &fs)?
                    }
                    Some(Expr::Regex(i)) => {
                        let re = Rc::clone(&self.prog.regexes[*i]);
                        if s.is_empty() {
                            Vec::new()
                        } else {
                            regex_split(&re, &s)
                        }
                    }
                    Some(e) => {
                        let v = self.eval(e)?;
                        let fs = self.str_of(&v);
                        self.split_with(&s, &fs)?
                    }
                };
                let mut a = arr.borrow_mut();
                a.clear();
                let n = pieces.len();
                for (i, p) in pieces.into_iter().enumerate() {
                    a.set((i + 1).to_string(), strnum(p));
                }
                Ok(Value::Num(n as f64))
            }
            "sub" | "gsub" => {
                need(2)?;
                let re = self.regex_of(&args[0])?;
                let repl = self.arg_str(args, 1)?;
                let default_target = Expr::Field(Box::new(Expr::Num(0.0)));
                let target = args.get(2).unwrap_or(&default_target);
                let v = self.eval(target)?;
                let text = self.str_of(&v);
                let (result, count) = substitute(&re, &text, &repl, name == "gsub");
                if count > 0 {
                    self.assign(target, Value::Str(result))?;
                }
                Ok(Value::Num(count as f64))
            }
            "match" => {
                need(2)?;
                let s = self.arg_str(args, 0)?;
                let re = self.regex_of(&args[1])?;
                let chars: Vec<char> = s.chars().collect();
                let (start, len) = match re.find_at(&chars, 0) {
                    Some((a, b)) => ((a + 1) as f64, (b - a) as f64),
                    None => (0.0, -1.0),
                };
                self.set_global("RSTART", Value::Num(start));
                self.set_global("RLENGTH", Value::Num(len));
                Ok(Value::Num(start))
            }
            "sprintf" => {
                need(1)?;
                Ok(Value::Str(self.sprintf(args)?))
            }
            "toupper" => Ok(Value::Str(self.arg_str(args, 0)?.to_uppercase())),
            "tolower" => Ok(Value::Str(self.arg_str(args, 0)?.to_lowercase())),
            "int" => Ok(Value::Num(self.arg_num(args, 0)?.trunc())),
            "sqrt" => Ok(Value::Num(self.arg_num(args, 0)?.sqrt())),
            "exp" => Ok(Value::Num(self.arg_num(args, 0)?.exp())),
            "log" => Ok(Value::Num(self.arg_num(args, 0)?.ln())),
            "sin" => Ok(Value::Num(self.arg_num(args, 0)?.sin())),
            "cos" => Ok(Value::Num(self.arg_num(args, 0)?.cos())),
            "atan2" => {
                need(2)?;
                let y = self.arg_num(args, 0)?;
                let x = self.arg_num(args, 1)?;
                Ok(Value::Num(y.atan2(x)))
            }
            "rand" => Ok(Value::Num(self.rand())),
            "srand" => {
                let prev = self.seed;
                let seed = if args.is_empty() {
                    std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map_or(0.0, |d| d.as_secs() as f64)
                } else {
                    self.arg_num(args, 0)?
                };
                self.reseed(seed);
                Ok(Value::Num(prev))
            }
            "system" => {
                fail("system() is not supported in skiff's toolbox (there are no processes)")
            }
            "close" => {
                let name = self.arg_str(args, 0)?;
                let mut found = self.inputs.remove(&name).is_some();
                if let Some(mut out) = self.outputs.remove(&name) {
                    let _ = out.flush(self.io);
                    found = true;
                }
                Ok(Value::Num(if found { 0.0 } else { -1.0 }))
            }
            "fflush" => {
                let _ = self.io.stdout.flush();
                for out in self.outputs.values_mut() {
                    let _ = out.flush(self.io);
                }
                Ok(Value::Num(0.0))
            }
            other => fail(format!("function {other} is not supported")),
        }
    }
}

fn bool_value(b: bool) -> Value {
    Value::Num(if b { 1.0 } else { 0.0 })
}

fn round_half_even(x: f64) -> f64 {
    let r = x.round();
    if (x - x.trunc()).abs() == 0.5 && r % 2.0 != 0.0 {
        r - x.signum()
    } else {
        r
    }
}

fn arith(op: BinOp, x: f64, y: f64) -> R<f64> {
    Ok(match op {
        BinOp::Add => x + y,
        BinOp::Sub => x - y,
        BinOp::Mul => x * y,
        BinOp::Div => {
            if y == 0.0 {
                return fail("division by zero");
            }
            x / y
        }
        BinOp::Mod => {
            if y == 0.0 {
                return fail("division by zero in %");
            }
            x % y
        }
        BinOp::Pow => x.powf(y),
    })
}

/// `name=value` operands (and `-v`): the name must be an identifier.
pub(crate) fn assignment(arg: &str) -> Option<(&str, &str)> {
    let (name, value) = arg.split_once('=')?;
    let mut chars = name.chars();
    let first = chars.next()?;
    if (first.is_ascii_alphabetic() || first == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        Some((name, value))
    } else {
        None
    }
}

fn regex_split(re: &Regex, text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut pos = 0;
    let mut piece_start = 0;
    while pos <= chars.len() {
        match re.find_at(&chars, pos) {
            Some((s, e)) if e > s => {
                out.push(chars[piece_start..s].iter().collect());
                piece_start = e;
                pos = e;
            }
            Some((s, _)) => pos = s + 1,
            None => break,
        }
    }
    out.push(chars[piece_start..].iter().collect());
    out
}

/// sub/gsub: replaces the leftmost-longest match (all of them when `global`); `&` in `repl` is the match,
/// `\&` a literal `&`.
pub(crate) fn substitute(re: &Regex, text: &str, repl: &str, global: bool) -> (String, usize) {
    let chars: Vec<char> = text.chars().collect();
    let repl: Vec<char> = repl.chars().collect();
    let mut out = String::new();
    let mut pos = 0;
    let mut count = 0;
    let mut last_nonempty_end: Option<usize> = None;
    while pos <= chars.len() {
        let Some((s, e)) = re.find_at(&chars, pos) else {
            break;
        };
        if s == e && last_nonempty_end == Some(s) {
            out.extend(&chars[pos..s]);
            if s < chars.len() {
                out.push(chars[s]);
            }
            pos = s + 1;
            last_nonempty_end = None;
            continue;
        }
        out.extend(&chars[pos..s]);
        let mut i = 0;
        while i < repl.len() {
            match repl[i] {
                '\\' if i + 1 < repl.len() && (repl[i + 1] == '&' || repl[i + 1] == '\\') => {
                    out.push(repl[i + 1]);
                    i += 2;
                    continue;
                }
                '&' => out.extend(&chars[s..e]),
                c => out.push(c),
            }
            i += 1;
        }
        count += 1;
        if e == s {
            if s < chars.len() {
                out.push(chars[s]);
            }
            pos = s + 1;
        } else {
            pos = e;
            last_nonempty_end = Some(e);
        }
        if !global {
            break;
        }
    }
    if pos < chars.len() {
        out.extend(&chars[pos..]);
    }
    (out, count)
}

struct AwkArgs<'v> {
    vals: &'v [Value],
    next: usize,
    convfmt: String,
}

impl AwkArgs<'_> {
    fn take(&mut self) -> Option<Value> {
        let v = self.vals.get(self.next)?.clone();
        self.next += 1;
        Some(v)
    }
}

impl ArgSource for AwkArgs<'_> {
    fn has_next(&self) -> bool {
        self.next < self.vals.len()
    }

    fn text(&mut self) -> String {
        match self.take() {
            None | Some(Value::Uninit) => String::new(),
            Some(Value::Num(n)) => num_to_str(n, &self.convfmt),
            Some(Value::Str(s) | Value::StrNum(s)) => s,
        }
    }

    fn int(&mut self) -> i64 {
        self.take().map_or(0, |v| clamp_int(to_num(&v)))
    }

    fn float(&mut self) -> f64 {
        self.take().map_or(0.0, |v| to_num(&v))
    }

    fn character(&mut self) -> String {
        match self.take() {
            None | Some(Value::Uninit) => String::new(),
            Some(Value::Num(n)) => char::from_u32(clamp_int(n) as u32)
                .map(String::from)
                .unwrap_or_default(),
            Some(Value::StrNum(s)) => char::from_u32(clamp_int(str_to_num(&s)) as u32)
                .map(String::from)
                .unwrap_or_default(),
            Some(Value::Str(s)) => s,
        }
    }
}
