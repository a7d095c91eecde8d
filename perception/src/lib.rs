//! Lepton perception: turns what the simulator gives into the agent's driving state.
//!
//! Today the state is read from the simulator's ground truth ([`DrivingState::from_ground_truth`]);
//! the camera-frame CNN that predicts the same state from pixels builds on this type.

pub mod state;

pub use state::DrivingState;
