//! Timestamp-based packet delivery (TSBPD): the peer's clock, wrap-around and drift correction.
//!
//! [`Tsbpd`] is the receiver's model of the sender's clock, as libsrt's
//! `CTsbpdTime` (tsbpd_time.cpp): a packet stamped `ts` by the sender is
//! played at `base + carryover + ts + latency + drift`, where
//!
//! - `base` is our arrival time of the handshake packet that carried the
//!   peer's HSREQ/HSRSP minus that packet's timestamp;
//! - `carryover` is 2³² µs while a wrap of the 32-bit timestamp is in
//!   progress (see [`Tsbpd::update_wrap`]);
//! - `drift` is the average deviation of control-packet arrival times from
//!   this model, measured by libsrt's `DriftTracer` over 1000 samples.
//!
//! Nothing here reads a clock: every time comes in as an [`Instant`].

use std::time::{Duration, Instant};

use crate::seq::Timestamp;

/// 30 s: the wrap period of libsrt (`TSBPD_WRAP_PERIOD`), in µs.
const WRAP_PERIOD_US: u32 = 30_000_000;
/// 2³² µs, the carryover added to the base when timestamps wrap.
const CARRYOVER_US: i64 = 1 << 32;
/// Samples averaged per drift update (`TSBPD_DRIFT_MAX_SAMPLES`).
const DRIFT_MAX_SAMPLES: u32 = 1000;
/// Average drift beyond which the base moves (`TSBPD_DRIFT_MAX_VALUE`), µs.
const DRIFT_MAX_VALUE: i64 = 5000;

/// `t + micros` (negative moves back); `t` itself if the result is not representable.
fn shift(t: Instant, micros: i64) -> Instant {
    let d = Duration::from_micros(micros.unsigned_abs());
    let moved = if micros >= 0 {
        t.checked_add(d)
    } else {
        t.checked_sub(d)
    };
    moved.unwrap_or(t)
}

/// `a − b` in µs, truncated toward zero (libsrt's `count_microseconds`).
fn micros_between(a: Instant, b: Instant) -> i64 {
    match a.checked_duration_since(b) {
        Some(d) => i64::try_from(d.as_micros()).unwrap_or(i64::MAX),
        None => -i64::try_from(b.duration_since(a).as_micros()).unwrap_or(i64::MAX),
    }
}

/// libsrt's `DriftTracer<1000, 5000, true>` (utilities.h): block averages of
/// drift samples, with any excess beyond ±5000 µs split off as "overdrift".
#[derive(Clone, Debug, Default)]
struct DriftTracer {
    drift: i64,
    overdrift: i64,
    sum: i64,
    span: u32,
}

impl DriftTracer {
    /// Adds a sample; true when a block of samples completed and `drift`
    /// (and possibly `overdrift`) took a new value.
    fn update(&mut self, sample: i64) -> bool {
        self.sum = self.sum.saturating_add(sample);
        self.span += 1;
        self.overdrift = 0;
        if self.span < DRIFT_MAX_SAMPLES {
            return false;
        }
        // Integer division truncating toward zero, as in C++.
        self.drift = self.sum / i64::from(self.span);
        self.sum = 0;
        self.span = 0;
        if self.drift.abs() > DRIFT_MAX_VALUE {
            self.overdrift = if self.drift < 0 {
                -DRIFT_MAX_VALUE
            } else {
                DRIFT_MAX_VALUE
            };
            self.drift -= self.overdrift;
        }
        true
    }
}

/// The receiver's model of the sender's clock: delivery times of packets (libsrt's `CTsbpdTime`).
#[derive(Clone, Debug)]
pub(crate) struct Tsbpd {
    base: Instant,
    latency: Duration,
    wrap_check: bool,
    drift_tracer_enabled: bool,
    /// The first RTT sample (µs), taken as the RTT at the time `base` was set.
    first_rtt: Option<i64>,
    tracer: DriftTracer,
}

