//! Road networks (issue 26): every road of a scenario laid on the plane, split into its directions
//! of travel (carriageways), joined by the junctions' connectors; and the ego's route through it.
//!
//! A carriageway is a [`RoadGeometry`] laid along its direction of travel, its lanes numbered from
//! the right that way, so everything that works on one road — the (s, d) frame, projection,
//! lanes, meshes — works on each part of a network. A scenario with a single `road:` is a network
//! of one carriageway and no connectors, and everything below reduces to what that road does.

use crate::connector::{Connector, ConnectorError, LaneRef};
use crate::road::{PlanePose, RoadGeometry, RoadPoint};
use crate::scenario::{Network as NetworkFile, NetworkRoad, Road, Route, Scenario, Segment};
use crate::signals::{Light, SignalPlan};
use rand::{Rng, SeedableRng};

/// Longest route a `Random` route draws (roads).
pub const MAX_RANDOM_ROUTE: usize = 32;

/// One direction of travel of a road.
#[derive(Debug, Clone)]
pub struct Carriageway {
    /// The road's index in the network (the scenario's `network.roads`).
    pub road: usize,
    /// Whether it runs against the road's own direction (the road's `lanes_back`).
    pub back: bool,
    pub geometry: RoadGeometry,
}

/// A connector of a junction, between two carriageways' lanes (`LaneRef::road` is a carriageway).
#[derive(Debug, Clone)]
pub struct JunctionPath {
    /// The junction's index in the scenario's `network.junctions`.
    pub junction: usize,
    pub connector: Connector,
}

/// Something a car can be on: a carriageway or a connector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edge {
    Carriageway(usize),
    Connector(usize),
}

/// The laid-out network.
#[derive(Debug, Clone)]
pub struct Network {
    /// Road names, by road index (one unnamed road for a `road:` scenario).
    pub names: Vec<String>,
    pub carriageways: Vec<Carriageway>,
    pub connectors: Vec<JunctionPath>,
    /// Per carriageway: the connectors that leave its end.
    leaving: Vec<Vec<usize>>,
    /// Per connector: the connectors of its junction from another lane whose paths come within
    /// [`CONFLICT_DISTANCE`] of its own (they cross or merge). Connectors leaving one lane part
    /// without conflict: the cars on them follow each other until the paths part.
    pub conflicts: Vec<Vec<usize>>,
    /// Per connector: whether it leaves a road with the right of way at its junction.
    pub priority: Vec<bool>,
    /// Per junction: its traffic lights, if it has any.
    pub signals: Vec<Option<SignalPlan>>,
    /// Whether this is a `road:` scenario's single road (its frame wraps on a loop).
    single: bool,
}

/// Why a network cannot be laid out, with the scenario field it concerns.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum NetworkError {
    #[error("no road is named {name:?} (roads: {known})")]
    UnknownRoad { path: String, name: String, known: String },
    #[error("road {road:?} has {lanes} {way} (so lanes 0 to {max}): there is no lane {lane}", max = .lanes.saturating_sub(1))]
    NoLane { path: String, road: String, lane: u32, lanes: u32, way: &'static str },
    #[error("road {road:?} has no lanes the other way (lanes_back is 0)")]
    NoBackLanes { path: String, road: String },
    #[error("the connector cannot be laid: {error}")]
    Connector { path: String, error: ConnectorError },
    #[error("no junction connects road {from:?} to road {to:?}{hint}")]
    NotConnected { path: String, from: String, to: String, hint: String },
}

impl NetworkError {
    /// The scenario field the problem is in, e.g. `network.junctions[0].connect[2].to.lane`.
    pub fn path(&self) -> &str {
        match self {
            NetworkError::UnknownRoad { path, .. }
            | NetworkError::NoLane { path, .. }
            | NetworkError::NoBackLanes { path, .. }
            | NetworkError::Connector { path, .. }
            | NetworkError::NotConnected { path, .. } => path,
        }
    }
}

