//! Keys: playback (pause, single step, reset, speed, next env), cameras, help, and the arrow keys
//! that drive when no policy does.

use super::cameras::CameraMode;
use crate::vehicle::Control;
use bevy::prelude::*;

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

/// The key help, shown by H.
pub const HELP: &str = "\
Space        pause / resume
N  or  .     one step (while paused)
R            reset the episode
+ / -        faster / slower
Tab          next env
C  or  1-4   camera: chase, top-down, free, car
W A S D Q E  fly (free camera); right mouse: look
Arrows       drive (when no policy drives)
U            hide / show the HUD
H  or  F1    this help
Esc          quit";

pub fn read_keys(
    keys: Res<ButtonInput<KeyCode>>,
    mut playback: ResMut<Playback>,
    mut exit: MessageWriter<AppExit>,
) {
    let p = playback.as_mut();
    if keys.just_pressed(KeyCode::Escape) {
        exit.write(AppExit::Success);
    }
    if keys.just_pressed(KeyCode::Space) {
        p.paused = !p.paused;
        p.owed = 0.0;
    }
    if keys.any_just_pressed([KeyCode::KeyN, KeyCode::Period]) {
        p.paused = true;
        p.step_once = true;
    }
    if keys.just_pressed(KeyCode::KeyR) {
        p.reset = true;
    }
    if keys.any_just_pressed([KeyCode::Equal, KeyCode::NumpadAdd, KeyCode::BracketRight]) {
        p.speed = (p.speed + 1).min(SPEEDS.len() - 1);
    }
    if keys.any_just_pressed([KeyCode::Minus, KeyCode::NumpadSubtract, KeyCode::BracketLeft]) {
        p.speed = p.speed.saturating_sub(1);
    }
    if keys.just_pressed(KeyCode::Tab) && p.envs > 1 {
        p.env = (p.env + 1) % p.envs;
    }
    if keys.any_just_pressed([KeyCode::KeyH, KeyCode::F1]) {
        p.help = !p.help;
    }
    if keys.just_pressed(KeyCode::KeyU) {
        p.hud = !p.hud;
    }
    if keys.just_pressed(KeyCode::KeyC) {
        p.camera = p.camera.next();
    }
    for (key, mode) in
        [KeyCode::Digit1, KeyCode::Digit2, KeyCode::Digit3, KeyCode::Digit4].into_iter().zip(CameraMode::ALL)
    {
        if keys.just_pressed(key) {
            p.camera = mode;
        }
    }
    let axis =
        |plus: KeyCode, minus: KeyCode| keys.pressed(plus) as i32 as f32 - keys.pressed(minus) as i32 as f32;
    p.keyboard = Control {
        steer: axis(KeyCode::ArrowLeft, KeyCode::ArrowRight),
        throttle: axis(KeyCode::ArrowUp, KeyCode::ArrowDown),
    };
}
