//! Loss lists: sequence ranges waiting for retransmission (sender) or recovery (receiver).
//!
//! A [`LossList`] is a sorted set of disjoint, non-adjacent [`SeqRange`]s.
//! The sender keeps the sequence numbers the peer reported lost (NAK) and
//! that still wait for retransmission; the receiver keeps the gaps it has
//! seen and not yet filled, which it reports in NAKs.
//!
//! # Window
//!
//! Sequence numbers wrap, so order only makes sense within a window: all
//! members of a list lie within less than 2³⁰ of each other (libsrt's
//! comparison threshold). The list orders everything relative to its first
//! member; a range that would stretch the list over 2³⁰ or more is refused
//! (`insert` returns 0), the first range of an empty list included. Such a
//! range can only come from a malformed or hostile peer: the engine checks
//! NAK ranges against its send buffer first, as libsrt does.
//!
//! # Capacity
//!
//! The list holds at most `capacity` ranges. Its storage starts with room
//! for 16 and grows on demand (doubling) and is kept, so once a list has
//! held its most ranges no operation allocates. libsrt sizes its loss lists by
//! sequence window instead (`CSndLossList`/`CRcvLossList` are arrays indexed
//! by offset from the first member), so they can never overflow. The same
//! holds here when the list is sized with [`LossList::for_window`]: a
//! window of `n` sequence numbers holds at most ⌈n/2⌉ disjoint, non-adjacent
//! ranges.
//!
//! If a list does fill up, it keeps a *superset* of the exact set, never a
//! subset, and says so through [`LossList::overflows`]:
//! - an `insert` that needs a new range instead extends the nearest range
//!   over the gap between them (so the sequence numbers of the gap are
//!   listed too: the sender retransmits a few extra packets, the receiver
//!   NAKs a few it already has; both are harmless duplicates);
//! - a removal that would split a range in two (`remove`, `remove_range`)
//!   leaves the range whole and reports nothing removed.
//!
//! No loss record is ever silently forgotten, which would stall a file
//! transfer forever.

use std::collections::VecDeque;

use crate::seq::{SeqNumber, SeqRange};

/// The largest span (in sequence numbers) a list may cover: libsrt's
/// comparison threshold, 2³⁰.
const WINDOW: i64 = 1 << 30;

/// Ranges a new list has room for.
const INITIAL_RANGES: usize = 16;

/// A bounded, sorted set of disjoint sequence ranges (see the module docs).
#[derive(Clone, Debug)]
pub(crate) struct LossList {
    /// The ranges, in order, disjoint and non-adjacent.
    ranges: VecDeque<SeqRange>,
    /// How many ranges the list may hold (`ranges` grows on demand up to
    /// it and keeps what it grew to).
    capacity: usize,
    /// How many sequence numbers the ranges hold together.
    len: u32,
    /// How many times the list was full and kept a superset.
    overflows: u64,
}

impl LossList {
    /// An empty list holding at most `capacity` ranges (at least 1), with
    /// room for 16 now (a first loss allocates nothing); more as needed.
    pub(crate) fn new(capacity: usize) -> Self {
        let capacity = capacity.max(1);
        LossList {
            ranges: VecDeque::with_capacity(capacity.min(INITIAL_RANGES)),
            capacity,
            len: 0,
            overflows: 0,
        }
    }

    /// Before adding a range: room for twice as many
    /// as held once more are needed (up to `capacity`), so that a loss
    /// pattern that came near the list's size once does not reallocate.
    fn make_room(&mut self) {
        let len = self.ranges.len();
        if len == self.ranges.capacity() && len < self.capacity {
            let want = (2 * len).max(INITIAL_RANGES).min(self.capacity);
            self.ranges.reserve_exact(want.saturating_sub(len).max(1));
        }
    }

