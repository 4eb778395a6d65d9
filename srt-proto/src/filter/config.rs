//! `SRTO_PACKETFILTER` configuration strings: parsing, the builtin FEC
//! filter's checks and defaults, and the handshake negotiation.
//!
//! The behaviour is libsrt 1.5's: `SrtParseConfig` (common.cpp),
//! `FECFilterBuiltin::verifyConfig` and its constructor (fec.cpp),
//! `PacketFilter::CheckFilterCompat` (packetfilter.cpp) and
//! `CUDT::checkApplyFilterConfig` plus the missing-filter rules of
//! `interpretSrtHandshake` (core.cpp).

use std::collections::BTreeMap;
use std::fmt;

use crate::options::types::c_atoi;
use crate::options::{FEC_EXTRA_SIZE, LIVE_MAX_PAYLOAD_SIZE, MAX_PACKETFILTER_LEN};
use crate::packet::RejectReason;

/// The builtin FEC filter's default configuration (`FECFilterBuiltin::defaultConfig`).
pub const FEC_DEFAULT_CONFIG: &str = "fec,rows:1,layout:staircase,arq:onreq";

/// The largest `cols` this implementation accepts.
///
/// libsrt puts the column index in a signed byte of the FEC packet, where
/// 255 reads as −1 (a row packet), and sizes its matrix from `cols × rows`
/// without any bound; this crate refuses what would be misread or unbounded.
pub const FEC_MAX_COLS: u32 = 255;

/// The largest `|rows|` this implementation accepts (see [`FEC_MAX_COLS`]).
pub const FEC_MAX_ROWS: u32 = 255;

/// Why a filter configuration string was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FilterConfigError {
    /// Empty string: libsrt's parser finds no type.
    #[error("empty packet filter configuration")]
    Empty,
    /// Longer than `MAX_PFILTER_LENGTH` (64) bytes.
    #[error("packet filter configuration longer than {MAX_PACKETFILTER_LEN} bytes")]
    TooLong,
    /// A `key:value` part without exactly one colon.
    #[error("packet filter configuration: '{0}' is not key:value")]
    NotKeyValue(String),
    /// A type other than the builtin `fec`.
    #[error("unknown packet filter type '{0}'")]
    UnknownType(String),
    /// `layout` other than `even` or `staircase` (libsrt's text).
    #[error("value for 'layout' must be 'even' or 'staircase'")]
    Layout,
    /// `cols` below 2 (libsrt's text).
    #[error("at least 'cols' must be specified and > 1")]
    Cols,
    /// `rows` in −1..=0 (libsrt's text).
    #[error("'rows' must be >=1 or negative < -1")]
    Rows,
    /// `arq` other than `never`, `onreq`, `always` (libsrt's text).
    #[error("'arq' value '{0}' invalid. Allowed: never, onreq, always")]
    Arq(String),
    /// A key libsrt's FEC does not know (libsrt's text).
    #[error("Extra parameters. Allowed only: cols, rows, layout, arq")]
    ExtraParameters,
    /// No `cols` when the filter is created (libsrt's constructor).
    #[error("FEC filter config: parameter 'cols' is mandatory")]
    ColsMissing,
    /// `cols` or `|rows|` above [`FEC_MAX_COLS`] / [`FEC_MAX_ROWS`].
    #[error("FEC matrix too large: cols <= {FEC_MAX_COLS} and |rows| <= {FEC_MAX_ROWS}")]
    TooLarge,
}

/// A parsed `type,key:value,...` string (libsrt's `SrtFilterConfig`).
///
/// Keys are kept sorted, as libsrt's `std::map`, so [`Display`](fmt::Display)
/// writes the string libsrt would write after a negotiation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FilterConfig {
    /// The filter type, e.g. `fec`.
    pub kind: String,
    /// The parameters; empty values are left out, a repeated key keeps the last value.
    pub params: BTreeMap<String, String>,
}

