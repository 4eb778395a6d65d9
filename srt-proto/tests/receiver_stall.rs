//! A live receiver that is not scheduled for longer than its latency (a
//! loaded machine: the process stalls while its UDP queue fills) loses
//! nothing: the packets it reads after their delivery time are delivered
//! at once, in order, as libsrt does (core.cpp
//! `handleSocketPacketReception` treats only packets behind the buffer's
//! start as belated). Before, such packets were discarded as belated and
//! their gap dropped.

use srt_proto::{Endpoint, EndpointConfig, Event, MsgCtrl, SocketOptions};
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// Two endpoints over a lossless 1 ms link in virtual time; while
/// `stalled`, the receiver neither reads datagrams (they queue) nor runs
/// its timers nor is read by its application.
struct Pair {
    now: Instant,
    a: Endpoint,
    b: Endpoint,
    in_flight: VecDeque<(Instant, bool, Vec<u8>)>,
    stalled: bool,
}

impl Pair {
    fn pump(&mut self) {
        let mut buf = [0u8; 1500];
        for to_b in [true, false] {
            let ep = if to_b { &mut self.a } else { &mut self.b };
            if !to_b && self.stalled {
                continue;
            }
            while let Some(t) = ep.poll_transmit(self.now, &mut buf) {
                self.in_flight.push_back((
                    self.now + Duration::from_millis(1),
                    to_b,
                    buf[..t.size].to_vec(),
                ));
            }
        }
        let (a_addr, b_addr) = (self.a.local_addr(), self.b.local_addr());
        let mut kept = VecDeque::new();
        while let Some((at, to_b, bytes)) = self.in_flight.pop_front() {
            if at > self.now || (to_b && self.stalled) {
                kept.push_back((at, to_b, bytes));
            } else if to_b {
                self.b.handle_datagram(self.now, a_addr, &bytes);
            } else {
                self.a.handle_datagram(self.now, b_addr, &bytes);
            }
        }
        self.in_flight = kept;
        self.a.handle_timeout(self.now);
        if !self.stalled {
            self.b.handle_timeout(self.now);
        }
    }
}

/// 1 packet per ms; the receiver stalls for `stall` in the middle; returns
/// the sequence of delivered payload numbers.
fn stream_with_stall(stall: Duration) -> (u32, Vec<u32>, i64) {
    let now = Instant::now();
    let a_addr: SocketAddr = "127.0.0.1:5000".parse().unwrap();
    let b_addr: SocketAddr = "127.0.0.1:9000".parse().unwrap();
    let mut p = Pair {
        now,
        a: Endpoint::new(EndpointConfig::seeded(3), a_addr, now),
        b: Endpoint::new(EndpointConfig::seeded(4), b_addr, now),
        in_flight: VecDeque::new(),
        stalled: false,
    };
    let opts = SocketOptions::live(); // 120 ms latency, too-late drop on
    p.b.listen(&opts, 1).unwrap();
    let caller = p.a.connect(now, b_addr, &opts).unwrap();
    for _ in 0..200 {
        p.now += Duration::from_millis(1);
        p.pump();
    }
    assert!(std::iter::from_fn(|| p.a.poll_event()).any(|e| matches!(e, Event::Connected { .. })));
    let socket = p.b.accept().expect("accepted");
    let mut delivered = Vec::new();
    let mut out = [0u8; 1500];
    let total = 1500u32;
    let stall_at = 500u32;
    let stall_ms = stall.as_millis() as u32;
    for i in 0..total + 1000 {
        p.now += Duration::from_millis(1);
        if i < total {
            let mut payload = [0u8; 188];
            payload[..4].copy_from_slice(&i.to_be_bytes());
            p.a.send(p.now, caller, &payload, &MsgCtrl::default())
                .unwrap();
        }
        p.stalled = (stall_at..stall_at + stall_ms).contains(&i);
        p.pump();
        if !p.stalled {
            while let Some(info) = p.b.recv(p.now, socket, &mut out).unwrap() {
                assert_eq!(info.len, 188);
                delivered.push(u32::from_be_bytes(out[..4].try_into().unwrap()));
            }
        }
        while p.a.poll_event().is_some() {}
        while p.b.poll_event().is_some() {}
    }
    let dropped =
        p.b.socket_stats(p.now, socket, false)
            .map_or(-1, |s| i64::from(s.pkt_rcv_drop));
    (total, delivered, dropped)
}

#[test]
fn receiver_stalled_longer_than_latency_loses_nothing() {
    for stall in [150, 300, 1000] {
        let (total, delivered, dropped) = stream_with_stall(Duration::from_millis(stall));
        let expected: Vec<u32> = (0..total).collect();
        assert_eq!(delivered, expected, "stall of {stall} ms");
        assert_eq!(dropped, 0, "stall of {stall} ms");
    }
}
