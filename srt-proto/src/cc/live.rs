//! Live congestion control: packet pacing from the configured or measured bandwidth (libsrt LiveCC).
//!
//! [`LiveCc`] is libsrt's `LiveCC` (congctl.cpp) together with the parts of
//! `CUDT::updateCC` (core.cpp) that feed it: the send period is
//! `10⁶ · (AvgPayload + header) / MaxBW` µs, where header = MSS − max payload
//! (44 bytes: 28 IPv4+UDP + 16 SRT) and AvgPayload moves 1/128 toward each
//! sent packet's payload size (integer arithmetic).
//!
//! As in libsrt the period is *cached*: sending a packet only moves the
//! average; the period is recomputed when an ACK arrives ([`LiveCc::on_ack`]),
//! on a retransmission timeout ([`LiveCc::on_rexmit_timeout`]) and whenever
//! the bandwidth changes (construction, [`LiveCc::update_input_rate`],
//! [`LiveCc::reconfigure`]).
//!
//! [`InputRateEstimator`] is libsrt's `CRateEstimator` (buffer_tools.cpp),
//! the send buffer's measurement of the application's input rate, used when
//! SRTO_MAXBW = 0 and SRTO_INPUTBW = 0.

use core::time::Duration;
use std::time::Instant;

/// libsrt's `BW_INFINITE`: 1 Gbit/s in bytes/s, the bandwidth used for SRTO_MAXBW = −1.
pub(crate) const BW_INFINITE: i64 = 1_000_000_000 / 8;

/// IPv4 + UDP + SRT header bytes per packet (libsrt `CPacket::SRT_DATA_HDR_SIZE`).
const FULL_HDR_SIZE: u64 = 28 + 16;

/// libsrt LiveCC's minimum periodic NAK interval, µs.
const MIN_NAK_INTERVAL_US: i64 = 20_000;

/// The socket options LiveCC is built from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct LiveCcConfig {
    /// SRTO_MAXBW: > 0 bytes/s; 0 = from the input rate; −1 = 1 Gbit/s ([`BW_INFINITE`]).
    pub max_bw: i64,
    /// SRTO_INPUTBW: the application's input rate in bytes/s; 0 = measure it.
    pub input_bw: i64,
    /// SRTO_MININPUTBW: lower bound on the measured input rate, bytes/s.
    pub min_input_bw: i64,
    /// SRTO_OHEADBW: overhead over the input rate allowed for retransmissions, percent (default 25).
    pub overhead_pct: u32,
    /// The connection's (negotiated) MSS, bytes.
    pub mss: u32,
    /// The connection's maximum payload per packet (libsrt `maxPayloadSize()`: MSS − 44).
    pub max_payload: usize,
    /// SRTO_PAYLOADSIZE (live default 1316); 0 means `max_payload`. The starting AvgPayload.
    pub payload_size: usize,
}

impl Default for LiveCcConfig {
    fn default() -> Self {
        LiveCcConfig {
            max_bw: -1,
            input_bw: 0,
            min_input_bw: 0,
            overhead_pct: 25,
            mss: 1500,
            max_payload: 1456,
            payload_size: 1316,
        }
    }
}

/// libsrt's live congestion control: paces packets at the maximum bandwidth.
#[derive(Clone, Debug)]
pub(crate) struct LiveCc {
    cfg: LiveCcConfig,
    /// libsrt `m_llSndMaxBW`, bytes/s, always > 0.
    max_bw: i64,
    /// libsrt `m_zSndAvgPayloadSize`.
    avg_payload: u64,
    /// libsrt `m_zHeaderSize` = MSS − max payload.
    header: u64,
    /// libsrt `m_dPktSndPeriod`, µs.
    period_us: f64,
}

impl LiveCc {
    /// LiveCC for a freshly connected socket (libsrt: construction, then `updateCC(TEV_INIT)`).
    pub(crate) fn new(cfg: LiveCcConfig) -> Self {
        let avg = if cfg.payload_size == 0 {
            cfg.max_payload
        } else {
            cfg.payload_size
        };
        let mut cc = LiveCc {
            cfg,
            max_bw: BW_INFINITE,
            avg_payload: avg as u64,
            header: u64::from(cfg.mss).saturating_sub(cfg.max_payload as u64),
            period_us: 0.0,
        };
        cc.update_period();
        cc.init_bandwidth();
        cc
    }