impl FilterConfig {
    /// Parses as libsrt's `SrtParseConfig` (any type, no value checks).
    pub fn parse_any(text: &str) -> Result<Self, FilterConfigError> {
        if text.is_empty() {
            return Err(FilterConfigError::Empty);
        }
        let mut parts = text.split(',');
        let kind = parts.next().unwrap_or_default().to_owned();
        let mut params = BTreeMap::new();
        for part in parts {
            let mut kv = part.split(':');
            let (Some(k), Some(v), None) = (kv.next(), kv.next(), kv.next()) else {
                return Err(FilterConfigError::NotKeyValue(part.to_owned()));
            };
            if !v.is_empty() {
                params.insert(k.to_owned(), v.to_owned());
            }
        }
        Ok(FilterConfig { kind, params })
    }

    /// Parses and checks as libsrt does when `SRTO_PACKETFILTER` is set:
    /// at most 64 bytes, a known type (`fec`), and `verifyConfig`.
    pub fn parse(text: &str) -> Result<Self, FilterConfigError> {
        if text.len() > MAX_PACKETFILTER_LEN {
            return Err(FilterConfigError::TooLong);
        }
        let cfg = Self::parse_any(text)?;
        if cfg.kind != "fec" {
            return Err(FilterConfigError::UnknownType(cfg.kind));
        }
        verify_fec(&cfg)?;
        Ok(cfg)
    }

    fn get(&self, key: &str) -> Option<&str> {
        self.params.get(key).map(String::as_str)
    }
}

impl fmt::Display for FilterConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.kind)?;
        for (k, v) in &self.params {
            write!(f, ",{k}:{v}")?;
        }
        Ok(())
    }
}

/// `FECFilterBuiltin::verifyConfig`: the checks libsrt makes when the option is set.
fn verify_fec(cfg: &FilterConfig) -> Result<(), FilterConfigError> {
    if !matches!(cfg.get("layout"), None | Some("even" | "staircase")) {
        return Err(FilterConfigError::Layout);
    }
    if let Some(c) = cfg.get("cols") {
        let c = c_atoi(c);
        if c < 2 {
            return Err(FilterConfigError::Cols);
        }
        if c > i64::from(FEC_MAX_COLS) {
            return Err(FilterConfigError::TooLarge);
        }
    }
    if let Some(r) = cfg.get("rows") {
        let r = c_atoi(r);
        if (-1..1).contains(&r) {
            return Err(FilterConfigError::Rows);
        }
        if r.unsigned_abs() > u64::from(FEC_MAX_ROWS) {
            return Err(FilterConfigError::TooLarge);
        }
    }
    if let Some(a) = cfg.get("arq") {
        if !matches!(a, "never" | "onreq" | "always") {
            return Err(FilterConfigError::Arq(a.to_owned()));
        }
    }
    if cfg
        .params
        .keys()
        .any(|k| !matches!(k.as_str(), "cols" | "rows" | "layout" | "arq"))
    {
        return Err(FilterConfigError::ExtraParameters);
    }
    Ok(())
}

/// How column groups are placed in the FEC matrix.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FecLayout {
    /// Every column group starts in the matrix's first row.
    Even,
    /// Column `c` starts `c % rows` rows down (libsrt's default).
    Staircase,
}

/// When the receiver asks for retransmission (libsrt's `SRT_ARQLevel`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ArqLevel {
    /// Never send a loss report: FEC only (`SRT_ARQ_NEVER`).
    Never,
    /// Report only what FEC cannot rebuild (`SRT_ARQ_ONREQ`, the default).
    OnRequest,
    /// Report every loss at once, as without a filter (`SRT_ARQ_ALWAYS`).
    Always,
}

