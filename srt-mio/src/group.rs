//! Socket groups (libsrt's bonding API): a group is an entry of the
//! handle table with libsrt's group bit (bit 30, `SRTGROUP_MASK`) in its
//! ID, above member sockets that are ordinary entries (each with its
//! connection in some multiplexer's engine shard).
//!
//! The engine's [`Group`] needs every member's endpoint at once. A call on
//! a group (send, receive, a member's state change) holds the context's
//! state lock and then locks the engines of the group's member shards
//! together, always in one global order (multiplexer index, then shard
//! index); a worker only ever holds one engine and never waits for the
//! state while holding it, and no other call holds two engines, so the
//! order cannot deadlock. Members may thus live on any multiplexer and
//! any worker (a caller's members each on their own UDP socket, a
//! listener's on whichever shards their callers' addresses land in).
//!
//! Listening with `SRTO_GROUPCONNECT`: every listening engine of the
//! context is given the context's one group key
//! ([`srt_proto::Endpoint::set_group_key`]), so all shards and all
//! listeners answer one peer group with the same mirror group ID, which is
//! also the accepted group's handle: the first member of a peer group
//! queues the group for `accept`, later members join it silently, plain
//! callers are accepted as single sockets (as libsrt).

use crate::error::code::*;
use crate::shard::{Engine, Shard};
use crate::state::{ConnectCallback, Sock, SrtSocket, State};
use crate::{Context, Error, SockStatus};
use srt_proto::group::{
    Group, GroupConfig, GroupConnectError, GroupEvent, GroupSendError, GroupStats, MemberKey,
    MemberTarget, Members, GROUP_ID_BIT,
};
pub use srt_proto::group::{GroupType, MemberState};
use srt_proto::options::{OptionValue, SockOpt};
use srt_proto::packet::SocketId;
use srt_proto::seq::SeqNumber;
use srt_proto::stats::TraceBStats;
use srt_proto::{CloseMode, Endpoint, MsgCtrl, RecvInfo, SendError, Sent};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// The most engine shards one group's members may be spread over (each
/// member connection lives in one shard; a caller member has a shard of
/// its own, a listener's members share the listening port's shards).
pub const MAX_GROUP_SHARDS: usize = 64;

/// libsrt's `CUDT::MAX_WEIGHT`: the largest member weight.
pub const MAX_WEIGHT: u16 = 32767;

/// Whether `id` names a group (libsrt's `SRTGROUP_MASK` bit).
pub fn is_group(id: SrtSocket) -> bool {
    id > 0 && (id as u32) & GROUP_ID_BIT != 0
}

/// One member to connect (libsrt's `SRT_SOCKGROUPCONFIG`); `id` and
/// `errorcode` are written back by [`Context::connect_group`].
#[derive(Clone, Debug)]
pub struct MemberConfig {
    /// The address to bind first, if any.
    pub source: Option<SocketAddr>,
    /// The listener's address.
    pub target: SocketAddr,
    /// The member's weight (backup: higher is preferred), at most [`MAX_WEIGHT`].
    pub weight: u16,
    /// Options set on the member after the group's (`srt_config_add`).
    pub options: Vec<(SockOpt, OptionValue)>,
    /// A number the application chose, or -1 for one of the context's.
    pub token: i32,
    /// Out: the member socket, -1 if none was made.
    pub id: SrtSocket,
    /// Out: 0, or why this member could not start (`SRT_ERRNO`).
    pub errorcode: i32,
}

impl MemberConfig {
    /// A member to `target` with weight 0 and no options of its own.
    pub fn new(source: Option<SocketAddr>, target: SocketAddr) -> Self {
        MemberConfig {
            source,
            target,
            weight: 0,
            options: Vec::new(),
            token: -1,
            id: -1,
            errorcode: 0,
        }
    }
}

/// A member's state as `srt_group_data` reports it (`SRT_SOCKGROUPDATA`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GroupMemberData {
    /// The member socket.
    pub id: SrtSocket,
    /// The peer's address.
    pub peer: Option<SocketAddr>,
    /// The member socket's state.
    pub sockstate: SockStatus,
    /// Its weight.
    pub weight: u16,
    /// Its state in the group.
    pub memberstate: MemberState,
    /// 0, or -1 for a broken member.
    pub result: i32,
    /// Its token.
    pub token: i32,
}

/// One member socket of a group.
#[derive(Clone, Copy, Debug)]
pub(crate) struct MemberSlot {
    pub(crate) id: SrtSocket,
    pub(crate) key: MemberKey,
    pub(crate) token: i32,
}

