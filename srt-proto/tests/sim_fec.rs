//! The builtin FEC packet filter through the simulator: a live stream over a
//! lossy link, the filter negotiated in the handshake (the listener sets no
//! filter and adopts the caller's), losses rebuilt from FEC packets and,
//! per `arq`, reported or not.

use srt_proto::packet::{DataKeyFlags, DataPacket, PacketPosition};
use srt_proto::seq::MsgNumber;
use srt_proto::sim::link::LinkConfig;
use srt_proto::sim::{run_seeds, Network};
use srt_proto::stats::TraceBStats;
use srt_proto::{Event, MsgCtrl, SocketOptions};
use std::collections::BTreeSet;
use std::time::Duration;

mod common;
use common::{addr, CLIENT, SERVER};

const PAYLOAD: usize = 1316;

fn payload(i: u64) -> [u8; PAYLOAD] {
    let mut p = [0u8; PAYLOAD];
    p[..8].copy_from_slice(&i.to_be_bytes());
    for (k, b) in p[8..].iter_mut().enumerate() {
        *b = (i as usize).wrapping_mul(131).wrapping_add(k * 7) as u8;
    }
    p
}

struct Outcome {
    sent: u64,
    delivered: BTreeSet<u64>,
    sender: TraceBStats,
    receiver: TraceBStats,
}

impl Outcome {
    fn delivered_fraction(&self) -> f64 {
        self.delivered.len() as f64 / self.sent as f64
    }

    /// Lost data packets (gaps the receiver saw) that the filter rebuilt.
    fn rebuilt_fraction(&self) -> f64 {
        self.receiver.pkt_rcv_filter_supply_total as f64
            / self.receiver.pkt_rcv_loss_total.max(1) as f64
    }
}

/// What a run streams, and how.
#[derive(Clone, Copy, Default)]
struct Setup<'a> {
    /// The caller's filter.
    filter: &'a str,
    /// The listener's filter (none: it adopts the caller's).
    listener_filter: Option<&'a str>,
    /// Datagrams lost in each direction.
    loss: f64,
    /// Both sides encrypt.
    passphrase: bool,
    /// Forged packets far ahead are injected.
    hostile: bool,
}

/// Streams 500 packets per second for `secs` from a caller to a listener
/// as `setup` says.
fn stream(seed: u64, setup: Setup<'_>, secs: u64) -> Outcome {
    let Setup {
        filter,
        listener_filter,
        loss,
        passphrase,
        hostile,
    } = setup;
    let rate = 500;
    let link = LinkConfig {
        loss,
        delay: Duration::from_millis(20),
        ..LinkConfig::default()
    };
    let mut net = Network::new(seed, link);
    let mut base = SocketOptions::live()
        .latency(Duration::from_millis(200))
        .unwrap();
    if passphrase {
        base = base.passphrase("fec secret 123").unwrap();
    }
    let caller_opts = base.clone().packet_filter(filter).unwrap();
    let listener_opts = match listener_filter {
        Some(f) => base.clone().packet_filter(f).unwrap(),
        None => base,
    };
    let server = net.add_endpoint(addr(SERVER));
    let client = net.add_endpoint(addr(CLIENT));
    net.endpoint(server).listen(&listener_opts, 5).unwrap();
    let now = net.now();
    let caller = net
        .endpoint(client)
        .connect(now, addr(SERVER), &caller_opts)
        .unwrap();
    assert!(
        net.run_until(Duration::from_secs(5), |n| n
            .events(client)
            .contains(&Event::Connected { socket: caller })),
        "no connection: {:?}",
        net.events(client)
    );
    let accepted = net.endpoint(server).accept().expect("accepted");
    if hostile {
        // Forged data and FEC packets far beyond the receive window: they
        // must not move the FEC receiver's window (nor make it report a
        // huge loss).
        for (k, (jump, msgno)) in [(1_000_000, 1), (100_000_000, 0), (5_000, 0), (9_000, 1)]
            .into_iter()
            .enumerate()
        {
            net.inject(
                Duration::from_millis(2000 + 500 * k as u64),
                addr(CLIENT),
                addr(SERVER),
                move |v| {
                    let seq = v.forward.last_data_seq? + jump;
                    let mut payload = vec![0u8; 1320];
                    payload[0] = 0xFF;
                    let pkt = DataPacket {
                        seq,
                        position: PacketPosition::Solo,
                        in_order: false,
                        key: DataKeyFlags::Clear,
                        retransmitted: false,
                        msg_number: MsgNumber::new_truncate(msgno),
                        timestamp: v.forward.last_timestamp?,
                        dest_socket: v.forward.dest_socket?,
                        payload: &payload,
                    };
                    let mut buf = vec![0u8; 1500];
                    let n = pkt.encode(&mut buf).ok()?;
                    buf.truncate(n);
                    Some(buf)
                },
            );
        }
    }

    let period = Duration::from_nanos(1_000_000_000 / rate);
    let start = net.now();
    let end = start + Duration::from_secs(secs);
    let mut next_send = start;
    let mut sent = 0u64;
    let mut delivered = BTreeSet::new();
    let mut buf = [0u8; 1500];
    // Keep sending a while after the counted period so that the tail's
    // losses are detected and repaired too.
    let stop = end + Duration::from_secs(1);
    let mut counted = None;
    while net.now() < stop {
        if counted.is_none() && net.now() >= end {
            counted = Some(sent);
        }
        while net.step(next_send) {}
        let now = net.now();
        while let Some(info) = net.endpoint(server).recv(now, accepted, &mut buf).unwrap() {
            assert_eq!(info.len, PAYLOAD);
            let i = u64::from_be_bytes(buf[..8].try_into().unwrap());
            assert_eq!(&buf[..PAYLOAD], &payload(i)[..], "packet {i} corrupted");
            delivered.insert(i);
        }
        if now >= next_send {
            net.endpoint(client)
                .send(now, caller, &payload(sent), &MsgCtrl::default())
                .unwrap();
            sent += 1;
            next_send += period;
        }
    }
    let now = net.now();
    let sender = net
        .endpoint(client)
        .socket_stats(now, caller, false)
        .unwrap();
    let receiver = net
        .endpoint(server)
        .socket_stats(now, accepted, false)
        .unwrap();
    let sent = counted.unwrap_or(sent);
    delivered.retain(|i| *i < sent);
    Outcome {
        sent,
        delivered,
        sender,
        receiver,
    }
}

