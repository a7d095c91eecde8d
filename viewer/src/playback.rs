//! What the user asked of playback and view: pause, speed, the env on screen, the camera, the HUD
//! and help, and what the arrow keys command. The controls write it; the simulation, cameras and
//! HUD read it.

use bevy::prelude::*;
use lepton_sim::Control;
use std::str::FromStr;

/// Time multipliers the speed keys step through.
pub const SPEEDS: [f32; 9] = [0.125, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0];
const NORMAL_SPEED: usize = 3;

/// What the user asked of playback and view.
#[derive(Resource, Debug, Clone)]
pub struct Playback {
    pub paused: bool,
    pub speed: usize,
    /// One step is due while paused.
    pub step_once: bool,
    /// A reset is due.
    pub reset: bool,
    /// The env on screen.
    pub env: usize,
    pub envs: usize,
    pub help: bool,
    pub hud: bool,
    pub camera: CameraMode,
    /// What the arrow keys command (used when no driver drives).
    pub keyboard: Control,
    /// Simulated seconds owed to the simulation.
    pub owed: f32,
}

impl Playback {
    pub fn new(envs: usize, camera: CameraMode, hud: bool) -> Self {
        Self {
            paused: false,
            speed: NORMAL_SPEED,
            step_once: false,
            reset: false,
            env: 0,
            envs,
            help: false,
            hud,
            camera,
            keyboard: Control::default(),
            owed: 0.0,
        }
    }

    pub fn speed(&self) -> f32 {
        SPEEDS[self.speed]
    }
}

/// Where the viewer's camera is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CameraMode {
    /// Behind and above the car, following it.
    #[default]
    Chase,
    /// High above the car, north up in the car's heading.
    TopDown,
    /// Flown by hand: W A S D, Q E down/up, right mouse button to look around.
    Free,
    /// The car's own camera, as the scenario mounts it (what the agent sees, in colour).
    Car,
}

impl CameraMode {
    pub const ALL: [CameraMode; 4] =
        [CameraMode::Chase, CameraMode::TopDown, CameraMode::Free, CameraMode::Car];

    pub fn name(self) -> &'static str {
        match self {
            CameraMode::Chase => "chase",
            CameraMode::TopDown => "top-down",
            CameraMode::Free => "free",
            CameraMode::Car => "car",
        }
    }

    pub fn next(self) -> Self {
        let i = Self::ALL.iter().position(|&m| m == self).unwrap_or(0);
        Self::ALL[(i + 1) % Self::ALL.len()]
    }
}

/// A `--camera` name that is none of the viewer's cameras.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown camera \"{0}\" (one of: chase, top-down, free, car)")]
pub struct UnknownCamera(pub String);

impl FromStr for CameraMode {
    type Err = UnknownCamera;
    fn from_str(s: &str) -> Result<Self, UnknownCamera> {
        Self::ALL
            .into_iter()
            .find(|m| m.name() == s || (s == "top" && *m == CameraMode::TopDown))
            .ok_or_else(|| UnknownCamera(s.to_string()))
    }
}
