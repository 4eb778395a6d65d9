//! The statistics of a connection: every field of libsrt's SRT_TRACEBSTATS.
//!
//! [`TraceBStats`] is libsrt 1.5's `struct CBytePerfMon` (srt.h) field for
//! field, in order. The engine's `Stats` holds the counters a connection keeps (libsrt
//! `CUDT::m_stats`, stats.h): each counted quantity has a *total* since the
//! connection started and a *trace* for the current interval, which
//! its `snapshot` with `clear` resets, as `srt_bstats(.., clear)` does.
//!
//! Byte counts follow libsrt's `CUDT::bstats` exactly:
//! - the counters hold **payload** bytes;
//! - every `byte_*` field of the snapshot, interval or total, adds
//!   44 bytes (16 SRT + 28 UDP/IPv4, `CPacket::HDR_SIZE + UDP_HDR_SIZE`,
//!   even over IPv6) per counted packet — sent, sent unique, received,
//!   received unique, retransmitted, lost, sender- and receiver-dropped;
//! - **except** `byte_rcv_undecrypt(_total)`, which is payload only;
//! - `byte_snd_buf` also adds 44 per buffered packet, `byte_rcv_buf` does not;
//! - `mbps_send_rate` / `mbps_recv_rate` are `byte_sent` / `byte_recv` (with
//!   headers) · 8 / µs since the interval started.
//!
//! Lost and dropped byte counts on the receiver are estimates the engine
//! makes as libsrt does (lost packets × the receive buffer's average payload).
//!
//! The buffer fields (`pkt/byte/ms_snd_buf`, `pkt/byte/ms_rcv_buf`) are, as
//! in libsrt, moving averages (`AvgBufSize`, sampled by the buffers'
//! owner) for `srt_bstats`, and the buffers' current `BufSize` for
//! `srt_bistats(.., instantaneous = 1)`; `byte_avail_snd_buf` follows the
//! chosen `pkt_snd_buf`.

use core::time::Duration;
use std::time::Instant;

/// Header bytes libsrt adds per packet to byte statistics: 16 (SRT) + 28 (UDP + IPv4).
pub(crate) const PKT_HDR_SIZE: u64 = 16 + 28;

/// libsrt 1.5's `SRT_TRACEBSTATS` (`struct CBytePerfMon`), field for field and in order.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct TraceBStats {
    // global measurements
    /// Time since the connection's statistics started, ms.
    pub ms_time_stamp: i64,
    /// Total number of sent data packets, including retransmissions.
    pub pkt_sent_total: i64,
    /// Total number of received data packets.
    pub pkt_recv_total: i64,
    /// Total number of packets the peer reported lost (sender side; repeated reports count again).
    pub pkt_snd_loss_total: i32,
    /// Total number of packets detected lost by sequence gaps (receiver side).
    pub pkt_rcv_loss_total: i32,
    /// Total number of retransmitted packets.
    pub pkt_retrans_total: i32,
    /// Total number of sent ACK packets.
    pub pkt_sent_ack_total: i32,
    /// Total number of received ACK packets.
    pub pkt_recv_ack_total: i32,
    /// Total number of sent NAK packets.
    pub pkt_sent_nak_total: i32,
    /// Total number of received NAK packets.
    pub pkt_recv_nak_total: i32,
    /// Total time the sender was busy sending (idle time excluded), µs.
    pub us_snd_duration_total: i64,
    /// Total number of packets the sender dropped as too late to send.
    pub pkt_snd_drop_total: i32,
    /// Total number of packets the receiver dropped as too late to play (missing).
    pub pkt_rcv_drop_total: i32,
    /// Total number of packets that could not be decrypted.
    pub pkt_rcv_undecrypt_total: i32,
    /// Total sent data bytes, including retransmissions, with 44 header bytes per packet.
    pub byte_sent_total: u64,
    /// Total received data bytes, with 44 header bytes per packet.
    pub byte_recv_total: u64,
    /// Total lost bytes (receiver estimate), with 44 header bytes per packet.
    pub byte_rcv_loss_total: u64,
    /// Total retransmitted bytes, with 44 header bytes per packet.
    pub byte_retrans_total: u64,
    /// Total bytes the sender dropped as too late to send, with 44 header bytes per packet.
    pub byte_snd_drop_total: u64,
    /// Total bytes the receiver dropped as too late to play (estimate), with 44 header bytes per packet.
    pub byte_rcv_drop_total: u64,
    /// Total undecrypted payload bytes (no header bytes).
    pub byte_rcv_undecrypt_total: u64,

    // local measurements
    /// Sent data packets in the interval, including retransmissions.
    pub pkt_sent: i64,
    /// Received data packets in the interval.
    pub pkt_recv: i64,
    /// Packets the peer reported lost in the interval (sender side).
    pub pkt_snd_loss: i32,
    /// Packets detected lost in the interval (receiver side).
    pub pkt_rcv_loss: i32,
    /// Retransmitted packets sent in the interval.
    pub pkt_retrans: i32,
    /// Retransmitted packets received in the interval.
    pub pkt_rcv_retrans: i32,
    /// ACK packets sent in the interval.
    pub pkt_sent_ack: i32,
    /// ACK packets received in the interval.
    pub pkt_recv_ack: i32,
    /// NAK packets sent in the interval.
    pub pkt_sent_nak: i32,
    /// NAK packets received in the interval.
    pub pkt_recv_nak: i32,
    /// Sending rate over the interval, Mbit/s (headers included).
    pub mbps_send_rate: f64,
    /// Receiving rate over the interval, Mbit/s (headers included).
    pub mbps_recv_rate: f64,
    /// Busy sending time in the interval, µs.
    pub us_snd_duration: i64,
    /// Largest sequence distance of a reordered packet (not reset by `clear`).
    pub pkt_reorder_distance: i32,
    /// Average lateness of belated packets, ms (IIR; not reset by `clear`).
    pub pkt_rcv_avg_belated_time: f64,
    /// Packets received in the interval and ignored as arriving too late.
    pub pkt_rcv_belated: i64,
    /// Packets the sender dropped as too late in the interval.
    pub pkt_snd_drop: i32,
    /// Packets the receiver dropped as too late in the interval.
    pub pkt_rcv_drop: i32,
    /// Undecryptable packets received in the interval.
    pub pkt_rcv_undecrypt: i32,
    /// Sent data bytes in the interval, including retransmissions, with headers.
    pub byte_sent: u64,
    /// Received data bytes in the interval, with headers.
    pub byte_recv: u64,
    /// Lost bytes in the interval (receiver estimate), with headers.
    pub byte_rcv_loss: u64,
    /// Retransmitted bytes in the interval, with headers.
    pub byte_retrans: u64,
    /// Bytes the sender dropped in the interval, with headers.
    pub byte_snd_drop: u64,
    /// Bytes the receiver dropped in the interval (estimate), with headers.
    pub byte_rcv_drop: u64,
    /// Undecrypted payload bytes in the interval (no headers).
    pub byte_rcv_undecrypt: u64,

    // instant measurements
    /// Packet sending period, µs.
    pub us_pkt_snd_period: f64,
    /// Flow window size, packets.
    pub pkt_flow_window: i32,
    /// Congestion window size, packets.
    pub pkt_congestion_window: i32,
    /// Packets in flight (sent, not yet acknowledged).
    pub pkt_flight_size: i32,
    /// Smoothed RTT, ms.
    pub ms_rtt: f64,
    /// Estimated link bandwidth, Mbit/s.
    pub mbps_bandwidth: f64,
    /// Free space in the send buffer, bytes.
    pub byte_avail_snd_buf: i32,
    /// Free space in the receive buffer, bytes.
    pub byte_avail_rcv_buf: i32,
    /// Transmit bandwidth ceiling, Mbit/s.
    pub mbps_max_bw: f64,
    /// Maximum segment size, bytes.
    pub byte_mss: i32,
    /// Unacknowledged packets in the send buffer.
    pub pkt_snd_buf: i32,
    /// Unacknowledged bytes in the send buffer, with headers.
    pub byte_snd_buf: i32,
    /// Timespan of the unacknowledged data in the send buffer, ms.
    pub ms_snd_buf: i32,
    /// The peer's TSBPD latency (sender side), ms; 0 without TSBPD.
    pub ms_snd_tsb_pd_delay: i32,
    /// Undelivered packets in the receive buffer.
    pub pkt_rcv_buf: i32,
    /// Undelivered bytes in the receive buffer (payload).
    pub byte_rcv_buf: i32,
    /// Timespan of the undelivered data in the receive buffer, ms.
    pub ms_rcv_buf: i32,
    /// The receiver's TSBPD latency, ms; 0 without TSBPD.
    pub ms_rcv_tsb_pd_delay: i32,
    /// Total control packets the packet filter supplied for sending.
    pub pkt_snd_filter_extra_total: i32,
    /// Total filter control packets received and not supplied back.
    pub pkt_rcv_filter_extra_total: i32,
    /// Total packets the filter rebuilt (e.g. FEC).
    pub pkt_rcv_filter_supply_total: i32,
    /// Total packet losses the filter could not cover.
    pub pkt_rcv_filter_loss_total: i32,
    /// Filter control packets sent in the interval.
    pub pkt_snd_filter_extra: i32,
    /// Filter control packets received in the interval.
    pub pkt_rcv_filter_extra: i32,
    /// Packets the filter rebuilt in the interval.
    pub pkt_rcv_filter_supply: i32,
    /// Losses the filter could not cover in the interval.
    pub pkt_rcv_filter_loss: i32,
    /// Packet reorder tolerance.
    pub pkt_reorder_tolerance: i32,

    // New stats in 1.5.0
    /// Total data packets sent by the application (originals only).
    pub pkt_sent_unique_total: i64,
    /// Total data packets received and stored for the application.
    pub pkt_recv_unique_total: i64,
    /// Total bytes of original data packets sent, with headers.
    pub byte_sent_unique_total: u64,
    /// Total bytes of data packets stored for the application, with headers.
    pub byte_recv_unique_total: u64,
    /// Original data packets sent in the interval.
    pub pkt_sent_unique: i64,
    /// Data packets stored for the application in the interval.
    pub pkt_recv_unique: i64,
    /// Bytes of original data packets sent in the interval, with headers.
    pub byte_sent_unique: u64,
    /// Bytes of data packets stored for the application in the interval, with headers.
    pub byte_recv_unique: u64,
}

