//! Greedy evaluation on fixed seeds: the same episodes every time, so runs and checkpoints compare.

use super::error::RunError;
use crate::policy::Policy;
use lepton_render::recorder::{EpisodeRecorder, RecordedEpisode};
use lepton_render::sensor_pictures::SensorView;
use lepton_sim::scenario::Scenario;
use lepton_sim::{Act, Reset};
use lepton_sim::{Observation, VecEnv};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvalSummary {
    pub episodes: usize,
    pub seed: u64,
    /// The envs' seeds, `[first, end)`: env i's seed stream starts at `first + i`.
    pub env_seeds: [u64; 2],
    /// The seed of each episode played, in the order they ended.
    pub episode_seeds: Vec<u64>,
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
    /// The episodes recorded as videos, when asked for (videos.json lists them; not read back).
    #[serde(skip_serializing_if = "Vec::is_empty", skip_deserializing)]
    pub videos: Vec<RecordedEpisode>,
}

/// `lepton eval --json`: the evaluation, and what makes it honest. The pipeline's agent gate and
/// the monitor read it back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvalReport {
    #[serde(flatten)]
    pub summary: EvalSummary,
    /// The checkpoint folder evaluated (`best` or `last`; `keep-lane` for the scripted driver).
    pub checkpoint: String,
    /// The env seeds `[first, end)` whose evaluations chose `checkpoints/best` during training.
    pub best_chosen_on_env_seeds: [u64; 2],
    /// Whether these episodes are disjoint from those (or the checkpoint is `last`).
    pub held_out: bool,
}

/// `lepton eval` starts this far above a run's `eval_seed`, so that by default it scores a
/// checkpoint on episodes other than those that chose it as the best during training.
pub const HELD_OUT_SEED_OFFSET: u64 = 1_000_000;

/// The env seeds `[first, end)` of `episodes` evaluation episodes from seed `seed`.
pub fn eval_env_seeds(seed: u64, episodes: usize) -> [u64; 2] {
    [seed, seed.saturating_add(eval_envs(episodes) as u64)]
}

/// How many envs [`evaluate`] plays `episodes` on side by side.
pub fn eval_envs(episodes: usize) -> usize {
    episodes.clamp(1, 8)
}

/// Runs `episodes` episodes of `policy` (a trained agent's [`crate::GreedyPolicy`], or a
/// baseline) on [`eval_envs`] envs side by side (env i plays episodes i, i+n, …), starting from
/// seed `seed`. With `video_dir`, each episode is also recorded there from the chase camera
/// (one MP4 each, listed in `videos.json`).
pub fn evaluate(
    policy: &mut dyn Policy,
    scenario: &Arc<Scenario>,
    episodes: usize,
    seed: u64,
    video_dir: Option<&std::path::Path>,
) -> Result<EvalSummary, RunError> {
    evaluate_showing(policy, scenario, episodes, seed, video_dir.map(|dir| (dir, SensorView::Camera)))
}

