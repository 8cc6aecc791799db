//! Stopping a running step from outside it: the [`StopSignal`] a caller keeps and sets, and the
//! error value a step it stopped ends with.
//!
//! A signal is a flag with a reason, shared by every clone: the engine hands a clone to each step
//! (one per run, so that `skiff stop`, Ctrl-C or the workflow's deadline stops them all) and calls
//! [`StopSignal::stop`] from any thread. A [`child`](StopSignal::child) of a signal is stopped when
//! its parent is (with the parent's reason), and can also be stopped alone: the local executor runs
//! each step with a child of the run's signal, so that its disk-cap watcher stops that step only.
//! Stopping a parent sets its live children at once, so a child is read exactly as any signal is
//! (one atomic load) and its sleepers wake; nothing polls the parent. The sandbox looks at it on every epoch tick while the
//! guest runs wasm code, and waits on it while the guest sleeps, so a step ends within about one
//! tick of the call. How it ends (exit code 137, `step stopped: <reason>`) is in the `wasm`
//! module's docs.
//!
//! This module does not decide *when* to stop, and it does not stop anything by itself: the
//! runtime and the interruptible sleep read the signal.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, Weak};
use std::time::Instant;

/// A request to stop one or more steps, settable once from any thread. Cheap to clone; clones
/// share the flag. The first reason given wins. A [`child`](Self::child) has a flag of its own,
/// which stopping the parent also sets.
#[derive(Clone, Default)]
pub struct StopSignal(Arc<Shared>);

#[derive(Default)]
struct Shared {
    /// Read on every epoch tick of every step holding the signal: an atomic, so that the check
    /// takes no lock.
    stopped: AtomicBool,
    /// Why; set once, under the lock the sleepers wait with.
    reason: Mutex<Option<String>>,
    /// Wakes the steps sleeping in `poll_oneoff`.
    wake: Condvar,
    /// The children made by [`StopSignal::child`] until this signal is stopped; dead ones are
    /// pruned when the vector is full, so it holds at most about twice the live ones.
    children: Mutex<Vec<Weak<Shared>>>,
}

impl StopSignal {
    /// A signal that is not set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the signal: every step holding it (or a clone) stops within about one epoch tick, and
    /// a step started with it later does not start. `reason` is what the step's error says after
    /// `step stopped: `, e.g. `the workflow was stopped` or `interrupted (Ctrl-C)`. Calling it
    /// again changes nothing: the first reason stays.
    ///
    /// Every live [`child`](Self::child) is stopped too, with the same reason (unless it was
    /// stopped before).
    pub fn stop(&self, reason: impl Into<String>) {
        let mut slot = self.lock();
        if slot.is_some() {
            return;
        }
        let reason = reason.into();
        *slot = Some(reason.clone());
        self.0.stopped.store(true, Ordering::Release);
        drop(slot);
        self.0.wake.notify_all();
        // The flag is set before the list is taken: a child made after this sees the flag (see
        // `child`), one made before is in the list.
        let children = std::mem::take(&mut *self.children());
        for child in children.iter().filter_map(Weak::upgrade) {
            StopSignal(child).stop(reason.clone());
        }
    }

    /// A new signal that is stopped when this one is (at once, with this one's reason, and
    /// already stopped if this one is), and that can be stopped alone without stopping this one.
    /// Costs an allocation and a short lock of this signal; a dropped child leaves nothing behind
    /// but a dead entry pruned later.
    pub fn child(&self) -> StopSignal {
        let child = StopSignal::new();
        {
            let mut children = self.children();
            // Checked under the list's lock: `stop` sets the flag before it takes the list, so
            // either the list taken holds this child or the flag is seen here.
            if !self.is_stopped() {
                if children.len() == children.capacity() {
                    children.retain(|c| c.strong_count() > 0);
                }
                children.push(Arc::downgrade(&child.0));
            }
        }
        if let Some(reason) = self.reason() {
            child.stop(reason);
        }
        child
    }

    /// Whether [`stop`](Self::stop) was called.
    pub fn is_stopped(&self) -> bool {
        self.0.stopped.load(Ordering::Acquire)
    }

    /// The reason given to [`stop`](Self::stop), once it was called.
    pub fn reason(&self) -> Option<String> {
        if !self.is_stopped() {
            return None;
        }
        self.lock().clone()
    }

