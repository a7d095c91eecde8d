//! Replay: a frame-once ring buffer per env over a sum tree (uniform or prioritised sampling).

pub mod buffer;
pub mod sum_tree;

pub use buffer::{Batch, ObsRef, ReplayBuffer, ReplaySpec, Transition};
pub use sum_tree::SumTree;
