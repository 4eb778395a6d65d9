//! Control packets.

use super::handshake::{Handshake, KmResponse, SrtHandshake};
use super::km::KeyMaterial;
use super::{
    check_len, check_room, put_word, word, DecodeError, EncodeError, SocketId, HEADER_LEN,
};
use crate::seq::{MsgNumber, SeqNumber, SeqRange, Timestamp};

/// The control type numbers of libsrt (`UDTMessageType`).
pub mod control_type {
    /// HANDSHAKE.
    pub const HANDSHAKE: u16 = 0;
    /// KEEPALIVE.
    pub const KEEPALIVE: u16 = 1;
    /// ACK.
    pub const ACK: u16 = 2;
    /// LOSSREPORT (NAK).
    pub const LOSSREPORT: u16 = 3;
    /// CGWARNING (congestion warning).
    pub const CGWARNING: u16 = 4;
    /// SHUTDOWN.
    pub const SHUTDOWN: u16 = 5;
    /// ACKACK.
    pub const ACKACK: u16 = 6;
    /// DROPREQ (message drop request).
    pub const DROPREQ: u16 = 7;
    /// PEERERROR.
    pub const PEERERROR: u16 = 8;
    /// EXT: user-defined and SRT extension messages (subtype = `SRT_CMD_*`).
    pub const EXT: u16 = 0x7FFF;
}

/// The EXT subtypes of libsrt (`SRT_CMD_*`).
mod ext_type {
    pub(super) const HSREQ: u16 = 1;
    pub(super) const HSRSP: u16 = 2;
    pub(super) const KMREQ: u16 = 3;
    pub(super) const KMRSP: u16 = 4;
}

/// The statistics that a non-light ACK carries after the acknowledged sequence number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AckInfo {
    /// A light ACK: the sequence number only (1 word, sent every 64 packets).
    Light,
    /// A small ACK: RTT, RTT variance and free buffer (4 words).
    Small {
        /// Smoothed round-trip time, µs.
        rtt: u32,
        /// Round-trip time variance, µs.
        rtt_var: u32,
        /// Free receive buffer, packets.
        buffer_available: u32,
    },
    /// A full ACK (7 words, every 10 ms).
    Full {
        /// Smoothed round-trip time, µs.
        rtt: u32,
        /// Round-trip time variance, µs.
        rtt_var: u32,
        /// Free receive buffer, packets.
        buffer_available: u32,
        /// Packet receiving rate, packets per second.
        packet_recv_rate: u32,
        /// Estimated link capacity, packets per second.
        link_capacity: u32,
        /// Receiving rate, bytes per second.
        recv_rate: u32,
    },
}

/// An ACK: the first sequence number not yet received, and statistics.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Ack {
    /// The ACK number (type-specific field) that the ACKACK echoes; 0 in a light ACK.
    pub ack_number: u32,
    /// The first sequence number not yet received ("last acknowledged + 1").
    pub ack_seq: SeqNumber,
    /// The statistics that follow, by ACK kind.
    pub info: AckInfo,
}

impl Ack {
    fn decode(ack_number: u32, cif: &[u8]) -> Result<Self, DecodeError> {
        check_len("ACK", cif, 4)?;
        let ack_seq = seq_field("ACK sequence number", word(cif, 0))?;
        let info = if cif.len() >= 28 {
            AckInfo::Full {
                rtt: word(cif, 4),
                rtt_var: word(cif, 8),
                buffer_available: word(cif, 12),
                packet_recv_rate: word(cif, 16),
                link_capacity: word(cif, 20),
                recv_rate: word(cif, 24),
            }
        } else if cif.len() >= 16 {
            AckInfo::Small {
                rtt: word(cif, 4),
                rtt_var: word(cif, 8),
                buffer_available: word(cif, 12),
            }
        } else {
            AckInfo::Light
        };
        Ok(Ack {
            ack_number,
            ack_seq,
            info,
        })
    }

    fn cif_len(&self) -> usize {
        match self.info {
            AckInfo::Light => 4,
            AckInfo::Small { .. } => 16,
            AckInfo::Full { .. } => 28,
        }
    }

    fn encode_cif(&self, buf: &mut [u8]) {
        put_word(buf, 0, self.ack_seq.as_u32());
        let words: &[u32] = match self.info {
            AckInfo::Light => &[],
            AckInfo::Small {
                rtt,
                rtt_var,
                buffer_available,
            } => &[rtt, rtt_var, buffer_available],
            AckInfo::Full {
                rtt,
                rtt_var,
                buffer_available,
                packet_recv_rate,
                link_capacity,
                recv_rate,
            } => &[
                rtt,
                rtt_var,
                buffer_available,
                packet_recv_rate,
                link_capacity,
                recv_rate,
            ],
        };
        for (i, w) in words.iter().enumerate() {
            put_word(buf, 4 + 4 * i, *w);
        }
    }
}

