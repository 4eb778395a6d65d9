//! The one sync driver of the engine: what puts an [`Endpoint`] on a UDP
//! socket, used by this crate's worker pool and, through [`UdpDriver`], by
//! `srt-tools` (`srt-transmit`, `srt-relay`'s tests, the interop tests).
//!
//! [`Driver`] is the per-socket turn's I/O, with its buffers: datagrams
//! read several per `recvmmsg` (each buffer possibly a GRO run, split
//! back into datagrams) and handed to the engine
//! ([`read`](Driver::read), batch by batch, for a worker that routes
//! them to several engines; [`receive`](Driver::receive), up to a count
//! with the rest of a batch kept, for one engine), and everything the engine has to
//! send taken from it into one preallocated batch and handed to the kernel
//! one GSO `sendmsg` per run of equal datagrams
//! ([`transmit`](Driver::transmit)). [`WakeTick`] is the wake-up tick:
//! a driver that sleeps at most once per tick handles together whatever
//! arrived and fell due meanwhile. Neither allocates per packet.
//!
//! Two loops run it:
//! - a worker of the pool (`worker.rs`): one `Driver` for every shard it
//!   runs, waits on a `mio::Poll` over its ports plus a `Waker` for
//!   application calls, engines behind locks;
//! - [`UdpDriver`]: one engine on one socket, run by the caller's thread
//!   (no lock, no other thread), waits with `ppoll`.
//!
//! Both do, per engine and turn: read what waits (a worker at most
//! [`MAX_READS`] batches, so that the other engines' timers get their
//! turn; `UdpDriver` at most [`MAX_DATAGRAMS`] datagrams, so that its
//! engine's ACKs go out in time), the engine's
//! timers, its transmits, its events; then sleep until the next tick or
//! the engine's earliest timer, whichever is later, unless more datagrams
//! wait or a timer is already due.

use rustix::event::{PollFd, PollFlags, Timespec};
use rustix::io::Errno;
use srt_proto::{Endpoint, EndpointConfig, Event};
use srt_udp::{send_batch, RecvBatch, RecvError, SendBatch, UdpSocketState};
use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::os::fd::{AsFd, BorrowedFd};
use std::time::{Duration, Instant};

/// The most `recvmmsg` calls on one socket per turn (each reads up to 8
/// buffers, each up to a 64 KB GRO run).
pub const MAX_READS: usize = 32;
/// The most datagrams [`UdpDriver`]'s turn hands to its engine: it sends
/// its ACKs in time even when flooded (a worker reads up to
/// [`MAX_READS`] batches whatever they hold).
pub const MAX_DATAGRAMS: usize = 256;

/// The I/O of one turn of the engine on a UDP socket, with its reusable
/// buffers (about 0.6 MB): one per thread, whatever sockets it serves.
#[derive(Debug)]
pub struct Driver {
    input: RecvBatch,
    out: SendBatch,
    /// Datagrams [`read`](Self::read) handed out so far.
    pub read: u64,
    /// Datagrams lost on the way (the kernel refused them: full send
    /// buffer, unreachable peer; or the owner dropped them), as on a lossy
    /// network: the engine resends.
    pub dropped: u64,
}

impl Default for Driver {
    fn default() -> Self {
        Self::new()
    }
}

impl Driver {
    /// A driver with empty buffers.
    pub fn new() -> Self {
        Driver {
            input: RecvBatch::new(),
            out: SendBatch::new(),
            read: 0,
            dropped: 0,
        }
    }

