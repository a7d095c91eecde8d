//! `lepton eval`: greedy episodes of a trained run on fixed seeds.

use crate::args::{DeviceArg, at_least_one};
use crate::error::CliResult;
use lepton_agents::GreedyPolicy;
use lepton_agents::run::{eval_envs, evaluate};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

#[derive(clap::Args)]
pub struct EvalArgs {
    /// Run directory from `lepton train`.
    pub run: PathBuf,
    #[arg(long, default_value_t = 20, value_parser = at_least_one::<usize>())]
    pub episodes: usize,
    /// First episode seed (default: the run's evaluation seed).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Use the last checkpoint instead of the best.
    #[arg(long)]
    pub last: bool,
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub device: DeviceArg,
}

pub fn run(args: EvalArgs) -> CliResult<ExitCode> {
    let run = crate::trained_run::open(&args.run, args.last, args.device.device())?;
    let seed = args.seed.unwrap_or(run.config.eval_seed);
    let perception = run.perception.fresh(eval_envs(args.episodes));
    let mut greedy = GreedyPolicy::new(run.config.agent.name().into(), run.agent, perception, &run.scenario);
    let summary = evaluate(&mut greedy, &Arc::new(run.scenario), args.episodes, seed)?;
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
