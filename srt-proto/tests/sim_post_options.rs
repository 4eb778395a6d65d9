//! Options changed on a live connection (libsrt's "post" options) take
//! effect in the engine at once: `Endpoint::apply_options` through the
//! simulator.

use srt_proto::options::SockOpt;
use srt_proto::packet::SocketId;
use srt_proto::sim::link::LinkConfig;
use srt_proto::sim::{Network, NodeId};
use srt_proto::stats::TraceBStats;
use srt_proto::{MsgCtrl, SocketOptions};
use std::time::{Duration, Instant};

mod common;
use common::{addr, connect, reordering_link, Pair, CLIENT, SERVER};

const PAYLOAD: usize = 1316;

/// A live stream from CLIENT (caller) to SERVER (listener) in the simulator.
struct Stream {
    net: Network,
    p: Pair,
    next_send: Instant,
}

impl Stream {
    fn connect(seed: u64, link: LinkConfig, opts: &SocketOptions) -> Self {
        let mut net = Network::new(seed, link);
        let p = connect(&mut net, opts);
        let next_send = net.now();
        Stream { net, p, next_send }
    }

    /// Offers `rate_bps` of 1316-byte messages for `d`, receiving everything due.
    fn run(&mut self, d: Duration, rate_bps: u64) {
        let period = Duration::from_nanos(PAYLOAD as u64 * 8 * 1_000_000_000 / rate_bps);
        let end = self.net.now() + d;
        let mut buf = [0u8; 1500];
        while self.net.now() < end {
            let limit = self.next_send.min(end);
            while self.net.step(limit) {
                self.drain(&mut buf);
            }
            self.drain(&mut buf);
            let now = self.net.now();
            if now >= self.next_send {
                // A full send buffer refuses; the live source goes on.
                let _ = self.net.endpoint(self.p.client).send(
                    now,
                    self.p.caller,
                    &[0x5a; PAYLOAD],
                    &MsgCtrl::default(),
                );
                self.next_send += period;
            }
        }
    }

    fn drain(&mut self, buf: &mut [u8]) {
        let now = self.net.now();
        while let Ok(Some(_)) = self
            .net
            .endpoint(self.p.server)
            .recv(now, self.p.accepted, buf)
        {}
    }

    /// The sender's statistics since the last call (`clear`).
    fn sender_interval(&mut self) -> TraceBStats {
        self.interval(self.p.client, self.p.caller)
    }

    /// The receiver's statistics since the last call (`clear`).
    fn receiver_interval(&mut self) -> TraceBStats {
        self.interval(self.p.server, self.p.accepted)
    }

    /// Buffer fields are the current values (`srt_bistats(.., 1)`).
    fn interval(&mut self, node: NodeId, socket: SocketId) -> TraceBStats {
        let now = self.net.now();
        self.net
            .endpoint(node)
            .socket_stats_instant(now, socket, true, true)
            .unwrap()
    }

    fn apply_to_caller(&mut self, opts: &SocketOptions) {
        let now = self.net.now();
        self.net
            .endpoint(self.p.client)
            .apply_options(now, self.p.caller, opts, None)
            .unwrap();
    }
}

fn link() -> LinkConfig {
    LinkConfig {
        delay: Duration::from_millis(10),
        ..LinkConfig::default()
    }
}

/// Bytes per second sent in an interval (SRT_TRACEBSTATS byteSent counts
/// the 44 header bytes of each packet).
fn wire_rate(s: &TraceBStats, secs: f64) -> f64 {
    s.byte_sent as f64 / secs
}

/// The rate LiveCC lets out at SRTO_MAXBW `cap`: as in libsrt, every 16th
/// packet starts a probe pair whose second packet leaves without waiting.
fn paced(cap: f64) -> std::ops::RangeInclusive<f64> {
    cap..=cap * 16.0 / 15.0 * 1.02
}

#[test]
fn lowering_maxbw_on_a_live_connection_slows_the_sender_at_once() {
    let opts = SocketOptions::live();
    let mut s = Stream::connect(1, link(), &opts);
    // 8 Mbit/s offered, SRTO_MAXBW −1 (1 Gbit/s): everything goes out.
    s.run(Duration::from_secs(1), 8_000_000);
    s.sender_interval();
    s.run(Duration::from_secs(1), 8_000_000);
    let before = s.sender_interval();
    let rate = wire_rate(&before, 1.0);
    assert!(rate > 950_000.0, "{rate} B/s before");
    assert!(
        before.us_pkt_snd_period < 20.0,
        "{}",
        before.us_pkt_snd_period
    );

    // 250 kB/s cap on the live connection.
    let capped = opts.clone().max_bw(250_000).unwrap();
    s.apply_to_caller(&capped);
    s.run(Duration::from_millis(200), 8_000_000);
    s.sender_interval();
    s.run(Duration::from_secs(1), 8_000_000);
    let after = s.sender_interval();
    let rate = wire_rate(&after, 1.0);
    assert!(
        paced(250_000.0).contains(&rate),
        "{rate} B/s after SRTO_MAXBW 250000"
    );
    assert_eq!(after.mbps_max_bw, 2.0);
    // (1316 + 44) bytes every 5.44 ms.
    assert_eq!(after.us_pkt_snd_period, 5440.0);

    // Back to 1 Gbit/s: the backlog goes out at once (the sender drops
    // what grew too old meanwhile, as it should).
    s.apply_to_caller(&opts);
    s.run(Duration::from_millis(500), 8_000_000);
    let back = s.sender_interval();
    assert!(wire_rate(&back, 0.5) > 950_000.0);
}

