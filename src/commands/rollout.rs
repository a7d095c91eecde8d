//! `lepton rollout`: drive one environment with a scripted or random policy, print a JSON summary
//! (the episodes as the vector env reports them), optionally write a per-step trace.

use crate::error::{CliError, CliResult, file};
use crate::scenario_arg::load_scenario;
use clap::ValueEnum;
use indicatif::{ProgressBar, ProgressStyle};
use lepton_agents::{KeepLanePolicy, RandomPolicy};
use lepton_sim::{EndReason, Info, VecEnv};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Policy {
    /// Uniformly random actions (seeded).
    Random,
    /// The scripted lane keeper on ground truth.
    KeepLane,
}

#[derive(clap::Args)]
pub struct RolloutArgs {
    /// Scenario file, or the name of a shipped scenario (lane_keep, obstacles, highway, tiny).
    pub scenario: String,
    /// Seed of the environment (default: the scenario's seed).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Policy steps to take; finished episodes are reset and continued.
    #[arg(long, default_value_t = 1000)]
    pub steps: u64,
    #[arg(long, value_enum, default_value_t = Policy::KeepLane)]
    pub policy: Policy,
    /// Cruise speed of the keep-lane driver (m/s; default: the scenario's reward target speed).
    #[arg(long)]
    pub target_speed: Option<f32>,
    /// Write one CSV row per step here.
    #[arg(long)]
    pub trace: Option<PathBuf>,
}

#[derive(Serialize)]
struct Summary {
    scenario: String,
    seed: u64,
    policy: String,
    steps: u64,
    /// Episodes that ended within the rollout.
    episodes: usize,
    returns: Vec<f32>,
    lengths: Vec<u32>,
    end_reasons: Vec<EndReason>,
    end_reason_counts: BTreeMap<&'static str, usize>,
    mean_return: Option<f32>,
    /// Return of the episode still running when the rollout stopped.
    unfinished_return: f32,
    steps_per_second: f64,
}

const TRACE_HEADER: [&str; 15] = [
    "step",
    "episode",
    "x",
    "y",
    "z",
    "yaw",
    "speed",
    "s",
    "d",
    "action",
    "reward",
    "terminated",
    "truncated",
    "reason",
    // The scripted events that happened during the step, by name, separated by ';'.
    "events",
];

pub fn run(args: RolloutArgs) -> CliResult<ExitCode> {
    let scenario = Arc::new(load_scenario(&args.scenario)?);
    let seed = args.seed.unwrap_or(scenario.seed);
    // One env: env 0 of a vector env seeded `seed` is the single env with that seed, reset with a
    // continuing seed stream whenever an episode ends.
    let mut envs = VecEnv::new(scenario.clone(), 1, seed);
    let mut obs = envs.reset(seed).remove(0).0;
    let mut policy: Box<dyn lepton_agents::Policy> = match args.policy {
        Policy::Random => Box::new(RandomPolicy::new(envs.num_actions(), seed ^ 0x5eed)),
        Policy::KeepLane => Box::new(KeepLanePolicy::new(&scenario, args.target_speed)),
    };
    let mut episode_start = true;
    let mut trace = match &args.trace {
        Some(path) => {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(file(dir))?;
            }
            // Written beside under a temporary name and renamed when complete.
            let tmp = lepton_artifacts::atomic::temporary(path).map_err(|e| trace_error(path, e))?;
            let mut w = csv::Writer::from_path(&tmp).map_err(|e| trace_error(path, e.into()))?;
            w.write_record(TRACE_HEADER).map_err(|e| trace_error(path, e.into()))?;
            Some((path, tmp, w))
        }
        None => None,
    };

    let progress = ProgressBar::new(args.steps).with_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} steps {per_sec} {msg}").expect("valid template"),
    );
    let started = std::time::Instant::now();
    let mut summary = Summary {
        scenario: scenario.name.clone(),
        seed,
        policy: policy.name(),
        steps: args.steps,
        episodes: 0,
        returns: Vec::new(),
        lengths: Vec::new(),
        end_reasons: Vec::new(),
        end_reason_counts: BTreeMap::new(),
        mean_return: None,
        unfinished_return: 0.0,
        steps_per_second: 0.0,
    };
    for step_index in 0..args.steps {
        let action = policy.act(&[&obs], &[episode_start])?[0];
        let mut step = envs.step(&[action]);
        if let Some((path, _, w)) = trace.as_mut() {
            let row = TraceRow {
                step: step_index,
                episode: summary.episodes,
                action,
                reward: step.rewards[0],
                terminated: step.terminated[0],
                truncated: step.truncated[0],
                info: &step.infos[0],
                events: &scenario.events,
            };
            row.write(w).map_err(|e| trace_error(path, e.into()))?;
        }
        obs = step.obs.remove(0);
        episode_start = step.episodes[0].is_some();
        if let Some(episode) = step.episodes[0] {
            summary.returns.push(episode.episode_return);
            summary.lengths.push(episode.length);
            summary.end_reasons.push(episode.end);
            *summary.end_reason_counts.entry(episode.end.name()).or_default() += 1;
            summary.episodes += 1;
        }
        progress.inc(1);
    }
    progress.finish_and_clear();
    if let Some((path, tmp, w)) = trace {
        drop(w.into_inner().map_err(|e| trace_error(path, e.into_error()))?);
        lepton_artifacts::atomic::commit(tmp, path).map_err(|e| trace_error(path, e))?;
    }
    summary.unfinished_return = envs.returns_so_far()[0];
    summary.steps_per_second = args.steps as f64 / started.elapsed().as_secs_f64();
    if !summary.returns.is_empty() {
        summary.mean_return = Some(summary.returns.iter().sum::<f32>() / summary.returns.len() as f32);
    }
    println!("{}", serde_json::to_string_pretty(&summary).expect("summary serialises"));
    Ok(ExitCode::SUCCESS)
}

/// One step of the trace, in [`TRACE_HEADER`]'s columns.
struct TraceRow<'a> {
    step: u64,
    episode: usize,
    action: usize,
    reward: f32,
    terminated: bool,
    truncated: bool,
    info: &'a Info,
    events: &'a [lepton_sim::scenario::Event],
}

impl TraceRow<'_> {
    fn write(&self, w: &mut csv::Writer<std::fs::File>) -> csv::Result<()> {
        let [x, y, z] = self.info.position;
        let gt = &self.info.ground_truth;
        w.write_record([
            self.step.to_string(),
            self.episode.to_string(),
            x.to_string(),
            y.to_string(),
            z.to_string(),
            self.info.yaw.to_string(),
            gt.driving.speed.to_string(),
            gt.s.to_string(),
            gt.d.to_string(),
            self.action.to_string(),
            self.reward.to_string(),
            (self.terminated as u8).to_string(),
            (self.truncated as u8).to_string(),
            self.info.end.map_or("", EndReason::name).to_string(),
            lepton_sim::events::names(self.events, self.info.events),
        ])
    }
}

fn trace_error(path: &std::path::Path, source: std::io::Error) -> CliError {
    CliError::Write { path: path.to_path_buf(), what: "trace", source }
}
