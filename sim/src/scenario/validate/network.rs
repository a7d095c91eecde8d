//! A road network: its roads (placement, segments, lanes), its junctions (names, lanes that
//! exist, connectors that can be laid), roads that overlap without a junction, and the ego's
//! route (a way the junctions allow).

use super::road::segments;
use super::*;
use crate::network::Network as Laid;
use crate::scenario::{Junction, Network, Route, Signals, Trigger};
use rand::SeedableRng;
use std::collections::HashSet;

const MAX_ROADS: usize = 256;
const MAX_JUNCTIONS: usize = 256;
const MAX_CONNECTIONS: usize = 256;
const MAX_PLACE: f32 = 100_000.0;
const MAX_PHASES: usize = 16;

/// Checks `network` and the ego's route through it; what the ego checks need (the route's first
/// road, driven its way) when both are valid.
pub(super) fn network(c: &mut Checker, scenario: &Scenario, network: &Network) -> RoadFacts {
    let unknown = RoadFacts { lanes: None, closed: false, geometry: None, edge: None };
    if scenario.road != Road::default() {
        c.report(
            "road",
            "a scenario gives either `road` or `network`, not both: put this road in network.roads",
        );
    }
    if scenario.ego.route.is_none() {
        c.report(
            "ego.route",
            "a network scenario needs a route: Roads([\"first\", \"second\", ...]) or Random(from: \"first\")",
        );
    }
    not_on_networks_yet(c, scenario);
    c.positive("network.friction", network.friction, 3.0);

    let before = c.problems.len();
    if network.roads.is_empty() || network.roads.len() > MAX_ROADS {
        c.report("network.roads", format!("must have 1 to {MAX_ROADS} roads (got {})", network.roads.len()));
    }
    let mut names = HashSet::new();
    for (i, road) in network.roads.iter().enumerate() {
        let path = format!("network.roads[{i}]");
        if name(c, &format!("{path}.name"), &road.name) && !names.insert(road.name.as_str()) {
            c.report(
                format!("{path}.name"),
                format!("another road is named {:?}: names must be unique", road.name),
            );
        }
        c.bounded(&format!("{path}.start.x"), road.start.x, Bound::Incl(-MAX_PLACE), Bound::Incl(MAX_PLACE));
        c.bounded(&format!("{path}.start.y"), road.start.y, Bound::Incl(-MAX_PLACE), Bound::Incl(MAX_PLACE));
        c.in_range(&format!("{path}.start.heading"), road.start.heading, -360.0, 360.0);
        let lanes_ok = c.count(&format!("{path}.lanes"), road.lanes.into(), 1, MAX_LANES);
        let back_ok = c.count(&format!("{path}.lanes_back"), road.lanes_back.into(), 0, MAX_LANES);
        let width_ok = c.positive(&format!("{path}.lane_width"), road.lane_width, 10.0);
        let shoulder_ok = c.in_range(&format!("{path}.shoulder"), road.shoulder, 0.0, 50.0);
        // From the centre line to the farther edge: half the lanes of a one-way road, all of
        // the wider direction's lanes on a two-way one.
        let half_width = (lanes_ok && back_ok && width_ok && shoulder_ok).then(|| {
            let across = if road.lanes_back == 0 {
                0.5 * road.lanes as f32
            } else {
                road.lanes.max(road.lanes_back) as f32
            };
            (
                across * road.lane_width + road.shoulder,
                "the lanes from the centre line to the road's edge, plus the shoulder",
            )
        });
        segments(c, &path, &road.segments, half_width);
    }
    let mut junction_names = HashSet::new();
    if network.junctions.len() > MAX_JUNCTIONS {
        c.report(
            "network.junctions",
            format!("must have at most {MAX_JUNCTIONS} junctions (got {})", network.junctions.len()),
        );
    }
    for (j, junction) in network.junctions.iter().enumerate() {
        let path = format!("network.junctions[{j}]");
        if name(c, &format!("{path}.name"), &junction.name) && !junction_names.insert(junction.name.as_str())
        {
            c.report(
                format!("{path}.name"),
                format!("another junction is named {:?}: names must be unique", junction.name),
            );
        }
        if junction.connect.is_empty() || junction.connect.len() > MAX_CONNECTIONS {
            c.report(
                format!("{path}.connect"),
                format!("must have 1 to {MAX_CONNECTIONS} connections (got {})", junction.connect.len()),
            );
        }
        if let Some(signals) = &junction.signals {
            self::signals(c, &path, junction, signals);
        }
    }
    let mut pairs = HashSet::new();
    for (j, junction) in network.junctions.iter().enumerate() {
        for (k, connection) in junction.connect.iter().enumerate() {
            if !pairs.insert(connection) {
                c.report(
                    format!("network.junctions[{j}].connect[{k}]"),
                    "connects the same two lanes as a connection before it",
                );
            }
        }
    }
    if c.problems.len() > before {
        return unknown;
    }

    let laid = match Laid::laid(network) {
        Ok(laid) => laid,
        Err(error) => {
            c.report(error.path(), error.to_string());
            return unknown;
        }
    };
    for (a, b, at) in laid.overlaps() {
        c.report(
            format!("network.roads[{b}]"),
            format!(
                "road {:?} overlaps road {:?} near (x = {}, y = {}) without a junction joining them: \
                 end both roads short of the crossing and connect them in a junction",
                laid.names[b],
                laid.names[a],
                short(at.x),
                short(at.y)
            ),
        );
    }
    // Only the names of a Random route are checked: it is drawn per episode.
    let route = match laid.route(scenario.ego.route.as_ref(), &mut rand_chacha::ChaCha8Rng::seed_from_u64(0))
    {
        Ok(route) => route,
        Err(error) => {
            c.report(error.path(), error.to_string());
            return unknown;
        }
    };
    if let Some(Route::Roads(roads)) = &scenario.ego.route
        && roads.is_empty()
    {
        c.report("ego.route", "Roads needs at least one road");
        return unknown;
    }
    let first = &laid.carriageways[route[0]];
    let lanes = first.geometry.lanes();
    if scenario.ego.spawn.lane >= lanes {
        c.report(
            "ego.spawn.lane",
            format!(
                "must be a lane index from 0 to {} (road {} has {lanes} lane{} that way; got {})",
                lanes - 1,
                laid.carriageway_name(route[0]),
                if lanes == 1 { "" } else { "s" },
                scenario.ego.spawn.lane
            ),
        );
    }
    event_roads(c, scenario, &laid, &route);
    obstacle_roads(c, scenario, &laid);
    agent_routes(c, scenario, &laid, route[0]);
    RoadFacts { lanes: None, closed: false, geometry: Some(first.geometry.clone()), edge: None }
}

