//! Socket groups in `srt-transmit`: a caller group of several addresses
//! that sends a live input ([`send_group_live`]), and a listener with
//! `groupconnect=1` whose group's stream (or a plain caller's, as
//! libsrt's `srt_accept` gives a socket then) goes, once, to the output
//! ([`receive_group_live`]). Each caller member runs on its own
//! [`UdpDriver`] (its own local port, so its own network path); the
//! listener's members share its one driver. The engine's [`Group`] does
//! the rest (ARCHITECTURE.md, "Socket groups"). `-s` prints the group's
//! line and one per member; `-a:yes` makes the listener take the next
//! group or caller, and the caller group connect broken members again.

use super::{
    nothing, payload_size, Input, Sink, Source, Summary, TransmitError, DATAGRAM,
    MAX_INPUT_PER_TURN,
};
use crate::stats::{StatsFormat, StatsReporter};
use crate::udp_driver::UdpDriver;
use crate::uri::{GroupSpec, Medium, SrtTarget};
use srt_proto::group::{
    Admitted, Group, GroupConfig, GroupEvent, GroupListener, GroupSendError, GroupStats, MemberKey,
    MemberState, MemberTarget, Members,
};
use srt_proto::packet::SocketId;
use srt_proto::stats::TraceBStats;
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
/// How often (`-a:yes`) a caller group starts a broken member again.
const RECONNECT_EVERY: Duration = Duration::from_secs(1);
/// The header bytes libsrt counts per packet in a group's byte counters
/// (`CUDTGroup::bstatsSocket`: SRT 16 + UDP 8 + IPv4 20).
const GROUP_PKT_HDR: u64 = 44;

/// `-s`/`--stats-ms` for a group, as libsrt's `srt-test-live` prints
/// them: the group's line (libsrt's group `srt_bstats`: unique packets
/// sent and received, receiver drops), then one line per member (its own
/// connection's statistics), each under its ID.
struct GroupReport {
    start: Instant,
    /// The group's counters at the last report (intervals unless `-f`).
    base: GroupStats,
}

impl GroupReport {
    fn new() -> Self {
        GroupReport {
            start: Instant::now(),
            base: GroupStats::default(),
        }
    }

    /// Prints the group's and its members' statistics now; `drops` gives
    /// the UDP send drops of a member's endpoint.
    fn report(
        &mut self,
        stats: &mut StatsReporter,
        group: &Group,
        net: &mut dyn Members,
        drops: &dyn Fn(usize) -> u64,
    ) {
        let now = Instant::now();
        let g = group.stats();
        let base = if stats.full() {
            GroupStats::default()
        } else {
            self.base
        };
        self.base = g;
        let gid = SocketId(group.id());
        if stats.format() == StatsFormat::Human {
            stats.write_text(&human_group(group, &g, &base));
        } else {
            stats.write(gid, &group_bstats(&g, &base, now - self.start), 0);
        }
        let clear = !stats.full();
        for m in group.members() {
            let Some(s) = net
                .endpoint_mut(m.key.endpoint)
                .and_then(|ep| ep.socket_stats(now, m.key.socket, clear))
            else {
                continue;
            };
            stats.write(m.key.socket, &s, drops(m.key.endpoint));
        }
    }
}

/// A group's counters as libsrt's `CUDTGroup::bstatsSocket` fills a
/// `CBytePerfMon`: the interval since `base` and the totals, bytes with
/// 44 header bytes a packet; the rates from the unique bytes (libsrt's
/// read fields it leaves 0).
fn group_bstats(g: &GroupStats, base: &GroupStats, elapsed: Duration) -> TraceBStats {
    let with_hdr = |bytes: u64, pkts: u64| bytes + pkts * GROUP_PKT_HDR;
    let sent = g.sent - base.sent;
    let recv = g.delivered - base.delivered;
    let drop = g.dropped - base.dropped;
    let sent_bytes = with_hdr(g.sent_bytes - base.sent_bytes, sent);
    let recv_bytes = with_hdr(g.delivered_bytes - base.delivered_bytes, recv);
    let secs = elapsed.as_secs_f64().max(1e-6);
    TraceBStats {
        ms_time_stamp: elapsed.as_millis() as i64,
        pkt_sent_unique: sent as i64,
        pkt_recv_unique: recv as i64,
        pkt_rcv_drop: drop as i32,
        byte_sent_unique: sent_bytes,
        byte_recv_unique: recv_bytes,
        byte_rcv_drop: drop * GROUP_PKT_HDR,
        pkt_sent_unique_total: g.sent as i64,
        pkt_recv_unique_total: g.delivered as i64,
        pkt_rcv_drop_total: g.dropped as i32,
        byte_sent_unique_total: with_hdr(g.sent_bytes, g.sent),
        byte_recv_unique_total: with_hdr(g.delivered_bytes, g.delivered),
        byte_rcv_drop_total: g.dropped * GROUP_PKT_HDR,
        mbps_send_rate: sent_bytes as f64 * 8.0 / secs / 1e6,
        mbps_recv_rate: recv_bytes as f64 * 8.0 / secs / 1e6,
        ..TraceBStats::default()
    }
}

