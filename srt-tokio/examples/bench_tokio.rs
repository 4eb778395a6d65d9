//! `cargo xtask bench tokio`'s program: srt-tokio (ours) or srt-rs
//! (crates.io `srt-tokio` 0.4), caller and listener in one process on one
//! tokio runtime (one worker per core), as `xtask/c/bench_capi.c` does for
//! libsrt through its C API, so that the three print the same line:
//!
//! ```text
//! bench_tokio ours|srt-rs file MIB             MIB mebibytes one way, as fast as it goes
//! bench_tokio ours|srt-rs live MBPS SECONDS    1316-byte messages paced at MBPS
//! ```
//!
//! Prints `result bytes=B seconds=S cpu=C sent=P received=R lost=L`:
//! seconds is the wall time of the transfer (file: from the first send
//! until the receiver has every byte; live: the sending span) and cpu the
//! process's user + system time (getrusage) from the first send until the
//! receiver is done. Exits 1 with a message on any error.
//!
//! srt-rs 0.4 has live mode only: its "file" run sends the bytes as
//! 1316-byte live messages (latency 20 ms) as fast as they go with at most
//! `SRTRS_WINDOW` in flight (counted by its receiver in this process, as
//! a flow window) and counts what arrives before the stream goes quiet for
//! `QUIET`; `lost` says what did not. Its default buffers (35 packets) are too
//! small for 100 Mbit/s: it gets libsrt's (8192 packets).

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use srt_tokio::{MsgCtrl, SrtSocket, TransType};
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// Live message size (libsrt's default payload size).
const PAYLOAD: usize = 1316;
/// The stream API's write and read size.
const FILE_CHUNK: usize = 65_536;
/// The longest a live receiver waits for the last messages.
const DRAIN: Duration = Duration::from_secs(2);
/// srt-rs's bulk run ends when nothing arrived for this long.
const QUIET: Duration = Duration::from_secs(2);
/// srt-rs's bulk run: the most messages sent and not yet received.
const SRTRS_WINDOW: u64 = 6000;
/// srt-rs's bulk run: its latency (the window is delivered once per latency at most).
const SRTRS_BULK_LATENCY: Duration = Duration::from_millis(20);
/// The whole run's limit.
const LIMIT: Duration = Duration::from_secs(900);

/// Any failure: printed, exit 1.
type Failure = Box<dyn std::error::Error + Send + Sync>;

/// Which stack runs.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Stack {
    Ours,
    SrtRs,
}

/// What a run measured.
#[derive(Default)]
struct Outcome {
    bytes: u64,
    seconds: f64,
    cpu: f64,
    sent: u64,
    received: u64,
    lost: u64,
}

/// The process's user + system CPU time, seconds.
#[allow(unsafe_code)] // getrusage, as bench_capi.c calls it
fn cpu_seconds() -> f64 {
    // SAFETY: an all-zero rusage is valid, and getrusage only writes the
    // struct it is given.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) };
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    tv(u.ru_utime) + tv(u.ru_stime)
}

/// A free loopback port for a listener.
fn free_addr() -> Result<SocketAddr, Failure> {
    Ok(std::net::UdpSocket::bind("127.0.0.1:0")?.local_addr()?)
}

/// Live message `seq`: its stream (0) and sequence number first, as
/// bench_capi.c writes them, then a fixed pattern.
fn stamp(msg: &mut [u8], seq: u32) {
    msg[..4].copy_from_slice(&0u32.to_ne_bytes());
    msg[4..8].copy_from_slice(&seq.to_ne_bytes());
}

/// The sequence number of a received live message, if it is well formed.
fn seq_of(msg: &[u8]) -> Option<u32> {
    (msg.len() == PAYLOAD && msg[..4] == 0u32.to_ne_bytes())
        .then(|| u32::from_ne_bytes(msg[4..8].try_into().expect("4 bytes")))
}

/// Counts in-order live messages: a gap or a step back is `bad`.
#[derive(Default)]
struct Checker {
    next: u64,
    received: u64,
    bad: u64,
}

