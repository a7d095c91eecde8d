//! The files of a run directory.

pub const CONFIG: &str = "config.ron";
pub const SCENARIO: &str = "scenario.ron";
pub const METRICS: &str = "metrics.csv";
pub const LAST: &str = "checkpoints/last";
pub const BEST: &str = "checkpoints/best";
pub const EVAL: &str = "eval.json";
pub const CURVE: &str = "reward_curve.png";
/// TensorBoard event files (`tensorboard --logdir RUN_DIR`).
pub const TENSORBOARD: &str = "tb";
/// Videos of periodic evaluations (`--video-every`), a folder per step.
pub const VIDEOS: &str = "videos";
