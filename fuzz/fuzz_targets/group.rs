//! Socket groups under any sequence of member events: a caller group
//! (broadcast or backup) on two client endpoints and a listener with
//! `SRTO_GROUPCONNECT` whose `GroupListener` makes the receiving group,
//! in the simulator (reproducible from the input's seed). The input runs
//! the stream, bursts messages, aborts members, cuts and restores links,
//! joins members at run time, and connects stray callers with any GROUP
//! block (any ID, type, flags, weight; with or without the group bit).
//! Checks: no panic; the receiving group delivers each message at most
//! once and in order; its counters agree with what the application got;
//! the heap stays within `MAX_HEAP_GROWTH` of the connected start; a
//! stray caller with an invalid block is refused, never admitted.

#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use srt_proto::group::{
    Admitted, Group, GroupConfig, GroupListener, GroupType, MemberKey, MemberTarget,
};
use srt_proto::packet::GroupBlock;
use srt_proto::sim::link::LinkConfig;
use srt_proto::sim::Network;
use srt_proto::{CloseMode, ConnState, MsgCtrl, SeqNumber, SocketOptions};
use std::net::SocketAddr;
use std::time::Duration;

const MAX_HEAP_GROWTH: usize = 64 << 20;
const PAYLOAD: usize = 200;

#[derive(Arbitrary, Debug)]
enum Step {
    /// Run this many ms (×4), sending one message per ms.
    Run(u8),
    /// Up to 255 messages at once.
    Burst(u8),
    /// Abort the caller's member `i` (modulo the members).
    Close(u8),
    /// Cut (`true`) or restore the link of client `i` (modulo 2).
    Cut(u8, bool),
    /// A new member from client `i` with weight `w`.
    Join(u8, u16),
    /// A stray caller (its own endpoint) whose CONCLUSION carries `block`.
    Stray {
        group_id: u32,
        group_type: u8,
        flags: u8,
        weight: u16,
    },
}

#[derive(Arbitrary, Debug)]
struct Input {
    seed: u8,
    backup: bool,
    loss_pct: u8,
    steps: Vec<Step>,
}

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

fn link(loss: f64) -> LinkConfig {
    LinkConfig {
        loss,
        delay: Duration::from_millis(5),
        max_in_flight: 10_000,
        ..LinkConfig::default()
    }
}

struct World {
    net: Network,
    clients: [(usize, SocketAddr); 2],
    server: usize,
    tx: Group,
    listener: GroupListener,
    rx: Option<usize>,
    strays: Vec<(usize, srt_proto::SocketId, bool)>,
    sent: u64,
    next: u64,
    buf: [u8; 1500],
}

impl World {
    fn turn(&mut self) {
        let now = self.net.now();
        while let Some(socket) = self.net.endpoint(self.server).accept() {
            let key = MemberKey {
                endpoint: self.server,
                socket,
            };
            let conn = self.net.endpoint(self.server).connection(socket).unwrap();
            let remote = conn.remote();
            let ours = self.clients.iter().any(|c| c.1 == remote);
            match self.listener.admit(key, conn) {
                Admitted::NewGroup(i) | Admitted::Joined(i) if ours => {
                    assert_eq!(*self.rx.get_or_insert(i), i, "our members in two groups");
                }
                // A stray caller's valid block: a group of its own.
                Admitted::NewGroup(_) | Admitted::Joined(_) => {}
                Admitted::NotMember => panic!("a plain connection was accepted"),
            }
        }
        self.tx.handle_timeout(now, &mut self.net);
        for (_, g) in self.listener.iter_mut() {
            g.handle_timeout(now, &mut self.net);
        }
        if let Some(i) = self.rx {
            let g = self.listener.group(i).expect("the group");
            while let Some(info) = g.recv(now, &mut self.net, &mut self.buf) {
                assert_eq!(info.len, PAYLOAD);
                let n = u64::from_be_bytes(self.buf[..8].try_into().unwrap());
                assert!(n >= self.next, "message {n} after {}", self.next);
                self.next = n + 1;
            }
        }
        while self.tx.poll_event().is_some() {}
    }

    fn send(&mut self) {
        let now = self.net.now();
        let mut msg = [0u8; PAYLOAD];
        msg[..8].copy_from_slice(&self.sent.to_be_bytes());
        if self
            .tx
            .send(now, &mut self.net, &msg, &MsgCtrl::default())
            .is_ok()
        {
            self.sent += 1;
        }
    }

