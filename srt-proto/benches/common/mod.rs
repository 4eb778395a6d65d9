//! What the endpoint benchmarks share.

use srt_proto::{Endpoint, EndpointConfig, SocketOptions};
use std::net::SocketAddr;
use std::time::Instant;

/// Moves every queued datagram between the two endpoints until both are quiet.
pub(crate) fn shuttle(now: Instant, a: &mut Endpoint, b: &mut Endpoint, buf: &mut [u8]) {
    loop {
        let mut moved = false;
        while let Some(t) = a.poll_transmit(now, buf) {
            let from = a.local_addr();
            b.handle_datagram(now, from, &buf[..t.size]);
            moved = true;
        }
        while let Some(t) = b.poll_transmit(now, buf) {
            let from = b.local_addr();
            a.handle_datagram(now, from, &buf[..t.size]);
            moved = true;
        }
        if !moved {
            return;
        }
    }
}

/// A listener endpoint (at 127.0.0.1:9000, with `backlog` and `options`)
/// and a caller endpoint (at 127.0.0.1:5000), both starting at the
/// returned instant.
pub(crate) fn listener_and_caller(
    backlog: usize,
    options: &SocketOptions,
) -> (Instant, Endpoint, Endpoint) {
    let listener_addr: SocketAddr = "127.0.0.1:9000".parse().unwrap();
    let caller_addr: SocketAddr = "127.0.0.1:5000".parse().unwrap();
    let start = Instant::now();
    let mut listener = Endpoint::new(EndpointConfig::seeded(0), listener_addr, start);
    listener.listen(options, backlog).unwrap();
    let caller = Endpoint::new(EndpointConfig::seeded(1), caller_addr, start);
    (start, listener, caller)
}
