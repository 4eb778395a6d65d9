//! Eight threads call `send`, `recv`, `close`, `epoll_uwait` and the
//! container calls on shared sockets of one context at once, while pairs
//! are closed and replaced under them. Every blocking call has a timeout of
//! at most 100 ms, so a thread whose call has not returned after
//! [`STALL`] is stuck: a deadlock or a lost wake-up. A watchdog checks
//! every thread's progress; at the end every thread must have finished,
//! and a fresh pair must still carry a stream whole and in order.
//!
//! `SRT_MIO_STRESS_SECONDS` sets the duration (default 10 s; issue 19's
//! acceptance run uses 60).

use srt_mio::code::*;
use srt_mio::epoll::{SRT_EPOLL_ERR, SRT_EPOLL_IN, SRT_EPOLL_OUT};
use srt_mio::{Context, EpollEvent, SrtSocket};
use srt_proto::options::{OptionValue, SockOpt};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Pairs in play at any time.
const PAIRS: usize = 4;
/// The longest a thread may go without finishing a call.
const STALL: Duration = Duration::from_secs(5);
/// Timeout of every blocking call (SRTO_RCVTIMEO, SRTO_SNDTIMEO, waits).
const CALL_MS: i32 = 100;

fn set(ctx: &Context, u: SrtSocket, opt: SockOpt, v: i32) {
    // A socket closed by another thread meanwhile refuses: that is fine.
    let _ = ctx.set_option(u, opt, OptionValue::Int(v));
}

/// A connected caller and its accepted socket, both blocking with
/// [`CALL_MS`] timeouts.
fn pair(ctx: &Context, listener: SrtSocket, addr: SocketAddr) -> (SrtSocket, SrtSocket) {
    let c = ctx.create_socket().unwrap();
    ctx.connect(c, addr).unwrap();
    let (a, _) = ctx.accept(listener).unwrap();
    for u in [c, a] {
        set(ctx, u, SockOpt::RcvTimeo, CALL_MS);
        set(ctx, u, SockOpt::SndTimeo, CALL_MS);
    }
    (c, a)
}

/// What the threads share: the sockets in play and each thread's progress.
struct Shared {
    ctx: Context,
    /// (caller, accepted) per slot; replaced by the closer thread.
    pairs: Mutex<Vec<(SrtSocket, SrtSocket)>>,
    /// A container watching every accepted socket (IN) and caller (OUT).
    eid: i32,
    stop: AtomicBool,
    /// Calls each thread has finished.
    progress: Vec<AtomicU64>,
    /// When each thread last finished a call, ms since `start`.
    last_ms: Vec<AtomicU64>,
    start: Instant,
    /// Messages received by all threads.
    received: AtomicU64,
    /// Rotates the slot each call uses.
    turn: AtomicI32,
}

impl Shared {
    fn slot(&self) -> (SrtSocket, SrtSocket) {
        let i = self.turn.fetch_add(1, Ordering::Relaxed).unsigned_abs() as usize % PAIRS;
        self.pairs.lock().unwrap()[i]
    }

    fn done(&self, me: usize) {
        self.progress[me].fetch_add(1, Ordering::Relaxed);
        self.last_ms[me].store(self.start.elapsed().as_millis() as u64, Ordering::Relaxed);
    }
}

/// An error a call may give when another thread closed its socket or the
/// peer went away, or its timeout passed; anything else fails the test.
fn expected(code: i32) -> bool {
    [
        SRT_EINVSOCK,
        SRT_ENOCONN,
        SRT_ECONNLOST,
        SRT_EASYNCRCV,
        SRT_EASYNCSND,
        SRT_ETIMEOUT,
        SRT_ESCLOSED,
    ]
    .contains(&code)
}

fn sender(s: &Shared, me: usize) {
    let payload = [0x5au8; 1316];
    while !s.stop.load(Ordering::Relaxed) {
        let (c, _) = s.slot();
        if let Err(e) = s.ctx.send(c, &payload) {
            assert!(expected(e.code()), "send: {e}");
        }
        s.done(me);
        // About 40 Mbit/s per thread: load, not a flood.
        std::thread::sleep(Duration::from_micros(250));
    }
}

fn receiver(s: &Shared, me: usize) {
    let mut buf = [0u8; 1500];
    while !s.stop.load(Ordering::Relaxed) {
        let (_, a) = s.slot();
        match s.ctx.recv(a, &mut buf) {
            Ok(_) => {
                s.received.fetch_add(1, Ordering::Relaxed);
            }
            Err(e) => assert!(expected(e.code()), "recv: {e}"),
        }
        s.done(me);
    }
}

