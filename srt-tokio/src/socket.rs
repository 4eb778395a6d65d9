//! Connected SRT sockets and the builder that makes sockets and listeners.

use crate::driver::{self, Shared};
use crate::error::Error;
use crate::listener::SrtListener;
use futures_core::Stream;
use futures_sink::Sink;
use srt_proto::options::{OptionError, OptionValue, SockOpt};
use srt_proto::packet::SocketId;
use srt_proto::stats::TraceBStats;
use srt_proto::{
    CloseMode, Endpoint, EndpointConfig, MsgCtrl, RecvError, RecvInfo, SendError, SocketOptions,
};
use std::future::poll_fn;
use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::UdpSocket;

/// The buffer `recv` and the message stream read a message into, bytes,
/// unless set or implied by live mode (one packet's payload).
const DEFAULT_MAX_MESSAGE: usize = 65_536;

/// libsrt's transmission types (`SRTO_TRANSTYPE`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TransType {
    /// Live mode (`SRTT_LIVE`): TSBPD, too-late drop, one message per packet.
    Live,
    /// File mode (`SRTT_FILE`): reliable, stream API unless `message_api(true)`.
    File,
}

/// Options for a new socket or listener, and the calls that make them.
#[derive(Debug, Clone)]
pub struct SrtSocketBuilder {
    options: Result<SocketOptions, OptionError>,
    local: Option<SocketAddr>,
    backlog: usize,
    max_message: Option<usize>,
}

impl Default for SrtSocketBuilder {
    fn default() -> Self {
        SrtSocketBuilder {
            options: Ok(SocketOptions::live()),
            local: None,
            backlog: 16,
            max_message: None,
        }
    }
}

impl SrtSocketBuilder {
    fn with(mut self, f: impl FnOnce(SocketOptions) -> Result<SocketOptions, OptionError>) -> Self {
        self.options = self.options.and_then(f);
        self
    }

    /// Replaces every option with `options` (any `SRTO_*`).
    pub fn options(mut self, options: SocketOptions) -> Self {
        self.options = Ok(options);
        self
    }

    /// Sets the transmission type (`SRTO_TRANSTYPE`); like libsrt, this resets the options it governs, so set it first.
    pub fn transtype(self, t: TransType) -> Self {
        let v = match t {
            TransType::Live => 0,
            TransType::File => 1,
        };
        self.with(|mut o| {
            o.set(SockOpt::TransType, OptionValue::Int(v))?;
            Ok(o)
        })
    }

    /// Sets the latency, receive and peer (`SRTO_LATENCY`).
    pub fn latency(self, d: Duration) -> Self {
        self.with(|o| o.latency(d))
    }

    /// Sets the passphrase (`SRTO_PASSPHRASE`, 10 to 80 bytes).
    pub fn passphrase(self, p: impl AsRef<[u8]>) -> Self {
        self.with(|o| o.passphrase(p))
    }

    /// Sets the key length in bytes (`SRTO_PBKEYLEN`: 0, 16, 24 or 32).
    pub fn pbkeylen(self, len: u8) -> Self {
        self.with(|o| o.pbkeylen(len))
    }

    /// Sets the stream ID a caller sends (`SRTO_STREAMID`).
    pub fn stream_id(self, sid: impl AsRef<[u8]>) -> Self {
        self.with(|o| o.stream_id(sid))
    }

    /// Sets the message API (`SRTO_MESSAGEAPI`).
    pub fn message_api(self, on: bool) -> Self {
        self.with(|o| Ok(o.message_api(on)))
    }

    /// Sets the maximum send bandwidth in bytes per second (`SRTO_MAXBW`; −1 = relative to input, 0 = unlimited).
    pub fn max_bw(self, bytes_per_sec: i64) -> Self {
        self.with(|o| o.max_bw(bytes_per_sec))
    }

    /// Sets the connect timeout (`SRTO_CONNTIMEO`).
    pub fn conn_timeout(self, d: Duration) -> Self {
        self.with(|o| o.conn_timeout(d))
    }

    /// Sets the peer idle timeout (`SRTO_PEERIDLETIMEO`).
    pub fn peer_idle_timeout(self, d: Duration) -> Self {
        self.with(|o| o.peer_idle_timeout(d))
    }