impl Tsbpd {
    /// A model with time base `base`, delivery latency `latency`, and drift tracking on or off.
    ///
    /// `base` is the arrival time of the handshake packet carrying the peer's
    /// HSREQ (we respond) or HSRSP (we initiate) minus that packet's
    /// timestamp. libsrt starts outside the wrap period (`setTsbPdMode(.., false, ..)`).
    pub(crate) fn new(base: Instant, latency: Duration, drift_tracer: bool) -> Self {
        Tsbpd {
            base,
            latency,
            wrap_check: false,
            drift_tracer_enabled: drift_tracer,
            first_rtt: None,
            tracer: DriftTracer::default(),
        }
    }

    /// The time base and whether a wrap is in progress, for the other
    /// members of a socket group (libsrt's `getBufferTimeBase`).
    pub(crate) fn group_time_base(&self) -> (Instant, bool) {
        (self.base, self.wrap_check)
    }

    /// Takes a socket group's time base, so every member plays a packet at
    /// the same time (libsrt's `CRcvBuffer::applyGroupTime`).
    pub(crate) fn adopt_group_time_base(&mut self, base: Instant, wrap_check: bool) {
        self.base = base;
        self.wrap_check = wrap_check;
    }

    /// The negotiated delivery latency.
    pub(crate) fn latency(&self) -> Duration {
        self.latency
    }

    /// The current clock drift in microseconds (positive: the peer's packets arrive later than the model predicts).
    #[cfg(test)]
    pub(crate) fn drift(&self) -> i64 {
        self.tracer.drift
    }

    /// The current time base (moved by wraps and drift corrections), without carryover.
    #[cfg(test)]
    pub(crate) fn base(&self) -> Instant {
        self.base
    }

    /// Whether a timestamp wrap is in progress (libsrt's `m_bTsbPdWrapCheck`).
    #[cfg(test)]
    pub(crate) fn in_wrap_period(&self) -> bool {
        self.wrap_check
    }

    /// Whether drift samples are taken into account (SRTO_DRIFTTRACER).
    #[cfg(test)]
    pub(crate) fn drift_tracer_enabled(&self) -> bool {
        self.drift_tracer_enabled
    }

    /// Switches drift tracking (SRTO_DRIFTTRACER set on a connected socket;
    /// libsrt reads the option at each sample). The drift so far is kept.
    pub(crate) fn set_drift_tracer(&mut self, on: bool) {
        self.drift_tracer_enabled = on;
    }

    /// Carryover for `ts`: 2³² µs in the wrap period for timestamps up to 60 s.
    fn carryover(&self, ts: Timestamp) -> i64 {
        // libsrt tracks the whole [0, 2·WRAP_PERIOD] range so that an event in
        // [WRAP_PERIOD, 2·WRAP_PERIOD] that has not yet ended the wrap period
        // still maps correctly (tsbpd_time.cpp, getBaseTimeNoLock).
        if self.wrap_check && ts.as_u32() <= 2 * WRAP_PERIOD_US {
            CARRYOVER_US
        } else {
            0
        }
    }

    /// The time base for `ts`, including the wrap carryover (libsrt's `getBaseTime`).
    #[cfg(test)]
    pub(crate) fn base_time(&self, ts: Timestamp) -> Instant {
        shift(self.base, self.carryover(ts))
    }

    /// The sender's time of `ts` on our clock, without latency or drift (libsrt's `getPktBaseTime`).
    pub(crate) fn packet_base_time(&self, ts: Timestamp) -> Instant {
        shift(self.base, self.carryover(ts) + i64::from(ts.as_u32()))
    }

    /// The sender's time of `ts` on our clock, drift included: `delivery_time(ts) − latency`.
    pub(crate) fn origin_time(&self, ts: Timestamp) -> Instant {
        let offset = self.carryover(ts) + i64::from(ts.as_u32());
        shift(self.base, offset.saturating_add(self.tracer.drift))
    }

    /// When a packet stamped `ts` is to be delivered: base + carryover + ts + latency + drift.
    pub(crate) fn delivery_time(&self, ts: Timestamp) -> Instant {
        let latency = i64::try_from(self.latency.as_micros()).unwrap_or(i64::MAX / 2);
        let offset = self.carryover(ts) + i64::from(ts.as_u32()) + latency;
        shift(self.base, offset.saturating_add(self.tracer.drift))
    }

