//! The two learners behind one face: what they read, how they act ε-greedily, how they learn
//! from a step, and what of them goes into a checkpoint.

use super::checkpoint::{self, CheckpointError, Part};
use super::config::{AgentKind, RunConfig};
use super::observe::{Encoded, Stack};
use crate::dqn::{DqnLearner, InputShape, UpdateStats};
use crate::qlearning::QTable;
use crate::replay::{ObsRef, ReplayBuffer, ReplaySpec, Transition};
use burn::module::Module;
use burn::prelude::Device;
use burn::store::ModuleRecord;
use burn::tensor::Bytes;
use rand::Rng;
use std::path::Path;

pub enum Agent {
    Table(QTable),
    Dqn { learner: Box<DqnLearner>, replay: ReplayBuffer },
}

/// An encoded observation as the replay buffer takes it, borrowed.
fn view(e: &Encoded) -> ObsRef<'_> {
    match e {
        Encoded::State(_, v) => ObsRef::F32(v),
        Encoded::Frame(f) => ObsRef::U8(f),
    }
}

/// What the agent's networks or table read per env.
pub struct Inputs {
    pub n: usize,
    /// Table rows (tabular agent).
    pub states: Vec<usize>,
    /// Flat network input (DQN).
    pub values: Vec<f32>,
}

impl Agent {
    /// A fresh agent. `input` is the DQN's input shape (state vector or frame stack).
    pub fn new(
        config: &RunConfig,
        input: InputShape,
        actions: usize,
        device: &Device,
    ) -> Result<Self, String> {
        match config.agent {
            AgentKind::QLearning => {
                let t = &config.qlearning;
                Ok(Agent::Table(QTable::new(t.discretiser.num_states(), actions, t.learning.initial_value)))
            }
            AgentKind::Dqn => {
                let d = &config.dqn;
                let learner = DqnLearner::new(input, actions, d, device, config.seed)?;
                let (obs_len, stack, frames) = match input {
                    InputShape::Vector(n) => (n, 1, false),
                    InputShape::Frames { stack, channels, height, width } => {
                        (channels * height * width, stack, true)
                    }
                };
                let spec = ReplaySpec {
                    capacity: d.buffer_size,
                    envs: config.envs,
                    obs_len,
                    stack,
                    n_step: d.n_step,
                    gamma: d.gamma,
                    alpha: d.prioritized.then_some(d.priority_alpha),
                    priority_epsilon: d.priority_epsilon,
                };
                Ok(Agent::Dqn { learner: Box::new(learner), replay: ReplayBuffer::new(spec, frames) })
            }
        }
    }

    pub fn inputs(&self, config: &RunConfig, encoded: &[Encoded], stacks: &[Stack]) -> Inputs {
        let n = encoded.len();
        let mut inputs = Inputs { n, states: Vec::new(), values: Vec::new() };
        match self {
            Agent::Table(_) => {
                inputs.states = encoded
                    .iter()
                    .map(|e| match e {
                        Encoded::State(s, _) => config.qlearning.discretiser.index(s),
                        Encoded::Frame(_) => unreachable!("tabular agents read states"),
                    })
                    .collect();
            }
            Agent::Dqn { .. } => {
                for (e, stack) in encoded.iter().zip(stacks) {
                    match e {
                        Encoded::State(_, v) => inputs.values.extend_from_slice(v),
                        Encoded::Frame(_) => stack.write_input(&mut inputs.values),
                    }
                }
            }
        }
        inputs
    }

    /// The greedy action per env, and for DQN each env's best Q-value.
    pub fn greedy(&self, inputs: &Inputs) -> Vec<usize> {
        match self {
            Agent::Table(table) => inputs.states.iter().map(|&s| table.greedy(s)).collect(),
            Agent::Dqn { learner, .. } => {
                let q = learner.q_values(inputs.values.clone(), inputs.n);
                let a = learner.actions;
                (0..inputs.n)
                    .map(|i| {
                        let row = &q[i * a..(i + 1) * a];
                        (0..a).fold(0, |b, j| if row[j] > row[b] { j } else { b })
                    })
                    .collect()
            }
        }
    }

