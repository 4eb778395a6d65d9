//! The C-facing side of the options: `srt_setsockopt` / `srt_getsockopt` over
//! [`SocketOptions`] ([`SocketOptions::set`], [`SocketOptions::get`]), the
//! untyped [`OptionValue`] they take and give, its C byte encoding
//! ([`SockOpt::decode_c`], [`OptionValue::to_c_bytes`]), and the checks a
//! socket API makes by phase of the socket's life ([`SocketPhase`]:
//! [`SocketOptions::set_in_phase`], `validate_for_bind/connect/listen`).
//!
//! The engine reads only [`SocketOptions`]' typed fields; this module is for
//! drivers that expose libsrt's option calls (srt-mio, srt-capi, srt-tools'
//! URI parser) and for the generated builder setters, which go through
//! [`SocketOptions::set`] so that they validate exactly as libsrt does.

use super::*;
use crate::handshake::{TransType, SRT_VERSION};
use std::time::Duration;

// ---------------------------------------------------------------------------
// Values and errors
// ---------------------------------------------------------------------------

/// An option value as `srt_setsockopt` takes and `srt_getsockopt` gives it.
///
/// `Debug` prints string values: do not log a value meant for `SRTO_PASSPHRASE`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum OptionValue {
    /// A boolean.
    Bool(bool),
    /// A 32-bit integer (also `SRT_TRANSTYPE` and the other enums).
    Int(i32),
    /// A 64-bit integer.
    Int64(i64),
    /// Bytes (no terminating NUL).
    Str(Vec<u8>),
    /// `struct linger`.
    Linger {
        /// `l_onoff`: whether close lingers.
        onoff: bool,
        /// `l_linger`: for how many seconds.
        secs: i32,
    },
}

impl OptionValue {
    /// The bytes `srt_getsockopt` writes (native order; strings without the NUL, bools as one byte).
    pub fn to_c_bytes(&self) -> Vec<u8> {
        match self {
            OptionValue::Bool(b) => vec![u8::from(*b)],
            OptionValue::Int(i) => i.to_ne_bytes().to_vec(),
            OptionValue::Int64(i) => i.to_ne_bytes().to_vec(),
            OptionValue::Str(s) => s.clone(),
            OptionValue::Linger { onoff, secs } => {
                let mut v = i32::from(*onoff).to_ne_bytes().to_vec();
                v.extend_from_slice(&secs.to_ne_bytes());
                v
            }
        }
    }
}

/// Where a socket is in its life, for the pre-bind / pre checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SocketPhase {
    /// Created, not bound (`SRTS_INIT`).
    Fresh,
    /// Bound (`SRTS_OPENED`).
    Bound,
    /// Connecting (`SRTS_CONNECTING`).
    Connecting,
    /// Connected, including accepted sockets (`SRTS_CONNECTED`).
    Connected,
    /// Listening (`SRTS_LISTENING`).
    Listening,
    /// Broken, closing or closed.
    Broken,
}

impl SockOpt {
    /// Decodes a C `optval`/`optlen` pair the way libsrt's setters read it
    /// (`cast_optval`, native byte order).
    pub fn decode_c(self, bytes: &[u8]) -> Result<OptionValue, OptionError> {
        let bad = || OptionError::invalid(self, "optlen does not match the option's type");
        Ok(match self.opt_type() {
            OptType::Bool => match bytes.len() {
                1 => OptionValue::Bool(bytes[0] != 0),
                4 => OptionValue::Bool(i32::from_ne_bytes(arr4(bytes)) != 0),
                // libsrt reads any other size as `false` without an error.
                _ => OptionValue::Bool(false),
            },
            OptType::Int32 if bytes.len() == 4 => OptionValue::Int(i32::from_ne_bytes(arr4(bytes))),
            OptType::Int64 if bytes.len() == 8 => {
                let mut b = [0u8; 8];
                b.copy_from_slice(bytes);
                OptionValue::Int64(i64::from_ne_bytes(b))
            }
            OptType::Linger if bytes.len() == 8 => OptionValue::Linger {
                onoff: i32::from_ne_bytes(arr4(&bytes[..4])) != 0,
                secs: i32::from_ne_bytes(arr4(&bytes[4..])),
            },
            OptType::String => OptionValue::Str(bytes.to_vec()),
            OptType::Int32 | OptType::Int64 | OptType::Linger => return Err(bad()),
        })
    }
}

