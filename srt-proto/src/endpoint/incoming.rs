//! Deferred accept decisions: a listener started with
//! [`Endpoint::listen_deferred`](super::Endpoint::listen_deferred) holds
//! each caller's CONCLUSION as an [`IncomingId`] until the application
//! answers with [`accept_incoming`](super::Endpoint::accept_incoming) or
//! [`refuse_incoming`](super::Endpoint::refuse_incoming), for drivers whose
//! decision is asynchronous (srt-tokio); the synchronous
//! [`AcceptHook`](super::AcceptHook) stays for libsrt's listen callback.

use crate::packet::{Handshake, RejectReason};
use crate::seq::Timestamp;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// A held request is forgotten when its caller has not repeated its
/// CONCLUSION (libsrt repeats it every 250 ms) for this long: it gave up.
pub(super) const REQUEST_SILENCE: Duration = Duration::from_secs(2);
/// Silence after which a request older than the listener's connect timeout
/// counts as given up: a caller still waiting repeats every 250 ms.
const GAVE_UP_SILENCE: Duration = Duration::from_millis(600);
/// How long a refused caller's repeated CONCLUSION gets the same refusal.
pub(super) const REFUSED_MEMORY: Duration = Duration::from_secs(10);

/// A caller's CONCLUSION, identified as accepted connections are: caller
/// address and caller socket ID.
pub(super) type CallerKey = (SocketAddr, u32);

/// A connection request waiting for the application's decision
/// ([`Event::Incoming`](crate::Event::Incoming)).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IncomingId(pub u64);

impl std::fmt::Display for IncomingId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Why [`accept_incoming`](super::Endpoint::accept_incoming) or
/// [`refuse_incoming`](super::Endpoint::refuse_incoming) failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IncomingError {
    /// No such request: answered already, forgotten after its caller went
    /// silent, or the listener stopped.
    #[error("no connection request {0}")]
    Unknown(IncomingId),
    /// The caller gave up before the answer (a socket made now would have
    /// no peer); the request is forgotten.
    #[error("the caller of request {0} gave up")]
    Expired(IncomingId),
    /// The handshake could not be accepted with the options given (for
    /// example a passphrase mismatch); the caller was refused with this reason.
    #[error("the connection was refused: {0:?}")]
    Refused(RejectReason),
}

/// One held CONCLUSION.
#[derive(Debug)]
pub(super) struct Pending {
    pub(super) key: CallerKey,
    /// The latest copy of the caller's handshake and its timestamp.
    pub(super) hs: Handshake,
    pub(super) ts: Timestamp,
    /// When that copy arrived (the connection starts as of then).
    pub(super) arrived: Instant,
    /// When the first copy arrived.
    first: Instant,
}

impl Pending {
    /// Whether the caller has given up: silent for [`REQUEST_SILENCE`], or
    /// older than the connect timeout and silent for [`GAVE_UP_SILENCE`].
    pub(super) fn given_up(&self, now: Instant, conn_timeout: Duration) -> bool {
        let silent = now.saturating_duration_since(self.arrived);
        silent >= REQUEST_SILENCE
            || (now.saturating_duration_since(self.first) >= conn_timeout
                && silent >= GAVE_UP_SILENCE)
    }
}

/// What a deferring listener holds: requests and recent refusals.
#[derive(Debug, Default)]
pub(super) struct Deferred {
    pub(super) pending: BTreeMap<IncomingId, Pending>,
    by_key: BTreeMap<CallerKey, IncomingId>,
    refused: BTreeMap<CallerKey, (RejectReason, Instant)>,
    next_id: u64,
}

/// What the listener does with a CONCLUSION that passed its checks.
pub(super) enum Admission {
    /// A new request: tell the application.
    New(IncomingId),
    /// A repeat of a held request (its copy was refreshed) or of one the
    /// application will answer anyway: nothing to send.
    Held,
    /// A repeat of a refused request: refuse again.
    Refuse(RejectReason),
}

impl Deferred {
    /// Takes a CONCLUSION from `key` (the backlog counts held requests
    /// with `queued` accepted connections).
    pub(super) fn admit(
        &mut self,
        now: Instant,
        key: CallerKey,
        hs: &Handshake,
        ts: Timestamp,
        backlog: usize,
    ) -> Admission {
        if let Some(&(reason, _)) = self.refused.get(&key) {
            return Admission::Refuse(reason);
        }
        if let Some(id) = self.by_key.get(&key) {
            if let Some(p) = self.pending.get_mut(id) {
                p.hs = hs.clone();
                p.ts = ts;
                p.arrived = now;
            }
            return Admission::Held;
        }
        if self.pending.len() >= backlog {
            return Admission::Refuse(RejectReason::Backlog);
        }
        let id = IncomingId(self.next_id);
        self.next_id += 1;
        self.by_key.insert(key, id);
        self.pending.insert(
            id,
            Pending {
                key,
                hs: hs.clone(),
                ts,
                arrived: now,
                first: now,
            },
        );
        Admission::New(id)
    }

    /// Removes a request to answer it.
    pub(super) fn take(&mut self, id: IncomingId) -> Option<Pending> {
        let p = self.pending.remove(&id)?;
        self.by_key.remove(&p.key);
        Some(p)
    }

    /// Remembers a refusal, so that the caller's repeats get it too.
    pub(super) fn remember_refusal(&mut self, now: Instant, key: CallerKey, reason: RejectReason) {
        self.refused.insert(key, (reason, now));
    }

    /// When the next request or refusal is to be forgotten.
    pub(super) fn next_expiry(&self) -> Option<Instant> {
        let pending = self.pending.values().map(|p| p.arrived + REQUEST_SILENCE);
        let refused = self.refused.values().map(|(_, at)| *at + REFUSED_MEMORY);
        pending.chain(refused).min()
    }

    /// Forgets requests whose callers went silent and old refusals.
    pub(super) fn expire(&mut self, now: Instant) {
        let by_key = &mut self.by_key;
        self.pending.retain(|_, p| {
            let keep = now.saturating_duration_since(p.arrived) < REQUEST_SILENCE;
            if !keep {
                by_key.remove(&p.key);
            }
            keep
        });
        self.refused
            .retain(|_, (_, at)| now.saturating_duration_since(*at) < REFUSED_MEMORY);
    }
}
