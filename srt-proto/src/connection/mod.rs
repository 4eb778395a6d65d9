//! One SRT connection: the caller and rendezvous handshakes, the accepted
//! side of a listener's handshake, and the connected state's timers
//! (keepalive, peer idle timeout) and shutdown.
//!
//! A [`Connection`] is usable on its own by someone with their own
//! demultiplexer: feed it the packets addressed to its [`SocketId`], call
//! [`Connection::handle_timeout`] when [`Connection::poll_timeout`] says, and
//! drain [`Connection::poll_transmit`] and [`Connection::poll_event`].
//! [`crate::Endpoint`] does exactly that for every connection on a UDP port.

pub use crate::buffer::recv::RecvInfo;
use crate::crypto::CryptoContext;
use crate::handshake::{HsHeader, KmAgreement, Negotiated, HANDSHAKE_RESEND, HS_VERSION_5};
use crate::options::{SockOpt, SocketOptions};
use crate::packet::{
    ControlBody, ControlPacket, EncodeError, Handshake, Packet, PeerAddress, RejectReason, SocketId,
};
use crate::rng::SecretRng;
use crate::seq::{SeqNumber, Timestamp};
use crate::stats::TraceBStats;
use crate::transfer::{
    MsgCtrl, RecvError, SendError, Sent, Transfer, TransferConfig, TransferSetup,
};
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

pub use close::{CloseMode, DELIVERY_MARGIN, LOSSLESS_LINGER_EXTRA};
pub use config::{ConnTimers, SocketConfig};
use phase::{ConnKind, Handshaking, Phase, RdvPhase, Step};

mod close;
mod config;
mod handshaking;
mod phase;

/// How long after the last packet sent a KEEPALIVE goes out (libsrt: 1 s).
pub(crate) const KEEPALIVE_PERIOD: Duration = Duration::from_secs(1);

/// Where a datagram from [`Connection::poll_transmit`] goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[must_use]
pub struct Transmit {
    /// The UDP destination.
    pub destination: SocketAddr,
    /// The number of bytes written to the caller's buffer.
    pub size: usize,
}

/// Why a connection broke.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum BreakCause {
    /// The peer sent SHUTDOWN.
    PeerShutdown,
    /// Nothing was heard from the peer for `SRTO_PEERIDLETIMEO`.
    PeerIdle,
}

/// Something the application should know about a connection.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// A caller asks a deferring listener to connect
    /// ([`Endpoint::listen_deferred`](crate::Endpoint::listen_deferred)):
    /// answer with `accept_incoming` or `refuse_incoming`.
    Incoming {
        /// The request.
        request: crate::endpoint::IncomingId,
    },
    /// A caller or rendezvous connection completed its handshake.
    Connected {
        /// The connection.
        socket: SocketId,
    },
    /// A listener accepted a connection; it waits in the accept queue.
    Accepted {
        /// The new connection.
        socket: SocketId,
    },
    /// Connecting failed: the peer refused, the handshake was invalid, or
    /// the connect timeout passed ([`RejectReason::Timeout`]).
    ConnectFailed {
        /// The connection.
        socket: SocketId,
        /// Why, in libsrt's terms.
        reason: RejectReason,
    },
    /// An established connection broke.
    Broken {
        /// The connection.
        socket: SocketId,
        /// Why.
        cause: BreakCause,
    },
    /// A message is ready for [`Connection::recv`].
    Readable {
        /// The connection.
        socket: SocketId,
    },
    /// The send buffer has room again after a send was refused.
    Writable {
        /// The connection.
        socket: SocketId,
    },
    /// The connection was closed locally and may be forgotten.
    Closed {
        /// The connection.
        socket: SocketId,
    },
}

/// The state of a connection, as libsrt's `SRT_SOCKSTATUS` sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnState {
    /// Handshake in progress.
    Connecting,
    /// Connected.
    Connected,
    /// Broken (peer shut down or went silent) or failed to connect.
    Broken,
    /// Closed locally.
    Closed,
}

