//! srt-tokio against itself over 127.0.0.1.

use futures_util::{SinkExt, StreamExt};
use srt_tokio::{Error, MsgCtrl, RejectReason, SrtSocket, TransType};
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::timeout;

const ANY: &str = "127.0.0.1:0";
const LIMIT: Duration = Duration::from_secs(20);

fn any() -> SocketAddr {
    ANY.parse().unwrap()
}

/// Message `i` of a run: 1316 bytes, its index first, then a pattern.
fn message(i: u32, tag: u8) -> Vec<u8> {
    let mut m = vec![0u8; 1316];
    m[..4].copy_from_slice(&i.to_be_bytes());
    for (k, b) in m[4..].iter_mut().enumerate() {
        *b = (k as u8).wrapping_mul(31).wrapping_add(i as u8) ^ tag;
    }
    m
}

/// Sends `n` tagged messages, one per millisecond.
async fn send_run(s: &SrtSocket, n: u32, tag: u8) {
    let mut tick = tokio::time::interval(Duration::from_millis(1));
    for i in 0..n {
        tick.tick().await;
        s.send_msg(&message(i, tag), MsgCtrl::default())
            .await
            .unwrap();
    }
}

/// Receives `n` tagged messages and checks each one's bytes and order.
async fn recv_run(s: &SrtSocket, n: u32, tag: u8) {
    for i in 0..n {
        let m = s.recv().await.unwrap();
        assert_eq!(m.payload, message(i, tag), "message {i}");
        assert!(m.src_time().is_some(), "live messages carry a source time");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_messages_both_ways() {
    let mut listener = SrtSocket::builder()
        .latency(Duration::from_millis(80))
        .listen(any())
        .await
        .unwrap();
    let addr = listener.local_addr();
    let server = tokio::spawn(async move {
        let req = listener.next().await.unwrap();
        assert_eq!(req.stream_id(), b"cam/1");
        let s = req.accept().unwrap();
        tokio::join!(send_run(&s, 300, 0xA5), recv_run(&s, 300, 0x5A));
        s
    });
    let c = SrtSocket::builder()
        .stream_id("cam/1")
        .call(addr)
        .await
        .unwrap();
    assert_eq!(c.peer_addr(), addr);
    timeout(
        LIMIT,
        futures_util::future::join(send_run(&c, 300, 0x5A), recv_run(&c, 300, 0xA5)),
    )
    .await
    .unwrap();
    let s = timeout(LIMIT, server).await.unwrap().unwrap();
    let stats = c.stats(false).unwrap();
    assert_eq!(stats.pkt_sent_unique_total, 300);
    assert_eq!(stats.pkt_recv_unique_total, 300);
    drop(s);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_stream_async_write_read_is_byte_exact() {
    const LEN: usize = 4 << 20;
    let data: Vec<u8> = (0..LEN as u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let mut listener = SrtSocket::builder()
        .transtype(TransType::File)
        .listen(any())
        .await
        .unwrap();
    let addr = listener.local_addr();
    let server = tokio::spawn(async move {
        let mut s = listener.accept().await.unwrap().into_socket().unwrap();
        let mut got = Vec::new();
        s.read_to_end(&mut got).await.unwrap();
        got
    });
    let mut c = SrtSocket::builder()
        .transtype(TransType::File)
        .call(addr)
        .await
        .unwrap();
    let start = Instant::now();
    timeout(LIMIT, async {
        c.write_all(&data).await.unwrap();
        c.shutdown().await.unwrap();
    })
    .await
    .unwrap();
    let got = timeout(LIMIT, server).await.unwrap().unwrap();
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{} MiB in {secs:.2} s: {:.0} Mbit/s",
        LEN >> 20,
        LEN as f64 * 8.0 / secs / 1e6
    );
    assert_eq!(got.len(), data.len());
    assert!(got == data, "received bytes differ");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_callers_share_one_listener_port() {
    let mut listener = SrtSocket::builder().listen(any()).await.unwrap();
    let addr = listener.local_addr();
    let server = tokio::spawn(async move {
        let mut handlers = Vec::new();
        for _ in 0..2 {
            let req = listener.next().await.unwrap();
            let tag = req.stream_id()[0];
            let s = req.accept().unwrap();
            assert_eq!(s.local_addr(), addr);
            handlers.push(tokio::spawn(async move {
                recv_run(&s, 100, tag).await;
                send_run(&s, 100, tag ^ 0xFF).await;
                s
            }));
        }
        let mut sockets = Vec::new();
        for h in handlers {
            sockets.push(h.await.unwrap());
        }
        (listener, sockets)
    });
    let one = async {
        let c = SrtSocket::builder()
            .stream_id([1u8])
            .call(addr)
            .await
            .unwrap();
        send_run(&c, 100, 1).await;
        recv_run(&c, 100, 1 ^ 0xFF).await;
        c
    };
    let two = async {
        let c = SrtSocket::builder()
            .stream_id([2u8])
            .call(addr)
            .await
            .unwrap();
        send_run(&c, 100, 2).await;
        recv_run(&c, 100, 2 ^ 0xFF).await;
        c
    };
    let (c1, c2) = timeout(LIMIT, futures_util::future::join(one, two))
        .await
        .unwrap();
    assert_ne!(c1.local_addr(), c2.local_addr());
    let (_listener, sockets) = timeout(LIMIT, server).await.unwrap().unwrap();
    assert_eq!(sockets.len(), 2);
}

#[tokio::test]
async fn rejection_reason_reaches_the_caller() {
    let mut listener = SrtSocket::builder().listen(any()).await.unwrap();
    let addr = listener.local_addr();
    let server = tokio::spawn(async move {
        let req = listener.next().await.unwrap();
        assert_eq!(req.stream_id_str(), Some("#!::r=forbidden"));
        req.reject(RejectReason::Server(1403)).unwrap();
        listener
    });
    let err = timeout(
        LIMIT,
        SrtSocket::builder().stream_id("#!::r=forbidden").call(addr),
    )
    .await
    .unwrap()
    .unwrap_err();
    assert!(
        matches!(err, Error::Rejected(RejectReason::Server(1403))),
        "{err:?}"
    );
    let _listener = server.await.unwrap();

    // A user code, and a request dropped unanswered (SRT_REJ_PEER).
    let mut listener = SrtSocket::builder().listen(any()).await.unwrap();
    let addr = listener.local_addr();
    let server = tokio::spawn(async move {
        listener
            .next()
            .await
            .unwrap()
            .reject(RejectReason::User(2042))
            .unwrap();
        drop(listener.next().await.unwrap());
        listener
    });
    let err = SrtSocket::builder().call(addr).await.unwrap_err();
    assert!(
        matches!(err, Error::Rejected(RejectReason::User(2042))),
        "{err:?}"
    );
    let err = SrtSocket::builder().call(addr).await.unwrap_err();
    assert!(
        matches!(err, Error::Rejected(RejectReason::Peer)),
        "{err:?}"
    );
    let _listener = server.await.unwrap();
}

#[tokio::test]
async fn passphrase_mismatch_is_a_typed_error() {
    let mut listener = SrtSocket::builder()
        .passphrase("the right passphrase")
        .listen(any())
        .await
        .unwrap();
    let addr = listener.local_addr();
    let server = tokio::spawn(async move {
        // The engine refuses the wrong key while accepting.
        let err = listener.accept().await.unwrap_err();
        assert!(matches!(err, Error::AcceptFailed), "{err:?}");
        // The right one gets through.
        let s = listener.accept().await.unwrap().into_socket().unwrap();
        (listener, s)
    });
    let err = SrtSocket::builder()
        .passphrase("a wrong passphrase")
        .call(addr)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::BadSecret), "{err:?}");
    let c = timeout(
        LIMIT,
        SrtSocket::builder()
            .passphrase("the right passphrase")
            .call(addr),
    )
    .await
    .unwrap()
    .unwrap();
    let (_l, s) = server.await.unwrap();
    c.send_msg(b"secret hello", MsgCtrl::default())
        .await
        .unwrap();
    assert_eq!(s.recv().await.unwrap().payload, b"secret hello");
}

#[tokio::test]
async fn timeout_without_a_listener() {
    // A bound socket that never answers.
    let silent = std::net::UdpSocket::bind(ANY).unwrap();
    let start = Instant::now();
    let err = SrtSocket::builder()
        .conn_timeout(Duration::from_millis(500))
        .call(silent.local_addr().unwrap())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::ConnectTimeout), "{err:?}");
    assert!(start.elapsed() < Duration::from_secs(3));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_with_linger_delivers_everything() {
    // Messages in file mode, sent as fast as the buffer takes them, then
    // a lingering close straight away: every message must arrive, intact.
    // The sink sends with the default MsgCtrl, whose `in_order` is false
    // as in libsrt, so after a loss (the loopback socket buffer overflows
    // when the receiver is descheduled) a complete later message may come
    // first: the order is not checked here.
    const N: u32 = 2000;
    let builder = || {
        SrtSocket::builder()
            .transtype(TransType::File)
            .message_api(true)
            .linger(Some(Duration::from_secs(10)))
    };
    let mut listener = builder().listen(any()).await.unwrap();
    let addr = listener.local_addr();
    let server = tokio::spawn(async move {
        let mut s = listener.accept().await.unwrap().into_socket().unwrap();
        let mut seen = vec![false; N as usize];
        while let Some(m) = s.next().await {
            let m = m.unwrap();
            let i = u32::from_be_bytes(m.payload[..4].try_into().unwrap());
            assert!(
                i < N && !seen[i as usize],
                "message {i} unexpected or twice"
            );
            assert_eq!(m.payload, message(i, 7), "message {i}");
            seen[i as usize] = true;
        }
        seen.iter().filter(|&&s| s).count() as u32
    });
    let mut c = builder().call(addr).await.unwrap();
    timeout(LIMIT, async {
        for i in 0..N {
            c.feed(message(i, 7)).await.unwrap();
        }
        SinkExt::flush(&mut c).await.unwrap();
        c.close().await.unwrap();
    })
    .await
    .unwrap();
    let got = timeout(LIMIT, server).await.unwrap().unwrap();
    assert_eq!(got, N);
}

#[tokio::test]
async fn forged_conclusions_never_reach_the_application() {
    use srt_proto::packet::{
        ControlBody, ControlPacket, Handshake, HandshakeType, Packet, PeerAddress, SocketId,
    };
    use srt_proto::seq::{SeqNumber, Timestamp};
    let mut listener = SrtSocket::builder().backlog(2).listen(any()).await.unwrap();
    let addr = listener.local_addr();
    // CONCLUSIONs that skipped the induction: their SYN cookie is made up.
    let forger = tokio::net::UdpSocket::bind(ANY).await.unwrap();
    for k in 0..8u32 {
        let hs = Handshake {
            version: 5,
            encryption_field: 0,
            extension_field: 1,
            isn: SeqNumber::new_truncate(1000 + k),
            mss: 1500,
            flow_window: 8192,
            req_type: HandshakeType::Conclusion,
            socket_id: 0x1000 + k,
            syn_cookie: 0xDEAD_0000 + k,
            peer_addr: PeerAddress::from_ip(addr.ip()),
            extensions: Vec::new(),
        };
        let packet = Packet::Control(ControlPacket {
            timestamp: Timestamp::from_micros(0),
            dest_socket: SocketId(0),
            body: ControlBody::Handshake(hs),
        });
        let mut buf = [0u8; 256];
        let n = packet.encode(&mut buf).unwrap();
        forger.send_to(&buf[..n], addr).await.unwrap();
    }
    // They neither fill the backlog nor show up as requests.
    let caller = tokio::spawn(async move {
        SrtSocket::builder()
            .stream_id("real")
            .call(addr)
            .await
            .map(|s| s.local_addr())
    });
    let req = timeout(LIMIT, listener.next()).await.unwrap().unwrap();
    assert_eq!(req.stream_id(), b"real");
    let s = req.accept().unwrap();
    let caller_addr = timeout(LIMIT, caller).await.unwrap().unwrap().unwrap();
    assert_eq!(s.peer_addr().port(), caller_addr.port());
    // And nothing was answered to the forger (a refusal would tell it the
    // listener exists and looked at its packet).
    let mut buf = [0u8; 256];
    assert!(timeout(Duration::from_millis(300), forger.recv(&mut buf))
        .await
        .is_err());
}

#[tokio::test]
async fn accept_with_per_connection_options() {
    // The listener has no passphrase; each stream gets its own.
    let mut listener = SrtSocket::builder().listen(any()).await.unwrap();
    let addr = listener.local_addr();
    let server = tokio::spawn(async move {
        let mut sockets = Vec::new();
        for _ in 0..2 {
            let req = listener.next().await.unwrap();
            let pass = format!("secret of {}", req.stream_id_str().unwrap());
            let options = srt_tokio::SocketOptions::live().passphrase(pass).unwrap();
            match req.accept_with(options) {
                Ok(s) => sockets.push(s),
                Err(e) => assert!(matches!(e, Error::AcceptFailed), "{e:?}"),
            }
        }
        (listener, sockets)
    });
    let good = SrtSocket::builder()
        .stream_id("alice")
        .passphrase("secret of alice")
        .call(addr)
        .await
        .unwrap();
    let bad = SrtSocket::builder()
        .stream_id("bob")
        .passphrase("secret of alice")
        .call(addr)
        .await
        .unwrap_err();
    assert!(matches!(bad, Error::BadSecret), "{bad:?}");
    let (_listener, sockets) = timeout(LIMIT, server).await.unwrap().unwrap();
    assert_eq!(sockets.len(), 1);
    good.send_msg(b"for alice", MsgCtrl::default())
        .await
        .unwrap();
    assert_eq!(sockets[0].recv().await.unwrap().payload, b"for alice");
    assert_eq!(sockets[0].stream_id(), b"alice");
}

#[tokio::test]
async fn rendezvous_both_sides() {
    let a_addr: SocketAddr = std::net::UdpSocket::bind(ANY)
        .unwrap()
        .local_addr()
        .unwrap();
    let b_addr: SocketAddr = std::net::UdpSocket::bind(ANY)
        .unwrap()
        .local_addr()
        .unwrap();
    let (a, b) = timeout(
        LIMIT,
        futures_util::future::join(
            SrtSocket::builder().rendezvous(a_addr, b_addr),
            SrtSocket::builder().rendezvous(b_addr, a_addr),
        ),
    )
    .await
    .unwrap();
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.peer_addr(), b_addr);
    a.send_msg(b"ping", MsgCtrl::default()).await.unwrap();
    assert_eq!(b.recv().await.unwrap().payload, b"ping");
    b.send_msg(b"pong", MsgCtrl::default()).await.unwrap();
    assert_eq!(a.recv().await.unwrap().payload, b"pong");
}

