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

use crate::handshake::{TransType, SRT_VERSION};
use std::fmt;
use std::time::Duration;

/// libsrt's `SRT_ERRNO` values that option handling can produce (`srt.h`:
/// `1000 * major + minor`).
pub mod errno {
    /// `SRT_ESCLOSED` (MJ_SETUP, MN_CLOSED): the socket is closed.
    pub const SRT_ESCLOSED: i32 = 1005;
    /// `SRT_ECONNLOST` (MJ_CONNECTION, MN_CONNLOST): the socket is broken or closing.
    pub const SRT_ECONNLOST: i32 = 2001;
    /// `SRT_EINVOP` (MJ_NOTSUP, MN_NONE): operation not supported.
    pub const SRT_EINVOP: i32 = 5000;
    /// `SRT_EBOUNDSOCK` (MJ_NOTSUP, MN_ISBOUND): the socket is already bound.
    pub const SRT_EBOUNDSOCK: i32 = 5001;
    /// `SRT_ECONNSOCK` (MJ_NOTSUP, MN_ISCONNECTED): the socket is connecting, connected or listening.
    pub const SRT_ECONNSOCK: i32 = 5002;
    /// `SRT_EINVPARAM` (MJ_NOTSUP, MN_INVAL): invalid parameter.
    pub const SRT_EINVPARAM: i32 = 5003;
    /// `SRT_EUNBOUNDSOCK` (MJ_NOTSUP, MN_ISUNBOUND): the socket is not bound.
    pub const SRT_EUNBOUNDSOCK: i32 = 5005;
    /// `SRT_ERDVNOSERV` (MJ_NOTSUP, MN_ISRENDEZVOUS): a rendezvous socket cannot listen.
    pub const SRT_ERDVNOSERV: i32 = 5007;
    /// `SRT_ERDVUNBOUND` (MJ_NOTSUP, MN_ISRENDUNBOUND): a rendezvous socket must be bound first.
    pub const SRT_ERDVUNBOUND: i32 = 5008;
}

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

// ---------------------------------------------------------------------------
// SockOpt: every code of srt.h
// ---------------------------------------------------------------------------

/// When an option may be set (libsrt's "Binding" column, `core.cpp` flags).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Binding {
    /// Only before the socket is bound (`SRTO_R_PREBIND`): it configures the UDP socket or multiplexer.
    PreBind,
    /// Only before connecting or listening (`SRTO_R_PRE`).
    Pre,
    /// At any time, also on a connected socket.
    Post,
    /// Not settable: reports state.
    ReadOnly,
}

/// The C type of an option's value in `srt_setsockopt` / `srt_getsockopt`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OptType {
    /// `bool` (libsrt also accepts an `int`).
    Bool,
    /// `int32_t` (also enums such as `SRT_TRANSTYPE`).
    Int32,
    /// `int64_t`.
    Int64,
    /// Bytes with an explicit length.
    String,
    /// `struct linger`.
    Linger,
}

macro_rules! sockopts {
    ($( $(#[doc = $doc:literal])* $var:ident = $code:literal, $name:literal, $key:literal, $ty:ident, $bind:ident; )*) => {
        /// A libsrt socket option code (`SRT_SOCKOPT`), numbered exactly as `srt.h` 1.5.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(i32)]
        #[non_exhaustive]
        pub enum SockOpt {
            $( $(#[doc = $doc])* $var = $code, )*
        }

        impl SockOpt {
            /// Every option, in code order.
            pub const ALL: &'static [SockOpt] = &[ $( SockOpt::$var, )* ];

            /// The option with this `SRTO_*` code, if there is one.
            pub const fn from_code(code: i32) -> Option<Self> {
                match code {
                    $( $code => Some(SockOpt::$var), )*
                    _ => None,
                }
            }

            /// The `SRTO_*` name, e.g. `"SRTO_LATENCY"`.
            pub const fn name(self) -> &'static str {
                match self { $( SockOpt::$var => $name, )* }
            }

            /// The key used in `srt://` URIs (srt-live-transmit, ffmpeg), e.g. `"latency"`.
            pub const fn uri_key(self) -> &'static str {
                match self { $( SockOpt::$var => $key, )* }
            }

            /// The C type of the value.
            pub const fn opt_type(self) -> OptType {
                match self { $( SockOpt::$var => OptType::$ty, )* }
            }

            /// When the option may be set.
            pub const fn binding(self) -> Binding {
                match self { $( SockOpt::$var => Binding::$bind, )* }
            }
        }
    };
}

sockopts! {
    /// `SRTO_MSS`: maximum segment size (IP packet size), bytes.
    Mss = 0, "SRTO_MSS", "mss", Int32, PreBind;
    /// `SRTO_SNDSYN`: blocking send.
    SndSyn = 1, "SRTO_SNDSYN", "sndsyn", Bool, Post;
    /// `SRTO_RCVSYN`: blocking receive (also connect/accept).
    RcvSyn = 2, "SRTO_RCVSYN", "rcvsyn", Bool, Post;
    /// `SRTO_ISN`: initial sequence number of the connection (read only).
    Isn = 3, "SRTO_ISN", "isn", Int32, ReadOnly;
    /// `SRTO_FC`: flow (flight) window, packets.
    Fc = 4, "SRTO_FC", "fc", Int32, Pre;
    /// `SRTO_SNDBUF`: send buffer, bytes.
    SndBuf = 5, "SRTO_SNDBUF", "sndbuf", Int32, PreBind;
    /// `SRTO_RCVBUF`: receive buffer, bytes.
    RcvBuf = 6, "SRTO_RCVBUF", "rcvbuf", Int32, PreBind;
    /// `SRTO_LINGER`: how long close waits for unsent data.
    Linger = 7, "SRTO_LINGER", "linger", Linger, Post;
    /// `SRTO_UDP_SNDBUF`: UDP socket send buffer, bytes.
    UdpSndBuf = 8, "SRTO_UDP_SNDBUF", "udp_sndbuf", Int32, PreBind;
    /// `SRTO_UDP_RCVBUF`: UDP socket receive buffer, bytes.
    UdpRcvBuf = 9, "SRTO_UDP_RCVBUF", "udp_rcvbuf", Int32, PreBind;
    /// `SRTO_RENDEZVOUS`: rendezvous connection mode.
    Rendezvous = 12, "SRTO_RENDEZVOUS", "rendezvous", Bool, Pre;
    /// `SRTO_SNDTIMEO`: blocking send timeout, ms (−1 = infinite).
    SndTimeo = 13, "SRTO_SNDTIMEO", "sndtimeo", Int32, Post;
    /// `SRTO_RCVTIMEO`: blocking receive timeout, ms (−1 = infinite).
    RcvTimeo = 14, "SRTO_RCVTIMEO", "rcvtimeo", Int32, Post;
    /// `SRTO_REUSEADDR`: share a bound UDP port among sockets.
    ReuseAddr = 15, "SRTO_REUSEADDR", "reuseaddr", Bool, PreBind;
    /// `SRTO_MAXBW`: maximum send rate, bytes/s (−1 = 1 Gbit/s, 0 = relative to input rate).
    MaxBw = 16, "SRTO_MAXBW", "maxbw", Int64, Post;
    /// `SRTO_STATE`: socket state, `SRT_SOCKSTATUS` (read only).
    State = 17, "SRTO_STATE", "state", Int32, ReadOnly;
    /// `SRTO_EVENT`: pending epoll events (read only).
    Event = 18, "SRTO_EVENT", "event", Int32, ReadOnly;
    /// `SRTO_SNDDATA`: packets in the send buffer (read only).
    SndData = 19, "SRTO_SNDDATA", "snddata", Int32, ReadOnly;
    /// `SRTO_RCVDATA`: packets in the receive buffer (read only).
    RcvData = 20, "SRTO_RCVDATA", "rcvdata", Int32, ReadOnly;
    /// `SRTO_SENDER`: this side sends (HSv4 handshake role).
    Sender = 21, "SRTO_SENDER", "sender", Bool, Pre;
    /// `SRTO_TSBPDMODE`: timestamp-based packet delivery.
    TsbpdMode = 22, "SRTO_TSBPDMODE", "tsbpdmode", Bool, Pre;
    /// `SRTO_LATENCY`: sets both receive and peer latency, ms; reads the receive latency.
    Latency = 23, "SRTO_LATENCY", "latency", Int32, Pre;
    /// `SRTO_INPUTBW`: expected input rate, bytes/s (0 = measure).
    InputBw = 24, "SRTO_INPUTBW", "inputbw", Int64, Post;
    /// `SRTO_OHEADBW`: overhead over the input rate, percent.
    OheadBw = 25, "SRTO_OHEADBW", "oheadbw", Int32, Post;
    /// `SRTO_PASSPHRASE`: encryption passphrase (write only).
    Passphrase = 26, "SRTO_PASSPHRASE", "passphrase", String, Pre;
    /// `SRTO_PBKEYLEN`: AES key length, bytes (0 = default 16).
    PbKeyLen = 27, "SRTO_PBKEYLEN", "pbkeylen", Int32, Pre;
    /// `SRTO_KMSTATE`: key material state (read only).
    KmState = 28, "SRTO_KMSTATE", "kmstate", Int32, ReadOnly;
    /// `SRTO_IPTTL`: IP TTL / IPv6 hop limit (−1 = system default).
    IpTtl = 29, "SRTO_IPTTL", "ipttl", Int32, PreBind;
    /// `SRTO_IPTOS`: IP type of service / traffic class (−1 = system default).
    IpTos = 30, "SRTO_IPTOS", "iptos", Int32, PreBind;
    /// `SRTO_TLPKTDROP`: too-late packet drop.
    TlPktDrop = 31, "SRTO_TLPKTDROP", "tlpktdrop", Bool, Pre;
    /// `SRTO_SNDDROPDELAY`: extra sender drop delay, ms (−1 = never drop).
    SndDropDelay = 32, "SRTO_SNDDROPDELAY", "snddropdelay", Int32, Post;
    /// `SRTO_NAKREPORT`: periodic NAK reports.
    NakReport = 33, "SRTO_NAKREPORT", "nakreport", Bool, Pre;
    /// `SRTO_VERSION`: local SRT version (read only).
    Version = 34, "SRTO_VERSION", "version", Int32, ReadOnly;
    /// `SRTO_PEERVERSION`: the peer's SRT version (read only).
    PeerVersion = 35, "SRTO_PEERVERSION", "peerversion", Int32, ReadOnly;
    /// `SRTO_CONNTIMEO`: connect timeout, ms (×10 in rendezvous).
    ConnTimeo = 36, "SRTO_CONNTIMEO", "conntimeo", Int32, Pre;
    /// `SRTO_DRIFTTRACER`: clock drift correction.
    DriftTracer = 37, "SRTO_DRIFTTRACER", "drifttracer", Bool, Post;
    /// `SRTO_MININPUTBW`: floor of the measured input rate, bytes/s.
    MinInputBw = 38, "SRTO_MININPUTBW", "mininputbw", Int64, Post;
    /// `SRTO_SNDKMSTATE`: sending key material state (read only).
    SndKmState = 40, "SRTO_SNDKMSTATE", "sndkmstate", Int32, ReadOnly;
    /// `SRTO_RCVKMSTATE`: receiving key material state (read only).
    RcvKmState = 41, "SRTO_RCVKMSTATE", "rcvkmstate", Int32, ReadOnly;
    /// `SRTO_LOSSMAXTTL`: maximum reorder tolerance, packets.
    LossMaxTtl = 42, "SRTO_LOSSMAXTTL", "lossmaxttl", Int32, Post;
    /// `SRTO_RCVLATENCY`: receive latency, ms.
    RcvLatency = 43, "SRTO_RCVLATENCY", "rcvlatency", Int32, Pre;
    /// `SRTO_PEERLATENCY`: latency proposed to the peer's receiver, ms.
    PeerLatency = 44, "SRTO_PEERLATENCY", "peerlatency", Int32, Pre;
    /// `SRTO_MINVERSION`: oldest peer version accepted.
    MinVersion = 45, "SRTO_MINVERSION", "minversion", Int32, Pre;
    /// `SRTO_STREAMID`: stream ID sent by the caller (≤ 512 bytes).
    StreamId = 46, "SRTO_STREAMID", "streamid", String, Pre;
    /// `SRTO_CONGESTION`: congestion controller, "live" or "file".
    Congestion = 47, "SRTO_CONGESTION", "congestion", String, Pre;
    /// `SRTO_MESSAGEAPI`: message (true) or stream (false) API.
    MessageApi = 48, "SRTO_MESSAGEAPI", "messageapi", Bool, Pre;
    /// `SRTO_PAYLOADSIZE`: maximum payload per packet, bytes (0 = as the MSS allows).
    PayloadSize = 49, "SRTO_PAYLOADSIZE", "payloadsize", Int32, Pre;
    /// `SRTO_TRANSTYPE`: apply the live or file preset (write only).
    TransType = 50, "SRTO_TRANSTYPE", "transtype", Int32, PreBind;
    /// `SRTO_KMREFRESHRATE`: packets between key switches (0 = 2^24).
    KmRefreshRate = 51, "SRTO_KMREFRESHRATE", "kmrefreshrate", Int32, Pre;
    /// `SRTO_KMPREANNOUNCE`: packets a new key is announced before and kept after a switch.
    KmPreAnnounce = 52, "SRTO_KMPREANNOUNCE", "kmpreannounce", Int32, Pre;
    /// `SRTO_ENFORCEDENCRYPTION`: reject peers whose encryption does not match.
    EnforcedEncryption = 53, "SRTO_ENFORCEDENCRYPTION", "enforcedencryption", Bool, Pre;
    /// `SRTO_IPV6ONLY`: `IPV6_V6ONLY` of the UDP socket (−1 = unset).
    Ipv6Only = 54, "SRTO_IPV6ONLY", "ipv6only", Int32, PreBind;
    /// `SRTO_PEERIDLETIMEO`: silence after which the connection breaks, ms.
    PeerIdleTimeo = 55, "SRTO_PEERIDLETIMEO", "peeridletimeo", Int32, Pre;
    /// `SRTO_BINDTODEVICE`: `SO_BINDTODEVICE` of the UDP socket.
    BindToDevice = 56, "SRTO_BINDTODEVICE", "bindtodevice", String, PreBind;
    /// `SRTO_GROUPCONNECT`: a listener accepts group members.
    GroupConnect = 57, "SRTO_GROUPCONNECT", "groupconnect", Int32, Pre;
    /// `SRTO_GROUPMINSTABLETIMEO`: backup group stability timeout, ms.
    GroupMinStableTimeo = 58, "SRTO_GROUPMINSTABLETIMEO", "groupminstabletimeo", Int32, Pre;
    /// `SRTO_GROUPTYPE`: group type of an accepted member (read only).
    GroupType = 59, "SRTO_GROUPTYPE", "grouptype", Int32, ReadOnly;
    /// `SRTO_PACKETFILTER`: packet filter configuration, e.g. `fec,cols:10,rows:5`.
    PacketFilter = 60, "SRTO_PACKETFILTER", "packetfilter", String, Pre;
    /// `SRTO_RETRANSMITALGO`: 0 = on every loss report, 1 = reduced.
    RetransmitAlgo = 61, "SRTO_RETRANSMITALGO", "retransmitalgo", Int32, Pre;
    /// `SRTO_CRYPTOMODE`: 0 = auto, 1 = AES-CTR, 2 = AES-GCM.
    CryptoMode = 62, "SRTO_CRYPTOMODE", "cryptomode", Int32, Pre;
    /// `SRTO_MAXREXMITBW`: retransmission rate limit, bytes/s (−1 = none).
    MaxRexmitBw = 63, "SRTO_MAXREXMITBW", "maxrexmitbw", Int64, Post;
}

impl SockOpt {
    /// The `SRTO_*` code.
    pub const fn code(self) -> i32 {
        self as i32
    }

    /// The option named `"SRTO_LATENCY"` or `"latency"` (ASCII case-insensitive).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL
            .iter()
            .copied()
            .find(|o| o.name().eq_ignore_ascii_case(name) || o.uri_key().eq_ignore_ascii_case(name))
    }

    /// Whether `srt_setsockopt` can change the option at all.
    pub const fn is_settable(self) -> bool {
        !matches!(self.binding(), Binding::ReadOnly)
    }

    /// The restriction libsrt's `CUDT::setOpt` checks before the value.
    ///
    /// Like [`binding`](Self::binding), except that libsrt flags the
    /// read-only `SRTO_VERSION` as "pre", so setting it on a connected
    /// socket reports `SRT_ECONNSOCK` rather than `SRT_EINVPARAM`.
    const fn restriction(self) -> Binding {
        match self {
            SockOpt::Version => Binding::Pre,
            other => other.binding(),
        }
    }

    /// Decodes a C `optval`/`optlen` pair the way libsrt's setters read it
    /// (`cast_optval`, native byte order).
    pub fn decode_c(self, bytes: &[u8]) -> Result<OptionValue, OptionError> {
        let bad = || OptionError::invalid(self, "optlen does not match the option's type");
        Ok(match self.opt_type() {
            OptType::Bool => match bytes.len() {
                1 => OptionValue::Bool(bytes[0] != 0),
                4 => OptionValue::Bool(i32::from_ne_bytes(arr4(bytes)) != 0),
                // libsrt reads any other size as `false` without an error.
                _ => OptionValue::Bool(false),
            },
            OptType::Int32 if bytes.len() == 4 => OptionValue::Int(i32::from_ne_bytes(arr4(bytes))),
            OptType::Int64 if bytes.len() == 8 => {
                let mut b = [0u8; 8];
                b.copy_from_slice(bytes);
                OptionValue::Int64(i64::from_ne_bytes(b))
            }
            OptType::Linger if bytes.len() == 8 => OptionValue::Linger {
                onoff: i32::from_ne_bytes(arr4(&bytes[..4])) != 0,
                secs: i32::from_ne_bytes(arr4(&bytes[4..])),
            },
            OptType::String => OptionValue::Str(bytes.to_vec()),
            OptType::Int32 | OptType::Int64 | OptType::Linger => return Err(bad()),
        })
    }
}

fn arr4(b: &[u8]) -> [u8; 4] {
    let mut a = [0u8; 4];
    a.copy_from_slice(&b[..4]);
    a
}

impl fmt::Display for SockOpt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

// ---------------------------------------------------------------------------
// Values and errors
// ---------------------------------------------------------------------------

/// An option value as `srt_setsockopt` takes and `srt_getsockopt` gives it.
///
/// `Debug` prints string values: do not log a value meant for `SRTO_PASSPHRASE`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum OptionValue {
    /// A boolean.
    Bool(bool),
    /// A 32-bit integer (also `SRT_TRANSTYPE` and the other enums).
    Int(i32),
    /// A 64-bit integer.
    Int64(i64),
    /// Bytes (no terminating NUL).
    Str(Vec<u8>),
    /// `struct linger`.
    Linger {
        /// `l_onoff`: whether close lingers.
        onoff: bool,
        /// `l_linger`: for how many seconds.
        secs: i32,
    },
}

