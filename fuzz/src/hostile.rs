//! Hostile packets described structurally (`arbitrary`) and built with
//! srt-proto's encoders, their numbers relative to the live state of the
//! connection they are aimed at, so that they land near what the engine
//! expects instead of being dropped at the first check.

use crate::harness::Seen;
use arbitrary::Arbitrary;
use arrayvec::ArrayVec;
use srt_proto::packet::{
    Ack, AckInfo, Cipher, ControlBody, ControlPacket, DataKeyFlags, DataPacket, Handshake,
    HandshakeType, HsExtension, KeyMaterial, KmKeys, KmResponse, KmState, LossList, Packet,
    PacketPosition, PeerAddress, SocketId, SrtFlags, SrtHandshake, SrtVersion,
};
use srt_proto::seq::{MsgNumber, SeqNumber, SeqRange, Timestamp};

/// A signed offset from a live value: mostly small, sometimes anything.
#[derive(Arbitrary, Clone, Copy, Debug)]
pub enum Rel {
    /// −128 ..= 127.
    Near(i8),
    /// −32768 ..= 32767.
    Mid(i16),
    /// Any 32-bit offset.
    Far(i32),
}

impl Rel {
    /// The offset.
    pub fn get(self) -> i32 {
        match self {
            Rel::Near(v) => i32::from(v),
            Rel::Mid(v) => i32::from(v),
            Rel::Far(v) => v,
        }
    }

    /// The offset as an unsigned length (absolute value).
    pub fn magnitude(self) -> u32 {
        self.get().unsigned_abs()
    }
}

/// The statistics of an injected ACK.
#[derive(Arbitrary, Clone, Copy, Debug)]
pub enum AckKind {
    /// Light.
    Light,
    /// Small, with these fields.
    Small(u32, u32, u32),
    /// Full, with these fields.
    Full([u32; 6]),
}

/// Key material, with fields that may or may not make sense.
#[derive(Arbitrary, Clone, Debug)]
pub struct Km {
    keys: u8,
    gcm: bool,
    keki: u32,
    salt_words: u8,
    salt: [u8; 16],
    key_len: u8,
    wrapped: Vec<u8>,
}

impl Km {
    /// The KM message (its encoder may still refuse it).
    pub fn material(&self) -> KeyMaterial {
        let keys = match self.keys % 3 {
            0 => KmKeys::Even,
            1 => KmKeys::Odd,
            _ => KmKeys::Both,
        };
        let key_len = match self.key_len % 4 {
            0 => 16,
            1 => 24,
            2 => 32,
            _ => self.key_len,
        };
        let salt_len = 4 * usize::from(self.salt_words % 5);
        KeyMaterial {
            keys,
            keki: self.keki,
            cipher: if self.gcm {
                Cipher::AesGcm
            } else {
                Cipher::AesCtr
            },
            salt: self.salt[..salt_len].iter().copied().collect(),
            key_len,
            wrapped_keys: self.wrapped.iter().copied().take(72).collect(),
        }
    }
}

/// An extension block added to a handshake.
#[derive(Arbitrary, Clone, Debug)]
pub enum Extension {
    /// HSREQ.
    HsReq(u32, u32, u16, u16),
    /// HSRSP.
    HsRsp(u32, u32, u16, u16),
    /// KMREQ.
    KmReq(Km),
    /// KMRSP with material.
    KmRsp(Km),
    /// KMRSP with a state.
    KmState(u8),
    /// Stream ID.
    StreamId(Vec<u8>),
    /// Congestion controller name.
    Congestion(Vec<u8>),
    /// Packet filter.
    Filter(Vec<u8>),
    /// Unknown kind.
    Unknown(u16, Vec<u8>),
}

impl Extension {
    fn build(&self) -> HsExtension {
        let srt = |v: u32, f: u32, r: u16, s: u16| SrtHandshake {
            version: SrtVersion(v),
            flags: SrtFlags(f),
            recv_latency_ms: r,
            send_latency_ms: s,
        };
        match self {
            Extension::HsReq(v, f, r, s) => HsExtension::HsReq(srt(*v, *f, *r, *s)),
            Extension::HsRsp(v, f, r, s) => HsExtension::HsRsp(srt(*v, *f, *r, *s)),
            Extension::KmReq(km) => HsExtension::KmReq(km.material()),
            Extension::KmRsp(km) => HsExtension::KmRsp(KmResponse::Material(km.material())),
            Extension::KmState(s) => HsExtension::KmRsp(KmResponse::State(km_state(*s))),
            Extension::StreamId(b) => HsExtension::StreamId(b.iter().copied().take(600).collect()),
            Extension::Congestion(b) => {
                HsExtension::Congestion(b.iter().copied().take(600).collect())
            }
            Extension::Filter(b) => HsExtension::Filter(b.iter().copied().take(600).collect()),
            Extension::Unknown(kind, b) => HsExtension::Unknown {
                kind: *kind,
                body: b.iter().copied().take(600).collect(),
            },
        }
    }
}

