//! libsrt's error codes, their messages, and the per-thread last error.
//!
//! An error code is `1000 * major + minor` (`SRT_ERRNO` in srt.h). libsrt
//! keeps the last error of each thread with the system `errno` that came
//! with it; [`set_last_error`] and [`last_error`] are that store.

use std::cell::Cell;
use std::ffi::CStr;

/// An SRT error code as srt.h's `SRT_ERRNO` (`1000 * major + minor`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SrtErrno(pub i32);

impl SrtErrno {
    /// `SRT_EUNKNOWN`: an error libsrt cannot classify (also a caught panic).
    pub const EUNKNOWN: SrtErrno = SrtErrno(-1);
    /// `SRT_SUCCESS`: no error.
    pub const SUCCESS: SrtErrno = SrtErrno(0);
    /// `SRT_ECONNSETUP`: connection setup failure.
    pub const ECONNSETUP: SrtErrno = SrtErrno(1000);
    /// `SRT_ENOSERVER`: connection timed out.
    pub const ENOSERVER: SrtErrno = SrtErrno(1001);
    /// `SRT_ECONNREJ`: connection rejected.
    pub const ECONNREJ: SrtErrno = SrtErrno(1002);
    /// `SRT_ESOCKFAIL`: could not create or configure the socket.
    pub const ESOCKFAIL: SrtErrno = SrtErrno(1003);
    /// `SRT_ESECFAIL`: aborted for security reasons.
    pub const ESECFAIL: SrtErrno = SrtErrno(1004);
    /// `SRT_ESCLOSED`: socket closed during the operation.
    pub const ESCLOSED: SrtErrno = SrtErrno(1005);
    /// `SRT_ECONNFAIL`: connection failure.
    pub const ECONNFAIL: SrtErrno = SrtErrno(2000);
    /// `SRT_ECONNLOST`: connection was broken.
    pub const ECONNLOST: SrtErrno = SrtErrno(2001);
    /// `SRT_ENOCONN`: not connected.
    pub const ENOCONN: SrtErrno = SrtErrno(2002);
    /// `SRT_ERESOURCE`: system resource failure.
    pub const ERESOURCE: SrtErrno = SrtErrno(3000);
    /// `SRT_ETHREAD`: could not create a thread.
    pub const ETHREAD: SrtErrno = SrtErrno(3001);
    /// `SRT_ENOBUF`: could not allocate buffers.
    pub const ENOBUF: SrtErrno = SrtErrno(3002);
    /// `SRT_ESYSOBJ`: could not allocate a system object.
    pub const ESYSOBJ: SrtErrno = SrtErrno(3003);
    /// `SRT_EFILE`: file system failure.
    pub const EFILE: SrtErrno = SrtErrno(4000);
    /// `SRT_EINVRDOFF`: cannot seek the read position.
    pub const EINVRDOFF: SrtErrno = SrtErrno(4001);
    /// `SRT_ERDPERM`: read failure.
    pub const ERDPERM: SrtErrno = SrtErrno(4002);
    /// `SRT_EINVWROFF`: cannot seek the write position.
    pub const EINVWROFF: SrtErrno = SrtErrno(4003);
    /// `SRT_EWRPERM`: write failure.
    pub const EWRPERM: SrtErrno = SrtErrno(4004);
    /// `SRT_EINVOP`: operation not supported.
    pub const EINVOP: SrtErrno = SrtErrno(5000);
    /// `SRT_EBOUNDSOCK`: the socket is already bound.
    pub const EBOUNDSOCK: SrtErrno = SrtErrno(5001);
    /// `SRT_ECONNSOCK`: the socket is connected or listening.
    pub const ECONNSOCK: SrtErrno = SrtErrno(5002);
    /// `SRT_EINVPARAM`: bad parameters.
    pub const EINVPARAM: SrtErrno = SrtErrno(5003);
    /// `SRT_EINVSOCK`: invalid socket ID.
    pub const EINVSOCK: SrtErrno = SrtErrno(5004);
    /// `SRT_EUNBOUNDSOCK`: the socket is not bound.
    pub const EUNBOUNDSOCK: SrtErrno = SrtErrno(5005);
    /// `SRT_ENOLISTEN`: the socket is not listening.
    pub const ENOLISTEN: SrtErrno = SrtErrno(5006);
    /// `SRT_ERDVNOSERV`: listen/accept on a rendezvous socket.
    pub const ERDVNOSERV: SrtErrno = SrtErrno(5007);
    /// `SRT_ERDVUNBOUND`: rendezvous connect on an unbound socket.
    pub const ERDVUNBOUND: SrtErrno = SrtErrno(5008);
    /// `SRT_EINVALMSGAPI`: wrong use of the message API.
    pub const EINVALMSGAPI: SrtErrno = SrtErrno(5009);
    /// `SRT_EINVALBUFFERAPI`: wrong use of the buffer or file API.
    pub const EINVALBUFFERAPI: SrtErrno = SrtErrno(5010);
    /// `SRT_EDUPLISTEN`: another socket listens on the same port.
    pub const EDUPLISTEN: SrtErrno = SrtErrno(5011);
    /// `SRT_ELARGEMSG`: message larger than the send buffer.
    pub const ELARGEMSG: SrtErrno = SrtErrno(5012);
    /// `SRT_EINVPOLLID`: invalid epoll ID.
    pub const EINVPOLLID: SrtErrno = SrtErrno(5013);
    /// `SRT_EPOLLEMPTY`: waiting on an empty epoll container.
    pub const EPOLLEMPTY: SrtErrno = SrtErrno(5014);
    /// `SRT_EBINDCONFLICT`: the port is bound with incompatible settings.
    pub const EBINDCONFLICT: SrtErrno = SrtErrno(5015);
    /// `SRT_EASYNCFAIL`: non-blocking call failure.
    pub const EASYNCFAIL: SrtErrno = SrtErrno(6000);
    /// `SRT_EASYNCSND`: no room in the send buffer.
    pub const EASYNCSND: SrtErrno = SrtErrno(6001);
    /// `SRT_EASYNCRCV`: no data to read.
    pub const EASYNCRCV: SrtErrno = SrtErrno(6002);
    /// `SRT_ETIMEOUT`: the operation timed out.
    pub const ETIMEOUT: SrtErrno = SrtErrno(6003);
    /// `SRT_ECONGEST`: early congestion notification.
    pub const ECONGEST: SrtErrno = SrtErrno(6004);
    /// `SRT_EPEERERR`: the peer reported an error.
    pub const EPEERERR: SrtErrno = SrtErrno(7000);

