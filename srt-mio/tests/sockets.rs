//! Sockets over loopback: lifecycle, transfer, blocking and non-blocking
//! calls, and libsrt's error codes.

use srt_mio::code::*;
use srt_mio::{Context, SockStatus, SrtSocket};
use srt_proto::options::{OptionValue, SockOpt};
use srt_proto::packet::RejectReason;
use std::net::{SocketAddr, UdpSocket};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn lo() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

fn set(ctx: &Context, u: SrtSocket, opt: SockOpt, v: i32) {
    ctx.set_option(u, opt, OptionValue::Int(v)).unwrap();
}

/// A listener on a loopback port.
fn listener(ctx: &Context) -> (SrtSocket, SocketAddr) {
    let l = ctx.create_socket().unwrap();
    ctx.bind(l, lo()).unwrap();
    ctx.listen(l, 16).unwrap();
    (l, ctx.local_addr(l).unwrap())
}

/// A caller connected to `addr` and the socket the listener accepted for it.
fn connected_pair(ctx: &Context, l: SrtSocket, addr: SocketAddr) -> (SrtSocket, SrtSocket) {
    let c = ctx.create_socket().unwrap();
    ctx.connect(c, addr).unwrap();
    assert_eq!(ctx.state(c), SockStatus::Connected);
    let (a, peer) = ctx.accept(l).unwrap();
    assert_eq!(peer.port(), ctx.local_addr(c).unwrap().port());
    set(ctx, a, SockOpt::RcvTimeo, 5000);
    (c, a)
}

