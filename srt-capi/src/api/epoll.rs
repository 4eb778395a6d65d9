//! The epoll API: `srt_epoll_create`, `_add_usock`/`_ssock`,
//! `_update_usock`/`_ssock`, `_remove_usock`/`_ssock`, `_wait`, `_uwait`,
//! `_set`, `_clear_usocks`, `_release`.

use crate::api::library::{context_or_start, running_context};
use crate::api::sockets::timeout_ms;
use crate::error::{SrtErrno, SrtError};
use crate::guard::api_call;
use crate::types::{SRTSOCKET, SRT_ERROR};
use libc::c_int;
use srt_mio::{Context, EpollEvent, WaitSets};
use std::sync::Arc;

/// The running context for a call on an existing container: none exists
/// while the library is stopped (`SRT_EINVPOLLID`).
fn context() -> Result<Arc<Context>, SrtError> {
    running_context().ok_or(SrtError::new(SrtErrno::EINVPOLLID))
}

/// The events of a subscription: NULL is `None` (IN | OUT | ERR).
///
/// # Safety
/// `events` is NULL or a valid `int`.
unsafe fn events_of(events: *const c_int) -> Option<i32> {
    // SAFETY: the caller's contract.
    unsafe { events.as_ref() }.copied()
}

/// `srt_epoll_create`: a new container (starts the library if needed).
#[no_mangle]
pub extern "C" fn srt_epoll_create() -> c_int {
    api_call(SRT_ERROR, || Ok(context_or_start()?.epoll_create()?))
}

/// `srt_epoll_release`: deletes a container.
#[no_mangle]
pub extern "C" fn srt_epoll_release(eid: c_int) -> c_int {
    api_call(SRT_ERROR, || {
        context()?.epoll_release(eid)?;
        Ok(0)
    })
}

/// `srt_epoll_clear_usocks`: removes every SRT socket from a container.
#[no_mangle]
pub extern "C" fn srt_epoll_clear_usocks(eid: c_int) -> c_int {
    api_call(SRT_ERROR, || {
        context()?.epoll_clear_usocks(eid)?;
        Ok(0)
    })
}

/// `srt_epoll_add_usock`: subscribes an SRT socket to `*events` (NULL:
/// IN | OUT | ERR, level-triggered).
///
/// # Safety
/// `events` is NULL or a valid `int`.
#[no_mangle]
pub unsafe extern "C" fn srt_epoll_add_usock(
    eid: c_int,
    u: SRTSOCKET,
    events: *const c_int,
) -> c_int {
    api_call(SRT_ERROR, || {
        // SAFETY: the caller's contract.
        context()?.epoll_add_usock(eid, u, unsafe { events_of(events) })?;
        Ok(0)
    })
}

/// `srt_epoll_update_usock`: changes an SRT socket's subscription.
///
/// # Safety
/// `events` is NULL or a valid `int`.
#[no_mangle]
pub unsafe extern "C" fn srt_epoll_update_usock(
    eid: c_int,
    u: SRTSOCKET,
    events: *const c_int,
) -> c_int {
    api_call(SRT_ERROR, || {
        // SAFETY: the caller's contract.
        context()?.epoll_update_usock(eid, u, unsafe { events_of(events) })?;
        Ok(0)
    })
}

/// `srt_epoll_remove_usock`: unsubscribes an SRT socket.
#[no_mangle]
pub extern "C" fn srt_epoll_remove_usock(eid: c_int, u: SRTSOCKET) -> c_int {
    api_call(SRT_ERROR, || {
        context()?.epoll_remove_usock(eid, u)?;
        Ok(0)
    })
}

/// `srt_epoll_add_ssock`: subscribes a system socket (level-triggered).
///
/// # Safety
/// `events` is NULL or a valid `int`.
#[no_mangle]
pub unsafe extern "C" fn srt_epoll_add_ssock(eid: c_int, s: c_int, events: *const c_int) -> c_int {
    api_call(SRT_ERROR, || {
        // SAFETY: the caller's contract.
        context()?.epoll_add_ssock(eid, s, unsafe { events_of(events) })?;
        Ok(0)
    })
}

/// `srt_epoll_update_ssock`: changes a system socket's subscription.
///
/// # Safety
/// `events` is NULL or a valid `int`.
#[no_mangle]
pub unsafe extern "C" fn srt_epoll_update_ssock(
    eid: c_int,
    s: c_int,
    events: *const c_int,
) -> c_int {
    api_call(SRT_ERROR, || {
        // SAFETY: the caller's contract.
        context()?.epoll_update_ssock(eid, s, unsafe { events_of(events) })?;
        Ok(0)
    })
}

