//! `srt-transmit` with socket groups: a caller backup group of two
//! members, each through its own `srt-relay`, to an `srt-transmit`
//! listener with `groupconnect=1`; the active member's relay is killed
//! mid-stream and the listener's output still has every datagram once,
//! in order, content checked.

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, UdpSocket};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const LEN: usize = 1316;

/// A child process killed on drop.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Datagram `n`: its number, then bytes derived from it.
fn datagram(n: u32) -> [u8; LEN] {
    let mut d = [0u8; LEN];
    d[..4].copy_from_slice(&n.to_be_bytes());
    for (i, b) in d[4..].iter_mut().enumerate() {
        *b = (n as usize * 7 + i) as u8;
    }
    d
}

/// An `srt-relay` forwarding to `forward`, and the address it listens on.
fn relay(forward: SocketAddr) -> (Proc, SocketAddr) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_srt-relay"))
        .args(["--listen", "127.0.0.1:0", "--forward", &forward.to_string()])
        .args(["--duration-s", "60"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start srt-relay");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let listen = line
        .trim()
        .strip_prefix("listening ")
        .and_then(|r| r.split_once(" -> "))
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .0
        .parse()
        .unwrap();
    (Proc(child), listen)
}

fn transmit(args: &[String]) -> Proc {
    Proc(
        Command::new(env!("CARGO_BIN_EXE_srt-transmit"))
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start srt-transmit"),
    )
}

/// Sends `count` datagrams, one a millisecond, through a backup group of
/// two relayed members (the relay of the weight-10 member killed after
/// `cut_at`) to the listener `listen(port, sink)` starts; returns how many
/// the listener's output had, in order.
fn backup_through_relays(
    count: u32,
    cut_at: u32,
    listen: impl FnOnce(u16, SocketAddr) -> Proc,
) -> u32 {
    let sink = UdpSocket::bind("127.0.0.1:0").unwrap();
    sink.set_read_timeout(Some(Duration::from_millis(20)))
        .unwrap();
    let port = free_port();
    let _listener = listen(port, sink.local_addr().unwrap());
    // Let it bind.
    std::thread::sleep(Duration::from_millis(300));
    let target: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let (mut active_relay, active) = relay(target);
    let (_standby_relay, standby) = relay(target);
    let feed = free_port();
    let _sender = transmit(&[
        format!("udp://127.0.0.1:{feed}"),
        format!(
            "srt:////group?type=backup&latency=120&nodes={active}?weight=10,{standby}?weight=1"
        ),
    ]);
    // Let the group connect (both members).
    std::thread::sleep(Duration::from_millis(1500));
    let feeder = std::thread::spawn(move || {
        let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
        let start = Instant::now();
        for n in 0..count {
            let due = start + Duration::from_millis(u64::from(n));
            if let Some(wait) = due.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
            sock.send_to(&datagram(n), ("127.0.0.1", feed)).unwrap();
        }
    });
    let mut got = 0u32;
    let mut buf = [0u8; 2048];
    let deadline = Instant::now() + Duration::from_secs(10) + Duration::from_millis(count.into());
    let mut cut = false;
    while got < count && Instant::now() < deadline {
        if !cut && got >= cut_at {
            active_relay.0.kill().unwrap();
            active_relay.0.wait().unwrap();
            cut = true;
        }
        match sink.recv(&mut buf) {
            Ok(n) => {
                assert_eq!(n, LEN);
                let k = u32::from_be_bytes(buf[..4].try_into().unwrap());
                assert_eq!(k, got, "out of order, repeated or lost");
                assert_eq!(buf[..LEN], datagram(k)[..], "content of {k}");
                got += 1;
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(e) => panic!("{e}"),
        }
    }
    feeder.join().unwrap();
    assert!(cut, "the relay was not cut");
    got
}

/// srt-transmit listening with `groupconnect=1`.
fn our_listener(port: u16, sink: SocketAddr) -> Proc {
    transmit(&[
        format!("srt://:{port}?groupconnect=1&latency=120"),
        format!("udp://{sink}"),
    ])
}

#[test]
fn backup_group_survives_a_relay_cut_without_loss() {
    let got = backup_through_relays(4000, 1500, our_listener);
    assert_eq!(got, 4000, "lost after the cut");
}

/// The same group into libsrt 1.5.5's `srt-test-live` (the peer kit,
/// built with bonding) listening with `groupconnect=1`; a missing kit
/// fails under `CI=true` (`testvectors::peer_kit`).
#[test]
fn backup_group_to_libsrt_1_5_5_survives_a_relay_cut() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let Some(kit) = testvectors::peer_kit::PeerKit::for_test(
        &root,
        "srt-transmit backup group -> srt-test-live 1.5.5 across a relay cut",
    ) else {
        return;
    };
    let bin = kit.bin("srt-test-live");
    let got = backup_through_relays(4000, 1500, move |port, sink| {
        Proc(
            Command::new(&bin)
                .args([
                    "-v:1".to_string(),
                    format!("srt://:{port}?groupconnect=1&latency=120"),
                    format!("udp://{sink}"),
                ])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("run srt-test-live"),
        )
    });
    assert_eq!(got, 4000, "lost after the cut");
}

/// Receives datagrams `from..to` on `sink` in order (content checked);
/// returns how many came before `deadline`.
fn receive_in_order(sink: &UdpSocket, from: u32, to: u32, deadline: Instant) -> u32 {
    let mut next = from;
    let mut buf = [0u8; 2048];
    while next < to && Instant::now() < deadline {
        match sink.recv(&mut buf) {
            Ok(n) => {
                assert_eq!(n, LEN);
                let k = u32::from_be_bytes(buf[..4].try_into().unwrap());
                assert_eq!(k, next, "out of order, repeated or lost");
                assert_eq!(buf[..LEN], datagram(k)[..], "content of {k}");
                next += 1;
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(e) => panic!("{e}"),
        }
    }
    next - from
}

/// Feeds datagrams `from..to`, one a millisecond, to `127.0.0.1:feed`.
fn feed(port: u16, from: u32, to: u32) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
        let start = Instant::now();
        for n in from..to {
            let due = start + Duration::from_millis(u64::from(n - from));
            if let Some(wait) = due.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
            sock.send_to(&datagram(n), ("127.0.0.1", port)).unwrap();
        }
    })
}

