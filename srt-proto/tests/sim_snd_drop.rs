//! The live sender's too-late drop (TLPKTDROP on the sending side), as
//! libsrt 1.5.5's `CUDT::sndDropTooLate`: only an application send drops,
//! and only when the oldest message held is older than max(the peer's
//! latency + SRTO_SNDDROPDELAY, 1000 ms) + 20 ms (whole milliseconds);
//! then everything older than `now − threshold` goes and SndDrop counts it.
//! SRTO_SNDDROPDELAY −1 disables it; it needs the peer's TLPKTDROP.
//!
//! Until 2026-12-07 a timer dropped on its own, so an application that
//! stopped sending (or a worker not scheduled for a while) lost its last
//! messages, sent or not, where libsrt keeps and retransmits them.

use srt_proto::packet::SocketId;
use srt_proto::sim::link::LinkConfig;
use srt_proto::sim::{Network, NodeId};
use srt_proto::stats::TraceBStats;
use srt_proto::{MsgCtrl, SendError, SocketOptions};
use std::time::{Duration, Instant};

mod common;
use common::{addr, CLIENT, SERVER};

const PAYLOAD: usize = 1316;
/// What SndDrop's byte counters add per packet (IPv4 + UDP + SRT headers).
const HEADERS: u64 = 44;

/// A live stream from CLIENT (caller, sending) to SERVER (listener).
struct Live {
    net: Network,
    client: NodeId,
    server: NodeId,
    caller: SocketId,
    accepted: SocketId,
    /// Messages sent so far (each carries its index).
    sent: u32,
    /// The indexes of the messages delivered, in order.
    delivered: Vec<u32>,
}

fn link() -> LinkConfig {
    LinkConfig {
        delay: Duration::from_millis(10),
        ..LinkConfig::default()
    }
}

impl Live {
    fn connect(sender: &SocketOptions, receiver: &SocketOptions) -> Self {
        let mut net = Network::new(7, link());
        let server = net.add_endpoint(addr(SERVER));
        let client = net.add_endpoint(addr(CLIENT));
        net.endpoint(server).listen(receiver, 5).unwrap();
        let now = net.now();
        let caller = net
            .endpoint(client)
            .connect(now, addr(SERVER), sender)
            .unwrap();
        net.run_for(Duration::from_millis(300));
        let accepted = net.endpoint(server).accept().expect("connected");
        let mut s = Live {
            net,
            client,
            server,
            caller,
            accepted,
            sent: 0,
            delivered: Vec::new(),
        };
        // A short stream, all delivered and acknowledged.
        for _ in 0..10 {
            s.send().unwrap();
            s.run(Duration::from_millis(10));
        }
        s.run(receiver.rcvlatency + Duration::from_millis(300));
        assert_eq!(s.delivered, (0..10).collect::<Vec<_>>());
        assert_eq!(s.sender().pkt_snd_buf, 0);
        s
    }

    /// Sends the next message, stamped now.
    fn send(&mut self) -> Result<usize, SendError> {
        let mut msg = [0x5a; PAYLOAD];
        msg[..4].copy_from_slice(&self.sent.to_be_bytes());
        let now = self.net.now();
        let r = self
            .net
            .endpoint(self.client)
            .send(now, self.caller, &msg, &MsgCtrl::default());
        if r.is_ok() {
            self.sent += 1;
        }
        r
    }

    /// Runs for exactly `d` of virtual time, reading what is delivered.
    fn run(&mut self, d: Duration) {
        let (server, accepted) = (self.server, self.accepted);
        let delivered = &mut self.delivered;
        let mut buf = [0u8; 1500];
        self.net.run_until(d, |net| {
            let now = net.now();
            while let Ok(Some(info)) = net.endpoint(server).recv(now, accepted, &mut buf) {
                assert_eq!(info.len, PAYLOAD);
                delivered.push(u32::from_be_bytes(buf[..4].try_into().unwrap()));
            }
            false
        });
    }

    /// Runs until `t`.
    fn run_to(&mut self, t: Instant) {
        let d = t.saturating_duration_since(self.net.now());
        self.run(d);
        assert_eq!(self.net.now(), t);
    }

    /// The sender's totals, with the current send buffer.
    fn sender(&mut self) -> TraceBStats {
        let now = self.net.now();
        self.net
            .endpoint(self.client)
            .socket_stats_instant(now, self.caller, false, true)
            .unwrap()
    }

