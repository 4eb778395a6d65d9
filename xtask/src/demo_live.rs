//! The live demo: a listener and a caller over loopback through `srt-relay`
//! (5% loss each way, 10 ms delay), an 8 Mbit/s generated stream for 10 s
//! with a progress line, then a table of what happened.

use srt_proto::sim::link::LinkConfig;
use srt_proto::stats::TraceBStats;
use srt_proto::{Event, MsgCtrl, SocketOptions};
use srt_tools::relay::{DirectionReport, Relay};
use srt_tools::udp_driver::UdpDriver;
use std::io::Write;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Payload bytes per packet, as an MPEG-TS stream carries (7 × 188).
const PAYLOAD: usize = 1316;
/// The stream's rate.
const RATE_BPS: u64 = 8_000_000;
/// How long it streams.
const STREAM: Duration = Duration::from_secs(10);
/// The receiver's latency (SRTO_LATENCY).
const LATENCY: Duration = Duration::from_millis(200);
/// Marks a trailer packet: the stream goes on after its counted part so
/// that a loss among its last packets is detected (a live receiver only
/// sees a gap when a later packet arrives), but trailers are not counted.
const TRAILER: u64 = 1 << 63;

/// What the demo measured.
struct Outcome {
    sent: u64,
    trailer: u64,
    missing: Vec<u64>,
    received: u64,
    corrupt: u64,
    out_of_order: u64,
    latency_min: Duration,
    latency_max: Duration,
    latency_sum: Duration,
    sender: TraceBStats,
    receiver: TraceBStats,
    relay: [DirectionReport; 2],
}

/// Packet `i`: its index, its send time in µs after `start`, then a
/// pattern derived from the index.
fn packet(i: u64, sent_us: u64, out: &mut [u8; PAYLOAD]) {
    out[..8].copy_from_slice(&i.to_be_bytes());
    out[8..16].copy_from_slice(&sent_us.to_be_bytes());
    for (k, b) in out[16..].iter_mut().enumerate() {
        *b = (i as usize).wrapping_mul(7).wrapping_add(k) as u8;
    }
}

fn pattern_ok(p: &[u8]) -> bool {
    let i = u64::from_be_bytes(p[..8].try_into().unwrap_or_default());
    p.len() == PAYLOAD
        && p[16..]
            .iter()
            .enumerate()
            .all(|(k, b)| *b == (i as usize).wrapping_mul(7).wrapping_add(k) as u8)
}

fn lossy() -> LinkConfig {
    LinkConfig {
        loss: 0.05,
        delay: Duration::from_millis(10),
        ..LinkConfig::default()
    }
}

