//! SRT sockets: create, bind, listen, accept, connect, close, state,
//! names, rejection reasons, and the listen and connect callbacks.

use crate::addr;
use crate::api::library::{context_or_start, running_context};
use crate::error::{SrtErrno, SrtError};
use crate::guard::{api_call, api_call_infallible};
use crate::types::{SRTSOCKET, SRT_ERROR, SRT_INVALID_SOCK};
use libc::{c_char, c_int, c_void, sockaddr};
use srt_mio::{ConnectionRequest, Context, RejectReason, SockStatus, SocketOptions};
use std::cell::Cell;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::os::fd::{FromRawFd, IntoRawFd};
use std::sync::{Arc, Mutex, PoisonError};

/// The running context for a call on an existing socket: with the
/// library stopped no socket exists (`SRT_EINVSOCK`).
pub(crate) fn context() -> Result<Arc<Context>, SrtError> {
    running_context().ok_or(SrtError::new(SrtErrno::EINVSOCK))
}

/// `srt_create_socket`: a new socket in `SRTS_INIT` with libsrt's
/// defaults; starts the library if it is not running, as libsrt does.
#[no_mangle]
pub extern "C" fn srt_create_socket() -> SRTSOCKET {
    api_call(
        SRT_INVALID_SOCK,
        || Ok(context_or_start()?.create_socket()?),
    )
}

/// `srt_socket`: the deprecated form of [`srt_create_socket`]; its
/// arguments are ignored, as libsrt 1.5 ignores them.
#[no_mangle]
pub extern "C" fn srt_socket(_af: c_int, _type: c_int, _protocol: c_int) -> SRTSOCKET {
    srt_create_socket()
}

/// `srt_bind`: binds to a local address. A bad address comes first
/// (`SRT_EINVPARAM`), and, as libsrt, an unknown socket is
/// `SRT_EINVPARAM` too.
///
/// # Safety
/// `name` is NULL or points to `namelen` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn srt_bind(u: SRTSOCKET, name: *const sockaddr, namelen: c_int) -> c_int {
    api_call(SRT_ERROR, || {
        // SAFETY: the caller's contract.
        let addr = unsafe { addr::from_c(name, namelen) }?;
        let ctx = context().map_err(|_| SrtError::new(SrtErrno::EINVPARAM))?;
        if ctx.state(u) == SockStatus::NonExist {
            return Err(SrtErrno::EINVPARAM.into());
        }
        ctx.bind(u, addr)?;
        Ok(0)
    })
}

/// `srt_bind_acquire`: binds to an existing UDP socket, which the SRT
/// socket then owns (and closes); an unknown SRT socket is
/// `SRT_EINVPARAM`, as libsrt. When the call fails the descriptor stays
/// the caller's, open.
#[no_mangle]
pub extern "C" fn srt_bind_acquire(u: SRTSOCKET, udpsock: c_int) -> c_int {
    api_call(SRT_ERROR, || {
        let ctx = context().map_err(|_| SrtError::new(SrtErrno::EINVPARAM))?;
        if ctx.state(u) == SockStatus::NonExist {
            return Err(SrtErrno::EINVPARAM.into());
        }
        if udpsock < 0 {
            return Err(SrtErrno::EINVPARAM.into());
        }
        // SAFETY: libsrt's contract: the caller hands the descriptor over.
        let udp = unsafe { std::net::UdpSocket::from_raw_fd(udpsock) };
        match ctx.bind_acquire(u, udp) {
            Ok(()) => Ok(0),
            Err(e) => {
                // Not ours after all: hand it back without closing it.
                let _ = e.socket.into_raw_fd();
                Err(e.error.into())
            }
        }
    })
}

/// `srt_listen`: listens with a backlog of `backlog` connections.
#[no_mangle]
pub extern "C" fn srt_listen(u: SRTSOCKET, backlog: c_int) -> c_int {
    api_call(SRT_ERROR, || {
        context()?.listen(u, backlog)?;
        Ok(0)
    })
}

