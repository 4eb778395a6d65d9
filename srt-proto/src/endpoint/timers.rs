//! The endpoint's schedule: when each connection's timers are next due, and
//! which connections may have something to transmit, so that a driver turn
//! costs in proportion to the connections with something to do rather than
//! to all of them.
//!
//! The schedule mirrors what [`Connection::poll_timeout`],
//! [`Connection::has_transmit`] and [`Connection::send_due_at`] say; the
//! endpoint calls [`Schedule::refresh`] after every change to a connection.
//! Queues are binary heaps with lazy deletion (an entry whose time is no
//! longer the connection's is dropped when it surfaces), so steady traffic
//! allocates nothing once they have grown. A deadline that moves later (a
//! keepalive after each packet sent) keeps its entry, which is moved to the
//! new time only when it reaches the top: most changes cost no heap work.
//!
//! A connection with a deadline already passed when it is refreshed (its
//! queued control packets arm one at its start: an ACK for each data
//! packet at low rates; a data packet free to go arms its sending time) is
//! kept in a plain list beside the timer queue (`past`), with the earliest
//! such deadline: the queue holds only its deadlines still to come. So a
//! packet queued and sent moves no heap entry.

use super::idmap::IdMap;
use crate::connection::Connection;
use crate::packet::SocketId;
use std::cmp::Reverse;
use std::collections::binary_heap::PeekMut;
use std::collections::BinaryHeap;
use std::time::Instant;

/// What the schedule last saw of one connection.
#[derive(Clone, Copy, Debug, Default)]
struct Slot {
    /// Its earliest deadline after the time it was last refreshed at.
    deadline: Option<Instant>,
    /// Its index in `past` while it has a deadline at or before then.
    past: Option<u32>,
    /// The time of its entry in `timers`, at or before `deadline` (`None`
    /// only without a deadline, or while `handle_timeout` handles it).
    queued_at: Option<Instant>,
    /// When its data waiting for pacing may go; an entry is in `paced`.
    send_due: Option<Instant>,
    /// Whether it is in one of the transmit rounds.
    in_round: bool,
}

/// A min-queue of (time, connection) with lazy deletion.
type TimeQueue = BinaryHeap<Reverse<(Instant, SocketId)>>;

/// Timers and transmit candidates of an endpoint's connections.
#[derive(Debug, Default)]
pub(super) struct Schedule {
    slots: IdMap<Slot>,
    /// Deadlines; the top entry is always exact (see [`Schedule::fix_top`]).
    timers: TimeQueue,
    /// The connections with deadlines passed when they were last refreshed,
    /// with the earliest of these; unordered.
    past: Vec<(SocketId, Instant)>,
    /// Pacing times of connections whose data waits only for the clock.
    paced: TimeQueue,
    /// Transmit candidates.
    rounds: Rounds,
}

/// Transmit candidates in round-robin order by socket ID.
#[derive(Debug, Default)]
struct Rounds {
    /// Candidates after the cursor, smallest ID first.
    this: BinaryHeap<Reverse<SocketId>>,
    /// Candidates at or before the cursor.
    next: BinaryHeap<Reverse<SocketId>>,
    /// The connection [`Schedule::served`] last.
    cursor: SocketId,
}

impl Rounds {
    /// Makes `id` (whose slot is `slot`) a candidate, unless it is one.
    fn enter(&mut self, id: SocketId, slot: &mut Slot) {
        if slot.in_round {
            return;
        }
        slot.in_round = true;
        let round = if id > self.cursor {
            &mut self.this
        } else {
            &mut self.next
        };
        round.push(Reverse(id));
    }
}

