//! `cargo xtask tsan [--seconds N]`: srt-mio's stress test under
//! ThreadSanitizer.
//!
//! The stress test (8 threads calling send, recv, close and epoll on
//! shared sockets of a two-worker context, while pairs are closed and
//! replaced) runs with every crate, std included, built with
//! `-Zsanitizer=thread` (nightly rustc, rust-src for
//! `-Zbuild-std`: an uninstrumented std would hide its own synchronisation
//! from TSan and report races that are not there). A data race, a lock
//! order inversion (a potential deadlock) or a use of a destroyed lock
//! fails the run. Needs `rustup toolchain install nightly` and
//! `rustup component add rust-src --toolchain nightly`; not part of `ci`
//! (the first build takes about 3 minutes on 2 cores). The worker-pool
//! tests are left out: they stream live messages at a set pace, which
//! TSan's slowdown (5–15×) turns into too-late drops, not races.

use crate::util::{self, Failure};
use std::process::Command;

/// The command line of `tsan`.
#[derive(Debug, PartialEq)]
struct Options {
    seconds: u64,
}

/// Parses `[--seconds N]` (the stress test's duration, default 10).
fn parse(args: &[String]) -> Result<Options, Failure> {
    let mut o = Options { seconds: 10 };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--seconds" => o.seconds = util::positive(it.next(), "--seconds")?,
            other => return Err(Failure::Usage(format!("tsan: unknown flag {other}"))),
        }
    }
    Ok(o)
}

/// The host's target triple (`-Zbuild-std` needs an explicit `--target`).
fn host() -> Result<String, Failure> {
    let out = Command::new("rustc")
        .args(["+nightly", "-vV"])
        .output()
        .map_err(|e| Failure::Failed(format!("rustc +nightly -vV: {e}")))?;
    if !out.status.success() {
        return Err(Failure::Failed(
            "no nightly toolchain: rustup toolchain install nightly --component rust-src".into(),
        ));
    }
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: ").map(str::to_owned))
        .ok_or_else(|| Failure::Failed("rustc -vV printed no host".into()))
}

/// `cargo xtask tsan [--seconds N]`.
pub(crate) fn main(args: &[String]) -> Result<(), Failure> {
    let opts = parse(args)?;
    let target = host()?;
    let mut cmd = Command::new("cargo");
    cmd.current_dir(util::root())
        .args(["+nightly", "test", "-Zbuild-std", "--target", &target])
        .args(["-p", "srt-mio", "--test", "stress", "--", "--nocapture"])
        .env("RUSTFLAGS", "-Zsanitizer=thread")
        .env("RUSTDOCFLAGS", "-Zsanitizer=thread")
        // Any report fails the test binary, with both stacks.
        .env("TSAN_OPTIONS", "halt_on_error=1 second_deadlock_stack=1")
        .env("SRT_MIO_STRESS_SECONDS", opts.seconds.to_string())
        // The cargo running xtask pins its toolchain for children; `+nightly`
        // must win.
        .env_remove("RUSTUP_TOOLCHAIN")
        .env_remove("CARGO")
        .env_remove("RUSTC");
    util::run(&mut cmd)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::args;

    #[test]
    fn parses_seconds_and_refuses_the_rest() {
        assert_eq!(parse(&[]).unwrap(), Options { seconds: 10 });
        assert_eq!(
            parse(&args(&["--seconds", "60"])).unwrap(),
            Options { seconds: 60 }
        );
        assert!(parse(&args(&["--seconds", "0"])).is_err());
        assert!(parse(&args(&["--seconds"])).is_err());
        assert!(parse(&args(&["--fast"])).is_err());
    }
}
