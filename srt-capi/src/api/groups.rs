//! Socket groups (libsrt's bonding API, `ENABLE_BONDING`): group
//! creation, multi-address connect, member data, and the option objects
//! of `srt_connect_group`, on `srt_mio`'s groups.

use crate::addr;
use crate::api::library::context_or_start;
use crate::api::sockets::context;
use crate::error::{SrtErrno, SrtError};
use crate::guard::{api_call, api_call_infallible};
use crate::types::{
    SRTSOCKET, SRT_ERROR, SRT_INVALID_SOCK, SRT_SOCKGROUPCONFIG, SRT_SOCKGROUPDATA,
};
use libc::{c_int, c_void, sockaddr, sockaddr_storage};
use srt_mio::{GroupMemberData, GroupType, MemberConfig, MemberState, OptionValue, SockOpt};
use std::mem::size_of;
use std::net::SocketAddr;

/// `srt_create_group`: a group of `SRT_GTYPE_BROADCAST` (1) or
/// `SRT_GTYPE_BACKUP` (2); starts the library if it is not running.
/// Other types (libsrt creates groups of them that cannot send) are
/// `SRT_EINVPARAM`.
#[no_mangle]
pub extern "C" fn srt_create_group(group_type: c_int) -> SRTSOCKET {
    api_call(SRT_INVALID_SOCK, || {
        let kind = u8::try_from(group_type)
            .ok()
            .and_then(GroupType::from_code)
            .ok_or(SrtError::new(SrtErrno::EINVPARAM))?;
        Ok(context_or_start()?.create_group(kind)?)
    })
}

/// `srt_groupof`: the group `socket` is a member of; `SRT_INVALID_SOCK`
/// with `SRT_EINVPARAM` for a socket in no group (or none).
#[no_mangle]
pub extern "C" fn srt_groupof(socket: SRTSOCKET) -> SRTSOCKET {
    api_call(SRT_INVALID_SOCK, || {
        let ctx = context().map_err(|_| SrtError::new(SrtErrno::EINVPARAM))?;
        Ok(ctx.group_of(socket)?)
    })
}

/// One member as `SRT_SOCKGROUPDATA`.
pub(crate) fn member_to_c(d: &GroupMemberData) -> SRT_SOCKGROUPDATA {
    // SAFETY: all-zero bytes are a valid sockaddr_storage.
    let peeraddr = d
        .peer
        .map_or_else(|| unsafe { std::mem::zeroed() }, |a| addr::to_c(a).0);
    SRT_SOCKGROUPDATA {
        id: d.id,
        peeraddr,
        sockstate: d.sockstate as c_int,
        weight: d.weight,
        memberstate: match d.memberstate {
            MemberState::Pending => 0,
            MemberState::Idle => 1,
            MemberState::Running => 2,
            MemberState::Broken => 3,
        },
        result: d.result,
        token: d.token,
    }
}

/// Writes `members` to `output` (room for `*inoutlen`) as libsrt's
/// `getGroupData`: `*inoutlen` becomes the member count; a NULL `output`
/// only asks the count (0); too small an array is `SRT_ELARGEMSG`.
///
/// # Safety
/// `output` is NULL or points to `*inoutlen` writable elements.
pub(crate) unsafe fn write_group_data(
    members: &[GroupMemberData],
    output: *mut SRT_SOCKGROUPDATA,
    inoutlen: &mut usize,
) -> Result<c_int, SrtError> {
    let room = std::mem::replace(inoutlen, members.len());
    if output.is_null() {
        return Ok(0);
    }
    if members.len() > room {
        return Err(SrtErrno::ELARGEMSG.into());
    }
    for (i, m) in members.iter().enumerate() {
        // SAFETY: the caller gives room for `room` >= members.len() elements.
        unsafe { output.add(i).write(member_to_c(m)) };
    }
    Ok(members.len() as c_int)
}

