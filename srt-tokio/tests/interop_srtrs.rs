//! Interop with srt-rs (crates.io `srt-tokio` 0.4), an independent Rust
//! implementation of SRT: live messages both ways, caller and listener on
//! either side, plain and encrypted (AES-128 and AES-256), content
//! checked message by message.
//!
//! srt-rs advertises its payload size (1316) in the handshake's MSS field,
//! where libsrt puts the whole packet size (1500). A listener that it calls
//! then takes the smaller MSS, as libsrt does, and sends payloads of at
//! most 1316 − 44 = 1272 bytes; it still receives srt-rs's 1316-byte ones
//! (its receive buffer is sized by its own MSS, as libsrt's units are).
//!
//! Both stacks share one tokio runtime here. With only two worker threads
//! on a loaded machine, srt-rs's tasks fell behind (its receiver lost
//! half of an encrypted stream, or its sender stalled), so the runtime has
//! six, and the latency is 1 s. `-p srt-tokio` is ambiguous in this
//! workspace because of this dependency: say `-p srt-tokio@0.1.0`.

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use srt_tokio::{MsgCtrl, SrtSocket};
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::time::timeout;

const MESSAGES: u32 = 500;
const LIMIT: Duration = Duration::from_secs(20);
const PASS: &str = "interop-passphrase";
/// Latency on both sides: long enough that a loaded machine rarely loses a packet.
const LATENCY_MS: u64 = 1000;

/// The largest live payload we may send to srt-rs when it called us.
const TO_SRT_RS_CALLER: usize = 1272;

/// The index message `m` carries, if it is intact message `index` of `len` bytes.
fn check(m: &[u8], len: usize) -> u32 {
    let i = u32::from_be_bytes(m[..4].try_into().unwrap());
    assert_eq!(m, &message(i, len)[..], "message {i} garbled");
    i
}

/// What a receiver got: in order, at most a few lost (live mode gives up
/// on a packet after the latency; a loaded machine may lose one).
fn assert_mostly_in_order(got: &[u32], ours: &SrtSocket) {
    assert!(got.windows(2).all(|w| w[0] < w[1]), "out of order: {got:?}");
    assert!(
        got.len() as u32 >= MESSAGES * 99 / 100,
        "only {} of {MESSAGES} arrived; our side: {:?}",
        got.len(),
        ours.stats(false).map(|s| (
            s.pkt_sent_unique_total,
            s.pkt_retrans_total,
            s.pkt_snd_drop_total,
            s.pkt_recv_nak_total,
            s.pkt_recv_unique_total,
            s.pkt_rcv_loss_total,
            s.pkt_rcv_drop_total,
            s.pkt_rcv_undecrypt_total,
            s.pkt_sent_nak_total,
        ))
    );
}

/// Message `i` of `len` bytes: its index first, then a pattern.
fn message(i: u32, len: usize) -> Vec<u8> {
    let mut m = vec![0u8; len];
    m[..4].copy_from_slice(&i.to_be_bytes());
    for (k, b) in m[4..].iter_mut().enumerate() {
        *b = (k as u8).wrapping_mul(29).wrapping_add(i as u8);
    }
    m
}

/// A free loopback port for a listener.
fn free_addr() -> SocketAddr {
    let s = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    s.local_addr().unwrap()
}

/// Our side: a caller or a listener, with an optional passphrase.
async fn ours(listen: Option<SocketAddr>, call: Option<SocketAddr>, key: Option<u8>) -> SrtSocket {
    let mut b = SrtSocket::builder().latency(Duration::from_millis(LATENCY_MS));
    if let Some(len) = key {
        b = b.passphrase(PASS).pbkeylen(len);
    }
    match (listen, call) {
        (Some(at), _) => {
            let mut l = b.listen(at).await.unwrap();
            l.next().await.unwrap().accept().unwrap()
        }
        (_, Some(to)) => b.call(to).await.unwrap(),
        _ => unreachable!(),
    }
}

