//! What a [`Context`](crate::Context) keeps behind its state lock: the
//! handle table, the multiplexers (their engines have locks of their own,
//! see [`crate::shard`]) and the epoll containers, and how the engines'
//! events change sockets' states and readiness.

use crate::bind::UdpSettings;
use crate::epoll::{EpollSet, SRT_EPOLL_ERR, SRT_EPOLL_IN, SRT_EPOLL_OUT};
use crate::shard::{Port, Shard};
use crate::{Error, SockStatus};
use srt_proto::options::StreamId;
use srt_proto::packet::{RejectReason, SocketId};
use srt_proto::TransType;
use srt_proto::{
    AcceptHook, BreakCause, CloseMode, Connection, ConnectionRequest, Event, SocketOptions,
};
use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// A libsrt socket ID (`SRTSOCKET`).
pub type SrtSocket = i32;

/// Told that a connection attempt of a socket failed (libsrt's
/// `srt_connect_callback`): the socket, the error `connect` would have
/// returned, and the address it was connecting to. It runs on the worker
/// thread with the context locked: it must not call the context.
pub type ConnectCallback = Box<dyn FnMut(SrtSocket, &Error, SocketAddr) + Send>;

/// Decides on a connection request to a listener (libsrt's
/// `srt_listen_callback`): it gets the ID the accepted socket will have
/// (what `accept` returns for it), the request, and the new socket's
/// options, which it may change; an error refuses the caller with that
/// reason. It runs on a worker thread with the listening engine locked
/// (one call at a time, whichever worker owns the caller's shard): it must
/// not call the context.
pub type ListenCallback = Box<
    dyn FnMut(SrtSocket, &ConnectionRequest<'_>, &mut SocketOptions) -> Result<(), RejectReason>
        + Send,
>;

/// The largest socket ID (libsrt's IDs stay below 2^30; bit 30 marks groups).
const MAX_ID: i32 = (1 << 30) - 1;

/// Socket IDs, counting down from a random start as libsrt's do; shared
/// with the listen callbacks, which name a socket before it exists.
#[derive(Debug)]
pub(crate) struct Ids(AtomicI32);

impl Ids {
    /// The next ID (it may belong to a live socket after a wrap-around).
    fn next(&self) -> SrtSocket {
        let step = |id: i32| Some(if id <= 1 { MAX_ID } else { id - 1 });
        match self
            .0
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, step)
        {
            Ok(id) | Err(id) => id,
        }
    }
}

/// A condition variable (used with the context's one lock) that wakes
/// the threads blocked on one socket or one epoll container.
pub(crate) type Signal = Arc<Condvar>;

/// What `SRTO_RCVKMSTATE`, `SRTO_SNDKMSTATE`, `SRTO_PBKEYLEN` and
/// `SRTO_CRYPTOMODE` read once a socket connects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Security {
    pub(crate) rcv: i32,
    pub(crate) snd: i32,
    pub(crate) key_len: i32,
    pub(crate) crypto_mode: i32,
}

impl Security {
    /// A connection's, for a socket whose `SRTO_CRYPTOMODE` is `option`.
    pub(crate) fn of(c: &srt_proto::Connection, option: srt_proto::options::CryptoMode) -> Self {
        use srt_proto::options::CryptoMode;
        use srt_proto::packet::Cipher;
        // libsrt ≥ 1.5.2: the cipher in use; a caller's "auto" becomes
        // AES-CTR when it connects (core.cpp `startConnect`); an accepted
        // socket without a key exchange keeps its option.
        let crypto_mode = match c.cipher() {
            Some(Cipher::AesGcm) => CryptoMode::AesGcm,
            Some(Cipher::AesCtr) => CryptoMode::AesCtr,
            None if !c.is_accepted() && option == CryptoMode::Auto => CryptoMode::AesCtr,
            None => option,
        };
        Security {
            rcv: c.rcv_km_state() as i32,
            snd: c.snd_km_state() as i32,
            key_len: i32::from(c.key_len()),
            crypto_mode: crypto_mode as i32,
        }
    }
}