/// When the peer was last heard and last sent to: the idle timeout and
/// the keepalive count from these.
#[derive(Debug)]
struct Liveness {
    last_rx: Instant,
    last_tx: Instant,
}

impl Liveness {
    /// The earlier of the idle timeout and the next keepalive.
    fn deadline(&self, config: &SocketConfig) -> Instant {
        (self.last_rx + config.timers.peer_idle_timeout).min(self.last_tx + KEEPALIVE_PERIOD)
    }
}

/// What the connection has for its driver: control packets (destination
/// socket ID, body) and events.
#[derive(Debug, Default)]
struct Outbox {
    control: VecDeque<(u32, ControlBody<'static>)>,
    events: VecDeque<Event>,
}

/// One SRT connection.
#[derive(Debug)]
pub struct Connection {
    id: SocketId,
    kind: ConnKind,
    remote: SocketAddr,
    /// The socket's settings (`SRTO_LINGER` and the transfer's may change
    /// on a connected socket).
    config: SocketConfig,
    /// The socket's start: packet timestamps count from here.
    start: Instant,
    phase: Phase,
    header: HsHeader,
    peer_id: u32,
    /// The handshake resent while connecting (and to a repeated conclusion).
    last_handshake: Option<Handshake>,
    /// When the peer was last heard and last sent to.
    liveness: Liveness,
    negotiated: Option<Negotiated>,
    reject_reason: Option<RejectReason>,
    /// Control packets and events waiting to be taken.
    outbox: Outbox,
    /// What the key material exchange agreed.
    km: KmAgreement,
    /// Salts and keys come from here (forked from the endpoint's).
    rng: SecretRng,
}

impl Connection {
    #[allow(clippy::too_many_arguments)] // `rng`: each connection's own generator
    fn new(
        now: Instant,
        id: SocketId,
        remote: SocketAddr,
        isn: SeqNumber,
        config: SocketConfig,
        kind: ConnKind,
        step: Step,
        rng: SecretRng,
    ) -> Self {
        let header = HsHeader {
            version: HS_VERSION_5,
            isn,
            mss: config.handshake.mss,
            flow_window: config.handshake.flow_window,
            socket_id: id.0,
            cookie: 0,
            peer_addr: PeerAddress::from_ip(remote.ip()),
        };
        Connection {
            id,
            kind,
            remote,
            config,
            start: now,
            phase: Phase::Handshaking(Handshaking {
                step,
                next_resend: None,
                connect_deadline: None,
                km_tx: None,
                peer_start: None,
                rcv_isn: isn,
                peer_flow_window: 2,
            }),
            header,
            peer_id: 0,
            last_handshake: None,
            liveness: Liveness {
                last_rx: now,
                last_tx: now,
            },
            negotiated: None,
            reject_reason: None,
            outbox: Outbox::default(),
            km: KmAgreement::default(),
            rng,
        }
    }

    /// The KM state (`SRTO_KMSTATE`; libsrt's value without `SRTO_SENDER`:
    /// the receiving direction's, as [`Connection::rcv_km_state`]).
    pub fn km_state(&self) -> crate::packet::KmState {
        self.rcv_km_state()
    }

    /// Whether what the peer sends can be decrypted (`SRTO_RCVKMSTATE`):
    /// unsecured until the peer's answer is read (as libsrt's
    /// `CCryptoControl::init`), then what the key exchange agreed, or what
    /// a refused one left (libsrt's states at the refusal).
    pub fn rcv_km_state(&self) -> crate::packet::KmState {
        self.km.state.unwrap_or(crate::packet::KmState::Unsecured)
    }

    /// Whether what this side sends can be decrypted by the peer
    /// (`SRTO_SNDKMSTATE`): securing while a side with a passphrase waits
    /// for the answer, else as [`Connection::rcv_km_state`].
    pub fn snd_km_state(&self) -> crate::packet::KmState {
        self.km
            .snd_state
            .unwrap_or(if self.config.crypto.is_some() {
                crate::packet::KmState::Securing
            } else {
                crate::packet::KmState::Unsecured
            })
    }

