//! The sending half: data packets in, FEC packets out.

use super::*;

#[derive(Clone, Copy, Debug)]
struct SndGroup {
    base: SeqNumber,
    collected: u32,
    clip: Clip,
}

/// A FEC packet ready to send: its header fields; the payload was written
/// into the caller's buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FecControl {
    /// Sequence number: that of the last data packet sent.
    pub seq: SeqNumber,
    /// Timestamp: XOR of the group's timestamps.
    pub timestamp: Timestamp,
    /// Payload bytes written (4 + payload size).
    pub len: usize,
}

impl FecControl {
    /// The DATA packet to send, as libsrt packs it: message number 0, solo,
    /// not in order, not retransmitted, `key` = the sender's current key
    /// flags (the payload itself is never encrypted).
    pub fn packet<'a>(
        &self,
        payload: &'a [u8],
        key: DataKeyFlags,
        dest_socket: SocketId,
    ) -> DataPacket<'a> {
        DataPacket {
            seq: self.seq,
            position: PacketPosition::Solo,
            in_order: false,
            key,
            retransmitted: false,
            msg_number: MsgNumber::FILTER,
            timestamp: self.timestamp,
            dest_socket,
            payload: &payload[..self.len.min(payload.len())],
        }
    }
}

/// The sending half of the builtin FEC filter.
///
/// Feed every *new* data packet once, after encryption, with
/// [`feed`](Self::feed); then, before packing the next new data packet,
/// call [`pack_control`](Self::pack_control) with the last data sequence
/// number until it returns `None`, sending each FEC packet it yields
/// (libsrt calls it once per send slot, ahead of new data).
#[derive(Clone, Debug)]
pub struct FecSender {
    cfg: FecConfig,
    payload_size: usize,
    row: SndGroup,
    cols: Vec<SndGroup>,
    /// Payload clips: the row's, then one per column.
    clips: Vec<u8>,
    sent: u64,
}

impl FecSender {
    /// A sender whose first data packet will carry `first_seq` (the ISN);
    /// `payload_size` is the largest payload (`SRTO_PAYLOADSIZE` plus the
    /// AEAD tag, if any), at most 1452.
    pub fn new(
        cfg: FecConfig,
        first_seq: SeqNumber,
        payload_size: usize,
    ) -> Result<Self, FecError> {
        cfg.validate()?;
        if payload_size == 0 || payload_size + FEC_HEADER_LEN > LIVE_MAX_PAYLOAD_SIZE as usize {
            return Err(FecError::PayloadSize(payload_size));
        }
        let ncols = if cfg.has_columns() {
            cfg.cols as usize
        } else {
            0
        };
        let cols = (0..ncols as u32)
            .map(|c| SndGroup {
                base: first_seq + column_offset(&cfg, c) as i32,
                collected: 0,
                clip: Clip::default(),
            })
            .collect();
        Ok(FecSender {
            cfg,
            payload_size,
            row: SndGroup {
                base: first_seq,
                collected: 0,
                clip: Clip::default(),
            },
            cols,
            clips: vec![0; (1 + ncols) * payload_size],
            sent: 0,
        })
    }

    /// Payload bytes of every FEC packet this sender makes (4 + payload size).
    pub fn control_len(&self) -> usize {
        FEC_HEADER_LEN + self.payload_size
    }

    /// FEC packets yielded so far (libsrt's `pktSndFilterExtra`).
    pub fn sent_filter_extra(&self) -> u64 {
        self.sent
    }

    fn clip_slice(&mut self, index: usize) -> &mut [u8] {
        let ps = self.payload_size;
        &mut self.clips[index * ps..(index + 1) * ps]
    }