impl Checker {
    fn take(&mut self, msg: &[u8]) {
        match seq_of(msg) {
            Some(seq) => {
                if u64::from(seq) != self.next {
                    self.bad += 1;
                }
                self.next = u64::from(seq) + 1;
            }
            None => self.bad += 1,
        }
        self.received += 1;
    }
}

/// Ours, a caller and the listener's accepted socket: (sender, receiver).
async fn ours_pair(file: bool) -> Result<(SrtSocket, SrtSocket), Failure> {
    let builder = || {
        let b = SrtSocket::builder();
        if file {
            b.transtype(TransType::File)
        } else {
            b
        }
    };
    let mut listener = builder().listen(free_addr()?).await?;
    let at = listener.local_addr();
    let (caller, accepted) = tokio::join!(builder().call(at), async {
        listener
            .accept()
            .await
            .and_then(srt_tokio::Accepted::into_socket)
    });
    Ok((caller?, accepted?))
}

/// srt-rs, a caller and a listener: (sender, receiver). Its default
/// buffers (46592 bytes, 35 packets) lose most of a 100 Mbit/s stream,
/// so both get libsrt's (8192 packets) and 8 MiB UDP buffers; `bulk`
/// also takes a latency of `SRTRS_BULK_LATENCY`.
async fn srtrs_pair(bulk: bool) -> Result<(srt_rs::SrtSocket, srt_rs::SrtSocket), Failure> {
    use srt_rs::options::ByteCount;
    let at = free_addr()?;
    let builder = || {
        let b = srt_rs::SrtSocket::builder().set(|o| {
            o.sender.buffer_size = ByteCount(8192 * 1500);
            o.receiver.buffer_size = ByteCount(8192 * 1500);
            o.connect.udp_send_buffer_size = ByteCount(8 << 20);
            o.connect.udp_recv_buffer_size = ByteCount(8 << 20);
        });
        if bulk {
            b.latency(SRTRS_BULK_LATENCY)
        } else {
            b
        }
    };
    let (listener, caller) = tokio::join!(builder().listen_on(at), async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        builder().call(at, None).await
    });
    Ok((caller?, listener?))
}

/// Ours, file mode, stream API: `bytes` one way in 64 KiB writes.
async fn ours_file(bytes: u64) -> Result<Outcome, Failure> {
    let (tx, rx) = ours_pair(true).await?;
    let (t0, c0) = (Instant::now(), cpu_seconds());
    let receiver = tokio::spawn(async move {
        let mut buf = vec![0u8; FILE_CHUNK];
        let mut got = 0u64;
        while got < bytes {
            got += rx.recv_into(&mut buf).await?.len as u64;
        }
        Ok::<_, srt_tokio::Error>((got, Instant::now(), rx))
    });
    let chunk: Vec<u8> = (0..FILE_CHUNK).map(|i| (i * 7) as u8).collect();
    let mut sent = 0u64;
    while sent < bytes {
        let n = (bytes - sent).min(FILE_CHUNK as u64) as usize;
        sent += tx.send_msg(&chunk[..n], MsgCtrl::default()).await? as u64;
    }
    let (got, done, _rx) = receiver.await??;
    Ok(Outcome {
        bytes: got,
        seconds: (done - t0).as_secs_f64(),
        cpu: cpu_seconds() - c0,
        sent,
        received: got,
        lost: 0,
    })
}

