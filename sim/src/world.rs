//! The driving world of one environment: a rapier3d physics world holding the ground, the static
//! obstacles, the NPC traffic and the ego car, stepped one physics step at a time.

use crate::events::{EgoOnRoad, EventClock, EventMask, NpcOnRoad};
use crate::network::{Edge, Network};
use crate::network_traffic::{EgoOnNetwork, NetworkTraffic};
use crate::road::{PlanePose, RoadGeometry, RoadPoint, plane_to_world, world_to_plane, wrap_angle};
use crate::scenario::{Event, EventAction, Obstacle, ObstacleKind, Scenario};
use crate::signals::Light;
use crate::traffic::{NPC_SIZE, RoadUser, Traffic};
use crate::vehicle::{Control, EgoVehicle, groups};
use rand::Rng;
use rapier3d::prelude::*;
use std::sync::Arc;

/// A static obstacle as placed in the world.
#[derive(Debug, Clone)]
pub struct PlacedObstacle {
    pub kind: ObstacleKind,
    /// The road it stands on (a single road: the road); `s` and `d` are in its frame.
    pub edge: Edge,
    pub s: f32,
    pub d: f32,
    /// Length along the road, width across it, height (m).
    pub size: [f32; 3],
    pub pose: PlanePose,
    pub collider: ColliderHandle,
    /// Whether it is there: the file's obstacles always are; an event's appears when it happens.
    pub present: bool,
    /// The event that places it, if any.
    pub event: Option<usize>,
}

/// The ego car's kinematic state, read after a physics step.
#[derive(Debug, Clone, Copy)]
pub struct EgoState {
    /// World position of the centre of mass (y-up).
    pub position: [f32; 3],
    /// World rotation as a quaternion (x, y, z, w).
    pub rotation: [f32; 4],
    /// Heading on the road plane (radians, counter-clockwise from +x).
    pub yaw: f32,
    /// Velocity along the car's forward axis (m/s).
    pub speed: f32,
    /// Where the car is on the road (on a network: on the road or connector it is driving).
    pub road: RoadPoint,
    /// Metres along the route from the start of its first road (on a single road: `road.s`).
    pub route_s: f32,
    /// Distance from the centre line to the nearest centre-line point (≥ |d|; larger past an end).
    pub off_centre_line: f32,
    /// The world's up axis in the car's frame: 1 upright, 0 on its side, negative upside down.
    pub uprightness: f32,
    /// Current front-wheel angle (radians).
    pub steer_angle: f32,
    /// Whether every number above is finite.
    pub finite: bool,
}

/// What a physics step touched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Contacts {
    pub obstacle: bool,
    pub npc: bool,
}

/// Where the ego is along its route: which road or connector, and how far the route has come
/// before it.
#[derive(Debug, Clone, Copy)]
struct Track {
    /// Index into the route of the carriageway the ego is on, or last left.
    leg: usize,
    edge: Edge,
    /// Route metres before the start of `edge`.
    base: f32,
}

/// How far over the centre line of a two-way road the ego's centre may stray before it counts as
/// driving the wrong way (m): a wheel over the line is not, half the car in the oncoming lane is.
pub const WRONG_WAY_MARGIN: f32 = 0.5;

/// A car this close to a junction's line, its light not green, is waiting for it, not stuck (m).
pub const WAITING_DISTANCE: f32 = 60.0;

/// One environment's world.
pub struct World {
    network: Arc<Network>,
    /// The carriageways the ego drives, in order (a single road: that road).
    route: Vec<usize>,
    track: Track,
    physics: PhysicsWorld,
    ego: EgoVehicle,
    ego_length: f32,
    obstacles: Vec<PlacedObstacle>,
    traffic: Traffic,
    /// NPCs on a network (a single road's are `traffic`).
    network_traffic: Option<NetworkTraffic>,
    /// The ego's road position, refreshed every physics step (NPCs follow it).
    ego_road: RoadPoint,
    /// The ego's arc length one physics step ago (position triggers look for crossings).
    last_ego_s: f32,
    /// The scenario's scripted events and their state this episode.
    events: Vec<Event>,
    clock: EventClock,
    /// Whether the ego entered a junction against a red light in the last physics step.
    ran_red_light: bool,
}

