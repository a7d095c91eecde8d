//! The ego car: a dynamic rapier chassis carried by four raycast wheels
//! (`DynamicRayCastVehicleController`), front-wheel drive, with an engine that is force-limited at
//! low speed and power-limited above, brakes on all wheels, rate-limited steering, and air drag and
//! rolling resistance (the controller itself coasts without losses).

use crate::road::{PlanePose, plane_to_world};
use crate::scenario::Vehicle;
use rapier3d::control::{DynamicRayCastVehicleController, WheelTuning};
use rapier3d::prelude::*;

/// What the driver commands: both in [-1, 1].
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Control {
    /// Fraction of full lock; positive steers left.
    pub steer: f32,
    /// Positive: fraction of full throttle; negative: fraction of full brake.
    pub throttle: f32,
}

/// Collision groups: a learning car's chassis meets the ground, obstacles, NPCs and the other
/// learning cars; obstacles and NPCs never need to meet each other (NPCs are scripted), which
/// keeps the broad phase small.
pub mod groups {
    use rapier3d::prelude::*;
    pub const GROUND: Group = Group::GROUP_1;
    pub const EGO: Group = Group::GROUP_2;
    pub const OBSTACLE: Group = Group::GROUP_3;
    pub const NPC: Group = Group::GROUP_4;
}

// Fixed geometry of the car model, relative to the centre of mass (metres).
const WHEEL_RADIUS: f32 = 0.33;
const SUSPENSION_REST: f32 = 0.25;
const WHEEL_MOUNT_Y: f32 = -0.15;
const BODY_HALF_HEIGHT: f32 = 0.45;
const BODY_OFFSET_Y: f32 = 0.2;
/// Height of the centre of mass above flat ground with the suspension at rest, minus its static sag.
pub const RIDE_HEIGHT: f32 = WHEEL_RADIUS + SUSPENSION_REST - WHEEL_MOUNT_Y - 0.06;
const ROLLING_RESISTANCE: f32 = 0.015;
const DRAG_AREA: f32 = 0.7; // Cd·A in m²
const AIR_DENSITY: f32 = 1.2;
const GRAVITY: f32 = 9.81;

/// The ego car in a rapier world.
#[derive(Clone)]
pub struct EgoVehicle {
    pub body: RigidBodyHandle,
    pub collider: ColliderHandle,
    controller: DynamicRayCastVehicleController,
    mass: f32,
    engine_force: f32,
    engine_power: f32,
    brake_force: f32,
    max_steer: f32,
    steer_rate: f32,
    /// Current front-wheel angle (radians), moving toward the command at `steer_rate`.
    steer_angle: f32,
}

