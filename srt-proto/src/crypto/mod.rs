//! Encryption: passphrase key derivation, key wrap, the key material of a connection, AES-CTR and AES-GCM packet ciphers.
//!
//! HaiCrypt as libsrt 1.5 does it (`haicrypt/`, `srtcore/crypto.cpp`):
//!
//! - [`derive_kek`]: the key-encrypting key (KEK) is PBKDF2-HMAC-SHA1 of the
//!   passphrase over the **last 8 bytes** of the salt, 2048 iterations, as
//!   long as the stream-encrypting key (SEK).
//! - [`wrap_keys`] / [`unwrap_keys`]: RFC 3394 AES key wrap of one or two
//!   SEKs (even first); an integrity failure is [`CryptoError::BadSecret`],
//!   which the engine reports as KM state `BADSECRET`.
//! - [`seal_key_material`] / [`open_key_material`]: the KM message of a
//!   KMREQ/KMRSP built from, or opened into, SEKs.
//! - [`CryptoContext`]: one direction of a connection's encryption: salt,
//!   KEK, the even and odd SEKs, the cipher (AES-CTR, AES-GCM in libsrt
//!   1.5.4+'s layout or in the "gcm153" layout of 1.5.2/1.5.3 peers), and
//!   on the sending side the key refresh schedule of `hcrypt_ctx_tx.c`.
//!   Packets are encrypted and decrypted in place, without allocating.
//!
//! Randomness (salt, SEKs) is always handed in by the caller; nothing here
//! reads a clock or an OS random source, and no input makes it panic.

mod cipher;
mod context;
mod kdf;
mod key;
mod km;
mod wrap;

#[cfg(test)]
mod tests;

pub use context::{CryptoContext, RefreshAction, RefreshConfig};
pub use kdf::{derive_kek, PBKDF2_ITERATIONS, PBKDF2_SALT_LEN};
pub use key::{Key, KeyIndex};
pub use km::{open_key_material, seal_key_material, SessionKeys};
pub use wrap::{unwrap_keys, wrap_keys, WRAP_OVERHEAD};

use crate::packet::KmState;

/// The salt length libsrt generates and announces.
pub const SALT_LEN: usize = 16;

/// The length of the AES-GCM authentication tag appended to a payload.
pub const GCM_TAG_LEN: usize = 16;

/// Why a key could not be derived, wrapped or unwrapped, or a packet could
/// not be encrypted or decrypted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CryptoError {
    /// The passphrase is empty.
    #[error("empty passphrase")]
    EmptyPassphrase,
    /// A key length other than 16, 24 or 32 bytes.
    #[error("key length {0} is not 16, 24 or 32")]
    BadKeyLength(usize),
    /// A salt longer than 16 bytes.
    #[error("salt length {0} is longer than 16")]
    BadSaltLength(usize),
    /// The wrapped keys failed the key wrap integrity check: the
    /// passphrases differ (KM state `BADSECRET`).
    #[error("key unwrap failed: wrong passphrase")]
    BadSecret,
    /// The key material is for another cipher than this context's
    /// (KM state `BADCRYPTOMODE`).
    #[error("key material cipher does not match")]
    CipherMismatch,
    /// Key material whose parts do not fit together.
    #[error("inconsistent key material: {0}")]
    BadKeyMaterial(&'static str),
    /// The packet names a key this context does not hold.
    #[error("no {0:?} key")]
    NoKey(KeyIndex),
    /// A data packet header whose key flags say clear text (or `11`).
    #[error("data packet is not encrypted with a single key")]
    NotEncrypted,
    /// An output buffer is too small.
    #[error("buffer of {have} bytes is too small for {needed}")]
    BufferTooSmall {
        /// The bytes needed.
        needed: usize,
        /// The bytes available.
        have: usize,
    },
    /// A payload too long for the AES-CTR block counter (never for SRT's
    /// at most 1456-byte payloads).
    #[error("payload of {0} bytes is too long")]
    PayloadTooLong(usize),
    /// An AES-GCM payload failed authentication (or is shorter than its tag).
    #[error("AES-GCM authentication failed")]
    AuthenticationFailed,
}

impl CryptoError {
    /// The KM state libsrt reports when processing key material fails this way.
    ///
    /// `HAICRYPT_ERROR_WRONG_SECRET` ⇒ `BADSECRET`, `HAICRYPT_ERROR_CIPHER` ⇒
    /// `BADCRYPTOMODE` (libsrt builds without the AEAD API report
    /// `BADSECRET` there instead), anything else ⇒ `NOSECRET`
    /// (crypto.cpp `processSrtMsg_KMREQ`).
    pub fn km_state(self) -> KmState {
        match self {
            CryptoError::BadSecret => KmState::BadSecret,
            CryptoError::CipherMismatch => KmState::BadCryptoMode,
            _ => KmState::NoSecret,
        }
    }
}
