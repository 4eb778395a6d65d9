//! Key material messages built from, and opened into, stream-encrypting keys.

use super::key::{check_key_len, Key, KeyIndex};
use super::wrap::{unwrap_keys, wrap_keys, WRAP_OVERHEAD};
use super::{CryptoError, SALT_LEN};
use crate::packet::{Cipher, KeyMaterial, KmKeys};
use arrayvec::ArrayVec;
use zeroize::Zeroize;

/// The stream-encrypting keys a KM message carried.
#[derive(Clone, Debug, Default)]
pub struct SessionKeys {
    /// The even key, if announced.
    pub even: Option<Key>,
    /// The odd key, if announced.
    pub odd: Option<Key>,
}

impl SessionKeys {
    /// The key of slot `index`, if announced.
    pub fn get(&self, index: KeyIndex) -> Option<&Key> {
        match index {
            KeyIndex::Even => self.even.as_ref(),
            KeyIndex::Odd => self.odd.as_ref(),
        }
    }
}

/// Builds the KM message a sender announces: `salt`, the SEK(s) wrapped with
/// `kek` (even first when both are given), key index 0.
///
/// Every SEK must be as long as the KEK (hcrypt_ctx_tx.c
/// `hcryptCtx_Tx_AsmKM`); the salt is at most 16 bytes, a multiple of 4.
pub fn seal_key_material(
    kek: &Key,
    cipher: Cipher,
    salt: &[u8],
    even: Option<&Key>,
    odd: Option<&Key>,
) -> Result<KeyMaterial, CryptoError> {
    let keys = match (even, odd) {
        (Some(_), None) => KmKeys::Even,
        (None, Some(_)) => KmKeys::Odd,
        (Some(_), Some(_)) => KmKeys::Both,
        (None, None) => return Err(CryptoError::BadKeyMaterial("no key to announce")),
    };
    if salt.len() > SALT_LEN || salt.len() % 4 != 0 {
        return Err(CryptoError::BadSaltLength(salt.len()));
    }
    let key_len = kek.key_len();
    let mut plain = [0u8; 64];
    let mut n = 0;
    for sek in [even, odd].into_iter().flatten() {
        if sek.key_len() != key_len {
            plain.zeroize();
            return Err(CryptoError::BadKeyMaterial("SEK and KEK lengths differ"));
        }
        plain[n..n + key_len].copy_from_slice(sek.as_bytes());
        n += key_len;
    }
    let mut wrapped = [0u8; 72];
    let result = wrap_keys(kek, &plain[..n], &mut wrapped);
    plain.zeroize();
    let len = result?;
    let mut km = KeyMaterial {
        keys,
        keki: 0,
        cipher,
        salt: ArrayVec::new(),
        key_len: key_len as u8,
        wrapped_keys: ArrayVec::new(),
    };
    km.salt
        .try_extend_from_slice(salt)
        .map_err(|_| CryptoError::BadSaltLength(salt.len()))?;
    km.wrapped_keys
        .try_extend_from_slice(&wrapped[..len])
        .map_err(|_| CryptoError::BadKeyMaterial("wrapped keys too long"))?;
    Ok(km)
}

/// Unwraps the SEK(s) of a received KM message with `kek`.
///
/// The checks of `hcryptCtx_Rx_ParseKM` that the wire decoder
/// (`KeyMaterial::decode`) does not already make: key length 16, 24 or 32,
/// the KEK as long as the keys, wrapped length 8 + n × key length. A KEK
/// that does not unwrap (another passphrase) is [`CryptoError::BadSecret`].
/// Like libsrt, the key index (KEKI) is not checked.
pub fn open_key_material(kek: &Key, km: &KeyMaterial) -> Result<SessionKeys, CryptoError> {
    let key_len = usize::from(km.key_len);
    check_key_len(key_len)?;
    if kek.key_len() != key_len {
        return Err(CryptoError::BadKeyMaterial("KEK and SEK lengths differ"));
    }
    if km.wrapped_keys.len() != WRAP_OVERHEAD + km.keys.count() * key_len {
        return Err(CryptoError::BadKeyMaterial(
            "wrapped length does not match the keys",
        ));
    }
    let mut plain = [0u8; 64];
    let result = unwrap_keys(kek, &km.wrapped_keys, &mut plain).and_then(|_| {
        let first = Key::new(&plain[..key_len])?;
        Ok(match km.keys {
            KmKeys::Even => SessionKeys {
                even: Some(first),
                odd: None,
            },
            KmKeys::Odd => SessionKeys {
                even: None,
                odd: Some(first),
            },
            KmKeys::Both => SessionKeys {
                even: Some(first),
                odd: Some(Key::new(&plain[key_len..2 * key_len])?),
            },
        })
    });
    plain.zeroize();
    result
}