    /// Tracks the 32-bit timestamp wrap; call for each delivered or dropped data packet and each keepalive.
    ///
    /// As libsrt's `updateBaseTime`: outside the wrap period, a timestamp
    /// above 2³² − 30 s starts it; inside, a timestamp in [30 s, 60 s] ends
    /// it and moves the base forward by 2³² µs.
    pub(crate) fn update_wrap(&mut self, ts: Timestamp) {
        let ts = ts.as_u32();
        if self.wrap_check {
            if (WRAP_PERIOD_US..=2 * WRAP_PERIOD_US).contains(&ts) {
                self.wrap_check = false;
                self.base = shift(self.base, CARRYOVER_US);
            }
            return;
        }
        if ts > u32::MAX - WRAP_PERIOD_US {
            self.wrap_check = true;
        }
    }

    /// Feeds one drift sample: an ACKACK (with its RTT sample) or a keepalive (`None`); true if the base or drift changed.
    ///
    /// The sample is `arrival − (base + ts) − (rtt − first_rtt)/2`, where
    /// `first_rtt` is the first RTT sample seen. Every 1000 samples their
    /// average becomes the drift; if it exceeds ±5000 µs, the base moves by
    /// ±5000 µs and the drift keeps the remainder (libsrt's `addDriftSample`
    /// and `DriftTracer`). Does nothing when drift tracking is off.
    pub(crate) fn add_drift_sample(
        &mut self,
        ts: Timestamp,
        arrival: Instant,
        rtt_sample: Option<Duration>,
    ) -> bool {
        if !self.drift_tracer_enabled {
            return false;
        }
        let rtt = rtt_sample.map(|d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX / 4));
        if self.first_rtt.is_none() {
            // libsrt stores the sample even when it is "none" (−1), so the
            // first real sample is the one that sticks.
            self.first_rtt = rtt;
        }
        let rtt_delta = match (rtt, self.first_rtt) {
            (Some(r), Some(first)) => (r - first) / 2,
            _ => 0,
        };
        let sample = micros_between(arrival, self.packet_base_time(ts)).saturating_sub(rtt_delta);
        let updated = self.tracer.update(sample);
        if updated {
            self.base = shift(self.base, self.tracer.overdrift);
        }
        updated
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: u64 = 1000;

    fn us(n: u64) -> Duration {
        Duration::from_micros(n)
    }

    fn ts(n: u64) -> Timestamp {
        Timestamp::from_micros(n)
    }

    fn setup() -> (Instant, Tsbpd) {
        let base = Instant::now();
        (base, Tsbpd::new(base, Duration::from_millis(120), true))
    }

    #[test]
    fn delivery_is_base_plus_ts_plus_latency() {
        let (base, t) = setup();
        assert_eq!(t.delivery_time(ts(0)), base + us(120 * MS));
        assert_eq!(t.delivery_time(ts(5 * MS)), base + us(125 * MS));
        assert_eq!(t.origin_time(ts(5 * MS)), base + us(5 * MS));
        assert_eq!(t.packet_base_time(ts(7)), base + us(7));
        assert_eq!(t.latency(), Duration::from_millis(120));
        assert_eq!(t.drift(), 0);
        assert_eq!(t.base(), base);
        assert!(!t.in_wrap_period());
    }

