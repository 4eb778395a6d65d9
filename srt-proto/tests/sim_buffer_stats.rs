//! The buffer fields of the statistics through the simulator: `stats` (libsrt's
//! `srt_bstats`) reports moving averages that lag behind a buffer filled
//! quickly, `stats_instant(.., true)` (`srt_bistats(.., 1)`) the exact
//! current values.

use srt_proto::packet::SocketId;
use srt_proto::sim::link::LinkConfig;
use srt_proto::sim::{ConnectedPair, Network, NodeId};
use srt_proto::stats::TraceBStats;
use srt_proto::{MsgCtrl, SocketOptions};
use std::net::SocketAddr;
use std::time::Duration;

const SERVER: &str = "127.0.0.1:9000";
const CLIENT: &str = "127.0.0.2:5000";
/// Messages in the burst, one per millisecond.
const BURST: usize = 100;

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

/// Message `i` of the burst: 100 + i bytes.
fn payload(i: usize) -> Vec<u8> {
    vec![i as u8; 100 + i]
}

struct Pair {
    net: Network,
    c: ConnectedPair,
}

impl Pair {
    /// A live connection over a clean link with 500 ms of latency.
    fn new() -> Self {
        let link = LinkConfig {
            delay: Duration::from_millis(5),
            ..LinkConfig::default()
        };
        let mut net = Network::new(1, link);
        let opts = SocketOptions::live()
            .latency(Duration::from_millis(500))
            .unwrap();
        let c = net
            .connect_pair(addr(CLIENT), addr(SERVER), &opts, 5, Duration::from_secs(3))
            .expect("connected");
        Pair { net, c }
    }

    /// (averaged, instantaneous) statistics of `node`'s socket `id`.
    fn stats(&mut self, node: NodeId, id: SocketId) -> (TraceBStats, TraceBStats) {
        let now = self.net.now();
        let ep = self.net.endpoint(node);
        let avg = ep.socket_stats(now, id, false).unwrap();
        let inst = ep.socket_stats_instant(now, id, false, true).unwrap();
        (avg, inst)
    }
}

#[test]
fn averaged_buffer_fields_lag_behind_the_instantaneous_ones() {
    let mut p = Pair::new();
    // Settle: the averages start from empty buffers.
    p.net.run_for(Duration::from_millis(1500));
    for i in 0..BURST {
        let now = p.net.now();
        p.net
            .endpoint(p.c.client)
            .send(now, p.c.caller, &payload(i), &MsgCtrl::default())
            .unwrap();
        p.net.run_for(Duration::from_millis(1));
    }
    p.net.run_for(Duration::from_millis(20));

    // The receiver holds the whole burst (its delivery is 500 ms away and
    // nothing is read): the real payload bytes, the TSBPD span + 1 ms.
    let (avg, inst) = p.stats(p.c.server, p.c.accepted);
    let bytes: usize = (0..BURST).map(|i| payload(i).len()).sum();
    assert_eq!(inst.pkt_rcv_buf, BURST as i32);
    assert_eq!(inst.byte_rcv_buf, bytes as i32);
    assert_eq!(inst.ms_rcv_buf, (BURST as i32 - 1) + 1);
    // The averages took ~120 ms of samples worth 25/1000 each: well below.
    assert!(
        avg.pkt_rcv_buf > 0 && avg.pkt_rcv_buf < inst.pkt_rcv_buf / 2,
        "average {} vs {}",
        avg.pkt_rcv_buf,
        inst.pkt_rcv_buf
    );
    assert!(avg.byte_rcv_buf > 0 && avg.byte_rcv_buf < inst.byte_rcv_buf / 2);
    assert!(avg.ms_rcv_buf < inst.ms_rcv_buf / 2);
    // Everything else is the same answer.
    let same = |mut s: TraceBStats| {
        s.pkt_snd_buf = 0;
        s.byte_snd_buf = 0;
        s.ms_snd_buf = 0;
        s.byte_avail_snd_buf = 0;
        s.pkt_rcv_buf = 0;
        s.byte_rcv_buf = 0;
        s.ms_rcv_buf = 0;
        s
    };
    assert_eq!(same(avg), same(inst));
    let first_avg = avg.pkt_rcv_buf;

    // The sender's buffer was acknowledged at once; its average still
    // remembers the burst.
    let (avg, inst) = p.stats(p.c.client, p.c.caller);
    assert_eq!(
        (inst.pkt_snd_buf, inst.byte_snd_buf, inst.ms_snd_buf),
        (0, 0, 0)
    );
    assert!(avg.pkt_snd_buf > 0, "sender average {}", avg.pkt_snd_buf);
    assert_eq!(
        avg.byte_avail_snd_buf,
        (inst.byte_avail_snd_buf / inst.byte_mss - avg.pkt_snd_buf) * inst.byte_mss
    );

    // Held for another 400 ms (still before delivery), the receiver's
    // average closes in: (1 − 25/1000)^16 ≈ 0.67 of the gap is left.
    p.net.run_for(Duration::from_millis(400));
    let (later, inst) = p.stats(p.c.server, p.c.accepted);
    assert_eq!(inst.pkt_rcv_buf, BURST as i32);
    assert!(
        later.pkt_rcv_buf > first_avg && later.pkt_rcv_buf < BURST as i32,
        "average {first_avg}, then {}",
        later.pkt_rcv_buf
    );
}
