//! 200 concurrent callers on one listener port, in one process: each a
//! 1 Mbit/s live stream for 30 s, through an in-process `srt-relay` at 1%
//! random loss and 5 ms delay each way. Every stream must arrive whole,
//! intact and in order; the CPU time the process used is printed.
//!
//! Latency is 250 ms, not the default 120 ms: 120 ms passes on a quiet
//! machine, but with other tests keeping both cores busy a thread of this
//! one is descheduled long enough that retransmissions come too late.
//!
//! The 200 callers share one endpoint on one UDP socket (the relay forwards
//! back to the most recent client address, so they must share it), the
//! listener is one endpoint on another; each runs on its own thread with a
//! [`UdpDriver`], and the relay on a third.

use srt_proto::packet::SocketId;
use srt_proto::sim::link::LinkConfig;
use srt_proto::{Event, MsgCtrl, SocketOptions};
use srt_tools::relay::Relay;
use srt_tools::udp_driver::UdpDriver;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

/// Concurrent callers.
const STREAMS: usize = 200;
/// Payload of each packet (a live stream's 7 × 188-byte TS packets).
const PAYLOAD: usize = 1316;
/// Rate of each stream.
const RATE_BPS: u64 = 1_000_000;
/// Length of each stream.
const SECONDS: u64 = 30;
/// Packets per stream (2849).
const PER_STREAM: u64 = SECONDS * RATE_BPS / (PAYLOAD as u64 * 8);
/// Packets each caller sends after its stream, as a real one would go on:
/// live mode finds a lost packet only by the gap the next one leaves (the
/// receiver's NAKs; like libsrt, the sender has no timer for a lost tail),
/// so a stream's last packet, lost, would never be retransmitted.
const TAIL: u64 = 10;
/// Random loss of the relay, each way.
const LOSS: f64 = 0.01;
/// One-way delay of the relay.
const DELAY: Duration = Duration::from_millis(5);

/// How often the callers' application hands packets over.
const TICK: Duration = Duration::from_millis(1);

/// Receive latency of every connection.
const LATENCY: Duration = Duration::from_millis(250);

/// Time between two packets of one stream (10.528 ms).
fn period() -> Duration {
    Duration::from_nanos(PAYLOAD as u64 * 8 * 1_000_000_000 / RATE_BPS)
}

/// The payload of packet `i` of stream `s`: the stream, the index, then a
/// pattern derived from both.
fn payload(s: u32, i: u64) -> [u8; PAYLOAD] {
    let mut p = [0u8; PAYLOAD];
    p[..4].copy_from_slice(&s.to_be_bytes());
    p[4..12].copy_from_slice(&i.to_be_bytes());
    let seed = (s as usize).wrapping_mul(7919) ^ (i as usize).wrapping_mul(131);
    for (k, b) in p[12..].iter_mut().enumerate() {
        *b = seed.wrapping_add(k * 7) as u8;
    }
    p
}

/// Checks a received message; returns its stream and index if the content
/// is right.
fn verify(bytes: &[u8]) -> Option<(u32, u64)> {
    if bytes.len() != PAYLOAD {
        return None;
    }
    let s = u32::from_be_bytes(bytes[..4].try_into().ok()?);
    let i = u64::from_be_bytes(bytes[4..12].try_into().ok()?);
    (bytes == payload(s, i)).then_some((s, i))
}

/// CPU seconds (user + system) in a `/proc/.../stat` file: `self` for the
/// process, `thread-self` for the calling thread. (Fields 14 and 15, in
/// the kernel's USER_HZ ticks, 100 a second on every Linux platform.)
fn cpu_seconds(who: &str) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{who}/stat")).unwrap();
    // The command name (field 2) may hold spaces; count after its ')'.
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |k: usize| fields[k - 3].parse::<u64>().unwrap();
    (ticks(14) + ticks(15)) as f64 / 100.0
}

