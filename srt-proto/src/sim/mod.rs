//! Deterministic network simulation (feature `sim`): seeded, sans-IO models
//! of network links, shared by the in-process simulator and the `srt-relay`
//! tool; a hostile peer ([`hostile`], [`Network::inject`]) that injects
//! crafted control packets; and [`capture`], what an observer of the wire
//! learns (with a recording UDP forwarder for driver tests).

pub mod capture;
pub mod hostile;
pub mod link;
pub mod network;

pub use network::{run_seeds, ConnectedPair, Network, NodeId, PairError};
