//! Unit tests of the group layer: the GROUP block, the handshake checks.

use super::*;
use crate::packet::{ControlBody, ControlPacket, Handshake, HandshakeType, Packet, PeerAddress};

fn hs_with(blocks: Vec<HsExtension>) -> Handshake {
    Handshake {
        version: 5,
        encryption_field: 0,
        extension_field: Handshake::EXT_HSREQ | Handshake::EXT_CONFIG,
        isn: SeqNumber::new_truncate(1),
        mss: 1500,
        flow_window: 8192,
        req_type: HandshakeType::Conclusion,
        socket_id: 0x1234,
        syn_cookie: 0,
        peer_addr: PeerAddress::default(),
        extensions: blocks,
    }
}

/// The GROUP block as libsrt's `fillHsExtGroup` writes it (core.cpp): the
/// block header `SRT_CMD_GROUP` (8) with 2 words, the group ID, then type
/// (bits 31–24), flags (23–16) and weight (15–0), each word in network
/// order like every handshake word.
#[test]
fn group_block_bytes_as_libsrt() {
    let block = GroupBlock {
        group_id: 0x4000_1234,
        group_type: GroupType::Backup.code(),
        flags: 0,
        weight: 10,
    };
    let hs = hs_with(vec![HsExtension::Group(block)]);
    let mut buf = [0u8; 128];
    let n = hs.encode(&mut buf).unwrap();
    assert_eq!(n, 48 + 12);
    assert_eq!(
        &buf[48..n],
        &[0x00, 0x08, 0x00, 0x02, 0x40, 0x00, 0x12, 0x34, 0x02, 0x00, 0x00, 0x0a]
    );
    let back = Handshake::decode(&buf[..n]).unwrap();
    assert_eq!(back.extensions, vec![HsExtension::Group(block)]);
    // Broadcast, weight 0x1ff, a flag (SRT_GFLAG_SYNCONMSG of older libsrt).
    let b2 = GroupBlock {
        group_id: 0x7fff_fffe,
        group_type: 1,
        flags: 1,
        weight: 0x1ff,
    };
    let n = hs_with(vec![HsExtension::Group(b2)])
        .encode(&mut buf)
        .unwrap();
    assert_eq!(
        &buf[52..60],
        &[0x7f, 0xff, 0xff, 0xfe, 0x01, 0x01, 0x01, 0xff]
    );
    let pkt = ControlPacket {
        timestamp: crate::seq::Timestamp::from_u32(0),
        dest_socket: SocketId(0),
        body: ControlBody::Handshake(Handshake::decode(&buf[..n]).unwrap()),
    };
    let mut wire = [0u8; 256];
    let len = pkt.encode(&mut wire).unwrap();
    match Packet::decode(&wire[..len]).unwrap() {
        Packet::Control(ControlPacket {
            body: ControlBody::Handshake(h),
            ..
        }) => assert_eq!(h.extensions, vec![HsExtension::Group(b2)]),
        other => panic!("not a handshake: {other:?}"),
    }
}

/// libsrt reads two words and ignores more; fewer is a protocol error.
#[test]
fn group_block_length() {
    let mut buf = [0u8; 128];
    let hs = hs_with(vec![HsExtension::Unknown {
        kind: 8,
        body: vec![0x40, 0, 0, 1, 2, 0, 0, 1, 9, 9, 9, 9],
    }]);
    let n = hs.encode(&mut buf).unwrap();
    let back = Handshake::decode(&buf[..n]).unwrap();
    assert_eq!(
        back.extensions,
        vec![HsExtension::Group(GroupBlock {
            group_id: 0x4000_0001,
            group_type: 2,
            flags: 0,
            weight: 1
        })]
    );
    let short = hs_with(vec![HsExtension::Unknown {
        kind: 8,
        body: vec![0x40, 0, 0, 1],
    }]);
    let n = short.encode(&mut buf).unwrap();
    assert!(Handshake::decode(&buf[..n]).is_err());
}

fn member(group_id: u32, group_type: u8) -> HsExtension {
    HsExtension::Group(GroupBlock {
        group_id,
        group_type,
        flags: 0,
        weight: 5,
    })
}

#[test]
fn responder_checks_as_interpret_group() {
    let mut own = HsSettings::default();
    // No block: fine with or without SRTO_GROUPCONNECT.
    assert_eq!(responder_check(&own, &[]), Ok(None));
    // A member to a listener without SRTO_GROUPCONNECT.
    assert_eq!(
        responder_check(&own, &[member(0x4000_0001, 1)]),
        Err(RejectReason::Group)
    );
    own.group_connect = true;
    assert_eq!(
        responder_check(&own, &[member(0x4000_0001, 2)])
            .unwrap()
            .map(|g| g.weight),
        Some(5)
    );
    // Type beyond SRT_GTYPE_E_END, and SRT_GTYPE_UNDEFINED.
    assert_eq!(
        responder_check(&own, &[member(0x4000_0001, 3)]),
        Err(RejectReason::Group)
    );
    assert_eq!(
        responder_check(&own, &[member(0x4000_0001, 0)]),
        Err(RejectReason::Group)
    );
    // A socket ID, not a group ID.
    assert_eq!(
        responder_check(&own, &[member(0x0000_0001, 1)]),
        Err(RejectReason::Rogue)
    );
}

