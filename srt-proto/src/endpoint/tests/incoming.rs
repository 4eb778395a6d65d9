//! A deferring listener (`listen_deferred`): each caller is held as an
//! `Event::Incoming` until the application answers.

use super::{addr, with_sid, Pair};
use crate::endpoint::{IncomingError, IncomingId};
use crate::{Event, MsgCtrl, RejectReason, SocketOptions};
use std::time::Duration;

/// The requests B announced so far.
fn incoming(events: &[(char, Event)]) -> Vec<IncomingId> {
    events
        .iter()
        .filter_map(|(who, e)| match e {
            Event::Incoming { request } if *who == 'b' => Some(*request),
            _ => None,
        })
        .collect()
}

#[test]
fn held_request_is_accepted_later_with_its_own_options() {
    let mut p = Pair::new(40);
    p.b.listen_deferred(&SocketOptions::live(), 5).unwrap();
    let caller = p.a.connect(p.now, addr(2000), &with_sid("cam1")).unwrap();
    // The application takes its time: the caller keeps repeating its CONCLUSION.
    p.run(Duration::from_millis(700));
    let events = p.take_events();
    let reqs = incoming(&events);
    assert_eq!(
        reqs.len(),
        1,
        "one request, however often repeated: {events:?}"
    );
    assert!(!events
        .iter()
        .any(|(_, e)| matches!(e, Event::Connected { .. })));
    assert_eq!(p.b.connection_count(), 0, "nothing made before the answer");
    let req = p.b.incoming(reqs[0]).expect("held");
    assert_eq!(req.stream_id, b"cam1");
    assert_eq!(req.peer, addr(1000));
    let opts = SocketOptions::live()
        .latency(Duration::from_millis(400))
        .unwrap();
    let sock = p.b.accept_incoming(p.now, reqs[0], Some(&opts)).unwrap();
    assert_eq!(p.b.accept(), None, "returned, not queued");
    p.run(Duration::from_millis(50));
    let events = p.take_events();
    assert!(
        events.contains(&('a', Event::Connected { socket: caller })),
        "{events:?}"
    );
    let agreed = p.a.connection(caller).unwrap().negotiated().unwrap();
    assert_eq!(agreed.snd_latency, Some(Duration::from_millis(400)));
    assert_eq!(p.b.connection(sock).unwrap().stream_id(), b"cam1");
    // Answered: the id is gone.
    assert_eq!(
        p.b.refuse_incoming(p.now, reqs[0], RejectReason::Peer),
        Err(IncomingError::Unknown(reqs[0]))
    );
    // Data flows.
    let now = p.now;
    p.a.connection_mut(caller)
        .unwrap()
        .send(now, b"hello", &MsgCtrl::default())
        .unwrap();
    p.run(Duration::from_millis(600));
    let mut out = [0u8; 16];
    let now = p.now;
    let got = p.b.recv(now, sock, &mut out).unwrap().expect("delivered");
    assert_eq!(&out[..got.len], b"hello");
}

#[test]
fn refusal_reaches_the_caller_and_its_repeats() {
    let mut p = Pair::new(41);
    p.b.listen_deferred(&SocketOptions::live(), 5).unwrap();
    // The refusal to A's first CONCLUSION is lost; the repeat hears it too.
    let caller = p.a.connect(p.now, addr(2000), &with_sid("nope")).unwrap();
    p.run(Duration::from_millis(20));
    let reqs = incoming(&p.take_events());
    p.b.refuse_incoming(p.now, reqs[0], RejectReason::Server(1403))
        .unwrap();
    // Drop what B sends now (the refusal), without a 'drop from B' knob:
    // take it off B's queue before the pair runs.
    let mut buf = [0u8; 1500];
    assert!(p.b.poll_transmit(p.now, &mut buf).is_some());
    p.run(Duration::from_millis(600));
    let events = p.take_events();
    assert!(
        events.contains(&(
            'a',
            Event::ConnectFailed {
                socket: caller,
                reason: RejectReason::Server(1403)
            }
        )),
        "{events:?}"
    );
    assert!(
        incoming(&events).is_empty(),
        "a refused caller is not asked about again"
    );
}

#[test]
fn backlog_counts_held_requests() {
    let mut p = Pair::new(42);
    p.b.listen_deferred(&SocketOptions::live(), 1).unwrap();
    let first =
        p.a.connect(p.now, addr(2000), &SocketOptions::live())
            .unwrap();
    p.run(Duration::from_millis(20));
    let second =
        p.a.connect(p.now, addr(2000), &SocketOptions::live())
            .unwrap();
    p.run(Duration::from_millis(50));
    let events = p.take_events();
    assert_eq!(incoming(&events).len(), 1);
    assert!(events.contains(&(
        'a',
        Event::ConnectFailed {
            socket: second,
            reason: RejectReason::Backlog
        }
    )));
    assert!(!events
        .iter()
        .any(|(w, e)| *w == 'a'
            && matches!(e, Event::ConnectFailed { socket, .. } if *socket == first)));
}

