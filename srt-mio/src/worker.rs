//! The worker thread: one `mio::Poll` over every multiplexer's UDP socket
//! and a `Waker` for application calls; it runs the engines (datagrams,
//! timers, transmits) and turns their events into socket states.
//!
//! Its I/O is `srt-udp`'s, as `srt-tools`' `UdpDriver`: datagrams are read
//! several per `recvmmsg` (each buffer possibly a GRO run) and sent in
//! batches, each run of equal datagrams in one GSO `sendmsg`; the buffers
//! are the worker's, shared by every multiplexer, so a multiplexer costs
//! no buffer memory and the loop allocates nothing per packet. While only
//! live connections run, it wakes at most once per wake-up tick
//! ([`State::wake_tick`]) and handles together what arrived, what the
//! application asked and what fell due since, instead of waking for each.

use crate::context::Shared;
use crate::state::{Mux, State};
use mio::{Events, Poll, Token};
use srt_udp::{RecvBatch, SendBatch};
use std::io;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The token of the waker (multiplexers use their index).
pub(crate) const WAKER: Token = Token(usize::MAX);
/// The most `recvmmsg` calls on one UDP socket per turn (each reads up
/// to 8 buffers, each up to a 64 KB GRO run), so that every multiplexer
/// (and every engine's timers) gets its turn.
const MAX_READS: usize = 32;
/// The longest the worker sleeps with nothing scheduled.
const MAX_IDLE: Duration = Duration::from_millis(500);

/// The worker's reusable I/O buffers, for whichever multiplexer it visits.
struct Io {
    input: RecvBatch,
    out: SendBatch,
    /// Datagrams the kernel refused (full send buffer, unreachable peer),
    /// lost as on a lossy network; the engine resends.
    dropped: u64,
}

/// Runs until the context shuts down. Should the loop panic, the context
/// is shut down so that no call waits forever for a worker that is gone.
pub(crate) fn run(shared: Arc<Shared>, poll: Poll) {
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        run_loop(&shared, poll);
    }));
    if result.is_err() {
        shared.lock().stop();
    }
}

fn run_loop(shared: &Shared, mut poll: Poll) {
    let mut events = Events::with_capacity(256);
    // Buffers reused for every datagram: the loop allocates nothing per packet.
    let mut io = Io {
        input: RecvBatch::new(),
        out: SendBatch::new(),
        dropped: 0,
    };
    let mut ready: Vec<usize> = Vec::with_capacity(64);
    let mut tick = Duration::ZERO;
    let mut last_wake = Instant::now();
    loop {
        let wait = {
            let mut st = shared.lock();
            // Calls from now on must wake us again; what came before is
            // in the state this turn sees.
            shared.wake_pending.store(false, Ordering::Release);
            for &i in &ready {
                if let Some(Some(m)) = st.muxes.get_mut(i) {
                    m.readable = true;
                }
            }
            ready.clear();
            if st.shutdown {
                return;
            }
            let wait = turn(&mut st, shared, &mut io);
            if st.connections_changed {
                st.connections_changed = false;
                tick = st.wake_tick();
            }
            wait
        };
        let mut wait = wait;
        let now = Instant::now();
        // Coalesce: whatever arrives, is asked or falls due until the next
        // tick is handled together then (a timer due sooner waits for the
        // tick too: at most one tick late). A worker already behind (the
        // turn ended a tick or more after the wake, as when the machine is
        // loaded) does not wait for the tick.
        let wake = last_wake + tick;
        if !tick.is_zero() && !wait.is_zero() && wake > now {
            std::thread::sleep(wake - now);
            wait = wait.saturating_sub(Instant::now().saturating_duration_since(now));
        }
        match poll.poll(&mut events, Some(wait)) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            // Nothing sensible to do but try again a little later.
            Err(_) => std::thread::sleep(Duration::from_millis(1)),
        }
        last_wake = Instant::now();
        ready.extend(
            events
                .iter()
                .map(|e| e.token())
                .filter(|t| *t != WAKER)
                .map(|t| t.0),
        );
    }
}

/// Reads what waits on `mux`'s socket (at most [`MAX_READS`] batches) into
/// its engine; returns whether more may wait.
fn receive(mux: &mut Mux, input: &mut RecvBatch) -> bool {
    for _ in 0..MAX_READS {
        match input.read(&mux.udp_state, (&mux.udp).into()) {
            Ok(_) => {
                while let Some((from, datagram)) = input.next_datagram() {
                    mux.endpoint.handle_datagram(Instant::now(), from, datagram);
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                mux.readable = false;
                return false;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            // An ICMP error from a peer (port unreachable): it is
            // consumed; go on reading.
            Err(_) => {}
        }
    }
    true
}

/// Everything `mux`'s engine has to send, in batches.
fn transmit(mux: &mut Mux, io: &mut Io, now: Instant) {
    while let Some(t) = mux.endpoint.poll_transmit(now, io.out.slot()) {
        if io.out.commit(t.destination, t.size) {
            flush(mux, io);
        }
    }
    flush(mux, io);
}

/// Hands the queued datagrams to the kernel. A full send buffer or an
/// unreachable peer loses them, as a lossy network would; the engine
/// resends. So does a broken socket: its engine's timers end its
/// connections.
fn flush(mux: &Mux, io: &mut Io) {
    if io.out.is_empty() {
        return;
    }
    let sent = srt_udp::send_batch(&mux.udp_state, &mux.udp, &mut io.out);
    io.dropped += sent.dropped;
}

/// One round over the multiplexers with something to do (datagrams
/// waiting, an application call, a timer due): datagrams in, timers,
/// datagrams out, events to sockets (which wakes their waiters). Returns
/// how long the worker may sleep.
fn turn(st: &mut State, shared: &Shared, io: &mut Io) -> Duration {
    let mut again = false;
    let mut deadline: Option<Instant> = None;
    let start = Instant::now();
    for idx in 0..st.muxes.len() {
        {
            let Some(mux) = st.muxes[idx].as_mut() else {
                continue;
            };
            let due = mux.next_timeout.is_some_and(|t| t <= start);
            if !(mux.readable || mux.dirty || due) {
                if let Some(t) = mux.next_timeout {
                    deadline = Some(deadline.map_or(t, |d| d.min(t)));
                }
                continue;
            }
            if mux.readable {
                again |= receive(mux, &mut io.input);
            }
            let now = Instant::now();
            mux.endpoint.handle_timeout(now);
            transmit(mux, io, now);
        }
        st.drain_events(idx);
        if st.release_idle_mux(idx, &shared.registry) {
            continue;
        }
        let Some(mux) = st.muxes[idx].as_mut() else {
            continue;
        };
        mux.dirty = false;
        mux.next_timeout = mux.endpoint.poll_timeout();
        if let Some(t) = mux.next_timeout {
            deadline = Some(deadline.map_or(t, |d| d.min(t)));
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
