//! Socket groups on tokio: [`SrtGroup`], one stream over several member
//! connections (broadcast or backup). A caller group
//! ([`SrtSocketBuilder::call_group`]) has each member on its own UDP
//! socket and engine endpoint, all driven by one task (plus one reader
//! task per socket); a group accepted by a listener with
//! `SRTO_GROUPCONNECT` ([`SrtListener::accept`](crate::SrtListener::accept),
//! or [`SrtSocketBuilder::listen_group`]) has its members on the
//! listener's endpoint and runs on the listener's driver.

use crate::driver;
use crate::error::Error;
use crate::listener::SrtListener;
use crate::socket::SrtSocketBuilder;
use futures_core::Stream;
use futures_sink::Sink;
use srt_proto::group::{
    Group, GroupConfig, GroupEvent, GroupSendError, GroupStats, MemberInfo, MemberKey,
    MemberTarget, Members,
};
use srt_proto::{CloseMode, Endpoint, EndpointConfig, MsgCtrl, RecvInfo, SocketOptions};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};
use tokio::net::UdpSocket;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

pub use srt_proto::group::GroupType;

/// The longest the driver sleeps while a group lives (its timers run
/// every 10 ms).
const MAX_SLEEP: Duration = Duration::from_millis(10);

/// What a caller group's tasks and handle share.
struct State {
    endpoints: Vec<Endpoint>,
    sockets: Vec<Arc<UdpSocket>>,
    group: Group,
    connected: bool,
    broken: bool,
    closed: bool,
    out: Vec<u8>,
    /// Handles waiting for the group; woken after every driver turn.
    wakers: Vec<Waker>,
}

/// The members' endpoints of a caller group.
struct Eps<'a>(&'a mut [Endpoint]);

impl Members for Eps<'_> {
    fn endpoint_mut(&mut self, index: usize) -> Option<&mut Endpoint> {
        self.0.get_mut(index)
    }
}

impl State {
    /// Timers, group events, and every datagram to send; returns when to
    /// come back.
    fn run(&mut self) -> Option<Instant> {
        let now = Instant::now();
        for ep in &mut self.endpoints {
            ep.handle_timeout(now);
        }
        let g = &mut self.group;
        g.handle_timeout(now, &mut Eps(&mut self.endpoints));
        while let Some(e) = g.poll_event() {
            match e {
                GroupEvent::Connected => self.connected = true,
                GroupEvent::Broken => self.broken = true,
                _ => {}
            }
        }
        let mut deadline = g.poll_timeout();
        for (ep, sock) in self.endpoints.iter_mut().zip(&self.sockets) {
            while let Some(t) = ep.poll_transmit(now, &mut self.out) {
                // A full socket buffer loses the datagram, as a lossy
                // network would; the engine resends.
                let _ = sock.try_send_to(&self.out[..t.size], t.destination);
            }
            while ep.poll_event().is_some() {}
            deadline = match (deadline, ep.poll_timeout()) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
        }
        let cap = now + MAX_SLEEP;
        Some(deadline.map_or(cap, |d| d.min(cap)))
    }
}

struct Shared {
    state: Mutex<State>,
    /// Wakes the driver (a call, a datagram).
    driver: Notify,
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A socket group: sends and receives one stream over its members like a
/// single socket. Dropping it closes every member (abort); a listener
/// forgets the group it accepted.
///
/// `send_msg`/`recv` take `&self`; the [`Stream`] (messages) and
/// [`Sink<Vec<u8>>`](Sink) implementations need `&mut` (their
/// `SinkExt::send`/`close` are not shadowed).
pub struct SrtGroup {
    backend: Backend,
    max_message: usize,
    /// The [`Stream`]'s receive buffer.
    scratch: Vec<u8>,
    /// [`SrtSocketBuilder::listen_group`]'s listener, kept so that later
    /// members can join.
    _listener: Option<SrtListener>,
}

/// Where a group runs.
enum Backend {
    /// A caller group's own driver.
    Own(Arc<Shared>),
    /// The group at `index` of a listener's driver.
    Listener {
        shared: Arc<driver::Shared>,
        index: usize,
    },
}

/// A group's state as a handle sees it, under its driver's lock.
struct View<'a> {
    group: Option<&'a mut Group>,
    net: &'a mut dyn Members,
    connected: bool,
    broken: bool,
    closed: bool,
    wakers: &'a mut Vec<Waker>,
}