    /// The cipher of this side's key: the one in use once keys are
    /// agreed (a responder's follows the initiator's when its
    /// `SRTO_CRYPTOMODE` is "auto"), and an initiator's own before (its
    /// "auto" is AES-CTR); `None` without a passphrase.
    pub fn cipher(&self) -> Option<crate::packet::Cipher> {
        let own = || match self.kind {
            ConnKind::Accepted => None,
            _ => self.config.crypto.as_ref().map(|c| c.cipher),
        };
        self.km
            .tx
            .as_ref()
            .map(CryptoContext::cipher)
            .or_else(|| self.phase.transfer().and_then(Transfer::cipher))
            .or_else(own)
    }

    /// Whether a listener made this connection for a caller.
    pub fn is_accepted(&self) -> bool {
        self.kind == ConnKind::Accepted
    }

    /// The key length in use, in bytes (`SRTO_PBKEYLEN` of a connection,
    /// libsrt's `CCryptoControl::KeyLen`): the peer's KMREQ's for a
    /// responder that received one (with or without a passphrase of its
    /// own), else this side's (`SRTO_PBKEYLEN`, or the listener's that a
    /// caller adopted, 16 by default) when it has a passphrase, else 0.
    pub fn key_len(&self) -> u8 {
        if let Some(len) = self.km.peer_key_len {
            return len;
        }
        match &self.config.crypto {
            Some(c) if c.key_len != 0 => c.key_len,
            Some(_) => 16,
            None => 0,
        }
    }

    /// This connection's socket ID.
    pub fn id(&self) -> SocketId {
        self.id
    }

    /// The peer's address.
    pub fn remote(&self) -> SocketAddr {
        self.remote
    }

    /// The peer's socket ID (0 until known).
    pub fn peer_id(&self) -> u32 {
        self.peer_id
    }

    /// The state as libsrt reports it.
    pub fn state(&self) -> ConnState {
        match self.phase {
            Phase::Handshaking(_) => ConnState::Connecting,
            Phase::Connected(_) | Phase::Closing { .. } => ConnState::Connected,
            Phase::Broken(_) => ConnState::Broken,
            Phase::Closed(_) => ConnState::Closed,
        }
    }

    /// What the handshake agreed, once connected.
    pub fn negotiated(&self) -> Option<&Negotiated> {
        self.negotiated.as_ref()
    }

    /// The stream ID: the one sent (caller) or received (listener).
    pub fn stream_id(&self) -> &[u8] {
        match &self.negotiated {
            Some(n) => &n.stream_id,
            None => &self.config.handshake.stream_id,
        }
    }

    /// Why connecting failed, if it did.
    pub fn reject_reason(&self) -> Option<RejectReason> {
        self.reject_reason
    }

    /// Whether `request` is a repeat of the CONCLUSION this accepted
    /// connection answered (same caller socket and ISN).
    pub fn is_same_request(&self, remote: SocketAddr, request: &Handshake) -> bool {
        remote == self.remote && request.socket_id == self.peer_id && request.isn == self.header.isn
    }

    /// Answers a repeated CONCLUSION (the caller missed our answer).
    pub fn handle_repeated_conclusion(&mut self, now: Instant) {
        self.liveness.last_rx = now;
        if let Some(hs) = self.last_handshake.clone() {
            self.queue(self.peer_id, ControlBody::Handshake(hs));
        }
    }