#[test]
fn maxbw_zero_follows_inputbw_and_oheadbw_changes() {
    let opts = SocketOptions::live();
    let mut s = Stream::connect(2, link(), &opts);
    s.run(Duration::from_millis(500), 8_000_000);
    // SRTO_MAXBW 0 with SRTO_INPUTBW 200000 and 25% overhead: 250 kB/s.
    let mut o = opts.clone().max_bw(0).unwrap();
    o.inputbw = 200_000;
    s.apply_to_caller(&o);
    s.run(Duration::from_millis(200), 8_000_000);
    assert_eq!(s.sender_interval().mbps_max_bw, 2.0);
    // 100% overhead: 400 kB/s.
    o.oheadbw = 100;
    s.apply_to_caller(&o);
    s.run(Duration::from_millis(200), 8_000_000);
    s.sender_interval();
    s.run(Duration::from_secs(1), 8_000_000);
    let st = s.sender_interval();
    assert_eq!(st.mbps_max_bw, 3.2);
    let rate = wire_rate(&st, 1.0);
    assert!(paced(400_000.0).contains(&rate), "{rate} B/s");
    // With SRTO_MAXBW set, SRTO_INPUTBW changes nothing (libsrt).
    let mut o = o.max_bw(300_000).unwrap();
    s.apply_to_caller(&o);
    o.inputbw = 10_000;
    s.apply_to_caller(&o);
    s.run(Duration::from_millis(100), 8_000_000);
    assert_eq!(s.sender_interval().mbps_max_bw, 2.4);
}

#[test]
fn lossmaxttl_on_a_live_receiver_stops_nak_for_reordering() {
    let link = reordering_link();
    let opts = SocketOptions::live();
    let mut s = Stream::connect(5, link, &opts);
    s.run(Duration::from_secs(1), 10_000_000);
    s.receiver_interval();
    s.run(Duration::from_secs(2), 10_000_000);
    let eager = s.receiver_interval();
    assert_eq!(eager.pkt_reorder_tolerance, 0);
    // Every overtaken packet was reported lost.
    assert!(eager.pkt_sent_nak > 50, "{}", eager.pkt_sent_nak);

    let mut tolerant = opts.clone();
    tolerant.lossmaxttl = 10;
    let apply = |s: &mut Stream, set| {
        let now = s.net.now();
        s.net
            .endpoint(s.p.server)
            .apply_options(now, s.p.accepted, &tolerant, set)
            .unwrap();
        s.receiver_interval().pkt_reorder_tolerance
    };
    // libsrt starts the tolerance at the new maximum.
    assert_eq!(apply(&mut s, None), 10);
    s.run(Duration::from_secs(2), 10_000_000);
    let waited = s.receiver_interval();
    assert!(
        waited.pkt_sent_nak * 3 < eager.pkt_sent_nak,
        "NAKs: {} with SRTO_LOSSMAXTTL 10, {} without",
        waited.pkt_sent_nak,
        eager.pkt_sent_nak
    );
    // The tolerance adapted down meanwhile; only setting SRTO_LOSSMAXTTL
    // again (even to the same value) restarts it at the maximum, as in libsrt.
    let adapted = waited.pkt_reorder_tolerance;
    assert!(adapted < 10, "{adapted}");
    assert_eq!(apply(&mut s, None), adapted);
    assert_eq!(apply(&mut s, Some(SockOpt::LossMaxTtl)), 10);
}

#[test]
fn snddropdelay_minus_one_on_a_live_sender_stops_sender_drops() {
    let opts = SocketOptions::live();
    let blackout = |s: &mut Stream| {
        s.net.set_link(
            addr(CLIENT),
            addr(SERVER),
            LinkConfig {
                loss: 1.0,
                ..link()
            },
        );
    };
    // Nothing reaches the receiver: unacknowledged packets older than
    // latency + SRTO_SNDDROPDELAY (at least 1 s) are dropped by the sender.
    let mut dropping = Stream::connect(3, link(), &opts);
    blackout(&mut dropping);
    dropping.run(Duration::from_secs(3), 1_000_000);
    assert!(dropping.sender_interval().pkt_snd_drop > 100);

    // SRTO_SNDDROPDELAY −1 set after connecting: the sender keeps them.
    let mut keeping = Stream::connect(3, link(), &opts);
    let mut o = opts.clone();
    o.snddropdelay = None;
    keeping.apply_to_caller(&o);
    blackout(&mut keeping);
    keeping.run(Duration::from_secs(3), 1_000_000);
    let st = keeping.sender_interval();
    assert_eq!(st.pkt_snd_drop, 0);
    assert!(st.pkt_snd_buf > 200, "{}", st.pkt_snd_buf);
}

#[test]
fn lowering_maxbw_caps_a_file_transfer_from_the_next_ack() {
    // A 20 Mbit/s bottleneck; the application offers more.
    let link = LinkConfig {
        rate_bps: Some(20_000_000),
        queue_bytes: 200_000,
        ..link()
    };
    let opts = SocketOptions::file();
    let mut s = Stream::connect(4, link, &opts);
    s.run(Duration::from_secs(1), 40_000_000);
    s.sender_interval();
    s.run(Duration::from_secs(1), 40_000_000);
    let rate = wire_rate(&s.sender_interval(), 1.0);
    assert!(rate > 1_500_000.0, "{rate} B/s before");

    // FileCC's period floor: one MSS (1500 bytes) per 6 ms.
    s.apply_to_caller(&opts.clone().max_bw(250_000).unwrap());
    assert_eq!(s.sender_interval().mbps_max_bw, 2.0);
    s.run(Duration::from_millis(200), 40_000_000);
    s.sender_interval();
    s.run(Duration::from_secs(1), 40_000_000);
    let rate = wire_rate(&s.sender_interval(), 1.0);
    assert!((200_000.0..=250_000.0).contains(&rate), "{rate} B/s after");
}
