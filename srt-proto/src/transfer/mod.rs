//! Data transfer of a connected socket: a sender (`sender.rs`: send
//! buffer, pacing and congestion control, retransmission from the loss
//! lists, the peer's ACKs and NAKs), a receiver (`receiver.rs`: receive
//! buffer, TSBPD delivery, loss detection, ACK and NAK generation), the
//! keys (`keys.rs`: crypto contexts, key refresh), and what they share
//! (the control packets queued, the RTT, the statistics), with one timer
//! table (`timer.rs`) for all their timers.
//!
//! # The packet path
//!
//! Every data packet crosses one seam between the transfer and the wire,
//! where a packet filter (FEC) and socket groups hook in:
//!
//! - outgoing: the transfer's `poll_transmit` takes data packets from the
//!   sender's `poll_data` only, encoded and encrypted: the bytes in `buf`
//!   are the datagram as it goes on the wire (libsrt's filter, too, works
//!   on encrypted payloads);
//! - incoming: the transfer's `on_data` takes every data packet as it came
//!   off the wire, before decryption, and hands the plain packet to the
//!   receiver's `on_packet` (or drops it as undecryptable).
//!
//! The packet filter (`filter.rs`, libsrt's builtin FEC) sits at this seam:
//! the sender feeds it every new data packet after encryption and sends
//! the FEC packets it makes ahead of the next new data packet (paced as data,
//! never stored or retransmitted); `on_data` gives it every data packet in
//! the receive window before decryption, and what it rebuilds is decrypted
//! and stored as a retransmitted packet.
//!
//! Nothing here allocates per packet: the buffers are preallocated and the
//! control packets it queues are small values.

use crate::buffer::loss::LossList;
use crate::buffer::recv::{RecvBuffer, RecvInfo};
use crate::buffer::send::SendBuffer;
use crate::cc::file::{FileCc, FileCcConfig};
use crate::cc::live::{InputRateEstimator, LiveCc, LiveCcConfig};
use crate::crypto::CryptoContext;
use crate::estimate::ArrivalWindow;
use crate::handshake::Negotiated;
use crate::options::SockOpt;
use crate::packet::{
    Ack, ControlBody, ControlPacket, DataKeyFlags, DataPacket, EncodeError,
    LossList as WireLossList, SocketId,
};
use crate::rng::SecretRng;
use crate::seq::{MsgNumber, SeqNumber, SeqRange, Timestamp};
use crate::stats::{Instantaneous, Stats, TraceBStats};
use crate::tsbpd::Tsbpd;
use keys::Keys;
use receiver::{Receiver, ACK_HISTORY};
use reorder::Reorder;
use sender::{snd_drop_threshold, Cc, Sender};
use std::collections::VecDeque;
use std::time::{Duration, Instant};
use timer::{Timer, TimerTable};

mod filter;
mod group;
mod keys;
mod receiver;
mod reorder;
mod sender;
#[cfg(test)]
mod tests;
mod timer;

