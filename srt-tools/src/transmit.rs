//! What `srt-transmit` does, as a library: move bytes between a [`Medium`]
//! and an SRT connection driven by a [`UdpDriver`].
//!
//! [`run`] dispatches on the pair of media and the SRT side's transtype:
//! - file mode (`transtype=file`): a file or stdin to SRT ([`send_file`]),
//!   SRT to a file or stdout ([`receive_file`]); the sender closes with
//!   linger so that everything is acknowledged first.
//! - live mode (the default, as in srt-live-transmit): UDP datagrams, a
//!   file or stdin to SRT, each datagram or chunk one live message
//!   ([`send_live`]); SRT to UDP (one datagram per message), a file or
//!   stdout ([`receive_live`]). The program ends when the input ends or
//!   the peer closes, unless [`Settings::reconnect`] (`-a:yes`) asks it to
//!   connect again or accept the next caller.
//!
//! Either way the SRT side is a caller, a listener (one connection) or a
//! rendezvous party, and runs on one [`UdpDriver`] whose waits also wake
//! for the input.

use crate::stats::{StatsConfig, StatsReporter};
use crate::udp_driver::UdpDriver;
use crate::uri::{Medium, Mode, SrtTarget, UdpTarget};
use srt_proto::handshake::TransType;
use srt_proto::packet::{RejectReason, SocketId};
use srt_proto::{BreakCause, CloseMode, Event, MsgCtrl, SendError};
use srt_udp::SyncUdp;
use std::fs::File;
use std::io::{IsTerminal, Read, Write};
use std::net::{SocketAddr, UdpSocket};
use std::os::fd::{AsFd, BorrowedFd};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The longest one driver turn waits for datagrams.
const TURN: Duration = Duration::from_millis(10);
/// The most input datagrams or chunks taken in one turn, so that the
/// engine gets to send (and ACK) in time under a flood.
const MAX_INPUT_PER_TURN: usize = 256;
/// A live transfer's driver wakes at most once per tick and handles what
/// arrived and fell due in between together (libsrt's tools read their
/// input in batches too): a 64th of the TSBPD latency, so that the jitter
/// it adds stays small beside what the receiver absorbs, between these
/// bounds. The upper one stays below the engine's 2 ms pacing catch-up
/// window, so a sender woken a tick late still sends at its full rate.
const LIVE_TICK_MIN: Duration = Duration::from_micros(500);
/// See [`LIVE_TICK_MIN`].
const LIVE_TICK_MAX: Duration = Duration::from_micros(1875);

/// Sets the driver's wake-up tick for live connection `id` from the larger
/// of its two TSBPD delays (the direction not in use has the peer's).
fn set_live_tick(d: &mut UdpDriver, id: SocketId) {
    let latency = d
        .endpoint
        .socket_stats(Instant::now(), id, false)
        .map_or(0, |s| s.ms_rcv_tsb_pd_delay.max(s.ms_snd_tsb_pd_delay));
    d.set_tick(live_tick(latency));
}

/// The wake-up tick of a live transfer with `latency_ms` of TSBPD delay.
fn live_tick(latency_ms: i32) -> Duration {
    (Duration::from_millis(latency_ms.max(0) as u64) / 64).clamp(LIVE_TICK_MIN, LIVE_TICK_MAX)
}
/// Room for any UDP datagram.
const DATAGRAM: usize = 65_536;
/// How long a file sender keeps the connection once everything is
/// acknowledged, before SHUTDOWN (see [`send_file`]).
const CLOSE_GRACE: Duration = Duration::from_millis(50);