/// srt-rs, live mode (its only one): `bytes` as 1316-byte messages, as
/// fast as they go with at most `SRTRS_WINDOW` of them sent and not yet
/// received (live mode has no flow control of its own: an unpaced sender
/// overruns its buffer and loses nearly everything).
async fn srtrs_file(bytes: u64) -> Result<Outcome, Failure> {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::Arc;
    let (mut tx, mut rx) = srtrs_pair(true).await?;
    let count = bytes.div_ceil(PAYLOAD as u64);
    let received = Arc::new(AtomicU64::new(0));
    let progress = tokio::sync::Notify::new();
    let progress = Arc::new(progress);
    let (t0, c0) = (Instant::now(), cpu_seconds());
    let receiver = {
        let (received, progress) = (Arc::clone(&received), Arc::clone(&progress));
        tokio::spawn(async move {
            let (mut got, mut last) = (0u64, Instant::now());
            while got < count * PAYLOAD as u64 {
                match tokio::time::timeout(QUIET, rx.next()).await {
                    Ok(Some(Ok((_, m)))) => {
                        got += m.len() as u64;
                        last = Instant::now();
                        received.fetch_add(1, Ordering::Relaxed);
                        progress.notify_one();
                    }
                    _ => break,
                }
            }
            (got, last, rx)
        })
    };
    let payload = Bytes::from(vec![0x47u8; PAYLOAD]);
    let mut sent = 0u64;
    'send: while sent < count {
        while sent - received.load(Ordering::Relaxed) >= SRTRS_WINDOW {
            // A lost message never arrives: give up on the window then.
            if tokio::time::timeout(QUIET, progress.notified())
                .await
                .is_err()
            {
                break 'send;
            }
        }
        tx.feed((Instant::now(), payload.clone())).await?;
        sent += 1;
        if sent % 32 == 0 {
            tx.flush().await?;
        }
    }
    tx.flush().await?;
    let (got, done, _rx) = receiver.await?;
    let _ = tx.close().await;
    let received = got / PAYLOAD as u64;
    Ok(Outcome {
        bytes: got,
        seconds: (done - t0).as_secs_f64(),
        cpu: cpu_seconds() - c0,
        sent: count,
        received,
        lost: count - received.min(count),
    })
}

/// The pace of a live sender: 1316-byte messages at a rate, on 1 ms
/// ticks (as bench_capi.c).
struct Pacer {
    per_second: f64,
    seconds: f64,
    t0: tokio::time::Instant,
    tick: tokio::time::Interval,
    sent: u64,
}

impl Pacer {
    fn new(mbps: f64, seconds: f64) -> Self {
        Pacer {
            per_second: mbps * 1e6 / (PAYLOAD as f64 * 8.0),
            seconds,
            t0: tokio::time::Instant::now(),
            tick: tokio::time::interval(Duration::from_millis(1)),
            sent: 0,
        }
    }

    /// Waits for the next tick; the sequence numbers now due, or `None`
    /// once the time is up.
    async fn due(&mut self) -> Option<std::ops::Range<u64>> {
        self.tick.tick().await;
        let t = self.t0.elapsed().as_secs_f64();
        if t >= self.seconds {
            return None;
        }
        let due = (t * self.per_second) as u64 + 1;
        let range = self.sent..due.max(self.sent);
        self.sent = range.end;
        Some(range)
    }

    /// Seconds since the start.
    fn span(&self) -> f64 {
        self.t0.elapsed().as_secs_f64()
    }
}

/// Ours, live mode: one paced stream, every message checked.
async fn ours_live(mbps: f64, seconds: f64) -> Result<Outcome, Failure> {
    let (tx, rx) = ours_pair(false).await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let c0 = cpu_seconds();
    let (done_tx, mut done_rx) = tokio::sync::watch::channel(None::<u64>);
    let receiver = tokio::spawn(async move {
        let mut buf = vec![0u8; 1500];
        let mut check = Checker::default();
        let mut drain_end = None;
        loop {
            if let Some(sent) = *done_rx.borrow() {
                if check.received >= sent {
                    break;
                }
                drain_end.get_or_insert_with(|| tokio::time::Instant::now() + DRAIN);
            }
            let wait = drain_end.unwrap_or_else(|| tokio::time::Instant::now() + LIMIT);
            tokio::select! {
                r = rx.recv_into(&mut buf) => {
                    let info = r?;
                    check.take(&buf[..info.len]);
                }
                _ = done_rx.changed(), if drain_end.is_none() => {}
                _ = tokio::time::sleep_until(wait) => break,
            }
        }
        Ok::<_, srt_tokio::Error>((check, rx))
    });
    let mut msg = vec![0x47u8; PAYLOAD];
    let mut pacer = Pacer::new(mbps, seconds);
    while let Some(due) = pacer.due().await {
        for seq in due {
            stamp(&mut msg, seq as u32);
            tx.send_msg(&msg, MsgCtrl::default()).await?;
        }
    }
    let (sent, span) = (pacer.sent, pacer.span());
    done_tx.send(Some(sent))?;
    let (check, _rx) = receiver.await??;
    Ok(live_outcome(sent, span, cpu_seconds() - c0, &check))
}

