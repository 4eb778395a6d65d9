//! The packet ciphers: AES-CTR and AES-GCM keyed with one SEK, and the IV
//! and associated data HaiCrypt derives from a data packet header.

use super::key::Key;
use super::{CryptoError, GCM_TAG_LEN};
use crate::packet::Cipher;
use aes::{Aes128, Aes192, Aes256};
use aes_gcm::aead::consts::U12;
use aes_gcm::aead::{AeadInPlace, KeyInit};
use aes_gcm::{Aes128Gcm, Aes256Gcm, AesGcm};
use ctr::cipher::consts::U16;
use ctr::cipher::generic_array::GenericArray;
use ctr::cipher::{
    BlockCipher, BlockEncrypt, BlockSizeUser, InnerIvInit, StreamCipher, StreamCipherCoreWrapper,
};
use ctr::CtrCore;

type Aes192Gcm = AesGcm<Aes192, U12>;

/// An AES-CTR keystream over a borrowed, already expanded block cipher.
fn ctr_stream<'a, C>(
    cipher: &'a C,
    iv: &GenericArray<u8, U16>,
) -> StreamCipherCoreWrapper<CtrCore<&'a C, ctr::flavors::Ctr128BE>>
where
    C: BlockEncrypt + BlockCipher + BlockSizeUser<BlockSize = U16>,
{
    StreamCipherCoreWrapper::from_core(CtrCore::inner_iv_init(cipher, iv))
}

/// One SEK, expanded for its cipher.
// The variants differ in size (AES-256-GCM is the largest); a connection
// holds at most four of them (two slots, two directions), built when a key
// arrives, never per packet, so boxing would buy nothing.
#[allow(clippy::large_enum_variant)]
pub(crate) enum PacketCipher {
    Ctr128(Aes128),
    Ctr192(Aes192),
    Ctr256(Aes256),
    Gcm128(Aes128Gcm),
    Gcm192(Aes192Gcm),
    Gcm256(Aes256Gcm),
}

impl PacketCipher {
    /// `key` expanded for `cipher`.
    pub(crate) fn new(cipher: Cipher, key: &Key) -> Result<Self, CryptoError> {
        let k = key.as_bytes();
        let bad = |_| CryptoError::BadKeyLength(k.len());
        Ok(match (cipher, k.len()) {
            (Cipher::AesCtr, 16) => PacketCipher::Ctr128(Aes128::new_from_slice(k).map_err(bad)?),
            (Cipher::AesCtr, 24) => PacketCipher::Ctr192(Aes192::new_from_slice(k).map_err(bad)?),
            (Cipher::AesCtr, _) => PacketCipher::Ctr256(Aes256::new_from_slice(k).map_err(bad)?),
            (Cipher::AesGcm, 16) => {
                PacketCipher::Gcm128(Aes128Gcm::new_from_slice(k).map_err(bad)?)
            }
            (Cipher::AesGcm, 24) => {
                PacketCipher::Gcm192(Aes192Gcm::new_from_slice(k).map_err(bad)?)
            }
            (Cipher::AesGcm, _) => PacketCipher::Gcm256(Aes256Gcm::new_from_slice(k).map_err(bad)?),
        })
    }

    /// XORs `data` with the AES-CTR keystream from counter block `iv`
    /// (the whole 128-bit block counts up big-endian, as OpenSSL's CTR does).
    pub(crate) fn ctr_apply(&self, iv: &[u8; 16], data: &mut [u8]) -> Result<(), CryptoError> {
        let iv = iv.into();
        match self {
            PacketCipher::Ctr128(c) => ctr_stream::<Aes128>(c, iv).try_apply_keystream(data),
            PacketCipher::Ctr192(c) => ctr_stream::<Aes192>(c, iv).try_apply_keystream(data),
            PacketCipher::Ctr256(c) => ctr_stream::<Aes256>(c, iv).try_apply_keystream(data),
            _ => return Err(CryptoError::CipherMismatch),
        }
        .map_err(|_| CryptoError::PayloadTooLong(data.len()))
    }

