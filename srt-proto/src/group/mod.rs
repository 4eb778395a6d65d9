//! Socket groups (connection bonding), as libsrt's `CUDTGroup`
//! (group.cpp): one stream over several member connections.
//!
//! A [`Group`] is a sans-IO state machine above its members. It owns no
//! connection: members are [`Connection`]s that live on any
//! [`Endpoint`]s (different local addresses or ports), named by a
//! [`MemberKey`] (which endpoint, which socket), and the group reaches them
//! through the [`Members`] trait on every call. The application (or a
//! driver) keeps calling the endpoints as usual; it sends and receives
//! through the group, and calls [`Group::handle_timeout`] when
//! [`Group::poll_timeout`] says.
//!
//! - **Handshake**: a member's CONCLUSION carries the GROUP block (group
//!   ID with bit 30 set, type, flags, weight; [`Group::member_block`],
//!   [`Endpoint::connect_member`]); a listener with `SRTO_GROUPCONNECT`
//!   answers with its mirror group's ID, one per peer group
//!   (derived from the peer group's ID with a key; `Endpoint::set_group_key`
//!   shares it across listeners);
//!   [`GroupListener`] turns accepted members into groups: the first
//!   member makes the group, later members of the same peer group join it.
//! - **One numbering**: the first connected member defines the group's
//!   sequence numbers, message numbers and time base; each later member
//!   takes them when it connects, on both sides, without telling the peer
//!   (libsrt's `synchronizeWithGroup`/`applyGroupSequences`): its sender
//!   continues at the group's next sequence number, its receiver at the
//!   group's next one to deliver, its packets are stamped from the group's
//!   start and played on the group's time base.
//! - **Broadcast** ([`GroupType::Broadcast`]): each message goes to every
//!   running member with the same sequence and message number.
//! - **Backup** ([`GroupType::Backup`]): the highest-weight member is
//!   active, the others idle (connected, keepalives only). The group keeps
//!   what it sent and the peer has not acknowledged on any member
//!   (`buffer.rs`, libsrt's `m_SenderBuffer`); when no active member is
//!   stable (`backup.rs`: no response for the stability timeout, new
//!   sender drops, or an RTT beyond the latency), the best idle member is
//!   activated and everything unacknowledged is sent on it first with its
//!   original numbers and times, so the receiver loses nothing.
//! - **Receiving** (either type): each member's receiver reorders and
//!   plays on its TSBPD time as usual; the group takes the earliest due
//!   sequence number over all members, delivers it once, and makes every
//!   member skip past it (libsrt's `CUDTGroup::recv`).
//!
//! Nothing here allocates per packet in steady state: the member list and
//! the backup buffer keep their storage.

mod backup;
mod buffer;
#[cfg(test)]
mod tests;

use crate::buffer::recv::RecvInfo;
use crate::connection::{CloseMode, ConnState, Connection};
use crate::endpoint::{Endpoint, EndpointError};
use crate::handshake::HsSettings;
use crate::options::SocketOptions;
use crate::packet::{GroupBlock, HsExtension, RejectReason, SocketId};
use crate::seq::{MsgNumber, SeqNumber};
use crate::transfer::{MsgCtrl, SendError};
use buffer::BackupBuffer;
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// libsrt's `SRTGROUP_MASK`: bit 30 marks a group ID.
pub const GROUP_ID_BIT: u32 = 1 << 30;

/// How often a backup group checks its members' stability when nothing
/// is sent (libsrt checks on every send; `COMM_SYN_INTERVAL`).
pub const CHECK_INTERVAL: Duration = Duration::from_millis(10);

/// The group type (`SRT_GROUP_TYPE`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum GroupType {
    /// `SRT_GTYPE_BROADCAST` (1): every message over every member.
    Broadcast,
    /// `SRT_GTYPE_BACKUP` (2): one active member, the others on standby.
    Backup,
}

impl GroupType {
    /// The wire value.
    pub fn code(self) -> u8 {
        match self {
            GroupType::Broadcast => 1,
            GroupType::Backup => 2,
        }
    }

