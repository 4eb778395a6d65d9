//! The driver loop of `Endpoint`'s documentation (examples/udp_caller.rs,
//! the same file) against libsrt: Debian's srt-live-transmit listens and
//! forwards what it receives to a UDP port this test reads.

#[path = "../examples/udp_caller.rs"]
mod udp_caller;

use std::net::UdpSocket;
use std::process::{Command, Stdio};
use std::time::Duration;
use testvectors::harness::{free_port, KillOnDrop};

#[test]
fn doc_driver_loop_sends_to_srt_live_transmit() {
    let sink = UdpSocket::bind("127.0.0.1:0").unwrap();
    sink.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let port = free_port();
    let child = Command::new("srt-live-transmit")
        .args([
            "-q".to_string(),
            format!("srt://127.0.0.1:{port}?mode=listener"),
            format!("udp://{}", sink.local_addr().unwrap()),
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run srt-live-transmit (Debian package srt-tools): {e}"));
    let _peer = KillOnDrop(child);
    std::thread::sleep(Duration::from_millis(300)); // let it bind

    let messages: Vec<Vec<u8>> = (0..20)
        .map(|i| format!("message {i}").into_bytes())
        .collect();
    let refs: Vec<&[u8]> = messages.iter().map(Vec::as_slice).collect();
    let remote = format!("127.0.0.1:{port}").parse().unwrap();
    let sent = udp_caller::send_messages(remote, &refs).expect("the doc loop connects and sends");
    assert_eq!(sent, messages.len());

    let mut got = Vec::new();
    let mut buf = [0u8; 1500];
    while got.len() < messages.len() {
        let n = sink
            .recv(&mut buf)
            .expect("srt-live-transmit forwards every message");
        got.push(buf[..n].to_vec());
    }
    assert_eq!(got, messages);
}
