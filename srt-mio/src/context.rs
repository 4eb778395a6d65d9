//! [`Context`]: the handle table, the multiplexers, the worker, and the
//! socket calls of libsrt's API.

use crate::bind::{open_udp, overlap, Overlap, UdpSettings};
use crate::error::{code::*, AcquireError, Error};
use crate::shard::{shard_of, Port, Shard};
use crate::state::{
    recording_hook, ConnectCallback, ListenCallback, Mux, Security, Sock, SrtSocket, State,
};
use crate::worker;
use mio::{Interest, Poll, Registry, Token, Waker};
use srt_proto::options::{Congestion, OptionError, OptionValue, SockOpt, SocketPhase};
use srt_proto::packet::{PacketPosition, RejectReason, SocketId};
use srt_proto::seq::SeqNumber;
use srt_proto::stats::TraceBStats;
use srt_proto::{
    CloseMode, Endpoint, EndpointConfig, EndpointError, MsgCtrl, RecvError, RecvInfo, SendError,
    Sent, SocketOptions,
};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError, RwLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// A socket's state, numbered as libsrt's `SRT_SOCKSTATUS`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(i32)]
pub enum SockStatus {
    /// Created, not bound (`SRTS_INIT`).
    Init = 1,
    /// Bound, not in use yet (`SRTS_OPENED`).
    Opened,
    /// Listening (`SRTS_LISTENING`).
    Listening,
    /// Connecting; also after a non-blocking connect failed (`SRTS_CONNECTING`).
    Connecting,
    /// Connected (`SRTS_CONNECTED`).
    Connected,
    /// The connection broke (`SRTS_BROKEN`).
    Broken,
    /// Closing, lingering (`SRTS_CLOSING`).
    Closing,
    /// Closed (`SRTS_CLOSED`).
    Closed,
    /// No such socket (`SRTS_NONEXIST`).
    NonExist,
}

impl SockStatus {
    /// The phase the option checks of `srt_proto::options` expect.
    pub(crate) fn phase(self) -> SocketPhase {
        match self {
            SockStatus::Init => SocketPhase::Fresh,
            SockStatus::Opened => SocketPhase::Bound,
            SockStatus::Listening => SocketPhase::Listening,
            SockStatus::Connecting => SocketPhase::Connecting,
            SockStatus::Connected => SocketPhase::Connected,
            _ => SocketPhase::Broken,
        }
    }
}

/// What the workers and the application threads share.
pub(crate) struct Shared {
    state: Mutex<State>,
    /// The worker pool.
    pub(crate) workers: Vec<WorkerSlot>,
    /// The workers must stop.
    pub(crate) stopped: AtomicBool,
    /// The workers' wake-up tick in nanoseconds ([`State::wake_tick`]).
    pub(crate) tick_nanos: AtomicU64,
}

/// One worker of the pool, as the other threads reach it.
pub(crate) struct WorkerSlot {
    waker: Waker,
    /// A wake is on its way to the worker (so a burst of calls costs one system call).
    pub(crate) wake_pending: AtomicBool,
    registry: Registry,
    /// Shards given to the worker, not yet taken into its round.
    incoming: Mutex<Vec<Arc<Shard>>>,
    pub(crate) has_incoming: AtomicBool,
    /// How many shards it runs (to give a new one to the least loaded).
    pub(crate) load: AtomicUsize,
    /// Datagrams its engines have handled.
    pub(crate) datagrams: AtomicU64,
}

impl WorkerSlot {
    /// The shards given to it since it last looked.
    pub(crate) fn incoming(&self) -> Vec<Arc<Shard>> {
        std::mem::take(&mut *self.incoming.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

impl Shared {
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Tells worker `w` that an engine it runs has something new to send
    /// or a new timer, unless it has been told and not yet begun its next
    /// turn.
    pub(crate) fn wake(&self, w: usize) {
        if let Some(slot) = self.workers.get(w) {
            // Pairs with the fence after the worker clears `wake_pending`
            // (a store then loads of the flags: Dekker's pattern). Without
            // both, the worker's clear could still sit in its store buffer
            // while it reads a flag set before this call as unset, and
            // this swap read the old `true`: nobody wakes it.
            std::sync::atomic::fence(Ordering::SeqCst);
            if !slot.wake_pending.swap(true, Ordering::AcqRel) {
                let _ = slot.waker.wake();
            }
        }
    }

    /// After a change to the state: a new wake-up tick if connections
    /// came or went, and a wake for each worker whose engines were touched.
    pub(crate) fn settle(&self, st: &mut State) {
        if std::mem::take(&mut st.connections_changed) {
            let tick = st.wake_tick().as_nanos() as u64;
            self.tick_nanos.store(tick, Ordering::Relaxed);
        }
        let wakes = std::mem::take(&mut st.wakes);
        if wakes == 0 {
            return;
        }
        for w in 0..self.workers.len() {
            if wakes & (1 << (w % 64)) != 0 {
                self.wake(w);
            }
        }
    }

    /// Stops every worker (they see it at their next turn).
    pub(crate) fn stop_workers(&self) {
        self.stopped.store(true, Ordering::Release);
        for w in 0..self.workers.len() {
            self.wake(w);
        }
    }

    /// The worker running the fewest shards.
    fn least_loaded(&self) -> usize {
        (0..self.workers.len())
            .min_by_key(|&w| self.workers[w].load.load(Ordering::Relaxed))
            .unwrap_or(0)
    }

    /// Gives `shard` to its worker.
    fn assign(&self, shard: Arc<Shard>) {
        let slot = &self.workers[shard.worker];
        slot.load.fetch_add(1, Ordering::Relaxed);
        slot.incoming
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(shard.clone());
        slot.has_incoming.store(true, Ordering::Release);
        self.wake(shard.worker);
    }
}

/// Everything of one SRT "library instance": sockets, multiplexers, epoll
/// containers and the worker pool. Dropping it (or [`Context::shutdown`])
/// stops the workers and closes everything.
pub struct Context {
    pub(crate) shared: Arc<Shared>,
    workers: Mutex<Vec<JoinHandle<()>>>,
}

impl std::fmt::Debug for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let st = self.shared.lock();
        f.debug_struct("Context")
            .field("sockets", &st.sockets.len())
            .field("multiplexers", &st.muxes.iter().flatten().count())
            .field("workers", &self.shared.workers.len())
            .finish()
    }
}

/// The most workers a context runs.
pub const MAX_WORKERS: usize = 64;

/// The number of workers [`Context::new`] starts: `SRT_WORKERS` if set to
/// a number in 1..=[`MAX_WORKERS`], else one per core the process may use.
pub fn default_workers() -> usize {
    std::env::var("SRT_WORKERS")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|n| (1..=MAX_WORKERS).contains(n))
        .unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map_or(1, |n| n.get())
                .min(MAX_WORKERS)
        })
}

/// A fresh engine for a UDP socket bound at `local`: every random value
/// of it (socket IDs, ISNs, cookies, salts, keys) comes from 32 bytes of
/// the operating system's entropy.
fn new_endpoint(local: SocketAddr) -> Result<Endpoint, Error> {
    let mut entropy = [0u8; 32];
    getrandom::fill(&mut entropy)
        .map_err(|e| Error::system(SRT_ECONNSETUP, "getrandom", std::io::Error::other(e)))?;
    Ok(Endpoint::new(
        EndpointConfig::new(entropy),
        local,
        Instant::now(),
    ))
}

