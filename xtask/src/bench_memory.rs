//! `cargo xtask bench memory [--seconds N] [--connections N] [--cycles M] [--runs R]`:
//! memory per connection, ours beside libsrt in the same run.
//!
//! Three measures, each side run alternately `R` times (the smallest of
//! each figure is kept: memory does not get smaller by noise, only larger):
//! - idle accepted connections: `xtask/bench/memory.c`, linked statically
//!   once with Debian's `libsrt.a` and once with ours (`cargo xtask capi
//!   --release`), listens and accepts `N` idle connections from callers in
//!   a child process; the listener's VmRSS once listening, after the first
//!   connection and after all `N` gives the first connection's cost and
//!   that of each further one;
//! - connect/close cycles: the same program runs `M` connect, accept,
//!   close cycles in one process, counting every allocation (its own
//!   `malloc` family interposes on libc's), and prints the bytes asked for
//!   per cycle and what was still held after 1.5 s;
//! - a 10 Mbit/s live receiver: `srt-transmit` or `srt-live-transmit`
//!   listening (`srt://127.0.0.1:P?mode=listener` → `udp://…`) fed by the
//!   same sender (libsrt's `srt-live-transmit`) from a paced UDP source;
//!   the receiver's VmRSS and VmHWM after `N` seconds (from
//!   `/proc/PID/status`).

use crate::bench_file::{build_tools, free_port, io_failure, read_log, target_dir};
use crate::bench_live::{source, start_pair, stop, Sink, UDP_BUF};
use crate::util::{self, Failure};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

const LIBSRT: &str = "srt-live-transmit";
/// The rate of the live receiver's stream, Mbit/s.
const LIVE_RATE: u32 = 10;
/// Cycles run before the measured ones (first-use growth is not per cycle).
const WARMUP_CYCLES: u32 = 5;

/// Which library or tool.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Side {
    Libsrt,
    Ours,
}

impl Side {
    fn name(self) -> &'static str {
        match self {
            Side::Libsrt => "libsrt",
            Side::Ours => "ours",
        }
    }
}

/// The command line of `bench memory`.
#[derive(Debug, PartialEq)]
struct Options {
    seconds: u64,
    connections: u32,
    cycles: u32,
    runs: u32,
}

fn parse(args: &[String]) -> Result<Options, Failure> {
    let mut o = Options {
        seconds: 10,
        connections: 100,
        cycles: 50,
        runs: 2,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut number = |flag: &str, min: u64| -> Result<u64, Failure> {
            it.next()
                .and_then(|v| v.parse::<u64>().ok())
                .filter(|&v| v >= min && v <= 100_000)
                .ok_or_else(|| Failure::Usage(format!("{flag} takes a number ≥ {min}")))
        };
        match a.as_str() {
            "--seconds" => o.seconds = number(a, 1)?,
            "--connections" => o.connections = number(a, 2)? as u32,
            "--cycles" => o.cycles = number(a, 1)? as u32,
            "--runs" => o.runs = number(a, 1)? as u32,
            other => {
                return Err(Failure::Usage(format!(
                    "bench memory: unknown flag {other}"
                )))
            }
        }
    }
    Ok(o)
}

/// The idle-connection figures of one run, KiB.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct Idle {
    listening: i64,
    first: i64,
    all: i64,
    connections: i64,
}

impl Idle {
    /// What the first accepted connection added.
    fn first_cost(&self) -> i64 {
        self.first - self.listening
    }
    /// What each further connection added, on average.
    fn each_cost(&self) -> i64 {
        (self.all - self.first) / (self.connections - 1).max(1)
    }
}

/// The connect/close figures of one run, per cycle.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct Cycle {
    bytes: i64,
    calls: i64,
    held: i64,
}

/// The live receiver's figures of one run, KiB.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct Live {
    rss: i64,
    hwm: i64,
    delivered: u64,
    sent: u64,
}

