//! `lepton rollout`.
use crate::error::CliResult;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct RolloutArgs {
    pub scenario: String,
}

pub fn run(_args: RolloutArgs) -> CliResult<ExitCode> {
    Ok(ExitCode::SUCCESS)
}
