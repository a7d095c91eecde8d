//! Road networks end to end (issue 26): the templates' networks built into worlds, a scripted
//! driver following each route through its junctions to the end, ground truth that stays in the
//! frame of the road or connector the car is on, and the ends a network adds.

use lepton_sim::DrivingState;
use lepton_sim::drivers::KeepLane;
use lepton_sim::network::Edge;
use lepton_sim::scenario::{
    Event, EventAction, Obstacle, ObstacleKind, Phase, Scenario, Signals, Trigger, parse_str, template_of,
    to_ron,
};
use lepton_sim::signals::Light;
use lepton_sim::{EndReason, Env, Step};
use std::sync::Arc;

fn template(kind: &str) -> Arc<Scenario> {
    Arc::new(parse_str(&template_of(kind, kind).unwrap(), kind).unwrap())
}

/// The template without its NPCs: the ego alone on the network.
fn alone(kind: &str) -> Arc<Scenario> {
    let mut scenario = (*template(kind)).clone();
    scenario.traffic.count = 0;
    Arc::new(scenario)
}

/// What one scripted episode did.
struct Drive {
    end: EndReason,
    steps: u32,
    progress: f32,
    /// The largest |lane offset| and |heading error| seen.
    worst_offset: f32,
    worst_heading: f32,
    /// The edges the car was on, in order, each once.
    edges: Vec<Edge>,
    /// (x, z) of every step, for determinism.
    trace: Vec<[f32; 2]>,
}

/// Drives `scenario` from `seed` with the lane keeper; `target_lane_shift` says, from the ground
/// truth and the edge the car is on, how many lanes left of its own lane to steer for.
fn drive(scenario: Arc<Scenario>, seed: u64, shift: impl Fn(&Env, u32) -> i32) -> Drive {
    let vehicle = &scenario.ego.vehicle;
    let driver = KeepLane::through_junctions(scenario.reward.target_speed, vehicle.max_steer, vehicle.length);
    let mut env = Env::new(scenario.clone(), seed);
    let (obs, _) = env.reset(Some(seed));
    let mut state = obs.state;
    let mut out = Drive {
        end: EndReason::TimeLimit,
        steps: 0,
        progress: 0.0,
        worst_offset: 0.0,
        worst_heading: 0.0,
        edges: vec![env.world().on()],
        trace: Vec::new(),
    };
    loop {
        let mut wanted = state.driving;
        let width = env.world().edge().lane_width();
        wanted.lane_offset -= shift(&env, state.lane) as f32 * width;
        let step: Step = env.step_control(driver.control(&wanted));
        state = step.obs.state;
        out.steps += 1;
        out.progress = step.info.progress;
        out.trace.push([step.info.position[0], step.info.position[2]]);
        if shift(&env, state.lane) == 0 {
            out.worst_offset = out.worst_offset.max(state.driving.lane_offset.abs());
        }
        out.worst_heading = out.worst_heading.max(state.driving.heading_error.abs());
        if out.edges.last() != Some(&env.world().on()) {
            out.edges.push(env.world().on());
        }
        if let Some(end) = step.info.end {
            out.end = end;
            return out;
        }
    }
}

/// The route's length: its roads' lengths with the connectors between them, less the spawn.
fn route_length(env: &Env, edges: &[Edge]) -> f32 {
    edges.iter().map(|&e| env.network().geometry(e).length()).sum::<f32>() - env.scenario().ego.spawn.s
}

