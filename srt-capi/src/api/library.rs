//! Library start and stop, version and clock: `srt_startup`,
//! `srt_cleanup`, `srt_getversion`, `srt_time_now`, `srt_clock_type`.

use crate::guard::api_call_infallible;
use libc::c_int;
use std::sync::Mutex;

/// The startup counter and whether the library's global state is up.
struct Instances {
    /// `srt_startup` calls minus `srt_cleanup` calls (may go negative, as
    /// libsrt's).
    count: i32,
    /// The global state is started (libsrt: its GC thread runs).
    running: bool,
}

static INSTANCES: Mutex<Instances> = Mutex::new(Instances {
    count: 0,
    running: false,
});

/// `srt_startup`: 0 when this call started the library, 1 when it was
/// already started (the counter goes up either way).
#[no_mangle]
pub extern "C" fn srt_startup() -> c_int {
    api_call_infallible(-1, || {
        let mut inst = INSTANCES.lock().unwrap_or_else(|e| e.into_inner());
        inst.count += 1;
        if inst.count > 1 || inst.running {
            return 1;
        }
        inst.running = true;
        0
    })
}

/// `srt_cleanup`: counts one startup down and stops the library when the
/// count reaches 0; always returns 0.
#[no_mangle]
pub extern "C" fn srt_cleanup() -> c_int {
    api_call_infallible(-1, || {
        let mut inst = INSTANCES.lock().unwrap_or_else(|e| e.into_inner());
        inst.count -= 1;
        if inst.count <= 0 {
            inst.running = false;
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
