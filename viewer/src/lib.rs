//! The 3D viewer, the one place where a window, the scene and an agent's decision meet: a window
//! (bevy, winit on X11) that shows a scenario in a lit look for people or exactly in the agent's
//! look, one env or a grid of them, with chase, top-down, free-fly and on-board cameras, a HUD of
//! what the driver sees and decides, playback controls, hot reload of the scenario file, and
//! screenshot and recording modes for scripts and tests.
//!
//! Threads: the window's app runs on the main thread; the envs, the driver and (for drivers that
//! read pixels) the headless training renderer run on a simulation thread ([`session`]) that
//! answers every request with a snapshot, so what the window shows is always one whole step.
//!
//! A screenshot of the keep-lane driver on the shipped loop after 120 frames (it needs a display:
//! a desktop, or Xvfb as the tests use; `lepton view` is the same from the command line):
//!
//! ```no_run
//! use lepton_agents::KeepLanePolicy;
//! use lepton_sim::scenario;
//! use lepton_viewer::{CameraMode, ViewerOptions};
//!
//! let scenario = scenario::load_named("lane_keep")?;
//! let driver = KeepLanePolicy::new(&scenario, None);
//! let options = ViewerOptions {
//!     scenario,
//!     watch: None,
//!     envs: 1,
//!     seed: 0,
//!     camera: CameraMode::Chase,
//!     window: [1280, 720],
//!     hud: true,
//!     screenshot: Some(("viewer.png".into(), 120)),
//!     frames: None,
//!     grid: false,
//!     agent_look: false,
//!     record: None,
//!     inset: Default::default(),
//! };
//! let report = lepton_viewer::run(options, Some(Box::new(driver)))?;
//! # let _ = report;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

//!
//! Each feature is a bevy plugin with small resources of its own, run in this order each frame
//! ([`ViewerSystems`]): keys → [`playback::Playback`]; hot reload; the simulation steps; the scene
//! moves; the camera follows; the HUD; the screenshot.

mod cameras;
mod controls;
mod error;
mod hud;
mod lit_scene;
pub mod playback;
pub mod reload;
mod report;
pub mod scene;
mod screenshot;
pub mod session;
mod simulation;
mod sunlit_material;
mod systems;

pub use error::ViewerError;
pub use playback::CameraMode;
pub use report::ViewerReport;
pub use systems::ViewerSystems;

use bevy::pbr::PbrPlugin;
use bevy::prelude::*;
use bevy::window::{ExitCondition, WindowResolution};
use bevy::winit::{UpdateMode, WinitSettings};
use lepton_render::flat_material::FlatMaterialPlugin;
use lepton_render::{probe_adapter, render_plugin};
use lepton_sim::scenario::Scenario;
use std::path::PathBuf;
use std::sync::Arc;

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
    /// Run this many frames and exit (a timed run; screenshot and record have their own).
    pub frames: Option<u32>,
    /// Start with every env on screen at once, each in its tile (`G` switches).
    pub grid: bool,
    /// Start with the agent's flat look instead of the lit one (`L` switches).
    pub agent_look: bool,
    /// Record the window into this MP4, one policy step per frame (for this many frames, then
    /// exit; or until the window closes).
    pub record: Option<(PathBuf, Option<u32>)>,
    /// What the HUD's inset shows: the network's input (`Camera`, the default), or the car
    /// camera's depth or semantic classes, drawn by the training renderer's pass.
    pub inset: lepton_render::sensor_pictures::SensorView,
}

