//! The key material (KM) message of HaiCrypt, carried in KMREQ/KMRSP.
//!
//! Its bytes are in network order exactly as laid out in libsrt's
//! `haicrypt/hcrypt_msg.h`; unlike the other handshake blocks libsrt does not
//! byte-swap them on the wire.

use super::{check_room, DecodeError, EncodeError};
use arrayvec::ArrayVec;

/// The largest KM message: 16-byte header, 16-byte salt, two wrapped
/// 32-byte keys and the 8-byte key wrap integrity block (libsrt caps at 104).
pub const KM_MAX_LEN: usize = 104;
const KM_HEADER_LEN: usize = 16;
const KM_VERSION: u8 = 1;
const KM_PACKET_TYPE: u8 = 2;
const KM_SIGN: u16 = 0x2029;
const SE_TSSRT: u8 = 2;
const WRAP_OVERHEAD: usize = 8;

/// Which stream-encrypting keys a KM message carries (the KK field).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KmKeys {
    /// The even key only.
    Even,
    /// The odd key only.
    Odd,
    /// Both keys, even first (during a key refresh).
    Both,
}

impl KmKeys {
    /// How many keys the message wraps.
    pub fn count(self) -> usize {
        match self {
            KmKeys::Both => 2,
            _ => 1,
        }
    }

    fn bits(self) -> u8 {
        match self {
            KmKeys::Even => 1,
            KmKeys::Odd => 2,
            KmKeys::Both => 3,
        }
    }
}

/// The cipher and authentication of a KM message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Cipher {
    /// AES in counter mode, no authentication (cipher 2, auth 0).
    AesCtr,
    /// AES-GCM, authenticated (cipher 4, auth 1).
    AesGcm,
}

/// The key material states of libsrt (`SRT_KM_STATE`), also sent as a
/// one-word KMRSP when key material could not be accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum KmState {
    /// No encryption (`SRT_KM_S_UNSECURED`).
    Unsecured = 0,
    /// Keys exchange in progress (`SRT_KM_S_SECURING`).
    Securing = 1,
    /// Keys agreed (`SRT_KM_S_SECURED`).
    Secured = 2,
    /// This side has no passphrase (`SRT_KM_S_NOSECRET`).
    NoSecret = 3,
    /// The passphrases differ (`SRT_KM_S_BADSECRET`).
    BadSecret = 4,
    /// The cipher modes differ (`SRT_KM_S_BADCRYPTOMODE`).
    BadCryptoMode = 5,
}

impl KmState {
    /// The state of wire value `value`.
    pub fn from_u32(value: u32) -> Result<Self, DecodeError> {
        Ok(match value {
            0 => KmState::Unsecured,
            1 => KmState::Securing,
            2 => KmState::Secured,
            3 => KmState::NoSecret,
            4 => KmState::BadSecret,
            5 => KmState::BadCryptoMode,
            other => return Err(DecodeError::UnknownKmState(other)),
        })
    }
}

/// A KM message: the salt and the wrapped stream-encrypting key(s).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct KeyMaterial {
    /// Which keys are wrapped.
    pub keys: KmKeys,
    /// The key-encrypting key index (0 in libsrt).
    pub keki: u32,
    /// The cipher the keys are for.
    pub cipher: Cipher,
    /// The salt (16 bytes in libsrt).
    pub salt: ArrayVec<u8, 16>,
    /// The length of one stream-encrypting key: 16, 24 or 32 bytes.
    pub key_len: u8,
    /// The AES-key-wrapped keys: 8 + `keys.count()` × `key_len` bytes.
    pub wrapped_keys: ArrayVec<u8, 72>,
}

