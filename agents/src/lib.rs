//! Lepton agents: policies that choose actions from observations.
//!
//! Today: the random and scripted baselines every learned agent is measured against.

pub mod policy;

pub use policy::{KeepLanePolicy, Policy, RandomPolicy};