    /// Handles a packet addressed to this connection from `remote`.
    pub fn handle_packet(&mut self, now: Instant, remote: SocketAddr, packet: &Packet<'_>) {
        if remote != self.remote || matches!(self.phase, Phase::Closed(_) | Phase::Broken(_)) {
            return;
        }
        self.liveness.last_rx = now;
        let control = match packet {
            Packet::Control(c) => c,
            Packet::Data(d) => {
                self.on_peer_traffic(now);
                if let Some(t) = self.phase.transfer_mut() {
                    t.on_data(now, d);
                }
                self.transfer_events(now);
                return;
            }
        };
        match &control.body {
            ControlBody::Handshake(hs) => self.on_handshake(now, control.timestamp, hs),
            ControlBody::Shutdown => {
                if self.phase.is_connected() {
                    self.break_with(BreakCause::PeerShutdown);
                }
            }
            body => {
                self.on_peer_traffic(now);
                if let Some(t) = self.phase.transfer_mut() {
                    match body {
                        ControlBody::Ack(ack) => t.on_ack(now, ack),
                        ControlBody::AckAck { ack_number } => {
                            t.on_ackack(now, *ack_number, control.timestamp)
                        }
                        ControlBody::LossReport(list) => t.on_nak(list),
                        ControlBody::KeepAlive => t.on_keepalive(now, control.timestamp),
                        ControlBody::DropRequest { first, last, .. } => t.on_dropreq(*first, *last),
                        ControlBody::ExtKmReq(km) => t.on_km_request(km),
                        ControlBody::ExtKmRsp(rsp) => t.on_km_response(rsp),
                        _ => {}
                    }
                }
                self.transfer_events(now);
            }
        }
    }

    /// A datagram for this connection from `remote` that did not decode as
    /// a packet, whose header says it is a control packet of
    /// `control_type`/`subtype`: counted against the connection (see
    /// [`RejectedControl`](crate::stats::RejectedControl)), nothing else.
    pub fn handle_undecodable_control(
        &mut self,
        remote: SocketAddr,
        control_type: u16,
        subtype: u16,
    ) {
        if remote != self.remote {
            return;
        }
        if let Some(t) = self.phase.transfer_mut() {
            t.on_undecodable_control(control_type, subtype);
        }
    }

    /// The peer's control packets this connection checked and ignored so
    /// far (zero before the connection is established).
    pub fn rejected_control(&self) -> crate::stats::RejectedControl {
        self.phase
            .transfer()
            .map(Transfer::rejected)
            .unwrap_or_default()
    }

    /// Whether the transfer's timer table holds what its state arms
    /// (tests of the timer table).
    #[cfg(test)]
    pub(crate) fn timers_in_sync(&self) -> bool {
        self.phase.transfer().is_none_or(Transfer::timers_in_sync)
    }

    /// [`Connection::poll_timeout`] computed afresh from the state, each
    /// of the transfer's timers from its state, not from its table.
    #[cfg(test)]
    pub(crate) fn earliest_timer(&self) -> Option<Instant> {
        match &self.phase {
            Phase::Connected(transfer) | Phase::Closing { transfer, .. } => {
                let mut t = self.liveness.deadline(&self.config);
                if let Some(x) = transfer.earliest_deadline() {
                    t = t.min(x);
                }
                if let Some(d) = self.phase.closing_deadline() {
                    t = t.min(d).min(self.drained_at().unwrap_or(d));
                }
                Some(t)
            }
            _ => self.poll_timeout(),
        }
    }

    /// Steps taken on the peer's control packets and on retransmission
    /// (tests of the per-packet work bound).
    #[cfg(test)]
    pub(crate) fn control_work(&self) -> u64 {
        self.phase.transfer().map_or(0, Transfer::work)
    }

    /// Turns the transfer's state changes into events.
    fn transfer_events(&mut self, now: Instant) {
        self.note_acked(now);
        let Some(t) = self.phase.transfer_mut() else {
            return;
        };
        if t.take_readable(now) {
            self.outbox
                .events
                .push_back(Event::Readable { socket: self.id });
        }
        if t.take_writable() {
            self.outbox
                .events
                .push_back(Event::Writable { socket: self.id });
        }
    }

    /// Queues a message for sending (see [`MsgCtrl`]); returns the bytes taken.
    pub fn send(
        &mut self,
        now: Instant,
        payload: &[u8],
        ctrl: &MsgCtrl,
    ) -> Result<usize, SendError> {
        self.send_msg(now, payload, ctrl).map(|s| s.len)
    }