/// The full ACK period (libsrt's `COMM_SYN_INTERVAL`).
pub(crate) const ACK_INTERVAL: Duration = Duration::from_millis(10);
/// A light ACK goes out after this many packets without an ACK.
pub(crate) const LIGHT_ACK_PACKETS: u32 = 64;
/// The periodic NAK period until the first RTT is known.
const FIRST_NAK_INTERVAL: Duration = Duration::from_millis(300);
/// The minimum sender too-late drop threshold (`SRT_TLPKTDROP_MINTHRESHOLD_MS`).
const SND_DROP_MIN: Duration = Duration::from_millis(1000);
/// How far pacing may fall behind before the schedule restarts from now.
const MAX_PACING_LAG: Duration = Duration::from_millis(2);
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
pub(super) enum Ctrl {
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
pub(super) struct Rtt {
    pub(super) srtt: i64,
    pub(super) rttvar: i64,
    pub(super) sampled: bool,
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

/// What the sender, the receiver and the keys share.
#[derive(Debug)]
pub(super) struct Shared {
    /// Control packets waiting to go out.
    pub(super) ctrl: VecDeque<Ctrl>,
    pub(super) rtt: Rtt,
    pub(super) stats: Stats,
    /// Steps taken on the peer's control packets and on retransmission:
    /// NAK ranges examined, loss-list operations, retransmission loop turns
    /// (what the per-packet bound is measured by in tests).
    pub(super) work: u64,
}

/// Where data packets go: the peer's socket and our clock's origin.
#[derive(Clone, Copy, Debug)]
pub(super) struct Wire {
    pub(super) peer_id: u32,
    /// This socket's start: our packet timestamps count from here.
    pub(super) start: Instant,
}

/// The data state of a connected socket.
#[derive(Debug)]
pub(crate) struct Transfer {
    wire: Wire,
    mss: u32,
    sender: Sender,
    receiver: Receiver,
    keys: Keys,
    shared: Shared,
    /// Every timer's deadline, armed from the state after each entry point.
    timers: TimerTable,
    /// The packet filter's receiving half, if a filter was agreed, and the
    /// highest data sequence number that came off the wire (libsrt's
    /// `m_iRcvCurrPhySeqNo`, from which losses are counted with a filter).
    fec_rx: Option<(crate::filter::FecReceiver, SeqNumber)>,
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
        // A packet filter takes its header's bytes off the payload too
        // (libsrt: SRTO_PAYLOADSIZE at most 1456 − 4 with FEC).
        let filter = s.negotiated.filter.as_ref().map(|f| f.fec);
        let filter_room = match filter {
            Some(_) => crate::options::LIVE_MAX_PAYLOAD_SIZE - crate::options::FEC_EXTRA_SIZE,
            None => u32::MAX,
        };
        let max_payload =
            (s.mss.saturating_sub(HEADERS).min(filter_room) as usize).saturating_sub(tag);
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
        // libsrt's sender drops too late if the peer announced TLPKTDROP
        // (`m_bPeerTLPktDrop`, whatever this side's SRTO_TLPKTDROP says),
        // with the message API (a live send is one message).
        let peer_tlpktdrop = s
            .negotiated
            .peer_flags
            .contains(crate::packet::SrtFlags::TLPKTDROP);
        let snd_drop_threshold = snd_drop_threshold(
            peer_tlpktdrop && (s.live || s.message_api),
            s.negotiated.snd_latency,
            c.snd_drop_delay,
        );
        let sender = Sender {
            snd: SendBuffer::new(c.snd_buf_packets, max_payload, s.snd_isn, MsgNumber::FIRST),
            snd_loss: LossList::for_window(c.snd_buf_packets),
            snd_timed_out: LossList::for_window(c.snd_buf_packets),
            cc,
            input_rate,
            next_send_at: s.now,
            peer_flow_window: s.peer_flow_window.max(2),
            snd_drop_threshold,
            peer_tlpktdrop,
            snd_latency: s.negotiated.snd_latency,
            peer_bandwidth: 0,
            want_writable: false,
            last_ack_rx: s.now,
            last_full_ack_seq: s.snd_isn,
            exp_count: 1,
            skipped_unsent: false,
            last_origin: None,
            live: s.live,
            message_api: s.message_api,
            max_payload,
            payload_size,
            filter: filter.and_then(|cfg| {
                // libsrt: the FEC payload is SRTO_PAYLOADSIZE plus the AEAD tag.
                let wire_payload = if s.live { payload_size } else { max_payload } + tag;
                filter::FilterTx::new(cfg, s.snd_isn, wire_payload)
            }),
        };
        let fec_rx = filter.and_then(|cfg| {
            let cap = (s.rcv_mss.max(s.mss).saturating_sub(HEADERS))
                .min(crate::options::LIVE_MAX_PAYLOAD_SIZE) as usize;
            crate::filter::FecReceiver::new(cfg, s.rcv_isn, cap)
                .ok()
                .map(|f| (f, s.rcv_isn - 1))
        });
        let receiver = Receiver {
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
            live: s.live,
            message_api: s.message_api,
            max_payload,
            payload_size,
            report_losses: fec_rx
                .as_ref()
                .is_none_or(|(f, _)| f.arq() == crate::filter::ArqLevel::Always),
            count_gaps: fec_rx.is_none(),
        };
        let mut t = Transfer {
            wire: Wire {
                peer_id: s.peer_id,
                start: s.start,
            },
            mss: s.mss,
            sender,
            receiver,
            keys: Keys::new(s.tx, s.rx, s.passphrase, rng),
            shared: Shared {
                ctrl: VecDeque::with_capacity(64),
                rtt: Rtt {
                    srtt: 100_000,
                    rttvar: 50_000,
                    sampled: false,
                },
                stats: Stats::new(s.now),
                work: 0,
            },
            timers: TimerTable::default(),
            fec_rx,
        };
        t.arm_timers();
        t
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
        self.sender.reconfigure(old, new, is_set);
        let loss_max_ttl_set =
            new.loss_max_ttl != old.loss_max_ttl || is_set(&[SockOpt::LossMaxTtl]);
        self.receiver.reconfigure(new, loss_max_ttl_set);
        self.arm_timers();
    }

