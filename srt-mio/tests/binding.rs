//! Rendezvous, connect with a source address, binding to an existing UDP
//! socket, and libsrt's side, wildcard and shared binding rules.

use srt_mio::code::*;
use srt_mio::epoll::{SRT_EPOLL_ERR, SRT_EPOLL_OUT};
use srt_mio::{Context, EpollEvent, SockStatus, SrtSocket};
use srt_proto::options::{OptionValue, SockOpt};
use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

/// A port free right now on `ip`.
fn free_port(ip: &str) -> SocketAddr {
    UdpSocket::bind(addr(&format!("{ip}:0")))
        .unwrap()
        .local_addr()
        .unwrap()
}

/// Sends `text` from `from` and checks that `to` receives it.
fn carries(ctx: &Context, from: SrtSocket, to: SrtSocket, text: &[u8]) {
    ctx.set_option(to, SockOpt::RcvTimeo, OptionValue::Int(5000))
        .unwrap();
    ctx.send(from, text).unwrap();
    let mut buf = [0u8; 1500];
    let n = ctx.recv(to, &mut buf).unwrap();
    assert_eq!(&buf[..n], text);
}

/// A listener bound to `at`; returns it and its address.
fn listen_at(ctx: &Context, at: SocketAddr) -> (SrtSocket, SocketAddr) {
    let l = ctx.create_socket().unwrap();
    ctx.bind(l, at).unwrap();
    ctx.listen(l, 8).unwrap();
    (l, ctx.local_addr(l).unwrap())
}

#[test]
fn blocking_rendezvous_both_ways() {
    let ctx = Context::new().unwrap();
    let (pa, pb) = (free_port("127.0.0.1"), free_port("127.0.0.1"));
    let (a, b) = (ctx.create_socket().unwrap(), ctx.create_socket().unwrap());
    std::thread::scope(|s| {
        let ctx = &ctx;
        let other = s.spawn(move || ctx.rendezvous(b, pb, pa));
        ctx.rendezvous(a, pa, pb).unwrap();
        other.join().unwrap().unwrap();
    });
    assert_eq!(ctx.state(a), SockStatus::Connected);
    assert_eq!(ctx.peer_addr(a).unwrap(), pb);
    carries(&ctx, a, b, b"a to b");
    carries(&ctx, b, a, b"b to a");
}

#[test]
fn non_blocking_rendezvous_with_epoll() {
    let ctx = Context::new().unwrap();
    let (pa, pb) = (free_port("127.0.0.1"), free_port("127.0.0.1"));
    let eid = ctx.epoll_create().unwrap();
    let mut sockets = Vec::new();
    for (local, remote) in [(pa, pb), (pb, pa)] {
        let u = ctx.create_socket().unwrap();
        ctx.set_option(u, SockOpt::RcvSyn, OptionValue::Bool(false))
            .unwrap();
        ctx.set_option(u, SockOpt::Rendezvous, OptionValue::Bool(true))
            .unwrap();
        ctx.bind(u, local).unwrap();
        ctx.epoll_add_usock(eid, u, Some(SRT_EPOLL_OUT | SRT_EPOLL_ERR))
            .unwrap();
        ctx.connect(u, remote).unwrap();
        sockets.push(u);
    }
    let mut connected = Vec::new();
    let mut out = [EpollEvent::default(); 4];
    while connected.len() < 2 {
        let n = ctx
            .epoll_uwait(eid, &mut out, Some(Duration::from_secs(5)))
            .unwrap();
        assert!(n > 0, "rendezvous did not complete");
        for e in &out[..n] {
            assert_eq!(e.events, SRT_EPOLL_OUT);
            if !connected.contains(&e.fd) {
                connected.push(e.fd);
            }
        }
    }
    connected.sort();
    sockets.sort();
    assert_eq!(connected, sockets);
}

