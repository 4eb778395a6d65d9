//! One direction of a connection's encryption: keys, packet cipher, refresh.

use super::cipher::{ctr_iv, gcm153_iv, gcm_aad, gcm_iv, PacketCipher};
use super::kdf::derive_kek;
use super::key::{Key, KeyIndex};
use super::km::{open_key_material, seal_key_material};
use super::{CryptoError, GCM_TAG_LEN, SALT_LEN};
use crate::packet::{Cipher, KeyMaterial, HEADER_LEN};
use core::fmt;

/// Header byte 4 holds the key flags KK in bits 4-3 (bits 28-27 of word 1).
const KK_SHIFT: u8 = 3;
const KK_MASK: u8 = 0b11 << KK_SHIFT;

/// When a sender refreshes its key, in packets (`SRTO_KMREFRESHRATE`,
/// `SRTO_KMPREANNOUNCE`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RefreshConfig {
    /// Packets encrypted with one key before switching to the next.
    pub refresh_rate: u32,
    /// Packets before the switch at which the next key is announced, and
    /// after it at which the old key is retired.
    pub pre_announce: u32,
}

impl RefreshConfig {
    /// libsrt's refresh rate when the option is 0 (`HAICRYPT_DEF_KM_REFRESH_RATE`).
    pub const DEFAULT_REFRESH_RATE: u32 = 0x100_0000;
    /// libsrt's pre-announce when the option is 0 (`SRT_CRYPT_KM_PRE_ANNOUNCE`,
    /// crypto.cpp; ⚠ not haicrypt.h's `HAICRYPT_DEF_KM_PRE_ANNOUNCE` 0x1000).
    pub const DEFAULT_PRE_ANNOUNCE: u32 = 0x1_0000;

    /// The schedule of the option values, 0 meaning libsrt's default
    /// (crypto.cpp `createCryptoCtx`). Range checks between the two are the
    /// options' business (socketconfig.cpp).
    pub fn from_options(refresh_rate: u32, pre_announce: u32) -> Self {
        RefreshConfig {
            refresh_rate: if refresh_rate == 0 {
                Self::DEFAULT_REFRESH_RATE
            } else {
                refresh_rate
            },
            pre_announce: if pre_announce == 0 {
                Self::DEFAULT_PRE_ANNOUNCE
            } else {
                pre_announce
            },
        }
    }
}

impl Default for RefreshConfig {
    fn default() -> Self {
        Self::from_options(0, 0)
    }
}

/// What the engine must do after a packet was encrypted
/// ([`CryptoContext::on_packet_encrypted`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RefreshAction {
    /// Nothing.
    None,
    /// Time to pre-announce the next key: generate a random SEK, give it to
    /// [`CryptoContext::install_next_key`] (it goes into `slot`, with the same
    /// salt), then send [`CryptoContext::key_material`] (now KK = both) in an
    /// EXT KMREQ, repeated until the peer's KMRSP echoes it. Returned again
    /// for every packet until the key is installed.
    PreAnnounce {
        /// The slot the new key goes into.
        slot: KeyIndex,
    },
    /// From the next packet on, data is encrypted with `to`
    /// ([`CryptoContext::active_key`]).
    Switched {
        /// The key now in use.
        to: KeyIndex,
    },
    /// The previous key was retired: [`CryptoContext::key_material`] now
    /// carries the active key alone. libsrt sends nothing for this. The key
    /// stays in its slot, for retransmissions of the packets it encrypted,
    /// until the next pre-announce replaces it (libsrt retransmits the
    /// ciphertext it stored, which its receiver can decrypt as long as it
    /// holds the key, i.e. until that same next announcement).
    Retired {
        /// The slot now empty.
        slot: KeyIndex,
    },
}

/// A sender's view of one key slot (the `HCRYPT_CTX_S_*` states).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SlotState {
    /// No key.
    Empty,
    /// The key data is encrypted with.
    Active,
    /// The next key, announced, not used yet.
    Announced,
    /// The previous key, kept until pre-announce packets after the switch.
    Deprecated,
    /// The key before the active one, no longer announced, kept for
    /// retransmissions until the next key replaces it.
    Retired,
}

/// A SEK with its salt, expanded for the cipher.
struct Slot {
    key: Key,
    salt: [u8; SALT_LEN],
    cipher: PacketCipher,
}