/// What the state keeps of a group (its socket-like part, readiness,
/// options, condition variable, is its entry in the handle table).
pub(crate) struct GroupState {
    pub(crate) group: Group,
    /// The engine shards of its members, by member key endpoint index:
    /// (multiplexer, shard) and the shard itself.
    endpoints: Vec<(usize, usize)>,
    shards: Vec<Arc<Shard>>,
    /// `endpoints` indices in lock order.
    order: Vec<usize>,
    pub(crate) members: Vec<MemberSlot>,
    /// A connect was started (libsrt's `m_bOpened`): later connects do not block.
    opened: bool,
    /// The group's connect callback, shared by its members.
    callback: Option<Arc<Mutex<ConnectCallback>>>,
    /// When it was made (`msTimeStamp` of its statistics).
    created: Instant,
    /// Its initial sequence number (a caller group's members start there).
    isn: SeqNumber,
    /// The statistics when they were last cleared (`srt_bstats(.., 1)`).
    stats_base: GroupStats,
}

impl GroupState {
    fn new(group: Group, isn: SeqNumber) -> Self {
        GroupState {
            isn,
            group,
            endpoints: Vec::new(),
            shards: Vec::new(),
            order: Vec::new(),
            members: Vec::new(),
            opened: false,
            callback: None,
            created: Instant::now(),
            stats_base: GroupStats::default(),
        }
    }

    /// The endpoint index of shard `k` of multiplexer `idx`, added if new.
    fn endpoint_of(&mut self, idx: usize, k: usize, shard: Arc<Shard>) -> Option<usize> {
        if let Some(i) = self.endpoints.iter().position(|&e| e == (idx, k)) {
            return Some(i);
        }
        if self.endpoints.len() == MAX_GROUP_SHARDS {
            return None;
        }
        self.endpoints.push((idx, k));
        self.shards.push(shard);
        self.order = (0..self.endpoints.len()).collect();
        let eps = &self.endpoints;
        self.order.sort_by_key(|&i| eps[i]);
        Some(self.endpoints.len() - 1)
    }
}

/// The member engines of one group, locked together.
struct Locked<'a> {
    guards: [Option<MutexGuard<'a, Engine>>; MAX_GROUP_SHARDS],
}

impl Members for Locked<'_> {
    fn endpoint_mut(&mut self, index: usize) -> Option<&mut Endpoint> {
        self.guards
            .get_mut(index)?
            .as_mut()
            .map(|g| &mut g.endpoint)
    }
}

impl<'a> Locked<'a> {
    /// Locks `shards` in the order `order` (the global lock order).
    fn lock(shards: &'a [Arc<Shard>], order: &[usize]) -> Self {
        let mut guards = std::array::from_fn(|_| None);
        for &i in order {
            if !shards[i]
                .port
                .closed
                .load(std::sync::atomic::Ordering::Acquire)
            {
                guards[i] = Some(shards[i].lock());
            }
        }
        Locked { guards }
    }

    /// Marks every engine for its worker's next turn; returns the workers to wake.
    fn touch(&mut self, shards: &[Arc<Shard>]) -> u64 {
        let mut wakes = 0;
        for (g, s) in self.guards.iter_mut().zip(shards) {
            if let Some(g) = g {
                g.dirty = true;
                wakes |= 1 << (s.worker % 64);
            }
        }
        wakes
    }
}

/// What a member's engine event means to its group.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum MemberChange {
    Readable,
    Writable,
    /// Connected, failed or broke.
    State,
}

