//! Statistics reports of `srt-transmit`, in srt-live-transmit's formats:
//! the default human block (`SrtStatsCols`), JSON lines (`SrtStatsJson`:
//! the same field names and categories) and CSV (`SrtStatsCsv`).
//!
//! A report is due every N packets moved by the application (`-s N`, as
//! srt-live-transmit counts) and/or every so often (`--stats-ms`).

use crate::udp_driver::UdpDriver;
use srt_proto::packet::SocketId;
use srt_proto::stats::TraceBStats;
use std::fmt::Write as _;
use std::io::Write;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// How a report is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StatsFormat {
    /// srt-live-transmit's default block of labelled columns.
    #[default]
    Human,
    /// One JSON object per line, srt-live-transmit's field names.
    Json,
    /// Comma-separated values with a header line, srt-live-transmit's columns.
    Csv,
}

/// Where reports go.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum StatsOutput {
    /// Standard output (srt-live-transmit's default).
    #[default]
    Stdout,
    /// Standard error (used when stdout carries the data, `file://con`).
    Stderr,
    /// A file, created or truncated.
    File(std::path::PathBuf),
}

/// When and how to report statistics.
#[derive(Debug, Clone, Default)]
pub struct StatsConfig {
    /// Report every this many packets moved (0 or `None`: never).
    pub every_packets: Option<u64>,
    /// Report this often.
    pub every: Option<Duration>,
    /// The format.
    pub format: StatsFormat,
    /// Totals since the connection started instead of the interval since
    /// the previous report (srt-live-transmit's `-f`).
    pub full: bool,
    /// Where to print.
    pub output: StatsOutput,
}

/// Prints a connection's statistics when they are due.
pub struct StatsReporter {
    config: StatsConfig,
    out: Option<Box<dyn Write>>,
    payload: usize,
    /// Packets moved on each of (at most) two connections.
    packets: [u64; 2],
    /// The count at which each connection's next report is due.
    next_packets: [u64; 2],
    next_time: Option<Instant>,
    csv_header: bool,
}

impl StatsReporter {
    /// A reporter for a connection whose packets carry up to `payload` bytes.
    pub fn new(config: &StatsConfig, payload: usize) -> Self {
        let every_packets = config.every_packets.filter(|&n| n > 0);
        let on = every_packets.is_some() || config.every.is_some();
        let out: Option<Box<dyn Write>> = if !on {
            None
        } else {
            match &config.output {
                StatsOutput::Stdout => Some(Box::new(std::io::stdout())),
                StatsOutput::Stderr => Some(Box::new(std::io::stderr())),
                StatsOutput::File(p) => match std::fs::File::create(p) {
                    Ok(f) => Some(Box::new(std::io::BufWriter::new(f))),
                    Err(e) => {
                        eprintln!("srt-transmit: statistics file {}: {e}", p.display());
                        None
                    }
                },
            }
        };
        StatsReporter {
            config: config.clone(),
            out,
            payload: payload.max(1),
            packets: [0; 2],
            next_packets: [every_packets.unwrap_or(u64::MAX); 2],
            next_time: config.every.map(|e| Instant::now() + e),
            csv_header: false,
        }
    }

    /// Counts `len` payload bytes moved by the application (as packets of
    /// the payload size) and reports if a multiple of N was crossed.
    pub fn bytes(&mut self, d: &mut UdpDriver, id: SocketId, len: usize) {
        self.bytes_on(0, d, id, len);
    }

    /// [`bytes`](Self::bytes) for connection `conn` (0 or 1) of a program
    /// with two, such as a relay between two SRT connections: each is
    /// counted and reported on its own, into the same output, as
    /// srt-live-transmit reports its SRT source and its SRT target.
    pub fn bytes_on(&mut self, conn: usize, d: &mut UdpDriver, id: SocketId, len: usize) {
        if self.count_on(conn, len) {
            self.report(d, id);
        }
    }

    /// Counts `len` payload bytes moved on connection 0 and says whether
    /// a multiple of N was crossed (a socket group's driver then reports
    /// the group and its members itself).
    pub fn count(&mut self, len: usize) -> bool {
        self.count_on(0, len)
    }