impl World {
    /// Builds the world for one episode; a `Random` route, spawn jitter and traffic are drawn
    /// from `rng`.
    pub fn new(scenario: &Scenario, network: Arc<Network>, rng: &mut impl Rng) -> Self {
        let mut physics = PhysicsWorld::new();
        physics.integration_parameters.dt = scenario.episode.dt;
        let route = network
            .route(scenario.ego.route.as_ref(), rng)
            .expect("a validated scenario's route can be driven");
        let road = &network.carriageways[route[0]].geometry;

        // The ground: one large flat box, its top at y = 0, under the roads and a margin of grass.
        let [x0, y0, x1, y1] = network.bounds();
        let margin = 100.0;
        let centre = plane_to_world(0.5 * (x0 + x1), 0.5 * (y0 + y1), -0.5);
        physics.insert_collider(
            ColliderBuilder::cuboid(0.5 * (x1 - x0) + margin, 0.5, 0.5 * (y1 - y0) + margin)
                .translation(Vector::from(centre))
                .collision_groups(InteractionGroups::new(
                    groups::GROUND,
                    groups::EGO,
                    InteractionTestMode::And,
                ))
                .build(),
            None,
        );

        // The file's obstacles, then each event's, absent (their colliders off) until it happens.
        let obstacles = scenario
            .obstacles
            .iter()
            .map(|o| (None, o))
            .chain(crate::events::event_obstacles(&scenario.events).map(|(i, o)| (Some(i), o)))
            .map(|(event, o)| {
                // On a network the obstacle names its road; events' obstacles only stand on a single road.
                let on = o
                    .road
                    .as_deref()
                    .and_then(|name| network.obstacle_carriageway(scenario.ego.route.as_ref(), name))
                    .unwrap_or(route[0]);
                place_obstacle(
                    &mut physics,
                    &network.carriageways[on].geometry,
                    Edge::Carriageway(on),
                    o,
                    event,
                )
            })
            .collect();

        let spawn = &scenario.ego.spawn;
        let jitter = |rng: &mut dyn rand::RngCore, amount: f32| {
            if amount > 0.0 { rng.random_range(-amount..=amount) } else { 0.0 }
        };
        let s = road.wrap_s(spawn.s + jitter(rng, spawn.s_jitter));
        let d = road.lane_centre(spawn.lane) + jitter(rng, spawn.offset_jitter);
        let mut pose = road.pose(s, d);
        pose.heading = wrap_angle(pose.heading + jitter(rng, spawn.heading_jitter.to_radians()));
        let vehicle = &scenario.ego.vehicle;
        let friction = scenario.network.as_ref().map_or(scenario.road.friction, |n| n.friction);
        let ego = EgoVehicle::spawn(&mut physics, vehicle, pose, scenario.ego.start_speed, friction);

        let ego_road = road.project(pose.x, pose.y);
        let (traffic, network_traffic) = if network.is_single_road() {
            (Traffic::spawn(&mut physics, road, &scenario.traffic, s, rng), None)
        } else {
            let none = crate::scenario::Traffic { count: 0, ..scenario.traffic.clone() };
            let ego = EgoOnNetwork {
                edge: Edge::Carriageway(route[0]),
                s: ego_road.s,
                d: ego_road.d,
                speed: scenario.ego.start_speed,
                length: vehicle.length,
            };
            let npcs = NetworkTraffic::spawn(&mut physics, &network, &scenario.traffic, ego, rng);
            (Traffic::spawn(&mut physics, road, &none, s, rng), Some(npcs))
        };
        let events = scenario.events.clone();
        let clock = EventClock::new(&events, scenario.episode.dt, &network.names);
        let track = Track { leg: 0, edge: Edge::Carriageway(route[0]), base: 0.0 };
        Self {
            network,
            route,
            track,
            physics,
            ego,
            ego_length: vehicle.length,
            obstacles,
            traffic,
            network_traffic,
            ego_road,
            last_ego_s: ego_road.s,
            events,
            clock,
            ran_red_light: false,
        }
    }

