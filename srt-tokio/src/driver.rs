//! The task that runs one engine ([`Endpoint`]) on one UDP socket, and the
//! state it shares with the socket and listener handles.
//!
//! Handles call the engine directly under the state lock (`send`, `recv`,
//! `close`, stats), register their waker when they must wait, and wake the
//! driver through a [`Notify`] so that it sends what the call queued. The
//! driver does the loop of ARCHITECTURE.md's "Drivers" section: it waits
//! for a datagram, a wake-up from a handle or the engine's next timer, feeds
//! the engine, sends what it has to send, and wakes the handles that the
//! engine's events concern.

use crate::error::Error;
use srt_proto::packet::{RejectReason, SocketId};
use srt_proto::{BreakCause, Endpoint, Event, IncomingId};
use srt_udp::{RecvBatch, SendBatch, UdpSocketState};
use std::collections::{HashMap, VecDeque};
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::Waker;
use std::time::{Duration, Instant};
use tokio::io::Interest;
use tokio::net::UdpSocket;
use tokio::sync::Notify;

/// The most datagrams read in one turn before the engine gets to send.
const MAX_READS: usize = 256;
/// How long after its latency a broken live connection may still deliver.
const DRAIN_MARGIN: Duration = Duration::from_millis(100);
/// How often a reader looks again for messages of a broken live connection.
pub(crate) const DRAIN_POLL: Duration = Duration::from_millis(5);
/// What a handle waits for on one SRT socket.
#[derive(Debug, Default)]
pub(crate) struct SocketSlot {
    pub(crate) read: Option<Waker>,
    pub(crate) write: Option<Waker>,
    pub(crate) state: Option<Waker>,
    pub(crate) connected: bool,
    pub(crate) failed: Option<RejectReason>,
    pub(crate) broken: Option<BreakCause>,
    pub(crate) closed: bool,
    /// Until when messages received before the connection broke may still
    /// come due (live mode: the break time + the TSBPD latency).
    pub(crate) drain_until: Option<Instant>,
}

impl SocketSlot {
    fn wake_all(&mut self) {
        for w in [self.read.take(), self.write.take(), self.state.take()]
            .into_iter()
            .flatten()
        {
            w.wake();
        }
    }

    /// The error every operation now ends with, if the socket is finished.
    pub(crate) fn terminal(&self) -> Option<Error> {
        if self.closed {
            Some(Error::Closed)
        } else if let Some(cause) = self.broken {
            Some(Error::Broken(cause))
        } else {
            self.failed.map(Error::from_reject)
        }
    }
}

/// The listener's side of the shared state: requests the engine holds
/// for the application ([`Endpoint::listen_deferred`]), in arrival order.
#[derive(Debug, Default)]
pub(crate) struct ListenerSlot {
    pub(crate) queue: VecDeque<IncomingId>,
    pub(crate) waker: Option<Waker>,
}

/// Everything behind the lock: the engine and who waits for what.
#[derive(Debug)]
pub(crate) struct State {
    pub(crate) endpoint: Endpoint,
    pub(crate) sockets: HashMap<SocketId, SocketSlot>,
    pub(crate) listener: Option<ListenerSlot>,
    /// Live `SrtSocket` and `SrtListener` handles; the driver stops when
    /// none is left and the engine holds no connection.
    pub(crate) handles: usize,
    /// The driver has stopped (its socket failed, or nothing is left).
    pub(crate) stopped: bool,
}

impl State {
    /// Moves the engine's events to the socket slots and wakes their waiters.
    fn dispatch_events(&mut self) {
        while let Some(ev) = self.endpoint.poll_event() {
            let (socket, update): (SocketId, fn(&mut SocketSlot, &Event)) = match &ev {
                Event::Connected { socket } => (*socket, |s, _| s.connected = true),
                Event::ConnectFailed { socket, .. } => (*socket, |s, e| {
                    if let Event::ConnectFailed { reason, .. } = e {
                        s.failed = Some(*reason);
                    }
                }),
                Event::Broken { socket, .. } => (*socket, |s, e| {
                    if let Event::Broken { cause, .. } = e {
                        s.broken = Some(*cause);
                    }
                }),
                Event::Closed { socket } => (*socket, |s, _| s.closed = true),
                Event::Readable { socket } | Event::Writable { socket } => (*socket, |_, _| {}),
                Event::Incoming { request } => {
                    if let Some(l) = &mut self.listener {
                        l.queue.push_back(*request);
                        if let Some(w) = l.waker.take() {
                            w.wake();
                        }
                    }
                    continue;
                }
                // Accepted connections are taken by `ConnectionRequest::accept` at once.
                _ => continue,
            };
            if let Some(slot) = self.sockets.get_mut(&socket) {
                update(slot, &ev);
                if matches!(ev, Event::Broken { .. }) {
                    // The engine stops its timers, but messages already
                    // received still come due at their TSBPD time.
                    let latency = self
                        .endpoint
                        .connection(socket)
                        .and_then(|c| c.negotiated())
                        .and_then(|n| n.rcv_latency);
                    slot.drain_until = latency.map(|l| Instant::now() + l + DRAIN_MARGIN);
                }
                slot.wake_all();
            }
        }
    }