    /// Cuts (`loss` 1.0) or restores the link in each direction.
    fn links(&mut self, forward_down: bool, back_down: bool) {
        for (from, to, down) in [(CLIENT, SERVER, forward_down), (SERVER, CLIENT, back_down)] {
            let loss = if down { 1.0 } else { 0.0 };
            self.net
                .set_link(addr(from), addr(to), LinkConfig { loss, ..link() });
        }
    }
}

fn ms(v: u64) -> Duration {
    Duration::from_millis(v)
}

/// Live options with the given latency both ways and SRTO_SNDDROPDELAY.
fn live(latency_ms: u64, snddropdelay: Option<Duration>) -> SocketOptions {
    let mut o = SocketOptions::live();
    o.rcvlatency = ms(latency_ms);
    o.peerlatency = ms(latency_ms);
    o.snddropdelay = snddropdelay;
    o
}

/// (a) The application stops sending while its messages cannot get through
/// (no ACK comes back, so the flow window closes and the last messages wait
/// unsent) for far longer than the threshold: nothing is dropped, and once
/// the link recovers every message is delivered, the last one too.
#[test]
fn a_sender_that_stops_sending_keeps_its_last_messages_past_the_threshold() {
    // A 32-packet receive buffer: the flow window is what is left of it.
    let mut opts = live(120, Some(Duration::ZERO));
    opts.rcvbuf_pkts = 32;
    opts.fc = 32;
    let mut s = Live::connect(&opts, &opts);
    // The return path fails: the receiver gets the packets, the sender no
    // ACK; 50 messages are sent at 100/s, then the application stops.
    s.links(false, true);
    for _ in 0..50 {
        s.send().unwrap();
        s.run(ms(10));
    }
    let held = s.sender();
    let unsent = held.pkt_snd_buf - held.pkt_flight_size;
    assert!(unsent > 10, "{held:?}");
    // 3 s later (threshold 1020 ms) the sender still holds all of them.
    s.run(ms(3000));
    let st = s.sender();
    assert_eq!(st.pkt_snd_drop_total, 0);
    assert_eq!(st.pkt_snd_buf, held.pkt_snd_buf);
    assert!(s.delivered.len() < 60, "{}", s.delivered.len());
    // The link recovers: the rest goes out and is delivered, late, in order.
    s.links(false, false);
    s.run(ms(1000));
    assert_eq!(s.delivered, (0..60).collect::<Vec<_>>());
    let st = s.sender();
    assert_eq!(st.pkt_snd_drop_total, 0);
    assert_eq!(st.pkt_snd_buf, 0);
}

/// (b) Drops happen on the next send once the oldest message is older than
/// the threshold (1020 ms at 120 ms latency): exactly what is older than
/// `now − threshold`, counted in SndDrop (bytes with 44 header bytes per
/// packet); never in between sends.
#[test]
fn the_next_send_drops_what_is_older_than_the_threshold() {
    let opts = live(120, Some(Duration::ZERO));
    let mut s = Live::connect(&opts, &opts);
    s.links(true, true);
    let t0 = s.net.now();
    s.send().unwrap(); // A
    s.run_to(t0 + ms(500));
    s.send().unwrap(); // B
                       // A is 1020 ms old: not older than the threshold, in whole milliseconds.
    s.run_to(t0 + ms(1020) + Duration::from_micros(999));
    s.send().unwrap(); // C
    let st = s.sender();
    assert_eq!((st.pkt_snd_drop_total, st.pkt_snd_buf), (0, 3));
    // 1021 ms: A goes before D is queued.
    s.run_to(t0 + ms(1021));
    s.send().unwrap(); // D
    let st = s.sender();
    assert_eq!(st.pkt_snd_drop_total, 1);
    assert_eq!(st.byte_snd_drop_total, PAYLOAD as u64 + HEADERS);
    assert_eq!(st.pkt_snd_buf, 3);
    // No send for 2 s: B, C and D grow older than the threshold and stay.
    s.run_to(t0 + ms(3000));
    let st = s.sender();
    assert_eq!((st.pkt_snd_drop_total, st.pkt_snd_buf), (1, 3));
    // The next send drops all three (older than t0 + 1980 ms).
    s.send().unwrap(); // E
    let st = s.sender();
    assert_eq!(st.pkt_snd_drop_total, 4);
    assert_eq!(st.byte_snd_drop_total, 4 * (PAYLOAD as u64 + HEADERS));
    assert_eq!(st.pkt_snd_buf, 1);
    // The link recovers: E is delivered, and the receiver skips the rest.
    s.links(false, false);
    s.run(ms(500));
    assert_eq!(
        s.delivered,
        [(0..10).collect::<Vec<_>>(), vec![14]].concat()
    );
    assert_eq!(s.sender().pkt_snd_buf, 0);
}

