//! Why an option could not be set or read, with libsrt's `SRT_ERRNO` for it.

use super::SockOpt;

/// libsrt's `SRT_ERRNO` values that option handling can produce (`srt.h`:
/// `1000 * major + minor`).
pub mod errno {
    /// `SRT_ESCLOSED` (MJ_SETUP, MN_CLOSED): the socket is closed.
    pub const SRT_ESCLOSED: i32 = 1005;
    /// `SRT_ECONNLOST` (MJ_CONNECTION, MN_CONNLOST): the socket is broken or closing.
    pub const SRT_ECONNLOST: i32 = 2001;
    /// `SRT_EINVOP` (MJ_NOTSUP, MN_NONE): operation not supported.
    pub const SRT_EINVOP: i32 = 5000;
    /// `SRT_EBOUNDSOCK` (MJ_NOTSUP, MN_ISBOUND): the socket is already bound.
    pub const SRT_EBOUNDSOCK: i32 = 5001;
    /// `SRT_ECONNSOCK` (MJ_NOTSUP, MN_ISCONNECTED): the socket is connecting, connected or listening.
    pub const SRT_ECONNSOCK: i32 = 5002;
    /// `SRT_EINVPARAM` (MJ_NOTSUP, MN_INVAL): invalid parameter.
    pub const SRT_EINVPARAM: i32 = 5003;
    /// `SRT_EUNBOUNDSOCK` (MJ_NOTSUP, MN_ISUNBOUND): the socket is not bound.
    pub const SRT_EUNBOUNDSOCK: i32 = 5005;
    /// `SRT_ERDVNOSERV` (MJ_NOTSUP, MN_ISRENDEZVOUS): a rendezvous socket cannot listen.
    pub const SRT_ERDVNOSERV: i32 = 5007;
    /// `SRT_ERDVUNBOUND` (MJ_NOTSUP, MN_ISRENDUNBOUND): a rendezvous socket must be bound first.
    pub const SRT_ERDVUNBOUND: i32 = 5008;
}

/// Why an option could not be set or read, with libsrt's error for it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OptionError {
    /// The value is out of range or of the wrong type (`SRT_EINVPARAM`).
    #[error("{opt}: invalid value: {reason}")]
    InvalidParam {
        /// The option.
        opt: SockOpt,
        /// What is wrong, for logs.
        reason: &'static str,
    },
    /// The option cannot be read (`SRT_EINVOP`): `SRTO_PASSPHRASE`, `SRTO_TRANSTYPE`.
    #[error("{0}: cannot be read")]
    InvalidOp(SockOpt),
    /// A pre-bind option on a bound socket (`SRT_EBOUNDSOCK`).
    #[error("{0}: can only be set before the socket is bound")]
    BoundSocket(SockOpt),
    /// A pre option on a connecting, connected or listening socket (`SRT_ECONNSOCK`).
    #[error("{0}: can only be set before connecting or listening")]
    ConnectedSocket(SockOpt),
    /// Connect or listen on a socket that is already connecting, connected or listening (`SRT_ECONNSOCK`).
    #[error("the socket is already connecting, connected or listening")]
    AlreadyConnected,
    /// Option set on a broken or closing socket (`SRT_ECONNLOST`).
    #[error("the socket is broken or closing")]
    ConnectionLost,
    /// Connect or listen on a broken or closed socket (`SRT_ESCLOSED`).
    #[error("the socket is closed")]
    SocketClosed,
    /// Listen on a socket that is not bound (`SRT_EUNBOUNDSOCK`).
    #[error("the socket is not bound")]
    Unbound,
    /// Connect on a rendezvous socket that is not bound (`SRT_ERDVUNBOUND`).
    #[error("a rendezvous socket must be bound before connecting")]
    RendezvousUnbound,
    /// Listen on a rendezvous socket (`SRT_ERDVNOSERV`).
    #[error("a rendezvous socket cannot listen")]
    RendezvousListen,
    /// A read-only option that reports connection state, which the options do not hold (`SRT_EINVOP` if no one answers).
    #[error("{0}: reports connection state, not an option value")]
    RuntimeState(SockOpt),
}

impl OptionError {
    pub(crate) fn invalid(opt: SockOpt, reason: &'static str) -> Self {
        OptionError::InvalidParam { opt, reason }
    }

    /// libsrt's `SRT_ERRNO` for this error (`srt_getlasterror`).
    pub const fn srt_errno(&self) -> i32 {
        match self {
            OptionError::InvalidParam { .. } => errno::SRT_EINVPARAM,
            OptionError::InvalidOp(_) | OptionError::RuntimeState(_) => errno::SRT_EINVOP,
            OptionError::BoundSocket(_) => errno::SRT_EBOUNDSOCK,
            OptionError::ConnectedSocket(_) | OptionError::AlreadyConnected => errno::SRT_ECONNSOCK,
            OptionError::ConnectionLost => errno::SRT_ECONNLOST,
            OptionError::SocketClosed => errno::SRT_ESCLOSED,
            OptionError::Unbound => errno::SRT_EUNBOUNDSOCK,
            OptionError::RendezvousUnbound => errno::SRT_ERDVUNBOUND,
            OptionError::RendezvousListen => errno::SRT_ERDVNOSERV,
        }
    }
}