impl Network {
    /// The network of a scenario: its `network`, or its single `road`.
    pub fn new(scenario: &Scenario) -> Result<Self, NetworkError> {
        match &scenario.network {
            None => Ok(Self::single(&scenario.road)),
            Some(file) => Self::laid(file),
        }
    }

    /// A `road:` scenario's world: the road itself, laid from the origin.
    pub fn single(road: &Road) -> Self {
        Self {
            names: vec![String::new()],
            carriageways: vec![Carriageway { road: 0, back: false, geometry: RoadGeometry::new(road) }],
            connectors: Vec::new(),
            leaving: vec![Vec::new()],
            conflicts: Vec::new(),
            priority: Vec::new(),
            signals: Vec::new(),
            single: true,
        }
    }

    /// Lays out every road's carriageways, then every junction's connectors.
    pub fn laid(file: &NetworkFile) -> Result<Self, NetworkError> {
        let mut carriageways = Vec::new();
        for (index, road) in file.roads.iter().enumerate() {
            carriageways.extend(carriageways_of(index, road));
        }
        let mut network = Self {
            names: file.roads.iter().map(|r| r.name.clone()).collect(),
            leaving: vec![Vec::new(); carriageways.len()],
            carriageways,
            connectors: Vec::new(),
            conflicts: Vec::new(),
            priority: Vec::new(),
            signals: Vec::new(),
            single: false,
        };
        let geometries: Vec<RoadGeometry> = network.carriageways.iter().map(|c| c.geometry.clone()).collect();
        for (j, junction) in file.junctions.iter().enumerate() {
            for (k, connection) in junction.connect.iter().enumerate() {
                let path = format!("network.junctions[{j}].connect[{k}]");
                let from = network.lane(file, &format!("{path}.from"), &connection.from)?;
                let to = network.lane(file, &format!("{path}.to"), &connection.to)?;
                let connector = Connector::join(&geometries, from, to)
                    .map_err(|error| NetworkError::Connector { path: path.clone(), error })?;
                network.leaving[from.road].push(network.connectors.len());
                network.connectors.push(JunctionPath { junction: j, connector });
                let road = network.carriageways[from.road].road;
                network.priority.push(junction.priority.iter().any(|name| network.names[road] == *name));
            }
            for (i, name) in junction.priority.iter().enumerate() {
                network.road_index(&format!("network.junctions[{j}].priority[{i}]"), name)?;
            }
            let plan = match &junction.signals {
                None => None,
                Some(signals) => {
                    let mut green = Vec::new();
                    for (p, phase) in signals.phases.iter().enumerate() {
                        let mut roads = Vec::new();
                        for (g, name) in phase.green.iter().enumerate() {
                            let path = format!("network.junctions[{j}].signals.phases[{p}].green[{g}]");
                            roads.push(network.road_index(&path, name)?);
                        }
                        green.push(roads);
                    }
                    Some(SignalPlan::new(signals, green))
                }
            };
            network.signals.push(plan);
        }
        network.conflicts = conflicts(&network.connectors);
        Ok(network)
    }

    /// The carriageway lane a file's `LaneEnd` names.
    fn lane(
        &self,
        file: &NetworkFile,
        path: &str,
        end: &crate::scenario::LaneEnd,
    ) -> Result<LaneRef, NetworkError> {
        let road = self.road_index(&format!("{path}.road"), &end.road)?;
        let spec = &file.roads[road];
        let (lanes, way) = if end.back { (spec.lanes_back, "lanes back") } else { (spec.lanes, "lanes") };
        if end.back && lanes == 0 {
            return Err(NetworkError::NoBackLanes { path: format!("{path}.back"), road: end.road.clone() });
        }
        if end.lane >= lanes {
            return Err(NetworkError::NoLane {
                path: format!("{path}.lane"),
                road: end.road.clone(),
                lane: end.lane,
                lanes,
                way,
            });
        }
        let carriageway = self.carriageway(road, end.back).expect("a direction with lanes is laid");
        Ok(LaneRef { road: carriageway, lane: end.lane })
    }