impl State {
    /// Runs `f` on group `g` with its members' engines locked; marks them
    /// for their workers. `None` for an unknown group.
    fn with_group<R>(
        &mut self,
        g: SrtSocket,
        f: impl FnOnce(&mut Group, &mut Locked<'_>) -> R,
    ) -> Option<R> {
        let gs = self.groups.get_mut(&g)?;
        let GroupState {
            group,
            shards,
            order,
            ..
        } = gs;
        let mut locked = Locked::lock(shards, order);
        let r = f(group, &mut locked);
        let wakes = locked.touch(shards);
        drop(locked);
        self.wakes |= wakes;
        Some(r)
    }

    /// A member socket's engine event: the group's readiness and state follow.
    pub(crate) fn member_changed(&mut self, member: SrtSocket, change: MemberChange) {
        let Some(g) = self.sockets.get(&member).and_then(|s| s.group) else {
            return;
        };
        match change {
            MemberChange::Readable => {
                if let Some(s) = self.sockets.get_mut(&g) {
                    s.readable = true;
                }
            }
            MemberChange::Writable => {
                if let Some(s) = self.sockets.get_mut(&g) {
                    s.writable = true;
                }
            }
            MemberChange::State => self.update_group(g),
        }
        if let Some(s) = self.sockets.get(&g) {
            s.cond.notify_all();
        }
        self.refresh(g);
    }

    /// Follows the members' connections (joins, breaks, backup checks) and
    /// turns the group's events into its state.
    pub(crate) fn update_group(&mut self, g: SrtSocket) {
        self.with_group(g, |group, net| group.handle_timeout(Instant::now(), net));
        self.group_events(g);
    }

    /// The group's events into its state (connected, broken).
    fn group_events(&mut self, g: SrtSocket) {
        let Some(gs) = self.groups.get_mut(&g) else {
            return;
        };
        let (mut connected, mut broken) = (gs.group.is_connected(), false);
        while let Some(e) = gs.group.poll_event() {
            match e {
                GroupEvent::Connected => connected = true,
                GroupEvent::Broken => broken = true,
                _ => {}
            }
        }
        let Some(s) = self.sockets.get_mut(&g) else {
            return;
        };
        if connected && matches!(s.status, SockStatus::Opened | SockStatus::Connecting) {
            s.status = SockStatus::Connected;
            s.was_connected = true;
            s.writable = true;
        }
        if broken && s.status == SockStatus::Connected {
            s.status = SockStatus::Broken;
        }
        if broken && s.status == SockStatus::Connecting {
            s.status = SockStatus::Broken;
        }
        s.cond.notify_all();
        self.refresh(g);
    }

    /// Moves the events of every member shard of `g` into the sockets.
    fn drain_group(&mut self, g: SrtSocket) {
        let n = self.groups.get(&g).map_or(0, |gs| gs.endpoints.len());
        for i in 0..n {
            let Some(&(idx, k)) = self.groups.get(&g).and_then(|gs| gs.endpoints.get(i)) else {
                return;
            };
            self.drain_events(idx, k);
        }
    }

    /// A listener with `SRTO_GROUPCONNECT` accepted socket `id` (connection
    /// `conn` in shard `k` of multiplexer `idx`): what its accept queue
    /// gets: the socket (not a group member), a new group, or nothing (the
    /// socket joined a group already accepted).
    pub(crate) fn admit_member(
        &mut self,
        id: SrtSocket,
        idx: usize,
        k: usize,
        conn: SocketId,
    ) -> Option<SrtSocket> {
        let Some(shard) = self.shard(idx, k) else {
            return Some(id);
        };
        let blocks = {
            let engine = shard.lock();
            engine
                .endpoint
                .connection(conn)
                .and_then(|c| Some((c.group_block()?, c.negotiated().and_then(|n| n.peer_group)?)))
        };
        let Some((own, peer)) = blocks else {
            return Some(id);
        };
        let gid = own.group_id as SrtSocket;
        let key_of = |gs: &mut GroupState| {
            gs.endpoint_of(idx, k, shard.clone()).map(|e| MemberKey {
                endpoint: e,
                socket: conn,
            })
        };
        let queued = if let Some(gs) = self.groups.get_mut(&gid) {
            if let Some(key) = key_of(gs) {
                gs.group.add_member(key, peer.weight);
                gs.members.push(MemberSlot { id, key, token: -1 });
            }
            None
        } else {
            let Some(kind) = GroupType::from_code(peer.group_type) else {
                return Some(id);
            };
            let Some(listener) = self.sockets.get(&id) else {
                return Some(id);
            };
            let opts = listener.opts.clone();
            let isn = SeqNumber::new_truncate(0);
            let mut gs = GroupState::new(
                Group::new(own.group_id, isn, GroupConfig::new(kind, &opts)),
                isn,
            );
            let key = key_of(&mut gs)?;
            gs.group.add_member(key, peer.weight);
            gs.members.push(MemberSlot { id, key, token: -1 });
            gs.opened = true;
            let mut gsock = Sock::new(opts);
            gsock.status = SockStatus::Connected;
            gsock.was_connected = true;
            gsock.writable = true;
            gsock.opened_at = Some(Instant::now());
            gsock.peer = self.sockets.get(&id).and_then(|s| s.peer);
            gsock.group_type = Some(kind);
            self.sockets.insert(gid, gsock);
            self.groups.insert(gid, gs);
            Some(gid)
        };
        // Not returned by `accept`: keep the engine's backlog count in step.
        let _ = shard.lock().endpoint.accept();
        if let Some(s) = self.sockets.get_mut(&id) {
            s.group = Some(gid);
            s.group_type = GroupType::from_code(peer.group_type);
        }
        self.update_group(gid);
        queued
    }

    /// Takes member `id` out of its group (its socket is closing).
    pub(crate) fn leave_group(&mut self, id: SrtSocket, g: SrtSocket) {
        if let Some(gs) = self.groups.get_mut(&g) {
            if let Some(i) = gs.members.iter().position(|m| m.id == id) {
                let m = gs.members.remove(i);
                gs.group.remove_member(m.key);
            }
        }
        self.update_group(g);
    }
}

fn group_err(e: GroupSendError) -> Error {
    match e {
        GroupSendError::NotConnected => Error::Srt(SRT_ENOCONN),
        GroupSendError::Member(SendError::MessageTooLarge { .. }) => Error::Srt(SRT_ELARGEMSG),
        GroupSendError::Member(SendError::WouldBlock) => Error::Srt(SRT_EASYNCSND),
        GroupSendError::Member(_) => Error::Srt(SRT_ECONNLOST),
        _ => Error::Srt(SRT_ECONNLOST),
    }
}

impl Context {
    /// Creates a group of `kind` (`srt_create_group`): an ID with bit 30
    /// set, in state `SRTS_INIT`, with libsrt's default options.
    pub fn create_group(&self, kind: GroupType) -> Result<SrtSocket, Error> {
        let mut isn = [0u8; 4];
        getrandom::fill(&mut isn)
            .map_err(|e| Error::system(SRT_ECONNSETUP, "getrandom", std::io::Error::other(e)))?;
        let isn = SeqNumber::new_truncate(u32::from_le_bytes(isn));
        let mut st = self.lock();
        if st.shutdown {
            return Err(Error::Srt(SRT_ESCLOSED));
        }
        let gid = loop {
            let id = st.new_id() | GROUP_ID_BIT as i32;
            if !st.sockets.contains_key(&id) {
                break id;
            }
        };
        let mut sock = Sock::new(srt_proto::SocketOptions::default());
        sock.group_type = Some(kind);
        let config = GroupConfig::new(kind, &sock.opts);
        st.sockets.insert(gid, sock);
        st.groups.insert(
            gid,
            GroupState::new(Group::new(gid as u32, isn, config), isn),
        );
        Ok(gid)
    }

