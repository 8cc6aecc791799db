//! Per-step limits: the memory cap (a [`ResourceLimiter`] around wasmtime's [`StoreLimits`]) and
//! the wall-clock deadline, plus the error values that say which one a step ran into.
//!
//! Going over the memory limit kills the step, the way the kernel's OOM killer ends a container
//! that exceeds `resources.limits.memory`: the failing `memory.grow` traps instead of returning
//! -1, so the outcome can say exactly what happened rather than leave the guest to abort with a
//! confusing allocation message.

use std::time::{Duration, Instant};

use wasmtime::{ResourceLimiter, StoreLimits, StoreLimitsBuilder};

/// The error a step's trap carries when it outgrew its memory limit.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("step exceeded its memory limit of {} (it asked for {})", human_bytes(*limit), human_bytes(*wanted))]
pub(crate) struct MemoryLimitExceeded {
    pub(crate) limit: u64,
    pub(crate) wanted: u64,
}

/// The error a step's trap carries when its deadline passed.
#[derive(Debug, thiserror::Error)]
#[error("step exceeded its deadline of {}", human_duration(*.0))]
pub(crate) struct DeadlineExceeded(pub(crate) Duration);

/// A step's wall-clock deadline.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Deadline {
    pub(crate) at: Instant,
    pub(crate) limit: Duration,
}

impl Deadline {
    pub(crate) fn after(limit: Duration) -> Self {
        Deadline {
            at: Instant::now() + limit,
            limit,
        }
    }
}

/// The store's resource limiter: wasmtime's [`StoreLimits`] for everything but memory growth,
/// which it checks itself so that it can remember the step was stopped by it.
pub(crate) struct StepLimiter {
    inner: StoreLimits,
    memory_limit: u64,
    /// Set when the step tried to grow past `memory_limit`.
    pub(crate) exceeded: Option<MemoryLimitExceeded>,
}

impl StepLimiter {
    pub(crate) fn new(memory_limit: u64) -> Self {
        StepLimiter {
            inner: StoreLimitsBuilder::new().build(),
            memory_limit,
            exceeded: None,
        }
    }
}

impl ResourceLimiter for StepLimiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let wanted = u64::try_from(desired).unwrap_or(u64::MAX);
        if wanted > self.memory_limit {
            let err = MemoryLimitExceeded {
                limit: self.memory_limit,
                wanted,
            };
            self.exceeded = Some(err);
            return Err(err.into());
        }
        self.inner.memory_growing(current, desired, maximum)
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        self.inner.table_growing(current, desired, maximum)
    }

    fn instances(&self) -> usize {
        self.inner.instances()
    }

    fn tables(&self) -> usize {
        self.inner.tables()
    }

    fn memories(&self) -> usize {
        self.inner.memories()
    }
}

/// `1.5 GiB`, `64 MiB`, `512 KiB`, `100 bytes`.
pub(crate) fn human_bytes(n: u64) -> String {
    const UNITS: [(&str, u64); 3] = [("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)];
    for (unit, size) in UNITS {
        if n >= size {
            return if n.is_multiple_of(size) {
                format!("{} {unit}", n / size)
            } else {
                // Display only: what the cast loses is far below the one decimal shown.
                let value = n as f64 / size as f64;
                format!("{value:.1} {unit}")
            };
        }
    }
    format!("{n} bytes")
}

/// `2s`, `1.5s`, `250ms`, `3m`, `1h30m`: how Argo users write durations.
pub(crate) fn human_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 {
        return format!("{ms}ms");
    }
    let secs = d.as_secs();
    if d.subsec_millis() != 0 {
        let millis = format!("{:03}", d.subsec_millis());
        return format!("{secs}.{}s", millis.trim_end_matches('0'));
    }
    match (secs / 3600, secs / 60 % 60, secs % 60) {
        (0, 0, s) => format!("{s}s"),
        (0, m, 0) => format!("{m}m"),
        (0, m, s) => format!("{m}m{s}s"),
        (h, 0, 0) => format!("{h}h"),
        (h, m, 0) => format!("{h}h{m}m"),
        (h, m, s) => format!("{h}h{m}m{s}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_like_argo_durations() {
        let cases = [
            (Duration::from_millis(250), "250ms"),
            (Duration::from_secs(2), "2s"),
            (Duration::from_millis(1500), "1.5s"),
            (Duration::from_millis(2050), "2.05s"),
            (Duration::from_secs(180), "3m"),
            (Duration::from_secs(90), "1m30s"),
            (Duration::from_secs(5400), "1h30m"),
            (Duration::from_secs(3600), "1h"),
            (Duration::from_secs(3661), "1h1m1s"),
        ];
        for (d, want) in cases {
            assert_eq!(human_duration(d), want, "{d:?}");
        }
    }

    #[test]
    fn sizes_read_in_binary_units() {
        assert_eq!(human_bytes(100), "100 bytes");
        assert_eq!(human_bytes(64 << 20), "64 MiB");
        assert_eq!(human_bytes(3 << 29), "1.5 GiB");
        assert_eq!(human_bytes(65536 * 3), "192 KiB");
    }

    #[test]
    fn memory_growth_past_the_limit_is_refused_and_remembered() {
        let mut limiter = StepLimiter::new(1 << 20);
        assert!(limiter.memory_growing(0, 65536, None).unwrap());
        let err = limiter.memory_growing(65536, 2 << 20, None).unwrap_err();
        assert_eq!(
            err.to_string(),
            "step exceeded its memory limit of 1 MiB (it asked for 2 MiB)"
        );
        assert_eq!(limiter.exceeded.as_ref().map(|e| e.wanted), Some(2 << 20));
    }
}
