//! Everything on one UDP port: demultiplexing by destination socket ID, the
//! listener (stateless induction with SYN cookies, accept queue, accept
//! hook), caller and rendezvous connections.

use crate::connection::{
    CloseMode, ConnState, Connection, Event, RecvInfo, SocketConfig, Transmit,
};
use crate::handshake::HS_VERSION_5;
use crate::options::{SockOpt, SocketOptions};
use crate::packet::{
    ControlBody, ControlPacket, GroupBlock, Handshake, HandshakeType, HsExtension, Packet,
    RejectReason, SocketId, HANDSHAKE_LEN, HEADER_LEN, HS_MAGIC,
};
use crate::rng::SecretRng;
use crate::seq::{SeqNumber, Timestamp};
use crate::stats::TraceBStats;
use crate::transfer::{MsgCtrl, RecvError, SendError, Sent};
use hmac::{Hmac, Mac};
use idmap::IdMap;
use sha1::Sha1;
use std::collections::{BTreeMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};
use timers::Schedule;

mod config;
mod idmap;
mod incoming;
mod timers;

pub use config::{AcceptHook, ConnectionRequest, EndpointConfig, EndpointError, EndpointStats};
use incoming::{Admission, Deferred};
pub use incoming::{IncomingError, IncomingId};

/// The largest socket ID libsrt hands out (bit 30 marks groups).
const MAX_SOCKET_ID: u32 = (1 << 30) - 2;
/// How long one SYN cookie secret period lasts (libsrt: one minute).
const COOKIE_PERIOD: Duration = Duration::from_secs(60);
/// The size of a stateless reply: header + 48-byte handshake, no blocks.
const STATELESS_LEN: usize = HEADER_LEN + HANDSHAKE_LEN;

struct Listener {
    options: SocketOptions,
    backlog: usize,
    accept_queue: VecDeque<SocketId>,
    hook: Option<AcceptHook>,
    /// Requests held for the application (`listen_deferred`).
    deferred: Option<Deferred>,
    /// Mirror groups (`SRTO_GROUPCONNECT`): our group ID for a peer group.
    mirrors: crate::group::MirrorKey,
}

/// All SRT sockets on one UDP port: the engine a driver runs.
///
/// An endpoint owns no socket and reads no clock. A driver owns the UDP
/// socket and calls, in a loop:
///
/// 1. [`poll_transmit`](Self::poll_transmit) until `None`, sending each
///    datagram to its [`Transmit::destination`];
/// 2. [`poll_event`](Self::poll_event) until `None`, acting on each
///    [`Event`]: `Connected` (a caller's or rendezvous handshake is done:
///    send), `Accepted` (a listener queued a connection: take it with
///    [`accept`](Self::accept)), `Readable` (a message waits for
///    [`recv`](Self::recv)), `Writable` (the send buffer has room after a
///    refused [`send`](Self::send)), `ConnectFailed` (refused or timed out,
///    with libsrt's [`RejectReason`]), `Broken` (an established connection
///    died, with its [`BreakCause`](crate::BreakCause)), `Closed` (a closed
///    socket is gone);
/// 3. waits for a datagram until [`poll_timeout`](Self::poll_timeout),
///    handing any that comes to [`handle_datagram`](Self::handle_datagram);
/// 4. [`handle_timeout`](Self::handle_timeout).
///
/// Calls that act on a socket ([`connect`](Self::connect),
/// [`send`](Self::send), [`recv`](Self::recv), [`close`](Self::close))
/// may come at any point; what they produce is picked up by steps 1 and 2.
///
/// `now`, in every call, is a fresh reading of a monotonic clock
/// ([`Instant::now`] on a real network, the simulated clock in the
/// simulator of feature `sim`) and never earlier than the last `now` given. The
/// [`EndpointConfig::new`] entropy is 32 bytes from the operating system,
/// fresh for each endpoint: socket IDs, sequence numbers, SYN cookies,
/// salts and session keys all come from it.
///
/// A complete caller over [`std::net::UdpSocket`] (`examples/udp_caller.rs`,
/// which an interop test also runs against libsrt's srt-live-transmit):
///
/// ```no_run
#[doc = include_str!("../examples/udp_caller.rs")]
/// ```
pub struct Endpoint {
    config: EndpointConfig,
    local: SocketAddr,
    epoch: Instant,
    /// The endpoint's generator: every random value comes from it.
    rng: SecretRng,
    cookie_key: [u8; 32],
    next_socket_id: u32,
    /// Boxed: a connection is about 16 KB, the table holds pointers.
    connections: IdMap<Box<Connection>>,
    /// Rendezvous connections by peer address (their packets may come to socket 0).
    rendezvous: BTreeMap<SocketAddr, SocketId>,
    /// Accepted connections by (caller address, caller socket ID).
    accepted: BTreeMap<(SocketAddr, u32), SocketId>,
    listener: Option<Listener>,
    stateless: VecDeque<(SocketAddr, [u8; STATELESS_LEN])>,
    events: VecDeque<Event>,
    stats: EndpointStats,
    /// When each connection is due, and which may transmit.
    schedule: Schedule,
    /// Connections handed out by [`Endpoint::connection_mut`], not yet
    /// refreshed in the schedule.
    dirty: Vec<SocketId>,
    /// Connections due in the current [`Endpoint::handle_timeout`] (reused).
    due: Vec<SocketId>,
    /// Connections visited by `handle_timeout` and `poll_transmit`.
    visits: u64,
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint")
            .field("local", &self.local)
            .field("connections", &self.connections.len())
            .field("listening", &self.listener.is_some())
            .field("stats", &self.stats)
            .finish()
    }
}

