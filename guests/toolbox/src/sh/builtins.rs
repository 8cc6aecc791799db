//! The shell's builtins: the commands that change the shell itself.

use super::exec::{Base, Flow, R, Shell, Var, quote};
use super::parse;
use crate::describe;
use std::io::Read;

const SPECIAL: &[&str] = &[
    ":", ".", "source", "eval", "exec", "exit", "export", "readonly", "return", "set", "shift",
    "trap", "unset", "break", "continue",
];
const REGULAR: &[&str] = &[
    "cd", "read", "wait", "type", "command", "builtin", "umask", "ulimit", "local", "hash",
];

/// Builtins whose prefix assignments stay, and whose errors end the shell (POSIX special builtins).
pub fn is_special(name: &str) -> bool {
    SPECIAL.contains(&name)
}

pub fn is_builtin(name: &str) -> bool {
    is_special(name) || REGULAR.contains(&name)
}

fn number(s: &str) -> Option<i32> {
    s.parse::<i64>().ok().map(|n| (n & 0xff) as i32)
}

impl Shell {
    pub(super) fn builtin(&mut self, argv: &[String], b: &Base<'_>) -> R {
        let args = &argv[1..];
        match argv[0].as_str() {
            ":" | "wait" | "hash" => Ok(0),
            "umask" => {
                if args.is_empty() {
                    self.out(b, "0022\n");
                }
                Ok(0)
            }
            "ulimit" => {
                if args.iter().all(|a| a.starts_with('-')) {
                    self.out(b, "unlimited\n");
                }
                Ok(0)
            }
            "exit" | "return" => {
                let n = match args.first() {
                    None => self.status,
                    Some(a) => match number(a) {
                        Some(n) => n,
                        None => {
                            self.error(b, &format!("{}: Illegal number: {a}", argv[0]));
                            return Err(Flow::Exit(2));
                        }
                    },
                };
                Err(if argv[0] == "exit" {
                    Flow::Exit(n)
                } else {
                    Flow::Return(n)
                })
            }
            "break" | "continue" => {
                let n = match args.first().map(|a| a.parse::<usize>()) {
                    None => 1,
                    Some(Ok(n)) if n > 0 => n,
                    Some(_) => {
                        self.error(b, &format!("{}: Illegal number: {}", argv[0], args[0]));
                        return Err(Flow::Exit(2));
                    }
                };
                if self.loops == 0 {
                    return Ok(0);
                }
                let n = n.min(self.loops);
                Err(if argv[0] == "break" {
                    Flow::Break(n)
                } else {
                    Flow::Continue(n)
                })
            }
            "cd" => self.cd(args, b),
            "export" | "readonly" | "local" => self.declare(&argv[0], args, b),
            "unset" => {
                let mut funcs = false;
                for a in args {
                    match a.as_str() {
                        "-f" => funcs = true,
                        "-v" => funcs = false,
                        name if funcs => {
                            self.funcs.remove(name);
                        }
                        name => {
                            if let Err(msg) = self.unset_var(name) {
                                self.error(b, &msg);
                                return Ok(1);
                            }
                        }
                    }
                }
                Ok(0)
            }
            "set" => self.set(args, b),
            "shift" => {
                let n = match args.first().map(|a| a.parse::<usize>()) {
                    None => 1,
                    Some(Ok(n)) => n,
                    Some(Err(_)) => {
                        self.error(b, &format!("shift: Illegal number: {}", args[0]));
                        return Err(Flow::Exit(2));
                    }
                };
                if n > self.params.len() {
                    self.error(b, "shift: can't shift that many");
                    return Err(Flow::Exit(2));
                }
                self.params.drain(..n);
                Ok(0)
            }
            "eval" => {
                let text = args.join(" ");
                self.run_text_here(&text, b)
            }
            "." | "source" => self.source(args, b),
            "trap" => self.trap(args, b),
            "read" => self.read(args, b),
            "exec" => {
                if args.is_empty() {
                    return Ok(0);
                }
                let st = if is_builtin(&args[0]) {
                    self.builtin(args, b)?
                } else {
                    self.external(args, &[], b)
                };
                Err(Flow::Exit(st))
            }
            "type" => {
                let mut st = 0;
                for name in args {
                    let text = match self.kind(name) {
                        Some("function") => format!("{name} is a shell function"),
                        Some("special") => format!("{name} is a special shell builtin"),
                        Some("builtin") => format!("{name} is a shell builtin"),
                        Some(_) => format!("{name} is a tool of skiff's toolbox"),
                        None => {
                            st = 127;
                            format!("{name}: not found")
                        }
                    };
                    self.out(b, &format!("{text}\n"));
                }
                Ok(st)
            }
            "command" => {
                let mut rest = args;
                let mut mode = None;
                while let Some(a) = rest.first() {
                    match a.as_str() {
                        "-v" | "-V" => mode = Some(a.clone()),
                        "-p" => {}
                        "--" => {
                            rest = &rest[1..];
                            break;
                        }
                        _ => break,
                    }
                    rest = &rest[1..];
                }
                match mode.as_deref() {
                    Some(m) => {
                        let mut st = 0;
                        for name in rest {
                            match self.kind(name) {
                                Some("tool") if m == "-v" => {
                                    let path = if name.contains('/') {
                                        name.clone()
                                    } else {
                                        format!("/bin/{name}")
                                    };
                                    self.out(b, &format!("{path}\n"));
                                }
                                Some(_) if m == "-v" => self.out(b, &format!("{name}\n")),
                                Some(kind) => self.out(b, &format!("{name} is a {kind}\n")),
                                None => st = if m == "-v" { 1 } else { 127 },
                            }
                        }
                        Ok(st)
                    }
                    None if rest.is_empty() => Ok(0),
                    None if is_builtin(&rest[0]) => self.builtin(rest, b),
                    None => Ok(self.external(rest, &[], b)),
                }
            }
            "builtin" => {
                if args.is_empty() {
                    return Ok(0);
                }
                if !is_builtin(&args[0]) {
                    self.error(b, &format!("builtin: {}: not a shell builtin", args[0]));
                    return Ok(1);
                }
                self.builtin(args, b)
            }
            other => {
                self.error_plain(b, &format!("{other}: command not found in skiff's toolbox"));
                Ok(crate::NOT_FOUND)
            }
        }
    }