    /// Every action's value per env (the table's row, or the online network's output).
    pub fn q_values(&self, inputs: &Inputs) -> Vec<Vec<f32>> {
        match self {
            Agent::Table(table) => inputs.states.iter().map(|&s| table.row(s).to_vec()).collect(),
            Agent::Dqn { learner, .. } => {
                let q = learner.q_values(inputs.values.clone(), inputs.n);
                q.chunks(learner.actions).map(<[f32]>::to_vec).collect()
            }
        }
    }

    /// ε-greedy: one uniform draw per env (always, so the RNG stream does not depend on ε).
    pub fn act(&self, inputs: &Inputs, epsilon: f64, actions: usize, rng: &mut impl Rng) -> Vec<usize> {
        let greedy = self.greedy(inputs);
        greedy
            .into_iter()
            .map(|g| {
                let explore = rng.random::<f64>() < epsilon;
                let random = rng.random_range(0..actions);
                if explore { random } else { g }
            })
            .collect()
    }

    /// Learns from one env's step (tabular: at once; DQN: into the replay buffer).
    #[allow(clippy::too_many_arguments)]
    pub fn observe(
        &mut self,
        config: &RunConfig,
        env: usize,
        current: &Encoded,
        episode_start: bool,
        action: usize,
        reward: f32,
        terminated: bool,
        truncated: bool,
        next: &Encoded,
    ) -> Option<f32> {
        match self {
            Agent::Table(table) => {
                let d = &config.qlearning.discretiser;
                let (Encoded::State(s, _), Encoded::State(s2, _)) = (current, next) else {
                    unreachable!("tabular agents read states")
                };
                Some(table.update(
                    &config.qlearning.learning,
                    d.index(s),
                    action,
                    reward,
                    d.index(s2),
                    terminated,
                ))
            }
            Agent::Dqn { replay, .. } => {
                // Borrow the encoded observations; the buffer copies them once into its ring.
                let (obs, final_obs) = (view(current), view(next));
                replay.push(
                    env,
                    &Transition {
                        obs,
                        episode_start,
                        action,
                        reward,
                        terminated,
                        truncated,
                        final_obs: (terminated || truncated).then_some(final_obs),
                    },
                );
                None
            }
        }
    }

    /// DQN learner updates due after the env-step counter moved from `before` to `after`.
    pub fn train(
        &mut self,
        config: &RunConfig,
        before: u64,
        after: u64,
        rng: &mut impl Rng,
    ) -> Option<UpdateStats> {
        let Agent::Dqn { learner, replay } = self else { return None };
        let d = &config.dqn;
        if after < d.learning_starts || replay.len() < d.batch_size {
            return None;
        }
        let due = (after / d.train_frequency - before / d.train_frequency) as usize * d.gradient_steps;
        let mut last = None;
        for _ in 0..due {
            let progress = (after as f32 / config.steps.max(1) as f32).min(1.0);
            let beta = d.priority_beta_start + (1.0 - d.priority_beta_start) * progress;
            let batch = replay.sample(d.batch_size, if d.prioritized { beta } else { 0.0 }, rng);
            let (stats, td) = learner.update(&batch);
            replay.update_priorities(&batch.slots, &td);
            last = Some(stats);
        }
        last
    }

    pub fn updates(&self) -> u64 {
        match self {
            Agent::Table(_) => 0,
            Agent::Dqn { learner, .. } => learner.updates,
        }
    }

    /// Replay bytes per stored transition (DQN).
    pub fn replay_bytes_per_transition(&self) -> Option<f64> {
        match self {
            Agent::Table(_) => None,
            Agent::Dqn { replay, .. } => Some(replay.bytes_per_entry()),
        }
    }

