//! A SCENARIO argument: a path to a RON file, or the name of a scenario shipped inside the binary
//! (`lepton_sim::scenario::SHIPPED`).

use crate::error::CliResult;
use lepton_sim::scenario::{self, Scenario};

/// Loads `arg` as a file if one exists there, else as a shipped scenario's name.
pub fn load_scenario(arg: &str) -> CliResult<Scenario> {
    Ok(scenario::load_named(arg)?)
}
