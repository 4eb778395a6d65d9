//! A backup group's sender buffer (libsrt's `CUDTGroup::m_SenderBuffer`):
//! every message sent, with its sequence number, message number and source
//! time, until some member's peer acknowledged it, so that a standby member
//! can send again what the failing one may not have delivered.
//!
//! Payload storage is recycled: once the buffer held its peak, pushing
//! allocates nothing.

use crate::seq::{MsgNumber, SeqNumber};
use std::collections::VecDeque;
use std::time::Instant;

/// The largest payload kept (an SRT packet's payload never exceeds it).
const MAX_PAYLOAD: usize = 1500;

/// One message kept.
#[derive(Debug)]
pub(super) struct Kept {
    pub(super) seq: SeqNumber,
    pub(super) msgno: MsgNumber,
    pub(super) origin: Instant,
    len: usize,
    data: Box<[u8]>,
}

impl Kept {
    /// The payload.
    pub(super) fn payload(&self) -> &[u8] {
        &self.data[..self.len]
    }
}

/// See the module docs.
#[derive(Debug)]
pub(super) struct BackupBuffer {
    capacity: usize,
    kept: VecDeque<Kept>,
    spare: Vec<Box<[u8]>>,
}

impl BackupBuffer {
    /// A buffer of at most `capacity` messages (0: keeps nothing).
    pub(super) fn new(capacity: usize) -> Self {
        BackupBuffer {
            capacity,
            kept: VecDeque::new(),
            spare: Vec::new(),
        }
    }

    /// How many messages are kept.
    pub(super) fn len(&self) -> usize {
        self.kept.len()
    }

    /// The oldest message's sequence number.
    pub(super) fn first_seq(&self) -> Option<SeqNumber> {
        self.kept.front().map(|k| k.seq)
    }

    /// Keeps a message (the oldest goes if full; a payload longer than an
    /// SRT packet's is cut, which a member would have refused anyway).
    pub(super) fn push(
        &mut self,
        seq: SeqNumber,
        msgno: MsgNumber,
        origin: Instant,
        payload: &[u8],
    ) {
        if self.capacity == 0 {
            return;
        }
        if self.kept.len() >= self.capacity {
            if let Some(old) = self.kept.pop_front() {
                self.spare.push(old.data);
            }
        }
        let mut data = self
            .spare
            .pop()
            .unwrap_or_else(|| vec![0u8; MAX_PAYLOAD].into_boxed_slice());
        let len = payload.len().min(MAX_PAYLOAD);
        data[..len].copy_from_slice(&payload[..len]);
        self.kept.push_back(Kept {
            seq,
            msgno,
            origin,
            len,
            data,
        });
    }

    /// Forgets the messages before `seq` (the first not acknowledged).
    pub(super) fn ack_to(&mut self, seq: SeqNumber) {
        while let Some(front) = self.kept.front() {
            if seq.offset_from(front.seq) <= 0 {
                break;
            }
            if let Some(old) = self.kept.pop_front() {
                self.spare.push(old.data);
            }
        }
    }

    /// The message at `index` (0 = oldest).
    pub(super) fn get(&self, index: usize) -> Option<&Kept> {
        self.kept.get(index)
    }

    /// The index of sequence number `seq`, if kept.
    pub(super) fn index_of(&self, seq: SeqNumber) -> Option<usize> {
        let first = self.first_seq()?;
        let off = seq.offset_from(first);
        (off >= 0 && (off as usize) < self.kept.len()).then_some(off as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seq(n: u32) -> SeqNumber {
        SeqNumber::new_truncate(n)
    }

    #[test]
    fn keeps_until_acknowledged_and_recycles() {
        let now = Instant::now();
        let mut b = BackupBuffer::new(4);
        for i in 0..6u32 {
            b.push(
                seq(100 + i),
                MsgNumber::FIRST + i as i32,
                now,
                &i.to_be_bytes(),
            );
        }
        // Capacity 4: the two oldest went.
        assert_eq!(b.len(), 4);
        assert_eq!(b.first_seq(), Some(seq(102)));
        assert_eq!(b.get(0).unwrap().payload(), &2u32.to_be_bytes());
        assert_eq!(b.index_of(seq(105)), Some(3));
        assert_eq!(b.index_of(seq(106)), None);
        assert_eq!(b.index_of(seq(101)), None);
        b.ack_to(seq(104));
        assert_eq!(b.first_seq(), Some(seq(104)));
        b.ack_to(seq(103));
        assert_eq!(b.len(), 2);
        b.ack_to(seq(200));
        assert_eq!(b.len(), 0);
        // Storage for the peak of 4, reused when the oldest went.
        assert_eq!(b.spare.len(), 4);
    }

    #[test]
    fn sequence_numbers_wrap() {
        let now = Instant::now();
        let mut b = BackupBuffer::new(8);
        b.push(SeqNumber::MAX, MsgNumber::FIRST, now, b"a");
        b.push(seq(0), MsgNumber::FIRST, now, b"b");
        assert_eq!(b.index_of(seq(0)), Some(1));
        b.ack_to(seq(0));
        assert_eq!(b.first_seq(), Some(seq(0)));
    }

    #[test]
    fn keeps_nothing_without_capacity() {
        let mut b = BackupBuffer::new(0);
        b.push(seq(1), MsgNumber::FIRST, Instant::now(), b"x");
        assert_eq!(b.len(), 0);
    }
}
