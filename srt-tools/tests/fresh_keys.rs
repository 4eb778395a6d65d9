//! Every connection gets fresh, secret keys (issue 13): callers connect
//! with a passphrase through a recording forwarder; what it saw, opened
//! with the passphrase as an observer who knows it could, shows different
//! salts and session keys, for callers on `UdpDriver` and for two runs of
//! `srt-transmit`.

mod common;

use common::{free_port, Proc};
use srt_proto::sim::capture::{OpenedKeys, UdpTap};
use srt_proto::{Event, SocketOptions};
use srt_tools::udp_driver::UdpDriver;
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

const PASS: &str = "srt-tools-keys-are-fresh";
const BIN: &str = env!("CARGO_BIN_EXE_srt-transmit");

fn options() -> SocketOptions {
    SocketOptions::live().passphrase(PASS).unwrap()
}

/// A listening driver with the passphrase.
fn listener() -> UdpDriver {
    let mut d = UdpDriver::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    d.endpoint.listen(&options(), 8).unwrap();
    d
}

/// How many connections `d` accepted.
fn accepted(d: &UdpDriver) -> usize {
    d.events
        .iter()
        .filter(|e| matches!(e, Event::Accepted { .. }))
        .count()
}

/// Every salt and every key differ across `opened`, one per connection.
fn assert_all_different(opened: &[OpenedKeys], connections: usize) {
    assert_eq!(
        opened.len(),
        connections,
        "one key material request per connection"
    );
    let salts: BTreeSet<&Vec<u8>> = opened.iter().map(|o| &o.salt).collect();
    let keys: BTreeSet<&Vec<u8>> = opened.iter().flat_map(|o| &o.keys).collect();
    assert_eq!(salts.len(), connections, "salts repeat: {opened:x?}");
    assert_eq!(keys.len(), connections, "keys repeat: {opened:x?}");
}

#[test]
fn udp_driver_connections_get_different_salts_and_keys() {
    let mut server = listener();
    let tap = UdpTap::start(server.local_addr()).unwrap();
    for n in 1..=2 {
        let mut caller = UdpDriver::bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let id = caller
            .endpoint
            .connect(Instant::now(), tap.addr(), &options())
            .unwrap();
        let end = Instant::now() + Duration::from_secs(5);
        while !caller.events.contains(&Event::Connected { socket: id }) || accepted(&server) < n {
            assert!(Instant::now() < end, "connection {n} not made");
            caller.turn(Duration::from_millis(1)).unwrap();
            server.turn(Duration::from_millis(1)).unwrap();
        }
    }
    let opened = tap.capture().opened_keys(PASS.as_bytes()).unwrap();
    assert_all_different(&opened, 2);
}

#[test]
fn srt_transmit_runs_get_different_salts_and_keys() {
    let mut server = listener();
    let tap = UdpTap::start(server.local_addr()).unwrap();
    for n in 1..=2 {
        // Live from a UDP port nobody sends to, into SRT: srt-transmit
        // connects its output and waits for input.
        let input = format!("udp://127.0.0.1:{}", free_port());
        let output = format!("srt://{}?passphrase={PASS}", tap.addr());
        let proc = Proc::spawn(BIN, &["-v", &input, &output]);
        let end = Instant::now() + Duration::from_secs(10);
        while accepted(&server) < n && Instant::now() < end {
            server.turn(Duration::from_millis(5)).unwrap();
        }
        let out = proc.stop();
        assert_eq!(accepted(&server), n, "srt-transmit run {n}: {out}");
    }
    let opened = tap.capture().opened_keys(PASS.as_bytes()).unwrap();
    assert_all_different(&opened, 2);
}
