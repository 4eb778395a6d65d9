//! Encryption against libsrt 1.5.1 (`srt-live-transmit`, `srt-file-transmit`):
//!
//! - live mode, AES-128/192/256 in both directions, content verified;
//! - file mode (AES-128/192/256, 1% loss through `srt-relay`), both directions,
//!   verified by SHA-1;
//! - with `SRTO_ENFORCEDENCRYPTION`: a wrong or one-sided passphrase is
//!   refused with the codes libsrt logs;
//! - without it: the connection is made, each side reports the KM states
//!   libsrt reports, and nothing is ever delivered that the receiver could
//!   not decrypt; what libsrt 1.5.1 does in the same places is checked too.
//!
//! Fails, never skips, without libsrt's tools.

mod common;

use common::{free_port, Proc};

use sha1::{Digest, Sha1};
use srt_proto::packet::{KmState, RejectReason, SocketId};
use srt_proto::{CloseMode, Event, MsgCtrl, SendError, SocketOptions};
use srt_tools::udp_driver::UdpDriver;
use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

const PASS: &str = "0123456789abcdef";
const OTHER_PASS: &str = "fedcba9876543210";
const PACKETS: u64 = 500;

fn payload(i: u64) -> Vec<u8> {
    let mut p = vec![0u8; 1316];
    p[..8].copy_from_slice(&i.to_be_bytes());
    for (k, b) in p[8..].iter_mut().enumerate() {
        *b = (i as usize * 13 + k) as u8;
    }
    p
}

/// `srt-live-transmit` with these arguments.
fn slt(args: &[&str]) -> Proc {
    Proc::spawn("srt-live-transmit", args)
}

fn options(pass: Option<&str>, key_len: u8) -> SocketOptions {
    let mut o = SocketOptions::live();
    o.conntimeo = Duration::from_secs(10);
    if let Some(p) = pass {
        o = o.passphrase(p).unwrap().pbkeylen(key_len).unwrap();
    }
    o
}

#[test]
fn libsrt_encrypts_to_us_with_every_key_length() {
    for key_len in [16u8, 24, 32] {
        let mut d = UdpDriver::bind("127.0.0.1:0".parse().unwrap()).unwrap();
        d.endpoint.listen(&options(Some(PASS), key_len), 5).unwrap();
        let udp_in = free_port();
        let src = format!("udp://127.0.0.1:{udp_in}");
        let dst = format!(
            "srt://{}?passphrase={PASS}&pbkeylen={key_len}",
            d.local_addr()
        );
        let _slt = slt(&["-a:no", &src, &dst]);
        assert!(d
            .run_until(Duration::from_secs(10), |e| matches!(
                e,
                Event::Accepted { .. }
            ))
            .unwrap());
        let id = d.endpoint.accept().unwrap();
        assert_eq!(
            d.endpoint.connection(id).unwrap().km_state(),
            srt_proto::packet::KmState::Secured
        );
        d.run_for(Duration::from_secs(1)).unwrap();
        let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
        let mut got = std::collections::BTreeSet::new();
        let mut buf = [0u8; 1500];
        for i in 0..PACKETS {
            sock.send_to(&payload(i), ("127.0.0.1", udp_in)).unwrap();
            d.turn(Duration::from_millis(1)).unwrap();
            while let Some(info) = d.endpoint.recv(Instant::now(), id, &mut buf).unwrap() {
                let j = u64::from_be_bytes(buf[..8].try_into().unwrap());
                assert_eq!(
                    &buf[..info.len],
                    payload(j).as_slice(),
                    "AES-{}: corrupt",
                    key_len * 8
                );
                got.insert(j);
            }
        }
        let end = Instant::now() + Duration::from_secs(1);
        while Instant::now() < end {
            d.turn(Duration::from_millis(5)).unwrap();
            while let Some(info) = d.endpoint.recv(Instant::now(), id, &mut buf).unwrap() {
                let j = u64::from_be_bytes(buf[..8].try_into().unwrap());
                assert_eq!(&buf[..info.len], payload(j).as_slice());
                got.insert(j);
            }
        }
        let stats = d.endpoint.socket_stats(Instant::now(), id, false).unwrap();
        assert_eq!(stats.pkt_rcv_undecrypt_total, 0, "AES-{}", key_len * 8);
        assert!(
            got.len() as u64 >= PACKETS - 2,
            "AES-{}: {} of {PACKETS}",
            key_len * 8,
            got.len()
        );
    }
}