/// A packet count with its payload bytes (libsrt `stats::BytesPackets`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct BytesPackets {
    bytes: u64,
    pkts: u64,
}

impl BytesPackets {
    fn count(&mut self, pkts: u64, bytes: u64) {
        self.pkts = self.pkts.wrapping_add(pkts);
        self.bytes = self.bytes.wrapping_add(bytes);
    }

    /// libsrt `bytesWithHdr(44)`.
    fn bytes_with_hdr(&self) -> u64 {
        self.bytes
            .wrapping_add(self.pkts.wrapping_mul(PKT_HDR_SIZE))
    }
}

/// A quantity counted for the current interval (`trace`) and since the start (`total`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Metric {
    trace: BytesPackets,
    total: BytesPackets,
}

impl Metric {
    fn count(&mut self, pkts: u64, bytes: u64) {
        self.trace.count(pkts, bytes);
        self.total.count(pkts, bytes);
    }

    fn pkts(&mut self, pkts: u64) {
        self.count(pkts, 0);
    }
}

/// C `(int)` of a 64-bit count: the low 32 bits, as libsrt's `uint32_t` counters end up.
fn int(v: u64) -> i32 {
    v as u32 as i32
}

/// A `u64` count as `int64_t`.
fn i64_of(v: u64) -> i64 {
    v as i64
}

/// `count_microseconds` / `count_milliseconds` of a non-negative duration, as `i64`.
fn micros(d: Duration) -> i64 {
    i64::try_from(d.as_micros()).unwrap_or(i64::MAX)
}

/// How full a buffer is, as `srt_bstats` reports it: packets, payload bytes
/// and the timespan of its content in ms (libsrt's `getCurrBufSize` /
/// `getRcvDataSize` triple).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct BufSize {
    /// Packets held.
    pub pkts: i32,
    /// Payload bytes held.
    pub bytes: i32,
    /// Timespan of the content, ms (0 if empty).
    pub ms: i32,
}

/// How often [`AvgBufSize`] takes a sample: 1000 ms / `SRT_MAVG_SAMPLING_RATE` (40).
pub(crate) const AVG_SAMPLING_PERIOD_MS: u128 = 1000 / 40;

/// The moving average of a buffer's [`BufSize`] (libsrt's `AvgBufSize`, buffer.cpp).
///
/// A sample is taken at most every [`AVG_SAMPLING_PERIOD_MS`]; it weighs
/// the new value by the whole milliseconds elapsed since the previous
/// sample, out of 1000 (`avg_iir_w<1000>`). The first sample, and one
/// more than a second after the previous (or with time going back), sets
/// the average to the current value.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct AvgBufSize {
    last_sample: Option<Instant>,
    /// `last_sample` + the sampling period: the due check per packet
    /// compares instants, no duration arithmetic.
    next_sample: Option<Instant>,
    pkts: f64,
    bytes: f64,
    ms: f64,
}

