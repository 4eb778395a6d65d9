//! `srt-transmit`: moves data between media given as URIs, in the syntax of
//! libsrt's `srt-live-transmit` (see `srt_tools::uri`):
//!
//! ```text
//! srt-transmit udp://:5000 "srt://127.0.0.1:9000"                 # live (the default)
//! srt-transmit "srt://:9000?mode=listener" udp://127.0.0.1:5001
//! srt-transmit "srt://:9000?mode=listener" file://con > out.ts
//! srt-transmit file:///path/in.bin "srt://127.0.0.1:9000?transtype=file"
//! srt-transmit "srt://:9000?mode=listener&transtype=file" file:///path/out.bin
//! srt-transmit "srt://:5000?mode=listener" "srt://127.0.0.1:6000"      # live relay
//! ```
//!
//! srt-live-transmit's single-dash spellings work too: `-v`, `-q`,
//! `-s:1000`, `-stats:1000`, `-pf:json`, `-pf json`, `-f`, `-c:1316`,
//! `-a:no`, `-statsout:FILE`.
//!
//! Exit status: 0 when the input ended and everything was sent, the peer
//! closed, or the run was interrupted (SIGINT/SIGTERM); 1 when the
//! connection failed or broke, or a medium failed; 2 for a bad command line.

use clap::{Parser, ValueEnum};
use srt_tools::stats::{StatsConfig, StatsFormat, StatsOutput};
use srt_tools::transmit::{self, Settings};
use srt_tools::uri::Medium;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

/// Statistics formats of `-pf`.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum Pf {
    /// srt-live-transmit's default block.
    Default,
    /// One JSON object per line.
    Json,
    /// Comma-separated values.
    Csv,
}

/// Command line of srt-transmit.
#[derive(Parser, Debug)]
#[command(
    name = "srt-transmit",
    version,
    about = "Transmit live streams and files over SRT (srt-live-transmit syntax)",
    after_help = "Media: srt://host:port?key=value&..., udp://host:port (udp://:port, udp://@group:port), \
                  file:///path, file://con (stdin/stdout); srt:// to srt:// relays a live stream.\n\
                  srt:// keys: mode=caller|listener|rendezvous, adapter, port, transtype=live|file, \
                  messageapi, latency, rcvlatency, peerlatency (ms), passphrase, pbkeylen, cryptomode, \
                  enforcedencryption, kmrefreshrate, kmpreannounce, payloadsize, mss, fc, sndbuf, rcvbuf, \
                  maxbw, inputbw (bytes/s), oheadbw (%), conntimeo, peeridletimeo (ms), linger (s), \
                  tlpktdrop, nakreport, lossmaxttl, minversion, streamid, packetfilter.\n\
                  Socket groups (live): srt://h1:p1,h2:p2?grouptype=backup|broadcast, or \
                  srt:////group?type=backup&nodes=h1:p1?weight=10,h2:p2?weight=1 (a caller group); \
                  groupconnect=1 on a listener receives a peer's group.\n\
                  udp:// keys: rcvbuf, sndbuf, ttl, iptos, adapter, multicast."
)]
struct Args {
    /// Where to read: srt://, udp://, file:///path or file://con.
    input: String,
    /// Where to write: srt://, udp://, file:///path or file://con.
    output: String,
    /// Bytes read at a time: in live mode from a file or stdin, one
    /// message each (default: the payload size); in file mode 1 MiB.
    #[arg(short = 'c', long, value_parser = clap::value_parser!(u32).range(1..=1 << 26))]
    chunk: Option<u32>,
    /// Print statistics every N packets (srt-live-transmit's -s).
    #[arg(short = 's', long = "stats", value_name = "N", value_parser = colon_u64)]
    stats: Option<u64>,
    /// Print statistics every MS milliseconds.
    #[arg(long, value_name = "MS")]
    stats_ms: Option<u64>,
    /// Statistics format (srt-live-transmit's -pf).
    #[arg(long = "pf", alias = "statspf", value_enum, default_value_t = Pf::Default)]
    pf: Pf,
    /// Totals since the connection started instead of per-interval counters.
    #[arg(short = 'f', long = "fullstats")]
    full_stats: bool,
    /// Write statistics to FILE (default stdout, or stderr when stdout carries data).
    #[arg(long, value_name = "FILE")]
    statsout: Option<std::path::PathBuf>,
    /// Log each connection as it is made (to stderr).
    #[arg(short, long)]
    verbose: bool,
    /// Show a progress line on stderr during file transfers (default: when stderr is a terminal).
    #[arg(long)]
    progress: bool,
    /// Live mode: connect again (or accept the next caller) when the connection breaks (default: no).
    #[arg(short = 'a', long = "autoreconnect", value_name = "yes|no", value_parser = yes_no)]
    autoreconnect: Option<bool>,
    /// Print nothing when the transfer succeeds.
    #[arg(short, long)]
    quiet: bool,
}

