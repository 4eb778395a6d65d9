//! Handshakes with real libsrt 1.5.1: `srt-live-transmit` (Debian's
//! `srt-tools`) and a small C program linked against libsrt
//! (`tests/c/srt_probe.c`, Debian's `libsrt-openssl-dev`) that prints what
//! libsrt sees. The engine is driven by a plain loop over a std `UdpSocket`.
//!
//! These tests fail, never skip, when the peers are missing: `cargo xtask ci`
//! installs them.

use srt_proto::packet::{RejectReason, SocketId};
use srt_proto::{CloseMode, Event, SocketOptions};
use srt_tools::udp_driver::UdpDriver;
use std::io::{BufRead, BufReader, Read};
use std::net::{SocketAddr, UdpSocket};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// A free UDP port on 127.0.0.1 (bound and released; good enough for tests).
fn free_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A child process that is killed when dropped; its output is kept.
struct Peer {
    child: Child,
    name: &'static str,
}

impl Peer {
    fn spawn(name: &'static str, program: &str, args: &[&str]) -> Peer {
        let child = Command::new(program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot run {program} ({e}): run `cargo xtask ci`, which installs libsrt's tools")
            });
        Peer { child, name }
    }

    /// Waits for a line of stdout containing `needle`.
    fn wait_for_line(&mut self, needle: &str) -> String {
        let stdout = self.child.stdout.as_mut().unwrap();
        let mut reader = BufReader::new(stdout);
        let mut line = String::new();
        loop {
            line.clear();
            let n = reader.read_line(&mut line).unwrap();
            assert!(n > 0, "{} ended before printing {needle:?}", self.name);
            if line.contains(needle) {
                return line.trim().to_string();
            }
        }
    }

    /// Waits (bounded) for the process to end and returns stdout + stderr.
    fn finish(mut self, limit: Duration) -> String {
        let end = Instant::now() + limit;
        while Instant::now() < end {
            if self.child.try_wait().unwrap().is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        let mut out = String::new();
        if let Some(mut s) = self.child.stdout.take() {
            let _ = s.read_to_string(&mut out);
        }
        if let Some(mut s) = self.child.stderr.take() {
            let _ = s.read_to_string(&mut out);
        }
        out
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Builds `tests/c/srt_probe.c` against the system libsrt once.
fn probe() -> &'static PathBuf {
    static PROBE: OnceLock<PathBuf> = OnceLock::new();
    PROBE.get_or_init(|| {
        let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/c/srt_probe.c");
        let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("srt_probe");
        let flags = Command::new("pkg-config")
            .args(["--cflags", "--libs", "--static", "srt"])
            .output()
            .expect("pkg-config is missing: run `cargo xtask ci`");
        assert!(
            flags.status.success(),
            "libsrt's pkg-config file is missing (package libsrt-openssl-dev): run `cargo xtask ci`"
        );
        let flags = String::from_utf8(flags.stdout).unwrap();
        let status = Command::new("cc")
            .arg(&src)
            .arg("-o")
            .arg(&out)
            .args(flags.split_whitespace())
            .status()
            .expect("cc is missing");
        assert!(status.success(), "building srt_probe failed");
        out
    })
}

fn config_with_sid(sid: &str) -> SocketOptions {
    let mut c = SocketOptions::live().stream_id(sid).unwrap();
    c.conntimeo = Duration::from_secs(10);
    c
}

fn connected(id: SocketId) -> impl FnMut(&Event) -> bool {
    move |e| {
        matches!(e, Event::Connected { socket } if *socket == id)
            || matches!(e, Event::ConnectFailed { socket, .. } if *socket == id)
    }
}

#[test]
fn our_caller_to_srt_live_transmit_listener() {
    let port = free_port();
    let url = format!("srt://127.0.0.1:{port}?mode=listener");
    let slt = Peer::spawn(
        "srt-live-transmit",
        "srt-live-transmit",
        &["-a:no", "-v", &url, "file://con"],
    );
    let mut d = UdpDriver::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let remote: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let id = d
        .endpoint
        .connect(Instant::now(), remote, &config_with_sid("rust-caller"))
        .unwrap();
    assert!(d.run_until(Duration::from_secs(10), connected(id)).unwrap());
    assert!(
        d.events.contains(&Event::Connected { socket: id }),
        "{:?}",
        d.events
    );
    // Stay connected for a while (keepalives), then close gracefully.
    d.run_for(Duration::from_millis(1500)).unwrap();
    d.endpoint
        .close(Instant::now(), id, CloseMode::Linger)
        .unwrap();
    d.run_for(Duration::from_millis(200)).unwrap();
    let out = slt.finish(Duration::from_secs(3));
    assert!(out.contains("Accepted SRT source connection"), "{out}");
    assert!(out.contains("SRT source disconnected"), "{out}");
}

#[test]
fn libsrt_listener_sees_our_stream_id() {
    let port = free_port();
    let mut p = Peer::spawn(
        "srt_probe",
        probe().to_str().unwrap(),
        &["listen", &port.to_string()],
    );
    p.wait_for_line("listening");
    let mut d = UdpDriver::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let remote: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let sid = "#!::r=live/feed,m=publish";
    let id = d
        .endpoint
        .connect(Instant::now(), remote, &config_with_sid(sid))
        .unwrap();
    assert!(d.run_until(Duration::from_secs(10), connected(id)).unwrap());
    assert!(d.events.contains(&Event::Connected { socket: id }));
    d.run_for(Duration::from_millis(100)).unwrap();
    let line = p.wait_for_line("streamid=");
    assert_eq!(line, format!("streamid={sid}"));
}

#[test]
fn srt_live_transmit_caller_to_our_listener() {
    let mut d = UdpDriver::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    d.endpoint.listen(&SocketOptions::default(), 5).unwrap();
    let udp_in = free_port();
    let src = format!("udp://127.0.0.1:{udp_in}");
    let dst = format!(
        "srt://127.0.0.1:{}?streamid=from-libsrt",
        d.local_addr().port()
    );
    let slt = Peer::spawn(
        "srt-live-transmit",
        "srt-live-transmit",
        &["-a:no", "-v", &src, &dst],
    );
    assert!(d
        .run_until(Duration::from_secs(10), |e| matches!(
            e,
            Event::Accepted { .. }
        ))
        .unwrap());
    let id = d.endpoint.accept().expect("accepted");
    assert_eq!(
        d.endpoint.connection(id).unwrap().stream_id(),
        b"from-libsrt"
    );
    d.run_for(Duration::from_millis(1500)).unwrap();
    d.endpoint
        .close(Instant::now(), id, CloseMode::Linger)
        .unwrap();
    d.run_for(Duration::from_millis(200)).unwrap();
    let out = slt.finish(Duration::from_millis(300));
    assert!(out.contains("SRT target connected"), "{out}");
}

#[test]
fn rendezvous_with_srt_live_transmit() {
    let mut d = UdpDriver::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let slt_port = free_port();
    let url = format!(
        "srt://127.0.0.1:{}?mode=rendezvous&adapter=127.0.0.1&port={slt_port}&streamid=rdv-libsrt",
        d.local_addr().port()
    );
    let src = format!("udp://127.0.0.1:{}", free_port());
    let slt = Peer::spawn(
        "srt-live-transmit",
        "srt-live-transmit",
        &["-a:no", "-v", &src, &url],
    );
    let remote: SocketAddr = format!("127.0.0.1:{slt_port}").parse().unwrap();
    let id = d
        .endpoint
        .rendezvous(Instant::now(), remote, &config_with_sid("rdv-rust"))
        .unwrap();
    assert!(d.run_until(Duration::from_secs(15), connected(id)).unwrap());
    assert!(
        d.events.contains(&Event::Connected { socket: id }),
        "{:?}",
        d.events
    );
    // The initiator's stream ID is the one both sides hold.
    let sid = d.endpoint.connection(id).unwrap().stream_id().to_vec();
    assert!(sid == b"rdv-libsrt" || sid == b"rdv-rust", "{sid:?}");
    d.run_for(Duration::from_millis(1500)).unwrap();
    d.endpoint
        .close(Instant::now(), id, CloseMode::Linger)
        .unwrap();
    d.run_for(Duration::from_millis(200)).unwrap();
    let out = slt.finish(Duration::from_millis(300));
    assert!(out.contains("SRT target connected"), "{out}");
}

#[test]
fn rendezvous_stream_id_agrees_with_libsrt() {
    let mut d = UdpDriver::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let probe_port = free_port();
    let mut p = Peer::spawn(
        "srt_probe",
        probe().to_str().unwrap(),
        &[
            "rendezvous",
            &probe_port.to_string(),
            &d.local_addr().port().to_string(),
            "rdv-probe",
        ],
    );
    let remote: SocketAddr = format!("127.0.0.1:{probe_port}").parse().unwrap();
    let id = d
        .endpoint
        .rendezvous(Instant::now(), remote, &config_with_sid("rdv-ours"))
        .unwrap();
    assert!(d.run_until(Duration::from_secs(15), connected(id)).unwrap());
    assert!(
        d.events.contains(&Event::Connected { socket: id }),
        "{:?}",
        d.events
    );
    d.run_for(Duration::from_millis(100)).unwrap();
    let theirs = p.wait_for_line("streamid=");
    let ours = String::from_utf8(d.endpoint.connection(id).unwrap().stream_id().to_vec()).unwrap();
    assert_eq!(theirs, format!("streamid={ours}"));
}

#[test]
fn libsrt_rejection_reason_is_reported() {
    // libsrt listens in file mode; our live caller is refused with
    // MESSAGEAPI, which libsrt logs as "rsp(REJECT): 1012".
    let port = free_port();
    let url = format!("srt://127.0.0.1:{port}?mode=listener&transtype=file");
    let slt = Peer::spawn(
        "srt-live-transmit",
        "srt-live-transmit",
        &["-a:no", &url, "file://con"],
    );
    let mut d = UdpDriver::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let remote: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let id = d
        .endpoint
        .connect(Instant::now(), remote, &config_with_sid("x"))
        .unwrap();
    assert!(d.run_until(Duration::from_secs(10), connected(id)).unwrap());
    let reason = d
        .events
        .iter()
        .find_map(|e| match e {
            Event::ConnectFailed { reason, .. } => Some(*reason),
            _ => None,
        })
        .expect("rejected");
    let out = slt.finish(Duration::from_millis(300));
    let printed: u32 = out
        .split("rsp(REJECT): ")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("libsrt printed no rejection code:\n{out}"));
    assert_eq!(1000 + reason.code(), printed);
    assert_eq!(reason, RejectReason::MessageApi);
}

#[test]
fn our_rejection_reaches_libsrt() {
    // Our listener is in file mode; libsrt's live caller gets 12 (MESSAGEAPI).
    let mut d = UdpDriver::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let file = SocketOptions::file();
    d.endpoint.listen(&file, 5).unwrap();
    let port = d.local_addr().port();
    let child = std::thread::spawn(move || {
        Command::new(probe())
            .args(["call", &port.to_string(), "x"])
            .output()
            .unwrap()
    });
    d.run_for(Duration::from_secs(5)).unwrap();
    let out = child.join().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("reject=12"), "{stdout}");
    assert_eq!(d.endpoint.stats().rejected, 1);
}
