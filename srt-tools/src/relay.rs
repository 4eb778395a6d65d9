//! `srt-relay`: a UDP relay between two loopback ports that impairs the
//! traffic in both directions, for testing SRT without netem.
//!
//! Datagrams that a client sends to the listening socket go out of a second
//! socket (bound to an ephemeral port on the forward address's loopback IP)
//! to the forward address; datagrams coming back from the forward address go
//! to the most recent client. Each direction runs through its own
//! [`Link`] (loss, burst loss, delay, jitter, reordering, duplication, rate
//! limit), seeded so that runs are repeatable given the same arrival times.
//!
//! With `--inject KIND` the relay also forges hostile control packets
//! ([`crate::hostile`]) into the connection it carries, addressed to the
//! side named by `--inject-to` and sent from the relay's socket that side
//! takes for its peer: a test of how an endpoint treats a hostile peer.
//!
//! Only loopback addresses (127.0.0.0/8, `::1`) are accepted, both on the
//! command line and as the source of client datagrams.
//!
//! Deliveries happen at the link's due times as seen through `mio::Poll`,
//! whose timeouts have millisecond granularity (rounded up): a datagram may
//! leave up to about a millisecond after it was due, never before.

use std::fmt;
use std::io::{self, ErrorKind};
use std::net::{SocketAddr, UdpSocket as StdUdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::hostile::{HostileKind, Observer, Target};
use clap::Parser;
use mio::net::UdpSocket;
use mio::{Events, Interest, Poll, Token};
use socket2::{Domain, Protocol, Socket, Type};
use srt_proto::sim::link::{
    GilbertElliott, Link, LinkConfig, DEFAULT_MAX_IN_FLIGHT, DEFAULT_QUEUE_BYTES,
};

const LISTEN: Token = Token(0);
const UPSTREAM: Token = Token(1);

/// Socket buffer size asked for (without CAP_NET_ADMIN the kernel caps it
/// at `net.core.rmem_max` / `wmem_max`). The kernel charges a loopback
/// datagram about 2.3 KB, so 32 MiB hold some 14 000 datagrams: 250 ms of
/// 200 live streams with their ACKs, for a relay descheduled that long.
const SOCKET_BUFFER: usize = 32 << 20;

/// Datagrams read from one socket before serving the other.
const READ_BATCH: usize = 64;

/// Longest wait in `poll`, so that a stop request is seen promptly.
const MAX_WAIT: Duration = Duration::from_millis(50);

/// Mixed into `--seed` for the reverse direction's link.
const REV_SEED_MIX: u64 = 0x9E37_79B9_7F4A_7C15;

/// The message for an address that is not loopback.
fn not_loopback(addr: SocketAddr) -> String {
    format!(
        "{addr} is not a loopback address: srt-relay only relays between \
         loopback addresses (127.0.0.0/8, ::1)"
    )
}

/// Refuses any address that is not loopback (127.0.0.0/8 or `::1`).
pub fn check_loopback(addr: SocketAddr) -> Result<SocketAddr, String> {
    if addr.ip().is_loopback() {
        Ok(addr)
    } else {
        Err(not_loopback(addr))
    }
}

/// Parses `IP:PORT` (`[::1]:PORT` for IPv6) and refuses non-loopback
/// addresses. `localhost:PORT` is taken as `127.0.0.1:PORT`.
pub fn parse_loopback(s: &str) -> Result<SocketAddr, String> {
    let addr = match s.strip_prefix("localhost:") {
        Some(port) => format!("127.0.0.1:{port}"),
        None => s.to_owned(),
    };
    let addr: SocketAddr = addr
        .parse()
        .map_err(|e| format!("{s:?} is not IP:PORT ({e})"))?;
    check_loopback(addr)
}

fn parse_probability(s: &str) -> Result<f64, String> {
    let p: f64 = s.parse().map_err(|e| format!("{s:?}: {e}"))?;
    if (0.0..=1.0).contains(&p) {
        Ok(p)
    } else {
        Err(format!("{s} is not a probability between 0 and 1"))
    }
}

fn parse_millis(s: &str) -> Result<Duration, String> {
    let ms: f64 = s.parse().map_err(|e| format!("{s:?}: {e}"))?;
    Duration::try_from_secs_f64(ms / 1000.0).map_err(|e| format!("{s} ms: {e}"))
}

fn parse_seconds(s: &str) -> Result<Duration, String> {
    let secs: f64 = s.parse().map_err(|e| format!("{s:?}: {e}"))?;
    Duration::try_from_secs_f64(secs).map_err(|e| format!("{s} s: {e}"))
}

fn parse_rate(s: &str) -> Result<f64, String> {
    let mbps: f64 = s.parse().map_err(|e| format!("{s:?}: {e}"))?;
    if mbps.is_finite() && mbps * 1e6 >= 1.0 {
        Ok(mbps)
    } else {
        Err(format!("{s} Mbit/s is not a positive rate"))
    }
}

/// Parses `P_GB,P_BG,LOSS_BAD[,LOSS_GOOD]` (LOSS_GOOD defaults to 0).
pub fn parse_burst(s: &str) -> Result<GilbertElliott, String> {
    let parts = s
        .split(',')
        .map(|p| parse_probability(p.trim()))
        .collect::<Result<Vec<_>, _>>()?;
    match parts[..] {
        [p_good_to_bad, p_bad_to_good, loss_in_bad] => Ok(GilbertElliott {
            p_good_to_bad,
            p_bad_to_good,
            loss_in_bad,
            loss_in_good: 0.0,
        }),
        [p_good_to_bad, p_bad_to_good, loss_in_bad, loss_in_good] => Ok(GilbertElliott {
            p_good_to_bad,
            p_bad_to_good,
            loss_in_bad,
            loss_in_good,
        }),
        _ => Err(format!(
            "{s:?}: expected P_GB,P_BG,LOSS_BAD[,LOSS_GOOD] (probabilities)"
        )),
    }
}

/// Command line of `srt-relay`. Impairment flags apply to both directions;
/// `--fwd-*` (client to forward address) and `--rev-*` (back) override them.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "srt-relay",
    version,
    about = "Relay UDP between two loopback ports, impairing both directions \
             (loss, burst loss, delay, jitter, reordering, duplication, rate limit)"
)]
pub struct RelayArgs {
    /// Loopback address to listen on for the client (port 0: any free port).
    #[arg(long, value_name = "ADDR", value_parser = parse_loopback)]
    pub listen: SocketAddr,
    /// Loopback address to forward the client's datagrams to.
    #[arg(long, value_name = "ADDR", value_parser = parse_loopback)]
    pub forward: SocketAddr,