    /// The group socket `u` is a member of (`srt_groupof`); `SRT_EINVPARAM`
    /// for an unknown socket or one in no group.
    pub fn group_of(&self, u: SrtSocket) -> Result<SrtSocket, Error> {
        let st = self.lock();
        st.sockets
            .get(&u)
            .and_then(|s| s.group)
            .ok_or(Error::Srt(SRT_EINVPARAM))
    }

    /// The members of group `g` and their states (`srt_group_data`);
    /// `SRT_EINVPARAM` for anything but a group.
    pub fn group_data(&self, g: SrtSocket) -> Result<Vec<GroupMemberData>, Error> {
        let st = self.lock();
        let gs = st.groups.get(&g).ok_or(Error::Srt(SRT_EINVPARAM))?;
        let mut out = Vec::with_capacity(gs.members.len());
        for info in gs.group.members() {
            let Some(slot) = gs.members.iter().find(|m| m.key == info.key) else {
                continue;
            };
            let s = st.sockets.get(&slot.id);
            out.push(GroupMemberData {
                id: slot.id,
                peer: s.and_then(|s| s.peer),
                sockstate: s.map_or(SockStatus::NonExist, |s| s.status),
                weight: info.weight,
                memberstate: info.state,
                result: if info.state == MemberState::Broken {
                    -1
                } else {
                    0
                },
                token: slot.token,
            });
        }
        Ok(out)
    }

    /// How many members group `g` has (what `srt_group_data` would list).
    pub fn group_size(&self, g: SrtSocket) -> Result<usize, Error> {
        let st = self.lock();
        let gs = st.groups.get(&g).ok_or(Error::Srt(SRT_EINVPARAM))?;
        Ok(gs.group.members().count())
    }

    /// The group's statistics (counters of what it sent and delivered).
    pub fn group_stats(&self, g: SrtSocket) -> Result<GroupStats, Error> {
        let st = self.lock();
        Ok(st
            .groups
            .get(&g)
            .ok_or(Error::Srt(SRT_EINVSOCK))?
            .group
            .stats())
    }

