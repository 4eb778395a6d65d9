//! Wire captures recorded from libsrt and the code that loads them.
//!
//! Every vector in `data/` is a pair: `<name>.pcap` (libpcap, Ethernet link
//! type, captured on `lo`) holding real SRT packets exchanged by libsrt 1.5.1's
//! tools over 127.0.0.1, and `<name>.json`, tshark 4.0's dissection of that same
//! file, reduced to `[{"frame": N, "srt": {...}}, ...]` where `srt` is tshark's
//! `srt` layer verbatim (`-T json -J "frame srt" --no-duplicate-keys`), except
//! that a data packet's `data.data` hex dump is dropped (its bytes are in the
//! pcap). `record.sh` re-records everything; `README.md` says how each vector
//! was made.
//!
//! This is a test-support crate: loaders panic with a clear message on any
//! problem instead of returning errors.
//!
//! It also holds what the interop tests share: [`peer_kit`] (where the
//! libsrt 1.5.5 kit is) and [`harness`] (child processes, ports, a
//! numbered live stream fed and received over UDP).

pub mod harness;
pub mod peer_kit;

use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};

use pcap_file::pcap::PcapReader;
use pcap_file::DataLink;
use serde_json::Value;

/// One recorded scenario: the packets of `data/<name>.pcap` in capture order.
#[derive(Debug, Clone)]
pub struct Capture {
    /// The vector's name (the file stem in `data/`), e.g. `live_plain`.
    pub name: String,
    /// Every packet of the capture, in capture order.
    pub packets: Vec<RecordedPacket>,
}

/// One UDP datagram of a capture, i.e. one SRT packet.
#[derive(Debug, Clone)]
pub struct RecordedPacket {
    /// tshark's frame number (1-based position in the stored pcap).
    pub frame: u32,
    /// UDP source port.
    pub src_port: u16,
    /// UDP destination port.
    pub dst_port: u16,
    /// The UDP payload, i.e. the complete SRT packet as sent by libsrt.
    pub payload: Vec<u8>,
    /// tshark's `srt` layer object for this frame, as tshark printed it.
    ///
    /// Fields are keys such as `"srt.hs.isn"` with string values; a field that
    /// occurs several times in one packet is an array of strings; subtrees are
    /// nested objects keyed by their label (e.g. `"srt.hs.srtflags_tree"`, or
    /// `"Loss sequence range: A-B"` in a NAK). Use [`field`] and
    /// [`loss_list`] rather than indexing by hand.
    pub tshark: Value,
}

impl RecordedPacket {
    /// True for a control packet (bit 31 of the first header word).
    pub fn is_control(&self) -> bool {
        self.payload.first().is_some_and(|b| b & 0x80 != 0)
    }

    /// The control type (bits 30-16 of word 0), or `None` for a data packet.
    pub fn control_type(&self) -> Option<u16> {
        if self.is_control() && self.payload.len() >= 4 {
            Some(u16::from_be_bytes([
                self.payload[0] & 0x7F,
                self.payload[1],
            ]))
        } else {
            None
        }
    }

    /// Header word `i` (0..4) as a big-endian `u32`.
    ///
    /// # Panics
    /// If the packet is shorter than 16 bytes or `i >= 4`.
    pub fn header_word(&self, i: usize) -> u32 {
        assert!(i < 4, "header word index {i} out of range");
        let b = &self.payload[4 * i..4 * i + 4];
        u32::from_be_bytes([b[0], b[1], b[2], b[3]])
    }

    /// The bytes after the 16-byte SRT header (control information field or
    /// data payload).
    pub fn body(&self) -> &[u8] {
        self.payload.get(16..).unwrap_or(&[])
    }
}

impl Capture {
    /// The packet with tshark frame number `frame`.
    ///
    /// # Panics
    /// If there is no such frame.
    pub fn frame(&self, frame: u32) -> &RecordedPacket {
        self.packets
            .iter()
            .find(|p| p.frame == frame)
            .unwrap_or_else(|| panic!("capture {}: no frame {frame}", self.name))
    }

