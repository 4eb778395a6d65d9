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
use srt_proto::{Endpoint, EndpointConfig, Event};
use srt_udp::SyncUdp;
use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::os::fd::{AsFd, BorrowedFd};
use std::time::{Duration, Instant};

/// The longest the driver sleeps waiting for a datagram.
const MAX_WAIT: Duration = Duration::from_millis(5);
/// The most datagrams read in one turn before the engine gets to send
/// (a receiver flooded with data still sends its ACKs in time).
const MAX_READS: usize = 256;
/// UDP socket buffers asked for, bytes (libsrt's 8192 packets × 1500).
const UDP_BUFFER: usize = 12_288_000;

/// An endpoint on a UDP socket, driven by the caller's thread.
#[derive(Debug)]
pub struct UdpDriver {
    sock: UdpSocket,
    /// The engine; call its application methods directly.
    pub endpoint: Endpoint,
    /// Every event the engine raised, in order.
    pub events: Vec<Event>,
    /// Batched reads and sends.
    io: SyncUdp,
    /// The shortest time between two wake-ups (zero: wake at once).
    tick: Duration,
    /// When the last wait ended.
    last_wake: Instant,
}

/// The UDP socket's descriptor, for a program that drives two endpoints
/// in one thread: it passes one driver's descriptor to the other's
/// [`turn_with`](UdpDriver::turn_with), so that one wait wakes for both.
impl AsFd for UdpDriver {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.sock.as_fd()
    }
}

impl UdpDriver {
    /// Binds `local` (use port 0 for any) and starts an endpoint whose
    /// every random value (socket IDs, ISNs, cookies, salts, keys) comes
    /// from 32 bytes of OS entropy.
    pub fn bind(local: SocketAddr) -> io::Result<Self> {
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
        let mut entropy = [0u8; 32];
        getrandom::fill(&mut entropy).map_err(io::Error::other)?;
        let config = EndpointConfig::new(entropy);
        let io = SyncUdp::new(&sock)?;
        Ok(UdpDriver {
            endpoint: Endpoint::new(config, local, Instant::now()),
            sock,
            events: Vec::new(),
            io,
            tick: Duration::ZERO,
            last_wake: Instant::now(),
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
        Ok(())
    }

    /// Wakes at most once every `tick` (zero, the default: at once for
    /// every datagram and timer). A live stream of 10,000 packets a second
    /// otherwise wakes the thread for each arrival and each delivery time;
    /// with a 1 ms tick it handles them in batches, at the cost of up to
    /// one tick of extra delay and pacing jitter.
    pub fn set_tick(&mut self, tick: Duration) {
        self.tick = tick;
    }

    /// Undoes [`connect_peer`](Self::connect_peer): datagrams from anyone
    /// reach the endpoint again (a listener waiting for a new caller).
    pub fn disconnect_peer(&mut self) -> io::Result<()> {
        rustix::net::connect_unspec(&self.sock)?;
        Ok(())
    }

    /// Datagrams the kernel refused to send so far.
    pub fn send_drops(&self) -> u64 {
        self.io.drops
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
        let deadline = self
            .endpoint
            .poll_timeout()
            .map_or(now + max_wait, |t| t.min(now + max_wait));
        if !self.tick.is_zero() && !max_wait.is_zero() {
            // Coalesce: whatever arrives or falls due until the next tick
            // is handled together then.
            let wake = self.last_wake + self.tick;
            let now = Instant::now();
            if wake > now {
                std::thread::sleep(wake - now);
            }
        }
        let wait = deadline.saturating_duration_since(Instant::now());
        if !wait.is_zero() {
            self.wait_readable(wait, also)?;
        }
        self.last_wake = Instant::now();
        self.receive()?;
        let now = Instant::now();
        self.endpoint.handle_timeout(now);
        self.flush(now)?;
        Ok(&self.events[first_new..])
    }

    /// Hands every queued datagram (at most `MAX_READS`) to the engine.
    fn receive(&mut self) -> io::Result<()> {
        for _ in 0..MAX_READS {
            let Some((from, datagram)) = self.io.recv(&self.sock)? else {
                break;
            };
            self.endpoint
                .handle_datagram(Instant::now(), from, datagram);
        }
        Ok(())
    }

    /// Waits until a datagram is queued, `also` is readable, or `wait`
    /// passes (exact, `ppoll`).
    fn wait_readable(&self, wait: Duration, also: Option<BorrowedFd<'_>>) -> io::Result<()> {
        let mut fds = [
            PollFd::new(&self.sock, PollFlags::IN),
            PollFd::from_borrowed_fd(also.unwrap_or(self.sock.as_fd()), PollFlags::IN),
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
        while let Some(t) = self.endpoint.poll_transmit(now, self.io.out.slot()) {
            if self.io.out.commit(t.destination, t.size) {
                self.io.send(&self.sock)?;
            }
        }
        self.io.send(&self.sock)?;
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