    /// Sets how long [`SrtSocket::close_gracefully`] waits at most for the peer to acknowledge and deliver everything (`SRTO_LINGER`; `None` = off, when close waits up to twice the latency plus 1 s in live mode).
    pub fn linger(self, linger: Option<Duration>) -> Self {
        self.with(|o| Ok(o.linger(linger)))
    }

    /// Sets the payload size (`SRTO_PAYLOADSIZE`).
    pub fn payload_size(self, size: u32) -> Self {
        self.with(|o| o.payload_size(size))
    }

    /// Sets the packet filter (`SRTO_PACKETFILTER`), e.g. the builtin FEC
    /// `fec,cols:10,rows:5,arq:onreq`; a listener without one adopts its
    /// caller's.
    pub fn packet_filter(self, config: &str) -> Self {
        self.with(|o| o.packet_filter(config))
    }

    /// Sets enforced encryption (`SRTO_ENFORCEDENCRYPTION`).
    pub fn enforced_encryption(self, on: bool) -> Self {
        self.with(|o| Ok(o.enforced_encryption(on)))
    }

    /// Sets any option by its libsrt name's value (`srt_setsockopt`).
    pub fn option(self, opt: SockOpt, value: OptionValue) -> Self {
        self.with(|mut o| {
            o.set(opt, value)?;
            Ok(o)
        })
    }

    /// Sets the local address of a caller's UDP socket (default: any address, any port).
    pub fn local_addr(mut self, local: SocketAddr) -> Self {
        self.local = Some(local);
        self
    }

    /// Sets how many connection requests may wait for a decision (listener; default 16).
    pub fn backlog(mut self, backlog: usize) -> Self {
        self.backlog = backlog;
        self
    }

    /// Sets the largest message `recv` and the message stream return whole (default: the payload size in live mode, else 64 KiB; longer ones are truncated).
    pub fn max_message_size(mut self, len: usize) -> Self {
        self.max_message = Some(len.max(1));
        self
    }

    /// The receive buffer size for messages under `options`.
    fn message_capacity(&self, options: &SocketOptions) -> usize {
        self.max_message.unwrap_or(if options.tsbpdmode {
            options.effective_payload_size() as usize
        } else {
            DEFAULT_MAX_MESSAGE
        })
    }

    /// `SRTO_GROUPCONNECT`: a listener accepts socket-group members (its
    /// [`SrtListener::accept`] returns groups; [`listen_group`](Self::listen_group)
    /// sets it).
    pub fn group_connect(self, on: bool) -> Self {
        self.with(|o| {
            Ok(SocketOptions {
                groupconnect: on,
                ..o
            })
        })
    }

    /// The options, local address and backlog (for the group calls).
    pub(crate) fn parts(&self) -> Result<(SocketOptions, Option<SocketAddr>, usize), Error> {
        Ok((self.options.clone()?, self.local, self.backlog))
    }

    /// Connects to a listener at `remote`.
    pub async fn call(self, remote: SocketAddr) -> Result<SrtSocket, Error> {
        let options = self.options.clone()?;
        let max_message = self.message_capacity(&options);
        let local = self.local.unwrap_or_else(|| unspecified(remote));
        let (socket, mut endpoint) = bind(local, &options).await?;
        let id = endpoint.connect(Instant::now(), remote, &options)?;
        let shared = driver::start(socket, endpoint, None, None, Some(id));
        SrtSocket::connected(shared, id, max_message).await
    }

    /// Starts a rendezvous between `local` and `remote` (the peer does the same towards us).
    pub async fn rendezvous(
        self,
        local: SocketAddr,
        remote: SocketAddr,
    ) -> Result<SrtSocket, Error> {
        let options = self.options.clone()?.rendezvous(true);
        let max_message = self.message_capacity(&options);
        let (socket, mut endpoint) = bind(local, &options).await?;
        let id = endpoint.rendezvous(Instant::now(), remote, &options)?;
        let shared = driver::start(socket, endpoint, None, None, Some(id));
        SrtSocket::connected(shared, id, max_message).await
    }