/// Why a transfer failed.
#[derive(Debug, thiserror::Error)]
pub enum TransmitError {
    /// A file could not be opened, read or written.
    #[error("{path}: {source}")]
    File {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The SRT side's UDP socket failed.
    #[error("UDP socket: {0}")]
    Socket(#[from] std::io::Error),
    /// A `udp://` medium could not be opened or used.
    #[error("udp://{addr}: {source}")]
    Udp {
        /// The address bound or sent to.
        addr: SocketAddr,
        /// The error.
        source: std::io::Error,
    },
    /// The engine refused to connect or listen.
    #[error("{0}")]
    Endpoint(#[from] srt_proto::EndpointError),
    /// The connection could not be set up.
    #[error("connecting to {addr} failed: {reason:?}")]
    ConnectFailed {
        /// The peer.
        addr: SocketAddr,
        /// Why, in libsrt's terms.
        reason: RejectReason,
    },
    /// The connection broke before the transfer was complete.
    #[error("connection broken ({cause:?}) after {bytes} bytes")]
    Broken {
        /// Why.
        cause: BreakCause,
        /// Bytes moved until then.
        bytes: u64,
    },
    /// Sending failed.
    #[error("send failed after {bytes} bytes: {source}")]
    Send {
        /// The engine's error.
        source: SendError,
        /// Bytes queued until then.
        bytes: u64,
    },
    /// Linger ran out before the peer acknowledged everything.
    #[error("linger ({0:?}) ran out before the peer acknowledged everything")]
    LingerExpired(Duration),
    /// This pair of media is not supported (yet).
    #[error("{0}")]
    Unsupported(String),
}

/// How a transfer went.
#[derive(Debug, Clone, Copy)]
pub struct Summary {
    /// Payload bytes moved.
    pub bytes: u64,
    /// Messages (live) or chunks (file) moved.
    pub messages: u64,
    /// From connection (or accept) to the end.
    pub elapsed: Duration,
    /// Whether the run ended because it was interrupted (SIGINT/SIGTERM).
    pub interrupted: bool,
}

impl Summary {
    /// Payload throughput, Mbit/s.
    pub fn mbps(&self) -> f64 {
        self.bytes as f64 * 8.0 / self.elapsed.as_secs_f64().max(1e-9) / 1e6
    }
}

/// Transfer settings that are not in the URIs.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// Bytes read from the input at a time: in file mode, and in the
    /// message API the size of each message (default 1 MiB); in live mode
    /// the size of each message read from a file or stdin (default: the
    /// payload size). `None`: the default.
    pub chunk: Option<usize>,
    /// Seed of the engine's random numbers (socket IDs, ISN, keys).
    pub seed: u64,
    /// When and how to print the connection's statistics.
    pub stats: StatsConfig,
    /// Log each connection as it is made (to stderr).
    pub verbose: bool,
    /// Show a progress line on stderr during file transfers.
    pub progress: bool,
    /// Set (by a signal handler) to stop: the connection is closed and the
    /// run ends successfully.
    pub stop: Option<Arc<AtomicBool>>,
    /// Live mode: when the connection breaks, connect again (caller,
    /// rendezvous: retrying until it succeeds) or accept the next caller
    /// (listener), as srt-live-transmit's `-a:yes`; input that arrives
    /// meanwhile is dropped. File mode ignores it.
    pub reconnect: bool,
}

impl Settings {
    fn stopped(&self) -> bool {
        self.stop
            .as_ref()
            .is_some_and(|s| s.load(Ordering::Relaxed))
    }
}

/// Moves `input` to `output`.
pub fn run(input: &Medium, output: &Medium, settings: &Settings) -> Result<Summary, TransmitError> {
    match (input, output) {
        (Medium::Srt(_), Medium::Srt(_)) => Err(TransmitError::Unsupported(
            "srt:// to srt:// is not supported yet".into(),
        )),
        (Medium::Srt(target), sink) if target.options.transtype == TransType::File => match sink {
            Medium::File(path) => receive_file(target, path, settings),
            Medium::Console => receive_file(target, Path::new("-"), settings),
            _ => Err(TransmitError::Unsupported(
                "transtype=file writes to file:///path or file://con; use live mode for udp://"
                    .into(),
            )),
        },
        (Medium::Srt(target), sink) => receive_live(target, sink, settings),
        (source, Medium::Srt(target)) if target.options.transtype == TransType::File => {
            match source {
                Medium::File(path) => send_file(path, target, settings),
                Medium::Console => send_file(Path::new("-"), target, settings),
                _ => Err(TransmitError::Unsupported(
                    "transtype=file reads file:///path or file://con; use live mode for udp://"
                        .into(),
                )),
            }
        }
        (source, Medium::Srt(target)) => send_live(source, target, settings),
        _ => Err(TransmitError::Unsupported(
            "one of the two media must be srt://".into(),
        )),
    }
}

/// Binds the driver for a target: a caller on `adapter:port` (any
/// address of the peer's family and an ephemeral port by default), a
/// listener on its address, a rendezvous party on `adapter:port` (the
/// peer's port by default, as libsrt).
fn bind(target: &SrtTarget, settings: &Settings) -> Result<UdpDriver, TransmitError> {
    Ok(UdpDriver::bind(target.local_addr(), settings.seed)?)
}

/// Connects (caller, rendezvous) or waits for one caller (listener);
/// returns the socket. Stops early (None) if the run is stopped.
fn establish(
    d: &mut UdpDriver,
    target: &SrtTarget,
    settings: &Settings,
) -> Result<Option<SocketId>, TransmitError> {
    let id = match target.mode {
        Mode::Caller | Mode::Rendezvous => {
            d.connect_peer(target.addr)?;
            let id = if target.mode == Mode::Caller {
                d.endpoint
                    .connect(Instant::now(), target.addr, &target.options)?
            } else {
                d.endpoint
                    .rendezvous(Instant::now(), target.addr, &target.options)?
            };
            'wait: loop {
                if settings.stopped() {
                    return Ok(None);
                }
                for e in d.turn(TURN)? {
                    match e {
                        Event::Connected { socket } if *socket == id => break 'wait,
                        Event::ConnectFailed { socket, reason } if *socket == id => {
                            return Err(TransmitError::ConnectFailed {
                                addr: target.addr,
                                reason: *reason,
                            })
                        }
                        _ => {}
                    }
                }
                d.events.clear();
            }
            if settings.verbose {
                eprintln!(
                    "srt-transmit: connected to {} ({}, local {})",
                    target.addr,
                    target.mode,
                    d.local_addr()
                );
            }
            id
        }
        Mode::Listener => {
            d.endpoint.listen(&target.options, 1)?;
            if settings.verbose {
                eprintln!("srt-transmit: listening on {}", d.local_addr());
            }
            loop {
                if settings.stopped() {
                    return Ok(None);
                }
                d.turn(TURN)?;
                d.events.clear();
                if let Some(id) = d.endpoint.accept() {
                    // One connection only: later callers are not accepted.
                    d.endpoint.stop_listening(Instant::now());
                    if let Some(conn) = d.endpoint.connection(id) {
                        let peer = conn.remote();
                        if settings.verbose {
                            eprintln!(
                                "srt-transmit: accepted connection from {peer}, stream ID {:?}",
                                String::from_utf8_lossy(conn.stream_id())
                            );
                        }
                        d.connect_peer(peer)?;
                    }
                    break id;
                }
            }
        }
    };
    d.events.clear();
    Ok(Some(id))
}

/// After connection `id` broke (`cause`, logged with `-v`): closes it and connects again, retrying a
/// caller or rendezvous party whose peer does not answer yet every second
/// until it does, or a listener waits for the next caller. `None` if the
/// run was stopped meanwhile.
fn reestablish(
    d: &mut UdpDriver,
    id: SocketId,
    cause: BreakCause,
    target: &SrtTarget,
    settings: &Settings,
) -> Result<Option<SocketId>, TransmitError> {
    if settings.verbose {
        eprintln!("srt-transmit: connection lost ({cause:?}); connecting again");
    }
    let _ = d.endpoint.close(Instant::now(), id, CloseMode::Abort);
    d.turn(Duration::ZERO)?;
    d.events.clear();
    if target.mode == Mode::Listener {
        d.disconnect_peer()?;
    }
    loop {
        match establish(d, target, settings) {
            Err(TransmitError::ConnectFailed { reason, .. }) => {
                if settings.verbose {
                    eprintln!("srt-transmit: reconnecting failed ({reason:?}); trying again");
                }
                let retry = Instant::now() + Duration::from_secs(1);
                while Instant::now() < retry {
                    if settings.stopped() {
                        return Ok(None);
                    }
                    d.turn(TURN)?;
                    d.events.clear();
                }
            }
            other => return other,
        }
    }
}

fn file_error(path: &Path) -> impl FnOnce(std::io::Error) -> TransmitError + '_ {
    move |source| TransmitError::File {
        path: path.to_owned(),
        source,
    }
}