/// 32 random bits from the operating system.
fn random_u32() -> Result<u32, std::io::Error> {
    let mut b = [0u8; 4];
    getrandom::fill(&mut b).map_err(std::io::Error::other)?;
    Ok(u32::from_le_bytes(b))
}

fn einvsock() -> Error {
    Error::Srt(SRT_EINVSOCK)
}

impl Context {
    /// Starts a context and its worker pool (`srt_startup`): as many
    /// workers as [`default_workers`] says.
    pub fn new() -> Result<Context, Error> {
        Self::with_workers(default_workers())
    }

    /// Starts a context with `workers` worker threads (at least 1, at most
    /// [`MAX_WORKERS`]).
    pub fn with_workers(workers: usize) -> Result<Context, Error> {
        let setup = |what, e| Error::system(SRT_ECONNSETUP, what, e);
        let count = workers.clamp(1, MAX_WORKERS);
        let mut polls = Vec::with_capacity(count);
        let mut slots = Vec::with_capacity(count);
        for _ in 0..count {
            let poll = Poll::new().map_err(|e| setup("epoll_create", e))?;
            let waker =
                Waker::new(poll.registry(), worker::WAKER).map_err(|e| setup("eventfd", e))?;
            let registry = poll.registry().try_clone().map_err(|e| setup("dup", e))?;
            polls.push(poll);
            slots.push(WorkerSlot {
                waker,
                wake_pending: AtomicBool::new(false),
                registry,
                incoming: Mutex::new(Vec::new()),
                has_incoming: AtomicBool::new(false),
                load: AtomicUsize::new(0),
                datagrams: AtomicU64::new(0),
            });
        }
        let first_id =
            1 + (random_u32().map_err(|e| setup("getrandom", e))? % ((1 << 30) - 1)) as i32;
        let shared = Arc::new(Shared {
            state: Mutex::new(State::new(first_id)),
            workers: slots,
            stopped: AtomicBool::new(false),
            tick_nanos: AtomicU64::new(0),
        });
        let ctx = Context {
            shared: shared.clone(),
            workers: Mutex::new(Vec::with_capacity(count)),
        };
        for (i, poll) in polls.into_iter().enumerate() {
            let for_worker = shared.clone();
            let handle = std::thread::Builder::new()
                .name(format!("srt-mio-{i}"))
                .spawn(move || worker::run(for_worker, i, poll))
                .map_err(|e| Error::system(SRT_ETHREAD, "spawn", e))?;
            ctx.workers
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(handle);
        }
        Ok(ctx)
    }

    /// How many worker threads run the context's engines.
    pub fn workers(&self) -> usize {
        self.shared.workers.len()
    }

    /// How many datagrams each worker's engines have handled so far
    /// (index: worker), to see how the work spreads.
    pub fn worker_datagrams(&self) -> Vec<u64> {
        self.shared
            .workers
            .iter()
            .map(|w| w.datagrams.load(Ordering::Relaxed))
            .collect()
    }

    /// The worker that runs a socket's connection (or, for a socket with
    /// none, its multiplexer's first engine); `SRT_EUNBOUNDSOCK` if unbound.
    pub fn worker_of(&self, u: SrtSocket) -> Result<usize, Error> {
        let st = self.lock();
        let s = st.sockets.get(&u).ok_or_else(einvsock)?;
        let k = if s.conn.is_some() { s.shard } else { 0 };
        s.mux
            .and_then(|i| st.shard(i, k))
            .map(|shard| shard.worker)
            .ok_or(Error::Srt(SRT_EUNBOUNDSOCK))
    }

    /// Closes every socket and container and stops the workers (`srt_cleanup`); later calls fail.
    pub fn shutdown(&self) {
        {
            let mut st = self.shared.lock();
            let ids: Vec<SrtSocket> = st.sockets.keys().copied().collect();
            for id in ids {
                st.remove_socket(id, CloseMode::Abort);
            }
            st.stop();
            st.epolls.clear();
        }
        self.shared.stop_workers();
        let handles =
            std::mem::take(&mut *self.workers.lock().unwrap_or_else(PoisonError::into_inner));
        for h in handles {
            let _ = h.join();
        }
        let mut st = self.shared.lock();
        for mux in st.muxes.iter_mut().flatten() {
            mux.users = 0;
        }
        for idx in 0..st.muxes.len() {
            st.force_release_mux(idx);
        }
        st.muxes.clear();
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.shared.lock()
    }

