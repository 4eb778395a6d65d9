//! The key-encrypting key from a passphrase (PBKDF2-HMAC-SHA1).

use super::key::{check_key_len, Key};
use super::{CryptoError, SALT_LEN};

/// PBKDF2 iterations of HaiCrypt (`HAICRYPT_PBKDF2_ITER_CNT`).
pub const PBKDF2_ITERATIONS: u32 = 2048;

/// How many bytes at the end of the KM salt are PBKDF2's salt
/// (`HAICRYPT_PBKDF2_SALT_LEN`).
pub const PBKDF2_SALT_LEN: usize = 8;

/// Derives the KEK for SEKs of `key_len` bytes from `passphrase` and the KM
/// message's `salt`.
///
/// KEK = PBKDF2-HMAC-SHA1(passphrase, last min(8, salt length) bytes of the
/// salt, 2048 iterations, `key_len` bytes) (hcrypt_sa.c
/// `hcryptCtx_GenSecret`). libsrt's salt is always 16 bytes; a shorter
/// received salt is used as libsrt would. The passphrase length rule of
/// `SRTO_PASSPHRASE` (10..=80) is the options' business; only an empty
/// passphrase is refused here.
pub fn derive_kek(passphrase: &[u8], salt: &[u8], key_len: usize) -> Result<Key, CryptoError> {
    if passphrase.is_empty() {
        return Err(CryptoError::EmptyPassphrase);
    }
    check_key_len(key_len)?;
    if salt.len() > SALT_LEN {
        return Err(CryptoError::BadSaltLength(salt.len()));
    }
    let pbkdf2_salt = &salt[salt.len() - salt.len().min(PBKDF2_SALT_LEN)..];
    let mut kek = Key::zeroed(key_len)?;
    pbkdf2_hmac_sha1(
        passphrase,
        pbkdf2_salt,
        PBKDF2_ITERATIONS,
        kek.as_mut_bytes(),
    );
    Ok(kek)
}

/// PBKDF2 with HMAC-SHA1, as OpenSSL's `PKCS5_PBKDF2_HMAC_SHA1`.
pub(crate) fn pbkdf2_hmac_sha1(password: &[u8], salt: &[u8], rounds: u32, out: &mut [u8]) {
    pbkdf2::pbkdf2_hmac::<sha1::Sha1>(password, salt, rounds, out);
}
