//! srt-tokio with libsrt 1.5's `srt-live-transmit` over 127.0.0.1, both
//! roles, content verified. Fails, never skips, when libsrt's tools are
//! missing (`cargo xtask ci` installs them).

use srt_tokio::{MsgCtrl, SrtSocket};
use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use tokio::net::UdpSocket;
use tokio::time::{sleep, timeout};

const COUNT: u32 = 3000;
const PAYLOAD: usize = 1316;

/// A child process killed on drop.
struct Proc(Child);

impl Proc {
    fn spawn(program: &str, args: &[&str]) -> Proc {
        let child = Command::new(program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot run {program} ({e}): run `cargo xtask ci`, which installs it")
            });
        Proc(child)
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A free UDP port on 127.0.0.1 (bound and released).
fn free_port() -> u16 {
    std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Payload `i`: its index, then bytes that depend on it.
fn payload(i: u32) -> Vec<u8> {
    let mut m = vec![0u8; PAYLOAD];
    m[..4].copy_from_slice(&i.to_be_bytes());
    for (k, b) in m[4..].iter_mut().enumerate() {
        *b = (k as u32).wrapping_mul(7).wrapping_add(i.wrapping_mul(13)) as u8;
    }
    m
}

/// Collects numbered payloads from `sink` until it is quiet for a second;
/// returns the indices seen and how many were corrupt.
async fn collect(sink: &UdpSocket) -> (BTreeSet<u32>, u32) {
    let mut seen = BTreeSet::new();
    let mut corrupt = 0;
    let mut buf = vec![0u8; 2048];
    while let Ok(Ok(n)) = timeout(Duration::from_secs(1), sink.recv(&mut buf)).await {
        let i = u32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]);
        if n == PAYLOAD && buf[..n] == payload(i)[..] {
            seen.insert(i);
        } else {
            corrupt += 1;
        }
    }
    (seen, corrupt)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_caller_sends_to_libsrt_listener() {
    let sink = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let dst = format!("udp://127.0.0.1:{}", sink.local_addr().unwrap().port());
    // A free port may be taken again (by another program's listener)
    // before srt-live-transmit binds it: try a few.
    let mut attempts = 0;
    let (caller, _slt) = loop {
        attempts += 1;
        let slt_port = free_port();
        let src = format!("srt://127.0.0.1:{slt_port}?mode=listener&passphrase=interop-secret-1");
        let slt = Proc::spawn("srt-live-transmit", &["-a:no", "-q", &src, &dst]);
        sleep(Duration::from_millis(300)).await;
        let listener: SocketAddr = format!("127.0.0.1:{slt_port}").parse().unwrap();
        match SrtSocket::builder()
            .passphrase("interop-secret-1")
            .stream_id("tokio-interop")
            .call(listener)
            .await
        {
            Ok(c) => break (c, slt),
            Err(e) if attempts < 3 => println!("attempt {attempts} on port {slt_port}: {e}"),
            Err(e) => panic!("connect to srt-live-transmit: {e:?}"),
        }
    };
    // srt-live-transmit starts its output a moment after it accepts.
    sleep(Duration::from_millis(500)).await;

    let receiver = tokio::spawn(async move { collect(&sink).await });
    let mut tick = tokio::time::interval(Duration::from_millis(1));
    for i in 0..COUNT {
        tick.tick().await;
        caller
            .send_msg(&payload(i), MsgCtrl::default())
            .await
            .unwrap();
    }
    let (seen, corrupt) = receiver.await.unwrap();
    let stats = caller.stats(false).unwrap();
    println!(
        "libsrt delivered {} of {COUNT}, {corrupt} corrupt; we sent {} packets, {} retransmitted",
        seen.len(),
        stats.pkt_sent_total,
        stats.pkt_retrans_total
    );
    assert_eq!(corrupt, 0);
    assert_eq!(seen.len() as u32, COUNT, "lost payloads on loopback");
    caller.close_gracefully().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn libsrt_caller_sends_to_our_listener() {
    let mut listener = SrtSocket::builder()
        .listen("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let port = listener.local_addr().port();
    let input_port = free_port();
    let src = format!("udp://127.0.0.1:{input_port}");
    let dst = format!("srt://127.0.0.1:{port}?streamid=from-libsrt");
    let _slt = Proc::spawn("srt-live-transmit", &["-a:no", "-q", &src, &dst]);

    let request = timeout(Duration::from_secs(10), listener.next())
        .await
        .expect("no request from srt-live-transmit")
        .unwrap();
    assert_eq!(request.stream_id_str(), Some("from-libsrt"));
    let socket = request.accept().unwrap();
    sleep(Duration::from_millis(300)).await;

    let source = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let input: SocketAddr = format!("127.0.0.1:{input_port}").parse().unwrap();
    let sender = tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_millis(1));
        for i in 0..COUNT {
            tick.tick().await;
            source.send_to(&payload(i), input).await.unwrap();
        }
    });
    let mut seen = BTreeSet::new();
    let mut corrupt = 0;
    while let Ok(Ok(m)) = timeout(Duration::from_secs(1), socket.recv()).await {
        let p = &m.payload;
        let i = u32::from_be_bytes([p[0], p[1], p[2], p[3]]);
        if p.len() == PAYLOAD && *p == payload(i) {
            seen.insert(i);
        } else {
            corrupt += 1;
        }
    }
    sender.await.unwrap();
    let stats = socket.stats(false).unwrap();
    println!(
        "we received {} of {COUNT} from libsrt, {corrupt} corrupt; {} packets, {} lost",
        seen.len(),
        stats.pkt_recv_total,
        stats.pkt_rcv_loss_total
    );
    assert_eq!(corrupt, 0);
    assert_eq!(seen.len() as u32, COUNT, "lost payloads on loopback");
}