    /// Waits until `cond` (a socket's or a container's) is signalled, or
    /// `deadline` (`None`: forever) passes (`SRT_ETIMEOUT`).
    pub(crate) fn wait<'a>(
        &'a self,
        guard: MutexGuard<'a, State>,
        cond: &Condvar,
        deadline: Option<Instant>,
    ) -> Result<MutexGuard<'a, State>, Error> {
        if guard.shutdown {
            return Err(Error::Srt(SRT_ESCLOSED));
        }
        match deadline {
            None => Ok(cond.wait(guard).unwrap_or_else(PoisonError::into_inner)),
            Some(d) => {
                let left = d.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Err(Error::Srt(SRT_ETIMEOUT));
                }
                let (g, _) = cond
                    .wait_timeout(guard, left)
                    .unwrap_or_else(PoisonError::into_inner);
                Ok(g)
            }
        }
    }

    // ----- sockets -----

    /// Creates a socket in state `SRTS_INIT` with libsrt's default options (`srt_create_socket`).
    pub fn create_socket(&self) -> Result<SrtSocket, Error> {
        let mut st = self.lock();
        if st.shutdown {
            return Err(Error::Srt(SRT_ESCLOSED));
        }
        let id = st.new_id();
        st.sockets.insert(id, Sock::new(SocketOptions::default()));
        Ok(id)
    }

    /// The socket's state (`srt_getsockstate`); `NonExist` for an unknown ID.
    pub fn state(&self, u: SrtSocket) -> SockStatus {
        self.lock()
            .sockets
            .get(&u)
            .map_or(SockStatus::NonExist, |s| s.status)
    }

    /// Binds a socket to a local address (`srt_bind`), with libsrt's rules
    /// for shared, side and wildcard bindings.
    pub fn bind(&self, u: SrtSocket, addr: SocketAddr) -> Result<(), Error> {
        let mut st = self.lock();
        self.bind_locked(&mut st, u, addr)
    }

    pub(crate) fn bind_locked(
        &self,
        st: &mut State,
        u: SrtSocket,
        addr: SocketAddr,
    ) -> Result<(), Error> {
        let s = st.sockets.get(&u).ok_or_else(einvsock)?;
        if s.status != SockStatus::Init {
            return Err(Error::Srt(SRT_EINVOP));
        }
        let wildcard6 = matches!(addr, SocketAddr::V6(a) if a.ip().is_unspecified());
        s.opts.validate_for_bind(wildcard6)?;
        let opts = s.opts.clone();
        let idx = self.attach(st, addr, &opts)?;
        let s = st.sockets.get_mut(&u).expect("checked above");
        s.mux = Some(idx);
        s.status = SockStatus::Opened;
        s.opened_at = Some(Instant::now());
        Ok(())
    }

    /// Binds a socket to an existing UDP socket (`srt_bind_acquire`), which
    /// the context then owns and closes with its last SRT socket; a connected
    /// UDP socket is refused (`SRT_EINVPARAM`). On failure the UDP socket is
    /// given back in the error.
    pub fn bind_acquire(&self, u: SrtSocket, udp: UdpSocket) -> Result<(), AcquireError> {
        let mut st = self.lock();
        let refuse = |error, socket| Err(AcquireError { error, socket });
        let Some(s) = st.sockets.get(&u) else {
            return refuse(einvsock(), udp);
        };
        if s.status != SockStatus::Init {
            return refuse(Error::Srt(SRT_EINVOP), udp);
        }
        let opts = s.opts.clone();
        if udp.peer_addr().is_ok() {
            // SRT must choose each datagram's destination itself.
            return refuse(Error::Srt(SRT_EINVPARAM), udp);
        }
        if let Err(e) = udp.set_nonblocking(true) {
            return refuse(Error::system(SRT_ESOCKFAIL, "O_NONBLOCK", e), udp);
        }
        let idx = self
            .add_mux(&mut st, udp, &opts)
            .map_err(|(error, socket)| AcquireError { error, socket })?;
        let s = st.sockets.get_mut(&u).expect("checked above");
        s.mux = Some(idx);
        s.status = SockStatus::Opened;
        s.opened_at = Some(Instant::now());
        Ok(())
    }

    /// The multiplexer a socket with `opts` bound to `addr` uses: a
    /// shareable existing one, or a new UDP socket.
    fn attach(
        &self,
        st: &mut State,
        addr: SocketAddr,
        opts: &SocketOptions,
    ) -> Result<usize, Error> {
        // A port whose last socket closed is free again at once.
        for idx in 0..st.muxes.len() {
            st.release_idle_mux(idx);
        }
        if addr.port() != 0 {
            let settings = UdpSettings::of(opts);
            let mut share = None;
            for (i, m) in st.muxes.iter().enumerate() {
                let Some(m) = m else { continue };
                match overlap(addr, opts.driver.ipv6only, m.local, m.settings.ipv6only) {
                    Overlap::Free => {}
                    Overlap::Blocked => return Err(Error::Srt(SRT_EBINDCONFLICT)),
                    Overlap::Shareable => {
                        if !(m.reuseaddr && opts.driver.reuseaddr && m.settings == settings) {
                            return Err(Error::Srt(SRT_EBINDCONFLICT));
                        }
                        share = Some(i);
                    }
                }
            }
            if let Some(i) = share {
                if let Some(m) = st.muxes[i].as_mut() {
                    m.users += 1;
                }
                return Ok(i);
            }
        }
        let udp = open_udp(addr, opts)?;
        self.add_mux(st, udp, opts).map_err(|(e, _)| e)
    }

    /// A new multiplexer on `udp` (non-blocking), registered with the worker.
    fn add_mux(
        &self,
        st: &mut State,
        udp: UdpSocket,
        opts: &SocketOptions,
    ) -> Result<usize, (Error, UdpSocket)> {
        let local = match udp.local_addr() {
            Ok(local) => local,
            Err(e) => return Err((Error::system(SRT_ESOCKFAIL, "getsockname", e), udp)),
        };
        let endpoint = match new_endpoint(local) {
            Ok(e) => e,
            Err(e) => return Err((e, udp)),
        };
        // Batched reads (recvmmsg, GRO) and sends (GSO) on this socket.
        let udp_state = match srt_udp::UdpSocketState::new((&udp).into()) {
            Ok(state) => state,
            Err(e) => return Err((Error::system(SRT_ESOCKFAIL, "setsockopt", e), udp)),
        };
        let idx = match st.muxes.iter().position(Option::is_none) {
            Some(i) => i,
            None => {
                st.muxes.push(None);
                st.muxes.len() - 1
            }
        };
        let reader = self.shared.least_loaded();
        let mut udp = mio::net::UdpSocket::from_std(udp);
        if let Err(e) =
            self.shared.workers[reader]
                .registry
                .register(&mut udp, Token(idx), Interest::READABLE)
        {
            let udp = UdpSocket::from(std::os::fd::OwnedFd::from(udp));
            return Err((Error::system(SRT_ECONNSETUP, "epoll_ctl", e), udp));
        }
        let port = Arc::new(Port {
            udp: RwLock::new(Some(udp)),
            udp_state,
            shards: RwLock::new(Vec::new()),
            index: idx,
            readable: AtomicBool::new(true),
            closed: AtomicBool::new(false),
        });
        let shard = Arc::new(Shard::new(endpoint, reader, 0, port.clone()));
        port.shards
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .push(shard.clone());
        self.shared.assign(shard.clone());
        st.muxes[idx] = Some(Mux {
            port,
            shards: vec![shard],
            local,
            settings: UdpSettings::of(opts),
            reuseaddr: opts.driver.reuseaddr,
            users: 1,
            listener: None,
            by_conn: Default::default(),
            hook_choices: Default::default(),
        });
        Ok(idx)
    }

    /// Before a port starts listening: gives it one engine shard per
    /// worker, each run by another worker, so that its connections (by
    /// their callers' addresses) spread over the pool. Only a port whose
    /// one engine holds no connection yet is spread (an existing
    /// connection's datagrams must keep reaching it).
    fn spread(&self, mux: &mut Mux) -> Result<(), Error> {
        let workers = self.shared.workers.len();
        if workers < 2
            || mux.shards.len() != 1
            || mux.shards[0].lock().endpoint.connection_count() != 0
        {
            return Ok(());
        }
        let first = mux.shards[0].worker;
        for k in 1..workers {
            let endpoint = new_endpoint(mux.local)?;
            let worker = (first + k) % workers;
            mux.shards
                .push(Arc::new(Shard::new(endpoint, worker, k, mux.port.clone())));
        }
        *mux.port
            .shards
            .write()
            .unwrap_or_else(PoisonError::into_inner) = mux.shards.clone();
        for shard in &mux.shards[1..] {
            self.shared.assign(shard.clone());
        }
        Ok(())
    }

    /// The local address a socket is bound to (`srt_getsockname`); for a
    /// connected socket bound to a wildcard address, as libsrt since
    /// 1.5.2, the address its connection uses (`127.0.0.1:P`, or
    /// `::ffff:127.0.0.1` for an IPv4 peer of an IPv6 socket).
    pub fn local_addr(&self, u: SrtSocket) -> Result<SocketAddr, Error> {
        let st = self.lock();
        let s = st.sockets.get(&u).ok_or_else(einvsock)?;
        let local = s
            .mux
            .and_then(|i| st.muxes[i].as_ref())
            .map(|m| m.local)
            .ok_or(Error::Srt(SRT_EUNBOUNDSOCK))?;
        match (s.status, s.peer) {
            (SockStatus::Connected | SockStatus::Broken, Some(peer))
                if local.ip().is_unspecified() =>
            {
                Ok(SocketAddr::new(source_ip(local, peer), local.port()))
            }
            _ => Ok(local),
        }
    }

    /// The peer's address of a connected socket (`srt_getpeername`).
    pub fn peer_addr(&self, u: SrtSocket) -> Result<SocketAddr, Error> {
        let st = self.lock();
        let s = st.sockets.get(&u).ok_or_else(einvsock)?;
        match s.status {
            SockStatus::Connected | SockStatus::Broken => s.peer.ok_or(Error::Srt(SRT_ENOCONN)),
            _ => Err(Error::Srt(SRT_ENOCONN)),
        }
    }

    /// When the socket was bound, or accepted (`srt_connection_time`, as
    /// libsrt's start time); `None` before.
    pub fn opened_at(&self, u: SrtSocket) -> Result<Option<Instant>, Error> {
        let st = self.lock();
        Ok(st.sockets.get(&u).ok_or_else(einvsock)?.opened_at)
    }

    /// Why the socket's connection attempt failed (`srt_getrejectreason`).
    pub fn reject_reason(&self, u: SrtSocket) -> Result<Option<RejectReason>, Error> {
        let st = self.lock();
        Ok(st.sockets.get(&u).ok_or_else(einvsock)?.failed)
    }

    // ----- options -----

    /// Sets an option (`srt_setsockopt`), refused as libsrt does when the
    /// socket's state no longer allows it (pre-bind, pre).
    pub fn set_option(&self, u: SrtSocket, opt: SockOpt, value: OptionValue) -> Result<(), Error> {
        if crate::group::is_group(u) {
            return self.group_set_option(u, opt, value);
        }
        let mut st = self.lock();
        let s = st.sockets.get_mut(&u).ok_or_else(einvsock)?;
        s.opts.set_in_phase(s.status.phase(), opt, value)?;
        self.apply_to_engine(&mut st, u, Some(opt));
        Ok(())
    }

    /// Changes options with `SocketOptions`' typed builders, for example
    /// `ctx.configure(u, |o| o.latency_ms(200))`. Refused, with nothing
    /// changed, if any option it changes may no longer be set in the
    /// socket's state (as [`set_option`](Self::set_option) would refuse it).
    /// `f` runs with the context locked: it must not call the context.
    pub fn configure(
        &self,
        u: SrtSocket,
        f: impl FnOnce(SocketOptions) -> Result<SocketOptions, OptionError>,
    ) -> Result<(), Error> {
        let mut st = self.lock();
        let s = st.sockets.get_mut(&u).ok_or_else(einvsock)?;
        let new = f(s.opts.clone())?;
        let phase = s.status.phase();
        for &opt in SockOpt::ALL {
            let changed = match (s.opts.get(opt), new.get(opt)) {
                (Ok(a), Ok(b)) => a != b,
                // Write-only: SRTO_PASSPHRASE (SRTO_TRANSTYPE shows in the others).
                _ => opt == SockOpt::Passphrase && s.opts.passphrase != new.passphrase,
            };
            if changed {
                SocketOptions::check_settable(opt, phase)?;
            }
        }
        new.validate()?;
        s.opts = new;
        self.apply_to_engine(&mut st, u, None);
        Ok(())
    }

    /// Hands a socket's options to its engine connection, so that those
    /// libsrt lets change after connecting (`SRTO_MAXBW` and the like, see
    /// [`srt_proto::Connection::apply_options`]) take effect at once, and
    /// wakes the worker for the connection's new timing. `set`: the option
    /// `srt_setsockopt` set, whose post action runs even for the same value.
    pub(crate) fn apply_to_engine(&self, st: &mut State, u: SrtSocket, set: Option<SockOpt>) {
        let Some(s) = st.sockets.get(&u) else {
            return;
        };
        let (Some(idx), Some(conn), k) = (s.mux, s.conn, s.shard) else {
            return;
        };
        let Some(shard) = st.shard(idx, k) else {
            return;
        };
        let applied = shard
            .lock()
            .endpoint
            .apply_options(Instant::now(), conn, &s.opts, set);
        if applied.is_ok() {
            st.drain_events(idx, k);
            self.shared.settle(st);
        }
    }

    /// Reads an option (`srt_getsockopt`). The read-only ones that report
    /// the connection are answered from it: `SRTO_STATE`, `SRTO_EVENT`,
    /// `SRTO_SNDDATA`, `SRTO_RCVDATA`, `SRTO_KMSTATE`, `SRTO_SNDKMSTATE`,
    /// `SRTO_RCVKMSTATE`, `SRTO_PEERVERSION` (0 before connecting), and
    /// `SRTO_PBKEYLEN` (the key length in use, as libsrt), `SRTO_PACKETFILTER`
    /// (the agreed filter once connected). After a failed
    /// attempt the KM states and key length are those it was left with.
    pub fn get_option(&self, u: SrtSocket, opt: SockOpt) -> Result<OptionValue, Error> {
        if opt == SockOpt::GroupType {
            return self.group_type_of(u);
        }
        let st = self.lock();
        let s = st.sockets.get(&u).ok_or_else(einvsock)?;
        let (status, ready, idx, conn) = (s.status, s.ready, s.mux, s.conn);
        let (failed_security, cryptomode) = (s.failed_security, s.opts.cryptomode);
        let int = |v: i32| Ok(OptionValue::Int(v));
        let shard = idx.and_then(|i| st.shard(i, s.shard));
        let mut engine = shard.as_ref().map(|s| s.lock());
        let connection = match (&engine, conn) {
            (Some(e), Some(c)) => e.endpoint.connection(c),
            _ => None,
        };
        match opt {
            SockOpt::State => int(status as i32),
            SockOpt::Event => int(ready),
            SockOpt::KmState
            | SockOpt::RcvKmState
            | SockOpt::SndKmState
            | SockOpt::PbKeyLen
            | SockOpt::CryptoMode
                if connection.is_some() || failed_security.is_some() =>
            {
                let sec = connection.map_or(failed_security, |c| Some(Security::of(c, cryptomode)));
                let sec = sec.expect("checked above");
                int(match opt {
                    SockOpt::SndKmState => sec.snd,
                    SockOpt::PbKeyLen => sec.key_len,
                    SockOpt::CryptoMode => sec.crypto_mode,
                    _ => sec.rcv,
                })
            }
            // Before connecting: unsecured, and the option's value.
            SockOpt::KmState | SockOpt::RcvKmState | SockOpt::SndKmState => int(0),
            // Once connected, the filter the handshake agreed (libsrt
            // rewrites the option with the adopted or merged configuration).
            SockOpt::PacketFilter if connection.and_then(|c| c.negotiated()).is_some() => {
                let n = connection.and_then(|c| c.negotiated()).expect("checked");
                let text = n.filter.as_ref().map_or("", |f| f.text.as_str());
                Ok(OptionValue::Str(text.as_bytes().to_vec()))
            }
            SockOpt::PeerVersion => int(connection
                .and_then(|c| c.negotiated())
                .map_or(0, |n| n.peer_version.0 as i32)),
            SockOpt::SndData | SockOpt::RcvData => {
                let stats = match (engine.as_mut(), conn) {
                    // libsrt reads the buffers' current sizes.
                    (Some(e), Some(c)) => {
                        e.endpoint
                            .socket_stats_instant(Instant::now(), c, false, true)
                    }
                    _ => None,
                };
                int(stats.map_or(0, |t| match opt {
                    SockOpt::SndData => t.pkt_snd_buf,
                    _ => t.pkt_rcv_buf,
                }))
            }
            _ => {
                let s = st.sockets.get(&u).ok_or_else(einvsock)?;
                Ok(s.opts.get(opt)?)
            }
        }
    }

    /// A copy of all of a socket's options.
    pub fn options(&self, u: SrtSocket) -> Result<SocketOptions, Error> {
        let st = self.lock();
        Ok(st.sockets.get(&u).ok_or_else(einvsock)?.opts.clone())
    }

    /// The socket's statistics (`srt_bstats`: buffer fields are moving averages); `clear` starts a new interval.
    pub fn stats(&self, u: SrtSocket, clear: bool) -> Result<TraceBStats, Error> {
        self.stats_instant(u, clear, false)
    }

    /// The socket's statistics (`srt_bistats`): with `instantaneous`, the buffer fields are current values, else moving averages.
    pub fn stats_instant(
        &self,
        u: SrtSocket,
        clear: bool,
        instantaneous: bool,
    ) -> Result<TraceBStats, Error> {
        if crate::group::is_group(u) {
            return self.group_bstats(u, clear);
        }
        let st = self.lock();
        let s = st.sockets.get(&u).ok_or_else(einvsock)?;
        let shard = s.mux.and_then(|i| st.shard(i, s.shard));
        match (shard, s.conn) {
            (Some(shard), Some(c)) => shard
                .lock()
                .endpoint
                .socket_stats_instant(Instant::now(), c, clear, instantaneous)
                .ok_or(Error::Srt(SRT_ENOCONN)),
            _ => Err(Error::Srt(SRT_ENOCONN)),
        }
    }

    // ----- listening -----

    /// Installs the listen callback (`srt_listen_callback`): it sees every
    /// connection request with the ID the accepted socket will have, may
    /// change the new socket's options (the accepted socket then has
    /// them), and accepts or rejects with a reason. It takes effect when
    /// (or if) the socket listens.
    ///
    /// The callback runs on a worker thread while the engine is locked:
    /// it must not call this `Context` (that would deadlock).
    pub fn set_listen_callback(&self, u: SrtSocket, hook: ListenCallback) -> Result<(), Error> {
        let mut st = self.lock();
        let s = st.sockets.get_mut(&u).ok_or_else(einvsock)?;
        if !matches!(s.status, SockStatus::Init | SockStatus::Opened) {
            // libsrt 1.5.4+: the callback could miss connections.
            return Err(Error::Srt(SRT_ECONNSOCK));
        }
        s.hook = Some(hook);
        Ok(())
    }

    /// Installs (or with `None` removes) the callback told when a
    /// connection attempt of this socket fails (`srt_connect_callback`);
    /// only before connecting (`SRT_ECONNSOCK` after).
    pub fn set_connect_callback(
        &self,
        u: SrtSocket,
        callback: Option<ConnectCallback>,
    ) -> Result<(), Error> {
        let mut st = self.lock();
        let s = st.sockets.get_mut(&u).ok_or_else(einvsock)?;
        if !matches!(s.status, SockStatus::Init | SockStatus::Opened) {
            return Err(Error::Srt(SRT_ECONNSOCK));
        }
        s.connect_callback = callback;
        Ok(())
    }

    /// Starts listening with room for `backlog` connections waiting to be accepted (`srt_listen`).
    pub fn listen(&self, u: SrtSocket, backlog: i32) -> Result<(), Error> {
        let mut st = self.lock();
        let s = st.sockets.get_mut(&u).ok_or_else(einvsock)?;
        if backlog <= 0 {
            return Err(Error::Srt(SRT_EINVPARAM));
        }
        if s.status == SockStatus::Listening {
            return Ok(());
        }
        s.opts.validate_for_listen(s.status.phase())?;
        let idx = s.mux.ok_or(Error::Srt(SRT_EUNBOUNDSOCK))?;
        let hook = s.hook.take();
        let opts = s.opts.clone();
        let ids = st.ids.clone();
        if opts.groupconnect && st.group_key.is_none() {
            let mut key = [0u8; 32];
            getrandom::fill(&mut key).map_err(|e| {
                Error::system(SRT_ECONNSETUP, "getrandom", std::io::Error::other(e))
            })?;
            st.group_key = Some(key);
        }
        let group_key = st.group_key;
        let mux = st.muxes[idx].as_mut().ok_or(Error::Srt(SRT_EINVOP))?;
        if mux.listener.is_some() {
            return Err(Error::Srt(SRT_EDUPLISTEN));
        }
        self.spread(mux)?;
        let hook = hook.map(|h| Arc::new(Mutex::new(h)));
        for shard in &mux.shards {
            let mut engine = shard.lock();
            engine
                .endpoint
                .listen(&opts, backlog as usize)
                .map_err(|_| Error::Srt(SRT_EDUPLISTEN))?;
            if let Some(key) = group_key.filter(|_| opts.groupconnect) {
                // Every shard and listener answers a peer group alike.
                engine.endpoint.set_group_key(key);
            }
            if let Some(hook) = &hook {
                let hook = recording_hook(hook.clone(), mux.hook_choices.clone(), ids.clone());
                let _ = engine.endpoint.set_accept_hook(Some(hook));
            }
        }
        mux.listener = Some(u);
        let s = st.sockets.get_mut(&u).expect("checked above");
        s.status = SockStatus::Listening;
        s.accept_queue = Some(Default::default());
        Ok(())
    }

    /// Takes the next accepted connection (`srt_accept`): its socket and
    /// the peer's address. Blocks until one comes if the listener has
    /// `SRTO_RCVSYN` (as libsrt, without a timeout; closing the listener
    /// ends the wait with `SRT_ESCLOSED`); otherwise `SRT_EASYNCRCV` when
    /// none is waiting.
    pub fn accept(&self, lsn: SrtSocket) -> Result<(SrtSocket, SocketAddr), Error> {
        self.accept_fitting(lsn, |_| true)
    }

    /// [`Context::accept`], but if `fits` refuses the next connection's
    /// peer address (the caller's buffer is too small for it), fails with
    /// `SRT_EINVPARAM` and leaves the connection queued (libsrt 1.5.4+).
    pub fn accept_fitting(
        &self,
        lsn: SrtSocket,
        fits: impl Fn(SocketAddr) -> bool,
    ) -> Result<(SrtSocket, SocketAddr), Error> {
        let mut st = self.lock();
        let mut waited = false;
        loop {
            let Some(s) = st.sockets.get_mut(&lsn) else {
                // Closed while we waited, or never there.
                return Err(Error::Srt(if waited { SRT_ESCLOSED } else { SRT_EINVSOCK }));
            };
            let Some(queue) = s.accept_queue.as_mut() else {
                return Err(Error::Srt(SRT_ENOLISTEN));
            };
            if let Some(&id) = queue.front() {
                let peer = st.sockets.get(&id).and_then(|a| a.peer);
                let peer = peer.unwrap_or(SocketAddr::from(([0, 0, 0, 0], 0)));
                if !fits(peer) {
                    return Err(Error::Srt(SRT_EINVPARAM));
                }
                let s = st.sockets.get_mut(&lsn).expect("looked up above");
                if let Some(q) = s.accept_queue.as_mut() {
                    q.pop_front();
                }
                let accepted = st.sockets.get(&id).map(|a| (a.mux, a.shard));
                if let Some(shard) = accepted.and_then(|(i, k)| st.shard(i?, k)) {
                    // Keep the engine's queue (its backlog count) in step.
                    let _ = shard.lock().endpoint.accept();
                }
                st.refresh(lsn);
                return Ok((id, peer));
            }
            if !s.opts.driver.rcvsyn {
                return Err(Error::Srt(SRT_EASYNCRCV));
            }
            waited = true;
            let cond = s.cond.clone();
            st = self.wait(st, &cond, None)?;
        }
    }

    // ----- connecting -----

    /// Connects to a listener, or to a rendezvous peer if `SRTO_RENDEZVOUS`
    /// is set (`srt_connect`). An unbound socket is bound to the wildcard
    /// address, port 0. Blocks until connected or failed if `SRTO_RCVSYN`;
    /// after a blocking failure the socket is `SRTS_OPENED` again and may
    /// connect anew, after a non-blocking one it is `SRTS_BROKEN` (as
    /// libsrt 1.5.1) and its epoll subscriptions see `SRT_EPOLL_ERR`.
    pub fn connect(&self, u: SrtSocket, target: SocketAddr) -> Result<(), Error> {
        self.connect_from(u, None, target, None)
    }

    /// [`Context::connect`] with a chosen initial sequence number, at most
    /// `0x7FFF_FFFF` (`srt_connect_debug`'s forced ISN); a larger one is
    /// `SRT_EINVPARAM`.
    pub fn connect_debug(&self, u: SrtSocket, target: SocketAddr, isn: u32) -> Result<(), Error> {
        let isn = SeqNumber::new(isn).ok_or(Error::Srt(SRT_EINVPARAM))?;
        self.connect_from(u, None, target, Some(isn))
    }

    /// Binds to `source`, then connects to `target` (`srt_connect_bind`).
    pub fn connect_bind(
        &self,
        u: SrtSocket,
        source: SocketAddr,
        target: SocketAddr,
    ) -> Result<(), Error> {
        self.connect_from(u, Some(source), target, None)
    }

    /// Sets `SRTO_RENDEZVOUS`, binds to `local` and connects to `remote` (`srt_rendezvous`).
    pub fn rendezvous(
        &self,
        u: SrtSocket,
        local: SocketAddr,
        remote: SocketAddr,
    ) -> Result<(), Error> {
        self.set_option(u, SockOpt::Rendezvous, OptionValue::Bool(true))?;
        // libsrt's srt_rendezvous checks the families before binding.
        if local.is_ipv4() != remote.is_ipv4() {
            return Err(Error::Srt(SRT_EINVPARAM));
        }
        self.connect_from(u, Some(local), remote, None)
    }

    fn connect_from(
        &self,
        u: SrtSocket,
        source: Option<SocketAddr>,
        target: SocketAddr,
        isn: Option<SeqNumber>,
    ) -> Result<(), Error> {
        let mut st = self.lock();
        if let Some(src) = source {
            // As libsrt's connect(u, source, target): bind, then connect,
            // whose family check refuses a mixed pair (the socket stays bound).
            self.bind_locked(&mut st, u, src)?;
        }
        let s = st.sockets.get(&u).ok_or_else(einvsock)?;
        s.opts.validate_for_connect(s.status.phase())?;
        let opts = s.opts.clone();
        let idx = match s.mux {
            Some(i) => i,
            None => {
                let any = match target.ip() {
                    IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
                    IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
                };
                let i = self.attach(&mut st, SocketAddr::new(any, 0), &opts)?;
                let s = st.sockets.get_mut(&u).expect("checked above");
                s.mux = Some(i);
                s.status = SockStatus::Opened;
                i
            }
        };
        let mux = st.muxes[idx].as_mut().ok_or(Error::Srt(SRT_EINVOP))?;
        if mux.local.is_ipv4() != target.is_ipv4() {
            // libsrt: "bound to a different family than target address".
            return Err(Error::Srt(SRT_EINVPARAM));
        }
        // The shard that receives the target's datagrams.
        let k = shard_of(target, mux.shards.len());
        let conn = {
            let mut engine = mux.shards[k].lock();
            // Read under the engine's lock: an engine's clock never goes
            // back, though its worker and calls take turns at it.
            let now = Instant::now();
            if opts.rendezvous {
                engine.endpoint.rendezvous_with_isn(now, target, &opts, isn)
            } else {
                engine.endpoint.connect_with_isn(now, target, &opts, isn)
            }
        }
        .map_err(|e| match e {
            EndpointError::TooManyConnections => Error::Srt(SRT_ERESOURCE),
            _ => Error::Srt(SRT_EINVOP),
        })?;
        mux.by_conn.insert((k, conn), u);
        let s = st.sockets.get_mut(&u).expect("checked above");
        s.conn = Some(conn);
        s.shard = k;
        s.peer = Some(target);
        s.failed = None;
        s.failed_security = None;
        s.status = SockStatus::Connecting;
        let blocking = s.opts.driver.rcvsyn;
        st.drain_events(idx, k);
        st.refresh(u);
        self.shared.settle(&mut st);
        if !blocking {
            return Ok(());
        }
        loop {
            let Some(s) = st.sockets.get_mut(&u) else {
                return Err(Error::Srt(SRT_ESCLOSED));
            };
            match (s.status, s.failed) {
                (SockStatus::Connected, _) => return Ok(()),
                // As libsrt: established, even if the peer closed it
                // before this thread woke (a listener that accepts and
                // closes at once).
                (SockStatus::Broken, _) if s.was_connected => return Ok(()),
                (SockStatus::Broken, Some(reason)) => {
                    // As libsrt's connectIn: the socket is OPENED again
                    // and may connect anew.
                    s.status = SockStatus::Opened;
                    let conn = s.conn.take();
                    if let (Some(m), Some(c)) = (st.muxes[idx].as_mut(), conn) {
                        m.by_conn.remove(&(k, c));
                        let _ =
                            m.shards[k]
                                .lock()
                                .endpoint
                                .close(Instant::now(), c, CloseMode::Abort);
                    }
                    st.drain_events(idx, k);
                    st.refresh(u);
                    self.shared.settle(&mut st);
                    return Err(Error::Rejected(reason));
                }
                (SockStatus::Connecting, _) => {
                    let cond = s.cond.clone();
                    st = self.wait(st, &cond, None)?;
                }
                _ => return Err(Error::Srt(SRT_ECONNLOST)),
            }
        }
    }

    // ----- transmission -----

    /// The multiplexer and connection of a socket that can transfer data.
    fn transfer_target(
        st: &State,
        u: SrtSocket,
        recv: bool,
    ) -> Result<(usize, Arc<Shard>, SocketId), Error> {
        let s = st.sockets.get(&u).ok_or_else(einvsock)?;
        match s.status {
            SockStatus::Connected => {}
            SockStatus::Broken if recv => {}
            SockStatus::Broken => return Err(Error::Srt(SRT_ECONNLOST)),
            SockStatus::Closing | SockStatus::Closed => return Err(einvsock()),
            _ => return Err(Error::Srt(SRT_ENOCONN)),
        }
        match (s.mux, s.conn) {
            (Some(i), Some(c)) => match st.shard(i, s.shard) {
                Some(shard) => Ok((i, shard, c)),
                None => Err(Error::Srt(SRT_ENOCONN)),
            },
            _ => Err(Error::Srt(SRT_ENOCONN)),
        }
    }

    /// Waits until `ready` holds for connected socket `u`, or it is no
    /// longer connected, or `deadline` passes (`SRT_ETIMEOUT`).
    fn wait_connected<'a>(
        &'a self,
        mut st: MutexGuard<'a, State>,
        u: SrtSocket,
        deadline: Option<Instant>,
        ready: fn(&Sock) -> bool,
    ) -> Result<MutexGuard<'a, State>, Error> {
        loop {
            let cond = match st.sockets.get(&u) {
                Some(s) if !ready(s) && s.status == SockStatus::Connected => s.cond.clone(),
                _ => return Ok(st),
            };
            st = self.wait(st, &cond, deadline)?;
        }
    }

    /// Socket `u` was closed (by another thread) while a call waited on
    /// it: libsrt's blocked `srt_recv`/`srt_send` then fail with
    /// `SRT_ECONNLOST`, not `SRT_EINVSOCK`.
    fn closed_while_waiting(st: &State, u: SrtSocket) -> bool {
        st.sockets
            .get(&u)
            .is_none_or(|s| matches!(s.status, SockStatus::Closing | SockStatus::Closed))
    }

    /// Sends one message or a run of bytes (`srt_send`); see [`sendmsg`](Self::sendmsg).
    pub fn send(&self, u: SrtSocket, buf: &[u8]) -> Result<usize, Error> {
        self.sendmsg(u, buf, &MsgCtrl::default()).map(|s| s.len)
    }

    /// Sends with message controls (`srt_sendmsg2`). Blocks (up to
    /// `SRTO_SNDTIMEO`) while the send buffer is full if `SRTO_SNDSYN`;
    /// otherwise `SRT_EASYNCSND`. In live mode a message is at most
    /// `SRTO_PAYLOADSIZE` bytes (`SRT_EINVALMSGAPI`); a message larger than
    /// the send buffer is `SRT_ELARGEMSG`. Tells the length taken and how
    /// the message was numbered (what `srt_sendmsg2` writes back).
    pub fn sendmsg(&self, u: SrtSocket, buf: &[u8], ctrl: &MsgCtrl) -> Result<Sent, Error> {
        if crate::group::is_group(u) {
            return self.group_sendmsg(u, buf, ctrl);
        }
        let mut st = self.lock();
        let mut deadline = None;
        loop {
            let (idx, shard, conn) = Self::transfer_target(&st, u, false)?;
            if buf.is_empty() {
                // libsrt sends nothing and returns 0.
                return Ok(Sent {
                    len: 0,
                    first_seq: None,
                    msgno: None,
                    origin: ctrl.srctime.unwrap_or_else(Instant::now),
                });
            }
            check_live_call(&st.sockets[&u].opts, buf.len(), true)?;
            let result = {
                let mut engine = shard.lock();
                // Under the lock: the engine's clock never goes back.
                let now = Instant::now();
                engine.endpoint.send_msg(now, conn, buf, ctrl)
            };
            if matches!(result, Err(SendError::WouldBlock)) {
                // Before the engine's events: a `Writable` its worker took
                // since the refusal sets it again.
                if let Some(s) = st.sockets.get_mut(&u) {
                    s.writable = false;
                }
            }
            st.drain_events(idx, shard.index);
            st.refresh(u);
            self.shared.settle(&mut st);
            match result {
                Ok(sent) => return Ok(sent),
                Err(SendError::WouldBlock) => {}
                Err(SendError::MessageTooLarge { .. }) => return Err(Error::Srt(SRT_ELARGEMSG)),
                Err(_) => return Err(Error::Srt(SRT_ENOCONN)),
            }
            let s = st.sockets.get_mut(&u).expect("checked by transfer_target");
            let (blocking, timeout) = (s.opts.driver.sndsyn, s.opts.driver.sndtimeo);
            if !blocking {
                return Err(Error::Srt(SRT_EASYNCSND));
            }
            let d = *deadline.get_or_insert_with(|| timeout.map(|t| Instant::now() + t));
            st = self.wait_connected(st, u, d, |s| s.writable)?;
            if Self::closed_while_waiting(&st, u) {
                return Err(Error::Srt(SRT_ECONNLOST));
            }
        }
    }

    /// Receives one message or the bytes available (`srt_recv`); returns the length.
    pub fn recv(&self, u: SrtSocket, buf: &mut [u8]) -> Result<usize, Error> {
        self.recvmsg(u, buf).map(|i| i.len)
    }

    /// Receives with the message's details (`srt_recvmsg2`). Blocks (up to
    /// `SRTO_RCVTIMEO`) until something is ready if `SRTO_RCVSYN`;
    /// otherwise `SRT_EASYNCRCV`. A broken connection gives `SRT_ECONNLOST`
    /// once nothing is left to deliver, except that the stream API
    /// (`SRTO_MESSAGEAPI` off) reads the peer's close as a length of 0.
    /// In live mode `buf` must hold `SRTO_PAYLOADSIZE` bytes
    /// (`SRT_EINVALMSGAPI`).
    pub fn recvmsg(&self, u: SrtSocket, buf: &mut [u8]) -> Result<RecvInfo, Error> {
        if crate::group::is_group(u) {
            return self.group_recvmsg(u, buf);
        }
        let mut st = self.lock();
        let mut deadline = None;
        loop {
            let (idx, shard, conn) = Self::transfer_target(&st, u, true)?;
            if buf.is_empty() {
                return Err(Error::Srt(SRT_EINVPARAM));
            }
            check_live_call(&st.sockets[&u].opts, buf.len(), false)?;
            let (result, more) = {
                let mut engine = shard.lock();
                // Under the lock: the engine's clock never goes back.
                let now = Instant::now();
                let result = engine.endpoint.recv(now, conn, buf);
                // Level-triggered readiness stays exact: cleared with the last message.
                let more = result.as_ref().is_ok_and(Option::is_some)
                    && engine.endpoint.recv_ready(now, conn);
                (result, more)
            };
            // Before the engine's events: a `Readable` its worker took
            // since this receive sets it again.
            if let (Some(s), Ok(_)) = (st.sockets.get_mut(&u), &result) {
                s.readable = more;
            }
            st.drain_events(idx, shard.index);
            st.refresh(u);
            self.shared.settle(&mut st);
            match result {
                Ok(Some(info)) => return Ok(info),
                Ok(None) => {}
                Err(RecvError::NotConnected) | Err(_) => return Err(Error::Srt(SRT_ECONNLOST)),
            }
            let s = st.sockets.get_mut(&u).expect("checked by transfer_target");
            let (status, blocking, timeout) =
                (s.status, s.opts.driver.rcvsyn, s.opts.driver.rcvtimeo);
            let eof = s.peer_closed && !s.opts.messageapi;
            st.refresh(u);
            if status == SockStatus::Broken {
                // As libsrt: the stream API reads the peer's close as end of file.
                if eof {
                    return Ok(RecvInfo {
                        len: 0,
                        truncated: false,
                        seq: Default::default(),
                        msgno: Default::default(),
                        timestamp: Default::default(),
                        origin: None,
                        position: PacketPosition::Solo,
                    });
                }
                return Err(Error::Srt(SRT_ECONNLOST));
            }
            if !blocking {
                return Err(Error::Srt(SRT_EASYNCRCV));
            }
            let d = *deadline.get_or_insert_with(|| timeout.map(|t| Instant::now() + t));
            st = self.wait_connected(st, u, d, |s| s.readable)?;
            if Self::closed_while_waiting(&st, u) {
                return Err(Error::Srt(SRT_ECONNLOST));
            }
        }
    }

    // ----- closing -----

    /// Closes a socket (`srt_close`); its ID is invalid afterwards. With
    /// `SRTO_LINGER` on a connected blocking (`SRTO_SNDSYN`) socket, it
    /// first waits up to the linger time for the peer to acknowledge
    /// everything sent and, in live mode, to deliver it (the peer's TSBPD
    /// delay after the last message: nothing is lost, unlike libsrt); a
    /// non-blocking socket lingers in the background.
    pub fn close(&self, u: SrtSocket) -> Result<(), Error> {
        if crate::group::is_group(u) {
            return self.close_group(u);
        }
        let mut st = self.lock();
        let s = st.sockets.get_mut(&u).ok_or_else(einvsock)?;
        let linger = s.opts.linger.filter(|l| !l.is_zero());
        let k = s.shard;
        let wait_linger = match (linger, s.mux, s.conn) {
            (Some(l), Some(idx), Some(conn))
                if s.opts.driver.sndsyn && s.status == SockStatus::Connected =>
            {
                s.status = SockStatus::Closing;
                st.unsubscribe_all(u);
                if let Some(shard) = st.shard(idx, k) {
                    let _ = shard
                        .lock()
                        .endpoint
                        .close(Instant::now(), conn, CloseMode::Linger);
                }
                st.drain_events(idx, k);
                self.shared.settle(&mut st);
                Some(l)
            }
            _ => None,
        };
        if let Some(l) = wait_linger {
            // The engine gives up after the linger time; a little more for its last turn.
            let deadline = Some(Instant::now() + l + Duration::from_secs(1));
            while let Some(cond) = st
                .sockets
                .get(&u)
                .filter(|s| !s.engine_closed)
                .map(|s| s.cond.clone())
            {
                match self.wait(st, &cond, deadline) {
                    Ok(g) => st = g,
                    Err(_) => {
                        st = self.lock();
                        break;
                    }
                }
            }
        }
        // After a lingering wait, whatever is left is dropped.
        let mode = if wait_linger.is_some() {
            CloseMode::Abort
        } else {
            CloseMode::Linger
        };
        st.remove_socket(u, mode);
        self.shared.settle(&mut st);
        Ok(())
    }
}

