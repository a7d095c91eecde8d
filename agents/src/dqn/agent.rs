//! The DQN agent, top to bottom: act ε-greedily on the online network's Q-values; store each
//! step in the replay buffer (a frame once, as u8; a state as its scaled vector); every
//! `train_frequency` env steps after `learning_starts`, sample batches (prioritised: β annealed
//! to 1 over the run) and run the learner's updates; checkpoint networks, optimiser and replay.

use super::config::DqnConfig;
use super::learner::DqnLearner;
use super::network::{FramesTooSmall, InputShape};
use crate::agent::{Agent, Experience, PartError, Parts, UpdateStats};
use crate::explore::Exploration;
use crate::replay::{ObsRef, ReplayBuffer, ReplaySpec, Transition};
use burn::module::Module;
use burn::prelude::Device;
use burn::store::ModuleRecord;
use burn::tensor::Bytes;
use lepton_perception::{DrivingState, Percept, PerceptShape, VehicleRows};
use rand_chacha::ChaCha8Rng;

pub struct DqnAgent {
    pub learner: DqnLearner,
    pub replay: ReplayBuffer,
    /// Env steps of the whole run (β of prioritised replay reaches 1 at its end).
    total_steps: u64,
}

/// The bytes the replay buffer of `config` holds for `envs` envs of percepts `shape`: its
/// observations (u8 frames, stored once; or f32 states) and, per slot, the action, reward, flags
/// and the sum tree's priorities.
pub fn replay_bytes(config: &DqnConfig, shape: PerceptShape, envs: usize) -> u64 {
    let (values, bytes_each, stack) = match shape {
        PerceptShape::State => (DrivingState::LEN as u64, 4, 1),
        PerceptShape::Vehicles { count } => (VehicleRows::input_len(count) as u64, 4, 1),
        PerceptShape::Frames { stack, channels, height, width } => {
            ((channels * height * width) as u64, 1, stack as u64)
        }
    };
    let envs = envs.max(1) as u64;
    let per_env = (config.buffer_size as u64 / envs).max(stack + config.n_step as u64 + 2);
    let slots = per_env.saturating_mul(envs);
    slots.saturating_mul(values.saturating_mul(bytes_each).saturating_add(4 + 4 + 1 + 16))
}

impl DqnAgent {
    pub fn new(
        config: &DqnConfig,
        shape: PerceptShape,
        actions: usize,
        envs: usize,
        total_steps: u64,
        seed: u64,
        device: &Device,
    ) -> Result<Self, FramesTooSmall> {
        let input = match shape {
            PerceptShape::State => InputShape::Vector(DrivingState::LEN),
            PerceptShape::Vehicles { count } => InputShape::Vehicles { count },
            PerceptShape::Frames { stack, channels, height, width } => {
                InputShape::Frames { stack, channels, height, width }
            }
        };
        let learner = DqnLearner::new(input, actions, config, device, seed)?;
        let (obs_len, stack, frames) = match input {
            InputShape::Vector(_) | InputShape::Vehicles { .. } => (input.len(), 1, false),
            InputShape::Frames { stack, channels, height, width } => (channels * height * width, stack, true),
        };
        let spec = ReplaySpec {
            capacity: config.buffer_size,
            envs,
            obs_len,
            stack,
            n_step: config.n_step,
            gamma: config.gamma,
            alpha: config.prioritized.then_some(config.priority_alpha),
            priority_epsilon: config.priority_epsilon,
        };
        Ok(Self { learner, replay: ReplayBuffer::new(spec, frames), total_steps })
    }

    /// The network input of a batch of percepts: scaled states, or frame stacks in [0, 1].
    fn inputs(percepts: &[Percept]) -> Vec<f32> {
        let mut values = Vec::new();
        for p in percepts {
            match p {
                Percept::State(state) => state.write_scaled(&mut values),
                Percept::Frames(frames) => frames.write_input(&mut values),
                Percept::Vehicles(rows) => rows.write_input(&mut values),
            }
        }
        values
    }
}

/// A state percept's scaled vector, or an object list's input (empty for frames), which the
/// replay buffer borrows.
fn scaled(percept: &Percept) -> Vec<f32> {
    let mut values = Vec::new();
    match percept {
        Percept::State(state) => state.write_scaled(&mut values),
        Percept::Vehicles(rows) => rows.write_input(&mut values),
        Percept::Frames(_) => {}
    }
    values
}

/// A percept as the replay buffer stores it: the newest frame, or the scaled state.
fn stored<'a>(percept: &'a Percept, scaled: &'a [f32]) -> ObsRef<'a> {
    match percept {
        Percept::Frames(frames) => ObsRef::U8(frames.newest()),
        Percept::State(_) | Percept::Vehicles(_) => ObsRef::F32(scaled),
    }
}

const ONLINE: &str = "online.bpk";
const TARGET: &str = "target.bpk";
const OPTIMIZER: &str = "optimizer.bpk";
const LEARNER: &str = "learner.json";
const REPLAY: &str = "replay.bin";

