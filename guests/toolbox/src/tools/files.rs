//! File tools: ls, mkdir, rm, cp, mv, touch, basename, dirname.

use super::sysinfo::{civil, now_secs};
use super::{Output, fail, getopt};
use crate::{Io, Sys, describe};
use std::fs::{self, Metadata};
use std::io;

fn join(dir: &str, name: &str) -> String {
    if dir.ends_with('/') {
        format!("{dir}{name}")
    } else {
        format!("{dir}/{name}")
    }
}

/// The last component of a path, as `basename` prints it.
fn base_of(path: &str) -> String {
    let t = path.trim_end_matches('/');
    if t.is_empty() {
        return if path.is_empty() {
            String::new()
        } else {
            "/".to_string()
        };
    }
    t.rsplit('/').next().unwrap_or(t).to_string()
}

/// `basename NAME [SUFFIX]`
pub(crate) fn basename(args: &[String], io: &mut Io<'_>) -> i32 {
    let args: Vec<&String> = args.iter().filter(|a| a.as_str() != "--").collect();
    let Some(name) = args.first() else {
        return fail(
            io,
            "basename",
            "missing operand\nUsage: basename FILE [SUFFIX]",
        );
    };
    let mut base = base_of(name);
    if let Some(suffix) = args.get(1)
        && base.len() > suffix.len()
        && base.ends_with(suffix.as_str())
    {
        base.truncate(base.len() - suffix.len());
    }
    i32::from(writeln!(io.stdout, "{base}").is_err())
}

fn dir_of(path: &str) -> String {
    let t = path.trim_end_matches('/');
    if t.is_empty() {
        return if path.starts_with('/') {
            "/".to_string()
        } else {
            ".".to_string()
        };
    }
    match t.rfind('/') {
        None => ".".to_string(),
        Some(at) => {
            let d = t[..at].trim_end_matches('/');
            if d.is_empty() {
                "/".to_string()
            } else {
                d.to_string()
            }
        }
    }
}

/// `dirname NAME`
pub(crate) fn dirname(args: &[String], io: &mut Io<'_>) -> i32 {
    let args: Vec<&String> = args.iter().filter(|a| a.as_str() != "--").collect();
    if args.is_empty() {
        return fail(io, "dirname", "missing operand\nUsage: dirname FILENAME");
    }
    let mut out = String::new();
    for a in args {
        out.push_str(&dir_of(a));
        out.push('\n');
    }
    i32::from(io.stdout.write_all(out.as_bytes()).is_err())
}

/// `mkdir [-p] [-m MODE] DIR...`
pub(crate) fn mkdir(args: &[String], sys: &mut Sys, io: &mut Io<'_>) -> i32 {
    let opts = match getopt(args, "pv", "m", false) {
        Ok(o) => o,
        Err(e) => return fail(io, "mkdir", e),
    };
    if opts.operands.is_empty() {
        return fail(
            io,
            "mkdir",
            "missing operand\nUsage: mkdir [-p] [-m MODE] DIRECTORY...",
        );
    }
    let mut code = 0;
    for d in &opts.operands {
        let host = sys.host_path(d);
        let result = if opts.has('p') {
            if host.is_dir() {
                Ok(())
            } else {
                fs::create_dir_all(&host)
            }
        } else {
            fs::create_dir(&host)
        };
        if let Err(e) = result {
            let _ = writeln!(
                io.stderr,
                "mkdir: can't create directory '{d}': {}",
                describe(&e)
            );
            code = 1;
        }
    }
    code
}

fn remove_tree(sys: &Sys, path: &str, meta: &Metadata) -> io::Result<()> {
    let host = sys.host_path(path);
    if meta.is_dir() {
        fs::remove_dir_all(host)
    } else {
        fs::remove_file(host)
    }
}

