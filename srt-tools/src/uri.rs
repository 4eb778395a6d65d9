//! Media URIs in the syntax of libsrt's `srt-live-transmit` and ffmpeg:
//! `scheme://host:port/path?key=value&key=value`.
//!
//! Parsing has two steps so that new media and keys slot in: [`Uri::parse`]
//! splits the text (no knowledge of any scheme's keys), then
//! [`Medium::from_uri`] turns it into what a program opens: a file,
//! standard input/output (`file://con`), a UDP socket ([`UdpTarget`]), or
//! an SRT socket ([`SrtTarget`]: mode, address and [`SocketOptions`]).
//!
//! `udp://` as srt-live-transmit reads it: `udp://:port` (any address),
//! `udp://host:port`, `udp://@group:port` (multicast; for a unicast host
//! the `@` is accepted and ignored, where libsrt refuses it). Keys:
//! `rcvbuf`, `sndbuf` (bytes), `ttl`, `iptos`, `adapter` (the local
//! address: multicast interface, or the address an output binds) and
//! `multicast` (0/1).
//!
//! `srt://` query keys are libsrt's option names without `SRTO_`, in lower
//! case, with libsrt's ranges. Supported so far: `mode` (`caller`/`client`,
//! `listener`/`server`, `rendezvous`), `adapter` and `port` (the local
//! address and port), `transtype` (`live`, `file`), `messageapi`,
//! `latency`, `rcvlatency`, `peerlatency` (ms), `passphrase`, `pbkeylen`,
//! `cryptomode`, `enforcedencryption`, `kmrefreshrate`, `kmpreannounce`,
//! `payloadsize`, `mss`, `fc`, `sndbuf`, `rcvbuf` (bytes), `maxbw`,
//! `inputbw` (bytes/s), `oheadbw` (%), `conntimeo`, `peeridletimeo` (ms),
//! `linger` (s), `tlpktdrop`, `nakreport`, `lossmaxttl`, `minversion`,
//! `streamid` and `packetfilter` (e.g.
//! `packetfilter=fec,cols:10,rows:5,arq:never`). Any other key is an error
//! naming it.
//!
//! Socket groups: a caller group of several addresses is
//! `srt://h1:p1,h2:p2?grouptype=backup` (IPv4 or host names; every weight
//! 0) or libsrt's raw form `srt:////group?type=backup&nodes=h1:p1?weight=1,h2:p2?weight=10`
//! (`grouptype` and `type` alike: `broadcast`, the default, or `backup`);
//! live mode only. `groupconnect=1` on a listener accepts a peer's group
//! ([`GroupSpec`], `transmit::group`).

use srt_proto::group::GroupType;
use srt_proto::options::{OptionError, OptionValue, SockOpt};
use srt_proto::SocketOptions;
use std::fmt;
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;

/// Why a URI was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UriError {
    /// No `scheme://` in front.
    #[error("{0:?}: not a URI (expected scheme://..., e.g. file:///path or srt://host:port)")]
    MissingScheme(String),
    /// A scheme this program does not know.
    #[error("unknown scheme {0:?} (supported: srt, udp, file)")]
    UnknownScheme(String),
    /// The port is not a number in 1..=65535.
    #[error("bad port {0:?}")]
    BadPort(String),
    /// An `srt://` URI without a port.
    #[error("srt:// needs a port: srt://host:port or srt://:port")]
    MissingPort,
    /// A caller without a host to call.
    #[error("mode=caller needs a host: srt://host:port")]
    MissingHost,
    /// The host does not resolve.
    #[error("cannot resolve host {host:?}: {reason}")]
    Resolve {
        /// The host as written.
        host: String,
        /// What the resolver said.
        reason: String,
    },
    /// A query key this program does not know.
    #[error("unknown key {key:?} in {scheme}:// URI")]
    UnknownKey {
        /// The scheme.
        scheme: &'static str,
        /// The key as written.
        key: String,
    },
    /// A query key without `=value`.
    #[error("key {0:?} has no value (expected {0}=value)")]
    MissingValue(String),
    /// A key's value is malformed or out of range.
    #[error("bad value {value:?} for key {key:?}: {reason}")]
    BadValue {
        /// The key.
        key: String,
        /// The value as written (`***` for a passphrase).
        value: String,
        /// What is wrong.
        reason: String,
    },
    /// The options are each valid but do not go together.
    #[error("options do not go together: {0}")]
    Inconsistent(String),
    /// A `file://` URI without a path.
    #[error("file:// needs a path: file:///path/to/file, or file://con for stdin/stdout")]
    MissingPath,
}

