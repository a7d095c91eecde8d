//! Checks that a parsed scenario makes sense; each problem names its field path.
//!
//! Every problem is reported, not just the first: a `Checker` collects them while one function
//! per section of the scenario walks its fields. Checks that need the road's shape (spawn and
//! obstacle positions, whether traffic fits) run only when the road itself is valid, so one
//! mistake does not cascade into many.

use super::schema::{
    Actions, Camera, Ego, Episode, Event, EventAction, Look, LookChange, Obstacle, Road, Scenario, Segment,
    Success, Traffic, Trigger,
};
use crate::road::{RoadGeometry, wrap_angle};

/// A value that parses but makes no sense.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldProblem {
    /// Dotted path with indices, e.g. `road.segments[2].radius`.
    pub path: String,
    pub message: String,
}

/// Every problem with the scenario's meaning (empty when valid).
pub fn validate(scenario: &Scenario) -> Vec<FieldProblem> {
    let mut c = Checker::default();
    name(&mut c, &scenario.name);
    let road = road(&mut c, &scenario.road);
    ego(&mut c, &scenario.ego, &road);
    obstacles(&mut c, &scenario.obstacles, &road);
    traffic(&mut c, &scenario.traffic, &road, &scenario.ego);
    actions(&mut c, &scenario.actions);
    camera(&mut c, &scenario.camera);
    reward(&mut c, scenario);
    episode(&mut c, &scenario.episode, &road, scenario.ego.spawn.s);
    look(&mut c, &scenario.look);
    events(&mut c, &scenario.events, &road, scenario.traffic.count);
    c.problems
}

/// Longest road, and longest single straight or arc radius (m).
const MAX_ROAD_LENGTH: f32 = 100_000.0;
const MAX_SEGMENTS: usize = 10_000;
const MAX_LANES: u64 = 8;
const MAX_OBSTACLES: usize = 10_000;
const MAX_TRAFFIC: u64 = 200;
const MAX_ACTIONS: usize = 256;
/// Events are tracked as bits of a `u64`.
pub const MAX_EVENTS: usize = 64;
const MAX_EVENT_ACTIONS: usize = 32;
/// Hardest braking an event may ask of an NPC (m/s²).
const MAX_DECEL: f32 = 12.0;
/// Fastest speed anything may be asked to drive (m/s, 360 km/h).
const MAX_SPEED: f32 = 100.0;
/// Largest magnitude of a reward weight.
const MAX_WEIGHT: f32 = 1e6;
/// How near a closed road's end must come to its start (m, degrees).
const CLOSE_DISTANCE: f32 = 1.0;
const CLOSE_ANGLE: f32 = 2.0;

/// What later sections need to know about the road.
struct RoadFacts {
    /// The lane count, when valid.
    lanes: Option<u32>,
    closed: bool,
    /// The laid-out road, when its segments are valid (lanes and widths may not be).
    geometry: Option<RoadGeometry>,
    /// Distance from the centre line to the road's edge (lanes plus shoulder), when the lane
    /// count, lane width and shoulder are valid.
    edge: Option<f32>,
}

/// Collects problems; each check reports what is required and what was found.
#[derive(Default)]
struct Checker {
    problems: Vec<FieldProblem>,
}

/// One end of an allowed range of numbers.
#[derive(Clone, Copy)]
enum Bound {
    /// The value may equal the bound.
    Incl(f32),
    /// The value must stay strictly beyond the bound.
    Excl(f32),
}

impl Checker {
    fn report(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.problems.push(FieldProblem { path: path.into(), message: message.into() });
    }

    /// Reports NaN and infinities; true when `value` is a finite number.
    fn finite(&mut self, path: &str, value: f32) -> bool {
        if !value.is_finite() {
            self.report(path, format!("must be a finite number (got {value})"));
        }
        value.is_finite()
    }

    /// Checks `lo ≤ value ≤ hi` (or strictly, per bound) and finiteness; true when it holds.
    fn bounded(&mut self, path: &str, value: f32, lo: Bound, hi: Bound) -> bool {
        if !self.finite(path, value) {
            return false;
        }
        let message = match (lo, hi) {
            (Bound::Incl(lo), _) if value < lo => format!("must be at least {}", num(lo)),
            (Bound::Excl(lo), _) if value <= lo => format!("must be greater than {}", num(lo)),
            (_, Bound::Incl(hi)) if value > hi => format!("must be at most {}", num(hi)),
            (_, Bound::Excl(hi)) if value >= hi => format!("must be less than {}", num(hi)),
            _ => return true,
        };
        self.report(path, format!("{message} (got {})", num(value)));
        false
    }

    /// `lo ≤ value ≤ hi`.
    fn in_range(&mut self, path: &str, value: f32, lo: f32, hi: f32) -> bool {
        self.bounded(path, value, Bound::Incl(lo), Bound::Incl(hi))
    }

    /// `0 < value ≤ max`.
    fn positive(&mut self, path: &str, value: f32, max: f32) -> bool {
        self.bounded(path, value, Bound::Excl(0.0), Bound::Incl(max))
    }

    /// `lo ≤ value ≤ hi` for a whole number.
    fn count(&mut self, path: &str, value: u64, lo: u64, hi: u64) -> bool {
        if value < lo {
            self.report(path, format!("must be at least {lo} (got {value})"));
        } else if value > hi {
            self.report(path, format!("must be at most {hi} (got {value})"));
        }
        (lo..=hi).contains(&value)
    }

    /// A lane index must name one of the road's lanes (unknown when `road.lanes` is itself wrong).
    fn lane(&mut self, path: &str, lane: u32, lanes: Option<u32>) -> bool {
        match lanes {
            Some(lanes) if lane >= lanes => {
                let allowed = if lanes == 1 {
                    "must be 0, the only lane".to_string()
                } else {
                    format!("must be a lane index from 0 to {}", lanes - 1)
                };
                self.report(path, format!("{allowed} (road.lanes is {lanes}; got {lane})"));
                false
            }
            _ => true,
        }
    }

