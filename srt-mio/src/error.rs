//! Errors with libsrt's codes (`SRT_ERRNO`: `1000 * major + minor`, `srt.h`).

use srt_proto::options::OptionError;
use srt_proto::packet::RejectReason;
use std::io;

/// libsrt's `SRT_ERRNO` values (`srt.h` 1.5, `enum CodeMajor` × 1000 + `enum CodeMinor`).
pub mod code {
    pub use srt_proto::options::errno::{
        SRT_EBOUNDSOCK, SRT_ECONNLOST, SRT_ECONNSOCK, SRT_EINVOP, SRT_EINVPARAM, SRT_ERDVNOSERV,
        SRT_ERDVUNBOUND, SRT_ESCLOSED, SRT_EUNBOUNDSOCK,
    };
    /// `SRT_EUNKNOWN`: unknown error.
    pub const SRT_EUNKNOWN: i32 = -1;
    /// `SRT_ECONNSETUP`: connection setup failure (a system call failed).
    pub const SRT_ECONNSETUP: i32 = 1000;
    /// `SRT_ENOSERVER`: connection timed out.
    pub const SRT_ENOSERVER: i32 = 1001;
    /// `SRT_ECONNREJ`: connection rejected.
    pub const SRT_ECONNREJ: i32 = 1002;
    /// `SRT_ESOCKFAIL`: the UDP socket could not be created or configured.
    pub const SRT_ESOCKFAIL: i32 = 1003;
    /// `SRT_ESECFAIL`: security failure.
    pub const SRT_ESECFAIL: i32 = 1004;
    /// `SRT_ECONNFAIL`: connection failure.
    pub const SRT_ECONNFAIL: i32 = 2000;
    /// `SRT_ENOCONN`: the socket is not connected.
    pub const SRT_ENOCONN: i32 = 2002;
    /// `SRT_ERESOURCE`: system resource failure.
    pub const SRT_ERESOURCE: i32 = 3000;
    /// `SRT_ETHREAD`: a thread could not be started.
    pub const SRT_ETHREAD: i32 = 3001;
    /// `SRT_ENOBUF`: out of memory.
    pub const SRT_ENOBUF: i32 = 3002;
    /// `SRT_EINVSOCK`: no valid socket with this ID.
    pub const SRT_EINVSOCK: i32 = 5004;
    /// `SRT_ENOLISTEN`: the socket is not listening.
    pub const SRT_ENOLISTEN: i32 = 5006;
    /// `SRT_EINVALMSGAPI`: wrong use of the message API.
    pub const SRT_EINVALMSGAPI: i32 = 5009;
    /// `SRT_EINVALBUFFERAPI`: wrong use of the stream API.
    pub const SRT_EINVALBUFFERAPI: i32 = 5010;
    /// `SRT_EDUPLISTEN`: another socket already listens on this port.
    pub const SRT_EDUPLISTEN: i32 = 5011;
    /// `SRT_ELARGEMSG`: the message is too large.
    pub const SRT_ELARGEMSG: i32 = 5012;
    /// `SRT_EINVPOLLID`: no epoll container with this ID.
    pub const SRT_EINVPOLLID: i32 = 5013;
    /// `SRT_EPOLLEMPTY`: the epoll container has no subscribed socket.
    pub const SRT_EPOLLEMPTY: i32 = 5014;
    /// `SRT_EBINDCONFLICT`: the binding conflicts with an existing one.
    pub const SRT_EBINDCONFLICT: i32 = 5015;
    /// `SRT_EASYNCFAIL`: a non-blocking call failed.
    pub const SRT_EASYNCFAIL: i32 = 6000;
    /// `SRT_EASYNCSND`: no room in the send buffer (non-blocking).
    pub const SRT_EASYNCSND: i32 = 6001;
    /// `SRT_EASYNCRCV`: nothing to receive or accept (non-blocking).
    pub const SRT_EASYNCRCV: i32 = 6002;
    /// `SRT_ETIMEOUT`: the blocking call timed out.
    pub const SRT_ETIMEOUT: i32 = 6003;
    /// `SRT_ECONGEST`: congestion.
    pub const SRT_ECONGEST: i32 = 6004;
    /// `SRT_EPEERERR`: the peer reported an error.
    pub const SRT_EPEERERR: i32 = 7000;
}

use code::*;

/// Why an `srt-mio` operation failed; [`Error::code`] is libsrt's `SRT_ERRNO`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An option or a socket's phase refused the call (`srt_setsockopt`, bind/listen/connect checks).
    #[error(transparent)]
    Option(#[from] OptionError),
    /// The connection attempt failed with this reason; `SRT_REJ_TIMEOUT` is `SRT_ENOSERVER`, any other `SRT_ECONNREJ`.
    #[error("connection failed: {0:?}")]
    Rejected(RejectReason),
    /// A system call failed; `code` is libsrt's error for it.
    #[error("{what}: {source}")]
    System {
        /// libsrt's error code (`SRT_ESOCKFAIL`, `SRT_ECONNSETUP`, ...).
        code: i32,
        /// What was being done.
        what: &'static str,
        /// The system error.
        #[source]
        source: io::Error,
    },
    /// Any other libsrt error, by code.
    #[error("{} (SRT error {})", describe(*.0), .0)]
    Srt(i32),
}

