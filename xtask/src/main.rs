//! `cargo xtask`: everything that orchestrates processes around the workspace.
//!
//! ```text
//! cargo xtask ci                                  the whole CI pipeline (what .ci/run runs)
//! cargo xtask fuzz <target> [--seconds N] [--asan] [-- <libFuzzer args>]
//! cargo xtask bench [filter]                      cargo bench -p srt-proto [-- filter]
//! cargo xtask bench engine [filter]               one connection's engine pair in memory: packets/s, ns/packet/side, allocations
//! cargo xtask bench file [--mib N] [--runs R]     file transfer: srt-transmit beside libsrt's srt-file-transmit
//! cargo xtask bench live [--seconds N] [--rates 100,500] [--mixed] [--callgrind]
//!                                                 live UDP stream: srt-transmit beside libsrt's srt-live-transmit
//! cargo xtask bench capi [--mib N] [--seconds N] [--rates ..] [--streams ..] [--runs R] [--callgrind]
//!                                                 the C API: one C program linked to Debian's libsrt and to ours
//! cargo xtask bench memory [--seconds N] [--connections N] [--cycles M] [--runs R]
//!                                                 memory per connection: ours beside libsrt
//! cargo xtask bench tokio [--mib N] [--seconds N] [--rates ..] [--runs R]
//!                                                 srt-tokio beside srt-rs 0.4 and libsrt: file throughput, live CPU
//! cargo xtask capi [--release] [--prefix DIR]   libsrt.so/.a, headers and srt.pc laid out in DIR (target/capi)
//! cargo xtask tsan [--seconds N]                srt-mio's stress test under ThreadSanitizer (nightly)
//! cargo xtask demo [--vectors]                     a live stream through a lossy relay (or decode the test vectors)
//! ```
//!
//! Only `std` is used here (and `libc` for `wait4`, which gives a child's CPU
//! time); every tool is run with [`std::process::Command`].

mod bench_capi;
mod bench_file;
mod bench_live;
mod bench_memory;
mod bench_tokio;
mod callgrind;
mod capi;
mod ci;
mod fuzz;
// The peer kit's location, shared with the tests (testvectors), by path so
// that xtask builds without the rest of the workspace.
#[path = "../../testvectors/src/peer_kit.rs"]
#[allow(unreachable_pub, dead_code)]
mod peer_kit;
mod tsan;
mod util;

