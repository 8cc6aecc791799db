//! A `poll_oneoff` that a deadline or a stop signal can interrupt.
//!
//! Epoch interruption stops a guest only while it runs wasm code; a guest blocked in a host call
//! is not stopped until the call returns. The one host call that blocks for long in a skiff
//! sandbox is `poll_oneoff` on clocks (`sleep 60`, `std::thread::sleep`): files and the in-memory
//! stdio are always ready. So for a step with a deadline or a [`StopSignal`], skiff shadows
//! `poll_oneoff` with this version, which handles "every subscription is a realtime or monotonic
//! relative timer (or a realtime absolute one)" itself, sleeping no later than the deadline and
//! waking as soon as the signal is set (it waits on the signal's condition variable rather than
//! sleeping), and hands every other call to wasmtime-wasi's implementation unchanged. Steps with
//! neither keep wasmtime-wasi's `poll_oneoff` untouched.
//!
//! Handing a call on is less simple than calling the original function: wasmtime-wasi finds the
//! guest's memory through its caller's `memory` export, and a function called from the host has
//! no caller instance. So the call goes through a trampoline: a tiny module ([`TRAMPOLINE_WAT`])
//! that imports the guest's memory and re-exports it, imports wasmtime-wasi's `poll_oneoff`, and
//! exports a function that calls it. It is instantiated at most once per step, on the first call
//! that needs it.
//!
//! Layouts are WASI preview 1's (`wasi_snapshot_preview1.witx`): a subscription is 48 bytes
//! (`userdata: u64` at 0, tag `u8` at 8, then for clocks `id: u32` at 16, `timeout: u64` at 24,
//! `precision: u64` at 32, `flags: u16` at 40), an event is 32 bytes (`userdata: u64` at 0,
//! `error: u16` at 8, `type: u8` at 10, `fd_readwrite` at 16).

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use wasmtime::{Caller, Extern, Instance, Linker, Module, TypedFunc};

use super::limits::{Deadline, DeadlineExceeded};
use super::{StepState, StepStopped, StopSignal};

const WASI_MODULE: &str = "wasi_snapshot_preview1";
const SUBSCRIPTION_SIZE: usize = 48;
const EVENT_SIZE: usize = 32;
/// More subscriptions than this is not a sleep; let wasmtime-wasi deal with it.
const MAX_SLEEP_SUBSCRIPTIONS: usize = 64;
const CLOCK_REALTIME: u32 = 0;
const CLOCK_MONOTONIC: u32 = 1;
const SUBSCRIPTION_CLOCK_ABSTIME: u16 = 1;
const ERRNO_SUCCESS: i32 = 0;
const ERRNO_FAULT: i32 = 21;

/// The module that lets the host call wasmtime-wasi's `poll_oneoff` on behalf of a guest.
pub(crate) const TRAMPOLINE_WAT: &str = r#"
(module
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
  (import "guest" "memory" (memory 0))
  (export "memory" (memory 0))
  (func (export "poll_oneoff") (param i32 i32 i32 i32) (result i32)
    (call $poll (local.get 0) (local.get 1) (local.get 2) (local.get 3))))
"#;

/// `poll_oneoff`'s signature: subscriptions, events, count, where to write the events count.
pub(crate) type PollOneoff = TypedFunc<(i32, i32, i32, i32), i32>;

