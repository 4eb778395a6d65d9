//! The listener and the connection requests it yields.
//!
//! The engine's listener defers its decisions ([`Endpoint::listen_deferred`]):
//! each caller that answered the induction becomes a held request, which
//! the listener hands out as a [`ConnectionRequest`]; the caller repeats its
//! CONCLUSION meanwhile. A request whose caller stopped repeating (it gave
//! up after its connect timeout) is refused with [`Error::RequestExpired`]
//! rather than accepted, since its caller is gone.
//!
//! [`Endpoint::listen_deferred`]: srt_proto::Endpoint::listen_deferred

use crate::driver::{Queued, Shared, SocketSlot};
use crate::error::Error;
use crate::group::SrtGroup;
use crate::socket::SrtSocket;
use crate::socket::TransType;
use futures_core::Stream;
use srt_proto::packet::RejectReason;
use srt_proto::{IncomingError, IncomingId, SocketOptions};
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

/// An SRT listener: many connections share its one UDP port.
///
/// With `SRTO_GROUPCONNECT` ([`SrtSocketBuilder::group_connect`](crate::SrtSocketBuilder::group_connect))
/// it also accepts socket-group members, as libsrt: the first member of a
/// peer group makes a group, which [`accept`](Self::accept) returns
/// ([`Accepted::Group`]); its later members join it without the
/// application. Plain callers are requests ([`next`](Self::next)) as
/// without the option. The groups' members live on the listener's
/// endpoint: once the listener is dropped, no new member can join. A
/// group is forgotten once its handle is dropped (or, not yet taken, when
/// its last member has left or the listener is dropped); a later member
/// of its peer group makes a new group, as libsrt.
pub struct SrtListener {
    shared: Arc<Shared>,
    max_message: usize,
    group_message: usize,
}

/// What [`SrtListener::accept`] gives: libsrt's `srt_accept` returns a
/// socket for a plain caller and a group for group members.
#[derive(Debug)]
pub enum Accepted {
    /// A plain caller, accepted with the listener's options.
    Socket(SrtSocket),
    /// A peer's socket group (a listener with `SRTO_GROUPCONNECT`).
    Group(SrtGroup),
}

impl Accepted {
    /// The socket, or [`Error::Group`] if a group came.
    pub fn into_socket(self) -> Result<SrtSocket, Error> {
        match self {
            Accepted::Socket(s) => Ok(s),
            Accepted::Group(_) => Err(Error::Group("a group, not a socket, was accepted".into())),
        }
    }

    /// The group, or [`Error::Group`] if a plain caller came.
    pub fn into_group(self) -> Result<SrtGroup, Error> {
        match self {
            Accepted::Group(g) => Ok(g),
            Accepted::Socket(_) => Err(Error::Group("a socket, not a group, was accepted".into())),
        }
    }
}

impl SrtListener {
    pub(crate) fn new(shared: Arc<Shared>, max_message: usize, group_message: usize) -> Self {
        SrtListener {
            shared,
            max_message,
            group_message,
        }
    }

    /// The local UDP address.
    pub fn local_addr(&self) -> SocketAddr {
        self.shared.local_addr()
    }

    /// How many groups the listener's group table holds (for tests).
    #[doc(hidden)]
    pub fn group_count(&self) -> usize {
        self.shared
            .lock()
            .groups
            .as_ref()
            .map_or(0, |h| h.listener.len())
    }

    /// How many connections the listener's engine holds (for tests).
    #[doc(hidden)]
    pub fn connection_count(&self) -> usize {
        self.shared.lock().endpoint.connection_count()
    }

    /// The next caller asking to connect; `None` once the driver has stopped.
    pub async fn next(&mut self) -> Option<ConnectionRequest> {
        std::future::poll_fn(|cx| self.poll_request(cx)).await
    }

    /// The requests as a [`Stream`] (the listener itself is one).
    pub fn incoming(&mut self) -> &mut Self {
        self
    }

