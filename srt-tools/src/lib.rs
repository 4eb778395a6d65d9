//! Command-line programs built on the SRT stack.
//!
//! So far: `srt-transmit` ([`transmit`], with its URIs in [`uri`] and its
//! statistics reports in [`stats`]), live streams and file transfer over
//! SRT in the syntax of libsrt's `srt-live-transmit`;
//! `srt-relay` ([`relay`]), a UDP relay between loopback ports that impairs
//! traffic (loss, delay, jitter, reordering, duplication, rate limit) for
//! tests without netem, and can forge hostile control packets into a
//! connection it carries ([`hostile`]); and [`udp_driver`], the blocking
//! driver of one engine on one UDP socket (`srt-mio`'s, the one driver of
//! the engine).

pub mod hostile;
pub mod relay;
pub mod stats;
pub mod transmit;
pub mod udp_driver;
pub mod uri;
