//! [`WasmRuntime`]: the engine, its pool and epoch ticker, the module caches, and running a step.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

use wasmtime::{
    Config, Enabled, Engine, InstanceAllocationStrategy, InstancePre, Linker, Module,
    PoolingAllocationConfig, Store, Trap, UpdateDeadline, WasmBacktrace,
};
use wasmtime_wasi::p2::pipe::MemoryInputPipe;
use wasmtime_wasi::{FsPerms, I32Exit, WasiCtxBuilder};

use super::cache::{self, DiskCache, Lookup, Sha256Hash};
use super::limits::{Deadline, DeadlineExceeded, StepLimiter};
use super::stdio::{Capture, Stream};
use super::{
    Entry, POOL_MEMORY_KEEP_RESIDENT, POOL_MEMORY_KEEP_RESIDENT_WITHOUT_PAGEMAP_SCAN,
    POOL_TABLE_KEEP_RESIDENT, RunOutcome, Sandbox, StepState, StepStopped, StopSignal, WasmConfig,
    WasmError, sleep,
};

/// The WASI preview 1 import module, the only one skiff provides.
const WASI_MODULE: &str = "wasi_snapshot_preview1";
/// Exit code for a step the sandbox killed (deadline, memory, stop signal), as Kubernetes reports
/// `SIGKILL`.
const KILLED_EXIT_CODE: i32 = 137;
/// Exit code for a step that trapped.
const TRAP_EXIT_CODE: i32 = -1;
/// Epoch deadline for stores without a timeout: never reached, and far from overflowing when
/// added to the current epoch.
const NO_DEADLINE: u64 = u64::MAX / 2;
/// The largest linear memory a pooled slot holds: all of wasm32.
const POOL_MAX_MEMORY: usize = 4 << 30;
/// Bytes of instance metadata per pooled core instance (wasmtime's default is 1 MiB): CPython's
/// 89,060 functions need 1.5 MB. Reserved address space, committed as used.
const POOL_MAX_CORE_INSTANCE_SIZE: usize = 4 << 20;
/// Elements per pooled table; wasmtime's default of 20 000 is too small for CPython.
const POOL_TABLE_ELEMENTS: usize = 100_000;

/// The sandbox runtime: one engine, its instance pool, the compiled-module caches. Cheap to
/// clone (an `Arc`), `Send + Sync`; see the module docs.
#[derive(Clone)]
pub struct WasmRuntime {
    inner: Arc<Inner>,
}

/// A compiled module with its WASI imports resolved, ready for [`WasmRuntime::run`]. Cheap to
/// clone. Only valid with the runtime that made it.
#[derive(Clone)]
pub struct WasmModule {
    pre: Arc<InstancePre<StepState>>,
    hash: Sha256Hash,
    /// Whether it exports `_start` (a command); otherwise it is a reactor with `run` or `turn`.
    command: bool,
}

/// Counters of where [`WasmRuntime::module`] found its modules, since the runtime was created.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Found in memory (the same bytes, or the same unchanged file, seen before).
    pub memory_hits: u64,
    /// Loaded from the on-disk cache.
    pub disk_hits: u64,
    /// Compiled (and, with a cache directory, written to it).
    pub compiled: u64,
    /// Of `compiled`: those whose cache file existed but could not be loaded, and was replaced.
    pub rebuilt_corrupt: u64,
}

struct Inner {
    engine: Engine,
    linker: Linker<StepState>,
    config: WasmConfig,
    pooling: bool,
    disk: Option<DiskCache>,
    /// sha256 of the bytes -> the module; the inner lock makes a second caller wait for the
    /// first one's compilation instead of compiling again.
    by_hash: Mutex<HashMap<Sha256Hash, Arc<Mutex<Option<WasmModule>>>>>,
    /// What `module_from_file` saw at a path: size and mtime, and the module.
    by_path: Mutex<HashMap<PathBuf, (FileStamp, WasmModule)>>,
    slots: Arc<Slots>,
    stats: Stats,
}

#[derive(Default)]
struct Stats {
    memory_hits: AtomicU64,
    disk_hits: AtomicU64,
    compiled: AtomicU64,
    rebuilt_corrupt: AtomicU64,
}

