//! A minimal blocking driver: one [`Endpoint`] on one std `UdpSocket`, run
//! by the calling thread. It is the loop of ARCHITECTURE.md's "Drivers"
//! section and nothing more; the interop tests and `srt-transmit` use it
//! to put the engine on the network until `srt-mio` and `srt-tokio` exist.
//!
//! What keeps it fast (a file transfer moves 200 000+ packets a second):
//! the socket stays non-blocking and the driver waits with `ppoll`, whose
//! timeout is exact to the microsecond (a socket receive timeout is
//! rounded up to the kernel's tick, which would stall the sender's
//! pacing); it reads every queued datagram before it ticks the engine; and
//! it hands what the engine sends to the kernel in batches with `sendmmsg`.

use rustix::event::{PollFd, PollFlags, Timespec};
use rustix::io::Errno;
use rustix::net::{MMsgHdr, SendAncillaryBuffer, SendFlags, SocketAddrAny};
use srt_proto::{Endpoint, EndpointConfig, Event};
use std::io::{self, IoSlice};
use std::net::{SocketAddr, UdpSocket};
use std::os::fd::BorrowedFd;
use std::time::{Duration, Instant};

/// The longest the driver sleeps waiting for a datagram.
const MAX_WAIT: Duration = Duration::from_millis(5);
/// The most datagrams read in one turn before the engine gets to send
/// (a receiver flooded with data still sends its ACKs in time).
const MAX_READS: usize = 256;
/// The most datagrams handed to the kernel in one `sendmmsg`.
const BATCH: usize = 32;
/// UDP socket buffers asked for, bytes (libsrt's 8192 packets × 1500).
const UDP_BUFFER: usize = 12_288_000;
/// Room for one datagram (the engine's MSS is at most 1500).
const SLOT: usize = 1500;

/// An endpoint on a UDP socket, driven by the caller's thread.
#[derive(Debug)]
pub struct UdpDriver {
    sock: UdpSocket,
    /// The engine; call its application methods directly.
    pub endpoint: Endpoint,
    /// Every event the engine raised, in order.
    pub events: Vec<Event>,
    /// Receive buffer (one datagram, any size).
    buf: Vec<u8>,
    /// Send batch: `BATCH` slots of `SLOT` bytes.
    out: Vec<u8>,
    /// Destination and length of each filled slot of `out`.
    pending: Vec<(SocketAddr, usize)>,
    /// Datagrams the kernel refused (full send buffer, no route); the
    /// engine's retransmission covers them.
    send_drops: u64,
    /// The one peer the socket is connected to, if any.
    peer: Option<SocketAddr>,
}

impl UdpDriver {
    /// Binds `local` (use port 0 for any) and starts an endpoint with `seed`.
    pub fn bind(local: SocketAddr, seed: u64) -> io::Result<Self> {
        let sock = UdpSocket::bind(local)?;
        // Large buffers, as libsrt asks for (8192 × 1500 bytes). The kernel
        // caps a plain request at net.core.{r,w}mem_max (often 4 MiB or
        // less) and charges each datagram its whole allocation (about 2.3 KB
        // for 1.5 KB on loopback), so a full flow window would not fit and
        // a receiver descheduled for a few milliseconds loses thousands of
        // packets. With CAP_NET_ADMIN (root) the cap is lifted.
        if rustix::net::sockopt::set_socket_recv_buffer_size_force(&sock, UDP_BUFFER).is_err() {
            let _ = socket2::SockRef::from(&sock).set_recv_buffer_size(UDP_BUFFER);
        }
        if rustix::net::sockopt::set_socket_send_buffer_size_force(&sock, UDP_BUFFER).is_err() {
            let _ = socket2::SockRef::from(&sock).set_send_buffer_size(UDP_BUFFER);
        }
        sock.set_nonblocking(true)?;
        let local = sock.local_addr()?;
        // Keys and SYN cookies need secret randomness, not just the seed.
        let mut entropy = [0u8; 32];
        getrandom::fill(&mut entropy).map_err(io::Error::other)?;
        let config = EndpointConfig {
            seed,
            entropy: Some(entropy),
            ..EndpointConfig::default()
        };
        Ok(UdpDriver {
            endpoint: Endpoint::new(config, local, Instant::now()),
            sock,
            events: Vec::new(),
            buf: vec![0; 65_536],
            out: vec![0; BATCH * SLOT],
            pending: Vec::with_capacity(BATCH),
            send_drops: 0,
            peer: None,
        })
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.endpoint.local_addr()
    }

    /// Connects the UDP socket to `peer`, for a driver that talks to one
    /// peer only (a caller, or a listener once it has accepted): the kernel
    /// then drops datagrams from anyone else, keeps the route instead of
    /// looking it up for every datagram, and numbers the IP packets from a
    /// per-socket counter instead of its shared hashed table.
    pub fn connect_peer(&mut self, peer: SocketAddr) -> io::Result<()> {
        self.sock.connect(peer)?;
        self.peer = Some(peer);
        Ok(())
    }