    /// Random loss probability (0..=1).
    #[arg(long, value_name = "P", default_value = "0", value_parser = parse_probability)]
    pub loss: f64,
    /// Random loss, forward direction only.
    #[arg(long, value_name = "P", value_parser = parse_probability)]
    pub fwd_loss: Option<f64>,
    /// Random loss, reverse direction only.
    #[arg(long, value_name = "P", value_parser = parse_probability)]
    pub rev_loss: Option<f64>,

    /// Gilbert-Elliott burst loss: per-packet probabilities of entering and
    /// leaving the bad state, of loss in the bad state, and (default 0) in the
    /// good state. Mean burst length is about 1/P_BG.
    #[arg(long, value_name = "P_GB,P_BG,LOSS_BAD[,LOSS_GOOD]", value_parser = parse_burst)]
    pub burst_loss: Option<GilbertElliott>,
    /// Burst loss, forward direction only.
    #[arg(long, value_name = "P_GB,P_BG,LOSS_BAD[,LOSS_GOOD]", value_parser = parse_burst)]
    pub fwd_burst_loss: Option<GilbertElliott>,
    /// Burst loss, reverse direction only.
    #[arg(long, value_name = "P_GB,P_BG,LOSS_BAD[,LOSS_GOOD]", value_parser = parse_burst)]
    pub rev_burst_loss: Option<GilbertElliott>,