    /// Listens at `local`: callers' requests come out of the [`SrtListener`].
    /// With [`group_connect(true)`](Self::group_connect) it also accepts
    /// socket-group members: the first member of a peer group makes an
    /// [`SrtGroup`](crate::SrtGroup) that [`SrtListener::accept`] returns,
    /// later members join it; plain callers still come as requests.
    pub async fn listen(self, local: SocketAddr) -> Result<SrtListener, Error> {
        let options = self.options.clone()?;
        let max_message = self.message_capacity(&options);
        let (socket, mut endpoint) = bind(local, &options).await?;
        endpoint.listen_deferred(&options, self.backlog)?;
        let slot = driver::ListenerSlot::default();
        let groups = options
            .groupconnect
            .then(|| driver::GroupHost::new(&options));
        let group_message = options.effective_payload_size() as usize;
        let shared = driver::start(socket, endpoint, Some(slot), groups, None);
        Ok(SrtListener::new(shared, max_message, group_message))
    }
}

/// Why a send or receive cannot go on now: the socket's end if it has
/// ended, else [`Error::WouldBlock`], with `cx`'s waker parked in the
/// slot's `waiter` to be woken when it can.
fn would_block(
    slot: Option<&mut driver::SocketSlot>,
    stopped: bool,
    cx: Option<&mut Context<'_>>,
    waiter: fn(&mut driver::SocketSlot) -> &mut Option<std::task::Waker>,
) -> Error {
    let Some(slot) = slot else {
        return Error::Closed;
    };
    if let Some(e) = slot.terminal() {
        return e;
    }
    if stopped {
        return Error::DriverStopped;
    }
    if let Some(cx) = cx {
        *waiter(slot) = Some(cx.waker().clone());
    }
    Error::WouldBlock
}

/// The unspecified address of `remote`'s family, any port.
fn unspecified(remote: SocketAddr) -> SocketAddr {
    match remote {
        SocketAddr::V4(_) => (Ipv4Addr::UNSPECIFIED, 0).into(),
        SocketAddr::V6(_) => (Ipv6Addr::UNSPECIFIED, 0).into(),
    }
}

/// Binds a UDP socket at `local` with the buffer sizes of `options`
/// (`SRTO_UDP_RCVBUF`/`SRTO_UDP_SNDBUF`; the kernel may grant less, as for
/// libsrt) and makes its engine, whose every random value (socket IDs,
/// ISNs, cookies, salts, keys) comes from 32 bytes of OS entropy.
async fn bind(local: SocketAddr, options: &SocketOptions) -> Result<(UdpSocket, Endpoint), Error> {
    let socket = UdpSocket::bind(local).await?;
    let sock = socket2::SockRef::from(&socket);
    sock.set_recv_buffer_size(options.driver.udp_rcvbuf as usize)?;
    sock.set_send_buffer_size(options.driver.udp_sndbuf as usize)?;
    let local = socket.local_addr()?;
    let mut entropy = [0u8; 32];
    getrandom::fill(&mut entropy).map_err(std::io::Error::other)?;
    let config = EndpointConfig::new(entropy);
    Ok((socket, Endpoint::new(config, local, Instant::now())))
}

/// A received message: its bytes and what the engine knows of it.
#[derive(Clone, Debug)]
pub struct Message {
    /// The message's bytes.
    pub payload: Vec<u8>,
    /// Sequence and message numbers, timestamp, source time, truncation.
    pub info: RecvInfo,
}

impl Message {
    /// When the sender says the message was made, on our clock (live mode; `None` without TSBPD).
    pub fn src_time(&self) -> Option<Instant> {
        self.info.origin
    }
}

/// A connected SRT socket.
///
/// `send_msg`/`recv` take `&self`, so one task may send while another
/// receives; the [`Stream`], [`Sink`], [`AsyncRead`] and [`AsyncWrite`]
/// implementations need `&mut`. Dropping the socket aborts the connection
/// (libsrt's `srt_close` without linger); [`SrtSocket::close_gracefully`] lingers.
pub struct SrtSocket {
    shared: Arc<Shared>,
    id: SocketId,
    peer: SocketAddr,
    stream_id: Vec<u8>,
    max_message: usize,
    /// A message the [`Sink`] took while the send buffer was full.
    sink_pending: Option<Vec<u8>>,
    /// The [`Stream`]'s receive buffer, kept between messages.
    scratch: Vec<u8>,
    /// `close` or `poll_shutdown` has started.
    closing: bool,
}

impl SrtSocket {
    /// A builder of sockets and listeners with libsrt's live-mode defaults.
    pub fn builder() -> SrtSocketBuilder {
        SrtSocketBuilder::default()
    }

