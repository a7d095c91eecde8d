//! The small JSON files the pipeline keeps beside its runs (`field.json`, the monitor's
//! `history.json`): read with a default while there is none yet, refused when damaged, written
//! whole.

use crate::error::{PipelineError, Result, file};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::path::Path;

/// `path` parsed, the default while it does not exist, and a damaged file named as not `what`.
pub fn read_or_default<T: DeserializeOwned + Default>(path: &Path, what: &'static str) -> Result<T> {
    match std::fs::read_to_string(path) {
        Ok(text) => serde_json::from_str(&text).map_err(|e| PipelineError::Damaged {
            path: path.to_path_buf(),
            what,
            message: e.to_string(),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(T::default()),
        Err(e) => Err(file(path)(e)),
    }
}

/// Writes `value` as pretty JSON at `path` (its folder made if missing), atomically.
pub fn write(path: &Path, value: &impl Serialize) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(file(dir))?;
    let json = serde_json::to_string_pretty(value).expect("pipeline records serialise");
    lepton_artifacts::atomic::write(path, json.as_bytes()).map_err(file(path))
}
