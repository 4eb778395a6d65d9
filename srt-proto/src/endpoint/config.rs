//! The settings, statistics, errors and accept hook of an [`Endpoint`](super::Endpoint).

use crate::handshake::TransType;
use crate::options::SocketOptions;
use crate::packet::{Handshake, RejectReason, SocketId, SrtFlags, SrtVersion};
use crate::rng::SecretRng;
use std::net::SocketAddr;

/// The settings of an [`Endpoint`](super::Endpoint).
///
/// Made with [`EndpointConfig::new`] from 32 bytes of operating-system
/// entropy: every random value of the endpoint (socket IDs, ISNs, SYN
/// cookie secret, rendezvous cookies, salts, session keys and refreshed
/// session keys) comes from a ChaCha20 generator keyed with it. Only the
/// simulator and tests (feature `sim`) may make one from a seed alone.
#[derive(Clone)]
pub struct EndpointConfig {
    /// Public, reproducible part of the generator's key (simulation).
    seed: u64,
    /// Secret part of the generator's key.
    entropy: Entropy,
    /// At most this many connections at once; more are refused with
    /// [`RejectReason::Resource`].
    pub max_connections: usize,
    /// At most this many stateless replies (induction answers, rejections)
    /// wait for [`Endpoint::poll_transmit`](super::Endpoint::poll_transmit); more are dropped, as a full
    /// UDP send buffer would.
    pub max_stateless_replies: usize,
}

impl std::fmt::Debug for EndpointConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EndpointConfig")
            .field("seed", &self.seed)
            .field("entropy", &self.entropy)
            .field("max_connections", &self.max_connections)
            .field("max_stateless_replies", &self.max_stateless_replies)
            .finish()
    }
}

/// The secret part of an endpoint generator's key.
#[derive(Clone)]
enum Entropy {
    /// 32 bytes from the operating system.
    Os(zeroize::Zeroizing<[u8; 32]>),
    /// None: the seed alone (simulation and tests).
    #[cfg(any(test, feature = "sim"))]
    SeedOnly,
}

impl std::fmt::Debug for Entropy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Entropy::Os(_) => f.write_str("Os(..)"),
            #[cfg(any(test, feature = "sim"))]
            Entropy::SeedOnly => f.write_str("SeedOnly"),
        }
    }
}

impl EndpointConfig {
    /// The settings of an endpoint on a real network: `entropy` must be
    /// 32 bytes from the operating system (e.g. `getrandom`), fresh for
    /// each endpoint; the keys are only as unpredictable as it is.
    pub fn new(entropy: [u8; 32]) -> Self {
        Self::with_entropy(0, Entropy::Os(zeroize::Zeroizing::new(entropy)))
    }

    /// Settings whose randomness comes from `seed` alone: a run is
    /// reproducible, and its keys predictable (simulation and tests only).
    #[cfg(any(test, feature = "sim"))]
    pub fn seeded(seed: u64) -> Self {
        Self::with_entropy(seed, Entropy::SeedOnly)
    }

    /// Settings whose randomness comes from `seed` and `entropy` (for
    /// tests showing that the entropy, not the seed, makes the keys).
    #[cfg(any(test, feature = "sim"))]
    pub fn seeded_with_entropy(seed: u64, entropy: [u8; 32]) -> Self {
        Self::with_entropy(seed, Entropy::Os(zeroize::Zeroizing::new(entropy)))
    }

    fn with_entropy(seed: u64, entropy: Entropy) -> Self {
        EndpointConfig {
            seed,
            entropy,
            max_connections: 65_536,
            max_stateless_replies: 1024,
        }
    }

    /// The endpoint's generator.
    pub(super) fn rng(&self) -> SecretRng {
        match &self.entropy {
            Entropy::Os(entropy) => SecretRng::keyed(entropy, self.seed),
            #[cfg(any(test, feature = "sim"))]
            Entropy::SeedOnly => SecretRng::seed_only(self.seed),
        }
    }
}

/// What a caller asks, shown to the accept hook before the listener
/// processes its CONCLUSION.
#[derive(Clone, Copy, Debug)]
pub struct ConnectionRequest<'a> {
    /// The caller's address.
    pub peer: SocketAddr,
    /// The handshake version (5).
    pub hs_version: u32,
    /// The caller's SRT version, from its HSREQ.
    pub srt_version: Option<SrtVersion>,
    /// The stream ID the caller sent (empty if none).
    pub stream_id: &'a [u8],
    /// The caller's transmission type, from its HSREQ: live if it sends
    /// with TSBPD (`SRT_OPT_TSBPDSND`), file otherwise; `None` without HSREQ.
    pub trans_type: Option<TransType>,
    /// The caller's GROUP block (`SRT_CMD_GROUP`) if it connects a member
    /// of a socket group.
    pub group: Option<crate::packet::GroupBlock>,
}

impl<'a> ConnectionRequest<'a> {
    /// The request `hs` from `peer` makes.
    pub(super) fn new(peer: SocketAddr, hs: &'a Handshake) -> Self {
        let srt = hs.srt_handshake();
        ConnectionRequest {
            peer,
            hs_version: hs.version,
            srt_version: srt.map(|s| s.version),
            stream_id: hs.stream_id().unwrap_or(&[]),
            trans_type: srt.map(|s| {
                if s.flags.contains(SrtFlags::TSBPD_SND) {
                    TransType::Live
                } else {
                    TransType::File
                }
            }),
            group: hs.extensions.iter().find_map(|e| match e {
                crate::packet::HsExtension::Group(g) => Some(*g),
                _ => None,
            }),
        }
    }
}

/// The accept hook: sees each connection request, may change the new
/// socket's settings (for example a per-stream passphrase or latency), and
/// accepts (`Ok`) or refuses with a reason (libsrt's `srt_listen_callback`).
///
/// A hook, rather than an event the application answers later, keeps the
/// listener stateless until it accepts: a conclusion is processed in one
/// step, so a flood of them parks nothing, and the C API's callback maps
/// onto it directly.
pub type AcceptHook =
    Box<dyn FnMut(&ConnectionRequest<'_>, &mut SocketOptions) -> Result<(), RejectReason> + Send>;

/// Why an application call on an [`Endpoint`](super::Endpoint) failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EndpointError {
    /// The endpoint already has a listener (libsrt allows one per port).
    #[error("this endpoint already has a listener")]
    AlreadyListening,
    /// No socket with this ID.
    #[error("no socket {0}")]
    UnknownSocket(SocketId),
    /// The connection limit is reached.
    #[error("too many connections")]
    TooManyConnections,
    /// A rendezvous with this peer address is already in progress.
    #[error("a rendezvous with {0} is already in progress")]
    RendezvousInProgress(SocketAddr),
    /// A socket group named an endpoint that does not exist.
    #[error("no endpoint {0}")]
    UnknownEndpoint(usize),
}

/// Counters of what the endpoint dropped or answered without a connection.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EndpointStats {
    /// Datagrams that did not decode.
    pub malformed: u64,
    /// Packets for a socket ID that does not exist here.
    pub unknown_socket: u64,
    /// Packets to socket 0 that are not a handshake this endpoint expects.
    pub unexpected_handshake: u64,
    /// Conclusions whose SYN cookie did not match.
    pub bad_cookie: u64,
    /// Inductions answered.
    pub inductions: u64,
    /// Connections refused.
    pub rejected: u64,
    /// Stateless replies dropped because the reply queue was full.
    pub replies_dropped: u64,
}
