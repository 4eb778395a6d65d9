//! Options libsrt lets change on a connected socket reach the engine at
//! once: `SRTO_MAXBW` set on a live connection slows its sender, on the
//! caller (`set_option`) and on an accepted socket (`configure`) alike.

use srt_mio::{Context, SockStatus, SrtSocket};
use srt_proto::options::{OptionValue, SockOpt};
use std::net::SocketAddr;
use std::thread;
use std::time::{Duration, Instant};

/// What each side offers: 300 messages of 1316 bytes per second (~400 kB/s).
const OFFERED_PER_SEC: u64 = 300;
/// The cap set after connecting, bytes/s.
const CAP: i64 = 100_000;

/// Sends from `u` for `d` at [`OFFERED_PER_SEC`], without blocking (a full
/// send buffer refuses, the live source goes on); returns the bytes per
/// second the engine sent meanwhile (SRT_TRACEBSTATS byteSent, headers
/// included).
fn offer(ctx: &Context, u: SrtSocket, d: Duration) -> f64 {
    ctx.stats(u, true).unwrap();
    let start = Instant::now();
    let mut queued = 0u64;
    while start.elapsed() < d {
        // Catch up with the schedule after a late wake-up.
        let due = start.elapsed().as_micros() as u64 * OFFERED_PER_SEC / 1_000_000;
        while queued < due {
            let _ = ctx.send(u, &[0x5a; 1316]);
            queued += 1;
        }
        thread::sleep(Duration::from_millis(5));
    }
    let secs = start.elapsed().as_secs_f64();
    ctx.stats(u, true).unwrap().byte_sent as f64 / secs
}

#[test]
fn maxbw_set_on_connected_sockets_slows_both_senders() {
    let ctx = Context::new().unwrap();
    let l = ctx.create_socket().unwrap();
    ctx.bind(l, "127.0.0.1:0".parse::<SocketAddr>().unwrap())
        .unwrap();
    ctx.listen(l, 4).unwrap();
    let addr = ctx.local_addr(l).unwrap();
    let c = ctx.create_socket().unwrap();
    ctx.connect(c, addr).unwrap();
    let (a, _) = ctx.accept(l).unwrap();
    for u in [c, a] {
        assert_eq!(ctx.state(u), SockStatus::Connected);
        ctx.set_option(u, SockOpt::SndSyn, OptionValue::Bool(false))
            .unwrap();
    }

    // Both directions at once: uncapped (SRTO_MAXBW −1), everything offered goes out.
    let (from_c, from_a) = thread::scope(|s| {
        let t = s.spawn(|| offer(&ctx, a, Duration::from_millis(600)));
        (
            offer(&ctx, c, Duration::from_millis(600)),
            t.join().unwrap(),
        )
    });
    for (who, rate) in [("caller", from_c), ("accepted", from_a)] {
        assert!(rate > 2.0 * CAP as f64, "{who} sent {rate} B/s uncapped");
    }

    // Capped on the live connections: by srt_setsockopt on the caller, by
    // the typed builder on the accepted socket.
    ctx.set_option(c, SockOpt::MaxBw, OptionValue::Int64(CAP))
        .unwrap();
    ctx.configure(a, |o| o.max_bw(CAP)).unwrap();
    for u in [c, a] {
        // The engine's bandwidth (mbpsMaxBW) follows at once.
        let max = ctx.stats(u, false).unwrap().mbps_max_bw;
        assert_eq!(max, CAP as f64 * 8.0 / 1e6);
    }
    let (from_c, from_a) = thread::scope(|s| {
        let t = s.spawn(|| offer(&ctx, a, Duration::from_secs(1)));
        (offer(&ctx, c, Duration::from_secs(1)), t.join().unwrap())
    });
    for (who, rate) in [("caller", from_c), ("accepted", from_a)] {
        let cap = CAP as f64;
        assert!(
            rate < 1.5 * cap && rate > 0.5 * cap,
            "{who} sent {rate} B/s with SRTO_MAXBW {CAP}"
        );
    }
    // What the sender could not send waits in its buffer.
    let OptionValue::Int(waiting) = ctx.get_option(c, SockOpt::SndData).unwrap() else {
        panic!("SRTO_SNDDATA is an int");
    };
    assert!(waiting > 50, "{waiting} packets waiting");
}
