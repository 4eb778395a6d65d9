//! libsrt's binding rules (`srt_bind`: free, side, shared and wildcard
//! binding) and the UDP sockets behind multiplexers.

use crate::error::{code, Error};
use socket2::{Domain, Protocol, Socket, Type};
use srt_proto::SocketOptions;
use std::net::{SocketAddr, UdpSocket};

/// The UDP settings two SRT sockets must agree on to share one UDP socket.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct UdpSettings {
    pub(crate) ipv6only: i32,
    mss: u32,
    udp_sndbuf: u32,
    udp_rcvbuf: u32,
    ipttl: i32,
    iptos: i32,
    bindtodevice: String,
}

impl UdpSettings {
    pub(crate) fn of(o: &SocketOptions) -> Self {
        UdpSettings {
            ipv6only: o.driver.ipv6only,
            mss: o.mss,
            udp_sndbuf: o.driver.udp_sndbuf,
            udp_rcvbuf: o.driver.udp_rcvbuf,
            ipttl: o.driver.ipttl,
            iptos: o.driver.iptos,
            bindtodevice: o.driver.bindtodevice.clone(),
        }
    }
}

/// How a requested binding relates to an existing one on the same port
/// (the table of `srt_bind` in the API reference).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Overlap {
    /// Both can exist side by side (different UDP sockets).
    Free,
    /// The existing binding covers the requested one.
    Blocked,
    /// The same binding: it may share the existing UDP socket.
    Shareable,
}

/// The address range one binding covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Range {
    V4(std::net::Ipv4Addr),
    V4Any,
    V6(std::net::Ipv6Addr),
    V6Any { v6only: bool },
}

fn range(addr: SocketAddr, ipv6only: i32) -> Range {
    match addr {
        SocketAddr::V4(a) if a.ip().is_unspecified() => Range::V4Any,
        SocketAddr::V4(a) => Range::V4(*a.ip()),
        SocketAddr::V6(a) if a.ip().is_unspecified() => Range::V6Any {
            v6only: ipv6only == 1,
        },
        SocketAddr::V6(a) => Range::V6(*a.ip()),
    }
}

/// Whether binding `req` (with its `SRTO_IPV6ONLY`) may coexist with the
/// existing binding `old` (ports are compared here too).
pub(crate) fn overlap(
    req: SocketAddr,
    req_v6only: i32,
    old: SocketAddr,
    old_v6only: i32,
) -> Overlap {
    use Range::*;
    if req.port() != old.port() {
        return Overlap::Free;
    }
    match (range(req, req_v6only), range(old, old_v6only)) {
        (V4(a), V4(b)) if a == b => Overlap::Shareable,
        (V6(a), V6(b)) if a == b => Overlap::Shareable,
        (V4Any, V4Any) => Overlap::Shareable,
        (V6Any { v6only: a }, V6Any { v6only: b }) if a == b => Overlap::Shareable,
        (V4(_), V4(_)) | (V6(_), V6(_)) => Overlap::Free,
        // A dual-stack wildcard covers everything, both ways.
        (V6Any { v6only: false }, _) | (_, V6Any { v6only: false }) => Overlap::Blocked,
        (V4(_), V4Any) | (V4Any, V4(_)) => Overlap::Blocked,
        (V6(_), V6Any { .. }) | (V6Any { .. }, V6(_)) => Overlap::Blocked,
        (V6Any { .. }, V6Any { .. }) => Overlap::Blocked,
        // IPv4 beside IPv6 (only-IPv6 wildcard or address).
        (V4(_) | V4Any, V6(_) | V6Any { .. }) | (V6(_) | V6Any { .. }, V4(_) | V4Any) => {
            Overlap::Free
        }
    }
}

/// A new non-blocking UDP socket bound to `addr` with `options`' UDP settings.
pub(crate) fn open_udp(addr: SocketAddr, options: &SocketOptions) -> Result<UdpSocket, Error> {
    let fail = |what, e| Error::system(code::SRT_ESOCKFAIL, what, e);
    let socket = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))
        .map_err(|e| Error::system(code::SRT_ECONNSETUP, "socket", e))?;
    if addr.is_ipv6() && options.driver.ipv6only != -1 {
        socket
            .set_only_v6(options.driver.ipv6only == 1)
            .map_err(|e| fail("IPV6_V6ONLY", e))?;
    }
    // The sizes libsrt asks for. The kernel caps a plain request at
    // net.core.{r,w}mem_max (often 4 MiB or less, under one flow window of
    // 8192 packets), so, like srt-tools' udp_driver, force them where
    // allowed (CAP_NET_ADMIN): a single worker serving many sockets is
    // sometimes descheduled, and a small buffer then loses datagrams.
    let (snd, rcv) = (
        options.driver.udp_sndbuf as usize,
        options.driver.udp_rcvbuf as usize,
    );
    if rustix::net::sockopt::set_socket_send_buffer_size_force(&socket, snd).is_err() {
        let _ = socket.set_send_buffer_size(snd);
    }
    if rustix::net::sockopt::set_socket_recv_buffer_size_force(&socket, rcv).is_err() {
        let _ = socket.set_recv_buffer_size(rcv);
    }
    if options.driver.ipttl != -1 {
        let r = if addr.is_ipv6() {
            socket.set_unicast_hops_v6(options.driver.ipttl as u32)
        } else {
            socket.set_ttl_v4(options.driver.ipttl as u32)
        };
        r.map_err(|e| fail("IP_TTL", e))?;
    }
    if options.driver.iptos != -1 && addr.is_ipv4() {
        socket
            .set_tos_v4(options.driver.iptos as u32)
            .map_err(|e| fail("IP_TOS", e))?;
    }
    socket
        .set_nonblocking(true)
        .map_err(|e| fail("O_NONBLOCK", e))?;
    socket.bind(&addr.into()).map_err(|e| fail("bind", e))?;
    Ok(socket.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn the_table_of_srt_bind() {
        use Overlap::*;
        // Rows: requested; columns: existing (A.B.C.D, 0.0.0.0, ::X, ::/V6ONLY=1, ::/V6ONLY=0).
        let existing = [
            (a("1.2.3.4:9000"), -1),
            (a("0.0.0.0:9000"), -1),
            (a("[8080::1]:9000"), -1),
            (a("[::]:9000"), 1),
            (a("[::]:9000"), 0),
        ];
        let rows = [
            (
                (a("1.2.3.4:9000"), -1),
                [Shareable, Blocked, Free, Free, Blocked],
            ),
            (
                (a("0.0.0.0:9000"), -1),
                [Blocked, Shareable, Free, Free, Blocked],
            ),
            (
                (a("[8080::1]:9000"), -1),
                [Free, Free, Shareable, Blocked, Blocked],
            ),
            (
                (a("[::]:9000"), 1),
                [Free, Free, Blocked, Shareable, Blocked],
            ),
            (
                (a("[::]:9000"), 0),
                [Blocked, Blocked, Blocked, Blocked, Shareable],
            ),
        ];
        for ((req, rv6), expect) in rows {
            for ((old, ov6), want) in existing.iter().zip(expect) {
                assert_eq!(overlap(req, rv6, *old, *ov6), want, "{req} vs {old}");
            }
        }
        assert_eq!(overlap(a("1.2.3.5:9000"), -1, a("1.2.3.4:9000"), -1), Free);
        assert_eq!(overlap(a("0.0.0.0:9001"), -1, a("0.0.0.0:9000"), -1), Free);
    }
}