/// A URI split into its parts; knows no scheme's keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Uri {
    /// The scheme, lower case, without `://`.
    pub scheme: String,
    /// The host as written (brackets of an IPv6 literal removed); may be empty.
    pub host: String,
    /// The port, if one was given.
    pub port: Option<u16>,
    /// The path, with its leading `/`; may be empty.
    pub path: String,
    /// The query's `key=value` pairs in order (keys lower case; a key without `=` has `None`).
    pub query: Vec<(String, Option<String>)>,
}

impl Uri {
    /// Splits `text` into scheme, host, port, path and query.
    pub fn parse(text: &str) -> Result<Uri, UriError> {
        let (scheme, rest) = text
            .split_once("://")
            .ok_or_else(|| UriError::MissingScheme(text.to_owned()))?;
        if scheme.is_empty() || !scheme.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(UriError::MissingScheme(text.to_owned()));
        }
        let (rest, query) = match rest.split_once('?') {
            Some((r, q)) => (r, Some(q)),
            None => (rest, None),
        };
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        let (host, port) = split_host_port(authority)?;
        let query = query
            .into_iter()
            .flat_map(|q| q.split('&'))
            .filter(|kv| !kv.is_empty())
            .map(|kv| match kv.split_once('=') {
                Some((k, v)) => (k.to_ascii_lowercase(), Some(v.to_owned())),
                None => (kv.to_ascii_lowercase(), None),
            })
            .collect();
        Ok(Uri {
            scheme: scheme.to_ascii_lowercase(),
            host: host.to_owned(),
            port,
            path: path.to_owned(),
            query,
        })
    }
}

/// `host:port`, `[v6]:port`, `host`, `:port` or empty.
fn split_host_port(authority: &str) -> Result<(&str, Option<u16>), UriError> {
    let (host, port) = if let Some(inner) = authority.strip_prefix('[') {
        let (h, after) = inner
            .split_once(']')
            .ok_or_else(|| UriError::BadPort(authority.to_owned()))?;
        match after.strip_prefix(':') {
            Some(p) => (h, Some(p)),
            None if after.is_empty() => (h, None),
            None => return Err(UriError::BadPort(after.to_owned())),
        }
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    let port = match port {
        None => None,
        Some(p) => match p.parse::<u16>() {
            Ok(n) if n > 0 => Some(n),
            _ => return Err(UriError::BadPort(p.to_owned())),
        },
    };
    Ok((host, port))
}

/// What a program reads from or writes to.
#[derive(Debug, Clone)]
pub enum Medium {
    /// A file (`file:///path`).
    File(PathBuf),
    /// Standard input (as an input) or standard output (as an output): `file://con`.
    Console,
    /// A UDP socket (`udp://host:port`).
    Udp(UdpTarget),
    /// An SRT socket (`srt://...`).
    Srt(Box<SrtTarget>),
}

/// A `udp://` URI interpreted: the address to bind (input) or to send to
/// (output), and the socket settings from its query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UdpTarget {
    /// Input: the address bound (host empty: any). Output: the destination.
    pub addr: SocketAddr,
    /// Whether `addr` is a multicast group to join (input) or send to.
    pub multicast: bool,
    /// `adapter`: the local interface address (multicast membership, or
    /// the address an output binds).
    pub adapter: Option<std::net::IpAddr>,
    /// `rcvbuf`: `SO_RCVBUF`, bytes.
    pub rcvbuf: Option<usize>,
    /// `sndbuf`: `SO_SNDBUF`, bytes.
    pub sndbuf: Option<usize>,
    /// `ttl`: IP TTL (unicast and multicast).
    pub ttl: Option<u32>,
    /// `iptos`: IP type of service.
    pub iptos: Option<u32>,
    /// Whether the host was empty (an output then sends to localhost, as libsrt).
    pub no_host: bool,
}