    /// The group's `srt_bstats`, as libsrt's `CUDTGroup::bstatsSocket`:
    /// the time since it was made, the messages it sent and delivered
    /// once and those it gave up (interval and totals; bytes with 44
    /// bytes of SRT, UDP and IPv4 headers each), everything else 0;
    /// `SRT_ENOCONN` before a member connected.
    pub(crate) fn group_bstats(&self, g: SrtSocket, clear: bool) -> Result<TraceBStats, Error> {
        const HDR: u64 = 44;
        let mut st = self.lock();
        let connected = st.sockets.get(&g).is_some_and(|s| s.was_connected);
        let gs = st.groups.get_mut(&g).ok_or(Error::Srt(SRT_EINVSOCK))?;
        if !connected {
            return Err(Error::Srt(SRT_ENOCONN));
        }
        let (t, b) = (gs.group.stats(), gs.stats_base);
        let mut out = TraceBStats {
            ms_time_stamp: gs.created.elapsed().as_millis() as i64,
            pkt_sent_unique: (t.sent - b.sent) as i64,
            pkt_recv_unique: (t.delivered - b.delivered) as i64,
            pkt_rcv_drop: (t.dropped - b.dropped) as i32,
            byte_sent_unique: t.sent_bytes - b.sent_bytes + HDR * (t.sent - b.sent),
            byte_recv_unique: t.delivered_bytes - b.delivered_bytes
                + HDR * (t.delivered - b.delivered),
            pkt_sent_unique_total: t.sent as i64,
            pkt_recv_unique_total: t.delivered as i64,
            pkt_rcv_drop_total: t.dropped as i32,
            byte_sent_unique_total: t.sent_bytes + HDR * t.sent,
            byte_recv_unique_total: t.delivered_bytes + HDR * t.delivered,
            ..TraceBStats::default()
        };
        // libsrt divides the (zero) byteSent and byteRecv by the interval.
        out.mbps_send_rate = 0.0;
        out.mbps_recv_rate = 0.0;
        if clear {
            gs.stats_base = t;
        }
        Ok(out)
    }

    /// Connects group `g` to every target of `members` at once
    /// (`srt_connect_group`): a member socket for each (the group's
    /// options, then the member's own, bound to its source if any),
    /// connecting in parallel. With the group's `SRTO_RCVSYN`, the first
    /// connect of a group blocks until a member connects (its socket is
    /// returned) or all fail (`SRT_ECONNLOST`); otherwise it returns the
    /// last member started. Each member's ID and error are written back.
    /// `SRT_EINVPARAM` for an empty list, a source of another family than
    /// its target or a weight above [`MAX_WEIGHT`]; `SRT_EINVSOCK` for
    /// anything but a group.
    pub fn connect_group(
        &self,
        g: SrtSocket,
        members: &mut [MemberConfig],
    ) -> Result<SrtSocket, Error> {
        if members.is_empty() {
            return Err(Error::Srt(SRT_EINVPARAM));
        }
        if !is_group(g) {
            return Err(Error::Srt(SRT_EINVSOCK));
        }
        let mut st = self.lock();
        if !st.groups.contains_key(&g) {
            return Err(Error::Srt(SRT_EINVSOCK));
        }
        for m in members.iter() {
            if m.source.is_some_and(|s| s.is_ipv4() != m.target.is_ipv4()) || m.weight > MAX_WEIGHT
            {
                return Err(Error::Srt(SRT_EINVPARAM));
            }
        }
        let gsock = st.sockets.get_mut(&g).ok_or(Error::Srt(SRT_EINVSOCK))?;
        let base = gsock.opts.clone();
        let callback = gsock.connect_callback.take();
        let gs = st.groups.get_mut(&g).expect("checked above");
        let block = !gs.opened && base.driver.rcvsyn;
        if gs.members.is_empty() && !gs.opened {
            // The group options set since it was made (SRTO_GROUPMINSTABLETIMEO, SRTO_SNDBUF).
            let kind = gs.group.kind();
            gs.group = Group::new(g as u32, gs.isn, GroupConfig::new(kind, &base));
        }
        if let Some(cb) = callback {
            gs.callback = Some(Arc::new(Mutex::new(cb)));
        }
        let shared_cb = gs.callback.clone();
        let mut retval = -1;
        let mut spawned = Vec::new();
        for m in members.iter_mut() {
            m.errorcode = 0;
            m.id = -1;
            let id = st.new_id();
            let mut sock = Sock::new(base.clone());
            sock.group = Some(g);
            sock.group_type = st.sockets.get(&g).and_then(|s| s.group_type);
            for (opt, v) in &m.options {
                if let Err(e) = sock.opts.set_in_phase(sock.status.phase(), *opt, v.clone()) {
                    m.errorcode = Error::from(e).code();
                }
            }
            if m.token == -1 {
                st.next_token = st.next_token.wrapping_add(1).max(1);
                m.token = st.next_token;
            }
            if m.errorcode != 0 {
                continue;
            }
            if let Some(cb) = &shared_cb {
                let cb = cb.clone();
                sock.connect_callback = Some(Box::new(move |u, e, a| {
                    let mut f = cb.lock().unwrap_or_else(PoisonError::into_inner);
                    (*f)(u, e, a)
                }));
            }
            st.sockets.insert(id, sock);
            match self.start_member(&mut st, g, id, m) {
                Ok(()) => {
                    m.id = id;
                    retval = id;
                    spawned.push(id);
                }
                Err(e) => {
                    m.errorcode = e.code();
                    st.remove_socket(id, CloseMode::Abort);
                }
            }
        }
        if let Some(gs) = st.groups.get_mut(&g) {
            gs.opened = true;
        }
        if let Some(s) = st.sockets.get_mut(&g) {
            if s.status == SockStatus::Init || s.status == SockStatus::Opened {
                s.status = SockStatus::Connecting;
            }
        }
        self.shared.settle(&mut st);
        if retval == -1 {
            return Err(Error::Srt(SRT_ECONNLOST));
        }
        if !block {
            return Ok(retval);
        }
        loop {
            let Some(gsock) = st.sockets.get(&g) else {
                return Err(Error::Srt(SRT_ESCLOSED));
            };
            if let Some(&first) = spawned.iter().find(|id| {
                st.sockets
                    .get(id)
                    .is_some_and(|s| s.status == SockStatus::Connected)
            }) {
                // The group joins its members on their connected events.
                return Ok(first);
            }
            let alive: Vec<SrtSocket> = spawned
                .iter()
                .copied()
                .filter(|id| {
                    st.sockets
                        .get(id)
                        .is_some_and(|s| s.status == SockStatus::Connecting)
                })
                .collect();
            if alive.is_empty() {
                for id in spawned {
                    st.remove_socket(id, CloseMode::Abort);
                }
                // As a failed blocking connect: open again, never connected.
                if let Some(s) = st.sockets.get_mut(&g) {
                    s.status = SockStatus::Opened;
                }
                st.refresh(g);
                self.shared.settle(&mut st);
                return Err(Error::Srt(SRT_ECONNLOST));
            }
            let cond = gsock.cond.clone();
            st = self
                .wait(st, &cond, Some(Instant::now() + Duration::from_millis(100)))
                .or_else(|e| {
                    if e.code() == SRT_ETIMEOUT {
                        Ok(self.lock())
                    } else {
                        Err(e)
                    }
                })?;
        }
    }