/// `rm [-rRf] FILE...`
pub(crate) fn rm(args: &[String], sys: &mut Sys, io: &mut Io<'_>) -> i32 {
    let opts = match getopt(args, "rRfiv", "", false) {
        Ok(o) => o,
        Err(e) => return fail(io, "rm", e),
    };
    let force = opts.has('f');
    let recursive = opts.has('r') || opts.has('R');
    if opts.operands.is_empty() && !force {
        return fail(io, "rm", "missing operand\nUsage: rm [-irf] FILE...");
    }
    let mut code = 0;
    for p in &opts.operands {
        let base = base_of(p);
        if base == "." || base == ".." {
            let _ = writeln!(
                io.stderr,
                "rm: refusing to remove '.' or '..' directory: skipping '{p}'"
            );
            code = 1;
            continue;
        }
        if sys.resolve(p) == "/" {
            let _ = writeln!(
                io.stderr,
                "rm: it is dangerous to operate recursively on '/'"
            );
            code = 1;
            continue;
        }
        let meta = match sys.host_path(p).symlink_metadata() {
            Ok(m) => m,
            Err(e) => {
                if !force {
                    let _ = writeln!(io.stderr, "rm: can't remove '{p}': {}", describe(&e));
                    code = 1;
                }
                continue;
            }
        };
        if meta.is_dir() && !recursive {
            let _ = writeln!(io.stderr, "rm: '{p}' is a directory");
            code = 1;
            continue;
        }
        if let Err(e) = remove_tree(sys, p, &meta) {
            let _ = writeln!(io.stderr, "rm: can't remove '{p}': {}", describe(&e));
            code = 1;
        }
    }
    code
}

fn copy_file(sys: &mut Sys, io: &mut Io<'_>, src: &str, dst: &str) -> io::Result<()> {
    let mut reader = sys.open_read(src)?;
    let mut out = Output::open(dst, false, sys)?;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match io::Read::read(&mut reader, &mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        out.write_all(io, &buf[..n])?;
    }
    out.flush(io)
}

fn copy_tree(
    sys: &mut Sys,
    io: &mut Io<'_>,
    src: &str,
    dst: &str,
    recursive: bool,
) -> Result<(), String> {
    let host = sys.host_path(src);
    let meta = match fs::metadata(&host) {
        Ok(m) => m,
        Err(e) if !crate::is_device(&sys.resolve(src)) => {
            return Err(format!("can't stat '{src}': {}", describe(&e)));
        }
        Err(_) => {
            return copy_file(sys, io, src, dst)
                .map_err(|e| format!("can't create '{dst}': {}", describe(&e)));
        }
    };
    if meta.is_dir() {
        if !recursive {
            return Err(format!("omitting directory '{src}'"));
        }
        let target = sys.host_path(dst);
        if sys
            .resolve(dst)
            .starts_with(&format!("{}/", sys.resolve(src)))
        {
            return Err(format!(
                "cannot copy a directory, '{src}', into itself, '{dst}'"
            ));
        }
        if !target.is_dir() {
            fs::create_dir(&target)
                .map_err(|e| format!("can't create directory '{dst}': {}", describe(&e)))?;
        }
        let mut names: Vec<String> = fs::read_dir(&host)
            .map_err(|e| format!("can't open '{src}': {}", describe(&e)))?
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        let mut first_err = Ok(());
        for n in names {
            if let Err(e) = copy_tree(sys, io, &join(src, &n), &join(dst, &n), recursive)
                && first_err.is_ok()
            {
                first_err = Err(e);
            }
        }
        return first_err;
    }
    copy_file(sys, io, src, dst).map_err(|e| match e.kind() {
        io::ErrorKind::NotFound if !sys.host_path(src).exists() => {
            format!("can't open '{src}': {}", describe(&e))
        }
        _ => format!("can't create '{dst}': {}", describe(&e)),
    })
}

/// cp's and mv's operands as (source, target) pairs: `SOURCE DEST`, or `SOURCE... DIRECTORY` (each source
/// into the directory under its own name). The error's `{usage}` is the caller's usage line.
fn source_targets<'a>(ops: &'a [String], sys: &Sys) -> Result<Vec<(&'a str, String)>, String> {
    let Some((dest, sources)) = ops.split_last().filter(|(_, s)| !s.is_empty()) else {
        return Err("missing file operand\nUsage: {usage}".to_string());
    };
    let dest_is_dir = sys.host_path(dest).is_dir();
    if sources.len() > 1 && !dest_is_dir {
        return Err(format!("'{dest}' is not a directory"));
    }
    Ok(sources
        .iter()
        .map(|src| {
            let target = if dest_is_dir {
                join(dest, &base_of(src))
            } else {
                dest.clone()
            };
            (src.as_str(), target)
        })
        .collect())
}

