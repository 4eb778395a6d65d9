//! A deterministic, sans-IO model of a one-way network link.
//!
//! A [`Link`] takes datagrams in with [`Link::send`] and hands them out again
//! with [`Link::poll_delivery`] once they are due, after applying, in this
//! order:
//!
//! 1. **loss**: a Gilbert-Elliott two-state burst model ([`GilbertElliott`],
//!    counted as [`LinkStats::lost_burst`]) and independent random loss
//!    ([`LinkConfig::loss`], counted as [`LinkStats::lost_random`]);
//! 2. **bottleneck**: with [`LinkConfig::rate_bps`] set, datagrams are
//!    serialised one after another at that rate through a FIFO of at most
//!    [`LinkConfig::queue_bytes`] bytes; a datagram that does not fit is
//!    tail-dropped ([`LinkStats::dropped_queue`]);
//! 3. **propagation**: [`LinkConfig::delay`] plus a jitter drawn uniformly from
//!    `0..=`[`LinkConfig::jitter`] (so `delay` is the minimum one-way delay), plus
//!    [`LinkConfig::reorder_delay`] for the datagrams picked by
//!    [`LinkConfig::reorder_prob`];
//! 4. **ordering**: unless [`LinkConfig::reorder`] is set, a datagram is never
//!    delivered before one sent earlier (a datagram whose draw would overtake
//!    waits for its predecessor instead, as on a FIFO path);
//! 5. **duplication**: a datagram that survives is copied with probability
//!    [`LinkConfig::duplicate`]; the copy takes the same path independently
//!    (it occupies the bottleneck, draws its own jitter and may be dropped).
//!
//! Time is whatever [`Instant`]s the caller hands in; the link never reads a
//! clock. Randomness comes from a [`ChaCha8Rng`] seeded at construction, so a
//! link is a pure function of its configuration, its seed and the sequence of
//! calls made on it.
//!
//! Memory is bounded: the bottleneck queue by [`LinkConfig::queue_bytes`] and
//! everything in flight by [`LinkConfig::max_in_flight`] datagrams (beyond
//! that, new datagrams are dropped and counted as
//! [`LinkStats::dropped_overflow`]).
//!
//! ```
//! use std::time::{Duration, Instant};
//! use srt_proto::sim::link::{Link, LinkConfig};
//!
//! let config = LinkConfig { delay: Duration::from_millis(5), ..LinkConfig::default() };
//! let mut link = Link::new(config, 1);
//! let t0 = Instant::now(); // the caller's clock, real or virtual
//! link.send(t0, b"hello");
//! assert_eq!(link.next_delivery(), Some(t0 + Duration::from_millis(5)));
//! assert_eq!(link.poll_delivery(t0), None);
//! assert_eq!(link.poll_delivery(t0 + Duration::from_millis(5)).as_deref(), Some(&b"hello"[..]));
//! ```

use std::cmp::Ordering;
use std::collections::{BinaryHeap, VecDeque};
use std::time::{Duration, Instant};

use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};

/// Default for [`LinkConfig::max_in_flight`].
pub const DEFAULT_MAX_IN_FLIGHT: usize = 100_000;

/// Default for [`LinkConfig::queue_bytes`]: 1 MB, i.e. 160 ms at 50 Mbit/s.
pub const DEFAULT_QUEUE_BYTES: usize = 1_000_000;

/// Default for [`LinkConfig::reorder_delay`].
pub const DEFAULT_REORDER_DELAY: Duration = Duration::from_millis(1);

/// How many buffers [`Link::recycle`] keeps for reuse.
const POOL_LIMIT: usize = 256;

/// The Gilbert-Elliott burst-loss model: a two-state Markov chain stepped once
/// per datagram sent, losing datagrams with a different probability in each
/// state.
///
/// The chain steps *before* the loss draw, so a datagram sees the state it
/// moved into. In the long run the link is in the bad state a fraction
/// `p_good_to_bad / (p_good_to_bad + p_bad_to_good)` of the time, and a stay
/// in the bad state lasts `1 / p_bad_to_good` datagrams on average (so with
/// `loss_in_bad = 1` and `loss_in_good = 0`, that is the mean length of a run
/// of losses).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GilbertElliott {
    /// Probability of moving from the good to the bad state, per datagram.
    pub p_good_to_bad: f64,
    /// Probability of moving from the bad to the good state, per datagram.
    pub p_bad_to_good: f64,
    /// Probability that a datagram is lost in the bad state.
    pub loss_in_bad: f64,
    /// Probability that a datagram is lost in the good state.
    pub loss_in_good: f64,
}

impl GilbertElliott {
    /// The classic Gilbert model: everything is lost in the bad state, nothing
    /// in the good one.
    pub fn gilbert(p_good_to_bad: f64, p_bad_to_good: f64) -> Self {
        GilbertElliott {
            p_good_to_bad,
            p_bad_to_good,
            loss_in_bad: 1.0,
            loss_in_good: 0.0,
        }
    }
}

