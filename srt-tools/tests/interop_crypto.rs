//! Encryption against libsrt 1.5.1 (`srt-live-transmit`): AES-128/192/256
//! in both directions with content verified, and the rejections of a wrong
//! or one-sided passphrase. Fails, never skips, without libsrt's tools.

use srt_proto::packet::RejectReason;
use srt_proto::{Event, MsgCtrl, SocketOptions};
use srt_tools::udp_driver::UdpDriver;
use std::io::Read;
use std::net::{SocketAddr, UdpSocket};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const PASS: &str = "0123456789abcdef";
const PACKETS: u64 = 500;

fn free_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn payload(i: u64) -> Vec<u8> {
    let mut p = vec![0u8; 1316];
    p[..8].copy_from_slice(&i.to_be_bytes());
    for (k, b) in p[8..].iter_mut().enumerate() {
        *b = (i as usize * 13 + k) as u8;
    }
    p
}

/// srt-live-transmit, killed on drop; `output()` stops it and reads what it printed.
struct Slt(Child);

impl Slt {
    fn spawn(args: &[&str]) -> Slt {
        Slt(Command::new("srt-live-transmit")
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("srt-live-transmit is missing: run `cargo xtask ci`, which installs it"))
    }

    fn output(mut self) -> String {
        let _ = self.0.kill();
        let _ = self.0.wait();
        let mut out = String::new();
        for s in [
            self.0.stdout.take().map(|s| Box::new(s) as Box<dyn Read>),
            self.0.stderr.take().map(|s| Box::new(s) as Box<dyn Read>),
        ]
        .into_iter()
        .flatten()
        {
            let mut s = s;
            let _ = s.read_to_string(&mut out);
        }
        out
    }
}

