//! Data transfer of a connected socket (live mode): sending with pacing,
//! retransmission on NAK and sender too-late drop; receiving with loss
//! detection, ACK/NAK/ACKACK, RTT, TSBPD delivery and receiver too-late
//! drop; and the statistics of both directions.
//!
//! Nothing here allocates per packet: the buffers are preallocated and the
//! control packets it queues are small values.

use crate::buffer::loss::LossList;
use crate::buffer::recv::{InsertOutcome, PopOutcome, RecvBuffer, RecvInfo};
use crate::buffer::send::{SendBuffer, SendBufferError};
use crate::cc::file::{AckRates, FileCc, FileCcConfig};
use crate::cc::live::{InputRateEstimator, LiveCc, LiveCcConfig};
use crate::crypto::{CryptoContext, KeyIndex, RefreshAction};
use crate::estimate::ArrivalWindow;
use crate::handshake::Negotiated;
use crate::options::SockOpt;
use crate::packet::{
    Ack, AckInfo, ControlBody, ControlPacket, DataKeyFlags, DataPacket, EncodeError,
    LossList as WireLossList, SocketId,
};
use crate::rng::SecretRng;
use crate::seq::{MsgNumber, SeqNumber, SeqRange, Timestamp};
use crate::stats::{Instantaneous, Stats, TraceBStats};
use crate::tsbpd::Tsbpd;
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// The full ACK period (libsrt's `COMM_SYN_INTERVAL`).
pub const ACK_INTERVAL: Duration = Duration::from_millis(10);
/// A light ACK goes out after this many packets without an ACK.
pub const LIGHT_ACK_PACKETS: u32 = 64;
/// The periodic NAK period until the first RTT is known.
const FIRST_NAK_INTERVAL: Duration = Duration::from_millis(300);
/// The minimum sender too-late drop threshold (`SRT_TLPKTDROP_MINTHRESHOLD_MS`).
const SND_DROP_MIN: Duration = Duration::from_millis(1000);
/// How far pacing may fall behind before the schedule restarts from now.
const MAX_PACING_LAG: Duration = Duration::from_millis(2);
/// The ACKs remembered for matching ACKACKs (RTT samples).
const ACK_HISTORY: usize = 64;
/// Overhead of the IPv4, UDP and SRT headers, as libsrt counts it.
const HEADERS: u32 = 44;

/// How a connection sends and receives data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TransferConfig {
    /// `SRTO_PAYLOADSIZE`: the largest payload of one live send (default 1316).
    pub payload_size: usize,
    /// `SRTO_SNDBUF` in packets.
    pub snd_buf_packets: usize,
    /// `SRTO_RCVBUF` in packets.
    pub rcv_buf_packets: usize,
    /// `SRTO_MAXBW`: bytes/s; 0 = from the input rate; −1 = 1 Gbit/s.
    pub max_bw: i64,
    /// `SRTO_INPUTBW`: bytes/s, 0 = measure.
    pub input_bw: i64,
    /// `SRTO_MININPUTBW`: bytes/s.
    pub min_input_bw: i64,
    /// `SRTO_OHEADBW`: percent over the input rate.
    pub overhead_pct: u32,
    /// `SRTO_SNDDROPDELAY`: extra sender drop delay; `None` disables sender drop.
    pub snd_drop_delay: Option<Duration>,
    /// `SRTO_DRIFTTRACER`.
    pub drift_tracer: bool,
    /// `SRTO_LOSSMAXTTL`: how many later packets a gap may wait for a
    /// reordered packet before it is reported (0 = report at once).
    pub loss_max_ttl: u32,
}

impl Default for TransferConfig {
    fn default() -> Self {
        TransferConfig {
            payload_size: 1316,
            snd_buf_packets: 8192,
            rcv_buf_packets: 8192,
            max_bw: -1,
            input_bw: 0,
            min_input_bw: 0,
            overhead_pct: 25,
            snd_drop_delay: Some(Duration::ZERO),
            drift_tracer: true,
            loss_max_ttl: 0,
        }
    }
}

/// Per-message controls of a send (libsrt's `SRT_MSGCTRL`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MsgCtrl {
    /// The message's source time; `None` = now.
    pub srctime: Option<Instant>,
    /// Time to live: drop the message if not sent by then (file mode).
    pub ttl: Option<Duration>,
    /// Deliver in order (the O flag).
    pub in_order: bool,
    /// The message's number, from which later messages count on (libsrt's
    /// forced `msgno`); `None` = the next one.
    pub msgno: Option<MsgNumber>,
}

/// What a send queued (what libsrt's `srt_sendmsg2` writes back into its
/// `SRT_MSGCTRL`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sent {
    /// Bytes taken (0 for an empty message, which queues nothing).
    pub len: usize,
    /// The sequence number of the first packet queued; `None` if none was.
    pub first_seq: Option<SeqNumber>,
    /// The message number of the first packet queued; `None` if none was.
    pub msgno: Option<MsgNumber>,
    /// The source time the packets carry.
    pub origin: Instant,
}

/// Why a send failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SendError {
    /// The socket is not connected (`SRT_ENOCONN`).
    #[error("not connected")]
    NotConnected,
    /// The message exceeds the payload size (`SRT_ELARGEMSG`).
    #[error("message of {len} bytes exceeds the payload size {max}")]
    MessageTooLarge {
        /// The message length.
        len: usize,
        /// The largest allowed.
        max: usize,
    },
    /// The send buffer is full (`SRT_EASYNCSND`).
    #[error("send buffer full")]
    WouldBlock,
}

/// Why a receive failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RecvError {
    /// The socket is not connected (`SRT_ENOCONN`).
    #[error("not connected")]
    NotConnected,
}

/// Control packets the transfer wants to send.
#[derive(Clone, Debug)]
enum Ctrl {
    Ack(Ack),
    AckAck(u32),
    Nak(SeqRange),
    PeriodicNak,
    KmReq(Box<crate::packet::KeyMaterial>),
    KmRsp(Box<crate::packet::KmResponse>),
    DropReq {
        msgno: MsgNumber,
        first: SeqNumber,
        last: SeqNumber,
    },
}

/// RTT estimate, µs, as libsrt keeps it.
#[derive(Clone, Copy, Debug)]
struct Rtt {
    srtt: i64,
    rttvar: i64,
    sampled: bool,
}

impl Rtt {
    fn sample(&mut self, r: i64) {
        if !self.sampled {
            self.srtt = r;
            self.rttvar = r / 2;
            self.sampled = true;
        } else {
            self.rttvar = (3 * self.rttvar + (r - self.srtt).abs()) / 4;
            self.srtt = (7 * self.srtt + r) / 8;
        }
    }

    /// SRTT + 4·RTTVar.
    fn rto(&self) -> Duration {
        Duration::from_micros((self.srtt + 4 * self.rttvar).max(0) as u64)
    }
}

/// The data state of a connected socket.
#[derive(Debug)]
pub(crate) struct Transfer {
    peer_id: u32,
    tx: Option<CryptoContext>,
    rx: Option<CryptoContext>,
    passphrase: Option<zeroize::Zeroizing<Vec<u8>>>,
    /// Sequence numbers before this were sent with the other key.
    key_switch: Option<(SeqNumber, KeyIndex)>,
    /// A KMREQ announcing a new key, repeated until the peer echoes it.
    pending_kmreq: Option<(crate::packet::KeyMaterial, Instant, u32)>,
    /// Refreshed session keys come from here (forked from the connection's).
    rng: SecretRng,
    live: bool,
    message_api: bool,
    /// The last time an ACK came (the sender's retransmission timer).
    last_ack_rx: Instant,
    /// The highest sequence number a full ACK acknowledged (libsrt's
    /// `m_iSndLastFullAck`).
    last_full_ack_seq: SeqNumber,
    /// Consecutive retransmission timeouts without an ACK.
    exp_count: u32,
    /// Sequence numbers of messages that expired unsent were skipped and
    /// no packet was sent since (see [`Transfer::may_send_new`]).
    skipped_unsent: bool,
    /// This socket's start: our packet timestamps count from here.
    start: Instant,
    mss: u32,
    max_payload: usize,
    payload_size: usize,
    ctrl: VecDeque<Ctrl>,
    rtt: Rtt,
    stats: Stats,

    // sender
    snd: SendBuffer,
    /// Losses the peer reported (NAK): what FileCC counts as loss.
    snd_loss: LossList,
    /// Packets queued again by the retransmission timeout (file mode):
    /// resent after `snd_loss`, but not loss reports.
    snd_timed_out: LossList,
    cc: Cc,
    input_rate: InputRateEstimator,
    next_send_at: Instant,
    peer_flow_window: u32,
    snd_drop_threshold: Option<Duration>,
    /// Both sides agreed to drop packets too late (`SRTO_TLPKTDROP`).
    tlpktdrop: bool,
    snd_latency: Option<Duration>,
    /// The origin time of the last message queued.
    last_origin: Option<Instant>,
    peer_bandwidth: u32,
    want_writable: bool,

