//! What `srt-transmit` does, as a library: move bytes between a [`Medium`]
//! and an SRT connection driven by a [`UdpDriver`].
//!
//! So far only file transfer: a file to an SRT socket ([`send_file`]) and
//! an SRT socket to a file ([`receive_file`]), either side caller or
//! listener. Live streams, `udp://` and `file://con` come later; [`run`]
//! is where a new pair of media is dispatched.

use crate::udp_driver::UdpDriver;
use crate::uri::{Medium, Mode, SrtTarget};
use srt_proto::handshake::TransType;
use srt_proto::packet::{RejectReason, SocketId};
use srt_proto::{BreakCause, CloseMode, Event, MsgCtrl, SendError};
use std::fs::File;
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The longest one driver turn waits for datagrams.
const TURN: Duration = Duration::from_millis(10);

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
    /// The UDP socket failed.
    #[error("UDP socket: {0}")]
    Socket(#[from] std::io::Error),
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
    /// From connection (or accept) to the end.
    pub elapsed: Duration,
}

impl Summary {
    /// Payload throughput, Mbit/s.
    pub fn mbps(&self) -> f64 {
        self.bytes as f64 * 8.0 / self.elapsed.as_secs_f64().max(1e-9) / 1e6
    }
}

/// Transfer settings that are not in the URIs.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Bytes read from the input (and from the socket) at a time; in the
    /// message API, the size of each message.
    pub chunk: usize,
    /// Seed of the engine's random numbers (socket IDs, ISN, keys).
    pub seed: u64,
    /// Print the connection's statistics to stderr this often.
    pub stats_every: Option<Duration>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            chunk: 1 << 20,
            seed: 0,
            stats_every: None,
        }
    }
}

/// Moves `input` to `output`.
pub fn run(input: &Medium, output: &Medium, settings: &Settings) -> Result<Summary, TransmitError> {
    match (input, output) {
        (Medium::File(path), Medium::Srt(target)) => send_file(path, target, settings),
        (Medium::Srt(target), Medium::File(path)) => receive_file(target, path, settings),
        _ => Err(TransmitError::Unsupported(
            "only file:// -> srt:// and srt:// -> file:// are supported so far".into(),
        )),
    }
}

fn require_file_mode(target: &SrtTarget) -> Result<(), TransmitError> {
    if target.options.transtype == TransType::File {
        Ok(())
    } else {
        Err(TransmitError::Unsupported(
            "only file transfer is supported so far: add transtype=file to the srt:// URI".into(),
        ))
    }
}

/// Binds the driver for a target: a caller on an ephemeral port of the
/// peer's address family, a listener on its address.
fn bind(target: &SrtTarget, settings: &Settings) -> Result<UdpDriver, TransmitError> {
    let local = match target.mode {
        Mode::Listener => target.addr,
        Mode::Caller if target.addr.is_ipv4() => SocketAddr::from(([0, 0, 0, 0], 0)),
        Mode::Caller => SocketAddr::from((std::net::Ipv6Addr::UNSPECIFIED, 0)),
    };
    Ok(UdpDriver::bind(local, settings.seed)?)
}