/// Each agent's route laid through the network (its own, or the ego's starting on `ego_first`),
/// then the agents' spawns checked on their first roads.
fn agent_routes(c: &mut Checker, scenario: &Scenario, laid: &Laid, ego_first: usize) {
    let firsts: Vec<Option<(usize, RoadFacts)>> = scenario
        .agents
        .iter()
        .enumerate()
        .map(|(i, agent)| {
            let first = match &agent.route {
                None => ego_first,
                Some(Route::Roads(roads)) if roads.is_empty() => {
                    c.report(format!("agents[{i}].route"), "Roads needs at least one road");
                    return None;
                }
                Some(route) => {
                    match laid.route(Some(route), &mut rand_chacha::ChaCha8Rng::seed_from_u64(0)) {
                        Ok(route) => route[0],
                        Err(error) => {
                            let path = error.path().replacen("ego.route", &format!("agents[{i}].route"), 1);
                            c.report(&path, error.to_string());
                            return None;
                        }
                    }
                }
            };
            let geometry = laid.carriageways[first].geometry.clone();
            Some((
                first,
                RoadFacts {
                    lanes: Some(geometry.lanes()),
                    closed: false,
                    geometry: Some(geometry),
                    edge: None,
                },
            ))
        })
        .collect();
    super::agents::agents(c, scenario, |i| firsts[i].as_ref().map(|(k, facts)| (*k, facts)));
}

/// Each obstacle on the road it names, checked as on a single road against that road's lanes.
fn obstacle_roads(c: &mut Checker, scenario: &Scenario, laid: &Laid) {
    if scenario.obstacles.len() > MAX_OBSTACLES {
        let count = scenario.obstacles.len();
        c.report("obstacles", format!("must have at most {MAX_OBSTACLES} entries (got {count})"));
    }
    for (i, o) in scenario.obstacles.iter().enumerate() {
        let path = format!("obstacles[{i}]");
        let Some(name) = &o.road else {
            c.report(
                format!("{path}.road"),
                "on a road network an obstacle names its road: (kind: Cone, road: \"west\", s: 30.0, lane: 0)",
            );
            continue;
        };
        let Some(k) = laid.obstacle_carriageway(scenario.ego.route.as_ref(), name) else {
            let known = laid.names.iter().map(|n| format!("{n:?}")).collect::<Vec<_>>().join(", ");
            c.report(format!("{path}.road"), format!("no road is named {name:?} (roads: {known})"));
            continue;
        };
        let geometry = laid.carriageways[k].geometry.clone();
        let facts = RoadFacts {
            lanes: Some(geometry.lanes()),
            closed: false,
            edge: Some(geometry.drivable_half_width()),
            geometry: Some(geometry),
        };
        super::obstacles::obstacle(c, &path, o, &facts);
    }
}