    /// The message `srt_strerror` gives for this code ("UNDEFINED ERROR"
    /// for a code libsrt does not know).
    pub fn message(self) -> &'static CStr {
        let undefined = c"UNDEFINED ERROR";
        if self.0 < 0 {
            return undefined;
        }
        let (major, minor) = ((self.0 / 1000) as usize, (self.0 % 1000) as usize);
        MESSAGES
            .get(major)
            .and_then(|minors| minors.get(minor))
            .copied()
            .unwrap_or(undefined)
    }
}

/// The messages by major, then minor code, worded exactly as libsrt
/// 1.5.1's (typos included: later libsrt versions changed five of them).
const MESSAGES: [&[&CStr]; 8] = [
    &[c"Success"],
    &[
        c"Connection setup failure",
        c"Connection setup failure: connection timed out",
        c"Connection setup failure: connection rejected",
        c"Connection setup failure: unable to create/configure SRT socket",
        c"Connection setup failure: aborted for security reasons",
        c"Connection setup failure: socket closed during operation",
    ],
    // libsrt has no message for the bare "connection" class.
    &[c"", c"Connection was broken", c"Connection does not exist"],
    &[
        c"System resource failure",
        c"System resource failure: unable to create new threads",
        c"System resource failure: unable to allocate buffers",
        c"System resource failure: unable to allocate a system object",
    ],
    &[
        c"File system failure",
        c"File system failure: cannot seek read position",
        c"File system failure: failure in read",
        c"File system failure: cannot seek write position",
        c"File system failure: failure in write",
    ],
    &[
        c"Operation not supported",
        c"Operation not supported: Cannot do this operation on a BOUND socket",
        c"Operation not supported: Cannot do this operation on a CONNECTED socket",
        c"Operation not supported: Bad parameters",
        c"Operation not supported: Invalid socket ID",
        c"Operation not supported: Cannot do this operation on an UNBOUND socket",
        c"Operation not supported: Socket is not in listening state",
        c"Operation not supported: Listen/accept is not supported in rendezous connection setup",
        c"Operation not supported: Cannot call connect on UNBOUND socket in rendezvous connection setup",
        c"Operation not supported: Incorrect use of Message API (sendmsg/recvmsg).",
        c"Operation not supported: Incorrect use of Buffer API (send/recv) or File API (sendfile/recvfile).",
        c"Operation not supported: Another socket is already listening on the same port",
        c"Operation not supported: Message is too large to send (it must be less than the SRT send buffer size)",
        c"Operation not supported: Invalid epoll ID",
        c"Operation not supported: All sockets removed from epoll, waiting would deadlock",
        c"Operation not supported: Another socket is bound to that port and is not reusable for requested settings",
    ],
    &[
        c"Non-blocking call failure",
        c"Non-blocking call failure: no buffer available for sending",
        c"Non-blocking call failure: no data available for reading",
        c"Non-blocking call failure: transmission timed out",
        c"Non-blocking call failure: early congestion notification",
    ],
    &[c"The peer side has signaled an error"],
];

