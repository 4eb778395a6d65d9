//! SRT (Secure Reliable Transport) as a sans-IO, deterministic state machine.
//!
//! This crate reads no clock, opens no socket, starts no thread and keeps no
//! global state: time and randomness are handed in by the caller, so every
//! run is a pure function of its inputs. Drivers (`srt-mio`, `srt-tokio`,
//! `srt-capi`) bind it to real I/O.
//!
//! So far it holds the wire format: [`packet`] (every data and control packet
//! of libsrt 1.5, encoded and decoded byte-exact) and [`seq`] (the wrapping
//! numbers those packets carry).

pub mod connection;
pub mod endpoint;
pub mod handshake;
pub mod packet;
pub mod seq;

pub use connection::{
    BreakCause, CloseMode, ConnState, ConnTimers, Connection, Event, SocketConfig, Transmit,
};
pub use endpoint::{
    AcceptHook, ConnectionRequest, Endpoint, EndpointConfig, EndpointError, EndpointStats,
};
