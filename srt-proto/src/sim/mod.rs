//! Deterministic network simulation (feature `sim`): seeded, sans-IO models
//! of network links, shared by the in-process simulator and the `srt-relay`
//! tool, and a hostile peer ([`hostile`], [`Network::inject`]) that
//! injects crafted control packets.

pub mod hostile;
pub mod link;
pub mod network;

pub use network::{run_seeds, ConnectedPair, Network, NodeId};
