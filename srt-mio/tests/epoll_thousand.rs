//! One epoll container with 1,000 sockets accepted on one listener port,
//! level- then edge-triggered, all in one context (one worker thread).

use srt_mio::code::*;
use srt_mio::epoll::{SRT_EPOLL_ET, SRT_EPOLL_IN, SRT_EPOLL_OUT};
use srt_mio::{Context, EpollEvent, SockStatus, SrtSocket};
use srt_proto::options::{OptionValue, SockOpt};
use std::collections::{BTreeMap, BTreeSet};
use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

const SOCKETS: usize = 1000;
/// Callers share this many UDP ports (100 SRT sockets per port).
const CALLER_PORTS: usize = 10;

fn set(ctx: &Context, u: SrtSocket, opt: SockOpt, v: i32) {
    ctx.set_option(u, opt, OptionValue::Int(v)).unwrap();
}

/// Collects uwait reports until every socket of `want` was seen once;
/// each report must be `events` on a socket of `want`.
fn collect(
    ctx: &Context,
    eid: i32,
    want: &BTreeSet<SrtSocket>,
    events: i32,
) -> BTreeSet<SrtSocket> {
    let mut out = vec![EpollEvent::default(); SOCKETS];
    let mut seen = BTreeSet::new();
    let end = Instant::now() + Duration::from_secs(20);
    while seen.len() < want.len() {
        assert!(
            Instant::now() < end,
            "only {} of {} ready",
            seen.len(),
            want.len()
        );
        let n = ctx
            .epoll_uwait(eid, &mut out, Some(Duration::from_secs(1)))
            .unwrap();
        for e in &out[..n.min(out.len())] {
            assert!(want.contains(&e.fd), "unknown socket {}", e.fd);
            assert_eq!(e.events, events);
            seen.insert(e.fd);
        }
    }
    seen
}

#[test]
fn thousand_accepted_sockets_in_one_container() {
    let start = Instant::now();
    let ctx = Context::new().unwrap();
    let l = ctx.create_socket().unwrap();
    ctx.bind(l, "127.0.0.1:0".parse().unwrap()).unwrap();
    ctx.listen(l, SOCKETS as i32).unwrap();
    let addr = ctx.local_addr(l).unwrap();

    let ports: Vec<SocketAddr> = (0..CALLER_PORTS)
        .map(|_| {
            UdpSocket::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
        })
        .collect();
    let mut callers = Vec::new();
    for i in 0..SOCKETS {
        let c = ctx.create_socket().unwrap();
        set(&ctx, c, SockOpt::RcvSyn, 0);
        ctx.connect_bind(c, ports[i % CALLER_PORTS], addr).unwrap();
        callers.push(c);
    }
    // Accept all (blocking accept on the listener).
    let mut accepted: BTreeMap<SocketAddr, Vec<SrtSocket>> = BTreeMap::new();
    for _ in 0..SOCKETS {
        let (a, peer) = ctx.accept(l).unwrap();
        assert_eq!(ctx.local_addr(a).unwrap(), addr);
        set(&ctx, a, SockOpt::RcvSyn, 0);
        accepted.entry(peer).or_default().push(a);
    }
    assert_eq!(
        accepted.len(),
        CALLER_PORTS,
        "callers share {CALLER_PORTS} ports"
    );
    let all: BTreeSet<SrtSocket> = accepted.values().flatten().copied().collect();
    assert_eq!(all.len(), SOCKETS);
    // The callers learn of it when the listener's answer arrives: OUT.
    let callers_eid = ctx.epoll_create().unwrap();
    for c in &callers {
        ctx.epoll_add_usock(callers_eid, *c, Some(SRT_EPOLL_OUT | SRT_EPOLL_ET))
            .unwrap();
    }
    let caller_set: BTreeSet<SrtSocket> = callers.iter().copied().collect();
    collect(&ctx, callers_eid, &caller_set, SRT_EPOLL_OUT);
    for c in &callers {
        assert_eq!(ctx.state(*c), SockStatus::Connected);
    }

    let eid = ctx.epoll_create().unwrap();
    for a in &all {
        ctx.epoll_add_usock(eid, *a, Some(SRT_EPOLL_IN)).unwrap();
    }
    let mut out = vec![EpollEvent::default(); SOCKETS];
    assert_eq!(
        ctx.epoll_uwait(eid, &mut out, Some(Duration::from_millis(100)))
            .unwrap(),
        0
    );

    // Level-triggered: every socket reported, and again while unread.
    for (i, c) in callers.iter().enumerate() {
        ctx.send(*c, format!("message {i}").as_bytes()).unwrap();
    }
    let seen = collect(&ctx, eid, &all, SRT_EPOLL_IN);
    assert_eq!(seen, all);
    assert_eq!(
        ctx.epoll_uwait(eid, &mut out, Some(Duration::ZERO))
            .unwrap(),
        SOCKETS,
        "level-triggered: still all ready"
    );
    let mut buf = [0u8; 1500];
    let mut texts = BTreeSet::new();
    for a in &all {
        let n = ctx.recv(*a, &mut buf).unwrap();
        texts.insert(String::from_utf8(buf[..n].to_vec()).unwrap());
        assert_eq!(ctx.recv(*a, &mut buf).unwrap_err().code(), SRT_EASYNCRCV);
    }
    let want: BTreeSet<String> = (0..SOCKETS).map(|i| format!("message {i}")).collect();
    assert_eq!(texts, want);
    assert_eq!(
        ctx.epoll_uwait(eid, &mut out, Some(Duration::from_millis(100)))
            .unwrap(),
        0
    );

    // Edge-triggered (and OUT watched too): each socket's rise once.
    for a in &all {
        ctx.epoll_update_usock(eid, *a, Some(SRT_EPOLL_IN | SRT_EPOLL_ET))
            .unwrap();
    }
    for c in &callers {
        ctx.send(*c, b"second").unwrap();
    }
    let seen = collect(&ctx, eid, &all, SRT_EPOLL_IN);
    assert_eq!(seen, all);
    assert_eq!(
        ctx.epoll_uwait(eid, &mut out, Some(Duration::from_millis(200)))
            .unwrap(),
        0,
        "edges are reported once, though nothing was read"
    );
    for a in &all {
        ctx.epoll_update_usock(eid, *a, Some(SRT_EPOLL_OUT | SRT_EPOLL_ET))
            .unwrap();
    }
    let seen = collect(&ctx, eid, &all, SRT_EPOLL_OUT);
    assert_eq!(seen, all);
    eprintln!("1000 sockets: {:?}", start.elapsed());
}
