//! The worker pool: a fixed number of threads (one per core unless told
//! otherwise), each with its own `mio::Poll` and `Waker`, each running the
//! engine shards ([`crate::shard`]) it was given: datagrams, timers and
//! transmits, then the engines' events into socket states.
//!
//! A worker locks one engine at a time, for its work on it, and the
//! context's state lock only to hand that engine's events to the sockets
//! (never while it holds an engine): the workers run their engines at the
//! same time, and application calls on other engines go on meanwhile.
//!
//! Its per-engine turn is the one driver's ([`crate::driver`], which
//! `srt-tools`' `UdpDriver` runs too): datagrams are read several per
//! `recvmmsg` (each buffer possibly a GRO run) and sent in batches, each
//! run of equal datagrams in one GSO `sendmsg`; the [`Driver`] and its
//! buffers are the worker's, shared by every shard it runs, so a
//! multiplexer costs no buffer memory and the loop allocates nothing per
//! packet. The worker reading a port with several shards copies the
//! datagrams of the others into their inboxes and wakes their workers,
//! once per batch. While only live connections run, a worker wakes at
//! most once per wake-up tick ([`WakeTick`];
//! [`State::wake_tick`](crate::state::State::wake_tick)) and handles
//! together what arrived, what the application asked and what fell due
//! since, instead of waking for each.

use crate::context::Shared;
use crate::driver::{Driver, WakeTick};
use crate::shard::{shard_of, Engine, Inbox, Port, Shard};
use crate::state::FastMap;
use mio::{Events, Poll, Token};
use std::io;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The token of a worker's waker (ports use their multiplexer's index).
pub(crate) const WAKER: Token = Token(usize::MAX);
/// The longest a worker sleeps with nothing scheduled.
const MAX_IDLE: Duration = Duration::from_millis(500);

/// A worker's reusable buffers, for whichever shard it visits.
struct Io {
    /// The one driver's I/O and buffers.
    driver: Driver,
    /// The inbox swapped out of a shard, read, and swapped back in later.
    spare: Inbox,
    /// Workers whose shards got datagrams in their inboxes this turn.
    wake: Vec<bool>,
    /// Datagrams handed to this worker's engines since it last counted.
    handled: u64,
}

/// Runs worker `me` until the context shuts down. Should the loop panic,
/// the context is shut down so that no call waits forever for a worker
/// that is gone.
pub(crate) fn run(shared: Arc<Shared>, me: usize, poll: Poll) {
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        run_loop(&shared, me, poll);
    }));
    if result.is_err() {
        shared.lock().stop();
        shared.stop_workers();
    }
}

fn run_loop(shared: &Shared, me: usize, mut poll: Poll) {
    let slot = &shared.workers[me];
    let mut events = Events::with_capacity(256);
    // Buffers reused for every datagram: the loop allocates nothing per packet.
    let mut io = Io {
        driver: Driver::new(),
        spare: Inbox::default(),
        wake: vec![false; shared.workers.len()],
        handled: 0,
    };
    let mut jobs: Vec<Arc<Shard>> = Vec::new();
    // The ports this worker reads, by poll token.
    let mut reads: FastMap<usize, Arc<Port>> = FastMap::default();
    let mut ready: Vec<usize> = Vec::with_capacity(64);
    let mut tick = WakeTick::new();
    loop {
        // Calls from now on must wake us again; what came before is in
        // the state this turn sees.
        slot.wake_pending.store(false, Ordering::Release);
        // The clear must be visible before this turn reads the flags
        // (`inbox_ready`, `has_incoming`, ...): see `Shared::wake`.
        std::sync::atomic::fence(Ordering::SeqCst);
        if shared.stopped.load(Ordering::Acquire) {
            return;
        }
        if slot.has_incoming.swap(false, Ordering::AcqRel) {
            jobs.append(&mut slot.incoming());
        }
        let before = jobs.len();
        jobs.retain(|s| !s.port.closed.load(Ordering::Acquire));
        if jobs.len() != before || reads.len() != jobs.iter().filter(|s| s.index == 0).count() {
            slot.load.store(jobs.len(), Ordering::Relaxed);
            reads.clear();
            for s in jobs.iter().filter(|s| s.index == 0) {
                reads.insert(s.port.index, s.port.clone());
            }
        }
        for t in ready.drain(..) {
            if let Some(p) = reads.get(&t) {
                p.readable.store(true, Ordering::Release);
            }
        }
        let wait = turn(shared, &jobs, &mut io);
        if io.handled > 0 {
            slot.datagrams.fetch_add(io.handled, Ordering::Relaxed);
            io.handled = 0;
        }
        // Coalesce: whatever arrives, is asked or falls due until the next
        // tick is handled together then.
        let wait = tick.hold(
            Duration::from_nanos(shared.tick_nanos.load(Ordering::Relaxed)),
            wait,
        );
        match poll.poll(&mut events, Some(wait)) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            // Nothing sensible to do but try again a little later.
            Err(_) => std::thread::sleep(Duration::from_millis(1)),
        }
        tick.woke();
        ready.extend(
            events
                .iter()
                .map(|e| e.token())
                .filter(|t| *t != WAKER)
                .map(|t| t.0),
        );
    }
}