    fn timestamp(&self, t: Instant) -> Timestamp {
        Timestamp::from_micros(t.saturating_duration_since(self.wire.start).as_micros() as u64)
    }

    // ----- application side -----

    /// Queues one message (one packet in live mode).
    pub(crate) fn send(
        &mut self,
        now: Instant,
        payload: &[u8],
        ctrl: &MsgCtrl,
    ) -> Result<Sent, SendError> {
        let r = self.sender.send(now, payload, ctrl, &mut self.shared.stats);
        self.arm(&Timer::SENDER);
        r
    }

    /// The next message due for delivery, if any.
    pub(crate) fn recv(&mut self, now: Instant, out: &mut [u8]) -> Option<RecvInfo> {
        let r = self.receiver.recv(now, out, &mut self.shared.stats);
        self.arm(&Timer::RECEIVER);
        r
    }

    /// Whether a message is ready now, and the readable event should fire.
    pub(crate) fn take_readable(&mut self, now: Instant) -> bool {
        let r = self.receiver.take_readable(now);
        if self.receiver.tsbpd.is_none() {
            // Looking for a whole message may discard a broken one.
            self.arm(&Timer::RECEIVER);
        } else if r {
            // With TSBPD the look changes nothing but the readable signal
            // (after every packet: no need to re-arm all the timers).
            self.timers
                .set_or_stop(Timer::Tsbpd, self.deadline(Timer::Tsbpd));
        }
        r
    }

    /// Whether [`recv`](Self::recv) would deliver now; if not, the next
    /// message raises the readable event again, as after a receive that
    /// found nothing. Also whether a timer moved (the caller's schedule
    /// needs a refresh only then).
    pub(crate) fn recv_ready(&mut self, now: Instant) -> (bool, bool) {
        if self.receiver.tsbpd.is_none() {
            // Looking for a whole message may discard a broken one.
            let r = self.receiver.recv_ready(now);
            self.arm(&Timer::RECEIVER);
            return (r, true);
        }
        // With TSBPD the look reads the buffer and changes nothing but the
        // readable signal, which only the delivery timer reads. Most calls
        // (one after every message a driver delivers, ready or not) leave
        // it as it was: no timer moves then.
        let signaled = self.receiver.readable_signaled;
        let r = self.receiver.recv_ready(now);
        let changed = signaled != self.receiver.readable_signaled;
        if changed {
            self.timers
                .set_or_stop(Timer::Tsbpd, self.deadline(Timer::Tsbpd));
        }
        #[cfg(debug_assertions)]
        assert!(self.timers_in_sync(), "recv_ready left a timer stale");
        (r, changed)
    }

