//! Headless training runs: the loop, evaluation, checkpoints, metrics and the run directory.
//! Nothing here knows which agent it runs: it speaks to [`crate::Agent`].

pub mod checkpoint;
pub mod config;
pub mod error;
pub mod eval;
pub mod files;
pub mod loop_state;
pub mod metrics;
pub mod multi_agent;
pub mod trainer;

pub use config::RunConfig;
pub use error::RunError;
pub use eval::{
    EvalReport, EvalSummary, HELD_OUT_SEED_OFFSET, eval_env_seeds, eval_envs, evaluate, evaluate_showing,
};
pub use multi_agent::{MultiAgentTrainer, evaluate_multi_agent};
pub use trainer::{Progress, RunSummary, Trainer, resolve_perception};
