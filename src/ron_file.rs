//! Reading a configuration file in RON, with errors naming the file, line and column.

use crate::error::{CliError, CliResult, file};
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
    let text = std::fs::read_to_string(path).map_err(file(path))?;
    options.from_str(&text).map_err(|e| CliError::Syntax {
        path: path.to_path_buf(),
        line: e.span.start.line,
        column: e.span.start.col,
        message: e.code.to_string(),
    })
}