/// The compressed loss list of a LOSSREPORT (NAK), borrowed from its bytes:
/// a single lost sequence number is one word, a range is its first number
/// with bit 31 set followed by its last.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LossList<'a>(&'a [u8]);

const RANGE_BIT: u32 = 0x8000_0000;

impl<'a> LossList<'a> {
    /// Validates wire bytes as a loss list.
    pub fn decode(cif: &'a [u8]) -> Result<Self, DecodeError> {
        if cif.len() % 4 != 0 {
            return Err(DecodeError::Unaligned {
                what: "loss report",
                len: cif.len(),
            });
        }
        if cif.is_empty() {
            return Err(DecodeError::EmptyLossReport);
        }
        let list = LossList(cif);
        for entry in list.iter() {
            entry?;
        }
        Ok(list)
    }

    /// Writes `ranges` compressed into `scratch` and returns the list that
    /// views them.
    pub fn encode_ranges(
        ranges: &[SeqRange],
        scratch: &'a mut [u8],
    ) -> Result<LossList<'a>, EncodeError> {
        let mut at = 0;
        for r in ranges {
            let words = if r.first == r.last { 1 } else { 2 };
            check_room(scratch, at + 4 * words)?;
            if words == 1 {
                put_word(scratch, at, r.first.as_u32());
            } else {
                put_word(scratch, at, r.first.as_u32() | RANGE_BIT);
                put_word(scratch, at + 4, r.last.as_u32());
            }
            at += 4 * words;
        }
        if at == 0 {
            return Err(EncodeError::FieldTooLarge("empty loss list"));
        }
        Ok(LossList(&scratch[..at]))
    }

    /// The wire bytes.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.0
    }

    /// The lost ranges, in wire order.
    pub fn iter(&self) -> LossListIter<'a> {
        LossListIter { rest: self.0 }
    }
}

/// The ranges of a [`LossList`].
#[derive(Clone, Debug)]
pub struct LossListIter<'a> {
    rest: &'a [u8],
}

impl Iterator for LossListIter<'_> {
    type Item = Result<SeqRange, DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.len() < 4 {
            return None;
        }
        let first = word(self.rest, 0);
        if first & RANGE_BIT == 0 {
            self.rest = &self.rest[4..];
            return Some(Ok(SeqRange::single(SeqNumber::new_truncate(first))));
        }
        if self.rest.len() < 8 {
            self.rest = &[];
            return Some(Err(DecodeError::DanglingLossRange));
        }
        let last = word(self.rest, 4);
        self.rest = &self.rest[8..];
        let range = seq_field("loss range end", last).and_then(|end| {
            SeqRange::new(SeqNumber::new_truncate(first), end).ok_or(
                DecodeError::ReversedLossRange {
                    first: first & !RANGE_BIT,
                    last,
                },
            )
        });
        Some(range)
    }
}

/// What a control packet says, by control type.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ControlBody<'a> {
    /// HANDSHAKE (0).
    Handshake(Handshake),
    /// KEEPALIVE (1).
    KeepAlive,
    /// ACK (2).
    Ack(Ack),
    /// LOSSREPORT (3), a NAK.
    LossReport(LossList<'a>),
    /// CGWARNING (4).
    CongestionWarning,
    /// SHUTDOWN (5).
    Shutdown,
    /// ACKACK (6), echoing an ACK number.
    AckAck {
        /// The ACK number acknowledged.
        ack_number: u32,
    },
    /// DROPREQ (7): the sender dropped a message; stop waiting for it.
    DropRequest {
        /// The dropped message (0 = unknown, drop by sequence numbers).
        msg_number: MsgNumber,
        /// The first sequence number dropped.
        first: SeqNumber,
        /// The last sequence number dropped.
        last: SeqNumber,
    },
    /// PEERERROR (8), e.g. 4000 for a file error.
    PeerError {
        /// The error code.
        code: u32,
    },
    /// EXT HSREQ: the HSv4 post-connection SRT handshake request.
    ExtHsReq(SrtHandshake),
    /// EXT HSRSP: its answer.
    ExtHsRsp(SrtHandshake),
    /// EXT KMREQ: key material, in-band (HSv4 and key refresh).
    ExtKmReq(KeyMaterial),
    /// EXT KMRSP: its answer.
    ExtKmRsp(KmResponse),
    /// An EXT subtype libsrt does not define (user-defined), or an unknown
    /// control type; libsrt ignores these.
    Other {
        /// The control type.
        control_type: u16,
        /// The subtype.
        subtype: u16,
        /// The type-specific information word.
        type_info: u32,
        /// The control information field.
        cif: &'a [u8],
    },
}

