//! `cargo xtask bench live [--seconds N] [--rates 100,500] [--mixed]`: a
//! paced live stream over loopback through our `srt-transmit` beside
//! libsrt's `srt-live-transmit`, in the same run.
//!
//! For each rate and each pair of tools, a UDP source paces 1316-byte
//! datagrams (a sequence number in front) into the sender tool
//! (`udp://127.0.0.1:P1` → `srt://127.0.0.1:P2`), the receiver tool
//! (`srt://127.0.0.1:P2?mode=listener` → `udp://127.0.0.1:P3`) passes them
//! to a UDP sink that counts them and checks their sequence numbers. After
//! `N` seconds and a drain, both tools get SIGINT and are reaped with
//! `wait4`, whose rusage gives their CPU time (user + system). The table
//! shows delivered and lost packets and the CPU of each side, then the
//! ratios ours/libsrt per side and rate.
//!
//! With `--callgrind` (default rate 10 Mbit/s), both tools run under
//! valgrind's callgrind ([`crate::callgrind`]): the table then also gives
//! the user-space instructions per delivered packet of each side, counted
//! from the stream's start to the end of the drain, and the engine's share
//! of ours. Those counts repeat within a fraction of a percent on a busy
//! machine, where CPU time does not.

use crate::bench_file::{
    build_tools, free_port, io_failure, kill, read_log, reap, spawn, target_dir, udp_port_bound,
    Exit,
};
use crate::callgrind::{self, Count};
use crate::util::Failure;
use std::net::UdpSocket;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const LIBSRT: &str = "srt-live-transmit";
/// Bytes per datagram (7 MPEG-TS packets, libsrt's live payload size).
const PAYLOAD: usize = 1316;
/// UDP buffer asked of the tools and of the source and sink, bytes.
pub(crate) const UDP_BUF: usize = 4 << 20;
/// Time for the connection to be made before the stream starts.
const WARMUP: Duration = Duration::from_secs(1);
/// Time after the stream for the last packets to come out (latency 120 ms).
const DRAIN: Duration = Duration::from_secs(1);

/// Who runs one end of the stream.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Tool {
    Ours,
    Libsrt,
}

impl Tool {
    /// Its name in the table.
    fn name(self) -> &'static str {
        match self {
            Tool::Ours => "ours",
            Tool::Libsrt => "libsrt",
        }
    }
}

/// The command line of `bench live`.
#[derive(Debug, PartialEq)]
struct Options {
    seconds: u64,
    rates: Vec<u32>,
    mixed: bool,
    callgrind: bool,
}

/// Parses `[--seconds N] [--rates R1,R2,...] [--mixed] [--callgrind]`.
fn parse(args: &[String]) -> Result<Options, Failure> {
    let mut o = Options {
        seconds: 10,
        rates: vec![100, 500],
        mixed: false,
        callgrind: false,
    };
    let mut rates_given = false;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--seconds" => o.seconds = crate::util::positive(it.next(), "--seconds")?,
            "--rates" => {
                let usage = || Failure::Usage("--rates takes Mbit/s like 100,500".into());
                let list = it.next().ok_or_else(usage)?;
                o.rates = list
                    .split(',')
                    .map(|r| r.trim().parse().ok().filter(|&r| r > 0 && r <= 10_000))
                    .collect::<Option<Vec<u32>>>()
                    .ok_or_else(usage)?;
                rates_given = true;
            }
            "--mixed" => o.mixed = true,
            "--callgrind" => o.callgrind = true,
            other => return Err(Failure::Usage(format!("bench live: unknown flag {other}"))),
        }
    }
    if o.callgrind && !rates_given {
        // Under callgrind a tool runs some 50 times slower.
        o.rates = vec![10];
    }
    Ok(o)
}

/// What the sink saw.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct Counts {
    /// Datagrams received, duplicates included.
    received: u64,
    /// Distinct sequence numbers received.
    pub(crate) delivered: u64,
    /// Datagrams that came after a higher sequence number.
    reordered: u64,
    /// Datagrams whose sequence number had been seen already.
    duplicates: u64,
    /// Datagrams of the wrong size or with a sequence number never sent.
    malformed: u64,
}

/// Sequence bookkeeping of the sink.
#[derive(Default)]
struct Tracker {
    seen: Vec<u64>,
    next: u64,
    counts: Counts,
}

