//! Why frames cannot be rendered: the one error of the renderer, its pass and its readback (a
//! file of its own, so that they can all use it without importing each other).

use std::fmt;

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
