//! The scenario file format: every field a user can write, with its default.
//!
//! Units: metres, seconds, kilograms, newtons; angles in a file are in degrees (the code converts).
//! Coordinates: the road lies on the ground plane; `s` is the arc length along the road's centre
//! line from its start, `d` the lateral offset from that centre line, positive to the left.
//! Lanes are numbered from the right: lane 0 is the rightmost lane.
//!
//! Every struct rejects unknown fields (a typo must not be silently ignored) and fills what is
//! missing from its `Default`, so a small file is a valid file.

use serde::{Deserialize, Serialize};

/// The whole task: world, ego car, camera, actions, reward and episode rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Scenario {
    /// A short name, used in run directories and logs.
    /// Allowed: not empty, at most 100 characters, no `/`, `\` or control characters.
    pub name: String,
    /// Base seed: episode randomisation (spawn jitter, traffic, look) is drawn from it.
    pub seed: u64,
    /// The world as one road. A scenario gives either `road` or `network`, not both.
    pub road: Road,
    /// The world as a road network: roads placed on the plane, joined at junctions. Without one
    /// the world is `road` alone, a one-road network.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network: Option<Network>,
    pub ego: Ego,
    /// Static obstacles placed by road coordinates.
    /// Allowed: at most 10 000.
    pub obstacles: Vec<Obstacle>,
    pub traffic: Traffic,
    pub actions: Actions,
    pub camera: Camera,
    /// A lidar on the car: a range image of rapier ray casts each step, beside the camera.
    /// Without one the env casts no rays (`observation="lidar"` in Python adds the default one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lidar: Option<Lidar>,
    /// An object list: the nearest vehicles and obstacles, each as its position, velocity and
    /// heading in the car's frame (highway-env's "Kinematics" observation). Without one the env
    /// lists nothing (`--perception vehicles` adds the default one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vehicles: Option<VehicleList>,
    pub reward: Reward,
    pub episode: Episode,
    pub look: Look,
    /// Scripted events: traffic that cuts in or brakes, obstacles that appear, light that changes.
    /// (Left out of the written form when empty, so files written before events existed — a
    /// run's scenario.ron, a dataset's manifest — read back as the same text.)
    /// Allowed: at most 64, with unique names.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<Event>,
    /// Several learning cars in one world (multi-agent): each with its own spawn, and optionally
    /// its own route, start speed and reward. All drive `ego.vehicle` and see through `camera`.
    /// Empty (the default): one learning car, the ego. Left out of the written form when empty.
    /// Allowed: 2 to 64 agents when given, spawns on the road and not overlapping.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub agents: Vec<Agent>,
}

impl Default for Scenario {
    fn default() -> Self {
        Self {
            name: "unnamed".into(),
            seed: 0,
            road: Road::default(),
            network: None,
            ego: Ego::default(),
            obstacles: Vec::new(),
            traffic: Traffic::default(),
            actions: Actions::default(),
            camera: Camera::default(),
            lidar: None,
            vehicles: None,
            reward: Reward::default(),
            episode: Episode::default(),
            look: Look::default(),
            events: Vec::new(),
            agents: Vec::new(),
        }
    }
}

/// One learning car of a multi-agent scenario.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Agent {
    /// On a network: this car's roads (absent: the ego's route).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub route: Option<Route>,
    /// Where it starts (checked like `ego.spawn`).
    pub spawn: Spawn,
    /// Forward speed at the start (m/s); absent: `ego.start_speed`.
    /// Allowed: [0, 100].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_speed: Option<f32>,
    /// This car's reward weights, whole (fields it leaves out take the defaults, not the
    /// scenario's `reward`); absent: the scenario's `reward`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reward: Option<Reward>,
    /// Where this car's camera sits and looks, whole (fields it leaves out take the defaults);
    /// absent: as the scenario's `camera`. The frame's size and format are `camera`'s: every
    /// car's camera is a tile of one render pass.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub camera: Option<CameraView>,
}

/// Where a car's camera sits and how it looks: `camera`'s fields but the frame's size and format.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CameraView {
    /// Vertical field of view (degrees).
    /// Allowed: (10, 170).
    pub fov: f32,
    /// Mount position relative to the car's centre on the ground.
    /// Allowed: each in [-20, 20].
    pub mount: Mount,
    /// Pitch (degrees, negative looks down).
    /// Allowed: [-89, 89].
    pub pitch: f32,
}

impl Default for CameraView {
    fn default() -> Self {
        let camera = Camera::default();
        Self { fov: camera.fov, mount: camera.mount, pitch: camera.pitch }
    }
}