    /// One-way delay in milliseconds (fractions allowed).
    #[arg(long, value_name = "MS", default_value = "0", value_parser = parse_millis)]
    pub delay_ms: Duration,
    /// Delay, forward direction only.
    #[arg(long, value_name = "MS", value_parser = parse_millis)]
    pub fwd_delay_ms: Option<Duration>,
    /// Delay, reverse direction only.
    #[arg(long, value_name = "MS", value_parser = parse_millis)]
    pub rev_delay_ms: Option<Duration>,

    /// Extra delay drawn uniformly from 0..=MS per packet (the delay is the
    /// minimum). Reorders only with --reorder.
    #[arg(long, value_name = "MS", default_value = "0", value_parser = parse_millis)]
    pub jitter_ms: Duration,
    /// Jitter, forward direction only.
    #[arg(long, value_name = "MS", value_parser = parse_millis)]
    pub fwd_jitter_ms: Option<Duration>,
    /// Jitter, reverse direction only.
    #[arg(long, value_name = "MS", value_parser = parse_millis)]
    pub rev_jitter_ms: Option<Duration>,

    /// Let packets overtake each other (through jitter and --reorder-prob);
    /// without it packets always arrive in the order sent.
    #[arg(long)]
    pub reorder: bool,
    /// Probability that a packet is held back by --reorder-delay-ms so that
    /// later ones overtake it (implies --reorder).
    #[arg(long, value_name = "P", default_value = "0", value_parser = parse_probability)]
    pub reorder_prob: f64,
    /// How long --reorder-prob holds a packet back.
    #[arg(long, value_name = "MS", default_value = "1", value_parser = parse_millis)]
    pub reorder_delay_ms: Duration,

    /// Probability that a packet is duplicated.
    #[arg(long, value_name = "P", default_value = "0", value_parser = parse_probability)]
    pub duplicate: f64,
    /// Duplication, forward direction only.
    #[arg(long, value_name = "P", value_parser = parse_probability)]
    pub fwd_duplicate: Option<f64>,
    /// Duplication, reverse direction only.
    #[arg(long, value_name = "P", value_parser = parse_probability)]
    pub rev_duplicate: Option<f64>,

    /// Bottleneck rate in Mbit/s (default: unlimited).
    #[arg(long, value_name = "MBPS", value_parser = parse_rate)]
    pub rate_mbps: Option<f64>,
    /// Rate, forward direction only.
    #[arg(long, value_name = "MBPS", value_parser = parse_rate)]
    pub fwd_rate_mbps: Option<f64>,
    /// Rate, reverse direction only.
    #[arg(long, value_name = "MBPS", value_parser = parse_rate)]
    pub rev_rate_mbps: Option<f64>,
    /// Bottleneck queue size in bytes; packets that do not fit are
    /// tail-dropped (only with a rate limit).
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_QUEUE_BYTES)]
    pub queue_bytes: usize,
    /// Most packets held in one direction at once; more are dropped.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_IN_FLIGHT)]
    pub max_in_flight: usize,

    /// Seed of the impairments' randomness (the reverse direction uses a
    /// seed derived from it).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Stop after this many seconds (fractions allowed) and print the counters.
    #[arg(long, value_name = "SECS", value_parser = parse_seconds)]
    pub duration_s: Option<Duration>,

    /// Forge hostile control packets of this kind into the connection
    /// (repeatable: the kinds take turns).
    #[arg(long, value_name = "KIND", value_enum)]
    pub inject: Vec<HostileKind>,
    /// The side the forged packets go to (as if from its peer).
    #[arg(long, value_name = "SIDE", value_enum, default_value = "server")]
    pub inject_to: Target,
    /// Start forging this long after the first data packet was relayed.
    #[arg(long, value_name = "MS", default_value = "500", value_parser = parse_millis)]
    pub inject_after_ms: Duration,
    /// How many packets to forge in all.
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub inject_count: u32,
    /// Time between forged packets.
    #[arg(long, value_name = "MS", default_value = "50", value_parser = parse_millis)]
    pub inject_every_ms: Duration,
}

