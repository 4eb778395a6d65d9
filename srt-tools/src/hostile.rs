//! Hostile control packets for `srt-relay --inject`: the relay watches the
//! SRT traffic it carries and forges control packets that a hostile peer
//! could send, addressed to one side's socket and sent from the address
//! that side takes for its peer (the relay's own socket), so they are
//! indistinguishable from the peer's on the wire.
//!
//! Each [`HostileKind`] is one packet a robust endpoint must refuse without
//! losing anything: loss reports and acknowledgements for what was never
//! sent, drop requests for ranges ahead of or long behind the stream,
//! repeated ACKACKs, and key-material messages of every wrong length. The
//! packets are built here byte by byte, not with the engine's encoders, so
//! that nothing the engine would refuse to encode is out of reach.

use std::fmt;

/// The largest sequence number (31 bits).
const SEQ_MASK: u32 = 0x7FFF_FFFF;
/// The flag of a range start in a loss list.
const RANGE_FLAG: u32 = 0x8000_0000;
/// Control types (`UDT_CONTROL_TYPE`).
const ACK: u16 = 2;
const LOSSREPORT: u16 = 3;
const ACKACK: u16 = 6;
const DROPREQ: u16 = 7;
const EXT: u16 = 0x7FFF;
/// EXT subtypes of in-band key material.
const KMREQ: u16 = 3;
const KMRSP: u16 = 4;

/// CIF lengths a key-material message is forged with, in turn: none, less
/// than a header, unaligned, one short of and past a well-formed KMREQ
/// (header 16 + salt 16 + wrapped key 24 = 56 for AES-128), and too long.
const KM_LENGTHS: [usize; 16] = [0, 1, 3, 4, 7, 8, 12, 15, 16, 23, 31, 55, 57, 63, 200, 1400];

/// One kind of forged control packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum HostileKind {
    /// A NAK of one range from just past the target's latest data packet,
    /// about 2^30 sequence numbers long (half the 31-bit ring).
    NakHuge,
    /// A NAK of a range entirely beyond what the target has sent.
    NakBeyond,
    /// An ACK of a sequence number far beyond what the target has sent.
    AckBeyond,
    /// A DROPREQ of a range ahead of the data the target receives.
    DropreqFuture,
    /// A DROPREQ of a range long behind the data the target receives.
    DropreqPast,
    /// An ACKACK for the target's latest ACK, again and again.
    AckackRepeat,
    /// An in-band KMREQ or KMRSP with a CIF of a wrong length (each
    /// injection takes the next length of a fixed list).
    KmBadLength,
}

impl HostileKind {
    /// Every kind, in declaration order.
    pub const ALL: [HostileKind; 7] = [
        HostileKind::NakHuge,
        HostileKind::NakBeyond,
        HostileKind::AckBeyond,
        HostileKind::DropreqFuture,
        HostileKind::DropreqPast,
        HostileKind::AckackRepeat,
        HostileKind::KmBadLength,
    ];

    /// The name used on the command line (`nak-huge`, ...).
    pub fn name(self) -> &'static str {
        match self {
            HostileKind::NakHuge => "nak-huge",
            HostileKind::NakBeyond => "nak-beyond",
            HostileKind::AckBeyond => "ack-beyond",
            HostileKind::DropreqFuture => "dropreq-future",
            HostileKind::DropreqPast => "dropreq-past",
            HostileKind::AckackRepeat => "ackack-repeat",
            HostileKind::KmBadLength => "km-bad-length",
        }
    }
}

impl fmt::Display for HostileKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What the relay has seen of one side's traffic: enough to aim forged
/// packets at it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SideView {
    /// The socket ID the other side addresses this side's packets to.
    pub socket_id: Option<u32>,
    /// The latest sequence number of data this side sent.
    pub sent_seq: Option<u32>,
    /// The latest sequence number of data this side was sent.
    pub received_seq: Option<u32>,
    /// The latest ACK number this side sent.
    pub ack_number: Option<u32>,
}

/// Tracks both sides of a relayed SRT connection from its datagrams.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Observer {
    /// The side that sends to the relay's listening address (the caller).
    pub client: SideView,
    /// The side the relay forwards to.
    pub server: SideView,
}

/// Which side a forged packet goes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Target {
    /// The side that sends to the relay's listening address.
    Client,
    /// The side at the forward address.
    Server,
}

fn word(buf: &[u8], i: usize) -> Option<u32> {
    let b = buf.get(4 * i..4 * i + 4)?;
    Some(u32::from_be_bytes(b.try_into().ok()?))
}

