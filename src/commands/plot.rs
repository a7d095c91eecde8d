//! `lepton plot`: reward curves of one or more runs, overlaid, to PNG or SVG.

use crate::commands::train::run_name;
use crate::error::{CliResult, file};
use lepton_agents::plot::{Series, plot};
use lepton_agents::run::{files, metrics};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct PlotArgs {
    /// Run directories from `lepton train`.
    #[arg(required = true)]
    pub runs: Vec<PathBuf>,
    /// Output file; .svg writes SVG, anything else PNG.
    #[arg(short, long, default_value = "reward_curves.png")]
    pub output: PathBuf,
}

pub fn run(args: PlotArgs) -> CliResult<ExitCode> {
    let mut series = Vec::new();
    for dir in &args.runs {
        let path = dir.join(files::METRICS);
        let rows = metrics::read(&path).map_err(file(&path))?;
        series.push(Series { name: run_name(dir), rows });
    }
    plot(&series, &args.output)?;
    eprintln!("{}: {} run(s)", args.output.display(), series.len());
    Ok(ExitCode::SUCCESS)
}
