//! `SrtGroup` on loopback: a caller backup group of two members to a
//! group listener; the active member is closed mid-stream and the
//! listener still gets every message once, in order.

use futures_util::{SinkExt, StreamExt};
use srt_tokio::{Accepted, GroupType, MemberState, SrtListener, SrtSocket};
use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// A loopback listener with `group_connect(true)`, latency 120 ms.
async fn group_listener() -> SrtListener {
    SrtSocket::builder()
        .latency(Duration::from_millis(120))
        .group_connect(true)
        .listen("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap()
}

/// What `listener` accepts within 5 s.
async fn accept_in_time(listener: &mut SrtListener) -> Accepted {
    tokio::time::timeout(Duration::from_secs(5), listener.accept())
        .await
        .expect("accepted in time")
        .unwrap()
}

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
    let mut listener = group_listener().await;
    let addr = listener.local_addr();
    let caller = tokio::spawn(async move {
        SrtSocket::builder()
            .latency(Duration::from_millis(120))
            .call_group(GroupType::Broadcast, &[(addr, 0), (addr, 0)])
            .await
            .unwrap()
    });
    let accepted = accept_in_time(&mut listener).await;
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
    let accepted = accept_in_time(&mut listener).await;
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

/// Waits (up to 5 s) until `done`, polling every 20 ms.
async fn eventually(mut done: impl FnMut() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !done() {
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    true
}

/// A long-running group listener forgets the groups that ended: 20 caller
/// groups one after the other connect (two members each), send 50
/// messages and close; the application takes each, reads all 50 and drops
/// it. The listener's group table never holds more than the one group
/// alive, and ends empty with no connection left in its engine.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_listener_forgets_ended_groups() {
    const GROUPS: u32 = 20;
    const MESSAGES: u32 = 50;
    let mut listener = group_listener().await;
    let addr = listener.local_addr();
    let mut most = 0;
    for round in 0..GROUPS {
        let caller = tokio::spawn(async move {
            let mut tx = SrtSocket::builder()
                .latency(Duration::from_millis(120))
                .call_group(GroupType::Broadcast, &[(addr, 0), (addr, 0)])
                .await
                .unwrap();
            // Both members on, so that none arrives after the group ended.
            let running = eventually(|| {
                let m = tx.members();
                m.len() == 2 && m.iter().all(|m| m.state == MemberState::Running)
            })
            .await;
            assert!(running, "round {round}: {:?}", tx.members());
            for n in 0..MESSAGES {
                tx.send(message(round * 1000 + n)).await.unwrap();
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
            // Dropping the group closes its members.
        });
        let rx = tokio::time::timeout(Duration::from_secs(5), listener.accept())
            .await
            .unwrap_or_else(|_| panic!("round {round}: accepted in time"))
            .unwrap()
            .into_group()
            .unwrap_or_else(|e| panic!("round {round}: {e}"));
        most = most.max(listener.group_count());
        for n in 0..MESSAGES {
            let m = tokio::time::timeout(Duration::from_secs(5), rx.recv())
                .await
                .unwrap_or_else(|_| panic!("round {round}: message {n} stalled"))
                .unwrap_or_else(|e| panic!("round {round}: message {n}: {e}"));
            assert_eq!(m, message(round * 1000 + n), "round {round}: message {n}");
        }
        assert_eq!(rx.stats().delivered, u64::from(MESSAGES));
        caller.await.unwrap();
        drop(rx);
        most = most.max(listener.group_count());
        assert_eq!(
            listener.group_count(),
            0,
            "round {round}: the dropped group stays"
        );
    }
    assert_eq!(most, 1, "the group table held {most} groups at once");
    assert!(
        eventually(|| listener.connection_count() == 0).await,
        "{} connections left in the engine",
        listener.connection_count()
    );
}

/// A group that came while nobody accepted and whose members all went is
/// forgotten (libsrt's GC takes a broken socket off the accept queue): the
/// next `accept` gives the group that came after it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_gone_before_accept_is_forgotten() {
    let mut listener = group_listener().await;
    let addr = listener.local_addr();
    let gone = SrtSocket::builder()
        .latency(Duration::from_millis(120))
        .call_group(GroupType::Backup, &[(addr, 1)])
        .await
        .unwrap();
    assert!(eventually(|| listener.group_count() == 1).await);
    drop(gone);
    assert!(
        eventually(|| listener.group_count() == 0 && listener.connection_count() == 0).await,
        "{} groups, {} connections",
        listener.group_count(),
        listener.connection_count()
    );
    let next = tokio::spawn(async move {
        let mut tx = SrtSocket::builder()
            .latency(Duration::from_millis(120))
            .call_group(GroupType::Backup, &[(addr, 1)])
            .await
            .unwrap();
        tx.send(message(42)).await.unwrap();
        tx
    });
    let mut rx = accept_in_time(&mut listener).await.into_group().unwrap();
    let m = tokio::time::timeout(Duration::from_secs(5), rx.next())
        .await
        .expect("stalled")
        .expect("the accepted group is the live one")
        .unwrap();
    assert_eq!(m, message(42));
    drop(next.await.unwrap());
}

/// A UDP forwarder from a local port to `target` that drops everything
/// until `open` is set.
async fn gated_forwarder(target: SocketAddr, open: Arc<AtomicBool>) -> SocketAddr {
    let front = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let back = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    back.connect(target).await.unwrap();
    let local = front.local_addr().unwrap();
    tokio::spawn(async move {
        let (mut a, mut b) = (vec![0u8; 2048], vec![0u8; 2048]);
        let mut client = None;
        loop {
            tokio::select! {
                r = front.recv_from(&mut a) => {
                    let Ok((n, from)) = r else { return };
                    if open.load(Ordering::SeqCst) {
                        client = Some(from);
                        let _ = back.send(&a[..n]).await;
                    }
                }
                r = back.recv(&mut b) => {
                    let Ok(n) = r else { return };
                    if let Some(c) = client {
                        let _ = front.send_to(&b[..n], c).await;
                    }
                }
            }
        }
    });
    local
}

/// Dropping an accepted group closes it and the listener forgets it: a
/// member of the same peer group connecting afterwards makes a new
/// `Accepted::Group` (libsrt's `findPeerGroup` finds open groups only),
/// which carries the stream, rather than joining the dead one. The caller
/// group's second member is held back by a forwarder until then.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_group_comes_back_as_a_new_group() {
    let mut listener = group_listener().await;
    let addr = listener.local_addr();
    let open = Arc::new(AtomicBool::new(false));
    let gate = gated_forwarder(addr, Arc::clone(&open)).await;
    let caller = tokio::spawn(async move {
        SrtSocket::builder()
            .latency(Duration::from_millis(120))
            .conn_timeout(Duration::from_secs(10))
            .call_group(GroupType::Broadcast, &[(addr, 0), (gate, 0)])
            .await
            .unwrap()
    });
    let first = accept_in_time(&mut listener).await.into_group().unwrap();
    let tx = caller.await.unwrap();
    tx.send_msg(&message(1)).unwrap();
    let m = tokio::time::timeout(Duration::from_secs(5), first.recv())
        .await
        .expect("stalled")
        .unwrap();
    assert_eq!(m, message(1));
    assert_eq!(listener.group_count(), 1);
    drop(first);
    assert_eq!(listener.group_count(), 0, "the dropped group was forgotten");
    // The caller's direct member hears that it was closed.
    assert!(
        eventually(|| tx.members()[0].state == MemberState::Broken).await,
        "{:?}",
        tx.members()
    );
    open.store(true, Ordering::SeqCst);
    let mut second = tokio::time::timeout(Duration::from_secs(5), listener.accept())
        .await
        .expect("the member of the same peer group made a new group")
        .unwrap()
        .into_group()
        .unwrap();
    assert_eq!(listener.group_count(), 1);
    assert!(
        eventually(|| tx.members()[1].state == MemberState::Running).await,
        "{:?}",
        tx.members()
    );
    // The new group carries the stream on.
    let sender = tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_millis(5));
        for n in 2..1000 {
            tick.tick().await;
            if tx.send_msg(&message(n)).is_err() {
                break;
            }
        }
        tx
    });
    let m = tokio::time::timeout(Duration::from_secs(5), second.next())
        .await
        .expect("the new group delivers")
        .expect("the stream ended")
        .unwrap();
    let n = u32::from_be_bytes(m[..4].try_into().unwrap());
    assert!(n >= 2, "message {n}");
    assert_eq!(m, message(n));
    drop(sender.await.unwrap());
}
