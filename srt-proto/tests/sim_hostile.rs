//! A hostile peer in the simulator: crafted control packets injected with
//! the peer's own address ([`Network::inject`]) in the middle of a live
//! stream over a lossy link, against the sender and the receiver. Each is
//! rejected and counted; the stream goes on with nothing lost.

use srt_proto::seq::{SeqNumber, SeqRange};
use srt_proto::sim::hostile::{self, PathView, EXT_KMREQ, EXT_KMRSP};
use srt_proto::sim::link::LinkConfig;
use srt_proto::sim::{run_seeds, Network};
use srt_proto::stats::RejectedControl;
use srt_proto::{Event, MsgCtrl, SocketOptions};
use std::net::SocketAddr;
use std::time::Duration;

mod common;
use common::{addr, connect, Pair, CLIENT, SERVER};

const PAYLOAD: usize = 1316;

fn link() -> LinkConfig {
    LinkConfig {
        loss: 0.02,
        delay: Duration::from_millis(10),
        ..LinkConfig::default()
    }
}

fn opts() -> SocketOptions {
    SocketOptions::live()
        .latency(Duration::from_millis(250))
        .unwrap()
}

/// What a run did.
struct Outcome {
    sent: u64,
    got: u64,
    /// Rejected on the sender (CLIENT) and the receiver (SERVER).
    sender: RejectedControl,
    receiver: RejectedControl,
    injected: u64,
}

/// Streams 1316-byte packets every 2 ms for 3 s from CLIENT to SERVER
/// while `attack` schedules injections, then lets everything arrive. The
/// connection must stand, and every packet be delivered in order. And as
/// rejected packets change nothing, both endpoints must send exactly what
/// they send in the same run without the attack.
fn stream(seed: u64, opts: &SocketOptions, attack: impl FnOnce(&mut Network)) -> Outcome {
    let (outcome, attacked) = stream_digest(seed, opts, attack);
    let (_, clean) = stream_digest(seed, opts, |_| {});
    assert_eq!(attacked, clean, "the attack changed what was sent");
    outcome
}

fn stream_digest(
    seed: u64,
    opts: &SocketOptions,
    attack: impl FnOnce(&mut Network),
) -> (Outcome, [u8; 20]) {
    let mut net = Network::new(seed, link());
    let p: Pair = connect(&mut net, opts);
    attack(&mut net);
    let mut buf = [0u8; 1500];
    let (mut sent, mut got) = (0u64, 0u64);
    let mut receive = |net: &mut Network, got: &mut u64| {
        let now = net.now();
        while let Ok(Some(info)) = net.endpoint(p.server).recv(now, p.accepted, &mut buf) {
            assert_eq!(info.len, PAYLOAD);
            assert_eq!(buf[..8], got.to_be_bytes(), "in order, none lost");
            *got += 1;
        }
    };
    // In order without TSBPD too.
    let in_order = MsgCtrl {
        in_order: true,
        ..MsgCtrl::default()
    };
    for _ in 0..1500 {
        let now = net.now();
        let mut payload = [0u8; PAYLOAD];
        payload[..8].copy_from_slice(&sent.to_be_bytes());
        net.endpoint(p.client)
            .send(now, p.caller, &payload, &in_order)
            .unwrap();
        sent += 1;
        net.run_for(Duration::from_millis(2));
        receive(&mut net, &mut got);
    }
    net.run_for(Duration::from_secs(1));
    receive(&mut net, &mut got);
    for node in [p.client, p.server] {
        let broken = net
            .events(node)
            .iter()
            .find(|e| matches!(e, Event::Broken { .. }));
        assert!(broken.is_none(), "{broken:?}");
    }
    let now = net.now();
    let rs = net
        .endpoint(p.server)
        .socket_stats(now, p.accepted, false)
        .unwrap();
    assert_eq!(rs.pkt_rcv_drop_total, 0, "receiver dropped");
    assert!(rs.pkt_rcv_loss_total > 0, "the link lost nothing");
    let outcome = Outcome {
        sent,
        got,
        sender: net
            .endpoint(p.client)
            .socket_rejected_control(p.caller)
            .unwrap(),
        receiver: net
            .endpoint(p.server)
            .socket_rejected_control(p.accepted)
            .unwrap(),
        injected: net.injected(),
    };
    (outcome, net.transmit_digest())
}

/// Injects `craft` at each of `times` (ms from now) from `from` to `to`.
fn at_times(
    net: &mut Network,
    times: impl IntoIterator<Item = u64>,
    from: &str,
    to: &str,
    craft: impl Fn(&PathView) -> Option<Vec<u8>> + Clone + 'static,
) {
    let (from, to): (SocketAddr, SocketAddr) = (addr(from), addr(to));
    for t in times {
        let craft = craft.clone();
        net.inject(Duration::from_millis(t), from, to, move |v| craft(v));
    }
}