fn km_state(s: u8) -> KmState {
    match s % 6 {
        0 => KmState::Unsecured,
        1 => KmState::Securing,
        2 => KmState::Secured,
        3 => KmState::NoSecret,
        4 => KmState::BadSecret,
        _ => KmState::BadCryptoMode,
    }
}

/// Changes to a handshake's fields and extensions.
#[derive(Arbitrary, Clone, Debug)]
pub struct HsMutation {
    version: Option<u32>,
    encryption_field: Option<u16>,
    extension_field: Option<u16>,
    isn: Option<Rel>,
    mss: Option<u32>,
    flow_window: Option<u32>,
    req_type: Option<u32>,
    socket_id: Option<u32>,
    syn_cookie: Option<u32>,
    peer_addr: Option<[u8; 16]>,
    drop_extension: Option<u8>,
    duplicate_extension: Option<u8>,
    add_extension: Option<Extension>,
}

impl HsMutation {
    /// Applies the changes to `hs`.
    pub fn apply(&self, hs: &mut Handshake) {
        if let Some(v) = self.version {
            hs.version = v;
        }
        if let Some(v) = self.encryption_field {
            hs.encryption_field = v;
        }
        if let Some(v) = self.extension_field {
            hs.extension_field = v;
        }
        if let Some(v) = self.isn {
            hs.isn = hs.isn + v.get();
        }
        if let Some(v) = self.mss {
            hs.mss = v;
        }
        if let Some(v) = self.flow_window {
            hs.flow_window = v;
        }
        if let Some(t) = self.req_type.and_then(|v| HandshakeType::from_u32(v).ok()) {
            hs.req_type = t;
        }
        if let Some(v) = self.socket_id {
            hs.socket_id = v;
        }
        if let Some(v) = self.syn_cookie {
            hs.syn_cookie = v;
        }
        if let Some(v) = self.peer_addr {
            hs.peer_addr = PeerAddress(v);
        }
        if let Some(i) = self.drop_extension {
            if !hs.extensions.is_empty() {
                hs.extensions.remove(usize::from(i) % hs.extensions.len());
            }
        }
        if let Some(i) = self.duplicate_extension {
            if !hs.extensions.is_empty() {
                let e = hs.extensions[usize::from(i) % hs.extensions.len()].clone();
                hs.extensions.push(e);
            }
        }
        if let Some(e) = &self.add_extension {
            hs.extensions.push(e.build());
        }
    }
}

/// One hostile packet aimed at a socket.
#[derive(Arbitrary, Clone, Debug)]
pub enum Hostile {
    /// Arbitrary bytes.
    Raw(Vec<u8>),
    /// Arbitrary bytes with the target's socket ID in the header.
    RawToSocket(Vec<u8>),
    /// KEEPALIVE.
    KeepAlive,
    /// ACK of the target's own data.
    Ack {
        /// ACK number, from the last the target acknowledged.
        number: Rel,
        /// Acknowledged sequence, from the target's last data packet.
        seq: Rel,
        /// Statistics.
        info: AckKind,
    },
    /// NAK of the target's own data: (first, length) per range.
    Nak(Vec<(Rel, Rel)>),
    /// ACKACK of the target's own ACK number.
    AckAck(Rel),
    /// DROPREQ for the peer's data the target receives.
    DropReq {
        /// Message number offset.
        msg: Rel,
        /// First sequence offset.
        first: Rel,
        /// Range length.
        len: Rel,
    },
    /// A data packet in the target's receive stream.
    Data {
        /// Sequence offset.
        seq: Rel,
        /// Message number offset.
        msg: Rel,
        /// Timestamp offset, µs.
        ts: Rel,
        /// Boundary bits.
        position: u8,
        /// In-order flag.
        in_order: bool,
        /// Key flags (0..3).
        key: u8,
        /// Retransmitted flag.
        rexmit: bool,
        /// Payload.
        payload: Vec<u8>,
    },
    /// Congestion warning.
    CongestionWarning,
    /// PEERERROR.
    PeerError(u32),
    /// In-band KMREQ.
    KmReq(Km),
    /// In-band KMRSP with material.
    KmRsp(Km),
    /// In-band KMRSP with a state.
    KmRspState(u8),
    /// HSv4 in-band HSREQ / HSRSP.
    ExtHs(bool, u32, u32, u16, u16),
    /// A handshake to the target's socket, from scratch.
    Handshake(u32, HsMutation),
    /// An unknown control type.
    Other(u16, u16, u32, Vec<u8>),
}

