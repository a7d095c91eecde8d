//! The driving world of one environment: a rapier3d physics world holding the ground, the static
//! obstacles, the NPC traffic and the learning cars, stepped one physics step at a time.
//!
//! A world holds one learning car (the ego) or, in a multi-agent scenario, several: car 0 is the
//! ego, which scripted events follow and single-agent tools drive. The `*_of(car, ..)` methods
//! ask about any car; their short forms ask about the ego.

use crate::events::{EgoOnRoad, EventClock, EventMask, NpcOnRoad};
use crate::network::{Edge, Network};
use crate::network_traffic::{EgoOnNetwork, NetworkTraffic};
use crate::road::{PlanePose, RoadGeometry, RoadPoint, plane_to_world, world_to_plane, wrap_angle};
use crate::scenario::{Event, EventAction, Obstacle, ObstacleKind, Scenario, Spawn};
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
    /// Another learning car (multi-agent worlds).
    pub agent: bool,
}

impl Contacts {
    /// Whether anything was touched: a collision.
    pub fn any(self) -> bool {
        self.obstacle || self.npc || self.agent
    }

    /// Both steps' touches.
    pub fn or(self, other: Contacts) -> Contacts {
        Contacts {
            obstacle: self.obstacle || other.obstacle,
            npc: self.npc || other.npc,
            agent: self.agent || other.agent,
        }
    }
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

/// A learning car: its body, its route and where it is along it.
struct Car {
    vehicle: EgoVehicle,
    /// The carriageways it drives, in order (a single road: that road).
    route: Vec<usize>,
    track: Track,
    /// Its road position, refreshed every physics step (NPCs follow it).
    road: RoadPoint,
    /// Its arc length one physics step ago (position triggers look for crossings).
    last_s: f32,
    /// Whether it entered a junction against a red light in the last physics step.
    ran_red_light: bool,
    /// Whether it is in the world: a car whose episode ended may leave it (its body switched off).
    present: bool,
    /// Where it starts (a respawn draws its jitter anew).
    spawn: Spawn,
    start_speed: f32,
}

/// One environment's world.
pub struct World {
    network: Arc<Network>,
    physics: PhysicsWorld,
    /// The learning cars; car 0 is the ego.
    cars: Vec<Car>,
    /// Body length and width of every learning car (they all drive `ego.vehicle`).
    ego_length: f32,
    ego_width: f32,
    obstacles: Vec<PlacedObstacle>,
    traffic: Traffic,
    /// NPCs on a network (a single road's are `traffic`).
    network_traffic: Option<NetworkTraffic>,
    /// The scenario's scripted events and their state this episode.
    events: Vec<Event>,
    clock: EventClock,
}

impl World {
    /// Builds the world for one episode; `Random` routes, spawn jitter and traffic are drawn
    /// from `rng`.
    pub fn new(scenario: &Scenario, network: Arc<Network>, rng: &mut impl Rng) -> Self {
        let mut physics = PhysicsWorld::new();
        physics.integration_parameters.dt = scenario.episode.dt;
        // Each car's route and spawn pose first: drawn in car order, before any body exists.
        let starts: Vec<_> = scenario
            .agent_starts()
            .into_iter()
            .map(|start| {
                let route =
                    network.route(start.route, rng).expect("a validated scenario's route can be driven");
                let (s, pose) = spawn_pose(&network.carriageways[route[0]].geometry, start.spawn, rng);
                (start, route, s, pose)
            })
            .collect();
        let route = &starts[0].1;
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

        let vehicle = &scenario.ego.vehicle;
        let friction = scenario.network.as_ref().map_or(scenario.road.friction, |n| n.friction);
        let cars: Vec<Car> = starts
            .iter()
            .map(|(start, route, _, pose)| {
                let vehicle = EgoVehicle::spawn(&mut physics, vehicle, *pose, start.start_speed, friction);
                let point = network.carriageways[route[0]].geometry.project(pose.x, pose.y);
                Car {
                    vehicle,
                    route: route.clone(),
                    track: Track { leg: 0, edge: Edge::Carriageway(route[0]), base: 0.0 },
                    road: point,
                    last_s: point.s,
                    ran_red_light: false,
                    present: true,
                    spawn: start.spawn.clone(),
                    start_speed: start.start_speed,
                }
            })
            .collect();

        // NPCs are placed ahead of the ego's spawn.
        let ego_s = starts[0].2;
        let (traffic, network_traffic) = if network.is_single_road() {
            (Traffic::spawn(&mut physics, road, &scenario.traffic, ego_s, rng), None)
        } else {
            let none = crate::scenario::Traffic { count: 0, ..scenario.traffic.clone() };
            let cars_on: Vec<EgoOnNetwork> = cars
                .iter()
                .map(|car| EgoOnNetwork {
                    edge: car.track.edge,
                    s: car.road.s,
                    d: car.road.d,
                    speed: car.start_speed,
                    length: vehicle.length,
                })
                .collect();
            let npcs = NetworkTraffic::spawn(&mut physics, &network, &scenario.traffic, &cars_on, rng);
            (Traffic::spawn(&mut physics, road, &none, ego_s, rng), Some(npcs))
        };
        let events = scenario.events.clone();
        let clock = EventClock::new(&events, scenario.episode.dt, &network.names);
        Self {
            network,
            physics,
            cars,
            ego_length: vehicle.length,
            ego_width: vehicle.width,
            obstacles,
            traffic,
            network_traffic,
            events,
            clock,
        }
    }