/// The road: a chain of segments starting at the origin heading along +x.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Road {
    /// Segments, laid end to end.
    /// Allowed: 1 to 10 000; total ≤ 100 km.
    pub segments: Vec<Segment>,
    /// Number of lanes (1..=8), all in one direction of travel.
    /// Allowed: 1 to 8.
    pub lanes: u32,
    /// Width of each lane (m).
    /// Allowed: (0, 10].
    pub lane_width: f32,
    /// Paved shoulder beyond the outer lane edges (m). Driving on it is allowed; beyond it is off-road.
    /// Allowed: [0, 50].
    pub shoulder: f32,
    /// Whether the road is a loop: its last segment must end where the first starts.
    pub closed: bool,
    /// Tyre grip multiplier on the road (1.0 = dry asphalt).
    /// Allowed: (0, 3].
    pub friction: f32,
    /// How lanes are marked.
    /// Allowed: `Standard`, `Solid`, `None`.
    pub markings: Markings,
}

impl Default for Road {
    fn default() -> Self {
        Self {
            segments: vec![Segment::Straight { length: 300.0 }],
            lanes: 2,
            lane_width: 3.5,
            shoulder: 1.0,
            closed: false,
            friction: 1.0,
            markings: Markings::Standard,
        }
    }
}

/// One piece of the road's centre line.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum Segment {
    /// A straight piece of `length` metres, in (0, 100 000].
    Straight { length: f32 },
    /// A circular arc of `radius` metres (measured at the centre line) turning by `angle` degrees:
    /// positive turns left, negative turns right. `radius` must exceed half the road's width
    /// (lanes plus shoulders), else the inner edge folds; `angle` is not 0 and at most 360 either
    /// way.
    Arc { radius: f32, angle: f32 },
}

/// Lane markings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Markings {
    /// Dashed lines between lanes, solid lines at the edges.
    Standard,
    /// Solid lines everywhere.
    Solid,
    /// No markings.
    None,
}

/// A road network: roads, each laid from its own start, joined at junctions by lane-to-lane
/// connections. The ego car drives `ego.route` through it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Network {
    /// The roads.
    /// Allowed: 1 to 256, with unique names; no two may overlap except where a junction joins them.
    pub roads: Vec<NetworkRoad>,
    /// Where roads meet: which lane's end leads to which lane's start.
    /// Allowed: at most 256, with unique names.
    pub junctions: Vec<Junction>,
    /// Tyre grip multiplier on every road (1.0 = dry asphalt).
    /// Allowed: (0, 3].
    pub friction: f32,
    /// How lanes are marked on every road.
    /// Allowed: `Standard`, `Solid`, `None`.
    pub markings: Markings,
}

impl Default for Network {
    fn default() -> Self {
        Self { roads: Vec::new(), junctions: Vec::new(), friction: 1.0, markings: Markings::Standard }
    }
}

/// One road of a network: a chain of segments laid from `start`. A one-way road's lanes lie
/// either side of its centre line, as `road`'s do; a two-way road's centre line divides its
/// `lanes` (to the right, driving along it) from its `lanes_back` (to the left, driving the
/// other way).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NetworkRoad {
    /// What junctions and routes call it.
    /// Allowed: 1 to 40 letters, digits, `_` or `-`, unique in the network.
    pub name: String,
    /// Where its centre line starts, and the way it heads.
    pub start: Place,
    /// Segments, laid end to end from `start`.
    /// Allowed: 1 to 10 000; total ≤ 100 km.
    pub segments: Vec<Segment>,
    /// Lanes along the road's direction (lane 0 is the rightmost).
    /// Allowed: 1 to 8.
    pub lanes: u32,
    /// Lanes the other way, left of the centre line (0: a one-way road).
    /// Allowed: 0 to 8.
    pub lanes_back: u32,
    /// Width of each lane (m).
    /// Allowed: (0, 10].
    pub lane_width: f32,
    /// Paved shoulder beyond the outer lane edges (m).
    /// Allowed: [0, 50].
    pub shoulder: f32,
}

impl Default for NetworkRoad {
    fn default() -> Self {
        Self {
            name: String::new(),
            start: Place::default(),
            segments: vec![Segment::Straight { length: 100.0 }],
            lanes: 1,
            lanes_back: 0,
            lane_width: 3.5,
            shoulder: 1.0,
        }
    }
}

/// A point on the ground plane with a heading.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Place {
    /// East (m).
    /// Allowed: within ±100 000.
    pub x: f32,
    /// North (m).
    /// Allowed: within ±100 000.
    pub y: f32,
    /// Degrees counter-clockwise from east (+x).
    /// Allowed: [-360, 360].
    pub heading: f32,
}

