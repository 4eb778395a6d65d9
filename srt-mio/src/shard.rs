//! A multiplexer's UDP port and its engine shards: the unit of work the
//! worker pool shares out.
//!
//! A [`Port`] is one UDP socket. Its connections live in one or more
//! [`Shard`]s, each an [`Endpoint`] behind its own lock, owned by one
//! worker. A port has one shard until it listens; a listening port of a
//! context with several workers gets one shard per worker, and every
//! datagram goes to the shard of its peer's address ([`Port::shard_of`]):
//! a caller's handshakes, and then its connection, always land in the same
//! shard. The worker owning shard 0 reads the socket and copies the
//! datagrams of the other shards into their [`Inbox`]es; every shard's
//! worker sends on the socket itself.

use srt_proto::{Endpoint, Event};
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard};
use std::time::Instant;

/// The most bytes of datagrams waiting in one shard's inbox; more are
/// dropped, as a full UDP receive buffer would (the engine recovers them).
const INBOX_BYTES: usize = 4 << 20;

/// One UDP socket and the shards of the engine behind it.
pub(crate) struct Port {
    /// The socket: `None` once the multiplexer is released (the port is
    /// then free again). Workers hold the read lock while they use it.
    pub(crate) udp: RwLock<Option<mio::net::UdpSocket>>,
    /// Batched I/O state of `udp` (GSO and GRO support, fallbacks).
    pub(crate) udp_state: srt_udp::UdpSocketState,
    /// The shards; shard 0's worker reads the socket.
    pub(crate) shards: RwLock<Vec<Arc<Shard>>>,
    /// The multiplexer's index in the context (its poll token).
    pub(crate) index: usize,
    /// Datagrams may be waiting (mio is edge-triggered: read until would-block).
    pub(crate) readable: AtomicBool,
    /// Released: workers drop it.
    pub(crate) closed: AtomicBool,
}

impl Port {
    /// The socket, if not released, for the time the guard lives.
    pub(crate) fn udp(&self) -> RwLockReadGuard<'_, Option<mio::net::UdpSocket>> {
        self.udp.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// The shards, for the time the guard lives.
    pub(crate) fn shards(&self) -> RwLockReadGuard<'_, Vec<Arc<Shard>>> {
        self.shards.read().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Which of `count` shards serves `peer`: a hash of its address, so that
/// every datagram of one peer lands in the same shard.
pub(crate) fn shard_of(peer: SocketAddr, count: usize) -> usize {
    if count <= 1 {
        return 0;
    }
    let ip = match peer.ip() {
        IpAddr::V4(a) => u64::from(u32::from(a)),
        IpAddr::V6(a) => {
            let b = u128::from(a);
            (b as u64) ^ ((b >> 64) as u64)
        }
    };
    const K: u64 = 0x9E37_79B9_7F4A_7C15;
    let h = (ip.wrapping_mul(K) ^ u64::from(peer.port())).wrapping_mul(K);
    ((h >> 32) % count as u64) as usize
}

/// One engine of a port and what its worker keeps of it.
pub(crate) struct Shard {
    pub(crate) engine: Mutex<Engine>,
    /// The worker that runs it.
    pub(crate) worker: usize,
    /// Its index in its port's shards.
    pub(crate) index: usize,
    pub(crate) port: Arc<Port>,
    /// Datagrams the reader routed here.
    pub(crate) inbox: Mutex<Inbox>,
    /// The inbox holds something.
    pub(crate) inbox_ready: AtomicBool,
}

impl Shard {
    /// Shard `index` of `port`, run by `worker`.
    pub(crate) fn new(endpoint: Endpoint, worker: usize, index: usize, port: Arc<Port>) -> Self {
        Shard {
            engine: Mutex::new(Engine::new(endpoint)),
            worker,
            index,
            port,
            inbox: Mutex::new(Inbox::default()),
            inbox_ready: AtomicBool::new(false),
        }
    }

    /// Its engine, locked. Lock order: the context's state first, then
    /// an engine; several engines only for a socket group, under the
    /// state, in (multiplexer, shard) order (`crate::group`).
    pub(crate) fn lock(&self) -> MutexGuard<'_, Engine> {
        self.engine.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Copies a datagram into the inbox; false if it is full (dropped).
    pub(crate) fn deliver(&self, from: SocketAddr, datagram: &[u8]) -> bool {
        let mut inbox = self.inbox.lock().unwrap_or_else(PoisonError::into_inner);
        if inbox.data.len() + datagram.len() > INBOX_BYTES {
            return false;
        }
        inbox.data.extend_from_slice(datagram);
        let end = inbox.data.len();
        inbox.items.push((from, end));
        self.inbox_ready.store(true, Ordering::Release);
        true
    }

    /// Swaps the inbox with `spare` (empty, with its capacity): the
    /// worker then reads the datagrams without holding the inbox.
    pub(crate) fn take_inbox(&self, spare: &mut Inbox) {
        self.inbox_ready.store(false, Ordering::Release);
        let mut inbox = self.inbox.lock().unwrap_or_else(PoisonError::into_inner);
        std::mem::swap(&mut *inbox, spare);
    }
}

/// Datagrams back to back, with their senders (buffers keep their
/// capacity from one turn to the next: no allocation per datagram).
#[derive(Default)]
pub(crate) struct Inbox {
    data: Vec<u8>,
    /// Sender and end offset in `data` of each datagram.
    items: Vec<(SocketAddr, usize)>,
}

impl Inbox {
    /// How many datagrams it holds.
    pub(crate) fn len(&self) -> usize {
        self.items.len()
    }

    /// Hands every datagram to `endpoint`, then empties itself.
    pub(crate) fn drain_into(&mut self, endpoint: &mut Endpoint) {
        let mut start = 0;
        for &(from, end) in &self.items {
            endpoint.handle_datagram(Instant::now(), from, &self.data[start..end]);
            start = end;
        }
        self.items.clear();
        self.data.clear();
    }
}

/// A shard's engine and its worker's bookkeeping.
pub(crate) struct Engine {
    pub(crate) endpoint: Endpoint,
    /// An application call touched the engine since the worker's last visit.
    pub(crate) dirty: bool,
    /// The engine's timer as of the worker's last visit.
    pub(crate) next_timeout: Option<Instant>,
    /// Events the worker took from the engine, not yet applied to the
    /// sockets (whoever applies events takes these first).
    pub(crate) pending: Vec<Event>,
}

impl Engine {
    pub(crate) fn new(endpoint: Endpoint) -> Self {
        Engine {
            endpoint,
            dirty: true,
            next_timeout: None,
            pending: Vec::new(),
        }
    }

    /// Moves the engine's new events to `pending`; whether any wait there.
    pub(crate) fn collect(&mut self) -> bool {
        while let Some(e) = self.endpoint.poll_event() {
            self.pending.push(e);
        }
        !self.pending.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_peer_always_lands_in_one_shard_and_peers_spread() {
        let mut seen = [0usize; 4];
        for port in 40_000..40_400u16 {
            let peer = SocketAddr::from(([127, 0, 0, 1], port));
            let s = shard_of(peer, 4);
            assert_eq!(s, shard_of(peer, 4));
            seen[s] += 1;
        }
        // Every shard gets a fair part of consecutive ports.
        assert!(seen.iter().all(|&n| n > 50), "{seen:?}");
        assert_eq!(shard_of(SocketAddr::from(([127, 0, 0, 1], 9)), 1), 0);
    }
}