    /// Binds member `id` of group `g` (to its source, or a wildcard of
    /// its target's family) and starts its connection.
    fn start_member(
        &self,
        st: &mut State,
        g: SrtSocket,
        id: SrtSocket,
        m: &MemberConfig,
    ) -> Result<(), Error> {
        let any = match m.target.ip() {
            IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
        };
        self.bind_locked(st, id, m.source.unwrap_or(SocketAddr::new(any, 0)))?;
        let s = st.sockets.get(&id).ok_or(Error::Srt(SRT_EINVSOCK))?;
        s.opts.validate_for_connect(s.status.phase())?;
        let opts = s.opts.clone();
        let idx = s.mux.ok_or(Error::Srt(SRT_EUNBOUNDSOCK))?;
        let mux = st.muxes[idx].as_ref().ok_or(Error::Srt(SRT_EINVOP))?;
        if mux.local.is_ipv4() != m.target.is_ipv4() {
            return Err(Error::Srt(SRT_EINVPARAM));
        }
        let k = crate::shard::shard_of(m.target, mux.shards.len());
        let shard = mux.shards[k].clone();
        let gs = st.groups.get_mut(&g).ok_or(Error::Srt(SRT_EINVSOCK))?;
        let e = gs
            .endpoint_of(idx, k, shard.clone())
            .ok_or(Error::Srt(SRT_ERESOURCE))?;
        let target = MemberTarget {
            endpoint: e,
            remote: m.target,
            weight: m.weight,
        };
        let keys = {
            let mut engine = shard.lock();
            let now = Instant::now();
            gs.group
                .connect(now, &mut engine.endpoint, &[target], &opts)
                .map_err(|e| match e {
                    GroupConnectError::NotLive => Error::Srt(SRT_EINVPARAM),
                    _ => Error::Srt(SRT_ERESOURCE),
                })?
        };
        let key = keys[0];
        gs.members.push(MemberSlot {
            id,
            key,
            token: m.token,
        });
        if let Some(mux) = st.muxes[idx].as_mut() {
            mux.by_conn.insert((k, key.socket), id);
        }
        let s = st.sockets.get_mut(&id).expect("checked above");
        s.conn = Some(key.socket);
        s.shard = k;
        s.peer = Some(m.target);
        s.status = SockStatus::Connecting;
        st.drain_events(idx, k);
        st.refresh(id);
        Ok(())
    }

