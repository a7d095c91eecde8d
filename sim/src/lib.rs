//! The Lepton driving world: scenario files, the rapier3d world (road, ego vehicle, obstacles, NPC
//! traffic), rewards and episode ends, and the Gymnasium-style environment API.
//!
//! Data flows one way: a [`scenario::Scenario`] builds a [`world::World`] per episode; an
//! [`env::Env`] steps it with the scenario's action set and turns what happened into observations,
//! rewards and end reasons; a [`vec_env::VecEnv`] steps many envs in parallel.

pub mod atomic;
pub mod drivers;
pub mod env;
pub mod episode;
pub mod events;
pub mod ground_truth;
pub mod invalid;
pub mod render;
pub mod road;
pub mod scenario;
pub mod tensorboard;
pub mod traffic;
pub mod vec_env;
pub mod vehicle;
pub mod video;
pub mod world;

pub use env::{Env, Frame, Info, Observation, Step};
pub use episode::{EndReason, RewardTerms};
pub use ground_truth::{DrivingState, GroundTruth};
pub use invalid::InvalidField;
pub use vec_env::{EpisodeStats, FrameRows, VecEnv, VecStep};
pub use vehicle::Control;
