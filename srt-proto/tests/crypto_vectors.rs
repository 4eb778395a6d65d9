//! Encryption against libsrt 1.5.1 captures (passphrase "0123456789abcdef"):
//! the KEK derived from the passphrase unwraps the captured SEKs, every
//! encrypted data packet decrypts to the known plaintext (including the odd
//! key after the refresh of `live_keyrefresh`), and our sender reproduces
//! libsrt's KM messages and ciphertexts byte for byte. Also: no allocation
//! per packet.

use srt_proto::crypto::{
    derive_kek, open_key_material, CryptoContext, KeyIndex, RefreshAction, RefreshConfig,
};
use srt_proto::packet::{
    Cipher, ControlBody, DataKeyFlags, DataPacket, HsExtension, KeyMaterial, KmKeys, KmResponse,
    Packet,
};
use testvectors::{live_payload, Capture};

const PASSPHRASE: &[u8] = b"0123456789abcdef";
const ENCRYPTED: [&str; 4] = [
    "live_aes128",
    "live_aes256",
    "live_keyrefresh",
    "rendezvous_aes128",
];

/// What one captured packet means for encryption.
enum Item {
    /// A KMREQ (handshake block or EXT) with its key material.
    KmReq(KeyMaterial),
    /// A KMRSP echoing key material.
    KmRsp(KeyMaterial),
    /// An encrypted data packet: header, encrypted payload, msgno, key.
    Data([u8; 16], Vec<u8>, u32, KeyIndex),
}

fn items(capture: &Capture) -> Vec<Item> {
    let mut out = Vec::new();
    for p in &capture.packets {
        match Packet::decode(&p.payload).expect("libsrt packet decodes") {
            Packet::Data(d) => {
                let key = KeyIndex::from_data_flags(d.key).expect("encrypted data");
                let header: [u8; 16] = p.payload[..16].try_into().unwrap();
                out.push(Item::Data(
                    header,
                    d.payload.to_vec(),
                    d.msg_number.as_u32(),
                    key,
                ));
            }
            Packet::Control(c) => match c.body {
                ControlBody::Handshake(hs) => {
                    for ext in hs.extensions {
                        match ext {
                            HsExtension::KmReq(km) => out.push(Item::KmReq(km)),
                            HsExtension::KmRsp(KmResponse::Material(km)) => {
                                out.push(Item::KmRsp(km))
                            }
                            HsExtension::KmRsp(KmResponse::State(s)) => {
                                panic!("{}: KMRSP state {s:?}", capture.name)
                            }
                            _ => {}
                        }
                    }
                }
                ControlBody::ExtKmReq(km) => out.push(Item::KmReq(km)),
                ControlBody::ExtKmRsp(KmResponse::Material(km)) => out.push(Item::KmRsp(km)),
                ControlBody::ExtKmRsp(KmResponse::State(s)) => {
                    panic!("{}: EXT KMRSP state {s:?}", capture.name)
                }
                _ => {}
            },
        }
    }
    out
}

/// Receives every captured packet as libsrt's receiver would; returns the
/// number of packets decrypted with the even and the odd key.
fn decrypt_capture(name: &str) -> (usize, usize, usize) {
    let capture = testvectors::load(name);
    let mut rx: Option<CryptoContext> = None;
    let mut last_req: Option<KeyMaterial> = None;
    let mut counts = [0usize; 2];
    let mut key_len = 0;
    for item in items(&capture) {
        match item {
            Item::KmReq(km) => {
                assert_eq!(km.cipher, Cipher::AesCtr, "{name}: libsrt 1.5.1 has no GCM");
                assert_eq!(km.salt.len(), 16);
                assert_eq!(km.keki, 0);
                match rx.as_mut() {
                    None => rx = Some(CryptoContext::receiver(PASSPHRASE, &km).unwrap()),
                    Some(rx) => rx.apply_key_material(PASSPHRASE, &km).unwrap(),
                }
                key_len = usize::from(km.key_len);
                last_req = Some(km);
            }
            Item::KmRsp(km) => {
                assert_eq!(
                    Some(&km),
                    last_req.as_ref(),
                    "{name}: KMRSP echoes the KMREQ"
                );
            }
            Item::Data(header, mut body, msgno, key) => {
                let rx = rx.as_ref().expect("key material before data");
                assert_eq!(body.len(), testvectors::LIVE_PAYLOAD_LEN);
                let n = rx.decrypt(&header, &mut body).unwrap();
                assert_eq!(n, body.len(), "CTR keeps the length");
                assert!(
                    body == live_payload(msgno - 1),
                    "{name}: msgno {msgno} ({key:?}) decrypts to the sent payload"
                );
                counts[key as usize] += 1;
            }
        }
    }
    (counts[0], counts[1], key_len)
}