/// One SRT socket of the handle table.
pub(crate) struct Sock {
    /// Signalled when its readiness changes, its engine connection is
    /// gone, or it leaves the table.
    pub(crate) cond: Signal,
    pub(crate) status: SockStatus,
    pub(crate) opts: SocketOptions,
    /// The multiplexer it is bound to.
    pub(crate) mux: Option<usize>,
    /// Its connection in the multiplexer's engine.
    pub(crate) conn: Option<SocketId>,
    /// The shard of the multiplexer that holds `conn`.
    pub(crate) shard: usize,
    pub(crate) peer: Option<SocketAddr>,
    /// A message may be ready (the engine said so; cleared when a receive finds none).
    pub(crate) readable: bool,
    /// The send buffer has room (cleared when a send is refused).
    pub(crate) writable: bool,
    /// Why connecting failed.
    pub(crate) failed: Option<RejectReason>,
    /// The KM states and key length its connection was left with when
    /// connecting failed, read after the engine forgets it (libsrt keeps
    /// its crypto control until the socket is closed).
    pub(crate) failed_security: Option<Security>,
    /// Accepted sockets not yet returned by `accept`, for a listener.
    pub(crate) accept_queue: Option<VecDeque<SrtSocket>>,
    /// The listen callback to install when it listens (`srt_listen_callback`).
    pub(crate) hook: Option<ListenCallback>,
    /// Told when a connection attempt fails (`srt_connect_callback`).
    pub(crate) connect_callback: Option<ConnectCallback>,
    /// The readiness last computed (`SRT_EPOLL_*` bits).
    pub(crate) ready: i32,
    /// The epoll containers it is subscribed to.
    pub(crate) epolls: Vec<i32>,
    /// The engine has forgotten its connection (closed).
    pub(crate) engine_closed: bool,
    /// The connection broke because the peer closed it (SHUTDOWN).
    pub(crate) peer_closed: bool,
    /// Its connection was established (it may have broken since).
    pub(crate) was_connected: bool,
    /// When it was bound or accepted (libsrt's start time, `srt_connection_time`).
    pub(crate) opened_at: Option<Instant>,
    /// The group it is a member of (`srt_groupof`).
    pub(crate) group: Option<SrtSocket>,
    /// A group's type, or the type of a member's group (`SRTO_GROUPTYPE`).
    pub(crate) group_type: Option<crate::group::GroupType>,
}

impl Sock {
    pub(crate) fn new(opts: SocketOptions) -> Self {
        Sock {
            cond: Signal::default(),
            status: SockStatus::Init,
            opts,
            mux: None,
            conn: None,
            shard: 0,
            peer: None,
            readable: false,
            writable: false,
            failed: None,
            failed_security: None,
            accept_queue: None,
            hook: None,
            connect_callback: None,
            ready: 0,
            epolls: Vec::new(),
            engine_closed: false,
            peer_closed: false,
            was_connected: false,
            opened_at: None,
            group: None,
            group_type: None,
        }
    }

    /// Its readiness as `SRT_EPOLL_*` bits.
    fn readiness(&self) -> i32 {
        match self.status {
            SockStatus::Listening if self.accept_queue.as_ref().is_some_and(|q| !q.is_empty()) => {
                SRT_EPOLL_IN
            }
            SockStatus::Connected => {
                (if self.readable { SRT_EPOLL_IN } else { 0 })
                    | (if self.writable { SRT_EPOLL_OUT } else { 0 })
            }
            // As libsrt: a broken socket is ready for everything (the next call fails).
            SockStatus::Broken => SRT_EPOLL_IN | SRT_EPOLL_OUT | SRT_EPOLL_ERR,
            _ => 0,
        }
    }
}

/// What the handshake settled becomes the socket's options, as libsrt
/// reports them once connected: both latencies, and an accepted socket's
/// stream ID (the caller's).
fn adopt_negotiated(opts: &mut SocketOptions, conn: &Connection, accepted: bool) {
    if let Some(n) = conn.negotiated() {
        if let Some(l) = n.rcv_latency {
            opts.rcvlatency = l;
        }
        if let Some(l) = n.snd_latency {
            opts.peerlatency = l;
        }
    }
    if accepted {
        if let Ok(sid) = StreamId::new(conn.stream_id()) {
            opts.streamid = sid;
        }
    }
}

