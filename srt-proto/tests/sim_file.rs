//! File mode through the simulator: the stream API moves bytes exactly,
//! the message API keeps boundaries, drops expired messages whole and
//! delivers unordered messages early.

use sha1::{Digest, Sha1};
use srt_proto::sim::link::LinkConfig;
use srt_proto::sim::{run_seeds, Network};
use srt_proto::{CloseMode, Event, MsgCtrl, SocketOptions};
use std::net::SocketAddr;
use std::time::Duration;

const SERVER: &str = "127.0.0.1:9000";
const CLIENT: &str = "127.0.0.2:5000";

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

/// A 50 Mbit/s link with 10 ms one-way delay (20 ms RTT) and `loss`.
fn link(loss: f64) -> LinkConfig {
    LinkConfig {
        loss,
        delay: Duration::from_millis(10),
        rate_bps: Some(50_000_000),
        queue_bytes: 1_000_000,
        ..LinkConfig::default()
    }
}

/// Deterministic file content.
fn content(len: usize) -> Vec<u8> {
    let mut x = 0x1234_5678u32;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

struct Transfer {
    received: Vec<u8>,
    elapsed: Duration,
}

/// Sends `data` with the stream API from CLIENT to SERVER.
fn stream_file(seed: u64, link: LinkConfig, data: &[u8], limit: Duration) -> Transfer {
    let mut net = Network::new(seed, link);
    let server = net.add_endpoint(addr(SERVER));
    let client = net.add_endpoint(addr(CLIENT));
    let opts = SocketOptions::file();
    net.endpoint(server).listen(&opts, 5).unwrap();
    let now = net.now();
    let caller = net
        .endpoint(client)
        .connect(now, addr(SERVER), &opts)
        .unwrap();
    assert!(net.run_until(Duration::from_secs(3), |n| n
        .events(client)
        .contains(&Event::Connected { socket: caller })));
    let accepted = net.endpoint(server).accept().unwrap();
    let start = net.now();
    let mut offset = 0;
    let mut received = Vec::with_capacity(data.len());
    let mut buf = vec![0u8; 65_536];
    while received.len() < data.len() && net.elapsed() < limit {
        let now = net.now();
        while offset < data.len() {
            match net
                .endpoint(client)
                .send(now, caller, &data[offset..], &MsgCtrl::default())
            {
                Ok(n) => offset += n,
                Err(_) => break,
            }
        }
        let step_limit = now + Duration::from_millis(1);
        while net.step(step_limit) {}
        let now = net.now();
        while let Some(info) = net.endpoint(server).recv(now, accepted, &mut buf).unwrap() {
            received.extend_from_slice(&buf[..info.len]);
        }
    }
    let elapsed = net.now() - start;
    let now = net.now();
    net.endpoint(client)
        .close(now, caller, CloseMode::Linger)
        .unwrap();
    Transfer { received, elapsed }
}

fn digest(b: &[u8]) -> [u8; 20] {
    Sha1::digest(b).into()
}

#[test]
fn stream_api_moves_a_file_exactly() {
    let data = content(8 << 20);
    for loss in [0.0, 0.02] {
        run_seeds([1], |seed| {
            let t = stream_file(seed, link(loss), &data, Duration::from_secs(120));
            assert_eq!(t.received.len(), data.len(), "loss {loss}: incomplete");
            assert_eq!(digest(&t.received), digest(&data), "loss {loss}: corrupted");
            let mbps = data.len() as f64 * 8.0 / t.elapsed.as_secs_f64() / 1e6;
            println!("loss {loss}: 8 MiB in {:?}: {mbps:.1} Mbit/s", t.elapsed);
        });
    }
}
