//! The Lepton driving world: scenario files, the rapier3d world (road, ego vehicle, obstacles, NPC
//! traffic), rewards and episode ends, and the Gymnasium-style environment API.
//!
//! Data flows one way: a [`scenario::Scenario`] builds a [`world::World`] per episode; an
//! [`env::Env`] steps it with the scenario's action set and turns what happened into observations,
//! rewards and end reasons; a [`vec_env::VecEnv`] steps many envs in parallel. No renderer lives
//! here: a vector env knows cameras only as the [`Cameras`] trait (`lepton-render` draws them).
//!
//! ```
//! use lepton_sim::{Env, scenario};
//! use std::sync::Arc;
//!
//! let scenario = Arc::new(scenario::load_named("lane_keep")?); // a file, or a shipped name
//! let mut env = Env::new(scenario, 7); // seed 7: the same episodes every time
//! let (mut obs, _info) = env.reset(Some(7));
//! let mut episode_return = 0.0;
//! let end = loop {
//!     // Actions 3 and 4 steer a little left and right at 40% throttle.
//!     let step = env.step(if obs.state.driving.lane_offset > 0.0 { 4 } else { 3 });
//!     episode_return += step.reward;
//!     if step.terminated || step.truncated {
//!         break step.info.end.expect("an ended episode has a reason");
//!     }
//!     obs = step.obs;
//! };
//! println!("{end:?} with return {episode_return:.1}");
//! # Ok::<(), lepton_sim::scenario::ScenarioError>(())
//! ```

pub mod cameras;
mod car_episode;
pub mod connector;
pub mod drivers;
pub mod env;
pub mod episode;
pub mod events;
pub mod ground_truth;
pub mod lidar;
pub mod multi_agent;
pub mod multi_agent_vec_env;
pub mod network;
pub mod network_traffic;
pub mod opendrive;
pub mod road;
pub mod scenario;
pub mod signals;
pub mod traffic;
pub mod vec_env;
pub mod vehicle;
pub mod vehicle_list;
pub mod world;

pub use cameras::{CameraSensors, Cameras, RenderError};
pub use env::{Env, Frame, Info, Observation, RestoreError, Step};
pub use episode::{EndReason, RewardTerms};
pub use ground_truth::{DrivingState, GroundTruth};
pub use lidar::{LidarBeams, LidarScan};
pub use multi_agent::{AgentStep, MultiAgentEnv, MultiStep};
pub use multi_agent_vec_env::{MultiAgentVecEnv, MultiAgentVecStep};
pub use vec_env::{Act, EpisodeStats, FrameRows, Reset, VecEnv, VecStep};
pub use vehicle::Control;