    /// Datagrams the kernel refused to send so far.
    pub fn send_drops(&self) -> u64 {
        self.send_drops
    }

    /// One round: timers, everything to send, then waits at most `max_wait`
    /// (less if the engine has a timer due sooner) for datagrams and
    /// handles all that arrived. Returns the new events.
    pub fn turn(&mut self, max_wait: Duration) -> io::Result<&[Event]> {
        self.turn_with(max_wait, None)
    }

    /// [`turn`](Self::turn), but the wait also ends when `also` (an
    /// application's input: a UDP socket, a pipe) becomes readable.
    pub fn turn_with(
        &mut self,
        max_wait: Duration,
        also: Option<BorrowedFd<'_>>,
    ) -> io::Result<&[Event]> {
        let first_new = self.events.len();
        let now = Instant::now();
        self.endpoint.handle_timeout(now);
        self.flush(now)?;
        let wait = self
            .endpoint
            .poll_timeout()
            .map_or(max_wait, |t| t.saturating_duration_since(Instant::now()))
            .min(max_wait);
        if !wait.is_zero() {
            self.wait_readable(wait, also)?;
        }
        for _ in 0..MAX_READS {
            match self.sock.recv_from(&mut self.buf) {
                Ok((n, from)) => {
                    self.endpoint
                        .handle_datagram(Instant::now(), from, &self.buf[..n]);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
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

    /// Waits until a datagram is queued, `also` is readable, or `wait`
    /// passes (exact, `ppoll`).
    fn wait_readable(&self, wait: Duration, also: Option<BorrowedFd<'_>>) -> io::Result<()> {
        let mut fds = [
            PollFd::new(&self.sock, PollFlags::IN),
            PollFd::from_borrowed_fd(
                also.unwrap_or(std::os::fd::AsFd::as_fd(&self.sock)),
                PollFlags::IN,
            ),
        ];
        let n = if also.is_some() { 2 } else { 1 };
        let timeout = Timespec {
            tv_sec: wait.as_secs() as _,
            tv_nsec: wait.subsec_nanos() as _,
        };
        match rustix::event::poll(&mut fds[..n], Some(&timeout)) {
            Ok(_) | Err(Errno::INTR) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Sends everything the engine has to send, `BATCH` datagrams per
    /// system call, then collects the events.
    fn flush(&mut self, now: Instant) -> io::Result<()> {
        loop {
            let slot = self.pending.len() * SLOT;
            match self
                .endpoint
                .poll_transmit(now, &mut self.out[slot..slot + SLOT])
            {
                Some(t) => {
                    self.pending.push((t.destination, t.size));
                    if self.pending.len() == BATCH {
                        self.send_pending()?;
                    }
                }
                None => break,
            }
        }
        self.send_pending()?;
        while let Some(e) = self.endpoint.poll_event() {
            self.events.push(e);
        }
        Ok(())
    }

    /// Hands the batch to the kernel.
    fn send_pending(&mut self) -> io::Result<()> {
        let mut first = 0;
        while first < self.pending.len() {
            let batch = &self.pending[first..];
            let addrs: Vec<SocketAddrAny> = batch.iter().map(|(a, _)| (*a).into()).collect();
            let iovs: Vec<[IoSlice<'_>; 1]> = batch
                .iter()
                .enumerate()
                .map(|(k, (_, len))| {
                    let at = (first + k) * SLOT;
                    [IoSlice::new(&self.out[at..at + len])]
                })
                .collect();
            let mut controls: Vec<SendAncillaryBuffer<'_, '_, '_>> = batch
                .iter()
                .map(|_| SendAncillaryBuffer::default())
                .collect();
            let mut msgs: Vec<MMsgHdr<'_>> = addrs
                .iter()
                .zip(&iovs)
                .zip(&mut controls)
                .zip(batch)
                .map(|(((addr, iov), control), (dest, _))| {
                    // To the connected peer without an address, so that the
                    // kernel uses the socket's cached route.
                    if self.peer == Some(*dest) {
                        MMsgHdr::new(iov, control)
                    } else {
                        MMsgHdr::new_with_addr(addr, iov, control)
                    }
                })
                .collect();
            match rustix::net::sendmmsg(&self.sock, &mut msgs, SendFlags::empty()) {
                Ok(n) => first += n.max(1),
                Err(Errno::INTR) => {}
                // Full socket buffer or an unreachable peer: drop this one
                // datagram, as a lossy network would.
                Err(Errno::AGAIN | Errno::CONNREFUSED | Errno::NETUNREACH | Errno::HOSTUNREACH) => {
                    self.send_drops += 1;
                    first += 1;
                }
                Err(e) => {
                    self.pending.clear();
                    return Err(e.into());
                }
            }
        }
        self.pending.clear();
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
