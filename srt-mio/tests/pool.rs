//! The worker pool: the connections of one listening port are spread over
//! the workers (each runs an engine shard of the port), and every message
//! still arrives, whole and in order.

use srt_mio::{default_workers, Context, OptionValue, SockOpt, SrtSocket, MAX_WORKERS};
use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::time::Duration;

/// Callers on the one listening port: with two shards, the chance that
/// all land in one is 2^-31.
const CALLERS: usize = 32;
/// Messages each caller sends.
const MESSAGES: u32 = 200;

fn listener(ctx: &Context) -> (SrtSocket, SocketAddr) {
    let l = ctx.create_socket().unwrap();
    ctx.bind(l, "127.0.0.1:0".parse().unwrap()).unwrap();
    ctx.listen(l, CALLERS as i32).unwrap();
    (l, ctx.local_addr(l).unwrap())
}

/// `CALLERS` connected pairs (caller, accepted) on one listening port.
fn pairs(ctx: &Context) -> Vec<(SrtSocket, SrtSocket)> {
    let (l, addr) = listener(ctx);
    let mut pairs = Vec::new();
    for _ in 0..CALLERS {
        let c = ctx.create_socket().unwrap();
        ctx.connect(c, addr).unwrap();
        let (a, _) = ctx.accept(l).unwrap();
        ctx.set_option(a, SockOpt::RcvTimeo, OptionValue::Int(5000))
            .unwrap();
        pairs.push((c, a));
    }
    pairs
}

/// Every caller sends `MESSAGES` numbered messages; every accepted socket
/// must get all of them in order.
fn carry(ctx: &Context, pairs: &[(SrtSocket, SrtSocket)]) {
    let mut msg = [0u8; 1316];
    for n in 0..MESSAGES {
        for (i, &(c, _)) in pairs.iter().enumerate() {
            msg[..4].copy_from_slice(&(i as u32).to_le_bytes());
            msg[4..8].copy_from_slice(&n.to_le_bytes());
            ctx.send(c, &msg).unwrap();
        }
        if n % 20 == 0 {
            // Live mode: keep the rate modest (about 30 Mbit/s in all).
            std::thread::sleep(Duration::from_millis(5));
        }
    }
    let mut buf = [0u8; 1500];
    for (i, &(_, a)) in pairs.iter().enumerate() {
        for n in 0..MESSAGES {
            let len = ctx.recv(a, &mut buf).unwrap();
            assert_eq!(len, 1316);
            assert_eq!(buf[..4], (i as u32).to_le_bytes(), "stream {i}");
            assert_eq!(buf[4..8], n.to_le_bytes(), "stream {i}: message {n}");
        }
    }
}

#[test]
fn one_port_is_served_by_every_worker_and_delivers_everything() {
    let ctx = Context::with_workers(2).unwrap();
    assert_eq!(ctx.workers(), 2);
    let pairs = pairs(&ctx);
    let workers: BTreeSet<usize> = pairs
        .iter()
        .map(|&(_, a)| ctx.worker_of(a).unwrap())
        .collect();
    assert_eq!(
        workers,
        BTreeSet::from([0, 1]),
        "the accepted sockets of one port run on both workers"
    );
    carry(&ctx, &pairs);
    let handled = ctx.worker_datagrams();
    assert!(
        handled.iter().all(|&d| d >= u64::from(MESSAGES)),
        "every worker handled datagrams: {handled:?}"
    );
}

#[test]
fn one_worker_serves_everything() {
    let ctx = Context::with_workers(1).unwrap();
    let pairs = pairs(&ctx);
    for &(c, a) in &pairs {
        assert_eq!(ctx.worker_of(c).unwrap(), 0);
        assert_eq!(ctx.worker_of(a).unwrap(), 0);
    }
    carry(&ctx, &pairs);
    assert_eq!(ctx.worker_datagrams().len(), 1);
}

#[test]
fn the_pool_size_is_bounded_and_configurable() {
    assert_eq!(Context::with_workers(0).unwrap().workers(), 1);
    let ctx = Context::with_workers(MAX_WORKERS + 5).unwrap();
    assert_eq!(ctx.workers(), MAX_WORKERS);
    drop(ctx);
    // This test binary only: no other test reads SRT_WORKERS.
    std::env::set_var("SRT_WORKERS", "3");
    assert_eq!(default_workers(), 3);
    assert_eq!(Context::new().unwrap().workers(), 3);
    std::env::set_var("SRT_WORKERS", "zero");
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    assert_eq!(default_workers(), cores.min(MAX_WORKERS));
    std::env::remove_var("SRT_WORKERS");
}

#[test]
fn an_unbound_socket_has_no_worker() {
    let ctx = Context::with_workers(2).unwrap();
    let s = ctx.create_socket().unwrap();
    assert!(ctx.worker_of(s).is_err());
}
