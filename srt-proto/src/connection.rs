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
use crate::crypto::{CryptoContext, RefreshConfig};
use crate::handshake::{
    adopt_km, adopt_response, cookie_contest, initiator_blocks, respond, respond_km,
    CryptoSettings, HsHeader, HsSettings, KmAgreement, Negotiated, RendezvousRole,
    HANDSHAKE_RESEND, HS_SOCKTYPE_DGRAM, HS_VERSION_4, HS_VERSION_5,
};
use crate::options::{Congestion, SockOpt, SocketOptions};
use crate::packet::SrtVersion;
use crate::packet::{
    ControlBody, ControlPacket, EncodeError, Handshake, HandshakeType, HsExtension, Packet,
    PeerAddress, RejectReason, SocketId, HS_MAGIC,
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

/// How long after the last packet sent a KEEPALIVE goes out (libsrt: 1 s).
pub const KEEPALIVE_PERIOD: Duration = Duration::from_secs(1);

/// The timers of a connection that the application chooses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnTimers {
    /// `SRTO_CONNTIMEO`: how long to try to connect (rendezvous: 10×).
    pub connect_timeout: Duration,
    /// `SRTO_PEERIDLETIMEO`: silence after which a connection is broken.
    pub peer_idle_timeout: Duration,
}

impl Default for ConnTimers {
    fn default() -> Self {
        ConnTimers {
            connect_timeout: Duration::from_secs(3),
            peer_idle_timeout: Duration::from_secs(5),
        }
    }
}

/// The settings of one socket: what its handshake carries and its timers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SocketConfig {
    /// Handshake settings.
    pub handshake: HsSettings,
    /// Connection timers.
    pub timers: ConnTimers,
    /// Data transfer settings.
    pub transfer: TransferConfig,
    /// `SRTO_LINGER`: how long a graceful close waits for unacknowledged data.
    pub linger: Option<Duration>,
    /// Encryption, when a passphrase is set.
    pub crypto: Option<CryptoSettings>,
}

impl From<&SocketOptions> for SocketConfig {
    fn from(o: &SocketOptions) -> Self {
        let ms = |d: Duration| d.as_millis().min(u128::from(u16::MAX)) as u16;
        SocketConfig {
            handshake: HsSettings {
                transtype: o.transtype,
                tsbpd: o.tsbpdmode,
                rcv_latency_ms: ms(o.rcvlatency),
                peer_latency_ms: ms(o.peerlatency),
                tlpktdrop: o.tlpktdrop,
                nakreport: o.nakreport,
                message_api: o.messageapi,
                congestion: match o.congestion {
                    Congestion::Live => b"live".to_vec(),
                    Congestion::File => b"file".to_vec(),
                },
                stream_id: o.streamid.as_bytes().to_vec(),
                min_version: SrtVersion(o.minversion),
                mss: o.mss,
                flow_window: o.flight_capacity(),
                has_passphrase: o.passphrase.is_some(),
                enforced_encryption: o.enforcedencryption,
            },
            timers: ConnTimers {
                connect_timeout: o.conntimeo,
                peer_idle_timeout: o.peeridletimeo,
            },
            transfer: TransferConfig::from(o),
            linger: o.linger,
            crypto: o.passphrase.as_ref().map(|p| CryptoSettings {
                passphrase: zeroize::Zeroizing::new(p.as_bytes().to_vec()),
                key_len: o.pbkeylen,
                cipher: match o.cryptomode {
                    crate::options::CryptoMode::AesGcm => crate::packet::Cipher::AesGcm,
                    _ => crate::packet::Cipher::AesCtr,
                },
                // libsrt's "auto" is AES-CTR without TSBPD (crypto.cpp `init`).
                cipher_fixed: o.cryptomode != crate::options::CryptoMode::Auto || !o.tsbpdmode,
                refresh: RefreshConfig::from_options(o.kmrefreshrate, o.kmpreannounce),
            }),
        }
    }
}

impl From<&SocketOptions> for TransferConfig {
    fn from(o: &SocketOptions) -> Self {
        TransferConfig {
            payload_size: o.effective_payload_size() as usize,
            snd_buf_packets: o.sndbuf_pkts.max(2) as usize,
            rcv_buf_packets: o.rcvbuf_pkts.max(2) as usize,
            max_bw: o.maxbw,
            input_bw: o.inputbw,
            min_input_bw: o.mininputbw,
            overhead_pct: u32::from(o.oheadbw),
            snd_drop_delay: o.snddropdelay,
            drift_tracer: o.drifttracer,
            loss_max_ttl: o.lossmaxttl.max(0) as u32,
        }
    }
}

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

/// What a lingering live close waits past the peer's delivery time of the
/// last message (as estimated from our clock): the peer's TSBPD base,
/// set when it processed the handshake, lags by as much as that was late,
/// and the reading application needs its turn (libsrt's srt-live-transmit
/// stops reading once it sees the SHUTDOWN). Measured against
/// srt-live-transmit on a loaded 2-core machine, that lateness passed
/// 100 ms in 1 of 145 closes (with no margin, 4 of 20 lost the tail).
pub const DELIVERY_MARGIN: Duration = Duration::from_millis(250);