    /// Accepts the next plain caller with the listener's options, or
    /// takes the next group (`SRTO_GROUPCONNECT`), whichever came first.
    pub async fn accept(&mut self) -> Result<Accepted, Error> {
        loop {
            let next = std::future::poll_fn(|cx| self.poll_queued(cx, true)).await;
            match next.ok_or(Error::DriverStopped)? {
                Next::Group(g) => return Ok(Accepted::Group(g)),
                Next::Request(request) => match request.accept() {
                    Err(Error::RequestExpired) => continue,
                    r => return r.map(Accepted::Socket),
                },
            }
        }
    }

    fn poll_request(&mut self, cx: &mut Context<'_>) -> Poll<Option<ConnectionRequest>> {
        self.poll_queued(cx, false).map(|n| {
            n.and_then(|n| match n {
                Next::Request(r) => Some(r),
                Next::Group(_) => None,
            })
        })
    }

    /// The next request (and, if `groups`, the next group) in arrival
    /// order; groups wait for `accept` when only requests are asked for.
    fn poll_queued(&mut self, cx: &mut Context<'_>, groups: bool) -> Poll<Option<Next>> {
        let mut guard = self.shared.lock();
        let st = &mut *guard;
        if st.stopped {
            return Poll::Ready(None);
        }
        let Some(l) = st.listener.as_mut() else {
            return Poll::Ready(None);
        };
        while let Some(pos) = l
            .queue
            .iter()
            .position(|q| groups || matches!(q, Queued::Request(_)))
        {
            let Some(q) = l.queue.remove(pos) else { break };
            let id = match q {
                Queued::Group(index) => {
                    st.handles += 1;
                    if let Some(slot) = st.groups.as_mut().and_then(|h| h.slots.get_mut(&index)) {
                        slot.taken = true;
                    }
                    drop(guard);
                    return Poll::Ready(Some(Next::Group(SrtGroup::accepted(
                        Arc::clone(&self.shared),
                        index,
                        self.group_message,
                    ))));
                }
                Queued::Request(id) => id,
            };
            // A request whose caller went silent is forgotten by the engine.
            if let Some(req) = st.endpoint.incoming(id) {
                return Poll::Ready(Some(Next::Request(ConnectionRequest {
                    shared: Arc::clone(&self.shared),
                    id,
                    peer: req.peer,
                    stream_id: req.stream_id.to_vec(),
                    trans_type: req.trans_type.map(|t| match t {
                        srt_proto::TransType::Live => TransType::Live,
                        srt_proto::TransType::File => TransType::File,
                    }),
                    max_message: self.max_message,
                    answered: false,
                })));
            }
        }
        l.waker = Some(cx.waker().clone());
        Poll::Pending
    }
}

/// What the listener's queue gives next.
enum Next {
    Request(ConnectionRequest),
    Group(SrtGroup),
}

/// Connection requests as they arrive.
impl Stream for SrtListener {
    type Item = ConnectionRequest;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<ConnectionRequest>> {
        self.get_mut().poll_request(cx)
    }
}

impl Drop for SrtListener {
    fn drop(&mut self) {
        let mut guard = self.shared.lock();
        let st = &mut *guard;
        // Callers still waiting for a decision hear that the listener closed.
        st.listener = None;
        st.endpoint.stop_listening(Instant::now());
        // Groups nobody took are closed and forgotten; taken ones run on.
        if let Some(host) = &mut st.groups {
            let now = Instant::now();
            let untaken: Vec<usize> = host
                .slots
                .iter()
                .filter(|(_, slot)| !slot.taken)
                .map(|(&i, _)| i)
                .collect();
            for i in untaken {
                host.forget(i, &mut st.endpoint, now);
            }
        }
        st.handles = st.handles.saturating_sub(1);
        self.shared.wake_driver();
    }
}

