//! Handshakes completed per second by a listener endpoint, in virtual time:
//! a caller endpoint connects, the listener answers induction and
//! conclusion, accepts, and both close. Datagrams are handed over directly,
//! so this measures the engine alone.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use srt_proto::{CloseMode, Endpoint, EndpointConfig, Event, SocketOptions};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// Moves every queued datagram between the two endpoints until both are quiet.
fn shuttle(now: Instant, a: &mut Endpoint, b: &mut Endpoint, buf: &mut [u8]) {
    loop {
        let mut moved = false;
        while let Some(t) = a.poll_transmit(now, buf) {
            let from = a.local_addr();
            b.handle_datagram(now, from, &buf[..t.size]);
            moved = true;
        }
        while let Some(t) = b.poll_transmit(now, buf) {
            let from = b.local_addr();
            a.handle_datagram(now, from, &buf[..t.size]);
            moved = true;
        }
        if !moved {
            return;
        }
    }
}

fn bench(c: &mut Criterion) {
    let listener_addr: SocketAddr = "127.0.0.1:9000".parse().unwrap();
    let caller_addr: SocketAddr = "127.0.0.1:5000".parse().unwrap();
    let start = Instant::now();
    let mut listener = Endpoint::new(EndpointConfig::default(), listener_addr, start);
    listener.listen(&SocketOptions::default(), 16).unwrap();
    let mut caller = Endpoint::new(
        EndpointConfig {
            seed: 1,
            ..EndpointConfig::default()
        },
        caller_addr,
        start,
    );
    let mut buf = vec![0u8; 1500];
    let mut now = start;

    let mut g = c.benchmark_group("listener");
    g.throughput(Throughput::Elements(1));
    g.bench_function("handshake", |b| {
        b.iter(|| {
            now += Duration::from_micros(10);
            let id = caller
                .connect(now, listener_addr, &SocketOptions::default())
                .unwrap();
            shuttle(now, &mut caller, &mut listener, &mut buf);
            let accepted = listener.accept().expect("accepted");
            assert!(matches!(caller.poll_event(), Some(Event::Connected { .. })));
            while listener.poll_event().is_some() {}
            caller.close(now, id, CloseMode::Abort).unwrap();
            listener.close(now, accepted, CloseMode::Abort).unwrap();
            shuttle(now, &mut caller, &mut listener, &mut buf);
            while caller.poll_event().is_some() {}
            while listener.poll_event().is_some() {}
        })
    });
    g.finish();
    assert_eq!(listener.connection_count(), 0);
}

#[allow(missing_docs)]
mod group {
    use super::*;
    criterion_group!(benches, bench);
}
criterion_main!(group::benches);