/// The group's block of the human-readable report.
fn human_group(group: &Group, g: &GroupStats, base: &GroupStats) -> String {
    let mut members = String::new();
    for m in group.members() {
        members.push_str(&format!(
            " @{}:{}/w{}",
            m.key.socket.0,
            match m.state {
                MemberState::Pending => "pending",
                MemberState::Idle => "idle",
                MemberState::Running => "running",
                MemberState::Broken => "broken",
            },
            m.weight
        ));
    }
    format!(
        "======= SRT GROUP STATS: gid={} type={:?}\n\
         PACKETS   UNIQUE SENT: {:>11}  UNIQUE RECEIVED: {:>11}\n\
         REDUNDANT        SENT: {:>11}  DROP RECEIVED:   {:>11}\n\
         DISCARDED      COPIES: {:>11}  ACTIVATIONS:     {:>11}\n\
         MEMBERS:{}\n",
        group.id(),
        group.kind(),
        g.sent - base.sent,
        g.delivered - base.delivered,
        g.sent_redundant - base.sent_redundant,
        g.dropped - base.dropped,
        g.discarded - base.discarded,
        g.activations - base.activations,
        members,
    )
}

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
    let mut member_keys = group
        .connect(
            Instant::now(),
            &mut Drivers(&mut drivers),
            &targets,
            options,
        )
        .map_err(group_error)?;
    let mut last_try = vec![Instant::now(); targets.len()];
    let mut stats = StatsReporter::new(&settings.stats, payload);
    let mut report = GroupReport::new();
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
                // `-a:yes` connects the members again.
                GroupEvent::Broken if ended.is_none() && !settings.reconnect => {
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
        if settings.reconnect && ended.is_none() {
            // As libsrt's srt-test-live (`UpdateGroupStatus`): a member
            // no longer in the group is connected again.
            reconnect_members(
                &mut group,
                &mut drivers,
                &targets,
                &mut member_keys,
                &mut last_try,
                options,
                settings.verbose,
            );
        }
        if stats.due() {
            report_caller(&mut report, &mut stats, &group, &mut drivers);
        }
        if !connected {
            if !settings.reconnect
                && now.duration_since(begun) > CONNECT_LIMIT.max(options.conntimeo)
            {
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
                                if stats.count(n.min(payload)) {
                                    report_caller(&mut report, &mut stats, &group, &mut drivers);
                                }
                            }
                            Err(GroupSendError::NotConnected) if !settings.reconnect => {
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

/// [`GroupReport::report`] for a caller group's drivers.
fn report_caller(
    report: &mut GroupReport,
    stats: &mut StatsReporter,
    group: &Group,
    drivers: &mut [UdpDriver],
) {
    let drops: Vec<u64> = drivers.iter().map(|d| d.send_drops()).collect();
    report.report(stats, group, &mut Drivers(drivers), &|i| {
        drops.get(i).copied().unwrap_or(0)
    });
}

/// `-a:yes` for a caller group: each target whose member broke (or
/// failed to connect) gets a new member, at most every
/// [`RECONNECT_EVERY`]; it joins the running group (the peer's listener
/// adds it to its group).
fn reconnect_members(
    group: &mut Group,
    drivers: &mut [UdpDriver],
    targets: &[MemberTarget],
    keys: &mut [MemberKey],
    last_try: &mut [Instant],
    options: &srt_proto::SocketOptions,
    verbose: bool,
) {
    let now = Instant::now();
    for (i, target) in targets.iter().enumerate() {
        let state = group.members().find(|m| m.key == keys[i]).map(|m| m.state);
        if !matches!(state, None | Some(MemberState::Broken))
            || now.duration_since(last_try[i]) < RECONNECT_EVERY
        {
            continue;
        }
        last_try[i] = now;
        group.remove_member(keys[i]);
        // The broken connection is let go.
        let _ = drivers[target.endpoint]
            .endpoint
            .close(now, keys[i].socket, CloseMode::Abort);
        match group.connect(now, &mut Drivers(drivers), &[*target], options) {
            Ok(new) => {
                if let Some(&k) = new.first() {
                    keys[i] = k;
                }
                if verbose {
                    eprintln!(
                        "srt-transmit: connecting the member to {} again",
                        target.remote
                    );
                }
            }
            Err(e) => {
                if verbose {
                    eprintln!("srt-transmit: member to {}: {e}", target.remote);
                }
            }
        }
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
    let mut stats = StatsReporter::new(&settings.stats, super::payload_size(target));
    let mut report = GroupReport::new();
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
                    report = GroupReport::new();
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
                    let mut due = stats.due();
                    while let Some(info) = g.recv(now, &mut d.endpoint, &mut buf) {
                        sink.write(&buf[..info.len])?;
                        bytes += info.len as u64;
                        messages += 1;
                        due |= stats.count(info.len);
                    }
                    if due {
                        let drops = d.send_drops();
                        report.report(&mut stats, g, &mut d.endpoint, &|_| drops);
                    }
                }
            }
            Current::Plain(id, drain) => {
                stats.tick(&mut d, *id);
                while let Ok(Some(info)) = d.endpoint.recv(now, *id, &mut buf) {
                    if info.len == 0 {
                        break;
                    }
                    sink.write(&buf[..info.len])?;
                    bytes += info.len as u64;
                    messages += 1;
                    stats.bytes(&mut d, *id, info.len);
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
                match current {
                    Current::Plain(id, _) => {
                        let _ = d.endpoint.close(now, id, CloseMode::Abort);
                    }
                    Current::Group(i) => {
                        if let Some(g) = listener.group(i) {
                            g.close(now, &mut d.endpoint, CloseMode::Abort);
                        }
                    }
                    Current::Waiting => {}
                }
                // The ended group is let go (memory stays bounded over
                // reconnections); a member of its peer group that comes
                // back makes a new group.
                listener = GroupListener::new(&target.options);
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