fn epoll_reader(s: &Shared, me: usize) {
    let mut events = [EpollEvent::default(); 16];
    let mut buf = [0u8; 1500];
    while !s.stop.load(Ordering::Relaxed) {
        match s.ctx.epoll_uwait(
            s.eid,
            &mut events,
            Some(Duration::from_millis(CALL_MS as u64)),
        ) {
            Ok(n) => {
                for e in &events[..n.min(events.len())] {
                    if e.events & SRT_EPOLL_IN != 0 {
                        // Blocking sockets: another thread may have read it
                        // first, then this waits out its timeout.
                        if s.ctx.recv(e.fd, &mut buf).is_ok() {
                            s.received.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
            }
            Err(e) => assert!(expected(e.code()), "epoll_uwait: {e}"),
        }
        s.done(me);
    }
}

/// Closes a pair now and then and puts a new one in its slot; the
/// container follows.
fn closer(s: &Shared, me: usize, listener: SrtSocket, addr: SocketAddr) {
    let mut slot = 0;
    while !s.stop.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(150));
        let (c, a) = pair(&s.ctx, listener, addr);
        let _ = s
            .ctx
            .epoll_add_usock(s.eid, a, Some(SRT_EPOLL_IN | SRT_EPOLL_ERR));
        let _ = s.ctx.epoll_add_usock(s.eid, c, Some(SRT_EPOLL_OUT));
        let old = std::mem::replace(&mut s.pairs.lock().unwrap()[slot], (c, a));
        // Closed while the other threads may be blocked in calls on them.
        for u in [old.0, old.1] {
            if let Err(e) = s.ctx.close(u) {
                assert!(expected(e.code()), "close: {e}");
            }
        }
        slot = (slot + 1) % PAIRS;
        s.done(me);
    }
}

/// Container churn and state queries on the sockets in play.
fn churner(s: &Shared, me: usize) {
    let mut n = 0u32;
    while !s.stop.load(Ordering::Relaxed) {
        let (c, a) = s.slot();
        let _ = s.ctx.epoll_update_usock(s.eid, a, Some(SRT_EPOLL_IN));
        let _ = s.ctx.state(c);
        let _ = s.ctx.stats(a, false);
        if n % 16 == 0 {
            let _ = s.ctx.epoll_remove_usock(s.eid, c);
            let _ = s.ctx.epoll_add_usock(s.eid, c, Some(SRT_EPOLL_OUT));
        }
        n += 1;
        std::thread::sleep(Duration::from_micros(200));
        s.done(me);
    }
}

#[test]
fn eight_threads_on_shared_sockets_never_stall() {
    let seconds: u64 = std::env::var("SRT_MIO_STRESS_SECONDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    let ctx = Context::new().unwrap();
    let listener = ctx.create_socket().unwrap();
    ctx.bind(listener, "127.0.0.1:0".parse().unwrap()).unwrap();
    ctx.listen(listener, 64).unwrap();
    let addr = ctx.local_addr(listener).unwrap();
    let eid = ctx.epoll_create().unwrap();
    let mut pairs = Vec::new();
    for _ in 0..PAIRS {
        let (c, a) = pair(&ctx, listener, addr);
        ctx.epoll_add_usock(eid, a, Some(SRT_EPOLL_IN | SRT_EPOLL_ERR))
            .unwrap();
        ctx.epoll_add_usock(eid, c, Some(SRT_EPOLL_OUT)).unwrap();
        pairs.push((c, a));
    }
    const THREADS: usize = 8;
    let shared = Arc::new(Shared {
        ctx,
        pairs: Mutex::new(pairs),
        eid,
        stop: AtomicBool::new(false),
        progress: (0..THREADS).map(|_| AtomicU64::new(0)).collect(),
        last_ms: (0..THREADS).map(|_| AtomicU64::new(0)).collect(),
        start: Instant::now(),
        received: AtomicU64::new(0),
        turn: AtomicI32::new(0),
    });
    let roles = [
        "sender", "sender", "receiver", "receiver", "epoll", "epoll", "closer", "churner",
    ];
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    for (me, role) in roles.into_iter().enumerate() {
        let s = Arc::clone(&shared);
        let done = done_tx.clone();
        std::thread::spawn(move || {
            match role {
                "sender" => sender(&s, me),
                "receiver" => receiver(&s, me),
                "epoll" => epoll_reader(&s, me),
                "closer" => closer(&s, me, listener, addr),
                _ => churner(&s, me),
            }
            let _ = done.send(me);
        });
    }
    drop(done_tx);
    let end = Instant::now() + Duration::from_secs(seconds);
    while Instant::now() < end {
        std::thread::sleep(Duration::from_millis(250));
        let now_ms = shared.start.elapsed().as_millis() as u64;
        for (me, role) in roles.iter().enumerate() {
            let last = shared.last_ms[me].load(Ordering::Relaxed);
            assert!(
                now_ms.saturating_sub(last) < STALL.as_millis() as u64,
                "thread {me} ({role}) has not finished a call for {} ms: deadlock or lost wake-up",
                now_ms - last
            );
        }
    }
    shared.stop.store(true, Ordering::Relaxed);
    let mut finished = 0;
    while finished < THREADS {
        match done_rx.recv_timeout(STALL) {
            Ok(_) => finished += 1,
            Err(_) => panic!("only {finished} of {THREADS} threads finished after the stop"),
        }
    }
    for (me, role) in roles.iter().enumerate() {
        assert!(
            shared.progress[me].load(Ordering::Relaxed) > 0,
            "thread {me} ({role}) never finished a call"
        );
    }
    assert!(
        shared.received.load(Ordering::Relaxed) > 0,
        "nothing received"
    );
    // The figures of the run (shown with --nocapture).
    let calls: Vec<String> = roles
        .iter()
        .enumerate()
        .map(|(me, role)| format!("{role} {}", shared.progress[me].load(Ordering::Relaxed)))
        .collect();
    println!(
        "{seconds} s: calls finished per thread: {}; messages received {}",
        calls.join(", "),
        shared.received.load(Ordering::Relaxed)
    );

    // The context still carries a stream whole and in order.
    let ctx = &shared.ctx;
    let (c, a) = pair(ctx, listener, addr);
    set(ctx, a, SockOpt::RcvTimeo, 2000);
    for i in 0..200u32 {
        ctx.send(c, &i.to_be_bytes()).unwrap();
    }
    for i in 0..200u32 {
        let mut buf = [0u8; 1500];
        let n = ctx.recv(a, &mut buf).unwrap();
        assert_eq!(&buf[..n], &i.to_be_bytes());
    }
}
