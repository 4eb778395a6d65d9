//! Log configuration: `srt_setloglevel`, `srt_addlogfa`, `srt_dellogfa`,
//! `srt_resetlogfa`, `srt_setloghandler`, `srt_setlogflags`, and
//! [`log`], which writes one line under that configuration.

use crate::guard::api_call_infallible;
use libc::{c_char, c_int, c_void};
use std::ffi::CString;
use std::io::Write;
use std::sync::atomic::{AtomicI32, AtomicU64, Ordering};
use std::sync::Mutex;

/// `SRT_LOG_HANDLER_FN*`: the application's log line receiver.
pub type SrtLogHandler = Option<
    unsafe extern "C" fn(
        opaque: *mut c_void,
        level: c_int,
        file: *const c_char,
        line: c_int,
        area: *const c_char,
        message: *const c_char,
    ),
>;

/// syslog's `LOG_NOTICE`: the default level, as libsrt's.
const LOG_NOTICE: c_int = 5;
/// `SRT_LOGFA_HAICRYPT`: off by default (it may show key material).
const LOGFA_HAICRYPT: u32 = 6;
/// `SRT_LOGFA_LASTNONE`: the highest functional area number.
const LOGFA_LAST: c_int = 63;
/// `SRT_LOGF_DISABLE_SEVERITY`
const LOGF_DISABLE_SEVERITY: c_int = 4;
/// `SRT_LOGF_DISABLE_EOL`
const LOGF_DISABLE_EOL: c_int = 8;

static LEVEL: AtomicI32 = AtomicI32::new(LOG_NOTICE);
static AREAS: AtomicU64 = AtomicU64::new(!(1 << LOGFA_HAICRYPT));
static FLAGS: AtomicI32 = AtomicI32::new(0);

/// The handler and its opaque pointer (kept as an address).
static HANDLER: Mutex<(SrtLogHandler, usize)> = Mutex::new((None, 0));

/// The bit of functional area `fa`, or None outside 0..=63.
fn area_bit(fa: c_int) -> Option<u64> {
    (0..=LOGFA_LAST).contains(&fa).then(|| 1u64 << fa)
}

/// `srt_setloglevel`: the least severe level logged (syslog numbers:
/// `LOG_CRIT` .. `LOG_DEBUG`).
#[no_mangle]
pub extern "C" fn srt_setloglevel(ll: c_int) {
    api_call_infallible((), || LEVEL.store(ll, Ordering::Relaxed))
}

/// `srt_addlogfa`: turns functional area `fa` on (ignored outside 0..=63).
#[no_mangle]
pub extern "C" fn srt_addlogfa(fa: c_int) {
    api_call_infallible((), || {
        if let Some(bit) = area_bit(fa) {
            AREAS.fetch_or(bit, Ordering::Relaxed);
        }
    })
}

/// `srt_dellogfa`: turns functional area `fa` off (ignored outside 0..=63).
#[no_mangle]
pub extern "C" fn srt_dellogfa(fa: c_int) {
    api_call_infallible((), || {
        if let Some(bit) = area_bit(fa) {
            AREAS.fetch_and(!bit, Ordering::Relaxed);
        }
    })
}

/// `srt_resetlogfa`: exactly the `fara_size` areas in `fara` are on. A
/// NULL `fara` with a non-zero size changes nothing.
///
/// # Safety
/// `fara` is NULL or points to `fara_size` readable ints.
#[no_mangle]
pub unsafe extern "C" fn srt_resetlogfa(fara: *const c_int, fara_size: usize) {
    api_call_infallible((), || {
        let areas: &[c_int] = match (fara.is_null(), fara_size) {
            (_, 0) => &[],
            (true, _) => return,
            // SAFETY: the caller passes an array of `fara_size` ints.
            (false, n) => unsafe { std::slice::from_raw_parts(fara, n) },
        };
        let bits = areas
            .iter()
            .filter_map(|&fa| area_bit(fa))
            .fold(0, |a, b| a | b);
        AREAS.store(bits, Ordering::Relaxed);
    })
}

/// `srt_setloghandler`: log lines go to `handler(opaque, ..)` instead of
/// stderr; a NULL handler restores stderr.
#[no_mangle]
pub extern "C" fn srt_setloghandler(opaque: *mut c_void, handler: SrtLogHandler) {
    api_call_infallible((), || {
        *HANDLER.lock().unwrap_or_else(|e| e.into_inner()) = (handler, opaque as usize);
    })
}