#[test]
fn we_encrypt_to_libsrt_with_every_key_length() {
    for key_len in [16u8, 24, 32] {
        let port = free_port();
        let sink = UdpSocket::bind("127.0.0.1:0").unwrap();
        // Read after the stream: the kernel must hold all of it.
        socket2::SockRef::from(&sink)
            .set_recv_buffer_size(8 << 20)
            .unwrap();
        sink.set_read_timeout(Some(Duration::from_millis(50)))
            .unwrap();
        let src =
            format!("srt://127.0.0.1:{port}?mode=listener&passphrase={PASS}&pbkeylen={key_len}");
        let dst = format!("udp://127.0.0.1:{}", sink.local_addr().unwrap().port());
        let _slt = slt(&["-a:no", &src, &dst]);
        let mut d = UdpDriver::bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let remote: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let id = common::connect(&mut d, remote, &options(Some(PASS), key_len));
        for i in 0..PACKETS {
            d.endpoint
                .send(Instant::now(), id, &payload(i), &MsgCtrl::default())
                .unwrap();
            d.turn(Duration::from_millis(1)).unwrap();
        }
        d.run_for(Duration::from_millis(500)).unwrap();
        let mut got = std::collections::BTreeSet::new();
        let mut buf = [0u8; 2048];
        while let Ok(n) = sink.recv(&mut buf) {
            let j = u64::from_be_bytes(buf[..8].try_into().unwrap());
            assert_eq!(
                &buf[..n],
                payload(j).as_slice(),
                "AES-{}: corrupt",
                key_len * 8
            );
            got.insert(j);
        }
        assert!(
            got.len() as u64 >= PACKETS - 2,
            "AES-{}: {} of {PACKETS}",
            key_len * 8,
            got.len()
        );
    }
}

#[test]
fn wrong_or_one_sided_passphrase_is_refused_like_libsrt() {
    for (ours, theirs, reason) in [
        (
            Some(PASS),
            Some("fedcba9876543210"),
            RejectReason::BadSecret,
        ),
        (Some(PASS), None, RejectReason::Unsecure),
        (None, Some(PASS), RejectReason::Unsecure),
    ] {
        let port = free_port();
        let mut src = format!("srt://127.0.0.1:{port}?mode=listener");
        if let Some(p) = theirs {
            src.push_str(&format!("&passphrase={p}"));
        }
        let listener = slt(&["-a:no", &src, "file://con"]);
        let mut d = UdpDriver::bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let remote: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let id = common::start_connect(&mut d, remote, &options(ours, 16));
        assert!(
            d.events
                .contains(&Event::ConnectFailed { socket: id, reason }),
            "expected {reason:?}: {:?}",
            d.events
        );
        d.run_for(Duration::from_millis(200)).unwrap();
        // libsrt's listener logs the same code.
        let out = listener.stop();
        let code = 1000 + reason.code();
        assert!(out.contains(&format!("rsp(REJECT): {code}")), "{out}");
    }
}

// ----- file mode -----

/// The file size of the file-mode tests.
const FILE_LEN: usize = 4 << 20;

/// Deterministic file content.
fn file_data(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed;
    let mut v = Vec::with_capacity(len + 8);
    while v.len() < len {
        x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = x;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        v.extend_from_slice(&(z ^ (z >> 31)).to_le_bytes());
    }
    v.truncate(len);
    v
}

