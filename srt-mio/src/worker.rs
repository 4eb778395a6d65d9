//! The worker thread: one `mio::Poll` over every multiplexer's UDP socket
//! and a `Waker` for application calls; it runs the engines (datagrams,
//! timers, transmits) and turns their events into socket states.

use crate::context::Shared;
use crate::state::State;
use mio::{Events, Poll, Token};
use std::io;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The token of the waker (multiplexers use their index).
pub(crate) const WAKER: Token = Token(usize::MAX);
/// The most datagrams read from one UDP socket per turn, so that every
/// multiplexer (and every engine's timers) gets its turn.
const MAX_READS: usize = 256;
/// The longest the worker sleeps with nothing scheduled.
const MAX_IDLE: Duration = Duration::from_millis(500);
/// Room for one datagram the engine sends (its MSS is at most 1500).
const SLOT: usize = 1500;

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
    let mut buf = vec![0u8; 65_536];
    let mut out = vec![0u8; SLOT];
    let mut ready: Vec<usize> = Vec::with_capacity(64);
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
            turn(&mut st, shared, &mut buf, &mut out)
        };
        match poll.poll(&mut events, Some(wait)) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            // Nothing sensible to do but try again a little later.
            Err(_) => std::thread::sleep(Duration::from_millis(1)),
        }
        ready.extend(
            events
                .iter()
                .map(|e| e.token())
                .filter(|t| *t != WAKER)
                .map(|t| t.0),
        );
    }
}

/// One round over the multiplexers with something to do (datagrams
/// waiting, an application call, a timer due): datagrams in, timers,
/// datagrams out, events to sockets (which wakes their waiters). Returns
/// how long the worker may sleep.
fn turn(st: &mut State, shared: &Shared, buf: &mut [u8], out: &mut [u8]) -> Duration {
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
                let mut reads = 0;
                while reads < MAX_READS {
                    match mux.udp.recv_from(buf) {
                        Ok((len, from)) => {
                            mux.endpoint
                                .handle_datagram(Instant::now(), from, &buf[..len]);
                            reads += 1;
                        }
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                            mux.readable = false;
                            break;
                        }
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        // An ICMP error from a peer (port unreachable): it is
                        // consumed; go on reading.
                        Err(_) => reads += 1,
                    }
                }
                again |= mux.readable;
            }
            let now = Instant::now();
            mux.endpoint.handle_timeout(now);
            while let Some(t) = mux.endpoint.poll_transmit(now, out) {
                // A full send buffer or an unreachable peer loses the
                // datagram, as a lossy network would; the engine resends.
                let _ = mux.udp.send_to(&out[..t.size], t.destination);
            }
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