    #[test]
    fn wrap_period_boundaries() {
        let (base, mut t) = setup();
        let wrap_start = u64::from(u32::MAX) - 30_000_000;
        // Exactly 2³² − 1 − 30 s does not start the period; one more does.
        t.update_wrap(ts(wrap_start));
        assert!(!t.in_wrap_period());
        // Outside the wrap period, small timestamps get no carryover.
        assert_eq!(t.base_time(ts(1)), base);
        t.update_wrap(ts(wrap_start + 1));
        assert!(t.in_wrap_period());
        // In the period: ts ≤ 60 s counts as after the wrap, larger ones do not.
        assert_eq!(t.base_time(ts(0)), base + us(1 << 32));
        assert_eq!(t.base_time(ts(60_000_000)), base + us(1 << 32));
        assert_eq!(t.base_time(ts(60_000_001)), base);
        assert_eq!(t.base_time(ts(u64::from(u32::MAX))), base);
        // Events below 30 s or above 60 s do not end the period.
        t.update_wrap(ts(29_999_999));
        t.update_wrap(ts(60_000_001));
        t.update_wrap(ts(u64::from(u32::MAX)));
        assert!(t.in_wrap_period());
        assert_eq!(t.base(), base);
        let before = t.delivery_time(ts(45_000_000));
        // 30 s ends it and moves the base by 2³² µs; times do not jump.
        t.update_wrap(ts(30_000_000));
        assert!(!t.in_wrap_period());
        assert_eq!(t.base(), base + us(1 << 32));
        assert_eq!(t.delivery_time(ts(45_000_000)), before);
        // Ending at 60 s works as well.
        let (base, mut t) = setup();
        t.update_wrap(ts(u64::from(u32::MAX)));
        t.update_wrap(ts(60_000_000));
        assert!(!t.in_wrap_period());
        assert_eq!(t.base(), base + us(1 << 32));
    }

    #[test]
    fn clock_runs_continuously_across_two_wraps() {
        // A sender stamping every 100 ms for 2.5 × 71.6 min; each packet is
        // delivered (update_wrap) in order. Delivery times must equal
        // base + true elapsed time + latency throughout.
        let (base, mut t) = setup();
        let step = 100 * MS;
        let total = 5 * (1u64 << 32) / 2;
        let mut true_us = 0u64;
        let mut prev = None;
        let mut wraps_ended = 0;
        while true_us < total {
            let stamp = ts(true_us);
            let when = t.delivery_time(stamp);
            assert_eq!(when, base + us(true_us + 120 * MS), "at {true_us} µs");
            if let Some(p) = prev {
                assert!(when > p);
            }
            prev = Some(when);
            let was = t.in_wrap_period();
            t.update_wrap(stamp);
            if was && !t.in_wrap_period() {
                wraps_ended += 1;
            }
            true_us += step;
        }
        assert_eq!(wraps_ended, 2);
        assert_eq!(t.base(), base + us(2 << 32));
    }

    #[test]
    fn late_packet_from_before_the_wrap_keeps_its_time() {
        // In the wrap period a belated packet stamped just before 2³² still
        // maps to before the wrap, a fresh one after it.
        let (base, mut t) = setup();
        let high = u64::from(u32::MAX) - 1_000_000;
        t.update_wrap(ts(high));
        assert_eq!(t.delivery_time(ts(high)), base + us(high + 120 * MS));
        assert_eq!(
            t.delivery_time(ts(2_000_000)),
            base + us((1 << 32) + 2_000_000 + 120 * MS)
        );
        assert!(t.delivery_time(ts(2_000_000)) > t.delivery_time(ts(high)));
    }

    /// Feeds `n` keepalive-style samples whose arrival is `offset` µs after
    /// the model's base time for their timestamps.
    fn feed(t: &mut Tsbpd, origin: Instant, offset: i64, n: u32, start_ts: u64) -> u32 {
        let mut updates = 0;
        for i in 0..n {
            let stamp = start_ts + u64::from(i) * 10 * MS;
            let arrival = shift(origin, stamp as i64 + offset);
            if t.add_drift_sample(ts(stamp), arrival, None) {
                updates += 1;
            }
        }
        updates
    }

    #[test]
    fn drift_within_limit_becomes_drift() {
        let (base, mut t) = setup();
        // 999 samples change nothing, the 1000th sets the average.
        assert_eq!(feed(&mut t, base, 3000, 999, 0), 0);
        assert_eq!(t.drift(), 0);
        assert_eq!(feed(&mut t, base, 3000, 1, 9_990 * MS), 1);
        assert_eq!(t.drift(), 3000);
        assert_eq!(t.base(), base);
        assert_eq!(t.delivery_time(ts(0)), base + us(123 * MS));
        assert_eq!(t.origin_time(ts(0)), base + us(3 * MS));
    }

