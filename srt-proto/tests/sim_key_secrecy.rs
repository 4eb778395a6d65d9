//! Encryption keys are unpredictable (issue 13): an observer who sees the
//! whole handshake, and knows the passphrase, cannot compute the salt or
//! any session key from the cleartext fields, as it could when each
//! connection's generator was seeded from its ISN and socket ID; and two
//! endpoints with the same seed but different entropy make different
//! salts, session keys and refreshed session keys.

use rand_chacha::{ChaCha20Rng, ChaCha8Rng};
use rand_core::{RngCore, SeedableRng};
use srt_proto::packet::HsExtension;
use srt_proto::sim::capture::Capture;
use srt_proto::sim::link::LinkConfig;
use srt_proto::sim::Network;
use srt_proto::{EndpointConfig, Event, MsgCtrl, SocketOptions};
use std::cell::RefCell;
use std::collections::BTreeSet;
use std::rc::Rc;
use std::time::Duration;

mod common;
use common::{addr, CLIENT, SERVER};

const PASSPHRASE: &str = "the observer knows this";

/// Live, encrypted, a new key every 64 packets.
fn options() -> SocketOptions {
    SocketOptions::live()
        .passphrase(PASSPHRASE)
        .unwrap()
        .km_refresh_rate(64)
        .unwrap()
        .km_preannounce(16)
        .unwrap()
}

/// One connection between a listener and a caller whose generators come
/// from `seed` and (if given) each side's entropy; both sides send 400
/// packets, so that the keys are refreshed several times. Returns every
/// datagram on the wire.
fn run(seed: u64, entropy: Option<([u8; 32], [u8; 32])>) -> Capture {
    let mut net = Network::new(seed, LinkConfig::default());
    let capture = Rc::new(RefCell::new(Capture::new()));
    let log = capture.clone();
    net.set_tamper(move |_, _, d| log.borrow_mut().push(d));
    let config = |s, e: Option<[u8; 32]>| match e {
        Some(e) => EndpointConfig::seeded_with_entropy(s, e),
        None => EndpointConfig::seeded(s),
    };
    let server = net.add_endpoint_with(addr(SERVER), config(seed, entropy.map(|e| e.0)));
    let client = net.add_endpoint_with(addr(CLIENT), config(seed, entropy.map(|e| e.1)));
    let opts = options();
    net.endpoint(server).listen(&opts, 5).unwrap();
    let now = net.now();
    let caller = net
        .endpoint(client)
        .connect(now, addr(SERVER), &opts)
        .unwrap();
    assert!(net.run_until(Duration::from_secs(3), |n| n
        .events(client)
        .contains(&Event::Connected { socket: caller })));
    let accepted = net.endpoint(server).accept().expect("accepted");
    let payload = [7u8; 1316];
    for _ in 0..400 {
        let now = net.now();
        net.endpoint(client)
            .send(now, caller, &payload, &MsgCtrl::default())
            .unwrap();
        net.endpoint(server)
            .send(now, accepted, &payload, &MsgCtrl::default())
            .unwrap();
        net.run_for(Duration::from_millis(2));
    }
    net.run_for(Duration::from_secs(1));
    let c = capture.borrow().clone();
    c
}

/// The salts and session keys of a run, opened with the passphrase.
fn secrets(capture: &Capture) -> (BTreeSet<Vec<u8>>, Vec<Vec<u8>>) {
    let opened = capture.opened_keys(PASSPHRASE.as_bytes()).unwrap();
    let salts = opened.iter().map(|o| o.salt.clone()).collect();
    let keys = capture.session_keys(PASSPHRASE.as_bytes()).unwrap();
    (salts, keys)
}

/// Every value an observer reads in clear in the handshakes.
fn public_values(capture: &Capture) -> BTreeSet<u32> {
    let mut v = BTreeSet::new();
    for seen in capture.handshakes() {
        let hs = &seen.handshake;
        v.extend([
            seen.timestamp,
            seen.dest_socket,
            hs.isn.as_u32(),
            hs.socket_id,
            hs.syn_cookie,
        ]);
    }
    v
}