    // receiver
    rcv: RecvBuffer,
    tsbpd: Option<Tsbpd>,
    arrival: ArrivalWindow,
    ack_number: u32,
    next_ack_at: Instant,
    last_ack_seq: SeqNumber,
    /// The last full ACK advertised no free receive buffer.
    buffer_was_full: bool,
    last_ack_at: Instant,
    last_ackacked_seq: SeqNumber,
    ack_history: [(u32, SeqNumber, Instant); ACK_HISTORY],
    packets_since_ack: u32,
    nakreport: bool,
    /// Reorder tolerance (libsrt's "belated loss report"): fresh losses wait
    /// this many packets before a NAK; grows on reordering up to the maximum.
    reorder: Reorder,
    nak_interval: Duration,
    next_nak_at: Instant,
    readable_signaled: bool,
    /// Steps taken on the peer's control packets and on retransmission:
    /// NAK ranges examined, loss-list operations, retransmission loop turns
    /// (what the per-packet bound is measured by in tests).
    work: u64,
}

/// What the connection needs to set up a transfer.
pub(crate) struct TransferSetup<'a> {
    pub(crate) now: Instant,
    pub(crate) start: Instant,
    pub(crate) peer_id: u32,
    pub(crate) snd_isn: SeqNumber,
    pub(crate) rcv_isn: SeqNumber,
    /// The negotiated MSS (the smaller of the two sides').
    pub(crate) mss: u32,
    /// This side's own MSS: the largest packet it takes in. libsrt sizes
    /// its receive units by it, not by the negotiated MSS, so a peer that
    /// advertises a smaller MSS than it sends (srt-rs puts its payload
    /// size there) is still received whole.
    pub(crate) rcv_mss: u32,
    pub(crate) peer_flow_window: u32,
    /// The peer's clock origin: arrival of its HSREQ/HSRSP minus its timestamp.
    pub(crate) peer_start: Instant,
    pub(crate) negotiated: &'a Negotiated,
    pub(crate) nakreport: bool,
    /// Live (TSBPD, one packet per message) or file mode.
    pub(crate) live: bool,
    /// Message API (boundaries kept) or stream API (bytes).
    pub(crate) message_api: bool,
    /// Encrypts what this side sends (a passphrase agreed).
    pub(crate) tx: Option<CryptoContext>,
    /// Decrypts what this side receives.
    pub(crate) rx: Option<CryptoContext>,
    /// The passphrase, for key material that arrives later (key refresh).
    pub(crate) passphrase: Option<zeroize::Zeroizing<Vec<u8>>>,
    pub(crate) config: &'a TransferConfig,
    /// The transfer's own generator (refreshed keys, FileCC's randomness).
    pub(crate) rng: SecretRng,
}

impl Transfer {
    pub(crate) fn new(s: TransferSetup<'_>) -> Self {
        let c = s.config;
        let mut rng = s.rng;
        // AES-GCM appends a 16-byte tag: the payload shrinks to make room.
        let tag = match &s.tx {
            Some(tx) if tx.cipher() == crate::packet::Cipher::AesGcm => crate::crypto::GCM_TAG_LEN,
            _ => 0,
        };
        let max_payload = (s.mss.saturating_sub(HEADERS) as usize).saturating_sub(tag);
        let max_rcv_payload =
            (s.rcv_mss.max(s.mss).saturating_sub(HEADERS) as usize).saturating_sub(tag);
        let payload_size = if c.payload_size == 0 {
            max_payload
        } else {
            c.payload_size.min(max_payload)
        };
        let cc = if s.live {
            Cc::Live(LiveCc::new(LiveCcConfig {
                max_bw: c.max_bw,
                input_bw: c.input_bw,
                min_input_bw: c.min_input_bw,
                overhead_pct: c.overhead_pct,
                mss: s.mss,
                max_payload,
                payload_size,
            }))
        } else {
            Cc::File(FileCc::new(
                FileCcConfig {
                    mss: s.mss,
                    max_payload,
                    max_bw: c.max_bw,
                    flow_window: s.peer_flow_window.max(2),
                    seed: rng.next_u64(),
                },
                s.snd_isn,
                s.now,
            ))
        };
        let mut input_rate = InputRateEstimator::new();
        input_rate.reset(!cc.wants_input_rate());
        let tsbpd = s
            .negotiated
            .rcv_latency
            .map(|latency| Tsbpd::new(s.peer_start, latency, c.drift_tracer));
        let snd_drop_threshold = snd_drop_threshold(
            s.negotiated.tlpktdrop,
            s.negotiated.snd_latency,
            c.snd_drop_delay,
        );
        Transfer {
            peer_id: s.peer_id,
            rng,
            tx: s.tx,
            rx: s.rx,
            passphrase: s.passphrase,
            key_switch: None,
            pending_kmreq: None,
            live: s.live,
            message_api: s.message_api,
            last_ack_rx: s.now,
            last_full_ack_seq: s.snd_isn,
            exp_count: 1,
            skipped_unsent: false,
            start: s.start,
            mss: s.mss,
            max_payload,
            payload_size,
            ctrl: VecDeque::with_capacity(64),
            rtt: Rtt {
                srtt: 100_000,
                rttvar: 50_000,
                sampled: false,
            },
            stats: Stats::new(s.now),
            snd: SendBuffer::new(c.snd_buf_packets, max_payload, s.snd_isn, MsgNumber::FIRST),
            snd_loss: LossList::for_window(c.snd_buf_packets),
            snd_timed_out: LossList::for_window(c.snd_buf_packets),
            cc,
            input_rate,
            next_send_at: s.now,
            peer_flow_window: s.peer_flow_window.max(2),
            snd_drop_threshold,
            tlpktdrop: s.negotiated.tlpktdrop,
            snd_latency: s.negotiated.snd_latency,
            last_origin: None,
            peer_bandwidth: 0,
            want_writable: false,
            rcv: RecvBuffer::new(c.rcv_buf_packets, max_rcv_payload, s.rcv_isn),
            tsbpd,
            arrival: ArrivalWindow::with_mss(s.mss),
            ack_number: 1,
            next_ack_at: s.now + ACK_INTERVAL,
            last_ack_seq: s.rcv_isn,
            buffer_was_full: false,
            last_ack_at: s.now,
            last_ackacked_seq: s.rcv_isn,
            ack_history: [(0, s.rcv_isn, s.now); ACK_HISTORY],
            packets_since_ack: 0,
            nakreport: s.nakreport,
            reorder: Reorder::new(c.loss_max_ttl),
            nak_interval: FIRST_NAK_INTERVAL,
            next_nak_at: s.now + FIRST_NAK_INTERVAL,
            readable_signaled: false,
            work: 0,
        }
    }

    /// Applies the options libsrt lets change on a connected socket, from
    /// `old` (what the transfer runs with) to `new` (libsrt `CUDT::setOpt`'s
    /// post actions): SRTO_MAXBW, SRTO_INPUTBW, SRTO_MININPUTBW and
    /// SRTO_OHEADBW reconfigure the congestion control (`updateCC(TEV_INIT)`),
    /// SRTO_LOSSMAXTTL resets the reorder tolerance to its new maximum,
    /// SRTO_SNDDROPDELAY moves the sender's drop threshold and
    /// SRTO_DRIFTTRACER switches drift tracking. Other fields are ignored.
    /// The post action of `set` runs even if its value did not change.
    pub(crate) fn reconfigure(
        &mut self,
        old: &TransferConfig,
        new: &TransferConfig,
        set: Option<SockOpt>,
    ) {
        let is_set = |opts: &[SockOpt]| set.is_some_and(|o| opts.contains(&o));
        let max_bw_set = new.max_bw != old.max_bw || is_set(&[SockOpt::MaxBw]);
        let input_set = new.input_bw != old.input_bw
            || new.min_input_bw != old.min_input_bw
            || is_set(&[SockOpt::InputBw, SockOpt::MinInputBw]);
        let overhead_set = new.overhead_pct != old.overhead_pct || is_set(&[SockOpt::OheadBw]);
        if max_bw_set || input_set || overhead_set {
            match &mut self.cc {
                Cc::Live(cc) => cc.reconfigure(
                    new.max_bw,
                    new.input_bw,
                    new.min_input_bw,
                    new.overhead_pct,
                    max_bw_set,
                ),
                // libsrt `FileCC::updateBandwidth`: only SRTO_MAXBW counts.
                Cc::File(cc) => cc.set_max_bw(new.max_bw),
            }
            // libsrt restarts (or stops) the input rate sampling for
            // SRTO_MAXBW, and for SRTO_INPUTBW and SRTO_MININPUTBW while
            // SRTO_MAXBW is 0; not for SRTO_OHEADBW.
            if max_bw_set || (input_set && new.max_bw == 0) {
                self.input_rate.reset(!self.cc.wants_input_rate());
            }
        }
        if new.loss_max_ttl != old.loss_max_ttl || is_set(&[SockOpt::LossMaxTtl]) {
            self.reorder.set_max(new.loss_max_ttl);
        }
        self.snd_drop_threshold =
            snd_drop_threshold(self.tlpktdrop, self.snd_latency, new.snd_drop_delay);
        if let Some(tsbpd) = &mut self.tsbpd {
            tsbpd.set_drift_tracer(new.drift_tracer);
        }
    }

    fn timestamp(&self, t: Instant) -> Timestamp {
        Timestamp::from_micros(t.saturating_duration_since(self.start).as_micros() as u64)
    }

