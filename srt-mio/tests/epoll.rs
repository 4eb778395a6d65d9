//! Epoll containers: level- and edge-triggered readiness of SRT sockets,
//! system sockets, container flags and libsrt's error cases.

use srt_mio::code::*;
use srt_mio::epoll::*;
use srt_mio::{Context, EpollEvent, SockStatus, SrtSocket, WaitSets};
use srt_proto::options::{OptionValue, SockOpt};
use std::net::{SocketAddr, UdpSocket};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

const SHORT: Option<Duration> = Some(Duration::from_millis(150));
const LONG: Option<Duration> = Some(Duration::from_secs(5));

fn lo() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

fn set(ctx: &Context, u: SrtSocket, opt: SockOpt, v: i32) {
    ctx.set_option(u, opt, OptionValue::Int(v)).unwrap();
}

fn listener(ctx: &Context, backlog: i32) -> (SrtSocket, SocketAddr) {
    let l = ctx.create_socket().unwrap();
    ctx.bind(l, lo()).unwrap();
    ctx.listen(l, backlog).unwrap();
    (l, ctx.local_addr(l).unwrap())
}

/// A connected caller and its accepted socket; the accepted one is non-blocking.
fn pair(ctx: &Context) -> (SrtSocket, SrtSocket, SrtSocket) {
    let (l, addr) = listener(ctx, 4);
    let c = ctx.create_socket().unwrap();
    ctx.connect(c, addr).unwrap();
    let (a, _) = ctx.accept(l).unwrap();
    set(ctx, a, SockOpt::RcvSyn, 0);
    (l, c, a)
}

/// A new container watching `events` on the accepted socket of a new pair: (eid, caller, accepted).
fn watched_pair(ctx: &Context, events: i32) -> (i32, SrtSocket, SrtSocket) {
    let (_l, c, a) = pair(ctx);
    let eid = ctx.epoll_create().unwrap();
    ctx.epoll_add_usock(eid, a, Some(events)).unwrap();
    (eid, c, a)
}

/// `srt_epoll_wait` for SRT sockets only: (read-ready, write-ready) or the error code.
fn wait(ctx: &Context, eid: i32, timeout: Option<Duration>) -> Result<(Vec<i32>, Vec<i32>), i32> {
    let (mut r, mut w) = ([0; 64], [0; 64]);
    let sets = WaitSets {
        read: Some(&mut r),
        write: Some(&mut w),
        ..WaitSets::default()
    };
    match ctx.epoll_wait(eid, sets, timeout) {
        Ok(n) => Ok((r[..n.read].to_vec(), w[..n.write].to_vec())),
        Err(e) => Err(e.code()),
    }
}

fn uwait(ctx: &Context, eid: i32, timeout: Option<Duration>) -> Vec<EpollEvent> {
    let mut out = [EpollEvent::default(); 64];
    let n = ctx.epoll_uwait(eid, &mut out, timeout).unwrap();
    out[..n].to_vec()
}

/// Arrays for system sockets only.
fn sys_sets<'a>(read: &'a mut [i32], write: &'a mut [i32]) -> WaitSets<'a> {
    WaitSets {
        sys_read: Some(read),
        sys_write: Some(write),
        ..WaitSets::default()
    }
}

/// Reads until `SRT_EASYNCRCV`; returns how many messages.
fn drain(ctx: &Context, a: SrtSocket) -> usize {
    let mut buf = [0u8; 1500];
    let mut n = 0;
    loop {
        match ctx.recv(a, &mut buf) {
            Ok(_) => n += 1,
            Err(e) => {
                assert_eq!(e.code(), SRT_EASYNCRCV);
                return n;
            }
        }
    }
}