    /// [`Connection::send`], telling how the message was numbered.
    pub fn send_msg(
        &mut self,
        now: Instant,
        payload: &[u8],
        ctrl: &MsgCtrl,
    ) -> Result<Sent, SendError> {
        match &mut self.phase {
            Phase::Connected(t) => t.send(now, payload, ctrl),
            // Closing: nothing more is taken.
            _ => Err(SendError::NotConnected),
        }
    }

    /// Applies the options libsrt lets change on a connected socket
    /// (`SRTO_MAXBW`, `SRTO_INPUTBW`, `SRTO_MININPUTBW`, `SRTO_OHEADBW`,
    /// `SRTO_SNDDROPDELAY`, `SRTO_DRIFTTRACER`, `SRTO_LOSSMAXTTL`,
    /// `SRTO_LINGER`) at once, as libsrt's `srt_setsockopt` does; the others
    /// in `options` are ignored. What changed takes effect, and the post
    /// action of `set` (the option just set) also when its value is the
    /// same (libsrt: SRTO_MAXBW restarts the input rate sampling,
    /// SRTO_LOSSMAXTTL the reorder tolerance). Before the connection is
    /// established, the values are kept for its transfer.
    pub fn apply_options(&mut self, options: &SocketOptions, set: Option<SockOpt>) {
        let given = TransferConfig::from(options);
        let new = TransferConfig {
            max_bw: given.max_bw,
            input_bw: given.input_bw,
            min_input_bw: given.min_input_bw,
            overhead_pct: given.overhead_pct,
            snd_drop_delay: given.snd_drop_delay,
            drift_tracer: given.drift_tracer,
            loss_max_ttl: given.loss_max_ttl,
            ..self.config.transfer.clone()
        };
        if let Some(t) = self.phase.transfer_mut() {
            t.reconfigure(&self.config.transfer, &new, set);
        }
        self.config.transfer = new;
        self.config.linger = options.linger;
    }

    /// The transfer of an established socket (also broken: what it
    /// received can still be read), for a socket group's hooks
    /// (`transfer/group.rs`).
    pub(crate) fn group_transfer(&mut self) -> Option<&mut Transfer> {
        self.phase.transfer_mut()
    }

    /// The GROUP block this socket sent: its group membership as a caller,
    /// its mirror group as an accepted member.
    pub fn group_block(&self) -> Option<crate::packet::GroupBlock> {
        self.config.handshake.group
    }

    /// When anything was last heard from the peer (a backup group's
    /// response time).
    pub(crate) fn last_heard(&self) -> Instant {
        self.liveness.last_rx
    }

    /// The next message due for delivery, copied into `out`; `Ok(None)` if
    /// none is ready yet.
    pub fn recv(&mut self, now: Instant, out: &mut [u8]) -> Result<Option<RecvInfo>, RecvError> {
        match self.phase.transfer_mut() {
            Some(t) => Ok(t.recv(now, out)),
            None => Err(RecvError::NotConnected),
        }
    }

    /// Whether [`recv`](Self::recv) would deliver a message now. If not,
    /// the next message raises [`Event::Readable`] again (as after a
    /// receive that found nothing), so a driver can keep level-triggered
    /// readiness exact without an extra receive.
    pub fn recv_ready(&mut self, now: Instant) -> bool {
        self.recv_ready_moved(now).0
    }

    /// [`Connection::recv_ready`], and whether a deadline moved (only then
    /// does the endpoint's schedule need a refresh).
    pub(crate) fn recv_ready_moved(&mut self, now: Instant) -> (bool, bool) {
        self.phase
            .transfer_mut()
            .map_or((false, false), |t| t.recv_ready(now))
    }

    /// The statistics (`srt_bstats`: buffer fields are moving averages); `clear` starts a new interval.
    pub fn stats(&mut self, now: Instant, clear: bool) -> Option<TraceBStats> {
        self.stats_instant(now, clear, false)
    }

