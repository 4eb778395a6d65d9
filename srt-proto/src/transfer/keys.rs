//! The keys of a transfer: the sending and receiving crypto contexts,
//! which key each sent packet went out with, key refresh (the next key
//! announced by KMREQ until echoed) and the peer's in-band key material.

use super::{Ctrl, Rtt, Shared, HEADER_LEN_USIZE};
use crate::crypto::{CryptoContext, KeyIndex, RefreshAction};
use crate::packet::{DataPacket, EncodeError};
use crate::rng::SecretRng;
use crate::seq::SeqNumber;
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// The keys of a transfer.
#[derive(Debug)]
pub(super) struct Keys {
    pub(super) tx: Option<CryptoContext>,
    pub(super) rx: Option<CryptoContext>,
    pub(super) passphrase: Option<zeroize::Zeroizing<Vec<u8>>>,
    /// Sequence numbers before this were sent with the other key.
    key_switch: Option<(SeqNumber, KeyIndex)>,
    /// A KMREQ announcing a new key, repeated until the peer echoes it.
    pending_kmreq: Option<(crate::packet::KeyMaterial, Instant, u32)>,
    /// Refreshed session keys come from here (forked from the connection's).
    rng: SecretRng,
}

impl Keys {
    pub(super) fn new(
        tx: Option<CryptoContext>,
        rx: Option<CryptoContext>,
        passphrase: Option<zeroize::Zeroizing<Vec<u8>>>,
        rng: SecretRng,
    ) -> Self {
        Keys {
            tx,
            rx,
            passphrase,
            key_switch: None,
            pending_kmreq: None,
            rng,
        }
    }

    /// Whether what this side sends is encrypted.
    pub(super) fn encrypts(&self) -> bool {
        self.tx.is_some()
    }

    /// The key a new packet is encrypted with, if any.
    pub(super) fn active_key(&self) -> Option<KeyIndex> {
        self.tx.as_ref().map(CryptoContext::active_key)
    }

    /// Whether new packets must wait: a passphrase is set but there is no
    /// key to send with (without one libsrt's `CSndBuffer::readData` gets
    /// crypto flags -1: "NOT SENDING"; never clear text).
    pub(super) fn blocks_sending(&self) -> bool {
        self.tx.is_none() && self.passphrase.is_some()
    }

    /// Decrypts `packet`'s payload into `plain`; the plain length, or
    /// `None` if it cannot be decrypted here (no or wrong key,
    /// authentication failure, too long).
    pub(super) fn decrypt(&self, packet: &DataPacket<'_>, plain: &mut [u8]) -> Option<usize> {
        let rx = self.rx.as_ref()?;
        let n = packet.payload.len();
        let header = packet.header_bytes();
        let buf = plain.get_mut(..n)?;
        buf.copy_from_slice(packet.payload);
        rx.decrypt(&header, buf).ok()
    }

    /// An announced key not yet confirmed: KMREQ again every 1.5·SRTT,
    /// at most 10 times (crypto.cpp:518); the
    /// [`KmRefresh`](super::timer::Timer::KmRefresh) timer.
    pub(super) fn repeat_kmreq(&mut self, now: Instant, ctrl: &mut VecDeque<Ctrl>) {
        if let Some((km, last, tries)) = &mut self.pending_kmreq {
            if *tries >= 10 {
                self.pending_kmreq = None;
            } else {
                *tries += 1;
                *last = now;
                let km = Box::new(km.clone());
                ctrl.push_back(Ctrl::KmReq(km));
            }
        }
    }

    /// When the announced key's KMREQ is repeated.
    pub(super) fn kmreq_deadline(&self, rtt: &Rtt) -> Option<Instant> {
        self.pending_kmreq.as_ref().map(|(_, last, _)| {
            *last + Duration::from_micros((rtt.srtt.max(10_000) * 3 / 2) as u64)
        })
    }

    /// The key a packet was first sent with (for its retransmission).
    pub(super) fn key_for(&self, seq: SeqNumber) -> KeyIndex {
        let active = self
            .tx
            .as_ref()
            .map_or(KeyIndex::Even, CryptoContext::active_key);
        match self.key_switch {
            Some((switch_seq, old)) if seq.offset_from(switch_seq) < 0 => old,
            _ => active,
        }
    }