/// `arq:never` at 1% loss: no loss report at all, and FEC rebuilds most
/// losses (what it cannot rebuild is dropped on time).
#[test]
fn arq_never_rebuilds_most_losses_at_1pct() {
    for (cfg, min_rebuilt) in [
        ("fec,cols:10,rows:5,arq:never", 0.9),
        ("fec,cols:10,rows:5,layout:even,arq:never", 0.9),
        ("fec,cols:4,rows:4,layout:staircase,arq:never", 0.9),
        ("fec,cols:8,rows:-4,layout:even,arq:never", 0.8),
        ("fec,cols:5,rows:1,arq:never", 0.8),
    ] {
        run_seeds([1, 2], |seed| {
            let o = stream(
                seed,
                Setup {
                    filter: cfg,
                    loss: 0.01,
                    ..Setup::default()
                },
                10,
            );
            let r = &o.receiver;
            eprintln!(
                "{cfg} seed {seed}: sent {} delivered {} lost {} rebuilt {} ({:.1}%) fec sent {} fec recv {}",
                o.sent,
                o.delivered.len(),
                r.pkt_rcv_loss_total,
                r.pkt_rcv_filter_supply_total,
                100.0 * o.rebuilt_fraction(),
                o.sender.pkt_snd_filter_extra_total,
                r.pkt_rcv_filter_extra_total,
            );
            assert!(r.pkt_rcv_loss_total > 10, "{cfg}: too few losses to judge");
            assert!(
                o.rebuilt_fraction() >= min_rebuilt,
                "{cfg} seed {seed}: rebuilt only {:.3}",
                o.rebuilt_fraction()
            );
            assert_eq!(r.pkt_sent_nak_total, 0, "{cfg}: arq:never sent a NAK");
            assert_eq!(o.sender.pkt_retrans_total, 0, "{cfg}");
            assert!(o.sender.pkt_snd_filter_extra_total > 0);
            assert_eq!(r.pkt_rcv_filter_loss_total, 0);
            // Every packet delivered is intact (checked on receipt); those
            // not rebuilt are missing.
            assert!(o.delivered_fraction() > 0.99, "{}", o.delivered_fraction());
        });
    }
}

/// `arq:onreq` at 5% loss: FEC rebuilds what it can, the rest is requested
/// once and retransmitted: at least 99.9% is delivered, with far fewer
/// retransmissions than losses.
#[test]
fn arq_onreq_delivers_999_at_5pct() {
    for cfg in [
        "fec,cols:10,rows:5,arq:onreq",
        "fec,cols:10,rows:5,layout:even,arq:onreq",
        "fec,cols:6,rows:3,arq:onreq",
        "fec,cols:4,rows:-3,layout:even,arq:onreq",
        "fec,cols:5,rows:1,arq:onreq",
    ] {
        run_seeds([3, 4], |seed| {
            let o = stream(
                seed,
                Setup {
                    filter: cfg,
                    loss: 0.05,
                    ..Setup::default()
                },
                10,
            );
            let r = &o.receiver;
            eprintln!(
                "{cfg} seed {seed}: sent {} delivered {} ({:.3}%) lost {} rebuilt {} filter loss {} retrans {}",
                o.sent,
                o.delivered.len(),
                100.0 * o.delivered_fraction(),
                r.pkt_rcv_loss_total,
                r.pkt_rcv_filter_supply_total,
                r.pkt_rcv_filter_loss_total,
                o.sender.pkt_retrans_total,
            );
            assert!(
                o.delivered_fraction() >= 0.999,
                "{cfg} seed {seed}: delivered {:.4}",
                o.delivered_fraction()
            );
            assert!(r.pkt_rcv_filter_supply_total > 0);
            assert!(r.pkt_rcv_filter_loss_total > 0);
            assert!((o.sender.pkt_retrans_total as i64) < r.pkt_rcv_loss_total as i64);
        });
    }
}

