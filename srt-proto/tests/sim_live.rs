//! Live mode through the simulator: a constant-rate stream with a fixed
//! end-to-end latency, recovered by retransmission when it can be and
//! dropped on time when it cannot.

use srt_proto::packet::SocketId;
use srt_proto::sim::link::LinkConfig;
use srt_proto::sim::{run_seeds, Network, NodeId};
use srt_proto::{BreakCause, CloseMode, Event, MsgCtrl, SocketOptions};
use std::time::{Duration, Instant};

mod common;
use common::{addr, connect, reordering_link, Pair, CLIENT, SERVER};

const PAYLOAD: usize = 1316;

/// The payload of packet `i`: its index, then a pattern derived from it.
fn payload(i: u64) -> [u8; PAYLOAD] {
    let mut p = [0u8; PAYLOAD];
    p[..8].copy_from_slice(&i.to_be_bytes());
    for (k, b) in p[8..].iter_mut().enumerate() {
        *b = (i as usize).wrapping_mul(31).wrapping_add(k) as u8;
    }
    p
}

struct Outcome {
    sent: u64,
    /// (packet index, end-to-end delay) in delivery order.
    delivered: Vec<(u64, Duration)>,
    /// Every delivery, including those after the counted period.
    all_delivered: Vec<(u64, Duration)>,
    /// Datagrams the client-to-server link lost.
    link_lost: u64,
    /// Every packet the application sent, including after the counted period.
    total_sent: u64,
    sender: srt_proto::stats::TraceBStats,
    receiver: srt_proto::stats::TraceBStats,
}

/// Streams `rate_bps` of 1316-byte packets from CLIENT to SERVER for `secs`.
fn stream(
    seed: u64,
    link: LinkConfig,
    rate_bps: u64,
    secs: u64,
    latency: Duration,
    keep_streaming: bool,
) -> Outcome {
    let opts = SocketOptions::live().latency(latency).unwrap();
    stream_with(seed, link, rate_bps, secs, &opts, keep_streaming)
}

fn stream_with(
    seed: u64,
    link: LinkConfig,
    rate_bps: u64,
    secs: u64,
    opts: &SocketOptions,
    keep_streaming: bool,
) -> Outcome {
    let mut net = Network::new(seed, link);
    let Pair {
        server,
        client,
        caller,
        accepted,
    } = connect(&mut net, opts);

    let period = Duration::from_nanos(PAYLOAD as u64 * 8 * 1_000_000_000 / rate_bps);
    let start = net.now();
    let end = start + Duration::from_secs(secs);
    let mut sent_at: Vec<Instant> = Vec::new();
    let mut delivered = Vec::new();
    let mut next_send = start;
    let mut buf = [0u8; 1500];
    let drain = |net: &mut Network,
                 delivered: &mut Vec<(u64, Duration)>,
                 sent_at: &[Instant],
                 buf: &mut [u8; 1500]| {
        let now = net.now();
        while let Some(info) = net.endpoint(server).recv(now, accepted, buf).unwrap() {
            assert_eq!(info.len, PAYLOAD);
            let i = u64::from_be_bytes(buf[..8].try_into().unwrap());
            assert_eq!(&buf[..PAYLOAD], &payload(i)[..], "packet {i} corrupted");
            delivered.push((i, now - sent_at[i as usize]));
        }
    };
    // Send for `secs` and count those packets; keep the stream going while
    // the tail drains (a receiver cannot detect the loss of a stream's last
    // packet, in libsrt either).
    let mut counted = None;
    while net.now() < end + Duration::from_secs(2) {
        if counted.is_none() && net.now() >= end {
            counted = Some(sent_at.len() as u64);
        }
        let limit = if keep_streaming || counted.is_none() {
            next_send
        } else {
            end + Duration::from_secs(2)
        };
        while net.step(limit) {
            drain(&mut net, &mut delivered, &sent_at, &mut buf);
        }
        drain(&mut net, &mut delivered, &sent_at, &mut buf);
        if net.now() >= next_send && (keep_streaming || counted.is_none()) {
            let i = sent_at.len() as u64;
            sent_at.push(net.now());
            let now = net.now();
            let n = net
                .endpoint(client)
                .send(now, caller, &payload(i), &MsgCtrl::default())
                .unwrap();
            assert_eq!(n, PAYLOAD);
            next_send += period;
        }
    }
    let now = net.now();
    let sender = net
        .endpoint(client)
        .socket_stats(now, caller, false)
        .unwrap();
    let receiver = net
        .endpoint(server)
        .socket_stats(now, accepted, false)
        .unwrap();
    let _: (NodeId, SocketId) = (client, caller);
    let link = net.link_stats(addr(CLIENT), addr(SERVER)).unwrap();
    let sent = counted.unwrap_or(sent_at.len() as u64);
    let all_delivered = delivered.clone();
    delivered.retain(|(i, _)| *i < sent);
    Outcome {
        link_lost: link.lost_random + link.lost_burst,
        total_sent: sent_at.len() as u64,
        sent,
        delivered,
        all_delivered,
        sender,
        receiver,
    }
}