/// Opens the window and runs until it is closed (or the screenshot is saved). With no driver,
/// the keyboard drives.
pub fn run(
    options: ViewerOptions,
    driver: Option<Box<dyn lepton_agents::Policy>>,
) -> Result<ViewerReport, ViewerError> {
    probe_adapter()?;
    if options.envs == 0 {
        return Err(ViewerError::NoEnvs);
    }
    let driver_name = driver.as_ref().map_or("keyboard (arrow keys)".to_string(), |d| d.name());
    let scenario = Arc::new(options.scenario);
    let title = format!("Lepton — {}", scenario.name);
    // One frame per policy step plays in real time.
    let step_fps = 1.0 / (scenario.episode.dt * scenario.actions.repeat.max(1) as f32);
    let (session, snapshot) =
        session::SessionHandle::start(scenario, options.envs, options.seed, driver, options.inset)?;
    let report = report::Report::default();
    let (outcome, latest) = (report.outcome.clone(), report.latest.clone());

    let [width, height] = options.window;
    let mut resolution = WindowResolution::new(width, height);
    // Logical = physical pixels, so screenshots have the size asked for on any display.
    resolution.set_scale_factor_override(Some(1.0));
    let mut app = App::new();
    app.add_plugins(
        DefaultPlugins
            .set(WindowPlugin {
                primary_window: Some(Window { title, resolution, ..default() }),
                exit_condition: ExitCondition::OnPrimaryClosed,
                ..default()
            })
            .set(render_plugin())
            .set(PbrPlugin { prepass_enabled: false, ..default() }),
    )
    .add_plugins(FlatMaterialPlugin)
    // Keep drawing when the window has no focus (under Xvfb it never has).
    .insert_resource(WinitSettings {
        focused_mode: UpdateMode::Continuous,
        unfocused_mode: UpdateMode::Continuous,
    })
    .configure_sets(
        Update,
        (
            ViewerSystems::Input,
            ViewerSystems::Reload,
            ViewerSystems::Step,
            ViewerSystems::Scene,
            ViewerSystems::Camera,
            ViewerSystems::Hud,
            ViewerSystems::Capture,
        )
            .chain(),
    )
    .insert_resource(playback::Playback::new(options.envs, options.camera, options.hud))
    .insert_resource(lit_scene::ViewerLook { agent: options.agent_look })
    .insert_resource(scene::Grid { on: options.grid })
    .insert_resource(simulation::Sim::new(session, snapshot, driver_name))
    .insert_resource(reload::ReloadStatus::watching(options.watch))
    .insert_resource(report)
    .add_plugins((
        controls::ControlsPlugin,
        reload::ReloadPlugin,
        simulation::SimulationPlugin,
        scene::ScenePlugin,
        cameras::CameraPlugin,
        hud::HudPlugin,
        screenshot::ScreenshotPlugin,
    ));
    if let Some((path, frames)) = options.screenshot {
        app.insert_resource(screenshot::ScreenshotPlan::new(path, frames));
    }
    if let Some(frames) = options.frames {
        app.insert_resource(screenshot::FrameLimit(frames));
    }
    let recording = options.record.map(|(path, frames)| screenshot::RecordPlan::new(path, frames, step_fps));
    if let Some(plan) = &recording {
        app.insert_resource(plan.clone());
    }
    let exit = app.run();
    if let Some(plan) = recording {
        if let Some(error) = plan.error.lock().unwrap_or_else(|e| e.into_inner()).take() {
            return Err(error);
        }
        let video = plan.video.lock().unwrap_or_else(|e| e.into_inner()).take();
        let summary = match video {
            Some(video) => video.finish(),
            None => {
                return Err(ViewerError::Screenshot {
                    path: plan.path,
                    message: "no frame was recorded".into(),
                });
            }
        }
        .map_err(|e| ViewerError::Screenshot { path: plan.path.clone(), message: e.to_string() })?;
        let mut latest = latest.lock().unwrap_or_else(|e| e.into_inner());
        latest.recorded = Some(summary);
        if let Some(Ok(report)) = outcome.lock().unwrap_or_else(|e| e.into_inner()).as_mut() {
            report.recorded = latest.recorded.clone();
        }
    }

    let result = outcome.lock().unwrap_or_else(|e| e.into_inner()).take();
    match (result, exit) {
        (Some(result), _) => result,
        (None, AppExit::Success) => Ok(latest.lock().unwrap_or_else(|e| e.into_inner()).clone()),
        (None, AppExit::Error(code)) => Err(ViewerError::Exited(code.get())),
    }
}
