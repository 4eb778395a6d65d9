//! One connection between two endpoints in memory, driven in turns of an
//! injected clock: the engine pair of `benches/engine.rs`, which
//! `tests/steady_state_alloc.rs` also runs to count allocations.
//!
//! Each turn the clock moves on by [`Case::tick`]; the sender queues its
//! messages, handles its timers and writes every datagram it has straight
//! into the link's preallocated slots (one datagram in a hundred is lost
//! in the lossy cases); the receiver handles them, its timers, writes its
//! control packets into the return slots and reads every message due; the
//! sender handles those. No socket, no copy between the two sides, nothing
//! allocated by the harness after [`Pair::new`].

use srt_proto::options::Passphrase;
use srt_proto::{
    CryptoMode, Endpoint, EndpointConfig, Event, MsgCtrl, SendError, SocketId, SocketOptions,
};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// Live or file mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Live: 1316-byte messages at a steady rate, TSBPD at 120 ms.
    Live,
    /// File: 1456-byte chunks of a byte stream as fast as FileCC lets them.
    File,
}

/// Encryption of a case.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Crypto {
    /// None.
    Plain,
    /// AES-128-CTR.
    Ctr,
    /// AES-128-GCM.
    Gcm,
}

/// One benchmark case.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Case {
    /// Its name in the report.
    pub name: &'static str,
    /// The transmission type.
    pub mode: Mode,
    /// Lost datagrams from the sender, per thousand.
    pub loss_per_mille: u32,
    /// Encryption.
    pub crypto: Crypto,
}

impl Case {
    /// Every case the engine benchmark reports.
    pub(crate) const ALL: [Case; 7] = [
        Case::new("live", Mode::Live, 0, Crypto::Plain),
        Case::new("live_loss1pct", Mode::Live, 10, Crypto::Plain),
        Case::new("live_aes128ctr", Mode::Live, 0, Crypto::Ctr),
        Case::new("live_aes128gcm", Mode::Live, 0, Crypto::Gcm),
        Case::new("file", Mode::File, 0, Crypto::Plain),
        Case::new("file_loss1pct", Mode::File, 10, Crypto::Plain),
        Case::new("file_aes128ctr", Mode::File, 0, Crypto::Ctr),
    ];

    const fn new(name: &'static str, mode: Mode, loss_per_mille: u32, crypto: Crypto) -> Case {
        Case {
            name,
            mode,
            loss_per_mille,
            crypto,
        }
    }

    /// How far the clock moves in one turn.
    pub(crate) fn tick(&self) -> Duration {
        Duration::from_micros(250)
    }

    /// Live messages sent per turn: 40,000 packets per simulated second
    /// (420 Mbit/s of payload, under the 1 Gbit/s pacing of SRTO_MAXBW −1).
    const LIVE_PER_TURN: usize = 10;
    /// At most this many file chunks are queued per turn (400,000 packets
    /// per simulated second; FileCC and the send buffer may take fewer).
    const FILE_PER_TURN: usize = 100;

    fn options(&self) -> SocketOptions {
        let mut o = match self.mode {
            Mode::Live => SocketOptions::live(),
            Mode::File => SocketOptions::file(),
        };
        // SRTO_MAXBW −1: no bandwidth limit of our own (libsrt's "infinite").
        o.maxbw = -1;
        if self.crypto != Crypto::Plain {
            o.passphrase = Some(Passphrase::new("engine benchmark").unwrap());
            o.pbkeylen = 16;
            o.cryptomode = match self.crypto {
                Crypto::Gcm => CryptoMode::AesGcm,
                _ => CryptoMode::AesCtr,
            };
        }
        o
    }
}

/// Datagram slots of one direction of the link.
struct Slots {
    bytes: Vec<[u8; 1500]>,
    lens: Vec<usize>,
    len: usize,
}

impl Slots {
    fn new(n: usize) -> Slots {
        Slots {
            bytes: vec![[0u8; 1500]; n],
            lens: vec![0; n],
            len: 0,
        }
    }

    /// Every datagram `ep` has to send at `now`; with `loss`, some are dropped.
    fn fill(&mut self, now: Instant, ep: &mut Endpoint, mut loss: impl FnMut() -> bool) -> usize {
        let mut sent = 0;
        loop {
            let i = self.len.min(self.bytes.len() - 1);
            let Some(t) = ep.poll_transmit(now, &mut self.bytes[i]) else {
                return sent;
            };
            sent += 1;
            assert!(self.len < self.bytes.len(), "link slots full");
            if !loss() {
                self.lens[i] = t.size;
                self.len += 1;
            }
        }
    }

