//! The HANDSHAKE control packet (HSv4 and HSv5) and its extension blocks.

use super::km::{KeyMaterial, KmState, KM_MAX_LEN};
use super::{check_len, check_room, put_word, word, DecodeError, EncodeError};
use crate::seq::SeqNumber;
use core::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The handshake CIF length, the same for HSv4 and HSv5.
pub const HANDSHAKE_LEN: usize = 48;

/// The SRT magic that an HSv5 listener puts in the extension field of its
/// induction reply.
pub const HS_MAGIC: u16 = 0x4A17;

/// The longest stream ID libsrt accepts, in bytes.
pub const MAX_STREAM_ID_LEN: usize = 512;
/// The longest congestion controller name libsrt accepts, in bytes.
pub const MAX_CONGESTION_LEN: usize = 16;
/// The longest packet filter configuration libsrt accepts, in bytes.
pub const MAX_FILTER_LEN: usize = 64;

const EXT_HSREQ: u16 = 1;
const EXT_HSRSP: u16 = 2;
const EXT_KMREQ: u16 = 3;
const EXT_KMRSP: u16 = 4;
const EXT_SID: u16 = 5;
const EXT_CONGESTION: u16 = 6;
const EXT_FILTER: u16 = 7;
const EXT_GROUP: u16 = 8;

/// Why a connection was refused: libsrt's `SRT_REJECT_REASON`, the
/// access-control codes `SRT_REJX_*` (1000–1999) and user codes (≥ 2000).
///
/// On the wire a rejection is the handshake request type 1000 + code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RejectReason {
    /// `SRT_REJ_UNKNOWN` (0).
    Unknown,
    /// `SRT_REJ_SYSTEM` (1): a system function failed.
    System,
    /// `SRT_REJ_PEER` (2): the peer rejected.
    Peer,
    /// `SRT_REJ_RESOURCE` (3): out of resources.
    Resource,
    /// `SRT_REJ_ROGUE` (4): incorrect data in the handshake.
    Rogue,
    /// `SRT_REJ_BACKLOG` (5): the listener's backlog is full.
    Backlog,
    /// `SRT_REJ_IPE` (6): internal program error.
    Ipe,
    /// `SRT_REJ_CLOSE` (7): the socket is closing.
    Close,
    /// `SRT_REJ_VERSION` (8): the peer is older than `SRTO_MINVERSION`.
    Version,
    /// `SRT_REJ_RDVCOOKIE` (9): rendezvous cookie collision.
    RdvCookie,
    /// `SRT_REJ_BADSECRET` (10): wrong passphrase.
    BadSecret,
    /// `SRT_REJ_UNSECURE` (11): passphrase on one side only.
    Unsecure,
    /// `SRT_REJ_MESSAGEAPI` (12): `SRTO_MESSAGEAPI` differs.
    MessageApi,
    /// `SRT_REJ_CONGESTION` (13): `SRTO_CONGESTION` differs.
    Congestion,
    /// `SRT_REJ_FILTER` (14): `SRTO_PACKETFILTER` differs.
    Filter,
    /// `SRT_REJ_GROUP` (15): group settings incompatible.
    Group,
    /// `SRT_REJ_TIMEOUT` (16): connection timed out (local only).
    Timeout,
    /// `SRT_REJ_CRYPTO` (17): cipher modes differ.
    Crypto,
    /// A code between the last defined one and 999, which libsrt reads as
    /// `SRT_REJ_UNKNOWN`.
    Undefined(u32),
    /// An access-control code `SRT_REJX_*`, 1000–1999 (e.g. 1403 forbidden).
    Server(u32),
    /// An application-defined code, 2000 and above.
    User(u32),
}

impl RejectReason {
    /// The reason of libsrt code `code`.
    pub fn from_code(code: u32) -> Self {
        use RejectReason::*;
        match code {
            0 => Unknown,
            1 => System,
            2 => Peer,
            3 => Resource,
            4 => Rogue,
            5 => Backlog,
            6 => Ipe,
            7 => Close,
            8 => Version,
            9 => RdvCookie,
            10 => BadSecret,
            11 => Unsecure,
            12 => MessageApi,
            13 => Congestion,
            14 => Filter,
            15 => Group,
            16 => Timeout,
            17 => Crypto,
            18..=999 => Undefined(code),
            1000..=1999 => Server(code),
            _ => User(code),
        }
    }