/// A junction: the lanes that lead from road ends into road starts, each joined by a smooth
/// connector (two arcs, tangent to both lanes) that cars drive through the junction on.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Junction {
    /// What maps and messages call it.
    /// Allowed: 1 to 40 letters, digits, `_` or `-`, unique in the network.
    pub name: String,
    /// Its connections.
    /// Allowed: 1 to 256, each pair of lanes once.
    pub connect: Vec<Connection>,
    /// Roads with the right of way here: NPCs coming from the others yield to cars coming from
    /// these (a main road, a roundabout's ring). Empty: no road has it, first come first served.
    /// Allowed: names of roads of the network.
    pub priority: Vec<String>,
    /// Traffic lights: phases in turn, each green for the lanes coming in from some roads.
    /// Absent: no lights (priority and first come, first served).
    pub signals: Option<Signals>,
}

/// A junction's traffic lights: a fixed cycle of phases. In each phase the lanes coming in from
/// the phase's `green` roads have green, then amber, then every light is red for `all_red`
/// seconds before the next phase. A car may not enter the junction on red (NPCs stop; the ego's
/// episode ends, `episode.end_on.red_light`); on amber NPCs go on only when they cannot stop.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Signals {
    /// The phases, in the order the cycle runs them.
    /// Allowed: 1 to 16; together they give every road leading into the junction a green.
    pub phases: Vec<Phase>,
    /// Seconds of amber after each phase's green.
    /// Allowed: [0, 10].
    pub amber: f32,
    /// Seconds every light is red after each amber, so the junction clears.
    /// Allowed: [0, 10].
    pub all_red: f32,
    /// Seconds into the cycle at the start of an episode.
    /// Allowed: [0, 3600].
    pub offset: f32,
}

impl Default for Signals {
    fn default() -> Self {
        Self { phases: Vec::new(), amber: 3.0, all_red: 1.0, offset: 0.0 }
    }
}

/// One phase of a junction's lights.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Phase {
    /// The roads whose lanes into the junction have green.
    /// Allowed: 1 or more names of roads that lead into the junction.
    pub green: Vec<String>,
    /// Seconds of green.
    /// Allowed: (0, 600].
    pub time: f32,
}

/// One way through a junction: from where a lane ends to where another starts.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Connection {
    /// The lane whose end the connector leaves.
    pub from: LaneEnd,
    /// The lane whose start it joins.
    pub to: LaneEnd,
}

/// A lane of a network road, in one direction of travel.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LaneEnd {
    /// The road's name.
    pub road: String,
    /// The lane, 0 the rightmost in its direction of travel.
    /// Allowed: < the road's `lanes` (`lanes_back` when `back`).
    pub lane: u32,
    /// A lane of the road's other direction: it starts at the road's end and ends at its start.
    #[serde(default)]
    pub back: bool,
}

/// The ego car's way through a network.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Route {
    /// These roads, in order; each must lead to the next through a junction. The direction on
    /// each road follows from the junctions (a road's own direction where both would do).
    Roads(Vec<String>),
    /// Drawn per episode from the seed: from the road `from`, a connection chosen at random at
    /// each junction, until a road leads nowhere (or 32 roads).
    Random { from: String },
}

/// The car the agent drives.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Ego {
    /// On a network: the roads the ego drives, the first where it spawns. Required there;
    /// without a network the route is the one road.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub route: Option<Route>,
    pub spawn: Spawn,
    /// Forward speed at the start of an episode (m/s).
    /// Allowed: [0, 100].
    pub start_speed: f32,
    pub vehicle: Vehicle,
}

impl Default for Ego {
    fn default() -> Self {
        Self { route: None, spawn: Spawn::default(), start_speed: 0.0, vehicle: Vehicle::default() }
    }
}

/// Where the ego car starts, with per-episode jitter drawn from the seed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Spawn {
    /// Arc length along the road (m); on a network, along the route's first road in the way the
    /// route drives it.
    /// Allowed: [0, length] (loop: [0, length)).
    pub s: f32,
    /// Lane index (0 = rightmost in the direction of travel).
    /// Allowed: < `road.lanes` (on a network: the first road's lanes that way).
    pub lane: u32,
    /// Uniform jitter of `s`, ± metres.
    /// Allowed: [0, 1000].
    pub s_jitter: f32,
    /// Uniform jitter of the lateral position within the lane, ± metres.
    /// Allowed: [0, 10].
    pub offset_jitter: f32,
    /// Uniform jitter of the heading relative to the road, ± degrees.
    /// Allowed: [0, 180].
    pub heading_jitter: f32,
}

impl Default for Spawn {
    fn default() -> Self {
        Self { s: 10.0, lane: 0, s_jitter: 0.0, offset_jitter: 0.0, heading_jitter: 0.0 }
    }
}