/// One UDP socket and the engine shards for every SRT socket on it.
pub(crate) struct Mux {
    pub(crate) port: Arc<Port>,
    /// The port's shards (the same list as `port.shards`).
    pub(crate) shards: Vec<Arc<Shard>>,
    pub(crate) local: SocketAddr,
    pub(crate) settings: UdpSettings,
    pub(crate) reuseaddr: bool,
    /// Sockets of the handle table bound to it.
    pub(crate) users: usize,
    pub(crate) listener: Option<SrtSocket>,
    /// Handle of each engine connection, by shard and connection.
    pub(crate) by_conn: FastMap<(usize, SocketId), SrtSocket>,
    /// The options the accept hook chose, in the order it accepted.
    pub(crate) hook_choices: HookChoices,
}

/// The options and socket ID a listen callback chose for each request it
/// accepted, by caller address, until the engine's `Accepted` event
/// claims them.
pub(crate) type HookChoices = Arc<Mutex<VecDeque<(SocketAddr, SocketOptions, SrtSocket)>>>;

/// The shortest wake-up tick of a live context (see [`State::wake_tick`]).
pub(crate) const LIVE_TICK_MIN: Duration = Duration::from_micros(500);
/// The longest: below the engine's 2 ms pacing catch-up window, so that a
/// sender woken a tick late still sends at its full rate.
pub(crate) const LIVE_TICK_MAX: Duration = Duration::from_micros(1875);

/// At most this many hook choices wait (requests the hook accepted but the
/// engine refused are never claimed).
const MAX_HOOK_CHOICES: usize = 1024;

/// A listen callback shared by the engine shards of a listening port
/// (their workers call it one at a time).
pub(crate) type SharedCallback = Arc<Mutex<ListenCallback>>;

/// Wraps an application's listen callback into the engine's accept hook:
/// the callback names the socket by the ID it will have, the options it
/// chose and that ID reach the accepted socket, and a callback that panics
/// refuses the caller (`SRT_REJ_PEER`) instead of stopping the worker.
pub(crate) fn recording_hook(
    hook: SharedCallback,
    choices: HookChoices,
    ids: Arc<Ids>,
) -> AcceptHook {
    Box::new(move |request, options| {
        let id = ids.next();
        let mut hook = hook.lock().unwrap_or_else(PoisonError::into_inner);
        let decision = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            (*hook)(id, request, options)
        }));
        drop(hook);
        decision.unwrap_or(Err(RejectReason::Peer))?;
        let mut q = choices.lock().unwrap_or_else(PoisonError::into_inner);
        if q.len() == MAX_HOOK_CHOICES {
            q.pop_front();
        }
        q.push_back((request.peer, options.clone(), id));
        Ok(())
    })
}

/// A hash map of the handle tables: foldhash, seeded per process, instead
/// of std's SipHash, which cost about 1,750 instructions per packet of a
/// live stream through the C library (several lookups per call and per
/// worker turn). The keys are our own socket, epoll and shard IDs, never
/// chosen by a peer.
pub(crate) type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// The state shared by the application's threads and the worker.
pub(crate) struct State {
    pub(crate) sockets: FastMap<SrtSocket, Sock>,
    pub(crate) ids: Arc<Ids>,
    pub(crate) muxes: Vec<Option<Mux>>,
    pub(crate) epolls: FastMap<i32, EpollSet>,
    pub(crate) next_eid: i32,
    pub(crate) shutdown: bool,
    /// A connection was made or ended since the workers' wake-up tick
    /// was last chosen ([`State::wake_tick`]).
    pub(crate) connections_changed: bool,
    /// The workers to wake (bit `w % 64` for worker `w`): an engine they
    /// run has new work.
    pub(crate) wakes: u64,
    /// Reused list of events drained from an engine.
    scratch: Vec<Event>,
    /// Socket groups, by group ID (each also has its entry in `sockets`).
    pub(crate) groups: FastMap<SrtSocket, crate::group::GroupState>,
    /// The last member token handed out.
    pub(crate) next_token: i32,
    /// The key every `SRTO_GROUPCONNECT` listener derives its mirror group
    /// IDs from (so members arriving on any shard or listener meet).
    pub(crate) group_key: Option<[u8; 32]>,
}

