//! Two endpoints joined by a wire with a fixed delay (loss-free unless
//! `drop_every` is set), in virtual time, driven the way a real driver
//! drives them, with the fuzz checks
//! built in: no driver turn may emit more than [`MAX_BURST`] datagrams,
//! and the heap may not grow more than [`MAX_HEAP_GROWTH`] past a baseline.

use crate::alloc::live_bytes;
use srt_proto::packet::{ControlBody, HandshakeType, Packet, SocketId};
use srt_proto::seq::{MsgNumber, SeqNumber, Timestamp};
use srt_proto::{Endpoint, EndpointConfig, Event};
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// One-way delay of the wire.
pub const DELAY: Duration = Duration::from_millis(5);
/// The most datagrams one endpoint may emit in one driver turn
/// (`poll_transmit` until `None`). Honest runs of the targets' settings
/// stay far below (a few hundred at most: a flow window of 256 packets).
pub const MAX_BURST: usize = 2048;
/// How much the heap may grow past [`Harness::set_heap_baseline`]: the
/// targets' buffers hold 256 packets each side, a few hundred KiB.
pub const MAX_HEAP_GROWTH: usize = 32 << 20;
/// The most driver steps one `run_*` call may take (virtual-time steps,
/// each one due timer or arrival): a work bound that needs no wall clock.
pub const MAX_STEPS_PER_SECOND: u64 = 20_000;

/// What one side was last seen sending (the harness decodes all traffic),
/// so that hostile packets can be built relative to the live state.
#[derive(Clone, Copy, Debug, Default)]
pub struct Seen {
    /// The socket ID this side's packets are addressed to (the peer's).
    pub dest: Option<SocketId>,
    /// This side's own socket ID, from its handshakes.
    pub own: Option<SocketId>,
    /// The ISN of its handshakes.
    pub isn: Option<SeqNumber>,
    /// The highest data sequence number sent.
    pub data_seq: Option<SeqNumber>,
    /// That data packet's message number.
    pub msg: Option<MsgNumber>,
    /// The last packet's timestamp.
    pub ts: Option<Timestamp>,
    /// The last ACK's number.
    pub ack_number: Option<u32>,
    /// The last ACK's sequence number.
    pub ack_seq: Option<SeqNumber>,
}

impl Seen {
    fn observe(&mut self, bytes: &[u8]) {
        let Ok(packet) = Packet::decode(bytes) else {
            return;
        };
        if packet.dest_socket().0 != 0 {
            self.dest = Some(packet.dest_socket());
        }
        self.ts = Some(packet.timestamp());
        match packet {
            // The highest sequence sent (a retransmission is older).
            Packet::Data(d) => {
                if self.data_seq.is_none_or(|s| d.seq.offset_from(s) > 0) {
                    self.data_seq = Some(d.seq);
                    self.msg = Some(d.msg_number);
                }
            }
            Packet::Control(c) => match c.body {
                ControlBody::Ack(a) => {
                    self.ack_number = Some(a.ack_number);
                    self.ack_seq = Some(a.ack_seq);
                }
                ControlBody::Handshake(h)
                    if h.socket_id != 0 && !matches!(h.req_type, HandshakeType::Rejection(_)) =>
                {
                    self.own = Some(SocketId(h.socket_id));
                    self.isn = Some(h.isn);
                }
                _ => {}
            },
        }
    }
}

struct Flight {
    due: Instant,
    to: usize,
    from: SocketAddr,
    bytes: Vec<u8>,
}

/// Two endpoints, `eps[0]` and `eps[1]`, on a wire.
pub struct Harness {
    /// The endpoints.
    pub eps: [Endpoint; 2],
    /// The current virtual time.
    pub now: Instant,
    /// When set, what `eps[1]` sends to `eps[0]` is held in `held` for
    /// the fuzz input to deliver, change or drop, instead of the wire.
    pub hold_from_peer: bool,
    /// Datagrams held back (see `hold_from_peer`).
    pub held: Vec<Vec<u8>>,
    /// What each side was last seen sending.
    pub seen: [Seen; 2],
    /// The events each side reported.
    pub events: [Vec<Event>; 2],
    /// The most datagrams one driver turn emitted so far.
    pub max_burst: usize,
    /// When not 0, every this-many-th datagram `eps[0]` sends to `eps[1]`
    /// is lost on the wire (losses for a packet filter to repair).
    pub drop_every: u32,
    sent_forward: u32,
    wire: VecDeque<Flight>,
    buf: Vec<u8>,
    heap_baseline: Option<usize>,
}

