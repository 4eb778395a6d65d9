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
    /// Checks `type[,key:value...]` as libsrt does at set time (with the one
    /// parser, [`FilterConfig::parse`](crate::filter::FilterConfig::parse)):
    /// type `fec`, keys `cols` (≥ 2), `rows` (≥ 1 or ≤ −2), `layout`
    /// (`even`|`staircase`), `arq` (`never`|`onreq`|`always`); at most 64
    /// bytes. Unlike libsrt, `cols` and `|rows|` above 255 are refused here
    /// (libsrt sizes its matrix from them without a bound).
    pub fn parse(text: impl AsRef<[u8]>) -> Result<Self, OptionError> {
        use crate::filter::FilterConfigError as E;
        let err = |reason| OptionError::invalid(SockOpt::PacketFilter, reason);
        let bytes = text.as_ref();
        if bytes.len() > MAX_PACKETFILTER_LEN {
            // libsrt silently keeps the old value here (StringStorage<64>::set fails).
            return Err(err("longer than 64 bytes"));
        }
        let s = std::str::from_utf8(bytes).map_err(|_| err("not UTF-8"))?;
        crate::filter::FilterConfig::parse(s).map_err(|e| {
            err(match e {
                E::Empty => "empty (libsrt cannot clear a filter)",
                E::TooLong => "longer than 64 bytes",
                E::NotKeyValue(_) => "expected key:value",
                E::UnknownType(_) => "unknown filter type (only the builtin \"fec\")",
                E::Layout => "layout must be even or staircase",
                E::Cols | E::ColsMissing => "cols must be > 1",
                E::Rows => "rows must be >= 1 or < -1",
                E::Arq(_) => "arq must be never, onreq or always",
                E::ExtraParameters => "extra parameters; allowed only cols, rows, layout, arq",
                E::TooLarge => "cols and |rows| must be at most 255",
            })
        })?;
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
