//! The receiving half: data and FEC packets in, rebuilt packets and
//! irrecoverable losses out.

use super::*;

/// What the engine should do with a packet it gave the receiver.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecvVerdict {
    /// A data packet: hand it on to the receive buffer (duplicates and
    /// packets too old for FEC included, as libsrt does).
    Deliver,
    /// A FEC packet, used (or a duplicate): nothing to deliver.
    Consumed,
    /// A malformed FEC packet (too short, too long, bad group index): dropped
    /// and counted.
    Malformed,
}

/// A packet the receiver rebuilt from a FEC group.
#[derive(Clone, Debug)]
pub struct Rebuilt {
    /// Its sequence number.
    pub seq: SeqNumber,
    /// Its timestamp.
    pub timestamp: Timestamp,
    /// Its key flags (the payload is as it was sent: encrypted if so).
    pub key: DataKeyFlags,
    /// The in-order flag, taken from the last data packet received.
    pub in_order: bool,
    payload: Vec<u8>,
}

impl Rebuilt {
    /// Its payload.
    pub fn payload(&self) -> &[u8] {
        &self.payload
    }

    /// As the data packet libsrt makes of it: message number 1, solo,
    /// retransmitted.
    pub fn packet(&self, dest_socket: SocketId) -> DataPacket<'_> {
        DataPacket {
            seq: self.seq,
            position: PacketPosition::Solo,
            in_order: self.in_order,
            key: self.key,
            retransmitted: true,
            msg_number: MsgNumber::FIRST,
            timestamp: self.timestamp,
            dest_socket,
            payload: &self.payload,
        }
    }
}

/// Receiver counters, libsrt's names.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FecReceiverStats {
    /// FEC packets received and not delivered (`pktRcvFilterExtra`).
    pub filter_extra: u64,
    /// Packets rebuilt (`pktRcvFilterSupply`).
    pub filter_supply: u64,
    /// Packets reported irrecoverable (`pktRcvFilterLoss`).
    pub filter_loss: u64,
    /// FEC packets dropped as malformed (also counted in `filter_extra`).
    pub malformed: u64,
    /// Data packets longer than the payload capacity, delivered without FEC,
    /// and groups whose XOR gave an impossible length or key.
    pub unusable: u64,
}

const NONE: u64 = u64::MAX;

#[derive(Clone, Copy, Debug)]
struct RcvGroup {
    id: u64,
    collected: u32,
    fec: bool,
    done: bool,
    clip: Clip,
}

impl RcvGroup {
    const EMPTY: RcvGroup = RcvGroup {
        id: NONE,
        collected: 0,
        fec: false,
        done: false,
        clip: Clip {
            length: [0; 2],
            flags: 0,
            timestamp: 0,
        },
    };
}

#[derive(Clone, Copy, Debug)]
enum GroupRef {
    Row(u64),
    /// Column group `(series, column)`.
    Col(u64, u32),
}

/// The receiving half of the builtin FEC filter.
///
/// Give it every data and FEC packet with [`receive`](Self::receive); after
/// each call, [`rebuilt`](Self::rebuilt) holds the packets it rebuilt
/// (sorted by sequence number) and [`irrecoverable`](Self::irrecoverable)
/// the losses to report (only with `arq:onreq`), both valid until the next
/// call.
#[derive(Clone, Debug)]
pub struct FecReceiver {
    cfg: FecConfig,
    cap: usize,
    /// Matrices in the window.
    k: u64,
    m: u64,
    /// First matrix of the window, and its first sequence number.
    front: u64,
    front_seq: SeqNumber,
    /// The matrix whose column groups are being reported, and how many of
    /// them (in `col_order`) are done.
    rep_series: u64,
    rep_next: usize,
    /// Columns by the position of their first packet (= of their last).
    col_order: Vec<u32>,
    have: Vec<u64>,
    reported: Vec<u64>,
    rows: Vec<RcvGroup>,
    cols: Vec<RcvGroup>,
    clips: Vec<u8>,
    order_required: bool,
    out: Vec<Rebuilt>,
    nout: usize,
    losses: Vec<SeqRange>,
    work: Vec<GroupRef>,
    stats: FecReceiverStats,
}

