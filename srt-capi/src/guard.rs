//! The wrapper every exported function runs its body in: a Rust error
//! becomes libsrt's last error and failure value, and a panic never
//! unwinds into C.

use crate::error::{set_last_error, SrtErrno, SrtError};
use std::panic::{catch_unwind, AssertUnwindSafe};

/// Runs `body`; on `Err` records the error as this thread's last error
/// and returns `failed` (libsrt's `SRT_ERROR`, `SRT_INVALID_SOCK`, NULL..).
/// A panic is caught and reported as `SRT_EUNKNOWN`.
pub(crate) fn api_call<T>(failed: T, body: impl FnOnce() -> Result<T, SrtError>) -> T {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(value)) => value,
        Ok(Err(error)) => {
            set_last_error(error);
            failed
        }
        Err(_) => {
            set_last_error(SrtError::new(SrtErrno::EUNKNOWN));
            failed
        }
    }
}

/// [`api_call`] for functions that cannot fail (or, like libsrt's void
/// functions, have no way to report it): only stops a panic.
pub(crate) fn api_call_infallible<T>(failed: T, body: impl FnOnce() -> T) -> T {
    api_call(failed, || Ok(body()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{clear_last_error, last_error};

    #[test]
    fn errors_become_the_last_error() {
        clear_last_error();
        let r = api_call(-1, || Err(SrtErrno::EINVSOCK.into()));
        assert_eq!(r, -1);
        assert_eq!(last_error().code, SrtErrno::EINVSOCK);
        assert_eq!(api_call(-1, || Ok(7)), 7);
    }

    #[test]
    fn a_panic_is_caught() {
        clear_last_error();
        let r: i32 = api_call_infallible(-1, || panic!("test panic"));
        assert_eq!(r, -1);
        assert_eq!(last_error().code, SrtErrno::EUNKNOWN);
    }
}
