//! Rate and capacity estimators: receive rate, packet arrival speed, link capacity from probe pairs.
//!
//! [`ArrivalWindow`] is libsrt's receiver-side `CPktTimeWindow<16, 64>`
//! (window.h, window.cpp, utilities.h `GetPeakRange`): it keeps the last 16
//! packet inter-arrival times with their sizes, and the last 64 probe-pair
//! intervals, and answers the three figures a full ACK carries: the packet
//! receive rate (CIF word 4), the estimated link capacity (word 5) and the
//! byte receive rate (word 6).
//!
//! Both estimates are median filters: take the median of the window (the
//! element of rank `len / 2`), drop the values outside `(median / 8,
//! median · 8)` (exclusive bounds), and average the rest.
//!
//! libsrt quirk kept on purpose: the window is set up in `CUDT::clearData`
//! with a "header size" of `UDP_HDR_SIZE − HDR_SIZE` = 28 − 16 = **12** bytes
//! and a "payload size" of `MSS − 12` (1488 for MSS 1500), not 44 and 1456.
//! Those two numbers enter the byte rate (12 bytes per packet are added) and
//! the probe scaling, so ACKs match libsrt's only if we use them too.

use core::time::Duration;
use std::time::Instant;

use crate::seq::SeqNumber;

/// Number of packet inter-arrival samples (libsrt `ASIZE`).
const PKT_WINDOW: usize = 16;
/// Number of probe-pair samples of the receiver's window (libsrt `PSIZE` of `m_RcvTimeWindow`).
const PROBE_WINDOW: usize = 64;
/// Initial inter-arrival sample: 1 s, i.e. 1 packet/s (window.cpp `initializeWindowArrays`).
const INITIAL_PKT_INTERVAL_US: i32 = 1_000_000;
/// Initial probe sample: 1 ms, i.e. 1000 packets/s.
const INITIAL_PROBE_INTERVAL_US: i32 = 1_000;
/// The header size libsrt's time window is initialized with (28 − 16, see the module doc).
const WINDOW_HDR_SIZE: u32 = 12;

/// A duration in whole microseconds as libsrt's `(int) count_microseconds(..)`, saturated to `i32`.
fn micros_i32(d: Duration) -> i32 {
    i32::try_from(d.as_micros()).unwrap_or(i32::MAX)
}

/// libsrt `ceilPerMega(value, count)`: `ceil(10⁶ / (value / count))`, saturated to `i32`
/// (a zero `value` gives `i32::MAX` where C would have undefined behaviour).
fn ceil_per_mega(value: f64, count: f64) -> i32 {
    // `as` saturates (and maps NaN to 0), which keeps this total.
    (1_000_000.0 / (value / count)).ceil() as i32
}

/// The median-based pass filter of libsrt's `GetPeakRange`.
#[derive(Clone, Copy, Debug)]
struct PassFilter {
    lower: i64,
    median: i64,
    upper: i64,
}

impl PassFilter {
    /// The filter for `window`: median = element of rank `len / 2`, bounds ×8 and /8.
    /// `scratch` must be as long as `window`; the window itself is not reordered.
    fn of(window: &[i32], scratch: &mut [i32]) -> Self {
        scratch.copy_from_slice(window);
        let mid = scratch.len() / 2;
        let (_, median, _) = scratch.select_nth_unstable(mid);
        let median = i64::from(*median);
        // libsrt: median << 3 and median >> 3 on int; i64 here cannot overflow.
        PassFilter {
            lower: median >> 3,
            median,
            upper: median << 3,
        }
    }

    /// Whether `v` lies strictly inside the bounds.
    fn encloses(&self, v: i32) -> bool {
        let v = i64::from(v);
        v > self.lower && v < self.upper
    }
}

