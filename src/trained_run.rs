//! A run directory from `lepton train` opened for acting: its configuration, the scenario it was
//! trained on, and the agent restored from its best (or last) checkpoint.

use crate::error::{CliError, CliResult};
use crate::ron_file::read_ron;
use burn::prelude::Device;
use lepton_agents::train::agent::Agent;
use lepton_agents::train::observe::Observer;
use lepton_agents::train::trainer::input_shape;
use lepton_agents::train::{RunConfig, checkpoint, files};
use lepton_perception::PerceptionKind;
use lepton_sim::scenario::Scenario;
use std::path::{Path, PathBuf};

pub struct TrainedRun {
    pub config: RunConfig,
    pub scenario: Scenario,
    pub agent: Agent,
    pub observer: Observer,
    /// Frames per network input (1 unless the agent reads stacked pixels).
    pub stack: usize,
    /// The checkpoint folder the agent came from.
    pub checkpoint: PathBuf,
}

/// Opens `run`; `last` picks the last checkpoint instead of the best (falling back to the last
/// when there is no best yet).
pub fn open(run: &Path, last: bool, device: &Device) -> CliResult<TrainedRun> {
    let config_path = run.join(files::CONFIG);
    if !config_path.is_file() {
        return Err(CliError(format!("{}: not a run directory (no {})", run.display(), files::CONFIG)));
    }
    let config: RunConfig = read_ron(&config_path)?;
    let scenario = lepton_sim::scenario::load(&run.join(files::SCENARIO))?;
    let perception = config.perception.clone().unwrap_or(PerceptionKind::GroundTruth);
    let wanted = run.join(if last { files::LAST } else { files::BEST });
    let checkpoint = checkpoint::locate(&wanted)
        .or_else(|| checkpoint::locate(&run.join(files::LAST)))
        .ok_or_else(|| CliError(format!("{}: no checkpoint in this run", wanted.display())))?;
    let observer = Observer::new(&perception, 1, device).map_err(|e| CliError(e.to_string()))?;
    let stack = if matches!(perception, PerceptionKind::Pixels { .. }) { config.dqn.frame_stack } else { 1 };
    let input = input_shape(&observer, &scenario, stack);
    let mut agent = Agent::new(&config, input, scenario.actions.set.len(), device)
        .map_err(|e| CliError(e.to_string()))?;
    agent.load(&checkpoint, false).map_err(|e| CliError(e.to_string()))?;
    Ok(TrainedRun { config, scenario, agent, observer, stack, checkpoint })
}
