//! An endpoint as listener (accepting at once, or deferring each request
//! as an `Event::Incoming` that the input accepts, with the listener's or
//! other options, or refuses), caller or rendezvous party, fed a sequence of
//! datagrams chosen by the input: the honest peer's own datagrams
//! (delivered, replayed, dropped, bit-flipped, or handshakes with changed
//! fields and extensions), hostile packets aimed at its sockets, packets
//! from other addresses, application calls, time steps and stretches of
//! honest network. The peer's datagrams are held for the input to
//! deliver, so handshakes progress as far as the input lets them.
//! Checks: no panic; no driver turn emits more than `MAX_BURST`
//! datagrams; the heap stays within `MAX_HEAP_GROWTH`; bounded steps per
//! second of virtual time; at most `max_connections` connections.

#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use srt_fuzz::harness::Harness;
use srt_fuzz::hostile::{Aim, Hostile, HsMutation};
use srt_proto::packet::{ControlBody, Packet, RejectReason};
use srt_proto::{CloseMode, EndpointConfig, Event, IncomingId, MsgCtrl, SocketOptions};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Role {
    Listener,
    /// `listen_deferred`: requests wait for `App::AcceptIncoming` or
    /// `App::RefuseIncoming`.
    DeferredListener,
    Caller,
    Rendezvous,
}

#[derive(Arbitrary, Debug)]
enum App {
    Send(u16),
    Recv,
    Close(bool),
    Connect,
    Accept,
    StopListening,
    /// Accept the `i`-th (mod the count) request seen as `Event::Incoming`
    /// (answered or not: a stale one must fail cleanly), with the
    /// listener's options or with the other side's (a passphrase that may
    /// not match).
    AcceptIncoming(u8, bool),
    /// Refuse it with this reject code.
    RefuseIncoming(u8, u16),
    /// Look at it (`Endpoint::incoming`).
    Incoming(u8),
}

#[derive(Arbitrary, Debug)]
enum Op {
    /// Deliver the peer's held datagram `i` (mod the count) and forget it.
    Deliver(u8),
    /// Deliver it and keep it (a duplicate later).
    Replay(u8),
    /// Forget it (loss).
    Drop(u8),
    /// Deliver it with one byte changed (position, xor).
    Flip(u8, u16, u8),
    /// Deliver it, a handshake with changed fields and extensions.
    Mutate(u8, HsMutation),
    /// A hostile packet aimed at the endpoint's socket from the peer.
    Hostile(Hostile),
    /// A hostile packet from another address (127.0.0.3, port chosen).
    Elsewhere(u16, Hostile),
    /// Let virtual time pass (ms).
    Advance(u16),
    /// Deliver everything held, and the peer's datagrams as they come,
    /// for this many ms (a stretch of honest network).
    Honest(u8),
    /// An application call on the endpoint under test.
    App(App),
}

#[derive(Arbitrary, Debug)]
struct Input {
    role: Role,
    file: bool,
    /// 0: clear; 1: both with the same passphrase; 2: different
    /// passphrases; 3: only the peer has one.
    secrets: u8,
    stream_id: Vec<u8>,
    seed: u8,
    ops: Vec<Op>,
}

const MAX_CONNECTIONS: usize = 4;

fn options(file: bool, passphrase: Option<&str>, sid: &[u8]) -> SocketOptions {
    let mut o = if file {
        SocketOptions::file()
    } else {
        SocketOptions::live()
    };
    if let Some(p) = passphrase {
        o = o.passphrase(p).expect("valid passphrase");
    }
    if let Ok(with_sid) = o.clone().stream_id(sid) {
        o = with_sid;
    }
    o
}