impl KeyMaterial {
    /// Decodes a KM message, applying libsrt's receiver checks.
    pub fn decode(buf: &[u8]) -> Result<Self, DecodeError> {
        if buf.len() <= KM_HEADER_LEN {
            return Err(DecodeError::KeyMaterial("shorter than its header"));
        }
        if buf.len() > KM_MAX_LEN {
            return Err(DecodeError::KeyMaterial("longer than 104 bytes"));
        }
        if buf[0] >> 4 != KM_VERSION || buf[0] & 0xF != KM_PACKET_TYPE {
            return Err(DecodeError::KeyMaterial("not a version 1 KM message"));
        }
        if u16::from_be_bytes([buf[1], buf[2]]) != KM_SIGN {
            return Err(DecodeError::KeyMaterial("bad signature"));
        }
        let keys = match buf[3] & 0b11 {
            1 => KmKeys::Even,
            2 => KmKeys::Odd,
            3 => KmKeys::Both,
            _ => return Err(DecodeError::KeyMaterial("no key")),
        };
        let keki = u32::from_be_bytes([buf[4], buf[5], buf[6], buf[7]]);
        let cipher = match (buf[8], buf[9]) {
            (2, 0) => Cipher::AesCtr,
            (4, 1) => Cipher::AesGcm,
            _ => return Err(DecodeError::KeyMaterial("unsupported cipher")),
        };
        if buf[10] != SE_TSSRT {
            return Err(DecodeError::KeyMaterial("stream encapsulation is not SRT"));
        }
        let salt_len = usize::from(buf[14]) * 4;
        if salt_len > 16 {
            return Err(DecodeError::KeyMaterial("salt longer than 16 bytes"));
        }
        let key_len = buf[15].wrapping_mul(4);
        if !matches!(buf[15], 4 | 6 | 8) {
            return Err(DecodeError::KeyMaterial("key length not 16, 24 or 32"));
        }
        let wrap_len = WRAP_OVERHEAD + keys.count() * usize::from(key_len);
        if buf.len() != KM_HEADER_LEN + salt_len + wrap_len {
            return Err(DecodeError::KeyMaterial("length does not match its keys"));
        }
        let salt_end = KM_HEADER_LEN + salt_len;
        let mut salt = ArrayVec::new();
        salt.try_extend_from_slice(&buf[KM_HEADER_LEN..salt_end])
            .map_err(|_| DecodeError::KeyMaterial("salt longer than 16 bytes"))?;
        let mut wrapped_keys = ArrayVec::new();
        wrapped_keys
            .try_extend_from_slice(&buf[salt_end..])
            .map_err(|_| DecodeError::KeyMaterial("wrapped keys too long"))?;
        Ok(KeyMaterial {
            keys,
            keki,
            cipher,
            salt,
            key_len,
            wrapped_keys,
        })
    }

    /// The encoded length in bytes.
    pub fn encoded_len(&self) -> usize {
        KM_HEADER_LEN + self.salt.len() + self.wrapped_keys.len()
    }

    /// Writes the KM message to the start of `buf`.
    pub fn encode(&self, buf: &mut [u8]) -> Result<usize, EncodeError> {
        if self.salt.len() % 4 != 0 {
            return Err(EncodeError::FieldTooLarge("KM salt not a multiple of 4"));
        }
        if !matches!(self.key_len, 16 | 24 | 32) {
            return Err(EncodeError::FieldTooLarge("KM key length"));
        }
        let len = self.encoded_len();
        check_room(buf, len)?;
        let (cipher, auth) = match self.cipher {
            Cipher::AesCtr => (2, 0),
            Cipher::AesGcm => (4, 1),
        };
        buf[0] = (KM_VERSION << 4) | KM_PACKET_TYPE;
        buf[1..3].copy_from_slice(&KM_SIGN.to_be_bytes());
        buf[3] = self.keys.bits();
        buf[4..8].copy_from_slice(&self.keki.to_be_bytes());
        buf[8] = cipher;
        buf[9] = auth;
        buf[10] = SE_TSSRT;
        buf[11..14].fill(0);
        buf[14] = (self.salt.len() / 4) as u8;
        buf[15] = self.key_len / 4;
        let salt_end = KM_HEADER_LEN + self.salt.len();
        buf[KM_HEADER_LEN..salt_end].copy_from_slice(&self.salt);
        buf[salt_end..len].copy_from_slice(&self.wrapped_keys);
        Ok(len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<u8> {
        let mut km = vec![0x12, 0x20, 0x29, 0x01, 0, 0, 0, 0, 2, 0, 2, 0, 0, 0, 4, 4];
        km.extend(1..=16u8); // salt
        km.extend(100..124u8); // 8 + 16 wrapped
        km
    }

    #[test]
    fn decodes_and_reencodes() {
        let bytes = sample();
        let km = KeyMaterial::decode(&bytes).unwrap();
        assert_eq!(km.keys, KmKeys::Even);
        assert_eq!(km.cipher, Cipher::AesCtr);
        assert_eq!(km.key_len, 16);
        assert_eq!(km.salt.as_slice(), (1..=16).collect::<Vec<u8>>());
        let mut out = [0u8; 128];
        let n = km.encode(&mut out).unwrap();
        assert_eq!(&out[..n], &bytes[..]);
    }

    #[test]
    fn rejects_what_libsrt_rejects() {
        let good = sample();
        let bad = |at: usize, v: u8| {
            let mut b = good.clone();
            b[at] = v;
            KeyMaterial::decode(&b).is_err()
        };
        assert!(bad(0, 0x22)); // version
        assert!(bad(1, 0x21)); // sign
        assert!(bad(3, 0)); // no key
        assert!(bad(3, 3)); // both keys but one wrapped
        assert!(bad(8, 1)); // ECB
        assert!(bad(9, 1)); // CTR with auth
        assert!(bad(10, 1)); // SE TSUDP
        assert!(bad(14, 5)); // salt 20
        assert!(bad(15, 5)); // key 20
        assert!(KeyMaterial::decode(&good[..good.len() - 1]).is_err());
        assert!(KeyMaterial::decode(&good[..16]).is_err());
        assert!(KeyMaterial::decode(&[0u8; 200]).is_err());
    }
}