    /// Sends one message on group `g` (`srt_sendmsg2` on a group): on
    /// every running member (broadcast) or the active one (backup).
    pub(crate) fn group_sendmsg(
        &self,
        g: SrtSocket,
        buf: &[u8],
        ctrl: &MsgCtrl,
    ) -> Result<Sent, Error> {
        let mut st = self.lock();
        let mut deadline = None;
        loop {
            let s = st.sockets.get(&g).ok_or(Error::Srt(SRT_EINVSOCK))?;
            match s.status {
                SockStatus::Connected => {}
                SockStatus::Broken => return Err(Error::Srt(SRT_ECONNLOST)),
                _ => return Err(Error::Srt(SRT_ENOCONN)),
            }
            crate::context::check_live_call(&s.opts, buf.len(), true)?;
            let (blocking, timeout) = (s.opts.driver.sndsyn, s.opts.driver.sndtimeo);
            let now = Instant::now();
            let result = st
                .with_group(g, |group, net| group.send(now, net, buf, ctrl))
                .ok_or(Error::Srt(SRT_EINVSOCK))?;
            if matches!(result, Err(GroupSendError::Member(SendError::WouldBlock))) {
                if let Some(s) = st.sockets.get_mut(&g) {
                    s.writable = false;
                }
            }
            st.group_events(g);
            st.drain_group(g);
            st.refresh(g);
            self.shared.settle(&mut st);
            match result {
                Ok(sent) => {
                    return Ok(Sent {
                        len: buf.len(),
                        first_seq: Some(sent.seq),
                        msgno: Some(sent.msgno),
                        origin: ctrl.srctime.unwrap_or(now),
                    })
                }
                Err(GroupSendError::Member(SendError::WouldBlock)) if blocking => {}
                Err(e) => return Err(group_err(e)),
            }
            let d = *deadline.get_or_insert_with(|| timeout.map(|t| Instant::now() + t));
            let cond = st.sockets[&g].cond.clone();
            if st.sockets[&g].writable {
                continue;
            }
            // As libsrt's group send: its timeout is SRT_EASYNCSND.
            st = self.wait(st, &cond, d).map_err(|e| match e.code() {
                SRT_ETIMEOUT => Error::Srt(SRT_EASYNCSND),
                _ => e,
            })?;
        }
    }

    /// Receives the next message of group `g` (`srt_recvmsg2` on a
    /// group): each sequence number once, from whichever member has it.
    pub(crate) fn group_recvmsg(&self, g: SrtSocket, buf: &mut [u8]) -> Result<RecvInfo, Error> {
        let mut st = self.lock();
        let mut deadline = None;
        loop {
            let s = st.sockets.get(&g).ok_or(Error::Srt(SRT_EINVSOCK))?;
            match s.status {
                SockStatus::Connected | SockStatus::Broken => {}
                _ => return Err(Error::Srt(SRT_ENOCONN)),
            }
            crate::context::check_live_call(&s.opts, buf.len(), false)?;
            let (status, blocking, timeout) =
                (s.status, s.opts.driver.rcvsyn, s.opts.driver.rcvtimeo);
            let (info, more) = st
                .with_group(g, |group, net| {
                    let now = Instant::now();
                    let info = group.recv(now, net, buf);
                    // Re-arm each member's readable signal (or learn that
                    // more waits) so that level-triggered readiness stays exact.
                    let mut more = false;
                    for m in group.members() {
                        if let Some(ep) = net.endpoint_mut(m.key.endpoint) {
                            more |= ep.recv_ready(now, m.key.socket);
                        }
                    }
                    (info, more && info.is_some())
                })
                .ok_or(Error::Srt(SRT_EINVSOCK))?;
            if let Some(s) = st.sockets.get_mut(&g) {
                s.readable = more;
            }
            st.group_events(g);
            st.drain_group(g);
            st.refresh(g);
            self.shared.settle(&mut st);
            if let Some(info) = info {
                return Ok(info);
            }
            if status == SockStatus::Broken {
                return Err(Error::Srt(SRT_ECONNLOST));
            }
            if !blocking {
                return Err(Error::Srt(SRT_EASYNCRCV));
            }
            let d = *deadline.get_or_insert_with(|| timeout.map(|t| Instant::now() + t));
            let Some(s) = st.sockets.get(&g) else {
                return Err(Error::Srt(SRT_ECONNLOST));
            };
            if s.readable || s.status != SockStatus::Connected {
                continue;
            }
            let cond = s.cond.clone();
            // libsrt's group receive reports its timeout as SRT_EASYNCRCV.
            st = self.wait(st, &cond, d).map_err(|e| match e.code() {
                SRT_ETIMEOUT => Error::Srt(SRT_EASYNCRCV),
                _ => e,
            })?;
            if !st.sockets.contains_key(&g) {
                return Err(Error::Srt(SRT_ECONNLOST));
            }
        }
    }