/// The first break of `id` among the driver's new events.
fn broken(d: &UdpDriver, id: SocketId) -> Option<BreakCause> {
    d.events.iter().find_map(|e| match e {
        Event::Broken { socket, cause } if *socket == id => Some(*cause),
        _ => None,
    })
}

/// A summary of a run stopped before it connected.
fn nothing(interrupted: bool) -> Summary {
    Summary {
        bytes: 0,
        messages: 0,
        elapsed: Duration::ZERO,
        interrupted,
    }
}

/// Where file-mode bytes come from: a file or stdin (`-`).
fn open_reader(path: &Path) -> Result<Box<dyn Read>, TransmitError> {
    if path == Path::new("-") {
        Ok(Box::new(std::io::stdin().lock()))
    } else {
        Ok(Box::new(File::open(path).map_err(file_error(path))?))
    }
}

/// Where file-mode bytes go: a file or stdout (`-`).
fn open_writer(path: &Path) -> Result<Box<dyn Write>, TransmitError> {
    if path == Path::new("-") {
        Ok(Box::new(std::io::stdout().lock()))
    } else {
        Ok(Box::new(File::create(path).map_err(file_error(path))?))
    }
}

/// A progress line on stderr, redrawn at most 4 times a second.
struct Progress {
    on: bool,
    start: Instant,
    next: Instant,
    total: Option<u64>,
}

impl Progress {
    fn new(on: bool, total: Option<u64>) -> Self {
        let now = Instant::now();
        Progress {
            on,
            start: now,
            next: now,
            total,
        }
    }

    fn show(&mut self, bytes: u64, force: bool) {
        if !self.on {
            return;
        }
        let now = Instant::now();
        if now < self.next && !force {
            return;
        }
        self.next = now + Duration::from_millis(250);
        let secs = now.duration_since(self.start).as_secs_f64().max(1e-9);
        let rate = bytes as f64 * 8.0 / secs / 1e6;
        let mib = bytes as f64 / (1 << 20) as f64;
        let line = match self.total {
            Some(t) if t > 0 => format!(
                "{mib:10.1} MiB {:5.1}% {rate:8.1} Mbit/s {secs:7.1} s",
                bytes as f64 * 100.0 / t as f64
            ),
            _ => format!("{mib:10.1} MiB {rate:8.1} Mbit/s {secs:7.1} s"),
        };
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r{line}");
        let _ = err.flush();
    }

    fn finish(&mut self, bytes: u64) {
        if self.on {
            self.show(bytes, true);
            eprintln!();
        }
    }
}

