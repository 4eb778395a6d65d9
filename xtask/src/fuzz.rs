//! `cargo xtask fuzz`: run a libFuzzer target from `fuzz/` through cargo-fuzz,
//! on the stable toolchain.
//!
//! cargo-fuzz's default build adds `-Zsanitizer=address`, which stable rustc
//! refuses. srt-proto denies `unsafe` code, so ASan finds little there and the
//! default here is `--sanitizer none`: libFuzzer's coverage instrumentation
//! (`-Cpasses=sancov-module`, stable flags), debug assertions and overflow
//! checks, no ASan. `--asan` asks for AddressSanitizer anyway, by setting
//! `RUSTC_BOOTSTRAP=1` so that stable rustc accepts `-Zsanitizer`.

use crate::ci::CARGO_FUZZ_VERSION;
use crate::util::{self, Failure};
use std::io::{BufRead, BufReader, Write};
use std::process::Stdio;
use std::time::Instant;

const DEFAULT_SECONDS: u64 = 60;
/// libFuzzer's per-input time limit: an input that runs longer is a hang,
/// reported and saved like a crash. The targets bound their work with
/// counters; this catches a loop that never returns to them (the slowest
/// honest input takes well under a second).
const INPUT_TIMEOUT_SECONDS: u64 = 10;
/// CI's run of each target, after the build.
pub(crate) const CI_SECONDS: u64 = 30;

/// The cargo-fuzz arguments for `build` or `run` in the sanitizer mode.
pub(crate) fn cargo_fuzz_args(action: &str, asan: bool) -> Vec<String> {
    let sanitizer = if asan { "address" } else { "none" };
    [
        "fuzz",
        action,
        "--fuzz-dir",
        "fuzz",
        "--sanitizer",
        sanitizer,
    ]
    .map(String::from)
    .to_vec()
}

struct Options {
    target: String,
    seconds: u64,
    asan: bool,
    libfuzzer_args: Vec<String>,
}

fn parse(args: &[String]) -> Result<Options, Failure> {
    let usage = |msg: String| Failure::Usage(msg);
    let mut target = None;
    let mut seconds = DEFAULT_SECONDS;
    let mut asan = false;
    let mut libfuzzer_args = Vec::new();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--seconds" => {
                let value = it
                    .next()
                    .ok_or_else(|| usage("--seconds needs a value".into()))?;
                seconds =
                    value.parse().ok().filter(|&s| s > 0).ok_or_else(|| {
                        usage(format!("--seconds {value}: not a positive integer"))
                    })?;
            }
            "--asan" => asan = true,
            "--" => libfuzzer_args.extend(it.by_ref().cloned()),
            flag if flag.starts_with('-') => return Err(usage(format!("unknown option {flag}"))),
            name if target.is_none() => target = Some(name.to_owned()),
            extra => return Err(usage(format!("unexpected argument {extra}"))),
        }
    }
    let target = target.ok_or_else(|| {
        usage(format!(
            "fuzz needs a target; targets: {}",
            targets().join(", ")
        ))
    })?;
    Ok(Options {
        target,
        seconds,
        asan,
        libfuzzer_args,
    })
}

/// The fuzz targets: the files in `fuzz/fuzz_targets`.
pub(crate) fn targets() -> Vec<String> {
    let dir = util::root().join("fuzz/fuzz_targets");
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name().into_string().ok()?;
            name.strip_suffix(".rs").map(str::to_owned)
        })
        .collect();
    names.sort();
    names
}

pub(crate) fn main(args: &[String]) -> Result<(), Failure> {
    let opts = parse(args)?;
    run_target(&opts.target, opts.seconds, opts.asan, &opts.libfuzzer_args)
}

