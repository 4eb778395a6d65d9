//! Drop-in: Debian's ffmpeg, linked to `libsrt-gnutls.so.1.5`, runs on our
//! `libsrt.so` through `LD_LIBRARY_PATH` and streams with Debian's
//! `srt-live-transmit` (libsrt 1.5.1) in both directions; ffprobe finds
//! the video in what arrives.

mod common;

use common::{our_lib_dir, run_command, scratch};
use std::net::UdpSocket;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The names Debian's programs load libsrt by.
const SONAMES: [&str; 3] = [
    "libsrt-gnutls.so.1.5",
    "libsrt-openssl.so.1.5",
    "libsrt.so.1.5",
];

/// A directory whose libsrt names all point at our `libsrt.so`, after
/// checking that ffmpeg then resolves its libsrt there (so that the test
/// cannot pass on Debian's library by accident).
fn dropin_dir(name: &str) -> PathBuf {
    let dir = scratch(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let ours = our_lib_dir().join("libsrt.so");
    for soname in SONAMES {
        symlink(&ours, dir.join(soname)).unwrap();
    }
    let ldd = run_command(
        Command::new("ldd")
            .arg(ffmpeg())
            .env("LD_LIBRARY_PATH", &dir),
    );
    let line = ldd
        .lines()
        .find(|l| l.contains("libsrt"))
        .unwrap_or_else(|| panic!("ffmpeg links no libsrt:\n{ldd}"));
    assert!(
        line.contains(dir.to_str().unwrap()),
        "ffmpeg does not resolve libsrt to ours: {line}"
    );
    dir
}

/// Debian's ffmpeg (the tests fail, never skip, without it).
fn ffmpeg() -> &'static str {
    "/usr/bin/ffmpeg"
}

/// A free UDP port on loopback, as srt-tools' tests find one.
fn free_port() -> u16 {
    let probe = UdpSocket::bind("127.0.0.1:0").unwrap();
    probe.local_addr().unwrap().port()
}

/// A child process killed on drop.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Proc {
    /// Waits up to `limit` for the process to end by itself.
    fn wait_for_exit(&mut self, limit: Duration) {
        let start = Instant::now();
        while start.elapsed() < limit {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

fn spawn(cmd: &mut Command) -> Proc {
    Proc(
        cmd.stdin(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {cmd:?} ({e}): install ffmpeg and srt-tools")),
    )
}

/// `-re -f lavfi -i testsrc=... -t 10 -f mpegts`, the 10 s test video.
fn test_video(ffmpeg: &mut Command) -> &mut Command {
    const ARGS: &str = "-hide_banner -loglevel warning -re -f lavfi \
                        -i testsrc=size=640x360:rate=25 -t 10 -f mpegts";
    ffmpeg.args(ARGS.split_whitespace())
}

/// Asserts that ffprobe finds a video stream in `file`.
fn assert_has_video(file: &Path) {
    let streams = run_command(
        Command::new("ffprobe")
            .args([
                "-hide_banner",
                "-v",
                "error",
                "-show_entries",
                "stream=codec_type",
                "-of",
                "csv",
            ])
            .arg(file),
    );
    assert!(
        streams.contains("video"),
        "no video stream in {} ({} bytes): {streams}",
        file.display(),
        std::fs::metadata(file).map(|m| m.len()).unwrap_or(0)
    );
}

/// ffmpeg on our libsrt publishes to a srt-live-transmit listener.
#[test]
fn ffmpeg_publishes_to_srt_live_transmit() {
    let dir = dropin_dir("dropin_publish");
    let out = dir.join("out.ts");
    let port = free_port();
    let mut receiver = spawn(
        Command::new("srt-live-transmit")
            .args(["-q", &format!("srt://:{port}"), "file://con"])
            .stdout(std::fs::File::create(&out).unwrap()),
    );
    std::thread::sleep(Duration::from_millis(500));
    run_command(
        test_video(&mut Command::new(ffmpeg()))
            .arg(format!("srt://127.0.0.1:{port}"))
            .env("LD_LIBRARY_PATH", &dir),
    );
    receiver.wait_for_exit(Duration::from_secs(2));
    drop(receiver);
    assert_has_video(&out);
}

/// ffmpeg on our libsrt listens and reads what a srt-live-transmit caller
/// relays from a UDP stream (sent by a second ffmpeg).
#[test]
fn ffmpeg_reads_from_srt_live_transmit() {
    let dir = dropin_dir("dropin_read");
    let out = dir.join("out.ts");
    let (port, udp) = (free_port(), free_port());
    let mut reader = spawn(
        Command::new(ffmpeg())
            .args(["-hide_banner", "-loglevel", "warning", "-y", "-i"])
            .arg(format!("srt://127.0.0.1:{port}?mode=listener"))
            .args(["-c", "copy", "-f", "mpegts"])
            .arg(&out)
            .env("LD_LIBRARY_PATH", &dir)
            .stderr(Stdio::null()),
    );
    std::thread::sleep(Duration::from_secs(1));
    let relay = spawn(Command::new("srt-live-transmit").args([
        "-q",
        &format!("udp://:{udp}"),
        &format!("srt://127.0.0.1:{port}"),
    ]));
    run_command(
        test_video(&mut Command::new(ffmpeg())).arg(format!("udp://127.0.0.1:{udp}?pkt_size=1316")),
    );
    std::thread::sleep(Duration::from_secs(1));
    // The caller goes away; the reader sees the end of its input.
    drop(relay);
    reader.wait_for_exit(Duration::from_secs(10));
    drop(reader);
    assert_has_video(&out);
}
