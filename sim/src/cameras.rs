//! What a vector env needs of a camera renderer — each env's world drawn, each frame handed out —
//! as a trait, so that the physics crate builds without one: `lepton-render`'s batched renderer
//! implements it, and `lepton_render::camera_vec_env` gives a [`crate::VecEnv`] its cameras.

use crate::env::Frame;
use crate::world::World;
use std::fmt;

/// Which images the cameras draw beside the colour frame, from the same pass over the same
/// geometry: depth (metres along the camera's forward axis) and semantic classes (one byte a
/// pixel, `lepton_render::batch::Class`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CameraSensors {
    pub depth: bool,
    pub semantic: bool,
}

impl CameraSensors {
    pub const NONE: Self = Self { depth: false, semantic: false };
    pub const ALL: Self = Self { depth: true, semantic: true };

    /// Whether any image beyond the colour frame is drawn.
    pub fn any(self) -> bool {
        self.depth || self.semantic
    }
}

/// The cameras of a vector env's N environments, drawn together.
pub trait Cameras {
    /// Moves env `env`'s cars and camera to where `world` has them, with the look of episode
    /// `episode_seed`.
    fn sync(&mut self, env: usize, world: &World, episode_seed: u64);
    /// Moves tile `tile`'s camera onto learning car `car` of `world` (a multi-agent world has a
    /// tile per car), every other car drawn where it is.
    fn sync_car(&mut self, tile: usize, world: &World, car: usize, episode_seed: u64);
    /// Draws every env's camera as last synced.
    fn render(&mut self) -> Result<(), RenderError>;
    /// Bytes of one frame: height × width × channels.
    fn frame_len(&self) -> usize;
    /// Env `env`'s frame from the last [`Cameras::render`].
    fn frame(&self, env: usize) -> Frame;
    /// [`Cameras::frame`] written into `out` (exactly [`Cameras::frame_len`] bytes).
    fn frame_into(&self, env: usize, out: &mut [u8]);
    /// Which images beside the colour frame these cameras draw.
    fn sensors(&self) -> CameraSensors {
        CameraSensors::NONE
    }
    /// Env `env`'s depth image from the last [`Cameras::render`]: height × width metres, rows top
    /// to bottom (only when [`Cameras::sensors`] has depth).
    fn depth(&self, _env: usize) -> Option<Vec<f32>> {
        None
    }
    /// Env `env`'s semantic image from the last [`Cameras::render`]: height × width classes
    /// (only when [`Cameras::sensors`] has semantic).
    fn semantic(&self, _env: usize) -> Option<Vec<u8>> {
        None
    }
}

/// Why frames cannot be rendered.
#[derive(Debug, Clone, PartialEq)]
pub enum RenderError {
    /// No Vulkan (or other) adapter: neither a GPU nor a software rasteriser is installed.
    NoAdapter,
    /// Rendering or reading back failed.
    Failed(String),
}

impl fmt::Display for RenderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RenderError::NoAdapter => write!(
                f,
                "no graphics adapter found for rendering camera frames: install a GPU driver, or Mesa's \
                 software rasteriser lavapipe (Debian/Ubuntu: apt-get install mesa-vulkan-drivers libvulkan1)"
            ),
            RenderError::Failed(message) => write!(f, "rendering failed: {message}"),
        }
    }
}

impl std::error::Error for RenderError {}
