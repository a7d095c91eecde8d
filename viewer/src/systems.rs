//! The order of the viewer's systems within a frame: keys, hot reload, the simulation step, the
//! scene, the camera, the HUD, the screenshot. Each plugin puts its systems in its set.

use bevy::prelude::*;

/// The order of the viewer's systems within a frame.
#[derive(SystemSet, Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ViewerSystems {
    Input,
    Reload,
    Step,
    Scene,
    Camera,
    Hud,
    Capture,
}
