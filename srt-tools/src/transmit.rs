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
//!   stdout ([`receive_live`]); SRT to SRT, each message the input
//!   connection delivers one message on the output connection
//!   ([`relay_live`], an ingest relay). The program ends when the input
//!   ends (a close that loses nothing, [`CloseMode::Lossless`]) or the
//!   peer closes, unless [`Settings::reconnect`] (`-a:yes`)
//!   asks it to connect again or accept the next caller. SRT to SRT in
//!   file mode is refused. A live input is read as it comes, unpaced: a
//!   file or stdin faster than `maxbw` lets the sender's buffer grow, and
//!   what waited there longer than the too-late threshold (the peer's
//!   latency plus `snddropdelay`, at least 1 s, plus 20 ms) is dropped, as
//!   libsrt's sender does (the statistics count it; time-based ones go on
//!   during the close).
//!
//! Either way an SRT side is a caller, a listener (one connection) or a
//! rendezvous party, and runs on its own [`UdpDriver`] whose waits also
//! wake for the input (the relay's input driver: for the output's socket).

pub mod group;

use crate::stats::{StatsConfig, StatsReporter};
use crate::udp_driver::UdpDriver;
use crate::uri::{Medium, Mode, SrtTarget, UdpTarget};
use srt_proto::packet::{RejectReason, SocketId};
use srt_proto::TransType;
use srt_proto::{BreakCause, CloseMode, Event, MsgCtrl, SendError, LOSSLESS_LINGER_EXTRA};
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
    /// A socket group could not connect or carry the stream.
    #[error("socket group: {0}")]
    Group(String),
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
        (Medium::Srt(from), Medium::Srt(to)) => {
            if from.group.is_some() || to.group.is_some() || from.options.groupconnect {
                return Err(TransmitError::Unsupported(
                    "srt:// to srt:// relays single connections; socket groups go between \
                     srt:// and udp:// or file://"
                        .into(),
                ));
            }
            if from.options.transtype == TransType::File || to.options.transtype == TransType::File
            {
                return Err(TransmitError::Unsupported(
                    "srt:// to srt:// relays live streams only; transtype=file is not supported \
                     between two srt:// media"
                        .into(),
                ));
            }
            relay_live(from, to, settings)
        }
        (Medium::Srt(target), sink) if target.options.transtype == TransType::File => match sink {
            Medium::File(path) => receive_file(target, path, settings),
            Medium::Console => receive_file(target, Path::new("-"), settings),
            _ => Err(TransmitError::Unsupported(
                "transtype=file writes to file:///path or file://con; use live mode for udp://"
                    .into(),
            )),
        },
        (Medium::Srt(target), _) if target.group.is_some() => Err(TransmitError::Unsupported(
            "a caller group sends; to receive a group, listen with groupconnect=1".into(),
        )),
        (Medium::Srt(target), sink) if target.options.groupconnect => {
            group::receive_group_live(target, sink, settings)
        }
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
        (source, Medium::Srt(target)) => match &target.group {
            Some(spec) => group::send_group_live(source, target, spec, settings),
            None => send_live(source, target, settings),
        },
        _ => Err(TransmitError::Unsupported(
            "one of the two media must be srt://".into(),
        )),
    }
}

/// Binds the driver for a target: a caller on `adapter:port` (any
/// address of the peer's family and an ephemeral port by default), a
/// listener on its address, a rendezvous party on `adapter:port` (the
/// peer's port by default, as libsrt).
fn bind(target: &SrtTarget) -> Result<UdpDriver, TransmitError> {
    Ok(UdpDriver::bind(target.local_addr())?)
}

/// How long a reconnection waits after a failed attempt before the next.
const RETRY: Duration = Duration::from_secs(1);

/// What a connection is made for, as [`Pending`] needs it: the target,
/// the run's settings, and the side of a relay it is (`"input: "` or
/// `"output: "`, empty otherwise) to tell the two apart in the log.
#[derive(Clone, Copy)]
struct Role<'a> {
    target: &'a SrtTarget,
    settings: &'a Settings,
    side: &'static str,
}

impl<'a> Role<'a> {
    /// The one SRT connection of a run that has one.
    fn single(target: &'a SrtTarget, settings: &'a Settings) -> Self {
        Role {
            target,
            settings,
            side: "",
        }
    }
}

