//! Live streams between our engine and libsrt 1.5.1's `srt-live-transmit`,
//! in both directions, through `srt-relay` (5% loss, 10 ms delay, 2 ms
//! jitter), 20 Mbit/s for 30 s, verified by content.
//!
//! Fails, never skips, when libsrt's tools are missing (`cargo xtask ci`
//! installs them).

mod common;

use common::{free_port, Proc};

use srt_proto::{Event, MsgCtrl, SocketOptions};
use srt_tools::udp_driver::UdpDriver;
use std::collections::BTreeSet;
use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

const PAYLOAD: usize = 1316;
const RATE_BPS: u64 = 20_000_000;
const SECONDS: u64 = 30;

fn period() -> Duration {
    Duration::from_nanos(PAYLOAD as u64 * 8 * 1_000_000_000 / RATE_BPS)
}

/// The payload of packet `i`: its index, then a pattern derived from it.
fn payload(i: u64) -> [u8; PAYLOAD] {
    let mut p = [0u8; PAYLOAD];
    p[..8].copy_from_slice(&i.to_be_bytes());
    for (k, b) in p[8..].iter_mut().enumerate() {
        *b = (i as usize).wrapping_mul(131).wrapping_add(k * 7) as u8;
    }
    p
}

/// Checks a received datagram; returns its index if the content is right.
fn verify(bytes: &[u8]) -> Option<u64> {
    if bytes.len() != PAYLOAD {
        return None;
    }
    let i = u64::from_be_bytes(bytes[..8].try_into().ok()?);
    (bytes == payload(i)).then_some(i)
}

/// `srt-relay` from any port to `forward`: 5% loss, 10 ms delay, 2 ms
/// jitter; returns it and the address it listens on.
fn relay(forward: SocketAddr, seed: u64) -> (Proc, SocketAddr) {
    common::relay(
        forward,
        seed,
        &["--loss", "0.05", "--delay-ms", "10", "--jitter-ms", "2"],
    )
}

/// srt-live-transmit's last statistics report (`-s:100 -f -pf:json`).
fn libsrt_stats(path: &std::path::Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).expect("srt-live-transmit wrote no statistics");
    let last = text
        .lines()
        .rev()
        .find(|l| l.starts_with('{'))
        .expect("no JSON report");
    serde_json::from_str(last).unwrap()
}

fn stat(v: &serde_json::Value, dir: &str, key: &str) -> i64 {
    v[dir][key]
        .as_i64()
        .unwrap_or_else(|| panic!("no {dir}.{key} in {v}"))
}

/// `a` and `b` agree within 1%.
fn within_1pct(what: &str, ours: i64, theirs: i64) {
    println!("{what}: ours {ours}, libsrt {theirs}");
    let diff = (ours - theirs).abs() as f64;
    assert!(
        diff <= 0.01 * theirs.max(ours) as f64,
        "{what}: ours {ours} and libsrt's {theirs} differ by more than 1%"
    );
}

struct Tally {
    sent: u64,
    received: BTreeSet<u64>,
    corrupt: u64,
}

impl Tally {
    fn check(&self, direction: &str) {
        let got = self.received.len() as u64;
        println!(
            "{direction}: sent {} packets, received {got} intact, {} corrupt ({:.4}%)",
            self.sent,
            self.corrupt,
            100.0 * got as f64 / self.sent as f64
        );
        let missing: Vec<u64> = (0..self.sent)
            .filter(|i| !self.received.contains(i))
            .take(20)
            .collect();
        println!("{direction}: first missing packets {missing:?}");
        assert_eq!(self.corrupt, 0, "{direction}: corrupted payloads");
        assert!(self.sent > 50_000, "{direction}: only {} sent", self.sent);
        assert!(
            got * 1000 >= self.sent * 999,
            "{direction}: only {got} of {} packets delivered",
            self.sent
        );
    }
}