/// A caller waiting for the application's decision; dropping it unanswered rejects with `SRT_REJ_PEER`.
pub struct ConnectionRequest {
    shared: Arc<Shared>,
    id: IncomingId,
    peer: SocketAddr,
    stream_id: Vec<u8>,
    trans_type: Option<TransType>,
    max_message: usize,
    answered: bool,
}

impl ConnectionRequest {
    /// The caller's address.
    pub fn peer_addr(&self) -> SocketAddr {
        self.peer
    }

    /// The stream ID the caller sent (`SRTO_STREAMID`; empty if none).
    pub fn stream_id(&self) -> &[u8] {
        &self.stream_id
    }

    /// The caller's transmission type (live or file, from its handshake);
    /// a listener of the other type refuses it with `SRT_REJ_MESSAGEAPI`
    /// unless accepted with options of the caller's type.
    pub fn trans_type(&self) -> Option<TransType> {
        self.trans_type
    }

    /// The stream ID as text, if it is UTF-8.
    pub fn stream_id_str(&self) -> Option<&str> {
        std::str::from_utf8(&self.stream_id).ok()
    }

    /// Accepts the caller with the listener's options.
    pub fn accept(mut self) -> Result<SrtSocket, Error> {
        self.answer(Ok(None))?.ok_or(Error::AcceptFailed)
    }

    /// Accepts the caller with `options` for this connection instead of the listener's (e.g. its own passphrase or latency).
    pub fn accept_with(mut self, options: SocketOptions) -> Result<SrtSocket, Error> {
        self.answer(Ok(Some(options)))?.ok_or(Error::AcceptFailed)
    }

    /// Refuses the caller, who sees `reason` (e.g. `RejectReason::Server(1403)` for libsrt's `SRT_REJX_FORBIDDEN`).
    pub fn reject(mut self, reason: RejectReason) -> Result<(), Error> {
        self.answer(Err(reason)).map(|_| ())
    }

    /// Gives the engine the application's answer: accept (with these
    /// options, or the listener's) or refuse.
    fn answer(
        &mut self,
        decision: Result<Option<SocketOptions>, RejectReason>,
    ) -> Result<Option<SrtSocket>, Error> {
        self.answered = true;
        let id = {
            let mut guard = self.shared.lock();
            let st = &mut *guard;
            if st.listener.is_none() {
                return Err(Error::Closed);
            }
            let now = Instant::now();
            let result = match decision {
                Err(reason) => st
                    .endpoint
                    .refuse_incoming(now, self.id, reason)
                    .map(|_| None),
                Ok(options) => st
                    .endpoint
                    .accept_incoming(now, self.id, options.as_ref())
                    .map(Some),
            };
            self.shared.wake_driver();
            let id = match result {
                Ok(Some(id)) => id,
                Ok(None) => return Ok(None),
                Err(IncomingError::Refused(_)) => return Err(Error::AcceptFailed),
                Err(_) => return Err(Error::RequestExpired),
            };
            st.sockets.insert(
                id,
                SocketSlot {
                    connected: true,
                    ..SocketSlot::default()
                },
            );
            st.handles += 1;
            id
        };
        Ok(Some(SrtSocket::from_parts(
            Arc::clone(&self.shared),
            id,
            self.max_message,
        )))
    }
}

impl Drop for ConnectionRequest {
    fn drop(&mut self) {
        if self.answered {
            return;
        }
        let _ = self.answer(Err(RejectReason::Peer));
    }
}

impl std::fmt::Debug for SrtListener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SrtListener")
            .field("local", &self.shared.local_addr())
            .finish()
    }
}

impl std::fmt::Debug for ConnectionRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectionRequest")
            .field("peer", &self.peer)
            .field("id", &self.id)
            .field("stream_id", &String::from_utf8_lossy(&self.stream_id))
            .field("trans_type", &self.trans_type)
            .finish()
    }
}