/// A connection being made without blocking: [`Pending::start`] begins it
/// and [`Pending::poll`], after each turn of the driver, finishes it. The
/// blocking [`establish`] and [`reestablish`] drive one; the relay
/// ([`relay_live`]) drives one for each side while the other runs.
#[derive(Debug)]
enum Pending {
    /// A caller or rendezvous party waiting for this socket's handshake.
    Calling(SocketId),
    /// A listener waiting for its one caller.
    Listening,
    /// A reconnection waiting to try again at this time.
    Retry(Instant),
}

impl Pending {
    /// Connects (caller, rendezvous) or listens for one caller (listener).
    fn start(d: &mut UdpDriver, role: Role<'_>) -> Result<Pending, TransmitError> {
        if role.target.mode == Mode::Listener {
            d.endpoint.listen(&role.target.options, 1)?;
            if role.settings.verbose {
                eprintln!("srt-transmit: {}listening on {}", role.side, d.local_addr());
            }
            return Ok(Pending::Listening);
        }
        d.connect_peer(role.target.addr)?;
        let now = Instant::now();
        Ok(Pending::Calling(if role.target.mode == Mode::Caller {
            d.endpoint
                .connect(now, role.target.addr, &role.target.options)?
        } else {
            d.endpoint
                .rendezvous(now, role.target.addr, &role.target.options)?
        }))
    }

    /// Looks at the driver's new events (a listener: at its accept queue)
    /// and returns the socket once it is connected. A failed attempt is an
    /// error, unless `retry` (a reconnection): then it starts again a
    /// second later.
    fn poll(
        &mut self,
        d: &mut UdpDriver,
        role: Role<'_>,
        retry: bool,
    ) -> Result<Option<SocketId>, TransmitError> {
        match *self {
            Pending::Calling(id) => {
                let outcome = d.events.iter().find_map(|e| match e {
                    Event::Connected { socket } if *socket == id => Some(Ok(id)),
                    Event::ConnectFailed { socket, reason } if *socket == id => Some(Err(*reason)),
                    _ => None,
                });
                match outcome {
                    None => Ok(None),
                    Some(Ok(id)) => {
                        if role.settings.verbose {
                            eprintln!(
                                "srt-transmit: {}connected to {} ({}, local {})",
                                role.side,
                                role.target.addr,
                                role.target.mode,
                                d.local_addr()
                            );
                        }
                        Ok(Some(id))
                    }
                    Some(Err(reason)) if retry => {
                        if role.settings.verbose {
                            eprintln!(
                                "srt-transmit: {}reconnecting failed ({reason:?}); trying again",
                                role.side
                            );
                        }
                        *self = Pending::Retry(Instant::now() + RETRY);
                        Ok(None)
                    }
                    Some(Err(reason)) => Err(TransmitError::ConnectFailed {
                        addr: role.target.addr,
                        reason,
                    }),
                }
            }
            Pending::Listening => {
                let Some(id) = d.endpoint.accept() else {
                    return Ok(None);
                };
                // One connection only: later callers are not accepted.
                d.endpoint.stop_listening(Instant::now());
                if let Some(conn) = d.endpoint.connection(id) {
                    let peer = conn.remote();
                    if role.settings.verbose {
                        eprintln!(
                            "srt-transmit: {}accepted connection from {peer}, stream ID {:?}",
                            role.side,
                            String::from_utf8_lossy(conn.stream_id())
                        );
                    }
                    d.connect_peer(peer)?;
                }
                Ok(Some(id))
            }
            Pending::Retry(at) => {
                if Instant::now() >= at {
                    *self = Pending::start(d, role)?;
                }
                Ok(None)
            }
        }
    }

    /// Turns the driver until the connection is made; `None` if the run
    /// is stopped meanwhile.
    fn wait(
        mut self,
        d: &mut UdpDriver,
        role: Role<'_>,
        retry: bool,
    ) -> Result<Option<SocketId>, TransmitError> {
        loop {
            if role.settings.stopped() {
                return Ok(None);
            }
            d.turn(TURN)?;
            let made = self.poll(d, role, retry);
            d.events.clear();
            if let Some(id) = made? {
                return Ok(Some(id));
            }
        }
    }

