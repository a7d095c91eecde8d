//! The monitor's history: what each check saw in each field condition, and the retraining it
//! set off (`pipeline-runs/NAME/monitor/history.json`). Below the monitor and the pictures, so
//! `monitor.png` draws it without importing the code that makes it.

use crate::error::Result;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// One condition at one check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConditionCheck {
    pub name: String,
    /// Drift of the frames from the nearest training source (normed Wasserstein distance: in
    /// training standard deviations), and which source that was.
    pub drift: Option<f64>,
    /// The frame feature that moved most (e.g. "green lower mean": the ground's colour).
    pub drift_feature: Option<String>,
    pub nearest_training_data: Option<String>,
    pub lane_offset_mae: Option<f32>,
    pub heading_mae_degrees: Option<f32>,
    pub success_rate: Option<f32>,
    pub mean_return: Option<f32>,
    /// Each threshold crossed, in words (empty: all well).
    pub alarms: Vec<String>,
}

/// What one check saw, and what it did about it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Check {
    pub check: u32,
    /// Seconds since the Unix epoch when it started.
    pub started: u64,
    /// The production version it watched.
    pub version: u32,
    pub conditions: Vec<ConditionCheck>,
    pub retrain: Option<Retraining>,
}

/// A retraining set off by a check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Retraining {
    /// The conditions whose data was added.
    pub conditions: Vec<String>,
    /// The version promoted, or none when a gate said no on every attempt.
    pub promoted: Option<u32>,
    pub seconds: f64,
    /// Why it stopped before its gates had spoken (field.json was left as it was, so the next
    /// check retrains again).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed: Option<String>,
}

/// `history.json` of the pipeline working folder `work`.
pub fn path(work: &Path) -> PathBuf {
    work.join("monitor").join("history.json")
}

/// Every check so far (none before the first).
pub fn read(work: &Path) -> Result<Vec<Check>> {
    crate::json_file::read_or_default(&path(work), "a monitoring history")
}

/// Writes the whole history, atomically.
pub fn write(work: &Path, history: &[Check]) -> Result<()> {
    crate::json_file::write(&path(work), &history)
}