    /// Writes the agent (and `state`) as checkpoint folder `dir`. `with_replay: false` leaves
    /// the replay buffer out (the "best" checkpoint only needs the policy).
    pub fn save(
        &self,
        dir: &Path,
        state: &checkpoint::TrainerState,
        with_replay: bool,
    ) -> Result<(), CheckpointError> {
        let fail = |m: String| CheckpointError { path: dir.to_path_buf(), message: m };
        match self {
            Agent::Table(table) => {
                checkpoint::save(dir, state, &[Part { file: "qtable.json", bytes: &table.to_bytes() }])
            }
            Agent::Dqn { learner, replay } => {
                let online =
                    learner.online.clone().into_record().into_bytes().map_err(|e| fail(e.to_string()))?;
                let target =
                    learner.target.clone().into_record().into_bytes().map_err(|e| fail(e.to_string()))?;
                let optimizer = learner.optimizer.into_bytes().map_err(|e| fail(e.to_string()))?;
                let replay_bytes = if with_replay { replay.to_bytes() } else { Vec::new() };
                let counters = serde_json::to_vec(&learner.updates).expect("counter serialises");
                let mut parts = vec![
                    Part { file: "online.bpk", bytes: &online },
                    Part { file: "target.bpk", bytes: &target },
                    Part { file: "optimizer.bpk", bytes: &optimizer },
                    Part { file: "learner.json", bytes: &counters },
                ];
                if with_replay {
                    parts.push(Part { file: "replay.bin", bytes: &replay_bytes });
                }
                checkpoint::save(dir, state, &parts)
            }
        }
    }

    /// Restores the agent from checkpoint folder `dir` into this freshly built agent.
    pub fn load(&mut self, dir: &Path, with_replay: bool) -> Result<(), CheckpointError> {
        let fail = |file: &str, m: String| CheckpointError { path: dir.join(file), message: m };
        match self {
            Agent::Table(table) => {
                let loaded = QTable::from_bytes(&checkpoint::read_part(dir, "qtable.json")?)
                    .map_err(|m| fail("qtable.json", m))?;
                if (loaded.states, loaded.actions) != (table.states, table.actions) {
                    return Err(fail(
                        "qtable.json",
                        format!(
                            "the table is {}×{}, the configuration makes {}×{}",
                            loaded.states, loaded.actions, table.states, table.actions
                        ),
                    ));
                }
                *table = loaded;
            }
            Agent::Dqn { learner, replay } => {
                let record = |file: &str| -> Result<ModuleRecord, CheckpointError> {
                    let bytes = checkpoint::read_part(dir, file)?;
                    ModuleRecord::from_bytes(Bytes::from_bytes_vec(bytes))
                        .map_err(|e| fail(file, e.to_string()))
                };
                learner.online = learner
                    .online
                    .clone()
                    .try_load_record(record("online.bpk")?)
                    .map_err(|e| fail("online.bpk", e.to_string()))?;
                learner.target = learner
                    .target
                    .clone()
                    .try_load_record(record("target.bpk")?)
                    .map_err(|e| fail("target.bpk", e.to_string()))?;
                let optimizer = checkpoint::read_part(dir, "optimizer.bpk")?;
                learner.optimizer = DqnLearner::optimizer(&learner.config)
                    .from_bytes(Bytes::from_bytes_vec(optimizer))
                    .map_err(|e| fail("optimizer.bpk", e.to_string()))?;
                learner.updates = serde_json::from_slice(&checkpoint::read_part(dir, "learner.json")?)
                    .map_err(|e| fail("learner.json", e.to_string()))?;
                if with_replay {
                    *replay = ReplayBuffer::from_bytes(&checkpoint::read_part(dir, "replay.bin")?)
                        .map_err(|m| fail("replay.bin", m))?;
                }
            }
        }
        Ok(())
    }
}
