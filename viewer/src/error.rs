//! What stops a viewer session or refuses a reload, each naming what it is about.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum ViewerError {
    /// No adapter for the window, or the training renderer failed.
    #[error(transparent)]
    Render(#[from] lepton_sim::RenderError),
    /// The driver cannot drive this scenario, or could not decide.
    #[error(transparent)]
    Policy(#[from] lepton_agents::PolicyError),
    /// A reloaded scenario file that does not parse or validate.
    #[error(transparent)]
    Scenario(#[from] lepton_sim::scenario::ScenarioError),
    #[error("--envs must be at least 1")]
    NoEnvs,
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    #[error("cannot start the simulation thread: {0}")]
    Thread(std::io::Error),
    /// The simulation thread is gone (its panic message, or that it exited).
    #[error("the simulation thread stopped: {0}")]
    Stopped(String),
    /// bevy's app ended with an error code and no message of ours.
    #[error("the viewer stopped with code {0}")]
    Exited(u8),
    #[error("{}: cannot encode the screenshot: {message}", path.display())]
    Screenshot { path: PathBuf, message: String },
}