    /// Advances the world by one physics step under `control`; reports what the ego car touched.
    pub fn step(&mut self, control: Control) -> Contacts {
        let dt = self.physics.integration_parameters.dt;
        let last_s = self.ego_road.s;
        // Once every event has happened there is nothing left to check, step after step.
        if self.clock.happened().count_ones() < self.events.len() as u32 {
            self.run_events();
        }
        if !self.traffic.npcs.is_empty() {
            let speed = self.physics.bodies[self.ego.body].linvel().length();
            let ego = RoadUser { s: self.ego_road.s, d: self.ego_road.d, speed, length: self.ego_length };
            let road = &self.network.carriageways[self.route[0]].geometry;
            self.traffic.step(&mut self.physics, road, ego, dt);
        }
        if let Some(traffic) = self.network_traffic.as_mut() {
            let ego = EgoOnNetwork {
                edge: self.track.edge,
                s: self.ego_road.s,
                d: self.ego_road.d,
                speed: self.physics.bodies[self.ego.body].linvel().length(),
                length: self.ego_length,
            };
            traffic.step(&mut self.physics, &self.network, ego, self.clock.time(), dt);
        }
        self.ran_red_light = false;
        self.ego.drive(control, &mut self.physics);
        self.physics.step();
        let (x, y) = world_to_plane(self.physics.bodies[self.ego.body].translation().to_array());
        if x.is_finite() && y.is_finite() {
            self.locate(x, y);
        }
        self.last_ego_s = last_s;
        self.clock.tick();
        self.contacts()
    }

    /// Finds the ego at plane point (x, y) on its route: on the road or connector it was on, or,
    /// once past that one's end, on the next (a connector from the lane nearest the car).
    fn locate(&mut self, x: f32, y: f32) {
        let mut point = self.edge().project(x, y);
        while !self.network.is_single_road() && point.s >= self.edge().length() - 1e-3 {
            let Some(next) = self.next_edge(point) else { break };
            self.track.base += self.edge().length();
            match next {
                Edge::Carriageway(_) => self.track.leg += 1,
                Edge::Connector(k) => {
                    let light = self.network.light(k, self.clock.time());
                    self.ran_red_light |= light == Some(Light::Red);
                }
            }
            self.track.edge = next;
            point = self.edge().project(x, y);
        }
        self.ego_road = point;
    }

    /// The edge after the current one along the route, for a car at `point` on the current one:
    /// from a road, the connector toward the next road from the lane nearest the car.
    fn next_edge(&self, point: RoadPoint) -> Option<Edge> {
        let next = *self.route.get(self.track.leg + 1)?;
        match self.track.edge {
            Edge::Connector(_) => Some(Edge::Carriageway(next)),
            Edge::Carriageway(here) => {
                let road = self.edge();
                let away = |k: &usize| {
                    (road.lane_centre(self.network.connectors[*k].connector.from.lane) - point.d).abs()
                };
                self.network
                    .leaving(here)
                    .iter()
                    .filter(|&&k| self.network.connectors[k].connector.to.road == next)
                    .min_by(|a, b| away(a).total_cmp(&away(b)))
                    .map(|&k| Edge::Connector(k))
            }
        }
    }

    /// Which road or connector the ego is on.
    pub fn on(&self) -> Edge {
        self.track.edge
    }

    /// The road or connector the ego is on: its frame is the ego's (s, d).
    pub fn edge(&self) -> &RoadGeometry {
        self.network.geometry(self.track.edge)
    }