    /// Whether the send buffer has room again after a refused send.
    pub(crate) fn take_writable(&mut self) -> bool {
        self.sender.take_writable()
    }

    // ----- network side -----

    /// A data packet from the peer, as it came off the wire (the incoming
    /// side of the packet path's seam, see the module docs): given to the
    /// packet filter if there is one, decrypted, then handed to the
    /// receiver, with the packets the filter rebuilt.
    pub(crate) fn on_data(&mut self, now: Instant, packet: &DataPacket<'_>) {
        match &mut self.fec_rx {
            None => deliver(
                &self.keys,
                &mut self.receiver,
                &mut self.shared,
                now,
                packet,
                false,
            ),
            Some((fec, phys_seq)) => {
                // Only packets in the receive window reach the filter: a
                // hostile sequence number far ahead would move its window
                // past everything real (and its losses with it).
                let off = i64::from(packet.seq.offset_from(self.receiver.rcv.read_pos()));
                let window = i64::try_from(self.receiver.rcv.capacity()).unwrap_or(i64::MAX);
                let is_fec = packet.msg_number == MsgNumber::FILTER;
                // A FEC packet carries the sequence number of the last data
                // packet sent: one more than a matrix past the highest data
                // packet received is forged (or follows a loss FEC cannot
                // repair anyway) and would move the filter past what comes.
                let forged_fec = is_fec
                    && i64::from(packet.seq.offset_from(*phys_seq))
                        > i64::from(fec.config().matrix_size().max(fec.config().cols));
                if off >= window || forged_fec {
                    if is_fec {
                        let len = packet.payload.len();
                        self.receiver.on_filter_packet(now, len, &mut self.shared);
                    } else {
                        deliver(
                            &self.keys,
                            &mut self.receiver,
                            &mut self.shared,
                            now,
                            packet,
                            false,
                        );
                    }
                    self.arm(&Timer::RECEIVER);
                    return;
                }
                if !is_fec {
                    // Losses counted before the filter rebuilds any (libsrt).
                    let gap = packet.seq.offset_from(*phys_seq);
                    if gap > 0 {
                        let lost = (gap - 1) as u32;
                        if lost > 0 {
                            let bytes = u64::from(lost) * self.receiver.payload_size as u64;
                            self.shared.stats.on_loss_detected(lost, bytes);
                        }
                        *phys_seq = packet.seq;
                    }
                }
                let before = fec.stats();
                let verdict = fec.receive(packet);
                let after = fec.stats();
                let sh = &mut self.shared;
                sh.stats
                    .on_filter_supplied(after.filter_supply - before.filter_supply);
                sh.stats
                    .on_filter_loss(after.filter_loss - before.filter_loss);
                if verdict != crate::filter::RecvVerdict::Deliver {
                    self.receiver
                        .on_filter_packet(now, packet.payload.len(), sh);
                }
                // In sequence order, as libsrt sorts them.
                let mut pending = verdict == crate::filter::RecvVerdict::Deliver;
                let dest = packet.dest_socket;
                for r in fec.rebuilt() {
                    if pending && r.seq.offset_from(packet.seq) > 0 {
                        deliver(&self.keys, &mut self.receiver, sh, now, packet, false);
                        pending = false;
                    }
                    deliver(
                        &self.keys,
                        &mut self.receiver,
                        sh,
                        now,
                        &r.packet(dest),
                        true,
                    );
                }
                if pending {
                    deliver(&self.keys, &mut self.receiver, sh, now, packet, false);
                }
                // `arq:onreq`: what FEC gave up on is reported (once).
                for range in fec.irrecoverable() {
                    sh.ctrl.push_back(Ctrl::Nak(*range));
                }
            }
        }
        self.arm(&Timer::RECEIVER);
    }

