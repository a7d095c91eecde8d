//! Camera frames for Lepton's driving world: scene building from a scenario, the episode's
//! randomised look, the batched headless renderer that draws every environment's camera into its
//! tile of one target in one render pass (bevy 0.19 on wgpu: a GPU or Mesa's lavapipe), episode
//! videos (H.264 in MP4) from the chase camera, the meshes and material the viewer draws the
//! same scene with (`scene`, `flat_material`), and pictures: scenario maps from above ([`map`])
//! and the plotters charts of runs and pipelines ([`picture`]).
//!
//! The physics crate below knows cameras only as the [`lepton_sim::Cameras`] trait, which
//! [`Renderer`] implements; [`camera_vec_env`] is a vector env whose observations carry frames.
//!
//! ```
//! use lepton_sim::{Reset, scenario};
//! use std::sync::Arc;
//!
//! let scenario = Arc::new(scenario::load_named("tiny")?);
//! let mut envs = lepton_render::camera_vec_env(scenario, 4, 0)?; // 4 envs, one render pass
//! let first = envs.try_reset(Reset::All(0), None)?;
//! let frame = first[0].0.frame.as_ref().expect("camera envs carry frames");
//! assert_eq!(frame.data.len(), frame.width as usize * frame.height as usize * frame.channels as usize);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod batch;
pub mod flat_material;
pub mod look;
pub mod map;
pub mod meshes;
pub mod picture;
mod readback;
pub mod recorder;
mod renderer;
pub mod scene;
pub mod sensor_pictures;
mod tiled_pass;
pub mod video;

pub use lepton_sim::RenderError;
pub use look::EpisodeLook;
pub use renderer::{NOTHING_DRAWN_DEPTH, Renderer, luma, probe_adapter, render_plugin};

use lepton_sim::scenario::Scenario;
use lepton_sim::{CameraSensors, Cameras, Frame, MultiAgentVecEnv, VecEnv};
use std::sync::Arc;

/// `n` environments of `scenario` (env i seeded `base_seed + i`) whose observations carry
/// camera frames, as the scenario's camera says, all drawn by one [`Renderer`].
pub fn camera_vec_env(scenario: Arc<Scenario>, n: usize, base_seed: u64) -> Result<VecEnv, RenderError> {
    VecEnv::with_cameras(scenario, n, base_seed, Renderer::new)
}

/// [`camera_vec_env`] whose observations also carry the depth and semantic images `sensors` asks
/// for (`obs.depth`, `obs.semantic`), drawn in the same pass.
pub fn sensor_vec_env(
    scenario: Arc<Scenario>,
    n: usize,
    base_seed: u64,
    sensors: CameraSensors,
) -> Result<VecEnv, RenderError> {
    VecEnv::with_cameras(scenario, n, base_seed, |scenario, network, n| {
        Renderer::with_sensors(scenario, network, n, sensors)
    })
}

/// `n` multi-agent worlds of `scenario` with a camera on every car, drawn in one pass (a tile per
/// car of every world), with the depth and semantic images `sensors` asks for.
pub fn camera_multi_agent_vec_env(
    scenario: Arc<Scenario>,
    n: usize,
    base_seed: u64,
    sensors: CameraSensors,
) -> Result<MultiAgentVecEnv, RenderError> {
    MultiAgentVecEnv::with_cameras(scenario, n, base_seed, |scenario, network, tiles| {
        Renderer::with_sensors(scenario, network, tiles, sensors)
    })
}

impl Cameras for Renderer {
    fn sync(&mut self, env: usize, world: &lepton_sim::world::World, episode_seed: u64) {
        Renderer::sync(self, env, world, episode_seed)
    }

    fn sync_car(&mut self, tile: usize, world: &lepton_sim::world::World, car: usize, episode_seed: u64) {
        Renderer::sync_car(self, tile, world, car, episode_seed)
    }

    fn render(&mut self) -> Result<(), RenderError> {
        Renderer::render(self)
    }

    fn frame_len(&self) -> usize {
        Renderer::frame_len(self)
    }

    fn frame(&self, env: usize) -> Frame {
        Renderer::frame(self, env)
    }

    fn frame_into(&self, env: usize, out: &mut [u8]) {
        Renderer::frame_into(self, env, out)
    }

    fn sensors(&self) -> CameraSensors {
        Renderer::sensors(self)
    }

    fn depth(&self, env: usize) -> Option<Vec<f32>> {
        Renderer::depth(self, env)
    }

    fn semantic(&self, env: usize) -> Option<Vec<u8>> {
        Renderer::semantic(self, env)
    }
}