/// `srt_accept`: the next accepted socket; the peer's address goes to
/// `addr` if it is not NULL (`SRT_EINVPARAM` if `addrlen` is NULL then,
/// or too small, the connection staying queued).
///
/// # Safety
/// `addr` is NULL or points to `*addrlen` writable bytes; `addrlen` is
/// NULL or a valid `int`.
#[no_mangle]
pub unsafe extern "C" fn srt_accept(
    u: SRTSOCKET,
    addr: *mut sockaddr,
    addrlen: *mut c_int,
) -> SRTSOCKET {
    api_call(SRT_INVALID_SOCK, || {
        if !addr.is_null() && addrlen.is_null() {
            return Err(SrtErrno::EINVPARAM.into());
        }
        // As libsrt 1.5.4+: a buffer too small for the next peer's
        // address is SRT_EINVPARAM and leaves that connection queued.
        // SAFETY: `addrlen` is valid when `addr` is not NULL (checked).
        let room = (!addr.is_null()).then(|| unsafe { addrlen.read() });
        let fits = |peer| room.is_none_or(|room| room >= addr::c_len(peer));
        let (s, peer) = context()?.accept_fitting(u, fits)?;
        if !addr.is_null() {
            // SAFETY: the caller's contract.
            unsafe { addr::write_c(peer, addr, addrlen) }?;
        }
        Ok(s)
    })
}

/// `srt_accept_bond`: accepts on whichever listener has a connection
/// first, waiting up to `ms_timeout` ms (-1: forever). As libsrt's, which
/// subscribes the listeners to an epoll container, IDs that do not exist
/// are skipped, and none left is `SRT_EPOLLEMPTY`.
///
/// # Safety
/// `listeners` is NULL or points to `lsize` sockets.
#[no_mangle]
pub unsafe extern "C" fn srt_accept_bond(
    listeners: *const SRTSOCKET,
    lsize: c_int,
    ms_timeout: i64,
) -> SRTSOCKET {
    api_call(SRT_INVALID_SOCK, || {
        // As libsrt, which waits on an epoll container of the listeners:
        // no listener, or none that exists, leaves it empty.
        let empty = || SrtError::new(SrtErrno::EPOLLEMPTY);
        let Ok(size @ 1..) = usize::try_from(lsize) else {
            return Err(empty());
        };
        if listeners.is_null() {
            return Err(SrtErrno::EINVPARAM.into());
        }
        // SAFETY: the caller passes `lsize` sockets.
        let list = unsafe { std::slice::from_raw_parts(listeners, size) };
        let ctx = context().map_err(|_| empty())?;
        let existing: Vec<SRTSOCKET> = list
            .iter()
            .copied()
            .filter(|&l| ctx.state(l) != SockStatus::NonExist)
            .collect();
        if existing.is_empty() {
            return Err(empty());
        }
        let (s, _) = ctx.accept_bond(&existing, timeout_ms(ms_timeout))?;
        Ok(s)
    })
}

/// A libsrt timeout in ms: negative is forever.
pub(crate) fn timeout_ms(ms: i64) -> Option<std::time::Duration> {
    u64::try_from(ms).ok().map(std::time::Duration::from_millis)
}

/// `srt_connect`: connects to a listener (or a rendezvous peer). A bad
/// address is `SRT_EINVPARAM` before the socket is looked up.
///
/// # Safety
/// `name` is NULL or points to `namelen` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn srt_connect(u: SRTSOCKET, name: *const sockaddr, namelen: c_int) -> c_int {
    api_call(SRT_ERROR, || {
        // SAFETY: the caller's contract.
        let target = unsafe { addr::from_c(name, namelen) }?;
        let ctx = context()?;
        forget_reject_reason(u);
        ctx.connect(u, target)?;
        Ok(0)
    })
}