/// Sends the file at `path` (`-`: stdin) over SRT, then closes with linger
/// so that all of it is acknowledged before the connection goes.
pub fn send_file(
    path: &Path,
    target: &SrtTarget,
    settings: &Settings,
) -> Result<Summary, TransmitError> {
    let mut file = open_reader(path)?;
    let total = std::fs::metadata(path).ok().map(|m| m.len());
    let mut d = bind(target, settings)?;
    let Some(id) = establish(&mut d, target, settings)? else {
        return Ok(nothing(true));
    };
    let start = Instant::now();
    let message_api = target.options.messageapi;
    let ctrl = MsgCtrl::default();
    let mut buf = vec![0u8; settings.chunk.unwrap_or(1 << 20).max(1)];
    let (mut at, mut filled) = (0, 0);
    let mut eof = false;
    let mut queued = 0u64;
    let mut chunks = 0u64;
    let mut stats = StatsReporter::new(&settings.stats, payload_size(target));
    let mut progress = Progress::new(settings.progress, total);
    loop {
        stats.tick(&mut d, id);
        progress.show(queued, false);
        if settings.stopped() {
            d.endpoint.close(Instant::now(), id, CloseMode::Abort)?;
            d.turn(Duration::ZERO)?;
            progress.finish(queued);
            return Ok(Summary {
                bytes: queued,
                messages: chunks,
                elapsed: start.elapsed(),
                interrupted: true,
            });
        }
        // Top the send buffer up.
        let now = Instant::now();
        loop {
            if at == filled {
                if eof {
                    break;
                }
                filled = read_full(&mut file, &mut buf).map_err(file_error(path))?;
                at = 0;
                if filled < buf.len() {
                    eof = true;
                }
                if filled == 0 {
                    break;
                }
            }
            match d.endpoint.send(now, id, &buf[at..filled], &ctrl) {
                Ok(n) => {
                    at += n;
                    queued += n as u64;
                    stats.bytes(&mut d, id, n);
                    if at == filled {
                        chunks += 1;
                    }
                    debug_assert!(!message_api || at == filled);
                }
                Err(SendError::WouldBlock) => break,
                Err(source) => {
                    return Err(TransmitError::Send {
                        source,
                        bytes: queued,
                    })
                }
            }
        }
        if eof && at == filled {
            break;
        }
        d.turn(TURN)?;
        if let Some(cause) = broken(&d, id) {
            return Err(TransmitError::Broken {
                cause,
                bytes: queued,
            });
        }
        d.events.clear();
    }
    // Linger: SHUTDOWN goes once everything is acknowledged. Before it, a
    // grace period once all is acknowledged: libsrt 1.5.1's srt-file-transmit
    // sometimes stops reading the data it acknowledged but had not yet
    // read when SHUTDOWN arrives at once (1 run in ~6 here: 8005600 of
    // 8388608 bytes written, then "Connection closed, reading buffer
    // remains" forever); libsrt's own sender polls its buffer every 250 ms
    // and so never closes that early.
    let linger = target.options.linger.unwrap_or(Duration::ZERO);
    let closing = Instant::now();
    let mut acked_at = None;
    loop {
        let now = Instant::now();
        let queued_pkts = d
            .endpoint
            .socket_stats_instant(now, id, false, true)
            .map_or(0, |s| s.pkt_snd_buf);
        if queued_pkts == 0 {
            let at = *acked_at.get_or_insert(now);
            if now >= at + CLOSE_GRACE {
                break;
            }
        }
        if now >= closing + linger {
            break;
        }
        stats.tick(&mut d, id);
        d.turn(TURN)?;
        if let Some(cause) = broken(&d, id) {
            if cause == BreakCause::PeerShutdown && acked_at.is_some() {
                break;
            }
            return Err(TransmitError::Broken {
                cause,
                bytes: queued,
            });
        }
        d.events.clear();
    }
    // The transfer's time ends when everything was acknowledged.
    let done_at = acked_at;
    d.endpoint.close(Instant::now(), id, CloseMode::Linger)?;
    loop {
        stats.tick(&mut d, id);
        if d.events.contains(&Event::Closed { socket: id }) {
            break;
        }
        if let Some(cause) = broken(&d, id) {
            return Err(TransmitError::Broken {
                cause,
                bytes: queued,
            });
        }
        d.events.clear();
        d.turn(TURN)?;
    }
    let elapsed = done_at.unwrap_or_else(Instant::now).duration_since(start);
    progress.finish(queued);
    if !linger.is_zero() && closing.elapsed() >= linger {
        return Err(TransmitError::LingerExpired(linger));
    }
    // The SHUTDOWN went out in the turn that closed; one more turn repeats
    // nothing but answers anything the peer still says.
    d.turn(Duration::ZERO)?;
    Ok(Summary {
        bytes: queued,
        messages: chunks,
        elapsed,
        interrupted: false,
    })
}

