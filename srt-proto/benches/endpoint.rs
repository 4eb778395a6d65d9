//! The per-turn cost of an endpoint with many connections: one driver turn
//! (`handle_timeout`, `poll_timeout`, `poll_transmit` until `None`) on a
//! listener holding 1,000 connected, idle connections; and one second of
//! 200 live streams of 1 Mbit/s between two endpoints, in 1 ms turns (the
//! engine side of `srt-tools/tests/many_callers.rs`).

mod common;
#[path = "common/pair.rs"]
#[allow(dead_code)]
mod pair;

use common::{listener_and_caller, shuttle};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use pair::thread_cpu_time;
use srt_proto::{Endpoint, Event, MsgCtrl, SocketId, SocketOptions};
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

/// Datagrams on the link, in order of arrival: each is written once, by
/// `poll_transmit`, into a buffer of the link's own, and read from there
/// by `handle_datagram` (the harness copies nothing).
struct Link {
    /// Arrival, whether to the listener, length, buffer.
    queue: VecDeque<(Instant, bool, usize, usize)>,
    buffers: Vec<[u8; 1500]>,
    free: Vec<usize>,
}

impl Link {
    fn new(capacity: usize) -> Link {
        Link {
            queue: VecDeque::with_capacity(capacity),
            buffers: vec![[0u8; 1500]; capacity],
            free: (0..capacity).rev().collect(),
        }
    }
}

/// One turn of a driver for `ep`: timers, then every datagram it has to
/// send goes on the link.
fn turn(now: Instant, ep: &mut Endpoint, to_listener: bool, link: &mut Link) {
    ep.handle_timeout(now);
    black_box(ep.poll_timeout());
    loop {
        let i = *link.free.last().expect("link buffers");
        let Some(t) = ep.poll_transmit(now, &mut link.buffers[i]) else {
            return;
        };
        link.free.pop();
        link.queue.push_back((now + DELAY, to_listener, t.size, i));
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
        let mut busy = None;
        g.bench_function(name, |b| {
            let busy = busy.get_or_insert_with(|| Busy::new(Duration::from_micros(tick)));
            // The thread's CPU time: the machine is shared, and time spent
            // waiting for a core is no cost of the engine.
            b.iter_custom(|iters| {
                let start = thread_cpu_time();
                for _ in 0..iters {
                    busy.second();
                }
                thread_cpu_time() - start
            })
        });
        if let Some(busy) = &mut busy {
            busy.report(name);
        }
    }
    g.finish();
}

/// The two endpoints of the streams, their link and clock.
struct Busy {
    listener: Endpoint,
    caller: Endpoint,
    ids: Vec<SocketId>,
    link: Link,
    buf: [u8; 1500],
    now: Instant,
    tick: Duration,
    ticks: usize,
    delivered: u64,
}

impl Busy {
    /// The streams, connected, in turns of `tick`.
    fn new(tick: Duration) -> Busy {
        // Buffers of 1024 packets, so that the warm-up goes round their rings
        // and every storage page they use exists (as in steady_state_alloc).
        let options = SocketOptions {
            sndbuf_pkts: 1024,
            rcvbuf_pkts: 1024,
            ..SocketOptions::live()
        };
        let (start, mut listener, mut caller) = listener_and_caller(STREAMS, &options);
        let listener_addr = listener.local_addr();
        let mut buf = [0u8; 1500];
        let ids: Vec<_> = (0..STREAMS)
            .map(|_| caller.connect(start, listener_addr, &options).unwrap())
            .collect();
        shuttle(start, &mut caller, &mut listener, &mut buf);
        while listener.accept().is_some() {}
        while listener.poll_event().is_some() {}
        while caller.poll_event().is_some() {}
        Busy {
            listener,
            caller,
            ids,
            link: Link::new(10_000),
            buf,
            now: start,
            tick,
            ticks: 0,
            delivered: 0,
        }
    }

    /// One simulated second of the streams.
    fn second(&mut self) {
        let listener_addr = self.listener.local_addr();
        let caller_addr = self.caller.local_addr();
        let payload = [7u8; 1316];
        let per_second = (Duration::from_secs(1).as_nanos() / self.tick.as_nanos()) as usize;
        let per_packet = per_second / 100;
        for _ in 0..per_second {
            self.now += self.tick;
            self.ticks += 1;
            let now = self.now;
            // Each stream sends one packet every 10 ms, staggered.
            for (i, id) in self.ids.iter().enumerate() {
                if (self.ticks + i) % per_packet == 0 {
                    self.caller
                        .send(now, *id, &payload, &MsgCtrl::default())
                        .unwrap();
                }
            }
            while self.link.queue.front().is_some_and(|d| d.0 <= now) {
                let (_, to_listener, len, i) = self.link.queue.pop_front().unwrap();
                let bytes = &self.link.buffers[i][..len];
                if to_listener {
                    self.listener.handle_datagram(now, caller_addr, bytes);
                } else {
                    self.caller.handle_datagram(now, listener_addr, bytes);
                }
                self.link.free.push(i);
            }
            turn(now, &mut self.caller, true, &mut self.link);
            turn(now, &mut self.listener, false, &mut self.link);
            while let Some(e) = self.listener.poll_event() {
                if let Event::Readable { socket } = e {
                    while let Ok(Some(_)) = self.listener.recv(now, socket, &mut self.buf) {
                        self.delivered += 1;
                    }
                }
            }
            while self.caller.poll_event().is_some() {}
        }
        assert!(self.delivered > 0);
        assert_eq!(self.listener.connection_count(), STREAMS);
    }

    /// Prints the CPU time per simulated second (the median of five) and
    /// per data packet delivered (both ends together, ACKs and timers
    /// included).
    fn report(&mut self, name: &str) {
        let mut runs = [(0.0, 0.0); 5];
        for run in &mut runs {
            let (start, delivered) = (thread_cpu_time(), self.delivered);
            self.second();
            let cpu = (thread_cpu_time() - start).as_secs_f64();
            *run = (cpu * 1e3, cpu * 1e9 / (self.delivered - delivered) as f64);
        }
        runs.sort_by(|a, b| a.0.total_cmp(&b.0));
        let (ms, ns) = runs[runs.len() / 2];
        println!(
            "endpoint/{name}: {ms:.1} ms of CPU per simulated second, {ns:.0} ns per packet (both ends)"
        );
    }
}

#[allow(missing_docs)]
mod group {
    use super::*;
    criterion_group!(benches, idle, busy);
}
criterion_main!(group::benches);