    /// The libsrt code of this reason.
    pub fn code(self) -> u32 {
        use RejectReason::*;
        match self {
            Unknown => 0,
            System => 1,
            Peer => 2,
            Resource => 3,
            Rogue => 4,
            Backlog => 5,
            Ipe => 6,
            Close => 7,
            Version => 8,
            RdvCookie => 9,
            BadSecret => 10,
            Unsecure => 11,
            MessageApi => 12,
            Congestion => 13,
            Filter => 14,
            Group => 15,
            Timeout => 16,
            Crypto => 17,
            Undefined(c) | Server(c) | User(c) => c,
        }
    }
}

/// The handshake request type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HandshakeType {
    /// Rendezvous hello (0).
    WaveAHand,
    /// Caller–listener first phase (1).
    Induction,
    /// Second phase (−1).
    Conclusion,
    /// Rendezvous final message (−2).
    Agreement,
    /// libsrt's internal "done" state (−3), never sent by libsrt.
    Done,
    /// A refusal (1000 + reason code).
    Rejection(RejectReason),
}

impl HandshakeType {
    /// The type of wire value `value`.
    pub fn from_u32(value: u32) -> Result<Self, DecodeError> {
        Ok(match value {
            0 => HandshakeType::WaveAHand,
            1 => HandshakeType::Induction,
            0xFFFF_FFFF => HandshakeType::Conclusion,
            0xFFFF_FFFE => HandshakeType::Agreement,
            0xFFFF_FFFD => HandshakeType::Done,
            1000..=0xFFFF_FFFC => HandshakeType::Rejection(RejectReason::from_code(value - 1000)),
            other => return Err(DecodeError::UnknownHandshakeType(other)),
        })
    }

    /// The wire value, or `None` for a rejection code too large to carry.
    pub fn to_u32(self) -> Option<u32> {
        Some(match self {
            HandshakeType::WaveAHand => 0,
            HandshakeType::Induction => 1,
            HandshakeType::Conclusion => 0xFFFF_FFFF,
            HandshakeType::Agreement => 0xFFFF_FFFE,
            HandshakeType::Done => 0xFFFF_FFFD,
            HandshakeType::Rejection(r) => {
                r.code().checked_add(1000).filter(|v| *v <= 0xFFFF_FFFC)?
            }
        })
    }
}

/// The address field of a handshake: the recipient's IP as the sender sees
/// it, in libsrt's layout (each 4-byte group byte-reversed; IPv4 in the first
/// group, the rest zero).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct PeerAddress(pub [u8; 16]);

impl PeerAddress {
    /// The field for address `ip`.
    pub fn from_ip(ip: IpAddr) -> Self {
        let mut raw = [0u8; 16];
        match ip {
            IpAddr::V4(v4) => raw[..4].copy_from_slice(&v4.octets()),
            IpAddr::V6(v6) => raw.copy_from_slice(&v6.octets()),
        }
        for group in raw.chunks_exact_mut(4) {
            group.reverse();
        }
        PeerAddress(raw)
    }

    /// The address, IPv4 when the last 12 bytes are zero.
    pub fn to_ip(&self) -> IpAddr {
        let mut raw = self.0;
        for group in raw.chunks_exact_mut(4) {
            group.reverse();
        }
        if raw[4..].iter().all(|b| *b == 0) {
            IpAddr::V4(Ipv4Addr::new(raw[0], raw[1], raw[2], raw[3]))
        } else {
            IpAddr::V6(Ipv6Addr::from(raw))
        }
    }
}

impl fmt::Debug for PeerAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PeerAddress({})", self.to_ip())
    }
}

/// An SRT library version as carried in HSREQ/HSRSP: `major<<16 | minor<<8 | patch`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct SrtVersion(pub u32);

impl SrtVersion {
    /// The version `major.minor.patch`.
    pub const fn new(major: u8, minor: u8, patch: u8) -> Self {
        SrtVersion(((major as u32) << 16) | ((minor as u32) << 8) | patch as u32)
    }
}