#[test]
fn libsrt_sends_to_us_through_lossy_relay() {
    let mut d = UdpDriver::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    d.endpoint.listen(&SocketOptions::live(), 5).unwrap();
    let (relay, relay_addr) = relay(d.local_addr(), 1);
    let udp_in = free_port();
    let src = format!("udp://127.0.0.1:{udp_in}");
    let dst = format!("srt://{relay_addr}?streamid=interop-in");
    let stats_path = std::env::temp_dir().join(format!("slt-send-{}.json", std::process::id()));
    let statsout = format!("-statsout:{}", stats_path.display());
    let slt = Proc::spawn(
        "srt-live-transmit",
        &["-a:no", "-s:100", "-f", "-pf:json", &statsout, &src, &dst],
    );
    assert!(d
        .run_until(Duration::from_secs(10), |e| matches!(
            e,
            Event::Accepted { .. }
        ))
        .unwrap());
    let id = d.endpoint.accept().unwrap();
    // srt-live-transmit starts reading its UDP input a moment after it
    // connects; what arrives before is lost at its door, not in SRT.
    d.run_for(Duration::from_secs(1)).unwrap();

    // The source: 20 Mbit/s of numbered payloads into srt-live-transmit.
    let source = std::thread::spawn(move || {
        let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
        let start = Instant::now();
        let n = SECONDS * RATE_BPS / (PAYLOAD as u64 * 8);
        for i in 0..n {
            let due = start + period() * i as u32;
            if let Some(wait) = due.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
            sock.send_to(&payload(i), ("127.0.0.1", udp_in)).unwrap();
        }
        n
    });
    let mut tally = Tally {
        sent: 0,
        received: BTreeSet::new(),
        corrupt: 0,
    };
    let mut buf = [0u8; 1500];
    let mut done_at = None;
    loop {
        d.turn(Duration::from_millis(1)).unwrap();
        while let Some(info) = d.endpoint.recv(Instant::now(), id, &mut buf).unwrap() {
            match verify(&buf[..info.len]) {
                Some(i) => {
                    tally.received.insert(i);
                }
                None => tally.corrupt += 1,
            }
        }
        if done_at.is_none() && source.is_finished() {
            done_at = Some(Instant::now());
        }
        if done_at.is_some_and(|t| t.elapsed() > Duration::from_secs(2)) {
            break;
        }
    }
    tally.sent = source.join().unwrap();
    let stats = d.endpoint.socket_stats(Instant::now(), id, false).unwrap();
    println!(
        "receiver: recv {} unique {} loss {} retrans {} drop {} belated {}",
        stats.pkt_recv_total,
        stats.pkt_recv_unique_total,
        stats.pkt_rcv_loss_total,
        stats.pkt_rcv_retrans,
        stats.pkt_rcv_drop_total,
        stats.pkt_rcv_belated
    );
    drop(slt);
    println!("{}", relay.stop().trim());
    tally.check("libsrt -> us");
    // libsrt's sender and our receiver tell the same story.
    let theirs = libsrt_stats(&stats_path);
    within_1pct(
        "unique packets (libsrt sent / we received + dropped)",
        stats.pkt_recv_unique_total + i64::from(stats.pkt_rcv_drop_total),
        stat(&theirs, "send", "packetsUnique"),
    );
    within_1pct(
        "unique bytes with headers (libsrt sent / we received + dropped)",
        (stats.byte_recv_unique_total + stats.byte_rcv_drop_total) as i64,
        stat(&theirs, "send", "bytesUnique"),
    );
    let their_rexmit = stat(&theirs, "send", "packetsRetransmitted");
    println!(
        "retransmissions: libsrt sent {their_rexmit}, we received {}",
        stats.pkt_rcv_retrans
    );
    assert!(i64::from(stats.pkt_rcv_retrans) <= their_rexmit);
    let _ = std::fs::remove_file(&stats_path);
}

