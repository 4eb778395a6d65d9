//! [`SocketOptions`]: one typed field per option that changes behaviour,
//! libsrt's defaults and presets, the values derived from them, whole-struct
//! validation, and the builder setters generated from a table.

use super::*;
use crate::handshake::TransType;
use std::time::Duration;

// ---------------------------------------------------------------------------
// SocketOptions
// ---------------------------------------------------------------------------

/// Every behaviour-affecting option of one SRT socket, defaults exactly libsrt's.
///
/// Fields are public for reading by the engine; write them through
/// [`set`](Self::set) or the builder methods, which validate. A struct
/// changed by hand can be checked with [`validate`](Self::validate).
#[derive(Clone, Debug, PartialEq)]
pub struct SocketOptions {
    /// The last `SRTO_TRANSTYPE` preset applied (libsrt keeps no such field; behaviour follows the individual options).
    pub transtype: TransType,
    /// `SRTO_MSS`, bytes: ≥ 76, ≤ both UDP buffer sizes.
    pub mss: u32,
    /// `SRTO_FC`, packets: ≥ 32.
    pub fc: u32,
    /// `SRTO_SNDBUF` in packets (bytes ÷ (MSS − 28) when set).
    pub sndbuf_pkts: u32,
    /// `SRTO_RCVBUF` in packets (bytes ÷ (MSS − 28), 32 ..= FC when set).
    pub rcvbuf_pkts: u32,
    /// `SRTO_LINGER`: `None` = off (live); `Some(180 s)` in file mode.
    pub linger: Option<Duration>,
    /// `SRTO_RENDEZVOUS`.
    pub rendezvous: bool,
    /// `SRTO_MAXBW`, bytes/s: −1 = 1 Gbit/s, 0 = from input rate and overhead.
    pub maxbw: i64,
    /// `SRTO_SENDER`.
    pub sender: bool,
    /// `SRTO_TSBPDMODE`.
    pub tsbpdmode: bool,
    /// `SRTO_RCVLATENCY` (also set by `SRTO_LATENCY`), ms precision.
    pub rcvlatency: Duration,
    /// `SRTO_PEERLATENCY` (also set by `SRTO_LATENCY`), ms precision.
    pub peerlatency: Duration,
    /// `SRTO_INPUTBW`, bytes/s: 0 = measure.
    pub inputbw: i64,
    /// `SRTO_MININPUTBW`, bytes/s.
    pub mininputbw: i64,
    /// `SRTO_OHEADBW`, percent: 5 ..= 100.
    pub oheadbw: u8,
    /// `SRTO_PASSPHRASE`: `None` = no encryption.
    pub passphrase: Option<Passphrase>,
    /// `SRTO_PBKEYLEN`, bytes: 0 (default, means 16), 16, 24 or 32.
    pub pbkeylen: u8,
    /// `SRTO_TLPKTDROP`.
    pub tlpktdrop: bool,
    /// `SRTO_SNDDROPDELAY`: `None` = the sender never drops (−1).
    pub snddropdelay: Option<Duration>,
    /// `SRTO_NAKREPORT`.
    pub nakreport: bool,
    /// `SRTO_CONNTIMEO`, ms precision.
    pub conntimeo: Duration,
    /// `SRTO_DRIFTTRACER`.
    pub drifttracer: bool,
    /// `SRTO_LOSSMAXTTL`, packets (libsrt stores any value).
    pub lossmaxttl: i32,
    /// `SRTO_MINVERSION`: `major << 16 | minor << 8 | patch`.
    pub minversion: u32,
    /// `SRTO_STREAMID`.
    pub streamid: StreamId,
    /// `SRTO_CONGESTION`.
    pub congestion: Congestion,
    /// `SRTO_MESSAGEAPI`.
    pub messageapi: bool,
    /// `SRTO_PAYLOADSIZE`, bytes: 0 (= MSS − 44) ..= 1456.
    pub payloadsize: u32,
    /// `SRTO_KMREFRESHRATE`, packets: 0 = [`DEFAULT_KM_REFRESH_RATE`].
    pub kmrefreshrate: u32,
    /// `SRTO_KMPREANNOUNCE`, packets: 0 = [`DEFAULT_KM_PREANNOUNCE`]; ≤ (refresh − 1) / 2.
    pub kmpreannounce: u32,
    /// `SRTO_ENFORCEDENCRYPTION`.
    pub enforcedencryption: bool,
    /// `SRTO_PEERIDLETIMEO`, ms precision.
    pub peeridletimeo: Duration,
    /// `SRTO_GROUPCONNECT`.
    pub groupconnect: bool,
    /// `SRTO_GROUPMINSTABLETIMEO`, ms precision, ≥ 60 ms.
    pub groupminstabletimeo: Duration,
    /// `SRTO_PACKETFILTER`: `None` = no filter.
    pub packetfilter: Option<PacketFilterConfig>,
    /// `SRTO_RETRANSMITALGO`.
    pub retransmitalgo: RetransmitAlgo,
    /// `SRTO_CRYPTOMODE`.
    pub cryptomode: CryptoMode,
    /// `SRTO_MAXREXMITBW`, bytes/s: −1 = unlimited.
    pub maxrexmitbw: i64,
    /// Options the engine never reads: the UDP socket and the blocking calls of a driver.
    pub driver: DriverOptions,
}