/// `srt_connect_debug`: [`srt_connect`] with `forced_isn` as the initial
/// sequence number (`SRT_SEQNO_NONE`, -1, draws one as `srt_connect`);
/// another negative value is `SRT_EINVPARAM`.
///
/// # Safety
/// As [`srt_connect`].
#[no_mangle]
pub unsafe extern "C" fn srt_connect_debug(
    u: SRTSOCKET,
    name: *const sockaddr,
    namelen: c_int,
    forced_isn: c_int,
) -> c_int {
    if forced_isn == -1 {
        // SAFETY: the caller's contract is srt_connect's.
        return unsafe { srt_connect(u, name, namelen) };
    }
    api_call(SRT_ERROR, || {
        // SAFETY: the caller's contract.
        let target = unsafe { addr::from_c(name, namelen) }?;
        let isn = u32::try_from(forced_isn).map_err(|_| SrtError::new(SrtErrno::EINVPARAM))?;
        let ctx = context()?;
        forget_reject_reason(u);
        ctx.connect_debug(u, target, isn)?;
        Ok(0)
    })
}

/// `srt_connect_bind`: binds to `source`, then connects to `target`;
/// both addresses have `target_len` bytes.
///
/// # Safety
/// `source` and `target` are NULL or point to `target_len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn srt_connect_bind(
    u: SRTSOCKET,
    source: *const sockaddr,
    target: *const sockaddr,
    target_len: c_int,
) -> c_int {
    // SAFETY: the caller's contract.
    unsafe {
        connect_from(
            u,
            (source, target_len),
            (target, target_len),
            Context::connect_bind,
            false,
        )
    }
}

/// Binds `u` to `local` and connects it to `remote` with `connect`
/// (after checking both addresses); with `bind_first` an unknown socket
/// is `SRT_EINVPARAM`, as `srt_bind` reports it (libsrt's
/// `srt_rendezvous` is `srt_bind` then `srt_connect`).
///
/// # Safety
/// Each address is NULL or points to its length in readable bytes.
unsafe fn connect_from(
    u: SRTSOCKET,
    (local, local_len): (*const sockaddr, c_int),
    (remote, remote_len): (*const sockaddr, c_int),
    connect: fn(&Context, SRTSOCKET, SocketAddr, SocketAddr) -> Result<(), srt_mio::Error>,
    bind_first: bool,
) -> c_int {
    api_call(SRT_ERROR, || {
        // SAFETY: the caller's contract.
        let (local, remote) = unsafe {
            (
                addr::from_c(local, local_len)?,
                addr::from_c(remote, remote_len)?,
            )
        };
        let ctx = context()?;
        if bind_first && ctx.state(u) == SockStatus::NonExist {
            // libsrt's srt_bind answers first.
            return Err(SrtErrno::EINVPARAM.into());
        }
        forget_reject_reason(u);
        connect(&ctx, u, local, remote)?;
        Ok(0)
    })
}

/// `srt_rendezvous`: sets `SRTO_RENDEZVOUS`, binds to `local_name` and
/// connects to `remote_name`; the two must be of one family
/// (`SRT_EINVPARAM`, from srt-mio).
///
/// # Safety
/// Each address is NULL or points to its length in readable bytes.
#[no_mangle]
pub unsafe extern "C" fn srt_rendezvous(
    u: SRTSOCKET,
    local_name: *const sockaddr,
    local_namelen: c_int,
    remote_name: *const sockaddr,
    remote_namelen: c_int,
) -> c_int {
    // SAFETY: the caller's contract.
    unsafe {
        connect_from(
            u,
            (local_name, local_namelen),
            (remote_name, remote_namelen),
            Context::rendezvous,
            true,
        )
    }
}

/// `srt_close`: closes a socket; an unknown or already closed one is
/// fine (0), as libsrt.
#[no_mangle]
pub extern "C" fn srt_close(u: SRTSOCKET) -> c_int {
    api_call(SRT_ERROR, || {
        let Some(ctx) = running_context() else {
            return Ok(0);
        };
        forget_reject_reason(u);
        match ctx.state(u) {
            SockStatus::NonExist | SockStatus::Closed | SockStatus::Closing => Ok(0),
            _ => {
                ctx.close(u)?;
                Ok(0)
            }
        }
    })
}

