//! `cargo xtask bench capi`: the drop-in library against Debian's libsrt,
//! through one C program (`xtask/c/bench_capi.c`) linked once to each
//! (both static: Debian's `libsrt.a` with `pkg-config --static --libs srt`,
//! ours as `cargo xtask capi --release` lays it out), run alternately in
//! the same session:
//!
//! - file: `--mib` MiB (default 1024) with the stream API (`SRTT_FILE`,
//!   `srt_send`/`srt_recv`), caller and listener in one process:
//!   throughput and CPU;
//! - live: one stream of 1316-byte messages (`srt_sendmsg2`/`srt_recvmsg`)
//!   at each of `--rates` Mbit/s (default 100,500) for `--seconds` s: CPU
//!   per delivered packet (both ends are in the process) and losses;
//! - streams: `N` callers of `--stream-mbps` Mbit/s each (default 20) to
//!   one listener port, read by one thread through one epoll container,
//!   for each `N` of `--streams` (default 10,25,50): delivery and CPU, and
//!   the largest aggregate each library carried without a loss.
//!
//! Each measurement runs `--runs` times per library (default 1), the
//! libraries alternating (and which goes first alternating too), and the
//! table shows the median. The machine may be shared: read ratios, not
//! absolute figures.
//!
//! With `--callgrind` (default: the live part only, at 10 Mbit/s for 5 s),
//! each program runs under valgrind's callgrind ([`crate::callgrind`]) and
//! the live figures are the user-space instructions per delivered packet,
//! counted by the program itself from the stream's start to its end
//! (`CALLGRIND_ZERO_STATS` / `CALLGRIND_DUMP_STATS_AT`), with the engine's
//! share of ours: counts that repeat on a busy machine.
//!
//! `SRT_CAPI_PREFIX=dir` takes ours from a `cargo xtask capi --release
//! --prefix dir` done before (another build, to compare two), instead of
//! building it.

use crate::bench_file::{io_failure, target_dir};
use crate::callgrind::{self, Count};
use crate::util::{self, Failure};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Which library a program is linked to.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Lib {
    Libsrt,
    Ours,
}

impl Lib {
    fn name(self) -> &'static str {
        match self {
            Lib::Libsrt => "libsrt",
            Lib::Ours => "ours",
        }
    }
}

/// The command line of `bench capi`.
#[derive(Debug, PartialEq)]
struct Options {
    mib: u64,
    seconds: u64,
    rates: Vec<u32>,
    streams: Vec<u32>,
    stream_mbps: u32,
    runs: usize,
    parts: Vec<String>,
    callgrind: bool,
}

/// A comma-separated list of positive numbers no larger than `max`.
fn list(value: Option<&String>, max: u32, flag: &str) -> Result<Vec<u32>, Failure> {
    let usage = || Failure::Usage(format!("{flag} takes numbers like 10,25 (1..={max})"));
    value
        .ok_or_else(usage)?
        .split(',')
        .map(|r| r.trim().parse().ok().filter(|&r| r > 0 && r <= max))
        .collect::<Option<Vec<u32>>>()
        .ok_or_else(usage)
}

/// A positive number no larger than `max`.
fn number(value: Option<&String>, max: u64, flag: &str) -> Result<u64, Failure> {
    value
        .and_then(|v| v.parse().ok())
        .filter(|&v| v > 0 && v <= max)
        .ok_or_else(|| Failure::Usage(format!("{flag} takes a number in 1..={max}")))
}