    /// After connection `id` broke (`cause`, logged with `-v`): closes it
    /// and starts again, retrying a caller or rendezvous party whose peer
    /// does not answer yet every second (poll with `retry`), or listens
    /// for the next caller.
    fn restart(
        d: &mut UdpDriver,
        id: SocketId,
        cause: BreakCause,
        role: Role<'_>,
    ) -> Result<Pending, TransmitError> {
        if role.settings.verbose {
            eprintln!(
                "srt-transmit: {}connection lost ({cause:?}); connecting again",
                role.side
            );
        }
        let _ = d.endpoint.close(Instant::now(), id, CloseMode::Abort);
        d.turn(Duration::ZERO)?;
        d.events.clear();
        if role.target.mode == Mode::Listener {
            d.disconnect_peer()?;
        }
        Pending::start(d, role)
    }
}

/// Connects (caller, rendezvous) or waits for one caller (listener);
/// returns the socket. Stops early (None) if the run is stopped.
fn establish(
    d: &mut UdpDriver,
    target: &SrtTarget,
    settings: &Settings,
) -> Result<Option<SocketId>, TransmitError> {
    let role = Role::single(target, settings);
    Pending::start(d, role)?.wait(d, role, false)
}

/// After connection `id` broke: connects again ([`Pending::restart`]) and
/// waits until it is made. `None` if the run was stopped meanwhile.
fn reestablish(
    d: &mut UdpDriver,
    id: SocketId,
    cause: BreakCause,
    target: &SrtTarget,
    settings: &Settings,
) -> Result<Option<SocketId>, TransmitError> {
    let role = Role::single(target, settings);
    Pending::restart(d, id, cause, role)?.wait(d, role, true)
}

/// The error of a live function given two srt:// media.
fn srt_to_srt() -> TransmitError {
    TransmitError::Unsupported("srt:// to srt:// goes through relay_live".into())
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
    let mut d = bind(target)?;
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
    let mut d = bind(target)?;
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
            Medium::Srt(_) => Err(srt_to_srt()),
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
            Medium::Srt(_) => Err(srt_to_srt()),
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
    let mut d = bind(target)?;
    let Some(mut id) = establish(&mut d, target, settings)? else {
        return Ok(nothing(true));
    };
    set_live_tick(&mut d, id);
    let start = Instant::now();
    let mut buf = vec![0u8; DATAGRAM];
    let mut pending: Option<usize> = None;
    let mut ended = false;
    let mut sender = LiveSender::new(payload);
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
            return Ok(summary(sender.bytes, sender.messages, true));
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
            if !sender.offer(&mut d, id, &buf[..len], (&mut stats, 0))? {
                pending = Some(len);
                blocked = true;
                break;
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
                    return Ok(summary(sender.bytes, sender.messages, true));
                };
                id = new;
                // What arrived while disconnected is stale for a live stream.
                source.discard_queued()?;
                continue;
            }
            return peer_left(
                cause,
                summary(sender.bytes, sender.messages, false),
                Role::single(target, settings),
            );
        }
        d.events.clear();
    }
    finish_live_send(&mut d, id, target, &mut stats)?;
    Ok(summary(sender.bytes, sender.messages, false))
}

/// Live messages offered to an SRT connection: counts what was queued and
/// drops, with one warning, what is larger than the payload size.
struct LiveSender {
    payload: usize,
    ctrl: MsgCtrl,
    /// Bytes queued.
    bytes: u64,
    /// Messages queued.
    messages: u64,
    /// Messages dropped for their size.
    oversized: u64,
}

impl LiveSender {
    fn new(payload: usize) -> Self {
        LiveSender {
            payload,
            ctrl: MsgCtrl::default(),
            bytes: 0,
            messages: 0,
            oversized: 0,
        }
    }

