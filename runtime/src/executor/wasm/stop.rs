//! Stopping a running step from outside it: the [`StopSignal`] a caller keeps and sets, and the
//! error value a step it stopped ends with.
//!
//! A signal is a flag with a reason, shared by every clone: the engine hands a clone to each step
//! (one per run, so that `skiff stop`, Ctrl-C or the workflow's deadline stops them all) and calls
//! [`StopSignal::stop`] from any thread. The sandbox looks at it on every epoch tick while the
//! guest runs wasm code, and waits on it while the guest sleeps, so a step ends within about one
//! tick of the call. How it ends (exit code 137, `step stopped: <reason>`) is in the `wasm`
//! module's docs.
//!
//! This module does not decide *when* to stop, and it does not stop anything by itself: the
//! runtime and the interruptible sleep read the signal.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Instant;

/// A request to stop one or more steps, settable once from any thread. Cheap to clone; clones
/// share the flag. The first reason given wins.
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
    pub fn stop(&self, reason: impl Into<String>) {
        let mut slot = self.lock();
        if slot.is_none() {
            *slot = Some(reason.into());
            self.0.stopped.store(true, Ordering::Release);
        }
        drop(slot);
        self.0.wake.notify_all();
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
}
