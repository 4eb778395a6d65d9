//! Proptest strategies for every packet type, and the round-trip properties.

use super::*;
use crate::seq::{MsgNumber, SeqNumber, SeqRange};
use arrayvec::ArrayVec;
use proptest::collection::vec;
use proptest::prelude::*;

pub(crate) fn seq() -> impl Strategy<Value = SeqNumber> {
    (0u32..=0x7FFF_FFFF).prop_map(SeqNumber::new_truncate)
}

fn msg() -> impl Strategy<Value = MsgNumber> {
    (0u32..=0x03FF_FFFF).prop_map(MsgNumber::new_truncate)
}

fn position() -> impl Strategy<Value = PacketPosition> {
    prop_oneof![
        Just(PacketPosition::First),
        Just(PacketPosition::Middle),
        Just(PacketPosition::Last),
        Just(PacketPosition::Solo),
    ]
}

fn data_key() -> impl Strategy<Value = DataKeyFlags> {
    prop_oneof![
        Just(DataKeyFlags::Clear),
        Just(DataKeyFlags::Even),
        Just(DataKeyFlags::Odd),
    ]
}

fn key_material() -> impl Strategy<Value = KeyMaterial> {
    (
        prop_oneof![Just(KmKeys::Even), Just(KmKeys::Odd), Just(KmKeys::Both)],
        any::<u32>(),
        prop_oneof![Just(Cipher::AesCtr), Just(Cipher::AesGcm)],
        0usize..=4,
        prop_oneof![Just(16u8), Just(24u8), Just(32u8)],
        any::<[u8; 72]>(),
        any::<[u8; 16]>(),
    )
        .prop_map(|(keys, keki, cipher, salt_words, key_len, wrap, salt)| {
            let wrap_len = 8 + keys.count() * usize::from(key_len);
            KeyMaterial {
                keys,
                keki,
                cipher,
                salt: salt[..salt_words * 4].iter().copied().collect(),
                key_len,
                wrapped_keys: wrap[..wrap_len]
                    .iter()
                    .copied()
                    .collect::<ArrayVec<_, 72>>(),
            }
        })
}

fn km_state() -> impl Strategy<Value = KmState> {
    (0u32..=5).prop_map(|v| KmState::from_u32(v).unwrap())
}

fn km_response() -> impl Strategy<Value = KmResponse> {
    prop_oneof![
        key_material().prop_map(KmResponse::Material),
        km_state().prop_map(KmResponse::State),
    ]
}

fn srt_handshake() -> impl Strategy<Value = SrtHandshake> {
    (any::<u32>(), any::<u32>(), any::<u16>(), any::<u16>()).prop_map(|(v, f, r, s)| SrtHandshake {
        version: SrtVersion(v),
        flags: SrtFlags(f),
        recv_latency_ms: r,
        send_latency_ms: s,
    })
}

/// A string without trailing NULs (the decoder strips them).
fn wire_string(max: usize) -> impl Strategy<Value = Vec<u8>> {
    vec(any::<u8>(), 0..=max).prop_map(|mut s| {
        while s.last() == Some(&0) {
            s.pop();
        }
        s
    })
}

fn reject_reason() -> impl Strategy<Value = RejectReason> {
    (0u32..=0xFFFF_FFFC - 1000).prop_map(RejectReason::from_code)
}

fn handshake_type() -> impl Strategy<Value = HandshakeType> {
    prop_oneof![
        Just(HandshakeType::WaveAHand),
        Just(HandshakeType::Induction),
        Just(HandshakeType::Conclusion),
        Just(HandshakeType::Agreement),
        Just(HandshakeType::Done),
        reject_reason().prop_map(HandshakeType::Rejection),
    ]
}

