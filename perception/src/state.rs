//! The driving state an agent acts on. It is defined once, in the simulator
//! ([`lepton_sim::DrivingState`]): the ground truth carries it, the CNN predicts it.

pub use lepton_sim::DrivingState;