impl AvgBufSize {
    /// Milliseconds since the last sample; `None` if there was none or `now` is before it.
    fn elapsed_ms(&self, now: Instant) -> Option<u128> {
        self.last_sample
            .and_then(|t| now.checked_duration_since(t))
            .map(|d| d.as_millis())
    }

    /// Whether a sample is due at `now` (libsrt's `isTimeToUpdate`).
    pub(crate) fn is_time_to_update(&self, now: Instant) -> bool {
        // Whole elapsed ms ≥ the period ⟺ elapsed ≥ the period; a clock
        // before the last sample also samples.
        match (self.last_sample, self.next_sample) {
            (Some(last), Some(next)) => now < last || now >= next,
            _ => self
                .elapsed_ms(now)
                .is_none_or(|ms| ms >= AVG_SAMPLING_PERIOD_MS),
        }
    }

    /// Takes the sample `current` at `now`, due or not (libsrt's `update`).
    pub(crate) fn update(&mut self, now: Instant, current: BufSize) {
        let elapsed = self.elapsed_ms(now).filter(|&ms| ms <= 1000);
        self.last_sample = Some(now);
        self.next_sample = now.checked_add(std::time::Duration::from_millis(
            AVG_SAMPLING_PERIOD_MS as u64,
        ));
        let Some(w) = elapsed else {
            self.pkts = f64::from(current.pkts);
            self.bytes = f64::from(current.bytes);
            self.ms = f64::from(current.ms);
            return;
        };
        let w = w as f64;
        let iir = |old: f64, new: i32| (old * (1000.0 - w) + f64::from(new) * w) / 1000.0;
        self.pkts = iir(self.pkts, current.pkts);
        self.bytes = iir(self.bytes, current.bytes);
        self.ms = iir(self.ms, current.ms);
    }

    /// The averages, each rounded half away from zero (libsrt's `round_val`).
    pub(crate) fn get(&self) -> BufSize {
        BufSize {
            pkts: self.pkts.round() as i32,
            bytes: self.bytes.round() as i32,
            ms: self.ms.round() as i32,
        }
    }
}

/// The gauges the engine knows at snapshot time (the non-counter half of `CUDT::bstats`).
///
/// Buffer figures are current or averaged values as the caller chooses
/// (libsrt's `instantaneous` flag); pass zeros for a buffer that does not exist.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Instantaneous {
    /// The current inter-packet send interval (`LiveCc::send_period`).
    pub send_period: Duration,
    /// The flow window, packets (the peer's free receive buffer).
    pub flow_window: i32,
    /// The congestion window, packets.
    pub congestion_window: i32,
    /// Packets in flight (libsrt `getFlightSpan`).
    pub flight_size: i32,
    /// Smoothed RTT, µs.
    pub srtt_us: i32,
    /// Link bandwidth estimate, packets/s: the sender's smoothed ACK word 5, or the
    /// receiver's own `ArrivalWindow::link_capacity` while that is still 1 (libsrt's rule).
    pub bandwidth_pkts_per_sec: i64,
    /// The transmit bandwidth ceiling, bytes/s: SRTO_MAXBW if > 0, else `LiveCc::max_bw_bytes_per_sec`.
    pub max_bw_bytes_per_sec: i64,
    /// The negotiated MSS, bytes.
    pub mss: i32,
    /// The send buffer's capacity, packets (SRTO_SNDBUF in packets); 0 if there is no send buffer.
    pub snd_buf_capacity_pkts: i32,
    /// Packets in the send buffer.
    pub snd_buf_pkts: i32,
    /// Payload bytes in the send buffer (44 per packet are added in the snapshot).
    pub snd_buf_bytes: i32,
    /// Timespan of the send buffer's content, ms.
    pub snd_buf_ms: i32,
    /// Free space in the receive buffer, packets.
    pub rcv_buf_avail_pkts: i32,
    /// Packets in the receive buffer ready or waiting for delivery.
    pub rcv_buf_pkts: i32,
    /// Payload bytes in the receive buffer.
    pub rcv_buf_bytes: i32,
    /// Timespan of the receive buffer's content, ms.
    pub rcv_buf_ms: i32,
    /// The peer's TSBPD latency, ms (0 if the peer does not use TSBPD).
    pub snd_tsbpd_delay_ms: i32,
    /// This side's TSBPD latency, ms (0 if TSBPD is off).
    pub rcv_tsbpd_delay_ms: i32,
    /// The current packet reorder tolerance.
    pub reorder_tolerance: i32,
}

/// Control packets from the peer that the engine checked against the
/// connection's state, found impossible and ignored (the connection goes
/// on). libsrt has no such counters: it breaks the connection on some of
/// these (a NAK or ACK beyond what was sent) and acts on others. Totals
/// since the connection started; not part of `SRT_TRACEBSTATS`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RejectedControl {
    /// NAKs (LOSSREPORT) with a range that reaches past the last sequence
    /// number sent (libsrt's "out-of-band LOSSREPORT"); the whole NAK is
    /// ignored.
    pub nak: u64,
    /// ACKs acknowledging past the last sequence number sent.
    pub ack: u64,
    /// DROPREQs whose range is reversed, longer than the receive buffer,
    /// ends more than a buffer's length before the first packet not yet
    /// delivered, or reaches a buffer's length or more past it. (A stale
    /// one, entirely before that packet but within a buffer's length, is
    /// ignored without counting: honest senders send those.)
    pub dropreq: u64,
    /// ACKACKs of no ACK this side sent, or of one already acknowledged
    /// (a repeat): no RTT sample is taken from them.
    pub ackack: u64,
    /// In-band KMREQ/KMRSP (SRT EXT) messages that did not decode (a length
    /// that does not match their key material, a bad header), and KMREQs
    /// whose key length differs from the one agreed.
    pub km: u64,
}

/// The counters of one connection (libsrt `CUDT::m_stats`).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Stats {
    start: Instant,
    last_sample: Instant,

    // sender
    sent: Metric,
    sent_unique: Metric,
    sent_retrans: Metric,
    snd_lost: Metric,
    snd_dropped: Metric,
    sent_filter_extra: Metric,
    recvd_ack: Metric,
    recvd_nak: Metric,

    // receiver
    recvd: Metric,
    recvd_unique: Metric,
    recvd_retrans: Metric,
    rcv_lost: Metric,
    rcv_dropped: Metric,
    recvd_belated: Metric,
    undecrypted: Metric,
    recvd_filter_extra: Metric,
    supplied_by_filter: Metric,
    loss_filter: Metric,
    sent_ack: Metric,
    sent_nak: Metric,

    snd_duration_us: i64,
    snd_duration_total_us: i64,
    snd_duration_mark: Option<Instant>,
    reorder_distance: i32,
    belated_time_ms: f64,
    rejected: RejectedControl,
}