/// Adds the interruptible `poll_oneoff` to `linker`, on top of wasmtime-wasi's, which stays
/// reachable through `wasi_only` (a linker holding just WASI) and `trampoline` (compiled from
/// [`TRAMPOLINE_WAT`] by the same engine).
pub(crate) fn add_to_linker(
    linker: &mut Linker<StepState>,
    wasi_only: Arc<Linker<StepState>>,
    trampoline: Module,
) -> wasmtime::Result<()> {
    linker.allow_shadowing(true);
    linker.func_wrap(
        WASI_MODULE,
        "poll_oneoff",
        move |mut caller: Caller<'_, StepState>,
              subs: i32,
              events: i32,
              nsubs: i32,
              nevents: i32|
              -> wasmtime::Result<i32> {
            let state = caller.data();
            if state.deadline.is_some() || state.stop.is_some() {
                let (deadline, stop) = (state.deadline, state.stop.clone());
                if let Some(errno) = interruptible_sleep(
                    &mut caller,
                    deadline,
                    stop.as_ref(),
                    subs,
                    events,
                    nsubs,
                    nevents,
                )? {
                    return Ok(errno);
                }
            }
            let original = match caller.data().poll_oneoff.clone() {
                Some(original) => original,
                None => {
                    let original = instantiate_trampoline(&mut caller, &wasi_only, &trampoline)?;
                    caller.data_mut().poll_oneoff = Some(original.clone());
                    original
                }
            };
            original.call(&mut caller, (subs, events, nsubs, nevents))
        },
    )?;
    linker.allow_shadowing(false);
    Ok(())
}

fn instantiate_trampoline(
    caller: &mut Caller<'_, StepState>,
    wasi_only: &Linker<StepState>,
    trampoline: &Module,
) -> wasmtime::Result<PollOneoff> {
    let memory = caller
        .get_export("memory")
        .ok_or_else(|| wasmtime::format_err!("the module exports no memory for poll_oneoff"))?;
    let poll = wasi_only.get(&mut *caller, WASI_MODULE, "poll_oneoff")?;
    let instance = Instance::new(&mut *caller, trampoline, &[poll, memory])?;
    instance.get_typed_func(&mut *caller, "poll_oneoff")
}

/// One clock subscription, read from guest memory.
struct Timer {
    userdata: u64,
    /// When it fires; `None` when that is too far away to represent (never, in practice).
    fires: Option<Instant>,
}

/// Handles a clock-only `poll_oneoff`; `Ok(None)` means "not a plain sleep, use wasmtime-wasi's".
/// Traps when the deadline passes or the signal is set before a timer fires.
fn interruptible_sleep(
    caller: &mut Caller<'_, StepState>,
    deadline: Option<Deadline>,
    stop: Option<&StopSignal>,
    subs: i32,
    events: i32,
    nsubs: i32,
    nevents: i32,
) -> wasmtime::Result<Option<i32>> {
    let Some(Extern::Memory(memory)) = caller.get_export("memory") else {
        return Ok(None);
    };
    let (Ok(subs), Ok(events), Ok(nsubs), Ok(nevents)) = (
        usize::try_from(subs.cast_unsigned()),
        usize::try_from(events.cast_unsigned()),
        usize::try_from(nsubs.cast_unsigned()),
        usize::try_from(nevents.cast_unsigned()),
    ) else {
        return Ok(None);
    };
    if nsubs == 0 || nsubs > MAX_SLEEP_SUBSCRIPTIONS {
        return Ok(None);
    }
    let mut raw = vec![0u8; nsubs * SUBSCRIPTION_SIZE];
    if memory.read(&*caller, subs, &mut raw).is_err() {
        return Ok(None);
    }
    let Some(timers) = read_timers(&raw) else {
        return Ok(None);
    };

    let first = timers.iter().filter_map(|t| t.fires).min();
    // Whichever comes first: a timer, or the deadline (`None`: neither, ever).
    let (wake, at_deadline) = match (first, deadline) {
        (Some(first), Some(deadline)) if first <= deadline.at => (Some(first), false),
        (_, Some(deadline)) => (Some(deadline.at), true),
        (first, None) => (first, false),
    };
    match stop {
        Some(stop) => {
            if let Some(reason) = stop.wait_until(wake) {
                caller.data_mut().stopped = Some(reason.clone());
                return Err(StepStopped(reason).into());
            }
        }
        // Only reached with a deadline, so there is always a time to wake at.
        None => std::thread::sleep(wake.map_or(Duration::ZERO, |wake| {
            wake.saturating_duration_since(Instant::now())
        })),
    }
    if at_deadline && let Some(deadline) = deadline {
        caller.data_mut().deadline_hit = true;
        return Err(DeadlineExceeded(deadline.limit).into());
    }

    let now = Instant::now();
    let mut out = Vec::with_capacity(timers.len() * EVENT_SIZE);
    let mut fired = 0u32;
    for timer in timers.iter().filter(|t| t.fires.is_some_and(|f| f <= now)) {
        let mut event = [0u8; EVENT_SIZE];
        event[..8].copy_from_slice(&timer.userdata.to_le_bytes());
        // error (u16 at 8) = success, type (u8 at 10) = clock: both zero.
        out.extend_from_slice(&event);
        fired += 1;
    }
    if memory.write(&mut *caller, events, &out).is_err()
        || memory
            .write(&mut *caller, nevents, &fired.to_le_bytes())
            .is_err()
    {
        return Ok(Some(ERRNO_FAULT));
    }
    Ok(Some(ERRNO_SUCCESS))
}