impl Observer {
    /// Takes in a datagram relayed from `from` to the other side.
    pub fn observe(&mut self, from: Target, datagram: &[u8]) {
        let (Some(w0), Some(w1), Some(dest)) =
            (word(datagram, 0), word(datagram, 1), word(datagram, 3))
        else {
            return;
        };
        let (sender, receiver) = match from {
            Target::Client => (&mut self.client, &mut self.server),
            Target::Server => (&mut self.server, &mut self.client),
        };
        if dest != 0 {
            receiver.socket_id = Some(dest);
        }
        if w0 & 0x8000_0000 == 0 {
            let seq = w0 & SEQ_MASK;
            sender.sent_seq = Some(latest(sender.sent_seq, seq));
            receiver.received_seq = Some(latest(receiver.received_seq, seq));
        } else if (w0 >> 16) & 0x7FFF == u32::from(ACK) && w1 != 0 {
            // Light ACKs carry no ACK number (0): no ACKACK answers them.
            sender.ack_number = Some(w1);
        }
    }

    /// Whether `target` can be aimed at: its socket ID and some sequence
    /// number of the stream are known.
    pub fn ready(&self, target: Target) -> bool {
        let v = self.view(target);
        v.socket_id.is_some() && (v.sent_seq.is_some() || v.received_seq.is_some())
    }

    fn view(&self, target: Target) -> &SideView {
        match target {
            Target::Client => &self.client,
            Target::Server => &self.server,
        }
    }

    /// The `n`th forged packet of `kind` for `target` (`n` varies what
    /// repeats: ACK numbers, KM lengths), or `None` before
    /// [`Observer::ready`].
    pub fn forge(&self, kind: HostileKind, target: Target, n: u32) -> Option<Vec<u8>> {
        if !self.ready(target) {
            return None;
        }
        let v = self.view(target);
        let dest = v.socket_id?;
        // Packets about what the target sends refer to its own data; those
        // about what it receives to the data it is sent (each falling back
        // on the other for a side that only receives, or only sends).
        let sent = v.sent_seq.or(v.received_seq)?;
        let received = v.received_seq.or(v.sent_seq)?;
        let seq = |base: u32, delta: i64| ((i64::from(base) + delta) as u32) & SEQ_MASK;
        let packet = match kind {
            HostileKind::NakHuge => {
                // Starting 1 to 49 past the latest data seen (the target may
                // have sent more since), 2^30 - 1 to 2^30 + 1 long: each
                // relation of the range's end to the target's next sequence
                // number on the ring comes up.
                let start = 1 + i64::from(n % 4) * 16;
                let len = (1 << 30) + i64::from(n % 3) - 1;
                control(
                    LOSSREPORT,
                    0,
                    0,
                    dest,
                    &[seq(sent, start) | RANGE_FLAG, seq(sent, start + len - 1)],
                )
            }
            HostileKind::NakBeyond => control(
                LOSSREPORT,
                0,
                0,
                dest,
                &[seq(sent, 1000) | RANGE_FLAG, seq(sent, 2000)],
            ),
            HostileKind::AckBeyond => control(
                ACK,
                0,
                0x4000_0000 + n,
                dest,
                // Last acknowledged, RTT, RTT variance, available buffer,
                // receive rate, link capacity, receive rate in bytes.
                &[
                    seq(sent, 100_000),
                    10_000,
                    5_000,
                    8192,
                    1000,
                    10_000,
                    1_316_000,
                ],
            ),
            HostileKind::DropreqFuture => control(
                DROPREQ,
                0,
                0,
                dest,
                &[seq(received, 500), seq(received, 1500)],
            ),
            HostileKind::DropreqPast => control(
                DROPREQ,
                0,
                0,
                dest,
                &[seq(received, -20_000), seq(received, -10_000)],
            ),
            HostileKind::AckackRepeat => control(ACKACK, 0, v.ack_number.unwrap_or(1), dest, &[0]),
            HostileKind::KmBadLength => {
                let len = KM_LENGTHS[n as usize % KM_LENGTHS.len()];
                let subtype = if n % 2 == 0 { KMREQ } else { KMRSP };
                let mut p = header(EXT, subtype, 0, dest);
                // A plausible start (KM version 1, packet type 2, the
                // 0x2029 signature) so that the length is what is wrong.
                let start = [0x12u8, 0x20, 0x29, 0x01];
                p.extend((0..len).map(|i| start.get(i).copied().unwrap_or(i as u8)));
                p
            }
        };
        Some(packet)
    }
}