    /// Blocks until the signal is set or `until` passes (`None`: until the signal is set), and
    /// returns the reason if it was set.
    pub(crate) fn wait_until(&self, until: Option<Instant>) -> Option<String> {
        let mut slot = self.lock();
        loop {
            if slot.is_some() {
                return slot.clone();
            }
            slot = match until {
                None => self
                    .0
                    .wake
                    .wait(slot)
                    .unwrap_or_else(|poisoned| poisoned.into_inner()),
                Some(until) => {
                    let left = until.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return None;
                    }
                    self.0
                        .wake
                        .wait_timeout(slot, left)
                        .unwrap_or_else(|poisoned| poisoned.into_inner())
                        .0
                }
            };
        }
    }

    fn children(&self) -> MutexGuard<'_, Vec<Weak<Shared>>> {
        // Pushing or taking a `Weak` cannot be left half-done by a panic.
        self.0
            .children
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn lock(&self) -> MutexGuard<'_, Option<String>> {
        // The lock only guards replacing `None` with a string: a panicking holder cannot have
        // left it half-written.
        self.0
            .reason
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl fmt::Debug for StopSignal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StopSignal")
            .field("reason", &self.reason())
            .finish()
    }
}

/// The error a step's trap carries when its [`StopSignal`] stopped it; the reason is the one given
/// to [`StopSignal::stop`].
#[derive(Debug, Clone, thiserror::Error)]
#[error("step stopped: {0}")]
pub(crate) struct StepStopped(pub(crate) String);

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn clones_share_the_flag_and_the_first_reason_wins() {
        let signal = StopSignal::new();
        let clone = signal.clone();
        assert!(!clone.is_stopped());
        assert_eq!(clone.reason(), None);
        signal.stop("first");
        signal.stop("second");
        assert!(clone.is_stopped());
        assert_eq!(clone.reason().as_deref(), Some("first"));
        assert_eq!(
            StepStopped(clone.reason().unwrap()).to_string(),
            "step stopped: first"
        );
    }

    #[test]
    fn a_waiter_wakes_when_stopped_and_times_out_otherwise() {
        let signal = StopSignal::new();
        let started = Instant::now();
        assert_eq!(
            signal.wait_until(Some(started + Duration::from_millis(30))),
            None
        );
        assert!(started.elapsed() >= Duration::from_millis(30));

        let waiter = {
            let signal = signal.clone();
            std::thread::spawn(move || {
                let started = Instant::now();
                let reason = signal.wait_until(Some(started + Duration::from_secs(30)));
                (reason, started.elapsed())
            })
        };
        std::thread::sleep(Duration::from_millis(50));
        signal.stop("now");
        let (reason, waited) = waiter.join().unwrap();
        assert_eq!(reason.as_deref(), Some("now"));
        assert!(waited < Duration::from_secs(5), "{waited:?}");
        assert_eq!(signal.wait_until(None).as_deref(), Some("now"));
    }

    #[test]
    fn a_child_stops_with_its_parent_and_alone() {
        let parent = StopSignal::new();
        let alone = parent.child();
        let with_parent = parent.child();
        let grandchild = with_parent.child();
        drop(parent.child());

        alone.stop("over the disk cap");
        assert!(!parent.is_stopped(), "a child does not stop its parent");
        assert!(!with_parent.is_stopped());

        let sleeper = {
            let grandchild = grandchild.clone();
            std::thread::spawn(move || grandchild.wait_until(None))
        };
        std::thread::sleep(Duration::from_millis(20));
        parent.stop("the workflow was stopped");
        assert_eq!(
            sleeper.join().unwrap().as_deref(),
            Some("the workflow was stopped"),
            "a sleeper on a grandchild wakes"
        );
        assert_eq!(
            with_parent.reason().as_deref(),
            Some("the workflow was stopped")
        );
        assert_eq!(alone.reason().as_deref(), Some("over the disk cap"));
        assert_eq!(
            parent.child().reason().as_deref(),
            Some("the workflow was stopped"),
            "a child of a stopped signal starts stopped"
        );
    }

    #[test]
    fn dead_children_are_pruned() {
        let parent = StopSignal::new();
        let live: Vec<_> = (0..3).map(|_| parent.child()).collect();
        for _ in 0..1000 {
            drop(parent.child());
        }
        assert!(parent.children().len() <= 2 * live.len() + 2);
    }
}