/// `srt_setlogflags`: `SRT_LOGF_DISABLE_*` bits, parts of the line left out.
#[no_mangle]
pub extern "C" fn srt_setlogflags(flags: c_int) {
    api_call_infallible((), || FLAGS.store(flags, Ordering::Relaxed))
}

/// The severity letter libsrt puts in a log line.
fn severity(level: c_int) -> &'static str {
    match level {
        ..=2 => "!!FATAL!!",
        3 => "!!ERROR!!",
        4 => "!W:",
        5 => "*N:",
        _ => "*D:",
    }
}

/// Logs `message` at `level` in functional area `fa` (`area` is its short
/// name, e.g. "cn") if the configuration lets it through: to the handler
/// if one is set, else to stderr.
pub fn log(level: c_int, fa: c_int, area: &str, file: &str, line: u32, message: &str) {
    let on = area_bit(fa).is_some_and(|bit| AREAS.load(Ordering::Relaxed) & bit != 0);
    if !on || level > LEVEL.load(Ordering::Relaxed) {
        return;
    }
    let flags = FLAGS.load(Ordering::Relaxed);
    let mut text = String::new();
    if flags & LOGF_DISABLE_SEVERITY == 0 {
        text.push_str(severity(level));
    }
    text.push_str("SRT.");
    text.push_str(area);
    text.push_str(": ");
    text.push_str(message);
    if flags & LOGF_DISABLE_EOL == 0 {
        text.push('\n');
    }
    let (handler, opaque) = *HANDLER.lock().unwrap_or_else(|e| e.into_inner());
    match handler {
        Some(handler) => {
            let cstr = |s: &str| CString::new(s.replace('\0', " ")).unwrap_or_default();
            let (file, area, text) = (cstr(file), cstr(area), cstr(&text));
            let line = c_int::try_from(line).unwrap_or(c_int::MAX);
            // SAFETY: the application registered this handler for exactly
            // this call, with this opaque pointer; the strings live until
            // it returns.
            unsafe {
                handler(
                    opaque as *mut c_void,
                    level,
                    file.as_ptr(),
                    line,
                    area.as_ptr(),
                    text.as_ptr(),
                )
            }
        }
        None => {
            let _ = std::io::stderr().write_all(text.as_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    static LINES: Mutex<Vec<String>> = Mutex::new(Vec::new());

    unsafe extern "C" fn collect(
        opaque: *mut c_void,
        level: c_int,
        _file: *const c_char,
        _line: c_int,
        _area: *const c_char,
        message: *const c_char,
    ) {
        // SAFETY: `log` passes a valid C string.
        let text = unsafe { CStr::from_ptr(message) }.to_string_lossy();
        LINES
            .lock()
            .unwrap()
            .push(format!("{} {level} {text}", opaque as usize));
    }

    /// One test for the whole (global) configuration, so that tests do
    /// not race on it.
    #[test]
    fn configuration_filters_lines() {
        srt_setloghandler(7 as *mut c_void, Some(collect));
        srt_setlogflags(LOGF_DISABLE_EOL);
        log(7, 2, "cn", "f.rs", 1, "debug hidden at the default level");
        log(5, 2, "cn", "f.rs", 1, "note shown");
        log(5, 6, "hc", "f.rs", 1, "haicrypt hidden by default");
        srt_setloglevel(7);
        srt_dellogfa(2);
        log(7, 2, "cn", "f.rs", 1, "area 2 now off");
        // SAFETY: a one-element array.
        unsafe { srt_resetlogfa([6].as_ptr(), 1) };
        log(7, 6, "hc", "f.rs", 1, "only haicrypt on");
        log(7, 1, "sm", "f.rs", 1, "area 1 off");
        srt_addlogfa(1);
        srt_addlogfa(99);
        log(7, 1, "sm", "f.rs", 1, "area 1 on again");
        srt_setloghandler(std::ptr::null_mut(), None);
        // SAFETY: NULL is allowed.
        unsafe { srt_resetlogfa(std::ptr::null(), 3) };
        assert_eq!(
            *LINES.lock().unwrap(),
            [
                "7 5 *N:SRT.cn: note shown",
                "7 7 *D:SRT.hc: only haicrypt on",
                "7 7 *D:SRT.sm: area 1 on again",
            ]
        );
    }
}