#[test]
fn level_triggered_reports_while_ready() {
    let ctx = Context::new().unwrap();
    let (l, addr) = listener(&ctx, 4);
    let eid = ctx.epoll_create().unwrap();
    ctx.epoll_add_usock(eid, l, Some(SRT_EPOLL_IN)).unwrap();
    assert_eq!(wait(&ctx, eid, SHORT), Err(SRT_ETIMEOUT));
    let c = ctx.create_socket().unwrap();
    ctx.connect(c, addr).unwrap();
    // A connection waits: the listener is read-ready, again and again.
    for _ in 0..2 {
        assert_eq!(wait(&ctx, eid, LONG), Ok((vec![l], vec![])));
    }
    let (a, _) = ctx.accept(l).unwrap();
    assert_eq!(wait(&ctx, eid, SHORT), Err(SRT_ETIMEOUT));

    set(&ctx, a, SockOpt::RcvSyn, 0);
    ctx.epoll_add_usock(eid, a, Some(SRT_EPOLL_IN)).unwrap();
    ctx.send(c, b"hello").unwrap();
    ctx.send(c, b"again").unwrap();
    assert_eq!(wait(&ctx, eid, LONG), Ok((vec![a], vec![])));
    let mut buf = [0u8; 1500];
    ctx.recv(a, &mut buf).unwrap();
    // Level-triggered: still reported while a message is left.
    assert_eq!(wait(&ctx, eid, LONG), Ok((vec![a], vec![])));
    ctx.recv(a, &mut buf).unwrap();
    // Cleared with the last message, without a receive that finds nothing.
    assert_eq!(wait(&ctx, eid, SHORT), Err(SRT_ETIMEOUT));
    // So a blocking receive after a wait never blocks for nothing.
    ctx.send(c, b"third").unwrap();
    assert_eq!(wait(&ctx, eid, LONG), Ok((vec![a], vec![])));
    set(&ctx, a, SockOpt::RcvSyn, 1);
    set(&ctx, a, SockOpt::RcvTimeo, 100);
    let n = ctx.recv(a, &mut buf).unwrap();
    assert_eq!(&buf[..n], b"third");
    assert_eq!(wait(&ctx, eid, SHORT), Err(SRT_ETIMEOUT));
}

#[test]
fn edge_triggered_reports_each_rise_once() {
    let ctx = Context::new().unwrap();
    let (eid, c, a) = watched_pair(&ctx, SRT_EPOLL_IN | SRT_EPOLL_ET);
    ctx.send(c, b"one").unwrap();
    ctx.send(c, b"two").unwrap();
    let ev = uwait(&ctx, eid, LONG);
    assert_eq!(
        ev,
        vec![EpollEvent {
            fd: a,
            events: SRT_EPOLL_IN
        }]
    );
    // Not reported again although nothing was read.
    assert_eq!(uwait(&ctx, eid, SHORT), vec![]);
    assert_eq!(wait(&ctx, eid, SHORT), Err(SRT_ETIMEOUT));
    assert_eq!(drain(&ctx, a), 2);
    ctx.send(c, b"three").unwrap();
    assert_eq!(
        uwait(&ctx, eid, LONG),
        vec![EpollEvent {
            fd: a,
            events: SRT_EPOLL_IN
        }]
    );
}

#[test]
fn update_changes_the_watched_events() {
    let ctx = Context::new().unwrap();
    let (_l, c, _a) = pair(&ctx);
    let eid = ctx.epoll_create().unwrap();
    // Default subscription: IN | OUT | ERR; a connected socket is write-ready.
    ctx.epoll_add_usock(eid, c, None).unwrap();
    assert_eq!(
        uwait(&ctx, eid, LONG),
        vec![EpollEvent {
            fd: c,
            events: SRT_EPOLL_OUT
        }]
    );
    assert_eq!(wait(&ctx, eid, LONG), Ok((vec![], vec![c])));
    ctx.epoll_update_usock(eid, c, Some(SRT_EPOLL_IN)).unwrap();
    assert_eq!(wait(&ctx, eid, SHORT), Err(SRT_ETIMEOUT));
    ctx.epoll_remove_usock(eid, c).unwrap();
    assert_eq!(wait(&ctx, eid, SHORT), Err(SRT_EPOLLEMPTY));
}