type FileStamp = (u64, Option<SystemTime>);

impl Drop for Inner {
    fn drop(&mut self) {
        self.slots.shut_down();
    }
}

/// Locks a mutex whose data stays consistent even if a holder panicked (maps and counters that
/// are only ever replaced whole).
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl WasmRuntime {
    /// Creates the engine (with its instance pool, falling back to on-demand allocation if the
    /// pool cannot be reserved), links WASI preview 1, and starts the epoch ticker.
    ///
    /// # Errors
    ///
    /// [`WasmError::Engine`] if wasmtime rejects the configuration or the ticker thread cannot
    /// be started.
    pub fn new(config: WasmConfig) -> Result<Self, WasmError> {
        let engine_err = |e: wasmtime::Error| WasmError::Engine(WasmError::boxed(e));
        let (engine, pooling) = if config.pool_instances > 0 {
            match Engine::new(&engine_config(&config, Some(config.pool_instances))) {
                Ok(engine) => (engine, true),
                Err(err) => {
                    eprintln!(
                        "warning: skiff: could not reserve a pool of {} wasm instances ({err:#}); \
                         using on-demand allocation, which is slower per step",
                        config.pool_instances
                    );
                    (
                        Engine::new(&engine_config(&config, None)).map_err(engine_err)?,
                        false,
                    )
                }
            }
        } else {
            (
                Engine::new(&engine_config(&config, None)).map_err(engine_err)?,
                false,
            )
        };

        let mut wasi_only = Linker::<StepState>::new(&engine);
        wasmtime_wasi::p1::add_to_linker_sync(&mut wasi_only, |state: &mut StepState| {
            &mut state.wasi
        })
        .map_err(engine_err)?;
        let trampoline = Module::new(
            &engine,
            wat::parse_str(sleep::TRAMPOLINE_WAT).map_err(|e| WasmError::Engine(Box::new(e)))?,
        )
        .map_err(engine_err)?;
        let mut linker = wasi_only.clone();
        sleep::add_to_linker(&mut linker, Arc::new(wasi_only), trampoline).map_err(engine_err)?;
        add_proc_exit(&mut linker).map_err(engine_err)?;
        add_host_call(&mut linker).map_err(engine_err)?;

        let limit = if pooling {
            usize::try_from(config.pool_instances).unwrap_or(usize::MAX)
        } else {
            usize::MAX
        };
        let slots = Arc::new(Slots::new(limit));
        spawn_ticker(engine.clone(), Arc::clone(&slots), config.epoch_tick)
            .map_err(|e| WasmError::Engine(Box::new(e)))?;

        let disk = config
            .cache_dir
            .clone()
            .map(|dir| DiskCache::new(dir, &engine));
        Ok(WasmRuntime {
            inner: Arc::new(Inner {
                engine,
                linker,
                config,
                pooling,
                disk,
                by_hash: Mutex::default(),
                by_path: Mutex::default(),
                slots,
                stats: Stats::default(),
            }),
        })
    }

    /// Whether instances come from the pooling allocator (`false`: on-demand, either asked for
    /// with `pool_instances: 0` or fallen back to).
    pub fn is_pooling(&self) -> bool {
        self.inner.pooling
    }

    /// The configuration this runtime was created with.
    pub fn config(&self) -> &WasmConfig {
        &self.inner.config
    }

    /// The wasmtime engine, for callers that compile or inspect modules themselves.
    pub fn engine(&self) -> &Engine {
        &self.inner.engine
    }

    /// Where modules came from so far.
    pub fn cache_stats(&self) -> CacheStats {
        let s = &self.inner.stats;
        CacheStats {
            memory_hits: s.memory_hits.load(Ordering::Relaxed),
            disk_hits: s.disk_hits.load(Ordering::Relaxed),
            compiled: s.compiled.load(Ordering::Relaxed),
            rebuilt_corrupt: s.rebuilt_corrupt.load(Ordering::Relaxed),
        }
    }

    /// Compile (or load from the on-disk cache) and pre-link a module; repeat calls with the
    /// same bytes are a hash-map hit. `bytes` is a core wasm module, binary or text.
    ///
    /// # Errors
    ///
    /// [`WasmError::NotWasm`], [`WasmError::Component`], [`WasmError::Compile`],
    /// [`WasmError::MissingStart`], [`WasmError::Link`] for a module skiff cannot run;
    /// [`WasmError::Io`] if the cache directory cannot be written.
    pub fn module(&self, bytes: &[u8]) -> Result<WasmModule, WasmError> {
        let hash = cache::sha256(bytes);
        self.memoized(hash, || self.load_or_compile(bytes, &hash))
    }

    /// The module whose bytes hash to `hash`: from memory when seen before, else from `load`, pre-linked
    /// and remembered. A second caller for the same hash waits for the first one's `load`.
    fn memoized(
        &self,
        hash: Sha256Hash,
        load: impl FnOnce() -> Result<Module, WasmError>,
    ) -> Result<WasmModule, WasmError> {
        let slot = Arc::clone(lock(&self.inner.by_hash).entry(hash).or_default());
        let mut slot = lock(&slot);
        if let Some(module) = &*slot {
            self.inner.stats.memory_hits.fetch_add(1, Ordering::Relaxed);
            return Ok(module.clone());
        }
        let module = self.wrap(&load()?, hash)?;
        *slot = Some(module.clone());
        Ok(module)
    }

    fn wrap(&self, module: &Module, hash: Sha256Hash) -> Result<WasmModule, WasmError> {
        let command = matches!(
            module.get_export("_start"),
            Some(wasmtime::ExternType::Func(_))
        );
        Ok(WasmModule {
            pre: Arc::new(self.prelink(module)?),
            hash,
            command,
        })
    }

    /// Whether the on-disk cache holds a compiled module for the module bytes whose sha256 is `sha256`.
    pub fn is_cached(&self, sha256: &[u8; 32]) -> bool {
        self.inner
            .disk
            .as_ref()
            .is_some_and(|disk| disk.path(sha256).is_file())
    }

    /// [`module_from_file`](Self::module_from_file) for a large file whose sha256 the caller already
    /// knows (verified once, say, against a checksum list): a disk-cache hit maps the compiled module in
    /// without reading or hashing the file. On a miss the file is read and compiled once, also across
    /// processes: a second process asking for the same module waits on a lock file beside the cache
    /// entry, then loads what the first one wrote.
    ///
    /// # Errors
    ///
    /// Those of [`module`](Self::module), and [`WasmError::Io`] for the lock file.
    pub fn module_from_file_with_hash(
        &self,
        path: &Path,
        sha256: &[u8; 32],
    ) -> Result<WasmModule, WasmError> {
        let hash: Sha256Hash = *sha256;
        self.memoized(hash, || {
            let inner = &*self.inner;
            let mut _held = None;
            if let Some(disk) = &inner.disk {
                if let Lookup::Hit(module) = disk.load(&inner.engine, &hash) {
                    inner.stats.disk_hits.fetch_add(1, Ordering::Relaxed);
                    return Ok(module);
                }
                _held = Some(disk.lock(&hash)?);
            }
            // Under the lock: another process may have written the entry meanwhile, which
            // load_or_compile finds before compiling.
            self.load_or_compile(&read_module(path)?, &hash)
        })
    }

    /// [`module`](Self::module) for a file; a repeated call for a file whose size and mtime did
    /// not change does not read it again.
    ///
    /// # Errors
    ///
    /// [`WasmError::Io`] if the file cannot be read, and those of [`module`](Self::module).
    pub fn module_from_file(&self, path: &Path) -> Result<WasmModule, WasmError> {
        let meta = std::fs::metadata(path).map_err(|source| read_error(path, source))?;
        let stamp = (meta.len(), meta.modified().ok());
        if let Some((seen, module)) = lock(&self.inner.by_path).get(path)
            && *seen == stamp
        {
            self.inner.stats.memory_hits.fetch_add(1, Ordering::Relaxed);
            return Ok(module.clone());
        }
        let bytes = read_module(path)?;
        let module = self.module(&bytes)?;
        lock(&self.inner.by_path).insert(path.to_owned(), (stamp, module.clone()));
        Ok(module)
    }

    fn load_or_compile(&self, bytes: &[u8], hash: &Sha256Hash) -> Result<Module, WasmError> {
        let inner = &*self.inner;
        check_header(bytes)?;
        let mut corrupt = false;
        if let Some(disk) = &inner.disk {
            match disk.load(&inner.engine, hash) {
                Lookup::Hit(module) => {
                    inner.stats.disk_hits.fetch_add(1, Ordering::Relaxed);
                    return Ok(module);
                }
                Lookup::Miss => {}
                Lookup::Corrupt(err) => {
                    eprintln!(
                        "warning: skiff: the compiled-module cache entry {} is unreadable \
                         ({err:#}); compiling the module again",
                        disk.path(hash).display()
                    );
                    corrupt = true;
                }
            }
        }
        let module = compile(&inner.engine, bytes)?;
        inner.stats.compiled.fetch_add(1, Ordering::Relaxed);
        if corrupt {
            inner.stats.rebuilt_corrupt.fetch_add(1, Ordering::Relaxed);
        }
        if let Some(disk) = &inner.disk {
            disk.store(hash, &module)?;
        }
        Ok(module)
    }

    fn prelink(&self, module: &Module) -> Result<InstancePre<StepState>, WasmError> {
        let func = |name| matches!(module.get_export(name), Some(wasmtime::ExternType::Func(_)));
        if !func("_start") && !func("run") && !func("turn") {
            return Err(WasmError::MissingStart);
        }
        self.inner.linker.instantiate_pre(module).map_err(|err| {
            match module
                .imports()
                .find(|import| import.module() != WASI_MODULE || !is_wasi_function(import.name()))
            {
                Some(import) => WasmError::Link {
                    module: import.module().to_owned(),
                    name: import.name().to_owned(),
                    source: WasmError::boxed(err),
                },
                None => WasmError::Instantiate(WasmError::boxed(err)),
            }
        })
    }

    /// Runs the module's `_start` in a fresh sandbox. Blocking: callers use spawn_blocking.
    ///
    /// With a pool, waits for a free slot when `pool_instances` steps are already running. A step
    /// whose [`Sandbox::stop`] is set before it gets a slot, or before it is instantiated, does
    /// not run: its outcome says it was stopped.
    ///
    /// # Errors
    ///
    /// [`WasmError::Root`] if [`Sandbox::root`] cannot be opened, [`WasmError::Instantiate`] if
    /// wasmtime cannot instantiate the module for a reason that is not the step's. Everything
    /// the step itself does, traps included, is reported in the [`RunOutcome`].
    pub fn run(&self, module: &WasmModule, sandbox: &Sandbox) -> Result<RunOutcome, WasmError> {
        let inner = &*self.inner;
        if !Engine::same(module.pre.module().engine(), &inner.engine) {
            return Err(WasmError::Instantiate(
                "the module was loaded by another WasmRuntime".into(),
            ));
        }
        let started = Instant::now();
        let stop = sandbox.stop.as_ref();
        let Some(_slot) = inner.slots.acquire(stop, inner.config.epoch_tick) else {
            return Ok(stopped_before_start(stop, started));
        };
        if stop.is_some_and(StopSignal::is_stopped) {
            return Ok(stopped_before_start(stop, started));
        }

        let capture = Capture::new(
            sandbox
                .stdout_limit
                .unwrap_or(inner.config.default_stdout_limit),
            sandbox.log_sink.clone(),
        );
        let mut wasi = WasiCtxBuilder::new();
        // Set first: preopens capture it. skiff already runs steps on blocking threads.
        wasi.allow_blocking_current_thread(true)
            .args(&sandbox.args)
            .envs(&sandbox.env)
            .stdin(MemoryInputPipe::new(sandbox.stdin.clone()))
            .stdout(capture.pipe(Stream::Stdout))
            .stderr(capture.pipe(Stream::Stderr))
            .initial_cwd("/")
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false);
        if !sandbox.root.as_os_str().is_empty() {
            wasi.preopened_dir(&sandbox.root, "/", FsPerms::ReadWrite)
                .map_err(|e| WasmError::Root {
                    path: sandbox.root.clone(),
                    source: WasmError::boxed(e),
                })?;
        }
        for mount in &sandbox.mounts {
            let perms = if mount.writable {
                FsPerms::ReadWrite
            } else {
                FsPerms::ReadOnly
            };
            wasi.preopened_dir(&mount.host, &mount.guest, perms)
                .map_err(|e| WasmError::Root {
                    path: mount.host.clone(),
                    source: WasmError::boxed(e),
                })?;
        }

        let timeout = sandbox.timeout.or(inner.config.default_timeout);
        let deadline = timeout.map(Deadline::after);
        let memory_limit = sandbox
            .memory_limit
            .unwrap_or(inner.config.default_memory_limit);
        let mut store = Store::new(
            &inner.engine,
            StepState {
                wasi: wasi.build_p1(),
                limiter: StepLimiter::new(memory_limit),
                deadline,
                deadline_hit: false,
                stop: sandbox.stop.clone(),
                stopped: None,
                poll_oneoff: None,
            },
        );
        store.limiter(|state| &mut state.limiter);
        let tick = inner.config.epoch_tick.max(Duration::from_micros(100));
        match (deadline, stop.is_some()) {
            // Nothing can stop the step early: no callback, the epoch check never fires.
            (None, false) => store.set_epoch_deadline(NO_DEADLINE),
            // Only the deadline: called back when it should have passed (and again if the ticker
            // ran ahead of the clock).
            (Some(deadline), false) => {
                store.set_epoch_deadline(ticks_until(deadline.at, tick));
                store.epoch_deadline_callback(move |mut ctx| {
                    if Instant::now() >= deadline.at {
                        ctx.data_mut().deadline_hit = true;
                        return Err(DeadlineExceeded(deadline.limit).into());
                    }
                    Ok(UpdateDeadline::Continue(ticks_until(deadline.at, tick)))
                });
            }
            // A stop signal: called back on every tick, since a stop can come at any time.
            (deadline, true) => {
                store.set_epoch_deadline(1);
                store.epoch_deadline_callback(move |mut ctx| {
                    let state = ctx.data_mut();
                    if let Some(reason) = state.stop.as_ref().and_then(StopSignal::reason) {
                        state.stopped = Some(reason.clone());
                        return Err(StepStopped(reason).into());
                    }
                    if let Some(deadline) = deadline
                        && Instant::now() >= deadline.at
                    {
                        state.deadline_hit = true;
                        return Err(DeadlineExceeded(deadline.limit).into());
                    }
                    Ok(UpdateDeadline::Continue(1))
                });
            }
        }

        let (exit_code, error) = match module.pre.instantiate(&mut store) {
            Ok(instance) => match enter(&mut store, &instance, &sandbox.entry, module.command) {
                Ok(status) => (status, None),
                Err(err) => ending(store.data(), &err),
            },
            Err(err) => {
                let state = store.data();
                if state.deadline_hit || state.stopped.is_some() || state.limiter.exceeded.is_some()
                {
                    ending(state, &err)
                } else {
                    return Err(WasmError::Instantiate(WasmError::boxed(err)));
                }
            }
        };
        let duration = started.elapsed();
        drop(store);
        let captured = capture.take();
        Ok(RunOutcome {
            exit_code,
            stdout: captured.stdout,
            stderr: captured.stderr,
            log: captured.log,
            error,
            duration,
        })
    }
}