/// libsrt's receiver time window (`CPktTimeWindow<16, 64>`): packet arrival
/// speed, byte receive rate and probe-pair link capacity. Fixed arrays, no
/// allocation.
#[derive(Clone, Debug)]
pub(crate) struct ArrivalWindow {
    /// Inter-arrival times, µs.
    pkt_window: [i32; PKT_WINDOW],
    /// Payload bytes of the packet that ended each interval.
    bytes_window: [i32; PKT_WINDOW],
    pkt_pos: usize,
    /// Probe-pair intervals, µs, scaled to a full payload.
    probe_window: [i32; PROBE_WINDOW],
    probe_pos: usize,
    last_arrival: Option<Instant>,
    probe1_time: Option<Instant>,
    /// Sequence of the pending first probe; `None` is libsrt's `SRT_SEQNO_NONE`.
    probe1_seq: Option<SeqNumber>,
    /// Header bytes added per packet to the byte rate (12, see the module doc).
    header_size: u32,
    /// The payload size probe intervals are scaled to (MSS − 12).
    payload_size: u32,
    /// [`ArrivalWindow::recv_rates`] since the last packet arrival.
    rates: Option<(u32, u32)>,
    /// [`ArrivalWindow::link_capacity`] since the last probe sample (a
    /// full ACK per data packet at low rates asks far more often than the
    /// one probe pair in 16 packets changes it).
    capacity: Option<u32>,
}

impl Default for ArrivalWindow {
    fn default() -> Self {
        Self::new()
    }
}

impl ArrivalWindow {
    /// A window for the default MSS of 1500 bytes, filled with libsrt's initial samples.
    pub(crate) fn new() -> Self {
        Self::with_mss(1500)
    }

    /// A window for a socket whose configured (pre-negotiation) MSS is `mss`.
    pub(crate) fn with_mss(mss: u32) -> Self {
        let payload_size = mss.saturating_sub(WINDOW_HDR_SIZE);
        ArrivalWindow {
            pkt_window: [INITIAL_PKT_INTERVAL_US; PKT_WINDOW],
            bytes_window: [i32::try_from(payload_size).unwrap_or(i32::MAX); PKT_WINDOW],
            pkt_pos: 0,
            probe_window: [INITIAL_PROBE_INTERVAL_US; PROBE_WINDOW],
            probe_pos: 0,
            last_arrival: None,
            probe1_time: None,
            probe1_seq: None,
            header_size: WINDOW_HDR_SIZE,
            payload_size,
            rates: None,
            capacity: None,
        }
    }

    /// Records the arrival of any data packet carrying `bytes` of payload
    /// (libsrt `onPktArrival`, called for every data packet, retransmitted or not).
    ///
    /// The very first arrival only starts the clock: libsrt measures it from
    /// the socket's construction, an arbitrary instant whose sample the median
    /// filter discards anyway.
    pub(crate) fn on_packet_arrival(&mut self, now: Instant, bytes: usize) {
        let Some(last) = self.last_arrival.replace(now) else {
            return;
        };
        // A driver that drains a socket in a tight loop hands over a queued
        // burst within the same microsecond; a gap of 0 would make the
        // median 0 and filter out every sample (the ACK would report a
        // receive rate of 0, and libsrt's FileCC sender then crawls at its
        // initial 16 pkt/s). libsrt's receive thread never sees 0: count
        // such a gap as 1 µs.
        self.pkt_window[self.pkt_pos] = micros_i32(now.saturating_duration_since(last)).max(1);
        self.bytes_window[self.pkt_pos] = i32::try_from(bytes).unwrap_or(i32::MAX);
        self.pkt_pos = (self.pkt_pos + 1) % PKT_WINDOW;
        self.rates = None;
    }

    /// Feeds a data packet to the probe-pair measurement, as libsrt's
    /// `probeArrival`: a packet with `seq % 16 == 0` is the first of a pair,
    /// one with `seq % 16 == 1` the second. `unordered` is true for a
    /// packet that is retransmitted or not newer than the last received one.
    pub(crate) fn on_probe_arrival(
        &mut self,
        now: Instant,
        seq: SeqNumber,
        payload_len: usize,
        unordered: bool,
    ) {
        let in16 = seq.as_u32() & 0xF;
        if in16 == 0 {
            self.on_probe1(now, seq, unordered);
        }
        if !unordered && in16 == 1 {
            self.on_probe2(now, seq, payload_len);
        }
    }

    /// The first packet of a probe pair arrived (libsrt `probe1Arrival`).
    /// An unordered repeat of the pending first probe cancels the pair.
    pub(crate) fn on_probe1(&mut self, now: Instant, seq: SeqNumber, unordered: bool) {
        if unordered && self.probe1_seq == Some(seq) {
            self.probe1_seq = None;
            return;
        }
        self.probe1_time = Some(now);
        self.probe1_seq = Some(seq);
    }

