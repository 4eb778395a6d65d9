//! The receiving half of a transfer: the receive buffer and TSBPD
//! delivery, loss detection (with the reorder tolerance), ACK and NAK
//! generation, and the RTT samples ACKACKs give.

use super::reorder::Reorder;
use super::{Ctrl, Shared, TransferConfig, ACK_INTERVAL, LIGHT_ACK_PACKETS};
use crate::buffer::recv::{InsertOutcome, PopOutcome, RecvBuffer, RecvInfo};
use crate::cc::live::LiveCc;
use crate::estimate::ArrivalWindow;
use crate::packet::{Ack, AckInfo, DataKeyFlags, DataPacket};
use crate::seq::{MsgNumber, SeqNumber, Timestamp};
use crate::stats::Stats;
use crate::tsbpd::Tsbpd;
use std::time::{Duration, Instant};

/// The ACKs remembered for matching ACKACKs (RTT samples).
pub(super) const ACK_HISTORY: usize = 64;

/// The receiving half of a transfer.
#[derive(Debug)]
pub(super) struct Receiver {
    pub(super) rcv: RecvBuffer,
    pub(super) tsbpd: Option<Tsbpd>,
    pub(super) arrival: ArrivalWindow,
    pub(super) ack_number: u32,
    pub(super) next_ack_at: Instant,
    pub(super) last_ack_seq: SeqNumber,
    /// The last full ACK advertised no free receive buffer.
    pub(super) buffer_was_full: bool,
    pub(super) last_ack_at: Instant,
    pub(super) last_ackacked_seq: SeqNumber,
    pub(super) ack_history: [(u32, SeqNumber, Instant); ACK_HISTORY],
    pub(super) packets_since_ack: u32,
    pub(super) nakreport: bool,
    /// Reorder tolerance (libsrt's "belated loss report"): fresh losses wait
    /// this many packets before a NAK; grows on reordering up to the maximum.
    pub(super) reorder: Reorder,
    pub(super) nak_interval: Duration,
    pub(super) next_nak_at: Instant,
    pub(super) readable_signaled: bool,
    pub(super) live: bool,
    pub(super) message_api: bool,
    pub(super) max_payload: usize,
    pub(super) payload_size: usize,
    /// Losses found here are reported (NAK at once and periodically): no
    /// packet filter, or one with `arq:always`. With `onreq` only what the
    /// filter gives up on is reported; with `never` nothing (libsrt's
    /// `m_PktFilterRexmitLevel`).
    pub(super) report_losses: bool,
    /// Losses are counted (`pktRcvLoss`) from the gaps the receive buffer
    /// finds; with a packet filter they are counted from the sequence
    /// numbers off the wire instead, before the filter rebuilds any (libsrt
    /// `processData`), see `Transfer::on_data`.
    pub(super) count_gaps: bool,
}

impl Receiver {
    /// Applies SRTO_LOSSMAXTTL and SRTO_DRIFTTRACER changed on a connected
    /// socket (see [`Transfer::reconfigure`](super::Transfer::reconfigure)).
    pub(super) fn reconfigure(&mut self, new: &TransferConfig, loss_max_ttl_set: bool) {
        if loss_max_ttl_set {
            self.reorder.set_max(new.loss_max_ttl);
        }
        if let Some(tsbpd) = &mut self.tsbpd {
            tsbpd.set_drift_tracer(new.drift_tracer);
        }
    }

    /// Receiver too-late drop, even when the application does not read: on
    /// any visit, and the [`Tsbpd`](super::timer::Timer::Tsbpd) timer wakes
    /// for the next delivery.
    pub(super) fn drop_too_late(&mut self, now: Instant, stats: &mut Stats) {
        if let Some(tsbpd) = &self.tsbpd {
            // Where libsrt's TSBPD thread wakes up: sample the buffer average.
            self.rcv.sample_avg(now, tsbpd);
            while let Some((_, packets)) = self.rcv.drop_too_late(now, tsbpd) {
                count_rcv_drop(stats, self.payload_size, packets);
            }
        }
    }