impl Harness {
    /// Endpoints at `addrs` with `configs`, at virtual time `now`.
    pub fn new(configs: [EndpointConfig; 2], addrs: [SocketAddr; 2], now: Instant) -> Self {
        let [c0, c1] = configs;
        Harness {
            eps: [
                Endpoint::new(c0, addrs[0], now),
                Endpoint::new(c1, addrs[1], now),
            ],
            now,
            hold_from_peer: false,
            held: Vec::new(),
            seen: [Seen::default(); 2],
            events: [Vec::new(), Vec::new()],
            max_burst: 0,
            drop_every: 0,
            sent_forward: 0,
            wire: VecDeque::new(),
            buf: vec![0; 2048],
            heap_baseline: None,
        }
    }

    /// The address of side `i`.
    pub fn addr(&self, i: usize) -> SocketAddr {
        self.eps[i].local_addr()
    }

    /// From now on the heap may grow at most [`MAX_HEAP_GROWTH`] past
    /// what it holds now.
    pub fn set_heap_baseline(&mut self) {
        self.heap_baseline = Some(live_bytes());
    }

    /// Panics if the heap grew past the bound.
    pub fn check_heap(&self) {
        if let Some(base) = self.heap_baseline {
            let live = live_bytes();
            assert!(
                live <= base + MAX_HEAP_GROWTH,
                "heap grew by {} bytes (bound {MAX_HEAP_GROWTH})",
                live - base
            );
        }
    }

    /// Hands `bytes` to side `to` as if from `from`, now.
    pub fn deliver(&mut self, to: usize, from: SocketAddr, bytes: &[u8]) {
        let now = self.now;
        self.eps[to].handle_datagram(now, from, bytes);
        self.flush();
    }

    /// One driver turn for every side: send what each has to send (at most
    /// [`MAX_BURST`] datagrams each) and collect its events.
    pub fn flush(&mut self) {
        for i in 0..2 {
            let mut burst = 0;
            while let Some(t) = self.eps[i].poll_transmit(self.now, &mut self.buf) {
                burst += 1;
                assert!(
                    burst <= MAX_BURST,
                    "side {i} emitted more than {MAX_BURST} datagrams in one driver turn"
                );
                assert!(t.size <= self.buf.len(), "transmit larger than the buffer");
                let bytes = self.buf[..t.size].to_vec();
                self.seen[i].observe(&bytes);
                let Some(to) = (0..2).find(|&j| j != i && self.addr(j) == t.destination) else {
                    continue; // to an address nobody listens on
                };
                if i == 0 && self.drop_every != 0 {
                    self.sent_forward = self.sent_forward.wrapping_add(1);
                    if self.sent_forward % self.drop_every == 0 {
                        continue;
                    }
                }
                if self.hold_from_peer && i == 1 {
                    if self.held.len() < 64 {
                        self.held.push(bytes);
                    }
                } else {
                    self.wire.push_back(Flight {
                        due: self.now + DELAY,
                        to,
                        from: self.addr(i),
                        bytes,
                    });
                }
            }
            self.max_burst = self.max_burst.max(burst);
            while let Some(e) = self.eps[i].poll_event() {
                if self.events[i].len() < 4096 {
                    self.events[i].push(e);
                }
            }
        }
        self.check_heap();
    }

    fn next_due(&self) -> Option<Instant> {
        let timers = self.eps.iter().filter_map(Endpoint::poll_timeout);
        timers.chain(self.wire.front().map(|f| f.due)).min()
    }

    /// Advances to the next due moment (not past `limit`) and processes it;
    /// false when nothing is due before `limit` (time is then `limit`).
    pub fn step(&mut self, limit: Instant) -> bool {
        self.flush();
        let Some(next) = self.next_due().filter(|t| *t <= limit) else {
            self.now = self.now.max(limit);
            return false;
        };
        self.now = self.now.max(next);
        let now = self.now;
        while self.wire.front().is_some_and(|f| f.due <= now) {
            let f = self.wire.pop_front().expect("front exists");
            self.eps[f.to].handle_datagram(now, f.from, &f.bytes);
        }
        for ep in &mut self.eps {
            if ep.poll_timeout().is_some_and(|t| t <= now) {
                ep.handle_timeout(now);
            }
        }
        self.flush();
        true
    }

    /// Runs for `d` of virtual time.
    pub fn run_for(&mut self, d: Duration) {
        self.run_until(d, |_| false);
    }

    /// Runs until `done` holds or `d` of virtual time passes; whether
    /// `done` held. Panics if it takes more than
    /// [`MAX_STEPS_PER_SECOND`] steps per second of virtual time (a timer
    /// that keeps firing without time moving).
    pub fn run_until(&mut self, d: Duration, mut done: impl FnMut(&mut Self) -> bool) -> bool {
        let end = self.now + d;
        let max_steps = 100 + MAX_STEPS_PER_SECOND * d.as_millis() as u64 / 1000;
        let mut steps = 0;
        loop {
            if done(self) {
                return true;
            }
            if !self.step(end) {
                return done(self);
            }
            steps += 1;
            assert!(
                steps <= max_steps,
                "more than {max_steps} driver steps in {d:?} of virtual time"
            );
        }
    }
}