fn parse(args: &[String]) -> Result<Options, Failure> {
    let mut o = Options {
        mib: 1024,
        seconds: 10,
        rates: vec![100, 500],
        streams: vec![10, 25, 50],
        stream_mbps: 20,
        runs: 1,
        parts: vec!["file".into(), "live".into(), "streams".into()],
        callgrind: false,
    };
    let (mut rates_given, mut parts_given, mut seconds_given) = (false, false, false);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--mib" => o.mib = number(it.next(), 1 << 20, a)?,
            "--seconds" => {
                o.seconds = number(it.next(), 3600, a)?;
                seconds_given = true;
            }
            "--rates" => {
                o.rates = list(it.next(), 10_000, a)?;
                rates_given = true;
            }
            "--callgrind" => o.callgrind = true,
            "--streams" => o.streams = list(it.next(), 1000, a)?,
            "--stream-mbps" => o.stream_mbps = number(it.next(), 1000, a)? as u32,
            "--runs" => o.runs = number(it.next(), 100, a)? as usize,
            "--parts" => {
                let parts: Vec<String> = it
                    .next()
                    .ok_or_else(|| Failure::Usage("--parts takes file,live,streams".into()))?
                    .split(',')
                    .map(str::to_owned)
                    .collect();
                if parts
                    .iter()
                    .any(|p| !["file", "live", "streams"].contains(&p.as_str()))
                {
                    return Err(Failure::Usage("--parts takes file,live,streams".into()));
                }
                o.parts = parts;
                parts_given = true;
            }
            other => return Err(Failure::Usage(format!("bench capi: unknown flag {other}"))),
        }
    }
    if o.callgrind {
        // Under callgrind a program runs some 50 times slower.
        if !rates_given {
            o.rates = vec![10];
        }
        if !parts_given {
            o.parts = vec!["live".into()];
        }
        if !seconds_given {
            o.seconds = 5;
        }
    }
    Ok(o)
}

/// What one run of the program printed.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct Outcome {
    pub(crate) bytes: u64,
    pub(crate) seconds: f64,
    pub(crate) cpu: f64,
    pub(crate) sent: u64,
    pub(crate) received: u64,
    pub(crate) lost: u64,
    /// The stream's instructions, under `--callgrind`.
    pub(crate) instructions: Option<Count>,
}

/// Parses the program's `result key=value ...` line.
fn parse_result(output: &str) -> Option<Outcome> {
    let line = output.lines().find(|l| l.starts_with("result "))?;
    let mut o = Outcome::default();
    for field in line.split_whitespace().skip(1) {
        let (key, value) = field.split_once('=')?;
        match key {
            "bytes" => o.bytes = value.parse().ok()?,
            "seconds" => o.seconds = value.parse().ok()?,
            "cpu" => o.cpu = value.parse().ok()?,
            "sent" => o.sent = value.parse().ok()?,
            "received" => o.received = value.parse().ok()?,
            "lost" => o.lost = value.parse().ok()?,
            _ => {}
        }
    }
    Some(o)
}

/// The median of `values` (the lower middle for an even count).
fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values
        .get((values.len().max(1) - 1) / 2)
        .copied()
        .unwrap_or(0.0)
}