/// `srt_getsockstate`: the socket's `SRT_SOCKSTATUS` (`SRTS_NONEXIST`
/// for an unknown one).
#[no_mangle]
pub extern "C" fn srt_getsockstate(u: SRTSOCKET) -> c_int {
    api_call_infallible(SockStatus::NonExist as c_int, || {
        running_context().map_or(SockStatus::NonExist, |ctx| ctx.state(u)) as c_int
    })
}

/// `srt_connection_time`: when the socket was bound or accepted, on the
/// clock of `srt_time_now` (µs); 0 before; `SRT_EINVSOCK` for an unknown
/// socket, as libsrt.
#[no_mangle]
pub extern "C" fn srt_connection_time(u: SRTSOCKET) -> i64 {
    api_call(i64::from(SRT_ERROR), || {
        let Some(at) = context()?.opened_at(u)? else {
            return Ok(0);
        };
        let ago = i64::try_from(at.elapsed().as_micros()).unwrap_or(i64::MAX);
        Ok(crate::api::library::monotonic_us().saturating_sub(ago))
    })
}

/// `srt_getpeername`: the connected peer's address (`SRT_ENOCONN` when
/// not connected, `SRT_EINVPARAM` for NULL pointers or too little room).
///
/// # Safety
/// `name` is NULL or points to `*namelen` writable bytes; `namelen` is
/// NULL or a valid `int`.
#[no_mangle]
pub unsafe extern "C" fn srt_getpeername(
    u: SRTSOCKET,
    name: *mut sockaddr,
    namelen: *mut c_int,
) -> c_int {
    api_call(SRT_ERROR, || {
        if name.is_null() || namelen.is_null() {
            return Err(SrtErrno::EINVPARAM.into());
        }
        let ctx = context().map_err(|_| SrtError::new(SrtErrno::ENOCONN))?;
        if ctx.state(u) != SockStatus::Connected {
            return Err(SrtErrno::ENOCONN.into());
        }
        let peer = ctx.peer_addr(u)?;
        // SAFETY: the caller's contract.
        unsafe { addr::write_c(peer, name, namelen) }?;
        Ok(0)
    })
}

/// `srt_getsockname`: the local address (`SRT_ENOCONN` before binding,
/// `SRT_EINVSOCK` for an unknown or broken socket).
///
/// # Safety
/// As [`srt_getpeername`].
#[no_mangle]
pub unsafe extern "C" fn srt_getsockname(
    u: SRTSOCKET,
    name: *mut sockaddr,
    namelen: *mut c_int,
) -> c_int {
    api_call(SRT_ERROR, || {
        if name.is_null() || namelen.is_null() {
            return Err(SrtErrno::EINVPARAM.into());
        }
        let ctx = context()?;
        match ctx.state(u) {
            SockStatus::NonExist => return Err(SrtErrno::EINVSOCK.into()),
            SockStatus::Broken => return Err(SrtErrno::EINVSOCK.into()),
            SockStatus::Init => return Err(SrtErrno::ENOCONN.into()),
            _ => {}
        }
        let local = ctx.local_addr(u)?;
        // SAFETY: the caller's contract.
        unsafe { addr::write_c(local, name, namelen) }?;
        Ok(0)
    })
}

/// Rejection reasons set with `srt_setrejectreason` (the context keeps
/// only those of failed connections).
static SET_REASONS: Mutex<Option<HashMap<SRTSOCKET, c_int>>> = Mutex::new(None);

/// Forgets every set rejection reason: the library stopped and its
/// sockets are gone.
pub(crate) fn forget_all_reject_reasons() {
    *SET_REASONS.lock().unwrap_or_else(PoisonError::into_inner) = None;
}

fn forget_reject_reason(u: SRTSOCKET) {
    if let Some(map) = SET_REASONS
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .as_mut()
    {
        map.remove(&u);
    }
}