    /// The second packet of a probe pair arrived (libsrt `probe2Arrival`); it
    /// counts only if `seq` directly follows the pending first probe.
    pub(crate) fn on_probe2(&mut self, now: Instant, seq: SeqNumber, payload_len: usize) {
        let (Some(p1), Some(t1)) = (self.probe1_seq, self.probe1_time) else {
            return;
        };
        if p1.next() != seq {
            return;
        }
        self.probe1_seq = None;
        let timediff = i64::from(micros_i32(now.saturating_duration_since(t1)));
        // Scale to the time a fully packed packet would have taken.
        let sample = match i64::try_from(payload_len) {
            Ok(len) if len > 0 => timediff * i64::from(self.payload_size) / len,
            _ => timediff,
        };
        self.probe_window[self.probe_pos] = i32::try_from(sample).unwrap_or(i32::MAX);
        self.probe_pos = (self.probe_pos + 1) % PROBE_WINDOW;
        self.capacity = None;
    }

    /// Packet and byte receive rates, (packets/s, bytes/s), as libsrt's
    /// `getPktRcvSpeed(bytesps)`: (0, 0) unless more than half of the 16
    /// samples pass the median filter; bytes include 12 header bytes per packet.
    pub(crate) fn recv_rates(&mut self) -> (u32, u32) {
        if let Some(r) = self.rates {
            return r;
        }
        let r = self.compute_recv_rates();
        self.rates = Some(r);
        r
    }

    /// [`ArrivalWindow::recv_rates`] from the window.
    fn compute_recv_rates(&self) -> (u32, u32) {
        let mut scratch = [0i32; PKT_WINDOW];
        let filter = PassFilter::of(&self.pkt_window, &mut scratch);
        let mut sum: i64 = 0;
        let mut count: u64 = 0;
        let mut bytes: u64 = 0;
        for (&interval, &b) in self.pkt_window.iter().zip(self.bytes_window.iter()) {
            if filter.encloses(interval) {
                sum += i64::from(interval);
                bytes += u64::try_from(b).unwrap_or(0);
                count += 1;
            }
        }
        if count <= (PKT_WINDOW / 2) as u64 {
            return (0, 0);
        }
        bytes += u64::from(self.header_size) * count;
        let sum = sum as f64;
        let pkts = ceil_per_mega(sum, count as f64);
        let bytes = ceil_per_mega(sum, bytes as f64);
        (pkts.max(0) as u32, bytes.max(0) as u32)
    }

    /// Packet arrival speed in packets/s (ACK CIF word 4).
    #[cfg(test)]
    pub(crate) fn packet_recv_rate(&mut self) -> u32 {
        self.recv_rates().0
    }

    /// Receive rate in bytes/s, payload plus 12 header bytes per packet (ACK CIF word 6).
    #[cfg(test)]
    pub(crate) fn byte_recv_rate(&mut self) -> u32 {
        self.recv_rates().1
    }

    /// Estimated link capacity in packets/s from the probe pairs (ACK CIF
    /// word 5; libsrt `getBandwidth`): the filtered mean of the 64 samples,
    /// with the median counted once more.
    pub(crate) fn link_capacity(&mut self) -> u32 {
        if let Some(c) = self.capacity {
            return c;
        }
        let c = self.compute_link_capacity();
        self.capacity = Some(c);
        c
    }