/// Physical parameters of the ego car (a raycast-wheel vehicle, front-wheel drive).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Vehicle {
    /// Mass (kg).
    /// Allowed: (0, 100 000].
    pub mass: f32,
    /// Peak engine force at the wheels (N), at full throttle and low speed.
    /// Allowed: (0, 10⁶].
    pub engine_force: f32,
    /// Engine power (kW): the force falls off as power / speed at higher speeds.
    /// Allowed: (0, 10 000].
    pub engine_power: f32,
    /// Total braking force at full brake (N).
    /// Allowed: (0, 10⁶].
    pub brake_force: f32,
    /// Steering angle of the front wheels at full lock (degrees).
    /// Allowed: (0, 60].
    pub max_steer: f32,
    /// How fast the front wheels turn toward the commanded angle (degrees per second).
    /// Allowed: (0, 3600].
    pub steer_rate: f32,
    /// Body length (m).
    /// Allowed: (0, 30].
    pub length: f32,
    /// Body width (m).
    /// Allowed: (0, 10].
    pub width: f32,
}

impl Default for Vehicle {
    fn default() -> Self {
        Self {
            mass: 1200.0,
            engine_force: 4000.0,
            engine_power: 60.0,
            brake_force: 10000.0,
            max_steer: 30.0,
            steer_rate: 180.0,
            length: 4.4,
            width: 1.8,
        }
    }
}

/// A static obstacle placed by road coordinates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Obstacle {
    /// Default sizes 0.4 × 0.4 × 0.7, 1.2 × 1.2 × 1.0, 0.5 × 3.0 × 1.0 m.
    /// Allowed: `Cone`, `Box`, `Barrier`.
    pub kind: ObstacleKind,
    /// Arc length along the road (m).
    /// Allowed: [0, length] (loop: [0, length)).
    pub s: f32,
    /// Lane whose centre the obstacle is placed on; without it, `offset` is from the road centre.
    /// Allowed: < `road.lanes`.
    #[serde(default)]
    pub lane: Option<u32>,
    /// Lateral offset (m, positive left) from the lane centre, or from the road centre if no lane.
    /// Allowed: the whole obstacle must lie within the road edge.
    #[serde(default)]
    pub offset: f32,
    /// Size as (length along the road, width across it, height) in metres; the kind's default if absent.
    /// Allowed: each in (0, 100].
    #[serde(default)]
    pub size: Option<[f32; 3]>,
    /// On a road network: the road it stands on (required there), `s` and `lane` counted the way
    /// a `Roads` route drives it, else in the road's own direction.
    /// Allowed: a road of the network; absent on a single road.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub road: Option<String>,
}

/// What an obstacle looks like and its default size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ObstacleKind {
    /// A traffic cone, 0.4 × 0.4 × 0.7 m.
    Cone,
    /// A crate, 1.2 × 1.2 × 1.0 m.
    Box,
    /// A barrier across the road, 0.5 m deep, 3.0 m wide, 1.0 m high.
    Barrier,
}

impl ObstacleKind {
    /// Default (length, width, height) in metres.
    pub fn default_size(self) -> [f32; 3] {
        match self {
            ObstacleKind::Cone => [0.4, 0.4, 0.7],
            ObstacleKind::Box => [1.2, 1.2, 1.0],
            ObstacleKind::Barrier => [0.5, 3.0, 1.0],
        }
    }
}

/// NPC traffic: kinematic cars following lanes with the Intelligent Driver Model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Traffic {
    /// Number of NPC cars.
    /// Allowed: 0 to 200.
    pub count: u32,
    /// Lanes NPCs spawn in (empty = all lanes).
    /// Allowed: each < `road.lanes`.
    pub lanes: Vec<u32>,
    /// Desired speed of each NPC, drawn uniformly per episode (m/s).
    /// Allowed: 0 ≤ min ≤ max ≤ 100.
    pub speed: Range,
    /// Distance between consecutive NPCs along the road (m).
    /// Allowed: (0, 10 000] when count > 0.
    pub spacing: f32,
    /// Uniform jitter of each NPC's position, ± metres.
    /// Allowed: [0, spacing / 2), and spacing − 2 × jitter ≥ 5.4 (an NPC's length + 1 m).
    pub spacing_jitter: f32,
    /// The first NPC starts this far ahead of the ego spawn (m).
    /// Allowed: ≥ half of both cars' lengths + 1 m + both `s` jitters.
    pub start_gap: f32,
    /// Whether NPCs change lanes when a neighbouring lane lets them go faster (MOBIL-style).
    pub lane_changes: bool,
    pub idm: Idm,
}

impl Default for Traffic {
    fn default() -> Self {
        Self {
            count: 0,
            lanes: Vec::new(),
            speed: Range { min: 8.0, max: 14.0 },
            spacing: 30.0,
            spacing_jitter: 5.0,
            start_gap: 25.0,
            lane_changes: false,
            idm: Idm::default(),
        }
    }
}

/// An inclusive range of numbers.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Range {
    pub min: f32,
    pub max: f32,
}