impl fmt::Debug for WasmRuntime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WasmRuntime")
            .field("config", &self.inner.config)
            .field("pooling", &self.inner.pooling)
            .field("cache_stats", &self.cache_stats())
            .finish_non_exhaustive()
    }
}

impl WasmModule {
    /// The sha256 of the module's bytes, in hex: its identity in the caches.
    pub fn hash(&self) -> String {
        hex::encode(self.hash)
    }

    /// Whether two handles are the same loaded module (not merely the same bytes).
    pub fn same_instance_pre(&self, other: &WasmModule) -> bool {
        Arc::ptr_eq(&self.pre, &other.pre)
    }
}

impl fmt::Debug for WasmModule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WasmModule")
            .field("sha256", &self.hash())
            .finish_non_exhaustive()
    }
}

/// The engine settings; `pool` is the number of pooled instances, `None` for on-demand.
fn engine_config(settings: &WasmConfig, pool: Option<u32>) -> Config {
    let mut config = Config::new();
    config.epoch_interruption(true).memory_init_cow(true);
    if let Some(stack) = settings.max_wasm_stack {
        // wasmtime refuses a wasm stack larger than the async stack, even with async unused.
        config.async_stack_size(stack).max_wasm_stack(stack);
    }
    if let Some(n) = pool {
        let mut pooling = PoolingAllocationConfig::new();
        pooling
            .total_core_instances(n.saturating_mul(2))
            .max_core_instance_size(POOL_MAX_CORE_INSTANCE_SIZE)
            .total_memories(n)
            .total_tables(n)
            .total_gc_heaps(n)
            .total_stacks(n)
            .max_memory_size(POOL_MAX_MEMORY)
            .table_elements(POOL_TABLE_ELEMENTS)
            .linear_memory_keep_resident(memory_keep_resident())
            .table_keep_resident(POOL_TABLE_KEEP_RESIDENT)
            .pagemap_scan(Enabled::Auto);
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(pooling));
    }
    config
}

