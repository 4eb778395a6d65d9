//! Helpers shared by the interop tests: child processes, free ports and
//! `srt-relay`. (Each test binary uses a different subset.)
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read};
use std::net::{SocketAddr, UdpSocket};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A free UDP port on 127.0.0.1 (bound and released).
pub(crate) fn free_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A child process killed on drop.
pub(crate) struct Proc {
    child: Child,
}

impl Proc {
    pub(crate) fn spawn(program: &str, args: &[&str]) -> Proc {
        let child = Command::new(program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot run {program} ({e}): run `cargo xtask ci`, which installs it")
            });
        Proc { child }
    }

    pub(crate) fn first_line(&mut self) -> String {
        let mut line = String::new();
        BufReader::new(self.child.stdout.as_mut().unwrap())
            .read_line(&mut line)
            .unwrap();
        line
    }

    /// Waits up to `limit` for the process to exit by itself; returns its
    /// exit status (None: still running) and output. Kills it if it did
    /// not exit.
    pub(crate) fn wait(mut self, limit: Duration) -> (Option<std::process::ExitStatus>, String) {
        let end = Instant::now() + limit;
        let mut status = None;
        while Instant::now() < end {
            status = self.child.try_wait().unwrap();
            if status.is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        (status, self.finish())
    }

    /// Asks the process to stop (SIGINT) and returns its output.
    pub(crate) fn stop(mut self) -> String {
        let _ = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status();
        let end = Instant::now() + Duration::from_secs(5);
        while Instant::now() < end && self.child.try_wait().unwrap().is_none() {
            std::thread::sleep(Duration::from_millis(20));
        }
        self.finish()
    }

    pub(crate) fn finish(&mut self) -> String {
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

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `srt-relay` from any loopback port to `forward` with `impairments`
/// (its command-line flags) and `seed`; returns it and where it listens.
pub(crate) fn relay(forward: SocketAddr, seed: u64, impairments: &[&str]) -> (Proc, SocketAddr) {
    let fwd = forward.to_string();
    let seed = seed.to_string();
    let mut args = vec![
        "--listen",
        "127.0.0.1:0",
        "--forward",
        &fwd,
        "--seed",
        &seed,
    ];
    args.extend_from_slice(impairments);
    let mut p = Proc::spawn(env!("CARGO_BIN_EXE_srt-relay"), &args);
    let line = p.first_line();
    let listen: SocketAddr = line
        .split_whitespace()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("unexpected srt-relay banner {line:?}"));
    (p, listen)
}

/// Starts a connection from `d` to `remote` and drives `d` until it
/// connects or fails (at most 10 s); returns the socket. The outcome is in
/// `d.events`.
pub(crate) fn start_connect(
    d: &mut srt_tools::udp_driver::UdpDriver,
    remote: SocketAddr,
    opts: &srt_proto::SocketOptions,
) -> srt_proto::packet::SocketId {
    use srt_proto::Event;
    let id = d.endpoint.connect(Instant::now(), remote, opts).unwrap();
    assert!(d
        .run_until(Duration::from_secs(10), |e| matches!(
            e,
            Event::Connected { .. } | Event::ConnectFailed { .. }
        ))
        .unwrap());
    id
}

/// As [`start_connect`], and asserts that the connection was made.
pub(crate) fn connect(
    d: &mut srt_tools::udp_driver::UdpDriver,
    remote: SocketAddr,
    opts: &srt_proto::SocketOptions,
) -> srt_proto::packet::SocketId {
    let id = start_connect(d, remote, opts);
    assert!(
        d.events
            .contains(&srt_proto::Event::Connected { socket: id }),
        "{:?}",
        d.events
    );
    id
}