/// A failed [`Context::bind_acquire`](crate::Context::bind_acquire): the
/// error, and the UDP socket, which stays the caller's.
#[derive(Debug, thiserror::Error)]
#[error("{error}")]
pub struct AcquireError {
    /// Why the socket could not be bound.
    #[source]
    pub error: Error,
    /// The UDP socket that was offered, unchanged but for `O_NONBLOCK`.
    pub socket: std::net::UdpSocket,
}

impl AcquireError {
    /// libsrt's `SRT_ERRNO` value of the error.
    pub fn code(&self) -> i32 {
        self.error.code()
    }
}

impl From<AcquireError> for Error {
    fn from(e: AcquireError) -> Self {
        e.error
    }
}

impl Error {
    /// libsrt's `SRT_ERRNO` value (`srt_getlasterror`).
    pub fn code(&self) -> i32 {
        match self {
            Error::Option(e) => e.srt_errno(),
            Error::Rejected(RejectReason::Timeout) => SRT_ENOSERVER,
            Error::Rejected(_) => SRT_ECONNREJ,
            Error::System { code, .. } => *code,
            Error::Srt(code) => *code,
        }
    }

    /// The system `errno` libsrt reports with the error (`srt_getlasterror`'s `errno_loc`), 0 if none.
    pub fn sys_errno(&self) -> i32 {
        match self {
            Error::System { source, .. } => source.raw_os_error().unwrap_or(0),
            _ => 0,
        }
    }

    /// The rejection reason of a failed connection (`srt_getrejectreason`).
    pub fn reject_reason(&self) -> Option<RejectReason> {
        match self {
            Error::Rejected(r) => Some(*r),
            _ => None,
        }
    }

    pub(crate) fn system(code: i32, what: &'static str, source: io::Error) -> Error {
        Error::System { code, what, source }
    }
}

/// libsrt's message for an error code (`srt_strerror`, shortened).
pub fn describe(code: i32) -> &'static str {
    match code {
        0 => "success",
        SRT_ECONNSETUP => "connection setup failure",
        SRT_ENOSERVER => "connection setup failure: connection timed out",
        SRT_ECONNREJ => "connection setup failure: connection rejected",
        SRT_ESOCKFAIL => "connection setup failure: unable to create/configure SRT socket",
        SRT_ESECFAIL => "connection setup failure: aborted for security reasons",
        SRT_ESCLOSED => "connection setup failure: socket closed during operation",
        SRT_ECONNFAIL => "connection failure",
        SRT_ECONNLOST => "connection was broken",
        SRT_ENOCONN => "connection does not exist",
        SRT_ERESOURCE => "system resource failure",
        SRT_ETHREAD => "unable to create new threads",
        SRT_ENOBUF => "unable to allocate buffers",
        SRT_EINVOP => "operation not supported",
        SRT_EBOUNDSOCK => "cannot do this operation on a bound socket",
        SRT_ECONNSOCK => "cannot do this operation on a connected socket",
        SRT_EINVPARAM => "bad parameters",
        SRT_EINVSOCK => "invalid socket ID",
        SRT_EUNBOUNDSOCK => "cannot do this operation on an unbound socket",
        SRT_ENOLISTEN => "socket is not in listening state",
        SRT_ERDVNOSERV => "listen/accept is not supported in rendezvous connection setup",
        SRT_ERDVUNBOUND => "cannot call connect on an unbound socket in rendezvous mode",
        SRT_EINVALMSGAPI => "incorrect use of message API",
        SRT_EINVALBUFFERAPI => "incorrect use of buffer API",
        SRT_EDUPLISTEN => "another socket is already listening on the same port",
        SRT_ELARGEMSG => "message is too large to send",
        SRT_EINVPOLLID => "invalid epoll ID",
        SRT_EPOLLEMPTY => "all sockets removed from epoll, waiting would deadlock",
        SRT_EBINDCONFLICT => "another socket is bound to that port and is not reusable",
        SRT_EASYNCFAIL => "non-blocking call failure",
        SRT_EASYNCSND => "no buffer available for sending",
        SRT_EASYNCRCV => "no data available for reading",
        SRT_ETIMEOUT => "the operation timed out",
        SRT_ECONGEST => "congestion control limit reached",
        SRT_EPEERERR => "the peer side has signaled an error",
        _ => "unknown error",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_libsrts() {
        // Values from Debian's /usr/include/srt/srt.h (libsrt 1.5.1).
        assert_eq!(Error::Srt(SRT_EINVSOCK).code(), 5004);
        assert_eq!(Error::Rejected(RejectReason::Timeout).code(), 1001);
        assert_eq!(Error::Rejected(RejectReason::Peer).code(), 1002);
        assert_eq!(Error::from(OptionError::Unbound).code(), SRT_EUNBOUNDSOCK);
        assert_eq!(SRT_EPOLLEMPTY, 5014);
        assert_eq!(SRT_EBINDCONFLICT, 5015);
        assert_eq!(SRT_EASYNCRCV, 6002);
        let e = Error::system(SRT_ESOCKFAIL, "bind", io::Error::from_raw_os_error(98));
        assert_eq!((e.code(), e.sys_errno()), (1003, 98));
    }
}