    /// Hands every datagram to `ep`, as from `from`.
    fn drain(&mut self, now: Instant, ep: &mut Endpoint, from: SocketAddr) {
        for i in 0..self.len {
            ep.handle_datagram(now, from, &self.bytes[i][..self.lens[i]]);
        }
        self.len = 0;
    }
}

/// A connected sender–receiver pair and its link.
pub(crate) struct Pair {
    /// The case.
    pub(crate) case: Case,
    /// The clock.
    pub(crate) now: Instant,
    snd: Endpoint,
    rcv: Endpoint,
    snd_id: SocketId,
    rcv_id: SocketId,
    to_rcv: Slots,
    to_snd: Slots,
    rng: u64,
    /// Datagrams from the sender the link has lost (the lossy cases).
    link_lost: u64,
    payload: [u8; 1456],
    out: Vec<u8>,
    /// Messages delivered to the receiving application.
    pub(crate) delivered: u64,
    /// Payload bytes delivered.
    pub(crate) delivered_bytes: u64,
    /// Wall time of the sender's and the receiver's calls in each timed turn.
    pub(crate) samples: Vec<(Duration, Duration)>,
}

impl Pair {
    /// Two endpoints, connected, with the case's options, and warmed up
    /// (a few seconds of traffic: every buffer has grown to its working size).
    pub(crate) fn new(case: Case) -> Pair {
        let snd_addr: SocketAddr = "127.0.0.1:5000".parse().unwrap();
        let rcv_addr: SocketAddr = "127.0.0.1:9000".parse().unwrap();
        let now = Instant::now();
        let opts = case.options();
        let mut rcv = Endpoint::new(EndpointConfig::seeded(0), rcv_addr, now);
        rcv.listen(&opts, 1).unwrap();
        let mut snd = Endpoint::new(EndpointConfig::seeded(1), snd_addr, now);
        let snd_id = snd.connect(now, rcv_addr, &opts).unwrap();
        let mut pair = Pair {
            case,
            now,
            snd,
            rcv,
            snd_id,
            rcv_id: SocketId(0),
            to_rcv: Slots::new(16_384),
            to_snd: Slots::new(4096),
            rng: 0x2545_F491_4F6C_DD1D,
            link_lost: 0,
            payload: [7u8; 1456],
            out: vec![0u8; 65536],
            delivered: 0,
            delivered_bytes: 0,
            samples: Vec::new(),
        };
        let mut connected = false;
        for _ in 0..1000 {
            pair.now += Duration::from_millis(1);
            pair.shuttle();
            while let Some(e) = pair.snd.poll_event() {
                connected |= matches!(e, Event::Connected { .. });
            }
            if let Some(id) = pair.rcv.accept() {
                pair.rcv_id = id;
            }
            while pair.rcv.poll_event().is_some() {}
            if connected && pair.rcv_id != SocketId(0) {
                break;
            }
        }
        assert!(connected && pair.rcv_id != SocketId(0), "no connection");
        // Warm-up: three seconds, so that the buffers have grown and the
        // control loops settled.
        let turns = (Duration::from_secs(3).as_micros() / case.tick().as_micros()) as usize;
        for _ in 0..turns {
            pair.turn(false);
        }
        assert!(pair.delivered > 0, "{}: nothing delivered", case.name);
        pair.delivered = 0;
        pair.delivered_bytes = 0;
        pair
    }

    /// Handshake traffic, both ways, until both sides are quiet.
    fn shuttle(&mut self) {
        let (snd_addr, rcv_addr) = (self.snd.local_addr(), self.rcv.local_addr());
        self.snd.handle_timeout(self.now);
        self.rcv.handle_timeout(self.now);
        loop {
            let a = self.to_rcv.fill(self.now, &mut self.snd, || false);
            self.to_rcv.drain(self.now, &mut self.rcv, snd_addr);
            let b = self.to_snd.fill(self.now, &mut self.rcv, || false);
            self.to_snd.drain(self.now, &mut self.snd, rcv_addr);
            if a + b == 0 {
                return;
            }
        }
    }

    /// Whether the next datagram from the sender is lost.
    fn lose(rng: &mut u64, per_mille: u32) -> bool {
        if per_mille == 0 {
            return false;
        }
        // xorshift64
        *rng ^= *rng << 13;
        *rng ^= *rng >> 7;
        *rng ^= *rng << 17;
        (*rng % 1000) < u64::from(per_mille)
    }