#[test]
fn connect_bind_uses_the_source_address() {
    let ctx = Context::new().unwrap();
    let (l, at) = listen_at(&ctx, addr("127.0.0.1:0"));
    let source = free_port("127.0.0.1");
    let c = ctx.create_socket().unwrap();
    ctx.connect_bind(c, source, at).unwrap();
    assert_eq!(ctx.local_addr(c).unwrap(), source);
    let (a, peer) = ctx.accept(l).unwrap();
    assert_eq!(peer, source);
    carries(&ctx, c, a, b"from a chosen port");
    // Already bound: SRT_EINVOP, as srt_connect_bind says.
    let again = ctx.create_socket().unwrap();
    ctx.bind(again, addr("127.0.0.1:0")).unwrap();
    let err = ctx.connect_bind(again, source, at).unwrap_err();
    assert_eq!(err.code(), SRT_EINVOP);
    // Mixed families are refused, after binding, as libsrt 1.5.1 does.
    let mixed = ctx.create_socket().unwrap();
    let err = ctx.connect_bind(mixed, addr("[::1]:0"), at).unwrap_err();
    assert_eq!(err.code(), SRT_EINVPARAM);
    assert_eq!(ctx.state(mixed), SockStatus::Opened);
    // srt_rendezvous checks the families first and binds nothing.
    let rdv = ctx.create_socket().unwrap();
    let err = ctx.rendezvous(rdv, addr("[::1]:0"), at).unwrap_err();
    assert_eq!(err.code(), SRT_EINVPARAM);
    assert_eq!(ctx.state(rdv), SockStatus::Init);
}

#[test]
fn bind_to_an_existing_udp_socket() {
    let ctx = Context::new().unwrap();
    let udp = UdpSocket::bind(addr("127.0.0.1:0")).unwrap();
    let at = udp.local_addr().unwrap();
    let l = ctx.create_socket().unwrap();
    ctx.bind_acquire(l, udp).unwrap();
    assert_eq!(ctx.state(l), SockStatus::Opened);
    assert_eq!(ctx.local_addr(l).unwrap(), at);
    ctx.listen(l, 4).unwrap();
    let c = ctx.create_socket().unwrap();
    ctx.connect(c, at).unwrap();
    let (a, _) = ctx.accept(l).unwrap();
    carries(&ctx, c, a, b"through an acquired socket");
    let twice = UdpSocket::bind(addr("127.0.0.1:0")).unwrap();
    let twice_at = twice.local_addr().unwrap();
    let refused = ctx.bind_acquire(l, twice).unwrap_err();
    assert_eq!(refused.code(), SRT_EINVOP);
    // A refused socket comes back open and unchanged (it was once closed
    // on the way out, and the descriptor's next owner lost it).
    assert_eq!(refused.socket.local_addr().unwrap(), twice_at);
    let connected = UdpSocket::bind(addr("127.0.0.1:0")).unwrap();
    connected.connect(at).unwrap();
    let u = ctx.create_socket().unwrap();
    let refused = ctx.bind_acquire(u, connected).unwrap_err();
    assert_eq!(refused.code(), SRT_EINVPARAM);
    assert_eq!(refused.socket.peer_addr().unwrap(), at);
    let unknown = UdpSocket::bind(addr("127.0.0.1:0")).unwrap();
    let refused = ctx.bind_acquire(12345, unknown).unwrap_err();
    assert_eq!(refused.code(), SRT_EINVSOCK);
    refused.socket.local_addr().unwrap();
    // The acquired socket still works after all those refusals.
    let c2 = ctx.create_socket().unwrap();
    ctx.connect(c2, at).unwrap();
    let (a2, _) = ctx.accept(l).unwrap();
    carries(&ctx, c2, a2, b"after refusals");
}