/// The kernel's count of UDP datagrams dropped for a full receive buffer,
/// all sockets of the machine (`/proc/net/snmp`, `Udp: RcvbufErrors`).
fn udp_rcvbuf_errors() -> u64 {
    let snmp = std::fs::read_to_string("/proc/net/snmp").unwrap();
    let mut udp = snmp.lines().filter(|l| l.starts_with("Udp:"));
    let (names, values) = (udp.next().unwrap(), udp.next().unwrap());
    let k = names
        .split_whitespace()
        .position(|n| n == "RcvbufErrors")
        .unwrap();
    values.split_whitespace().nth(k).unwrap().parse().unwrap()
}

/// Datagrams the kernel dropped at the IPv4 UDP socket bound to `port`
/// (`/proc/net/udp`, last column), full receive buffer mostly.
fn socket_drops(port: u16) -> u64 {
    let table = std::fs::read_to_string("/proc/net/udp").unwrap();
    let local = format!(":{port:04X}");
    table
        .lines()
        .skip(1)
        .filter(|l| {
            l.split_whitespace()
                .nth(1)
                .is_some_and(|a| a.ends_with(&local))
        })
        .filter_map(|l| l.split_whitespace().last()?.parse::<u64>().ok())
        .sum()
}

/// What the listener saw.
#[derive(Debug, Default)]
struct Received {
    /// Connections accepted.
    accepted: usize,
    /// Packets delivered in order, by stream.
    delivered: Vec<u64>,
    /// Packets that were not the next one of their stream (a gap, a
    /// repeat, or a stream seen on two connections).
    out_of_order: u64,
    /// The first few of them: stream, index expected, index received,
    /// milliseconds since the first packet arrived.
    gaps: Vec<(u32, u64, u64, u128)>,
    /// Messages whose content was wrong.
    corrupt: u64,
    /// Summed receiver statistics: losses detected, retransmissions
    /// received, packets dropped too late, belated arrivals.
    loss: i64,
    retrans: i64,
    dropped: i64,
    belated: i64,
    /// Datagrams the kernel dropped at the listener's socket.
    socket_drops: u64,
    /// CPU seconds of the listener's thread.
    cpu: f64,
}

/// Accepts `STREAMS` connections and reads them all until every stream is
/// complete or `deadline` passes; sets `done` then.
fn listener(mut d: UdpDriver, done: Arc<AtomicBool>, deadline: Instant) -> Received {
    let mut got = Received {
        delivered: vec![0; STREAMS],
        ..Received::default()
    };
    // Which stream each connection carries, once its first packet came.
    let mut streams: HashMap<SocketId, Option<u32>> = HashMap::new();
    let mut ids: Vec<SocketId> = Vec::new();
    let mut readable: Vec<SocketId> = Vec::new();
    let mut buf = [0u8; 1500];
    let mut last_sweep = Instant::now();
    let mut complete = 0;
    let mut first: Option<Instant> = None;
    while complete < STREAMS && Instant::now() < deadline {
        readable.clear();
        for e in d.turn(Duration::from_millis(5)).unwrap() {
            if let Event::Readable { socket } = e {
                readable.push(*socket);
            }
        }
        d.events.clear();
        while let Some(id) = d.endpoint.accept() {
            streams.insert(id, None);
            ids.push(id);
            got.accepted += 1;
        }
        // Every 10 ms, all connections, in case a readable event was
        // missed; otherwise the ones that said they are readable.
        let sweep = last_sweep.elapsed() >= Duration::from_millis(10);
        if sweep {
            last_sweep = Instant::now();
        }
        let which = if sweep { &ids } else { &readable };
        for id in which {
            let Some(stream) = streams.get_mut(id) else {
                continue;
            };
            while let Ok(Some(info)) = d.endpoint.recv(Instant::now(), *id, &mut buf) {
                let Some((s, i)) = verify(&buf[..info.len]) else {
                    got.corrupt += 1;
                    continue;
                };
                if *stream.get_or_insert(s) != s || s as usize >= STREAMS {
                    got.out_of_order += 1;
                    continue;
                }
                let next = &mut got.delivered[s as usize];
                if i != *next {
                    got.out_of_order += 1;
                    if got.gaps.len() < 20 {
                        let ms = first.get_or_insert_with(Instant::now).elapsed().as_millis();
                        got.gaps.push((s, *next, i, ms));
                    }
                }
                first.get_or_insert_with(Instant::now);
                *next = i + 1;
                if *next == PER_STREAM {
                    complete += 1;
                }
            }
        }
    }
    done.store(true, Ordering::SeqCst);
    for id in ids {
        let st = d.endpoint.socket_stats(Instant::now(), id, false).unwrap();
        got.loss += i64::from(st.pkt_rcv_loss_total);
        got.retrans += i64::from(st.pkt_rcv_retrans);
        got.dropped += i64::from(st.pkt_rcv_drop_total);
        got.belated += st.pkt_rcv_belated;
    }
    got.socket_drops = socket_drops(d.local_addr().port());
    got.cpu = cpu_seconds("thread-self");
    got
}