impl Default for SocketOptions {
    fn default() -> Self {
        SocketOptions {
            transtype: TransType::Live,
            mss: DEFAULT_MSS,
            fc: DEFAULT_FC,
            sndbuf_pkts: DEFAULT_BUFFER_PKTS,
            rcvbuf_pkts: DEFAULT_BUFFER_PKTS,
            linger: None,
            rendezvous: false,
            maxbw: -1,
            sender: false,
            tsbpdmode: true,
            rcvlatency: LIVE_DEF_LATENCY,
            peerlatency: Duration::ZERO,
            inputbw: 0,
            mininputbw: 0,
            oheadbw: DEFAULT_OHEADBW,
            passphrase: None,
            pbkeylen: 0,
            tlpktdrop: true,
            snddropdelay: Some(Duration::ZERO),
            nakreport: true,
            conntimeo: DEFAULT_CONNTIMEO,
            drifttracer: true,
            lossmaxttl: 0,
            minversion: DEFAULT_MINVERSION,
            streamid: StreamId::default(),
            congestion: Congestion::Live,
            messageapi: true,
            payloadsize: LIVE_DEF_PAYLOAD_SIZE,
            kmrefreshrate: 0,
            kmpreannounce: 0,
            enforcedencryption: true,
            peeridletimeo: DEFAULT_PEERIDLETIMEO,
            groupconnect: false,
            groupminstabletimeo: MIN_GROUP_STABLE_TIMEO,
            packetfilter: None,
            retransmitalgo: RetransmitAlgo::Reduced,
            cryptomode: CryptoMode::Auto,
            maxrexmitbw: -1,
            driver: DriverOptions::default(),
        }
    }
}

/// Something libsrt accepts but that will not work as one might expect.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum OptionWarning {
    /// `SRTO_PAYLOADSIZE` exceeds what one packet of this MSS carries; messages span packets.
    PayloadExceedsMss {
        /// The configured payload size.
        payloadsize: u32,
        /// MSS − 44.
        max: u32,
    },
    /// MSS above 1500: a libsrt peer rejects a handshake whose agreed MSS exceeds 1500 (REJ_ROGUE).
    MssAboveMtu,
    /// Live congestion control with the stream API: every send fails with `SRT_EINVALBUFFERAPI`.
    LiveCongestionWithStreamApi,
    /// AES-GCM without TSBPD (reachable through `SRTO_TRANSTYPE`); libsrt connects anyway.
    GcmWithoutTsbpd,
    /// AES-GCM with a payload size above 1440: the tag does not fit.
    GcmPayloadTooLarge,
    /// A latency above 65 535 ms: the handshake carries 16 bits of it.
    LatencyTruncated,
    /// `SRTO_GROUPMINSTABLETIMEO` above `SRTO_PEERIDLETIMEO` (its setter refuses that; the other order passes).
    GroupStableAboveIdle,
}

impl SocketOptions {
    /// Live mode defaults (`SRTT_LIVE`, libsrt's defaults).
    pub fn live() -> Self {
        Self::default()
    }

    /// File mode: the defaults with libsrt's `SRTO_TRANSTYPE = SRTT_FILE` applied.
    pub fn file() -> Self {
        let mut o = Self::default();
        o.apply_transtype(TransType::File);
        o
    }