/// Intelligent Driver Model parameters (Treiber et al., 2000).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Idm {
    /// Maximum acceleration (m/s²).
    /// Allowed: (0, 20].
    pub max_accel: f32,
    /// Comfortable deceleration (m/s²).
    /// Allowed: (0, 20].
    pub comfort_decel: f32,
    /// Desired time headway to the car ahead (s).
    /// Allowed: (0, 10].
    pub time_headway: f32,
    /// Minimum bumper-to-bumper gap (m).
    /// Allowed: (0, 100].
    pub min_gap: f32,
}

impl Default for Idm {
    fn default() -> Self {
        Self { max_accel: 1.5, comfort_decel: 2.0, time_headway: 1.5, min_gap: 2.0 }
    }
}

/// What the agent chooses: an index into a discrete set (Lepton's Q-learning and DQN), or, with
/// `continuous`, a steer and a throttle within ranges (SAC, PPO and the like, from Python).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Actions {
    /// The discrete actions; the agent picks one by index.
    /// Allowed: 1 to 256 actions.
    pub set: Vec<Action>,
    /// Continuous control instead of the set: each step the agent gives `[steer, throttle]`,
    /// each clipped into its range here. Omitted: discrete.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub continuous: Option<ContinuousActions>,
    /// Physics steps per policy step: one action lasts `repeat × episode.dt` seconds.
    /// Allowed: 1 to 100.
    pub repeat: u32,
}

impl Actions {
    /// The action set as controls, in index order: the one place actions become controls.
    pub fn controls(&self) -> Vec<crate::vehicle::Control> {
        self.set.iter().map(|a| a.control()).collect()
    }
}

/// The ranges of continuous actions.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ContinuousActions {
    /// (lowest, highest) fraction of full steering lock, -1 (right) to 1 (left); default (-1, 1).
    /// Allowed: -1 ≤ lowest < highest ≤ 1.
    pub steer: (f32, f32),
    /// (lowest, highest) throttle: -1 (full brake) to 1 (full throttle); default (-1, 1).
    /// Allowed: -1 ≤ lowest < highest ≤ 1.
    pub throttle: (f32, f32),
}

impl Default for ContinuousActions {
    fn default() -> Self {
        Self { steer: (-1.0, 1.0), throttle: (-1.0, 1.0) }
    }
}

impl ContinuousActions {
    /// The lowest `[steer, throttle]`.
    pub fn low(&self) -> [f32; 2] {
        [self.steer.0, self.throttle.0]
    }

    /// The highest `[steer, throttle]`.
    pub fn high(&self) -> [f32; 2] {
        [self.steer.1, self.throttle.1]
    }

    /// The control for action `[steer, throttle]`, each clipped into its range (a value that is
    /// not a number counts as 0, then clipped).
    pub fn control(&self, [steer, throttle]: [f32; 2]) -> crate::vehicle::Control {
        let clip =
            |v: f32, (lo, hi): (f32, f32)| if v.is_finite() { v.clamp(lo, hi) } else { 0.0f32.clamp(lo, hi) };
        crate::vehicle::Control { steer: clip(steer, self.steer), throttle: clip(throttle, self.throttle) }
    }
}

impl Default for Actions {
    fn default() -> Self {
        let a = |steer, throttle| Action { steer, throttle };
        Self {
            set: vec![
                a(0.0, 0.6),
                a(0.0, 0.0),
                a(0.0, -0.8),
                a(0.15, 0.4),
                a(-0.15, 0.4),
                a(0.4, 0.3),
                a(-0.4, 0.3),
            ],
            continuous: None,
            repeat: 4,
        }
    }
}

/// One action: a steering and a throttle/brake command.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Action {
    /// Fraction of full steering lock, -1 (right) to 1 (left).
    /// Allowed: [-1, 1].
    pub steer: f32,
    /// -1 (full brake) to 1 (full throttle); 0 coasts.
    /// Allowed: [-1, 1].
    pub throttle: f32,
}

impl Action {
    pub fn control(self) -> crate::vehicle::Control {
        crate::vehicle::Control { steer: self.steer, throttle: self.throttle }
    }
}

/// The camera mounted on the ego car (used by the renderer).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Camera {
    /// Frame width in pixels.
    /// Allowed: 8 to 1024.
    pub width: u32,
    /// Frame height in pixels.
    /// Allowed: 8 to 1024.
    pub height: u32,
    /// Vertical field of view (degrees).
    /// Allowed: (10, 170).
    pub fov: f32,
    /// Mount position relative to the car's centre on the ground.
    /// Allowed: each in [-20, 20].
    pub mount: Mount,
    /// Pitch (degrees, negative looks down).
    /// Allowed: [-89, 89].
    pub pitch: f32,
    /// H × W × 3 or H × W, u8.
    /// Allowed: `Rgb`, `Grey`.
    pub format: FrameFormat,
}

