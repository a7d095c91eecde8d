//! `lepton eval`: greedy episodes of a trained run on fixed seeds.

use crate::error::{CliError, CliResult};
use crate::ron_file::read_ron;
use lepton_agents::train::agent::Agent;
use lepton_agents::train::observe::Observer;
use lepton_agents::train::trainer::input_shape;
use lepton_agents::train::{RunConfig, checkpoint, evaluate, files};
use lepton_perception::PerceptionKind;
use lepton_perception::device::parse_device;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

#[derive(clap::Args)]
pub struct EvalArgs {
    /// Run directory from `lepton train`.
    pub run: PathBuf,
    #[arg(long, default_value_t = 20)]
    pub episodes: usize,
    /// First episode seed (default: the run's evaluation seed).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Use the last checkpoint instead of the best.
    #[arg(long)]
    pub last: bool,
    #[arg(long)]
    pub json: bool,
    #[arg(long, default_value = "cpu")]
    pub device: String,
}

pub fn run(args: EvalArgs) -> CliResult<ExitCode> {
    let device = parse_device(&args.device).map_err(CliError)?;
    if args.episodes == 0 {
        return Err(CliError("--episodes must be at least 1".into()));
    }
    let config_path = args.run.join(files::CONFIG);
    if !config_path.is_file() {
        return Err(CliError(format!("{}: not a run directory (no {})", args.run.display(), files::CONFIG)));
    }
    let config: RunConfig = read_ron(&config_path)?;
    let scenario = Arc::new(lepton_sim::scenario::load(&args.run.join(files::SCENARIO))?);
    let perception = config.perception.clone().unwrap_or(PerceptionKind::GroundTruth);
    let wanted = args.run.join(if args.last { files::LAST } else { files::BEST });
    let dir = checkpoint::locate(&wanted)
        .or_else(|| checkpoint::locate(&args.run.join(files::LAST)))
        .ok_or_else(|| CliError(format!("{}: no checkpoint in this run", wanted.display())))?;

    let mut observer = Observer::new(&perception, 1, &device).map_err(|e| CliError(e.to_string()))?;
    let stack = if matches!(perception, PerceptionKind::Pixels { .. }) { config.dqn.frame_stack } else { 1 };
    let input = input_shape(&observer, &scenario, stack);
    let mut agent = Agent::new(&config, input, scenario.actions.set.len(), &device)
        .map_err(|e| CliError(e.to_string()))?;
    agent.load(&dir, false).map_err(|e| CliError(e.to_string()))?;
    let seed = args.seed.unwrap_or(config.eval_seed);
    let summary = evaluate(&agent, &config, &scenario, &mut observer, stack, args.episodes, seed)
        .map_err(|e| CliError(e.to_string()))?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&summary).expect("summary serialises"));
    } else {
        println!(
            "{} episodes from seed {}: return {:.2} ± {:.2}, success {:.0}%, collisions {}, off-road {}, |lane offset| {:.3} m",
            summary.episodes,
            seed,
            summary.mean_return,
            summary.std_return,
            summary.success_rate * 100.0,
            summary.collisions,
            summary.off_road,
            summary.mean_abs_lane_offset
        );
    }
    Ok(ExitCode::SUCCESS)
}