/// The first 1 KiB of a generator's output.
fn stream(mut rng: impl RngCore) -> Vec<u8> {
    let mut out = vec![0u8; 1024];
    rng.fill_bytes(&mut out);
    out
}

/// The generators an observer can make from public values: the former
/// engine's (a connection's from `(isn << 32) ^ id ^ 0x5EC2_E7D5_A17E_0000`,
/// first the 16-byte salt then the 32 bytes whose start is the key; a
/// transfer's, for refreshed keys, from `snd_isn << 32 | peer_id`) for
/// every pair of public values both ways round, and ChaCha8 and ChaCha20
/// seeded from each value alone.
fn observer_streams(public: &BTreeSet<u32>) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for &a in public {
        for &b in public {
            let (a, b) = (u64::from(a), u64::from(b));
            out.push(stream(ChaCha8Rng::seed_from_u64(
                (a << 32) ^ b ^ 0x5EC2_E7D5_A17E_0000,
            )));
            out.push(stream(ChaCha8Rng::seed_from_u64(a << 32 | b)));
        }
        out.push(stream(ChaCha8Rng::seed_from_u64(u64::from(a))));
        out.push(stream(ChaCha20Rng::seed_from_u64(u64::from(a))));
    }
    out
}

/// Whether `secret` appears anywhere in one of `streams`.
fn derivable(streams: &[Vec<u8>], secret: &[u8]) -> bool {
    streams
        .iter()
        .any(|s| s.windows(secret.len()).any(|w| w == secret))
}

#[test]
fn keys_are_not_derivable_from_the_handshake() {
    for seed in [1, 2, 3] {
        let capture = run(seed, Some(([seed as u8; 32], [0xA0 ^ seed as u8; 32])));
        let (salts, keys) = secrets(&capture);
        assert!(!salts.is_empty(), "seed {seed}: no key material seen");
        assert!(keys.len() >= 3, "seed {seed}: keys not refreshed: {keys:?}");
        let handshakes = capture.handshakes();
        let public = public_values(&capture);
        let streams = observer_streams(&public);
        // The former engine's secrets of this very connection are among
        // what the observer computes: the search would have found them.
        let conclusion = handshakes
            .iter()
            .find(|s| {
                s.handshake
                    .extensions
                    .iter()
                    .any(|e| matches!(e, HsExtension::KmReq(_)))
            })
            .expect("the caller's conclusion");
        let (isn, id) = (conclusion.handshake.isn, conclusion.handshake.socket_id);
        let mut former = ChaCha8Rng::seed_from_u64(
            (u64::from(isn.as_u32()) << 32) ^ u64::from(id) ^ 0x5EC2_E7D5_A17E_0000,
        );
        let mut former_salt = [0u8; 16];
        former.fill_bytes(&mut former_salt);
        assert!(derivable(&streams, &former_salt));
        // Ours are not.
        for salt in &salts {
            assert!(!derivable(&streams, salt), "seed {seed}: salt {salt:x?}");
        }
        for key in &keys {
            assert!(!derivable(&streams, key), "seed {seed}: key {key:x?}");
        }
    }
}

#[test]
fn entropy_not_the_seed_makes_the_keys() {
    let a = secrets(&run(5, Some(([1; 32], [2; 32]))));
    let b = secrets(&run(5, Some(([3; 32], [4; 32]))));
    assert!(a.1.len() >= 3 && b.1.len() >= 3, "keys not refreshed");
    assert!(a.0.is_disjoint(&b.0), "same salt from different entropy");
    let keys_b: BTreeSet<&Vec<u8>> = b.1.iter().collect();
    for key in &a.1 {
        assert!(!keys_b.contains(key), "same key from different entropy");
    }
    // The same seed and entropy make the same run (simulation).
    assert_eq!(a, secrets(&run(5, Some(([1; 32], [2; 32])))));
    // So does the same seed alone.
    assert_eq!(secrets(&run(5, None)), secrets(&run(5, None)));
}