/// `pkg-config --static --libs srt` with `pc_dir` first on the search
/// path, `-lsrt` replaced by the pc file's `libsrt.a`.
pub(crate) fn static_link_flags(pc_dir: Option<&Path>) -> Result<Vec<String>, Failure> {
    let pkg_config = |args: &[&str]| -> Result<String, Failure> {
        let mut cmd = Command::new("pkg-config");
        if let Some(dir) = pc_dir {
            cmd.env("PKG_CONFIG_PATH", dir);
        }
        cmd.args(args).arg("srt");
        let out = cmd
            .output()
            .map_err(|e| Failure::Failed(format!("pkg-config: {e}")))?;
        if !out.status.success() {
            return Err(Failure::Failed(format!(
                "`{}` failed: {} (Debian's libsrt: apt-get install libsrt-openssl-dev)",
                util::display(&cmd),
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    };
    let archive = PathBuf::from(pkg_config(&["--variable=libdir"])?.trim()).join("libsrt.a");
    if !archive.is_file() {
        return Err(Failure::Failed(format!("{} is missing", archive.display())));
    }
    let mut flags: Vec<String> = pkg_config(&["--cflags"])?
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    flags.extend(
        pkg_config(&["--static", "--libs"])?
            .split_whitespace()
            .map(|f| match f {
                "-lsrt" => archive.to_string_lossy().into_owned(),
                _ => f.to_owned(),
            }),
    );
    flags.push("-pthread".into());
    Ok(flags)
}

/// Builds both programs into `dir`: (libsrt's, ours). Ours links the
/// library laid out in `SRT_CAPI_PREFIX` if set, else one built now.
fn build(dir: &Path) -> Result<(PathBuf, PathBuf), Failure> {
    let prefix = match std::env::var_os("SRT_CAPI_PREFIX") {
        Some(given) => {
            let given = PathBuf::from(given);
            if !given.join("lib/pkgconfig").is_dir() {
                return Err(Failure::Usage(format!(
                    "SRT_CAPI_PREFIX={} has no lib/pkgconfig (make it with cargo xtask capi --release --prefix DIR)",
                    given.display()
                )));
            }
            println!("ours: {} (SRT_CAPI_PREFIX)", given.display());
            given
        }
        None => {
            let prefix = dir.join("ours");
            crate::capi::main(&[
                "--release".into(),
                "--prefix".into(),
                prefix.to_string_lossy().into_owned(),
            ])?;
            prefix
        }
    };
    let source = util::root().join("xtask/c/bench_capi.c");
    let mut built = Vec::new();
    for (lib, pc) in [
        (Lib::Libsrt, None),
        (Lib::Ours, Some(prefix.join("lib/pkgconfig"))),
    ] {
        let out = dir.join(format!("bench_capi_{}", lib.name()));
        let mut cc = Command::new("cc");
        cc.args(["-std=gnu11", "-O2", "-Wall", "-Wextra", "-Werror"])
            .arg(&source)
            .args(static_link_flags(pc.as_deref())?)
            .arg("-o")
            .arg(&out);
        util::run(&mut cc)?;
        built.push(out);
    }
    let ours = built.pop().expect("two programs");
    let libsrt = built.pop().expect("two programs");
    Ok((libsrt, ours))
}

/// Runs `program args`, killed after `limit`; its result line.
pub(crate) fn run_once(
    program: &Path,
    args: &[String],
    limit: Duration,
) -> Result<Outcome, Failure> {
    let mut cmd = Command::new(program);
    cmd.args(args);
    run_command(cmd, limit)
}

/// Runs `cmd`, killed after `limit`; its result line.
fn run_command(mut cmd: Command, limit: Duration) -> Result<Outcome, Failure> {
    let line = util::display(&cmd);
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| Failure::Failed(format!("cannot start `{line}`: {e}")))?;
    let end = Instant::now() + limit;
    let mut hung = false;
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if Instant::now() < end => std::thread::sleep(Duration::from_millis(50)),
            _ => {
                let _ = child.kill();
                hung = true;
                break;
            }
        }
    }
    let out = child
        .wait_with_output()
        .map_err(|e| Failure::Failed(format!("`{line}`: {e}")))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    match (hung, out.status.success(), parse_result(&stdout)) {
        (false, true, Some(o)) => Ok(o),
        // The figures were out; only closing or cleaning up hung.
        (true, _, Some(o)) => {
            println!(
                "  (`{line}` hung after its result, killed after {} s)",
                limit.as_secs()
            );
            Ok(o)
        }
        (true, _, None) => Err(Failure::Failed(format!(
            "`{line}` did not finish in {} s: {}",
            limit.as_secs(),
            String::from_utf8_lossy(&out.stderr).trim()
        ))),
        _ => Err(Failure::Failed(format!(
            "`{line}` failed ({}): {}{}",
            out.status,
            stdout.trim(),
            String::from_utf8_lossy(&out.stderr).trim()
        ))),
    }
}

/// The programs and how often to run each measurement.
struct Bench {
    libsrt: PathBuf,
    ours: PathBuf,
    runs: usize,
    /// Under `--callgrind`: where the profiles go.
    callgrind: Option<PathBuf>,
}

impl Bench {
    /// `args` `runs` times per library, alternating; every outcome of
    /// each (failures as `None`, reported).
    fn measure(&self, label: &str, args: &[String], limit: Duration) -> [Vec<Option<Outcome>>; 2] {
        let mut out: [Vec<Option<Outcome>>; 2] = [Vec::new(), Vec::new()];
        for round in 0..self.runs {
            let order = if round % 2 == 0 {
                [Lib::Libsrt, Lib::Ours]
            } else {
                [Lib::Ours, Lib::Libsrt]
            };
            for lib in order {
                let program = match lib {
                    Lib::Libsrt => &self.libsrt,
                    Lib::Ours => &self.ours,
                };
                let result = self.run(lib, program, args, limit);
                match &result {
                    Ok(o) => println!(
                        "  {label:<22} {:<6} {:>8.3} s  cpu {:>7.3} s  sent {:>9} received {:>9} lost {:>7}",
                        lib.name(),
                        o.seconds,
                        o.cpu,
                        o.sent,
                        o.received,
                        o.lost
                    ),
                    Err(Failure::Failed(msg) | Failure::Usage(msg)) => {
                        println!("  {label:<22} {:<6} FAILED: {msg}", lib.name())
                    }
                }
                out[lib as usize].push(result.ok());
            }
        }
        out
    }

    /// One run of `program args`, under callgrind when asked.
    fn run(
        &self,
        lib: Lib,
        program: &Path,
        args: &[String],
        limit: Duration,
    ) -> Result<Outcome, Failure> {
        let Some(dir) = &self.callgrind else {
            return run_once(program, args, limit);
        };
        let profile = dir.join(format!("{}.{}.callgrind", lib.name(), args.join("-")));
        let _ = std::fs::remove_file(callgrind::dump_path(&profile));
        let mut cmd = callgrind::command(program, &profile);
        cmd.args(args);
        let mut outcome = run_command(cmd, limit)?;
        outcome.instructions = Some(callgrind::read(&profile)?);
        Ok(outcome)
    }
}

/// The median of `f` over the outcomes that succeeded, if any did.
pub(crate) fn median_of(outcomes: &[Option<Outcome>], f: impl Fn(&Outcome) -> f64) -> Option<f64> {
    let v: Vec<f64> = outcomes.iter().flatten().map(f).collect();
    (!v.is_empty()).then(|| median(v))
}

/// `cargo xtask bench capi [--mib N] [--seconds N] [--rates ..] [--streams ..]
/// [--stream-mbps M] [--runs R] [--parts file,live,streams]`.
pub(crate) fn main(args: &[String]) -> Result<(), Failure> {
    let opts = parse(args)?;
    let dir = target_dir().join("bench-capi");
    std::fs::create_dir_all(&dir).map_err(io_failure(&dir))?;
    let (libsrt, ours) = build(&dir)?;
    if opts.callgrind {
        callgrind::require()?;
    }
    let bench = Bench {
        libsrt,
        ours,
        runs: opts.runs,
        callgrind: opts.callgrind.then(|| dir.clone()),
    };
    let mut summary = Vec::new();
    let mut failed = false;
    let s = |v: &str| v.to_owned();
    let live_limit = Duration::from_secs(opts.seconds + 30);

    if opts.parts.iter().any(|p| p == "file") {
        let label = format!("file {} MiB", opts.mib);
        let [l, o] = bench.measure(
            &label,
            &[s("file"), opts.mib.to_string()],
            Duration::from_secs(600),
        );
        let mbps = |x: &Outcome| x.bytes as f64 * 8.0 / x.seconds / 1e6;
        let cpu = |x: &Outcome| x.cpu / (x.bytes as f64 / f64::from(1u32 << 30));
        match (median_of(&l, mbps), median_of(&o, mbps)) {
            (Some(lm), Some(om)) => summary.push(format!(
                "file {} MiB (stream API): libsrt {lm:.0} Mbit/s, ours {om:.0} Mbit/s: throughput ours/libsrt {:.2}x (higher is better); CPU per GiB libsrt {:.2} s, ours {:.2} s: {:.2}x",
                opts.mib,
                om / lm,
                median_of(&l, cpu).unwrap_or(0.0),
                median_of(&o, cpu).unwrap_or(0.0),
                median_of(&o, cpu).unwrap_or(0.0) / median_of(&l, cpu).unwrap_or(f64::NAN),
            )),
            _ => failed = true,
        }
    }

    if opts.parts.iter().any(|p| p == "live") {
        for &rate in &opts.rates {
            let label = format!("live {rate} Mbit/s");
            let [l, o] = bench.measure(
                &label,
                &[s("live"), rate.to_string(), opts.seconds.to_string()],
                live_limit,
            );
            let per_packet = |x: &Outcome| x.cpu / x.received.max(1) as f64 * 1e6;
            let lost = |x: &Outcome| x.lost as f64;
            match (median_of(&l, per_packet), median_of(&o, per_packet)) {
                (Some(lc), Some(oc)) => summary.push(format!(
                    "live {rate} Mbit/s: CPU per packet (both ends) libsrt {lc:.2} µs, ours {oc:.2} µs: ours/libsrt {:.2}x (lower is better); lost libsrt {:.0}, ours {:.0}",
                    oc / lc,
                    median_of(&l, lost).unwrap_or(0.0),
                    median_of(&o, lost).unwrap_or(0.0),
                )),
                _ => failed = true,
            }
            if opts.callgrind {
                let total = |x: &Outcome| {
                    x.instructions.map_or(0, |c| c.total) as f64 / x.received.max(1) as f64
                };
                let engine = |x: &Outcome| {
                    x.instructions.map_or(0, |c| c.engine) as f64 / x.received.max(1) as f64
                };
                match (median_of(&l, total), median_of(&o, total)) {
                    (Some(li), Some(oi)) => summary.push(format!(
                        "live {rate} Mbit/s: user-space instructions per packet (both ends, callgrind) libsrt {li:.0}, ours {oi:.0} (engine {:.0}): ours/libsrt {:.2}x (lower is better)",
                        median_of(&o, engine).unwrap_or(0.0),
                        oi / li,
                    )),
                    _ => failed = true,
                }
            }
        }
    }

    if opts.parts.iter().any(|p| p == "streams") {
        // The largest aggregate each library carried with no loss in any run.
        let mut best = [0u32; 2];
        for &n in &opts.streams {
            let aggregate = n * opts.stream_mbps;
            let label = format!("{n} x {} Mbit/s", opts.stream_mbps);
            let results = bench.measure(
                &label,
                &[
                    s("streams"),
                    n.to_string(),
                    opts.stream_mbps.to_string(),
                    opts.seconds.to_string(),
                ],
                live_limit + Duration::from_secs(u64::from(n)),
            );
            for (k, runs) in results.iter().enumerate() {
                let lossless = !runs.is_empty()
                    && runs
                        .iter()
                        .all(|r| r.is_some_and(|r| r.lost == 0 && r.sent > 0));
                if lossless {
                    best[k] = best[k].max(aggregate);
                }
            }
            let cpu = |x: &Outcome| x.cpu / x.received.max(1) as f64 * 1e6;
            let delivered = |x: &Outcome| 100.0 * x.received as f64 / x.sent.max(1) as f64;
            summary.push(format!(
                "{n} streams x {} Mbit/s on one port ({aggregate} Mbit/s): delivered libsrt {:.2}%, ours {:.2}%; CPU per packet libsrt {:.2} µs, ours {:.2} µs",
                opts.stream_mbps,
                median_of(&results[0], delivered).unwrap_or(0.0),
                median_of(&results[1], delivered).unwrap_or(0.0),
                median_of(&results[0], cpu).unwrap_or(f64::NAN),
                median_of(&results[1], cpu).unwrap_or(f64::NAN),
            ));
        }
        summary.push(format!(
            "largest lossless aggregate on one port: libsrt {} Mbit/s, ours {} Mbit/s{}",
            best[0],
            best[1],
            if best[0] > 0 {
                format!(
                    ": ours/libsrt {:.2}x",
                    f64::from(best[1]) / f64::from(best[0])
                )
            } else {
                String::new()
            }
        ));
    }

    println!(
        "\nbench capi: one C program, caller and listener in one process, linked to Debian's libsrt.a and to ours;\nmedian of {} run(s) per library, alternating (a shared machine is noisy: read the ratios)\n",
        opts.runs
    );
    for line in &summary {
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
    fn parses_the_result_line() {
        let o = parse_result(
            "noise\nresult bytes=10 seconds=1.5 cpu=0.25 sent=3 received=2 lost=1 bad=0\n",
        )
        .unwrap();
        assert_eq!(
            o,
            Outcome {
                bytes: 10,
                seconds: 1.5,
                cpu: 0.25,
                sent: 3,
                received: 2,
                lost: 1,
                instructions: None,
            }
        );
        assert_eq!(parse_result("result bytes=x"), None);
        assert_eq!(parse_result("nothing"), None);
    }

    #[test]
    fn parses_flags_and_refuses_bad_ones() {
        let args: Vec<String> = ["--runs", "3", "--streams", "5,10", "--parts", "live"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let o = parse(&args).unwrap();
        assert_eq!(
            (o.runs, o.streams.clone(), o.parts.clone()),
            (3, vec![5, 10], vec!["live".to_string()])
        );
        assert!(parse(&["--runs".into(), "0".into()]).is_err());
        assert!(parse(&["--parts".into(), "disk".into()]).is_err());
        let o = parse(&["--callgrind".into()]).unwrap();
        assert_eq!(
            (o.callgrind, o.rates, o.parts, o.seconds),
            (true, vec![10], vec!["live".to_string()], 5),
            "callgrind's defaults"
        );
        let o = parse(&["--callgrind".into(), "--rates".into(), "20".into()]).unwrap();
        assert_eq!(o.rates, vec![20]);
    }

    #[test]
    fn median_takes_the_lower_middle() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![4.0, 1.0, 3.0, 2.0]), 2.0);
    }
}
