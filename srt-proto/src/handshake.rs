//! HSv5 negotiation: what an initiator asks for (HSREQ and its companion
//! blocks), how a responder answers or refuses (HSRSP or a rejection reason),
//! and how the initiator adopts the answer. Pure functions over the packet
//! types; the connection state machines live in [`crate::connection`].

use crate::crypto::{CryptoContext, CryptoError, RefreshConfig};
use crate::filter::{negotiate, AgreedFilter, HsSide};
use crate::packet::{Cipher, GroupBlock, KeyMaterial, KmResponse, KmState};
use crate::packet::{
    Handshake, HandshakeType, HsExtension, PeerAddress, RejectReason, SrtFlags, SrtHandshake,
    SrtVersion,
};
use crate::seq::SeqNumber;
use std::time::Duration;
use zeroize::Zeroizing;

/// Encryption settings of a socket with a passphrase.
#[derive(Clone, PartialEq, Eq)]
pub struct CryptoSettings {
    /// `SRTO_PASSPHRASE`.
    pub passphrase: Zeroizing<Vec<u8>>,
    /// `SRTO_PBKEYLEN` in bytes; 0 = follow the peer (16 if it says nothing).
    pub key_len: u8,
    /// The cipher an initiator uses (`SRTO_CRYPTOMODE`; "auto" is AES-CTR).
    pub cipher: Cipher,
    /// Whether a responder insists on `cipher` (`SRTO_CRYPTOMODE` 1 or 2,
    /// or "auto" without TSBPD) and refuses a peer using the other one;
    /// else ("auto") it adopts the initiator's (libsrt ≥ 1.5.2,
    /// crypto.cpp `processSrtMsg_KMREQ`).
    pub cipher_fixed: bool,
    /// `SRTO_KMREFRESHRATE` / `SRTO_KMPREANNOUNCE`.
    pub refresh: RefreshConfig,
}

impl std::fmt::Debug for CryptoSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CryptoSettings")
            .field("passphrase", &"<redacted>")
            .field("key_len", &self.key_len)
            .field("cipher", &self.cipher)
            .field("cipher_fixed", &self.cipher_fixed)
            .finish()
    }
}

/// What the key material exchange agreed: the contexts that encrypt what
/// this side sends and decrypt what it receives, and the KM state.
#[derive(Default)]
pub(crate) struct KmAgreement {
    /// Encrypts what this side sends.
    pub tx: Option<CryptoContext>,
    /// Decrypts what this side receives.
    pub rx: Option<CryptoContext>,
    /// The receiving direction's state (`SRTO_RCVKMSTATE`; libsrt's
    /// `SRTO_KMSTATE` unless `SRTO_SENDER` is set).
    pub state: Option<KmState>,
    /// The sending direction's state (`SRTO_SNDKMSTATE`).
    pub snd_state: Option<KmState>,
    /// The key length of the peer's KMREQ, which a responder adopts
    /// (libsrt's `SRTO_PBKEYLEN` then reads it, even without a passphrase).
    pub peer_key_len: Option<u8>,
}

/// An initiator's refusal of the responder's answer: the reason, and the
/// KM states libsrt's caller is left with (`SRTO_RCVKMSTATE`,
/// `SRTO_SNDKMSTATE`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct KmRefusal {
    /// The rejection reason (`srt_getrejectreason`).
    pub reason: RejectReason,
    /// The receiving direction's state after the refusal.
    pub rcv: KmState,
    /// The sending direction's state after the refusal.
    pub snd: KmState,
}

impl KmRefusal {
    fn new(reason: RejectReason, rcv: KmState, snd: KmState) -> Self {
        KmRefusal { reason, rcv, snd }
    }
}

impl KmAgreement {
    /// No keys, with these receiving and sending states (libsrt's pair
    /// for each way a key exchange can fail, crypto.cpp).
    fn failed(rcv: KmState, snd: KmState) -> Self {
        KmAgreement {
            state: Some(rcv),
            snd_state: Some(snd),
            ..KmAgreement::default()
        }
    }
}

impl std::fmt::Debug for KmAgreement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KmAgreement")
            .field("tx", &self.tx.is_some())
            .field("rx", &self.rx.is_some())
            .field("state", &self.state)
            .field("snd_state", &self.snd_state)
            .field("peer_key_len", &self.peer_key_len)
            .finish()
    }
}

/// The responder's side of the key material exchange (libsrt
/// `processSrtMsg_KMREQ`): the KMRSP to send back, the agreement, or the
/// rejection an enforced encryption policy demands.
pub(crate) fn respond_km(
    crypto: Option<&CryptoSettings>,
    enforced: bool,
    kmreq: Option<&KeyMaterial>,
) -> Result<(Option<KmResponse>, KmAgreement), RejectReason> {
    let (rsp, mut agreement) = respond_km_states(crypto, enforced, kmreq)?;
    agreement.peer_key_len = kmreq.map(|km| km.key_len);
    Ok((rsp, agreement))
}