    /// An empty list that never fills while its members lie within a window
    /// of `packets` consecutive sequence numbers (e.g. the send or receive
    /// buffer size).
    pub(crate) fn for_window(packets: usize) -> Self {
        Self::new(packets / 2 + 1)
    }

    /// How many ranges the list may hold.
    #[cfg(test)]
    pub(crate) fn capacity(&self) -> usize {
        self.capacity
    }

    /// How many ranges the list holds.
    #[cfg(test)]
    pub(crate) fn len_ranges(&self) -> usize {
        self.ranges.len()
    }

    /// How many sequence numbers the list holds.
    pub(crate) fn len_seqs(&self) -> u32 {
        self.len
    }

    /// Whether the list holds no sequence number.
    pub(crate) fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// Whether the list holds as many ranges as it may.
    pub(crate) fn is_full(&self) -> bool {
        self.ranges.len() >= self.capacity
    }

    /// How many times the list was full and kept a superset of the exact
    /// set (see the module docs).
    #[cfg(test)]
    pub(crate) fn overflows(&self) -> u64 {
        self.overflows
    }

    /// The first (oldest) sequence number of the list.
    pub(crate) fn first(&self) -> Option<SeqNumber> {
        self.ranges.front().map(|r| r.first)
    }

    /// The last (newest) sequence number of the list.
    pub(crate) fn last(&self) -> Option<SeqNumber> {
        self.ranges.back().map(|r| r.last)
    }

