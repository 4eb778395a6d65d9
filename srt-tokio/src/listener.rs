//! The listener and the connection requests it yields.
//!
//! The engine's accept hook is synchronous: it must accept or refuse a
//! caller's CONCLUSION while the engine handles it. The application's
//! decision is asynchronous, so the driver holds a listener's new
//! CONCLUSION back from the engine (keyed by caller address and socket
//! ID, as the engine keys accepted connections), hands the request to the
//! application, and keeps the latest copy as the caller repeats it every
//! 250 ms. When the application answers, the held CONCLUSION goes to the
//! engine, marked with the time it arrived, and the hook applies the
//! decision. A caller that stops repeating (it gave up after its connect
//! timeout) is forgotten after 2 s of silence; a request older than the
//! listener's connect timeout whose caller has been silent for 600 ms is
//! refused with [`Error::RequestExpired`] rather than accepted, since its
//! caller is gone.

use crate::driver::{Decision, Shared, SocketSlot};
use crate::error::Error;
use crate::socket::SrtSocket;
use futures_core::Stream;
use srt_proto::packet::RejectReason;
use srt_proto::SocketOptions;
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
        let mut st = self.shared.lock();
        if st.stopped {
            return Poll::Ready(None);
        }
        let Some(l) = st.listener.as_mut() else {
            return Poll::Ready(None);
        };
        while let Some(info) = l.queue.pop_front() {
            if l.pending.contains_key(&info.key) {
                return Poll::Ready(Some(ConnectionRequest {
                    shared: Arc::clone(&self.shared),
                    peer: info.key.0,
                    caller_id: info.key.1,
                    stream_id: info.stream_id,
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
        if let Some(l) = st.listener.take() {
            for (key, pending) in l.pending {
                *l.decision.lock().unwrap_or_else(|e| e.into_inner()) =
                    Some(Decision::Reject(RejectReason::Close));
                st.endpoint
                    .handle_datagram(pending.arrived, key.0, &pending.datagram);
            }
        }
        st.endpoint.stop_listening(Instant::now());
        st.handles = st.handles.saturating_sub(1);
        self.shared.wake_driver();
    }
}

/// A caller waiting for the application's decision; dropping it unanswered rejects with `SRT_REJ_PEER`.
pub struct ConnectionRequest {
    shared: Arc<Shared>,
    peer: SocketAddr,
    caller_id: u32,
    stream_id: Vec<u8>,
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

    /// The stream ID as text, if it is UTF-8.
    pub fn stream_id_str(&self) -> Option<&str> {
        std::str::from_utf8(&self.stream_id).ok()
    }

    /// Accepts the caller with the listener's options.
    pub fn accept(mut self) -> Result<SrtSocket, Error> {
        self.answer(Decision::Accept(None))?
            .ok_or(Error::AcceptFailed)
    }

    /// Accepts the caller with `options` for this connection instead of the listener's (e.g. its own passphrase or latency).
    pub fn accept_with(mut self, options: SocketOptions) -> Result<SrtSocket, Error> {
        self.answer(Decision::Accept(Some(Box::new(options))))?
            .ok_or(Error::AcceptFailed)
    }

    /// Refuses the caller, who sees `reason` (e.g. `RejectReason::Server(1403)` for libsrt's `SRT_REJX_FORBIDDEN`).
    pub fn reject(mut self, reason: RejectReason) -> Result<(), Error> {
        self.answer(Decision::Reject(reason)).map(|_| ())
    }

    /// Hands the held CONCLUSION to the engine with `decision`.
    fn answer(&mut self, decision: Decision) -> Result<Option<SrtSocket>, Error> {
        self.answered = true;
        let key = (self.peer, self.caller_id);
        let accepting = matches!(decision, Decision::Accept(_));
        let id = {
            let mut guard = self.shared.lock();
            let st = &mut *guard;
            let Some(l) = st.listener.as_mut() else {
                return Err(Error::Closed);
            };
            let Some(pending) = l.pending.remove(&key) else {
                return Err(Error::RequestExpired);
            };
            if pending.given_up(Instant::now(), l.conn_timeout) {
                return Err(Error::RequestExpired);
            }
            if let Decision::Reject(reason) = &decision {
                l.refused.insert(key, (*reason, Instant::now()));
            }
            *l.decision.lock().unwrap_or_else(|e| e.into_inner()) = Some(decision);
            // The CONCLUSION is handled as of when it arrived, so that the
            // connection's clock and TSBPD base match the caller's.
            st.endpoint
                .handle_datagram(pending.arrived, key.0, &pending.datagram);
            *l.decision.lock().unwrap_or_else(|e| e.into_inner()) = None;
            self.shared.wake_driver();
            if !accepting {
                return Ok(None);
            }
            let mut found = None;
            while let Some(id) = st.endpoint.accept() {
                let ours = st
                    .endpoint
                    .connection(id)
                    .is_some_and(|c| c.remote() == key.0 && c.peer_id() == key.1);
                if ours && found.is_none() {
                    found = Some(id);
                } else {
                    let _ = st
                        .endpoint
                        .close(Instant::now(), id, srt_proto::CloseMode::Abort);
                }
            }
            let id = found.ok_or(Error::AcceptFailed)?;
            l.accepted.insert(key, id);
            st.sockets.insert(
                id,
                SocketSlot {
                    connected: true,
                    accepted_key: Some(key),
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
        let _ = self.answer(Decision::Reject(RejectReason::Peer));
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
            .field("caller_id", &self.caller_id)
            .field("stream_id", &String::from_utf8_lossy(&self.stream_id))
            .finish()
    }
}
