//! A live stream through a context in steady state allocates nothing, in
//! any thread: the worker's UDP reads and writes, timers and event
//! handling, and the application's send and receive calls. Nor does one
//! through two [`UdpDriver`]s, the one driver's other loop. Counted with a
//! global counting allocator.

use srt_mio::driver::UdpDriver;
use srt_mio::{Context, SrtSocket};
use srt_proto::options::{OptionValue, SockOpt};
use srt_proto::{Event, MsgCtrl, SocketOptions};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Counts every allocation of every thread, then lets `System` do it.
struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

// SAFETY: every call is forwarded unchanged to `System`, which upholds
// GlobalAlloc's contract; the counter is an atomic that never allocates.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller's layout is passed on as is.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System.alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// The tests share the counter: they run one at a time.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn set(ctx: &Context, u: SrtSocket, opt: SockOpt, v: i32) {
    ctx.set_option(u, opt, OptionValue::Int(v)).unwrap();
}

/// Calls `each` once per millisecond for `ms` milliseconds (late calls
/// catch up at once).
fn paced(ms: u32, mut each: impl FnMut()) {
    let start = Instant::now();
    for i in 0..ms {
        let due = start + Duration::from_millis(u64::from(i));
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        each();
    }
}

/// A live stream of one packet per millisecond (10.5 Mbit/s) through a
/// context, `send` sending one packet (what it returns is dropped) and `recv` receiving one into the
/// buffer it is given (`false`: none waits): warmed up, then measured
/// for 3 s. Returns the packets delivered and the allocations (of every
/// thread) during the measurement.
///
/// The buffers (1024 packets) grow on demand (ahead of need, then keep
/// what they grew to), so the warm-up starts with a burst of 300 packets:
/// both ends then hold more at once than the paced stream makes them,
/// even when this loaded machine deschedules a thread. After 3 s of the
/// stream the application stops reading for 700 ms while the stream goes
/// on: the receiver holds more than half its 1024 packets, so its storage
/// reaches its full size now rather than when a loaded machine (CI)
/// deschedules a thread during the measurement (the receiver delivers,
/// not discards, what it reads late). Then 1 s more before measuring.
fn measure<T>(send: impl Fn() -> T, recv: impl Fn(&mut [u8]) -> bool) -> (u64, u64) {
    let mut buf = [0u8; 1500];
    // Sends and receives for `ms`; returns deliveries.
    let mut run = |ms: u32| {
        let mut delivered = 0u64;
        paced(ms, || {
            let _ = send();
            while recv(&mut buf) {
                delivered += 1;
            }
        });
        delivered
    };
    for _ in 0..300 {
        let _ = send();
    }
    run(3000);
    paced(700, || {
        let _ = send();
    });
    run(1000);
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    assert!(before > 0, "the counter counts (setting up allocates)");
    let delivered = run(3000);
    (delivered, ALLOCATIONS.load(Ordering::Relaxed) - before)
}

#[test]
fn live_stream_through_a_context_allocates_nothing() {
    let _one = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let ctx = Context::new().unwrap();
    let l = ctx.create_socket().unwrap();
    let c = ctx.create_socket().unwrap();
    // Buffers of 1024 packets, grown during the warm-up (see `measure`).
    for u in [l, c] {
        set(&ctx, u, SockOpt::SndBuf, 1024 * 1472);
        set(&ctx, u, SockOpt::RcvBuf, 1024 * 1472);
    }
    ctx.bind(l, "127.0.0.1:0".parse().unwrap()).unwrap();
    ctx.listen(l, 1).unwrap();
    ctx.connect(c, ctx.local_addr(l).unwrap()).unwrap();
    let (a, _) = ctx.accept(l).unwrap();
    set(&ctx, a, SockOpt::RcvSyn, 0);
    let payload = [7u8; 1316];
    let (delivered, allocations) = measure(
        || ctx.send(c, &payload).unwrap(),
        |buf| ctx.recv(a, buf).is_ok(),
    );
    assert!(delivered > 2900, "only {delivered} delivered");
    assert_eq!(
        allocations, 0,
        "allocations in steady state ({delivered} packets)"
    );
}

