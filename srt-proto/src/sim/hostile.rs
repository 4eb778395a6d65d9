//! A hostile peer: control packets crafted byte by byte and injected with a
//! peer's own address ([`Network::inject`](super::Network::inject)), for
//! tests of what the engine does with packets that decode but lie (a NAK
//! beyond what was sent, an ACK from the future, a repeated ACKACK...) or
//! that do not decode at all (key material of the wrong length).
//!
//! What a crafted packet needs to know of the connection (the victim's
//! socket ID, the sequence numbers it sent) comes from a [`PathView`]: what
//! the network saw go by on the path, which it records once anything is
//! injected.
//!
//! ```
//! use srt_proto::sim::{hostile, link::LinkConfig, Network};
//! use srt_proto::seq::SeqRange;
//! use std::time::Duration;
//!
//! let mut net = Network::new(1, LinkConfig::default());
//! let (a, b) = ("127.0.0.1:5000".parse().unwrap(), "127.0.0.1:9000".parse().unwrap());
//! // At 2 s, a NAK "from a" to b for 2^30 + 1 numbers from the one after
//! // the next b would send: its end is 2^30 + 1 past that, which the short
//! // way round the 31-bit ring looks *before* it.
//! net.inject(Duration::from_secs(2), a, b, |view| {
//!     let first = view.reverse.last_data_seq? + 2;
//!     let range = SeqRange { first, last: first + (1 << 30) };
//!     Some(hostile::nak(view.forward.dest_socket?, &[range]))
//! });
//! ```

use crate::packet::{control_type, Ack, AckInfo, ControlBody, ControlPacket, LossList, SocketId};
use crate::seq::{MsgNumber, SeqNumber, SeqRange, Timestamp};

/// The SRT EXT subtype of an in-band KMREQ (`SRT_CMD_KMREQ`).
pub const EXT_KMREQ: u16 = 3;
/// The SRT EXT subtype of an in-band KMRSP (`SRT_CMD_KMRSP`).
pub const EXT_KMRSP: u16 = 4;

/// What the network saw on one direction of a path (one sender to one
/// receiver address), once it records (see the module docs).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Observed {
    /// The destination socket ID of the last packet sent that way (the
    /// receiving socket, once connected).
    pub dest_socket: Option<SocketId>,
    /// The sequence number of the last data packet sent that way that was
    /// not a retransmission (the sender's newest).
    pub last_data_seq: Option<SeqNumber>,
    /// The ACK number and acknowledged sequence number of the last full ACK
    /// sent that way.
    pub last_full_ack: Option<(u32, SeqNumber)>,
    /// The timestamp of the last packet sent that way.
    pub last_timestamp: Option<Timestamp>,
}

impl Observed {
    /// Records what `datagram` shows.
    pub(crate) fn record(&mut self, datagram: &[u8]) {
        let Ok(packet) = crate::packet::Packet::decode(datagram) else {
            return;
        };
        self.dest_socket = Some(packet.dest_socket());
        match &packet {
            crate::packet::Packet::Data(d) => {
                self.last_timestamp = Some(d.timestamp);
                if !d.retransmitted {
                    self.last_data_seq = Some(d.seq);
                }
            }
            crate::packet::Packet::Control(c) => {
                self.last_timestamp = Some(c.timestamp);
                if let ControlBody::Ack(Ack {
                    ack_number,
                    ack_seq,
                    info: AckInfo::Full { .. },
                }) = c.body
                {
                    self.last_full_ack = Some((ack_number, ack_seq));
                }
            }
        }
    }
}

/// What a crafting function of [`Network::inject`](super::Network::inject)
/// sees: the traffic between the forged source and the victim so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PathView {
    /// From the forged source to the victim: its `dest_socket` is the
    /// victim's socket ID.
    pub forward: Observed,
    /// From the victim to the forged source: what the victim sent.
    pub reverse: Observed,
}

/// A control packet of `body` to socket `dest`, encoded.
pub fn control(dest: SocketId, body: ControlBody<'_>) -> Vec<u8> {
    let packet = ControlPacket {
        timestamp: Timestamp::default(),
        dest_socket: dest,
        body,
    };
    let mut buf = vec![0u8; packet.encoded_len()];
    let n = packet
        .encode(&mut buf)
        .expect("a control packet fits its own encoded length");
    buf.truncate(n);
    buf
}

/// A NAK (LOSSREPORT) of `ranges` to socket `dest`.
///
/// # Panics
/// If `ranges` is empty or too many to encode in one 1500-byte datagram.
pub fn nak(dest: SocketId, ranges: &[SeqRange]) -> Vec<u8> {
    let mut scratch = [0u8; 1456];
    let list = LossList::encode_ranges(ranges, &mut scratch).expect("ranges fit one NAK");
    control(dest, ControlBody::LossReport(list))
}

/// A full ACK of `ack_seq` numbered `ack_number` to socket `dest`, with
/// plausible statistics (RTT 10 ms, 8192 packets free).
pub fn ack(dest: SocketId, ack_number: u32, ack_seq: SeqNumber) -> Vec<u8> {
    control(
        dest,
        ControlBody::Ack(Ack {
            ack_number,
            ack_seq,
            info: AckInfo::Full {
                rtt: 10_000,
                rtt_var: 5_000,
                buffer_available: 8192,
                packet_recv_rate: 1000,
                link_capacity: 10_000,
                recv_rate: 1_000_000,
            },
        }),
    )
}

/// A light ACK of `ack_seq` to socket `dest`.
pub fn light_ack(dest: SocketId, ack_seq: SeqNumber) -> Vec<u8> {
    control(
        dest,
        ControlBody::Ack(Ack {
            ack_number: 0,
            ack_seq,
            info: AckInfo::Light,
        }),
    )
}

/// An ACKACK of ACK number `ack_number` to socket `dest`.
pub fn ackack(dest: SocketId, ack_number: u32) -> Vec<u8> {
    control(dest, ControlBody::AckAck { ack_number })
}

/// A DROPREQ of `first ..= last` (message number unknown) to socket `dest`.
pub fn dropreq(dest: SocketId, first: SeqNumber, last: SeqNumber) -> Vec<u8> {
    control(
        dest,
        ControlBody::DropRequest {
            msg_number: MsgNumber::FILTER,
            first,
            last,
        },
    )
}

/// An SRT EXT control packet of `subtype` ([`EXT_KMREQ`], [`EXT_KMRSP`]...)
/// carrying `cif` as is, to socket `dest`: key material of any length.
pub fn ext(dest: SocketId, subtype: u16, cif: &[u8]) -> Vec<u8> {
    control(
        dest,
        ControlBody::Other {
            control_type: control_type::EXT,
            subtype,
            type_info: 0,
            cif,
        },
    )
}