/// A checked builtin-FEC configuration, as `FECFilterBuiltin`'s constructor reads it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FecConfig {
    /// Packets in a row group (`cols`), 2 ..= [`FEC_MAX_COLS`].
    pub cols: u32,
    /// Packets in a column group (`|rows|`), 1 ..= [`FEC_MAX_ROWS`]; 1 = rows only.
    pub rows: u32,
    /// `rows` was negative: column groups only, no row FEC packets.
    pub cols_only: bool,
    /// Column placement.
    pub layout: FecLayout,
    /// Retransmission policy.
    pub arq: ArqLevel,
}

impl FecConfig {
    /// Parses a full configuration string (checks of [`FilterConfig::parse`],
    /// then `cols` is mandatory) into the filter's parameters.
    pub fn parse(text: &str) -> Result<Self, FilterConfigError> {
        Self::from_config(&FilterConfig::parse(text)?)
    }

    /// Reads a parsed configuration as libsrt's constructor does: defaults
    /// `rows:1`, `layout:staircase`, `arq:onreq`; `cols` mandatory.
    pub fn from_config(cfg: &FilterConfig) -> Result<Self, FilterConfigError> {
        if cfg.kind != "fec" {
            return Err(FilterConfigError::UnknownType(cfg.kind.clone()));
        }
        verify_fec(cfg)?;
        let cols = cfg.get("cols").ok_or(FilterConfigError::ColsMissing)?;
        // verify_fec bounded both values.
        let cols = c_atoi(cols) as u32;
        let rows = cfg.get("rows").map_or(1, c_atoi);
        let layout = match cfg.get("layout") {
            Some("even") => FecLayout::Even,
            _ => FecLayout::Staircase,
        };
        let arq = match cfg.get("arq") {
            Some("never") => ArqLevel::Never,
            Some("always") => ArqLevel::Always,
            _ => ArqLevel::OnRequest,
        };
        Ok(FecConfig {
            cols,
            rows: rows.unsigned_abs() as u32,
            cols_only: rows < 0,
            layout,
            arq,
        })
    }

    /// Checks a configuration built by hand: `cols` 2 ..= 255, `rows`
    /// 1 ..= 255, and at least 2 rows when columns only.
    pub fn validate(&self) -> Result<(), FilterConfigError> {
        if self.cols < 2 {
            return Err(FilterConfigError::Cols);
        }
        if self.rows == 0 || (self.cols_only && self.rows < 2) {
            return Err(FilterConfigError::Rows);
        }
        if self.cols > FEC_MAX_COLS || self.rows > FEC_MAX_ROWS {
            return Err(FilterConfigError::TooLarge);
        }
        Ok(())
    }

    /// Whether there are column groups (`|rows| > 1`).
    pub const fn has_columns(&self) -> bool {
        self.rows > 1
    }

    /// Packets in one matrix (`cols × |rows|`).
    pub const fn matrix_size(&self) -> u32 {
        self.cols * self.rows
    }
}

/// Payload bytes the builtin FEC takes from every packet (`EXTRA_SIZE`).
pub const fn extra_size() -> u32 {
    FEC_EXTRA_SIZE
}

/// The payload size once a filter is agreed: libsrt lowers a larger
/// `SRTO_PAYLOADSIZE` to 1456 minus the filter's extra bytes.
pub const fn limit_payload_size(payload_size: u32) -> u32 {
    let max = LIVE_MAX_PAYLOAD_SIZE - FEC_EXTRA_SIZE;
    if payload_size > max {
        max
    } else {
        payload_size
    }
}

/// Which side of the handshake this socket is (libsrt's `HandshakeSide`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HsSide {
    /// The caller (or the rendezvous side that initiates).
    Initiator,
    /// The listener (or the rendezvous side that responds).
    Responder,
}

