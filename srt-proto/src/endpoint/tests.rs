//! Endpoint tests over a perfect, instant network (the lossy ones go
//! through the simulator).

use super::*;
use crate::connection::BreakCause;
use crate::options::SocketOptions;

fn addr(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

/// Two endpoints joined by a lossless link with 1 ms one-way delay.
pub(super) struct Pair {
    pub(super) now: Instant,
    pub(super) a: Endpoint,
    pub(super) b: Endpoint,
    in_flight: Vec<(Instant, SocketAddr, SocketAddr, Vec<u8>)>,
    events: Vec<(char, Event)>,
    /// Drop every datagram from A whose index is in this list.
    drop_from_a: Vec<usize>,
    sent_from_a: usize,
}

impl Pair {
    pub(super) fn new(seed: u64) -> Self {
        let now = Instant::now();
        let cfg = EndpointConfig::seeded;
        Pair {
            now,
            a: Endpoint::new(cfg(seed), addr(1000), now),
            b: Endpoint::new(cfg(seed + 1), addr(2000), now),
            in_flight: Vec::new(),
            events: Vec::new(),
            drop_from_a: Vec::new(),
            sent_from_a: 0,
        }
    }

    fn flush(&mut self) {
        let mut buf = [0u8; 1500];
        for (name, ep) in [('a', &mut self.a), ('b', &mut self.b)] {
            while let Some(t) = ep.poll_transmit(self.now, &mut buf) {
                let from = ep.local_addr();
                if name == 'a' {
                    self.sent_from_a += 1;
                    if self.drop_from_a.contains(&self.sent_from_a) {
                        continue;
                    }
                }
                self.in_flight.push((
                    self.now + Duration::from_millis(1),
                    from,
                    t.destination,
                    buf[..t.size].to_vec(),
                ));
            }
            while let Some(e) = ep.poll_event() {
                self.events.push((name, e));
            }
        }
    }

    /// Runs for `d` of virtual time.
    pub(super) fn run(&mut self, d: Duration) {
        let end = self.now + d;
        loop {
            self.flush();
            let next_packet = self.in_flight.iter().map(|p| p.0).min();
            let due = [next_packet, self.a.poll_timeout(), self.b.poll_timeout()];
            let Some(now) = advance(&mut self.now, end, due) else {
                return;
            };
            let (due, later): (Vec<_>, Vec<_>) = self.in_flight.drain(..).partition(|p| p.0 <= now);
            self.in_flight = later;
            for (_, from, to, bytes) in due {
                if to == self.a.local_addr() {
                    self.a.handle_datagram(now, from, &bytes);
                } else if to == self.b.local_addr() {
                    self.b.handle_datagram(now, from, &bytes);
                }
            }
            self.a.handle_timeout(now);
            self.b.handle_timeout(now);
        }
    }

    fn take_events(&mut self) -> Vec<(char, Event)> {
        std::mem::take(&mut self.events)
    }
}

/// Moves `now` to the earliest of `due` and returns it if that comes by
/// `end`; else moves `now` to `end` and returns `None`.
pub(super) fn advance(
    now: &mut Instant,
    end: Instant,
    due: [Option<Instant>; 3],
) -> Option<Instant> {
    let next = due.into_iter().flatten().min().filter(|t| *t <= end);
    *now = next.map_or(end, |t| (*now).max(t));
    next.map(|_| *now)
}

fn live() -> SocketOptions {
    SocketOptions::default()
}

fn with_sid(sid: &str) -> SocketOptions {
    SocketOptions::live().stream_id(sid).unwrap()
}

#[test]
fn caller_listener_connects_with_stream_id() {
    let mut p = Pair::new(1);
    p.b.listen(&live(), 5).unwrap();
    let id =
        p.a.connect(p.now, addr(2000), &with_sid("#!::r=live"))
            .unwrap();
    p.run(Duration::from_millis(50));
    let events = p.take_events();
    assert!(
        events.contains(&('a', Event::Connected { socket: id })),
        "{events:?}"
    );
    let accepted = p.b.accept().expect("accepted");
    assert!(events.contains(&('b', Event::Accepted { socket: accepted })));
    let server = p.b.connection(accepted).unwrap();
    assert_eq!(server.stream_id(), b"#!::r=live");
    assert_eq!(server.peer_id(), id.0);
    assert_eq!(p.a.connection(id).unwrap().peer_id(), accepted.0);
    let agreed = p.a.connection(id).unwrap().negotiated().unwrap().clone();
    assert_eq!(agreed.snd_latency, Some(Duration::from_millis(120)));
    // Induction is stateless: the listener made exactly one connection.
    assert_eq!(p.b.connection_count(), 1);
}

/// A chosen initial sequence number (`srt_connect_debug`) is the first
/// data packet's, on both ends, for a caller and for a rendezvous.
#[test]
fn forced_isn_numbers_the_first_packet() {
    let isn = SeqNumber::new(1000).unwrap();
    for rendezvous in [false, true] {
        let mut p = Pair::new(3);
        let opts = live();
        let (sender, receiver) = if rendezvous {
            let r = p.b.rendezvous(p.now, addr(1000), &opts).unwrap();
            let s = p.a.rendezvous_with_isn(p.now, addr(2000), &opts, Some(isn));
            (s.unwrap(), r)
        } else {
            p.b.listen(&opts, 5).unwrap();
            let s = p.a.connect_with_isn(p.now, addr(2000), &opts, Some(isn));
            p.run(Duration::from_millis(50));
            (s.unwrap(), p.b.accept().expect("accepted"))
        };
        p.run(Duration::from_millis(50));
        let now = p.now;
        let conn = p.a.connection_mut(sender).unwrap();
        conn.send(now, b"first", &MsgCtrl::default()).unwrap();
        p.run(Duration::from_millis(300));
        let mut out = [0u8; 64];
        let now = p.now;
        let got = p.b.connection_mut(receiver).unwrap().recv(now, &mut out);
        let info = got.unwrap().expect("delivered");
        assert_eq!(info.seq, isn, "rendezvous {rendezvous}");
    }
}

#[test]
fn lost_conclusion_answer_is_repeated() {
    let mut p = Pair::new(2);
    p.b.listen(&live(), 5).unwrap();
    // A's second datagram is its conclusion: lose it once, then the resend works.
    p.drop_from_a = vec![2];
    let id = p.a.connect(p.now, addr(2000), &live()).unwrap();
    p.run(Duration::from_secs(1));
    assert!(p
        .take_events()
        .contains(&('a', Event::Connected { socket: id })));
    assert_eq!(p.b.connection_count(), 1);
}

#[test]
fn listener_rejects_with_reason_and_caller_learns_it() {
    let mut p = Pair::new(3);
    p.b.listen(&live(), 5).unwrap();
    let file = SocketOptions::file();
    let id = p.a.connect(p.now, addr(2000), &file).unwrap();
    p.run(Duration::from_millis(100));
    let events = p.take_events();
    assert!(events.contains(&(
        'a',
        Event::ConnectFailed {
            socket: id,
            reason: RejectReason::MessageApi
        }
    )));
    assert_eq!(p.b.connection_count(), 0);
    assert_eq!(p.b.stats().rejected, 1);
}

#[test]
fn accept_hook_sees_stream_id_and_may_reject() {
    let mut p = Pair::new(4);
    p.b.listen(&live(), 5).unwrap();
    p.b.set_accept_hook(Some(Box::new(|req, config| {
        if req.stream_id == b"forbidden" {
            return Err(RejectReason::Server(1403));
        }
        config.rcvlatency = Duration::from_millis(500);
        Ok(())
    })))
    .unwrap();
    let bad =
        p.a.connect(p.now, addr(2000), &with_sid("forbidden"))
            .unwrap();
    let good = p.a.connect(p.now, addr(2000), &with_sid("ok")).unwrap();
    p.run(Duration::from_millis(100));
    let events = p.take_events();
    assert!(events.contains(&(
        'a',
        Event::ConnectFailed {
            socket: bad,
            reason: RejectReason::Server(1403)
        }
    )));
    assert!(events.contains(&('a', Event::Connected { socket: good })));
    // The hook raised the listener's receive latency; the caller sends with it.
    let agreed = p.a.connection(good).unwrap().negotiated().unwrap();
    assert_eq!(agreed.snd_latency, Some(Duration::from_millis(500)));
}

#[test]
fn backlog_full_rejects() {
    let mut p = Pair::new(5);
    p.b.listen(&live(), 1).unwrap();
    let first = p.a.connect(p.now, addr(2000), &live()).unwrap();
    p.run(Duration::from_millis(50));
    let second = p.a.connect(p.now, addr(2000), &live()).unwrap();
    p.run(Duration::from_millis(50));
    let events = p.take_events();
    assert!(events.contains(&('a', Event::Connected { socket: first })));
    assert!(events.contains(&(
        'a',
        Event::ConnectFailed {
            socket: second,
            reason: RejectReason::Backlog
        }
    )));
}

#[test]
fn silent_peer_times_out() {
    let mut p = Pair::new(6);
    // Nobody listens at B.
    let id = p.a.connect(p.now, addr(2000), &live()).unwrap();
    let start = p.now;
    p.run(Duration::from_secs(10));
    let events = p.take_events();
    assert_eq!(
        events,
        vec![(
            'a',
            Event::ConnectFailed {
                socket: id,
                reason: RejectReason::Timeout
            }
        )]
    );
    let _ = start;
}

#[test]
fn rendezvous_connects_both_ways() {
    let mut p = Pair::new(7);
    let a = p.a.rendezvous(p.now, addr(2000), &with_sid("rdv")).unwrap();
    let b = p.b.rendezvous(p.now, addr(1000), &live()).unwrap();
    p.run(Duration::from_millis(600));
    let events = p.take_events();
    assert!(
        events.contains(&('a', Event::Connected { socket: a })),
        "{events:?}"
    );
    assert!(
        events.contains(&('b', Event::Connected { socket: b })),
        "{events:?}"
    );
    assert_eq!(p.a.connection(a).unwrap().peer_id(), b.0);
    assert_eq!(p.b.connection(b).unwrap().peer_id(), a.0);
}

#[test]
fn idle_peer_breaks_and_shutdown_is_seen() {
    let mut p = Pair::new(8);
    p.b.listen(&live(), 5).unwrap();
    let id = p.a.connect(p.now, addr(2000), &live()).unwrap();
    p.run(Duration::from_millis(50));
    let server = p.b.accept().unwrap();
    // Keepalives keep both alive well past the idle timeout.
    p.run(Duration::from_secs(12));
    assert!(p
        .take_events()
        .iter()
        .all(|(_, e)| !matches!(e, Event::Broken { .. })));
    // A closes: B sees the SHUTDOWN.
    p.a.close(p.now, id, CloseMode::Abort).unwrap();
    p.run(Duration::from_millis(10));
    let events = p.take_events();
    assert!(events.contains(&('a', Event::Closed { socket: id })));
    assert!(events.contains(&(
        'b',
        Event::Broken {
            socket: server,
            cause: BreakCause::PeerShutdown
        }
    )));
    assert!(p.a.connection(id).is_none(), "closed socket forgotten");
}

/// A broken connection closed through `connection_mut` (as a group closes
/// its members) has nothing to send and no timer left: the endpoint still
/// forgets it at its next turn, rather than holding it for ever.
#[test]
fn a_broken_connection_closed_in_place_is_forgotten() {
    let mut p = Pair::new(9);
    p.b.listen(&live(), 5).unwrap();
    let id = p.a.connect(p.now, addr(2000), &live()).unwrap();
    p.run(Duration::from_millis(50));
    let server = p.b.accept().unwrap();
    p.a.close(p.now, id, CloseMode::Abort).unwrap();
    p.run(Duration::from_millis(10));
    assert_eq!(
        p.b.connection(server).map(|c| c.state()),
        Some(ConnState::Broken)
    );
    p.b.connection_mut(server)
        .unwrap()
        .close(p.now, CloseMode::Abort);
    p.run(Duration::from_millis(10));
    assert!(p.b.connection(server).is_none(), "closed socket forgotten");
    assert_eq!(p.b.connection_count(), 0);
    assert!(p
        .take_events()
        .contains(&('b', Event::Closed { socket: server })));
}

fn secret(pass: &str) -> SocketOptions {
    SocketOptions::live().passphrase(pass).unwrap()
}

#[test]
fn passphrases_agree_and_data_is_encrypted_on_the_wire() {
    use crate::packet::{DataKeyFlags, KmState, Packet};
    use crate::transfer::MsgCtrl;
    let mut p = Pair::new(21);
    p.b.listen(&secret("0123456789abcdef"), 5).unwrap();
    let id =
        p.a.connect(p.now, addr(2000), &secret("0123456789abcdef"))
            .unwrap();
    p.run(Duration::from_millis(50));
    assert!(p
        .take_events()
        .contains(&('a', Event::Connected { socket: id })));
    let server = p.b.accept().unwrap();
    assert_eq!(p.a.connection(id).unwrap().km_state(), KmState::Secured);
    assert_eq!(p.b.connection(server).unwrap().km_state(), KmState::Secured);
    // Data goes out encrypted and arrives as plaintext.
    let payload = [0x47u8; 188];
    p.a.send(p.now, id, &payload, &MsgCtrl::default()).unwrap();
    let mut buf = [0u8; 1500];
    let t = p.a.poll_transmit(p.now, &mut buf).unwrap();
    match Packet::decode(&buf[..t.size]).unwrap() {
        Packet::Data(d) => {
            assert_eq!(d.key, DataKeyFlags::Even);
            assert_ne!(d.payload, &payload[..], "payload sent in clear");
        }
        other => panic!("{other:?}"),
    }
    p.b.handle_datagram(p.now, addr(1000), &buf[..t.size]);
    p.run(Duration::from_millis(300));
    let info =
        p.b.recv(p.now, server, &mut buf)
            .unwrap()
            .expect("delivered");
    assert_eq!(&buf[..info.len], &payload[..]);
}

#[test]
fn wrong_or_missing_passphrase_is_refused() {
    use crate::packet::RejectReason;
    for (caller, listener, reason) in [
        (
            secret("0123456789abcdef"),
            secret("fedcba9876543210"),
            RejectReason::BadSecret,
        ),
        (secret("0123456789abcdef"), live(), RejectReason::Unsecure),
        (live(), secret("0123456789abcdef"), RejectReason::Unsecure),
    ] {
        let mut p = Pair::new(22);
        p.b.listen(&listener, 5).unwrap();
        let id = p.a.connect(p.now, addr(2000), &caller).unwrap();
        p.run(Duration::from_millis(100));
        let events = p.take_events();
        assert!(
            events.contains(&('a', Event::ConnectFailed { socket: id, reason })),
            "{reason:?}: {events:?}"
        );
    }
}

#[test]
fn entropy_makes_endpoints_with_the_same_seed_differ() {
    use crate::endpoint::{Endpoint, EndpointConfig};
    let now = std::time::Instant::now();
    let local: std::net::SocketAddr = "127.0.0.1:9000".parse().unwrap();
    let first_id = |entropy| {
        let config = match entropy {
            Some(entropy) => EndpointConfig::seeded_with_entropy(7, entropy),
            None => EndpointConfig::seeded(7),
        };
        let mut ep = Endpoint::new(config, local, now);
        let opts = crate::SocketOptions::default();
        ep.connect(now, "127.0.0.1:9001".parse().unwrap(), &opts)
            .unwrap()
    };
    // Reproducible from the seed alone (simulation)...
    assert_eq!(first_id(None), first_id(None));
    // ...and not with secret randomness mixed in.
    assert_ne!(first_id(Some([1; 32])), first_id(Some([2; 32])));
    assert_eq!(first_id(Some([1; 32])), first_id(Some([1; 32])));
}

#[test]
fn recv_ready_tells_whether_a_receive_delivers_and_rearms_readable() {
    let mut p = Pair::new(40);
    p.b.listen(&live(), 5).unwrap();
    let id = p.a.connect(p.now, addr(2000), &live()).unwrap();
    p.run(Duration::from_millis(50));
    let server = p.b.accept().expect("accepted");
    assert!(!p.b.recv_ready(p.now, server));
    p.a.send(p.now, id, b"one", &MsgCtrl::default()).unwrap();
    p.a.send(p.now, id, b"two", &MsgCtrl::default()).unwrap();
    p.take_events();
    // Delivered after the 120 ms latency.
    p.run(Duration::from_millis(200));
    let readable = |events: &[(char, Event)]| {
        events
            .iter()
            .filter(|e| **e == ('b', Event::Readable { socket: server }))
            .count()
    };
    assert_eq!(readable(&p.take_events()), 1);
    let mut buf = [0u8; 1500];
    assert!(p.b.recv_ready(p.now, server));
    assert!(p.b.recv(p.now, server, &mut buf).unwrap().is_some());
    assert!(p.b.recv_ready(p.now, server), "one more is ready");
    assert!(p.b.recv(p.now, server, &mut buf).unwrap().is_some());
    assert!(!p.b.recv_ready(p.now, server), "drained");
    // The check re-armed the event: a new message raises it again without
    // a receive that found nothing.
    p.a.send(p.now, id, b"three", &MsgCtrl::default()).unwrap();
    p.run(Duration::from_millis(200));
    assert_eq!(readable(&p.take_events()), 1);
    assert!(p.b.recv_ready(p.now, server));
    assert!(!p.b.recv_ready(p.now, SocketId(12345)));
}

mod hostile;
mod incoming;