    fn count_on(&mut self, conn: usize, len: usize) -> bool {
        if self.out.is_none() {
            return false;
        }
        let conn = conn.min(1);
        self.packets[conn] += len.div_ceil(self.payload).max(1) as u64;
        if self.packets[conn] >= self.next_packets[conn] {
            let n = self.config.every_packets.unwrap_or(u64::MAX).max(1);
            self.next_packets[conn] = (self.packets[conn] / n + 1) * n;
            return true;
        }
        false
    }

    /// Whether reports are printed at all.
    pub fn is_on(&self) -> bool {
        self.out.is_some()
    }

    /// Whether reports show totals since the start (`-f`) rather than the
    /// interval since the last report.
    pub fn full(&self) -> bool {
        self.config.full
    }

    /// The report format.
    pub fn format(&self) -> StatsFormat {
        self.config.format
    }

    /// Reports if the time-based period has passed.
    pub fn tick(&mut self, d: &mut UdpDriver, id: SocketId) {
        if self.due() {
            self.report(d, id);
        }
    }

    /// Whether the time-based period has passed (it then starts again):
    /// a program with two connections then [`report`](Self::report)s each.
    pub fn due(&mut self) -> bool {
        let (Some(next), Some(every)) = (self.next_time, self.config.every) else {
            return false;
        };
        let now = Instant::now();
        if now >= next {
            self.next_time = Some(now + every);
        }
        now >= next
    }

    /// Prints connection `id`'s statistics now.
    pub fn report(&mut self, d: &mut UdpDriver, id: SocketId) {
        let Some(s) = d
            .endpoint
            .socket_stats(Instant::now(), id, !self.config.full)
        else {
            return;
        };
        self.write(id, &s, d.send_drops());
    }

    /// Prints `s` as the statistics of `id` now, in the chosen format (a
    /// socket group's line, or a member's on any driver).
    pub fn write(&mut self, id: SocketId, s: &TraceBStats, udp_drops: u64) {
        let s = *s;
        let text = match self.config.format {
            StatsFormat::Human => human(id, &s, udp_drops),
            StatsFormat::Json => json(id, &s),
            StatsFormat::Csv => {
                let mut t = String::new();
                if !self.csv_header {
                    self.csv_header = true;
                    t.push_str(&csv_header());
                }
                t.push_str(&csv(id, &s));
                t
            }
        };
        self.write_text(&text);
    }

    /// Prints `text` as it is.
    pub fn write_text(&mut self, text: &str) {
        if let Some(out) = &mut self.out {
            let _ = out.write_all(text.as_bytes());
            let _ = out.flush();
        }
    }
}

