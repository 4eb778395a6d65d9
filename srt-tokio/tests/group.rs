//! `SrtGroup` on loopback: a caller backup group of two members to a
//! group listener; the active member is closed mid-stream and the
//! listener still gets every message once, in order.

use futures_util::{SinkExt, StreamExt};
use srt_tokio::{Accepted, GroupType, MemberState, SrtSocket};
use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

fn free_addr() -> SocketAddr {
    UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

fn message(n: u32) -> Vec<u8> {
    let mut m = vec![0u8; 1000];
    m[..4].copy_from_slice(&n.to_be_bytes());
    for (i, b) in m[4..].iter_mut().enumerate() {
        *b = (n as usize * 3 + i) as u8;
    }
    m
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_group_loses_nothing_when_the_active_member_closes() {
    const COUNT: u32 = 3000;
    let addr = free_addr();
    let listener = tokio::spawn(async move {
        let mut g = SrtSocket::builder()
            .latency(Duration::from_millis(120))
            .group_connect(true)
            .listen_group(addr)
            .await
            .unwrap();
        let mut got = 0u32;
        while got < COUNT {
            // The group is a Stream of messages.
            let m = tokio::time::timeout(Duration::from_secs(5), g.next())
                .await
                .expect("stalled")
                .expect("the stream ended")
                .unwrap();
            let n = u32::from_be_bytes(m[..4].try_into().unwrap());
            assert_eq!(n, got, "out of order, repeated or lost");
            assert_eq!(m, message(n), "content of {n}");
            got += 1;
        }
        got
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut g = SrtSocket::builder()
        .latency(Duration::from_millis(120))
        .call_group(GroupType::Backup, &[(addr, 10), (addr, 1)])
        .await
        .unwrap();
    // Let the second member connect.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut tick = tokio::time::interval(Duration::from_millis(1));
    for n in 0..COUNT {
        tick.tick().await;
        if n == 1000 {
            let active = g
                .members()
                .into_iter()
                .find(|m| m.weight == 10)
                .expect("the weight-10 member");
            assert_eq!(active.state, MemberState::Running);
            g.close_member(active.key).unwrap();
        }
        // A Sink of messages too.
        g.send(message(n)).await.unwrap();
    }
    let got = tokio::time::timeout(Duration::from_secs(10), listener)
        .await
        .expect("listener finished")
        .unwrap();
    assert_eq!(got, COUNT);
    assert!(g.stats().activations >= 2, "{:?}", g.stats());
}

/// A group none of whose members can connect fails (no hang).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_without_a_listener_fails() {
    let silent = UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = silent.local_addr().unwrap();
    let r = tokio::time::timeout(
        Duration::from_secs(10),
        SrtSocket::builder()
            .conn_timeout(Duration::from_millis(500))
            .call_group(GroupType::Broadcast, &[(addr, 0), (addr, 0)]),
    )
    .await
    .expect("the connect returned");
    assert!(r.is_err());
    let none = SrtSocket::builder()
        .call_group(GroupType::Backup, &[])
        .await;
    assert!(matches!(none, Err(srt_tokio::Error::NoMembers)), "{none:?}");
}

/// A listener with `group_connect(true)` yields what libsrt's `srt_accept`
/// does: a caller group comes as one group with both members (the second
/// joins without an accept), a plain caller as a socket; both carry data.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_listener_yields_groups_and_sockets() {
    let mut listener = SrtSocket::builder()
        .latency(Duration::from_millis(120))
        .group_connect(true)
        .listen("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let addr = listener.local_addr();
    let caller = tokio::spawn(async move {
        SrtSocket::builder()
            .latency(Duration::from_millis(120))
            .call_group(GroupType::Broadcast, &[(addr, 0), (addr, 0)])
            .await
            .unwrap()
    });
    let accepted = tokio::time::timeout(Duration::from_secs(5), listener.accept())
        .await
        .expect("accepted in time")
        .unwrap();
    let mut rx = match accepted {
        Accepted::Group(g) => g,
        Accepted::Socket(s) => panic!("a socket from a group caller: {s:?}"),
    };
    let mut tx = caller.await.unwrap();
    // Both members, on each side, once the second has connected.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(3);
    while (rx.members().len() < 2
        || tx.members().len() < 2
        || tx.members().iter().any(|m| m.state != MemberState::Running))
        && tokio::time::Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(rx.members().len(), 2, "{:?}", rx.members());
    assert_eq!(tx.members().len(), 2, "{:?}", tx.members());
    for n in 0..100 {
        tx.send(message(n)).await.unwrap();
    }
    for n in 0..100 {
        let m = tokio::time::timeout(Duration::from_secs(5), rx.next())
            .await
            .expect("stalled")
            .expect("the stream ended")
            .unwrap();
        assert_eq!(m, message(n), "message {n}");
    }
    assert_eq!(rx.stats().delivered, 100, "{:?}", rx.stats());

    // A plain caller into the same listener: a socket, not a group.
    let plain = tokio::spawn(async move {
        SrtSocket::builder()
            .latency(Duration::from_millis(120))
            .call(addr)
            .await
            .unwrap()
    });
    let accepted = tokio::time::timeout(Duration::from_secs(5), listener.accept())
        .await
        .expect("accepted in time")
        .unwrap();
    let s = accepted.into_socket().expect("a plain caller is a socket");
    let c = plain.await.unwrap();
    c.send_msg(b"plain", srt_tokio::MsgCtrl::default())
        .await
        .unwrap();
    let m = tokio::time::timeout(Duration::from_secs(5), s.recv())
        .await
        .expect("stalled")
        .unwrap();
    assert_eq!(m.payload, b"plain");
    // The group still runs beside it.
    tx.send(message(100)).await.unwrap();
    let m = tokio::time::timeout(Duration::from_secs(5), rx.next())
        .await
        .expect("stalled")
        .unwrap()
        .unwrap();
    assert_eq!(m, message(100));
}

/// `listen_group` turns a plain caller away and still gives the group
/// that comes after it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listen_group_skips_plain_callers() {
    let addr = free_addr();
    let listener =
        tokio::spawn(async move { SrtSocket::builder().listen_group(addr).await.unwrap() });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let plain = SrtSocket::builder().call(addr).await.unwrap();
    let mut tx = SrtSocket::builder()
        .call_group(GroupType::Backup, &[(addr, 1)])
        .await
        .unwrap();
    let mut rx = tokio::time::timeout(Duration::from_secs(5), listener)
        .await
        .expect("the group came")
        .unwrap();
    tx.send(message(7)).await.unwrap();
    let m = tokio::time::timeout(Duration::from_secs(5), rx.next())
        .await
        .expect("stalled")
        .unwrap()
        .unwrap();
    assert_eq!(m, message(7));
    // The plain caller was closed by the listener.
    let r = tokio::time::timeout(Duration::from_secs(5), plain.recv())
        .await
        .expect("the plain caller learned it was closed");
    assert!(r.is_err(), "{r:?}");
}