#[test]
fn non_blocking_connect_reports_out_or_err() {
    let ctx = Context::new().unwrap();
    let (_l, addr) = listener(&ctx, 4);
    let eid = ctx.epoll_create().unwrap();
    let c = ctx.create_socket().unwrap();
    set(&ctx, c, SockOpt::RcvSyn, 0);
    ctx.epoll_add_usock(eid, c, Some(SRT_EPOLL_OUT | SRT_EPOLL_ERR))
        .unwrap();
    ctx.connect(c, addr).unwrap();
    assert_eq!(
        uwait(&ctx, eid, LONG),
        vec![EpollEvent {
            fd: c,
            events: SRT_EPOLL_OUT
        }]
    );
    assert_eq!(ctx.state(c), SockStatus::Connected);

    // A silent peer: the failure is SRT_EPOLL_ERR.
    let silent = UdpSocket::bind(lo()).unwrap();
    let f = ctx.create_socket().unwrap();
    set(&ctx, f, SockOpt::RcvSyn, 0);
    set(&ctx, f, SockOpt::ConnTimeo, 300);
    let eid2 = ctx.epoll_create().unwrap();
    ctx.epoll_add_usock(eid2, f, Some(SRT_EPOLL_OUT | SRT_EPOLL_ERR))
        .unwrap();
    ctx.connect(f, silent.local_addr().unwrap()).unwrap();
    let ev = uwait(&ctx, eid2, LONG);
    assert_eq!(ev.len(), 1);
    assert_eq!(ev[0].fd, f);
    assert_ne!(ev[0].events & SRT_EPOLL_ERR, 0);
    // libsrt 1.5.1 reports it BROKEN (its API reference says CONNECTING).
    assert_eq!(ctx.state(f), SockStatus::Broken);
    assert_eq!(
        ctx.reject_reason(f).unwrap(),
        Some(srt_proto::packet::RejectReason::Timeout)
    );
}

#[test]
fn broken_socket_is_read_and_write_ready() {
    let ctx = Context::new().unwrap();
    let (eid, c, a) = watched_pair(&ctx, SRT_EPOLL_IN | SRT_EPOLL_ERR);
    assert_eq!(wait(&ctx, eid, SHORT), Err(SRT_ETIMEOUT));
    ctx.close(c).unwrap();
    // ERR goes into both arrays, whatever was subscribed.
    assert_eq!(wait(&ctx, eid, LONG), Ok((vec![a], vec![a])));
    assert_eq!(ctx.state(a), SockStatus::Broken);
    // A closed socket leaves every container.
    ctx.close(a).unwrap();
    assert_eq!(wait(&ctx, eid, SHORT), Err(SRT_EPOLLEMPTY));
}

