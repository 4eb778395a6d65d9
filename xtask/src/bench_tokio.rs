//! `cargo xtask bench tokio`: srt-tokio (ours) beside srt-rs (crates.io
//! `srt-tokio` 0.4) and Debian's libsrt 1.5.1, in the same run, the three
//! alternating (the order rotating each round):
//!
//! - file: `--mib` MiB (default 256) one way over loopback, sender and
//!   receiver in one process: throughput and CPU. Ours and libsrt in file
//!   mode with the stream API; srt-rs has live mode only, so its figure is
//!   1316-byte live messages sent as fast as they go with a flow window
//!   kept by the program (see `srt-tokio/examples/bench_tokio.rs`);
//! - live: one stream of 1316-byte messages paced at each of `--rates`
//!   Mbit/s (default 100,500) for `--seconds` s (default 10): the CPU time
//!   of the process (both ends) and every message checked for order and
//!   loss.
//!
//! Ours and srt-rs run in `srt-tokio/examples/bench_tokio.rs` (one tokio
//! runtime, one worker per core; srt-rs is only a dev-dependency there),
//! libsrt in `xtask/c/bench_capi.c` linked to Debian's `libsrt.a` (the
//! program of `bench capi`). All three print the same result line. Each
//! measurement runs `--runs` times per stack (default 3) and the table
//! shows the median. The machine may be shared: read ratios, not absolute
//! figures.

use crate::bench_capi::{median_of, run_once, static_link_flags, Outcome};
use crate::bench_file::{io_failure, target_dir};
use crate::util::{self, Failure};
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

/// The stacks, in the order of the result columns.
const STACKS: [&str; 3] = ["libsrt", "srt-rs", "ours"];

/// The command line of `bench tokio`.
#[derive(Debug, PartialEq)]
struct Options {
    mib: u64,
    seconds: u64,
    rates: Vec<u32>,
    runs: usize,
    parts: Vec<String>,
}

fn parse(args: &[String]) -> Result<Options, Failure> {
    let mut o = Options {
        mib: 256,
        seconds: 10,
        rates: vec![100, 500],
        runs: 3,
        parts: vec!["file".into(), "live".into()],
    };
    let number = |v: Option<&String>, max: u64, flag: &str| -> Result<u64, Failure> {
        v.and_then(|v| v.parse().ok())
            .filter(|&v| v > 0 && v <= max)
            .ok_or_else(|| Failure::Usage(format!("{flag} takes a number in 1..={max}")))
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--mib" => o.mib = number(it.next(), 1 << 16, a)?,
            "--seconds" => o.seconds = number(it.next(), 3600, a)?,
            "--runs" => o.runs = number(it.next(), 100, a)? as usize,
            "--rates" => {
                o.rates = it
                    .next()
                    .and_then(|v| {
                        v.split(',')
                            .map(|r| r.trim().parse().ok().filter(|&r| r > 0 && r <= 10_000))
                            .collect::<Option<Vec<u32>>>()
                    })
                    .ok_or_else(|| {
                        Failure::Usage("--rates takes numbers like 100,500 (1..=10000)".into())
                    })?
            }
            "--parts" => {
                let usage = || Failure::Usage("--parts takes file,live".into());
                let parts: Vec<String> = it
                    .next()
                    .ok_or_else(usage)?
                    .split(',')
                    .map(str::to_owned)
                    .collect();
                if parts.iter().any(|p| p != "file" && p != "live") {
                    return Err(usage());
                }
                o.parts = parts;
            }
            other => return Err(Failure::Usage(format!("bench tokio: unknown flag {other}"))),
        }
    }
    Ok(o)
}

/// Each stack's program and the arguments that go before a measurement's.
struct Programs {
    stacks: [(PathBuf, Vec<String>); 3],
    runs: usize,
}