    /// Adds a new data packet (its final, possibly encrypted, payload) to
    /// its row and column groups.
    pub fn feed(&mut self, pkt: &DataPacket<'_>) -> Result<(), FecError> {
        let len = pkt.payload.len();
        if len > self.payload_size {
            return Err(FecError::PayloadTooLarge {
                len,
                max: self.payload_size,
            });
        }
        let cols = self.cfg.cols as i32;
        let (lenb, flags, ts) = (
            payload_len_bytes(len),
            key_bits(pkt.key),
            pkt.timestamp.as_u32(),
        );
        let off = pkt.seq.offset_from(self.row.base);
        if off >= 0 {
            if off >= cols {
                // libsrt closes the group here; skip whole rows if the
                // numbering jumped (libsrt would clip into a wrong group).
                self.row.base = self.row.base + (off / cols) * cols;
                self.row.collected = 0;
                self.row.clip = Clip::default();
                self.clip_slice(0).fill(0);
            }
            self.row.clip.add(lenb, flags, ts);
            self.row.collected += 1;
            xor_into(self.clip_slice(0), pkt.payload);
        }
        if self.cols.is_empty() {
            return Ok(());
        }
        let gx = off.rem_euclid(cols) as usize;
        let g = &mut self.cols[gx];
        let voff = pkt.seq.offset_from(g.base);
        // A negative offset: the packet lies before this column's first group
        // (the staircase's first matrix); it belongs to no column.
        if voff < 0 || voff % cols != 0 {
            return Ok(());
        }
        let rows = self.cfg.rows as i32;
        let pos = voff / cols;
        if pos >= rows {
            g.base = g.base + (pos / rows) * rows * cols;
            g.collected = 0;
            g.clip = Clip::default();
            self.clip_slice(1 + gx).fill(0);
        }
        let g = &mut self.cols[gx];
        g.clip.add(lenb, flags, ts);
        g.collected += 1;
        xor_into(self.clip_slice(1 + gx), pkt.payload);
        Ok(())
    }

    /// Whether [`pack_control`](Self::pack_control) would yield a FEC
    /// packet after data packet `last_seq` (a row group that is complete
    /// with columns only is reset by the next [`feed`](Self::feed)).
    pub fn control_due(&self, last_seq: SeqNumber) -> bool {
        if !self.cols.is_empty() {
            let off = last_seq.offset_from(self.row.base);
            if off >= 0 {
                let gx = (off % self.cfg.cols as i32) as usize;
                if self.cols[gx].collected >= self.cfg.rows {
                    return true;
                }
            }
        }
        self.row.collected >= self.cfg.cols && !self.cfg.cols_only
    }

    /// The next FEC packet due after data packet `last_seq` (the sequence
    /// number of the last new data packet sent), written into `out`
    /// (at least [`control_len`](Self::control_len) bytes); `None` when
    /// nothing is due. libsrt's `packControlPacket`.
    pub fn pack_control(
        &mut self,
        last_seq: SeqNumber,
        out: &mut [u8],
    ) -> Result<Option<FecControl>, FecError> {
        let need = self.control_len();
        if out.len() < need {
            return Err(FecError::BufferTooSmall {
                len: out.len(),
                need,
            });
        }
        if !self.cols.is_empty() {
            let off = last_seq.offset_from(self.row.base);
            if off >= 0 {
                let gx = (off % self.cfg.cols as i32) as usize;
                if self.cols[gx].collected >= self.cfg.rows {
                    let ctl = self.write(1 + gx, gx as u8, last_seq, out);
                    let m = self.cfg.matrix_size() as i32;
                    let g = &mut self.cols[gx];
                    g.base = g.base + m;
                    g.collected = 0;
                    g.clip = Clip::default();
                    self.clip_slice(1 + gx).fill(0);
                    return Ok(Some(ctl));
                }
            }
        }
        if self.row.collected >= self.cfg.cols {
            let ctl = (!self.cfg.cols_only).then(|| self.write(0, ROW_INDEX, last_seq, out));
            self.row.base = self.row.base + self.cfg.cols as i32;
            self.row.collected = 0;
            self.row.clip = Clip::default();
            self.clip_slice(0).fill(0);
            return Ok(ctl);
        }
        Ok(None)
    }

    fn write(&mut self, slot: usize, index: u8, seq: SeqNumber, out: &mut [u8]) -> FecControl {
        let clip = if slot == 0 {
            self.row.clip
        } else {
            self.cols[slot - 1].clip
        };
        let ps = self.payload_size;
        out[0] = index;
        out[1] = clip.flags;
        out[2..4].copy_from_slice(&clip.length);
        out[FEC_HEADER_LEN..FEC_HEADER_LEN + ps]
            .copy_from_slice(&self.clips[slot * ps..(slot + 1) * ps]);
        self.sent += 1;
        FecControl {
            seq,
            timestamp: Timestamp::from_u32(clip.timestamp),
            len: FEC_HEADER_LEN + ps,
        }
    }
}
