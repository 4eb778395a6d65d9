//! Handshakes and connection lifecycle through the deterministic simulator:
//! loss, jitter, timeouts, idle peers; each run is reproducible by its seed.

use srt_proto::packet::{RejectReason, SocketId};
use srt_proto::sim::link::LinkConfig;
use srt_proto::sim::{run_seeds, Network, NodeId};
use srt_proto::{BreakCause, ConnState, Event, SocketOptions};
use std::net::SocketAddr;
use std::time::Duration;

const SERVER: &str = "127.0.0.1:9000";
const CLIENT: &str = "127.0.0.2:5000";

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

fn lossy(loss: f64) -> LinkConfig {
    LinkConfig {
        loss,
        delay: Duration::from_millis(20),
        jitter: Duration::from_millis(200),
        ..LinkConfig::default()
    }
}

fn sid(s: &str) -> SocketOptions {
    SocketOptions::live().stream_id(s).unwrap()
}

/// Runs until `node` raises an event about `id` that ends connecting.
fn connect_outcome(
    net: &mut Network,
    node: NodeId,
    id: SocketId,
    limit: Duration,
) -> Option<Event> {
    let done = |net: &mut Network| {
        net.events(node).iter().any(|e| {
            matches!(e, Event::Connected { socket } | Event::ConnectFailed { socket, .. } if *socket == id)
        })
    };
    net.run_until(limit, done);
    net.events(node)
        .iter()
        .find(|e| matches!(e, Event::Connected { socket } | Event::ConnectFailed { socket, .. } if *socket == id))
        .cloned()
}

#[test]
fn caller_listener_connects_through_loss_and_jitter() {
    for loss in [0.0, 0.1, 0.3] {
        run_seeds(0..20, |seed| {
            let mut net = Network::new(seed, lossy(loss));
            let server = net.add_endpoint(addr(SERVER));
            let client = net.add_endpoint(addr(CLIENT));
            net.endpoint(server)
                .listen(&SocketOptions::default(), 5)
                .unwrap();
            let now = net.now();
            let id = net
                .endpoint(client)
                .connect(now, addr(SERVER), &sid("sim/caller"))
                .unwrap();
            let outcome = connect_outcome(&mut net, client, id, Duration::from_secs(4));
            assert_eq!(
                outcome,
                Some(Event::Connected { socket: id }),
                "loss {loss}"
            );
            // The listener made exactly one connection, whatever was repeated.
            let accepted = net.endpoint(server).accept().expect("accepted");
            assert!(
                net.endpoint(server).accept().is_none(),
                "loss {loss}: duplicate accept"
            );
            let conn = net.endpoint(server).connection(accepted).unwrap();
            assert_eq!(conn.stream_id(), b"sim/caller");
            assert_eq!(conn.peer_id(), id.0);
        });
    }
}

#[test]
fn rendezvous_connects_through_loss_and_jitter() {
    for loss in [0.0, 0.1, 0.3] {
        run_seeds(0..20, |seed| {
            let mut net = Network::new(seed, lossy(loss));
            let a = net.add_endpoint(addr(SERVER));
            let b = net.add_endpoint(addr(CLIENT));
            let now = net.now();
            let ida = net
                .endpoint(a)
                .rendezvous(now, addr(CLIENT), &sid("rdv-a"))
                .unwrap();
            let idb = net
                .endpoint(b)
                .rendezvous(now, addr(SERVER), &sid("rdv-b"))
                .unwrap();
            let both = |net: &mut Network| {
                net.events(a).contains(&Event::Connected { socket: ida })
                    && net.events(b).contains(&Event::Connected { socket: idb })
            };
            assert!(
                net.run_until(Duration::from_secs(30), both),
                "loss {loss}: a {:?} b {:?}",
                net.events(a),
                net.events(b)
            );
            // Both hold the initiator's stream ID, and each other's socket ID.
            let sa = net
                .endpoint(a)
                .connection(ida)
                .unwrap()
                .stream_id()
                .to_vec();
            let sb = net
                .endpoint(b)
                .connection(idb)
                .unwrap()
                .stream_id()
                .to_vec();
            assert_eq!(sa, sb);
            assert_eq!(net.endpoint(a).connection(ida).unwrap().peer_id(), idb.0);
            assert_eq!(net.endpoint(b).connection(idb).unwrap().peer_id(), ida.0);
        });
    }
}

