//! The 3D viewer: a window (bevy, winit on X11) that shows a scenario with the training
//! renderer's scene code, with chase, top-down, free-fly and on-board cameras, a HUD of what the
//! driver sees and decides, playback controls, hot reload of the scenario file, and a
//! screenshot mode for scripts and tests.
//!
//! Threads: the window's app runs on the main thread; the envs, the driver and (for drivers that
//! read pixels) the headless training renderer run on a simulation thread ([`session`]) that
//! answers every request with a snapshot, so what the window shows is always one whole step.

mod app;
mod cameras;
mod controls;
pub mod driver;
mod hud;
pub mod reload;
pub mod session;

pub use cameras::CameraMode;
pub use driver::{Decision, Driver, InputImage, KeepLaneDriver};

use crate::scenario::Scenario;
use std::path::PathBuf;

/// How to open the viewer.
pub struct ViewerOptions {
    pub scenario: Scenario,
    /// The scenario's file, watched for hot reload (`None` for a shipped scenario).
    pub watch: Option<PathBuf>,
    pub envs: usize,
    pub seed: u64,
    pub camera: CameraMode,
    /// Window size in logical pixels.
    pub window: [u32; 2],
    pub hud: bool,
    /// Run this many frames, save a PNG of the window there, and exit.
    pub screenshot: Option<(PathBuf, u32)>,
}

/// What a viewer session did, printed when it ends.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct ViewerReport {
    pub frames: u64,
    /// Policy steps of the shown envs.
    pub steps: u64,
    pub reloads: u32,
    pub failed_reloads: u32,
    /// The last reload error, if the last reload failed.
    pub reload_error: Option<String>,
    /// Straight-line distance the first env's car moved from its first shown position (m).
    pub ego_moved: f32,
    pub screenshot: Option<PathBuf>,
}

/// Opens the window and runs until it is closed (or the screenshot is saved). With no driver,
/// the keyboard drives.
pub fn run(options: ViewerOptions, driver: Option<Box<dyn Driver>>) -> Result<ViewerReport, String> {
    app::run(options, driver)
}