impl Default for Camera {
    fn default() -> Self {
        Self {
            width: 84,
            height: 84,
            fov: 70.0,
            mount: Mount::default(),
            pitch: -10.0,
            format: FrameFormat::Rgb,
        }
    }
}

/// A spinning lidar: `channels` beams stacked from `vertical_fov.1` (top) down to `vertical_fov.0`,
/// each swept across `horizontal_fov` in `rays` steps; every beam a rapier ray cast from the mount
/// against the ground, the obstacles and the other cars (never the ego). Its observation is a
/// range image of `channels` rows (row 0 the top beam) by `rays` columns (the middle column straight
/// ahead, columns running from the car's left to its right as in a camera image), metres, with
/// `range` where a beam hits nothing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Lidar {
    /// Beams stacked vertically (rows of the range image).
    /// Allowed: 1 to 256.
    pub channels: u32,
    /// Rays per sweep, per channel (columns of the range image).
    /// Allowed: 1 to 8192.
    pub rays: u32,
    /// Farthest return (m); beyond it a beam reports `range`.
    /// Allowed: (0, 500].
    pub range: f32,
    /// Elevation of the lowest and the highest beam (degrees, negative looks down); one channel
    /// looks at their mean.
    /// Allowed: each in [-89, 89], lowest ≤ highest.
    pub vertical_fov: (f32, f32),
    /// The angle the sweep covers, centred straight ahead (degrees).
    /// Allowed: (0, 360].
    pub horizontal_fov: f32,
    /// Mount position relative to the car's centre.
    /// Allowed: each in [-20, 20].
    pub mount: Mount,
    /// Standard deviation of Gaussian noise added to every return (m), drawn from the episode's
    /// seed and step: the same seed gives the same noise.
    /// Allowed: [0, 10].
    pub noise: f32,
}

impl Default for Lidar {
    /// A 32-beam roof lidar shaped like a Velodyne HDL-32E (about 2 m above the road, 1° steps,
    /// 80 m), mounted where the camera is by default.
    fn default() -> Self {
        Self {
            channels: 32,
            rays: 360,
            range: 80.0,
            vertical_fov: (-30.0, 10.0),
            horizontal_fov: 360.0,
            mount: Mount::default(),
            noise: 0.0,
        }
    }
}

/// An object-list sensor: the `count` nearest of the other cars (NPCs and other learning cars)
/// and obstacles within `range` metres, nearest first. Each row reads `presence, x, y, vx, vy,
/// cos_heading, sin_heading`: position (x forward, y left) and velocity relative to the car, in
/// its frame, scaled by 1/50 m and 1/20 m/s, and the other's heading relative to the car's. Rows
/// past the last object are all zero (presence 0).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct VehicleList {
    /// Rows of the list.
    /// Allowed: 1 to 64.
    pub count: u32,
    /// Farthest object listed (m, centre to centre).
    /// Allowed: (0, 500].
    pub range: f32,
}

impl Default for VehicleList {
    /// Eight rows out to 80 m: a lane's worth of traffic ahead and behind on every lane.
    fn default() -> Self {
        Self { count: 8, range: 80.0 }
    }
}

/// A position relative to the car (m).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Mount {
    pub forward: f32,
    pub up: f32,
    pub left: f32,
}

impl Default for Mount {
    fn default() -> Self {
        Self { forward: 0.5, up: 1.4, left: 0.0 }
    }
}

/// Pixel format of camera frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum FrameFormat {
    /// Height × width × 3, u8.
    Rgb,
    /// Height × width, u8 luminance.
    Grey,
}

/// Reward weights. Each step's reward is the sum of the weighted terms below.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Reward {
    /// × metres of progress along the road this step (negative when driving backwards).
    /// Allowed: [-10⁶, 10⁶].
    pub progress: f32,
    /// × distance (m) from the centre of the nearest lane, every step (use a negative weight).
    /// Allowed: [-10⁶, 10⁶].
    pub lane_centre: f32,
    /// × speed score in [0, 1]: 1 − |speed − target_speed| / target_speed, floored at 0.
    /// Allowed: [-10⁶, 10⁶].
    pub speed: f32,
    /// Speed the `speed` term rewards (m/s).
    /// Allowed: (0, 100].
    pub target_speed: f32,
    /// On a step in which the car touches an obstacle or another car (by default that ends the episode).
    /// Allowed: [-10⁶, 10⁶].
    pub collision: f32,
    /// On a step that ends with the car's centre beyond the shoulder (by default that ends the episode).
    /// Allowed: [-10⁶, 10⁶].
    pub off_road: f32,
    /// On a step in which the car drives in the lanes of the other direction of a two-way road
    /// (road networks; by default that ends the episode).
    /// Allowed: [-10⁶, 10⁶].
    pub wrong_way: f32,
    /// On a step in which the car enters a junction against a red light (by default that ends
    /// the episode).
    /// Allowed: [-10⁶, 10⁶].
    pub red_light: f32,
    /// Every step (a time cost; use a negative weight).
    /// Allowed: [-10⁶, 10⁶].
    pub step: f32,
    /// Once, on reaching the success goal.
    /// Allowed: [-10⁶, 10⁶].
    pub success: f32,
}

