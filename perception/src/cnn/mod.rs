//! The perception CNN: its network, the saved model, training and evaluation.

pub mod eval;
pub mod model;
pub mod saved;
pub mod train;

pub use eval::{Confusion, EvalError, EvalReport, SegmentationReport, Thresholds, evaluate};
pub use model::{CnnConfig, PerceptionCnn};
pub use saved::{CnnModel, ModelError, ModelMeta, Prediction};
pub use train::{TrainConfig, TrainError, TrainProgress, TrainReport, train};
