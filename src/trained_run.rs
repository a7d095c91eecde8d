//! A run directory from `lepton train` opened for acting: its configuration, the scenario it was
//! trained on, its perception, and the agent restored from its best (or last) checkpoint.

use crate::error::{CliError, CliResult};
use crate::ron_file::read_run_config;
use burn::prelude::Device;
use lepton_agents::Agent;
use lepton_agents::run::{RunConfig, checkpoint, files, resolve_perception};
use lepton_perception::Perception;
use lepton_sim::scenario::Scenario;
use std::path::{Path, PathBuf};

pub struct TrainedRun {
    pub config: RunConfig,
    pub scenario: Scenario,
    pub agent: Box<dyn Agent>,
    pub perception: Perception,
    /// The checkpoint folder the agent came from.
    pub checkpoint: PathBuf,
}

/// Opens `run`; `last` picks the last checkpoint instead of the best (falling back to the last
/// when there is no best yet).
pub fn open(run: &Path, last: bool, device: &Device) -> CliResult<TrainedRun> {
    let run = &lepton_pipeline::registry::resolve(run, lepton_pipeline::registry::Part::Policy)?;
    let config_path = run.join(files::CONFIG);
    if !config_path.is_file() {
        return Err(CliError::Usage(format!(
            "{}: not a run directory (no {})",
            run.display(),
            files::CONFIG
        )));
    }
    let config = read_run_config(&config_path)?;
    config.validate().map_err(|e| CliError::at(&config_path, e))?;
    let scenario = lepton_sim::scenario::load(&run.join(files::SCENARIO))?;
    let kind = resolve_perception(&config, None).map_err(|e| CliError::at(&config_path, e))?;
    let wanted = run.join(if last { files::LAST } else { files::BEST });
    let checkpoint = checkpoint::locate(&wanted)
        .or_else(|| checkpoint::locate(&run.join(files::LAST)))
        .ok_or_else(|| CliError::Usage(format!("{}: no checkpoint in this run", wanted.display())))?;
    let perception = Perception::new(&kind, 1, device)?;
    let shape = perception.shape(&scenario);
    let actions = scenario.actions.set.len();
    let mut agent = config
        .agent
        .build(shape, actions, 1, config.steps, config.seed, device)
        .map_err(|e| CliError::at(&config_path, e))?;
    checkpoint::Checkpoint::open(&checkpoint)?.load_agent(agent.as_mut(), false)?;
    Ok(TrainedRun { config, scenario, agent, perception, checkpoint })
}
