//! Tabular ε-greedy Q-learning on a discretised state:
//! Q(s, a) ← Q(s, a) + α · (r + γ · max_a' Q(s', a') · [not terminated] − Q(s, a)).
//! A truncated episode (time limit, stuck) still bootstraps from s': the task did not end there.

use crate::agent::{Agent, Experience, PartError, Parts, argmax};
use crate::schedule::EpsilonSchedule;
use lepton_artifacts::InvalidField;
use lepton_perception::{Discretiser, Percept};
use rand::Rng;
use serde::{Deserialize, Serialize};

/// Hyperparameters of the tabular learner.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct QLearningConfig {
    /// Step size α.
    pub learning_rate: f32,
    /// Discount γ.
    pub discount: f32,
    /// Initial value of every entry (optimism encourages exploration).
    pub initial_value: f32,
}

impl Default for QLearningConfig {
    fn default() -> Self {
        Self { learning_rate: 0.1, discount: 0.95, initial_value: 0.0 }
    }
}

/// The table: `states × actions` values, row-major.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QTable {
    pub states: usize,
    pub actions: usize,
    pub values: Vec<f32>,
    /// Updates applied to each state (for coverage statistics).
    pub visits: Vec<u32>,
}

impl QTable {
    pub fn new(states: usize, actions: usize, initial_value: f32) -> Self {
        Self { states, actions, values: vec![initial_value; states * actions], visits: vec![0; states] }
    }

    pub fn row(&self, state: usize) -> &[f32] {
        &self.values[state * self.actions..(state + 1) * self.actions]
    }

    /// The best action (lowest index on ties, so it is deterministic).
    pub fn greedy(&self, state: usize) -> usize {
        let row = self.row(state);
        (0..self.actions).fold(0, |best, a| if row[a] > row[best] { a } else { best })
    }

    /// With probability ε a uniformly random action, else the greedy one.
    pub fn act(&self, state: usize, epsilon: f64, rng: &mut impl Rng) -> usize {
        if rng.random::<f64>() < epsilon { rng.random_range(0..self.actions) } else { self.greedy(state) }
    }

    /// One Q-learning update; returns the TD error.
    pub fn update(
        &mut self,
        config: &QLearningConfig,
        state: usize,
        action: usize,
        reward: f32,
        next_state: usize,
        terminated: bool,
    ) -> f32 {
        let bootstrap = if terminated {
            0.0
        } else {
            self.row(next_state).iter().copied().fold(f32::NEG_INFINITY, f32::max)
        };
        let target = reward + config.discount * bootstrap;
        let entry = &mut self.values[state * self.actions + action];
        let td = target - *entry;
        *entry += config.learning_rate * td;
        self.visits[state] = self.visits[state].saturating_add(1);
        td
    }

    /// Fraction of states updated at least once.
    pub fn coverage(&self) -> f32 {
        self.visits.iter().filter(|&&v| v > 0).count() as f32 / self.states.max(1) as f32
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("table serialises")
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Self, QTableError> {
        let table: QTable = serde_json::from_slice(bytes)?;
        if table.values.len() != table.states * table.actions || table.visits.len() != table.states {
            return Err(QTableError::Sizes { states: table.states, actions: table.actions });
        }
        Ok(table)
    }
}

/// Bytes that are not a Q-table.
#[derive(Debug, thiserror::Error)]
pub enum QTableError {
    #[error("not a Q-table: {0}")]
    NotATable(#[from] serde_json::Error),
    #[error("Q-table sizes disagree ({states} states × {actions} actions)")]
    Sizes { states: usize, actions: usize },
}

/// Everything the tabular agent is configured with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TabularConfig {
    pub learning: QLearningConfig,
    pub epsilon: EpsilonSchedule,
    /// How the driving state is binned into table rows.
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

impl TabularConfig {
    /// Checks every field; the message names it.
    pub fn validate(&self) -> Result<(), InvalidField> {
        self.discretiser.validate()?;
        self.epsilon.validate("qlearning.epsilon")
    }
}

/// The ε-greedy tabular agent: a discretised driving state indexes the table.
pub struct QLearningAgent {
    pub table: QTable,
    pub config: TabularConfig,
}

const TABLE_FILE: &str = "qtable.json";

impl QLearningAgent {
    pub fn new(config: TabularConfig, actions: usize) -> Self {
        let table = QTable::new(config.discretiser.num_states(), actions, config.learning.initial_value);
        Self { table, config }
    }