fn respond_km_states(
    crypto: Option<&CryptoSettings>,
    enforced: bool,
    kmreq: Option<&KeyMaterial>,
) -> Result<(Option<KmResponse>, KmAgreement), RejectReason> {
    match (crypto, kmreq) {
        (None, None) => Ok((None, KmAgreement::default())),
        // The peer encrypts, we have no passphrase.
        (None, Some(_)) => {
            if enforced {
                return Err(RejectReason::Unsecure);
            }
            // processSrtMsg_KMREQ: we cannot decrypt; we send in clear.
            let agreement = KmAgreement::failed(KmState::NoSecret, KmState::Unsecured);
            Ok((Some(KmResponse::State(KmState::NoSecret)), agreement))
        }
        // We have a passphrase, the peer sends no key material.
        (Some(_), None) => {
            if enforced {
                return Err(RejectReason::Unsecure);
            }
            // The peer sends in clear; what we send it cannot decrypt
            // (core.cpp: "Agent declares encryption, but Peer does not").
            // libsrt answers with a one-word KMRSP "UNSECURED" all the same
            // (`fillHsExtKMRSP`: "Agent has PW, but Peer sent no KMREQ").
            let agreement = KmAgreement::failed(KmState::Unsecured, KmState::NoSecret);
            Ok((Some(KmResponse::State(KmState::Unsecured)), agreement))
        }
        (Some(c), Some(km)) => {
            if c.cipher_fixed && km.cipher != c.cipher {
                // libsrt ≥ 1.5.2 (AEAD API): a responder with an explicit
                // cipher refuses the other one (BADCRYPTOMODE), enforced
                // encryption or not (core.cpp `interpretSrtHandshake`).
                return Err(RejectReason::Crypto);
            }
            match CryptoContext::receiver(&c.passphrase, km) {
                Ok(rx) => {
                    let tx = rx.mirror_for_sending(c.refresh).ok();
                    let agreement = KmAgreement {
                        tx,
                        rx: Some(rx),
                        state: Some(KmState::Secured),
                        snd_state: Some(KmState::Secured),
                        peer_key_len: None,
                    };
                    Ok((Some(KmResponse::Material(km.clone())), agreement))
                }
                Err(e) => {
                    if enforced {
                        return Err(match e {
                            CryptoError::CipherMismatch => RejectReason::Crypto,
                            _ => RejectReason::BadSecret,
                        });
                    }
                    let state = e.km_state();
                    let agreement = KmAgreement::failed(state, state);
                    Ok((Some(KmResponse::State(state)), agreement))
                }
            }
        }
    }
}

/// The initiator's side (libsrt `interpretSrtHandshake` and
/// `processSrtMsg_KMRSP`): checks the responder's KMRSP against the KMREQ
/// it sent with `tx`, and returns the agreement, or the refusal with the
/// KM states libsrt is left with.
///
/// As libsrt 1.5.1, a refusal under enforced encryption gives
/// `SRT_REJ_UNSECURE` even for a BADSECRET answer (libsrt 1.5.5 says
/// `SRT_REJ_BADSECRET` there); a BADCRYPTOMODE answer gives
/// `SRT_REJ_CRYPTO`, as libsrt ≥ 1.5.2 with the AEAD API.
pub(crate) fn adopt_km(
    tx: Option<CryptoContext>,
    enforced: bool,
    kmrsp: Option<&KmResponse>,
) -> Result<KmAgreement, KmRefusal> {
    use KmState::{BadSecret, NoSecret, Securing, Unsecured};
    match (tx, kmrsp) {
        (None, None) => Ok(KmAgreement::default()),
        // The peer encrypts, we cannot decrypt (KMRSP "UNSECURED"). With
        // enforced encryption libsrt refuses before reading the KMRSP.
        (None, Some(_)) => {
            if enforced {
                return Err(KmRefusal::new(RejectReason::Unsecure, Unsecured, Unsecured));
            }
            Ok(KmAgreement::failed(NoSecret, Unsecured))
        }
        (Some(tx), None) => {
            if enforced {
                return Err(KmRefusal::new(RejectReason::Unsecure, Unsecured, Securing));
            }
            Ok(KmAgreement {
                tx: Some(tx),
                ..KmAgreement::failed(Unsecured, NoSecret)
            })
        }
        (Some(tx), Some(KmResponse::Material(km))) => {
            let sent = tx.key_material().ok();
            if sent.as_ref() != Some(km) {
                // "KM response matches no key": BADSECRET both ways.
                if enforced {
                    return Err(KmRefusal::new(RejectReason::Unsecure, BadSecret, BadSecret));
                }
                return Ok(KmAgreement {
                    tx: Some(tx),
                    ..KmAgreement::failed(BadSecret, BadSecret)
                });
            }
            let rx = tx.mirror_for_receiving().ok();
            Ok(KmAgreement {
                tx: Some(tx),
                rx,
                state: Some(KmState::Secured),
                snd_state: Some(KmState::Secured),
                peer_key_len: None,
            })
        }
        (Some(tx), Some(KmResponse::State(state))) => {
            // processSrtMsg_KMRSP's pair of states for each report.
            let (rcv, snd) = match state {
                NoSecret => (Unsecured, NoSecret),
                Unsecured => (NoSecret, Unsecured),
                Securing | KmState::Secured => (NoSecret, NoSecret),
                s => (*s, *s),
            };
            // Only UNSECURED is not a failure (the peer has a passphrase,
            // we sent no KMREQ); the others are refused when enforced.
            let refused = match state {
                Unsecured => None,
                _ if !enforced => None,
                KmState::BadCryptoMode => Some(RejectReason::Crypto),
                _ => Some(RejectReason::Unsecure),
            };
            if let Some(reason) = refused {
                return Err(KmRefusal::new(reason, rcv, snd));
            }
            // We keep encrypting what we send.
            Ok(KmAgreement {
                tx: Some(tx),
                ..KmAgreement::failed(rcv, snd)
            })
        }
    }
}