impl fmt::Debug for SrtVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "SrtVersion({}.{}.{})",
            (self.0 >> 16) & 0xFF,
            (self.0 >> 8) & 0xFF,
            self.0 & 0xFF
        )
    }
}

/// The SRT flags of HSREQ/HSRSP (`SRT_OPT_*`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct SrtFlags(pub u32);

impl SrtFlags {
    /// `SRT_OPT_TSBPDSND`: the sender uses TSBPD.
    pub const TSBPD_SND: SrtFlags = SrtFlags(0x01);
    /// `SRT_OPT_TSBPDRCV`: the receiver uses TSBPD.
    pub const TSBPD_RCV: SrtFlags = SrtFlags(0x02);
    /// `SRT_OPT_HAICRYPT`: encryption capable (always set).
    pub const HAICRYPT: SrtFlags = SrtFlags(0x04);
    /// `SRT_OPT_TLPKTDROP`: too-late packet drop.
    pub const TLPKTDROP: SrtFlags = SrtFlags(0x08);
    /// `SRT_OPT_NAKREPORT`: periodic NAK reports.
    pub const NAKREPORT: SrtFlags = SrtFlags(0x10);
    /// `SRT_OPT_REXMITFLG`: the R bit is in use in data packets.
    pub const REXMITFLG: SrtFlags = SrtFlags(0x20);
    /// `SRT_OPT_STREAM`: stream (buffer) API rather than message API.
    pub const STREAM: SrtFlags = SrtFlags(0x40);
    /// `SRT_OPT_FILTERCAP`: packet filter capable.
    pub const FILTERCAP: SrtFlags = SrtFlags(0x80);

    /// Whether every flag of `other` is set.
    pub fn contains(self, other: SrtFlags) -> bool {
        self.0 & other.0 == other.0
    }
}

impl core::ops::BitOr for SrtFlags {
    type Output = SrtFlags;
    fn bitor(self, rhs: SrtFlags) -> SrtFlags {
        SrtFlags(self.0 | rhs.0)
    }
}

impl fmt::Debug for SrtFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SrtFlags({:#04x})", self.0)
    }
}

/// The HSREQ / HSRSP block: SRT version, flags and latencies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SrtHandshake {
    /// The sender's SRT library version.
    pub version: SrtVersion,
    /// The SRT capability flags.
    pub flags: SrtFlags,
    /// TSBPD latency of the receiving direction in ms (bits 31–16).
    pub recv_latency_ms: u16,
    /// TSBPD latency of the sending direction in ms (bits 15–0; the only one
    /// in HSv4).
    pub send_latency_ms: u16,
}

impl SrtHandshake {
    const LEN: usize = 12;

    fn decode(body: &[u8], kind: u16) -> Result<Self, DecodeError> {
        // libsrt requires 3 words and ignores any more (core.cpp:2688, 2714).
        if body.len() < Self::LEN {
            return Err(DecodeError::BadExtensionLength {
                kind,
                words: (body.len() / 4) as u16,
            });
        }
        let latency = word(body, 8);
        Ok(SrtHandshake {
            version: SrtVersion(word(body, 0)),
            flags: SrtFlags(word(body, 4)),
            recv_latency_ms: (latency >> 16) as u16,
            send_latency_ms: latency as u16,
        })
    }

    /// Decodes the body of an HSREQ/HSRSP (as a block or an EXT packet's CIF).
    pub fn decode_cif(body: &[u8]) -> Result<Self, DecodeError> {
        Self::decode(body, EXT_HSREQ)
    }

    /// Writes the 12-byte body.
    pub fn encode(&self, buf: &mut [u8]) -> Result<usize, EncodeError> {
        check_room(buf, Self::LEN)?;
        put_word(buf, 0, self.version.0);
        put_word(buf, 4, self.flags.0);
        put_word(
            buf,
            8,
            (u32::from(self.recv_latency_ms) << 16) | u32::from(self.send_latency_ms),
        );
        Ok(Self::LEN)
    }
}

/// The GROUP block: the sender's group, its type, flags and member weight.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct GroupBlock {
    /// The group ID (bit 30 set for a valid group).
    pub group_id: u32,
    /// The group type: 1 broadcast, 2 backup.
    pub group_type: u8,
    /// The group flags (0 in libsrt 1.5).
    pub flags: u8,
    /// The member's weight (backup priority).
    pub weight: u16,
}