    /// The type of wire value `code`, if it is one this engine runs.
    pub fn from_code(code: u8) -> Option<Self> {
        match code {
            1 => Some(GroupType::Broadcast),
            2 => Some(GroupType::Backup),
            _ => None,
        }
    }
}

/// A member's state (`SRT_MEMBERSTATUS`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MemberState {
    /// `SRT_GST_PENDING`: connecting.
    Pending,
    /// `SRT_GST_IDLE`: connected, on standby (backup).
    Idle,
    /// `SRT_GST_RUNNING`: connected and carrying the stream.
    Running,
    /// `SRT_GST_BROKEN`: failed to connect, broke, or was closed.
    Broken,
}

/// Which connection a member is: an endpoint (an index the application
/// chooses, e.g. into its list of endpoints) and a socket on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MemberKey {
    /// The endpoint's index.
    pub endpoint: usize,
    /// The socket on that endpoint.
    pub socket: SocketId,
}

/// Where a group finds its members' endpoints (and so their connections).
///
/// A host implements [`endpoint_mut`](Members::endpoint_mut); the group
/// reaches connections and starts members through the provided methods.
pub trait Members {
    /// The endpoint at `index` (the application's numbering), if any.
    fn endpoint_mut(&mut self, index: usize) -> Option<&mut Endpoint>;

    /// The member's connection, if it still exists.
    fn connection(&mut self, key: MemberKey) -> Option<&mut Connection> {
        self.endpoint_mut(key.endpoint)?.connection_mut(key.socket)
    }

    /// Starts connecting a member from endpoint `endpoint` to `remote`
    /// with initial sequence number `isn`.
    fn connect_member(
        &mut self,
        endpoint: usize,
        now: Instant,
        remote: SocketAddr,
        options: &SocketOptions,
        block: GroupBlock,
        isn: SeqNumber,
    ) -> Result<SocketId, EndpointError> {
        self.endpoint_mut(endpoint)
            .ok_or(EndpointError::UnknownEndpoint(endpoint))?
            .connect_member(now, remote, options, block, isn)
    }
}

impl Members for [Endpoint] {
    fn endpoint_mut(&mut self, index: usize) -> Option<&mut Endpoint> {
        self.get_mut(index)
    }
}

/// One endpoint holds every member (the endpoint index is ignored).
impl Members for Endpoint {
    fn endpoint_mut(&mut self, _index: usize) -> Option<&mut Endpoint> {
        Some(self)
    }
}

#[cfg(feature = "sim")]
impl Members for crate::sim::Network {
    fn endpoint_mut(&mut self, index: usize) -> Option<&mut Endpoint> {
        self.try_endpoint(index)
    }
}

/// The responder's check of a CONCLUSION's GROUP block (libsrt's
/// `interpretGroup`): none is fine; one needs `SRTO_GROUPCONNECT`
/// (`SRT_REJ_GROUP`), a known type (`SRT_REJ_GROUP`) and the group bit
/// (`SRT_REJ_ROGUE`).
pub(crate) fn responder_check(
    own: &HsSettings,
    peer_blocks: &[HsExtension],
) -> Result<Option<GroupBlock>, RejectReason> {
    let Some(g) = find_group(peer_blocks) else {
        return Ok(None);
    };
    if !own.group_connect {
        return Err(RejectReason::Group);
    }
    check_block(&g)?;
    Ok(Some(g))
}

/// The initiator's check of the answer: a member needs the listener's
/// mirror group (libsrt refuses with `SRT_REJ_GROUP` when it is missing);
/// an answer naming a group we did not ask for is libsrt's `SRT_REJ_IPE`.
pub(crate) fn initiator_check(
    own: &HsSettings,
    peer_blocks: &[HsExtension],
) -> Result<Option<GroupBlock>, RejectReason> {
    match (own.group, find_group(peer_blocks)) {
        (None, None) => Ok(None),
        (None, Some(_)) => Err(RejectReason::Ipe),
        (Some(_), None) => Err(RejectReason::Group),
        (Some(_), Some(g)) => {
            check_block(&g)?;
            Ok(Some(g))
        }
    }
}

fn find_group(blocks: &[HsExtension]) -> Option<GroupBlock> {
    blocks.iter().find_map(|b| match b {
        HsExtension::Group(g) => Some(*g),
        _ => None,
    })
}