fn range(first: SeqNumber, len: u32) -> SeqRange {
    SeqRange {
        first,
        last: first + (len - 1) as i32,
    }
}

/// Issue 14: one NAK from just after the next packet to send, spanning 2^30
/// numbers, froze the engine for ~10 s and broke the connection. Against
/// the sender (its data) and the receiver (whose send side is empty).
#[test]
fn nak_of_2_pow_30_numbers() {
    run_seeds(1..=3, |seed| {
        let o = stream(seed, &opts(), |net| {
            let craft = |v: &PathView| {
                let first = v.reverse.last_data_seq? + 2;
                Some(hostile::nak(
                    v.forward.dest_socket?,
                    &[range(first, (1 << 30) + 1)],
                ))
            };
            at_times(net, [1000, 1500, 2000], SERVER, CLIENT, craft);
            at_times(net, [1200], CLIENT, SERVER, |v| {
                let first = v.forward.last_data_seq? + 2;
                Some(hostile::nak(
                    v.forward.dest_socket?,
                    &[range(first, (1 << 30) + 1)],
                ))
            });
        });
        assert_eq!(o.injected, 4);
        assert_eq!(o.got, o.sent);
        assert_eq!(o.sender.nak, 3);
        assert_eq!(o.receiver.nak, 1);
    });
}

#[test]
fn nak_beyond_what_was_sent() {
    let o = stream(4, &opts(), |net| {
        at_times(net, [1000, 1100, 1200], SERVER, CLIENT, |v| {
            let next = v.reverse.last_data_seq?.next();
            Some(hostile::nak(
                v.forward.dest_socket?,
                &[range(next, 1), range(next + 10, 5)],
            ))
        });
    });
    assert_eq!(o.got, o.sent);
    assert_eq!(o.sender.nak, 3);
}

#[test]
fn ack_beyond_what_was_sent() {
    let o = stream(5, &opts(), |net| {
        at_times(net, [1000, 1300], SERVER, CLIENT, |v| {
            let next = v.reverse.last_data_seq?.next();
            Some(hostile::ack(v.forward.dest_socket?, 77, next + 1000))
        });
        at_times(net, [1600, 1900], SERVER, CLIENT, |v| {
            let next = v.reverse.last_data_seq?.next();
            Some(hostile::light_ack(v.forward.dest_socket?, next + (1 << 30)))
        });
    });
    assert_eq!(o.got, o.sent);
    assert_eq!(o.sender.ack, 4);
}

#[test]
fn dropreq_for_future_and_past_ranges() {
    for opts in [opts(), opts().tsbpd_mode(false).unwrap()] {
        let o = stream(6, &opts, |net| {
            // Future: beyond the receive buffer.
            at_times(net, [1000, 1500], CLIENT, SERVER, |v| {
                let next = v.forward.last_data_seq?.next();
                Some(hostile::dropreq(
                    v.forward.dest_socket?,
                    next + 9000,
                    next + 9100,
                ))
            });
            // Past: more than a receive buffer (8192) before what is
            // still to be delivered.
            at_times(net, [1200, 1700], CLIENT, SERVER, |v| {
                let next = v.forward.last_data_seq?.next();
                Some(hostile::dropreq(
                    v.forward.dest_socket?,
                    next - 100_000,
                    next - 99_000,
                ))
            });
            // Stale (delivered, within a buffer): ignored, not counted.
            at_times(net, [1300], CLIENT, SERVER, |v| {
                let next = v.forward.last_data_seq?.next();
                Some(hostile::dropreq(
                    v.forward.dest_socket?,
                    next - 2000,
                    next - 1000,
                ))
            });
        });
        assert_eq!(o.got, o.sent);
        assert_eq!(o.receiver.dropreq, 4);
    }
}

/// A DROPREQ that starts right after the last packet the sender sent and
/// reaches past it, in message mode without TSBPD (where the receiver
/// gives up what a DROPREQ names): the receiver used to take it, then
/// acknowledged what was never sent; the sender refused that ACK and the
/// stream stalled (libsrt breaks the connection). Nothing beyond what was
/// received is given up now: rejected and counted, nothing lost. (Just
/// after the last packet seen on the path is where such a range must
/// start to be taken at all: the receiver ignores one beyond a gap.)
#[test]
fn dropreq_just_ahead_of_the_sender_without_tsbpd() {
    let opts = opts().tsbpd_mode(false).unwrap();
    let o = stream(8, &opts, |net| {
        at_times(net, [1000, 1500, 2000, 2500], CLIENT, SERVER, |v| {
            let next = v.forward.last_data_seq?.next();
            Some(hostile::dropreq(v.forward.dest_socket?, next, next + 1000))
        });
    });
    assert_eq!(o.injected, 4);
    assert_eq!(o.got, o.sent);
    assert_eq!(o.receiver.dropreq, 4);
}

