//! Lepton agents: policies that choose actions from observations.
//!
//! The batched [`Policy`] every caller acts through, with the random and scripted baselines every
//! learned agent is measured against; the [`Agent`] trait and its two learners, tabular
//! Q-learning ([`qlearning`]) and DQN ([`dqn`], with its replay buffers), acting greedily as a
//! [`GreedyPolicy`]; and headless training runs ([`run`]).

pub mod agent;
pub mod agent_config;
pub mod dqn;
pub mod greedy;
pub mod plot;
pub mod policy;
pub mod qlearning;
pub mod replay;
pub mod run;
pub mod schedule;

pub use agent::{Agent, Experience, UpdateStats};
pub use agent_config::{AgentConfig, BuildError};
pub use greedy::GreedyPolicy;
pub use policy::{Decision, KeepLanePolicy, Policy, PolicyError, RandomPolicy};
