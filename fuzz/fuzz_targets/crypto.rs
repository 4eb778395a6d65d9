//! Key material and data-packet decryption: decoding and unwrapping KM
//! messages (arbitrary bytes and structured ones), building a receiver
//! context from them and applying them to a live one (in-band KMREQ), and
//! AES-CTR / AES-GCM decryption of arbitrary and of tampered packets.
//! Checks: no panic; a decrypted length never exceeds the input; an
//! AES-GCM packet changed anywhere but in the R flag never authenticates;
//! a packet changed only in the R flag decrypts to the original.

#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use srt_fuzz::hostile::Km;
use srt_proto::crypto::{
    derive_kek, unwrap_keys, CryptoContext, Key, KeyIndex, RefreshConfig, GCM_TAG_LEN, SALT_LEN,
};
use srt_proto::packet::{
    Cipher, DataKeyFlags, DataPacket, KeyMaterial, PacketPosition, SocketId, HEADER_LEN,
};
use srt_proto::seq::{MsgNumber, SeqNumber, Timestamp};
use std::sync::OnceLock;

const PASSPHRASE: &[u8] = b"fuzzing passphrase";
const SALT: [u8; SALT_LEN] = [7; SALT_LEN];

/// The KEKs for 16-, 24- and 32-byte keys (PBKDF2 once per process).
fn keks() -> &'static [Key; 3] {
    static KEKS: OnceLock<[Key; 3]> = OnceLock::new();
    KEKS.get_or_init(|| [16, 24, 32].map(|n| derive_kek(PASSPHRASE, &SALT, n).expect("derive")))
}

#[derive(Arbitrary, Debug)]
enum KmSource {
    Bytes(Vec<u8>),
    Fields(Km),
}

#[derive(Arbitrary, Debug)]
enum Op {
    /// Unwrap arbitrary bytes with a KEK into a buffer of the given size.
    Unwrap(u8, Vec<u8>, u8),
    /// A receiver context from key material (as in a handshake KMREQ).
    Receiver(KmSource),
    /// Key material applied to the live receiver (in-band KMREQ).
    Apply(KmSource),
    /// Decrypt an arbitrary header and payload.
    Decrypt([u8; HEADER_LEN], Vec<u8>),
    /// Encrypt a packet honestly, change one byte, decrypt.
    Tamper {
        seq: u32,
        odd: bool,
        payload: Vec<u8>,
        at: u16,
        xor: u8,
    },
}

#[derive(Arbitrary, Debug)]
struct Input {
    gcm: bool,
    key_len: u8,
    odd_too: bool,
    ops: Vec<Op>,
}

fn material(src: &KmSource, buf: &mut [u8]) -> Option<KeyMaterial> {
    match src {
        KmSource::Bytes(b) => KeyMaterial::decode(b).ok(),
        KmSource::Fields(km) => {
            // Through the encoder and decoder, as the wire would carry it.
            let n = km.material().encode(buf).ok()?;
            KeyMaterial::decode(&buf[..n]).ok()
        }
    }
}

fuzz_target!(|input: Input| {
    let k = usize::from(input.key_len % 3);
    let kek = &keks()[k];
    let key_len = kek.key_len();
    let cipher = if input.gcm {
        Cipher::AesGcm
    } else {
        Cipher::AesCtr
    };
    let even = vec![0x11; key_len];
    let sender =
        CryptoContext::sender_with_kek(kek.clone(), cipher, &SALT, &even, RefreshConfig::default())
            .expect("sender");
    let mut sender = sender;
    if input.odd_too {
        sender
            .install_next_key(&vec![0x22; key_len])
            .expect("odd key");
    }
    let km = sender.key_material().expect("km");
    let mut receiver = CryptoContext::receiver_with_kek(kek.clone(), &km).expect("receiver");
    let mut scratch = vec![0u8; 4096];
    let mut applied_new_kek = false;

    for op in input.ops.iter().take(64) {
        match op {
            Op::Unwrap(which, wrapped, room) => {
                let kek = &keks()[usize::from(which % 3)];
                let mut out = vec![0u8; usize::from(*room)];
                if let Ok(n) = unwrap_keys(kek, wrapped, &mut out) {
                    assert!(n <= out.len() && n + 8 == wrapped.len());
                }
            }
            Op::Receiver(src) => {
                if let Some(km) = material(src, &mut scratch) {
                    if usize::from(km.key_len) == key_len {
                        let _ = CryptoContext::receiver_with_kek(kek.clone(), &km);
                    }
                }
            }
            Op::Apply(src) => {
                if let Some(km) = material(src, &mut scratch) {
                    // A new salt or key length derives a KEK (PBKDF2, slow):
                    // at most once per input.
                    let same = km.salt.as_slice() == receiver.salt()
                        && usize::from(km.key_len) == receiver.key_len();
                    if same || !applied_new_kek {
                        applied_new_kek |= !same;
                        let _ = receiver.apply_key_material(PASSPHRASE, &km);
                    }
                }
            }
            Op::Decrypt(header, payload) => {
                let mut buf = payload.clone();
                if let Ok(n) = receiver.decrypt(header, &mut buf) {
                    assert!(n <= payload.len());
                }
            }
            Op::Tamper {
                seq,
                odd,
                payload,
                at,
                xor,
            } => {
                let key = if *odd && input.odd_too {
                    KeyIndex::Odd
                } else {
                    KeyIndex::Even
                };
                let plain = &payload[..payload.len().min(1456)];
                let packet = DataPacket {
                    seq: SeqNumber::new_truncate(*seq),
                    position: PacketPosition::Solo,
                    in_order: false,
                    key: DataKeyFlags::Clear,
                    retransmitted: false,
                    msg_number: MsgNumber::new_truncate(1),
                    timestamp: Timestamp::from_u32(1000),
                    dest_socket: SocketId(5),
                    payload: plain,
                };
                let mut header = packet.header_bytes();
                let mut buf = vec![0u8; plain.len() + GCM_TAG_LEN];
                buf[..plain.len()].copy_from_slice(plain);
                let Ok(n) = sender.encrypt(key, &mut header, &mut buf, plain.len()) else {
                    continue;
                };
                buf.truncate(n);
                let total = HEADER_LEN + n;
                let pos = usize::from(*at) % total;
                if pos < HEADER_LEN {
                    header[pos] ^= xor;
                } else {
                    buf[pos - HEADER_LEN] ^= xor;
                }
                let only_r_flag = *xor == 0 || (pos == 4 && *xor == 0x04);
                match receiver.decrypt(&header, &mut buf) {
                    Ok(len) => {
                        assert!(len <= n);
                        if input.gcm {
                            assert!(
                                only_r_flag,
                                "AES-GCM accepted a packet changed at byte {pos}"
                            );
                        }
                        if only_r_flag {
                            assert_eq!(&buf[..len], plain, "decryption changed the payload");
                        }
                    }
                    Err(e) => assert!(
                        !only_r_flag,
                        "an honest packet (R flag aside) did not decrypt: {e:?}"
                    ),
                }
            }
        }
    }
});
