//! A training run's configuration: which agent (with its own hyperparameters), which perception,
//! how long, how often to evaluate and checkpoint. Loadable from RON; every field has a default;
//! the resolved configuration is written to `RUN_DIR/config.ron`.

use crate::agent_config::AgentConfig;
use lepton_artifacts::InvalidField;
use lepton_perception::PerceptionKind;
use ron::extensions::Extensions;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RunConfig {
    /// `Dqn(...)` or `QLearning(...)`, each with its hyperparameters.
    pub agent: AgentConfig,
    /// `None`: the agent's default (Q-learning: the CNN given with `--model`; DQN: grey 4-frame
    /// stacks). The frame stack depth is `Pixels(stack: k)`'s.
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
    /// Learn on a second thread while the envs step, render and perceive: the updates due at a
    /// step then learn from the replay as it stood before that step (one step later than the
    /// serial loop), with as many updates per env step. Seeded runs stay bit-for-bit
    /// reproducible in either mode; the two modes give different runs.
    pub overlap_learning: bool,
}

impl Default for RunConfig {
    fn default() -> Self {
        Self {
            agent: AgentConfig::default(),
            perception: None,
            envs: 8,
            steps: 100_000,
            seed: 0,
            eval_every: 10_000,
            eval_episodes: 10,
            eval_seed: 1_000_000,
            checkpoint_every: 10_000,
            log_every: 1_000,
            overlap_learning: false,
        }
    }
}

/// How run configurations are read and written: an agent's hyperparameters sit directly in its
/// variant, `agent: Dqn(gamma: 0.99)`.
pub fn ron_options() -> ron::Options {
    ron::Options::default().with_default_extension(Extensions::UNWRAP_VARIANT_NEWTYPES)
}

/// The most envs a run steps side by side.
pub const MAX_ENVS: usize = 1024;

impl RunConfig {
    pub fn validate(&self) -> Result<(), InvalidField> {
        if !(1..=MAX_ENVS).contains(&self.envs) {
            return Err(InvalidField::new("envs", format!("must be 1 to {MAX_ENVS}")));
        }
        if !(1..=1_000_000).contains(&self.eval_episodes) {
            return Err(InvalidField::new("eval_episodes", "must be 1 to 1000000"));
        }
        if self.checkpoint_every == 0 || self.log_every == 0 {
            return Err(InvalidField::new("checkpoint_every and log_every", "must be at least 1"));
        }
        match &self.perception {
            Some(PerceptionKind::Pixels { stack, resize, .. }) => {
                if *stack == 0 {
                    return Err(InvalidField::new("perception.Pixels.stack", "must be at least 1"));
                }
                if let Some((w, h)) = resize
                    && !((1..=4096).contains(w) && (1..=4096).contains(h))
                {
                    return Err(InvalidField::new("perception.Pixels.resize", "sides must be 1 to 4096 px"));
                }
            }
            Some(PerceptionKind::Cnn { model }) if model.as_os_str().is_empty() => {
                return Err(InvalidField::new("perception.Cnn.model", "must name a model folder"));
            }
            _ => {}
        }
        self.agent.validate(self.perception.as_ref())
    }

    pub fn to_ron(&self) -> String {
        ron_options().to_string_pretty(self, ron::ser::PrettyConfig::default()).expect("config serialises")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dqn::DqnConfig;

    #[test]
    fn the_agent_is_one_variant_with_its_own_settings_and_round_trips() {
        let text = "(envs: 2, agent: Dqn(gamma: 0.9, batch_size: 8), perception: Some(Pixels(grey: true, stack: 2)))";
        let config: RunConfig = ron_options().from_str(text).unwrap();
        let AgentConfig::Dqn(dqn) = &config.agent else { panic!("{:?}", config.agent) };
        assert_eq!((dqn.gamma, dqn.batch_size, dqn.n_step), (0.9, 8, DqnConfig::default().n_step));
        assert_eq!(config.envs, 2);
        let again: RunConfig = ron_options().from_str(&config.to_ron()).unwrap();
        assert_eq!(again, config);

        let tabular: RunConfig =
            ron_options().from_str("(agent: QLearning(learning: (discount: 0.5)))").unwrap();
        let AgentConfig::QLearning(q) = &tabular.agent else { panic!("{:?}", tabular.agent) };
        assert_eq!(q.learning.discount, 0.5);
        assert_eq!(ron_options().from_str::<RunConfig>(&tabular.to_ron()).unwrap(), tabular);
    }

    #[test]
    fn every_shipped_configuration_reads_validates_and_round_trips() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../configs");
        let mut read = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            let config: RunConfig =
                ron_options().from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            config.validate().unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            assert_eq!(ron_options().from_str::<RunConfig>(&config.to_ron()).unwrap(), config);
            read += 1;
        }
        assert!(read >= 7, "{read} configurations in {}", dir.display());
    }

    #[test]
    fn validation_names_the_field_and_refuses_tabular_learning_on_pixels() {
        let mut config = RunConfig::default();
        assert_eq!(config.validate(), Ok(()));
        config.agent = AgentConfig::Dqn(DqnConfig { gamma: 2.0, ..DqnConfig::default() });
        assert_eq!(config.validate().unwrap_err().field, "dqn.gamma");
        config.agent = AgentConfig::default_of("qlearning").unwrap();
        config.perception = Some(PerceptionKind::default_pixels());
        assert!(config.validate().unwrap_err().to_string().contains("not Pixels"));
        config.perception = Some(PerceptionKind::Pixels { grey: true, resize: None, stack: 0 });
        config.agent = AgentConfig::default();
        assert_eq!(config.validate().unwrap_err().field, "perception.Pixels.stack");
        config.perception = Some(PerceptionKind::Pixels { grey: true, resize: Some((0, 84)), stack: 4 });
        assert_eq!(config.validate().unwrap_err().field, "perception.Pixels.resize");
        let unknown = ron_options().from_str::<RunConfig>("(agent: Dqn(frame_stack: 4))");
        assert!(unknown.is_err(), "the stack depth is the perception's, not the DQN's");
    }
}