    /// What libsrt's `SRTO_TRANSTYPE` setter changes (`socketconfig.cpp`).
    pub(super) fn apply_transtype(&mut self, t: TransType) {
        self.transtype = t;
        match t {
            TransType::Live => {
                self.tsbpdmode = true;
                self.rcvlatency = LIVE_DEF_LATENCY;
                self.peerlatency = Duration::ZERO;
                self.tlpktdrop = true;
                self.snddropdelay = Some(Duration::ZERO);
                self.messageapi = true;
                self.nakreport = true;
                self.retransmitalgo = RetransmitAlgo::Reduced;
                self.payloadsize = LIVE_DEF_PAYLOAD_SIZE;
                self.linger = None;
                self.congestion = Congestion::Live;
            }
            TransType::File => {
                self.tsbpdmode = false;
                self.rcvlatency = Duration::ZERO;
                self.peerlatency = Duration::ZERO;
                self.tlpktdrop = false;
                self.snddropdelay = None;
                self.messageapi = false;
                self.nakreport = false;
                self.retransmitalgo = RetransmitAlgo::EveryLoss;
                self.payloadsize = 0;
                self.linger = Some(FILE_LINGER);
                self.congestion = Congestion::File;
            }
        }
    }

    // ----- derived values the engine uses -----

    /// Bytes one packet takes in the buffers: MSS − 28 (`bytesPerPkt`).
    pub fn bytes_per_pkt(&self) -> u32 {
        self.mss.saturating_sub(UDP_HDR_SIZE)
    }

    /// Largest SRT payload of one packet: MSS − 28 − 16.
    pub fn max_payload_size(&self) -> u32 {
        self.mss.saturating_sub(UDP_HDR_SIZE + SRT_HDR_SIZE)
    }

    /// The payload size in effect: `payloadsize`, or the maximum when it is 0.
    pub fn effective_payload_size(&self) -> u32 {
        if self.payloadsize == 0 {
            self.max_payload_size()
        } else {
            self.payloadsize
        }
    }

    /// Packets in flight the receiver allows: min(receive buffer, flow window).
    pub fn flight_capacity(&self) -> u32 {
        self.rcvbuf_pkts.min(self.fc)
    }

    /// How long connecting may take: `conntimeo`, ×10 in rendezvous (`core.cpp` startConnect).
    pub fn effective_conn_timeout(&self) -> Duration {
        if self.rendezvous {
            self.conntimeo.saturating_mul(10)
        } else {
            self.conntimeo
        }
    }

    /// Key refresh period in effect, packets.
    pub fn effective_km_refresh_rate(&self) -> u32 {
        if self.kmrefreshrate == 0 {
            DEFAULT_KM_REFRESH_RATE
        } else {
            self.kmrefreshrate
        }
    }

    /// Key pre-announce in effect, packets (`crypto.cpp`: 0 ⇒ 0x10000).
    pub fn effective_km_preannounce(&self) -> u32 {
        if self.kmpreannounce == 0 {
            DEFAULT_KM_PREANNOUNCE
        } else {
            self.kmpreannounce
        }
    }

    /// Key length in effect for an initiator, bytes (0 ⇒ 16).
    pub fn effective_pbkeylen(&self) -> u8 {
        if self.pbkeylen == 0 {
            16
        } else {
            self.pbkeylen
        }
    }

    /// The options an accepted socket starts with: the listener's, minus the stream ID (libsrt's private default).
    pub fn for_accepted(&self) -> Self {
        let mut o = self.clone();
        o.streamid = StreamId::default();
        o
    }