fn lossy(loss: f64) -> LinkConfig {
    LinkConfig {
        loss,
        delay: Duration::from_millis(10),
        ..LinkConfig::default()
    }
}

/// Every delivery happened at the same end-to-end delay (its TSBPD time),
/// within a millisecond, and that delay is the latency plus the one-way delay.
fn assert_on_time(o: &Outcome, latency: Duration) {
    let (min, max) = o
        .delivered
        .iter()
        .fold((Duration::MAX, Duration::ZERO), |(lo, hi), (_, d)| {
            (lo.min(*d), hi.max(*d))
        });
    assert!(
        max - min <= Duration::from_millis(1),
        "delays spread {min:?}..{max:?}"
    );
    assert!(min >= latency, "delivered before the latency: {min:?}");
    assert!(max <= latency + Duration::from_millis(12), "late: {max:?}");
}

fn assert_in_order(o: &Outcome) {
    for w in o.delivered.windows(2) {
        assert!(w[0].0 < w[1].0, "out of order: {} then {}", w[0].0, w[1].0);
    }
}

#[test]
fn live_10mbps_5pct_loss_all_delivered_on_time() {
    let latency = Duration::from_millis(120);
    run_seeds([1, 2], |seed| {
        let o = stream(seed, lossy(0.05), 10_000_000, 60, latency, true);
        assert!(o.sent > 55_000);
        if o.delivered.len() as u64 != o.sent {
            let got: std::collections::BTreeSet<u64> = o.delivered.iter().map(|d| d.0).collect();
            let missing: Vec<u64> = (0..o.sent).filter(|i| !got.contains(i)).collect();
            panic!(
                "not all delivered: missing {missing:?}, rcv drops {}, belated {}, rcv loss {}, retrans {}",
                o.receiver.pkt_rcv_drop_total,
                o.receiver.pkt_rcv_belated,
                o.receiver.pkt_rcv_loss_total,
                o.sender.pkt_retrans_total
            );
        }
        assert_in_order(&o);
        assert_on_time(&o, latency);
        assert_eq!(o.receiver.pkt_rcv_drop_total, 0);
        // Losses happened and were repaired by retransmission.
        assert!(
            o.receiver.pkt_rcv_loss_total > 1000,
            "{}",
            o.receiver.pkt_rcv_loss_total
        );
        assert!(o.sender.pkt_retrans_total >= o.receiver.pkt_rcv_loss_total);
        // The packet queued at the very last step may not have gone out.
        assert!(o.total_sent - o.sender.pkt_sent_unique_total as u64 <= 1);
        assert!(o.receiver.pkt_recv_unique_total as u64 >= o.all_delivered.len() as u64);
    });
}

#[test]
fn live_30pct_loss_in_order_on_time_and_drops_counted() {
    let latency = Duration::from_millis(120);
    run_seeds([3], |seed| {
        let o = stream(seed, lossy(0.3), 10_000_000, 20, latency, false);
        assert_in_order(&o);
        assert_on_time(&o, latency);
        // Up to the last packet delivered, every packet is delivered or
        // counted as dropped by the receiver.
        let last = o.all_delivered.last().unwrap().0;
        let missing = last + 1 - o.all_delivered.len() as u64;
        assert!(missing > 0, "30% loss with 120 ms latency should lose some");
        assert_eq!(o.receiver.pkt_rcv_drop_total as u64, missing);
        // The sender learnt of the losses: every missing packet was NAKed.
        assert!(o.sender.pkt_snd_loss_total as u64 >= missing);
        // The two ends reconcile: every packet sent is received, dropped by
        // the receiver, or lost after the last one received (a loss no
        // receiver can see).
        let tail = o.total_sent - 1 - last;
        assert_eq!(o.sender.pkt_sent_unique_total as u64, o.total_sent);
        assert_eq!(
            o.sender.pkt_sent_unique_total as u64,
            o.receiver.pkt_recv_unique_total as u64 + o.receiver.pkt_rcv_drop_total as u64 + tail
        );
        assert_eq!(
            o.receiver.pkt_recv_unique_total as u64,
            o.all_delivered.len() as u64
        );
        // Retransmissions are explained by losses: each answers a NAKed
        // loss, each received one was sent, and the receiver saw no more
        // losses than the link made.
        assert!(i64::from(o.sender.pkt_retrans_total) <= i64::from(o.sender.pkt_snd_loss_total));
        assert!(i64::from(o.receiver.pkt_rcv_retrans) <= i64::from(o.sender.pkt_retrans_total));
        assert!(o.receiver.pkt_rcv_loss_total as u64 <= o.link_lost);
        assert_eq!(
            o.sender.pkt_sent_total,
            o.sender.pkt_sent_unique_total + i64::from(o.sender.pkt_retrans_total)
        );
    });
}