impl Schedule {
    /// Takes in what `conn` (socket `id`) now says about its timers and
    /// transmissions at `now`.
    pub(super) fn refresh(&mut self, id: SocketId, conn: &Connection, now: Instant) {
        let mut new = false;
        let slot = self.slots.entry(id).or_insert_with(|| {
            new = true;
            Slot::default()
        });
        let mut pushed = false;
        let (past, deadline) = conn.poll_timeout_split(now);
        slot.deadline = deadline;
        // Leaves the list only after the slot is let go (one more lookup
        // for the entry moved into its place).
        let mut leave_past = None;
        match (past, slot.past) {
            (Some(t), Some(i)) => self.past[i as usize].1 = t,
            (Some(t), None) => {
                slot.past = Some(self.past.len() as u32);
                self.past.push((id, t));
            }
            (None, Some(i)) => {
                slot.past = None;
                leave_past = Some(i);
            }
            (None, None) => {}
        }
        if let Some(t) = slot.deadline {
            if slot.queued_at.is_none_or(|q| t < q) {
                slot.queued_at = Some(t);
                self.timers.push(Reverse((t, id)));
                pushed = true;
            }
        }
        if conn.has_transmit(now) {
            slot.send_due = None;
            self.rounds.enter(id, slot);
        } else {
            let send_due = conn.send_due_at();
            if send_due != slot.send_due {
                slot.send_due = send_due;
                if let Some(t) = send_due {
                    self.paced.push(Reverse((t, id)));
                    pushed = true;
                }
            }
        }
        let (queued_at, deadline) = (slot.queued_at, slot.deadline);
        if let Some(i) = leave_past {
            self.leave_past(i);
        }
        if new {
            self.reserve();
        }
        if pushed {
            self.compact();
        }
        // Only this connection's entry on top can have become inexact; its
        // slot, at hand, tells (no lookup when it is exact).
        if let Some(&Reverse((t, top))) = self.timers.peek() {
            if top == id && (queued_at != Some(t) || deadline != Some(t)) {
                self.fix_top();
            }
        }
    }

    /// Forgets a connection.
    pub(super) fn remove(&mut self, id: SocketId) {
        let Some(slot) = self.slots.remove(&id) else {
            return self.fix_top();
        };
        if slot.in_round {
            // So that a later socket with this ID is not served twice.
            self.rounds.this.retain(|r| r.0 != id);
            self.rounds.next.retain(|r| r.0 != id);
        }
        if let Some(i) = slot.past {
            self.leave_past(i);
        }
        self.fix_top();
    }

    /// Takes entry `i` out of `past` (its slot already says so).
    fn leave_past(&mut self, i: u32) {
        let i = i as usize;
        self.past.swap_remove(i);
        if let Some(&(moved, _)) = self.past.get(i) {
            if let Some(slot) = self.slots.get_mut(&moved) {
                slot.past = Some(i as u32);
            }
        }
    }