/// The local IP address the system sends from to reach `peer` from a
/// socket bound to `local` (a wildcard): a UDP socket of the same family
/// connected to `peer` tells it (nothing is sent). libsrt takes it from
/// the handshake, where the peer says which address it reached; on one
/// host both are the same. The wildcard itself if the system cannot say.
fn source_ip(local: SocketAddr, peer: SocketAddr) -> IpAddr {
    let peer = match (local, peer) {
        (SocketAddr::V6(_), SocketAddr::V4(p)) => {
            SocketAddr::new(IpAddr::V6(p.ip().to_ipv6_mapped()), p.port())
        }
        _ => peer,
    };
    UdpSocket::bind(SocketAddr::new(local.ip(), 0))
        .and_then(|probe| {
            probe.connect(peer)?;
            probe.local_addr()
        })
        .map_or(local.ip(), |a| a.ip())
}

/// libsrt's live congestion control (`LiveCC::checkTransArgs`) allows the
/// message API only (`SRT_EINVALBUFFERAPI`), messages of at most
/// `SRTO_PAYLOADSIZE` bytes, and receive buffers of at least that many
/// (`SRT_EINVALMSGAPI`). File mode has no such limits.
pub(crate) fn check_live_call(
    opts: &SocketOptions,
    len: usize,
    sending: bool,
) -> Result<(), Error> {
    if opts.congestion != Congestion::Live {
        return Ok(());
    }
    if !opts.messageapi {
        return Err(Error::Srt(SRT_EINVALBUFFERAPI));
    }
    let payload = opts.effective_payload_size() as usize;
    if (sending && len > payload) || (!sending && len < payload) {
        return Err(Error::Srt(SRT_EINVALMSGAPI));
    }
    Ok(())
}

