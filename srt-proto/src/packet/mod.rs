//! The SRT wire format: every data and control packet of libsrt 1.5.
//!
//! [`Packet::decode`] reads a UDP payload into a typed packet without copying
//! data payloads and rejects anything malformed with a [`DecodeError`]; it
//! never panics, whatever the bytes. [`Packet::encode`] writes a packet into a
//! caller's buffer. Decoding and encoding a data packet allocate nothing.
//!
//! Where the IETF draft (draft-sharabayko-srt) and libsrt differ, the bytes
//! follow libsrt; the places are marked in comments.

mod control;
mod data;
mod handshake;
mod km;

pub use control::{control_type, Ack, AckInfo, ControlBody, ControlPacket, LossList, LossListIter};
pub use data::{DataKeyFlags, DataPacket, PacketPosition};
pub use handshake::{
    GroupBlock, Handshake, HandshakeType, HsExtension, KmResponse, PeerAddress, RejectReason,
    SrtFlags, SrtHandshake, SrtVersion, StreamId, HANDSHAKE_LEN, HS_MAGIC, MAX_CONGESTION_LEN,
    MAX_FILTER_LEN, MAX_STREAM_ID_LEN,
};
pub use km::{Cipher, KeyMaterial, KmKeys, KmState, KM_MAX_LEN};

use crate::seq::Timestamp;
use core::fmt;

/// The length of the SRT packet header that every packet starts with.
pub const HEADER_LEN: usize = 16;

/// The destination socket ID of an SRT packet (0 addresses a listener or a
/// rendezvous peer whose ID is not known yet).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct SocketId(pub u32);

impl fmt::Debug for SocketId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SocketId({:#010x})", self.0)
    }
}

crate::seq::number_fmt!(SocketId);

/// Why bytes could not be decoded as an SRT packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The datagram or a part of it is shorter than its layout needs.
    #[error("{what} needs {needed} bytes, got {got}")]
    TooShort {
        /// The part being decoded.
        what: &'static str,
        /// The bytes it needs.
        needed: usize,
        /// The bytes present.
        got: usize,
    },
    /// A length that must be a multiple of 4 bytes is not.
    #[error("{what} length {len} is not a multiple of 4")]
    Unaligned {
        /// The part being decoded.
        what: &'static str,
        /// Its length in bytes.
        len: usize,
    },
    /// A data packet with the invalid key flags `11`.
    #[error("data packet with invalid encryption key flags 0b11")]
    BadDataKeyFlags,
    /// A sequence number field has bit 31 set.
    #[error("{what} has bit 31 set: {value:#010x}")]
    BadSequenceNumber {
        /// The field.
        what: &'static str,
        /// Its raw value.
        value: u32,
    },
    /// A loss report ends with the start of a range and no end.
    #[error("loss report ends with a range start and no end")]
    DanglingLossRange,
    /// A loss report range whose end comes before its start.
    #[error("loss report range {first}..{last} is reversed")]
    ReversedLossRange {
        /// Raw start.
        first: u32,
        /// Raw end.
        last: u32,
    },
    /// A loss report with no entries.
    #[error("loss report is empty")]
    EmptyLossReport,
    /// A handshake request type that is neither a known type nor a rejection.
    #[error("unknown handshake request type {0:#010x}")]
    UnknownHandshakeType(u32),
    /// A handshake field outside libsrt's valid range.
    #[error("handshake {field} out of range: {value}")]
    BadHandshakeField {
        /// The field.
        field: &'static str,
        /// Its raw value.
        value: u32,
    },
    /// A handshake extension block whose length runs past the packet's end.
    #[error("handshake extension type {kind} of {words} words overruns the packet")]
    ExtensionOverrun {
        /// The block type.
        kind: u16,
        /// Its length in 32-bit words.
        words: u16,
    },
    /// A handshake extension block with a length its type does not allow.
    #[error("handshake extension type {kind} has invalid length of {words} words")]
    BadExtensionLength {
        /// The block type.
        kind: u16,
        /// Its length in 32-bit words.
        words: u16,
    },
    /// A handshake carries the same configuration block twice.
    #[error("handshake extension type {0} appears twice")]
    DuplicateExtension(u16),
    /// A key material message that libsrt would refuse.
    #[error("key material: {0}")]
    KeyMaterial(&'static str),
    /// A key material state word with an undefined value.
    #[error("unknown key material state {0}")]
    UnknownKmState(u32),
}

/// Why a packet could not be encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// The output buffer is smaller than the encoded packet.
    #[error("buffer of {have} bytes is too small for {needed}")]
    BufferTooSmall {
        /// The encoded length.
        needed: usize,
        /// The buffer's length.
        have: usize,
    },
    /// A field holds a value its wire layout cannot carry.
    #[error("{0} cannot be encoded")]
    FieldTooLarge(&'static str),
}

/// One SRT packet: data or control.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Packet<'a> {
    /// A data packet.
    Data(DataPacket<'a>),
    /// A control packet.
    Control(ControlPacket<'a>),
}

impl<'a> Packet<'a> {
    /// Decodes one UDP payload; data payloads are borrowed from `buf`.
    pub fn decode(buf: &'a [u8]) -> Result<Self, DecodeError> {
        check_len("packet header", buf, HEADER_LEN)?;
        if buf[0] & 0x80 == 0 {
            DataPacket::decode(buf).map(Packet::Data)
        } else {
            ControlPacket::decode(buf).map(Packet::Control)
        }
    }

    /// Writes the packet to the start of `buf`, returning the bytes written.
    pub fn encode(&self, buf: &mut [u8]) -> Result<usize, EncodeError> {
        match self {
            Packet::Data(d) => d.encode(buf),
            Packet::Control(c) => c.encode(buf),
        }
    }

    /// The number of bytes [`Packet::encode`] writes.
    pub fn encoded_len(&self) -> usize {
        match self {
            Packet::Data(d) => d.encoded_len(),
            Packet::Control(c) => c.encoded_len(),
        }
    }

    /// The socket the packet is addressed to.
    pub fn dest_socket(&self) -> SocketId {
        match self {
            Packet::Data(d) => d.dest_socket,
            Packet::Control(c) => c.dest_socket,
        }
    }

    /// The packet's timestamp.
    pub fn timestamp(&self) -> Timestamp {
        match self {
            Packet::Data(d) => d.timestamp,
            Packet::Control(c) => c.timestamp,
        }
    }
}

/// Fails unless `buf` holds at least `needed` bytes.
fn check_len(what: &'static str, buf: &[u8], needed: usize) -> Result<(), DecodeError> {
    if buf.len() < needed {
        Err(DecodeError::TooShort {
            what,
            needed,
            got: buf.len(),
        })
    } else {
        Ok(())
    }
}

/// Fails unless `buf` can hold `needed` bytes.
fn check_room(buf: &[u8], needed: usize) -> Result<(), EncodeError> {
    if buf.len() < needed {
        Err(EncodeError::BufferTooSmall {
            needed,
            have: buf.len(),
        })
    } else {
        Ok(())
    }
}

/// The big-endian word at byte offset `at` (the caller checked the length).
fn word(buf: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([buf[at], buf[at + 1], buf[at + 2], buf[at + 3]])
}

/// Writes `value` big-endian at byte offset `at` (the caller checked room).
fn put_word(buf: &mut [u8], at: usize, value: u32) {
    buf[at..at + 4].copy_from_slice(&value.to_be_bytes());
}

#[cfg(test)]
pub(crate) mod strategies;