impl Slot {
    fn new(cipher: Cipher, key: Key, salt: [u8; SALT_LEN]) -> Result<Self, CryptoError> {
        Ok(Slot {
            cipher: PacketCipher::new(cipher, &key)?,
            key,
            salt,
        })
    }
}

/// One direction of a connection's encryption (a HaiCrypt session): salt,
/// KEK, the even and odd SEKs, cipher mode and, for a sender, the key
/// refresh schedule.
///
/// A connection holds two: the sender's, and the receiver's built from the
/// peer's key material. In HSv5 both start with the initiator's keys: the
/// initiator mirrors its sender context for receiving, the responder
/// mirrors its receiver context for sending (libsrt `HaiCrypt_Clone`).
/// Keys are wiped when dropped or replaced.
pub struct CryptoContext {
    cipher: Cipher,
    gcm153: bool,
    salt: [u8; SALT_LEN],
    salt_len: usize,
    kek: Key,
    slots: [Option<Slot>; 2],
    states: [SlotState; 2],
    active: KeyIndex,
    packets: u32,
    refresh: RefreshConfig,
}

impl fmt::Debug for CryptoContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CryptoContext")
            .field("cipher", &self.cipher)
            .field("gcm153", &self.gcm153)
            .field("key_len", &self.kek.key_len())
            .field("states", &self.states)
            .field("active", &self.active)
            .field("packets", &self.packets)
            .field("refresh", &self.refresh)
            .finish_non_exhaustive()
    }
}

/// Copies `salt` (at most 16 bytes) into a zero-padded array.
fn pad_salt(salt: &[u8]) -> Result<[u8; SALT_LEN], CryptoError> {
    let mut out = [0u8; SALT_LEN];
    out.get_mut(..salt.len())
        .ok_or(CryptoError::BadSaltLength(salt.len()))?
        .copy_from_slice(salt);
    Ok(out)
}

impl CryptoContext {
    /// A sender's context with a fresh `salt` and first SEK `sek` (the even
    /// key), both random bytes from the caller; the KEK is derived from
    /// `passphrase` (libsrt `HaiCrypt_Create` for sending).
    pub fn sender(
        passphrase: &[u8],
        cipher: Cipher,
        salt: &[u8; SALT_LEN],
        sek: &[u8],
        refresh: RefreshConfig,
    ) -> Result<Self, CryptoError> {
        let kek = derive_kek(passphrase, salt, sek.len())?;
        Self::sender_with_kek(kek, cipher, salt, sek, refresh)
    }

    /// As [`CryptoContext::sender`] with an already derived `kek` (which
    /// must be as long as `sek`).
    pub fn sender_with_kek(
        kek: Key,
        cipher: Cipher,
        salt: &[u8; SALT_LEN],
        sek: &[u8],
        refresh: RefreshConfig,
    ) -> Result<Self, CryptoError> {
        let sek = Key::new(sek)?;
        if sek.key_len() != kek.key_len() {
            return Err(CryptoError::BadKeyMaterial("SEK and KEK lengths differ"));
        }
        Ok(CryptoContext {
            cipher,
            gcm153: false,
            salt: *salt,
            salt_len: SALT_LEN,
            kek,
            slots: [Some(Slot::new(cipher, sek, *salt)?), None],
            states: [SlotState::Active, SlotState::Empty],
            active: KeyIndex::Even,
            // hcryptCtx_Tx_Rekey starts the first key's count at 1.
            packets: 1,
            refresh,
        })
    }

    /// A receiver's context from the peer's key material, the KEK derived
    /// from `passphrase` and the KM salt; the cipher follows the KM (compare
    /// [`KeyMaterial::cipher`] with the configured mode first to report
    /// `BADCRYPTOMODE`).
    pub fn receiver(passphrase: &[u8], km: &KeyMaterial) -> Result<Self, CryptoError> {
        let kek = derive_kek(passphrase, &km.salt, usize::from(km.key_len))?;
        Self::receiver_with_kek(kek, km)
    }

    /// As [`CryptoContext::receiver`] with an already derived `kek`.
    pub fn receiver_with_kek(kek: Key, km: &KeyMaterial) -> Result<Self, CryptoError> {
        let keys = open_key_material(&kek, km)?;
        let salt = pad_salt(&km.salt)?;
        let mut slots = [None, None];
        let mut states = [SlotState::Empty; 2];
        for index in [KeyIndex::Even, KeyIndex::Odd] {
            if let Some(key) = keys.get(index) {
                slots[index.slot()] = Some(Slot::new(km.cipher, key.clone(), salt)?);
                states[index.slot()] = SlotState::Announced;
            }
        }
        let active = if slots[0].is_some() {
            KeyIndex::Even
        } else {
            KeyIndex::Odd
        };
        states[active.slot()] = SlotState::Active;
        Ok(CryptoContext {
            cipher: km.cipher,
            gcm153: false,
            salt,
            salt_len: km.salt.len(),
            kek,
            slots,
            states,
            active,
            packets: 1,
            refresh: RefreshConfig::default(),
        })
    }