/// How much of a pooled memory to reset in place: with `PAGEMAP_SCAN` only the dirtied pages are
/// reset, so a larger window is cheap; without it the whole window is `memset`, and beyond a
/// few pages that costs more than the page faults it saves (measured on the `add` component:
/// 17 µs per step with 1 MiB and the scan, 35 µs with 64 KiB without it, 55 µs with 1 MiB
/// without it).
fn memory_keep_resident() -> usize {
    if PoolingAllocationConfig::is_pagemap_scan_available() {
        POOL_MEMORY_KEEP_RESIDENT
    } else {
        POOL_MEMORY_KEEP_RESIDENT_WITHOUT_PAGEMAP_SCAN
    }
}

fn read_error(path: &Path, source: std::io::Error) -> WasmError {
    WasmError::Io {
        action: "could not read the wasm module",
        path: path.to_owned(),
        source,
    }
}

fn read_module(path: &Path) -> Result<Vec<u8>, WasmError> {
    std::fs::read(path).map_err(|source| read_error(path, source))
}

/// Rejects what is not a core module before wasmtime gets to say so less clearly.
fn check_header(bytes: &[u8]) -> Result<(), WasmError> {
    const MAGIC: &[u8] = b"\0asm";
    if bytes.starts_with(MAGIC) {
        // A component's version field reads 0x0d 0x00 and its layer 0x01 0x00.
        if bytes.get(6..8) == Some(&[1, 0]) {
            return Err(WasmError::Component);
        }
        return Ok(());
    }
    // WebAssembly text: let the parser judge it.
    if std::str::from_utf8(bytes).is_ok_and(|text| text.trim_start().starts_with('(')) {
        return Ok(());
    }
    Err(WasmError::NotWasm {
        reason: "the file does not start with the wasm magic number `\\0asm`".to_owned(),
        source: None,
    })
}