impl Endpoint {
    /// An endpoint for the UDP socket bound at `local`, starting at `now`.
    pub fn new(config: EndpointConfig, local: SocketAddr, now: Instant) -> Self {
        let mut rng = config.rng();
        let mut cookie_key = [0u8; 32];
        rng.fill_bytes(&mut cookie_key);
        let next_socket_id = 1 + rng.next_u32() % MAX_SOCKET_ID;
        let stateless = VecDeque::with_capacity(config.max_stateless_replies);
        Endpoint {
            config,
            local,
            epoch: now,
            rng,
            cookie_key,
            next_socket_id,
            connections: IdMap::default(),
            rendezvous: BTreeMap::new(),
            accepted: BTreeMap::new(),
            listener: None,
            stateless,
            events: VecDeque::new(),
            stats: EndpointStats::default(),
            schedule: Schedule::default(),
            dirty: Vec::new(),
            due: Vec::new(),
            visits: 0,
        }
    }

    /// The local address of the UDP socket.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// Counters of dropped and stateless traffic.
    pub fn stats(&self) -> EndpointStats {
        self.stats
    }

    /// The number of connections held (any state).
    pub fn connection_count(&self) -> usize {
        self.connections.len()
    }

    /// A connection, for its state, peer, stream ID or reject reason.
    pub fn connection(&self, id: SocketId) -> Option<&Connection> {
        self.connections.get(&id).map(|c| &**c)
    }

    /// Mutable access to a connection. Its timers are taken in again at
    /// the next `handle_timeout` or `poll_transmit`.
    pub fn connection_mut(&mut self, id: SocketId) -> Option<&mut Connection> {
        let conn = self.connections.get_mut(&id)?;
        if !self.dirty.contains(&id) {
            self.dirty.push(id);
        }
        Some(conn)
    }

    /// How many times `handle_timeout` and `poll_transmit` have visited a
    /// connection: the work of driver turns, for tests and benchmarks.
    pub fn connection_visits(&self) -> u64 {
        self.visits
    }

    /// Takes a connection's timers and transmissions into the schedule.
    fn refresh(&mut self, id: SocketId, now: Instant) {
        if let Some(conn) = self.connections.get(&id) {
            self.schedule.refresh(id, conn, now);
        }
    }

    /// Refreshes the connections handed out by `connection_mut`, and
    /// forgets those closed there with nothing left to send (a group's
    /// `close` on a broken member: no timer would visit it again).
    fn refresh_dirty(&mut self, now: Instant) {
        while let Some(id) = self.dirty.pop() {
            self.collect_events(id, now);
        }
    }

    /// A fresh socket ID: libsrt starts at a random value and counts down.
    fn new_socket_id(&mut self) -> Result<SocketId, EndpointError> {
        if self.connections.len() >= self.config.max_connections {
            return Err(EndpointError::TooManyConnections);
        }
        loop {
            let id = SocketId(self.next_socket_id);
            self.next_socket_id = if self.next_socket_id <= 1 {
                MAX_SOCKET_ID
            } else {
                self.next_socket_id - 1
            };
            if !self.connections.contains_key(&id) {
                return Ok(id);
            }
        }
    }

    fn new_isn(&mut self) -> SeqNumber {
        SeqNumber::new_truncate(self.rng.next_u32())
    }

    /// Starts connecting to a listener at `remote`.
    pub fn connect(
        &mut self,
        now: Instant,
        remote: SocketAddr,
        options: &SocketOptions,
    ) -> Result<SocketId, EndpointError> {
        self.connect_with_isn(now, remote, options, None)
    }