    #[test]
    fn overdrift_moves_the_base_and_keeps_the_remainder() {
        let (base, mut t) = setup();
        assert_eq!(feed(&mut t, base, 7000, 1000, 0), 1);
        assert_eq!(t.base(), base + us(5000));
        assert_eq!(t.drift(), 2000);
        assert_eq!(t.delivery_time(ts(0)), base + us(127 * MS));
        // The same physical offset, now measured from the moved base: 2000.
        assert_eq!(feed(&mut t, base, 7000, 1000, 10_000 * MS), 1);
        assert_eq!(t.base(), base + us(5000));
        assert_eq!(t.drift(), 2000);
        // Only 5000 µs move per block, however large the average.
        let (base, mut t) = setup();
        assert_eq!(feed(&mut t, base, -12_000, 1000, 0), 1);
        assert_eq!(t.base(), shift(base, -5000));
        assert_eq!(t.drift(), -7000);
        assert_eq!(t.delivery_time(ts(0)), base + us(108 * MS));
        // Exactly 5000 is not overdrift.
        let (base, mut t) = setup();
        feed(&mut t, base, 5000, 1000, 0);
        assert_eq!((t.base(), t.drift()), (base, 5000));
    }

    #[test]
    fn drift_average_truncates_toward_zero() {
        let (base, mut t) = setup();
        // 500 samples of −1 and 500 of −2: sum −1500 / 1000 → −1 (C++ division).
        feed(&mut t, base, -1, 500, 0);
        feed(&mut t, base, -2, 500, 5_000 * MS);
        assert_eq!(t.drift(), -1);
    }

    #[test]
    fn rtt_change_is_halved_and_subtracted() {
        let (base, mut t) = setup();
        // A keepalive first does not fix the first RTT.
        let arrival = base + us(10 * MS + 4000);
        t.add_drift_sample(ts(10 * MS), arrival, None);
        // First ACKACK: RTT 20 ms is the reference; its sample is 4000.
        t.add_drift_sample(ts(10 * MS), arrival, Some(Duration::from_millis(20)));
        // Later ACKACKs with RTT 30 ms: half the change (5 ms) is network
        // delay, not drift: samples of 4000 − 5000 = −1000.
        for _ in 0..998 {
            t.add_drift_sample(ts(10 * MS), arrival, Some(Duration::from_millis(30)));
        }
        // (4000 + 4000 + 998 × −1000) / 1000 = −990
        assert_eq!(t.drift(), -990);
        assert_eq!(t.base(), base);
    }

    #[test]
    fn drift_samples_across_the_wrap_use_the_carryover() {
        let (base, mut t) = setup();
        t.update_wrap(ts(u64::from(u32::MAX)));
        // A keepalive stamped 1 s after the wrap, arriving on time + 1 ms.
        let arrival = base + us((1 << 32) + 1_000_000 + 1000);
        for _ in 0..1000 {
            t.add_drift_sample(ts(1_000_000), arrival, None);
        }
        assert_eq!(t.drift(), 1000);
    }

    #[test]
    fn disabled_tracer_ignores_samples() {
        let base = Instant::now();
        let mut t = Tsbpd::new(base, Duration::from_millis(120), false);
        assert!(!t.drift_tracer_enabled());
        for _ in 0..2000 {
            assert!(!t.add_drift_sample(ts(0), base + us(50 * MS), None));
        }
        assert_eq!((t.base(), t.drift()), (base, 0));
        // Switched on later (SRTO_DRIFTTRACER on a connected socket).
        t.set_drift_tracer(true);
        for _ in 0..1000 {
            t.add_drift_sample(ts(0), base + us(1000), None);
        }
        assert_eq!(t.drift(), 1000);
    }

    #[test]
    fn early_arrivals_do_not_panic() {
        // An arrival long before the base (a confused peer) is a large
        // negative sample, not a panic.
        let base = Instant::now() + Duration::from_secs(3600);
        let mut t = Tsbpd::new(base, Duration::from_millis(120), true);
        for _ in 0..1000 {
            t.add_drift_sample(ts(u64::from(u32::MAX)), Instant::now(), Some(Duration::MAX));
        }
        assert_eq!(t.base(), shift(base, -5000));
        assert!(t.drift() < -3_600_000_000);
    }
}
