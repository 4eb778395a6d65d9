//! `srt_msgctrl_default` and `srt_msgctrl_init`.

use crate::guard::api_call_infallible;
use crate::types::{SRT_MSGCTRL, SRT_MSGNO_NONE, SRT_MSGTTL_INF, SRT_SEQNO_NONE};

/// A `SRT_MSGCTRL` that may be a `static` shared with C.
#[repr(transparent)]
pub struct SharedMsgCtrl(pub SRT_MSGCTRL);

// SAFETY: the only instance is the immutable `srt_msgctrl_default`, whose
// `grpdata` pointer is NULL: nothing is reachable through it.
unsafe impl Sync for SharedMsgCtrl {}

/// `srt_msgctrl_default`: no TTL, not in order, no source time, no
/// sequence or message number, no group data.
#[no_mangle]
pub static srt_msgctrl_default: SharedMsgCtrl = SharedMsgCtrl(SRT_MSGCTRL {
    flags: 0,
    msgttl: SRT_MSGTTL_INF,
    inorder: 0,
    boundary: 0,
    srctime: 0,
    pktseq: SRT_SEQNO_NONE,
    msgno: SRT_MSGNO_NONE,
    grpdata: std::ptr::null_mut(),
    grpdata_size: 0,
});

/// `srt_msgctrl_init`: sets `*mctrl` to `srt_msgctrl_default` (nothing if
/// `mctrl` is NULL).
///
/// # Safety
/// `mctrl` is NULL or points to a writable `SRT_MSGCTRL`.
#[no_mangle]
pub unsafe extern "C" fn srt_msgctrl_init(mctrl: *mut SRT_MSGCTRL) {
    api_call_infallible((), || {
        if !mctrl.is_null() {
            // SAFETY: the caller passes NULL or a writable SRT_MSGCTRL.
            unsafe { mctrl.write(srt_msgctrl_default.0) };
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn init_writes_the_default_and_accepts_null() {
        let mut m = SRT_MSGCTRL {
            msgttl: 5,
            pktseq: 9,
            ..srt_msgctrl_default.0
        };
        // SAFETY: a valid SRT_MSGCTRL, then NULL (allowed).
        unsafe {
            srt_msgctrl_init(&mut m);
            srt_msgctrl_init(std::ptr::null_mut());
        }
        assert_eq!((m.msgttl, m.pktseq, m.msgno), (-1, -1, -1));
    }
}
