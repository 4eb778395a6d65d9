//! Socket groups (libsrt's `ENABLE_BONDING`) are not built: these
//! functions answer as Debian's libsrt 1.5.1, which is built without
//! bonding (no group or option object is ever created).

use crate::error::{SrtErrno, SrtError};
use crate::guard::{api_call, api_call_infallible};
use crate::types::{
    SRTSOCKET, SRT_ERROR, SRT_INVALID_SOCK, SRT_SOCKGROUPCONFIG, SRT_SOCKGROUPDATA,
};
use libc::{c_int, c_void, sockaddr, sockaddr_storage};
use std::mem::size_of;

/// `srt_create_group`: no groups; `SRT_INVALID_SOCK` (no error set, as
/// libsrt without bonding).
#[no_mangle]
pub extern "C" fn srt_create_group(_group_type: c_int) -> SRTSOCKET {
    SRT_INVALID_SOCK
}

/// `srt_groupof`: no socket is in a group; `SRT_INVALID_SOCK`.
#[no_mangle]
pub extern "C" fn srt_groupof(_socket: SRTSOCKET) -> SRTSOCKET {
    SRT_INVALID_SOCK
}

/// Every group operation fails with `SRT_EINVPARAM`, as libsrt's
/// `MJ_NOTSUP, MN_INVAL` without bonding.
fn no_groups() -> c_int {
    api_call(SRT_ERROR, || Err(SrtError::new(SrtErrno::EINVPARAM)))
}

/// `srt_group_data`: no groups; `SRT_ERROR` with `SRT_EINVPARAM`.
#[no_mangle]
pub extern "C" fn srt_group_data(
    _group: SRTSOCKET,
    _output: *mut SRT_SOCKGROUPDATA,
    _inoutlen: *mut usize,
) -> c_int {
    no_groups()
}

/// `srt_connect_group`: no groups; `SRT_ERROR` with `SRT_EINVPARAM`.
#[no_mangle]
pub extern "C" fn srt_connect_group(
    _group: SRTSOCKET,
    _name: *mut SRT_SOCKGROUPCONFIG,
    _arraysize: c_int,
) -> c_int {
    no_groups()
}

/// `srt_create_config`: no option objects without groups; NULL.
#[no_mangle]
pub extern "C" fn srt_create_config() -> *mut c_void {
    std::ptr::null_mut()
}

/// `srt_delete_config`: nothing to delete (only NULL was ever handed out).
#[no_mangle]
pub extern "C" fn srt_delete_config(_config: *mut c_void) {}

/// `srt_config_add`: `SRT_ERROR` with `SRT_EINVPARAM`.
#[no_mangle]
pub extern "C" fn srt_config_add(
    _config: *mut c_void,
    _option: c_int,
    _contents: *const c_void,
    _len: c_int,
) -> c_int {
    no_groups()
}

/// `srt_prepare_endpoint`: a member description for `srt_connect_group`:
/// the addresses copied, `id` and `token` -1, and `errorcode`
/// `SRT_EINVOP` since groups are not supported. A NULL `src` gives an
/// any-address of `adr`'s family. `namelen` beyond a `sockaddr_storage`
/// is cut; a NULL `adr` or negative `namelen` leaves the addresses empty.
///
/// # Safety
/// `src` (if not NULL) and `adr` (if not NULL) point to `namelen`
/// readable bytes of a socket address.
#[no_mangle]
pub unsafe extern "C" fn srt_prepare_endpoint(
    src: *const sockaddr,
    adr: *const sockaddr,
    namelen: c_int,
) -> SRT_SOCKGROUPCONFIG {
    // SAFETY: all-zero bytes are a valid sockaddr_storage.
    let empty = || unsafe { std::mem::zeroed::<sockaddr_storage>() };
    let failed = SRT_SOCKGROUPCONFIG {
        id: -1,
        srcaddr: empty(),
        peeraddr: empty(),
        weight: 0,
        config: std::ptr::null_mut(),
        errorcode: SrtErrno::EINVOP.0,
        token: -1,
    };
    api_call_infallible(failed, || {
        let mut data = SRT_SOCKGROUPCONFIG {
            srcaddr: empty(),
            peeraddr: empty(),
            ..failed
        };
        let len = usize::try_from(namelen)
            .unwrap_or(0)
            .min(size_of::<sockaddr_storage>());
        if adr.is_null() {
            return data;
        }
        // SAFETY: the caller passes addresses of at least `namelen` bytes
        // (cut to the size of the destination).
        unsafe {
            std::ptr::copy_nonoverlapping(adr.cast::<u8>(), (&raw mut data.peeraddr).cast(), len);
            if src.is_null() {
                data.srcaddr.ss_family = (*adr).sa_family;
            } else {
                std::ptr::copy_nonoverlapping(
                    src.cast::<u8>(),
                    (&raw mut data.srcaddr).cast(),
                    len,
                );
            }
        }
        data
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{clear_last_error, last_error};

    #[test]
    fn prepare_endpoint_survives_bad_pointers() {
        // SAFETY: NULL addresses are allowed.
        let data = unsafe { srt_prepare_endpoint(std::ptr::null(), std::ptr::null(), 16) };
        assert_eq!((data.id, data.token, data.errorcode), (-1, -1, 5000));
        assert_eq!(data.peeraddr.ss_family, 0);
        // SAFETY: all-zero bytes are a valid sockaddr_in.
        let mut v4: libc::sockaddr_in = unsafe { std::mem::zeroed() };
        v4.sin_family = libc::AF_INET as libc::sa_family_t;
        let adr = (&raw const v4).cast::<sockaddr>();
        // SAFETY: `adr` points to a sockaddr_in; a negative length copies nothing.
        let data = unsafe { srt_prepare_endpoint(std::ptr::null(), adr, -1) };
        assert_eq!(data.peeraddr.ss_family, 0);
        assert_eq!(data.srcaddr.ss_family, libc::AF_INET as libc::sa_family_t);
    }

    #[test]
    fn group_operations_fail_with_einvparam() {
        clear_last_error();
        assert_eq!(
            srt_group_data(1, std::ptr::null_mut(), std::ptr::null_mut()),
            -1
        );
        assert_eq!(last_error().code, SrtErrno::EINVPARAM);
        clear_last_error();
        assert_eq!(srt_create_group(1), SRT_INVALID_SOCK);
        assert_eq!(last_error().code, SrtErrno::SUCCESS);
    }
}
