//! libsrt 1.5's encryption policy between a caller and a listener, in the
//! simulator: who refuses whom, the KM states and key length each side
//! is left with, the SHUTDOWN that tells a listener's socket its caller
//! refused the answer, and which cipher a listener accepts.

use srt_proto::options::CryptoMode;
use srt_proto::packet::{Cipher, KmState, RejectReason, SocketId};
use srt_proto::sim::link::LinkConfig;
use srt_proto::sim::{Network, NodeId};
use srt_proto::{BreakCause, Event, SocketOptions};
use std::time::Duration;

mod common;
use common::{addr, CLIENT, SERVER};

const SECRET: &str = "listener-secret-1";

/// Options with `passphrase` (if any) and enforced encryption `enforced`.
fn opts(passphrase: Option<&str>, enforced: bool) -> SocketOptions {
    let o = SocketOptions::live().enforced_encryption(enforced);
    match passphrase {
        Some(p) => o.passphrase(p).unwrap(),
        None => o,
    }
}

struct Outcome {
    net: Network,
    server: NodeId,
    client: NodeId,
    caller: SocketId,
    /// How connecting ended for the caller.
    result: Result<(), RejectReason>,
    /// The listener's socket for the caller, if it made one.
    accepted: Option<SocketId>,
}

impl Outcome {
    /// The caller's (receiving, sending) KM states and key length.
    fn caller_security(&mut self) -> (KmState, KmState, u8) {
        let c = self
            .net
            .endpoint(self.client)
            .connection(self.caller)
            .unwrap();
        (c.rcv_km_state(), c.snd_km_state(), c.key_len())
    }

    /// The same of the accepted socket.
    fn accepted_security(&mut self) -> (KmState, KmState, u8) {
        let id = self.accepted.expect("accepted");
        let c = self.net.endpoint(self.server).connection(id).unwrap();
        (c.rcv_km_state(), c.snd_km_state(), c.key_len())
    }

    /// Whether the accepted socket broke because the caller sent SHUTDOWN.
    fn accepted_shut_down(&self) -> bool {
        let id = self.accepted.expect("accepted");
        self.net.events(self.server).iter().any(|e| {
            *e == Event::Broken {
                socket: id,
                cause: BreakCause::PeerShutdown,
            }
        })
    }
}

/// Connects a caller with `caller` options to a listener with `listener`
/// options, then runs 1 s more (for a SHUTDOWN to arrive).
fn attempt(listener: &SocketOptions, caller: &SocketOptions) -> Outcome {
    let mut net = Network::new(7, LinkConfig::default());
    let server = net.add_endpoint(addr(SERVER));
    let client = net.add_endpoint(addr(CLIENT));
    net.endpoint(server).listen(listener, 5).unwrap();
    let now = net.now();
    let id = net
        .endpoint(client)
        .connect(now, addr(SERVER), caller)
        .unwrap();
    let ended = |net: &Network| {
        net.events(client).iter().find_map(|e| match e {
            Event::Connected { socket } if *socket == id => Some(Ok(())),
            Event::ConnectFailed { socket, reason } if *socket == id => Some(Err(*reason)),
            _ => None,
        })
    };
    net.run_until(Duration::from_secs(3), |n| ended(n).is_some());
    let result = ended(&net).expect("connecting ended");
    net.run_until(Duration::from_secs(1), |_| false);
    let accepted = net.endpoint(server).accept();
    Outcome {
        net,
        server,
        client,
        caller: id,
        result,
        accepted,
    }
}

#[test]
fn enforcing_caller_without_passphrase_refuses_a_secured_listener() {
    // The listener (not enforcing) answers with KMRSP UNSECURED; libsrt's
    // caller refuses any KM block without a passphrase when enforcing.
    let mut o = attempt(&opts(Some(SECRET), false), &opts(None, true));
    assert_eq!(o.result, Err(RejectReason::Unsecure));
    assert_eq!(
        o.caller_security(),
        (KmState::Unsecured, KmState::Unsecured, 0)
    );
    // The listener's socket learns of it.
    assert!(o.accepted_shut_down());
    assert_eq!(
        o.accepted_security(),
        (KmState::Unsecured, KmState::NoSecret, 16)
    );
    // Not enforcing, the same caller connects (it cannot decrypt).
    let mut o = attempt(&opts(Some(SECRET), false), &opts(None, false));
    assert_eq!(o.result, Ok(()));
    assert_eq!(
        o.caller_security(),
        (KmState::NoSecret, KmState::Unsecured, 0)
    );
    assert!(!o.accepted_shut_down());
}

