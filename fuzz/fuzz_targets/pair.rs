//! A connected pair (live, file message or file stream mode; clear,
//! AES-CTR or AES-GCM, optionally with fast key refresh) into which
//! hostile control and data packets are injected from the peer's address,
//! numbered relative to the live state. Checks: no panic; send and receive
//! buffers within their configured sizes; no driver turn
//! emits more than `MAX_BURST` datagrams; the heap stays within
//! `MAX_HEAP_GROWTH` of what the connected pair held; virtual time keeps
//! moving (bounded steps per second); and once the hostile packets stop,
//! an honest stream is delivered again within a few seconds.

#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use srt_fuzz::harness::Harness;
use srt_fuzz::hostile::{Aim, Hostile};
use srt_proto::options::{CryptoMode, OptionValue, SockOpt};
use srt_proto::packet::SocketId;
use srt_proto::{EndpointConfig, Event, MsgCtrl, SocketOptions};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Mode {
    Live,
    FileMessage,
    FileStream,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Crypto {
    Clear,
    Ctr,
    /// AES-GCM needs TSBPD: in file mode this is AES-CTR.
    Gcm,
}

#[derive(Arbitrary, Debug)]
enum Step {
    /// One hostile packet, to the sender (`true`) or the receiver.
    Inject(bool, Hostile),
    /// The same hostile packet `n` times.
    Repeat(bool, u8, Hostile),
    /// Honest traffic for this many milliseconds.
    Run(u8),
}

#[derive(Arbitrary, Debug)]
struct Input {
    mode: Mode,
    crypto: Crypto,
    fast_refresh: bool,
    seed: u8,
    steps: Vec<Step>,
}

/// Payload byte of the messages sent after the hostile phase.
const HONEST: u8 = 0xA5;
/// Payload byte of the messages sent during the hostile phase.
const EARLY: u8 = 0x5A;
const MSG_LEN: usize = 200;
/// Flow window, send and receive buffer sizes, packets.
const BUF_PKTS: i32 = 256;

fn options(input: &Input) -> SocketOptions {
    let mut o = match input.mode {
        Mode::Live => SocketOptions::live(),
        Mode::FileMessage | Mode::FileStream => SocketOptions::file(),
    };
    let set = |o: &mut SocketOptions, opt, v| o.set(opt, v).expect("valid option");
    set(&mut o, SockOpt::Fc, OptionValue::Int(BUF_PKTS));
    set(&mut o, SockOpt::SndBuf, OptionValue::Int(BUF_PKTS * 1456));
    set(&mut o, SockOpt::RcvBuf, OptionValue::Int(BUF_PKTS * 1456));
    if let Mode::FileMessage = input.mode {
        set(&mut o, SockOpt::MessageApi, OptionValue::Bool(true));
    }
    let mode = match (input.crypto, input.mode) {
        (Crypto::Clear, _) => None,
        (Crypto::Gcm, Mode::Live) => Some(CryptoMode::AesGcm),
        _ => Some(CryptoMode::AesCtr),
    };
    if let Some(mode) = mode {
        o = o
            .passphrase("fuzzing passphrase")
            .and_then(|o| o.crypto_mode(mode))
            .expect("valid crypto options");
        if input.fast_refresh {
            o = o
                .km_refresh_rate(128)
                .and_then(|o| o.km_preannounce(32))
                .expect("valid refresh options");
        }
    }
    o
}

struct Pair {
    h: Harness,
    sender: SocketId,
    receiver: SocketId,
    buf: Vec<u8>,
    honest_bytes: usize,
    next_send: Instant,
}

impl Pair {
    /// Sends one message every 10 ms of virtual time, reads everything
    /// that is ready on both sides.
    fn pump(&mut self, byte: u8) {
        let now = self.h.now;
        while self.next_send <= now {
            let msg = [byte; MSG_LEN];
            let _ = self.h.eps[0].send(now, self.sender, &msg, &MsgCtrl::default());
            self.next_send += Duration::from_millis(10);
        }
        for (side, id) in [(1, self.receiver), (0, self.sender)] {
            // The buffers stay within their configured sizes.
            if let Some(st) = self.h.eps[side].socket_stats_instant(now, id, false, true) {
                assert!(
                    (0..=BUF_PKTS).contains(&st.pkt_snd_buf),
                    "side {side}: {} packets in a send buffer of {BUF_PKTS}",
                    st.pkt_snd_buf
                );
                assert!(
                    (0..=BUF_PKTS).contains(&st.pkt_rcv_buf),
                    "side {side}: {} packets in a receive buffer of {BUF_PKTS}",
                    st.pkt_rcv_buf
                );
            }
            for _ in 0..10_000 {
                match self.h.eps[side].recv(now, id, &mut self.buf) {
                    Ok(Some(info)) => {
                        if side == 1 {
                            let got = &self.buf[..info.len.min(self.buf.len())];
                            self.honest_bytes += got.iter().filter(|&&b| b == HONEST).count();
                        }
                    }
                    _ => break,
                }
            }
        }
    }

    fn run(&mut self, d: Duration, byte: u8) {
        let end = self.h.now + d;
        while self.h.now < end {
            let slice = (end - self.h.now).min(Duration::from_millis(10));
            self.h.run_for(slice);
            self.pump(byte);
        }
    }

    fn broken(&self) -> Option<&Event> {
        self.h.events.iter().flatten().find(|e| {
            matches!(
                e,
                Event::Broken { .. } | Event::Closed { .. } | Event::ConnectFailed { .. }
            )
        })
    }
}

fuzz_target!(|input: Input| {
    let opts = options(&input);
    let live = matches!(input.mode, Mode::Live);
    let start = Instant::now();
    let addrs: [SocketAddr; 2] = [
        "127.0.0.1:4000".parse().unwrap(),
        "127.0.0.2:5000".parse().unwrap(),
    ];
    let config = |seed: u64| {
        let mut c = EndpointConfig::seeded(seed);
        c.max_connections = 4;
        c
    };
    let seed = u64::from(input.seed);
    let mut h = Harness::new([config(seed), config(seed + 1000)], addrs, start);
    h.eps[1].listen(&opts, 1).expect("listen");
    let sender = h.eps[0].connect(start, addrs[1], &opts).expect("connect");
    let connected = h.run_until(Duration::from_secs(3), |h| {
        h.events[0].contains(&Event::Connected { socket: sender })
    });
    assert!(connected, "the honest pair did not connect: {:?}", h.events);
    let receiver = h.eps[1].accept().expect("accepted");
    let mut pair = Pair {
        h,
        sender,
        receiver,
        buf: vec![0; 65536],
        honest_bytes: 0,
        next_send: start,
    };
    // Some traffic first, so that sequence and ACK numbers are live.
    pair.run(Duration::from_millis(100), EARLY);
    pair.h.set_heap_baseline();

    let mut disrupted = false;
    let mut out = vec![0u8; 2048];
    for step in input.steps.iter().take(256) {
        let (to_sender, packet, times) = match step {
            Step::Inject(s, p) => (*s, p, 1),
            Step::Repeat(s, n, p) => (*s, p, usize::from(*n)),
            Step::Run(ms) => {
                pair.run(Duration::from_millis(u64::from(*ms)), EARLY);
                continue;
            }
        };
        // The sender is side 0, the receiver side 1; the packet comes from
        // the other side's address.
        let (to, from) = if to_sender { (0, 1) } else { (1, 0) };
        let aim = Aim {
            target: pair.h.seen[to],
            peer: pair.h.seen[from],
        };
        let Some(len) = packet.build(&aim, &mut out) else {
            continue;
        };
        disrupted |= Hostile::may_disrupt(&out[..len], live, &aim);
        let from_addr = pair.h.addr(from);
        for _ in 0..times {
            pair.h.deliver(to, from_addr, &out[..len]);
        }
        pair.pump(EARLY);
    }

    // The hostile packets stop: an honest stream must flow again.
    pair.honest_bytes = 0;
    pair.run(Duration::from_secs(4), HONEST);
    if disrupted {
        return;
    }
    if let Some(e) = pair.broken() {
        panic!("the connection ended without a SHUTDOWN: {e:?}");
    }
    assert!(
        pair.honest_bytes >= 5 * MSG_LEN,
        "only {} bytes of the honest stream were delivered in 4 s after the hostile packets stopped",
        pair.honest_bytes
    );
});