#[test]
fn wildcard_listener_and_side_bindings() {
    let ctx = Context::new().unwrap();
    // A listener on the IPv4 wildcard is reached on loopback.
    let (l, at) = listen_at(&ctx, addr("0.0.0.0:0"));
    let c = ctx.create_socket().unwrap();
    ctx.connect(c, SocketAddr::from(([127, 0, 0, 1], at.port())))
        .unwrap();
    let (a, _) = ctx.accept(l).unwrap();
    carries(&ctx, c, a, b"via the wildcard");

    // Side binding: two addresses, one port, two UDP sockets, two listeners.
    let port = free_port("127.0.0.1").port();
    let (l1, at1) = listen_at(&ctx, SocketAddr::from(([127, 0, 0, 1], port)));
    let (l2, at2) = listen_at(&ctx, SocketAddr::from(([127, 0, 0, 2], port)));
    for (l, at) in [(l1, at1), (l2, at2)] {
        let c = ctx.create_socket().unwrap();
        ctx.connect(c, at).unwrap();
        let (a, _) = ctx.accept(l).unwrap();
        assert_eq!(ctx.local_addr(a).unwrap(), at);
    }
    // The IPv4 wildcard on that port is blocked by both.
    let w = ctx.create_socket().unwrap();
    let err = ctx.bind(w, SocketAddr::from(([0, 0, 0, 0], port)));
    assert_eq!(err.unwrap_err().code(), SRT_EBINDCONFLICT);
}

#[test]
fn ipv6_wildcards_and_ipv6only() {
    let ctx = Context::new().unwrap();
    let port = free_port("0.0.0.0").port();
    let v4 = ctx.create_socket().unwrap();
    ctx.bind(v4, SocketAddr::from(([0, 0, 0, 0], port)))
        .unwrap();
    // "::" with SRTO_IPV6ONLY = 1 is beside 0.0.0.0 ("side wildcard binding").
    let v6only = ctx.create_socket().unwrap();
    ctx.set_option(v6only, SockOpt::Ipv6Only, OptionValue::Int(1))
        .unwrap();
    let any6 = addr(&format!("[::]:{port}"));
    ctx.bind(v6only, any6).unwrap();
    // With SRTO_IPV6ONLY = 0 it would cover IPv4 too: blocked.
    let dual = ctx.create_socket().unwrap();
    ctx.set_option(dual, SockOpt::Ipv6Only, OptionValue::Int(0))
        .unwrap();
    assert_eq!(ctx.bind(dual, any6).unwrap_err().code(), SRT_EBINDCONFLICT);
    // A dual-stack listener is reached over IPv4 and IPv6.
    let l = ctx.create_socket().unwrap();
    ctx.set_option(l, SockOpt::Ipv6Only, OptionValue::Int(0))
        .unwrap();
    ctx.bind(l, addr("[::]:0")).unwrap();
    ctx.listen(l, 4).unwrap();
    let port = ctx.local_addr(l).unwrap().port();
    for target in [format!("127.0.0.1:{port}"), format!("[::1]:{port}")] {
        let c = ctx.create_socket().unwrap();
        ctx.connect(c, addr(&target)).unwrap();
        let (a, _) = ctx.accept(l).unwrap();
        carries(&ctx, c, a, target.as_bytes());
    }
}

#[test]
fn reuseaddr_and_release_of_a_port() {
    let ctx = Context::new().unwrap();
    let a = ctx.create_socket().unwrap();
    ctx.set_option(a, SockOpt::ReuseAddr, OptionValue::Bool(false))
        .unwrap();
    ctx.bind(a, addr("127.0.0.1:0")).unwrap();
    let at = ctx.local_addr(a).unwrap();
    // The holder does not share, even with a reusing newcomer.
    let b = ctx.create_socket().unwrap();
    assert_eq!(ctx.bind(b, at).unwrap_err().code(), SRT_EBINDCONFLICT);
    // Once its last socket is closed, the port is free again.
    ctx.close(a).unwrap();
    ctx.bind(b, at).unwrap();
    let c = ctx.create_socket().unwrap();
    ctx.bind(c, at).unwrap();
    assert_eq!(ctx.local_addr(c).unwrap(), at);
}