impl FecReceiver {
    /// A receiver whose first data packet carries `first_seq` (the peer's
    /// ISN); `capacity` is the largest payload it accepts for FEC (the
    /// largest the peer may send: 1456 is always safe).
    pub fn new(cfg: FecConfig, first_seq: SeqNumber, capacity: usize) -> Result<Self, FecError> {
        cfg.validate()?;
        if capacity == 0 || capacity > LIVE_MAX_PAYLOAD_SIZE as usize {
            return Err(FecError::PayloadSize(capacity));
        }
        let k: u64 = match (cfg.has_columns(), cfg.layout) {
            (false, _) => 2,
            (true, FecLayout::Even) => 3,
            (true, FecLayout::Staircase) => 4,
        };
        let m = u64::from(cfg.matrix_size());
        let nrows = (k * u64::from(cfg.rows)) as usize;
        let ncols = if cfg.has_columns() {
            (k * u64::from(cfg.cols)) as usize
        } else {
            0
        };
        let words = ((k * m) as usize).div_ceil(64);
        Ok(FecReceiver {
            cfg,
            cap: capacity,
            k,
            m,
            front: 0,
            front_seq: first_seq,
            rep_series: 0,
            rep_next: 0,
            col_order: {
                let mut o: Vec<u32> = (0..ncols as u32 / k as u32).collect();
                o.sort_by_key(|&c| column_offset(&cfg, c));
                o
            },
            have: vec![0; words],
            reported: vec![0; words],
            rows: vec![RcvGroup::EMPTY; nrows],
            cols: vec![RcvGroup::EMPTY; ncols],
            clips: vec![0; (nrows + ncols) * capacity],
            order_required: false,
            out: Vec::new(),
            nout: 0,
            losses: Vec::with_capacity(64),
            work: Vec::with_capacity(nrows + ncols + 2),
            stats: FecReceiverStats::default(),
        })
    }

    /// Packets rebuilt by the last [`receive`](Self::receive), by sequence number.
    pub fn rebuilt(&self) -> &[Rebuilt] {
        &self.out[..self.nout]
    }

    /// Losses FEC gave up on during the last [`receive`](Self::receive), to
    /// report to the sender (`arq:onreq` only; empty with `never` and
    /// `always`, where the engine reports nothing or everything itself).
    pub fn irrecoverable(&self) -> &[SeqRange] {
        &self.losses
    }

    /// The counters.
    pub fn stats(&self) -> FecReceiverStats {
        self.stats
    }

    /// The configuration it was made with.
    pub fn config(&self) -> FecConfig {
        self.cfg
    }

    /// The retransmission policy: with [`ArqLevel::Always`] the engine
    /// reports losses itself as without a filter; otherwise it reports only
    /// [`irrecoverable`](Self::irrecoverable).
    pub fn arq(&self) -> ArqLevel {
        self.cfg.arq
    }

    // --- geometry -----------------------------------------------------

    fn bit(&self, set: &[u64], pos: u64) -> bool {
        if pos < self.front * self.m || pos >= (self.front + self.k) * self.m {
            return false;
        }
        let i = (pos % (self.k * self.m)) as usize;
        set[i / 64] & (1 << (i % 64)) != 0
    }

    fn set_bit(set: &mut [u64], k: u64, m: u64, pos: u64, on: bool) {
        let i = (pos % (k * m)) as usize;
        if on {
            set[i / 64] |= 1 << (i % 64);
        } else {
            set[i / 64] &= !(1 << (i % 64));
        }
    }

    fn seq_at(&self, pos: u64) -> SeqNumber {
        self.front_seq + (pos - self.front * self.m) as i32
    }

    /// The column group `(series, column)` holding `pos`, if any.
    fn column_of(&self, pos: u64) -> Option<(u64, u32)> {
        if !self.cfg.has_columns() {
            return None;
        }
        let c = (pos % u64::from(self.cfg.cols)) as u32;
        let off = u64::from(column_offset(&self.cfg, c));
        (pos >= off).then(|| ((pos - off) / self.m, c))
    }

    fn live_series(&self, s: u64) -> bool {
        s >= self.front && s < self.front + self.k
    }

