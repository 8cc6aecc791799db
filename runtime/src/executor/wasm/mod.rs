//! The wasm sandbox: runs one WASI preview 1 command module per step, in-process, with wasmtime.
//!
//! This module owns the wasmtime engine, the compiled-module caches and the per-step sandbox. It
//! does not decide *what* a step runs (routing, argv, env and the root directory come from the
//! executor above it) and it does not interpret what a step produced (output parameters, the
//! `result` trimming): it runs a module and reports what happened.
//!
//! # Using it
//!
//! ```no_run
//! use std::time::Duration;
//! use skiff::executor::wasm::{Sandbox, WasmConfig, WasmRuntime};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let runtime = WasmRuntime::new(WasmConfig {
//!     cache_dir: Some("/home/me/.local/share/skiff/cache/modules".into()),
//!     ..WasmConfig::default()
//! })?;
//! let module = runtime.module_from_file("components/add.wasm".as_ref())?;
//! let outcome = runtime.run(
//!     &module,
//!     &Sandbox {
//!         args: vec!["add".into()],
//!         env: vec![("SKIFF_INPUT_A".into(), "1".into()), ("SKIFF_INPUT_B".into(), "2".into())],
//!         root: "/dev/shm/skiff/run-1/step-a".into(),
//!         timeout: Some(Duration::from_secs(30)),
//!         ..Sandbox::default()
//!     },
//! )?;
//! assert_eq!(outcome.exit_code, 0);
//! println!("{}", String::from_utf8_lossy(&outcome.stdout));
//! # Ok(())
//! # }
//! ```
//!
//! [`WasmRuntime::run`] blocks until the step ends: call it from `tokio::task::spawn_blocking`.
//! A [`WasmRuntime`] is cheap to clone and is meant to be shared by every step of every run in
//! the process: it holds the one engine, its instance pool and its caches.
//!
//! # What a step sees
//!
//! A step is the module's `_start`, run once in a fresh [`wasmtime::Store`] with a fresh WASI
//! context. Nothing carries over between steps, even of the same module.
//!
//! | | what the guest gets |
//! |---|---|
//! | argv | [`Sandbox::args`], exactly (argv\[0\] included: pass one; an empty list gives `argc == 0`) |
//! | env | [`Sandbox::env`], exactly, in order; nothing of the host's environment |
//! | stdin | [`Sandbox::stdin`], then end of file |
//! | stdout, stderr | captured in memory, each up to the stdout limit; see below |
//! | filesystem | [`Sandbox::root`] mounted read-write at `/` (the only preopen, fd 3); the working directory is `/`, so relative paths resolve under the root. An empty `root` gives no filesystem at all |
//! | clocks | the host's wall and monotonic clocks |
//! | random | `random_get` from a per-step CSPRNG seeded by the host |
//! | network | none: preview 1 has no socket creation, and TCP, UDP and name lookup are refused for good measure |
//! | memory | at most [`Sandbox::memory_limit`] (default [`WasmConfig::default_memory_limit`]) of linear memory |
//! | time | at most [`Sandbox::timeout`] (default [`WasmConfig::default_timeout`]: none) of wall-clock time, counted from the start of instantiation; less if [`Sandbox::stop`] is set |
//!
//! The root is a capability, not a chroot: every path is resolved under it by `cap-std`, so `..`
//! that would climb above `/` fails, and so does a symlink whose target is absolute or leads
//! outside the root (a symlink with an absolute target fails even if it would land inside: write
//! relative links in a sandbox). Files created by the guest belong to the user skiff runs as.
//!
//! Output: bytes written to stdout and stderr go to [`RunOutcome::stdout`] and
//! [`RunOutcome::stderr`], and, in the order they were written, to [`RunOutcome::log`]. Each
//! stream keeps its first [`Sandbox::stdout_limit`] bytes (default
//! [`WasmConfig::default_stdout_limit`]); the rest is dropped without telling the guest (its writes
//! still succeed) and the log gets one line `[skiff: stdout truncated at N bytes]`. With a
//! [`Sandbox::log_sink`], each chunk appended to the log (the truncation note too) is also handed
//! to the sink as it is written, in the same order: a caller can show the output of a step that
//! is still running, and the chunks put together are exactly the final log.
//!
//! # How a step ends
//!
//! | ending | [`RunOutcome::exit_code`] | [`RunOutcome::error`] |
//! |---|---|---|
//! | `_start` returns | 0 | `None` |
//! | `proc_exit(n)` (`std::process::exit(n)`) | `n & 0xff` (0..=255, as a process's status) | `None` |
//! | the deadline passes | 137 | `step exceeded its deadline of 2s` |
//! | [`Sandbox::stop`] is set (before or while it runs) | 137 | `step stopped: <the reason given to StopSignal::stop>` |
//! | `memory.grow` past the memory limit (also at instantiation) | 137 | `step exceeded its memory limit of 64 MiB (it asked for 65 MiB)` |
//! | any other trap (a Rust panic aborts with `unreachable`, out-of-bounds access, stack overflow) | -1 | `wasm trap: ...` with the wasm backtrace |
//!
//! 137 is what Kubernetes reports for a container killed by `SIGKILL` (the OOM killer, or the
//! kubelet after a deadline), so a workflow's `retryStrategy` and `exitCode` checks read a
//! sandbox's kill the way they read a pod's. -1 can come from no real process, so it cannot be
//! mistaken for an exit code the program chose.
//!
//! A step that fails is data in its [`RunOutcome`]; [`WasmError`] from `run` means skiff could
//! not build the sandbox (the root does not exist, the pool refused an instance).
//!
//! Deadlines and stops: one thread per runtime bumps the engine's epoch every
//! [`WasmConfig::epoch_tick`] while at least one step runs (it sleeps otherwise); compiled code
//! checks the epoch at function entries and loop heads, and a store whose deadline has passed
//! traps at the next check. A step with a [`StopSignal`] asks to be called back on every tick
//! instead, and the callback traps once the signal is set; a step with neither a deadline nor a
//! signal is never called back. A guest blocked in a host call is stopped when the call returns;
//! the one call that blocks for long here, `poll_oneoff` on clocks (`sleep`), is replaced for
//! steps with a deadline or a signal by a version that wakes up at the deadline or when the
//! signal is set (see the `sleep` module). Precision is one tick. A step whose signal is set
//! before it starts is not instantiated, and one waiting for a pool slot stops waiting.
//!
//! # Modules and caches
//!
//! [`WasmRuntime::module`] takes the bytes of a core module (binary, or WebAssembly text) and
//! returns a [`WasmModule`] ready to run: compiled, with its imports resolved against WASI
//! preview 1 once (an [`InstancePre`]) so that each step only instantiates. It is keyed by the
//! sha256 of the bytes:
//!
//! 1. in memory: the second call with the same bytes is a map lookup plus the hash;
//!    [`WasmRuntime::module_from_file`] also remembers the file's size and mtime, so a repeated
//!    call does not even read the file;
//! 2. on disk, when [`WasmConfig::cache_dir`] is set: the compiled code is written with
//!    `Module::serialize` and mapped back with `Module::deserialize_file` by later processes
//!    (the `cache` module has the file layout). Compiling CPython takes about a minute; loading
//!    it from the cache about 10 ms (DESIGN.md); the `add` component, 2 MB, loads in 1.5 ms.
//!
//! Two threads asking for the same new module at once compile it once: the second waits.
//!
//! Modules skiff refuses, with the reason in [`WasmError`]: bytes that are not wasm; a component
//! (what `wasm32-wasip2` produces); a module without a `_start` export; a module importing
//! anything but `wasi_snapshot_preview1` (wasip2 interfaces, `wasi:sockets`, `env` functions of
//! an Emscripten build, wasi-threads' `thread-spawn`).
//!
//! # The engine and its pool (defaults, and why)
//!
//! One [`wasmtime::Engine`] per [`WasmRuntime`], with cranelift at its default optimization level,
//! epoch interruption on, wasmtime's default wasm features, and copy-on-write memory images
//! (`memory_init_cow`: a module's data segments are mapped, not copied, at instantiation).
//!
//! Instances come from wasmtime's pooling allocator when [`WasmConfig::pool_instances`] is not
//! zero (the default is [`DEFAULT_POOL_INSTANCES`] = 256). The pool reserves, up front, address
//! space for that many linear memories and tables, and reuses the slots. On the 2-core
//! development machine (`benches/wasm_step.rs`) a step of the `add` example component (a Rust
//! program that reads two env vars, writes a file and prints) costs 17 µs pooled against 38 µs
//! on demand, a no-op module 2.7 µs against 4.1 µs. The numbers:
//!
//! | setting | value | why |
//! |---|---|---|
//! | concurrent instances, memories, tables, GC heaps | `pool_instances` (256) | hundreds of concurrent steps; a step past the pool waits for a slot rather than fail |
//! | core instances | 2 × `pool_instances` | a step may add one small helper instance (the `poll_oneoff` trampoline) |
//! | max linear memory per instance | 4 GiB | all of wasm32; the memory limit is enforced per store instead |
//! | address space per memory slot | 4 GiB + 32 MiB guard (wasmtime's default reservation) | keeps bounds checks elided: cranelift's code relies on the guard |
//! | total address space reserved | 1.01 TiB for 256 slots (measured `VmSize`; +14 MiB RSS) | `PROT_NONE`, not memory, and not counted against overcommit; 0.8% of x86-64's 128 TiB user space |
//! | instance metadata per core instance | 4 MiB | CPython's 89,060 functions need 1.5 MB (wasmtime's default is 1 MiB) |
//! | table elements per table | 100 000 (800 KB of address space each) | room for large modules' function tables (wasmtime's default is 20 000, and a module whose table is larger cannot be instantiated from the pool) |
//! | memory kept resident per slot on reuse | [`POOL_MEMORY_KEEP_RESIDENT`] (1 MiB) with `PAGEMAP_SCAN`, else [`POOL_MEMORY_KEEP_RESIDENT_WITHOUT_PAGEMAP_SCAN`] (64 KiB) | reset in place instead of `madvise`: no page faults on the next step's stack and heap; at most 256 MiB of RSS kept by a full pool |
//! | table kept resident | [`POOL_TABLE_KEEP_RESIDENT`] (64 KiB) | same, for tables |
//! | `PAGEMAP_SCAN` | auto | on Linux 6.7+, reset only the pages a step dirtied (halves the `add` component's step time) |
//! | async stacks | `pool_instances` × 2 MiB, reserved only | skiff runs wasm synchronously; wasmtime sizes this pool anyway |
//!
//! If the pool cannot be created (an address-space `ulimit -v`, a 32-bit host), the runtime falls
//! back to the on-demand allocator and prints one warning line to stderr; see
//! [`WasmRuntime::is_pooling`].

