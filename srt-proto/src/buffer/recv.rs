//! The receive buffer: packets waiting for in-order, on-time (TSBPD) delivery.
//!
//! [`RecvBuffer`] is a ring of preallocated slots, one per sequence number
//! from the *read position* (the first sequence number neither delivered
//! nor given up) onwards, as libsrt's `CRcvBuffer` (buffer_rcv.cpp). Each
//! slot is empty (not received), present (received, waiting) or dropped
//! (given up by a DROPREQ while still ahead of the read position).
//!
//! ```text
//!  read_pos            ack_seq                     highest_received
//!     |                   |                               |
//!   [ P | P | D | P | P | _ | _ | P | P | _ | P | P | P | P | _ _ _ _ ... ]
//!     |<- contiguous ---->|<------ loss ranges and more packets ---->|
//!     |<------------------------ window (capacity − 1) ------------------------>|
//! ```
//!
//! Two ways out:
//! - live (TSBPD): [`RecvBuffer::pop_ready`] delivers the first present packet
//!   once its delivery time has come, and drops the gap before it at that
//!   moment (too-late drop, libsrt's `rcvDropTooLateUpTo`: no extra margin);
//! - file (no TSBPD): [`RecvBuffer::pop_in_order`] delivers contiguous packets
//!   at once.
//!
//! Slots keep each packet's message number and position (PP bits), so whole
//! messages of several packets (`First ..= Last`) can be assembled later
//! (message mode); for now every pop delivers one packet.
//!
//! Memory grows with use, as libsrt's unit queue does: the slot records
//! cover the span from the read position to the highest received packet,
//! and payloads sit in units of a [`PayloadPool`](super::PayloadPool) taken
//! on arrival and given back on delivery or drop. A live stream therefore
//! holds about its latency's worth of packets, not the whole window
//! (`capacity − 1` × `max_payload`). Both keep what they grew to: once
//! traffic has reached its peak, inserting and popping allocate nothing.

use std::collections::VecDeque;
use std::time::Instant;

use crate::packet::{DataPacket, PacketPosition};
use crate::seq::{MsgNumber, SeqNumber, SeqRange, Timestamp};
use crate::stats::{AvgBufSize, BufSize};
use crate::tsbpd::Tsbpd;

/// Largest accepted capacity: keeps every offset inside the window well
/// below half the sequence ring, where sequence comparisons are meaningful.
const MAX_CAPACITY: usize = 1 << 30;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SlotState {
    /// Not received (or already delivered, behind the read position).
    Empty,
    /// Received, waiting to be read.
    Present,
    /// Given up (DROPREQ): neither deliverable nor lost.
    Dropped,
}

/// A slot's payload unit when it holds none.
const NO_UNIT: u32 = u32::MAX;

#[derive(Clone, Copy, Debug)]
struct Slot {
    state: SlotState,
    len: usize,
    /// The payload's unit in the pool (`NO_UNIT` unless present).
    unit: u32,
    msgno: MsgNumber,
    timestamp: Timestamp,
    position: PacketPosition,
    in_order: bool,
}

const EMPTY_SLOT: Slot = Slot {
    state: SlotState::Empty,
    len: 0,
    unit: NO_UNIT,
    msgno: MsgNumber::FILTER,
    timestamp: Timestamp::from_u32(0),
    position: PacketPosition::Solo,
    in_order: true,
};

/// What [`RecvBuffer::insert`] did with a packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum InsertOutcome {
    /// Stored.
    Inserted {
        /// The sequence numbers this packet revealed as missing: those between
        /// the highest received before it and itself, if any (report them in a NAK).
        newly_lost: Option<SeqRange>,
        /// Whether it filled a gap (a retransmission or belated packet): remove it from the loss list.
        filled_loss: bool,
    },
    /// Already in the buffer; ignored.
    Duplicate,
    /// Before the read position, or given up by a DROPREQ: already delivered or dropped; ignored.
    Belated,
    /// Too far ahead to fit in the buffer (libsrt's "-3"); dropped.
    OutOfWindow,
    /// Payload longer than the buffer's `max_payload`; dropped.
    Oversized,
}

/// A packet handed to the application.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecvInfo {
    /// Bytes written to the caller's buffer.
    pub len: usize,
    /// Whether the payload was longer than the caller's buffer and its tail was lost (as libsrt's `readMessage`).
    pub truncated: bool,
    /// The packet's sequence number.
    pub seq: SeqNumber,
    /// The packet's message number.
    pub msgno: MsgNumber,
    /// The packet's timestamp (the sender's clock).
    pub timestamp: Timestamp,
    /// The sender's time of the packet on our clock (delivery time − latency); `None` without TSBPD.
    pub origin: Option<Instant>,
    /// The packet's place in its message.
    pub position: PacketPosition,
}

/// What [`RecvBuffer::pop_ready`] produced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PopOutcome {
    /// The next packet, in order and on time.
    Delivered(RecvInfo),
    /// A gap given up because a later packet is due (too-late drop); call again for that packet.
    Dropped {
        /// The sequence numbers skipped.
        range: SeqRange,
        /// How many of them were missing (not counting those already given up by `drop_range`).
        packets: u32,
    },
    /// Nothing to deliver yet (see [`RecvBuffer::next_delivery`]).
    NotReady,
}

/// The receive buffer of one connection: reorders, detects losses, and delivers in order.
#[derive(Debug)]
pub(crate) struct RecvBuffer {
    /// The slots of offsets `0 .. end` from `read_pos` (grown on demand).
    slots: VecDeque<Slot>,
    /// How many sequence numbers from `read_pos` on can be held (capacity − 1).
    window: usize,
    data: super::PayloadPool,
    max_payload: usize,
    /// The first sequence number neither delivered nor given up.
    read_pos: SeqNumber,
    /// Offsets `0 .. end` from `read_pos` are in use; all slots beyond are empty.
    end: usize,
    /// The first empty offset (everything before is present or given up).
    ack_off: usize,
    /// Number of present packets.
    present: usize,
    /// Payload bytes of the present packets not yet read.
    bytes: usize,
    /// The moving average of [`RecvBuffer::size`] (sampled by the owner).
    avg: AvgBufSize,
    /// Whether anything was received (or given up beyond the ISN).
    started: bool,
    /// Bytes of the head packet already read (stream API).
    head_offset: usize,
}

impl RecvBuffer {
    /// A buffer of `capacity_packets` (SRTO_RCVBUF in packets) for payloads of up to `max_payload` bytes, starting at `isn`.
    ///
    /// As libsrt, one slot is kept unused, so `capacity_packets − 1` packets
    /// from the read position on can be held (capacity is clamped to 2 ..= 2³⁰).
    /// Allocates nothing yet: slots and payload storage grow with the
    /// packets held, up to `(capacity_packets − 1) × max_payload` bytes.
    pub(crate) fn new(capacity_packets: usize, max_payload: usize, isn: SeqNumber) -> Self {
        let window = capacity_packets.clamp(2, MAX_CAPACITY) - 1;
        RecvBuffer {
            slots: VecDeque::new(),
            window,
            data: super::PayloadPool::new(window, max_payload),
            max_payload,
            read_pos: isn,
            end: 0,
            ack_off: 0,
            present: 0,
            bytes: 0,
            avg: AvgBufSize::default(),
            started: false,
            head_offset: 0,
        }
    }

    /// How many sequence numbers from the read position on the buffer can hold (capacity − 1).
    pub(crate) fn capacity(&self) -> usize {
        self.window
    }

    /// Bytes allocated for payloads so far (twice the most held at once, in pages of 64).
    #[cfg(test)]
    pub(crate) fn allocated_bytes(&self) -> usize {
        self.data.allocated_bytes()
    }

    /// The first sequence number neither delivered nor given up.
    pub(crate) fn read_pos(&self) -> SeqNumber {
        self.read_pos
    }

    /// The first sequence number not received, everything before being received or given up: what the receiver ACKs.
    pub(crate) fn ack_seq(&self) -> SeqNumber {
        self.read_pos + self.ack_off as i32
    }

    /// The highest sequence number received (or given up by a DROPREQ, as libsrt's `m_iRcvCurrSeqNo`), if any.
    pub(crate) fn highest_received(&self) -> Option<SeqNumber> {
        self.started.then(|| self.read_pos + (self.end as i32 - 1))
    }