/// The SRT version this implementation announces in HSREQ/HSRSP.
pub(crate) const SRT_VERSION: SrtVersion = SrtVersion::new(1, 5, 4);

/// The oldest peer version that speaks HSv5 (libsrt rejects older ones).
pub(crate) const HSV5_MIN_VERSION: SrtVersion = SrtVersion::new(1, 3, 0);

/// The handshake version of HSv5.
pub(crate) const HS_VERSION_5: u32 = 5;
/// The handshake version of UDT / HSv4, which every caller's induction uses.
pub(crate) const HS_VERSION_4: u32 = 4;
/// The HSv4 socket type field value (`SOCK_DGRAM`).
pub(crate) const HS_SOCKTYPE_DGRAM: u16 = 2;

/// How often an unanswered handshake is sent again (libsrt: 250 ms).
pub(crate) const HANDSHAKE_RESEND: Duration = Duration::from_millis(250);

/// The transmission type (`SRTO_TRANSTYPE`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TransType {
    /// Live mode: TSBPD, too-late drop, message API.
    Live,
    /// File mode: file congestion control, stream or message API.
    File,
}

/// The settings of one side that the handshake carries or checks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HsSettings {
    /// Transmission type.
    pub transtype: TransType,
    /// Whether TSBPD is on (`SRTO_TSBPDMODE`).
    pub tsbpd: bool,
    /// Latency wanted when receiving (`SRTO_RCVLATENCY`), ms.
    pub rcv_latency_ms: u16,
    /// Latency proposed for the peer's receiving (`SRTO_PEERLATENCY`), ms.
    pub peer_latency_ms: u16,
    /// Too-late packet drop (`SRTO_TLPKTDROP`).
    pub tlpktdrop: bool,
    /// Periodic NAK reports (`SRTO_NAKREPORT`).
    pub nakreport: bool,
    /// Message API (`SRTO_MESSAGEAPI`).
    pub message_api: bool,
    /// Congestion controller name (`SRTO_CONGESTION`): "live" or "file".
    pub congestion: Vec<u8>,
    /// Stream ID (`SRTO_STREAMID`), sent by the initiator.
    pub stream_id: Vec<u8>,
    /// The oldest peer version accepted (`SRTO_MINVERSION`).
    pub min_version: SrtVersion,
    /// Maximum segment size (`SRTO_MSS`).
    pub mss: u32,
    /// Flow window in packets: min(receive buffer, `SRTO_FC`).
    pub flow_window: u32,
    /// Whether a passphrase is set (`SRTO_PASSPHRASE`).
    pub has_passphrase: bool,
    /// `SRTO_ENFORCEDENCRYPTION`.
    pub enforced_encryption: bool,
    /// `SRTO_PACKETFILTER`: sent in a FILTER block, negotiated with the peer's.
    pub packet_filter: Option<String>,
    /// `SRTO_RENDEZVOUS`: both filter strings must then be identical.
    pub rendezvous: bool,
    /// The GROUP block this side sends: a caller's group membership, or
    /// an accepted member's mirror group (see [`crate::group`]).
    pub group: Option<GroupBlock>,
    /// `SRTO_GROUPCONNECT`: a listener accepts group members.
    pub group_connect: bool,
}

impl Default for HsSettings {
    fn default() -> Self {
        HsSettings {
            transtype: TransType::Live,
            tsbpd: true,
            rcv_latency_ms: 120,
            peer_latency_ms: 0,
            tlpktdrop: true,
            nakreport: true,
            message_api: true,
            congestion: b"live".to_vec(),
            stream_id: Vec::new(),
            min_version: SrtVersion::new(1, 0, 0),
            mss: 1500,
            flow_window: 8192,
            has_passphrase: false,
            enforced_encryption: true,
            packet_filter: None,
            rendezvous: false,
            group: None,
            group_connect: false,
        }
    }
}

/// What the two sides agreed, as one side sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Negotiated {
    /// The peer's SRT version.
    pub peer_version: SrtVersion,
    /// The peer's SRT flags.
    pub peer_flags: SrtFlags,
    /// TSBPD latency of what this side receives, if the peer sends with TSBPD.
    pub rcv_latency: Option<Duration>,
    /// TSBPD latency of what this side sends, if the peer receives with TSBPD.
    pub snd_latency: Option<Duration>,
    /// Too-late packet drop in effect.
    pub tlpktdrop: bool,
    /// The peer sends periodic NAK reports.
    pub peer_nakreport: bool,
    /// The stream ID (sent by the initiator).
    pub stream_id: Vec<u8>,
    /// The packet filter both sides agreed on (`SRT_CMD_FILTER`), if any.
    pub filter: Option<AgreedFilter>,
    /// The peer's GROUP block: the caller's group (as responder) or the
    /// listener's mirror group (as initiator).
    pub peer_group: Option<GroupBlock>,
}