    // ----- application side -----

    /// Queues one message (one packet in live mode).
    pub(crate) fn send(
        &mut self,
        now: Instant,
        payload: &[u8],
        ctrl: &MsgCtrl,
    ) -> Result<Sent, SendError> {
        let origin = ctrl.srctime.unwrap_or(now);
        let mut sent = Sent {
            len: 0,
            first_seq: None,
            msgno: None,
            origin,
        };
        if payload.is_empty() {
            // libsrt's sendmsg2 queues nothing for an empty message.
            return Ok(sent);
        }
        if self.live && payload.len() > self.payload_size {
            return Err(SendError::MessageTooLarge {
                len: payload.len(),
                max: self.payload_size,
            });
        }
        let was_empty = self.snd.is_empty();
        let numbered_from = self.snd.next_msgno();
        if let Some(msgno) = ctrl.msgno {
            self.snd.set_next_msgno(msgno);
        }
        let first_seq = self.snd.next_seq();
        let first_msgno = self.snd.next_msgno();
        let result = if self.live || self.message_api {
            // One send is one message, queued whole or not at all.
            match self.snd.push(payload, origin, ctrl.ttl, ctrl.in_order) {
                Ok(m) => {
                    let packets = m.last.offset_from(m.first) as u32 + 1;
                    self.input_rate.on_message(now, packets, payload.len());
                    Ok(payload.len())
                }
                Err(SendBufferError::Full) => Err(SendError::WouldBlock),
                Err(_) => Err(SendError::MessageTooLarge {
                    len: payload.len(),
                    max: self.snd.capacity() * self.max_payload,
                }),
            }
        } else {
            // Stream API: take what fits, a packet at a time.
            let room = self.snd.free_packets() * self.max_payload;
            let take = payload.len().min(room);
            for chunk in payload[..take].chunks(self.max_payload) {
                if self.snd.push(chunk, origin, ctrl.ttl, true).is_err() {
                    break;
                }
                self.input_rate.on_message(now, 1, chunk.len());
            }
            if take == 0 {
                Err(SendError::WouldBlock)
            } else {
                Ok(take)
            }
        };
        match result {
            Ok(n) => {
                sent.len = n;
                self.last_origin = Some(origin);
                sent.first_seq = Some(first_seq);
                sent.msgno = Some(first_msgno);
                if self.cc.wants_input_rate() {
                    self.cc.update_input_rate(self.input_rate.rate());
                }
                if was_empty {
                    self.stats.on_sending_started(now);
                    self.last_ack_rx = now;
                }
                Ok(sent)
            }
            Err(e) => {
                // Nothing queued: a forced number is not taken either.
                self.snd.set_next_msgno(numbered_from);
                if e == SendError::WouldBlock {
                    self.want_writable = true;
                }
                Err(e)
            }
        }
    }

    /// The next message due for delivery, if any.
    pub(crate) fn recv(&mut self, now: Instant, out: &mut [u8]) -> Option<RecvInfo> {
        let info = match &mut self.tsbpd {
            Some(tsbpd) => loop {
                // libsrt's TSBPD thread samples before each delivery.
                self.rcv.sample_avg(now, tsbpd);
                match self.rcv.pop_ready(now, tsbpd, out) {
                    PopOutcome::Delivered(info) => break Some(info),
                    PopOutcome::Dropped { packets, .. } => {
                        count_rcv_drop(&mut self.stats, self.payload_size, packets)
                    }
                    PopOutcome::NotReady => break None,
                }
            },
            None if self.message_api => self.rcv.pop_message(out, true),
            None => {
                let head = self.rcv.read_pos();
                match self.rcv.pop_bytes(out) {
                    0 => None,
                    len => Some(RecvInfo {
                        len,
                        truncated: false,
                        seq: head,
                        msgno: MsgNumber::FIRST,
                        timestamp: Timestamp::default(),
                        origin: None,
                        position: crate::packet::PacketPosition::Solo,
                    }),
                }
            }
        };
        if info.is_none() {
            self.readable_signaled = false;
        }
        info
    }

    /// Whether a message is ready now, and the readable event should fire.
    pub(crate) fn take_readable(&mut self, now: Instant) -> bool {
        if self.readable_signaled {
            return false;
        }
        let ready = self.message_ready(now);
        if ready {
            self.readable_signaled = true;
        }
        ready
    }

    /// Whether [`recv`](Self::recv) would deliver now; if not, the next
    /// message raises the readable event again, as after a receive that
    /// found nothing.
    pub(crate) fn recv_ready(&mut self, now: Instant) -> bool {
        let ready = self.message_ready(now);
        if !ready {
            self.readable_signaled = false;
        }
        ready
    }

    fn message_ready(&mut self, now: Instant) -> bool {
        match &self.tsbpd {
            Some(tsbpd) => self.rcv.next_delivery(tsbpd).is_some_and(|t| t <= now),
            None if self.message_api => {
                self.rcv.discard_broken_head();
                self.rcv.message_ready()
            }
            None => self.rcv.head_present(),
        }
    }

    /// Whether the send buffer has room again after a refused send.
    pub(crate) fn take_writable(&mut self) -> bool {
        if self.want_writable && self.snd.free_packets() > 0 {
            self.want_writable = false;
            return true;
        }
        false
    }

    // ----- network side -----

    /// A data packet from the peer.
    pub(crate) fn on_data(&mut self, now: Instant, packet: &DataPacket<'_>) {
        let mut plain = [0u8; 1500];
        let decrypted;
        let packet = match (&self.rx, packet.key) {
            (Some(rx), DataKeyFlags::Even | DataKeyFlags::Odd) => {
                let n = packet.payload.len();
                let header = packet.header_bytes();
                let Some(buf) = plain.get_mut(..n) else {
                    self.on_undecryptable(now, packet);
                    return;
                };
                buf.copy_from_slice(packet.payload);
                match rx.decrypt(&header, buf) {
                    Ok(len) => {
                        decrypted = DataPacket {
                            key: DataKeyFlags::Clear,
                            payload: &plain[..len],
                            ..*packet
                        };
                        &decrypted
                    }
                    // Wrong key, or a GCM packet that fails authentication:
                    // dropped and counted, never delivered.
                    Err(_) => {
                        self.on_undecryptable(now, packet);
                        return;
                    }
                }
            }
            // Encrypted but we have no key; or cleartext once keys are
            // agreed (libsrt drops both, core.cpp:10733-10795).
            (None, DataKeyFlags::Even | DataKeyFlags::Odd) | (Some(_), DataKeyFlags::Clear) => {
                self.on_undecryptable(now, packet);
                return;
            }
            (None, DataKeyFlags::Clear) => packet,
        };
        let len = packet.payload.len();
        self.stats.on_data_received(len, packet.retransmitted);
        self.arrival.on_packet_arrival(now, len);
        self.arrival
            .on_probe_arrival(now, packet.seq, len, packet.retransmitted);
        // A packet that arrives after its delivery time is useless to a live
        // receiver (libsrt would hand it over up to a packet late): it stays
        // missing and is dropped with its gap, so nothing is delivered late.
        if let Some(tsbpd) = &self.tsbpd {
            let due = tsbpd.delivery_time(packet.timestamp);
            if due < now {
                self.stats.on_belated(len, now - due);
                return;
            }
        }
        let highest = self.rcv.highest_received();
        let mut in_order = true;
        match self.rcv.insert(packet, now) {
            InsertOutcome::Inserted {
                newly_lost,
                filled_loss,
            } => {
                self.stats.on_data_unique(len);
                if let Some(range) = newly_lost {
                    let n = range.len();
                    self.stats
                        .on_loss_detected(n, u64::from(n) * self.payload_size as u64);
                    if !self.reorder.hold(range) {
                        self.ctrl.push_back(Ctrl::Nak(range));
                    }
                }
                if filled_loss && !packet.retransmitted {
                    // An original packet filling a gap arrived out of order.
                    in_order = false;
                    let distance = highest.map_or(0, |h| h.offset_from(packet.seq).max(0));
                    self.stats.on_reordered(distance);
                    if self.reorder.on_reordered(packet.seq, distance as u32) {
                        self.stats.on_reorder_tolerance_decreased();
                    }
                } else if filled_loss {
                    self.reorder.forget(packet.seq);
                }
            }
            InsertOutcome::Belated => {
                let lateness = self
                    .tsbpd
                    .as_ref()
                    .map(|t| now.saturating_duration_since(t.delivery_time(packet.timestamp)))
                    .unwrap_or_default();
                self.stats.on_belated(len, lateness);
            }
            InsertOutcome::Duplicate | InsertOutcome::OutOfWindow | InsertOutcome::Oversized => {}
        }
        // Fresh losses whose wait is over are reported now.
        while let Some(range) = self.reorder.expired() {
            self.ctrl.push_back(Ctrl::Nak(range));
        }
        self.reorder.tick();
        if in_order && self.reorder.on_in_order() {
            self.stats.on_reorder_tolerance_decreased();
        }
        self.packets_since_ack += 1;
        // As libsrt (core.cpp sendCtrlAck), no light ACK repeats a position
        // the peer has already confirmed with an ACKACK: a stuck ACK (a lost
        // NAK in file mode, which has no periodic NAK) must go quiet so that
        // the sender's retransmission timer fires.
        if self.packets_since_ack >= LIGHT_ACK_PACKETS {
            self.packets_since_ack = 0;
            if self.rcv.ack_seq() == self.last_ackacked_seq {
                return;
            }
            self.ctrl.push_back(Ctrl::Ack(Ack {
                ack_number: 0,
                ack_seq: self.rcv.ack_seq(),
                info: AckInfo::Light,
            }));
        }
    }