#[test]
fn initiator_checks_the_mirror() {
    let mut own = HsSettings::default();
    assert_eq!(initiator_check(&own, &[]), Ok(None));
    assert_eq!(
        initiator_check(&own, &[member(0x4000_0001, 1)]),
        Err(RejectReason::Ipe)
    );
    own.group = Some(GroupBlock {
        group_id: 0x4000_0002,
        group_type: 1,
        flags: 0,
        weight: 0,
    });
    // The listener did not answer with its group: it did not understand.
    assert_eq!(initiator_check(&own, &[]), Err(RejectReason::Group));
    assert!(initiator_check(&own, &[member(0x4000_0009, 1)])
        .unwrap()
        .is_some());
    assert_eq!(
        initiator_check(&own, &[member(9, 1)]),
        Err(RejectReason::Rogue)
    );
}

#[test]
fn the_handshake_carries_the_block_in_libsrt_order() {
    let s = HsSettings {
        stream_id: b"abc".to_vec(),
        group: Some(GroupBlock {
            group_id: 0x4000_0002,
            group_type: 2,
            flags: 0,
            weight: 3,
        }),
        ..HsSettings::default()
    };
    let (ext, blocks) = crate::handshake::initiator_blocks(&s);
    assert_eq!(ext & Handshake::EXT_CONFIG, Handshake::EXT_CONFIG);
    let kinds: Vec<u16> = blocks.iter().map(|b| b.kind()).collect();
    assert_eq!(kinds, vec![1, 5, 8]);
    // The responder answers with its mirror group after HSRSP.
    let own = HsSettings {
        group_connect: true,
        group: Some(mirror_block(
            GroupBlock {
                group_id: 0x4000_0002,
                group_type: 2,
                flags: 0,
                weight: 3,
            },
            0x4000_0077,
        )),
        ..HsSettings::default()
    };
    let (agreed, ext, answer) = crate::handshake::respond(&own, &blocks).unwrap();
    assert_eq!(agreed.peer_group.map(|g| g.group_id), Some(0x4000_0002));
    assert_eq!(ext & Handshake::EXT_CONFIG, Handshake::EXT_CONFIG);
    assert_eq!(
        answer.last(),
        Some(&HsExtension::Group(GroupBlock {
            group_id: 0x4000_0077,
            group_type: 2,
            flags: 0,
            weight: 3
        }))
    );
    let adopted = crate::handshake::adopt_response(&s, &answer).unwrap();
    assert_eq!(adopted.peer_group.map(|g| g.group_id), Some(0x4000_0077));
}

#[test]
fn mirrors_are_bounded_and_stable() {
    let mut m = Mirrors::default();
    assert_eq!(m.get_or_insert(1, 100), 100);
    assert_eq!(m.get_or_insert(1, 200), 100);
    for p in 2..=(Mirrors::MAX as u32 + 1) {
        m.get_or_insert(p, p + 1000);
    }
    assert_eq!(m.entries.len(), Mirrors::MAX);
    // The oldest went.
    assert_eq!(m.get_or_insert(1, 300), 300);
}

#[test]
fn group_ids_have_the_group_bit() {
    let mut ep = Endpoint::new(
        crate::endpoint::EndpointConfig::new([7; 32]),
        "127.0.0.1:1".parse().unwrap(),
        Instant::now(),
    );
    for _ in 0..100 {
        let id = ep.new_group_id();
        assert_ne!(id & GROUP_ID_BIT, 0);
        assert_eq!(id & 0x8000_0000, 0);
    }
    let g = Group::new(
        5,
        SeqNumber::new_truncate(1),
        GroupConfig::new(GroupType::Broadcast, &SocketOptions::live()),
    );
    assert_eq!(g.id(), 5 | GROUP_ID_BIT);
    assert_eq!(g.member_block(9).group_type, 1);
}

#[test]
fn group_config_takes_the_options() {
    let mut o = SocketOptions::live();
    let c = GroupConfig::new(GroupType::Backup, &o);
    assert_eq!(c.min_stable_timeout, Duration::from_millis(60));
    o.groupminstabletimeo = Duration::from_millis(200);
    assert_eq!(
        GroupConfig::new(GroupType::Backup, &o).min_stable_timeout,
        Duration::from_millis(200)
    );
    assert_eq!(GroupType::from_code(2), Some(GroupType::Backup));
    assert_eq!(GroupType::from_code(0), None);
}