/// The impairments of a [`Link`]. [`LinkConfig::default`] is a perfect link:
/// no loss, no delay, no rate limit.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkConfig {
    /// Probability (0..=1) that a datagram is lost, independently of all others.
    pub loss: f64,
    /// Burst loss on top of [`LinkConfig::loss`], if any.
    pub burst: Option<GilbertElliott>,
    /// Fixed one-way propagation delay, the minimum time from leaving the
    /// bottleneck to delivery.
    pub delay: Duration,
    /// Extra delay drawn uniformly from `0..=jitter` for each datagram
    /// (nanosecond resolution). Jitter only reorders if
    /// [`LinkConfig::reorder`] is set.
    pub jitter: Duration,
    /// Whether datagrams may overtake each other. If `false`, a datagram is
    /// never delivered before one sent earlier, whatever jitter it drew, and
    /// [`LinkConfig::reorder_prob`] is ignored.
    pub reorder: bool,
    /// With [`LinkConfig::reorder`] set: probability that a datagram is held
    /// back by an extra [`LinkConfig::reorder_delay`], so that the datagrams
    /// sent during that time overtake it.
    pub reorder_prob: f64,
    /// How long a datagram picked by [`LinkConfig::reorder_prob`] is held back.
    pub reorder_delay: Duration,
    /// Probability (0..=1) that a datagram which survived loss is duplicated.
    pub duplicate: f64,
    /// Bottleneck rate in bits per second (`None`: unlimited). Each datagram
    /// occupies the bottleneck for `len * 8 / rate_bps` seconds.
    pub rate_bps: Option<u64>,
    /// Capacity of the bottleneck queue in bytes, counting the datagram being
    /// serialised; only used with [`LinkConfig::rate_bps`]. A datagram that
    /// would overflow it is tail-dropped, except that an empty queue always
    /// takes a datagram.
    pub queue_bytes: usize,
    /// Most datagrams held at once (in the bottleneck queue or propagating);
    /// beyond that new datagrams are dropped. Bounds memory when there is no
    /// rate limit.
    pub max_in_flight: usize,
}

impl Default for LinkConfig {
    fn default() -> Self {
        LinkConfig {
            loss: 0.0,
            burst: None,
            delay: Duration::ZERO,
            jitter: Duration::ZERO,
            reorder: false,
            reorder_prob: 0.0,
            reorder_delay: DEFAULT_REORDER_DELAY,
            duplicate: 0.0,
            rate_bps: None,
            queue_bytes: DEFAULT_QUEUE_BYTES,
            max_in_flight: DEFAULT_MAX_IN_FLIGHT,
        }
    }
}

/// Why a [`LinkConfig`] was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LinkConfigError {
    /// A probability was NaN or outside 0..=1.
    #[error("{name} must be a probability between 0 and 1, got {value}")]
    Probability {
        /// The name of the field.
        name: &'static str,
        /// The value given.
        value: f64,
    },
    /// `rate_bps` was `Some(0)`.
    #[error("rate_bps must be positive")]
    ZeroRate,
    /// `max_in_flight` was 0.
    #[error("max_in_flight must be positive")]
    ZeroInFlight,
}

impl LinkConfig {
    /// Checks that every probability is in 0..=1 and every limit positive.
    pub fn validate(&self) -> Result<(), LinkConfigError> {
        let mut probabilities = vec![
            ("loss", self.loss),
            ("reorder_prob", self.reorder_prob),
            ("duplicate", self.duplicate),
        ];
        if let Some(b) = &self.burst {
            probabilities.extend([
                ("burst.p_good_to_bad", b.p_good_to_bad),
                ("burst.p_bad_to_good", b.p_bad_to_good),
                ("burst.loss_in_bad", b.loss_in_bad),
                ("burst.loss_in_good", b.loss_in_good),
            ]);
        }
        for (name, value) in probabilities {
            if !(0.0..=1.0).contains(&value) {
                return Err(LinkConfigError::Probability { name, value });
            }
        }
        if self.rate_bps == Some(0) {
            return Err(LinkConfigError::ZeroRate);
        }
        if self.max_in_flight == 0 {
            return Err(LinkConfigError::ZeroInFlight);
        }
        Ok(())
    }
}

/// Counters of a [`Link`]. At any time
/// `sent + duplicated == delivered + lost_random + lost_burst + dropped_queue
/// + dropped_overflow + in_flight`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LinkStats {
    /// Datagrams handed to [`Link::send`].
    pub sent: u64,
    /// Bytes handed to [`Link::send`].
    pub bytes_sent: u64,
    /// Datagrams handed out by [`Link::poll_delivery`] (duplicates included).
    pub delivered: u64,
    /// Bytes handed out by [`Link::poll_delivery`].
    pub bytes_delivered: u64,
    /// Datagrams lost by [`LinkConfig::loss`].
    pub lost_random: u64,
    /// Datagrams lost by [`LinkConfig::burst`].
    pub lost_burst: u64,
    /// Datagrams (or duplicates) tail-dropped at the full bottleneck queue.
    pub dropped_queue: u64,
    /// Datagrams (or duplicates) dropped because
    /// [`LinkConfig::max_in_flight`] were already held.
    pub dropped_overflow: u64,
    /// Extra copies made by [`LinkConfig::duplicate`].
    pub duplicated: u64,
    /// Datagrams delivered after a datagram that was sent later (the
    /// receiver's view of reordering, as in RFC 4737).
    pub reordered: u64,
    /// Datagrams held now (queued or propagating).
    pub in_flight: u64,
}