/// libsrt's checks: the type below `SRT_GTYPE_E_END` (3), the group bit.
/// libsrt lets `SRT_GTYPE_UNDEFINED` (0) through, which no libsrt caller
/// sends; we cannot run a group of no type and refuse it as a wrong type.
fn check_block(g: &GroupBlock) -> Result<(), RejectReason> {
    if GroupType::from_code(g.group_type).is_none() {
        return Err(RejectReason::Group);
    }
    if g.group_id & GROUP_ID_BIT == 0 {
        return Err(RejectReason::Rogue);
    }
    Ok(())
}

/// The GROUP block an accepted member answers with: our mirror group
/// `local`, the peer's type and the member's weight (libsrt copies the
/// link weight; flags are 0 in libsrt 1.5).
pub(crate) fn mirror_block(peer: GroupBlock, local: u32) -> GroupBlock {
    GroupBlock {
        group_id: local,
        group_type: peer.group_type,
        flags: 0,
        weight: peer.weight,
    }
}

/// A listener's mirror groups: our group ID for a peer group, a keyed
/// hash of the peer group's ID (HMAC-SHA1) with the group bit set. No
/// state per group (like the SYN cookie), and listeners that share the key
/// agree ([`Endpoint::set_group_key`]).
#[derive(Clone)]
pub(crate) struct MirrorKey([u8; 32]);

impl std::fmt::Debug for MirrorKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MirrorKey(..)")
    }
}

impl MirrorKey {
    /// The key `key`.
    pub(crate) fn new(key: [u8; 32]) -> Self {
        MirrorKey(key)
    }

    /// Our group ID for the peer group `peer`: bit 30 set, the rest a
    /// nonzero value below 2³⁰ − 1 (as libsrt's socket IDs).
    pub(crate) fn mirror(&self, peer: u32) -> u32 {
        use hmac::{Hmac, Mac};
        let mut mac = <Hmac<sha1::Sha1> as Mac>::new_from_slice(&self.0)
            .expect("HMAC takes a key of any length");
        mac.update(b"srt group mirror");
        mac.update(&peer.to_be_bytes());
        let tag = mac.finalize().into_bytes();
        let h = u32::from_be_bytes([tag[0], tag[1], tag[2], tag[3]]);
        GROUP_ID_BIT | (1 + h % ((1 << 30) - 2))
    }
}

/// A group's settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupConfig {
    /// Broadcast or backup.
    pub kind: GroupType,
    /// `SRTO_GROUPMINSTABLETIMEO`: the least time without a response
    /// before an active backup member counts as unstable (default and
    /// minimum 60 ms).
    pub min_stable_timeout: Duration,
    /// How many unacknowledged messages a backup group keeps (`SRTO_SNDBUF`
    /// in packets); the oldest goes when it is full.
    pub buffer_packets: usize,
}

impl GroupConfig {
    /// A group of `kind` with the group options of `options`.
    pub fn new(kind: GroupType, options: &SocketOptions) -> Self {
        GroupConfig {
            kind,
            min_stable_timeout: options
                .groupminstabletimeo
                .max(crate::options::MIN_GROUP_STABLE_TIMEO),
            buffer_packets: options.sndbuf_pkts.max(2) as usize,
        }
    }
}

/// Where a member of a multi-address connect goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemberTarget {
    /// The endpoint that connects (see [`MemberKey::endpoint`]).
    pub endpoint: usize,
    /// The listener's address.
    pub remote: SocketAddr,
    /// The member's weight (backup: higher is preferred).
    pub weight: u16,
}

/// Something the application should know about a group.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum GroupEvent {
    /// The first member connected: the group can send and receive.
    Connected,
    /// A member connected and took the group's numbering.
    MemberConnected {
        /// The member.
        key: MemberKey,
    },
    /// A member failed to connect, broke or was closed.
    MemberBroken {
        /// The member.
        key: MemberKey,
    },
    /// Backup: a standby member was activated (and sent what was not
    /// acknowledged), at `at`.
    Activated {
        /// The member.
        key: MemberKey,
        /// When.
        at: Instant,
    },
    /// Backup: a member went back to standby.
    Silenced {
        /// The member.
        key: MemberKey,
    },
    /// Every member is broken.
    Broken,
}

