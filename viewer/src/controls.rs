//! Keys: playback (pause, single step, reset, speed, next env), cameras, help, and the arrow keys
//! that drive when no policy does.

use crate::playback::{CameraMode, Playback, SPEEDS};
use bevy::prelude::*;
use lepton_sim::Control;

/// Keys → [`Playback`], first thing each frame.
pub struct ControlsPlugin;

impl Plugin for ControlsPlugin {
    fn build(&self, app: &mut App) {
        app.add_systems(Update, read_keys.in_set(crate::systems::ViewerSystems::Input));
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
L            look: lit (for people) / the agent's own
G            grid: every env at once / one
W A S D Q E  fly (free camera); right mouse: look
Arrows       drive (when no policy drives)
U            hide / show the HUD
H  or  F1    this help
Esc          quit";

fn read_keys(
    keys: Res<ButtonInput<KeyCode>>,
    mut playback: ResMut<Playback>,
    mut look: ResMut<crate::lit_scene::ViewerLook>,
    mut grid: ResMut<crate::scene::Grid>,
    mut exit: MessageWriter<AppExit>,
) {
    if keys.just_pressed(KeyCode::KeyL) {
        look.agent = !look.agent;
    }
    if keys.just_pressed(KeyCode::KeyG) {
        grid.on = !grid.on;
    }
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