    /// Applies key material received later (EXT KMREQ, e.g. a key refresh):
    /// the SEK(s) it carries replace those in their slots. The KEK is
    /// derived again from `passphrase` only if the salt or key length
    /// changed (hcrypt_ctx_rx.c `hcryptCtx_Rx_ParseKM`). On error nothing
    /// changes.
    pub fn apply_key_material(
        &mut self,
        passphrase: &[u8],
        km: &KeyMaterial,
    ) -> Result<(), CryptoError> {
        if km.cipher != self.cipher {
            return Err(CryptoError::CipherMismatch);
        }
        let salt = pad_salt(&km.salt)?;
        let same_kek =
            km.salt.as_slice() == self.salt() && usize::from(km.key_len) == self.kek.key_len();
        let new_kek = if same_kek {
            None
        } else {
            Some(derive_kek(passphrase, &km.salt, usize::from(km.key_len))?)
        };
        let keys = open_key_material(new_kek.as_ref().unwrap_or(&self.kek), km)?;
        let mut fresh: [Option<Slot>; 2] = [None, None];
        for index in [KeyIndex::Even, KeyIndex::Odd] {
            if let Some(key) = keys.get(index) {
                fresh[index.slot()] = Some(Slot::new(self.cipher, key.clone(), salt)?);
            }
        }
        for (i, slot) in fresh.into_iter().enumerate() {
            if let Some(slot) = slot {
                self.slots[i] = Some(slot);
                if self.states[i] == SlotState::Empty {
                    self.states[i] = SlotState::Announced;
                }
            }
        }
        if let Some(kek) = new_kek {
            self.kek = kek;
            self.salt = salt;
            self.salt_len = km.salt.len();
        }
        Ok(())
    }

    /// A receiver's context holding this context's keys (an initiator
    /// decrypts the responder's data with its own keys at first).
    pub fn mirror_for_receiving(&self) -> Result<Self, CryptoError> {
        let mut slots = [None, None];
        let mut states = [SlotState::Empty; 2];
        for (i, slot) in self.slots.iter().enumerate() {
            if let Some(s) = slot {
                slots[i] = Some(Slot::new(self.cipher, s.key.clone(), s.salt)?);
                states[i] = SlotState::Announced;
            }
        }
        states[self.active.slot()] = SlotState::Active;
        Ok(CryptoContext {
            cipher: self.cipher,
            gcm153: self.gcm153,
            salt: self.salt,
            salt_len: self.salt_len,
            kek: self.kek.clone(),
            slots,
            states,
            active: self.active,
            packets: 1,
            refresh: RefreshConfig::default(),
        })
    }

    /// A sender's context taking over this receiver's key (a responder
    /// encrypts with the initiator's key at first): the even key, or the odd
    /// one if there is no even key, becomes the sender's even key (libsrt
    /// `hcryptCtx_Tx_CloneKey` always fills the first context).
    pub fn mirror_for_sending(&self, refresh: RefreshConfig) -> Result<Self, CryptoError> {
        let source = self.slots[0]
            .as_ref()
            .or(self.slots[1].as_ref())
            .ok_or(CryptoError::NoKey(KeyIndex::Even))?;
        Ok(CryptoContext {
            cipher: self.cipher,
            gcm153: self.gcm153,
            salt: source.salt,
            salt_len: self.salt_len,
            kek: self.kek.clone(),
            slots: [
                Some(Slot::new(self.cipher, source.key.clone(), source.salt)?),
                None,
            ],
            states: [SlotState::Active, SlotState::Empty],
            active: KeyIndex::Even,
            packets: 1,
            refresh,
        })
    }

    /// The cipher of this context's keys.
    pub fn cipher(&self) -> Cipher {
        self.cipher
    }

    /// The SEK (and KEK) length in bytes.
    pub fn key_len(&self) -> usize {
        self.kek.key_len()
    }

    /// The salt announced in key material.
    pub fn salt(&self) -> &[u8] {
        &self.salt[..self.salt_len]
    }

