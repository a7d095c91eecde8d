//! A SCENARIO argument: a path to a RON file, or the name of a scenario shipped inside the binary.

use crate::error::{CliError, CliResult};
use lepton_sim::scenario::{self, Scenario};
use std::path::Path;

/// The scenarios in `scenarios/`, embedded so that `lepton rollout lane_keep` works anywhere.
pub const SHIPPED: &[(&str, &str)] = &[
    ("lane_keep", include_str!("../scenarios/lane_keep.ron")),
    ("obstacles", include_str!("../scenarios/obstacles.ron")),
    ("highway", include_str!("../scenarios/highway.ron")),
    ("tiny", include_str!("../scenarios/tiny.ron")),
    ("cut_in", include_str!("../scenarios/cut_in.ron")),
    ("emergency_brake", include_str!("../scenarios/emergency_brake.ron")),
];

/// Loads `arg` as a file if one exists there, else as a shipped scenario's name.
pub fn load_scenario(arg: &str) -> CliResult<Scenario> {
    let path = Path::new(arg);
    if path.exists() {
        return Ok(scenario::load(path)?);
    }
    let name = arg.strip_suffix(".ron").unwrap_or(arg);
    match SHIPPED.iter().find(|(shipped, _)| *shipped == name) {
        Some((name, text)) => Ok(scenario::parse_str(text, &format!("<shipped {name}>"))?),
        None => {
            let names: Vec<_> = SHIPPED.iter().map(|(n, _)| *n).collect();
            Err(CliError::Usage(format!(
                "{arg}: no such file, and not a shipped scenario (shipped: {})",
                names.join(", ")
            )))
        }
    }
}