impl Agent for DqnAgent {
    fn name(&self) -> &'static str {
        "dqn"
    }

    fn epsilon(&self, step: u64) -> f64 {
        self.learner.config.epsilon.value(step)
    }

    fn exploration(&self) -> Exploration {
        self.learner.config.exploration
    }

    fn q_values(&self, percepts: &[Percept]) -> Vec<Vec<f32>> {
        let q = self.learner.q_values(Self::inputs(percepts), percepts.len());
        q.chunks(self.learner.actions).map(<[f32]>::to_vec).collect()
    }

    fn observe(&mut self, env: usize, e: &Experience) -> Option<f32> {
        // Borrow the percepts; the buffer copies them once into its ring.
        let (now, next) = (scaled(e.percept), scaled(e.next));
        let ended = e.terminated || e.truncated;
        self.replay.push(
            env,
            &Transition {
                obs: stored(e.percept, &now),
                episode_start: e.episode_start,
                action: e.action,
                reward: e.reward,
                terminated: e.terminated,
                truncated: e.truncated,
                final_obs: ended.then_some(stored(e.next, &next)),
            },
        );
        None
    }

    fn train(&mut self, before: u64, after: u64, rng: &mut ChaCha8Rng) -> Option<UpdateStats> {
        let d = &self.learner.config;
        if after < d.learning_starts || self.replay.len() < d.batch_size {
            return None;
        }
        let due = (after / d.train_frequency - before / d.train_frequency) as usize * d.gradient_steps;
        let (batch_size, prioritized, beta_start) = (d.batch_size, d.prioritized, d.priority_beta_start);
        let mut last = None;
        for _ in 0..due {
            let progress = (after as f32 / self.total_steps.max(1) as f32).min(1.0);
            let beta = beta_start + (1.0 - beta_start) * progress;
            self.learner.learning_rate = self.learner.config.learning_rate_at(progress as f64);
            let batch = self.replay.sample(batch_size, if prioritized { beta } else { 0.0 }, rng);
            let slots = batch.slots.clone();
            let (stats, td) = self.learner.update(batch);
            self.replay.update_priorities(&slots, &td);
            last = Some(stats);
        }
        last
    }

    fn updates(&self) -> u64 {
        self.learner.updates
    }

    fn replay_bytes_per_transition(&self) -> Option<f64> {
        Some(self.replay.bytes_per_entry())
    }

    fn to_parts(&self, with_replay: bool) -> Result<Parts, PartError> {
        let l = &self.learner;
        let record = |file, net: &super::QNetwork| {
            net.clone().into_record().into_bytes().map(|b| b.to_vec()).map_err(|e| PartError::new(file, e))
        };
        let mut parts = vec![
            (ONLINE, record(ONLINE, &l.online)?),
            (TARGET, record(TARGET, &l.target)?),
            (
                OPTIMIZER,
                l.optimizer.into_bytes().map(|b| b.to_vec()).map_err(|e| PartError::new(OPTIMIZER, e))?,
            ),
            (LEARNER, serde_json::to_vec(&l.updates).expect("counter serialises")),
        ];
        if with_replay {
            parts.push((REPLAY, self.replay.to_bytes()));
        }
        Ok(parts)
    }

    fn load_parts(
        &mut self,
        read: &dyn Fn(&str) -> Result<Vec<u8>, PartError>,
        with_replay: bool,
    ) -> Result<(), PartError> {
        let record = |file: &str| -> Result<ModuleRecord, PartError> {
            ModuleRecord::from_bytes(Bytes::from_bytes_vec(read(file)?)).map_err(|e| PartError::new(file, e))
        };
        let l = &mut self.learner;
        l.online =
            l.online.clone().try_load_record(record(ONLINE)?).map_err(|e| PartError::new(ONLINE, e))?;
        l.target =
            l.target.clone().try_load_record(record(TARGET)?).map_err(|e| PartError::new(TARGET, e))?;
        l.optimizer = DqnLearner::optimizer(&l.config)
            .from_bytes(Bytes::from_bytes_vec(read(OPTIMIZER)?))
            .map_err(|e| PartError::new(OPTIMIZER, e))?;
        l.updates = serde_json::from_slice(&read(LEARNER)?).map_err(|e| PartError::new(LEARNER, e))?;
        if with_replay {
            let replay = ReplayBuffer::from_bytes(&read(REPLAY)?).map_err(|m| PartError::new(REPLAY, m))?;
            // A buffer of another layout (envs, frame size, stack, n-step, γ) would be misread.
            if replay.spec() != self.replay.spec() || replay.stores_frames() != self.replay.stores_frames() {
                return Err(PartError::new(
                    REPLAY,
                    format!(
                        "holds a replay of another layout ({:?}); this run's is {:?}",
                        replay.spec(),
                        self.replay.spec()
                    ),
                ));
            }
            self.replay = replay;
        }
        Ok(())
    }
}
