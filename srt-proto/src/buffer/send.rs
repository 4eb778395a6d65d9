//! The send buffer: packets waiting to be sent or acknowledged.
//!
//! A [`SendBuffer`] holds the sender's packets from the first one not yet
//! acknowledged to the last one queued, in sequence order. As libsrt's
//! `CSndBuffer`, it grows on demand up to the configured SNDBUF: the slot
//! records and the payload units (a [`PayloadPool`](super::PayloadPool),
//! units given back on ACK) cover the most packets held at once, and are
//! kept, so that steady-state traffic allocates nothing.
//!
//! Each [`push`](SendBuffer::push) is one message; a message longer than the
//! maximum payload is split into packets (PP first/middle/last, or solo).
//! Sequence numbers are given at push time, so a packet keeps its number
//! whether it is sent, retransmitted or dropped. The buffer then hands
//! packets out in order for their first transmission
//! ([`next_unsent`](SendBuffer::next_unsent)), again on request
//! ([`get_for_retransmit`](SendBuffer::get_for_retransmit)), releases them on
//! ACK ([`ack`](SendBuffer::ack)) and drops them when they are too old to be
//! useful ([`drop_too_late`](SendBuffer::drop_too_late),
//! [`drop_expired`](SendBuffer::drop_expired),
//! [`drop_expired_message`](SendBuffer::drop_expired_message)).
//!
//! Two kinds of drop, as in libsrt:
//! - **too late** (live, TLPKTDROP): every packet at the head of the buffer
//!   whose origin time is older than `now − max_age` is released at once,
//!   sent or not (`CUDT::sndDropTooLate` / `CSndBuffer::dropLateData`). All
//!   packets of a message share one origin time, so whole messages go.
//!   The engine does it only when the application sends the next message,
//!   as libsrt, then moves its ACK point past them and clears them from its
//!   loss list. (libsrt sends no DROPREQ for these: WIRE-NOTES §4.)
//! - **message TTL** (`msgttl` of `srt_sendmsg2`): a message whose TTL has
//!   passed is never sent again. libsrt checks when it is about to send a
//!   packet: an expired message that is not completely sent is skipped, and
//!   one that is NAKed is answered with a DROPREQ (`CSndBuffer::readData`).
//!   Here the packets stay in the buffer, marked dropped, until
//!   acknowledged (the receiver skips them after the DROPREQ); they are
//!   neither sent nor retransmitted.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crate::packet::PacketPosition;
use crate::seq::{MsgNumber, SeqNumber, SeqRange};
use crate::stats::{AvgBufSize, BufSize};

/// The most packets a buffer may hold: its sequence numbers must stay
/// comparable (less than 2³⁰ apart).
const MAX_CAPACITY: usize = (1 << 30) - 1;

/// The largest payload a packet may carry (a UDP datagram's).
const MAX_PAYLOAD: usize = u16::MAX as usize;

/// Why a message was not queued.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum SendBufferError {
    /// The payload is empty. libsrt's `srt_sendmsg2` returns 0 for a
    /// length ≤ 0 and queues nothing; the engine should do the same.
    #[error("empty message")]
    Empty,
    /// The message needs more packets than the buffer holds in all (libsrt:
    /// `MN_XSIZE`); it can never be queued.
    #[error("message larger than the send buffer")]
    TooLarge,
    /// Not enough free slots for the whole message now (libsrt:
    /// `MN_WRAVAIL`); nothing was queued, try again after an ACK.
    #[error("send buffer full")]
    Full,
}

/// An ACK that acknowledges packets never sent: libsrt treats it as a
/// security failure and breaks the connection (core.cpp `ESECFAIL`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("ACK {ack} beyond the next unsent packet {next_unsent}")]
pub(crate) struct AckBeyondSent {
    /// The acknowledgement number received.
    pub ack: SeqNumber,
    /// The highest acknowledgement number that was acceptable.
    pub next_unsent: SeqNumber,
}

/// Where a queued message went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct PushedMessage {
    /// The sequence number of its first packet.
    pub first: SeqNumber,
    /// The sequence number of its last packet.
    pub last: SeqNumber,
    /// Its message number.
    pub msgno: MsgNumber,
}

/// What an ACK released.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct AckedInfo {
    /// Packets released (including packets dropped by TTL and waiting for
    /// their ACK).
    pub packets: usize,
    /// Payload bytes released.
    pub bytes: usize,
}

/// What a drop removed, for the DROPREQ and the statistics.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct DroppedMessages {
    /// The sequence numbers dropped.
    pub range: SeqRange,
    /// The message number of the first packet dropped.
    pub first_msgno: MsgNumber,
    /// The message number of the last packet dropped.
    pub last_msgno: MsgNumber,
    /// Packets dropped now (a too-late drop that also releases packets
    /// dropped earlier by TTL does not count them again).
    pub packets: usize,
    /// Payload bytes dropped now (same rule).
    pub bytes: usize,
}

/// One packet handed out for sending: its header fields and payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct SendSlot<'a> {
    /// The packet sequence number.
    pub seq: SeqNumber,
    /// The message number.
    pub msgno: MsgNumber,
    /// The packet's place in its message.
    pub position: PacketPosition,
    /// The in-order delivery flag.
    pub in_order: bool,
    /// The message's origin time (the packet timestamp's source in TSBPD mode).
    pub origin: Instant,
    /// The payload.
    pub payload: &'a [u8],
    /// How many times the packet was retransmitted (0 on its first send).
    pub retransmit_count: u32,
}

/// Per-packet state; the payload lives in the shared storage.
#[derive(Clone, Copy, Debug)]
struct Slot {
    len: usize,
    /// The payload's unit in the pool.
    unit: u32,
    msgno: MsgNumber,
    position: PacketPosition,
    in_order: bool,
    origin: Instant,
    ttl: Option<Duration>,
    last_rexmit: Option<Instant>,
    rexmit_count: u32,
    /// Dropped by TTL: never (re)sent, waiting for the ACK to go past.
    dropped: bool,
}

impl Slot {
    fn ttl_expired(&self, now: Instant) -> bool {
        self.ttl
            .is_some_and(|ttl| now.saturating_duration_since(self.origin) > ttl)
    }
}