#[test]
fn silent_peer_times_out_after_conntimeo() {
    run_seeds(0..5, |seed| {
        let mut net = Network::new(seed, lossy(0.0));
        let client = net.add_endpoint(addr(CLIENT));
        let now = net.now();
        let config = SocketOptions {
            conntimeo: Duration::from_millis(1500),
            ..SocketOptions::default()
        };
        let id = net
            .endpoint(client)
            .connect(now, addr(SERVER), &config)
            .unwrap();
        let outcome = connect_outcome(&mut net, client, id, Duration::from_secs(10));
        assert_eq!(
            outcome,
            Some(Event::ConnectFailed {
                socket: id,
                reason: RejectReason::Timeout
            })
        );
        let t = net.elapsed();
        assert!(
            t >= Duration::from_millis(1500) && t < Duration::from_millis(1510),
            "{t:?}"
        );
        // Rendezvous waits ten times as long.
        let now = net.now();
        let rdv = net
            .endpoint(client)
            .rendezvous(now, addr(SERVER), &SocketOptions::default())
            .unwrap();
        let start = net.elapsed();
        let outcome = connect_outcome(&mut net, client, rdv, Duration::from_secs(60));
        assert!(matches!(
            outcome,
            Some(Event::ConnectFailed {
                reason: RejectReason::Timeout,
                ..
            })
        ));
        let waited = net.elapsed() - start;
        assert!(
            waited >= Duration::from_secs(30) && waited < Duration::from_millis(30_010),
            "{waited:?}"
        );
    });
}

#[test]
fn quiet_peer_breaks_after_peeridletimeo() {
    run_seeds(0..5, |seed| {
        let mut net = Network::new(seed, lossy(0.0));
        let server = net.add_endpoint(addr(SERVER));
        let client = net.add_endpoint(addr(CLIENT));
        net.endpoint(server)
            .listen(&SocketOptions::default(), 5)
            .unwrap();
        let now = net.now();
        let id = net
            .endpoint(client)
            .connect(now, addr(SERVER), &SocketOptions::default())
            .unwrap();
        assert_eq!(
            connect_outcome(&mut net, client, id, Duration::from_secs(3)),
            Some(Event::Connected { socket: id })
        );
        // Connected and idle: keepalives hold it up for a long time.
        net.run_for(Duration::from_secs(20));
        assert_eq!(
            net.endpoint(client).connection(id).unwrap().state(),
            ConnState::Connected
        );
        // Then the server goes quiet (everything it sends is lost).
        net.set_link(
            addr(SERVER),
            addr(CLIENT),
            LinkConfig {
                loss: 1.0,
                ..LinkConfig::default()
            },
        );
        let quiet_since = net.elapsed();
        let broken = |net: &mut Network| {
            net.events(client)
                .iter()
                .any(|e| matches!(e, Event::Broken { .. }))
        };
        assert!(net.run_until(Duration::from_secs(20), broken));
        assert!(net.events(client).contains(&Event::Broken {
            socket: id,
            cause: BreakCause::PeerIdle
        }));
        // The last packet heard arrived at most a keepalive period (1 s) plus
        // the link's delay and jitter (220 ms) before the link went quiet;
        // the idle timeout is 5 s.
        let waited = net.elapsed() - quiet_since;
        assert!(
            waited > Duration::from_millis(3_700) && waited <= Duration::from_secs(5),
            "{waited:?}"
        );
    });
}

/// One busy scenario: a listener, three callers (one refused), a rendezvous
/// pair, all over lossy, jittery links.
fn scenario(seed: u64) -> ([u8; 20], u64) {
    let mut net = Network::new(seed, lossy(0.2));
    let server = net.add_endpoint(addr(SERVER));
    net.endpoint(server)
        .listen(&SocketOptions::default(), 5)
        .unwrap();
    net.endpoint(server)
        .set_accept_hook(Some(Box::new(|req, _| {
            if req.stream_id == b"no" {
                Err(RejectReason::Server(1403))
            } else {
                Ok(())
            }
        })))
        .unwrap();
    let callers: Vec<NodeId> = (0..3)
        .map(|i| net.add_endpoint(format!("127.0.1.{i}:5000").parse().unwrap()))
        .collect();
    let now = net.now();
    for (i, node) in callers.iter().enumerate() {
        let s = if i == 1 { "no" } else { "yes" };
        net.endpoint(*node)
            .connect(now, addr(SERVER), &sid(s))
            .unwrap();
    }
    let ra = net.add_endpoint(addr("127.0.2.1:7000"));
    let rb = net.add_endpoint(addr("127.0.2.2:7000"));
    net.endpoint(ra)
        .rendezvous(now, addr("127.0.2.2:7000"), &SocketOptions::default())
        .unwrap();
    net.endpoint(rb)
        .rendezvous(now, addr("127.0.2.1:7000"), &SocketOptions::default())
        .unwrap();
    net.run_for(Duration::from_secs(15));
    (net.transmit_digest(), net.datagrams_sent())
}

#[test]
fn same_seed_same_bytes() {
    let (d1, n1) = scenario(42);
    let (d2, n2) = scenario(42);
    assert!(n1 > 50, "only {n1} datagrams");
    assert_eq!((d1, n1), (d2, n2), "two runs with seed 42 differ");
    let (d3, _) = scenario(43);
    assert_ne!(d1, d3, "seeds 42 and 43 gave identical runs");
}