    /// An ACK from the peer (we are the sender): see
    /// [`Sender::on_ack`](sender::Sender::on_ack).
    pub(crate) fn on_ack(&mut self, now: Instant, ack: &Ack) {
        self.sender.on_ack(now, ack, &mut self.shared);
        self.arm(&Timer::SENDER);
    }

    /// A NAK from the peer: see [`Sender::on_nak`](sender::Sender::on_nak).
    pub(crate) fn on_nak(&mut self, list: &WireLossList<'_>) {
        self.sender.on_nak(list, &mut self.shared);
        self.arm(&Timer::SENDER);
    }

    /// Steps taken on control packets and retransmission so far (see
    /// [`Shared::work`]): tests compare them to show the work per packet is
    /// bounded.
    #[cfg(test)]
    pub(crate) fn work(&self) -> u64 {
        self.shared.work
    }

    /// The control packets rejected so far.
    pub(crate) fn rejected(&self) -> crate::stats::RejectedControl {
        self.shared.stats.rejected()
    }

    /// A control packet for this connection that did not decode: counted
    /// by kind (only in-band key material has a counter, see
    /// [`RejectedControl::km`](crate::stats::RejectedControl::km)).
    pub(crate) fn on_undecodable_control(&mut self, control_type: u16, subtype: u16) {
        if control_type == crate::packet::control_type::EXT && matches!(subtype, 3 | 4) {
            self.shared.stats.rejected_mut().km += 1;
        }
    }

    /// An in-band KMREQ (key refresh): see
    /// [`Keys::on_km_request`](keys::Keys::on_km_request).
    pub(crate) fn on_km_request(&mut self, km: &crate::packet::KeyMaterial) {
        self.keys.on_km_request(km, &mut self.shared);
        self.arm_timers();
    }

    /// An in-band KMRSP: the peer has our announced key.
    pub(crate) fn on_km_response(&mut self, rsp: &crate::packet::KmResponse) {
        self.keys.on_km_response(rsp);
        self.arm_timers();
    }

    /// An ACKACK from the peer: see
    /// [`Receiver::on_ackack`](receiver::Receiver::on_ackack).
    pub(crate) fn on_ackack(&mut self, now: Instant, ack_number: u32, ts: Timestamp) {
        self.receiver
            .on_ackack(now, ack_number, ts, &mut self.shared);
        self.arm(&Timer::RECEIVER_RTT);
    }

    /// A KEEPALIVE from the peer: its timestamp feeds the TSBPD clock.
    pub(crate) fn on_keepalive(&mut self, now: Instant, ts: Timestamp) {
        self.receiver.on_keepalive(now, ts);
        self.arm_timers();
    }

    /// A DROPREQ from the peer: see
    /// [`Receiver::on_dropreq`](receiver::Receiver::on_dropreq).
    pub(crate) fn on_dropreq(&mut self, first: SeqNumber, last: SeqNumber) {
        self.receiver
            .on_dropreq(first, last, &mut self.shared.stats);
        self.arm_timers();
    }

    // ----- timers -----