fn extensions() -> impl Strategy<Value = Vec<HsExtension>> {
    (
        proptest::option::of(srt_handshake()),
        proptest::option::of(srt_handshake()),
        proptest::option::of(wire_string(MAX_STREAM_ID_LEN)),
        proptest::option::of(wire_string(MAX_CONGESTION_LEN)),
        proptest::option::of(wire_string(MAX_FILTER_LEN)),
        proptest::option::of((any::<u32>(), any::<u8>(), any::<u8>(), any::<u16>())),
        proptest::option::of(key_material()),
        proptest::option::of(km_response()),
        proptest::option::of((9u16.., vec(any::<u32>(), 0..8))),
    )
        .prop_map(
            |(req, rsp, sid, cc, filter, group, kmreq, kmrsp, unknown)| {
                let mut out = Vec::new();
                out.extend(req.map(HsExtension::HsReq));
                out.extend(rsp.map(HsExtension::HsRsp));
                out.extend(sid.map(HsExtension::StreamId));
                out.extend(cc.map(HsExtension::Congestion));
                out.extend(filter.map(HsExtension::Filter));
                out.extend(group.map(|(group_id, group_type, flags, weight)| {
                    HsExtension::Group(GroupBlock {
                        group_id,
                        group_type,
                        flags,
                        weight,
                    })
                }));
                out.extend(kmreq.map(HsExtension::KmReq));
                out.extend(kmrsp.map(HsExtension::KmRsp));
                out.extend(unknown.map(|(kind, words)| HsExtension::Unknown {
                    kind,
                    body: words.iter().flat_map(|w| w.to_be_bytes()).collect(),
                }));
                out
            },
        )
}

pub(crate) fn handshake() -> impl Strategy<Value = Handshake> {
    (
        any::<u32>(),
        any::<u16>(),
        any::<u16>(),
        seq(),
        any::<u32>(),
        any::<u32>(),
        handshake_type(),
        any::<u32>(),
        any::<u32>(),
        any::<[u8; 16]>(),
        extensions(),
    )
        .prop_map(
            |(version, enc, ext, isn, mss, fw, req, id, cookie, peer, extensions)| Handshake {
                version,
                encryption_field: enc,
                extension_field: ext,
                isn,
                mss,
                flow_window: fw,
                req_type: req,
                socket_id: id,
                syn_cookie: cookie,
                peer_addr: PeerAddress(peer),
                extensions,
            },
        )
}

fn ack() -> impl Strategy<Value = Ack> {
    let info = prop_oneof![
        Just(AckInfo::Light),
        (any::<u32>(), any::<u32>(), any::<u32>()).prop_map(|(rtt, rtt_var, b)| AckInfo::Small {
            rtt,
            rtt_var,
            buffer_available: b
        }),
        any::<[u32; 6]>().prop_map(|w| AckInfo::Full {
            rtt: w[0],
            rtt_var: w[1],
            buffer_available: w[2],
            packet_recv_rate: w[3],
            link_capacity: w[4],
            recv_rate: w[5],
        }),
    ];
    (any::<u32>(), seq(), info).prop_map(|(ack_number, ack_seq, info)| Ack {
        ack_number,
        ack_seq,
        info,
    })
}

pub(crate) fn seq_ranges() -> impl Strategy<Value = Vec<SeqRange>> {
    vec(
        (seq(), 0i32..100_000).prop_map(|(first, extra)| SeqRange {
            first,
            last: first + extra,
        }),
        1..50,
    )
}

/// A control body that borrows nothing.
fn owned_control_body() -> impl Strategy<Value = ControlBody<'static>> {
    prop_oneof![
        handshake().prop_map(ControlBody::Handshake),
        Just(ControlBody::KeepAlive),
        ack().prop_map(ControlBody::Ack),
        Just(ControlBody::CongestionWarning),
        Just(ControlBody::Shutdown),
        any::<u32>().prop_map(|ack_number| ControlBody::AckAck { ack_number }),
        (msg(), seq(), seq()).prop_map(|(msg_number, first, last)| ControlBody::DropRequest {
            msg_number,
            first,
            last
        }),
        any::<u32>().prop_map(|code| ControlBody::PeerError { code }),
        srt_handshake().prop_map(ControlBody::ExtHsReq),
        srt_handshake().prop_map(ControlBody::ExtHsRsp),
        key_material().prop_map(ControlBody::ExtKmReq),
        km_response().prop_map(ControlBody::ExtKmRsp),
    ]
}

