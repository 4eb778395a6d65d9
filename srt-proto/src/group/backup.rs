//! Backup groups: which member is active (libsrt's `sendBackup_*`,
//! group.cpp).
//!
//! An active (running) member is judged as libsrt's
//! `sendBackup_QualifyActiveState` does, plus one rule of our own:
//!
//! - *fresh* for a probing period after its activation: `max(SRTO_GROUPMINSTABLETIMEO,
//!   latency) + 5 × 10 ms`, during which only silence counts against it,
//!   over `max(min, latency)`;
//! - *unstable* if nothing was heard from the peer for the stability
//!   timeout `min(max(min, 2·SRTT + 4·RTTVar), latency)`, or if its sender
//!   dropped packets as too late since the last check;
//! - *unstable* if its smoothed RTT exceeds the latency: a response time
//!   beyond the latency means its packets cannot be recovered in time
//!   (libsrt goes through a "wary" period instead; a link delayed by more
//!   than the latency would otherwise count as stable again once its late
//!   ACKs flow);
//! - *stable* otherwise.
//!
//! When no active member is fresh or stable, the idle member of highest
//! weight is activated and sent, first, every message the group keeps
//! (not yet acknowledged on any member) with its sequence number, message
//! number and source time. When a stable member is active, the other
//! active ones that are not fresh go back to standby (libsrt's
//! `sendBackup_SilenceRedundantLinks`): the stable one of highest weight
//! stays.

use super::{send_on, Group, GroupEvent, MemberState, Members};
use crate::seq::SeqNumber;
use crate::transfer::MsgCtrl;
use std::time::{Duration, Instant};

/// libsrt's `COMM_SYN_INTERVAL_US` × 5: added to the probing period.
const PROBING_EXTRA: Duration = Duration::from_millis(50);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Quality {
    Fresh,
    Stable,
    Unstable,
}

impl Group {
    /// Prunes what was acknowledged, judges the active members, activates
    /// a standby or silences redundant ones. `sending`: a message is about
    /// to go out. Only while something waits for acknowledgement is a
    /// response expected (libsrt judges on each send): an idle stream
    /// judges nothing.
    pub(super) fn check_backup(
        &mut self,
        now: Instant,
        net: &mut (impl Members + ?Sized),
        sending: bool,
    ) {
        if self.shared.is_none() {
            return;
        }
        self.prune_acked(net);
        if sending && self.backup.len() == 0 {
            // Responses are expected from now on.
            self.awaiting_since = Some(now);
        }
        let running = self.members.iter().any(|m| m.state == MemberState::Running);
        if !running {
            if sending || self.backup.len() > 0 {
                self.activate_standby(now, net);
            }
            return;
        }
        if !sending && self.backup.len() == 0 {
            return;
        }
        let mut healthy = false;
        let mut best_stable: Option<(usize, u16)> = None;
        for i in 0..self.members.len() {
            if self.members[i].state != MemberState::Running {
                continue;
            }
            let q = self.qualify(now, i, net);
            if q != Quality::Unstable {
                healthy = true;
            }
            if q == Quality::Stable {
                let w = self.members[i].weight;
                if best_stable.is_none_or(|(_, bw)| w > bw) {
                    best_stable = Some((i, w));
                }
            }
        }
        if !healthy {
            self.activate_standby(now, net);
            return;
        }
        if let Some((keep, _)) = best_stable {
            for i in 0..self.members.len() {
                if i == keep || self.members[i].state != MemberState::Running {
                    continue;
                }
                if self.qualify_fresh(now, i, net) {
                    continue;
                }
                self.members[i].state = MemberState::Idle;
                self.members[i].activated_at = None;
                let key = self.members[i].key;
                self.events.push_back(GroupEvent::Silenced { key });
            }
        }
    }

    /// Forgets the messages some member's peer acknowledged. Only a member
    /// that carried the stream counts: an idle one that never did has its
    /// first unacknowledged number at the group's next, which acknowledges
    /// nothing.
    fn prune_acked(&mut self, net: &mut (impl Members + ?Sized)) {
        let mut acked: Option<SeqNumber> = None;
        for m in &self.members {
            if !m.synced || !m.carried || m.state == MemberState::Broken {
                continue;
            }
            let Some(t) = net.connection(m.key).and_then(|c| c.group_transfer()) else {
                continue;
            };
            let a = t.group_snd_unacked();
            if acked.is_none_or(|b| a.offset_from(b) > 0) {
                acked = Some(a);
            }
        }
        if let Some(a) = acked {
            self.backup.ack_to(a);
        }
    }

    /// The probing period and the initial stability timeout of a member
    /// whose peer plays with `latency`.
    fn timeouts(&self, latency: Duration) -> (Duration, Duration) {
        let initial = self.config.min_stable_timeout.max(latency);
        (initial + PROBING_EXTRA, initial)
    }