/// Validates and compiles a module given as binary or text.
fn compile(engine: &Engine, bytes: &[u8]) -> Result<Module, WasmError> {
    let binary = if bytes.starts_with(b"\0asm") {
        std::borrow::Cow::Borrowed(bytes)
    } else {
        std::borrow::Cow::Owned(
            wat::parse_bytes(bytes)
                .map_err(|e| WasmError::NotWasm {
                    reason: "the WebAssembly text does not parse".to_owned(),
                    source: Some(Box::new(e)),
                })?
                .into_owned(),
        )
    };
    Module::validate(engine, &binary).map_err(|e| WasmError::NotWasm {
        reason: e.to_string(),
        source: Some(WasmError::boxed(e)),
    })?;
    Module::from_binary(engine, &binary).map_err(|e| WasmError::Compile(WasmError::boxed(e)))
}

/// Whether `name` is a WASI preview 1 function (the ones `wasi_snapshot_preview1` defines).
fn is_wasi_function(name: &str) -> bool {
    const NAMES: &[&str] = &[
        "args_get",
        "args_sizes_get",
        "environ_get",
        "environ_sizes_get",
        "clock_res_get",
        "clock_time_get",
        "fd_advise",
        "fd_allocate",
        "fd_close",
        "fd_datasync",
        "fd_fdstat_get",
        "fd_fdstat_set_flags",
        "fd_fdstat_set_rights",
        "fd_filestat_get",
        "fd_filestat_set_size",
        "fd_filestat_set_times",
        "fd_pread",
        "fd_prestat_get",
        "fd_prestat_dir_name",
        "fd_pwrite",
        "fd_read",
        "fd_readdir",
        "fd_renumber",
        "fd_seek",
        "fd_sync",
        "fd_tell",
        "fd_write",
        "path_create_directory",
        "path_filestat_get",
        "path_filestat_set_times",
        "path_link",
        "path_open",
        "path_readlink",
        "path_remove_directory",
        "path_rename",
        "path_symlink",
        "path_unlink_file",
        "poll_oneoff",
        "proc_exit",
        "proc_raise",
        "sched_yield",
        "random_get",
        "sock_accept",
        "sock_recv",
        "sock_send",
        "sock_shutdown",
    ];
    NAMES.contains(&name)
}

