//! Lepton agents: policies that choose actions from observations.
//!
//! The batched [`Policy`] every caller acts through, with the random and scripted baselines every
//! learned agent is measured against; the [`Agent`] trait and its two learners, tabular
//! Q-learning ([`qlearning`]) and DQN ([`dqn`], with its replay buffers), acting greedily as a
//! [`GreedyPolicy`]; and headless training runs ([`run`]).
//!
//! Tabular Q-learning by hand, top to bottom (`lepton train` does this with schedules, many envs,
//! evaluation and checkpoints):
//!
//! ```
//! use lepton_agents::qlearning::{QLearningConfig, QTable};
//! use lepton_perception::Discretiser;
//! use lepton_sim::{Env, scenario};
//! use rand::SeedableRng;
//! use std::sync::Arc;
//!
//! let mut env = Env::new(Arc::new(scenario::load_named("tiny")?), 0);
//! let (bins, config) = (Discretiser::default(), QLearningConfig::default());
//! let mut table = QTable::new(bins.num_states(), env.num_actions(), 0.0);
//! let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
//! let mut state = bins.index(&env.reset(Some(0)).0.state.driving);
//! for _ in 0..2_000 {
//!     let action = table.act(state, 0.1, &mut rng); // ε-greedy, ε = 0.1
//!     let step = env.step(action);
//!     let next = bins.index(&step.obs.state.driving);
//!     table.update(&config, state, action, step.reward, next, step.terminated);
//!     let ended = step.terminated || step.truncated;
//!     state = if ended { bins.index(&env.reset(None).0.state.driving) } else { next };
//! }
//! assert!(table.coverage() > 0.0);
//! # Ok::<(), lepton_sim::scenario::ScenarioError>(())
//! ```

pub mod agent;
pub mod agent_config;
pub mod dqn;
pub mod explore;
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