    /// Applies bandwidth options set on a connected socket (libsrt
    /// `updateCC(TEV_INIT, ..)` after SRTO_MAXBW, SRTO_INPUTBW, SRTO_MININPUTBW
    /// or SRTO_OHEADBW is set): with `max_bw_set` (SRTO_MAXBW was set, even
    /// to the same value: libsrt's TEV_INIT_RESET), or while SRTO_MAXBW is 0,
    /// the bandwidth and the period are recomputed at once; otherwise the
    /// values are only remembered (libsrt's TEV_INIT_INPUTBW and
    /// TEV_INIT_OHEADBW change nothing while SRTO_MAXBW is set).
    /// Afterwards [`LiveCc::wants_input_rate`] tells whether the input rate
    /// estimator should run.
    pub(crate) fn reconfigure(
        &mut self,
        max_bw: i64,
        input_bw: i64,
        min_input_bw: i64,
        overhead_pct: u32,
        max_bw_set: bool,
    ) {
        self.cfg.max_bw = max_bw;
        self.cfg.input_bw = input_bw;
        self.cfg.min_input_bw = min_input_bw;
        self.cfg.overhead_pct = overhead_pct;
        if max_bw_set || max_bw == 0 {
            self.init_bandwidth();
        }
    }

    /// The TEV_INIT part of `CUDT::updateCC`.
    fn init_bandwidth(&mut self) {
        let bw = if self.cfg.max_bw != 0 {
            self.cfg.max_bw
        } else if self.cfg.input_bw != 0 {
            self.with_overhead(self.cfg.input_bw)
        } else {
            0
        };
        self.update_bandwidth(self.cfg.max_bw, bw);
    }

    /// libsrt `CUDT::withOverhead`: `bw · (100 + OHEADBW) / 100`.
    fn with_overhead(&self, bw: i64) -> i64 {
        bw.saturating_mul(100 + i64::from(self.cfg.overhead_pct)) / 100
    }

    /// libsrt `LiveCC::updateBandwidth`.
    fn update_bandwidth(&mut self, max_bw: i64, bw: i64) {
        if max_bw != 0 {
            self.set_max_bw(max_bw);
        } else if bw != 0 {
            self.set_max_bw(bw);
        }
    }

    /// libsrt `LiveCC::setMaxBW`.
    fn set_max_bw(&mut self, bw: i64) {
        self.max_bw = if bw > 0 { bw } else { BW_INFINITE };
        self.update_period();
    }

    /// libsrt `LiveCC::updatePktSndPeriod`.
    fn update_period(&mut self) {
        let pktsize = (self.avg_payload + self.header) as f64;
        // Same operation order as libsrt, for identical rounding.
        self.period_us = 1000.0 * 1000.0 * (pktsize / self.max_bw as f64);
    }

    /// Whether the engine should measure the input rate and feed it to
    /// [`LiveCc::update_input_rate`] (SRTO_MAXBW = 0 and SRTO_INPUTBW = 0).
    /// libsrt disables the send buffer's sampling otherwise.
    pub(crate) fn wants_input_rate(&self) -> bool {
        self.cfg.max_bw == 0 && self.cfg.input_bw == 0
    }

    /// A data packet (original, retransmitted or filter) with `payload_len`
    /// payload bytes was sent: AvgPayload moves 1/128 toward it (libsrt
    /// `avg_iir<128>` on `size_t`). The period changes only at the next ACK.
    pub(crate) fn on_packet_sent(&mut self, payload_len: usize) {
        let new = payload_len as u64;
        self.avg_payload = self.avg_payload.saturating_mul(127).saturating_add(new) / 128;
    }

