//! `srt-relay`: relays UDP between two loopback ports, impairing both
//! directions. See `srt-relay --help` and [`srt_tools::relay`].
//!
//! Prints `listening LISTEN -> FORWARD` once ready, and on SIGINT, SIGTERM or
//! after `--duration-s`, one line of `key=value` counters per direction
//! (`dir=fwd ...`, `dir=rev ...`), then exits 0.

use std::io::Write;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Instant;

use clap::Parser;
use signal_hook::consts::{SIGINT, SIGTERM};
use srt_tools::relay::{Relay, RelayArgs};

fn run(args: &RelayArgs) -> Result<(), String> {
    let (fwd, rev) = args.link_configs()?;
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [SIGINT, SIGTERM] {
        signal_hook::flag::register(signal, Arc::clone(&stop))
            .map_err(|e| format!("cannot handle signal {signal}: {e}"))?;
    }
    let mut relay =
        Relay::new(args.listen, args.forward, fwd, rev, args.seed).map_err(|e| e.to_string())?;
    if let Some(plan) = args.inject_plan() {
        relay.set_injection(plan);
    }
    let deadline = args.duration_s.map(|d| Instant::now() + d);
    {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(
            out,
            "listening {} -> {}",
            relay.listen_addr(),
            relay.forward_addr()
        );
        let _ = out.flush();
    }
    eprintln!(
        "srt-relay: forwarding from {} (seed {})",
        relay.upstream_addr(),
        args.seed
    );
    let result = relay.run(&stop, deadline);
    let mut out = std::io::stdout().lock();
    for report in relay.report() {
        let _ = writeln!(out, "{report}");
    }
    let _ = out.flush();
    result.map_err(|e| format!("relay failed: {e}"))
}

fn main() -> ExitCode {
    let args = RelayArgs::parse();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("srt-relay: {e}");
            ExitCode::FAILURE
        }
    }
}
