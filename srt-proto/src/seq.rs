//! Wrapping numbers of the SRT wire: 31-bit sequence numbers, 26-bit message
//! numbers and 32-bit microsecond timestamps.
//!
//! Each is a point on a ring. Comparisons and offsets take the shorter way
//! round the ring (as libsrt's `CSeqNo::seqcmp`/`seqoff` and `RollNumber` do),
//! so they are meaningful only between values less than half a ring apart.
//! That is why these types implement [`PartialOrd`] but not [`Ord`]: the
//! order is not transitive across the whole ring.

use core::cmp::Ordering;
use core::fmt;

/// `Display` as the plain decimal number (as libsrt's logs print it) for a
/// newtype over an integer; with a name, also `Debug` as `Name(number)`.
macro_rules! number_fmt {
    ($t:ty) => {
        impl core::fmt::Display for $t {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                core::fmt::Display::fmt(&self.0, f)
            }
        }
    };
    ($t:ty, $name:literal) => {
        number_fmt!($t);
        impl core::fmt::Debug for $t {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                write!(f, concat!($name, "({})"), self.0)
            }
        }
    };
}
pub(crate) use number_fmt;

/// `new`, `new_truncate` and `as_u32` of a number kept in the low `$bits`
/// bits of a `u32`, whose largest value is `Self::MAX`.
macro_rules! masked_ctors {
    ($t:ident, $bits:literal) => {
        #[doc = concat!("The number `value`, or `None` if it does not fit in ", $bits, " bits.")]
        pub const fn new(value: u32) -> Option<Self> {
            if value <= Self::MAX.0 {
                Some($t(value))
            } else {
                None
            }
        }

        #[doc = concat!("The number made of the low ", $bits, " bits of `value`.")]
        pub const fn new_truncate(value: u32) -> Self {
            $t(value & Self::MAX.0)
        }

        /// The number as it is carried on the wire.
        pub const fn as_u32(self) -> u32 {
            self.0
        }
    };
}

/// Signed distance `a - b` on a ring of `size` values starting at `min`,
/// taking the shorter way round (ties resolve to the positive half).
fn ring_offset(a: u32, b: u32, min: u32, size: u32) -> i32 {
    let a = u64::from(a - min);
    let b = u64::from(b - min);
    let size = u64::from(size);
    let forward = (a + size - b) % size; // distance from b forward to a
    if forward <= size / 2 {
        forward as i32
    } else {
        -((size - forward) as i32)
    }
}

/// `a + delta` on a ring of `size` values starting at `min`.
fn ring_add(a: u32, delta: i32, min: u32, size: u32) -> u32 {
    let size = i64::from(size);
    let pos = (i64::from(a - min) + i64::from(delta)).rem_euclid(size);
    pos as u32 + min
}

/// A 31-bit packet sequence number (0 ..= 2³¹−1, wrapping to 0).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct SeqNumber(u32);

impl SeqNumber {
    /// The largest sequence number, after which numbering wraps to 0.
    pub const MAX: SeqNumber = SeqNumber(0x7FFF_FFFF);
    const SIZE: u32 = 0x8000_0000;

    masked_ctors!(SeqNumber, "31");

    /// The number after this one.
    #[must_use]
    pub fn next(self) -> Self {
        self + 1
    }

    /// The number before this one.
    #[must_use]
    pub fn prev(self) -> Self {
        self - 1
    }

    /// How far `self` is ahead of `earlier` (negative if behind), the short
    /// way round; libsrt's `seqoff(earlier, self)`.
    pub fn offset_from(self, earlier: SeqNumber) -> i32 {
        ring_offset(self.0, earlier.0, 0, Self::SIZE)
    }
}

/// Moves a sequence number by `delta` (negative moves back), wrapping.
impl core::ops::Add<i32> for SeqNumber {
    type Output = SeqNumber;
    fn add(self, delta: i32) -> SeqNumber {
        SeqNumber(ring_add(self.0, delta, 0, Self::SIZE))
    }
}

/// Moves a sequence number back by `delta`, wrapping.
impl core::ops::Sub<i32> for SeqNumber {
    type Output = SeqNumber;
    fn sub(self, delta: i32) -> SeqNumber {
        SeqNumber(ring_add(self.0, delta.wrapping_neg(), 0, Self::SIZE))
    }
}

impl PartialOrd for SeqNumber {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.offset_from(*other).cmp(&0))
    }
}