    /// The statistics (`srt_bistats`): with `instantaneous`, the buffer fields are current values, else moving averages.
    pub fn stats_instant(
        &mut self,
        now: Instant,
        clear: bool,
        instantaneous: bool,
    ) -> Option<TraceBStats> {
        self.phase
            .transfer_mut()
            .map(|t| t.stats(now, clear, instantaneous))
    }

    fn start_transfer(&mut self, now: Instant) {
        self.add_fake_sender();
        // The handshake always agrees before it completes.
        let Some(negotiated) = &self.negotiated else {
            return;
        };
        let Phase::Handshaking(h) = &self.phase else {
            return;
        };
        let transfer = Transfer::new(TransferSetup {
            now,
            start: self.start,
            peer_id: self.peer_id,
            snd_isn: self.header.isn,
            rcv_isn: h.rcv_isn,
            mss: self.header.mss,
            rcv_mss: self.config.handshake.mss,
            peer_flow_window: h.peer_flow_window,
            peer_start: h.peer_start.unwrap_or(self.start),
            negotiated,
            nakreport: self.config.handshake.nakreport,
            tx: self.km.tx.take(),
            rx: self.km.rx.take(),
            passphrase: self.config.crypto.as_ref().map(|c| c.passphrase.clone()),
            live: self.config.handshake.transtype == crate::handshake::TransType::Live,
            message_api: self.config.handshake.message_api,
            config: &self.config.transfer,
            rng: self.rng.fork(),
        });
        self.phase = Phase::Connected(transfer);
    }

    fn set_connected(&mut self, now: Instant) {
        self.start_transfer(now);
        self.outbox
            .events
            .push_back(Event::Connected { socket: self.id });
    }

    fn fail(&mut self, reason: RejectReason) {
        let transfer = self.phase.take_transfer();
        self.phase = Phase::Broken(transfer);
        self.reject_reason = Some(reason);
        self.outbox.events.push_back(Event::ConnectFailed {
            socket: self.id,
            reason,
        });
    }

    fn break_with(&mut self, cause: BreakCause) {
        let transfer = self.phase.take_transfer();
        self.phase = Phase::Broken(transfer);
        self.outbox.events.push_back(Event::Broken {
            socket: self.id,
            cause,
        });
    }

    /// Queues a handshake, remembers it for resending, and arms the timer.
    fn send_handshake(&mut self, now: Instant, dest: u32, hs: Handshake) {
        self.last_handshake = Some(hs.clone());
        self.queue(dest, ControlBody::Handshake(hs));
        if let Some(h) = self.phase.handshaking_mut() {
            h.next_resend = Some(now + HANDSHAKE_RESEND);
        }
    }

    fn queue(&mut self, dest: u32, body: ControlBody<'static>) {
        self.outbox.control.push_back((dest, body));
    }