impl EgoVehicle {
    /// Adds the car to `physics` at `pose` (on the ground plane) moving forward at `speed`.
    pub fn spawn(
        physics: &mut PhysicsWorld,
        vehicle: &Vehicle,
        pose: PlanePose,
        speed: f32,
        road_friction: f32,
    ) -> Self {
        let (half_length, half_width) = (0.5 * vehicle.length, 0.5 * vehicle.width);
        let rotation = Rotation::from_rotation_y(pose.heading);
        let translation = Vector::from(plane_to_world(pose.x, pose.y, RIDE_HEIGHT));
        let forward = rotation * Vector::X;
        let m = vehicle.mass;
        // A solid box's inertia, about the body axes (x forward, y up, z right).
        let (l, h, w) = (vehicle.length, 2.0 * BODY_HALF_HEIGHT + 0.4, vehicle.width);
        let inertia =
            Vector::new(m / 12.0 * (h * h + w * w), m / 12.0 * (l * l + w * w), m / 12.0 * (l * l + h * h));
        let body = RigidBodyBuilder::dynamic()
            .pose(Pose::from_parts(translation, rotation))
            .linvel(forward * speed)
            .additional_mass_properties(MassProperties::new(Vector::ZERO, m, inertia))
            .can_sleep(false)
            .build();
        let collider = ColliderBuilder::cuboid(half_length, BODY_HALF_HEIGHT, half_width)
            .translation(Vector::new(0.0, BODY_OFFSET_Y, 0.0))
            .density(0.0)
            .friction(0.5)
            .collision_groups(InteractionGroups::new(
                groups::EGO,
                groups::GROUND | groups::OBSTACLE | groups::NPC | groups::EGO,
                InteractionTestMode::And,
            ))
            .build();
        let body = physics.insert_body(body);
        let collider = physics.insert_collider(collider, Some(body));

        let tuning = WheelTuning {
            suspension_stiffness: 40.0,
            suspension_compression: 2.5,
            suspension_damping: 3.5,
            max_suspension_travel: 0.2,
            side_friction_stiffness: 1.0,
            friction_slip: 1.6 * road_friction,
            max_suspension_force: 40.0 * m,
        };
        let mut controller = DynamicRayCastVehicleController::new(body);
        let axle_x = 0.3 * vehicle.length;
        let track_z = half_width - 0.15;
        // Front wheels first: they steer and drive.
        for (x, z) in [(axle_x, -track_z), (axle_x, track_z), (-axle_x, -track_z), (-axle_x, track_z)] {
            controller.add_wheel(
                Vector::new(x, WHEEL_MOUNT_Y, z),
                -Vector::Y,
                Vector::Z,
                SUSPENSION_REST,
                WHEEL_RADIUS,
                &tuning,
            );
        }
        Self {
            body,
            collider,
            controller,
            mass: m,
            engine_force: vehicle.engine_force,
            engine_power: vehicle.engine_power * 1000.0,
            brake_force: vehicle.brake_force,
            max_steer: vehicle.max_steer.to_radians(),
            steer_rate: vehicle.steer_rate.to_radians(),
            steer_angle: 0.0,
        }
    }

    /// Applies one physics step's worth of driver input, drag and wheel forces to the chassis.
    /// Call it right before each physics step.
    pub fn drive(&mut self, control: Control, physics: &mut PhysicsWorld) {
        let dt = physics.integration_parameters.dt;
        let chassis = &physics.bodies[self.body];
        let velocity = chassis.linvel();
        let speed = velocity.length();
        let forward_speed = (chassis.rotation() * Vector::X).dot(velocity);

        let target = control.steer.clamp(-1.0, 1.0) * self.max_steer;
        let max_change = self.steer_rate * dt;
        self.steer_angle += (target - self.steer_angle).clamp(-max_change, max_change);

        let throttle = control.throttle.clamp(-1.0, 1.0);
        let drive_force = if throttle > 0.0 {
            throttle * self.engine_force.min(self.engine_power / forward_speed.max(1.0))
        } else {
            0.0
        };
        let brake_impulse = (-throttle).max(0.0) * self.brake_force * dt / 4.0;
        for (i, wheel) in self.controller.wheels_mut().iter_mut().enumerate() {
            let front = i < 2;
            wheel.steering = if front { self.steer_angle } else { 0.0 };
            wheel.engine_force = if front { 0.5 * drive_force } else { 0.0 };
            wheel.brake = brake_impulse;
        }

        // Air drag and rolling resistance, never more than stops the car this step.
        if speed > 1e-3 {
            let resistance =
                ROLLING_RESISTANCE * self.mass * GRAVITY + 0.5 * AIR_DENSITY * DRAG_AREA * speed * speed;
            let impulse = (resistance * dt).min(self.mass * speed);
            physics.bodies[self.body].apply_impulse(-velocity / speed * impulse, true);
        }

        let queries = physics.broad_phase.as_query_pipeline_mut(
            physics.narrow_phase.query_dispatcher(),
            &mut physics.bodies,
            &mut physics.colliders,
            QueryFilter::exclude_dynamic().exclude_rigid_body(self.body),
        );
        self.controller.update_vehicle(dt, queries);
    }

    /// Centres the steering (a respawned car starts with its wheels straight).
    pub fn straighten(&mut self) {
        self.steer_angle = 0.0;
    }

    /// Current front-wheel angle (radians, positive left).
    pub fn steer_angle(&self) -> f32 {
        self.steer_angle
    }

    /// Number of wheels touching the ground.
    pub fn wheels_on_ground(&self) -> usize {
        self.controller.wheels().iter().filter(|w| w.raycast_info().is_in_contact).count()
    }
}
