//! The settings of one socket, resolved from its [`SocketOptions`].

use crate::crypto::RefreshConfig;
use crate::handshake::{CryptoSettings, HsSettings};
use crate::options::{Congestion, SocketOptions};
use crate::packet::SrtVersion;
use crate::transfer::TransferConfig;
use std::time::Duration;

/// The timers of a connection that the application chooses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnTimers {
    /// `SRTO_CONNTIMEO`: how long to try to connect (rendezvous: 10×).
    pub connect_timeout: Duration,
    /// `SRTO_PEERIDLETIMEO`: silence after which a connection is broken.
    pub peer_idle_timeout: Duration,
}

impl Default for ConnTimers {
    fn default() -> Self {
        ConnTimers {
            connect_timeout: Duration::from_secs(3),
            peer_idle_timeout: Duration::from_secs(5),
        }
    }
}

/// The settings of one socket: what its handshake carries and its timers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SocketConfig {
    /// Handshake settings.
    pub handshake: HsSettings,
    /// Connection timers.
    pub timers: ConnTimers,
    /// Data transfer settings.
    pub transfer: TransferConfig,
    /// `SRTO_LINGER`: how long a graceful close waits for unacknowledged data.
    pub linger: Option<Duration>,
    /// Encryption, when a passphrase is set.
    pub crypto: Option<CryptoSettings>,
}

impl From<&SocketOptions> for SocketConfig {
    fn from(o: &SocketOptions) -> Self {
        let ms = |d: Duration| d.as_millis().min(u128::from(u16::MAX)) as u16;
        SocketConfig {
            handshake: HsSettings {
                transtype: o.transtype,
                tsbpd: o.tsbpdmode,
                rcv_latency_ms: ms(o.rcvlatency),
                peer_latency_ms: ms(o.peerlatency),
                tlpktdrop: o.tlpktdrop,
                nakreport: o.nakreport,
                message_api: o.messageapi,
                congestion: match o.congestion {
                    Congestion::Live => b"live".to_vec(),
                    Congestion::File => b"file".to_vec(),
                },
                stream_id: o.streamid.as_bytes().to_vec(),
                min_version: SrtVersion(o.minversion),
                mss: o.mss,
                flow_window: o.flight_capacity(),
                has_passphrase: o.passphrase.is_some(),
                enforced_encryption: o.enforcedencryption,
                packet_filter: o.packetfilter.as_ref().map(|f| f.as_str().to_owned()),
                rendezvous: o.rendezvous,
                group: None,
                group_connect: o.groupconnect,
            },
            timers: ConnTimers {
                connect_timeout: o.conntimeo,
                peer_idle_timeout: o.peeridletimeo,
            },
            transfer: TransferConfig::from(o),
            linger: o.linger,
            crypto: o.passphrase.as_ref().map(|p| CryptoSettings {
                passphrase: zeroize::Zeroizing::new(p.as_bytes().to_vec()),
                key_len: o.pbkeylen,
                cipher: match o.cryptomode {
                    crate::options::CryptoMode::AesGcm => crate::packet::Cipher::AesGcm,
                    _ => crate::packet::Cipher::AesCtr,
                },
                // libsrt's "auto" is AES-CTR without TSBPD (crypto.cpp `init`).
                cipher_fixed: o.cryptomode != crate::options::CryptoMode::Auto || !o.tsbpdmode,
                refresh: RefreshConfig::from_options(o.kmrefreshrate, o.kmpreannounce),
            }),
        }
    }
}

impl From<&SocketOptions> for TransferConfig {
    fn from(o: &SocketOptions) -> Self {
        TransferConfig {
            payload_size: o.effective_payload_size() as usize,
            snd_buf_packets: o.sndbuf_pkts.max(2) as usize,
            rcv_buf_packets: o.rcvbuf_pkts.max(2) as usize,
            max_bw: o.maxbw,
            input_bw: o.inputbw,
            min_input_bw: o.mininputbw,
            overhead_pct: u32::from(o.oheadbw),
            snd_drop_delay: o.snddropdelay,
            drift_tracer: o.drifttracer,
            loss_max_ttl: o.lossmaxttl.max(0) as u32,
        }
    }
}