#[test]
fn a_lane_keeper_turns_left_at_the_intersection_and_takes_the_roundabouts_second_exit() {
    for (kind, roads) in [("intersection", 2), ("roundabout", 4)] {
        let scenario = alone(kind);
        let drive = drive(scenario.clone(), 3, |_, _| 0);
        eprintln!(
            "{kind}: {:?} after {} steps, {:.1} m, offset ≤ {:.2} m, heading ≤ {:.3} rad",
            drive.end, drive.steps, drive.progress, drive.worst_offset, drive.worst_heading
        );
        assert_eq!(
            drive.end,
            EndReason::Success,
            "{kind}: ended {:?} after {} steps",
            drive.end,
            drive.steps
        );
        // Road, connector, road, ...: every road of the route and a connector between each two.
        assert_eq!(drive.edges.len(), 2 * roads - 1, "{kind}: {:?}", drive.edges);
        let env = Env::new(scenario.clone(), 3);
        let network = env.network();
        let names: Vec<String> = drive
            .edges
            .iter()
            .filter_map(|e| match *e {
                Edge::Carriageway(c) => Some(network.carriageway_name(c)),
                Edge::Connector(_) => None,
            })
            .collect();
        let expected: &[&str] = match kind {
            "intersection" => &["south", "west (back)"],
            _ => &["south (back)", "ring_s", "ring_e", "west"],
        };
        assert_eq!(names, expected, "{kind}");
        // Progress is the route driven: every road and connector, from the spawn to the end.
        let length = route_length(&env, &drive.edges);
        assert!((drive.progress - length).abs() < 1.5, "{kind}: progress {} of {length} m", drive.progress);
        // The frame follows the car through the junctions: no jump in offset or heading. (The
        // lane keeper reads the curvature 20 m ahead, so it turns in early at a junction's
        // 11–20 m radii: up to 1.3 m off the lane centre, its centre still inside the lane.)
        assert!(drive.worst_offset < 1.5, "{kind}: lane offset up to {} m", drive.worst_offset);
        assert!(drive.worst_heading < 0.35, "{kind}: heading error up to {} rad", drive.worst_heading);
        // The same seed drives the same episode, bit for bit.
        assert_eq!(drive.trace, self::drive(scenario, 3, |_, _| 0).trace, "{kind}");
    }
}

#[test]
fn at_the_merge_a_car_that_changes_lanes_goes_on_and_one_that_stays_runs_out_of_road() {
    let scenario = alone("merge");
    let env = Env::new(scenario.clone(), 1);
    let merge_lane = env.network().names.iter().position(|n| n == "merge_lane").unwrap();
    let merge_lane = env.network().carriageway(merge_lane, false).unwrap();
    // On the merge lane, in the acceleration lane (0): steer for lane 1.
    let merging =
        move |env: &Env, lane: u32| i32::from(env.world().on() == Edge::Carriageway(merge_lane) && lane == 0);
    let merged = drive(scenario.clone(), 1, merging);
    assert_eq!(merged.end, EndReason::Success, "after {} steps", merged.steps);
    assert!(merged.edges.contains(&Edge::Carriageway(merge_lane)));
    // Staying in the acceleration lane runs off its end: no lane goes on from it.
    let stayed = drive(scenario, 1, |_, _| 0);
    assert_eq!(stayed.end, EndReason::OffRoad, "after {} steps", stayed.steps);
    assert!(stayed.progress > 150.0 && stayed.progress < merged.progress, "{}", stayed.progress);
}

/// What a soak saw.
struct Soak {
    /// Steps × pairs of NPCs whose footprints overlapped in a junction.
    overlaps: usize,
    /// Metres the NPCs drove.
    driven: f32,
    /// Times an NPC drove onto a connector.
    entries: usize,
    /// Seconds NPCs spent refused their connector at the end of a road (yielding): on roads
    /// with the right of way, and on the others.
    waited: [f32; 2],
    /// Junction entries by the light shown a policy step before (green or no lights, amber, red).
    entered_on: [usize; 3],
}

