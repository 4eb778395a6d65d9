//! Maps keyed by socket ID with a one-multiplication hash: the endpoint
//! looks a connection up on every call and every datagram, and its
//! schedule on every refresh, so the lookup should cost a few
//! nanoseconds, not a walk down an ordered tree.
//!
//! The hash is fixed (no per-process seed), so a run stays a pure function
//! of its inputs; nothing depends on the maps' iteration order anyway (the
//! endpoint only takes minima over them and rebuilds heaps whose order is
//! that of their keys). The keys are our own socket IDs (random, then
//! counted down), never chosen by a peer: a peer's datagram can only probe
//! the map with an ID, which costs what any lookup costs.

use crate::packet::SocketId;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// A map keyed by socket ID (see the module docs).
pub(super) type IdMap<V> = HashMap<SocketId, V, BuildHasherDefault<IdHasher>>;

/// Fibonacci hashing of a 32-bit socket ID: the product's top bits (the
/// table's tags) and low bits (its buckets) both differ for consecutive IDs.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct IdHasher(u64);

/// 2⁶⁴ ÷ φ, odd.
const K: u64 = 0x9E37_79B9_7F4A_7C15;

impl Hasher for IdHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(K);
        }
    }

    fn write_u32(&mut self, n: u32) {
        self.0 = (self.0 ^ u64::from(n)).wrapping_mul(K);
    }

    fn finish(&self) -> u64 {
        // The top bits are the best mixed: bring them down to the bucket bits.
        self.0 ^ (self.0 >> 32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consecutive_ids_spread_over_buckets_and_tags() {
        let hash = |id: u32| {
            let mut h = IdHasher::default();
            h.write_u32(id);
            h.finish()
        };
        let base = 0x3FFF_0000u32;
        let buckets: std::collections::BTreeSet<u64> =
            (0..256).map(|i| hash(base - i) & 255).collect();
        let tags: std::collections::BTreeSet<u64> =
            (0..256).map(|i| hash(base - i) >> 57).collect();
        assert!(buckets.len() > 150, "{} buckets", buckets.len());
        assert!(tags.len() > 100, "{} tags", tags.len());
    }

    #[test]
    fn a_map_finds_what_it_holds() {
        let mut m: IdMap<u32> = IdMap::default();
        for i in 0..1000 {
            m.insert(SocketId((1 << 30) - i), i);
        }
        for i in 0..1000 {
            assert_eq!(m.get(&SocketId((1 << 30) - i)), Some(&i));
        }
        assert_eq!(m.get(&SocketId(7)), None);
    }
}