/// `srt_getrejectreason`: why the socket's connection failed
/// (`SRT_REJ_*`), or the reason set with [`srt_setrejectreason`];
/// `SRT_REJ_UNKNOWN` (0) if none or for an unknown socket, as libsrt.
#[no_mangle]
pub extern "C" fn srt_getrejectreason(u: SRTSOCKET) -> c_int {
    api_call(SRT_ERROR, || {
        if let Some(reason) = callback_reject_reason(u) {
            return Ok(reason);
        }
        let Some(ctx) = running_context() else {
            return Ok(0);
        };
        match ctx.reject_reason(u) {
            Ok(Some(r)) => return Ok(r.code() as c_int),
            Ok(None) => {}
            // libsrt: an unknown socket has no reason (and no error).
            Err(_) => return Ok(0),
        }
        let set = SET_REASONS.lock().unwrap_or_else(PoisonError::into_inner);
        Ok(set.as_ref().and_then(|m| m.get(&u)).copied().unwrap_or(0))
    })
}

/// `srt_setrejectreason`: sets the reason a listen callback's refusal
/// gives (or any socket's, for [`srt_getrejectreason`]); only
/// application codes (`SRT_REJC_PREDEFINED`, 1000, and above;
/// `SRT_EINVPARAM` otherwise).
#[no_mangle]
pub extern "C" fn srt_setrejectreason(u: SRTSOCKET, value: c_int) -> c_int {
    api_call(SRT_ERROR, || {
        if set_callback_reject_reason(u, value)? {
            return Ok(0);
        }
        let ctx = context()?;
        if ctx.state(u) == SockStatus::NonExist {
            return Err(SrtErrno::EINVSOCK.into());
        }
        if value < 1000 {
            return Err(SrtErrno::EINVPARAM.into());
        }
        SET_REASONS
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get_or_insert_with(HashMap::new)
            .insert(u, value);
        Ok(0)
    })
}

// ----- listen callback -----

/// The connection request a listen callback is deciding on, in its thread.
/// The socket it names (`ns`) is the ID `srt_accept` will return; until
/// then option calls and `srt_setrejectreason` on that ID inside the
/// callback act on the pending socket's options and answer.
struct Pending {
    /// The ID the accepted socket will have.
    id: SRTSOCKET,
    /// The new socket's options, as the callback changes them.
    options: *mut SocketOptions,
    /// A reason set with `srt_setrejectreason`.
    reject: Option<c_int>,
}

thread_local! {
    static PENDING: Cell<Option<*mut Pending>> = const { Cell::new(None) };
}

/// The pending connection request of this thread's listen callback if
/// `u` names its socket.
fn pending(u: SRTSOCKET) -> Option<*mut Pending> {
    let p = PENDING.with(Cell::get)?;
    // SAFETY: PENDING is set only while `run_listen_callback` holds the
    // `Pending` and the options it points to, on this thread.
    (unsafe { (*p).id } == u).then_some(p)
}

/// Runs `f` on the pending socket's options if `u` names it inside a
/// listen callback; `None` otherwise.
pub(crate) fn with_pending_options<T>(
    u: SRTSOCKET,
    f: impl FnOnce(&mut SocketOptions) -> T,
) -> Option<T> {
    let p = pending(u)?;
    // SAFETY: as in `pending`.
    Some(f(unsafe { &mut *(*p).options }))
}

fn callback_reject_reason(u: SRTSOCKET) -> Option<c_int> {
    let p = pending(u)?;
    // SAFETY: as in `pending`.
    Some(unsafe { (*p).reject }.unwrap_or(0))
}

fn set_callback_reject_reason(u: SRTSOCKET, value: c_int) -> Result<bool, SrtError> {
    let Some(p) = pending(u) else {
        return Ok(false);
    };
    if value < 1000 {
        return Err(SrtErrno::EINVPARAM.into());
    }
    // SAFETY: as in `with_pending_options`.
    unsafe { (*p).reject = Some(value) };
    Ok(true)
}

