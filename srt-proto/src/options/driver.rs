//! Options the engine never reads: they configure a driver's UDP socket
//! (`SRTO_UDP_SNDBUF`, `SRTO_IPTTL`, `SRTO_BINDTODEVICE`, ...) and its
//! blocking calls (`SRTO_SNDSYN`, `SRTO_RCVTIMEO`, ...). They live in
//! [`SocketOptions::driver`](super::SocketOptions::driver) so that
//! `srt_setsockopt` still sets and checks them in one place.

use super::{DEFAULT_UDP_RCVBUF, DEFAULT_UDP_SNDBUF};
use std::time::Duration;

/// The driver-only options of one socket, defaults exactly libsrt's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DriverOptions {
    /// `SRTO_SNDSYN`.
    pub sndsyn: bool,
    /// `SRTO_RCVSYN`.
    pub rcvsyn: bool,
    /// `SRTO_UDP_SNDBUF`, bytes.
    pub udp_sndbuf: u32,
    /// `SRTO_UDP_RCVBUF`, bytes.
    pub udp_rcvbuf: u32,
    /// `SRTO_SNDTIMEO`: `None` = wait forever (−1).
    pub sndtimeo: Option<Duration>,
    /// `SRTO_RCVTIMEO`: `None` = wait forever (−1).
    pub rcvtimeo: Option<Duration>,
    /// `SRTO_REUSEADDR`.
    pub reuseaddr: bool,
    /// `SRTO_IPTTL`: −1 (system default) or 1 ..= 255.
    pub ipttl: i32,
    /// `SRTO_IPTOS`: −1 (system default) or the value passed to the system.
    pub iptos: i32,
    /// `SRTO_IPV6ONLY`: −1 unset, 0 or 1 (libsrt stores any value).
    pub ipv6only: i32,
    /// `SRTO_BINDTODEVICE`: interface name, < 16 bytes; empty = none.
    pub bindtodevice: String,
}

impl Default for DriverOptions {
    fn default() -> Self {
        DriverOptions {
            sndsyn: true,
            rcvsyn: true,
            udp_sndbuf: DEFAULT_UDP_SNDBUF,
            udp_rcvbuf: DEFAULT_UDP_RCVBUF,
            sndtimeo: None,
            rcvtimeo: None,
            reuseaddr: true,
            ipttl: -1,
            iptos: -1,
            ipv6only: -1,
            bindtodevice: String::new(),
        }
    }
}