#[test]
fn empty_containers_and_flags() {
    let ctx = Context::new().unwrap();
    let eid = ctx.epoll_create().unwrap();
    assert_eq!(wait(&ctx, eid, SHORT), Err(SRT_EPOLLEMPTY));
    let mut out = [EpollEvent::default(); 4];
    let err = ctx.epoll_uwait(eid, &mut out, SHORT).unwrap_err();
    assert_eq!(err.code(), SRT_EPOLLEMPTY);
    assert_eq!(ctx.epoll_set(eid, SRT_EPOLL_ENABLE_EMPTY).unwrap(), 0);
    assert_eq!(ctx.epoll_set(eid, -1).unwrap(), SRT_EPOLL_ENABLE_EMPTY);
    let start = Instant::now();
    assert_eq!(wait(&ctx, eid, SHORT), Err(SRT_ETIMEOUT));
    assert!(start.elapsed() >= Duration::from_millis(140));
    assert_eq!(ctx.epoll_uwait(eid, &mut out, SHORT).unwrap(), 0);

    // OUTPUTCHECK: nowhere to write the result is an error.
    let (_l, c, _a) = pair(&ctx);
    ctx.epoll_add_usock(eid, c, Some(SRT_EPOLL_OUT)).unwrap();
    let no_room = WaitSets {
        read: Some(&mut []),
        write: Some(&mut []),
        ..WaitSets::default()
    };
    let counts = ctx.epoll_wait(eid, no_room, SHORT).unwrap();
    assert_eq!(counts.write, 1, "arrays without room still count");
    // No array asked for: nothing is collected, so nothing is found.
    let none = ctx.epoll_wait(eid, WaitSets::default(), SHORT);
    assert_eq!(none.unwrap_err().code(), SRT_ETIMEOUT);
    // ... and waiting forever for nothing is refused.
    let none = ctx.epoll_wait(eid, WaitSets::default(), None);
    assert_eq!(none.unwrap_err().code(), SRT_EINVPARAM);
    ctx.epoll_set(eid, SRT_EPOLL_ENABLE_OUTPUTCHECK).unwrap();
    // OUTPUTCHECK: both SRT arrays must be given (system ones are not needed here).
    let (mut r, mut w) = ([0; 2], [0; 2]);
    let half = WaitSets {
        write: Some(&mut w),
        ..WaitSets::default()
    };
    let err = ctx.epoll_wait(eid, half, SHORT).unwrap_err();
    assert_eq!(err.code(), SRT_EINVPARAM);
    let both = WaitSets {
        read: Some(&mut r),
        write: Some(&mut w),
        ..WaitSets::default()
    };
    assert_eq!(ctx.epoll_wait(eid, both, SHORT).unwrap().write, 1);
    let err = ctx.epoll_uwait(eid, &mut [], SHORT).unwrap_err();
    assert_eq!(err.code(), SRT_EINVPARAM);
    assert_eq!(
        ctx.epoll_set(eid, 0).unwrap(),
        SRT_EPOLL_ENABLE_EMPTY | SRT_EPOLL_ENABLE_OUTPUTCHECK
    );
    assert_eq!(ctx.epoll_set(eid, -1).unwrap(), 0);

    // Unknown and released containers.
    ctx.epoll_release(eid).unwrap();
    for bad in [eid, 9999] {
        assert_eq!(wait(&ctx, bad, SHORT), Err(SRT_EINVPOLLID));
        let err = ctx.epoll_add_usock(bad, c, None).unwrap_err();
        assert_eq!(err.code(), SRT_EINVPOLLID);
        assert_eq!(ctx.epoll_release(bad).unwrap_err().code(), SRT_EINVPOLLID);
        assert_eq!(ctx.epoll_set(bad, 0).unwrap_err().code(), SRT_EINVPOLLID);
    }
    let eid = ctx.epoll_create().unwrap();
    assert_eq!(
        ctx.epoll_add_usock(eid, 77, None).unwrap_err().code(),
        SRT_EINVSOCK
    );
}

#[test]
fn uwait_reports_what_fits_and_keeps_the_rest() {
    let ctx = Context::new().unwrap();
    let eid = ctx.epoll_create().unwrap();
    let mut callers = Vec::new();
    for _ in 0..3 {
        let (_l, c, _a) = pair(&ctx);
        ctx.epoll_add_usock(eid, c, Some(SRT_EPOLL_OUT | SRT_EPOLL_ET))
            .unwrap();
        callers.push(c);
    }
    let mut out = [EpollEvent::default(); 2];
    assert_eq!(
        ctx.epoll_uwait(eid, &mut out, LONG).unwrap(),
        3,
        "fdsSize + 1"
    );
    let first: Vec<i32> = out.iter().map(|e| e.fd).collect();
    // The edge not written is still pending; those written are consumed.
    assert_eq!(ctx.epoll_uwait(eid, &mut out, LONG).unwrap(), 1);
    let mut all = first;
    all.push(out[0].fd);
    all.sort();
    callers.sort();
    assert_eq!(all, callers);
    assert_eq!(ctx.epoll_uwait(eid, &mut out, SHORT).unwrap(), 0);
}