    /// The control packets of the given type (0 handshake, 1 keepalive,
    /// 2 ACK, 3 NAK, 4 congestion warning, 5 shutdown, 6 ACKACK, 7 DROPREQ,
    /// 8 peer error, 0x7FFF extension).
    pub fn control(&self, ty: u16) -> impl Iterator<Item = &RecordedPacket> + '_ {
        self.packets
            .iter()
            .filter(move |p| p.control_type() == Some(ty))
    }

    /// The data packets.
    pub fn data(&self) -> impl Iterator<Item = &RecordedPacket> + '_ {
        self.packets.iter().filter(|p| !p.is_control())
    }
}

/// Payload length of every live-mode data packet (`scripts/sender.py`).
pub const LIVE_PAYLOAD_LEN: usize = 1316;

/// The plaintext of `scripts/sender.py`'s UDP packet `i` (counting from 0),
/// which srt-live-transmit sends as the SRT message with msgno `i + 1` in
/// every live vector: bytes 0..4 are `i` big-endian, byte `k` (4 ≤ k < 1316)
/// is `(i + k) mod 256`. In the encrypted vectors this is what a correct
/// decryption of the data packet with msgno `i + 1` yields.
pub fn live_payload(i: u32) -> Vec<u8> {
    let mut p = Vec::with_capacity(LIVE_PAYLOAD_LEN);
    p.extend_from_slice(&i.to_be_bytes());
    p.extend((4..LIVE_PAYLOAD_LEN).map(|k| (i as usize + k) as u8));
    p
}

/// Size of the file sent in the `file_*` vectors (`scripts/mkfile.py`).
pub const FILE_LEN: usize = 100_000;

/// Bytes `range` of the file sent in the `file_*` vectors: byte `j` is
/// `j mod 251`.
pub fn file_content(range: std::ops::Range<usize>) -> Vec<u8> {
    range.map(|j| (j % 251) as u8).collect()
}

/// The directory holding the recorded vectors (`testvectors/data`).
pub fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data")
}