/// srt-rs, live mode: one paced stream, every message checked.
async fn srtrs_live(mbps: f64, seconds: f64) -> Result<Outcome, Failure> {
    let (mut tx, mut rx) = srtrs_pair(false).await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let c0 = cpu_seconds();
    let (done_tx, mut done_rx) = tokio::sync::watch::channel(None::<u64>);
    let receiver = tokio::spawn(async move {
        let mut check = Checker::default();
        let mut drain_end = None;
        loop {
            if let Some(sent) = *done_rx.borrow() {
                if check.received >= sent {
                    break;
                }
                drain_end.get_or_insert_with(|| tokio::time::Instant::now() + DRAIN);
            }
            let wait = drain_end.unwrap_or_else(|| tokio::time::Instant::now() + LIMIT);
            tokio::select! {
                m = rx.next() => match m {
                    Some(Ok((_, m))) => check.take(&m),
                    other => {
                        eprintln!("bench_tokio: srt-rs's receiver ended: {other:?}");
                        break;
                    }
                },
                _ = done_rx.changed(), if drain_end.is_none() => {}
                _ = tokio::time::sleep_until(wait) => break,
            }
        }
        (check, rx)
    });
    let mut msg = vec![0x47u8; PAYLOAD];
    let mut pacer = Pacer::new(mbps, seconds);
    while let Some(due) = pacer.due().await {
        for seq in due {
            stamp(&mut msg, seq as u32);
            tx.feed((Instant::now(), Bytes::copy_from_slice(&msg)))
                .await?;
        }
        tx.flush().await?;
    }
    let (sent, span) = (pacer.sent, pacer.span());
    done_tx.send(Some(sent))?;
    let (check, _rx) = receiver.await?;
    Ok(live_outcome(sent, span, cpu_seconds() - c0, &check))
}

fn live_outcome(sent: u64, span: f64, cpu: f64, check: &Checker) -> Outcome {
    Outcome {
        bytes: check.received * PAYLOAD as u64,
        seconds: span,
        cpu,
        sent,
        received: check.received,
        lost: sent.saturating_sub(check.received),
    }
    .with_bad(check.bad)
}

impl Outcome {
    /// Reports out-of-order or malformed messages on stderr (the
    /// result line keeps bench_capi.c's fields).
    fn with_bad(self, bad: u64) -> Self {
        if bad > 0 {
            eprintln!("bench_tokio: {bad} messages out of order or malformed");
        }
        self
    }
}

async fn run(args: &[String]) -> Result<Outcome, Failure> {
    let stack = match args.first().map(String::as_str) {
        Some("ours") => Stack::Ours,
        Some("srt-rs") => Stack::SrtRs,
        _ => return Err(usage()),
    };
    let num = |i: usize| -> Result<f64, Failure> {
        args.get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .filter(|v| *v > 0.0)
            .ok_or_else(usage)
    };
    match (args.get(1).map(String::as_str), args.len()) {
        (Some("file"), 3) => {
            let bytes = (num(2)? as u64) << 20;
            match stack {
                Stack::Ours => ours_file(bytes).await,
                Stack::SrtRs => srtrs_file(bytes).await,
            }
        }
        (Some("live"), 4) => match stack {
            Stack::Ours => ours_live(num(2)?, num(3)?).await,
            Stack::SrtRs => srtrs_live(num(2)?, num(3)?).await,
        },
        _ => Err(usage()),
    }
}

fn usage() -> Failure {
    "usage: bench_tokio ours|srt-rs file MIB | ours|srt-rs live MBPS SECONDS".into()
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("bench_tokio: runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        tokio::time::timeout(LIMIT, run(&args))
            .await
            .unwrap_or_else(|_| Err("timed out".into()))
    });
    match result {
        Ok(o) => {
            println!(
                "result bytes={} seconds={:.6} cpu={:.6} sent={} received={} lost={}",
                o.bytes, o.seconds, o.cpu, o.sent, o.received, o.lost
            );
            // The figures are out; closing must not hold the process.
            runtime.shutdown_background();
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("bench_tokio: {e}");
            ExitCode::FAILURE
        }
    }
}
