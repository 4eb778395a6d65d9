//! Socket options (`SRTO_*`): their codes, types, defaults, validation and
//! the phase of a socket's life in which each may be set, as libsrt 1.5 has
//! them.
//!
//! [`SocketOptions`] holds one typed field per option that changes behaviour.
//! [`SocketOptions::set`] / [`SocketOptions::get`] are `srt_setsockopt` /
//! `srt_getsockopt` over that struct: same ranges, same side effects (an
//! option that adjusts another, `SRTO_TRANSTYPE` presets), same errors
//! ([`OptionError::srt_errno`]). [`SockOpt`] lists every code of libsrt's
//! `srt.h`, with its name, URI key, value type and [`Binding`].
//!
//! Sources: libsrt `srtcore/socketconfig.{h,cpp}` (setters, defaults),
//! `core.cpp` (`CUDT::setOpt`/`getOpt`, the pre-bind/pre restriction table),
//! `api.cpp` (bind/listen/connect checks), `srt.h` (codes, errors).
//!
//! Units: times are [`Duration`]s, set and reported in whole milliseconds
//! (linger in whole seconds) as libsrt does; sizes are bytes except the send
//! and receive buffers, which libsrt keeps in packets (`sndbuf_pkts`,
//! `rcvbuf_pkts`) and converts from and to bytes with the MSS of the moment.
//!
//! Inside (private files, everything re-exported here): `table` ([`SockOpt`],
//! one macro over libsrt's option table), `types` (typed values), `error`,
//! `socket` ([`SocketOptions`], its defaults, presets, validation and the
//! builder setters generated from a table), `driver` ([`DriverOptions`], the
//! options the engine never reads) and `c_api` (the
//! `srt_setsockopt`/`srt_getsockopt` semantics, [`OptionValue`] and its C
//! encoding, the phase checks, for drivers exposing libsrt's calls).

use std::time::Duration;

mod c_api;
mod driver;
mod error;
mod socket;
mod table;
pub(crate) mod types;

pub use crate::handshake::TransType;
pub use c_api::{OptionValue, SocketPhase};
pub use driver::DriverOptions;
pub use error::{errno, OptionError};
pub use socket::{OptionWarning, SocketOptions};
pub use table::{Binding, OptType, SockOpt};
pub use types::{Congestion, CryptoMode, PacketFilterConfig, Passphrase, RetransmitAlgo, StreamId};

// ---------------------------------------------------------------------------
// Constants (libsrt's values)
// ---------------------------------------------------------------------------

