//! `lepton bench run`: env steps per second of a short real training run — rendering, perception,
//! acting, replay and learning together — for DQN from stacked grey frames or tabular Q-learning
//! on CNN perception. Timed once learning has started, before the final evaluation.

use super::report::BenchReport;
use crate::args::{DeviceArg, at_least_one};
use crate::error::{CliError, CliResult, file};
use crate::scenario_arg::load_scenario;
use burn::prelude::Device;
use clap::ValueEnum;
use lepton_agents::AgentConfig;
use lepton_agents::dqn::DqnConfig;
use lepton_agents::run::{RunConfig, Trainer};
use lepton_perception::PerceptionKind;
use lepton_perception::cnn::CnnModel;
use lepton_perception::dataset::FrameShape;
use lepton_sim::scenario::{FrameFormat, Scenario};
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum RunAgent {
    /// DQN (Nature CNN) on stacked grey frames.
    Dqn,
    /// Tabular Q-learning on the driving state a CNN reads from each frame (an untrained CNN of
    /// the shipped shape: the speed does not depend on its weights).
    QlearningCnn,
}

#[derive(clap::Args)]
pub struct RunBenchArgs {
    #[arg(long, value_enum, default_value_t = RunAgent::Dqn)]
    pub agent: RunAgent,
    #[arg(long, default_value = "lane_keep")]
    pub scenario: String,
    #[arg(long, default_value_t = 8, value_parser = at_least_one::<usize>())]
    pub envs: usize,
    /// Env steps of the run (a quarter, at most 1,000, before learning starts is not timed).
    #[arg(long, default_value_t = 800, value_parser = at_least_one::<u64>())]
    pub steps: u64,
    /// DQN's batch size.
    #[arg(long, default_value_t = 32, value_parser = at_least_one::<usize>())]
    pub batch_size: usize,
    /// DQN's frame stack.
    #[arg(long, default_value_t = 4, value_parser = at_least_one::<usize>())]
    pub stack: usize,
    /// Learn on a second thread while the envs step (`overlap_learning` of the run config).
    #[arg(long)]
    pub overlap_learning: bool,
    #[command(flatten)]
    pub device: DeviceArg,
    #[arg(long)]
    pub json: bool,
}

pub fn bench(args: &RunBenchArgs) -> CliResult<BenchReport> {
    let scenario = Arc::new(load_scenario(&args.scenario)?);
    let scratch = std::env::temp_dir().join(format!("lepton-bench-run-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&scratch);
    let device = args.device.device();
    let timed = || -> CliResult<f64> {
        let mut config = match args.agent {
            RunAgent::Dqn => dqn_from_pixels(args.envs, args.steps, args.batch_size, args.stack),
            RunAgent::QlearningCnn => {
                let model = scratch.join("model");
                save_untrained_cnn(&scenario, &model, device)?;
                RunConfig {
                    agent: AgentConfig::default_of("qlearning").expect("a known agent"),
                    perception: Some(PerceptionKind::Cnn { model }),
                    envs: args.envs,
                    steps: args.steps,
                    ..RunConfig::default()
                }
            }
        };
        config.overlap_learning = args.overlap_learning;
        time_run(config, scenario.clone(), &scratch.join("run"), device, warm_up(args.steps))
    };
    let result = timed();
    // The scratch model and run go whatever happened.
    let _ = std::fs::remove_dir_all(&scratch);
    let camera = &scenario.camera;
    Ok(BenchReport::new("run")
        .setup("agent", args.agent.to_possible_value().expect("named").get_name().to_string())
        .setup("scenario", scenario.name.clone())
        .setup("frame", format!("{}x{} {:?}", camera.width, camera.height, camera.format))
        .setup("envs", args.envs)
        .setup("steps", args.steps)
        .setup("overlap_learning", args.overlap_learning)
        .setup("device", args.device.name())
        .figure("env_steps_per_second", result?, "env steps/s training"))
}

/// Steps before learning starts, left out of the timing: a quarter of the run, at most 1,000.
pub fn warm_up(steps: u64) -> u64 {
    (steps / 4).min(1_000)
}

/// The default DQN from `stack` grey frames, learning after [`warm_up`].
pub fn dqn_from_pixels(envs: usize, steps: u64, batch_size: usize, stack: usize) -> RunConfig {
    let dqn = DqnConfig { batch_size, learning_starts: warm_up(steps), ..DqnConfig::default() };
    let perception = Some(PerceptionKind::Pixels { grey: true, resize: None, stack });
    RunConfig { agent: AgentConfig::Dqn(dqn), envs, steps, perception, ..RunConfig::default() }
}

/// Env steps/s of training `config` on `scenario` in `run_dir`, timed after `warm_up` steps (and
/// a few more for every env to pass it) and before the final evaluation.
pub fn time_run(
    mut config: RunConfig,
    scenario: Arc<Scenario>,
    run_dir: &Path,
    device: &Device,
    warm_up: u64,
) -> CliResult<f64> {
    config.eval_every = u64::MAX / 4;
    config.checkpoint_every = u64::MAX / 4;
    config.eval_episodes = 1;
    let steps = config.steps;
    let warm = warm_up + config.envs as u64 * 4;
    let trainer = Trainer {
        config,
        scenario,
        run_dir: run_dir.to_path_buf(),
        device: device.clone(),
        video_every: None,
    };
    let mut marks: Vec<(u64, Instant)> = Vec::new();
    trainer.run(false, |p| {
        // Progress comes after the final evaluation for the last step: leave that one out.
        if p.step >= warm && p.step < p.total {
            marks.push((p.step, Instant::now()));
        }
    })?;
    match (marks.first(), marks.last()) {
        (Some(a), Some(b)) if b.0 > a.0 => Ok((b.0 - a.0) as f64 / b.1.duration_since(a.1).as_secs_f64()),
        _ => Err(CliError::Usage(format!("{steps} steps: too few to time after learning starts (try 800)"))),
    }
}

/// A perception CNN of the shipped shape for `scenario`'s camera, untrained, saved in `dir`.
fn save_untrained_cnn(scenario: &Scenario, dir: &Path, device: &Device) -> CliResult {
    let camera = &scenario.camera;
    let channels = if camera.format == FrameFormat::Rgb { 3 } else { 1 };
    let model =
        CnnModel::untrained(FrameShape { width: camera.width, height: camera.height, channels }, device);
    std::fs::create_dir_all(dir).map_err(file(dir))?;
    Ok(model.save(dir)?)
}