    /// Reads what waits on `sock` (non-blocking) with `state`, one
    /// `recvmmsg` batch at a time, and hands each batch to `route`, which
    /// takes its datagrams with [`Datagrams::next_datagram`] (any it leaves
    /// are dropped). Stops when the socket would block (returns `false`)
    /// or after [`MAX_READS`] batches or, once a batch is done, `max`
    /// datagrams (returns `true`: more may wait); it starts each batch
    /// afresh (nothing is kept from one call to the next). An ICMP error (a peer not
    /// listening) is consumed and the reading goes on; any other error is
    /// returned.
    pub fn read(
        &mut self,
        state: &UdpSocketState,
        sock: &impl AsFd,
        max: usize,
        mut route: impl FnMut(&mut Datagrams<'_>),
    ) -> io::Result<bool> {
        let mut taken = 0;
        for _ in 0..MAX_READS {
            if taken >= max as u64 {
                return Ok(true);
            }
            match self.input.read(state, sock.into()) {
                Ok(_) => {
                    let mut batch = Datagrams {
                        batch: &mut self.input,
                        taken: 0,
                    };
                    route(&mut batch);
                    taken += batch.taken;
                    self.read += batch.taken;
                }
                Err(e) => match RecvError::of(&e) {
                    RecvError::Drained => return Ok(false),
                    RecvError::Interrupted | RecvError::Icmp => {}
                    RecvError::Fatal => return Err(e),
                },
            }
        }
        Ok(true)
    }

    /// For a driver of one socket: hands the datagrams waiting on `sock`
    /// to `endpoint`, at most `max` per call (those of a batch beyond it
    /// stay buffered for the next call, so do not mix with
    /// [`read`](Self::read) on other sockets). Stops early when the socket
    /// would block or reports an ICMP error (returns `false`); `true`:
    /// more may wait.
    pub fn receive(
        &mut self,
        state: &UdpSocketState,
        sock: &impl AsFd,
        max: usize,
        endpoint: &mut Endpoint,
    ) -> io::Result<bool> {
        for _ in 0..max {
            if !self.input.fill(state, sock)? {
                return Ok(false);
            }
            let Some((from, datagram)) = self.input.next_datagram() else {
                return Ok(false);
            };
            endpoint.handle_datagram(Instant::now(), from, datagram);
            self.read += 1;
        }
        Ok(true)
    }

    /// Takes everything `endpoint` has to send at `now` and hands it to
    /// the kernel through `sock`, up to `srt_udp::BATCH` datagrams per
    /// batch, each run of equal datagrams in one GSO `sendmsg`. Datagrams
    /// the kernel refuses for a transient reason count in
    /// [`dropped`](Self::dropped). Any other error (the socket broken, or
    /// a first GSO send the system does not support: `quinn-udp` then
    /// sends without segmentation from the next batch on) loses the rest
    /// of its batch, as a lossy network would, and the sending goes on:
    /// the first such error is returned once the engine has nothing more
    /// to send.
    pub fn transmit(
        &mut self,
        state: &UdpSocketState,
        sock: &impl AsFd,
        endpoint: &mut Endpoint,
        now: Instant,
    ) -> io::Result<()> {
        let mut first = None;
        while let Some(t) = endpoint.poll_transmit(now, self.out.slot()) {
            if self.out.commit(t.destination, t.size) {
                if let Err(e) = self.flush(state, sock) {
                    first.get_or_insert(e);
                }
            }
        }
        if let Err(e) = self.flush(state, sock) {
            first.get_or_insert(e);
        }
        first.map_or(Ok(()), Err)
    }

    /// Hands the queued datagrams to the kernel.
    fn flush(&mut self, state: &UdpSocketState, sock: &impl AsFd) -> io::Result<()> {
        if self.out.is_empty() {
            return Ok(());
        }
        let sent = send_batch(state, sock, &mut self.out);
        self.dropped += sent.dropped;
        sent.error.map_or(Ok(()), Err)
    }
}

/// One batch of datagrams read together, handed out one at a time.
pub struct Datagrams<'a> {
    batch: &'a mut RecvBatch,
    taken: u64,
}

impl Datagrams<'_> {
    /// The next datagram and its sender, if any is left.
    pub fn next_datagram(&mut self) -> Option<(SocketAddr, &[u8])> {
        let d = self.batch.next_datagram();
        if d.is_some() {
            self.taken += 1;
        }
        d
    }
}

/// The wake-up tick: a driver waking at most once per tick (a live
/// stream's 10,000 packets a second then cost a thread wake-up per tick,
/// not per arrival and per delivery time) sleeps with [`hold`](Self::hold)
/// before each wait and marks each wake-up with [`woke`](Self::woke).
#[derive(Clone, Copy, Debug)]
pub struct WakeTick {
    last_wake: Instant,
}