    /// Advances the timers to `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        match &mut self.phase {
            Phase::Handshaking(h) => {
                if h.connect_deadline.is_some_and(|d| now >= d) {
                    self.fail(RejectReason::Timeout);
                    return;
                }
                if h.next_resend.is_some_and(|t| now >= t) {
                    h.next_resend = Some(now + HANDSHAKE_RESEND);
                    let dest = match h.step {
                        Step::Rendezvous { .. } => self.peer_id,
                        _ => 0,
                    };
                    if let Some(hs) = self.last_handshake.clone() {
                        self.queue(dest, ControlBody::Handshake(hs));
                    }
                }
            }
            Phase::Connected(_) | Phase::Closing { .. } => {
                if now >= self.liveness.last_rx + self.config.timers.peer_idle_timeout {
                    self.break_with(BreakCause::PeerIdle);
                    return;
                }
                if let Some(t) = self.phase.transfer_mut() {
                    t.handle_timeout(now);
                }
                self.transfer_events(now);
                if let Some(deadline) = self.phase.closing_deadline() {
                    if self.drained(now) || now >= deadline {
                        self.finish_close();
                        return;
                    }
                }
                if now >= self.liveness.last_tx + KEEPALIVE_PERIOD && !self.has_transmit(now) {
                    self.queue(self.peer_id, ControlBody::KeepAlive);
                }
            }
            Phase::Broken(_) | Phase::Closed(_) => {}
        }
    }

    /// When [`Connection::handle_timeout`] should next be called.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let mut earliest: Option<Instant> = None;
        self.deadlines(|t| earliest = Some(earliest.map_or(t, |e| e.min(t))));
        earliest
    }

    /// [`Connection::poll_timeout`] in two (it is the earlier of them): the
    /// earliest deadline at or before `now`, and the earliest after `now`.
    /// The endpoint's schedule keeps the connections due at once (queued
    /// control packets arm a deadline at the connection's start, a data
    /// packet free to go one at its sending time) apart from its timer
    /// queue, so that a packet queued and sent costs no queue work.
    pub(crate) fn poll_timeout_split(&self, now: Instant) -> (Option<Instant>, Option<Instant>) {
        let (mut past, mut future): (Option<Instant>, Option<Instant>) = (None, None);
        self.deadlines(|t| {
            let side = if t <= now { &mut past } else { &mut future };
            *side = Some(side.map_or(t, |e| e.min(t)));
        });
        (past, future)
    }

    /// Calls `f` with every deadline of the connection's timers.
    fn deadlines(&self, mut f: impl FnMut(Instant)) {
        match &self.phase {
            Phase::Handshaking(h) => {
                h.next_resend.into_iter().for_each(&mut f);
                h.connect_deadline.into_iter().for_each(&mut f);
            }
            Phase::Connected(transfer) | Phase::Closing { transfer, .. } => {
                f(self.liveness.deadline(&self.config));
                transfer.deadlines().for_each(&mut f);
                if let Some(d) = self.phase.closing_deadline() {
                    // All acknowledged: the close waits for the peer's delivery.
                    f(d);
                    if let Some(a) = self.drained_at() {
                        f(a);
                    }
                }
            }
            Phase::Broken(_) | Phase::Closed(_) => {}
        }
    }

    /// Writes the next datagram to send into `buf`.
    pub fn poll_transmit(
        &mut self,
        now: Instant,
        buf: &mut [u8],
    ) -> Result<Option<Transmit>, EncodeError> {
        if let Some((dest, body)) = self.outbox.control.pop_front() {
            let packet = ControlPacket {
                timestamp: self.timestamp(now),
                dest_socket: SocketId(dest),
                body,
            };
            let size = packet.encode(buf)?;
            self.liveness.last_tx = now;
            return Ok(Some(Transmit {
                destination: self.remote,
                size,
            }));
        }
        let (t, closing) = match &mut self.phase {
            Phase::Connected(t) => (t, false),
            Phase::Closing { transfer, .. } => (transfer, true),
            _ => return Ok(None),
        };
        let sent = t.poll_transmit(now, buf)?;
        if closing && self.drained(now) {
            self.finish_close();
        }
        Ok(sent.map(|size| {
            self.liveness.last_tx = now;
            Transmit {
                destination: self.remote,
                size,
            }
        }))
    }

    /// Whether [`Connection::poll_transmit`] has something to send at `now`.
    pub fn has_transmit(&self, now: Instant) -> bool {
        !self.outbox.control.is_empty()
            || match &self.phase {
                Phase::Connected(t) | Phase::Closing { transfer: t, .. } => t.wants_transmit(now),
                _ => false,
            }
    }

    /// When [`Connection::has_transmit`] turns true by time alone (data
    /// waiting for its pacing time); `None` if only a new input can make it.
    pub(crate) fn send_due_at(&self) -> Option<Instant> {
        match &self.phase {
            Phase::Connected(t) | Phase::Closing { transfer: t, .. } => t.send_due_at(),
            _ => None,
        }
    }

    /// The next event for the application.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.outbox.events.pop_front()
    }

    /// The packet timestamp for `now`: µs since the socket started, wrapped.
    fn timestamp(&self, now: Instant) -> Timestamp {
        Timestamp::from_micros(now.saturating_duration_since(self.start).as_micros() as u64)
    }
}