number_fmt!(SeqNumber, "Seq");

/// An inclusive range of sequence numbers, `first ..= last`, which may wrap.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct SeqRange {
    /// The first number of the range.
    pub first: SeqNumber,
    /// The last number of the range (not before `first`).
    pub last: SeqNumber,
}

impl SeqRange {
    /// The range `first ..= last`, or `None` if `last` is before `first`.
    pub fn new(first: SeqNumber, last: SeqNumber) -> Option<Self> {
        (last.offset_from(first) >= 0).then_some(SeqRange { first, last })
    }

    /// The range holding only `seq`.
    pub fn single(seq: SeqNumber) -> Self {
        SeqRange {
            first: seq,
            last: seq,
        }
    }

    /// How many sequence numbers the range holds (libsrt's `seqlen`).
    pub fn len(&self) -> u32 {
        self.last.offset_from(self.first) as u32 + 1
    }

    /// Always false: a range holds at least one number.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Whether `seq` lies in the range.
    pub fn contains(&self, seq: SeqNumber) -> bool {
        let off = seq.offset_from(self.first);
        off >= 0 && (off as u32) < self.len()
    }

    /// The numbers of the range, in order.
    pub fn iter(&self) -> impl Iterator<Item = SeqNumber> {
        let first = self.first;
        (0..self.len()).map(move |i| first + i as i32)
    }
}

/// A 26-bit message number (1 ..= 2²⁶−1, wrapping to 1; 0 is reserved for
/// packet-filter packets).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct MsgNumber(u32);

impl MsgNumber {
    /// The largest message number, after which numbering wraps to 1.
    pub const MAX: MsgNumber = MsgNumber(0x03FF_FFFF);
    /// The reserved message number of packet-filter (FEC) packets.
    pub const FILTER: MsgNumber = MsgNumber(0);
    /// The first message number a socket uses.
    pub const FIRST: MsgNumber = MsgNumber(1);

    masked_ctors!(MsgNumber, "26");

    /// The number after this one (skipping the reserved 0).
    #[must_use]
    pub fn next(self) -> Self {
        self + 1
    }

    /// How far `self` is ahead of `earlier`, the short way round the ring
    /// 1 ..= 2²⁶−1 (libsrt's `MsgNo` difference).
    pub fn offset_from(self, earlier: MsgNumber) -> i32 {
        ring_offset(self.0.max(1), earlier.0.max(1), 1, Self::MAX.0)
    }
}

/// Moves a message number by `delta`, wrapping within 1 ..= 2²⁶−1; the
/// reserved number 0 moves as if it were 1.
impl core::ops::Add<i32> for MsgNumber {
    type Output = MsgNumber;
    fn add(self, delta: i32) -> MsgNumber {
        MsgNumber(ring_add(self.0.max(1), delta, 1, Self::MAX.0))
    }
}

impl PartialOrd for MsgNumber {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        if self == other {
            return Some(Ordering::Equal);
        }
        Some(self.offset_from(*other).cmp(&0))
    }
}

number_fmt!(MsgNumber, "Msg");

/// A 32-bit packet timestamp: microseconds since the sending socket started,
/// modulo 2³² (about 71.6 minutes).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Timestamp(u32);

impl Timestamp {
    /// The timestamp of `micros` microseconds, wrapped to 32 bits.
    pub const fn from_micros(micros: u64) -> Self {
        Timestamp(micros as u32)
    }

    /// The timestamp as it is carried on the wire.
    pub const fn from_u32(value: u32) -> Self {
        Timestamp(value)
    }

    /// The wire value in microseconds.
    pub const fn as_u32(self) -> u32 {
        self.0
    }

    /// This timestamp moved by `delta` microseconds, wrapping.
    #[must_use]
    pub fn add_micros(self, delta: i32) -> Self {
        Timestamp(self.0.wrapping_add_signed(delta))
    }

    /// Microseconds from `earlier` to `self`, the short way round.
    pub fn offset_from(self, earlier: Timestamp) -> i32 {
        self.0.wrapping_sub(earlier.0) as i32
    }
}

