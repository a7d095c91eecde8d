//! Greedy evaluation on fixed seeds: the same episodes every time, so runs and checkpoints compare.

use super::agent::Agent;
use super::config::RunConfig;
use super::observe::{Encoded, Observer, Stack};
use super::trainer::TrainError;
use lepton_sim::scenario::Scenario;
use lepton_sim::{EndReason, Observation, VecEnv};
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Arc;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvalSummary {
    pub episodes: usize,
    pub seed: u64,
    pub mean_return: f32,
    pub std_return: f32,
    pub success_rate: f32,
    pub collisions: usize,
    pub off_road: usize,
    /// Mean |lane offset| over every step of every episode (m).
    pub mean_abs_lane_offset: f32,
    pub mean_length: f32,
    pub end_reasons: BTreeMap<String, usize>,
    pub returns: Vec<f32>,
}

/// Runs `episodes` greedy episodes (up to 8 envs side by side; env i plays episodes i, i+n, …)
/// starting from seed `seed`.
pub fn evaluate(
    agent: &Agent,
    config: &RunConfig,
    scenario: &Arc<Scenario>,
    observer: &mut Observer,
    stack: usize,
    episodes: usize,
    seed: u64,
) -> Result<EvalSummary, TrainError> {
    let n = episodes.clamp(1, 8);
    let mut envs = if observer.needs_frames() {
        VecEnv::with_camera(scenario.clone(), n, seed)?
    } else {
        VecEnv::new(scenario.clone(), n, seed)
    };
    let first: Vec<Observation> = envs.try_reset(seed)?.into_iter().map(|(o, _)| o).collect();
    let mut current = observer.encode(&first.iter().collect::<Vec<_>>())?;
    let mut stacks = vec![Stack::default(); n];
    for (s, e) in stacks.iter_mut().zip(&current) {
        if let Encoded::Frame(f) = e {
            s.push(f, stack, true);
        }
    }
    let quota: Vec<usize> = (0..n).map(|i| (episodes + n - 1 - i) / n).collect();
    let mut done = vec![0usize; n];
    let mut returns_now = vec![0.0f32; n];
    let mut returns = Vec::new();
    let mut lengths = Vec::new();
    let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
    let (mut offset_sum, mut offset_n) = (0.0f64, 0u64);
    while (0..n).any(|i| done[i] < quota[i]) {
        let inputs = agent.inputs(config, &current, &stacks);
        let actions = agent.greedy(&inputs);
        let step = envs.try_step(&actions)?;
        for i in 0..n {
            if done[i] >= quota[i] {
                continue;
            }
            returns_now[i] += step.rewards[i];
            offset_sum += step.infos[i].ground_truth.lane_offset.abs() as f64;
            offset_n += 1;
            if step.final_obs[i].is_some() {
                let reason = step.infos[i].end.map_or("unknown", EndReason::name);
                *reasons.entry(reason.to_string()).or_default() += 1;
                returns.push(returns_now[i]);
                lengths.push(step.infos[i].episode_step);
                returns_now[i] = 0.0;
                done[i] += 1;
            }
        }
        current = observer.encode(&step.obs.iter().collect::<Vec<_>>())?;
        for i in 0..n {
            if let Encoded::Frame(f) = &current[i] {
                stacks[i].push(f, stack, step.final_obs[i].is_some());
            }
        }
    }
    let count = returns.len().max(1) as f32;
    let mean = returns.iter().sum::<f32>() / count;
    let std = (returns.iter().map(|r| (r - mean).powi(2)).sum::<f32>() / count).sqrt();
    let count_of = |r: &str| reasons.get(r).copied().unwrap_or(0);
    Ok(EvalSummary {
        episodes: returns.len(),
        seed,
        mean_return: mean,
        std_return: std,
        success_rate: count_of("success") as f32 / count,
        collisions: count_of("collision"),
        off_road: count_of("off_road"),
        mean_abs_lane_offset: (offset_sum / offset_n.max(1) as f64) as f32,
        mean_length: lengths.iter().sum::<u32>() as f32 / count,
        end_reasons: reasons,
        returns,
    })
}
