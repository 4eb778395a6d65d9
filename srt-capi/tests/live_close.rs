//! Issue 16: a live sender written in C against our library, with
//! `SRTO_LINGER` set, closes right after its last `srt_sendmsg` and loses
//! nothing: `srt_close` returns once everything is acknowledged and the
//! receiver's latency has passed. The receiver is libsrt's
//! `srt-live-transmit` (Debian's), writing to its stdout; every byte must
//! arrive. (libsrt itself loses the tail here, so this is not a
//! differential test.) Fails, never skips, when a tool is missing.

mod common;

use common::{c_source, compile, our_include, our_lib_dir, run_command, scratch, Lang};
use std::net::UdpSocket;
use std::os::unix::fs::symlink;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const PAYLOAD: usize = 1316;
/// 1,600 messages: 2.1 MB.
const COUNT: u32 = 1600;

/// Message `i`, as `tests/c/live_close.c` makes it.
fn payload(i: u32) -> Vec<u8> {
    let mut m = vec![0u8; PAYLOAD];
    m[..4].copy_from_slice(&i.to_be_bytes());
    for (k, b) in m.iter_mut().enumerate().skip(4) {
        *b = (k as u32).wrapping_mul(7).wrapping_add(i.wrapping_mul(13)) as u8;
    }
    m
}

/// A free UDP port on 127.0.0.1 (bound and released).
fn free_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A directory where `libsrt.so.1.5` (our library's soname) is our
/// `libsrt.so`, for the program's run path: without it the loader finds
/// Debian's libsrt under that name.
fn soname_dir() -> PathBuf {
    let dir = scratch("live_close_lib");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let ours = our_lib_dir().join("libsrt.so");
    symlink(&ours, dir.join("libsrt.so")).unwrap();
    symlink(&ours, dir.join("libsrt.so.1.5")).unwrap();
    dir
}

#[test]
fn c_live_sender_with_linger_delivers_every_byte_to_libsrt() {
    let lib = soname_dir();
    let exe = scratch("live_close_c");
    compile(
        Lang::C,
        &c_source("live_close.c"),
        &our_include(),
        &[
            format!("-L{}", lib.display()),
            format!("-Wl,-rpath,{}", lib.display()),
            "-lsrt".into(),
        ],
        &exe,
    );
    let ldd = run_command(Command::new("ldd").arg(&exe));
    let line = ldd.lines().find(|l| l.contains("libsrt")).unwrap_or("");
    assert!(line.contains(lib.to_str().unwrap()), "not ours: {line}");
    let out = scratch("live_close_out.bin");
    let port = free_port();
    let mut slt = Command::new("srt-live-transmit")
        .args([
            "-a:no",
            "-q",
            &format!("srt://127.0.0.1:{port}?mode=listener"),
            "file://con",
        ])
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out).unwrap())
        .stderr(Stdio::null())
        .spawn()
        .expect("cannot run srt-live-transmit: run `cargo xtask ci`, which installs it");
    std::thread::sleep(Duration::from_millis(300));
    let said = run_command(Command::new(&exe).args([port.to_string(), COUNT.to_string()]));
    // With -a:no, srt-live-transmit ends when the connection does.
    let end = Instant::now() + Duration::from_secs(5);
    while slt.try_wait().unwrap().is_none() && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = slt.kill();
    let _ = slt.wait();
    let got = std::fs::read(&out).unwrap();
    println!(
        "{}srt-live-transmit wrote {} of {} bytes",
        said,
        got.len(),
        COUNT as usize * PAYLOAD
    );
    let want: Vec<u8> = (0..COUNT).flat_map(payload).collect();
    assert_eq!(got.len(), want.len(), "bytes lost: {}", missing(&got));
    assert!(got == want, "content differs");
}

/// The messages missing from `got` (first and last index and how many),
/// to tell a lost tail from a hole.
fn missing(got: &[u8]) -> String {
    let have: std::collections::HashSet<u32> = got
        .chunks(PAYLOAD)
        .filter(|m| m.len() == PAYLOAD)
        .map(|m| u32::from_be_bytes(m[..4].try_into().unwrap()))
        .collect();
    let lost: Vec<u32> = (0..COUNT).filter(|i| !have.contains(i)).collect();
    match (lost.first(), lost.last()) {
        (Some(a), Some(b)) => format!("{} messages missing, {a}..={b}", lost.len()),
        _ => "no message missing".into(),
    }
}