/// The names of every vector in [`data_dir`], sorted.
pub fn names() -> Vec<String> {
    let dir = data_dir();
    let entries = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list test vectors in {}: {e}", dir.display()));
    let mut names: Vec<String> = entries
        .map(|e| e.expect("read_dir entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "pcap"))
        .filter_map(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .collect();
    names.sort();
    names
}

/// Every capture in [`data_dir`], sorted by name.
pub fn all() -> Vec<Capture> {
    names().iter().map(|n| load(n)).collect()
}

/// Loads `data/<name>.pcap` and matches each frame with its entry in
/// `data/<name>.json`.
///
/// # Panics
/// If either file is missing or malformed, or a frame has no tshark entry (or
/// the other way round). Run `testvectors/record.sh` to re-create the files.
pub fn load(name: &str) -> Capture {
    let dir = data_dir();
    let pcap_path = dir.join(format!("{name}.pcap"));
    let json_path = dir.join(format!("{name}.json"));
    let hint = "(re-record with testvectors/record.sh; see testvectors/README.md)";

    let text = std::fs::read_to_string(&json_path)
        .unwrap_or_else(|e| panic!("test vector {}: {e} {hint}", json_path.display()));
    let json: Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("test vector {}: bad JSON: {e}", json_path.display()));
    let entries = json
        .as_array()
        .unwrap_or_else(|| panic!("{}: top level is not an array", json_path.display()));
    let mut by_frame: HashMap<u32, Value> = HashMap::with_capacity(entries.len());
    for e in entries {
        let frame = e
            .get("frame")
            .and_then(Value::as_u64)
            .and_then(|f| u32::try_from(f).ok())
            .unwrap_or_else(|| panic!("{}: entry without frame: {e}", json_path.display()));
        let srt = e
            .get("srt")
            .unwrap_or_else(|| panic!("{}: frame {frame} has no srt layer", json_path.display()))
            .clone();
        assert!(
            by_frame.insert(frame, srt).is_none(),
            "{}: frame {frame} listed twice",
            json_path.display()
        );
    }

    let file = File::open(&pcap_path)
        .unwrap_or_else(|e| panic!("test vector {}: {e} {hint}", pcap_path.display()));
    let mut reader = PcapReader::new(file)
        .unwrap_or_else(|e| panic!("{}: not a pcap file: {e}", pcap_path.display()));
    let link = reader.header().datalink;
    let mut packets = Vec::new();
    let mut frame = 0u32;
    while let Some(pkt) = reader.next_packet() {
        frame += 1;
        let pkt = pkt.unwrap_or_else(|e| panic!("{} frame {frame}: {e}", pcap_path.display()));
        let (src_port, dst_port, payload) = udp_payload(link, &pkt.data)
            .unwrap_or_else(|why| panic!("{} frame {frame}: {why}", pcap_path.display()));
        let tshark = by_frame.remove(&frame).unwrap_or_else(|| {
            panic!("{}: frame {frame} has no tshark entry", json_path.display())
        });
        packets.push(RecordedPacket {
            frame,
            src_port,
            dst_port,
            payload: payload.to_vec(),
            tshark,
        });
    }
    if let Some(extra) = by_frame.keys().min() {
        panic!(
            "{}: frame {extra} is not in {}",
            json_path.display(),
            pcap_path.display()
        );
    }
    Capture {
        name: name.to_owned(),
        packets,
    }
}

/// Extracts (source port, destination port, UDP payload) from one captured
/// frame of the given link type.
fn udp_payload(link: DataLink, frame: &[u8]) -> Result<(u16, u16, &[u8]), String> {
    let ip = match link {
        DataLink::ETHERNET => {
            let eth = frame.get(..14).ok_or("short Ethernet header")?;
            let ethertype = u16::from_be_bytes([eth[12], eth[13]]);
            if ethertype != 0x0800 {
                return Err(format!("ethertype {ethertype:#06x} is not IPv4"));
            }
            &frame[14..]
        }
        DataLink::RAW | DataLink::IPV4 => frame,
        other => return Err(format!("unsupported link type {other:?}")),
    };
    let first = *ip.first().ok_or("empty IP packet")?;
    if first >> 4 != 4 {
        return Err(format!("IP version {} is not 4", first >> 4));
    }
    let ihl = usize::from(first & 0x0F) * 4;
    if ihl < 20 || ip.len() < ihl {
        return Err("bad IPv4 header length".into());
    }
    if ip[9] != 17 {
        return Err(format!("IP protocol {} is not UDP", ip[9]));
    }
    let total = usize::from(u16::from_be_bytes([ip[2], ip[3]]));
    let ip = ip.get(..total).ok_or("IPv4 packet truncated")?;
    let udp = ip.get(ihl..ihl + 8).ok_or("short UDP header")?;
    let src = u16::from_be_bytes([udp[0], udp[1]]);
    let dst = u16::from_be_bytes([udp[2], udp[3]]);
    let len = usize::from(u16::from_be_bytes([udp[4], udp[5]]));
    if len < 8 {
        return Err("bad UDP length".into());
    }
    let payload = ip.get(ihl + 8..ihl + len).ok_or("UDP datagram truncated")?;
    Ok((src, dst, payload))
}

/// Every value of the tshark field `name` anywhere inside `v` (normally a
/// [`RecordedPacket::tshark`] object), in order.
///
/// tshark prints a field as `"name": "value"`, or `"name": ["v1", "v2"]` when
/// it occurs more than once at one level (for example `srt.hs.version` is both
/// the handshake version and the HSREQ's SRT version, and `srt.hs.blocktype`
/// repeats once per extension block); subtrees are nested objects, which are
/// searched too.
///
/// ```
/// let v = serde_json::json!({
///     "srt.hs.version": ["5", "0x00010501"],
///     "srt.hs.srtflags_tree": { "srt.hs.srtflags.stream": "0" },
/// });
/// assert_eq!(testvectors::field(&v, "srt.hs.version"), ["5", "0x00010501"]);
/// assert_eq!(testvectors::field(&v, "srt.hs.srtflags.stream"), ["0"]);
/// assert!(testvectors::field(&v, "srt.hs.sid").is_empty());
/// ```
pub fn field<'a>(v: &'a Value, name: &str) -> Vec<&'a str> {
    fn strings<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
        match v {
            Value::String(s) => out.push(s),
            Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
            _ => {}
        }
    }
    fn walk<'a>(v: &'a Value, name: &str, out: &mut Vec<&'a str>) {
        match v {
            Value::Object(m) => {
                for (k, child) in m {
                    if k == name {
                        strings(child, out);
                    }
                    walk(child, name, out);
                }
            }
            Value::Array(a) => a.iter().for_each(|x| walk(x, name, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(v, name, &mut out);
    out
}

/// The first value of the tshark field `name` inside `v`, if any.
pub fn field1<'a>(v: &'a Value, name: &str) -> Option<&'a str> {
    field(v, name).into_iter().next()
}

