//! The engine's one kind of random generator.
//!
//! Every random value of an endpoint (socket IDs, ISNs, rendezvous and SYN
//! cookie secrets, salts, session keys and refreshed session keys) comes
//! from a [`SecretRng`]: ChaCha20, a cryptographically secure generator.
//! The endpoint's is made from 32 bytes of OS entropy handed in by the
//! driver ([`crate::EndpointConfig::new`]); each connection gets one of its
//! own made from 32 bytes of the endpoint's ([`SecretRng::fork`]), and its
//! transfer one from the connection's. Nothing is ever seeded from a value
//! that travels on the wire (ISN, socket ID, cookie, timestamp).
//!
//! Only with feature `sim` (or in this crate's tests) can a generator be
//! made from a 64-bit seed alone (`EndpointConfig::seeded`): runs are
//! then reproducible, and predictable. This file is the only place in the
//! engine where a generator is constructed from a seed; the guard test
//! `tests/rng_guard.rs` keeps it so.

use rand_chacha::ChaCha20Rng;
use rand_core::{RngCore, SeedableRng};
use zeroize::Zeroizing;

/// A ChaCha20 generator whose output may be secret (salts, keys).
///
/// [`Endpoint`](crate::Endpoint) makes its own; a user driving a
/// [`Connection`](crate::Connection) alone gives each one a generator made
/// with [`SecretRng::new`] or forked from one.
pub struct SecretRng(ChaCha20Rng);

impl std::fmt::Debug for SecretRng {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretRng(..)")
    }
}

impl SecretRng {
    /// A generator keyed with 32 bytes of operating-system entropy.
    pub fn new(entropy: [u8; 32]) -> Self {
        let entropy = Zeroizing::new(entropy);
        Self::keyed(&entropy, 0)
    }

    /// An endpoint's generator: the driver's 32 bytes of entropy, with
    /// `seed` (public, possibly zero) folded into the first 8 bytes.
    pub(crate) fn keyed(entropy: &[u8; 32], seed: u64) -> Self {
        let mut key = Zeroizing::new(*entropy);
        for (k, s) in key.iter_mut().zip(seed.to_le_bytes()) {
            *k ^= s;
        }
        SecretRng(ChaCha20Rng::from_seed(*key))
    }

    /// A generator from a 64-bit seed alone: reproducible and predictable,
    /// for simulation and tests only.
    #[cfg(any(test, feature = "sim"))]
    pub(crate) fn seed_only(seed: u64) -> Self {
        SecretRng(ChaCha20Rng::seed_from_u64(seed))
    }

    /// A generator of its own for a connection (or its transfer): keyed
    /// with 32 bytes of this one's output, which nobody else sees.
    pub fn fork(&mut self) -> Self {
        let mut key = Zeroizing::new([0u8; 32]);
        self.0.fill_bytes(&mut key[..]);
        SecretRng(ChaCha20Rng::from_seed(*key))
    }

    /// Fills `dest` with random bytes.
    pub(crate) fn fill_bytes(&mut self, dest: &mut [u8]) {
        self.0.fill_bytes(dest);
    }

    /// A random `u32`.
    pub(crate) fn next_u32(&mut self) -> u32 {
        self.0.next_u32()
    }

    /// A random `u64`.
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entropy_and_seed_both_matter() {
        let mut a = SecretRng::keyed(&[1; 32], 7);
        let mut b = SecretRng::keyed(&[2; 32], 7);
        let mut c = SecretRng::keyed(&[1; 32], 8);
        let mut a2 = SecretRng::keyed(&[1; 32], 7);
        let (x, y, z, x2) = (a.next_u64(), b.next_u64(), c.next_u64(), a2.next_u64());
        assert_ne!(x, y);
        assert_ne!(x, z);
        assert_eq!(x, x2);
    }

    #[test]
    fn forks_differ_from_each_other_and_from_the_parent() {
        let mut parent = SecretRng::seed_only(1);
        let mut f1 = parent.fork();
        let mut f2 = parent.fork();
        let mut twin = SecretRng::seed_only(1);
        let mut t1 = twin.fork();
        let (a, b) = (f1.next_u64(), f2.next_u64());
        assert_ne!(a, b);
        assert_ne!(a, parent.next_u64());
        // Reproducible from the seed.
        assert_eq!(a, t1.next_u64());
    }
}