impl Backend {
    /// Runs `f` on the group's state, under the lock.
    fn with<R>(&self, f: impl FnOnce(View<'_>) -> R) -> R {
        match self {
            Backend::Own(shared) => {
                let mut guard = shared.lock();
                let st = &mut *guard;
                let mut eps = Eps(&mut st.endpoints);
                f(View {
                    group: Some(&mut st.group),
                    net: &mut eps,
                    connected: st.connected,
                    broken: st.broken,
                    closed: st.closed,
                    wakers: &mut st.wakers,
                })
            }
            Backend::Listener { shared, index } => {
                let mut guard = shared.lock();
                let st = &mut *guard;
                let stopped = st.stopped;
                let found = st.groups.as_mut().and_then(|host| {
                    let driver::GroupHost { listener, slots } = host;
                    Some((listener.group(*index)?, slots.get_mut(index)?))
                });
                let Some((group, slot)) = found else {
                    // Forgotten (the handle's drop, which is the only way
                    // while a handle lives, or the driver gone).
                    let mut none = Vec::new();
                    return f(View {
                        group: None,
                        net: &mut st.endpoint,
                        connected: false,
                        broken: true,
                        closed: true,
                        wakers: &mut none,
                    });
                };
                // Broken once its last member has left: a broken member
                // stays until what it received has come due and was read.
                let broken = group.members().next().is_none() || stopped;
                f(View {
                    group: Some(group),
                    net: &mut st.endpoint,
                    connected: slot.connected,
                    broken,
                    closed: false,
                    wakers: &mut slot.wakers,
                })
            }
        }
    }

    /// Asks the driver for a turn (to send what a call queued).
    fn wake_driver(&self) {
        match self {
            Backend::Own(shared) => shared.driver.notify_one(),
            Backend::Listener { shared, .. } => shared.wake_driver(),
        }
    }
}

impl std::fmt::Debug for SrtGroup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SrtGroup").finish_non_exhaustive()
    }
}

/// Binds a UDP socket and its endpoint.
async fn bind(local: SocketAddr, options: &SocketOptions) -> Result<(UdpSocket, Endpoint), Error> {
    let socket = UdpSocket::bind(local).await?;
    let sock = socket2::SockRef::from(&socket);
    sock.set_recv_buffer_size(options.driver.udp_rcvbuf as usize)?;
    sock.set_send_buffer_size(options.driver.udp_sndbuf as usize)?;
    let local = socket.local_addr()?;
    let mut entropy = [0u8; 32];
    getrandom::fill(&mut entropy).map_err(std::io::Error::other)?;
    Ok((
        socket,
        Endpoint::new(EndpointConfig::new(entropy), local, Instant::now()),
    ))
}

/// Starts the driver and one reader per socket.
fn start(state: State) -> Arc<Shared> {
    let sockets = state.sockets.clone();
    let shared = Arc::new(Shared {
        state: Mutex::new(state),
        driver: Notify::new(),
        tasks: Mutex::new(Vec::new()),
    });
    let mut tasks = Vec::new();
    for (i, sock) in sockets.into_iter().enumerate() {
        let sh = Arc::downgrade(&shared);
        tasks.push(tokio::spawn(async move {
            let mut buf = vec![0u8; 65_536];
            loop {
                if sock.readable().await.is_err() {
                    return;
                }
                let Some(sh) = sh.upgrade() else { return };
                {
                    let mut st = sh.lock();
                    loop {
                        match sock.try_recv_from(&mut buf) {
                            Ok((n, from)) => {
                                st.endpoints[i].handle_datagram(Instant::now(), from, &buf[..n])
                            }
                            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                            Err(_) => {}
                        }
                    }
                }
                sh.driver.notify_one();
            }
        }));
    }
    // The driver holds the state until the handle's drop aborts it.
    let sh = Arc::clone(&shared);
    tasks.push(tokio::spawn(async move {
        loop {
            let deadline = {
                let mut st = sh.lock();
                if st.closed {
                    return;
                }
                st.run()
            };
            let wakers = std::mem::take(&mut sh.lock().wakers);
            for w in wakers {
                w.wake();
            }
            let notified = sh.driver.notified();
            let sleep = tokio::time::sleep_until(tokio::time::Instant::from_std(
                deadline.unwrap_or_else(|| Instant::now() + MAX_SLEEP),
            ));
            tokio::select! {
                _ = notified => {}
                _ = sleep => {}
            }
        }
    }));
    *shared.tasks.lock().unwrap_or_else(|e| e.into_inner()) = tasks;
    shared
}