/// What `--inject` asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InjectPlan {
    /// The kinds, taking turns.
    pub kinds: Vec<HostileKind>,
    /// The side they go to.
    pub target: Target,
    /// Delay after the first relayed data packet.
    pub after: Duration,
    /// Packets in all.
    pub count: u32,
    /// Time between packets.
    pub every: Duration,
}

impl RelayArgs {
    /// The injection `--inject` asks for, if any.
    pub fn inject_plan(&self) -> Option<InjectPlan> {
        (!self.inject.is_empty()).then(|| InjectPlan {
            kinds: self.inject.clone(),
            target: self.inject_to,
            after: self.inject_after_ms,
            count: self.inject_count,
            every: self.inject_every_ms,
        })
    }

    /// The link configurations of the forward and reverse directions.
    pub fn link_configs(&self) -> Result<(LinkConfig, LinkConfig), String> {
        let make = |loss: Option<f64>,
                    burst: Option<GilbertElliott>,
                    delay: Option<Duration>,
                    jitter: Option<Duration>,
                    duplicate: Option<f64>,
                    rate: Option<f64>| {
            LinkConfig {
                loss: loss.unwrap_or(self.loss),
                burst: burst.or(self.burst_loss),
                delay: delay.unwrap_or(self.delay_ms),
                jitter: jitter.unwrap_or(self.jitter_ms),
                reorder: self.reorder || self.reorder_prob > 0.0,
                reorder_prob: self.reorder_prob,
                reorder_delay: self.reorder_delay_ms,
                duplicate: duplicate.unwrap_or(self.duplicate),
                rate_bps: rate.or(self.rate_mbps).map(|m| (m * 1e6).round() as u64),
                queue_bytes: self.queue_bytes,
                max_in_flight: self.max_in_flight,
            }
        };
        let fwd = make(
            self.fwd_loss,
            self.fwd_burst_loss,
            self.fwd_delay_ms,
            self.fwd_jitter_ms,
            self.fwd_duplicate,
            self.fwd_rate_mbps,
        );
        let rev = make(
            self.rev_loss,
            self.rev_burst_loss,
            self.rev_delay_ms,
            self.rev_jitter_ms,
            self.rev_duplicate,
            self.rev_rate_mbps,
        );
        fwd.validate().map_err(|e| format!("forward link: {e}"))?;
        rev.validate().map_err(|e| format!("reverse link: {e}"))?;
        Ok((fwd, rev))
    }
}

/// Counters of one direction of the relay. At any time
/// `received + duplicated == forwarded + lost_random + lost_burst +
/// dropped_queue + dropped_overflow + send_failed + no_client + in_flight`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DirectionReport {
    /// `"fwd"` (client to forward address) or `"rev"`.
    pub direction: &'static str,
    /// Datagrams received from the sending side.
    pub received: u64,
    /// Bytes received from the sending side.
    pub bytes_received: u64,
    /// Datagrams sent on to the receiving side.
    pub forwarded: u64,
    /// Bytes sent on to the receiving side.
    pub bytes_forwarded: u64,
    /// Lost to random loss.
    pub lost_random: u64,
    /// Lost to burst loss.
    pub lost_burst: u64,
    /// Tail-dropped at the full bottleneck queue.
    pub dropped_queue: u64,
    /// Dropped because too many datagrams were in flight.
    pub dropped_overflow: u64,
    /// Extra copies made.
    pub duplicated: u64,
    /// Delivered after a datagram received later.
    pub reordered: u64,
    /// Sending on failed with an error.
    pub send_failed: u64,
    /// Due for the client before any client had spoken (reverse only).
    pub no_client: u64,
    /// Still in the link (or waiting for the socket) when counted.
    pub in_flight: u64,
    /// Datagrams from unexpected (non-loopback or foreign) sources, ignored.
    pub ignored: u64,
    /// Forged hostile packets sent in this direction (`--inject`).
    pub injected: u64,
}