impl Drop for Context {
    fn drop(&mut self) {
        self.shutdown();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::epoll::SRT_EPOLL_IN;
    use crate::EpollEvent;

    /// epoll.c's `level_triggered` (srt-capi's differential test) with the
    /// accepted socket's engine held for longer than the 120 ms latency
    /// while both messages travel, as a receiver not scheduled in time on
    /// a loaded machine (under valgrind): both messages still arrive, the
    /// socket is reported readable while one waits, and the receives
    /// return them. Until the receiver stored packets that arrive after
    /// their delivery time (srt-proto `Receiver::store`), they were
    /// discarded as belated, the second `recv` of epoll.c blocked forever
    /// (`epoll_valgrind` hung in 12 runs of 14 beside four busy loops;
    /// since, none of 22).
    #[test]
    fn a_receiver_stalled_past_its_latency_reads_level_triggered_what_was_sent() {
        let ctx = Context::with_workers(2).unwrap();
        let lo: SocketAddr = "127.0.0.1:0".parse().unwrap();
        let lsn = ctx.create_socket().unwrap();
        ctx.bind(lsn, lo).unwrap();
        ctx.listen(lsn, 5).unwrap();
        let caller = ctx.create_socket().unwrap();
        ctx.connect(caller, ctx.local_addr(lsn).unwrap()).unwrap();
        let (acc, _) = ctx.accept(lsn).unwrap();
        // A blocking receive that fails instead of hanging the test.
        ctx.set_option(acc, SockOpt::RcvTimeo, OptionValue::Int(3000))
            .unwrap();
        let eid = ctx.epoll_create().unwrap();
        ctx.epoll_add_usock(eid, acc, Some(SRT_EPOLL_IN)).unwrap();
        let uwait = |ms: u64| {
            let mut ev = [EpollEvent::default(); 4];
            let n = ctx
                .epoll_uwait(eid, &mut ev, Some(Duration::from_millis(ms)))
                .unwrap();
            (
                n,
                if n > 0 {
                    (ev[0].fd, ev[0].events)
                } else {
                    (0, 0)
                },
            )
        };
        let mut buf = [0u8; 1500];
        assert_eq!(uwait(100).0, 0);

        let shard = {
            let st = ctx.lock();
            let s = &st.sockets[&acc];
            st.shard(s.mux.unwrap(), s.shard).unwrap()
        };
        {
            // Its worker cannot hand it datagrams (nor run its timers)
            // until well past the messages' delivery time.
            let _stalled = shard.lock();
            assert_eq!(ctx.send(caller, b"one").unwrap(), 3);
            assert_eq!(ctx.send(caller, b"two").unwrap(), 3);
            std::thread::sleep(Duration::from_millis(400));
        }
        assert_eq!(uwait(2000), (1, (acc, SRT_EPOLL_IN)));
        assert_eq!(uwait(100), (1, (acc, SRT_EPOLL_IN)));
        assert_eq!(ctx.recv(acc, &mut buf).unwrap(), 3);
        assert_eq!(&buf[..3], b"one");
        std::thread::sleep(Duration::from_millis(300));
        assert_eq!(uwait(100), (1, (acc, SRT_EPOLL_IN)));
        assert_eq!(ctx.recv(acc, &mut buf).unwrap(), 3);
        assert_eq!(&buf[..3], b"two");
        assert_eq!(uwait(100).0, 0);
        ctx.shutdown();
    }
}