/// The roads `EgoAt` triggers name: roads of the network, along the ego's route when it is
/// fixed, `s` within the road.
fn event_roads(c: &mut Checker, scenario: &Scenario, laid: &Laid, route: &[usize]) {
    for (i, event) in scenario.events.iter().enumerate() {
        let Trigger::EgoAt { s, road: Some(name) } = &event.when else { continue };
        let path = format!("events[{i}].when.EgoAt");
        let Some(road) = laid.names.iter().position(|n| n == name) else {
            let known = laid.names.iter().map(|n| format!("{n:?}")).collect::<Vec<_>>().join(", ");
            c.report(format!("{path}.road"), format!("no road is named {name:?} (roads: {known})"));
            continue;
        };
        let on_route = route.iter().find(|&&k| laid.carriageways[k].road == road);
        if matches!(scenario.ego.route, Some(Route::Roads(_))) && on_route.is_none() {
            c.report(
                format!("{path}.road"),
                format!("road {name:?} is not on the ego's route: the event would never happen"),
            );
            continue;
        }
        let length = on_route.map(|&k| laid.carriageways[k].geometry.length()).unwrap_or_else(|| {
            let ways = laid.carriageways.iter().filter(|w| w.road == road);
            ways.map(|w| w.geometry.length()).fold(0.0, f32::max)
        });
        if s.is_finite() && !(0.0..=length).contains(s) {
            c.report(
                format!("{path}.s"),
                format!("must lie along road {name:?}, 0 to {} m (got {})", short(length), num(*s)),
            );
        }
    }
}

/// A junction's lights: sensible times, and a green for every road that leads in and only for
/// those (a road never green would hold its cars for ever).
fn signals(c: &mut Checker, path: &str, junction: &Junction, signals: &Signals) {
    let path = format!("{path}.signals");
    if signals.phases.is_empty() || signals.phases.len() > MAX_PHASES {
        c.report(
            format!("{path}.phases"),
            format!("must have 1 to {MAX_PHASES} phases (got {})", signals.phases.len()),
        );
    }
    c.in_range(&format!("{path}.amber"), signals.amber, 0.0, 10.0);
    c.in_range(&format!("{path}.all_red"), signals.all_red, 0.0, 10.0);
    c.in_range(&format!("{path}.offset"), signals.offset, 0.0, 3600.0);
    let leading_in: Vec<&str> = junction.connect.iter().map(|k| k.from.road.as_str()).collect();
    for (p, phase) in signals.phases.iter().enumerate() {
        c.positive(&format!("{path}.phases[{p}].time"), phase.time, 600.0);
        if phase.green.is_empty() {
            c.report(format!("{path}.phases[{p}].green"), "must name at least one road");
        }
        for (g, road) in phase.green.iter().enumerate() {
            if !leading_in.contains(&road.as_str()) {
                c.report(
                    format!("{path}.phases[{p}].green[{g}]"),
                    format!("no connection of this junction leaves road {road:?}: only roads that lead in have lights"),
                );
            }
        }
    }
    let mut missing: Vec<&str> = leading_in
        .into_iter()
        .filter(|r| signals.phases.iter().all(|p| !p.green.iter().any(|g| g == r)))
        .collect();
    missing.dedup();
    if !missing.is_empty() && !signals.phases.is_empty() {
        c.report(
            format!("{path}.phases"),
            format!(
                "no phase gives road{} {} a green: its cars would wait for ever",
                if missing.len() == 1 { "" } else { "s" },
                missing.iter().map(|r| format!("{r:?}")).collect::<Vec<_>>().join(", ")
            ),
        );
    }
}

/// A road or junction name: what messages, maps and routes call it.
fn name(c: &mut Checker, path: &str, name: &str) -> bool {
    let ok = !name.is_empty()
        && name.len() <= 40
        && name.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '_' || ch == '-');
    if !ok {
        c.report(path, format!("must be 1 to 40 letters, digits, '_' or '-' (got {name:?})"));
    }
    ok
}