    fn qualify_fresh(&self, now: Instant, i: usize, net: &mut (impl Members + ?Sized)) -> bool {
        let m = &self.members[i];
        let Some(t) = net.connection(m.key).and_then(|c| c.group_transfer()) else {
            return false;
        };
        let (probing, _) = self.timeouts(t.group_health().peer_latency);
        m.activated_at
            .is_some_and(|a| now.saturating_duration_since(a) <= probing)
    }

    fn qualify(&mut self, now: Instant, i: usize, net: &mut (impl Members + ?Sized)) -> Quality {
        let min = self.config.min_stable_timeout;
        let key = self.members[i].key;
        let Some(conn) = net.connection(key) else {
            return Quality::Unstable;
        };
        let heard = conn.last_heard();
        let Some(t) = conn.group_transfer() else {
            return Quality::Unstable;
        };
        let h = t.group_health();
        let latency = if h.peer_latency.is_zero() {
            min
        } else {
            h.peer_latency
        };
        let (probing, initial) = self.timeouts(latency);
        let m = &mut self.members[i];
        let fresh = m
            .activated_at
            .is_some_and(|a| now.saturating_duration_since(a) <= probing);
        let timeout = if fresh {
            initial
        } else {
            (2 * h.srtt + 4 * h.rttvar).max(min).min(latency)
        };
        let last_response = [m.activated_at, self.awaiting_since]
            .into_iter()
            .flatten()
            .fold(heard, Instant::max);
        if now.saturating_duration_since(last_response) > timeout {
            return Quality::Unstable;
        }
        let new_drops = h.snd_dropped != m.drops_seen;
        m.drops_seen = h.snd_dropped;
        if fresh {
            return Quality::Fresh;
        }
        if new_drops || (h.rtt_sampled && h.srtt > latency) {
            return Quality::Unstable;
        }
        Quality::Stable
    }

    /// Activates the idle member of highest weight (the first of equal
    /// weights) that can take the group's numbering, sending it what the
    /// group keeps.
    fn activate_standby(&mut self, now: Instant, net: &mut (impl Members + ?Sized)) {
        // Members tried and refused, by index (the first 128).
        let mut tried = 0u128;
        loop {
            let mut best: Option<(usize, u16)> = None;
            for (i, m) in self.members.iter().enumerate().take(128) {
                if m.state != MemberState::Idle || !m.synced || tried & (1 << i) != 0 {
                    continue;
                }
                if best.is_none_or(|(_, w)| m.weight > w) {
                    best = Some((i, m.weight));
                }
            }
            let Some((i, _)) = best else {
                return;
            };
            if self.activate(now, i, net) {
                return;
            }
            tried |= 1 << i;
        }
    }

    /// Sends member `i` every message kept (from where its numbering
    /// allows) and makes it active; false if it cannot take the group's
    /// numbering.
    fn activate(&mut self, now: Instant, i: usize, net: &mut (impl Members + ?Sized)) -> bool {
        let Some(s) = self.shared else {
            return false;
        };
        let key = self.members[i].key;
        let first = self.backup.first_seq().unwrap_or(s.next_seq);
        let Some(t) = net.connection(key).and_then(|c| c.group_transfer()) else {
            return false;
        };
        // libsrt's activation sends through the member's `sendmsg2`, whose
        // too-late drop runs first: what the member kept from before it
        // was silenced and is now too late goes before its numbering is
        // looked at (else a member whose link was down while it was idle
        // keeps those packets, since only a send drops, and could never
        // take the group's numbering again).
        t.group_snd_drop_too_late(now);
        let from = if t.group_snd_next_seq() == first || t.group_override_snd_seq(first) {
            first
        } else {
            // Its own packets still wait: continue from its next number,
            // if the group keeps everything from there (libsrt skips the
            // messages before it, `sendBackupRexmit`).
            let next = t.group_snd_next_seq();
            if next.offset_from(first) < 0 || s.next_seq.offset_from(next) < 0 {
                return false;
            }
            next
        };
        let drops = t.group_health().snd_dropped;
        let start = self.backup.index_of(from).unwrap_or(self.backup.len());
        let mut resent = 0;
        for idx in start..self.backup.len() {
            let Some(k) = self.backup.get(idx) else {
                break;
            };
            let mc = MsgCtrl {
                srctime: Some(k.origin),
                msgno: Some(k.msgno),
                ..MsgCtrl::default()
            };
            if send_on(net, key, k.seq, k.payload(), &mc, now).is_err() {
                break;
            }
            resent += 1;
        }
        let m = &mut self.members[i];
        m.state = MemberState::Running;
        m.carried = true;
        m.activated_at = Some(now);
        m.drops_seen = drops;
        self.stats.activations += 1;
        self.stats.sent_redundant += resent;
        self.events
            .push_back(GroupEvent::Activated { key, at: now });
        true
    }
}