/// Where a hostile packet is aimed: the target's state as seen on the wire.
#[derive(Clone, Copy, Debug)]
pub struct Aim {
    /// What the target itself sent (its data, its ACKs).
    pub target: Seen,
    /// What the target's peer sent (the data the target receives).
    pub peer: Seen,
}

impl Aim {
    fn dest(&self) -> SocketId {
        self.peer.dest.unwrap_or(SocketId(0))
    }

    fn ts(&self) -> Timestamp {
        self.peer.ts.unwrap_or(Timestamp::from_u32(0))
    }

    /// The target's own last data sequence (what an ACK or NAK refers to).
    fn own_seq(&self) -> SeqNumber {
        self.target.data_seq.or(self.target.isn).unwrap_or_default()
    }

    /// The last sequence the target received from its peer.
    fn peer_seq(&self) -> SeqNumber {
        self.peer.data_seq.or(self.peer.isn).unwrap_or_default()
    }
}

impl Hostile {
    /// Whether delivering `bytes` (a packet aimed at `aim`) may
    /// legitimately end the connection or stop delivery for longer than
    /// the honest phase (the flow check is then skipped; every other check
    /// still holds): a SHUTDOWN from the peer's address is
    /// indistinguishable from the peer's own, and in live mode a data
    /// packet whose timestamp lies more than a second from the stream's
    /// holds TSBPD delivery until its time (libsrt does the same). A
    /// DROPREQ that reaches past the last sequence the peer sent makes the
    /// receiver skip data not sent yet and acknowledge past what the
    /// sender sent: libsrt's sender breaks the connection on such an ACK
    /// (`processCtrlAck`: "attack or bug"); an honest sender only drops
    /// what it sent, but the receiver cannot tell a lost packet from one
    /// never sent.
    pub fn may_disrupt(bytes: &[u8], live: bool, aim: &Aim) -> bool {
        match Packet::decode(bytes) {
            Ok(Packet::Control(c)) => match c.body {
                ControlBody::Shutdown => true,
                ControlBody::DropRequest { last, .. } => last.offset_from(aim.peer_seq()) > 0,
                _ => false,
            },
            Ok(Packet::Data(d)) => {
                live && d.timestamp.offset_from(aim.ts()).unsigned_abs() > 1_000_000
            }
            Err(_) => false,
        }
    }