#[test]
fn reorder_tolerance_avoids_needless_retransmissions() {
    let link = reordering_link();
    let latency = Duration::from_millis(120);
    let eager = stream(5, link.clone(), 10_000_000, 10, latency, true);
    let mut opts = SocketOptions::live().latency(latency).unwrap();
    opts.lossmaxttl = 10;
    let tolerant = stream_with(5, link, 10_000_000, 10, &opts, true);
    for o in [&eager, &tolerant] {
        assert_eq!(o.delivered.len() as u64, o.sent);
        assert_in_order(o);
        assert_on_time(o, latency);
    }
    // Without tolerance every overtaken packet is NAKed and resent.
    assert!(
        eager.sender.pkt_retrans_total > 300,
        "{}",
        eager.sender.pkt_retrans_total
    );
    // With SRTO_LOSSMAXTTL the receiver waits for it instead. (The periodic
    // NAK still covers waiting gaps and the tolerance adapts down between
    // reorderings, both as in libsrt, so some resends remain.)
    assert!(
        tolerant.sender.pkt_retrans_total * 3 < eager.sender.pkt_retrans_total,
        "tolerant {} vs eager {}",
        tolerant.sender.pkt_retrans_total,
        eager.sender.pkt_retrans_total
    );
    assert!(tolerant.receiver.pkt_reorder_distance > 0);
}

#[test]
fn encrypted_stream_with_key_refresh_loses_nothing_to_key_switches() {
    let latency = Duration::from_millis(120);
    for mode in [
        srt_proto::options::CryptoMode::AesCtr,
        srt_proto::options::CryptoMode::AesGcm,
    ] {
        let mut opts = SocketOptions::live()
            .latency(latency)
            .unwrap()
            .passphrase("0123456789abcdef")
            .unwrap();
        opts.kmrefreshrate = 1000;
        opts.kmpreannounce = 100;
        opts.cryptomode = mode;
        if mode == srt_proto::options::CryptoMode::AesGcm {
            // GCM's 16-byte tag leaves 1440 bytes of payload.
            opts.payloadsize = 1316;
        }
        let o = stream_with(11, lossy(0.05), 10_000_000, 12, &opts, true);
        assert!(o.sent > 11_000, "{mode:?}: {}", o.sent);
        assert_eq!(o.delivered.len() as u64, o.sent, "{mode:?}: packets lost");
        assert_in_order(&o);
        assert_on_time(&o, latency);
        assert_eq!(o.receiver.pkt_rcv_undecrypt_total, 0, "{mode:?}");
        assert_eq!(o.receiver.pkt_rcv_drop_total, 0, "{mode:?}");
    }
}

/// What a live close right after the last message leaves the receiver.
struct CloseOutcome {
    /// Messages delivered, in order (their indices).
    delivered: Vec<u64>,
    /// Messages delivered before the SHUTDOWN came (libsrt's receiver
    /// drops what it still holds then).
    before_shutdown: usize,
    /// How long the close took on the sender, from `close` to `Closed`.
    close_took: Duration,
    /// From the last data packet's arrival to the SHUTDOWN's.
    shutdown_after_last_data: Duration,
}