/// `cp [-rRapf] SOURCE DEST` or `cp [-r] SOURCE... DIRECTORY`
pub(crate) fn cp(args: &[String], sys: &mut Sys, io: &mut Io<'_>) -> i32 {
    let opts = match getopt(args, "rRapfdLPvnuT", "", false) {
        Ok(o) => o,
        Err(e) => return fail(io, "cp", e),
    };
    let recursive = opts.has('r') || opts.has('R') || opts.has('a');
    let moves = match source_targets(&opts.operands, sys) {
        Ok(m) => m,
        Err(e) => return fail(io, "cp", e.replace("{usage}", "cp [-rRapf] SOURCE... DEST")),
    };
    let mut code = 0;
    for (src, target) in moves {
        if opts.has('n') && sys.exists(&target) {
            continue;
        }
        if let Err(e) = copy_tree(sys, io, src, &target, recursive) {
            let _ = writeln!(io.stderr, "cp: {e}");
            code = 1;
        }
    }
    code
}

/// `mv [-fin] SOURCE DEST` or `mv SOURCE... DIRECTORY`
pub(crate) fn mv(args: &[String], sys: &mut Sys, io: &mut Io<'_>) -> i32 {
    let opts = match getopt(args, "finvT", "", false) {
        Ok(o) => o,
        Err(e) => return fail(io, "mv", e),
    };
    let moves = match source_targets(&opts.operands, sys) {
        Ok(m) => m,
        Err(e) => return fail(io, "mv", e.replace("{usage}", "mv [-fin] SOURCE... DEST")),
    };
    let mut code = 0;
    for (src, target) in moves {
        let from = sys.host_path(src);
        if let Err(e) = from.symlink_metadata() {
            let _ = writeln!(io.stderr, "mv: can't stat '{src}': {}", describe(&e));
            code = 1;
            continue;
        }
        if opts.has('n') && sys.exists(&target) {
            continue;
        }
        if sys
            .resolve(&target)
            .starts_with(&format!("{}/", sys.resolve(src)))
        {
            let _ = writeln!(
                io.stderr,
                "mv: can't move '{src}' to a subdirectory of itself"
            );
            code = 1;
            continue;
        }
        let to = sys.host_path(&target);
        if let Err(e) = fs::rename(&from, &to) {
            // Across file systems: copy, then remove.
            let copied = copy_tree(sys, io, src, &target, true);
            match copied {
                Ok(()) => {
                    if let Ok(meta) = from.symlink_metadata() {
                        let _ = remove_tree(sys, src, &meta);
                    }
                }
                Err(_) => {
                    let _ = writeln!(io.stderr, "mv: can't rename '{src}': {}", describe(&e));
                    code = 1;
                }
            }
        }
    }
    code
}

/// `touch [-c] FILE...`
pub(crate) fn touch(args: &[String], sys: &mut Sys, io: &mut Io<'_>) -> i32 {
    let opts = match getopt(args, "cam", "dtr", false) {
        Ok(o) => o,
        Err(e) => return fail(io, "touch", e),
    };
    if opts.operands.is_empty() {
        return fail(io, "touch", "missing operand\nUsage: touch [-c] FILE...");
    }
    let mut code = 0;
    for f in &opts.operands {
        if crate::is_device(&sys.resolve(f)) {
            continue;
        }
        let host = sys.host_path(f);
        let result = if host.exists() {
            fs::OpenOptions::new()
                .append(true)
                .open(&host)
                .and_then(|file| file.set_modified(std::time::SystemTime::now()))
                .or_else(|e| if host.is_dir() { Ok(()) } else { Err(e) })
        } else if opts.has('c') {
            Ok(())
        } else {
            fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&host)
                .map(|_| ())
        };
        if let Err(e) = result {
            let _ = writeln!(io.stderr, "touch: {f}: {}", describe(&e));
            code = 1;
        }
    }
    code
}

#[cfg(unix)]
fn mode_bits(meta: &Metadata) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o7777
}

#[cfg(not(unix))]
fn mode_bits(meta: &Metadata) -> u32 {
    if meta.is_dir() {
        0o755
    } else if meta.permissions().readonly() {
        0o444
    } else {
        0o644
    }
}

#[cfg(unix)]
fn nlink(meta: &Metadata) -> u64 {
    use std::os::unix::fs::MetadataExt;
    meta.nlink()
}