/// `srt_group_data`: the members of `group` and their states; a NULL
/// `output` asks the count (written to `*inoutlen`, 0 returned); too
/// small an array is `SRT_ELARGEMSG` with the count written; `SRT_EINVPARAM` for anything but a group or a
/// NULL `inoutlen`.
///
/// # Safety
/// `output` is NULL or points to `*inoutlen` writable elements;
/// `inoutlen` is NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn srt_group_data(
    group: SRTSOCKET,
    output: *mut SRT_SOCKGROUPDATA,
    inoutlen: *mut usize,
) -> c_int {
    api_call(SRT_ERROR, || {
        // SAFETY: the caller passes NULL or a valid size_t.
        let Some(len) = (unsafe { inoutlen.as_mut() }) else {
            return Err(SrtErrno::EINVPARAM.into());
        };
        if !srt_mio::group::is_group(group) {
            return Err(SrtErrno::EINVPARAM.into());
        }
        let ctx = context().map_err(|_| SrtError::new(SrtErrno::EINVPARAM))?;
        let members = ctx.group_data(group)?;
        // SAFETY: the caller's contract.
        unsafe { write_group_data(&members, output, len) }
    })
}

/// A socket address of `storage`, if its family is IPv4 or IPv6.
fn from_storage(storage: &sockaddr_storage) -> Option<SocketAddr> {
    // SAFETY: a sockaddr_storage holds any sockaddr of its size.
    unsafe {
        addr::from_c(
            (storage as *const sockaddr_storage).cast::<sockaddr>(),
            size_of::<sockaddr_storage>() as c_int,
        )
    }
    .ok()
}

/// `srt_connect_group`: connects `group` to every member of `name`
/// (made by [`srt_prepare_endpoint`]) at once; see
/// [`srt_mio::Context::connect_group`]. Each element's `id`,
/// `errorcode` and `token` are written back. `SRT_EINVPARAM` for no
/// members, a source of another family than its target, or a weight
/// above 32767; `SRT_EINVSOCK` for anything but a group;
/// `SRT_ECONNLOST` if no member connects.
///
/// # Safety
/// `name` is NULL or points to `arraysize` elements; each `config` is
/// NULL or made by [`srt_create_config`].
#[no_mangle]
pub unsafe extern "C" fn srt_connect_group(
    group: SRTSOCKET,
    name: *mut SRT_SOCKGROUPCONFIG,
    arraysize: c_int,
) -> c_int {
    api_call(SRT_ERROR, || {
        let Ok(n @ 1..) = usize::try_from(arraysize) else {
            return Err(SrtErrno::EINVPARAM.into());
        };
        if !srt_mio::group::is_group(group) {
            return Err(SrtErrno::EINVSOCK.into());
        }
        if name.is_null() {
            return Err(SrtErrno::EINVPARAM.into());
        }
        // SAFETY: the caller passes `arraysize` elements.
        let items = unsafe { std::slice::from_raw_parts_mut(name, n) };
        let mut members = Vec::with_capacity(n);
        for c in items.iter() {
            if c.srcaddr.ss_family != c.peeraddr.ss_family {
                return Err(SrtErrno::EINVPARAM.into());
            }
            let target = from_storage(&c.peeraddr).ok_or(SrtError::new(SrtErrno::EINVPARAM))?;
            // An all-zero source (what srt_prepare_endpoint makes of NULL) binds nothing.
            let source =
                from_storage(&c.srcaddr).filter(|a| !(a.ip().is_unspecified() && a.port() == 0));
            let mut m = MemberConfig::new(source, target);
            m.weight = c.weight;
            m.token = c.token;
            if !c.config.is_null() {
                // SAFETY: made by srt_create_config (the caller's contract).
                m.options = unsafe { &*c.config.cast::<OptionConfig>() }.0.clone();
            }
            members.push(m);
        }
        let ctx = context()?;
        let result = ctx.connect_group(group, &mut members);
        for (c, m) in items.iter_mut().zip(&members) {
            c.id = m.id;
            c.errorcode = m.errorcode;
            c.token = m.token;
        }
        Ok(result?)
    })
}

/// An option object (`SRT_SOCKOPT_CONFIG`): options for one member.
pub struct OptionConfig(Vec<(SockOpt, OptionValue)>);

/// `srt_create_config`: an empty option object for `srt_config_add`.
#[no_mangle]
pub extern "C" fn srt_create_config() -> *mut c_void {
    api_call_infallible(std::ptr::null_mut(), || {
        Box::into_raw(Box::new(OptionConfig(Vec::new()))).cast()
    })
}

/// `srt_delete_config`: frees an option object (NULL: nothing).
///
/// # Safety
/// `config` is NULL or made by [`srt_create_config`] and not yet deleted.
#[no_mangle]
pub unsafe extern "C" fn srt_delete_config(config: *mut c_void) {
    api_call_infallible((), || {
        if !config.is_null() {
            // SAFETY: made by srt_create_config (the caller's contract).
            drop(unsafe { Box::from_raw(config.cast::<OptionConfig>()) });
        }
    })
}

