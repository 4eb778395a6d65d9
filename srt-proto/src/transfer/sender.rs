//! The sending half of a transfer: the send buffer, pacing and congestion
//! control, the loss lists retransmission works from, and what the peer's
//! ACKs and NAKs do to them.

use super::filter::{key_flags, FilterTx};
use super::keys::Keys;
use super::{
    Ctrl, MsgCtrl, Rtt, SendError, Sent, Shared, TransferConfig, Wire, ACK_INTERVAL,
    MAX_PACING_LAG, SND_DROP_MIN,
};
use crate::buffer::loss::LossList;
use crate::buffer::send::{SendBuffer, SendBufferError};
use crate::cc::file::{AckRates, FileCc};
use crate::cc::live::{InputRateEstimator, LiveCc};
use crate::options::SockOpt;
use crate::packet::{
    Ack, AckInfo, DataKeyFlags, DataPacket, EncodeError, LossList as WireLossList, SocketId,
};
use crate::seq::{MsgNumber, SeqNumber, SeqRange, Timestamp};
use crate::stats::Stats;
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// The sending half of a transfer.
#[derive(Debug)]
pub(super) struct Sender {
    pub(super) snd: SendBuffer,
    /// Losses the peer reported (NAK): what FileCC counts as loss.
    pub(super) snd_loss: LossList,
    /// Packets queued again by the retransmission timeout (file mode):
    /// resent after `snd_loss`, but not loss reports.
    pub(super) snd_timed_out: LossList,
    pub(super) cc: Cc,
    pub(super) input_rate: InputRateEstimator,
    pub(super) next_send_at: Instant,
    pub(super) peer_flow_window: u32,
    /// How old the oldest unacknowledged message may get before the next
    /// send drops it (see [`snd_drop_threshold`]); `None`: never dropped.
    pub(super) snd_drop_threshold: Option<Duration>,
    /// The peer announced too-late packet drop (`SRT_OPT_TLPKTDROP` in its
    /// handshake: libsrt's `m_bPeerTLPktDrop`).
    pub(super) peer_tlpktdrop: bool,
    pub(super) snd_latency: Option<Duration>,
    pub(super) peer_bandwidth: u32,
    pub(super) want_writable: bool,
    /// The last time an ACK came (the sender's retransmission timer).
    pub(super) last_ack_rx: Instant,
    /// The highest sequence number a full ACK acknowledged (libsrt's
    /// `m_iSndLastFullAck`).
    pub(super) last_full_ack_seq: SeqNumber,
    /// Consecutive retransmission timeouts without an ACK.
    pub(super) exp_count: u32,
    /// Sequence numbers of messages that expired unsent were skipped and
    /// no packet was sent since (see [`Sender::may_send_new`]).
    pub(super) skipped_unsent: bool,
    /// The origin time of the last message queued.
    pub(super) last_origin: Option<Instant>,
    pub(super) live: bool,
    pub(super) message_api: bool,
    pub(super) max_payload: usize,
    pub(super) payload_size: usize,
    /// The packet filter's sending half, if a filter was agreed.
    pub(super) filter: Option<FilterTx>,
}

impl Sender {
    /// Applies SRTO_MAXBW, SRTO_INPUTBW, SRTO_MININPUTBW, SRTO_OHEADBW and
    /// SRTO_SNDDROPDELAY changed on a connected socket (see
    /// [`Transfer::reconfigure`](super::Transfer::reconfigure)).
    pub(super) fn reconfigure(
        &mut self,
        old: &TransferConfig,
        new: &TransferConfig,
        is_set: impl Fn(&[SockOpt]) -> bool,
    ) {
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
        self.snd_drop_threshold = snd_drop_threshold(
            self.peer_tlpktdrop && (self.live || self.message_api),
            self.snd_latency,
            new.snd_drop_delay,
        );
    }