/// Builds srt-tokio's bench program (release) and bench_capi.c linked to
/// Debian's libsrt into `dir`.
fn build(dir: &std::path::Path) -> Result<Programs, Failure> {
    util::run(util::cargo().args([
        "build",
        "--release",
        "-p",
        "srt-tokio@0.1.0",
        "--example",
        "bench_tokio",
    ]))?;
    let tokio = target_dir().join("release/examples/bench_tokio");
    let libsrt = dir.join("bench_capi_libsrt");
    let mut cc = Command::new("cc");
    cc.args(["-std=gnu11", "-O2", "-Wall", "-Wextra", "-Werror"])
        .arg(util::root().join("xtask/c/bench_capi.c"))
        .args(static_link_flags(None)?)
        .arg("-o")
        .arg(&libsrt);
    util::run(&mut cc)?;
    Ok(Programs {
        stacks: [
            (libsrt, Vec::new()),
            (tokio.clone(), vec!["srt-rs".into()]),
            (tokio, vec!["ours".into()]),
        ],
        runs: 0,
    })
}

/// The order of the stacks in round `round`: each goes first in turn.
fn order(round: usize) -> [usize; 3] {
    [round % 3, (round + 1) % 3, (round + 2) % 3]
}

impl Programs {
    /// `args` `runs` times per stack, alternating; every outcome of each
    /// (failures as `None`, reported).
    fn measure(&self, label: &str, args: &[String], limit: Duration) -> [Vec<Option<Outcome>>; 3] {
        let mut out: [Vec<Option<Outcome>>; 3] = Default::default();
        for round in 0..self.runs {
            for k in order(round) {
                let (program, prefix) = &self.stacks[k];
                let all: Vec<String> = prefix.iter().chain(args).cloned().collect();
                let result = run_once(program, &all, limit);
                match &result {
                    Ok(o) => println!(
                        "  {label:<18} {:<6} {:>8.3} s  cpu {:>7.3} s  {:>8.0} Mbit/s  sent {:>9} received {:>9} lost {:>7}",
                        STACKS[k],
                        o.seconds,
                        o.cpu,
                        o.bytes as f64 * 8.0 / o.seconds / 1e6,
                        o.sent,
                        o.received,
                        o.lost
                    ),
                    Err(Failure::Failed(msg) | Failure::Usage(msg)) => {
                        println!("  {label:<18} {:<6} FAILED: {msg}", STACKS[k])
                    }
                }
                out[k].push(result.ok());
            }
        }
        out
    }
}

/// `a / b`, or NaN when `b` is missing or 0.
fn ratio(a: Option<f64>, b: Option<f64>) -> f64 {
    match (a, b) {
        (Some(a), Some(b)) if b != 0.0 => a / b,
        _ => f64::NAN,
    }
}

