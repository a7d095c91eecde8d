//! Every DQN option in one place, with its default. Loadable from RON (`--config FILE.ron`; any
//! field left out keeps its default) and written back into the run directory.

use super::network::NetworkConfig;
use crate::explore::Exploration;
use crate::schedule::EpsilonSchedule;
use lepton_artifacts::InvalidField;
use serde::{Deserialize, Serialize};

/// How the target network follows the online one.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum TargetUpdate {
    /// Copy the online weights every `every` learner updates.
    Hard { every: u64 },
    /// θ' ← τ·θ + (1 − τ)·θ' after every learner update.
    Polyak { tau: f32 },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DqnConfig {
    pub network: NetworkConfig,
    /// Discount γ.
    pub gamma: f32,
    /// Adam step size (at the start of the run).
    pub learning_rate: f64,
    /// Where the step size ends, falling linearly from `learning_rate` over the run's env steps
    /// (`None`: constant). Annealing steadies the late policy, as CleanRL's `anneal_lr`.
    pub learning_rate_end: Option<f64>,
    /// Transitions per learner update.
    pub batch_size: usize,
    /// Replay capacity in transitions (across all envs).
    pub buffer_size: usize,
    /// Env steps (summed over envs) before learning starts.
    pub learning_starts: u64,
    /// Env steps (summed over envs) between learner updates.
    pub train_frequency: u64,
    /// Learner updates each time it trains.
    pub gradient_steps: usize,
    pub target_update: TargetUpdate,
    /// Pick the next action with the online network, value it with the target (van Hasselt 2016).
    pub double: bool,
    /// Steps per return.
    pub n_step: usize,
    /// Prioritised replay (Schaul 2016): α, and β annealed from `beta_start` to 1 over training.
    pub prioritized: bool,
    pub priority_alpha: f32,
    pub priority_beta_start: f32,
    pub priority_epsilon: f32,
    /// Huber loss threshold δ.
    pub huber_delta: f32,
    /// Gradients are rescaled so their global norm is at most this.
    pub max_grad_norm: f32,
    pub epsilon: EpsilonSchedule,
    /// How random actions are drawn at rate ε: one step each, or held for a heavy-tailed number
    /// of steps (`Temporal`, εz-greedy), which finds manoeuvres of many steps such as a lane
    /// change.
    pub exploration: Exploration,
}

impl Default for DqnConfig {
    fn default() -> Self {
        Self {
            network: NetworkConfig::default(),
            gamma: 0.99,
            learning_rate: 1e-4,
            learning_rate_end: None,
            batch_size: 32,
            buffer_size: 100_000,
            learning_starts: 2_000,
            train_frequency: 4,
            gradient_steps: 1,
            target_update: TargetUpdate::Hard { every: 1_000 },
            double: true,
            n_step: 3,
            prioritized: false,
            priority_alpha: 0.6,
            priority_beta_start: 0.4,
            priority_epsilon: 1e-6,
            huber_delta: 1.0,
            max_grad_norm: 10.0,
            epsilon: EpsilonSchedule::Linear { start: 1.0, end: 0.05, steps: 20_000 },
            exploration: Exploration::EpsilonGreedy,
        }
    }
}

impl DqnConfig {
    /// The step size at `progress` ∈ [0, 1] of the run.
    pub fn learning_rate_at(&self, progress: f64) -> f64 {
        match self.learning_rate_end {
            Some(end) => self.learning_rate + (end - self.learning_rate) * progress.clamp(0.0, 1.0),
            None => self.learning_rate,
        }
    }

