//! N environments stepped in parallel (rayon), resetting finished ones automatically.
//!
//! Env i of a vector env with base seed S is exactly a single [`Env`] with seed S + i that is
//! reset with `reset(None)` whenever an episode ends.

use crate::env::{Env, Info, Observation};
use crate::scenario::Scenario;
use rayon::prelude::*;
use std::sync::Arc;

/// The results of one step of all environments.
#[derive(Debug, Clone)]
pub struct VecStep {
    /// Each env's observation after the step; for an env whose episode just ended, the first
    /// observation of its next episode.
    pub obs: Vec<Observation>,
    pub rewards: Vec<f32>,
    pub terminated: Vec<bool>,
    pub truncated: Vec<bool>,
    /// Each env's info for the step just taken (for an ended episode, its last step: end reason,
    /// return terms, ground truth).
    pub infos: Vec<Info>,
    /// For an env whose episode just ended, the episode's last observation (needed to bootstrap
    /// truncated episodes); `None` otherwise.
    pub final_obs: Vec<Option<Observation>>,
}

/// A batch of environments of one scenario.
pub struct VecEnv {
    envs: Vec<Env>,
}

impl VecEnv {
    /// `n` environments; env i is seeded `base_seed + i`.
    pub fn new(scenario: Arc<Scenario>, n: usize, base_seed: u64) -> Self {
        let envs = (0..n as u64)
            .into_par_iter()
            .map(|i| Env::new(scenario.clone(), base_seed.wrapping_add(i)))
            .collect();
        Self { envs }
    }

    pub fn len(&self) -> usize {
        self.envs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.envs.is_empty()
    }

    pub fn num_actions(&self) -> usize {
        self.envs.first().map_or(0, Env::num_actions)
    }

    /// Restarts every env's seed stream at `base_seed + i` and returns the first observations.
    pub fn reset(&mut self, base_seed: u64) -> Vec<(Observation, Info)> {
        self.envs
            .par_iter_mut()
            .enumerate()
            .map(|(i, env)| env.reset(Some(base_seed.wrapping_add(i as u64))))
            .collect()
    }

    /// Steps env i with `actions[i]`, all in parallel, auto-resetting finished episodes.
    pub fn step(&mut self, actions: &[usize]) -> VecStep {
        assert_eq!(actions.len(), self.envs.len(), "one action per environment");
        let results: Vec<_> = self
            .envs
            .par_iter_mut()
            .zip(actions.par_iter())
            .map(|(env, &action)| {
                let step = env.step(action);
                if step.terminated || step.truncated {
                    let (obs, _) = env.reset(None);
                    (obs, step.reward, step.terminated, step.truncated, step.info, Some(step.obs))
                } else {
                    (step.obs, step.reward, false, false, step.info, None)
                }
            })
            .collect();
        let mut out = VecStep {
            obs: Vec::with_capacity(results.len()),
            rewards: Vec::with_capacity(results.len()),
            terminated: Vec::with_capacity(results.len()),
            truncated: Vec::with_capacity(results.len()),
            infos: Vec::with_capacity(results.len()),
            final_obs: Vec::with_capacity(results.len()),
        };
        for (obs, reward, terminated, truncated, info, final_obs) in results {
            out.obs.push(obs);
            out.rewards.push(reward);
            out.terminated.push(terminated);
            out.truncated.push(truncated);
            out.infos.push(info);
            out.final_obs.push(final_obs);
        }
        out
    }

    pub fn envs(&self) -> &[Env] {
        &self.envs
    }
}