/// A send refused for lack of room still drops first (libsrt's sendmsg2
/// drops before it looks for room), and the room so made takes the message.
#[test]
fn a_full_send_buffer_is_relieved_by_the_drop_before_the_send() {
    let mut opts = live(120, Some(Duration::ZERO));
    opts.sndbuf_pkts = 32;
    let mut s = Live::connect(&opts, &opts);
    s.links(true, true);
    let t0 = s.net.now();
    for _ in 0..32 {
        s.send().unwrap();
    }
    assert_eq!(s.send(), Err(SendError::WouldBlock));
    s.run_to(t0 + ms(1021));
    assert_eq!(s.send(), Ok(PAYLOAD));
    let st = s.sender();
    assert_eq!((st.pkt_snd_drop_total, st.pkt_snd_buf), (32, 1));
}

/// (c) SRTO_SNDDROPDELAY −1 disables the sender's drop.
#[test]
fn snddropdelay_minus_one_never_drops() {
    let sender = live(120, None);
    let receiver = live(120, Some(Duration::ZERO));
    let mut s = Live::connect(&sender, &receiver);
    s.links(true, true);
    let t0 = s.net.now();
    s.send().unwrap();
    for at in [1021, 2000, 3000, 4000] {
        s.run_to(t0 + ms(at));
        s.send().unwrap();
    }
    let st = s.sender();
    assert_eq!((st.pkt_snd_drop_total, st.pkt_snd_buf), (0, 5));
}

/// (d) The threshold is 20 ms more than the peer's latency plus
/// SRTO_SNDDROPDELAY, or than 1000 ms if that is more: a message is kept at
/// a send exactly that old and dropped by one a millisecond later.
#[test]
fn the_threshold_honours_the_1000_ms_minimum() {
    for (latency, extra, threshold) in [
        (120, 0, 1020),
        (20, 0, 1020),
        (500, 400, 1020),
        (500, 600, 1120),
        (1500, 0, 1520),
        (120, 2000, 2140),
    ] {
        let opts = live(latency, Some(ms(extra)));
        let mut s = Live::connect(&opts, &opts);
        s.links(true, true);
        let t0 = s.net.now();
        s.send().unwrap();
        if threshold > 1020 {
            // Where libsrt's minimum would have dropped it: kept.
            s.run_to(t0 + ms(1021));
            s.send().unwrap();
            assert_eq!(s.sender().pkt_snd_drop_total, 0, "{latency} + {extra}");
        }
        s.run_to(t0 + ms(threshold));
        s.send().unwrap();
        assert_eq!(s.sender().pkt_snd_drop_total, 0, "{latency} + {extra}");
        s.run_to(t0 + ms(threshold + 1));
        s.send().unwrap();
        assert_eq!(
            s.sender().pkt_snd_drop_total,
            1,
            "{latency} + {extra}: threshold {threshold}"
        );
    }
}

/// The sender drops only if the peer announced TLPKTDROP (libsrt's
/// `m_bPeerTLPktDrop`), whatever its own SRTO_TLPKTDROP says.
#[test]
fn the_peers_tlpktdrop_decides() {
    let on = live(120, Some(Duration::ZERO));
    let mut off = on.clone();
    off.tlpktdrop = false;
    for (sender, receiver, drops) in [(&on, &off, 0), (&off, &on, 1)] {
        let mut s = Live::connect(sender, receiver);
        s.links(true, true);
        let t0 = s.net.now();
        s.send().unwrap();
        s.run_to(t0 + ms(1021));
        s.send().unwrap();
        assert_eq!(s.sender().pkt_snd_drop_total, drops);
    }
}

/// A broadcast group from A and B (two endpoints) to a listener group,
/// 200 messages a second.
struct GroupStream {
    net: Network,
    server: NodeId,
    tx: srt_proto::group::Group,
    listener: srt_proto::group::GroupListener,
    rx: Option<usize>,
    start: Instant,
    sent: u64,
    delivered: Vec<u64>,
}

