//! Lepton perception: turns camera frames (or the simulator's ground truth) into the agent's
//! driving state, and the data pipeline that trains the CNN doing it:
//! collect → check for anomalies → clean → store → train → evaluate → promote or retrain.
//!
//! The driving state, binned into the table index tabular Q-learning uses:
//!
//! ```
//! use lepton_perception::Discretiser;
//! use lepton_sim::{Env, scenario};
//! use std::sync::Arc;
//!
//! let mut env = Env::new(Arc::new(scenario::load_named("tiny")?), 0);
//! let (obs, _info) = env.reset(Some(0));
//! let discretiser = Discretiser::default(); // lane offset, heading, curvature, gap: 441 states
//! let state = discretiser.index(&obs.state.driving);
//! assert!(state < discretiser.num_states()); // 7 × 7 × 3 × 3 = 441
//! # Ok::<(), lepton_sim::scenario::ScenarioError>(())
//! ```

pub mod cnn;
pub mod dataset;
pub mod device;
pub mod discretise;
pub mod labels;
pub mod perception;
pub mod preprocess;
pub mod state;

pub use discretise::{Discretiser, FieldBins};
pub use perception::{
    Percept, PerceptShape, Perception, PerceptionError, PerceptionKind, StackedFrames, VehicleRows,
};
pub use state::DrivingState;