/// Issue 16: a live caller that closes right after its last message loses
/// nothing with libsrt's `srt-live-transmit` as the receiver (libsrt drops
/// what it still holds when SHUTDOWN comes, so the close waits for the
/// acknowledgements and the receiver's latency first). `via_sink` closes
/// with `Sink::close`, else with `close_gracefully().await`. srt-live-transmit writes
/// to its stdout (a file), so nothing is lost on the way out either.
async fn live_close_delivers_every_message(via_sink: bool) {
    use futures_util::SinkExt;
    // 1,600 messages of 1316 bytes: 2.1 MB, one a millisecond.
    const N: u32 = 1600;
    let dir =
        std::env::temp_dir().join(format!("srt-tokio-close-{}-{via_sink}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("out.bin");
    let mut attempts = 0;
    let (mut caller, mut slt) = loop {
        attempts += 1;
        let port = free_port();
        let slt = Command::new("srt-live-transmit")
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
        let slt = Proc(slt);
        sleep(Duration::from_millis(300)).await;
        let listener: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        match SrtSocket::builder().call(listener).await {
            Ok(c) => break (c, slt),
            Err(e) if attempts < 3 => println!("attempt {attempts} on port {port}: {e}"),
            Err(e) => panic!("connect to srt-live-transmit: {e:?}"),
        }
    };
    let mut tick = tokio::time::interval(Duration::from_millis(1));
    for i in 0..N {
        tick.tick().await;
        caller
            .send_msg(&payload(i), MsgCtrl::default())
            .await
            .unwrap();
    }
    let t = std::time::Instant::now();
    if via_sink {
        timeout(Duration::from_secs(10), SinkExt::close(&mut caller))
            .await
            .unwrap()
            .unwrap();
    } else {
        timeout(Duration::from_secs(10), caller.close_gracefully())
            .await
            .unwrap()
            .unwrap();
    }
    let took = t.elapsed();
    // With -a:no, srt-live-transmit ends when the connection does.
    let end = std::time::Instant::now() + Duration::from_secs(5);
    while slt.0.try_wait().unwrap().is_none() && std::time::Instant::now() < end {
        sleep(Duration::from_millis(50)).await;
    }
    drop(slt);
    let got = std::fs::read(&out).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    println!(
        "close took {took:?}; srt-live-transmit wrote {} of {} bytes",
        got.len(),
        N as usize * PAYLOAD
    );
    let want: Vec<u8> = (0..N).flat_map(payload).collect();
    assert_eq!(got.len(), want.len(), "messages lost");
    assert!(got == want, "content differs");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_close_delivers_every_message_to_libsrt() {
    live_close_delivers_every_message(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_sink_close_delivers_every_message_to_libsrt() {
    live_close_delivers_every_message(true).await;
}

/// libsrt's `srt-live-transmit` as a plain caller into a listener with
/// `group_connect(true)`: `accept` gives a socket (as libsrt's
/// `srt_accept` on a `SRTO_GROUPCONNECT` listener), and the stream
/// arrives whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn libsrt_plain_caller_into_our_group_listener() {
    let mut listener = SrtSocket::builder()
        .group_connect(true)
        .listen("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let port = listener.local_addr().port();
    let input_port = free_port();
    let src = format!("udp://127.0.0.1:{input_port}");
    let dst = format!("srt://127.0.0.1:{port}");
    let _slt = Proc::spawn("srt-live-transmit", &["-a:no", "-q", &src, &dst]);
    let accepted = timeout(Duration::from_secs(10), listener.accept())
        .await
        .expect("srt-live-transmit was not accepted")
        .unwrap();
    let socket = match accepted {
        srt_tokio::Accepted::Socket(s) => s,
        srt_tokio::Accepted::Group(g) => panic!("a plain caller came as a group: {g:?}"),
    };
    sleep(Duration::from_millis(300)).await;
    let source = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let input: SocketAddr = format!("127.0.0.1:{input_port}").parse().unwrap();
    let sender = tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_millis(1));
        for i in 0..COUNT {
            tick.tick().await;
            source.send_to(&payload(i), input).await.unwrap();
        }
    });
    let mut seen = BTreeSet::new();
    while let Ok(Ok(m)) = timeout(Duration::from_secs(1), socket.recv()).await {
        let p = &m.payload;
        let i = u32::from_be_bytes([p[0], p[1], p[2], p[3]]);
        assert_eq!(*p, payload(i), "content of {i}");
        seen.insert(i);
    }
    sender.await.unwrap();
    assert_eq!(seen.len() as u32, COUNT, "lost payloads on loopback");
}

/// libsrt 1.5.5's `srt-test-live-gsend` (the peer kit, built with
/// bonding) connects a broadcast group of two members to our listener
/// with `group_connect(true)`: `accept` gives one group with both
/// members, and its stream arrives whole, in order. A missing kit fails
/// under `CI=true` (`testvectors::peer_kit`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn libsrt_1_5_5_broadcast_group_into_our_listener() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let Some(kit) = testvectors::peer_kit::PeerKit::for_test(
        &root,
        "srt-test-live-gsend 1.5.5 broadcast group -> srt-tokio group_connect listener",
    ) else {
        return;
    };
    let mut listener = SrtSocket::builder()
        .latency(Duration::from_millis(120))
        .group_connect(true)
        .listen("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let port = listener.local_addr().port();
    let feed_port = free_port();
    let member = format!("127.0.0.1:{port}");
    let _peer = Proc::spawn(
        kit.bin("srt-test-live-gsend").to_str().unwrap(),
        &[
            // -v:0 makes srt-test-live-gsend send nothing; -v:1 works.
            "-v:1",
            &format!("udp://:{feed_port}"),
            "-g",
            "srt://*?type=broadcast&latency=120",
            &member,
            &member,
        ],
    );
    let accepted = timeout(Duration::from_secs(10), listener.accept())
        .await
        .expect("no group from srt-test-live-gsend")
        .unwrap();
    let group = accepted.into_group().expect("a group, not a socket");
    sleep(Duration::from_millis(1000)).await;
    assert_eq!(group.members().len(), 2, "{:?}", group.members());
    let source = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let input: SocketAddr = format!("127.0.0.1:{feed_port}").parse().unwrap();
    let sender = tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_millis(1));
        for i in 0..2000 {
            tick.tick().await;
            source.send_to(&payload(i), input).await.unwrap();
        }
    });
    let mut next = 0u32;
    while next < 2000 {
        let Ok(m) = timeout(Duration::from_secs(3), group.recv()).await else {
            break;
        };
        let m = m.unwrap();
        let i = u32::from_be_bytes([m[0], m[1], m[2], m[3]]);
        assert_eq!(i, next, "out of order, repeated or lost");
        assert_eq!(m, payload(i), "content of {i}");
        next += 1;
    }
    sender.await.unwrap();
    assert_eq!(next, 2000, "{:?}", group.stats());
}