/// The counters in srt-live-transmit's table order: (category, JSON name,
/// CSV name, value).
fn fields(s: &TraceBStats) -> Vec<(&'static str, &'static str, &'static str, String)> {
    let f = |v: f64| format!("{v}");
    vec![
        (
            "window",
            "flow",
            "pktFlowWindow",
            s.pkt_flow_window.to_string(),
        ),
        (
            "window",
            "congestion",
            "pktCongestionWindow",
            s.pkt_congestion_window.to_string(),
        ),
        (
            "window",
            "flight",
            "pktFlightSize",
            s.pkt_flight_size.to_string(),
        ),
        ("link", "rtt", "msRTT", f(s.ms_rtt)),
        ("link", "bandwidth", "mbpsBandwidth", f(s.mbps_bandwidth)),
        ("link", "maxBandwidth", "mbpsMaxBW", f(s.mbps_max_bw)),
        ("send", "packets", "pktSent", s.pkt_sent.to_string()),
        (
            "send",
            "packetsUnique",
            "pktSentUnique",
            s.pkt_sent_unique.to_string(),
        ),
        (
            "send",
            "packetsLost",
            "pktSndLoss",
            s.pkt_snd_loss.to_string(),
        ),
        (
            "send",
            "packetsDropped",
            "pktSndDrop",
            s.pkt_snd_drop.to_string(),
        ),
        (
            "send",
            "packetsRetransmitted",
            "pktRetrans",
            s.pkt_retrans.to_string(),
        ),
        (
            "send",
            "packetsFilterExtra",
            "pktSndFilterExtra",
            s.pkt_snd_filter_extra.to_string(),
        ),
        ("send", "bytes", "byteSent", s.byte_sent.to_string()),
        (
            "send",
            "bytesUnique",
            "byteSentUnique",
            s.byte_sent_unique.to_string(),
        ),
        (
            "send",
            "bytesDropped",
            "byteSndDrop",
            s.byte_snd_drop.to_string(),
        ),
        (
            "send",
            "byteAvailBuf",
            "byteAvailSndBuf",
            s.byte_avail_snd_buf.to_string(),
        ),
        ("send", "msBuf", "msSndBuf", s.ms_snd_buf.to_string()),
        ("send", "mbitRate", "mbpsSendRate", f(s.mbps_send_rate)),
        (
            "send",
            "sendPeriod",
            "usPktSndPeriod",
            f(s.us_pkt_snd_period),
        ),
        ("recv", "packets", "pktRecv", s.pkt_recv.to_string()),
        (
            "recv",
            "packetsUnique",
            "pktRecvUnique",
            s.pkt_recv_unique.to_string(),
        ),
        (
            "recv",
            "packetsLost",
            "pktRcvLoss",
            s.pkt_rcv_loss.to_string(),
        ),
        (
            "recv",
            "packetsDropped",
            "pktRcvDrop",
            s.pkt_rcv_drop.to_string(),
        ),
        (
            "recv",
            "packetsRetransmitted",
            "pktRcvRetrans",
            s.pkt_rcv_retrans.to_string(),
        ),
        (
            "recv",
            "packetsBelated",
            "pktRcvBelated",
            s.pkt_rcv_belated.to_string(),
        ),
        (
            "recv",
            "packetsFilterExtra",
            "pktRcvFilterExtra",
            s.pkt_rcv_filter_extra.to_string(),
        ),
        (
            "recv",
            "packetsFilterSupply",
            "pktRcvFilterSupply",
            s.pkt_rcv_filter_supply.to_string(),
        ),
        (
            "recv",
            "packetsFilterLoss",
            "pktRcvFilterLoss",
            s.pkt_rcv_filter_loss.to_string(),
        ),
        ("recv", "bytes", "byteRecv", s.byte_recv.to_string()),
        (
            "recv",
            "bytesUnique",
            "byteRecvUnique",
            s.byte_recv_unique.to_string(),
        ),
        (
            "recv",
            "bytesLost",
            "byteRcvLoss",
            s.byte_rcv_loss.to_string(),
        ),
        (
            "recv",
            "bytesDropped",
            "byteRcvDrop",
            s.byte_rcv_drop.to_string(),
        ),
        (
            "recv",
            "byteAvailBuf",
            "byteAvailRcvBuf",
            s.byte_avail_rcv_buf.to_string(),
        ),
        ("recv", "msBuf", "msRcvBuf", s.ms_rcv_buf.to_string()),
        ("recv", "mbitRate", "mbpsRecvRate", f(s.mbps_recv_rate)),
        (
            "recv",
            "msTsbPdDelay",
            "msRcvTsbPdDelay",
            s.ms_rcv_tsb_pd_delay.to_string(),
        ),
    ]
}

/// A JSON number: finite, else 0.
fn num(v: &str) -> &str {
    if v.parse::<f64>().is_ok_and(f64::is_finite) {
        v
    } else {
        "0"
    }
}

/// One line of JSON, as srt-live-transmit's `-pf json`:
/// `{"sid":..,"timepoint":"..","time":..,"window":{..},"link":{..},"send":{..},"recv":{..}}`.
pub fn json(id: SocketId, s: &TraceBStats) -> String {
    let mut o = String::new();
    let _ = write!(
        o,
        "{{\"sid\":{},\"timepoint\":\"{}\",\"time\":{}",
        id.0,
        timepoint(SystemTime::now()),
        s.ms_time_stamp
    );
    let mut cat = "";
    for (c, name, _, v) in fields(s) {
        if c != cat {
            if !cat.is_empty() {
                o.push('}');
            }
            let _ = write!(o, ",\"{c}\":{{");
            cat = c;
        } else {
            o.push(',');
        }
        let _ = write!(o, "\"{name}\":{}", num(&v));
    }
    o.push_str("}}\n");
    o
}

