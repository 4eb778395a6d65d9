//! The errors of `srt-tokio`.

use srt_proto::options::OptionError;
use srt_proto::packet::RejectReason;
use srt_proto::{BreakCause, EndpointError};
use std::io;

/// Why an SRT operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The UDP socket failed (bind, send, receive).
    #[error("UDP socket: {0}")]
    Io(#[from] io::Error),
    /// An option value was refused (libsrt's `srt_setsockopt` error).
    #[error("invalid option: {0}")]
    Option(#[from] OptionError),
    /// The engine refused the call (e.g. a rendezvous with this peer is already running).
    #[error("endpoint: {0}")]
    Endpoint(#[from] EndpointError),
    /// The peer refused the connection with this reason (`SRT_REJ_*`, `SRT_REJX_*` or a user code).
    #[error("connection rejected: {} (code {})", reject_name(*.0), .0.code())]
    Rejected(RejectReason),
    /// The peer's passphrase differs from ours (`SRT_REJ_BADSECRET`).
    #[error("connection rejected: wrong passphrase (SRT_REJ_BADSECRET)")]
    BadSecret,
    /// No answer from the peer within the connect timeout (`SRTO_CONNTIMEO`).
    #[error("connection timed out")]
    ConnectTimeout,
    /// The established connection broke: the peer shut down or went silent.
    #[error("connection broken: {}", match .0 {
        BreakCause::PeerShutdown => "the peer closed it",
        BreakCause::PeerIdle => "nothing heard from the peer for SRTO_PEERIDLETIMEO",
        _ => "unknown cause",
    })]
    Broken(BreakCause),
    /// The socket was closed locally.
    #[error("socket closed")]
    Closed,
    /// The send buffer is full (`SRT_EASYNCSND`) or nothing is ready to read (`SRT_EASYNCRCV`); only from `try_*` calls.
    #[error("operation would block")]
    WouldBlock,
    /// The message is longer than the payload size allows (`SRT_ELARGEMSG`).
    #[error("message of {len} bytes exceeds the limit of {max}")]
    MessageTooLarge {
        /// The message length.
        len: usize,
        /// The largest allowed.
        max: usize,
    },
    /// The connection request is no longer waiting (the caller gave up, or it was already answered).
    #[error("connection request expired")]
    RequestExpired,
    /// The engine did not accept the connection (it answered the caller with a rejection itself).
    #[error("handshake failed while accepting")]
    AcceptFailed,
    /// A group call was given no member address.
    #[error("a group needs at least one member address")]
    NoMembers,
    /// A socket group could not connect, send or receive.
    #[error("socket group: {0}")]
    Group(String),
    /// The task driving the UDP socket has stopped.
    #[error("the driver task has stopped")]
    DriverStopped,
}

impl Error {
    /// Whether this is the end of a connection the peer closed cleanly.
    pub fn is_peer_closed(&self) -> bool {
        matches!(self, Error::Broken(BreakCause::PeerShutdown))
    }

    /// The error for a failed connection attempt with `reason`.
    pub(crate) fn from_reject(reason: RejectReason) -> Error {
        match reason {
            RejectReason::Timeout => Error::ConnectTimeout,
            RejectReason::BadSecret => Error::BadSecret,
            r => Error::Rejected(r),
        }
    }
}

impl From<Error> for io::Error {
    fn from(e: Error) -> io::Error {
        let kind = match &e {
            Error::Io(e) => e.kind(),
            Error::WouldBlock => io::ErrorKind::WouldBlock,
            Error::ConnectTimeout => io::ErrorKind::TimedOut,
            Error::Rejected(_) | Error::BadSecret => io::ErrorKind::ConnectionRefused,
            Error::Broken(BreakCause::PeerShutdown) => io::ErrorKind::ConnectionReset,
            Error::Broken(_) => io::ErrorKind::ConnectionAborted,
            Error::Closed | Error::DriverStopped => io::ErrorKind::NotConnected,
            Error::Option(_) | Error::MessageTooLarge { .. } => io::ErrorKind::InvalidInput,
            _ => io::ErrorKind::Other,
        };
        io::Error::new(kind, e)
    }
}

/// libsrt's name of a rejection reason.
pub(crate) fn reject_name(r: RejectReason) -> &'static str {
    match r {
        RejectReason::Unknown => "SRT_REJ_UNKNOWN",
        RejectReason::System => "SRT_REJ_SYSTEM",
        RejectReason::Peer => "SRT_REJ_PEER",
        RejectReason::Resource => "SRT_REJ_RESOURCE",
        RejectReason::Rogue => "SRT_REJ_ROGUE",
        RejectReason::Backlog => "SRT_REJ_BACKLOG",
        RejectReason::Ipe => "SRT_REJ_IPE",
        RejectReason::Close => "SRT_REJ_CLOSE",
        RejectReason::Version => "SRT_REJ_VERSION",
        RejectReason::RdvCookie => "SRT_REJ_RDVCOOKIE",
        RejectReason::BadSecret => "SRT_REJ_BADSECRET",
        RejectReason::Unsecure => "SRT_REJ_UNSECURE",
        RejectReason::MessageApi => "SRT_REJ_MESSAGEAPI",
        RejectReason::Congestion => "SRT_REJ_CONGESTION",
        RejectReason::Filter => "SRT_REJ_FILTER",
        RejectReason::Group => "SRT_REJ_GROUP",
        RejectReason::Timeout => "SRT_REJ_TIMEOUT",
        RejectReason::Crypto => "SRT_REJ_CRYPTO",
        RejectReason::Undefined(_) => "undefined SRT_REJ_* code",
        RejectReason::Server(_) => "SRT_REJX_* (server)",
        RejectReason::User(_) => "user code",
        _ => "unknown code",
    }
}