#[test]
fn a_caller_that_gave_up_is_not_accepted() {
    let mut p = Pair::new(43);
    p.b.listen_deferred(&SocketOptions::live(), 5).unwrap();
    let opts = SocketOptions::live()
        .conn_timeout(Duration::from_millis(500))
        .unwrap();
    let caller = p.a.connect(p.now, addr(2000), &opts).unwrap();
    p.run(Duration::from_millis(20));
    let reqs = incoming(&p.take_events());
    // The caller times out after 500 ms and stops repeating.
    p.run(Duration::from_millis(1300));
    assert!(p.take_events().contains(&(
        'a',
        Event::ConnectFailed {
            socket: caller,
            reason: RejectReason::Timeout
        }
    )));
    // Older than the listener's connect timeout (3 s) it is not yet; but
    // silent for 2 s it is forgotten by the endpoint's timer.
    assert!(p.b.incoming(reqs[0]).is_some());
    p.run(Duration::from_secs(1));
    assert!(p.b.incoming(reqs[0]).is_none());
    assert_eq!(
        p.b.accept_incoming(p.now, reqs[0], None),
        Err(IncomingError::Unknown(reqs[0]))
    );
    assert_eq!(p.b.connection_count(), 0);
    assert_eq!(p.b.poll_timeout(), None, "nothing left to time");
}

#[test]
fn a_request_past_the_connect_timeout_with_a_silent_caller_expires() {
    let mut p = Pair::new(44);
    let lopts = SocketOptions::live()
        .conn_timeout(Duration::from_millis(500))
        .unwrap();
    p.b.listen_deferred(&lopts, 5).unwrap();
    let copts = SocketOptions::live()
        .conn_timeout(Duration::from_millis(600))
        .unwrap();
    p.a.connect(p.now, addr(2000), &copts).unwrap();
    p.run(Duration::from_millis(20));
    let reqs = incoming(&p.take_events());
    // 1.3 s later: older than 500 ms and silent for 700 ms (> 600 ms).
    p.run(Duration::from_millis(1300));
    assert!(p.b.incoming(reqs[0]).is_some());
    assert_eq!(
        p.b.accept_incoming(p.now, reqs[0], None),
        Err(IncomingError::Expired(reqs[0]))
    );
    assert_eq!(p.b.connection_count(), 0);
}

#[test]
fn stop_listening_refuses_held_callers() {
    let mut p = Pair::new(45);
    p.b.listen_deferred(&SocketOptions::live(), 5).unwrap();
    let caller =
        p.a.connect(p.now, addr(2000), &SocketOptions::live())
            .unwrap();
    p.run(Duration::from_millis(20));
    assert_eq!(incoming(&p.take_events()).len(), 1);
    p.b.stop_listening(p.now);
    p.run(Duration::from_millis(50));
    assert!(p.take_events().contains(&(
        'a',
        Event::ConnectFailed {
            socket: caller,
            reason: RejectReason::Close
        }
    )));
}

#[test]
fn accept_with_a_mismatched_passphrase_refuses_the_caller() {
    let mut p = Pair::new(46);
    p.b.listen_deferred(&SocketOptions::live(), 5).unwrap();
    let copts = SocketOptions::live()
        .passphrase("sixteen chars ok")
        .unwrap();
    let caller = p.a.connect(p.now, addr(2000), &copts).unwrap();
    p.run(Duration::from_millis(20));
    let reqs = incoming(&p.take_events());
    let other = SocketOptions::live()
        .passphrase("another secret!!")
        .unwrap();
    let err =
        p.b.accept_incoming(p.now, reqs[0], Some(&other))
            .unwrap_err();
    assert!(matches!(err, IncomingError::Refused(_)), "{err:?}");
    p.run(Duration::from_millis(50));
    let events = p.take_events();
    assert!(
        events.iter().any(|(w, e)| *w == 'a'
            && matches!(e, Event::ConnectFailed { socket, .. } if *socket == caller)),
        "{events:?}"
    );
}

/// A deferring listener with `SRTO_GROUPCONNECT` shows a group member's
/// GROUP block in its request (a driver accepts members at once) and
/// none for a plain caller, which it accepts as a single socket (as
/// libsrt's `srt_accept` returns a socket then).
#[test]
fn group_member_request_shows_its_group_and_plain_callers_pass() {
    use crate::group::{GroupConfig, GroupType};
    let mut p = Pair::new(44);
    let opts = SocketOptions {
        groupconnect: true,
        ..SocketOptions::live()
    };
    p.b.listen_deferred(&opts, 5).unwrap();
    let group =
        p.a.new_group(GroupConfig::new(GroupType::Backup, &SocketOptions::live()));
    let block = group.member_block(7);
    let isn = crate::seq::SeqNumber::new_truncate(1000);
    p.a.connect_member(p.now, addr(2000), &SocketOptions::live(), block, isn)
        .unwrap();
    p.run(Duration::from_millis(100));
    let reqs = incoming(&p.take_events());
    assert_eq!(reqs.len(), 1);
    let shown =
        p.b.incoming(reqs[0])
            .expect("held")
            .group
            .expect("its block");
    assert_eq!(shown.group_id, group.id());
    assert_eq!(shown.weight, 7);
    p.b.accept_incoming(p.now, reqs[0], None).unwrap();

    let plain =
        p.a.connect(p.now, addr(2000), &SocketOptions::live())
            .unwrap();
    p.run(Duration::from_millis(100));
    let reqs = incoming(&p.take_events());
    assert_eq!(reqs.len(), 1);
    assert!(p.b.incoming(reqs[0]).expect("held").group.is_none());
    p.b.accept_incoming(p.now, reqs[0], None).unwrap();
    p.run(Duration::from_millis(100));
    assert!(
        p.take_events()
            .contains(&('a', Event::Connected { socket: plain })),
        "the plain caller connected"
    );
}