impl UdpTarget {
    /// Interprets a `udp://` URI.
    pub fn from_uri(uri: &Uri) -> Result<UdpTarget, UriError> {
        let port = uri.port.ok_or(UriError::MissingPort)?;
        // `@host`: libsrt's multicast marker.
        let host = uri.host.strip_prefix('@').unwrap_or(&uri.host);
        let no_host = host.is_empty();
        let addr = if no_host {
            SocketAddr::from(([0, 0, 0, 0], port))
        } else {
            resolve(host, port)?
        };
        let mut t = UdpTarget {
            addr,
            multicast: addr.ip().is_multicast(),
            adapter: None,
            rcvbuf: None,
            sndbuf: None,
            ttl: None,
            iptos: None,
            no_host,
        };
        for (key, value) in &uri.query {
            let value = value
                .as_deref()
                .ok_or_else(|| UriError::MissingValue(key.clone()))?;
            let num = |max: u64| -> Result<u64, UriError> {
                match value.parse::<u64>() {
                    Ok(n) if n <= max => Ok(n),
                    Ok(_) => Err(bad(key, value, &format!("must be at most {max}"))),
                    Err(_) => Err(bad(key, value, "expected a non-negative integer")),
                }
            };
            match key.as_str() {
                "rcvbuf" => t.rcvbuf = Some(num(1 << 30)? as usize),
                "sndbuf" => t.sndbuf = Some(num(1 << 30)? as usize),
                "ttl" => t.ttl = Some(num(255)? as u32),
                "iptos" => t.iptos = Some(num(255)? as u32),
                "adapter" => {
                    t.adapter = Some(
                        value
                            .parse()
                            .map_err(|_| bad(key, value, "expected an IP address"))?,
                    )
                }
                "multicast" => match value {
                    "1" | "true" | "yes" | "on" => {
                        if !addr.ip().is_multicast() {
                            return Err(bad(key, value, "the host is not a multicast address"));
                        }
                        t.multicast = true;
                    }
                    "0" | "false" | "no" | "off" => {}
                    _ => return Err(bad(key, value, "expected 1/0")),
                },
                _ => {
                    return Err(UriError::UnknownKey {
                        scheme: "udp",
                        key: key.clone(),
                    })
                }
            }
        }
        Ok(t)
    }
}

impl Medium {
    /// Parses `text` as a URI and interprets it.
    pub fn parse(text: &str) -> Result<Medium, UriError> {
        Medium::from_uri(&Uri::parse(text)?)
    }

    /// Interprets a split URI.
    pub fn from_uri(uri: &Uri) -> Result<Medium, UriError> {
        match uri.scheme.as_str() {
            "file" => {
                if let Some((key, _)) = uri.query.first() {
                    return Err(UriError::UnknownKey {
                        scheme: "file",
                        key: key.clone(),
                    });
                }
                if uri.host.eq_ignore_ascii_case("con") && uri.port.is_none() && uri.path.is_empty()
                {
                    return Ok(Medium::Console);
                }
                if !uri.host.is_empty() || uri.port.is_some() || uri.path.is_empty() {
                    return Err(UriError::MissingPath);
                }
                Ok(Medium::File(PathBuf::from(&uri.path)))
            }
            "udp" => UdpTarget::from_uri(uri).map(Medium::Udp),
            "srt" => SrtTarget::from_uri(uri).map(|t| Medium::Srt(Box::new(t))),
            other => Err(UriError::UnknownScheme(other.to_owned())),
        }
    }
}

/// Who starts the SRT connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Connects to the address (`mode=caller`; the default when a host is given).
    Caller,
    /// Waits on the address for one caller (`mode=listener`; the default without host).
    Listener,
    /// Both sides call each other (`mode=rendezvous`): binds `adapter:port`
    /// (the peer's port by default) and connects to the address.
    Rendezvous,
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Mode::Caller => "caller",
            Mode::Listener => "listener",
            Mode::Rendezvous => "rendezvous",
        })
    }
}

/// An `srt://` URI interpreted: whom to call or where to listen, and how.
#[derive(Debug, Clone)]
pub struct SrtTarget {
    /// Caller or listener.
    pub mode: Mode,
    /// The peer to call, or the local address to listen on.
    pub addr: SocketAddr,
    /// `adapter`: the local address to bind (caller, rendezvous; a
    /// listener given no host listens on it).
    pub adapter: Option<std::net::IpAddr>,
    /// `port`: the local port to bind (caller, rendezvous).
    pub local_port: Option<u16>,
    /// The socket options from the query (and the transtype preset).
    pub options: SocketOptions,
    /// A caller group: its type and members (`addr` is the first member's).
    pub group: Option<GroupSpec>,
}