/// Reads until `buf` is full or the end of the input; returns the length.
fn read_full(file: &mut dyn Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match file.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// Receives one connection's data into the file at `path` (created or
/// truncated; `-`: stdout); done when the sender closes.
pub fn receive_file(
    target: &SrtTarget,
    path: &Path,
    settings: &Settings,
) -> Result<Summary, TransmitError> {
    let mut file = open_writer(path)?;
    let mut d = bind(target, settings)?;
    let Some(id) = establish(&mut d, target, settings)? else {
        return Ok(nothing(true));
    };
    let start = Instant::now();
    let mut buf = vec![0u8; settings.chunk.unwrap_or(1 << 20).max(1)];
    let message_api = target.options.messageapi;
    let mut got = 0u64;
    let mut chunks = 0u64;
    let mut end = None;
    let mut stats = StatsReporter::new(&settings.stats, payload_size(target));
    let mut progress = Progress::new(settings.progress, None);
    loop {
        stats.tick(&mut d, id);
        progress.show(got, false);
        if settings.stopped() {
            d.endpoint.close(Instant::now(), id, CloseMode::Abort)?;
            d.turn(Duration::ZERO)?;
            file.flush().map_err(file_error(path))?;
            progress.finish(got);
            return Ok(Summary {
                bytes: got,
                messages: chunks,
                elapsed: start.elapsed(),
                interrupted: true,
            });
        }
        // Read everything ready, in chunks as large as the buffer.
        let mut filled = 0;
        loop {
            let info = match d.endpoint.recv(Instant::now(), id, &mut buf[filled..]) {
                Ok(Some(info)) if info.len > 0 => info,
                _ => break,
            };
            filled += info.len;
            stats.bytes(&mut d, id, info.len);
            // The message API delivers one message per call: write each.
            if filled == buf.len() || message_api {
                file.write_all(&buf[..filled]).map_err(file_error(path))?;
                got += filled as u64;
                chunks += 1;
                filled = 0;
            }
        }
        if filled > 0 {
            file.write_all(&buf[..filled]).map_err(file_error(path))?;
            got += filled as u64;
            chunks += 1;
        } else if let Some(cause) = end {
            // The peer closed and nothing is left to read.
            file.flush().map_err(file_error(path))?;
            progress.finish(got);
            return match cause {
                BreakCause::PeerShutdown => Ok(Summary {
                    bytes: got,
                    messages: chunks,
                    elapsed: start.elapsed(),
                    interrupted: false,
                }),
                cause => Err(TransmitError::Broken { cause, bytes: got }),
            };
        }
        d.turn(TURN)?;
        if end.is_none() {
            end = broken(&d, id);
        }
        d.events.clear();
    }
}

/// The largest payload of one packet of the target's connection.
fn payload_size(target: &SrtTarget) -> usize {
    match target.options.payloadsize {
        0 => 1456,
        n => n as usize,
    }
}

/// Opens a `udp://` medium as an input: binds its address (joins the
/// group if multicast) and applies its socket settings.
pub fn open_udp_input(t: &UdpTarget) -> Result<UdpSocket, TransmitError> {
    let err = |source| TransmitError::Udp {
        addr: t.addr,
        source,
    };
    let domain = socket2::Domain::for_address(t.addr);
    let sock = socket2::Socket::new(domain, socket2::Type::DGRAM, Some(socket2::Protocol::UDP))
        .map_err(err)?;
    sock.set_reuse_address(true).map_err(err)?;
    apply_udp_settings(&sock, t).map_err(err)?;
    sock.bind(&t.addr.into()).map_err(err)?;
    if t.multicast {
        if let std::net::IpAddr::V4(group) = t.addr.ip() {
            let iface = match t.adapter {
                Some(std::net::IpAddr::V4(a)) => a,
                _ => std::net::Ipv4Addr::UNSPECIFIED,
            };
            sock.join_multicast_v4(&group, &iface).map_err(err)?;
        } else if let std::net::IpAddr::V6(group) = t.addr.ip() {
            sock.join_multicast_v6(&group, 0).map_err(err)?;
        }
    }
    let sock: UdpSocket = sock.into();
    sock.set_nonblocking(true).map_err(err)?;
    Ok(sock)
}

/// Opens a `udp://` medium as an output: binds `adapter` (or any address)
/// and sends to its address (localhost when the URI has no host, as libsrt).
pub fn open_udp_output(t: &UdpTarget) -> Result<(UdpSocket, SocketAddr), TransmitError> {
    let dest = if t.no_host {
        SocketAddr::from(([127, 0, 0, 1], t.addr.port()))
    } else {
        t.addr
    };
    let err = |source| TransmitError::Udp { addr: dest, source };
    let local: SocketAddr = match (t.adapter, dest.is_ipv4()) {
        (Some(ip), _) => SocketAddr::new(ip, 0),
        (None, true) => SocketAddr::from(([0, 0, 0, 0], 0)),
        (None, false) => SocketAddr::from((std::net::Ipv6Addr::UNSPECIFIED, 0)),
    };
    let domain = socket2::Domain::for_address(local);
    let sock = socket2::Socket::new(domain, socket2::Type::DGRAM, Some(socket2::Protocol::UDP))
        .map_err(err)?;
    apply_udp_settings(&sock, t).map_err(err)?;
    if let Some(ttl) = t.ttl {
        if dest.ip().is_multicast() && dest.is_ipv4() {
            sock.set_multicast_ttl_v4(ttl).map_err(err)?;
        }
    }
    sock.bind(&local.into()).map_err(err)?;
    Ok((sock.into(), dest))
}

fn apply_udp_settings(sock: &socket2::Socket, t: &UdpTarget) -> std::io::Result<()> {
    if let Some(n) = t.rcvbuf {
        sock.set_recv_buffer_size(n)?;
    }
    if let Some(n) = t.sndbuf {
        sock.set_send_buffer_size(n)?;
    }
    if let Some(ttl) = t.ttl {
        if t.addr.is_ipv4() {
            sock.set_ttl_v4(ttl)?;
        }
    }
    if let Some(tos) = t.iptos {
        if t.addr.is_ipv4() {
            sock.set_tos_v4(tos)?;
        }
    }
    Ok(())
}

/// Where live messages come from.
enum Source {
    /// One datagram per message, read in batches.
    Udp(UdpSocket, SocketAddr, Box<SyncUdp>),
    /// A file: read as fast as the send buffer takes it.
    File(File, PathBuf),
    /// Standard input: read what is there when it is readable.
    Stdin(std::io::Stdin),
}

/// One read from a live source.
enum Input {
    /// A message of this many bytes is in the buffer.
    Message(usize),
    /// Nothing now.
    Empty,
    /// The input ended.
    End,
}

impl Source {
    /// Drops the datagrams queued on a UDP input (a file or stdin keeps
    /// its place).
    fn discard_queued(&mut self) -> Result<(), TransmitError> {
        if let Source::Udp(sock, addr, reader) = self {
            while reader
                .recv(sock)
                .map_err(|source| TransmitError::Udp {
                    addr: *addr,
                    source,
                })?
                .is_some()
            {}
        }
        Ok(())
    }

    fn open(medium: &Medium) -> Result<Source, TransmitError> {
        match medium {
            Medium::Udp(t) => {
                let sock = open_udp_input(t)?;
                let reader = SyncUdp::new(&sock).map_err(|source| TransmitError::Udp {
                    addr: t.addr,
                    source,
                })?;
                Ok(Source::Udp(sock, t.addr, Box::new(reader)))
            }
            Medium::File(path) => Ok(Source::File(
                File::open(path).map_err(file_error(path))?,
                path.clone(),
            )),
            Medium::Console => Ok(Source::Stdin(std::io::stdin())),
            Medium::Srt(_) => unreachable!("srt:// to srt:// is refused in run"),
        }
    }

    /// What the driver should wait on besides its socket; `None` when
    /// the source is always ready (a file).
    fn poll_fd(&self) -> Option<BorrowedFd<'_>> {
        match self {
            Source::Udp(s, ..) => Some(s.as_fd()),
            Source::File(..) => None,
            Source::Stdin(stdin) => Some(stdin.as_fd()),
        }
    }

    /// Reads one message of at most `chunk` bytes into `buf` without
    /// blocking (stdin: only when `poll` said it was readable).
    fn read(&mut self, buf: &mut [u8], chunk: usize) -> Result<Input, TransmitError> {
        match self {
            Source::Udp(sock, addr, reader) => match reader.recv(sock) {
                Ok(Some((_, datagram))) => {
                    let n = datagram.len().min(buf.len());
                    buf[..n].copy_from_slice(&datagram[..n]);
                    Ok(Input::Message(n))
                }
                Ok(None) => Ok(Input::Empty),
                Err(source) => Err(TransmitError::Udp {
                    addr: *addr,
                    source,
                }),
            },
            Source::File(file, path) => match read_full(file, &mut buf[..chunk]) {
                Ok(0) => Ok(Input::End),
                Ok(n) => Ok(Input::Message(n)),
                Err(e) => Err(file_error(path)(e)),
            },
            Source::Stdin(stdin) => {
                let mut fds = [rustix::event::PollFd::new(
                    stdin,
                    rustix::event::PollFlags::IN,
                )];
                let zero = rustix::event::Timespec {
                    tv_sec: 0,
                    tv_nsec: 0,
                };
                match rustix::event::poll(&mut fds, Some(&zero)) {
                    Ok(0) => return Ok(Input::Empty),
                    Ok(_) => {}
                    Err(rustix::io::Errno::INTR) => return Ok(Input::Empty),
                    Err(e) => return Err(file_error(Path::new("stdin"))(e.into())),
                }
                loop {
                    match rustix::io::read(&*stdin, &mut buf[..chunk]) {
                        Ok(0) => return Ok(Input::End),
                        Ok(n) => return Ok(Input::Message(n)),
                        Err(rustix::io::Errno::INTR) => {}
                        Err(rustix::io::Errno::AGAIN) => return Ok(Input::Empty),
                        Err(e) => return Err(file_error(Path::new("stdin"))(e.into())),
                    }
                }
            }
        }
    }
}

