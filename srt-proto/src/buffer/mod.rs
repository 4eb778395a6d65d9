//! Packet buffers: the send buffer, the receive buffer with TSBPD delivery,
//! and loss lists. All are bounded and reuse their packet storage.

pub(crate) mod loss;
pub(crate) mod recv;
pub(crate) mod send;

/// Packets per storage page.
const PAGE_SLOTS: usize = 64;

/// Fixed-size payload units, allocated a page (64 units) at a time, and
/// handed out and taken back through a free list: a buffer holds storage
/// for about the most packets it ever held at once, not for its capacity.
/// As libsrt's `CUnitQueue`, the pool grows ahead of need: it keeps twice
/// the units in use (a page more whenever over half are in use), so that a
/// load does not allocate again when it peaks higher than it usually runs
/// (a retransmission lost twice holds the sender's packets two round trips
/// longer); once those pages exist, steady-state traffic allocates nothing.
#[derive(Clone, Debug)]
pub(crate) struct PayloadPool {
    unit_size: usize,
    /// The most units handed out at once.
    limit: usize,
    pages: Vec<Box<[u8]>>,
    /// Units allocated (in use or free).
    allocated: usize,
    /// Units not in use, the next one to hand out last.
    free: Vec<u32>,
}

impl PayloadPool {
    /// A pool of at most `limit` units of `unit_size` bytes; nothing is
    /// allocated yet.
    pub(crate) fn new(limit: usize, unit_size: usize) -> Self {
        PayloadPool {
            unit_size,
            limit: limit.min(u32::MAX as usize),
            pages: Vec::new(),
            allocated: 0,
            free: Vec::new(),
        }
    }

    /// A unit for one payload (allocating a page if none is free); `None`
    /// when `limit` units are in use.
    pub(crate) fn take(&mut self) -> Option<u32> {
        if self.free.is_empty() {
            self.grow();
        }
        let unit = self.free.pop()?;
        if self.in_use() * 2 > self.allocated {
            self.grow();
        }
        Some(unit)
    }

    /// Adds a page (fewer units at the limit; none beyond it).
    fn grow(&mut self) {
        let first = self.allocated;
        if first >= self.limit {
            return;
        }
        let units = PAGE_SLOTS.min(self.limit - first);
        self.pages
            .push(vec![0u8; units * self.unit_size].into_boxed_slice());
        self.allocated += units;
        self.free.reserve(units);
        // Of a new page, the lowest unit is handed out first.
        self.free
            .extend((first..first + units).rev().map(|u| u as u32));
    }

    /// Gives `unit` back for reuse.
    pub(crate) fn give_back(&mut self, unit: u32) {
        self.free.push(unit);
    }

    /// The first `len` bytes of `unit`.
    pub(crate) fn get(&self, unit: u32, len: usize) -> &[u8] {
        let unit = unit as usize;
        let len = len.min(self.unit_size);
        let start = (unit % PAGE_SLOTS) * self.unit_size;
        self.pages
            .get(unit / PAGE_SLOTS)
            .and_then(|page| page.get(start..start + len))
            .unwrap_or(&[])
    }

    /// `unit`, for writing.
    pub(crate) fn get_mut(&mut self, unit: u32) -> &mut [u8] {
        let unit = unit as usize;
        let size = self.unit_size;
        let start = (unit % PAGE_SLOTS) * size;
        self.pages
            .get_mut(unit / PAGE_SLOTS)
            .and_then(|page| page.get_mut(start..start + size))
            .unwrap_or(&mut [])
    }

    /// Units handed out now.
    pub(crate) fn in_use(&self) -> usize {
        self.allocated - self.free.len()
    }

    /// Bytes allocated for payloads so far.
    #[cfg(test)]
    pub(crate) fn allocated_bytes(&self) -> usize {
        self.pages.iter().map(|p| p.len()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_come_ahead_of_need_and_units_are_reused() {
        let mut pool = PayloadPool::new(100, 10);
        assert_eq!(pool.allocated_bytes(), 0);
        let a = pool.take().unwrap();
        let b = pool.take().unwrap();
        assert_eq!((a, b), (0, 1));
        assert_eq!(pool.allocated_bytes(), PAGE_SLOTS * 10);
        pool.get_mut(b)[..3].copy_from_slice(b"xyz");
        assert_eq!(pool.get(b, 3), b"xyz");
        assert_eq!(pool.get(b, 50), pool.get(b, 10));
        pool.give_back(a);
        assert_eq!(pool.take(), Some(a));
        // Taking and giving back one at a time never grows the pool.
        for _ in 0..1000 {
            let u = pool.take().unwrap();
            pool.give_back(u);
        }
        assert_eq!(pool.allocated_bytes(), PAGE_SLOTS * 10);
        assert_eq!(pool.in_use(), 2);
        // Over half the units in use: the next page comes before it is needed.
        let mut held: Vec<u32> = (0..31).map(|_| pool.take().unwrap()).collect();
        assert_eq!(pool.in_use(), 33);
        assert_eq!(
            pool.allocated_bytes(),
            100 * 10,
            "the second page, cut to the limit"
        );
        held.extend((0..67).map(|_| pool.take().unwrap()));
        assert_eq!(pool.in_use(), 100);
        assert_eq!(pool.take(), None, "the limit holds");
        assert_eq!(
            pool.allocated_bytes(),
            100 * 10,
            "the last page is cut to the limit"
        );
        held.sort_unstable();
        held.dedup();
        assert_eq!(held.len(), 98, "no unit is handed out twice");
    }
}
