//! Socket options: `srt_getsockopt`, `srt_setsockopt`, `srt_getsockflag`,
//! `srt_setsockflag`, with libsrt's value types, lengths and errors.

use crate::api::sockets::{context, with_pending_options};
use crate::error::{SrtErrno, SrtError};
use crate::guard::api_call;
use crate::types::{SRTSOCKET, SRT_ERROR};
use libc::{c_int, c_void};
use srt_mio::{OptionValue, SockOpt};

/// The option with libsrt 1.5.1's code `code`: with bonding
/// (`SRTO_GROUPCONNECT`, `SRTO_GROUPMINSTABLETIMEO`, `SRTO_GROUPTYPE`)
/// and without the options of later versions (codes above
/// `SRTO_CRYPTOMODE`, 62), which the engine has. `SRTO_CRYPTOMODE` is
/// there as in libsrt ≥ 1.5.2 built with `ENABLE_AEAD_API_PREVIEW`, so
/// that C programs can choose AES-GCM.
fn option_of(code: c_int) -> Option<SockOpt> {
    match code {
        63.. => None,
        _ => SockOpt::from_code(code),
    }
}

/// What `SRTO_VERSION` reads: the version `srt_getversion` gives (the
/// engine's handshake carries its own).
const SRTO_VERSION_VALUE: i32 = 0x01_05_01;

/// `srt_getsockopt` (`level` ignored): writes the value as libsrt's
/// `getOpt` does: `int` and `bool` (one byte) values without looking at
/// `*optlen`; `int64_t` and `struct linger` need `*optlen` to hold them,
/// strings their length plus a NUL (`SRT_EINVPARAM`); `*optlen` becomes
/// the value's length (a string's without the NUL). A write-only or
/// unknown option is `SRT_EINVOP`; NULL pointers `SRT_EINVPARAM`.
///
/// # Safety
/// `optval` is NULL or points to `*optlen` writable bytes (at least 4 for
/// an `int` option, as libsrt); `optlen` is NULL or a valid `int`.
#[no_mangle]
pub unsafe extern "C" fn srt_getsockopt(
    u: SRTSOCKET,
    _level: c_int,
    optname: c_int,
    optval: *mut c_void,
    optlen: *mut c_int,
) -> c_int {
    // SAFETY: the caller's contract is srt_getsockflag's.
    unsafe { srt_getsockflag(u, optname, optval, optlen) }
}

/// `srt_setsockopt` (`level` ignored): see [`srt_setsockflag`].
///
/// # Safety
/// As [`srt_setsockflag`].
#[no_mangle]
pub unsafe extern "C" fn srt_setsockopt(
    u: SRTSOCKET,
    _level: c_int,
    optname: c_int,
    optval: *const c_void,
    optlen: c_int,
) -> c_int {
    // SAFETY: the caller's contract is srt_setsockflag's.
    unsafe { srt_setsockflag(u, optname, optval, optlen) }
}

/// `srt_getsockflag`: see [`srt_getsockopt`].
///
/// # Safety
/// As [`srt_getsockopt`].
#[no_mangle]
pub unsafe extern "C" fn srt_getsockflag(
    u: SRTSOCKET,
    opt: c_int,
    optval: *mut c_void,
    optlen: *mut c_int,
) -> c_int {
    api_call(SRT_ERROR, || {
        if optval.is_null() || optlen.is_null() {
            return Err(SrtErrno::EINVPARAM.into());
        }
        let value = match with_pending_options(u, |o| option_of(opt).map(|opt| o.get(opt))) {
            Some(Some(v)) => v.map_err(srt_mio::Error::from)?,
            Some(None) => return Err(SrtErrno::EINVOP.into()),
            None => {
                let ctx = context()?;
                let Some(opt) = option_of(opt) else {
                    if ctx.state(u) == srt_mio::SockStatus::NonExist {
                        return Err(SrtErrno::EINVSOCK.into());
                    }
                    return Err(SrtErrno::EINVOP.into());
                };
                ctx.get_option(u, opt)?
            }
        };
        let value = match (option_of(opt), value) {
            (Some(SockOpt::Version), OptionValue::Int(_)) => OptionValue::Int(SRTO_VERSION_VALUE),
            (_, v) => v,
        };
        // SAFETY: the caller passes a valid `optlen`.
        let room = unsafe { optlen.read() };
        let bytes = value.to_c_bytes();
        let (needed, len) = match value {
            OptionValue::Bool(_) | OptionValue::Int(_) => (0, bytes.len()),
            OptionValue::Int64(_) | OptionValue::Linger { .. } => (bytes.len(), bytes.len()),
            OptionValue::Str(_) => (bytes.len() + 1, bytes.len()),
        };
        if room < needed as c_int {
            return Err(SrtErrno::EINVPARAM.into());
        }
        // SAFETY: `optval` has room for `len` bytes (checked, or an int
        // or bool as libsrt assumes), and for the NUL after a string.
        unsafe {
            std::ptr::copy_nonoverlapping(bytes.as_ptr(), optval.cast::<u8>(), len);
            if matches!(value, OptionValue::Str(_)) {
                optval.cast::<u8>().add(len).write(0);
            }
            optlen.write(len as c_int);
        }
        Ok(0)
    })
}

/// `srt_setsockflag`: sets an option from `optlen` bytes at `optval`
/// (native order: `int32_t`, `int64_t`, `bool` or `int`, bytes,
/// `struct linger`), with libsrt's checks: a NULL `optval` or a value of
/// the wrong length or range is `SRT_EINVPARAM`; a pre-bind option on a
/// bound socket `SRT_EBOUNDSOCK`; a pre option on a connected one
/// `SRT_ECONNSOCK`; an unknown option `SRT_EINVPARAM`.
///
/// # Safety
/// `optval` is NULL or points to `optlen` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn srt_setsockflag(
    u: SRTSOCKET,
    opt: c_int,
    optval: *const c_void,
    optlen: c_int,
) -> c_int {
    api_call(SRT_ERROR, || {
        if optval.is_null() {
            return Err(SrtErrno::EINVPARAM.into());
        }
        let len = usize::try_from(optlen).map_err(|_| SrtError::new(SrtErrno::EINVPARAM))?;
        // SAFETY: the caller passes `optlen` readable bytes.
        let bytes = unsafe { std::slice::from_raw_parts(optval.cast::<u8>(), len) };
        let decode = |opt: SockOpt| opt.decode_c(bytes).map_err(srt_mio::Error::from);
        if let Some(r) = with_pending_options(u, |o| {
            let opt = option_of(opt).ok_or(SrtError::new(SrtErrno::EINVPARAM))?;
            o.set(opt, decode(opt)?).map_err(srt_mio::Error::from)?;
            Ok::<_, SrtError>(())
        }) {
            r?;
            return Ok(0);
        }
        let ctx = context()?;
        if ctx.state(u) == srt_mio::SockStatus::NonExist {
            return Err(SrtErrno::EINVSOCK.into());
        }
        let opt = option_of(opt).ok_or(SrtError::new(SrtErrno::EINVPARAM))?;
        ctx.set_option(u, opt, decode(opt)?)?;
        Ok(0)
    })
}