    /// Advances the world by one physics step, the ego under `control` (any other cars coast);
    /// reports what the ego touched.
    pub fn step(&mut self, control: Control) -> Contacts {
        let mut touched = [Contacts::default(); 1];
        self.step_cars(&[control], &mut touched);
        touched[0]
    }

    /// Advances the world by one physics step, car i under `controls[i]` (cars past the end of
    /// `controls` coast); `touched[i]` is what car i touched (cars not in the world touch nothing).
    pub fn step_cars(&mut self, controls: &[Control], touched: &mut [Contacts]) {
        let dt = self.physics.integration_parameters.dt;
        // Once every event has happened there is nothing left to check, step after step.
        if self.clock.happened().count_ones() < self.events.len() as u32 {
            self.run_events();
        }
        // The events have read where the cars were a step ago; from here that is where they are.
        for car in self.cars.iter_mut() {
            car.last_s = car.road.s;
        }
        if !self.traffic.npcs.is_empty() {
            let cars: Vec<RoadUser> = self
                .present_cars()
                .map(|car| RoadUser {
                    s: car.road.s,
                    d: car.road.d,
                    speed: self.physics.bodies[car.vehicle.body].linvel().length(),
                    length: self.ego_length,
                })
                .collect();
            let road = &self.network.carriageways[self.cars[0].route[0]].geometry;
            self.traffic.step(&mut self.physics, road, &cars, dt);
        }
        if let Some(traffic) = self.network_traffic.as_mut() {
            let cars: Vec<EgoOnNetwork> = self
                .cars
                .iter()
                .filter(|car| car.present)
                .map(|car| EgoOnNetwork {
                    edge: car.track.edge,
                    s: car.road.s,
                    d: car.road.d,
                    speed: self.physics.bodies[car.vehicle.body].linvel().length(),
                    length: self.ego_length,
                })
                .collect();
            traffic.step(&mut self.physics, &self.network, &cars, self.clock.time(), dt);
        }
        for (i, car) in self.cars.iter_mut().enumerate() {
            car.ran_red_light = false;
            if car.present {
                car.vehicle.drive(controls.get(i).copied().unwrap_or_default(), &mut self.physics);
            }
        }
        self.physics.step();
        for i in 0..self.cars.len() {
            if !self.cars[i].present {
                continue;
            }
            let (x, y) =
                world_to_plane(self.physics.bodies[self.cars[i].vehicle.body].translation().to_array());
            if x.is_finite() && y.is_finite() {
                self.locate(i, x, y);
            }
        }
        self.clock.tick();
        for (i, touched) in touched.iter_mut().enumerate().take(self.cars.len()) {
            *touched = if self.cars[i].present { self.contacts_of(i) } else { Contacts::default() };
        }
    }

    /// The cars in the world (those whose episode ended and left are not).
    fn present_cars(&self) -> impl Iterator<Item = &Car> {
        self.cars.iter().filter(|car| car.present)
    }

    /// Finds car `i` at plane point (x, y) on its route: on the road or connector it was on, or,
    /// once past that one's end, on the next (a connector from the lane nearest the car).
    fn locate(&mut self, i: usize, x: f32, y: f32) {
        let mut point = self.edge_of(i).project(x, y);
        while !self.network.is_single_road() && point.s >= self.edge_of(i).length() - 1e-3 {
            let Some(next) = self.next_edge(i, point) else { break };
            let length = self.edge_of(i).length();
            let car = &mut self.cars[i];
            car.track.base += length;
            match next {
                Edge::Carriageway(_) => car.track.leg += 1,
                Edge::Connector(k) => {
                    let light = self.network.light(k, self.clock.time());
                    car.ran_red_light |= light == Some(Light::Red);
                }
            }
            car.track.edge = next;
            point = self.edge_of(i).project(x, y);
        }
        self.cars[i].road = point;
    }