    /// Checks every invariant that [`set`](Self::set) keeps, for fields written directly.
    pub fn validate(&self) -> Result<(), OptionError> {
        let fail = |opt, reason| Err(OptionError::invalid(opt, reason));
        if self.mss < MIN_MSS {
            return fail(SockOpt::Mss, "MSS below 76");
        }
        if self.mss > self.driver.udp_sndbuf || self.mss > self.driver.udp_rcvbuf {
            return fail(SockOpt::Mss, "MSS above a UDP buffer size");
        }
        for (opt, v) in [
            (SockOpt::UdpSndBuf, self.driver.udp_sndbuf),
            (SockOpt::UdpRcvBuf, self.driver.udp_rcvbuf),
            (SockOpt::SndBuf, self.sndbuf_pkts),
            (SockOpt::Fc, self.fc),
            (SockOpt::KmRefreshRate, self.kmrefreshrate),
            (SockOpt::KmPreAnnounce, self.kmpreannounce),
        ] {
            if v > i32::MAX as u32 {
                return fail(opt, "above i32::MAX");
            }
        }
        if self.fc < MIN_FC {
            return fail(SockOpt::Fc, "flow window below 32 packets");
        }
        if self.rcvbuf_pkts < MIN_FC || self.rcvbuf_pkts > i32::MAX as u32 {
            return fail(SockOpt::RcvBuf, "receive buffer below 32 packets");
        }
        if self.maxbw < -1 {
            return fail(SockOpt::MaxBw, "must be -1 or more");
        }
        if self.maxrexmitbw < -1 {
            return fail(SockOpt::MaxRexmitBw, "must be -1 or more");
        }
        if self.inputbw < 0 {
            return fail(SockOpt::InputBw, "must not be negative");
        }
        if self.mininputbw < 0 {
            return fail(SockOpt::MinInputBw, "must not be negative");
        }
        if !(5..=100).contains(&self.oheadbw) {
            return fail(SockOpt::OheadBw, "must be 5..=100 percent");
        }
        if !matches!(self.pbkeylen, 0 | 16 | 24 | 32) {
            return fail(SockOpt::PbKeyLen, "allowed are 0, 16, 24, 32");
        }
        if self.driver.ipttl != -1 && !(1..=255).contains(&self.driver.ipttl) {
            return fail(SockOpt::IpTtl, "must be -1 or 1..=255");
        }
        for (opt, d) in [
            (SockOpt::RcvLatency, Some(self.rcvlatency)),
            (SockOpt::PeerLatency, Some(self.peerlatency)),
            (SockOpt::ConnTimeo, Some(self.conntimeo)),
            (SockOpt::PeerIdleTimeo, Some(self.peeridletimeo)),
            (SockOpt::GroupMinStableTimeo, Some(self.groupminstabletimeo)),
            (SockOpt::SndTimeo, self.driver.sndtimeo),
            (SockOpt::RcvTimeo, self.driver.rcvtimeo),
            (SockOpt::SndDropDelay, self.snddropdelay),
        ] {
            if d.is_some_and(|d| !fits_ms(d)) {
                return fail(opt, "longer than i32::MAX ms");
            }
        }
        if self.linger.is_some_and(|d| d.as_secs() > i32::MAX as u64) {
            return fail(SockOpt::Linger, "longer than i32::MAX s");
        }
        if self.groupminstabletimeo < MIN_GROUP_STABLE_TIMEO {
            return fail(SockOpt::GroupMinStableTimeo, "below 60 ms");
        }
        if self.payloadsize > LIVE_MAX_PAYLOAD_SIZE {
            return fail(SockOpt::PayloadSize, "exceeds 1456");
        }
        if let Some(f) = &self.packetfilter {
            if self.payloadsize > LIVE_MAX_PAYLOAD_SIZE - f.extra_size() {
                return fail(SockOpt::PayloadSize, "exceeds 1456 minus the filter header");
            }
        }
        if self.kmpreannounce != 0
            && self.kmpreannounce > (self.effective_km_refresh_rate() - 1) / 2
        {
            return fail(SockOpt::KmPreAnnounce, "exceeds (KMREFRESHRATE - 1) / 2");
        }
        if self.driver.bindtodevice.len() >= IFNAMSIZ {
            return fail(SockOpt::BindToDevice, "device name too long (IFNAMSIZ)");
        }
        Ok(())
    }

    /// Combinations libsrt accepts that will not behave as one might expect.
    pub fn warnings(&self) -> Vec<OptionWarning> {
        let mut w = Vec::new();
        if self.payloadsize > self.max_payload_size() {
            w.push(OptionWarning::PayloadExceedsMss {
                payloadsize: self.payloadsize,
                max: self.max_payload_size(),
            });
        }
        if self.mss > DEFAULT_MSS {
            w.push(OptionWarning::MssAboveMtu);
        }
        if self.congestion == Congestion::Live && !self.messageapi {
            w.push(OptionWarning::LiveCongestionWithStreamApi);
        }
        if self.cryptomode == CryptoMode::AesGcm {
            if !self.tsbpdmode {
                w.push(OptionWarning::GcmWithoutTsbpd);
            }
            if self.payloadsize > LIVE_MAX_PAYLOAD_SIZE - AEAD_TAG_SIZE {
                w.push(OptionWarning::GcmPayloadTooLarge);
            }
        }
        if self.rcvlatency.as_millis() > 0xFFFF || self.peerlatency.as_millis() > 0xFFFF {
            w.push(OptionWarning::LatencyTruncated);
        }
        if self.groupminstabletimeo > self.peeridletimeo {
            w.push(OptionWarning::GroupStableAboveIdle);
        }
        w
    }
}

