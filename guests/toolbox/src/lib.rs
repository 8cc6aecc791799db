//! skiff's toolbox: the shell and the command-line tools that container and script steps on ordinary images
//! (busybox, alpine, argoproj/argosay, docker/whalesay) expect, written in plain Rust so they run as one
//! WASI program inside skiff's sandbox.
//!
//! The toolbox is a multi-call program, as busybox is: `argv[0]` names the tool (`sh`, `echo`, `cat`, ...),
//! or `argv[1]` does when `argv[0]` is `toolbox`. The shell ([`sh`]) runs the tools ([`tools`]) as function
//! calls, not processes: there are no processes in a WASI sandbox. The consequences, all documented in
//! `docs/toolbox.md`:
//!
//! - A pipeline runs its stages one after another, each reading what the previous one wrote. A `cat` of files
//!   or devices and `yes` at the head of a pipeline are read lazily instead, so `cat /dev/urandom | od -N2`
//!   ends.
//! - `cmd &` runs `cmd` to the end before going on; `wait` is a no-op.
//! - Only the tools listed in [`tools::NAMES`] exist; any other command fails with exit code 127 and a message
//!   that says so.
//!
//! Everything the tools touch goes through [`Sys`]: file paths (resolved against the shell's working
//! directory, and against a root folder when the toolbox runs natively in tests), the exported environment,
//! the virtual devices `/dev/null`, `/dev/zero`, `/dev/random` and `/dev/urandom`, and random numbers.
//! Standard streams go through [`Io`].

pub mod sh;
pub mod tools;

use std::collections::BTreeMap;
use std::fs;
use std::hash::{BuildHasher, Hasher};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

/// The exit code of a command that does not exist (as in POSIX shells).
pub const NOT_FOUND: i32 = 127;

/// The standard streams of one tool or shell invocation.
pub struct Io<'a> {
    /// Standard input.
    pub stdin: &'a mut dyn Read,
    /// Standard output.
    pub stdout: &'a mut dyn Write,
    /// Standard error.
    pub stderr: &'a mut dyn Write,
}

impl std::fmt::Debug for Io<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Io { stdin, stdout, stderr }")
    }
}

/// The system the tools see: files, working directory, exported environment, devices, randomness.
#[derive(Debug, Clone)]
pub struct Sys {
    /// When set, absolute guest paths live under this host folder (native tests). Inside the sandbox it is
    /// unset and guest paths are used as they are (the sandbox's `/` is a preopened folder).
    root: Option<PathBuf>,
    /// The working directory, an absolute, normalized guest path.
    pub cwd: String,
    /// The exported environment.
    pub env: BTreeMap<String, String>,
    rng: u64,
}

impl Sys {
    /// The system of the running process: its environment, working directory `/`, paths as they are.
    pub fn from_process() -> Self {
        Self {
            root: None,
            cwd: "/".to_string(),
            env: std::env::vars().collect(),
            rng: seed(),
        }
    }

    /// A system whose `/` is the host folder `root`, with an empty environment: for running the toolbox
    /// natively, in tests.
    pub fn with_root(root: impl Into<PathBuf>) -> Self {
        Self {
            root: Some(root.into()),
            cwd: "/".to_string(),
            env: BTreeMap::new(),
            rng: seed(),
        }
    }

    /// The absolute, normalized guest path `path` names from the working directory (`.` and `..` resolved
    /// lexically; `..` at `/` stays at `/`).
    pub fn resolve(&self, path: &str) -> String {
        let joined = if path.starts_with('/') {
            path.to_string()
        } else {
            format!("{}/{}", self.cwd, path)
        };
        let mut parts: Vec<&str> = Vec::new();
        for part in joined.split('/') {
            match part {
                "" | "." => {}
                ".." => {
                    parts.pop();
                }
                p => parts.push(p),
            }
        }
        format!("/{}", parts.join("/"))
    }

    /// The host path of a guest path.
    pub fn host_path(&self, path: &str) -> PathBuf {
        let guest = self.resolve(path);
        match &self.root {
            Some(root) => root.join(guest.trim_start_matches('/')),
            None => PathBuf::from(guest),
        }
    }

    /// Opens a file, or a virtual device (`/dev/null`, `/dev/zero`, `/dev/random`, `/dev/urandom`), for
    /// reading. `/dev/stdin` and `-` are the caller's to handle.
    ///
    /// # Errors
    /// The file cannot be opened, or is a directory.
    pub fn open_read(&mut self, path: &str) -> io::Result<Box<dyn Read>> {
        match self.resolve(path).as_str() {
            "/dev/null" => Ok(Box::new(io::empty())),
            "/dev/zero" => Ok(Box::new(io::repeat(0))),
            "/dev/random" | "/dev/urandom" => Ok(Box::new(RandomReader {
                state: self.next_u64(),
            })),
            _ => {
                let host = self.host_path(path);
                if host.is_dir() {
                    return Err(io::Error::other("Is a directory"));
                }
                Ok(Box::new(io::BufReader::new(fs::File::open(host)?)))
            }
        }
    }

    /// Opens a file for writing (created, truncated unless `append`); `/dev/null` swallows what is written.
    /// `/dev/stdout` and `/dev/stderr` are the caller's to handle.
    ///
    /// # Errors
    /// The file cannot be created or opened.
    pub fn open_write(&self, path: &str, append: bool) -> io::Result<Box<dyn Write>> {
        if matches!(self.resolve(path).as_str(), "/dev/null" | "/dev/zero") {
            return Ok(Box::new(io::sink()));
        }
        let file = fs::OpenOptions::new()
            .write(true)
            .create(true)
            .append(append)
            .truncate(!append)
            .open(self.host_path(path))?;
        Ok(Box::new(file))
    }