fuzz_target!(|input: Input| {
    let start = Instant::now();
    let addrs: [SocketAddr; 2] = [
        "127.0.0.1:4000".parse().unwrap(),
        "127.0.0.2:5000".parse().unwrap(),
    ];
    let (mine, theirs) = match input.secrets % 4 {
        0 => (None, None),
        1 => (Some("fuzzing passphrase"), Some("fuzzing passphrase")),
        2 => (Some("fuzzing passphrase"), Some("another passphrase")),
        _ => (None, Some("fuzzing passphrase")),
    };
    let sid = &input.stream_id[..input.stream_id.len().min(600)];
    let my_opts = options(input.file, mine, sid);
    let peer_opts = options(input.file, theirs, sid);
    let config = |seed: u64| {
        let mut c = EndpointConfig::seeded(seed);
        c.max_connections = MAX_CONNECTIONS;
        c.max_stateless_replies = 16;
        c
    };
    let seed = u64::from(input.seed);
    let mut h = Harness::new([config(seed), config(seed + 1000)], addrs, start);
    h.hold_from_peer = true;
    let mut mine_ids = Vec::new();
    match input.role {
        Role::Listener | Role::DeferredListener => {
            if matches!(input.role, Role::Listener) {
                h.eps[0].listen(&my_opts, 2).expect("listen");
            } else {
                h.eps[0].listen_deferred(&my_opts, 2).expect("listen");
            }
            h.eps[1]
                .connect(start, addrs[0], &peer_opts)
                .expect("connect");
        }
        Role::Caller => {
            h.eps[1].listen(&peer_opts, 2).expect("listen");
            mine_ids.push(
                h.eps[0]
                    .connect(start, addrs[1], &my_opts)
                    .expect("connect"),
            );
        }
        Role::Rendezvous => {
            h.eps[1]
                .rendezvous(start, addrs[0], &peer_opts)
                .expect("rendezvous");
            mine_ids.push(
                h.eps[0]
                    .rendezvous(start, addrs[1], &my_opts)
                    .expect("rendezvous"),
            );
        }
    }
    h.flush();
    h.set_heap_baseline();

    let mut out = vec![0u8; 2048];
    let mut rbuf = vec![0u8; 65536];
    // The requests a deferring listener reported, and how far its events
    // were looked through.
    let mut requests: Vec<IncomingId> = Vec::new();
    let mut events_seen = 0;
    for op in input.ops.iter().take(512) {
        for e in &h.events[0][events_seen..] {
            if let Event::Incoming { request } = e {
                if requests.len() < 64 {
                    requests.push(*request);
                }
            }
        }
        events_seen = h.events[0].len();
        let request =
            |i: u8| (!requests.is_empty()).then(|| requests[usize::from(i) % requests.len()]);
        let held = h.held.len();
        let pick = |i: u8| (held > 0).then(|| usize::from(i) % held);
        match op {
            Op::Deliver(i) => {
                if let Some(k) = pick(*i) {
                    let d = h.held.remove(k);
                    h.deliver(0, addrs[1], &d);
                }
            }
            Op::Replay(i) => {
                if let Some(k) = pick(*i) {
                    let d = h.held[k].clone();
                    h.deliver(0, addrs[1], &d);
                }
            }
            Op::Drop(i) => {
                if let Some(k) = pick(*i) {
                    h.held.remove(k);
                }
            }
            Op::Flip(i, pos, x) => {
                if let Some(k) = pick(*i) {
                    let mut d = h.held.remove(k);
                    if !d.is_empty() {
                        let n = d.len();
                        d[usize::from(*pos) % n] ^= x;
                    }
                    h.deliver(0, addrs[1], &d);
                }
            }
            Op::Mutate(i, m) => {
                if let Some(k) = pick(*i) {
                    let d = h.held.remove(k);
                    let mutated = match Packet::decode(&d) {
                        Ok(Packet::Control(mut c)) => {
                            if let ControlBody::Handshake(hs) = &mut c.body {
                                m.apply(hs);
                            }
                            Packet::Control(c).encode(&mut out).ok()
                        }
                        _ => None,
                    };
                    match mutated {
                        Some(n) => {
                            let bytes = out[..n].to_vec();
                            h.deliver(0, addrs[1], &bytes);
                        }
                        None => h.deliver(0, addrs[1], &d),
                    }
                }
            }
            Op::Hostile(p) => {
                let aim = Aim {
                    target: h.seen[0],
                    peer: h.seen[1],
                };
                if let Some(n) = p.build(&aim, &mut out) {
                    let bytes = out[..n].to_vec();
                    h.deliver(0, addrs[1], &bytes);
                }
            }
            Op::Elsewhere(port, p) => {
                let aim = Aim {
                    target: h.seen[0],
                    peer: h.seen[1],
                };
                if let Some(n) = p.build(&aim, &mut out) {
                    let from = SocketAddr::from(([127, 0, 0, 3], *port));
                    let bytes = out[..n].to_vec();
                    h.deliver(0, from, &bytes);
                }
            }
            Op::Advance(ms) => h.run_for(Duration::from_millis(u64::from(*ms))),
            Op::Honest(ms) => {
                for d in std::mem::take(&mut h.held) {
                    h.deliver(0, addrs[1], &d);
                }
                h.hold_from_peer = false;
                h.run_for(Duration::from_millis(u64::from(*ms)));
                h.hold_from_peer = true;
            }
            Op::App(app) => {
                let now = h.now;
                let id = mine_ids.last().copied();
                match app {
                    App::Send(len) => {
                        if let Some(id) = id {
                            let msg = vec![0x42; usize::from(*len) % 4000];
                            let _ = h.eps[0].send(now, id, &msg, &MsgCtrl::default());
                        }
                    }
                    App::Recv => {
                        if let Some(id) = id {
                            for _ in 0..1000 {
                                if !matches!(h.eps[0].recv(now, id, &mut rbuf), Ok(Some(_))) {
                                    break;
                                }
                            }
                        }
                    }
                    App::Close(abort) => {
                        if let Some(id) = id {
                            let mode = if *abort {
                                CloseMode::Abort
                            } else {
                                CloseMode::Linger
                            };
                            let _ = h.eps[0].close(now, id, mode);
                        }
                    }
                    App::Connect => {
                        if let Ok(id) = h.eps[0].connect(now, addrs[1], &my_opts) {
                            mine_ids.push(id);
                        }
                    }
                    App::Accept => {
                        if let Some(id) = h.eps[0].accept() {
                            mine_ids.push(id);
                        }
                    }
                    App::StopListening => h.eps[0].stop_listening(now),
                    App::AcceptIncoming(i, theirs) => {
                        if let Some(r) = request(*i) {
                            let opts = theirs.then_some(&peer_opts);
                            if let Ok(id) = h.eps[0].accept_incoming(now, r, opts) {
                                mine_ids.push(id);
                            }
                        }
                    }
                    App::RefuseIncoming(i, code) => {
                        if let Some(r) = request(*i) {
                            let reason = RejectReason::from_code(u32::from(*code));
                            let _ = h.eps[0].refuse_incoming(now, r, reason);
                        }
                    }
                    App::Incoming(i) => {
                        if let Some(r) = request(*i) {
                            if let Some(req) = h.eps[0].incoming(r) {
                                // Only addresses that sent something can be callers.
                                let ip = req.peer.ip().to_string();
                                assert!(
                                    ip == "127.0.0.2" || ip == "127.0.0.3",
                                    "a request from {}",
                                    req.peer
                                );
                            }
                        }
                    }
                }
                h.flush();
            }
        }
        assert!(
            h.eps[0].connection_count() <= MAX_CONNECTIONS,
            "{} connections, limit {MAX_CONNECTIONS}",
            h.eps[0].connection_count()
        );
    }
    // Whatever state it was left in, time may pass without a panic.
    h.run_for(Duration::from_secs(5));
});
