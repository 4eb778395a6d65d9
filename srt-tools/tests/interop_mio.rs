//! `srt-mio` sockets against libsrt 1.5.1's `srt-live-transmit` over
//! loopback, both roles, every datagram's content checked: libsrt calls
//! an `srt-mio` listener (received through an epoll container with
//! non-blocking sockets; also encrypted), and an `srt-mio` caller
//! (blocking sends) reaches a libsrt listener.
//!
//! Fails, never skips, when libsrt's tools are missing (`cargo xtask ci`
//! installs them).

mod common;

use common::{free_port, Proc};
use srt_mio::epoll::SRT_EPOLL_IN;
use srt_mio::{Context, EpollEvent, SrtSocket};
use srt_proto::options::{OptionValue, SockOpt};
use std::collections::BTreeSet;
use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

/// Datagrams per run.
const COUNT: u64 = 2000;
/// Bytes per datagram (the live payload size).
const SIZE: usize = 1316;
/// About 5 Mbit/s.
const PERIOD: Duration = Duration::from_micros(2000);

/// Datagram `i`: its number, then a pattern derived from it.
fn datagram(i: u64) -> Vec<u8> {
    let mut d = i.to_be_bytes().to_vec();
    d.extend((8..SIZE).map(|k| (i as usize).wrapping_mul(131).wrapping_add(k * 7) as u8));
    d
}

/// The number of an intact datagram.
fn verify(d: &[u8]) -> Option<u64> {
    let i = u64::from_be_bytes(d.get(..8)?.try_into().ok()?);
    (d == datagram(i).as_slice()).then_some(i)
}

/// Calls `send` for each datagram, paced at `PERIOD`.
fn paced(mut send: impl FnMut(&[u8])) {
    let start = Instant::now();
    for i in 0..COUNT {
        let due = start + PERIOD * i as u32;
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        send(&datagram(i));
    }
}

/// Asserts that every datagram arrived intact.
fn assert_whole(received: &BTreeSet<u64>, corrupt: u64) {
    assert_eq!(corrupt, 0, "corrupt datagrams");
    let missing: Vec<u64> = (0..COUNT).filter(|i| !received.contains(i)).collect();
    assert!(
        missing.is_empty(),
        "{} missing, first {:?}",
        missing.len(),
        &missing[..missing.len().min(10)]
    );
}

/// `srt-live-transmit` from `src` to `dst`, without its auto-reconnect.
fn live_transmit(src: &str, dst: &str) -> Proc {
    Proc::spawn("srt-live-transmit", &["-a:no", src, dst])
}

fn set(ctx: &Context, u: SrtSocket, opt: SockOpt, v: i32) {
    ctx.set_option(u, opt, OptionValue::Int(v)).unwrap();
}

#[test]
fn libsrt_caller_to_srt_mio_listener_through_epoll() {
    libsrt_caller_to_srt_mio_listener(None);
}

#[test]
fn libsrt_caller_to_srt_mio_listener_encrypted() {
    libsrt_caller_to_srt_mio_listener(Some("0123456789abcdef"));
}

