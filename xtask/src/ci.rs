//! `cargo xtask ci`: the CI pipeline, step by step, stopping at the first
//! failure.

use crate::peer_kit::{self, PeerKit};
use crate::util::{self, cargo, run, succeeds_quietly, Failure};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Debian packages the interop tests and tools need: libsrt's own programs
/// (`srt-live-transmit`, `srt-file-transmit`), tshark's SRT dissector, and
/// libsrt to build C peers against. srt-capi's tests compile C and C++
/// (gcc, g++), read ELF files (binutils: readelf, nm) and run C programs
/// under valgrind.
const DEBIAN_PACKAGES: &[&str] = &[
    "srt-tools",
    "tshark",
    "libsrt-openssl-dev",
    "pkg-config",
    "ffmpeg",
    "gcc",
    "g++",
    "binutils",
    "valgrind",
];

/// The cargo-fuzz release CI installs when it is missing.
pub(crate) const CARGO_FUZZ_VERSION: &str = "0.13.2";

struct Step {
    name: &'static str,
    run: fn() -> Result<(), Failure>,
}

const STEPS: &[Step] = &[
    Step {
        name: "Debian packages",
        run: debian_packages,
    },
    Step {
        name: "libsrt 1.5.5 peer kit",
        run: peer_kit,
    },
    Step {
        name: "rustfmt",
        run: fmt,
    },
    Step {
        name: "clippy",
        run: clippy,
    },
    Step {
        name: "tests",
        run: tests,
    },
    Step {
        name: "demo (the README's first command)",
        run: demo,
    },
    Step {
        name: "rustdoc",
        run: doc,
    },
    Step {
        name: "fuzz targets build",
        run: fuzz_build,
    },
    Step {
        name: "fuzz targets run (30 s each)",
        run: fuzz_run,
    },
    Step {
        name: "benches build",
        run: bench_build,
    },
];

/// Runs every step in order; the first failure ends the run.
pub(crate) fn main() -> Result<(), Failure> {
    let start = Instant::now();
    let mut times: Vec<(&str, Duration)> = Vec::new();
    for (i, step) in STEPS.iter().enumerate() {
        let n = i + 1;
        println!();
        println!("{}", "=".repeat(72));
        println!("==> xtask ci [{n}/{}] {}", STEPS.len(), step.name);
        println!("{}", "=".repeat(72));
        let step_start = Instant::now();
        if let Err(e) = (step.run)() {
            let msg = match e {
                Failure::Usage(m) | Failure::Failed(m) => m,
            };
            return Err(Failure::Failed(format!(
                "ci step [{n}/{}] {} failed after {:.1} s: {msg}",
                STEPS.len(),
                step.name,
                step_start.elapsed().as_secs_f64()
            )));
        }
        times.push((step.name, step_start.elapsed()));
        println!(
            "==> [{n}/{}] {}: ok ({:.1} s)",
            STEPS.len(),
            step.name,
            step_start.elapsed().as_secs_f64()
        );
    }
    println!();
    println!("{}", "=".repeat(72));
    println!("==> xtask ci: all {} steps passed", STEPS.len());
    for (name, time) in times {
        println!("    {name:<36} {:>7.1} s", time.as_secs_f64());
    }
    println!(
        "    {:<36} {:>7.1} s",
        "total",
        start.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Whether `dpkg-query` reports the package as fully installed.
fn deb_installed(package: &str) -> Result<bool, Failure> {
    let output = Command::new("dpkg-query")
        .args(["-W", "--showformat=${Status}", package])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .map_err(|e| {
            Failure::Failed(format!(
                "cannot run dpkg-query ({e}); CI needs a Debian system (bookworm)"
            ))
        })?;
    Ok(output.status.success()
        && String::from_utf8_lossy(&output.stdout).trim() == "install ok installed")
}

fn debian_packages() -> Result<(), Failure> {
    let mut missing = Vec::new();
    for &package in DEBIAN_PACKAGES {
        let installed = deb_installed(package)?;
        println!(
            "{package:<20} {}",
            if installed { "installed" } else { "MISSING" }
        );
        if !installed {
            missing.push(package);
        }
    }
    if missing.is_empty() {
        return Ok(());
    }
    println!("installing {}", missing.join(" "));
    run(Command::new("apt-get").arg("update"))?;
    run(Command::new("apt-get")
        .args(["install", "-y"])
        .args(&missing)
        .env("DEBIAN_FRONTEND", "noninteractive"))?;
    let still_missing: Vec<&str> = missing
        .into_iter()
        .filter(|p| !deb_installed(p).unwrap_or(false))
        .collect();
    if still_missing.is_empty() {
        Ok(())
    } else {
        Err(Failure::Failed(format!(
            "apt-get succeeded but these packages are still not installed: {}",
            still_missing.join(" ")
        )))
    }
}

/// Says whether the libsrt 1.5.5 peer kit (AES-GCM, bonding) was found
/// (`SRT_PEER_KIT`, else `../shared/peers/libsrt-1.5.5` beside the
/// workspace); under `CI=true` its absence fails the run, elsewhere the
/// tests that need it say they were not run.
fn peer_kit() -> Result<(), Failure> {
    match PeerKit::locate(&util::root()) {
        Ok(kit) => {
            println!("peer kit found: {}", kit.root.display());
            Ok(())
        }
        Err(e) if peer_kit::under_ci() => Err(Failure::Failed(format!(
            "{e}; CI=true requires it (the libsrt 1.5.5 interop and differential tests)"
        ))),
        Err(e) => {
            println!("peer kit NOT found: {e}");
            println!("the tests that need it will say NOT RUN (CI=true makes this a failure)");
            Ok(())
        }
    }
}

fn fmt() -> Result<(), Failure> {
    run(cargo().args(["fmt", "--all", "--", "--check"]))?;
    // The fuzz crate is its own workspace; check its formatting too.
    run(cargo().args(["fmt", "--manifest-path", "fuzz/Cargo.toml", "--", "--check"]))
}

fn clippy() -> Result<(), Failure> {
    run(cargo().args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]))?;
    // The demo binary needs the `demo` feature, which --workspace leaves off.
    run(cargo().args([
        "clippy",
        "--package",
        "xtask",
        "--all-targets",
        "--features",
        "demo",
        "--",
        "-D",
        "warnings",
    ]))
}