/// An error of a C API call: the SRT code and the system `errno` behind it
/// (0 if none).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{} (SRT error {}, errno {})", code.message().to_string_lossy(), code.0, sys_errno)]
pub struct SrtError {
    /// The SRT error code.
    pub code: SrtErrno,
    /// The system error number that caused it, or 0.
    pub sys_errno: i32,
}

impl SrtError {
    /// An error with no system error behind it.
    pub const fn new(code: SrtErrno) -> SrtError {
        SrtError { code, sys_errno: 0 }
    }

    /// An error caused by a failed system call that left `sys_errno`.
    pub const fn with_errno(code: SrtErrno, sys_errno: i32) -> SrtError {
        SrtError { code, sys_errno }
    }
}

/// An `srt-mio` error as libsrt's last error: its code and system errno.
pub fn mio_error(e: srt_mio::Error) -> SrtError {
    SrtError::with_errno(SrtErrno(e.code()), e.sys_errno())
}

impl From<srt_mio::Error> for SrtError {
    fn from(e: srt_mio::Error) -> SrtError {
        mio_error(e)
    }
}

impl From<SrtErrno> for SrtError {
    fn from(code: SrtErrno) -> SrtError {
        SrtError::new(code)
    }
}

thread_local! {
    /// This thread's last error (`srt_getlasterror`).
    static LAST_ERROR: Cell<SrtError> = const { Cell::new(SrtError::new(SrtErrno::SUCCESS)) };
}

/// Records `error` as this thread's last error.
pub fn set_last_error(error: SrtError) {
    LAST_ERROR.with(|last| last.set(error));
}

/// This thread's last error (code `SRT_SUCCESS` after a clear).
pub fn last_error() -> SrtError {
    LAST_ERROR.with(Cell::get)
}

/// Clears this thread's last error to `SRT_SUCCESS` with errno 0.
pub fn clear_last_error() {
    set_last_error(SrtError::new(SrtErrno::SUCCESS));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_follow_major_and_minor() {
        assert_eq!(SrtErrno::SUCCESS.message(), c"Success");
        assert_eq!(
            SrtErrno::EINVSOCK.message(),
            c"Operation not supported: Invalid socket ID"
        );
        assert_eq!(SrtErrno::ECONNFAIL.message(), c"");
        assert_eq!(SrtErrno(5016).message(), c"UNDEFINED ERROR");
        assert_eq!(SrtErrno(8000).message(), c"UNDEFINED ERROR");
        assert_eq!(SrtErrno::EUNKNOWN.message(), c"UNDEFINED ERROR");
    }

    #[test]
    fn last_error_is_per_thread() {
        set_last_error(SrtError::with_errno(SrtErrno::ESOCKFAIL, 98));
        std::thread::spawn(|| assert_eq!(last_error().code, SrtErrno::SUCCESS))
            .join()
            .unwrap();
        assert_eq!(last_error(), SrtError::with_errno(SrtErrno::ESOCKFAIL, 98));
        clear_last_error();
        assert_eq!(last_error(), SrtError::new(SrtErrno::SUCCESS));
    }
}