/// The sender's packets from the first unacknowledged to the last queued
/// (see the module docs).
#[derive(Clone, Debug)]
pub(crate) struct SendBuffer {
    /// Packet states, in sequence order from `first_seq`.
    slots: VecDeque<Slot>,
    /// Up to `capacity` payload units of `max_payload` bytes each.
    storage: super::PayloadPool,
    capacity: usize,
    max_payload: usize,
    /// The sequence number of `slots[0]` (or of the next push, if empty).
    first_seq: SeqNumber,
    next_msgno: MsgNumber,
    /// `slots[..cursor]` were sent or dropped; `slots[cursor..]` are
    /// neither (never dropped).
    cursor: usize,
    /// Payload bytes held.
    bytes: usize,
    /// The moving average of [`SendBuffer::size`], sampled on push, ACK and drop.
    avg: AvgBufSize,
}

impl SendBuffer {
    /// An empty buffer of `capacity_packets` slots of `max_payload` bytes
    /// each (allocated as packets come), whose first packet will be `isn` and
    /// first message `first_msgno`. The capacity is capped at 2³⁰−1 and
    /// the payload at 65535 bytes.
    pub(crate) fn new(
        capacity_packets: usize,
        max_payload: usize,
        isn: SeqNumber,
        first_msgno: MsgNumber,
    ) -> Self {
        let capacity = capacity_packets.min(MAX_CAPACITY);
        let max_payload = max_payload.min(MAX_PAYLOAD);
        SendBuffer {
            slots: VecDeque::new(),
            storage: super::PayloadPool::new(capacity, max_payload),
            capacity,
            max_payload,
            first_seq: isn,
            // 0 is reserved for packet-filter packets.
            next_msgno: if first_msgno == MsgNumber::FILTER {
                MsgNumber::FIRST
            } else {
                first_msgno
            },
            cursor: 0,
            bytes: 0,
            avg: AvgBufSize::default(),
        }
    }

    /// How many packets the buffer holds at most.
    pub(crate) fn capacity(&self) -> usize {
        self.capacity
    }

    /// Bytes allocated for payloads so far (twice the most held at once, in pages of 64).
    #[cfg(test)]
    pub(crate) fn allocated_bytes(&self) -> usize {
        self.storage.allocated_bytes()
    }