mod cache;
mod error;
mod limits;
mod runtime;
mod sleep;
mod stdio;
mod stop;
#[cfg(test)]
mod tests;

use std::path::PathBuf;
use std::time::Duration;

pub use error::{BoxError, WasmError};
pub use runtime::{CacheStats, WasmModule, WasmRuntime};
pub use stdio::LogSink;
pub(crate) use stop::StepStopped;
pub use stop::StopSignal;

#[cfg(doc)]
use wasmtime::InstancePre;

/// Default for [`WasmConfig::pool_instances`].
pub const DEFAULT_POOL_INSTANCES: u32 = 256;
/// Default for [`WasmConfig::default_memory_limit`]: 2 GiB, half of what wasm32 can address.
pub const DEFAULT_MEMORY_LIMIT: u64 = 2 << 30;
/// Default for [`WasmConfig::default_stdout_limit`]: 8 MiB per stream.
pub const DEFAULT_STDOUT_LIMIT: usize = 8 << 20;
/// Default for [`WasmConfig::epoch_tick`].
pub const DEFAULT_EPOCH_TICK: Duration = Duration::from_millis(10);
/// Bytes at the start of each pooled linear memory reset in place (rather than returned to the
/// kernel) when a step ends, on hosts with `PAGEMAP_SCAN` (Linux 6.7+).
pub const POOL_MEMORY_KEEP_RESIDENT: usize = 1 << 20;
/// The same, on hosts without `PAGEMAP_SCAN`, where the whole window is `memset`.
pub const POOL_MEMORY_KEEP_RESIDENT_WITHOUT_PAGEMAP_SCAN: usize = 64 << 10;
/// Bytes of each pooled table reset with `memset` rather than returned to the kernel.
pub const POOL_TABLE_KEEP_RESIDENT: usize = 64 << 10;

