//! Option decoding, through the C API: `srt_setsockflag` with any option
//! code, any `optlen` (negative included) and any bytes, on a fresh socket,
//! then `srt_getsockflag` of any option into a buffer of any declared
//! size; and the same values through `SockOpt::decode_c` and
//! `SocketOptions::set`. Checks: no panic (a panic inside the C API is
//! caught there and reported as `SRT_EUNKNOWN`, which fails here too); a
//! read never reports more bytes than the buffer holds; a value that
//! decodes re-encodes to bytes that decode to the same value.

#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use srt::api::diagnostics::srt_getlasterror;
use srt::api::options::{srt_getsockflag, srt_setsockflag};
use srt::api::sockets::{srt_close, srt_create_socket};
use srt_proto::options::{OptionValue, SockOpt};
use srt_proto::SocketOptions;
use std::ffi::{c_int, c_void};

/// libsrt's `SRT_EUNKNOWN`: what a caught panic becomes.
const SRT_EUNKNOWN: c_int = -1;

#[derive(Arbitrary, Debug)]
enum Op {
    /// Set option `code` from `bytes`, declaring `optlen` = their length
    /// or a negative length; `optval` may be NULL.
    Set {
        code: i16,
        bytes: Vec<u8>,
        negative: bool,
        null: bool,
    },
    /// Read option `code` declaring `room` bytes.
    Get { code: i16, room: u16 },
}

fn check_no_panic() {
    // SAFETY: NULL is allowed for errno_loc.
    let code = unsafe { srt_getlasterror(std::ptr::null_mut()) };
    assert_ne!(code, SRT_EUNKNOWN, "the C API caught a panic");
}

fuzz_target!(|ops: Vec<Op>| {
    let sock = srt_create_socket();
    assert!(sock >= 0, "srt_create_socket failed");
    let mut opts = SocketOptions::live();
    for op in ops.iter().take(64) {
        match op {
            Op::Set {
                code,
                bytes,
                negative,
                null,
            } => {
                let code = c_int::from(*code);
                let len = if *negative {
                    -(bytes.len() as c_int) - 1
                } else {
                    bytes.len() as c_int
                };
                let ptr = if *null {
                    std::ptr::null()
                } else {
                    bytes.as_ptr().cast::<c_void>()
                };
                // SAFETY: `ptr` is NULL or points to `bytes.len()` readable
                // bytes, and `len` is at most that.
                let r = unsafe { srt_setsockflag(sock, code, ptr, len) };
                if r != 0 {
                    check_no_panic();
                }
                if let Some(opt) = SockOpt::from_code(code) {
                    if let Ok(v) = opt.decode_c(bytes) {
                        let again = opt.decode_c(&v.to_c_bytes());
                        // A bool reads one byte; a string its bytes.
                        if !matches!(v, OptionValue::Bool(_))
                            || bytes.len() == 1
                            || bytes.len() == 4
                        {
                            assert_eq!(again.as_ref(), Ok(&v), "{opt:?} value does not round-trip");
                        }
                        let _ = opts.set(opt, v);
                        let _ = opts.get(opt);
                    }
                }
            }
            Op::Get { code, room } => {
                let mut buf = vec![0u8; 4096];
                let mut len: c_int = c_int::from(*room).min(4000);
                // SAFETY: `buf` has 4096 writable bytes, more than any
                // option's value plus its NUL and more than `len`.
                let r = unsafe {
                    srt_getsockflag(
                        sock,
                        c_int::from(*code),
                        buf.as_mut_ptr().cast::<c_void>(),
                        &mut len,
                    )
                };
                if r == 0 {
                    assert!((0..4096).contains(&len), "optlen {len} after a read");
                } else {
                    check_no_panic();
                }
            }
        }
    }
    assert_eq!(srt_close(sock), 0, "srt_close failed");
});
