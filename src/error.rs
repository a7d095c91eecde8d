//! The command line's one error type. Every library error converts into it with `?`; each
//! message names what it is about (a file and line, a field, an option), compiler-style, and
//! [`CliError::exit_code`] sorts them: 2 for input to fix, 70 (sysexits' EX_SOFTWARE) for a
//! failure of Lepton itself. (1 stays the answer of gates: `perception eval` below thresholds.)

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Options that do not go together, or an argument that names nothing.
    #[error("{0}")]
    Usage(String),
    /// A file that cannot be read or created.
    #[error("{}: {source}", path.display())]
    File { path: PathBuf, source: std::io::Error },
    /// An output file that cannot be written (`what`: the trace, the PNG, ...).
    #[error("{}: cannot write {what}: {source}", path.display())]
    Write { path: PathBuf, what: &'static str, source: std::io::Error },
    /// A RON file that does not parse, at its line and column.
    #[error("{}:{line}:{column}: {message}", path.display())]
    Syntax { path: PathBuf, line: usize, column: usize, message: String },
    /// Another error, and what to do about it.
    #[error("{source}; {hint}")]
    Hint { source: Box<CliError>, hint: &'static str },
    /// Another error, about a file it does not name itself.
    #[error("{}: {source}", path.display())]
    In { path: PathBuf, source: Box<CliError> },
    #[error(transparent)]
    Scenario(#[from] lepton_sim::scenario::ScenarioError),
    #[error(transparent)]
    OpenDrive(#[from] lepton_sim::opendrive::OpenDriveError),
    #[error(transparent)]
    Config(#[from] lepton_artifacts::InvalidField),
    #[error(transparent)]
    Render(#[from] lepton_sim::RenderError),
    #[error(transparent)]
    Perception(#[from] lepton_perception::PerceptionError),
    #[error(transparent)]
    Dataset(#[from] lepton_perception::dataset::DatasetError),
    #[error(transparent)]
    Collect(#[from] lepton_perception::dataset::CollectError),
    #[error(transparent)]
    Model(#[from] lepton_perception::cnn::ModelError),
    #[error(transparent)]
    CnnTraining(#[from] lepton_perception::cnn::TrainError),
    #[error(transparent)]
    CnnEvaluation(#[from] lepton_perception::cnn::EvalError),
    #[error(transparent)]
    Build(#[from] lepton_agents::BuildError),
    #[error(transparent)]
    Policy(#[from] lepton_agents::PolicyError),
    #[error(transparent)]
    Checkpoint(#[from] lepton_agents::run::checkpoint::CheckpointError),
    #[error(transparent)]
    Run(#[from] lepton_agents::run::RunError),
    #[error(transparent)]
    Plot(#[from] lepton_render::picture::PlotError),
    #[error(transparent)]
    Viewer(#[from] lepton_viewer::ViewerError),
    #[error(transparent)]
    Registry(#[from] lepton_pipeline::RegistryError),
    #[error(transparent)]
    Pipeline(#[from] lepton_pipeline::PipelineError),
    #[error(transparent)]
    Lock(#[from] lepton_artifacts::lock::LockError),
}

impl CliError {
    /// `error`, said of `path` (when the error does not name its file itself).
    pub fn at(path: impl Into<PathBuf>, error: impl Into<CliError>) -> Self {
        CliError::In { path: path.into(), source: Box::new(error.into()) }
    }

    /// 70 when Lepton itself failed on good input (a bug to report: the viewer's simulation
    /// thread died); 2 for everything the user can fix: options, files, configurations,
    /// checkpoints, a device or GPU driver that is missing.
    pub fn exit_code(&self) -> u8 {
        use lepton_viewer::ViewerError;
        match self {
            CliError::Viewer(ViewerError::Stopped(_) | ViewerError::Thread(_) | ViewerError::Exited(_)) => 70,
            CliError::In { source, .. } | CliError::Hint { source, .. } => source.exit_code(),
            _ => 2,
        }
    }
}

/// A file error with its path, for `map_err`.
pub fn file(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> CliError + '_ {
    move |source| CliError::File { path: path.to_path_buf(), source }
}

pub type CliResult<T = ()> = Result<T, CliError>;

#[cfg(test)]
mod tests {
    use super::*;
    use lepton_viewer::ViewerError;

    #[test]
    fn input_errors_exit_2_and_failures_of_lepton_70_however_wrapped() {
        let io = || std::io::Error::from(std::io::ErrorKind::NotFound);
        assert_eq!(CliError::Usage("--envs".into()).exit_code(), 2);
        assert_eq!(file(std::path::Path::new("a.ron"))(io()).exit_code(), 2);
        let config: CliError = lepton_artifacts::InvalidField::new("dqn.gamma", "must be in [0, 1]").into();
        assert_eq!(config.to_string(), "dqn.gamma: must be in [0, 1]");
        assert_eq!(
            CliError::at("run/config.ron", config).to_string(),
            "run/config.ron: dqn.gamma: must be in [0, 1]"
        );
        let died = || CliError::from(ViewerError::Stopped("a panic".into()));
        assert_eq!(died().exit_code(), 70);
        assert_eq!(CliError::at("x", died()).exit_code(), 70);
        assert_eq!(CliError::Hint { source: Box::new(died()), hint: "h" }.exit_code(), 70);
        assert_eq!(CliError::from(ViewerError::NoEnvs).exit_code(), 2);
    }
}