/// What the callers sent.
#[derive(Debug, Default)]
struct Sent {
    /// Summed sender statistics: packets sent (with retransmissions),
    /// retransmitted, reported lost, dropped too late.
    sent: i64,
    retrans: i64,
    loss: i64,
    dropped: i64,
    /// Packets the kernel refused.
    send_drops: u64,
    /// How far the last packet went out after it was due.
    worst_lag: Duration,
    /// Datagrams the kernel dropped at the callers' socket.
    socket_drops: u64,
    /// CPU seconds of the callers' thread.
    cpu: f64,
}

/// Connects `STREAMS` callers to `to`, streams, then keeps answering
/// until `done` (or `deadline`).
fn callers(
    mut d: UdpDriver,
    to: std::net::SocketAddr,
    done: Arc<AtomicBool>,
    deadline: Instant,
) -> Sent {
    let mut opts = SocketOptions::live().latency(LATENCY).unwrap();
    opts.conntimeo = Duration::from_secs(10);
    let ids: Vec<SocketId> = (0..STREAMS)
        .map(|_| d.endpoint.connect(Instant::now(), to, &opts).unwrap())
        .collect();
    let mut connected = 0;
    let give_up = Instant::now() + Duration::from_secs(10);
    while connected < STREAMS {
        assert!(
            Instant::now() < give_up,
            "{connected} of {STREAMS} connected"
        );
        for e in d.turn(Duration::from_millis(5)).unwrap() {
            match e {
                Event::Connected { .. } => connected += 1,
                Event::ConnectFailed { .. } | Event::Broken { .. } => panic!("{e:?}"),
                _ => {}
            }
        }
        d.events.clear();
    }

    // Packet g is packet g / STREAMS of stream g % STREAMS, due at
    // g × period / STREAMS: the streams are spread evenly over a period.
    let total = STREAMS as u64 * (PER_STREAM + TAIL);
    let step = period() / STREAMS as u32;
    let start = Instant::now();
    let mut sent = Sent::default();
    let mut g = 0u64;
    while g < total {
        let now = Instant::now();
        while g < total && start + step * g as u32 <= now {
            let s = (g % STREAMS as u64) as usize;
            let i = g / STREAMS as u64;
            d.endpoint
                .send(now, ids[s], &payload(s as u32, i), &MsgCtrl::default())
                .unwrap();
            g += 1;
        }
        if g == total {
            sent.worst_lag = now - (start + step * (g - 1) as u32);
        }
        // The application hands its packets over in 1 ms ticks (19 at a
        // time), as one reading a source in chunks would: a turn per
        // packet would cost a scan of all 200 connections 19 000 times a
        // second.
        let next = (start + step * g as u32).max(now + TICK);
        d.turn(next.saturating_duration_since(Instant::now()))
            .unwrap();
        d.events.clear();
    }
    while !done.load(Ordering::SeqCst) && Instant::now() < deadline {
        d.turn(Duration::from_millis(5)).unwrap();
        d.events.clear();
    }
    for id in ids {
        let st = d.endpoint.socket_stats(Instant::now(), id, false).unwrap();
        sent.sent += st.pkt_sent_total;
        sent.retrans += i64::from(st.pkt_retrans_total);
        sent.loss += i64::from(st.pkt_snd_loss_total);
        sent.dropped += i64::from(st.pkt_snd_drop_total);
    }
    sent.send_drops = d.send_drops();
    sent.socket_drops = socket_drops(d.local_addr().port());
    sent.cpu = cpu_seconds("thread-self");
    sent
}