impl Default for Reward {
    fn default() -> Self {
        Self {
            progress: 0.1,
            lane_centre: -0.1,
            speed: 0.0,
            target_speed: 12.0,
            collision: -10.0,
            off_road: -10.0,
            wrong_way: -10.0,
            red_light: -10.0,
            step: 0.0,
            success: 10.0,
        }
    }
}

/// Episode rules: time step, length, goal and what ends an episode.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Episode {
    /// Physics time step (s). A policy step lasts `actions.repeat × dt`.
    /// Allowed: (0, 0.1].
    pub dt: f32,
    /// Time limit in policy steps; reaching it truncates the episode.
    /// Allowed: 1 to 1 000 000.
    pub max_steps: u32,
    /// The goal. Absent: `Laps(1)` on a closed road, `RoadEnd` on an open one.
    pub success: Option<Success>,
    /// Which events end an episode (when false they are still reported and rewarded).
    pub end_on: EndOn,
    /// An episode is stuck (truncated) after this long below `stuck_speed` (s).
    /// Allowed: (0, 3600].
    pub stuck_time: f32,
    /// Speed under which the car counts as not moving (m/s).
    /// Allowed: [0, 100].
    pub stuck_speed: f32,
    /// Multi-agent worlds: what becomes of a car whose episode ended while others drive on.
    /// (Left out of the written form when `Leave`, so earlier files read back as the same text.)
    #[serde(skip_serializing_if = "AgentEnd::is_leave")]
    pub agent_end: AgentEnd,
}

/// What becomes of a learning car whose episode ended in a multi-agent world.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum AgentEnd {
    /// It leaves the world (its body is taken out); the episode ends when every car has ended.
    #[default]
    Leave,
    /// It starts again at its spawn (fresh jitter) with a new episode of its own; the world's
    /// episode runs to `max_steps`.
    Respawn,
}

impl AgentEnd {
    fn is_leave(&self) -> bool {
        *self == AgentEnd::Leave
    }
}

impl Default for Episode {
    fn default() -> Self {
        Self {
            dt: 0.02,
            max_steps: 1000,
            success: None,
            end_on: EndOn::default(),
            stuck_time: 5.0,
            stuck_speed: 0.5,
            agent_end: AgentEnd::Leave,
        }
    }
}

/// The goal of an episode.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Success {
    /// Drive this many laps of a closed road (1 to 1000; closed roads only).
    Laps(u32),
    /// Drive this many metres along the road, in (0, 10⁶] (on an open road, at most what is left
    /// after `ego.spawn.s`).
    Distance(f32),
    /// Reach the end of an open road (open roads only).
    RoadEnd,
    /// No goal: episodes end only by failure or the time limit.
    Never,
}

/// Which events end an episode (when false, the event is still reported and rewarded).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EndOn {
    pub collision: bool,
    pub off_road: bool,
    pub flipped: bool,
    pub stuck: bool,
    /// Driving in the other direction's lanes of a two-way road (road networks).
    pub wrong_way: bool,
    /// Entering a junction against a red light.
    pub red_light: bool,
}

impl Default for EndOn {
    fn default() -> Self {
        Self { collision: true, off_road: true, flipped: true, stuck: true, wrong_way: true, red_light: true }
    }
}

/// How the world looks, and how much that varies per episode.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Look {
    /// The sky's colour (linear RGB, as every colour here).
    /// Allowed: channels in [0, 1].
    pub sky: [f32; 3],
    /// The ground beyond the road.
    /// Allowed: channels in [0, 1].
    pub ground: [f32; 3],
    /// The lanes.
    /// Allowed: channels in [0, 1].
    pub road: [f32; 3],
    /// The shoulders.
    /// Allowed: channels in [0, 1].
    pub shoulder: [f32; 3],
    /// Lane markings.
    /// Allowed: channels in [0, 1].
    pub marking: [f32; 3],
    /// Sun elevation above the horizon (degrees).
    /// Allowed: [0, 90].
    pub sun_elevation: f32,
    /// Sun azimuth, counter-clockwise from +x (degrees).
    /// Allowed: [-360, 360].
    pub sun_azimuth: f32,
    /// Sun brightness (illuminance, lux).
    /// Allowed: [0, 10⁶].
    pub sun_brightness: f32,
    pub randomise: Randomise,
}

