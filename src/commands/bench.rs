//! `lepton bench`.
use crate::error::CliResult;
use clap::Subcommand;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum BenchCommand {
    Sim,
}

pub fn run(_command: BenchCommand) -> CliResult<ExitCode> {
    Ok(ExitCode::SUCCESS)
}