#[test]
fn we_send_to_libsrt_through_lossy_relay() {
    let slt_port = free_port();
    let sink = UdpSocket::bind("127.0.0.1:0").unwrap();
    let sink_port = sink.local_addr().unwrap().port();
    let src = format!("srt://127.0.0.1:{slt_port}?mode=listener");
    let dst = format!("udp://127.0.0.1:{sink_port}");
    let stats_path = std::env::temp_dir().join(format!("slt-recv-{}.json", std::process::id()));
    let statsout = format!("-statsout:{}", stats_path.display());
    let slt = Proc::spawn(
        "srt-live-transmit",
        &["-a:no", "-s:100", "-f", "-pf:json", &statsout, &src, &dst],
    );
    let (relay, relay_addr) = relay(format!("127.0.0.1:{slt_port}").parse().unwrap(), 2);

    // The sink: what srt-live-transmit writes out, verified.
    let receiver = std::thread::spawn(move || {
        let mut tally = Tally {
            sent: 0,
            received: BTreeSet::new(),
            corrupt: 0,
        };
        let _ = socket2::SockRef::from(&sink).set_recv_buffer_size(8 << 20);
        sink.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut buf = [0u8; 2048];
        while let Ok(n) = sink.recv(&mut buf) {
            match verify(&buf[..n]) {
                Some(i) => {
                    tally.received.insert(i);
                }
                None => tally.corrupt += 1,
            }
        }
        tally
    });

    let mut d = UdpDriver::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let mut opts = SocketOptions::live().stream_id("interop-out").unwrap();
    opts.conntimeo = Duration::from_secs(10);
    let id = common::connect(&mut d, relay_addr, &opts);

    let start = Instant::now();
    let n = SECONDS * RATE_BPS / (PAYLOAD as u64 * 8);
    let mut i = 0;
    while i < n {
        let now = Instant::now();
        while i < n && start + period() * i as u32 <= now {
            d.endpoint
                .send(now, id, &payload(i), &MsgCtrl::default())
                .unwrap();
            i += 1;
        }
        let next = start + period() * i as u32;
        d.turn(next.saturating_duration_since(Instant::now()))
            .unwrap();
    }
    // Let retransmissions finish, then close.
    d.run_for(Duration::from_secs(1)).unwrap();
    let stats = d.endpoint.socket_stats(Instant::now(), id, false).unwrap();
    println!(
        "sender: sent {} unique {} retrans {} loss {} drop {}",
        stats.pkt_sent_total,
        stats.pkt_sent_unique_total,
        stats.pkt_retrans_total,
        stats.pkt_snd_loss_total,
        stats.pkt_snd_drop_total
    );
    d.endpoint
        .close(Instant::now(), id, srt_proto::CloseMode::Abort)
        .unwrap();
    d.run_for(Duration::from_millis(100)).unwrap();
    let mut tally = receiver.join().unwrap();
    tally.sent = n;
    drop(slt);
    println!("{}", relay.stop().trim());
    tally.check("us -> libsrt");
    // Our sender and libsrt's receiver tell the same story.
    let theirs = libsrt_stats(&stats_path);
    within_1pct(
        "unique packets (we sent / libsrt received + dropped)",
        stats.pkt_sent_unique_total,
        stat(&theirs, "recv", "packetsUnique") + stat(&theirs, "recv", "packetsDropped"),
    );
    within_1pct(
        "unique bytes with headers (we sent / libsrt received + dropped)",
        stats.byte_sent_unique_total as i64,
        stat(&theirs, "recv", "bytesUnique") + stat(&theirs, "recv", "bytesDropped"),
    );
    let their_rexmit = stat(&theirs, "recv", "packetsRetransmitted");
    println!(
        "retransmissions: we sent {}, libsrt received {their_rexmit}",
        stats.pkt_retrans_total
    );
    assert!(their_rexmit <= i64::from(stats.pkt_retrans_total));
    let _ = std::fs::remove_file(&stats_path);
}
