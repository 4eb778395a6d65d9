//! Every connection made through the C API gets fresh, secret keys
//! (issue 13): two callers connect with a passphrase through a recording
//! forwarder; what it saw, opened with the passphrase as an observer who
//! knows it could, shows different salts and session keys.
#![allow(unsafe_code)] // calls the C API, as a C program would

use libc::{c_int, c_void, sockaddr, sockaddr_in, AF_INET};
use srt::api::library::{srt_cleanup, srt_startup};
use srt::api::options::srt_setsockflag;
use srt::api::sockets::{
    srt_accept, srt_bind, srt_close, srt_connect, srt_create_socket, srt_getsockname, srt_listen,
};
use srt::types::SRTSOCKET;
use srt_proto::sim::capture::UdpTap;
use std::collections::BTreeSet;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};

const PASS: &[u8] = b"srt-capi keys are fresh";
/// `SRTO_PASSPHRASE`.
const SRTO_PASSPHRASE: c_int = 26;

fn to_c(addr: SocketAddrV4) -> sockaddr_in {
    // SAFETY: sockaddr_in is plain data; all zeroes is a valid value.
    let mut sa: sockaddr_in = unsafe { std::mem::zeroed() };
    sa.sin_family = AF_INET as libc::sa_family_t;
    sa.sin_port = addr.port().to_be();
    sa.sin_addr.s_addr = u32::from(*addr.ip()).to_be();
    sa
}

const LEN: c_int = std::mem::size_of::<sockaddr_in>() as c_int;

/// A socket with the passphrase set.
fn secure_socket() -> SRTSOCKET {
    let u = srt_create_socket();
    assert!(u > 0);
    // SAFETY: PASS is readable for its length.
    let r = unsafe {
        srt_setsockflag(
            u,
            SRTO_PASSPHRASE,
            PASS.as_ptr().cast::<c_void>(),
            PASS.len() as c_int,
        )
    };
    assert_eq!(r, 0);
    u
}

#[test]
fn two_connections_get_different_salts_and_keys() {
    assert_eq!(srt_startup(), 0);
    let l = secure_socket();
    let any = to_c(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 0));
    // SAFETY: `any` is a sockaddr_in of LEN bytes.
    assert_eq!(
        unsafe { srt_bind(l, (&raw const any).cast::<sockaddr>(), LEN) },
        0
    );
    assert_eq!(srt_listen(l, 4), 0);
    let mut bound = to_c(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0));
    let mut len = LEN;
    // SAFETY: `bound` has room for LEN bytes.
    let r = unsafe { srt_getsockname(l, (&raw mut bound).cast::<sockaddr>(), &mut len) };
    assert_eq!(r, 0);
    let port = u16::from_be(bound.sin_port);
    let tap = UdpTap::start(SocketAddr::from((Ipv4Addr::LOCALHOST, port))).unwrap();
    let SocketAddr::V4(tap_addr) = tap.addr() else {
        panic!("IPv4 tap")
    };
    let target = to_c(tap_addr);
    let mut sockets = vec![l];
    for _ in 0..2 {
        let u = secure_socket();
        // SAFETY: `target` is a sockaddr_in of LEN bytes.
        let r = unsafe { srt_connect(u, (&raw const target).cast::<sockaddr>(), LEN) };
        assert_eq!(r, 0, "srt_connect");
        let mut peer = to_c(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0));
        let mut plen = LEN;
        // SAFETY: `peer` has room for LEN bytes.
        let a = unsafe { srt_accept(l, (&raw mut peer).cast::<sockaddr>(), &mut plen) };
        assert!(a > 0, "srt_accept");
        sockets.extend([u, a]);
    }
    let opened = tap.capture().opened_keys(PASS).unwrap();
    for u in sockets {
        srt_close(u);
    }
    assert_eq!(srt_cleanup(), 0);
    assert_eq!(opened.len(), 2, "one key material request per connection");
    let salts: BTreeSet<&Vec<u8>> = opened.iter().map(|o| &o.salt).collect();
    let keys: BTreeSet<&Vec<u8>> = opened.iter().flat_map(|o| &o.keys).collect();
    assert_eq!(salts.len(), 2, "salts repeat: {opened:x?}");
    assert_eq!(keys.len(), 2, "keys repeat: {opened:x?}");
}