/// What [`CloseMode::Lossless`] lingers beyond twice the peer's latency.
pub const LOSSLESS_LINGER_EXTRA: Duration = Duration::from_secs(1);

/// How to close a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CloseMode {
    /// Deliver what is queued first (`SRTO_LINGER`), like SCTP's EOF.
    Linger,
    /// As [`CloseMode::Linger`], for at most this long whatever
    /// `SRTO_LINGER` says (a lossless close in live mode, where libsrt's
    /// default linger is off).
    LingerFor(Duration),
    /// As [`CloseMode::Linger`] with `SRTO_LINGER` if it is set, else, with
    /// TSBPD (live mode, where libsrt's default linger is off), for twice
    /// the peer's TSBPD delay plus [`LOSSLESS_LINGER_EXTRA`]: how
    /// srt-transmit and srt-tokio close, so that nothing sent is lost.
    Lossless,
    /// Drop everything at once, like SCTP's ABORT.
    Abort,
}

/// Something the application should know about a connection.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
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

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RdvPhase {
    Waving,
    Attention,
    Fine,
    Initiated,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ConnKind {
    Caller,
    Accepted,
    Rendezvous,
}

#[derive(Debug)]
enum Phase {
    /// Caller: induction sent, waiting for the listener's cookie.
    Induction,
    /// Caller: conclusion sent, waiting for the answer.
    Conclusion,
    /// Rendezvous handshake.
    Rendezvous {
        phase: RdvPhase,
        role: Option<RendezvousRole>,
        /// The answer a responder sends once it has seen the HSREQ.
        hsrsp: Option<(u16, Vec<HsExtension>)>,
    },
    Connected,
    Broken,
    Closed,
}

/// One SRT connection.
#[derive(Debug)]
pub struct Connection {
    id: SocketId,
    kind: ConnKind,
    remote: SocketAddr,
    settings: HsSettings,
    timers: ConnTimers,
    /// The socket's start: packet timestamps count from here.
    start: Instant,
    phase: Phase,
    header: HsHeader,
    peer_id: u32,
    /// The handshake resent while connecting (and to a repeated conclusion).
    last_handshake: Option<Handshake>,
    next_resend: Option<Instant>,
    connect_deadline: Option<Instant>,
    last_rx: Instant,
    last_tx: Instant,
    negotiated: Option<Negotiated>,
    reject_reason: Option<RejectReason>,
    outgoing: VecDeque<(u32, ControlBody<'static>)>,
    events: VecDeque<Event>,
    transfer_config: TransferConfig,
    transfer: Option<Transfer>,
    /// The peer's clock origin: arrival of its HSREQ/HSRSP minus its timestamp.
    peer_start: Option<Instant>,
    /// The first sequence number the peer sends.
    rcv_isn: SeqNumber,
    peer_flow_window: u32,
    linger: Option<Duration>,
    /// A graceful close waits for acknowledgements until then.
    closing_deadline: Option<Instant>,
    /// When a lingering close found everything sent acknowledged.
    acked_at: Option<Instant>,
    crypto: Option<CryptoSettings>,
    /// The initiator's sending context, announced in its KMREQ.
    km_tx: Option<CryptoContext>,
    /// The cipher of the sending key handed to the transfer.
    cipher: Option<crate::packet::Cipher>,
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
        phase: Phase,
        rng: SecretRng,
    ) -> Self {
        let SocketConfig {
            handshake: settings,
            timers,
            transfer: transfer_config,
            linger,
            crypto,
        } = config;
        let header = HsHeader {
            version: HS_VERSION_5,
            isn,
            mss: settings.mss,
            flow_window: settings.flow_window,
            socket_id: id.0,
            cookie: 0,
            peer_addr: PeerAddress::from_ip(remote.ip()),
        };
        Connection {
            id,
            kind,
            remote,
            settings,
            timers,
            start: now,
            phase,
            header,
            peer_id: 0,
            last_handshake: None,
            next_resend: None,
            connect_deadline: None,
            last_rx: now,
            last_tx: now,
            negotiated: None,
            reject_reason: None,
            outgoing: VecDeque::new(),
            events: VecDeque::new(),
            transfer_config,
            transfer: None,
            peer_start: None,
            rcv_isn: isn,
            peer_flow_window: 2,
            linger,
            closing_deadline: None,
            acked_at: None,
            crypto,
            km_tx: None,
            cipher: None,
            km: KmAgreement::default(),
            rng,
        }
    }

    /// The initiator's CONCLUSION blocks with its KMREQ, and the
    /// encryption field; the sending context is made once.
    fn initiator_conclusion(&mut self) -> (u16, u16, Vec<HsExtension>) {
        let (mut ext, mut blocks) = initiator_blocks(&self.settings);
        let Some(c) = &self.crypto else {
            return (ext, 0, blocks);
        };
        if self.km_tx.is_none() {
            let key_len = usize::from(if c.key_len == 0 { 16 } else { c.key_len });
            let mut salt = [0u8; 16];
            let mut sek = zeroize::Zeroizing::new([0u8; 32]);
            self.rng.fill_bytes(&mut salt);
            self.rng.fill_bytes(&mut sek[..]);
            self.km_tx =
                CryptoContext::sender(&c.passphrase, c.cipher, &salt, &sek[..key_len], c.refresh)
                    .ok();
        }
        let Some(tx) = &self.km_tx else {
            return (ext, 0, blocks);
        };
        if let Ok(km) = tx.key_material() {
            blocks.push(HsExtension::KmReq(km));
            ext |= Handshake::EXT_KMREQ;
        }
        (ext, (tx.key_len() / 8) as u16, blocks)
    }

    /// The encryption field a responder advertises (its key length ÷ 8).
    fn responder_enc_field(&self) -> u16 {
        match &self.crypto {
            Some(c) => u16::from(if c.key_len == 0 { 16 } else { c.key_len }) / 8,
            None => 0,
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
        self.km.snd_state.unwrap_or(if self.crypto.is_some() {
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
            _ => self.crypto.as_ref().map(|c| c.cipher),
        };
        self.km
            .tx
            .as_ref()
            .map(CryptoContext::cipher)
            .or(self.cipher)
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
        match &self.crypto {
            Some(c) if c.key_len != 0 => c.key_len,
            Some(_) => 16,
            None => 0,
        }
    }

    /// libsrt's "fake" sending context (crypto.cpp `createFakeSndContext`):
    /// a responder with a passphrase whose peer sent no key material, or
    /// key material it could not open, still encrypts what it sends, with a
    /// key the peer never gets, rather than send it in clear.
    fn add_fake_sender(&mut self) {
        if self.km.tx.is_some() || self.km.state.is_none() {
            return;
        }
        let Some(c) = &self.crypto else {
            return;
        };
        let key_len = usize::from(if c.key_len == 0 { 16 } else { c.key_len });
        let mut salt = [0u8; 16];
        let mut sek = zeroize::Zeroizing::new([0u8; 32]);
        self.rng.fill_bytes(&mut salt);
        self.rng.fill_bytes(&mut sek[..]);
        self.km.tx =
            CryptoContext::sender(&c.passphrase, c.cipher, &salt, &sek[..key_len], c.refresh).ok();
    }

    /// Starts a caller connection to a listener at `remote`: sends the
    /// induction request at once. `rng` is its own generator.
    pub fn connect(
        now: Instant,
        id: SocketId,
        remote: SocketAddr,
        isn: SeqNumber,
        config: SocketConfig,
        rng: SecretRng,
    ) -> Self {
        let mut c = Self::new(
            now,
            id,
            remote,
            isn,
            config,
            ConnKind::Caller,
            Phase::Induction,
            rng,
        );
        c.connect_deadline = Some(now + c.timers.connect_timeout);
        // An HSv5 caller still sends version 4 in its induction (core.cpp:3758).
        let mut induction = c.header;
        induction.version = HS_VERSION_4;
        let hs = induction.build(HandshakeType::Induction, 0, HS_SOCKTYPE_DGRAM, vec![]);
        c.send_handshake(now, 0, hs);
        c
    }

    /// Starts a rendezvous connection with `remote`, whose cookie for the
    /// contest is `cookie`: sends WAVEAHAND at once. `rng` is its own
    /// generator.
    pub fn rendezvous(
        now: Instant,
        id: SocketId,
        remote: SocketAddr,
        isn: SeqNumber,
        cookie: u32,
        config: SocketConfig,
        rng: SecretRng,
    ) -> Self {
        let phase = Phase::Rendezvous {
            phase: RdvPhase::Waving,
            role: None,
            hsrsp: None,
        };
        let mut c = Self::new(
            now,
            id,
            remote,
            isn,
            config,
            ConnKind::Rendezvous,
            phase,
            rng,
        );
        c.header.cookie = cookie;
        // libsrt waits ten times the connect timeout in rendezvous (core.cpp:3715).
        c.connect_deadline = Some(now + c.timers.connect_timeout * 10);
        let hs = c.header.build(HandshakeType::WaveAHand, 0, 0, vec![]);
        c.send_handshake(now, 0, hs);
        c
    }

    /// The connection a listener makes for a caller whose CONCLUSION
    /// (`request`, with a valid cookie) arrived from `remote`: negotiates,
    /// queues the answer, and is connected at once; or returns the reason
    /// to refuse. `rng` is its own generator.
    pub fn accept(
        now: Instant,
        id: SocketId,
        remote: SocketAddr,
        request: &Handshake,
        request_ts: Timestamp,
        config: SocketConfig,
        rng: SecretRng,
    ) -> Result<Self, RejectReason> {
        let (agreed, mut ext, mut blocks) = respond(&config.handshake, &request.extensions)?;
        let kmreq = request.extensions.iter().find_map(|e| match e {
            HsExtension::KmReq(km) => Some(km),
            _ => None,
        });
        let (kmrsp, km) = respond_km(
            config.crypto.as_ref(),
            config.handshake.enforced_encryption,
            kmreq,
        )?;
        if let Some(kmrsp) = kmrsp {
            blocks.push(HsExtension::KmRsp(kmrsp));
            ext |= Handshake::EXT_KMREQ;
        }
        let mut c = Self::new(
            now,
            id,
            remote,
            request.isn,
            config,
            ConnKind::Accepted,
            Phase::Connected,
            rng,
        );
        c.peer_id = request.socket_id;
        c.header.mss = c.header.mss.min(request.mss);
        c.header.cookie = request.syn_cookie;
        c.km = km;
        let enc = c.responder_enc_field();
        let answer = c.header.build(HandshakeType::Conclusion, enc, ext, blocks);
        c.negotiated = Some(agreed);
        c.send_handshake(now, c.peer_id, answer);
        // Resent only when the caller repeats its conclusion.
        c.next_resend = None;
        c.peer_start = Some(peer_origin(now, request_ts));
        c.peer_flow_window = request.flow_window;
        c.start_transfer(now);
        Ok(c)
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
            Phase::Induction | Phase::Conclusion | Phase::Rendezvous { .. } => {
                ConnState::Connecting
            }
            Phase::Connected => ConnState::Connected,
            Phase::Broken => ConnState::Broken,
            Phase::Closed => ConnState::Closed,
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
            None => &self.settings.stream_id,
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
        self.last_rx = now;
        if let Some(hs) = self.last_handshake.clone() {
            self.queue(self.peer_id, ControlBody::Handshake(hs));
        }
    }

    /// Handles a packet addressed to this connection from `remote`.
    pub fn handle_packet(&mut self, now: Instant, remote: SocketAddr, packet: &Packet<'_>) {
        if remote != self.remote || matches!(self.phase, Phase::Closed | Phase::Broken) {
            return;
        }
        self.last_rx = now;
        let control = match packet {
            Packet::Control(c) => c,
            Packet::Data(d) => {
                self.on_peer_traffic(now);
                if let Some(t) = &mut self.transfer {
                    t.on_data(now, d);
                }
                self.transfer_events(now);
                return;
            }
        };
        match &control.body {
            ControlBody::Handshake(hs) => self.on_handshake(now, control.timestamp, hs),
            ControlBody::Shutdown => {
                if matches!(self.phase, Phase::Connected) {
                    self.break_with(BreakCause::PeerShutdown);
                }
            }
            body => {
                self.on_peer_traffic(now);
                if let Some(t) = &mut self.transfer {
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
        if let Some(t) = &mut self.transfer {
            t.on_undecodable_control(control_type, subtype);
        }
    }

    /// The peer's control packets this connection checked and ignored so
    /// far (zero before the connection is established).
    pub fn rejected_control(&self) -> crate::stats::RejectedControl {
        self.transfer
            .as_ref()
            .map(Transfer::rejected)
            .unwrap_or_default()
    }

    /// Steps taken on the peer's control packets and on retransmission
    /// (tests of the per-packet work bound).
    #[cfg(test)]
    pub(crate) fn control_work(&self) -> u64 {
        self.transfer.as_ref().map_or(0, Transfer::work)
    }

    /// Turns the transfer's state changes into events.
    fn transfer_events(&mut self, now: Instant) {
        if self.closing_deadline.is_some() {
            self.note_acked(now);
        }
        let Some(t) = &mut self.transfer else {
            return;
        };
        if t.take_readable(now) {
            self.events.push_back(Event::Readable { socket: self.id });
        }
        if t.take_writable() {
            self.events.push_back(Event::Writable { socket: self.id });
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
        if self.closing_deadline.is_some() {
            return Err(SendError::NotConnected);
        }
        match &mut self.transfer {
            Some(t) if matches!(self.phase, Phase::Connected) => t.send(now, payload, ctrl),
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
            ..self.transfer_config.clone()
        };
        if let Some(t) = &mut self.transfer {
            t.reconfigure(&self.transfer_config, &new, set);
        }
        self.transfer_config = new;
        self.linger = options.linger;
    }

    /// The next message due for delivery, copied into `out`; `Ok(None)` if
    /// none is ready yet.
    pub fn recv(&mut self, now: Instant, out: &mut [u8]) -> Result<Option<RecvInfo>, RecvError> {
        match &mut self.transfer {
            Some(t) => Ok(t.recv(now, out)),
            None => Err(RecvError::NotConnected),
        }
    }

    /// Whether [`recv`](Self::recv) would deliver a message now. If not,
    /// the next message raises [`Event::Readable`] again (as after a
    /// receive that found nothing), so a driver can keep level-triggered
    /// readiness exact without an extra receive.
    pub fn recv_ready(&mut self, now: Instant) -> bool {
        self.transfer.as_mut().is_some_and(|t| t.recv_ready(now))
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
        self.transfer
            .as_mut()
            .map(|t| t.stats(now, clear, instantaneous))
    }

    fn start_transfer(&mut self, now: Instant) {
        self.add_fake_sender();
        let Some(negotiated) = &self.negotiated else {
            return;
        };
        self.transfer = Some(Transfer::new(TransferSetup {
            now,
            start: self.start,
            peer_id: self.peer_id,
            snd_isn: self.header.isn,
            rcv_isn: self.rcv_isn,
            mss: self.header.mss,
            rcv_mss: self.settings.mss,
            peer_flow_window: self.peer_flow_window,
            peer_start: self.peer_start.unwrap_or(self.start),
            negotiated,
            nakreport: self.settings.nakreport,
            tx: {
                self.cipher = self.km.tx.as_ref().map(CryptoContext::cipher);
                self.km.tx.take()
            },
            rx: self.km.rx.take(),
            passphrase: self.crypto.as_ref().map(|c| c.passphrase.clone()),
            live: self.settings.transtype == crate::handshake::TransType::Live,
            message_api: self.settings.message_api,
            config: &self.transfer_config,
            rng: self.rng.fork(),
        }));
    }

    /// Data, keepalive or other traffic from the peer: completes a
    /// rendezvous responder waiting for AGREEMENT (core.cpp:4716-4737).
    fn on_peer_traffic(&mut self, now: Instant) {
        if let Phase::Rendezvous {
            phase: RdvPhase::Initiated | RdvPhase::Fine,
            role: Some(RendezvousRole::Responder),
            hsrsp: Some(_),
        } = self.phase
        {
            self.set_connected(now);
        }
    }

    fn on_handshake(&mut self, now: Instant, ts: Timestamp, hs: &Handshake) {
        if let HandshakeType::Rejection(reason) = hs.req_type {
            if !matches!(self.phase, Phase::Connected) {
                self.fail(reason);
            }
            return;
        }
        match self.phase {
            Phase::Induction => self.on_induction_response(now, hs),
            Phase::Conclusion => self.on_conclusion_response(now, ts, hs),
            Phase::Rendezvous { .. } => self.on_rendezvous(now, ts, hs),
            Phase::Connected => {
                // A rendezvous peer that missed our AGREEMENT (or HSRSP)
                // repeats its CONCLUSION: repeat the last handshake we sent.
                // Callers and accepted sockets never answer here, so two
                // connected peers cannot ping-pong handshakes.
                if self.kind == ConnKind::Rendezvous && hs.req_type == HandshakeType::Conclusion {
                    if let Some(last) = self.last_handshake.clone() {
                        self.queue(self.peer_id, ControlBody::Handshake(last));
                    }
                }
            }
            Phase::Broken | Phase::Closed => {}
        }
    }

    fn on_induction_response(&mut self, now: Instant, hs: &Handshake) {
        if hs.req_type != HandshakeType::Induction {
            return;
        }
        if hs.version < HS_VERSION_5 {
            // An HSv4 (libsrt < 1.3) listener: not supported.
            self.fail(RejectReason::Version);
            return;
        }
        if hs.extension_field != HS_MAGIC {
            self.fail(RejectReason::Rogue);
            return;
        }
        self.header.cookie = hs.syn_cookie;
        // PBKEYLEN: a caller without its own adopts the listener's (core.cpp:5210).
        if let Some(c) = &mut self.crypto {
            if c.key_len == 0 && matches!(hs.encryption_field, 2..=4) {
                c.key_len = (hs.encryption_field * 8) as u8;
            }
        }
        let (ext, enc, blocks) = self.initiator_conclusion();
        let conclusion = self
            .header
            .build(HandshakeType::Conclusion, enc, ext, blocks);
        self.phase = Phase::Conclusion;
        // The caller's CONCLUSION also goes to socket 0 (core.cpp:3897).
        self.send_handshake(now, 0, conclusion);
    }

    fn on_conclusion_response(&mut self, now: Instant, ts: Timestamp, hs: &Handshake) {
        if hs.req_type != HandshakeType::Conclusion {
            return;
        }
        if !hs.is_valid() {
            self.fail(RejectReason::Rogue);
            return;
        }
        let kmrsp = hs.extensions.iter().find_map(|e| match e {
            HsExtension::KmRsp(r) => Some(r),
            _ => None,
        });
        // The listener has made its socket: a refusal from here on tells
        // it with a SHUTDOWN (libsrt `startConnect` and the async
        // connector send one on CONN_REJECT), or it would stay connected.
        self.peer_id = hs.socket_id;
        let km = match adopt_km(self.km_tx.take(), self.settings.enforced_encryption, kmrsp) {
            Ok(km) => km,
            Err(refusal) => {
                self.km.state = Some(refusal.rcv);
                self.km.snd_state = Some(refusal.snd);
                self.refuse_answer(refusal.reason);
                return;
            }
        };
        self.km = km;
        match adopt_response(&self.settings, &hs.extensions) {
            Ok(agreed) => {
                self.peer_id = hs.socket_id;
                self.header.mss = hs.mss;
                self.negotiated = Some(agreed);
                self.peer_start = Some(peer_origin(now, ts));
                self.peer_flow_window = hs.flow_window;
                // Both directions use the caller's ISN, which the listener echoes.
                self.rcv_isn = self.header.isn;
                self.set_connected(now);
            }
            Err(reason) => self.refuse_answer(reason),
        }
    }

    /// A caller refuses the listener's accepting CONCLUSION: SHUTDOWN to
    /// the socket the listener made, then fails with `reason`.
    fn refuse_answer(&mut self, reason: RejectReason) {
        if self.peer_id != 0 {
            self.queue(self.peer_id, ControlBody::Shutdown);
        }
        self.fail(reason);
    }

    fn on_rendezvous(&mut self, now: Instant, ts: Timestamp, hs: &Handshake) {
        let Phase::Rendezvous { phase, role, hsrsp } = &mut self.phase else {
            return;
        };
        if !matches!(
            hs.req_type,
            HandshakeType::WaveAHand | HandshakeType::Conclusion | HandshakeType::Agreement
        ) {
            return;
        }
        self.peer_id = hs.socket_id;
        let role = match role {
            Some(r) => *r,
            None => match cookie_contest(self.header.cookie, hs.syn_cookie) {
                Ok(r) => {
                    *role = Some(r);
                    r
                }
                Err(reason) => {
                    self.fail(reason);
                    return;
                }
            },
        };
        let peer_has_blocks = !hs.extensions.is_empty();
        if peer_has_blocks {
            // The packet carrying HSREQ or HSRSP sets the TSBPD base.
            self.peer_start = Some(peer_origin(now, ts));
        }
        // In rendezvous each side keeps its own ISN.
        self.rcv_isn = hs.isn;
        self.peer_flow_window = hs.flow_window;
        use HandshakeType as T;
        use RdvPhase as P;
        use RendezvousRole::{Initiator, Responder};
        let mut connect_with: Option<Result<Negotiated, RejectReason>> = None;
        let mut send_agreement = false;
        // What to send: None, our conclusion for the role, or nothing.
        let mut send_conclusion = false;
        let mut failure = None;
        match (*phase, hs.req_type, role) {
            (P::Waving, T::WaveAHand, _) | (P::Attention, T::WaveAHand, _) => {
                *phase = P::Attention;
                send_conclusion = true;
            }
            (P::Waving | P::Attention | P::Fine, T::Conclusion, Initiator) => {
                if peer_has_blocks {
                    connect_with = Some(adopt_response(&self.settings, &hs.extensions));
                    send_agreement = true;
                } else {
                    if *phase == P::Waving {
                        *phase = P::Fine;
                    }
                    send_conclusion = true;
                }
            }
            (P::Waving | P::Attention | P::Fine | P::Initiated, T::Conclusion, Responder) => {
                if peer_has_blocks && hsrsp.is_none() {
                    let kmreq = hs.extensions.iter().find_map(|e| match e {
                        HsExtension::KmReq(km) => Some(km),
                        _ => None,
                    });
                    let outcome = respond(&self.settings, &hs.extensions).and_then(|r| {
                        respond_km(
                            self.crypto.as_ref(),
                            self.settings.enforced_encryption,
                            kmreq,
                        )
                        .map(|k| (r, k))
                    });
                    match outcome {
                        Ok(((agreed, mut ext, mut blocks), (kmrsp, km))) => {
                            if let Some(kmrsp) = kmrsp {
                                blocks.push(HsExtension::KmRsp(kmrsp));
                                ext |= Handshake::EXT_KMREQ;
                            }
                            self.negotiated = Some(agreed);
                            self.km = km;
                            *hsrsp = Some((ext, blocks));
                        }
                        Err(reason) => failure = Some(reason),
                    }
                }
                *phase = match (*phase, hsrsp.is_some()) {
                    (P::Waving, true) => P::Fine,
                    (P::Attention, true) => P::Initiated,
                    (p, _) => p,
                };
                send_conclusion = true;
            }
            (P::Attention, T::Agreement, Initiator) => {
                if self.negotiated.is_some() {
                    connect_with = self.negotiated.clone().map(Ok);
                } else {
                    send_conclusion = true;
                }
            }
            (P::Attention, T::Agreement, Responder) => send_conclusion = true,
            (P::Fine | P::Initiated, T::Agreement, Responder) if hsrsp.is_some() => {
                connect_with = self.negotiated.clone().map(Ok);
            }
            (P::Fine | P::Initiated, T::Agreement, _) => send_conclusion = true,
            _ => failure = Some(RejectReason::Rogue),
        }
        if let Some(reason) = failure {
            self.fail(reason);
            return;
        }
        if send_conclusion {
            let hsrsp = hsrsp.clone();
            let (ext, enc, blocks) = match (role, hsrsp) {
                (Initiator, _) => self.initiator_conclusion(),
                (Responder, Some((ext, blocks))) => (ext, self.responder_enc_field(), blocks),
                (Responder, None) => (0, self.responder_enc_field(), vec![]),
            };
            let conclusion = self
                .header
                .build(HandshakeType::Conclusion, enc, ext, blocks);
            self.send_handshake(now, self.peer_id, conclusion);
        }
        if role == Initiator {
            if let Some(Ok(_)) = &connect_with {
                let kmrsp = hs.extensions.iter().find_map(|e| match e {
                    HsExtension::KmRsp(r) => Some(r),
                    _ => None,
                });
                if self.km.state.is_none() {
                    match adopt_km(self.km_tx.take(), self.settings.enforced_encryption, kmrsp) {
                        Ok(km) => self.km = km,
                        Err(refusal) => {
                            self.km.state = Some(refusal.rcv);
                            self.km.snd_state = Some(refusal.snd);
                            connect_with = Some(Err(refusal.reason));
                        }
                    }
                }
            }
        }
        match connect_with {
            Some(Ok(agreed)) => {
                self.negotiated = Some(agreed);
                if send_agreement {
                    let agreement = self.header.build(HandshakeType::Agreement, 0, 0, vec![]);
                    self.send_handshake(now, self.peer_id, agreement);
                }
                self.set_connected(now);
            }
            Some(Err(reason)) => self.fail(reason),
            None => {}
        }
    }

    fn set_connected(&mut self, now: Instant) {
        self.phase = Phase::Connected;
        self.next_resend = None;
        self.start_transfer(now);
        self.events.push_back(Event::Connected { socket: self.id });
    }

    fn fail(&mut self, reason: RejectReason) {
        self.phase = Phase::Broken;
        self.next_resend = None;
        self.reject_reason = Some(reason);
        self.events.push_back(Event::ConnectFailed {
            socket: self.id,
            reason,
        });
    }

    fn break_with(&mut self, cause: BreakCause) {
        self.phase = Phase::Broken;
        self.events.push_back(Event::Broken {
            socket: self.id,
            cause,
        });
    }

    /// Queues a handshake, remembers it for resending, and arms the timer.
    fn send_handshake(&mut self, now: Instant, dest: u32, hs: Handshake) {
        self.last_handshake = Some(hs.clone());
        self.queue(dest, ControlBody::Handshake(hs));
        self.next_resend = Some(now + HANDSHAKE_RESEND);
    }

    fn queue(&mut self, dest: u32, body: ControlBody<'static>) {
        self.outgoing.push_back((dest, body));
    }

    /// Closes the connection. [`CloseMode::Abort`] drops what is queued at
    /// once; [`CloseMode::Linger`] first waits, up to `SRTO_LINGER`
    /// ([`CloseMode::LingerFor`]: up to its time), until everything sent is
    /// acknowledged and, with TSBPD (live mode), until the peer's latency
    /// has passed since the last message's origin: libsrt drops what it
    /// still holds for delivery when SHUTDOWN comes. Then SHUTDOWN goes to
    /// a connected peer and [`Event::Closed`] follows.
    pub fn close(&mut self, now: Instant, mode: CloseMode) {
        if matches!(self.phase, Phase::Closed) || self.closing_deadline.is_some() {
            if mode == CloseMode::Abort {
                self.finish_close();
            }
            return;
        }
        let linger = match mode {
            CloseMode::Linger => self.linger,
            CloseMode::LingerFor(d) => Some(d),
            CloseMode::Lossless => self.linger.filter(|l| !l.is_zero()).or_else(|| {
                let latency = self.transfer.as_ref().and_then(Transfer::snd_latency)?;
                Some(2 * latency + LOSSLESS_LINGER_EXTRA)
            }),
            CloseMode::Abort => None,
        };
        let connected = matches!(self.phase, Phase::Connected);
        match linger {
            Some(linger) if connected && !linger.is_zero() && !self.drained(now) => {
                self.closing_deadline = Some(now + linger);
            }
            _ => self.finish_close(),
        }
    }

    /// Whether a lingering close may end: everything sent is acknowledged
    /// and (with TSBPD) delivered by the peer, [`DELIVERY_MARGIN`] ago.
    fn drained(&mut self, now: Instant) -> bool {
        self.note_acked(now);
        self.drained_at().is_some_and(|d| now >= d)
    }

    /// When a lingering close may end, once everything is acknowledged.
    fn drained_at(&self) -> Option<Instant> {
        let acked = self.acked_at?;
        Some(
            match self.transfer.as_ref().and_then(Transfer::delivered_by) {
                // A message that arrived after its time is delivered on arrival.
                Some(d) => d.max(acked) + DELIVERY_MARGIN,
                None => acked,
            },
        )
    }

    /// Remembers when a lingering close first found everything acknowledged.
    fn note_acked(&mut self, now: Instant) {
        if self.acked_at.is_none() && self.transfer.as_ref().is_none_or(Transfer::all_acked) {
            self.acked_at = Some(now);
        }
    }

    fn finish_close(&mut self) {
        if matches!(self.phase, Phase::Closed) {
            return;
        }
        if matches!(self.phase, Phase::Connected) && self.peer_id != 0 {
            self.queue(self.peer_id, ControlBody::Shutdown);
        }
        self.phase = Phase::Closed;
        self.next_resend = None;
        self.closing_deadline = None;
        self.events.push_back(Event::Closed { socket: self.id });
    }

    /// Advances the timers to `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        match self.phase {
            Phase::Induction | Phase::Conclusion | Phase::Rendezvous { .. } => {
                if self.connect_deadline.is_some_and(|d| now >= d) {
                    self.fail(RejectReason::Timeout);
                    return;
                }
                if self.next_resend.is_some_and(|t| now >= t) {
                    if let Some(hs) = self.last_handshake.clone() {
                        let dest = match self.phase {
                            Phase::Rendezvous { .. } => self.peer_id,
                            _ => 0,
                        };
                        self.queue(dest, ControlBody::Handshake(hs));
                    }
                    self.next_resend = Some(now + HANDSHAKE_RESEND);
                }
            }
            Phase::Connected => {
                if now >= self.last_rx + self.timers.peer_idle_timeout {
                    self.break_with(BreakCause::PeerIdle);
                    return;
                }
                if let Some(t) = &mut self.transfer {
                    t.handle_timeout(now);
                }
                self.transfer_events(now);
                if let Some(deadline) = self.closing_deadline {
                    if self.drained(now) || now >= deadline {
                        self.finish_close();
                        return;
                    }
                }
                if now >= self.last_tx + KEEPALIVE_PERIOD && !self.has_transmit(now) {
                    self.queue(self.peer_id, ControlBody::KeepAlive);
                }
            }
            Phase::Broken | Phase::Closed => {}
        }
    }

    /// When [`Connection::handle_timeout`] should next be called.
    pub fn poll_timeout(&self) -> Option<Instant> {
        match self.phase {
            Phase::Induction | Phase::Conclusion | Phase::Rendezvous { .. } => {
                match (self.next_resend, self.connect_deadline) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                }
            }
            Phase::Connected => {
                let mut t = (self.last_rx + self.timers.peer_idle_timeout)
                    .min(self.last_tx + KEEPALIVE_PERIOD);
                if let Some(x) = self.transfer.as_ref().and_then(Transfer::poll_timeout) {
                    t = t.min(x);
                }
                if let Some(d) = self.closing_deadline {
                    // All acknowledged: the close waits for the peer's delivery.
                    t = t.min(d).min(self.drained_at().unwrap_or(d));
                }
                Some(t)
            }
            Phase::Broken | Phase::Closed => None,
        }
    }

    /// Writes the next datagram to send into `buf`.
    pub fn poll_transmit(
        &mut self,
        now: Instant,
        buf: &mut [u8],
    ) -> Result<Option<Transmit>, EncodeError> {
        if let Some((dest, body)) = self.outgoing.pop_front() {
            let packet = ControlPacket {
                timestamp: self.timestamp(now),
                dest_socket: SocketId(dest),
                body,
            };
            let size = packet.encode(buf)?;
            self.last_tx = now;
            return Ok(Some(Transmit {
                destination: self.remote,
                size,
            }));
        }
        if !matches!(self.phase, Phase::Connected) {
            return Ok(None);
        }
        let Some(t) = &mut self.transfer else {
            return Ok(None);
        };
        let sent = t.poll_transmit(now, buf)?;
        if self.closing_deadline.is_some() && self.drained(now) {
            self.finish_close();
        }
        Ok(sent.map(|size| {
            self.last_tx = now;
            Transmit {
                destination: self.remote,
                size,
            }
        }))
    }

    /// Whether [`Connection::poll_transmit`] has something to send at `now`.
    pub fn has_transmit(&self, now: Instant) -> bool {
        !self.outgoing.is_empty()
            || (matches!(self.phase, Phase::Connected)
                && self
                    .transfer
                    .as_ref()
                    .is_some_and(|t| t.wants_transmit(now)))
    }

    /// When [`Connection::has_transmit`] turns true by time alone (data
    /// waiting for its pacing time); `None` if only a new input can make it.
    pub(crate) fn send_due_at(&self) -> Option<Instant> {
        match self.phase {
            Phase::Connected => self.transfer.as_ref().and_then(Transfer::send_due_at),
            _ => None,
        }
    }

    /// The next event for the application.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// The packet timestamp for `now`: µs since the socket started, wrapped.
    fn timestamp(&self, now: Instant) -> Timestamp {
        Timestamp::from_micros(now.saturating_duration_since(self.start).as_micros() as u64)
    }
}

/// The peer's clock origin as seen here: when a packet stamped `ts` arrived at `now`.
fn peer_origin(now: Instant, ts: Timestamp) -> Instant {
    now.checked_sub(Duration::from_micros(u64::from(ts.as_u32())))
        .unwrap_or(now)
}