/// Reads what waits on `port`'s socket (the one driver's
/// [`Driver::read`]): datagrams of `own`'s peers into its engine (locked
/// for one batch at a time, so that application calls on it wait little),
/// the others into their shards' inboxes; returns whether more may wait.
fn receive(port: &Port, udp: &mio::net::UdpSocket, own: &Shard, io: &mut Io) -> bool {
    let shards = port.shards();
    let count = shards.len();
    let (handled, wake) = (&mut io.handled, &mut io.wake);
    let mut lost = 0;
    let more = io.driver.read(&port.udp_state, udp, usize::MAX, |batch| {
        let mut engine = own.lock();
        while let Some((from, datagram)) = batch.next_datagram() {
            let k = shard_of(from, count);
            if k == own.index {
                *handled += 1;
                engine
                    .endpoint
                    .handle_datagram(Instant::now(), from, datagram);
            } else if let Some(s) = shards.get(k) {
                if s.deliver(from, datagram) {
                    wake[s.worker] = true;
                } else {
                    lost += 1;
                }
            }
        }
    });
    io.driver.dropped += lost;
    match more {
        Ok(false) => {
            port.readable.store(false, Ordering::Release);
            false
        }
        Ok(true) => true,
        // A broken socket: try again next turn; its engine's timers end
        // its connections if it stays broken.
        Err(_) => true,
    }
}

/// Everything `engine` has to send, in batches. A full send buffer or an
/// unreachable peer loses datagrams, as a lossy network would; the engine
/// resends. So does a broken socket: its engine's timers end its
/// connections.
fn transmit(
    port: &Port,
    udp: &mio::net::UdpSocket,
    engine: &mut Engine,
    io: &mut Io,
    now: Instant,
) {
    let _ = io
        .driver
        .transmit(&port.udp_state, udp, &mut engine.endpoint, now);
}

/// One round over the shards with something to do (datagrams waiting,
/// an application call, a timer due): datagrams in, timers, datagrams
/// out, then events to sockets (which wakes their waiters). Returns how
/// long the worker may sleep.
fn turn(shared: &Shared, jobs: &[Arc<Shard>], io: &mut Io) -> Duration {
    let mut again = false;
    let mut deadline: Option<Instant> = None;
    let start = Instant::now();
    let mut earliest = |t: Option<Instant>| {
        if let Some(t) = t {
            deadline = Some(deadline.map_or(t, |d: Instant| d.min(t)));
        }
    };
    for shard in jobs {
        let port = &shard.port;
        let reads = shard.index == 0 && port.readable.load(Ordering::Acquire);
        let inbox = shard.inbox_ready.load(Ordering::Acquire);
        let (busy, next) = {
            let mut engine = shard.lock();
            // Asked afresh: whatever touched the engine since (this worker
            // or a call) is in it.
            engine.next_timeout = engine.endpoint.poll_timeout();
            let due = engine.next_timeout.is_some_and(|t| t <= start);
            (reads || inbox || engine.dirty || due, engine.next_timeout)
        };
        if !busy {
            earliest(next);
            continue;
        }
        let guard = port.udp();
        let Some(udp) = guard.as_ref() else {
            // Released: dropped at the next turn.
            continue;
        };
        if reads {
            again |= receive(port, udp, shard, io);
        }
        let events = {
            let mut engine = shard.lock();
            if inbox {
                shard.take_inbox(&mut io.spare);
                io.handled += io.spare.len() as u64;
                io.spare.drain_into(&mut engine.endpoint);
            }
            engine.endpoint.handle_timeout(Instant::now());
            engine.collect()
        };
        // Never the state lock with the socket held: releasing a port
        // takes the socket's write lock under it.
        drop(guard);
        if events {
            // Before the datagrams go out: a listener's accepted socket is
            // in the handle table before its caller hears it is connected
            // (as libsrt), though the caller's engine runs on another worker.
            let mut st = shared.lock();
            if !port.closed.load(Ordering::Acquire) {
                st.apply_pending(port.index, shard.index);
            }
            shared.settle(&mut st);
        }
        let guard = port.udp();
        let Some(udp) = guard.as_ref() else {
            continue;
        };
        let (events, idle) = {
            let mut engine = shard.lock();
            let now = Instant::now();
            transmit(port, udp, &mut engine, io, now);
            engine.dirty = false;
            engine.next_timeout = engine.endpoint.poll_timeout();
            earliest(engine.next_timeout);
            (engine.collect(), engine.endpoint.connection_count() == 0)
        };
        // Never the state lock with the socket held: releasing a port
        // takes the socket's write lock under it.
        drop(guard);
        if events || idle {
            let mut st = shared.lock();
            if !port.closed.load(Ordering::Acquire) {
                st.apply_pending(port.index, shard.index);
                if idle {
                    st.release_idle_mux(port.index);
                }
            }
            shared.settle(&mut st);
        }
        // Other workers' shards got datagrams: wake them now, not after
        // the whole round.
        for (w, flag) in io.wake.iter_mut().enumerate() {
            if std::mem::take(flag) {
                shared.wake(w);
            }
        }
    }
    if again {
        Duration::ZERO
    } else {
        deadline
            .map_or(MAX_IDLE, |d| d.saturating_duration_since(Instant::now()))
            .min(MAX_IDLE)
    }
}
