//! The decoder refuses, with a typed error, every malformed packet that
//! libsrt has been caught trusting (WIRE-NOTES §8 checklist).

use srt_proto::packet::{DecodeError, Packet};

/// A control packet of `control_type`/`subtype` with type-specific `info` and `cif`.
fn control(control_type: u16, subtype: u16, info: u32, cif: &[u8]) -> Vec<u8> {
    let mut p = Vec::new();
    p.extend((0x8000_0000u32 | (u32::from(control_type) << 16) | u32::from(subtype)).to_be_bytes());
    p.extend(info.to_be_bytes());
    p.extend(1234u32.to_be_bytes());
    p.extend(0x1111_2222u32.to_be_bytes());
    p.extend(cif);
    p
}

fn words(ws: &[u32]) -> Vec<u8> {
    ws.iter().flat_map(|w| w.to_be_bytes()).collect()
}

/// A 48-byte HSv5 conclusion followed by `blocks`.
fn handshake(blocks: &[u8]) -> Vec<u8> {
    let mut cif = words(&[5, 0x0000_0005, 100, 1500, 8192, 0xFFFF_FFFF, 7, 9]);
    cif.extend([1, 0, 0, 0x7f]);
    cif.extend([0u8; 12]);
    cif.extend(blocks);
    control(0, 0, 0, &cif)
}

fn block(kind: u16, body: &[u8]) -> Vec<u8> {
    let mut b = ((u32::from(kind) << 16) | (body.len() / 4) as u32)
        .to_be_bytes()
        .to_vec();
    b.extend(body);
    b
}

/// A valid one-key AES-128 KM message.
fn km() -> Vec<u8> {
    let mut m = vec![0x12, 0x20, 0x29, 0x01, 0, 0, 0, 0, 2, 0, 2, 0, 0, 0, 4, 4];
    m.extend([7u8; 16 + 24]);
    m
}

fn rejects(bytes: &[u8]) -> DecodeError {
    match Packet::decode(bytes) {
        Err(e) => e,
        Ok(p) => panic!("accepted malformed packet as {p:?}"),
    }
}

#[test]
fn short_packets() {
    for len in 0..16 {
        assert!(matches!(
            rejects(&vec![0x80; len]),
            DecodeError::TooShort { .. }
        ));
    }
}

#[test]
fn data_with_key_flags_11() {
    let mut p = vec![0u8; 20];
    p[4] = 0b0001_1000;
    assert_eq!(rejects(&p), DecodeError::BadDataKeyFlags);
}

#[test]
fn ack_problems() {
    // CIF shorter than the sequence number word.
    assert!(matches!(
        rejects(&control(2, 0, 1, &[0, 0])),
        DecodeError::TooShort { .. }
    ));
    // Negative ACK sequence number.
    assert!(matches!(
        rejects(&control(2, 0, 1, &words(&[0x8000_0001]))),
        DecodeError::BadSequenceNumber { .. }
    ));
}

#[test]
fn loss_report_problems() {
    // Ends with a range start and no end.
    assert_eq!(
        rejects(&control(3, 0, 0, &words(&[5, 0x8000_0007]))),
        DecodeError::DanglingLossRange
    );
    // lo > hi.
    assert!(matches!(
        rejects(&control(3, 0, 0, &words(&[0x8000_0009, 3]))),
        DecodeError::ReversedLossRange { .. }
    ));
    // Unaligned and empty.
    assert!(matches!(
        rejects(&control(3, 0, 0, &[0, 0, 0, 1, 0])),
        DecodeError::Unaligned { .. }
    ));
    assert_eq!(
        rejects(&control(3, 0, 0, &[])),
        DecodeError::EmptyLossReport
    );
}

#[test]
fn dropreq_shorter_than_two_words() {
    assert!(matches!(
        rejects(&control(7, 0, 3, &[0, 0, 0, 1])),
        DecodeError::TooShort { .. }
    ));
}

