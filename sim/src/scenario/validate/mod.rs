//! Checks that a parsed scenario makes sense; each problem names its field path.
//!
//! Every problem is reported, not just the first: a `Checker` collects them while one function
//! per section of the scenario walks its fields. Checks that need the road's shape (spawn and
//! obstacle positions, whether traffic fits) run only when the road itself is valid, so one
//! mistake does not cascade into many.
//!
//! A file per part of the scenario: `road`, `ego`, `obstacles`, `traffic`, `agent`
//! (actions, camera, lidar, reward), `agents` (the cars of a multi-agent world), `episode`, `look`, `events`, `network` (roads joined at junctions); `checker` holds the range
//! checks and the wording every part shares.

mod agent;
mod agents;
mod checker;
mod ego;
mod episode;
mod events;
mod look;
mod network;
mod obstacles;
mod road;
mod traffic;

use super::schema::{
    Actions, Camera, Ego, Episode, Event, EventAction, Lidar, Look, LookChange, Obstacle, Reward, Road,
    Scenario, Segment, Success, Traffic, Trigger,
};
use crate::road::{RoadGeometry, wrap_angle};
use checker::{Bound, Checker, num, short};
use look::look_change;
use obstacles::obstacle;
use road::along_road;

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
    let road = match &scenario.network {
        None => {
            if scenario.ego.route.is_some() {
                c.report(
                    "ego.route",
                    "a route needs a road network (`network`): a single road is its own route",
                );
            }
            road::road(&mut c, &scenario.road)
        }
        Some(network) => network::network(&mut c, scenario, network),
    };
    ego::ego(&mut c, &scenario.ego, &road);
    // On a network each agent's route is laid and its spawn checked there.
    if scenario.network.is_none() {
        for (i, agent) in scenario.agents.iter().enumerate() {
            if agent.route.is_some() {
                c.report(
                    format!("agents[{i}].route"),
                    "a route needs a road network (`network`): a single road is its own route",
                );
            }
        }
        agents::agents(&mut c, scenario, |_| Some((0, &road)));
    }
    // On a network each obstacle is checked on the road it names, with the network.
    if scenario.network.is_none() {
        obstacles::obstacles(&mut c, &scenario.obstacles, &road);
    }
    // On a network NPCs enter at the open ends, not along the first road: no fit to check.
    let traffic_road = RoadFacts {
        lanes: road.lanes,
        closed: road.closed,
        geometry: if scenario.network.is_some() { None } else { road.geometry.clone() },
        edge: road.edge,
    };
    traffic::traffic(&mut c, &scenario.traffic, &traffic_road, &scenario.ego);
    agent::actions(&mut c, &scenario.actions);
    agent::camera(&mut c, &scenario.camera);
    if let Some(list) = &scenario.vehicles {
        c.count("vehicles.count", list.count.into(), 1, 64);
        c.bounded("vehicles.range", list.range, Bound::Excl(0.0), Bound::Incl(500.0));
    }
    if let Some(lidar) = &scenario.lidar {
        agent::lidar(&mut c, lidar);
    }
    agent::reward(&mut c, scenario);
    // On a network the goal lies along the route, not the first road: its length is not checked.
    let goal_road = if scenario.network.is_some() { RoadFacts { geometry: None, ..road } } else { road };
    episode::episode(&mut c, &scenario.episode, &goal_road, scenario.ego.spawn.s);
    look::look(&mut c, &scenario.look);
    events::events(&mut c, &scenario.events, &goal_road, scenario.traffic.count, scenario.network.is_some());
    c.problems
}

/// The scenario's name: runs and logs are named after it.
fn name(c: &mut Checker, name: &str) {
    if name.trim().is_empty() {
        c.report("name", "must not be empty: runs and logs are named after it");
    } else if name.chars().count() > 100 {
        c.report("name", format!("must be at most 100 characters (got {})", name.chars().count()));
    } else if name.chars().any(|ch| ch.is_control() || ch == '/' || ch == '\\') {
        c.report("name", format!("must not contain '/', '\\' or control characters (got {name:?})"));
    }
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
pub(super) struct RoadFacts {
    /// The lane count, when valid.
    pub(super) lanes: Option<u32>,
    pub(super) closed: bool,
    /// The laid-out road, when its segments are valid (lanes and widths may not be).
    pub(super) geometry: Option<RoadGeometry>,
    /// Distance from the centre line to the road's edge (lanes plus shoulder), when the lane
    /// count, lane width and shoulder are valid.
    pub(super) edge: Option<f32>,
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
        Obstacle { kind: ObstacleKind::Cone, s, lane, offset, size: None, road: None }
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
    fn continuous_ranges() {
        let with = |steer, throttle| {
            move |s: &mut Scenario| {
                s.actions.continuous = Some(crate::scenario::ContinuousActions { steer, throttle });
            }
        };
        assert_problem(
            with((0.5, -0.5), (-1.0, 1.0)),
            "actions.continuous.steer",
            "(0.5, -0.5) is not a range: write (lowest, highest), lowest below highest",
        );
        assert_problem(with((-0.5, 0.5), (0.2, 0.2)), "actions.continuous.throttle", "is not a range");
        assert_problem(
            with((-0.5, 0.5), (-1.0, 1.5)),
            "actions.continuous.throttle.1",
            "must be at most 1 (got 1.5)",
        );
        assert_problem(with((f32::NAN, 0.5), (-1.0, 1.0)), "actions.continuous.steer.0", "");
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
    fn bad_lidar() {
        let with = |change: fn(&mut Lidar)| {
            move |s: &mut Scenario| {
                let mut lidar = Lidar::default();
                change(&mut lidar);
                s.lidar = Some(lidar);
            }
        };
        assert_problem(with(|l| l.rays = 0), "lidar.rays", "must be at least 1 (got 0)");
        assert_problem(with(|l| l.channels = 0), "lidar.channels", "must be at least 1 (got 0)");
        assert_problem(with(|l| l.range = 0.0), "lidar.range", "must be greater than 0 (got 0)");
        assert_problem(with(|l| l.vertical_fov = (10.0, -30.0)), "lidar.vertical_fov", "is not a range");
        assert_problem(with(|l| l.horizontal_fov = 400.0), "lidar.horizontal_fov", "must be at most 360");
        assert_problem(with(|l| l.noise = f32::NAN), "lidar.noise", "must be a finite number");
        assert!(problems(with(|_| ())).is_empty(), "the default lidar is valid");
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
            |s| with_event(s, Trigger::EgoAt { s: 400.0, road: None }, brake(0)),
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
        let box_at = |lane| Obstacle {
            kind: ObstacleKind::Box,
            s: 100.0,
            lane: Some(lane),
            offset: 0.0,
            size: None,
            road: None,
        };
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