impl State {
    pub(crate) fn new(first_id: i32) -> Self {
        State {
            sockets: FastMap::default(),
            ids: Arc::new(Ids(AtomicI32::new(first_id.clamp(1, MAX_ID)))),
            muxes: Vec::new(),
            epolls: FastMap::default(),
            next_eid: 1,
            shutdown: false,
            connections_changed: true,
            wakes: 0,
            scratch: Vec::new(),
            groups: FastMap::default(),
            next_token: 0,
            group_key: None,
        }
    }

    /// The worker's wake-up tick: while every connected socket is a live
    /// one with TSBPD, the worker wakes at most once per tick and handles
    /// what arrived, what the application asked and what fell due in
    /// between together (a 64th of the largest latency, within
    /// [`LIVE_TICK_MIN`, `LIVE_TICK_MAX`]); zero (wake at once) when a
    /// file transfer runs or nothing is connected.
    pub(crate) fn wake_tick(&self) -> Duration {
        let mut latency: Option<Duration> = None;
        for s in self.sockets.values() {
            if s.status != SockStatus::Connected {
                continue;
            }
            if s.opts.transtype != TransType::Live || !s.opts.tsbpdmode {
                return Duration::ZERO;
            }
            let l = s.opts.rcvlatency.max(s.opts.peerlatency);
            latency = Some(latency.map_or(l, |m| m.max(l)));
        }
        latency.map_or(Duration::ZERO, |l| {
            (l / 64).clamp(LIVE_TICK_MIN, LIVE_TICK_MAX)
        })
    }

    /// A fresh socket ID: libsrt's count down from a random start, never a live one.
    pub(crate) fn new_id(&mut self) -> SrtSocket {
        loop {
            let id = self.ids.next();
            if !self.sockets.contains_key(&id) {
                return id;
            }
        }
    }

    /// Shard `k` of multiplexer `idx`, if both exist.
    pub(crate) fn shard(&self, idx: usize, k: usize) -> Option<Arc<Shard>> {
        self.muxes.get(idx)?.as_ref()?.shards.get(k).cloned()
    }

    /// Marks shard `k` of multiplexer `idx` for its worker's next turn
    /// (the caller touched its engine, and must not hold it locked), and
    /// moves the engine's events into the sockets.
    pub(crate) fn drain_events(&mut self, idx: usize, k: usize) {
        self.take_events(idx, k, true);
    }

    /// Moves the events of shard `k` of multiplexer `idx` (those its worker
    /// took first) into the sockets; the engine must not be locked.
    pub(crate) fn apply_pending(&mut self, idx: usize, k: usize) {
        self.take_events(idx, k, false);
    }

    fn take_events(&mut self, idx: usize, k: usize, touched: bool) {
        let Some(shard) = self.shard(idx, k) else {
            return;
        };
        let mut events = std::mem::take(&mut self.scratch);
        {
            let mut engine = shard.lock();
            if touched {
                engine.dirty = true;
            }
            engine.collect();
            events.append(&mut engine.pending);
        }
        if touched {
            self.wakes |= 1 << (shard.worker % 64);
        }
        for e in events.drain(..) {
            self.apply(idx, &shard, e);
        }
        self.scratch = events;
    }