/// Why a group connect failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GroupConnectError {
    /// The options are not live mode with TSBPD (`SRT_EINVPARAM`): groups
    /// run in live mode only.
    #[error("socket groups run in live mode only")]
    NotLive,
    /// An endpoint refused to start a member.
    #[error(transparent)]
    Endpoint(#[from] EndpointError),
}

/// Why a group send failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GroupSendError {
    /// No member is connected (`SRT_ENOCONN`).
    #[error("no member connected")]
    NotConnected,
    /// Every running member refused the message.
    #[error("no member took the message: {0}")]
    Member(SendError),
}

/// What a group send did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GroupSent {
    /// The message's sequence number (the same on every member).
    pub seq: SeqNumber,
    /// The message number.
    pub msgno: MsgNumber,
    /// How many members took it.
    pub members: usize,
}

/// A member's public state (libsrt's `SRT_SOCKGROUPDATA`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemberInfo {
    /// The member.
    pub key: MemberKey,
    /// Its state.
    pub state: MemberState,
    /// Its weight.
    pub weight: u16,
}

/// Group statistics (libsrt's group `srt_bstats` counters).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GroupStats {
    /// Messages the group sent (each counted once).
    pub sent: u64,
    /// Their payload bytes.
    pub sent_bytes: u64,
    /// Messages sent on more than one member (broadcast; backup resends
    /// and parallel sending).
    pub sent_redundant: u64,
    /// Messages delivered to the application (each once).
    pub delivered: u64,
    /// Their payload bytes.
    pub delivered_bytes: u64,
    /// Sequence numbers given up: no member had them in time.
    pub dropped: u64,
    /// Copies a member had that the group already delivered from another.
    pub discarded: u64,
    /// Backup: standby members activated.
    pub activations: u32,
}

#[derive(Clone, Debug)]
struct Member {
    key: MemberKey,
    state: MemberState,
    weight: u16,
    /// Took the group's numbering.
    synced: bool,
    /// Backup: when last activated (its probing period counts from here).
    activated_at: Option<Instant>,
    /// Backup: the sender drop total last seen.
    drops_seen: u64,
    /// Backup: was activated at least once (its acknowledgements count).
    carried: bool,
}

/// The numbering and clock every member shares.
#[derive(Clone, Copy, Debug)]
struct Shared {
    /// Packet timestamps count from here.
    start: Instant,
    /// The receiving time base, if members play with TSBPD.
    time_base: Option<(Instant, bool)>,
    /// The next message's sequence number.
    next_seq: SeqNumber,
    /// The next message's number.
    next_msgno: MsgNumber,
}

/// A socket group: see the module docs.
#[derive(Debug)]
pub struct Group {
    id: u32,
    /// The sequence number members start from until one is connected
    /// (libsrt's `m_iLastSchedSeqNo`, random at creation).
    isn: SeqNumber,
    config: GroupConfig,
    /// The peer's group ID, from the first member's handshake.
    peer_id: Option<u32>,
    members: Vec<Member>,
    shared: Option<Shared>,
    /// The last sequence number delivered.
    delivered: Option<SeqNumber>,
    backup: BackupBuffer,
    /// Backup: when the buffer last went from empty to holding a message
    /// (responses are expected since).
    awaiting_since: Option<Instant>,
    next_check: Option<Instant>,
    events: VecDeque<GroupEvent>,
    stats: GroupStats,
}

impl Group {
    /// A group with ID `id` (bit 30 is set if missing) whose members start
    /// at sequence number `isn` (see [`Endpoint::new_group`], which draws
    /// both).
    pub fn new(id: u32, isn: SeqNumber, config: GroupConfig) -> Self {
        let backup = BackupBuffer::new(if config.kind == GroupType::Backup {
            config.buffer_packets
        } else {
            0
        });
        Group {
            id: id | GROUP_ID_BIT,
            isn,
            config,
            peer_id: None,
            members: Vec::with_capacity(4),
            shared: None,
            delivered: None,
            backup,
            awaiting_since: None,
            next_check: None,
            events: VecDeque::with_capacity(8),
            stats: GroupStats::default(),
        }
    }

