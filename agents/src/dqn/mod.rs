//! DQN and its variants: Double DQN, dueling heads, n-step returns, prioritised replay, Polyak or
//! hard target updates, Huber loss and gradient clipping, all switched by [`DqnConfig`].

pub mod agent;
pub mod config;
pub mod learner;
pub mod network;

pub use agent::DqnAgent;
pub use config::{DqnConfig, TargetUpdate};
pub use learner::{DqnLearner, UPDATE_PHASES, UpdateProfile, td_targets};
pub use network::{FramesTooSmall, InputShape, NetworkConfig, QNetwork};