    /// A handle for connection `id` (already registered and counted).
    pub(crate) fn from_parts(shared: Arc<Shared>, id: SocketId, max_message: usize) -> Self {
        let (peer, stream_id) = {
            let st = shared.lock();
            match st.endpoint.connection(id) {
                Some(c) => (c.remote(), c.stream_id().to_vec()),
                None => (shared.local_addr(), Vec::new()),
            }
        };
        SrtSocket {
            shared,
            id,
            peer,
            stream_id,
            max_message,
            sink_pending: None,
            scratch: Vec::new(),
            closing: false,
        }
    }

    /// Waits for connection `id` to complete its handshake.
    async fn connected(
        shared: Arc<Shared>,
        id: SocketId,
        max_message: usize,
    ) -> Result<SrtSocket, Error> {
        shared.wake_driver();
        // Dropped (and the attempt aborted) if connecting fails.
        let mut socket = SrtSocket::from_parts(Arc::clone(&shared), id, max_message);
        poll_fn(|cx| {
            let mut st = shared.lock();
            let stopped = st.stopped;
            let Some(slot) = st.sockets.get_mut(&id) else {
                return Poll::Ready(Err(Error::Closed));
            };
            if slot.connected {
                return Poll::Ready(Ok(()));
            }
            if let Some(e) = slot.terminal() {
                return Poll::Ready(Err(e));
            }
            if stopped {
                return Poll::Ready(Err(Error::DriverStopped));
            }
            slot.state = Some(cx.waker().clone());
            Poll::Pending
        })
        .await?;
        let (peer, sid) = {
            let st = shared.lock();
            match st.endpoint.connection(id) {
                Some(c) => (c.remote(), c.stream_id().to_vec()),
                None => (socket.peer, Vec::new()),
            }
        };
        socket.peer = peer;
        socket.stream_id = sid;
        Ok(socket)
    }

    /// The peer's address.
    pub fn peer_addr(&self) -> SocketAddr {
        self.peer
    }

    /// The local UDP address (shared by every connection of a listener).
    pub fn local_addr(&self) -> SocketAddr {
        self.shared.local_addr()
    }

    /// The stream ID of the connection (`SRTO_STREAMID`).
    pub fn stream_id(&self) -> &[u8] {
        &self.stream_id
    }

    /// The SRT socket ID.
    pub fn socket_id(&self) -> SocketId {
        self.id
    }

    /// Sends a message (live: ≤ the payload size; file stream mode: any bytes, of which a prefix may be taken); returns the bytes taken.
    ///
    /// Named apart from `SinkExt::send`, which sends with the default [`MsgCtrl`].
    pub async fn send_msg(&self, payload: &[u8], ctrl: MsgCtrl) -> Result<usize, Error> {
        poll_fn(|cx| self.poll_send(cx, payload, &ctrl)).await
    }

    /// Sends a message now, or fails with [`Error::WouldBlock`] if the send buffer is full.
    pub fn try_send(&self, payload: &[u8], ctrl: MsgCtrl) -> Result<usize, Error> {
        self.try_send_inner(payload, &ctrl, None)
    }

    /// Receives the next message (live: when its TSBPD time comes).
    pub async fn recv(&self) -> Result<Message, Error> {
        let mut buf = vec![0u8; self.max_message];
        let info = self.recv_into(&mut buf).await?;
        buf.truncate(info.len);
        Ok(Message { payload: buf, info })
    }

    /// Receives the next message into `buf` (a longer message is truncated, see [`RecvInfo::truncated`]).
    pub async fn recv_into(&self, buf: &mut [u8]) -> Result<RecvInfo, Error> {
        poll_fn(|cx| self.poll_recv_into(cx, buf)).await
    }

    /// Receives a message now, or fails with [`Error::WouldBlock`] if none is ready.
    pub fn try_recv_into(&self, buf: &mut [u8]) -> Result<RecvInfo, Error> {
        self.try_recv_inner(buf, None)
    }

    /// The connection's statistics (`srt_bstats`: buffer fields are moving averages); `clear` starts a new interval.
    pub fn stats(&self, clear: bool) -> Result<TraceBStats, Error> {
        self.stats_instant(clear, false)
    }

    /// The connection's statistics (`srt_bistats`): with `instantaneous`, the buffer fields are current values, else moving averages.
    pub fn stats_instant(&self, clear: bool, instantaneous: bool) -> Result<TraceBStats, Error> {
        let mut st = self.shared.lock();
        st.endpoint
            .socket_stats_instant(Instant::now(), self.id, clear, instantaneous)
            .ok_or(Error::Closed)
    }