/// Why a handshake's filter configurations do not agree (all `SRT_REJ_FILTER`).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FilterNegotiationError {
    /// The peer's string does not parse or names an unknown type.
    #[error("peer's packet filter configuration refused: {0}")]
    PeerConfig(FilterConfigError),
    /// Our own string does not parse (it was checked when set, so only by hand).
    #[error("own packet filter configuration refused: {0}")]
    OwnConfig(FilterConfigError),
    /// Rendezvous: both strings must be identical.
    #[error("rendezvous peers must use identical packet filter configurations")]
    RendezvousMismatch,
    /// Different filter types.
    #[error("packet filter types differ ('{ours}' here, '{theirs}' at the peer)")]
    TypeMismatch {
        /// Our type.
        ours: String,
        /// The peer's type.
        theirs: String,
    },
    /// Both sides set one key to different values.
    #[error("packet filter parameter '{key}' collides ('{ours}' here, '{theirs}' at the peer)")]
    Collision {
        /// The key.
        key: String,
        /// Our value.
        ours: String,
        /// The peer's value.
        theirs: String,
    },
    /// We are the caller, set a filter, and the listener answered without one.
    #[error("packet filter configured but the peer answered without one")]
    PeerWithoutFilter,
    /// The agreed configuration cannot make a filter (e.g. no `cols` on either side).
    #[error("agreed packet filter configuration unusable: {0}")]
    Unusable(FilterConfigError),
}

impl FilterNegotiationError {
    /// The handshake rejection this error causes: always `SRT_REJ_FILTER`.
    pub const fn reject_reason(&self) -> RejectReason {
        RejectReason::Filter
    }
}

/// A packet filter both sides agreed on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AgreedFilter {
    /// The configuration string this side now holds (and a listener sends back).
    pub text: String,
    /// Its FEC parameters.
    pub fec: FecConfig,
}

/// `PacketFilter::CheckFilterCompat`: merges the peer's parameters into
/// ours (each side's missing keys taken from the other, then libsrt's
/// defaults for keys neither set), refusing a key both set differently.
pub fn check_filter_compat(
    agent: &mut FilterConfig,
    peer: &FilterConfig,
) -> Result<(), FilterNegotiationError> {
    if agent.kind != "fec" {
        return Err(FilterNegotiationError::OwnConfig(
            FilterConfigError::UnknownType(agent.kind.clone()),
        ));
    }
    for (k, theirs) in &peer.params {
        match agent.params.get(k) {
            Some(ours) if ours != theirs => {
                return Err(FilterNegotiationError::Collision {
                    key: k.clone(),
                    ours: ours.clone(),
                    theirs: theirs.clone(),
                })
            }
            Some(_) => {}
            None => {
                agent.params.insert(k.clone(), theirs.clone());
            }
        }
    }
    let defaults = FilterConfig::parse_any(FEC_DEFAULT_CONFIG)
        .expect("the builtin default configuration parses");
    for (k, v) in defaults.params {
        agent.params.entry(k).or_insert(v);
    }
    Ok(())
}