    /// The road the route starts on (a single road: the road): obstacles, traffic and events lie
    /// along it.
    pub fn road(&self) -> &RoadGeometry {
        &self.network.carriageways[self.route[0]].geometry
    }

    pub fn network(&self) -> &Network {
        &self.network
    }

    /// The carriageways of the ego's route this episode.
    pub fn route(&self) -> &[usize] {
        &self.route
    }

    /// Signed curvature of the ego's way `ahead` metres past where it is (on a network it looks
    /// into the next road or connector).
    pub fn curvature_ahead(&self, ahead: f32) -> f32 {
        let (road, s) = (self.edge(), self.ego_road.s + ahead);
        if self.network.is_single_road() || s < road.length() {
            return road.curvature(s);
        }
        let end = RoadPoint { s: road.length(), ..self.ego_road };
        match self.next_edge(end) {
            Some(next) => self.network.geometry(next).curvature(s - road.length()),
            None => road.curvature(s),
        }
    }

    /// Metres gained along the route from `from` to `to` (route positions; on a loop the short
    /// way round).
    pub fn route_delta(&self, from: f32, to: f32) -> f32 {
        if self.network.is_single_road() { self.road().delta_s(from, to) } else { to - from }
    }

    /// Whether the ego's centre is off every road, shoulder and connector.
    pub fn off_road(&self, ego: &EgoState) -> bool {
        if self.network.is_single_road() {
            return ego.off_centre_line > self.road().drivable_half_width();
        }
        let (x, y) = world_to_plane(ego.position);
        !self.network.on_road(x, y)
    }

    /// Whether the ego's centre is in the lanes of the other direction of the two-way road it
    /// drives, more than [`WRONG_WAY_MARGIN`] over the centre line.
    pub fn wrong_way(&self, ego: &EgoState) -> bool {
        let Edge::Carriageway(here) = self.track.edge else { return false };
        let Some(other) = self.network.opposite(here) else { return false };
        let (x, y) = world_to_plane(ego.position);
        let road = &self.network.carriageways[other].geometry;
        let point = road.project(x, y);
        point.s > 0.0 && point.s < road.length() && point.d.abs() < road.half_width() - WRONG_WAY_MARGIN
    }

    /// Whether the ego entered a junction against a red light in the last physics step.
    pub fn ran_red_light(&self) -> bool {
        self.ran_red_light
    }

    /// The light the ego's lane shows where its road ends, and the metres to that line: `None`
    /// on a connector, or where the junction ahead has no lights.
    pub fn light_ahead(&self) -> Option<(Light, f32)> {
        let Edge::Carriageway(_) = self.track.edge else { return None };
        let end = RoadPoint { s: self.edge().length(), ..self.ego_road };
        let Some(Edge::Connector(k)) = self.next_edge(end) else { return None };
        let light = self.network.light(k, self.clock.time())?;
        Some((light, self.edge().length() - self.ego_road.s))
    }

    /// Whether the ego is on a road whose lane ends at a junction showing amber or red, at most
    /// [`WAITING_DISTANCE`] short of its line (it, or the queue it stands in, waits for green).
    pub fn waiting_for_light(&self) -> bool {
        self.light_ahead()
            .is_some_and(|(light, to_line)| light != Light::Green && to_line <= WAITING_DISTANCE)
    }

    /// Whether the ego has reached the end of its route's last road (`Success::RoadEnd`).
    pub fn at_route_end(&self, ego: &EgoState) -> bool {
        let last = self.track.leg + 1 == self.route.len() && matches!(self.track.edge, Edge::Carriageway(_));
        last && ego.road.s >= self.edge().length() - 0.5
    }

