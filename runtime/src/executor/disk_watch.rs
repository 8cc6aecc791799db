//! The disk-cap watcher: one thread per [`LocalExecutor`](super::LocalExecutor) that measures the
//! sandbox directory of every running step each [`StepLimits::sandbox_check_interval`] and stops a
//! step whose directory holds more than the disk cap (`SKIFF_MAX_SANDBOX_BYTES`).
//!
//! A step is registered when it starts ([`DiskWatch::watch`]: its root, its cap, its stop signal)
//! and removed when the returned [`Watched`] is dropped; each is one slab insert or remove under a
//! mutex, so a step that ends before the next tick costs about that and no more. The thread is
//! started by the first registration, sleeps without ticking while nothing is registered (the
//! next registration wakes it), and ends when its [`DiskWatch`] is dropped. A step is first
//! measured at the next tick: at most one interval after it registers (exactly one when no other
//! step was running), as when each step had a watcher of its own.
//!
//! This module does not decide what a stopped step's outcome says: it stops the step's
//! [`StopSignal`] with [`disk_cap_reason`], and the sandbox ends the step as it ends any stopped
//! step. Nor does it measure a step once it has ended; the executor does that.
//!
//! [`StepLimits::sandbox_check_interval`]: super::limits::StepLimits::sandbox_check_interval

use std::path::Path;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::executor::limits::dir_size;
use crate::executor::wasm::StopSignal;

/// The shortest interval between two measurements, whatever the limits say: the thread must not
/// spin.
const MIN_INTERVAL: Duration = Duration::from_millis(10);

/// What a step over the disk cap is stopped with: `used` bytes in its sandbox, over `cap`.
pub(crate) fn disk_cap_reason(used: u64, cap: u64) -> String {
    format!("its sandbox holds {used} bytes, over the disk cap of {cap} (SKIFF_MAX_SANDBOX_BYTES)")
}

/// The registry of running sandboxes and the thread that measures them.
#[derive(Debug)]
pub(crate) struct DiskWatch {
    shared: Arc<Shared>,
    interval: Duration,
}

#[derive(Debug, Default)]
struct Shared {
    state: Mutex<State>,
    /// Wakes the thread from its idle wait (a registration) or for good (the watch is dropped).
    wake: Condvar,
}

#[derive(Debug, Default)]
struct State {
    /// The registered sandboxes; a [`Watched`] holds its index.
    slots: Vec<Option<Entry>>,
    /// Indices of empty slots, reused first.
    free: Vec<usize>,
    /// Slots that are not empty.
    live: usize,
    /// Whether the thread was started.
    started: bool,
    /// Whether the thread waits for a registration (and so needs waking).
    idle: bool,
    /// Whether the [`DiskWatch`] was dropped: the thread ends.
    closed: bool,
}

#[derive(Debug, Clone)]
struct Entry {
    root: Arc<Path>,
    cap: u64,
    /// The step's own signal: stopping it stops that step only.
    stop: StopSignal,
}

/// A sandbox registered with a [`DiskWatch`]; dropping it unregisters the sandbox.
#[derive(Debug)]
pub(crate) struct Watched<'a> {
    watch: &'a DiskWatch,
    slot: usize,
}

impl DiskWatch {
    /// A watch that measures each [`interval`](Self::interval) (at least 10 ms); its thread
    /// starts with the first [`watch`](Self::watch).
    pub(crate) fn new(interval: Duration) -> Self {
        Self {
            shared: Arc::default(),
            interval: interval.max(MIN_INTERVAL),
        }
    }

    /// Measures `root` every interval until the returned guard is dropped, and stops `stop` with
    /// [`disk_cap_reason`] once `root` holds more than `cap` bytes. `stop` should be the step's
    /// own signal (a [`StopSignal::child`] of the run's), so that no other step is stopped.
    pub(crate) fn watch(&self, root: &Path, cap: u64, stop: &StopSignal) -> Watched<'_> {
        let entry = Entry {
            root: Arc::from(root),
            cap,
            stop: stop.clone(),
        };
        let mut state = self.shared.lock();
        let slot = match state.free.pop() {
            Some(slot) => {
                state.slots[slot] = Some(entry);
                slot
            }
            None => {
                state.slots.push(Some(entry));
                state.slots.len() - 1
            }
        };
        state.live += 1;
        let start = !state.started;
        state.started = true;
        if state.idle {
            state.idle = false;
            self.shared.wake.notify_one();
        }
        drop(state);
        if start {
            self.start();
        }
        Watched { watch: self, slot }
    }

    /// Starts the thread. When the system cannot start one, the next registration tries again;
    /// meanwhile steps are still measured once they end.
    fn start(&self) {
        let shared = Arc::clone(&self.shared);
        let interval = self.interval;
        let started = std::thread::Builder::new()
            .name("skiff-disk-watch".into())
            .spawn(move || measure_until_closed(&shared, interval));
        if started.is_err() {
            self.shared.lock().started = false;
        }
    }

    /// How many sandboxes are registered.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.shared.lock().live
    }
}