    /// Encodes the packet aimed at `aim` into `out`; `None` if the
    /// description does not encode.
    pub fn build(&self, aim: &Aim, out: &mut [u8]) -> Option<usize> {
        let dest = aim.dest();
        let ts = aim.ts();
        let control = |body: ControlBody<'_>, out: &mut [u8]| {
            Packet::Control(ControlPacket {
                timestamp: ts,
                dest_socket: dest,
                body,
            })
            .encode(out)
            .ok()
        };
        match self {
            Hostile::Raw(b) => {
                let n = b.len().min(out.len());
                out[..n].copy_from_slice(&b[..n]);
                Some(n)
            }
            Hostile::RawToSocket(b) => {
                let n = b.len().min(out.len()).max(16);
                out[..n].fill(0);
                let m = b.len().min(n);
                out[..m].copy_from_slice(&b[..m]);
                out[12..16].copy_from_slice(&dest.0.to_be_bytes());
                Some(n)
            }
            Hostile::KeepAlive => control(ControlBody::KeepAlive, out),
            Hostile::Ack { number, seq, info } => {
                let info = match *info {
                    AckKind::Light => AckInfo::Light,
                    AckKind::Small(rtt, rtt_var, buffer_available) => AckInfo::Small {
                        rtt,
                        rtt_var,
                        buffer_available,
                    },
                    AckKind::Full([a, b, c, d, e, f]) => AckInfo::Full {
                        rtt: a,
                        rtt_var: b,
                        buffer_available: c,
                        packet_recv_rate: d,
                        link_capacity: e,
                        recv_rate: f,
                    },
                };
                let base = aim.peer.ack_number.unwrap_or(1);
                let ack = Ack {
                    ack_number: base.wrapping_add(number.get() as u32),
                    ack_seq: aim.own_seq() + seq.get(),
                    info,
                };
                control(ControlBody::Ack(ack), out)
            }
            Hostile::Nak(ranges) => {
                let base = aim.own_seq();
                let ranges: ArrayVec<SeqRange, 64> = ranges
                    .iter()
                    .take(64)
                    .map(|(first, len)| {
                        let first = base + first.get();
                        let last = first + (len.magnitude() & 0x3FFF_FFFF) as i32;
                        SeqRange { first, last }
                    })
                    .collect();
                let mut scratch = [0u8; 512];
                let list = LossList::encode_ranges(&ranges, &mut scratch).ok()?;
                control(ControlBody::LossReport(list), out)
            }
            Hostile::AckAck(number) => {
                let base = aim.target.ack_number.unwrap_or(1);
                control(
                    ControlBody::AckAck {
                        ack_number: base.wrapping_add(number.get() as u32),
                    },
                    out,
                )
            }
            Hostile::DropReq { msg, first, len } => {
                let first = aim.peer_seq() + first.get();
                let msg_base = aim.peer.msg.unwrap_or(MsgNumber::new_truncate(1));
                control(
                    ControlBody::DropRequest {
                        msg_number: msg_base + msg.get(),
                        first,
                        last: first + (len.magnitude() & 0x3FFF_FFFF) as i32,
                    },
                    out,
                )
            }
            Hostile::Data {
                seq,
                msg,
                ts: dt,
                position,
                in_order,
                key,
                rexmit,
                payload,
            } => {
                let msg_base = aim.peer.msg.unwrap_or(MsgNumber::new_truncate(1));
                let packet = DataPacket {
                    seq: aim.peer_seq() + seq.get(),
                    position: match position % 4 {
                        0 => PacketPosition::Middle,
                        1 => PacketPosition::Last,
                        2 => PacketPosition::First,
                        _ => PacketPosition::Solo,
                    },
                    in_order: *in_order,
                    key: match key % 3 {
                        0 => DataKeyFlags::Clear,
                        1 => DataKeyFlags::Even,
                        _ => DataKeyFlags::Odd,
                    },
                    retransmitted: *rexmit,
                    msg_number: msg_base + msg.get(),
                    timestamp: ts.add_micros(dt.get()),
                    dest_socket: dest,
                    payload: &payload[..payload.len().min(1456)],
                };
                Packet::Data(packet).encode(out).ok()
            }
            Hostile::CongestionWarning => control(ControlBody::CongestionWarning, out),
            Hostile::PeerError(code) => control(ControlBody::PeerError { code: *code }, out),
            Hostile::KmReq(km) => control(ControlBody::ExtKmReq(km.material()), out),
            Hostile::KmRsp(km) => control(
                ControlBody::ExtKmRsp(KmResponse::Material(km.material())),
                out,
            ),
            Hostile::KmRspState(s) => {
                control(ControlBody::ExtKmRsp(KmResponse::State(km_state(*s))), out)
            }
            Hostile::ExtHs(rsp, v, f, r, s) => {
                let hs = SrtHandshake {
                    version: SrtVersion(*v),
                    flags: SrtFlags(*f),
                    recv_latency_ms: *r,
                    send_latency_ms: *s,
                };
                let body = if *rsp {
                    ControlBody::ExtHsRsp(hs)
                } else {
                    ControlBody::ExtHsReq(hs)
                };
                control(body, out)
            }
            Hostile::Handshake(req_type, m) => {
                let mut hs = Handshake {
                    version: 5,
                    encryption_field: 0,
                    extension_field: 0,
                    isn: aim.peer_seq(),
                    mss: 1500,
                    flow_window: 8192,
                    req_type: HandshakeType::from_u32(*req_type)
                        .unwrap_or(HandshakeType::Conclusion),
                    socket_id: aim.peer.own.map_or(1, |s| s.0),
                    syn_cookie: 0,
                    peer_addr: PeerAddress([0; 16]),
                    extensions: Vec::new(),
                };
                m.apply(&mut hs);
                control(ControlBody::Handshake(hs), out)
            }
            Hostile::Other(t, sub, info, cif) => control(
                ControlBody::Other {
                    control_type: *t,
                    subtype: *sub,
                    type_info: *info,
                    cif: &cif[..cif.len().min(1400) & !3],
                },
                out,
            ),
        }
    }
}