    fn road_index(&self, path: &str, name: &str) -> Result<usize, NetworkError> {
        self.names.iter().position(|n| n == name).ok_or_else(|| NetworkError::UnknownRoad {
            path: path.to_string(),
            name: name.to_string(),
            known: self.names.iter().map(|n| format!("{n:?}")).collect::<Vec<_>>().join(", "),
        })
    }

    /// The carriageway of road `road` in direction `back`, if the road has lanes that way.
    pub fn carriageway(&self, road: usize, back: bool) -> Option<usize> {
        self.carriageways.iter().position(|c| c.road == road && c.back == back)
    }

    /// The other direction of carriageway `carriageway`'s road, when the road is two-way.
    pub fn opposite(&self, carriageway: usize) -> Option<usize> {
        let here = &self.carriageways[carriageway];
        self.carriageway(here.road, !here.back)
    }

    /// The carriageway an obstacle on road `road` stands on: the one a `Roads` route drives, else
    /// the road's own direction (a `Random` route changes per episode; the obstacle does not).
    pub fn obstacle_carriageway(&self, route: Option<&Route>, road: &str) -> Option<usize> {
        let index = self.names.iter().position(|n| n == road)?;
        if let Some(Route::Roads(_)) = route
            && let Ok(driven) = self.route(route, &mut rand_chacha::ChaCha8Rng::seed_from_u64(0))
            && let Some(&c) = driven.iter().find(|&&c| self.carriageways[c].road == index)
        {
            return Some(c);
        }
        self.carriageways.iter().position(|c| c.road == index)
    }

    /// The carriageways no connector leads into: where NPCs enter the network.
    pub fn entries(&self) -> Vec<usize> {
        (0..self.carriageways.len())
            .filter(|&c| self.connectors.iter().all(|p| p.connector.to.road != c))
            .collect()
    }

    /// The carriageway an `EgoAt` trigger naming `road` is measured along, for drawing it: the
    /// route's carriageway of that road (`route` as one episode draws it), else the road's own
    /// direction; the route's first road when it names none.
    pub fn trigger_road(&self, route: &[usize], road: Option<&str>) -> Option<&RoadGeometry> {
        let Some(name) = road else { return route.first().map(|&c| &self.carriageways[c].geometry) };
        let index = self.names.iter().position(|n| n == name)?;
        let on_route = route.iter().copied().find(|&c| self.carriageways[c].road == index);
        let carriageway = on_route.or_else(|| self.carriageways.iter().position(|c| c.road == index))?;
        Some(&self.carriageways[carriageway].geometry)
    }

    /// The light shown to cars about to enter connector `connector` at `time` seconds into the
    /// episode; `None` where its junction has no lights.
    pub fn light(&self, connector: usize, time: f32) -> Option<Light> {
        let path = &self.connectors[connector];
        let plan = self.signals.get(path.junction)?.as_ref()?;
        Some(plan.light(self.carriageways[path.connector.from.road].road, time))
    }

    /// Whether this is a `road:` scenario's single road.
    pub fn is_single_road(&self) -> bool {
        self.single
    }

    /// A `road:` scenario's road: what its obstacles, traffic and events are placed along (on a
    /// network, which has none of them yet, its first road's first direction).
    pub fn first_road(&self) -> &RoadGeometry {
        &self.carriageways[0].geometry
    }

    /// Bounds of every road and connector with their shoulders: (min x, min y, max x, max y).
    pub fn bounds(&self) -> [f32; 4] {
        self.edges()
            .map(|e| self.geometry(e).bounds())
            .fold([f32::INFINITY, f32::INFINITY, f32::NEG_INFINITY, f32::NEG_INFINITY], |a, b| {
                [a[0].min(b[0]), a[1].min(b[1]), a[2].max(b[2]), a[3].max(b[3])]
            })
    }