impl Stats {
    /// Counters at zero, the statistics clock and the first interval starting at `start`
    /// (libsrt: `tsStartTime` and `tsLastSampleTime`, set when the socket opens).
    pub(crate) fn new(start: Instant) -> Self {
        Stats {
            start,
            last_sample: start,
            sent: Metric::default(),
            sent_unique: Metric::default(),
            sent_retrans: Metric::default(),
            snd_lost: Metric::default(),
            snd_dropped: Metric::default(),
            sent_filter_extra: Metric::default(),
            recvd_ack: Metric::default(),
            recvd_nak: Metric::default(),
            recvd: Metric::default(),
            recvd_unique: Metric::default(),
            recvd_retrans: Metric::default(),
            rcv_lost: Metric::default(),
            rcv_dropped: Metric::default(),
            recvd_belated: Metric::default(),
            undecrypted: Metric::default(),
            recvd_filter_extra: Metric::default(),
            supplied_by_filter: Metric::default(),
            loss_filter: Metric::default(),
            sent_ack: Metric::default(),
            sent_nak: Metric::default(),
            snd_duration_us: 0,
            snd_duration_total_us: 0,
            snd_duration_mark: None,
            reorder_distance: 0,
            belated_time_ms: 0.0,
            rejected: RejectedControl::default(),
        }
    }

    // ---- sender ----

    /// A data packet with `bytes` of payload was sent. `retransmitted`: it was a
    /// retransmission; `unique`: it was a new packet from the send buffer (not a
    /// retransmission, not a packet-filter packet).
    pub(crate) fn on_data_sent(&mut self, bytes: usize, retransmitted: bool, unique: bool) {
        let b = bytes as u64;
        self.sent.count(1, b);
        if retransmitted {
            self.sent_retrans.count(1, b);
        }
        if unique {
            self.sent_unique.count(1, b);
        }
    }

    /// The packet filter sent one of its own packets (a FEC packet; also
    /// counted by [`on_data_sent`](Self::on_data_sent), not as unique).
    pub(crate) fn on_filter_extra_sent(&mut self) {
        self.sent_filter_extra.pkts(1);
    }

    /// `packets` sequence numbers were added to the sender's loss list: by a
    /// received NAK, or all unacknowledged ones on a retransmission timeout.
    pub(crate) fn on_send_loss(&mut self, packets: u32) {
        self.snd_lost.pkts(u64::from(packets));
    }

    /// The sender dropped `packets` too-late packets holding `bytes` of payload.
    /// Packets the sender dropped as too late, in total (a backup group
    /// counts new drops as instability).
    pub(crate) fn snd_dropped_total(&self) -> u64 {
        self.snd_dropped.total.pkts
    }

    pub(crate) fn on_snd_drop(&mut self, packets: u32, bytes: u64) {
        self.snd_dropped.count(u64::from(packets), bytes);
    }

    /// A full or small ACK was received (light ACKs are not counted, as in libsrt).
    pub(crate) fn on_ack_received(&mut self) {
        self.recvd_ack.pkts(1);
    }

    /// A NAK (loss report) was received.
    pub(crate) fn on_nak_received(&mut self) {
        self.recvd_nak.pkts(1);
    }

    /// The application queued data while the send buffer was empty: busy sending time starts.
    pub(crate) fn on_sending_started(&mut self, now: Instant) {
        self.snd_duration_mark = Some(now);
    }

    /// An ACK advanced the sender's acknowledged sequence: the time since the
    /// last mark counts as busy sending time (libsrt `updateSndLossListOnACK`).
    pub(crate) fn on_send_acked(&mut self, now: Instant) {
        if let Some(mark) = self.snd_duration_mark {
            let d = micros(now.saturating_duration_since(mark));
            self.snd_duration_us = self.snd_duration_us.saturating_add(d);
            self.snd_duration_total_us = self.snd_duration_total_us.saturating_add(d);
        }
        self.snd_duration_mark = Some(now);
    }

    // ---- receiver ----

    /// A data packet with `bytes` of payload arrived (any data packet,
    /// duplicates and belated ones included); `retransmitted`: its REXMIT flag is set.
    pub(crate) fn on_data_received(&mut self, bytes: usize, retransmitted: bool) {
        let b = bytes as u64;
        self.recvd.count(1, b);
        if retransmitted {
            self.recvd_retrans.count(1, b);
        }
    }

    /// A packet filter's packet arrived and was not delivered (`pktRcvFilterExtra`).
    pub(crate) fn on_filter_extra_received(&mut self, packets: u64) {
        self.recvd_filter_extra.pkts(packets);
    }

    /// The packet filter rebuilt `packets` lost packets (`pktRcvFilterSupply`).
    pub(crate) fn on_filter_supplied(&mut self, packets: u64) {
        self.supplied_by_filter.pkts(packets);
    }

    /// The packet filter gave up on `packets` losses (`pktRcvFilterLoss`).
    pub(crate) fn on_filter_loss(&mut self, packets: u64) {
        self.loss_filter.pkts(packets);
    }

    /// A received data packet with `bytes` of payload was stored in the receive
    /// buffer for the application (libsrt `recvdUnique`).
    pub(crate) fn on_data_unique(&mut self, bytes: usize) {
        self.recvd_unique.count(1, bytes as u64);
    }

    /// A data packet with `bytes` of payload came too late (behind the ACK point
    /// or the buffer start) and was ignored; `lateness` is how long after its
    /// play time it arrived. Feeds `pkt_rcv_avg_belated_time` (an IIR with
    /// factor 0.2 over whole-ms truncated values, as libsrt's `CountIIR`).
    pub(crate) fn on_belated(&mut self, bytes: usize, lateness: Duration) {
        // libsrt: base = uint64(avg_ms) * 1000; new = base + (lateness − base) · 0.2.
        // libsrt computes the difference in uint64 and wraps when the new value is
        // smaller than the average (a garbage result); we use signed arithmetic.
        let base = self.belated_time_ms.max(0.0) as u64 as f64 * 1000.0;
        let new = micros(lateness) as f64;
        let us = if base == 0.0 {
            new
        } else {
            base + ((new - base) * 0.2).trunc()
        };
        self.belated_time_ms = us / 1000.0;
        self.recvd_belated.count(1, bytes as u64);
    }

