//! Camera frames: scene building from a scenario, the episode's randomised look, and the batched
//! headless renderer that draws every environment's camera into one tiled target.

pub mod flat_material;
pub mod look;
pub mod meshes;
mod readback;
pub(crate) mod renderer;
pub mod scene;

pub use look::EpisodeLook;
pub use renderer::{RenderError, Renderer, luma, probe_adapter, render_plugin};
