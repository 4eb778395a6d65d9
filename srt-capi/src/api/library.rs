//! Library start and stop (the process-wide `srt_mio::Context`), version
//! and clock: `srt_startup`, `srt_cleanup`, `srt_getversion`, `srt_time_now`, `srt_clock_type`.

use crate::error::{mio_error, SrtErrno, SrtError};
use crate::guard::{api_call, api_call_infallible};
use crate::types::SRT_ERROR;
use libc::c_int;
use srt_mio::Context;
use std::sync::{Arc, Mutex, MutexGuard, Once, PoisonError};

/// The startup counter and the library's global state.
struct Instances {
    /// `srt_startup` calls (and implicit startups) minus `srt_cleanup`
    /// calls (may go negative, as libsrt's).
    count: i32,
    /// The running context (libsrt: its GC thread runs); `None` when the
    /// library is stopped.
    context: Option<Arc<Context>>,
}

static INSTANCES: Mutex<Instances> = Mutex::new(Instances {
    count: 0,
    context: None,
});

fn instances() -> MutexGuard<'static, Instances> {
    INSTANCES.lock().unwrap_or_else(PoisonError::into_inner)
}

/// libsrt's `CUDTUnited::startup`: counts one instance up and starts the
/// context if none runs. 0 when this call started it, 1 when it ran.
fn startup(inst: &mut Instances) -> Result<c_int, SrtError> {
    inst.count += 1;
    if inst.count > 1 || inst.context.is_some() {
        return Ok(1);
    }
    let ctx = Context::new().map_err(mio_error)?;
    inst.context = Some(Arc::new(ctx));
    static AT_EXIT: Once = Once::new();
    // SAFETY: `stop_at_exit` is an `extern "C" fn()` that never unwinds.
    AT_EXIT.call_once(|| unsafe {
        libc::atexit(stop_at_exit);
    });
    Ok(0)
}

/// Stops a running library when the process exits, as libsrt's static
/// destructor does, so that no worker thread outlives `main`.
extern "C" fn stop_at_exit() {
    let stopped = api_call_infallible(None, || instances().context.take());
    if let Some(ctx) = stopped {
        api_call_infallible((), || stop(&ctx));
    }
}

/// Closes everything of a context taken out of [`INSTANCES`] and stops
/// its worker.
fn stop(ctx: &Context) {
    ctx.shutdown();
    crate::api::sockets::forget_all_reject_reasons();
}

/// The running context, started (as one `srt_startup` would) if the
/// library is stopped: libsrt starts itself on the first socket or epoll
/// container.
pub(crate) fn context_or_start() -> Result<Arc<Context>, SrtError> {
    let mut inst = instances();
    if inst.context.is_none() {
        startup(&mut inst)?;
    }
    inst.context
        .clone()
        .ok_or(SrtError::new(SrtErrno::EUNKNOWN))
}

/// The running context, if the library runs (no socket exists otherwise).
pub(crate) fn running_context() -> Option<Arc<Context>> {
    instances().context.clone()
}

/// `srt_startup`: 0 when this call started the library, 1 when it was
/// already started (the counter goes up either way).
#[no_mangle]
pub extern "C" fn srt_startup() -> c_int {
    api_call(SRT_ERROR, || startup(&mut instances()))
}

/// `srt_cleanup`: counts one startup down; at 0 it closes every socket and
/// epoll container and stops the worker. Always returns 0.
#[no_mangle]
pub extern "C" fn srt_cleanup() -> c_int {
    api_call_infallible(-1, || {
        let stopped = {
            let mut inst = instances();
            inst.count -= 1;
            if inst.count <= 0 {
                inst.context.take()
            } else {
                None
            }
        };
        // Outside the lock: shutting down waits for the worker.
        if let Some(ctx) = stopped {
            stop(&ctx);
        }
        0
    })
}

/// `srt_getversion`: the libsrt version implemented, 0x010501 (1.5.1).
#[no_mangle]
pub extern "C" fn srt_getversion() -> u32 {
    0x01_05_01
}

/// `srt_clock_type` value: the library clock is `CLOCK_MONOTONIC`
/// (`SRT_SYNC_CLOCK_GETTIME_MONOTONIC`), as Debian's libsrt.
const SRT_SYNC_CLOCK_GETTIME_MONOTONIC: c_int = 1;

/// `srt_clock_type`: which clock [`srt_time_now`] reads.
#[no_mangle]
pub extern "C" fn srt_clock_type() -> c_int {
    SRT_SYNC_CLOCK_GETTIME_MONOTONIC
}

/// `srt_time_now`: the library clock (`CLOCK_MONOTONIC`) in microseconds.
#[no_mangle]
pub extern "C" fn srt_time_now() -> i64 {
    api_call_infallible(0, monotonic_us)
}

/// `CLOCK_MONOTONIC` in microseconds: the clock of `std::time::Instant`
/// on Linux and of libsrt's `srt_time_now`.
pub(crate) fn monotonic_us() -> i64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; CLOCK_MONOTONIC always
    // exists on Linux, so the call cannot fail.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec * 1_000_000 + ts.tv_nsec / 1000
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_is_monotonic_microseconds() {
        let a = srt_time_now();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let b = srt_time_now();
        assert!(b - a >= 2000, "{a} {b}");
        assert!(b - a < 1_000_000, "{a} {b}");
    }
}
