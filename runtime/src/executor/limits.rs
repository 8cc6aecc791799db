//! Host-level limits on local steps: the default memory limit, the caps on a step's log, outputs and
//! sandbox disk, and the host memory budget that makes steps queue rather than exhaust the machine.
//!
//! The per-step mechanisms (the memory limiter, the deadline) live in the wasm sandbox
//! ([`crate::executor::wasm`]); this module holds the numbers the local executor gives them, read
//! from the environment by [`StepLimits::from_env`], and the two checks it does itself: the size of
//! the sandbox directory ([`dir_size`], which the executor's disk watch measures while a step runs),
//! and the memory budget a step reserves before it starts.
//! `docs/limits.md` is the user's manual.
//!
//! | limit | default | environment variable |
//! |---|---|---|
//! | memory of a step without `resources.limits.memory` | [`DEFAULT_MEMORY`] (2 GiB) | `SKIFF_DEFAULT_MEMORY` |
//! | bytes kept of stdout, and of stderr | [`DEFAULT_MAX_LOG_BYTES`] (8 MiB) | `SKIFF_MAX_LOG_BYTES` |
//! | size of one output parameter, and of `outputs.result` | [`DEFAULT_MAX_OUTPUT_BYTES`] (4 MiB) | `SKIFF_MAX_OUTPUT_BYTES` |
//! | bytes in a step's sandbox directory | [`DEFAULT_MAX_SANDBOX_BYTES`] (1 GiB) | `SKIFF_MAX_SANDBOX_BYTES` |
//! | memory limits of the steps running at once, summed | 3/4 of `MemAvailable` at start | `SKIFF_HOST_MEMORY` |
//!
//! Sizes are written as Kubernetes quantities (`512Mi`, `2Gi`, `100M`) or plain bytes.

use std::path::Path;
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::Duration;

/// Default for [`StepLimits::default_memory`]: 2 GiB.
pub const DEFAULT_MEMORY: u64 = 2 << 30;
/// Default for [`StepLimits::max_log_bytes`]: 8 MiB per stream.
pub const DEFAULT_MAX_LOG_BYTES: u64 = 8 << 20;
/// Default for [`StepLimits::max_output_bytes`]: 4 MiB (Argo keeps outputs in the workflow object,
/// which etcd caps at 1.5 MB, so anything that runs on Argo fits).
pub const DEFAULT_MAX_OUTPUT_BYTES: u64 = 4 << 20;
/// Default for [`StepLimits::max_sandbox_bytes`]: 1 GiB.
pub const DEFAULT_MAX_SANDBOX_BYTES: u64 = 1 << 30;
/// Default for [`StepLimits::sandbox_check_interval`].
pub const DEFAULT_SANDBOX_CHECK_INTERVAL: Duration = Duration::from_millis(100);
/// The host memory budget when `/proc/meminfo` cannot be read.
const FALLBACK_HOST_MEMORY: u64 = 8 << 30;

/// The limits every local step runs under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepLimits {
    /// Memory of a step whose template sets no `resources.limits.memory` (`SKIFF_DEFAULT_MEMORY`).
    pub default_memory: u64,
    /// Bytes kept of a step's stdout, and of its stderr; the rest is dropped with a note in the log
    /// (`SKIFF_MAX_LOG_BYTES`).
    pub max_log_bytes: u64,
    /// The largest output parameter, and `outputs.result`; a step over it fails
    /// (`SKIFF_MAX_OUTPUT_BYTES`).
    pub max_output_bytes: u64,
    /// The most bytes a step's sandbox directory (its `/`, `/tmp` included) may hold; a step over
    /// it is stopped. `0`: no check (`SKIFF_MAX_SANDBOX_BYTES`).
    pub max_sandbox_bytes: u64,
    /// How often the sandbox directory is measured while a step runs.
    pub sandbox_check_interval: Duration,
    /// The memory limits of the steps running at once may add up to this much; a step past it
    /// waits (`SKIFF_HOST_MEMORY`).
    pub host_memory: u64,
}