/// Default and usual maximum MSS, bytes (`CSrtConfig::DEF_MSS`, Ethernet MTU).
pub const DEFAULT_MSS: u32 = 1500;
/// IPv4 + UDP header size libsrt subtracts from the MSS (`CPacket::UDP_HDR_SIZE`).
pub const UDP_HDR_SIZE: u32 = 28;
/// SRT data packet header size.
pub const SRT_HDR_SIZE: u32 = 16;
/// Smallest MSS: UDP header + 48-byte handshake (`socketconfig.cpp`, SRTO_MSS).
pub const MIN_MSS: u32 = UDP_HDR_SIZE + 48;
/// Default flow window, packets (`DEF_FLIGHT_SIZE`).
pub const DEFAULT_FC: u32 = 25600;
/// Smallest flow window and receive buffer, packets (`DEF_MIN_FLIGHT_PKT`).
pub const MIN_FC: u32 = 32;
/// Default send and receive buffer, packets (`DEF_BUFFER_SIZE`).
pub const DEFAULT_BUFFER_PKTS: u32 = 8192;
/// Default UDP send buffer, bytes (`CSrtMuxerConfig::DEF_UDP_BUFFER_SIZE`).
pub const DEFAULT_UDP_SNDBUF: u32 = 65536;
/// Default UDP receive buffer, bytes: receive buffer packets × MSS.
pub const DEFAULT_UDP_RCVBUF: u32 = DEFAULT_BUFFER_PKTS * DEFAULT_MSS;
/// Default payload size in live mode (`SRT_LIVE_DEF_PLSIZE`, 7 × 188).
pub const LIVE_DEF_PAYLOAD_SIZE: u32 = 1316;
/// Largest payload size (`SRT_LIVE_MAX_PLSIZE` = 1500 − 28 − 16).
pub const LIVE_MAX_PAYLOAD_SIZE: u32 = 1456;
/// Default receive latency in live mode (`SRT_LIVE_DEF_LATENCY_MS`).
pub const LIVE_DEF_LATENCY: Duration = Duration::from_millis(120);
/// Default connect timeout (`DEF_CONNTIMEO_S`); ×10 for rendezvous.
pub const DEFAULT_CONNTIMEO: Duration = Duration::from_secs(3);
/// Default peer idle timeout (`COMM_RESPONSE_TIMEOUT_MS`).
pub const DEFAULT_PEERIDLETIMEO: Duration = Duration::from_millis(5000);
/// Default and minimum `SRTO_GROUPMINSTABLETIMEO` (`COMM_DEF_MIN_STABILITY_TIMEOUT_MS`).
pub const MIN_GROUP_STABLE_TIMEO: Duration = Duration::from_millis(60);
/// Linger applied by `SRTO_TRANSTYPE = SRTT_FILE` (`DEF_LINGER_S`).
pub const FILE_LINGER: Duration = Duration::from_secs(180);
/// Default `SRTO_OHEADBW`, percent (`SRT_OHEAD_DEFAULT_P100`).
pub const DEFAULT_OHEADBW: u8 = 25;
/// Default `SRTO_MINVERSION` (`SRT_VERSION_MAJ1`, 1.0.0).
pub const DEFAULT_MINVERSION: u32 = 0x01_00_00;
/// Longest stream ID, bytes (`MAX_SID_LENGTH`).
pub const MAX_STREAMID_LEN: usize = 512;
/// Longest packet filter configuration, bytes (`MAX_PFILTER_LENGTH`).
pub const MAX_PACKETFILTER_LEN: usize = 64;
/// Shortest non-empty passphrase, bytes.
pub const MIN_PASSPHRASE_LEN: usize = 10;
/// Longest passphrase, bytes (`HAICRYPT_SECRET_MAX_SZ`).
pub const MAX_PASSPHRASE_LEN: usize = 80;
/// Key refresh period used when `SRTO_KMREFRESHRATE` is 0, packets (`HAICRYPT_DEF_KM_REFRESH_RATE`).
pub const DEFAULT_KM_REFRESH_RATE: u32 = 0x0100_0000;
/// Pre-announce used when `SRTO_KMPREANNOUNCE` is 0, packets (`SRT_CRYPT_KM_PRE_ANNOUNCE`).
pub const DEFAULT_KM_PREANNOUNCE: u32 = 0x1_0000;
/// Pre-announce assumed for 0 when the setters check their bounds (`HAICRYPT_DEF_KM_PRE_ANNOUNCE`).
const SETTER_DEF_KM_PREANNOUNCE: u32 = 0x1000;
/// AES-GCM authentication tag, bytes (`HAICRYPT_AUTHTAG_MAX`).
pub const AEAD_TAG_SIZE: u32 = 16;
/// Extra payload bytes the builtin FEC filter needs (`FECFilterBuiltin::EXTRA_SIZE`).
pub const FEC_EXTRA_SIZE: u32 = 4;
/// Interface name limit of `SRTO_BINDTODEVICE` (`IFNAMSIZ`, NUL included).
pub const IFNAMSIZ: usize = 16;

/// A duration in whole milliseconds as a C `int`, saturating.
fn ms_i32(d: Duration) -> i32 {
    i32::try_from(d.as_millis()).unwrap_or(i32::MAX)
}

/// Whether a duration fits a C `int` of milliseconds.
fn fits_ms(d: Duration) -> bool {
    d.as_millis() <= i32::MAX as u128
}

#[cfg(test)]
mod tests;