/// A C callback and its opaque pointer, moved to the worker thread.
struct CCallback<F> {
    hook: F,
    opaque: *mut c_void,
}

// SAFETY: libsrt calls these callbacks from its own threads too; the
// application owns what `opaque` points to and must allow that.
unsafe impl<F> Send for CCallback<F> {}

impl CCallback<ConnectCallbackFn> {
    /// Tells the C connect callback that `s` failed to connect to `target`.
    fn notify(&self, s: SRTSOCKET, code: c_int, target: SocketAddr) {
        let (peer, _) = addr::to_c(target);
        // A callback that throws a C++ exception: dropped, as libsrt does.
        // SAFETY: the application's callback (through the trampoline), with
        // its opaque pointer and an address that outlive the call.
        let _threw = unsafe {
            srt_capi_call_connect_hook(
                self.hook,
                self.opaque,
                s,
                code,
                (&raw const peer).cast(),
                -1,
            )
        };
    }
}

/// Calls the C listen callback for `req` on the socket to be `id`; -1
/// refuses (with the reason the callback set, else `SRT_REJ_PEER`).
fn run_listen_callback(
    cb: &CCallback<ListenCallbackFn>,
    id: SRTSOCKET,
    req: &ConnectionRequest<'_>,
    options: &mut SocketOptions,
) -> Result<(), RejectReason> {
    let (peer, _) = addr::to_c(req.peer);
    let mut sid = req.stream_id.to_vec();
    sid.push(0);
    let mut pending = Pending {
        id,
        options,
        reject: None,
    };
    PENDING.with(|p| p.set(Some(&raw mut pending)));
    let mut threw: c_int = 0;
    // SAFETY: the application's callback (through the trampoline), with its
    // opaque pointer, a valid address, a NUL-terminated stream ID and
    // `threw`, which outlive the call.
    let result = unsafe {
        srt_capi_call_listen_hook(
            cb.hook,
            cb.opaque,
            id,
            req.hs_version as c_int,
            (&raw const peer).cast(),
            sid.as_ptr().cast(),
            &raw mut threw,
        )
    };
    PENDING.with(|p| p.set(None));
    if threw != 0 {
        // As libsrt 1.5.5: a callback that throws rejects this connection,
        // with the reason it set, else SRT_REJX_FALLBACK.
        let code = pending.reject.map_or(REJX_FALLBACK, |c| c as u32);
        return Err(RejectReason::from_code(code));
    }
    if result == -1 {
        let code = pending
            .reject
            .map_or(RejectReason::Peer.code(), |c| c as u32);
        return Err(RejectReason::from_code(code));
    }
    Ok(())
}

/// `SRT_REJX_FALLBACK`: the reason libsrt 1.5.5 gives a connection whose
/// listen callback threw without setting one.
const REJX_FALLBACK: u32 = 1000;

extern "C" {
    /// src/trampoline.cpp: calls `hook` inside try/catch; a C++ exception
    /// sets `*threw` to 1 and gives -1.
    fn srt_capi_call_listen_hook(
        hook: ListenCallbackFn,
        opaque: *mut c_void,
        ns: SRTSOCKET,
        hsversion: c_int,
        peeraddr: *const sockaddr,
        streamid: *const c_char,
        threw: *mut c_int,
    ) -> c_int;
    /// src/trampoline.cpp: calls `hook` inside try/catch; 1 if it threw.
    fn srt_capi_call_connect_hook(
        hook: ConnectCallbackFn,
        opaque: *mut c_void,
        ns: SRTSOCKET,
        errorcode: c_int,
        peeraddr: *const sockaddr,
        token: c_int,
    ) -> c_int;
}

/// `srt_listen_callback_fn`.
type ListenCallbackFn = unsafe extern "C" fn(
    opaque: *mut c_void,
    ns: SRTSOCKET,
    hsversion: c_int,
    peeraddr: *const sockaddr,
    streamid: *const c_char,
) -> c_int;

