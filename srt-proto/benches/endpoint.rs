//! The per-turn cost of an endpoint with many connections: one driver turn
//! (`handle_timeout`, `poll_timeout`, `poll_transmit` until `None`) on a
//! listener holding 1,000 connected, idle connections; and one second of
//! 200 live streams of 1 Mbit/s between two endpoints, in 1 ms turns (the
//! engine side of `srt-tools/tests/many_callers.rs`).

mod common;

use common::{listener_and_caller, shuttle};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use srt_proto::{Endpoint, Event, MsgCtrl, SocketOptions};
use std::collections::VecDeque;
use std::hint::black_box;
use std::time::{Duration, Instant};

/// Connected idle connections on the listener.
const CONNECTIONS: usize = 1000;

fn idle(c: &mut Criterion) {
    let (start, mut listener, mut caller) =
        listener_and_caller(CONNECTIONS, &SocketOptions::default());
    let listener_addr = listener.local_addr();
    let mut buf = vec![0u8; 1500];
    for _ in 0..CONNECTIONS {
        caller
            .connect(start, listener_addr, &SocketOptions::default())
            .unwrap();
    }
    shuttle(start, &mut caller, &mut listener, &mut buf);
    while listener.accept().is_some() {}
    while listener.poll_event().is_some() {}
    assert_eq!(listener.connection_count(), CONNECTIONS);

    // A moment when no connection has anything due.
    let now = start + Duration::from_millis(10);
    assert!(listener.poll_timeout().is_some_and(|t| t > now));
    let mut g = c.benchmark_group("endpoint");
    g.throughput(Throughput::Elements(1));
    g.bench_function("idle_turn_1000", |b| {
        b.iter(|| {
            listener.handle_timeout(now);
            black_box(listener.poll_timeout());
            while let Some(t) = listener.poll_transmit(now, &mut buf) {
                let _ = black_box(t);
            }
        })
    });
    g.finish();
    assert_eq!(listener.connection_count(), CONNECTIONS);
}

/// Live streams from the caller endpoint to the listener.
const STREAMS: usize = 200;
/// One-way delay of the link between them.
const DELAY: Duration = Duration::from_millis(5);

/// Datagrams on the link: arrival, whether to the listener, length, bytes.
type Link = VecDeque<(Instant, bool, usize, [u8; 1500])>;

/// One turn of a driver for `ep`: timers, then every datagram it has to
/// send goes on the link.
fn turn(now: Instant, ep: &mut Endpoint, to_listener: bool, link: &mut Link, buf: &mut [u8; 1500]) {
    ep.handle_timeout(now);
    black_box(ep.poll_timeout());
    while let Some(t) = ep.poll_transmit(now, buf) {
        link.push_back((now + DELAY, to_listener, t.size, *buf));
    }
}

fn busy(c: &mut Criterion) {
    let mut g = c.benchmark_group("endpoint");
    g.sample_size(10);
    // A driver that wakes every millisecond (many datagrams per turn), and
    // one that wakes every 100 µs (closer to one per turn, as udp_driver
    // under light load).
    for (name, tick) in [
        ("live_200x1mbps_1s_1ms_turns", 1000),
        ("live_200x1mbps_1s_100us_turns", 100),
    ] {
        g.bench_function(name, |b| busy_with(b, Duration::from_micros(tick)));
    }
    g.finish();
}

/// One second of the streams per iteration, in turns of `tick`.
fn busy_with(b: &mut criterion::Bencher<'_>, tick: Duration) {
    // Buffers of 1024 packets, so that the warm-up goes round their rings
    // and every storage page they use exists (as in steady_state_alloc).
    let options = SocketOptions {
        sndbuf_pkts: 1024,
        rcvbuf_pkts: 1024,
        ..SocketOptions::live()
    };
    let (start, mut listener, mut caller) = listener_and_caller(STREAMS, &options);
    let listener_addr = listener.local_addr();
    let caller_addr = caller.local_addr();
    let mut buf = [0u8; 1500];
    let ids: Vec<_> = (0..STREAMS)
        .map(|_| caller.connect(start, listener_addr, &options).unwrap())
        .collect();
    shuttle(start, &mut caller, &mut listener, &mut buf);
    while listener.accept().is_some() {}
    while listener.poll_event().is_some() {}
    while caller.poll_event().is_some() {}
    let payload = [7u8; 1316];
    let mut link = Link::with_capacity(10_000);
    let mut now = start;
    let mut ticks = 0usize;
    let mut delivered = 0u64;
    let per_second = (Duration::from_secs(1).as_nanos() / tick.as_nanos()) as usize;
    let per_packet = per_second / 100;

    b.iter(|| {
        for _ in 0..per_second {
            now += tick;
            ticks += 1;
            // Each stream sends one packet every 10 ms, staggered.
            for (i, id) in ids.iter().enumerate() {
                if (ticks + i) % per_packet == 0 {
                    caller
                        .send(now, *id, &payload, &MsgCtrl::default())
                        .unwrap();
                }
            }
            while link.front().is_some_and(|d| d.0 <= now) {
                let (_, to_listener, len, bytes) = link.pop_front().unwrap();
                if to_listener {
                    listener.handle_datagram(now, caller_addr, &bytes[..len]);
                } else {
                    caller.handle_datagram(now, listener_addr, &bytes[..len]);
                }
            }
            turn(now, &mut caller, true, &mut link, &mut buf);
            turn(now, &mut listener, false, &mut link, &mut buf);
            while let Some(e) = listener.poll_event() {
                if let Event::Readable { socket } = e {
                    while let Ok(Some(_)) = listener.recv(now, socket, &mut buf) {
                        delivered += 1;
                    }
                }
            }
            while caller.poll_event().is_some() {}
        }
    });
    assert!(delivered > 0);
    assert_eq!(listener.connection_count(), STREAMS);
}

#[allow(missing_docs)]
mod group {
    use super::*;
    criterion_group!(benches, idle, busy);
}
criterion_main!(group::benches);
