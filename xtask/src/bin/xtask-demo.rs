//! `cargo xtask demo`: a live SRT stream through a lossy relay (see
//! `demo_live.rs`); `cargo xtask demo --vectors` decodes every packet of
//! every test-vector capture with `srt_proto::packet::Packet::decode` and
//! prints one line per packet.
//!
//! Exits non-zero when the stream does not arrive whole, or when a packet
//! recorded from libsrt does not decode.

#[path = "../demo_live.rs"]
mod demo_live;

use srt_proto::packet::Packet;
use std::process::ExitCode;

/// The longest packet description printed, in characters.
const MAX_LINE: usize = 160;

fn main() -> ExitCode {
    if std::env::args().any(|a| a == "--vectors") {
        return vectors();
    }
    match demo_live::run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask demo: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Decodes every test-vector capture.
fn vectors() -> ExitCode {
    println!("xtask demo --vectors: the test-vector decode.");
    println!("Every packet of every capture in `testvectors`, decoded by srt_proto::packet::Packet::decode:");
    let captures = testvectors::all();
    let (mut decoded, mut failed) = (0usize, 0usize);
    for capture in &captures {
        println!();
        println!("== {} ({} packets)", capture.name, capture.packets.len());
        for p in &capture.packets {
            let what = match Packet::decode(&p.payload) {
                Ok(packet) => {
                    decoded += 1;
                    shorten(&format!("{packet:?}"), MAX_LINE)
                }
                Err(e) => {
                    failed += 1;
                    format!("DECODE ERROR: {e}")
                }
            };
            println!(
                "frame {:>5}  {:>5} -> {:<5} {:>5} B  {what}",
                p.frame,
                p.src_port,
                p.dst_port,
                p.payload.len()
            );
        }
    }
    println!();
    println!(
        "{} captures, {} packets: {decoded} decoded, {failed} failed",
        captures.len(),
        decoded + failed
    );
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// `s` cut to at most `max` characters, marked with `…` when cut.
fn shorten(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((end, _)) => format!("{}…", &s[..end]),
        None => s.to_owned(),
    }
}