/// `srt_epoll_remove_ssock`: unsubscribes a system socket.
#[no_mangle]
pub extern "C" fn srt_epoll_remove_ssock(eid: c_int, s: c_int) -> c_int {
    api_call(SRT_ERROR, || {
        context()?.epoll_remove_ssock(eid, s)?;
        Ok(0)
    })
}

/// `srt_epoll_set`: container flags (`-1` reads, `0` clears, others add);
/// returns the flags before.
#[no_mangle]
pub extern "C" fn srt_epoll_set(eid: c_int, flags: i32) -> i32 {
    api_call(SRT_ERROR, || Ok(context()?.epoll_set(eid, flags)?))
}

/// One output array of `srt_epoll_wait`: given when both the array and
/// its count are not NULL; its room is the count (negative: none).
///
/// # Safety
/// If both are not NULL, `fds` points to `*num` writable elements.
unsafe fn wait_array<'a, T>(fds: *mut T, num: *mut c_int) -> Option<&'a mut [T]> {
    if fds.is_null() || num.is_null() {
        return None;
    }
    // SAFETY: the caller's contract.
    let room = usize::try_from(unsafe { num.read() }).unwrap_or(0);
    // SAFETY: the caller's contract.
    Some(unsafe { std::slice::from_raw_parts_mut(fds, room) })
}

/// Writes back to a given array's `num` how many sockets were written
/// (the found ones, at most its room), as libsrt's `set_result`.
///
/// # Safety
/// `num` is NULL or a valid `int`.
unsafe fn put_count<T>(fds: *mut T, num: *mut c_int, count: usize) {
    if !fds.is_null() && !num.is_null() {
        // SAFETY: the caller's contract.
        unsafe {
            let room = num.read();
            num.write(room.min(count as c_int));
        }
    }
}

/// `srt_epoll_wait`: waits up to `ms_timeout` ms (-1: forever) for a
/// subscribed socket to be ready; ready sockets go into the arrays given
/// (array and count not NULL), each count becomes the number written
/// (found, at most its room; untouched when nothing was found). Returns
/// the total found (`SRT_ETIMEOUT` if none in time).
///
/// # Safety
/// Each array, if it and its count are not NULL, has `*count` writable
/// elements.
#[no_mangle]
pub unsafe extern "C" fn srt_epoll_wait(
    eid: c_int,
    readfds: *mut SRTSOCKET,
    rnum: *mut c_int,
    writefds: *mut SRTSOCKET,
    wnum: *mut c_int,
    ms_timeout: i64,
    lrfds: *mut c_int,
    lrnum: *mut c_int,
    lwfds: *mut c_int,
    lwnum: *mut c_int,
) -> c_int {
    api_call(SRT_ERROR, || {
        let ctx = context()?;
        // SAFETY: the caller's contract.
        let sets = unsafe {
            WaitSets {
                read: wait_array(readfds, rnum),
                write: wait_array(writefds, wnum),
                sys_read: wait_array(lrfds, lrnum),
                sys_write: wait_array(lwfds, lwnum),
            }
        };
        let counts = ctx.epoll_wait(eid, sets, timeout_ms(ms_timeout))?;
        // SAFETY: the caller's contract.
        unsafe {
            if counts.total() == 0 {
                return Ok(0);
            }
            put_count(readfds, rnum, counts.read);
            put_count(writefds, wnum, counts.write);
            put_count(lrfds, lrnum, counts.sys_read);
            put_count(lwfds, lwnum, counts.sys_write);
        }
        Ok(counts.total() as c_int)
    })
}

/// `srt_epoll_uwait`: waits up to `ms_timeout` ms (-1: forever) and
/// writes up to `fds_size` ready sockets with their events; returns how
/// many were ready (0 on timeout). A NULL array with a positive size, or a
/// negative size, is `SRT_EINVPARAM`.
///
/// # Safety
/// `fds_set` is NULL or points to `fds_size` writable `SRT_EPOLL_EVENT`s.
#[no_mangle]
pub unsafe extern "C" fn srt_epoll_uwait(
    eid: c_int,
    fds_set: *mut EpollEvent,
    fds_size: c_int,
    ms_timeout: i64,
) -> c_int {
    api_call(SRT_ERROR, || {
        let size = usize::try_from(fds_size).map_err(|_| SrtError::new(SrtErrno::EINVPARAM))?;
        if size > 0 && fds_set.is_null() {
            return Err(SrtErrno::EINVPARAM.into());
        }
        let out: &mut [EpollEvent] = if size == 0 {
            &mut []
        } else {
            // SAFETY: the caller's contract (not NULL, checked).
            unsafe { std::slice::from_raw_parts_mut(fds_set, size) }
        };
        Ok(context()?.epoll_uwait(eid, out, timeout_ms(ms_timeout))? as c_int)
    })
}
