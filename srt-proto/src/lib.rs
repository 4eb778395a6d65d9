#![warn(missing_docs)]
//! SRT (Secure Reliable Transport) as a sans-IO, deterministic state machine.
//!
//! This crate reads no clock, opens no socket, starts no thread and keeps no
//! global state: time and randomness are handed in by the caller, so every
//! run is a pure function of its inputs. Drivers (`srt-mio`, `srt-tokio`,
//! `srt-capi`) bind it to real I/O.
//!
//! The engine is [`Endpoint`]: all SRT sockets on one UDP port. A driver
//! feeds it datagrams ([`Endpoint::handle_datagram`]) and timer ticks
//! ([`Endpoint::handle_timeout`]), sends what it writes
//! ([`Endpoint::poll_transmit`]) and reacts to its [`Event`]s; its
//! documentation has a complete driver loop over `std::net::UdpSocket`.
//! Inside, an endpoint demultiplexes by socket ID, answers a listener's
//! inductions statelessly (SYN cookies), and runs one [`Connection`] per
//! socket: handshake (HSv5, rendezvous), encryption (AES-CTR and AES-GCM
//! key material), the live and file transfer with ACK/NAK,
//! retransmission, TSBPD delivery, too-late drop and congestion control,
//! and libsrt's statistics ([`TraceBStats`]).
//!
//! Public modules: [`options`] (the `SRTO_*` options with libsrt's
//! defaults, checks and `srt_setsockopt` semantics), [`packet`] (every data
//! and control packet of libsrt 1.5, byte-exact), [`seq`] (the wrapping
//! numbers they carry), [`crypto`] (key derivation and wrapping, packet
//! ciphers), [`stats`]. With feature `sim`, `sim` runs endpoints over
//! simulated lossy, delayed, rate-limited links, deterministically from a
//! seed. The types a driver needs are re-exported here.

mod buffer;
mod cc;
mod connection;
pub mod crypto;
mod endpoint;
mod estimate;
pub mod filter;
pub mod group;
mod handshake;
pub mod options;
pub mod packet;
mod rng;
pub mod seq;
#[cfg(feature = "sim")]
pub mod sim;
pub mod stats;
mod transfer;
mod tsbpd;

pub use connection::{
    BreakCause, CloseMode, ConnState, ConnTimers, Connection, Event, RecvInfo, SocketConfig,
    Transmit, DELIVERY_MARGIN, LOSSLESS_LINGER_EXTRA,
};
pub use endpoint::{
    AcceptHook, ConnectionRequest, Endpoint, EndpointConfig, EndpointError, EndpointStats,
    IncomingError, IncomingId,
};
pub use handshake::TransType;
pub use options::{CryptoMode, SockOpt, SocketOptions};
pub use packet::{RejectReason, SocketId};
pub use seq::{MsgNumber, SeqNumber};
pub use stats::TraceBStats;
pub use transfer::{MsgCtrl, RecvError, SendError, Sent, TransferConfig};