/// Shadows wasmtime-wasi's `proc_exit`, which traps on a status of 126 or more, with one that ends the
/// step with any status a process could have (0..=255): shells exit 127 for a command not found, and
/// programs exit 130 or 255 on purpose. Anything above 255 is cut to its low byte, as a process's
/// status is.
fn add_proc_exit(linker: &mut Linker<StepState>) -> wasmtime::Result<()> {
    linker.allow_shadowing(true);
    linker.func_wrap(
        "wasi_snapshot_preview1",
        "proc_exit",
        |status: i32| -> wasmtime::Result<()> { Err(I32Exit(status & 0xff).into()) },
    )?;
    linker.allow_shadowing(false);
    Ok(())
}

/// Calls the step's entry and returns its exit status.
fn enter(
    store: &mut Store<StepState>,
    instance: &wasmtime::Instance,
    entry: &Entry,
    command: bool,
) -> wasmtime::Result<i32> {
    // `Start` on a reactor means its `run`.
    if matches!(entry, Entry::Start) && command {
        let start = instance.get_typed_func::<(), ()>(&mut *store, "_start")?;
        start.call(&mut *store, ())?;
        return Ok(0);
    }
    if let Some(init) = instance.get_func(&mut *store, "_initialize") {
        init.typed::<(), ()>(&*store)?.call(&mut *store, ())?;
    }
    match entry {
        Entry::Turn(code) => {
            let len = i32::try_from(code.len())
                .map_err(|_| wasmtime::Error::msg("the source is larger than 2 GiB"))?;
            let alloc = instance.get_typed_func::<i32, i32>(&mut *store, "host_alloc")?;
            let ptr = alloc.call(&mut *store, len)?;
            let memory = instance
                .get_memory(&mut *store, "memory")
                .ok_or_else(|| wasmtime::Error::msg("the module exports no memory"))?;
            // A null or out-of-range pointer is passed on as 0: the guest raises MemoryError itself.
            let ptr = match memory.write(&mut *store, ptr as u32 as usize, code.as_bytes()) {
                Ok(()) if ptr != 0 => ptr,
                _ => 0,
            };
            let turn = instance.get_typed_func::<(i32, i32), i32>(&mut *store, "turn")?;
            let value = turn.call(&mut *store, (ptr, len))?;
            Ok(value & 0xff)
        }
        _ => {
            let run = instance.get_typed_func::<(), i32>(&mut *store, "run")?;
            Ok(run.call(&mut *store, ())? & 0xff)
        }
    }
}

