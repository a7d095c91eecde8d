//! Which agent a run trains, each kind with its own hyperparameters, and how to build it.

use crate::agent::Agent;
use crate::dqn::network::FramesTooSmall;
use crate::dqn::{DqnAgent, DqnConfig};
use crate::qlearning::{QLearningAgent, TabularConfig};
use burn::prelude::Device;
use lepton_artifacts::InvalidField;
use lepton_perception::{PerceptShape, PerceptionKind};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Why an agent cannot be built for a run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BuildError {
    #[error("tabular Q-learning needs a state perception (GroundTruth or Cnn)")]
    TabularNeedsState,
    #[error(
        "qlearning uses the Cnn perception by default: pass --model MODEL_DIR (from `lepton perception \
         train`), or --perception ground-truth"
    )]
    CnnNeedsModel,
    #[error(transparent)]
    FramesTooSmall(#[from] FramesTooSmall),
    /// The replay buffer the configuration asks for would not fit in memory.
    #[error(
        "dqn.buffer_size: {transitions} transitions need {:.1} GiB of replay memory, and {:.1} GiB is available; choose a smaller buffer_size",
        *needed as f64 / (1u64 << 30) as f64,
        *available as f64 / (1u64 << 30) as f64
    )]
    ReplayTooBig { transitions: usize, needed: u64, available: u64 },
}

/// Which agent, with its own hyperparameters. In a run's RON: `agent: Dqn(gamma: 0.99, ...)` or
/// `agent: QLearning(epsilon: ..., discretiser: ...)`; fields left out keep their defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum AgentConfig {
    QLearning(TabularConfig),
    Dqn(DqnConfig),
}

impl Default for AgentConfig {
    fn default() -> Self {
        AgentConfig::Dqn(DqnConfig::default())
    }
}

impl AgentConfig {
    pub fn name(&self) -> &'static str {
        match self {
            AgentConfig::QLearning(_) => "qlearning",
            AgentConfig::Dqn(_) => "dqn",
        }
    }

    /// This kind of agent with every hyperparameter at its default.
    pub fn default_of(name: &str) -> Option<Self> {
        match name {
            "qlearning" => Some(AgentConfig::QLearning(TabularConfig::default())),
            "dqn" => Some(AgentConfig::Dqn(DqnConfig::default())),
            _ => None,
        }
    }

    /// Checks every field against the perception it will read; the message names the field.
    pub fn validate(&self, perception: Option<&PerceptionKind>) -> Result<(), InvalidField> {
        match self {
            AgentConfig::QLearning(config) => {
                config.validate()?;
                if let Some(kind @ (PerceptionKind::Pixels { .. } | PerceptionKind::Vehicles)) = perception {
                    let name = if matches!(kind, PerceptionKind::Vehicles) { "Vehicles" } else { "Pixels" };
                    return Err(InvalidField::new(
                        "perception",
                        format!("tabular Q-learning needs a state (GroundTruth or Cnn), not {name}"),
                    ));
                }
                Ok(())
            }
            AgentConfig::Dqn(config) => {
                config.validate()?;
                if config.network.attention.is_some()
                    && perception.is_some_and(|p| !matches!(p, PerceptionKind::Vehicles))
                {
                    return Err(InvalidField::new(
                        "dqn.network.attention",
                        "the ego attends over an object list: use it with --perception vehicles",
                    ));
                }
                Ok(())
            }
        }
    }

    /// The perception this agent reads when the run does not say: Q-learning reads the CNN
    /// given as `model` (it has no default), DQN reads stacked grey frames.
    pub fn default_perception(&self, model: Option<&Path>) -> Result<PerceptionKind, BuildError> {
        match (self, model) {
            (_, Some(model)) => Ok(PerceptionKind::Cnn { model: model.to_path_buf() }),
            (AgentConfig::QLearning(_), None) => Err(BuildError::CnnNeedsModel),
            (AgentConfig::Dqn(_), None) => Ok(PerceptionKind::default_pixels()),
        }
    }

    /// A fresh agent reading percepts of `shape`, choosing among `actions`, for `envs` envs and
    /// a run of `steps` env steps.
    pub fn build(
        &self,
        shape: PerceptShape,
        actions: usize,
        envs: usize,
        steps: u64,
        seed: u64,
        device: &Device,
    ) -> Result<Box<dyn Agent>, BuildError> {
        Ok(match self {
            AgentConfig::QLearning(config) => {
                if shape != PerceptShape::State {
                    return Err(BuildError::TabularNeedsState);
                }
                Box::new(QLearningAgent::new(config.clone(), actions))
            }
            AgentConfig::Dqn(config) => {
                let needed = crate::dqn::agent::replay_bytes(config, shape, envs);
                if let Some(available) = available_memory()
                    && needed > available
                {
                    let transitions = config.buffer_size;
                    return Err(BuildError::ReplayTooBig { transitions, needed, available });
                }
                Box::new(DqnAgent::new(config, shape, actions, envs, steps, seed, device)?)
            }
        })
    }
}

/// The memory the system says it can give without swapping (Linux's MemAvailable), if known.
fn available_memory() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    kib.checked_mul(1024)
}