fn csv_header() -> String {
    let mut o = String::from("Timepoint,Time,SocketID");
    for (_, _, long, _) in fields(&TraceBStats::default()) {
        o.push(',');
        o.push_str(long);
    }
    o.push('\n');
    o
}

fn csv(id: SocketId, s: &TraceBStats) -> String {
    let mut o = format!(
        "{},{},{}",
        timepoint(SystemTime::now()),
        s.ms_time_stamp,
        id.0
    );
    for (_, _, _, v) in fields(s) {
        o.push(',');
        o.push_str(&v);
    }
    o.push('\n');
    o
}

/// srt-live-transmit's default block, plus a line of ours (send period,
/// datagrams the kernel refused).
pub fn human(id: SocketId, s: &TraceBStats, udp_drops: u64) -> String {
    format!(
        "======= SRT STATS: sid={}\n\
         PACKETS     SENT: {:>11}  RECEIVED:   {:>11}\n\
         LOST PKT    SENT: {:>11}  RECEIVED:   {:>11}\n\
         REXMIT      SENT: {:>11}  RECEIVED:   {:>11}\n\
         DROP PKT    SENT: {:>11}  RECEIVED:   {:>11}\n\
         FILTER EXTRA  TX: {:>11}        RX:   {:>11}\n\
         FILTER RX  SUPPL: {:>11}  RX  LOSS:   {:>11}\n\
         RATE     SENDING: {:>11.3}  RECEIVING:  {:>11.3}\n\
         BELATED RECEIVED: {:>11}  AVG TIME:   {:>11.3}\n\
         REORDER DISTANCE: {:>11}\n\
         WINDOW      FLOW: {:>11}  CONGESTION: {:>11}  FLIGHT: {:>11}\n\
         LINK         RTT: {:>9.3}ms  BANDWIDTH:  {:>7.3}Mb/s\n\
         BUFFERLEFT:  SND: {:>11}  RCV:        {:>11}\n\
         SEND PERIOD:      {:>9.2}us  UDP DROPS:  {:>11}\n",
        id.0,
        s.pkt_sent,
        s.pkt_recv,
        s.pkt_snd_loss,
        s.pkt_rcv_loss,
        s.pkt_retrans,
        s.pkt_rcv_retrans,
        s.pkt_snd_drop,
        s.pkt_rcv_drop,
        s.pkt_snd_filter_extra,
        s.pkt_rcv_filter_extra,
        s.pkt_rcv_filter_supply,
        s.pkt_rcv_filter_loss,
        s.mbps_send_rate,
        s.mbps_recv_rate,
        s.pkt_rcv_belated,
        s.pkt_rcv_avg_belated_time,
        s.pkt_reorder_distance,
        s.pkt_flow_window,
        s.pkt_congestion_window,
        s.pkt_flight_size,
        s.ms_rtt,
        s.mbps_bandwidth,
        s.byte_avail_snd_buf,
        s.byte_avail_rcv_buf,
        s.us_pkt_snd_period,
        udp_drops,
    )
}

/// ISO 8601 time in UTC with microseconds (srt-live-transmit prints local
/// time; we have no time zone database, so UTC with `+0000`).
pub fn timepoint(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:06}+0000",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        d.subsec_micros()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timepoint_is_iso_8601() {
        let t = UNIX_EPOCH + Duration::from_micros(1_700_000_000_123_456);
        assert_eq!(timepoint(t), "2023-11-14T22:13:20.123456+0000");
        assert_eq!(timepoint(UNIX_EPOCH), "1970-01-01T00:00:00.000000+0000");
    }

    #[test]
    fn json_has_libsrt_categories_and_names() {
        let s = TraceBStats {
            pkt_sent: 7,
            ms_rtt: 1.5,
            ..TraceBStats::default()
        };
        let j = json(SocketId(42), &s);
        assert!(j.starts_with("{\"sid\":42,\"timepoint\":\""), "{j}");
        assert!(j.contains(",\"window\":{\"flow\":0,"), "{j}");
        assert!(j.contains("\"link\":{\"rtt\":1.5,"), "{j}");
        assert!(j.contains("\"send\":{\"packets\":7,"), "{j}");
        assert!(j.contains("\"msTsbPdDelay\":0}}\n"), "{j}");
        assert_eq!(j.matches('{').count(), j.matches('}').count());
    }
}
