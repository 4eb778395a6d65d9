//! Diagnostic: FileCC throughput through the simulator at several random
//! loss rates (50 Mbit/s, 20 ms RTT, 8 MiB with the stream API).
//!
//! `cargo test -p srt-proto --release --test sim_filecc -- --nocapture`;
//! `SIM_TRACE=<ms>` prints the sender's CC state every that many ms of
//! virtual time. The assertions are loose floors that catch a collapse.

use srt_proto::sim::link::LinkConfig;
use srt_proto::sim::Network;
use srt_proto::{CloseMode, Event, MsgCtrl, SocketOptions};
use std::net::SocketAddr;
use std::time::Duration;

const SERVER: &str = "127.0.0.1:9000";
const CLIENT: &str = "127.0.0.2:5000";

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

fn link(loss: f64) -> LinkConfig {
    LinkConfig {
        loss,
        delay: Duration::from_millis(10),
        rate_bps: Some(50_000_000),
        queue_bytes: 1_000_000,
        ..LinkConfig::default()
    }
}

/// Moves `len` bytes from CLIENT to SERVER; returns the throughput in Mbit/s
/// (0 if it did not finish within `limit`).
fn throughput(seed: u64, loss: f64, len: usize, limit: Duration) -> f64 {
    let trace_ms: Option<u128> = std::env::var("SIM_TRACE").ok().and_then(|v| v.parse().ok());
    let data = vec![0x5Au8; len];
    let mut net = Network::new(seed, link(loss));
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
    let (mut offset, mut received) = (0, 0);
    let mut buf = vec![0u8; 65_536];
    while received < len && net.now() - start < limit {
        let now = net.now();
        while offset < len {
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
            received += info.len;
        }
        let t = (now - start).as_millis();
        if trace_ms.is_some_and(|every| t % every == 0) {
            let st = net
                .endpoint(client)
                .socket_stats(now, caller, false)
                .unwrap();
            eprintln!(
                "loss {loss} t={t}ms period={:.1}us cwnd={} flight={} sent={} retrans={} naks={} rtt={:.1}ms bw={:.1} recv={}",
                st.us_pkt_snd_period,
                st.pkt_congestion_window,
                st.pkt_flight_size,
                st.pkt_sent_total,
                st.pkt_retrans_total,
                st.pkt_recv_nak_total,
                st.ms_rtt,
                st.mbps_bandwidth,
                received,
            );
        }
    }
    let elapsed = net.now() - start;
    let now = net.now();
    net.endpoint(client)
        .close(now, caller, CloseMode::Linger)
        .unwrap();
    if received < len {
        return 0.0;
    }
    len as f64 * 8.0 / elapsed.as_secs_f64() / 1e6
}

/// Seeds from `SIM_SEEDS` (e.g. `1-8`), else seed 1.
fn seeds() -> Vec<u64> {
    let Ok(v) = std::env::var("SIM_SEEDS") else {
        return vec![1];
    };
    match v.split_once('-') {
        Some((a, b)) => (a.parse().unwrap()..=b.parse().unwrap()).collect(),
        None => vec![v.parse().unwrap()],
    }
}

#[test]
fn file_cc_throughput_under_random_loss() {
    let len = 8 << 20;
    for seed in seeds() {
        for (loss, floor) in [(0.0, 20.0), (0.02, 10.0), (0.2, 0.3)] {
            let mbps = throughput(seed, loss, len, Duration::from_secs(120));
            println!("seed {seed} loss {loss}: {mbps:.2} Mbit/s");
            assert!(
                mbps >= floor,
                "seed {seed} loss {loss}: {mbps:.2} Mbit/s < {floor}"
            );
        }
    }
}