fn arr4(b: &[u8]) -> [u8; 4] {
    let mut a = [0u8; 4];
    a.copy_from_slice(&b[..4]);
    a
}

fn want_bool(opt: SockOpt, v: &OptionValue) -> Result<bool, OptionError> {
    match v {
        OptionValue::Bool(b) => Ok(*b),
        // C callers pass an int (libsrt's cast_optval<bool> accepts both).
        OptionValue::Int(i) => Ok(*i != 0),
        _ => Err(OptionError::invalid(opt, "expects a bool")),
    }
}

fn want_i32(opt: SockOpt, v: &OptionValue) -> Result<i32, OptionError> {
    match v {
        OptionValue::Int(i) => Ok(*i),
        OptionValue::Int64(i) => {
            i32::try_from(*i).map_err(|_| OptionError::invalid(opt, "value does not fit an int32"))
        }
        _ => Err(OptionError::invalid(opt, "expects an int32")),
    }
}

fn want_i64(opt: SockOpt, v: &OptionValue) -> Result<i64, OptionError> {
    match v {
        OptionValue::Int64(i) => Ok(*i),
        OptionValue::Int(i) => Ok(i64::from(*i)),
        _ => Err(OptionError::invalid(opt, "expects an int64")),
    }
}

fn want_bytes(opt: SockOpt, v: &OptionValue) -> Result<&[u8], OptionError> {
    match v {
        OptionValue::Str(s) => Ok(s),
        _ => Err(OptionError::invalid(opt, "expects a string")),
    }
}

fn want_ms(opt: SockOpt, v: &OptionValue, min: i32) -> Result<i32, OptionError> {
    let ms = want_i32(opt, v)?;
    if ms < min {
        return Err(OptionError::invalid(opt, "below the minimum"));
    }
    Ok(ms)
}

fn ms(v: i32) -> Duration {
    Duration::from_millis(u64::try_from(v).unwrap_or(0))
}

impl SocketOptions {
    /// Whether `opt` may be set in `phase`, with libsrt's error if not (`CUDT::setOpt`).
    pub fn check_settable(opt: SockOpt, phase: SocketPhase) -> Result<(), OptionError> {
        if phase == SocketPhase::Broken {
            return Err(OptionError::ConnectionLost);
        }
        match opt.restriction() {
            Binding::PreBind if phase != SocketPhase::Fresh => Err(OptionError::BoundSocket(opt)),
            Binding::Pre
                if matches!(
                    phase,
                    SocketPhase::Connecting | SocketPhase::Connected | SocketPhase::Listening
                ) =>
            {
                Err(OptionError::ConnectedSocket(opt))
            }
            _ if !opt.is_settable() => Err(OptionError::invalid(opt, "read-only option")),
            _ => Ok(()),
        }
    }

    /// [`check_settable`](Self::check_settable), then [`set`](Self::set): `srt_setsockopt`.
    pub fn set_in_phase(
        &mut self,
        phase: SocketPhase,
        opt: SockOpt,
        value: OptionValue,
    ) -> Result<(), OptionError> {
        Self::check_settable(opt, phase)?;
        self.set(opt, value)
    }