    /// The full ACK and periodic NAK periods. They run on whether or not
    /// their timers are armed (as libsrt's timer checks them every turn): a
    /// visit after a period's end starts the next period; the
    /// [`Ack`](super::timer::Timer::Ack) and [`Nak`](super::timer::Timer::Nak)
    /// timers only wake the connection when there is something to send.
    pub(super) fn on_periods(&mut self, now: Instant, sh: &mut Shared) {
        // Full ACK.
        if now >= self.next_ack_at {
            self.next_ack_at = now + ACK_INTERVAL;
            self.full_ack(now, sh);
        }
        // Periodic NAK.
        if self.nakreport && self.report_losses && now >= self.next_nak_at {
            if self.rcv.loss_ranges().next().is_some() {
                sh.ctrl.push_back(Ctrl::PeriodicNak);
            }
            self.next_nak_at = now + self.nak_interval;
        }
    }

    /// When the next packet is due for delivery: to signal readable, or to
    /// drop a gap before a due packet; an unread packet at the head needs
    /// no timer.
    pub(super) fn tsbpd_deadline(&self) -> Option<Instant> {
        let tsbpd = self.tsbpd.as_ref()?;
        let due = self.rcv.next_delivery(tsbpd)?;
        (!self.readable_signaled || !self.rcv.head_present()).then_some(due)
    }

    /// When the next full ACK goes out, if there is something to acknowledge.
    pub(super) fn ack_deadline(&self) -> Option<Instant> {
        (self.rcv.ack_seq() != self.last_ackacked_seq || self.window_update_due())
            .then_some(self.next_ack_at)
    }

    /// When the next periodic NAK goes out, if there are losses to report.
    pub(super) fn nak_deadline(&self) -> Option<Instant> {
        (self.nakreport && self.report_losses && self.rcv.loss_ranges().next().is_some())
            .then_some(self.next_nak_at)
    }

