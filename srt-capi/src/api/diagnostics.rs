//! Errors and rejection reasons as text: `srt_getlasterror`,
//! `srt_getlasterror_str`, `srt_clearlasterror`, `srt_strerror`,
//! `srt_rejectreason_str`, `srt_rejectreason_msg`.

use crate::error::{clear_last_error, last_error, SrtErrno};
use crate::guard::api_call_infallible;
use libc::{c_char, c_int};
use std::ffi::CStr;

/// `srt_getlasterror`: this thread's last error code; its system errno
/// goes to `*errno_loc` unless that is NULL.
///
/// # Safety
/// `errno_loc` is NULL or points to a writable `int`.
#[no_mangle]
pub unsafe extern "C" fn srt_getlasterror(errno_loc: *mut c_int) -> c_int {
    api_call_infallible(SrtErrno::EUNKNOWN.0, || {
        let error = last_error();
        if !errno_loc.is_null() {
            // SAFETY: the caller passes NULL or a pointer to an int it owns.
            unsafe { errno_loc.write(error.sys_errno) };
        }
        error.code.0
    })
}

/// `srt_getlasterror_str`: the message of this thread's last error.
#[no_mangle]
pub extern "C" fn srt_getlasterror_str() -> *const c_char {
    api_call_infallible(c"".as_ptr(), || last_error().code.message().as_ptr())
}

/// `srt_clearlasterror`: sets this thread's last error to `SRT_SUCCESS`.
#[no_mangle]
pub extern "C" fn srt_clearlasterror() {
    api_call_infallible((), clear_last_error)
}

/// `srt_strerror`: the message of an error code; `errnoval` is ignored,
/// as in libsrt 1.5.1. The string is static (this one is thread safe).
#[no_mangle]
pub extern "C" fn srt_strerror(code: c_int, _errnoval: c_int) -> *const c_char {
    api_call_infallible(c"".as_ptr(), || SrtErrno(code).message().as_ptr())
}

/// The messages of the `SRT_REJ_*` reasons, in code order (libsrt 1.5.1's
/// wording).
const REJECT_MESSAGES: [&CStr; 17] = [
    c"Unknown or erroneous",
    c"Error in system calls",
    c"Peer rejected connection",
    c"Resource allocation failure",
    c"Rogue peer or incorrect parameters",
    c"Listener's backlog exceeded",
    c"Internal Program Error",
    c"Socket is being closed",
    c"Peer version too old",
    c"Rendezvous-mode cookie collision",
    c"Incorrect passphrase",
    c"Password required or unexpected",
    c"MessageAPI/StreamAPI collision",
    c"Congestion controller type collision",
    c"Packet Filter settings error",
    c"Group settings collision",
    c"Connection timeout",
];

/// `SRT_REJC_PREDEFINED`: the first code that is not an `SRT_REJ_*`.
const SRT_REJC_PREDEFINED: c_int = 1000;

/// `srt_rejectreason_str`: the message of a rejection reason; "Unknown or
/// erroneous" for an unknown internal code, one fixed text for codes from
/// `SRT_REJC_PREDEFINED` on.
#[no_mangle]
pub extern "C" fn srt_rejectreason_str(id: c_int) -> *const c_char {
    api_call_infallible(REJECT_MESSAGES[0].as_ptr(), || {
        if id >= SRT_REJC_PREDEFINED {
            return c"Application-defined rejection reason".as_ptr();
        }
        usize::try_from(id)
            .ok()
            .and_then(|i| REJECT_MESSAGES.get(i))
            .unwrap_or(&REJECT_MESSAGES[0])
            .as_ptr()
    })
}

/// A C string pointer that may sit in a `static` array.
#[repr(transparent)]
pub struct StaticCStr(*const c_char);

// SAFETY: every `StaticCStr` points to an immutable string literal with
// static lifetime, so sharing it between threads is sound.
unsafe impl Sync for StaticCStr {}

/// `srt_rejectreason_msg`: the deprecated array of the `SRT_REJ_*`
/// messages (no bound check for C; prefer `srt_rejectreason_str`).
#[no_mangle]
pub static srt_rejectreason_msg: [StaticCStr; 17] = {
    let mut table = [const { StaticCStr(std::ptr::null()) }; 17];
    let mut i = 0;
    while i < table.len() {
        table[i] = StaticCStr(REJECT_MESSAGES[i].as_ptr());
        i += 1;
    }
    table
};

#[cfg(test)]
mod tests {
    use super::*;

    fn text(p: *const c_char) -> &'static str {
        // SAFETY: the functions under test return static C strings.
        unsafe { CStr::from_ptr(p) }.to_str().unwrap()
    }

    #[test]
    fn reject_reasons() {
        assert_eq!(text(srt_rejectreason_str(10)), "Incorrect passphrase");
        assert_eq!(text(srt_rejectreason_str(17)), "Unknown or erroneous");
        assert_eq!(text(srt_rejectreason_str(-5)), "Unknown or erroneous");
        assert_eq!(
            text(srt_rejectreason_str(1404)),
            "Application-defined rejection reason"
        );
        assert_eq!(text(srt_rejectreason_msg[16].0), "Connection timeout");
    }
}