/// A KMRSP block: either the key material echoed (success) or a key
/// material state (failure).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum KmResponse {
    /// The KMREQ's key material, echoed on success.
    Material(KeyMaterial),
    /// The responder's key material state, on failure.
    State(KmState),
}

impl KmResponse {
    /// Decodes a KMRSP body (a block or an EXT packet's CIF).
    ///
    /// ⚠ libsrt sends the one-word state in its host byte order, i.e.
    /// little-endian (BADSECRET is `04 00 00 00`, seen from libsrt 1.5.1):
    /// the whole KMRSP buffer is pre-swapped to cancel the packet's word
    /// swap, as for key material (core.cpp `sendSrtMsg`, crypto.cpp
    /// `processSrtMsg_KMRSP`). Big-endian is accepted too.
    pub fn decode(body: &[u8]) -> Result<Self, DecodeError> {
        if let Ok(bytes) = <[u8; 4]>::try_from(body) {
            KmState::from_u32(u32::from_le_bytes(bytes))
                .or_else(|_| KmState::from_u32(u32::from_be_bytes(bytes)))
                .map(KmResponse::State)
        } else {
            KeyMaterial::decode(body).map(KmResponse::Material)
        }
    }

    /// The encoded length in bytes.
    pub fn encoded_len(&self) -> usize {
        match self {
            KmResponse::Material(km) => km.encoded_len(),
            KmResponse::State(_) => 4,
        }
    }

    /// Writes the body.
    pub fn encode(&self, buf: &mut [u8]) -> Result<usize, EncodeError> {
        match self {
            KmResponse::Material(km) => km.encode(buf),
            KmResponse::State(state) => {
                check_room(buf, 4)?;
                // Little-endian, as libsrt (see `decode`).
                buf[..4].copy_from_slice(&(*state as u32).to_le_bytes());
                Ok(4)
            }
        }
    }
}

/// A stream ID (`SRTO_STREAMID`): opaque bytes, usually UTF-8, up to 512.
pub type StreamId = Vec<u8>;

/// One extension block of an HSv5 handshake.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HsExtension {
    /// HSREQ (type 1), sent by the initiator.
    HsReq(SrtHandshake),
    /// HSRSP (type 2), sent by the responder.
    HsRsp(SrtHandshake),
    /// KMREQ (type 3): the initiator's key material.
    KmReq(KeyMaterial),
    /// KMRSP (type 4): the responder's answer.
    KmRsp(KmResponse),
    /// SID (type 5): the stream ID, trailing NULs removed.
    StreamId(StreamId),
    /// CONGESTION (type 6): the congestion controller's name.
    Congestion(Vec<u8>),
    /// FILTER (type 7): the packet filter configuration.
    Filter(Vec<u8>),
    /// GROUP (type 8): socket group membership.
    Group(GroupBlock),
    /// A block type libsrt 1.5 does not define; skipped by libsrt.
    Unknown {
        /// The block type.
        kind: u16,
        /// The block body.
        body: Vec<u8>,
    },
}

impl HsExtension {
    /// The block type on the wire.
    pub fn kind(&self) -> u16 {
        match self {
            HsExtension::HsReq(_) => EXT_HSREQ,
            HsExtension::HsRsp(_) => EXT_HSRSP,
            HsExtension::KmReq(_) => EXT_KMREQ,
            HsExtension::KmRsp(_) => EXT_KMRSP,
            HsExtension::StreamId(_) => EXT_SID,
            HsExtension::Congestion(_) => EXT_CONGESTION,
            HsExtension::Filter(_) => EXT_FILTER,
            HsExtension::Group(_) => EXT_GROUP,
            HsExtension::Unknown { kind, .. } => *kind,
        }
    }