/// A control packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ControlPacket<'a> {
    /// The timestamp, in microseconds since the sender started.
    pub timestamp: Timestamp,
    /// The destination socket.
    pub dest_socket: SocketId,
    /// The type and its fields.
    pub body: ControlBody<'a>,
}

impl<'a> ControlPacket<'a> {
    /// Decodes a control packet (bit 31 of the first word must be set).
    pub fn decode(buf: &'a [u8]) -> Result<Self, DecodeError> {
        check_len("control packet", buf, HEADER_LEN)?;
        let w0 = word(buf, 0);
        let kind = ((w0 >> 16) & 0x7FFF) as u16;
        let subtype = w0 as u16;
        let type_info = word(buf, 4);
        let cif = &buf[HEADER_LEN..];
        use control_type as t;
        let other = ControlBody::Other {
            control_type: kind,
            subtype,
            type_info,
            cif,
        };
        let body = match kind {
            _ if w0 & 0x8000_0000 == 0 => {
                return Err(DecodeError::BadSequenceNumber {
                    what: "control flag",
                    value: w0,
                })
            }
            t::HANDSHAKE => ControlBody::Handshake(Handshake::decode(cif)?),
            t::KEEPALIVE => ControlBody::KeepAlive,
            t::ACK => ControlBody::Ack(Ack::decode(type_info, cif)?),
            t::LOSSREPORT => ControlBody::LossReport(LossList::decode(cif)?),
            t::CGWARNING => ControlBody::CongestionWarning,
            t::SHUTDOWN => ControlBody::Shutdown,
            t::ACKACK => ControlBody::AckAck {
                ack_number: type_info,
            },
            t::DROPREQ => {
                check_len("DROPREQ", cif, 8)?;
                ControlBody::DropRequest {
                    msg_number: MsgNumber::new_truncate(type_info),
                    first: seq_field("DROPREQ first", word(cif, 0))?,
                    last: seq_field("DROPREQ last", word(cif, 4))?,
                }
            }
            t::PEERERROR => ControlBody::PeerError { code: type_info },
            t::EXT => match subtype {
                ext_type::HSREQ => ControlBody::ExtHsReq(SrtHandshake::decode_cif(cif)?),
                ext_type::HSRSP => ControlBody::ExtHsRsp(SrtHandshake::decode_cif(cif)?),
                ext_type::KMREQ => ControlBody::ExtKmReq(KeyMaterial::decode(cif)?),
                ext_type::KMRSP => ControlBody::ExtKmRsp(KmResponse::decode(cif)?),
                _ => other,
            },
            _ => other,
        };
        Ok(ControlPacket {
            timestamp: Timestamp::from_u32(word(buf, 8)),
            dest_socket: SocketId(word(buf, 12)),
            body,
        })
    }

    /// The control type, subtype and type-specific word of the header.
    pub fn header_fields(&self) -> (u16, u16, u32) {
        use control_type as t;
        match &self.body {
            ControlBody::Handshake(_) => (t::HANDSHAKE, 0, 0),
            ControlBody::KeepAlive => (t::KEEPALIVE, 0, 0),
            ControlBody::Ack(ack) => (t::ACK, 0, ack.ack_number),
            ControlBody::LossReport(_) => (t::LOSSREPORT, 0, 0),
            ControlBody::CongestionWarning => (t::CGWARNING, 0, 0),
            ControlBody::Shutdown => (t::SHUTDOWN, 0, 0),
            ControlBody::AckAck { ack_number } => (t::ACKACK, 0, *ack_number),
            ControlBody::DropRequest { msg_number, .. } => (t::DROPREQ, 0, msg_number.as_u32()),
            ControlBody::PeerError { code } => (t::PEERERROR, 0, *code),
            ControlBody::ExtHsReq(_) => (t::EXT, ext_type::HSREQ, 0),
            ControlBody::ExtHsRsp(_) => (t::EXT, ext_type::HSRSP, 0),
            ControlBody::ExtKmReq(_) => (t::EXT, ext_type::KMREQ, 0),
            ControlBody::ExtKmRsp(_) => (t::EXT, ext_type::KMRSP, 0),
            ControlBody::Other {
                control_type,
                subtype,
                type_info,
                ..
            } => (*control_type, *subtype, *type_info),
        }
    }