    /// Whether AES-GCM uses the IV and AAD layout of libsrt 1.5.2/1.5.3.
    pub fn gcm153(&self) -> bool {
        self.gcm153
    }

    /// Chooses the AES-GCM layout of libsrt 1.5.2/1.5.3 ("gcm153"), which
    /// libsrt uses iff the peer's SRT version is ≤ 1.5.3 (crypto.cpp).
    pub fn set_gcm153(&mut self, gcm153: bool) {
        self.gcm153 = gcm153;
    }

    /// The key a sender encrypts new packets with.
    pub fn active_key(&self) -> KeyIndex {
        self.active
    }

    /// Whether slot `index` holds a key (a retired one too, until replaced).
    pub fn has_key(&self, index: KeyIndex) -> bool {
        self.slots[index.slot()].is_some()
    }

    /// The refresh schedule.
    pub fn refresh_config(&self) -> RefreshConfig {
        self.refresh
    }

    /// The KM message to announce: both keys (even first) while two are
    /// held, around a refresh, otherwise the active key alone.
    pub fn key_material(&self) -> Result<KeyMaterial, CryptoError> {
        let announced = |i: usize| {
            self.slots[i]
                .as_ref()
                .filter(|_| self.states[i] != SlotState::Retired)
                .map(|s| &s.key)
        };
        let (even, odd) = (announced(0), announced(1));
        let (even, odd) = match self.active {
            _ if even.is_some() && odd.is_some() => (even, odd),
            KeyIndex::Even => (even, None),
            KeyIndex::Odd => (None, odd),
        };
        seal_key_material(&self.kek, self.cipher, self.salt(), even, odd)
    }

    /// Encrypts the payload `buf[..len]` of the data packet whose 16 header
    /// bytes are `header`, in place, with key `key`; returns the new payload
    /// length (`len`, or `len + 16` for AES-GCM, whose tag is written after
    /// the payload, so `buf` needs 16 bytes of room).
    ///
    /// The key flags KK of `header` are set to `key` first. The IV comes
    /// from the sequence number in header word 0, as in libsrt; for AES-GCM
    /// the header, with R cleared, is authenticated, so every header field
    /// must be final (core.cpp sets them before encrypting).
    ///
    /// Encrypt a packet once, when it is first sent, and keep the result:
    /// libsrt retransmits the stored ciphertext with R set, and its receiver
    /// ignores R. The timestamp is authenticated too, which is why libsrt
    /// allows AES-GCM only with TSBPD (a packet keeps its origin time).
    pub fn encrypt(
        &self,
        key: KeyIndex,
        header: &mut [u8; HEADER_LEN],
        buf: &mut [u8],
        len: usize,
    ) -> Result<usize, CryptoError> {
        let slot = self.slots[key.slot()]
            .as_ref()
            .ok_or(CryptoError::NoKey(key))?;
        let kk = match key {
            KeyIndex::Even => 1,
            KeyIndex::Odd => 2,
        };
        header[4] = (header[4] & !KK_MASK) | (kk << KK_SHIFT);
        let pki = [header[0], header[1], header[2], header[3]];
        let needed = match self.cipher {
            Cipher::AesCtr => len,
            Cipher::AesGcm => len + GCM_TAG_LEN,
        };
        if buf.len() < needed {
            return Err(CryptoError::BufferTooSmall {
                needed,
                have: buf.len(),
            });
        }
        match self.cipher {
            Cipher::AesCtr => {
                slot.cipher
                    .ctr_apply(&ctr_iv(&slot.salt, pki), &mut buf[..len])?;
            }
            Cipher::AesGcm => {
                let (nonce, aad) = self.gcm_params(&slot.salt, pki, header);
                let (data, rest) = buf.split_at_mut(len);
                let tag = slot.cipher.gcm_seal(&nonce, &aad, data)?;
                rest[..GCM_TAG_LEN].copy_from_slice(&tag);
            }
        }
        Ok(needed)
    }