/// Waits (up to 3 s) until `u` is broken.
fn wait_broken(ctx: &Context, u: SrtSocket) {
    let start = Instant::now();
    while ctx.state(u) != SockStatus::Broken {
        assert!(start.elapsed() < Duration::from_secs(3), "not broken");
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn message(i: usize) -> Vec<u8> {
    (0..1000).map(|k| (i * 7 + k) as u8).collect()
}

#[test]
fn live_transfer_caller_to_listener() {
    let ctx = Context::new().unwrap();
    let (l, addr) = listener(&ctx);
    let (c, a) = connected_pair(&ctx, l, addr);
    assert_eq!(ctx.state(a), SockStatus::Connected);
    assert_eq!(ctx.peer_addr(c).unwrap(), addr);
    assert_eq!(
        ctx.peer_addr(a).unwrap().port(),
        ctx.local_addr(c).unwrap().port()
    );
    for i in 0..200 {
        assert_eq!(ctx.send(c, &message(i)).unwrap(), 1000);
    }
    std::thread::sleep(Duration::from_millis(50));
    let OptionValue::Int(waiting) = ctx.get_option(a, SockOpt::RcvData).unwrap() else {
        panic!("SRTO_RCVDATA is an int");
    };
    assert!(waiting > 0, "nothing in the receive buffer");
    let mut buf = [0u8; 1500];
    for i in 0..200 {
        let n = ctx.recv(a, &mut buf).unwrap();
        assert_eq!(&buf[..n], &message(i)[..], "message {i}");
    }
    // Live mode: messages of at most SRTO_PAYLOADSIZE (1316), whole
    // payload-sized receive buffers, no empty ones.
    assert_eq!(
        ctx.send(c, &[0u8; 1317]).unwrap_err().code(),
        SRT_EINVALMSGAPI
    );
    assert_eq!(
        ctx.recv(a, &mut buf[..1315]).unwrap_err().code(),
        SRT_EINVALMSGAPI
    );
    assert_eq!(ctx.recv(a, &mut []).unwrap_err().code(), SRT_EINVPARAM);
    assert_eq!(ctx.send(c, &[]).unwrap(), 0, "libsrt sends nothing");
    ctx.close(c).unwrap();
    // The peer's SHUTDOWN breaks the accepted socket.
    wait_broken(&ctx, a);
    assert_eq!(ctx.recv(a, &mut buf).unwrap_err().code(), SRT_ECONNLOST);
}

#[test]
fn several_callers_share_one_listener_port() {
    let ctx = Context::new().unwrap();
    let (l, addr) = listener(&ctx);
    // Two of the callers share one UDP port too.
    let shared: SocketAddr = {
        let probe = UdpSocket::bind(lo()).unwrap();
        probe.local_addr().unwrap()
    };
    let mut callers = Vec::new();
    for i in 0..6 {
        let c = ctx.create_socket().unwrap();
        if i < 2 {
            ctx.bind(c, shared).unwrap();
        }
        ctx.connect(c, addr).unwrap();
        callers.push(c);
    }
    assert_eq!(
        ctx.local_addr(callers[0]).unwrap(),
        ctx.local_addr(callers[1]).unwrap()
    );
    let mut accepted = Vec::new();
    for _ in 0..6 {
        let (a, peer) = ctx.accept(l).unwrap();
        assert_eq!(
            ctx.local_addr(a).unwrap(),
            addr,
            "accepted sockets use the listener's port"
        );
        accepted.push((a, peer));
    }
    for (i, c) in callers.iter().enumerate() {
        ctx.send(*c, format!("caller {i}").as_bytes()).unwrap();
    }
    let mut seen = Vec::new();
    let mut buf = [0u8; 1500];
    for (a, _) in &accepted {
        let n = ctx.recv(*a, &mut buf).unwrap();
        seen.push(String::from_utf8(buf[..n].to_vec()).unwrap());
    }
    seen.sort();
    let want: Vec<String> = (0..6).map(|i| format!("caller {i}")).collect();
    assert_eq!(seen, want);
}

#[test]
fn non_blocking_calls_would_block() {
    let ctx = Context::new().unwrap();
    let (l, addr) = listener(&ctx);
    set(&ctx, l, SockOpt::RcvSyn, 0);
    assert_eq!(ctx.accept(l).unwrap_err().code(), SRT_EASYNCRCV);

    // Non-blocking connect: returns at once, connects in the background.
    let c = ctx.create_socket().unwrap();
    set(&ctx, c, SockOpt::RcvSyn, 0);
    set(&ctx, c, SockOpt::SndSyn, 0);
    // A slow sender with a small buffer fills it quickly.
    ctx.set_option(c, SockOpt::MaxBw, OptionValue::Int64(20_000))
        .unwrap();
    set(&ctx, c, SockOpt::SndBuf, 40 * 1472);
    ctx.connect(c, addr).unwrap();
    // Sending before the connection is made (to a silent peer, so that it
    // stays so): SRT_ENOCONN.
    let silent = UdpSocket::bind(lo()).unwrap();
    let pending = ctx.create_socket().unwrap();
    set(&ctx, pending, SockOpt::RcvSyn, 0);
    ctx.connect(pending, silent.local_addr().unwrap()).unwrap();
    assert_eq!(ctx.state(pending), SockStatus::Connecting);
    assert_eq!(ctx.send(pending, b"early").unwrap_err().code(), SRT_ENOCONN);
    let start = Instant::now();
    while ctx.state(c) != SockStatus::Connected {
        assert!(start.elapsed() < Duration::from_secs(3), "not connected");
        std::thread::sleep(Duration::from_millis(2));
    }
    let a = loop {
        match ctx.accept(l) {
            Ok((a, _)) => break a,
            Err(e) => assert_eq!(e.code(), SRT_EASYNCRCV),
        }
        assert!(start.elapsed() < Duration::from_secs(3), "not accepted");
        std::thread::sleep(Duration::from_millis(2));
    };
    set(&ctx, a, SockOpt::RcvSyn, 0);
    let mut buf = [0u8; 1500];
    assert_eq!(ctx.recv(a, &mut buf).unwrap_err().code(), SRT_EASYNCRCV);
    let mut sent = 0;
    let err = loop {
        match ctx.send(c, &[7u8; 1316]) {
            Ok(_) => sent += 1,
            Err(e) => break e,
        }
        assert!(sent < 10_000, "the send buffer never filled");
    };
    assert_eq!(err.code(), SRT_EASYNCSND);
    assert!(sent > 0);

    // Blocking with a timeout: SRT_ETIMEOUT after about that long.
    set(&ctx, a, SockOpt::RcvSyn, 1);
    set(&ctx, a, SockOpt::RcvTimeo, 200);
    // Drain what arrived, then time out.
    let start = Instant::now();
    let err = loop {
        match ctx.recv(a, &mut buf) {
            Ok(_) => {}
            Err(e) => break e,
        }
        assert!(start.elapsed() < Duration::from_secs(60));
    };
    assert!(matches!(err.code(), SRT_ETIMEOUT), "{err}");
}

#[test]
fn connect_to_a_silent_port_times_out() {
    let ctx = Context::new().unwrap();
    let silent = UdpSocket::bind(lo()).unwrap();
    let c = ctx.create_socket().unwrap();
    set(&ctx, c, SockOpt::ConnTimeo, 400);
    let start = Instant::now();
    let err = ctx.connect(c, silent.local_addr().unwrap()).unwrap_err();
    assert_eq!(err.code(), SRT_ENOSERVER);
    assert_eq!(err.reject_reason(), Some(RejectReason::Timeout));
    let took = start.elapsed();
    assert!(
        took >= Duration::from_millis(350) && took < Duration::from_secs(3),
        "{took:?}"
    );
    // As libsrt, the socket is OPENED again and may connect elsewhere.
    assert_eq!(ctx.state(c), SockStatus::Opened);
    let (_l, addr) = listener(&ctx);
    ctx.connect(c, addr).unwrap();
    assert_eq!(ctx.state(c), SockStatus::Connected);
}

#[test]
fn rejected_connection_reports_the_reason() {
    let ctx = Context::new().unwrap();
    let l = ctx.create_socket().unwrap();
    ctx.bind(l, lo()).unwrap();
    let named = Arc::new(Mutex::new(Vec::new()));
    let told = named.clone();
    ctx.set_listen_callback(
        l,
        Box::new(move |id, req, opts| {
            assert!(req.stream_id != b"panic", "a hook that panics");
            told.lock().unwrap().push(id);
            if req.stream_id == b"welcome" {
                // A latency for this stream only.
                opts.rcvlatency = Duration::from_millis(321);
                Ok(())
            } else {
                Err(RejectReason::Server(1403)) // SRT_REJX_FORBIDDEN
            }
        }),
    )
    .unwrap();
    ctx.listen(l, 4).unwrap();
    let addr = ctx.local_addr(l).unwrap();
    let c = ctx.create_socket().unwrap();
    ctx.set_option(c, SockOpt::StreamId, OptionValue::Str(b"intruder".to_vec()))
        .unwrap();
    let err = ctx.connect(c, addr).unwrap_err();
    assert_eq!(err.code(), SRT_ECONNREJ);
    assert_eq!(
        ctx.reject_reason(c).unwrap(),
        Some(RejectReason::Server(1403))
    );
    let ok = ctx.create_socket().unwrap();
    ctx.set_option(ok, SockOpt::StreamId, OptionValue::Str(b"welcome".to_vec()))
        .unwrap();
    ctx.connect(ok, addr).unwrap();
    let (a, _) = ctx.accept(l).unwrap();
    // The callback was told the accepted socket's ID (as libsrt's `ns`),
    // and a refused request's ID was not reused.
    let named = named.lock().unwrap().clone();
    let (last, refused) = named.split_last().expect("the callback ran");
    assert_eq!(*last, a, "{named:?}");
    assert!(!refused.is_empty() && !refused.contains(&a), "{named:?}");
    assert_eq!(ctx.state(refused[0]), SockStatus::NonExist);
    assert_eq!(
        ctx.options(a).unwrap().rcvlatency,
        Duration::from_millis(321)
    );
    assert_eq!(
        ctx.options(l).unwrap().rcvlatency,
        Duration::from_millis(120),
        "the listener keeps its own"
    );
    // What the handshake settled: the caller's stream ID, the latency, versions.
    assert_eq!(
        ctx.get_option(a, SockOpt::StreamId).unwrap(),
        OptionValue::Str(b"welcome".to_vec())
    );
    assert_eq!(
        ctx.options(ok).unwrap().peerlatency,
        Duration::from_millis(321)
    );
    let OptionValue::Int(version) = ctx.get_option(ok, SockOpt::PeerVersion).unwrap() else {
        panic!("SRTO_PEERVERSION is an int");
    };
    assert!(version >= 0x01_05_00, "{version:#x}");
    assert_eq!(
        ctx.get_option(ok, SockOpt::KmState).unwrap(),
        OptionValue::Int(0)
    );
    assert_eq!(
        ctx.get_option(ok, SockOpt::SndData).unwrap(),
        OptionValue::Int(0)
    );
    // A hook that panics refuses the caller; the listener goes on.
    let boom = ctx.create_socket().unwrap();
    ctx.set_option(boom, SockOpt::StreamId, OptionValue::Str(b"panic".to_vec()))
        .unwrap();
    let err = ctx.connect(boom, addr).unwrap_err();
    assert_eq!(err.reject_reason(), Some(RejectReason::Peer));
    let again = ctx.create_socket().unwrap();
    ctx.set_option(
        again,
        SockOpt::StreamId,
        OptionValue::Str(b"welcome".to_vec()),
    )
    .unwrap();
    ctx.connect(again, addr).unwrap();
}

/// A connected file-mode pair (stream API, linger 180 s) with `len`
/// bytes queued by the caller: (caller, accepted, the bytes).
fn file_pair_with_data(ctx: &Context, len: u32) -> (SrtSocket, SrtSocket, Vec<u8>) {
    let l = ctx.create_socket().unwrap();
    set(ctx, l, SockOpt::TransType, 1); // SRTT_FILE
    ctx.bind(l, lo()).unwrap();
    ctx.listen(l, 4).unwrap();
    let addr = ctx.local_addr(l).unwrap();
    let c = ctx.create_socket().unwrap();
    set(ctx, c, SockOpt::TransType, 1);
    ctx.connect(c, addr).unwrap();
    let (a, _) = ctx.accept(l).unwrap();
    set(ctx, a, SockOpt::RcvTimeo, 5000);
    let data: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
    let mut off = 0;
    while off < data.len() {
        off += ctx.send(c, &data[off..]).unwrap();
    }
    (c, a, data)
}

/// Receives exactly `want.len()` bytes on `a` and compares them.
fn receive_exactly(ctx: &Context, a: SrtSocket, want: &[u8]) {
    let mut got = Vec::with_capacity(want.len());
    let mut buf = vec![0u8; 65_536];
    while got.len() < want.len() {
        let n = ctx.recv(a, &mut buf).unwrap();
        got.extend_from_slice(&buf[..n]);
    }
    assert!(got == want, "stream content differs");
}

#[test]
fn close_with_linger_delivers_everything() {
    let ctx = Context::new().unwrap();
    let (c, a, data) = file_pair_with_data(&ctx, 2_000_000);
    let unacked = ctx.stats_instant(c, false, true).unwrap().pkt_snd_buf;
    // Everything will be in the receiver when close returns: no wait needed.
    set(&ctx, a, SockOpt::RcvSyn, 0);
    // Blocks until the peer acknowledged everything, then the ID is gone.
    ctx.close(c).unwrap();
    assert_eq!(ctx.state(c), SockStatus::NonExist);
    receive_exactly(&ctx, a, &data);
    assert!(unacked > 0, "nothing was left to linger for");
    // The stream API reads the peer's close as end of file (0), as libsrt.
    wait_broken(&ctx, a);
    assert_eq!(ctx.recv(a, &mut [0u8; 100]).unwrap(), 0);
}

#[test]
fn invalid_and_closed_sockets_give_einvsock() {
    let ctx = Context::new().unwrap();
    let u = ctx.create_socket().unwrap();
    ctx.close(u).unwrap();
    let mut buf = [0u8; 16];
    for bad in [u, 12345] {
        assert_eq!(ctx.state(bad), SockStatus::NonExist);
        assert_eq!(ctx.send(bad, b"x").unwrap_err().code(), SRT_EINVSOCK);
        assert_eq!(ctx.recv(bad, &mut buf).unwrap_err().code(), SRT_EINVSOCK);
        assert_eq!(ctx.bind(bad, lo()).unwrap_err().code(), SRT_EINVSOCK);
        assert_eq!(ctx.listen(bad, 1).unwrap_err().code(), SRT_EINVSOCK);
        assert_eq!(ctx.accept(bad).unwrap_err().code(), SRT_EINVSOCK);
        assert_eq!(ctx.close(bad).unwrap_err().code(), SRT_EINVSOCK);
        let err = ctx.set_option(bad, SockOpt::Latency, OptionValue::Int(10));
        assert_eq!(err.unwrap_err().code(), SRT_EINVSOCK);
    }
    // IDs count down and are never a live one.
    let a = ctx.create_socket().unwrap();
    let b = ctx.create_socket().unwrap();
    assert!(a > 0 && a < 1 << 30 && b < a);
}

#[test]
fn state_and_option_rules() {
    let ctx = Context::new().unwrap();
    let u = ctx.create_socket().unwrap();
    assert_eq!(ctx.state(u), SockStatus::Init);
    assert_eq!(ctx.listen(u, 5).unwrap_err().code(), SRT_EUNBOUNDSOCK);
    assert_eq!(ctx.accept(u).unwrap_err().code(), SRT_ENOLISTEN);
    assert_eq!(ctx.send(u, b"x").unwrap_err().code(), SRT_ENOCONN);
    ctx.bind(u, lo()).unwrap();
    assert_eq!(ctx.state(u), SockStatus::Opened);
    assert_eq!(ctx.bind(u, lo()).unwrap_err().code(), SRT_EINVOP);
    // SRTO_MSS is pre-bind.
    let err = ctx.set_option(u, SockOpt::Mss, OptionValue::Int(1400));
    assert_eq!(err.unwrap_err().code(), SRT_EBOUNDSOCK);
    assert_eq!(ctx.listen(u, 0).unwrap_err().code(), SRT_EINVPARAM);
    ctx.listen(u, 5).unwrap();
    assert_eq!(ctx.state(u), SockStatus::Listening);
    // SRTO_LATENCY is pre: not on a listening socket.
    let err = ctx.set_option(u, SockOpt::Latency, OptionValue::Int(200));
    assert_eq!(err.unwrap_err().code(), SRT_ECONNSOCK);
    let addr = ctx.local_addr(u).unwrap();
    assert_eq!(ctx.connect(u, addr).unwrap_err().code(), SRT_ECONNSOCK);
    assert_eq!(
        ctx.get_option(u, SockOpt::State).unwrap(),
        OptionValue::Int(SockStatus::Listening as i32)
    );
    // Typed: the same rules.
    let err = ctx.configure(u, |o| o.latency_ms(200)).unwrap_err();
    assert_eq!(err.code(), SRT_ECONNSOCK);
    ctx.configure(u, |o| Ok(o.linger(Some(Duration::from_secs(5)))))
        .unwrap(); // post: allowed
    assert_eq!(ctx.options(u).unwrap().linger, Some(Duration::from_secs(5)));
    let fresh = ctx.create_socket().unwrap();
    ctx.configure(fresh, |o| o.latency_ms(200)?.passphrase("0123456789"))
        .unwrap();
    let o = ctx.options(fresh).unwrap();
    assert_eq!(o.rcvlatency, Duration::from_millis(200));
    assert!(o.passphrase.is_some());
    let err = ctx.configure(fresh, |o| o.passphrase("short")).unwrap_err();
    assert_eq!(err.code(), SRT_EINVPARAM);
    ctx.bind(fresh, lo()).unwrap();
    let err = ctx.configure(fresh, |o| o.mss(1400)).unwrap_err();
    assert_eq!(err.code(), SRT_EBOUNDSOCK, "SRTO_MSS is pre-bind");

    let r = ctx.create_socket().unwrap();
    ctx.set_option(r, SockOpt::Rendezvous, OptionValue::Bool(true))
        .unwrap();
    assert_eq!(ctx.connect(r, addr).unwrap_err().code(), SRT_ERDVUNBOUND);
    ctx.bind(r, lo()).unwrap();
    assert_eq!(ctx.listen(r, 5).unwrap_err().code(), SRT_ERDVNOSERV);
}

#[test]
fn bind_conflicts() {
    let ctx = Context::new().unwrap();
    let first = ctx.create_socket().unwrap();
    ctx.bind(first, lo()).unwrap();
    let addr = ctx.local_addr(first).unwrap();
    // Shared binding: same address, SRTO_REUSEADDR (default) and same UDP settings.
    let shared = ctx.create_socket().unwrap();
    ctx.bind(shared, addr).unwrap();
    // Not reusable.
    let no_reuse = ctx.create_socket().unwrap();
    ctx.set_option(no_reuse, SockOpt::ReuseAddr, OptionValue::Bool(false))
        .unwrap();
    assert_eq!(
        ctx.bind(no_reuse, addr).unwrap_err().code(),
        SRT_EBINDCONFLICT
    );
    // Different UDP settings.
    let other_mss = ctx.create_socket().unwrap();
    set(&ctx, other_mss, SockOpt::Mss, 1400);
    assert_eq!(
        ctx.bind(other_mss, addr).unwrap_err().code(),
        SRT_EBINDCONFLICT
    );
    // The IPv4 wildcard on the same port covers 127.0.0.1.
    let wild = ctx.create_socket().unwrap();
    let any = SocketAddr::from(([0, 0, 0, 0], addr.port()));
    assert_eq!(ctx.bind(wild, any).unwrap_err().code(), SRT_EBINDCONFLICT);
    // One listener per port.
    ctx.listen(first, 5).unwrap();
    assert_eq!(ctx.listen(shared, 5).unwrap_err().code(), SRT_EDUPLISTEN);
    // A port held by someone else: the system refuses.
    let foreign = UdpSocket::bind(lo()).unwrap();
    let u = ctx.create_socket().unwrap();
    let err = ctx.bind(u, foreign.local_addr().unwrap()).unwrap_err();
    assert_eq!(err.code(), SRT_ESOCKFAIL);
    assert_eq!(err.sys_errno(), libc::EADDRINUSE);
    // Binding to :: needs SRTO_IPV6ONLY set.
    let v6 = ctx.create_socket().unwrap();
    let err = ctx.bind(v6, "[::]:0".parse().unwrap()).unwrap_err();
    assert_eq!(err.code(), SRT_EINVPARAM);
}

#[test]
fn closing_ends_blocked_calls_of_other_threads() {
    let ctx = Context::new().unwrap();
    let (l, addr) = listener(&ctx);
    let (c, a) = connected_pair(&ctx, l, addr);
    set(&ctx, a, SockOpt::RcvTimeo, -1);
    std::thread::scope(|s| {
        let ctx = &ctx;
        let accepting = s.spawn(move || ctx.accept(l).map(|_| ()));
        let receiving = s.spawn(move || {
            let mut buf = [0u8; 1500];
            ctx.recv(a, &mut buf).map(|_| ())
        });
        std::thread::sleep(Duration::from_millis(100));
        assert!(!accepting.is_finished() && !receiving.is_finished());
        ctx.close(l).unwrap();
        ctx.close(a).unwrap();
        let err = accepting.join().unwrap().unwrap_err();
        assert_eq!(err.code(), SRT_ESCLOSED);
        // As libsrt: a receive blocked on a socket closed meanwhile
        // reports the connection lost (not an invalid socket).
        let err = receiving.join().unwrap().unwrap_err();
        assert_eq!(err.code(), SRT_ECONNLOST);
    });
    // The caller sees its peer go.
    wait_broken(&ctx, c);
}

#[test]
fn shutdown_closes_everything_and_wakes_waiters() {
    let ctx = Context::new().unwrap();
    let (l, _addr) = listener(&ctx);
    std::thread::scope(|s| {
        let ctx = &ctx;
        let accepting = s.spawn(move || ctx.accept(l).map(|_| ()));
        std::thread::sleep(Duration::from_millis(100));
        ctx.shutdown();
        let err = accepting.join().unwrap().unwrap_err();
        assert_eq!(err.code(), SRT_ESCLOSED);
    });
    assert_eq!(ctx.state(l), SockStatus::NonExist);
    assert_eq!(ctx.create_socket().unwrap_err().code(), SRT_ESCLOSED);
    assert_eq!(ctx.epoll_create().unwrap_err().code(), SRT_ESCLOSED);
}

#[test]
fn non_blocking_close_lingers_in_the_background() {
    let ctx = Context::new().unwrap();
    let (c, a, data) = file_pair_with_data(&ctx, 1_000_000);
    set(&ctx, c, SockOpt::SndSyn, 0);
    let unacked = ctx.stats_instant(c, false, true).unwrap().pkt_snd_buf;
    let start = Instant::now();
    ctx.close(c).unwrap();
    assert!(
        start.elapsed() < Duration::from_millis(50),
        "returned at once"
    );
    assert_eq!(ctx.state(c), SockStatus::NonExist);
    receive_exactly(&ctx, a, &data);
    assert!(unacked > 0, "nothing was left to linger for");
}

#[test]
fn many_threads_block_on_their_own_sockets() {
    let ctx = Context::new().unwrap();
    let (l, addr) = listener(&ctx);
    let pairs: Vec<(SrtSocket, SrtSocket)> =
        (0..32).map(|_| connected_pair(&ctx, l, addr)).collect();
    std::thread::scope(|s| {
        let ctx = &ctx;
        let receivers: Vec<_> = pairs
            .iter()
            .map(|&(_, a)| {
                s.spawn(move || {
                    let mut buf = [0u8; 1500];
                    let n = ctx.recv(a, &mut buf).unwrap();
                    buf[..n].to_vec()
                })
            })
            .collect();
        std::thread::sleep(Duration::from_millis(50));
        // Each is woken by its own message, in reverse order.
        for (i, &(c, _)) in pairs.iter().enumerate().rev() {
            ctx.send(c, &message(i)).unwrap();
        }
        for (i, r) in receivers.into_iter().enumerate() {
            assert_eq!(r.join().unwrap(), message(i));
        }
    });
}

#[test]
fn accept_bond_takes_the_first_listener_with_a_connection() {
    let ctx = Context::new().unwrap();
    let (l1, _) = listener(&ctx);
    let (l2, addr2) = listener(&ctx);
    let short = Some(Duration::from_millis(100));
    let err = ctx.accept_bond(&[l1, l2], short).unwrap_err();
    assert_eq!(err.code(), SRT_ETIMEOUT);
    let c = ctx.create_socket().unwrap();
    ctx.connect(c, addr2).unwrap();
    let (a, peer) = ctx
        .accept_bond(&[l1, l2], Some(Duration::from_secs(5)))
        .unwrap();
    assert_eq!(ctx.local_addr(a).unwrap(), addr2);
    assert_eq!(peer.port(), ctx.local_addr(c).unwrap().port());
    assert_eq!(
        ctx.accept_bond(&[], short).unwrap_err().code(),
        SRT_EINVPARAM
    );
    assert_eq!(
        ctx.accept_bond(&[l1, c], short).unwrap_err().code(),
        SRT_ENOLISTEN
    );
    assert_eq!(
        ctx.accept_bond(&[l1, 4321], short).unwrap_err().code(),
        SRT_EINVSOCK
    );
}

#[test]
fn connect_callback_hears_of_a_failure() {
    let ctx = Context::new().unwrap();
    let silent = UdpSocket::bind(lo()).unwrap();
    let target = silent.local_addr().unwrap();
    let heard = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let c = ctx.create_socket().unwrap();
    set(&ctx, c, SockOpt::RcvSyn, 0);
    set(&ctx, c, SockOpt::ConnTimeo, 300);
    let log = heard.clone();
    let callback: srt_mio::ConnectCallback = Box::new(move |u, err, peer| {
        log.lock().unwrap().push((u, err.code(), peer));
    });
    ctx.set_connect_callback(c, Some(callback)).unwrap();
    ctx.connect(c, target).unwrap();
    let err = ctx.set_connect_callback(c, None).unwrap_err();
    assert_eq!(err.code(), SRT_ECONNSOCK, "not while connecting");
    wait_broken(&ctx, c);
    assert_eq!(*heard.lock().unwrap(), vec![(c, SRT_ENOSERVER, target)]);
}

#[test]
fn passphrases_through_options() {
    let ctx = Context::new().unwrap();
    let l = ctx.create_socket().unwrap();
    ctx.configure(l, |o| o.passphrase("correct horse battery"))
        .unwrap();
    ctx.bind(l, lo()).unwrap();
    ctx.listen(l, 4).unwrap();
    let addr = ctx.local_addr(l).unwrap();
    let wrong = ctx.create_socket().unwrap();
    ctx.configure(wrong, |o| o.passphrase("incorrect horse"))
        .unwrap();
    let err = ctx.connect(wrong, addr).unwrap_err();
    assert_eq!(err.code(), SRT_ECONNREJ);
    assert_eq!(err.reject_reason(), Some(RejectReason::BadSecret));
    let c = ctx.create_socket().unwrap();
    ctx.configure(c, |o| o.passphrase("correct horse battery"))
        .unwrap();
    ctx.connect(c, addr).unwrap();
    let (a, _) = ctx.accept(l).unwrap();
    set(&ctx, a, SockOpt::RcvTimeo, 5000);
    assert_eq!(
        ctx.get_option(c, SockOpt::KmState).unwrap(),
        OptionValue::Int(2),
        "SRT_KM_S_SECURED"
    );
    ctx.send(c, &message(7)).unwrap();
    let mut buf = [0u8; 1500];
    let n = ctx.recv(a, &mut buf).unwrap();
    assert_eq!(&buf[..n], &message(7)[..]);
}

/// libsrt 1.5.4+: a refused `accept_fitting` leaves the connection queued,
/// a listen callback set once listening is `SRT_ECONNSOCK`, and (1.5.2+)
/// the sockets of a connection on a wildcard report the address in use.
#[test]
fn accept_fitting_listen_callback_and_address_in_use() {
    let ctx = Context::new().unwrap();
    let l = ctx.create_socket().unwrap();
    ctx.bind(l, "0.0.0.0:0".parse().unwrap()).unwrap();
    ctx.listen(l, 4).unwrap();
    let err = ctx
        .set_listen_callback(l, Box::new(|_, _, _| Ok(())))
        .unwrap_err();
    assert_eq!(err.code(), SRT_ECONNSOCK);
    let port = ctx.local_addr(l).unwrap().port();
    let c = ctx.create_socket().unwrap();
    ctx.connect(c, SocketAddr::from(([127, 0, 0, 1], port)))
        .unwrap();
    let start = Instant::now();
    let (a, peer) = loop {
        match ctx.accept_fitting(l, |_| false) {
            Err(e) if e.code() == SRT_EINVPARAM => break ctx.accept(l).unwrap(),
            other => assert!(start.elapsed() < Duration::from_secs(3), "{other:?}"),
        }
    };
    assert_eq!(peer, ctx.local_addr(c).unwrap());
    assert_eq!(peer.ip(), std::net::Ipv4Addr::LOCALHOST);
    assert_eq!(
        ctx.local_addr(a).unwrap(),
        SocketAddr::from(([127, 0, 0, 1], port))
    );
    assert_eq!(
        ctx.local_addr(l).unwrap(),
        SocketAddr::from(([0, 0, 0, 0], port))
    );
}
