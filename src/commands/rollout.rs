//! `lepton rollout`: drive one environment with a scripted or random policy, print a JSON summary,
//! optionally write a per-step trace.

use crate::error::{CliError, CliResult, file};
use crate::scenario_arg::load_scenario;
use clap::ValueEnum;
use indicatif::{ProgressBar, ProgressStyle};
use lepton_agents::{KeepLanePolicy, RandomPolicy};
use lepton_sim::{EndReason, Env, Step};
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

const TRACE_HEADER: [&str; 14] = [
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
];

pub fn run(args: RolloutArgs) -> CliResult<ExitCode> {
    let scenario = Arc::new(load_scenario(&args.scenario)?);
    let seed = args.seed.unwrap_or(scenario.seed);
    let mut env = Env::new(scenario.clone(), seed);
    let mut obs = env.reset(Some(seed)).0;
    let mut policy: Box<dyn lepton_agents::Policy> = match args.policy {
        Policy::Random => Box::new(RandomPolicy::new(env.num_actions(), seed ^ 0x5eed)),
        Policy::KeepLane => Box::new(KeepLanePolicy::new(&scenario, args.target_speed)),
    };
    let mut episode_start = true;
    let mut trace = match &args.trace {
        Some(path) => {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(file(dir))?;
            }
            let mut w = csv::Writer::from_path(path).map_err(|e| trace_error(path, e.into()))?;
            w.write_record(TRACE_HEADER).map_err(|e| trace_error(path, e.into()))?;
            Some((path, w))
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
    let mut episode_return = 0.0;
    for step_index in 0..args.steps {
        let action = policy.act(&[&obs], &[episode_start])?[0];
        episode_start = false;
        let step = env.step(action);
        episode_return += step.reward;
        if let Some((path, w)) = trace.as_mut() {
            write_trace_row(w, step_index, summary.episodes, action, &step)
                .map_err(|e| trace_error(path, e.into()))?;
        }
        obs = step.obs;
        if step.terminated || step.truncated {
            let reason = step.info.end.expect("an ended episode has a reason");
            summary.returns.push(episode_return);
            summary.lengths.push(step.info.episode_step);
            summary.end_reasons.push(reason);
            *summary.end_reason_counts.entry(reason.name()).or_default() += 1;
            summary.episodes += 1;
            episode_return = 0.0;
            obs = env.reset(None).0;
            episode_start = true;
        }
        progress.inc(1);
    }
    progress.finish_and_clear();
    if let Some((path, mut w)) = trace {
        w.flush().map_err(|e| trace_error(path, e))?;
    }
    summary.unfinished_return = episode_return;
    summary.steps_per_second = args.steps as f64 / started.elapsed().as_secs_f64();
    if !summary.returns.is_empty() {
        summary.mean_return = Some(summary.returns.iter().sum::<f32>() / summary.returns.len() as f32);
    }
    println!("{}", serde_json::to_string_pretty(&summary).expect("summary serialises"));
    Ok(ExitCode::SUCCESS)
}

fn write_trace_row(
    w: &mut csv::Writer<std::fs::File>,
    step: u64,
    episode: usize,
    action: usize,
    s: &Step,
) -> csv::Result<()> {
    let [x, y, z] = s.info.position;
    let gt = &s.info.ground_truth;
    w.write_record([
        step.to_string(),
        episode.to_string(),
        x.to_string(),
        y.to_string(),
        z.to_string(),
        s.info.yaw.to_string(),
        gt.driving.speed.to_string(),
        gt.s.to_string(),
        gt.d.to_string(),
        action.to_string(),
        s.reward.to_string(),
        (s.terminated as u8).to_string(),
        (s.truncated as u8).to_string(),
        s.info.end.map_or("", EndReason::name).to_string(),
    ])
}

fn trace_error(path: &std::path::Path, source: std::io::Error) -> CliError {
    CliError::Write { path: path.to_path_buf(), what: "trace", source }
}
