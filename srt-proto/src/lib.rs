//! SRT (Secure Reliable Transport) as a sans-IO, deterministic state machine.
//!
//! This crate reads no clock, opens no socket, starts no thread and keeps no
//! global state: time and randomness are handed in by the caller, so every
//! run is a pure function of its inputs. Drivers (`srt-mio`, `srt-tokio`,
//! `srt-capi`) bind it to real I/O.
//!
//! So far it holds the wire format: [`packet`] (every data and control packet
//! of libsrt 1.5, encoded and decoded byte-exact) and [`seq`] (the wrapping
//! numbers those packets carry); [`options`] holds the `SRTO_*` socket
//! options with libsrt's defaults and validation. With feature `sim`, `sim`
//! models lossy, delayed, rate-limited links, deterministically from a seed.

pub mod buffer;
pub mod cc;
pub mod connection;
pub mod crypto;
pub mod endpoint;
pub mod estimate;
pub mod filter;
pub mod handshake;
pub mod options;
pub mod packet;
pub mod rng;
pub mod seq;
#[cfg(feature = "sim")]
pub mod sim;
pub mod stats;
pub mod transfer;
pub mod tsbpd;

pub use connection::{
    BreakCause, CloseMode, ConnState, ConnTimers, Connection, Event, RecvInfo, SocketConfig,
    Transmit, DELIVERY_MARGIN, LOSSLESS_LINGER_EXTRA,
};
pub use endpoint::{
    AcceptHook, ConnectionRequest, Endpoint, EndpointConfig, EndpointError, EndpointStats,
};
pub use options::SocketOptions;
pub use transfer::{MsgCtrl, RecvError, SendError, Sent, TransferConfig};