    /// Queues `msg` on connection `id` as one message (counted by the
    /// reporter as its connection `conn`), or drops it if it is too large.
    /// `false` when the send buffer is full: offer it again later.
    fn offer(
        &mut self,
        d: &mut UdpDriver,
        id: SocketId,
        msg: &[u8],
        (stats, conn): (&mut StatsReporter, usize),
    ) -> Result<bool, TransmitError> {
        let len = msg.len();
        if len > self.payload {
            // libsrt refuses such a message too (SRT_ELARGEMSG).
            self.oversized += 1;
            if self.oversized == 1 {
                eprintln!(
                    "srt-transmit: dropping input messages larger than the payload size \
                     ({len} > {} bytes; set payloadsize on the srt:// URI)",
                    self.payload
                );
            }
            return Ok(true);
        }
        match d.endpoint.send(Instant::now(), id, msg, &self.ctrl) {
            Ok(_) => {
                self.bytes += len as u64;
                self.messages += 1;
                stats.bytes_on(conn, d, id, len);
                Ok(true)
            }
            Err(SendError::WouldBlock) => Ok(false),
            Err(source) => Err(TransmitError::Send {
                source,
                bytes: self.bytes,
            }),
        }
    }
}

/// The end of a live sender whose input ended: a lossless close
/// ([`CloseMode::Lossless`]) that sends SHUTDOWN only once everything
/// queued is acknowledged and the peer's TSBPD delay has passed since the
/// last message (libsrt drops what it still holds when SHUTDOWN comes).
/// It lingers for `linger=` if set, else for twice the peer's TSBPD delay
/// plus a second. A break meanwhile ends it too. Time-based statistics
/// go on meanwhile.
fn finish_live_send(
    d: &mut UdpDriver,
    id: SocketId,
    target: &SrtTarget,
    stats: &mut StatsReporter,
) -> Result<(), TransmitError> {
    let hold = d
        .endpoint
        .socket_stats(Instant::now(), id, false)
        .map_or(0, |s| s.ms_snd_tsb_pd_delay.max(0) as u64);
    let linger = target
        .options
        .linger
        .filter(|l| !l.is_zero())
        .unwrap_or(Duration::from_millis(2 * hold) + LOSSLESS_LINGER_EXTRA);
    d.endpoint.close(Instant::now(), id, CloseMode::Lossless)?;
    // The engine gives up after the linger; a little more for its last turn.
    let limit = Instant::now() + linger + Duration::from_secs(1);
    while Instant::now() < limit {
        if d.events.contains(&Event::Closed { socket: id }) || broken(d, id).is_some() {
            break;
        }
        stats.tick(d, id);
        d.events.clear();
        d.turn(TURN)?;
    }
    // The SHUTDOWN went out in the turn that closed; one more turn answers
    // anything the peer still says.
    d.turn(Duration::ZERO)?;
    Ok(())
}

/// A live receiver whose connection broke: it still delivers what its
/// receive buffer holds, each message at its time, for at most the
/// latency plus 100 ms.
struct Draining {
    cause: BreakCause,
    until: Instant,
}

impl Draining {
    fn new(d: &mut UdpDriver, id: SocketId, cause: BreakCause) -> Self {
        let latency = d
            .endpoint
            .socket_stats(Instant::now(), id, false)
            .map_or(0, |s| s.ms_rcv_tsb_pd_delay.max(0) as u64);
        Draining {
            cause,
            until: Instant::now() + Duration::from_millis(latency + 100),
        }
    }

    /// The cause of the break once nothing is left to deliver or the time
    /// is up.
    fn over(&self, d: &mut UdpDriver, id: SocketId) -> Option<BreakCause> {
        let left = d
            .endpoint
            .socket_stats_instant(Instant::now(), id, false, true)
            .map_or(0, |s| s.pkt_rcv_buf);
        (left == 0 || Instant::now() >= self.until).then_some(self.cause)
    }
}

