//! `lepton bench`: throughput measurements, one [`report::BenchReport`] each, printed as a line
//! or as JSON (`--json`).

mod lidar;
mod perception;
pub(crate) mod render;
pub mod report;
mod run;
mod sim;
mod train;

use crate::error::CliResult;
use clap::Subcommand;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum BenchCommand {
    /// Environment steps per second without rendering (a vector env stepped in parallel).
    Sim(sim::SimArgs),
    /// Lidar rays per second, and environment steps per second with a lidar on every car.
    Lidar(lidar::LidarBenchArgs),
    /// Camera frames per second, and environment steps per second with frames.
    Render(render::RenderBenchArgs),
    /// DQN learner updates per second (Nature CNN on stacked frames, or the MLP on the state),
    /// and greedy inference frames per second.
    Train(train::TrainBenchArgs),
    /// Perception CNN inference frames per second on random frames.
    Perception(perception::PerceptionBenchArgs),
    /// Env steps per second of a short real training run (DQN from pixels, or Q-learning on CNN
    /// perception): rendering, perception, acting and learning together.
    Run(run::RunBenchArgs),
}

pub fn run(command: BenchCommand) -> CliResult<ExitCode> {
    let (report, json) = match command {
        BenchCommand::Sim(args) => (sim::bench(&args)?, args.json),
        BenchCommand::Lidar(args) => (lidar::bench(&args)?, args.json),
        BenchCommand::Render(args) => (render::bench(&args)?, args.json),
        BenchCommand::Train(args) => (train::bench(&args)?, args.json),
        BenchCommand::Perception(args) => (perception::bench(&args)?, args.json),
        BenchCommand::Run(args) => (run::bench(&args)?, args.json),
    };
    report.print(json);
    Ok(ExitCode::SUCCESS)
}