#[test]
fn decrypts_every_encrypted_libsrt_packet() {
    let mut total = 0;
    for name in ENCRYPTED {
        let (even, odd, key_len) = decrypt_capture(name);
        eprintln!(
            "{name}: AES-{} decrypted {even} even + {odd} odd",
            key_len * 8
        );
        assert!(even > 0, "{name}: some even-key packets");
        match name {
            "live_aes256" => assert_eq!(key_len, 32),
            _ => assert_eq!(key_len, 16),
        }
        if name == "live_keyrefresh" {
            assert!(odd > 0, "{name}: packets after the switch to the odd key");
        } else {
            assert_eq!(odd, 0);
        }
        total += even + odd;
    }
    assert!(total >= 60, "{total} packets decrypted");
}

#[test]
fn wrong_passphrase_is_bad_secret() {
    let capture = testvectors::load("live_aes128");
    let km = items(&capture)
        .into_iter()
        .find_map(|i| match i {
            Item::KmReq(km) => Some(km),
            _ => None,
        })
        .unwrap();
    let err = CryptoContext::receiver(b"fedcba9876543210", &km).unwrap_err();
    assert_eq!(err.km_state(), srt_proto::packet::KmState::BadSecret);
}

/// Our sender, given libsrt's salt and SEKs (the only random inputs),
/// produces libsrt's KM messages and ciphertexts byte for byte.
#[test]
fn sender_reproduces_libsrt_bytes() {
    for name in ENCRYPTED {
        let capture = testvectors::load(name);
        let mut tx: Option<CryptoContext> = None;
        let mut reproduced = 0;
        for item in items(&capture) {
            match item {
                Item::KmReq(km) => {
                    let kek = derive_kek(PASSPHRASE, &km.salt, usize::from(km.key_len)).unwrap();
                    let keys = open_key_material(&kek, &km).unwrap();
                    let ours = match tx.as_mut() {
                        None => {
                            assert_eq!(km.keys, KmKeys::Even, "the first key is even");
                            let salt: [u8; 16] = km.salt.as_slice().try_into().unwrap();
                            let even = keys.even.as_ref().unwrap();
                            let t = CryptoContext::sender(
                                PASSPHRASE,
                                Cipher::AesCtr,
                                &salt,
                                even.as_bytes(),
                                RefreshConfig::from_options(2000, 500),
                            )
                            .unwrap();
                            tx.insert(t)
                        }
                        Some(t) if km.keys == KmKeys::Both => {
                            // The refresh: the new key goes in the other slot.
                            let next = t.active_key().other();
                            let sek = keys.get(next).unwrap();
                            assert_eq!(t.install_next_key(sek.as_bytes()).unwrap(), next);
                            t
                        }
                        Some(t) => t,
                    };
                    let mine = ours.key_material().unwrap();
                    assert_eq!(mine, km, "{name}: KM message");
                    let (mut a, mut b) = ([0u8; 104], [0u8; 104]);
                    let n = mine.encode(&mut a).unwrap();
                    let m = km.encode(&mut b).unwrap();
                    assert_eq!(&a[..n], &b[..m]);
                }
                Item::KmRsp(_) => {}
                Item::Data(header, body, msgno, key) => {
                    let tx = tx.as_ref().unwrap();
                    let mut hdr = header;
                    hdr[4] &= !0x18; // KK is set by encrypt
                    let mut buf = live_payload(msgno - 1);
                    let n = tx.encrypt(key, &mut hdr, &mut buf, body.len()).unwrap();
                    assert_eq!(n, body.len());
                    assert_eq!(hdr, header, "{name}: header with KK");
                    assert!(buf == body, "{name}: msgno {msgno} ciphertext");
                    reproduced += 1;
                }
            }
        }
        assert!(reproduced >= 11, "{name}: {reproduced}");
    }
}

/// The key refresh of `live_keyrefresh` (refresh 2000, pre-announce 500).
/// libsrt ≥ 1.5.2 manages keys after each packet (core.cpp packUniqueData,
/// git be1ccf57): the first key encrypts msgno 1..=2000. libsrt 1.5.1, which
/// recorded the capture, still did it from its periodic timer, so its switch
/// lands a little later (msgno 2002 in the recorded file).
#[test]
fn refresh_schedule_against_capture() {
    let capture = testvectors::load("live_keyrefresh");
    let data: Vec<(u32, DataKeyFlags)> = capture
        .data()
        .map(|p| {
            let d = DataPacket::decode(&p.payload).unwrap();
            (d.msg_number.as_u32(), d.key)
        })
        .collect();
    let last_even = data
        .iter()
        .filter(|d| d.1 == DataKeyFlags::Even)
        .map(|d| d.0)
        .max()
        .unwrap();
    let first_odd = data
        .iter()
        .filter(|d| d.1 == DataKeyFlags::Odd)
        .map(|d| d.0)
        .min()
        .unwrap();
    assert_eq!(
        last_even + 1,
        first_odd,
        "capture keeps both sides of the switch"
    );
    assert!(
        (2001..=2100).contains(&first_odd),
        "libsrt 1.5.1 switched at {first_odd}"
    );

    let mut tx = CryptoContext::sender(
        PASSPHRASE,
        Cipher::AesCtr,
        &[1u8; 16],
        &[2u8; 16],
        RefreshConfig::from_options(2000, 500),
    )
    .unwrap();
    let mut events = Vec::new();
    for msgno in 1..=3000u32 {
        let action = tx.on_packet_encrypted();
        if let RefreshAction::PreAnnounce { .. } = action {
            tx.install_next_key(&[3u8; 16]).unwrap();
            assert_eq!(tx.key_material().unwrap().keys, KmKeys::Both);
        }
        if action != RefreshAction::None {
            events.push((msgno, action));
        }
    }
    assert_eq!(
        events,
        [
            (
                1500,
                RefreshAction::PreAnnounce {
                    slot: KeyIndex::Odd
                }
            ),
            (2000, RefreshAction::Switched { to: KeyIndex::Odd }),
            (
                2501,
                RefreshAction::Retired {
                    slot: KeyIndex::Even
                }
            ),
        ]
    );
}