    fn kind(&self, name: &str) -> Option<&'static str> {
        if self.funcs.contains_key(name) {
            Some("function")
        } else if is_special(name) {
            Some("special")
        } else if is_builtin(name) {
            Some("builtin")
        } else if crate::has_tool(&crate::tool_name(name))
            || (name.contains('/') && self.sys.exists(name))
        {
            Some("tool")
        } else {
            None
        }
    }

    /// Parses and runs text in this shell (`eval`, `.`).
    fn run_text_here(&mut self, text: &str, b: &Base<'_>) -> R {
        match parse::parse(text, self.line, self.depth) {
            Ok(list) => self.exec_list(&list, b),
            Err(e) => {
                let _ = std::io::Write::write_fmt(
                    &mut self.writer(2, b),
                    format_args!("sh: line {}: {}\n", e.line, e.msg),
                );
                Err(Flow::Exit(2))
            }
        }
    }

    fn cd(&mut self, args: &[String], b: &Base<'_>) -> R {
        let args: Vec<&String> = args
            .iter()
            .filter(|a| !matches!(a.as_str(), "-L" | "-P"))
            .collect();
        let mut print = false;
        let target = match args.first().map(|s| s.as_str()) {
            None => self.get_var("HOME").unwrap_or("/").to_string(),
            Some("-") => {
                print = true;
                self.get_var("OLDPWD").unwrap_or("/").to_string()
            }
            Some(d) => d.to_string(),
        };
        let resolved = self.sys.resolve(&target);
        if !self.sys.host_path(&resolved).is_dir() {
            let why = if self.sys.exists(&resolved) {
                "Not a directory"
            } else {
                "No such file or directory"
            };
            self.error(b, &format!("cd: can't cd to {target}: {why}"));
            return Ok(1);
        }
        let old = self.sys.cwd.clone();
        self.sys.cwd = resolved.clone();
        self.assign("OLDPWD", &old, b)?;
        self.assign("PWD", &resolved, b)?;
        if print {
            self.out(b, &format!("{resolved}\n"));
        }
        Ok(0)
    }

    fn declare(&mut self, cmd: &str, args: &[String], b: &Base<'_>) -> R {
        let names: Vec<&String> = args.iter().filter(|a| !a.starts_with('-')).collect();
        if names.is_empty() && cmd != "local" {
            let lines: Vec<String> = self
                .vars
                .iter()
                .filter(|(_, v)| {
                    if cmd == "export" {
                        v.exported
                    } else {
                        v.readonly
                    }
                })
                .map(|(k, v)| format!("{cmd} {k}={}\n", quote(&v.value)))
                .collect();
            self.out(b, &lines.concat());
            return Ok(0);
        }
        for a in names {
            let (name, value) = match a.split_once('=') {
                Some((n, v)) => (n, Some(v)),
                None => (a.as_str(), None),
            };
            if !parse::is_name(name) {
                self.error(b, &format!("{cmd}: {name}: bad variable name"));
                return Err(Flow::Exit(2));
            }
            if cmd == "local"
                && let Some(frame) = self.locals.last_mut()
                && !frame.iter().any(|(n, _)| n == name)
            {
                frame.push((name.to_string(), self.vars.get(name).cloned()));
            }
            if let Some(v) = value {
                self.assign(name, v, b)?;
            }
            let var = self.vars.entry(name.to_string()).or_insert_with(|| Var {
                value: String::new(),
                exported: false,
                readonly: false,
            });
            match cmd {
                "export" => var.exported = true,
                "readonly" => var.readonly = true,
                _ => {}
            }
            self.sync_env(name);
        }
        Ok(0)
    }

    fn set(&mut self, args: &[String], b: &Base<'_>) -> R {
        if args.is_empty() {
            let lines: Vec<String> = self
                .vars
                .iter()
                .map(|(k, v)| format!("{k}={}\n", quote(&v.value)))
                .collect();
            self.out(b, &lines.concat());
            return Ok(0);
        }
        let mut i = 0;
        while let Some(a) = args.get(i) {
            if a == "--" || a == "-" {
                self.params = args[i + 1..].to_vec();
                return Ok(0);
            }
            let on = a.starts_with('-');
            if !(on || a.starts_with('+')) {
                self.params = args[i..].to_vec();
                return Ok(0);
            }
            i += 1;
            for c in a[1..].chars() {
                if c == 'o' {
                    let Some(name) = args.get(i) else {
                        let o = self.opts;
                        for (n, v) in [
                            ("errexit", o.errexit),
                            ("noglob", o.noglob),
                            ("nounset", o.nounset),
                            ("pipefail", o.pipefail),
                            ("xtrace", o.xtrace),
                        ] {
                            self.out(b, &format!("{n:<16}{}\n", if v { "on" } else { "off" }));
                        }
                        return Ok(0);
                    };
                    i += 1;
                    if !self.opts.set_named(name, on) {
                        self.error(
                            b,
                            &format!("set: {name}: option not supported by skiff's toolbox shell"),
                        );
                        return Ok(2);
                    }
                } else if !self.opts.set_letter(c, on) {
                    self.error(b, &format!("set: -{c}: invalid option"));
                    return Ok(2);
                }
            }
        }
        Ok(0)
    }

    fn source(&mut self, args: &[String], b: &Base<'_>) -> R {
        let Some(file) = args.first() else {
            self.error(b, ".: filename argument required");
            return Ok(2);
        };
        let text = match self.sys.open_read(file).and_then(|mut r| {
            let mut bytes = Vec::new();
            r.read_to_end(&mut bytes).map(|_| bytes)
        }) {
            Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            Err(e) => {
                self.error(b, &format!(".: can't open {file}: {}", describe(&e)));
                return Err(Flow::Exit(2));
            }
        };
        let saved =
            (args.len() > 1).then(|| std::mem::replace(&mut self.params, args[1..].to_vec()));
        let line = self.line;
        let r = match parse::parse(&text, 1, self.depth) {
            Ok(list) => self.exec_list(&list, b),
            Err(e) => {
                let _ = std::io::Write::write_fmt(
                    &mut self.writer(2, b),
                    format_args!("sh: {file}: line {}: {}\n", e.line, e.msg),
                );
                Err(Flow::Exit(2))
            }
        };
        self.line = line;
        if let Some(p) = saved {
            self.params = p;
        }
        match r {
            Err(Flow::Return(n)) => Ok(n),
            other => other,
        }
    }

    fn trap(&mut self, args: &[String], b: &Base<'_>) -> R {
        if args.is_empty() {
            if let Some(t) = &self.exit_trap {
                self.out(b, &format!("trap -- {} EXIT\n", quote(t)));
            }
            return Ok(0);
        }
        let (action, signals) = if args.len() == 1 || args[0] == "-" {
            (None, if args.len() == 1 { args } else { &args[1..] })
        } else {
            (Some(args[0].clone()), &args[1..])
        };
        for s in signals {
            if matches!(s.as_str(), "0" | "EXIT" | "exit" | "SIGEXIT") {
                self.exit_trap = action.clone().filter(|a| !a.is_empty());
            }
        }
        Ok(0)
    }

    fn read(&mut self, args: &[String], b: &Base<'_>) -> R {
        let mut raw = false;
        let mut names = Vec::new();
        let mut i = 0;
        while let Some(a) = args.get(i) {
            i += 1;
            match a.as_str() {
                "-r" => raw = true,
                "-s" => {}
                "-p" | "-t" | "-u" | "-n" | "-d" => {
                    if a == "-p"
                        && let Some(prompt) = args.get(i)
                    {
                        let _ =
                            std::io::Write::write_all(&mut self.writer(2, b), prompt.as_bytes());
                    }
                    i += 1;
                }
                _ => names.push(a.clone()),
            }
        }
        if names.is_empty() {
            names.push("REPLY".to_string());
        }
        let mut reader = self.reader(b);
        let mut line: Vec<(u8, bool)> = Vec::new();
        let mut eof = false;
        let mut byte = [0u8];
        loop {
            match reader.read(&mut byte) {
                Ok(0) | Err(_) => {
                    eof = true;
                    break;
                }
                Ok(_) => {}
            }
            match byte[0] {
                b'\n' => break,
                b'\\' if !raw => match reader.read(&mut byte) {
                    Ok(1) if byte[0] == b'\n' => {}
                    Ok(1) => line.push((byte[0], true)),
                    _ => {
                        eof = true;
                        break;
                    }
                },
                c => line.push((c, false)),
            }
        }
        if eof && line.is_empty() {
            for n in &names {
                self.assign(n, "", b)?;
            }
            return Ok(1);
        }
        let ifs = self.get_var("IFS").unwrap_or(" \t\n").as_bytes().to_vec();
        let is_sep = |&(c, escaped): &(u8, bool)| !escaped && ifs.contains(&c);
        let is_ws = |&(c, escaped): &(u8, bool)| {
            !escaped && ifs.contains(&c) && matches!(c, b' ' | b'\t' | b'\n')
        };
        let text = |s: &[(u8, bool)]| {
            String::from_utf8_lossy(&s.iter().map(|c| c.0).collect::<Vec<u8>>()).into_owned()
        };
        let mut rest: &[(u8, bool)] = &line;
        while rest.first().is_some_and(is_ws) {
            rest = &rest[1..];
        }
        for (k, name) in names.iter().enumerate() {
            let value = if k + 1 == names.len() {
                let mut end = rest.len();
                while end > 0 && is_ws(&rest[end - 1]) {
                    end -= 1;
                }
                let v = text(&rest[..end]);
                rest = &[];
                v
            } else {
                let end = rest.iter().position(is_sep).unwrap_or(rest.len());
                let v = text(&rest[..end]);
                rest = &rest[end..];
                while rest.first().is_some_and(is_ws) {
                    rest = &rest[1..];
                }
                if rest.first().is_some_and(is_sep) {
                    rest = &rest[1..];
                    while rest.first().is_some_and(is_ws) {
                        rest = &rest[1..];
                    }
                }
                v
            };
            self.assign(name, &value, b)?;
        }
        Ok(i32::from(eof))
    }
}
