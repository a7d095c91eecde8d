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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::PipelineError;

    fn check(number: u32, retrain: Option<Retraining>) -> Check {
        let condition = ConditionCheck {
            name: "snow".into(),
            drift: Some(5.5),
            drift_feature: Some("green lower mean".into()),
            nearest_training_data: Some("base".into()),
            lane_offset_mae: Some(0.2),
            heading_mae_degrees: None,
            success_rate: Some(0.5),
            mean_return: Some(12.0),
            alarms: vec!["drift 5.50 > 4".into()],
        };
        Check { check: number, started: 1_700_000_000, version: 1, conditions: vec![condition], retrain }
    }

    #[test]
    fn the_history_is_empty_before_the_first_check_kept_whole_and_refused_when_damaged() {
        let work = tempfile::tempdir().unwrap();
        assert_eq!(read(work.path()).unwrap(), Vec::new(), "no check yet");
        // A failed retraining is kept with its reason; the next check's with its promotion.
        let failed = Retraining {
            conditions: vec!["snow".into()],
            promoted: None,
            seconds: 3.0,
            failed: Some("the agent stage was killed".into()),
        };
        let promoted =
            Retraining { conditions: vec!["snow".into()], promoted: Some(2), seconds: 9.0, failed: None };
        let history = vec![check(1, Some(failed)), check(2, Some(promoted)), check(3, None)];
        write(work.path(), &history).unwrap();
        assert_eq!(read(work.path()).unwrap(), history);
        let text = std::fs::read_to_string(path(work.path())).unwrap();
        assert_eq!(
            text.matches("\"failed\"").count(),
            1,
            "a retraining that did not fail says nothing of it"
        );

        // Damaged: an error naming the file, and the file left as it was.
        std::fs::write(path(work.path()), &text[..text.len() / 2]).unwrap();
        let e = read(work.path()).unwrap_err();
        assert!(matches!(&e, PipelineError::Damaged { path: p, .. } if *p == path(work.path())), "{e}");
        assert!(e.to_string().contains("history.json"), "{e}");
        assert_eq!(std::fs::read_to_string(path(work.path())).unwrap(), text[..text.len() / 2]);
    }
}
