//! Async SRT sockets for tokio, driven by the sans-IO engine `srt-proto`.
//!
//! One task per UDP socket runs the engine ([`srt_proto::Endpoint`]): it
//! waits for datagrams, for calls from the socket handles and for the
//! engine's next timer, and wakes the handles from the engine's events.
//! A caller or rendezvous socket has a UDP socket of its own; every
//! connection accepted by an [`SrtListener`] shares the listener's.
//!
//! Accepting is asynchronous: the listener yields a [`ConnectionRequest`]
//! (peer address, stream ID) for each caller whose SYN cookie is good, and
//! the application answers it when it likes with `accept`, `accept_with`
//! (options of its own for this connection) or `reject` (any libsrt
//! rejection code). Until then the engine holds the request
//! ([`srt_proto::Endpoint::listen_deferred`]); the caller repeats its
//! CONCLUSION every 250 ms and gives up after its connect timeout (3 s by
//! default), which bounds the wait.
//!
//! Socket groups ([`SrtGroup`]): a caller group connects to several
//! addresses at once ([`SrtSocketBuilder::call_group`]); a listener with
//! [`group_connect(true)`](SrtSocketBuilder::group_connect) also accepts
//! group members, and [`SrtListener::accept`] returns what libsrt's
//! `srt_accept` does: [`Accepted::Group`] for the first member of a peer
//! group (its later members join that group by themselves),
//! [`Accepted::Socket`] for a plain caller.
//!
//! ```no_run
//! # async fn demo() -> Result<(), srt_tokio::Error> {
//! use srt_tokio::{MsgCtrl, SrtSocket};
//! use std::time::Duration;
//!
//! let mut listener = SrtSocket::builder().listen("127.0.0.1:9000".parse().unwrap()).await?;
//! tokio::spawn(async move {
//!     while let Some(request) = listener.next().await {
//!         if request.stream_id() == b"live/cam1" {
//!             let socket = request.accept()?;
//!             let msg = socket.recv().await?;
//!             println!("{} bytes from {}", msg.payload.len(), socket.peer_addr());
//!         } else {
//!             request.reject(srt_tokio::RejectReason::Server(1403))?;
//!         }
//!     }
//!     Ok::<(), srt_tokio::Error>(())
//! });
//! let caller = SrtSocket::builder()
//!     .latency(Duration::from_millis(120))
//!     .stream_id("live/cam1")
//!     .call("127.0.0.1:9000".parse().unwrap())
//!     .await?;
//! caller.send_msg(b"hello", MsgCtrl::default()).await?;
//! caller.close_gracefully().await?;
//! # Ok(()) }
//! ```

mod driver;
mod error;
mod group;
mod listener;
mod socket;

pub use error::Error;
pub use group::{GroupType, SrtGroup};
pub use listener::{Accepted, ConnectionRequest, SrtListener};
pub use socket::{Message, SrtSocket, SrtSocketBuilder, TransType};
pub use srt_proto::group::{GroupStats, MemberInfo, MemberKey, MemberState};
pub use srt_proto::options::{OptionValue, SockOpt};
pub use srt_proto::packet::RejectReason;
pub use srt_proto::stats::TraceBStats;
pub use srt_proto::{BreakCause, MsgCtrl, RecvInfo, SocketOptions};