    fn run_ms(&mut self, ms: u32) {
        for _ in 0..ms {
            let until = self.net.now() + Duration::from_millis(1);
            while self.net.step(until) {}
            self.turn();
            self.send();
        }
    }
}

fuzz_target!(|input: Input| {
    let kind = if input.backup {
        GroupType::Backup
    } else {
        GroupType::Broadcast
    };
    let loss = f64::from(input.loss_pct % 30) / 100.0;
    let mut net = Network::new(u64::from(input.seed), link(loss));
    let server_addr = addr("127.0.0.1:9000");
    let server = net.add_endpoint(server_addr);
    let opts = SocketOptions {
        groupconnect: true,
        ..SocketOptions::live()
    };
    net.endpoint(server).listen(&opts, 8).unwrap();
    let clients = [
        (
            net.add_endpoint(addr("127.0.0.1:5001")),
            addr("127.0.0.1:5001"),
        ),
        (
            net.add_endpoint(addr("127.0.0.1:5002")),
            addr("127.0.0.1:5002"),
        ),
    ];
    let mut tx = net
        .endpoint(clients[0].0)
        .new_group(GroupConfig::new(kind, &SocketOptions::live()));
    let targets = [0, 1].map(|i| MemberTarget {
        endpoint: clients[i].0,
        remote: server_addr,
        weight: i as u16,
    });
    let now = net.now();
    tx.connect(now, &mut net, &targets, &SocketOptions::live())
        .unwrap();
    let mut w = World {
        net,
        clients,
        server,
        tx,
        listener: GroupListener::new(&opts),
        rx: None,
        strays: Vec::new(),
        sent: 0,
        next: 0,
        buf: [0; 1500],
    };
    w.run_ms(100);
    let heap = srt_fuzz::alloc::live_bytes();
    for step in input.steps.iter().take(64) {
        let now = w.net.now();
        match *step {
            Step::Run(n) => w.run_ms(u32::from(n) * 4),
            Step::Burst(n) => {
                for _ in 0..n {
                    w.send();
                }
            }
            Step::Close(i) => {
                let keys: Vec<_> = w.tx.members().map(|m| m.key).collect();
                let k = keys[usize::from(i) % keys.len()];
                let _ = w
                    .net
                    .endpoint(k.endpoint)
                    .close(now, k.socket, CloseMode::Abort);
            }
            Step::Cut(i, cut) => {
                let c = w.clients[usize::from(i) % 2].1;
                w.net
                    .set_links_between(c, server_addr, link(if cut { 1.0 } else { loss }));
            }
            Step::Join(i, weight) => {
                if w.tx.members().count() < 12 {
                    let node = w.clients[usize::from(i) % 2].0;
                    let t = MemberTarget {
                        endpoint: node,
                        remote: server_addr,
                        weight,
                    };
                    let _ = w.tx.connect(now, &mut w.net, &[t], &SocketOptions::live());
                }
            }
            Step::Stray {
                group_id,
                group_type,
                flags,
                weight,
            } => {
                if w.strays.len() < 4 {
                    let a = SocketAddr::from(([127, 0, 0, 3], 6000 + w.strays.len() as u16));
                    let node = w.net.add_endpoint(a);
                    let block = GroupBlock {
                        group_id,
                        group_type,
                        flags,
                        weight,
                    };
                    let valid = group_id & (1 << 30) != 0 && (1..=2).contains(&group_type);
                    let id = w
                        .net
                        .endpoint(node)
                        .connect_member(
                            now,
                            server_addr,
                            &SocketOptions::live(),
                            block,
                            SeqNumber::new_truncate(group_id >> 1),
                        )
                        .unwrap();
                    w.strays.push((node, id, valid));
                }
            }
        }
        w.turn();
        assert!(
            srt_fuzz::alloc::live_bytes() <= heap + MAX_HEAP_GROWTH,
            "heap grew by more than {MAX_HEAP_GROWTH}"
        );
    }
    w.run_ms(400);
    // A stray caller with an invalid block was refused.
    for &(node, id, valid) in &w.strays {
        if !valid {
            let st = w.net.endpoint(node).connection(id).map(|c| c.state());
            assert!(
                st != Some(ConnState::Connected),
                "an invalid GROUP block was accepted"
            );
        }
    }
    if let Some(i) = w.rx {
        let g = w.listener.group(i).expect("the group");
        assert!(g.stats().delivered <= w.sent);
    }
});