/// A number, also written `:N` as srt-live-transmit's `-s:N`.
fn colon_u64(s: &str) -> Result<u64, String> {
    s.trim_start_matches(':')
        .parse()
        .map_err(|_| format!("expected a number of packets, got {s:?}"))
}

fn yes_no(s: &str) -> Result<bool, String> {
    match s.trim_start_matches(':') {
        "yes" | "1" | "true" | "on" => Ok(true),
        "no" | "0" | "false" | "off" => Ok(false),
        other => Err(format!("{other:?}: expected yes or no")),
    }
}

/// Rewrites srt-live-transmit's single-dash long options (`-stats:1000`,
/// `-pf json`, `-verbose`) as clap's `--stats=1000`, `--pf json`, `--verbose`.
fn normalize(args: impl Iterator<Item = String>) -> Vec<String> {
    const LONG: &[(&[&str], &str)] = &[
        (&["s", "stats", "stats-report-frequency"], "stats"),
        (&["pf", "statspf"], "pf"),
        (&["f", "fullstats"], "fullstats"),
        (&["statsout"], "statsout"),
        (&["v", "verbose"], "verbose"),
        (&["q", "quiet"], "quiet"),
        (&["c", "chunk"], "chunk"),
        (&["a", "auto", "autoreconnect"], "autoreconnect"),
    ];
    let mut out = Vec::new();
    let mut rest_positional = false;
    for (i, a) in args.enumerate() {
        if i == 0 || rest_positional || !a.starts_with('-') || a.starts_with("--") || a == "-" {
            if a == "--" {
                rest_positional = true;
            }
            out.push(a);
            continue;
        }
        let body = &a[1..];
        let (name, value) = match body.split_once(':') {
            Some((n, v)) => (n, Some(v)),
            None => (body, None),
        };
        match LONG.iter().find(|(names, _)| names.contains(&name)) {
            Some((_, long)) => match value {
                Some(v) => out.push(format!("--{long}={v}")),
                None => out.push(format!("--{long}")),
            },
            None => out.push(a),
        }
    }
    out
}

fn main() -> ExitCode {
    let args = Args::parse_from(normalize(std::env::args()));
    let media = Medium::parse(&args.input)
        .map_err(|e| format!("input {}: {e}", args.input))
        .and_then(|i| {
            Medium::parse(&args.output)
                .map(|o| (i, o))
                .map_err(|e| format!("output {}: {e}", args.output))
        });
    let (input, output) = match media {
        Ok(m) => m,
        Err(msg) => {
            eprintln!("srt-transmit: {msg}");
            return ExitCode::from(2);
        }
    };
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        if let Err(e) = signal_hook::flag::register(signal, Arc::clone(&stop)) {
            eprintln!("srt-transmit: cannot handle signal {signal}: {e}");
        }
    }
    let stats_output = match (&args.statsout, &output) {
        (Some(path), _) => StatsOutput::File(path.clone()),
        (None, Medium::Console) => StatsOutput::Stderr,
        (None, _) => StatsOutput::Stdout,
    };
    let settings = Settings {
        chunk: args.chunk.map(|c| c as usize),
        stats: StatsConfig {
            every_packets: args.stats,
            every: args.stats_ms.map(std::time::Duration::from_millis),
            format: match args.pf {
                Pf::Default => StatsFormat::Human,
                Pf::Json => StatsFormat::Json,
                Pf::Csv => StatsFormat::Csv,
            },
            full: args.full_stats,
            output: stats_output,
        },
        verbose: args.verbose,
        progress: args.progress || (!args.quiet && transmit::stderr_is_terminal()),
        stop: Some(stop),
        reconnect: args.autoreconnect.unwrap_or(false),
    };
    match transmit::run(&input, &output, &settings) {
        Ok(s) => {
            if !args.quiet {
                eprintln!(
                    "srt-transmit: {} bytes ({} messages) in {:.3} s ({:.1} Mbit/s){}",
                    s.bytes,
                    s.messages,
                    s.elapsed.as_secs_f64(),
                    s.mbps(),
                    if s.interrupted { ", interrupted" } else { "" }
                );
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("srt-transmit: {e}");
            ExitCode::FAILURE
        }
    }
}
