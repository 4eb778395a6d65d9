//! The packet filter layer between sender/receiver and the wire, and
//! libsrt's builtin `fec` filter (libsrt's packetfilter.cpp, fec.cpp).
//!
//! - [`config`]: `SRTO_PACKETFILTER` strings, the FEC parameters with
//!   libsrt's defaults and checks, and the handshake negotiation
//!   (`SRT_CMD_FILTER`, refusals are `SRT_REJ_FILTER`).
//! - [`fec`]: a sans-IO FEC sender (data packets in, FEC packets out) and
//!   receiver (data and FEC packets in, rebuilt packets and irrecoverable
//!   losses out), with fixed memory per configuration.
//!
//! The engine negotiates the filter in the handshake (`handshake.rs`, the
//! FILTER block) and runs it at the transfer's packet seam (`transfer`).

pub mod config;
pub mod fec;

pub use config::{
    negotiate, AgreedFilter, ArqLevel, FecConfig, FecLayout, FilterConfig, FilterConfigError,
    FilterNegotiationError, HsSide,
};
pub use fec::{
    FecControl, FecError, FecReceiver, FecReceiverStats, FecSender, Rebuilt, RecvVerdict,
};

#[cfg(test)]
mod tests;