    /// The geometry of an edge.
    pub fn geometry(&self, edge: Edge) -> &RoadGeometry {
        match edge {
            Edge::Carriageway(i) => &self.carriageways[i].geometry,
            Edge::Connector(i) => &self.connectors[i].connector.geometry,
        }
    }

    /// Every edge: carriageways first, then connectors.
    pub fn edges(&self) -> impl Iterator<Item = Edge> + '_ {
        (0..self.carriageways.len())
            .map(Edge::Carriageway)
            .chain((0..self.connectors.len()).map(Edge::Connector))
    }

    /// The connectors leaving carriageway `carriageway`'s end.
    pub fn leaving(&self, carriageway: usize) -> &[usize] {
        &self.leaving[carriageway]
    }

    /// A carriageway's display name: the road's, with "(back)" for its other direction.
    pub fn carriageway_name(&self, carriageway: usize) -> String {
        let c = &self.carriageways[carriageway];
        let name = &self.names[c.road];
        if c.back { format!("{name} (back)") } else { name.clone() }
    }

    /// Whether plane point (x, y) is on a road, a shoulder or a junction's connector: within the
    /// drivable width of some edge's centre line.
    pub fn on_road(&self, x: f32, y: f32) -> bool {
        self.edges().any(|edge| {
            let geometry = self.geometry(edge);
            let [x0, y0, x1, y1] = geometry.bounds();
            if x < x0 || x > x1 || y < y0 || y > y1 {
                return false;
            }
            off_centre_line(geometry, geometry.project(x, y), x, y) <= geometry.drivable_half_width()
        })
    }

    /// The carriageways of `route` in order: a file's route resolved (directions from the
    /// junctions), or a `Random` one drawn from `rng`. A `road:` scenario's route is its road.
    pub fn route(&self, route: Option<&Route>, rng: &mut impl Rng) -> Result<Vec<usize>, NetworkError> {
        match route {
            None => Ok(vec![0]),
            Some(Route::Roads(names)) => self.resolve(names),
            Some(Route::Random { from }) => {
                let road = self.road_index("ego.route.Random.from", from)?;
                let start = self.carriageway(road, false).or(self.carriageway(road, true));
                let mut route = vec![start.expect("every road has lanes one way")];
                while route.len() < MAX_RANDOM_ROUTE {
                    let mut next: Vec<usize> = self
                        .leaving(*route.last().unwrap())
                        .iter()
                        .map(|&c| self.connectors[c].connector.to.road)
                        .collect();
                    next.sort_unstable();
                    next.dedup();
                    if next.is_empty() {
                        break;
                    }
                    route.push(next[rng.random_range(0..next.len())]);
                }
                Ok(route)
            }
        }
    }

    /// Directions for a list of road names such that each carriageway leads to the next: the
    /// road's own direction first where both would do.
    fn resolve(&self, names: &[String]) -> Result<Vec<usize>, NetworkError> {
        let roads = names
            .iter()
            .enumerate()
            .map(|(i, name)| self.road_index(&format!("ego.route.Roads[{i}]"), name))
            .collect::<Result<Vec<_>, _>>()?;
        let options =
            |road: usize| [false, true].into_iter().filter_map(move |back| self.carriageway(road, back));
        let leads =
            |a: usize, b: usize| self.leaving(a).iter().any(|&c| self.connectors[c].connector.to.road == b);
        // Which carriageways of road i can start a drivable rest of the route, from the end.
        let mut viable: Vec<Vec<usize>> = vec![Vec::new(); roads.len()];
        for i in (0..roads.len()).rev() {
            viable[i] = options(roads[i])
                .filter(|&a| i + 1 == roads.len() || viable[i + 1].iter().any(|&b| leads(a, b)))
                .collect();
            if viable[i].is_empty() {
                let (from, to) = (&names[i], &names[i + 1]);
                let onward: Vec<String> = options(roads[i])
                    .flat_map(|a| self.leaving(a).iter().map(|&c| self.connectors[c].connector.to.road))
                    .map(|c| format!("{:?}", self.names[self.carriageways[c].road]))
                    .collect::<std::collections::BTreeSet<_>>()
                    .into_iter()
                    .collect();
                let reaches = options(roads[i]).any(|a| options(roads[i + 1]).any(|b| leads(a, b)));
                let hint = if reaches {
                    // Connected, but onto the direction the rest of the route cannot go on from.
                    format!(" in a direction from which the route can go on to road {:?}", names[i + 2])
                } else if onward.is_empty() {
                    format!(": nothing leads on from {from:?}")
                } else {
                    format!(" (from {from:?} lead: {})", onward.join(", "))
                };
                return Err(NetworkError::NotConnected {
                    path: format!("ego.route.Roads[{}]", i + 1),
                    from: from.clone(),
                    to: to.clone(),
                    hint,
                });
            }
        }
        let mut route = vec![viable[0][0]];
        for next in &viable[1..] {
            let here = *route.last().unwrap();
            route.push(*next.iter().find(|&&b| leads(here, b)).expect("viable by construction"));
        }
        Ok(route)
    }

    /// Pairs of different roads whose lanes overlap away from their ends (a road crossing another
    /// without a junction): (road a, road b, a point of a's centre line inside b's lanes).
    pub fn overlaps(&self) -> Vec<(usize, usize, PlanePose)> {
        let mut found = Vec::new();
        // Bounds once per carriageway: most pairs of a large network are far apart.
        let bounds: Vec<[f32; 4]> = self.carriageways.iter().map(|c| c.geometry.bounds()).collect();
        for (i, a) in self.carriageways.iter().enumerate() {
            for (j, b) in self.carriageways.iter().enumerate().skip(i + 1) {
                if a.road == b.road || found.iter().any(|&(x, y, _)| (x, y) == (a.road, b.road)) {
                    continue;
                }
                let ([ax0, ay0, ax1, ay1], [bx0, by0, bx1, by1]) = (bounds[i], bounds[j]);
                if ax1 < bx0 || bx1 < ax0 || ay1 < by0 || by1 < ay0 {
                    continue;
                }
                if let Some(point) = inside(&a.geometry, &b.geometry, bounds[j])
                    .or_else(|| inside(&b.geometry, &a.geometry, bounds[i]))
                {
                    found.push((a.road, b.road, point));
                }
            }
        }
        found
    }
}

