//! `cargo xtask demo`, for now: decode every packet of every test-vector
//! capture with `srt_proto::packet::Packet::decode` and print one line per
//! packet. It becomes the real demo (a live SRT connection) later.
//!
//! Exits non-zero when a packet recorded from libsrt does not decode.

use srt_proto::packet::Packet;
use std::process::ExitCode;

/// The longest packet description printed, in characters.
const MAX_LINE: usize = 160;

fn main() -> ExitCode {
    println!("xtask demo: there is no live demo yet; this is the test-vector decode.");
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