use std::process::ExitCode;
use util::Failure;

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  ci                              run the CI pipeline: Debian packages, fmt, clippy,
                                  tests, docs, fuzz build, bench build
  fuzz <target> [--seconds N] [--asan] [-- <libFuzzer args>...]
                                  run a fuzz target from fuzz/fuzz_targets for N seconds
                                  (default 60); --asan adds AddressSanitizer
  bench [filter]                  cargo bench -p srt-proto [-- filter]
  bench engine [filter]           one connection, sender and receiver endpoints in memory
                                  (live and file mode, no loss, 1% loss, AES-128-CTR/GCM):
                                  packets/s on one core, ns per packet per side (CPU time),
                                  allocations per packet; and the 200-stream endpoint
                                  benchmark in ms of CPU per simulated second
  bench file [--mib N] [--runs R] file transfer over loopback, ours beside libsrt's
                                  srt-file-transmit: throughput and CPU per GiB
                                  (default 256 MiB, median of 3 runs)
  bench live [--seconds N] [--rates R1,R2,...] [--mixed] [--callgrind]
                                  paced UDP stream of 1316-byte datagrams over loopback
                                  through ours beside libsrt's srt-live-transmit (and
                                  mixed pairs with --mixed): delivered/lost packets and
                                  CPU of each side (default 10 s at 100 and 500 Mbit/s);
                                  --callgrind: both under valgrind, also user-space
                                  instructions per packet (default 10 Mbit/s);
                                  bench file and live take SRT_TRANSMIT=path as ours
                                  instead of building it (to compare two builds)
  bench capi [--mib N] [--seconds N] [--rates 100,500] [--streams 10,25,50]
             [--stream-mbps M] [--runs R] [--parts file,live,streams] [--callgrind]
                                  one C program (caller and listener in one process) linked
                                  to Debian's libsrt.a and to ours, run alternately: file
                                  throughput (1 GiB, stream API), live CPU per packet, N live
                                  streams on one listener port (largest lossless aggregate);
                                  --callgrind: under valgrind, live user-space instructions
                                  per packet (default 10 Mbit/s, 5 s); SRT_CAPI_PREFIX=dir
                                  takes ours from cargo xtask capi --release --prefix dir
  bench memory [--seconds N] [--connections N] [--cycles M] [--runs R]
                                  memory per connection, ours beside libsrt: resident
                                  memory of idle accepted connections (default 100),
                                  bytes allocated per connect/close cycle (default 50
                                  cycles) through the C API, and the resident memory of
                                  a 10 Mbit/s live receiver after N s (default 10);
                                  best of R runs per side (default 2)
  bench tokio [--mib N] [--seconds N] [--rates 100,500] [--runs R] [--parts file,live]
                                  srt-tokio beside srt-rs (crates.io srt-tokio 0.4) and
                                  Debian's libsrt, sender and receiver in one process, run
                                  alternately: file throughput over loopback (default
                                  256 MiB) and live CPU at each rate with every message
                                  checked (default 10 s); median of R runs (default 3)
  capi [--release] [--prefix DIR] build srt-capi's libsrt and lay it out as installed:
                                  DIR/include/srt/*.h, DIR/lib/libsrt.so.1.5, libsrt.a,
                                  DIR/lib/pkgconfig/srt.pc (default DIR: target/capi)
  tsan [--seconds N]              srt-mio's stress test (N s, default 10) under
                                  ThreadSanitizer: nightly with rust-src,
                                  everything built with -Zsanitizer=thread (-Zbuild-std)
  demo [--vectors]                8 Mbit/s live stream through a 5%-loss relay for 10 s, then a table
                                  (--vectors: decode every test-vector capture, one line per packet)
  help                            this text
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("ci") if args.len() == 1 => ci::main(),
        Some("fuzz") => fuzz::main(&args[1..]),
        Some("bench") => bench(&args[1..]),
        Some("capi") => capi::main(&args[1..]),
        Some("tsan") => tsan::main(&args[1..]),
        Some("demo") if args.len() == 1 || (args.len() == 2 && args[1] == "--vectors") => {
            demo(&args[1..])
        }
        Some("help" | "-h" | "--help") => {
            print!("{USAGE}");
            Ok(())
        }
        _ => Err(Failure::Usage(format!(
            "unknown command or arguments: {args:?}"
        ))),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Usage(msg)) => {
            eprintln!("xtask: {msg}\n\n{USAGE}");
            ExitCode::from(2)
        }
        Err(Failure::Failed(msg)) => {
            eprintln!("\nxtask: FAILED: {msg}");
            ExitCode::FAILURE
        }
    }
}

/// `cargo xtask bench [filter]`: the srt-proto benchmarks. The filter goes to
/// the bench harness (criterion), so it selects benchmarks by name.
fn bench(args: &[String]) -> Result<(), Failure> {
    let rest = args.get(1..).unwrap_or(&[]);
    match args.first().map(String::as_str) {
        Some("file") => return bench_file::main(rest),
        Some("capi") => return bench_capi::main(rest),
        Some("live") => return bench_live::main(rest),
        Some("memory") => return bench_memory::main(rest),
        Some("engine") => return bench_engine(rest),
        Some("tokio") => return bench_tokio::main(rest),
        _ => {}
    }
    if args.len() > 1 || args.first().is_some_and(|a| a.starts_with('-')) {
        return Err(Failure::Usage("bench takes at most one filter".into()));
    }
    let mut cmd = util::cargo();
    cmd.args(["bench", "-p", "srt-proto"]);
    if let Some(filter) = args.first() {
        cmd.args(["--", filter]);
    }
    util::run(&mut cmd)
}

/// `cargo xtask bench engine [filter]`: srt-proto's `engine` benchmark (one
/// connection's sender and receiver in memory), then the 200 live streams of
/// its `endpoint` benchmark, reported the same way (CPU time).
fn bench_engine(args: &[String]) -> Result<(), Failure> {
    if args.len() > 1 || args.first().is_some_and(|a| a.starts_with('-')) {
        return Err(Failure::Usage(
            "bench engine takes at most one filter".into(),
        ));
    }
    let mut cmd = util::cargo();
    cmd.args(["bench", "-p", "srt-proto", "--bench", "engine"]);
    if let Some(filter) = args.first() {
        cmd.args(["--", filter]);
    }
    util::run(&mut cmd)?;
    if args.is_empty() {
        let mut cmd = util::cargo();
        cmd.args([
            "bench",
            "-p",
            "srt-proto",
            "--bench",
            "endpoint",
            "--",
            "live_200x1mbps",
        ]);
        util::run(&mut cmd)?;
    }
    Ok(())
}

/// `cargo xtask demo [--vectors]`: the `xtask-demo` binary (a live stream
/// through a lossy relay, or the test-vector decode), built with the `demo`
/// feature so that the rest of xtask does not depend on the engine compiling.
fn demo(extra: &[String]) -> Result<(), Failure> {
    let mut cmd = util::cargo();
    cmd.args([
        "run",
        "--quiet",
        "--package",
        "xtask",
        "--features",
        "demo",
        "--bin",
        "xtask-demo",
        "--",
    ]);
    cmd.args(extra);
    util::run(&mut cmd)
}