/// The same for a broadcast group of two members into a `groupconnect`
/// listener: the group's send and receive calls (every member engine
/// locked at once) and the members' traffic allocate nothing.
#[test]
fn live_stream_through_a_group_allocates_nothing() {
    let _one = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    use srt_mio::{GroupType, MemberConfig};
    let ctx = Context::new().unwrap();
    let l = ctx.create_socket().unwrap();
    set(&ctx, l, SockOpt::GroupConnect, 1);
    for opt in [SockOpt::SndBuf, SockOpt::RcvBuf] {
        set(&ctx, l, opt, 1024 * 1472);
    }
    ctx.bind(l, "127.0.0.1:0".parse().unwrap()).unwrap();
    ctx.listen(l, 4).unwrap();
    let g = ctx.create_group(GroupType::Broadcast).unwrap();
    for opt in [SockOpt::SndBuf, SockOpt::RcvBuf] {
        set(&ctx, g, opt, 1024 * 1472);
    }
    let target = ctx.local_addr(l).unwrap();
    let mut members = vec![
        MemberConfig::new(None, target),
        MemberConfig::new(None, target),
    ];
    ctx.connect_group(g, &mut members).unwrap();
    let (a, _) = ctx.accept(l).unwrap();
    set(&ctx, a, SockOpt::RcvSyn, 0);
    let deadline = Instant::now() + Duration::from_secs(5);
    while ctx.group_size(a).unwrap() < 2 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    let payload = [7u8; 1316];
    let (delivered, allocations) = measure(
        || ctx.send(g, &payload).unwrap(),
        |buf| ctx.recv(a, buf).is_ok(),
    );
    assert!(delivered > 2900, "only {delivered} delivered");
    assert_eq!(
        allocations, 0,
        "allocations in steady state ({delivered} messages over a group of two)"
    );
}

#[test]
fn live_stream_through_udp_drivers_allocates_nothing() {
    let _one = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut opts = SocketOptions::live();
    // Buffers of 1024 packets, grown during the warm-up burst (see above).
    for opt in [SockOpt::SndBuf, SockOpt::RcvBuf] {
        opts.set(opt, OptionValue::Int(1024 * 1472)).unwrap();
    }
    let lo = "127.0.0.1:0".parse().unwrap();
    let mut rx = UdpDriver::bind(lo).unwrap();
    rx.endpoint.listen(&opts, 1).unwrap();
    let mut tx = UdpDriver::bind(lo).unwrap();
    let c = tx
        .endpoint
        .connect(Instant::now(), rx.local_addr(), &opts)
        .unwrap();
    let give_up = Instant::now() + Duration::from_secs(5);
    let mut accepted = None;
    while accepted.is_none() || !tx.events.contains(&Event::Connected { socket: c }) {
        assert!(Instant::now() < give_up, "{:?} {:?}", tx.events, rx.events);
        tx.turn(Duration::from_millis(1)).unwrap();
        rx.turn(Duration::from_millis(1)).unwrap();
        accepted = accepted.or(rx.events.iter().find_map(|e| match e {
            Event::Accepted { socket } => Some(*socket),
            _ => None,
        }));
    }
    let a = accepted.unwrap();
    // The wake-up tick of a live transfer, as srt-transmit sets it.
    for d in [&mut tx, &mut rx] {
        d.set_tick(Duration::from_micros(500));
        d.events.reserve(4096);
    }
    let payload = [7u8; 1316];
    let mut buf = [0u8; 1500];
    // One packet per millisecond for `ms`, each driver turning once (a
    // wait of at most 300 µs) per packet; returns deliveries.
    let mut run = |tx: &mut UdpDriver, rx: &mut UdpDriver, ms: u32| {
        let mut delivered = 0u64;
        paced(ms, || {
            tx.endpoint
                .send(Instant::now(), c, &payload, &MsgCtrl::default())
                .unwrap();
            tx.turn(Duration::from_micros(300)).unwrap();
            rx.turn(Duration::from_micros(300)).unwrap();
            while let Ok(Some(_)) = rx.endpoint.recv(Instant::now(), a, &mut buf) {
                delivered += 1;
            }
            tx.events.clear();
            rx.events.clear();
        });
        delivered
    };
    for _ in 0..300 {
        tx.endpoint
            .send(Instant::now(), c, &payload, &MsgCtrl::default())
            .unwrap();
    }
    run(&mut tx, &mut rx, 3000);
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    let delivered = run(&mut tx, &mut rx, 3000);
    let allocations = ALLOCATIONS.load(Ordering::Relaxed) - before;
    assert!(delivered > 2900, "only {delivered} delivered");
    assert_eq!(tx.send_drops() + rx.send_drops(), 0);
    assert_eq!(
        allocations, 0,
        "allocations in steady state ({delivered} packets)"
    );
}