    /// Acts on the expired timers, in [`Timer::ALL`]'s order. Each timer
    /// is re-armed from the state just before it is looked at, so that
    /// what an earlier one did counts. The drops that no timer wakes for
    /// (TTL, receiver too late) and the ACK and NAK periods are also
    /// brought up to date on every call. The sender's too-late drop is not
    /// here: as in libsrt, only an application send does it (see
    /// [`Sender::drop_too_late`](sender::Sender::drop_too_late)).
    pub(crate) fn handle_timeout(&mut self, now: Instant) {
        if self.expired(Timer::KmRefresh, now) {
            self.keys.repeat_kmreq(now, &mut self.shared.ctrl);
        }
        self.sender.drop_ttl_expired(now, &mut self.shared);
        // Retransmission timeout: nothing acknowledged for too long (a lost
        // NAK or retransmission; file mode has no periodic NAK). A live
        // sender relies on NAK reports. In file mode, as libsrt's LATEREXMIT
        // (when no loss is waiting), everything unacknowledged is resent.
        // Unlike libsrt, these packets are not put in the loss list FileCC
        // reads: at 2% loss the timer fired several times a second, each
        // time with hundreds of packets the receiver mostly had, the next
        // NAK then counted them all as lost and FileCC slowed down for good
        // (a 200 MiB upload to srt-file-transmit fell to under 20 Mbit/s).
        if self.expired(Timer::Rexmit, now) {
            self.sender.on_rexmit_timeout(now, &self.shared.rtt);
        }
        self.receiver.drop_too_late(now, &mut self.shared.stats);
        self.receiver.on_periods(now, &mut self.shared);
        self.arm_timers();
    }

    /// Re-arms `timer` from the current state; whether it has expired at `now`.
    fn expired(&mut self, timer: Timer, now: Instant) -> bool {
        let at = self.deadline(timer);
        self.timers.set_or_stop(timer, at);
        at.is_some_and(|t| t <= now)
    }

    /// When `timer` should expire given the current state; `None` when it
    /// has nothing to do. The one place where each timer is armed.
    fn deadline(&self, timer: Timer) -> Option<Instant> {
        match timer {
            Timer::KmRefresh => self.keys.kmreq_deadline(&self.shared.rtt),
            Timer::Rexmit => self.sender.rexmit_deadline(&self.shared.rtt),
            Timer::Tsbpd => self.receiver.tsbpd_deadline(),
            Timer::Ack => self.receiver.ack_deadline(),
            Timer::Nak => self.receiver.nak_deadline(),
            Timer::Pacing => self.sender.pacing_deadline(&self.keys),
            Timer::Flush => (!self.shared.ctrl.is_empty()).then_some(self.wire.start),
        }
    }

    /// Arms every timer from the current state (after an entry point that
    /// may touch any part of it).
    fn arm_timers(&mut self) {
        self.arm(&Timer::ALL);
    }

    /// Arms `timers` from the current state: after an entry point that
    /// touched only what their deadlines read (the others keep deadlines
    /// that are still right: no per-packet work on the timers it cannot
    /// move). Debug builds check that every timer is then as the state
    /// arms it.
    fn arm(&mut self, timers: &[Timer]) {
        for &timer in timers {
            self.timers.set_or_stop(timer, self.deadline(timer));
        }
        #[cfg(debug_assertions)]
        assert!(
            self.timers_in_sync(),
            "timers out of step after re-arming {timers:?}"
        );
    }

    /// Every armed timer's deadline (the earliest is when
    /// `handle_timeout` should next be called).
    pub(crate) fn deadlines(&self) -> impl Iterator<Item = Instant> + '_ {
        self.timers.deadlines()
    }

    /// The earliest deadline the current state arms (tests compare it
    /// with [`Transfer::deadlines`]).
    #[cfg(test)]
    pub(crate) fn earliest_deadline(&self) -> Option<Instant> {
        Timer::ALL.iter().filter_map(|&t| self.deadline(t)).min()
    }

    /// Whether every timer is armed as the current state says (tests and
    /// debug builds).
    #[cfg(any(test, debug_assertions))]
    pub(crate) fn timers_in_sync(&self) -> bool {
        Timer::ALL
            .iter()
            .all(|&t| self.timers.get(t) == self.deadline(t))
    }

    /// Whether a control or data packet can be sent at `now`.
    pub(crate) fn wants_transmit(&self, now: Instant) -> bool {
        self.timers.get(Timer::Flush).is_some() || self.timers.is_expired(Timer::Pacing, now)
    }

