//! Socket groups in `srt-transmit`: a caller group of several addresses
//! that sends a live input ([`send_group_live`]), and a listener with
//! `groupconnect=1` whose group's stream goes, once, to the output
//! ([`receive_group_live`]). Each caller member runs on its own
//! [`UdpDriver`] (its own local port, so its own network path); the
//! listener's members share its one driver. The engine's [`Group`](srt_proto::group::Group) does
//! the rest (ARCHITECTURE.md, "Socket groups"): the `Group` of
//! `srt_proto::group`.

use super::{
    nothing, payload_size, Input, Sink, Source, Summary, TransmitError, DATAGRAM,
    MAX_INPUT_PER_TURN,
};
use crate::udp_driver::UdpDriver;
use crate::uri::{GroupSpec, Medium, SrtTarget};
use srt_proto::group::{
    Admitted, GroupConfig, GroupEvent, GroupListener, GroupSendError, MemberKey, MemberTarget,
    Members,
};
use srt_proto::packet::SocketId;
use srt_proto::{BreakCause, CloseMode, MsgCtrl};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// The longest a group driver waits in one turn: the group's members are
/// on several sockets that one wait does not watch together.
const GROUP_TURN: Duration = Duration::from_millis(1);
/// How long a caller group may take to connect its first member.
const CONNECT_LIMIT: Duration = Duration::from_secs(5);
/// How long a finished sender lets its members deliver before closing.
const DRAIN: Duration = Duration::from_secs(2);

/// The members' drivers, as the group reaches their connections.
struct Drivers<'a>(&'a mut [UdpDriver]);

impl Members for Drivers<'_> {
    fn endpoint_mut(&mut self, index: usize) -> Option<&mut srt_proto::Endpoint> {
        Some(&mut self.0.get_mut(index)?.endpoint)
    }
}

/// Why a group transfer failed.
fn group_error(what: impl std::fmt::Display) -> TransmitError {
    TransmitError::Group(what.to_string())
}

/// One turn of every member's driver; the last one's wait also wakes for
/// `also`.
fn turn_all(
    drivers: &mut [UdpDriver],
    wait: Duration,
    also: Option<std::os::fd::BorrowedFd<'_>>,
) -> Result<(), TransmitError> {
    let last = drivers.len() - 1;
    for (i, d) in drivers.iter_mut().enumerate() {
        if i == last {
            d.turn_with(wait, also)?;
        } else {
            d.turn(Duration::ZERO)?;
        }
        d.events.clear();
    }
    Ok(())
}

