//! The records the pipeline's parts hand each other and write down: a stage's line in a run's
//! report, and what each check of the monitor saw. Below `run`, `monitor` and `plots`, so the
//! pictures draw them without importing the code that makes them.

use lepton_pipeline::stage::{How, StageResult};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// One stage of a pipeline run, as the report lists it.
#[derive(Debug, Clone, Serialize)]
pub struct StageLine {
    pub stage: String,
    pub key: String,
    pub how: How,
    pub result: StageResult,
    pub seconds: f64,
    /// The stage's folder.
    #[serde(skip)]
    pub dir: PathBuf,
    /// A gate's figures.
    #[serde(skip)]
    pub figures: Option<serde_json::Value>,
}

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
    pub lane_offset_mae: Option<f64>,
    pub heading_mae_degrees: Option<f64>,
    pub success_rate: Option<f64>,
    pub mean_return: Option<f64>,
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
}