    /// When a data packet waiting for its pacing time may be sent: from
    /// then on [`Transfer::wants_transmit`] holds without any other change.
    pub(crate) fn send_due_at(&self) -> Option<Instant> {
        self.timers.get(Timer::Pacing)
    }

    /// Writes the next control or data packet into `buf`: control packets
    /// first, then a data packet from the sender (the outgoing side of the
    /// packet path's seam, see the module docs).
    pub(crate) fn poll_transmit(
        &mut self,
        now: Instant,
        buf: &mut [u8],
    ) -> Result<Option<usize>, EncodeError> {
        match self.shared.ctrl.pop_front() {
            Some(ctrl) => {
                // A NAK's sending moves the receiver's NAK period; the
                // others change nothing but the queue.
                let timers: &[Timer] = if matches!(ctrl, Ctrl::Nak(_) | Ctrl::PeriodicNak) {
                    &Timer::RECEIVER
                } else {
                    &[Timer::Flush]
                };
                let r = self.encode_ctrl(now, ctrl, buf).map(Some);
                self.arm(timers);
                r
            }
            None => {
                let r =
                    self.sender
                        .poll_data(now, buf, &mut self.shared, &mut self.keys, self.wire);
                self.arm(&Timer::SENDER);
                r
            }
        }
    }

    fn encode_ctrl(
        &mut self,
        now: Instant,
        ctrl: Ctrl,
        buf: &mut [u8],
    ) -> Result<usize, EncodeError> {
        // Zeroed only for a NAK (not for every ACK and ACKACK).
        let mut scratch: [u8; 1456];
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
                self.receiver.on_nak_sent(now, &mut self.shared);
                scratch = [0u8; 1456];
                ControlBody::LossReport(WireLossList::encode_ranges(&[range], &mut scratch)?)
            }
            Ctrl::PeriodicNak => {
                self.receiver.on_nak_sent(now, &mut self.shared);
                scratch = [0u8; 1456];
                let room = (self.mss as usize).saturating_sub(HEADERS as usize) / 8;
                let mut ranges = [SeqRange::single(SeqNumber::default()); 182];
                let mut n = 0;
                for r in self.receiver.rcv.loss_ranges().take(room.min(ranges.len())) {
                    ranges[n] = r;
                    n += 1;
                }
                ControlBody::LossReport(WireLossList::encode_ranges(&ranges[..n], &mut scratch)?)
            }
        };
        ControlPacket {
            timestamp: self.timestamp(now),
            dest_socket: SocketId(self.wire.peer_id),
            body,
        }
        .encode(buf)
    }

    /// The statistics, as `srt_bistats` reports them: the buffer fields are
    /// the current values with `instantaneous`, else their moving averages
    /// (`srt_bstats`).
    pub(crate) fn stats(&mut self, now: Instant, clear: bool, instantaneous: bool) -> TraceBStats {
        let (snd_buf, rcv_buf) = if instantaneous {
            (
                self.sender.snd.size(),
                self.receiver.rcv.size(self.receiver.tsbpd.as_ref()),
            )
        } else {
            (self.sender.snd.avg_size(now), self.receiver.rcv.avg_size())
        };
        let instant = Instantaneous {
            send_period: self.sender.cc.send_period(),
            flow_window: self.sender.peer_flow_window as i32,
            congestion_window: match &self.sender.cc {
                Cc::Live(_) => self.sender.peer_flow_window as i32,
                Cc::File(cc) => cc.congestion_window() as i32,
            },
            flight_size: self
                .sender
                .snd
                .next_unsent_seq()
                .offset_from(self.sender.snd.first_seq()),
            srtt_us: self.shared.rtt.srtt as i32,
            bandwidth_pkts_per_sec: i64::from(self.sender.peer_bandwidth),
            max_bw_bytes_per_sec: self.sender.cc.max_bw_bytes_per_sec(),
            mss: self.mss as i32,
            snd_buf_capacity_pkts: self.sender.snd.capacity() as i32,
            snd_buf_pkts: snd_buf.pkts,
            snd_buf_bytes: snd_buf.bytes,
            snd_buf_ms: snd_buf.ms,
            rcv_buf_avail_pkts: self.receiver.rcv.free_packets() as i32,
            rcv_buf_pkts: rcv_buf.pkts,
            rcv_buf_bytes: rcv_buf.bytes,
            rcv_buf_ms: rcv_buf.ms,
            snd_tsbpd_delay_ms: self.sender.snd_latency.map_or(0, |d| d.as_millis() as i32),
            rcv_tsbpd_delay_ms: self
                .receiver
                .tsbpd
                .as_ref()
                .map_or(0, |t| t.latency().as_millis() as i32),
            reorder_tolerance: i32::try_from(self.receiver.reorder.tolerance).unwrap_or(i32::MAX),
        };
        self.shared.stats.snapshot(now, clear, instant)
    }

    /// The cipher of the sending key, if this side encrypts.
    pub(crate) fn cipher(&self) -> Option<crate::packet::Cipher> {
        self.keys.tx.as_ref().map(CryptoContext::cipher)
    }

    /// Whether everything sent was acknowledged (for a graceful close).
    /// Messages dropped unsent at the end of the stream are never
    /// acknowledged (the receiver never learns of them): they do not count.
    pub(crate) fn all_acked(&self) -> bool {
        self.sender.snd.only_dropped()
    }

    /// The peer's TSBPD delay (`None` without TSBPD).
    pub(crate) fn snd_latency(&self) -> Option<Duration> {
        self.sender.snd_latency
    }

    /// When the peer delivers the last message queued, with TSBPD, if it
    /// has it by then: its origin plus the peer's TSBPD delay plus the
    /// round-trip time (for the one-way delay). `None` without TSBPD
    /// (delivered when acknowledged).
    pub(crate) fn delivered_by(&self) -> Option<Instant> {
        let rtt = Duration::from_micros(self.shared.rtt.srtt.max(0) as u64);
        Some(self.sender.last_origin? + self.sender.snd_latency? + rtt)
    }
}

