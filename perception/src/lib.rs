//! Lepton perception: turns camera frames (or the simulator's ground truth) into the agent's
//! driving state, and the data pipeline that trains the CNN doing it:
//! collect → check for anomalies → clean → store → train → evaluate → promote or retrain.

pub mod cnn;
pub mod dataset;
pub mod device;
pub mod discretise;
pub mod labels;
pub mod perception;
pub mod preprocess;
pub mod state;

pub use discretise::{Discretiser, FieldBins};
pub use perception::{Percept, PerceptShape, Perception, PerceptionError, PerceptionKind, StackedFrames};
pub use state::DrivingState;