/// `key value` lines as printed by memory.c.
fn field(out: &str, key: &str) -> Result<i64, Failure> {
    out.lines()
        .filter_map(|l| l.split_once(' '))
        .find(|(k, _)| *k == key)
        .and_then(|(_, v)| v.trim().parse().ok())
        .ok_or_else(|| Failure::Failed(format!("no `{key}` in the output:\n{out}")))
}

fn parse_idle(out: &str) -> Result<Idle, Failure> {
    Ok(Idle {
        listening: field(out, "rss_listening_kib")?,
        first: field(out, "rss_first_kib")?,
        all: field(out, "rss_all_kib")?,
        connections: field(out, "connections")?,
    })
}

fn parse_cycle(out: &str) -> Result<Cycle, Failure> {
    let n = field(out, "cycles")?.max(1);
    Ok(Cycle {
        bytes: field(out, "alloc_bytes")? / n,
        calls: field(out, "alloc_calls")? / n,
        held: field(out, "held_delta_bytes")? / n,
    })
}

/// `cargo xtask bench memory`.
pub(crate) fn main(args: &[String]) -> Result<(), Failure> {
    let opts = parse(args)?;
    let ours_tool = build_tools(LIBSRT)?;
    let dir = target_dir().join("bench-memory");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(io_failure(&dir))?;
    let prefix = dir.join("capi");
    crate::capi::main(&[
        "--release".to_string(),
        "--prefix".to_string(),
        prefix.to_string_lossy().into_owned(),
    ])?;
    let programs = [
        (Side::Libsrt, build_program(&dir, Side::Libsrt, None)?),
        (Side::Ours, build_program(&dir, Side::Ours, Some(&prefix))?),
    ];

    let mut idle: Vec<(Side, Idle)> = Vec::new();
    let mut cycles: Vec<(Side, Cycle)> = Vec::new();
    let mut live: Vec<(Side, Live)> = Vec::new();
    for run in 1..=opts.runs {
        for (side, program) in &programs {
            let out = run_program(program, &["idle".into(), opts.connections.to_string()])?;
            let i = parse_idle(&out)?;
            println!(
                "  run {run} {:<6} idle: listening {} KiB, first connection +{} KiB, each further +{} KiB",
                side.name(),
                i.listening,
                i.first_cost(),
                i.each_cost()
            );
            idle.push((*side, i));
        }
        for (side, program) in &programs {
            let out = run_program(
                program,
                &[
                    "cycle".into(),
                    WARMUP_CYCLES.to_string(),
                    opts.cycles.to_string(),
                ],
            )?;
            let c = parse_cycle(&out)?;
            println!(
                "  run {run} {:<6} cycle: {} bytes in {} allocations per cycle, {} bytes held after",
                side.name(),
                c.bytes,
                c.calls,
                c.held
            );
            cycles.push((*side, c));
        }
        for side in [Side::Libsrt, Side::Ours] {
            let l = live_receiver(&ours_tool, &dir, side, opts.seconds)?;
            println!(
                "  run {run} {:<6} live receiver: VmRSS {} KiB, VmHWM {} KiB ({} of {} packets delivered)",
                side.name(),
                l.rss,
                l.hwm,
                l.delivered,
                l.sent
            );
            live.push((side, l));
        }
    }
    let idle_of = |s: Side| idle.iter().filter(move |(t, _)| *t == s).map(|(_, i)| *i);
    let cycles_of = |s: Side| cycles.iter().filter(move |(t, _)| *t == s).map(|(_, c)| *c);
    let live_of = |s: Side| live.iter().filter(move |(t, _)| *t == s).map(|(_, l)| *l);
    // Per side, the best (smallest) of its runs for each measure.
    let best = |s: Side| -> [Option<i64>; 6] {
        [
            idle_of(s).map(|i| i.first_cost()).min(),
            idle_of(s).map(|i| i.each_cost()).min(),
            cycles_of(s).map(|c| c.bytes).min(),
            cycles_of(s).map(|c| c.calls).min(),
            live_of(s).map(|l| l.rss).min(),
            live_of(s).map(|l| l.hwm).min(),
        ]
    };
    let names = [
        "idle: first accepted connection, KiB",
        "idle: each further connection, KiB",
        "connect/close cycle: bytes allocated",
        "connect/close cycle: allocations",
        "live 10 Mbit/s receiver: VmRSS, KiB",
        "live 10 Mbit/s receiver: VmHWM, KiB",
    ];
    let (ours, libsrt) = (best(Side::Ours), best(Side::Libsrt));
    println!(
        "\nmemory per connection, best of {} run(s) per side ({} idle connections, {} cycles, {} s of {LIVE_RATE} Mbit/s)\n",
        opts.runs, opts.connections, opts.cycles, opts.seconds
    );
    println!(
        "{:<40} {:>12} {:>12} {:>12}",
        "measure", "ours", "libsrt", "ours/libsrt"
    );
    for ((name, o), l) in names.iter().zip(ours).zip(libsrt) {
        let (Some(o), Some(l)) = (o, l) else {
            continue;
        };
        let ratio = if l > 0 {
            format!("{:.2}", o as f64 / l as f64)
        } else {
            "-".into()
        };
        println!("{name:<40} {o:>12} {l:>12} {ratio:>12}");
    }
    let held = |s: Side| cycles_of(s).map(|c| c.held).min().unwrap_or(0);
    println!(
        "(bytes still held per cycle 1.5 s after the last close: ours {}, libsrt {}; lower is better everywhere)",
        held(Side::Ours),
        held(Side::Libsrt)
    );
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// Compiles memory.c against `side`'s static libsrt (Debian's, or the one
/// laid out in `prefix` by `cargo xtask capi`).
fn build_program(dir: &Path, side: Side, prefix: Option<&Path>) -> Result<PathBuf, Failure> {
    let pkg_config = |args: &[&str]| -> Result<String, Failure> {
        let mut cmd = Command::new("pkg-config");
        if let Some(prefix) = prefix {
            cmd.env("PKG_CONFIG_PATH", prefix.join("lib/pkgconfig"));
        }
        cmd.args(args).arg("srt");
        let out = cmd
            .output()
            .map_err(|e| Failure::Failed(format!("pkg-config: {e}")))?;
        if !out.status.success() {
            return Err(Failure::Failed(format!(
                "pkg-config {args:?} srt failed (apt-get install libsrt-openssl-dev): {}",
                String::from_utf8_lossy(&out.stderr)
            )));
        }
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
    };
    let archive = Path::new(&pkg_config(&["--variable=libdir"])?).join("libsrt.a");
    if !archive.is_file() {
        return Err(Failure::Failed(format!("{} is missing", archive.display())));
    }
    let libs: Vec<String> = pkg_config(&["--static", "--libs"])?
        .split_whitespace()
        .map(|f| {
            if f == "-lsrt" {
                archive.to_string_lossy().into_owned()
            } else {
                f.to_owned()
            }
        })
        .collect();
    let out = dir.join(format!("memory-{}", side.name()));
    let mut cc = Command::new("cc");
    cc.args([
        "-std=gnu11",
        "-O2",
        "-Wall",
        "-Wextra",
        "-Werror",
        "-rdynamic",
    ])
    .args(pkg_config(&["--cflags"])?.split_whitespace())
    .arg(util::root().join("xtask/bench/memory.c"))
    .args(&libs)
    .arg("-o")
    .arg(&out);
    util::run(&mut cc)?;
    Ok(out)
}

/// Runs a memory program (60 s at most); its standard output.
fn run_program(program: &Path, args: &[String]) -> Result<String, Failure> {
    let line = format!("{} {}", program.display(), args.join(" "));
    let out = Command::new("timeout")
        .arg("60")
        .arg(program)
        .args(args)
        .output()
        .map_err(|e| Failure::Failed(format!("cannot run {line}: {e}")))?;
    if !out.status.success() {
        return Err(Failure::Failed(format!(
            "{line} failed ({}): {}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// A field of /proc/PID/status in KiB.
fn status_kib(pid: i32, key: &str) -> Option<i64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// A live stream of `LIVE_RATE` Mbit/s into a listening `side` receiver, fed
/// by libsrt's srt-live-transmit; the receiver's memory after `seconds`.
fn live_receiver(ours: &Path, dir: &Path, side: Side, seconds: u64) -> Result<Live, Failure> {
    let name = format!("live-{}", side.name());
    let log = |who: &str| dir.join(format!("{name}.{who}.log"));
    let sink = Sink::start()?;
    let srt_port = free_port()?;
    let mut input_port = free_port()?;
    while input_port == srt_port || input_port == sink.port {
        input_port = free_port()?;
    }
    let listen = format!("srt://127.0.0.1:{srt_port}?mode=listener");
    let output = format!("udp://127.0.0.1:{}?sndbuf={UDP_BUF}", sink.port);
    let mut receiver = match side {
        Side::Ours => Command::new(ours),
        Side::Libsrt => {
            let mut c = Command::new(LIBSRT);
            c.arg("-a:no");
            c
        }
    };
    receiver.args([listen, output]);
    let mut sender = Command::new(LIBSRT);
    sender.args([
        "-a:no".to_string(),
        format!("udp://127.0.0.1:{input_port}?rcvbuf={UDP_BUF}"),
        format!("srt://127.0.0.1:{srt_port}"),
    ]);
    let (rcv_pid, snd_pid, ready) = start_pair(
        &name,
        &mut receiver,
        &mut sender,
        srt_port,
        input_port,
        &log,
    )?;
    let streamed = ready.and_then(|()| source(input_port, LIVE_RATE, Duration::from_secs(seconds)));
    let memory = (status_kib(rcv_pid, "VmRSS"), status_kib(rcv_pid, "VmHWM"));
    stop(snd_pid);
    stop(rcv_pid);
    let counts = sink.finish();
    let logs = || {
        format!(
            "sender: {} receiver: {}",
            read_log(&log("sender")),
            read_log(&log("receiver"))
        )
    };
    let (sent, _, _) = streamed.map_err(|e| Failure::Failed(format!("{name}: {e}; {}", logs())))?;
    let (Some(rss), Some(hwm)) = memory else {
        return Err(Failure::Failed(format!(
            "{name}: the receiver's /proc status could not be read; {}",
            logs()
        )));
    };
    if counts.delivered == 0 {
        return Err(Failure::Failed(format!(
            "{name}: nothing was delivered; {}",
            logs()
        )));
    }
    Ok(Live {
        rss,
        hwm,
        delivered: counts.delivered,
        sent,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::args;

    #[test]
    fn flags_are_parsed_and_checked() {
        assert_eq!(
            parse(&[]).unwrap(),
            Options {
                seconds: 10,
                connections: 100,
                cycles: 50,
                runs: 2
            }
        );
        let o = parse(&args(&[
            "--seconds",
            "3",
            "--connections",
            "10",
            "--runs",
            "1",
        ]))
        .unwrap();
        assert_eq!((o.seconds, o.connections, o.runs), (3, 10, 1));
        for bad in [
            &["--seconds"][..],
            &["--seconds", "0"],
            &["--connections", "1"],
            &["--cycles", "x"],
            &["--fast"],
        ] {
            assert!(parse(&args(bad)).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn program_output_is_read_per_connection_and_per_cycle() {
        let idle = parse_idle(
            "rss_listening_kib 100\nrss_first_kib 400\nrss_all_kib 1390\nhwm_kib 1400\nconnections 100\n",
        )
        .unwrap();
        assert_eq!((idle.first_cost(), idle.each_cost()), (300, 10));
        let c = parse_cycle("cycles 4\nalloc_bytes 4000\nalloc_calls 40\nheld_delta_bytes 8\n")
            .unwrap();
        assert_eq!(
            c,
            Cycle {
                bytes: 1000,
                calls: 10,
                held: 2
            }
        );
        assert!(parse_idle("rss_listening_kib 1\n").is_err());
    }

    #[test]
    fn status_fields_are_read_in_kib() {
        let me = std::process::id() as i32;
        assert!(status_kib(me, "VmRSS").is_some_and(|k| k > 0));
        assert!(status_kib(me, "NoSuchField").is_none());
    }
}