    /// Slot index in `rows` / `cols`, initialising a stale slot; `None` if
    /// the group is outside the window.
    fn slot(&mut self, g: GroupRef) -> Option<(bool, usize)> {
        let (is_row, idx, id, s) = match g {
            GroupRef::Row(r) => {
                let rows = u64::from(self.cfg.rows);
                (true, (r % (self.k * rows)) as usize, r, r / rows)
            }
            GroupRef::Col(s, c) => {
                let cols = u64::from(self.cfg.cols);
                (
                    false,
                    ((s % self.k) * cols + u64::from(c)) as usize,
                    s * cols + u64::from(c),
                    s,
                )
            }
        };
        if !self.live_series(s) {
            return None;
        }
        let group = if is_row {
            &mut self.rows[idx]
        } else {
            &mut self.cols[idx]
        };
        if group.id != id {
            *group = RcvGroup {
                id,
                ..RcvGroup::EMPTY
            };
            let arena = if is_row { idx } else { self.rows.len() + idx };
            self.clips[arena * self.cap..(arena + 1) * self.cap].fill(0);
        }
        Some((is_row, idx))
    }

    fn group(&mut self, is_row: bool, idx: usize) -> &mut RcvGroup {
        if is_row {
            &mut self.rows[idx]
        } else {
            &mut self.cols[idx]
        }
    }

    fn arena(&self, is_row: bool, idx: usize) -> std::ops::Range<usize> {
        let a = if is_row { idx } else { self.rows.len() + idx };
        a * self.cap..(a + 1) * self.cap
    }

    /// Members of a group: first position, step, count.
    fn members(&self, g: GroupRef) -> (u64, u64, u32) {
        match g {
            GroupRef::Row(r) => (r * u64::from(self.cfg.cols), 1, self.cfg.cols),
            GroupRef::Col(s, c) => (
                s * self.m + u64::from(column_offset(&self.cfg, c)),
                u64::from(self.cfg.cols),
                self.cfg.rows,
            ),
        }
    }

    fn size(&self, g: GroupRef) -> u32 {
        self.members(g).2
    }

    // --- reception ----------------------------------------------------

    /// Takes one data packet or FEC packet (message number 0) off the wire.
    pub fn receive(&mut self, pkt: &DataPacket<'_>) -> RecvVerdict {
        self.nout = 0;
        self.losses.clear();
        let is_fec = pkt.msg_number == MsgNumber::FILTER;
        if is_fec {
            self.stats.filter_extra += 1;
        }
        let rel = pkt.seq.offset_from(self.front_seq);
        // Validate a FEC packet before it can move anything.
        let mut fec_group = None;
        if is_fec {
            let p = pkt.payload;
            if p.len() < FEC_HEADER_LEN || p.len() - FEC_HEADER_LEN > self.cap {
                self.stats.malformed += 1;
                return RecvVerdict::Malformed;
            }
            if p[0] != ROW_INDEX {
                let c = u32::from(p[0]);
                // The index must name a column, the one the sequence number lies in.
                let col_ok = self.cfg.has_columns()
                    && c < self.cfg.cols
                    && (rel < 0
                        || (self.front * self.m + rel as u64) % u64::from(self.cfg.cols)
                            == u64::from(c));
                if !col_ok {
                    self.stats.malformed += 1;
                    return RecvVerdict::Malformed;
                }
                fec_group = Some(false);
            } else {
                fec_group = Some(true);
            }
        } else if pkt.payload.len() > self.cap {
            self.stats.unusable += 1;
            return RecvVerdict::Deliver;
        }
        if rel < 0 {
            // Before the window: too old for FEC.
            return if is_fec {
                RecvVerdict::Consumed
            } else {
                RecvVerdict::Deliver
            };
        }
        let pos = self.front * self.m + rel as u64;
        if !is_fec && self.bit(&self.have, pos) {
            // Already received or rebuilt.
            return RecvVerdict::Deliver;
        }
        self.advance_to(pos);

        let (lenb, flags, ts) = match fec_group {
            None => (
                payload_len_bytes(pkt.payload.len()),
                key_bits(pkt.key),
                pkt.timestamp.as_u32(),
            ),
            Some(_) => (
                [pkt.payload[2], pkt.payload[3]],
                pkt.payload[1],
                pkt.timestamp.as_u32(),
            ),
        };
        match fec_group {
            None => {
                Self::set_bit(&mut self.have, self.k, self.m, pos, true);
                self.order_required = pkt.in_order;
                let row = GroupRef::Row(pos / u64::from(self.cfg.cols));
                self.clip_member(row, lenb, flags, ts, pkt.payload);
                if let Some((s, c)) = self.column_of(pos) {
                    self.clip_member(GroupRef::Col(s, c), lenb, flags, ts, pkt.payload);
                }
            }
            Some(is_row) => {
                let g = if is_row {
                    Some(GroupRef::Row(pos / u64::from(self.cfg.cols)))
                } else {
                    self.column_of(pos).map(|(s, c)| GroupRef::Col(s, c))
                };
                if let Some(g) = g {
                    self.clip_fec(g, lenb, flags, ts, &pkt.payload[FEC_HEADER_LEN..]);
                }
            }
        }
        self.run_rebuilds();
        self.report_passed(pos);
        let origin = self.front_seq;
        self.out[..self.nout].sort_unstable_by_key(|r| r.seq.offset_from(origin));
        if is_fec {
            RecvVerdict::Consumed
        } else {
            RecvVerdict::Deliver
        }
    }

