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
use srt_proto::packet::{
    ControlBody, ControlPacket, Handshake, HandshakeType, Packet, RejectReason, SocketId,
};
use srt_proto::{BreakCause, Endpoint, Event, SocketOptions};
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
/// A held connection request is forgotten when its caller has not
/// repeated its CONCLUSION (every 250 ms) for this long: it gave up.
pub(crate) const REQUEST_SILENCE: Duration = Duration::from_secs(2);
/// Silence after which a request older than the connect timeout counts as
/// given up: a caller still waiting repeats its CONCLUSION every 250 ms.
pub(crate) const GAVE_UP_SILENCE: Duration = Duration::from_millis(600);
/// How long after its latency a broken live connection may still deliver.
const DRAIN_MARGIN: Duration = Duration::from_millis(100);
/// How often a reader looks again for messages of a broken live connection.
pub(crate) const DRAIN_POLL: Duration = Duration::from_millis(5);
/// How long a refused caller is answered with the same rejection.
const REFUSED_MEMORY: Duration = Duration::from_secs(10);

/// A caller's handshake, identified as the engine does: address and socket ID.
pub(crate) type ConclusionKey = (SocketAddr, u32);

/// What the application decided about a connection request.
#[derive(Debug)]
pub(crate) enum Decision {
    /// Accept, with these options instead of the listener's.
    Accept(Option<Box<SocketOptions>>),
    /// Refuse with this reason.
    Reject(RejectReason),
    /// Only learn whether the engine would consider the CONCLUSION (its SYN
    /// cookie, version and fields are good): the hook answers `Probed` and
    /// refuses, and the driver drops that refusal unsent.
    Probe,
    /// The hook saw a `Probe`.
    Probed,
}

/// The accept hook of a listener: applies the decision in `slot`.
pub(crate) fn accept_hook(slot: DecisionSlot) -> srt_proto::AcceptHook {
    Box::new(move |_request, options| {
        let mut decision = slot.lock().unwrap_or_else(|e| e.into_inner());
        match decision.take() {
            Some(Decision::Accept(Some(o))) => {
                *options = o.for_accepted();
                Ok(())
            }
            Some(Decision::Accept(None)) => Ok(()),
            Some(Decision::Reject(reason)) => Err(reason),
            Some(Decision::Probe) => {
                *decision = Some(Decision::Probed);
                Err(RejectReason::Peer)
            }
            // Every CONCLUSION passes the driver first; none should reach
            // the engine undecided.
            Some(Decision::Probed) | None => Err(RejectReason::Peer),
        }
    })
}

/// The decision the accept hook applies to the CONCLUSION being handled.
pub(crate) type DecisionSlot = Arc<Mutex<Option<Decision>>>;

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
    /// For an accepted socket, the handshake it came from.
    pub(crate) accepted_key: Option<ConclusionKey>,
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

/// A CONCLUSION held back from the engine until the application decides.
#[derive(Debug)]
pub(crate) struct PendingRequest {
    /// The latest copy of the caller's CONCLUSION.
    pub(crate) datagram: Vec<u8>,
    /// When that copy arrived (the engine is told it arrived then).
    pub(crate) arrived: Instant,
    /// When the first copy arrived.
    pub(crate) first: Instant,
    /// The SYN cookie the engine found good; only copies with it replace the held one.
    pub(crate) cookie: u32,
}

impl PendingRequest {
    /// Whether the caller has given up: silent for [`REQUEST_SILENCE`], or
    /// older than the connect timeout and silent for [`GAVE_UP_SILENCE`]
    /// (accepting it then would make a socket whose peer is gone).
    pub(crate) fn given_up(&self, now: Instant, conn_timeout: Duration) -> bool {
        let silent = now.saturating_duration_since(self.arrived);
        silent >= REQUEST_SILENCE
            || (now.saturating_duration_since(self.first) >= conn_timeout
                && silent >= GAVE_UP_SILENCE)
    }
}

/// A request not yet handed to the application.
#[derive(Debug)]
pub(crate) struct RequestInfo {
    pub(crate) key: ConclusionKey,
    pub(crate) stream_id: Vec<u8>,
}

/// The listener's side of the shared state.
#[derive(Debug)]
pub(crate) struct ListenerSlot {
    /// At most this many requests wait for a decision; more are refused
    /// with `SRT_REJ_BACKLOG`.
    pub(crate) backlog: usize,
    /// How long callers are taken to try (the listener's `SRTO_CONNTIMEO`).
    pub(crate) conn_timeout: Duration,
    pub(crate) pending: HashMap<ConclusionKey, PendingRequest>,
    pub(crate) queue: VecDeque<RequestInfo>,
    pub(crate) waker: Option<Waker>,
    pub(crate) refused: HashMap<ConclusionKey, (RejectReason, Instant)>,
    pub(crate) accepted: HashMap<ConclusionKey, SocketId>,
    pub(crate) decision: DecisionSlot,
}

impl ListenerSlot {
    pub(crate) fn new(backlog: usize, conn_timeout: Duration, decision: DecisionSlot) -> Self {
        ListenerSlot {
            backlog: backlog.max(1),
            conn_timeout,
            pending: HashMap::new(),
            queue: VecDeque::new(),
            waker: None,
            refused: HashMap::new(),
            accepted: HashMap::new(),
            decision,
        }
    }

    fn set_decision(&self, d: Option<Decision>) {
        *self.decision.lock().unwrap_or_else(|e| e.into_inner()) = d;
    }

    fn take_decision(&self) -> Option<Decision> {
        self.decision
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
    }
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
    /// Refusals of probed CONCLUSIONs, to be dropped instead of sent.
    pub(crate) suppress: Vec<ConclusionKey>,
}