impl Default for Look {
    fn default() -> Self {
        Self {
            sky: [0.45, 0.65, 0.90],
            ground: [0.20, 0.40, 0.15],
            road: [0.18, 0.18, 0.20],
            shoulder: [0.35, 0.33, 0.30],
            marking: [0.95, 0.95, 0.90],
            sun_elevation: 50.0,
            sun_azimuth: 30.0,
            sun_brightness: 10000.0,
            randomise: Randomise::default(),
        }
    }
}

/// Per-episode domain randomisation, drawn from the episode seed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Randomise {
    /// Relative jitter of the sun's brightness, ± fraction.
    /// Allowed: [0, 1].
    pub brightness: f32,
    /// Jitter of every colour channel, ± (colours are in [0, 1]).
    /// Allowed: [0, 0.5].
    pub colour: f32,
    /// Jitter of the sun's elevation and azimuth, ± degrees.
    /// Allowed: [0, 90].
    pub sun_angle: f32,
}

impl Default for Randomise {
    fn default() -> Self {
        Self { brightness: 0.0, colour: 0.0, sun_angle: 0.0 }
    }
}

impl Look {
    /// This look with `change`'s fields in place of its own (a field condition, a variant file).
    pub fn with_change(&self, change: &LookChange) -> Look {
        Look {
            sky: change.sky.unwrap_or(self.sky),
            ground: change.ground.unwrap_or(self.ground),
            road: change.road.unwrap_or(self.road),
            shoulder: change.shoulder.unwrap_or(self.shoulder),
            marking: change.marking.unwrap_or(self.marking),
            sun_elevation: change.sun_elevation.unwrap_or(self.sun_elevation),
            sun_azimuth: change.sun_azimuth.unwrap_or(self.sun_azimuth),
            sun_brightness: change.sun_brightness.unwrap_or(self.sun_brightness),
            randomise: self.randomise.clone(),
        }
    }
}

/// A scripted event: when its trigger first fires in an episode, its actions happen `delay`
/// seconds later, once. Events are checked every physics step, in file order, from the state the
/// step starts with, so they are as deterministic as the rest of the episode.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Event {
    /// Shown in the viewer, the rollout trace and the map; unique within the file.
    pub name: String,
    pub when: Trigger,
    /// Seconds between the trigger and the actions.
    #[serde(default)]
    pub delay: f32,
    /// What happens, in order.
    pub then: Vec<EventAction>,
}

/// What starts an event. NPCs are numbered in the order traffic spawns them: 0 is the first,
/// `traffic.start_gap` ahead of the ego car's spawn, 1 the next, and so on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum Trigger {
    /// The episode's clock reaches `seconds`.
    Time { seconds: f32 },
    /// The ego car reaches arc length `s` along the road (m). On a road network `road` names one
    /// of the ego's route roads and `s` runs along it the way the ego drives it.
    EgoAt {
        s: f32,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        road: Option<String>,
    },
    /// NPC `npc` is ahead of the ego car (along the road, in any lane) with less than `below`
    /// metres between the ego's front bumper and its rear bumper.
    Gap { npc: u32, below: f32 },
    /// The ego car closes in on NPC `npc` ahead of it (along the road, in any lane) and would
    /// reach it within `below` seconds at today's speeds (gap / closing speed).
    TimeToCollision { npc: u32, below: f32 },
}

/// What an event does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum EventAction {
    /// NPC `npc` moves into the lane the ego car is in, taking `duration` seconds, and keeps to
    /// it (it no longer chooses lanes itself).
    CutIn { npc: u32, duration: f32 },
    /// NPC `npc` brakes at `decel` m/s² until it is down to `to_speed` m/s, then keeps that speed
    /// as its desired speed.
    Brake {
        npc: u32,
        decel: f32,
        #[serde(default)]
        to_speed: f32,
    },
    /// NPC `npc` brakes as hard as it can (8 m/s²) and stays stopped.
    Stop { npc: u32 },
    /// An obstacle appears where it says (placed like the file's `obstacles`).
    Obstacle(Obstacle),
    /// The look or the light changes: each given field replaces the episode's.
    Look(LookChange),
    /// The reward's `target_speed` becomes `speed` m/s for the rest of the episode.
    TargetSpeed { speed: f32 },
}

/// A change of the look: only the fields given change.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LookChange {
    pub sky: Option<[f32; 3]>,
    pub ground: Option<[f32; 3]>,
    pub road: Option<[f32; 3]>,
    pub shoulder: Option<[f32; 3]>,
    pub marking: Option<[f32; 3]>,
    /// Degrees above the horizon.
    pub sun_elevation: Option<f32>,
    /// Degrees counter-clockwise from +x.
    pub sun_azimuth: Option<f32>,
    /// Illuminance (lux); the episode's randomised brightness scales with it.
    pub sun_brightness: Option<f32>,
}