    /// A sequence gap of `packets` was detected on arrival; `bytes` is the
    /// estimate of their payload (libsrt: packets × the receive buffer's average payload).
    pub(crate) fn on_loss_detected(&mut self, packets: u32, bytes: u64) {
        self.rcv_lost.count(u64::from(packets), bytes);
    }

    /// The receiver dropped `packets` (too late to play, or undecryptable) with
    /// an estimated `bytes` of payload.
    pub(crate) fn on_rcv_drop(&mut self, packets: u32, bytes: u64) {
        self.rcv_dropped.count(u64::from(packets), bytes);
    }

    /// A data packet with `bytes` of payload could not be decrypted (or came
    /// unencrypted on a secured connection). Its drop is counted separately.
    pub(crate) fn on_undecrypted(&mut self, bytes: usize) {
        self.undecrypted.count(1, bytes as u64);
    }

    /// A full or small ACK was sent (light ACKs are not counted, as in libsrt).
    pub(crate) fn on_ack_sent(&mut self) {
        self.sent_ack.pkts(1);
    }

    /// A NAK (loss report) was sent.
    pub(crate) fn on_nak_sent(&mut self) {
        self.sent_nak.pkts(1);
    }

    /// An original packet arrived out of order, `distance` sequence numbers
    /// from the latest one: raises `pkt_reorder_distance` to at least that.
    pub(crate) fn on_reordered(&mut self, distance: i32) {
        self.reorder_distance = self.reorder_distance.max(distance);
    }

    /// The reorder tolerance was lowered by one; `pkt_reorder_distance` follows
    /// (libsrt decrements both together).
    pub(crate) fn on_reorder_tolerance_decreased(&mut self) {
        self.reorder_distance = self.reorder_distance.saturating_sub(1);
    }

    // ---- control packets rejected ----

    /// The control packets rejected so far (see [`RejectedControl`]).
    pub(crate) fn rejected(&self) -> RejectedControl {
        self.rejected
    }

    /// The counters of rejected control packets, to count one.
    pub(crate) fn rejected_mut(&mut self) -> &mut RejectedControl {
        &mut self.rejected
    }

    // ---- queries the engine needs ----

    // ---- snapshot ----

    /// The `SRT_TRACEBSTATS` at `now` (libsrt `CUDT::bstats`). With `clear`,
    /// the interval counters, the interval's busy sending time and the
    /// interval start are reset afterwards; totals,
    /// `pkt_reorder_distance` and `pkt_rcv_avg_belated_time` are not.
    pub(crate) fn snapshot(
        &mut self,
        now: Instant,
        clear: bool,
        instant: Instantaneous,
    ) -> TraceBStats {
        let mut p = TraceBStats {
            ms_time_stamp: i64::try_from(now.saturating_duration_since(self.start).as_millis())
                .unwrap_or(i64::MAX),
            ..TraceBStats::default()
        };

        p.pkt_sent = i64_of(self.sent.trace.pkts);
        p.pkt_sent_unique = i64_of(self.sent_unique.trace.pkts);
        p.pkt_recv = i64_of(self.recvd.trace.pkts);
        p.pkt_recv_unique = i64_of(self.recvd_unique.trace.pkts);
        p.pkt_snd_loss = int(self.snd_lost.trace.pkts);
        p.pkt_rcv_loss = int(self.rcv_lost.trace.pkts);
        p.pkt_retrans = int(self.sent_retrans.trace.pkts);
        p.pkt_rcv_retrans = int(self.recvd_retrans.trace.pkts);
        p.pkt_sent_ack = int(self.sent_ack.trace.pkts);
        p.pkt_recv_ack = int(self.recvd_ack.trace.pkts);
        p.pkt_sent_nak = int(self.sent_nak.trace.pkts);
        p.pkt_recv_nak = int(self.recvd_nak.trace.pkts);
        p.us_snd_duration = self.snd_duration_us;
        p.pkt_reorder_distance = self.reorder_distance;
        p.pkt_reorder_tolerance = instant.reorder_tolerance;
        p.pkt_rcv_avg_belated_time = self.belated_time_ms;
        p.pkt_rcv_belated = i64_of(self.recvd_belated.trace.pkts);

        p.pkt_snd_filter_extra = int(self.sent_filter_extra.trace.pkts);
        p.pkt_rcv_filter_extra = int(self.recvd_filter_extra.trace.pkts);
        p.pkt_rcv_filter_supply = int(self.supplied_by_filter.trace.pkts);
        p.pkt_rcv_filter_loss = int(self.loss_filter.trace.pkts);

        p.byte_sent = self.sent.trace.bytes_with_hdr();
        p.byte_sent_unique = self.sent_unique.trace.bytes_with_hdr();
        p.byte_recv = self.recvd.trace.bytes_with_hdr();
        p.byte_recv_unique = self.recvd_unique.trace.bytes_with_hdr();
        p.byte_retrans = self.sent_retrans.trace.bytes_with_hdr();
        p.byte_rcv_loss = self.rcv_lost.trace.bytes_with_hdr();

        p.pkt_snd_drop = int(self.snd_dropped.trace.pkts);
        p.pkt_rcv_drop = int(self.rcv_dropped.trace.pkts);
        p.byte_snd_drop = self.snd_dropped.trace.bytes_with_hdr();
        p.byte_rcv_drop = self.rcv_dropped.trace.bytes_with_hdr();
        p.pkt_rcv_undecrypt = int(self.undecrypted.trace.pkts);
        p.byte_rcv_undecrypt = self.undecrypted.trace.bytes;

        p.pkt_sent_total = i64_of(self.sent.total.pkts);
        p.pkt_sent_unique_total = i64_of(self.sent_unique.total.pkts);
        p.pkt_recv_total = i64_of(self.recvd.total.pkts);
        p.pkt_recv_unique_total = i64_of(self.recvd_unique.total.pkts);
        p.pkt_snd_loss_total = int(self.snd_lost.total.pkts);
        p.pkt_rcv_loss_total = int(self.rcv_lost.total.pkts);
        p.pkt_retrans_total = int(self.sent_retrans.total.pkts);
        p.pkt_sent_ack_total = int(self.sent_ack.total.pkts);
        p.pkt_recv_ack_total = int(self.recvd_ack.total.pkts);
        p.pkt_sent_nak_total = int(self.sent_nak.total.pkts);
        p.pkt_recv_nak_total = int(self.recvd_nak.total.pkts);
        p.us_snd_duration_total = self.snd_duration_total_us;

        p.byte_sent_total = self.sent.total.bytes_with_hdr();
        p.byte_sent_unique_total = self.sent_unique.total.bytes_with_hdr();
        p.byte_recv_total = self.recvd.total.bytes_with_hdr();
        p.byte_recv_unique_total = self.recvd_unique.total.bytes_with_hdr();
        p.byte_retrans_total = self.sent_retrans.total.bytes_with_hdr();
        p.pkt_snd_filter_extra_total = int(self.sent_filter_extra.total.pkts);
        p.pkt_rcv_filter_extra_total = int(self.recvd_filter_extra.total.pkts);
        p.pkt_rcv_filter_supply_total = int(self.supplied_by_filter.total.pkts);
        p.pkt_rcv_filter_loss_total = int(self.loss_filter.total.pkts);

        p.byte_rcv_loss_total = self.rcv_lost.total.bytes_with_hdr();
        p.pkt_snd_drop_total = int(self.snd_dropped.total.pkts);
        p.pkt_rcv_drop_total = int(self.rcv_dropped.total.pkts);
        p.byte_snd_drop_total = self.snd_dropped.total.bytes_with_hdr();
        p.byte_rcv_drop_total = self.rcv_dropped.total.bytes_with_hdr();
        p.pkt_rcv_undecrypt_total = int(self.undecrypted.total.pkts);
        p.byte_rcv_undecrypt_total = self.undecrypted.total.bytes;

        // Rates over the interval: bytes (with headers) · 8 / µs = Mbit/s.
        // libsrt divides by zero for an empty interval; we report 0.
        let interval = micros(now.saturating_duration_since(self.last_sample)) as f64;
        if interval > 0.0 {
            p.mbps_send_rate = p.byte_sent as f64 * 8.0 / interval;
            p.mbps_recv_rate = p.byte_recv as f64 * 8.0 / interval;
        }
        p.us_pkt_snd_period = micros(instant.send_period) as f64;
        p.pkt_flow_window = instant.flow_window;
        p.pkt_congestion_window = instant.congestion_window;
        p.pkt_flight_size = instant.flight_size;
        p.ms_rtt = f64::from(instant.srtt_us) / 1000.0;
        p.ms_snd_tsb_pd_delay = instant.snd_tsbpd_delay_ms;
        p.ms_rcv_tsb_pd_delay = instant.rcv_tsbpd_delay_ms;
        p.byte_mss = instant.mss;
        p.mbps_max_bw = bps_to_mbps(instant.max_bw_bytes_per_sec);
        // libsrt: availbw · (max payload + 44) = availbw · MSS bytes/s.
        p.mbps_bandwidth = bps_to_mbps(
            instant
                .bandwidth_pkts_per_sec
                .saturating_mul(i64::from(instant.mss)),
        );

        p.pkt_snd_buf = instant.snd_buf_pkts;
        p.ms_snd_buf = instant.snd_buf_ms;
        p.byte_snd_buf = instant
            .snd_buf_bytes
            .wrapping_add(instant.snd_buf_pkts.wrapping_mul(PKT_HDR_SIZE as i32));
        p.byte_avail_snd_buf = if instant.snd_buf_capacity_pkts > 0 {
            (instant
                .snd_buf_capacity_pkts
                .wrapping_sub(instant.snd_buf_pkts))
            .wrapping_mul(instant.mss)
        } else {
            0
        };
        p.byte_avail_rcv_buf = instant.rcv_buf_avail_pkts.wrapping_mul(instant.mss);
        p.pkt_rcv_buf = instant.rcv_buf_pkts;
        p.byte_rcv_buf = instant.rcv_buf_bytes;
        p.ms_rcv_buf = instant.rcv_buf_ms;

        if clear {
            self.reset_interval(now);
        }
        p
    }