/// The options libsrt lets an option object carry (per member).
fn member_option(code: c_int) -> Option<SockOpt> {
    const ALLOWED: [c_int; 16] = [
        55, // SRTO_BINDTODEVICE
        36, // SRTO_CONNTIMEO
        37, // SRTO_DRIFTTRACER
        58, // SRTO_GROUPMINSTABLETIMEO
        32, // SRTO_IPTOS
        31, // SRTO_IPTTL
        33, // SRTO_KMREFRESHRATE
        34, // SRTO_KMPREANNOUNCE
        10, // SRTO_LOSSMAXTTL
        50, // SRTO_NAKREPORT
        53, // SRTO_PEERIDLETIMEO
        6,  // SRTO_RCVBUF
        5,  // SRTO_SNDBUF
        52, // SRTO_SNDDROPDELAY
        8,  // SRTO_UDP_RCVBUF
        9,  // SRTO_UDP_SNDBUF
    ];
    ALLOWED
        .contains(&code)
        .then(|| SockOpt::from_code(code))
        .flatten()
}

/// `srt_config_add`: adds an option for a member to `config`: -1 (no
/// error set, as libsrt) for NULL, an option libsrt does not allow per
/// member, or a value it cannot read.
///
/// # Safety
/// `config` is NULL or made by [`srt_create_config`]; `contents` is NULL
/// or points to `len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn srt_config_add(
    config: *mut c_void,
    option: c_int,
    contents: *const c_void,
    len: c_int,
) -> c_int {
    api_call_infallible(SRT_ERROR, || {
        let (Some(opt), false, Ok(len)) = (
            member_option(option),
            config.is_null() || contents.is_null(),
            usize::try_from(len),
        ) else {
            return SRT_ERROR;
        };
        // SAFETY: the caller passes `len` readable bytes.
        let bytes = unsafe { std::slice::from_raw_parts(contents.cast::<u8>(), len) };
        let Ok(value) = opt.decode_c(bytes) else {
            return SRT_ERROR;
        };
        // SAFETY: made by srt_create_config (the caller's contract).
        unsafe { &mut *config.cast::<OptionConfig>() }
            .0
            .push((opt, value));
        0
    })
}

/// `srt_prepare_endpoint`: a member description for `srt_connect_group`:
/// the addresses copied, `id` and `token` -1, `errorcode` `SRT_SUCCESS`. A NULL `src` gives an
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
        errorcode: 0,
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
        assert_eq!((data.id, data.token, data.errorcode), (-1, -1, 0));
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
    fn group_calls_check_their_arguments_as_libsrt() {
        clear_last_error();
        // SAFETY: NULL pointers are checked.
        let r = unsafe { srt_group_data(1, std::ptr::null_mut(), std::ptr::null_mut()) };
        assert_eq!(r, -1);
        assert_eq!(last_error().code, SrtErrno::EINVPARAM);
        clear_last_error();
        assert_eq!(srt_create_group(3), SRT_INVALID_SOCK);
        assert_eq!(last_error().code, SrtErrno::EINVPARAM);
        let g = srt_create_group(1);
        assert!(srt_mio::group::is_group(g));
        let mut n = 5usize;
        // SAFETY: a NULL array asks the count only.
        let r = unsafe { srt_group_data(g, std::ptr::null_mut(), &mut n) };
        assert_eq!(r, 0);
        assert_eq!(n, 0);
        // SAFETY: a NULL array with a positive size is checked.
        assert_eq!(unsafe { srt_connect_group(g, std::ptr::null_mut(), 1) }, -1);
        assert_eq!(last_error().code, SrtErrno::EINVPARAM);
        let config = srt_create_config();
        let v: c_int = 100;
        // SAFETY: `config` is live; `v` is 4 readable bytes.
        unsafe {
            assert_eq!(srt_config_add(config, 36, (&raw const v).cast(), 4), 0);
            // SRTO_LATENCY is per transmission, not per member.
            assert_eq!(srt_config_add(config, 23, (&raw const v).cast(), 4), -1);
            srt_delete_config(config);
        }
        assert_eq!(crate::api::sockets::srt_close(g), 0);
    }
}
