//! Packet buffers: the send buffer, the receive buffer with TSBPD delivery,
//! and loss lists. All are bounded and reuse their packet storage.

pub mod loss;
pub mod recv;
pub mod send;