/// A caller socket group from an `srt://` URI: several addresses
/// (`srt://h1:p1,h2:p2?grouptype=backup`, or libsrt's
/// `srt:////group?type=backup&nodes=h1:p1?weight=1,h2:p2?weight=10`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupSpec {
    /// Broadcast or backup (`grouptype` or `type`; default broadcast, as
    /// libsrt's apps).
    pub kind: GroupType,
    /// Each member's address and weight (`?weight=N` in `nodes`; default 0).
    pub members: Vec<(SocketAddr, u16)>,
}

impl SrtTarget {
    /// The local address to bind: a listener's own address; a caller's
    /// `adapter:port` (any address of the peer's family and an ephemeral
    /// port by default); a rendezvous party's `adapter:port` (the peer's
    /// port by default, as libsrt).
    pub fn local_addr(&self) -> SocketAddr {
        let any = if self.addr.is_ipv4() {
            std::net::IpAddr::from([0, 0, 0, 0])
        } else {
            std::net::IpAddr::from(std::net::Ipv6Addr::UNSPECIFIED)
        };
        let ip = self.adapter.unwrap_or(any);
        match self.mode {
            Mode::Listener => self.addr,
            Mode::Caller => SocketAddr::new(ip, self.local_port.unwrap_or(0)),
            Mode::Rendezvous => SocketAddr::new(ip, self.local_port.unwrap_or(self.addr.port())),
        }
    }
}

/// The `srt://` keys that map directly onto a socket option (the key is
/// the option's name without `SRTO_`, as in libsrt's apps).
const OPTION_KEYS: &[SockOpt] = &[
    SockOpt::MessageApi,
    SockOpt::Latency,
    SockOpt::RcvLatency,
    SockOpt::PeerLatency,
    SockOpt::Passphrase,
    SockOpt::PbKeyLen,
    SockOpt::PayloadSize,
    SockOpt::MaxBw,
    SockOpt::InputBw,
    SockOpt::OheadBw,
    SockOpt::ConnTimeo,
    SockOpt::PeerIdleTimeo,
    SockOpt::Linger,
    SockOpt::StreamId,
    SockOpt::TlPktDrop,
    SockOpt::NakReport,
    SockOpt::EnforcedEncryption,
    SockOpt::CryptoMode,
    SockOpt::SndBuf,
    SockOpt::RcvBuf,
    SockOpt::Fc,
    SockOpt::Mss,
    SockOpt::LossMaxTtl,
    SockOpt::MinVersion,
    SockOpt::KmRefreshRate,
    SockOpt::KmPreAnnounce,
    SockOpt::PacketFilter,
];