fn unspecified(remote: SocketAddr) -> SocketAddr {
    match remote {
        SocketAddr::V4(_) => (Ipv4Addr::UNSPECIFIED, 0).into(),
        SocketAddr::V6(_) => (Ipv6Addr::UNSPECIFIED, 0).into(),
    }
}

impl SrtSocketBuilder {
    /// Connects a caller group of `kind` to `members` (each a listener's
    /// address and the member's weight; backup prefers the highest), each
    /// member from its own UDP socket, like libsrt's `srt_connect_group`;
    /// returns once the first member is connected. Live mode only.
    pub async fn call_group(
        self,
        kind: GroupType,
        members: &[(SocketAddr, u16)],
    ) -> Result<SrtGroup, Error> {
        let (options, local, _) = self.parts()?;
        let max_message = options.effective_payload_size() as usize;
        let mut endpoints = Vec::new();
        let mut sockets = Vec::new();
        for &(remote, _) in members {
            let l = local.map_or_else(|| unspecified(remote), |a| SocketAddr::new(a.ip(), 0));
            let (s, ep) = bind(l, &options).await?;
            sockets.push(Arc::new(s));
            endpoints.push(ep);
        }
        let Some(first) = endpoints.first_mut() else {
            return Err(Error::NoMembers);
        };
        let mut group = first.new_group(GroupConfig::new(kind, &options));
        let targets: Vec<MemberTarget> = members
            .iter()
            .enumerate()
            .map(|(i, &(remote, weight))| MemberTarget {
                endpoint: i,
                remote,
                weight,
            })
            .collect();
        group
            .connect(Instant::now(), &mut Eps(&mut endpoints), &targets, &options)
            .map_err(|e| Error::Group(e.to_string()))?;
        let shared = start(State {
            endpoints,
            sockets,
            group,
            connected: false,
            broken: false,
            closed: false,
            out: vec![0u8; 1500],
            wakers: Vec::new(),
        });
        SrtGroup {
            backend: Backend::Own(shared),
            max_message,
            scratch: Vec::new(),
            _listener: None,
        }
        .connected()
        .await
    }

    /// Listens at `local` with `SRTO_GROUPCONNECT` and returns the first
    /// peer group that connects; its later members join it while the
    /// group lives (the listener lives inside it). Plain callers meanwhile
    /// are accepted and closed; [`listen`](Self::listen) with
    /// [`group_connect(true)`](Self::group_connect) gives both.
    pub async fn listen_group(self, local: SocketAddr) -> Result<SrtGroup, Error> {
        let mut listener = self.group_connect(true).listen(local).await?;
        loop {
            if let crate::Accepted::Group(mut g) = listener.accept().await? {
                g._listener = Some(listener);
                return Ok(g);
            }
        }
    }
}

impl SrtGroup {
    /// The handle of the group at `index` of a listener's driver (already
    /// counted as a handle).
    pub(crate) fn accepted(shared: Arc<driver::Shared>, index: usize, max_message: usize) -> Self {
        SrtGroup {
            backend: Backend::Listener { shared, index },
            max_message,
            scratch: Vec::new(),
            _listener: None,
        }
    }

    /// Waits until the group is connected.
    async fn connected(self) -> Result<SrtGroup, Error> {
        std::future::poll_fn(|cx| {
            self.backend.with(|v| {
                if v.connected {
                    Poll::Ready(Ok(()))
                } else if v.broken || v.closed {
                    Poll::Ready(Err(Error::ConnectTimeout))
                } else {
                    v.wakers.push(cx.waker().clone());
                    Poll::Pending
                }
            })
        })
        .await?;
        Ok(self)
    }

    /// The local address of each member's UDP socket (a listener's
    /// group: the listener's one).
    pub fn local_addrs(&self) -> Vec<SocketAddr> {
        match &self.backend {
            Backend::Own(shared) => shared
                .lock()
                .endpoints
                .iter()
                .map(|e| e.local_addr())
                .collect(),
            Backend::Listener { shared, .. } => vec![shared.local_addr()],
        }
    }

    /// Sends one live message over the group (broadcast: every member;
    /// backup: the active one, kept until acknowledged).
    pub fn send_msg(&self, payload: &[u8]) -> Result<usize, Error> {
        if payload.len() > self.max_message {
            return Err(Error::MessageTooLarge {
                len: payload.len(),
                max: self.max_message,
            });
        }
        let r = self.backend.with(|v| {
            if v.closed {
                return Err(Error::Closed);
            }
            match v.group {
                Some(g) => g
                    .send(Instant::now(), v.net, payload, &MsgCtrl::default())
                    .map_err(|e| Error::Group(e.to_string())),
                None => Err(Error::Group(GroupSendError::NotConnected.to_string())),
            }
        });
        self.backend.wake_driver();
        r.map(|_| payload.len())
    }