/// Runs one target for `seconds` (its committed seeds first, then the
/// corpus it grows); fails if libFuzzer reports a crash, a hang or
/// running out of memory.
pub(crate) fn run_target(
    target: &str,
    seconds: u64,
    asan: bool,
    libfuzzer_args: &[String],
) -> Result<(), Failure> {
    let opts = Options {
        target: target.to_owned(),
        seconds,
        asan,
        libfuzzer_args: libfuzzer_args.to_vec(),
    };
    if !targets().contains(&opts.target) {
        return Err(Failure::Usage(format!(
            "no fuzz target {:?}; targets: {}",
            opts.target,
            targets().join(", ")
        )));
    }
    util::ensure_cargo_tool("fuzz", "cargo-fuzz", CARGO_FUZZ_VERSION)?;

    // libFuzzer grows the first corpus directory (gitignored) and only reads
    // the others: the committed seeds.
    let root = util::root();
    let corpus = format!("fuzz/corpus/{}", opts.target);
    let seeds = format!("fuzz/seeds/{}", opts.target);
    std::fs::create_dir_all(root.join(&corpus))
        .map_err(|e| Failure::Failed(format!("cannot create {corpus}: {e}")))?;

    let mut cmd = util::cargo();
    cmd.args(cargo_fuzz_args("run", opts.asan));
    if opts.asan {
        cmd.env("RUSTC_BOOTSTRAP", "1");
    }
    cmd.arg(&opts.target).arg(&corpus);
    if root.join(&seeds).is_dir() {
        cmd.arg(&seeds);
    }
    cmd.arg("--")
        .arg(format!("-max_total_time={}", opts.seconds))
        .arg(format!("-timeout={INPUT_TIMEOUT_SECONDS}"))
        // Inputs may be long from the start: the structured targets need
        // room for a sequence of packets.
        .arg("-len_control=0")
        .arg("-print_final_stats=1")
        .args(&opts.libfuzzer_args);

    println!("$ {}", util::display(&cmd));
    let start = Instant::now();
    let mut child = cmd
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| Failure::Failed(format!("could not start cargo fuzz: {e}")))?;
    // libFuzzer reports on stderr: pass it through and keep what we need.
    let mut stats = Stats::default();
    if let Some(stderr) = child.stderr.take() {
        let mut out = std::io::stderr().lock();
        for line in BufReader::new(stderr).split(b'\n') {
            let Ok(line) = line else { break };
            let _ = out.write_all(&line);
            let _ = out.write_all(b"\n");
            stats.observe(&String::from_utf8_lossy(&line));
        }
    }
    let status = child
        .wait()
        .map_err(|e| Failure::Failed(format!("waiting for cargo fuzz: {e}")))?;

    println!();
    match stats.done {
        Some((runs, secs)) => println!(
            "==> fuzz {}: {runs} executions in {secs} s ({}/s)",
            opts.target,
            runs / secs.max(1)
        ),
        None => match stats.last_status {
            Some(runs) => println!(
                "==> fuzz {}: at least {runs} executions (run ended early after {:.0} s)",
                opts.target,
                start.elapsed().as_secs_f64()
            ),
            None => println!(
                "==> fuzz {}: executions unknown (no libFuzzer report)",
                opts.target
            ),
        },
    }
    if status.success() {
        Ok(())
    } else {
        Err(Failure::Failed(format!(
            "cargo fuzz run {} exited with {status}; a crashing input is saved under fuzz/artifacts/{}/",
            opts.target, opts.target
        )))
    }
}

/// What the libFuzzer output says about the number of executions.
#[derive(Default, Debug, PartialEq)]
struct Stats {
    /// From the final `Done N runs in S second(s)`.
    done: Option<(u64, u64)>,
    /// From the last status line `#N\tNEW ...` / `#N\tpulse ...`.
    last_status: Option<u64>,
}

impl Stats {
    fn observe(&mut self, line: &str) {
        let line = line.trim();
        if let Some(rest) = line.strip_prefix("Done ") {
            let words: Vec<&str> = rest.split_whitespace().collect();
            if let [runs, "runs", "in", secs, ..] = words[..] {
                if let (Ok(runs), Ok(secs)) = (runs.parse(), secs.parse()) {
                    self.done = Some((runs, secs));
                }
            }
        } else if let Some(rest) = line.strip_prefix('#') {
            let digits = rest.split(|c: char| !c.is_ascii_digit()).next();
            if let Some(Ok(runs)) = digits.filter(|d| !d.is_empty()).map(str::parse) {
                self.last_status = Some(runs);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn parses_target_seconds_and_passthrough() {
        let o = parse(&args("decode --seconds 5 --asan -- -max_len=1500")).unwrap();
        assert_eq!(o.target, "decode");
        assert_eq!(o.seconds, 5);
        assert!(o.asan);
        assert_eq!(o.libfuzzer_args, ["-max_len=1500"]);

        let o = parse(&args("decode")).unwrap();
        assert_eq!(o.seconds, DEFAULT_SECONDS);
        assert!(!o.asan);
    }

    #[test]
    fn rejects_bad_arguments() {
        for bad in [
            "",
            "decode --seconds",
            "decode --seconds 0",
            "decode --seconds x",
            "decode --x",
            "a b",
        ] {
            assert!(
                matches!(parse(&args(bad)), Err(Failure::Usage(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn reads_libfuzzer_counts() {
        let mut s = Stats::default();
        s.observe("#2\tINITED cov: 10 ft: 11 corp: 1/1b exec/s: 0 rss: 27Mb");
        s.observe(
            "#4194304\tpulse  cov: 16 ft: 19 corp: 3/33b lim: 4096 exec/s: 1048576 rss: 27Mb",
        );
        s.observe("#1\tNEW_FUNC[1/1]: 0x55f592c26b91");
        assert_eq!(s.last_status, Some(1));
        assert_eq!(s.done, None);
        s.observe("Done 5325596 runs in 6 second(s)");
        assert_eq!(s.done, Some((5_325_596, 6)));
    }

    #[test]
    fn every_target_exists() {
        let have = targets();
        for t in [
            "crypto", "decode", "endpoint", "filter", "gro", "pair", "sockopt", "uri",
        ] {
            assert!(have.contains(&t.to_owned()), "{t} missing from {have:?}");
        }
    }
}