/// The packet filter a side ends up with, from its own `SRTO_PACKETFILTER`
/// and the peer's FILTER block ([`negotiate`], libsrt's
/// `checkApplyFilterConfig`); every refusal is `SRT_REJ_FILTER`.
fn negotiate_filter(
    own: &HsSettings,
    peer_blocks: &[HsExtension],
    side: HsSide,
) -> Result<Option<AgreedFilter>, RejectReason> {
    let theirs = match peer_blocks.iter().find_map(|b| match b {
        HsExtension::Filter(f) => Some(f.as_slice()),
        _ => None,
    }) {
        Some(f) => Some(std::str::from_utf8(f).map_err(|_| RejectReason::Filter)?),
        None => None,
    };
    negotiate(own.packet_filter.as_deref(), theirs, side, own.rendezvous)
        .map_err(|e| e.reject_reason())
}

/// The SRT flags this side declares as initiator (libsrt's
/// `fillSrtHandshake_HSREQ`).
fn hsreq_flags(s: &HsSettings) -> SrtFlags {
    let mut flags = SrtFlags::HAICRYPT | SrtFlags::FILTERCAP | SrtFlags::REXMITFLG;
    if s.tsbpd {
        flags = flags | SrtFlags::TSBPD_SND | SrtFlags::TSBPD_RCV;
        if s.tlpktdrop {
            flags = flags | SrtFlags::TLPKTDROP;
        }
    }
    if s.nakreport {
        flags = flags | SrtFlags::NAKREPORT;
    }
    if !s.message_api {
        flags = flags | SrtFlags::STREAM;
    }
    flags
}

/// The extension blocks an initiator sends in its CONCLUSION, in libsrt's
/// order, and the extension flags that announce them.
pub(crate) fn initiator_blocks(s: &HsSettings) -> (u16, Vec<HsExtension>) {
    let (rcv, snd) = if s.tsbpd {
        (s.rcv_latency_ms, s.peer_latency_ms)
    } else {
        (0, 0)
    };
    let mut blocks = vec![HsExtension::HsReq(SrtHandshake {
        version: SRT_VERSION,
        flags: hsreq_flags(s),
        recv_latency_ms: rcv,
        send_latency_ms: snd,
    })];
    let mut ext = Handshake::EXT_HSREQ;
    if !s.stream_id.is_empty() {
        blocks.push(HsExtension::StreamId(s.stream_id.clone()));
        ext |= Handshake::EXT_CONFIG;
    }
    // libsrt sends CONGESTION only when it is not "live" (core.cpp:1750).
    if s.congestion != b"live" {
        blocks.push(HsExtension::Congestion(s.congestion.clone()));
        ext |= Handshake::EXT_CONFIG;
    }
    if let Some(f) = s.packet_filter.as_ref().filter(|f| !f.is_empty()) {
        blocks.push(HsExtension::Filter(f.as_bytes().to_vec()));
        ext |= Handshake::EXT_CONFIG;
    }
    // GROUP after SID, CONGESTION and FILTER (core.cpp createSrtHandshake).
    if let Some(g) = s.group {
        blocks.push(HsExtension::Group(g));
        ext |= Handshake::EXT_CONFIG;
    }
    (ext, blocks)
}