impl Default for StepLimits {
    fn default() -> Self {
        Self {
            default_memory: DEFAULT_MEMORY,
            max_log_bytes: DEFAULT_MAX_LOG_BYTES,
            max_output_bytes: DEFAULT_MAX_OUTPUT_BYTES,
            max_sandbox_bytes: DEFAULT_MAX_SANDBOX_BYTES,
            sandbox_check_interval: DEFAULT_SANDBOX_CHECK_INTERVAL,
            host_memory: host_memory_default(),
        }
    }
}

/// Parses a Kubernetes memory quantity (`512Mi`, `1G`, `1000000`) into bytes.
pub fn parse_memory(text: &str) -> Option<u64> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse().ok()?;
    let factor: f64 = match unit {
        "" => 1.0,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "Ki" => 1024.0,
        "Mi" => 1024.0 * 1024.0,
        "Gi" => 1024.0 * 1024.0 * 1024.0,
        "Ti" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        _ => return None,
    };
    Some((number * factor) as u64)
}

/// An environment variable that does not hold a size.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{name}={value} is not a size: write bytes or a quantity such as 512Mi or 2Gi")]
pub struct BadLimit {
    /// The variable.
    pub name: &'static str,
    /// What it holds.
    pub value: String,
}

impl StepLimits {
    /// The defaults, with each `SKIFF_*` variable of the module docs that is set applied.
    ///
    /// # Errors
    /// [`BadLimit`] for a variable that is set but is not a size.
    pub fn from_env() -> Result<Self, BadLimit> {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    /// [`from_env`](Self::from_env) over any source of variables.
    ///
    /// # Errors
    /// [`BadLimit`] for a variable that is set but is not a size.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Self, BadLimit> {
        let mut limits = Self::default();
        let fields: [(&'static str, &mut u64); 5] = [
            ("SKIFF_DEFAULT_MEMORY", &mut limits.default_memory),
            ("SKIFF_MAX_LOG_BYTES", &mut limits.max_log_bytes),
            ("SKIFF_MAX_OUTPUT_BYTES", &mut limits.max_output_bytes),
            ("SKIFF_MAX_SANDBOX_BYTES", &mut limits.max_sandbox_bytes),
            ("SKIFF_HOST_MEMORY", &mut limits.host_memory),
        ];
        for (name, field) in fields {
            if let Some(value) = var(name).filter(|v| !v.trim().is_empty()) {
                *field = parse_memory(value.trim()).ok_or(BadLimit { name, value })?;
            }
        }
        Ok(limits)
    }
}

/// 3/4 of the memory the kernel says is available, so that skiff, the page cache and the rest of
/// the machine keep the last quarter.
fn host_memory_default() -> u64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find_map(|l| l.strip_prefix("MemAvailable:"))
                .and_then(|rest| rest.trim().strip_suffix("kB"))
                .and_then(|kb| kb.trim().parse::<u64>().ok())
        })
        .map_or(FALLBACK_HOST_MEMORY, |kb| kb * 1024 / 4 * 3)
}

/// The host's memory budget: each running step holds its memory limit (at most the whole budget,
/// so one step larger than the machine still runs, alone); a step that does not fit waits until
/// running steps end. Waiters are woken together and the first to fit goes: a large step can wait
/// behind a stream of small ones, never forever, since each run's parallelism bounds the stream.
#[derive(Debug)]
pub struct MemoryBudget {
    total: u64,
    state: Mutex<BudgetState>,
    freed: Condvar,
}

#[derive(Debug, Default)]
struct BudgetState {
    used: u64,
    running: usize,
    /// The most held at once, for tests and reports.
    peak_running: usize,
}

/// A step's share of the [`MemoryBudget`]; dropping it gives the share back.
#[derive(Debug)]
pub struct Reservation<'a> {
    budget: &'a MemoryBudget,
    bytes: u64,
}

impl MemoryBudget {
    /// A budget of `total` bytes (at least 1).
    pub fn new(total: u64) -> Self {
        Self {
            total: total.max(1),
            state: Mutex::new(BudgetState::default()),
            freed: Condvar::new(),
        }
    }

    /// The budget, in bytes.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// The most steps that held a share at the same time so far.
    pub fn peak_running(&self) -> usize {
        self.lock().peak_running
    }