/// Live input to a caller group: connects every member of `spec`, then
/// sends each datagram or chunk of the input over the group (broadcast:
/// on every member; backup: on the active one, resent on a standby that
/// takes over). Ends when the input ends (after a moment for the members
/// to deliver) or fails when every member broke.
pub fn send_group_live(
    input: &Medium,
    target: &SrtTarget,
    spec: &GroupSpec,
    settings: &super::Settings,
) -> Result<Summary, TransmitError> {
    let mut source = Source::open(input)?;
    let payload = payload_size(target);
    let chunk = settings.chunk.unwrap_or(payload).clamp(1, payload);
    let first = target.local_addr();
    let mut drivers = Vec::with_capacity(spec.members.len());
    for i in 0..spec.members.len() {
        // `port` binds the first member; the others take any port.
        let local = if i == 0 {
            first
        } else {
            SocketAddr::new(first.ip(), 0)
        };
        drivers.push(UdpDriver::bind(local)?);
    }
    let options = &target.options;
    let mut group = drivers[0]
        .endpoint
        .new_group(GroupConfig::new(spec.kind, options));
    let targets: Vec<MemberTarget> = spec
        .members
        .iter()
        .enumerate()
        .map(|(i, &(remote, weight))| MemberTarget {
            endpoint: i,
            remote,
            weight,
        })
        .collect();
    group
        .connect(
            Instant::now(),
            &mut Drivers(&mut drivers),
            &targets,
            options,
        )
        .map_err(group_error)?;
    let begun = Instant::now();
    let mut connected = false;
    let mut buf = vec![0u8; DATAGRAM];
    let (mut bytes, mut messages) = (0u64, 0u64);
    let mut ended: Option<Instant> = None;
    let mut start = Instant::now();
    loop {
        let now = Instant::now();
        group.handle_timeout(now, &mut Drivers(&mut drivers));
        while let Some(e) = group.poll_event() {
            match e {
                GroupEvent::Connected => {
                    connected = true;
                    start = Instant::now();
                    if settings.verbose {
                        eprintln!("srt-transmit: group connected ({:?})", spec.kind);
                    }
                }
                GroupEvent::Broken if ended.is_none() => {
                    return Err(group_error(format!(
                        "every member broke after {bytes} bytes"
                    )))
                }
                other if settings.verbose => eprintln!("srt-transmit: group {other:?}"),
                _ => {}
            }
        }
        if settings.stopped() {
            group.close(now, &mut Drivers(&mut drivers), CloseMode::Abort);
            turn_all(&mut drivers, Duration::ZERO, None)?;
            return Ok(Summary {
                bytes,
                messages,
                elapsed: start.elapsed(),
                interrupted: true,
            });
        }
        if !connected {
            if now.duration_since(begun) > CONNECT_LIMIT.max(options.conntimeo) {
                return Err(group_error("no member connected"));
            }
        } else if ended.is_none() {
            for _ in 0..MAX_INPUT_PER_TURN {
                match source.read(&mut buf, chunk)? {
                    Input::Message(n) => {
                        match group.send(
                            Instant::now(),
                            &mut Drivers(&mut drivers),
                            &buf[..n.min(payload)],
                            &MsgCtrl::default(),
                        ) {
                            Ok(_) => {
                                bytes += n.min(payload) as u64;
                                messages += 1;
                            }
                            Err(GroupSendError::NotConnected) => {
                                return Err(group_error("no member connected"))
                            }
                            // A live message no member took is lost, as
                            // libsrt's live sender drops it.
                            Err(_) => {}
                        }
                    }
                    Input::Empty => break,
                    Input::End => {
                        ended = Some(now);
                        break;
                    }
                }
            }
        }
        if let Some(t) = ended {
            if now.duration_since(t) > DRAIN {
                group.close(now, &mut Drivers(&mut drivers), CloseMode::Abort);
                turn_all(&mut drivers, Duration::ZERO, None)?;
                return Ok(Summary {
                    bytes,
                    messages,
                    elapsed: start.elapsed(),
                    interrupted: false,
                });
            }
        }
        let also = if connected && ended.is_none() {
            source.poll_fd()
        } else {
            None
        };
        let wait = if matches!(source, Source::File(..)) && connected && ended.is_none() {
            Duration::ZERO
        } else {
            GROUP_TURN
        };
        turn_all(&mut drivers, wait, also)?;
    }
}

/// What a `groupconnect=1` listener is carrying now: libsrt's
/// `srt_accept` on such a listener gives a group for group members and a
/// plain socket for a plain caller.
enum Current {
    /// Nothing accepted yet (or, with `-a:yes`, the last one ended).
    Waiting,
    /// The group at this index of the [`GroupListener`].
    Group(usize),
    /// A plain caller's connection, and its drain once it broke.
    Plain(SocketId, Option<super::Draining>),
}

