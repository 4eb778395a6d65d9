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
use srt_proto::group::{Admitted, GroupEvent, GroupListener, MemberKey};
use srt_proto::packet::{RejectReason, SocketId};
use srt_proto::{BreakCause, CloseMode, Endpoint, Event, IncomingId};
use srt_udp::{RecvBatch, RecvError, SendBatch, UdpSocketState};
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

/// What a listener has for the application, in arrival order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Queued {
    /// A plain caller's request the engine holds ([`Endpoint::listen_deferred`]).
    Request(IncomingId),
    /// A new group (`SRTO_GROUPCONNECT`): its index in [`GroupHost`].
    Group(usize),
}

/// The listener's side of the shared state.
#[derive(Debug, Default)]
pub(crate) struct ListenerSlot {
    pub(crate) queue: VecDeque<Queued>,
    pub(crate) waker: Option<Waker>,
}

/// What the handle of a group accepted by a listener waits for.
#[derive(Debug, Default)]
pub(crate) struct GroupSlot {
    pub(crate) connected: bool,
    /// The application has its handle.
    pub(crate) taken: bool,
    /// Woken after every driver turn.
    pub(crate) wakers: Vec<Waker>,
    /// Broken members, and from when they may leave the group.
    reaping: Vec<(MemberKey, Instant)>,
}

/// How long a broken member with messages still to read stays in its
/// group at most (libsrt's GC keeps such a socket for 60 of its 1-second
/// rounds).
const REAP_LIMIT: Duration = Duration::from_secs(60);

/// A listener's groups (`SRTO_GROUPCONNECT`): members accepted on the
/// listener's endpoint, run by the listener's driver.
///
/// A group stays while its handle lives (or waits in the listener's
/// queue); it is closed and forgotten when its handle is dropped, when
/// the listener goes before it was taken, or when its last member left
/// before it was taken (libsrt's `srt_close` on the group, and its GC
/// taking a broken socket off the accept queue). A broken member leaves
/// its group once what it holds has come due and was read (libsrt's GC
/// closing a broken member socket). A later member of a forgotten group's
/// peer group makes a new group, as libsrt's `findPeerGroup` finds open
/// groups only.
#[derive(Debug)]
pub(crate) struct GroupHost {
    pub(crate) listener: GroupListener,
    /// By the group's index in `listener`.
    pub(crate) slots: HashMap<usize, GroupSlot>,
}

impl GroupHost {
    /// A host for groups made with the options of `options`.
    pub(crate) fn new(options: &srt_proto::SocketOptions) -> Self {
        GroupHost {
            listener: GroupListener::new(options),
            slots: HashMap::new(),
        }
    }

    /// Every group's timers and events; wakes their handles; lets broken
    /// members go and forgets groups nobody will take. Returns the
    /// earliest timer.
    fn run(
        &mut self,
        endpoint: &mut Endpoint,
        mut queue: Option<&mut ListenerSlot>,
        now: Instant,
    ) -> Option<Instant> {
        let mut deadline: Option<Instant> = None;
        let mut gone = Vec::new();
        for (i, g) in self.listener.iter_mut() {
            let Some(slot) = self.slots.get_mut(&i) else {
                continue;
            };
            g.handle_timeout(now, endpoint);
            while let Some(e) = g.poll_event() {
                match e {
                    GroupEvent::Connected => slot.connected = true,
                    GroupEvent::MemberBroken { key } => {
                        // What it received comes due within its latency.
                        let latency = endpoint
                            .connection(key.socket)
                            .and_then(|c| c.negotiated())
                            .and_then(|n| n.rcv_latency)
                            .unwrap_or_default();
                        slot.reaping.push((key, now + latency + DRAIN_MARGIN));
                    }
                    _ => {}
                }
            }
            slot.connected |= g.is_connected();
            slot.reaping.retain(|&(key, from)| {
                let unread = endpoint
                    .connection_mut(key.socket)
                    .is_some_and(|c| c.recv_ready(now));
                if now < from || (unread && now < from + REAP_LIMIT) {
                    return true;
                }
                let _ = endpoint.close(now, key.socket, CloseMode::Abort);
                g.remove_member(key);
                false
            });
            if !slot.taken && g.members().next().is_none() {
                gone.push(i);
                continue;
            }
            for w in slot.wakers.drain(..) {
                w.wake();
            }
            // A broken member with unread messages is looked at again
            // now and then (a read does not wake the driver).
            let reap = slot.reaping.iter().map(|&(_, from)| {
                if now < from {
                    from
                } else {
                    (now + DRAIN_MARGIN).min(from + REAP_LIMIT)
                }
            });
            for t in g.poll_timeout().into_iter().chain(reap) {
                deadline = Some(deadline.map_or(t, |d| d.min(t)));
            }
        }
        for i in gone {
            self.forget(i, endpoint, now);
            if let Some(l) = queue.as_deref_mut() {
                l.queue.retain(|q| *q != Queued::Group(i));
            }
        }
        deadline
    }

