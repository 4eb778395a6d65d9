//! `srt-transmit` as a user runs it: a file from one `srt-transmit` to
//! another over loopback (byte-exact), and command lines it must refuse
//! with a non-zero exit and a message naming what is wrong.

mod common;

use common::free_port;
use sha1::{Digest, Sha1};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_srt-transmit");

/// Runs srt-transmit with `args` to its end.
fn run(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("transmit-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Deterministic, incompressible-looking content.
fn content(len: usize) -> Vec<u8> {
    let mut x = 0x2545_F491_4F6C_DD1Du64;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

fn transfer(name: &str, extra: &str) {
    let dir = scratch(name);
    let input = dir.join("in.bin");
    let output = dir.join("out.bin");
    let data = content(6 << 20);
    std::fs::write(&input, &data).unwrap();
    let port = free_port();
    let listener = Command::new(BIN)
        .args([
            &format!("srt://127.0.0.1:{port}?mode=listener&transtype=file{extra}"),
            &format!("file://{}", output.display()),
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The caller retries its handshake, so the listener may start late.
    let caller = run(&[
        &format!("file://{}", input.display()),
        &format!("srt://127.0.0.1:{port}?transtype=file&conntimeo=5000{extra}"),
    ]);
    assert!(
        caller.status.success(),
        "caller: {:?} {}",
        caller.status,
        String::from_utf8_lossy(&caller.stderr)
    );
    let start = Instant::now();
    let mut listener = listener;
    let status = loop {
        if let Some(s) = listener.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > Duration::from_secs(10) {
            let _ = listener.kill();
            panic!("the listener did not exit after the sender closed");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let out = listener.wait_with_output().unwrap();
    assert!(
        status.success(),
        "listener: {status:?} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got = std::fs::read(&output).unwrap();
    assert_eq!(got.len(), data.len(), "length differs");
    assert_eq!(Sha1::digest(&got), Sha1::digest(&data), "content differs");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn file_from_srt_transmit_to_srt_transmit() {
    transfer("plain", "");
}

#[test]
fn encrypted_file_from_srt_transmit_to_srt_transmit() {
    transfer("aes", "&passphrase=0123456789abcdef&pbkeylen=32");
}

/// Runs a command line that must be refused; returns its stderr.
fn refused(args: &[&str]) -> String {
    let out = run(args);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success(), "{args:?} succeeded: {err}");
    assert_ne!(out.status.code(), Some(0));
    err
}

#[test]
fn unknown_key_is_refused_by_name() {
    let e = refused(&[
        "file:///dev/null",
        "srt://127.0.0.1:9?transtype=file&latencyy=20",
    ]);
    assert!(e.contains("unknown key \"latencyy\""), "{e}");
}

#[test]
fn bad_values_are_refused_by_key() {
    for (uri, key) in [
        ("srt://127.0.0.1:9?latency=soon", "latency"),
        ("srt://127.0.0.1:9?pbkeylen=20", "pbkeylen"),
        ("srt://127.0.0.1:9?mode=both", "mode"),
        ("srt://127.0.0.1:9?transtype=bulk", "transtype"),
        ("srt://127.0.0.1:9?linger=-1", "linger"),
        ("srt://127.0.0.1:9?conntimeo=x", "conntimeo"),
        ("srt://127.0.0.1:9?rcvlatency=-1", "rcvlatency"),
        ("srt://127.0.0.1:9?peerlatency=-1", "peerlatency"),
        ("srt://127.0.0.1:9?inputbw=-1", "inputbw"),
        ("srt://127.0.0.1:9?oheadbw=4", "oheadbw"),
        ("srt://127.0.0.1:9?peeridletimeo=-5", "peeridletimeo"),
        ("srt://127.0.0.1:9?tlpktdrop=2", "tlpktdrop"),
        ("srt://127.0.0.1:9?nakreport=x", "nakreport"),
        (
            "srt://127.0.0.1:9?enforcedencryption=maybe",
            "enforcedencryption",
        ),
        ("srt://127.0.0.1:9?cryptomode=3", "cryptomode"),
        ("srt://127.0.0.1:9?sndbuf=0", "sndbuf"),
        ("srt://127.0.0.1:9?fc=10", "fc"),
        ("srt://127.0.0.1:9?mss=70", "mss"),
        ("srt://127.0.0.1:9?lossmaxttl=x", "lossmaxttl"),
        ("srt://127.0.0.1:9?minversion=abc", "minversion"),
        ("srt://127.0.0.1:9?kmrefreshrate=-1", "kmrefreshrate"),
        (
            "srt://127.0.0.1:9?kmrefreshrate=100&kmpreannounce=80",
            "kmpreannounce",
        ),
        ("srt://127.0.0.1:9?payloadsize=1500", "payloadsize"),
        ("srt://127.0.0.1:9?adapter=nowhere", "adapter"),
        ("srt://127.0.0.1:9?port=0", "port"),
        ("srt://127.0.0.1:9?mode=rendezvous&adapter=::1", "adapter"),
    ] {
        let e = refused(&["file:///dev/null", uri]);
        assert!(e.contains(&format!("\"{key}\"")), "{uri}: {e}");
    }
}

/// A refused value sends nothing: the would-be peer hears no datagram.
#[test]
fn refused_values_send_nothing() {
    let peer = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = peer.local_addr().unwrap().port();
    let input = format!("udp://127.0.0.1:{}", common::free_port());
    let e = refused(&[&input, &format!("srt://127.0.0.1:{port}?fc=10")]);
    assert!(e.contains("\"fc\""), "{e}");
    peer.set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let mut buf = [0u8; 2048];
    assert!(peer.recv(&mut buf).is_err(), "a datagram was sent");
}

#[test]
fn bad_udp_uris_are_refused_by_key() {
    let e = refused(&["udp://:9?ttl=300", "srt://127.0.0.1:9"]);
    assert!(e.contains("\"ttl\""), "{e}");
    let e = refused(&["udp://:9?bogus=1", "srt://127.0.0.1:9"]);
    assert!(e.contains("unknown key \"bogus\" in udp://"), "{e}");
    let e = refused(&["udp://127.0.0.1:9?multicast=1", "srt://127.0.0.1:9"]);
    assert!(e.contains("\"multicast\""), "{e}");
    let e = refused(&["udp://:9", "srt://127.0.0.1:9", "-a:maybe"]);
    assert!(e.contains("expected yes or no"), "{e}");
}

#[test]
fn malformed_uris_are_refused() {
    let e = refused(&["/no/scheme", "srt://127.0.0.1:9?transtype=file"]);
    assert!(e.contains("not a URI"), "{e}");
    let e = refused(&["file:///dev/null", "tcp://127.0.0.1:9"]);
    assert!(e.contains("unknown scheme \"tcp\""), "{e}");
    let e = refused(&["file:///dev/null", "srt://127.0.0.1:99999"]);
    assert!(e.contains("bad port"), "{e}");
    let e = refused(&["udp://:9", "udp://127.0.0.1:10"]);
    assert!(e.contains("must be srt://"), "{e}");
    let e = refused(&["file:///dev/null"]);
    assert!(e.to_lowercase().contains("usage"), "{e}");
}

#[test]
fn missing_input_file_fails() {
    let e = refused(&[
        "file:///nonexistent/in.bin",
        "srt://127.0.0.1:9?transtype=file",
    ]);
    assert!(e.contains("/nonexistent/in.bin"), "{e}");
}

/// srt:// to srt:// relays live streams; file mode, on either side, is
/// refused at once (nothing is bound or sent) with a message that says so.
#[test]
fn srt_to_srt_in_file_mode_is_refused() {
    let (a, b) = (free_port(), free_port());
    for (input, output) in [
        (
            format!("srt://:{a}?mode=listener&transtype=file"),
            format!("srt://127.0.0.1:{b}"),
        ),
        (
            format!("srt://:{a}?mode=listener"),
            format!("srt://127.0.0.1:{b}?transtype=file"),
        ),
    ] {
        let t = Instant::now();
        let e = refused(&[&input, &output]);
        assert!(
            e.contains("srt:// to srt:// relays live streams only")
                && e.contains("transtype=file is not supported"),
            "{input} {output}: {e}"
        );
        assert!(t.elapsed() < Duration::from_secs(2), "{input} {output}");
    }
}
