//! The blocking driver of one [`Endpoint`](srt_proto::Endpoint) on one
//! UDP socket, run by the calling thread: `srt-mio`'s
//! [`UdpDriver`], whose turn is the one driver
//! of the engine ([`srt_mio::driver`]) that `srt-mio`'s worker pool runs
//! too. `srt-transmit`, `transmit::group`, the demo and the interop tests
//! put the engine on the network with it.

pub use srt_mio::driver::UdpDriver;