    /// Closes without loss: waits until the peer has acknowledged everything
    /// sent and, in live mode, until the peer's latency has passed since the
    /// last message (so that it has delivered everything), then shuts the
    /// connection down; for at most `SRTO_LINGER`, or, when it is off (live
    /// mode's default), twice the peer's latency plus a second
    /// ([`CloseMode::Lossless`]).
    ///
    /// Named apart from `SinkExt::close`, which does the same through `&mut`.
    pub async fn close_gracefully(mut self) -> Result<(), Error> {
        poll_fn(|cx| self.poll_close_linger(cx)).await
    }

    /// Starts the lingering close and waits for its end.
    fn poll_close_linger(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        let mut st = self.shared.lock();
        if !self.closing {
            self.closing = true;
            let _ = st
                .endpoint
                .close(Instant::now(), self.id, CloseMode::Lossless);
            self.shared.wake_driver();
        }
        let gone = st.endpoint.connection(self.id).is_none();
        let stopped = st.stopped;
        let Some(slot) = st.sockets.get_mut(&self.id) else {
            return Poll::Ready(Ok(()));
        };
        if slot.closed || gone {
            return Poll::Ready(Ok(()));
        }
        if stopped {
            return Poll::Ready(Err(Error::DriverStopped));
        }
        slot.state = Some(cx.waker().clone());
        Poll::Pending
    }

    fn poll_send(
        &self,
        cx: &mut Context<'_>,
        payload: &[u8],
        ctrl: &MsgCtrl,
    ) -> Poll<Result<usize, Error>> {
        match self.try_send_inner(payload, ctrl, Some(cx)) {
            Err(Error::WouldBlock) => Poll::Pending,
            r => Poll::Ready(r),
        }
    }

    /// One send attempt; with `cx`, registers its waker if the buffer is full.
    fn try_send_inner(
        &self,
        payload: &[u8],
        ctrl: &MsgCtrl,
        cx: Option<&mut Context<'_>>,
    ) -> Result<usize, Error> {
        let mut st = self.shared.lock();
        let result = st.endpoint.send(Instant::now(), self.id, payload, ctrl);
        let stopped = st.stopped;
        let slot = st.sockets.get_mut(&self.id);
        match result {
            Ok(n) => {
                self.shared.wake_driver();
                Ok(n)
            }
            Err(SendError::MessageTooLarge { len, max }) => {
                Err(Error::MessageTooLarge { len, max })
            }
            Err(SendError::WouldBlock) => Err(would_block(slot, stopped, cx, |s| &mut s.write)),
            Err(_) => Err(slot.and_then(|s| s.terminal()).unwrap_or(if stopped {
                Error::DriverStopped
            } else {
                Error::Closed
            })),
        }
    }

