//! Deterministic network simulation (feature `sim`): seeded, sans-IO models
//! of network links, shared by the in-process simulator and the `srt-relay`
//! tool.

pub mod link;
pub mod network;

pub use network::{run_seeds, ConnectedPair, Network, NodeId};