    /// Receives the next message of the group's stream into `buf` (each
    /// message once, whichever member brought it); fails once every
    /// member has gone.
    pub async fn recv_into(&self, buf: &mut [u8]) -> Result<RecvInfo, Error> {
        std::future::poll_fn(|cx| poll_recv(&self.backend, cx, buf)).await
    }

    /// Receives the next message as a new vector.
    pub async fn recv(&self) -> Result<Vec<u8>, Error> {
        let mut buf = vec![0u8; self.max_message.max(1500)];
        let info = self.recv_into(&mut buf).await?;
        buf.truncate(info.len);
        Ok(buf)
    }

    /// The group's statistics.
    pub fn stats(&self) -> GroupStats {
        self.backend
            .with(|v| v.group.map(|g| g.stats()).unwrap_or_default())
    }

    /// Each member's state and weight.
    pub fn members(&self) -> Vec<MemberInfo> {
        self.backend
            .with(|v| v.group.map(|g| g.members().collect()).unwrap_or_default())
    }

    /// Closes one member's connection (abort), as a path that breaks.
    pub fn close_member(&self, key: MemberKey) -> Result<(), Error> {
        self.backend.with(|v| {
            let ep = v
                .net
                .endpoint_mut(key.endpoint)
                .ok_or(Error::Group("no such member".into()))?;
            ep.close(Instant::now(), key.socket, CloseMode::Abort)?;
            Ok::<(), Error>(())
        })?;
        self.backend.wake_driver();
        Ok(())
    }
}

/// The next message into `buf`, or the waker parked.
fn poll_recv(
    backend: &Backend,
    cx: &mut Context<'_>,
    buf: &mut [u8],
) -> Poll<Result<RecvInfo, Error>> {
    backend.with(|v| {
        if v.closed {
            return Poll::Ready(Err(Error::Closed));
        }
        if let Some(g) = v.group {
            if let Some(info) = g.recv(Instant::now(), v.net, buf) {
                return Poll::Ready(Ok(info));
            }
        }
        if v.broken {
            return Poll::Ready(Err(Error::Group("every member has gone".into())));
        }
        v.wakers.push(cx.waker().clone());
        Poll::Pending
    })
}

/// The group's messages; ends when every member has gone or the group
/// was closed.
impl Stream for SrtGroup {
    type Item = Result<Vec<u8>, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        let want = this.max_message.max(1500);
        if this.scratch.len() < want {
            this.scratch.resize(want, 0);
        }
        match poll_recv(&this.backend, cx, &mut this.scratch) {
            Poll::Ready(Ok(info)) => Poll::Ready(Some(Ok(this.scratch[..info.len].to_vec()))),
            Poll::Ready(Err(_)) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }
}

/// Each item is one live message ([`SrtGroup::send_msg`]); a live group
/// never waits (a backup group keeps what is unacknowledged).
impl Sink<Vec<u8>> for SrtGroup {
    type Error = Error;

    fn poll_ready(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        Poll::Ready(Ok(()))
    }

    fn start_send(self: Pin<&mut Self>, item: Vec<u8>) -> Result<(), Error> {
        self.send_msg(&item).map(|_| ())
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.backend.with(|v| {
            if let Some(g) = v.group {
                g.close(Instant::now(), v.net, CloseMode::Abort);
            }
        });
        self.backend.wake_driver();
        Poll::Ready(Ok(()))
    }
}

impl Drop for SrtGroup {
    fn drop(&mut self) {
        let now = Instant::now();
        match &self.backend {
            Backend::Own(shared) => {
                let mut st = shared.lock();
                let State {
                    group, endpoints, ..
                } = &mut *st;
                group.close(now, &mut Eps(endpoints), CloseMode::Abort);
                // Send the shutdowns, then stop the tasks.
                st.run();
                st.closed = true;
                drop(st);
                for t in shared
                    .tasks
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .drain(..)
                {
                    t.abort();
                }
            }
            Backend::Listener { shared, index } => {
                let mut guard = shared.lock();
                let st = &mut *guard;
                // Closed and forgotten: a later member of its peer group
                // makes a new group (libsrt's `srt_close` on a group).
                if let Some(host) = st.groups.as_mut() {
                    host.forget(*index, &mut st.endpoint, now);
                }
                st.handles = st.handles.saturating_sub(1);
                drop(guard);
                shared.wake_driver();
            }
        }
    }
}