    /// A data packet that cannot be decrypted (no key, wrong key, AES-GCM
    /// authentication failure) or that comes in clear text once keys are
    /// agreed: never delivered, counted as undecrypted. As libsrt ≥ 1.5.2
    /// (core.cpp `handleSocketPacketReception`, "Decryption failed"), with
    /// TSBPD the packet takes its place in the receive buffer and is
    /// dropped there at once (`dropMessage(.., DROP_EXISTING)`): it is not
    /// reported lost, not retransmitted, counts as a receiver drop, and a
    /// gap before it is reported as for any packet; one already too late
    /// is only belated (libsrt checks that before decrypting). Without
    /// TSBPD (libsrt asserts TSBPD there) it is left missing, to be NAKed
    /// and retransmitted, so that a file stream never skips bytes.
    fn on_undecryptable(&mut self, now: Instant, packet: &DataPacket<'_>) {
        let len = packet.payload.len();
        self.stats.on_data_received(len, packet.retransmitted);
        let Some(tsbpd) = &self.tsbpd else {
            self.stats.on_undecrypted(len);
            return;
        };
        let due = tsbpd.delivery_time(packet.timestamp);
        if due < now {
            self.stats.on_belated(len, now - due);
            return;
        }
        self.stats.on_undecrypted(len);
        // An empty stand-in, not a solo packet, so that `drop_range` gives
        // it up (it keeps whole solo packets, as DROPREQ must).
        let stand_in = DataPacket {
            payload: &[],
            position: crate::packet::PacketPosition::Middle,
            key: DataKeyFlags::Clear,
            ..*packet
        };
        if let InsertOutcome::Inserted {
            newly_lost,
            filled_loss,
        } = self.rcv.insert(&stand_in, now)
        {
            if let Some(range) = newly_lost {
                let n = range.len();
                self.stats
                    .on_loss_detected(n, u64::from(n) * self.payload_size as u64);
                if !self.reorder.hold(range) {
                    self.ctrl.push_back(Ctrl::Nak(range));
                }
            }
            if filled_loss {
                self.reorder.forget(packet.seq);
            }
            let dropped = self.rcv.drop_range(packet.seq, packet.seq);
            count_rcv_drop(&mut self.stats, len, dropped);
        }
    }

    /// An ACK from the peer (we are the sender).
    ///
    /// An ACK beyond the next packet to send (libsrt `processCtrlAck`
    /// breaks the connection on it), or more than a send buffer behind the
    /// first unacknowledged packet (no reordering delays an ACK that much),
    /// changes nothing and is counted in
    /// [`RejectedControl::ack`](crate::stats::RejectedControl::ack). One a
    /// little behind (reordered) acknowledges nothing new, as in libsrt.
    pub(crate) fn on_ack(&mut self, now: Instant, ack: &Ack) {
        let pos = i64::from(ack.ack_seq.offset_from(self.snd.first_seq()));
        let in_flight = i64::from(self.snd.next_unsent_seq().offset_from(self.snd.first_seq()));
        let behind = i64::try_from(self.snd.capacity()).unwrap_or(i64::MAX);
        if pos > in_flight || pos < -behind {
            self.stats.rejected_mut().ack += 1;
            return;
        }
        self.last_ack_rx = now;
        self.exp_count = 1;
        match self.snd.ack(ack.ack_seq) {
            Ok(acked) => {
                self.snd.sample_avg(now);
                if acked.packets > 0 {
                    self.stats.on_send_acked(now);
                }
            }
            // Checked above.
            Err(_) => {
                self.stats.rejected_mut().ack += 1;
                return;
            }
        }
        self.snd_loss.remove_before(self.snd.first_seq());
        self.snd_timed_out.remove_before(self.snd.first_seq());
        let rates = match ack.info {
            AckInfo::Full {
                packet_recv_rate,
                link_capacity,
                ..
            } => Some(AckRates {
                recv_rate_pkts: packet_recv_rate,
                link_capacity_pkts: link_capacity,
            }),
            _ => None,
        };
        if let AckInfo::Full {
            rtt,
            rtt_var,
            buffer_available,
            link_capacity,
            ..
        } = with_capacity(ack.info)
        {
            self.stats.on_ack_received();
            self.peer_flow_window = buffer_available.max(2);
            self.ctrl.push_back(Ctrl::AckAck(ack.ack_number));
            // As libsrt (processCtrlAck), a full ACK that does not move past
            // the last one (a repeat after a lost ACKACK, or one stuck at a
            // hole) only updates the flow window: no RTT, rate or CC input.
            if ack.ack_seq.offset_from(self.last_full_ack_seq) <= 0 {
                return;
            }
            self.last_full_ack_seq = ack.ack_seq;
            self.peer_bandwidth = link_capacity;
            // libsrt ignores the initial pair; a pure sender copies the
            // peer's values, a sender that also receives smooths them.
            if (rtt, rtt_var) != (100_000, 50_000) {
                if self.rtt.sampled {
                    self.rtt.rttvar =
                        (3 * self.rtt.rttvar + (i64::from(rtt) - self.rtt.srtt).abs()) / 4;
                    self.rtt.srtt = (7 * self.rtt.srtt + i64::from(rtt)) / 8;
                } else {
                    self.rtt.srtt = i64::from(rtt);
                    self.rtt.rttvar = i64::from(rtt_var);
                }
            }
            match &mut self.cc {
                Cc::Live(cc) => cc.on_ack(),
                Cc::File(cc) => cc.on_ack(now, ack.ack_seq, rates, self.rtt.srtt),
            }
        }
    }

    /// A NAK from the peer: queue the losses for retransmission.
    ///
    /// Every range is checked before anything changes (libsrt's
    /// `processCtrlLossReport`): a range must end before the next packet to
    /// send, counting forward from the first packet not yet acknowledged
    /// (never the short way round the ring, where a range of 2³⁰ numbers
    /// would wrap to look "before" it). A NAK with any range that does not
    /// is ignored whole and counted in
    /// [`RejectedControl::nak`](crate::stats::RejectedControl::nak); libsrt
    /// breaks the connection. The parts of ranges before the first
    /// unacknowledged packet are answered with a DROPREQ, as libsrt does.
    /// The work is a few steps per range, whatever a range spans.
    pub(crate) fn on_nak(&mut self, list: &WireLossList<'_>) {
        self.stats.on_nak_received();
        let first = self.snd.first_seq();
        let end = self.snd.next_unsent_seq();
        // How far the next packet to send is from the first unacknowledged.
        let in_flight = i64::from(end.offset_from(first));
        for range in list.iter() {
            self.work += 1;
            let Ok(r) = range else {
                // The decoder already refused such a list.
                self.stats.rejected_mut().nak += 1;
                return;
            };
            // `last` counted forward from `first` (the decoder guarantees
            // 0 <= span <= 2^30), so nothing wraps.
            let span = i64::from(r.last.offset_from(r.first));
            let last = i64::from(r.first.offset_from(first)) + span;
            if span < 0 || last >= in_flight {
                self.stats.rejected_mut().nak += 1;
                return;
            }
        }
        let mut first_lost = None;
        for mut r in list.iter().flatten() {
            self.work += 1;
            // Losses before what we still hold were dropped: tell the peer.
            if r.first.offset_from(first) < 0 {
                let last_gone = if r.last.offset_from(first) < 0 {
                    r.last
                } else {
                    first - 1
                };
                self.ctrl.push_back(Ctrl::DropReq {
                    msgno: MsgNumber::FILTER,
                    first: r.first,
                    last: last_gone,
                });
                if r.last.offset_from(first) < 0 {
                    continue;
                }
                r.first = first;
            }
            let added = self.snd_loss.insert(r);
            self.stats.on_send_loss(added);
            first_lost.get_or_insert(r.first);
        }
        if let (Cc::File(cc), Some(first_lost)) = (&mut self.cc, first_lost) {
            cc.on_loss(first_lost, self.snd_loss.len_seqs(), end - 1, self.rtt.srtt);
        }
    }

    /// Steps taken on control packets and retransmission so far (see the
    /// field): tests compare them to show the work per packet is bounded.
    #[cfg(test)]
    pub(crate) fn work(&self) -> u64 {
        self.work
    }

    /// The control packets rejected so far.
    pub(crate) fn rejected(&self) -> crate::stats::RejectedControl {
        self.stats.rejected()
    }

    /// A control packet for this connection that did not decode: counted
    /// by kind (only in-band key material has a counter, see
    /// [`RejectedControl::km`](crate::stats::RejectedControl::km)).
    pub(crate) fn on_undecodable_control(&mut self, control_type: u16, subtype: u16) {
        if control_type == crate::packet::control_type::EXT && matches!(subtype, 3 | 4) {
            self.stats.rejected_mut().km += 1;
        }
    }