impl GroupStream {
    /// Sends a message every 5 ms until `until` ms from the start,
    /// receiving and running the groups' timers.
    fn run(&mut self, until: u64) {
        use srt_proto::group::{Admitted, MemberKey};
        let end = self.start + ms(until);
        let mut buf = [0u8; 1500];
        while self.net.now() < end {
            let (server, tx, listener, rx, delivered) = (
                self.server,
                &mut self.tx,
                &mut self.listener,
                &mut self.rx,
                &mut self.delivered,
            );
            self.net.run_until(ms(5), |net| {
                let now = net.now();
                while let Some(socket) = net.endpoint(server).accept() {
                    let key = MemberKey {
                        endpoint: server,
                        socket,
                    };
                    let conn = net.endpoint(server).connection(socket).unwrap();
                    if let Admitted::NewGroup(i) = listener.admit(key, conn) {
                        *rx = Some(i);
                    }
                }
                if tx.poll_timeout().is_none_or(|t| t <= now) {
                    tx.handle_timeout(now, net);
                }
                if let Some(g) = rx.and_then(|i| listener.group(i)) {
                    if g.poll_timeout().is_none_or(|t| t <= now) {
                        g.handle_timeout(now, net);
                    }
                    while let Some(info) = g.recv(now, net, &mut buf) {
                        assert_eq!(info.len, 8);
                        delivered.push(u64::from_be_bytes(buf[..8].try_into().unwrap()));
                    }
                }
                false
            });
            let now = self.net.now();
            let msg = self.sent.to_be_bytes();
            if self.tx.is_connected()
                && self
                    .tx
                    .send(now, &mut self.net, &msg, &MsgCtrl::default())
                    .is_ok()
            {
                self.sent += 1;
            }
        }
    }

    /// Cuts or restores the links between `member` and the listener.
    fn link(&mut self, member: &str, dead: bool) {
        let loss = if dead { 1.0 } else { 0.0 };
        self.net
            .set_links_between(addr(member), addr(SERVER), LinkConfig { loss, ..link() });
    }
}

/// A broadcast group sends through each running member's own send, which
/// drops too late as libsrt's `sendmsg2` does, even when the member then
/// refuses the message. A member whose link died filled its send buffer
/// and fell behind the group's numbering; the drop empties it, so it takes
/// the group's numbering again and carries the stream once its link is
/// back (without the drop it stayed stuck for good: its peer never saw the
/// packets it held, so nothing acknowledged them).
#[test]
fn a_group_member_behind_the_group_recovers_by_the_drop() {
    use srt_proto::group::{GroupConfig, GroupListener, GroupType, MemberTarget};

    const A: &str = "127.0.0.1:5001";
    const B: &str = "127.0.0.1:5002";
    let mut net = Network::new(3, link());
    let rx_opts = SocketOptions {
        groupconnect: true,
        ..SocketOptions::live()
    };
    let server = net.add_endpoint(addr(SERVER));
    net.endpoint(server).listen(&rx_opts, 16).unwrap();
    let (a, b) = (net.add_endpoint(addr(A)), net.add_endpoint(addr(B)));
    // A small send buffer: a member whose link is dead fills it at once.
    let mut opts = SocketOptions::live();
    opts.sndbuf_pkts = 32;
    let mut tx = net
        .endpoint(a)
        .new_group(GroupConfig::new(GroupType::Broadcast, &opts));
    let targets = [a, b].map(|endpoint| MemberTarget {
        endpoint,
        remote: addr(SERVER),
        weight: 0,
    });
    let start = net.now();
    tx.connect(start, &mut net, &targets, &opts).unwrap();
    let mut g = GroupStream {
        net,
        server,
        tx,
        listener: GroupListener::new(&rx_opts),
        rx: None,
        start,
        sent: 0,
        delivered: Vec::new(),
    };
    g.run(1000);
    let b_key = g.tx.members().find(|m| m.key.endpoint == b).unwrap().key;
    // B's link dies for 2 s: its buffer fills, it falls behind the group.
    g.link(B, true);
    g.run(3000);
    g.link(B, false);
    g.run(5000);
    let now = g.net.now();
    let st = g
        .net
        .endpoint(b)
        .socket_stats(now, b_key.socket, false)
        .unwrap();
    assert!(st.pkt_snd_drop_total >= 32, "{}", st.pkt_snd_drop_total);
    // Then A's link dies: B alone carries the stream.
    let before = g.delivered.len();
    g.link(A, true);
    g.run(7000);
    let last_sent = g.sent - 1;
    g.run(7500);
    let after = &g.delivered[before..];
    assert!(after.len() > 350, "{} delivered after A died", after.len());
    assert!(after.contains(&last_sent));
    assert!(g.delivered.windows(2).all(|w| w[0] < w[1]));
}