    /// Each channel of a colour in [0, 1].
    fn colour(&mut self, path: &str, colour: [f32; 3]) {
        for (i, channel) in colour.into_iter().enumerate() {
            self.in_range(&format!("{path}[{i}]"), channel, 0.0, 1.0);
        }
    }
}

/// A number as a user would write it: plain for ordinary magnitudes, exponent form for extremes.
fn num(value: f32) -> String {
    let magnitude = value.abs();
    if value.is_finite() && magnitude != 0.0 && !(1e-3..1e6).contains(&magnitude) {
        format!("{value:e}")
    } else {
        format!("{value}")
    }
}

/// A computed length or angle, rounded to two decimals for messages.
fn short(value: f32) -> String {
    let text = format!("{value:.2}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" { "0".to_string() } else { text.to_string() }
}

fn name(c: &mut Checker, name: &str) {
    if name.trim().is_empty() {
        c.report("name", "must not be empty: runs and logs are named after it");
    } else if name.chars().count() > 100 {
        c.report("name", format!("must be at most 100 characters (got {})", name.chars().count()));
    } else if name.chars().any(|ch| ch.is_control() || ch == '/' || ch == '\\') {
        c.report("name", format!("must not contain '/', '\\' or control characters (got {name:?})"));
    }
}

fn road(c: &mut Checker, road: &Road) -> RoadFacts {
    let lanes_ok = c.count("road.lanes", road.lanes.into(), 1, MAX_LANES);
    let width_ok = c.positive("road.lane_width", road.lane_width, 10.0);
    let shoulder_ok = c.in_range("road.shoulder", road.shoulder, 0.0, 50.0);
    c.positive("road.friction", road.friction, 3.0);
    // Half the road's width including shoulders, when known: tighter arcs fold their inner edge.
    let half_width = (lanes_ok && width_ok && shoulder_ok)
        .then_some(0.5 * road.lanes as f32 * road.lane_width + road.shoulder);

    let before = c.problems.len();

    if road.segments.is_empty() {
        c.report("road.segments", "must not be empty: a road needs at least one segment");
    } else if road.segments.len() > MAX_SEGMENTS {
        c.report(
            "road.segments",
            format!("must have at most {MAX_SEGMENTS} segments (got {})", road.segments.len()),
        );
    }
    let mut total = 0.0;
    for (i, segment) in road.segments.iter().enumerate() {
        let path = format!("road.segments[{i}]");
        match *segment {
            Segment::Straight { length } => {
                if c.positive(&format!("{path}.length"), length, MAX_ROAD_LENGTH) {
                    total += length;
                }
            }
            Segment::Arc { radius, angle } => {
                let radius_path = format!("{path}.radius");
                let radius_ok = match half_width {
                    Some(half) if radius.is_finite() && radius <= half => {
                        c.report(
                            radius_path,
                            format!(
                                "must be greater than half the road width, {} m (road.lanes × \
                                 road.lane_width / 2 + road.shoulder): a tighter arc folds its \
                                 inner edge over itself (got {})",
                                short(half),
                                num(radius)
                            ),
                        );
                        false
                    }
                    _ => c.positive(&radius_path, radius, MAX_ROAD_LENGTH),
                };
                let angle_path = format!("{path}.angle");
                let angle_ok = if angle == 0.0 {
                    c.report(angle_path, "must not be 0: an arc must turn (use a Straight instead)");
                    false
                } else {
                    c.in_range(&angle_path, angle, -360.0, 360.0)
                };
                if radius_ok && angle_ok {
                    total += radius * angle.to_radians().abs();
                }
            }
        }
    }
    if total > MAX_ROAD_LENGTH {
        c.report(
            "road.segments",
            format!(
                "the road must be at most {} m long in all (got {} m)",
                num(MAX_ROAD_LENGTH),
                short(total)
            ),
        );
    }

    let segments_ok = c.problems.len() == before;
    let geometry = segments_ok.then(|| RoadGeometry::new(road));
    if let (Some(geometry), true) = (&geometry, road.closed) {
        let end = geometry.end_pose();
        let gap = end.x.hypot(end.y);
        let turn = wrap_angle(end.heading).to_degrees();
        if gap > CLOSE_DISTANCE || turn.abs() > CLOSE_ANGLE {
            c.report(
                "road.segments",
                format!(
                    "the road is closed (road.closed: true) but its segments do not end where the \
                     first starts: the end is {} m away from the start (at x = {}, y = {}) and its \
                     heading is off by {}° (allowed: {} m and {}°)",
                    short(gap),
                    short(end.x),
                    short(end.y),
                    short(turn),
                    num(CLOSE_DISTANCE),
                    num(CLOSE_ANGLE)
                ),
            );
        }
    }
    RoadFacts { lanes: lanes_ok.then_some(road.lanes), closed: road.closed, geometry, edge: half_width }
}

/// Checks an arc-length position along the road: [0, length] on an open road, [0, length) on a loop.
fn along_road(c: &mut Checker, path: &str, s: f32, road: &RoadFacts) {
    if !c.finite(path, s) {
        return;
    }
    let Some(geometry) = &road.geometry else {
        return;
    };
    let length = geometry.length();
    if s < 0.0 {
        c.report(path, format!("must be at least 0, the road's start (got {})", num(s)));
    } else if road.closed && s >= length {
        c.report(
            path,
            format!("must be less than the length of the closed road, {} m (got {})", short(length), num(s)),
        );
    } else if s > length {
        c.report(
            path,
            format!(
                "must be at most the road's length, {} m: it lies past the road end (got {})",
                short(length),
                num(s)
            ),
        );
    }
}

fn ego(c: &mut Checker, ego: &Ego, road: &RoadFacts) {
    let spawn = &ego.spawn;
    along_road(c, "ego.spawn.s", spawn.s, road);
    c.lane("ego.spawn.lane", spawn.lane, road.lanes);
    c.in_range("ego.spawn.s_jitter", spawn.s_jitter, 0.0, 1000.0);
    c.in_range("ego.spawn.offset_jitter", spawn.offset_jitter, 0.0, 10.0);
    c.in_range("ego.spawn.heading_jitter", spawn.heading_jitter, 0.0, 180.0);
    c.in_range("ego.start_speed", ego.start_speed, 0.0, MAX_SPEED);

    let v = &ego.vehicle;
    c.positive("ego.vehicle.mass", v.mass, 100_000.0);
    c.positive("ego.vehicle.engine_force", v.engine_force, 1_000_000.0);
    c.positive("ego.vehicle.engine_power", v.engine_power, 10_000.0);
    c.positive("ego.vehicle.brake_force", v.brake_force, 1_000_000.0);
    c.positive("ego.vehicle.max_steer", v.max_steer, 60.0);
    c.positive("ego.vehicle.steer_rate", v.steer_rate, 3600.0);
    c.positive("ego.vehicle.length", v.length, 30.0);
    c.positive("ego.vehicle.width", v.width, 10.0);
}

fn obstacles(c: &mut Checker, obstacles: &[Obstacle], road: &RoadFacts) {
    if obstacles.len() > MAX_OBSTACLES {
        c.report("obstacles", format!("must have at most {MAX_OBSTACLES} entries (got {})", obstacles.len()));
    }
    for (i, o) in obstacles.iter().enumerate() {
        obstacle(c, &format!("obstacles[{i}]"), o, road);
    }
}

/// One obstacle: on the road, in a lane that exists, of a sensible size.
fn obstacle(c: &mut Checker, path: &str, obstacle: &Obstacle, road: &RoadFacts) {
    along_road(c, &format!("{path}.s"), obstacle.s, road);
    let lane_ok = obstacle.lane.is_none_or(|lane| c.lane(&format!("{path}.lane"), lane, road.lanes));
    let offset_ok = c.finite(&format!("{path}.offset"), obstacle.offset);
    let size = obstacle.size.unwrap_or(obstacle.kind.default_size());
    let mut size_ok = true;
    if obstacle.size.is_some() {
        for (j, extent) in size.into_iter().enumerate() {
            size_ok &= c.positive(&format!("{path}.size[{j}]"), extent, 100.0);
        }
    }
    let (Some(geometry), Some(edge)) = (&road.geometry, road.edge) else {
        return;
    };
    if !(lane_ok && offset_ok && size_ok) {
        return;
    }
    let (centre, from) = match obstacle.lane {
        Some(lane) => (geometry.lane_centre(lane), format!("lane {lane}'s centre")),
        None => (0.0, "the road centre".to_string()),
    };
    let d = centre + obstacle.offset;
    let far_edge = d.abs() + 0.5 * size[1];
    if far_edge > edge {
        c.report(
            format!("{path}.offset"),
            format!(
                "puts the obstacle off the road: centred at d = {} m (offset {} from {from}), \
                 its far edge is {} m from the centre line, beyond the road edge at ±{} m \
                 (half the road width plus shoulder)",
                short(d),
                num(obstacle.offset),
                short(far_edge),
                short(edge)
            ),
        );
    }
}

fn traffic(c: &mut Checker, traffic: &Traffic, road: &RoadFacts, ego: &Ego) {
    let spawn = &ego.spawn;
    let count_ok = c.count("traffic.count", traffic.count.into(), 0, MAX_TRAFFIC);
    for (i, &lane) in traffic.lanes.iter().enumerate() {
        c.lane(&format!("traffic.lanes[{i}]"), lane, road.lanes);
    }
    let min_ok = c.in_range("traffic.speed.min", traffic.speed.min, 0.0, MAX_SPEED);
    let max_ok = c.in_range("traffic.speed.max", traffic.speed.max, 0.0, MAX_SPEED);
    if min_ok && max_ok && traffic.speed.min > traffic.speed.max {
        c.report(
            "traffic.speed.min",
            format!(
                "must be at most traffic.speed.max, {} (got {})",
                num(traffic.speed.max),
                num(traffic.speed.min)
            ),
        );
    }
    let spacing_ok = if traffic.count > 0 {
        c.positive("traffic.spacing", traffic.spacing, 10_000.0)
    } else {
        c.finite("traffic.spacing", traffic.spacing)
    };
    let jitter_ok = c.in_range("traffic.spacing_jitter", traffic.spacing_jitter, 0.0, 10_000.0);
    if traffic.count > 1 && spacing_ok && jitter_ok && traffic.spacing_jitter >= 0.5 * traffic.spacing {
        c.report(
            "traffic.spacing_jitter",
            format!(
                "must be less than half of traffic.spacing, {} m, or neighbouring NPCs could \
                 start on top of each other (got {})",
                short(0.5 * traffic.spacing),
                num(traffic.spacing_jitter)
            ),
        );
    }
    // NPCs in one lane must not start overlapping each other, nor the first one the ego car.
    let npc_length = crate::traffic::NPC_SIZE[0];
    if traffic.count > 1
        && spacing_ok
        && jitter_ok
        && traffic.spacing - 2.0 * traffic.spacing_jitter < npc_length + 1.0
    {
        c.report(
            "traffic.spacing",
            format!(
                "must be at least an NPC's length plus 1 m ({} m) more than twice traffic.spacing_jitter, \
                 or NPCs could start on top of each other (got {} with jitter {})",
                short(npc_length + 1.0),
                num(traffic.spacing),
                num(traffic.spacing_jitter)
            ),
        );
    }
    let gap_ok = c.in_range("traffic.start_gap", traffic.start_gap, 0.0, MAX_ROAD_LENGTH);
    let clearance = 0.5 * (ego.vehicle.length + npc_length) + 1.0 + traffic.spacing_jitter + spawn.s_jitter;
    if traffic.count > 0
        && gap_ok
        && jitter_ok
        && traffic.start_gap < clearance
        && ego.vehicle.length.is_finite()
        && spawn.s_jitter.is_finite()
    {
        c.report(
            "traffic.start_gap",
            format!(
                "must be at least {} m (half of each car's length, 1 m, and both jitters), or the first NPC \
                 could start on top of the ego car (got {})",
                short(clearance),
                num(traffic.start_gap)
            ),
        );
    }
    let idm = &traffic.idm;
    c.positive("traffic.idm.max_accel", idm.max_accel, 20.0);
    c.positive("traffic.idm.comfort_decel", idm.comfort_decel, 20.0);
    c.positive("traffic.idm.time_headway", idm.time_headway, 10.0);
    c.positive("traffic.idm.min_gap", idm.min_gap, 100.0);

    // Do the NPCs fit? The first starts `start_gap` ahead of the ego spawn, each next one
    // `spacing` further on. On an open road the last must start before the road end; on a loop
    // the last must stay `spacing` behind the ego.
    let Some(geometry) = &road.geometry else {
        return;
    };
    let spawn_ok = spawn.s.is_finite() && spawn.s_jitter.is_finite();
    if traffic.count == 0 || !(count_ok && spacing_ok && jitter_ok && gap_ok && spawn_ok) {
        return;
    }
    let length = geometry.length();
    let n = traffic.count as f32;
    let shortfall = if road.closed {
        let needed = traffic.start_gap + n * traffic.spacing;
        (needed > length).then(|| {
            format!(
                "they need {} m of loop (leaving one spacing behind the ego), but the loop is {} m long",
                short(needed),
                short(length)
            )
        })
    } else {
        // The furthest the last NPC and the ego may start, jitter included.
        let needed = traffic.start_gap + (n - 1.0) * traffic.spacing + traffic.spacing_jitter;
        let available = length - (spawn.s + spawn.s_jitter.max(0.0)).clamp(0.0, length);
        (needed > available).then(|| {
            format!(
                "the last may start {} m after the ego spawn (jitter included), but the road \
                 ends {} m after it",
                short(needed),
                short(available)
            )
        })
    };
    if let Some(shortfall) = shortfall {
        c.report(
            "traffic.count",
            format!(
                "{} NPCs do not fit: the first starts traffic.start_gap = {} m ahead of the ego \
                 spawn and each next one traffic.spacing = {} m further, so {shortfall} (use \
                 fewer NPCs, a smaller spacing or a longer road)",
                traffic.count,
                num(traffic.start_gap),
                num(traffic.spacing),
            ),
        );
    }
}

fn actions(c: &mut Checker, actions: &Actions) {
    if actions.set.is_empty() {
        c.report("actions.set", "must not be empty: the agent needs at least one action");
    } else if actions.set.len() > MAX_ACTIONS {
        c.report(
            "actions.set",
            format!("must have at most {MAX_ACTIONS} actions (got {})", actions.set.len()),
        );
    }
    for (i, action) in actions.set.iter().enumerate() {
        c.in_range(&format!("actions.set[{i}].steer"), action.steer, -1.0, 1.0);
        c.in_range(&format!("actions.set[{i}].throttle"), action.throttle, -1.0, 1.0);
    }
    c.count("actions.repeat", actions.repeat.into(), 1, 100);
}

fn camera(c: &mut Checker, camera: &Camera) {
    c.count("camera.width", camera.width.into(), 8, 1024);
    c.count("camera.height", camera.height.into(), 8, 1024);
    c.bounded("camera.fov", camera.fov, Bound::Excl(10.0), Bound::Excl(170.0));
    c.in_range("camera.pitch", camera.pitch, -89.0, 89.0);
    c.in_range("camera.mount.forward", camera.mount.forward, -20.0, 20.0);
    c.in_range("camera.mount.up", camera.mount.up, -20.0, 20.0);
    c.in_range("camera.mount.left", camera.mount.left, -20.0, 20.0);
}

fn reward(c: &mut Checker, scenario: &Scenario) {
    let r = &scenario.reward;
    let weights = [
        ("progress", r.progress),
        ("lane_centre", r.lane_centre),
        ("speed", r.speed),
        ("collision", r.collision),
        ("off_road", r.off_road),
        ("step", r.step),
        ("success", r.success),
    ];
    for (field, weight) in weights {
        c.in_range(&format!("reward.{field}"), weight, -MAX_WEIGHT, MAX_WEIGHT);
    }
    c.positive("reward.target_speed", r.target_speed, MAX_SPEED);
}

fn episode(c: &mut Checker, episode: &Episode, road: &RoadFacts, spawn_s: f32) {
    c.positive("episode.dt", episode.dt, 0.1);
    c.count("episode.max_steps", episode.max_steps.into(), 1, 1_000_000);
    c.positive("episode.stuck_time", episode.stuck_time, 3600.0);
    c.in_range("episode.stuck_speed", episode.stuck_speed, 0.0, MAX_SPEED);
    let path = "episode.success";
    match episode.success {
        Some(Success::Laps(laps)) => {
            if !road.closed {
                c.report(path, "Laps needs a closed road (road.closed is false): use RoadEnd or Distance");
            } else if !(1..=1000).contains(&laps) {
                c.report(path, format!("Laps must be from 1 to 1000 (got Laps({laps}))"));
            }
        }
        Some(Success::RoadEnd) if road.closed => {
            c.report(path, "RoadEnd needs an open road (road.closed is true): use Laps or Distance");
        }
        Some(Success::Distance(distance)) => {
            if !c.finite(path, distance) {
                return;
            }
            let available = match (&road.geometry, road.closed) {
                (Some(geometry), false) => Some(geometry.length() - spawn_s.clamp(0.0, geometry.length())),
                _ => None,
            };
            if distance <= 0.0 || distance > MAX_ROAD_LENGTH * 10.0 {
                c.report(
                    path,
                    format!(
                        "Distance must be greater than 0 and at most {} m (got Distance({}))",
                        num(MAX_ROAD_LENGTH * 10.0),
                        num(distance)
                    ),
                );
            } else if let Some(available) = available.filter(|&a| distance > a) {
                c.report(
                    path,
                    format!(
                        "Distance({}) cannot be reached: the road ends {} m after the ego spawn",
                        num(distance),
                        short(available)
                    ),
                );
            }
        }
        _ => {}
    }
}

fn look(c: &mut Checker, look: &Look) {
    c.colour("look.sky", look.sky);
    c.colour("look.ground", look.ground);
    c.colour("look.road", look.road);
    c.colour("look.shoulder", look.shoulder);
    c.colour("look.marking", look.marking);
    c.in_range("look.sun_elevation", look.sun_elevation, 0.0, 90.0);
    c.in_range("look.sun_azimuth", look.sun_azimuth, -360.0, 360.0);
    c.in_range("look.sun_brightness", look.sun_brightness, 0.0, 1_000_000.0);
    let r = &look.randomise;
    c.in_range("look.randomise.brightness", r.brightness, 0.0, 1.0);
    c.in_range("look.randomise.colour", r.colour, 0.0, 0.5);
    c.in_range("look.randomise.sun_angle", r.sun_angle, 0.0, 90.0);
}

fn events(c: &mut Checker, events: &[Event], road: &RoadFacts, npcs: u32) {
    if events.len() > MAX_EVENTS {
        c.report("events", format!("must have at most {MAX_EVENTS} events (got {})", events.len()));
    }
    let npc = |c: &mut Checker, path: String, index: u32| {
        if index >= npcs {
            let have = match npcs {
                0 => "there are none (traffic.count is 0)".to_string(),
                1 => "the only NPC is 0 (traffic.count is 1)".to_string(),
                n => format!("NPCs are numbered 0 to {} (traffic.count is {n})", n - 1),
            };
            c.report(path, format!("must name an NPC: {have} (got {index})"));
        }
    };
    for (i, event) in events.iter().enumerate() {
        let path = format!("events[{i}]");
        if event.name.trim().is_empty() || event.name.chars().count() > 60 {
            c.report(format!("{path}.name"), "must be 1 to 60 characters: the trace and the viewer show it");
        } else if event.name.chars().any(|ch| ch.is_control() || ch == ';' || ch == ',') {
            c.report(
                format!("{path}.name"),
                format!("must not contain ';', ',' or control characters (got {:?})", event.name),
            );
        } else if let Some(first) = events[..i].iter().position(|e| e.name == event.name) {
            c.report(
                format!("{path}.name"),
                format!("must be unique: events[{first}] is also {:?}", event.name),
            );
        }
        let when = format!("{path}.when");
        match event.when {
            Trigger::Time { seconds } => {
                c.in_range(&format!("{when}.Time.seconds"), seconds, 0.0, 86_400.0);
            }
            Trigger::EgoAt { s } => along_road(c, &format!("{when}.EgoAt.s"), s, road),
            Trigger::Gap { npc: index, below } => {
                npc(c, format!("{when}.Gap.npc"), index);
                c.positive(&format!("{when}.Gap.below"), below, 10_000.0);
            }
            Trigger::TimeToCollision { npc: index, below } => {
                npc(c, format!("{when}.TimeToCollision.npc"), index);
                c.positive(&format!("{when}.TimeToCollision.below"), below, 3600.0);
            }
        }
        c.in_range(&format!("{path}.delay"), event.delay, 0.0, 86_400.0);
        if event.then.is_empty() {
            c.report(format!("{path}.then"), "must not be empty: an event needs at least one action");
        } else if event.then.len() > MAX_EVENT_ACTIONS {
            c.report(
                format!("{path}.then"),
                format!("must have at most {MAX_EVENT_ACTIONS} actions (got {})", event.then.len()),
            );
        }
        for (j, action) in event.then.iter().enumerate() {
            let path = format!("{path}.then[{j}]");
            match action {
                EventAction::CutIn { npc: index, duration } => {
                    npc(c, format!("{path}.CutIn.npc"), *index);
                    c.positive(&format!("{path}.CutIn.duration"), *duration, 60.0);
                }
                EventAction::Brake { npc: index, decel, to_speed } => {
                    npc(c, format!("{path}.Brake.npc"), *index);
                    c.positive(&format!("{path}.Brake.decel"), *decel, MAX_DECEL);
                    c.in_range(&format!("{path}.Brake.to_speed"), *to_speed, 0.0, MAX_SPEED);
                }
                EventAction::Stop { npc: index } => npc(c, format!("{path}.Stop.npc"), *index),
                EventAction::Obstacle(o) => obstacle(c, &format!("{path}.Obstacle"), o, road),
                EventAction::Look(change) => look_change(c, &format!("{path}.Look"), change),
                EventAction::TargetSpeed { speed } => {
                    c.positive(&format!("{path}.TargetSpeed.speed"), *speed, MAX_SPEED);
                }
            }
        }
    }
}

fn look_change(c: &mut Checker, path: &str, change: &LookChange) {
    let colours = [
        ("sky", change.sky),
        ("ground", change.ground),
        ("road", change.road),
        ("shoulder", change.shoulder),
        ("marking", change.marking),
    ];
    for (field, colour) in colours {
        if let Some(colour) = colour {
            c.colour(&format!("{path}.{field}"), colour);
        }
    }
    if let Some(v) = change.sun_elevation {
        c.in_range(&format!("{path}.sun_elevation"), v, 0.0, 90.0);
    }
    if let Some(v) = change.sun_azimuth {
        c.in_range(&format!("{path}.sun_azimuth"), v, -360.0, 360.0);
    }
    if let Some(v) = change.sun_brightness {
        c.in_range(&format!("{path}.sun_brightness"), v, 0.0, 1_000_000.0);
    }
    if *change == LookChange::default() {
        c.report(path, "changes nothing: give at least one field (sky, sun_brightness, …)");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{Action, Obstacle, ObstacleKind, parse_str, to_ron};

    /// The problems of `scenario` after `edit`.
    fn problems(edit: impl FnOnce(&mut Scenario)) -> Vec<FieldProblem> {
        let mut scenario = Scenario::default();
        edit(&mut scenario);
        validate(&scenario)
    }

    /// Asserts that exactly one problem is reported, at `path`, with `fragment` in its message.
    #[track_caller]
    fn assert_problem(edit: impl FnOnce(&mut Scenario), path: &str, fragment: &str) {
        let found = problems(edit);
        assert!(
            found.len() == 1 && found[0].path == path && found[0].message.contains(fragment),
            "expected one problem at {path} mentioning {fragment:?}, found {found:#?}"
        );
    }

    /// A closed loop: a rounded rectangle of 100 m × 50 m straights and 30 m corners.
    fn rounded_rectangle() -> Vec<Segment> {
        let corner = Segment::Arc { radius: 30.0, angle: 90.0 };
        let long = Segment::Straight { length: 100.0 };
        let short = Segment::Straight { length: 50.0 };
        vec![long, corner, short, corner, long, corner, short, corner]
    }

    fn obstacle(lane: Option<u32>, s: f32, offset: f32) -> Obstacle {
        Obstacle { kind: ObstacleKind::Cone, s, lane, offset, size: None }
    }

    #[test]
    fn default_values_validate() {
        assert_eq!(validate(&Scenario::default()), []);
    }

    #[test]
    fn zero_lanes() {
        assert_problem(|s| s.road.lanes = 0, "road.lanes", "must be at least 1 (got 0)");
        assert_problem(|s| s.road.lanes = 9, "road.lanes", "must be at most 8 (got 9)");
    }

    #[test]
    fn negative_lane_width() {
        assert_problem(|s| s.road.lane_width = -3.5, "road.lane_width", "must be greater than 0 (got -3.5)");
    }

    #[test]
    fn spawn_lane_out_of_range() {
        assert_problem(
            |s| s.ego.spawn.lane = 2,
            "ego.spawn.lane",
            "must be a lane index from 0 to 1 (road.lanes is 2; got 2)",
        );
    }

    #[test]
    fn spawn_past_the_road_end() {
        assert_problem(|s| s.ego.spawn.s = 301.0, "ego.spawn.s", "road's length, 300 m");
        assert_problem(|s| s.ego.spawn.s = -1.0, "ego.spawn.s", "must be at least 0");
    }

    #[test]
    fn obstacle_off_the_road() {
        // Lane 1's centre is 1.75 m left of the centre line; 3 m further puts the cone's far
        // edge at 4.95 m, beyond the 4.5 m of lanes and shoulder.
        assert_problem(
            |s| s.obstacles.push(obstacle(Some(1), 50.0, 3.0)),
            "obstacles[0].offset",
            "off the road",
        );
        // The same offset from the right lane stays on the road.
        assert_eq!(problems(|s| s.obstacles.push(obstacle(Some(0), 50.0, 3.0))), []);
        assert_problem(
            |s| s.obstacles.push(obstacle(None, 50.0, -4.4)),
            "obstacles[0].offset",
            "±4.5 m (half the road width plus shoulder)",
        );
    }

    #[test]
    fn obstacle_past_the_road_end() {
        assert_problem(
            |s| s.obstacles.extend([obstacle(Some(0), 50.0, 0.0), obstacle(Some(0), 300.5, 0.0)]),
            "obstacles[1].s",
            "past the road end",
        );
    }

    #[test]
    fn obstacle_lane_and_size() {
        assert_problem(
            |s| s.obstacles.push(obstacle(Some(5), 50.0, 0.0)),
            "obstacles[0].lane",
            "from 0 to 1",
        );
        assert_problem(
            |s| s.obstacles.push(Obstacle { size: Some([1.0, 0.0, 1.0]), ..obstacle(None, 9.0, 0.0) }),
            "obstacles[0].size[1]",
            "must be greater than 0 (got 0)",
        );
    }

    #[test]
    fn arc_radius_smaller_than_half_the_road_width() {
        assert_problem(
            |s| {
                s.road.segments.push(Segment::Arc { radius: 4.0, angle: 90.0 });
            },
            "road.segments[1].radius",
            "must be greater than half the road width, 4.5 m",
        );
    }

    #[test]
    fn arc_angle() {
        assert_problem(
            |s| s.road.segments.push(Segment::Arc { radius: 40.0, angle: 0.0 }),
            "road.segments[1].angle",
            "must not be 0",
        );
        assert_problem(
            |s| s.road.segments.push(Segment::Arc { radius: 40.0, angle: -400.0 }),
            "road.segments[1].angle",
            "must be at least -360 (got -400)",
        );
    }

    #[test]
    fn road_lengths() {
        assert_problem(|s| s.road.segments.clear(), "road.segments", "must not be empty");
        assert_problem(
            |s| s.road.segments[0] = Segment::Straight { length: 0.0 },
            "road.segments[0].length",
            "must be greater than 0 (got 0)",
        );
        assert_problem(
            |s| s.road.segments = vec![Segment::Straight { length: 60_000.0 }; 2],
            "road.segments",
            "at most 100000 m long in all (got 120000 m)",
        );
    }

    #[test]
    fn empty_action_set() {
        assert_problem(
            |s| s.actions.set.clear(),
            "actions.set",
            "must not be empty: the agent needs at least one action",
        );
        assert_problem(
            |s| s.actions.set.push(Action { steer: 1.5, throttle: 0.0 }),
            "actions.set[7].steer",
            "must be at most 1 (got 1.5)",
        );
        assert_problem(|s| s.actions.repeat = 0, "actions.repeat", "must be at least 1 (got 0)");
    }

    #[test]
    fn non_finite_number() {
        assert_problem(|s| s.look.sky[1] = f32::NAN, "look.sky[1]", "must be a finite number (got NaN)");
        assert_problem(
            |s| s.reward.step = f32::NEG_INFINITY,
            "reward.step",
            "must be a finite number (got -inf)",
        );
        assert_problem(
            |s| s.road.segments[0] = Segment::Straight { length: f32::INFINITY },
            "road.segments[0].length",
            "must be a finite number (got inf)",
        );
    }

    /// Writes every float of a scenario that uses every field, replaces each in turn with NaN, and
    /// expects a "finite" problem each time: no f32 field escapes the checks.
    #[test]
    fn every_float_field_is_checked_for_finiteness() {
        let mut scenario = Scenario::default();
        scenario.road.segments.push(Segment::Arc { radius: 50.0, angle: 30.0 });
        scenario.obstacles.push(Obstacle { size: Some([1.0, 1.0, 1.0]), ..obstacle(Some(0), 50.0, 0.5) });
        scenario.traffic.count = 2;
        scenario.episode.success = Some(Success::Distance(100.0));
        let text = to_ron(&scenario);
        assert!(parse_str(&text, "full").is_ok());
        let floats: Vec<(usize, usize)> = float_literals(&text);
        assert!(floats.len() > 60, "only {} floats found in\n{text}", floats.len());
        for (start, end) in floats {
            let mutated = format!("{}NaN{}", &text[..start], &text[end..]);
            let error = parse_str(&mutated, "mutated").expect_err(&mutated);
            assert!(
                error.to_string().contains("must be a finite number (got NaN)"),
                "{error} for NaN at byte {start} of\n{mutated}"
            );
        }
    }

    /// Byte ranges of the decimal literals (`-12.5`) in RON text.
    fn float_literals(text: &str) -> Vec<(usize, usize)> {
        let bytes = text.as_bytes();
        let mut found = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            let starts = bytes[i].is_ascii_digit()
                || (bytes[i] == b'-' && bytes.get(i + 1).is_some_and(u8::is_ascii_digit));
            if starts && (i == 0 || !bytes[i - 1].is_ascii_alphanumeric()) {
                let mut end = i + 1;
                while end < bytes.len() && (bytes[end].is_ascii_digit() || bytes[end] == b'.') {
                    end += 1;
                }
                if text[i..end].contains('.') {
                    found.push((i, end));
                }
                i = end;
            } else {
                i += 1;
            }
        }
        found
    }

    #[test]
    fn open_closed_loop() {
        assert_eq!(
            problems(|s| {
                s.road.segments = rounded_rectangle();
                s.road.closed = true;
                s.episode.success = Some(Success::Laps(1));
            }),
            []
        );
        assert_problem(
            |s| {
                s.road.segments = rounded_rectangle();
                s.road.segments[2] = Segment::Straight { length: 53.0 };
                s.road.closed = true;
            },
            "road.segments",
            "the end is 3 m away from the start",
        );
        assert_problem(
            |s| {
                s.road.segments = rounded_rectangle();
                s.road.segments.pop();
                s.road.closed = true;
            },
            "road.segments",
            "heading is off by -90°",
        );
    }

    #[test]
    fn success_must_suit_the_road() {
        assert_problem(
            |s| s.episode.success = Some(Success::Laps(1)),
            "episode.success",
            "Laps needs a closed road",
        );
        assert_problem(
            |s| {
                s.road.segments = rounded_rectangle();
                s.road.closed = true;
                s.episode.success = Some(Success::RoadEnd);
            },
            "episode.success",
            "RoadEnd needs an open road",
        );
        assert_problem(
            |s| s.episode.success = Some(Success::Distance(295.0)),
            "episode.success",
            "the road ends 290 m after the ego spawn",
        );
        assert_problem(
            |s| s.episode.success = Some(Success::Distance(-1.0)),
            "episode.success",
            "Distance must be greater than 0",
        );
        assert_problem(
            |s| {
                s.road.segments = rounded_rectangle();
                s.road.closed = true;
                s.episode.success = Some(Success::Laps(0));
            },
            "episode.success",
            "Laps must be from 1 to 1000 (got Laps(0))",
        );
        assert_problem(|s| s.episode.dt = 0.0, "episode.dt", "must be greater than 0 (got 0)");
    }

    #[test]
    fn traffic_speed_min_above_max() {
        assert_problem(
            |s| s.traffic.speed.min = 20.0,
            "traffic.speed.min",
            "must be at most traffic.speed.max, 14 (got 20)",
        );
    }

    #[test]
    fn traffic_must_fit_on_the_road() {
        // 25 m + 9 × 30 m + 5 m of jitter = 300 m needed after the spawn at 10 m; 290 m remain.
        assert_problem(|s| s.traffic.count = 10, "traffic.count", "may start 300 m after the ego spawn");
        assert_eq!(problems(|s| s.traffic.count = 9), []);
        assert_problem(|s| s.traffic.lanes = vec![0, 2], "traffic.lanes[1]", "from 0 to 1");
        assert_problem(
            |s| {
                s.traffic.count = 3;
                s.traffic.spacing = 0.0;
            },
            "traffic.spacing",
            "must be greater than 0",
        );
    }

    #[test]
    fn npcs_must_not_start_on_top_of_each_other_or_the_ego() {
        assert_problem(
            |s| {
                s.traffic.count = 3;
                s.traffic.spacing = 8.0;
                s.traffic.spacing_jitter = 2.0;
            },
            "traffic.spacing",
            "on top of each other",
        );
        assert_problem(
            |s| {
                s.traffic.count = 1;
                s.traffic.start_gap = 3.0;
            },
            "traffic.start_gap",
            "on top of the ego car",
        );
    }

    #[test]
    fn bad_camera_size() {
        assert_problem(|s| s.camera.width = 4, "camera.width", "must be at least 8 (got 4)");
        assert_problem(|s| s.camera.height = 2048, "camera.height", "must be at most 1024 (got 2048)");
        assert_problem(|s| s.camera.fov = 170.0, "camera.fov", "must be less than 170 (got 170)");
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let found = problems(|s| {
            s.road.lanes = 0;
            s.ego.vehicle.max_steer = 90.0;
            s.actions.set.clear();
            s.look.randomise.colour = -0.1;
        });
        let paths: Vec<_> = found.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(paths, ["road.lanes", "ego.vehicle.max_steer", "actions.set", "look.randomise.colour"]);
    }

    /// One event on the default scenario (two lanes, 300 m) with two NPCs.
    fn with_event(s: &mut Scenario, when: Trigger, then: Vec<EventAction>) {
        s.traffic.count = 2;
        s.events.push(Event { name: "e".into(), when, delay: 0.0, then });
    }

    #[test]
    fn events_name_npcs_that_exist_and_sensible_numbers() {
        let brake = |npc| vec![EventAction::Brake { npc, decel: 6.0, to_speed: 0.0 }];
        assert_eq!(problems(|s| with_event(s, Trigger::Gap { npc: 1, below: 10.0 }, brake(0))), []);
        assert_problem(
            |s| with_event(s, Trigger::Gap { npc: 2, below: 10.0 }, brake(0)),
            "events[0].when.Gap.npc",
            "NPCs are numbered 0 to 1 (traffic.count is 2)",
        );
        assert_problem(
            |s| {
                with_event(
                    s,
                    Trigger::Time { seconds: 1.0 },
                    vec![EventAction::CutIn { npc: 0, duration: 0.0 }],
                )
            },
            "events[0].then[0].CutIn.duration",
            "must be greater than 0",
        );
        assert_problem(
            |s| with_event(s, Trigger::TimeToCollision { npc: 0, below: f32::NAN }, brake(1)),
            "events[0].when.TimeToCollision.below",
            "finite",
        );
        assert_problem(
            |s| with_event(s, Trigger::EgoAt { s: 400.0 }, brake(0)),
            "events[0].when.EgoAt.s",
            "past the road end",
        );
        assert_problem(
            |s| {
                with_event(
                    s,
                    Trigger::Time { seconds: 1.0 },
                    vec![EventAction::Brake { npc: 0, decel: 30.0, to_speed: 0.0 }],
                )
            },
            "events[0].then[0].Brake.decel",
            "at most 12",
        );
        let box_at =
            |lane| Obstacle { kind: ObstacleKind::Box, s: 100.0, lane: Some(lane), offset: 0.0, size: None };
        assert_problem(
            |s| with_event(s, Trigger::Time { seconds: 1.0 }, vec![EventAction::Obstacle(box_at(5))]),
            "events[0].then[0].Obstacle.lane",
            "lane index from 0 to 1",
        );
        assert_problem(
            |s| with_event(s, Trigger::Time { seconds: 1.0 }, vec![EventAction::Look(LookChange::default())]),
            "events[0].then[0].Look",
            "changes nothing",
        );
        assert_problem(
            |s| {
                let change = LookChange { sky: Some([0.1, 2.0, 0.1]), ..Default::default() };
                with_event(s, Trigger::Time { seconds: 1.0 }, vec![EventAction::Look(change)]);
            },
            "events[0].then[0].Look.sky[1]",
            "at most 1",
        );
        assert_problem(
            |s| with_event(s, Trigger::Time { seconds: 1.0 }, vec![]),
            "events[0].then",
            "must not be empty",
        );
        assert_problem(
            |s| {
                with_event(s, Trigger::Time { seconds: 1.0 }, brake(0));
                with_event(s, Trigger::Time { seconds: 2.0 }, brake(1));
            },
            "events[1].name",
            "must be unique",
        );
        assert_problem(
            |s| {
                s.events.push(Event {
                    name: "stop".into(),
                    when: Trigger::Time { seconds: 1.0 },
                    delay: 0.0,
                    then: vec![EventAction::Stop { npc: 0 }],
                })
            },
            "events[0].then[0].Stop.npc",
            "there are none (traffic.count is 0)",
        );
    }

    #[test]
    fn events_parse_from_ron_with_their_defaults() {
        let text = r#"Scenario(
            traffic: (count: 1),
            events: [
                (name: "brake", when: Gap(npc: 0, below: 20.0), then: [Brake(npc: 0, decel: 7.0)]),
                (name: "box", when: EgoAt(s: 50.0), delay: 0.5,
                 then: [Obstacle((kind: Box, s: 120.0, lane: 1)), Look((sun_brightness: 2000.0)), TargetSpeed(speed: 5.0)]),
            ],
        )"#;
        let scenario = parse_str(text, "events.ron").expect("parses");
        assert_eq!(scenario.events.len(), 2);
        assert_eq!(scenario.events[0].then[0], EventAction::Brake { npc: 0, decel: 7.0, to_speed: 0.0 });
        assert_eq!(scenario.events[1].delay, 0.5);
        assert!(
            matches!(&scenario.events[1].then[1], EventAction::Look(l) if l.sun_brightness == Some(2000.0))
        );
        assert_eq!(validate(&scenario), []);
        assert_eq!(parse_str(&to_ron(&scenario), "again.ron").expect("round trip"), scenario);
    }
}