    /// An in-band KMREQ (key refresh): take the new key and echo the KM.
    ///
    /// Once keys are agreed, key material of another key length (or
    /// cipher) than the one agreed is refused before any key derivation
    /// and counted in
    /// [`RejectedControl::km`](crate::stats::RejectedControl::km): a key
    /// refresh keeps the key length, and each derivation costs a PBKDF2.
    pub(crate) fn on_km_request(&mut self, km: &crate::packet::KeyMaterial) {
        if let Some(rx) = &self.rx {
            // An honest peer keeps its salt (and so the KEK) across key
            // refreshes (haicrypt's hcryptCtx_Tx_Refresh): key material
            // with another salt would cost a PBKDF2 derivation per packet
            // to find out it does not open, so it is refused first.
            if usize::from(km.key_len) != rx.key_len()
                || km.cipher != rx.cipher()
                || km.salt.as_slice() != rx.salt()
            {
                self.stats.rejected_mut().km += 1;
                return;
            }
        }
        let rsp = match (&mut self.rx, &self.passphrase) {
            (Some(rx), Some(pass)) => match rx.apply_key_material(pass, km) {
                Ok(()) => crate::packet::KmResponse::Material(km.clone()),
                Err(e) => crate::packet::KmResponse::State(e.km_state()),
            },
            (None, Some(pass)) => match CryptoContext::receiver(pass, km) {
                Ok(rx) => {
                    self.rx = Some(rx);
                    crate::packet::KmResponse::Material(km.clone())
                }
                Err(e) => crate::packet::KmResponse::State(e.km_state()),
            },
            (_, None) => crate::packet::KmResponse::State(crate::packet::KmState::NoSecret),
        };
        self.ctrl.push_back(Ctrl::KmRsp(Box::new(rsp)));
    }

    /// An in-band KMRSP: the peer has our announced key.
    pub(crate) fn on_km_response(&mut self, rsp: &crate::packet::KmResponse) {
        if let (Some((pending, _, _)), crate::packet::KmResponse::Material(km)) =
            (&self.pending_kmreq, rsp)
        {
            if pending == km {
                self.pending_kmreq = None;
            }
        }
    }

    /// An ACKACK from the peer: an RTT sample (we are the receiver).
    ///
    /// Only an ACK this side sent and that is still remembered is taken,
    /// once: an ACKACK of no such ACK, or a repeat, gives no RTT sample and
    /// is counted in
    /// [`RejectedControl::ackack`](crate::stats::RejectedControl::ackack).
    pub(crate) fn on_ackack(&mut self, now: Instant, ack_number: u32, ts: Timestamp) {
        let entry = &mut self.ack_history[ack_number as usize % ACK_HISTORY];
        if ack_number == 0 || entry.0 != ack_number {
            self.stats.rejected_mut().ackack += 1;
            return;
        }
        let (_, seq, sent) = *entry;
        // Taken: a repeat no longer matches.
        entry.0 = 0;
        let r = now.saturating_duration_since(sent);
        self.rtt.sample(r.as_micros() as i64);
        if seq.offset_from(self.last_ackacked_seq) > 0 {
            self.last_ackacked_seq = seq;
        }
        if let Some(tsbpd) = &mut self.tsbpd {
            tsbpd.add_drift_sample(ts, now, Some(r));
        }
    }

    /// A KEEPALIVE from the peer: its timestamp feeds the TSBPD clock.
    pub(crate) fn on_keepalive(&mut self, now: Instant, ts: Timestamp) {
        if let Some(tsbpd) = &mut self.tsbpd {
            tsbpd.update_wrap(ts);
            tsbpd.add_drift_sample(ts, now, None);
        }
    }

    /// A DROPREQ from the peer: stop waiting for those packets. In live
    /// mode with too-late drop libsrt only forgets the loss (core.cpp:9334).
    ///
    /// The range must lie within the receive window: from the first packet
    /// not yet delivered, less than a buffer's length on. A reversed range,
    /// one longer than the buffer, one ending more than a buffer's length
    /// before that packet, or one reaching a buffer's length past it (the
    /// peer cannot have sent that far) changes nothing and is counted in
    /// [`RejectedControl::dropreq`](crate::stats::RejectedControl::dropreq).
    /// One entirely before the window but less than a buffer's length back
    /// is stale, not impossible (an honest sender answers a NAK that came
    /// after its ACK with a DROPREQ): nothing is left to drop, nothing is
    /// counted. A range that starts before the window is cut to it.
    ///
    /// Without TSBPD the receiver drops what the range names, except in a
    /// file stream (no message API): no part of a stream is ever given up,
    /// so such a DROPREQ is counted as rejected (a spoofed one would make
    /// the receiver ACK what was never sent, and the stream stall; found by
    /// the `pair` fuzz target).
    pub(crate) fn on_dropreq(&mut self, first: SeqNumber, last: SeqNumber) {
        let start = self.rcv.read_pos();
        let window = i64::try_from(self.rcv.capacity()).unwrap_or(i64::MAX);
        let span = i64::from(last.offset_from(first));
        let last_pos = i64::from(first.offset_from(start)) + span;
        if span < 0 || span >= window || last_pos < -window || last_pos >= window {
            self.stats.rejected_mut().dropreq += 1;
            return;
        }
        if last_pos < 0 {
            return;
        }
        let first = if first.offset_from(start) < 0 {
            start
        } else {
            first
        };
        if self.tsbpd.is_none() {
            // A file stream has no message to give up: only the stale
            // ranges above come from an honest sender.
            if !self.live && !self.message_api {
                self.stats.rejected_mut().dropreq += 1;
                return;
            }
            // Nothing beyond the highest packet received is given up: the
            // peer cannot be shown to have sent that far, and a spoofed
            // range ahead would make the receiver acknowledge what was
            // never sent (the sender refuses that ACK and the stream
            // stalls; libsrt breaks the connection). An honest sender does
            // not ask for that either: as libsrt 1.5.5's, it skips the
            // sequence numbers of messages that expired before they were
            // sent and goes on, and the receiver learns of the gap from
            // the next packet and reports it; the NAK is answered with a
            // DROPREQ that then lies within what was received. (libsrt
            // 1.5.5's receiver still moves past such a range; its sender no
            // longer sends one, except a socket group's sequence jump,
            // which carries message number 0.)
            let Some(highest) = self.rcv.highest_received() else {
                self.stats.rejected_mut().dropreq += 1;
                return;
            };
            if first.offset_from(highest) > 0 {
                self.stats.rejected_mut().dropreq += 1;
                return;
            }
            let last = if last.offset_from(highest) > 0 {
                highest
            } else {
                last
            };
            let dropped = self.rcv.drop_range(first, last);
            count_rcv_drop(&mut self.stats, self.max_payload, dropped);
        }
    }

    // ----- timers -----

    pub(crate) fn handle_timeout(&mut self, now: Instant) {
        // Sender too-late drop.
        if let (Some(threshold), Some(oldest)) = (self.snd_drop_threshold, self.snd.oldest_origin())
        {
            if now.saturating_duration_since(oldest) > threshold {
                while let Some(dropped) = self.snd.drop_expired(now, Some(threshold)) {
                    self.stats
                        .on_snd_drop(dropped.packets as u32, dropped.bytes as u64);
                }
                self.snd_loss.remove_before(self.snd.first_seq());
                self.snd_timed_out.remove_before(self.snd.first_seq());
            }
        }
        // An announced key not yet confirmed: KMREQ again every 1.5·SRTT,
        // at most 10 times (crypto.cpp:518).
        if let Some((km, last, tries)) = &mut self.pending_kmreq {
            let every = Duration::from_micros((self.rtt.srtt.max(10_000) * 3 / 2) as u64);
            if now >= *last + every {
                if *tries >= 10 {
                    self.pending_kmreq = None;
                } else {
                    *tries += 1;
                    *last = now;
                    let km = Box::new(km.clone());
                    self.ctrl.push_back(Ctrl::KmReq(km));
                }
            }
        }
        // Messages whose time to live passed before they were sent whole:
        // dropped by the sender. The receiver is told (DROPREQ) of the
        // part it was sent; the sequence numbers never sent are skipped,
        // as libsrt 1.5.5's `CSndBuffer::readData` does, and the next
        // packet goes out even if the window is full of them, so that the
        // receiver sees the gap, reports it, and the NAK is answered with
        // a DROPREQ (a receiver gives up nothing beyond what it received).
        let unsent_from = self.snd.next_unsent_seq();
        while let Some(mut dropped) = self.snd.drop_expired(now, None) {
            self.stats
                .on_snd_drop(dropped.packets as u32, dropped.bytes as u64);
            self.skipped_unsent = true;
            if dropped.range.first.offset_from(unsent_from) < 0 {
                if dropped.range.last.offset_from(unsent_from) >= 0 {
                    dropped.range.last = unsent_from - 1;
                    dropped.last_msgno = dropped.first_msgno;
                }
                self.queue_dropreq(&dropped);
            }
        }
        // Retransmission timeout: nothing acknowledged for too long (a lost
        // NAK or retransmission; file mode has no periodic NAK). A live
        // sender relies on NAK reports. In file mode, as libsrt's LATEREXMIT
        // (when no loss is waiting), everything unacknowledged is resent.
        // Unlike libsrt, these packets are not put in the loss list FileCC
        // reads: at 2% loss the timer fired several times a second, each
        // time with hundreds of packets the receiver mostly had, the next
        // NAK then counted them all as lost and FileCC slowed down for good
        // (a 200 MiB upload to srt-file-transmit fell to under 20 Mbit/s).
        if !self.live
            && self.snd.next_unsent_seq() != self.snd.first_seq()
            && self.snd_loss.is_empty()
            && self.snd_timed_out.is_empty()
            && now >= self.exp_deadline()
        {
            let first = self.snd.first_seq();
            let last = self.snd.next_unsent_seq() - 1;
            if let Some(range) = SeqRange::new(first, last) {
                self.snd_timed_out.insert(range);
            }
            self.exp_count += 1;
            self.last_ack_rx = now;
            match &mut self.cc {
                Cc::Live(cc) => cc.on_rexmit_timeout(),
                Cc::File(cc) => cc.on_rexmit_timeout(self.rtt.srtt),
            }
        }
        // Receiver too-late drop, even when the application does not read.
        if let Some(tsbpd) = &self.tsbpd {
            // Where libsrt's TSBPD thread wakes up: sample the buffer average.
            self.rcv.sample_avg(now, tsbpd);
            while let Some((_, packets)) = self.rcv.drop_too_late(now, tsbpd) {
                count_rcv_drop(&mut self.stats, self.payload_size, packets);
            }
        }
        // Full ACK.
        if now >= self.next_ack_at {
            self.next_ack_at = now + ACK_INTERVAL;
            self.full_ack(now);
        }
        // Periodic NAK.
        if self.nakreport && now >= self.next_nak_at {
            if self.rcv.loss_ranges().next().is_some() {
                self.ctrl.push_back(Ctrl::PeriodicNak);
            }
            self.next_nak_at = now + self.nak_interval;
        }
    }

