//! Data packets.

use super::{
    check_len, check_room, put_word, word, DecodeError, EncodeError, SocketId, HEADER_LEN,
};
use crate::seq::{MsgNumber, SeqNumber, Timestamp};

/// Where a packet sits in its message (the PP bits).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PacketPosition {
    /// The first packet of a message of several (`10`).
    First,
    /// A packet inside a message of several (`00`).
    Middle,
    /// The last packet of a message of several (`01`).
    Last,
    /// The only packet of its message (`11`); always so in live mode.
    Solo,
}

impl PacketPosition {
    fn from_bits(bits: u32) -> Self {
        match bits & 0b11 {
            0b10 => PacketPosition::First,
            0b00 => PacketPosition::Middle,
            0b01 => PacketPosition::Last,
            _ => PacketPosition::Solo,
        }
    }

    fn bits(self) -> u32 {
        match self {
            PacketPosition::First => 0b10,
            PacketPosition::Middle => 0b00,
            PacketPosition::Last => 0b01,
            PacketPosition::Solo => 0b11,
        }
    }

    /// Whether a message starts with this packet.
    pub fn is_first(self) -> bool {
        matches!(self, PacketPosition::First | PacketPosition::Solo)
    }

    /// Whether a message ends with this packet.
    pub fn is_last(self) -> bool {
        matches!(self, PacketPosition::Last | PacketPosition::Solo)
    }
}

/// Which stream-encrypting key encrypted a data packet (the KK bits).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DataKeyFlags {
    /// Not encrypted (`00`).
    Clear,
    /// Encrypted with the even key (`01`).
    Even,
    /// Encrypted with the odd key (`10`).
    Odd,
}

/// A data packet; the payload is borrowed from the datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DataPacket<'a> {
    /// The packet sequence number.
    pub seq: SeqNumber,
    /// The packet's place in its message.
    pub position: PacketPosition,
    /// The in-order delivery flag (O).
    pub in_order: bool,
    /// The key that encrypted the payload.
    pub key: DataKeyFlags,
    /// Whether this is a retransmission (R).
    pub retransmitted: bool,
    /// The message number (0 for packet-filter packets).
    pub msg_number: MsgNumber,
    /// The timestamp, in microseconds since the sender started.
    pub timestamp: Timestamp,
    /// The destination socket.
    pub dest_socket: SocketId,
    /// The payload, encrypted if `key` is not [`DataKeyFlags::Clear`].
    pub payload: &'a [u8],
}

const PP_SHIFT: u32 = 30;
const O_BIT: u32 = 1 << 29;
const KK_SHIFT: u32 = 27;
const R_BIT: u32 = 1 << 26;

impl<'a> DataPacket<'a> {
    /// Decodes a data packet (bit 31 of the first word must be clear).
    pub fn decode(buf: &'a [u8]) -> Result<Self, DecodeError> {
        check_len("data packet", buf, HEADER_LEN)?;
        let w0 = word(buf, 0);
        if w0 & 0x8000_0000 != 0 {
            return Err(DecodeError::BadSequenceNumber {
                what: "data sequence number",
                value: w0,
            });
        }
        let w1 = word(buf, 4);
        let key = match (w1 >> KK_SHIFT) & 0b11 {
            0b00 => DataKeyFlags::Clear,
            0b01 => DataKeyFlags::Even,
            0b10 => DataKeyFlags::Odd,
            _ => return Err(DecodeError::BadDataKeyFlags),
        };
        Ok(DataPacket {
            seq: SeqNumber::new_truncate(w0),
            position: PacketPosition::from_bits(w1 >> PP_SHIFT),
            in_order: w1 & O_BIT != 0,
            key,
            retransmitted: w1 & R_BIT != 0,
            msg_number: MsgNumber::new_truncate(w1),
            timestamp: Timestamp::from_u32(word(buf, 8)),
            dest_socket: SocketId(word(buf, 12)),
            payload: &buf[HEADER_LEN..],
        })
    }

    /// The 16 header bytes as they go on the wire.
    pub fn header_bytes(&self) -> [u8; HEADER_LEN] {
        let key = match self.key {
            DataKeyFlags::Clear => 0,
            DataKeyFlags::Even => 1,
            DataKeyFlags::Odd => 2,
        };
        let w1 = (self.position.bits() << PP_SHIFT)
            | if self.in_order { O_BIT } else { 0 }
            | (key << KK_SHIFT)
            | if self.retransmitted { R_BIT } else { 0 }
            | self.msg_number.as_u32();
        let mut out = [0; HEADER_LEN];
        put_word(&mut out, 0, self.seq.as_u32());
        put_word(&mut out, 4, w1);
        put_word(&mut out, 8, self.timestamp.as_u32());
        put_word(&mut out, 12, self.dest_socket.0);
        out
    }

    /// Writes header and payload to the start of `buf`.
    pub fn encode(&self, buf: &mut [u8]) -> Result<usize, EncodeError> {
        let len = self.encoded_len();
        check_room(buf, len)?;
        buf[..HEADER_LEN].copy_from_slice(&self.header_bytes());
        buf[HEADER_LEN..len].copy_from_slice(self.payload);
        Ok(len)
    }

    /// Header plus payload length.
    pub fn encoded_len(&self) -> usize {
        HEADER_LEN + self.payload.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_bytes() {
        // seq 0x12345678, PP solo, O 0, KK even, R 1, msgno 5, ts 1000, dest 0x0abc
        let bytes = [
            0x12, 0x34, 0x56, 0x78, 0xcc, 0x00, 0x00, 0x05, 0x00, 0x00, 0x03, 0xe8, 0x00, 0x00,
            0x0a, 0xbc, 0xde, 0xad,
        ];
        let p = DataPacket::decode(&bytes).unwrap();
        assert_eq!(p.seq.as_u32(), 0x1234_5678);
        assert_eq!(p.position, PacketPosition::Solo);
        assert!(!p.in_order);
        assert_eq!(p.key, DataKeyFlags::Even);
        assert!(p.retransmitted);
        assert_eq!(p.msg_number.as_u32(), 5);
        assert_eq!(p.timestamp.as_u32(), 1000);
        assert_eq!(p.dest_socket, SocketId(0xabc));
        assert_eq!(p.payload, &[0xde, 0xad]);
        let mut out = [0u8; 64];
        let n = p.encode(&mut out).unwrap();
        assert_eq!(&out[..n], &bytes);
        assert!(p.encode(&mut out[..17]).is_err());
    }

    #[test]
    fn rejects_kk_11() {
        let mut bytes = [0u8; 16];
        bytes[4] = 0x18;
        assert_eq!(
            DataPacket::decode(&bytes),
            Err(DecodeError::BadDataKeyFlags)
        );
    }
}