impl Drop for DiskWatch {
    fn drop(&mut self) {
        self.shared.lock().closed = true;
        self.shared.wake.notify_all();
    }
}

impl Drop for Watched<'_> {
    fn drop(&mut self) {
        let mut state = self.watch.shared.lock();
        state.slots[self.slot] = None;
        state.free.push(self.slot);
        state.live -= 1;
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // Every change to the state is a few assignments that a panic cannot leave half-done.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The thread: each interval, measures every registered sandbox, outside the lock (a large
/// directory takes a while to walk, and registrations must not wait for it).
fn measure_until_closed(shared: &Shared, interval: Duration) {
    let mut batch = Vec::new();
    let mut state = shared.lock();
    loop {
        if state.closed {
            return;
        }
        if state.live == 0 {
            state.idle = true;
            state = shared.wake.wait(state).unwrap_or_else(|p| p.into_inner());
            continue;
        }
        let due = Instant::now() + interval;
        loop {
            let left = due.saturating_duration_since(Instant::now());
            if state.closed || left.is_zero() {
                break;
            }
            state = shared
                .wake
                .wait_timeout(state, left)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        if state.closed {
            return;
        }
        batch.extend(state.slots.iter().flatten().cloned());
        drop(state);
        // A step that ended since the copy was taken is measured once more (its directory is gone
        // or going: a size no larger than what it held) and stopping its signal changes nothing.
        for entry in batch.drain(..) {
            if entry.stop.is_stopped() {
                continue;
            }
            let used = dir_size(&entry.root);
            if used > entry.cap {
                entry.stop.stop(disk_cap_reason(used, entry.cap));
            }
        }
        state = shared.lock();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Waits up to 10 s for `done`.
    fn eventually(done: impl Fn() -> bool) -> bool {
        let started = Instant::now();
        while !done() {
            if started.elapsed() > Duration::from_secs(10) {
                return false;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        true
    }

    #[test]
    fn only_the_sandbox_over_its_cap_is_stopped_and_a_dropped_one_is_no_longer_measured() {
        let (big, small) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        std::fs::write(big.path().join("data"), vec![0; 4096]).unwrap();
        std::fs::write(small.path().join("data"), vec![0; 10]).unwrap();
        let watch = DiskWatch::new(Duration::from_millis(10));
        let (big_stop, small_stop) = (StopSignal::new(), StopSignal::new());
        let big_watched = watch.watch(big.path(), 1000, &big_stop);
        let small_watched = watch.watch(small.path(), 1000, &small_stop);
        assert_eq!(watch.len(), 2);

        assert!(eventually(|| big_stop.is_stopped()), "never stopped");
        assert_eq!(
            big_stop.reason().as_deref(),
            Some(
                "its sandbox holds 4608 bytes, over the disk cap of 1000 (SKIFF_MAX_SANDBOX_BYTES)"
            )
        );
        // A few more ticks: the small one is measured and left alone.
        std::thread::sleep(Duration::from_millis(50));
        assert!(!small_stop.is_stopped());

        drop(small_watched);
        assert_eq!(watch.len(), 1);
        std::fs::write(small.path().join("data"), vec![0; 4096]).unwrap();
        std::thread::sleep(Duration::from_millis(50));
        assert!(
            !small_stop.is_stopped(),
            "an unregistered sandbox is not measured"
        );

        // Its slot is reused, and the thread still measures.
        let again = StopSignal::new();
        let again_watched = watch.watch(small.path(), 1000, &again);
        assert!(eventually(|| again.is_stopped()), "never stopped");
        drop((big_watched, again_watched));
        assert_eq!(watch.len(), 0);
    }

    #[test]
    fn a_step_that_ends_before_a_tick_is_never_measured() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("data"), vec![0; 4096]).unwrap();
        let watch = DiskWatch::new(Duration::from_secs(3600));
        let stop = StopSignal::new();
        drop(watch.watch(dir.path(), 1000, &stop));
        assert_eq!(watch.len(), 0);
        std::thread::sleep(Duration::from_millis(20));
        assert!(!stop.is_stopped());
    }
}