impl OptionValue {
    /// The bytes `srt_getsockopt` writes (native order; strings without the NUL, bools as one byte).
    pub fn to_c_bytes(&self) -> Vec<u8> {
        match self {
            OptionValue::Bool(b) => vec![u8::from(*b)],
            OptionValue::Int(i) => i.to_ne_bytes().to_vec(),
            OptionValue::Int64(i) => i.to_ne_bytes().to_vec(),
            OptionValue::Str(s) => s.clone(),
            OptionValue::Linger { onoff, secs } => {
                let mut v = i32::from(*onoff).to_ne_bytes().to_vec();
                v.extend_from_slice(&secs.to_ne_bytes());
                v
            }
        }
    }
}

/// Why an option could not be set or read, with libsrt's error for it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OptionError {
    /// The value is out of range or of the wrong type (`SRT_EINVPARAM`).
    #[error("{opt}: invalid value: {reason}")]
    InvalidParam {
        /// The option.
        opt: SockOpt,
        /// What is wrong, for logs.
        reason: &'static str,
    },
    /// The option cannot be read (`SRT_EINVOP`): `SRTO_PASSPHRASE`, `SRTO_TRANSTYPE`.
    #[error("{0}: cannot be read")]
    InvalidOp(SockOpt),
    /// A pre-bind option on a bound socket (`SRT_EBOUNDSOCK`).
    #[error("{0}: can only be set before the socket is bound")]
    BoundSocket(SockOpt),
    /// A pre option on a connecting, connected or listening socket (`SRT_ECONNSOCK`).
    #[error("{0}: can only be set before connecting or listening")]
    ConnectedSocket(SockOpt),
    /// Connect or listen on a socket that is already connecting, connected or listening (`SRT_ECONNSOCK`).
    #[error("the socket is already connecting, connected or listening")]
    AlreadyConnected,
    /// Option set on a broken or closing socket (`SRT_ECONNLOST`).
    #[error("the socket is broken or closing")]
    ConnectionLost,
    /// Connect or listen on a broken or closed socket (`SRT_ESCLOSED`).
    #[error("the socket is closed")]
    SocketClosed,
    /// Listen on a socket that is not bound (`SRT_EUNBOUNDSOCK`).
    #[error("the socket is not bound")]
    Unbound,
    /// Connect on a rendezvous socket that is not bound (`SRT_ERDVUNBOUND`).
    #[error("a rendezvous socket must be bound before connecting")]
    RendezvousUnbound,
    /// Listen on a rendezvous socket (`SRT_ERDVNOSERV`).
    #[error("a rendezvous socket cannot listen")]
    RendezvousListen,
    /// A read-only option that reports connection state, which the options do not hold (`SRT_EINVOP` if no one answers).
    #[error("{0}: reports connection state, not an option value")]
    RuntimeState(SockOpt),
}

impl OptionError {
    fn invalid(opt: SockOpt, reason: &'static str) -> Self {
        OptionError::InvalidParam { opt, reason }
    }

    /// libsrt's `SRT_ERRNO` for this error (`srt_getlasterror`).
    pub const fn srt_errno(&self) -> i32 {
        match self {
            OptionError::InvalidParam { .. } => errno::SRT_EINVPARAM,
            OptionError::InvalidOp(_) | OptionError::RuntimeState(_) => errno::SRT_EINVOP,
            OptionError::BoundSocket(_) => errno::SRT_EBOUNDSOCK,
            OptionError::ConnectedSocket(_) | OptionError::AlreadyConnected => errno::SRT_ECONNSOCK,
            OptionError::ConnectionLost => errno::SRT_ECONNLOST,
            OptionError::SocketClosed => errno::SRT_ESCLOSED,
            OptionError::Unbound => errno::SRT_EUNBOUNDSOCK,
            OptionError::RendezvousUnbound => errno::SRT_ERDVUNBOUND,
            OptionError::RendezvousListen => errno::SRT_ERDVNOSERV,
        }
    }
}

/// Where a socket is in its life, for the pre-bind / pre checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SocketPhase {
    /// Created, not bound (`SRTS_INIT`).
    Fresh,
    /// Bound (`SRTS_OPENED`).
    Bound,
    /// Connecting (`SRTS_CONNECTING`).
    Connecting,
    /// Connected, including accepted sockets (`SRTS_CONNECTED`).
    Connected,
    /// Listening (`SRTS_LISTENING`).
    Listening,
    /// Broken, closing or closed.
    Broken,
}

// ---------------------------------------------------------------------------
// Typed option values
// ---------------------------------------------------------------------------

/// Congestion controller (`SRTO_CONGESTION`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Congestion {
    /// `"live"`: pacing at a fixed maximum rate.
    Live,
    /// `"file"` (alias `"vod"`): UDT's AIMD.
    File,
}

impl Congestion {
    /// The name carried in the handshake's congestion block.
    pub const fn as_str(self) -> &'static str {
        match self {
            Congestion::Live => "live",
            Congestion::File => "file",
        }
    }

    /// Parses a name as libsrt's setter does (exact bytes; `"vod"` means file).
    pub fn from_name(name: &[u8]) -> Option<Self> {
        match name {
            b"live" => Some(Congestion::Live),
            b"file" | b"vod" => Some(Congestion::File),
            _ => None,
        }
    }
}

/// Cipher selection (`SRTO_CRYPTOMODE`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CryptoMode {
    /// 0: AES-CTR as initiator; follow the KMREQ as responder.
    Auto = 0,
    /// 1: AES-CTR.
    AesCtr = 1,
    /// 2: AES-GCM (needs TSBPD).
    AesGcm = 2,
}

/// Retransmission policy (`SRTO_RETRANSMITALGO`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RetransmitAlgo {
    /// 0: resend on every loss report.
    EveryLoss = 0,
    /// 1: resend a packet at most once per RTT (live default).
    Reduced = 1,
}

/// An encryption passphrase, 10 to 80 bytes. `Debug` does not show it; dropping it overwrites it.
#[derive(Clone, PartialEq, Eq)]
pub struct Passphrase(Vec<u8>);

impl Passphrase {
    /// A passphrase of 10 to 80 bytes (libsrt: `socketconfig.cpp` SRTO_PASSPHRASE).
    pub fn new(bytes: impl AsRef<[u8]>) -> Result<Self, OptionError> {
        let b = bytes.as_ref();
        if !(MIN_PASSPHRASE_LEN..=MAX_PASSPHRASE_LEN).contains(&b.len()) {
            return Err(OptionError::invalid(
                SockOpt::Passphrase,
                "length must be 10..=80 bytes, or 0 to clear",
            ));
        }
        Ok(Passphrase(b.to_vec()))
    }

    /// The secret bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Passphrase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Passphrase(<redacted>)")
    }
}

impl Drop for Passphrase {
    fn drop(&mut self) {
        // Best effort without `unsafe`: black_box keeps the stores alive.
        self.0.iter_mut().for_each(|b| *b = 0);
        std::hint::black_box(&self.0);
    }
}

/// A stream ID (`SRTO_STREAMID`): up to 512 opaque bytes, usually UTF-8.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct StreamId(Vec<u8>);

impl StreamId {
    /// A stream ID of at most 512 bytes.
    pub fn new(bytes: impl AsRef<[u8]>) -> Result<Self, OptionError> {
        let b = bytes.as_ref();
        if b.len() > MAX_STREAMID_LEN {
            return Err(OptionError::invalid(
                SockOpt::StreamId,
                "longer than 512 bytes",
            ));
        }
        Ok(StreamId(b.to_vec()))
    }

    /// The bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The text, if it is UTF-8.
    pub fn as_str(&self) -> Option<&str> {
        std::str::from_utf8(&self.0).ok()
    }

    /// Whether no stream ID is set.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StreamId({:?})", String::from_utf8_lossy(&self.0))
    }
}

/// A packet filter configuration (`SRTO_PACKETFILTER`) that passed libsrt's
/// parse and the builtin FEC filter's `verifyConfig`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PacketFilterConfig(String);

impl PacketFilterConfig {
    /// Checks `type[,key:value...]` as libsrt does at set time: type `fec`,
    /// keys `cols` (≥ 2), `rows` (≥ 1 or ≤ −2), `layout` (`even`|`staircase`),
    /// `arq` (`never`|`onreq`|`always`); at most 64 bytes.
    pub fn parse(text: impl AsRef<[u8]>) -> Result<Self, OptionError> {
        let err = |reason| OptionError::invalid(SockOpt::PacketFilter, reason);
        let bytes = text.as_ref();
        if bytes.len() > MAX_PACKETFILTER_LEN {
            // libsrt silently keeps the old value here (StringStorage<64>::set fails).
            return Err(err("longer than 64 bytes"));
        }
        let s = std::str::from_utf8(bytes).map_err(|_| err("not UTF-8"))?;
        if s.is_empty() {
            return Err(err("empty (libsrt cannot clear a filter)"));
        }
        let mut parts = s.split(',');
        let ty = parts.next().unwrap_or_default();
        if ty != "fec" {
            return Err(err("unknown filter type (only the builtin \"fec\")"));
        }
        let (mut cols, mut rows, mut layout, mut arq) = (None, None, None, None);
        for part in parts {
            let mut kv = part.split(':');
            let (Some(k), Some(v), None) = (kv.next(), kv.next(), kv.next()) else {
                return Err(err("expected key:value"));
            };
            if v.is_empty() {
                continue; // libsrt ignores empty values
            }
            match k {
                "cols" => cols = Some(c_atoi(v)),
                "rows" => rows = Some(c_atoi(v)),
                "layout" => layout = Some(v),
                "arq" => arq = Some(v),
                _ => {
                    return Err(err(
                        "extra parameters; allowed only cols, rows, layout, arq",
                    ))
                }
            }
        }
        if !matches!(layout, None | Some("even") | Some("staircase")) {
            return Err(err("layout must be even or staircase"));
        }
        if cols.is_some_and(|c| c < 2) {
            return Err(err("cols must be > 1"));
        }
        if rows.is_some_and(|r| (-1..1).contains(&r)) {
            return Err(err("rows must be >= 1 or < -1"));
        }
        if !matches!(arq, None | Some("never") | Some("onreq") | Some("always")) {
            return Err(err("arq must be never, onreq or always"));
        }
        Ok(PacketFilterConfig(s.to_owned()))
    }

    /// The configuration text as set.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Payload bytes the filter takes from every packet.
    pub const fn extra_size(&self) -> u32 {
        FEC_EXTRA_SIZE
    }
}

