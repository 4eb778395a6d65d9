//! The schedule against the scan over every connection that it replaced:
//! over random operations on endpoints with many connections, the same
//! deadlines, datagrams and events; and the work of a turn.

use super::super::tests::{advance, Pair};
use super::super::*;
use crate::connection::CloseMode;
use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};

/// What both the schedule and the scan do first: the connections handed
/// out by `connection_mut` pass their events on, and are forgotten if they
/// were closed there with nothing left to send.
fn scan_collect_dirty(ep: &mut Endpoint, now: Instant) {
    while let Some(id) = ep.dirty.pop() {
        ep.collect_events(id, now);
    }
}

/// The scan `Endpoint::handle_timeout` did before the schedule.
fn scan_handle_timeout(ep: &mut Endpoint, now: Instant) {
    scan_collect_dirty(ep, now);
    let mut due: Vec<SocketId> = ep
        .connections
        .iter()
        .filter(|(_, c)| c.poll_timeout().is_some_and(|t| t <= now))
        .map(|(id, _)| *id)
        .collect();
    // In ascending ID order, as the schedule visits them.
    due.sort_unstable();
    for id in due {
        if let Some(conn) = ep.connections.get_mut(&id) {
            conn.handle_timeout(now);
        }
        ep.collect_events(id, now);
    }
}

/// The scan `Endpoint::poll_transmit` did before the schedule, with its
/// round-robin `cursor`.
fn scan_poll_transmit(
    ep: &mut Endpoint,
    cursor: &mut SocketId,
    now: Instant,
    buf: &mut [u8],
) -> Option<Transmit> {
    if let Some((destination, bytes)) = ep.stateless.pop_front() {
        buf[..bytes.len()].copy_from_slice(&bytes);
        return Some(Transmit {
            destination,
            size: bytes.len(),
        });
    }
    scan_collect_dirty(ep, now);
    loop {
        let start = *cursor;
        let mut ids: Vec<SocketId> = ep.connections.keys().copied().collect();
        ids.sort_unstable();
        let next = ids
            .iter()
            .filter(|id| **id > start)
            .chain(ids.iter().filter(|id| **id <= start))
            .copied()
            .find(|id| ep.connections[id].has_transmit(now))?;
        *cursor = next;
        let result = ep.connections.get_mut(&next)?.poll_transmit(now, buf);
        ep.collect_events(next, now);
        if let Ok(Some(t)) = result {
            return Some(t);
        }
    }
}

/// What one endpoint did: a datagram (destination, bytes) or an event.
#[derive(Debug, PartialEq)]
enum Output {
    Datagram(SocketAddr, Vec<u8>),
    Event(Event),
}

/// Callers on endpoint 0, a listener on endpoint 1, over a link with 1 ms
/// delay and 5% loss, driven through the schedule or through the scan.
struct Harness {
    scan: bool,
    now: Instant,
    eps: [Endpoint; 2],
    cursors: [SocketId; 2],
    sockets: [Vec<SocketId>; 2],
    in_flight: Vec<(Instant, usize, SocketAddr, Vec<u8>)>,
    rng: ChaCha8Rng,
    out: Vec<(usize, Output)>,
}

impl Harness {
    fn new(seed: u64, scan: bool) -> Self {
        let now = Instant::now();
        let cfg = EndpointConfig::seeded;
        let mut listener = Endpoint::new(cfg(seed + 1), addr(2), now);
        let paced = SocketOptions::live().max_bw(250_000).unwrap();
        listener.listen(&paced, 1000).unwrap();
        let mut h = Harness {
            scan,
            now,
            eps: [Endpoint::new(cfg(seed), addr(1), now), listener],
            cursors: [SocketId(0); 2],
            sockets: [Vec::new(), Vec::new()],
            in_flight: Vec::new(),
            rng: ChaCha8Rng::seed_from_u64(seed),
            out: Vec::new(),
        };
        for _ in 0..40 {
            h.connect();
        }
        h
    }

    fn poll_timeout(&self, i: usize) -> Option<Instant> {
        if self.scan {
            self.eps[i].scan_timeout()
        } else {
            self.eps[i].poll_timeout()
        }
    }

    /// Sends what both endpoints have to send and collects their events.
    fn flush(&mut self) {
        let mut buf = [0u8; 1500];
        for i in 0..2 {
            loop {
                let ep = &mut self.eps[i];
                let sent = if self.scan {
                    scan_poll_transmit(ep, &mut self.cursors[i], self.now, &mut buf)
                } else {
                    ep.poll_transmit(self.now, &mut buf)
                };
                let Some(t) = sent else { break };
                let bytes = buf[..t.size].to_vec();
                if self.rng.next_u32() % 20 != 0 {
                    let at = self.now + Duration::from_millis(1);
                    let from = self.eps[i].local_addr();
                    self.in_flight.push((at, 1 - i, from, bytes.clone()));
                }
                self.out.push((i, Output::Datagram(t.destination, bytes)));
            }
            while let Some(e) = self.eps[i].poll_event() {
                self.out.push((i, Output::Event(e)));
            }
        }
        while let Some(id) = self.eps[1].accept() {
            self.sockets[1].push(id);
        }
    }

    /// Runs the network for `d` of virtual time.
    fn run(&mut self, d: Duration) {
        let end = self.now + d;
        loop {
            self.flush();
            let next_packet = self.in_flight.iter().map(|p| p.0).min();
            let due = [next_packet, self.poll_timeout(0), self.poll_timeout(1)];
            let Some(now) = advance(&mut self.now, end, due) else {
                return;
            };
            let (due, later) = self.in_flight.drain(..).partition(|p| p.0 <= now);
            self.in_flight = later;
            for (_, to, from, bytes) in due {
                self.eps[to].handle_datagram(now, from, &bytes);
            }
            for i in 0..2 {
                // Control packets queued by the datagrams count too.
                assert_eq!(self.poll_timeout(i), self.eps[i].scan_timeout());
                if self.poll_timeout(i).is_some_and(|t| t <= now) {
                    if self.scan {
                        scan_handle_timeout(&mut self.eps[i], now);
                    } else {
                        self.eps[i].handle_timeout(now);
                    }
                }
            }
        }
    }