impl Tracker {
    /// Accounts for one datagram.
    fn packet(&mut self, data: &[u8]) {
        self.counts.received += 1;
        let Some(seq) = (data.len() == PAYLOAD)
            .then(|| u64::from_be_bytes(data[..8].try_into().expect("8 bytes")))
            .filter(|&s| s < 1 << 32)
        else {
            self.counts.malformed += 1;
            return;
        };
        let (word, bit) = ((seq / 64) as usize, 1u64 << (seq % 64));
        if word >= self.seen.len() {
            self.seen.resize(word + 1024, 0);
        }
        if self.seen[word] & bit != 0 {
            self.counts.duplicates += 1;
            return;
        }
        self.seen[word] |= bit;
        self.counts.delivered += 1;
        if seq < self.next {
            self.counts.reordered += 1;
        } else {
            self.next = seq + 1;
        }
    }
}

/// One measured stream.
#[derive(Clone, Copy, Debug)]
struct Outcome {
    /// Datagrams the source sent.
    sent: u64,
    /// The rate the source achieved, Mbit/s.
    mbps: f64,
    counts: Counts,
    sender: Exit,
    receiver: Exit,
    /// Under `--callgrind`: the sender's and the receiver's instructions.
    instructions: Option<[Count; 2]>,
}

/// `cargo xtask bench live [--seconds N] [--rates 100,500] [--mixed] [--callgrind]`.
pub(crate) fn main(args: &[String]) -> Result<(), Failure> {
    let opts = parse(args)?;
    if opts.callgrind {
        callgrind::require()?;
    }
    let ours = build_tools(LIBSRT)?;
    let dir = target_dir().join("bench-live");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(io_failure(&dir))?;
    let mut pairs = vec![(Tool::Libsrt, Tool::Libsrt), (Tool::Ours, Tool::Ours)];
    if opts.mixed {
        pairs.extend([(Tool::Ours, Tool::Libsrt), (Tool::Libsrt, Tool::Ours)]);
    }
    let bench = Bench {
        ours,
        dir: dir.clone(),
        seconds: opts.seconds,
        callgrind: opts.callgrind,
    };
    let mut results = Vec::new();
    let mut failures = Vec::new();
    for &rate in &opts.rates {
        for &(snd, rcv) in &pairs {
            let label = format!("{rate:>5} Mbit/s {:>6} -> {:<6}", snd.name(), rcv.name());
            match bench.stream(snd, rcv, rate) {
                Ok(o) => {
                    println!(
                        "  {label} sent {} delivered {} lost {}  cpu sender {:.2} s receiver {:.2} s",
                        o.sent,
                        o.counts.delivered,
                        o.sent - o.counts.delivered,
                        o.sender.cpu.as_secs_f64(),
                        o.receiver.cpu.as_secs_f64()
                    );
                    results.push(((rate, snd, rcv), o));
                }
                Err(Failure::Failed(msg)) => {
                    println!("  {label} FAILED: {msg}");
                    failures.push(format!("{label}: {msg}"));
                }
                Err(usage) => return Err(usage),
            }
        }
    }
    report(opts.seconds, &results);
    if failures.is_empty() {
        let _ = std::fs::remove_dir_all(&dir);
        Ok(())
    } else {
        Err(Failure::Failed(format!(
            "{} stream(s) failed (logs in {}):\n{}",
            failures.len(),
            dir.display(),
            failures.join("\n")
        )))
    }
}