/// How a [`WasmRuntime`] is set up. Every field has a default ([`WasmConfig::default`]).
#[derive(Debug, Clone)]
pub struct WasmConfig {
    /// Where compiled modules are cached across processes; `None` (the default) keeps them in
    /// memory only. skiff's CLI uses `$SKIFF_HOME/cache/modules`.
    pub cache_dir: Option<PathBuf>,
    /// How many steps can run at once with pooled instances ([`DEFAULT_POOL_INSTANCES`]); more
    /// steps wait in [`WasmRuntime::run`] for a slot. `0` uses the on-demand allocator (no
    /// reservation, no limit on concurrency, slower instantiation).
    pub pool_instances: u32,
    /// A step's linear-memory limit when its [`Sandbox::memory_limit`] is `None`
    /// ([`DEFAULT_MEMORY_LIMIT`], 2 GiB).
    pub default_memory_limit: u64,
    /// How many bytes of stdout, and of stderr, a step keeps when its [`Sandbox::stdout_limit`]
    /// is `None` ([`DEFAULT_STDOUT_LIMIT`], 8 MiB).
    pub default_stdout_limit: usize,
    /// A step's wall-clock limit when its [`Sandbox::timeout`] is `None` (default: none).
    pub default_timeout: Option<Duration>,
    /// How often the epoch advances while steps run: the precision of deadlines
    /// ([`DEFAULT_EPOCH_TICK`], 10 ms).
    pub epoch_tick: Duration,
    /// The most native stack wasm code may use, in bytes (`None`: wasmtime's default, 512 KiB).
    /// Every thread that runs a step must have this much stack and ~2 MiB more: a larger value
    /// is for runtimes whose steps run on threads made for them (CPython uses 8 MiB).
    pub max_wasm_stack: Option<usize>,
}