/// Connectors whose paths come nearer than this conflict (m): a car's width and a margin.
pub const CONFLICT_DISTANCE: f32 = 2.6;

/// For each connector, the connectors of its junction from another lane whose paths come within
/// [`CONFLICT_DISTANCE`] of its own (both sampled every half metre).
fn conflicts(connectors: &[JunctionPath]) -> Vec<Vec<usize>> {
    let samples: Vec<Vec<(f32, f32)>> = connectors
        .iter()
        .map(|p| {
            let g = &p.connector.geometry;
            let n = (g.length() / 0.5).ceil().max(1.0) as usize;
            (0..=n).map(|i| g.centre_pose(g.length() * i as f32 / n as f32)).map(|q| (q.x, q.y)).collect()
        })
        .collect();
    let near = |a: &[(f32, f32)], b: &[(f32, f32)]| {
        a.iter()
            .any(|p| b.iter().any(|q| (p.0 - q.0).powi(2) + (p.1 - q.1).powi(2) < CONFLICT_DISTANCE.powi(2)))
    };
    (0..connectors.len())
        .map(|a| {
            (0..connectors.len())
                .filter(|&b| {
                    let (x, y) = (&connectors[a], &connectors[b]);
                    x.connector.from != y.connector.from
                        && x.junction == y.junction
                        && near(&samples[a], &samples[b])
                })
                .collect()
        })
        .collect()
}