    /// When the sender's retransmission timer fires (libsrt: N·(SRTT +
    /// 4·RTTVar + 20 ms) + 10 ms after the last ACK).
    fn exp_deadline(&self) -> Instant {
        let period = self.rtt.rto() + Duration::from_millis(20);
        self.last_ack_rx + period * self.exp_count + Duration::from_millis(10)
    }

    fn queue_dropreq(&mut self, dropped: &crate::buffer::send::DroppedMessages) {
        let msgno = if dropped.first_msgno == dropped.last_msgno {
            dropped.first_msgno
        } else {
            MsgNumber::FILTER
        };
        self.ctrl.push_back(Ctrl::DropReq {
            msgno,
            first: dropped.range.first,
            last: dropped.range.last,
        });
    }

    /// Whether the last full ACK advertised no free buffer and the
    /// application has read since: a window update is due even though no
    /// new data arrived (libsrt's `bNeedFullAck`), or a sender that obeys
    /// the window (libsrt's) would wait forever.
    fn window_update_due(&self) -> bool {
        self.buffer_was_full && self.rcv.free_packets() > 0
    }

    fn full_ack(&mut self, now: Instant) {
        let ack_seq = self.rcv.ack_seq();
        let window_update = self.window_update_due();
        if ack_seq == self.last_ackacked_seq && !window_update {
            return;
        }
        if ack_seq == self.last_ack_seq && !window_update && now < self.last_ack_at + self.rtt.rto()
        {
            return;
        }
        let ack_number = self.ack_number;
        self.ack_number = if ack_number == 0x7FFF_FFFF {
            1
        } else {
            ack_number + 1
        };
        self.ack_history[ack_number as usize % ACK_HISTORY] = (ack_number, ack_seq, now);
        let (pkt_rate, byte_rate) = self.arrival.recv_rates();
        let buffer_available = self.rcv.free_packets();
        self.buffer_was_full = buffer_available == 0;
        self.ctrl.push_back(Ctrl::Ack(Ack {
            ack_number,
            ack_seq,
            info: AckInfo::Full {
                rtt: self.rtt.srtt as u32,
                rtt_var: self.rtt.rttvar as u32,
                buffer_available,
                packet_recv_rate: pkt_rate,
                link_capacity: self.arrival.link_capacity(),
                recv_rate: byte_rate,
            },
        }));
        self.stats.on_ack_sent();
        self.last_ack_seq = ack_seq;
        self.last_ack_at = now;
        self.packets_since_ack = 0;
    }

    pub(crate) fn poll_timeout(&self) -> Option<Instant> {
        let mut t: Option<Instant> = None;
        let mut at = |x: Instant| t = Some(t.map_or(x, |t| t.min(x)));
        if self.rcv.ack_seq() != self.last_ackacked_seq || self.window_update_due() {
            at(self.next_ack_at);
        }
        if self.nakreport && self.rcv.loss_ranges().next().is_some() {
            at(self.next_nak_at);
        }
        if self.data_waiting() {
            at(self.next_send_at);
        }
        if let (Some(threshold), Some(oldest)) = (self.snd_drop_threshold, self.snd.oldest_origin())
        {
            at(oldest + threshold + Duration::from_micros(1));
        }
        if let Some(tsbpd) = &self.tsbpd {
            if let Some(d) = self.rcv.next_delivery(tsbpd) {
                // Wake to signal readable, or to drop a gap before a due
                // packet; an unread packet at the head needs no timer.
                if !self.readable_signaled || !self.rcv.head_present() {
                    at(d);
                }
            }
        }
        if !self.live
            && self.snd.next_unsent_seq() != self.snd.first_seq()
            && !self.rexmit_pending()
        {
            at(self.exp_deadline());
        }
        if let Some((_, last, _)) = &self.pending_kmreq {
            at(*last + Duration::from_micros((self.rtt.srtt.max(10_000) * 3 / 2) as u64));
        }
        if !self.ctrl.is_empty() {
            at(self.start);
        }
        t
    }

    /// Whether a control or data packet can be sent at `now`.
    pub(crate) fn wants_transmit(&self, now: Instant) -> bool {
        !self.ctrl.is_empty() || (now >= self.next_send_at && self.data_waiting())
    }

    /// When a data packet waiting for its pacing time may be sent: from
    /// then on [`Transfer::wants_transmit`] holds without any other change.
    pub(crate) fn send_due_at(&self) -> Option<Instant> {
        self.data_waiting().then_some(self.next_send_at)
    }

    /// Whether a retransmission or a new packet the window admits waits.
    fn data_waiting(&self) -> bool {
        self.rexmit_pending() || (self.snd.unsent() > 0 && self.may_send_new())
    }

    /// Whether a new packet may go out: the flow window is open, and there
    /// is a key to send with if a passphrase is set (without one libsrt's
    /// `CSndBuffer::readData` gets crypto flags -1: "NOT SENDING"; never
    /// clear text).
    ///
    /// After sequence numbers were skipped (messages that expired unsent),
    /// one packet goes out whatever the window says, as in libsrt, whose
    /// window check comes before the skip: the skipped numbers fill the
    /// window until the receiver, told of them by that packet's arrival,
    /// acknowledges past them.
    fn may_send_new(&self) -> bool {
        (self.window_open() || self.skipped_unsent)
            && !(self.tx.is_none() && self.passphrase.is_some())
    }

    /// Whether a packet waits for retransmission (reported or timed out).
    fn rexmit_pending(&self) -> bool {
        !self.snd_loss.is_empty() || !self.snd_timed_out.is_empty()
    }

    /// Removes from the loss lists what is not in the send buffer's sent
    /// part: before the first unacknowledged packet, or from the next
    /// packet to send on (a few steps per list).
    fn trim_rexmit(&mut self) {
        let first = self.snd.first_seq();
        let end = self.snd.next_unsent_seq();
        for list in [&mut self.snd_loss, &mut self.snd_timed_out] {
            if list.is_empty() {
                continue;
            }
            self.work += 1;
            list.remove_before(first);
            if list.last().is_some_and(|l| l.offset_from(end) >= 0) {
                list.remove_from(end);
            }
        }
    }

    /// The next packet to retransmit: reported losses first, then those the
    /// retransmission timeout queued.
    fn pop_rexmit(&mut self) -> Option<SeqNumber> {
        if let Some(seq) = self.snd_loss.pop_first() {
            self.snd_timed_out.remove(seq);
            return Some(seq);
        }
        self.snd_timed_out.pop_first()
    }

    fn window_open(&self) -> bool {
        let in_flight = self.snd.next_unsent_seq().offset_from(self.snd.first_seq());
        let window = match &self.cc {
            Cc::Live(_) => self.peer_flow_window,
            Cc::File(cc) => self.peer_flow_window.min(cc.congestion_window()),
        };
        (in_flight as i64) < i64::from(window)
    }