/// C `atoi`: optional whitespace and sign, then digits up to the first other character.
fn c_atoi(s: &str) -> i64 {
    let t = s.trim_start();
    let (neg, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let mut n: i64 = 0;
    for c in digits.bytes().take_while(u8::is_ascii_digit) {
        n = n.saturating_mul(10).saturating_add(i64::from(c - b'0'));
    }
    if neg {
        -n
    } else {
        n
    }
}

// ---------------------------------------------------------------------------
// SocketOptions
// ---------------------------------------------------------------------------

/// Every behaviour-affecting option of one SRT socket, defaults exactly libsrt's.
///
/// Fields are public for reading by the engine; write them through
/// [`set`](Self::set) or the builder methods, which validate. A struct
/// changed by hand can be checked with [`validate`](Self::validate).
#[derive(Clone, Debug, PartialEq)]
pub struct SocketOptions {
    /// The last `SRTO_TRANSTYPE` preset applied (libsrt keeps no such field; behaviour follows the individual options).
    pub transtype: TransType,
    /// `SRTO_MSS`, bytes: ≥ 76, ≤ both UDP buffer sizes.
    pub mss: u32,
    /// `SRTO_SNDSYN`.
    pub sndsyn: bool,
    /// `SRTO_RCVSYN`.
    pub rcvsyn: bool,
    /// `SRTO_FC`, packets: ≥ 32.
    pub fc: u32,
    /// `SRTO_SNDBUF` in packets (bytes ÷ (MSS − 28) when set).
    pub sndbuf_pkts: u32,
    /// `SRTO_RCVBUF` in packets (bytes ÷ (MSS − 28), 32 ..= FC when set).
    pub rcvbuf_pkts: u32,
    /// `SRTO_LINGER`: `None` = off (live); `Some(180 s)` in file mode.
    pub linger: Option<Duration>,
    /// `SRTO_UDP_SNDBUF`, bytes.
    pub udp_sndbuf: u32,
    /// `SRTO_UDP_RCVBUF`, bytes.
    pub udp_rcvbuf: u32,
    /// `SRTO_RENDEZVOUS`.
    pub rendezvous: bool,
    /// `SRTO_SNDTIMEO`: `None` = wait forever (−1).
    pub sndtimeo: Option<Duration>,
    /// `SRTO_RCVTIMEO`: `None` = wait forever (−1).
    pub rcvtimeo: Option<Duration>,
    /// `SRTO_REUSEADDR`.
    pub reuseaddr: bool,
    /// `SRTO_MAXBW`, bytes/s: −1 = 1 Gbit/s, 0 = from input rate and overhead.
    pub maxbw: i64,
    /// `SRTO_SENDER`.
    pub sender: bool,
    /// `SRTO_TSBPDMODE`.
    pub tsbpdmode: bool,
    /// `SRTO_RCVLATENCY` (also set by `SRTO_LATENCY`), ms precision.
    pub rcvlatency: Duration,
    /// `SRTO_PEERLATENCY` (also set by `SRTO_LATENCY`), ms precision.
    pub peerlatency: Duration,
    /// `SRTO_INPUTBW`, bytes/s: 0 = measure.
    pub inputbw: i64,
    /// `SRTO_MININPUTBW`, bytes/s.
    pub mininputbw: i64,
    /// `SRTO_OHEADBW`, percent: 5 ..= 100.
    pub oheadbw: u8,
    /// `SRTO_PASSPHRASE`: `None` = no encryption.
    pub passphrase: Option<Passphrase>,
    /// `SRTO_PBKEYLEN`, bytes: 0 (default, means 16), 16, 24 or 32.
    pub pbkeylen: u8,
    /// `SRTO_IPTTL`: −1 (system default) or 1 ..= 255.
    pub ipttl: i32,
    /// `SRTO_IPTOS`: −1 (system default) or the value passed to the system.
    pub iptos: i32,
    /// `SRTO_TLPKTDROP`.
    pub tlpktdrop: bool,
    /// `SRTO_SNDDROPDELAY`: `None` = the sender never drops (−1).
    pub snddropdelay: Option<Duration>,
    /// `SRTO_NAKREPORT`.
    pub nakreport: bool,
    /// `SRTO_CONNTIMEO`, ms precision.
    pub conntimeo: Duration,
    /// `SRTO_DRIFTTRACER`.
    pub drifttracer: bool,
    /// `SRTO_LOSSMAXTTL`, packets (libsrt stores any value).
    pub lossmaxttl: i32,
    /// `SRTO_MINVERSION`: `major << 16 | minor << 8 | patch`.
    pub minversion: u32,
    /// `SRTO_STREAMID`.
    pub streamid: StreamId,
    /// `SRTO_CONGESTION`.
    pub congestion: Congestion,
    /// `SRTO_MESSAGEAPI`.
    pub messageapi: bool,
    /// `SRTO_PAYLOADSIZE`, bytes: 0 (= MSS − 44) ..= 1456.
    pub payloadsize: u32,
    /// `SRTO_KMREFRESHRATE`, packets: 0 = [`DEFAULT_KM_REFRESH_RATE`].
    pub kmrefreshrate: u32,
    /// `SRTO_KMPREANNOUNCE`, packets: 0 = [`DEFAULT_KM_PREANNOUNCE`]; ≤ (refresh − 1) / 2.
    pub kmpreannounce: u32,
    /// `SRTO_ENFORCEDENCRYPTION`.
    pub enforcedencryption: bool,
    /// `SRTO_IPV6ONLY`: −1 unset, 0 or 1 (libsrt stores any value).
    pub ipv6only: i32,
    /// `SRTO_PEERIDLETIMEO`, ms precision.
    pub peeridletimeo: Duration,
    /// `SRTO_BINDTODEVICE`: interface name, < 16 bytes; empty = none.
    pub bindtodevice: String,
    /// `SRTO_GROUPCONNECT`.
    pub groupconnect: bool,
    /// `SRTO_GROUPMINSTABLETIMEO`, ms precision, ≥ 60 ms.
    pub groupminstabletimeo: Duration,
    /// `SRTO_PACKETFILTER`: `None` = no filter.
    pub packetfilter: Option<PacketFilterConfig>,
    /// `SRTO_RETRANSMITALGO`.
    pub retransmitalgo: RetransmitAlgo,
    /// `SRTO_CRYPTOMODE`.
    pub cryptomode: CryptoMode,
    /// `SRTO_MAXREXMITBW`, bytes/s: −1 = unlimited.
    pub maxrexmitbw: i64,
}

impl Default for SocketOptions {
    fn default() -> Self {
        SocketOptions {
            transtype: TransType::Live,
            mss: DEFAULT_MSS,
            sndsyn: true,
            rcvsyn: true,
            fc: DEFAULT_FC,
            sndbuf_pkts: DEFAULT_BUFFER_PKTS,
            rcvbuf_pkts: DEFAULT_BUFFER_PKTS,
            linger: None,
            udp_sndbuf: DEFAULT_UDP_SNDBUF,
            udp_rcvbuf: DEFAULT_UDP_RCVBUF,
            rendezvous: false,
            sndtimeo: None,
            rcvtimeo: None,
            reuseaddr: true,
            maxbw: -1,
            sender: false,
            tsbpdmode: true,
            rcvlatency: LIVE_DEF_LATENCY,
            peerlatency: Duration::ZERO,
            inputbw: 0,
            mininputbw: 0,
            oheadbw: DEFAULT_OHEADBW,
            passphrase: None,
            pbkeylen: 0,
            ipttl: -1,
            iptos: -1,
            tlpktdrop: true,
            snddropdelay: Some(Duration::ZERO),
            nakreport: true,
            conntimeo: DEFAULT_CONNTIMEO,
            drifttracer: true,
            lossmaxttl: 0,
            minversion: DEFAULT_MINVERSION,
            streamid: StreamId::default(),
            congestion: Congestion::Live,
            messageapi: true,
            payloadsize: LIVE_DEF_PAYLOAD_SIZE,
            kmrefreshrate: 0,
            kmpreannounce: 0,
            enforcedencryption: true,
            ipv6only: -1,
            peeridletimeo: DEFAULT_PEERIDLETIMEO,
            bindtodevice: String::new(),
            groupconnect: false,
            groupminstabletimeo: MIN_GROUP_STABLE_TIMEO,
            packetfilter: None,
            retransmitalgo: RetransmitAlgo::Reduced,
            cryptomode: CryptoMode::Auto,
            maxrexmitbw: -1,
        }
    }
}

/// Something libsrt accepts but that will not work as one might expect.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum OptionWarning {
    /// `SRTO_PAYLOADSIZE` exceeds what one packet of this MSS carries; messages span packets.
    PayloadExceedsMss {
        /// The configured payload size.
        payloadsize: u32,
        /// MSS − 44.
        max: u32,
    },
    /// MSS above 1500: a libsrt peer rejects a handshake whose agreed MSS exceeds 1500 (REJ_ROGUE).
    MssAboveMtu,
    /// Live congestion control with the stream API: every send fails with `SRT_EINVALBUFFERAPI`.
    LiveCongestionWithStreamApi,
    /// AES-GCM without TSBPD (reachable through `SRTO_TRANSTYPE`); libsrt connects anyway.
    GcmWithoutTsbpd,
    /// AES-GCM with a payload size above 1440: the tag does not fit.
    GcmPayloadTooLarge,
    /// A latency above 65 535 ms: the handshake carries 16 bits of it.
    LatencyTruncated,
    /// `SRTO_GROUPMINSTABLETIMEO` above `SRTO_PEERIDLETIMEO` (its setter refuses that; the other order passes).
    GroupStableAboveIdle,
}

fn ms_i32(d: Duration) -> i32 {
    i32::try_from(d.as_millis()).unwrap_or(i32::MAX)
}

fn fits_ms(d: Duration) -> bool {
    d.as_millis() <= i32::MAX as u128
}

fn want_bool(opt: SockOpt, v: &OptionValue) -> Result<bool, OptionError> {
    match v {
        OptionValue::Bool(b) => Ok(*b),
        // C callers pass an int (libsrt's cast_optval<bool> accepts both).
        OptionValue::Int(i) => Ok(*i != 0),
        _ => Err(OptionError::invalid(opt, "expects a bool")),
    }
}

fn want_i32(opt: SockOpt, v: &OptionValue) -> Result<i32, OptionError> {
    match v {
        OptionValue::Int(i) => Ok(*i),
        OptionValue::Int64(i) => {
            i32::try_from(*i).map_err(|_| OptionError::invalid(opt, "value does not fit an int32"))
        }
        _ => Err(OptionError::invalid(opt, "expects an int32")),
    }
}

fn want_i64(opt: SockOpt, v: &OptionValue) -> Result<i64, OptionError> {
    match v {
        OptionValue::Int64(i) => Ok(*i),
        OptionValue::Int(i) => Ok(i64::from(*i)),
        _ => Err(OptionError::invalid(opt, "expects an int64")),
    }
}

fn want_bytes(opt: SockOpt, v: &OptionValue) -> Result<&[u8], OptionError> {
    match v {
        OptionValue::Str(s) => Ok(s),
        _ => Err(OptionError::invalid(opt, "expects a string")),
    }
}

fn want_ms(opt: SockOpt, v: &OptionValue, min: i32) -> Result<i32, OptionError> {
    let ms = want_i32(opt, v)?;
    if ms < min {
        return Err(OptionError::invalid(opt, "below the minimum"));
    }
    Ok(ms)
}

fn ms(v: i32) -> Duration {
    Duration::from_millis(u64::try_from(v).unwrap_or(0))
}

fn dur_value(opt: SockOpt, d: Duration) -> Result<OptionValue, OptionError> {
    if !fits_ms(d) {
        return Err(OptionError::invalid(opt, "longer than i32::MAX ms"));
    }
    Ok(OptionValue::Int(ms_i32(d)))
}

impl SocketOptions {
    /// Live mode defaults (`SRTT_LIVE`, libsrt's defaults).
    pub fn live() -> Self {
        Self::default()
    }

    /// File mode: the defaults with libsrt's `SRTO_TRANSTYPE = SRTT_FILE` applied.
    pub fn file() -> Self {
        let mut o = Self::default();
        o.apply_transtype(TransType::File);
        o
    }

    /// What libsrt's `SRTO_TRANSTYPE` setter changes (`socketconfig.cpp`).
    fn apply_transtype(&mut self, t: TransType) {
        self.transtype = t;
        match t {
            TransType::Live => {
                self.tsbpdmode = true;
                self.rcvlatency = LIVE_DEF_LATENCY;
                self.peerlatency = Duration::ZERO;
                self.tlpktdrop = true;
                self.snddropdelay = Some(Duration::ZERO);
                self.messageapi = true;
                self.nakreport = true;
                self.retransmitalgo = RetransmitAlgo::Reduced;
                self.payloadsize = LIVE_DEF_PAYLOAD_SIZE;
                self.linger = None;
                self.congestion = Congestion::Live;
            }
            TransType::File => {
                self.tsbpdmode = false;
                self.rcvlatency = Duration::ZERO;
                self.peerlatency = Duration::ZERO;
                self.tlpktdrop = false;
                self.snddropdelay = None;
                self.messageapi = false;
                self.nakreport = false;
                self.retransmitalgo = RetransmitAlgo::EveryLoss;
                self.payloadsize = 0;
                self.linger = Some(FILE_LINGER);
                self.congestion = Congestion::File;
            }
        }
    }

    // ----- derived values the engine uses -----

    /// Bytes one packet takes in the buffers: MSS − 28 (`bytesPerPkt`).
    pub fn bytes_per_pkt(&self) -> u32 {
        self.mss.saturating_sub(UDP_HDR_SIZE)
    }

    /// Largest SRT payload of one packet: MSS − 28 − 16.
    pub fn max_payload_size(&self) -> u32 {
        self.mss.saturating_sub(UDP_HDR_SIZE + SRT_HDR_SIZE)
    }

    /// The payload size in effect: `payloadsize`, or the maximum when it is 0.
    pub fn effective_payload_size(&self) -> u32 {
        if self.payloadsize == 0 {
            self.max_payload_size()
        } else {
            self.payloadsize
        }
    }

    /// Packets in flight the receiver allows: min(receive buffer, flow window).
    pub fn flight_capacity(&self) -> u32 {
        self.rcvbuf_pkts.min(self.fc)
    }

    /// How long connecting may take: `conntimeo`, ×10 in rendezvous (`core.cpp` startConnect).
    pub fn effective_conn_timeout(&self) -> Duration {
        if self.rendezvous {
            self.conntimeo.saturating_mul(10)
        } else {
            self.conntimeo
        }
    }

    /// Key refresh period in effect, packets.
    pub fn effective_km_refresh_rate(&self) -> u32 {
        if self.kmrefreshrate == 0 {
            DEFAULT_KM_REFRESH_RATE
        } else {
            self.kmrefreshrate
        }
    }

    /// Key pre-announce in effect, packets (`crypto.cpp`: 0 ⇒ 0x10000).
    pub fn effective_km_preannounce(&self) -> u32 {
        if self.kmpreannounce == 0 {
            DEFAULT_KM_PREANNOUNCE
        } else {
            self.kmpreannounce
        }
    }

    /// Key length in effect for an initiator, bytes (0 ⇒ 16).
    pub fn effective_pbkeylen(&self) -> u8 {
        if self.pbkeylen == 0 {
            16
        } else {
            self.pbkeylen
        }
    }

    /// The options an accepted socket starts with: the listener's, minus the stream ID (libsrt's private default).
    pub fn for_accepted(&self) -> Self {
        let mut o = self.clone();
        o.streamid = StreamId::default();
        o
    }

    // ----- builder -----

    fn with(mut self, opt: SockOpt, v: OptionValue) -> Result<Self, OptionError> {
        self.set(opt, v)?;
        Ok(self)
    }

    /// Sets receive and peer latency (`SRTO_LATENCY`), ms precision.
    pub fn latency(self, d: Duration) -> Result<Self, OptionError> {
        let v = dur_value(SockOpt::Latency, d)?;
        self.with(SockOpt::Latency, v)
    }

    /// Sets receive and peer latency in milliseconds (`SRTO_LATENCY`).
    pub fn latency_ms(self, ms: u32) -> Result<Self, OptionError> {
        self.latency(Duration::from_millis(u64::from(ms)))
    }

    /// Sets the receive latency (`SRTO_RCVLATENCY`).
    pub fn rcv_latency(self, d: Duration) -> Result<Self, OptionError> {
        let v = dur_value(SockOpt::RcvLatency, d)?;
        self.with(SockOpt::RcvLatency, v)
    }

    /// Sets the latency proposed to the peer (`SRTO_PEERLATENCY`).
    pub fn peer_latency(self, d: Duration) -> Result<Self, OptionError> {
        let v = dur_value(SockOpt::PeerLatency, d)?;
        self.with(SockOpt::PeerLatency, v)
    }

    /// Sets the stream ID (`SRTO_STREAMID`, ≤ 512 bytes).
    pub fn stream_id(self, sid: impl AsRef<[u8]>) -> Result<Self, OptionError> {
        self.with(SockOpt::StreamId, OptionValue::Str(sid.as_ref().to_vec()))
    }

    /// Sets the passphrase (`SRTO_PASSPHRASE`, 10..=80 bytes, empty clears).
    pub fn passphrase(self, p: impl AsRef<[u8]>) -> Result<Self, OptionError> {
        self.with(SockOpt::Passphrase, OptionValue::Str(p.as_ref().to_vec()))
    }

    /// Sets the key length (`SRTO_PBKEYLEN`: 0, 16, 24, 32).
    pub fn pbkeylen(self, len: u8) -> Result<Self, OptionError> {
        self.with(SockOpt::PbKeyLen, OptionValue::Int(i32::from(len)))
    }

    /// Sets the payload size (`SRTO_PAYLOADSIZE`).
    pub fn payload_size(self, size: u32) -> Result<Self, OptionError> {
        let v = i32::try_from(size).unwrap_or(i32::MAX);
        self.with(SockOpt::PayloadSize, OptionValue::Int(v))
    }

    /// Sets the MSS (`SRTO_MSS`).
    pub fn mss(self, mss: u32) -> Result<Self, OptionError> {
        let v = i32::try_from(mss).unwrap_or(i32::MAX);
        self.with(SockOpt::Mss, OptionValue::Int(v))
    }

