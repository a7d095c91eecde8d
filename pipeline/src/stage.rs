//! What a finished pipeline stage leaves: its record (`stage.json`, and a registry version's
//! lineage), its line in a run's report, and the build a stage's outputs depend on.

use crate::figures::Figures;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// The program version a stage's outputs depend on: a different build may give other outputs.
pub fn code_version() -> String {
    format!("{}+{}", env!("CARGO_PKG_VERSION"), env!("LEPTON_GIT_COMMIT"))
}

/// `lepton --version`: the package version and the git commit of the build (`unknown` outside a
/// git checkout), e.g. `0.1.0 (commit 9b4f476a1c2d)`.
pub const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (commit ", env!("LEPTON_GIT_COMMIT"), ")");

/// What a finished stage left, as `stage.json` records it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageRecord {
    pub stage: String,
    /// The hash of the stage's inputs (hex), which also names its folder.
    pub key: String,
    /// `done`, or for gates `passed` / `failed`.
    pub result: StageResult,
    pub seconds: f64,
    /// The command it ran.
    pub command: Vec<String>,
    /// What the stage measured (a collection's anomaly counts, a gate's evaluations), when it did.
    #[serde(default)]
    pub figures: Option<Figures>,
    /// The XXH3-64 (hex) of every file the stage left, by path inside its folder: a later run
    /// finds the stage done only while they are all still there and unchanged.
    #[serde(default)]
    pub outputs: std::collections::BTreeMap<String, String>,
}

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
    /// What it measured.
    #[serde(skip)]
    pub figures: Option<Figures>,
}

/// How a stage ended, as `stage.json` and the report write it (`done`, `passed`, `failed`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StageResult {
    /// A stage that makes something (data, a model, a policy, a promotion) made it.
    Done,
    /// A gate whose every figure met its threshold.
    Passed,
    /// A gate (or a data check) that said no: what follows does not run on it.
    Failed,
}

impl StageResult {
    /// A gate's verdict.
    pub fn gate(passed: bool) -> Self {
        if passed { Self::Passed } else { Self::Failed }
    }

    pub fn failed(self) -> bool {
        self == Self::Failed
    }
}

impl std::fmt::Display for StageResult {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Done => "done",
            Self::Passed => "passed",
            Self::Failed => "failed",
        })
    }
}

/// Whether a run found a stage done before or ran it now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum How {
    Ran,
    Cached,
}

impl std::fmt::Display for How {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Ran => "ran",
            Self::Cached => "cached",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_are_written_as_the_words_stage_json_has_always_held() {
        for (result, word) in
            [(StageResult::Done, "done"), (StageResult::Passed, "passed"), (StageResult::Failed, "failed")]
        {
            assert_eq!(serde_json::to_string(&result).unwrap(), format!("\"{word}\""));
            assert_eq!(serde_json::from_str::<StageResult>(&format!("\"{word}\"")).unwrap(), result);
            assert_eq!(result.to_string(), word);
        }
        assert!(serde_json::from_str::<StageResult>("\"maybe\"").is_err());
        assert_eq!(
            (StageResult::gate(true), StageResult::gate(false)),
            (StageResult::Passed, StageResult::Failed)
        );
        assert_eq!(serde_json::to_string(&How::Cached).unwrap(), "\"cached\"");
        assert!(code_version().starts_with(env!("CARGO_PKG_VERSION")) && VERSION.contains("(commit "));
    }
}
