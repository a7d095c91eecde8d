//! A training run's configuration: which agent, which perception, how long, how often to
//! evaluate and checkpoint, and each agent's hyperparameters. Loadable from RON; every field has
//! a default; the resolved configuration is written to `RUN_DIR/config.ron`.

use crate::dqn::DqnConfig;
use crate::qlearning::QLearningConfig;
use crate::schedule::EpsilonSchedule;
use lepton_perception::{Discretiser, PerceptionKind};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AgentKind {
    QLearning,
    Dqn,
}

impl AgentKind {
    pub fn name(self) -> &'static str {
        match self {
            AgentKind::QLearning => "qlearning",
            AgentKind::Dqn => "dqn",
        }
    }
}

/// Tabular agent settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TabularConfig {
    pub learning: QLearningConfig,
    pub epsilon: EpsilonSchedule,
    pub discretiser: Discretiser,
}

impl Default for TabularConfig {
    fn default() -> Self {
        Self {
            learning: QLearningConfig::default(),
            epsilon: EpsilonSchedule::Exponential { start: 1.0, end: 0.02, steps: 30_000 },
            discretiser: Discretiser::default(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RunConfig {
    pub agent: AgentKind,
    /// `None`: the agent's default (Q-learning: the CNN given with `--model`; DQN: pixels).
    pub perception: Option<PerceptionKind>,
    /// Parallel environments.
    pub envs: usize,
    /// Env steps in total (summed over envs).
    pub steps: u64,
    pub seed: u64,
    /// Env steps between evaluations (0: only at the end).
    pub eval_every: u64,
    pub eval_episodes: usize,
    /// Evaluation episodes use seeds eval_seed, eval_seed + 1, …: the same every time.
    pub eval_seed: u64,
    /// Env steps between checkpoints.
    pub checkpoint_every: u64,
    /// Env steps between training rows in metrics.csv.
    pub log_every: u64,
    pub qlearning: TabularConfig,
    pub dqn: DqnConfig,
}

impl Default for RunConfig {
    fn default() -> Self {
        Self {
            agent: AgentKind::Dqn,
            perception: None,
            envs: 8,
            steps: 100_000,
            seed: 0,
            eval_every: 10_000,
            eval_episodes: 10,
            eval_seed: 1_000_000,
            checkpoint_every: 10_000,
            log_every: 1_000,
            qlearning: TabularConfig::default(),
            dqn: DqnConfig::default(),
        }
    }
}

impl RunConfig {
    pub fn validate(&self) -> Result<(), String> {
        if self.envs == 0 {
            return Err("envs: must be at least 1".into());
        }
        if self.eval_episodes == 0 {
            return Err("eval_episodes: must be at least 1".into());
        }
        if self.checkpoint_every == 0 || self.log_every == 0 {
            return Err("checkpoint_every and log_every: must be at least 1".into());
        }
        match self.agent {
            AgentKind::QLearning => {
                self.qlearning.discretiser.validate()?;
                self.qlearning.epsilon.validate("qlearning.epsilon")?;
                if matches!(self.perception, Some(PerceptionKind::Pixels { .. })) {
                    return Err(
                        "perception: tabular Q-learning needs a state (GroundTruth or Cnn), not Pixels"
                            .into(),
                    );
                }
                Ok(())
            }
            AgentKind::Dqn => self.dqn.validate(),
        }
    }

    pub fn to_ron(&self) -> String {
        ron::ser::to_string_pretty(self, ron::ser::PrettyConfig::default()).expect("config serialises")
    }
}