fn tests() -> Result<(), Failure> {
    if succeeds_quietly(cargo().args(["nextest", "--version"])) {
        println!("test runner: cargo-nextest");
        run(cargo().args(["nextest", "run", "--workspace"]))?;
    } else {
        println!("test runner: cargo test (cargo-nextest is not installed)");
        run(cargo().args(["test", "--workspace"]))?;
    }
    // nextest does not run doctests.
    run(cargo().args(["test", "--workspace", "--doc"]))
}

/// `cargo xtask demo`: a live stream through a lossy relay must arrive
/// whole (it exits non-zero otherwise).
fn demo() -> Result<(), Failure> {
    run(cargo().args([
        "run",
        "--quiet",
        "--package",
        "xtask",
        "--features",
        "demo",
        "--bin",
        "xtask-demo",
    ]))
}

fn doc() -> Result<(), Failure> {
    run(cargo()
        .args(["doc", "--workspace", "--no-deps"])
        .env("RUSTDOCFLAGS", "-D warnings"))
}

fn fuzz_build() -> Result<(), Failure> {
    util::ensure_cargo_tool("fuzz", "cargo-fuzz", CARGO_FUZZ_VERSION)?;
    // The same build `cargo xtask fuzz` runs, so a later fuzz run reuses it.
    run(cargo().args(crate::fuzz::cargo_fuzz_args("build", false)))
}

/// Runs every fuzz target for `fuzz::CI_SECONDS`, reusing the build of the
/// step before; its committed seeds (crash regressions among them) run
/// first. A crash, hang or memory blow-up fails CI.
fn fuzz_run() -> Result<(), Failure> {
    let targets = crate::fuzz::targets();
    let mut failed = Vec::new();
    for target in &targets {
        println!("--> fuzz {target} for {} s", crate::fuzz::CI_SECONDS);
        if let Err(e) = crate::fuzz::run_target(target, crate::fuzz::CI_SECONDS, false, &[]) {
            let msg = match e {
                Failure::Usage(m) | Failure::Failed(m) => m,
            };
            println!("--> fuzz {target} FAILED: {msg}");
            failed.push(target.as_str());
        }
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(Failure::Failed(format!(
            "fuzz targets failed: {} (inputs under fuzz/artifacts/<target>/)",
            failed.join(", ")
        )))
    }
}

fn bench_build() -> Result<(), Failure> {
    run(cargo().args(["bench", "--workspace", "--no-run"]))
}
