//! Lepton agents: policies that choose actions from observations.
//!
//! The random and scripted baselines every learned agent is measured against, tabular
//! Q-learning, DQN and its replay buffers.

pub mod dqn;
pub mod plot;
pub mod policy;
pub mod qlearning;
pub mod replay;
pub mod schedule;
pub mod train;

pub use policy::{KeepLanePolicy, Policy, RandomPolicy};