    /// The next data packet to send, paced: a retransmission first, else a
    /// new packet. Every data packet this side sends is written here.
    pub(super) fn poll_data(
        &mut self,
        now: Instant,
        buf: &mut [u8],
        sh: &mut Shared,
        keys: &mut Keys,
        wire: Wire,
    ) -> Result<Option<usize>, EncodeError> {
        if now < self.next_send_at {
            return Ok(None);
        }
        let rexmit = match self.next_rexmit(now, buf, sh, keys, wire)? {
            Some(n) => Some(n),
            // A FEC packet due goes ahead of the next new packet (libsrt packData).
            None => self.next_filter(buf, sh, keys, wire)?,
        };
        let (n, probe) = match rexmit {
            Some(n) => (n, false),
            None => match self.next_new(now, buf, sh, keys, wire)? {
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
            .max(now - MAX_PACING_LAG.min(now - wire.start));
        self.next_send_at = base + period;
        Ok(Some(n))
    }

    /// The sender's too-late drop, as libsrt 1.5.5's `CUDT::sndDropTooLate`:
    /// done only when the application sends a message (before it is
    /// queued), never by a timer, so a sender whose application stopped
    /// sending keeps (and retransmits) what it holds. When the oldest
    /// message held is older than the threshold (in whole milliseconds,
    /// as libsrt compares), every message at the head older than `now −
    /// threshold` goes, sent or not: counted in SndDrop, the ACK point moves
    /// past them (numbers never sent are skipped: the peer sees the gap and
    /// its NAK gets a DROPREQ), the loss lists forget them, and the flow
    /// window grows by the packets dropped (libsrt's `m_iFlowWindowSize`,
    /// until the next ACK). No DROPREQ is sent, as in libsrt. True if
    /// something was dropped.
    pub(super) fn drop_too_late(&mut self, now: Instant, stats: &mut Stats) -> bool {
        let (Some(threshold), Some(oldest)) = (self.snd_drop_threshold, self.snd.oldest_origin())
        else {
            return false;
        };
        // libsrt: `buffdelay_ms <= threshold_ms` keeps everything.
        if now.saturating_duration_since(oldest).as_millis() <= threshold.as_millis() {
            return false;
        }
        let Some(too_late) = now.checked_sub(threshold) else {
            return false;
        };
        let Some(dropped) = self.snd.drop_too_late(now, too_late) else {
            return false;
        };
        stats.on_snd_drop(dropped.packets as u32, dropped.bytes as u64);
        let released = dropped.range.last.offset_from(dropped.range.first) as u32 + 1;
        self.peer_flow_window = self.peer_flow_window.saturating_add(released);
        self.snd_loss.remove_before(self.snd.first_seq());
        self.snd_timed_out.remove_before(self.snd.first_seq());
        true
    }

    /// Messages whose time to live passed before they were sent whole:
    /// dropped by the sender. The receiver is told (DROPREQ) of the part it
    /// was sent; the sequence numbers never sent are skipped, as libsrt
    /// 1.5.5's `CSndBuffer::readData` does, and the next packet goes out
    /// even if the window is full of them, so that the receiver sees the
    /// gap, reports it, and the NAK is answered with a DROPREQ (a receiver
    /// gives up nothing beyond what it received). Not counted in SndDrop:
    /// libsrt 1.5.5 counts there only the too-late drop
    /// (`CUDT::sndDropTooLate`), not messages whose TTL passed.
    pub(super) fn drop_ttl_expired(&mut self, now: Instant, sh: &mut Shared) {
        let unsent_from = self.snd.next_unsent_seq();
        while let Some(mut dropped) = self.snd.drop_expired(now, None) {
            self.skipped_unsent = true;
            if dropped.range.first.offset_from(unsent_from) < 0 {
                if dropped.range.last.offset_from(unsent_from) >= 0 {
                    dropped.range.last = unsent_from - 1;
                    dropped.last_msgno = dropped.first_msgno;
                }
                queue_dropreq(&mut sh.ctrl, &dropped);
            }
        }
    }

    /// The retransmission timeout (the [`Rexmit`](super::timer::Timer::Rexmit)
    /// timer): everything unacknowledged is queued again (file mode).
    pub(super) fn on_rexmit_timeout(&mut self, now: Instant, rtt: &Rtt) {
        let first = self.snd.first_seq();
        let last = self.snd.next_unsent_seq() - 1;
        if let Some(range) = SeqRange::new(first, last) {
            self.snd_timed_out.insert(range);
        }
        self.exp_count += 1;
        self.last_ack_rx = now;
        match &mut self.cc {
            Cc::Live(cc) => cc.on_rexmit_timeout(),
            Cc::File(cc) => cc.on_rexmit_timeout(rtt.srtt),
        }
    }

    /// When the retransmission timeout is due: file mode, something sent
    /// and unacknowledged, nothing waiting for retransmission.
    pub(super) fn rexmit_deadline(&self, rtt: &Rtt) -> Option<Instant> {
        (!self.live && self.snd.next_unsent_seq() != self.snd.first_seq() && !self.rexmit_pending())
            .then(|| self.exp_deadline(rtt))
    }

    /// When the next data packet may go out, if one waits.
    pub(super) fn pacing_deadline(&self, keys: &Keys) -> Option<Instant> {
        self.data_waiting(keys).then_some(self.next_send_at)
    }

    /// Queues one message (one packet in live mode).
    pub(super) fn send(
        &mut self,
        now: Instant,
        payload: &[u8],
        ctrl: &MsgCtrl,
        stats: &mut Stats,
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
        // libsrt's sendmsg2 drops what is too late before it looks for room.
        let _ = self.drop_too_late(now, stats);
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
                    stats.on_sending_started(now);
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

    /// Whether the send buffer has room again after a refused send.
    pub(super) fn take_writable(&mut self) -> bool {
        if self.want_writable && self.snd.free_packets() > 0 {
            self.want_writable = false;
            return true;
        }
        false
    }

    /// An ACK from the peer (we are the sender).
    ///
    /// An ACK beyond the next packet to send (libsrt `processCtrlAck`
    /// breaks the connection on it), or more than a send buffer behind the
    /// first unacknowledged packet (no reordering delays an ACK that much),
    /// changes nothing and is counted in
    /// [`RejectedControl::ack`](crate::stats::RejectedControl::ack). One a
    /// little behind (reordered) acknowledges nothing new, as in libsrt.
    pub(super) fn on_ack(&mut self, now: Instant, ack: &Ack, sh: &mut Shared) {
        let pos = i64::from(ack.ack_seq.offset_from(self.snd.first_seq()));
        let in_flight = i64::from(self.snd.next_unsent_seq().offset_from(self.snd.first_seq()));
        let behind = i64::try_from(self.snd.capacity()).unwrap_or(i64::MAX);
        if pos > in_flight || pos < -behind {
            sh.stats.rejected_mut().ack += 1;
            return;
        }
        self.last_ack_rx = now;
        self.exp_count = 1;
        match self.snd.ack(ack.ack_seq) {
            Ok(acked) => {
                self.snd.sample_avg(now);
                if acked.packets > 0 {
                    sh.stats.on_send_acked(now);
                }
            }
            // Checked above.
            Err(_) => {
                sh.stats.rejected_mut().ack += 1;
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
            sh.stats.on_ack_received();
            self.peer_flow_window = buffer_available.max(2);
            sh.ctrl.push_back(Ctrl::AckAck(ack.ack_number));
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
                if sh.rtt.sampled {
                    sh.rtt.rttvar = (3 * sh.rtt.rttvar + (i64::from(rtt) - sh.rtt.srtt).abs()) / 4;
                    sh.rtt.srtt = (7 * sh.rtt.srtt + i64::from(rtt)) / 8;
                } else {
                    sh.rtt.srtt = i64::from(rtt);
                    sh.rtt.rttvar = i64::from(rtt_var);
                }
            }
            match &mut self.cc {
                Cc::Live(cc) => cc.on_ack(),
                Cc::File(cc) => cc.on_ack(now, ack.ack_seq, rates, sh.rtt.srtt),
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
    pub(super) fn on_nak(&mut self, list: &WireLossList<'_>, sh: &mut Shared) {
        sh.stats.on_nak_received();
        let first = self.snd.first_seq();
        let end = self.snd.next_unsent_seq();
        // How far the next packet to send is from the first unacknowledged.
        let in_flight = i64::from(end.offset_from(first));
        for range in list.iter() {
            sh.work += 1;
            let Ok(r) = range else {
                // The decoder already refused such a list.
                sh.stats.rejected_mut().nak += 1;
                return;
            };
            // `last` counted forward from `first` (the decoder guarantees
            // 0 <= span <= 2^30), so nothing wraps.
            let span = i64::from(r.last.offset_from(r.first));
            let last = i64::from(r.first.offset_from(first)) + span;
            if span < 0 || last >= in_flight {
                sh.stats.rejected_mut().nak += 1;
                return;
            }
        }
        let mut first_lost = None;
        for mut r in list.iter().flatten() {
            sh.work += 1;
            // Losses before what we still hold were dropped: tell the peer.
            if r.first.offset_from(first) < 0 {
                let last_gone = if r.last.offset_from(first) < 0 {
                    r.last
                } else {
                    first - 1
                };
                sh.ctrl.push_back(Ctrl::DropReq {
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
            sh.stats.on_send_loss(added);
            first_lost.get_or_insert(r.first);
        }
        if let (Cc::File(cc), Some(first_lost)) = (&mut self.cc, first_lost) {
            cc.on_loss(first_lost, self.snd_loss.len_seqs(), end - 1, sh.rtt.srtt);
        }
    }

    /// When the sender's retransmission timer fires (libsrt: N·(SRTT +
    /// 4·RTTVar + 20 ms) + 10 ms after the last ACK).
    pub(super) fn exp_deadline(&self, rtt: &Rtt) -> Instant {
        let period = rtt.rto() + Duration::from_millis(20);
        self.last_ack_rx + period * self.exp_count + Duration::from_millis(10)
    }

    /// Whether a retransmission or a new packet the window admits waits.
    pub(super) fn data_waiting(&self, keys: &Keys) -> bool {
        self.rexmit_pending()
            || self.filter.as_ref().is_some_and(FilterTx::control_due)
            || (self.snd.unsent() > 0 && self.may_send_new(keys))
    }

    /// The FEC packet due, if any: sent as it is (its payload is the XOR of
    /// the encrypted payloads), never stored or retransmitted.
    fn next_filter(
        &mut self,
        buf: &mut [u8],
        sh: &mut Shared,
        keys: &Keys,
        wire: Wire,
    ) -> Result<Option<usize>, EncodeError> {
        let Some(filter) = &mut self.filter else {
            return Ok(None);
        };
        let key = key_flags(keys.active_key());
        let Some(n) = filter.pack(key, SocketId(wire.peer_id), buf)? else {
            return Ok(None);
        };
        let len = n - crate::packet::HEADER_LEN;
        sh.stats.on_data_sent(len, false, false);
        sh.stats.on_filter_extra_sent();
        self.cc.on_packet_sent(len);
        Ok(Some(n))
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
    fn may_send_new(&self, keys: &Keys) -> bool {
        (self.window_open() || self.skipped_unsent) && !keys.blocks_sending()
    }

    /// Whether a packet waits for retransmission (reported or timed out).
    pub(super) fn rexmit_pending(&self) -> bool {
        !self.snd_loss.is_empty() || !self.snd_timed_out.is_empty()
    }

    /// Removes from the loss lists what is not in the send buffer's sent
    /// part: before the first unacknowledged packet, or from the next
    /// packet to send on (a few steps per list).
    fn trim_rexmit(&mut self, work: &mut u64) {
        let first = self.snd.first_seq();
        let end = self.snd.next_unsent_seq();
        for list in [&mut self.snd_loss, &mut self.snd_timed_out] {
            if list.is_empty() {
                continue;
            }
            *work += 1;
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

    fn next_rexmit(
        &mut self,
        now: Instant,
        buf: &mut [u8],
        sh: &mut Shared,
        keys: &Keys,
        wire: Wire,
    ) -> Result<Option<usize>, EncodeError> {
        // libsrt's reduced retransmission (RETRANSMITALGO 1): a loss that
        // was resent less than SRTT − 4·RTTVar ago is not resent again.
        let holdoff = Duration::from_micros((sh.rtt.srtt - 4 * sh.rtt.rttvar).max(0) as u64);
        // The loss lists hold only what is in the send buffer, sent and not
        // acknowledged (NAKs are checked, ACKs and drops trim the lists);
        // trimmed here too, range by range, so that the loop below never
        // walks over sequence numbers of packets that are not there.
        self.trim_rexmit(&mut sh.work);
        while let Some(seq) = self.pop_rexmit() {
            sh.work += 1;
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
            // Not counted in SndDrop (libsrt's `packLostData` does not).
            if let Some(dropped) = self.snd.drop_expired_message(seq, now) {
                self.snd_loss.remove_range(dropped.range);
                self.snd_timed_out.remove_range(dropped.range);
                queue_dropreq(&mut sh.ctrl, &dropped);
                continue;
            }
            let start = wire.start;
            let peer = wire.peer_id;
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
            if keys.encrypts() {
                let key = keys.key_for(seq);
                n = keys.encrypt_in_place(key, buf, n)?;
            }
            sh.stats.on_data_sent(len, true, false);
            self.cc.on_packet_sent(len);
            return Ok(Some(n));
        }
        Ok(None)
    }

    fn next_new(
        &mut self,
        now: Instant,
        buf: &mut [u8],
        sh: &mut Shared,
        keys: &mut Keys,
        wire: Wire,
    ) -> Result<Option<usize>, EncodeError> {
        if !self.may_send_new(keys) {
            return Ok(None);
        }
        let start = wire.start;
        let peer = wire.peer_id;
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
        let key = keys.active_key();
        if let Some(key) = key {
            n = keys.encrypt_in_place(key, buf, n)?;
            keys.after_encrypt(seq, now, &mut sh.ctrl);
        }
        if let Some(filter) = &mut self.filter {
            // The packet as it goes on the wire (libsrt feeds it after encryption).
            filter.feed(&DataPacket {
                key: key_flags(key),
                payload: &buf[crate::packet::HEADER_LEN..n],
                ..packet
            });
        }
        sh.stats.on_data_sent(len, false, true);
        self.cc.on_packet_sent(len);
        self.skipped_unsent = false;
        Ok(Some(n))
    }
}

fn queue_dropreq(ctrl: &mut VecDeque<Ctrl>, dropped: &crate::buffer::send::DroppedMessages) {
    let msgno = if dropped.first_msgno == dropped.last_msgno {
        dropped.first_msgno
    } else {
        MsgNumber::FILTER
    };
    ctrl.push_back(Ctrl::DropReq {
        msgno,
        first: dropped.range.first,
        last: dropped.range.last,
    });
}

/// The age of the oldest unacknowledged message beyond which the next send
/// drops it (core.cpp `sndDropTooLate`): max(the peer's latency +
/// SRTO_SNDDROPDELAY, 1 s) + two ACK intervals (20 ms); `None` when the
/// sender does not drop: SRTO_SNDDROPDELAY −1, or `drops` false (libsrt
/// drops only if the peer announced TLPKTDROP, and only with the message
/// API). Without a peer TSBPD latency the latency counts as 0 (libsrt takes
/// its own SRTO_PEERLATENCY then, 0 by default).
pub(super) fn snd_drop_threshold(
    drops: bool,
    snd_latency: Option<Duration>,
    snd_drop_delay: Option<Duration>,
) -> Option<Duration> {
    let extra = snd_drop_delay.filter(|_| drops)?;
    Some((snd_latency.unwrap_or_default() + extra).max(SND_DROP_MIN) + 2 * ACK_INTERVAL)
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
pub(super) enum Cc {
    Live(LiveCc),
    File(FileCc),
}

impl Cc {
    pub(super) fn wants_input_rate(&self) -> bool {
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

    pub(super) fn send_period(&self) -> Duration {
        match self {
            Cc::Live(cc) => cc.send_period(),
            Cc::File(cc) => cc.send_period(),
        }
    }

    pub(super) fn max_bw_bytes_per_sec(&self) -> i64 {
        match self {
            Cc::Live(cc) => cc.max_bw_bytes_per_sec(),
            Cc::File(cc) => cc.config().max_bw,
        }
    }
}