/// Sends `count` 1316-byte messages at 10 Mbit/s over a 5 %-loss link with
/// 10 ms one-way delay and 120 ms latency, closes right after the last one
/// with `mode` (and `SRTO_LINGER` = `linger`), then runs until the sender
/// has closed and the receiver has delivered what it will.
fn live_close(seed: u64, count: u64, linger: Option<Duration>, mode: CloseMode) -> CloseOutcome {
    let latency = Duration::from_millis(120);
    let opts = SocketOptions::live()
        .latency(latency)
        .unwrap()
        .linger(linger);
    let mut net = Network::new(seed, lossy(0.05));
    let Pair {
        server,
        client,
        caller,
        accepted,
    } = connect(&mut net, &opts);
    let period = Duration::from_nanos(PAYLOAD as u64 * 8 * 1_000_000_000 / 10_000_000);
    let mut delivered = Vec::new();
    let mut before_shutdown = None;
    let mut buf = [0u8; 1500];
    let mut drain = |net: &mut Network, delivered: &mut Vec<u64>| {
        let now = net.now();
        while let Some(info) = net.endpoint(server).recv(now, accepted, &mut buf).unwrap() {
            let i = u64::from_be_bytes(buf[..8].try_into().unwrap());
            assert!(buf[..info.len] == payload(i)[..], "message {i} corrupted");
            delivered.push(i);
        }
    };
    let mut next_send = net.now();
    for i in 0..count {
        while net.step(next_send) {
            drain(&mut net, &mut delivered);
        }
        let now = net.now();
        net.endpoint(client)
            .send(now, caller, &payload(i), &MsgCtrl::default())
            .unwrap();
        next_send += period;
    }
    let closed_at = net.now();
    net.endpoint(client).close(closed_at, caller, mode).unwrap();
    let mut close_took = None;
    let mut shutdown_after_last_data = None;
    let (mut arrived, mut last_arrival) = (0, net.now());
    let end = closed_at + Duration::from_secs(10);
    while net.now() < end {
        let limit = net.now() + Duration::from_millis(1);
        while net.step(limit) {}
        drain(&mut net, &mut delivered);
        let now = net.now();
        if let Some(st) = net.endpoint(server).socket_stats(now, accepted, false) {
            if st.pkt_recv_total > arrived {
                (arrived, last_arrival) = (st.pkt_recv_total, now);
            }
        }
        if close_took.is_none()
            && net
                .take_events(client)
                .contains(&Event::Closed { socket: caller })
        {
            close_took = Some(net.now() - closed_at);
        }
        if before_shutdown.is_none()
            && net.take_events(server).iter().any(|e| {
                matches!(e, Event::Broken { socket, cause: BreakCause::PeerShutdown } if *socket == accepted)
            })
        {
            before_shutdown = Some(delivered.len());
            shutdown_after_last_data = Some(net.now() - last_arrival);
        }
    }
    CloseOutcome {
        before_shutdown: before_shutdown.expect("no SHUTDOWN reached the receiver"),
        delivered,
        close_took: close_took.expect("the sender never closed"),
        shutdown_after_last_data: shutdown_after_last_data.unwrap(),
    }
}

/// Issue 16: a live sender that closes with `SRTO_LINGER` right after its
/// 1,000th message loses none of them over a 5 %-loss link: the close
/// waits until everything is acknowledged and the receiver's latency has
/// passed, so the receiver has delivered every message before SHUTDOWN
/// reaches it (before the fix, a close after 1,000 messages delivered 886).
#[test]
fn live_close_with_linger_delivers_everything_before_shutdown() {
    run_seeds([1, 2, 3], |seed| {
        let o = live_close(seed, 1000, Some(Duration::from_secs(5)), CloseMode::Linger);
        println!(
            "seed {seed}: {} delivered, {} before SHUTDOWN, close took {:?}",
            o.delivered.len(),
            o.before_shutdown,
            o.close_took
        );
        assert_eq!(o.delivered, (0..1000).collect::<Vec<_>>(), "seed {seed}");
        assert_eq!(o.before_shutdown, 1000, "seed {seed}: SHUTDOWN came first");
        // The reader gets a margin after the last arrival too.
        assert!(
            o.shutdown_after_last_data >= srt_proto::DELIVERY_MARGIN,
            "{:?}",
            o.shutdown_after_last_data
        );
        // At least the latency, far less than the linger.
        assert!(
            o.close_took >= Duration::from_millis(120),
            "{:?}",
            o.close_took
        );
        assert!(o.close_took < Duration::from_secs(1), "{:?}", o.close_took);
    });
}

/// `CloseMode::Lossless` (how srt-transmit and srt-tokio close) and
/// `CloseMode::LingerFor` close as losslessly with `SRTO_LINGER` off (live
/// mode's default); a plain `CloseMode::Linger` there shuts down at once,
/// as libsrt does, and loses the tail.
#[test]
fn live_close_lossless_and_linger_for_with_linger_off() {
    run_seeds([1, 2], |seed| {
        for mode in [
            CloseMode::Lossless,
            CloseMode::LingerFor(Duration::from_secs(3)),
        ] {
            let o = live_close(seed, 1000, None, mode);
            assert_eq!(o.delivered, (0..1000).collect::<Vec<_>>(), "{mode:?}");
            assert_eq!(o.before_shutdown, 1000, "seed {seed} {mode:?}");
        }
        let lossy = live_close(seed, 1000, None, CloseMode::Linger);
        println!(
            "seed {seed}: linger off: {} delivered before SHUTDOWN",
            lossy.before_shutdown
        );
        assert!(lossy.before_shutdown < 1000, "seed {seed}");
    });
}