fn round_trip(packet: &Packet<'_>) -> Result<(), TestCaseError> {
    let mut buf = vec![0u8; packet.encoded_len()];
    let n = packet
        .encode(&mut buf)
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(n, buf.len());
    let back = Packet::decode(&buf).map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(&back, packet);
    // One byte short is an error, never a panic.
    prop_assert!(packet.encode(&mut buf[..n - 1]).is_err());
    Ok(())
}

proptest! {
    #[test]
    fn data_round_trip(
        seq in seq(), position in position(), in_order: bool, key in data_key(),
        retransmitted: bool, msg_number in msg(), ts: u32, dest: u32,
        payload in vec(any::<u8>(), 0..1500),
    ) {
        let p = Packet::Data(DataPacket {
            seq, position, in_order, key, retransmitted, msg_number,
            timestamp: Timestamp::from_u32(ts), dest_socket: SocketId(dest), payload: &payload,
        });
        round_trip(&p)?;
    }

    #[test]
    fn control_round_trip(body in owned_control_body(), ts: u32, dest: u32) {
        let p = Packet::Control(ControlPacket {
            timestamp: Timestamp::from_u32(ts), dest_socket: SocketId(dest), body,
        });
        round_trip(&p)?;
    }

    #[test]
    fn loss_report_round_trip(ranges in seq_ranges(), ts: u32, dest: u32) {
        let mut scratch = vec![0u8; ranges.len() * 8];
        let list = LossList::encode_ranges(&ranges, &mut scratch).unwrap();
        let decoded: Vec<SeqRange> = list.iter().map(Result::unwrap).collect();
        prop_assert_eq!(&decoded, &ranges);
        let p = Packet::Control(ControlPacket {
            timestamp: Timestamp::from_u32(ts), dest_socket: SocketId(dest),
            body: ControlBody::LossReport(list),
        });
        round_trip(&p)?;
    }

    #[test]
    fn other_round_trip(
        control_type in prop_oneof![9u16..0x7FFF, Just(0x7FFF)], subtype in 5u16.., type_info: u32,
        cif in vec(any::<u8>(), 0..64), ts: u32, dest: u32,
    ) {
        let p = Packet::Control(ControlPacket {
            timestamp: Timestamp::from_u32(ts), dest_socket: SocketId(dest),
            body: ControlBody::Other { control_type, subtype, type_info, cif: &cif },
        });
        round_trip(&p)?;
    }

    #[test]
    fn any_bytes_decode_without_panic(bytes in vec(any::<u8>(), 0..600)) {
        if let Ok(p) = Packet::decode(&bytes) {
            let mut buf = vec![0u8; p.encoded_len()];
            p.encode(&mut buf).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(Packet::decode(&buf), Ok(p));
        }
    }

    #[test]
    fn control_like_bytes_decode_without_panic(
        ty in 0u16..10, sub: u16, info: u32, cif in vec(any::<u8>(), 0..200),
    ) {
        let mut bytes = vec![0u8; 16];
        bytes[0..4].copy_from_slice(&(0x8000_0000 | (u32::from(ty) << 16) | u32::from(sub)).to_be_bytes());
        bytes[4..8].copy_from_slice(&info.to_be_bytes());
        bytes.extend(cif);
        if let Ok(p) = Packet::decode(&bytes) {
            let mut buf = vec![0u8; p.encoded_len()];
            p.encode(&mut buf).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(Packet::decode(&buf), Ok(p));
        }
    }
}