    /// Writes the next control or data packet into `buf`.
    pub(crate) fn poll_transmit(
        &mut self,
        now: Instant,
        buf: &mut [u8],
    ) -> Result<Option<usize>, EncodeError> {
        if let Some(ctrl) = self.ctrl.pop_front() {
            return self.encode_ctrl(now, ctrl, buf).map(Some);
        }
        if now < self.next_send_at {
            return Ok(None);
        }
        let (n, probe) = match self.next_rexmit(now, buf)? {
            Some(n) => (n, false),
            None => match self.next_new(now, buf)? {
                // A new packet whose sequence number is a multiple of 16
                // starts a probe pair: the next one follows at once, so the
                // receiver can measure the link capacity (libsrt packData).
                Some(n) => (n, buf[3] & 0x0F == 0),
                None => return Ok(None),
            },
        };
        if probe {
            return Ok(Some(n));
        }
        let period = self.cc.send_period();
        let base = self
            .next_send_at
            .max(now - MAX_PACING_LAG.min(now - self.start));
        self.next_send_at = base + period;
        Ok(Some(n))
    }

    fn next_rexmit(&mut self, now: Instant, buf: &mut [u8]) -> Result<Option<usize>, EncodeError> {
        // libsrt's reduced retransmission (RETRANSMITALGO 1): a loss that
        // was resent less than SRTT − 4·RTTVar ago is not resent again.
        let holdoff = Duration::from_micros((self.rtt.srtt - 4 * self.rtt.rttvar).max(0) as u64);
        // The loss lists hold only what is in the send buffer, sent and not
        // acknowledged (NAKs are checked, ACKs and drops trim the lists);
        // trimmed here too, range by range, so that the loop below never
        // walks over sequence numbers of packets that are not there.
        self.trim_rexmit();
        while let Some(seq) = self.pop_rexmit() {
            self.work += 1;
            if seq.offset_from(self.snd.first_seq()) < 0 {
                continue;
            }
            if self
                .snd
                .last_sent(seq)
                .is_some_and(|t| now.saturating_duration_since(t) < holdoff)
            {
                continue;
            }
            // A NAKed packet of a message whose TTL passed, or that was
            // dropped before: (re)tell the peer, whose copy of an earlier
            // DROPREQ may have been lost (libsrt resends it on every NAK).
            if let Some(dropped) = self.snd.drop_expired_message(seq, now) {
                self.stats
                    .on_snd_drop(dropped.packets as u32, dropped.bytes as u64);
                self.snd_loss.remove_range(dropped.range);
                self.snd_timed_out.remove_range(dropped.range);
                self.queue_dropreq(&dropped);
                continue;
            }
            let start = self.start;
            let peer = self.peer_id;
            let Some(slot) = self.snd.get_for_retransmit(seq, now) else {
                continue;
            };
            let packet = DataPacket {
                seq: slot.seq,
                position: slot.position,
                in_order: slot.in_order,
                key: DataKeyFlags::Clear,
                retransmitted: true,
                msg_number: slot.msgno,
                timestamp: Timestamp::from_micros(
                    slot.origin.saturating_duration_since(start).as_micros() as u64,
                ),
                dest_socket: SocketId(peer),
                payload: slot.payload,
            };
            let mut n = packet.encode(buf)?;
            let len = slot.payload.len();
            let seq = slot.seq;
            if self.tx.is_some() {
                let key = self.key_for(seq);
                n = self.encrypt_in_place(key, buf, n)?;
            }
            self.stats.on_data_sent(len, true, false);
            self.cc.on_packet_sent(len);
            return Ok(Some(n));
        }
        Ok(None)
    }

    fn next_new(&mut self, now: Instant, buf: &mut [u8]) -> Result<Option<usize>, EncodeError> {
        if !self.may_send_new() {
            return Ok(None);
        }
        let start = self.start;
        let peer = self.peer_id;
        let Some(slot) = self.snd.next_unsent() else {
            return Ok(None);
        };
        let packet = DataPacket {
            seq: slot.seq,
            position: slot.position,
            in_order: slot.in_order,
            key: DataKeyFlags::Clear,
            retransmitted: false,
            msg_number: slot.msgno,
            timestamp: Timestamp::from_micros(
                slot.origin.saturating_duration_since(start).as_micros() as u64,
            ),
            dest_socket: SocketId(peer),
            payload: slot.payload,
        };
        let mut n = packet.encode(buf)?;
        let len = slot.payload.len();
        let seq = slot.seq;
        if let Some(tx) = &self.tx {
            let key = tx.active_key();
            n = self.encrypt_in_place(key, buf, n)?;
            self.after_encrypt(seq, now);
        }
        self.stats.on_data_sent(len, false, true);
        self.cc.on_packet_sent(len);
        self.skipped_unsent = false;
        Ok(Some(n))
    }

    /// The key a packet was first sent with (for its retransmission).
    fn key_for(&self, seq: SeqNumber) -> KeyIndex {
        let active = self
            .tx
            .as_ref()
            .map_or(KeyIndex::Even, CryptoContext::active_key);
        match self.key_switch {
            Some((switch_seq, old)) if seq.offset_from(switch_seq) < 0 => old,
            _ => active,
        }
    }

    /// Encrypts the data packet of `n` bytes at the start of `buf` in place.
    fn encrypt_in_place(
        &self,
        key: KeyIndex,
        buf: &mut [u8],
        n: usize,
    ) -> Result<usize, EncodeError> {
        let Some(tx) = &self.tx else {
            return Ok(n);
        };
        let (head, body) = buf.split_at_mut(HEADER_LEN_USIZE);
        let header: &mut [u8; HEADER_LEN_USIZE] = head
            .try_into()
            .map_err(|_| EncodeError::FieldTooLarge("header"))?;
        tx.encrypt(key, header, body, n - HEADER_LEN_USIZE)
            .map(|len| HEADER_LEN_USIZE + len)
            .map_err(|_| EncodeError::BufferTooSmall {
                needed: n + crate::crypto::GCM_TAG_LEN,
                have: buf.len(),
            })
    }

    /// Key refresh after each new packet (libsrt hcrypt_ctx_tx): announce
    /// the next key ahead of the switch, remember where the switch was.
    fn after_encrypt(&mut self, seq: SeqNumber, now: Instant) {
        let Some(tx) = &mut self.tx else {
            return;
        };
        match tx.on_packet_encrypted() {
            RefreshAction::PreAnnounce { .. } => {
                let mut sek = zeroize::Zeroizing::new([0u8; 32]);
                self.rng.fill_bytes(&mut sek[..]);
                let len = tx.key_len();
                if tx.install_next_key(&sek[..len]).is_ok() {
                    if let Ok(km) = tx.key_material() {
                        self.ctrl.push_back(Ctrl::KmReq(Box::new(km.clone())));
                        self.pending_kmreq = Some((km, now, 0));
                    }
                }
            }
            RefreshAction::Switched { to } => {
                self.key_switch = Some((seq + 1, to.other()));
            }
            RefreshAction::Retired { .. } | RefreshAction::None => {}
        }
    }

    /// A NAK went out: the periodic NAK interval follows the RTT (libsrt
    /// recomputes it here). libsrt keeps the pending periodic NAK time even
    /// when the new interval is shorter, which leaves early losses waiting
    /// up to 300 ms; we let the timer come earlier, never later.
    fn on_nak_sent(&mut self, now: Instant) {
        self.stats.on_nak_sent();
        self.nak_interval = LiveCc::nak_interval(self.rtt.srtt as i32, self.rtt.rttvar as i32);
        self.next_nak_at = self.next_nak_at.min(now + self.nak_interval);
    }

    fn encode_ctrl(
        &mut self,
        now: Instant,
        ctrl: Ctrl,
        buf: &mut [u8],
    ) -> Result<usize, EncodeError> {
        let mut scratch = [0u8; 1456];
        let body = match ctrl {
            Ctrl::Ack(ack) => ControlBody::Ack(ack),
            Ctrl::AckAck(n) => ControlBody::AckAck { ack_number: n },
            Ctrl::KmReq(km) => ControlBody::ExtKmReq(*km),
            Ctrl::KmRsp(rsp) => ControlBody::ExtKmRsp(*rsp),
            Ctrl::DropReq { msgno, first, last } => ControlBody::DropRequest {
                msg_number: msgno,
                first,
                last,
            },
            Ctrl::Nak(range) => {
                self.on_nak_sent(now);
                ControlBody::LossReport(WireLossList::encode_ranges(&[range], &mut scratch)?)
            }
            Ctrl::PeriodicNak => {
                self.on_nak_sent(now);
                let room = (self.mss as usize).saturating_sub(HEADERS as usize) / 8;
                let mut ranges = [SeqRange::single(SeqNumber::default()); 182];
                let mut n = 0;
                for r in self.rcv.loss_ranges().take(room.min(ranges.len())) {
                    ranges[n] = r;
                    n += 1;
                }
                ControlBody::LossReport(WireLossList::encode_ranges(&ranges[..n], &mut scratch)?)
            }
        };
        ControlPacket {
            timestamp: self.timestamp(now),
            dest_socket: SocketId(self.peer_id),
            body,
        }
        .encode(buf)
    }