/// A sink socket and its address.
fn sink() -> (UdpSocket, SocketAddr) {
    let sink = UdpSocket::bind("127.0.0.1:0").unwrap();
    sink.set_read_timeout(Some(Duration::from_millis(20)))
        .unwrap();
    let addr = sink.local_addr().unwrap();
    (sink, addr)
}

/// A plain (non-group) caller `caller(feed, listener_port)` into our
/// `groupconnect=1` listener: accepted as a single socket, as libsrt's
/// `srt_accept` does; 3000 of 3000 in order, content checked.
fn plain_caller_into_group_listener(caller: impl FnOnce(u16, u16) -> Proc) {
    let (sink, sink_addr) = sink();
    let port = free_port();
    let _listener = our_listener(port, sink_addr);
    std::thread::sleep(Duration::from_millis(300));
    let feed_port = free_port();
    let _caller = caller(feed_port, port);
    // Let it connect and start reading its input.
    std::thread::sleep(Duration::from_millis(1500));
    let feeder = feed(feed_port, 0, 3000);
    let got = receive_in_order(&sink, 0, 3000, Instant::now() + Duration::from_secs(15));
    feeder.join().unwrap();
    assert_eq!(got, 3000, "the plain caller's stream");
}

#[test]
fn srt_live_transmit_plain_caller_into_group_listener() {
    plain_caller_into_group_listener(|feed, port| {
        Proc(
            Command::new("srt-live-transmit")
                .args([
                    format!("udp://127.0.0.1:{feed}"),
                    format!("srt://127.0.0.1:{port}?latency=120"),
                ])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("run srt-live-transmit (Debian's srt-tools; `cargo xtask ci` installs it)"),
        )
    });
}

#[test]
fn our_plain_caller_into_group_listener() {
    plain_caller_into_group_listener(|feed, port| {
        transmit(&[
            format!("udp://127.0.0.1:{feed}"),
            format!("srt://127.0.0.1:{port}?latency=120"),
        ])
    });
}