    /// The group ID (bit 30 set).
    pub fn id(&self) -> u32 {
        self.id
    }

    /// The group type.
    pub fn kind(&self) -> GroupType {
        self.config.kind
    }

    /// The peer's group ID, once a member connected.
    pub fn peer_id(&self) -> Option<u32> {
        self.peer_id
    }

    /// Whether a member connected (the group sends and receives).
    pub fn is_connected(&self) -> bool {
        self.shared.is_some()
    }

    /// The GROUP block a member of weight `weight` sends.
    pub fn member_block(&self, weight: u16) -> GroupBlock {
        GroupBlock {
            group_id: self.id,
            group_type: self.config.kind.code(),
            flags: 0,
            weight,
        }
    }

    /// The statistics.
    pub fn stats(&self) -> GroupStats {
        self.stats
    }

    /// The members and their states.
    pub fn members(&self) -> impl Iterator<Item = MemberInfo> + '_ {
        self.members.iter().map(|m| MemberInfo {
            key: m.key,
            state: m.state,
            weight: m.weight,
        })
    }

    /// The next event, if any.
    pub fn poll_event(&mut self) -> Option<GroupEvent> {
        self.events.pop_front()
    }

    /// Adds a member that is connecting (or connected) with weight
    /// `weight` (its handshake must carry [`member_block`](Self::member_block)).
    pub fn add_member(&mut self, key: MemberKey, weight: u16) {
        if self.members.iter().any(|m| m.key == key) {
            return;
        }
        self.members.push(Member {
            key,
            state: MemberState::Pending,
            weight,
            synced: false,
            activated_at: None,
            drops_seen: 0,
            carried: false,
        });
    }

    /// Removes a member (its connection is left as it is).
    pub fn remove_member(&mut self, key: MemberKey) {
        self.members.retain(|m| m.key != key);
    }

    /// Connects one member to each target at once (libsrt's
    /// `srt_connect_group`, SCTP's `sctp_connectx`): the members connect in
    /// parallel, the group is connected with the first, and those that
    /// fail become broken. Every member starts at the group's sequence
    /// number (libsrt's `currentSchedSequence`), so the peer's members
    /// agree whichever connects first. Returns the members started.
    ///
    /// Groups run in live mode only, as libsrt's (which refuses
    /// `SRTO_TRANSTYPE`, `SRTO_TSBPDMODE` and `SRTO_CONGESTION` on a group
    /// with `SRT_EINVPARAM`): `options` of file mode, without TSBPD or with
    /// the file congestion control are refused.
    pub fn connect(
        &mut self,
        now: Instant,
        net: &mut (impl Members + ?Sized),
        targets: &[MemberTarget],
        options: &SocketOptions,
    ) -> Result<Vec<MemberKey>, GroupConnectError> {
        if options.transtype != crate::handshake::TransType::Live
            || !options.tsbpdmode
            || options.congestion != crate::options::Congestion::Live
        {
            return Err(GroupConnectError::NotLive);
        }
        let mut keys = Vec::with_capacity(targets.len());
        let isn = self.shared.map_or(self.isn, |s| s.next_seq);
        for t in targets {
            let block = self.member_block(t.weight);
            let socket = net.connect_member(t.endpoint, now, t.remote, options, block, isn)?;
            let key = MemberKey {
                endpoint: t.endpoint,
                socket,
            };
            self.add_member(key, t.weight);
            keys.push(key);
        }
        Ok(keys)
    }

    /// Closes every member (libsrt's `srt_close` on a group): with
    /// [`CloseMode::Linger`] or [`CloseMode::Lossless`] each member first
    /// delivers what it holds, as a single socket would.
    pub fn close(&mut self, now: Instant, net: &mut (impl Members + ?Sized), mode: CloseMode) {
        for m in &mut self.members {
            if let Some(conn) = net.connection(m.key) {
                conn.close(now, mode);
            }
            if m.state != MemberState::Broken {
                m.state = MemberState::Broken;
                self.events
                    .push_back(GroupEvent::MemberBroken { key: m.key });
            }
        }
        self.next_check = None;
    }

    /// When [`handle_timeout`](Self::handle_timeout) should run next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.next_check
    }

    /// Follows the members' states (connected, broken), gives connected
    /// members the group's numbering, and (backup) checks stability and
    /// switches members.
    pub fn handle_timeout(&mut self, now: Instant, net: &mut (impl Members + ?Sized)) {
        self.update_members(now, net);
        if self.config.kind == GroupType::Backup {
            self.check_backup(now, net, false);
        }
        self.next_check = (self.members.iter().any(|m| m.state != MemberState::Broken))
            .then_some(now + CHECK_INTERVAL);
    }

    fn update_members(&mut self, now: Instant, net: &mut (impl Members + ?Sized)) {
        let was_alive = self.members.iter().any(|m| m.state != MemberState::Broken);
        for i in 0..self.members.len() {
            let key = self.members[i].key;
            let state = net.connection(key).map(|c| c.state());
            match state {
                Some(ConnState::Connecting) => {}
                Some(ConnState::Connected) => {
                    if !self.members[i].synced {
                        self.join(now, i, net);
                    }
                }
                Some(ConnState::Broken | ConnState::Closed) | None => {
                    if self.members[i].state != MemberState::Broken {
                        self.members[i].state = MemberState::Broken;
                        self.events.push_back(GroupEvent::MemberBroken { key });
                    }
                }
            }
        }
        let alive = self.members.iter().any(|m| m.state != MemberState::Broken);
        if was_alive && !alive {
            self.events.push_back(GroupEvent::Broken);
        }
    }

    /// A member connected: the first defines the group's numbering and
    /// clock, later ones take them.
    fn join(&mut self, now: Instant, i: usize, net: &mut (impl Members + ?Sized)) {
        let key = self.members[i].key;
        let read_pos = self.rcv_next(net);
        let Some(conn) = net.connection(key) else {
            return;
        };
        let peer_group = conn.negotiated().and_then(|n| n.peer_group);
        let accepted = conn.is_accepted();
        match (self.peer_id, peer_group) {
            (_, None) => {
                // Not a group member on the other side: not ours.
                conn.close(now, CloseMode::Abort);
                self.members[i].state = MemberState::Broken;
                self.events.push_back(GroupEvent::MemberBroken { key });
                return;
            }
            (Some(p), Some(g)) if p != g.group_id => {
                // Bound to another peer group (libsrt: SRT_REJ_GROUP).
                conn.close(now, CloseMode::Abort);
                self.members[i].state = MemberState::Broken;
                self.events.push_back(GroupEvent::MemberBroken { key });
                return;
            }
            (_, Some(g)) => self.peer_id = Some(g.group_id),
        }
        let Some(t) = conn.group_transfer() else {
            return;
        };
        match &self.shared {
            None => {
                self.shared = Some(Shared {
                    start: t.group_start(),
                    time_base: t.group_time_base(),
                    next_seq: t.group_snd_next_seq(),
                    next_msgno: MsgNumber::FIRST,
                });
                self.events.push_back(GroupEvent::Connected);
            }
            Some(s) => {
                t.group_set_start(s.start);
                if let Some((base, wrap)) = s.time_base {
                    t.group_adopt_time_base(base, wrap);
                }
                t.group_override_snd_seq(s.next_seq);
                // An accepted member receives from the caller's group
                // sequence its handshake carried (libsrt's callers start
                // every member there); a caller's member from where the
                // group's receiving stands.
                if !accepted {
                    if let Some(pos) = read_pos {
                        t.group_reset_rcv(pos);
                    }
                }
            }
        }
        let m = &mut self.members[i];
        m.synced = true;
        m.drops_seen = t.group_health().snd_dropped;
        m.state = match self.config.kind {
            GroupType::Broadcast => MemberState::Running,
            GroupType::Backup => MemberState::Idle,
        };
        self.events.push_back(GroupEvent::MemberConnected { key });
    }

    /// The next sequence number the group delivers: after the last one
    /// delivered, else where the connected members' receivers stand.
    fn rcv_next(&self, net: &mut (impl Members + ?Sized)) -> Option<SeqNumber> {
        if let Some(d) = self.delivered {
            return Some(d.next());
        }
        let mut pos: Option<SeqNumber> = None;
        for m in self.members.iter().filter(|m| m.synced) {
            if let Some(t) = net.connection(m.key).and_then(|c| c.group_transfer()) {
                let p = t.group_rcv_read_pos();
                pos = Some(match pos {
                    Some(q) if q.offset_from(p) <= 0 => q,
                    _ => p,
                });
            }
        }
        pos
    }

    /// Sends one message (live mode: one packet) with `ctrl`'s source
    /// time (message numbers are the group's): on every running member
    /// (broadcast) or the active one(s) (backup, which keeps it until
    /// acknowledged).
    pub fn send(
        &mut self,
        now: Instant,
        net: &mut (impl Members + ?Sized),
        payload: &[u8],
        ctrl: &MsgCtrl,
    ) -> Result<GroupSent, GroupSendError> {
        self.update_members(now, net);
        if self.config.kind == GroupType::Backup {
            self.check_backup(now, net, true);
        }
        let Some(s) = self.shared else {
            return Err(GroupSendError::NotConnected);
        };
        let origin = ctrl.srctime.unwrap_or(now);
        let mc = MsgCtrl {
            srctime: Some(origin),
            msgno: Some(s.next_msgno),
            ..*ctrl
        };
        let mut taken = 0;
        let mut last_err = SendError::NotConnected;
        for m in &self.members {
            if m.state != MemberState::Running {
                continue;
            }
            match send_on(net, m.key, s.next_seq, payload, &mc, now) {
                Ok(()) => taken += 1,
                Err(e) => last_err = e,
            }
        }
        if self.config.kind == GroupType::Backup {
            // Kept even if no member took it: an activated one sends it.
            self.backup.push(s.next_seq, s.next_msgno, origin, payload);
        } else if taken == 0 {
            return Err(GroupSendError::Member(last_err));
        }
        let sent = GroupSent {
            seq: s.next_seq,
            msgno: s.next_msgno,
            members: taken,
        };
        if let Some(sh) = &mut self.shared {
            sh.next_seq = s.next_seq.next();
            sh.next_msgno = s.next_msgno.next();
        }
        self.stats.sent += 1;
        self.stats.sent_bytes += payload.len() as u64;
        if taken > 1 {
            self.stats.sent_redundant += 1;
        }
        Ok(sent)
    }

    /// The next message due, from whichever member has it first; each
    /// sequence number is delivered once, in order.
    pub fn recv(
        &mut self,
        now: Instant,
        net: &mut (impl Members + ?Sized),
        out: &mut [u8],
    ) -> Option<RecvInfo> {
        loop {
            let mut best: Option<(usize, SeqNumber)> = None;
            for (i, m) in self.members.iter().enumerate() {
                // A broken member's receiver still holds what it received.
                if !m.synced {
                    continue;
                }
                let Some(t) = net.connection(m.key).and_then(|c| c.group_transfer()) else {
                    continue;
                };
                if let Some(d) = self.delivered {
                    self.stats.discarded += t.group_skip_to(d.next()) as u64;
                }
                if let Some(seq) = t.group_peek(now) {
                    if best.is_none_or(|(_, b)| seq.offset_from(b) < 0) {
                        best = Some((i, seq));
                    }
                }
            }
            let (i, _) = best?;
            let conn = net.connection(self.members[i].key)?;
            let Ok(Some(info)) = conn.recv(now, out) else {
                return None;
            };
            if let Some(d) = self.delivered {
                let gap = info.seq.offset_from(d);
                if gap <= 0 {
                    continue;
                }
                self.stats.dropped += (gap - 1) as u64;
            }
            // The member carries the stream towards us (libsrt's rcvstate).
            if self.members[i].state == MemberState::Idle && self.stats.sent == 0 {
                self.members[i].state = MemberState::Running;
            }
            self.delivered = Some(info.seq);
            self.stats.delivered += 1;
            self.stats.delivered_bytes += info.len as u64;
            return Some(info);
        }
    }
}