    /// The gaps between the read position and the highest received packet, in order (for periodic NAKs).
    pub(crate) fn loss_ranges(&self) -> LossRanges<'_> {
        LossRanges {
            buf: self,
            off: self.ack_off,
        }
    }

    /// Free space for the ACK's buffer field: capacity − 1 − (acknowledged packets not yet read), as libsrt's `getAvailSize`.
    pub(crate) fn free_packets(&self) -> u32 {
        u32::try_from(self.window - self.ack_off).unwrap_or(u32::MAX)
    }

    /// Number of packets received and not yet read.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.present
    }

    /// Whether no packet waits to be read.
    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.present == 0
    }

    /// Payload bytes received and not yet read.
    #[cfg(test)]
    pub(crate) fn bytes(&self) -> usize {
        self.bytes
    }

    /// The timespan of the content with TSBPD, ms, as libsrt's
    /// `getTimespan_ms`: the delivery time of the highest received packet −
    /// that of the first present one + 1 ms; 0 without TSBPD, when empty,
    /// or when the highest received was given up or is due earlier.
    pub(crate) fn timespan_ms(&self, tsbpd: Option<&Tsbpd>) -> i32 {
        let (Some(tsbpd), Some(first)) = (tsbpd, self.first_present()) else {
            return 0;
        };
        let last = self.slots[self.end - 1];
        if last.state != SlotState::Present {
            return 0;
        }
        let start = tsbpd.delivery_time(self.slots[first].timestamp);
        let end = tsbpd.delivery_time(last.timestamp);
        match end.checked_duration_since(start) {
            Some(span) => span.as_millis() as i32 + 1,
            None => 0,
        }
    }

    /// Packets and payload bytes held and their [`timespan_ms`](Self::timespan_ms)
    /// (libsrt's `getRcvDataSize`: what `srt_bistats(.., instantaneous = 1)` reports).
    pub(crate) fn size(&self, tsbpd: Option<&Tsbpd>) -> BufSize {
        BufSize {
            pkts: self.present as i32,
            bytes: self.bytes as i32,
            ms: self.timespan_ms(tsbpd),
        }
    }

    /// Samples [`size`](Self::size) into the moving average at `now`, if due
    /// (libsrt's `updRcvAvgDataSize`, which only its TSBPD thread calls: without
    /// TSBPD the average stays 0).
    pub(crate) fn sample_avg(&mut self, now: Instant, tsbpd: &Tsbpd) {
        if self.avg.is_time_to_update(now) {
            let size = self.size(Some(tsbpd));
            self.avg.update(now, size);
        }
    }

    /// The moving average of [`size`](Self::size) as last sampled (libsrt's
    /// `getRcvAvgDataSize`, which does not sample: what `srt_bstats` reports).
    pub(crate) fn avg_size(&self) -> BufSize {
        self.avg.get()
    }

    fn payload(&self, off: usize, len: usize) -> &[u8] {
        self.data.get(self.slots[off].unit, len)
    }

    /// Sets the state of the slot at `off`, giving its payload unit back.
    fn clear(&mut self, off: usize, state: SlotState) {
        let slot = &mut self.slots[off];
        if slot.unit != NO_UNIT {
            self.data.give_back(slot.unit);
            slot.unit = NO_UNIT;
        }
        slot.state = state;
    }

    /// Makes `end` = `new_end` (≥ `end`, ≤ window), with empty slots.
    /// The records grow ahead of need (twice what is asked) so that a
    /// span does not reallocate when it peaks higher than it usually runs.
    fn extend_to(&mut self, new_end: usize) {
        self.end = new_end;
        if self.slots.len() < new_end {
            let want = (2 * new_end).min(self.window);
            if self.slots.capacity() < want {
                self.slots.reserve(want - self.slots.len());
            }
            self.slots.resize(new_end, EMPTY_SLOT);
        }
    }

    /// Stores a data packet that arrived at `arrival` (kept for future statistics; unused today).
    ///
    /// The payload is copied into a unit of the pool; nothing is allocated
    /// unless the buffer holds more packets than it ever did.
    pub(crate) fn insert(&mut self, packet: &DataPacket<'_>, _arrival: Instant) -> InsertOutcome {
        let len = packet.payload.len();
        if len > self.max_payload {
            return InsertOutcome::Oversized;
        }
        let off = packet.seq.offset_from(self.read_pos);
        if off < 0 {
            return InsertOutcome::Belated;
        }
        let off = off as usize;
        if off >= self.window {
            return InsertOutcome::OutOfWindow;
        }
        let i = off;
        let (newly_lost, filled_loss) = if off < self.end {
            match self.slots[i].state {
                SlotState::Present => return InsertOutcome::Duplicate,
                SlotState::Dropped => return InsertOutcome::Belated,
                SlotState::Empty => (None, true),
            }
        } else {
            let lost = (off > self.end).then(|| SeqRange {
                first: self.read_pos + self.end as i32,
                last: packet.seq - 1,
            });
            (lost, false)
        };
        // At most `window` packets are present, each with one unit, so the
        // pool (of `window` units) always has one.
        let Some(unit) = self.data.take() else {
            return InsertOutcome::OutOfWindow;
        };
        if off >= self.end {
            self.extend_to(off + 1);
            self.started = true;
        }
        self.data.get_mut(unit)[..len].copy_from_slice(packet.payload);
        self.slots[i] = Slot {
            state: SlotState::Present,
            len,
            unit,
            msgno: packet.msg_number,
            timestamp: packet.timestamp,
            position: packet.position,
            in_order: packet.in_order,
        };
        self.present += 1;
        self.bytes += len;
        self.update_ack();
        InsertOutcome::Inserted {
            newly_lost,
            filled_loss,
        }
    }

    /// Moves `ack_off` over present and given-up slots.
    fn update_ack(&mut self) {
        while self.ack_off < self.end && self.slots[self.ack_off].state != SlotState::Empty {
            self.ack_off += 1;
        }
    }

    /// Moves the read position `n` (≤ `end`) slots on; the caller has emptied them.
    fn advance(&mut self, n: usize) {
        for _ in 0..n {
            if let Some(slot) = self.slots.pop_front() {
                if slot.unit != NO_UNIT {
                    self.data.give_back(slot.unit);
                }
            }
        }
        self.read_pos = self.read_pos + n as i32;
        self.end -= n;
        self.ack_off = self.ack_off.saturating_sub(n);
        self.update_ack();
    }

    /// Releases given-up slots at the read position (libsrt's `releaseNextFillerEntries`).
    fn release_fillers(&mut self) {
        let mut n = 0;
        while n < self.end {
            let i = n;
            if self.slots[i].state != SlotState::Dropped {
                break;
            }
            self.clear(i, SlotState::Empty);
            n += 1;
        }
        if n > 0 {
            self.advance(n);
        }
    }

    /// Offset of the first present packet.
    fn first_present(&self) -> Option<usize> {
        if self.present == 0 {
            return None;
        }
        (0..self.end).find(|&off| self.slots[off].state == SlotState::Present)
    }

    /// Copies out and releases the packet at the read position (which must be present).
    fn deliver_head(&mut self, out: &mut [u8], origin: Option<Instant>) -> RecvInfo {
        let i = 0;
        let slot = self.slots[i];
        let n = slot.len.min(out.len());
        out[..n].copy_from_slice(self.payload(i, n));
        let info = RecvInfo {
            len: n,
            truncated: n < slot.len,
            seq: self.read_pos,
            msgno: slot.msgno,
            timestamp: slot.timestamp,
            origin,
            position: slot.position,
        };
        self.clear(i, SlotState::Empty);
        self.present -= 1;
        // A stream read may have taken the start of the packet already.
        self.bytes -= slot.len - self.head_offset;
        self.head_offset = 0;
        self.advance(1);
        self.release_fillers();
        info
    }

    /// When the first present packet becomes deliverable (its delivery time, gaps before it notwithstanding).
    pub(crate) fn next_delivery(&self, tsbpd: &Tsbpd) -> Option<Instant> {
        let off = self.first_present()?;
        Some(tsbpd.delivery_time(self.slots[off].timestamp))
    }

    /// TSBPD delivery at `now`: the next packet if due, else the gap before a due packet, else `NotReady`.
    ///
    /// A packet is due when its delivery time is ≤ `now`. If missing packets
    /// precede the first present one and it is due, they are dropped
    /// (`Dropped`; call again to get the packet). Calls `tsbpd.update_wrap`
    /// for each delivered packet. The payload goes to `out`; if `out` is too
    /// small, the rest is lost and [`RecvInfo::truncated`] is set (as libsrt).
    pub(crate) fn pop_ready(
        &mut self,
        now: Instant,
        tsbpd: &mut Tsbpd,
        out: &mut [u8],
    ) -> PopOutcome {
        if let Some((range, packets)) = self.drop_too_late(now, tsbpd) {
            return PopOutcome::Dropped { range, packets };
        }
        let Some(off) = self.first_present() else {
            return PopOutcome::NotReady;
        };
        let ts = self.slots[off].timestamp;
        if off > 0 || tsbpd.delivery_time(ts) > now {
            return PopOutcome::NotReady;
        }
        let origin = tsbpd.origin_time(ts);
        tsbpd.update_wrap(ts);
        PopOutcome::Delivered(self.deliver_head(out, Some(origin)))
    }

    /// Too-late drop without delivering: when the first present packet is
    /// due and packets before it are missing, gives those up and returns
    /// the range and how many were missing.
    pub(crate) fn drop_too_late(&mut self, now: Instant, tsbpd: &Tsbpd) -> Option<(SeqRange, u32)> {
        let off = self.first_present()?;
        if off == 0 {
            return None;
        }
        let ts = self.slots[off].timestamp;
        if tsbpd.delivery_time(ts) > now {
            return None;
        }
        let range = SeqRange {
            first: self.read_pos,
            last: self.read_pos + (off as i32 - 1),
        };
        let mut missing = 0;
        for o in 0..off {
            let i = o;
            if self.slots[i].state == SlotState::Empty {
                missing += 1;
            }
            self.clear(i, SlotState::Empty);
        }
        self.advance(off);
        Some((range, missing))
    }

    /// Message API without TSBPD (file mode): the next complete message
    /// (`First ..= Last`, or `Solo`), copied whole into `out` (truncated,
    /// with the flag set, if `out` is smaller). With `unordered`, a complete
    /// message sent with the in-order flag clear may be delivered ahead of
    /// incomplete earlier ones (`SRT_MSGCTRL::inorder` false). Partial
    /// messages are never delivered: one broken by a DROPREQ is discarded.
    pub(crate) fn pop_message(&mut self, out: &mut [u8], unordered: bool) -> Option<RecvInfo> {
        self.discard_broken_head();
        if let Some(n) = self.complete_message_at(0) {
            return Some(self.take_message(0, n, out));
        }
        if !unordered {
            return None;
        }
        for off in 1..self.end {
            let slot = self.slots[off];
            if slot.state == SlotState::Present && slot.position.is_first() && !slot.in_order {
                if let Some(n) = self.complete_message_at(off) {
                    return Some(self.take_message(off, n, out));
                }
            }
        }
        None
    }

    /// The number of packets of the complete message starting at `off`.
    fn complete_message_at(&self, off: usize) -> Option<usize> {
        if off >= self.end {
            return None;
        }
        let first = self.slots[off];
        if first.state != SlotState::Present || !first.position.is_first() {
            return None;
        }
        let mut n = 0;
        loop {
            if off + n >= self.end {
                return None;
            }
            let slot = self.slots[off + n];
            if slot.state != SlotState::Present || slot.msgno != first.msgno {
                return None;
            }
            n += 1;
            if slot.position.is_last() {
                return Some(n);
            }
        }
    }

    /// Copies out the `n` packets of the message at `off` and releases them.
    fn take_message(&mut self, off: usize, n: usize, out: &mut [u8]) -> RecvInfo {
        let first = self.slots[off];
        let mut len = 0;
        let mut truncated = false;
        for k in 0..n {
            let i = off + k;
            let slot = self.slots[i];
            let take = slot.len.min(out.len() - len);
            truncated |= take < slot.len;
            out[len..len + take].copy_from_slice(self.payload(i, take));
            len += take;
            // Taken ahead of the read position: kept as a filler until the
            // read position passes it (it still counts as received).
            let state = if off == 0 {
                SlotState::Empty
            } else {
                SlotState::Dropped
            };
            self.clear(i, state);
            self.present -= 1;
            self.bytes -= slot.len;
        }
        let info = RecvInfo {
            len,
            truncated,
            seq: self.read_pos + off as i32,
            msgno: first.msgno,
            timestamp: first.timestamp,
            origin: None,
            position: first.position,
        };
        if off == 0 {
            self.advance(n);
        }
        self.release_fillers();
        info
    }

    /// Discards packets at the read position that can never complete a
    /// message: a middle or last packet whose first was given up, or a
    /// message with a given-up packet inside.
    pub(crate) fn discard_broken_head(&mut self) {
        loop {
            self.release_fillers();
            if self.end == 0 {
                return;
            }
            let head = self.slots[0];
            if head.state != SlotState::Present {
                return;
            }
            let mut broken = !head.position.is_first();
            let mut n = 0;
            while n < self.end {
                let slot = self.slots[n];
                match slot.state {
                    SlotState::Empty => break,
                    SlotState::Dropped => {
                        broken = true;
                        break;
                    }
                    SlotState::Present if slot.msgno != head.msgno => break,
                    SlotState::Present => {}
                }
                n += 1;
                if slot.position.is_last() {
                    break;
                }
            }
            if !broken {
                return;
            }
            for k in 0..n.max(1) {
                let i = k;
                if self.slots[i].state == SlotState::Present {
                    self.present -= 1;
                    self.bytes -= self.slots[i].len;
                }
                self.clear(i, SlotState::Dropped);
            }
        }
    }

    /// Stream API without TSBPD: as many contiguous bytes as fit in `out`,
    /// across packet boundaries; a packet read in part is finished by the
    /// next call. Returns 0 when nothing is ready.
    pub(crate) fn pop_bytes(&mut self, out: &mut [u8]) -> usize {
        let mut len = 0;
        while len < out.len() && self.head_present() {
            let i = 0;
            let slot = self.slots[i];
            let start = self.head_offset;
            let take = (slot.len - start).min(out.len() - len);
            let src = self.payload(i, start + take);
            out[len..len + take].copy_from_slice(&src[start..start + take]);
            len += take;
            self.bytes -= take;
            if start + take == slot.len {
                self.head_offset = 0;
                self.clear(i, SlotState::Empty);
                self.present -= 1;
                self.advance(1);
                self.release_fillers();
            } else {
                self.head_offset = start + take;
            }
        }
        len
    }

    /// Whether [`RecvBuffer::pop_message`] would deliver a message now.
    pub(crate) fn message_ready(&self) -> bool {
        if self.complete_message_at(0).is_some() {
            return true;
        }
        (1..self.end).any(|off| {
            let slot = self.slots[off];
            slot.state == SlotState::Present
                && slot.position.is_first()
                && !slot.in_order
                && self.complete_message_at(off).is_some()
        })
    }

    /// Whether a packet is present at the read position.
    pub(crate) fn head_present(&self) -> bool {
        self.end > 0 && self.slots[0].state == SlotState::Present
    }

    /// In-order delivery without TSBPD (file mode): the packet at the read position, if received.
    ///
    /// A too-small `out` truncates as in [`RecvBuffer::pop_ready`].
    #[cfg(test)]
    pub(crate) fn pop_in_order(&mut self, out: &mut [u8]) -> Option<RecvInfo> {
        if self.end == 0 || self.slots[0].state != SlotState::Present {
            return None;
        }
        Some(self.deliver_head(out, None))
    }

    /// Gives up `first ..= last` (a DROPREQ); returns how many of them were newly given up.
    ///
    /// As libsrt's `dropMessage(.., KEEP_EXISTING)`: missing packets are
    /// marked given up (no longer lost: the ACK moves past them, a late
    /// arrival is `Belated`); present Solo packets are kept; present packets
    /// of longer messages are discarded (their message can no longer be
    /// completed) and counted too. The range is clipped to the buffer: a range
    /// before the read position or starting beyond the buffer's end is a no-op
    /// (libsrt 2e2ab20e). If it starts at or before the next expected
    /// sequence number and reaches beyond the highest received, the highest
    /// received moves to its (clipped) end, as libsrt's `m_iRcvCurrSeqNo`;
    /// a part that lies beyond a gap after the highest received is ignored.
    ///
    /// libsrt applies this to the buffer only without TSBPD or without
    /// too-late drop; in live mode it only clears loss records (the
    /// connection decides which to call).
    pub(crate) fn drop_range(&mut self, first: SeqNumber, last: SeqNumber) -> u32 {
        let window = self.window;
        let a = first.offset_from(self.read_pos);
        let b = last.offset_from(self.read_pos);
        if b < a || b < 0 || a >= window as i32 {
            return 0;
        }
        let start = a.max(0) as usize;
        let stop = (b as usize).min(window - 1);
        if start > self.end {
            return 0;
        }
        if stop >= self.end {
            self.extend_to(stop + 1);
            self.started = true;
        }
        let mut count = 0;
        for off in start..=stop {
            let slot = self.slots[off];
            match slot.state {
                SlotState::Empty => {
                    self.clear(off, SlotState::Dropped);
                    count += 1;
                }
                SlotState::Present if slot.position != PacketPosition::Solo => {
                    self.clear(off, SlotState::Dropped);
                    self.present -= 1;
                    self.bytes -= slot.len;
                    count += 1;
                }
                SlotState::Present | SlotState::Dropped => {}
            }
        }
        self.update_ack();
        self.release_fillers();
        count
    }

    /// The sequence number [`pop_ready`](Self::pop_ready) would deliver at
    /// `now` (a present packet at the read position whose time has come),
    /// without taking it: a socket group picks the member with the
    /// earliest such packet.
    pub(crate) fn head_due(&self, now: Instant, tsbpd: &Tsbpd) -> Option<SeqNumber> {
        let head = self.slots.front()?;
        (self.end > 0
            && head.state == SlotState::Present
            && tsbpd.delivery_time(head.timestamp) <= now)
            .then_some(self.read_pos)
    }

    /// Starts over at `seq` if nothing was received yet (a socket group
    /// member takes the group's sequence, libsrt's `setInitialRcvSeq`);
    /// false, changing nothing, otherwise.
    pub(crate) fn restart_at(&mut self, seq: SeqNumber) -> bool {
        if self.present > 0 || self.end > 0 {
            return false;
        }
        self.read_pos = seq;
        self.ack_off = 0;
        true
    }

    /// Moves the read position forward to `seq` (nothing if it is not
    /// ahead), discarding what lies before it, present or missing: a socket
    /// group member skips what the group already delivered from another
    /// member (libsrt's `rcvDropTooLateUpTo` with `DROP_DISCARD`), or an
    /// idle member follows the active one (`updateIdleLinkFrom`). Returns
    /// how many present packets were discarded.
    pub(crate) fn skip_to(&mut self, seq: SeqNumber) -> usize {
        let ahead = seq.offset_from(self.read_pos);
        if ahead <= 0 {
            return 0;
        }
        let ahead = ahead as usize;
        let n = ahead.min(self.end);
        let mut discarded = 0;
        for off in 0..n {
            let slot = self.slots[off];
            if slot.state == SlotState::Present {
                self.present -= 1;
                self.bytes -= slot.len;
                discarded += 1;
            }
            self.clear(off, SlotState::Empty);
        }
        if n > 0 {
            // A partly read head (stream API): its read part was not counted.
            self.bytes += self.head_offset;
            self.head_offset = 0;
            self.advance(n);
        }
        if ahead > n {
            // Beyond everything held: every slot left is empty.
            self.read_pos = seq;
        }
        self.started = true;
        self.release_fillers();
        discarded
    }
}