    /// Moves the window so that `pos` is in it, giving up the matrices that leave.
    fn advance_to(&mut self, pos: u64) {
        let series = pos / self.m;
        if series < self.front + self.k {
            return;
        }
        let new_front = series + 1 - self.k;
        // Matrices in the window that leave it (at most k).
        for s in self.front..new_front.min(self.front + self.k) {
            self.evict(s);
        }
        // Matrices jumped over entirely were never in the window: nothing of
        // them arrived, so with `arq:onreq` all of them is reported, as one
        // range (libsrt reports nothing for such a drop and leaves the
        // packets to the TSBPD drop; FEC could not have rebuilt them either).
        let skipped_from = (self.front + self.k) * self.m;
        if self.cfg.arq == ArqLevel::OnRequest && new_front * self.m > skipped_from {
            self.push_loss_range(skipped_from, new_front * self.m - 1);
        }
        let shift = (new_front - self.front) * self.m;
        // `pos` came from a 31-bit offset, so `shift` fits.
        self.front_seq = self.front_seq + shift as i32;
        self.front = new_front;
        if self.rep_series < new_front {
            self.rep_series = new_front;
            self.rep_next = 0;
        }
    }

    /// Gives up matrix `s`: reports its unreported losses (`arq:onreq`) and
    /// clears its cells.
    fn evict(&mut self, s: u64) {
        for pos in s * self.m..(s + 1) * self.m {
            if self.cfg.arq == ArqLevel::OnRequest
                && !self.bit(&self.have, pos)
                && !self.bit(&self.reported, pos)
            {
                self.push_loss(pos);
            }
            Self::set_bit(&mut self.have, self.k, self.m, pos, false);
            Self::set_bit(&mut self.reported, self.k, self.m, pos, false);
        }
    }

    fn push_loss(&mut self, pos: u64) {
        Self::set_bit(&mut self.reported, self.k, self.m, pos, true);
        self.push_loss_range(pos, pos);
    }

    /// Reports positions `first..=last` (their cells are not marked: a
    /// range beyond the window has none).
    fn push_loss_range(&mut self, first: u64, last: u64) {
        let (from, to) = (self.seq_at(first), self.seq_at(last));
        self.stats.filter_loss += last - first + 1;
        if let Some(prev) = self.losses.last_mut() {
            if prev.last.next() == from {
                prev.last = to;
                return;
            }
        }
        self.losses.push(SeqRange {
            first: from,
            last: to,
        });
    }

    /// `arq:onreq` with columns, libsrt's `RcvCheckDismissColumn`: a
    /// packet of a column group of matrix `s + 1` or later reports the
    /// missing packets of every column group of matrix `s` whose last packet
    /// it has passed. Matrix `s`'s columns are taken in the order they end,
    /// so each packet costs O(1) amortised.
    fn report_passed(&mut self, pos: u64) {
        if self.cfg.arq != ArqLevel::OnRequest || !self.cfg.has_columns() {
            return;
        }
        let Some((series, _)) = self.column_of(pos) else {
            return;
        };
        let cols = self.col_order.len();
        while series > self.rep_series && self.live_series(self.rep_series) {
            let c = self.col_order[self.rep_next];
            let g = GroupRef::Col(self.rep_series, c);
            let (first, step, n) = self.members(g);
            let last = first + u64::from(n - 1) * step;
            if last >= pos {
                break;
            }
            for j in 0..u64::from(n) {
                let p = first + j * step;
                if !self.bit(&self.have, p) && !self.bit(&self.reported, p) {
                    self.push_loss(p);
                }
            }
            self.rep_next += 1;
            if self.rep_next == cols {
                self.rep_next = 0;
                self.rep_series += 1;
            }
        }
    }

