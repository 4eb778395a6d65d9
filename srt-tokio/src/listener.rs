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

use crate::driver::{Shared, SocketSlot};
use crate::error::Error;
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
pub struct SrtListener {
    shared: Arc<Shared>,
    max_message: usize,
}

impl SrtListener {
    pub(crate) fn new(shared: Arc<Shared>, max_message: usize) -> Self {
        SrtListener {
            shared,
            max_message,
        }
    }

    /// The local UDP address.
    pub fn local_addr(&self) -> SocketAddr {
        self.shared.local_addr()
    }

    /// The next caller asking to connect; `None` once the driver has stopped.
    pub async fn next(&mut self) -> Option<ConnectionRequest> {
        std::future::poll_fn(|cx| self.poll_request(cx)).await
    }

    /// The requests as a [`Stream`] (the listener itself is one).
    pub fn incoming(&mut self) -> &mut Self {
        self
    }

    /// Accepts the next request with the listener's options.
    pub async fn accept(&mut self) -> Result<SrtSocket, Error> {
        loop {
            let request = self.next().await.ok_or(Error::DriverStopped)?;
            match request.accept() {
                Err(Error::RequestExpired) => continue,
                r => return r,
            }
        }
    }

    fn poll_request(&mut self, cx: &mut Context<'_>) -> Poll<Option<ConnectionRequest>> {
        let mut guard = self.shared.lock();
        let st = &mut *guard;
        if st.stopped {
            return Poll::Ready(None);
        }
        let Some(l) = st.listener.as_mut() else {
            return Poll::Ready(None);
        };
        while let Some(id) = l.queue.pop_front() {
            // A request whose caller went silent is forgotten by the engine.
            if let Some(req) = st.endpoint.incoming(id) {
                return Poll::Ready(Some(ConnectionRequest {
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
                }));
            }
        }
        l.waker = Some(cx.waker().clone());
        Poll::Pending
    }
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