    /// Whether a guest path names something that exists (a virtual device counts).
    pub fn exists(&self, path: &str) -> bool {
        is_device(&self.resolve(path)) || self.host_path(path).symlink_metadata().is_ok()
    }

    /// A random number (splitmix64 seeded from the host's randomness; not for cryptography).
    pub fn next_u64(&mut self) -> u64 {
        splitmix64(&mut self.rng)
    }
}

/// Whether an absolute guest path is one of the virtual devices.
pub fn is_device(path: &str) -> bool {
    matches!(
        path,
        "/dev/null"
            | "/dev/zero"
            | "/dev/random"
            | "/dev/urandom"
            | "/dev/stdin"
            | "/dev/stdout"
            | "/dev/stderr"
    )
}

/// An error as busybox prints it: the OS's words, without Rust's `(os error N)`.
pub fn describe(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::NotFound => "No such file or directory".to_string(),
        io::ErrorKind::PermissionDenied => "Permission denied".to_string(),
        io::ErrorKind::AlreadyExists => "File exists".to_string(),
        io::ErrorKind::IsADirectory => "Is a directory".to_string(),
        io::ErrorKind::NotADirectory => "Not a directory".to_string(),
        io::ErrorKind::DirectoryNotEmpty => "Directory not empty".to_string(),
        _ => {
            let text = e.to_string();
            match text.find(" (os error") {
                Some(at) => text[..at].to_string(),
                None => text,
            }
        }
    }
}

/// Runs the tool `name` (`sh` included) with `args` (`argv[1..]`). `None` when no such tool exists.
pub fn run(name: &str, args: &[String], sys: &mut Sys, io: &mut Io<'_>) -> Option<i32> {
    match name {
        "sh" => Some(sh::main(args, sys, io)),
        _ => tools::run(name, args, sys, io),
    }
}

/// Whether `name` is a tool of the toolbox (`sh` included).
pub fn has_tool(name: &str) -> bool {
    name == "sh" || tools::NAMES.contains(&name)
}

/// The program's entry: picks the tool from `argv`, runs it on the process's streams and environment,
/// returns the exit code.
pub fn main_with_args(argv: &[String]) -> i32 {
    let mut args: &[String] = argv;
    let mut name = tool_name(args.first().map(String::as_str).unwrap_or("sh"));
    if matches!(name.as_str(), "toolbox" | "skiff-toolbox") {
        args = &args[1.min(args.len())..];
        name = tool_name(args.first().map(String::as_str).unwrap_or("sh"));
    }
    let rest = if args.is_empty() { &[][..] } else { &args[1..] };
    let mut sys = Sys::from_process();
    let stdin = io::stdin();
    let mut stdin = stdin.lock();
    let mut stdout = io::BufWriter::with_capacity(64 * 1024, io::stdout());
    let mut stderr = io::stderr();
    let code = {
        let mut io = Io {
            stdin: &mut stdin,
            stdout: &mut stdout,
            stderr: &mut stderr,
        };
        match run(&name, rest, &mut sys, &mut io) {
            Some(code) => code,
            None => {
                let _ = writeln!(
                    io.stderr,
                    "toolbox: {name}: command not found in skiff's toolbox (see docs/toolbox.md for the tools it has)"
                );
                NOT_FOUND
            }
        }
    };
    let _ = stdout.flush();
    code
}

/// The tool a program path names: its basename, `bash`, `ash` and `dash` served by `sh`.
pub fn tool_name(program: &str) -> String {
    let base = Path::new(program)
        .file_name()
        .and_then(|s| s.to_str())
        .unwrap_or(program);
    match base {
        "bash" | "ash" | "dash" => "sh".to_string(),
        other => other.to_string(),
    }
}

/// The next number of a splitmix64 sequence whose state is `state`: fast, well mixed, not for secrets.
pub(crate) fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn seed() -> u64 {
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    if let Ok(d) = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        h.write_u128(d.as_nanos());
    }
    h.finish()
}

/// An endless stream of random bytes.
struct RandomReader {
    state: u64,
}

impl Read for RandomReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        for chunk in buf.chunks_mut(8) {
            let z = splitmix64(&mut self.state);
            chunk.copy_from_slice(&z.to_le_bytes()[..chunk.len()]);
        }
        Ok(buf.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_resolve_against_the_working_directory() {
        let mut sys = Sys::with_root("/host/root");
        assert_eq!(sys.resolve("a/b"), "/a/b");
        sys.cwd = "/tmp/x".to_string();
        assert_eq!(sys.resolve("../y/./z"), "/tmp/y/z");
        assert_eq!(sys.resolve("/../../etc"), "/etc");
        assert_eq!(sys.host_path("f"), PathBuf::from("/host/root/tmp/x/f"));
    }

    #[test]
    fn devices_read_and_write() {
        let mut sys = Sys::with_root("/nonexistent");
        let mut buf = [1u8; 4];
        sys.open_read("/dev/zero")
            .unwrap()
            .read_exact(&mut buf)
            .unwrap();
        assert_eq!(buf, [0; 4]);
        let mut all = Vec::new();
        sys.open_read("/dev/null")
            .unwrap()
            .read_to_end(&mut all)
            .unwrap();
        assert!(all.is_empty());
        let mut r = [0u8; 64];
        sys.open_read("/dev/urandom")
            .unwrap()
            .read_exact(&mut r)
            .unwrap();
        assert!(r.iter().any(|&b| b != 0));
        sys.open_write("/dev/null", false)
            .unwrap()
            .write_all(b"x")
            .unwrap();
    }

    #[test]
    fn tool_names() {
        assert_eq!(tool_name("/bin/bash"), "sh");
        assert_eq!(tool_name("/usr/bin/env"), "env");
        assert_eq!(tool_name("echo"), "echo");
    }
}