/// `cargo xtask bench tokio [--mib N] [--seconds N] [--rates ..] [--runs R]
/// [--parts file,live]`.
pub(crate) fn main(args: &[String]) -> Result<(), Failure> {
    let opts = parse(args)?;
    let dir = target_dir().join("bench-tokio");
    std::fs::create_dir_all(&dir).map_err(io_failure(&dir))?;
    let mut programs = build(&dir)?;
    programs.runs = opts.runs;
    let mut summary = Vec::new();
    let mut verdicts = Vec::new();
    let mut failed = false;
    let s = |v: &str| v.to_owned();
    let show = |v: Option<f64>, digits: usize| match v {
        Some(v) => format!("{v:.digits$}"),
        None => "failed".into(),
    };

    if opts.parts.iter().any(|p| p == "file") {
        let label = format!("file {} MiB", opts.mib);
        let r = programs.measure(
            &label,
            &[s("file"), opts.mib.to_string()],
            Duration::from_secs(600),
        );
        let mbps = |x: &Outcome| x.bytes as f64 * 8.0 / x.seconds / 1e6;
        let cpu = |x: &Outcome| x.cpu / (x.bytes.max(1) as f64 / f64::from(1u32 << 30));
        let lost = |x: &Outcome| x.lost as f64;
        let [l, t, o] = [0, 1, 2].map(|k| median_of(&r[k], mbps));
        let [lc, tc, oc] = [0, 1, 2].map(|k| median_of(&r[k], cpu));
        failed |= [l, t, o].iter().any(Option::is_none);
        summary.push(format!(
            "file {} MiB: throughput libsrt {} Mbit/s, srt-rs {} Mbit/s (live messages, lost {}), ours {} Mbit/s: ours/srt-rs {:.2}x, ours/libsrt {:.2}x (higher is better)\n  CPU per GiB (both ends): libsrt {} s, srt-rs {} s, ours {} s: ours/srt-rs {:.2}x, ours/libsrt {:.2}x",
            opts.mib,
            show(l, 0),
            show(t, 0),
            show(median_of(&r[1], lost), 0),
            show(o, 0),
            ratio(o, t),
            ratio(o, l),
            show(lc, 2),
            show(tc, 2),
            show(oc, 2),
            ratio(oc, tc),
            ratio(oc, lc),
        ));
        verdicts.push(format!(
            "file throughput ours >= libsrt's: {}",
            if ratio(o, l) >= 1.0 { "yes" } else { "NO" }
        ));
    }

    if opts.parts.iter().any(|p| p == "live") {
        for &rate in &opts.rates {
            let label = format!("live {rate} Mbit/s");
            let r = programs.measure(
                &label,
                &[s("live"), rate.to_string(), opts.seconds.to_string()],
                Duration::from_secs(opts.seconds + 60),
            );
            let cpu = |x: &Outcome| x.cpu;
            let per_packet = |x: &Outcome| x.cpu / x.received.max(1) as f64 * 1e6;
            let delivered = |x: &Outcome| 100.0 * x.received as f64 / x.sent.max(1) as f64;
            let [l, t, o] = [0, 1, 2].map(|k| median_of(&r[k], cpu));
            let [lp, tp, op] = [0, 1, 2].map(|k| median_of(&r[k], per_packet));
            let [ld, td, od] = [0, 1, 2].map(|k| median_of(&r[k], delivered));
            failed |= [l, t, o].iter().any(Option::is_none);
            summary.push(format!(
                "live {rate} Mbit/s, {} s: CPU (both ends) libsrt {} s, srt-rs {} s, ours {} s: ours/srt-rs {:.2}x, ours/libsrt {:.2}x (lower is better)\n  CPU per packet: libsrt {} µs, srt-rs {} µs, ours {} µs; delivered libsrt {}%, srt-rs {}%, ours {}%",
                opts.seconds,
                show(l, 3),
                show(t, 3),
                show(o, 3),
                ratio(o, t),
                ratio(o, l),
                show(lp, 2),
                show(tp, 2),
                show(op, 2),
                show(ld, 3),
                show(td, 3),
                show(od, 3),
            ));
            let ours_lost: u64 = r[2].iter().flatten().map(|x| x.lost).sum();
            verdicts.push(format!(
                "live {rate} Mbit/s CPU ours <= libsrt's: {}; ours lost {ours_lost} messages in {} run(s)",
                if ratio(o, l) <= 1.0 { "yes" } else { "NO" },
                r[2].iter().flatten().count(),
            ));
        }
    }

    println!(
        "\nbench tokio: sender and receiver in one process per run: srt-tokio (ours) and srt-rs 0.4 in\nsrt-tokio/examples/bench_tokio.rs, libsrt 1.5.1 (Debian) in xtask/c/bench_capi.c;\nmedian of {} run(s) per stack, alternating (a shared machine is noisy: read the ratios)\n",
        opts.runs
    );
    for line in summary.iter().chain(&verdicts) {
        println!("{line}");
    }
    if failed {
        Err(Failure::Failed("some runs failed (see above)".into()))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_flags_and_refuses_bad_ones() {
        let args: Vec<String> = ["--runs", "5", "--rates", "50,200", "--parts", "live"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let o = parse(&args).unwrap();
        assert_eq!(
            (o.runs, o.rates.clone(), o.parts.clone(), o.mib),
            (5, vec![50, 200], vec!["live".to_string()], 256)
        );
        assert!(parse(&["--runs".into(), "0".into()]).is_err());
        assert!(parse(&["--rates".into(), "0".into()]).is_err());
        assert!(parse(&["--parts".into(), "streams".into()]).is_err());
        assert!(parse(&["--mib".into()]).is_err());
    }

    #[test]
    fn every_stack_goes_first_in_turn() {
        assert_eq!(order(0), [0, 1, 2]);
        assert_eq!(order(1), [1, 2, 0]);
        assert_eq!(order(2), [2, 0, 1]);
        assert_eq!(order(3), order(0));
    }

    #[test]
    fn ratio_of_a_missing_figure_is_nan() {
        assert_eq!(ratio(Some(3.0), Some(2.0)), 1.5);
        assert!(ratio(None, Some(2.0)).is_nan());
        assert!(ratio(Some(1.0), Some(0.0)).is_nan());
    }
}