    /// [`Endpoint::connect`] with a chosen initial sequence number
    /// (`srt_connect_debug`'s forced ISN); `None` draws one at random.
    pub fn connect_with_isn(
        &mut self,
        now: Instant,
        remote: SocketAddr,
        options: &SocketOptions,
        isn: Option<SeqNumber>,
    ) -> Result<SocketId, EndpointError> {
        self.connect_config(now, remote, SocketConfig::from(options), isn)
    }

    fn connect_config(
        &mut self,
        now: Instant,
        remote: SocketAddr,
        config: SocketConfig,
        isn: Option<SeqNumber>,
    ) -> Result<SocketId, EndpointError> {
        let id = self.new_socket_id()?;
        let isn = isn.unwrap_or_else(|| self.new_isn());
        let rng = self.rng.fork();
        let conn = Connection::connect(now, id, remote, isn, config, rng);
        self.connections.insert(id, Box::new(conn));
        self.refresh(id, now);
        Ok(id)
    }

    /// Starts connecting a socket group's member to a listener at `remote`
    /// (with `SRTO_GROUPCONNECT`) from the group's sequence number `isn`:
    /// its CONCLUSION carries `group` (see
    /// [`Group::member_block`](crate::group::Group::member_block)).
    pub fn connect_member(
        &mut self,
        now: Instant,
        remote: SocketAddr,
        options: &SocketOptions,
        group: GroupBlock,
        isn: SeqNumber,
    ) -> Result<SocketId, EndpointError> {
        let mut config = SocketConfig::from(options);
        config.handshake.group = Some(group);
        self.connect_config(now, remote, config, Some(isn))
    }

    /// A new socket group of `config` with an ID and an initial sequence
    /// number from the endpoint's generator.
    pub fn new_group(&mut self, config: crate::group::GroupConfig) -> crate::group::Group {
        let id = self.new_group_id();
        let isn = self.new_isn();
        crate::group::Group::new(id, isn, config)
    }

    /// A fresh socket group ID from the endpoint's generator, with libsrt's
    /// group bit (`SRTGROUP_MASK`, bit 30) set.
    pub fn new_group_id(&mut self) -> u32 {
        crate::group::GROUP_ID_BIT | (1 + self.rng.next_u32() % MAX_SOCKET_ID)
    }

    /// Sets the key from which this listener derives its mirror group
    /// IDs (see [`crate::group`]): listeners given the same key answer the
    /// members of one peer group with the same group, so members may
    /// arrive on any of them (libsrt's `srt_accept_bond`). A listener
    /// starts with a secret key of its own. Nothing without a listener.
    pub fn set_group_key(&mut self, key: [u8; 32]) {
        if let Some(l) = &mut self.listener {
            l.mirrors = crate::group::MirrorKey::new(key);
        }
    }

    /// Starts a rendezvous with `remote`, which must do the same towards us.
    pub fn rendezvous(
        &mut self,
        now: Instant,
        remote: SocketAddr,
        options: &SocketOptions,
    ) -> Result<SocketId, EndpointError> {
        self.rendezvous_with_isn(now, remote, options, None)
    }

    /// [`Endpoint::rendezvous`] with a chosen initial sequence number;
    /// `None` draws one at random.
    pub fn rendezvous_with_isn(
        &mut self,
        now: Instant,
        remote: SocketAddr,
        options: &SocketOptions,
        isn: Option<SeqNumber>,
    ) -> Result<SocketId, EndpointError> {
        if self.rendezvous.contains_key(&remote) {
            return Err(EndpointError::RendezvousInProgress(remote));
        }
        let id = self.new_socket_id()?;
        let isn = isn.unwrap_or_else(|| self.new_isn());
        let cookie = self.rng.next_u32();
        let rng = self.rng.fork();
        let config = SocketConfig::from(options);
        let conn = Connection::rendezvous(now, id, remote, isn, cookie, config, rng);
        self.connections.insert(id, Box::new(conn));
        self.rendezvous.insert(remote, id);
        self.refresh(id, now);
        Ok(id)
    }

    /// Starts listening: callers' handshakes to this port are answered with
    /// `options`; at most `backlog` accepted connections wait in the queue.
    pub fn listen(&mut self, options: &SocketOptions, backlog: usize) -> Result<(), EndpointError> {
        if self.listener.is_some() {
            return Err(EndpointError::AlreadyListening);
        }
        // The cookie key, under another label: no draw from the generator.
        let key = self.cookie_key;
        self.listener = Some(Listener {
            options: options.for_accepted(),
            backlog: backlog.max(1),
            accept_queue: VecDeque::new(),
            hook: None,
            deferred: None,
            mirrors: crate::group::MirrorKey::new(key),
        });
        Ok(())
    }

