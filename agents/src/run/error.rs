//! What can stop a run (training, evaluation or opening a run directory), each naming its file
//! or field.

use super::checkpoint::CheckpointError;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// A configuration that cannot run; the message names the field.
    #[error(transparent)]
    Config(#[from] lepton_artifacts::InvalidField),
    /// An agent that cannot be built for this perception.
    #[error(transparent)]
    Build(#[from] crate::agent_config::BuildError),
    #[error("{}: no checkpoint to resume from", last.display())]
    NothingToResume { last: PathBuf },
    #[error(transparent)]
    Perception(#[from] lepton_perception::PerceptionError),
    #[error(transparent)]
    Policy(#[from] crate::policy::PolicyError),
    #[error(transparent)]
    Render(#[from] lepton_sim::RenderError),
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    #[error(transparent)]
    Record(#[from] lepton_render::recorder::RecordError),
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error(
        "scenario \"{scenario}\" has continuous actions (actions.continuous): Lepton's Q-learning \
         and DQN choose from actions.set. Train it from Python (python/examples/sb3_sac.py), or \
         remove actions.continuous"
    )]
    ContinuousActions { scenario: String },
}

/// Wraps an I/O error with the path it concerns.
pub fn io(path: &Path) -> impl FnOnce(std::io::Error) -> RunError + '_ {
    move |source| RunError::Io { path: path.to_path_buf(), source }
}