    /// The earliest deadline of any connection.
    pub(super) fn next_deadline(&self) -> Option<Instant> {
        let timers = self.timers.peek().map(|r| r.0 .0);
        let past = self.past.iter().map(|p| p.1).min();
        match (timers, past) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Moves the connections due at `now` into `due`, in ascending ID order;
    /// each must be refreshed after its timers are handled.
    pub(super) fn take_due(&mut self, now: Instant, due: &mut Vec<SocketId>) {
        while let Some((t, id)) = pop_due(&mut self.timers, now) {
            let Some(slot) = self.slots.get_mut(&id) else {
                continue;
            };
            if slot.queued_at != Some(t) {
                continue;
            }
            slot.queued_at = None;
            match slot.deadline {
                Some(d) if d <= now => due.push(id),
                Some(d) => {
                    slot.queued_at = Some(d);
                    self.timers.push(Reverse((d, id)));
                }
                None => {}
            }
        }
        let timed = due.len();
        due.extend(self.past.iter().filter(|p| p.1 <= now).map(|p| p.0));
        due.sort_unstable();
        if due.len() > timed {
            // Due by deadlines both in the queue and in `past`.
            due.dedup();
        }
        self.fix_top();
    }

    /// Makes the connections whose pacing time has come by `now` transmit
    /// candidates.
    pub(super) fn release_paced(&mut self, now: Instant) {
        while let Some((t, id)) = pop_due(&mut self.paced, now) {
            match self.slots.get_mut(&id) {
                Some(slot) if slot.send_due == Some(t) => {
                    slot.send_due = None;
                    self.rounds.enter(id, slot);
                }
                _ => {}
            }
        }
    }

    /// The next transmit candidate in round-robin order: the smallest ID
    /// after the one served last, else the smallest. A candidate may turn
    /// out to have nothing to send; refresh it then.
    pub(super) fn next_candidate(&mut self) -> Option<SocketId> {
        loop {
            let Some(Reverse(id)) = self.rounds.this.pop() else {
                if self.rounds.next.is_empty() {
                    return None;
                }
                // A new round, from the smallest ID.
                std::mem::swap(&mut self.rounds.this, &mut self.rounds.next);
                continue;
            };
            if let Some(slot) = self.slots.get_mut(&id) {
                if slot.in_round {
                    slot.in_round = false;
                    return Some(id);
                }
            }
        }
    }

    /// Records that `id` was given its turn to transmit.
    pub(super) fn served(&mut self, id: SocketId) {
        self.rounds.cursor = id;
    }

    /// Rebuilds a time queue that is mostly stale, in its own storage.
    /// The most entries a time queue holds before [`Schedule::compact`]
    /// rebuilds it.
    fn queue_limit(&self) -> usize {
        2 * self.slots.len() + 64
    }

    /// Room for as many entries as the queues can hold with the current
    /// connections, taken when one is added: stale entries that pile up
    /// while a driver is late (a loaded machine) then never make a queue
    /// grow in steady state.
    fn reserve(&mut self) {
        let most = self.queue_limit() + 1;
        for q in [&mut self.timers, &mut self.paced] {
            q.reserve(most.saturating_sub(q.len()));
        }
        let ids = self.slots.len();
        self.past.reserve(ids.saturating_sub(self.past.len()));
        for r in [&mut self.rounds.this, &mut self.rounds.next] {
            r.reserve(ids.saturating_sub(r.len()));
        }
    }

    fn compact(&mut self) {
        let limit = self.queue_limit();
        if self.timers.len() > limit {
            self.timers.clear();
            for (id, slot) in &mut self.slots {
                slot.queued_at = slot.deadline;
                if let Some(t) = slot.deadline {
                    self.timers.push(Reverse((t, *id)));
                }
            }
        }
        if self.paced.len() > limit {
            self.paced.clear();
            for (id, slot) in &self.slots {
                if let Some(t) = slot.send_due {
                    self.paced.push(Reverse((t, *id)));
                }
            }
        }
    }

    /// Makes the top of the timer queue exact (so that
    /// [`Schedule::next_deadline`] can peek): drops stale entries, and
    /// moves an entry whose deadline moved later to its real time.
    fn fix_top(&mut self) {
        while let Some(mut top) = self.timers.peek_mut() {
            let Reverse((t, id)) = *top;
            let slot = self.slots.get_mut(&id);
            match slot {
                Some(slot) if slot.queued_at == Some(t) => match slot.deadline {
                    Some(d) if d == t => break,
                    // Moved later: in place, one sift down.
                    Some(d) => {
                        slot.queued_at = Some(d);
                        *top = Reverse((d, id));
                    }
                    None => {
                        slot.queued_at = None;
                        PeekMut::pop(top);
                    }
                },
                _ => {
                    PeekMut::pop(top);
                }
            }
        }
    }
}

/// Pops the earliest entry of `queue` if it is due at `now`.
fn pop_due(queue: &mut TimeQueue, now: Instant) -> Option<(Instant, SocketId)> {
    let &Reverse((t, id)) = queue.peek()?;
    if t > now {
        return None;
    }
    queue.pop();
    Some((t, id))
}

#[cfg(test)]
mod tests;