/// Soaks a network with its NPCs for `steps` policy steps (the ego driven by the lane keeper,
/// episodes restarting as they end).
fn soak(scenario: Arc<Scenario>, steps: u32) -> Soak {
    let vehicle = &scenario.ego.vehicle;
    let driver = KeepLane::through_junctions(scenario.reward.target_speed, vehicle.max_steer, vehicle.length);
    let mut env = Env::new(scenario.clone(), 11);
    let (obs, _) = env.reset(Some(11));
    let mut state = obs.state;
    let (mut overlaps, mut driven, mut entries, mut waited) = (0, 0.0, 0, [0.0f32; 2]);
    let mut entered_on = [0usize; 3];
    let step_time = scenario.actions.repeat as f32 * scenario.episode.dt;
    let mut was_in: Vec<bool> = Vec::new();
    for _ in 0..steps {
        let step = env.step_control(driver.control(&state.driving));
        state = step.obs.state;
        let world = env.world();
        let traffic = world.network_traffic().expect("a network world has network traffic");
        overlaps += traffic.junction_overlaps(world.network());
        let now: Vec<bool> =
            traffic.npcs.iter().map(|n| n.active && matches!(n.edge, Edge::Connector(_))).collect();
        for (n, _) in traffic
            .npcs
            .iter()
            .zip(now.iter().zip(was_in.iter().chain(std::iter::repeat(&false))))
            .filter(|(_, (a, b))| **a && !**b)
        {
            entries += 1;
            let Edge::Connector(k) = n.edge else { unreachable!() };
            // It drove over the line in the last policy step: red when the light was red both
            // at its start and now, amber when either was amber.
            let lights = [world.time() - step_time, world.time()].map(|t| world.network().light(k, t));
            entered_on[match lights {
                [Some(Light::Red), Some(Light::Red)] => 2,
                [Some(Light::Amber), _] | [_, Some(Light::Amber)] => 1,
                _ => 0,
            }] += 1;
        }
        driven += traffic.npcs.iter().filter(|n| n.active).map(|n| n.speed).sum::<f32>() * step_time;
        // Refused its connector: slowing or stopped at the line, yielding.
        for n in traffic.npcs.iter().filter(|n| n.active && !n.granted && n.waiting > 0.0) {
            if let (Edge::Carriageway(_), Some(k)) = (n.edge, n.next) {
                waited[usize::from(!world.network().priority[k])] += step_time;
            }
        }
        was_in = now;
        if step.terminated || step.truncated {
            let (obs, _) = env.reset(None);
            state = obs.state;
            was_in.clear();
        }
    }
    Soak { overlaps, driven, entries, waited, entered_on }
}

#[test]
fn npcs_drive_every_network_through_its_junctions_without_two_ever_overlapping_in_one() {
    for kind in ["intersection", "roundabout", "merge"] {
        let Soak { overlaps, driven, entries, waited, .. } = soak(template(kind), 10_000);
        eprintln!(
            "{kind}: {overlaps} overlaps, {driven:.0} NPC metres, {entries} junction entries, waited {:.0} s \
             with the right of way and {:.0} s without",
            waited[0], waited[1]
        );
        assert_eq!(overlaps, 0, "{kind}: NPCs overlapped in a junction");
        // Those without the right of way do the waiting (the merge has no crossing to wait at).
        if kind != "merge" {
            assert!(waited[1] > 2.0 * waited[0] && waited[1] > 10.0, "{kind}: waited {waited:?} s");
        }
        // Traffic flows: NPCs cross junctions again and again, not a jam.
        assert!(entries > 100, "{kind}: only {entries} junction entries in 10,000 steps");
        assert!(driven > 20_000.0, "{kind}: NPCs drove only {driven:.0} m");
    }
}

/// The intersection with traffic lights: north–south green for 15 s, then east–west, each with
/// 3 s of amber and 1 s of all-red; `offset` seconds into the cycle at the start.
fn with_lights(scenario: &Scenario, offset: f32) -> Arc<Scenario> {
    let mut scenario = scenario.clone();
    let network = scenario.network.as_mut().unwrap();
    let phase = |roads: [&str; 2]| Phase { green: roads.map(String::from).to_vec(), time: 15.0 };
    network.junctions[0].signals = Some(Signals {
        phases: vec![phase(["north", "south"]), phase(["west", "east"])],
        offset,
        ..Signals::default()
    });
    Arc::new(parse_str(&to_ron(&scenario), "lights").expect("the lights are valid"))
}

#[test]
fn npcs_stop_at_red_lights_and_never_meet_in_the_junction() {
    let Soak { overlaps, entries, entered_on, waited, .. } =
        soak(with_lights(&template("intersection"), 0.0), 10_000);
    eprintln!(
        "lights: {overlaps} overlaps, {entries} entries ({entered_on:?} on green, amber, red), waited {waited:?} s"
    );
    assert_eq!(overlaps, 0);
    assert!(entries > 100, "only {entries} junction entries");
    // Cars granted their way on green that can still stop when it turns amber stop.
    assert_eq!(entered_on[2], 0, "NPCs drove into the junction on red");
    assert!(entered_on[0] > 10 * entered_on[1], "{entered_on:?}");
    // Lights make every arm wait its turn, the main road too.
    assert!(waited[0] > 100.0 && waited[1] > 100.0, "{waited:?}");
}

