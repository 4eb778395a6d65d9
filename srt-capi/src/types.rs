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

/// Declares [`SRT_TRACEBSTATS`] with `TraceBStats`' fields (the same
/// names, types and order) and the conversion.
macro_rules! trace_bstats {
    ($($field:ident: $ty:ty),* $(,)?) => {
        /// `SRT_TRACEBSTATS` (`struct CBytePerfMon`): the fields of
        /// [`srt_mio::TraceBStats`], documented there, in srt.h's layout.
        #[repr(C)]
        #[derive(Debug, Clone, Copy, Default)]
        #[allow(missing_docs)]
        pub struct SRT_TRACEBSTATS {
            $(pub $field: $ty),*
        }

        impl From<&srt_mio::TraceBStats> for SRT_TRACEBSTATS {
            fn from(s: &srt_mio::TraceBStats) -> SRT_TRACEBSTATS {
                SRT_TRACEBSTATS { $($field: s.$field),* }
            }
        }
    };
}

trace_bstats! {
    ms_time_stamp: i64,
    pkt_sent_total: i64,
    pkt_recv_total: i64,
    pkt_snd_loss_total: i32,
    pkt_rcv_loss_total: i32,
    pkt_retrans_total: i32,
    pkt_sent_ack_total: i32,
    pkt_recv_ack_total: i32,
    pkt_sent_nak_total: i32,
    pkt_recv_nak_total: i32,
    us_snd_duration_total: i64,
    pkt_snd_drop_total: i32,
    pkt_rcv_drop_total: i32,
    pkt_rcv_undecrypt_total: i32,
    byte_sent_total: u64,
    byte_recv_total: u64,
    byte_rcv_loss_total: u64,
    byte_retrans_total: u64,
    byte_snd_drop_total: u64,
    byte_rcv_drop_total: u64,
    byte_rcv_undecrypt_total: u64,
    pkt_sent: i64,
    pkt_recv: i64,
    pkt_snd_loss: i32,
    pkt_rcv_loss: i32,
    pkt_retrans: i32,
    pkt_rcv_retrans: i32,
    pkt_sent_ack: i32,
    pkt_recv_ack: i32,
    pkt_sent_nak: i32,
    pkt_recv_nak: i32,
    mbps_send_rate: f64,
    mbps_recv_rate: f64,
    us_snd_duration: i64,
    pkt_reorder_distance: i32,
    pkt_rcv_avg_belated_time: f64,
    pkt_rcv_belated: i64,
    pkt_snd_drop: i32,
    pkt_rcv_drop: i32,
    pkt_rcv_undecrypt: i32,
    byte_sent: u64,
    byte_recv: u64,
    byte_rcv_loss: u64,
    byte_retrans: u64,
    byte_snd_drop: u64,
    byte_rcv_drop: u64,
    byte_rcv_undecrypt: u64,
    us_pkt_snd_period: f64,
    pkt_flow_window: i32,
    pkt_congestion_window: i32,
    pkt_flight_size: i32,
    ms_rtt: f64,
    mbps_bandwidth: f64,
    byte_avail_snd_buf: i32,
    byte_avail_rcv_buf: i32,
    mbps_max_bw: f64,
    byte_mss: i32,
    pkt_snd_buf: i32,
    byte_snd_buf: i32,
    ms_snd_buf: i32,
    ms_snd_tsb_pd_delay: i32,
    pkt_rcv_buf: i32,
    byte_rcv_buf: i32,
    ms_rcv_buf: i32,
    ms_rcv_tsb_pd_delay: i32,
    pkt_snd_filter_extra_total: i32,
    pkt_rcv_filter_extra_total: i32,
    pkt_rcv_filter_supply_total: i32,
    pkt_rcv_filter_loss_total: i32,
    pkt_snd_filter_extra: i32,
    pkt_rcv_filter_extra: i32,
    pkt_rcv_filter_supply: i32,
    pkt_rcv_filter_loss: i32,
    pkt_reorder_tolerance: i32,
    pkt_sent_unique_total: i64,
    pkt_recv_unique_total: i64,
    byte_sent_unique_total: u64,
    byte_recv_unique_total: u64,
    pkt_sent_unique: i64,
    pkt_recv_unique: i64,
    byte_sent_unique: u64,
    byte_recv_unique: u64
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
        assert_eq!(size_of::<SRT_TRACEBSTATS>(), 496);
        assert_eq!(offset_of!(SRT_TRACEBSTATS, byte_recv_unique), 488);
    }
}
