//! End-to-end tests of the `srt-relay` binary on loopback.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, UdpSocket};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use socket2::{Domain, Protocol, Socket, Type};

/// A loopback UDP socket with big buffers, so that the test itself drops
/// nothing.
fn socket() -> UdpSocket {
    let s = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP)).unwrap();
    s.set_recv_buffer_size(4 << 20).unwrap();
    s.set_send_buffer_size(4 << 20).unwrap();
    s.bind(&"127.0.0.1:0".parse::<SocketAddr>().unwrap().into())
        .unwrap();
    s.into()
}

struct Relay {
    child: Child,
    stdout: BufReader<ChildStdout>,
    listen: SocketAddr,
}

impl Relay {
    /// Starts the relay (which stops by itself after 60 s at the latest) and
    /// waits until it listens.
    fn start(forward: SocketAddr, extra: &[&str]) -> Relay {
        let mut child = Command::new(env!("CARGO_BIN_EXE_srt-relay"))
            .args(["--listen", "127.0.0.1:0", "--forward", &forward.to_string()])
            .args(["--duration-s", "60"])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start srt-relay");
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        let rest = line
            .trim()
            .strip_prefix("listening ")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"));
        let (listen, fwd) = rest.split_once(" -> ").unwrap();
        assert_eq!(fwd.parse::<SocketAddr>().unwrap(), forward);
        Relay {
            child,
            stdout,
            listen: listen.parse().unwrap(),
        }
    }

    /// Sends SIGTERM and returns the counters printed, by direction.
    fn stop(mut self) -> HashMap<String, HashMap<String, u64>> {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let status = self.child.wait().unwrap();
        assert!(status.success(), "relay exited with {status}");
        parse_counters(&mut self.stdout)
    }
}

fn parse_counters(stdout: &mut impl BufRead) -> HashMap<String, HashMap<String, u64>> {
    let mut out = HashMap::new();
    for line in stdout.lines() {
        let line = line.unwrap();
        let mut dir = None;
        let mut counters = HashMap::new();
        for pair in line.split_whitespace() {
            let (k, v) = pair.split_once('=').unwrap_or_else(|| panic!("{line:?}"));
            if k == "dir" {
                dir = Some(v.to_owned());
            } else {
                counters.insert(k.to_owned(), v.parse::<u64>().unwrap());
            }
        }
        out.insert(dir.expect("dir=..."), counters);
    }
    out
}

/// Sends `count` datagrams of `len` bytes carrying their index and send time
/// (relative to `base`), `burst` at a time, one burst per millisecond.
fn send_paced(
    socket: &UdpSocket,
    to: SocketAddr,
    base: Instant,
    count: u64,
    len: usize,
    burst: u64,
) {
    let mut p = vec![0u8; len.max(16)];
    let start = Instant::now();
    for i in 0..count {
        p[..8].copy_from_slice(&i.to_be_bytes());
        let t = base.elapsed().as_nanos() as u64;
        p[8..16].copy_from_slice(&t.to_be_bytes());
        socket.send_to(&p, to).unwrap();
        if (i + 1) % burst == 0 {
            let next = start + Duration::from_millis((i + 1) / burst);
            if let Some(wait) = next.checked_duration_since(Instant::now()) {
                thread::sleep(wait);
            }
        }
    }
}

/// What a receiver saw: (index, one-way latency) in arrival order, and the
/// source of the first datagram.
struct Received {
    packets: Vec<(u64, Duration)>,
    from: Option<SocketAddr>,
}

/// Receives until `done` is set and the socket has been quiet for 300 ms.
fn receive(
    socket: UdpSocket,
    base: Instant,
    done: Arc<AtomicBool>,
) -> thread::JoinHandle<Received> {
    thread::spawn(move || {
        socket
            .set_read_timeout(Some(Duration::from_millis(300)))
            .unwrap();
        let mut buf = [0u8; 2048];
        let mut got = Received {
            packets: Vec::new(),
            from: None,
        };
        let give_up = Instant::now() + Duration::from_secs(30);
        loop {
            match socket.recv_from(&mut buf) {
                Ok((n, from)) => {
                    assert!(n >= 16);
                    let now = base.elapsed();
                    let i = u64::from_be_bytes(buf[..8].try_into().unwrap());
                    let sent =
                        Duration::from_nanos(u64::from_be_bytes(buf[8..16].try_into().unwrap()));
                    got.packets.push((i, now - sent));
                    got.from.get_or_insert(from);
                }
                Err(_) if done.load(Ordering::SeqCst) || Instant::now() > give_up => return got,
                Err(_) => {}
            }
        }
    })
}