impl Default for WakeTick {
    fn default() -> Self {
        Self::new()
    }
}

impl WakeTick {
    /// A tick whose last wake-up is now.
    pub fn new() -> Self {
        WakeTick {
            last_wake: Instant::now(),
        }
    }

    /// Before a wait of `wait`: with a non-zero `tick`, sleeps until one
    /// tick after the last wake-up, so that whatever arrives or falls due
    /// until then is handled together (a timer due sooner is up to one
    /// tick late); returns what is left of `wait`. A zero `wait` (more
    /// datagrams waiting, a timer due) or a driver already a tick behind
    /// (the turn ended a tick or more after the wake-up, as on a loaded
    /// machine) does not sleep.
    pub fn hold(&self, tick: Duration, wait: Duration) -> Duration {
        let now = Instant::now();
        let wake = self.last_wake + tick;
        if tick.is_zero() || wait.is_zero() || wake <= now {
            return wait;
        }
        std::thread::sleep(wake - now);
        wait.saturating_sub(Instant::now().saturating_duration_since(now))
    }

    /// The wait ended: the next tick counts from now.
    pub fn woke(&mut self) {
        self.last_wake = Instant::now();
    }
}

/// The longest [`UdpDriver::run_until`] sleeps in one turn.
const MAX_WAIT: Duration = Duration::from_millis(5);
/// UDP socket buffers [`UdpDriver`] asks for, bytes (libsrt's 8192
/// packets × 1500).
const UDP_BUFFER: usize = 12_288_000;

/// One endpoint on one UDP socket, driven by the caller's thread with
/// [`Driver`] and [`WakeTick`], as a worker drives its shards: what
/// `srt-transmit` and the interop tests run on.
///
/// What keeps it fast (a file transfer moves 200 000+ packets a second):
/// the socket stays non-blocking and the driver waits with `ppoll`, whose
/// timeout is exact to the microsecond (a socket receive timeout is
/// rounded up to the kernel's tick, which would stall the sender's
/// pacing); it reads every queued datagram before it ticks the engine; and
/// it hands what the engine sends to the kernel in GSO batches.
#[derive(Debug)]
pub struct UdpDriver {
    sock: UdpSocket,
    /// The socket's batched I/O state (GSO and GRO support, fallbacks).
    state: UdpSocketState,
    /// The engine; call its application methods directly.
    pub endpoint: Endpoint,
    /// Every event the engine raised, in order.
    pub events: Vec<Event>,
    /// The turn's I/O and buffers.
    io: Driver,
    /// The shortest time between two wake-ups (zero: wake at once).
    tick: Duration,
    /// When the last wait ended.
    wake: WakeTick,
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
        let state = UdpSocketState::new((&sock).into())?;
        Ok(UdpDriver {
            endpoint: Endpoint::new(config, local, Instant::now()),
            sock,
            state,
            events: Vec::new(),
            io: Driver::new(),
            tick: Duration::ZERO,
            wake: WakeTick::new(),
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
        self.io.dropped
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
        // What the application asked since the last turn goes out first.
        self.output()?;
        let now = Instant::now();
        let deadline = self
            .endpoint
            .poll_timeout()
            .map_or(now + max_wait, |t| t.min(now + max_wait));
        let wait = self
            .wake
            .hold(self.tick, deadline.saturating_duration_since(now));
        if !wait.is_zero() {
            self.wait_readable(wait, also)?;
        }
        self.wake.woke();
        self.io
            .receive(&self.state, &self.sock, MAX_DATAGRAMS, &mut self.endpoint)?;
        self.output()?;
        Ok(&self.events[first_new..])
    }

    /// The engine's timers, its transmits, then its events.
    fn output(&mut self) -> io::Result<()> {
        let now = Instant::now();
        self.endpoint.handle_timeout(now);
        self.io
            .transmit(&self.state, &self.sock, &mut self.endpoint, now)?;
        while let Some(e) = self.endpoint.poll_event() {
            self.events.push(e);
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
