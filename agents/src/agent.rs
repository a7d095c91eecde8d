//! The face every learner shows the run loop: how it values and chooses actions for a batch of
//! percepts (ε-greedy), how it learns from a step, and what of it goes into a checkpoint.
//! Tabular Q-learning ([`crate::qlearning`]) and DQN ([`crate::dqn`]) implement it; each owns
//! its configuration, chosen by [`crate::AgentConfig`].

use crate::explore::Exploration;
use lepton_perception::Percept;
use rand_chacha::ChaCha8Rng;

/// What one learner update measured (the trainer logs it).
#[derive(Debug, Clone, Copy, Default)]
pub struct UpdateStats {
    pub loss: f32,
    pub mean_q: f32,
}

/// One env's step, as an agent learns from it.
#[derive(Debug, Clone, Copy)]
pub struct Experience<'a> {
    /// What the agent perceived when it acted.
    pub percept: &'a Percept,
    /// Whether `percept` is the first of its episode.
    pub episode_start: bool,
    pub action: usize,
    pub reward: f32,
    pub terminated: bool,
    pub truncated: bool,
    /// What it perceived after the action (the episode's last percept when the step ended it).
    pub next: &'a Percept,
}

/// A checkpoint file an agent could not write or read back.
#[derive(Debug, thiserror::Error)]
#[error("{file}: {message}")]
pub struct PartError {
    pub file: String,
    pub message: String,
}

impl PartError {
    pub fn new(file: &str, message: impl ToString) -> Self {
        Self { file: file.to_string(), message: message.to_string() }
    }
}

/// Named files of an agent's checkpoint.
pub type Parts = Vec<(&'static str, Vec<u8>)>;

/// A learner behind the run loop, evaluation and the viewer.
pub trait Agent: Send {
    /// `qlearning` or `dqn`.
    fn name(&self) -> &'static str;

    /// Exploration rate after `step` env steps.
    fn epsilon(&self, step: u64) -> f64;

    /// Every action's value for each percept (the table's row, or the online network's output).
    fn q_values(&self, percepts: &[Percept]) -> Vec<Vec<f32>>;

    /// The greedy action per percept (lowest index on ties, so it is deterministic).
    fn greedy(&self, percepts: &[Percept]) -> Vec<usize> {
        self.q_values(percepts).iter().map(|q| argmax(q)).collect()
    }

    /// How the agent explores around its greedy choice (the rate ε comes from
    /// [`Agent::epsilon`]); the training loops act through an [`crate::explore::Explorer`].
    fn exploration(&self) -> Exploration {
        Exploration::EpsilonGreedy
    }

    /// Learns from env `env`'s step (tabular: at once, returning the TD error; DQN: into replay).
    fn observe(&mut self, env: usize, experience: &Experience) -> Option<f32>;

    /// The learner updates due after the env-step counter moved from `before` to `after`.
    fn train(&mut self, _before: u64, _after: u64, _rng: &mut ChaCha8Rng) -> Option<UpdateStats> {
        None
    }

    /// Learner updates so far.
    fn updates(&self) -> u64 {
        0
    }

    /// Replay bytes per stored transition, for agents with a replay buffer.
    fn replay_bytes_per_transition(&self) -> Option<f64> {
        None
    }

    /// The agent as checkpoint files; `with_replay: false` leaves the replay buffer out (a
    /// checkpoint kept only to act needs the policy alone).
    fn to_parts(&self, with_replay: bool) -> Result<Parts, PartError>;

    /// Restores this freshly built agent from checkpoint files read by `read`.
    fn load_parts(
        &mut self,
        read: &dyn Fn(&str) -> Result<Vec<u8>, PartError>,
        with_replay: bool,
    ) -> Result<(), PartError>;
}

/// The index of the largest value (the first one on ties).
pub fn argmax(values: &[f32]) -> usize {
    (0..values.len()).fold(0, |best, j| if values[j] > values[best] { j } else { best })
}
