//! Typed values of the options that are not plain numbers: the congestion
//! controller, cipher mode, retransmission policy, passphrase, stream ID and
//! packet filter configuration, each checked as libsrt's setter checks it.

use super::{OptionError, SockOpt};
use super::{
    FEC_EXTRA_SIZE, MAX_PACKETFILTER_LEN, MAX_PASSPHRASE_LEN, MAX_STREAMID_LEN, MIN_PASSPHRASE_LEN,
};
use std::fmt;

/// Congestion controller (`SRTO_CONGESTION`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Congestion {
    /// `"live"`: pacing at a fixed maximum rate.
    Live,
    /// `"file"` (alias `"vod"`): UDT's AIMD.
    File,
}

impl Congestion {
    /// The name carried in the handshake's congestion block.
    pub const fn as_str(self) -> &'static str {
        match self {
            Congestion::Live => "live",
            Congestion::File => "file",
        }
    }

    /// Parses a name as libsrt's setter does (exact bytes; `"vod"` means file).
    pub fn from_name(name: &[u8]) -> Option<Self> {
        match name {
            b"live" => Some(Congestion::Live),
            b"file" | b"vod" => Some(Congestion::File),
            _ => None,
        }
    }
}

/// Cipher selection (`SRTO_CRYPTOMODE`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CryptoMode {
    /// 0: AES-CTR as initiator; follow the KMREQ as responder.
    Auto = 0,
    /// 1: AES-CTR.
    AesCtr = 1,
    /// 2: AES-GCM (needs TSBPD).
    AesGcm = 2,
}

/// Retransmission policy (`SRTO_RETRANSMITALGO`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RetransmitAlgo {
    /// 0: resend on every loss report.
    EveryLoss = 0,
    /// 1: resend a packet at most once per RTT (live default).
    Reduced = 1,
}

/// A copy of a string option's bytes, refused with `reason` unless their length lies in `len`.
fn bytes_within(
    opt: SockOpt,
    bytes: &[u8],
    len: std::ops::RangeInclusive<usize>,
    reason: &'static str,
) -> Result<Vec<u8>, OptionError> {
    if !len.contains(&bytes.len()) {
        return Err(OptionError::invalid(opt, reason));
    }
    Ok(bytes.to_vec())
}

/// An encryption passphrase, 10 to 80 bytes. `Debug` does not show it; dropping it overwrites it.
#[derive(Clone, PartialEq, Eq)]
pub struct Passphrase(Vec<u8>);

impl Passphrase {
    /// A passphrase of 10 to 80 bytes (libsrt: `socketconfig.cpp` SRTO_PASSPHRASE).
    pub fn new(bytes: impl AsRef<[u8]>) -> Result<Self, OptionError> {
        bytes_within(
            SockOpt::Passphrase,
            bytes.as_ref(),
            MIN_PASSPHRASE_LEN..=MAX_PASSPHRASE_LEN,
            "length must be 10..=80 bytes, or 0 to clear",
        )
        .map(Passphrase)
    }

    /// The secret bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Passphrase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Passphrase(<redacted>)")
    }
}

impl Drop for Passphrase {
    fn drop(&mut self) {
        // Best effort without `unsafe`: black_box keeps the stores alive.
        self.0.iter_mut().for_each(|b| *b = 0);
        std::hint::black_box(&self.0);
    }
}

/// A stream ID (`SRTO_STREAMID`): up to 512 opaque bytes, usually UTF-8.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct StreamId(Vec<u8>);

impl StreamId {
    /// A stream ID of at most 512 bytes.
    pub fn new(bytes: impl AsRef<[u8]>) -> Result<Self, OptionError> {
        bytes_within(
            SockOpt::StreamId,
            bytes.as_ref(),
            0..=MAX_STREAMID_LEN,
            "longer than 512 bytes",
        )
        .map(StreamId)
    }

    /// The bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The text, if it is UTF-8.
    pub fn as_str(&self) -> Option<&str> {
        std::str::from_utf8(&self.0).ok()
    }

    /// Whether no stream ID is set.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StreamId({:?})", String::from_utf8_lossy(&self.0))
    }
}

/// A packet filter configuration (`SRTO_PACKETFILTER`) that passed libsrt's
/// parse and the builtin FEC filter's `verifyConfig`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PacketFilterConfig(String);

impl PacketFilterConfig {
    /// Checks `type[,key:value...]` as libsrt does at set time: type `fec`,
    /// keys `cols` (≥ 2), `rows` (≥ 1 or ≤ −2), `layout` (`even`|`staircase`),
    /// `arq` (`never`|`onreq`|`always`); at most 64 bytes.
    pub fn parse(text: impl AsRef<[u8]>) -> Result<Self, OptionError> {
        let err = |reason| OptionError::invalid(SockOpt::PacketFilter, reason);
        let bytes = text.as_ref();
        if bytes.len() > MAX_PACKETFILTER_LEN {
            // libsrt silently keeps the old value here (StringStorage<64>::set fails).
            return Err(err("longer than 64 bytes"));
        }
        let s = std::str::from_utf8(bytes).map_err(|_| err("not UTF-8"))?;
        if s.is_empty() {
            return Err(err("empty (libsrt cannot clear a filter)"));
        }
        let mut parts = s.split(',');
        let ty = parts.next().unwrap_or_default();
        if ty != "fec" {
            return Err(err("unknown filter type (only the builtin \"fec\")"));
        }
        let (mut cols, mut rows, mut layout, mut arq) = (None, None, None, None);
        for part in parts {
            let mut kv = part.split(':');
            let (Some(k), Some(v), None) = (kv.next(), kv.next(), kv.next()) else {
                return Err(err("expected key:value"));
            };
            if v.is_empty() {
                continue; // libsrt ignores empty values
            }
            match k {
                "cols" => cols = Some(c_atoi(v)),
                "rows" => rows = Some(c_atoi(v)),
                "layout" => layout = Some(v),
                "arq" => arq = Some(v),
                _ => {
                    return Err(err(
                        "extra parameters; allowed only cols, rows, layout, arq",
                    ))
                }
            }
        }
        if !matches!(layout, None | Some("even") | Some("staircase")) {
            return Err(err("layout must be even or staircase"));
        }
        if cols.is_some_and(|c| c < 2) {
            return Err(err("cols must be > 1"));
        }
        if rows.is_some_and(|r| (-1..1).contains(&r)) {
            return Err(err("rows must be >= 1 or < -1"));
        }
        if !matches!(arq, None | Some("never") | Some("onreq") | Some("always")) {
            return Err(err("arq must be never, onreq or always"));
        }
        Ok(PacketFilterConfig(s.to_owned()))
    }

    /// The configuration text as set.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Payload bytes the filter takes from every packet.
    pub const fn extra_size(&self) -> u32 {
        FEC_EXTRA_SIZE
    }
}

/// C `atoi` with saturation instead of overflow: optional whitespace and
/// sign, then digits up to the first other character.
pub(crate) fn c_atoi(s: &str) -> i64 {
    let t = s.trim_start();
    let (neg, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let mut n: i64 = 0;
    for c in digits.bytes().take_while(u8::is_ascii_digit) {
        n = n.saturating_mul(10).saturating_add(i64::from(c - b'0'));
    }
    if neg {
        -n
    } else {
        n
    }
}