/// Runs the demo; `Err` says what failed.
pub(crate) fn run() -> Result<(), String> {
    let err = |what: &str| {
        let what = what.to_owned();
        move |e: std::io::Error| format!("{what}: {e}")
    };
    let loopback: SocketAddr = "127.0.0.1:0".parse().map_err(|e| format!("{e}"))?;
    let opts = SocketOptions::live()
        .latency(LATENCY)
        .map_err(|e| format!("latency: {e}"))?;

    // Listener, relay in front of it, caller through the relay.
    let mut rx = UdpDriver::bind(loopback).map_err(err("bind the listener"))?;
    rx.endpoint
        .listen(&opts, 1)
        .map_err(|e| format!("listen: {e}"))?;
    let mut relay = Relay::new(loopback, rx.local_addr(), lossy(), lossy(), 0xDE30)
        .map_err(err("start srt-relay"))?;
    let relay_addr = relay.listen_addr();
    let stop = Arc::new(AtomicBool::new(false));
    let relay_stop = Arc::clone(&stop);
    let relay_thread = std::thread::spawn(move || {
        let result = relay.run(&relay_stop, None);
        (relay.report(), result)
    });
    println!(
        "listener on {}, srt-relay on {relay_addr} (5% loss each way, 10 ms delay)",
        rx.local_addr()
    );

    let start = Instant::now();
    let caller_opts = opts.clone();
    let caller = std::thread::spawn(move || -> Result<(u64, u64, TraceBStats), String> {
        let mut tx = UdpDriver::bind(loopback).map_err(err("bind the caller"))?;
        let id = tx
            .endpoint
            .connect(Instant::now(), relay_addr, &caller_opts)
            .map_err(|e| format!("connect: {e}"))?;
        let connected = tx
            .run_until(Duration::from_secs(5), |e| {
                matches!(e, Event::Connected { .. } | Event::ConnectFailed { .. })
            })
            .map_err(err("connect"))?;
        if !connected || !tx.events.contains(&Event::Connected { socket: id }) {
            return Err(format!("the caller did not connect: {:?}", tx.events));
        }
        let period = Duration::from_nanos(PAYLOAD as u64 * 8 * 1_000_000_000 / RATE_BPS);
        let began = Instant::now();
        let mut buf = [0u8; PAYLOAD];
        let mut sent = 0u64;
        while began.elapsed() < STREAM {
            let now = Instant::now();
            while began + period * sent as u32 <= now {
                packet(sent, now.duration_since(start).as_micros() as u64, &mut buf);
                tx.endpoint
                    .send(now, id, &buf, &MsgCtrl::default())
                    .map_err(|e| format!("send: {e}"))?;
                sent += 1;
            }
            tx.turn(Duration::from_millis(1)).map_err(err("caller"))?;
            tx.events.clear();
        }
        // Keep streaming uncounted trailer packets while the last
        // retransmissions finish, then stop.
        let drain = Instant::now();
        let mut trailer = 0u64;
        while drain.elapsed() < LATENCY * 2 {
            let now = Instant::now();
            while drain + period * trailer as u32 <= now {
                let sent_us = now.duration_since(start).as_micros() as u64;
                packet(TRAILER | trailer, sent_us, &mut buf);
                tx.endpoint
                    .send(now, id, &buf, &MsgCtrl::default())
                    .map_err(|e| format!("send: {e}"))?;
                trailer += 1;
            }
            tx.turn(Duration::from_millis(1)).map_err(err("caller"))?;
            tx.events.clear();
        }
        let stats = tx
            .endpoint
            .socket_stats(Instant::now(), id, false)
            .unwrap_or_default();
        Ok((sent, trailer, stats))
    });

    let accepted = rx
        .run_until(Duration::from_secs(5), |e| {
            matches!(e, Event::Accepted { .. })
        })
        .map_err(err("accept"))?;
    let id = match rx.endpoint.accept() {
        Some(id) if accepted => id,
        _ => return Err("no connection was accepted".into()),
    };
    let mut out = Outcome {
        sent: 0,
        trailer: 0,
        missing: Vec::new(),
        received: 0,
        corrupt: 0,
        out_of_order: 0,
        latency_min: Duration::MAX,
        latency_max: Duration::ZERO,
        latency_sum: Duration::ZERO,
        sender: TraceBStats::default(),
        receiver: TraceBStats::default(),
        relay: Default::default(),
    };
    let mut buf = [0u8; 1500];
    let mut last = None::<u64>;
    let mut seen = Vec::<bool>::new();
    let mut next_progress = Instant::now();
    let end = Instant::now() + STREAM + LATENCY * 2 + Duration::from_millis(300);
    while Instant::now() < end {
        rx.turn(Duration::from_millis(1)).map_err(err("listener"))?;
        rx.events.clear();
        let now = Instant::now();
        while let Ok(Some(info)) = rx.endpoint.recv(now, id, &mut buf) {
            let p = &buf[..info.len];
            if !pattern_ok(p) {
                out.corrupt += 1;
                continue;
            }
            let i = u64::from_be_bytes(p[..8].try_into().unwrap_or_default());
            if i & TRAILER != 0 {
                continue;
            }
            out.received += 1;
            if let Some(slot) = usize::try_from(i).ok().filter(|&i| i < 1 << 24) {
                if seen.len() <= slot {
                    seen.resize(slot + 1, false);
                }
                seen[slot] = true;
            }
            if last.is_some_and(|l| i <= l) {
                out.out_of_order += 1;
            }
            last = Some(i);
            let sent_us = u64::from_be_bytes(p[8..16].try_into().unwrap_or_default());
            let latency = now.duration_since(start + Duration::from_micros(sent_us));
            out.latency_min = out.latency_min.min(latency);
            out.latency_max = out.latency_max.max(latency);
            out.latency_sum += latency;
        }
        if now >= next_progress {
            next_progress += Duration::from_millis(500);
            if let Some(s) = rx.endpoint.socket_stats(now, id, false) {
                print!(
                    "\r{:>5.1} s  received {:>6}  lost on the way {:>4}  recovered {:>4}  dropped {:>3}  RTT {:>5.1} ms  ",
                    start.elapsed().as_secs_f64(),
                    out.received,
                    s.pkt_rcv_loss_total,
                    s.pkt_rcv_retrans,
                    s.pkt_rcv_drop_total,
                    s.ms_rtt
                );
                let _ = std::io::stdout().flush();
            }
        }
    }
    println!();
    out.receiver = rx
        .endpoint
        .socket_stats(Instant::now(), id, false)
        .unwrap_or_default();
    let (sent, trailer, sender) = caller
        .join()
        .map_err(|_| "the caller thread panicked".to_owned())??;
    out.sent = sent;
    out.trailer = trailer;
    seen.resize(sent as usize, false);
    out.missing = (0..sent).filter(|&i| !seen[i as usize]).collect();
    out.sender = sender;
    stop.store(true, Ordering::Relaxed);
    let (report, result) = relay_thread
        .join()
        .map_err(|_| "the relay thread panicked".to_owned())?;
    result.map_err(err("srt-relay"))?;
    out.relay = report;
    print_table(&out);
    if out.received == out.sent
        && out.missing.is_empty()
        && out.corrupt == 0
        && out.out_of_order == 0
    {
        Ok(())
    } else {
        Err(format!(
            "{} of {} packets arrived ({} corrupt, {} out of order, missing {:?})",
            out.received, out.sent, out.corrupt, out.out_of_order, out.missing
        ))
    }
}

