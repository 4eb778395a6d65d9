//! Issue 17, across libraries: a C caller group (`tests/c/group_send.c`,
//! built against the libsrt 1.5.5 kit's `srt.h`) running on our
//! `libsrt.so` sends into the kit's `srt-test-live` listening with
//! `groupconnect=1`, which writes what it receives to a UDP sink: every
//! message arrives once, in order, with its content, for a broadcast and
//! a backup group. Without the kit: fails under `CI=true`, else prints
//! NOT RUN.

mod common;

use common::{c_source, compile_with, our_lib_dir, run_command, scratch, Lang};
use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use testvectors::peer_kit::PeerKit;

const COUNT: u32 = 2000;

/// A free UDP port on 127.0.0.1 (bound and released).
fn free_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A directory where `libsrt.so.1.5` is our `libsrt.so`.
fn our_soname_dir(tag: &str) -> PathBuf {
    let dir = scratch(&format!("group_interop_{tag}_ourlib"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let ours = our_lib_dir().join("libsrt.so");
    for name in ["libsrt.so", "libsrt.so.1.5"] {
        std::os::unix::fs::symlink(&ours, dir.join(name)).unwrap();
    }
    dir
}

/// Kills the listener when the test ends, however it ends.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        // SIGKILL: a listener blocked in accept ignores SIGTERM (kit README).
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Message `i`'s first 12 bytes, as `group_send.c` writes them.
fn head(i: u32) -> Vec<u8> {
    format!("msg {i:08}").into_bytes()
}

fn run(kit: &PeerKit, kind: u32, tag: &str) {
    let kit_lib = kit
        .lib_dir(&scratch(&format!("group_interop_{tag}_kitlib")))
        .expect("peer kit library links");
    let exe = scratch(&format!("group_send_{tag}"));
    compile_with(
        Lang::C,
        &c_source("group_send.c"),
        &kit.include(),
        &[],
        &[
            format!("-L{}", kit_lib.display()),
            "-lsrt".into(),
            "-pthread".into(),
        ],
        &exe,
    );
    let ours = our_soname_dir(tag);
    let ld_path = PeerKit::ld_library_path(&ours);
    let ldd = run_command(
        Command::new("ldd")
            .arg(&exe)
            .env("LD_LIBRARY_PATH", &ld_path),
    );
    let line = ldd.lines().find(|l| l.contains("libsrt")).unwrap_or("");
    assert!(line.contains(ours.to_str().unwrap()), "not ours: {line}");

    let sink = UdpSocket::bind("127.0.0.1:0").unwrap();
    sink.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let sink_port = sink.local_addr().unwrap().port();
    let port = free_port();
    let listener = Killed(
        Command::new(kit.bin("srt-test-live"))
            .args([
                &format!("srt://:{port}?groupconnect=1&latency=120"),
                &format!("udp://127.0.0.1:{sink_port}"),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("srt-test-live"),
    );
    // Let it bind before the group connects.
    std::thread::sleep(Duration::from_millis(500));
    let sender = Command::new(&exe)
        .args([kind.to_string(), port.to_string(), COUNT.to_string()])
        .env("LD_LIBRARY_PATH", &ld_path)
        .stdout(Stdio::piped())
        .spawn()
        .expect("group_send");

    let mut got: Vec<u32> = Vec::new();
    let mut buf = [0u8; 2048];
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut bad = 0;
    while got.len() < COUNT as usize && Instant::now() < deadline {
        match sink.recv(&mut buf) {
            Ok(n) => {
                let text = std::str::from_utf8(&buf[4..12]).unwrap_or("");
                match text.parse::<u32>() {
                    Ok(i)
                        if n == 1316
                            && buf[..12] == head(i)[..]
                            && buf[12..n].iter().all(|&b| b == b'x') =>
                    {
                        got.push(i)
                    }
                    _ => bad += 1,
                }
            }
            Err(_) => continue,
        }
    }
    let out = sender.wait_with_output().unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{tag}: group_send failed: {said}");
    drop(listener);
    assert_eq!(bad, 0, "{tag}: {bad} datagrams with wrong content");
    let want: Vec<u32> = (0..COUNT).collect();
    assert_eq!(
        got.len(),
        want.len(),
        "{tag}: {} of {COUNT} arrived ({said})",
        got.len()
    );
    assert_eq!(got, want, "{tag}: not each once and in order");
}

fn kit() -> Option<PeerKit> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    PeerKit::for_test(
        &root,
        "group_interop: a C caller group on our libsrt.so into the kit's srt-test-live",
    )
}

#[test]
fn c_broadcast_group_on_our_library_into_libsrt_test_live() {
    if let Some(kit) = kit() {
        run(&kit, 1, "broadcast");
    }
}

#[test]
fn c_backup_group_on_our_library_into_libsrt_test_live() {
    if let Some(kit) = kit() {
        run(&kit, 2, "backup");
    }
}