/// The loss list of a NAK (LOSSREPORT) as tshark 4.0 shows it, as inclusive
/// `(first, last)` sequence ranges in packet order (a single loss is
/// `(s, s)`).
///
/// tshark 4.0 puts NAK entries in expert-info subtrees whose *labels* carry the
/// numbers (`"Loss sequence: 123"`, `"Loss sequence range: 123-125"`); the
/// `srt.nak_seqno` field inside is empty, so [`field`] cannot find them.
pub fn loss_list(v: &Value) -> Vec<(u32, u32)> {
    fn walk(v: &Value, out: &mut Vec<(u32, u32)>) {
        match v {
            Value::Object(m) => {
                for (k, child) in m {
                    if let Some(r) = k.strip_prefix("Loss sequence range: ") {
                        if let Some((a, b)) = r.split_once('-') {
                            if let (Ok(a), Ok(b)) = (a.trim().parse(), b.trim().parse()) {
                                out.push((a, b));
                            }
                        }
                    } else if let Some(s) = k.strip_prefix("Loss sequence: ") {
                        if let Ok(s) = s.trim().parse() {
                            out.push((s, s));
                        }
                    } else {
                        walk(child, out);
                    }
                }
            }
            Value::Array(a) => a.iter().for_each(|x| walk(x, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(v, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every scenario record.sh produces; a re-record must keep them all.
    const EXPECTED: &[&str] = &[
        "file_message",
        "file_stream",
        "live_aes128",
        "live_aes256",
        "live_dropreq",
        "live_keyrefresh",
        "live_nak",
        "live_plain",
        "reject_badsecret",
        "reject_transtype",
        "reject_unsecure",
        "rendezvous_aes128",
        "rendezvous_plain",
    ];

    fn parse_num(s: &str) -> u64 {
        match s.strip_prefix("0x") {
            Some(h) => u64::from_str_radix(h, 16).unwrap(),
            None => s.parse().unwrap(),
        }
    }

    fn msgno(p: &RecordedPacket) -> u32 {
        p.header_word(1) & 0x03FF_FFFF
    }

    #[test]
    fn live_payloads_are_the_sender_pattern() {
        for name in ["live_plain", "live_nak", "live_dropreq", "rendezvous_plain"] {
            let cap = load(name);
            for p in cap.data() {
                assert_eq!(
                    p.body(),
                    live_payload(msgno(p) - 1),
                    "{name} frame {}",
                    p.frame
                );
            }
        }
        for name in [
            "live_aes128",
            "live_aes256",
            "live_keyrefresh",
            "rendezvous_aes128",
        ] {
            for p in load(name).data() {
                assert_eq!(p.body().len(), LIVE_PAYLOAD_LEN, "{name} frame {}", p.frame);
                assert_ne!((p.header_word(1) >> 27) & 3, 0, "{name}: clear data");
            }
        }
    }

    #[test]
    fn file_payloads_are_the_file() {
        // file_stream: 1456-byte packets in order; file_message: 4000-byte
        // messages, each 1456 + 1456 + 1088 bytes (PP first, middle, last).
        for (name, msg) in [("file_stream", None), ("file_message", Some(4000usize))] {
            let cap = load(name);
            let isn = cap.data().next().expect("data").header_word(0);
            let mut last = 0;
            for p in cap.data() {
                let k = p.header_word(0).wrapping_sub(isn) as usize;
                let off = match msg {
                    None => k * 1456,
                    Some(m) => (k / 3) * m + (k % 3) * 1456,
                };
                let end = off + p.body().len();
                assert_eq!(p.body(), file_content(off..end), "{name} frame {}", p.frame);
                last = last.max(end);
            }
            assert_eq!(last, FILE_LEN, "{name}: the last packet is kept");
        }
    }

    #[test]
    fn every_expected_capture_exists() {
        let names = names();
        for e in EXPECTED {
            assert!(names.iter().any(|n| n == e), "missing vector {e}");
        }
    }

    #[test]
    fn every_frame_matches_its_tshark_entry() {
        for cap in all() {
            assert!(!cap.packets.is_empty(), "{} is empty", cap.name);
            for (i, p) in cap.packets.iter().enumerate() {
                let what = format!("{} frame {}", cap.name, p.frame);
                assert_eq!(p.frame as usize, i + 1, "{what}");
                assert!(p.payload.len() >= 16, "{what}: short packet");
                assert!(p.tshark.is_object(), "{what}: srt layer not an object");
                assert_eq!(
                    field1(&p.tshark, "srt.iscontrol"),
                    Some(if p.is_control() { "1" } else { "0" }),
                    "{what}"
                );
                assert_eq!(
                    field1(&p.tshark, "srt.timestamp").map(parse_num),
                    Some(u64::from(p.header_word(2))),
                    "{what}: timestamp"
                );
                assert_eq!(
                    field1(&p.tshark, "srt.id").map(parse_num),
                    Some(u64::from(p.header_word(3))),
                    "{what}: destination socket id"
                );
                match p.control_type() {
                    Some(t) => assert_eq!(
                        field1(&p.tshark, "srt.type").map(parse_num),
                        Some(u64::from(t)),
                        "{what}: control type"
                    ),
                    None => assert_eq!(
                        field1(&p.tshark, "srt.seqno").map(parse_num),
                        Some(u64::from(p.header_word(0))),
                        "{what}: seq"
                    ),
                }
            }
        }
    }

    /// Counts of every packet kind across all vectors, computed from the raw
    /// bytes, so that a re-record cannot silently lose one.
    #[test]
    fn every_packet_kind_is_covered() {
        let mut counts: HashMap<&'static str, usize> = HashMap::new();
        let mut bump = |k: &'static str| *counts.entry(k).or_default() += 1;
        for cap in all() {
            for p in &cap.packets {
                let w1 = p.header_word(1);
                let body = p.body();
                match p.control_type() {
                    None => {
                        bump("data");
                        bump(match w1 >> 30 {
                            0b10 => "data PP first",
                            0b00 => "data PP middle",
                            0b01 => "data PP last",
                            _ => "data PP solo",
                        });
                        bump(match (w1 >> 27) & 3 {
                            0 => "data clear",
                            1 => "data KK even",
                            2 => "data KK odd",
                            _ => "data KK invalid",
                        });
                        if w1 & (1 << 26) != 0 {
                            bump("data R=1");
                        }
                    }
                    Some(0) => {
                        let req = u32::from_be_bytes([body[20], body[21], body[22], body[23]]);
                        bump(match req {
                            1 => "handshake induction",
                            0 => "handshake waveahand",
                            0xFFFF_FFFF => "handshake conclusion",
                            0xFFFF_FFFE => "handshake agreement",
                            1010 => "handshake reject BADSECRET",
                            1011 => "handshake reject UNSECURE",
                            1000..=1999 => "handshake reject other",
                            _ => "handshake unknown",
                        });
                    }
                    Some(1) => bump("keepalive"),
                    Some(2) => bump(match body.len() {
                        4 => "ack light",
                        16 => "ack small",
                        28 => "ack full",
                        _ => "ack other",
                    }),
                    Some(3) => bump("nak"),
                    Some(4) => bump("cgwarning"),
                    Some(5) => bump("shutdown"),
                    Some(6) => bump("ackack"),
                    Some(7) => bump("dropreq"),
                    Some(8) => bump("peererror"),
                    Some(0x7FFF) => bump(match p.header_word(0) & 0xFFFF {
                        3 => "ext kmreq",
                        4 => "ext kmrsp",
                        _ => "ext other",
                    }),
                    Some(_) => bump("unknown control"),
                }
            }
        }
        let required = [
            "data",
            "data PP first",
            "data PP middle",
            "data PP last",
            "data PP solo",
            "data clear",
            "data KK even",
            "data KK odd",
            "data R=1",
            "handshake induction",
            "handshake waveahand",
            "handshake conclusion",
            "handshake agreement",
            "handshake reject BADSECRET",
            "handshake reject UNSECURE",
            "handshake reject other",
            "keepalive",
            "ack light",
            "ack small",
            "ack full",
            "nak",
            "shutdown",
            "ackack",
            "dropreq",
            "ext kmreq",
            "ext kmrsp",
        ];
        for k in required {
            assert!(
                counts.get(k).copied().unwrap_or(0) > 0,
                "no `{k}` packet in any vector; counts: {counts:?}"
            );
        }
        for k in ["data KK invalid", "handshake unknown", "unknown control"] {
            assert!(!counts.contains_key(k), "unexpected `{k}`: {counts:?}");
        }
    }

    #[test]
    fn nak_loss_lists_match_the_bytes() {
        let cap = load("live_nak");
        let mut ranges = 0;
        for p in cap.control(3) {
            let mut want = Vec::new();
            let words: Vec<u32> = p
                .body()
                .chunks_exact(4)
                .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
                .collect();
            let mut i = 0;
            while i < words.len() {
                if words[i] & 0x8000_0000 != 0 {
                    want.push((words[i] & 0x7FFF_FFFF, words[i + 1]));
                    i += 2;
                } else {
                    want.push((words[i], words[i]));
                    i += 1;
                }
            }
            ranges += want.iter().filter(|(a, b)| a != b).count();
            assert_eq!(loss_list(&p.tshark), want, "frame {}", p.frame);
        }
        assert!(ranges > 0, "live_nak has no NAK range");
    }

    #[test]
    fn field_finds_repeated_and_nested_values() {
        let cap = load("live_plain");
        let conclusion = cap
            .control(0)
            .find(|p| field(&p.tshark, "srt.hs.sid").len() == 1)
            .expect("a handshake with a stream ID");
        assert_eq!(
            field(&conclusion.tshark, "srt.hs.sid"),
            ["#!::r=abcde,m=publish"]
        );
        assert_eq!(
            field(&conclusion.tshark, "srt.hs.version"),
            ["5", "0x00010501"]
        );
        assert_eq!(field(&conclusion.tshark, "srt.hs.blocktype").len(), 2);
        assert_eq!(
            field(&conclusion.tshark, "srt.hs.srtflags.nak_report"),
            ["1"]
        );
    }
}