impl Drop for Slt {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn options(pass: Option<&str>, key_len: u8) -> SocketOptions {
    let mut o = SocketOptions::live();
    o.conntimeo = Duration::from_secs(10);
    if let Some(p) = pass {
        o = o.passphrase(p).unwrap().pbkeylen(key_len).unwrap();
    }
    o
}

#[test]
fn libsrt_encrypts_to_us_with_every_key_length() {
    for key_len in [16u8, 24, 32] {
        let mut d =
            UdpDriver::bind("127.0.0.1:0".parse().unwrap(), 40 + u64::from(key_len)).unwrap();
        d.endpoint.listen(&options(Some(PASS), key_len), 5).unwrap();
        let udp_in = free_port();
        let src = format!("udp://127.0.0.1:{udp_in}");
        let dst = format!(
            "srt://{}?passphrase={PASS}&pbkeylen={key_len}",
            d.local_addr()
        );
        let _slt = Slt::spawn(&["-a:no", &src, &dst]);
        assert!(d
            .run_until(Duration::from_secs(10), |e| matches!(
                e,
                Event::Accepted { .. }
            ))
            .unwrap());
        let id = d.endpoint.accept().unwrap();
        assert_eq!(
            d.endpoint.connection(id).unwrap().km_state(),
            srt_proto::packet::KmState::Secured
        );
        d.run_for(Duration::from_secs(1)).unwrap();
        let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
        let mut got = std::collections::BTreeSet::new();
        let mut buf = [0u8; 1500];
        for i in 0..PACKETS {
            sock.send_to(&payload(i), ("127.0.0.1", udp_in)).unwrap();
            d.turn(Duration::from_millis(1)).unwrap();
            while let Some(info) = d.endpoint.recv(Instant::now(), id, &mut buf).unwrap() {
                let j = u64::from_be_bytes(buf[..8].try_into().unwrap());
                assert_eq!(
                    &buf[..info.len],
                    payload(j).as_slice(),
                    "AES-{}: corrupt",
                    key_len * 8
                );
                got.insert(j);
            }
        }
        let end = Instant::now() + Duration::from_secs(1);
        while Instant::now() < end {
            d.turn(Duration::from_millis(5)).unwrap();
            while let Some(info) = d.endpoint.recv(Instant::now(), id, &mut buf).unwrap() {
                let j = u64::from_be_bytes(buf[..8].try_into().unwrap());
                assert_eq!(&buf[..info.len], payload(j).as_slice());
                got.insert(j);
            }
        }
        let stats = d.endpoint.socket_stats(Instant::now(), id, false).unwrap();
        assert_eq!(stats.pkt_rcv_undecrypt_total, 0, "AES-{}", key_len * 8);
        assert!(
            got.len() as u64 >= PACKETS - 2,
            "AES-{}: {} of {PACKETS}",
            key_len * 8,
            got.len()
        );
    }
}

#[test]
fn we_encrypt_to_libsrt_with_every_key_length() {
    for key_len in [16u8, 24, 32] {
        let port = free_port();
        let sink = UdpSocket::bind("127.0.0.1:0").unwrap();
        // Read after the stream: the kernel must hold all of it.
        socket2::SockRef::from(&sink)
            .set_recv_buffer_size(8 << 20)
            .unwrap();
        sink.set_read_timeout(Some(Duration::from_millis(50)))
            .unwrap();
        let src =
            format!("srt://127.0.0.1:{port}?mode=listener&passphrase={PASS}&pbkeylen={key_len}");
        let dst = format!("udp://127.0.0.1:{}", sink.local_addr().unwrap().port());
        let _slt = Slt::spawn(&["-a:no", &src, &dst]);
        let mut d =
            UdpDriver::bind("127.0.0.1:0".parse().unwrap(), 50 + u64::from(key_len)).unwrap();
        let remote: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let id = d
            .endpoint
            .connect(Instant::now(), remote, &options(Some(PASS), key_len))
            .unwrap();
        assert!(d
            .run_until(Duration::from_secs(10), |e| matches!(
                e,
                Event::Connected { .. } | Event::ConnectFailed { .. }
            ))
            .unwrap());
        assert!(
            d.events.contains(&Event::Connected { socket: id }),
            "{:?}",
            d.events
        );
        for i in 0..PACKETS {
            d.endpoint
                .send(Instant::now(), id, &payload(i), &MsgCtrl::default())
                .unwrap();
            d.turn(Duration::from_millis(1)).unwrap();
        }
        d.run_for(Duration::from_millis(500)).unwrap();
        let mut got = std::collections::BTreeSet::new();
        let mut buf = [0u8; 2048];
        while let Ok(n) = sink.recv(&mut buf) {
            let j = u64::from_be_bytes(buf[..8].try_into().unwrap());
            assert_eq!(
                &buf[..n],
                payload(j).as_slice(),
                "AES-{}: corrupt",
                key_len * 8
            );
            got.insert(j);
        }
        assert!(
            got.len() as u64 >= PACKETS - 2,
            "AES-{}: {} of {PACKETS}",
            key_len * 8,
            got.len()
        );
    }
}

#[test]
fn wrong_or_one_sided_passphrase_is_refused_like_libsrt() {
    for (ours, theirs, reason) in [
        (
            Some(PASS),
            Some("fedcba9876543210"),
            RejectReason::BadSecret,
        ),
        (Some(PASS), None, RejectReason::Unsecure),
        (None, Some(PASS), RejectReason::Unsecure),
    ] {
        let port = free_port();
        let mut src = format!("srt://127.0.0.1:{port}?mode=listener");
        if let Some(p) = theirs {
            src.push_str(&format!("&passphrase={p}"));
        }
        let slt = Slt::spawn(&["-a:no", &src, "file://con"]);
        let mut d = UdpDriver::bind("127.0.0.1:0".parse().unwrap(), 60).unwrap();
        let remote: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let id = d
            .endpoint
            .connect(Instant::now(), remote, &options(ours, 16))
            .unwrap();
        assert!(d
            .run_until(Duration::from_secs(10), |e| matches!(
                e,
                Event::Connected { .. } | Event::ConnectFailed { .. }
            ))
            .unwrap());
        assert!(
            d.events
                .contains(&Event::ConnectFailed { socket: id, reason }),
            "expected {reason:?}: {:?}",
            d.events
        );
        d.run_for(Duration::from_millis(200)).unwrap();
        // libsrt's listener logs the same code.
        let out = slt.output();
        let code = 1000 + reason.code();
        assert!(out.contains(&format!("rsp(REJECT): {code}")), "{out}");
    }
}