/// Where live messages go.
enum Sink {
    /// One datagram per message, sent in batches.
    Udp(UdpSocket, SocketAddr, Box<SyncUdp>),
    /// A file or stdout.
    Writer(Box<dyn Write>, PathBuf),
}

impl Sink {
    fn open(medium: &Medium) -> Result<Sink, TransmitError> {
        match medium {
            Medium::Udp(t) => {
                let (sock, dest) = open_udp_output(t)?;
                // Connected, the kernel keeps the route (and reports a
                // missing receiver, which counts as a lost datagram).
                sock.connect(dest)
                    .map_err(|source| TransmitError::Udp { addr: dest, source })?;
                let batch = SyncUdp::new(&sock)
                    .map_err(|source| TransmitError::Udp { addr: dest, source })?;
                Ok(Sink::Udp(sock, dest, Box::new(batch)))
            }
            Medium::File(path) => Ok(Sink::Writer(open_writer(path)?, path.clone())),
            Medium::Console => Ok(Sink::Writer(open_writer(Path::new("-"))?, "stdout".into())),
            Medium::Srt(_) => unreachable!("srt:// to srt:// is refused in run"),
        }
    }

    /// Queues `msg`; it is written at the latest by [`flush`](Self::flush).
    fn write(&mut self, msg: &[u8]) -> Result<(), TransmitError> {
        match self {
            Sink::Udp(sock, dest, batch) => {
                batch
                    .push(sock, *dest, msg)
                    .map_err(|source| TransmitError::Udp {
                        addr: *dest,
                        source,
                    })
            }
            Sink::Writer(w, path) => w.write_all(msg).map_err(file_error(path)),
        }
    }