    /// [`ArrivalWindow::link_capacity`] from the window.
    fn compute_link_capacity(&self) -> u32 {
        let mut scratch = [0i32; PROBE_WINDOW];
        let filter = PassFilter::of(&self.probe_window, &mut scratch);
        let mut sum = filter.median;
        let mut count: i64 = 1;
        for &v in &self.probe_window {
            if filter.encloses(v) {
                sum += i64::from(v);
                count += 1;
            }
        }
        ceil_per_mega(sum as f64, count as f64).max(0) as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seq(n: u32) -> SeqNumber {
        SeqNumber::new(n).unwrap()
    }

    /// Feeds `n` packets `interval_us` apart, starting at `t`; returns the last arrival time.
    fn feed(
        w: &mut ArrivalWindow,
        mut t: Instant,
        n: usize,
        interval_us: u64,
        bytes: usize,
    ) -> Instant {
        for _ in 0..n {
            t += Duration::from_micros(interval_us);
            w.on_packet_arrival(t, bytes);
        }
        t
    }

    #[test]
    fn initial_state_matches_libsrt() {
        let mut w = ArrivalWindow::new();
        // All 16 samples 1 s: median 1e6, all enclosed? No: bounds are exclusive but
        // 1e6 is strictly between 125000 and 8e6, so all 16 count: 1 pkt/s.
        assert_eq!(w.packet_recv_rate(), 1);
        // bytes: 16 × (1488 + 12) over 16 s = 1500 B/s.
        assert_eq!(w.byte_recv_rate(), 1500);
        // 64 probes of 1 ms: 1000 pkt/s.
        assert_eq!(w.link_capacity(), 1000);
    }

    #[test]
    fn steady_1000_pkts_per_second() {
        let mut w = ArrivalWindow::new();
        let t0 = Instant::now();
        w.on_packet_arrival(t0, 1316);
        feed(&mut w, t0, 16, 1000, 1316);
        assert_eq!(w.packet_recv_rate(), 1000);
        // (1316 + 12) bytes per ms.
        assert_eq!(w.byte_recv_rate(), 1_328_000);
    }

    #[test]
    fn switches_only_after_more_than_half_the_window() {
        let mut w = ArrivalWindow::new();
        let t0 = Instant::now();
        w.on_packet_arrival(t0, 1316);
        // 7 fresh samples: median (rank 8) still the initial 1 s, 9 of those enclosed.
        let t = feed(&mut w, t0, 7, 1000, 1316);
        assert_eq!(w.packet_recv_rate(), 1);
        // 8 fresh: median still 1 s, but only 8 enclosed (not more than half): 0.
        let t = feed(&mut w, t, 1, 1000, 1316);
        assert_eq!(w.packet_recv_rate(), 0);
        // The 9th moves the median to 1 ms; 9 samples enclosed.
        feed(&mut w, t, 1, 1000, 1316);
        assert_eq!(w.packet_recv_rate(), 1000);
    }

    #[test]
    fn outliers_are_filtered() {
        let mut w = ArrivalWindow::new();
        let t0 = Instant::now();
        w.on_packet_arrival(t0, 1000);
        let mut t = t0;
        // 13 samples of 1000 µs, 2 of 10 ms (> 8×), 1 of 100 µs (< 1/8).
        for i in 0..16 {
            let iv = match i {
                3 | 9 => 10_000,
                5 => 100,
                _ => 1000,
            };
            t += Duration::from_micros(iv);
            w.on_packet_arrival(t, 1000);
        }
        assert_eq!(w.packet_recv_rate(), 1000);
        assert_eq!(w.byte_recv_rate(), 1_012_000);
    }

    #[test]
    fn too_many_outliers_give_zero() {
        let mut w = ArrivalWindow::new();
        let t0 = Instant::now();
        w.on_packet_arrival(t0, 1000);
        let mut t = t0;
        // 8 × 1000 µs and 8 × 20 000 µs: median (rank 8) = 20 000, bounds (2500, 160 000):
        // 8 enclosed, not more than half -> 0.
        for i in 0..16 {
            t += Duration::from_micros(if i % 2 == 0 { 1000 } else { 20_000 });
            w.on_packet_arrival(t, 1000);
        }
        assert_eq!(w.recv_rates(), (0, 0));
    }

    #[test]
    fn median_ignores_mean_pull() {
        // Intervals 900..=1100 µs alternating: mean of the enclosed samples 1000.
        let mut w = ArrivalWindow::new();
        let t0 = Instant::now();
        w.on_packet_arrival(t0, 1316);
        let mut t = t0;
        for i in 0..16 {
            t += Duration::from_micros(if i % 2 == 0 { 900 } else { 1100 });
            w.on_packet_arrival(t, 1316);
        }
        assert_eq!(w.packet_recv_rate(), 1000);
    }

    #[test]
    fn probe_pairs_give_capacity() {
        let mut w = ArrivalWindow::new();
        let mut t = Instant::now();
        // 64 pairs, the second packet 100 µs after the first, full payload (1488):
        // capacity 10 000 pkt/s.
        for k in 0..64u32 {
            let s = seq(k * 16);
            w.on_probe_arrival(t, s, 1488, false);
            t += Duration::from_micros(100);
            w.on_probe_arrival(t, s.next(), 1488, false);
            t += Duration::from_millis(5);
        }
        assert_eq!(w.link_capacity(), 10_000);
    }

    #[test]
    fn cached_estimates_follow_new_samples() {
        let mut w = ArrivalWindow::new();
        let mut t = Instant::now();
        assert_eq!(w.link_capacity(), 1000);
        // 40 pairs 100 µs apart (the median): 10 000 pkt/s, not the cached 1000.
        for k in 0..40u32 {
            w.on_probe_arrival(t, seq(k * 16), 1488, false);
            t += Duration::from_micros(100);
            w.on_probe_arrival(t, seq(k * 16 + 1), 1488, false);
        }
        assert_eq!(w.link_capacity(), w.compute_link_capacity());
        assert_ne!(w.link_capacity(), 1000);
        assert_eq!(w.packet_recv_rate(), 1);
        w.on_packet_arrival(t, 1316);
        feed(&mut w, t, 16, 1000, 1316);
        assert_eq!(w.packet_recv_rate(), 1000);
        assert_eq!(w.recv_rates(), w.compute_recv_rates());
    }

    #[test]
    fn probe_is_scaled_to_full_payload() {
        let mut w = ArrivalWindow::new();
        let t = Instant::now();
        w.on_probe1(t, seq(32), false);
        // 1316-byte probe 2 after 100 µs: sample = 100 · 1488 / 1316 = 113 µs.
        w.on_probe2(t + Duration::from_micros(100), seq(33), 1316);
        assert_eq!(w.probe_window[0], 113);
    }

    #[test]
    fn probe2_needs_the_very_next_sequence() {
        let mut w = ArrivalWindow::new();
        let t = Instant::now();
        w.on_probe_arrival(t, seq(16), 1316, false);
        // 17 lost, 33 is "1 mod 16" but not the successor of 16.
        w.on_probe_arrival(t + Duration::from_micros(50), seq(33), 1316, false);
        assert_eq!(w.probe_pos, 0);
        // A retransmitted 17 is not taken either.
        w.on_probe_arrival(t + Duration::from_micros(60), seq(17), 1316, true);
        assert_eq!(w.probe_pos, 0);
        w.on_probe_arrival(t + Duration::from_micros(70), seq(17), 1316, false);
        assert_eq!(w.probe_pos, 1);
        // Consumed: a second 17 does nothing.
        w.on_probe_arrival(t + Duration::from_micros(80), seq(17), 1316, false);
        assert_eq!(w.probe_pos, 1);
    }

    #[test]
    fn unordered_repeat_of_probe1_cancels() {
        let mut w = ArrivalWindow::new();
        let t = Instant::now();
        w.on_probe_arrival(t, seq(48), 1316, false);
        w.on_probe_arrival(t, seq(48), 1316, true);
        w.on_probe_arrival(t + Duration::from_micros(10), seq(49), 1316, false);
        assert_eq!(w.probe_pos, 0);
    }

    #[test]
    fn probe_wraps_sequence() {
        let mut w = ArrivalWindow::new();
        let t = Instant::now();
        // 0x7FFF_FFF0 is 0 mod 16; its successor is 0x7FFF_FFF1.
        w.on_probe_arrival(t, SeqNumber::MAX - 15, 1488, false);
        w.on_probe_arrival(
            t + Duration::from_micros(10),
            SeqNumber::MAX - 14,
            1488,
            false,
        );
        assert_eq!(w.probe_pos, 1);
    }

    #[test]
    fn degenerate_inputs_do_not_panic() {
        let mut w = ArrivalWindow::with_mss(0);
        let t = Instant::now();
        for _ in 0..100 {
            w.on_packet_arrival(t, usize::MAX);
            w.on_probe_arrival(t, seq(0), 0, false);
            w.on_probe_arrival(t, seq(1), usize::MAX, false);
        }
        // All arrivals at the same instant count as 1 µs apart: a burst
        // drained at once reports the fastest rate, never 0.
        assert_eq!(w.recv_rates().0, 1_000_000);
        // Probe samples all 0: libsrt divides by zero; we saturate.
        assert_eq!(w.link_capacity(), i32::MAX as u32);
        // A huge gap saturates instead of overflowing.
        let mut w = ArrivalWindow::new();
        w.on_packet_arrival(t, 1);
        w.on_packet_arrival(t + Duration::from_secs(100_000), 1);
        let _ = w.recv_rates();
        let _ = w.link_capacity();
    }
}

#[cfg(test)]
mod burst_tests {
    use super::*;

    #[test]
    fn a_burst_drained_at_once_does_not_report_zero() {
        // 50 packets handed over within the same microsecond, then none.
        let mut w = ArrivalWindow::new();
        let t = Instant::now();
        for _ in 0..50 {
            w.on_packet_arrival(t, 1316);
        }
        let (pkts, bytes) = w.recv_rates();
        assert!(pkts > 0 && bytes > 0, "({pkts}, {bytes})");
    }
}