    /// One turn; with `timed`, the time of each side's calls goes to `samples`.
    pub(crate) fn turn(&mut self, timed: bool) {
        let (snd_addr, rcv_addr) = (self.snd.local_addr(), self.rcv.local_addr());
        self.now += self.case.tick();
        let now = self.now;
        let per_mille = self.case.loss_per_mille;

        // The sender: the application's messages, timers, datagrams out.
        let t0 = timed.then(Instant::now);
        match self.case.mode {
            Mode::Live => {
                for _ in 0..Case::LIVE_PER_TURN {
                    self.snd
                        .send(now, self.snd_id, &self.payload[..1316], &MsgCtrl::default())
                        .unwrap();
                }
            }
            Mode::File => {
                for _ in 0..Case::FILE_PER_TURN {
                    match self
                        .snd
                        .send(now, self.snd_id, &self.payload, &MsgCtrl::default())
                    {
                        Ok(_) => {}
                        Err(SendError::WouldBlock) => break,
                        Err(e) => panic!("send: {e:?}"),
                    }
                }
            }
        }
        self.snd.handle_timeout(now);
        let (rng, link_lost) = (&mut self.rng, &mut self.link_lost);
        self.to_rcv.fill(now, &mut self.snd, || {
            let lost = Self::lose(rng, per_mille);
            *link_lost += u64::from(lost);
            lost
        });
        while self.snd.poll_event().is_some() {}

        // The receiver: datagrams in, timers, control packets out, delivery.
        let t1 = timed.then(Instant::now);
        self.to_rcv.drain(now, &mut self.rcv, snd_addr);
        self.rcv.handle_timeout(now);
        self.to_snd.fill(now, &mut self.rcv, || false);
        while let Some(e) = self.rcv.poll_event() {
            if let Event::Readable { socket } = e {
                while let Some(info) = self.rcv.recv(now, socket, &mut self.out).unwrap() {
                    self.delivered += 1;
                    self.delivered_bytes += info.len as u64;
                }
            }
        }

        // The sender: the receiver's control packets.
        let t2 = timed.then(Instant::now);
        self.to_snd.drain(now, &mut self.snd, rcv_addr);
        while self.snd.poll_event().is_some() {}
        if let (Some(t0), Some(t1), Some(t2)) = (t0, t1, t2) {
            let t3 = Instant::now();
            self.samples.push(((t1 - t0) + (t3 - t2), t2 - t1));
        }
    }

    /// Packets delivered: messages in live mode, full-size chunks of the
    /// byte stream in file mode.
    pub(crate) fn packets(&self) -> u64 {
        match self.case.mode {
            Mode::Live => self.delivered,
            Mode::File => self.delivered_bytes / self.payload.len() as u64,
        }
    }

    /// The loss counters so far: subtract two of them ([`Losses::since`])
    /// for the losses of the turns between.
    pub(crate) fn losses(&mut self) -> Losses {
        let s = self.rcv.socket_stats(self.now, self.rcv_id, false).unwrap();
        Losses {
            link: self.link_lost,
            lost: i64::from(s.pkt_rcv_loss_total),
            dropped: i64::from(s.pkt_rcv_drop_total),
        }
    }
}

/// Loss counters of a pair, totals since it connected or (from
/// [`Losses::since`]) over some turns.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Losses {
    /// Datagrams from the sender the link lost (data and retransmissions).
    pub(crate) link: u64,
    /// Packets the receiver found missing (`pktRcvLossTotal`).
    pub(crate) lost: i64,
    /// Packets the receiver gave up on (`pktRcvDropTotal`).
    pub(crate) dropped: i64,
}

impl Losses {
    /// The losses between `earlier` and `self`.
    pub(crate) fn since(self, earlier: Losses) -> Losses {
        Losses {
            link: self.link - earlier.link,
            lost: self.lost - earlier.lost,
            dropped: self.dropped - earlier.dropped,
        }
    }
}

/// The CPU time this thread has used: what a benchmark on a machine shared
/// with other work should count (the wall clock also counts the time the
/// thread waited for a core).
#[allow(unsafe_code)]
pub(crate) fn thread_cpu_time() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; the clock ID is a constant
    // every Linux kernel knows.
    let r = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(r, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID)");
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}