    /// Sets the flow window (`SRTO_FC`).
    pub fn fc(self, pkts: u32) -> Result<Self, OptionError> {
        let v = i32::try_from(pkts).unwrap_or(i32::MAX);
        self.with(SockOpt::Fc, OptionValue::Int(v))
    }

    /// Sets the connect timeout (`SRTO_CONNTIMEO`).
    pub fn conn_timeout(self, d: Duration) -> Result<Self, OptionError> {
        let v = dur_value(SockOpt::ConnTimeo, d)?;
        self.with(SockOpt::ConnTimeo, v)
    }

    /// Sets the peer idle timeout (`SRTO_PEERIDLETIMEO`).
    pub fn peer_idle_timeout(self, d: Duration) -> Result<Self, OptionError> {
        let v = dur_value(SockOpt::PeerIdleTimeo, d)?;
        self.with(SockOpt::PeerIdleTimeo, v)
    }

    /// Sets the maximum bandwidth (`SRTO_MAXBW`, −1 ..).
    pub fn max_bw(self, bytes_per_sec: i64) -> Result<Self, OptionError> {
        self.with(SockOpt::MaxBw, OptionValue::Int64(bytes_per_sec))
    }

    /// Sets the packet filter (`SRTO_PACKETFILTER`).
    pub fn packet_filter(self, config: &str) -> Result<Self, OptionError> {
        self.with(
            SockOpt::PacketFilter,
            OptionValue::Str(config.as_bytes().to_vec()),
        )
    }

    /// Sets TSBPD (`SRTO_TSBPDMODE`; cannot be turned off with AES-GCM).
    pub fn tsbpd_mode(self, on: bool) -> Result<Self, OptionError> {
        self.with(SockOpt::TsbpdMode, OptionValue::Bool(on))
    }

    /// Sets the cipher mode (`SRTO_CRYPTOMODE`; AES-GCM needs TSBPD).
    pub fn crypto_mode(self, mode: CryptoMode) -> Result<Self, OptionError> {
        self.with(SockOpt::CryptoMode, OptionValue::Int(mode as i32))
    }

    /// Sets the key refresh period (`SRTO_KMREFRESHRATE`).
    pub fn km_refresh_rate(self, pkts: u32) -> Result<Self, OptionError> {
        let v = i32::try_from(pkts).unwrap_or(-1);
        self.with(SockOpt::KmRefreshRate, OptionValue::Int(v))
    }

    /// Sets the key pre-announce (`SRTO_KMPREANNOUNCE`).
    pub fn km_preannounce(self, pkts: u32) -> Result<Self, OptionError> {
        let v = i32::try_from(pkts).unwrap_or(-1);
        self.with(SockOpt::KmPreAnnounce, OptionValue::Int(v))
    }

    /// Sets the linger time (`SRTO_LINGER`, whole seconds; `None` = off).
    pub fn linger(mut self, linger: Option<Duration>) -> Self {
        self.linger = linger.map(|d| Duration::from_secs(d.as_secs().min(i32::MAX as u64)));
        self
    }

    /// Sets the congestion controller (`SRTO_CONGESTION`).
    pub fn congestion(mut self, cc: Congestion) -> Self {
        self.congestion = cc;
        self
    }

    /// Sets the message API (`SRTO_MESSAGEAPI`).
    pub fn message_api(mut self, on: bool) -> Self {
        self.messageapi = on;
        self
    }

    /// Sets too-late packet drop (`SRTO_TLPKTDROP`).
    pub fn tlpktdrop(mut self, on: bool) -> Self {
        self.tlpktdrop = on;
        self
    }

    /// Sets periodic NAK reports (`SRTO_NAKREPORT`).
    pub fn nak_report(mut self, on: bool) -> Self {
        self.nakreport = on;
        self
    }

    /// Sets enforced encryption (`SRTO_ENFORCEDENCRYPTION`).
    pub fn enforced_encryption(mut self, on: bool) -> Self {
        self.enforcedencryption = on;
        self
    }

    /// Sets rendezvous mode (`SRTO_RENDEZVOUS`).
    pub fn rendezvous(mut self, on: bool) -> Self {
        self.rendezvous = on;
        self
    }

    /// Sets the minimum peer version (`SRTO_MINVERSION`).
    pub fn min_version(mut self, version: u32) -> Self {
        self.minversion = version;
        self
    }

    // ----- set / get -----

    /// Whether `opt` may be set in `phase`, with libsrt's error if not (`CUDT::setOpt`).
    pub fn check_settable(opt: SockOpt, phase: SocketPhase) -> Result<(), OptionError> {
        if phase == SocketPhase::Broken {
            return Err(OptionError::ConnectionLost);
        }
        match opt.restriction() {
            Binding::PreBind if phase != SocketPhase::Fresh => Err(OptionError::BoundSocket(opt)),
            Binding::Pre
                if matches!(
                    phase,
                    SocketPhase::Connecting | SocketPhase::Connected | SocketPhase::Listening
                ) =>
            {
                Err(OptionError::ConnectedSocket(opt))
            }
            _ if !opt.is_settable() => Err(OptionError::invalid(opt, "read-only option")),
            _ => Ok(()),
        }
    }

    /// [`check_settable`](Self::check_settable), then [`set`](Self::set): `srt_setsockopt`.
    pub fn set_in_phase(
        &mut self,
        phase: SocketPhase,
        opt: SockOpt,
        value: OptionValue,
    ) -> Result<(), OptionError> {
        Self::check_settable(opt, phase)?;
        self.set(opt, value)
    }

    /// Sets one option with libsrt's validation and side effects (`CSrtConfig::set`); on error nothing changes.
    ///
    /// Bool options also take `Int` (non-zero = true); int64 options also
    /// take `Int`; int32 options take an `Int64` that fits.
    pub fn set(&mut self, opt: SockOpt, value: OptionValue) -> Result<(), OptionError> {
        let v = &value;
        let inval = |reason| OptionError::invalid(opt, reason);
        match opt {
            SockOpt::Mss => {
                let mss = want_i32(opt, v)?;
                if mss < MIN_MSS as i32 {
                    return Err(inval("MSS below 76"));
                }
                // "Packet size cannot be greater than UDP buffer size."
                self.mss = (mss as u32).min(self.udp_sndbuf).min(self.udp_rcvbuf);
            }
            SockOpt::SndSyn => self.sndsyn = want_bool(opt, v)?,
            SockOpt::RcvSyn => self.rcvsyn = want_bool(opt, v)?,
            SockOpt::Fc => {
                let fc = want_i32(opt, v)?;
                if fc < MIN_FC as i32 {
                    return Err(inval("flow window below 32 packets"));
                }
                self.fc = fc as u32;
            }
            SockOpt::SndBuf => {
                let bytes = want_i32(opt, v)?;
                if bytes <= 0 {
                    return Err(inval("must be positive"));
                }
                // libsrt: bytes / (MSS − 28), which may be 0 for tiny values.
                self.sndbuf_pkts = bytes as u32 / self.bytes_per_pkt().max(1);
            }
            SockOpt::RcvBuf => {
                let bytes = want_i32(opt, v)?;
                if bytes <= 0 {
                    return Err(inval("must be positive"));
                }
                // RcvBufferSizeOptionToValue: at least 32 packets, at most FC.
                let per_pkt = self.bytes_per_pkt().max(1);
                let pkts = if u64::from(bytes as u32) > u64::from(per_pkt) * u64::from(MIN_FC) {
                    bytes as u32 / per_pkt
                } else {
                    MIN_FC
                };
                self.rcvbuf_pkts = pkts.min(self.fc);
            }
            SockOpt::Linger => match v {
                OptionValue::Linger { onoff, secs } => {
                    // libsrt also keeps l_linger when off and reports it back; we report 0.
                    // A negative time does not linger (libsrt: a deadline in the past).
                    self.linger =
                        onoff.then(|| Duration::from_secs(u64::try_from(*secs).unwrap_or(0)));
                }
                _ => return Err(inval("expects a struct linger")),
            },
            SockOpt::UdpSndBuf => {
                let b = want_i32(opt, v)?;
                self.udp_sndbuf = b.max(self.mss as i32) as u32;
            }
            SockOpt::UdpRcvBuf => {
                let b = want_i32(opt, v)?;
                self.udp_rcvbuf = b.max(self.mss as i32) as u32;
            }
            SockOpt::Rendezvous => self.rendezvous = want_bool(opt, v)?,
            SockOpt::SndTimeo => {
                let t = want_ms(opt, v, -1)?;
                self.sndtimeo = (t >= 0).then(|| ms(t));
            }
            SockOpt::RcvTimeo => {
                let t = want_ms(opt, v, -1)?;
                self.rcvtimeo = (t >= 0).then(|| ms(t));
            }
            SockOpt::ReuseAddr => self.reuseaddr = want_bool(opt, v)?,
            SockOpt::MaxBw => {
                let bw = want_i64(opt, v)?;
                if bw < -1 {
                    return Err(inval("must be -1 or more"));
                }
                self.maxbw = bw;
            }
            SockOpt::Sender => self.sender = want_bool(opt, v)?,
            SockOpt::TsbpdMode => {
                let on = want_bool(opt, v)?;
                if !on && self.cryptomode == CryptoMode::AesGcm {
                    return Err(inval("TSBPD cannot be disabled while AES-GCM is enabled"));
                }
                self.tsbpdmode = on;
            }
            SockOpt::Latency => {
                let l = ms(want_ms(opt, v, 0)?);
                self.rcvlatency = l;
                self.peerlatency = l;
            }
            SockOpt::RcvLatency => self.rcvlatency = ms(want_ms(opt, v, 0)?),
            SockOpt::PeerLatency => self.peerlatency = ms(want_ms(opt, v, 0)?),
            SockOpt::InputBw => {
                let bw = want_i64(opt, v)?;
                if bw < 0 {
                    return Err(inval("must not be negative"));
                }
                self.inputbw = bw;
            }
            SockOpt::MinInputBw => {
                let bw = want_i64(opt, v)?;
                if bw < 0 {
                    return Err(inval("must not be negative"));
                }
                self.mininputbw = bw;
            }
            SockOpt::OheadBw => {
                let p = want_i32(opt, v)?;
                if !(5..=100).contains(&p) {
                    return Err(inval("must be 5..=100 percent"));
                }
                self.oheadbw = p as u8;
            }
            SockOpt::Passphrase => {
                let b = want_bytes(opt, v)?;
                self.passphrase = if b.is_empty() {
                    None
                } else {
                    Some(Passphrase::new(b)?)
                };
            }
            SockOpt::PbKeyLen => {
                let k = want_i32(opt, v)?;
                if !matches!(k, 0 | 16 | 24 | 32) {
                    return Err(inval("allowed are 0, 16, 24, 32"));
                }
                self.pbkeylen = k as u8;
            }
            SockOpt::IpTtl => {
                let t = want_i32(opt, v)?;
                if t != -1 && !(1..=255).contains(&t) {
                    return Err(inval("must be -1 or 1..=255"));
                }
                self.ipttl = t;
            }
            SockOpt::IpTos => self.iptos = want_i32(opt, v)?,
            SockOpt::TlPktDrop => self.tlpktdrop = want_bool(opt, v)?,
            SockOpt::SndDropDelay => {
                let d = want_ms(opt, v, -1)?;
                self.snddropdelay = (d >= 0).then(|| ms(d));
            }
            SockOpt::NakReport => self.nakreport = want_bool(opt, v)?,
            SockOpt::ConnTimeo => self.conntimeo = ms(want_ms(opt, v, 0)?),
            SockOpt::DriftTracer => self.drifttracer = want_bool(opt, v)?,
            SockOpt::LossMaxTtl => self.lossmaxttl = want_i32(opt, v)?,
            SockOpt::MinVersion => self.minversion = want_i32(opt, v)? as u32,
            SockOpt::StreamId => self.streamid = StreamId::new(want_bytes(opt, v)?)?,
            SockOpt::Congestion => {
                self.congestion = Congestion::from_name(want_bytes(opt, v)?)
                    .ok_or_else(|| inval("unknown congestion controller (live, file)"))?;
            }
            SockOpt::MessageApi => self.messageapi = want_bool(opt, v)?,
            SockOpt::PayloadSize => {
                let p = want_i32(opt, v)?;
                if p < 0 {
                    return Err(inval("must not be negative"));
                }
                let p = p as u32;
                if p > LIVE_MAX_PAYLOAD_SIZE {
                    return Err(inval("exceeds 1456, the maximum payload per MTU"));
                }
                if let Some(f) = &self.packetfilter {
                    if p > LIVE_MAX_PAYLOAD_SIZE - f.extra_size() {
                        return Err(inval("exceeds 1456 minus the packet filter's header"));
                    }
                }
                if self.cryptomode == CryptoMode::AesGcm
                    && p > LIVE_MAX_PAYLOAD_SIZE - AEAD_TAG_SIZE
                {
                    return Err(inval("exceeds 1456 minus the AES-GCM tag"));
                }
                self.payloadsize = p;
            }
            SockOpt::TransType => match want_i32(opt, v)? {
                0 => self.apply_transtype(TransType::Live),
                1 => self.apply_transtype(TransType::File),
                _ => return Err(inval("must be SRTT_LIVE (0) or SRTT_FILE (1)")),
            },
            SockOpt::KmRefreshRate => {
                let r = want_i32(opt, v)?;
                if r < 0 {
                    return Err(inval("must not be negative"));
                }
                self.kmrefreshrate = r as u32;
                if self.kmpreannounce != 0 || self.kmrefreshrate != 0 {
                    let refresh = self.effective_km_refresh_rate();
                    let pre = if self.kmpreannounce == 0 {
                        SETTER_DEF_KM_PREANNOUNCE
                    } else {
                        self.kmpreannounce
                    };
                    // libsrt lowers PREANNOUNCE to its maximum rather than refusing.
                    if self.kmpreannounce == 0 || pre > (refresh - 1) / 2 {
                        self.kmpreannounce = (refresh - 1) / 2;
                    }
                }
            }
            SockOpt::KmPreAnnounce => {
                let p = want_i32(opt, v)?;
                if p < 0 {
                    return Err(inval("must not be negative"));
                }
                let pre = if p == 0 {
                    SETTER_DEF_KM_PREANNOUNCE
                } else {
                    p as u32
                };
                if pre > (self.effective_km_refresh_rate() - 1) / 2 {
                    return Err(inval("exceeds (KMREFRESHRATE - 1) / 2"));
                }
                self.kmpreannounce = p as u32;
            }
            SockOpt::EnforcedEncryption => self.enforcedencryption = want_bool(opt, v)?,
            SockOpt::Ipv6Only => self.ipv6only = want_i32(opt, v)?,
            SockOpt::PeerIdleTimeo => self.peeridletimeo = ms(want_ms(opt, v, 0)?),
            SockOpt::BindToDevice => {
                let b = want_bytes(opt, v)?;
                if b.len() >= IFNAMSIZ {
                    return Err(inval("device name too long (IFNAMSIZ)"));
                }
                let name = std::str::from_utf8(b).map_err(|_| inval("device name is not UTF-8"))?;
                self.bindtodevice = name.to_owned();
            }
            SockOpt::GroupConnect => self.groupconnect = want_i32(opt, v)? != 0,
            SockOpt::GroupMinStableTimeo => {
                let t = want_ms(opt, v, MIN_GROUP_STABLE_TIMEO.as_millis() as i32)?;
                if ms(t) > self.peeridletimeo {
                    return Err(inval("exceeds SRTO_PEERIDLETIMEO"));
                }
                self.groupminstabletimeo = ms(t);
            }
            SockOpt::PacketFilter => {
                let f = PacketFilterConfig::parse(want_bytes(opt, v)?)?;
                let max = LIVE_MAX_PAYLOAD_SIZE - f.extra_size();
                // libsrt shrinks the payload size to fit the filter's header.
                self.payloadsize = self.payloadsize.min(max);
                self.packetfilter = Some(f);
            }
            SockOpt::RetransmitAlgo => {
                self.retransmitalgo = match want_i32(opt, v)? {
                    0 => RetransmitAlgo::EveryLoss,
                    1 => RetransmitAlgo::Reduced,
                    _ => return Err(inval("must be 0 or 1")),
                }
            }
            SockOpt::CryptoMode => {
                let mode = match want_i32(opt, v)? {
                    0 => CryptoMode::Auto,
                    1 => CryptoMode::AesCtr,
                    2 => CryptoMode::AesGcm,
                    _ => return Err(inval("must be 0 (auto), 1 (AES-CTR) or 2 (AES-GCM)")),
                };
                if mode == CryptoMode::AesGcm && !self.tsbpdmode {
                    return Err(inval("AES-GCM needs TSBPD"));
                }
                self.cryptomode = mode;
            }
            SockOpt::MaxRexmitBw => {
                let bw = want_i64(opt, v)?;
                if bw < -1 {
                    return Err(inval("must be -1 or more"));
                }
                self.maxrexmitbw = bw;
            }
            SockOpt::Isn
            | SockOpt::State
            | SockOpt::Event
            | SockOpt::SndData
            | SockOpt::RcvData
            | SockOpt::KmState
            | SockOpt::Version
            | SockOpt::PeerVersion
            | SockOpt::SndKmState
            | SockOpt::RcvKmState
            | SockOpt::GroupType => return Err(inval("read-only option")),
        }
        Ok(())
    }