    fn decode(kind: u16, body: &[u8]) -> Result<Self, DecodeError> {
        let words = (body.len() / 4) as u16;
        let bad_len = DecodeError::BadExtensionLength { kind, words };
        Ok(match kind {
            EXT_HSREQ => HsExtension::HsReq(SrtHandshake::decode(body, kind)?),
            EXT_HSRSP => HsExtension::HsRsp(SrtHandshake::decode(body, kind)?),
            EXT_KMREQ => {
                // libsrt copies this into a 104-byte buffer unchecked; cap it.
                if body.len() > KM_MAX_LEN {
                    return Err(bad_len);
                }
                HsExtension::KmReq(KeyMaterial::decode(body)?)
            }
            EXT_KMRSP => HsExtension::KmRsp(KmResponse::decode(body)?),
            EXT_SID => HsExtension::StreamId(decode_string(body, MAX_STREAM_ID_LEN, bad_len)?),
            EXT_CONGESTION => {
                HsExtension::Congestion(decode_string(body, MAX_CONGESTION_LEN, bad_len)?)
            }
            EXT_FILTER => HsExtension::Filter(decode_string(body, MAX_FILTER_LEN, bad_len)?),
            EXT_GROUP => {
                // libsrt reads two words and ignores the rest (core.cpp:3081-3090).
                if body.len() < 8 {
                    return Err(bad_len);
                }
                let w1 = word(body, 4);
                HsExtension::Group(GroupBlock {
                    group_id: word(body, 0),
                    group_type: (w1 >> 24) as u8,
                    flags: (w1 >> 16) as u8,
                    weight: w1 as u16,
                })
            }
            _ => HsExtension::Unknown {
                kind,
                body: body.to_vec(),
            },
        })
    }

    /// The body length in bytes, a multiple of 4.
    fn body_len(&self) -> usize {
        match self {
            HsExtension::HsReq(_) | HsExtension::HsRsp(_) => SrtHandshake::LEN,
            HsExtension::KmReq(km) => km.encoded_len(),
            HsExtension::KmRsp(rsp) => rsp.encoded_len(),
            HsExtension::StreamId(s) | HsExtension::Congestion(s) | HsExtension::Filter(s) => {
                string_len(s)
            }
            HsExtension::Group(_) => 8,
            HsExtension::Unknown { body, .. } => body.len(),
        }
    }

    fn encode_body(&self, buf: &mut [u8]) -> Result<usize, EncodeError> {
        match self {
            HsExtension::HsReq(hs) | HsExtension::HsRsp(hs) => hs.encode(buf),
            HsExtension::KmReq(km) => km.encode(buf),
            HsExtension::KmRsp(rsp) => rsp.encode(buf),
            HsExtension::StreamId(s) => encode_string(s, MAX_STREAM_ID_LEN, "stream ID", buf),
            HsExtension::Congestion(s) => {
                encode_string(s, MAX_CONGESTION_LEN, "congestion name", buf)
            }
            HsExtension::Filter(s) => encode_string(s, MAX_FILTER_LEN, "filter config", buf),
            HsExtension::Group(g) => {
                check_room(buf, 8)?;
                put_word(buf, 0, g.group_id);
                let w1 = (u32::from(g.group_type) << 24)
                    | (u32::from(g.flags) << 16)
                    | u32::from(g.weight);
                put_word(buf, 4, w1);
                Ok(8)
            }
            HsExtension::Unknown { body, .. } => {
                if body.len() % 4 != 0 {
                    return Err(EncodeError::FieldTooLarge("unaligned extension body"));
                }
                check_room(buf, body.len())?;
                buf[..body.len()].copy_from_slice(body);
                Ok(body.len())
            }
        }
    }
}

/// The padded wire length of a string block (at least one word).
fn string_len(s: &[u8]) -> usize {
    s.len().div_ceil(4).max(1) * 4
}

/// Reads a string block: each 4-byte group reversed (libsrt's per-word byte
/// order), trailing NULs removed.
fn decode_string(body: &[u8], max: usize, bad_len: DecodeError) -> Result<Vec<u8>, DecodeError> {
    if body.is_empty() || body.len() > max {
        return Err(bad_len);
    }
    let mut out = Vec::with_capacity(body.len());
    for group in body.chunks_exact(4) {
        out.extend(group.iter().rev());
    }
    while out.last() == Some(&0) {
        out.pop();
    }
    Ok(out)
}

/// Writes a string block, zero-padded and with each 4-byte group reversed.
fn encode_string(
    s: &[u8],
    max: usize,
    what: &'static str,
    buf: &mut [u8],
) -> Result<usize, EncodeError> {
    if s.len() > max {
        return Err(EncodeError::FieldTooLarge(what));
    }
    let len = string_len(s);
    check_room(buf, len)?;
    let out = &mut buf[..len];
    out.fill(0);
    out[..s.len()].copy_from_slice(s);
    for group in out.chunks_exact_mut(4) {
        group.reverse();
    }
    Ok(len)
}