/// A point of `a`'s centre line (sampled every metre) inside `b`'s lanes, away from both roads'
/// ends, if there is one.
fn inside(a: &RoadGeometry, b: &RoadGeometry, [bx0, by0, bx1, by1]: [f32; 4]) -> Option<PlanePose> {
    let steps = a.length().ceil() as usize;
    (0..=steps).map(|i| a.centre_pose(a.length() * i as f32 / steps.max(1) as f32)).find(|p| {
        if p.x < bx0 || p.x > bx1 || p.y < by0 || p.y > by1 {
            return false;
        }
        let q = b.project(p.x, p.y);
        q.s > 0.01 && q.s < b.length() - 0.01 && q.d.abs() < b.half_width() - 0.01
    })
}

/// Distance from (x, y) to the centre-line point its projection found (≥ |d|; larger past an end).
pub fn off_centre_line(geometry: &RoadGeometry, point: RoadPoint, x: f32, y: f32) -> f32 {
    let centre = geometry.centre_pose(point.s);
    ((x - centre.x).powi(2) + (y - centre.y).powi(2)).sqrt()
}

/// A road's carriageways: one for a one-way road (its lanes either side of the centre line), two
/// for a two-way road (each the centre line moved to the middle of its lanes; the back one laid
/// from the road's end the other way).
fn carriageways_of(index: usize, road: &NetworkRoad) -> Vec<Carriageway> {
    let start = PlanePose { x: road.start.x, y: road.start.y, heading: road.start.heading.to_radians() };
    let lanes = |lanes: u32, segments: Vec<Segment>| Road {
        segments,
        lanes,
        lane_width: road.lane_width,
        shoulder: road.shoulder,
        ..Road::default()
    };
    if road.lanes_back == 0 {
        let geometry = RoadGeometry::laid_from(&lanes(road.lanes, road.segments.clone()), start);
        return vec![Carriageway { road: index, back: false, geometry }];
    }
    let forward_shift = -0.5 * road.lanes as f32 * road.lane_width;
    let back_shift = 0.5 * road.lanes_back as f32 * road.lane_width;
    let forward = RoadGeometry::laid_from(
        &lanes(road.lanes, offset(&road.segments, forward_shift)),
        shifted(start, forward_shift),
    );
    // The back carriageway: the centre line moved left, then driven from its end the other way.
    let left = RoadGeometry::laid_from(
        &lanes(road.lanes_back, offset(&road.segments, back_shift)),
        shifted(start, back_shift),
    );
    let end = left.end_pose();
    let reversed: Vec<Segment> = offset(&road.segments, back_shift)
        .into_iter()
        .rev()
        .map(|s| match s {
            Segment::Arc { radius, angle } => Segment::Arc { radius, angle: -angle },
            straight => straight,
        })
        .collect();
    let back = RoadGeometry::laid_from(
        &lanes(road.lanes_back, reversed),
        PlanePose { heading: end.heading + std::f32::consts::PI, ..end },
    );
    vec![
        Carriageway { road: index, back: false, geometry: forward },
        Carriageway { road: index, back: true, geometry: back },
    ]
}

/// The segments of the curve `shift` metres left of `segments` (right when negative): straights
/// keep their length, arcs their angle, their radius grows on the outside of the turn.
fn offset(segments: &[Segment], shift: f32) -> Vec<Segment> {
    segments
        .iter()
        .map(|&s| match s {
            Segment::Arc { radius, angle } => Segment::Arc { radius: radius - angle.signum() * shift, angle },
            straight => straight,
        })
        .collect()
}