    /// A new caller on endpoint 0, up to 80; every other one paced at
    /// 1 Mbit/s, so that its packets wait for their sending time.
    fn connect(&mut self) {
        let n = self.sockets[0].len();
        if n < 80 {
            let mut opts = SocketOptions::live();
            if n % 2 == 1 {
                opts = opts.max_bw(125_000).unwrap();
            }
            let id = self.eps[0].connect(self.now, addr(2), &opts).unwrap();
            self.sockets[0].push(id);
        }
    }

    /// One random operation.
    fn step(&mut self) {
        let now = self.now;
        let op = self.rng.next_u32() % 64;
        let side = (self.rng.next_u32() % 2) as usize;
        let pick = self.rng.next_u32() as usize;
        let id = match self.sockets[side].len() {
            0 => SocketId(1),
            n => self.sockets[side][pick % n],
        };
        let ep = &mut self.eps[side];
        let payload = [op as u8; 1000];
        match op {
            0..=19 => self.run(Duration::from_micros(u64::from(pick as u16) / 3)),
            20..=23 => self.connect(),
            24..=43 => {
                for _ in 0..pick % 16 {
                    let _ = ep.send(now, id, &payload, &MsgCtrl::default());
                }
            }
            44..=51 => {
                let mut buf = [0u8; 1500];
                while let Ok(Some(_)) = ep.recv(now, id, &mut buf) {}
            }
            52 => {
                let mode = [CloseMode::Linger, CloseMode::Abort][pick % 2];
                let _ = ep.close(now, id, mode);
            }
            53..=54 => {
                let _ = ep.socket_stats(now, id, pick % 2 == 0);
            }
            // Re-arms the readable signal when nothing is ready (srt-mio).
            55 => {
                let _ = ep.recv_ready(now, id);
            }
            // Changes behind the endpoint's back.
            56..=58 => {
                if let Some(conn) = ep.connection_mut(id) {
                    let _ = conn.send(now, &payload, &MsgCtrl::default());
                }
            }
            59 => {
                if let Some(conn) = ep.connection_mut(id) {
                    conn.close(now, CloseMode::Abort);
                }
            }
            // Time passes, and the transmissions are polled without
            // handle_timeout (a driver may do so).
            60 => self.now += Duration::from_micros(u64::from(pick as u16) / 8),
            // Handed out and left unchanged.
            _ => {
                let _ = ep.connection_mut(id);
            }
        }
        self.flush();
    }
}

fn addr(host: u8) -> SocketAddr {
    SocketAddr::from(([10, 0, 0, host], 9000))
}

#[test]
fn timer_queue_equals_the_minimum_over_connections_after_every_step() {
    for seed in 0..4 {
        let mut h = Harness::new(seed, false);
        for step in 0..800 {
            h.step();
            for (i, ep) in h.eps.iter().enumerate() {
                assert_eq!(
                    ep.poll_timeout(),
                    ep.scan_timeout(),
                    "seed {seed}, step {step}, endpoint {i}"
                );
            }
        }
        assert!(h.sockets[1].len() > 20, "{} accepted", h.sockets[1].len());
    }
}

#[test]
fn schedule_sends_the_same_datagrams_and_events_as_the_scan() {
    for seed in 10..14 {
        let mut fast = Harness::new(seed, false);
        let mut scan = Harness::new(seed, true);
        let mut datagrams = 0;
        for step in 0..800 {
            fast.step();
            scan.step();
            assert_eq!(fast.out, scan.out, "seed {seed}, step {step}");
            datagrams += fast.out.len();
            fast.out.clear();
            scan.out.clear();
        }
        assert!(datagrams > 3000, "{datagrams} datagrams and events");
    }
}

#[test]
fn handle_timeout_with_1000_idle_connections_visits_only_the_due_one() {
    let mut p = Pair::new(7);
    p.b.listen(&SocketOptions::live(), 1000).unwrap();
    let first = p.a.connect(p.now, p.b.local_addr(), &SocketOptions::live());
    p.run(Duration::from_millis(100));
    for _ in 0..999 {
        p.a.connect(p.now, p.b.local_addr(), &SocketOptions::live())
            .unwrap();
    }
    p.run(Duration::from_millis(10));
    assert_eq!(p.b.connection_count(), 1000);
    // The first connection's keepalive is due 100 ms before the others'.
    let first_peer = p.a.connection(first.unwrap()).unwrap().peer_id();
    let due = p.b.poll_timeout().unwrap();
    let later = Some(due + Duration::from_millis(50));
    for (id, conn) in &p.b.connections {
        if id.0 == first_peer {
            assert_eq!(conn.poll_timeout(), Some(due));
            assert_eq!(conn.state(), ConnState::Connected);
        } else {
            assert!(conn.poll_timeout() > later);
        }
    }

    let before = p.b.connection_visits();
    p.b.handle_timeout(due);
    assert_eq!(p.b.connection_visits() - before, 1);
    let mut buf = [0u8; 1500];
    let keepalive = p.b.poll_transmit(due, &mut buf).expect("a keepalive");
    assert_eq!(keepalive.destination, p.a.local_addr());
    assert!(p.b.poll_transmit(due, &mut buf).is_none());
    assert_eq!(p.b.connection_visits() - before, 2);
    assert!(p.b.poll_timeout() > later);
}