/// srt-rs's side.
async fn theirs(
    listen: Option<SocketAddr>,
    call: Option<SocketAddr>,
    key: Option<u8>,
) -> srt_rs::SrtSocket {
    let mut b = srt_rs::SrtSocket::builder().latency(Duration::from_millis(LATENCY_MS));
    if let Some(len) = key {
        b = b.encryption(u16::from(len), PASS);
    }
    match (listen, call) {
        (Some(at), _) => b.listen_on(at).await.unwrap(),
        (_, Some(to)) => b.call(to, None).await.unwrap(),
        _ => unreachable!(),
    }
}

/// Sends our messages of `len` bytes, one a millisecond, and checks srt-rs
/// got each, in order.
async fn we_send(ours: SrtSocket, mut theirs: srt_rs::SrtSocket, len: usize) {
    let sender = tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_millis(1));
        for i in 0..MESSAGES {
            tick.tick().await;
            ours.send_msg(&message(i, len), MsgCtrl::default())
                .await
                .unwrap();
        }
        ours
    });
    let mut got = Vec::new();
    while got.last() != Some(&(MESSAGES - 1)) {
        match timeout(Duration::from_secs(3), theirs.next()).await {
            Ok(Some(Ok((_, m)))) => got.push(check(&m, len)),
            _ => break,
        }
    }
    let ours = sender.await.unwrap();
    assert_mostly_in_order(&got, &ours);
    let stats = ours.stats(false).unwrap();
    assert_eq!(stats.pkt_sent_unique_total, i64::from(MESSAGES));
}

/// srt-rs sends, one a millisecond; we check each message, in order.
async fn they_send(ours: SrtSocket, mut theirs: srt_rs::SrtSocket) {
    let sender = tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_millis(1));
        for i in 0..MESSAGES {
            tick.tick().await;
            let m = Bytes::from(message(i, 1316));
            theirs.send((Instant::now(), m)).await.unwrap();
        }
        theirs
    });
    let mut got = Vec::new();
    while got.last() != Some(&(MESSAGES - 1)) {
        match timeout(Duration::from_secs(3), ours.recv()).await {
            Ok(Ok(m)) => got.push(check(&m.payload, 1316)),
            _ => break,
        }
    }
    assert_mostly_in_order(&got, &ours);
    let _theirs = sender.await.unwrap();
    let stats = ours.stats(false).unwrap();
    assert_eq!(stats.pkt_rcv_undecrypt_total, 0);
}

/// Connects with our side listening (or calling) and srt-rs the other.
async fn pair(we_listen: bool, key: Option<u8>) -> (SrtSocket, srt_rs::SrtSocket) {
    let at = free_addr();
    let (a, b) = if we_listen {
        tokio::join!(ours(Some(at), None, key), async {
            tokio::time::sleep(Duration::from_millis(100)).await;
            theirs(None, Some(at), key).await
        })
    } else {
        tokio::join!(
            async {
                tokio::time::sleep(Duration::from_millis(100)).await;
                ours(None, Some(at), key).await
            },
            theirs(Some(at), None, key)
        )
    };
    (a, b)
}

/// Connects (our side listening or calling) and sends one way.
async fn run(we_listen: bool, we_send_it: bool, key: Option<u8>) {
    let (a, b) = timeout(LIMIT, pair(we_listen, key)).await.unwrap();
    if we_send_it {
        let len = if we_listen { TO_SRT_RS_CALLER } else { 1316 };
        we_send(a, b, len).await;
    } else {
        they_send(a, b).await;
    }
}

macro_rules! interop_tests {
    ($($name:ident: $we_listen:expr, $we_send:expr, $key:expr;)*) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 6)]
        async fn $name() {
            run($we_listen, $we_send, $key).await;
        }
    )*};
}

interop_tests! {
    we_call_and_send: false, true, None;
    we_call_and_receive: false, false, None;
    we_listen_and_send: true, true, None;
    we_listen_and_receive: true, false, None;
    aes128_we_call_and_send: false, true, Some(16);
    aes128_we_listen_and_send: true, true, Some(16);
    aes256_we_call_and_receive: false, false, Some(32);
    aes256_we_listen_and_receive: true, false, Some(32);
}
