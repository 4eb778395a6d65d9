//! Socket groups on tokio: [`SrtGroup`], one stream over several member
//! connections (broadcast or backup), each member on its own UDP socket
//! and engine endpoint, all driven by one task (plus one reader task per
//! socket). Made by [`SrtSocketBuilder::call_group`] (a caller group of
//! several addresses with weights) or [`SrtSocketBuilder::listen_group`]
//! (a listener with `SRTO_GROUPCONNECT` that yields the peer's group).

use crate::error::Error;
use crate::socket::SrtSocketBuilder;
use futures_core::Stream;
use futures_sink::Sink;
use srt_proto::group::{
    Admitted, Group, GroupConfig, GroupEvent, GroupListener, GroupSendError, GroupStats,
    MemberInfo, MemberKey, MemberTarget,
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

/// What the tasks and the handle share.
struct State {
    endpoints: Vec<Endpoint>,
    sockets: Vec<Arc<UdpSocket>>,
    /// A caller's group.
    group: Option<Group>,
    /// A listener's groups, and the index of the one this handle has.
    listener: Option<(GroupListener, Option<usize>)>,
    connected: bool,
    broken: bool,
    closed: bool,
    out: Vec<u8>,
    /// The [`Stream`]'s waker, woken after every driver turn.
    stream_waker: Option<Waker>,
}

impl State {
    /// The group and the endpoints it reaches its members through.
    fn parts(&mut self) -> Option<(&mut Group, &mut [Endpoint])> {
        let eps = &mut self.endpoints[..];
        match (&mut self.group, &mut self.listener) {
            (Some(g), _) => Some((g, eps)),
            (None, Some((l, Some(i)))) => l.group(*i).map(|g| (g, eps)),
            _ => None,
        }
    }

    /// Timers, accepting members (listener), group events, and every
    /// datagram to send; returns when to come back.
    fn run(&mut self) -> Option<Instant> {
        let now = Instant::now();
        for ep in &mut self.endpoints {
            ep.handle_timeout(now);
        }
        if let Some((l, mine)) = &mut self.listener {
            let ep = &mut self.endpoints[0];
            while let Some(socket) = ep.accept() {
                let key = MemberKey {
                    endpoint: 0,
                    socket,
                };
                let Some(conn) = ep.connection(socket) else {
                    continue;
                };
                match l.admit(key, conn) {
                    Admitted::NewGroup(i) if mine.is_none() => *mine = Some(i),
                    Admitted::Joined(i) if *mine == Some(i) => {}
                    // One group per listener handle; others are refused.
                    _ => {
                        let _ = ep.close(now, socket, CloseMode::Abort);
                    }
                }
            }
        }
        let mut deadline = None;
        if let Some((g, eps)) = self.parts() {
            g.handle_timeout(now, eps);
            let mut events = (false, false);
            while let Some(e) = g.poll_event() {
                match e {
                    GroupEvent::Connected => events.0 = true,
                    GroupEvent::Broken => events.1 = true,
                    _ => {}
                }
            }
            // A listener's group is connected once it exists.
            events.0 |= g.is_connected();
            deadline = g.poll_timeout();
            self.connected |= events.0;
            self.broken |= events.1;
        }
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
    /// Wakes the application (something may be readable, or changed).
    app: Notify,
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A socket group: sends and receives one stream over its members like a
/// single socket. Dropping it closes every member (abort).
///
/// `send_msg`/`recv` take `&self`; the [`Stream`] (messages) and
/// [`Sink<Vec<u8>>`](Sink) implementations need `&mut` (their
/// `SinkExt::send`/`close` are not shadowed).
pub struct SrtGroup {
    shared: Arc<Shared>,
    max_message: usize,
    /// The [`Stream`]'s receive buffer.
    scratch: Vec<u8>,
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
        app: Notify::new(),
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
            if let Some(w) = sh.lock().stream_waker.take() {
                w.wake();
            }
            sh.app.notify_waiters();
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
            .connect(Instant::now(), &mut endpoints[..], &targets, &options)
            .map_err(|e| Error::Group(e.to_string()))?;
        let shared = start(State {
            endpoints,
            sockets,
            group: Some(group),
            listener: None,
            connected: false,
            broken: false,
            closed: false,
            out: vec![0u8; 1500],
            stream_waker: None,
        });
        SrtGroup {
            shared,
            max_message,
            scratch: Vec::new(),
        }
        .connected()
        .await
    }

    /// Listens at `local` with `SRTO_GROUPCONNECT` and returns the first
    /// peer group that connects (its later members join it; anything
    /// else is refused).
    pub async fn listen_group(self, local: SocketAddr) -> Result<SrtGroup, Error> {
        let (options, _, backlog) = self.parts()?;
        let options = SocketOptions {
            groupconnect: true,
            ..options
        };
        let max_message = options.effective_payload_size() as usize;
        let (s, mut ep) = bind(local, &options).await?;
        ep.listen(&options, backlog)?;
        let shared = start(State {
            endpoints: vec![ep],
            sockets: vec![Arc::new(s)],
            group: None,
            listener: Some((GroupListener::new(&options), None)),
            connected: false,
            broken: false,
            closed: false,
            out: vec![0u8; 1500],
            stream_waker: None,
        });
        SrtGroup {
            shared,
            max_message,
            scratch: Vec::new(),
        }
        .connected()
        .await
    }
}

impl SrtGroup {
    /// Waits until the group is connected.
    async fn connected(self) -> Result<SrtGroup, Error> {
        loop {
            let notified = self.shared.app.notified();
            {
                let st = self.shared.lock();
                if st.connected {
                    break;
                }
                if st.broken {
                    return Err(Error::ConnectTimeout);
                }
            }
            notified.await;
        }
        Ok(self)
    }

    /// The local address of each member's UDP socket (a listener: one).
    pub fn local_addrs(&self) -> Vec<SocketAddr> {
        self.shared
            .lock()
            .endpoints
            .iter()
            .map(|e| e.local_addr())
            .collect()
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
        let r = {
            let mut st = self.shared.lock();
            if st.closed {
                return Err(Error::Closed);
            }
            match st.parts() {
                Some((g, eps)) => g.send(Instant::now(), eps, payload, &MsgCtrl::default()),
                None => Err(GroupSendError::NotConnected),
            }
        };
        self.shared.driver.notify_one();
        match r {
            Ok(_) => Ok(payload.len()),
            Err(e) => Err(Error::Group(e.to_string())),
        }
    }

    /// Receives the next message of the group's stream into `buf` (each
    /// message once, whichever member brought it); fails once every
    /// member has gone.
    pub async fn recv_into(&self, buf: &mut [u8]) -> Result<RecvInfo, Error> {
        loop {
            let notified = self.shared.app.notified();
            {
                let mut st = self.shared.lock();
                if st.closed {
                    return Err(Error::Closed);
                }
                if let Some((g, eps)) = st.parts() {
                    if let Some(info) = g.recv(Instant::now(), eps, buf) {
                        return Ok(info);
                    }
                }
                if st.broken {
                    return Err(Error::Group("every member has gone".into()));
                }
            }
            notified.await;
        }
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
        let mut st = self.shared.lock();
        st.parts().map(|(g, _)| g.stats()).unwrap_or_default()
    }

    /// Each member's state and weight.
    pub fn members(&self) -> Vec<MemberInfo> {
        let mut st = self.shared.lock();
        st.parts()
            .map(|(g, _)| g.members().collect())
            .unwrap_or_default()
    }

    /// Closes one member's connection (abort), as a path that breaks.
    pub fn close_member(&self, key: MemberKey) -> Result<(), Error> {
        let mut st = self.shared.lock();
        let ep = st
            .endpoints
            .get_mut(key.endpoint)
            .ok_or(Error::Group("no such member".into()))?;
        ep.close(Instant::now(), key.socket, CloseMode::Abort)?;
        drop(st);
        self.shared.driver.notify_one();
        Ok(())
    }
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
        let mut st = this.shared.lock();
        if st.closed {
            return Poll::Ready(None);
        }
        if let Some((g, eps)) = st.parts() {
            if let Some(info) = g.recv(Instant::now(), eps, &mut this.scratch) {
                return Poll::Ready(Some(Ok(this.scratch[..info.len].to_vec())));
            }
        }
        if st.broken {
            return Poll::Ready(None);
        }
        st.stream_waker = Some(cx.waker().clone());
        Poll::Pending
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
        let mut st = self.shared.lock();
        if let Some((g, eps)) = st.parts() {
            g.close(Instant::now(), eps, CloseMode::Abort);
        }
        drop(st);
        self.shared.driver.notify_one();
        Poll::Ready(Ok(()))
    }
}

impl Drop for SrtGroup {
    fn drop(&mut self) {
        let mut st = self.shared.lock();
        let now = Instant::now();
        if let Some((g, eps)) = st.parts() {
            g.close(now, eps, CloseMode::Abort);
        }
        // Send the shutdowns, then stop the tasks.
        st.run();
        st.closed = true;
        drop(st);
        for t in self
            .shared
            .tasks
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .drain(..)
        {
            t.abort();
        }
    }
}