#[test]
fn caller_with_wrong_passphrase_refuses_and_shuts_the_accepted_socket() {
    let mut o = attempt(
        &opts(Some(SECRET), false),
        &opts(Some("caller-wrong-2"), true),
    );
    // libsrt 1.5.1 says UNSECURE for its own refusal of a BADSECRET KMRSP.
    assert_eq!(o.result, Err(RejectReason::Unsecure));
    assert_eq!(
        o.caller_security(),
        (KmState::BadSecret, KmState::BadSecret, 16)
    );
    assert!(o.accepted_shut_down());
    assert_eq!(
        o.accepted_security(),
        (KmState::BadSecret, KmState::BadSecret, 16)
    );
    // A listener without passphrase answers NOSECRET.
    let mut o = attempt(&opts(None, false), &opts(Some(SECRET), true));
    assert_eq!(o.result, Err(RejectReason::Unsecure));
    assert_eq!(
        o.caller_security(),
        (KmState::Unsecured, KmState::NoSecret, 16)
    );
    assert!(o.accepted_shut_down());
    assert_eq!(
        o.accepted_security(),
        (KmState::NoSecret, KmState::Unsecured, 16)
    );
}

#[test]
fn refused_by_the_listener_leaves_what_was_sent() {
    // An enforcing listener refuses a wrong passphrase (BADSECRET) or a
    // caller without one (UNSECURE); the caller's KMREQ was never
    // answered: receiving unsecured, sending securing, as libsrt.
    let mut o = attempt(
        &opts(Some(SECRET), true),
        &opts(Some("caller-wrong-2"), false),
    );
    assert_eq!(o.result, Err(RejectReason::BadSecret));
    assert_eq!(
        o.caller_security(),
        (KmState::Unsecured, KmState::Securing, 16)
    );
    assert_eq!(o.accepted, None);
    let mut o = attempt(&opts(Some(SECRET), true), &opts(None, false));
    assert_eq!(o.result, Err(RejectReason::Unsecure));
    assert_eq!(
        o.caller_security(),
        (KmState::Unsecured, KmState::Unsecured, 0)
    );
}

#[test]
fn key_length_in_use_is_reported() {
    // Default (0): 16 negotiated, both sides read 16.
    let mut o = attempt(&opts(Some(SECRET), true), &opts(Some(SECRET), true));
    assert_eq!(o.result, Ok(()));
    assert_eq!(
        o.caller_security(),
        (KmState::Secured, KmState::Secured, 16)
    );
    assert_eq!(
        o.accepted_security(),
        (KmState::Secured, KmState::Secured, 16)
    );
    // The caller's 32 is adopted by the listener.
    let caller = opts(Some(SECRET), true).pbkeylen(32).unwrap();
    let mut o = attempt(&opts(Some(SECRET), true), &caller);
    assert_eq!(o.caller_security().2, 32);
    assert_eq!(o.accepted_security().2, 32);
    // A caller without its own adopts the listener's 24.
    let listener = opts(Some(SECRET), true).pbkeylen(24).unwrap();
    let mut o = attempt(&listener, &opts(Some(SECRET), true));
    assert_eq!(o.result, Ok(()));
    assert_eq!(o.caller_security().2, 24);
    assert_eq!(o.accepted_security().2, 24);
    // Nothing encrypted: 0.
    let mut o = attempt(&opts(None, true), &opts(None, true));
    assert_eq!(o.caller_security().2, 0);
    assert_eq!(o.accepted_security().2, 0);
}

fn with_mode(mode: CryptoMode) -> SocketOptions {
    opts(Some(SECRET), true).crypto_mode(mode).unwrap()
}

#[test]
fn listener_cipher_policy_is_libsrts() {
    use CryptoMode::{AesCtr, AesGcm, Auto};
    // (listener, caller) -> outcome; a caller's "auto" is AES-CTR.
    let cases = [
        (Auto, Auto, Ok(Cipher::AesCtr)),
        (Auto, AesCtr, Ok(Cipher::AesCtr)),
        (Auto, AesGcm, Ok(Cipher::AesGcm)),
        (AesCtr, Auto, Ok(Cipher::AesCtr)),
        (AesCtr, AesGcm, Err(RejectReason::Crypto)),
        (AesGcm, Auto, Err(RejectReason::Crypto)),
        (AesGcm, AesCtr, Err(RejectReason::Crypto)),
        (AesGcm, AesGcm, Ok(Cipher::AesGcm)),
    ];
    for (listener, caller, want) in cases {
        let mut o = attempt(&with_mode(listener), &with_mode(caller));
        let got = o.result.map(|()| {
            let c = o.net.endpoint(o.client).connection(o.caller).unwrap();
            c.cipher().unwrap()
        });
        assert_eq!(got, want, "listener {listener:?}, caller {caller:?}");
        if let Ok(cipher) = want {
            let a = o.accepted.unwrap();
            let c = o.net.endpoint(o.server).connection(a).unwrap();
            assert_eq!(c.cipher(), Some(cipher));
        }
    }
    // Not enforcing changes nothing: the mismatch is still refused.
    let listener = with_mode(AesCtr).enforced_encryption(false);
    let caller = with_mode(AesGcm).enforced_encryption(false);
    assert_eq!(
        attempt(&listener, &caller).result,
        Err(RejectReason::Crypto)
    );
}