fn sha1_hex(data: &[u8]) -> String {
    Sha1::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A fresh scratch directory with `in` and `out` subdirectories.
fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("interop-crypto-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("in")).unwrap();
    std::fs::create_dir_all(dir.join("out")).unwrap();
    dir
}

/// `srt-relay` to `forward`: 1% loss each way, 5 ms delay, order kept.
fn lossy_relay(forward: SocketAddr, seed: u64) -> (Proc, SocketAddr) {
    common::relay(forward, seed, &["--loss", "0.01", "--delay-ms", "5"])
}

fn file_options(key_len: u8) -> SocketOptions {
    let mut o = SocketOptions::file()
        .passphrase(PASS)
        .unwrap()
        .pbkeylen(key_len)
        .unwrap();
    o.conntimeo = Duration::from_secs(10);
    o
}

#[test]
fn file_mode_libsrt_encrypts_a_file_to_us() {
    for key_len in [16, 24, 32] {
        libsrt_encrypts_a_file_to_us(key_len);
    }
}

fn libsrt_encrypts_a_file_to_us(key_len: u8) {
    let data = file_data(0xC0DE_0001, FILE_LEN);
    let dir = scratch("to-us");
    let input = dir.join("in").join("upload.bin");
    std::fs::write(&input, &data).unwrap();

    let mut d = UdpDriver::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    d.endpoint.listen(&file_options(key_len), 5).unwrap();
    let (relay, relay_addr) = lossy_relay(d.local_addr(), 21);
    let src = format!("file://{}", input.display());
    let dst =
        format!("srt://{relay_addr}?streamid=upload.bin&passphrase={PASS}&pbkeylen={key_len}");
    let sft = Proc::spawn("srt-file-transmit", &[&src, &dst]);
    assert!(
        d.run_until(Duration::from_secs(10), |e| matches!(
            e,
            Event::Accepted { .. }
        ))
        .unwrap(),
        "srt-file-transmit did not connect: {}",
        sft.wait(Duration::ZERO).1
    );
    let id = d.endpoint.accept().unwrap();
    let conn = d.endpoint.connection(id).unwrap();
    assert_eq!(
        (conn.rcv_km_state(), conn.snd_km_state()),
        (KmState::Secured, KmState::Secured)
    );
    d.events.clear();

    let start = Instant::now();
    let mut got = Vec::with_capacity(FILE_LEN);
    let mut broken = false;
    let mut buf = vec![0u8; 65_536];
    loop {
        broken |= d
            .turn(Duration::from_millis(1))
            .unwrap()
            .iter()
            .any(|e| matches!(e, Event::Broken { socket, .. } if *socket == id));
        d.events.clear();
        let mut read_any = false;
        while let Some(info) = d.endpoint.recv(Instant::now(), id, &mut buf).unwrap() {
            if info.len == 0 {
                break;
            }
            got.extend_from_slice(&buf[..info.len]);
            read_any = true;
        }
        // Done: the peer closed and nothing is left to read.
        if broken && !read_any {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "libsrt -> us: {} of {FILE_LEN} bytes after 60 s",
            got.len()
        );
    }
    let took = start.elapsed();
    let stats = d.endpoint.socket_stats(Instant::now(), id, false).unwrap();
    let (status, out) = sft.wait(Duration::from_secs(5));
    println!("{}", relay.stop().trim());
    println!(
        "libsrt -> us (AES-{}, file mode): {} bytes in {took:.2?}, {} retransmitted packets received, sha1 {}",
        u32::from(key_len) * 8,
        got.len(),
        stats.pkt_rcv_retrans,
        sha1_hex(&got)
    );
    assert_eq!(
        got.len(),
        FILE_LEN,
        "length differs; srt-file-transmit: {out}"
    );
    assert_eq!(sha1_hex(&got), sha1_hex(&data), "content differs");
    assert_eq!(stats.pkt_rcv_undecrypt_total, 0);
    assert!(stats.pkt_rcv_retrans > 0, "the relay lost nothing?");
    assert!(
        status.is_some_and(|s| s.success()),
        "srt-file-transmit: {status:?} {out}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn file_mode_we_encrypt_a_file_to_libsrt() {
    for key_len in [16, 24, 32] {
        we_encrypt_a_file_to_libsrt(key_len);
    }
}

fn we_encrypt_a_file_to_libsrt(key_len: u8) {
    let data = file_data(0xC0DE_0002, FILE_LEN);
    let dir = scratch("to-libsrt");
    let port = free_port();
    let src = format!("srt://127.0.0.1:{port}?mode=listener&passphrase={PASS}&pbkeylen={key_len}");
    let dst = format!("file://{}/", dir.join("out").display());
    let sft = Proc::spawn("srt-file-transmit", &[&src, &dst]);
    let (relay, relay_addr) = lossy_relay(format!("127.0.0.1:{port}").parse().unwrap(), 22);

    let mut d = UdpDriver::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let opts = file_options(key_len).stream_id("download.bin").unwrap();
    let id = common::connect(&mut d, relay_addr, &opts);
    assert_eq!(
        d.endpoint.connection(id).unwrap().km_state(),
        KmState::Secured
    );
    d.events.clear();

    let start = Instant::now();
    let mut at = 0;
    while at < data.len() {
        let now = Instant::now();
        loop {
            match d.endpoint.send(now, id, &data[at..], &MsgCtrl::default()) {
                Ok(n) => {
                    at += n;
                    if at == data.len() {
                        break;
                    }
                }
                Err(SendError::WouldBlock) => break,
                Err(e) => panic!("send failed after {at} bytes: {e}"),
            }
        }
        d.turn(Duration::from_millis(1)).unwrap();
        assert!(
            !d.events.iter().any(|e| matches!(e, Event::Broken { .. })),
            "{:?}",
            d.events
        );
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "us -> libsrt: {at} bytes queued after 60 s"
        );
    }
    d.endpoint
        .close(Instant::now(), id, CloseMode::Linger)
        .unwrap();
    let closed = d
        .run_until(Duration::from_secs(30), |e| {
            matches!(e, Event::Closed { .. } | Event::Broken { .. })
        })
        .unwrap();
    let took = start.elapsed();
    d.run_for(Duration::from_millis(100)).unwrap();
    let (status, out) = sft.wait(Duration::from_secs(10));
    println!("{}", relay.stop().trim());
    assert!(closed, "linger close did not finish: {:?}", d.events);
    let got = std::fs::read(dir.join("out").join("download.bin"))
        .unwrap_or_else(|e| panic!("srt-file-transmit wrote nothing ({e}): {status:?} {out}"));
    println!(
        "us -> libsrt (AES-{}, file mode): {} bytes in {took:.2?}, sha1 {}",
        u32::from(key_len) * 8,
        got.len(),
        sha1_hex(&got)
    );
    assert_eq!(got.len(), FILE_LEN, "length differs");
    assert_eq!(sha1_hex(&got), sha1_hex(&data), "content differs");
    let _ = std::fs::remove_dir_all(&dir);
}

// ----- without enforced encryption -----

/// What one direction of a connection without `SRTO_ENFORCEDENCRYPTION`
/// did.
struct Unenforced {
    /// Our `SRTO_RCVKMSTATE` and `SRTO_SNDKMSTATE`.
    rcv: KmState,
    snd: KmState,
    /// Datagrams the receiving application got that equal what was sent.
    plain: u64,
    /// Datagrams it got that do not (ciphertext passed on as is).
    other: u64,
    /// Our statistics.
    stats: srt_proto::stats::TraceBStats,
    /// What srt-live-transmit printed.
    log: String,
}

/// A live connection with `SRTO_ENFORCEDENCRYPTION` off on both sides and
/// passphrases `ours` and `theirs`; we are the caller (or the listener if
/// `we_listen`); 200 packets go from us to libsrt if `we_send`, else from
/// libsrt to us.
fn unenforced(
    ours: Option<&str>,
    theirs: Option<&str>,
    we_listen: bool,
    we_send: bool,
) -> Unenforced {
    const N: u64 = 200;
    let mut opts = SocketOptions::live();
    opts.conntimeo = Duration::from_secs(10);
    opts.enforcedencryption = false;
    if let Some(p) = ours {
        opts = opts.passphrase(p).unwrap();
    }
    let mut query = String::from("enforcedencryption=0");
    if let Some(p) = theirs {
        query.push_str(&format!("&passphrase={p}"));
    }
    let mut d = UdpDriver::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let port = free_port();
    let uri = if we_listen {
        d.endpoint.listen(&opts, 5).unwrap();
        format!("srt://{}?{query}", d.local_addr())
    } else {
        format!("srt://127.0.0.1:{port}?mode=listener&{query}")
    };
    let sink = UdpSocket::bind("127.0.0.1:0").unwrap();
    // Read after the stream: the kernel must hold all of it.
    socket2::SockRef::from(&sink)
        .set_recv_buffer_size(8 << 20)
        .unwrap();
    sink.set_read_timeout(Some(Duration::from_millis(50)))
        .unwrap();
    let udp_in = free_port();
    let libsrt = if we_send {
        let out = format!("udp://127.0.0.1:{}", sink.local_addr().unwrap().port());
        slt(&["-a:no", &uri, &out])
    } else {
        slt(&["-a:no", &format!("udp://127.0.0.1:{udp_in}"), &uri])
    };
    let id: SocketId = if we_listen {
        assert!(d
            .run_until(Duration::from_secs(10), |e| matches!(
                e,
                Event::Accepted { .. }
            ))
            .unwrap());
        d.endpoint.accept().unwrap()
    } else {
        let remote: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let id = common::start_connect(&mut d, remote, &opts);
        assert!(
            d.events.contains(&Event::Connected { socket: id }),
            "{:?}: {}",
            d.events,
            libsrt.stop()
        );
        id
    };
    d.run_for(Duration::from_millis(300)).unwrap();
    let (mut plain, mut other) = (0, 0);
    let mut classify = |bytes: &[u8]| {
        let i = bytes
            .get(..8)
            .map(|b| u64::from_be_bytes(b.try_into().unwrap()));
        if i.is_some_and(|i| i < N && bytes == payload(i).as_slice()) {
            plain += 1;
        } else {
            other += 1;
        }
    };
    let mut buf = [0u8; 1500];
    let src = UdpSocket::bind("127.0.0.1:0").unwrap();
    for i in 0..N {
        if we_send {
            d.endpoint
                .send(Instant::now(), id, &payload(i), &MsgCtrl::default())
                .unwrap();
        } else {
            src.send_to(&payload(i), ("127.0.0.1", udp_in)).unwrap();
        }
        d.turn(Duration::from_millis(2)).unwrap();
        while let Some(info) = d.endpoint.recv(Instant::now(), id, &mut buf).unwrap() {
            classify(&buf[..info.len]);
        }
    }
    let end = Instant::now() + Duration::from_secs(1);
    while Instant::now() < end {
        d.turn(Duration::from_millis(5)).unwrap();
        while let Some(info) = d.endpoint.recv(Instant::now(), id, &mut buf).unwrap() {
            classify(&buf[..info.len]);
        }
    }
    while let Ok(n) = sink.recv(&mut buf) {
        classify(&buf[..n]);
    }
    let conn = d.endpoint.connection(id).unwrap();
    let (rcv, snd) = (conn.rcv_km_state(), conn.snd_km_state());
    let stats = d.endpoint.socket_stats(Instant::now(), id, false).unwrap();
    let log = libsrt.stop();
    println!(
        "ours {ours:?} theirs {theirs:?} we_listen {we_listen} we_send {we_send}: our KM rcv {rcv:?} snd {snd:?}; delivered {plain} intact, {other} not; we counted {} undecrypted, sent {}",
        stats.pkt_rcv_undecrypt_total, stats.pkt_sent_total
    );
    Unenforced {
        rcv,
        snd,
        plain,
        other,
        stats,
        log,
    }
}

#[test]
fn unenforced_wrong_passphrase_connects_and_delivers_nothing_undecryptable() {
    // We send: we encrypt (our key material was refused, we keep it, as
    // libsrt does). libsrt 1.5.1 cannot decrypt and passes the ciphertext
    // on to its output as is (its receive buffer keeps undecryptable
    // packets; libsrt >= 1.5.2 drops them, as we do).
    let o = unenforced(Some(PASS), Some(OTHER_PASS), false, true);
    assert_eq!((o.rcv, o.snd), (KmState::BadSecret, KmState::BadSecret));
    assert_eq!(o.plain, 0, "clear text sent under a passphrase");
    assert!(o.other > 150, "{}", o.other);
    assert!(o.log.contains("BADSECRET"), "{}", o.log);
    // libsrt sends: its key material exchange failed, so it encrypts with
    // a key of its own that we never get (`createFakeSndContext`): nothing
    // delivered, every packet counted as undecrypted.
    let o = unenforced(Some(PASS), Some(OTHER_PASS), false, false);
    assert_eq!((o.plain, o.other), (0, 0));
    assert!(o.stats.pkt_rcv_undecrypt_total > 150, "{:?}", o.stats);
    // We are the listener and libsrt sends: the same.
    let o = unenforced(Some(PASS), Some(OTHER_PASS), true, false);
    assert_eq!((o.rcv, o.snd), (KmState::BadSecret, KmState::BadSecret));
    assert_eq!((o.plain, o.other), (0, 0));
    assert!(o.stats.pkt_rcv_undecrypt_total > 150, "{:?}", o.stats);
    // We are the listener and send: as libsrt, we encrypt with a key of
    // our own, never in clear; libsrt 1.5.1 passes the ciphertext on.
    let o = unenforced(Some(PASS), Some(OTHER_PASS), true, true);
    assert_eq!(o.plain, 0, "clear text sent under a passphrase");
    assert!(o.other > 150, "{}", o.other);
}

#[test]
fn unenforced_passphrase_on_our_side_only() {
    // We encrypt; libsrt (no passphrase: NOSECRET) passes ciphertext on.
    let o = unenforced(Some(PASS), None, false, true);
    assert_eq!((o.rcv, o.snd), (KmState::Unsecured, KmState::NoSecret));
    assert_eq!(o.plain, 0, "clear text sent under a passphrase");
    assert!(o.other > 150, "{}", o.other);
    // libsrt sends in clear, and we take it (our receiving side is
    // unsecured, as libsrt's is in the same place).
    let o = unenforced(Some(PASS), None, false, false);
    assert!(o.plain > 190, "{} {}", o.plain, o.other);
    assert_eq!(o.other, 0);
    // As listener, with a caller that sent no key material, we still
    // encrypt, with a key nobody has (libsrt's `createFakeSndContext`).
    let o = unenforced(Some(PASS), None, true, true);
    assert_eq!((o.rcv, o.snd), (KmState::Unsecured, KmState::NoSecret));
    assert_eq!(o.plain, 0, "clear text sent under a passphrase");
    assert!(o.other > 150, "{}", o.other);
}

#[test]
fn unenforced_passphrase_on_libsrt_side_only() {
    // We send in clear; libsrt (its receiving side unsecured) takes it.
    let o = unenforced(None, Some(PASS), false, true);
    assert_eq!((o.rcv, o.snd), (KmState::NoSecret, KmState::Unsecured));
    assert!(o.plain > 190, "{} {}", o.plain, o.other);
    assert_eq!(o.other, 0);
    // libsrt encrypts with a key we cannot have: nothing delivered, every
    // packet counted as undecrypted.
    let o = unenforced(None, Some(PASS), false, false);
    assert_eq!((o.plain, o.other), (0, 0));
    assert!(o.stats.pkt_rcv_undecrypt_total > 150, "{:?}", o.stats);
    // We are the listener: the same, the other way round.
    let o = unenforced(None, Some(PASS), true, false);
    assert_eq!((o.rcv, o.snd), (KmState::NoSecret, KmState::Unsecured));
    assert_eq!((o.plain, o.other), (0, 0));
    assert!(o.stats.pkt_rcv_undecrypt_total > 150, "{:?}", o.stats);
}