/// A datagram on its way.
#[derive(Debug)]
struct Scheduled {
    /// When it is due.
    at: Instant,
    /// Order of scheduling: ties in `at` deliver in this order.
    order: u64,
    /// Index of the datagram among those sent (copies share it).
    origin: u64,
    data: Vec<u8>,
}

impl PartialEq for Scheduled {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Scheduled {}

impl PartialOrd for Scheduled {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Scheduled {
    /// Reversed, so that `BinaryHeap` (a max-heap) pops the earliest first.
    fn cmp(&self, other: &Self) -> Ordering {
        (other.at, other.order).cmp(&(self.at, self.order))
    }
}

/// What [`Link::send`] did with a datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendOutcome {
    /// The datagram is on its way; `copies` is 2 if it was duplicated (and the
    /// copy not dropped), else 1.
    Scheduled {
        /// How many copies will be delivered.
        copies: u8,
    },
    /// Lost by [`LinkConfig::loss`].
    LostRandom,
    /// Lost by [`LinkConfig::burst`].
    LostBurst,
    /// Tail-dropped at the full bottleneck queue.
    DroppedQueue,
    /// Dropped because [`LinkConfig::max_in_flight`] datagrams were held.
    DroppedOverflow,
}

/// A one-way link with loss, delay, jitter, reordering, duplication and a
/// rate-limited queue. See the [module documentation](self).
#[derive(Debug)]
pub struct Link {
    config: LinkConfig,
    rng: ChaCha8Rng,
    /// Gilbert-Elliott state: `true` when bad.
    burst_bad: bool,
    /// Latest `now` seen, so that time never runs backwards.
    now: Option<Instant>,
    /// Datagrams on their way, earliest first.
    scheduled: BinaryHeap<Scheduled>,
    /// Bottleneck queue: (time the datagram finishes serialising, its size).
    queue: VecDeque<(Instant, usize)>,
    queued_bytes: usize,
    /// When the bottleneck finishes serialising what it holds.
    busy_until: Option<Instant>,
    /// Sub-nanosecond remainder of serialisation times, in ns·bit/s.
    rate_carry: u128,
    /// Latest delivery time scheduled so far (for `reorder == false`).
    last_at: Option<Instant>,
    next_order: u64,
    /// Highest origin delivered so far.
    max_origin_delivered: Option<u64>,
    pool: Vec<Vec<u8>>,
    stats: LinkStats,
}

impl Link {
    /// A link with these impairments, drawing its randomness from `seed`.
    ///
    /// # Panics
    ///
    /// If the configuration is invalid (see [`LinkConfig::validate`]); use
    /// [`Link::try_new`] to get the error instead.
    pub fn new(config: LinkConfig, seed: u64) -> Self {
        match Self::try_new(config, seed) {
            Ok(link) => link,
            Err(e) => panic!("invalid LinkConfig: {e}"),
        }
    }

    /// A link with these impairments, or why the configuration is invalid.
    pub fn try_new(config: LinkConfig, seed: u64) -> Result<Self, LinkConfigError> {
        config.validate()?;
        Ok(Link {
            config,
            rng: ChaCha8Rng::seed_from_u64(seed),
            burst_bad: false,
            now: None,
            scheduled: BinaryHeap::new(),
            queue: VecDeque::new(),
            queued_bytes: 0,
            busy_until: None,
            rate_carry: 0,
            last_at: None,
            next_order: 0,
            max_origin_delivered: None,
            pool: Vec::new(),
            stats: LinkStats::default(),
        })
    }

    /// The configuration this link was made with.
    pub fn config(&self) -> &LinkConfig {
        &self.config
    }