    fn clip_member(&mut self, g: GroupRef, lenb: [u8; 2], flags: u8, ts: u32, payload: &[u8]) {
        let Some((is_row, idx)) = self.slot(g) else {
            return;
        };
        let range = self.arena(is_row, idx);
        xor_into(&mut self.clips[range], payload);
        let grp = self.group(is_row, idx);
        grp.clip.add(lenb, flags, ts);
        grp.collected += 1;
        self.work.push(g);
    }

    fn clip_fec(&mut self, g: GroupRef, lenb: [u8; 2], flags: u8, ts: u32, payload: &[u8]) {
        let Some((is_row, idx)) = self.slot(g) else {
            return;
        };
        if self.group(is_row, idx).fec {
            return; // duplicate
        }
        let range = self.arena(is_row, idx);
        xor_into(&mut self.clips[range], payload);
        let grp = self.group(is_row, idx);
        grp.clip.add(lenb, flags, ts);
        grp.fec = true;
        self.work.push(g);
    }

    /// Rebuilds from every group that has its FEC packet and all but one
    /// member, then from the cross groups the rebuilt packets complete.
    fn run_rebuilds(&mut self) {
        while let Some(g) = self.work.pop() {
            let size = self.size(g);
            let Some((is_row, idx)) = self.slot(g) else {
                continue;
            };
            let grp = *self.group(is_row, idx);
            if !grp.fec || grp.done || grp.collected + 1 != size {
                continue;
            }
            let (first, step, n) = self.members(g);
            let Some(pos) = (0..u64::from(n))
                .map(|j| first + j * step)
                .find(|&p| !self.bit(&self.have, p))
            else {
                continue;
            };
            self.group(is_row, idx).done = true;
            if pos < self.front * self.m || pos >= (self.front + self.k) * self.m {
                continue;
            }
            let len = usize::from(u16::from_be_bytes(grp.clip.length));
            let key = key_from_bits(grp.clip.flags);
            let (Some(key), true) = (key, len <= self.cap) else {
                self.stats.unusable += 1;
                continue;
            };
            if self.nout == self.out.len() {
                self.out.push(Rebuilt {
                    seq: SeqNumber::default(),
                    timestamp: Timestamp::from_u32(0),
                    key: DataKeyFlags::Clear,
                    in_order: false,
                    payload: Vec::with_capacity(self.cap),
                });
            }
            let seq = self.seq_at(pos);
            let range = self.arena(is_row, idx);
            let r = &mut self.out[self.nout];
            r.seq = seq;
            r.timestamp = Timestamp::from_u32(grp.clip.timestamp);
            r.key = key;
            r.in_order = self.order_required;
            r.payload.clear();
            r.payload.extend_from_slice(&self.clips[range][..len]);
            self.nout += 1;
            self.stats.filter_supply += 1;
            Self::set_bit(&mut self.have, self.k, self.m, pos, true);
            self.group(is_row, idx).collected += 1;
            // The cross group gets the rebuilt packet as a member.
            let cross = match g {
                GroupRef::Row(_) => self.column_of(pos).map(|(s, c)| GroupRef::Col(s, c)),
                GroupRef::Col(..) => Some(GroupRef::Row(pos / u64::from(self.cfg.cols))),
            };
            if let Some(cross) = cross {
                let Some((cr, ci)) = self.slot(cross) else {
                    continue;
                };
                let crange = self.arena(cr, ci);
                let r = &self.out[self.nout - 1];
                xor_into(&mut self.clips[crange], &r.payload);
                let (lb, fl, t) = (payload_len_bytes(len), key_bits(key), grp.clip.timestamp);
                let cg = self.group(cr, ci);
                cg.clip.add(lb, fl, t);
                cg.collected += 1;
                self.work.push(cross);
            }
        }
    }
}