/// Prints the table and the ratios ours/libsrt.
fn report(seconds: u64, results: &[((u32, Tool, Tool), Outcome)]) {
    println!(
        "\nlive stream over loopback, {PAYLOAD}-byte datagrams for {seconds} s, latency 120 ms\n"
    );
    println!(
        "{:>6} {:<18} {:>8} {:>9} {:>9} {:>7} {:>6} {:>6} {:>10} {:>10} {:>7} {:>7} {:>9} {:>9}",
        "Mbit/s",
        "sender -> receiver",
        "src Mb/s",
        "sent",
        "delivered",
        "lost",
        "reord",
        "dup",
        "snd CPU s",
        "rcv CPU s",
        "snd %",
        "rcv %",
        "snd csw/s",
        "rcv csw/s"
    );
    for ((rate, snd, rcv), o) in results {
        let pct = |e: &Exit| 100.0 * e.cpu.as_secs_f64() / seconds as f64;
        println!(
            "{:>6} {:<18} {:>8.1} {:>9} {:>9} {:>7} {:>6} {:>6} {:>10.3} {:>10.3} {:>7.1} {:>7.1} {:>9.0} {:>9.0}",
            rate,
            format!("{} -> {}", snd.name(), rcv.name()),
            o.mbps,
            o.sent,
            o.counts.delivered,
            o.sent.saturating_sub(o.counts.delivered),
            o.counts.reordered,
            o.counts.duplicates,
            o.sender.cpu.as_secs_f64(),
            o.receiver.cpu.as_secs_f64(),
            pct(&o.sender),
            pct(&o.receiver),
            o.sender.switches as f64 / seconds as f64,
            o.receiver.switches as f64 / seconds as f64,
        );
    }
    println!("(CPU: user + system over the whole life of each process; %: of one core over the stream's seconds;\n csw/s: context switches of all its threads over its life, per second of stream)");
    if results.iter().any(|(_, o)| o.instructions.is_some()) {
        report_instructions(results);
    }
    for (rate, o, l) in same_tool_pairs(results) {
        let ratio = |a: &Exit, b: &Exit| a.cpu.as_secs_f64() / b.cpu.as_secs_f64();
        println!(
            "ours/libsrt at {rate} Mbit/s: CPU sender {:.2}x, receiver {:.2}x, both {:.2}x (lower is better)",
            ratio(&o.sender, &l.sender),
            ratio(&o.receiver, &l.receiver),
            (o.sender.cpu + o.receiver.cpu).as_secs_f64()
                / (l.sender.cpu + l.receiver.cpu).as_secs_f64(),
        );
    }
}

/// For each rate, the outcomes of ours → ours and of libsrt → libsrt, when
/// both ran.
fn same_tool_pairs(results: &[((u32, Tool, Tool), Outcome)]) -> Vec<(u32, Outcome, Outcome)> {
    let mut rates: Vec<u32> = results.iter().map(|((r, _, _), _)| *r).collect();
    rates.dedup();
    rates
        .into_iter()
        .filter_map(|rate| {
            let find = |t: Tool| {
                results
                    .iter()
                    .find(|((r, s, c), _)| *r == rate && *s == t && *c == t)
                    .map(|(_, o)| *o)
            };
            Some((rate, find(Tool::Ours)?, find(Tool::Libsrt)?))
        })
        .collect()
}

/// Prints the instructions per delivered packet (`--callgrind`) and their
/// ratios ours/libsrt.
fn report_instructions(results: &[((u32, Tool, Tool), Outcome)]) {
    println!("\nuser-space instructions per delivered packet (callgrind, from the stream's start to the end of the drain)\n");
    println!(
        "{:>6} {:<18} {:>10} {:>10} {:>10} {:>12} {:>12}",
        "Mbit/s", "sender -> receiver", "sender", "receiver", "both", "snd engine", "rcv engine"
    );
    let per_packet = |c: &Count, o: &Outcome| c.total as f64 / o.counts.delivered.max(1) as f64;
    let engine = |c: &Count, o: &Outcome| c.engine as f64 / o.counts.delivered.max(1) as f64;
    for ((rate, snd, rcv), o) in results {
        let Some([s, r]) = &o.instructions else {
            continue;
        };
        println!(
            "{:>6} {:<18} {:>10.0} {:>10.0} {:>10.0} {:>12} {:>12}",
            rate,
            format!("{} -> {}", snd.name(), rcv.name()),
            per_packet(s, o),
            per_packet(r, o),
            per_packet(s, o) + per_packet(r, o),
            engine_share(*snd, engine(s, o)),
            engine_share(*rcv, engine(r, o)),
        );
    }
    println!("(engine: the part in srt-proto's code, ours only)");
    for (rate, o, l) in same_tool_pairs(results) {
        let (Some([os, or]), Some([ls, lr])) = (o.instructions, l.instructions) else {
            continue;
        };
        println!(
            "ours/libsrt at {rate} Mbit/s: instructions per packet sender {:.2}x, receiver {:.2}x, both {:.2}x (lower is better)",
            per_packet(&os, &o) / per_packet(&ls, &l),
            per_packet(&or, &o) / per_packet(&lr, &l),
            (per_packet(&os, &o) + per_packet(&or, &o))
                / (per_packet(&ls, &l) + per_packet(&lr, &l)),
        );
    }
}

/// The engine's instructions per packet of `tool` as a table cell.
fn engine_share(tool: Tool, per_packet: f64) -> String {
    match tool {
        Tool::Ours => format!("{per_packet:.0}"),
        Tool::Libsrt => "-".into(),
    }
}

/// Where the tools are and the logs go.
struct Bench {
    ours: PathBuf,
    dir: PathBuf,
    seconds: u64,
    callgrind: bool,
}