#[test]
fn two_hundred_callers_on_one_port_through_lossy_relay() {
    let wall = Instant::now();
    let cpu_before = cpu_seconds("self");
    let rcvbuf_before = udp_rcvbuf_errors();
    let mut listen = UdpDriver::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    listen
        .endpoint
        .listen(
            &SocketOptions::live().latency(LATENCY).unwrap(),
            STREAMS + 16,
        )
        .unwrap();
    let link = LinkConfig {
        loss: LOSS,
        delay: DELAY,
        ..LinkConfig::default()
    };
    let mut relay = Relay::new(
        "127.0.0.1:0".parse().unwrap(),
        listen.local_addr(),
        link.clone(),
        link,
        7,
    )
    .unwrap();
    let relay_addr = relay.listen_addr();
    let call = UdpDriver::bind("127.0.0.1:0".parse().unwrap()).unwrap();

    // Setup (< 1 s), 30 s of streaming, then retransmissions: at most 44 s.
    let deadline = Instant::now() + Duration::from_secs(SECONDS + 12);
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicBool::new(false));
    let relay_thread = {
        let stop = Arc::clone(&stop);
        thread::spawn(move || {
            relay.run(&stop, Some(deadline)).unwrap();
            let drops = socket_drops(relay.listen_addr().port())
                + socket_drops(relay.upstream_addr().port());
            (relay.report(), drops, cpu_seconds("thread-self"))
        })
    };
    let listener_thread = {
        let done = Arc::clone(&done);
        thread::spawn(move || listener(listen, done, deadline))
    };
    let caller_thread = {
        let done = Arc::clone(&done);
        thread::spawn(move || callers(call, relay_addr, done, deadline))
    };
    let got = listener_thread.join().unwrap();
    let sent = caller_thread.join().unwrap();
    stop.store(true, Ordering::SeqCst);
    let (report, relay_drops, relay_cpu) = relay_thread.join().unwrap();
    let cpu = cpu_seconds("self") - cpu_before;
    let rcvbuf_errors = udp_rcvbuf_errors() - rcvbuf_before;

    for r in &report {
        println!("relay {r}");
    }
    let complete = got.delivered.iter().filter(|&&n| n >= PER_STREAM).count();
    println!(
        "{complete}/{STREAMS} streams complete ({} of {} packets delivered), \
         {} out of order, {} corrupt",
        got.delivered
            .iter()
            .map(|&n| n.min(PER_STREAM))
            .sum::<u64>(),
        STREAMS as u64 * PER_STREAM,
        got.out_of_order,
        got.corrupt
    );
    println!(
        "senders: sent {} retransmitted {} reported lost {} dropped {} \
         refused by the kernel {}, last packet {:?} late",
        sent.sent, sent.retrans, sent.loss, sent.dropped, sent.send_drops, sent.worst_lag
    );
    println!(
        "receivers: lost {} retransmissions received {} dropped {} belated {}",
        got.loss, got.retrans, got.dropped, got.belated
    );
    println!(
        "kernel: dropped {} at the callers' socket, {} at the listener's, \
         {relay_drops} at the relay's; {rcvbuf_errors} for full receive \
         buffers on the whole machine",
        sent.socket_drops, got.socket_drops
    );
    println!(
        "CPU: {cpu:.2} s for the process ({:.2} s callers, {:.2} s listener, \
         {relay_cpu:.2} s relay) in {:.1} s wall",
        sent.cpu,
        got.cpu,
        wall.elapsed().as_secs_f64()
    );
    assert_eq!(got.accepted, STREAMS);
    assert_eq!(got.corrupt, 0);
    assert_eq!(
        got.out_of_order, 0,
        "(stream, expected, got, ms) {:?}",
        got.gaps
    );
    assert_eq!(complete, STREAMS, "{:?}", got.delivered);
    assert_eq!(got.dropped, 0);
    assert!(got.retrans > 0, "1% loss and nothing retransmitted");
}
