//! Reading a configuration file in RON, with errors naming the file, line and column.

use crate::error::{CliError, CliResult};
use serde::de::DeserializeOwned;
use std::path::Path;

pub fn read_ron<T: DeserializeOwned>(path: &Path) -> CliResult<T> {
    let text = std::fs::read_to_string(path).map_err(|e| CliError(format!("{}: {e}", path.display())))?;
    ron::from_str(&text).map_err(|e| {
        CliError(format!("{}:{}:{}: {}", path.display(), e.span.start.line, e.span.start.col, e.code))
    })
}
