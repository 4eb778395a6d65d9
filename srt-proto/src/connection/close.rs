//! Closing a connection: graceful (lingering until everything sent is
//! acknowledged and, in live mode, delivered) or abortive.

use super::phase::Phase;
use super::{Connection, Event};
use crate::packet::ControlBody;
use crate::transfer::Transfer;
use std::time::{Duration, Instant};

/// What a lingering live close waits past the peer's delivery time of the
/// last message (as estimated from our clock): the peer's TSBPD base,
/// set when it processed the handshake, lags by as much as that was late,
/// and the reading application needs its turn (libsrt's srt-live-transmit
/// stops reading once it sees the SHUTDOWN). Measured against
/// srt-live-transmit on a loaded 2-core machine, that lateness passed
/// 100 ms in 1 of 145 closes (with no margin, 4 of 20 lost the tail).
pub const DELIVERY_MARGIN: Duration = Duration::from_millis(250);

/// What [`CloseMode::Lossless`] lingers beyond twice the peer's latency.
pub const LOSSLESS_LINGER_EXTRA: Duration = Duration::from_secs(1);

/// How to close a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CloseMode {
    /// Deliver what is queued first (`SRTO_LINGER`), like SCTP's EOF.
    Linger,
    /// As [`CloseMode::Linger`], for at most this long whatever
    /// `SRTO_LINGER` says (a lossless close in live mode, where libsrt's
    /// default linger is off).
    LingerFor(Duration),
    /// As [`CloseMode::Linger`] with `SRTO_LINGER` if it is set, else, with
    /// TSBPD (live mode, where libsrt's default linger is off), for twice
    /// the peer's TSBPD delay plus [`LOSSLESS_LINGER_EXTRA`]: how
    /// srt-transmit and srt-tokio close, so that nothing sent is lost.
    Lossless,
    /// Drop everything at once, like SCTP's ABORT.
    Abort,
}

impl Connection {
    /// Closes the connection. [`CloseMode::Abort`] drops what is queued at
    /// once; [`CloseMode::Linger`] first waits, up to `SRTO_LINGER`
    /// ([`CloseMode::LingerFor`]: up to its time), until everything sent is
    /// acknowledged and, with TSBPD (live mode), until the peer's latency
    /// has passed since the last message's origin: libsrt drops what it
    /// still holds for delivery when SHUTDOWN comes. Then SHUTDOWN goes to
    /// a connected peer and [`Event::Closed`] follows.
    pub fn close(&mut self, now: Instant, mode: CloseMode) {
        if matches!(self.phase, Phase::Closed(_) | Phase::Closing { .. }) {
            if mode == CloseMode::Abort {
                self.finish_close();
            }
            return;
        }
        let linger = match mode {
            CloseMode::Linger => self.config.linger,
            CloseMode::LingerFor(d) => Some(d),
            CloseMode::Lossless => self.config.linger.filter(|l| !l.is_zero()).or_else(|| {
                let latency = self.phase.transfer().and_then(Transfer::snd_latency)?;
                Some(2 * latency + LOSSLESS_LINGER_EXTRA)
            }),
            CloseMode::Abort => None,
        };
        match linger {
            Some(linger) if matches!(self.phase, Phase::Connected(_)) && !linger.is_zero() => {
                if let Some(transfer) = self.phase.take_transfer() {
                    self.phase = Phase::Closing {
                        transfer,
                        deadline: now + linger,
                        acked_at: None,
                    };
                }
                if self.drained(now) {
                    self.finish_close();
                }
            }
            _ => self.finish_close(),
        }
    }

    /// Whether a lingering close may end: everything sent is acknowledged
    /// and (with TSBPD) delivered by the peer, [`DELIVERY_MARGIN`] ago.
    pub(super) fn drained(&mut self, now: Instant) -> bool {
        self.note_acked(now);
        self.drained_at().is_some_and(|d| now >= d)
    }

    /// When a lingering close may end, once everything is acknowledged.
    pub(super) fn drained_at(&self) -> Option<Instant> {
        let Phase::Closing {
            transfer,
            acked_at: Some(acked),
            ..
        } = &self.phase
        else {
            return None;
        };
        Some(match transfer.delivered_by() {
            // A message that arrived after its time is delivered on arrival.
            Some(d) => d.max(*acked) + DELIVERY_MARGIN,
            None => *acked,
        })
    }

    /// Remembers when a lingering close first found everything acknowledged.
    pub(super) fn note_acked(&mut self, now: Instant) {
        if let Phase::Closing {
            transfer, acked_at, ..
        } = &mut self.phase
        {
            if acked_at.is_none() && transfer.all_acked() {
                *acked_at = Some(now);
            }
        }
    }

    pub(super) fn finish_close(&mut self) {
        if matches!(self.phase, Phase::Closed(_)) {
            return;
        }
        if self.phase.is_connected() && self.peer_id != 0 {
            self.queue(self.peer_id, ControlBody::Shutdown);
        }
        let transfer = self.phase.take_transfer();
        self.phase = Phase::Closed(transfer);
        self.outbox
            .events
            .push_back(Event::Closed { socket: self.id });
    }
}
