//! Packet cipher speed: AES-CTR and AES-GCM encryption ("seal") and
//! decryption ("open") of a 1316-byte live payload (7 × 188-byte TS
//! packets) through `srt_proto::crypto::CryptoContext`, as the engine does
//! it for every data packet. For AES-GCM the same 1316 bytes are sealed and
//! the 16-byte tag goes after them (1332 bytes on the wire; GCM leaves room
//! for up to 1440). Throughput is payload bytes.

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use srt_proto::crypto::{CryptoContext, KeyIndex, RefreshConfig, GCM_TAG_LEN, SALT_LEN};
use srt_proto::packet::{Cipher, DataKeyFlags, DataPacket, PacketPosition, SocketId, HEADER_LEN};
use srt_proto::seq::{MsgNumber, SeqNumber, Timestamp};

const PAYLOAD: usize = 1316;

/// The header of a live data packet, as the engine encrypts it.
fn header() -> [u8; HEADER_LEN] {
    DataPacket {
        seq: SeqNumber::new_truncate(0x1234_5678),
        position: PacketPosition::Solo,
        in_order: false,
        key: DataKeyFlags::Clear,
        retransmitted: false,
        msg_number: MsgNumber::new_truncate(42),
        timestamp: Timestamp::from_u32(1_000_000),
        dest_socket: SocketId(0x0102_0304),
        payload: &[],
    }
    .header_bytes()
}

/// A sender and the receiver built from its key material.
fn contexts(cipher: Cipher, key_len: usize) -> (CryptoContext, CryptoContext) {
    let salt = [0x5Au8; SALT_LEN];
    let sek = vec![0xA5u8; key_len];
    let tx = CryptoContext::sender(
        b"0123456789abcdef",
        cipher,
        &salt,
        &sek,
        RefreshConfig::default(),
    )
    .expect("sender context");
    let km = tx.key_material().expect("key material");
    let rx = CryptoContext::receiver(b"0123456789abcdef", &km).expect("receiver context");
    (tx, rx)
}

fn bench(c: &mut Criterion) {
    for (name, cipher) in [("aes_ctr", Cipher::AesCtr), ("aes_gcm", Cipher::AesGcm)] {
        for key_len in [16usize, 32] {
            let (tx, rx) = contexts(cipher, key_len);
            let mut g = c.benchmark_group(format!("{name}_{}_1316", key_len * 8));
            g.throughput(Throughput::Bytes(PAYLOAD as u64));

            let mut hdr = header();
            let mut buf = [0x47u8; PAYLOAD + GCM_TAG_LEN];
            g.bench_function("seal", |b| {
                b.iter(|| {
                    tx.encrypt(KeyIndex::Even, &mut hdr, black_box(&mut buf), PAYLOAD)
                        .expect("seal")
                })
            });

            // A sealed packet, copied back before each open (GCM checks
            // its tag, so it cannot decrypt its own output again; the
            // 1.3 KB copy costs a few tens of nanoseconds).
            let mut hdr = header();
            let mut sealed = [0x47u8; PAYLOAD + GCM_TAG_LEN];
            let n = tx
                .encrypt(KeyIndex::Even, &mut hdr, &mut sealed, PAYLOAD)
                .expect("seal");
            let mut work = sealed;
            g.bench_function("open", |b| {
                b.iter(|| {
                    work[..n].copy_from_slice(&sealed[..n]);
                    let m = rx.decrypt(&hdr, black_box(&mut work[..n])).expect("open");
                    assert_eq!(m, PAYLOAD);
                })
            });
            g.finish();
        }
    }
}

#[allow(missing_docs)]
mod group {
    use super::*;
    criterion_group!(benches, bench);
}
use group::benches;
criterion_main!(benches);