impl fmt::Display for DirectionReport {
    /// One line of `key=value` pairs, starting with `dir=fwd` or `dir=rev`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "dir={} received={} forwarded={} lost_random={} lost_burst={} \
             dropped_queue={} dropped_overflow={} duplicated={} reordered={} \
             send_failed={} no_client={} in_flight={} ignored={} \
             injected={} bytes_received={} bytes_forwarded={}",
            self.direction,
            self.received,
            self.forwarded,
            self.lost_random,
            self.lost_burst,
            self.dropped_queue,
            self.dropped_overflow,
            self.duplicated,
            self.reordered,
            self.send_failed,
            self.no_client,
            self.in_flight,
            self.ignored,
            self.injected,
            self.bytes_received,
            self.bytes_forwarded,
        )
    }
}

/// One direction: its link, the datagram waiting for socket space, counters.
#[derive(Debug)]
struct Direction {
    name: &'static str,
    link: Link,
    /// A datagram due that the socket would not take yet.
    pending: Option<Vec<u8>>,
    forwarded: u64,
    bytes_forwarded: u64,
    send_failed: u64,
    no_client: u64,
    ignored: u64,
    injected: u64,
}

impl Direction {
    fn new(name: &'static str, link: Link) -> Self {
        Direction {
            name,
            link,
            pending: None,
            forwarded: 0,
            bytes_forwarded: 0,
            send_failed: 0,
            no_client: 0,
            ignored: 0,
            injected: 0,
        }
    }

    /// Sends every datagram that is due out of `socket` to `dest`.
    fn flush(&mut self, socket: &UdpSocket, dest: Option<SocketAddr>) {
        let now = Instant::now();
        loop {
            let Some(datagram) = self.pending.take().or_else(|| self.link.poll_delivery(now))
            else {
                return;
            };
            let Some(dest) = dest else {
                self.no_client += 1;
                self.link.recycle(datagram);
                continue;
            };
            match socket.send_to(&datagram, dest) {
                Ok(_) => {
                    self.forwarded += 1;
                    self.bytes_forwarded += datagram.len() as u64;
                    self.link.recycle(datagram);
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    self.pending = Some(datagram);
                    return;
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => self.pending = Some(datagram),
                Err(_) => {
                    self.send_failed += 1;
                    self.link.recycle(datagram);
                }
            }
        }
    }

    fn report(&self) -> DirectionReport {
        let s = self.link.stats();
        DirectionReport {
            direction: self.name,
            received: s.sent,
            bytes_received: s.bytes_sent,
            forwarded: self.forwarded,
            bytes_forwarded: self.bytes_forwarded,
            lost_random: s.lost_random,
            lost_burst: s.lost_burst,
            dropped_queue: s.dropped_queue,
            dropped_overflow: s.dropped_overflow,
            duplicated: s.duplicated,
            reordered: s.reordered,
            send_failed: self.send_failed,
            no_client: self.no_client,
            in_flight: s.in_flight + u64::from(self.pending.is_some()),
            ignored: self.ignored,
            injected: self.injected,
        }
    }
}

/// A UDP socket bound to a loopback `addr`, non-blocking, with large buffers.
fn bind_udp(addr: SocketAddr) -> io::Result<UdpSocket> {
    let socket = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
    // Best effort: past rmem_max / wmem_max (often 4 MiB or less, about
    // 1800 loopback datagrams) with CAP_NET_ADMIN, else capped there.
    if rustix::net::sockopt::set_socket_recv_buffer_size_force(&socket, SOCKET_BUFFER).is_err() {
        let _ = socket.set_recv_buffer_size(SOCKET_BUFFER);
    }
    if rustix::net::sockopt::set_socket_send_buffer_size_force(&socket, SOCKET_BUFFER).is_err() {
        let _ = socket.set_send_buffer_size(SOCKET_BUFFER);
    }
    socket.set_nonblocking(true)?;
    socket
        .bind(&addr.into())
        .map_err(|e| io::Error::new(e.kind(), format!("cannot bind {addr}: {e}")))?;
    Ok(UdpSocket::from_std(StdUdpSocket::from(socket)))
}

/// The relay: two sockets, two links, one `mio::Poll`.
#[derive(Debug)]
pub struct Relay {
    poll: Poll,
    events: Events,
    listen: UdpSocket,
    upstream: UdpSocket,
    listen_addr: SocketAddr,
    upstream_addr: SocketAddr,
    forward: SocketAddr,
    /// Most recent source of a datagram on the listening socket.
    client: Option<SocketAddr>,
    fwd: Direction,
    rev: Direction,
    buf: Vec<u8>,
    /// Sockets that may still hold datagrams (mio is edge-triggered).
    readable: [bool; 2],
    /// Forging hostile packets, when asked to.
    injector: Option<Injector>,
}

/// The state of `--inject`: what the traffic showed and what is due.
#[derive(Debug)]
struct Injector {
    plan: InjectPlan,
    observer: Observer,
    /// When the first data packet was relayed.
    first_data: Option<Instant>,
    /// Packets forged so far.
    sent: u32,
}

impl Injector {
    fn observe(&mut self, from: Target, datagram: &[u8], now: Instant) {
        self.observer.observe(from, datagram);
        if self.first_data.is_none() && datagram.first().is_some_and(|b| b & 0x80 == 0) {
            self.first_data = Some(now);
        }
    }