    /// Starts listening as [`listen`](Self::listen) does, but holds each
    /// caller that answered the induction (its SYN cookie is good) as an
    /// [`Event::Incoming`] until the application calls
    /// [`accept_incoming`](Self::accept_incoming) or
    /// [`refuse_incoming`](Self::refuse_incoming); at most `backlog`
    /// requests wait, more are refused with `SRT_REJ_BACKLOG`. The caller
    /// repeats its CONCLUSION meanwhile; a request whose caller has been
    /// silent for 2 s is forgotten.
    pub fn listen_deferred(
        &mut self,
        options: &SocketOptions,
        backlog: usize,
    ) -> Result<(), EndpointError> {
        self.listen(options, backlog)?;
        if let Some(l) = &mut self.listener {
            l.deferred = Some(Deferred::default());
        }
        Ok(())
    }

    /// A request held by a deferring listener: who calls, with what.
    pub fn incoming(&self, id: IncomingId) -> Option<ConnectionRequest<'_>> {
        let p = self
            .listener
            .as_ref()?
            .deferred
            .as_ref()?
            .pending
            .get(&id)?;
        Some(ConnectionRequest::new(p.key.0, &p.hs))
    }

    /// Accepts a held request with `options` for the new socket (`None`:
    /// the listener's); the new socket is returned, not queued for
    /// [`accept`](Self::accept). It starts as of when the caller's latest
    /// CONCLUSION arrived, so that its clock matches the caller's.
    pub fn accept_incoming(
        &mut self,
        now: Instant,
        id: IncomingId,
        options: Option<&SocketOptions>,
    ) -> Result<SocketId, IncomingError> {
        let listener = self.listener.as_mut().ok_or(IncomingError::Unknown(id))?;
        let conn_timeout = listener.options.effective_conn_timeout();
        let options = options.map_or_else(|| listener.options.clone(), |o| o.for_accepted());
        let deferred = listener
            .deferred
            .as_mut()
            .ok_or(IncomingError::Unknown(id))?;
        let p = deferred.take(id).ok_or(IncomingError::Unknown(id))?;
        if p.given_up(now, conn_timeout) {
            return Err(IncomingError::Expired(id));
        }
        match self.admit(p.arrived, p.key.0, p.ts, &p.hs, &options) {
            Ok(sock) => {
                self.refresh(sock, now);
                Ok(sock)
            }
            Err(reason) => {
                self.refuse_held(now, p.key, &p.hs, reason);
                Err(IncomingError::Refused(reason))
            }
        }
    }

    /// Refuses a held request: the caller sees `reason` (for example
    /// `RejectReason::Server(1403)`, libsrt's `SRT_REJX_FORBIDDEN`).
    pub fn refuse_incoming(
        &mut self,
        now: Instant,
        id: IncomingId,
        reason: RejectReason,
    ) -> Result<(), IncomingError> {
        let p = self
            .listener
            .as_mut()
            .and_then(|l| l.deferred.as_mut())
            .and_then(|d| d.take(id))
            .ok_or(IncomingError::Unknown(id))?;
        self.refuse_held(now, p.key, &p.hs, reason);
        Ok(())
    }

    /// Refuses a held request and remembers it for the caller's repeats.
    fn refuse_held(
        &mut self,
        now: Instant,
        key: incoming::CallerKey,
        hs: &Handshake,
        reason: RejectReason,
    ) {
        if let Some(d) = self.listener.as_mut().and_then(|l| l.deferred.as_mut()) {
            d.remember_refusal(now, key, reason);
        }
        self.reject(now, key.0, hs, reason);
    }

    /// Stops listening; queued, not yet accepted connections are closed.
    pub fn stop_listening(&mut self, now: Instant) {
        if let Some(listener) = self.listener.take() {
            for id in listener.accept_queue {
                let _ = self.close(now, id, CloseMode::Abort);
            }
            // Callers still waiting for a decision hear that the listener closed.
            for (_, p) in listener.deferred.into_iter().flat_map(|d| d.pending) {
                self.reject(now, p.key.0, &p.hs, RejectReason::Close);
            }
        }
    }

    /// Sets or clears the accept hook of the listener.
    pub fn set_accept_hook(&mut self, hook: Option<AcceptHook>) -> Result<(), EndpointError> {
        match &mut self.listener {
            Some(l) => {
                l.hook = hook;
                Ok(())
            }
            None => Err(EndpointError::UnknownSocket(SocketId(0))),
        }
    }

    /// The next accepted connection, if one is waiting.
    pub fn accept(&mut self) -> Option<SocketId> {
        self.listener.as_mut()?.accept_queue.pop_front()
    }

    /// Closes a socket (see [`CloseMode`]); it is forgotten once its last
    /// packet has been sent.
    pub fn close(
        &mut self,
        now: Instant,
        id: SocketId,
        mode: CloseMode,
    ) -> Result<(), EndpointError> {
        let conn = self
            .connections
            .get_mut(&id)
            .ok_or(EndpointError::UnknownSocket(id))?;
        conn.close(now, mode);
        if let Some(l) = &mut self.listener {
            l.accept_queue.retain(|q| *q != id);
        }
        self.collect_events(id, now);
        Ok(())
    }

    /// Queues a message on a connected socket; returns the bytes taken.
    pub fn send(
        &mut self,
        now: Instant,
        id: SocketId,
        payload: &[u8],
        ctrl: &MsgCtrl,
    ) -> Result<usize, SendError> {
        self.send_msg(now, id, payload, ctrl).map(|s| s.len)
    }

    /// [`Endpoint::send`], telling how the message was numbered.
    pub fn send_msg(
        &mut self,
        now: Instant,
        id: SocketId,
        payload: &[u8],
        ctrl: &MsgCtrl,
    ) -> Result<Sent, SendError> {
        let conn = self
            .connections
            .get_mut(&id)
            .ok_or(SendError::NotConnected)?;
        let result = conn.send_msg(now, payload, ctrl);
        if collect(&mut self.events, &mut self.schedule, id, conn, now) {
            self.forget(id);
        }
        result
    }

    /// Applies the options that may change on a connected socket (see
    /// [`Connection::apply_options`]; `set`: the option just set, if one
    /// was) and takes the connection's new timing into the schedule.
    pub fn apply_options(
        &mut self,
        now: Instant,
        id: SocketId,
        options: &SocketOptions,
        set: Option<SockOpt>,
    ) -> Result<(), EndpointError> {
        self.connections
            .get_mut(&id)
            .ok_or(EndpointError::UnknownSocket(id))?
            .apply_options(options, set);
        self.refresh(id, now);
        Ok(())
    }

    /// The next message due on a socket, copied into `out`.
    pub fn recv(
        &mut self,
        now: Instant,
        id: SocketId,
        out: &mut [u8],
    ) -> Result<Option<RecvInfo>, RecvError> {
        let conn = self
            .connections
            .get_mut(&id)
            .ok_or(RecvError::NotConnected)?;
        let result = conn.recv(now, out);
        if collect(&mut self.events, &mut self.schedule, id, conn, now) {
            self.forget(id);
        }
        result
    }

    /// Whether [`recv`](Self::recv) on a socket would deliver now (see
    /// [`Connection::recv_ready`]); false for an unknown socket.
    pub fn recv_ready(&mut self, now: Instant, id: SocketId) -> bool {
        let (ready, moved) = self
            .connections
            .get_mut(&id)
            .map_or((false, false), |c| c.recv_ready_moved(now));
        // Re-arming the readable signal can bring a delivery timer back;
        // most calls move nothing (a driver asks after every delivery).
        if moved {
            self.refresh(id, now);
        }
        ready
    }

    /// A socket's statistics (`srt_bstats`: buffer fields are moving averages); `clear` starts a new interval.
    pub fn socket_stats(&mut self, now: Instant, id: SocketId, clear: bool) -> Option<TraceBStats> {
        self.socket_stats_instant(now, id, clear, false)
    }

    /// A socket's statistics (`srt_bistats`): with `instantaneous`, the buffer fields are current values, else moving averages.
    pub fn socket_stats_instant(
        &mut self,
        now: Instant,
        id: SocketId,
        clear: bool,
        instantaneous: bool,
    ) -> Option<TraceBStats> {
        let stats = self
            .connections
            .get_mut(&id)?
            .stats_instant(now, clear, instantaneous);
        self.refresh(id, now);
        stats
    }

    /// Handles one datagram that arrived from `remote`.
    pub fn handle_datagram(&mut self, now: Instant, remote: SocketAddr, datagram: &[u8]) {
        let packet = match Packet::decode(datagram) {
            Ok(p) => p,
            Err(_) => {
                self.stats.malformed += 1;
                self.undecodable(remote, datagram);
                return;
            }
        };
        let dest = packet.dest_socket();
        if dest.0 != 0 {
            match self.connections.get_mut(&dest) {
                Some(conn) => {
                    conn.handle_packet(now, remote, &packet);
                    if collect(&mut self.events, &mut self.schedule, dest, conn, now) {
                        self.forget(dest);
                    }
                }
                None => self.stats.unknown_socket += 1,
            }
            return;
        }
        let Packet::Control(ControlPacket {
            body: ControlBody::Handshake(hs),
            timestamp: ts,
            ..
        }) = &packet
        else {
            self.stats.unexpected_handshake += 1;
            return;
        };
        // Socket 0: a rendezvous peer that does not know our ID yet, or a
        // caller talking to the listener.
        if let Some(&id) = self.rendezvous.get(&remote) {
            if let Some(conn) = self.connections.get_mut(&id) {
                conn.handle_packet(now, remote, &packet);
                self.collect_events(id, now);
                return;
            }
        }
        if self.listener.is_none() {
            self.stats.unexpected_handshake += 1;
            return;
        }
        match hs.req_type {
            HandshakeType::Induction => self.answer_induction(now, remote, hs),
            HandshakeType::Conclusion => self.handle_conclusion(now, remote, *ts, hs),
            _ => self.stats.unexpected_handshake += 1,
        }
    }

    /// A datagram that did not decode: if its header is that of a control
    /// packet for one of our connections, that connection counts it.
    fn undecodable(&mut self, remote: SocketAddr, datagram: &[u8]) {
        let Some(header) = datagram.get(..crate::packet::HEADER_LEN) else {
            return;
        };
        let word =
            |i: usize| u32::from_be_bytes([header[i], header[i + 1], header[i + 2], header[i + 3]]);
        let w0 = word(0);
        let dest = SocketId(word(12));
        if w0 & 0x8000_0000 == 0 || dest.0 == 0 {
            return;
        }
        if let Some(conn) = self.connections.get_mut(&dest) {
            conn.handle_undecodable_control(remote, ((w0 >> 16) & 0x7FFF) as u16, w0 as u16);
        }
    }

    /// The control packets from its peer that a socket checked and ignored
    /// so far (see [`RejectedControl`](crate::stats::RejectedControl)).
    pub fn socket_rejected_control(&self, id: SocketId) -> Option<crate::stats::RejectedControl> {
        self.connections.get(&id).map(|c| c.rejected_control())
    }

    /// The SYN cookie of `remote` in cookie period `period`.
    fn cookie(&self, remote: SocketAddr, period: u64) -> u32 {
        let mut mac = <Hmac<Sha1> as Mac>::new_from_slice(&self.cookie_key)
            .expect("HMAC takes a key of any length");
        match remote.ip() {
            IpAddr::V4(ip) => mac.update(&ip.octets()),
            IpAddr::V6(ip) => mac.update(&ip.octets()),
        }
        mac.update(&remote.port().to_be_bytes());
        mac.update(&period.to_be_bytes());
        let tag = mac.finalize().into_bytes();
        u32::from_be_bytes([tag[0], tag[1], tag[2], tag[3]])
    }

    fn cookie_period(&self, now: Instant) -> u64 {
        (now.saturating_duration_since(self.epoch).as_secs()) / COOKIE_PERIOD.as_secs()
    }

    /// Answers an induction without keeping any state: the caller's request
    /// echoed with version 5, the SRT magic and our cookie (core.cpp:11660).
    fn answer_induction(&mut self, now: Instant, remote: SocketAddr, hs: &Handshake) {
        self.stats.inductions += 1;
        let cookie = self.cookie(remote, self.cookie_period(now));
        // A listener with a passphrase advertises its key length ÷ 8.
        let encryption_field = match &self.listener {
            Some(l) if l.options.passphrase.is_some() => {
                u16::from(l.options.effective_pbkeylen()) / 8
            }
            _ => 0,
        };
        let reply = Handshake {
            version: HS_VERSION_5,
            encryption_field,
            extension_field: HS_MAGIC,
            extensions: Vec::new(),
            syn_cookie: cookie,
            req_type: HandshakeType::Induction,
            ..header_only(hs)
        };
        self.queue_stateless(now, remote, hs.socket_id, reply);
    }

    /// Refuses a caller with a rejection handshake: its request echoed with
    /// request type 1000 + reason and no blocks.
    fn reject(&mut self, now: Instant, remote: SocketAddr, hs: &Handshake, reason: RejectReason) {
        self.stats.rejected += 1;
        let reply = Handshake {
            req_type: HandshakeType::Rejection(reason),
            extensions: Vec::new(),
            ..header_only(hs)
        };
        self.queue_stateless(now, remote, hs.socket_id, reply);
    }

    fn queue_stateless(&mut self, now: Instant, remote: SocketAddr, dest: u32, hs: Handshake) {
        if self.stateless.len() >= self.config.max_stateless_replies {
            self.stats.replies_dropped += 1;
            return;
        }
        let packet = ControlPacket {
            timestamp: Timestamp::from_micros(
                now.saturating_duration_since(self.epoch).as_micros() as u64,
            ),
            dest_socket: SocketId(dest),
            body: ControlBody::Handshake(hs),
        };
        let mut buf = [0u8; STATELESS_LEN];
        match packet.encode(&mut buf) {
            Ok(_) => self.stateless.push_back((remote, buf)),
            Err(_) => self.stats.replies_dropped += 1,
        }
    }

    fn handle_conclusion(
        &mut self,
        now: Instant,
        remote: SocketAddr,
        ts: Timestamp,
        hs: &Handshake,
    ) {
        let period = self.cookie_period(now);
        let valid = hs.syn_cookie == self.cookie(remote, period)
            || (period > 0 && hs.syn_cookie == self.cookie(remote, period - 1));
        if !valid {
            self.stats.bad_cookie += 1;
            return;
        }
        // A repeat of a conclusion we already answered: answer again.
        if let Some(&id) = self.accepted.get(&(remote, hs.socket_id)) {
            if let Some(conn) = self.connections.get_mut(&id) {
                if conn.is_same_request(remote, hs) && conn.state() == ConnState::Connected {
                    conn.handle_repeated_conclusion(now);
                    self.refresh(id, now);
                    return;
                }
            }
            // The old connection is gone or broken: forget it and start over.
            self.accepted.remove(&(remote, hs.socket_id));
        }
        if hs.version != HS_VERSION_5 {
            // HSv4 callers (libsrt < 1.3) are not supported.
            self.reject(now, remote, hs, RejectReason::Version);
            return;
        }
        if !hs.is_valid() {
            self.reject(now, remote, hs, RejectReason::Rogue);
            return;
        }
        let listener = self.listener.as_mut().expect("checked by the caller");
        if let Some(deferred) = &mut listener.deferred {
            let backlog = listener.backlog.saturating_sub(listener.accept_queue.len());
            match deferred.admit(now, (remote, hs.socket_id), hs, ts, backlog) {
                Admission::New(request) => self.events.push_back(Event::Incoming { request }),
                Admission::Held => {}
                Admission::Refuse(reason) => self.reject(now, remote, hs, reason),
            }
            return;
        }
        if listener.accept_queue.len() >= listener.backlog {
            self.reject(now, remote, hs, RejectReason::Backlog);
            return;
        }
        let mut options = listener.options.clone();
        if let Some(hook) = &mut listener.hook {
            let request = ConnectionRequest::new(remote, hs);
            if let Err(reason) = hook(&request, &mut options) {
                self.reject(now, remote, hs, reason);
                return;
            }
        }
        match self.admit(now, remote, ts, hs, &options) {
            Ok(id) => {
                self.refresh(id, now);
                if let Some(l) = &mut self.listener {
                    l.accept_queue.push_back(id);
                }
                self.events.push_back(Event::Accepted { socket: id });
            }
            Err(reason) => self.reject(now, remote, hs, reason),
        }
    }

    /// Makes the connection a caller's CONCLUSION asks for, with `options`.
    fn admit(
        &mut self,
        now: Instant,
        remote: SocketAddr,
        ts: Timestamp,
        hs: &Handshake,
        options: &SocketOptions,
    ) -> Result<SocketId, RejectReason> {
        let mut config = SocketConfig::from(options);
        // A group member: answer with our mirror group (the same for every
        // member of its group, derived statelessly from the group's ID).
        if let Some(peer) = hs.extensions.iter().find_map(|e| match e {
            HsExtension::Group(g) => Some(*g),
            _ => None,
        }) {
            if config.handshake.group_connect {
                let listener = self.listener.as_ref().ok_or(RejectReason::Close)?;
                let local = listener.mirrors.mirror(peer.group_id);
                config.handshake.group = Some(crate::group::mirror_block(peer, local));
            }
        }
        let id = self.new_socket_id().map_err(|_| RejectReason::Resource)?;
        let rng = self.rng.fork();
        let conn = Connection::accept(now, id, remote, hs, ts, config, rng)?;
        self.connections.insert(id, Box::new(conn));
        self.accepted.insert((remote, hs.socket_id), id);
        Ok(id)
    }

    /// Moves a connection's events to the endpoint's queue, and forgets it
    /// once it is closed and has nothing left to send; else refreshes it.
    fn collect_events(&mut self, id: SocketId, now: Instant) {
        let Some(conn) = self.connections.get_mut(&id) else {
            return;
        };
        if collect(&mut self.events, &mut self.schedule, id, conn, now) {
            self.forget(id);
        }
    }

    fn forget(&mut self, id: SocketId) {
        self.schedule.remove(id);
        if let Some(conn) = self.connections.remove(&id) {
            if self.rendezvous.get(&conn.remote()) == Some(&id) {
                self.rendezvous.remove(&conn.remote());
            }
            let key = (conn.remote(), conn.peer_id());
            if self.accepted.get(&key) == Some(&id) {
                self.accepted.remove(&key);
            }
        }
    }

    /// Advances every timer to `now`: visits only the connections due, in
    /// ascending ID order.
    pub fn handle_timeout(&mut self, now: Instant) {
        if let Some(d) = self.listener.as_mut().and_then(|l| l.deferred.as_mut()) {
            d.expire(now);
        }
        self.refresh_dirty(now);
        // A reused list, so that timers allocate nothing in steady state.
        let mut due = std::mem::take(&mut self.due);
        due.clear();
        self.schedule.take_due(now, &mut due);
        for id in &due {
            self.visits += 1;
            if let Some(conn) = self.connections.get_mut(id) {
                conn.handle_timeout(now);
                if collect(&mut self.events, &mut self.schedule, *id, conn, now) {
                    self.forget(*id);
                }
            }
        }
        self.due = due;
    }

    /// When [`Endpoint::handle_timeout`] should next be called.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let conns = if self.dirty.is_empty() {
            self.schedule.next_deadline()
        } else {
            self.scan_timeout()
        };
        let held = self
            .listener
            .as_ref()
            .and_then(|l| l.deferred.as_ref())
            .and_then(Deferred::next_expiry);
        match (conns, held) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The earliest deadline, asked of every connection.
    fn scan_timeout(&self) -> Option<Instant> {
        self.connections
            .values()
            .filter_map(|c| c.poll_timeout())
            .min()
    }

    /// Writes the next datagram to send into `buf` (at least 1500 bytes).
    pub fn poll_transmit(&mut self, now: Instant, buf: &mut [u8]) -> Option<Transmit> {
        if let Some((destination, bytes)) = self.stateless.pop_front() {
            let size = bytes.len().min(buf.len());
            buf[..size].copy_from_slice(&bytes[..size]);
            return Some(Transmit { destination, size });
        }
        // Round-robin over the connections that may transmit, starting
        // after the last served.
        self.refresh_dirty(now);
        self.schedule.release_paced(now);
        // A connection that said it had something to send but gave nothing
        // stays a candidate; each may let us down once per call, so that
        // one inconsistent connection cannot hold the others (or the
        // caller) in this loop.
        let mut empty_turns = 0;
        loop {
            if empty_turns > self.connections.len() {
                return None;
            }
            let next = self.schedule.next_candidate()?;
            self.visits += 1;
            let Some(conn) = self.connections.get_mut(&next) else {
                continue;
            };
            if !conn.has_transmit(now) {
                self.schedule.refresh(next, conn, now);
                continue;
            }
            self.schedule.served(next);
            let result = conn.poll_transmit(now, buf);
            if collect(&mut self.events, &mut self.schedule, next, conn, now) {
                self.forget(next);
            }
            if let Ok(Some(t)) = result {
                return Some(t);
            }
            empty_turns += 1;
        }
    }

    /// The next event for the application.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }
}

/// [`Endpoint::collect_events`] for a connection at hand (no second
/// lookup): moves its events to `events` and refreshes it in `schedule`;
/// true when it is closed with nothing left to send, to be forgotten.
fn collect(
    events: &mut VecDeque<Event>,
    schedule: &mut Schedule,
    id: SocketId,
    conn: &mut Connection,
    now: Instant,
) -> bool {
    while let Some(ev) = conn.poll_event() {
        events.push_back(ev);
    }
    if conn.state() == ConnState::Closed && !conn.has_transmit(now) {
        return true;
    }
    schedule.refresh(id, conn, now);
    false
}

/// A copy of a handshake's fixed 48-byte part, without extension blocks.
fn header_only(hs: &Handshake) -> Handshake {
    Handshake {
        version: hs.version,
        encryption_field: hs.encryption_field,
        extension_field: hs.extension_field,
        isn: hs.isn,
        mss: hs.mss,
        flow_window: hs.flow_window,
        req_type: hs.req_type,
        socket_id: hs.socket_id,
        syn_cookie: hs.syn_cookie,
        peer_addr: hs.peer_addr,
        extensions: Vec::new(),
    }
}

#[cfg(test)]
mod tests;