#[test]
fn system_sockets() {
    let ctx = Context::new().unwrap();
    let eid = ctx.epoll_create().unwrap();
    let udp = UdpSocket::bind(lo()).unwrap();
    let fd = udp.as_raw_fd();
    ctx.epoll_add_ssock(eid, fd, Some(SRT_EPOLL_IN)).unwrap();
    let mut out = [EpollEvent::default(); 4];
    // uwait counts SRT sockets only: with none, the container is empty
    // (libsrt 1.5.1); with one, the system socket is refused.
    let err = ctx.epoll_uwait(eid, &mut out, SHORT).unwrap_err();
    assert_eq!(err.code(), SRT_EPOLLEMPTY);
    let srt = ctx.create_socket().unwrap();
    ctx.epoll_add_usock(eid, srt, None).unwrap();
    let err = ctx.epoll_uwait(eid, &mut out, SHORT).unwrap_err();
    assert_eq!(err.code(), SRT_EINVPARAM, "uwait takes SRT sockets only");
    ctx.epoll_remove_usock(eid, srt).unwrap();
    let (mut sr, mut sw) = ([0; 4], [0; 4]);
    let err = ctx
        .epoll_wait(eid, sys_sets(&mut sr, &mut sw), SHORT)
        .unwrap_err();
    assert_eq!(err.code(), SRT_ETIMEOUT);
    UdpSocket::bind(lo())
        .unwrap()
        .send_to(b"ping", udp.local_addr().unwrap())
        .unwrap();
    let n = ctx
        .epoll_wait(eid, sys_sets(&mut sr, &mut sw), LONG)
        .unwrap();
    assert_eq!((n.sys_read, n.sys_write, sr[0]), (1, 0, fd));
    // Level-triggered: still there until read.
    let n = ctx
        .epoll_wait(eid, sys_sets(&mut sr, &mut sw), LONG)
        .unwrap();
    assert_eq!(n.sys_read, 1);
    ctx.epoll_update_ssock(eid, fd, Some(SRT_EPOLL_OUT))
        .unwrap();
    let n = ctx
        .epoll_wait(eid, sys_sets(&mut sr, &mut sw), LONG)
        .unwrap();
    assert_eq!((n.sys_read, n.sys_write, sw[0]), (0, 1, fd));

    // SRT and system sockets in one wait: an SRT event ends it.
    ctx.epoll_update_ssock(eid, fd, Some(SRT_EPOLL_IN)).unwrap();
    let mut buf = [0u8; 8];
    udp.recv(&mut buf).unwrap();
    let (_l, c, a) = pair(&ctx);
    ctx.epoll_add_usock(eid, a, Some(SRT_EPOLL_IN)).unwrap();
    ctx.send(c, b"srt").unwrap();
    let (mut r, mut w) = ([0; 4], [0; 4]);
    let n = ctx
        .epoll_wait(
            eid,
            WaitSets {
                read: Some(&mut r),
                write: Some(&mut w),
                sys_read: Some(&mut sr),
                sys_write: Some(&mut sw),
            },
            LONG,
        )
        .unwrap();
    assert_eq!((n.read, r[0], n.sys_read), (1, a, 0));
    ctx.epoll_remove_ssock(eid, fd).unwrap();
    // epoll_ctl's errors, as libsrt 1.5.1 reports them: code 0 (its default
    // CUDTException) with the errno.
    let ctl = |r: Result<(), srt_mio::Error>| {
        let e = r.unwrap_err();
        (e.code(), e.sys_errno())
    };
    let enoent = (0, libc::ENOENT);
    assert_eq!(ctl(ctx.epoll_remove_ssock(eid, fd)), enoent);
    assert_eq!(ctl(ctx.epoll_update_ssock(eid, fd, None)), enoent);
    ctx.epoll_add_ssock(eid, fd, None).unwrap();
    let twice = ctx.epoll_add_ssock(eid, fd, None);
    assert_eq!(ctl(twice), (0, libc::EEXIST));
    let bad = ctx.epoll_add_ssock(eid, -1, None);
    assert_eq!(ctl(bad), (0, libc::EBADF));
    ctx.epoll_remove_ssock(eid, fd).unwrap();
    // Edge-triggered with no event is an error.
    let err = ctx.epoll_add_usock(eid, a, Some(SRT_EPOLL_ET)).unwrap_err();
    assert_eq!(err.code(), SRT_EINVPARAM);
    assert_eq!(ctx.epoll_uwait(eid, &mut out, LONG).unwrap(), 1);
}