/// The responder's side: checks the initiator's CONCLUSION blocks against
/// `own` and returns the agreement and the blocks of the answer (HSRSP, and
/// CONGESTION when not live), or the reason to refuse.
pub(crate) fn respond(
    own: &HsSettings,
    peer_blocks: &[HsExtension],
) -> Result<(Negotiated, u16, Vec<HsExtension>), RejectReason> {
    let req = peer_blocks
        .iter()
        .find_map(|b| match b {
            HsExtension::HsReq(hs) => Some(*hs),
            _ => None,
        })
        .ok_or(RejectReason::Rogue)?;
    if req.version < HSV5_MIN_VERSION || req.version < own.min_version {
        return Err(RejectReason::Version);
    }
    // The stream flag must agree (core.cpp:2323).
    if req.flags.contains(SrtFlags::STREAM) == own.message_api {
        return Err(RejectReason::MessageApi);
    }
    let peer_cc = peer_blocks
        .iter()
        .find_map(|b| match b {
            HsExtension::Congestion(cc) => Some(cc.as_slice()),
            _ => None,
        })
        .unwrap_or(b"live");
    if peer_cc != own.congestion.as_slice() {
        return Err(RejectReason::Congestion);
    }
    // Key material is checked by `respond_km`.
    let filter = negotiate_filter(own, peer_blocks, HsSide::Responder)?;
    let peer_group = crate::group::responder_check(own, peer_blocks)?;
    let stream_id = peer_blocks
        .iter()
        .find_map(|b| match b {
            HsExtension::StreamId(s) => Some(s.clone()),
            _ => None,
        })
        .unwrap_or_default();

    // Latencies as libsrt's processSrtMsg_HSREQ: each direction takes the
    // larger of the receiver's wish and the sender's proposal.
    let rcv_latency = (own.tsbpd && req.flags.contains(SrtFlags::TSBPD_SND))
        .then(|| own.rcv_latency_ms.max(req.send_latency_ms));
    let snd_latency = req
        .flags
        .contains(SrtFlags::TSBPD_RCV)
        .then(|| own.peer_latency_ms.max(req.recv_latency_ms));

    let tlpktdrop = own.tlpktdrop && own.tsbpd;
    let mut flags = SrtFlags::HAICRYPT | SrtFlags::FILTERCAP;
    let mut latency_rcv = 0;
    let mut latency_snd = 0;
    if let Some(l) = rcv_latency {
        flags = flags | SrtFlags::TSBPD_RCV;
        latency_rcv = l;
    } else if own.tsbpd {
        flags = flags | SrtFlags::TSBPD_RCV;
        latency_rcv = own.rcv_latency_ms;
    }
    if let Some(l) = snd_latency {
        flags = flags | SrtFlags::TSBPD_SND;
        latency_snd = l;
    }
    if tlpktdrop {
        flags = flags | SrtFlags::TLPKTDROP;
    }
    if own.nakreport {
        flags = flags | SrtFlags::NAKREPORT;
    }
    if req.flags.contains(SrtFlags::REXMITFLG) {
        flags = flags | SrtFlags::REXMITFLG;
    }
    let mut blocks = vec![HsExtension::HsRsp(SrtHandshake {
        version: SRT_VERSION,
        flags,
        recv_latency_ms: latency_rcv,
        send_latency_ms: latency_snd,
    })];
    let mut ext = Handshake::EXT_HSREQ;
    if own.congestion != b"live" {
        blocks.push(HsExtension::Congestion(own.congestion.clone()));
        ext |= Handshake::EXT_CONFIG;
    }
    // The agreed filter goes back (libsrt's responder sends its own,
    // possibly adopted or merged, configuration).
    if let Some(f) = &filter {
        blocks.push(HsExtension::Filter(f.text.as_bytes().to_vec()));
        ext |= Handshake::EXT_CONFIG;
    }
    // A member's answer names its mirror group (core.cpp createSrtHandshake).
    if let (Some(_), Some(g)) = (peer_group, own.group) {
        blocks.push(HsExtension::Group(g));
        ext |= Handshake::EXT_CONFIG;
    }
    let ms = |v: u16| Duration::from_millis(u64::from(v));
    Ok((
        Negotiated {
            peer_version: req.version,
            peer_flags: req.flags,
            rcv_latency: rcv_latency.map(ms),
            snd_latency: snd_latency.map(ms),
            tlpktdrop,
            peer_nakreport: req.flags.contains(SrtFlags::NAKREPORT),
            stream_id,
            filter,
            peer_group,
        },
        ext,
        blocks,
    ))
}

/// The initiator's side: adopts the responder's CONCLUSION blocks, or
/// returns the reason to give up.
pub(crate) fn adopt_response(
    own: &HsSettings,
    peer_blocks: &[HsExtension],
) -> Result<Negotiated, RejectReason> {
    let rsp = peer_blocks
        .iter()
        .find_map(|b| match b {
            HsExtension::HsRsp(hs) => Some(*hs),
            _ => None,
        })
        .ok_or(RejectReason::Rogue)?;
    if rsp.version.0 == 0 {
        return Err(RejectReason::Peer);
    }
    if rsp.version < HSV5_MIN_VERSION || rsp.version < own.min_version {
        return Err(RejectReason::Version);
    }
    let peer_cc = peer_blocks
        .iter()
        .find_map(|b| match b {
            HsExtension::Congestion(cc) => Some(cc.as_slice()),
            _ => None,
        })
        .unwrap_or(b"live");
    if peer_cc != own.congestion.as_slice() {
        return Err(RejectReason::Congestion);
    }
    let filter = negotiate_filter(own, peer_blocks, HsSide::Initiator)?;
    let peer_group = crate::group::initiator_check(own, peer_blocks)?;
    let ms = |v: u16| Duration::from_millis(u64::from(v));
    // The responder put the maximised latencies in its HSRSP: its receiving
    // latency (our sending) in the high half, ours in the low half.
    let rcv_latency =
        (own.tsbpd && rsp.flags.contains(SrtFlags::TSBPD_SND)).then(|| ms(rsp.send_latency_ms));
    let snd_latency = rsp
        .flags
        .contains(SrtFlags::TSBPD_RCV)
        .then(|| ms(rsp.recv_latency_ms));
    Ok(Negotiated {
        peer_version: rsp.version,
        peer_flags: rsp.flags,
        rcv_latency,
        snd_latency,
        tlpktdrop: own.tlpktdrop && own.tsbpd && rsp.flags.contains(SrtFlags::TLPKTDROP),
        peer_nakreport: rsp.flags.contains(SrtFlags::NAKREPORT),
        stream_id: own.stream_id.clone(),
        filter,
        peer_group,
    })
}

/// Who won the rendezvous cookie contest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RendezvousRole {
    /// Sends HSREQ, like a caller.
    Initiator,
    /// Answers with HSRSP, like a listener.
    Responder,
}

/// libsrt's cookie contest (core.cpp:4247-4310): the difference of the two
/// cookies as a wrapping 32-bit signed number decides; equal cookies cannot
/// be told apart. At exactly 2³¹ apart libsrt 1.5.5 picks the larger signed
/// value as initiator (≤ 1.5.4 made both responders).
pub(crate) fn cookie_contest(own: u32, peer: u32) -> Result<RendezvousRole, RejectReason> {
    let d = own.wrapping_sub(peer) as i32;
    match d {
        0 => Err(RejectReason::RdvCookie),
        i32::MIN if (own as i32) > (peer as i32) => Ok(RendezvousRole::Initiator),
        d if d > 0 => Ok(RendezvousRole::Initiator),
        _ => Ok(RendezvousRole::Responder),
    }
}