#[test]
fn ext_km_problems() {
    // EXT KMREQ not a multiple of 4, or longer than 104 bytes.
    let mut odd = km();
    odd.push(0);
    assert!(matches!(
        rejects(&control(0x7FFF, 3, 0, &odd)),
        DecodeError::KeyMaterial(_)
    ));
    assert!(matches!(
        rejects(&control(0x7FFF, 3, 0, &[0x12; 108])),
        DecodeError::KeyMaterial(_)
    ));
    // KMRSP shorter than a word, or with an unknown state.
    assert!(matches!(
        rejects(&control(0x7FFF, 4, 0, &[0, 0])),
        DecodeError::KeyMaterial(_)
    ));
    assert_eq!(
        rejects(&control(0x7FFF, 4, 0, &words(&[9]))),
        DecodeError::UnknownKmState(9)
    );
    // EXT HSREQ shorter than three words.
    assert!(matches!(
        rejects(&control(0x7FFF, 1, 0, &words(&[0x10501, 0xbf]))),
        DecodeError::BadExtensionLength { .. }
    ));
}

#[test]
fn handshake_problems() {
    // Shorter than 48 bytes.
    assert!(matches!(
        rejects(&control(0, 0, 0, &[0u8; 44])),
        DecodeError::TooShort { .. }
    ));
    // ISN with bit 31 set.
    let mut p = handshake(&[]);
    p[16 + 8] = 0x80;
    assert!(matches!(rejects(&p), DecodeError::BadSequenceNumber { .. }));
    // Unknown request type.
    let mut p = handshake(&[]);
    p[16 + 23] = 2;
    p[16 + 20..16 + 23].fill(0);
    assert_eq!(rejects(&p), DecodeError::UnknownHandshakeType(2));
    // A block that runs past the end.
    let mut b = block(1, &words(&[0x10501, 0xbf, 0]));
    b[3] = 9;
    assert!(matches!(
        rejects(&handshake(&b)),
        DecodeError::ExtensionOverrun { kind: 1, words: 9 }
    ));
    // Trailing bytes that are not a whole block header.
    assert!(matches!(
        rejects(&handshake(&[0, 1])),
        DecodeError::Unaligned { .. }
    ));
    // HSREQ shorter than three words.
    assert!(matches!(
        rejects(&handshake(&block(1, &words(&[0x10501, 0xbf])))),
        DecodeError::BadExtensionLength { kind: 1, .. }
    ));
    // SID, CONGESTION and FILTER empty or too long; GROUP under two words.
    for (kind, max) in [(5u16, 512usize), (6, 16), (7, 64)] {
        assert!(matches!(
            rejects(&handshake(&block(kind, &[]))),
            DecodeError::BadExtensionLength { .. }
        ));
        assert!(matches!(
            rejects(&handshake(&block(kind, &vec![b'a'; max + 4]))),
            DecodeError::BadExtensionLength { .. }
        ));
    }
    assert!(matches!(
        rejects(&handshake(&block(8, &words(&[0x4000_0001])))),
        DecodeError::BadExtensionLength { kind: 8, .. }
    ));
    // CONGESTION or FILTER twice.
    for kind in [6u16, 7] {
        let mut blocks = block(kind, b"elif");
        blocks.extend(block(kind, b"elif"));
        assert_eq!(
            rejects(&handshake(&blocks)),
            DecodeError::DuplicateExtension(kind)
        );
    }
    // A KMREQ longer than libsrt's 104-byte buffer.
    assert!(matches!(
        rejects(&handshake(&block(3, &[0x12; 108]))),
        DecodeError::BadExtensionLength { kind: 3, .. }
    ));
}

#[test]
fn key_material_checks() {
    let good = km();
    assert!(Packet::decode(&control(0x7FFF, 3, 0, &good)).is_ok());
    for (at, value) in [
        (0usize, 0x22u8), // version 2
        (0, 0x13),        // packet type 3
        (1, 0x21),        // signature
        (3, 0),           // no key
        (8, 3),           // AES-CBC
        (9, 1),           // CTR with GCM authentication
        (10, 1),          // stream encapsulation TSUDP
        (14, 5),          // 20-byte salt
        (15, 5),          // 20-byte key
        (15, 8),          // length does not match
    ] {
        let mut bad = good.clone();
        bad[at] = value;
        assert!(
            matches!(
                rejects(&control(0x7FFF, 3, 0, &bad)),
                DecodeError::KeyMaterial(_)
            ),
            "byte {at} = {value:#x} accepted"
        );
    }
}
