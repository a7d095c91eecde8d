//! The viewer's cameras: chase, top-down, free-fly and the car's own camera (the grid's tiles use [`chase`]).

use crate::playback::{CameraMode, Playback};
use bevy::input::mouse::AccumulatedMouseMotion;
use bevy::prelude::*;
use lepton_render::scene::mounted_camera;

/// Places the window's camera after the scene has moved.
pub struct CameraPlugin;

impl Plugin for CameraPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<FreeFly>()
            .init_resource::<Follow>()
            .add_systems(Update, place_camera.in_set(crate::systems::ViewerSystems::Camera));
    }
}

/// Marks the window's 3D camera.
#[derive(Component)]
pub struct ViewCamera;

/// The free-fly camera's pose, kept between switches.
#[derive(Resource, Default)]
pub struct FreeFly {
    pub position: Vec3,
    pub yaw: f32,
    pub pitch: f32,
    /// Set when the free camera is first used: it starts where the chase camera was.
    pub placed: bool,
}

/// The ego car's transform this frame and the camera settings of the scenario.
#[derive(Resource, Default)]
pub struct Follow {
    pub ego: Transform,
    pub camera: Option<lepton_sim::scenario::Camera>,
    /// Smoothed heading the chase camera turns with (radians about +Y).
    pub heading: Option<f32>,
}

const VIEW_FOV_DEGREES: f32 = 60.0;

/// Places the camera for the current mode.
#[allow(clippy::too_many_arguments)] // a bevy system: one parameter per resource it reads
fn place_camera(
    time: Res<Time>,
    playback: Res<Playback>,
    keys: Res<ButtonInput<KeyCode>>,
    mouse: Res<ButtonInput<MouseButton>>,
    motion: Res<AccumulatedMouseMotion>,
    mut follow: ResMut<Follow>,
    mut free: ResMut<FreeFly>,
    mut cameras: Query<(&mut Transform, &mut Projection), With<ViewCamera>>,
) {
    let Ok((mut transform, mut projection)) = cameras.single_mut() else { return };
    let ego = follow.ego;
    // The car faces its local +X; heading is the angle of that axis about +Y.
    let forward = ego.rotation * Vec3::X;
    let target_heading = -forward.z.atan2(forward.x);
    let dt = time.delta_secs().min(0.1);
    let heading = match follow.heading {
        // Ease towards the car's heading so bumps do not shake the view.
        Some(h) => h + wrap(target_heading - h) * (1.0 - (-6.0 * dt).exp()),
        None => target_heading,
    };
    follow.heading = Some(heading);
    let yaw = Quat::from_rotation_y(heading);
    let mut fov = VIEW_FOV_DEGREES;
    let chase = || {
        let eye = ego.translation + yaw * Vec3::new(-9.0, 4.0, 0.0);
        Transform::from_translation(eye).looking_at(ego.translation + yaw * Vec3::new(6.0, 0.8, 0.0), Vec3::Y)
    };
    match playback.camera {
        CameraMode::Chase => *transform = chase(),
        CameraMode::TopDown => {
            // North up, east right: the orientation of `lepton scenario map` (the road plane's
            // +y is the world's −z).
            *transform = Transform::from_translation(ego.translation + Vec3::Y * 70.0)
                .looking_at(ego.translation, Vec3::NEG_Z);
        }
        CameraMode::Car => {
            if let Some(camera) = &follow.camera {
                *transform = mounted_camera(&ego, camera);
                fov = camera.fov;
            }
        }
        CameraMode::Free => {
            if !free.placed {
                let start = chase();
                let (y, p, _) = start.rotation.to_euler(EulerRot::YXZ);
                *free = FreeFly { position: start.translation, yaw: y, pitch: p, placed: true };
            }
            if mouse.pressed(MouseButton::Right) {
                free.yaw -= motion.delta.x * 0.003;
                free.pitch = (free.pitch - motion.delta.y * 0.003).clamp(-1.5, 1.5);
            }
            let rotation = Quat::from_euler(EulerRot::YXZ, free.yaw, free.pitch, 0.0);
            let speed = if keys.pressed(KeyCode::ShiftLeft) { 60.0 } else { 15.0 };
            let mut velocity = Vec3::ZERO;
            for (key, direction) in [
                (KeyCode::KeyW, rotation * Vec3::NEG_Z),
                (KeyCode::KeyS, rotation * Vec3::Z),
                (KeyCode::KeyA, rotation * Vec3::NEG_X),
                (KeyCode::KeyD, rotation * Vec3::X),
                (KeyCode::KeyE, Vec3::Y),
                (KeyCode::KeyQ, Vec3::NEG_Y),
            ] {
                if keys.pressed(key) {
                    velocity += direction;
                }
            }
            free.position += velocity.normalize_or_zero() * speed * dt;
            *transform = Transform { translation: free.position, rotation, ..default() };
        }
    }
    if let Projection::Perspective(p) = projection.as_mut() {
        let fov = fov.to_radians();
        if (p.fov - fov).abs() > 1e-6 {
            p.fov = fov;
        }
    }
}

/// A chase view of a car at `ego` without easing (the grid's tiles).
pub fn chase(ego: &Transform) -> Transform {
    let forward = ego.rotation * Vec3::X;
    let yaw = Quat::from_rotation_y(-forward.z.atan2(forward.x));
    let eye = ego.translation + yaw * Vec3::new(-9.0, 4.0, 0.0);
    Transform::from_translation(eye).looking_at(ego.translation + yaw * Vec3::new(6.0, 0.8, 0.0), Vec3::Y)
}

fn wrap(a: f32) -> f32 {
    lepton_sim::road::wrap_angle(a)
}