    fn apply(&mut self, idx: usize, shard: &Shard, event: Event) {
        if matches!(
            event,
            Event::Connected { .. }
                | Event::Accepted { .. }
                | Event::Broken { .. }
                | Event::Closed { .. }
        ) {
            self.connections_changed = true;
        }
        let k = shard.index;
        let Some(mux) = self.muxes[idx].as_mut() else {
            return;
        };
        let connected = matches!(event, Event::Connected { .. });
        let change = match event {
            Event::Readable { .. } => crate::group::MemberChange::Readable,
            Event::Writable { .. } => crate::group::MemberChange::Writable,
            _ => crate::group::MemberChange::State,
        };
        let (conn, change_sock): (SocketId, fn(&mut Sock)) = match event {
            Event::Accepted { socket } => {
                self.accepted(idx, shard, socket);
                return;
            }
            Event::Connected { socket } => (socket, |s| {
                s.status = SockStatus::Connected;
                s.was_connected = true;
                s.writable = true;
            }),
            Event::ConnectFailed { socket, reason } => {
                if let Some(&h) = mux.by_conn.get(&(k, socket)) {
                    if let Some(s) = self.sockets.get_mut(&h) {
                        s.failed = Some(reason);
                        s.failed_security = shard
                            .lock()
                            .endpoint
                            .connection(socket)
                            .map(|c| Security::of(c, s.opts.cryptomode));
                        if let (Some(callback), Some(peer)) = (s.connect_callback.as_mut(), s.peer)
                        {
                            let failure = Error::Rejected(reason);
                            // A callback that panics must not stop the worker.
                            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                                callback(h, &failure, peer)
                            }));
                        }
                        // libsrt 1.5.1 reports a failed attempt as BROKEN
                        // (CUDTSocket::getStatus), although the API reference
                        // says it stays CONNECTING.
                        if s.status == SockStatus::Connecting {
                            s.status = SockStatus::Broken;
                        }
                    }
                }
                (socket, |_| {})
            }
            Event::Broken { socket, cause } => {
                if let Some(s) = mux
                    .by_conn
                    .get(&(k, socket))
                    .and_then(|h| self.sockets.get_mut(h))
                {
                    if matches!(s.status, SockStatus::Connected | SockStatus::Connecting) {
                        s.status = SockStatus::Broken;
                        s.peer_closed = cause == BreakCause::PeerShutdown;
                    }
                }
                (socket, |_| {})
            }
            Event::Readable { socket } => (socket, |s| s.readable = true),
            Event::Writable { socket } => (socket, |s| s.writable = true),
            Event::Closed { socket } => match mux.by_conn.remove(&(k, socket)) {
                Some(h) => {
                    if let Some(s) = self.sockets.get_mut(&h) {
                        s.engine_closed = true;
                        s.cond.notify_all();
                    }
                    return;
                }
                None => return,
            },
            _ => return,
        };
        let Some(&h) = mux.by_conn.get(&(k, conn)) else {
            return;
        };
        let member = self.sockets.get(&h).is_some_and(|s| s.group.is_some());
        if let Some(s) = self.sockets.get_mut(&h) {
            change_sock(s);
            if connected {
                if let Some(c) = shard.lock().endpoint.connection(conn) {
                    adopt_negotiated(&mut s.opts, c, false);
                }
            }
        }
        self.refresh(h);
        if member {
            self.member_changed(h, change);
        }
    }

    /// A listener's engine shard accepted `conn`: it gets a handle and
    /// waits in the accept queue.
    fn accepted(&mut self, idx: usize, shard: &Shard, conn: SocketId) {
        let mux = self.muxes[idx].as_mut().expect("checked by apply");
        let listener = mux.listener.filter(|l| {
            self.sockets
                .get(l)
                .is_some_and(|s| s.accept_queue.is_some())
        });
        let Some(l) = listener else {
            let mut engine = shard.lock();
            let _ = engine
                .endpoint
                .close(Instant::now(), conn, CloseMode::Abort);
            engine.dirty = true;
            self.wakes |= 1 << (shard.worker % 64);
            return;
        };
        let peer = shard.lock().endpoint.connection(conn).map(|c| c.remote());
        let chosen = {
            let mut q = mux
                .hook_choices
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            let mut found = None;
            while let Some((p, o, id)) = q.pop_front() {
                if Some(p) == peer {
                    found = Some((o, id));
                    break;
                }
            }
            found
        };
        // The ID the listen callback was told, unless a wrap-around gave it
        // to a live socket meanwhile.
        let (chosen, id) = match chosen {
            Some((o, id)) if !self.sockets.contains_key(&id) => (Some(o), id),
            other => (other.map(|(o, _)| o), self.new_id()),
        };
        let mux = self.muxes[idx].as_mut().expect("checked by apply");
        mux.users += 1;
        mux.by_conn.insert((shard.index, conn), id);
        let lsock = self.sockets.get_mut(&l).expect("checked above");
        let groupconnect = lsock.opts.groupconnect;
        let mut s = Sock::new(chosen.unwrap_or_else(|| lsock.opts.for_accepted()));
        if let Some(c) = shard.lock().endpoint.connection(conn) {
            adopt_negotiated(&mut s.opts, c, true);
        }
        s.status = SockStatus::Connected;
        s.writable = true;
        s.mux = Some(idx);
        s.conn = Some(conn);
        s.shard = shard.index;
        s.opened_at = Some(Instant::now());
        s.peer = peer;
        self.sockets.insert(id, s);
        // A group member joins its group; the first one's group is what
        // `accept` returns (plain callers are accepted as they are).
        let queued = if groupconnect {
            self.admit_member(id, idx, shard.index, conn)
        } else {
            Some(id)
        };
        if let Some(q) = queued {
            if let Some(queue) = self
                .sockets
                .get_mut(&l)
                .and_then(|s| s.accept_queue.as_mut())
            {
                queue.push_back(q);
            }
        }
        self.refresh(id);
        self.refresh(l);
    }

    /// Recomputes a socket's readiness and raises edges in its epoll subscriptions.
    pub(crate) fn refresh(&mut self, id: SrtSocket) {
        let Some(s) = self.sockets.get_mut(&id) else {
            return;
        };
        let ready = s.readiness();
        let old = std::mem::replace(&mut s.ready, ready);
        if ready == old {
            return;
        }
        s.cond.notify_all();
        for eid in &s.epolls {
            if let Some(e) = self.epolls.get_mut(eid) {
                if let Some(sub) = e.usocks.get_mut(&id) {
                    sub.readiness_changed(old, ready);
                }
                e.cond.notify_all();
            }
        }
    }

    /// Drops multiplexer `idx` (and closes its UDP socket) if no socket
    /// uses it and its engine holds no connection; returns whether it did.
    pub(crate) fn release_idle_mux(&mut self, idx: usize) -> bool {
        let idle = self.muxes[idx].as_ref().is_some_and(|m| {
            m.users == 0
                && m.shards
                    .iter()
                    .all(|s| s.lock().endpoint.connection_count() == 0)
        });
        if idle {
            self.force_release_mux(idx);
        }
        idle
    }

    /// Drops multiplexer `idx` and closes its UDP socket, whatever it holds.
    pub(crate) fn force_release_mux(&mut self, idx: usize) {
        let Some(m) = self.muxes.get_mut(idx).and_then(Option::take) else {
            return;
        };
        // No worker uses the socket once the write lock is ours; closing
        // it frees the port and takes it out of the worker's poll.
        m.port.closed.store(true, Ordering::Release);
        drop(
            m.port
                .udp
                .write()
                .unwrap_or_else(PoisonError::into_inner)
                .take(),
        );
        // The shards refer to their port: break the cycle.
        m.port
            .shards
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
        for s in &m.shards {
            // Its worker drops it at its next turn.
            self.wakes |= 1 << (s.worker % 64);
        }
    }

    /// Marks the context as shut down and wakes every waiting thread (they
    /// then fail with `SRT_ESCLOSED`).
    pub(crate) fn stop(&mut self) {
        self.shutdown = true;
        for s in self.sockets.values() {
            s.cond.notify_all();
        }
        for e in self.epolls.values() {
            e.cond.notify_all();
        }
    }

    /// Removes socket `u`'s subscription to container `eid`.
    pub(crate) fn unlink_epoll(&mut self, eid: i32, u: SrtSocket) {
        if let Some(e) = self.epolls.get_mut(&eid) {
            e.usocks.remove(&u);
            e.cond.notify_all();
        }
        if let Some(s) = self.sockets.get_mut(&u) {
            s.epolls.retain(|e| *e != eid);
        }
    }

    /// Removes a socket from every epoll container.
    pub(crate) fn unsubscribe_all(&mut self, id: SrtSocket) {
        let Some(s) = self.sockets.get_mut(&id) else {
            return;
        };
        for eid in s.epolls.drain(..) {
            if let Some(e) = self.epolls.get_mut(&eid) {
                e.usocks.remove(&id);
                e.cond.notify_all();
            }
        }
    }

    /// Takes a socket out of the handle table: closes its connection
    /// (`mode`), stops its listening, and releases its multiplexer.
    pub(crate) fn remove_socket(&mut self, id: SrtSocket, mode: CloseMode) {
        self.unsubscribe_all(id);
        let Some(s) = self.sockets.remove(&id) else {
            return;
        };
        if let Some(g) = s.group {
            self.leave_group(id, g);
        }
        // Whoever waits on it finds it gone.
        s.cond.notify_all();
        let Some(idx) = s.mux else {
            return;
        };
        if let Some(queue) = s.accept_queue {
            let mut count = 0;
            if let Some(mux) = self.muxes[idx].as_mut() {
                mux.listener = None;
                for shard in &mux.shards {
                    let mut engine = shard.lock();
                    engine.endpoint.stop_listening(Instant::now());
                }
                count = mux.shards.len();
            }
            for k in 0..count {
                self.drain_events(idx, k);
            }
            for q in queue {
                // An accepted group nobody took: its members go too (libsrt
                // closes the queued member sockets).
                if let Some(gs) = self.groups.remove(&q) {
                    for m in &gs.members {
                        if let Some(s) = self.sockets.get_mut(&m.id) {
                            s.group = None;
                        }
                        self.remove_socket(m.id, CloseMode::Abort);
                    }
                }
                self.remove_socket(q, CloseMode::Abort);
            }
        }
        if let Some(mux) = self.muxes[idx].as_mut() {
            if let Some(conn) = s.conn {
                if let Some(shard) = mux.shards.get(s.shard).filter(|_| !s.engine_closed) {
                    let mut engine = shard.lock();
                    let _ = engine.endpoint.close(Instant::now(), conn, mode);
                }
            }
            mux.users = mux.users.saturating_sub(1);
        }
        self.drain_events(idx, s.shard);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A connected socket with `transtype` and `latency`.
    fn connected(transtype: TransType, latency_ms: u64) -> Sock {
        let mut opts = match transtype {
            TransType::File => SocketOptions::file(),
            _ => SocketOptions::live(),
        };
        opts.rcvlatency = Duration::from_millis(latency_ms);
        let mut s = Sock::new(opts);
        s.status = SockStatus::Connected;
        s
    }

    #[test]
    fn the_wake_tick_coalesces_only_live_contexts() {
        let mut st = State::new(1000);
        // Nothing connected: wake at once (handshakes are not delayed).
        assert_eq!(st.wake_tick(), Duration::ZERO);
        st.sockets.insert(1, Sock::new(SocketOptions::default()));
        assert_eq!(st.wake_tick(), Duration::ZERO);
        // Live at the default 120 ms: a 64th, capped at 1.875 ms.
        st.sockets.insert(2, connected(TransType::Live, 120));
        assert_eq!(st.wake_tick(), LIVE_TICK_MAX);
        // The largest latency decides; small ones stop at the minimum.
        st.sockets.insert(3, connected(TransType::Live, 64));
        assert_eq!(st.wake_tick(), LIVE_TICK_MAX);
        st.sockets.remove(&2);
        assert_eq!(st.wake_tick(), Duration::from_millis(1));
        st.sockets.insert(4, connected(TransType::Live, 0));
        assert_eq!(st.wake_tick(), Duration::from_millis(1));
        st.sockets.remove(&3);
        assert_eq!(st.wake_tick(), LIVE_TICK_MIN);
        // One file transfer: no coalescing for anyone.
        st.sockets.insert(5, connected(TransType::File, 120));
        assert_eq!(st.wake_tick(), Duration::ZERO);
    }
}