    /// A uniform draw from `[0, 1)`.
    fn uniform(&mut self) -> f64 {
        (self.rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// `true` with probability `p`; draws nothing when `p` is 0.
    fn chance(&mut self, p: f64) -> bool {
        p > 0.0 && self.uniform() < p
    }

    /// A uniform draw from `0..=max`, nanosecond resolution.
    fn uniform_duration(&mut self, max: Duration) -> Duration {
        let max = max.as_nanos().min(u128::from(u64::MAX - 1)) as u64;
        if max == 0 {
            return Duration::ZERO;
        }
        let n = (u128::from(self.rng.next_u64()) * u128::from(max + 1)) >> 64;
        Duration::from_nanos(n as u64)
    }

    /// Hands a datagram to the link at time `now`. `now` should not run
    /// backwards; if it does, the latest time seen is used instead.
    pub fn send(&mut self, now: Instant, datagram: &[u8]) -> SendOutcome {
        let now = match self.now {
            Some(last) if last > now => last,
            _ => now,
        };
        self.now = Some(now);
        let origin = self.stats.sent;
        self.stats.sent += 1;
        self.stats.bytes_sent += datagram.len() as u64;

        if let Some(ge) = self.config.burst {
            let flip = if self.burst_bad {
                ge.p_bad_to_good
            } else {
                ge.p_good_to_bad
            };
            if self.chance(flip) {
                self.burst_bad = !self.burst_bad;
            }
            let p = if self.burst_bad {
                ge.loss_in_bad
            } else {
                ge.loss_in_good
            };
            if self.chance(p) {
                self.stats.lost_burst += 1;
                return SendOutcome::LostBurst;
            }
        }
        if self.chance(self.config.loss) {
            self.stats.lost_random += 1;
            return SendOutcome::LostRandom;
        }

        if let Err(outcome) = self.schedule(now, origin, datagram) {
            return outcome;
        }
        let mut copies = 1;
        if self.chance(self.config.duplicate) {
            self.stats.duplicated += 1;
            if self.schedule(now, origin, datagram).is_ok() {
                copies = 2;
            }
        }
        SendOutcome::Scheduled { copies }
    }

    /// Puts one copy of a datagram through the bottleneck and onto the path,
    /// or counts why it was dropped.
    fn schedule(&mut self, now: Instant, origin: u64, datagram: &[u8]) -> Result<(), SendOutcome> {
        if self.scheduled.len() >= self.config.max_in_flight {
            self.stats.dropped_overflow += 1;
            return Err(SendOutcome::DroppedOverflow);
        }
        let mut departs = now;
        if let Some(rate) = self.config.rate_bps {
            while let Some(&(done, len)) = self.queue.front() {
                if done > now {
                    break;
                }
                self.queue.pop_front();
                self.queued_bytes -= len;
            }
            if !self.queue.is_empty()
                && self.queued_bytes.saturating_add(datagram.len()) > self.config.queue_bytes
            {
                self.stats.dropped_queue += 1;
                return Err(SendOutcome::DroppedQueue);
            }
            let start = match self.busy_until {
                Some(busy) if busy > now => busy,
                _ => {
                    self.rate_carry = 0;
                    now
                }
            };
            let bit_ns = datagram.len() as u128 * 8 * 1_000_000_000 + self.rate_carry;
            let rate = u128::from(rate);
            let tx = Duration::from_nanos((bit_ns / rate).min(u128::from(u64::MAX)) as u64);
            self.rate_carry = bit_ns % rate;
            departs = start + tx;
            self.busy_until = Some(departs);
            self.queue.push_back((departs, datagram.len()));
            self.queued_bytes += datagram.len();
        }

        let mut at = departs + self.config.delay;
        if !self.config.jitter.is_zero() {
            at += self.uniform_duration(self.config.jitter);
        }
        if self.config.reorder {
            if self.chance(self.config.reorder_prob) {
                at += self.config.reorder_delay;
            }
        } else if let Some(last) = self.last_at {
            at = at.max(last);
        }
        self.last_at = Some(self.last_at.map_or(at, |last| last.max(at)));

        let mut data = self.pool.pop().unwrap_or_default();
        data.clear();
        data.extend_from_slice(datagram);
        self.scheduled.push(Scheduled {
            at,
            order: self.next_order,
            origin,
            data,
        });
        self.next_order += 1;
        Ok(())
    }

    /// When the next datagram is due, if any is on its way.
    pub fn next_delivery(&self) -> Option<Instant> {
        self.scheduled.peek().map(|s| s.at)
    }

    /// The next datagram due at or before `now`, in delivery order (by due
    /// time, ties in the order they were scheduled).
    pub fn poll_delivery(&mut self, now: Instant) -> Option<Vec<u8>> {
        if self.scheduled.peek()?.at > now {
            return None;
        }
        let s = self.scheduled.pop()?;
        self.stats.delivered += 1;
        self.stats.bytes_delivered += s.data.len() as u64;
        match self.max_origin_delivered {
            Some(max) if s.origin < max => self.stats.reordered += 1,
            _ => self.max_origin_delivered = Some(s.origin),
        }
        Some(s.data)
    }

    /// Gives a buffer (typically one returned by [`Link::poll_delivery`])
    /// back to the link for reuse, sparing an allocation per datagram.
    pub fn recycle(&mut self, buf: Vec<u8>) {
        if self.pool.len() < POOL_LIMIT {
            self.pool.push(buf);
        }
    }

    /// The link's counters.
    pub fn stats(&self) -> LinkStats {
        LinkStats {
            in_flight: self.scheduled.len() as u64,
            ..self.stats
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn packet(i: u64, len: usize) -> Vec<u8> {
        let mut p = vec![0u8; len.max(8)];
        p[..8].copy_from_slice(&i.to_be_bytes());
        p
    }

    fn index(p: &[u8]) -> u64 {
        u64::from_be_bytes(p[..8].try_into().unwrap())
    }

    /// Everything delivered by `until`, with its delivery time.
    fn drain(link: &mut Link, until: Instant) -> Vec<(Instant, Vec<u8>)> {
        let mut out = Vec::new();
        while let Some(at) = link.next_delivery() {
            if at > until {
                break;
            }
            let p = link.poll_delivery(at).unwrap();
            out.push((at, p));
        }
        out
    }

    fn check_accounting(s: &LinkStats) {
        assert_eq!(
            s.sent + s.duplicated,
            s.delivered
                + s.lost_random
                + s.lost_burst
                + s.dropped_queue
                + s.dropped_overflow
                + s.in_flight,
            "{s:?}"
        );
    }

    #[test]
    fn perfect_link_delivers_everything_at_once() {
        let mut link = Link::new(LinkConfig::default(), 0);
        let t0 = Instant::now();
        for i in 0..10 {
            assert_eq!(
                link.send(t0, &packet(i, 20)),
                SendOutcome::Scheduled { copies: 1 }
            );
        }
        for i in 0..10 {
            assert_eq!(index(&link.poll_delivery(t0).unwrap()), i);
        }
        assert_eq!(link.poll_delivery(t0), None);
        assert_eq!(link.next_delivery(), None);
        let s = link.stats();
        assert_eq!((s.sent, s.delivered, s.bytes_delivered), (10, 10, 200));
        check_accounting(&s);
    }

    #[test]
    fn random_loss_rate_within_tolerance() {
        let config = LinkConfig {
            loss: 0.1,
            ..LinkConfig::default()
        };
        let mut link = Link::new(config, 7);
        let t0 = Instant::now();
        let n = 100_000;
        let mut received = 0u64;
        for i in 0..n {
            let now = t0 + Duration::from_micros(i);
            link.send(now, &packet(i, 100));
            while link.poll_delivery(now).is_some() {
                received += 1;
            }
        }
        let s = link.stats();
        let rate = s.lost_random as f64 / n as f64;
        // standard deviation is ~0.00095: this is more than 5 sigma
        assert!((rate - 0.1).abs() < 0.005, "loss rate {rate}");
        assert_eq!(received, n - s.lost_random);
        assert_eq!(s.lost_burst, 0);
        check_accounting(&s);
    }

    #[test]
    fn delay_is_exact_without_jitter() {
        let delay = Duration::from_micros(7_321);
        let config = LinkConfig {
            delay,
            ..LinkConfig::default()
        };
        let mut link = Link::new(config, 1);
        let t0 = Instant::now();
        let sent_at = |i: u64| t0 + Duration::from_micros(137 * i);
        for i in 0..1000 {
            link.send(sent_at(i), &packet(i, 50));
        }
        let got = drain(&mut link, t0 + Duration::from_secs(10));
        assert_eq!(got.len(), 1000);
        for (at, p) in got {
            assert_eq!(at, sent_at(index(&p)) + delay);
        }
    }

    #[test]
    fn nothing_is_delivered_early() {
        let config = LinkConfig {
            delay: Duration::from_millis(3),
            ..LinkConfig::default()
        };
        let mut link = Link::new(config, 1);
        let t0 = Instant::now();
        link.send(t0, b"x");
        assert_eq!(link.poll_delivery(t0 + Duration::from_micros(2_999)), None);
        assert!(link.poll_delivery(t0 + Duration::from_millis(3)).is_some());
    }

    #[test]
    fn jitter_stays_within_bounds() {
        let delay = Duration::from_millis(10);
        let jitter = Duration::from_millis(4);
        let config = LinkConfig {
            delay,
            jitter,
            reorder: true,
            ..LinkConfig::default()
        };
        let mut link = Link::new(config, 3);
        let t0 = Instant::now();
        let sent_at = |i: u64| t0 + Duration::from_micros(100 * i);
        for i in 0..20_000 {
            link.send(sent_at(i), &packet(i, 50));
        }
        let got = drain(&mut link, t0 + Duration::from_secs(100));
        assert_eq!(got.len(), 20_000);
        let (mut lo, mut hi) = (Duration::MAX, Duration::ZERO);
        for (at, p) in &got {
            let d = *at - sent_at(index(p));
            lo = lo.min(d);
            hi = hi.max(d);
        }
        assert!(lo >= delay && hi <= delay + jitter, "{lo:?}..{hi:?}");
        // and the whole range is used
        assert!(lo < delay + Duration::from_micros(50), "{lo:?}");
        assert!(hi > delay + jitter - Duration::from_micros(50), "{hi:?}");
    }

    /// Packets delivered after one sent later, from the receiver's view.
    fn count_reordered(got: &[(Instant, Vec<u8>)]) -> u64 {
        let mut max = None;
        let mut late = 0;
        for (_, p) in got {
            let i = index(p);
            match max {
                Some(m) if i < m => late += 1,
                _ => max = Some(i),
            }
        }
        late
    }

    #[test]
    fn jitter_never_reorders_when_reorder_is_off() {
        let delay = Duration::from_millis(10);
        let config = LinkConfig {
            delay,
            jitter: Duration::from_millis(20),
            reorder: false,
            reorder_prob: 0.5, // ignored
            ..LinkConfig::default()
        };
        let mut link = Link::new(config, 3);
        let t0 = Instant::now();
        let sent_at = |i: u64| t0 + Duration::from_micros(100 * i);
        for i in 0..20_000 {
            link.send(sent_at(i), &packet(i, 50));
        }
        let got = drain(&mut link, t0 + Duration::from_secs(100));
        assert_eq!(got.len(), 20_000);
        for (k, (at, p)) in got.iter().enumerate() {
            assert_eq!(index(p), k as u64);
            assert!(*at >= sent_at(k as u64) + delay);
        }
        assert_eq!(link.stats().reordered, 0);
    }

    #[test]
    fn jitter_reorders_when_reorder_is_on() {
        let config = LinkConfig {
            delay: Duration::from_millis(10),
            jitter: Duration::from_millis(2),
            reorder: true,
            ..LinkConfig::default()
        };
        let mut link = Link::new(config, 5);
        let t0 = Instant::now();
        for i in 0..10_000 {
            link.send(t0 + Duration::from_micros(100 * i), &packet(i, 50));
        }
        let got = drain(&mut link, t0 + Duration::from_secs(100));
        let late = count_reordered(&got);
        assert!(late > 1000, "only {late} reordered");
        assert_eq!(link.stats().reordered, late);
    }

    #[test]
    fn reorder_prob_holds_packets_back() {
        let delay = Duration::from_millis(10);
        let config = LinkConfig {
            delay,
            reorder: true,
            reorder_prob: 0.05,
            reorder_delay: Duration::from_micros(550),
            ..LinkConfig::default()
        };
        let mut link = Link::new(config, 11);
        let t0 = Instant::now();
        let sent_at = |i: u64| t0 + Duration::from_micros(100 * i);
        for i in 0..20_000 {
            link.send(sent_at(i), &packet(i, 50));
        }
        let got = drain(&mut link, t0 + Duration::from_secs(100));
        let held = got
            .iter()
            .filter(|(at, p)| *at - sent_at(index(p)) > delay)
            .count() as f64;
        assert!((held / 20_000.0 - 0.05).abs() < 0.01, "held {held}");
        // each held packet is overtaken by the next five
        let late = count_reordered(&got);
        assert_eq!(link.stats().reordered, late);
        assert!(late as f64 >= 0.9 * held, "{late} late, {held} held");
    }

    #[test]
    fn duplicates_are_counted_and_delivered() {
        let config = LinkConfig {
            duplicate: 0.05,
            ..LinkConfig::default()
        };
        let mut link = Link::new(config, 9);
        let t0 = Instant::now();
        let n = 100_000u64;
        let mut seen = vec![0u8; n as usize];
        for i in 0..n {
            let now = t0 + Duration::from_micros(i);
            let outcome = link.send(now, &packet(i, 20));
            assert!(matches!(outcome, SendOutcome::Scheduled { .. }));
            while let Some(p) = link.poll_delivery(now) {
                seen[index(&p) as usize] += 1;
                link.recycle(p);
            }
        }
        let s = link.stats();
        let dups = seen.iter().filter(|&&c| c == 2).count() as u64;
        assert!(seen.iter().all(|&c| c == 1 || c == 2));
        assert_eq!(dups, s.duplicated);
        assert_eq!(s.delivered, n + s.duplicated);
        let rate = s.duplicated as f64 / n as f64;
        assert!((rate - 0.05).abs() < 0.004, "duplicate rate {rate}");
        assert_eq!(s.reordered, 0);
        check_accounting(&s);
    }

    #[test]
    fn rate_limit_spaces_deliveries() {
        // 8 Mbit/s: one byte per microsecond
        let delay = Duration::from_millis(2);
        let config = LinkConfig {
            delay,
            rate_bps: Some(8_000_000),
            queue_bytes: 1_000_000,
            ..LinkConfig::default()
        };
        let mut link = Link::new(config, 1);
        let t0 = Instant::now();
        for i in 0..100 {
            link.send(t0, &packet(i, 1000));
        }
        let got = drain(&mut link, t0 + Duration::from_secs(10));
        assert_eq!(got.len(), 100);
        for (k, (at, p)) in got.iter().enumerate() {
            assert_eq!(index(p), k as u64);
            assert_eq!(*at, t0 + Duration::from_millis(k as u64 + 1) + delay);
        }
        // an idle bottleneck starts afresh
        let t1 = t0 + Duration::from_secs(1);
        link.send(t1, &packet(0, 125));
        assert_eq!(
            link.next_delivery(),
            Some(t1 + Duration::from_micros(125) + delay)
        );
    }

    #[test]
    fn rate_limit_keeps_sub_nanosecond_remainders() {
        // 3 bytes at 7 bit/us: 24/7 us each, not a whole number of ns
        let config = LinkConfig {
            rate_bps: Some(7_000_000),
            ..LinkConfig::default()
        };
        let mut link = Link::new(config, 1);
        let t0 = Instant::now();
        for i in 0..7000 {
            link.send(t0, &[i as u8; 3]);
        }
        let mut last = t0;
        while let Some(at) = link.next_delivery() {
            link.poll_delivery(at);
            last = at;
        }
        assert_eq!(last, t0 + Duration::from_micros(24_000));
    }

    #[test]
    fn full_queue_tail_drops() {
        let config = LinkConfig {
            rate_bps: Some(8_000_000),
            queue_bytes: 10_000,
            ..LinkConfig::default()
        };
        let mut link = Link::new(config, 1);
        let t0 = Instant::now();
        let outcomes: Vec<_> = (0..50).map(|i| link.send(t0, &packet(i, 1000))).collect();
        assert!(outcomes[..10]
            .iter()
            .all(|o| *o == SendOutcome::Scheduled { copies: 1 }));
        assert!(outcomes[10..]
            .iter()
            .all(|o| *o == SendOutcome::DroppedQueue));
        assert_eq!(link.stats().dropped_queue, 40);
        // after 3 ms three packets have left the queue: room for three more
        let t1 = t0 + Duration::from_millis(3);
        let accepted = (50..60)
            .filter(|&i| {
                matches!(
                    link.send(t1, &packet(i, 1000)),
                    SendOutcome::Scheduled { .. }
                )
            })
            .count();
        assert_eq!(accepted, 3);
        let got = drain(&mut link, t0 + Duration::from_secs(1));
        let order: Vec<u64> = got.iter().map(|(_, p)| index(p)).collect();
        assert_eq!(order, (0..10).chain(50..53).collect::<Vec<_>>());
        check_accounting(&link.stats());
    }

    #[test]
    fn oversized_datagram_enters_an_empty_queue() {
        let config = LinkConfig {
            rate_bps: Some(1_000_000),
            queue_bytes: 100,
            ..LinkConfig::default()
        };
        let mut link = Link::new(config, 1);
        let t0 = Instant::now();
        assert_eq!(
            link.send(t0, &[0; 1500]),
            SendOutcome::Scheduled { copies: 1 }
        );
        assert_eq!(link.send(t0, &[0; 10]), SendOutcome::DroppedQueue);
    }

    #[test]
    fn in_flight_is_capped_without_rate_limit() {
        let config = LinkConfig {
            delay: Duration::from_secs(1),
            max_in_flight: 1000,
            ..LinkConfig::default()
        };
        let mut link = Link::new(config, 1);
        let t0 = Instant::now();
        for i in 0..1500 {
            link.send(t0, &packet(i, 10));
        }
        let s = link.stats();
        assert_eq!((s.in_flight, s.dropped_overflow), (1000, 500));
        assert_eq!(link.send(t0, &packet(0, 10)), SendOutcome::DroppedOverflow);
        check_accounting(&link.stats());
    }

    #[test]
    fn burst_loss_produces_runs() {
        let ge = GilbertElliott::gilbert(0.01, 0.25);
        let config = LinkConfig {
            burst: Some(ge),
            ..LinkConfig::default()
        };
        let mut link = Link::new(config, 42);
        let t0 = Instant::now();
        let n = 400_000;
        let mut runs = Vec::new();
        let mut run = 0u64;
        for i in 0..n {
            match link.send(t0, &packet(i, 10)) {
                SendOutcome::LostBurst => run += 1,
                SendOutcome::Scheduled { .. } => {
                    if run > 0 {
                        runs.push(run);
                    }
                    run = 0;
                }
                other => panic!("unexpected {other:?}"),
            }
            while link.poll_delivery(t0).is_some() {}
        }
        let mean = runs.iter().sum::<u64>() as f64 / runs.len() as f64;
        assert!((mean - 4.0).abs() < 0.2, "mean burst {mean}");
        let s = link.stats();
        let loss = s.lost_burst as f64 / n as f64;
        let expected = 0.01 / (0.01 + 0.25);
        assert!((loss - expected).abs() < 0.004, "loss {loss} vs {expected}");
        assert_eq!(s.lost_random, 0);
        check_accounting(&s);
    }

    /// FNV-1a, enough to compare runs.
    fn fnv(hash: &mut u64, bytes: &[u8]) {
        for &b in bytes {
            *hash ^= u64::from(b);
            *hash = hash.wrapping_mul(0x100_0000_01b3);
        }
    }

    fn run_digest(seed: u64) -> (u64, LinkStats) {
        let config = LinkConfig {
            loss: 0.05,
            burst: Some(GilbertElliott {
                p_good_to_bad: 0.01,
                p_bad_to_good: 0.3,
                loss_in_bad: 0.8,
                loss_in_good: 0.001,
            }),
            delay: Duration::from_millis(20),
            jitter: Duration::from_millis(5),
            reorder: true,
            reorder_prob: 0.02,
            reorder_delay: Duration::from_millis(1),
            duplicate: 0.01,
            rate_bps: Some(20_000_000),
            queue_bytes: 30_000,
            max_in_flight: 10_000,
        };
        let mut link = Link::new(config, seed);
        let t0 = Instant::now();
        let mut hash = 0xcbf2_9ce4_8422_2325;
        let mut now = t0;
        for i in 0..50_000u64 {
            now += Duration::from_micros(50 + (i * 7919) % 400);
            link.send(now, &packet(i, 200 + (i as usize * 31) % 1100));
            while let Some(p) = link.poll_delivery(now) {
                fnv(&mut hash, &((now - t0).as_nanos() as u64).to_be_bytes());
                fnv(&mut hash, &p);
            }
            if let Some(next) = link.next_delivery() {
                fnv(&mut hash, &((next - t0).as_nanos() as u64).to_be_bytes());
            }
        }
        (hash, link.stats())
    }

    #[test]
    fn same_seed_same_run() {
        let (a, sa) = run_digest(1234);
        let (b, sb) = run_digest(1234);
        assert_eq!(a, b);
        assert_eq!(sa, sb);
        check_accounting(&sa);
        assert!(sa.lost_random > 0 && sa.lost_burst > 0 && sa.dropped_queue > 0);
        assert!(sa.duplicated > 0 && sa.reordered > 0);
        let (c, _) = run_digest(1235);
        assert_ne!(a, c);
    }

    #[test]
    fn invalid_configs_are_refused() {
        let bad = |c: LinkConfig| Link::try_new(c, 0).unwrap_err();
        assert!(matches!(
            bad(LinkConfig {
                loss: 1.5,
                ..LinkConfig::default()
            }),
            LinkConfigError::Probability { name: "loss", .. }
        ));
        assert!(matches!(
            bad(LinkConfig {
                duplicate: f64::NAN,
                ..LinkConfig::default()
            }),
            LinkConfigError::Probability {
                name: "duplicate",
                ..
            }
        ));
        assert!(matches!(
            bad(LinkConfig {
                burst: Some(GilbertElliott::gilbert(-0.1, 0.5)),
                ..LinkConfig::default()
            }),
            LinkConfigError::Probability {
                name: "burst.p_good_to_bad",
                ..
            }
        ));
        assert_eq!(
            bad(LinkConfig {
                rate_bps: Some(0),
                ..LinkConfig::default()
            }),
            LinkConfigError::ZeroRate
        );
        assert_eq!(
            bad(LinkConfig {
                max_in_flight: 0,
                ..LinkConfig::default()
            }),
            LinkConfigError::ZeroInFlight
        );
    }

    #[test]
    fn time_never_runs_backwards() {
        let config = LinkConfig {
            delay: Duration::from_millis(1),
            ..LinkConfig::default()
        };
        let mut link = Link::new(config, 0);
        let t0 = Instant::now();
        let t1 = t0 + Duration::from_millis(5);
        link.send(t1, b"a");
        link.send(t0, b"b");
        assert_eq!(
            link.poll_delivery(t1 + Duration::from_millis(1)).unwrap(),
            b"a"
        );
        assert_eq!(
            link.poll_delivery(t1 + Duration::from_millis(1)).unwrap(),
            b"b"
        );
    }

    fn arb_config() -> impl Strategy<Value = LinkConfig> {
        (
            (
                0.0..=1.0f64,
                proptest::option::of((0.0..=1.0f64, 0.0..=1.0f64, 0.0..=1.0f64, 0.0..=1.0f64)),
            ),
            (
                0u64..5_000,
                0u64..5_000,
                any::<bool>(),
                0.0..=1.0f64,
                0u64..5_000,
            ),
            (
                0.0..=1.0f64,
                proptest::option::of(1_000u64..100_000_000),
                0usize..20_000,
                1usize..200,
            ),
        )
            .prop_map(
                |(
                    (loss, burst),
                    (delay, jitter, reorder, reorder_prob, reorder_delay),
                    (duplicate, rate_bps, queue_bytes, max_in_flight),
                )| LinkConfig {
                    loss,
                    burst: burst.map(|(a, b, c, d)| GilbertElliott {
                        p_good_to_bad: a,
                        p_bad_to_good: b,
                        loss_in_bad: c,
                        loss_in_good: d,
                    }),
                    delay: Duration::from_micros(delay),
                    jitter: Duration::from_micros(jitter),
                    reorder,
                    reorder_prob,
                    reorder_delay: Duration::from_micros(reorder_delay),
                    duplicate,
                    rate_bps,
                    queue_bytes,
                    max_in_flight,
                },
            )
    }

    /// Delivers everything due by `until`, checking that nothing is early
    /// and, without `reorder`, that sending order is kept.
    fn deliver(
        link: &mut Link,
        until: Instant,
        sent_at: &[Instant],
        config: &LinkConfig,
        last_index: &mut Option<u64>,
    ) -> Result<(), TestCaseError> {
        while let Some(at) = link.next_delivery() {
            if at > until {
                break;
            }
            let p = link.poll_delivery(at).unwrap();
            let i = index(&p);
            prop_assert!(at >= sent_at[i as usize] + config.delay);
            if !config.reorder {
                prop_assert!(last_index.is_none_or(|l| i >= l));
                *last_index = Some(i);
            }
        }
        Ok(())
    }

    proptest! {
        /// Counters always add up, nothing is early, memory stays bounded, and
        /// without `reorder` delivery keeps the sending order.
        #[test]
        fn link_invariants(
            config in arb_config(),
            seed in any::<u64>(),
            steps in proptest::collection::vec((0u64..2_000, 0usize..1500), 1..300),
        ) {
            let mut link = Link::new(config.clone(), seed);
            let t0 = Instant::now();
            let mut now = t0;
            let mut sent_at = Vec::new();
            let mut last_index = None;
            for (i, (gap, len)) in steps.into_iter().enumerate() {
                now += Duration::from_micros(gap);
                sent_at.push(now);
                link.send(now, &packet(i as u64, len));
                let s = link.stats();
                prop_assert!(s.in_flight <= config.max_in_flight as u64);
                check_accounting(&s);
                deliver(&mut link, now, &sent_at, &config, &mut last_index)?;
            }
            deliver(&mut link, now + Duration::from_secs(1000), &sent_at, &config, &mut last_index)?;
            let s = link.stats();
            prop_assert_eq!(s.in_flight, 0);
            check_accounting(&s);
            if !config.reorder {
                prop_assert_eq!(s.reordered, 0);
            }
        }
    }
}