    /// Checks every field; the message names it (`dqn.gamma: ...`).
    pub fn validate(&self) -> Result<(), InvalidField> {
        let bad = |field: &str, why: &str| Err(InvalidField::new(format!("dqn.{field}"), why));
        if !(0.0..=1.0).contains(&self.gamma) {
            return bad("gamma", "must be in [0, 1]");
        }
        if !(self.learning_rate > 0.0 && self.learning_rate.is_finite()) {
            return bad("learning_rate", "must be positive");
        }
        if let Some(end) = self.learning_rate_end
            && !(end >= 0.0 && end <= self.learning_rate)
        {
            return bad("learning_rate_end", "must be in [0, learning_rate]");
        }
        // Every size is bounded before anything is built from it (the replay's bytes are checked
        // against the machine's memory when the agent is built).
        if !(1..=65_536).contains(&self.batch_size) {
            return bad("batch_size", "must be 1 to 65536");
        }
        if self.buffer_size < self.batch_size || self.buffer_size > 100_000_000 {
            return bad("buffer_size", "must hold at least one batch, and at most 100000000 transitions");
        }
        if self.train_frequency == 0 {
            return bad("train_frequency", "must be at least 1");
        }
        if !(1..=10_000).contains(&self.gradient_steps) {
            return bad("gradient_steps", "must be 1 to 10000");
        }
        if !(1..=1000).contains(&self.n_step) {
            return bad("n_step", "must be 1 to 1000");
        }
        let widths = &self.network.hidden;
        if widths.is_empty() || widths.len() > 16 || widths.iter().any(|w| !(1..=8192).contains(w)) {
            return bad("network.hidden", "must be 1 to 16 layers of 1 to 8192 units");
        }
        if let Some(a) = &self.network.attention {
            if !(1..=64).contains(&a.heads) {
                return bad("network.attention.heads", "must be 1 to 64");
            }
            if !(1..=4096).contains(&a.width) || a.width % a.heads != 0 {
                return bad("network.attention.width", "must be 1 to 4096 and a multiple of heads");
            }
        }
        if !(1..=8192).contains(&self.network.cnn_hidden) {
            return bad("network.cnn_hidden", "must be 1 to 8192 units");
        }
        match self.target_update {
            TargetUpdate::Hard { every: 0 } => return bad("target_update.every", "must be at least 1"),
            TargetUpdate::Polyak { tau } if !(tau > 0.0 && tau <= 1.0) => {
                return bad("target_update.tau", "must be in (0, 1]");
            }
            _ => {}
        }
        if !(0.0..=1.0).contains(&self.priority_beta_start) {
            return bad("priority_beta_start", "must be in [0, 1]");
        }
        if self.priority_alpha < 0.0 {
            return bad("priority_alpha", "must be ≥ 0");
        }
        if !(self.priority_epsilon > 0.0 && self.priority_epsilon.is_finite()) {
            return bad(
                "priority_epsilon",
                "must be positive (every transition keeps a chance to be sampled)",
            );
        }
        if !(self.huber_delta > 0.0 && self.huber_delta.is_finite()) {
            return bad("huber_delta", "must be positive");
        }
        if self.max_grad_norm.is_nan() || self.max_grad_norm <= 0.0 {
            return bad("max_grad_norm", "must be positive");
        }
        self.exploration.validate("dqn.exploration")?;
        self.epsilon.validate("dqn.epsilon")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_bounded_and_named() {
        let with = |change: fn(&mut DqnConfig)| {
            let mut c = DqnConfig::default();
            change(&mut c);
            c.validate().map_err(|e| e.to_string())
        };
        assert!(with(|_| {}).is_ok());
        for (change, field) in [
            ((|c| c.network.hidden = vec![1 << 20]) as fn(&mut DqnConfig), "dqn.network.hidden"),
            (|c| c.network.hidden = vec![64; 100], "dqn.network.hidden"),
            (|c| c.network.hidden = Vec::new(), "dqn.network.hidden"),
            (|c| c.network.cnn_hidden = 0, "dqn.network.cnn_hidden"),
            (|c| c.buffer_size = 1 << 40, "dqn.buffer_size"),
            (|c| c.batch_size = 1 << 30, "dqn.batch_size"),
            (|c| c.n_step = 1 << 20, "dqn.n_step"),
            (|c| c.gradient_steps = 0, "dqn.gradient_steps"),
        ] {
            let error = with(change).unwrap_err();
            assert!(error.starts_with(field), "{error}");
        }
    }

    #[test]
    fn the_learning_rate_falls_linearly_to_its_end_and_stays_constant_without_one() {
        let constant = DqnConfig { learning_rate: 1e-4, ..DqnConfig::default() };
        assert_eq!(constant.learning_rate_at(0.7), 1e-4);
        let annealed = DqnConfig { learning_rate_end: Some(2e-5), ..constant };
        assert_eq!(annealed.learning_rate_at(0.0), 1e-4);
        assert!((annealed.learning_rate_at(0.5) - 6e-5).abs() < 1e-12);
        assert!((annealed.learning_rate_at(1.0) - 2e-5).abs() < 1e-12);
        assert!((annealed.learning_rate_at(3.0) - 2e-5).abs() < 1e-12);
        assert!(annealed.validate().is_ok());
        for bad in [-1e-5, 2e-4, f64::NAN] {
            let error =
                DqnConfig { learning_rate_end: Some(bad), ..annealed.clone() }.validate().unwrap_err();
            assert_eq!(error.field, "dqn.learning_rate_end");
        }
    }

    #[test]
    fn a_priority_epsilon_or_huber_delta_that_would_trip_an_assertion_is_named() {
        for (field, config) in [
            ("priority_epsilon", DqnConfig { priority_epsilon: -1.0, ..DqnConfig::default() }),
            ("priority_epsilon", DqnConfig { priority_epsilon: 0.0, ..DqnConfig::default() }),
            ("huber_delta", DqnConfig { huber_delta: f32::NAN, ..DqnConfig::default() }),
            ("huber_delta", DqnConfig { huber_delta: -1.0, ..DqnConfig::default() }),
        ] {
            assert_eq!(config.validate().unwrap_err().field, format!("dqn.{field}"));
        }
    }
}