    /// Decrypts the payload `buf` (for AES-GCM ending with its tag) of the
    /// data packet whose header is `header`, in place, with the key its KK
    /// flags name; returns the plaintext length. The R flag is ignored.
    ///
    /// A missing key is [`CryptoError::NoKey`], an AES-GCM payload that
    /// fails authentication [`CryptoError::AuthenticationFailed`] (`buf` is
    /// then unchanged); the engine drops such packets and counts them.
    pub fn decrypt(&self, header: &[u8; HEADER_LEN], buf: &mut [u8]) -> Result<usize, CryptoError> {
        let key = match (header[4] & KK_MASK) >> KK_SHIFT {
            1 => KeyIndex::Even,
            2 => KeyIndex::Odd,
            _ => return Err(CryptoError::NotEncrypted),
        };
        let slot = self.slots[key.slot()]
            .as_ref()
            .ok_or(CryptoError::NoKey(key))?;
        let pki = [header[0], header[1], header[2], header[3]];
        match self.cipher {
            Cipher::AesCtr => {
                slot.cipher.ctr_apply(&ctr_iv(&slot.salt, pki), buf)?;
                Ok(buf.len())
            }
            Cipher::AesGcm => {
                let len = buf
                    .len()
                    .checked_sub(GCM_TAG_LEN)
                    .ok_or(CryptoError::AuthenticationFailed)?;
                let (data, tag) = buf.split_at_mut(len);
                let mut t = [0u8; GCM_TAG_LEN];
                t.copy_from_slice(tag);
                let (nonce, aad) = self.gcm_params(&slot.salt, pki, header);
                slot.cipher.gcm_open(&nonce, &aad, data, &t)?;
                Ok(len)
            }
        }
    }

    fn gcm_params(
        &self,
        salt: &[u8; SALT_LEN],
        pki: [u8; 4],
        header: &[u8; HEADER_LEN],
    ) -> ([u8; 12], [u8; 16]) {
        let nonce = if self.gcm153 {
            gcm153_iv(salt, pki)
        } else {
            gcm_iv(salt, pki)
        };
        (nonce, gcm_aad(header, self.gcm153))
    }

    /// Counts one packet encrypted with the active key and says what the
    /// key refresh needs now; call it after each new (not retransmitted)
    /// packet is encrypted, as libsrt ≥ 1.5.2 does (core.cpp
    /// `packUniqueData` → `hcryptCtx_Tx_ManageKM`).
    ///
    /// With refresh rate R and pre-announce P, counting the first key from 1
    /// and later keys from 0 as libsrt does: after R − P packets of the
    /// first key the next key is pre-announced, after R it takes over (the
    /// first key encrypts packets 1..=R), and after P + 1 packets of the new
    /// key the old one is retired; later periods are R + 1 packets long.
    pub fn on_packet_encrypted(&mut self) -> RefreshAction {
        self.packets = self.packets.wrapping_add(1);
        let alt = self.active.other();
        let alt_state = self.states[alt.slot()];
        let RefreshConfig {
            refresh_rate,
            pre_announce,
        } = self.refresh;
        if self.packets > refresh_rate || self.packets == 0 {
            if alt_state != SlotState::Announced {
                // The engine has not installed the next key yet: keep the
                // current one and keep asking.
                return RefreshAction::PreAnnounce { slot: alt };
            }
            self.states[self.active.slot()] = SlotState::Deprecated;
            self.states[alt.slot()] = SlotState::Active;
            self.active = alt;
            self.packets = 0;
            RefreshAction::Switched { to: alt }
        } else if self.packets > refresh_rate.saturating_sub(pre_announce)
            && alt_state != SlotState::Announced
        {
            RefreshAction::PreAnnounce { slot: alt }
        } else if alt_state == SlotState::Deprecated && self.packets > pre_announce {
            self.states[alt.slot()] = SlotState::Retired;
            RefreshAction::Retired { slot: alt }
        } else {
            RefreshAction::None
        }
    }

    /// Installs `sek` (random bytes from the caller, as long as the current
    /// key) as the next key, in the slot that is not active, with the same
    /// salt and KEK (hcrypt_ctx_tx.c `hcryptCtx_Tx_Refresh`); returns that
    /// slot. [`CryptoContext::key_material`] then announces both keys.
    pub fn install_next_key(&mut self, sek: &[u8]) -> Result<KeyIndex, CryptoError> {
        let key = Key::new(sek)?;
        if key.key_len() != self.key_len() {
            return Err(CryptoError::BadKeyLength(key.key_len()));
        }
        let slot = self.active.other();
        let salt = self.slots[self.active.slot()]
            .as_ref()
            .map_or(self.salt, |s| s.salt);
        self.slots[slot.slot()] = Some(Slot::new(self.cipher, key, salt)?);
        self.states[slot.slot()] = SlotState::Announced;
        Ok(slot)
    }
}
