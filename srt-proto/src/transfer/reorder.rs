//! libsrt's reorder tolerance ("belated loss report", `SRTO_LOSSMAXTTL`):
//! a new gap waits that many packets for a reordered original before its
//! NAK.

use crate::seq::{SeqNumber, SeqRange};
use std::collections::VecDeque;

/// libsrt's reorder tolerance ("belated loss report", `SRTO_LOSSMAXTTL`).
#[derive(Debug)]
pub(super) struct Reorder {
    max: u32,
    pub(super) tolerance: u32,
    /// Gaps waiting before their NAK, with the packets left to wait.
    fresh: VecDeque<(SeqRange, i32)>,
    consec_ordered: u32,
    consec_early: u32,
}

/// At most this many gaps wait at once; more are reported at once.
const MAX_FRESH_LOSSES: usize = 256;

impl Reorder {
    pub(super) fn new(max: u32) -> Self {
        Reorder {
            max,
            // libsrt starts at the maximum (core.cpp:515).
            tolerance: max,
            fresh: VecDeque::with_capacity(if max > 0 { MAX_FRESH_LOSSES } else { 0 }),
            consec_ordered: 0,
            consec_early: 0,
        }
    }

    /// SRTO_LOSSMAXTTL changed on a connected socket: the tolerance starts
    /// again at the new maximum (libsrt `setOpt`).
    pub(super) fn set_max(&mut self, max: u32) {
        self.max = max;
        self.tolerance = max;
        if max > 0 {
            self.fresh.reserve(MAX_FRESH_LOSSES);
        }
    }

    /// Holds a new gap for later reporting; false if it must be NAKed now.
    pub(super) fn hold(&mut self, range: SeqRange) -> bool {
        if self.tolerance == 0 || self.fresh.len() >= MAX_FRESH_LOSSES {
            return false;
        }
        self.fresh.push_back((range, self.tolerance as i32));
        true
    }

    /// The next waiting gap whose time is up.
    pub(super) fn expired(&mut self) -> Option<SeqRange> {
        match self.fresh.front() {
            Some((_, ttl)) if *ttl <= 0 => self.fresh.pop_front().map(|(r, _)| r),
            _ => None,
        }
    }

    /// One more packet arrived: every waiting gap waits one packet less.
    pub(super) fn tick(&mut self) {
        for (_, ttl) in &mut self.fresh {
            *ttl -= 1;
        }
    }

    /// Removes `seq` from the waiting gaps; returns the wait it had left.
    pub(super) fn forget(&mut self, seq: SeqNumber) -> Option<i32> {
        let i = self.fresh.iter().position(|(r, _)| r.contains(seq))?;
        let (r, ttl) = self.fresh[i];
        if r.first == r.last {
            self.fresh.remove(i);
        } else if seq == r.first {
            self.fresh[i].0.first = seq + 1;
        } else if seq == r.last {
            self.fresh[i].0.last = seq - 1;
        } else if self.fresh.len() < MAX_FRESH_LOSSES {
            self.fresh[i].0.last = seq - 1;
            self.fresh.insert(
                i + 1,
                (
                    SeqRange {
                        first: seq + 1,
                        last: r.last,
                    },
                    ttl,
                ),
            );
        }
        Some(ttl)
    }

    /// An original packet arrived `distance` behind the newest: widen the
    /// tolerance (libsrt `unlose`); true if the tolerance was decreased.
    pub(super) fn on_reordered(&mut self, seq: SeqNumber, distance: u32) -> bool {
        let mut increased = false;
        if distance > self.tolerance && self.max > 0 {
            self.tolerance = distance.min(self.max);
            increased = true;
        }
        if self.tolerance == 0 {
            return false;
        }
        let had_ttl = self.forget(seq).unwrap_or(0);
        self.consec_ordered = 0;
        if increased {
            self.consec_early = 0;
        } else if had_ttl > 2 {
            self.consec_early += 1;
            if self.consec_early >= 10 {
                self.consec_early = 0;
                self.tolerance -= 1;
                return true;
            }
        }
        false
    }

    /// An in-order packet: after 50 in a row the tolerance shrinks by one.
    pub(super) fn on_in_order(&mut self) -> bool {
        if self.max == 0 {
            return false;
        }
        self.consec_ordered += 1;
        if self.consec_ordered >= 50 {
            self.consec_ordered = 0;
            if self.tolerance > 0 {
                self.tolerance -= 1;
                return true;
            }
        }
        false
    }
}