/// A HANDSHAKE control packet's CIF (HSv4 or HSv5).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Handshake {
    /// Handshake version: 4 (UDT/HSv4 and every caller's induction) or 5.
    pub version: u32,
    /// HSv5: the advertised key length ÷ 8 (0, 2, 3, 4). HSv4: the high half
    /// of the socket type (0).
    pub encryption_field: u16,
    /// HSv5: extension flags (HSREQ 1, KMREQ 2, CONFIG 4) or [`HS_MAGIC`]
    /// in an induction reply. HSv4: the socket type (2, datagram).
    pub extension_field: u16,
    /// The initial sequence number.
    pub isn: SeqNumber,
    /// The maximum segment size (1500 by default).
    pub mss: u32,
    /// The flow window in packets.
    pub flow_window: u32,
    /// The request type.
    pub req_type: HandshakeType,
    /// The sender's socket ID (echoed from the caller in an induction reply).
    pub socket_id: u32,
    /// The SYN cookie.
    pub syn_cookie: u32,
    /// The recipient's address as the sender sees it.
    pub peer_addr: PeerAddress,
    /// The extension blocks, in wire order.
    pub extensions: Vec<HsExtension>,
}

impl Handshake {
    /// The extension flag announcing an HSREQ/HSRSP block.
    pub const EXT_HSREQ: u16 = 0x1;
    /// The extension flag announcing a KMREQ/KMRSP block.
    pub const EXT_KMREQ: u16 = 0x2;
    /// The extension flag announcing SID, CONGESTION, FILTER or GROUP blocks.
    pub const EXT_CONFIG: u16 = 0x4;

    /// Decodes a handshake CIF with its extension blocks.
    pub fn decode(cif: &[u8]) -> Result<Self, DecodeError> {
        check_len("handshake", cif, HANDSHAKE_LEN)?;
        let isn = word(cif, 8);
        if isn & 0x8000_0000 != 0 {
            return Err(DecodeError::BadSequenceNumber {
                what: "handshake ISN",
                value: isn,
            });
        }
        let type_field = word(cif, 4);
        let mut peer = [0u8; 16];
        peer.copy_from_slice(&cif[32..48]);
        let extensions = Self::decode_extensions(&cif[HANDSHAKE_LEN..])?;
        Ok(Handshake {
            version: word(cif, 0),
            encryption_field: (type_field >> 16) as u16,
            extension_field: type_field as u16,
            isn: SeqNumber::new_truncate(isn),
            mss: word(cif, 12),
            flow_window: word(cif, 16),
            req_type: HandshakeType::from_u32(word(cif, 20))?,
            socket_id: word(cif, 24),
            syn_cookie: word(cif, 28),
            peer_addr: PeerAddress(peer),
            extensions,
        })
    }

    fn decode_extensions(mut rest: &[u8]) -> Result<Vec<HsExtension>, DecodeError> {
        if rest.len() % 4 != 0 {
            return Err(DecodeError::Unaligned {
                what: "handshake extensions",
                len: rest.len(),
            });
        }
        let mut out = Vec::new();
        while !rest.is_empty() {
            let header = word(rest, 0);
            let kind = (header >> 16) as u16;
            let words = header as u16;
            let len = usize::from(words) * 4;
            let Some(body) = rest.get(4..4 + len) else {
                return Err(DecodeError::ExtensionOverrun { kind, words });
            };
            let ext = HsExtension::decode(kind, body)?;
            let unique = matches!(kind, EXT_SID | EXT_CONGESTION | EXT_FILTER | EXT_GROUP);
            if unique && out.iter().any(|e: &HsExtension| e.kind() == kind) {
                return Err(DecodeError::DuplicateExtension(kind));
            }
            out.push(ext);
            rest = &rest[4 + len..];
        }
        Ok(out)
    }

    /// Whether libsrt would accept these fields in a non-induction handshake
    /// (`CHandShake::valid`: version ≥ 4, MSS ≥ 32, flow window ≥ 2).
    pub fn is_valid(&self) -> bool {
        self.version >= 4 && self.mss >= 32 && self.flow_window >= 2
    }