    /// Reads one option as `srt_getsockopt` reports it on a socket that is not connected.
    ///
    /// Once connected, libsrt reports negotiated values for `SRTO_LATENCY`,
    /// `SRTO_RCVLATENCY`, `SRTO_PEERLATENCY`, `SRTO_TLPKTDROP`,
    /// `SRTO_PBKEYLEN`, `SRTO_CRYPTOMODE`, `SRTO_PAYLOADSIZE` (0 ⇒ the
    /// maximum) and the system's `SRTO_IPTTL`/`SRTO_IPTOS`; the connection
    /// answers those, and the state options ([`OptionError::RuntimeState`]).
    pub fn get(&self, opt: SockOpt) -> Result<OptionValue, OptionError> {
        use OptionValue::{Bool, Int, Int64, Str};
        let dur = |d: Duration| Int(ms_i32(d));
        let opt_dur = |d: Option<Duration>| d.map_or(Int(-1), |d| Int(ms_i32(d)));
        // C int arithmetic, as libsrt's getter (wraps on absurd sizes).
        let bytes = |pkts: u32| Int((i64::from(pkts) * i64::from(self.bytes_per_pkt())) as i32);
        Ok(match opt {
            SockOpt::Mss => Int(self.mss as i32),
            SockOpt::SndSyn => Bool(self.sndsyn),
            SockOpt::RcvSyn => Bool(self.rcvsyn),
            SockOpt::Fc => Int(self.fc as i32),
            SockOpt::SndBuf => bytes(self.sndbuf_pkts),
            SockOpt::RcvBuf => bytes(self.rcvbuf_pkts),
            SockOpt::Linger => match self.linger {
                None => OptionValue::Linger {
                    onoff: false,
                    secs: 0,
                },
                Some(d) => OptionValue::Linger {
                    onoff: true,
                    secs: i32::try_from(d.as_secs()).unwrap_or(i32::MAX),
                },
            },
            SockOpt::UdpSndBuf => Int(self.udp_sndbuf as i32),
            SockOpt::UdpRcvBuf => Int(self.udp_rcvbuf as i32),
            SockOpt::Rendezvous => Bool(self.rendezvous),
            SockOpt::SndTimeo => opt_dur(self.sndtimeo),
            SockOpt::RcvTimeo => opt_dur(self.rcvtimeo),
            SockOpt::ReuseAddr => Bool(self.reuseaddr),
            SockOpt::MaxBw => Int64(self.maxbw),
            SockOpt::Sender => Bool(self.sender),
            SockOpt::TsbpdMode => Bool(self.tsbpdmode),
            SockOpt::Latency | SockOpt::RcvLatency => dur(self.rcvlatency),
            SockOpt::PeerLatency => dur(self.peerlatency),
            SockOpt::InputBw => Int64(self.inputbw),
            SockOpt::MinInputBw => Int64(self.mininputbw),
            SockOpt::OheadBw => Int(i32::from(self.oheadbw)),
            SockOpt::PbKeyLen => Int(i32::from(self.pbkeylen)),
            SockOpt::IpTtl => Int(self.ipttl),
            SockOpt::IpTos => Int(self.iptos),
            SockOpt::TlPktDrop => Bool(self.tlpktdrop),
            SockOpt::SndDropDelay => opt_dur(self.snddropdelay),
            SockOpt::NakReport => Bool(self.nakreport),
            SockOpt::Version => Int(SRT_VERSION.0 as i32),
            SockOpt::ConnTimeo => dur(self.conntimeo),
            SockOpt::DriftTracer => Bool(self.drifttracer),
            SockOpt::LossMaxTtl => Int(self.lossmaxttl),
            SockOpt::MinVersion => Int(self.minversion as i32),
            SockOpt::StreamId => Str(self.streamid.as_bytes().to_vec()),
            SockOpt::Congestion => Str(self.congestion.as_str().as_bytes().to_vec()),
            SockOpt::MessageApi => Bool(self.messageapi),
            SockOpt::PayloadSize => Int(self.payloadsize as i32),
            SockOpt::KmRefreshRate => Int(self.kmrefreshrate as i32),
            SockOpt::KmPreAnnounce => Int(self.kmpreannounce as i32),
            SockOpt::EnforcedEncryption => Bool(self.enforcedencryption),
            SockOpt::Ipv6Only => Int(self.ipv6only),
            SockOpt::PeerIdleTimeo => dur(self.peeridletimeo),
            SockOpt::BindToDevice => Str(self.bindtodevice.as_bytes().to_vec()),
            SockOpt::GroupConnect => Int(i32::from(self.groupconnect)),
            SockOpt::GroupMinStableTimeo => dur(self.groupminstabletimeo),
            SockOpt::PacketFilter => Str(self
                .packetfilter
                .as_ref()
                .map_or_else(Vec::new, |f| f.as_str().as_bytes().to_vec())),
            SockOpt::RetransmitAlgo => Int(self.retransmitalgo as i32),
            SockOpt::CryptoMode => Int(self.cryptomode as i32),
            SockOpt::MaxRexmitBw => Int64(self.maxrexmitbw),
            // Not in libsrt's getOpt: MJ_NOTSUP/MN_NONE.
            SockOpt::Passphrase | SockOpt::TransType => return Err(OptionError::InvalidOp(opt)),
            SockOpt::Isn
            | SockOpt::State
            | SockOpt::Event
            | SockOpt::SndData
            | SockOpt::RcvData
            | SockOpt::KmState
            | SockOpt::PeerVersion
            | SockOpt::SndKmState
            | SockOpt::RcvKmState
            | SockOpt::GroupType => return Err(OptionError::RuntimeState(opt)),
        })
    }

    // ----- whole-struct checks -----

    /// Checks every invariant that [`set`](Self::set) keeps, for fields written directly.
    pub fn validate(&self) -> Result<(), OptionError> {
        let fail = |opt, reason| Err(OptionError::invalid(opt, reason));
        if self.mss < MIN_MSS {
            return fail(SockOpt::Mss, "MSS below 76");
        }
        if self.mss > self.udp_sndbuf || self.mss > self.udp_rcvbuf {
            return fail(SockOpt::Mss, "MSS above a UDP buffer size");
        }
        for (opt, v) in [
            (SockOpt::UdpSndBuf, self.udp_sndbuf),
            (SockOpt::UdpRcvBuf, self.udp_rcvbuf),
            (SockOpt::SndBuf, self.sndbuf_pkts),
            (SockOpt::Fc, self.fc),
            (SockOpt::KmRefreshRate, self.kmrefreshrate),
            (SockOpt::KmPreAnnounce, self.kmpreannounce),
        ] {
            if v > i32::MAX as u32 {
                return fail(opt, "above i32::MAX");
            }
        }
        if self.fc < MIN_FC {
            return fail(SockOpt::Fc, "flow window below 32 packets");
        }
        if self.rcvbuf_pkts < MIN_FC || self.rcvbuf_pkts > i32::MAX as u32 {
            return fail(SockOpt::RcvBuf, "receive buffer below 32 packets");
        }
        if self.maxbw < -1 {
            return fail(SockOpt::MaxBw, "must be -1 or more");
        }
        if self.maxrexmitbw < -1 {
            return fail(SockOpt::MaxRexmitBw, "must be -1 or more");
        }
        if self.inputbw < 0 {
            return fail(SockOpt::InputBw, "must not be negative");
        }
        if self.mininputbw < 0 {
            return fail(SockOpt::MinInputBw, "must not be negative");
        }
        if !(5..=100).contains(&self.oheadbw) {
            return fail(SockOpt::OheadBw, "must be 5..=100 percent");
        }
        if !matches!(self.pbkeylen, 0 | 16 | 24 | 32) {
            return fail(SockOpt::PbKeyLen, "allowed are 0, 16, 24, 32");
        }
        if self.ipttl != -1 && !(1..=255).contains(&self.ipttl) {
            return fail(SockOpt::IpTtl, "must be -1 or 1..=255");
        }
        for (opt, d) in [
            (SockOpt::RcvLatency, Some(self.rcvlatency)),
            (SockOpt::PeerLatency, Some(self.peerlatency)),
            (SockOpt::ConnTimeo, Some(self.conntimeo)),
            (SockOpt::PeerIdleTimeo, Some(self.peeridletimeo)),
            (SockOpt::GroupMinStableTimeo, Some(self.groupminstabletimeo)),
            (SockOpt::SndTimeo, self.sndtimeo),
            (SockOpt::RcvTimeo, self.rcvtimeo),
            (SockOpt::SndDropDelay, self.snddropdelay),
        ] {
            if d.is_some_and(|d| !fits_ms(d)) {
                return fail(opt, "longer than i32::MAX ms");
            }
        }
        if self.linger.is_some_and(|d| d.as_secs() > i32::MAX as u64) {
            return fail(SockOpt::Linger, "longer than i32::MAX s");
        }
        if self.groupminstabletimeo < MIN_GROUP_STABLE_TIMEO {
            return fail(SockOpt::GroupMinStableTimeo, "below 60 ms");
        }
        if self.payloadsize > LIVE_MAX_PAYLOAD_SIZE {
            return fail(SockOpt::PayloadSize, "exceeds 1456");
        }
        if let Some(f) = &self.packetfilter {
            if self.payloadsize > LIVE_MAX_PAYLOAD_SIZE - f.extra_size() {
                return fail(SockOpt::PayloadSize, "exceeds 1456 minus the filter header");
            }
        }
        if self.kmpreannounce != 0
            && self.kmpreannounce > (self.effective_km_refresh_rate() - 1) / 2
        {
            return fail(SockOpt::KmPreAnnounce, "exceeds (KMREFRESHRATE - 1) / 2");
        }
        if self.bindtodevice.len() >= IFNAMSIZ {
            return fail(SockOpt::BindToDevice, "device name too long (IFNAMSIZ)");
        }
        Ok(())
    }

    /// `srt_bind` checks: binding to the IPv6 wildcard `::` needs `SRTO_IPV6ONLY` set (`api.cpp`).
    pub fn validate_for_bind(&self, ipv6_wildcard: bool) -> Result<(), OptionError> {
        if ipv6_wildcard && self.ipv6only == -1 {
            return Err(OptionError::invalid(
                SockOpt::Ipv6Only,
                "binding to :: needs SRTO_IPV6ONLY set to 0 or 1",
            ));
        }
        self.validate()
    }

    /// `srt_connect` checks (`CUDTUnited::connectIn`), then [`validate`](Self::validate).
    pub fn validate_for_connect(&self, phase: SocketPhase) -> Result<(), OptionError> {
        match phase {
            SocketPhase::Fresh if self.rendezvous => return Err(OptionError::RendezvousUnbound),
            SocketPhase::Fresh | SocketPhase::Bound => {}
            SocketPhase::Broken => return Err(OptionError::SocketClosed),
            SocketPhase::Connecting | SocketPhase::Connected | SocketPhase::Listening => {
                return Err(OptionError::AlreadyConnected)
            }
        }
        self.validate()
    }

    /// `srt_listen` checks (`CUDTUnited::listen`), then [`validate`](Self::validate).
    pub fn validate_for_listen(&self, phase: SocketPhase) -> Result<(), OptionError> {
        if self.rendezvous {
            return Err(OptionError::RendezvousListen);
        }
        match phase {
            SocketPhase::Fresh => return Err(OptionError::Unbound),
            SocketPhase::Bound | SocketPhase::Listening => {}
            SocketPhase::Connecting | SocketPhase::Connected => {
                return Err(OptionError::AlreadyConnected)
            }
            SocketPhase::Broken => return Err(OptionError::SocketClosed),
        }
        self.validate()
    }