    /// How many packets are held (sent or not, not yet acknowledged).
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.slots.len()
    }

    /// Whether no packet is held.
    pub(crate) fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// Whether every packet held was dropped (or none is held).
    pub(crate) fn only_dropped(&self) -> bool {
        self.slots.iter().all(|s| s.dropped)
    }

    /// How many held packets were never sent.
    pub(crate) fn unsent(&self) -> usize {
        self.slots.len() - self.cursor
    }

    /// How many more packets fit.
    pub(crate) fn free_packets(&self) -> usize {
        self.capacity - self.slots.len()
    }

    /// Payload bytes held.
    #[cfg(test)]
    pub(crate) fn bytes(&self) -> usize {
        self.bytes
    }

    /// The sequence number of the oldest packet held (if empty: of the
    /// next packet pushed).
    pub(crate) fn first_seq(&self) -> SeqNumber {
        self.first_seq
    }

    /// The sequence number the next pushed packet gets.
    pub(crate) fn next_seq(&self) -> SeqNumber {
        self.first_seq + self.slots.len() as i32
    }

    /// The sequence number of the next packet to send for the first time
    /// (`next_seq` if all were sent); an ACK may go up to this one.
    pub(crate) fn next_unsent_seq(&self) -> SeqNumber {
        self.first_seq + self.cursor as i32
    }

    /// Numbers the next pushed packet `seq`, if the buffer is empty (a
    /// socket group member takes the group's sequence, libsrt's
    /// `overrideSndSeqNo`); false, changing nothing, if it holds packets.
    pub(crate) fn restart_at(&mut self, seq: SeqNumber) -> bool {
        if !self.slots.is_empty() {
            return false;
        }
        self.first_seq = seq;
        self.cursor = 0;
        true
    }

    /// The message number the next pushed message gets.
    pub(crate) fn next_msgno(&self) -> MsgNumber {
        self.next_msgno
    }

    /// Numbers the next pushed message `msgno` and those after it from
    /// there (libsrt's forced message number).
    pub(crate) fn set_next_msgno(&mut self, msgno: MsgNumber) {
        self.next_msgno = msgno;
    }

    /// Packets, payload bytes and timespan held, as libsrt's
    /// `CSndBuffer::getCurrBufSize`: the timespan is the last packet's
    /// origin time − the first's + 1 ms (0 if empty).
    pub(crate) fn size(&self) -> BufSize {
        let ms = match (self.slots.front(), self.slots.back()) {
            (Some(first), Some(last)) => {
                last.origin
                    .saturating_duration_since(first.origin)
                    .as_millis() as i32
                    + 1
            }
            _ => 0,
        };
        BufSize {
            pkts: self.slots.len() as i32,
            bytes: self.bytes as i32,
            ms,
        }
    }

    /// Samples [`size`](Self::size) into the moving average at `now`, if
    /// due (libsrt's `updAvgBufSize`, called when packets are queued,
    /// acknowledged or dropped). [`push`](Self::push) and
    /// [`drop_too_late`](Self::drop_too_late) do it themselves; the owner
    /// calls it after [`ack`](Self::ack).
    pub(crate) fn sample_avg(&mut self, now: Instant) {
        if self.avg.is_time_to_update(now) {
            let size = self.size();
            self.avg.update(now, size);
        }
    }

    /// The moving average of [`size`](Self::size), sampled at `now` first
    /// if due, as libsrt's `getAvgBufSize` (what `srt_bstats` reports).
    pub(crate) fn avg_size(&mut self, now: Instant) -> BufSize {
        self.sample_avg(now);
        self.avg.get()
    }

    /// The origin time of the oldest packet held (for the too-late check).
    pub(crate) fn oldest_origin(&self) -> Option<Instant> {
        self.slots.front().map(|s| s.origin)
    }

    /// Queues one message (see [`SendBufferError`] for refusals; nothing is
    /// queued then). All its packets get origin time `origin`; `ttl` is the
    /// message TTL (`None`: unlimited).
    pub(crate) fn push(
        &mut self,
        payload: &[u8],
        origin: Instant,
        ttl: Option<Duration>,
        in_order: bool,
    ) -> Result<PushedMessage, SendBufferError> {
        if payload.is_empty() {
            return Err(SendBufferError::Empty);
        }
        if self.max_payload == 0 {
            return Err(SendBufferError::TooLarge);
        }
        let packets = payload.len().div_ceil(self.max_payload);
        if packets > self.capacity {
            return Err(SendBufferError::TooLarge);
        }
        if packets > self.free_packets() {
            return Err(SendBufferError::Full);
        }
        let first = self.next_seq();
        let msgno = self.next_msgno;
        // The records grow ahead of need (twice what is asked), as the
        // payload pool does, so that a load does not reallocate when it peaks
        // higher than it usually runs.
        let want = self.slots.len() + packets;
        let want = (2 * want).min(self.capacity);
        if self.slots.capacity() < want {
            self.slots.reserve(want - self.slots.len());
        }
        for (i, chunk) in payload.chunks(self.max_payload).enumerate() {
            // Units in use = packets held ≤ capacity − packets: one is free.
            let Some(unit) = self.storage.take() else {
                return Err(SendBufferError::Full);
            };
            self.storage.get_mut(unit)[..chunk.len()].copy_from_slice(chunk);
            let position = match (i == 0, i + 1 == packets) {
                (true, true) => PacketPosition::Solo,
                (true, false) => PacketPosition::First,
                (false, true) => PacketPosition::Last,
                (false, false) => PacketPosition::Middle,
            };
            self.slots.push_back(Slot {
                len: chunk.len(),
                unit,
                msgno,
                position,
                in_order,
                origin,
                ttl,
                last_rexmit: None,
                rexmit_count: 0,
                dropped: false,
            });
        }
        self.bytes += payload.len();
        self.next_msgno = msgno.next();
        // libsrt samples at the message's origin time (`m_tsLastOriginTime`).
        self.sample_avg(origin);
        Ok(PushedMessage {
            first,
            last: first + (packets as i32 - 1),
            msgno,
        })
    }

    /// The next packet never sent, now marked sent.
    pub(crate) fn next_unsent(&mut self) -> Option<SendSlot<'_>> {
        let idx = self.cursor;
        if idx >= self.slots.len() {
            return None;
        }
        self.cursor += 1;
        Some(self.view(idx))
    }

    /// The packet `seq` for retransmission, counting it and remembering
    /// `now` as its last retransmission time; `None` if it is not held, was
    /// never sent, or was dropped. It does not check the message TTL: call
    /// [`drop_expired_message`](Self::drop_expired_message) first.
    pub(crate) fn get_for_retransmit(
        &mut self,
        seq: SeqNumber,
        now: Instant,
    ) -> Option<SendSlot<'_>> {
        let idx = self.sent_index(seq)?;
        let slot = &mut self.slots[idx];
        if slot.dropped {
            return None;
        }
        slot.rexmit_count = slot.rexmit_count.saturating_add(1);
        slot.last_rexmit = Some(now);
        Some(self.view(idx))
    }

    /// When the packet `seq` was last retransmitted; `None` if it never
    /// was or is not held (libsrt's `getPacketRexmitTime`, for the live
    /// retransmission suppression).
    pub(crate) fn last_sent(&self, seq: SeqNumber) -> Option<Instant> {
        let idx = self.index(seq)?;
        self.slots[idx].last_rexmit
    }

    /// Releases every packet strictly before `ack_seq`. An ACK at or before
    /// the first held packet releases nothing; one beyond the next unsent
    /// packet is refused.
    pub(crate) fn ack(&mut self, ack_seq: SeqNumber) -> Result<AckedInfo, AckBeyondSent> {
        let off = ack_seq.offset_from(self.first_seq);
        if off <= 0 {
            return Ok(AckedInfo::default());
        }
        let count = off as usize;
        if count > self.cursor {
            return Err(AckBeyondSent {
                ack: ack_seq,
                next_unsent: self.next_unsent_seq(),
            });
        }
        let (packets, bytes, _) = self.release(count);
        Ok(AckedInfo { packets, bytes })
    }

    /// Drops what is too old: first, with `max_age`, the packets at the head
    /// whose origin is before `now − max_age` (released at once, sent or
    /// not); if there are none, the messages at the send position whose TTL
    /// has passed (marked dropped, never sent). Returns one contiguous range
    /// per call: call again until `None`.
    pub(crate) fn drop_expired(
        &mut self,
        now: Instant,
        max_age: Option<Duration>,
    ) -> Option<DroppedMessages> {
        if let Some(limit) = max_age.and_then(|age| now.checked_sub(age)) {
            if let Some(dropped) = self.drop_too_late(now, limit) {
                return Some(dropped);
            }
        }
        // Messages at the send position whose TTL has passed.
        let mut dropped: Option<DroppedMessages> = None;
        while self.cursor < self.slots.len() && self.slots[self.cursor].ttl_expired(now) {
            let (start, end) = self.message_bounds(self.cursor);
            let d = self.mark_dropped(start, end);
            self.cursor = end + 1;
            match &mut dropped {
                Some(acc) => {
                    acc.range.last = d.range.last;
                    acc.last_msgno = d.last_msgno;
                    acc.packets += d.packets;
                    acc.bytes += d.bytes;
                }
                None => dropped = Some(d),
            }
        }
        dropped
    }

    /// The too-late drop (libsrt's `CSndBuffer::dropLateData`): releases at
    /// once every packet at the head whose origin is before `too_late`,
    /// sent or not, and samples the average size at `now`. The packets
    /// still counted are those not dropped before (by TTL).
    pub(crate) fn drop_too_late(
        &mut self,
        now: Instant,
        too_late: Instant,
    ) -> Option<DroppedMessages> {
        let count = self
            .slots
            .iter()
            .take_while(|s| s.origin < too_late)
            .count();
        if count == 0 {
            return None;
        }
        let range = SeqRange {
            first: self.first_seq,
            last: self.first_seq + (count as i32 - 1),
        };
        let first_msgno = self.slots[0].msgno;
        let last_msgno = self.slots[count - 1].msgno;
        let (_, _, (packets, bytes)) = self.release(count);
        self.sample_avg(now);
        Some(DroppedMessages {
            range,
            first_msgno,
            last_msgno,
            packets,
            bytes,
        })
    }

    /// If the packet `seq` was sent and its message's TTL has passed, marks
    /// the whole message dropped (never sent or retransmitted again) and
    /// returns it, for a DROPREQ: what libsrt does when such a packet is
    /// NAKed. A message dropped before is returned again, with 0 packets
    /// and bytes, so that its DROPREQ can be repeated.
    pub(crate) fn drop_expired_message(
        &mut self,
        seq: SeqNumber,
        now: Instant,
    ) -> Option<DroppedMessages> {
        let idx = self.sent_index(seq)?;
        let slot = &self.slots[idx];
        if !slot.dropped && !slot.ttl_expired(now) {
            return None;
        }
        let (start, end) = self.message_bounds(idx);
        let d = self.mark_dropped(start, end);
        self.cursor = self.cursor.max(end + 1);
        Some(d)
    }

    /// The index of `seq` among the held packets.
    fn index(&self, seq: SeqNumber) -> Option<usize> {
        let off = seq.offset_from(self.first_seq);
        (off >= 0 && (off as usize) < self.slots.len()).then_some(off as usize)
    }

    /// The index of `seq` among the packets already sent (or dropped).
    fn sent_index(&self, seq: SeqNumber) -> Option<usize> {
        self.index(seq).filter(|&i| i < self.cursor)
    }

    fn view(&self, idx: usize) -> SendSlot<'_> {
        let slot = &self.slots[idx];
        SendSlot {
            seq: self.first_seq + idx as i32,
            msgno: slot.msgno,
            position: slot.position,
            in_order: slot.in_order,
            origin: slot.origin,
            payload: self.storage.get(slot.unit, slot.len),
            retransmit_count: slot.rexmit_count,
        }
    }

    /// The first and last index of the message holding `slots[idx]`, as
    /// far as it is held.
    fn message_bounds(&self, idx: usize) -> (usize, usize) {
        let mut start = idx;
        while start > 0 && !self.slots[start].position.is_first() {
            start -= 1;
        }
        let mut end = idx;
        while end + 1 < self.slots.len() && !self.slots[end].position.is_last() {
            end += 1;
        }
        (start, end)
    }

    /// Marks `slots[start..=end]` dropped; reports those not dropped before.
    fn mark_dropped(&mut self, start: usize, end: usize) -> DroppedMessages {
        let (mut packets, mut bytes) = (0, 0);
        for slot in self.slots.range_mut(start..=end) {
            if !slot.dropped {
                slot.dropped = true;
                packets += 1;
                bytes += slot.len;
            }
        }
        DroppedMessages {
            range: SeqRange {
                first: self.first_seq + start as i32,
                last: self.first_seq + end as i32,
            },
            first_msgno: self.slots[start].msgno,
            last_msgno: self.slots[end].msgno,
            packets,
            bytes,
        }
    }

    /// Releases the first `count` packets; returns (packets, bytes, (packets,
    /// bytes) of those not dropped before).
    fn release(&mut self, count: usize) -> (usize, usize, (usize, usize)) {
        let count = count.min(self.slots.len());
        let (mut bytes, mut live_packets, mut live_bytes) = (0, 0, 0);
        for slot in self.slots.drain(..count) {
            self.storage.give_back(slot.unit);
            bytes += slot.len;
            if !slot.dropped {
                live_packets += 1;
                live_bytes += slot.len;
            }
        }
        self.bytes -= bytes;
        self.first_seq = self.first_seq + count as i32;
        self.cursor = self.cursor.saturating_sub(count);
        (count, bytes, (live_packets, live_bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn seq(v: u32) -> SeqNumber {
        SeqNumber::new_truncate(v)
    }

    fn msg(v: u32) -> MsgNumber {
        MsgNumber::new_truncate(v)
    }

    fn ms(v: u64) -> Duration {
        Duration::from_millis(v)
    }

    fn sent_one(b: &mut SendBuffer) -> (SeqNumber, Vec<u8>) {
        let s = b.next_unsent().expect("a packet to send");
        (s.seq, s.payload.to_vec())
    }

    #[test]
    fn size_spans_first_to_last_origin_and_the_average_lags() {
        let t0 = Instant::now();
        let mut b = SendBuffer::new(64, 4, seq(0), MsgNumber::FIRST);
        assert_eq!(b.size(), BufSize::default());
        // The first push samples at its origin time: the average starts there.
        b.push(b"abcdef", t0, None, true).unwrap();
        assert_eq!(
            b.size(),
            BufSize {
                pkts: 2,
                bytes: 6,
                ms: 1
            }
        );
        assert_eq!(
            b.avg_size(t0),
            BufSize {
                pkts: 2,
                bytes: 6,
                ms: 1
            }
        );
        // Quickly filled: 20 more packets within 20 ms, no sample is due.
        for i in 1..=20 {
            b.push(b"wxyz", t0 + ms(i), None, true).unwrap();
        }
        assert_eq!(
            b.size(),
            BufSize {
                pkts: 22,
                bytes: 86,
                ms: 21
            }
        );
        assert_eq!(
            b.avg_size(t0 + ms(24)),
            BufSize {
                pkts: 2,
                bytes: 6,
                ms: 1
            }
        );
        // A query samples when due (libsrt's getAvgBufSize): at 25 ms,
        // (2·975 + 22·25) / 1000 = 2.5 → 3, (6·975 + 86·25) / 1000 = 8,
        // (1·975 + 21·25) / 1000 = 1.5 → 2.
        assert_eq!(
            b.avg_size(t0 + ms(25)),
            BufSize {
                pkts: 3,
                bytes: 8,
                ms: 2
            }
        );
        // Acknowledged: the current values drop at once, the average does not.
        for _ in 0..22 {
            b.next_unsent().unwrap();
        }
        b.ack(seq(22)).unwrap();
        b.sample_avg(t0 + ms(50));
        assert_eq!(b.size(), BufSize::default());
        // (2.5·975 + 0·25) / 1000 = 2.4375, 7.8, 1.4625.
        assert_eq!(
            b.avg_size(t0 + ms(50)),
            BufSize {
                pkts: 2,
                bytes: 8,
                ms: 1
            }
        );
    }

    #[test]
    fn splits_messages_into_packets() {
        let t0 = Instant::now();
        let mut b = SendBuffer::new(8, 4, seq(100), MsgNumber::FIRST);
        let m = b.push(b"abcdefghij", t0, None, true).unwrap();
        assert_eq!(
            m,
            PushedMessage {
                first: seq(100),
                last: seq(102),
                msgno: msg(1)
            }
        );
        let m2 = b.push(b"xyz", t0, None, false).unwrap();
        assert_eq!((m2.first, m2.last, m2.msgno), (seq(103), seq(103), msg(2)));
        assert_eq!(
            (b.len(), b.unsent(), b.bytes(), b.free_packets()),
            (4, 4, 13, 4)
        );
        assert_eq!(b.next_seq(), seq(104));
        let want = [
            (PacketPosition::First, &b"abcd"[..], 1, true),
            (PacketPosition::Middle, b"efgh", 1, true),
            (PacketPosition::Last, b"ij", 1, true),
            (PacketPosition::Solo, b"xyz", 2, false),
        ];
        for (i, (pos, data, m, in_order)) in want.into_iter().enumerate() {
            let s = b.next_unsent().unwrap();
            assert_eq!(s.seq, seq(100 + i as u32));
            assert_eq!(s.position, pos);
            assert_eq!(s.payload, data);
            assert_eq!(s.msgno, msg(m));
            assert_eq!(s.in_order, in_order);
            assert_eq!(s.origin, t0);
            assert_eq!(s.retransmit_count, 0);
        }
        assert!(b.next_unsent().is_none());
        assert_eq!(b.unsent(), 0);
    }

    #[test]
    fn refuses_empty_too_large_and_full() {
        let t0 = Instant::now();
        let mut b = SendBuffer::new(3, 4, seq(0), MsgNumber::FIRST);
        assert_eq!(b.push(b"", t0, None, false), Err(SendBufferError::Empty));
        assert_eq!(
            b.push(&[1; 13], t0, None, false),
            Err(SendBufferError::TooLarge)
        );
        b.push(&[1; 8], t0, None, false).unwrap();
        assert_eq!(b.push(&[2; 5], t0, None, false), Err(SendBufferError::Full));
        // Nothing partial was queued, and the message number was not used.
        assert_eq!((b.len(), b.bytes(), b.next_seq()), (2, 8, seq(2)));
        assert_eq!(b.next_msgno(), msg(2));
        b.push(&[3; 4], t0, None, false).unwrap();
        assert_eq!(b.free_packets(), 0);
        // Degenerate sizes never panic.
        let mut z = SendBuffer::new(0, 1316, seq(0), MsgNumber::FIRST);
        assert_eq!(
            z.push(b"a", t0, None, false),
            Err(SendBufferError::TooLarge)
        );
        assert!(z.next_unsent().is_none());
        assert_eq!(z.ack(seq(5)).unwrap_err().next_unsent, seq(0));
        assert!(z.drop_expired(t0 + ms(10), Some(ms(1))).is_none());
        let mut z = SendBuffer::new(4, 0, seq(0), MsgNumber::FILTER);
        assert_eq!(
            z.push(b"a", t0, None, false),
            Err(SendBufferError::TooLarge)
        );
        assert_eq!(z.next_msgno(), MsgNumber::FIRST);
    }

    #[test]
    fn ack_releases_only_what_was_sent() {
        let t0 = Instant::now();
        let mut b = SendBuffer::new(8, 10, seq(50), MsgNumber::FIRST);
        for i in 0..5u8 {
            b.push(&[i; 3], t0, None, false).unwrap();
        }
        sent_one(&mut b);
        sent_one(&mut b);
        sent_one(&mut b);
        assert_eq!(
            b.ack(seq(54)),
            Err(AckBeyondSent {
                ack: seq(54),
                next_unsent: seq(53)
            })
        );
        assert_eq!(b.ack(seq(50)), Ok(AckedInfo::default()));
        assert_eq!(b.ack(seq(40)), Ok(AckedInfo::default()));
        assert_eq!(
            b.ack(seq(52)),
            Ok(AckedInfo {
                packets: 2,
                bytes: 6
            })
        );
        assert_eq!(
            (b.first_seq(), b.len(), b.unsent(), b.bytes()),
            (seq(52), 3, 2, 9)
        );
        assert_eq!(b.ack(seq(51)), Ok(AckedInfo::default()));
        assert_eq!(b.ack(seq(53)).unwrap().packets, 1);
        assert_eq!(sent_one(&mut b), (seq(53), vec![3; 3]));
        assert_eq!(b.ack(seq(54)).unwrap().packets, 1);
        assert_eq!(b.next_unsent_seq(), seq(54));
        assert_eq!(b.oldest_origin(), Some(t0));
    }

    #[test]
    fn retransmits_counted_with_time() {
        let t0 = Instant::now();
        let mut b = SendBuffer::new(8, 10, seq(7), MsgNumber::FIRST);
        b.push(b"one", t0, None, false).unwrap();
        b.push(b"two", t0, None, false).unwrap();
        sent_one(&mut b);
        // Not yet sent, not held.
        assert!(b.get_for_retransmit(seq(8), t0).is_none());
        assert!(b.get_for_retransmit(seq(6), t0).is_none());
        assert_eq!(b.last_sent(seq(7)), None);
        let s = b.get_for_retransmit(seq(7), t0 + ms(5)).unwrap();
        assert_eq!(
            (s.seq, s.payload, s.retransmit_count),
            (seq(7), &b"one"[..], 1)
        );
        assert_eq!(b.last_sent(seq(7)), Some(t0 + ms(5)));
        let s = b.get_for_retransmit(seq(7), t0 + ms(9)).unwrap();
        assert_eq!(s.retransmit_count, 2);
        assert_eq!(b.last_sent(seq(7)), Some(t0 + ms(9)));
        assert_eq!(sent_one(&mut b).0, seq(8));
        b.ack(seq(8)).unwrap();
        assert!(b.get_for_retransmit(seq(7), t0).is_none());
        assert_eq!(b.last_sent(seq(7)), None);
    }

    #[test]
    fn sequence_and_message_numbers_wrap() {
        let t0 = Instant::now();
        let mut b = SendBuffer::new(4, 2, SeqNumber::MAX - 1, MsgNumber::MAX);
        let m = b.push(b"abcde", t0, None, false).unwrap();
        assert_eq!(
            (m.first, m.last, m.msgno),
            (SeqNumber::MAX - 1, seq(0), MsgNumber::MAX)
        );
        let m = b.push(b"f", t0, None, false).unwrap();
        assert_eq!((m.first, m.msgno), (seq(1), MsgNumber::FIRST));
        let got: Vec<_> =
            std::iter::from_fn(|| b.next_unsent().map(|s| (s.seq, s.msgno))).collect();
        assert_eq!(
            got,
            vec![
                (SeqNumber::MAX - 1, MsgNumber::MAX),
                (SeqNumber::MAX, MsgNumber::MAX),
                (seq(0), MsgNumber::MAX),
                (seq(1), MsgNumber::FIRST),
            ]
        );
        assert_eq!(b.get_for_retransmit(seq(0), t0).unwrap().payload, b"e");
        assert_eq!(b.ack(seq(1)).unwrap().packets, 3);
        assert_eq!(b.first_seq(), seq(1));
        assert_eq!(b.ack(seq(2)).unwrap().bytes, 1);
        assert!(b.is_empty());
    }

    #[test]
    fn too_late_drop_releases_whole_messages_from_the_head() {
        let t0 = Instant::now();
        let mut b = SendBuffer::new(16, 2, seq(10), MsgNumber::FIRST);
        b.push(b"aaaa", t0, None, false).unwrap(); // 10, 11
        b.push(b"bb", t0 + ms(10), None, false).unwrap(); // 12
        b.push(b"cccc", t0 + ms(20), None, false).unwrap(); // 13, 14
        b.push(b"d", t0 + ms(30), None, false).unwrap(); // 15
        sent_one(&mut b);
        sent_one(&mut b);
        assert_eq!(b.drop_expired(t0 + ms(100), None), None);
        assert_eq!(b.drop_expired(t0 + ms(100), Some(ms(100))), None);
        let d = b.drop_expired(t0 + ms(125), Some(ms(100))).unwrap();
        assert_eq!(
            d,
            DroppedMessages {
                range: SeqRange::new(seq(10), seq(14)).unwrap(),
                first_msgno: msg(1),
                last_msgno: msg(3),
                packets: 5,
                bytes: 10,
            }
        );
        assert_eq!(b.drop_expired(t0 + ms(125), Some(ms(100))), None);
        assert_eq!(
            (b.first_seq(), b.len(), b.bytes(), b.unsent()),
            (seq(15), 1, 1, 1)
        );
        // An old ACK is harmless; the send position moved past the drop.
        assert_eq!(b.ack(seq(12)), Ok(AckedInfo::default()));
        assert_eq!(sent_one(&mut b), (seq(15), b"d".to_vec()));
    }

    #[test]
    fn ttl_drops_messages_not_completely_sent() {
        let t0 = Instant::now();
        let mut b = SendBuffer::new(16, 2, seq(0), MsgNumber::FIRST);
        b.push(b"aaaa", t0, Some(ms(50)), false).unwrap(); // 0, 1
        b.push(b"bbbbbb", t0, Some(ms(50)), false).unwrap(); // 2, 3, 4
        b.push(b"cc", t0, Some(ms(80)), false).unwrap(); // 5
        b.push(b"dd", t0, None, false).unwrap(); // 6
        b.push(b"ee", t0, Some(ms(10)), false).unwrap(); // 7
        sent_one(&mut b);
        sent_one(&mut b);
        sent_one(&mut b); // message 2 partly sent
        assert_eq!(b.drop_expired(t0 + ms(50), None), None);
        let d = b.drop_expired(t0 + ms(60), None).unwrap();
        // Message 2 whole (sent part included); message 1 was sent completely.
        assert_eq!(d.range, SeqRange::new(seq(2), seq(4)).unwrap());
        assert_eq!(
            (d.first_msgno, d.last_msgno, d.packets, d.bytes),
            (msg(2), msg(2), 3, 6)
        );
        assert_eq!(b.unsent(), 3);
        assert_eq!(b.next_unsent_seq(), seq(5));
        // Dropped packets are not retransmitted.
        assert!(b.get_for_retransmit(seq(2), t0 + ms(60)).is_none());
        assert!(b.get_for_retransmit(seq(1), t0 + ms(60)).is_some());
        // A NAKed packet of an expired message: drop the message for a DROPREQ.
        let d = b.drop_expired_message(seq(1), t0 + ms(60)).unwrap();
        assert_eq!(
            (d.range.first, d.range.last, d.first_msgno, d.packets),
            (seq(0), seq(1), msg(1), 2)
        );
        // NAKed again (the DROPREQ was lost): the same range, nothing new.
        let again = b.drop_expired_message(seq(0), t0 + ms(60)).unwrap();
        assert_eq!((again.range, again.packets, again.bytes), (d.range, 0, 0));
        assert_eq!(b.drop_expired_message(seq(5), t0 + ms(60)), None); // not sent
                                                                       // Later, 5 expires; 6 has no TTL and stops the scan; 7 waits.
        let d = b.drop_expired(t0 + ms(100), None).unwrap();
        assert_eq!(d.range, SeqRange::single(seq(5)));
        assert_eq!(sent_one(&mut b).0, seq(6));
        let d = b.drop_expired(t0 + ms(100), None).unwrap();
        assert_eq!(d.range, SeqRange::single(seq(7)));
        assert!(b.next_unsent().is_none());
        // The receiver acknowledges past the dropped packets.
        assert_eq!(
            b.ack(seq(8)),
            Ok(AckedInfo {
                packets: 8,
                bytes: 16
            })
        );
        assert!(b.is_empty());
    }

    #[test]
    fn too_late_after_ttl_counts_packets_once() {
        let t0 = Instant::now();
        let mut b = SendBuffer::new(8, 4, seq(0), MsgNumber::FIRST);
        b.push(b"aaaa", t0, Some(ms(5)), false).unwrap();
        b.push(b"bbbb", t0, None, false).unwrap();
        assert_eq!(b.drop_expired(t0 + ms(10), None).unwrap().packets, 1);
        let d = b.drop_expired(t0 + ms(200), Some(ms(100))).unwrap();
        assert_eq!(d.range, SeqRange::new(seq(0), seq(1)).unwrap());
        assert_eq!((d.packets, d.bytes), (1, 4));
        assert!(b.is_empty());
        assert_eq!(b.next_unsent_seq(), seq(2));
    }

    #[test]
    fn ring_reuses_storage() {
        let t0 = Instant::now();
        let mut b = SendBuffer::new(5, 3, seq(0x7FFF_FFF0), MsgNumber::FIRST);
        let mut next = 0u32;
        for round in 0..200u32 {
            let len = (round % 7 + 1) as usize;
            let data: Vec<u8> = (0..len).map(|i| (round as usize * 31 + i) as u8).collect();
            match b.push(&data, t0, None, false) {
                Ok(_) => {}
                Err(SendBufferError::Full) => {
                    while b.next_unsent().is_some() {}
                    let _ = b.ack(b.next_seq());
                    b.push(&data, t0, None, false).unwrap();
                }
                Err(e) => panic!("{e}"),
            }
            let mut got = Vec::new();
            let mut s = b.next_unsent();
            while let Some(slot) = s {
                got.extend_from_slice(slot.payload);
                if slot.position.is_last() {
                    break;
                }
                s = b.next_unsent();
            }
            assert_eq!(got, data);
            next += 1;
            if next % 3 == 0 {
                let _ = b.ack(b.next_unsent_seq());
            }
        }
    }

    #[test]
    fn storage_grows_with_the_packets_held_not_the_capacity() {
        let t0 = Instant::now();
        let new = allocation_counter::measure(|| {
            let b = SendBuffer::new(8192, 1456, seq(0), MsgNumber::FIRST);
            assert!(b.is_empty());
        });
        assert_eq!(new.count_total, 0, "an empty buffer allocates nothing");
        // 20 000 packets through a buffer of 8192, acknowledged 30 behind:
        // the old ring went round twice and touched all its storage.
        let mut b = SendBuffer::new(8192, 1456, seq(0), MsgNumber::FIRST);
        let payload = [1u8; 1316];
        for i in 0..20_000u32 {
            b.push(&payload, t0, None, false).unwrap();
            while b.next_unsent().is_some() {}
            if i >= 30 {
                b.ack(seq(i - 30)).unwrap();
            }
        }
        assert!(
            b.allocated_bytes() <= 64 * 1456,
            "{} bytes for 31 packets held",
            b.allocated_bytes()
        );
    }

    #[test]
    fn no_allocation_in_steady_state() {
        let t0 = Instant::now();
        let mut b = SendBuffer::new(64, 1316, SeqNumber::MAX - 100, MsgNumber::MAX + -10);
        let payload = [7u8; 1316];
        // Warm up: the first pass allocates the storage pages it uses.
        {
            for i in 0..1000u64 {
                let now = t0 + ms(i);
                let _ = b.push(&payload, now, Some(ms(500)), false);
                let _ = b.push(&payload[..3000 % 1316], now, None, true);
                while let Some(s) = b.next_unsent() {
                    assert_eq!(s.payload.first(), Some(&7));
                }
                let first = b.first_seq();
                let _ = b.get_for_retransmit(first, now);
                let _ = b.last_sent(first);
                let _ = b.drop_expired_message(first, now);
                let _ = b.drop_expired(now, Some(ms(20)));
                if i % 4 == 0 {
                    let _ = b.ack(b.next_unsent_seq() - 1);
                }
            }
        }
        let info = allocation_counter::measure(|| {
            for i in 0..1000u64 {
                let now = t0 + ms(i);
                let _ = b.push(&payload, now, Some(ms(500)), false);
                let _ = b.push(&payload[..3000 % 1316], now, None, true);
                while let Some(s) = b.next_unsent() {
                    assert_eq!(s.payload.first(), Some(&7));
                }
                let first = b.first_seq();
                let _ = b.get_for_retransmit(first, now);
                let _ = b.last_sent(first);
                let _ = b.drop_expired_message(first, now);
                let _ = b.drop_expired(now, Some(ms(20)));
                if i % 4 == 0 {
                    let _ = b.ack(b.next_unsent_seq() - 1);
                }
            }
        });
        assert_eq!(info.count_total, 0);
    }

    // ---- model test ----

    const CAP: usize = 12;
    const MAXP: usize = 3;

    #[derive(Clone, Debug)]
    enum Op {
        Push {
            len: usize,
            ttl: Option<u64>,
            in_order: bool,
        },
        Send,
        Ack(i32),
        Rexmit(i32),
        DropMsg(i32),
        Drop(Option<u64>),
        Tick(u64),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            5 => (0usize..12, proptest::option::of(0u64..40), any::<bool>())
                .prop_map(|(len, ttl, in_order)| Op::Push { len, ttl, in_order }),
            5 => Just(Op::Send),
            3 => (-3i32..16).prop_map(Op::Ack),
            3 => (-3i32..16).prop_map(Op::Rexmit),
            1 => (-1i32..14).prop_map(Op::DropMsg),
            2 => proptest::option::of(0u64..60).prop_map(Op::Drop),
            3 => (0u64..15).prop_map(Op::Tick),
        ]
    }

    #[derive(Clone, Debug)]
    struct MPkt {
        msg: u64,
        msgno: MsgNumber,
        position: PacketPosition,
        in_order: bool,
        data: Vec<u8>,
        origin: Instant,
        ttl: Option<Duration>,
        sent: bool,
        dropped: bool,
        rexmits: u32,
        last: Option<Instant>,
    }

    /// The obvious model: a Vec of packets from the first held one.
    struct Model {
        pkts: Vec<MPkt>,
        first: SeqNumber,
        msgs: u64,
        first_msgno: u32,
    }

    impl Model {
        fn unsent_at(&self) -> usize {
            self.pkts
                .iter()
                .position(|p| !p.sent && !p.dropped)
                .unwrap_or(self.pkts.len())
        }

        fn expired(p: &MPkt, now: Instant) -> bool {
            p.ttl
                .is_some_and(|t| now.saturating_duration_since(p.origin) > t)
        }

        fn drop_msg(&mut self, msg: u64) -> DroppedMessages {
            let idx: Vec<usize> = (0..self.pkts.len())
                .filter(|&i| self.pkts[i].msg == msg)
                .collect();
            let (s, e) = (idx[0], *idx.last().unwrap());
            let mut d = DroppedMessages {
                range: SeqRange {
                    first: self.first + s as i32,
                    last: self.first + e as i32,
                },
                first_msgno: self.pkts[s].msgno,
                last_msgno: self.pkts[e].msgno,
                packets: 0,
                bytes: 0,
            };
            for &i in &idx {
                let p = &mut self.pkts[i];
                if !p.dropped {
                    p.dropped = true;
                    d.packets += 1;
                    d.bytes += p.data.len();
                }
            }
            d
        }
    }

    fn check_model(b: &SendBuffer, m: &Model) {
        assert_eq!(b.len(), m.pkts.len());
        assert_eq!(
            b.unsent(),
            m.pkts.iter().filter(|p| !p.sent && !p.dropped).count()
        );
        assert_eq!(b.first_seq(), m.first);
        assert_eq!(b.next_seq(), m.first + m.pkts.len() as i32);
        assert_eq!(
            b.bytes(),
            m.pkts.iter().map(|p| p.data.len()).sum::<usize>()
        );
        assert_eq!(b.free_packets(), CAP - m.pkts.len());
        assert_eq!(b.oldest_origin(), m.pkts.first().map(|p| p.origin));
        assert_eq!(b.next_unsent_seq(), m.first + m.unsent_at() as i32);
        for (i, p) in m.pkts.iter().enumerate() {
            assert_eq!(b.last_sent(m.first + i as i32), p.last);
        }
    }

    fn run_model(isn: SeqNumber, first_msgno: MsgNumber, ops: &[Op]) {
        let t0 = Instant::now();
        let mut now = t0;
        let mut b = SendBuffer::new(CAP, MAXP, isn, first_msgno);
        let mut m = Model {
            pkts: Vec::new(),
            first: isn,
            msgs: 0,
            first_msgno: first_msgno.as_u32(),
        };
        let mut fill = 0u8;
        for op in ops {
            match *op {
                Op::Push { len, ttl, in_order } => {
                    let data: Vec<u8> = (0..len)
                        .map(|_| {
                            fill = fill.wrapping_add(1);
                            fill
                        })
                        .collect();
                    let ttl = ttl.map(ms);
                    let got = b.push(&data, now, ttl, in_order);
                    let n = len.div_ceil(MAXP);
                    if len == 0 {
                        assert_eq!(got, Err(SendBufferError::Empty));
                    } else if n > CAP {
                        assert_eq!(got, Err(SendBufferError::TooLarge));
                    } else if m.pkts.len() + n > CAP {
                        assert_eq!(got, Err(SendBufferError::Full));
                    } else {
                        // Independent msgno arithmetic: 1 ..= 2^26-1.
                        let msgno =
                            msg(((u64::from(m.first_msgno) - 1 + m.msgs) % 0x3FF_FFFF + 1) as u32);
                        let first = m.first + m.pkts.len() as i32;
                        assert_eq!(
                            got,
                            Ok(PushedMessage {
                                first,
                                last: first + (n as i32 - 1),
                                msgno
                            })
                        );
                        for (i, chunk) in data.chunks(MAXP).enumerate() {
                            let position = match (i == 0, i + 1 == n) {
                                (true, true) => PacketPosition::Solo,
                                (true, false) => PacketPosition::First,
                                (false, true) => PacketPosition::Last,
                                (false, false) => PacketPosition::Middle,
                            };
                            m.pkts.push(MPkt {
                                msg: m.msgs,
                                msgno,
                                position,
                                in_order,
                                data: chunk.to_vec(),
                                origin: now,
                                ttl,
                                sent: false,
                                dropped: false,
                                rexmits: 0,
                                last: None,
                            });
                        }
                        m.msgs += 1;
                    }
                }
                Op::Send => {
                    let i = m.unsent_at();
                    let got = b.next_unsent().map(|s| {
                        (
                            s.seq,
                            s.msgno,
                            s.position,
                            s.in_order,
                            s.origin,
                            s.payload.to_vec(),
                            s.retransmit_count,
                        )
                    });
                    if i < m.pkts.len() {
                        let p = &mut m.pkts[i];
                        p.sent = true;
                        assert_eq!(
                            got,
                            Some((
                                m.first + i as i32,
                                p.msgno,
                                p.position,
                                p.in_order,
                                p.origin,
                                p.data.clone(),
                                0
                            ))
                        );
                    } else {
                        assert_eq!(got, None);
                    }
                }
                Op::Ack(k) => {
                    let ack = m.first + k;
                    let got = b.ack(ack);
                    let limit = m.unsent_at();
                    if k <= 0 {
                        assert_eq!(got, Ok(AckedInfo::default()));
                    } else if k as usize > limit {
                        assert_eq!(
                            got,
                            Err(AckBeyondSent {
                                ack,
                                next_unsent: m.first + limit as i32
                            })
                        );
                    } else {
                        let gone: Vec<MPkt> = m.pkts.drain(..k as usize).collect();
                        m.first = m.first + k;
                        assert_eq!(
                            got,
                            Ok(AckedInfo {
                                packets: gone.len(),
                                bytes: gone.iter().map(|p| p.data.len()).sum()
                            })
                        );
                    }
                }
                Op::Rexmit(k) => {
                    let got = b
                        .get_for_retransmit(m.first + k, now)
                        .map(|s| (s.seq, s.msgno, s.payload.to_vec(), s.retransmit_count));
                    match usize::try_from(k).ok().and_then(|k| m.pkts.get_mut(k)) {
                        Some(p) if p.sent && !p.dropped => {
                            p.rexmits += 1;
                            p.last = Some(now);
                            assert_eq!(
                                got,
                                Some((m.first + k, p.msgno, p.data.clone(), p.rexmits))
                            );
                        }
                        _ => assert_eq!(got, None),
                    }
                }
                Op::DropMsg(k) => {
                    let got = b.drop_expired_message(m.first + k, now);
                    match usize::try_from(k).ok().and_then(|k| m.pkts.get(k)) {
                        Some(p) if p.dropped || (p.sent && Model::expired(p, now)) => {
                            let msgid = p.msg;
                            let want = m.drop_msg(msgid);
                            assert_eq!(got, Some(want));
                        }
                        _ => assert_eq!(got, None),
                    }
                }
                Op::Drop(max_age) => {
                    let got = b.drop_expired(now, max_age.map(ms));
                    let limit = max_age.and_then(|a| now.checked_sub(ms(a)));
                    let late =
                        limit.map_or(0, |l| m.pkts.iter().take_while(|p| p.origin < l).count());
                    if late > 0 {
                        let gone: Vec<MPkt> = m.pkts.drain(..late).collect();
                        let live: Vec<&MPkt> = gone.iter().filter(|p| !p.dropped).collect();
                        assert_eq!(
                            got,
                            Some(DroppedMessages {
                                range: SeqRange {
                                    first: m.first,
                                    last: m.first + (late as i32 - 1)
                                },
                                first_msgno: gone[0].msgno,
                                last_msgno: gone[late - 1].msgno,
                                packets: live.len(),
                                bytes: live.iter().map(|p| p.data.len()).sum(),
                            })
                        );
                        m.first = m.first + late as i32;
                    } else {
                        let mut want: Option<DroppedMessages> = None;
                        loop {
                            let i = m.unsent_at();
                            if i >= m.pkts.len() || !Model::expired(&m.pkts[i], now) {
                                break;
                            }
                            let d = m.drop_msg(m.pkts[i].msg);
                            want = Some(match want {
                                None => d,
                                Some(mut w) => {
                                    assert_eq!(w.range.last + 1, d.range.first);
                                    w.range.last = d.range.last;
                                    w.last_msgno = d.last_msgno;
                                    w.packets += d.packets;
                                    w.bytes += d.bytes;
                                    w
                                }
                            });
                        }
                        assert_eq!(got, want);
                    }
                }
                Op::Tick(d) => now += ms(d),
            }
            check_model(&b, &m);
        }
    }

    fn isn() -> impl Strategy<Value = SeqNumber> {
        prop_oneof![
            (0u32..40).prop_map(|d| SeqNumber::MAX - d as i32),
            (0u32..=SeqNumber::MAX.as_u32()).prop_map(seq),
        ]
    }

    fn first_msgno() -> impl Strategy<Value = MsgNumber> {
        prop_oneof![
            (0u32..20).prop_map(|d| msg(MsgNumber::MAX.as_u32() - d)),
            Just(MsgNumber::FIRST),
            (1u32..=MsgNumber::MAX.as_u32()).prop_map(msg),
        ]
    }

    proptest! {
        #[test]
        fn matches_a_vec_model(
            isn in isn(),
            first_msgno in first_msgno(),
            ops in proptest::collection::vec(op(), 1..150),
        ) {
            run_model(isn, first_msgno, &ops);
        }
    }
}