fn print_table(o: &Outcome) {
    let avg = if o.received > 0 {
        o.latency_sum / o.received as u32
    } else {
        Duration::ZERO
    };
    let [fwd, rev] = o.relay;
    let rows: [(&str, String); 10] = [
        (
            "stream",
            format!(
                "{} packets of {PAYLOAD} B at {} Mbit/s for {} s (+{} uncounted trailer)",
                o.sent,
                RATE_BPS / 1_000_000,
                STREAM.as_secs(),
                o.trailer
            ),
        ),
        (
            "relay lost",
            format!(
                "{} of {} data-way datagrams, {} of {} on the way back",
                fwd.lost_random + fwd.lost_burst,
                fwd.received,
                rev.lost_random + rev.lost_burst,
                rev.received
            ),
        ),
        (
            "sent (unique)",
            format!("{} with trailer", o.sender.pkt_sent_unique_total),
        ),
        ("retransmitted", format!("{}", o.sender.pkt_retrans_total)),
        (
            "received",
            format!(
                "{} ({} recovered by retransmission)",
                o.received, o.receiver.pkt_rcv_retrans
            ),
        ),
        (
            "dropped (too late)",
            format!("{}", o.receiver.pkt_rcv_drop_total),
        ),
        ("RTT", format!("{:.1} ms", o.receiver.ms_rtt)),
        (
            "end-to-end latency",
            format!(
                "min {:.1} ms, avg {:.1} ms, max {:.1} ms (SRTO_LATENCY {} ms)",
                ms(o.latency_min),
                ms(avg),
                ms(o.latency_max),
                LATENCY.as_millis()
            ),
        ),
        (
            "order",
            if o.out_of_order == 0 {
                "every packet in order".to_owned()
            } else {
                format!("{} out of order", o.out_of_order)
            },
        ),
        (
            "content",
            if o.corrupt == 0 && o.received == o.sent && o.missing.is_empty() {
                "verified: every packet arrived intact".to_owned()
            } else {
                format!("{} corrupt, missing {:?}", o.corrupt, o.missing)
            },
        ),
    ];
    println!();
    for (k, v) in rows {
        println!("  {k:<20} {v}");
    }
}

fn ms(d: Duration) -> f64 {
    if d == Duration::MAX {
        0.0
    } else {
        d.as_secs_f64() * 1000.0
    }
}