impl Bench {
    /// The command of `tool` moving `input` to `output`, under callgrind
    /// writing to `profile` with `--callgrind`.
    fn command(&self, tool: Tool, input: String, output: String, profile: &Path) -> Command {
        let program = match tool {
            Tool::Ours => self.ours.as_os_str(),
            Tool::Libsrt => LIBSRT.as_ref(),
        };
        let mut cmd = if self.callgrind {
            callgrind::command(program, profile)
        } else {
            Command::new(program)
        };
        if tool == Tool::Libsrt {
            cmd.arg("-a:no");
        }
        cmd.args([input, output]);
        cmd
    }

    /// One stream of `rate` Mbit/s from `snd` to `rcv`.
    fn stream(&self, snd: Tool, rcv: Tool, rate: u32) -> Result<Outcome, Failure> {
        let name = format!("{rate}-{}-{}", snd.name(), rcv.name());
        let log = |who: &str| self.dir.join(format!("{name}.{who}.log"));
        let logs = || {
            format!(
                "sender: {} receiver: {}",
                read_log(&log("sender")),
                read_log(&log("receiver"))
            )
        };
        let sink = Sink::start()?;
        let srt_port = free_port()?;
        let mut input_port = free_port()?;
        while input_port == srt_port || input_port == sink.port {
            input_port = free_port()?;
        }
        let profile = |who: &str| self.dir.join(format!("{name}.{who}.callgrind"));
        let mut receiver = self.command(
            rcv,
            format!("srt://127.0.0.1:{srt_port}?mode=listener"),
            format!("udp://127.0.0.1:{}?sndbuf={UDP_BUF}", sink.port),
            &profile("receiver"),
        );
        let mut sender = self.command(
            snd,
            format!("udp://127.0.0.1:{input_port}?rcvbuf={UDP_BUF}"),
            format!("srt://127.0.0.1:{srt_port}"),
            &profile("sender"),
        );
        let (rcv_pid, snd_pid, ready) = start_pair(
            &name,
            &mut receiver,
            &mut sender,
            srt_port,
            input_port,
            &log,
        )?;
        let zeroed = |r: Result<(), Failure>| {
            r.map_err(|e| match e {
                Failure::Failed(m) | Failure::Usage(m) => m,
            })
        };
        let ready = ready.and_then(|()| {
            if self.callgrind {
                zeroed(callgrind::zero(snd_pid).and_then(|()| callgrind::zero(rcv_pid)))
            } else {
                Ok(())
            }
        });
        let source =
            ready.and_then(|()| source(input_port, rate, Duration::from_secs(self.seconds)));
        let mut dumped = Ok(());
        if source.is_ok() {
            std::thread::sleep(DRAIN);
            if self.callgrind {
                dumped = callgrind::dump(snd_pid).and_then(|()| callgrind::dump(rcv_pid));
            }
        }
        let sender = stop(snd_pid);
        let receiver = stop(rcv_pid);
        let counts = sink.finish();
        let (sent, send_errors, mbps) =
            source.map_err(|e| Failure::Failed(format!("{name}: {e}; {}", logs())))?;
        let (Some(sender), Some(receiver)) = (sender, receiver) else {
            return Err(Failure::Failed(format!(
                "{name}: a tool could not be reaped"
            )));
        };
        if counts.delivered == 0 {
            return Err(Failure::Failed(format!(
                "{name}: nothing was delivered; {}",
                logs()
            )));
        }
        dumped?;
        let instructions = if self.callgrind {
            Some([
                callgrind::read(&profile("sender"))?,
                callgrind::read(&profile("receiver"))?,
            ])
        } else {
            None
        };
        if send_errors > 0 || counts.malformed > 0 {
            println!(
                "  note: {name}: {send_errors} send errors at the source, {} malformed datagrams at the sink",
                counts.malformed
            );
        }
        Ok(Outcome {
            sent,
            mbps,
            counts,
            sender,
            receiver,
            instructions,
        })
    }
}