/// Connects (caller) or waits for one caller (listener); returns the socket.
fn establish(d: &mut UdpDriver, target: &SrtTarget) -> Result<SocketId, TransmitError> {
    match target.mode {
        Mode::Caller => {
            d.connect_peer(target.addr)?;
            let id = d
                .endpoint
                .connect(Instant::now(), target.addr, &target.options)?;
            loop {
                for e in d.turn(TURN)? {
                    match e {
                        Event::Connected { socket } if *socket == id => return Ok(id),
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
        }
        Mode::Listener => {
            d.endpoint.listen(&target.options, 1)?;
            loop {
                d.turn(TURN)?;
                d.events.clear();
                if let Some(id) = d.endpoint.accept() {
                    // One connection only: later callers are not accepted.
                    d.endpoint.stop_listening(Instant::now());
                    if let Some(peer) = d.endpoint.connection(id).map(|c| c.remote()) {
                        d.connect_peer(peer)?;
                    }
                    return Ok(id);
                }
            }
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

/// Prints a connection's statistics to stderr every `every`.
struct StatsPrinter {
    every: Option<Duration>,
    next: Instant,
    start: Instant,
}

impl StatsPrinter {
    fn new(every: Option<Duration>) -> Self {
        let now = Instant::now();
        StatsPrinter {
            every,
            next: now,
            start: now,
        }
    }

    fn tick(&mut self, d: &mut UdpDriver, id: SocketId) {
        let Some(every) = self.every else { return };
        let now = Instant::now();
        if now < self.next {
            return;
        }
        self.next = now + every;
        if let Some(s) = d.endpoint.socket_stats(now, id, true) {
            eprintln!(
                "{:8.3} s: sent {} (retrans {}) recv {} | loss snd {} rcv {} drop {} | ack sent {} recv {} | nak sent {} recv {} | flow {} cwnd {} flight {} | snd buf {} rcv buf {} | period {:.1} us rtt {:.2} ms | udp drops {}",
                now.duration_since(self.start).as_secs_f64(),
                s.pkt_sent,
                s.pkt_retrans,
                s.pkt_recv,
                s.pkt_snd_loss,
                s.pkt_rcv_loss,
                s.pkt_rcv_drop,
                s.pkt_sent_ack,
                s.pkt_recv_ack,
                s.pkt_sent_nak,
                s.pkt_recv_nak,
                s.pkt_flow_window,
                s.pkt_congestion_window,
                s.pkt_flight_size,
                s.pkt_snd_buf,
                s.pkt_rcv_buf,
                s.us_pkt_snd_period,
                s.ms_rtt,
                d.send_drops(),
            );
        }
    }
}

/// Sends the file at `path` over SRT, then closes with linger so that all
/// of it is acknowledged before the connection goes.
pub fn send_file(
    path: &Path,
    target: &SrtTarget,
    settings: &Settings,
) -> Result<Summary, TransmitError> {
    require_file_mode(target)?;
    let mut file = File::open(path).map_err(file_error(path))?;
    let mut d = bind(target, settings)?;
    let id = establish(&mut d, target)?;
    d.events.clear();
    let start = Instant::now();
    let message_api = target.options.messageapi;
    let ctrl = MsgCtrl::default();
    let mut buf = vec![0u8; settings.chunk.max(1)];
    let (mut at, mut filled) = (0, 0);
    let mut eof = false;
    let mut queued = 0u64;
    let mut stats = StatsPrinter::new(settings.stats_every);
    loop {
        stats.tick(&mut d, id);
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
    // Linger: SHUTDOWN goes once everything is acknowledged.
    let linger = target.options.linger.unwrap_or(Duration::ZERO);
    let closing = Instant::now();
    d.endpoint.close(closing, id, CloseMode::Linger)?;
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
    let elapsed = start.elapsed();
    if !linger.is_zero() && closing.elapsed() >= linger {
        return Err(TransmitError::LingerExpired(linger));
    }
    // The SHUTDOWN went out in the turn that closed; one more turn repeats
    // nothing but answers anything the peer still says.
    d.turn(Duration::ZERO)?;
    Ok(Summary {
        bytes: queued,
        elapsed,
    })
}

/// Reads until `buf` is full or the end of the file; returns the length.
fn read_full(file: &mut File, buf: &mut [u8]) -> std::io::Result<usize> {
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
/// truncated); done when the sender closes.
pub fn receive_file(
    target: &SrtTarget,
    path: &Path,
    settings: &Settings,
) -> Result<Summary, TransmitError> {
    require_file_mode(target)?;
    let mut file = File::create(path).map_err(file_error(path))?;
    let mut d = bind(target, settings)?;
    let id = establish(&mut d, target)?;
    d.events.clear();
    let start = Instant::now();
    let mut buf = vec![0u8; settings.chunk.max(1)];
    let message_api = target.options.messageapi;
    let mut got = 0u64;
    let mut end = None;
    let mut stats = StatsPrinter::new(settings.stats_every);
    loop {
        stats.tick(&mut d, id);
        // Read everything ready, in chunks as large as the buffer.
        let mut filled = 0;
        loop {
            let info = match d.endpoint.recv(Instant::now(), id, &mut buf[filled..]) {
                Ok(Some(info)) if info.len > 0 => info,
                _ => break,
            };
            filled += info.len;
            // The message API delivers one message per call: write each.
            if filled == buf.len() || message_api {
                file.write_all(&buf[..filled]).map_err(file_error(path))?;
                got += filled as u64;
                filled = 0;
            }
        }
        if filled > 0 {
            file.write_all(&buf[..filled]).map_err(file_error(path))?;
            got += filled as u64;
        } else if let Some(cause) = end {
            // The peer closed and nothing is left to read.
            return match cause {
                BreakCause::PeerShutdown => Ok(Summary {
                    bytes: got,
                    elapsed: start.elapsed(),
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