/// The later of two sequence numbers on the 31-bit ring.
fn latest(current: Option<u32>, seq: u32) -> u32 {
    match current {
        Some(c) if (seq.wrapping_sub(c) & SEQ_MASK) >= 1 << 30 => c,
        _ => seq,
    }
}

fn header(control_type: u16, subtype: u16, type_info: u32, dest: u32) -> Vec<u8> {
    let mut p = Vec::with_capacity(64);
    let w0 = 0x8000_0000 | u32::from(control_type) << 16 | u32::from(subtype);
    for w in [w0, type_info, 0, dest] {
        p.extend_from_slice(&w.to_be_bytes());
    }
    p
}

fn control(control_type: u16, subtype: u16, type_info: u32, dest: u32, cif: &[u32]) -> Vec<u8> {
    let mut p = header(control_type, subtype, type_info, dest);
    for w in cif {
        p.extend_from_slice(&w.to_be_bytes());
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;
    use srt_proto::packet::{ControlBody, Packet};

    fn data(seq: u32, dest: u32) -> Vec<u8> {
        let mut p = Vec::new();
        for w in [seq, 0xC000_0001, 0, dest] {
            p.extend_from_slice(&w.to_be_bytes());
        }
        p.extend_from_slice(&[0; 100]);
        p
    }

    fn observed() -> Observer {
        let mut o = Observer::default();
        assert!(!o.ready(Target::Client));
        o.observe(Target::Client, &data(SEQ_MASK - 1, 77));
        o.observe(Target::Client, &data(SEQ_MASK, 77));
        o.observe(Target::Client, &data(5, 77));
        // An older one does not move the latest back.
        o.observe(Target::Client, &data(3, 77));
        o.observe(Target::Server, &control(ACK, 0, 9, 55, &[6]));
        o
    }

    #[test]
    fn tracks_ids_sequences_and_acks() {
        let o = observed();
        assert_eq!(o.server.socket_id, Some(77));
        assert_eq!(o.client.socket_id, Some(55));
        assert_eq!(o.client.sent_seq, Some(5));
        assert_eq!(o.server.received_seq, Some(5));
        assert_eq!(o.server.ack_number, Some(9));
        assert!(o.ready(Target::Client) && o.ready(Target::Server));
    }

    #[test]
    fn forged_packets_decode_as_intended() {
        let o = observed();
        let nak = o.forge(HostileKind::NakHuge, Target::Client, 0).unwrap();
        match Packet::decode(&nak).unwrap() {
            Packet::Control(c) => {
                assert_eq!(c.dest_socket.0, 55);
                let ControlBody::LossReport(list) = c.body else {
                    panic!("{:?}", c.body)
                };
                let ranges: Vec<_> = list.iter().collect::<Result<_, _>>().unwrap();
                assert_eq!(ranges.len(), 1);
                assert_eq!(ranges[0].first.as_u32(), 6);
                assert_eq!(ranges[0].last.as_u32(), 6 + (1 << 30) - 2);
            }
            p => panic!("{p:?}"),
        }
        let dropreq = o
            .forge(HostileKind::DropreqPast, Target::Server, 0)
            .unwrap();
        match Packet::decode(&dropreq).unwrap() {
            Packet::Control(c) => {
                assert_eq!(c.dest_socket.0, 77);
                let ControlBody::DropRequest { first, last, .. } = c.body else {
                    panic!("{:?}", c.body)
                };
                assert_eq!(first.as_u32(), (5 + (1 << 31) - 20_000) & SEQ_MASK);
                assert_eq!(last.as_u32(), (5 + (1 << 31) - 10_000) & SEQ_MASK);
            }
            p => panic!("{p:?}"),
        }
        let ackack = o
            .forge(HostileKind::AckackRepeat, Target::Server, 0)
            .unwrap();
        assert_eq!(word(&ackack, 1), Some(9));
        let lens: Vec<usize> = (0..KM_LENGTHS.len() as u32)
            .map(|n| {
                o.forge(HostileKind::KmBadLength, Target::Client, n)
                    .unwrap()
                    .len()
                    - 16
            })
            .collect();
        assert_eq!(lens, KM_LENGTHS);
        for kind in HostileKind::ALL {
            let p = o.forge(kind, Target::Client, 1).unwrap();
            assert_eq!(word(&p, 3), Some(55), "{kind}");
            assert!(word(&p, 0).unwrap() & 0x8000_0000 != 0, "{kind}");
        }
    }
}