/// Waits (up to 5 s) until `port` is bound.
/// Starts a receiver and, once its SRT port is bound, the sender that
/// feeds it; waits until the sender's UDP input is bound and a warm-up
/// second has passed. Returns both process IDs and whether the stream
/// may start (both tools still running), or why not.
pub(crate) fn start_pair(
    name: &str,
    receiver: &mut Command,
    sender: &mut Command,
    srt_port: u16,
    input_port: u16,
    log: &dyn Fn(&str) -> PathBuf,
) -> Result<(i32, i32, Result<(), String>), Failure> {
    let rcv_pid = spawn(receiver, &log("receiver"))?;
    if let Err(e) = wait_bound(srt_port) {
        stop(rcv_pid);
        return Err(Failure::Failed(format!(
            "{name}: the receiver did not bind port {srt_port} ({e}): {}",
            read_log(&log("receiver"))
        )));
    }
    let snd_pid = match spawn(sender, &log("sender")) {
        Ok(pid) => pid,
        Err(e) => {
            stop(rcv_pid);
            return Err(e);
        }
    };
    let ready = wait_bound(input_port);
    if ready.is_ok() {
        std::thread::sleep(WARMUP);
    }
    let alive = reap(snd_pid).is_none() && reap(rcv_pid).is_none();
    let ready = match (ready, alive) {
        (Ok(()), true) => Ok(()),
        (Err(e), _) => Err(format!("the sender did not bind port {input_port} ({e})")),
        (_, false) => Err("a tool exited before the stream started".into()),
    };
    Ok((rcv_pid, snd_pid, ready))
}

