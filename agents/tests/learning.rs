//! DQN and Q-learning on a small task with a known answer: a corridor of 8 cells, start in the
//! middle, step left or right; reaching the right end pays +1 and ends the episode, the left end
//! pays −1, every step costs 0.01, and 20 steps truncate. A random walk scores below zero; the
//! learned greedy policy walks straight right.

use burn::prelude::Device;
use lepton_agents::dqn::{DqnConfig, DqnLearner, InputShape, TargetUpdate};
use lepton_agents::qlearning::{QLearningConfig, QTable};
use lepton_agents::replay::{ObsRef, ReplayBuffer, ReplaySpec, Transition};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const CELLS: i32 = 8;

struct Corridor {
    pos: i32,
    t: u32,
}

impl Corridor {
    fn reset() -> Self {
        Self { pos: CELLS / 2, t: 0 }
    }

    fn obs(&self) -> Vec<f32> {
        (0..CELLS).map(|i| (i == self.pos) as i32 as f32).collect()
    }

    /// (reward, terminated, truncated)
    fn step(&mut self, action: usize) -> (f32, bool, bool) {
        self.pos += if action == 1 { 1 } else { -1 };
        self.t += 1;
        if self.pos >= CELLS - 1 {
            (1.0, true, false)
        } else if self.pos <= 0 {
            (-1.0, true, false)
        } else {
            (-0.01, false, self.t >= 20)
        }
    }
}

fn mean_return(episodes: usize, mut policy: impl FnMut(&[f32]) -> usize) -> f32 {
    let mut total = 0.0;
    for _ in 0..episodes {
        let mut env = Corridor::reset();
        loop {
            let (r, term, trunc) = env.step(policy(&env.obs()));
            total += r;
            if term || trunc {
                break;
            }
        }
    }
    total / episodes as f32
}

#[test]
fn dqn_beats_random_by_a_clear_margin() {
    let config = DqnConfig {
        learning_rate: 5e-3,
        batch_size: 32,
        buffer_size: 5_000,
        target_update: TargetUpdate::Hard { every: 50 },
        n_step: 2,
        gamma: 0.95,
        network: lepton_agents::dqn::NetworkConfig {
            hidden: vec![32],
            cnn_hidden: 0,
            dueling: true,
            attention: None,
        },
        ..DqnConfig::default()
    };
    let device = Device::flex();
    let mut learner = DqnLearner::new(InputShape::Vector(CELLS as usize), 2, &config, &device, 1).unwrap();
    let spec = ReplaySpec {
        capacity: 5_000,
        envs: 1,
        obs_len: CELLS as usize,
        stack: 1,
        n_step: 2,
        gamma: 0.95,
        alpha: None,
        priority_epsilon: 1e-6,
    };
    let mut replay = ReplayBuffer::new(spec, false);
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let mut env = Corridor::reset();
    let mut start = true;
    for step in 0..1_500u32 {
        let obs = env.obs();
        let epsilon = (1.0 - step as f64 / 1_000.0).max(0.05);
        let action = if rng.random::<f64>() < epsilon {
            rng.random_range(0..2)
        } else {
            let q = learner.q_values(obs.clone(), 1);
            (q[1] > q[0]) as usize
        };
        let (reward, terminated, truncated) = env.step(action);
        let next = env.obs();
        replay.push(
            0,
            &Transition {
                obs: ObsRef::F32(&obs),
                episode_start: start,
                action,
                reward,
                terminated,
                truncated,
                final_obs: Some(ObsRef::F32(&next)),
            },
        );
        start = terminated || truncated;
        if start {
            env = Corridor::reset();
        }
        if step >= 200 && replay.len() >= 32 {
            let batch = replay.sample(32, 0.0, &mut rng);
            learner.update(batch);
        }
    }
    let mut random_rng = ChaCha8Rng::seed_from_u64(9);
    let random = mean_return(200, |_| random_rng.random_range(0..2));
    let learned = mean_return(20, |obs| {
        let q = learner.q_values(obs.to_vec(), 1);
        (q[1] > q[0]) as usize
    });
    // Walking straight right: 3 steps, 1 − 2·0.01 = 0.98.
    assert!(learned > 0.9, "DQN greedy return {learned}");
    assert!(learned > random + 0.8, "DQN {learned} vs random {random}");
}

#[test]
fn q_learning_beats_random_by_a_clear_margin() {
    let config = QLearningConfig { learning_rate: 0.2, discount: 0.95, initial_value: 0.0 };
    let mut table = QTable::new(CELLS as usize, 2, 0.0);
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    for episode in 0..300 {
        let mut env = Corridor::reset();
        let epsilon = (1.0 - episode as f64 / 200.0).max(0.05);
        loop {
            let s = env.pos as usize;
            let a = table.act(s, epsilon, &mut rng);
            let (r, term, trunc) = env.step(a);
            table.update(&config, s, a, r, env.pos.clamp(0, CELLS - 1) as usize, term);
            if term || trunc {
                break;
            }
        }
    }
    let mut random_rng = ChaCha8Rng::seed_from_u64(9);
    let random = mean_return(200, |_| random_rng.random_range(0..2));
    let learned = mean_return(10, |obs| table.greedy(obs.iter().position(|&v| v > 0.5).unwrap()));
    assert!(learned > 0.9 && learned > random + 0.8, "Q-learning {learned} vs random {random}");
}