    /// Sets one option with libsrt's validation and side effects (`CSrtConfig::set`); on error nothing changes.
    ///
    /// Bool options also take `Int` (non-zero = true); int64 options also
    /// take `Int`; int32 options take an `Int64` that fits.
    pub fn set(&mut self, opt: SockOpt, value: OptionValue) -> Result<(), OptionError> {
        let v = &value;
        let inval = |reason| OptionError::invalid(opt, reason);
        match opt {
            SockOpt::Mss => {
                let mss = want_i32(opt, v)?;
                if mss < MIN_MSS as i32 {
                    return Err(inval("MSS below 76"));
                }
                // "Packet size cannot be greater than UDP buffer size."
                self.mss = (mss as u32)
                    .min(self.driver.udp_sndbuf)
                    .min(self.driver.udp_rcvbuf);
            }
            SockOpt::SndSyn => self.driver.sndsyn = want_bool(opt, v)?,
            SockOpt::RcvSyn => self.driver.rcvsyn = want_bool(opt, v)?,
            SockOpt::Fc => {
                let fc = want_i32(opt, v)?;
                if fc < MIN_FC as i32 {
                    return Err(inval("flow window below 32 packets"));
                }
                self.fc = fc as u32;
            }
            SockOpt::SndBuf => {
                let bytes = want_i32(opt, v)?;
                if bytes <= 0 {
                    return Err(inval("must be positive"));
                }
                // libsrt: bytes / (MSS − 28), which may be 0 for tiny values.
                self.sndbuf_pkts = bytes as u32 / self.bytes_per_pkt().max(1);
            }
            SockOpt::RcvBuf => {
                let bytes = want_i32(opt, v)?;
                if bytes <= 0 {
                    return Err(inval("must be positive"));
                }
                // RcvBufferSizeOptionToValue: at least 32 packets, at most FC.
                let per_pkt = self.bytes_per_pkt().max(1);
                let pkts = if u64::from(bytes as u32) > u64::from(per_pkt) * u64::from(MIN_FC) {
                    bytes as u32 / per_pkt
                } else {
                    MIN_FC
                };
                self.rcvbuf_pkts = pkts.min(self.fc);
            }
            SockOpt::Linger => match v {
                OptionValue::Linger { onoff, secs } => {
                    // libsrt also keeps l_linger when off and reports it back; we report 0.
                    // A negative time does not linger (libsrt: a deadline in the past).
                    self.linger =
                        onoff.then(|| Duration::from_secs(u64::try_from(*secs).unwrap_or(0)));
                }
                _ => return Err(inval("expects a struct linger")),
            },
            SockOpt::UdpSndBuf => {
                let b = want_i32(opt, v)?;
                self.driver.udp_sndbuf = b.max(self.mss as i32) as u32;
            }
            SockOpt::UdpRcvBuf => {
                let b = want_i32(opt, v)?;
                self.driver.udp_rcvbuf = b.max(self.mss as i32) as u32;
            }
            SockOpt::Rendezvous => self.rendezvous = want_bool(opt, v)?,
            SockOpt::SndTimeo => {
                let t = want_ms(opt, v, -1)?;
                self.driver.sndtimeo = (t >= 0).then(|| ms(t));
            }
            SockOpt::RcvTimeo => {
                let t = want_ms(opt, v, -1)?;
                self.driver.rcvtimeo = (t >= 0).then(|| ms(t));
            }
            SockOpt::ReuseAddr => self.driver.reuseaddr = want_bool(opt, v)?,
            SockOpt::MaxBw => {
                let bw = want_i64(opt, v)?;
                if bw < -1 {
                    return Err(inval("must be -1 or more"));
                }
                self.maxbw = bw;
            }
            SockOpt::Sender => self.sender = want_bool(opt, v)?,
            SockOpt::TsbpdMode => {
                let on = want_bool(opt, v)?;
                if !on && self.cryptomode == CryptoMode::AesGcm {
                    return Err(inval("TSBPD cannot be disabled while AES-GCM is enabled"));
                }
                self.tsbpdmode = on;
            }
            SockOpt::Latency => {
                let l = ms(want_ms(opt, v, 0)?);
                self.rcvlatency = l;
                self.peerlatency = l;
            }
            SockOpt::RcvLatency => self.rcvlatency = ms(want_ms(opt, v, 0)?),
            SockOpt::PeerLatency => self.peerlatency = ms(want_ms(opt, v, 0)?),
            SockOpt::InputBw => {
                let bw = want_i64(opt, v)?;
                if bw < 0 {
                    return Err(inval("must not be negative"));
                }
                self.inputbw = bw;
            }
            SockOpt::MinInputBw => {
                let bw = want_i64(opt, v)?;
                if bw < 0 {
                    return Err(inval("must not be negative"));
                }
                self.mininputbw = bw;
            }
            SockOpt::OheadBw => {
                let p = want_i32(opt, v)?;
                if !(5..=100).contains(&p) {
                    return Err(inval("must be 5..=100 percent"));
                }
                self.oheadbw = p as u8;
            }
            SockOpt::Passphrase => {
                let b = want_bytes(opt, v)?;
                self.passphrase = if b.is_empty() {
                    None
                } else {
                    Some(Passphrase::new(b)?)
                };
            }
            SockOpt::PbKeyLen => {
                let k = want_i32(opt, v)?;
                if !matches!(k, 0 | 16 | 24 | 32) {
                    return Err(inval("allowed are 0, 16, 24, 32"));
                }
                self.pbkeylen = k as u8;
            }
            SockOpt::IpTtl => {
                let t = want_i32(opt, v)?;
                if t != -1 && !(1..=255).contains(&t) {
                    return Err(inval("must be -1 or 1..=255"));
                }
                self.driver.ipttl = t;
            }
            SockOpt::IpTos => self.driver.iptos = want_i32(opt, v)?,
            SockOpt::TlPktDrop => self.tlpktdrop = want_bool(opt, v)?,
            SockOpt::SndDropDelay => {
                let d = want_ms(opt, v, -1)?;
                self.snddropdelay = (d >= 0).then(|| ms(d));
            }
            SockOpt::NakReport => self.nakreport = want_bool(opt, v)?,
            SockOpt::ConnTimeo => self.conntimeo = ms(want_ms(opt, v, 0)?),
            SockOpt::DriftTracer => self.drifttracer = want_bool(opt, v)?,
            SockOpt::LossMaxTtl => self.lossmaxttl = want_i32(opt, v)?,
            SockOpt::MinVersion => self.minversion = want_i32(opt, v)? as u32,
            SockOpt::StreamId => self.streamid = StreamId::new(want_bytes(opt, v)?)?,
            SockOpt::Congestion => {
                self.congestion = Congestion::from_name(want_bytes(opt, v)?)
                    .ok_or_else(|| inval("unknown congestion controller (live, file)"))?;
            }
            SockOpt::MessageApi => self.messageapi = want_bool(opt, v)?,
            SockOpt::PayloadSize => {
                let p = want_i32(opt, v)?;
                if p < 0 {
                    return Err(inval("must not be negative"));
                }
                let p = p as u32;
                if p > LIVE_MAX_PAYLOAD_SIZE {
                    return Err(inval("exceeds 1456, the maximum payload per MTU"));
                }
                if let Some(f) = &self.packetfilter {
                    if p > LIVE_MAX_PAYLOAD_SIZE - f.extra_size() {
                        return Err(inval("exceeds 1456 minus the packet filter's header"));
                    }
                }
                if self.cryptomode == CryptoMode::AesGcm
                    && p > LIVE_MAX_PAYLOAD_SIZE - AEAD_TAG_SIZE
                {
                    return Err(inval("exceeds 1456 minus the AES-GCM tag"));
                }
                self.payloadsize = p;
            }
            SockOpt::TransType => match want_i32(opt, v)? {
                0 => self.apply_transtype(TransType::Live),
                1 => self.apply_transtype(TransType::File),
                _ => return Err(inval("must be SRTT_LIVE (0) or SRTT_FILE (1)")),
            },
            SockOpt::KmRefreshRate => {
                let r = want_i32(opt, v)?;
                if r < 0 {
                    return Err(inval("must not be negative"));
                }
                self.kmrefreshrate = r as u32;
                if self.kmpreannounce != 0 || self.kmrefreshrate != 0 {
                    let refresh = self.effective_km_refresh_rate();
                    let pre = if self.kmpreannounce == 0 {
                        SETTER_DEF_KM_PREANNOUNCE
                    } else {
                        self.kmpreannounce
                    };
                    // libsrt lowers PREANNOUNCE to its maximum rather than refusing.
                    if self.kmpreannounce == 0 || pre > (refresh - 1) / 2 {
                        self.kmpreannounce = (refresh - 1) / 2;
                    }
                }
            }
            SockOpt::KmPreAnnounce => {
                let p = want_i32(opt, v)?;
                if p < 0 {
                    return Err(inval("must not be negative"));
                }
                let pre = if p == 0 {
                    SETTER_DEF_KM_PREANNOUNCE
                } else {
                    p as u32
                };
                if pre > (self.effective_km_refresh_rate() - 1) / 2 {
                    return Err(inval("exceeds (KMREFRESHRATE - 1) / 2"));
                }
                self.kmpreannounce = p as u32;
            }
            SockOpt::EnforcedEncryption => self.enforcedencryption = want_bool(opt, v)?,
            SockOpt::Ipv6Only => self.driver.ipv6only = want_i32(opt, v)?,
            SockOpt::PeerIdleTimeo => self.peeridletimeo = ms(want_ms(opt, v, 0)?),
            SockOpt::BindToDevice => {
                let b = want_bytes(opt, v)?;
                if b.len() >= IFNAMSIZ {
                    return Err(inval("device name too long (IFNAMSIZ)"));
                }
                let name = std::str::from_utf8(b).map_err(|_| inval("device name is not UTF-8"))?;
                self.driver.bindtodevice = name.to_owned();
            }
            SockOpt::GroupConnect => self.groupconnect = want_i32(opt, v)? != 0,
            SockOpt::GroupMinStableTimeo => {
                let t = want_ms(opt, v, MIN_GROUP_STABLE_TIMEO.as_millis() as i32)?;
                if ms(t) > self.peeridletimeo {
                    return Err(inval("exceeds SRTO_PEERIDLETIMEO"));
                }
                self.groupminstabletimeo = ms(t);
            }
            SockOpt::PacketFilter => {
                let f = PacketFilterConfig::parse(want_bytes(opt, v)?)?;
                let max = LIVE_MAX_PAYLOAD_SIZE - f.extra_size();
                // libsrt shrinks the payload size to fit the filter's header.
                self.payloadsize = self.payloadsize.min(max);
                self.packetfilter = Some(f);
            }
            SockOpt::RetransmitAlgo => {
                self.retransmitalgo = match want_i32(opt, v)? {
                    0 => RetransmitAlgo::EveryLoss,
                    1 => RetransmitAlgo::Reduced,
                    _ => return Err(inval("must be 0 or 1")),
                }
            }
            SockOpt::CryptoMode => {
                let mode = match want_i32(opt, v)? {
                    0 => CryptoMode::Auto,
                    1 => CryptoMode::AesCtr,
                    2 => CryptoMode::AesGcm,
                    _ => return Err(inval("must be 0 (auto), 1 (AES-CTR) or 2 (AES-GCM)")),
                };
                if mode == CryptoMode::AesGcm && !self.tsbpdmode {
                    return Err(inval("AES-GCM needs TSBPD"));
                }
                self.cryptomode = mode;
            }
            SockOpt::MaxRexmitBw => {
                let bw = want_i64(opt, v)?;
                if bw < -1 {
                    return Err(inval("must be -1 or more"));
                }
                self.maxrexmitbw = bw;
            }
            // What is left is read only (`Binding::ReadOnly` in the table).
            read_only => {
                debug_assert!(!read_only.is_settable(), "{read_only} has no setter");
                return Err(inval("read-only option"));
            }
        }
        Ok(())
    }