    /// Feeds the measured input rate (bytes/s, [`InputRateEstimator::rate`]).
    /// libsrt does this on every ACK, loss report and timer check when
    /// [`LiveCc::wants_input_rate`]; otherwise this does nothing. MaxBW becomes
    /// `max(MININPUTBW, rate) · (100 + OHEADBW) / 100`; a result of 0 keeps
    /// the previous MaxBW.
    pub(crate) fn update_input_rate(&mut self, bytes_per_sec: u64) {
        if !self.wants_input_rate() {
            return;
        }
        let rate = i64::try_from(bytes_per_sec).unwrap_or(i64::MAX);
        let bw = self.with_overhead(self.cfg.min_input_bw.max(rate));
        self.update_bandwidth(0, bw);
    }

    /// A full or small ACK was received: the period is recomputed (libsrt `LiveCC::onAck`).
    pub(crate) fn on_ack(&mut self) {
        self.update_period();
    }

    /// The retransmission timer fired (libsrt `LiveCC::onRTO` on a non-INIT `TEV_CHECKTIMER`).
    pub(crate) fn on_rexmit_timeout(&mut self) {
        self.update_period();
    }

    /// The interval between two data packets, whole µs (libsrt `m_tdSendInterval`
    /// truncates `m_dPktSndPeriod`); also SRT_TRACEBSTATS `usPktSndPeriod`.
    pub(crate) fn send_period(&self) -> Duration {
        // `as` saturates and maps NaN to 0, so this is total.
        Duration::from_micros(self.period_us as u64)
    }

    /// The current maximum sending bandwidth, bytes/s (libsrt `sndBandwidth()`).
    pub(crate) fn max_bw_bytes_per_sec(&self) -> i64 {
        self.max_bw
    }

    /// The average payload size of sent packets, bytes.
    #[cfg(test)]
    pub(crate) fn avg_payload(&self) -> usize {
        usize::try_from(self.avg_payload).unwrap_or(usize::MAX)
    }

    /// The options this controller currently runs with.
    #[cfg(test)]
    pub(crate) fn config(&self) -> &LiveCcConfig {
        &self.cfg
    }

    /// The periodic NAK interval for live mode: `max(20 ms, (SRTT + 4·RTTVar) / 2)`
    /// (core.cpp `sendCtrl(UMSG_LOSSREPORT)` with `LiveCC::updateNAKInterval`).
    pub(crate) fn nak_interval(srtt_us: i32, rttvar_us: i32) -> Duration {
        let base = i64::from(srtt_us) + 4 * i64::from(rttvar_us);
        let us = (base / 2).max(MIN_NAK_INTERVAL_US);
        Duration::from_micros(us as u64)
    }
}

/// libsrt's first sampling period of the input rate, µs ("fast start").
const INPUTRATE_FAST_START_US: u64 = 500_000;
/// libsrt's sampling period after the first measurement, µs.
const INPUTRATE_RUNNING_US: u64 = 1_000_000;
/// In fast start, a measurement is taken early once more than this many packets came in.
const INPUTRATE_MAX_PACKETS: u64 = 2000;

/// The application's input rate as the send buffer measures it (libsrt `CRateEstimator`).
///
/// The first measurement covers 500 ms, or is taken early once more than
/// 2000 packets came in; later ones cover 1 s. The rate counts payload plus
/// 44 header bytes per packet. Until the first measurement it is
/// [`BW_INFINITE`], as in libsrt.
#[derive(Clone, Debug)]
pub(crate) struct InputRateEstimator {
    pkts: u64,
    bytes: u64,
    start: Option<Instant>,
    /// Sampling period, µs; 0 = sampling disabled.
    period_us: u64,
    rate: u64,
}

impl Default for InputRateEstimator {
    fn default() -> Self {
        Self::new()
    }
}

impl InputRateEstimator {
    /// An estimator in fast-start mode reporting [`BW_INFINITE`].
    pub(crate) fn new() -> Self {
        InputRateEstimator {
            pkts: 0,
            bytes: 0,
            start: None,
            period_us: INPUTRATE_FAST_START_US,
            rate: BW_INFINITE as u64,
        }
    }

    /// Restarts fast-start sampling, or stops sampling if `disable`
    /// (libsrt `resetInputRateSmpPeriod`; pass `!LiveCc::wants_input_rate()`).
    /// The current rate and the running window are kept, as in libsrt.
    pub(crate) fn reset(&mut self, disable: bool) {
        self.period_us = if disable { 0 } else { INPUTRATE_FAST_START_US };
    }

