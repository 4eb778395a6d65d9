//! AES keys that wipe themselves, and the even/odd key slots.

use super::CryptoError;
use crate::packet::{DataKeyFlags, KmKeys};
use core::fmt;
use zeroize::Zeroize;

/// An AES-128, AES-192 or AES-256 key (a SEK or a KEK), zeroized on drop.
#[derive(Clone)]
pub struct Key {
    bytes: [u8; 32],
    len: u8,
}

impl Key {
    /// A copy of `bytes`, which must be 16, 24 or 32 bytes long.
    pub fn new(bytes: &[u8]) -> Result<Self, CryptoError> {
        check_key_len(bytes.len())?;
        let mut key = Key {
            bytes: [0; 32],
            len: bytes.len() as u8,
        };
        key.bytes[..bytes.len()].copy_from_slice(bytes);
        Ok(key)
    }

    /// An all-zero key of `len` bytes, to be filled through `as_mut_bytes`.
    pub(crate) fn zeroed(len: usize) -> Result<Self, CryptoError> {
        check_key_len(len)?;
        Ok(Key {
            bytes: [0; 32],
            len: len as u8,
        })
    }

    /// The key bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }

    pub(crate) fn as_mut_bytes(&mut self) -> &mut [u8] {
        &mut self.bytes[..usize::from(self.len)]
    }

    /// The key length in bytes: 16, 24 or 32.
    pub fn key_len(&self) -> usize {
        usize::from(self.len)
    }
}

impl Drop for Key {
    fn drop(&mut self) {
        self.bytes.zeroize();
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Key(<{} bytes>)", self.len)
    }
}

/// Fails unless `len` is an AES key length.
pub(crate) fn check_key_len(len: usize) -> Result<(), CryptoError> {
    if matches!(len, 16 | 24 | 32) {
        Ok(())
    } else {
        Err(CryptoError::BadKeyLength(len))
    }
}

/// One of the two stream-encrypting key slots.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeyIndex {
    /// The even key (KK `01`), the first key of a connection.
    Even,
    /// The odd key (KK `10`).
    Odd,
}

impl KeyIndex {
    /// The other slot.
    #[must_use]
    pub fn other(self) -> Self {
        match self {
            KeyIndex::Even => KeyIndex::Odd,
            KeyIndex::Odd => KeyIndex::Even,
        }
    }

    /// The key of a data packet's key flags (`None` for clear text).
    pub fn from_data_flags(flags: DataKeyFlags) -> Option<Self> {
        match flags {
            DataKeyFlags::Clear => None,
            DataKeyFlags::Even => Some(KeyIndex::Even),
            DataKeyFlags::Odd => Some(KeyIndex::Odd),
        }
    }

    /// The KK field of a KM message carrying only this key.
    pub fn km_keys(self) -> KmKeys {
        match self {
            KeyIndex::Even => KmKeys::Even,
            KeyIndex::Odd => KmKeys::Odd,
        }
    }

    pub(crate) fn slot(self) -> usize {
        match self {
            KeyIndex::Even => 0,
            KeyIndex::Odd => 1,
        }
    }
}