    fn flush(&mut self) -> Result<(), TransmitError> {
        match self {
            Sink::Udp(sock, dest, batch) => batch.send(sock).map_err(|source| TransmitError::Udp {
                addr: *dest,
                source,
            }),
            Sink::Writer(w, path) => w.flush().map_err(file_error(path)),
        }
    }
}

/// Live mode, input to SRT: each UDP datagram (or chunk of a file or
/// stdin, `chunk` bytes, default the payload size) becomes one live
/// message. Ends when the input ends (after the send buffer drained and a
/// close without linger), when the peer closes (success), or when the
/// connection breaks otherwise (failure).
pub fn send_live(
    input: &Medium,
    target: &SrtTarget,
    settings: &Settings,
) -> Result<Summary, TransmitError> {
    let mut source = Source::open(input)?;
    let payload = payload_size(target);
    let chunk = settings.chunk.unwrap_or(payload).clamp(1, payload);
    let mut d = bind(target, settings)?;
    let Some(mut id) = establish(&mut d, target, settings)? else {
        return Ok(nothing(true));
    };
    set_live_tick(&mut d, id);
    let start = Instant::now();
    let ctrl = MsgCtrl::default();
    let mut buf = vec![0u8; DATAGRAM];
    let mut pending: Option<usize> = None;
    let mut ended = false;
    let (mut bytes, mut messages, mut oversized) = (0u64, 0u64, 0u64);
    let mut stats = StatsReporter::new(&settings.stats, payload);
    let summary = |bytes, messages, interrupted| Summary {
        bytes,
        messages,
        elapsed: start.elapsed(),
        interrupted,
    };
    loop {
        stats.tick(&mut d, id);
        if settings.stopped() {
            d.endpoint.close(Instant::now(), id, CloseMode::Abort)?;
            d.turn(Duration::ZERO)?;
            return Ok(summary(bytes, messages, true));
        }
        // Move input to the send buffer while it takes it.
        let mut blocked = false;
        for _ in 0..MAX_INPUT_PER_TURN {
            let len = match pending.take() {
                Some(len) => len,
                None if ended => break,
                None => match source.read(&mut buf, chunk)? {
                    Input::Message(n) => n,
                    Input::Empty => break,
                    Input::End => {
                        ended = true;
                        break;
                    }
                },
            };
            if len > payload {
                // libsrt refuses such a message too (SRT_ELARGEMSG).
                oversized += 1;
                if oversized == 1 {
                    eprintln!(
                        "srt-transmit: dropping input datagrams larger than the payload size \
                         ({len} > {payload} bytes; set payloadsize on the srt:// URI)"
                    );
                }
                continue;
            }
            match d.endpoint.send(Instant::now(), id, &buf[..len], &ctrl) {
                Ok(_) => {
                    bytes += len as u64;
                    messages += 1;
                    stats.bytes(&mut d, id, len);
                }
                Err(SendError::WouldBlock) => {
                    pending = Some(len);
                    blocked = true;
                    break;
                }
                Err(source) => return Err(TransmitError::Send { source, bytes }),
            }
        }
        if ended && pending.is_none() {
            break;
        }
        // A file is always ready, and so is a UDP input with datagrams
        // already read: do not wait for them unless the send buffer is full.
        let ready_now = !blocked
            && match &source {
                Source::File(..) => true,
                Source::Udp(.., reader) => reader.has_buffered(),
                Source::Stdin(_) => false,
            };
        let wait = if ready_now { Duration::ZERO } else { TURN };
        let also = if blocked || pending.is_some() {
            None
        } else {
            source.poll_fd()
        };
        d.turn_with(wait, also)?;
        if let Some(cause) = broken(&d, id) {
            if settings.reconnect && !settings.stopped() {
                pending = None;
                let Some(new) = reestablish(&mut d, id, cause, target, settings)? else {
                    return Ok(summary(bytes, messages, true));
                };
                id = new;
                // What arrived while disconnected is stale for a live stream.
                source.discard_queued()?;
                continue;
            }
            return match cause {
                BreakCause::PeerShutdown => {
                    if settings.verbose {
                        eprintln!("srt-transmit: the peer closed the connection");
                    }
                    Ok(summary(bytes, messages, false))
                }
                cause => Err(TransmitError::Broken { cause, bytes }),
            };
        }
        d.events.clear();
    }
    // The input ended: let what is queued go out and be acknowledged (for
    // at most the latency plus a second), wait out the peer's TSBPD delay,
    // then close without linger.
    let limit = Instant::now() + target.options.peerlatency + Duration::from_secs(1);
    while Instant::now() < limit {
        let queued = d
            .endpoint
            .socket_stats_instant(Instant::now(), id, false, true)
            .map_or(0, |s| s.pkt_snd_buf);
        if queued == 0 {
            break;
        }
        d.turn(TURN)?;
        if broken(&d, id).is_some() {
            return Ok(summary(bytes, messages, false));
        }
        d.events.clear();
    }
    // Acknowledged is not yet delivered: the peer holds the last packets
    // for its TSBPD delay, and libsrt drops what it holds when SHUTDOWN
    // comes. Give it that long (plus a margin) before closing.
    let hold = d
        .endpoint
        .socket_stats(Instant::now(), id, false)
        .map_or(0, |s| s.ms_snd_tsb_pd_delay.max(0) as u64);
    let until = Instant::now() + Duration::from_millis(hold + 50);
    while Instant::now() < until {
        d.turn(until.saturating_duration_since(Instant::now()).min(TURN))?;
        if broken(&d, id).is_some() {
            return Ok(summary(bytes, messages, false));
        }
        d.events.clear();
    }
    d.endpoint.close(Instant::now(), id, CloseMode::Abort)?;
    d.turn(Duration::ZERO)?;
    Ok(summary(bytes, messages, false))
}