impl Default for WasmConfig {
    fn default() -> Self {
        WasmConfig {
            cache_dir: None,
            pool_instances: DEFAULT_POOL_INSTANCES,
            default_memory_limit: DEFAULT_MEMORY_LIMIT,
            default_stdout_limit: DEFAULT_STDOUT_LIMIT,
            default_timeout: None,
            epoch_tick: DEFAULT_EPOCH_TICK,
            max_wasm_stack: None,
        }
    }
}

/// What one step runs with. See the module docs for what the guest sees of each field.
#[derive(Debug, Clone, Default)]
pub struct Sandbox {
    /// argv, argv\[0\] included.
    pub args: Vec<String>,
    /// The environment, exactly (nothing is inherited from the host).
    pub env: Vec<(String, String)>,
    /// The host directory mounted read-write as `/`; it must exist. Empty: no filesystem.
    pub root: PathBuf,
    /// Everything the guest reads from stdin.
    pub stdin: Vec<u8>,
    /// Wall-clock limit; `None` uses [`WasmConfig::default_timeout`].
    pub timeout: Option<Duration>,
    /// Linear-memory limit in bytes; `None` uses [`WasmConfig::default_memory_limit`].
    pub memory_limit: Option<u64>,
    /// Bytes kept of stdout, and of stderr; `None` uses [`WasmConfig::default_stdout_limit`].
    pub stdout_limit: Option<usize>,
    /// More host directories to mount, after the root: a longer guest path wins inside the guest.
    pub mounts: Vec<Mount>,
    /// What to call: `_start` for a command module (the default), or a reactor's entry.
    pub entry: Entry,
    /// Stops the step when set, from any thread: it ends within about one
    /// [`WasmConfig::epoch_tick`] with exit code 137 (see the module docs). `None`: nothing but
    /// the deadline stops it.
    pub stop: Option<StopSignal>,
    /// Called with each chunk of the interleaved log as it is written; `None`: the log is only
    /// in the [`RunOutcome`].
    pub log_sink: Option<LogSink>,
}

/// A host directory mounted into the sandbox.
#[derive(Debug, Clone)]
pub struct Mount {
    /// The directory on the host; it must exist.
    pub host: PathBuf,
    /// Where the guest sees it (absolute).
    pub guest: String,
    /// Whether the guest may write there.
    pub writable: bool,
}

/// How a step enters its module.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Entry {
    /// A command module's `_start`.
    #[default]
    Start,
    /// A reactor (CPython's): `_initialize` if exported, then `turn(ptr, len) -> i32` with this source
    /// text written into the guest's memory through its `host_alloc` export. The low byte of the value
    /// is the exit status.
    Turn(String),
    /// A reactor: `_initialize` if exported, then `run() -> i32`, whose value is the exit status.
    Run,
}

/// What a step did.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    /// 0 when `_start` returned, `n` after `proc_exit(n)`, 137 when the deadline, the memory
    /// limit or the stop signal stopped it, -1 after any other trap (see the module docs).
    pub exit_code: i32,
    /// What the guest wrote to stdout (up to the stdout limit).
    pub stdout: Vec<u8>,
    /// What the guest wrote to stderr (up to the stdout limit).
    pub stderr: Vec<u8>,
    /// stdout and stderr interleaved in write order, plus skiff's truncation notes.
    pub log: Vec<u8>,
    /// Why the step was stopped, in words fit for a user, when it did not end by itself: a trap,
    /// the deadline, the memory limit, the stop signal. `None` when it returned or called
    /// `proc_exit`.
    pub error: Option<String>,
    /// Wall-clock time from the start of instantiation to the end of `_start`.
    pub duration: Duration,
}

impl RunOutcome {
    /// Whether the step ended by itself with exit code 0.
    pub fn success(&self) -> bool {
        self.exit_code == 0 && self.error.is_none()
    }
}

/// The state of one step's store.
pub(crate) struct StepState {
    wasi: wasmtime_wasi::p1::WasiP1Ctx,
    limiter: limits::StepLimiter,
    /// The step's deadline, if it has one.
    deadline: Option<limits::Deadline>,
    /// Set when the deadline stopped the step (by the epoch callback or the interruptible sleep).
    deadline_hit: bool,
    /// The step's stop signal, if it has one.
    stop: Option<StopSignal>,
    /// The reason, when the stop signal stopped the step (by the epoch callback or the
    /// interruptible sleep).
    stopped: Option<String>,
    /// wasmtime-wasi's `poll_oneoff`, through the trampoline, once a step has needed it.
    poll_oneoff: Option<sleep::PollOneoff>,
}