/// The gaps of a [`RecvBuffer`], in order (see [`RecvBuffer::loss_ranges`]).
#[derive(Clone, Debug)]
pub(crate) struct LossRanges<'a> {
    buf: &'a RecvBuffer,
    off: usize,
}

impl Iterator for LossRanges<'_> {
    type Item = SeqRange;

    fn next(&mut self) -> Option<SeqRange> {
        let buf = self.buf;
        let empty = |off: usize| buf.slots[off].state == SlotState::Empty;
        while self.off < buf.end && !empty(self.off) {
            self.off += 1;
        }
        if self.off >= buf.end {
            return None;
        }
        let start = self.off;
        while self.off < buf.end && empty(self.off) {
            self.off += 1;
        }
        Some(SeqRange {
            first: buf.read_pos + start as i32,
            last: buf.read_pos + (self.off as i32 - 1),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::{DataKeyFlags, SocketId};
    use proptest::prelude::*;
    use std::time::Duration;

    const LATENCY_MS: u64 = 120;

    fn seq(n: u32) -> SeqNumber {
        SeqNumber::new_truncate(n)
    }

    fn range(a: u32, b: u32) -> SeqRange {
        SeqRange::new(seq(a), seq(b)).unwrap()
    }

    /// A live packet with payload `payload`, stamped `ts_us`.
    fn pkt(s: SeqNumber, ts_us: u64, payload: &[u8]) -> DataPacket<'_> {
        DataPacket {
            seq: s,
            position: PacketPosition::Solo,
            in_order: false,
            key: DataKeyFlags::Clear,
            retransmitted: false,
            msg_number: MsgNumber::new_truncate(s.as_u32() % 1000 + 1),
            timestamp: Timestamp::from_micros(ts_us),
            dest_socket: SocketId(1),
            payload,
        }
    }

    struct Live {
        t0: Instant,
        tsbpd: Tsbpd,
        buf: RecvBuffer,
        out: [u8; 1500],
    }

    impl Live {
        fn new(cap: usize, isn: SeqNumber) -> Self {
            let t0 = Instant::now();
            Live {
                t0,
                tsbpd: Tsbpd::new(t0, Duration::from_millis(LATENCY_MS), true),
                buf: RecvBuffer::new(cap, 1456, isn),
                out: [0; 1500],
            }
        }

        fn at(&self, us: u64) -> Instant {
            self.t0 + Duration::from_micros(us)
        }

        /// Inserts seq `s` stamped `ts_ms` ms (payload = its seq bytes), arriving at `ts_ms`.
        fn put(&mut self, s: SeqNumber, ts_ms: u64) -> InsertOutcome {
            self.put_us(s, ts_ms * 1000)
        }

        /// Inserts seq `s` stamped `ts_us` µs (payload = its seq bytes).
        fn put_us(&mut self, s: SeqNumber, ts_us: u64) -> InsertOutcome {
            let payload = s.as_u32().to_be_bytes();
            let arrival = self.at(ts_us);
            self.buf.insert(&pkt(s, ts_us, &payload), arrival)
        }

        fn pop(&mut self, now_us: u64) -> PopOutcome {
            let now = self.at(now_us);
            self.buf.pop_ready(now, &mut self.tsbpd, &mut self.out)
        }

        fn delivered(&mut self, now_us: u64) -> SeqNumber {
            match self.pop(now_us) {
                PopOutcome::Delivered(info) => {
                    assert_eq!(&self.out[..info.len], &info.seq.as_u32().to_be_bytes());
                    info.seq
                }
                other => panic!("expected a delivery at {now_us} µs, got {other:?}"),
            }
        }
    }

    fn inserted(newly_lost: Option<SeqRange>, filled_loss: bool) -> InsertOutcome {
        InsertOutcome::Inserted {
            newly_lost,
            filled_loss,
        }
    }

    #[test]
    fn size_counts_real_payload_bytes_and_the_tsbpd_span() {
        let mut l = Live::new(64, seq(10));
        let size = |l: &Live| l.buf.size(Some(&l.tsbpd));
        assert_eq!(size(&l), BufSize::default());
        let (a, b, c) = ([1u8; 100], [2u8; 1316], [3u8; 7]);
        l.buf.insert(&pkt(seq(10), 1_000, &a), l.at(1_000));
        // One packet: 1 ms, the duration libsrt gives a packet.
        assert_eq!(
            size(&l),
            BufSize {
                pkts: 1,
                bytes: 100,
                ms: 1
            }
        );
        // 11 and 12 missing: a gap holds no bytes.
        l.buf.insert(&pkt(seq(13), 31_700, &b), l.at(31_700));
        assert_eq!(
            size(&l),
            BufSize {
                pkts: 2,
                bytes: 1416,
                ms: 31
            }
        );
        l.buf.insert(&pkt(seq(12), 20_000, &c), l.at(31_800));
        assert_eq!(
            size(&l),
            BufSize {
                pkts: 3,
                bytes: 1423,
                ms: 31
            }
        );
        // Without TSBPD there is no timespan.
        assert_eq!(
            l.buf.size(None),
            BufSize {
                pkts: 3,
                bytes: 1423,
                ms: 0
            }
        );
        // Delivering 10 leaves the gap at 11 first: the span starts at 12.
        let delivered = |l: &mut Live, now_us: u64| match l.pop(now_us) {
            PopOutcome::Delivered(info) => info.seq,
            other => panic!("expected a delivery at {now_us} µs, got {other:?}"),
        };
        assert_eq!(delivered(&mut l, 1_000 + LATENCY_MS * 1000), seq(10));
        assert_eq!(
            size(&l),
            BufSize {
                pkts: 2,
                bytes: 1323,
                ms: 12
            }
        );
        // The too-late drop of 11 releases nothing held; 12 and 13 go.
        let due = 31_700 + LATENCY_MS * 1000;
        assert!(matches!(l.pop(due), PopOutcome::Dropped { packets: 1, .. }));
        assert_eq!(delivered(&mut l, due), seq(12));
        assert_eq!(delivered(&mut l, due), seq(13));
        assert_eq!(size(&l), BufSize::default());
    }

    #[test]
    fn average_is_sampled_by_the_owner_and_lags() {
        let mut l = Live::new(64, seq(0));
        let payload = [0u8; 1000];
        l.buf.insert(&pkt(seq(0), 0, &payload), l.t0);
        l.buf.sample_avg(l.t0, &l.tsbpd);
        for i in 1..50u32 {
            let ts = u64::from(i) * 400;
            l.buf.insert(&pkt(seq(i), ts, &payload), l.at(ts));
            l.buf.sample_avg(l.at(ts), &l.tsbpd);
        }
        // 50 packets within 20 ms: no new sample since the first.
        assert_eq!(
            l.buf.size(Some(&l.tsbpd)),
            BufSize {
                pkts: 50,
                bytes: 50_000,
                ms: 20
            }
        );
        assert_eq!(
            l.buf.avg_size(),
            BufSize {
                pkts: 1,
                bytes: 1000,
                ms: 1
            }
        );
        // At 25 ms: (1·975 + 50·25) / 1000 = 2.225.
        l.buf.sample_avg(l.at(25_000), &l.tsbpd);
        assert_eq!(
            l.buf.avg_size(),
            BufSize {
                pkts: 2,
                bytes: 2225,
                ms: 1
            }
        );
    }

    #[test]
    fn stream_reads_release_bytes_as_they_are_read() {
        let mut b = RecvBuffer::new(8, 16, seq(0));
        let now = Instant::now();
        b.insert(&pkt(seq(0), 0, b"0123456789"), now);
        b.insert(&pkt(seq(1), 0, b"abc"), now);
        assert_eq!((b.len(), b.bytes()), (2, 13));
        let mut out = [0u8; 4];
        assert_eq!(b.pop_bytes(&mut out), 4);
        assert_eq!((b.len(), b.bytes()), (2, 9));
        let mut out = [0u8; 8];
        assert_eq!(b.pop_bytes(&mut out), 8);
        assert_eq!((b.len(), b.bytes()), (1, 1));
        assert_eq!(b.pop_bytes(&mut out), 1);
        assert_eq!((b.len(), b.bytes()), (0, 0));
    }

    #[test]
    fn delivers_in_order_exactly_at_delivery_time() {
        let mut l = Live::new(64, seq(100));
        assert_eq!(l.buf.ack_seq(), seq(100));
        assert_eq!(l.buf.highest_received(), None);
        assert!(l.buf.is_empty());
        for i in 0..3 {
            assert_eq!(
                l.put(seq(100 + i), 10 * u64::from(i)),
                inserted(None, false)
            );
        }
        assert_eq!(l.buf.len(), 3);
        assert_eq!(l.buf.ack_seq(), seq(103));
        assert_eq!(l.buf.highest_received(), Some(seq(102)));
        assert_eq!(l.buf.free_packets(), 63 - 3);
        assert_eq!(l.buf.loss_ranges().count(), 0);
        let due = l.at(LATENCY_MS * 1000);
        assert_eq!(l.buf.next_delivery(&l.tsbpd), Some(due));
        // One microsecond early: nothing.
        assert_eq!(l.pop(LATENCY_MS * 1000 - 1), PopOutcome::NotReady);
        match l.pop(LATENCY_MS * 1000) {
            PopOutcome::Delivered(info) => {
                assert_eq!(info.seq, seq(100));
                assert_eq!(info.len, 4);
                assert!(!info.truncated);
                assert_eq!(info.timestamp, Timestamp::from_u32(0));
                assert_eq!(info.origin, Some(l.t0));
                assert_eq!(info.position, PacketPosition::Solo);
                assert_eq!(info.msgno, MsgNumber::new(101).unwrap());
            }
            other => panic!("{other:?}"),
        }
        // The next one is due 10 ms later.
        assert_eq!(l.pop(LATENCY_MS * 1000 + 9_999), PopOutcome::NotReady);
        assert_eq!(l.delivered(LATENCY_MS * 1000 + 10_000), seq(101));
        assert_eq!(l.delivered(LATENCY_MS * 1000 + 50_000), seq(102));
        assert_eq!(l.pop(u64::MAX / 4), PopOutcome::NotReady);
        assert!(l.buf.is_empty());
        assert_eq!(l.buf.next_delivery(&l.tsbpd), None);
        assert_eq!(l.buf.read_pos(), seq(103));
        assert_eq!(l.buf.ack_seq(), seq(103));
        assert_eq!(l.buf.highest_received(), Some(seq(102)));
        assert_eq!(l.buf.free_packets(), 63);
    }

    #[test]
    fn retransmission_fills_the_gap_and_order_is_kept() {
        let mut l = Live::new(64, seq(0));
        assert_eq!(l.put(seq(0), 0), inserted(None, false));
        assert_eq!(l.put(seq(3), 3), inserted(Some(range(1, 2)), false));
        assert_eq!(l.put(seq(6), 6), inserted(Some(range(4, 5)), false));
        assert_eq!(l.buf.ack_seq(), seq(1));
        assert_eq!(l.buf.highest_received(), Some(seq(6)));
        assert!(l.buf.loss_ranges().eq([range(1, 2), range(4, 5)]));
        assert_eq!(l.buf.free_packets(), 63 - 1);
        // Retransmissions arrive.
        assert_eq!(l.put(seq(2), 2), inserted(None, true));
        assert!(l.buf.loss_ranges().eq([range(1, 1), range(4, 5)]));
        assert_eq!(l.put(seq(1), 1), inserted(None, true));
        assert_eq!(l.buf.ack_seq(), seq(4));
        assert!(l.buf.loss_ranges().eq([range(4, 5)]));
        assert_eq!(l.put(seq(5), 5), inserted(None, true));
        assert_eq!(l.put(seq(4), 4), inserted(None, true));
        assert_eq!(l.buf.ack_seq(), seq(7));
        assert_eq!(l.buf.loss_ranges().count(), 0);
        for i in 0..7 {
            assert_eq!(l.delivered((LATENCY_MS + i) * 1000), seq(i as u32));
        }
    }

    #[test]
    fn too_late_drop_when_a_later_packet_is_due() {
        let mut l = Live::new(64, seq(10));
        l.put(seq(10), 0);
        l.put(seq(13), 30);
        l.put(seq(14), 40);
        assert_eq!(l.delivered(LATENCY_MS * 1000), seq(10));
        // 11 and 12 are missing; 13 is due at 150 ms. Before that, nothing.
        assert_eq!(
            l.buf.next_delivery(&l.tsbpd),
            Some(l.at((LATENCY_MS + 30) * 1000))
        );
        assert_eq!(l.pop((LATENCY_MS + 30) * 1000 - 1), PopOutcome::NotReady);
        assert_eq!(l.buf.ack_seq(), seq(11));
        // At 150 ms exactly, the gap goes, then 13 comes.
        assert_eq!(
            l.pop((LATENCY_MS + 30) * 1000),
            PopOutcome::Dropped {
                range: range(11, 12),
                packets: 2
            }
        );
        assert_eq!(l.buf.ack_seq(), seq(15));
        assert_eq!(l.buf.loss_ranges().count(), 0);
        assert_eq!(l.delivered((LATENCY_MS + 30) * 1000), seq(13));
        // A retransmission of 12 now is belated.
        assert_eq!(l.put(seq(12), 20), InsertOutcome::Belated);
        assert_eq!(l.put(seq(13), 30), InsertOutcome::Belated);
        assert_eq!(l.delivered((LATENCY_MS + 40) * 1000), seq(14));
    }

    #[test]
    fn duplicates_are_ignored() {
        let mut l = Live::new(64, seq(0));
        assert_eq!(l.put(seq(0), 0), inserted(None, false));
        assert_eq!(l.put(seq(0), 0), InsertOutcome::Duplicate);
        assert_eq!(l.put(seq(2), 2), inserted(Some(range(1, 1)), false));
        assert_eq!(l.put(seq(2), 2), InsertOutcome::Duplicate);
        assert_eq!(l.buf.len(), 2);
        assert_eq!(l.delivered(LATENCY_MS * 1000), seq(0));
        assert_eq!(l.put(seq(0), 0), InsertOutcome::Belated);
    }

    #[test]
    fn sequence_numbers_wrap() {
        let isn = SeqNumber::MAX - 2;
        let mut l = Live::new(16, isn);
        assert_eq!(l.put(isn, 0), inserted(None, false));
        // MAX − 1 and MAX lost, 0 arrives.
        assert_eq!(
            l.put(seq(0), 3),
            inserted(Some(SeqRange::new(isn + 1, SeqNumber::MAX).unwrap()), false)
        );
        assert_eq!(l.put(seq(1), 4), inserted(None, false));
        assert_eq!(l.buf.highest_received(), Some(seq(1)));
        assert_eq!(l.buf.ack_seq(), isn + 1);
        assert_eq!(l.put(SeqNumber::MAX, 2), inserted(None, true));
        assert!(l.buf.loss_ranges().eq([SeqRange::single(isn + 1)]));
        assert_eq!(l.delivered(LATENCY_MS * 1000), isn);
        assert_eq!(
            l.pop((LATENCY_MS + 2) * 1000),
            PopOutcome::Dropped {
                range: SeqRange::single(isn + 1),
                packets: 1
            }
        );
        assert_eq!(l.delivered((LATENCY_MS + 2) * 1000), SeqNumber::MAX);
        assert_eq!(l.delivered((LATENCY_MS + 3) * 1000), seq(0));
        assert_eq!(l.delivered((LATENCY_MS + 4) * 1000), seq(1));
        assert_eq!(l.buf.ack_seq(), seq(2));
        assert_eq!(l.buf.read_pos(), seq(2));
        // Behind, across the wrap: belated.
        assert_eq!(l.put(SeqNumber::MAX, 2), InsertOutcome::Belated);
    }

    #[test]
    fn out_of_window_and_oversized() {
        // Capacity 8 holds offsets 0 ..= 6 (libsrt keeps one slot free).
        let mut l = Live::new(8, seq(0));
        assert_eq!(l.buf.capacity(), 7);
        assert_eq!(l.buf.free_packets(), 7);
        assert_eq!(l.put(seq(7), 7), InsertOutcome::OutOfWindow);
        assert_eq!(l.put(seq(1_000_000), 7), InsertOutcome::OutOfWindow);
        assert_eq!(l.buf.highest_received(), None);
        assert_eq!(l.put(seq(6), 6), inserted(Some(range(0, 5)), false));
        for i in 0..6 {
            l.put(seq(i), u64::from(i));
        }
        assert_eq!(l.buf.free_packets(), 0);
        assert_eq!(l.buf.ack_seq(), seq(7));
        assert_eq!(l.delivered(LATENCY_MS * 1000), seq(0));
        assert_eq!(l.buf.free_packets(), 1);
        // The window moved by one.
        assert_eq!(l.put(seq(8), 8), InsertOutcome::OutOfWindow);
        assert_eq!(l.put(seq(7), 7), inserted(None, false));
        let big = [0u8; 1457];
        assert_eq!(
            l.buf.insert(&pkt(seq(8), 0, &big), l.t0),
            InsertOutcome::Oversized
        );
        // Tiny capacities are clamped to one usable slot.
        let mut b = RecvBuffer::new(0, 10, seq(5));
        assert_eq!(b.capacity(), 1);
        assert_eq!(
            b.insert(&pkt(seq(6), 0, b"x"), l.t0),
            InsertOutcome::OutOfWindow
        );
        assert!(matches!(
            b.insert(&pkt(seq(5), 0, b"x"), l.t0),
            InsertOutcome::Inserted { .. }
        ));
        assert_eq!(b.free_packets(), 0);
        let mut out = [0u8; 4];
        assert_eq!(b.pop_in_order(&mut out).map(|i| i.seq), Some(seq(5)));
        assert!(matches!(
            b.insert(&pkt(seq(6), 0, b"y"), l.t0),
            InsertOutcome::Inserted { .. }
        ));
    }

    #[test]
    fn too_small_output_truncates() {
        let mut l = Live::new(8, seq(0));
        l.buf.insert(&pkt(seq(0), 0, b"abcdef"), l.t0);
        let mut out = [0u8; 4];
        match l
            .buf
            .pop_ready(l.at(LATENCY_MS * 1000), &mut l.tsbpd, &mut out)
        {
            PopOutcome::Delivered(info) => {
                assert_eq!((info.len, info.truncated), (4, true));
                assert_eq!(&out, b"abcd");
            }
            other => panic!("{other:?}"),
        }
        l.buf.insert(&pkt(seq(1), 0, b"xyz"), l.t0);
        let info = l.buf.pop_in_order(&mut []).unwrap();
        assert_eq!((info.len, info.truncated, info.seq), (0, true, seq(1)));
        assert_eq!(info.origin, None);
        assert!(l.buf.is_empty());
    }

    #[test]
    fn file_mode_delivers_contiguous_packets_at_once() {
        let mut b = RecvBuffer::new(32, 100, seq(50));
        let t = Instant::now();
        let mut out = [0u8; 100];
        assert_eq!(b.pop_in_order(&mut out), None);
        b.insert(&pkt(seq(51), 0, b"b"), t);
        assert_eq!(b.pop_in_order(&mut out), None);
        b.insert(&pkt(seq(50), 0, b"a"), t);
        b.insert(&pkt(seq(53), 0, b"d"), t);
        let first = b.pop_in_order(&mut out).unwrap();
        assert_eq!((first.seq, &out[..first.len]), (seq(50), &b"a"[..]));
        assert_eq!(b.pop_in_order(&mut out).unwrap().seq, seq(51));
        // 52 is missing: no delivery, however long we wait.
        assert_eq!(b.pop_in_order(&mut out), None);
        assert_eq!(b.ack_seq(), seq(52));
        b.insert(&pkt(seq(52), 0, b"c"), t);
        assert_eq!(b.pop_in_order(&mut out).unwrap().seq, seq(52));
        assert_eq!(b.pop_in_order(&mut out).unwrap().seq, seq(53));
        assert_eq!(b.pop_in_order(&mut out), None);
    }

    #[test]
    fn dropreq_gives_up_missing_packets() {
        let mut b = RecvBuffer::new(32, 100, seq(0));
        let t = Instant::now();
        let mut out = [0u8; 100];
        for s in [0, 1, 4, 6] {
            b.insert(&pkt(seq(s), 0, b"p"), t);
        }
        assert!(b.loss_ranges().eq([range(2, 3), range(5, 5)]));
        // 2..=4: 2 and 3 missing, 4 present (Solo, kept).
        assert_eq!(b.drop_range(seq(2), seq(4)), 2);
        assert_eq!(b.ack_seq(), seq(5));
        assert!(b.loss_ranges().eq([range(5, 5)]));
        assert_eq!(b.len(), 4);
        // A late arrival of a given-up packet is belated; repeating the request does nothing.
        assert_eq!(b.insert(&pkt(seq(3), 0, b"p"), t), InsertOutcome::Belated);
        assert_eq!(b.drop_range(seq(2), seq(4)), 0);
        // File mode reads across the given-up packets.
        let read: Vec<_> = std::iter::from_fn(|| b.pop_in_order(&mut out).map(|i| i.seq)).collect();
        assert_eq!(read, [seq(0), seq(1), seq(4)]);
        assert_eq!(b.read_pos(), seq(5));
        assert_eq!((b.len(), b.bytes()), (1, 1));
        // Given up at the read position: the read position moves at once.
        assert_eq!(b.drop_range(seq(5), seq(5)), 1);
        assert_eq!(b.read_pos(), seq(6));
        assert_eq!(b.pop_in_order(&mut out).unwrap().seq, seq(6));
        assert!(b.is_empty());
        // Entirely before the read position, or reversed: no-op.
        assert_eq!(b.drop_range(seq(0), seq(6)), 0);
        assert_eq!(b.drop_range(seq(9), seq(8)), 0);
        assert_eq!(b.read_pos(), seq(7));
    }

    #[test]
    fn dropreq_beyond_highest_received_moves_it_but_never_past_the_buffer() {
        let mut b = RecvBuffer::new(16, 100, seq(0));
        let t = Instant::now();
        b.insert(&pkt(seq(0), 0, b"p"), t);
        // Starts right after the highest received: it moves (libsrt's m_iRcvCurrSeqNo).
        assert_eq!(b.drop_range(seq(1), seq(3)), 3);
        assert_eq!(b.highest_received(), Some(seq(3)));
        assert_eq!(b.ack_seq(), seq(4));
        // The next packet reveals no loss.
        assert_eq!(
            b.insert(&pkt(seq(4), 0, b"p"), t),
            InsertOutcome::Inserted {
                newly_lost: None,
                filled_loss: false
            }
        );
        // Starting beyond the buffer's end (read pos 0 + 15): no-op (libsrt 2e2ab20e).
        assert_eq!(b.drop_range(seq(15), seq(100)), 0);
        assert_eq!(b.drop_range(seq(1000), seq(2000)), 0);
        assert_eq!(b.highest_received(), Some(seq(4)));
        // Starting after a gap beyond the highest: ignored.
        assert_eq!(b.drop_range(seq(7), seq(9)), 0);
        assert_eq!(b.highest_received(), Some(seq(4)));
        // Reaching beyond the end: clipped to the last slot (offset 14).
        assert_eq!(b.drop_range(seq(5), seq(1000)), 10);
        assert_eq!(b.highest_received(), Some(seq(14)));
        assert_eq!(b.ack_seq(), seq(15));
        assert_eq!(b.free_packets(), 0);
        assert_eq!(
            b.insert(&pkt(seq(15), 0, b"p"), t),
            InsertOutcome::OutOfWindow
        );
        let mut out = [0u8; 8];
        assert_eq!(b.pop_in_order(&mut out).unwrap().seq, seq(0));
        assert_eq!(b.pop_in_order(&mut out).unwrap().seq, seq(4));
        assert_eq!(b.read_pos(), seq(15));
        assert!(b.is_empty());
        assert_eq!(b.free_packets(), 15);
        // Before anything is received, a range starting at the ISN moves the highest.
        let mut b = RecvBuffer::new(16, 100, seq(100));
        assert_eq!(b.drop_range(seq(98), seq(101)), 2);
        assert_eq!(b.read_pos(), seq(102));
        assert_eq!(b.highest_received(), Some(seq(101)));
    }

    #[test]
    fn dropreq_discards_partial_messages_and_live_gaps_count_once() {
        let mut l = Live::new(32, seq(0));
        let t = l.t0;
        let mut first = pkt(seq(1), 1000, b"m");
        first.position = PacketPosition::First;
        l.put(seq(0), 0);
        l.buf.insert(&first, t);
        l.put(seq(5), 5);
        // Seq 1 is the first packet of a message: discarded and counted.
        assert_eq!(l.buf.drop_range(seq(1), seq(2)), 2);
        assert_eq!(l.buf.len(), 2);
        // Its byte is no longer held (libsrt's counter keeps it: a leak).
        assert_eq!(l.buf.bytes(), 8);
        assert!(l.buf.loss_ranges().eq([range(3, 4)]));
        assert_eq!(l.delivered(LATENCY_MS * 1000), seq(0));
        // 1 and 2 were released; only 3 and 4 count as too-late drops.
        assert_eq!(l.buf.read_pos(), seq(3));
        assert_eq!(
            l.pop((LATENCY_MS + 5) * 1000),
            PopOutcome::Dropped {
                range: range(3, 4),
                packets: 2
            }
        );
        // A gap mixing given-up and missing packets counts only the missing.
        let mut l = Live::new(32, seq(0));
        l.put(seq(0), 0);
        l.put(seq(5), 5);
        assert_eq!(l.buf.drop_range(seq(2), seq(3)), 2);
        assert_eq!(l.delivered(LATENCY_MS * 1000), seq(0));
        assert_eq!(
            l.pop((LATENCY_MS + 5) * 1000),
            PopOutcome::Dropped {
                range: range(1, 4),
                packets: 2
            }
        );
        assert_eq!(l.delivered((LATENCY_MS + 5) * 1000), seq(5));
    }

    #[test]
    fn delivery_follows_the_timestamp_wrap() {
        // Packets stamped just before and after the 32-bit wrap are delivered
        // in order, 1 ms apart, and the wrap period ends on delivery.
        let mut l = Live::new(64, seq(0));
        let before = u64::from(u32::MAX) - 999; // 1 ms before the wrap
        let stamps = [before, before + 1000, before + 2000];
        for (i, &ts) in stamps.iter().enumerate() {
            l.put_us(seq(i as u32), ts);
        }
        // Before the wrap is seen, a wrapped stamp maps 71 min early: still in order
        // because delivery goes by sequence, and the head is what gets delivered.
        let due0 = before + LATENCY_MS * 1000;
        assert_eq!(l.delivered(due0), seq(0));
        assert!(l.tsbpd.in_wrap_period());
        // Now the wrapped stamps count from after the wrap.
        assert_eq!(l.buf.next_delivery(&l.tsbpd), Some(l.at(due0 + 1000)));
        assert_eq!(l.pop(due0 + 999), PopOutcome::NotReady);
        assert_eq!(l.delivered(due0 + 1000), seq(1));
        assert_eq!(l.delivered(due0 + 2000), seq(2));
        // A packet 30 s after the wrap ends the wrap period when delivered.
        let late = (1u64 << 32) + 30_000_000;
        l.put_us(seq(3), late);
        assert_eq!(l.delivered(late + LATENCY_MS * 1000), seq(3));
        assert!(!l.tsbpd.in_wrap_period());
    }

    #[test]
    fn a_live_stream_holds_its_latency_not_the_window() {
        // 1000 packets a second for 20 s through a buffer of 8192 packets
        // (libsrt's default): the read position goes round the window
        // twice, but at most latency + 1 ms of packets wait at once.
        let new = allocation_counter::measure(|| {
            let b = RecvBuffer::new(8192, 1456, seq(0));
            assert!(b.is_empty());
        });
        assert_eq!(new.count_total, 0, "an empty buffer allocates nothing");
        let mut l = Live::new(8192, SeqNumber::MAX - 5000);
        let mut s = SeqNumber::MAX - 5000;
        let mut delivered = 0;
        for ms in 0..20_000u64 {
            assert!(matches!(l.put(s, ms), InsertOutcome::Inserted { .. }));
            s = s + 1;
            while let PopOutcome::Delivered(_) = l.pop(ms * 1000) {
                delivered += 1;
            }
        }
        assert_eq!(delivered, 20_000 - LATENCY_MS as usize);
        // The pool keeps twice the units in use: pages for twice latency + 1 ms
        // of packets (and one for rounding).
        let pages = (2 * (LATENCY_MS as usize + 1)).div_ceil(64) + 1;
        assert!(
            l.buf.allocated_bytes() <= pages * 64 * 1456,
            "{} bytes allocated; the window is {} bytes",
            l.buf.allocated_bytes(),
            8191 * 1456
        );
    }

    #[test]
    fn no_allocation_in_steady_state() {
        let mut l = Live::new(256, SeqNumber::MAX - 500);
        let mut file = RecvBuffer::new(256, 1456, seq(0));
        let payload = [7u8; 1316];
        // Warm up: the first pass allocates the storage pages it uses.
        {
            let mut s = SeqNumber::MAX - 500;
            let mut fs = seq(0);
            for round in 0..2000u64 {
                // Every 7th packet is lost, then retransmitted 3 packets later.
                if round % 7 != 3 {
                    let p = pkt(s, round * 1000, &payload);
                    l.buf.insert(&p, l.at(round * 1000));
                }
                if round % 7 == 6 {
                    let p = pkt(s - 3, (round - 3) * 1000, &payload);
                    l.buf.insert(&p, l.at(round * 1000));
                }
                if round % 50 == 0 {
                    l.buf.drop_range(s + 1, s + 2);
                }
                let lost = l.buf.loss_ranges().count();
                assert!(lost < 10);
                let _ = l.buf.next_delivery(&l.tsbpd);
                while l.pop(round * 1000) != PopOutcome::NotReady {}
                file.insert(&pkt(fs, 0, &payload), l.t0);
                let mut out = [0u8; 1500];
                while file.pop_in_order(&mut out).is_some() {}
                s = s + 1;
                fs = fs + 1;
            }
        }
        let counts = allocation_counter::measure(|| {
            let mut s = SeqNumber::MAX - 500;
            let mut fs = seq(0);
            for round in 0..2000u64 {
                // Every 7th packet is lost, then retransmitted 3 packets later.
                if round % 7 != 3 {
                    let p = pkt(s, round * 1000, &payload);
                    l.buf.insert(&p, l.at(round * 1000));
                }
                if round % 7 == 6 {
                    let p = pkt(s - 3, (round - 3) * 1000, &payload);
                    l.buf.insert(&p, l.at(round * 1000));
                }
                if round % 50 == 0 {
                    l.buf.drop_range(s + 1, s + 2);
                }
                let lost = l.buf.loss_ranges().count();
                assert!(lost < 10);
                let _ = l.buf.next_delivery(&l.tsbpd);
                while l.pop(round * 1000) != PopOutcome::NotReady {}
                file.insert(&pkt(fs, 0, &payload), l.t0);
                let mut out = [0u8; 1500];
                while file.pop_in_order(&mut out).is_some() {}
                s = s + 1;
                fs = fs + 1;
            }
        });
        assert_eq!(counts.count_total, 0);
    }

    /// One packet of the proptest's stream: its arrival (if any) in µs.
    #[derive(Clone, Debug)]
    struct Fate {
        lost: bool,
        /// Extra delay of the (first) arrival, µs.
        jitter: u64,
        /// Retransmission arrival after the first, µs, if any.
        rexmit: Option<u64>,
        duplicate: bool,
    }

    fn fate() -> impl Strategy<Value = Fate> {
        (
            prop::bool::weighted(0.15),
            prop_oneof![3 => 0u64..2_000, 1 => 0u64..200_000],
            prop::option::weighted(0.3, 0u64..300_000),
            prop::bool::weighted(0.05),
        )
            .prop_map(|(lost, jitter, rexmit, duplicate)| Fate {
                lost,
                jitter,
                rexmit,
                duplicate,
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        /// Random arrival orders of a stream with random losses: deliveries
        /// are a strictly increasing subsequence, never early, exactly on
        /// time for packets that arrived before their due time, and every
        /// sequence number up to the last delivered is delivered once or
        /// counted dropped.
        #[test]
        fn random_arrivals_deliver_on_time(
            isn in prop_oneof![Just(SeqNumber::MAX.as_u32() - 20), 0u32..=0x7FFF_FFFF],
            fates in prop::collection::vec(fate(), 1..150),
        ) {
            const PERIOD: u64 = 2_000; // µs between packets
            const DELAY: u64 = 5_000; // base one-way delay
            let isn = seq(isn);
            let mut l = Live::new(1024, isn);
            let mut arrivals: Vec<(u64, usize)> = Vec::new();
            for (i, f) in fates.iter().enumerate() {
                let sent = i as u64 * PERIOD;
                let first = sent + DELAY + f.jitter;
                if !f.lost {
                    arrivals.push((first, i));
                    if f.duplicate {
                        arrivals.push((first + 1, i));
                    }
                }
                if let Some(r) = f.rexmit {
                    arrivals.push((first + r, i));
                }
            }
            arrivals.sort();
            let due = |i: usize| LATENCY_MS * 1000 + i as u64 * PERIOD;
            let mut first_arrival = vec![None; fates.len()];
            for &(t, i) in &arrivals {
                first_arrival[i].get_or_insert(t);
            }

            let mut delivered: Vec<(usize, u64)> = Vec::new();
            let mut dropped = vec![false; fates.len()];
            let mut dropped_count = 0u32;
            let mut pop_all = |l: &mut Live, now: u64, delivered: &mut Vec<(usize, u64)>| {
                loop {
                    match l.pop(now) {
                        PopOutcome::NotReady => break,
                        PopOutcome::Delivered(info) => {
                            let i = info.seq.offset_from(isn) as usize;
                            delivered.push((i, now));
                            assert_eq!(info.origin, Some(l.at(i as u64 * PERIOD)));
                        }
                        PopOutcome::Dropped { range, packets } => {
                            dropped_count += packets;
                            for s in range.iter() {
                                let i = s.offset_from(isn) as usize;
                                assert!(!dropped[i]);
                                dropped[i] = true;
                            }
                        }
                    }
                }
            };
            let mut k = 0;
            loop {
                let next_arrival = arrivals.get(k).map(|a| a.0);
                let next_due = l
                    .buf
                    .next_delivery(&l.tsbpd)
                    .map(|t| t.duration_since(l.t0).as_micros() as u64);
                match (next_arrival, next_due) {
                    (None, None) => break,
                    (Some(a), Some(d)) if d <= a => pop_all(&mut l, d, &mut delivered),
                    (None, Some(d)) => pop_all(&mut l, d, &mut delivered),
                    (Some(a), _) => {
                        pop_all(&mut l, a, &mut delivered);
                        let i = arrivals[k].1;
                        let s = isn + i as i32;
                        let payload = s.as_u32().to_be_bytes();
                        let p = pkt(s, i as u64 * PERIOD, &payload);
                        l.buf.insert(&p, l.at(a));
                        k += 1;
                    }
                }
                // Every held packet's 4 payload bytes are counted, no more.
                prop_assert_eq!(l.buf.bytes(), 4 * l.buf.len());
            }
            prop_assert_eq!(l.buf.size(Some(&l.tsbpd)), BufSize::default());

            // Strictly increasing, never early.
            for w in delivered.windows(2) {
                prop_assert!(w[0].0 < w[1].0);
            }
            for &(i, at) in &delivered {
                prop_assert!(at >= due(i));
                prop_assert!(!dropped[i]);
                // Arrived before its time: delivered exactly on time.
                if first_arrival[i].unwrap() < due(i) {
                    prop_assert_eq!(at, due(i));
                }
            }
            // Every packet that arrived before its due time is delivered.
            let was_delivered: Vec<bool> = {
                let mut v = vec![false; fates.len()];
                for &(i, _) in &delivered { v[i] = true; }
                v
            };
            for i in 0..fates.len() {
                if first_arrival[i].is_some_and(|a| a < due(i)) {
                    prop_assert!(was_delivered[i], "seq offset {} arrived in time but was not delivered", i);
                }
                // Up to the last delivered, each is delivered or dropped.
                if delivered.last().is_some_and(|&(last, _)| i <= last) {
                    prop_assert!(was_delivered[i] ^ dropped[i]);
                }
            }
            prop_assert_eq!(dropped_count as usize, dropped.iter().filter(|&&d| d).count());
            prop_assert!(l.buf.is_empty());
        }
    }
    fn mpkt(
        s: u32,
        msg: u32,
        position: PacketPosition,
        in_order: bool,
        payload: &[u8],
    ) -> DataPacket<'_> {
        DataPacket {
            position,
            in_order,
            msg_number: MsgNumber::new_truncate(msg),
            ..pkt(seq(s), 0, payload)
        }
    }

    #[test]
    fn messages_are_delivered_whole_and_in_order() {
        use PacketPosition::*;
        let t = Instant::now();
        let mut b = RecvBuffer::new(64, 100, seq(10));
        let mut out = [0u8; 1000];
        b.insert(&mpkt(10, 1, First, true, b"ab"), t);
        b.insert(&mpkt(12, 1, Last, true, b"ef"), t);
        assert!(b.pop_message(&mut out, false).is_none(), "incomplete");
        b.insert(&mpkt(13, 2, Solo, true, b"z"), t);
        assert!(b.pop_message(&mut out, false).is_none(), "still incomplete");
        b.insert(&mpkt(11, 1, Middle, true, b"cd"), t);
        let m = b.pop_message(&mut out, false).unwrap();
        assert_eq!(&out[..m.len], b"abcdef");
        assert_eq!(m.msgno.as_u32(), 1);
        let m = b.pop_message(&mut out, false).unwrap();
        assert_eq!(&out[..m.len], b"z");
        assert!(b.is_empty());
        assert_eq!(b.read_pos(), seq(14));
    }

    #[test]
    fn unordered_message_overtakes_an_incomplete_one() {
        use PacketPosition::*;
        let t = Instant::now();
        let mut b = RecvBuffer::new(64, 100, seq(0));
        let mut out = [0u8; 1000];
        // Message 1 (seq 0-1) is missing its first packet; message 2 is whole.
        b.insert(&mpkt(1, 1, Last, false, b"11"), t);
        b.insert(&mpkt(2, 2, First, false, b"2a"), t);
        b.insert(&mpkt(3, 2, Last, false, b"2b"), t);
        assert!(b.pop_message(&mut out, false).is_none());
        let m = b.pop_message(&mut out, true).unwrap();
        assert_eq!(&out[..m.len], b"2a2b");
        assert_eq!(
            b.ack_seq(),
            seq(0),
            "the gap is still acknowledged as missing"
        );
        b.insert(&mpkt(0, 1, First, false, b"10"), t);
        let m = b.pop_message(&mut out, true).unwrap();
        assert_eq!(&out[..m.len], b"1011");
        assert!(
            b.pop_message(&mut out, true).is_none(),
            "message 2 is not delivered twice"
        );
        assert_eq!(b.read_pos(), seq(4));
    }

    #[test]
    fn a_message_broken_by_dropreq_is_never_delivered() {
        use PacketPosition::*;
        let t = Instant::now();
        let mut b = RecvBuffer::new(64, 100, seq(0));
        let mut out = [0u8; 1000];
        b.insert(&mpkt(0, 1, First, true, b"a"), t);
        b.insert(&mpkt(2, 1, Last, true, b"c"), t);
        b.insert(&mpkt(3, 2, Solo, true, b"next"), t);
        // The sender gave up message 1 (seq 0-2).
        b.drop_range(seq(0), seq(2));
        let m = b.pop_message(&mut out, false).unwrap();
        assert_eq!(&out[..m.len], b"next");
        // A middle packet arriving alone is an orphan and is discarded too.
        let mut b = RecvBuffer::new(64, 100, seq(0));
        b.insert(&mpkt(0, 1, Middle, true, b"x"), t);
        b.insert(&mpkt(1, 1, Last, true, b"y"), t);
        b.insert(&mpkt(2, 2, Solo, true, b"ok"), t);
        let m = b.pop_message(&mut out, false).unwrap();
        assert_eq!(&out[..m.len], b"ok");
    }

    #[test]
    fn stream_reads_cross_packet_boundaries() {
        let t = Instant::now();
        let mut b = RecvBuffer::new(64, 100, seq(0));
        b.insert(&pkt(seq(0), 0, b"hello "), t);
        b.insert(&pkt(seq(1), 0, b"world"), t);
        b.insert(&pkt(seq(3), 0, b"later"), t);
        let mut out = [0u8; 4];
        assert_eq!(b.pop_bytes(&mut out), 4);
        assert_eq!(&out, b"hell");
        let mut out = [0u8; 100];
        let n = b.pop_bytes(&mut out);
        assert_eq!(&out[..n], b"o world");
        assert_eq!(b.pop_bytes(&mut out), 0, "seq 2 is missing");
        b.insert(&pkt(seq(2), 0, b"!"), t);
        let n = b.pop_bytes(&mut out);
        assert_eq!(&out[..n], b"!later");
    }
}
