//! `srt-transmit`: moves data between media given as URIs, in the syntax of
//! libsrt's `srt-live-transmit` (see `srt_tools::uri`). So far file
//! transfer only:
//!
//! ```text
//! srt-transmit file:///path/in.bin "srt://127.0.0.1:9000?transtype=file"
//! srt-transmit "srt://:9000?mode=listener&transtype=file" file:///path/out.bin
//! ```
//!
//! Exit status: 0 when everything was delivered (sender) or the sender
//! closed (receiver), 1 when the transfer failed, 2 for a bad command line.

use clap::Parser;
use srt_tools::transmit::{self, Settings};
use srt_tools::uri::Medium;
use std::process::ExitCode;

/// Command line of srt-transmit.
#[derive(Parser, Debug)]
#[command(
    name = "srt-transmit",
    version,
    about = "Transmit files over SRT (srt-live-transmit syntax)",
    after_help = "srt:// keys: mode=caller|listener, transtype=live|file, messageapi, latency (ms), \
                  passphrase, pbkeylen, payloadsize, maxbw (bytes/s), conntimeo (ms), linger (s), streamid"
)]
struct Args {
    /// Where to read: file:///path or srt://host:port?...
    input: String,
    /// Where to write: file:///path or srt://host:port?...
    output: String,
    /// Bytes read at a time (and message size with messageapi=1).
    #[arg(long, default_value_t = 1 << 20, value_parser = clap::value_parser!(u32).range(1..=1 << 26))]
    chunk: u32,
    /// Print the connection's statistics to stderr every MS milliseconds.
    #[arg(long, value_name = "MS")]
    stats: Option<u64>,
    /// Print nothing when the transfer succeeds.
    #[arg(short, long)]
    quiet: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
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
    let settings = Settings {
        chunk: args.chunk as usize,
        seed: seed(),
        stats_every: args.stats.map(std::time::Duration::from_millis),
    };
    match transmit::run(&input, &output, &settings) {
        Ok(s) => {
            if !args.quiet {
                eprintln!(
                    "srt-transmit: {} bytes in {:.3} s ({:.1} Mbit/s)",
                    s.bytes,
                    s.elapsed.as_secs_f64(),
                    s.mbps()
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

/// A seed that differs between runs (socket IDs, ISNs, keys).
fn seed() -> u64 {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    t ^ u64::from(std::process::id()).rotate_left(32)
}