    /// Reads one option as `srt_getsockopt` reports it on a socket that is not connected.
    ///
    /// Once connected, libsrt reports negotiated values for `SRTO_LATENCY`,
    /// `SRTO_RCVLATENCY`, `SRTO_PEERLATENCY`, `SRTO_TLPKTDROP`,
    /// `SRTO_PBKEYLEN`, `SRTO_CRYPTOMODE`, `SRTO_PAYLOADSIZE` (0 ⇒ the
    /// maximum) and the system's `SRTO_IPTTL`/`SRTO_IPTOS`; the connection
    /// answers those, and the state options ([`OptionError::RuntimeState`]).
    pub fn get(&self, opt: SockOpt) -> Result<OptionValue, OptionError> {
        use OptionValue::{Bool, Int, Int64, Str};
        let dur = |d: Duration| Int(ms_i32(d));
        let opt_dur = |d: Option<Duration>| d.map_or(Int(-1), |d| Int(ms_i32(d)));
        // C int arithmetic, as libsrt's getter (wraps on absurd sizes).
        let bytes = |pkts: u32| Int((i64::from(pkts) * i64::from(self.bytes_per_pkt())) as i32);
        Ok(match opt {
            SockOpt::Mss => Int(self.mss as i32),
            SockOpt::SndSyn => Bool(self.driver.sndsyn),
            SockOpt::RcvSyn => Bool(self.driver.rcvsyn),
            SockOpt::Fc => Int(self.fc as i32),
            SockOpt::SndBuf => bytes(self.sndbuf_pkts),
            SockOpt::RcvBuf => bytes(self.rcvbuf_pkts),
            SockOpt::Linger => match self.linger {
                None => OptionValue::Linger {
                    onoff: false,
                    secs: 0,
                },
                Some(d) => OptionValue::Linger {
                    onoff: true,
                    secs: i32::try_from(d.as_secs()).unwrap_or(i32::MAX),
                },
            },
            SockOpt::UdpSndBuf => Int(self.driver.udp_sndbuf as i32),
            SockOpt::UdpRcvBuf => Int(self.driver.udp_rcvbuf as i32),
            SockOpt::Rendezvous => Bool(self.rendezvous),
            SockOpt::SndTimeo => opt_dur(self.driver.sndtimeo),
            SockOpt::RcvTimeo => opt_dur(self.driver.rcvtimeo),
            SockOpt::ReuseAddr => Bool(self.driver.reuseaddr),
            SockOpt::MaxBw => Int64(self.maxbw),
            SockOpt::Sender => Bool(self.sender),
            SockOpt::TsbpdMode => Bool(self.tsbpdmode),
            SockOpt::Latency | SockOpt::RcvLatency => dur(self.rcvlatency),
            SockOpt::PeerLatency => dur(self.peerlatency),
            SockOpt::InputBw => Int64(self.inputbw),
            SockOpt::MinInputBw => Int64(self.mininputbw),
            SockOpt::OheadBw => Int(i32::from(self.oheadbw)),
            SockOpt::PbKeyLen => Int(i32::from(self.pbkeylen)),
            SockOpt::IpTtl => Int(self.driver.ipttl),
            SockOpt::IpTos => Int(self.driver.iptos),
            SockOpt::TlPktDrop => Bool(self.tlpktdrop),
            SockOpt::SndDropDelay => opt_dur(self.snddropdelay),
            SockOpt::NakReport => Bool(self.nakreport),
            SockOpt::Version => Int(SRT_VERSION.0 as i32),
            SockOpt::ConnTimeo => dur(self.conntimeo),
            SockOpt::DriftTracer => Bool(self.drifttracer),
            SockOpt::LossMaxTtl => Int(self.lossmaxttl),
            SockOpt::MinVersion => Int(self.minversion as i32),
            SockOpt::StreamId => Str(self.streamid.as_bytes().to_vec()),
            SockOpt::Congestion => Str(self.congestion.as_str().as_bytes().to_vec()),
            SockOpt::MessageApi => Bool(self.messageapi),
            SockOpt::PayloadSize => Int(self.payloadsize as i32),
            SockOpt::KmRefreshRate => Int(self.kmrefreshrate as i32),
            SockOpt::KmPreAnnounce => Int(self.kmpreannounce as i32),
            SockOpt::EnforcedEncryption => Bool(self.enforcedencryption),
            SockOpt::Ipv6Only => Int(self.driver.ipv6only),
            SockOpt::PeerIdleTimeo => dur(self.peeridletimeo),
            SockOpt::BindToDevice => Str(self.driver.bindtodevice.as_bytes().to_vec()),
            SockOpt::GroupConnect => Int(i32::from(self.groupconnect)),
            SockOpt::GroupMinStableTimeo => dur(self.groupminstabletimeo),
            SockOpt::PacketFilter => Str(self
                .packetfilter
                .as_ref()
                .map_or_else(Vec::new, |f| f.as_str().as_bytes().to_vec())),
            SockOpt::RetransmitAlgo => Int(self.retransmitalgo as i32),
            SockOpt::CryptoMode => Int(self.cryptomode as i32),
            SockOpt::MaxRexmitBw => Int64(self.maxrexmitbw),
            // Not in libsrt's getOpt: MJ_NOTSUP/MN_NONE.
            SockOpt::Passphrase | SockOpt::TransType => return Err(OptionError::InvalidOp(opt)),
            SockOpt::Isn
            | SockOpt::State
            | SockOpt::Event
            | SockOpt::SndData
            | SockOpt::RcvData
            | SockOpt::KmState
            | SockOpt::PeerVersion
            | SockOpt::SndKmState
            | SockOpt::RcvKmState
            | SockOpt::GroupType => return Err(OptionError::RuntimeState(opt)),
        })
    }