    fn poll_recv_into(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<Result<RecvInfo, Error>> {
        match self.try_recv_inner(buf, Some(cx)) {
            Err(Error::WouldBlock) => Poll::Pending,
            r => Poll::Ready(r),
        }
    }

    /// One receive attempt; with `cx`, registers its waker if nothing is ready.
    fn try_recv_inner(
        &self,
        buf: &mut [u8],
        cx: Option<&mut Context<'_>>,
    ) -> Result<RecvInfo, Error> {
        let mut st = self.shared.lock();
        let result = st.endpoint.recv(Instant::now(), self.id, buf);
        let stopped = st.stopped;
        let slot = st.sockets.get_mut(&self.id);
        match result {
            Ok(Some(info)) => {
                // Reading may free buffer space the peer must hear of.
                self.shared.wake_driver();
                Ok(info)
            }
            Ok(None) => {
                let Some(slot) = slot else {
                    return Err(Error::Closed);
                };
                if slot.drain_until.is_some_and(|t| Instant::now() < t) && !slot.closed {
                    // Broken in live mode: what is in the receive buffer
                    // comes due at its TSBPD time, with no more events.
                    let buffered = st
                        .endpoint
                        .socket_stats_instant(Instant::now(), self.id, false, true)
                        .is_some_and(|s| s.pkt_rcv_buf > 0);
                    if buffered {
                        if let (Some(cx), Ok(rt)) = (cx, tokio::runtime::Handle::try_current()) {
                            let waker = cx.waker().clone();
                            rt.spawn(async move {
                                tokio::time::sleep(driver::DRAIN_POLL).await;
                                waker.wake();
                            });
                        }
                        return Err(Error::WouldBlock);
                    }
                }
                let slot = st.sockets.get_mut(&self.id);
                Err(would_block(slot, stopped, cx, |s| &mut s.read))
            }
            Err(RecvError::NotConnected) | Err(_) => {
                Err(slot.and_then(|s| s.terminal()).unwrap_or(if stopped {
                    Error::DriverStopped
                } else {
                    Error::Closed
                }))
            }
        }
    }
}

impl Drop for SrtSocket {
    fn drop(&mut self) {
        let mut st = self.shared.lock();
        let _ = st.endpoint.close(Instant::now(), self.id, CloseMode::Abort);
        st.sockets.remove(&self.id);
        st.handles = st.handles.saturating_sub(1);
        self.shared.wake_driver();
    }
}

/// Messages as they are delivered; ends when the peer closes the connection.
impl Stream for SrtSocket {
    type Item = Result<Message, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        let mut buf = std::mem::take(&mut this.scratch);
        buf.resize(this.max_message, 0);
        let result = this.poll_recv_into(cx, &mut buf);
        let payload = match &result {
            Poll::Ready(Ok(info)) => buf[..info.len].to_vec(),
            _ => Vec::new(),
        };
        this.scratch = buf;
        match result {
            Poll::Ready(Ok(info)) => Poll::Ready(Some(Ok(Message { payload, info }))),
            Poll::Ready(Err(e)) if e.is_peer_closed() => Poll::Ready(None),
            Poll::Ready(Err(e)) => Poll::Ready(Some(Err(e))),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl SrtSocket {
    /// Sends the message the sink holds, if any.
    fn poll_sink_flush(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        let Some(msg) = self.sink_pending.take() else {
            return Poll::Ready(Ok(()));
        };
        match self.poll_send(cx, &msg, &MsgCtrl::default()) {
            Poll::Ready(r) => Poll::Ready(r.map(|_| ())),
            Poll::Pending => {
                self.sink_pending = Some(msg);
                Poll::Pending
            }
        }
    }
}

/// Messages to send, each with the default [`MsgCtrl`] (source time = now).
/// As in libsrt, the default is not `in_order`: in file mode a later
/// message may be delivered before an earlier one that needs a
/// retransmission; send with `MsgCtrl { in_order: true, .. }` to keep order.
///
/// One item type, so that `SinkExt::close(&mut socket)` and `flush` need no
/// annotation.
impl Sink<Vec<u8>> for SrtSocket {
    type Error = Error;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.get_mut().poll_sink_flush(cx)
    }

    fn start_send(self: Pin<&mut Self>, item: Vec<u8>) -> Result<(), Error> {
        let this = self.get_mut();
        match this.try_send_inner(&item, &MsgCtrl::default(), None) {
            Ok(_) => Ok(()),
            Err(Error::WouldBlock) => {
                this.sink_pending = Some(item);
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.get_mut().poll_sink_flush(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        let this = self.get_mut();
        match this.poll_sink_flush(cx) {
            Poll::Ready(Ok(())) => this.poll_close_linger(cx),
            other => other,
        }
    }
}

/// The byte stream of a file-mode connection (stream API); ends when the peer closes.
impl AsyncRead for SrtSocket {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if buf.remaining() == 0 {
            return Poll::Ready(Ok(()));
        }
        match self.poll_recv_into(cx, buf.initialize_unfilled()) {
            Poll::Ready(Ok(info)) => {
                buf.advance(info.len);
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) if e.is_peer_closed() => Poll::Ready(Ok(())),
            Poll::Ready(Err(e)) => Poll::Ready(Err(e.into())),
            Poll::Pending => Poll::Pending,
        }
    }
}

/// Writes bytes to a file-mode connection (stream API); shutdown is a lingering close.
impl AsyncWrite for SrtSocket {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        self.poll_send(cx, buf, &MsgCtrl::default())
            .map_err(io::Error::from)
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        // Written bytes are in the engine's send buffer already.
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut()
            .poll_close_linger(cx)
            .map_err(io::Error::from)
    }
}

impl std::fmt::Debug for SrtSocket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SrtSocket")
            .field("id", &self.id)
            .field("local", &self.shared.local_addr())
            .field("peer", &self.peer)
            .field("stream_id", &String::from_utf8_lossy(&self.stream_id))
            .finish()
    }
}