/// Sends `count` datagrams from `from` to `to` while `receiver` collects them.
fn one_way(
    from: &UdpSocket,
    to: SocketAddr,
    receiver: UdpSocket,
    count: u64,
    len: usize,
    burst: u64,
) -> Received {
    let base = Instant::now();
    let done = Arc::new(AtomicBool::new(false));
    let handle = receive(receiver, base, Arc::clone(&done));
    send_paced(from, to, base, count, len, burst);
    done.store(true, Ordering::SeqCst);
    handle.join().unwrap()
}

fn check_direction(got: &Received, sent: u64, counters: &HashMap<String, u64>, name: &str) {
    let n = got.packets.len() as u64;
    // 10% loss of 2000: expect 1800, standard deviation ~13
    assert!((1700..=1900).contains(&n), "{name}: {n} of {sent} arrived");
    let mut last = None;
    for &(i, latency) in &got.packets {
        assert!(last.is_none_or(|l| i > l), "{name}: {i} after {last:?}");
        last = Some(i);
        assert!(
            latency >= Duration::from_millis(5),
            "{name}: latency {latency:?}"
        );
        assert!(
            latency < Duration::from_millis(500),
            "{name}: latency {latency:?}"
        );
    }
    let c = |k: &str| counters[k];
    assert_eq!(c("received"), sent, "{name}: {counters:?}");
    assert_eq!(c("forwarded"), n, "{name}: {counters:?}");
    assert_eq!(
        c("received") + c("duplicated"),
        c("forwarded")
            + c("lost_random")
            + c("lost_burst")
            + c("dropped_queue")
            + c("dropped_overflow")
            + c("send_failed")
            + c("no_client")
            + c("in_flight"),
        "{name}: {counters:?}"
    );
    assert_eq!(c("lost_random"), sent - n, "{name}: {counters:?}");
    assert_eq!(c("reordered"), 0);
    assert_eq!(c("bytes_received"), sent * 200);
    assert_eq!(c("bytes_forwarded"), n * 200);
}

#[test]
fn lossy_delayed_link_both_ways() {
    let server = socket();
    let client = socket();
    let server_addr = server.local_addr().unwrap();
    let relay = Relay::start(
        server_addr,
        &["--loss", "0.1", "--delay-ms", "5", "--seed", "7"],
    );

    let count = 2000;
    let fwd = one_way(
        &client,
        relay.listen,
        server.try_clone().unwrap(),
        count,
        200,
        20,
    );
    let upstream = fwd.from.expect("nothing forwarded");
    assert!(upstream.ip().is_loopback());
    let rev = one_way(
        &server,
        upstream,
        client.try_clone().unwrap(),
        count,
        200,
        20,
    );
    assert_eq!(rev.from, Some(relay.listen));

    let counters = relay.stop();
    check_direction(&fwd, count, &counters["fwd"], "fwd");
    check_direction(&rev, count, &counters["rev"], "rev");
}

#[test]
fn non_loopback_addresses_are_refused() {
    for args in [
        ["--listen", "127.0.0.1:0", "--forward", "10.1.2.3:9000"],
        ["--listen", "192.168.1.1:0", "--forward", "127.0.0.1:9000"],
        ["--listen", "0.0.0.0:0", "--forward", "127.0.0.1:9000"],
        ["--listen", "127.0.0.1:0", "--forward", "[2001:db8::1]:9000"],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_srt-relay"))
            .args(args)
            .args(["--duration-s", "1"])
            .output()
            .unwrap();
        assert!(!out.status.success(), "{args:?} was accepted");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("not a loopback address"),
            "{args:?}: {stderr}"
        );
        assert!(out.stdout.is_empty(), "{args:?}");
    }
}

#[test]
fn stops_by_itself_after_duration() {
    let sink = socket();
    let out = Command::new(env!("CARGO_BIN_EXE_srt-relay"))
        .args(["--listen", "[::1]:0", "--forward"])
        .arg(sink.local_addr().unwrap().to_string())
        .args(["--duration-s", "0.2"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let mut stdout = &out.stdout[..];
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    assert!(first.starts_with("listening [::1]:"), "{first:?}");
    let counters = parse_counters(&mut stdout);
    assert_eq!(counters["fwd"]["received"], 0);
    assert_eq!(counters["rev"]["forwarded"], 0);
}

#[test]
fn bad_impairments_are_refused() {
    for args in [
        ["--loss", "1.5"],
        ["--burst-loss", "0.1,0.2"],
        ["--delay-ms", "-1"],
        ["--rate-mbps", "0"],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_srt-relay"))
            .args(["--listen", "127.0.0.1:0", "--forward", "127.0.0.1:9"])
            .args(args)
            .args(["--duration-s", "1"])
            .output()
            .unwrap();
        assert!(!out.status.success(), "{args:?} was accepted");
    }
}