/// The filter a connection ends up with, given this side's `SRTO_PACKETFILTER`
/// (`ours`), the FILTER handshake extension the peer sent (`theirs`), the
/// side, and whether it is a rendezvous; libsrt's `checkApplyFilterConfig`
/// and the missing-extension rules of `interpretSrtHandshake`:
///
/// - neither side: no filter;
/// - only the peer: adopt its string as is;
/// - only us: a responder keeps its own (and sends it back, as libsrt
///   1.5.1 does), an initiator is refused;
/// - both: types must match (and the strings, in rendezvous); an initiator
///   takes the responder's values over its own; a responder merges with
///   [`check_filter_compat`] and refuses collisions.
///
/// The result must then make a filter ([`FecConfig::from_config`], e.g.
/// `cols` present), as libsrt's filter creation requires; every failure is
/// `SRT_REJ_FILTER`.
pub fn negotiate(
    ours: Option<&str>,
    theirs: Option<&str>,
    side: HsSide,
    rendezvous: bool,
) -> Result<Option<AgreedFilter>, FilterNegotiationError> {
    let ours = ours.filter(|s| !s.is_empty());
    let Some(theirs) = theirs else {
        return match (ours, side) {
            (None, _) => Ok(None),
            (Some(_), HsSide::Initiator) => Err(FilterNegotiationError::PeerWithoutFilter),
            // libsrt 1.5.1's listener keeps its filter and sends it back;
            // a filter-capable caller without one adopts it (observed
            // through the C API: both sides then read the listener's).
            (Some(ours), HsSide::Responder) => {
                let fec = FilterConfig::parse_any(ours)
                    .and_then(|c| FecConfig::from_config(&c))
                    .map_err(FilterNegotiationError::Unusable)?;
                Ok(Some(AgreedFilter {
                    text: ours.to_owned(),
                    fec,
                }))
            }
        };
    };
    if theirs.is_empty() || theirs.len() > MAX_PACKETFILTER_LEN {
        // The handshake block is 1..=64 bytes; libsrt refuses others.
        return Err(FilterNegotiationError::PeerConfig(if theirs.is_empty() {
            FilterConfigError::Empty
        } else {
            FilterConfigError::TooLong
        }));
    }
    let peer = FilterConfig::parse_any(theirs).map_err(FilterNegotiationError::PeerConfig)?;
    if peer.kind != "fec" {
        return Err(FilterNegotiationError::PeerConfig(
            FilterConfigError::UnknownType(peer.kind),
        ));
    }
    let text = match ours {
        None => theirs.to_owned(),
        Some(ours) => {
            if rendezvous && ours != theirs {
                return Err(FilterNegotiationError::RendezvousMismatch);
            }
            let mut mine =
                FilterConfig::parse_any(ours).map_err(FilterNegotiationError::OwnConfig)?;
            if mine.kind != peer.kind {
                return Err(FilterNegotiationError::TypeMismatch {
                    ours: mine.kind,
                    theirs: peer.kind,
                });
            }
            match side {
                HsSide::Initiator => {
                    for (k, v) in peer.params {
                        mine.params.insert(k, v);
                    }
                }
                HsSide::Responder => check_filter_compat(&mut mine, &peer)?,
            }
            mine.to_string()
        }
    };
    if text.len() > MAX_PACKETFILTER_LEN {
        // A merge of two long strings: the FILTER block cannot carry it back.
        return Err(FilterNegotiationError::Unusable(FilterConfigError::TooLong));
    }
    let fec = FilterConfig::parse_any(&text)
        .and_then(|c| FecConfig::from_config(&c))
        .map_err(FilterNegotiationError::Unusable)?;
    Ok(Some(AgreedFilter { text, fec }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::PacketFilterConfig;

    #[test]
    fn parses_with_libsrt_defaults() {
        let c = FecConfig::parse("fec,cols:10,rows:5,layout:staircase,arq:onreq").unwrap();
        assert_eq!(
            c,
            FecConfig {
                cols: 10,
                rows: 5,
                cols_only: false,
                layout: FecLayout::Staircase,
                arq: ArqLevel::OnRequest
            }
        );
        let c = FecConfig::parse("fec,cols:4").unwrap();
        assert_eq!(
            (c.rows, c.cols_only, c.layout, c.arq),
            (1, false, FecLayout::Staircase, ArqLevel::OnRequest)
        );
        assert!(!c.has_columns());
        let c = FecConfig::parse("fec,cols:4,rows:-3,layout:even,arq:never").unwrap();
        assert_eq!(
            (c.rows, c.cols_only, c.layout, c.arq),
            (3, true, FecLayout::Even, ArqLevel::Never)
        );
        assert_eq!(c.matrix_size(), 12);
        assert_eq!(
            FecConfig::parse("fec,cols:3,arq:always").unwrap().arq,
            ArqLevel::Always
        );
        // atoi reads a leading number; an empty value counts as unset; the last repeat wins.
        assert_eq!(FecConfig::parse("fec,cols:7x").unwrap().cols, 7);
        assert_eq!(FecConfig::parse("fec,cols:2,rows:,cols:9").unwrap().cols, 9);
    }

    #[test]
    fn refuses_as_libsrt_with_its_texts() {
        use FilterConfigError as E;
        let table: &[(&str, E)] = &[
            ("", E::Empty),
            ("xor,cols:2", E::UnknownType("xor".into())),
            ("fec,cols", E::NotKeyValue("cols".into())),
            ("fec,cols:2:3", E::NotKeyValue("cols:2:3".into())),
            ("fec,cols:1", E::Cols),
            ("fec,cols:abc", E::Cols),
            ("fec,cols:4,rows:0", E::Rows),
            ("fec,cols:4,rows:-1", E::Rows),
            ("fec,cols:4,layout:odd", E::Layout),
            ("fec,cols:4,arq:sometimes", E::Arq("sometimes".into())),
            ("fec,cols:4,depth:2", E::ExtraParameters),
            ("fec,cols:256", E::TooLarge),
            ("fec,cols:99999999999999999999999", E::TooLarge),
            ("fec,cols:4,rows:-300", E::TooLarge),
            (
                "fec,cols:10,rows:5,layout:staircase,arq:onreq,xxxxxxxxxxxxxxxxxxxxxxxxxx",
                E::TooLong,
            ),
        ];
        for (text, want) in table {
            assert_eq!(FecConfig::parse(text).as_ref(), Err(want), "{text}");
        }
        assert_eq!(
            E::Arq("x".into()).to_string(),
            "'arq' value 'x' invalid. Allowed: never, onreq, always"
        );
        assert_eq!(E::Rows.to_string(), "'rows' must be >=1 or negative < -1");
        // Set-time check passes without cols; making the filter needs it.
        assert!(FilterConfig::parse("fec,rows:5").is_ok());
        assert_eq!(FecConfig::parse("fec,rows:5"), Err(E::ColsMissing));
    }

    #[test]
    fn the_option_uses_this_parser() {
        for text in [
            "fec",
            "fec,cols:10,rows:5",
            "fec,cols:2,rows:-2,layout:even,arq:always",
        ] {
            assert!(PacketFilterConfig::parse(text).is_ok(), "{text}");
        }
        for text in [
            "fec,cols:1",
            "fec,rows:-1",
            "fec,foo:1",
            "xor",
            "fec,cols:256",
            "",
        ] {
            assert!(PacketFilterConfig::parse(text).is_err(), "{text}");
        }
    }

    #[test]
    fn display_is_libsrt_serialisation() {
        let c = FilterConfig::parse("fec,rows:5,cols:10,arq:never").unwrap();
        assert_eq!(c.to_string(), "fec,arq:never,cols:10,rows:5");
    }

    #[test]
    fn payload_size_reduced_by_the_extra_bytes() {
        assert_eq!(extra_size(), 4);
        assert_eq!(limit_payload_size(1456), 1452);
        assert_eq!(limit_payload_size(1316), 1316);
    }

    /// (ours, theirs, side, rendezvous) → agreed text or refusal.
    #[test]
    fn negotiation_table() {
        use HsSide::{Initiator as I, Responder as R};
        type Row = (
            Option<&'static str>,
            Option<&'static str>,
            HsSide,
            bool,
            Result<Option<&'static str>, ()>,
        );
        let table: &[Row] = &[
            (None, None, R, false, Ok(None)),
            (None, None, I, false, Ok(None)),
            // A listener without a filter adopts the caller's as is.
            (
                None,
                Some("fec,cols:10,rows:5"),
                R,
                false,
                Ok(Some("fec,cols:10,rows:5")),
            ),
            // A caller without a filter adopts the listener's answer.
            (
                None,
                Some("fec,arq:onreq,cols:4,layout:staircase,rows:1"),
                I,
                false,
                Ok(Some("fec,arq:onreq,cols:4,layout:staircase,rows:1")),
            ),
            // Listener with a filter, caller without: the listener keeps
            // it and sends it back (libsrt 1.5.1, through the C API).
            (Some("fec,cols:4"), None, R, false, Ok(Some("fec,cols:4"))),
            (Some("fec,rows:5"), None, R, false, Err(())),
            // Caller with a filter, listener answered without: refused.
            (Some("fec,cols:4"), None, I, false, Err(())),
            // Both: merged, defaults filled, keys sorted.
            (
                Some("fec,cols:10"),
                Some("fec,cols:10,rows:5"),
                R,
                false,
                Ok(Some("fec,arq:onreq,cols:10,layout:staircase,rows:5")),
            ),
            (
                Some("fec,rows:5,layout:even"),
                Some("fec,cols:8"),
                R,
                false,
                Ok(Some("fec,arq:onreq,cols:8,layout:even,rows:5")),
            ),
            // Both set a key differently: SRT_REJ_FILTER (string comparison, as libsrt).
            (Some("fec,cols:10"), Some("fec,cols:8"), R, false, Err(())),
            (Some("fec,cols:10"), Some("fec,cols:010"), R, false, Err(())),
            (
                Some("fec,cols:4,arq:always"),
                Some("fec,cols:4,arq:never"),
                R,
                false,
                Err(()),
            ),
            // The caller takes the listener's values over its own.
            (
                Some("fec,cols:10,rows:2"),
                Some("fec,arq:onreq,cols:10,layout:staircase,rows:5"),
                I,
                false,
                Ok(Some("fec,arq:onreq,cols:10,layout:staircase,rows:5")),
            ),
            // Neither side gave cols: the filter cannot be made.
            (
                Some("fec,rows:5"),
                Some("fec,layout:even"),
                R,
                false,
                Err(()),
            ),
            (None, Some("fec"), R, false, Err(())),
            // Peer's string unparsable or of an unknown type.
            (None, Some("fec,cols"), R, false, Err(())),
            (Some("fec,cols:4"), Some("xor,cols:4"), R, false, Err(())),
            (None, Some(""), R, false, Err(())),
            // A merge too long for the 64-byte FILTER block.
            (
                Some("fec,cols:0000000000000000000000000010,rows:2"),
                Some("fec,layout:staircase,arq:always"),
                R,
                false,
                Err(()),
            ),
            // Rendezvous: identical strings only.
            (
                Some("fec,cols:4"),
                Some("fec,cols:4"),
                I,
                true,
                Ok(Some("fec,cols:4")),
            ),
            (
                Some("fec,cols:4"),
                Some("fec,cols:4,rows:1"),
                R,
                true,
                Err(()),
            ),
        ];
        for (ours, theirs, side, rdv, want) in table {
            let got = negotiate(*ours, *theirs, *side, *rdv);
            match (want, &got) {
                (Ok(w), Ok(g)) => assert_eq!(
                    g.as_ref().map(|a| a.text.as_str()),
                    *w,
                    "{ours:?} {theirs:?}"
                ),
                (Err(()), Err(e)) => assert_eq!(e.reject_reason(), RejectReason::Filter),
                _ => panic!("{ours:?} × {theirs:?} ({side:?}, rdv {rdv}): got {got:?}"),
            }
        }
        let e = negotiate(
            Some("fec,cols:10"),
            Some("fec,cols:8"),
            HsSide::Responder,
            false,
        )
        .unwrap_err();
        assert_eq!(
            e,
            FilterNegotiationError::Collision {
                key: "cols".into(),
                ours: "10".into(),
                theirs: "8".into()
            }
        );
        let agreed = negotiate(None, Some("fec,cols:6,rows:-3"), HsSide::Responder, false)
            .unwrap()
            .unwrap();
        assert_eq!(
            (agreed.fec.cols, agreed.fec.rows, agreed.fec.cols_only),
            (6, 3, true)
        );
    }
}