    /// The first HSREQ or HSRSP block.
    pub fn srt_handshake(&self) -> Option<&SrtHandshake> {
        self.extensions.iter().find_map(|e| match e {
            HsExtension::HsReq(hs) | HsExtension::HsRsp(hs) => Some(hs),
            _ => None,
        })
    }

    /// The stream ID, if an SID block is present.
    pub fn stream_id(&self) -> Option<&[u8]> {
        self.extensions.iter().find_map(|e| match e {
            HsExtension::StreamId(s) => Some(s.as_slice()),
            _ => None,
        })
    }

    /// The encoded CIF length: 48 bytes plus the extension blocks.
    pub fn encoded_len(&self) -> usize {
        HANDSHAKE_LEN
            + self
                .extensions
                .iter()
                .map(|e| 4 + e.body_len())
                .sum::<usize>()
    }

    /// Writes the CIF to the start of `buf`.
    pub fn encode(&self, buf: &mut [u8]) -> Result<usize, EncodeError> {
        let len = self.encoded_len();
        check_room(buf, len)?;
        let req_type = self
            .req_type
            .to_u32()
            .ok_or(EncodeError::FieldTooLarge("rejection reason"))?;
        put_word(buf, 0, self.version);
        put_word(
            buf,
            4,
            (u32::from(self.encryption_field) << 16) | u32::from(self.extension_field),
        );
        put_word(buf, 8, self.isn.as_u32());
        put_word(buf, 12, self.mss);
        put_word(buf, 16, self.flow_window);
        put_word(buf, 20, req_type);
        put_word(buf, 24, self.socket_id);
        put_word(buf, 28, self.syn_cookie);
        buf[32..48].copy_from_slice(&self.peer_addr.0);
        let mut at = HANDSHAKE_LEN;
        for ext in &self.extensions {
            let n = ext.encode_body(&mut buf[at + 4..len])?;
            let words =
                u16::try_from(n / 4).map_err(|_| EncodeError::FieldTooLarge("extension"))?;
            put_word(buf, at, (u32::from(ext.kind()) << 16) | u32::from(words));
            at += 4 + n;
        }
        Ok(at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_blocks_are_word_reversed() {
        let mut buf = [0u8; 16];
        let n = encode_string(b"#!::r=abcde", 512, "sid", &mut buf).unwrap();
        assert_eq!(n, 12);
        assert_eq!(&buf[..8], &[0x3a, 0x3a, 0x21, 0x23, 0x62, 0x61, 0x3d, 0x72]);
        assert_eq!(&buf[8..12], &[0, 0x65, 0x64, 0x63]);
        let bad = DecodeError::BadExtensionLength { kind: 5, words: 3 };
        assert_eq!(decode_string(&buf[..n], 512, bad).unwrap(), b"#!::r=abcde");
        encode_string(b"file", 16, "cc", &mut buf).unwrap();
        assert_eq!(&buf[..4], &[0x65, 0x6c, 0x69, 0x66]);
    }

    #[test]
    fn peer_address_layout() {
        let a = PeerAddress::from_ip("127.0.0.1".parse().unwrap());
        assert_eq!(&a.0[..4], &[1, 0, 0, 0x7f]);
        assert!(a.0[4..].iter().all(|b| *b == 0));
        assert_eq!(a.to_ip().to_string(), "127.0.0.1");
        let v6: IpAddr = "::1".parse().unwrap();
        assert_eq!(PeerAddress::from_ip(v6).to_ip(), v6);
    }

    #[test]
    fn rejection_codes() {
        let t = HandshakeType::from_u32(1011).unwrap();
        assert_eq!(t, HandshakeType::Rejection(RejectReason::Unsecure));
        assert_eq!(t.to_u32(), Some(1011));
        assert_eq!(
            HandshakeType::from_u32(2403).unwrap(),
            HandshakeType::Rejection(RejectReason::Server(1403))
        );
        assert!(HandshakeType::from_u32(2).is_err());
        assert!(HandshakeType::from_u32(999).is_err());
        assert_eq!(
            HandshakeType::Rejection(RejectReason::User(u32::MAX)).to_u32(),
            None
        );
    }
}