/// The embedder's door that CPython's reactor imports (`host.call(ptr, len, out_ptr, out_len)`): skiff
/// offers no host functions to guests, so every call answers `-1`, "no host", as the guest expects
/// when there is none.
fn add_host_call(linker: &mut Linker<StepState>) -> wasmtime::Result<()> {
    linker.func_wrap("host", "call", |_: i32, _: i32, _: i32, _: i32| -> i32 {
        -1
    })?;
    Ok(())
}

/// How a step that did not return normally ended: its exit code and, for a kill or a trap, the
/// message.
fn ending(state: &StepState, err: &wasmtime::Error) -> (i32, Option<String>) {
    if let Some(exit) = err.downcast_ref::<I32Exit>() {
        return (exit.0, None);
    }
    if let Some(reason) = &state.stopped {
        return (
            KILLED_EXIT_CODE,
            Some(StepStopped(reason.clone()).to_string()),
        );
    }
    if state.deadline_hit
        && let Some(deadline) = state.deadline
    {
        return (
            KILLED_EXIT_CODE,
            Some(DeadlineExceeded(deadline.limit).to_string()),
        );
    }
    if let Some(exceeded) = &state.limiter.exceeded {
        return (KILLED_EXIT_CODE, Some(exceeded.to_string()));
    }
    let mut message = match err.downcast_ref::<Trap>() {
        Some(trap) => trap.to_string(),
        None => format!("{err:#}"),
    };
    if let Some(backtrace) = err.downcast_ref::<WasmBacktrace>()
        && !backtrace.frames().is_empty()
    {
        message.push('\n');
        message.push_str(&backtrace.to_string());
    }
    (TRAP_EXIT_CODE, Some(message))
}