/// Live mode, SRT to output: each message delivered (at its TSBPD time)
/// becomes one UDP datagram, or is appended to a file or stdout. Ends when
/// the peer closes (success, after delivering what was still in the
/// receive buffer) or the connection breaks otherwise (failure).
pub fn receive_live(
    target: &SrtTarget,
    output: &Medium,
    settings: &Settings,
) -> Result<Summary, TransmitError> {
    let mut sink = Sink::open(output)?;
    let payload = payload_size(target);
    let mut d = bind(target, settings)?;
    let Some(mut id) = establish(&mut d, target, settings)? else {
        return Ok(nothing(true));
    };
    set_live_tick(&mut d, id);
    let start = Instant::now();
    let mut buf = vec![0u8; DATAGRAM];
    let (mut bytes, mut messages) = (0u64, 0u64);
    let mut stats = StatsReporter::new(&settings.stats, payload);
    let mut end: Option<(BreakCause, Instant)> = None;
    let summary = |bytes, messages, interrupted| Summary {
        bytes,
        messages,
        elapsed: start.elapsed(),
        interrupted,
    };
    loop {
        stats.tick(&mut d, id);
        if settings.stopped() {
            d.endpoint.close(Instant::now(), id, CloseMode::Abort)?;
            d.turn(Duration::ZERO)?;
            sink.flush()?;
            return Ok(summary(bytes, messages, true));
        }
        let mut wrote = false;
        while let Ok(Some(info)) = d.endpoint.recv(Instant::now(), id, &mut buf) {
            if info.len == 0 {
                break;
            }
            sink.write(&buf[..info.len])?;
            wrote = true;
            bytes += info.len as u64;
            messages += 1;
            stats.bytes(&mut d, id, info.len);
        }
        if wrote {
            sink.flush()?;
        }
        if let Some((cause, until)) = end {
            // After the peer's SHUTDOWN, deliver what is left at its time.
            let left = d
                .endpoint
                .socket_stats_instant(Instant::now(), id, false, true)
                .map_or(0, |s| s.pkt_rcv_buf);
            if left == 0 || Instant::now() >= until {
                sink.flush()?;
                if settings.reconnect && !settings.stopped() {
                    let Some(new) = reestablish(&mut d, id, cause, target, settings)? else {
                        return Ok(summary(bytes, messages, true));
                    };
                    id = new;
                    end = None;
                    continue;
                }
                return match cause {
                    BreakCause::PeerShutdown => {
                        if settings.verbose {
                            eprintln!("srt-transmit: the peer closed the connection");
                        }
                        Ok(summary(bytes, messages, false))
                    }
                    cause => Err(TransmitError::Broken { cause, bytes }),
                };
            }
        }
        d.turn(if end.is_some() {
            Duration::from_millis(1)
        } else {
            TURN
        })?;
        if end.is_none() {
            if let Some(cause) = broken(&d, id) {
                let latency = d
                    .endpoint
                    .socket_stats(Instant::now(), id, false)
                    .map_or(0, |s| s.ms_rcv_tsb_pd_delay.max(0) as u64);
                end = Some((cause, Instant::now() + Duration::from_millis(latency + 100)));
            }
        }
        d.events.clear();
    }
}

/// Whether stderr is a terminal (the default for the progress line).
pub fn stderr_is_terminal() -> bool {
    std::io::stderr().is_terminal()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn live_tick_follows_the_latency_within_its_bounds() {
        assert_eq!(live_tick(0), LIVE_TICK_MIN);
        assert_eq!(live_tick(-1), LIVE_TICK_MIN);
        assert_eq!(live_tick(64), Duration::from_millis(1));
        // libsrt's default latency, 120 ms.
        assert_eq!(live_tick(120), LIVE_TICK_MAX);
        assert_eq!(live_tick(8000), LIVE_TICK_MAX);
        assert!(LIVE_TICK_MAX < Duration::from_millis(2));
    }
}