    /// Checks the events' triggers against the state this step starts with and carries out the
    /// actions that are due.
    fn run_events(&mut self) {
        let ego = EgoOnRoad {
            road: match self.track.edge {
                Edge::Carriageway(c) => Some(self.network.carriageways[c].road),
                Edge::Connector(_) => None,
            },
            s: self.ego_road.s,
            last_s: self.last_ego_s,
            speed: self.physics.bodies[self.ego.body].linvel().length(),
            length: self.ego_length,
        };
        let npcs: Vec<NpcOnRoad> = self
            .traffic
            .npcs
            .iter()
            .map(|n| NpcOnRoad { s: n.s, speed: n.speed, length: NPC_SIZE[0], active: n.active })
            .collect();
        let due =
            self.clock.due(&self.events, &self.network.carriageways[self.route[0]].geometry, ego, &npcs);
        if due == 0 {
            return;
        }
        for (i, event) in self.events.iter().enumerate() {
            if due & (1 << i) == 0 {
                continue;
            }
            for action in &event.then {
                match *action {
                    EventAction::CutIn { npc, duration } => {
                        let road = &self.network.carriageways[self.route[0]].geometry;
                        let lane = road.nearest_lane(self.ego_road.d);
                        self.traffic.cut_in(road, npc as usize, lane, duration);
                    }
                    EventAction::Brake { npc, decel, to_speed } => {
                        self.traffic.brake(npc as usize, decel, to_speed)
                    }
                    EventAction::Stop { npc } => self.traffic.stop(npc as usize),
                    // Look and target speed are read from `events_happened` by those who need them.
                    EventAction::Obstacle(_) | EventAction::Look(_) | EventAction::TargetSpeed { .. } => {}
                }
            }
        }
        for obstacle in self.obstacles.iter_mut() {
            if obstacle.event.is_some_and(|i| due & (1 << i) != 0) {
                obstacle.present = true;
                self.physics.colliders[obstacle.collider].set_enabled(true);
            }
        }
    }

    /// The scenario's events whose actions have happened this episode (bit i: event i).
    pub fn events_happened(&self) -> EventMask {
        self.clock.happened()
    }

    /// Seconds since the episode started.
    pub fn time(&self) -> f32 {
        self.clock.time()
    }

    /// The reward's target speed as the events have set it, if one has.
    pub fn target_speed(&self) -> Option<f32> {
        crate::events::target_speed(&self.events, self.clock.happened())
    }

    /// Whether the ego chassis is touching an obstacle or an NPC right now.
    fn contacts(&self) -> Contacts {
        let mut contacts = Contacts::default();
        for pair in self.physics.narrow_phase.contact_pairs_with(self.ego.collider) {
            if !pair.has_any_active_contact() {
                continue;
            }
            let other = if pair.collider1 == self.ego.collider { pair.collider2 } else { pair.collider1 };
            let groups = self.physics.colliders[other].collision_groups().memberships;
            contacts.obstacle |= groups.contains(groups::OBSTACLE);
            contacts.npc |= groups.contains(groups::NPC);
        }
        contacts
    }

    /// The ego car's state now.
    pub fn ego_state(&self) -> EgoState {
        let body = &self.physics.bodies[self.ego.body];
        let rotation = *body.rotation();
        let forward = rotation * Vector::X;
        let up = rotation * Vector::Y;
        let position = body.translation().to_array();
        let (x, y) = world_to_plane(position);
        let yaw = (-forward.z).atan2(forward.x);
        let speed = forward.dot(body.linvel());
        let road = self.ego_road;
        let centre = self.edge().centre_pose(road.s);
        let off_centre_line = ((x - centre.x).powi(2) + (y - centre.y).powi(2)).sqrt();
        let finite = position.iter().all(|v| v.is_finite())
            && rotation.is_finite()
            && body.linvel().is_finite()
            && body.angvel().is_finite();
        EgoState {
            position,
            rotation: rotation.to_array(),
            yaw,
            speed,
            road,
            route_s: self.track.base + road.s,
            off_centre_line,
            uprightness: up.y,
            steer_angle: self.ego.steer_angle(),
            finite,
        }
    }

    /// The rapier world, for sensors that query it (the lidar).
    pub(crate) fn physics(&self) -> &PhysicsWorld {
        &self.physics
    }