    /// Closes group `g` and every member (`srt_close` on a group).
    pub(crate) fn close_group(&self, g: SrtSocket) -> Result<(), Error> {
        let mut st = self.lock();
        if !st.groups.contains_key(&g) {
            return Err(Error::Srt(SRT_EINVSOCK));
        }
        st.with_group(g, |group, net| {
            group.close(Instant::now(), net, CloseMode::Linger)
        });
        let Some(gs) = st.groups.remove(&g) else {
            return Ok(());
        };
        for m in &gs.members {
            if let Some(s) = st.sockets.get_mut(&m.id) {
                s.group = None;
            }
            st.remove_socket(m.id, CloseMode::Linger);
        }
        st.remove_socket(g, CloseMode::Abort);
        self.shared.settle(&mut st);
        Ok(())
    }

    /// Sets an option on group `g` (`srt_setsockopt` on a group), as
    /// libsrt's `CUDTGroup::setOpt`: read-only, socket- or link-specific
    /// options and the transmission type are `SRT_EINVPARAM`, so is
    /// `SRTO_GROUPMINSTABLETIMEO` below 60 ms or above the group's
    /// `SRTO_PEERIDLETIMEO`; once the group connected, only options
    /// libsrt lets change on a connected socket (`SRT_ECONNSOCK`), which
    /// then reach every member at once. Members started later take the
    /// group's options.
    pub(crate) fn group_set_option(
        &self,
        g: SrtSocket,
        opt: SockOpt,
        value: OptionValue,
    ) -> Result<(), Error> {
        use srt_proto::options::SocketPhase;
        use SockOpt as O;
        if matches!(
            opt,
            O::Isn
                | O::State
                | O::Event
                | O::SndData
                | O::RcvData
                | O::KmState
                | O::Version
                | O::PeerVersion
                | O::SndKmState
                | O::RcvKmState
                | O::GroupType
                | O::Sender
                | O::Ipv6Only
                | O::Rendezvous
                | O::BindToDevice
                | O::GroupConnect
                | O::TransType
                | O::TsbpdMode
                | O::Congestion
        ) {
            return Err(Error::Srt(SRT_EINVPARAM));
        }
        let mut st = self.lock();
        let opened = st.groups.get(&g).ok_or(Error::Srt(SRT_EINVSOCK))?.opened;
        let s = st.sockets.get(&g).ok_or(Error::Srt(SRT_EINVSOCK))?;
        if opt == O::GroupMinStableTimeo {
            let ms = match value {
                OptionValue::Int(v) => i64::from(v),
                OptionValue::Int64(v) => v,
                _ => return Err(Error::Srt(SRT_EINVPARAM)),
            };
            let idle = s.opts.peeridletimeo.as_millis() as i64;
            if ms < srt_proto::options::MIN_GROUP_STABLE_TIMEO.as_millis() as i64 || ms > idle {
                return Err(Error::Srt(SRT_EINVPARAM));
            }
        }
        if opened {
            srt_proto::SocketOptions::check_settable(opt, SocketPhase::Connected)
                .map_err(|_| Error::Srt(SRT_ECONNSOCK))?;
            let n = st.groups.get(&g).map_or(0, |gs| gs.members.len());
            for i in 0..n {
                let Some(m) = st
                    .groups
                    .get(&g)
                    .and_then(|gs| gs.members.get(i))
                    .map(|m| m.id)
                else {
                    break;
                };
                if let Some(ms) = st.sockets.get_mut(&m) {
                    let phase = ms.status.phase();
                    if ms.opts.set_in_phase(phase, opt, value.clone()).is_ok() {
                        self.apply_to_engine(&mut st, m, Some(opt));
                    }
                }
            }
        }
        let s = st.sockets.get_mut(&g).ok_or(Error::Srt(SRT_EINVSOCK))?;
        s.opts.set(opt, value)?;
        Ok(())
    }

    /// `SRTO_GROUPTYPE` of `u`: a group's type (read from its first member
    /// as libsrt does: `SRT_EINVPARAM` without members), the type of a
    /// member's group, else 0 (`SRT_GTYPE_UNDEFINED`).
    pub(crate) fn group_type_of(&self, u: SrtSocket) -> Result<OptionValue, Error> {
        let st = self.lock();
        let s = st.sockets.get(&u).ok_or(Error::Srt(SRT_EINVSOCK))?;
        if st.groups.get(&u).is_some_and(|g| g.members.is_empty()) {
            return Err(Error::Srt(SRT_EINVPARAM));
        }
        Ok(OptionValue::Int(
            s.group_type.map_or(0, |k| i32::from(k.code())),
        ))
    }
}