    /// Encrypts `data` in place with AES-GCM, returning the tag.
    pub(crate) fn gcm_seal(
        &self,
        nonce: &[u8; 12],
        aad: &[u8],
        data: &mut [u8],
    ) -> Result<[u8; GCM_TAG_LEN], CryptoError> {
        let nonce = nonce.into();
        let tag = match self {
            PacketCipher::Gcm128(c) => c.encrypt_in_place_detached(nonce, aad, data),
            PacketCipher::Gcm192(c) => c.encrypt_in_place_detached(nonce, aad, data),
            PacketCipher::Gcm256(c) => c.encrypt_in_place_detached(nonce, aad, data),
            _ => return Err(CryptoError::CipherMismatch),
        }
        .map_err(|_| CryptoError::AuthenticationFailed)?;
        Ok(tag.into())
    }

    /// Checks `tag` and decrypts `data` in place with AES-GCM; on failure
    /// `data` is left as it was.
    pub(crate) fn gcm_open(
        &self,
        nonce: &[u8; 12],
        aad: &[u8],
        data: &mut [u8],
        tag: &[u8; GCM_TAG_LEN],
    ) -> Result<(), CryptoError> {
        let nonce = nonce.into();
        let tag = tag.into();
        match self {
            PacketCipher::Gcm128(c) => c.decrypt_in_place_detached(nonce, aad, data, tag),
            PacketCipher::Gcm192(c) => c.decrypt_in_place_detached(nonce, aad, data, tag),
            PacketCipher::Gcm256(c) => c.decrypt_in_place_detached(nonce, aad, data, tag),
            _ => return Err(CryptoError::CipherMismatch),
        }
        .map_err(|_| CryptoError::AuthenticationFailed)
    }
}

/// The AES-CTR counter block of a packet (hcrypt.h `hcrypt_SetCtrIV`):
/// salt[0..14] XOR (10 zero bytes ‖ packet index big-endian), then a 16-bit
/// block counter from 0. The packet index is header word 0 as on the wire,
/// i.e. the sequence number.
///
/// ⚠ draft-sharabayko-srt §6.2.2 shifts the index left by 2 bits; libsrt
/// does not (§6.1.2 of the draft is right).
pub(crate) fn ctr_iv(salt: &[u8; 16], pki: [u8; 4]) -> [u8; 16] {
    let mut iv = [0u8; 16];
    iv[10..14].copy_from_slice(&pki);
    for (b, s) in iv[..14].iter_mut().zip(salt) {
        *b ^= s;
    }
    iv
}

/// The AES-GCM nonce of libsrt 1.5.4+ (hcrypt.h `hcrypt_SetGcmIV`):
/// salt[0..12] XOR (8 zero bytes ‖ packet index big-endian).
pub(crate) fn gcm_iv(salt: &[u8; 16], pki: [u8; 4]) -> [u8; 12] {
    let mut iv = [0u8; 12];
    iv[8..12].copy_from_slice(&pki);
    for (b, s) in iv.iter_mut().zip(salt) {
        *b ^= s;
    }
    iv
}

/// The AES-GCM nonce of libsrt 1.5.2/1.5.3 ("gcm153"): the CTR counter block
/// handed to OpenSSL, whose GCM IV length stays at its default of 12 bytes,
/// so only the first 12 count: salt[0..12] XOR (10 zero bytes ‖ the high 16
/// bits of the packet index).
pub(crate) fn gcm153_iv(salt: &[u8; 16], pki: [u8; 4]) -> [u8; 12] {
    let ctr = ctr_iv(salt, pki);
    let mut iv = [0u8; 12];
    iv.copy_from_slice(&ctr[..12]);
    iv
}

/// Mask of the retransmission flag R in header byte 4 (bit 26 of word 1).
pub(crate) const R_FLAG: u8 = 0x04;

/// The AES-GCM associated data: the 16 header bytes as on the wire with the
/// R flag cleared (libsrt ≥ 1.5.4: `htonl` of each host-order word; the
/// receiver clears R before decrypting, core.cpp); for gcm153, libsrt
/// 1.5.2/1.5.3 passed its host-order (little-endian) header words, i.e.
/// each 4-byte word byte-reversed.
pub(crate) fn gcm_aad(header: &[u8; 16], gcm153: bool) -> [u8; 16] {
    let mut aad = *header;
    aad[4] &= !R_FLAG;
    if gcm153 {
        for word in aad.chunks_exact_mut(4) {
            word.reverse();
        }
    }
    aad
}
