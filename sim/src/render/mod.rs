//! Camera frames: scene building from a scenario, the episode's randomised look, and the batched
//! headless renderer that draws every environment's camera into its tile of one target in one
//! render pass. (The viewer draws the same meshes through bevy's own cameras: `scene`,
//! `flat_material`.)

pub mod batch;
mod error;
pub mod flat_material;
pub mod look;
pub mod meshes;
mod readback;
pub mod recorder;
pub(crate) mod renderer;
pub mod scene;
mod tiled_pass;

pub use look::EpisodeLook;
pub use error::RenderError;
pub use renderer::{Renderer, luma, probe_adapter, render_plugin};