/// Sends `payload` as sequence number `seq` on member `key`.
fn send_on(
    net: &mut (impl Members + ?Sized),
    key: MemberKey,
    seq: SeqNumber,
    payload: &[u8],
    mc: &MsgCtrl,
    now: Instant,
) -> Result<(), SendError> {
    let conn = net.connection(key).ok_or(SendError::NotConnected)?;
    let t = conn.group_transfer().ok_or(SendError::NotConnected)?;
    t.group_snd_drop_too_late(now);
    if t.group_snd_next_seq() != seq && !t.group_override_snd_seq(seq) {
        // Its own packets still wait with other numbers: it cannot carry
        // this one under the group's number.
        return Err(SendError::WouldBlock);
    }
    conn.send_msg(now, payload, mc).map(|_| ())
}

/// Turns members accepted by listeners (`SRTO_GROUPCONNECT`) into groups:
/// the first member of a peer group makes a group (what the application
/// accepts), later members of the same peer group join it silently.
///
/// Each group keeps its index until it is [removed](Self::remove) (libsrt's
/// `srt_close` on the group, or its last member gone while nobody holds
/// it); a later member of its peer group then makes a new group, as
/// libsrt's `findPeerGroup` finds only groups not closed. Freed indices
/// are used again, so the table is as large as the most groups alive at
/// once.
#[derive(Debug)]
pub struct GroupListener {
    options: SocketOptions,
    groups: Vec<Option<Group>>,
}