/// `arq:always`: losses are reported at once as without a filter, FEC
/// rebuilds some of them first; everything arrives.
#[test]
fn arq_always_with_encryption_delivers_all() {
    run_seeds([5], |seed| {
        let o = stream(
            seed,
            Setup {
                filter: "fec,cols:10,rows:5,arq:always",
                listener_filter: Some("fec,cols:10"),
                loss: 0.02,
                passphrase: true,
                hostile: false,
            },
            8,
        );
        let r = &o.receiver;
        assert_eq!(o.delivered.len() as u64, o.sent);
        assert!(r.pkt_sent_nak_total > 0);
        assert!(r.pkt_rcv_filter_supply_total > 0);
        assert_eq!(r.pkt_rcv_undecrypt_total, 0);
    });
}

/// Both sides set different values: refused with SRT_REJ_FILTER.
#[test]
fn conflicting_filters_are_refused() {
    let mut net = Network::new(7, LinkConfig::default());
    let server = net.add_endpoint(addr(SERVER));
    let client = net.add_endpoint(addr(CLIENT));
    let base = SocketOptions::live();
    net.endpoint(server)
        .listen(&base.clone().packet_filter("fec,cols:8").unwrap(), 5)
        .unwrap();
    let now = net.now();
    let caller = net
        .endpoint(client)
        .connect(
            now,
            addr(SERVER),
            &base.packet_filter("fec,cols:10").unwrap(),
        )
        .unwrap();
    net.run_for(Duration::from_secs(2));
    let rejected = net.events(client).iter().any(|e| {
        matches!(e, Event::ConnectFailed { socket, reason }
            if *socket == caller && *reason == srt_proto::packet::RejectReason::Filter)
    });
    assert!(rejected, "{:?}", net.events(client));
}

/// Forged data and FEC packets far ahead (beyond the receive window) change
/// nothing: FEC keeps rebuilding, no huge loss is reported.
#[test]
fn packets_beyond_the_window_do_not_derail_fec() {
    run_seeds([8], |seed| {
        let o = stream(
            seed,
            Setup {
                filter: "fec,cols:10,rows:5,arq:onreq",
                loss: 0.02,
                hostile: true,
                ..Setup::default()
            },
            8,
        );
        let r = &o.receiver;
        assert!(
            o.delivered_fraction() >= 0.999,
            "{}",
            o.delivered_fraction()
        );
        assert!(o.rebuilt_fraction() > 0.9, "{}", o.rebuilt_fraction());
        assert!(
            r.pkt_rcv_filter_loss_total < 20,
            "{}",
            r.pkt_rcv_filter_loss_total
        );
        // The forged packets' gaps are not counted as losses either.
        assert!(r.pkt_rcv_loss_total < 200, "{}", r.pkt_rcv_loss_total);
    });
}

/// Rendezvous: the FILTER strings must be identical as libsrt compares
/// them, after the responder's merge: libsrt 1.5.1's srt-live-transmit
/// pair refuses `fec,cols:4` on both sides (the responder answers with the
/// merged `fec,arq:onreq,cols:4,layout:staircase,rows:1`) and connects with
/// the full string. Ours does the same.
#[test]
fn rendezvous_needs_the_full_string_as_libsrt() {
    for (filter, connects) in [
        ("fec,arq:onreq,cols:4,layout:staircase,rows:1", true),
        ("fec,cols:4", false),
    ] {
        let mut net = Network::new(11, LinkConfig::default());
        let a = net.add_endpoint(addr(SERVER));
        let b = net.add_endpoint(addr(CLIENT));
        let opts = SocketOptions::live().packet_filter(filter).unwrap();
        let now = net.now();
        let ida = net
            .endpoint(a)
            .rendezvous(now, addr(CLIENT), &opts)
            .unwrap();
        let idb = net
            .endpoint(b)
            .rendezvous(now, addr(SERVER), &opts)
            .unwrap();
        net.run_for(Duration::from_secs(3));
        let connected = net.events(a).contains(&Event::Connected { socket: ida })
            && net.events(b).contains(&Event::Connected { socket: idb });
        assert_eq!(
            connected,
            connects,
            "{filter}: {:?} {:?}",
            net.events(a),
            net.events(b)
        );
        if connects {
            let agreed = |net: &mut Network, n, id| {
                net.endpoint(n)
                    .connection(id)
                    .and_then(|c| c.negotiated())
                    .and_then(|x| x.filter.as_ref())
                    .map(|f| f.text.clone())
            };
            assert_eq!(agreed(&mut net, a, ida), Some(filter.to_owned()));
            assert_eq!(agreed(&mut net, b, idb), Some(filter.to_owned()));
        } else {
            let refused = net.events(a).iter().chain(net.events(b)).any(|e| {
                matches!(e, Event::ConnectFailed { reason, .. }
                    if *reason == srt_proto::packet::RejectReason::Filter)
            });
            assert!(refused, "{:?} {:?}", net.events(a), net.events(b));
        }
    }
}