    /// The edge after car `i`'s current one along its route, for the car at `point` on the
    /// current one: from a road, the connector toward the next road from the lane nearest the car.
    fn next_edge(&self, i: usize, point: RoadPoint) -> Option<Edge> {
        let car = &self.cars[i];
        let next = *car.route.get(car.track.leg + 1)?;
        match car.track.edge {
            Edge::Connector(_) => Some(Edge::Carriageway(next)),
            Edge::Carriageway(here) => {
                let road = self.edge_of(i);
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

    /// How many learning cars the world holds (1 unless the scenario declares `agents`).
    pub fn car_count(&self) -> usize {
        self.cars.len()
    }

    /// Whether car `i` is in the world (a car whose episode ended may have left it).
    pub fn car_present(&self, i: usize) -> bool {
        self.cars[i].present
    }

    /// Takes car `i` out of the world: its body and chassis switched off, nothing meets or sees it.
    pub fn remove_car(&mut self, i: usize) {
        let car = &mut self.cars[i];
        car.present = false;
        self.physics.bodies[car.vehicle.body].set_enabled(false);
        self.physics.colliders[car.vehicle.collider].set_enabled(false);
    }

    /// Starts car `i` again at its spawn, the jitter drawn afresh from `rng`, at its start speed,
    /// on the first road of its route.
    pub fn respawn_car(&mut self, i: usize, rng: &mut impl Rng) {
        let first = self.cars[i].route[0];
        let road = &self.network.carriageways[first].geometry;
        let (_, pose) = spawn_pose(road, &self.cars[i].spawn, rng);
        let point = road.project(pose.x, pose.y);
        let car = &mut self.cars[i];
        car.present = true;
        car.track = Track { leg: 0, edge: Edge::Carriageway(first), base: 0.0 };
        car.road = point;
        car.last_s = point.s;
        car.ran_red_light = false;
        car.vehicle.straighten();
        self.physics.colliders[car.vehicle.collider].set_enabled(true);
        let body = &mut self.physics.bodies[car.vehicle.body];
        body.set_enabled(true);
        let rotation = Rotation::from_rotation_y(pose.heading);
        body.set_position(
            Pose::from_parts(
                Vector::from(plane_to_world(pose.x, pose.y, crate::vehicle::RIDE_HEIGHT)),
                rotation,
            ),
            true,
        );
        body.set_linvel(rotation * Vector::X * car.start_speed, true);
        body.set_angvel(Vector::ZERO, true);
    }

    /// Which road or connector the ego is on.
    pub fn on(&self) -> Edge {
        self.on_of(0)
    }

    /// Which road or connector car `i` is on.
    pub fn on_of(&self, i: usize) -> Edge {
        self.cars[i].track.edge
    }

    /// The road or connector the ego is on: its frame is the ego's (s, d).
    pub fn edge(&self) -> &RoadGeometry {
        self.edge_of(0)
    }

    /// The road or connector car `i` is on: its frame is the car's (s, d).
    pub fn edge_of(&self, i: usize) -> &RoadGeometry {
        self.network.geometry(self.cars[i].track.edge)
    }

    /// The road the ego's route starts on (a single road: the road): obstacles, traffic and
    /// events lie along it.
    pub fn road(&self) -> &RoadGeometry {
        &self.network.carriageways[self.cars[0].route[0]].geometry
    }

    pub fn network(&self) -> &Network {
        &self.network
    }

    /// The carriageways of the ego's route this episode.
    pub fn route(&self) -> &[usize] {
        &self.cars[0].route
    }

    /// Signed curvature of the ego's way `ahead` metres past where it is.
    pub fn curvature_ahead(&self, ahead: f32) -> f32 {
        self.curvature_ahead_of(0, ahead)
    }

    /// Signed curvature of car `i`'s way `ahead` metres past where it is (on a network it looks
    /// into the next road or connector).
    pub fn curvature_ahead_of(&self, i: usize, ahead: f32) -> f32 {
        let here = self.cars[i].road;
        let (road, s) = (self.edge_of(i), here.s + ahead);
        if self.network.is_single_road() || s < road.length() {
            return road.curvature(s);
        }
        let end = RoadPoint { s: road.length(), ..here };
        match self.next_edge(i, end) {
            Some(next) => self.network.geometry(next).curvature(s - road.length()),
            None => road.curvature(s),
        }
    }

    /// Metres gained along the route from `from` to `to` (route positions; on a loop the short
    /// way round).
    pub fn route_delta(&self, from: f32, to: f32) -> f32 {
        if self.network.is_single_road() { self.road().delta_s(from, to) } else { to - from }
    }

    /// Whether a car's centre is off every road, shoulder and connector.
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
        self.wrong_way_of(0, ego)
    }

    /// [`World::wrong_way`] for car `i` in state `state`.
    pub fn wrong_way_of(&self, i: usize, state: &EgoState) -> bool {
        let Edge::Carriageway(here) = self.cars[i].track.edge else { return false };
        let Some(other) = self.network.opposite(here) else { return false };
        let (x, y) = world_to_plane(state.position);
        let road = &self.network.carriageways[other].geometry;
        let point = road.project(x, y);
        point.s > 0.0 && point.s < road.length() && point.d.abs() < road.half_width() - WRONG_WAY_MARGIN
    }

    /// Whether the ego entered a junction against a red light in the last physics step.
    pub fn ran_red_light(&self) -> bool {
        self.ran_red_light_of(0)
    }

    /// Whether car `i` entered a junction against a red light in the last physics step.
    pub fn ran_red_light_of(&self, i: usize) -> bool {
        self.cars[i].ran_red_light
    }

    /// The light the ego's lane shows where its road ends, and the metres to that line: `None`
    /// on a connector, or where the junction ahead has no lights.
    pub fn light_ahead(&self) -> Option<(Light, f32)> {
        self.light_ahead_of(0)
    }

    /// [`World::light_ahead`] for car `i`.
    pub fn light_ahead_of(&self, i: usize) -> Option<(Light, f32)> {
        let Edge::Carriageway(_) = self.cars[i].track.edge else { return None };
        let here = self.cars[i].road;
        let length = self.edge_of(i).length();
        let end = RoadPoint { s: length, ..here };
        let Some(Edge::Connector(k)) = self.next_edge(i, end) else { return None };
        let light = self.network.light(k, self.clock.time())?;
        Some((light, length - here.s))
    }

    /// Whether the ego is on a road whose lane ends at a junction showing amber or red, at most
    /// [`WAITING_DISTANCE`] short of its line (it, or the queue it stands in, waits for green).
    pub fn waiting_for_light(&self) -> bool {
        self.waiting_for_light_of(0)
    }

    /// [`World::waiting_for_light`] for car `i`.
    pub fn waiting_for_light_of(&self, i: usize) -> bool {
        self.light_ahead_of(i)
            .is_some_and(|(light, to_line)| light != Light::Green && to_line <= WAITING_DISTANCE)
    }

    /// Whether the ego has reached the end of its route's last road (`Success::RoadEnd`).
    pub fn at_route_end(&self, ego: &EgoState) -> bool {
        self.at_route_end_of(0, ego)
    }

    /// Whether car `i`, in state `state`, has reached the end of its route's last road.
    pub fn at_route_end_of(&self, i: usize, state: &EgoState) -> bool {
        let car = &self.cars[i];
        let last = car.track.leg + 1 == car.route.len() && matches!(car.track.edge, Edge::Carriageway(_));
        last && state.road.s >= self.edge_of(i).length() - 0.5
    }

    /// Checks the events' triggers against the state this step starts with and carries out the
    /// actions that are due.
    fn run_events(&mut self) {
        let car = &self.cars[0];
        let ego = EgoOnRoad {
            road: match car.track.edge {
                Edge::Carriageway(c) => Some(self.network.carriageways[c].road),
                Edge::Connector(_) => None,
            },
            s: car.road.s,
            last_s: car.last_s,
            speed: self.physics.bodies[car.vehicle.body].linvel().length(),
            length: self.ego_length,
        };
        let npcs: Vec<NpcOnRoad> = self
            .traffic
            .npcs
            .iter()
            .map(|n| NpcOnRoad { s: n.s, speed: n.speed, length: NPC_SIZE[0], active: n.active })
            .collect();
        let road = &self.network.carriageways[self.cars[0].route[0]].geometry;
        let due = self.clock.due(&self.events, road, ego, &npcs);
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
                        let road = &self.network.carriageways[self.cars[0].route[0]].geometry;
                        let lane = road.nearest_lane(self.cars[0].road.d);
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

    /// What car `i`'s chassis is touching right now.
    fn contacts_of(&self, i: usize) -> Contacts {
        let mut contacts = Contacts::default();
        let own = self.cars[i].vehicle.collider;
        for pair in self.physics.narrow_phase.contact_pairs_with(own) {
            if !pair.has_any_active_contact() {
                continue;
            }
            let other = if pair.collider1 == own { pair.collider2 } else { pair.collider1 };
            let groups = self.physics.colliders[other].collision_groups().memberships;
            contacts.obstacle |= groups.contains(groups::OBSTACLE);
            contacts.npc |= groups.contains(groups::NPC);
            contacts.agent |= groups.contains(groups::EGO);
        }
        contacts
    }

    /// The ego car's state now.
    pub fn ego_state(&self) -> EgoState {
        self.car_state(0)
    }

    /// Car `i`'s state now (a car that left the world: where it was when it left).
    pub fn car_state(&self, i: usize) -> EgoState {
        let car = &self.cars[i];
        let body = &self.physics.bodies[car.vehicle.body];
        let rotation = *body.rotation();
        let forward = rotation * Vector::X;
        let up = rotation * Vector::Y;
        let position = body.translation().to_array();
        let (x, y) = world_to_plane(position);
        let yaw = (-forward.z).atan2(forward.x);
        let speed = forward.dot(body.linvel());
        let road = car.road;
        let centre = self.edge_of(i).centre_pose(road.s);
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
            route_s: car.track.base + road.s,
            off_centre_line,
            uprightness: up.y,
            steer_angle: car.vehicle.steer_angle(),
            finite,
        }
    }

    /// World pose (centre of mass, rotation xyzw) of car `i`; `None` while it is out of the world.
    pub fn car_pose(&self, i: usize) -> Option<([f32; 3], [f32; 4])> {
        let car = self.cars.get(i).filter(|car| car.present)?;
        let body = &self.physics.bodies[car.vehicle.body];
        Some((body.translation().to_array(), body.rotation().to_array()))
    }

    /// Car `i`'s place on the road it drives: the road or connector, and (s, d) on it.
    pub fn car_road(&self, i: usize) -> (Edge, RoadPoint) {
        (self.cars[i].track.edge, self.cars[i].road)
    }

    /// The rapier world, for sensors that query it (the lidar).
    pub(crate) fn physics(&self) -> &PhysicsWorld {
        &self.physics
    }

    /// Car `i`'s rigid body (its sensors leave it out of their ray casts).
    pub(crate) fn car_body(&self, i: usize) -> RigidBodyHandle {
        self.cars[i].vehicle.body
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

    /// Ego body width (m).
    pub fn ego_width(&self) -> f32 {
        self.ego_width
    }

    /// NPC body size (length, width, height).
    pub fn npc_size(&self) -> [f32; 3] {
        NPC_SIZE
    }

    /// Wheels of the ego car touching the ground.
    pub fn ego_wheels_on_ground(&self) -> usize {
        self.cars[0].vehicle.wheels_on_ground()
    }

    /// Moves the ego car to plane pose `pose` at rest (tests and tools: park it somewhere).
    pub fn teleport_ego(&mut self, pose: PlanePose, speed: f32) {
        let rotation = Rotation::from_rotation_y(pose.heading);
        let body = &mut self.physics.bodies[self.cars[0].vehicle.body];
        let height = body.translation().y;
        body.set_position(
            Pose::from_parts(Vector::from(plane_to_world(pose.x, pose.y, height)), rotation),
            true,
        );
        body.set_linvel(rotation * Vector::X * speed, true);
        body.set_angvel(Vector::ZERO, true);
        let point = self.edge().project(pose.x, pose.y);
        self.cars[0].road = point;
        self.cars[0].last_s = point.s;
    }

    /// Lifts the ego car 1.5 m and rolls it about its forward axis by `angle` radians
    /// (tests of the flipped guard).
    pub fn roll_ego_for_test(&mut self, angle: f32) {
        let body = &mut self.physics.bodies[self.cars[0].vehicle.body];
        let mut pose = *body.position();
        pose.translation.y += 1.5;
        pose.rotation *= Rotation::from_rotation_x(angle);
        body.set_position(pose, true);
    }
}

/// Where a car spawned at `spawn` starts on `road`: its arc length and its plane pose, the
/// jitter drawn from `rng` (along, across, then heading).
fn spawn_pose(road: &RoadGeometry, spawn: &Spawn, rng: &mut impl Rng) -> (f32, PlanePose) {
    let mut jitter = |amount: f32| if amount > 0.0 { rng.random_range(-amount..=amount) } else { 0.0 };
    let s = road.wrap_s(spawn.s + jitter(spawn.s_jitter));
    let d = road.lane_centre(spawn.lane) + jitter(spawn.offset_jitter);
    let mut pose = road.pose(s, d);
    pose.heading = wrap_angle(pose.heading + jitter(spawn.heading_jitter.to_radians()));
    (s, pose)
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