/// The fixed fields of a handshake this side sends.
#[derive(Clone, Copy, Debug)]
pub(crate) struct HsHeader {
    pub(crate) version: u32,
    pub(crate) isn: SeqNumber,
    pub(crate) mss: u32,
    pub(crate) flow_window: u32,
    pub(crate) socket_id: u32,
    pub(crate) cookie: u32,
    pub(crate) peer_addr: PeerAddress,
}

impl HsHeader {
    /// A handshake with these fields.
    pub(crate) fn build(
        &self,
        req_type: HandshakeType,
        encryption_field: u16,
        extension_field: u16,
        extensions: Vec<HsExtension>,
    ) -> Handshake {
        Handshake {
            version: self.version,
            encryption_field,
            extension_field,
            isn: self.isn,
            mss: self.mss,
            flow_window: self.flow_window,
            req_type,
            socket_id: self.socket_id,
            syn_cookie: self.cookie,
            peer_addr: self.peer_addr,
            extensions,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blocks_of(s: &HsSettings) -> Vec<HsExtension> {
        initiator_blocks(s).1
    }

    #[test]
    fn live_hsreq_matches_libsrt_capture() {
        // libsrt 1.5.1 live caller: flags 0xBF, latency word 0x00780000.
        let s = HsSettings::default();
        let (ext, blocks) = initiator_blocks(&s);
        assert_eq!(ext, Handshake::EXT_HSREQ);
        match &blocks[0] {
            HsExtension::HsReq(hs) => {
                assert_eq!(hs.flags.0, 0xBF);
                assert_eq!((hs.recv_latency_ms, hs.send_latency_ms), (120, 0));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn file_hsreq_matches_libsrt_capture() {
        // libsrt 1.5.1 file caller: flags 0xE4, CONGESTION "file".
        let s = HsSettings {
            transtype: TransType::File,
            tsbpd: false,
            tlpktdrop: false,
            nakreport: false,
            message_api: false,
            congestion: b"file".to_vec(),
            ..HsSettings::default()
        };
        let (ext, blocks) = initiator_blocks(&s);
        assert_eq!(ext, Handshake::EXT_HSREQ | Handshake::EXT_CONFIG);
        assert!(matches!(&blocks[0], HsExtension::HsReq(hs) if hs.flags.0 == 0xE4));
        assert_eq!(blocks[1], HsExtension::Congestion(b"file".to_vec()));
        // And a file listener answers 0xA4 (never STREAM), as libsrt does.
        let (_, _, rsp) = respond(&s, &blocks).unwrap();
        assert!(matches!(&rsp[0], HsExtension::HsRsp(hs) if hs.flags.0 == 0xA4));
    }

    #[test]
    fn latency_is_the_larger_wish_in_each_direction() {
        let caller = HsSettings {
            rcv_latency_ms: 200,
            peer_latency_ms: 50,
            ..HsSettings::default()
        };
        let listener = HsSettings {
            rcv_latency_ms: 120,
            peer_latency_ms: 300,
            ..HsSettings::default()
        };
        let (agreed, _, rsp) = respond(&listener, &blocks_of(&caller)).unwrap();
        assert_eq!(agreed.rcv_latency, Some(Duration::from_millis(120)));
        assert_eq!(agreed.snd_latency, Some(Duration::from_millis(300)));
        let caller_view = adopt_response(&caller, &rsp).unwrap();
        assert_eq!(caller_view.snd_latency, agreed.rcv_latency);
        assert_eq!(caller_view.rcv_latency, agreed.snd_latency);
        // libsrt 1.5.1 answers HSREQ 0x00780000 with HSRSP 0x00780078.
        let (_, _, rsp) =
            respond(&HsSettings::default(), &blocks_of(&HsSettings::default())).unwrap();
        assert!(matches!(&rsp[0], HsExtension::HsRsp(hs)
            if hs.flags.0 == 0xBF && hs.recv_latency_ms == 120 && hs.send_latency_ms == 120));
    }

    #[test]
    fn mismatches_are_refused_with_libsrt_reasons() {
        let live = HsSettings::default();
        let file_stream = HsSettings {
            message_api: false,
            congestion: b"file".to_vec(),
            tsbpd: false,
            ..HsSettings::default()
        };
        assert_eq!(
            respond(&live, &blocks_of(&file_stream)).unwrap_err(),
            RejectReason::MessageApi
        );
        let file_msg = HsSettings {
            message_api: true,
            ..file_stream.clone()
        };
        assert_eq!(
            respond(&live, &blocks_of(&file_msg)).unwrap_err(),
            RejectReason::Congestion
        );
        assert_eq!(
            respond_km(None, true, Some(&test_km())).unwrap_err(),
            RejectReason::Unsecure
        );
        let picky = HsSettings {
            min_version: SrtVersion::new(1, 6, 0),
            ..HsSettings::default()
        };
        assert_eq!(
            respond(&picky, &blocks_of(&live)).unwrap_err(),
            RejectReason::Version
        );
        assert_eq!(respond(&live, &[]).unwrap_err(), RejectReason::Rogue);
    }

    fn test_km() -> KeyMaterial {
        let salt = [7u8; 16];
        let ctx = CryptoContext::sender(
            b"0123456789abcdef",
            Cipher::AesCtr,
            &salt,
            &[9u8; 16],
            RefreshConfig::default(),
        )
        .unwrap();
        ctx.key_material().unwrap()
    }

    #[test]
    fn key_material_exchange_outcomes() {
        let settings = |pass: &[u8]| CryptoSettings {
            passphrase: Zeroizing::new(pass.to_vec()),
            key_len: 0,
            cipher: Cipher::AesCtr,
            cipher_fixed: false,
            refresh: RefreshConfig::default(),
        };
        let good = settings(b"0123456789abcdef");
        let wrong = settings(b"not the right one");
        let km = test_km();
        // Same passphrase: the KMRSP echoes the KMREQ, both directions keyed.
        let (rsp, agreed) = respond_km(Some(&good), true, Some(&km)).unwrap();
        assert_eq!(rsp, Some(KmResponse::Material(km.clone())));
        assert!(agreed.tx.is_some() && agreed.rx.is_some());
        assert_eq!(agreed.state, Some(KmState::Secured));
        // Wrong passphrase: BADSECRET, a rejection when enforced.
        assert_eq!(
            respond_km(Some(&wrong), true, Some(&km)).unwrap_err(),
            RejectReason::BadSecret
        );
        let (rsp, agreed) = respond_km(Some(&wrong), false, Some(&km)).unwrap();
        assert_eq!(rsp, Some(KmResponse::State(KmState::BadSecret)));
        assert_eq!(agreed.state, Some(KmState::BadSecret));
        // Passphrase on one side only: UNSECURE when enforced.
        assert_eq!(
            respond_km(Some(&good), true, None).unwrap_err(),
            RejectReason::Unsecure
        );
        assert_eq!(
            respond_km(None, false, Some(&km)).unwrap().0,
            Some(KmResponse::State(KmState::NoSecret))
        );
    }

    #[test]
    fn initiator_refusals_leave_libsrts_states() {
        let sender = || {
            CryptoContext::sender(
                b"0123456789abcdef",
                Cipher::AesCtr,
                &[7u8; 16],
                &[9u8; 16],
                RefreshConfig::default(),
            )
            .unwrap()
        };
        fn refusal(tx: Option<CryptoContext>, rsp: Option<&KmResponse>) -> KmRefusal {
            adopt_km(tx, true, rsp).unwrap_err()
        }
        let state = KmResponse::State;
        // No passphrase, any KM block, enforced: refused before reading it.
        assert_eq!(
            refusal(None, Some(&state(KmState::Unsecured))),
            KmRefusal::new(
                RejectReason::Unsecure,
                KmState::Unsecured,
                KmState::Unsecured
            )
        );
        // Not enforced: connected, cannot decrypt.
        let agreed = adopt_km(None, false, Some(&state(KmState::Unsecured))).unwrap();
        assert_eq!(
            (agreed.state, agreed.snd_state),
            (Some(KmState::NoSecret), Some(KmState::Unsecured))
        );
        // processSrtMsg_KMRSP's pairs; libsrt 1.5.1's reason is UNSECURE.
        assert_eq!(
            refusal(Some(sender()), Some(&state(KmState::BadSecret))),
            KmRefusal::new(
                RejectReason::Unsecure,
                KmState::BadSecret,
                KmState::BadSecret
            )
        );
        assert_eq!(
            refusal(Some(sender()), Some(&state(KmState::NoSecret))),
            KmRefusal::new(
                RejectReason::Unsecure,
                KmState::Unsecured,
                KmState::NoSecret
            )
        );
        assert_eq!(
            refusal(Some(sender()), Some(&state(KmState::BadCryptoMode))),
            KmRefusal::new(
                RejectReason::Crypto,
                KmState::BadCryptoMode,
                KmState::BadCryptoMode
            )
        );
        // No KM block from the peer at all.
        assert_eq!(
            refusal(Some(sender()), None),
            KmRefusal::new(
                RejectReason::Unsecure,
                KmState::Unsecured,
                KmState::Securing
            )
        );
    }

    #[test]
    fn responder_with_explicit_cipher_refuses_the_other() {
        let settings = |cipher, fixed| CryptoSettings {
            passphrase: Zeroizing::new(b"0123456789abcdef".to_vec()),
            key_len: 0,
            cipher,
            cipher_fixed: fixed,
            refresh: RefreshConfig::default(),
        };
        let ctr = test_km();
        assert_eq!(
            respond_km(Some(&settings(Cipher::AesGcm, true)), false, Some(&ctr)).unwrap_err(),
            RejectReason::Crypto
        );
        let (_, agreed) =
            respond_km(Some(&settings(Cipher::AesCtr, true)), true, Some(&ctr)).unwrap();
        assert_eq!(agreed.state, Some(KmState::Secured));
        assert_eq!(agreed.peer_key_len, Some(16));
        // "auto" (not fixed) adopts what the initiator sends.
        let (_, agreed) =
            respond_km(Some(&settings(Cipher::AesCtr, false)), true, Some(&ctr)).unwrap();
        assert_eq!(agreed.rx.unwrap().cipher(), Cipher::AesCtr);
    }

    #[test]
    fn cookie_contest_matches_libsrt() {
        // Seen: 0xd87a142b beat 0x7248b947; 0x9081af21 beat 0x27f5c99b.
        assert_eq!(
            cookie_contest(0xd87a_142b, 0x7248_b947),
            Ok(RendezvousRole::Initiator)
        );
        assert_eq!(
            cookie_contest(0x7248_b947, 0xd87a_142b),
            Ok(RendezvousRole::Responder)
        );
        assert_eq!(
            cookie_contest(0x9081_af21, 0x27f5_c99b),
            Ok(RendezvousRole::Initiator)
        );
        assert_eq!(cookie_contest(5, 5), Err(RejectReason::RdvCookie));
        // Exactly half the ring apart: exactly one side initiates.
        let (a, b) = (0x1000_0000u32, 0x9000_0000u32);
        assert_ne!(cookie_contest(a, b), cookie_contest(b, a));
    }

    fn with_filter(f: Option<&str>) -> HsSettings {
        HsSettings {
            packet_filter: f.map(str::to_owned),
            ..HsSettings::default()
        }
    }

    fn filter_block(blocks: &[HsExtension]) -> Option<&[u8]> {
        blocks.iter().find_map(|b| match b {
            HsExtension::Filter(f) => Some(f.as_slice()),
            _ => None,
        })
    }

    #[test]
    fn filter_block_is_sent_and_negotiated_as_libsrt() {
        // The caller's FILTER block, announced by the CONFIG flag.
        let caller = with_filter(Some("fec,cols:10,rows:5,arq:never"));
        let (ext, blocks) = initiator_blocks(&caller);
        assert_ne!(ext & Handshake::EXT_CONFIG, 0);
        assert_eq!(
            filter_block(&blocks),
            Some(&b"fec,cols:10,rows:5,arq:never"[..])
        );
        // A listener without a filter adopts it and sends it back.
        let (agreed, ext, rsp) = respond(&with_filter(None), &blocks).unwrap();
        assert_ne!(ext & Handshake::EXT_CONFIG, 0);
        let f = agreed.filter.expect("adopted");
        assert_eq!(f.text, "fec,cols:10,rows:5,arq:never");
        assert_eq!(filter_block(&rsp), Some(f.text.as_bytes()));
        let caller_view = adopt_response(&caller, &rsp).unwrap();
        assert_eq!(caller_view.filter.map(|f| f.fec), Some(f.fec));
        // A caller without a filter adopts the listener's answer.
        assert!(adopt_response(&with_filter(None), &rsp)
            .unwrap()
            .filter
            .is_some());
        // Both set: merged, libsrt's defaults filled in, keys sorted.
        let (agreed, _, rsp) = respond(&with_filter(Some("fec,cols:10")), &blocks).unwrap();
        assert_eq!(
            filter_block(&rsp),
            Some(&b"fec,arq:never,cols:10,layout:staircase,rows:5"[..])
        );
        assert!(agreed.filter.is_some());
        // Conflicting values: SRT_REJ_FILTER.
        assert_eq!(
            respond(&with_filter(Some("fec,cols:8")), &blocks).unwrap_err(),
            RejectReason::Filter
        );
        // A listener with a filter and a caller without: the listener keeps
        // it and sends it; the caller adopts it (libsrt 1.5.1).
        let plain = blocks_of(&HsSettings::default());
        assert_eq!(filter_block(&plain), None);
        let (agreed, _, rsp) = respond(&with_filter(Some("fec,cols:4")), &plain).unwrap();
        assert_eq!(agreed.filter.unwrap().text, "fec,cols:4");
        assert_eq!(filter_block(&rsp), Some(&b"fec,cols:4"[..]));
        let adopted = adopt_response(&HsSettings::default(), &rsp).unwrap();
        assert_eq!(adopted.filter.unwrap().text, "fec,cols:4");
        // A caller with a filter answered without one: SRT_REJ_FILTER.
        let (_, _, rsp) = respond(&HsSettings::default(), &plain).unwrap();
        assert_eq!(
            adopt_response(&caller, &rsp).unwrap_err(),
            RejectReason::Filter
        );
        // A peer's block that is not UTF-8, or of an unknown type.
        let mut bad = blocks.clone();
        bad[1] = HsExtension::Filter(vec![0xFF, 0xFE]);
        assert_eq!(
            respond(&with_filter(None), &bad).unwrap_err(),
            RejectReason::Filter
        );
        bad[1] = HsExtension::Filter(b"xor,cols:4".to_vec());
        assert_eq!(
            respond(&with_filter(None), &bad).unwrap_err(),
            RejectReason::Filter
        );
        // Rendezvous: only identical strings.
        let rdv = |f: &str| HsSettings {
            rendezvous: true,
            ..with_filter(Some(f))
        };
        assert!(respond(&rdv("fec,cols:10,rows:5,arq:never"), &blocks).is_ok());
        assert_eq!(
            respond(&rdv("fec,cols:10,rows:5"), &blocks).unwrap_err(),
            RejectReason::Filter
        );
    }
}