#[test]
fn no_allocation_per_packet() {
    let seen = allocation_counter::measure(|| {
        std::hint::black_box(vec![0u8; 64]);
    });
    assert!(seen.count_total > 0, "the allocation counter works");

    for (cipher, gcm153) in [
        (Cipher::AesCtr, false),
        (Cipher::AesGcm, false),
        (Cipher::AesGcm, true),
    ] {
        let mut tx = CryptoContext::sender(
            PASSPHRASE,
            cipher,
            &[9u8; 16],
            &[7u8; 32],
            RefreshConfig::from_options(300, 100),
        )
        .unwrap();
        tx.set_gcm153(gcm153);
        let mut rx = CryptoContext::receiver(PASSPHRASE, &tx.key_material().unwrap()).unwrap();
        rx.set_gcm153(gcm153);
        let mut buf = [0u8; 1500];
        let mut header = [0u8; 16];
        let mut checksum = 0u64;
        let counts = allocation_counter::measure(|| {
            for seq in 0..1000u32 {
                header[..4].copy_from_slice(&seq.to_be_bytes());
                header[4..8].copy_from_slice(&(0xC000_0000 | (seq + 1)).to_be_bytes());
                buf[..1316].fill(seq as u8);
                let key = tx.active_key();
                let n = tx.encrypt(key, &mut header, &mut buf, 1316).unwrap();
                let m = rx.decrypt(&header, &mut buf[..n]).unwrap();
                checksum += u64::from(buf[m - 1]);
                // Key refreshes included: installing and announcing a key,
                // applying it on the receiver, retiring the old one.
                if let RefreshAction::PreAnnounce { .. } = tx.on_packet_encrypted() {
                    tx.install_next_key(&[seq as u8; 32]).unwrap();
                    let km = tx.key_material().unwrap();
                    rx.apply_key_material(PASSPHRASE, &km).unwrap();
                }
            }
        });
        assert_eq!(
            counts.count_total, 0,
            "{cipher:?} gcm153={gcm153}: {counts:?}"
        );
        assert!(checksum > 0);
    }
}

/// `reject_badsecret`: the caller's KMREQ was made with "fedcba9876543210";
/// the listener's passphrase fails to unwrap it (libsrt then rejects with
/// REJ_BADSECRET), the caller's own passphrase opens it.
#[test]
fn captured_bad_secret_kmreq() {
    let capture = testvectors::load("reject_badsecret");
    let km = items(&capture)
        .into_iter()
        .find_map(|i| match i {
            Item::KmReq(km) => Some(km),
            _ => None,
        })
        .expect("the caller's KMREQ");
    assert_eq!(
        CryptoContext::receiver(PASSPHRASE, &km).unwrap_err(),
        srt_proto::crypto::CryptoError::BadSecret
    );
    let rx = CryptoContext::receiver(b"fedcba9876543210", &km).unwrap();
    assert_eq!(rx.key_material().unwrap(), km);
}

#[test]
fn kmrsp_state_word_is_little_endian_as_libsrt_sends_it() {
    use srt_proto::packet::{KmResponse, KmState};
    // libsrt 1.5.1's CONCLUSION answer to a KMREQ it could not open.
    assert_eq!(
        KmResponse::decode(&[4, 0, 0, 0]).unwrap(),
        KmResponse::State(KmState::BadSecret)
    );
    // Big-endian is accepted too.
    assert_eq!(
        KmResponse::decode(&[0, 0, 0, 3]).unwrap(),
        KmResponse::State(KmState::NoSecret)
    );
    assert!(KmResponse::decode(&[0, 0, 1, 0]).is_err());
    let mut buf = [0u8; 4];
    KmResponse::State(KmState::BadSecret)
        .encode(&mut buf)
        .unwrap();
    assert_eq!(buf, [4, 0, 0, 0]);
}