    /// The ranges of the list, in order.
    #[cfg(test)]
    pub(crate) fn iter_ranges(&self) -> impl Iterator<Item = SeqRange> + '_ {
        self.ranges.iter().copied()
    }

    /// Empties the list.
    pub(crate) fn clear(&mut self) {
        self.ranges.clear();
        self.len = 0;
    }

    /// The position of `seq` relative to the first member (0 if empty).
    fn rel(&self, seq: SeqNumber) -> i64 {
        match self.ranges.front() {
            Some(front) => i64::from(seq.offset_from(front.first)),
            None => 0,
        }
    }

    /// The index of the first range that ends at or after relative position
    /// `pos`.
    fn index_ending_at_or_after(&self, pos: i64) -> usize {
        let base = self.first();
        self.ranges.partition_point(|r| match base {
            Some(b) => i64::from(r.last.offset_from(b)) < pos,
            None => false,
        })
    }

    /// Whether `seq` is in the list.
    #[cfg(test)]
    pub(crate) fn contains(&self, seq: SeqNumber) -> bool {
        if self.ranges.is_empty() {
            return false;
        }
        let pos = self.rel(seq);
        let i = self.index_ending_at_or_after(pos);
        match self.ranges.get(i) {
            Some(r) => self.rel(r.first) <= pos,
            None => false,
        }
    }

    /// Adds the sequence numbers of `range`; returns how many were not in
    /// the list before (0 if the range is refused: `last` before `first`,
    /// or the list would span 2³⁰ or more). When the list is full this may
    /// also add the gap to the nearest range (counted in the result).
    pub(crate) fn insert(&mut self, range: SeqRange) -> u32 {
        let span = range.last.offset_from(range.first);
        if span < 0 {
            return 0;
        }
        // The window holds for the first range too.
        if i64::from(span) >= WINDOW {
            return 0;
        }
        let Some(front) = self.ranges.front().copied() else {
            // `capacity >= 1` and the deque was built with room for it.
            self.make_room();
            self.ranges.push_back(range);
            self.len = span as u32 + 1;
            return self.len;
        };
        // Positions relative to the first member; `b` counts forward from
        // `a`, so a range over the far side of the ring stays in order.
        let a = self.rel(range.first);
        let b = a + i64::from(span);
        let back_last = self.ranges.back().map_or(0, |r| self.rel(r.last));
        if b.max(back_last) - a.min(0) >= WINDOW {
            return 0;
        }
        // Ranges [lo, hi) touch the new one (overlap or adjacency).
        let lo = self.index_ending_at_or_after(a - 1);
        let hi = {
            let base = front.first;
            self.ranges
                .partition_point(|r| i64::from(r.first.offset_from(base)) <= b + 1)
        };
        let added = if hi > lo {
            let mut old = 0i64;
            for r in self.ranges.range(lo..hi) {
                old += i64::from(r.last.offset_from(r.first)) + 1;
            }
            let first_pos = a.min(self.rel(self.ranges[lo].first));
            let last_pos = b.max(self.rel(self.ranges[hi - 1].last));
            let merged = SeqRange {
                first: front.first + first_pos as i32,
                last: front.first + last_pos as i32,
            };
            self.ranges[lo] = merged;
            self.ranges.drain(lo + 1..hi);
            (last_pos - first_pos + 1 - old) as u32
        } else if !self.is_full() {
            self.make_room();
            self.ranges.insert(lo, range);
            (b - a + 1) as u32
        } else {
            // Full: extend the nearest neighbour over the gap (superset).
            self.overflows += 1;
            let gap_before = lo
                .checked_sub(1)
                .map(|i| a - self.rel(self.ranges[i].last) - 1);
            let gap_after = self.ranges.get(lo).map(|r| self.rel(r.first) - b - 1);
            match (gap_before, gap_after) {
                (Some(gb), ga) if ga.is_none_or(|ga| gb <= ga) => {
                    self.ranges[lo - 1].last = range.last;
                    (gb + b - a + 1) as u32
                }
                (_, Some(ga)) => {
                    self.ranges[lo].first = range.first;
                    (ga + b - a + 1) as u32
                }
                // Unreachable: a full list has at least one range.
                _ => 0,
            }
        };
        self.len = self.len.saturating_add(added);
        added
    }

    /// Removes `seq`; returns whether it was removed (false if it was not in
    /// the list, or if removing it would split a range of a full list).
    pub(crate) fn remove(&mut self, seq: SeqNumber) -> bool {
        self.remove_range(SeqRange::single(seq)) == 1
    }

    /// Removes the sequence numbers of `range`; returns how many were
    /// removed. If that would split a range of a full list in two, the
    /// list is left unchanged and 0 is returned.
    pub(crate) fn remove_range(&mut self, range: SeqRange) -> u32 {
        let span = range.last.offset_from(range.first);
        if self.ranges.is_empty() || span < 0 {
            return 0;
        }
        let a = self.rel(range.first);
        let b = a + i64::from(span);
        let lo = self.index_ending_at_or_after(a);
        let base = self.ranges[0].first;
        let hi = self
            .ranges
            .partition_point(|r| i64::from(r.first.offset_from(base)) <= b);
        if lo >= hi {
            return 0;
        }
        if hi - lo == 1 {
            let r = self.ranges[lo];
            let (rf, rl) = (self.rel(r.first), self.rel(r.last));
            if rf < a && b < rl {
                // Split one range in two.
                if self.is_full() {
                    self.overflows += 1;
                    return 0;
                }
                self.ranges[lo].last = range.first - 1;
                self.make_room();
                self.ranges.insert(
                    lo + 1,
                    SeqRange {
                        first: range.last + 1,
                        last: r.last,
                    },
                );
                let removed = (b - a + 1) as u32;
                self.len -= removed;
                return removed;
            }
        }
        // Trim the two end ranges, remove the ones entirely inside.
        let mut removed = 0i64;
        let mut keep_lo = lo; // first index to delete
        let mut keep_hi = hi; // one past the last index to delete
        {
            let first_r = self.ranges[lo];
            let rf = self.rel(first_r.first);
            if rf < a {
                // Keep its head.
                let rl = self.rel(first_r.last);
                removed += rl.min(b) - a + 1;
                self.ranges[lo].last = range.first - 1;
                keep_lo = lo + 1;
            }
        }
        if keep_lo < hi {
            let last_r = self.ranges[hi - 1];
            let rl = self.rel(last_r.last);
            if rl > b {
                let rf = self.rel(last_r.first);
                removed += b - rf.max(a) + 1;
                self.ranges[hi - 1].first = range.last + 1;
                keep_hi = hi - 1;
            }
        }
        for r in self.ranges.range(keep_lo..keep_hi.max(keep_lo)) {
            removed += i64::from(r.last.offset_from(r.first)) + 1;
        }
        if keep_hi > keep_lo {
            self.ranges.drain(keep_lo..keep_hi);
        }
        let removed = removed as u32;
        self.len -= removed;
        removed
    }

    /// Removes every sequence number strictly before `seq` (acknowledged,
    /// or dropped); returns how many were removed. A `seq` after the last
    /// member empties the list.
    pub(crate) fn remove_before(&mut self, seq: SeqNumber) -> u32 {
        let Some(back) = self.ranges.back().copied() else {
            return 0;
        };
        if seq.offset_from(back.last) > 0 {
            let removed = self.len;
            self.clear();
            return removed;
        }
        let pos = self.rel(seq);
        if pos <= 0 {
            return 0;
        }
        let first = self.ranges[0].first;
        self.remove_range(SeqRange {
            first,
            last: seq - 1,
        })
    }

    /// Removes every sequence number from `seq` on (at or after it, up to
    /// the last member); returns how many were removed. A `seq` at or
    /// before the first member empties the list.
    pub(crate) fn remove_from(&mut self, seq: SeqNumber) -> u32 {
        let Some(back) = self.ranges.back().copied() else {
            return 0;
        };
        if self.rel(seq) <= 0 {
            let removed = self.len;
            self.clear();
            return removed;
        }
        if seq.offset_from(back.last) > 0 {
            return 0;
        }
        self.remove_range(SeqRange {
            first: seq,
            last: back.last,
        })
    }

    /// Removes and returns the first (oldest) sequence number.
    pub(crate) fn pop_first(&mut self) -> Option<SeqNumber> {
        let front = self.ranges.front_mut()?;
        let seq = front.first;
        if front.first == front.last {
            self.ranges.pop_front();
        } else {
            front.first = seq + 1;
        }
        self.len -= 1;
        Some(seq)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    fn s(v: u32) -> SeqNumber {
        SeqNumber::new_truncate(v)
    }

    fn r(a: u32, b: u32) -> SeqRange {
        SeqRange {
            first: s(a),
            last: s(b),
        }
    }

    fn ranges(l: &LossList) -> Vec<(u32, u32)> {
        l.iter_ranges()
            .map(|r| (r.first.as_u32(), r.last.as_u32()))
            .collect()
    }

    /// Sorted, disjoint, non-adjacent, within the window, count consistent.
    fn check_invariants(l: &LossList) {
        assert!(l.len_ranges() <= l.capacity());
        let mut total = 0u64;
        let mut prev: Option<SeqRange> = None;
        let base = l.first();
        for r in l.iter_ranges() {
            assert!(r.last.offset_from(r.first) >= 0, "{r:?}");
            total += u64::from(r.len());
            if let Some(p) = prev {
                assert!(r.first.offset_from(p.last) > 1, "{p:?} then {r:?}");
            }
            if let Some(b) = base {
                assert!(r.last.offset_from(b) >= 0);
                assert!(i64::from(r.last.offset_from(b)) < WINDOW);
            }
            prev = Some(r);
        }
        assert_eq!(total, u64::from(l.len_seqs()));
        assert_eq!(l.is_empty(), l.len_seqs() == 0);
    }

    #[test]
    fn insert_merges_and_counts() {
        let mut l = LossList::new(16);
        assert_eq!(l.insert(r(10, 12)), 3);
        assert_eq!(l.insert(r(20, 20)), 1);
        assert_eq!(l.insert(r(11, 14)), 2);
        assert_eq!(ranges(&l), vec![(10, 14), (20, 20)]);
        assert_eq!(l.insert(r(15, 19)), 5); // bridges to one range
        assert_eq!(ranges(&l), vec![(10, 20)]);
        assert_eq!(l.insert(r(5, 8)), 4);
        assert_eq!(l.insert(r(9, 9)), 1);
        assert_eq!(ranges(&l), vec![(5, 20)]);
        assert_eq!(l.insert(r(5, 20)), 0);
        assert_eq!(l.insert(r(1, 30)), 14);
        assert_eq!(l.len_seqs(), 30);
        check_invariants(&l);
    }

    #[test]
    fn removes() {
        let mut l = LossList::new(16);
        l.insert(r(10, 20));
        assert!(l.remove(s(15)));
        assert!(!l.remove(s(15)));
        assert_eq!(ranges(&l), vec![(10, 14), (16, 20)]);
        assert!(l.remove(s(10)));
        assert!(l.remove(s(20)));
        assert_eq!(ranges(&l), vec![(11, 14), (16, 19)]);
        assert_eq!(l.remove_range(r(13, 17)), 4);
        assert_eq!(ranges(&l), vec![(11, 12), (18, 19)]);
        assert_eq!(l.remove_range(r(0, 100)), 4);
        assert!(l.is_empty());
        l.insert(r(10, 20));
        l.insert(r(30, 40));
        assert_eq!(l.remove_before(s(35)), 16);
        assert_eq!(ranges(&l), vec![(35, 40)]);
        assert_eq!(l.remove_before(s(35)), 0);
        assert_eq!(l.remove_before(s(100)), 6);
        assert!(l.is_empty());
        assert_eq!(l.first(), None);
        check_invariants(&l);
    }

    #[test]
    fn remove_from_trims_the_tail() {
        let mut l = LossList::new(8);
        l.insert(r(10, 20));
        l.insert(r(30, 40));
        assert_eq!(l.remove_from(s(50)), 0);
        assert_eq!(l.remove_from(s(35)), 6);
        assert_eq!(ranges(&l), vec![(10, 20), (30, 34)]);
        assert_eq!(l.remove_from(s(25)), 5);
        assert_eq!(ranges(&l), vec![(10, 20)]);
        assert_eq!(l.remove_from(s(5)), 11);
        assert!(l.is_empty());
        assert_eq!(l.remove_from(s(5)), 0);
        check_invariants(&l);
    }

    /// An empty list refuses a range of 2^30 numbers or more as a non-empty
    /// one does (the bound used to be skipped for the first range).
    #[test]
    fn empty_list_keeps_the_window() {
        let mut l = LossList::new(8);
        assert_eq!(l.insert(r(10, 10 + (1 << 30))), 0);
        assert!(l.is_empty());
        let max = SeqNumber::MAX.as_u32();
        assert_eq!(l.insert(r(max - 5, (1 << 30) - 6)), 0);
        assert!(l.is_empty());
        assert_eq!(l.insert(r(10, 9 + (1 << 30))), 1 << 30);
        check_invariants(&l);
    }

    #[test]
    fn pop_first_in_order() {
        let mut l = LossList::new(4);
        l.insert(r(7, 8));
        l.insert(r(3, 3));
        assert_eq!(l.first(), Some(s(3)));
        assert_eq!(l.pop_first(), Some(s(3)));
        assert_eq!(l.pop_first(), Some(s(7)));
        assert_eq!(l.pop_first(), Some(s(8)));
        assert_eq!(l.pop_first(), None);
    }

    #[test]
    fn across_the_wrap() {
        let max = SeqNumber::MAX.as_u32();
        let mut l = LossList::new(8);
        assert_eq!(l.insert(r(max - 2, 2)), 6);
        assert!(l.contains(s(0)) && l.contains(s(max)));
        assert!(!l.contains(s(3)) && !l.contains(s(max - 3)));
        assert!(l.remove(s(0)));
        assert_eq!(ranges(&l), vec![(max - 2, max), (1, 2)]);
        assert_eq!(l.insert(r(5, 5)), 1);
        assert_eq!(l.insert(r(max - 10, max - 10)), 1);
        assert_eq!(l.first(), Some(s(max - 10)));
        assert_eq!(l.remove_before(s(1)), 4);
        assert_eq!(ranges(&l), vec![(1, 2), (5, 5)]);
        check_invariants(&l);
    }

    #[test]
    fn refuses_bad_ranges() {
        let mut l = LossList::new(8);
        assert_eq!(l.insert(r(10, 5)), 0);
        assert_eq!(l.insert(r(10, 10)), 1);
        // Would span 2^30 or more.
        assert_eq!(l.insert(r(10 + (1 << 30), 10 + (1 << 30))), 0);
        assert_eq!(l.insert(r(11, 10 + (1 << 30))), 0);
        assert_eq!(l.insert(r(10 + (1 << 30) - 1, 10 + (1 << 30) - 1)), 1);
        assert!(!l.contains(s(10 + (1 << 30))));
        assert_eq!(l.remove_range(r(20, 15)), 0);
        check_invariants(&l);
    }

    #[test]
    fn full_list_keeps_a_superset() {
        let mut l = LossList::new(2);
        l.insert(r(10, 10));
        l.insert(r(20, 20));
        assert!(l.is_full());
        // Nearest is 20 (gap 2) rather than 10 (gap 12).
        assert_eq!(l.insert(r(23, 23)), 3);
        assert_eq!(ranges(&l), vec![(10, 10), (20, 23)]);
        assert_eq!(l.insert(r(12, 12)), 2);
        assert_eq!(ranges(&l), vec![(10, 12), (20, 23)]);
        assert_eq!(l.insert(r(1, 1)), 9);
        assert_eq!(ranges(&l), vec![(1, 12), (20, 23)]);
        // A split is refused.
        assert!(!l.remove(s(5)));
        assert_eq!(l.remove_range(r(3, 4)), 0);
        assert!(l.contains(s(5)));
        // Trimming an end is fine.
        assert!(l.remove(s(1)));
        assert_eq!(l.overflows(), 5);
        check_invariants(&l);
    }

    #[test]
    fn little_allocated_before_a_loss_and_nothing_once_grown() {
        let new = allocation_counter::measure(|| {
            let l = LossList::for_window(8192);
            assert!(l.is_empty());
        });
        assert!(
            new.bytes_total <= 16 * std::mem::size_of::<SeqRange>() as u64,
            "a new list has room for 16 ranges, not its capacity: {new:?}"
        );
        let mut l = LossList::for_window(64);
        let round = |l: &mut LossList, round: u32| {
            let base = SeqNumber::MAX.as_u32() - 20 + round * 7;
            for i in (0..64).step_by(2) {
                l.insert(SeqRange::single(s(base + i)));
            }
            l.remove(s(base + 10));
            l.remove_range(r(base + 20, base + 30));
            l.pop_first();
            l.remove_before(s(base + 40));
            let _ = l.iter_ranges().count();
            l.clear();
        };
        // The first round grows the list to the most ranges it holds.
        round(&mut l, 0);
        let info = allocation_counter::measure(|| {
            for n in 1..10u32 {
                round(&mut l, n);
            }
        });
        assert_eq!(info.count_total, 0);
    }

    #[derive(Clone, Debug)]
    enum Op {
        Insert(u32, u32),
        Remove(u32),
        RemoveRange(u32, u32),
        RemoveBefore(u32),
        PopFirst,
        Clear,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            6 => (0u32..300, 0u32..12).prop_map(|(a, n)| Op::Insert(a, n)),
            3 => (0u32..300).prop_map(Op::Remove),
            2 => (0u32..300, 0u32..20).prop_map(|(a, n)| Op::RemoveRange(a, n)),
            1 => (0u32..300).prop_map(Op::RemoveBefore),
            2 => Just(Op::PopFirst),
            1 => Just(Op::Clear),
        ]
    }

    fn base() -> impl Strategy<Value = u32> {
        prop_oneof![
            Just(SeqNumber::MAX.as_u32() - 150),
            Just(0u32),
            0u32..=SeqNumber::MAX.as_u32(),
        ]
    }

    /// Applies `op` to the list and the model (offsets from `base`); with
    /// `exact`, checks every result against the model.
    fn apply(l: &mut LossList, m: &mut BTreeSet<u32>, base: u32, op: &Op, exact: bool) {
        let at = |o: u32| s(base.wrapping_add(o));
        match *op {
            Op::Insert(a, n) => {
                let got = l.insert(SeqRange {
                    first: at(a),
                    last: at(a + n),
                });
                let new = (a..=a + n).filter(|v| m.insert(*v)).count() as u32;
                // A superset may already hold filler numbers, so only an
                // exact list can be held to the count.
                if exact {
                    assert_eq!(got, new);
                }
            }
            Op::Remove(a) => {
                let got = l.remove(at(a));
                if got {
                    // A superset may have held `a` as filler.
                    assert!(m.remove(&a) || !exact);
                } else if exact {
                    assert!(!m.contains(&a));
                }
            }
            Op::RemoveRange(a, n) => {
                let got = l.remove_range(SeqRange {
                    first: at(a),
                    last: at(a + n),
                });
                if got > 0 || exact {
                    let gone = (a..=a + n).filter(|v| m.remove(v)).count() as u32;
                    if exact {
                        assert_eq!(got, gone);
                    }
                }
            }
            Op::RemoveBefore(a) => {
                let before = m.len();
                let got = l.remove_before(at(a));
                m.retain(|v| *v >= a);
                if exact {
                    assert_eq!(got as usize, before - m.len());
                }
            }
            Op::PopFirst => {
                let got = l.pop_first();
                if exact {
                    assert_eq!(got, m.pop_first().map(at));
                } else if let Some(g) = got {
                    m.remove(&g.as_u32().wrapping_sub(base).wrapping_rem(1 << 31));
                }
            }
            Op::Clear => {
                l.clear();
                m.clear();
            }
        }
    }

    proptest! {
        #[test]
        fn matches_a_set(base in base(), ops in proptest::collection::vec(op(), 1..80)) {
            // Never full: the window is 332 numbers.
            let mut l = LossList::for_window(340);
            let mut m = BTreeSet::new();
            for op in &ops {
                apply(&mut l, &mut m, base, op, true);
                check_invariants(&l);
                let got: Vec<u32> = l
                    .iter_ranges()
                    .flat_map(|r| r.iter())
                    .map(|q| q.as_u32().wrapping_sub(base) & SeqNumber::MAX.as_u32())
                    .collect();
                let want: Vec<u32> = m.iter().copied().collect();
                prop_assert_eq!(got, want);
                prop_assert_eq!(l.first(), m.first().map(|v| s(base.wrapping_add(*v))));
                for probe in [0u32, 5, 50, 150, 151, 299, 310] {
                    prop_assert_eq!(l.contains(s(base.wrapping_add(probe))), m.contains(&probe));
                }
            }
        }

        #[test]
        fn small_list_keeps_a_superset(
            base in base(),
            cap in 1usize..5,
            ops in proptest::collection::vec(op(), 1..80),
        ) {
            let mut l = LossList::new(cap);
            let mut m = BTreeSet::new();
            for op in &ops {
                apply(&mut l, &mut m, base, op, false);
                check_invariants(&l);
                for v in &m {
                    prop_assert!(l.contains(s(base.wrapping_add(*v))), "lost {}", v);
                }
            }
        }
    }
}
