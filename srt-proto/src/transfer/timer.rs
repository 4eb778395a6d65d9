//! The timers of a transfer, in one table (after quinn-proto's
//! `TimerTable`): each timer's deadline is computed in one place (the
//! transfer's `deadline`, from its owner's state) and armed after every
//! entry point (`arm_timers`); `poll_timeout` is the earliest armed one,
//! and `handle_timeout` acts on the expired ones.

use std::time::Instant;

/// One timer of a transfer. The order is the order `handle_timeout` acts
/// in (it decides the order of the control packets a turn queues). The
/// sender's too-late drop has no timer: as in libsrt, an application send
/// does it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Timer {
    /// An announced key not yet echoed: KMREQ again.
    KmRefresh,
    /// Retransmission timeout (file mode): nothing acknowledged for too long.
    Rexmit,
    /// TSBPD: the next packet is due for delivery (readable, or a gap
    /// before it to drop).
    Tsbpd,
    /// Full ACK, while there is something to acknowledge.
    Ack,
    /// Periodic NAK, while there are losses to report.
    Nak,
    /// Pacing: a data packet waits for its sending time.
    Pacing,
    /// Control packets are queued: send them at once.
    Flush,
}

impl Timer {
    /// Every timer, in the order `handle_timeout` acts on them.
    pub(crate) const ALL: [Timer; 7] = [
        Timer::KmRefresh,
        Timer::Rexmit,
        Timer::Tsbpd,
        Timer::Ack,
        Timer::Nak,
        Timer::Pacing,
        Timer::Flush,
    ];
    const COUNT: usize = Self::ALL.len();

    /// The timers whose deadlines read the sender's state, the keys or the
    /// RTT, and the queued control packets: what an entry point of the
    /// sender (a message queued, an ACK or NAK taken in, a data packet
    /// sent) can move. The receiver's timers read none of these.
    pub(crate) const SENDER: [Timer; 4] =
        [Timer::KmRefresh, Timer::Rexmit, Timer::Pacing, Timer::Flush];
    /// The timers whose deadlines read the receiver's state, and the
    /// queued control packets: what an entry point of the receiver (a data
    /// packet taken in, a message delivered, a NAK sent) can move.
    pub(crate) const RECEIVER: [Timer; 4] = [Timer::Tsbpd, Timer::Ack, Timer::Nak, Timer::Flush];
    /// [`Timer::RECEIVER`] and the timers that read the RTT, which an
    /// ACKACK samples.
    pub(crate) const RECEIVER_RTT: [Timer; 6] = [
        Timer::KmRefresh,
        Timer::Rexmit,
        Timer::Tsbpd,
        Timer::Ack,
        Timer::Nak,
        Timer::Flush,
    ];
}

/// A deadline per [`Timer`], or none when the timer is stopped.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct TimerTable {
    data: [Option<Instant>; Timer::COUNT],
}

impl TimerTable {
    /// Arms `timer` to expire at `at`.
    pub(crate) fn set(&mut self, timer: Timer, at: Instant) {
        self.data[timer as usize] = Some(at);
    }

    /// Stops `timer`.
    pub(crate) fn stop(&mut self, timer: Timer) {
        self.data[timer as usize] = None;
    }

    /// Arms `timer` at `at`, or stops it with `None`.
    pub(crate) fn set_or_stop(&mut self, timer: Timer, at: Option<Instant>) {
        match at {
            Some(at) => self.set(timer, at),
            None => self.stop(timer),
        }
    }

    /// When `timer` expires, if armed.
    pub(crate) fn get(&self, timer: Timer) -> Option<Instant> {
        self.data[timer as usize]
    }

    /// Whether `timer` is armed and has expired at `now`.
    pub(crate) fn is_expired(&self, timer: Timer, now: Instant) -> bool {
        self.get(timer).is_some_and(|t| t <= now)
    }

    /// The earliest deadline of any armed timer.
    #[cfg(test)]
    pub(crate) fn next_expiry(&self) -> Option<Instant> {
        self.data.iter().flatten().min().copied()
    }

    /// Every armed deadline.
    pub(crate) fn deadlines(&self) -> impl Iterator<Item = Instant> + '_ {
        self.data.iter().flatten().copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::time::Duration;

    #[derive(Clone, Debug)]
    enum Op {
        Set(usize, u64),
        Stop(usize),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            (0..Timer::COUNT, 0u64..10_000).prop_map(|(t, at)| Op::Set(t, at)),
            (0..Timer::COUNT).prop_map(Op::Stop),
        ]
    }

    proptest! {
        /// Any schedule of arming and stopping: the next expiry is always
        /// the earliest armed deadline, and a timer is expired exactly
        /// when armed at or before `now`.
        #[test]
        fn next_expiry_is_the_earliest_armed_timer(
            ops in proptest::collection::vec(op(), 0..64),
            probe in 0u64..10_000,
        ) {
            let base = Instant::now();
            let mut table = TimerTable::default();
            let mut model: [Option<u64>; Timer::COUNT] = [None; Timer::COUNT];
            for op in ops {
                match op {
                    Op::Set(t, at) => {
                        table.set(Timer::ALL[t], base + Duration::from_micros(at));
                        model[t] = Some(at);
                    }
                    Op::Stop(t) => {
                        table.stop(Timer::ALL[t]);
                        model[t] = None;
                    }
                }
                let earliest = model.iter().flatten().min().map(|&m| base + Duration::from_micros(m));
                prop_assert_eq!(table.next_expiry(), earliest);
                prop_assert_eq!(table.deadlines().min(), earliest);
                prop_assert_eq!(table.deadlines().count(), model.iter().flatten().count());
                let now = base + Duration::from_micros(probe);
                for (i, timer) in Timer::ALL.iter().enumerate() {
                    prop_assert_eq!(table.is_expired(*timer, now), model[i].is_some_and(|m| m <= probe));
                }
            }
        }
    }

    #[test]
    fn the_order_is_the_discriminant_order() {
        for (i, t) in Timer::ALL.iter().enumerate() {
            assert_eq!(*t as usize, i);
        }
    }
}