/// What only a single road carries (events are checked in `events`, obstacles with their road).
fn not_on_networks_yet(c: &mut Checker, scenario: &Scenario) {
    if !scenario.traffic.lanes.is_empty() {
        c.report(
            "traffic.lanes",
            "must be empty on a network: NPCs enter in every lane of the roads no junction leads into",
        );
    }
    if matches!(scenario.episode.success, Some(Success::Laps(_))) {
        c.report(
            "episode.success",
            "Laps needs a closed road: on a network use RoadEnd (the route's end) or Distance",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{
        Event, EventAction, LaneEnd, NetworkRoad, Obstacle, ObstacleKind, Phase, Place, parse_str,
        template_of,
    };

    fn intersection() -> Scenario {
        parse_str(&template_of("intersection", "x").unwrap(), "intersection").unwrap()
    }

    /// The (path, message) of every problem of the intersection template after `edit`.
    fn problems(edit: impl FnOnce(&mut Scenario, &mut Network)) -> Vec<(String, String)> {
        let mut scenario = intersection();
        let mut network = scenario.network.take().unwrap();
        edit(&mut scenario, &mut network);
        scenario.network = Some(network);
        validate(&scenario).into_iter().map(|p| (p.path, p.message)).collect()
    }

    #[track_caller]
    fn assert_problem(edit: impl FnOnce(&mut Scenario, &mut Network), path: &str, fragment: &str) {
        let found = problems(edit);
        assert!(
            found.len() == 1 && found[0].0 == path && found[0].1.contains(fragment),
            "expected one problem at {path} mentioning {fragment:?}, found {found:#?}"
        );
    }

    #[test]
    fn each_mistake_in_a_network_is_named_by_its_field() {
        assert_eq!(problems(|_, _| {}), []);
        assert_problem(
            |_, n| n.roads[2].segments = vec![Segment::Arc { radius: 4.0, angle: 30.0 }],
            "network.roads[2].segments[0].radius",
            "greater than half the road width, 4.5 m",
        );
        assert_problem(
            |_, n| n.junctions[0].connect[1].to.lane = 3,
            "network.junctions[0].connect[1].to.lane",
            "road \"east\" has 1 lanes (so lanes 0 to 0): there is no lane 3",
        );
        assert_problem(
            |_, n| n.junctions[0].connect[1].from.road = "sooth".into(),
            "network.junctions[0].connect[1].from.road",
            "no road is named \"sooth\"",
        );
        assert_problem(
            |_, n| {
                let again = n.junctions[0].connect[0].clone();
                n.junctions[0].connect.push(again)
            },
            "network.junctions[0].connect[12]",
            "the same two lanes",
        );
        assert_problem(|_, n| n.roads[1].name = "south".into(), "network.roads[1].name", "another road");
        assert_problem(
            |_, n| n.roads[1].name = "north arm".into(),
            "network.roads[1].name",
            "letters, digits",
        );
        // A road across the east arm, with no junction joining them.
        assert_problem(
            |_, n| {
                n.roads.push(NetworkRoad {
                    name: "bypass".into(),
                    start: Place { x: 60.0, y: -50.0, heading: 90.0 },
                    ..NetworkRoad::default()
                })
            },
            "network.roads[4]",
            "road \"bypass\" overlaps road \"east\" near (x = 59, y = -1.75)",
        );
        // North, south, west: from the north arm the junction leads south only onto the south
        // arm's southbound lanes, whose end leads nowhere, let alone west.
        assert_problem(
            |s, _| s.ego.route = Some(Route::Roads(vec!["north".into(), "south".into(), "west".into()])),
            "ego.route.Roads[1]",
            "no junction connects road \"north\" to road \"south\" in a direction from which the route \
             can go on to road \"west\"",
        );
        assert_problem(|s, _| s.ego.spawn.lane = 1, "ego.spawn.lane", "road south has 1 lane that way");
        assert_problem(|s, _| s.ego.spawn.s = 120.0, "ego.spawn.s", "road's length, 100 m");
        assert_problem(|s, _| s.ego.route = None, "ego.route", "a network scenario needs a route");
        assert_problem(|s, _| s.road.lanes = 3, "road", "either `road` or `network`");
        assert_problem(|s, _| s.traffic.lanes = vec![0], "traffic.lanes", "must be empty on a network");
        assert_problem(
            |_, n| n.junctions[0].priority = vec!["north".into(), "nowhere".into()],
            "network.junctions[0].priority[1]",
            "no road is named \"nowhere\"",
        );
        let lights = |phases: &[&[&str]]| Signals {
            phases: phases
                .iter()
                .map(|green| Phase { green: green.iter().map(|r| r.to_string()).collect(), time: 20.0 })
                .collect(),
            ..Signals::default()
        };
        assert_problem(
            |_, n| n.junctions[0].signals = Some(lights(&[&["north", "south"], &["west"]])),
            "network.junctions[0].signals.phases",
            "no phase gives road \"east\" a green",
        );
        assert_problem(
            |_, n| n.junctions[0].signals = Some(lights(&[&["north", "south"], &["west", "east", "wset"]])),
            "network.junctions[0].signals.phases[1].green[2]",
            "no connection of this junction leaves road \"wset\"",
        );
        assert_problem(
            |_, n| {
                let mut signals = lights(&[&["north", "south"], &["west", "east"]]);
                signals.amber = 20.0;
                n.junctions[0].signals = Some(signals)
            },
            "network.junctions[0].signals.amber",
            "",
        );
        assert_problem(
            |_, n| {
                let mut signals = lights(&[&["north", "south"], &["west", "east"]]);
                signals.phases[0].time = 0.0;
                n.junctions[0].signals = Some(signals)
            },
            "network.junctions[0].signals.phases[0].time",
            "",
        );
        assert_eq!(
            problems(|_, n| n.junctions[0].signals = Some(lights(&[&["north", "south"], &["west", "east"]]))),
            [],
            "a two-phase plan that gives every arm a green is valid"
        );
        // Obstacles on a network name their road; lanes and s are checked on it.
        let cone = |road: Option<&str>, s: f32, lane: u32| Obstacle {
            kind: ObstacleKind::Cone,
            s,
            lane: Some(lane),
            offset: 0.0,
            size: None,
            road: road.map(String::from),
        };
        assert_eq!(problems(|s, _| s.obstacles = vec![cone(Some("west"), 40.0, 0)]), []);
        assert_problem(|s, _| s.obstacles = vec![cone(None, 40.0, 0)], "obstacles[0].road", "names its road");
        assert_problem(
            |s, _| s.obstacles = vec![cone(Some("wset"), 40.0, 0)],
            "obstacles[0].road",
            "no road is named",
        );
        assert_problem(|s, _| s.obstacles = vec![cone(Some("west"), 40.0, 1)], "obstacles[0].lane", "");
        assert_problem(|s, _| s.obstacles = vec![cone(Some("west"), 140.0, 0)], "obstacles[0].s", "");
        // Events on a network: Time and EgoAt(road, s) triggers, Look and TargetSpeed actions.
        let event =
            |when: Trigger, then: EventAction| Event { name: "e".into(), when, delay: 0.0, then: vec![then] };
        let at = |road: Option<&str>, s: f32| Trigger::EgoAt { s, road: road.map(String::from) };
        let slow = EventAction::TargetSpeed { speed: 3.0 };
        assert_eq!(problems(|s, _| s.events = vec![event(at(Some("west"), 20.0), slow.clone())]), []);
        assert_problem(
            |s, _| s.events = vec![event(at(None, 20.0), slow.clone())],
            "events[0].when.EgoAt.road",
            "on a road network EgoAt names the road",
        );
        assert_problem(
            |s, _| s.events = vec![event(at(Some("wset"), 20.0), slow.clone())],
            "events[0].when.EgoAt.road",
            "no road is named \"wset\"",
        );
        assert_problem(
            |s, _| s.events = vec![event(at(Some("east"), 20.0), slow.clone())],
            "events[0].when.EgoAt.road",
            "road \"east\" is not on the ego's route",
        );
        assert_problem(
            |s, _| s.events = vec![event(at(Some("west"), 120.0), slow.clone())],
            "events[0].when.EgoAt.s",
            "must lie along road \"west\", 0 to 100 m",
        );
        assert_problem(
            |s, _| s.events = vec![event(at(Some("west"), 20.0), EventAction::Stop { npc: 0 })],
            "events[0].then[0]",
            "not yet supported on a network",
        );
        assert_problem(
            |s, _| s.events = vec![event(Trigger::Gap { npc: 0, below: 5.0 }, slow.clone())],
            "events[0].when",
            "not yet supported on a network",
        );
        assert_problem(
            |s, _| s.ego.route = Some(Route::Random { from: "nowhere".into() }),
            "ego.route.Random.from",
            "no road is named \"nowhere\"",
        );
        // The south arm's lanes back end 100 m south of the junction: not a junction's join.
        let lane = |road: &str| LaneEnd { road: road.into(), lane: 0, back: true };
        assert_problem(
            |_, n| n.junctions[0].connect[0].from = lane("south"),
            "network.junctions[0].connect[0]",
            "the connector cannot be laid: the first lane ends 124 m from where the second starts",
        );
        // A route without a network.
        let mut one_road = Scenario::default();
        one_road.ego.route = Some(Route::Roads(vec!["a".into()]));
        let found = validate(&one_road);
        assert!(found.len() == 1 && found[0].path == "ego.route", "{found:?}");
    }
}