#[test]
fn repeated_ackacks() {
    let o = stream(7, &opts(), |net| {
        // The last full ACK the receiver sent, acknowledged again and again
        // (the real ACKACK of it may come before or after).
        for t in [1000, 1400, 1800] {
            at_times(net, [t, t + 50, t + 100, t + 150], CLIENT, SERVER, |v| {
                let (number, _) = v.reverse.last_full_ack?;
                Some(hostile::ackack(
                    v.forward.dest_socket?,
                    number.saturating_sub(3),
                ))
            });
        }
    });
    assert_eq!(o.got, o.sent);
    assert_eq!(o.receiver.ackack, 12);
}

/// A well-formed one-key AES-128 KM message (56 bytes), cut or padded to
/// `len` bytes.
fn km(len: usize) -> Vec<u8> {
    let mut m = vec![0x12, 0x20, 0x29, 0x01, 0, 0, 0, 0, 2, 0, 2, 0, 0, 0, 4, 4];
    m.extend([7u8; 16 + 24]);
    m.resize(len, 0x55);
    m
}

/// KMREQ/KMRSP of wrong lengths, both ways, on an encrypted connection.
#[test]
fn key_material_of_wrong_lengths() {
    let opts = opts().passphrase("a hostile peer").unwrap();
    let lengths = [0usize, 3, 4, 15, 16, 17, 40, 52, 55, 57, 60, 104, 105, 200];
    let o = stream(8, &opts, |net| {
        for (i, len) in lengths.into_iter().enumerate() {
            let t = 600 + 100 * i as u64;
            at_times(net, [t], CLIENT, SERVER, move |v| {
                Some(hostile::ext(v.forward.dest_socket?, EXT_KMREQ, &km(len)))
            });
            at_times(net, [t + 50], SERVER, CLIENT, move |v| {
                let cif = km(len);
                let subtype = if len == 4 { EXT_KMREQ } else { EXT_KMRSP };
                Some(hostile::ext(v.forward.dest_socket?, subtype, &cif))
            });
        }
    });
    assert_eq!(o.got, o.sent);
    assert_eq!(o.receiver.km, lengths.len() as u64);
    assert_eq!(o.sender.km, lengths.len() as u64);
}

/// No false alarms: an honest peer over a lossy, reordering link, in live
/// mode (with too-late drops at a short latency), without TSBPD and in
/// file mode, never has a control packet rejected.
#[test]
fn honest_traffic_is_never_rejected() {
    let bad_link = LinkConfig {
        loss: 0.05,
        delay: Duration::from_millis(20),
        jitter: Duration::from_millis(2),
        reorder: true,
        reorder_prob: 0.05,
        reorder_delay: Duration::from_millis(5),
        ..LinkConfig::default()
    };
    let short = SocketOptions::live()
        .latency(Duration::from_millis(60))
        .unwrap();
    let no_tsbpd = opts().tsbpd_mode(false).unwrap();
    let file = SocketOptions::file();
    run_seeds(1..=3, |seed| {
        for opts in [&short, &no_tsbpd, &file] {
            let mut net = Network::new(seed, bad_link.clone());
            let p = connect(&mut net, opts);
            let mut buf = [0u8; 1500];
            for i in 0..3000u32 {
                let now = net.now();
                let mut payload = [0u8; PAYLOAD];
                payload[..4].copy_from_slice(&i.to_be_bytes());
                net.endpoint(p.client)
                    .send(now, p.caller, &payload, &MsgCtrl::default())
                    .unwrap();
                net.run_for(Duration::from_millis(1));
                let now = net.now();
                while let Ok(Some(_)) = net.endpoint(p.server).recv(now, p.accepted, &mut buf) {}
            }
            net.run_for(Duration::from_secs(1));
            let now = net.now();
            let rs = net
                .endpoint(p.server)
                .socket_stats(now, p.accepted, false)
                .unwrap();
            assert!(rs.pkt_rcv_loss_total > 0);
            for (node, socket) in [(p.client, p.caller), (p.server, p.accepted)] {
                let rejected = net.endpoint(node).socket_rejected_control(socket).unwrap();
                assert_eq!(rejected, RejectedControl::default(), "{opts:?}");
            }
        }
    });
}
