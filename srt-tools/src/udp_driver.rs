//! A minimal blocking driver: one [`Endpoint`] on one std `UdpSocket`, run
//! by the calling thread. It is the loop of ARCHITECTURE.md's "Drivers"
//! section and nothing more; the interop tests use it to put the engine in
//! front of libsrt until `srt-mio` and `srt-tokio` exist.

use srt_proto::{Endpoint, EndpointConfig, Event};
use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

/// The longest the driver sleeps waiting for a datagram.
const MAX_WAIT: Duration = Duration::from_millis(5);
/// The shortest wait (the kernel rounds small socket timeouts up anyway).
const MIN_WAIT: Duration = Duration::from_micros(100);

/// An endpoint on a UDP socket, driven by the caller's thread.
#[derive(Debug)]
pub struct UdpDriver {
    sock: UdpSocket,
    /// The engine; call its application methods directly.
    pub endpoint: Endpoint,
    /// Every event the engine raised, in order.
    pub events: Vec<Event>,
    buf: Vec<u8>,
}

impl UdpDriver {
    /// Binds `local` (use port 0 for any) and starts an endpoint with `seed`.
    pub fn bind(local: SocketAddr, seed: u64) -> io::Result<Self> {
        let sock = UdpSocket::bind(local)?;
        let socket = socket2::SockRef::from(&sock);
        // Large buffers, as libsrt asks for (8192 × 1500 bytes).
        let _ = socket.set_recv_buffer_size(12_288_000);
        let _ = socket.set_send_buffer_size(12_288_000);
        let local = sock.local_addr()?;
        let config = EndpointConfig {
            seed,
            ..EndpointConfig::default()
        };
        Ok(UdpDriver {
            endpoint: Endpoint::new(config, local, Instant::now()),
            sock,
            events: Vec::new(),
            buf: vec![0; 65_536],
        })
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.endpoint.local_addr()
    }

    /// One round: timers, everything to send, then waits at most `max_wait`
    /// for datagrams and handles all that arrived. Returns the new events.
    pub fn turn(&mut self, max_wait: Duration) -> io::Result<&[Event]> {
        let first_new = self.events.len();
        let now = Instant::now();
        self.endpoint.handle_timeout(now);
        self.flush(now)?;
        let wait = self
            .endpoint
            .poll_timeout()
            .map_or(max_wait, |t| t.saturating_duration_since(Instant::now()))
            .clamp(MIN_WAIT, max_wait.max(MIN_WAIT));
        self.sock.set_read_timeout(Some(wait))?;
        self.sock.set_nonblocking(false)?;
        let mut blocking = true;
        loop {
            match self.sock.recv_from(&mut self.buf) {
                Ok((n, from)) => {
                    self.endpoint
                        .handle_datagram(Instant::now(), from, &self.buf[..n]);
                    if blocking {
                        // Drain what else is queued without waiting.
                        self.sock.set_nonblocking(true)?;
                        blocking = false;
                    }
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    break
                }
                // ICMP port unreachable from a peer not (yet) listening.
                Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => break,
                Err(e) => return Err(e),
            }
        }
        let now = Instant::now();
        self.endpoint.handle_timeout(now);
        self.flush(now)?;
        Ok(&self.events[first_new..])
    }

    fn flush(&mut self, now: Instant) -> io::Result<()> {
        while let Some(t) = self.endpoint.poll_transmit(now, &mut self.buf) {
            match self.sock.send_to(&self.buf[..t.size], t.destination) {
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(e),
            }
        }
        while let Some(e) = self.endpoint.poll_event() {
            self.events.push(e);
        }
        Ok(())
    }

    /// Runs until `done` holds for a new event, or `limit` passes; returns
    /// whether it held.
    pub fn run_until(
        &mut self,
        limit: Duration,
        mut done: impl FnMut(&Event) -> bool,
    ) -> io::Result<bool> {
        let end = Instant::now() + limit;
        loop {
            let left = end.saturating_duration_since(Instant::now());
            if self.turn(left.min(MAX_WAIT))?.iter().any(&mut done) {
                return Ok(true);
            }
            if left.is_zero() {
                return Ok(false);
            }
        }
    }

    /// Runs for `d`.
    pub fn run_for(&mut self, d: Duration) -> io::Result<()> {
        self.run_until(d, |_| false).map(|_| ())
    }
}