/// How a live run ends when the peer of `role`'s connection has gone
/// (`cause`): a success if it closed the connection (logged with `-v`),
/// else the break.
fn peer_left(
    cause: BreakCause,
    summary: Summary,
    role: Role<'_>,
) -> Result<Summary, TransmitError> {
    match cause {
        BreakCause::PeerShutdown => {
            if role.settings.verbose {
                eprintln!("srt-transmit: {}the peer closed the connection", role.side);
            }
            Ok(summary)
        }
        cause => Err(TransmitError::Broken {
            cause,
            bytes: summary.bytes,
        }),
    }
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
    let mut d = bind(target)?;
    let Some(mut id) = establish(&mut d, target, settings)? else {
        return Ok(nothing(true));
    };
    set_live_tick(&mut d, id);
    let start = Instant::now();
    let mut buf = vec![0u8; DATAGRAM];
    let (mut bytes, mut messages) = (0u64, 0u64);
    let mut stats = StatsReporter::new(&settings.stats, payload);
    let mut end: Option<Draining> = None;
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
        if let Some(cause) = end.as_ref().and_then(|e| e.over(&mut d, id)) {
            sink.flush()?;
            if settings.reconnect && !settings.stopped() {
                let Some(new) = reestablish(&mut d, id, cause, target, settings)? else {
                    return Ok(summary(bytes, messages, true));
                };
                id = new;
                end = None;
                continue;
            }
            return peer_left(
                cause,
                summary(bytes, messages, false),
                Role::single(target, settings),
            );
        }
        d.turn(if end.is_some() {
            Duration::from_millis(1)
        } else {
            TURN
        })?;
        if end.is_none() {
            if let Some(cause) = broken(&d, id) {
                end = Some(Draining::new(&mut d, id, cause));
            }
        }
        d.events.clear();
    }
}

/// One SRT side of a relay: its driver and its connection, made or being
/// made.
struct Side<'t> {
    role: Role<'t>,
    d: UdpDriver,
    link: Link,
}

/// The state of a relay side's connection.
enum Link {
    /// Being made; `true` if it is a reconnection (failures are retried).
    Making(Pending, bool),
    /// Connected.
    Up(SocketId),
}

impl<'t> Side<'t> {
    /// Binds the side's driver and starts connecting.
    fn open(role: Role<'t>) -> Result<Self, TransmitError> {
        let mut d = UdpDriver::bind(role.target.local_addr())?;
        let pending = Pending::start(&mut d, role)?;
        Ok(Side {
            role,
            d,
            link: Link::Making(pending, false),
        })
    }

    /// The connection, if it is up.
    fn id(&self) -> Option<SocketId> {
        match self.link {
            Link::Up(id) => Some(id),
            Link::Making(..) => None,
        }
    }

    /// After a turn: advances a connection being made; `true` when it was
    /// made just now.
    fn poll(&mut self) -> Result<bool, TransmitError> {
        let Link::Making(pending, retry) = &mut self.link else {
            return Ok(false);
        };
        let Some(id) = pending.poll(&mut self.d, self.role, *retry)? else {
            return Ok(false);
        };
        self.link = Link::Up(id);
        set_live_tick(&mut self.d, id);
        Ok(true)
    }

    /// The connection's break among the new events, if it is up.
    fn broken(&self) -> Option<BreakCause> {
        broken(&self.d, self.id()?)
    }

    /// After the connection broke (`cause`): starts connecting again.
    fn restart(&mut self, cause: BreakCause) -> Result<(), TransmitError> {
        if let Link::Up(id) = self.link {
            let pending = Pending::restart(&mut self.d, id, cause, self.role)?;
            self.link = Link::Making(pending, true);
        }
        Ok(())
    }

    /// Closes the connection, if it is up, without linger.
    fn abort(&mut self) -> Result<(), TransmitError> {
        if let Some(id) = self.id() {
            self.d
                .endpoint
                .close(Instant::now(), id, CloseMode::Abort)?;
            self.d.turn(Duration::ZERO)?;
        }
        Ok(())
    }
}

