//! The timer table stays true to the state: two endpoints exchange live
//! and file traffic over a lossy, reordering link, driven on random
//! schedules (timeouts handled late, early and in between, sends and
//! receives at random times); after every step each connection's timers
//! are exactly what its state arms, and `poll_timeout` is the earliest.

use crate::connection::CloseMode;
use crate::packet::SocketId;
use crate::{Endpoint, EndpointConfig, MsgCtrl, SocketOptions};
use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

fn addr(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

/// Checks every connection of `ep`.
fn check(ep: &Endpoint, ids: &[SocketId]) {
    for id in ids {
        if let Some(c) = ep.connection(*id) {
            assert!(c.timers_in_sync(), "timers out of step with the state");
            assert_eq!(c.poll_timeout(), c.earliest_timer());
        }
    }
}

fn run(seed: u64, opts: &SocketOptions) -> (u64, u64) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut now = Instant::now();
    let mut a = Endpoint::new(EndpointConfig::seeded(seed), addr(1000), now);
    let mut b = Endpoint::new(EndpointConfig::seeded(seed + 1), addr(2000), now);
    b.listen(opts, 5).unwrap();
    let ca = a.connect(now, addr(2000), opts).unwrap();
    let mut cb = None;
    let mut link: Vec<(Instant, bool, Vec<u8>)> = Vec::new();
    let mut buf = [0u8; 1500];
    let mut out = [0u8; 1500];
    let (mut sent, mut got) = (0u64, 0u64);
    let end = now + Duration::from_secs(3);
    while now < end {
        let ids: Vec<SocketId> = [Some(ca), cb].into_iter().flatten().collect();
        // Transmit, lose 5% and delay 1..20 ms (so some arrive reordered).
        for (to_b, ep) in [(true, &mut a), (false, &mut b)] {
            while let Some(t) = ep.poll_transmit(now, &mut buf) {
                if rng.next_u32() % 20 != 0 {
                    let at = now + Duration::from_micros(1000 + u64::from(rng.next_u32() % 19_000));
                    link.push((at, to_b, buf[..t.size].to_vec()));
                }
            }
            while ep.poll_event().is_some() {}
        }
        check(&a, &ids);
        check(&b, &ids);
        if cb.is_none() {
            cb = b.accept();
        }
        // The next moment: a datagram, a timer, or a random time (a driver
        // that wakes late, early, or for its own reasons).
        let next_packet = link.iter().map(|p| p.0).min();
        let timer = [a.poll_timeout(), b.poll_timeout()]
            .into_iter()
            .flatten()
            .min();
        let wake = now + Duration::from_micros(u64::from(rng.next_u32() % 15_000));
        let step = match rng.next_u32() % 4 {
            0 => wake,
            1 => timer.map_or(wake, |t| {
                t + Duration::from_micros(u64::from(rng.next_u32() % 3000))
            }),
            _ => [next_packet, timer, Some(wake)]
                .into_iter()
                .flatten()
                .min()
                .unwrap_or(wake),
        };
        now = now.max(step);
        let (due, later): (Vec<_>, Vec<_>) = link.drain(..).partition(|p| p.0 <= now);
        link = later;
        for (_, to_b, bytes) in due {
            if to_b {
                b.handle_datagram(now, addr(1000), &bytes);
            } else {
                a.handle_datagram(now, addr(2000), &bytes);
            }
            check(&a, &ids);
            check(&b, &ids);
        }
        match rng.next_u32() % 3 {
            0 => a.handle_timeout(now),
            1 => b.handle_timeout(now),
            _ => {
                a.handle_timeout(now);
                b.handle_timeout(now);
            }
        }
        check(&a, &ids);
        check(&b, &ids);
        // The application: sends from A in bursts, reads B now and then.
        if rng.next_u32() % 3 == 0 {
            for _ in 0..rng.next_u32() % 8 {
                let len = 1 + rng.next_u32() as usize % 1000;
                let ctrl = MsgCtrl {
                    ttl: (rng.next_u32() % 8 == 0).then_some(Duration::from_millis(30)),
                    ..MsgCtrl::default()
                };
                if a.send(now, ca, &out[..len], &ctrl).is_ok() {
                    sent += 1;
                }
            }
        }
        if let Some(cb) = cb {
            if rng.next_u32() % 2 == 0 {
                while let Ok(Some(_)) = b.recv(now, cb, &mut out) {
                    got += 1;
                }
            }
            if rng.next_u32() % 5 == 0 {
                b.recv_ready(now, cb);
            }
        }
        check(&a, &ids);
        check(&b, &ids);
    }
    a.close(now, ca, CloseMode::Linger).unwrap();
    check(&a, &[ca]);
    (sent, got)
}

#[test]
fn poll_timeout_is_the_earliest_armed_timer_on_random_schedules() {
    let live = SocketOptions::live();
    let file = SocketOptions::file();
    let refresh = SocketOptions::live()
        .passphrase("timer table secret")
        .unwrap()
        .km_refresh_rate(64)
        .unwrap()
        .km_preannounce(16)
        .unwrap();
    let ttl = SocketOptions::live().tsbpd_mode(false).unwrap();
    for seed in 0..6 {
        for opts in [&live, &file, &refresh, &ttl] {
            let (sent, got) = run(seed, opts);
            assert!(sent > 0 && got > 0, "seed {seed}: sent {sent}, got {got}");
        }
    }
}