/// What [`GroupListener::admit`] did with an accepted connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Admitted {
    /// The first member of a peer group: a new group, at this index.
    NewGroup(usize),
    /// A later member: joined the group at this index.
    Joined(usize),
    /// Not a group member (a plain connection).
    NotMember,
}

impl GroupListener {
    /// Groups made with the group options of `options`.
    pub fn new(options: &SocketOptions) -> Self {
        GroupListener {
            options: options.clone(),
            groups: Vec::new(),
        }
    }

    /// Takes an accepted connection `key` into its group.
    pub fn admit(&mut self, key: MemberKey, conn: &Connection) -> Admitted {
        let (Some(own), Some(peer)) = (
            conn.group_block(),
            conn.negotiated().and_then(|n| n.peer_group),
        ) else {
            return Admitted::NotMember;
        };
        if let Some(i) = self
            .groups
            .iter()
            .position(|g| g.as_ref().is_some_and(|g| g.id == own.group_id))
        {
            if let Some(g) = &mut self.groups[i] {
                g.add_member(key, peer.weight);
            }
            return Admitted::Joined(i);
        }
        let Some(kind) = GroupType::from_code(peer.group_type) else {
            return Admitted::NotMember;
        };
        // The group's sending starts where the first member's does.
        let mut g = Group::new(
            own.group_id,
            SeqNumber::new_truncate(0),
            GroupConfig::new(kind, &self.options),
        );
        g.add_member(key, peer.weight);
        match self.groups.iter().position(Option::is_none) {
            Some(i) => {
                self.groups[i] = Some(g);
                Admitted::NewGroup(i)
            }
            None => {
                self.groups.push(Some(g));
                Admitted::NewGroup(self.groups.len() - 1)
            }
        }
    }

    /// The groups and their indices.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = (usize, &mut Group)> + '_ {
        self.groups
            .iter_mut()
            .enumerate()
            .filter_map(|(i, g)| Some((i, g.as_mut()?)))
    }

    /// The group at `index`.
    pub fn group(&mut self, index: usize) -> Option<&mut Group> {
        self.groups.get_mut(index).and_then(Option::as_mut)
    }

    /// Forgets the group at `index` and returns it (its members'
    /// connections are left as they are: [`Group::close`] it first). A
    /// later member of its peer group makes a new group; `index` may be
    /// given to another group.
    pub fn remove(&mut self, index: usize) -> Option<Group> {
        let g = self.groups.get_mut(index)?.take();
        while self.groups.last().is_some_and(Option::is_none) {
            self.groups.pop();
        }
        g
    }

    /// How many groups there are.
    pub fn len(&self) -> usize {
        self.groups.iter().filter(|g| g.is_some()).count()
    }

    /// Whether there is no group.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