/// The value of a duration option in whole milliseconds, refused beyond a C `int`.
fn dur_value(opt: SockOpt, d: Duration) -> Result<OptionValue, OptionError> {
    if !fits_ms(d) {
        return Err(OptionError::invalid(opt, "longer than i32::MAX ms"));
    }
    Ok(OptionValue::Int(ms_i32(d)))
}

/// A `u32` as the C `int` libsrt takes, saturating (the setter then applies its range check).
fn sat_i32(v: u32) -> OptionValue {
    OptionValue::Int(i32::try_from(v).unwrap_or(i32::MAX))
}

/// Generates the builder setters from a table, one row an option.
///
/// `fallible` rows go through [`SocketOptions::set`] (libsrt's range checks
/// and side effects) and return `Result`; the expression after `:` turns the
/// argument into the [`OptionValue`] `srt_setsockopt` would get. `infallible`
/// rows are options every value of whose argument type is valid: they write
/// the field and return `Self`.
macro_rules! builder_setters {
    (
        fallible {
            $( $(#[doc = $fdoc:literal])* $fname:ident($farg:ident: $fty:ty) => $opt:ident: $conv:expr; )*
        }
        infallible {
            $( $(#[doc = $idoc:literal])* $iname:ident($iarg:ident: $ity:ty) => $($field:ident).+ = $iconv:expr; )*
        }
    ) => {
        impl SocketOptions {
            $(
                $(#[doc = $fdoc])*
                pub fn $fname(mut self, $farg: $fty) -> Result<Self, OptionError> {
                    let value: OptionValue = $conv;
                    self.set(SockOpt::$opt, value)?;
                    Ok(self)
                }
            )*
            $(
                $(#[doc = $idoc])*
                pub fn $iname(mut self, $iarg: $ity) -> Self {
                    self.$($field).+ = $iconv;
                    self
                }
            )*
        }
    };
}

builder_setters! {
    fallible {
        /// Sets receive and peer latency (`SRTO_LATENCY`), ms precision.
        latency(d: Duration) => Latency: dur_value(SockOpt::Latency, d)?;
        /// Sets receive and peer latency in milliseconds (`SRTO_LATENCY`).
        latency_ms(ms: u32) => Latency: dur_value(SockOpt::Latency, Duration::from_millis(u64::from(ms)))?;
        /// Sets the receive latency (`SRTO_RCVLATENCY`).
        rcv_latency(d: Duration) => RcvLatency: dur_value(SockOpt::RcvLatency, d)?;
        /// Sets the latency proposed to the peer (`SRTO_PEERLATENCY`).
        peer_latency(d: Duration) => PeerLatency: dur_value(SockOpt::PeerLatency, d)?;
        /// Sets the stream ID (`SRTO_STREAMID`, ≤ 512 bytes).
        stream_id(sid: impl AsRef<[u8]>) => StreamId: OptionValue::Str(sid.as_ref().to_vec());
        /// Sets the passphrase (`SRTO_PASSPHRASE`, 10..=80 bytes, empty clears).
        passphrase(p: impl AsRef<[u8]>) => Passphrase: OptionValue::Str(p.as_ref().to_vec());
        /// Sets the key length (`SRTO_PBKEYLEN`: 0, 16, 24, 32).
        pbkeylen(len: u8) => PbKeyLen: OptionValue::Int(i32::from(len));
        /// Sets the payload size (`SRTO_PAYLOADSIZE`).
        payload_size(size: u32) => PayloadSize: sat_i32(size);
        /// Sets the MSS (`SRTO_MSS`).
        mss(mss: u32) => Mss: sat_i32(mss);
        /// Sets the flow window (`SRTO_FC`).
        fc(pkts: u32) => Fc: sat_i32(pkts);
        /// Sets the connect timeout (`SRTO_CONNTIMEO`).
        conn_timeout(d: Duration) => ConnTimeo: dur_value(SockOpt::ConnTimeo, d)?;
        /// Sets the peer idle timeout (`SRTO_PEERIDLETIMEO`).
        peer_idle_timeout(d: Duration) => PeerIdleTimeo: dur_value(SockOpt::PeerIdleTimeo, d)?;
        /// Sets the maximum bandwidth (`SRTO_MAXBW`, −1 ..).
        max_bw(bytes_per_sec: i64) => MaxBw: OptionValue::Int64(bytes_per_sec);
        /// Sets the retransmission bandwidth limit (`SRTO_MAXREXMITBW`, −1 ..).
        max_rexmit_bw(bytes_per_sec: i64) => MaxRexmitBw: OptionValue::Int64(bytes_per_sec);
        /// Sets the expected input rate (`SRTO_INPUTBW`, 0 = measure).
        input_bw(bytes_per_sec: i64) => InputBw: OptionValue::Int64(bytes_per_sec);
        /// Sets the floor of the measured input rate (`SRTO_MININPUTBW`).
        min_input_bw(bytes_per_sec: i64) => MinInputBw: OptionValue::Int64(bytes_per_sec);
        /// Sets the overhead over the input rate (`SRTO_OHEADBW`, 5..=100 percent).
        overhead_bw(percent: u8) => OheadBw: OptionValue::Int(i32::from(percent));
        /// Sets the packet filter (`SRTO_PACKETFILTER`).
        packet_filter(config: &str) => PacketFilter: OptionValue::Str(config.as_bytes().to_vec());
        /// Sets TSBPD (`SRTO_TSBPDMODE`; cannot be turned off with AES-GCM).
        tsbpd_mode(on: bool) => TsbpdMode: OptionValue::Bool(on);
        /// Sets the cipher mode (`SRTO_CRYPTOMODE`; AES-GCM needs TSBPD).
        crypto_mode(mode: CryptoMode) => CryptoMode: OptionValue::Int(mode as i32);
        /// Sets the key refresh period (`SRTO_KMREFRESHRATE`).
        km_refresh_rate(pkts: u32) => KmRefreshRate: OptionValue::Int(i32::try_from(pkts).unwrap_or(-1));
        /// Sets the key pre-announce (`SRTO_KMPREANNOUNCE`).
        km_preannounce(pkts: u32) => KmPreAnnounce: OptionValue::Int(i32::try_from(pkts).unwrap_or(-1));
    }
    infallible {
        /// Sets the linger time (`SRTO_LINGER`, whole seconds up to `i32::MAX`; `None` = off).
        linger(linger: Option<Duration>) => linger =
            linger.map(|d| Duration::from_secs(d.as_secs().min(i32::MAX as u64)));
        /// Sets the congestion controller (`SRTO_CONGESTION`).
        congestion(cc: Congestion) => congestion = cc;
        /// Sets the message API (`SRTO_MESSAGEAPI`).
        message_api(on: bool) => messageapi = on;
        /// Sets too-late packet drop (`SRTO_TLPKTDROP`).
        tlpktdrop(on: bool) => tlpktdrop = on;
        /// Sets periodic NAK reports (`SRTO_NAKREPORT`).
        nak_report(on: bool) => nakreport = on;
        /// Sets enforced encryption (`SRTO_ENFORCEDENCRYPTION`).
        enforced_encryption(on: bool) => enforcedencryption = on;
        /// Sets rendezvous mode (`SRTO_RENDEZVOUS`).
        rendezvous(on: bool) => rendezvous = on;
        /// Sets the minimum peer version (`SRTO_MINVERSION`).
        min_version(version: u32) => minversion = version;
        /// Sets clock drift correction (`SRTO_DRIFTTRACER`).
        drift_tracer(on: bool) => drifttracer = on;
        /// Sets the reorder tolerance, packets (`SRTO_LOSSMAXTTL`).
        loss_max_ttl(pkts: i32) => lossmaxttl = pkts;
        /// Sets the retransmission policy (`SRTO_RETRANSMITALGO`).
        retransmit_algo(algo: RetransmitAlgo) => retransmitalgo = algo;
        /// Sets blocking send (`SRTO_SNDSYN`; drivers only).
        snd_syn(on: bool) => driver.sndsyn = on;
        /// Sets blocking receive, connect and accept (`SRTO_RCVSYN`; drivers only).
        rcv_syn(on: bool) => driver.rcvsyn = on;
        /// Sets UDP port sharing (`SRTO_REUSEADDR`; drivers only).
        reuse_addr(on: bool) => driver.reuseaddr = on;
    }
}