    /// When the next forged packet is due, if any is left.
    fn next_due(&self) -> Option<Instant> {
        let first = self.first_data?;
        (self.sent < self.plan.count).then(|| first + self.plan.after + self.plan.every * self.sent)
    }

    /// The next forged packet, if one is due at `now` and the target can be
    /// aimed at.
    fn poll(&mut self, now: Instant) -> Option<Vec<u8>> {
        if self.next_due()? > now {
            return None;
        }
        let kind = self.plan.kinds[self.sent as usize % self.plan.kinds.len()];
        let round = self.sent / self.plan.kinds.len() as u32;
        let packet = self.observer.forge(kind, self.plan.target, round)?;
        self.sent += 1;
        Some(packet)
    }
}

impl Relay {
    /// Binds the listening socket to `listen` and an upstream socket to an
    /// ephemeral port on `forward`'s IP. `fwd` impairs datagrams from the
    /// client to `forward`, `rev` those coming back; `seed` seeds both (the
    /// reverse link with a value derived from it). Refuses non-loopback
    /// addresses.
    pub fn new(
        listen: SocketAddr,
        forward: SocketAddr,
        fwd: LinkConfig,
        rev: LinkConfig,
        seed: u64,
    ) -> io::Result<Relay> {
        for addr in [listen, forward] {
            check_loopback(addr).map_err(|e| io::Error::new(ErrorKind::InvalidInput, e))?;
        }
        let invalid = |e| io::Error::new(ErrorKind::InvalidInput, format!("{e}"));
        let fwd = Link::try_new(fwd, seed).map_err(invalid)?;
        let rev = Link::try_new(rev, seed ^ REV_SEED_MIX).map_err(invalid)?;
        let poll = Poll::new()?;
        let mut listen_socket = bind_udp(listen)?;
        let mut upstream = bind_udp(SocketAddr::new(forward.ip(), 0))?;
        let listen_addr = listen_socket.local_addr()?;
        let upstream_addr = upstream.local_addr()?;
        let both = Interest::READABLE | Interest::WRITABLE;
        poll.registry().register(&mut listen_socket, LISTEN, both)?;
        poll.registry().register(&mut upstream, UPSTREAM, both)?;
        Ok(Relay {
            poll,
            events: Events::with_capacity(64),
            listen: listen_socket,
            upstream,
            listen_addr,
            upstream_addr,
            forward,
            client: None,
            fwd: Direction::new("fwd", fwd),
            rev: Direction::new("rev", rev),
            buf: vec![0; 65_536],
            readable: [true, true],
            injector: None,
        })
    }