#[tokio::test]
async fn drop_aborts_and_the_peer_sees_the_end() {
    let mut listener = SrtSocket::builder().listen(any()).await.unwrap();
    let addr = listener.local_addr();
    let server = tokio::spawn(async move {
        let mut s = listener.accept().await.unwrap().into_socket().unwrap();
        let first = s.next().await.unwrap().unwrap();
        // The caller dropped its socket: the stream ends, recv says why.
        let end = timeout(LIMIT, s.next()).await.unwrap();
        (first.payload, end.is_none(), s.recv().await.unwrap_err())
    });
    let c = SrtSocket::builder().call(addr).await.unwrap();
    c.send_msg(b"last words", MsgCtrl::default()).await.unwrap();
    // Let the message be delivered (latency 120 ms) before dropping.
    tokio::time::sleep(Duration::from_millis(400)).await;
    drop(c);
    let (payload, ended, err) = timeout(LIMIT, server).await.unwrap().unwrap();
    assert_eq!(payload, b"last words");
    assert!(ended);
    assert!(err.is_peer_closed(), "{err:?}");
}

#[tokio::test]
async fn unanswered_request_expires_when_the_caller_gives_up() {
    let mut listener = SrtSocket::builder().listen(any()).await.unwrap();
    let addr = listener.local_addr();
    let err = SrtSocket::builder()
        .conn_timeout(Duration::from_millis(600))
        .call(addr);
    let (err, req) = futures_util::future::join(err, listener.next()).await;
    assert!(matches!(err.unwrap_err(), Error::ConnectTimeout));
    let req = req.unwrap();
    // The caller stopped repeating its CONCLUSION; the driver forgets it.
    tokio::time::sleep(Duration::from_millis(2600)).await;
    let err = req.accept().unwrap_err();
    assert!(matches!(err, Error::RequestExpired), "{err:?}");
}