    fn cif_len(&self) -> usize {
        match &self.body {
            ControlBody::Handshake(hs) => hs.encoded_len(),
            ControlBody::Ack(ack) => ack.cif_len(),
            ControlBody::LossReport(list) => list.as_bytes().len(),
            ControlBody::DropRequest { .. } => 8,
            ControlBody::ExtHsReq(_) | ControlBody::ExtHsRsp(_) => 12,
            ControlBody::ExtKmReq(km) => km.encoded_len(),
            ControlBody::ExtKmRsp(rsp) => rsp.encoded_len(),
            ControlBody::Other { cif, .. } => cif.len(),
            // libsrt sends 4 zero bytes where there is no CIF (packet.cpp:346-426).
            ControlBody::KeepAlive
            | ControlBody::CongestionWarning
            | ControlBody::Shutdown
            | ControlBody::AckAck { .. }
            | ControlBody::PeerError { .. } => 4,
        }
    }

    /// The encoded length: header plus CIF.
    pub fn encoded_len(&self) -> usize {
        HEADER_LEN + self.cif_len()
    }

    /// Writes the packet to the start of `buf`.
    pub fn encode(&self, buf: &mut [u8]) -> Result<usize, EncodeError> {
        let len = self.encoded_len();
        check_room(buf, len)?;
        let (control_type, subtype, type_info) = self.header_fields();
        if control_type > 0x7FFF {
            return Err(EncodeError::FieldTooLarge("control type"));
        }
        put_word(
            buf,
            0,
            0x8000_0000 | (u32::from(control_type) << 16) | u32::from(subtype),
        );
        put_word(buf, 4, type_info);
        put_word(buf, 8, self.timestamp.as_u32());
        put_word(buf, 12, self.dest_socket.0);
        let cif = &mut buf[HEADER_LEN..len];
        match &self.body {
            ControlBody::Handshake(hs) => {
                hs.encode(cif)?;
            }
            ControlBody::Ack(ack) => ack.encode_cif(cif),
            ControlBody::LossReport(list) => cif.copy_from_slice(list.as_bytes()),
            ControlBody::DropRequest { first, last, .. } => {
                put_word(cif, 0, first.as_u32());
                put_word(cif, 4, last.as_u32());
            }
            ControlBody::ExtHsReq(hs) | ControlBody::ExtHsRsp(hs) => {
                hs.encode(cif)?;
            }
            ControlBody::ExtKmReq(km) => {
                km.encode(cif)?;
            }
            ControlBody::ExtKmRsp(rsp) => {
                rsp.encode(cif)?;
            }
            ControlBody::Other { cif: body, .. } => cif.copy_from_slice(body),
            ControlBody::KeepAlive
            | ControlBody::CongestionWarning
            | ControlBody::Shutdown
            | ControlBody::AckAck { .. }
            | ControlBody::PeerError { .. } => cif.fill(0),
        }
        Ok(len)
    }
}

/// A 31-bit sequence number field, or an error if bit 31 is set.
fn seq_field(what: &'static str, value: u32) -> Result<SeqNumber, DecodeError> {
    SeqNumber::new(value).ok_or(DecodeError::BadSequenceNumber { what, value })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seq(v: u32) -> SeqNumber {
        SeqNumber::new(v).unwrap()
    }

    #[test]
    fn loss_list_compression() {
        let ranges = [
            SeqRange::single(seq(5)),
            SeqRange::new(seq(10), seq(12)).unwrap(),
            SeqRange::new(SeqNumber::MAX, seq(1)).unwrap(),
        ];
        let mut scratch = [0u8; 64];
        let list = LossList::encode_ranges(&ranges, &mut scratch).unwrap();
        assert_eq!(
            list.as_bytes(),
            &[0, 0, 0, 5, 0x80, 0, 0, 10, 0, 0, 0, 12, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 1]
        );
        let got: Vec<_> = list.iter().map(Result::unwrap).collect();
        assert_eq!(got, ranges);
    }

    #[test]
    fn loss_list_rejects_malformed() {
        assert_eq!(
            LossList::decode(&[0x80, 0, 0, 1]),
            Err(DecodeError::DanglingLossRange)
        );
        assert!(matches!(
            LossList::decode(&[0x80, 0, 0, 9, 0, 0, 0, 3]),
            Err(DecodeError::ReversedLossRange { first: 9, last: 3 })
        ));
        assert!(LossList::decode(&[0x80, 0, 0, 1, 0x80, 0, 0, 3]).is_err());
        assert_eq!(LossList::decode(&[]), Err(DecodeError::EmptyLossReport));
        assert!(LossList::decode(&[0, 0, 1]).is_err());
    }
}
