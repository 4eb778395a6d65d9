//! The handshake phases of a [`Connection`]: the constructors (caller,
//! rendezvous, accepted), the caller's induction and conclusion, the
//! rendezvous exchange with its cookie contest, and the key material
//! agreed on the way.

use super::SocketConfig;
use super::{ConnKind, Connection, Handshaking, Phase, RdvPhase, Step};
use crate::crypto::CryptoContext;
use crate::handshake::{
    adopt_km, adopt_response, cookie_contest, initiator_blocks, respond, respond_km, Negotiated,
    RendezvousRole, HS_SOCKTYPE_DGRAM, HS_VERSION_4, HS_VERSION_5,
};
use crate::packet::{
    ControlBody, Handshake, HandshakeType, HsExtension, RejectReason, SocketId, HS_MAGIC,
};
use crate::rng::SecretRng;
use crate::seq::{SeqNumber, Timestamp};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

impl Connection {
    /// The initiator's CONCLUSION blocks with its KMREQ, and the
    /// encryption field; the sending context is made once.
    fn initiator_conclusion(&mut self) -> (u16, u16, Vec<HsExtension>) {
        let (mut ext, mut blocks) = initiator_blocks(&self.config.handshake);
        let Some(c) = &self.config.crypto else {
            return (ext, 0, blocks);
        };
        let Phase::Handshaking(h) = &mut self.phase else {
            return (ext, 0, blocks);
        };
        if h.km_tx.is_none() {
            let key_len = usize::from(if c.key_len == 0 { 16 } else { c.key_len });
            let mut salt = [0u8; 16];
            let mut sek = zeroize::Zeroizing::new([0u8; 32]);
            self.rng.fill_bytes(&mut salt);
            self.rng.fill_bytes(&mut sek[..]);
            h.km_tx =
                CryptoContext::sender(&c.passphrase, c.cipher, &salt, &sek[..key_len], c.refresh)
                    .ok();
        }
        let Some(tx) = &h.km_tx else {
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
        match &self.config.crypto {
            Some(c) => u16::from(if c.key_len == 0 { 16 } else { c.key_len }) / 8,
            None => 0,
        }
    }

    /// libsrt's "fake" sending context (crypto.cpp `createFakeSndContext`):
    /// a responder with a passphrase whose peer sent no key material, or
    /// key material it could not open, still encrypts what it sends, with a
    /// key the peer never gets, rather than send it in clear.
    pub(super) fn add_fake_sender(&mut self) {
        if self.km.tx.is_some() || self.km.state.is_none() {
            return;
        }
        let Some(c) = &self.config.crypto else {
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
            Step::Induction,
            rng,
        );
        let deadline = now + c.config.timers.connect_timeout;
        if let Some(h) = c.phase.handshaking_mut() {
            h.connect_deadline = Some(deadline);
        }
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
        // The filter negotiation's rendezvous rule (identical strings)
        // applies whether or not SRTO_RENDEZVOUS was set.
        let mut config = config;
        config.handshake.rendezvous = true;
        let step = Step::Rendezvous {
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
            step,
            rng,
        );
        c.header.cookie = cookie;
        // libsrt waits ten times the connect timeout in rendezvous (core.cpp:3715).
        let deadline = now + c.config.timers.connect_timeout * 10;
        if let Some(h) = c.phase.handshaking_mut() {
            h.connect_deadline = Some(deadline);
        }
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
            Step::Conclusion,
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
        // Resent only when the caller repeats its conclusion (connected at
        // once: the handshake's resend timer goes with its phase).
        if let Some(h) = c.phase.handshaking_mut() {
            h.peer_start = Some(peer_origin(now, request_ts));
            h.peer_flow_window = request.flow_window;
        }
        c.start_transfer(now);
        Ok(c)
    }

    /// Data, keepalive or other traffic from the peer: completes a
    /// rendezvous responder waiting for AGREEMENT (core.cpp:4716-4737).
    pub(super) fn on_peer_traffic(&mut self, now: Instant) {
        if let Phase::Handshaking(Handshaking {
            step:
                Step::Rendezvous {
                    phase: RdvPhase::Initiated | RdvPhase::Fine,
                    role: Some(RendezvousRole::Responder),
                    hsrsp: Some(_),
                },
            ..
        }) = self.phase
        {
            self.set_connected(now);
        }
    }

    pub(super) fn on_handshake(&mut self, now: Instant, ts: Timestamp, hs: &Handshake) {
        if let HandshakeType::Rejection(reason) = hs.req_type {
            if !self.phase.is_connected() {
                self.fail(reason);
            }
            return;
        }
        match self.phase {
            Phase::Handshaking(Handshaking {
                step: Step::Induction,
                ..
            }) => self.on_induction_response(now, hs),
            Phase::Handshaking(Handshaking {
                step: Step::Conclusion,
                ..
            }) => self.on_conclusion_response(now, ts, hs),
            Phase::Handshaking(Handshaking {
                step: Step::Rendezvous { .. },
                ..
            }) => self.on_rendezvous(now, ts, hs),
            Phase::Connected(_) | Phase::Closing { .. } => {
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
            Phase::Broken(_) | Phase::Closed(_) => {}
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
        if let Some(c) = &mut self.config.crypto {
            if c.key_len == 0 && matches!(hs.encryption_field, 2..=4) {
                c.key_len = (hs.encryption_field * 8) as u8;
            }
        }
        let (ext, enc, blocks) = self.initiator_conclusion();
        let conclusion = self
            .header
            .build(HandshakeType::Conclusion, enc, ext, blocks);
        if let Some(h) = self.phase.handshaking_mut() {
            h.step = Step::Conclusion;
        }
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
        let km_tx = self.phase.handshaking_mut().and_then(|h| h.km_tx.take());
        let km = match adopt_km(km_tx, self.config.handshake.enforced_encryption, kmrsp) {
            Ok(km) => km,
            Err(refusal) => {
                self.km.state = Some(refusal.rcv);
                self.km.snd_state = Some(refusal.snd);
                self.refuse_answer(refusal.reason);
                return;
            }
        };
        self.km = km;
        match adopt_response(&self.config.handshake, &hs.extensions) {
            Ok(agreed) => {
                self.peer_id = hs.socket_id;
                self.header.mss = hs.mss;
                self.negotiated = Some(agreed);
                let isn = self.header.isn;
                if let Some(h) = self.phase.handshaking_mut() {
                    h.peer_start = Some(peer_origin(now, ts));
                    h.peer_flow_window = hs.flow_window;
                    // Both directions use the caller's ISN, which the listener echoes.
                    h.rcv_isn = isn;
                }
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
        let Phase::Handshaking(Handshaking {
            step: Step::Rendezvous { phase, role, hsrsp },
            peer_start,
            rcv_isn,
            peer_flow_window,
            ..
        }) = &mut self.phase
        else {
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
            *peer_start = Some(peer_origin(now, ts));
        }
        // In rendezvous each side keeps its own ISN.
        *rcv_isn = hs.isn;
        *peer_flow_window = hs.flow_window;
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
                    connect_with = Some(adopt_response(&self.config.handshake, &hs.extensions));
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
                    let outcome = respond(&self.config.handshake, &hs.extensions).and_then(|r| {
                        respond_km(
                            self.config.crypto.as_ref(),
                            self.config.handshake.enforced_encryption,
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
                    let km_tx = self.phase.handshaking_mut().and_then(|h| h.km_tx.take());
                    match adopt_km(km_tx, self.config.handshake.enforced_encryption, kmrsp) {
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
}

/// The peer's clock origin as seen here: when a packet stamped `ts` arrived at `now`.
fn peer_origin(now: Instant, ts: Timestamp) -> Instant {
    now.checked_sub(Duration::from_micros(u64::from(ts.as_u32())))
        .unwrap_or(now)
}