#[tokio::test]
async fn request_answered_just_after_the_caller_gave_up_is_refused() {
    // The caller tries for its connect timeout (3 s, the listener's too);
    // the application answers 800 ms after that, before the 2 s silence
    // that forgets a request: accepting would make a socket whose peer is
    // gone (it broke at the peer idle timeout, 5 s later).
    let mut listener = SrtSocket::builder().listen(any()).await.unwrap();
    let addr = listener.local_addr();
    let call = SrtSocket::builder().call(addr);
    let (err, req) = futures_util::future::join(call, listener.next()).await;
    assert!(matches!(err.unwrap_err(), Error::ConnectTimeout));
    tokio::time::sleep(Duration::from_millis(800)).await;
    let err = req.unwrap().accept().unwrap_err();
    assert!(matches!(err, Error::RequestExpired), "{err:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_messages_in_flight_at_close_are_still_delivered() {
    // The caller closes 20 ms after sending, long before the messages'
    // TSBPD time (120 ms): the listener side still delivers them all, at
    // their time, then ends the stream.
    let mut listener = SrtSocket::builder().listen(any()).await.unwrap();
    let addr = listener.local_addr();
    let server = tokio::spawn(async move {
        let mut s = listener.accept().await.unwrap().into_socket().unwrap();
        let mut n = 0;
        while let Some(m) = s.next().await {
            assert_eq!(m.unwrap().payload, message(n, 3));
            n += 1;
        }
        n
    });
    let c = SrtSocket::builder().call(addr).await.unwrap();
    for i in 0..50 {
        c.send_msg(&message(i, 3), MsgCtrl::default())
            .await
            .unwrap();
    }
    tokio::time::sleep(Duration::from_millis(20)).await;
    c.close_gracefully().await.unwrap();
    assert_eq!(timeout(LIMIT, server).await.unwrap().unwrap(), 50);
}

#[tokio::test]
async fn closing_the_listener_refuses_waiting_callers() {
    let mut listener = SrtSocket::builder().listen(any()).await.unwrap();
    let addr = listener.local_addr();
    let caller = tokio::spawn(async move { SrtSocket::builder().call(addr).await });
    // The request arrives; the listener goes away before answering it.
    let request = timeout(LIMIT, listener.next()).await.unwrap().unwrap();
    drop(listener);
    let err = request.accept().unwrap_err();
    assert!(matches!(err, Error::Closed), "{err:?}");
    let err = timeout(LIMIT, caller).await.unwrap().unwrap().unwrap_err();
    assert!(
        matches!(err, Error::Rejected(RejectReason::Close)),
        "{err:?}"
    );
}

/// A live listener sees a file caller's type and accepts it with file options.
#[tokio::test]
async fn request_shows_the_callers_transfer_type() {
    let mut listener = SrtSocket::builder().listen(any()).await.unwrap();
    let addr = listener.local_addr();
    let server = tokio::spawn(async move {
        let mut types = Vec::new();
        for _ in 0..2 {
            let req = listener.next().await.unwrap();
            let t = req.trans_type().expect("HSREQ carries it");
            types.push(t);
            let options = match t {
                TransType::File => srt_tokio::SocketOptions::file(),
                TransType::Live => srt_tokio::SocketOptions::live(),
            };
            req.accept_with(options).unwrap();
        }
        types
    });
    let file = SrtSocket::builder()
        .transtype(TransType::File)
        .call(addr)
        .await
        .unwrap();
    let live = SrtSocket::builder().call(addr).await.unwrap();
    let types = timeout(LIMIT, server).await.unwrap().unwrap();
    assert_eq!(types, vec![TransType::File, TransType::Live]);
    drop((file, live));
}

/// A caller with the builtin FEC and a listener without: the listener
/// adopts it, FEC packets flow, every message arrives.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fec_caller_to_plain_listener() {
    let mut listener = SrtSocket::builder().listen(any()).await.unwrap();
    let addr = listener.local_addr();
    let server = tokio::spawn(async move {
        let s = listener.next().await.unwrap().accept().unwrap();
        recv_run(&s, 200, 0x3C).await;
        s
    });
    let c = SrtSocket::builder()
        .packet_filter("fec,cols:5,rows:4,arq:never")
        .call(addr)
        .await
        .unwrap();
    timeout(LIMIT, send_run(&c, 200, 0x3C)).await.unwrap();
    let s = timeout(LIMIT, server).await.unwrap().unwrap();
    let sent = c.stats(false).unwrap();
    // 200 packets: 40 rows and 10 matrices of 5 columns.
    assert!(sent.pkt_snd_filter_extra_total >= 80, "{sent:?}");
    let recvd = s.stats(false).unwrap();
    assert!(recvd.pkt_rcv_filter_extra_total >= 80, "{recvd:?}");
    assert!(SrtSocket::builder()
        .packet_filter("fec,cols:1")
        .call(addr)
        .await
        .is_err());
}