/// [`evaluate`], its videos showing the chase camera's colour, depth or semantic classes.
pub fn evaluate_showing(
    policy: &mut dyn Policy,
    scenario: &Arc<Scenario>,
    episodes: usize,
    seed: u64,
    video: Option<(&std::path::Path, SensorView)>,
) -> Result<EvalSummary, RunError> {
    let n = eval_envs(episodes);
    policy.adopt(scenario)?;
    let mut envs = if policy.needs_frames() {
        let sensors = lepton_sim::CameraSensors { depth: policy.needs_depth(), semantic: false };
        lepton_render::sensor_vec_env(scenario.clone(), n, seed, sensors)?
    } else {
        VecEnv::new(scenario.clone(), n, seed)
    };
    let mut observations: Vec<Observation> =
        envs.try_reset(Reset::All(seed), None)?.into_iter().map(|(o, _)| o).collect();
    let mut starts = vec![true; n];
    let quota: Vec<usize> = (0..n).map(|i| (episodes + n - 1 - i) / n).collect();
    let mut done = vec![0usize; n];
    let mut log = EpisodeLog::default();
    let mut recorder = match video {
        Some((dir, shows)) => Some(EpisodeRecorder::showing(scenario, n, dir, shows)?),
        None => None,
    };
    let recording = |done: &[usize]| (0..n).map(|i| done[i] < quota[i]).collect::<Vec<_>>();
    if let Some(recorder) = recorder.as_mut() {
        recorder.capture(&envs, &recording(&done))?;
    }
    while (0..n).any(|i| done[i] < quota[i]) {
        let actions = policy.act(&observations.iter().collect::<Vec<_>>(), &starts)?;
        let step = envs.try_step(Act::Discrete(&actions), None)?;
        for i in 0..n {
            if done[i] >= quota[i] {
                continue;
            }
            log.step(step.infos[i].ground_truth.driving.lane_offset);
            if let Some(episode) = step.episodes[i] {
                log.end(episode.end, episode.episode_return, episode.length, step.infos[i].episode_seed);
                done[i] += 1;
                if let Some(recorder) = recorder.as_mut() {
                    recorder.end_episode(i, episode.episode_return, episode.end.name())?;
                }
            }
        }
        if let Some(recorder) = recorder.as_mut() {
            // Ended episodes' envs have reset: their next frame starts the next episode's video.
            recorder.capture(&envs, &recording(&done))?;
        }
        starts = step.episodes.iter().map(Option::is_some).collect();
        observations = step.obs;
    }
    let videos = match recorder {
        Some(recorder) => recorder.finish()?,
        None => Vec::new(),
    };
    Ok(log.summary(seed, eval_env_seeds(seed, episodes), videos))
}

/// An evaluation's episodes as they end, and every step's lane offset: what its summary counts.
#[derive(Debug, Default)]
pub(super) struct EpisodeLog {
    returns: Vec<f32>,
    lengths: Vec<u32>,
    reasons: BTreeMap<String, usize>,
    episode_seeds: Vec<u64>,
    offset_sum: f64,
    offset_n: u64,
}

impl EpisodeLog {
    /// One step of one episode, its car `lane_offset` metres off its lane's centre.
    pub(super) fn step(&mut self, lane_offset: f32) {
        self.offset_sum += lane_offset.abs() as f64;
        self.offset_n += 1;
    }

    /// An episode of episode seed `seed` ended.
    pub(super) fn end(&mut self, end: lepton_sim::EndReason, episode_return: f32, length: u32, seed: u64) {
        *self.reasons.entry(end.name().to_string()).or_default() += 1;
        self.returns.push(episode_return);
        self.lengths.push(length);
        self.episode_seeds.push(seed);
    }

    /// The summary of the episodes logged, played from seed `seed` on envs seeded `env_seeds`.
    pub(super) fn summary(self, seed: u64, env_seeds: [u64; 2], videos: Vec<RecordedEpisode>) -> EvalSummary {
        let count = self.returns.len().max(1) as f32;
        let mean = self.returns.iter().sum::<f32>() / count;
        let std = (self.returns.iter().map(|r| (r - mean).powi(2)).sum::<f32>() / count).sqrt();
        let count_of = |r: &str| self.reasons.get(r).copied().unwrap_or(0);
        EvalSummary {
            episodes: self.returns.len(),
            seed,
            env_seeds,
            mean_return: mean,
            std_return: std,
            success_rate: count_of("success") as f32 / count,
            collisions: count_of("collision"),
            off_road: count_of("off_road"),
            mean_abs_lane_offset: (self.offset_sum / self.offset_n.max(1) as f64) as f32,
            mean_length: self.lengths.iter().sum::<u32>() as f32 / count,
            episode_seeds: self.episode_seeds,
            end_reasons: self.reasons,
            returns: self.returns,
            videos,
        }
    }
}