/// The outcome of a step whose stop signal was set before it was instantiated.
fn stopped_before_start(stop: Option<&StopSignal>, started: Instant) -> RunOutcome {
    let reason = stop.and_then(StopSignal::reason).unwrap_or_default();
    RunOutcome {
        exit_code: KILLED_EXIT_CODE,
        stdout: Vec::new(),
        stderr: Vec::new(),
        log: Vec::new(),
        error: Some(StepStopped(reason).to_string()),
        duration: started.elapsed(),
    }
}

/// Epoch ticks from now until `at` (at least one).
fn ticks_until(at: Instant, tick: Duration) -> u64 {
    let left = at.saturating_duration_since(Instant::now());
    u64::try_from(left.as_nanos() / tick.as_nanos().max(1))
        .unwrap_or(NO_DEADLINE)
        .max(1)
}

/// Counts running steps: bounds them to the pool's size, and tells the ticker whether to tick.
struct Slots {
    state: Mutex<SlotState>,
    /// Signalled when a slot frees up.
    freed: Condvar,
    /// Signalled when the first step starts, and at shutdown.
    busy: Condvar,
    limit: usize,
}

struct SlotState {
    running: usize,
    alive: bool,
}

/// A running step's slot; dropping it frees the slot.
struct SlotGuard<'a>(&'a Slots);

impl Slots {
    fn new(limit: usize) -> Self {
        Slots {
            state: Mutex::new(SlotState {
                running: 0,
                alive: true,
            }),
            freed: Condvar::new(),
            busy: Condvar::new(),
            limit: limit.max(1),
        }
    }

    /// Waits for a free slot; `None` when `stop` was set first. A stop does not signal `freed`,
    /// so a step with a signal looks at it every `tick` while it waits.
    fn acquire(&self, stop: Option<&StopSignal>, tick: Duration) -> Option<SlotGuard<'_>> {
        let mut state = lock(&self.state);
        while state.running >= self.limit {
            if stop.is_some_and(StopSignal::is_stopped) {
                return None;
            }
            state = match stop {
                None => self
                    .freed
                    .wait(state)
                    .unwrap_or_else(|poisoned| poisoned.into_inner()),
                Some(_) => {
                    self.freed
                        .wait_timeout(state, tick)
                        .unwrap_or_else(|poisoned| poisoned.into_inner())
                        .0
                }
            };
        }
        state.running += 1;
        if state.running == 1 {
            self.busy.notify_all();
        }
        Some(SlotGuard(self))
    }

    fn shut_down(&self) {
        lock(&self.state).alive = false;
        self.busy.notify_all();
    }
}

impl Drop for SlotGuard<'_> {
    fn drop(&mut self) {
        lock(&self.0.state).running -= 1;
        self.0.freed.notify_one();
    }
}

/// Starts the thread that advances `engine`'s epoch every `tick` while a step runs, until the
/// runtime is dropped.
fn spawn_ticker(engine: Engine, slots: Arc<Slots>, tick: Duration) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("skiff-wasm-epoch".to_owned())
        .spawn(move || {
            loop {
                {
                    let mut state = lock(&slots.state);
                    while state.running == 0 && state.alive {
                        state = slots
                            .busy
                            .wait(state)
                            .unwrap_or_else(|poisoned| poisoned.into_inner());
                    }
                    if !state.alive {
                        return;
                    }
                }
                std::thread::sleep(tick);
                engine.increment_epoch();
            }
        })
        .map(drop)
}
