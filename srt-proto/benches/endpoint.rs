//! One driver turn (`handle_timeout`, `poll_timeout`, `poll_transmit` until
//! `None`) on a listener endpoint holding 1,000 connected, idle
//! connections: the per-turn cost of an endpoint whose connections have
//! nothing to do.

mod common;

use common::{listener_and_caller, shuttle};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use srt_proto::SocketOptions;
use std::hint::black_box;
use std::time::Duration;

/// Connected idle connections on the listener.
const CONNECTIONS: usize = 1000;

fn bench(c: &mut Criterion) {
    let (start, mut listener, mut caller) = listener_and_caller(CONNECTIONS);
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

#[allow(missing_docs)]
mod group {
    use super::*;
    criterion_group!(benches, bench);
}
criterion_main!(group::benches);