/// A listener with `groupconnect=1`: accepts the members of one peer
/// group, or one plain caller as a single socket (as libsrt's
/// `srt_accept` does), and writes its stream, each message once, to
/// `output`. Ends when every member has gone (the peer closed or broke)
/// after the group connected, or when the plain caller's connection
/// ends; with `-a:yes` it accepts the next group or caller instead.
pub fn receive_group_live(
    target: &SrtTarget,
    output: &Medium,
    settings: &super::Settings,
) -> Result<Summary, TransmitError> {
    let mut sink = Sink::open(output)?;
    let mut d = UdpDriver::bind(target.local_addr())?;
    d.endpoint.listen(&target.options, 8)?;
    if settings.verbose {
        eprintln!("srt-transmit: listening on {} for a group", d.local_addr());
    }
    let mut listener = GroupListener::new(&target.options);
    let mut current = Current::Waiting;
    let mut buf = vec![0u8; DATAGRAM];
    let (mut bytes, mut messages) = (0u64, 0u64);
    let mut start = Instant::now();
    let mut started = false;
    loop {
        if settings.stopped() {
            match current {
                Current::Group(i) => {
                    if let Some(g) = listener.group(i) {
                        g.close(Instant::now(), &mut d.endpoint, CloseMode::Abort);
                    }
                }
                Current::Plain(id, _) => {
                    let _ = d.endpoint.close(Instant::now(), id, CloseMode::Abort);
                }
                Current::Waiting => {}
            }
            d.turn(Duration::ZERO)?;
            sink.flush()?;
            return Ok(if started {
                Summary {
                    bytes,
                    messages,
                    elapsed: start.elapsed(),
                    interrupted: true,
                }
            } else {
                nothing(true)
            });
        }
        while let Some(socket) = d.endpoint.accept() {
            let key = MemberKey {
                endpoint: 0,
                socket,
            };
            let Some(conn) = d.endpoint.connection(socket) else {
                continue;
            };
            let admitted = listener.admit(key, conn);
            match (admitted, &current) {
                (Admitted::NewGroup(i), Current::Waiting) => {
                    current = Current::Group(i);
                    if settings.verbose {
                        eprintln!("srt-transmit: accepted a group");
                    }
                }
                (Admitted::Joined(i), Current::Group(g)) if i == *g => {
                    if settings.verbose {
                        eprintln!("srt-transmit: a member joined the group");
                    }
                }
                (Admitted::NotMember, Current::Waiting) => {
                    current = Current::Plain(socket, None);
                    if settings.verbose {
                        eprintln!(
                            "srt-transmit: accepted a plain caller from {}",
                            conn.remote()
                        );
                    }
                }
                _ => {
                    // One stream at a time; another group or caller (or a
                    // late member of a group that ended) is turned away.
                    if settings.verbose {
                        eprintln!("srt-transmit: refused a connection while busy");
                    }
                    d.endpoint.close(Instant::now(), socket, CloseMode::Abort)?;
                }
            }
            if !matches!(current, Current::Waiting) && !started {
                started = true;
                start = Instant::now();
            }
        }
        let now = Instant::now();
        let mut over: Option<Option<BreakCause>> = None;
        match &mut current {
            Current::Group(i) => {
                if let Some(g) = listener.group(*i) {
                    g.handle_timeout(now, &mut d.endpoint);
                    while let Some(e) = g.poll_event() {
                        match e {
                            GroupEvent::Broken => over = Some(None),
                            other if settings.verbose => {
                                eprintln!("srt-transmit: group {other:?}")
                            }
                            _ => {}
                        }
                    }
                    while let Some(info) = g.recv(now, &mut d.endpoint, &mut buf) {
                        sink.write(&buf[..info.len])?;
                        bytes += info.len as u64;
                        messages += 1;
                    }
                }
            }
            Current::Plain(id, drain) => {
                while let Ok(Some(info)) = d.endpoint.recv(now, *id, &mut buf) {
                    if info.len == 0 {
                        break;
                    }
                    sink.write(&buf[..info.len])?;
                    bytes += info.len as u64;
                    messages += 1;
                }
                if let Some(cause) = drain.as_ref().and_then(|e| e.over(&mut d, *id)) {
                    over = Some(Some(cause));
                }
            }
            Current::Waiting => {}
        }
        sink.flush()?;
        if let Some(cause) = over {
            if settings.reconnect {
                if settings.verbose {
                    eprintln!("srt-transmit: the stream ended; waiting for the next");
                }
                if let Current::Plain(id, _) = current {
                    let _ = d.endpoint.close(now, id, CloseMode::Abort);
                }
                current = Current::Waiting;
            } else {
                let summary = Summary {
                    bytes,
                    messages,
                    elapsed: start.elapsed(),
                    interrupted: false,
                };
                return match cause {
                    None | Some(BreakCause::PeerShutdown) => Ok(summary),
                    Some(cause) => Err(TransmitError::Broken {
                        cause,
                        bytes: summary.bytes,
                    }),
                };
            }
        }
        d.turn(GROUP_TURN)?;
        if let Current::Plain(id, drain @ None) = &mut current {
            if let Some(cause) = super::broken(&d, *id) {
                *drain = Some(super::Draining::new(&mut d, *id, cause));
            }
        }
        d.events.clear();
    }
}