impl SrtTarget {
    /// Interprets an `srt://` URI: `mode` and `transtype` first (the
    /// transtype preset resets other options, as in libsrt), then the other
    /// keys in order; the result is validated as a whole.
    pub fn from_uri(uri: &Uri) -> Result<SrtTarget, UriError> {
        let mut mode = None;
        let mut options = SocketOptions::live();
        let mut rest = Vec::new();
        let mut adapter = None;
        let mut local_port = None;
        let mut kind = None;
        let mut nodes: Vec<(SocketAddr, u16)> = Vec::new();
        if uri.host.contains(',') {
            // `h1:p1,h2:p2`: the split took the last port for the host's.
            let list = format!("{}:{}", uri.host, uri.port.ok_or(UriError::MissingPort)?);
            for member in list.split(',') {
                nodes.push((member_addr(member)?, 0));
            }
        }
        for (key, value) in &uri.query {
            let value = value
                .as_deref()
                .ok_or_else(|| UriError::MissingValue(key.clone()))?;
            match key.as_str() {
                "mode" => {
                    mode = Some(match value.to_ascii_lowercase().as_str() {
                        "caller" | "client" => Mode::Caller,
                        "listener" | "server" => Mode::Listener,
                        "rendezvous" => Mode::Rendezvous,
                        _ => {
                            return Err(bad(key, value, "expected caller, listener or rendezvous"))
                        }
                    })
                }
                "transtype" => {
                    let t = match value.to_ascii_lowercase().as_str() {
                        "live" => 0,
                        "file" => 1,
                        _ => return Err(bad(key, value, "expected live or file")),
                    };
                    set(
                        &mut options,
                        key,
                        value,
                        SockOpt::TransType,
                        OptionValue::Int(t),
                    )?;
                }
                "adapter" => {
                    adapter = Some(
                        value
                            .trim_start_matches('[')
                            .trim_end_matches(']')
                            .parse::<std::net::IpAddr>()
                            .map_err(|_| bad(key, value, "expected an IP address"))?,
                    )
                }
                "grouptype" | "type" => {
                    kind = Some(match value.to_ascii_lowercase().as_str() {
                        "broadcast" => GroupType::Broadcast,
                        "backup" => GroupType::Backup,
                        _ => return Err(bad(key, value, "expected broadcast or backup")),
                    })
                }
                "nodes" => {
                    for node in value.split(',') {
                        let (addr, weight) = match node.split_once('?') {
                            Some((a, q)) => {
                                let w = q
                                    .strip_prefix("weight=")
                                    .and_then(|w| w.parse::<u16>().ok())
                                    .ok_or_else(|| {
                                        bad(key, value, "a node's query is ?weight=0..65535")
                                    })?;
                                (a, w)
                            }
                            None => (node, 0),
                        };
                        nodes.push((member_addr(addr)?, weight));
                    }
                }
                "groupconnect" => {
                    options.groupconnect = match value {
                        "0" => false,
                        "1" => true,
                        _ => return Err(bad(key, value, "expected 0 or 1")),
                    }
                }
                "port" => {
                    local_port = Some(match value.parse::<u16>() {
                        Ok(p) if p > 0 => p,
                        _ => return Err(bad(key, value, "expected a port in 1..=65535")),
                    })
                }
                _ => match OPTION_KEYS.iter().find(|o| o.uri_key() == key) {
                    Some(&opt) => rest.push((key, value, opt)),
                    None => {
                        return Err(UriError::UnknownKey {
                            scheme: "srt",
                            key: key.clone(),
                        })
                    }
                },
            }
        }
        for (key, value, opt) in rest {
            let v = option_value(key, value, opt)?;
            set(&mut options, key, value, opt, v)?;
        }
        options.validate().map_err(|e| match e {
            OptionError::InvalidParam { opt, reason } => UriError::BadValue {
                key: opt.uri_key().to_owned(),
                value: shown(opt.uri_key(), "(combined)"),
                reason: reason.to_owned(),
            },
            other => UriError::Inconsistent(other.to_string()),
        })?;
        let group = if nodes.is_empty() {
            if kind.is_some() {
                return Err(UriError::Inconsistent(
                    "grouptype needs a group of addresses: srt://h1:p1,h2:p2 or nodes=".into(),
                ));
            }
            None
        } else {
            if matches!(mode, Some(Mode::Listener | Mode::Rendezvous)) {
                return Err(UriError::Inconsistent(
                    "a group of addresses is a caller (a listener takes groupconnect=1)".into(),
                ));
            }
            if options.transtype != srt_proto::TransType::Live {
                return Err(UriError::Inconsistent(
                    "socket groups run in live mode only".into(),
                ));
            }
            Some(GroupSpec {
                kind: kind.unwrap_or(GroupType::Broadcast),
                members: nodes,
            })
        };
        if let Some(g) = &group {
            return Ok(SrtTarget {
                mode: Mode::Caller,
                addr: g.members[0].0,
                adapter,
                local_port,
                options,
                group,
            });
        }
        let port = uri.port.ok_or(UriError::MissingPort)?;
        let mode = mode.unwrap_or(if uri.host.is_empty() {
            Mode::Listener
        } else {
            Mode::Caller
        });
        let addr = match (mode, uri.host.as_str()) {
            (Mode::Caller, "") => return Err(UriError::MissingHost),
            (Mode::Rendezvous, "") => {
                return Err(UriError::Inconsistent(
                    "mode=rendezvous needs the peer's host: srt://host:port".into(),
                ))
            }
            (Mode::Listener, "") => SocketAddr::new(
                adapter.unwrap_or(std::net::IpAddr::from([0, 0, 0, 0])),
                port,
            ),
            (_, host) => resolve(host, port)?,
        };
        if let Some(a) = adapter {
            if a.is_ipv4() != addr.is_ipv4() {
                return Err(bad(
                    "adapter",
                    &a.to_string(),
                    "not of the same address family as the host",
                ));
            }
        }
        Ok(SrtTarget {
            mode,
            addr,
            adapter,
            local_port,
            options,
            group: None,
        })
    }
}

/// A group member's `host:port`.
fn member_addr(text: &str) -> Result<SocketAddr, UriError> {
    let (host, port) = split_host_port(text)?;
    if host.is_empty() {
        return Err(UriError::MissingHost);
    }
    resolve(host, port.ok_or(UriError::MissingPort)?)
}