/// Live mode, SRT to SRT (an ingest relay): each message the input
/// connection delivers (at its TSBPD time) is sent as one message on the
/// output connection. Each side has its own [`UdpDriver`] and is a caller,
/// a listener or a rendezvous party; both are driven together by this
/// thread (one `ppoll` waits for both sockets and both engines' timers),
/// so that a side already connected keeps answering its peer while the
/// other still waits for its own.
///
/// While the output is not connected, input messages are dropped; while
/// its send buffer is full, the one message in hand waits and the input is
/// not read. When the input's peer closes, what is left in its receive
/// buffer is relayed, the output's queue is let go and be acknowledged,
/// the output is closed and the run succeeds. When the output's peer
/// closes, the run succeeds; another break of either side fails it. With
/// [`Settings::reconnect`], a side that breaks connects again instead
/// (the other stays connected). Statistics report both connections, each
/// every N packets it moved, as srt-live-transmit does between two SRT
/// media.
pub fn relay_live(
    input: &SrtTarget,
    output: &SrtTarget,
    settings: &Settings,
) -> Result<Summary, TransmitError> {
    let role = |target, side| Role {
        target,
        settings,
        side,
    };
    let mut inp = Side::open(role(input, "input: "))?;
    let mut out = Side::open(role(output, "output: "))?;
    let start = Instant::now();
    let mut buf = vec![0u8; DATAGRAM];
    // The length of the message in `buf` waiting for room on the output.
    let mut pending: Option<usize> = None;
    let mut sender = LiveSender::new(payload_size(output));
    let mut stats = StatsReporter::new(&settings.stats, payload_size(input));
    let mut end: Option<Draining> = None;
    let mut dropped = 0u64;
    // Whether the input may have more to deliver now (the last turn took
    // as many messages as one turn takes): then the next does not wait.
    let mut more = false;
    let summary = |sender: &LiveSender, interrupted| Summary {
        bytes: sender.bytes,
        messages: sender.messages,
        elapsed: start.elapsed(),
        interrupted,
    };
    loop {
        if stats.due() {
            for side in [&mut inp, &mut out] {
                if let Some(id) = side.id() {
                    stats.report(&mut side.d, id);
                }
            }
        }
        if settings.stopped() {
            inp.abort()?;
            out.abort()?;
            return Ok(summary(&sender, true));
        }
        // One wait for both: the input's socket and timers, the output's
        // socket and (passed as the longest wait) its timers.
        let now = Instant::now();
        let mut wait = out
            .d
            .endpoint
            .poll_timeout()
            .map_or(TURN, |t| t.saturating_duration_since(now).min(TURN));
        if end.is_some() {
            wait = wait.min(Duration::from_millis(1));
        }
        if more {
            wait = Duration::ZERO;
        }
        inp.d.turn_with(wait, Some(out.d.as_fd()))?;
        // Input to output, in the order and at the time the input delivers.
        more = false;
        if let Some(iid) = inp.id() {
            for taken in 1..=MAX_INPUT_PER_TURN {
                more = taken == MAX_INPUT_PER_TURN;
                let len = match pending.take() {
                    Some(len) => len,
                    None => match inp.d.endpoint.recv(Instant::now(), iid, &mut buf) {
                        Ok(Some(info)) if info.len > 0 => {
                            stats.bytes_on(0, &mut inp.d, iid, info.len);
                            info.len
                        }
                        _ => break,
                    },
                };
                let Some(oid) = out.id() else {
                    dropped += 1;
                    continue;
                };
                if !sender.offer(&mut out.d, oid, &buf[..len], (&mut stats, 1))? {
                    pending = Some(len);
                    break;
                }
            }
        }
        out.d.turn(Duration::ZERO)?;
        inp.poll()?;
        if out.poll()? && dropped > 0 {
            if settings.verbose {
                eprintln!(
                    "srt-transmit: {dropped} input messages dropped while the output was down"
                );
            }
            dropped = 0;
        }
        if let Some(cause) = out.broken() {
            pending = None;
            if settings.reconnect && !settings.stopped() {
                out.restart(cause)?;
            } else {
                inp.abort()?;
                return peer_left(cause, summary(&sender, false), out.role);
            }
        }
        if let (Some(iid), None) = (inp.id(), &end) {
            if let Some(cause) = inp.broken() {
                end = Some(Draining::new(&mut inp.d, iid, cause));
            }
        }
        inp.d.events.clear();
        out.d.events.clear();
        // The input's peer left and what it sent is relayed.
        let over = match (inp.id(), &end) {
            (Some(iid), Some(e)) if pending.is_none() => e.over(&mut inp.d, iid),
            _ => None,
        };
        if let Some(cause) = over {
            end = None;
            if settings.reconnect && !settings.stopped() {
                inp.restart(cause)?;
                continue;
            }
            if let Some(oid) = out.id() {
                finish_live_send(&mut out.d, oid, output, &mut stats)?;
            }
            return peer_left(cause, summary(&sender, false), inp.role);
        }
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
