//! libsrt's builtin FEC filter, sans-IO: XOR parity over row and column
//! groups of a `cols × rows` matrix of consecutive data packets.
//!
//! # On the wire (libsrt 1.5, fec.cpp)
//!
//! A FEC packet is a DATA packet with message number 0
//! ([`MsgNumber::FILTER`]), position solo, no order/retransmit flag, the
//! sender's current key flags, and **the sequence number of the last data
//! packet sent** (it does not take a sequence number of its own). It is sent
//! right after the data packet that completes its group; when that packet
//! completes a column and a row, the column's packet goes first. Its
//! timestamp is the XOR of the group's timestamps; its payload is:
//!
//! | bytes | content |
//! |---|---|
//! | 0 | group index: −1 (0xFF) for a row, the column index otherwise |
//! | 1 | XOR of the data packets' key flags (KK: 0, 1, 2) |
//! | 2–3 | XOR of the payload lengths, big-endian |
//! | 4… | XOR of the payloads, each zero-padded to the payload size |
//!
//! Row `r` holds packets `r·cols … r·cols+cols−1` counted from the ISN.
//! Column `c` of matrix `s` starts at `s·cols·rows + c` (even layout) or
//! `s·cols·rows + c + (c mod rows)·cols` (staircase) and holds every
//! `cols`-th packet, `rows` of them. `rows = 1`: rows only; negative rows:
//! columns only (the sender still counts rows but sends no row packet).
//!
//! A rebuilt packet gets message number 1, position solo, the retransmitted
//! flag (it arrives out of order), the in-order flag of the last data packet
//! received, and the group's XORed key flags, timestamp and length.
//!
//! # Memory
//!
//! Both sides allocate at construction, from the configuration only. The
//! receiver keeps a window of 2 (rows only), 3 (even) or 4 (staircase)
//! matrices, as libsrt keeps its history; a packet beyond it moves the window
//! (libsrt's `CheckLargeDrop`), a packet before it passes through untouched.
//! Rebuilt packets go to a pool that grows to at most one packet per group
//! in the window. Nothing is allocated per packet once that pool is warm.

use crate::filter::config::{ArqLevel, FecConfig, FecLayout, FilterConfigError};
use crate::options::LIVE_MAX_PAYLOAD_SIZE;
use crate::packet::{DataKeyFlags, DataPacket, PacketPosition, SocketId};
use crate::seq::{MsgNumber, SeqNumber, SeqRange, Timestamp};

/// Bytes of FEC header before the payload clip.
pub const FEC_HEADER_LEN: usize = 4;

/// Group index byte of a row FEC packet.
const ROW_INDEX: u8 = 0xFF;

/// Why the FEC sender refused a call.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FecError {
    /// Payload size outside 1 ..= 1452 (a FEC packet must fit in 1456 bytes).
    #[error("FEC payload size {0} outside 1..=1452")]
    PayloadSize(usize),
    /// A data packet longer than the configured payload size.
    #[error("data payload of {len} bytes exceeds the FEC payload size {max}")]
    PayloadTooLarge {
        /// Its length.
        len: usize,
        /// The payload size.
        max: usize,
    },
    /// A hand-built [`FecConfig`] outside the accepted ranges.
    #[error("invalid FEC configuration: {0}")]
    Config(#[from] FilterConfigError),
    /// The output buffer cannot hold a FEC packet's payload.
    #[error("buffer of {len} bytes cannot hold a {need}-byte FEC payload")]
    BufferTooSmall {
        /// The buffer's length.
        len: usize,
        /// Bytes needed.
        need: usize,
    },
}

fn key_bits(k: DataKeyFlags) -> u8 {
    match k {
        DataKeyFlags::Clear => 0,
        DataKeyFlags::Even => 1,
        DataKeyFlags::Odd => 2,
    }
}

fn key_from_bits(b: u8) -> Option<DataKeyFlags> {
    match b {
        0 => Some(DataKeyFlags::Clear),
        1 => Some(DataKeyFlags::Even),
        2 => Some(DataKeyFlags::Odd),
        _ => None,
    }
}

fn xor_into(dst: &mut [u8], src: &[u8]) {
    for (d, s) in dst.iter_mut().zip(src) {
        *d ^= *s;
    }
}

/// The XOR state of one group (lengths, flags, timestamps); the payload
/// clip lives in the owner's arena.
#[derive(Clone, Copy, Debug, Default)]
struct Clip {
    length: [u8; 2],
    flags: u8,
    timestamp: u32,
}

impl Clip {
    fn add(&mut self, length: [u8; 2], flags: u8, timestamp: u32) {
        self.length[0] ^= length[0];
        self.length[1] ^= length[1];
        self.flags ^= flags;
        self.timestamp ^= timestamp;
    }
}

fn payload_len_bytes(len: usize) -> [u8; 2] {
    // Lengths are at most 1456, so they fit.
    (len as u16).to_be_bytes()
}

/// Offset of column `c`'s first packet from the matrix's first packet.
fn column_offset(cfg: &FecConfig, c: u32) -> u32 {
    match cfg.layout {
        FecLayout::Even => c,
        FecLayout::Staircase => c + (c % cfg.rows) * cfg.cols,
    }
}

mod recv;
mod send;

pub use recv::{FecReceiver, FecReceiverStats, Rebuilt, RecvVerdict};
pub use send::{FecControl, FecSender};