#[cfg(not(unix))]
fn nlink(meta: &Metadata) -> u64 {
    if meta.is_dir() { 2 } else { 1 }
}

fn mode_string(meta: &Metadata) -> String {
    let ft = meta.file_type();
    let kind = if ft.is_symlink() {
        'l'
    } else if ft.is_dir() {
        'd'
    } else {
        '-'
    };
    let bits = mode_bits(meta);
    let mut s = String::with_capacity(10);
    s.push(kind);
    for shift in [6, 3, 0] {
        let b = (bits >> shift) & 7;
        s.push(if b & 4 != 0 { 'r' } else { '-' });
        s.push(if b & 2 != 0 { 'w' } else { '-' });
        s.push(if b & 1 != 0 { 'x' } else { '-' });
    }
    s
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

fn ls_time(meta: &Metadata) -> String {
    let secs = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0));
    let c = civil(secs);
    let now = now_secs();
    let month = MONTHS[(c.month - 1) as usize];
    if (now - secs).abs() > 182 * 86400 {
        format!("{month} {:2}  {}", c.day, c.year)
    } else {
        format!("{month} {:2} {:02}:{:02}", c.day, c.hour, c.minute)
    }
}

fn human(size: u64) -> String {
    let units = ["", "K", "M", "G", "T"];
    let mut v = size as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < units.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        size.to_string()
    } else if v < 10.0 {
        format!("{v:.1}{}", units[u])
    } else {
        format!("{v:.0}{}", units[u])
    }
}

struct Entry {
    name: String,
    path: String,
    meta: Option<Metadata>,
}

struct LsOpts {
    long: bool,
    human: bool,
    classify: bool,
    reverse: bool,
    by_time: bool,
    by_size: bool,
}

fn format_entry(sys: &Sys, e: &Entry, o: &LsOpts) -> String {
    let mut name = e.name.clone();
    if o.classify
        && let Some(m) = &e.meta
    {
        if m.is_dir() {
            name.push('/');
        } else if m.file_type().is_symlink() {
            name.push('@');
        } else if mode_bits(m) & 0o111 != 0 {
            name.push('*');
        }
    }
    if !o.long {
        return name;
    }
    let Some(m) = &e.meta else {
        return format!("?????????? ? ? ? ? ? {name}");
    };
    let size = if o.human {
        human(m.len())
    } else {
        m.len().to_string()
    };
    let mut line = format!(
        "{} {:4} {:<8} {:<8} {:>9} {} {name}",
        mode_string(m),
        nlink(m),
        "root",
        "root",
        size,
        ls_time(m)
    );
    if m.file_type().is_symlink()
        && let Ok(target) = fs::read_link(sys.host_path(&e.path))
    {
        line.push_str(" -> ");
        line.push_str(&target.to_string_lossy());
    }
    line
}

fn sort_entries(entries: &mut [Entry], o: &LsOpts) {
    entries.sort_by(|a, b| {
        let ord = if o.by_time {
            let ta = a.meta.as_ref().and_then(|m| m.modified().ok());
            let tb = b.meta.as_ref().and_then(|m| m.modified().ok());
            tb.cmp(&ta).then_with(|| a.name.cmp(&b.name))
        } else if o.by_size {
            let sa = a.meta.as_ref().map_or(0, Metadata::len);
            let sb = b.meta.as_ref().map_or(0, Metadata::len);
            sb.cmp(&sa).then_with(|| a.name.cmp(&b.name))
        } else {
            a.name.cmp(&b.name)
        };
        if o.reverse { ord.reverse() } else { ord }
    });
}