    /// The table row of a percept.
    fn row(&self, percept: &Percept) -> usize {
        match percept {
            Percept::State(state) => self.config.discretiser.index(state),
            Percept::Frames(_) | Percept::Vehicles(_) => {
                unreachable!("tabular agents are built for state percepts only")
            }
        }
    }
}

impl Agent for QLearningAgent {
    fn name(&self) -> &'static str {
        "qlearning"
    }

    fn epsilon(&self, step: u64) -> f64 {
        self.config.epsilon.value(step)
    }

    fn q_values(&self, percepts: &[Percept]) -> Vec<Vec<f32>> {
        percepts.iter().map(|p| self.table.row(self.row(p)).to_vec()).collect()
    }

    fn greedy(&self, percepts: &[Percept]) -> Vec<usize> {
        percepts.iter().map(|p| argmax(self.table.row(self.row(p)))).collect()
    }

    fn observe(&mut self, _env: usize, e: &Experience) -> Option<f32> {
        let (state, next) = (self.row(e.percept), self.row(e.next));
        Some(self.table.update(&self.config.learning, state, e.action, e.reward, next, e.terminated))
    }

    fn to_parts(&self, _with_replay: bool) -> Result<Parts, PartError> {
        Ok(vec![(TABLE_FILE, self.table.to_bytes())])
    }

    fn load_parts(
        &mut self,
        read: &dyn Fn(&str) -> Result<Vec<u8>, PartError>,
        _with_replay: bool,
    ) -> Result<(), PartError> {
        let loaded = QTable::from_bytes(&read(TABLE_FILE)?).map_err(|m| PartError::new(TABLE_FILE, m))?;
        if (loaded.states, loaded.actions) != (self.table.states, self.table.actions) {
            return Err(PartError::new(
                TABLE_FILE,
                format!(
                    "the table is {}×{}, the configuration makes {}×{}",
                    loaded.states, loaded.actions, self.table.states, self.table.actions
                ),
            ));
        }
        self.table = loaded;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn an_update_matches_the_hand_computed_value() {
        let config = QLearningConfig { learning_rate: 0.5, discount: 0.9, initial_value: 0.0 };
        let mut q = QTable::new(3, 2, 0.0);
        q.values = vec![1.0, 2.0, 4.0, 3.0, 0.0, 0.0];
        // Q(0,1) = 2 + 0.5 · (1 + 0.9 · max(4, 3) − 2) = 2 + 0.5 · 2.6 = 3.3
        let td = q.update(&config, 0, 1, 1.0, 1, false);
        assert!((td - 2.6).abs() < 1e-6);
        assert!((q.values[1] - 3.3).abs() < 1e-6);
        // Terminated: no bootstrap. Q(1,0) = 4 + 0.5 · (−1 − 4) = 1.5
        q.update(&config, 1, 0, -1.0, 2, true);
        assert!((q.values[2] - 1.5).abs() < 1e-6);
        assert_eq!(q.visits, vec![1, 1, 0]);
        assert!((q.coverage() - 2.0 / 3.0).abs() < 1e-6);
    }

    #[test]
    fn acting_is_greedy_at_zero_epsilon_and_uniform_at_one() {
        let mut q = QTable::new(1, 3, 0.0);
        q.values = vec![0.0, 5.0, 1.0];
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
        assert!((0..100).all(|_| q.act(0, 0.0, &mut rng) == 1));
        let mut counts = [0; 3];
        for _ in 0..3000 {
            counts[q.act(0, 1.0, &mut rng)] += 1;
        }
        assert!(counts.iter().all(|&c| c > 900), "{counts:?}");
    }

    #[test]
    fn the_table_round_trips_through_bytes() {
        let mut q = QTable::new(4, 3, 0.5);
        q.update(&QLearningConfig::default(), 2, 1, 1.0, 3, false);
        assert_eq!(QTable::from_bytes(&q.to_bytes()).unwrap(), q);
        assert!(QTable::from_bytes(b"{}").is_err());
    }
}
