//! Headless training runs: the loop, evaluation, checkpoints, metrics and the run directory.

pub mod agent;
pub mod checkpoint;
pub mod config;
pub mod eval;
pub mod metrics;
pub mod observe;
pub mod trainer;
pub mod watch;

pub use config::{AgentKind, RunConfig, TabularConfig};
pub use eval::{EvalSummary, evaluate};
pub use trainer::{Progress, RunSummary, TrainError, Trainer, files, resolve_perception};
