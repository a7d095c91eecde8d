//! What can stop a pipeline run or a monitoring check before its gates have spoken. A gate that
//! says no is not an error: it is a [`StageResult::Failed`](crate::StageResult) in the report.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// A file that cannot be read or written.
    #[error("{}: {source}", path.display())]
    File { path: PathBuf, source: std::io::Error },
    /// A pipeline file that does not parse, at its line and column.
    #[error("{}:{line}:{column}: {message}", path.display())]
    Syntax { path: PathBuf, line: usize, column: usize, message: String },
    /// A pipeline file whose values are wrong: every problem, each with its field path.
    #[error("{}", problems.iter().map(|p| format!("{}: {}: {}", path.display(), p.path, p.message)).collect::<Vec<_>>().join("\n"))]
    Invalid { path: PathBuf, problems: Vec<FieldProblem> },
    /// A file the pipeline wrote earlier (field.json, history.json, frame_stats.json) that is not
    /// what it should be.
    #[error("{}: not {what}: {message}", path.display())]
    Damaged { path: PathBuf, what: &'static str, message: String },
    /// Something the pipeline cannot do as asked, and what to do instead.
    #[error("{0}")]
    Refused(String),
    /// The `lepton` program a stage runs could not be started.
    #[error("cannot run lepton {command}: {source}")]
    Spawn { command: String, source: std::io::Error },
    /// A stage's command exited with an error: the pipeline stops there.
    #[error("pipeline stage failed: `lepton {command}` exited with {status}")]
    Stage { command: String, status: std::process::ExitStatus },
    /// A gate's command failed to run (exit 1 is a verdict; anything else is this).
    #[error("pipeline gate failed to run: `lepton {command}` exited with {status}")]
    Gate { command: String, status: std::process::ExitStatus },
    /// A gate's command printed something other than the figures it promises.
    #[error("pipeline gate `lepton {command}`: its --json output is not {what}: {message}")]
    Figures { command: String, what: &'static str, message: String },
    #[error(transparent)]
    Scenario(#[from] lepton_sim::scenario::ScenarioError),
    #[error(transparent)]
    Dataset(#[from] lepton_perception::dataset::DatasetError),
    #[error(transparent)]
    Registry(#[from] crate::RegistryError),
    /// Another process runs this pipeline (or its monitor) now.
    #[error(transparent)]
    Lock(#[from] lepton_artifacts::lock::LockError),
}

/// A value of a pipeline file that parses but makes no sense, with its field path.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldProblem {
    pub path: String,
    pub message: String,
}

pub type Result<T, E = PipelineError> = std::result::Result<T, E>;

/// A file error with its path, for `map_err`.
pub(crate) fn file(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> PipelineError + '_ {
    move |source| PipelineError::File { path: path.to_path_buf(), source }
}