    /// The application submitted a one-packet message of `bytes` payload bytes at `now`.
    #[cfg(test)]
    pub(crate) fn on_input(&mut self, now: Instant, bytes: usize) {
        self.on_message(now, 1, bytes);
    }

    /// The application submitted a message of `bytes` payload bytes split into
    /// `packets` packets, with origin time `now` (libsrt `updateInputRate`).
    /// The very first call only starts the window (its bytes are not
    /// counted, as in libsrt); calls older than the window start are ignored.
    pub(crate) fn on_message(&mut self, now: Instant, packets: u32, bytes: usize) {
        if self.period_us == 0 {
            return;
        }
        let Some(start) = self.start else {
            self.start = Some(now);
            return;
        };
        if now < start {
            return;
        }
        self.pkts = self.pkts.saturating_add(u64::from(packets));
        self.bytes = self.bytes.saturating_add(bytes as u64);

        let early = self.period_us < INPUTRATE_RUNNING_US && self.pkts > INPUTRATE_MAX_PACKETS;
        let elapsed_us = u64::try_from(now.duration_since(start).as_micros()).unwrap_or(u64::MAX);
        if !early && elapsed_us <= self.period_us {
            return;
        }
        if elapsed_us == 0 {
            // libsrt would divide by zero here; keep accumulating instead.
            return;
        }
        let total = self
            .bytes
            .saturating_add(self.pkts.saturating_mul(FULL_HDR_SIZE));
        self.rate = u64::try_from(u128::from(total) * 1_000_000 / u128::from(elapsed_us))
            .unwrap_or(u64::MAX);
        self.pkts = 0;
        self.bytes = 0;
        self.start = Some(now);
        self.period_us = INPUTRATE_RUNNING_US;
    }