fn resolve(host: &str, port: u16) -> Result<SocketAddr, UriError> {
    if let Ok(ip) = host.parse::<std::net::IpAddr>() {
        return Ok(SocketAddr::new(ip, port));
    }
    let err = |reason: String| UriError::Resolve {
        host: host.to_owned(),
        reason,
    };
    (host, port)
        .to_socket_addrs()
        .map_err(|e| err(e.to_string()))?
        .next()
        .ok_or_else(|| err("no address".into()))
}

/// The value as it may appear in a message: never a passphrase.
fn shown(key: &str, value: &str) -> String {
    if key == "passphrase" {
        "***".into()
    } else {
        value.to_owned()
    }
}

fn bad(key: &str, value: &str, reason: &str) -> UriError {
    UriError::BadValue {
        key: key.to_owned(),
        value: shown(key, value),
        reason: reason.to_owned(),
    }
}

fn set(
    options: &mut SocketOptions,
    key: &str,
    value: &str,
    opt: SockOpt,
    v: OptionValue,
) -> Result<(), UriError> {
    options.set(opt, v).map_err(|e| match e {
        OptionError::InvalidParam { reason, .. } => bad(key, value, reason),
        other => bad(key, value, &other.to_string()),
    })
}

/// The text of a query value as the option's C type.
fn option_value(key: &str, value: &str, opt: SockOpt) -> Result<OptionValue, UriError> {
    use srt_proto::options::OptType;
    // Decimal, or hexadecimal with 0x (as libsrt's `stoi(.., 0)`, handy
    // for minversion=0x010300).
    let int = || {
        let parsed = match value
            .strip_prefix("0x")
            .or_else(|| value.strip_prefix("0X"))
        {
            Some(hex) => i64::from_str_radix(hex, 16),
            None => value.parse::<i64>(),
        };
        parsed.map_err(|_| bad(key, value, "expected an integer"))
    };
    Ok(match opt.opt_type() {
        OptType::Bool => OptionValue::Bool(match value.to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" | "on" => true,
            "0" | "false" | "no" | "off" => false,
            _ => {
                return Err(bad(
                    key,
                    value,
                    "expected 1/0, true/false, yes/no or on/off",
                ))
            }
        }),
        OptType::Int32 => OptionValue::Int(
            i32::try_from(int()?).map_err(|_| bad(key, value, "out of the 32-bit range"))?,
        ),
        OptType::Int64 => OptionValue::Int64(int()?),
        OptType::String => OptionValue::Str(value.as_bytes().to_vec()),
        OptType::Linger => {
            let secs =
                i32::try_from(int()?).map_err(|_| bad(key, value, "out of the 32-bit range"))?;
            if secs < 0 {
                return Err(bad(key, value, "must not be negative (seconds)"));
            }
            OptionValue::Linger {
                onoff: secs > 0,
                secs,
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn target(text: &str) -> SrtTarget {
        match Medium::parse(text).unwrap() {
            Medium::Srt(t) => *t,
            other => panic!("not srt: {other:?}"),
        }
    }

    #[test]
    fn splits_every_part() {
        let u = Uri::parse("SRT://127.0.0.1:9000/some/path?Mode=listener&flag&latency=20").unwrap();
        assert_eq!(u.scheme, "srt");
        assert_eq!(u.host, "127.0.0.1");
        assert_eq!(u.port, Some(9000));
        assert_eq!(u.path, "/some/path");
        assert_eq!(
            u.query,
            vec![
                ("mode".into(), Some("listener".into())),
                ("flag".into(), None),
                ("latency".into(), Some("20".into())),
            ]
        );
        let u = Uri::parse("srt://[::1]:5000").unwrap();
        assert_eq!((u.host.as_str(), u.port), ("::1", Some(5000)));
        let u = Uri::parse("srt://:5000?mode=listener").unwrap();
        assert_eq!((u.host.as_str(), u.port), ("", Some(5000)));
        let u = Uri::parse("file:///tmp/a b.bin").unwrap();
        assert_eq!((u.host.as_str(), u.path.as_str()), ("", "/tmp/a b.bin"));
    }

    #[test]
    fn refuses_malformed_uris() {
        assert!(matches!(
            Uri::parse("/tmp/x"),
            Err(UriError::MissingScheme(_))
        ));
        assert!(matches!(
            Uri::parse("srt://host:99999"),
            Err(UriError::BadPort(_))
        ));
        assert!(matches!(
            Uri::parse("srt://host:0"),
            Err(UriError::BadPort(_))
        ));
        assert!(matches!(
            Medium::parse("rtmp://host:1"),
            Err(UriError::UnknownScheme(s)) if s == "rtmp"
        ));
        assert!(matches!(
            Medium::parse("srt://127.0.0.1"),
            Err(UriError::MissingPort)
        ));
        assert!(matches!(
            Medium::parse("srt://:9000?mode=caller"),
            Err(UriError::MissingHost)
        ));
        assert!(matches!(
            Medium::parse("file://host"),
            Err(UriError::MissingPath)
        ));
        assert!(matches!(Medium::parse("file://con"), Ok(Medium::Console)));
    }

    #[test]
    fn mode_defaults_follow_the_host() {
        let t = target("srt://127.0.0.1:9000");
        assert_eq!(t.mode, Mode::Caller);
        assert_eq!(t.addr, "127.0.0.1:9000".parse().unwrap());
        let t = target("srt://:9000");
        assert_eq!(t.mode, Mode::Listener);
        assert_eq!(t.addr, "0.0.0.0:9000".parse().unwrap());
        let t = target("srt://127.0.0.1:9000?mode=listener");
        assert_eq!(t.mode, Mode::Listener);
        assert_eq!(t.addr, "127.0.0.1:9000".parse().unwrap());
    }

    #[test]
    fn keys_become_socket_options() {
        let t = target(
            "srt://127.0.0.1:9000?latency=200&transtype=file&messageapi=1&passphrase=0123456789ab\
             &pbkeylen=32&payloadsize=1000&maxbw=1000000&conntimeo=5000&linger=7&streamid=x.bin",
        );
        let o = &t.options;
        assert_eq!(o.transtype, srt_proto::TransType::File);
        // Applied after the transtype preset, which would reset it.
        assert_eq!(o.rcvlatency, Duration::from_millis(200));
        assert!(o.messageapi);
        assert_eq!(o.passphrase.as_ref().unwrap().as_bytes(), b"0123456789ab");
        assert_eq!(o.pbkeylen, 32);
        assert_eq!(o.payloadsize, 1000);
        assert_eq!(o.maxbw, 1_000_000);
        assert_eq!(o.conntimeo, Duration::from_secs(5));
        assert_eq!(o.linger, Some(Duration::from_secs(7)));
        assert_eq!(o.streamid.as_bytes(), b"x.bin");
        let t = target("srt://127.0.0.1:9000?transtype=file&linger=0");
        assert_eq!(t.options.linger, None);
        let t = target("srt://127.0.0.1:9000");
        assert_eq!(t.options.transtype, srt_proto::TransType::Live);
    }

    #[test]
    fn packetfilter_key_sets_the_filter() {
        let t =
            target("srt://127.0.0.1:9000?packetfilter=fec,cols:10,rows:5,arq:never&latency=200");
        let f = t.options.packetfilter.as_ref().unwrap();
        assert_eq!(f.as_str(), "fec,cols:10,rows:5,arq:never");
        let e = Medium::parse("srt://127.0.0.1:9000?packetfilter=fec,cols:1")
            .unwrap_err()
            .to_string();
        assert!(e.contains("\"packetfilter\""), "{e}");
    }

    #[test]
    fn bad_keys_and_values_name_the_key() {
        let err = |text: &str| Medium::parse(text).unwrap_err().to_string();
        let e = err("srt://127.0.0.1:9000?latencyy=20");
        assert!(e.contains("unknown key \"latencyy\""), "{e}");
        let e = err("srt://127.0.0.1:9000?latency=abc");
        assert!(e.contains("\"latency\"") && e.contains("integer"), "{e}");
        let e = err("srt://127.0.0.1:9000?pbkeylen=17");
        assert!(
            e.contains("\"pbkeylen\"") && e.contains("16, 24, 32"),
            "{e}"
        );
        let e = err("srt://127.0.0.1:9000?mode=sideways");
        assert!(e.contains("\"mode\""), "{e}");
        let e = err("srt://127.0.0.1:9000?transtype=bulk");
        assert!(e.contains("\"transtype\""), "{e}");
        let e = err("srt://127.0.0.1:9000?messageapi=maybe");
        assert!(e.contains("\"messageapi\""), "{e}");
        let e = err("srt://127.0.0.1:9000?latency");
        assert!(e.contains("\"latency\" has no value"), "{e}");
        let e = err("srt://127.0.0.1:9000?passphrase=short");
        assert!(e.contains("\"passphrase\"") && !e.contains("short"), "{e}");
        let e = err("file:///tmp/x?append=1");
        assert!(e.contains("unknown key \"append\""), "{e}");
    }

    #[test]
    fn live_keys_and_local_addresses() {
        let t = target(
            "srt://127.0.0.1:9000?rcvlatency=300&peerlatency=400&inputbw=1000000&oheadbw=50\
             &peeridletimeo=9000&tlpktdrop=0&nakreport=0&enforcedencryption=0&cryptomode=2\
             &sndbuf=2000000&rcvbuf=3000000&fc=10000&mss=1360&lossmaxttl=5&minversion=0x010300\
             &kmrefreshrate=1000&kmpreannounce=100&adapter=127.0.0.2&port=7000",
        );
        let o = &t.options;
        assert_eq!(o.rcvlatency, Duration::from_millis(300));
        assert_eq!(o.peerlatency, Duration::from_millis(400));
        assert_eq!(t.mode, Mode::Caller);
        assert_eq!(t.local_addr(), "127.0.0.2:7000".parse().unwrap());
        let t = target("srt://127.0.0.1:9000?mode=rendezvous");
        assert_eq!(t.mode, Mode::Rendezvous);
        assert_eq!(t.local_addr(), "0.0.0.0:9000".parse().unwrap());
        let t = target("srt://:9000?adapter=127.0.0.1");
        assert_eq!(t.mode, Mode::Listener);
        assert_eq!(t.local_addr(), "127.0.0.1:9000".parse().unwrap());
        assert!(Medium::parse("srt://:9000?mode=rendezvous").is_err());
    }

    #[test]
    fn udp_uris() {
        let Medium::Udp(u) = Medium::parse("udp://:5000?rcvbuf=4194304").unwrap() else {
            panic!()
        };
        assert_eq!(u.addr, "0.0.0.0:5000".parse().unwrap());
        assert!(u.no_host && !u.multicast);
        assert_eq!(u.rcvbuf, Some(4_194_304));
        let Medium::Udp(u) =
            Medium::parse("udp://@239.1.1.1:5000?adapter=127.0.0.1&ttl=4").unwrap()
        else {
            panic!()
        };
        assert!(u.multicast);
        assert_eq!(u.adapter, Some("127.0.0.1".parse().unwrap()));
        assert_eq!(u.ttl, Some(4));
        assert!(Medium::parse("udp://127.0.0.1").is_err());
        assert!(Medium::parse("udp://:5000?iptos=256").is_err());
    }

    #[test]
    fn group_uris() {
        let t = target("srt://127.0.0.1:5001,127.0.0.1:5002?grouptype=backup&latency=120");
        let g = t.group.expect("a group");
        assert_eq!(g.kind, GroupType::Backup);
        assert_eq!(
            g.members,
            [
                ("127.0.0.1:5001".parse().unwrap(), 0),
                ("127.0.0.1:5002".parse().unwrap(), 0)
            ]
        );
        assert_eq!((t.mode, t.addr.port()), (Mode::Caller, 5001));
        let t = target(
            "srt:////group?type=backup&nodes=127.0.0.1:5001?weight=1,127.0.0.1:5002?weight=10",
        );
        let g = t.group.expect("a group");
        assert_eq!(g.members[0].1, 1);
        assert_eq!(g.members[1].1, 10);
        // The default type is broadcast, as libsrt's apps.
        let g = target("srt://127.0.0.1:5001,127.0.0.1:5002").group.unwrap();
        assert_eq!(g.kind, GroupType::Broadcast);
        assert!(target("srt://:5001?groupconnect=1").options.groupconnect);
        assert!(target("srt://127.0.0.1:5001").group.is_none());
        for bad in [
            "srt://127.0.0.1:5001?grouptype=backup",
            "srt://127.0.0.1:5001,127.0.0.1:5002?grouptype=mirror",
            "srt://127.0.0.1:5001,127.0.0.1:5002?mode=listener",
            "srt://127.0.0.1:5001,127.0.0.1:5002?transtype=file",
            "srt:////group?nodes=127.0.0.1:5001?weight=x",
            "srt:////group?nodes=127.0.0.1",
            "srt://:5001?groupconnect=2",
        ] {
            assert!(
                SrtTarget::from_uri(&Uri::parse(bad).unwrap()).is_err(),
                "{bad}"
            );
        }
    }
}