fn shifted(pose: PlanePose, shift: f32) -> PlanePose {
    let (sin, cos) = pose.heading.sin_cos();
    PlanePose { x: pose.x - shift * sin, y: pose.y + shift * cos, heading: pose.heading }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::road::wrap_angle;
    use crate::scenario::{Connection, Junction, LaneEnd, Place};
    use rand::SeedableRng;

    fn road(
        name: &str,
        x: f32,
        y: f32,
        heading: f32,
        segments: Vec<Segment>,
        lanes: u32,
        back: u32,
    ) -> NetworkRoad {
        NetworkRoad {
            name: name.into(),
            start: Place { x, y, heading },
            segments,
            lanes,
            lanes_back: back,
            ..NetworkRoad::default()
        }
    }

    fn lane(road: &str, lane: u32, back: bool) -> LaneEnd {
        LaneEnd { road: road.into(), lane, back }
    }

    fn link(from: LaneEnd, to: LaneEnd) -> Connection {
        Connection { from, to }
    }

    #[test]
    fn a_two_way_roads_directions_lie_either_side_of_its_centre_line_and_run_opposite_ways() {
        // A two-way road with a left bend: 2 lanes east-then-north, 1 lane back.
        let file = NetworkFile {
            roads: vec![road(
                "bend",
                0.0,
                0.0,
                0.0,
                vec![Segment::Straight { length: 50.0 }, Segment::Arc { radius: 40.0, angle: 90.0 }],
                2,
                1,
            )],
            ..NetworkFile::default()
        };
        let network = Network::laid(&file).unwrap();
        let (forward, back) = (&network.carriageways[0], &network.carriageways[1]);
        assert!(!forward.back && back.back);
        // Forward: its centre 3.5 m right of the road's centre line; back: 1.75 m left of it,
        // starting where the road ends (x = 90, y = 40, heading north) and heading south.
        let start = forward.geometry.centre_pose(0.0);
        assert!((start.y + 3.5).abs() < 1e-4 && start.x.abs() < 1e-4, "{start:?}");
        let b0 = back.geometry.centre_pose(0.0);
        assert!((b0.x - (90.0 - 1.75)).abs() < 1e-3 && (b0.y - 40.0).abs() < 1e-3, "{b0:?}");
        assert!(wrap_angle(b0.heading + std::f32::consts::FRAC_PI_2).abs() < 1e-4);
        let b1 = back.geometry.end_pose();
        assert!((b1.x).abs() < 1e-3 && (b1.y - 1.75).abs() < 1e-3, "{b1:?}");
        // Both follow the same bend: lengths differ by the offsets' share of the quarter turn.
        let quarter = std::f32::consts::FRAC_PI_2;
        assert!((forward.geometry.length() - (50.0 + 43.5 * quarter)).abs() < 1e-3);
        assert!((back.geometry.length() - (50.0 + 38.25 * quarter)).abs() < 1e-3);
        // Every point of the road between the edges is on it; 1 m past the shoulder is not.
        assert!(network.on_road(25.0, -7.9) && network.on_road(25.0, 4.4));
        assert!(!network.on_road(25.0, -9.1) && !network.on_road(25.0, 5.6));
    }

    /// A T-junction: a two-way main road in two parts either side of the junction, and a
    /// one-way side road coming up from the south.
    fn t_junction() -> NetworkFile {
        NetworkFile {
            roads: vec![
                road("west", -100.0, 0.0, 0.0, vec![Segment::Straight { length: 90.0 }], 1, 1),
                road("east", 10.0, 0.0, 0.0, vec![Segment::Straight { length: 90.0 }], 1, 1),
                road("south", 0.0, -100.0, 90.0, vec![Segment::Straight { length: 88.0 }], 1, 0),
            ],
            junctions: vec![Junction {
                name: "t".into(),
                priority: vec!["west".into(), "east".into()],
                signals: None,
                connect: vec![
                    link(lane("west", 0, false), lane("east", 0, false)),
                    link(lane("east", 0, true), lane("west", 0, true)),
                    link(lane("south", 0, false), lane("east", 0, false)),
                    link(lane("south", 0, false), lane("west", 0, true)),
                ],
            }],
            ..NetworkFile::default()
        }
    }

    #[test]
    fn routes_take_the_direction_the_junctions_allow_and_a_random_one_follows_connections() {
        let network = Network::laid(&t_junction()).unwrap();
        assert_eq!(network.connectors.len(), 4);
        let names = |route: &[usize]| route.iter().map(|&c| network.carriageway_name(c)).collect::<Vec<_>>();
        let rng = &mut rand_chacha::ChaCha8Rng::seed_from_u64(1);
        let roads = |list: &[&str]| Route::Roads(list.iter().map(|s| s.to_string()).collect());
        // Turning left from the side road puts the ego on the main road's west-bound direction.
        let left = network.route(Some(&roads(&["south", "west"])), rng).unwrap();
        assert_eq!(names(&left), ["south", "west (back)"]);
        let through = network.route(Some(&roads(&["east", "west"])), rng).unwrap();
        assert_eq!(names(&through), ["east (back)", "west (back)"]);
        let error = network.route(Some(&roads(&["west", "south"])), rng).unwrap_err();
        assert_eq!(
            format!("{}: {error}", error.path()),
            "ego.route.Roads[1]: no junction connects road \"west\" to road \"south\" (from \"west\" \
             lead: \"east\")"
        );
        // Random routes from the side road: both turns happen over a few seeds, and each is a
        // route the junction allows.
        let mut seen = std::collections::BTreeSet::new();
        for seed in 0..16 {
            let rng = &mut rand_chacha::ChaCha8Rng::seed_from_u64(seed);
            let route = network.route(Some(&Route::Random { from: "south".into() }), rng).unwrap();
            assert!(route.windows(2).all(|w| {
                network.leaving(w[0]).iter().any(|&c| network.connectors[c].connector.to.road == w[1])
            }));
            seen.insert(names(&route));
        }
        assert!(seen.contains(&vec!["south".to_string(), "east".to_string()]), "{seen:?}");
        assert!(seen.contains(&vec!["south".to_string(), "west (back)".to_string()]), "{seen:?}");
        // The junction's box between the roads' ends is on the road (its connectors cover it).
        assert!(network.on_road(0.0, 1.75) && network.on_road(0.0, -3.0));
        assert!(!network.on_road(20.0, 10.0));
        assert_eq!(network.overlaps(), []);
    }

    #[test]
    fn bad_lanes_and_roads_are_named_and_crossing_roads_overlap() {
        let mut file = t_junction();
        file.junctions[0].connect[0].to = lane("east", 2, false);
        let error = Network::laid(&file).unwrap_err();
        assert_eq!(
            format!("{}: {error}", error.path()),
            "network.junctions[0].connect[0].to.lane: road \"east\" has 1 lanes (so lanes 0 to 0): there \
             is no lane 2"
        );
        file.junctions[0].connect[0].to = lane("south", 0, true);
        let error = Network::laid(&file).unwrap_err();
        assert_eq!(error.path(), "network.junctions[0].connect[0].to.back");
        assert!(error.to_string().starts_with("road \"south\" has no lanes"));
        file.junctions[0].connect[0].to = lane("north", 0, false);
        let error = Network::laid(&file).unwrap_err();
        assert_eq!(error.path(), "network.junctions[0].connect[0].to.road");
        assert_eq!(error.to_string(), "no road is named \"north\" (roads: \"west\", \"east\", \"south\")");
        // A road straight across the main road, with no junction: an overlap.
        let mut file = t_junction();
        file.roads.push(road("over", 50.0, -40.0, 90.0, vec![Segment::Straight { length: 80.0 }], 1, 0));
        let network = Network::laid(&file).unwrap();
        let overlaps: Vec<_> = network.overlaps().iter().map(|&(a, b, _)| (a, b)).collect();
        assert_eq!(overlaps, [(1, 3)]);
    }
}
