//! Reading a configuration file in RON, with errors naming the file, line and column.

use crate::error::{CliError, CliResult};
use lepton_agents::run::{RunConfig, config::ron_options};
use serde::de::DeserializeOwned;
use std::path::Path;

pub fn read_ron<T: DeserializeOwned>(path: &Path) -> CliResult<T> {
    read_with(path, &ron::Options::default())
}

/// A run configuration (`lepton train --config`, a run directory's `config.ron`).
pub fn read_run_config(path: &Path) -> CliResult<RunConfig> {
    read_with(path, &ron_options())
}

fn read_with<T: DeserializeOwned>(path: &Path, options: &ron::Options) -> CliResult<T> {
    let text = std::fs::read_to_string(path).map_err(|e| CliError(format!("{}: {e}", path.display())))?;
    options.from_str(&text).map_err(|e| {
        CliError(format!("{}:{}:{}: {}", path.display(), e.span.start.line, e.span.start.col, e.code))
    })
}