/// Drives the intersection with the lane keeper; when `obey` it stops for amber and red lights
/// (treating the line as a car standing there).
fn drive_lights(scenario: Arc<Scenario>, obey: bool) -> (EndReason, Vec<Light>) {
    let vehicle = &scenario.ego.vehicle;
    let driver = KeepLane::through_junctions(scenario.reward.target_speed, vehicle.max_steer, vehicle.length);
    let mut env = Env::new(scenario, 5);
    let (obs, mut info) = env.reset(Some(5));
    let mut state = obs.state;
    let mut seen = Vec::new();
    loop {
        let mut wanted = state.driving;
        if let Some((light, to_line)) = info.light_ahead {
            if seen.last() != Some(&light) {
                seen.push(light);
            }
            if obey && light != Light::Green {
                wanted.gap_own = wanted.gap_own.min(to_line);
            }
        }
        let step = env.step_control(driver.control(&wanted));
        state = step.obs.state;
        info = step.info;
        if let Some(end) = info.end {
            if end == EndReason::RedLight {
                assert_eq!(info.reward_terms.red_light, scenario_weight(&env));
            }
            return (end, seen);
        }
    }
}

fn scenario_weight(env: &Env) -> f32 {
    env.scenario().reward.red_light
}

#[test]
fn the_ego_that_runs_a_red_light_ends_there_and_one_that_waits_for_green_gets_through() {
    let alone = alone("intersection");
    // The ego reaches the line about 9 s in: on green from the start of the north–south phase.
    let (end, seen) = drive_lights(with_lights(&alone, 0.0), false);
    assert_eq!((end, seen), (EndReason::Success, vec![Light::Green]));
    // 19 s into the cycle the north–south lights are red for the next 19 s.
    let red = with_lights(&alone, 19.0);
    let (end, seen) = drive_lights(red.clone(), false);
    assert_eq!((end, seen), (EndReason::RedLight, vec![Light::Red]));
    let (end, seen) = drive_lights(red.clone(), true);
    assert_eq!((end, seen), (EndReason::Success, vec![Light::Red, Light::Green]), "waited for green");
    // Without the rule the episode goes on, and only the reward says so.
    let mut lenient = (*red).clone();
    lenient.episode.end_on.red_light = false;
    let (end, _) = drive_lights(Arc::new(lenient), false);
    assert_eq!(end, EndReason::Success);
}

#[test]
fn an_event_keyed_to_a_road_happens_when_the_ego_gets_there_along_its_route() {
    // South arm 100 m from the spawn at 20 m, the left turn, then 30 m into the west arm.
    let mut scenario = (*alone("intersection")).clone();
    let event = |name: &str, road: &str, s: f32, speed: f32| Event {
        name: name.into(),
        when: Trigger::EgoAt { s, road: Some(road.into()) },
        delay: 0.0,
        then: vec![EventAction::TargetSpeed { speed }],
    };
    scenario.events = vec![event("early", "south", 50.0, 9.0), event("slow", "west", 30.0, 4.0)];
    let scenario = Arc::new(parse_str(&to_ron(&scenario), "events").expect("valid on a network"));
    let vehicle = &scenario.ego.vehicle;
    let driver = KeepLane::through_junctions(scenario.reward.target_speed, vehicle.max_steer, vehicle.length);
    let mut env = Env::new(scenario.clone(), 4);
    let (obs, _) = env.reset(Some(4));
    let mut state = obs.state;
    let mut happened = Vec::new();
    loop {
        let step = env.step_control(driver.control(&state.driving));
        state = step.obs.state;
        let world = env.world();
        for bit in 0..2 {
            if step.info.events & (1 << bit) != 0 {
                let road = match world.on() {
                    Edge::Carriageway(c) => world.network().carriageway_name(c),
                    Edge::Connector(_) => "a junction".into(),
                };
                happened.push((bit, road, world.ego_state().road.s));
            }
        }
        if step.info.end.is_some() {
            assert_eq!(step.info.end, Some(EndReason::Success));
            break;
        }
    }
    assert_eq!(happened.len(), 2, "{happened:?}");
    // In the order the route reaches them, each within a policy step (< 1 m) past its mark.
    assert_eq!((happened[0].0, happened[0].1.as_str()), (0, "south"));
    assert!((50.0..51.0).contains(&happened[0].2), "{happened:?}");
    assert_eq!((happened[1].0, happened[1].1.as_str()), (1, "west (back)"));
    assert!((30.0..31.0).contains(&happened[1].2), "{happened:?}");
    assert_eq!(env.world().target_speed(), Some(4.0), "the west arm's speed");
}

