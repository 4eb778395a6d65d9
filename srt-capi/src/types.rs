//! The C types and constants of srt.h that the Rust side needs, with
//! srt.h's layouts (`#[repr(C)]`; tests/header.rs checks the header,
//! the tests here check these against it).
#![allow(non_camel_case_types)]

use libc::{c_int, c_void, sockaddr_storage};

/// `SRTSOCKET`: an SRT socket or group ID.
pub type SRTSOCKET = i32;

/// `SRT_ERROR`: the failure return of functions returning `int`.
pub const SRT_ERROR: c_int = -1;
/// `SRT_INVALID_SOCK`: the failure return of functions returning a socket.
pub const SRT_INVALID_SOCK: SRTSOCKET = -1;
/// `SRT_SEQNO_NONE`: no sequence number.
pub const SRT_SEQNO_NONE: i32 = -1;
/// `SRT_MSGNO_NONE`: no message number.
pub const SRT_MSGNO_NONE: i32 = -1;
/// `SRT_MSGTTL_INF`: no message time-to-live.
pub const SRT_MSGTTL_INF: c_int = -1;

/// `SRT_SOCKGROUPDATA`: one member of a socket group.
#[repr(C)]
pub struct SRT_SOCKGROUPDATA {
    /// Member socket.
    pub id: SRTSOCKET,
    /// Its peer's address.
    pub peeraddr: sockaddr_storage,
    /// `SRT_SOCKSTATUS` of the member.
    pub sockstate: c_int,
    /// Priority in a backup group.
    pub weight: u16,
    /// `SRT_MEMBERSTATUS`.
    pub memberstate: c_int,
    /// Result of the last operation on it.
    pub result: c_int,
    /// The application's token.
    pub token: c_int,
}

/// `SRT_MSGCTRL`: per-message parameters and results.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct SRT_MSGCTRL {
    /// Unused, 0.
    pub flags: c_int,
    /// Time-to-live in ms, `SRT_MSGTTL_INF` for none.
    pub msgttl: c_int,
    /// Deliver in order (file message mode).
    pub inorder: c_int,
    /// Packet position in the message (internal).
    pub boundary: c_int,
    /// Source time in µs of the `srt_time_now` clock, 0 for now.
    pub srctime: i64,
    /// Sequence number of the first packet of a received message.
    pub pktseq: i32,
    /// Message number.
    pub msgno: i32,
    /// Group member array, or NULL.
    pub grpdata: *mut SRT_SOCKGROUPDATA,
    /// Its size in elements.
    pub grpdata_size: usize,
}

/// `SRT_SOCKGROUPCONFIG`: one member to connect in a group.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct SRT_SOCKGROUPCONFIG {
    /// The member socket, -1 to create one.
    pub id: SRTSOCKET,
    /// Local address to bind, or family only.
    pub srcaddr: sockaddr_storage,
    /// Address to connect to.
    pub peeraddr: sockaddr_storage,
    /// Priority in a backup group.
    pub weight: u16,
    /// Options for this member (opaque `SRT_SOCKOPT_CONFIG`), or NULL.
    pub config: *mut c_void,
    /// `SRT_ERRNO` of the member's connection.
    pub errorcode: c_int,
    /// The application's token.
    pub token: c_int,
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::mem::{offset_of, size_of};

    /// The numbers header_check.c prints for Debian's srt.h on x86_64.
    #[test]
    fn layouts_match_srt_h() {
        assert_eq!(size_of::<SRT_MSGCTRL>(), 48);
        assert_eq!(offset_of!(SRT_MSGCTRL, srctime), 16);
        assert_eq!(offset_of!(SRT_MSGCTRL, grpdata), 32);
        assert_eq!(size_of::<SRT_SOCKGROUPDATA>(), 160);
        assert_eq!(offset_of!(SRT_SOCKGROUPDATA, sockstate), 136);
        assert_eq!(size_of::<SRT_SOCKGROUPCONFIG>(), 288);
        assert_eq!(offset_of!(SRT_SOCKGROUPCONFIG, weight), 264);
        assert_eq!(offset_of!(SRT_SOCKGROUPCONFIG, config), 272);
        assert_eq!(offset_of!(SRT_SOCKGROUPCONFIG, errorcode), 280);
    }
}
