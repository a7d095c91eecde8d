//! NPC traffic: kinematic cars that follow lanes with the Intelligent Driver Model (IDM) and,
//! when allowed, change lanes MOBIL-style (when a neighbouring lane lets them accelerate harder and
//! the car that would follow them there need not brake hard).
//!
//! NPCs live in road coordinates (s, d); each physics step they integrate IDM, and their bodies are
//! moved kinematically to the matching pose, so the ego car collides with them like with any body.

use crate::road::{RoadGeometry, plane_to_world, wrap_angle};
use crate::scenario::{Idm, Traffic as TrafficConfig};
use crate::vehicle::groups;
use rand::Rng;
use rapier3d::prelude::*;

/// NPC body size (m): length, width, height.
pub const NPC_SIZE: [f32; 3] = [4.4, 1.8, 1.5];
/// Strongest braking an NPC applies (m/s²).
const MAX_BRAKING: f32 = 8.0;
/// A lane change must not make the new follower brake harder than this (m/s²).
pub(crate) const SAFE_BRAKING: f32 = 3.0;
/// Acceleration gain needed to change lanes (m/s²).
const CHANGE_THRESHOLD: f32 = 0.3;
/// Lateral speed during a lane change (m/s).
pub(crate) const LATERAL_SPEED: f32 = 1.2;
/// How often an NPC considers changing lanes (s).
const DECISION_INTERVAL: f32 = 1.0;

/// Gives NPC body `body` its box, which only the ego car collides with (NPCs are kinematic and
/// never touch each other): shared by single-road and network traffic.
pub(crate) fn attach_npc_collider(physics: &mut PhysicsWorld, body: RigidBodyHandle) {
    physics.insert_collider(
        ColliderBuilder::cuboid(0.5 * NPC_SIZE[0], 0.5 * NPC_SIZE[2], 0.5 * NPC_SIZE[1])
            .translation(Vector::new(0.0, 0.5 * NPC_SIZE[2] + 0.2, 0.0))
            .collision_groups(InteractionGroups::new(groups::NPC, groups::EGO, InteractionTestMode::And))
            .build(),
        Some(body),
    );
}

/// One NPC car.
#[derive(Debug, Clone)]
pub struct Npc {
    pub body: RigidBodyHandle,
    /// Arc length along the road (m).
    pub s: f32,
    /// Lateral offset (m).
    pub d: f32,
    /// The lane it is driving in or changing into.
    pub lane: u32,
    /// Forward speed (m/s).
    pub speed: f32,
    /// IDM desired speed (m/s).
    pub desired_speed: f32,
    /// False once it has driven off the end of an open road.
    pub active: bool,
    decision_timer: f32,
    /// Set by a scripted cut-in: the NPC keeps to the lane it was sent to.
    scripted_lane: bool,
    /// Lateral speed while changing lanes (m/s).
    lateral_speed: f32,
    /// Scripted braking (m/s²) until the speed is down to `desired_speed`.
    braking: Option<f32>,
}

/// Something another car can follow: its road position and speed.
#[derive(Debug, Clone, Copy)]
pub struct RoadUser {
    pub s: f32,
    pub d: f32,
    pub speed: f32,
    pub length: f32,
}

/// All NPCs of a world.
#[derive(Debug, Clone)]
pub struct Traffic {
    pub npcs: Vec<Npc>,
    idm: Idm,
    lanes: Vec<u32>,
    lane_changes: bool,
}

impl Traffic {
    /// Spawns `config.count` NPCs ahead of `ego_s`, spaced along the road with jitter from `rng`.
    pub fn spawn(
        physics: &mut PhysicsWorld,
        road: &RoadGeometry,
        config: &TrafficConfig,
        ego_s: f32,
        rng: &mut impl Rng,
    ) -> Self {
        let lanes: Vec<u32> =
            if config.lanes.is_empty() { (0..road.lanes()).collect() } else { config.lanes.clone() };
        let mut npcs = Vec::with_capacity(config.count as usize);
        for i in 0..config.count {
            let jitter = if config.spacing_jitter > 0.0 {
                rng.random_range(-config.spacing_jitter..=config.spacing_jitter)
            } else {
                0.0
            };
            let s = road.wrap_s(ego_s + config.start_gap + i as f32 * config.spacing + jitter);
            let lane = lanes[rng.random_range(0..lanes.len())];
            let desired_speed = if config.speed.max > config.speed.min {
                rng.random_range(config.speed.min..=config.speed.max)
            } else {
                config.speed.min
            };
            let d = road.lane_centre(lane);
            let body = physics.insert_body(
                RigidBodyBuilder::kinematic_position_based().pose(npc_pose(road, s, d, 0.0)).build(),
            );
            attach_npc_collider(physics, body);
            let decision_timer = rng.random_range(0.0..DECISION_INTERVAL);
            npcs.push(Npc {
                body,
                s,
                d,
                lane,
                speed: desired_speed,
                desired_speed,
                active: true,
                decision_timer,
                scripted_lane: false,
                lateral_speed: LATERAL_SPEED,
                braking: None,
            });
        }
        Self { npcs, idm: config.idm.clone(), lanes, lane_changes: config.lane_changes }
    }