    /// Forges hostile packets as `plan` says, from now on.
    pub fn set_injection(&mut self, plan: InjectPlan) {
        if plan.kinds.is_empty() {
            return;
        }
        self.injector = Some(Injector {
            plan,
            observer: Observer::default(),
            first_data: None,
            sent: 0,
        });
    }

    /// Sends the forged packets that are due.
    fn inject(&mut self) {
        let Some(injector) = &mut self.injector else {
            return;
        };
        let now = Instant::now();
        while let Some(packet) = injector.poll(now) {
            let (socket, dest, dir) = match injector.plan.target {
                Target::Server => (&self.upstream, Some(self.forward), &mut self.fwd),
                Target::Client => (&self.listen, self.client, &mut self.rev),
            };
            if let Some(dest) = dest {
                if socket.send_to(&packet, dest).is_ok() {
                    dir.injected += 1;
                }
            }
        }
    }

    /// The address clients send to.
    pub fn listen_addr(&self) -> SocketAddr {
        self.listen_addr
    }

    /// The address the forward peer sees the relay's datagrams come from.
    pub fn upstream_addr(&self) -> SocketAddr {
        self.upstream_addr
    }

    /// The address datagrams from clients are forwarded to.
    pub fn forward_addr(&self) -> SocketAddr {
        self.forward
    }