    /// The statistics, as `srt_bistats` reports them: the buffer fields are
    /// the current values with `instantaneous`, else their moving averages
    /// (`srt_bstats`).
    pub(crate) fn stats(&mut self, now: Instant, clear: bool, instantaneous: bool) -> TraceBStats {
        let (snd_buf, rcv_buf) = if instantaneous {
            (self.snd.size(), self.rcv.size(self.tsbpd.as_ref()))
        } else {
            (self.snd.avg_size(now), self.rcv.avg_size())
        };
        let instant = Instantaneous {
            send_period: self.cc.send_period(),
            flow_window: self.peer_flow_window as i32,
            congestion_window: match &self.cc {
                Cc::Live(_) => self.peer_flow_window as i32,
                Cc::File(cc) => cc.congestion_window() as i32,
            },
            flight_size: self.snd.next_unsent_seq().offset_from(self.snd.first_seq()),
            srtt_us: self.rtt.srtt as i32,
            bandwidth_pkts_per_sec: i64::from(self.peer_bandwidth),
            max_bw_bytes_per_sec: self.cc.max_bw_bytes_per_sec(),
            mss: self.mss as i32,
            snd_buf_capacity_pkts: self.snd.capacity() as i32,
            snd_buf_pkts: snd_buf.pkts,
            snd_buf_bytes: snd_buf.bytes,
            snd_buf_ms: snd_buf.ms,
            rcv_buf_avail_pkts: self.rcv.free_packets() as i32,
            rcv_buf_pkts: rcv_buf.pkts,
            rcv_buf_bytes: rcv_buf.bytes,
            rcv_buf_ms: rcv_buf.ms,
            snd_tsbpd_delay_ms: self.snd_latency.map_or(0, |d| d.as_millis() as i32),
            rcv_tsbpd_delay_ms: self
                .tsbpd
                .as_ref()
                .map_or(0, |t| t.latency().as_millis() as i32),
            reorder_tolerance: i32::try_from(self.reorder.tolerance).unwrap_or(i32::MAX),
        };
        self.stats.snapshot(now, clear, instant)
    }

    /// Whether everything sent was acknowledged (for a graceful close).
    /// Messages dropped unsent at the end of the stream are never
    /// acknowledged (the receiver never learns of them): they do not count.
    pub(crate) fn all_acked(&self) -> bool {
        self.snd.only_dropped()
    }

    /// The peer's TSBPD delay (`None` without TSBPD).
    pub(crate) fn snd_latency(&self) -> Option<Duration> {
        self.snd_latency
    }

    /// When the peer delivers the last message queued, with TSBPD, if it
    /// has it by then: its origin plus the peer's TSBPD delay plus the
    /// round-trip time (for the one-way delay). `None` without TSBPD
    /// (delivered when acknowledged).
    pub(crate) fn delivered_by(&self) -> Option<Instant> {
        let rtt = Duration::from_micros(self.rtt.srtt.max(0) as u64);
        Some(self.last_origin? + self.snd_latency? + rtt)
    }
}

/// libsrt's reorder tolerance ("belated loss report", `SRTO_LOSSMAXTTL`).
#[derive(Debug)]
struct Reorder {
    max: u32,
    tolerance: u32,
    /// Gaps waiting before their NAK, with the packets left to wait.
    fresh: VecDeque<(SeqRange, i32)>,
    consec_ordered: u32,
    consec_early: u32,
}

/// At most this many gaps wait at once; more are reported at once.
const MAX_FRESH_LOSSES: usize = 256;

impl Reorder {
    fn new(max: u32) -> Self {
        Reorder {
            max,
            // libsrt starts at the maximum (core.cpp:515).
            tolerance: max,
            fresh: VecDeque::with_capacity(if max > 0 { MAX_FRESH_LOSSES } else { 0 }),
            consec_ordered: 0,
            consec_early: 0,
        }
    }

    /// SRTO_LOSSMAXTTL changed on a connected socket: the tolerance starts
    /// again at the new maximum (libsrt `setOpt`).
    fn set_max(&mut self, max: u32) {
        self.max = max;
        self.tolerance = max;
        if max > 0 {
            self.fresh.reserve(MAX_FRESH_LOSSES);
        }
    }

    /// Holds a new gap for later reporting; false if it must be NAKed now.
    fn hold(&mut self, range: SeqRange) -> bool {
        if self.tolerance == 0 || self.fresh.len() >= MAX_FRESH_LOSSES {
            return false;
        }
        self.fresh.push_back((range, self.tolerance as i32));
        true
    }

    /// The next waiting gap whose time is up.
    fn expired(&mut self) -> Option<SeqRange> {
        match self.fresh.front() {
            Some((_, ttl)) if *ttl <= 0 => self.fresh.pop_front().map(|(r, _)| r),
            _ => None,
        }
    }

    /// One more packet arrived: every waiting gap waits one packet less.
    fn tick(&mut self) {
        for (_, ttl) in &mut self.fresh {
            *ttl -= 1;
        }
    }

    /// Removes `seq` from the waiting gaps; returns the wait it had left.
    fn forget(&mut self, seq: SeqNumber) -> Option<i32> {
        let i = self.fresh.iter().position(|(r, _)| r.contains(seq))?;
        let (r, ttl) = self.fresh[i];
        if r.first == r.last {
            self.fresh.remove(i);
        } else if seq == r.first {
            self.fresh[i].0.first = seq + 1;
        } else if seq == r.last {
            self.fresh[i].0.last = seq - 1;
        } else if self.fresh.len() < MAX_FRESH_LOSSES {
            self.fresh[i].0.last = seq - 1;
            self.fresh.insert(
                i + 1,
                (
                    SeqRange {
                        first: seq + 1,
                        last: r.last,
                    },
                    ttl,
                ),
            );
        }
        Some(ttl)
    }

    /// An original packet arrived `distance` behind the newest: widen the
    /// tolerance (libsrt `unlose`); true if the tolerance was decreased.
    fn on_reordered(&mut self, seq: SeqNumber, distance: u32) -> bool {
        let mut increased = false;
        if distance > self.tolerance && self.max > 0 {
            self.tolerance = distance.min(self.max);
            increased = true;
        }
        if self.tolerance == 0 {
            return false;
        }
        let had_ttl = self.forget(seq).unwrap_or(0);
        self.consec_ordered = 0;
        if increased {
            self.consec_early = 0;
        } else if had_ttl > 2 {
            self.consec_early += 1;
            if self.consec_early >= 10 {
                self.consec_early = 0;
                self.tolerance -= 1;
                return true;
            }
        }
        false
    }

    /// An in-order packet: after 50 in a row the tolerance shrinks by one.
    fn on_in_order(&mut self) -> bool {
        if self.max == 0 {
            return false;
        }
        self.consec_ordered += 1;
        if self.consec_ordered >= 50 {
            self.consec_ordered = 0;
            if self.tolerance > 0 {
                self.tolerance -= 1;
                return true;
            }
        }
        false
    }
}

/// The age of the oldest unacknowledged message beyond which the sender
/// drops it: the peer's latency plus SRTO_SNDDROPDELAY (at least 1 s), plus
/// two ACK intervals; `None` when the sender does not drop. libsrt drops on
/// the sender only if the peer drops too late too (core.cpp `sndDropTooLate`,
/// which reads SRTO_SNDDROPDELAY each time).
fn snd_drop_threshold(
    tlpktdrop: bool,
    snd_latency: Option<Duration>,
    snd_drop_delay: Option<Duration>,
) -> Option<Duration> {
    match (tlpktdrop, snd_latency) {
        (true, Some(latency)) => {
            snd_drop_delay.map(|extra| (latency + extra).max(SND_DROP_MIN) + 2 * ACK_INTERVAL)
        }
        _ => None,
    }
}

/// Counts packets the receiver gave up (bytes estimated from the payload size, as libsrt).
fn count_rcv_drop(stats: &mut Stats, payload_size: usize, packets: u32) {
    if packets > 0 {
        stats.on_rcv_drop(packets, u64::from(packets) * payload_size as u64);
    }
}

/// The ACK info with the full form's capacity, for one match arm.
fn with_capacity(info: AckInfo) -> AckInfo {
    match info {
        AckInfo::Small {
            rtt,
            rtt_var,
            buffer_available,
        } => AckInfo::Full {
            rtt,
            rtt_var,
            buffer_available,
            packet_recv_rate: 0,
            link_capacity: 0,
            recv_rate: 0,
        },
        other => other,
    }
}

/// The congestion controller of the transmission type.
#[derive(Debug)]
enum Cc {
    Live(LiveCc),
    File(FileCc),
}

impl Cc {
    fn wants_input_rate(&self) -> bool {
        matches!(self, Cc::Live(cc) if cc.wants_input_rate())
    }

    fn update_input_rate(&mut self, bytes_per_sec: u64) {
        if let Cc::Live(cc) = self {
            cc.update_input_rate(bytes_per_sec);
        }
    }

    fn on_packet_sent(&mut self, payload_len: usize) {
        if let Cc::Live(cc) = self {
            cc.on_packet_sent(payload_len);
        }
    }

    fn send_period(&self) -> Duration {
        match self {
            Cc::Live(cc) => cc.send_period(),
            Cc::File(cc) => cc.send_period(),
        }
    }

    fn max_bw_bytes_per_sec(&self) -> i64 {
        match self {
            Cc::Live(cc) => cc.max_bw_bytes_per_sec(),
            Cc::File(cc) => cc.config().max_bw,
        }
    }
}

const HEADER_LEN_USIZE: usize = crate::packet::HEADER_LEN;
