//! What the simulation tests share: the two addresses and a connection
//! between them.
#![allow(dead_code)]

use srt_proto::packet::SocketId;
use srt_proto::sim::link::LinkConfig;
use srt_proto::sim::{Network, NodeId};
use srt_proto::{Event, SocketOptions};
use std::net::SocketAddr;
use std::time::Duration;

/// The listener's address.
pub(crate) const SERVER: &str = "127.0.0.1:9000";
/// The caller's address.
pub(crate) const CLIENT: &str = "127.0.0.2:5000";

/// Parses a socket address.
pub(crate) fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

/// The two endpoints of a connection made in a simulation, and its sockets.
pub(crate) struct Pair {
    pub(crate) server: NodeId,
    pub(crate) client: NodeId,
    pub(crate) caller: SocketId,
    pub(crate) accepted: SocketId,
}

/// Adds SERVER (listening with `opts`) and CLIENT to `net` and connects
/// CLIENT to SERVER.
pub(crate) fn connect(net: &mut Network, opts: &SocketOptions) -> Pair {
    let server = net.add_endpoint(addr(SERVER));
    let client = net.add_endpoint(addr(CLIENT));
    net.endpoint(server).listen(opts, 5).unwrap();
    let now = net.now();
    let caller = net
        .endpoint(client)
        .connect(now, addr(SERVER), opts)
        .unwrap();
    assert!(
        net.run_until(Duration::from_secs(3), |n| n
            .events(client)
            .contains(&Event::Connected { socket: caller })),
        "no connection"
    );
    let accepted = net.endpoint(server).accept().expect("accepted");
    Pair {
        server,
        client,
        caller,
        accepted,
    }
}

/// No loss, but one packet in twenty is overtaken by the next few (10 ms
/// one-way delay).
pub(crate) fn reordering_link() -> LinkConfig {
    LinkConfig {
        delay: Duration::from_millis(10),
        reorder: true,
        reorder_prob: 0.05,
        reorder_delay: Duration::from_millis(3),
        ..LinkConfig::default()
    }
}