    /// Combinations libsrt accepts that will not behave as one might expect.
    pub fn warnings(&self) -> Vec<OptionWarning> {
        let mut w = Vec::new();
        if self.payloadsize > self.max_payload_size() {
            w.push(OptionWarning::PayloadExceedsMss {
                payloadsize: self.payloadsize,
                max: self.max_payload_size(),
            });
        }
        if self.mss > DEFAULT_MSS {
            w.push(OptionWarning::MssAboveMtu);
        }
        if self.congestion == Congestion::Live && !self.messageapi {
            w.push(OptionWarning::LiveCongestionWithStreamApi);
        }
        if self.cryptomode == CryptoMode::AesGcm {
            if !self.tsbpdmode {
                w.push(OptionWarning::GcmWithoutTsbpd);
            }
            if self.payloadsize > LIVE_MAX_PAYLOAD_SIZE - AEAD_TAG_SIZE {
                w.push(OptionWarning::GcmPayloadTooLarge);
            }
        }
        if self.rcvlatency.as_millis() > 0xFFFF || self.peerlatency.as_millis() > 0xFFFF {
            w.push(OptionWarning::LatencyTruncated);
        }
        if self.groupminstabletimeo > self.peeridletimeo {
            w.push(OptionWarning::GroupStableAboveIdle);
        }
        w
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use OptionValue::{Bool, Int, Int64, Str};

    fn lin(onoff: bool, secs: i32) -> OptionValue {
        OptionValue::Linger { onoff, secs }
    }

    fn s(v: &str) -> OptionValue {
        Str(v.as_bytes().to_vec())
    }

    /// `srt_getsockopt` on a fresh libsrt 1.5 socket (socketconfig.h, core.cpp getOpt).
    fn libsrt_live_defaults() -> Vec<(SockOpt, OptionValue)> {
        vec![
            (SockOpt::Mss, Int(1500)),
            (SockOpt::SndSyn, Bool(true)),
            (SockOpt::RcvSyn, Bool(true)),
            (SockOpt::Fc, Int(25600)),
            (SockOpt::SndBuf, Int(8192 * 1472)),
            (SockOpt::RcvBuf, Int(8192 * 1472)),
            (SockOpt::Linger, lin(false, 0)),
            (SockOpt::UdpSndBuf, Int(65536)),
            (SockOpt::UdpRcvBuf, Int(8192 * 1500)),
            (SockOpt::Rendezvous, Bool(false)),
            (SockOpt::SndTimeo, Int(-1)),
            (SockOpt::RcvTimeo, Int(-1)),
            (SockOpt::ReuseAddr, Bool(true)),
            (SockOpt::MaxBw, Int64(-1)),
            (SockOpt::Sender, Bool(false)),
            (SockOpt::TsbpdMode, Bool(true)),
            (SockOpt::Latency, Int(120)),
            (SockOpt::InputBw, Int64(0)),
            (SockOpt::OheadBw, Int(25)),
            (SockOpt::PbKeyLen, Int(0)),
            (SockOpt::IpTtl, Int(-1)),
            (SockOpt::IpTos, Int(-1)),
            (SockOpt::TlPktDrop, Bool(true)),
            (SockOpt::SndDropDelay, Int(0)),
            (SockOpt::NakReport, Bool(true)),
            (SockOpt::Version, Int(SRT_VERSION.0 as i32)),
            (SockOpt::ConnTimeo, Int(3000)),
            (SockOpt::DriftTracer, Bool(true)),
            (SockOpt::MinInputBw, Int64(0)),
            (SockOpt::LossMaxTtl, Int(0)),
            (SockOpt::RcvLatency, Int(120)),
            (SockOpt::PeerLatency, Int(0)),
            (SockOpt::MinVersion, Int(0x010000)),
            (SockOpt::StreamId, s("")),
            (SockOpt::Congestion, s("live")),
            (SockOpt::MessageApi, Bool(true)),
            (SockOpt::PayloadSize, Int(1316)),
            (SockOpt::KmRefreshRate, Int(0)),
            (SockOpt::KmPreAnnounce, Int(0)),
            (SockOpt::EnforcedEncryption, Bool(true)),
            (SockOpt::Ipv6Only, Int(-1)),
            (SockOpt::PeerIdleTimeo, Int(5000)),
            (SockOpt::BindToDevice, s("")),
            (SockOpt::GroupConnect, Int(0)),
            (SockOpt::GroupMinStableTimeo, Int(60)),
            (SockOpt::PacketFilter, s("")),
            (SockOpt::RetransmitAlgo, Int(1)),
            (SockOpt::CryptoMode, Int(0)),
            (SockOpt::MaxRexmitBw, Int64(-1)),
        ]
    }

    /// What `SRTO_TRANSTYPE = SRTT_FILE` changes (socketconfig.cpp).
    fn libsrt_file_changes() -> Vec<(SockOpt, OptionValue)> {
        vec![
            (SockOpt::TsbpdMode, Bool(false)),
            (SockOpt::Latency, Int(0)),
            (SockOpt::RcvLatency, Int(0)),
            (SockOpt::PeerLatency, Int(0)),
            (SockOpt::TlPktDrop, Bool(false)),
            (SockOpt::SndDropDelay, Int(-1)),
            (SockOpt::MessageApi, Bool(false)),
            (SockOpt::NakReport, Bool(false)),
            (SockOpt::RetransmitAlgo, Int(0)),
            (SockOpt::PayloadSize, Int(0)),
            (SockOpt::Linger, lin(true, 180)),
            (SockOpt::Congestion, s("file")),
        ]
    }

    #[test]
    fn defaults_equal_libsrt() {
        let o = SocketOptions::live();
        assert_eq!(o, SocketOptions::default());
        let table = libsrt_live_defaults();
        for (opt, want) in &table {
            assert_eq!(o.get(*opt).as_ref(), Ok(want), "{opt}");
        }
        // Every readable, non-state option is in the table.
        let readable = SockOpt::ALL.iter().filter(|o| o.get_is_config()).count();
        assert_eq!(readable, table.len());
        assert_eq!(o.passphrase, None);
        assert_eq!(o.transtype, TransType::Live);
        assert_eq!(o.flight_capacity(), 8192);
        assert_eq!(o.max_payload_size(), 1456);
        assert_eq!(o.effective_km_refresh_rate(), 0x0100_0000);
        assert_eq!(o.effective_km_preannounce(), 0x1_0000);
        assert_eq!(o.effective_pbkeylen(), 16);
        assert_eq!(o.validate(), Ok(()));
        assert!(o.warnings().is_empty());
    }

    impl SockOpt {
        fn get_is_config(self) -> bool {
            !matches!(self.binding(), Binding::ReadOnly)
                && !matches!(self, SockOpt::Passphrase | SockOpt::TransType)
                || self == SockOpt::Version
        }
    }

    #[test]
    fn file_preset_equals_libsrt_transtype_file() {
        let live = SocketOptions::live();
        let file = SocketOptions::file();
        let changes = libsrt_file_changes();
        for (opt, want) in libsrt_live_defaults() {
            let want = changes
                .iter()
                .find(|(o, _)| *o == opt)
                .map_or(want, |(_, v)| v.clone());
            assert_eq!(file.get(opt), Ok(want), "{opt}");
        }
        assert_eq!(file.transtype, TransType::File);
        assert_eq!(file.linger, Some(Duration::from_secs(180)));
        assert_eq!(file.snddropdelay, None);
        assert_eq!(file.effective_payload_size(), 1456);
        assert_eq!(file.validate(), Ok(()));
        assert!(file.warnings().is_empty());

        // Through set(): the same as the constructor, and back.
        let mut o = live.clone();
        o.set(SockOpt::TransType, Int(1)).unwrap();
        assert_eq!(o, file);
        o.set(SockOpt::TransType, Int(0)).unwrap();
        assert_eq!(o, live);
    }

    #[test]
    fn transtype_resets_only_its_options() {
        let mut o = SocketOptions::live()
            .latency_ms(500)
            .unwrap()
            .stream_id("abc")
            .unwrap()
            .fc(1000)
            .unwrap();
        o.set(SockOpt::TransType, Int(0)).unwrap();
        assert_eq!(o.rcvlatency, LIVE_DEF_LATENCY); // reset by the preset
        assert_eq!(o.peerlatency, Duration::ZERO);
        assert_eq!(o.streamid.as_str(), Some("abc")); // untouched
        assert_eq!(o.fc, 1000);
        assert!(matches!(
            o.set(SockOpt::TransType, Int(2)),
            Err(OptionError::InvalidParam { .. })
        ));
    }

    /// Names and numbers as in libsrt 1.5 srt.h.
    const SRT_H: &[(&str, i32)] = &[
        ("SRTO_MSS", 0),
        ("SRTO_SNDSYN", 1),
        ("SRTO_RCVSYN", 2),
        ("SRTO_ISN", 3),
        ("SRTO_FC", 4),
        ("SRTO_SNDBUF", 5),
        ("SRTO_RCVBUF", 6),
        ("SRTO_LINGER", 7),
        ("SRTO_UDP_SNDBUF", 8),
        ("SRTO_UDP_RCVBUF", 9),
        ("SRTO_RENDEZVOUS", 12),
        ("SRTO_SNDTIMEO", 13),
        ("SRTO_RCVTIMEO", 14),
        ("SRTO_REUSEADDR", 15),
        ("SRTO_MAXBW", 16),
        ("SRTO_STATE", 17),
        ("SRTO_EVENT", 18),
        ("SRTO_SNDDATA", 19),
        ("SRTO_RCVDATA", 20),
        ("SRTO_SENDER", 21),
        ("SRTO_TSBPDMODE", 22),
        ("SRTO_LATENCY", 23),
        ("SRTO_INPUTBW", 24),
        ("SRTO_OHEADBW", 25),
        ("SRTO_PASSPHRASE", 26),
        ("SRTO_PBKEYLEN", 27),
        ("SRTO_KMSTATE", 28),
        ("SRTO_IPTTL", 29),
        ("SRTO_IPTOS", 30),
        ("SRTO_TLPKTDROP", 31),
        ("SRTO_SNDDROPDELAY", 32),
        ("SRTO_NAKREPORT", 33),
        ("SRTO_VERSION", 34),
        ("SRTO_PEERVERSION", 35),
        ("SRTO_CONNTIMEO", 36),
        ("SRTO_DRIFTTRACER", 37),
        ("SRTO_MININPUTBW", 38),
        ("SRTO_SNDKMSTATE", 40),
        ("SRTO_RCVKMSTATE", 41),
        ("SRTO_LOSSMAXTTL", 42),
        ("SRTO_RCVLATENCY", 43),
        ("SRTO_PEERLATENCY", 44),
        ("SRTO_MINVERSION", 45),
        ("SRTO_STREAMID", 46),
        ("SRTO_CONGESTION", 47),
        ("SRTO_MESSAGEAPI", 48),
        ("SRTO_PAYLOADSIZE", 49),
        ("SRTO_TRANSTYPE", 50),
        ("SRTO_KMREFRESHRATE", 51),
        ("SRTO_KMPREANNOUNCE", 52),
        ("SRTO_ENFORCEDENCRYPTION", 53),
        ("SRTO_IPV6ONLY", 54),
        ("SRTO_PEERIDLETIMEO", 55),
        ("SRTO_BINDTODEVICE", 56),
        ("SRTO_GROUPCONNECT", 57),
        ("SRTO_GROUPMINSTABLETIMEO", 58),
        ("SRTO_GROUPTYPE", 59),
        ("SRTO_PACKETFILTER", 60),
        ("SRTO_RETRANSMITALGO", 61),
        ("SRTO_CRYPTOMODE", 62),
        ("SRTO_MAXREXMITBW", 63),
    ];

    #[test]
    fn every_code_of_srt_h_round_trips() {
        assert_eq!(SockOpt::ALL.len(), SRT_H.len());
        for (&(name, code), &opt) in SRT_H.iter().zip(SockOpt::ALL) {
            assert_eq!(opt.name(), name);
            assert_eq!(opt.code(), code, "{name}");
            assert_eq!(SockOpt::from_code(code), Some(opt));
            assert_eq!(SockOpt::from_name(name), Some(opt));
            let key = name.trim_start_matches("SRTO_").to_ascii_lowercase();
            assert_eq!(opt.uri_key(), key);
            assert_eq!(SockOpt::from_name(&key), Some(opt));
            assert_eq!(opt.to_string(), name);
        }
        for gap in [-1, 10, 11, 39, 64, i32::MIN, i32::MAX] {
            assert_eq!(SockOpt::from_code(gap), None);
        }
        assert_eq!(SockOpt::from_name("SRTO_NOPE"), None);
        assert_eq!(SockOpt::from_name("Latency"), Some(SockOpt::Latency));
    }

    #[test]
    fn bindings_match_libsrt_flags() {
        use SockOpt as O;
        let prebind = [
            O::Mss,
            O::SndBuf,
            O::RcvBuf,
            O::UdpSndBuf,
            O::UdpRcvBuf,
            O::ReuseAddr,
            O::IpTtl,
            O::IpTos,
            O::TransType,
            O::Ipv6Only,
            O::BindToDevice,
        ];
        let pre = [
            O::Fc,
            O::Rendezvous,
            O::Sender,
            O::TsbpdMode,
            O::Latency,
            O::Passphrase,
            O::PbKeyLen,
            O::TlPktDrop,
            O::NakReport,
            O::ConnTimeo,
            O::RcvLatency,
            O::PeerLatency,
            O::MinVersion,
            O::StreamId,
            O::Congestion,
            O::MessageApi,
            O::PayloadSize,
            O::KmRefreshRate,
            O::KmPreAnnounce,
            O::EnforcedEncryption,
            O::PeerIdleTimeo,
            O::GroupConnect,
            O::GroupMinStableTimeo,
            O::PacketFilter,
            O::RetransmitAlgo,
            O::CryptoMode,
        ];
        let read_only = [
            O::Isn,
            O::State,
            O::Event,
            O::SndData,
            O::RcvData,
            O::KmState,
            O::Version,
            O::PeerVersion,
            O::SndKmState,
            O::RcvKmState,
            O::GroupType,
        ];
        for &opt in SockOpt::ALL {
            let want = if prebind.contains(&opt) {
                Binding::PreBind
            } else if pre.contains(&opt) {
                Binding::Pre
            } else if read_only.contains(&opt) {
                Binding::ReadOnly
            } else {
                Binding::Post
            };
            assert_eq!(opt.binding(), want, "{opt}");
            assert_eq!(opt.is_settable(), want != Binding::ReadOnly);
        }
        // libsrt's srt_post_opt_list plus the options with no flag.
        let post: Vec<_> = SockOpt::ALL
            .iter()
            .filter(|o| o.binding() == Binding::Post)
            .collect();
        assert_eq!(
            post,
            [
                &O::SndSyn,
                &O::RcvSyn,
                &O::Linger,
                &O::SndTimeo,
                &O::RcvTimeo,
                &O::MaxBw,
                &O::InputBw,
                &O::OheadBw,
                &O::SndDropDelay,
                &O::DriftTracer,
                &O::MinInputBw,
                &O::LossMaxTtl,
                &O::MaxRexmitBw,
            ]
        );
    }

    #[test]
    fn option_types() {
        use SockOpt as O;
        for &opt in SockOpt::ALL {
            let want = match opt {
                O::SndSyn
                | O::RcvSyn
                | O::Rendezvous
                | O::ReuseAddr
                | O::Sender
                | O::TsbpdMode
                | O::TlPktDrop
                | O::NakReport
                | O::DriftTracer
                | O::MessageApi
                | O::EnforcedEncryption => OptType::Bool,
                O::MaxBw | O::InputBw | O::MinInputBw | O::MaxRexmitBw => OptType::Int64,
                O::Passphrase | O::StreamId | O::Congestion | O::PacketFilter | O::BindToDevice => {
                    OptType::String
                }
                O::Linger => OptType::Linger,
                _ => OptType::Int32,
            };
            assert_eq!(opt.opt_type(), want, "{opt}");
            // get() answers in the declared type.
            if let Ok(v) = SocketOptions::live().get(opt) {
                let ty = match v {
                    Bool(_) => OptType::Bool,
                    Int(_) => OptType::Int32,
                    Int64(_) => OptType::Int64,
                    Str(_) => OptType::String,
                    OptionValue::Linger { .. } => OptType::Linger,
                };
                assert_eq!(ty, want, "{opt}");
            }
        }
    }

    /// A valid, non-default value for every settable, readable option.
    fn samples() -> Vec<(SockOpt, OptionValue)> {
        vec![
            (SockOpt::Mss, Int(1400)),
            (SockOpt::SndSyn, Bool(false)),
            (SockOpt::RcvSyn, Bool(false)),
            (SockOpt::Fc, Int(32)),
            (SockOpt::SndBuf, Int(100 * 1472)),
            (SockOpt::RcvBuf, Int(64 * 1472)),
            (SockOpt::Linger, lin(true, 7)),
            (SockOpt::UdpSndBuf, Int(1 << 20)),
            (SockOpt::UdpRcvBuf, Int(1 << 21)),
            (SockOpt::Rendezvous, Bool(true)),
            (SockOpt::SndTimeo, Int(250)),
            (SockOpt::RcvTimeo, Int(0)),
            (SockOpt::ReuseAddr, Bool(false)),
            (SockOpt::MaxBw, Int64(10_000_000)),
            (SockOpt::Sender, Bool(true)),
            (SockOpt::TsbpdMode, Bool(false)),
            (SockOpt::Latency, Int(300)),
            (SockOpt::InputBw, Int64(1_000_000)),
            (SockOpt::OheadBw, Int(100)),
            (SockOpt::PbKeyLen, Int(32)),
            (SockOpt::IpTtl, Int(64)),
            (SockOpt::IpTos, Int(0xB8)),
            (SockOpt::TlPktDrop, Bool(false)),
            (SockOpt::SndDropDelay, Int(-1)),
            (SockOpt::NakReport, Bool(false)),
            (SockOpt::ConnTimeo, Int(10_000)),
            (SockOpt::DriftTracer, Bool(false)),
            (SockOpt::MinInputBw, Int64(5000)),
            (SockOpt::LossMaxTtl, Int(10)),
            (SockOpt::RcvLatency, Int(80)),
            (SockOpt::PeerLatency, Int(90)),
            (SockOpt::MinVersion, Int(0x010300)),
            (SockOpt::StreamId, s("#!::r=live/cam1,m=publish")),
            (SockOpt::Congestion, s("file")),
            (SockOpt::MessageApi, Bool(false)),
            (SockOpt::PayloadSize, Int(1000)),
            (SockOpt::KmRefreshRate, Int(2000)),
            (SockOpt::KmPreAnnounce, Int(500)),
            (SockOpt::EnforcedEncryption, Bool(false)),
            (SockOpt::Ipv6Only, Int(1)),
            (SockOpt::PeerIdleTimeo, Int(8000)),
            (SockOpt::BindToDevice, s("eth0")),
            (SockOpt::GroupConnect, Int(1)),
            (SockOpt::GroupMinStableTimeo, Int(100)),
            (SockOpt::PacketFilter, s("fec,cols:10,rows:5")),
            (SockOpt::RetransmitAlgo, Int(0)),
            (SockOpt::CryptoMode, Int(1)),
            (SockOpt::MaxRexmitBw, Int64(2_000_000)),
        ]
    }

    #[test]
    fn set_get_round_trip_for_every_settable_option() {
        let samples = samples();
        for &opt in SockOpt::ALL {
            if !opt.is_settable() || matches!(opt, SockOpt::Passphrase | SockOpt::TransType) {
                continue;
            }
            let (_, v) = samples
                .iter()
                .find(|(o, _)| *o == opt)
                .unwrap_or_else(|| panic!("no sample for {opt}"));
            let mut o = SocketOptions::live();
            assert_ne!(o.get(opt).as_ref(), Ok(v), "{opt}: sample is the default");
            o.set(opt, v.clone())
                .unwrap_or_else(|e| panic!("{opt}: {e}"));
            assert_eq!(o.get(opt).as_ref(), Ok(v), "{opt}");
            assert_eq!(o.validate(), Ok(()), "{opt}");
        }
        // All of them on one socket, in order.
        let mut o = SocketOptions::live();
        for (opt, v) in &samples {
            o.set(*opt, v.clone())
                .unwrap_or_else(|e| panic!("{opt}: {e}"));
        }
        assert_eq!(o.validate(), Ok(()));
    }

    #[test]
    fn write_only_options() {
        let mut o = SocketOptions::live();
        o.set(SockOpt::Passphrase, s("0123456789")).unwrap();
        assert_eq!(
            o.passphrase.as_ref().map(Passphrase::as_bytes),
            Some(&b"0123456789"[..])
        );
        let e = o.get(SockOpt::Passphrase).unwrap_err();
        assert_eq!(e, OptionError::InvalidOp(SockOpt::Passphrase));
        assert_eq!(e.srt_errno(), 5000);
        assert_eq!(
            o.get(SockOpt::TransType),
            Err(OptionError::InvalidOp(SockOpt::TransType))
        );
        // 80 bytes is the maximum libsrt's setter takes (HAICRYPT_SECRET_MAX_SZ).
        o.set(SockOpt::Passphrase, Str(vec![b'x'; 80])).unwrap();
        // Empty clears.
        o.set(SockOpt::Passphrase, Str(vec![])).unwrap();
        assert_eq!(o.passphrase, None);
    }

    #[test]
    fn state_options_are_left_to_the_connection() {
        for opt in [
            SockOpt::Isn,
            SockOpt::State,
            SockOpt::Event,
            SockOpt::SndData,
            SockOpt::RcvData,
            SockOpt::KmState,
            SockOpt::PeerVersion,
            SockOpt::SndKmState,
            SockOpt::RcvKmState,
            SockOpt::GroupType,
        ] {
            let o = SocketOptions::live();
            assert_eq!(o.get(opt), Err(OptionError::RuntimeState(opt)));
            let mut o = o;
            let e = o.set(opt, Int(1)).unwrap_err();
            assert_eq!(e.srt_errno(), errno::SRT_EINVPARAM, "{opt}");
        }
        let mut o = SocketOptions::live();
        assert_eq!(
            o.set(SockOpt::Version, Int(0x010600))
                .unwrap_err()
                .srt_errno(),
            5003
        );
    }

    #[test]
    fn invalid_values_are_rejected_with_einvparam_and_change_nothing() {
        use SockOpt as O;
        let cases: Vec<(SockOpt, OptionValue)> = vec![
            (O::Mss, Int(75)),
            (O::Mss, Int(-1)),
            (O::Fc, Int(31)),
            (O::SndBuf, Int(0)),
            (O::RcvBuf, Int(-5)),
            (O::SndTimeo, Int(-2)),
            (O::RcvTimeo, Int(-2)),
            (O::MaxBw, Int64(-2)),
            (O::MaxRexmitBw, Int64(-2)),
            (O::Latency, Int(-1)),
            (O::RcvLatency, Int(-1)),
            (O::PeerLatency, Int(-1)),
            (O::InputBw, Int64(-1)),
            (O::MinInputBw, Int64(-1)),
            (O::OheadBw, Int(4)),
            (O::OheadBw, Int(101)),
            (O::Passphrase, s("short")),
            (O::Passphrase, Str(vec![b'x'; 9])),
            (O::Passphrase, Str(vec![b'x'; 81])),
            (O::PbKeyLen, Int(8)),
            (O::PbKeyLen, Int(17)),
            (O::IpTtl, Int(0)),
            (O::IpTtl, Int(256)),
            (O::IpTtl, Int(-2)),
            (O::SndDropDelay, Int(-2)),
            (O::ConnTimeo, Int(-1)),
            (O::PeerIdleTimeo, Int(-1)),
            (O::StreamId, Str(vec![b'a'; 513])),
            (O::Congestion, s("cubic")),
            (O::Congestion, s("live\0")),
            (O::PayloadSize, Int(-1)),
            (O::PayloadSize, Int(1457)),
            (O::TransType, Int(-1)),
            (O::KmRefreshRate, Int(-1)),
            (O::KmPreAnnounce, Int(-1)),
            (O::KmPreAnnounce, Int(0x80_0000)), // > (2^24 - 1) / 2
            (O::BindToDevice, s("sixteen-chars-xx")),
            (O::GroupMinStableTimeo, Int(59)),
            (O::GroupMinStableTimeo, Int(5001)),
            (O::PacketFilter, s("")),
            (O::PacketFilter, s("xor,cols:2")),
            (O::RetransmitAlgo, Int(2)),
            (O::RetransmitAlgo, Int(-1)),
            (O::CryptoMode, Int(3)),
            (O::CryptoMode, Int(-1)),
            // Wrong types.
            (O::Latency, Bool(true)),
            (O::Latency, Int64(i64::MAX)),
            (O::TsbpdMode, Int64(1)),
            (O::StreamId, Int(1)),
            (O::Linger, Int(1)),
            (O::MaxBw, s("1")),
        ];
        for (opt, v) in cases {
            let mut o = SocketOptions::live();
            let e = o.set(opt, v.clone()).unwrap_err();
            assert!(
                matches!(e, OptionError::InvalidParam { opt: o, .. } if o == opt),
                "{opt} {v:?}: {e:?}"
            );
            assert_eq!(e.srt_errno(), 5003);
            assert_eq!(o, SocketOptions::live(), "{opt} {v:?} changed the options");
        }
    }

    #[test]
    fn boundary_values_are_accepted() {
        use SockOpt as O;
        for (opt, v) in [
            (O::Mss, Int(76)),
            (O::Fc, Int(32)),
            (O::SndBuf, Int(1)),
            (O::SndTimeo, Int(-1)),
            (O::MaxBw, Int64(-1)),
            (O::MaxBw, Int64(0)),
            (O::Latency, Int(0)),
            (O::OheadBw, Int(5)),
            (O::Passphrase, Str(vec![b'p'; 10])),
            (O::PbKeyLen, Int(16)),
            (O::PbKeyLen, Int(24)),
            (O::IpTtl, Int(255)),
            (O::IpTtl, Int(-1)),
            (O::StreamId, Str(vec![b'a'; 512])),
            (O::Congestion, s("vod")),
            (O::PayloadSize, Int(1456)),
            (O::PayloadSize, Int(0)),
            (O::BindToDevice, s("fifteen-chars-x")),
            (O::GroupMinStableTimeo, Int(60)),
            (O::GroupMinStableTimeo, Int(5000)),
            (O::TsbpdMode, Int(0)), // C int for a bool
            (O::InputBw, Int(7)),   // int for an int64
            (O::Fc, Int64(64)),     // int64 that fits an int
        ] {
            let mut o = SocketOptions::live();
            o.set(opt, v.clone())
                .unwrap_or_else(|e| panic!("{opt} {v:?}: {e}"));
            assert_eq!(o.validate(), Ok(()), "{opt}");
        }
        let mut o = SocketOptions::live();
        o.set(O::Congestion, s("vod")).unwrap();
        assert_eq!(o.get(O::Congestion), Ok(s("file")));
        o.set(O::SndBuf, Int(1)).unwrap();
        assert_eq!(o.sndbuf_pkts, 0); // libsrt: 1 / 1472
    }

    #[test]
    fn check_settable_phases() {
        use SockOpt as O;
        use SocketPhase as P;
        let ok = Ok(());
        for phase in [
            P::Fresh,
            P::Bound,
            P::Connecting,
            P::Connected,
            P::Listening,
        ] {
            let bound = phase != P::Fresh;
            let busy = matches!(phase, P::Connecting | P::Connected | P::Listening);
            let pb = SocketOptions::check_settable(O::Mss, phase);
            assert_eq!(
                pb,
                if bound {
                    Err(OptionError::BoundSocket(O::Mss))
                } else {
                    ok.clone()
                }
            );
            let pre = SocketOptions::check_settable(O::Latency, phase);
            assert_eq!(
                pre,
                if busy {
                    Err(OptionError::ConnectedSocket(O::Latency))
                } else {
                    ok.clone()
                }
            );
            assert_eq!(SocketOptions::check_settable(O::MaxBw, phase), ok);
            assert_eq!(SocketOptions::check_settable(O::RcvSyn, phase), ok);
            let ro = SocketOptions::check_settable(O::Isn, phase).unwrap_err();
            assert_eq!(ro.srt_errno(), 5003);
            // libsrt flags SRTO_VERSION "pre".
            let v = SocketOptions::check_settable(O::Version, phase).unwrap_err();
            assert_eq!(v.srt_errno(), if busy { 5002 } else { 5003 });
        }
        for &opt in SockOpt::ALL {
            assert_eq!(
                SocketOptions::check_settable(opt, P::Broken),
                Err(OptionError::ConnectionLost)
            );
        }
        assert_eq!(OptionError::BoundSocket(O::Mss).srt_errno(), 5001);
        assert_eq!(OptionError::ConnectedSocket(O::Fc).srt_errno(), 5002);
        assert_eq!(OptionError::ConnectionLost.srt_errno(), 2001);

        let mut o = SocketOptions::live();
        assert_eq!(
            o.set_in_phase(P::Connected, O::Latency, Int(10)),
            Err(OptionError::ConnectedSocket(O::Latency))
        );
        assert_eq!(o.rcvlatency, LIVE_DEF_LATENCY);
        o.set_in_phase(P::Connected, O::MaxBw, Int64(1000)).unwrap();
        assert_eq!(o.maxbw, 1000);
    }

    #[test]
    fn buffers_convert_bytes_to_packets_like_libsrt() {
        let mut o = SocketOptions::live();
        // RcvBufferSizeOptionToValue: at least 32 packets...
        o.set(SockOpt::RcvBuf, Int(1000)).unwrap();
        assert_eq!(o.rcvbuf_pkts, 32);
        assert_eq!(o.get(SockOpt::RcvBuf), Ok(Int(32 * 1472)));
        o.set(SockOpt::RcvBuf, Int(32 * 1472 + 1)).unwrap();
        assert_eq!(o.rcvbuf_pkts, 32);
        o.set(SockOpt::RcvBuf, Int(100 * 1472 + 5)).unwrap();
        assert_eq!(o.rcvbuf_pkts, 100);
        // ... and at most FC at the time of setting.
        o.set(SockOpt::Fc, Int(50)).unwrap();
        o.set(SockOpt::RcvBuf, Int(100 * 1472)).unwrap();
        assert_eq!(o.rcvbuf_pkts, 50);
        assert_eq!(o.flight_capacity(), 50);

        // The conversion uses the MSS of the moment: order matters.
        let mut a = SocketOptions::live();
        a.set(SockOpt::Mss, Int(1028)).unwrap();
        a.set(SockOpt::SndBuf, Int(100_000)).unwrap();
        assert_eq!(a.sndbuf_pkts, 100);
        assert_eq!(a.get(SockOpt::SndBuf), Ok(Int(100_000)));
        let mut b = SocketOptions::live();
        b.set(SockOpt::SndBuf, Int(100_000)).unwrap();
        b.set(SockOpt::Mss, Int(1028)).unwrap();
        assert_eq!(b.sndbuf_pkts, 67);
        assert_eq!(b.get(SockOpt::SndBuf), Ok(Int(67 * 1000)));
    }

    #[test]
    fn mss_and_udp_buffers_bound_each_other() {
        let mut o = SocketOptions::live();
        o.set(SockOpt::UdpSndBuf, Int(10)).unwrap();
        assert_eq!(o.udp_sndbuf, 1500); // never below the MSS
        o.set(SockOpt::Mss, Int(9000)).unwrap();
        assert_eq!(o.mss, 1500); // never above a UDP buffer
        o.set(SockOpt::UdpSndBuf, Int(65536)).unwrap();
        o.set(SockOpt::Mss, Int(9000)).unwrap();
        assert_eq!(o.mss, 9000);
        assert_eq!(o.warnings(), vec![OptionWarning::MssAboveMtu]);
        assert_eq!(o.validate(), Ok(()));
    }

    #[test]
    fn km_refresh_and_preannounce_rules() {
        let mut o = SocketOptions::live();
        // Refresh alone: preannounce follows at (refresh - 1) / 2.
        o.set(SockOpt::KmRefreshRate, Int(2000)).unwrap();
        assert_eq!(o.kmpreannounce, 999);
        o.set(SockOpt::KmPreAnnounce, Int(500)).unwrap();
        assert_eq!(o.kmpreannounce, 500);
        assert!(o.set(SockOpt::KmPreAnnounce, Int(1000)).is_err());
        // 0 means libsrt's setter default 0x1000, too big for refresh 2000.
        assert!(o.set(SockOpt::KmPreAnnounce, Int(0)).is_err());
        // A smaller refresh lowers a preannounce that no longer fits.
        o.set(SockOpt::KmRefreshRate, Int(101)).unwrap();
        assert_eq!(o.kmpreannounce, 50);
        // A larger one keeps it.
        o.set(SockOpt::KmRefreshRate, Int(100_000)).unwrap();
        assert_eq!(o.kmpreannounce, 50);

        // Preannounce first, against the default refresh.
        let mut o = SocketOptions::live();
        o.set(SockOpt::KmPreAnnounce, Int(0x7F_FFFF)).unwrap();
        assert!(o.set(SockOpt::KmPreAnnounce, Int(0x80_0000)).is_err());
        // Refresh back to 0 with a preannounce set: the default refresh applies.
        o.set(SockOpt::KmRefreshRate, Int(0)).unwrap();
        assert_eq!(o.kmpreannounce, 0x7F_FFFF);
        assert_eq!(o.validate(), Ok(()));

        // Both 0 stays 0: runtime defaults 2^24 / 0x10000.
        let mut o = SocketOptions::live();
        o.set(SockOpt::KmRefreshRate, Int(0)).unwrap();
        assert_eq!((o.kmrefreshrate, o.kmpreannounce), (0, 0));

        // Directly written fields are caught by validate().
        let mut o = SocketOptions::live();
        o.kmrefreshrate = 100;
        o.kmpreannounce = 60;
        assert!(matches!(
            o.validate(),
            Err(OptionError::InvalidParam {
                opt: SockOpt::KmPreAnnounce,
                ..
            })
        ));
    }

    #[test]
    fn payload_size_with_filter_and_gcm() {
        let mut o = SocketOptions::live().payload_size(1456).unwrap();
        // A filter shrinks the payload size to fit its 4-byte header.
        o.set(SockOpt::PacketFilter, s("fec,cols:4")).unwrap();
        assert_eq!(o.payloadsize, 1452);
        assert!(o.set(SockOpt::PayloadSize, Int(1453)).is_err());
        o.set(SockOpt::PayloadSize, Int(1452)).unwrap();

        // AES-GCM: the 16-byte tag must fit.
        let mut o = SocketOptions::live()
            .crypto_mode(CryptoMode::AesGcm)
            .unwrap();
        assert!(o.set(SockOpt::PayloadSize, Int(1441)).is_err());
        o.set(SockOpt::PayloadSize, Int(1440)).unwrap();
        // GCM and TSBPD guard each other...
        assert!(o.set(SockOpt::TsbpdMode, Bool(false)).is_err());
        let mut f = SocketOptions::file();
        assert!(f.set(SockOpt::CryptoMode, Int(2)).is_err());
        // ...but SRTO_TRANSTYPE bypasses both, as in libsrt.
        o.set(SockOpt::TransType, Int(1)).unwrap();
        assert!(!o.tsbpdmode);
        assert_eq!(o.warnings(), vec![OptionWarning::GcmWithoutTsbpd]);
        let mut g = SocketOptions::live().payload_size(1456).unwrap();
        g.set(SockOpt::CryptoMode, Int(2)).unwrap();
        assert_eq!(g.warnings(), vec![OptionWarning::GcmPayloadTooLarge]);
    }

    #[test]
    fn packet_filter_syntax() {
        for good in [
            "fec",
            "fec,cols:10",
            "fec,cols:10,rows:5",
            "fec,cols:10,rows:-2,layout:even,arq:never",
            "fec,layout:staircase,arq:always,cols:2,rows:1",
            "fec,cols:",
            "fec,arq:onreq",
            "fec,cols:10abc", // atoi
        ] {
            let f = PacketFilterConfig::parse(good).unwrap_or_else(|e| panic!("{good}: {e}"));
            assert_eq!(f.as_str(), good);
        }
        for bad in [
            "",
            "FEC",
            "fec,",
            "fec,,cols:2",
            "fec,cols",
            "fec,cols:2:3",
            "fec,cols:1",
            "fec,cols:x",
            "fec,rows:0",
            "fec,rows:-1",
            "fec,layout:odd",
            "fec,arq:sometimes",
            "fec,cols:10,extra:1",
            "fec,cols:10,rows:10,layout:staircase,arq:onreq,cols:10,rows:100000",
        ] {
            assert!(PacketFilterConfig::parse(bad).is_err(), "{bad}");
        }
        assert!(PacketFilterConfig::parse([0xFFu8, 0xFE]).is_err());
        assert_eq!(c_atoi("  -12x"), -12);
        assert_eq!(c_atoi("+7"), 7);
        assert_eq!(c_atoi(""), 0);
    }

    #[test]
    fn linger_and_timeouts() {
        let mut o = SocketOptions::file();
        o.set(SockOpt::Linger, lin(false, 30)).unwrap();
        assert_eq!(o.linger, None);
        assert_eq!(o.get(SockOpt::Linger), Ok(lin(false, 0)));
        o.set(SockOpt::Linger, lin(true, -3)).unwrap();
        assert_eq!(o.linger, Some(Duration::ZERO));
        o.set(SockOpt::RcvTimeo, Int(-1)).unwrap();
        assert_eq!(o.rcvtimeo, None);
        o.set(SockOpt::SndDropDelay, Int(0)).unwrap();
        assert_eq!(o.snddropdelay, Some(Duration::ZERO));
        assert_eq!(o.effective_conn_timeout(), Duration::from_secs(3));
        o.rendezvous = true;
        assert_eq!(o.effective_conn_timeout(), Duration::from_secs(30));
    }

    #[test]
    fn latency_sets_both_and_reads_receive() {
        let mut o = SocketOptions::live();
        o.set(SockOpt::PeerLatency, Int(50)).unwrap();
        o.set(SockOpt::Latency, Int(200)).unwrap();
        assert_eq!(o.rcvlatency, Duration::from_millis(200));
        assert_eq!(o.peerlatency, Duration::from_millis(200));
        o.set(SockOpt::RcvLatency, Int(70)).unwrap();
        assert_eq!(o.get(SockOpt::Latency), Ok(Int(70)));
        assert_eq!(o.get(SockOpt::PeerLatency), Ok(Int(200)));
    }

    #[test]
    fn builder() {
        let o = SocketOptions::live()
            .latency(Duration::from_millis(250))
            .unwrap()
            .stream_id("#!::r=a")
            .unwrap()
            .passphrase("correct horse battery")
            .unwrap()
            .pbkeylen(24)
            .unwrap()
            .max_bw(0)
            .unwrap()
            .conn_timeout(Duration::from_secs(1))
            .unwrap()
            .linger(Some(Duration::from_millis(2500)))
            .message_api(true);
        assert_eq!(o.rcvlatency, Duration::from_millis(250));
        assert_eq!(o.peerlatency, Duration::from_millis(250));
        assert_eq!(o.streamid.as_str(), Some("#!::r=a"));
        assert_eq!(o.pbkeylen, 24);
        assert_eq!(o.linger, Some(Duration::from_secs(2)));
        assert_eq!(o.validate(), Ok(()));
        assert!(SocketOptions::live().stream_id([b'x'; 513]).is_err());
        assert!(SocketOptions::live().passphrase("too short").is_err());
        assert!(SocketOptions::live().pbkeylen(20).is_err());
        assert!(SocketOptions::live()
            .latency(Duration::from_secs(1 << 40))
            .is_err());
        assert!(SocketOptions::live().packet_filter("fec,cols:1").is_err());
        assert!(SocketOptions::live().mss(75).is_err());
        assert!(SocketOptions::live().fc(31).is_err());
        assert!(SocketOptions::live().km_preannounce(u32::MAX).is_err());
        assert!(SocketOptions::live().km_refresh_rate(1000).is_ok());
        assert_eq!(
            SocketOptions::live()
                .latency_ms(200)
                .unwrap()
                .get(SockOpt::Latency),
            Ok(Int(200))
        );
    }

    #[test]
    fn debug_hides_the_passphrase() {
        let o = SocketOptions::live().passphrase("super-secret-pw").unwrap();
        let dbg = format!("{o:?}");
        assert!(!dbg.contains("super-secret-pw"), "{dbg}");
        assert!(dbg.contains("<redacted>"));
        assert!(!format!("{:?}", o.passphrase).contains("secret"));
    }

    #[test]
    fn accepted_socket_inherits_all_but_stream_id() {
        let l = SocketOptions::live()
            .stream_id("x")
            .unwrap()
            .latency_ms(400)
            .unwrap();
        let a = l.for_accepted();
        assert!(a.streamid.is_empty());
        assert_eq!(a.rcvlatency, l.rcvlatency);
    }

    #[test]
    fn connect_listen_bind_checks() {
        use SocketPhase as P;
        let o = SocketOptions::live();
        assert_eq!(o.validate_for_connect(P::Fresh), Ok(()));
        assert_eq!(o.validate_for_connect(P::Bound), Ok(()));
        assert_eq!(
            o.validate_for_connect(P::Connected)
                .unwrap_err()
                .srt_errno(),
            5002
        );
        assert_eq!(
            o.validate_for_connect(P::Listening)
                .unwrap_err()
                .srt_errno(),
            5002
        );
        assert_eq!(
            o.validate_for_connect(P::Broken).unwrap_err().srt_errno(),
            1005
        );
        assert_eq!(
            o.validate_for_listen(P::Fresh).unwrap_err().srt_errno(),
            5005
        );
        assert_eq!(o.validate_for_listen(P::Bound), Ok(()));
        assert_eq!(o.validate_for_listen(P::Listening), Ok(()));
        assert_eq!(
            o.validate_for_listen(P::Connecting)
                .unwrap_err()
                .srt_errno(),
            5002
        );

        let r = SocketOptions::live().rendezvous(true);
        assert_eq!(
            r.validate_for_connect(P::Fresh).unwrap_err().srt_errno(),
            5008
        );
        assert_eq!(r.validate_for_connect(P::Bound), Ok(()));
        assert_eq!(
            r.validate_for_listen(P::Bound).unwrap_err().srt_errno(),
            5007
        );

        assert_eq!(o.validate_for_bind(true).unwrap_err().srt_errno(), 5003);
        assert_eq!(o.validate_for_bind(false), Ok(()));
        let mut v6 = o.clone();
        v6.set(SockOpt::Ipv6Only, Int(0)).unwrap();
        assert_eq!(v6.validate_for_bind(true), Ok(()));

        // Fields written by hand are re-checked.
        let mut bad = SocketOptions::live();
        bad.oheadbw = 0;
        assert_eq!(
            bad.validate_for_connect(P::Fresh).unwrap_err().srt_errno(),
            5003
        );
        let mut bad = SocketOptions::live();
        bad.payloadsize = 1500;
        assert!(bad.validate().is_err());
        let mut bad = SocketOptions::live();
        bad.fc = 10;
        assert!(bad.validate().is_err());
        let mut bad = SocketOptions::live();
        bad.mss = 70_000; // above the UDP send buffer
        assert!(bad.validate().is_err());
    }

    #[test]
    fn warnings_for_accepted_but_odd_combinations() {
        let o = SocketOptions::live().mss(1000).unwrap();
        assert_eq!(
            o.warnings(),
            vec![OptionWarning::PayloadExceedsMss {
                payloadsize: 1316,
                max: 956
            }]
        );
        let o = SocketOptions::live().message_api(false);
        assert_eq!(
            o.warnings(),
            vec![OptionWarning::LiveCongestionWithStreamApi]
        );
        let o = SocketOptions::live().latency_ms(70_000).unwrap();
        assert_eq!(o.warnings(), vec![OptionWarning::LatencyTruncated]);
        let mut o = SocketOptions::live();
        o.set(SockOpt::GroupMinStableTimeo, Int(3000)).unwrap();
        o.set(SockOpt::PeerIdleTimeo, Int(1000)).unwrap();
        assert_eq!(o.warnings(), vec![OptionWarning::GroupStableAboveIdle]);
    }

    #[test]
    fn c_bytes_round_trip() {
        for &opt in SockOpt::ALL {
            let Ok(v) = SocketOptions::file().get(opt) else {
                continue;
            };
            let bytes = v.to_c_bytes();
            let back = opt.decode_c(&bytes).unwrap();
            assert_eq!(back, v, "{opt}");
        }
        // libsrt takes an int for a bool, and reads any other size as false.
        assert_eq!(
            SockOpt::TsbpdMode.decode_c(&7i32.to_ne_bytes()),
            Ok(Bool(true))
        );
        assert_eq!(SockOpt::TsbpdMode.decode_c(&[1, 0]), Ok(Bool(false)));
        assert_eq!(
            SockOpt::Latency.decode_c(&[1, 0]).unwrap_err().srt_errno(),
            5003
        );
        assert!(SockOpt::MaxBw.decode_c(&5i32.to_ne_bytes()).is_err());
        assert!(SockOpt::Linger.decode_c(&[0; 4]).is_err());
    }

    #[test]
    fn errno_values_follow_srt_h() {
        // 1000 * MJ + MN (srt.h).
        assert_eq!(errno::SRT_EINVOP, 1000 * 5);
        assert_eq!(errno::SRT_EBOUNDSOCK, 1000 * 5 + 1);
        assert_eq!(errno::SRT_ECONNSOCK, 1000 * 5 + 2);
        assert_eq!(errno::SRT_EINVPARAM, 1000 * 5 + 3);
        assert_eq!(errno::SRT_EUNBOUNDSOCK, 1000 * 5 + 5);
        assert_eq!(errno::SRT_ERDVNOSERV, 1000 * 5 + 7);
        assert_eq!(errno::SRT_ERDVUNBOUND, 1000 * 5 + 8);
        assert_eq!(errno::SRT_ECONNLOST, 1000 * 2 + 1);
        assert_eq!(errno::SRT_ESCLOSED, 1000 + 5);
        assert_eq!(OptionError::RendezvousListen.srt_errno(), 5007);
        assert_eq!(OptionError::RuntimeState(SockOpt::Isn).srt_errno(), 5000);
        let e = OptionError::invalid(SockOpt::Fc, "x");
        assert_eq!(e.to_string(), "SRTO_FC: invalid value: x");
    }

    fn any_opt() -> impl Strategy<Value = SockOpt> {
        prop::sample::select(SockOpt::ALL.to_vec())
    }

    fn any_value() -> impl Strategy<Value = OptionValue> {
        prop_oneof![
            any::<bool>().prop_map(Bool),
            any::<i32>().prop_map(Int),
            (-3i32..2000).prop_map(Int),
            prop::sample::select(vec![
                0,
                1,
                2,
                16,
                24,
                32,
                59,
                60,
                75,
                76,
                1316,
                1440,
                1452,
                1456,
                1457,
                i32::MAX,
                i32::MIN,
                0x0100_0000,
                0x80_0000,
            ])
            .prop_map(Int),
            any::<i64>().prop_map(Int64),
            (-3i64..3).prop_map(Int64),
            prop::collection::vec(any::<u8>(), 0..600).prop_map(Str),
            prop::sample::select(vec![
                "live",
                "file",
                "vod",
                "fec",
                "fec,cols:10,rows:5",
                "fec,cols:2,arq:always,layout:even",
                "0123456789",
                "eth0",
            ])
            .prop_map(s),
            (any::<bool>(), any::<i32>()).prop_map(|(onoff, secs)| lin(onoff, secs)),
        ]
    }

    proptest! {
        #[test]
        fn set_never_panics_and_keeps_invariants(
            ops in prop::collection::vec((any_opt(), any_value()), 0..40)
        ) {
            let mut o = SocketOptions::live();
            for (opt, v) in ops {
                let before = o.clone();
                match o.set(opt, v.clone()) {
                    Ok(()) => {
                        // What was set reads back (where libsrt stores it as given).
                        if let (Ok(got), true) = (o.get(opt), reads_back_exactly(opt, &v)) {
                            prop_assert_eq!(got, v, "{}", opt);
                        }
                    }
                    Err(e) => {
                        prop_assert_eq!(&o, &before, "{} failed ({}) but changed the options", opt, e);
                        prop_assert!(e.srt_errno() == 5003);
                    }
                }
                prop_assert_eq!(o.validate(), Ok(()), "after {}", opt);
                for &g in SockOpt::ALL {
                    let _ = o.get(g);
                }
                let _ = o.warnings();
            }
        }

        #[test]
        fn decode_c_never_panics(opt in any_opt(), bytes in prop::collection::vec(any::<u8>(), 0..16)) {
            let _ = opt.decode_c(&bytes);
        }
    }

    /// Options whose getter returns exactly the int/bool/string that was set.
    fn reads_back_exactly(opt: SockOpt, v: &OptionValue) -> bool {
        use SockOpt as O;
        let plain = matches!(
            opt,
            O::Fc
                | O::SndTimeo
                | O::RcvTimeo
                | O::MaxBw
                | O::Latency
                | O::RcvLatency
                | O::PeerLatency
                | O::InputBw
                | O::MinInputBw
                | O::OheadBw
                | O::PbKeyLen
                | O::IpTtl
                | O::IpTos
                | O::SndDropDelay
                | O::ConnTimeo
                | O::LossMaxTtl
                | O::MinVersion
                | O::StreamId
                | O::PeerIdleTimeo
                | O::BindToDevice
                | O::GroupMinStableTimeo
                | O::PacketFilter
                | O::RetransmitAlgo
                | O::CryptoMode
                | O::MaxRexmitBw
                | O::Ipv6Only
        );
        let typed = match v {
            Int(_) => opt.opt_type() == OptType::Int32,
            Int64(_) => opt.opt_type() == OptType::Int64,
            Str(_) => opt.opt_type() == OptType::String,
            Bool(_) => opt.opt_type() == OptType::Bool,
            OptionValue::Linger { .. } => false,
        };
        (plain && typed) || (opt.opt_type() == OptType::Bool && matches!(v, Bool(_)))
    }
}
