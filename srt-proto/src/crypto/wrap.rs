//! RFC 3394 AES key wrap of the stream-encrypting keys.

use super::key::Key;
use super::CryptoError;
use aes_kw::{KekAes128, KekAes192, KekAes256};
use zeroize::Zeroize;

/// The bytes key wrap adds: the 8-byte integrity block (`A6` × 8 checked).
pub const WRAP_OVERHEAD: usize = 8;

/// Which way [`key_wrap`] goes.
#[derive(Clone, Copy)]
enum Direction {
    Wrap,
    Unwrap,
}

/// The first `len` bytes of `out`, or why it is too small.
fn prefix(out: &mut [u8], len: usize) -> Result<&mut [u8], CryptoError> {
    let have = out.len();
    out.get_mut(..len)
        .ok_or(CryptoError::BufferTooSmall { needed: len, have })
}

/// RFC 3394 with the AES of `kek`'s length (16, 24, else 32 bytes).
fn key_wrap(kek: &Key, dir: Direction, input: &[u8], out: &mut [u8]) -> Result<(), aes_kw::Error> {
    fn run<C>(
        k: aes_kw::Kek<C>,
        dir: Direction,
        input: &[u8],
        out: &mut [u8],
    ) -> Result<(), aes_kw::Error>
    where
        C: aes::cipher::KeyInit
            + aes::cipher::BlockCipher
            + aes::cipher::BlockSizeUser<BlockSize = aes::cipher::consts::U16>
            + aes::cipher::BlockEncrypt
            + aes::cipher::BlockDecrypt,
    {
        match dir {
            Direction::Wrap => k.wrap(input, out),
            Direction::Unwrap => k.unwrap(input, out),
        }
    }
    let kb = kek.as_bytes();
    match kb.len() {
        16 => run(KekAes128::try_from(kb)?, dir, input, out),
        24 => run(KekAes192::try_from(kb)?, dir, input, out),
        _ => run(KekAes256::try_from(kb)?, dir, input, out),
    }
}

/// Wraps `keys` (one SEK, or the even and the odd SEK concatenated) with
/// `kek` into `out`, returning the wrapped length `keys.len() + 8`.
///
/// `keys` must be a non-empty multiple of 8 bytes and at least 16 (RFC 3394
/// needs two 64-bit blocks); HaiCrypt's KEK is as long as one SEK.
pub fn wrap_keys(kek: &Key, keys: &[u8], out: &mut [u8]) -> Result<usize, CryptoError> {
    if keys.len() < 16 || keys.len() % 8 != 0 {
        return Err(CryptoError::BadKeyLength(keys.len()));
    }
    let len = keys.len() + WRAP_OVERHEAD;
    let out = prefix(out, len)?;
    key_wrap(kek, Direction::Wrap, keys, out).map_err(|_| CryptoError::BadKeyLength(keys.len()))?;
    Ok(len)
}

/// Unwraps `wrapped` with `kek` into `out`, returning the unwrapped length
/// `wrapped.len() - 8`.
///
/// An integrity check failure (the peer used another passphrase) is
/// [`CryptoError::BadSecret`]; `out` is then wiped.
pub fn unwrap_keys(kek: &Key, wrapped: &[u8], out: &mut [u8]) -> Result<usize, CryptoError> {
    if wrapped.len() < 16 + WRAP_OVERHEAD || wrapped.len() % 8 != 0 {
        return Err(CryptoError::BadKeyMaterial("wrapped key length"));
    }
    let len = wrapped.len() - WRAP_OVERHEAD;
    let out = prefix(out, len)?;
    match key_wrap(kek, Direction::Unwrap, wrapped, out) {
        Ok(()) => Ok(len),
        Err(aes_kw::Error::IntegrityCheckFailed) => {
            out.zeroize();
            Err(CryptoError::BadSecret)
        }
        Err(_) => {
            out.zeroize();
            Err(CryptoError::BadKeyMaterial("wrapped key length"))
        }
    }
}
