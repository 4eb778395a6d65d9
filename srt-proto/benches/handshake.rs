//! Handshakes completed per second by a listener endpoint, in virtual time:
//! a caller endpoint connects, the listener answers induction and
//! conclusion, accepts, and both close. Datagrams are handed over directly,
//! so this measures the engine alone.

mod common;

use common::{listener_and_caller, shuttle};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use srt_proto::{CloseMode, Event, SocketOptions};
use std::time::Duration;

fn bench(c: &mut Criterion) {
    let (start, mut listener, mut caller) = listener_and_caller(16, &SocketOptions::default());
    let listener_addr = listener.local_addr();
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