    /// Waits until `bytes` (capped at the budget) fit beside the shares already held, then holds
    /// them. `give_up` is asked every `poll` while waiting; when it answers true, `None`.
    pub fn reserve(
        &self,
        bytes: u64,
        poll: Duration,
        give_up: impl Fn() -> bool,
    ) -> Option<Reservation<'_>> {
        let bytes = bytes.min(self.total);
        let mut state = self.lock();
        while state.used + bytes > self.total {
            if give_up() {
                return None;
            }
            state = self
                .freed
                .wait_timeout(state, poll)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        state.used += bytes;
        state.running += 1;
        state.peak_running = state.peak_running.max(state.running);
        Some(Reservation {
            budget: self,
            bytes,
        })
    }

    fn lock(&self) -> MutexGuard<'_, BudgetState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Drop for Reservation<'_> {
    fn drop(&mut self) {
        let mut state = self.budget.lock();
        state.used -= self.bytes;
        state.running -= 1;
        drop(state);
        self.budget.freed.notify_all();
    }
}

/// Bytes in the files under `dir` (not following symlinks); what cannot be read counts as 0.
/// Also counts each entry as 512 bytes, so that a step making millions of empty files is caught.
pub fn dir_size(dir: &Path) -> u64 {
    let mut total = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let Ok(meta) = entry.metadata() else { continue };
            total += ENTRY_BYTES;
            if meta.is_dir() {
                stack.push(entry.path());
            } else {
                total += meta.len();
            }
        }
    }
    total
}

/// What each directory entry counts for in [`dir_size`].
pub const ENTRY_BYTES: u64 = 512;

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[test]
    fn limits_come_from_the_environment() {
        let vars = |name: &str| match name {
            "SKIFF_DEFAULT_MEMORY" => Some("256Mi".to_string()),
            "SKIFF_MAX_OUTPUT_BYTES" => Some("1000".to_string()),
            "SKIFF_HOST_MEMORY" => Some("4Gi".to_string()),
            _ => None,
        };
        let limits = StepLimits::from_vars(vars).unwrap();
        assert_eq!(limits.default_memory, 256 << 20);
        assert_eq!(limits.max_output_bytes, 1000);
        assert_eq!(limits.host_memory, 4 << 30);
        assert_eq!(limits.max_log_bytes, DEFAULT_MAX_LOG_BYTES);
        assert_eq!(limits.max_sandbox_bytes, DEFAULT_MAX_SANDBOX_BYTES);

        let err =
            StepLimits::from_vars(|n| (n == "SKIFF_MAX_SANDBOX_BYTES").then(|| "lots".to_string()))
                .unwrap_err();
        assert_eq!(
            err.to_string(),
            "SKIFF_MAX_SANDBOX_BYTES=lots is not a size: write bytes or a quantity such as 512Mi or 2Gi"
        );
    }

    #[test]
    fn steps_past_the_budget_wait_and_all_run() {
        let budget = Arc::new(MemoryBudget::new(4 << 20));
        let done = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..16)
            .map(|_| {
                let (budget, done) = (Arc::clone(&budget), Arc::clone(&done));
                std::thread::spawn(move || {
                    let held = budget
                        .reserve(1 << 20, Duration::from_millis(5), || false)
                        .unwrap();
                    std::thread::sleep(Duration::from_millis(10));
                    drop(held);
                    done.fetch_add(1, Ordering::Relaxed);
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(done.load(Ordering::Relaxed), 16);
        assert!(budget.peak_running() <= 4, "{}", budget.peak_running());
    }

    #[test]
    fn a_step_larger_than_the_budget_runs_alone_and_a_waiter_can_give_up() {
        let budget = MemoryBudget::new(1 << 20);
        let big = budget.reserve(8 << 20, Duration::from_millis(1), || false);
        assert!(big.is_some());
        assert!(
            budget
                .reserve(1, Duration::from_millis(1), || true)
                .is_none()
        );
        drop(big);
        assert!(
            budget
                .reserve(1, Duration::from_millis(1), || true)
                .is_some()
        );
    }

    #[test]
    fn sandbox_size_counts_bytes_and_entries() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("tmp")).unwrap();
        std::fs::write(dir.path().join("tmp/a"), vec![0; 1000]).unwrap();
        assert_eq!(dir_size(dir.path()), 1000 + 2 * ENTRY_BYTES);
    }
}
