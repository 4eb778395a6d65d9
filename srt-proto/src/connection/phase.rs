//! A connection's phases and the data each carries.

use crate::crypto::CryptoContext;
use crate::handshake::RendezvousRole;
use crate::packet::HsExtension;
use crate::seq::SeqNumber;
use crate::transfer::Transfer;
use std::time::Instant;

/// Where a rendezvous handshake stands (libsrt's `RendezvousState`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum RdvPhase {
    Waving,
    Attention,
    Fine,
    Initiated,
}

/// How a connection came to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum ConnKind {
    Caller,
    Accepted,
    Rendezvous,
}

/// Where a handshake stands.
#[derive(Debug)]
pub(super) enum Step {
    /// Caller: induction sent, waiting for the listener's cookie.
    Induction,
    /// Caller: conclusion sent, waiting for the answer (an accepted
    /// connection passes through it while it is made).
    Conclusion,
    /// Rendezvous handshake.
    Rendezvous {
        phase: RdvPhase,
        role: Option<RendezvousRole>,
        /// The answer a responder sends once it has seen the HSREQ.
        hsrsp: Option<(u16, Vec<HsExtension>)>,
    },
}

/// The state of a connection while its handshake is in progress: what the
/// transfer will be set up with once it completes.
#[derive(Debug)]
pub(super) struct Handshaking {
    pub(super) step: Step,
    pub(super) next_resend: Option<Instant>,
    pub(super) connect_deadline: Option<Instant>,
    /// The initiator's sending context, announced in its KMREQ.
    pub(super) km_tx: Option<CryptoContext>,
    /// The peer's clock origin: arrival of its HSREQ/HSRSP minus its timestamp.
    pub(super) peer_start: Option<Instant>,
    /// The first sequence number the peer sends.
    pub(super) rcv_isn: SeqNumber,
    pub(super) peer_flow_window: u32,
}

/// A connection's phase, with the data it has in that phase.
#[derive(Debug)]
pub(super) enum Phase {
    /// The handshake is in progress.
    Handshaking(Handshaking),
    /// Connected: data flows both ways.
    Connected(Transfer),
    /// A graceful close waits, until `deadline`, for everything sent to be
    /// acknowledged (`SRTO_LINGER`) and, with TSBPD, delivered by the peer;
    /// still connected to the peer.
    Closing {
        transfer: Transfer,
        deadline: Instant,
        /// When everything sent was first found acknowledged.
        acked_at: Option<Instant>,
    },
    /// Broken (peer shut down or went silent) or failed to connect; a
    /// connection that was established keeps its transfer (what was
    /// received can still be read, the statistics still be asked).
    Broken(Option<Transfer>),
    /// Closed locally; as for `Broken`.
    Closed(Option<Transfer>),
}

impl Phase {
    /// The transfer, once the connection was established.
    pub(super) fn transfer(&self) -> Option<&Transfer> {
        match self {
            Phase::Connected(t) | Phase::Closing { transfer: t, .. } => Some(t),
            Phase::Broken(t) | Phase::Closed(t) => t.as_ref(),
            Phase::Handshaking(_) => None,
        }
    }

    /// The transfer, once the connection was established.
    pub(super) fn transfer_mut(&mut self) -> Option<&mut Transfer> {
        match self {
            Phase::Connected(t) | Phase::Closing { transfer: t, .. } => Some(t),
            Phase::Broken(t) | Phase::Closed(t) => t.as_mut(),
            Phase::Handshaking(_) => None,
        }
    }

    /// Takes the transfer out, leaving the phase `Closed` without one (for
    /// the caller to set the next phase).
    pub(super) fn take_transfer(&mut self) -> Option<Transfer> {
        match std::mem::replace(self, Phase::Closed(None)) {
            Phase::Connected(t) | Phase::Closing { transfer: t, .. } => Some(t),
            Phase::Broken(t) | Phase::Closed(t) => t,
            Phase::Handshaking(_) => None,
        }
    }

    /// Connected to the peer (also while a graceful close waits).
    pub(super) fn is_connected(&self) -> bool {
        matches!(self, Phase::Connected(_) | Phase::Closing { .. })
    }

    /// When a graceful close gives up waiting, while it waits.
    pub(super) fn closing_deadline(&self) -> Option<Instant> {
        match self {
            Phase::Closing { deadline, .. } => Some(*deadline),
            _ => None,
        }
    }

    /// The handshake's state, while it is in progress.
    pub(super) fn handshaking_mut(&mut self) -> Option<&mut Handshaking> {
        match self {
            Phase::Handshaking(h) => Some(h),
            _ => None,
        }
    }
}