#[test]
fn an_obstacle_on_a_network_road_stands_where_the_route_drives_it_and_the_ego_sees_it() {
    // A crate in the west arm's westbound lane, 40 m in: after the left turn, in the ego's way.
    let mut scenario = (*alone("intersection")).clone();
    scenario.obstacles = vec![Obstacle {
        kind: ObstacleKind::Box,
        s: 40.0,
        lane: Some(0),
        offset: 0.0,
        size: None,
        road: Some("west".into()),
    }];
    let scenario = Arc::new(parse_str(&to_ron(&scenario), "obstacle").expect("valid on a network"));
    let env = Env::new(scenario.clone(), 6);
    let placed = &env.world().obstacles()[0];
    let west_back = env.network().carriageway(2, true).unwrap();
    assert_eq!(placed.edge, Edge::Carriageway(west_back));
    // 40 m along the westbound lanes from the junction: x = -12 - 40, in the northern half.
    assert!((placed.pose.x - -52.0).abs() < 0.01 && placed.pose.y > 0.0, "{:?}", placed.pose);

    let vehicle = &scenario.ego.vehicle;
    let driver = KeepLane::through_junctions(scenario.reward.target_speed, vehicle.max_steer, vehicle.length);
    let mut env = Env::new(scenario, 6);
    let (obs, _) = env.reset(Some(6));
    let mut state = obs.state;
    let mut gaps = Vec::new();
    loop {
        // Drive blind to it: the lane keeper is told the lane ahead is free.
        let step = env.step_control(driver.control(&DrivingState { gap_own: 60.0, ..state.driving }));
        state = step.obs.state;
        if env.world().on() == Edge::Carriageway(west_back) {
            gaps.push(state.driving.gap_own);
        } else {
            assert_eq!(state.driving.gap_own, 60.0, "the crate is not on the south arm or in the junction");
        }
        if let Some(end) = step.info.end {
            assert_eq!(end, EndReason::Collision, "{gaps:?}");
            break;
        }
    }
    // On the west arm the ego sees the crate ahead, closer each step, until it hits it.
    assert!(gaps.first().is_some_and(|&g| g < 40.0) && gaps.last().is_some_and(|&g| g < 1.0), "{gaps:?}");
    assert!(gaps.windows(2).all(|w| w[1] <= w[0]), "{gaps:?}");
}

#[test]
fn crossing_into_the_oncoming_lane_ends_the_episode_as_wrong_way() {
    // Steer for one lane left of the ego's own: the south arm's northbound lane is its only one,
    // so that is the southbound lane.
    let drift =
        drive(alone("intersection"), 2, |env, _| i32::from(matches!(env.world().on(), Edge::Carriageway(_))));
    assert_eq!(drift.end, EndReason::WrongWay, "after {} steps", drift.steps);
    assert!(drift.progress < 60.0, "{}", drift.progress);
    // Without the rule the car drives on in the wrong lane, each step costing the weight.
    let mut lenient = (*alone("intersection")).clone();
    lenient.episode.end_on.wrong_way = false;
    let scenario = Arc::new(lenient);
    let vehicle = &scenario.ego.vehicle;
    let driver = KeepLane::through_junctions(scenario.reward.target_speed, vehicle.max_steer, vehicle.length);
    let mut env = Env::new(scenario.clone(), 2);
    let (obs, _) = env.reset(Some(2));
    let mut state = obs.state;
    let mut costly = 0;
    for _ in 0..40 {
        let mut wanted = state.driving;
        wanted.lane_offset -= env.world().edge().lane_width();
        let step = env.step_control(driver.control(&wanted));
        state = step.obs.state;
        assert_ne!(step.info.end, Some(EndReason::WrongWay));
        if step.info.reward_terms.wrong_way != 0.0 {
            assert_eq!(step.info.reward_terms.wrong_way, scenario.reward.wrong_way);
            costly += 1;
        }
    }
    assert!(costly > 10, "only {costly} steps in the wrong lane");
}