const HEADER_LEN_USIZE: usize = crate::packet::HEADER_LEN;

/// Decrypts a data packet if it is encrypted and hands it to the receiver
/// (`rebuilt`: made by the packet filter, not received from the wire); one
/// that cannot be decrypted is dropped and counted.
fn deliver(
    keys: &Keys,
    receiver: &mut Receiver,
    sh: &mut Shared,
    now: Instant,
    packet: &DataPacket<'_>,
    rebuilt: bool,
) {
    // Zeroed only for a packet to decrypt (not per clear packet).
    let mut plain: [u8; 1500];
    let decrypted;
    let packet = match (keys.rx.is_some(), packet.key) {
        (true, DataKeyFlags::Even | DataKeyFlags::Odd) => {
            plain = [0u8; 1500];
            match keys.decrypt(packet, &mut plain) {
                Some(len) => {
                    decrypted = DataPacket {
                        key: DataKeyFlags::Clear,
                        payload: &plain[..len],
                        ..*packet
                    };
                    &decrypted
                }
                // Wrong key, or a GCM packet that fails authentication:
                // dropped and counted, never delivered.
                None => {
                    receiver.on_undecryptable(now, packet, sh);
                    return;
                }
            }
        }
        // Encrypted but we have no key; or cleartext once keys are
        // agreed (libsrt drops both, core.cpp:10733-10795).
        (false, DataKeyFlags::Even | DataKeyFlags::Odd) | (true, DataKeyFlags::Clear) => {
            receiver.on_undecryptable(now, packet, sh);
            return;
        }
        (false, DataKeyFlags::Clear) => packet,
    };
    if rebuilt {
        receiver.on_rebuilt(now, packet, sh);
    } else {
        receiver.on_packet(now, packet, sh);
    }
}
