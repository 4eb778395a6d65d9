//! Packet buffers: the send buffer, the receive buffer with TSBPD delivery,
//! and loss lists. All are bounded and reuse their packet storage.

pub(crate) mod loss;
pub(crate) mod recv;
pub(crate) mod send;

/// Packets per storage page.
const PAGE_SLOTS: usize = 64;

/// Fixed-size packet slots whose memory is allocated a page (64 slots) at a
/// time, on first use, and then kept: a connection costs only what its
/// traffic needs (libsrt grows its buffers the same way), and steady-state
/// traffic allocates nothing once the pages it uses exist.
#[derive(Clone, Debug)]
pub(crate) struct SlotStorage {
    slot_size: usize,
    slots: usize,
    pages: Vec<Option<Box<[u8]>>>,
}

impl SlotStorage {
    /// Storage for `slots` slots of `slot_size` bytes; nothing is allocated
    /// beyond the page table.
    pub(crate) fn new(slots: usize, slot_size: usize) -> Self {
        SlotStorage {
            slot_size,
            slots,
            pages: vec![None; slots.div_ceil(PAGE_SLOTS)],
        }
    }

    /// The first `len` bytes of slot `slot` (empty if never written).
    pub(crate) fn get(&self, slot: usize, len: usize) -> &[u8] {
        let len = len.min(self.slot_size);
        match self.pages.get(slot / PAGE_SLOTS) {
            Some(Some(page)) => {
                let start = (slot % PAGE_SLOTS) * self.slot_size;
                page.get(start..start + len).unwrap_or(&[])
            }
            _ => &[],
        }
    }

    /// Slot `slot`, for writing (its page is allocated on first use);
    /// `None` if `slot` is out of range.
    pub(crate) fn get_mut(&mut self, slot: usize) -> Option<&mut [u8]> {
        if slot >= self.slots {
            return None;
        }
        let size = self.slot_size;
        let page = self.pages.get_mut(slot / PAGE_SLOTS)?;
        let page = page.get_or_insert_with(|| vec![0u8; PAGE_SLOTS * size].into_boxed_slice());
        let start = (slot % PAGE_SLOTS) * size;
        page.get_mut(start..start + size)
    }
}