    /// Advances every NPC by `dt`: lane decisions, IDM acceleration, motion, and the kinematic
    /// target of its body. The learning `cars` are followed like any other car.
    pub fn step(&mut self, physics: &mut PhysicsWorld, road: &RoadGeometry, cars: &[RoadUser], dt: f32) {
        let users: Vec<RoadUser> = self
            .npcs
            .iter()
            .filter(|n| n.active)
            .map(|n| RoadUser { s: n.s, d: n.d, speed: n.speed, length: NPC_SIZE[0] })
            .chain(cars.iter().copied())
            .collect();

        for index in 0..self.npcs.len() {
            let npc = &self.npcs[index];
            if !npc.active {
                continue;
            }
            let me = RoadUser { s: npc.s, d: npc.d, speed: npc.speed, length: NPC_SIZE[0] };
            let mut lane = npc.lane;
            let mut timer = npc.decision_timer - dt;
            if self.lane_changes && !npc.scripted_lane && timer <= 0.0 {
                timer += DECISION_INTERVAL;
                let settled = (npc.d - road.lane_centre(lane)).abs() < 0.1;
                if settled {
                    lane = self.choose_lane(road, &users, me, lane, npc.desired_speed);
                }
            }
            let leader = nearest_ahead(road, &users, me, lane);
            let mut accel = idm_accel(&self.idm, me.speed, npc.desired_speed, leader);

            let npc = &mut self.npcs[index];
            if let Some(decel) = npc.braking {
                if npc.speed > npc.desired_speed {
                    accel = accel.min(-decel);
                } else {
                    npc.braking = None;
                }
            }
            if npc.desired_speed <= 0.0 && npc.braking.is_none() {
                // Stopped for good (IDM alone would creep toward its 0.1 m/s floor).
                accel = -MAX_BRAKING;
            }
            npc.decision_timer = timer;
            npc.lane = lane;
            npc.speed = (npc.speed + accel * dt).max(0.0);
            let target_d = road.lane_centre(lane);
            let step = npc.lateral_speed * dt;
            let lateral = (target_d - npc.d).clamp(-step, step);
            npc.d += lateral;
            let raw_s = npc.s + npc.speed * dt;
            if !road.closed() && raw_s >= road.length() {
                npc.active = false;
                physics.bodies[npc.body].set_enabled(false);
                continue;
            }
            npc.s = road.wrap_s(raw_s);
            let yaw_offset = (lateral / dt).atan2(npc.speed.max(0.1));
            let pose = npc_pose(road, npc.s, npc.d, yaw_offset);
            physics.bodies[npc.body].set_next_kinematic_position(pose);
        }
    }

    /// A scripted cut-in: NPC `index` moves to `lane` over `duration` seconds and stays there.
    pub fn cut_in(&mut self, road: &RoadGeometry, index: usize, lane: u32, duration: f32) {
        if let Some(npc) = self.npcs.get_mut(index).filter(|n| n.active) {
            npc.lane = lane;
            npc.scripted_lane = true;
            npc.lateral_speed = ((road.lane_centre(lane) - npc.d).abs() / duration).max(0.1);
        }
    }

    /// Scripted braking: NPC `index` brakes at `decel` until it is down to `to_speed`, which
    /// becomes its desired speed.
    pub fn brake(&mut self, index: usize, decel: f32, to_speed: f32) {
        if let Some(npc) = self.npcs.get_mut(index).filter(|n| n.active) {
            npc.braking = Some(decel);
            npc.desired_speed = to_speed;
        }
    }

    /// Scripted stop: NPC `index` brakes as hard as NPCs can and stays stopped.
    pub fn stop(&mut self, index: usize) {
        self.brake(index, MAX_BRAKING, 0.0);
    }

