//! What a socket group ([`crate::group`]) does to a member's transfer:
//! the shared sequence numbering and time base, the group's choice of
//! which member delivers, and what backup stability is judged from. The
//! packet path itself is untouched: a group sends through each member's
//! `send` and receives through its `recv`.

use super::Transfer;
use crate::seq::SeqNumber;
use std::time::{Duration, Instant};

/// What a backup group judges a member's stability from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct MemberHealth {
    /// Smoothed RTT.
    pub(crate) srtt: Duration,
    /// RTT variance.
    pub(crate) rttvar: Duration,
    /// Whether an RTT was measured (else both are libsrt's initial guesses).
    pub(crate) rtt_sampled: bool,
    /// The latency the peer plays this member's packets with.
    pub(crate) peer_latency: Duration,
    /// Packets the sender dropped as too late, in total.
    pub(crate) snd_dropped: u64,
}

impl Transfer {
    /// The sequence number the next message sent gets.
    pub(crate) fn group_snd_next_seq(&self) -> SeqNumber {
        self.sender.snd.next_seq()
    }

    /// The first packet not yet acknowledged (the next one if all were).
    pub(crate) fn group_snd_unacked(&self) -> SeqNumber {
        self.sender.snd.first_seq()
    }

    /// The sender's too-late drop a send does (see
    /// [`Sender::drop_too_late`](super::sender::Sender::drop_too_late)), for
    /// a member the group sends on: libsrt's group calls each running
    /// member's `sendmsg2`, which drops, even when the member then refuses
    /// the message.
    pub(crate) fn group_snd_drop_too_late(&mut self, now: Instant) {
        // Timers move only if something went (the message's own send
        // re-arms them after).
        if self.sender.drop_too_late(now, &mut self.shared.stats) {
            self.arm(&super::timer::Timer::SENDER);
        }
    }

    /// Numbers the next message `seq` if nothing waits in the send buffer
    /// (libsrt's `overrideSndSeqNo`); false if something does.
    pub(crate) fn group_override_snd_seq(&mut self, seq: SeqNumber) -> bool {
        if !self.sender.snd.restart_at(seq) {
            return false;
        }
        self.sender.last_full_ack_seq = seq;
        true
    }

    /// This side's start, from which packet timestamps count.
    pub(crate) fn group_start(&self) -> Instant {
        self.wire.start
    }

    /// Counts packet timestamps from the group's start, so every member
    /// stamps a message alike (libsrt's `synchronizeWithGroup`).
    pub(crate) fn group_set_start(&mut self, start: Instant) {
        self.wire.start = start;
    }

    /// The receiving time base and wrap state (`None` without TSBPD).
    pub(crate) fn group_time_base(&self) -> Option<(Instant, bool)> {
        self.receiver.tsbpd.as_ref().map(|t| t.group_time_base())
    }

    /// Plays packets on the group's time base.
    pub(crate) fn group_adopt_time_base(&mut self, base: Instant, wrap_check: bool) {
        if let Some(t) = &mut self.receiver.tsbpd {
            t.adopt_group_time_base(base, wrap_check);
        }
        self.arm_timers();
    }

    /// The first sequence number not yet delivered or given up.
    pub(crate) fn group_rcv_read_pos(&self) -> SeqNumber {
        self.receiver.rcv.read_pos()
    }

    /// Receives from `seq` on if nothing was received yet (the group's
    /// next sequence number for a member that joins); false otherwise.
    pub(crate) fn group_reset_rcv(&mut self, seq: SeqNumber) -> bool {
        if !self.receiver.rcv.restart_at(seq) {
            return false;
        }
        self.receiver.last_ack_seq = seq;
        self.receiver.last_ackacked_seq = seq;
        self.arm_timers();
        true
    }

    /// The sequence number `recv` would deliver now, after the too-late
    /// drop `recv` would do; nothing is taken.
    pub(crate) fn group_peek(&mut self, now: Instant) -> Option<SeqNumber> {
        self.receiver.drop_too_late(now, &mut self.shared.stats);
        let r = match &self.receiver.tsbpd {
            Some(tsbpd) => self.receiver.rcv.head_due(now, tsbpd),
            None => None,
        };
        self.arm_timers();
        r
    }

    /// Skips to `seq` what the group already has (see
    /// [`RecvBuffer::skip_to`](crate::buffer::recv::RecvBuffer::skip_to)).
    /// The skipped numbers are not acknowledged on their own (libsrt's
    /// `setInitialRcvSeq` on an idle link): the peer's member may never
    /// have sent them. Returns the present packets discarded.
    pub(crate) fn group_skip_to(&mut self, seq: SeqNumber) -> usize {
        if seq.offset_from(self.receiver.rcv.read_pos()) <= 0 {
            return 0;
        }
        let discarded = self.receiver.rcv.skip_to(seq);
        let ack = self.receiver.rcv.ack_seq();
        if self.receiver.last_ackacked_seq.offset_from(ack) < 0 {
            self.receiver.last_ackacked_seq = ack;
        }
        if self.receiver.last_ack_seq.offset_from(ack) < 0 {
            self.receiver.last_ack_seq = ack;
        }
        // The next ready packet raises the readable event again.
        self.receiver.readable_signaled = false;
        self.arm_timers();
        discarded
    }

    /// What a backup group judges this member's stability from.
    pub(crate) fn group_health(&self) -> MemberHealth {
        let us = |v: i64| Duration::from_micros(v.max(0) as u64);
        MemberHealth {
            srtt: us(self.shared.rtt.srtt),
            rttvar: us(self.shared.rtt.rttvar),
            rtt_sampled: self.shared.rtt.sampled,
            peer_latency: self.sender.snd_latency.unwrap_or_default(),
            snd_dropped: self.shared.stats.snd_dropped_total(),
        }
    }
}