/// Reads the subscriptions if every one is a timer on the realtime or monotonic clock (relative,
/// or absolute on the realtime clock, whose epoch the host knows).
fn read_timers(raw: &[u8]) -> Option<Vec<Timer>> {
    let now = Instant::now();
    let wall_now = SystemTime::now();
    raw.chunks_exact(SUBSCRIPTION_SIZE)
        .map(|sub| {
            let userdata = u64::from_le_bytes(sub[0..8].try_into().ok()?);
            let tag = sub[8];
            if tag != 0 {
                return None;
            }
            let id = u32::from_le_bytes(sub[16..20].try_into().ok()?);
            let timeout = u64::from_le_bytes(sub[24..32].try_into().ok()?);
            let flags = u16::from_le_bytes(sub[40..42].try_into().ok()?);
            let absolute = flags & SUBSCRIPTION_CLOCK_ABSTIME != 0;
            let wait = match (id, absolute) {
                (CLOCK_REALTIME | CLOCK_MONOTONIC, false) => Duration::from_nanos(timeout),
                (CLOCK_REALTIME, true) => (UNIX_EPOCH + Duration::from_nanos(timeout))
                    .duration_since(wall_now)
                    .unwrap_or(Duration::ZERO),
                _ => return None,
            };
            Some(Timer {
                userdata,
                fires: now.checked_add(wait),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subscription(userdata: u64, tag: u8, id: u32, timeout: u64, flags: u16) -> Vec<u8> {
        let mut sub = vec![0u8; SUBSCRIPTION_SIZE];
        sub[0..8].copy_from_slice(&userdata.to_le_bytes());
        sub[8] = tag;
        sub[16..20].copy_from_slice(&id.to_le_bytes());
        sub[24..32].copy_from_slice(&timeout.to_le_bytes());
        sub[40..42].copy_from_slice(&flags.to_le_bytes());
        sub
    }

    #[test]
    fn relative_timers_on_both_clocks_are_sleeps() {
        let mut raw = subscription(7, 0, CLOCK_MONOTONIC, 5_000_000, 0);
        raw.extend(subscription(8, 0, CLOCK_REALTIME, 1_000_000, 0));
        let timers = read_timers(&raw).unwrap();
        assert_eq!(timers.len(), 2);
        assert_eq!(timers[0].userdata, 7);
        assert!(timers[1].fires.unwrap() < timers[0].fires.unwrap());
    }

    #[test]
    fn anything_but_plain_timers_goes_to_wasmtime_wasi() {
        let mut raw = subscription(1, 0, CLOCK_MONOTONIC, 10, 0);
        raw.extend(subscription(2, 1, 0, 0, 0)); // fd_read on stdin
        assert!(read_timers(&raw).is_none());
        let monotonic_absolute =
            subscription(1, 0, CLOCK_MONOTONIC, 10, SUBSCRIPTION_CLOCK_ABSTIME);
        assert!(read_timers(&monotonic_absolute).is_none());
        let cputime = subscription(1, 0, 2, 10, 0);
        assert!(read_timers(&cputime).is_none());
    }

    #[test]
    fn a_realtime_deadline_in_the_past_fires_now() {
        let raw = subscription(1, 0, CLOCK_REALTIME, 1, SUBSCRIPTION_CLOCK_ABSTIME);
        let timers = read_timers(&raw).unwrap();
        assert!(timers[0].fires.unwrap() <= Instant::now());
    }
}