    /// The next message due for delivery, if any.
    pub(super) fn recv(
        &mut self,
        now: Instant,
        out: &mut [u8],
        stats: &mut Stats,
    ) -> Option<RecvInfo> {
        let info = match &mut self.tsbpd {
            Some(tsbpd) => loop {
                // libsrt's TSBPD thread samples before each delivery.
                self.rcv.sample_avg(now, tsbpd);
                match self.rcv.pop_ready(now, tsbpd, out) {
                    PopOutcome::Delivered(info) => break Some(info),
                    PopOutcome::Dropped { packets, .. } => {
                        count_rcv_drop(stats, self.payload_size, packets)
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
    pub(super) fn take_readable(&mut self, now: Instant) -> bool {
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
    pub(super) fn recv_ready(&mut self, now: Instant) -> bool {
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

    /// A data packet from the peer, in clear text (decrypted if it was
    /// encrypted): loss detection, reordering, light ACKs.
    pub(super) fn on_packet(&mut self, now: Instant, packet: &DataPacket<'_>, sh: &mut Shared) {
        let len = packet.payload.len();
        sh.stats.on_data_received(len, packet.retransmitted);
        self.arrival.on_packet_arrival(now, len);
        self.arrival
            .on_probe_arrival(now, packet.seq, len, packet.retransmitted);
        self.store(now, packet, sh);
    }

    /// A packet filter's own packet (FEC) arrived: counted as received and
    /// in the arrival rate, as libsrt does, and not delivered.
    pub(super) fn on_filter_packet(&mut self, now: Instant, len: usize, sh: &mut Shared) {
        sh.stats.on_data_received(len, false);
        sh.stats.on_filter_extra_received(1);
        self.arrival.on_packet_arrival(now, len);
    }

    /// A packet the filter rebuilt, in clear text: stored as a retransmitted
    /// packet; not counted as received from the wire (libsrt counts it in
    /// `pktRcvFilterSupply` only).
    pub(super) fn on_rebuilt(&mut self, now: Instant, packet: &DataPacket<'_>, sh: &mut Shared) {
        self.store(now, packet, sh);
    }

    /// Stores a data packet in the receive buffer: loss detection,
    /// reordering, light ACKs.
    fn store(&mut self, now: Instant, packet: &DataPacket<'_>, sh: &mut Shared) {
        let len = packet.payload.len();
        // As libsrt (core.cpp `handleSocketPacketReception`), a packet is
        // belated only when it is behind the buffer's start (delivered or
        // given up); one that arrives after its delivery time but is still
        // wanted is stored and delivered at once, so a receiver that was not
        // scheduled for longer than the latency loses nothing.
        let highest = self.rcv.highest_received();
        let mut in_order = true;
        match self.rcv.insert(packet, now) {
            InsertOutcome::Inserted {
                newly_lost,
                filled_loss,
            } => {
                sh.stats.on_data_unique(len);
                if let Some(range) = newly_lost {
                    let n = range.len();
                    if self.count_gaps {
                        sh.stats
                            .on_loss_detected(n, u64::from(n) * self.payload_size as u64);
                    }
                    if self.report_losses && !self.reorder.hold(range) {
                        sh.ctrl.push_back(Ctrl::Nak(range));
                    }
                }
                if filled_loss && !packet.retransmitted {
                    // An original packet filling a gap arrived out of order.
                    in_order = false;
                    let distance = highest.map_or(0, |h| h.offset_from(packet.seq).max(0));
                    sh.stats.on_reordered(distance);
                    if self.reorder.on_reordered(packet.seq, distance as u32) {
                        sh.stats.on_reorder_tolerance_decreased();
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
                sh.stats.on_belated(len, lateness);
            }
            InsertOutcome::Duplicate | InsertOutcome::OutOfWindow | InsertOutcome::Oversized => {}
        }
        // Fresh losses whose wait is over are reported now.
        while let Some(range) = self.reorder.expired() {
            sh.ctrl.push_back(Ctrl::Nak(range));
        }
        self.reorder.tick();
        if in_order && self.reorder.on_in_order() {
            sh.stats.on_reorder_tolerance_decreased();
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
            sh.ctrl.push_back(Ctrl::Ack(Ack {
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
    pub(super) fn on_undecryptable(
        &mut self,
        now: Instant,
        packet: &DataPacket<'_>,
        sh: &mut Shared,
    ) {
        let len = packet.payload.len();
        sh.stats.on_data_received(len, packet.retransmitted);
        let Some(tsbpd) = &self.tsbpd else {
            sh.stats.on_undecrypted(len);
            return;
        };
        let due = tsbpd.delivery_time(packet.timestamp);
        if due < now {
            sh.stats.on_belated(len, now - due);
            return;
        }
        sh.stats.on_undecrypted(len);
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
                if self.count_gaps {
                    sh.stats
                        .on_loss_detected(n, u64::from(n) * self.payload_size as u64);
                }
                if self.report_losses && !self.reorder.hold(range) {
                    sh.ctrl.push_back(Ctrl::Nak(range));
                }
            }
            if filled_loss {
                self.reorder.forget(packet.seq);
            }
            let dropped = self.rcv.drop_range(packet.seq, packet.seq);
            count_rcv_drop(&mut sh.stats, len, dropped);
        }
    }

    /// An ACKACK from the peer: an RTT sample (we are the receiver).
    ///
    /// Only an ACK this side sent and that is still remembered is taken,
    /// once: an ACKACK of no such ACK, or a repeat, gives no RTT sample and
    /// is counted in
    /// [`RejectedControl::ackack`](crate::stats::RejectedControl::ackack).
    pub(super) fn on_ackack(
        &mut self,
        now: Instant,
        ack_number: u32,
        ts: Timestamp,
        sh: &mut Shared,
    ) {
        let entry = &mut self.ack_history[ack_number as usize % ACK_HISTORY];
        if ack_number == 0 || entry.0 != ack_number {
            sh.stats.rejected_mut().ackack += 1;
            return;
        }
        let (_, seq, sent) = *entry;
        // Taken: a repeat no longer matches.
        entry.0 = 0;
        let r = now.saturating_duration_since(sent);
        sh.rtt.sample(r.as_micros() as i64);
        if seq.offset_from(self.last_ackacked_seq) > 0 {
            self.last_ackacked_seq = seq;
        }
        if let Some(tsbpd) = &mut self.tsbpd {
            tsbpd.add_drift_sample(ts, now, Some(r));
        }
    }

    /// A KEEPALIVE from the peer: its timestamp feeds the TSBPD clock.
    pub(super) fn on_keepalive(&mut self, now: Instant, ts: Timestamp) {
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
    pub(super) fn on_dropreq(&mut self, first: SeqNumber, last: SeqNumber, stats: &mut Stats) {
        let start = self.rcv.read_pos();
        let window = i64::try_from(self.rcv.capacity()).unwrap_or(i64::MAX);
        let span = i64::from(last.offset_from(first));
        let last_pos = i64::from(first.offset_from(start)) + span;
        if span < 0 || span >= window || last_pos < -window || last_pos >= window {
            stats.rejected_mut().dropreq += 1;
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
                stats.rejected_mut().dropreq += 1;
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
                stats.rejected_mut().dropreq += 1;
                return;
            };
            if first.offset_from(highest) > 0 {
                stats.rejected_mut().dropreq += 1;
                return;
            }
            let last = if last.offset_from(highest) > 0 {
                highest
            } else {
                last
            };
            let dropped = self.rcv.drop_range(first, last);
            count_rcv_drop(stats, self.max_payload, dropped);
        }
    }

    /// Whether the last full ACK advertised no free buffer and the
    /// application has read since: a window update is due even though no
    /// new data arrived (libsrt's `bNeedFullAck`), or a sender that obeys
    /// the window (libsrt's) would wait forever.
    fn window_update_due(&self) -> bool {
        self.buffer_was_full && self.rcv.free_packets() > 0
    }

    fn full_ack(&mut self, now: Instant, sh: &mut Shared) {
        let ack_seq = self.rcv.ack_seq();
        let window_update = self.window_update_due();
        if ack_seq == self.last_ackacked_seq && !window_update {
            return;
        }
        if ack_seq == self.last_ack_seq && !window_update && now < self.last_ack_at + sh.rtt.rto() {
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
        sh.ctrl.push_back(Ctrl::Ack(Ack {
            ack_number,
            ack_seq,
            info: AckInfo::Full {
                rtt: sh.rtt.srtt as u32,
                rtt_var: sh.rtt.rttvar as u32,
                buffer_available,
                packet_recv_rate: pkt_rate,
                link_capacity: self.arrival.link_capacity(),
                recv_rate: byte_rate,
            },
        }));
        sh.stats.on_ack_sent();
        self.last_ack_seq = ack_seq;
        self.last_ack_at = now;
        self.packets_since_ack = 0;
    }

    /// A NAK went out: the periodic NAK interval follows the RTT (libsrt
    /// recomputes it here). libsrt keeps the pending periodic NAK time even
    /// when the new interval is shorter, which leaves early losses waiting
    /// up to 300 ms; we let the timer come earlier, never later.
    pub(super) fn on_nak_sent(&mut self, now: Instant, sh: &mut Shared) {
        sh.stats.on_nak_sent();
        self.nak_interval = LiveCc::nak_interval(sh.rtt.srtt as i32, sh.rtt.rttvar as i32);
        self.next_nak_at = self.next_nak_at.min(now + self.nak_interval);
    }
}

/// Counts packets the receiver gave up (bytes estimated from the payload size, as libsrt).
fn count_rcv_drop(stats: &mut Stats, payload_size: usize, packets: u32) {
    if packets > 0 {
        stats.on_rcv_drop(packets, u64::from(packets) * payload_size as u64);
    }
}