impl State {
    /// Feeds one datagram to the engine; a listener's new CONCLUSION is held
    /// back until the application decides (see `SrtListener`).
    pub(crate) fn handle_datagram(&mut self, now: Instant, from: SocketAddr, data: &[u8]) {
        if self.listener.is_some() && is_handshake_to_listener(data) {
            if let Ok(Packet::Control(ControlPacket {
                body: ControlBody::Handshake(hs),
                ..
            })) = Packet::decode(data)
            {
                if self.hold_conclusion(now, from, &hs, data) {
                    return;
                }
            }
        }
        self.endpoint.handle_datagram(now, from, data);
        if let Some(l) = &self.listener {
            l.set_decision(None);
        }
    }

    /// Decides what happens to a handshake to socket 0 of a listener;
    /// returns whether it was held back.
    fn hold_conclusion(
        &mut self,
        now: Instant,
        from: SocketAddr,
        hs: &Handshake,
        data: &[u8],
    ) -> bool {
        let State {
            endpoint,
            listener,
            suppress,
            ..
        } = self;
        let Some(l) = listener.as_mut() else {
            return false;
        };
        // Inductions, HSv4 and malformed handshakes: the engine answers.
        if hs.req_type != HandshakeType::Conclusion || hs.version != 5 || !hs.is_valid() {
            return false;
        }
        let key = (from, hs.socket_id);
        if l.accepted.contains_key(&key) {
            // A repeat of an accepted conclusion: the engine answers again.
            return false;
        }
        if let Some((reason, _)) = l.refused.get(&key) {
            l.set_decision(Some(Decision::Reject(*reason)));
            return false;
        }
        if let Some(p) = l.pending.get_mut(&key) {
            if hs.syn_cookie != p.cookie {
                return true;
            }
            p.datagram.clear();
            p.datagram.extend_from_slice(data);
            p.arrived = now;
            return true;
        }
        if l.pending.len() >= l.backlog {
            l.set_decision(Some(Decision::Reject(RejectReason::Backlog)));
            return false;
        }
        // Only a caller that answered our induction (its SYN cookie is
        // good) reaches the application: the engine checks, the hook
        // notes it and refuses, and that refusal is never sent. A
        // CONCLUSION the engine ignores (a bad cookie) is dropped here.
        l.set_decision(Some(Decision::Probe));
        endpoint.handle_datagram(now, from, data);
        if !matches!(l.take_decision(), Some(Decision::Probed)) {
            return true;
        }
        suppress.push(key);
        l.pending.insert(
            key,
            PendingRequest {
                datagram: data.to_vec(),
                arrived: now,
                first: now,
                cookie: hs.syn_cookie,
            },
        );
        l.queue.push_back(RequestInfo {
            key,
            stream_id: hs.stream_id().unwrap_or(&[]).to_vec(),
        });
        if let Some(w) = l.waker.take() {
            w.wake();
        }
        true
    }

    /// When the next held request or refusal is to be forgotten.
    fn next_expiry(&self) -> Option<Instant> {
        let l = self.listener.as_ref()?;
        let pending = l.pending.values().map(|p| p.arrived + REQUEST_SILENCE);
        let refused = l.refused.values().map(|(_, at)| *at + REFUSED_MEMORY);
        pending.chain(refused).min()
    }

    /// Forgets requests whose callers gave up and old refusals.
    fn expire_requests(&mut self, now: Instant) {
        if let Some(l) = &mut self.listener {
            l.pending
                .retain(|_, p| now.saturating_duration_since(p.arrived) < REQUEST_SILENCE);
            l.refused
                .retain(|_, (_, at)| now.saturating_duration_since(*at) < REFUSED_MEMORY);
        }
    }

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

/// Whether `datagram` to `dst` is the refusal of a probe in `suppress`
/// (which then forgets it).
fn is_probe_refusal(datagram: &[u8], dst: SocketAddr, suppress: &mut Vec<ConclusionKey>) -> bool {
    let Ok(Packet::Control(ControlPacket {
        body: ControlBody::Handshake(hs),
        dest_socket,
        ..
    })) = Packet::decode(datagram)
    else {
        return false;
    };
    if !matches!(hs.req_type, HandshakeType::Rejection(_)) {
        return false;
    }
    match suppress.iter().position(|k| *k == (dst, dest_socket.0)) {
        Some(i) => {
            suppress.swap_remove(i);
            true
        }
        None => false,
    }
}

/// Whether a datagram is a control packet of type handshake to socket 0
/// (checked on the header before decoding the whole packet).
fn is_handshake_to_listener(data: &[u8]) -> bool {
    data.len() >= 16 && data[0] == 0x80 && data[1] == 0 && data[12..16] == [0, 0, 0, 0]
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
            suppress: Vec::new(),
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
                st.expire_requests(now);
                out.clear();
                while !out.is_full() {
                    let Some(t) = st.endpoint.poll_transmit(now, out.slot()) else {
                        // Stateless replies come first: any refusal of a
                        // probe not seen by now was dropped by the engine.
                        st.suppress.clear();
                        break;
                    };
                    if !st.suppress.is_empty()
                        && is_probe_refusal(&out.slot()[..t.size], t.destination, &mut st.suppress)
                    {
                        continue;
                    }
                    out.commit(t.destination, t.size);
                }
                st.dispatch_events();
                let finished = st.handles == 0 && st.endpoint.connection_count() == 0;
                let deadline = match (st.endpoint.poll_timeout(), st.next_expiry()) {
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
                    st.handle_datagram(Instant::now(), from, datagram);
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