    /// MOBIL without politeness: move to a neighbouring lane when it gives a clearly higher
    /// acceleration and the car that would follow there keeps a safe deceleration.
    fn choose_lane(
        &self,
        road: &RoadGeometry,
        users: &[RoadUser],
        me: RoadUser,
        lane: u32,
        desired: f32,
    ) -> u32 {
        let current = idm_accel(&self.idm, me.speed, desired, nearest_ahead(road, users, me, lane));
        let mut best = (lane, current + CHANGE_THRESHOLD);
        for candidate in [lane.wrapping_sub(1), lane + 1] {
            if !self.lanes.contains(&candidate) {
                continue;
            }
            let gain = idm_accel(&self.idm, me.speed, desired, nearest_ahead(road, users, me, candidate));
            let safe = match nearest_behind(road, users, me, candidate) {
                Some((gap, follower_speed)) => {
                    gap > 2.0
                        && idm_accel(&self.idm, follower_speed, follower_speed, Some((gap, me.speed)))
                            > -SAFE_BRAKING
                }
                None => true,
            };
            if safe && gain > best.1 {
                best = (candidate, gain);
            }
        }
        best.0
    }
}

/// The kinematic pose of an NPC at (s, d), yawed by `yaw_offset` from the road heading.
fn npc_pose(road: &RoadGeometry, s: f32, d: f32, yaw_offset: f32) -> Pose {
    let p = road.pose(s, d);
    Pose::from_parts(
        Vector::from(plane_to_world(p.x, p.y, 0.0)),
        Rotation::from_rotation_y(wrap_angle(p.heading + yaw_offset)),
    )
}

/// Whether a car at lateral offset `d` occupies `lane` (its body overlaps the lane).
fn occupies(road: &RoadGeometry, d: f32, lane: u32) -> bool {
    (d - road.lane_centre(lane)).abs() < 0.5 * (road.lane_width() + NPC_SIZE[1]) - 0.2
}

/// The nearest car ahead of `me` in `lane`: (bumper-to-bumper gap, its speed).
fn nearest_ahead(road: &RoadGeometry, users: &[RoadUser], me: RoadUser, lane: u32) -> Option<(f32, f32)> {
    nearest(road, users, me, lane, |u| road.delta_s(me.s, u.s))
}

/// The nearest car behind `me` in `lane`: (gap, its speed).
fn nearest_behind(road: &RoadGeometry, users: &[RoadUser], me: RoadUser, lane: u32) -> Option<(f32, f32)> {
    nearest(road, users, me, lane, |u| road.delta_s(u.s, me.s))
}

/// The car in `lane` with the smallest positive `distance` from `me`: (gap, its speed).
fn nearest(
    road: &RoadGeometry,
    users: &[RoadUser],
    me: RoadUser,
    lane: u32,
    distance: impl Fn(&RoadUser) -> f32,
) -> Option<(f32, f32)> {
    users
        .iter()
        .filter(|u| occupies(road, u.d, lane))
        .filter_map(|u| {
            let ds = distance(u);
            (ds > 1e-3).then_some((ds - 0.5 * (u.length + me.length), u.speed))
        })
        .min_by(|a, b| a.0.total_cmp(&b.0))
}

/// IDM acceleration for speed `v` toward `desired`, behind `leader` = (gap, leader speed).
pub fn idm_accel(idm: &Idm, v: f32, desired: f32, leader: Option<(f32, f32)>) -> f32 {
    let free = 1.0 - (v / desired.max(0.1)).powi(4);
    let interaction = match leader {
        Some((gap, leader_speed)) => {
            let dv = v - leader_speed;
            let wanted = idm.min_gap
                + (v * idm.time_headway + v * dv / (2.0 * (idm.max_accel * idm.comfort_decel).sqrt()))
                    .max(0.0);
            (wanted / gap.max(0.1)).powi(2)
        }
        None => 0.0,
    };
    (idm.max_accel * (free - interaction)).max(-MAX_BRAKING)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idm_accelerates_on_a_free_road_and_brakes_behind_a_slow_car() {
        let idm = Idm::default();
        assert!(idm_accel(&idm, 5.0, 15.0, None) > 1.0);
        assert!(idm_accel(&idm, 15.0, 15.0, None).abs() < 1e-4);
        assert!(idm_accel(&idm, 15.0, 15.0, Some((10.0, 5.0))) < -3.0);
        // Far behind a car at the same speed: almost free driving.
        assert!(idm_accel(&idm, 10.0, 15.0, Some((500.0, 10.0))) > 0.5);
    }
}
