//! Socket addresses between C (`struct sockaddr` + length) and Rust.

use crate::error::{SrtErrno, SrtError};
use libc::{c_int, sockaddr, sockaddr_in, sockaddr_in6, AF_INET, AF_INET6};
use std::mem::size_of;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

/// Reads a C socket address as libsrt's `sockaddr_any` does: IPv4 or
/// IPv6 with a length of at least its structure; anything else (NULL
/// included, where libsrt would crash) is `SRT_EINVPARAM`.
///
/// # Safety
/// `name` is NULL or points to at least `len` readable bytes.
pub(crate) unsafe fn from_c(name: *const sockaddr, len: c_int) -> Result<SocketAddr, SrtError> {
    let invalid = Err(SrtError::new(SrtErrno::EINVPARAM));
    if name.is_null() || len < 0 {
        return invalid;
    }
    let len = len as usize;
    if len < size_of::<libc::sa_family_t>() {
        return invalid;
    }
    // SAFETY: `name` is not NULL and its `len` bytes cover the family
    // field (the first of every sockaddr); it may be unaligned.
    let family = c_int::from(unsafe { name.cast::<libc::sa_family_t>().read_unaligned() });
    if family == AF_INET && len >= size_of::<sockaddr_in>() {
        // SAFETY: the caller's `len` bytes hold a sockaddr_in; it may be unaligned.
        let a = unsafe { name.cast::<sockaddr_in>().read_unaligned() };
        let ip = Ipv4Addr::from(u32::from_be(a.sin_addr.s_addr));
        return Ok(SocketAddr::V4(SocketAddrV4::new(
            ip,
            u16::from_be(a.sin_port),
        )));
    }
    if family == AF_INET6 && len >= size_of::<sockaddr_in6>() {
        // SAFETY: the caller's `len` bytes hold a sockaddr_in6; it may be unaligned.
        let a = unsafe { name.cast::<sockaddr_in6>().read_unaligned() };
        let ip = Ipv6Addr::from(a.sin6_addr.s6_addr);
        return Ok(SocketAddr::V6(SocketAddrV6::new(
            ip,
            u16::from_be(a.sin6_port),
            a.sin6_flowinfo,
            a.sin6_scope_id,
        )));
    }
    invalid
}

/// How many bytes the C form of `addr` takes (`sockaddr_in` or `sockaddr_in6`).
pub(crate) fn c_len(addr: SocketAddr) -> c_int {
    match addr {
        SocketAddr::V4(_) => size_of::<sockaddr_in>() as c_int,
        SocketAddr::V6(_) => size_of::<sockaddr_in6>() as c_int,
    }
}

/// A socket address as the C structure of its family, and its length.
pub(crate) fn to_c(addr: SocketAddr) -> (libc::sockaddr_storage, usize) {
    // SAFETY: all-zero bytes are a valid sockaddr_storage.
    let mut storage: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let len = match addr {
        SocketAddr::V4(a) => {
            // SAFETY: all-zero bytes are a valid sockaddr_in.
            let mut c: sockaddr_in = unsafe { std::mem::zeroed() };
            c.sin_family = AF_INET as libc::sa_family_t;
            c.sin_port = a.port().to_be();
            c.sin_addr.s_addr = u32::from(*a.ip()).to_be();
            // SAFETY: a sockaddr_storage has room and alignment for a sockaddr_in.
            unsafe { (&raw mut storage).cast::<sockaddr_in>().write(c) };
            size_of::<sockaddr_in>()
        }
        SocketAddr::V6(a) => {
            // SAFETY: all-zero bytes are a valid sockaddr_in6.
            let mut c: sockaddr_in6 = unsafe { std::mem::zeroed() };
            c.sin6_family = AF_INET6 as libc::sa_family_t;
            c.sin6_port = a.port().to_be();
            c.sin6_addr.s6_addr = a.ip().octets();
            c.sin6_flowinfo = a.flowinfo();
            c.sin6_scope_id = a.scope_id();
            // SAFETY: a sockaddr_storage has room and alignment for a sockaddr_in6.
            unsafe { (&raw mut storage).cast::<sockaddr_in6>().write(c) };
            size_of::<sockaddr_in6>()
        }
    };
    (storage, len)
}

/// Writes `addr` to `name` and its length to `*namelen`, as libsrt's
/// `getsockname`: `SRT_EINVPARAM` if `*namelen` is too small.
///
/// # Safety
/// `name` points to `*namelen` writable bytes; `namelen` is a valid `int`.
pub(crate) unsafe fn write_c(
    addr: SocketAddr,
    name: *mut sockaddr,
    namelen: *mut c_int,
) -> Result<(), SrtError> {
    let (storage, len) = to_c(addr);
    // SAFETY: the caller passes a valid `namelen`.
    let room = unsafe { namelen.read() };
    if room < 0 || (room as usize) < len {
        return Err(SrtError::new(SrtErrno::EINVPARAM));
    }
    // SAFETY: `name` has `room` >= `len` writable bytes; `namelen` is valid.
    unsafe {
        std::ptr::copy_nonoverlapping((&raw const storage).cast::<u8>(), name.cast::<u8>(), len);
        namelen.write(len as c_int);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_short_lengths() {
        for a in ["127.0.0.1:9000", "[::1]:9001"] {
            let a: SocketAddr = a.parse().unwrap();
            let (storage, len) = to_c(a);
            let p = (&raw const storage).cast::<sockaddr>();
            // SAFETY: `storage` holds `len` bytes of an address.
            assert_eq!(unsafe { from_c(p, len as c_int) }.unwrap(), a);
            // SAFETY: as above, with a shorter length.
            assert!(unsafe { from_c(p, len as c_int - 1) }.is_err());
        }
        // SAFETY: NULL is refused before any read.
        assert!(unsafe { from_c(std::ptr::null(), 16) }.is_err());
    }
}