impl PartialOrd for Timestamp {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.offset_from(*other).cmp(&0))
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}µs", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// libsrt's `CSeqNo::seqoff(seq1, seq2)`, transcribed for comparison.
    fn libsrt_seqoff(seq1: i32, seq2: i32) -> i32 {
        const MAX: i64 = 0x7FFF_FFFF;
        const TH: i64 = 0x3FFF_FFFF;
        let (s1, s2) = (i64::from(seq1), i64::from(seq2));
        if (s1 - s2).abs() < TH {
            return (s2 - s1) as i32;
        }
        if s1 < s2 {
            (s2 - s1 - MAX - 1) as i32
        } else {
            (s2 - s1 + MAX + 1) as i32
        }
    }

    #[test]
    fn seq_wraps() {
        assert_eq!(SeqNumber::MAX.next(), SeqNumber::new(0).unwrap());
        assert_eq!(SeqNumber::new(0).unwrap().prev(), SeqNumber::MAX);
        assert!(SeqNumber::new(0).unwrap() > SeqNumber::MAX);
        assert_eq!(SeqNumber::new(2).unwrap().offset_from(SeqNumber::MAX), 3);
        assert_eq!(SeqNumber::new(0x8000_0000), None);
        let r = SeqRange::new(SeqNumber::MAX - 1, SeqNumber::new(1).unwrap()).unwrap();
        assert_eq!(r.len(), 4);
        assert!(r.contains(SeqNumber::new(0).unwrap()));
        assert!(!r.contains(SeqNumber::new(2).unwrap()));
    }

    #[test]
    fn msg_wraps_skipping_zero() {
        assert_eq!(MsgNumber::MAX.next(), MsgNumber::FIRST);
        assert_eq!(MsgNumber::FIRST + -1, MsgNumber::MAX);
        assert_eq!(MsgNumber::FIRST.offset_from(MsgNumber::MAX), 1);
        assert!(MsgNumber::FIRST > MsgNumber::MAX);
    }

    #[test]
    fn timestamp_wraps() {
        let late = Timestamp::from_u32(u32::MAX - 4);
        let early = Timestamp::from_u32(5);
        assert_eq!(early.offset_from(late), 10);
        assert!(early > late);
        assert_eq!(late.add_micros(10), early);
    }

    fn seq() -> impl Strategy<Value = SeqNumber> {
        (0u32..=0x7FFF_FFFF).prop_map(|v| SeqNumber::new(v).unwrap())
    }

    fn msg() -> impl Strategy<Value = MsgNumber> {
        (1u32..=0x03FF_FFFF).prop_map(|v| MsgNumber::new(v).unwrap())
    }

    proptest! {
        #[test]
        fn seq_add_then_offset(a in seq(), d in -0x3FFF_FFFFi32..=0x3FFF_FFFF) {
            let b = a + d;
            prop_assert_eq!(b.offset_from(a), d);
            prop_assert_eq!(b - d, a);
            prop_assert!(b.as_u32() <= SeqNumber::MAX.as_u32());
        }

        #[test]
        fn seq_matches_libsrt(a in seq(), b in seq()) {
            // Away from the exact half-ring point, our offset is libsrt's.
            let ours = b.offset_from(a);
            if ours.unsigned_abs() < 0x3FFF_FFFF {
                prop_assert_eq!(ours, libsrt_seqoff(a.as_u32() as i32, b.as_u32() as i32));
            }
        }

        #[test]
        fn seq_order_is_antisymmetric(a in seq(), d in 1i32..0x3FFF_FFFF) {
            let b = a + d;
            prop_assert!(b > a);
            prop_assert!(a < b);
            prop_assert_eq!(a.next().offset_from(a), 1);
        }

        #[test]
        fn seq_range_across_wrap(first in seq(), len in 1u32..10_000) {
            let last = first + (len as i32 - 1);
            let r = SeqRange::new(first, last).unwrap();
            prop_assert_eq!(r.len(), len);
            prop_assert!(r.contains(first) && r.contains(last));
            prop_assert!(!r.contains(first.prev()) && !r.contains(last.next()));
            prop_assert_eq!(r.iter().count() as u32, len);
            prop_assert_eq!(r.iter().last(), Some(last));
        }

        #[test]
        fn msg_add_then_offset(a in msg(), d in -0x01FF_FFFEi32..=0x01FF_FFFE) {
            let b = a + d;
            prop_assert_eq!(b.offset_from(a), d);
            prop_assert!(b.as_u32() >= 1 && b.as_u32() <= MsgNumber::MAX.as_u32());
        }

        #[test]
        fn timestamp_add_then_offset(t in any::<u32>(), d in any::<i32>()) {
            let a = Timestamp::from_u32(t);
            prop_assert_eq!(a.add_micros(d).offset_from(a), d);
        }
    }
}