pub(crate) fn wait_bound(port: u16) -> Result<(), String> {
    let start = Instant::now();
    while !udp_port_bound(port) {
        if start.elapsed() > Duration::from_secs(5) {
            return Err("timed out".into());
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    Ok(())
}

/// Sends SIGINT to `pid` and reaps it: SIGKILL after 5 s, `None` if it
/// cannot be reaped (or was reaped already).
pub(crate) fn stop(pid: i32) -> Option<Exit> {
    if let Some(exit) = reap(pid) {
        return Some(exit);
    }
    signal(pid, libc::SIGINT);
    let start = Instant::now();
    loop {
        if let Some(exit) = reap(pid) {
            return Some(exit);
        }
        if start.elapsed() > Duration::from_secs(5) {
            println!("  note: pid {pid} ignored SIGINT for 5 s; killed");
            kill(pid);
            return crate::bench_file::reap_blocking(pid);
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// `kill(pid, sig)`.
#[allow(unsafe_code)]
fn signal(pid: i32, sig: i32) {
    // SAFETY: kill has no memory-safety preconditions.
    unsafe {
        libc::kill(pid, sig);
    }
}

/// Asks for a socket buffer of `bytes` (`force` past the sysctl limit when
/// allowed, as root; else the plain option, which the kernel caps).
#[allow(unsafe_code)]
fn set_buffer(sock: &UdpSocket, force: i32, plain: i32, bytes: usize) {
    let value = i32::try_from(bytes).unwrap_or(i32::MAX);
    let len = std::mem::size_of::<i32>() as libc::socklen_t;
    for opt in [force, plain] {
        // SAFETY: the value pointer and length describe a live i32.
        let r = unsafe {
            libc::setsockopt(
                sock.as_raw_fd(),
                libc::SOL_SOCKET,
                opt,
                (&value as *const i32).cast(),
                len,
            )
        };
        if r == 0 {
            return;
        }
    }
}

/// Datagrams per second at `rate` Mbit/s.
fn packets_per_second(rate: u32) -> f64 {
    f64::from(rate) * 1e6 / (PAYLOAD as f64 * 8.0)
}

/// The sequence numbers due `elapsed` into a stream of `pps` datagrams per second.
fn due(elapsed: Duration, pps: f64) -> u64 {
    (elapsed.as_secs_f64() * pps) as u64
}

/// Sends a paced stream of `rate` Mbit/s to 127.0.0.1:`port` for `length`:
/// every datagram due by the clock goes out, then the source sleeps until
/// the next one is due (the kernel's timer slack makes that a small batch
/// at high rates, never a drift). Returns (sent, send errors, Mbit/s).
pub(crate) fn source(port: u16, rate: u32, length: Duration) -> Result<(u64, u64, f64), String> {
    let sock = UdpSocket::bind("127.0.0.1:0").map_err(|e| format!("source: {e}"))?;
    set_buffer(&sock, libc::SO_SNDBUFFORCE, libc::SO_SNDBUF, UDP_BUF);
    sock.connect(("127.0.0.1", port))
        .map_err(|e| format!("source: {e}"))?;
    let pps = packets_per_second(rate);
    let mut buf = [0u8; PAYLOAD];
    for (i, b) in buf.iter_mut().enumerate().skip(8) {
        *b = i as u8;
    }
    let (mut sent, mut errors) = (0u64, 0u64);
    let start = Instant::now();
    loop {
        let elapsed = start.elapsed();
        if elapsed >= length {
            break;
        }
        let target = due(elapsed, pps);
        while sent < target {
            buf[..8].copy_from_slice(&sent.to_be_bytes());
            if sock.send(&buf).is_err() {
                errors += 1;
            }
            sent += 1;
        }
        let next = Duration::from_secs_f64((sent + 1) as f64 / pps).min(length);
        std::thread::sleep(next.saturating_sub(start.elapsed()));
    }
    let mbps = sent as f64 * PAYLOAD as f64 * 8.0 / start.elapsed().as_secs_f64() / 1e6;
    Ok((sent, errors, mbps))
}

/// A UDP socket on 127.0.0.1 counting what arrives, on its own thread.
pub(crate) struct Sink {
    pub(crate) port: u16,
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<Counts>,
}

impl Sink {
    /// Binds the sink and starts its thread.
    pub(crate) fn start() -> Result<Sink, Failure> {
        let err = |e: std::io::Error| Failure::Failed(format!("sink: {e}"));
        let sock = UdpSocket::bind("127.0.0.1:0").map_err(err)?;
        set_buffer(&sock, libc::SO_RCVBUFFORCE, libc::SO_RCVBUF, UDP_BUF);
        sock.set_read_timeout(Some(Duration::from_millis(50)))
            .map_err(err)?;
        let port = sock.local_addr().map_err(err)?.port();
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            let mut tracker = Tracker::default();
            let mut buf = [0u8; 2048];
            while !flag.load(Ordering::Relaxed) {
                if let Ok(n) = sock.recv(&mut buf) {
                    tracker.packet(&buf[..n]);
                }
            }
            // What is still queued arrived before the stop.
            let _ = sock.set_nonblocking(true);
            while let Ok(n) = sock.recv(&mut buf) {
                tracker.packet(&buf[..n]);
            }
            tracker.counts
        });
        Ok(Sink { port, stop, thread })
    }

    /// Stops the thread; what it counted.
    pub(crate) fn finish(self) -> Counts {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::args;

    #[test]
    fn defaults_are_ten_seconds_at_100_and_500() {
        assert_eq!(
            parse(&[]).unwrap(),
            Options {
                seconds: 10,
                rates: vec![100, 500],
                mixed: false,
                callgrind: false,
            }
        );
    }

    #[test]
    fn flags_are_parsed_and_checked() {
        let o = parse(&args(&[
            "--seconds",
            "3",
            "--rates",
            "50, 200,1000",
            "--mixed",
        ]))
        .unwrap();
        assert_eq!(o.seconds, 3);
        assert_eq!(o.rates, vec![50, 200, 1000]);
        assert!(o.mixed);
        assert_eq!(parse(&args(&["--rates", "20"])).unwrap().rates, vec![20]);
        let o = parse(&args(&["--callgrind"])).unwrap();
        assert!(o.callgrind);
        assert_eq!(o.rates, vec![10], "callgrind's default rate");
        let o = parse(&args(&["--rates", "5", "--callgrind"])).unwrap();
        assert_eq!(o.rates, vec![5]);
        for bad in [
            &["--seconds"][..],
            &["--seconds", "0"],
            &["--seconds", "x"],
            &["--rates"],
            &["--rates", ""],
            &["--rates", "100,"],
            &["--rates", "0"],
            &["--rates", "100,fast"],
            &["--fast"],
        ] {
            assert!(parse(&args(bad)).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn the_sink_counts_losses_reorders_and_duplicates() {
        let mut t = Tracker::default();
        let dgram = |seq: u64| {
            let mut d = vec![0u8; PAYLOAD];
            d[..8].copy_from_slice(&seq.to_be_bytes());
            d
        };
        for seq in [0, 1, 3, 2, 3, 5, 100_000] {
            t.packet(&dgram(seq));
        }
        t.packet(&[0u8; 10]);
        let c = t.counts;
        assert_eq!(c.received, 8);
        assert_eq!(c.delivered, 6);
        assert_eq!(c.reordered, 1);
        assert_eq!(c.duplicates, 1);
        assert_eq!(c.malformed, 1);
    }

    #[test]
    fn pacing_follows_the_clock() {
        let pps = packets_per_second(500);
        assert!((pps - 47_492.4).abs() < 0.1, "{pps}");
        assert_eq!(
            due(Duration::from_secs(10), packets_per_second(100)),
            94_984
        );
        assert_eq!(due(Duration::ZERO, pps), 0);
    }
}