    /// The last measured input rate, bytes/s including 44 header bytes per packet.
    pub(crate) fn rate(&self) -> u64 {
        self.rate
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(max_bw: i64) -> LiveCcConfig {
        LiveCcConfig {
            max_bw,
            ..LiveCcConfig::default()
        }
    }

    #[test]
    fn period_at_one_gigabit_with_1316_byte_payloads() {
        // MAXBW = 125 000 000 B/s, AvgPayload 1316, header = 1500 − 1456 = 44:
        // 10⁶ · 1360 / 125 000 000 = 10.88 µs, truncated to 10 µs as libsrt's
        // m_tdSendInterval (microseconds_from((int64_t) 10.88)).
        let mut cc = LiveCc::new(cfg(125_000_000));
        assert_eq!(cc.max_bw_bytes_per_sec(), 125_000_000);
        assert_eq!(cc.send_period(), Duration::from_micros(10));
        for _ in 0..10_000 {
            cc.on_packet_sent(1316);
        }
        cc.on_ack();
        assert_eq!(cc.avg_payload(), 1316);
        assert_eq!(cc.send_period(), Duration::from_micros(10));
        // MAXBW −1 is the same 1 Gbit/s.
        let cc = LiveCc::new(cfg(-1));
        assert_eq!(cc.max_bw_bytes_per_sec(), BW_INFINITE);
        assert_eq!(cc.send_period(), Duration::from_micros(10));
    }

    #[test]
    fn period_at_10_mbit() {
        // 1 250 000 B/s, 1360-byte packets: 1088 µs exactly.
        let cc = LiveCc::new(cfg(1_250_000));
        assert_eq!(cc.send_period(), Duration::from_micros(1088));
        // Full 1456-byte payloads: 1500 / 1 250 000 · 10⁶ = 1200 µs.
        let cc = LiveCc::new(LiveCcConfig {
            payload_size: 0,
            ..cfg(1_250_000)
        });
        assert_eq!(cc.avg_payload(), 1456);
        assert_eq!(cc.send_period(), Duration::from_micros(1200));
    }

    #[test]
    fn avg_payload_moves_one_128th_in_integers() {
        let mut cc = LiveCc::new(cfg(1_250_000));
        // (1316 · 127 + 188) / 128 = 1307 (integer division as size_t).
        cc.on_packet_sent(188);
        assert_eq!(cc.avg_payload(), 1307);
        // The period is cached until the next ACK.
        assert_eq!(cc.send_period(), Duration::from_micros(1088));
        cc.on_ack();
        // 10⁶ · 1351 / 1 250 000 = 1080.8 -> 1080.
        assert_eq!(cc.send_period(), Duration::from_micros(1080));
        for _ in 0..5000 {
            cc.on_packet_sent(188);
        }
        // Downwards the truncating IIR reaches the target exactly.
        assert_eq!(cc.avg_payload(), 188);
        // Upwards it stalls 127 below it: ⌊(127·a + 1316)/128⌋ = a for a = 1189.
        for _ in 0..5000 {
            cc.on_packet_sent(1316);
        }
        assert_eq!(cc.avg_payload(), 1189);
    }

    #[test]
    fn input_bw_with_overhead() {
        // MAXBW 0, INPUTBW 1 000 000, OHEADBW 25 -> 1 250 000 B/s.
        let mut cc = LiveCc::new(LiveCcConfig {
            max_bw: 0,
            input_bw: 1_000_000,
            ..LiveCcConfig::default()
        });
        assert!(!cc.wants_input_rate());
        assert_eq!(cc.max_bw_bytes_per_sec(), 1_250_000);
        cc.update_input_rate(5); // ignored: INPUTBW is set
        assert_eq!(cc.max_bw_bytes_per_sec(), 1_250_000);
    }

    #[test]
    fn measured_input_rate() {
        let mut cc = LiveCc::new(LiveCcConfig {
            max_bw: 0,
            min_input_bw: 500_000,
            ..LiveCcConfig::default()
        });
        assert!(cc.wants_input_rate());
        // Nothing known yet: 1 Gbit/s.
        assert_eq!(cc.max_bw_bytes_per_sec(), BW_INFINITE);
        cc.update_input_rate(800_000);
        assert_eq!(cc.max_bw_bytes_per_sec(), 1_000_000);
        // Below MININPUTBW: the minimum with overhead.
        cc.update_input_rate(100_000);
        assert_eq!(cc.max_bw_bytes_per_sec(), 625_000);
        let mut cc = LiveCc::new(LiveCcConfig {
            max_bw: 0,
            ..LiveCcConfig::default()
        });
        cc.update_input_rate(800_000);
        // 0 keeps the previous value.
        cc.update_input_rate(0);
        assert_eq!(cc.max_bw_bytes_per_sec(), 1_000_000);
        // Reconfiguring to MAXBW −1 goes back to 1 Gbit/s and stops sampling.
        cc.reconfigure(-1, 0, 0, 25, true);
        assert!(!cc.wants_input_rate());
        assert_eq!(cc.max_bw_bytes_per_sec(), BW_INFINITE);
    }

    #[test]
    fn reconfigure_follows_libsrt_tev_init() {
        let mut cc = LiveCc::new(cfg(1_000_000));
        // SRTO_MAXBW changed: new bandwidth and period at once.
        cc.reconfigure(250_000, 0, 0, 25, true);
        assert_eq!(cc.max_bw_bytes_per_sec(), 250_000);
        assert_eq!(cc.send_period(), Duration::from_micros(5440));
        // SRTO_INPUTBW and SRTO_OHEADBW while SRTO_MAXBW is set: remembered only.
        cc.reconfigure(250_000, 800_000, 0, 50, false);
        assert_eq!(cc.max_bw_bytes_per_sec(), 250_000);
        assert_eq!(cc.config().input_bw, 800_000);
        // SRTO_MAXBW 0: SRTO_INPUTBW with SRTO_OHEADBW.
        cc.reconfigure(0, 800_000, 0, 50, true);
        assert_eq!(cc.max_bw_bytes_per_sec(), 1_200_000);
        cc.reconfigure(0, 800_000, 0, 25, false);
        assert_eq!(cc.max_bw_bytes_per_sec(), 1_000_000);
        assert!(!cc.wants_input_rate());
        // SRTO_INPUTBW 0 too: the bandwidth stays until the input rate is measured.
        cc.reconfigure(0, 0, 0, 25, false);
        assert_eq!(cc.max_bw_bytes_per_sec(), 1_000_000);
        assert!(cc.wants_input_rate());
    }

    #[test]
    fn nak_interval() {
        assert_eq!(
            LiveCc::nak_interval(100_000, 50_000),
            Duration::from_millis(150)
        );
        assert_eq!(LiveCc::nak_interval(1_000, 500), Duration::from_millis(20));
        assert_eq!(
            LiveCc::nak_interval(i32::MIN, i32::MIN),
            Duration::from_millis(20)
        );
    }

    #[test]
    fn degenerate_config_does_not_panic() {
        let mut cc = LiveCc::new(LiveCcConfig {
            max_bw: i64::MAX,
            input_bw: i64::MAX,
            min_input_bw: i64::MAX,
            overhead_pct: u32::MAX,
            mss: 0,
            max_payload: usize::MAX,
            payload_size: usize::MAX,
        });
        cc.on_packet_sent(usize::MAX);
        cc.on_ack();
        let _ = cc.send_period();
        cc.reconfigure(0, 0, i64::MIN, u32::MAX, true);
        cc.update_input_rate(u64::MAX);
        let _ = cc.send_period();
    }

    #[test]
    fn input_rate_fast_start_then_one_second_windows() {
        let t0 = Instant::now();
        let mut est = InputRateEstimator::new();
        assert_eq!(est.rate(), BW_INFINITE as u64);
        // 1 packet of 1316 bytes every ms. The first call only starts the window.
        let mut t = t0;
        est.on_input(t, 1316);
        for _ in 0..500 {
            t += Duration::from_millis(1);
            est.on_input(t, 1316);
        }
        // At 500 ms exactly: elapsed <= period, not yet.
        assert_eq!(est.rate(), BW_INFINITE as u64);
        t += Duration::from_millis(1);
        est.on_input(t, 1316);
        // 501 packets · 1360 bytes over 501 ms = 1 360 000 B/s.
        assert_eq!(est.rate(), 1_360_000);
        // Next window: 1 s; 500 packets 2 ms apart reach exactly 1000 ms, not beyond.
        for _ in 0..500 {
            t += Duration::from_millis(2);
            est.on_input(t, 1316);
        }
        assert_eq!(est.rate(), 1_360_000);
        t += Duration::from_millis(2);
        est.on_input(t, 1316);
        // 501 packets over 1002 ms.
        assert_eq!(est.rate(), 501 * 1360 * 1_000_000 / 1_002_000);
    }

    #[test]
    fn input_rate_early_update_after_2000_packets() {
        let t0 = Instant::now();
        let mut est = InputRateEstimator::new();
        est.on_input(t0, 1316);
        // 2001 packets within 100 ms -> measured before 500 ms.
        let mut t = t0;
        for i in 1..=2001u64 {
            t = t0 + Duration::from_micros(i * 50);
            est.on_input(t, 1316);
        }
        // 2001 · 1360 bytes over 100 050 µs.
        assert_eq!(est.rate(), 2001 * 1360 * 1_000_000 / 100_050);
        // Running mode now: 2001 more packets do not trigger early.
        let r = est.rate();
        for i in 1..=2001u64 {
            est.on_input(t + Duration::from_micros(i * 50), 1316);
        }
        assert_eq!(est.rate(), r);
    }

    #[test]
    fn input_rate_disabled_and_old_samples() {
        let t0 = Instant::now() + Duration::from_secs(10);
        let mut est = InputRateEstimator::new();
        est.reset(true);
        est.on_input(t0, 1316);
        est.on_input(t0 + Duration::from_secs(2), 1316);
        assert_eq!(est.rate(), BW_INFINITE as u64);
        est.reset(false);
        est.on_input(t0, 1316);
        // Older than the window start: ignored.
        est.on_input(t0 - Duration::from_secs(1), 1_000_000);
        est.on_message(t0 + Duration::from_secs(1), 10, 13_160);
        // 10 packets: 13 160 + 440 bytes over 1 s.
        assert_eq!(est.rate(), 13_600);
        // Same-instant flood: no division by zero.
        let mut est = InputRateEstimator::new();
        for _ in 0..5000 {
            est.on_input(t0, 1316);
        }
        assert_eq!(est.rate(), BW_INFINITE as u64);
    }
}