    /// Starts a new interval at `now` without taking a snapshot.
    pub(crate) fn reset_interval(&mut self, now: Instant) {
        for m in [
            &mut self.sent,
            &mut self.sent_unique,
            &mut self.sent_retrans,
            &mut self.snd_lost,
            &mut self.snd_dropped,
            &mut self.sent_filter_extra,
            &mut self.recvd_ack,
            &mut self.recvd_nak,
            &mut self.recvd,
            &mut self.recvd_unique,
            &mut self.recvd_retrans,
            &mut self.rcv_lost,
            &mut self.rcv_dropped,
            &mut self.recvd_belated,
            &mut self.undecrypted,
            &mut self.recvd_filter_extra,
            &mut self.supplied_by_filter,
            &mut self.loss_filter,
            &mut self.sent_ack,
            &mut self.sent_nak,
        ] {
            m.trace = BytesPackets::default();
        }
        self.snd_duration_us = 0;
        self.last_sample = now;
    }
}

/// libsrt `CUDT::Bps2Mbps`: bytes/s · 8 / 10⁶.
fn bps_to_mbps(bytes_per_sec: i64) -> f64 {
    bytes_per_sec as f64 * 8.0 / 1_000_000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(t0: Instant, ms: u64) -> Instant {
        t0 + Duration::from_millis(ms)
    }

    #[test]
    fn field_count_matches_libsrt() {
        // CBytePerfMon in libsrt 1.5: 11 + 10 totals, 16 + 10 interval,
        // 8 + 2 + 4 + 4 + 8 + 1 instant/buffer/filter, 8 unique = 82 fields.
        // Count them through the Debug output (one "name: value" per field).
        let s = format!("{:?}", TraceBStats::default());
        assert_eq!(s.matches(": ").count(), 82);
    }

    #[test]
    fn byte_counts_add_44_header_bytes_per_packet() {
        let t0 = Instant::now();
        let mut st = Stats::new(t0);
        for _ in 0..10 {
            st.on_data_sent(1316, false, true);
        }
        st.on_data_sent(1316, true, false);
        st.on_data_received(1000, false);
        st.on_data_unique(1000);
        st.on_undecrypted(500);
        st.on_snd_drop(2, 2632);
        st.on_rcv_drop(3, 3000);
        st.on_loss_detected(4, 4000);
        let s = st.snapshot(at(t0, 1000), false, Instantaneous::default());
        assert_eq!(s.pkt_sent, 11);
        assert_eq!(s.pkt_sent_total, 11);
        assert_eq!(s.pkt_sent_unique, 10);
        assert_eq!(s.pkt_retrans, 1);
        assert_eq!(s.byte_sent, 11 * 1360);
        assert_eq!(s.byte_sent_total, 11 * 1360);
        assert_eq!(s.byte_sent_unique_total, 10 * 1360);
        assert_eq!(s.byte_retrans_total, 1360);
        assert_eq!(s.byte_recv, 1044);
        assert_eq!(s.byte_recv_unique, 1044);
        assert_eq!(s.byte_snd_drop_total, 2632 + 88);
        assert_eq!(s.byte_rcv_drop, 3000 + 132);
        assert_eq!(s.byte_rcv_loss_total, 4000 + 176);
        assert_eq!(s.pkt_rcv_loss, 4);
        // Undecrypted: payload only.
        assert_eq!(s.byte_rcv_undecrypt, 500);
        assert_eq!(s.byte_rcv_undecrypt_total, 500);
        assert_eq!(s.pkt_rcv_undecrypt_total, 1);
    }

    #[test]
    fn rates_and_timestamp() {
        let t0 = Instant::now();
        let mut st = Stats::new(t0);
        // 1000 packets of 1316 bytes in 1 s: 1000 · 1360 · 8 / 10⁶ µs = 10.88 Mbit/s.
        for _ in 0..1000 {
            st.on_data_sent(1316, false, true);
            st.on_data_received(1316, false);
        }
        let s = st.snapshot(at(t0, 1000), true, Instantaneous::default());
        assert_eq!(s.ms_time_stamp, 1000);
        assert!((s.mbps_send_rate - 10.88).abs() < 1e-9);
        assert!((s.mbps_recv_rate - 10.88).abs() < 1e-9);
        // Next interval: 250 packets in 500 ms -> 5.44 Mbit/s; totals keep growing.
        for _ in 0..250 {
            st.on_data_sent(1316, false, true);
        }
        let s = st.snapshot(at(t0, 1500), true, Instantaneous::default());
        assert_eq!(s.ms_time_stamp, 1500);
        assert_eq!(s.pkt_sent, 250);
        assert_eq!(s.pkt_sent_total, 1250);
        assert_eq!(s.pkt_recv, 0);
        assert_eq!(s.pkt_recv_total, 1000);
        assert!((s.mbps_send_rate - 5.44).abs() < 1e-9);
        assert_eq!(s.mbps_recv_rate, 0.0);
    }

    #[test]
    fn without_clear_the_interval_keeps_running() {
        let t0 = Instant::now();
        let mut st = Stats::new(t0);
        for _ in 0..100 {
            st.on_data_sent(956, false, true);
        }
        let a = st.snapshot(at(t0, 100), false, Instantaneous::default());
        let b = st.snapshot(at(t0, 200), false, Instantaneous::default());
        assert_eq!(a.pkt_sent, 100);
        assert_eq!(b.pkt_sent, 100);
        // Same bytes over twice the time: half the rate (100 · 1000 · 8 / 200 000 = 4).
        assert!((a.mbps_send_rate - 8.0).abs() < 1e-9);
        assert!((b.mbps_send_rate - 4.0).abs() < 1e-9);
        // Snapshot at the interval start: libsrt divides by zero, we report 0.
        let mut st = Stats::new(t0);
        st.on_data_sent(1, false, true);
        assert_eq!(
            st.snapshot(t0, true, Instantaneous::default())
                .mbps_send_rate,
            0.0
        );
    }

    #[test]
    fn clear_resets_every_interval_counter() {
        let t0 = Instant::now();
        let mut st = Stats::new(t0);
        st.on_data_sent(100, true, false);
        st.on_send_loss(3);
        st.on_snd_drop(1, 100);
        st.on_ack_received();
        st.on_nak_received();
        st.on_data_received(100, true);
        st.on_data_unique(100);
        st.on_belated(100, Duration::from_millis(5));
        st.on_loss_detected(1, 100);
        st.on_rcv_drop(1, 100);
        st.on_undecrypted(100);
        st.on_ack_sent();
        st.on_nak_sent();
        st.on_reordered(7);
        st.on_sending_started(t0);
        st.on_send_acked(at(t0, 30));
        let first = st.snapshot(at(t0, 50), true, Instantaneous::default());
        assert_eq!(first.pkt_snd_loss, 3);
        assert_eq!(first.pkt_rcv_belated, 1);
        assert_eq!(first.us_snd_duration, 30_000);
        let s = st.snapshot(at(t0, 60), false, Instantaneous::default());
        let interval = [
            s.pkt_sent,
            s.pkt_recv,
            s.pkt_rcv_belated,
            s.pkt_sent_unique,
            s.pkt_recv_unique,
            s.us_snd_duration,
        ];
        assert_eq!(interval, [0; 6]);
        let interval32 = [
            s.pkt_snd_loss,
            s.pkt_rcv_loss,
            s.pkt_retrans,
            s.pkt_rcv_retrans,
            s.pkt_sent_ack,
            s.pkt_recv_ack,
            s.pkt_sent_nak,
            s.pkt_recv_nak,
            s.pkt_snd_drop,
            s.pkt_rcv_drop,
            s.pkt_rcv_undecrypt,
            s.pkt_snd_filter_extra,
            s.pkt_rcv_filter_extra,
            s.pkt_rcv_filter_supply,
            s.pkt_rcv_filter_loss,
        ];
        assert_eq!(interval32, [0; 15]);
        let bytes = [
            s.byte_sent,
            s.byte_recv,
            s.byte_rcv_loss,
            s.byte_retrans,
            s.byte_snd_drop,
            s.byte_rcv_drop,
            s.byte_rcv_undecrypt,
            s.byte_sent_unique,
            s.byte_recv_unique,
        ];
        assert_eq!(bytes, [0; 9]);
        // Totals survive.
        assert_eq!(s.pkt_sent_total, 1);
        assert_eq!(s.pkt_retrans_total, 1);
        assert_eq!(s.pkt_snd_loss_total, 3);
        assert_eq!(s.pkt_recv_ack_total, 1);
        assert_eq!(s.pkt_sent_nak_total, 1);
        assert_eq!(s.us_snd_duration_total, 30_000);
        assert_eq!(s.byte_rcv_undecrypt_total, 100);
        // Not interval values in libsrt: kept across clear.
        assert_eq!(s.pkt_reorder_distance, 7);
        assert_eq!(s.pkt_rcv_avg_belated_time, 5.0);
        // Rates measure from the clear.
        assert_eq!(s.ms_time_stamp, 60);
    }

    #[test]
    fn send_duration() {
        let t0 = Instant::now();
        let mut st = Stats::new(t0);
        // An ACK before any sending adds nothing.
        st.on_send_acked(at(t0, 5));
        st.on_sending_started(at(t0, 10));
        st.on_send_acked(at(t0, 20));
        st.on_send_acked(at(t0, 35));
        let s = st.snapshot(at(t0, 40), true, Instantaneous::default());
        // 10 -> 20 -> 35 ms.
        assert_eq!(s.us_snd_duration, 25_000);
        assert_eq!(s.us_snd_duration_total, 25_000);
        // The mark survives a clear: the next ACK continues from 35 ms.
        st.on_send_acked(at(t0, 45));
        let s = st.snapshot(at(t0, 50), false, Instantaneous::default());
        assert_eq!(s.us_snd_duration, 10_000);
        assert_eq!(s.us_snd_duration_total, 35_000);
    }

    #[test]
    fn belated_time_is_libsrt_iir() {
        let t0 = Instant::now();
        let mut st = Stats::new(t0);
        st.on_belated(10, Duration::from_micros(10_500));
        // First sample taken as is: 10.5 ms.
        assert_eq!(st.belated_time_ms, 10.5);
        // Base truncated to 10 ms = 10 000 µs; 10 000 + (20 000 − 10 000)·0.2 = 12 000.
        st.on_belated(10, Duration::from_millis(20));
        assert_eq!(st.belated_time_ms, 12.0);
        // Downwards (libsrt wraps here): 12 000 + (2 000 − 12 000)·0.2 = 10 000.
        st.on_belated(10, Duration::from_millis(2));
        assert_eq!(st.belated_time_ms, 10.0);
    }

    #[test]
    fn reorder_distance() {
        let mut st = Stats::new(Instant::now());
        st.on_reordered(3);
        st.on_reordered(2);
        assert_eq!(st.reorder_distance, 3);
        st.on_reorder_tolerance_decreased();
        assert_eq!(st.reorder_distance, 2);
    }

    #[test]
    fn instantaneous_gauges() {
        let t0 = Instant::now();
        let mut st = Stats::new(t0);
        let inst = Instantaneous {
            send_period: Duration::from_micros(10),
            flow_window: 25_600,
            congestion_window: 25_600,
            flight_size: 12,
            srtt_us: 12_345,
            bandwidth_pkts_per_sec: 10_000,
            max_bw_bytes_per_sec: 125_000_000,
            mss: 1500,
            snd_buf_capacity_pkts: 8192,
            snd_buf_pkts: 12,
            snd_buf_bytes: 12 * 1316,
            snd_buf_ms: 11,
            rcv_buf_avail_pkts: 8000,
            rcv_buf_pkts: 150,
            rcv_buf_bytes: 150 * 1316,
            rcv_buf_ms: 120,
            snd_tsbpd_delay_ms: 120,
            rcv_tsbpd_delay_ms: 200,
            reorder_tolerance: 0,
        };
        let s = st.snapshot(at(t0, 1), false, inst);
        assert_eq!(s.us_pkt_snd_period, 10.0);
        assert_eq!(s.ms_rtt, 12.345);
        assert_eq!(s.mbps_max_bw, 1000.0);
        // 10 000 pkt/s · 1500 B · 8 = 120 Mbit/s.
        assert_eq!(s.mbps_bandwidth, 120.0);
        assert_eq!(s.byte_snd_buf, 12 * 1360);
        assert_eq!(s.byte_avail_snd_buf, (8192 - 12) * 1500);
        assert_eq!(s.byte_avail_rcv_buf, 8000 * 1500);
        assert_eq!(s.byte_rcv_buf, 150 * 1316);
        assert_eq!(s.ms_snd_tsb_pd_delay, 120);
        assert_eq!(s.ms_rcv_tsb_pd_delay, 200);
        assert_eq!(s.byte_mss, 1500);
        assert_eq!(s.pkt_flight_size, 12);
        // No send buffer: nothing available.
        let s = st.snapshot(at(t0, 2), false, Instantaneous::default());
        assert_eq!(s.byte_avail_snd_buf, 0);
    }

    fn size(pkts: i32, bytes: i32, ms: i32) -> BufSize {
        BufSize { pkts, bytes, ms }
    }

    /// What the buffers do: a sample at `now` if one is due; `current` is
    /// asked only then.
    trait Sample {
        fn sample(&mut self, now: Instant, current: impl FnOnce() -> BufSize);
    }

    impl Sample for AvgBufSize {
        fn sample(&mut self, now: Instant, current: impl FnOnce() -> BufSize) {
            if self.is_time_to_update(now) {
                self.update(now, current());
            }
        }
    }

    #[test]
    fn average_starts_at_the_first_sample() {
        let t0 = Instant::now();
        let mut avg = AvgBufSize::default();
        assert_eq!(avg.get(), BufSize::default());
        assert!(avg.is_time_to_update(t0));
        avg.sample(t0, || size(10, 13_160, 42));
        assert_eq!(avg.get(), size(10, 13_160, 42));
    }

    #[test]
    fn average_samples_every_25_ms_weighted_by_elapsed_ms() {
        let t0 = Instant::now();
        let mut avg = AvgBufSize::default();
        avg.update(t0, size(100, 100_000, 100));
        // Within 25 ms no sample is taken, whatever the buffer holds.
        assert!(!avg.is_time_to_update(at(t0, 24)));
        avg.sample(at(t0, 24), || panic!("sampled too early"));
        assert_eq!(avg.get(), size(100, 100_000, 100));
        // After 25 ms the new value weighs 25/1000:
        // (100·975 + 200·25) / 1000 = 102.5, rounded half away from zero.
        assert!(avg.is_time_to_update(at(t0, 25)));
        avg.sample(at(t0, 25), || size(200, 200_000, 300));
        assert_eq!(avg.get(), size(103, 102_500, 105));
        // Whole milliseconds only: 25.9 ms weigh 25 (the second value is
        // (102.5·975 + 0·25) / 1000 = 99.9375).
        let t1 = at(t0, 25) + Duration::from_micros(25_900);
        avg.sample(t1, || size(0, 0, 0));
        assert_eq!(avg.get(), size(100, 99_938, 102));
        // Exactly 1 s later still weighs (the whole weight on the new value).
        avg.sample(t1 + Duration::from_secs(1), || size(7, 70, 1));
        assert_eq!(avg.get(), size(7, 70, 1));
    }

    #[test]
    fn average_resets_after_more_than_a_second_without_sample() {
        let t0 = Instant::now();
        let mut avg = AvgBufSize::default();
        avg.update(t0, size(1000, 1_000_000, 1000));
        avg.sample(at(t0, 1001), || size(3, 30, 2));
        assert_eq!(avg.get(), size(3, 30, 2));
        // A time before the last sample also starts over (libsrt's
        // unsigned elapsed time is then huge).
        avg.sample(at(t0, 500), || size(5, 50, 4));
        assert_eq!(avg.get(), size(5, 50, 4));
    }

    #[test]
    fn int_fields_truncate_like_c() {
        let mut st = Stats::new(Instant::now());
        st.on_send_loss(u32::MAX);
        st.on_send_loss(2);
        let s = st.snapshot(Instant::now(), false, Instantaneous::default());
        // 2³² + 1 lost: libsrt's uint32_t counter holds 1.
        assert_eq!(s.pkt_snd_loss_total, 1);
    }
}
