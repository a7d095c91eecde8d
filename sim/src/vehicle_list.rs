//! The object-list sensor (`scenario.vehicles`): the nearest other cars and obstacles as rows of
//! position, velocity and heading in the car's own frame — highway-env's "Kinematics"
//! observation, what an ego-attention network attends over.

use crate::road::{world_to_plane, wrap_angle};
use crate::scenario::VehicleList;
use crate::world::World;
use rapier3d::prelude::*;

/// The columns of a row, in order.
pub const FEATURES: [&str; 7] = ["presence", "x", "y", "vx", "vy", "cos_heading", "sin_heading"];
/// Values per row.
pub const ROW: usize = FEATURES.len();
/// Metres per unit of `x` and `y` in a row.
pub const POSITION_SCALE: f32 = 50.0;
/// Metres per second per unit of `vx` and `vy` in a row.
pub const VELOCITY_SCALE: f32 = 20.0;

/// Something listed: where it is on the plane, its heading and its planar velocity.
#[derive(Debug, Clone, Copy)]
struct Object {
    x: f32,
    y: f32,
    heading: f32,
    vx: f32,
    vy: f32,
}

/// A body's plane position and heading (its forward axis is +x).
fn plane_pose(body: &RigidBody) -> (f32, f32, f32) {
    let forward = *body.rotation() * Vector::X;
    let (x, y) = world_to_plane(body.translation().to_array());
    (x, y, (-forward.z).atan2(forward.x))
}

/// Car `car`'s list: `spec.count` rows of [`ROW`] values, nearest first (ties in a fixed order:
/// other learning cars, NPCs, obstacles), zero rows after the last object within range.
pub fn measure(world: &World, car: usize, spec: &VehicleList) -> Vec<f32> {
    let physics = world.physics();
    let ego_body = &physics.bodies[world.car_body(car)];
    let (ex, ey, eh) = plane_pose(ego_body);
    let ego_v = ego_body.linvel();
    let (evx, evy) = (ego_v.x, -ego_v.z);

    let mut objects: Vec<Object> = Vec::new();
    for other in (0..world.car_count()).filter(|&k| k != car && world.car_present(k)) {
        let body = &physics.bodies[world.car_body(other)];
        let (x, y, heading) = plane_pose(body);
        let v = body.linvel();
        objects.push(Object { x, y, heading, vx: v.x, vy: -v.z });
    }
    // NPCs are moved kinematically along their lanes at their own speed: their velocity is that
    // speed along their heading.
    let mut npc = |body: RigidBodyHandle, speed: f32| {
        let (x, y, heading) = plane_pose(&physics.bodies[body]);
        objects.push(Object { x, y, heading, vx: speed * heading.cos(), vy: speed * heading.sin() });
    };
    for n in world.traffic().npcs.iter().filter(|n| n.active) {
        npc(n.body, n.speed);
    }
    if let Some(traffic) = world.network_traffic() {
        for n in traffic.npcs.iter().filter(|n| n.active) {
            npc(n.body, n.speed);
        }
    }
    for o in world.obstacles().iter().filter(|o| o.present) {
        objects.push(Object { x: o.pose.x, y: o.pose.y, heading: o.pose.heading, vx: 0.0, vy: 0.0 });
    }

    // Into the car's frame: x forward, y left.
    let (cos, sin) = (eh.cos(), eh.sin());
    let to_car = |dx: f32, dy: f32| (cos * dx + sin * dy, -sin * dx + cos * dy);
    let mut near: Vec<(f32, [f32; ROW])> = objects
        .iter()
        .filter_map(|o| {
            let (x, y) = to_car(o.x - ex, o.y - ey);
            let distance = x.hypot(y);
            // A non-finite distance (a broken physics state) is out of range too.
            if distance.is_nan() || distance > spec.range {
                return None;
            }
            let (vx, vy) = to_car(o.vx - evx, o.vy - evy);
            let heading = wrap_angle(o.heading - eh);
            let row = [
                1.0,
                x / POSITION_SCALE,
                y / POSITION_SCALE,
                vx / VELOCITY_SCALE,
                vy / VELOCITY_SCALE,
                heading.cos(),
                heading.sin(),
            ];
            Some((distance, row))
        })
        .collect();
    // Stable: equal distances keep the order above.
    near.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut list = vec![0.0; spec.count as usize * ROW];
    for (slot, (_, row)) in list.chunks_exact_mut(ROW).zip(&near) {
        slot.copy_from_slice(row);
    }
    list
}