/// `ls [-1laAdrtShFR] [FILE]...`: one name per line (output is never a terminal).
pub(crate) fn ls(args: &[String], sys: &mut Sys, io: &mut Io<'_>) -> i32 {
    let opts = match getopt(args, "1laAdrtShFRCnogx", "", false) {
        Ok(o) => o,
        Err(e) => return fail(io, "ls", e),
    };
    let o = LsOpts {
        long: opts.has('l') || opts.has('n') || opts.has('o') || opts.has('g'),
        human: opts.has('h'),
        classify: opts.has('F'),
        reverse: opts.has('r'),
        by_time: opts.has('t'),
        by_size: opts.has('S'),
    };
    let all = opts.has('a');
    let almost = opts.has('A');
    let recursive = opts.has('R');
    let operands = if opts.operands.is_empty() {
        vec![".".to_string()]
    } else {
        opts.operands.clone()
    };
    let mut code = 0;
    let mut files: Vec<Entry> = Vec::new();
    let mut dirs: Vec<Entry> = Vec::new();
    for p in &operands {
        let host = sys.host_path(p);
        match host.symlink_metadata() {
            Ok(lmeta) => {
                let meta = if lmeta.file_type().is_symlink() && !o.long {
                    fs::metadata(&host).unwrap_or(lmeta)
                } else {
                    lmeta
                };
                let e = Entry {
                    name: p.clone(),
                    path: p.clone(),
                    meta: Some(meta.clone()),
                };
                if meta.is_dir() && !opts.has('d') {
                    dirs.push(e);
                } else {
                    files.push(e);
                }
            }
            Err(_) if crate::is_device(&sys.resolve(p)) => files.push(Entry {
                name: p.clone(),
                path: p.clone(),
                meta: None,
            }),
            Err(e) => {
                let _ = writeln!(io.stderr, "ls: {p}: {}", describe(&e));
                code = 1;
            }
        }
    }
    let mut out = String::new();
    sort_entries(&mut files, &o);
    for e in &files {
        out.push_str(&format_entry(sys, e, &o));
        out.push('\n');
    }
    sort_entries(&mut dirs, &o);
    let show_headers = operands.len() > 1 || recursive;
    let mut first = files.is_empty();
    let mut queue: Vec<Entry> = dirs;
    let mut qi = 0;
    while qi < queue.len() {
        let path = queue[qi].path.clone();
        qi += 1;
        if !first {
            out.push('\n');
        }
        first = false;
        if show_headers {
            out.push_str(&format!("{path}:\n"));
        }
        let host = sys.host_path(&path);
        let read = match fs::read_dir(&host) {
            Ok(r) => r,
            Err(e) => {
                let _ = writeln!(io.stderr, "ls: can't open '{path}': {}", describe(&e));
                code = 1;
                continue;
            }
        };
        let mut entries: Vec<Entry> = Vec::new();
        if all {
            for n in [".", ".."] {
                let p = join(&path, n);
                entries.push(Entry {
                    name: n.to_string(),
                    meta: fs::symlink_metadata(sys.host_path(&p))
                        .ok()
                        .or_else(|| fs::metadata(&host).ok()),
                    path: p,
                });
            }
        }
        for d in read.filter_map(Result::ok) {
            let name = d.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') && !all && !almost {
                continue;
            }
            let p = join(&path, &name);
            let meta = if o.long {
                fs::symlink_metadata(d.path()).ok()
            } else {
                fs::metadata(d.path()).ok()
            };
            entries.push(Entry {
                name,
                path: p,
                meta,
            });
        }
        sort_entries(&mut entries, &o);
        if o.long {
            let blocks: u64 = entries
                .iter()
                .filter_map(|e| e.meta.as_ref())
                .map(|m| m.len().div_ceil(4096) * 4)
                .sum();
            out.push_str(&format!("total {blocks}\n"));
        }
        let mut subdirs = Vec::new();
        for e in entries {
            out.push_str(&format_entry(sys, &e, &o));
            out.push('\n');
            if recursive
                && e.name != "."
                && e.name != ".."
                && e.meta
                    .as_ref()
                    .is_some_and(|m| m.is_dir() && !m.file_type().is_symlink())
            {
                subdirs.push(e);
            }
        }
        // Depth-first, as ls -R lists.
        for (k, s) in subdirs.into_iter().enumerate() {
            queue.insert(qi + k, s);
        }
    }
    if io.stdout.write_all(out.as_bytes()).is_err() {
        code = 1;
    }
    code
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_parts() {
        assert_eq!(base_of("/a/b/"), "b");
        assert_eq!(base_of("/"), "/");
        assert_eq!(base_of("x"), "x");
        assert_eq!(dir_of("/a/b/"), "/a");
        assert_eq!(dir_of("a"), ".");
        assert_eq!(dir_of("/a"), "/");
        assert_eq!(dir_of("//"), "/");
        assert_eq!(dir_of("a//b"), "a");
    }
}
