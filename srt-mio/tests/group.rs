//! Socket groups on srt-mio over loopback: a caller group of two members
//! into a `SRTO_GROUPCONNECT` listener, broadcast and backup, with a
//! member closed mid-stream: every message arrives once and in order.

use srt_mio::code::*;
use srt_mio::epoll::SRT_EPOLL_IN;
use srt_mio::{
    Context, EpollEvent, GroupType, MemberConfig, MemberState, OptionValue, SockOpt, SockStatus,
};
use std::net::SocketAddr;
use std::time::Duration;

const COUNT: u32 = 1500;

/// A `groupconnect=1` listener on two loopback ports of `ctx`.
fn listeners(ctx: &Context) -> Vec<(i32, SocketAddr)> {
    (0..2)
        .map(|_| {
            let l = ctx.create_socket().unwrap();
            ctx.set_option(l, SockOpt::GroupConnect, OptionValue::Int(1))
                .unwrap();
            ctx.bind(l, "127.0.0.1:0".parse().unwrap()).unwrap();
            ctx.listen(l, 5).unwrap();
            (l, ctx.local_addr(l).unwrap())
        })
        .collect()
}

fn run(kind: GroupType, kill_after: Option<u32>) {
    let rx = Context::with_workers(2).unwrap();
    let tx = Context::with_workers(2).unwrap();
    let ls = listeners(&rx);
    let g = tx.create_group(kind).unwrap();
    assert!(srt_mio::group::is_group(g));
    let mut members: Vec<MemberConfig> = ls
        .iter()
        .enumerate()
        .map(|(i, (_, a))| {
            let mut m = MemberConfig::new(None, *a);
            m.weight = if i == 0 { 10 } else { 1 };
            m
        })
        .collect();
    let first = tx.connect_group(g, &mut members).unwrap();
    assert!(members.iter().all(|m| m.errorcode == 0 && m.id > 0));
    assert_eq!(tx.group_of(first).unwrap(), g);
    // Accepted: the group, from whichever listener its first member reached.
    let lids: Vec<i32> = ls.iter().map(|(l, _)| *l).collect();
    let (ag, _) = rx.accept_bond(&lids, Some(Duration::from_secs(5))).unwrap();
    assert!(srt_mio::group::is_group(ag), "accepted {ag:#x}");
    assert_eq!(
        rx.get_option(ag, SockOpt::GroupType).unwrap(),
        OptionValue::Int(i32::from(kind.code()))
    );
    // The second member joins the accepted group silently.
    for _ in 0..200 {
        if rx.group_data(ag).unwrap().len() == 2
            && tx
                .group_data(g)
                .unwrap()
                .iter()
                .all(|d| d.sockstate == SockStatus::Connected)
        {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(rx.group_data(ag).unwrap().len(), 2);
    let receiver = std::thread::spawn(move || {
        let eid = rx.epoll_create().unwrap();
        rx.epoll_add_usock(eid, ag, Some(SRT_EPOLL_IN)).unwrap();
        let mut ev = [EpollEvent::default(); 4];
        assert_eq!(
            rx.epoll_uwait(eid, &mut ev, Some(Duration::from_secs(5)))
                .unwrap(),
            1
        );
        assert_eq!(ev[0].fd, ag);
        rx.set_option(ag, SockOpt::RcvTimeo, OptionValue::Int(3000))
            .unwrap();
        let mut got = Vec::new();
        let mut buf = [0u8; 1456];
        while got.len() < COUNT as usize {
            match rx.recv(ag, &mut buf) {
                Ok(_) => got.push(u32::from_le_bytes(buf[..4].try_into().unwrap())),
                Err(e) => panic!("recv after {}: {e}", got.len()),
            }
        }
        let data = rx.group_data(ag).unwrap();
        rx.close(ag).unwrap();
        (got, data)
    });
    let mut payload = [0u8; 1316];
    for i in 0..COUNT {
        payload[..4].copy_from_slice(&i.to_le_bytes());
        tx.send(g, &payload).unwrap();
        if Some(i) == kill_after {
            // The member that carries the stream (backup: weight 10).
            let d = tx.group_data(g).unwrap();
            let running = d
                .iter()
                .find(|m| m.memberstate == MemberState::Running)
                .or_else(|| d.iter().find(|m| m.weight == 10))
                .unwrap_or_else(|| panic!("no member to close: {d:?}"));
            tx.close(running.id).unwrap();
        }
        std::thread::sleep(Duration::from_micros(1000));
    }
    let (got, _) = receiver.join().unwrap();
    let want: Vec<u32> = (0..COUNT).collect();
    assert_eq!(got, want);
    let stats = tx.group_stats(g).unwrap();
    assert_eq!(stats.sent, u64::from(COUNT));
    tx.close(g).unwrap();
    assert_eq!(tx.state(g), SockStatus::NonExist);
}

#[test]
fn broadcast_delivers_each_message_once() {
    run(GroupType::Broadcast, None);
}

#[test]
fn broadcast_survives_a_member_closed_mid_stream() {
    run(GroupType::Broadcast, Some(500));
}

#[test]
fn backup_switches_without_loss_when_the_active_member_dies() {
    run(GroupType::Backup, Some(500));
}

#[test]
fn group_calls_fail_as_libsrt() {
    let ctx = Context::with_workers(1).unwrap();
    let s = ctx.create_socket().unwrap();
    let mut m = vec![MemberConfig::new(None, "127.0.0.1:9".parse().unwrap())];
    assert_eq!(
        ctx.connect_group(s, &mut m).unwrap_err().code(),
        SRT_EINVSOCK
    );
    let g = ctx.create_group(GroupType::Broadcast).unwrap();
    assert_eq!(
        ctx.connect_group(g, &mut []).unwrap_err().code(),
        SRT_EINVPARAM
    );
    assert_eq!(ctx.group_of(s).unwrap_err().code(), SRT_EINVPARAM);
    assert_eq!(ctx.group_data(s).unwrap_err().code(), SRT_EINVPARAM);
    let mut bad = vec![MemberConfig::new(
        Some("[::1]:0".parse().unwrap()),
        "127.0.0.1:9".parse().unwrap(),
    )];
    assert_eq!(
        ctx.connect_group(g, &mut bad).unwrap_err().code(),
        SRT_EINVPARAM
    );
    assert_eq!(ctx.group_data(g).unwrap(), vec![]);
    // Nothing listens: the blocking connect fails when the member does.
    ctx.set_option(g, SockOpt::ConnTimeo, OptionValue::Int(300))
        .unwrap();
    assert_eq!(
        ctx.connect_group(g, &mut m).unwrap_err().code(),
        SRT_ECONNLOST
    );
    assert_eq!(
        ctx.send(g, b"x").unwrap_err().code(),
        SRT_ENOCONN,
        "a group that never connected"
    );
    ctx.close(g).unwrap();
}

#[test]
fn a_non_blocking_group_connect_reports_out_on_the_group() {
    let rx = Context::with_workers(1).unwrap();
    let tx = Context::with_workers(1).unwrap();
    let ls = listeners(&rx);
    let g = tx.create_group(GroupType::Backup).unwrap();
    tx.set_option(g, SockOpt::RcvSyn, OptionValue::Bool(false))
        .unwrap();
    tx.set_option(g, SockOpt::GroupMinStableTimeo, OptionValue::Int(100))
        .unwrap();
    let eid = tx.epoll_create().unwrap();
    tx.epoll_add_usock(eid, g, Some(srt_mio::epoll::SRT_EPOLL_OUT))
        .unwrap();
    let mut members: Vec<MemberConfig> = ls
        .iter()
        .map(|(_, a)| MemberConfig::new(None, *a))
        .collect();
    let last = tx.connect_group(g, &mut members).unwrap();
    // Non-blocking: the last member started, nothing connected yet.
    assert_eq!(last, members[1].id);
    assert_eq!(tx.state(g), SockStatus::Connecting);
    let mut ev = [EpollEvent::default(); 2];
    let n = tx
        .epoll_uwait(eid, &mut ev, Some(Duration::from_secs(5)))
        .unwrap();
    assert_eq!((n, ev[0].fd), (1, g));
    assert_eq!(tx.state(g), SockStatus::Connected);
    assert_eq!(
        tx.get_option(g, SockOpt::GroupMinStableTimeo).unwrap(),
        OptionValue::Int(100)
    );
    // A second connect on an opened group does not block either.
    let mut more = vec![MemberConfig::new(None, ls[0].1)];
    assert!(tx.connect_group(g, &mut more).is_ok());
    tx.close(g).unwrap();
}

/// A listener closed before its group was accepted closes the group's
/// members, as libsrt closes the sockets of its accept queue: the caller's
/// member hears it (before, the accepted member ran on with nobody to
/// take it).
#[test]
fn closing_the_listener_closes_a_group_nobody_accepted() {
    let rx = Context::with_workers(1).unwrap();
    let tx = Context::with_workers(1).unwrap();
    let ls = listeners(&rx);
    let g = tx.create_group(GroupType::Broadcast).unwrap();
    let mut members = vec![MemberConfig::new(None, ls[0].1)];
    let member = tx.connect_group(g, &mut members).unwrap();
    assert_eq!(tx.state(member), SockStatus::Connected);
    // The accepted group waits in the listener's queue.
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(tx.state(member), SockStatus::Connected);
    for (l, _) in &ls {
        rx.close(*l).unwrap();
    }
    let mut state = tx.state(member);
    for _ in 0..250 {
        state = tx.state(member);
        if state != SockStatus::Connected {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        matches!(
            state,
            SockStatus::Broken | SockStatus::Closed | SockStatus::NonExist
        ),
        "the caller's member is {state:?}"
    );
    tx.close(g).unwrap();
}