    // ----- whole-struct checks -----

    /// `srt_bind` checks: binding to the IPv6 wildcard `::` needs `SRTO_IPV6ONLY` set (`api.cpp`).
    pub fn validate_for_bind(&self, ipv6_wildcard: bool) -> Result<(), OptionError> {
        if ipv6_wildcard && self.driver.ipv6only == -1 {
            return Err(OptionError::invalid(
                SockOpt::Ipv6Only,
                "binding to :: needs SRTO_IPV6ONLY set to 0 or 1",
            ));
        }
        self.validate()
    }

    /// `srt_connect` checks (`CUDTUnited::connectIn`), then [`validate`](Self::validate).
    pub fn validate_for_connect(&self, phase: SocketPhase) -> Result<(), OptionError> {
        match phase {
            SocketPhase::Fresh if self.rendezvous => return Err(OptionError::RendezvousUnbound),
            SocketPhase::Fresh | SocketPhase::Bound => {}
            SocketPhase::Broken => return Err(OptionError::SocketClosed),
            SocketPhase::Connecting | SocketPhase::Connected | SocketPhase::Listening => {
                return Err(OptionError::AlreadyConnected)
            }
        }
        self.validate()
    }

    /// `srt_listen` checks (`CUDTUnited::listen`), then [`validate`](Self::validate).
    pub fn validate_for_listen(&self, phase: SocketPhase) -> Result<(), OptionError> {
        if self.rendezvous {
            return Err(OptionError::RendezvousListen);
        }
        match phase {
            SocketPhase::Fresh => return Err(OptionError::Unbound),
            SocketPhase::Bound | SocketPhase::Listening => {}
            SocketPhase::Connecting | SocketPhase::Connected => {
                return Err(OptionError::AlreadyConnected)
            }
            SocketPhase::Broken => return Err(OptionError::SocketClosed),
        }
        self.validate()
    }
}