/// srt-live-transmit calls an `srt-mio` listener (with `passphrase` on
/// both sides, if any); the datagrams are received through epoll.
fn libsrt_caller_to_srt_mio_listener(passphrase: Option<&str>) {
    let ctx = Context::new().unwrap();
    let l = ctx.create_socket().unwrap();
    let mut query = String::new();
    if let Some(p) = passphrase {
        ctx.configure(l, |o| o.passphrase(p)).unwrap();
        query = format!("?passphrase={p}");
    }
    ctx.bind(l, "127.0.0.1:0".parse().unwrap()).unwrap();
    ctx.listen(l, 4).unwrap();
    let port = ctx.local_addr(l).unwrap().port();
    let udp_in = free_port();
    let slt = live_transmit(
        &format!("udp://127.0.0.1:{udp_in}"),
        &format!("srt://127.0.0.1:{port}{query}"),
    );
    // The listener is read-ready when libsrt's caller got in.
    let eid = ctx.epoll_create().unwrap();
    ctx.epoll_add_usock(eid, l, Some(SRT_EPOLL_IN)).unwrap();
    let mut out = [EpollEvent::default(); 4];
    let ready = ctx
        .epoll_uwait(eid, &mut out, Some(Duration::from_secs(10)))
        .unwrap();
    assert_eq!(ready, 1, "srt-live-transmit did not connect");
    let (a, _) = ctx.accept(l).unwrap();
    let secured = OptionValue::Int(if passphrase.is_some() { 2 } else { 0 });
    assert_eq!(ctx.get_option(a, SockOpt::KmState).unwrap(), secured);
    set(&ctx, a, SockOpt::RcvSyn, 0);
    ctx.epoll_remove_usock(eid, l).unwrap();
    ctx.epoll_add_usock(eid, a, Some(SRT_EPOLL_IN)).unwrap();
    // srt-live-transmit reads its UDP input a moment after it connects.
    std::thread::sleep(Duration::from_secs(1));
    let source = std::thread::spawn(move || {
        let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
        paced(|d| {
            sock.send_to(d, ("127.0.0.1", udp_in)).unwrap();
        });
    });
    let (mut received, mut corrupt) = (BTreeSet::new(), 0);
    let mut buf = [0u8; 1500];
    let mut quiet_since = Instant::now();
    while received.len() < COUNT as usize && quiet_since.elapsed() < Duration::from_secs(3) {
        let n = ctx
            .epoll_uwait(eid, &mut out, Some(Duration::from_millis(200)))
            .unwrap();
        if n == 0 {
            continue;
        }
        assert_eq!(
            out[0],
            EpollEvent {
                fd: a,
                events: SRT_EPOLL_IN
            }
        );
        // Read until it would block.
        while let Ok(len) = ctx.recv(a, &mut buf) {
            match verify(&buf[..len]) {
                Some(i) => received.insert(i),
                None => {
                    corrupt += 1;
                    true
                }
            };
            quiet_since = Instant::now();
        }
    }
    source.join().unwrap();
    let output = slt.stop();
    println!("srt-live-transmit: {output}");
    assert_whole(&received, corrupt);
}

#[test]
fn srt_mio_caller_to_libsrt_listener() {
    let sink = UdpSocket::bind("127.0.0.1:0").unwrap();
    sink.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    let out_port = sink.local_addr().unwrap().port();
    let port = free_port();
    let slt = live_transmit(
        &format!("srt://:{port}?mode=listener"),
        &format!("udp://127.0.0.1:{out_port}"),
    );
    let ctx = Context::new().unwrap();
    let target: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    // The listener needs a moment to start: try again on a timeout.
    let c = (0..10)
        .find_map(|_| {
            let c = ctx.create_socket().unwrap();
            set(&ctx, c, SockOpt::ConnTimeo, 500);
            match ctx.connect(c, target) {
                Ok(()) => Some(c),
                Err(_) => {
                    let _ = ctx.close(c);
                    None
                }
            }
        })
        .expect("srt-live-transmit did not answer");
    // It opens its UDP output once connected.
    std::thread::sleep(Duration::from_millis(500));
    let receiver = std::thread::spawn(move || {
        let (mut received, mut corrupt) = (BTreeSet::new(), 0u64);
        let mut buf = [0u8; 2000];
        while let Ok(n) = sink.recv(&mut buf) {
            match verify(&buf[..n]) {
                Some(i) => {
                    received.insert(i);
                }
                None => corrupt += 1,
            }
            if received.len() == COUNT as usize {
                break;
            }
        }
        (received, corrupt)
    });
    paced(|d| {
        assert_eq!(ctx.send(c, d).unwrap(), SIZE);
    });
    let (received, corrupt) = receiver.join().unwrap();
    ctx.close(c).unwrap();
    let output = slt.stop();
    println!("srt-live-transmit: {output}");
    assert_whole(&received, corrupt);
}