    /// Stops the driver's users: every waiter is woken and sees the end.
    fn stop(&mut self) {
        self.stopped = true;
        for slot in self.sockets.values_mut() {
            slot.wake_all();
        }
        if let Some(l) = &mut self.listener {
            if let Some(w) = l.waker.take() {
                w.wake();
            }
        }
    }
}

/// The state shared by the driver and the handles of one UDP socket.
#[derive(Debug)]
pub(crate) struct Shared {
    state: Mutex<State>,
    notify: Notify,
    local: SocketAddr,
}

impl Shared {
    /// The state, locked (a panic elsewhere does not make it unusable).
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Asks the driver for a turn (to send what a call queued).
    pub(crate) fn wake_driver(&self) {
        self.notify.notify_one();
    }

    /// The UDP socket's local address.
    pub(crate) fn local_addr(&self) -> SocketAddr {
        self.local
    }
}

/// Starts the driver task of `socket` with `endpoint`, its listener or its
/// one caller or rendezvous connection; each counts as a handle from the
/// start, so that the driver cannot see "no handle left" before they exist.
pub(crate) fn start(
    socket: UdpSocket,
    endpoint: Endpoint,
    listener: Option<ListenerSlot>,
    connection: Option<SocketId>,
) -> Arc<Shared> {
    let handles = usize::from(listener.is_some()) + usize::from(connection.is_some());
    let sockets = connection
        .map(|id| (id, SocketSlot::default()))
        .into_iter()
        .collect();
    let shared = Arc::new(Shared {
        local: endpoint.local_addr(),
        state: Mutex::new(State {
            endpoint,
            sockets,
            listener,
            handles,
            stopped: false,
        }),
        notify: Notify::new(),
    });
    tokio::spawn(drive(Arc::clone(&shared), socket));
    shared
}

/// Waits until `deadline`, or forever without one.
async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(t) => tokio::time::sleep_until(tokio::time::Instant::from_std(t)).await,
        None => std::future::pending().await,
    }
}

/// The driver: runs until no handle and no connection is left, or the
/// socket fails.
async fn drive(shared: Arc<Shared>, socket: UdpSocket) {
    let state = match UdpSocketState::new((&socket).into()) {
        Ok(state) => state,
        Err(_) => {
            shared.lock().stop();
            return;
        }
    };
    let mut rx = RecvBatch::new();
    let mut out = SendBatch::new();
    loop {
        // Timers, then everything there is to send, a batch per lock.
        let deadline = loop {
            let (deadline, full, finished) = {
                let mut st = shared.lock();
                let now = Instant::now();
                st.endpoint.handle_timeout(now);
                out.clear();
                while !out.is_full() {
                    let Some(t) = st.endpoint.poll_transmit(now, out.slot()) else {
                        break;
                    };
                    out.commit(t.destination, t.size);
                }
                st.dispatch_events();
                let finished = st.handles == 0 && st.endpoint.connection_count() == 0;
                let deadline = st.endpoint.poll_timeout();
                (deadline, out.is_full(), finished)
            };
            // One system call per run of equal datagrams (GSO). A full
            // buffer waits; an unreachable peer loses the datagrams, as a
            // lossy network would (the engine resends).
            for (transmit, _) in out.runs(state.max_gso_segments()) {
                let _ = socket
                    .async_io(Interest::WRITABLE, || {
                        state.try_send((&socket).into(), &transmit)
                    })
                    .await;
            }
            if finished {
                shared.lock().stop();
                return;
            }
            if !full {
                break deadline;
            }
        };
        tokio::select! {
            biased;
            _ = shared.notify.notified() => {}
            ready = socket.readable() => {
                let result = match ready {
                    Ok(()) => read_all(&shared, &socket, &state, &mut rx),
                    Err(e) => Err(e),
                };
                if result.is_err() {
                    shared.lock().stop();
                    return;
                }
            }
            _ = sleep_until(deadline) => {}
        }
    }
}

/// Reads every queued datagram (up to about `MAX_READS`) into the engine,
/// several per system call (`recvmmsg`, GRO).
fn read_all(
    shared: &Shared,
    socket: &UdpSocket,
    state: &UdpSocketState,
    rx: &mut RecvBatch,
) -> io::Result<()> {
    let mut st = shared.lock();
    let mut read = 0;
    for _ in 0..MAX_READS {
        if read >= MAX_READS {
            break;
        }
        match socket.try_io(Interest::READABLE, || rx.read(state, socket.into())) {
            Ok(_) => {
                while let Some((from, datagram)) = rx.next_datagram() {
                    st.endpoint.handle_datagram(Instant::now(), from, datagram);
                    read += 1;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            // ICMP errors of earlier sends (a peer not listening yet).
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::Interrupted
                        | io::ErrorKind::ConnectionRefused
                        | io::ErrorKind::ConnectionReset
                ) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