/// `srt_connect_callback_fn`.
type ConnectCallbackFn = unsafe extern "C" fn(
    opaque: *mut c_void,
    ns: SRTSOCKET,
    errorcode: c_int,
    peeraddr: *const sockaddr,
    token: c_int,
);

/// Installs a C callback with `install`: a NULL `hook_fn` is
/// `SRT_EINVPARAM`.
fn install_callback<F>(
    hook_fn: Option<F>,
    opaque: *mut c_void,
    install: impl FnOnce(&Context, CCallback<F>) -> Result<(), srt_mio::Error>,
) -> c_int {
    api_call(SRT_ERROR, || {
        let hook = hook_fn.ok_or(SrtError::new(SrtErrno::EINVPARAM))?;
        install(&*context()?, CCallback { hook, opaque })?;
        Ok(0)
    })
}

/// `srt_listen_callback`: `hook_fn` sees each connection request on the
/// worker thread before it is accepted, with the ID `srt_accept` will
/// return for it; it may set options of that new socket with
/// `srt_setsockflag` and refuse it by returning -1 (with
/// `srt_setrejectreason`). It must not call other socket functions. A
/// NULL `hook_fn` is `SRT_EINVPARAM`.
///
/// # Safety
/// `hook_fn` is NULL or a function of that type, callable from another
/// thread with `hook_opaque`.
#[no_mangle]
pub unsafe extern "C" fn srt_listen_callback(
    lsn: SRTSOCKET,
    hook_fn: Option<ListenCallbackFn>,
    hook_opaque: *mut c_void,
) -> c_int {
    install_callback(hook_fn, hook_opaque, |ctx, cb| {
        ctx.set_listen_callback(
            lsn,
            Box::new(move |id, req, opts| run_listen_callback(&cb, id, req, opts)),
        )
    })
}

/// `srt_connect_callback`: `hook_fn` is told on the worker thread when a
/// connection attempt of `clr` fails (socket, error code, target, token
/// -1); only before connecting. A NULL `hook_fn` is `SRT_EINVPARAM`.
///
/// # Safety
/// `hook_fn` is NULL or a function of that type, callable from another
/// thread with `hook_opaque`.
#[no_mangle]
pub unsafe extern "C" fn srt_connect_callback(
    clr: SRTSOCKET,
    hook_fn: Option<ConnectCallbackFn>,
    hook_opaque: *mut c_void,
) -> c_int {
    install_callback(hook_fn, hook_opaque, |ctx, cb| {
        ctx.set_connect_callback(
            clr,
            Some(Box::new(move |s, error, target| {
                cb.notify(s, error.code(), target)
            })),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::transmission::{srt_bstats, srt_send};
    use crate::error::last_error;

    /// NULL pointers that libsrt 1.5.1 dereferences (and so the
    /// differential tests cannot pass) are `SRT_EINVPARAM` here.
    #[test]
    fn null_pointers_libsrt_crashes_on_are_errors() {
        let s = srt_create_socket();
        assert!(s > 0);
        // SAFETY: NULL pointers are what is tested; they are checked first.
        unsafe {
            assert_eq!(srt_bind(s, std::ptr::null(), 16), SRT_ERROR);
            assert_eq!(last_error().code, SrtErrno::EINVPARAM);
            assert_eq!(srt_connect(s, std::ptr::null(), 16), SRT_ERROR);
            assert_eq!(last_error().code, SrtErrno::EINVPARAM);
            assert_eq!(srt_bstats(s, std::ptr::null_mut(), 0), SRT_ERROR);
            assert_eq!(last_error().code, SrtErrno::EINVPARAM);
            assert_eq!(srt_send(s, std::ptr::null(), 10), SRT_ERROR);
            assert_eq!(last_error().code, SrtErrno::EINVPARAM);
            assert_eq!(srt_accept_bond(std::ptr::null(), 1, 0), SRT_INVALID_SOCK);
            assert_eq!(last_error().code, SrtErrno::EINVPARAM);
        }
        assert_eq!(srt_close(s), 0);
    }
}
