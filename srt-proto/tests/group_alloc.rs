//! A socket group of two members in steady state allocates nothing:
//! broadcast (every message on both members, each delivered once) and
//! backup (one active member, the group's sender buffer), over lossy
//! links, with the group's sending, receiving and stability checks.
//! Counted with a counting allocator.

use srt_proto::group::{
    Admitted, Group, GroupConfig, GroupListener, GroupType, MemberKey, MemberState, MemberTarget,
};
use srt_proto::{Endpoint, EndpointConfig, MsgCtrl, SocketOptions};
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// Endpoints 0 and 1 call, endpoint 2 listens; each caller has its own
/// link (5 ms, every 23rd datagram to the listener lost), in virtual time.
struct Net {
    now: Instant,
    eps: Vec<Endpoint>,
    in_flight: VecDeque<(Instant, usize, usize, usize, [u8; 1500])>,
    count: u64,
}

impl Net {
    fn pump(&mut self) {
        let mut buf = [0u8; 1500];
        for from in 0..self.eps.len() {
            while let Some(t) = self.eps[from].poll_transmit(self.now, &mut buf) {
                self.count += 1;
                let Some(to) = self
                    .eps
                    .iter()
                    .position(|e| e.local_addr() == t.destination)
                else {
                    continue;
                };
                if to == 2 && self.count % 23 == 0 {
                    continue;
                }
                self.in_flight.push_back((
                    self.now + Duration::from_millis(5),
                    from,
                    to,
                    t.size,
                    buf,
                ));
            }
        }
        while self.in_flight.front().is_some_and(|p| p.0 <= self.now) {
            let (_, from, to, n, bytes) = self.in_flight.pop_front().unwrap();
            let src = self.eps[from].local_addr();
            self.eps[to].handle_datagram(self.now, src, &bytes[..n]);
        }
        for ep in &mut self.eps {
            ep.handle_timeout(self.now);
            while ep.poll_event().is_some() {}
        }
    }
}

fn group_steady_state_allocates_nothing(kind: GroupType) {
    let now = Instant::now();
    let addrs: [SocketAddr; 3] = [
        "127.0.0.1:5001".parse().unwrap(),
        "127.0.0.1:5002".parse().unwrap(),
        "127.0.0.1:9000".parse().unwrap(),
    ];
    let mut net = Net {
        now,
        eps: (0..3)
            .map(|i| Endpoint::new(EndpointConfig::seeded(i as u64), addrs[i], now))
            .collect(),
        in_flight: VecDeque::with_capacity(100_000),
        count: 0,
    };
    let opts = SocketOptions {
        sndbuf_pkts: 1024,
        rcvbuf_pkts: 1024,
        groupconnect: true,
        ..SocketOptions::live()
    };
    net.eps[2].listen(&opts, 4).unwrap();
    let mut tx = net.eps[0].new_group(GroupConfig::new(kind, &opts));
    let targets = [
        MemberTarget {
            endpoint: 0,
            remote: addrs[2],
            weight: 10,
        },
        MemberTarget {
            endpoint: 1,
            remote: addrs[2],
            weight: 5,
        },
    ];
    tx.connect(now, &mut net.eps[..], &targets, &opts).unwrap();
    let mut listener = GroupListener::new(&opts);
    for _ in 0..500 {
        net.now += Duration::from_millis(1);
        net.pump();
        while let Some(socket) = net.eps[2].accept() {
            let key = MemberKey {
                endpoint: 2,
                socket,
            };
            let conn = net.eps[2].connection(socket).unwrap();
            assert!(matches!(
                listener.admit(key, conn),
                Admitted::NewGroup(0) | Admitted::Joined(0)
            ));
        }
        tx.handle_timeout(net.now, &mut net.eps[..]);
        if let Some(rx) = listener.group(0) {
            rx.handle_timeout(net.now, &mut net.eps[..]);
        }
    }
    assert!(tx.is_connected());
    assert_eq!(tx.members().count(), 2);
    assert!(tx.members().all(|m| m.state != MemberState::Pending));
    let payload = [7u8; 1316];
    let mut out = [0u8; 1500];
    // 1 message per ms for `ms` milliseconds; returns deliveries.
    let mut run = |net: &mut Net, tx: &mut Group, listener: &mut GroupListener, ms: u32| {
        let mut delivered = 0u64;
        for _ in 0..ms {
            net.now += Duration::from_millis(1);
            tx.send(net.now, &mut net.eps[..], &payload, &MsgCtrl::default())
                .unwrap();
            net.pump();
            if tx.poll_timeout().is_some_and(|t| t <= net.now) {
                tx.handle_timeout(net.now, &mut net.eps[..]);
            }
            let rx = listener.group(0).unwrap();
            if rx.poll_timeout().is_some_and(|t| t <= net.now) {
                rx.handle_timeout(net.now, &mut net.eps[..]);
            }
            while rx.recv(net.now, &mut net.eps[..], &mut out).is_some() {
                delivered += 1;
            }
            while tx.poll_event().is_some() {}
            while rx.poll_event().is_some() {}
        }
        delivered
    };
    run(&mut net, &mut tx, &mut listener, 3000);
    let mut delivered = 0;
    let counts = allocation_counter::measure(|| {
        delivered = run(&mut net, &mut tx, &mut listener, 5000);
    });
    assert!(delivered > 4900, "only {delivered} delivered");
    let rx = listener.group(0).unwrap().stats();
    assert_eq!(rx.dropped, 0);
    if kind == GroupType::Broadcast {
        assert!(rx.discarded > 4000, "the second copies: {rx:?}");
    }
    assert_eq!(
        counts.count_total, 0,
        "allocations in steady state: {counts:?}"
    );
}

#[test]
fn broadcast_group_of_two_allocates_nothing() {
    group_steady_state_allocates_nothing(GroupType::Broadcast);
}

#[test]
fn backup_group_of_two_allocates_nothing() {
    group_steady_state_allocates_nothing(GroupType::Backup);
}