    /// Encrypts the data packet of `n` bytes at the start of `buf` in place.
    pub(super) fn encrypt_in_place(
        &self,
        key: KeyIndex,
        buf: &mut [u8],
        n: usize,
    ) -> Result<usize, EncodeError> {
        let Some(tx) = &self.tx else {
            return Ok(n);
        };
        let (head, body) = buf.split_at_mut(HEADER_LEN_USIZE);
        let header: &mut [u8; HEADER_LEN_USIZE] = head
            .try_into()
            .map_err(|_| EncodeError::FieldTooLarge("header"))?;
        tx.encrypt(key, header, body, n - HEADER_LEN_USIZE)
            .map(|len| HEADER_LEN_USIZE + len)
            .map_err(|_| EncodeError::BufferTooSmall {
                needed: n + crate::crypto::GCM_TAG_LEN,
                have: buf.len(),
            })
    }

    /// Key refresh after each new packet (libsrt hcrypt_ctx_tx): announce
    /// the next key ahead of the switch, remember where the switch was.
    pub(super) fn after_encrypt(
        &mut self,
        seq: SeqNumber,
        now: Instant,
        ctrl: &mut VecDeque<Ctrl>,
    ) {
        let Some(tx) = &mut self.tx else {
            return;
        };
        match tx.on_packet_encrypted() {
            RefreshAction::PreAnnounce { .. } => {
                let mut sek = zeroize::Zeroizing::new([0u8; 32]);
                self.rng.fill_bytes(&mut sek[..]);
                let len = tx.key_len();
                if tx.install_next_key(&sek[..len]).is_ok() {
                    if let Ok(km) = tx.key_material() {
                        ctrl.push_back(Ctrl::KmReq(Box::new(km.clone())));
                        self.pending_kmreq = Some((km, now, 0));
                    }
                }
            }
            RefreshAction::Switched { to } => {
                self.key_switch = Some((seq + 1, to.other()));
            }
            RefreshAction::Retired { .. } | RefreshAction::None => {}
        }
    }

    /// An in-band KMREQ (key refresh): take the new key and echo the KM.
    ///
    /// Once keys are agreed, key material of another key length (or
    /// cipher) than the one agreed is refused before any key derivation
    /// and counted in
    /// [`RejectedControl::km`](crate::stats::RejectedControl::km): a key
    /// refresh keeps the key length, and each derivation costs a PBKDF2.
    pub(super) fn on_km_request(&mut self, km: &crate::packet::KeyMaterial, sh: &mut Shared) {
        if let Some(rx) = &self.rx {
            // An honest peer keeps its salt (and so the KEK) across key
            // refreshes (haicrypt's hcryptCtx_Tx_Refresh): key material
            // with another salt would cost a PBKDF2 derivation per packet
            // to find out it does not open, so it is refused first.
            if usize::from(km.key_len) != rx.key_len()
                || km.cipher != rx.cipher()
                || km.salt.as_slice() != rx.salt()
            {
                sh.stats.rejected_mut().km += 1;
                return;
            }
        }
        let rsp = match (&mut self.rx, &self.passphrase) {
            (Some(rx), Some(pass)) => match rx.apply_key_material(pass, km) {
                Ok(()) => crate::packet::KmResponse::Material(km.clone()),
                Err(e) => crate::packet::KmResponse::State(e.km_state()),
            },
            (None, Some(pass)) => match CryptoContext::receiver(pass, km) {
                Ok(rx) => {
                    self.rx = Some(rx);
                    crate::packet::KmResponse::Material(km.clone())
                }
                Err(e) => crate::packet::KmResponse::State(e.km_state()),
            },
            (_, None) => crate::packet::KmResponse::State(crate::packet::KmState::NoSecret),
        };
        sh.ctrl.push_back(Ctrl::KmRsp(Box::new(rsp)));
    }

    /// An in-band KMRSP: the peer has our announced key.
    pub(super) fn on_km_response(&mut self, rsp: &crate::packet::KmResponse) {
        if let (Some((pending, _, _)), crate::packet::KmResponse::Material(km)) =
            (&self.pending_kmreq, rsp)
        {
            if pending == km {
                self.pending_kmreq = None;
            }
        }
    }
}
