//! The packet filter at the transfer's packet seam (see the module docs of
//! [`transfer`](super)): the sending half feeds every new data packet, as it
//! goes on the wire, to the builtin FEC and sends the FEC packets it makes
//! ahead of the next new data packet; the receiving half lives in the
//! transfer (`Transfer::on_data`), which gives every data packet off the
//! wire to [`FecReceiver`](crate::filter::FecReceiver) before decryption.

use crate::crypto::KeyIndex;
use crate::filter::{FecConfig, FecSender};
use crate::packet::{DataKeyFlags, DataPacket};
use crate::seq::SeqNumber;

/// The data key flags of a packet sent with `key` (clear without one).
pub(super) fn key_flags(key: Option<KeyIndex>) -> DataKeyFlags {
    match key {
        None => DataKeyFlags::Clear,
        Some(KeyIndex::Even) => DataKeyFlags::Even,
        Some(KeyIndex::Odd) => DataKeyFlags::Odd,
    }
}

/// The sending half of the filter: the FEC sender, the sequence number of
/// the last new data packet sent (libsrt's `m_iSndCurrSeqNo`), and the
/// buffer FEC payloads are written into (allocated once).
#[derive(Debug)]
pub(super) struct FilterTx {
    fec: FecSender,
    last_seq: SeqNumber,
    payload: Box<[u8]>,
}

impl FilterTx {
    /// A filter for a sender whose first packet carries `isn`, with
    /// payloads of at most `payload_size` bytes on the wire; `None` if the
    /// sizes do not fit a FEC packet.
    pub(super) fn new(cfg: FecConfig, isn: SeqNumber, payload_size: usize) -> Option<Self> {
        let fec = FecSender::new(cfg, isn, payload_size).ok()?;
        let payload = vec![0; fec.control_len()].into_boxed_slice();
        Some(FilterTx {
            fec,
            last_seq: isn - 1,
            payload,
        })
    }

    /// Whether a FEC packet is due before the next new data packet.
    pub(super) fn control_due(&self) -> bool {
        self.fec.control_due(self.last_seq)
    }

    /// A new data packet as it goes on the wire (encrypted if so).
    pub(super) fn feed(&mut self, packet: &DataPacket<'_>) {
        self.last_seq = packet.seq;
        // The sizes were checked when the filter was made: a packet never
        // exceeds the payload size the FEC sender was given.
        let fed = self.fec.feed(packet);
        debug_assert!(fed.is_ok(), "{fed:?}");
    }

    /// Writes the next due FEC packet, addressed to `peer`, with the
    /// sender's current key flags, into `buf`: its length, or `None` if
    /// none is due.
    pub(super) fn pack(
        &mut self,
        key: DataKeyFlags,
        peer: crate::packet::SocketId,
        buf: &mut [u8],
    ) -> Result<Option<usize>, crate::packet::EncodeError> {
        let Ok(Some(ctl)) = self.fec.pack_control(self.last_seq, &mut self.payload) else {
            return Ok(None);
        };
        ctl.packet(&self.payload, key, peer).encode(buf).map(Some)
    }
}