    /// Closes the group at `index` (abort: its members' connections go
    /// from the engine) and forgets it.
    pub(crate) fn forget(&mut self, index: usize, endpoint: &mut Endpoint, now: Instant) {
        if let Some(mut g) = self.listener.remove(index) {
            g.close(now, endpoint, CloseMode::Abort);
        }
        if let Some(slot) = self.slots.remove(&index) {
            for w in slot.wakers {
                w.wake();
            }
        }
    }
}

/// Everything behind the lock: the engine and who waits for what.
#[derive(Debug)]
pub(crate) struct State {
    pub(crate) endpoint: Endpoint,
    /// Keyed by our own socket IDs: a fast seeded hash (foldhash), not
    /// SipHash, as the lookup runs for every datagram and call.
    pub(crate) sockets: HashMap<SocketId, SocketSlot, foldhash::fast::RandomState>,
    pub(crate) listener: Option<ListenerSlot>,
    /// A listener's groups, if it accepts group members.
    pub(crate) groups: Option<GroupHost>,
    /// Live `SrtSocket`, `SrtListener` and `SrtGroup` handles; the driver stops when
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
                    let queued = self.take_member(*request);
                    if let (Some(l), Some(q)) = (&mut self.listener, queued) {
                        l.queue.push_back(q);
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

    /// A group member's request is accepted at once (as libsrt's listener
    /// with `SRTO_GROUPCONNECT`) and joins its group; the first member of
    /// a peer group makes a group for the application. A plain caller's
    /// request waits for the application.
    fn take_member(&mut self, request: IncomingId) -> Option<Queued> {
        let Some(host) = &mut self.groups else {
            return Some(Queued::Request(request));
        };
        if self.endpoint.incoming(request)?.group.is_none() {
            return Some(Queued::Request(request));
        }
        let now = Instant::now();
        let socket = self.endpoint.accept_incoming(now, request, None).ok()?;
        let conn = self.endpoint.connection(socket)?;
        let key = MemberKey {
            endpoint: 0,
            socket,
        };
        match host.listener.admit(key, conn) {
            Admitted::NewGroup(i) if self.listener.is_some() => {
                host.slots.insert(i, GroupSlot::default());
                Some(Queued::Group(i))
            }
            Admitted::Joined(_) => None,
            // A member arriving after the listener closed.
            Admitted::NewGroup(i) => {
                host.forget(i, &mut self.endpoint, now);
                None
            }
            Admitted::NotMember => {
                let _ = self.endpoint.close(now, socket, CloseMode::Abort);
                None
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
        for slot in self.groups.iter_mut().flat_map(|h| h.slots.values_mut()) {
            for w in slot.wakers.drain(..) {
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
    groups: Option<GroupHost>,
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
            groups,
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
                let mut guard = shared.lock();
                let st = &mut *guard;
                let now = Instant::now();
                st.endpoint.handle_timeout(now);
                let group_deadline = st
                    .groups
                    .as_mut()
                    .and_then(|h| h.run(&mut st.endpoint, st.listener.as_mut(), now));
                out.clear();
                while !out.is_full() {
                    let Some(t) = st.endpoint.poll_transmit(now, out.slot()) else {
                        break;
                    };
                    out.commit(t.destination, t.size);
                }
                st.dispatch_events();
                let finished = st.handles == 0 && st.endpoint.connection_count() == 0;
                let deadline = match (st.endpoint.poll_timeout(), group_deadline) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
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
            Err(e) => match RecvError::of(&e) {
                RecvError::Drained => break,
                // ICMP errors of earlier sends (a peer not listening yet).
                RecvError::Interrupted | RecvError::Icmp => {}
                RecvError::Fatal => return Err(e),
            },
        }
    }
    Ok(())
}