    /// Relays until `stop` is set or `deadline` passes.
    pub fn run(&mut self, stop: &AtomicBool, deadline: Option<Instant>) -> io::Result<()> {
        loop {
            if stop.load(Ordering::Relaxed) {
                return Ok(());
            }
            let now = Instant::now();
            if deadline.is_some_and(|d| now >= d) {
                return Ok(());
            }
            let mut timeout = MAX_WAIT;
            if let Some(d) = deadline {
                timeout = timeout.min(d - now);
            }
            for dir in [&self.fwd, &self.rev] {
                if let Some(due) = dir.link.next_delivery() {
                    timeout = timeout.min(due.saturating_duration_since(now));
                }
                if dir.pending.is_some() {
                    timeout = timeout.min(Duration::from_millis(1));
                }
            }
            if let Some(due) = self.injector.as_ref().and_then(Injector::next_due) {
                timeout = timeout.min(due.saturating_duration_since(now));
            }
            if self.readable.contains(&true) {
                timeout = Duration::ZERO;
            }
            match self.poll.poll(&mut self.events, Some(timeout)) {
                Ok(()) => {}
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
            for event in self.events.iter() {
                if event.is_readable() {
                    match event.token() {
                        LISTEN => self.readable[0] = true,
                        UPSTREAM => self.readable[1] = true,
                        _ => {}
                    }
                }
            }
            if self.readable[0] {
                self.readable[0] = self.read_clients()?;
            }
            if self.readable[1] {
                self.readable[1] = self.read_upstream()?;
            }
            self.fwd.flush(&self.upstream, Some(self.forward));
            self.rev.flush(&self.listen, self.client);
            self.inject();
        }
    }

    /// Reads up to a batch from the listening socket into the forward link;
    /// `true` if more may be waiting.
    fn read_clients(&mut self) -> io::Result<bool> {
        for _ in 0..READ_BATCH {
            match self.listen.recv_from(&mut self.buf) {
                Ok((len, from)) => {
                    if !from.ip().is_loopback() {
                        self.fwd.ignored += 1;
                        continue;
                    }
                    self.client = Some(from);
                    let now = Instant::now();
                    if let Some(injector) = &mut self.injector {
                        injector.observe(Target::Client, &self.buf[..len], now);
                    }
                    self.fwd.link.send(now, &self.buf[..len]);
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(false),
                Err(e) if transient(&e) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(true)
    }

    /// Reads up to a batch from the upstream socket into the reverse link;
    /// `true` if more may be waiting.
    fn read_upstream(&mut self) -> io::Result<bool> {
        for _ in 0..READ_BATCH {
            match self.upstream.recv_from(&mut self.buf) {
                Ok((len, from)) => {
                    if from != self.forward {
                        self.rev.ignored += 1;
                        continue;
                    }
                    let now = Instant::now();
                    if let Some(injector) = &mut self.injector {
                        injector.observe(Target::Server, &self.buf[..len], now);
                    }
                    self.rev.link.send(now, &self.buf[..len]);
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(false),
                Err(e) if transient(&e) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(true)
    }

    /// The counters of the forward and reverse directions.
    pub fn report(&self) -> [DirectionReport; 2] {
        [self.fwd.report(), self.rev.report()]
    }
}

/// Errors worth ignoring on a UDP socket (ICMP errors from an absent peer,
/// signals).
fn transient(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        ErrorKind::Interrupted | ErrorKind::ConnectionRefused | ErrorKind::ConnectionReset
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(extra: &[&str]) -> RelayArgs {
        let base = [
            "srt-relay",
            "--listen",
            "127.0.0.1:0",
            "--forward",
            "127.0.0.1:9",
        ];
        RelayArgs::try_parse_from(base.iter().chain(extra)).unwrap()
    }

    #[test]
    fn loopback_only() {
        assert!(parse_loopback("127.0.0.1:1").is_ok());
        assert!(parse_loopback("127.3.2.1:1").is_ok());
        assert!(parse_loopback("[::1]:1").is_ok());
        assert_eq!(
            parse_loopback("localhost:5").unwrap(),
            "127.0.0.1:5".parse().unwrap()
        );
        for bad in [
            "10.0.0.1:1",
            "0.0.0.0:1",
            "[::]:1",
            "[::ffff:10.0.0.1]:1",
            "8.8.8.8:53",
        ] {
            let e = parse_loopback(bad).unwrap_err();
            assert!(e.contains("not a loopback address"), "{bad}: {e}");
        }
        assert!(parse_loopback("example.com:80").is_err());
        let err = Relay::new(
            "127.0.0.1:0".parse().unwrap(),
            "10.0.0.1:9".parse().unwrap(),
            LinkConfig::default(),
            LinkConfig::default(),
            1,
        )
        .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
    }

    #[test]
    fn burst_syntax() {
        assert_eq!(
            parse_burst("0.01,0.25,1").unwrap(),
            GilbertElliott::gilbert(0.01, 0.25)
        );
        assert_eq!(
            parse_burst("0.1, 0.2, 0.9, 0.01").unwrap().loss_in_good,
            0.01
        );
        assert!(parse_burst("0.1,0.2").is_err());
        assert!(parse_burst("0.1,0.2,2").is_err());
    }

    #[test]
    fn shared_flags_and_overrides() {
        let (fwd, rev) = args(&[
            "--loss",
            "0.05",
            "--rev-loss",
            "0.2",
            "--delay-ms",
            "10",
            "--fwd-delay-ms",
            "2.5",
            "--rate-mbps",
            "50",
            "--reorder-prob",
            "0.1",
            "--burst-loss",
            "0.01,0.3,1",
        ])
        .link_configs()
        .unwrap();
        assert_eq!((fwd.loss, rev.loss), (0.05, 0.2));
        assert_eq!(fwd.delay, Duration::from_micros(2500));
        assert_eq!(rev.delay, Duration::from_millis(10));
        assert_eq!(fwd.rate_bps, Some(50_000_000));
        assert!(fwd.reorder && rev.reorder);
        assert_eq!(rev.burst, Some(GilbertElliott::gilbert(0.01, 0.3)));
        let (fwd, _) = args(&[]).link_configs().unwrap();
        assert_eq!(fwd, LinkConfig::default());
    }

    #[test]
    fn report_line_is_key_value() {
        let line = DirectionReport {
            direction: "fwd",
            received: 3,
            ..DirectionReport::default()
        }
        .to_string();
        assert!(line.starts_with("dir=fwd received=3 forwarded=0 "));
        assert!(line.split(' ').all(|kv| kv.split_once('=').is_some()));
        assert!(!line.contains('\n'));
    }
}