    /// The ego car's rigid body (sensors leave it out of their ray casts).
    pub(crate) fn ego_body(&self) -> RigidBodyHandle {
        self.ego.body
    }

    pub fn obstacles(&self) -> &[PlacedObstacle] {
        &self.obstacles
    }

    pub fn traffic(&self) -> &Traffic {
        &self.traffic
    }

    /// The NPCs of a network world (`None` on a single road: see [`World::traffic`]).
    pub fn network_traffic(&self) -> Option<&NetworkTraffic> {
        self.network_traffic.as_ref()
    }

    /// World pose (position of its ground centre, rotation xyzw) of NPC `index`; `None` once it
    /// has left an open road.
    pub fn npc_pose(&self, index: usize) -> Option<([f32; 3], [f32; 4])> {
        let body = match &self.network_traffic {
            Some(traffic) => traffic.npcs.get(index).filter(|n| n.active)?.body,
            None => self.traffic.npcs.get(index).filter(|n| n.active)?.body,
        };
        let body = &self.physics.bodies[body];
        Some((body.translation().to_array(), body.rotation().to_array()))
    }

    /// Ego body length (m).
    pub fn ego_length(&self) -> f32 {
        self.ego_length
    }

    /// NPC body size (length, width, height).
    pub fn npc_size(&self) -> [f32; 3] {
        NPC_SIZE
    }

    /// Wheels of the ego car touching the ground.
    pub fn ego_wheels_on_ground(&self) -> usize {
        self.ego.wheels_on_ground()
    }

    /// Moves the ego car to plane pose `pose` at rest (tests and tools: park it somewhere).
    pub fn teleport_ego(&mut self, pose: PlanePose, speed: f32) {
        let rotation = Rotation::from_rotation_y(pose.heading);
        let body = &mut self.physics.bodies[self.ego.body];
        let height = body.translation().y;
        body.set_position(
            Pose::from_parts(Vector::from(plane_to_world(pose.x, pose.y, height)), rotation),
            true,
        );
        body.set_linvel(rotation * Vector::X * speed, true);
        body.set_angvel(Vector::ZERO, true);
        self.ego_road = self.edge().project(pose.x, pose.y);
        self.last_ego_s = self.ego_road.s;
    }

    /// Lifts the ego car 1.5 m and rolls it about its forward axis by `angle` radians
    /// (tests of the flipped guard).
    pub fn roll_ego_for_test(&mut self, angle: f32) {
        let body = &mut self.physics.bodies[self.ego.body];
        let mut pose = *body.position();
        pose.translation.y += 1.5;
        pose.rotation *= Rotation::from_rotation_x(angle);
        body.set_position(pose, true);
    }
}

/// Places obstacle `o` as a fixed collider; an event's obstacle starts absent (collider off).
fn place_obstacle(
    physics: &mut PhysicsWorld,
    road: &RoadGeometry,
    edge: Edge,
    o: &Obstacle,
    event: Option<usize>,
) -> PlacedObstacle {
    let d = o.lane.map_or(0.0, |lane| road.lane_centre(lane)) + o.offset;
    let size = o.size.unwrap_or_else(|| o.kind.default_size());
    let pose = road.pose(o.s, d);
    let collider = physics.insert_collider(
        ColliderBuilder::cuboid(0.5 * size[0], 0.5 * size[2], 0.5 * size[1])
            .position(Pose::from_parts(
                Vector::from(plane_to_world(pose.x, pose.y, 0.5 * size[2])),
                Rotation::from_rotation_y(pose.heading),
            ))
            .collision_groups(InteractionGroups::new(groups::OBSTACLE, groups::EGO, InteractionTestMode::And))
            .enabled(event.is_none())
            .build(),
        None,
    );
    PlacedObstacle { kind: o.kind, edge, s: o.s, d, size, pose, collider, present: event.is_none(), event }
}
