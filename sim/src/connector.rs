//! Connectors: the smooth path a junction lays from the end of one road's lane to the start of
//! another's (road networks, issue 26). A connector is a *biarc* — two circular arcs meeting with
//! the same heading — so it is tangent to both lanes at its ends, has no kink anywhere, and is
//! made of the same `Arc`/`Straight` segments as every road: the road frame, projection to
//! (s, d), the renderer's meshes and the map all take it as they take a road.
//!
//! The construction is the classic one with equal tangent lengths: from the start point go `t`
//! along its heading, from the end point go `t` back along its heading; the joint is midway
//! between those two points, and `t` is the positive root of `|p2 − p1 − t (h1 + h2)| = 2t`.

use crate::road::{PlanePose, RoadGeometry, wrap_angle};
use crate::scenario::{Road, Segment};

/// Below this curvature (1/m: a radius of 100 km) an arc is laid as a straight.
const STRAIGHT_CURVATURE: f32 = 1e-5;
/// Farthest apart two lane ends a junction joins (m): farther is a mistake in the file (a lane
/// end named at the wrong end of its road), not a junction.
pub const MAX_JOIN: f32 = 100.0;

/// A lane of a road, by index (0 is the rightmost in the direction of travel, as in `spawn.lane`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LaneRef {
    pub road: usize,
    pub lane: u32,
}

/// The path a junction lays from the end of one lane to the start of another: a lane of its
/// own, one lane wide, laid from the first lane's end pose.
#[derive(Debug, Clone)]
pub struct Connector {
    pub from: LaneRef,
    pub to: LaneRef,
    /// The path as a one-lane road, its centre line on the lanes' centres.
    pub geometry: RoadGeometry,
}

impl Connector {
    /// Joins lane `from.lane` where `roads[from.road]` ends to lane `to.lane` where
    /// `roads[to.road]` starts, the connector as wide as the lane it leaves.
    pub fn join(roads: &[RoadGeometry], from: LaneRef, to: LaneRef) -> Result<Self, ConnectorError> {
        let (a, b) = (lane(roads, from)?, lane(roads, to)?);
        let start = a.pose(a.length(), a.lane_centre(from.lane));
        let end = b.pose(0.0, b.lane_centre(to.lane));
        let apart = (end.x - start.x).hypot(end.y - start.y);
        if apart > MAX_JOIN {
            return Err(ConnectorError::TooFar(apart));
        }
        let road = Road {
            segments: biarc(start, end)?,
            lanes: 1,
            lane_width: a.lane_width(),
            shoulder: 0.0,
            ..Road::default()
        };
        Ok(Self { from, to, geometry: RoadGeometry::laid_from(&road, start) })
    }
}

fn lane(roads: &[RoadGeometry], lane: LaneRef) -> Result<&RoadGeometry, ConnectorError> {
    let road = roads.get(lane.road).ok_or(ConnectorError::NoRoad(lane.road, roads.len()))?;
    if lane.lane >= road.lanes() {
        return Err(ConnectorError::NoLane { road: lane.road, lane: lane.lane, lanes: road.lanes() });
    }
    Ok(road)
}

/// Why two poses cannot be joined by a connector.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConnectorError {
    #[error("the two ends are {0:.3} m apart: nothing to connect")]
    SamePoint(f32),
    #[error("the end lies behind the start, facing the same way: no smooth path turns back onto it")]
    Behind,
    #[error("a pose is not finite")]
    NotFinite,
    #[error(
        "the first lane ends {0:.0} m from where the second starts: a junction joins lane ends at most \
         {MAX_JOIN} m apart (is one named at the wrong end of its road? `back: true` is the other way)"
    )]
    TooFar(f32),
    #[error("road {0}: there are {1} roads (0 to {n})", n = .1.saturating_sub(1))]
    NoRoad(usize, usize),
    #[error("road {road} has {lanes} lanes (0 to {}): no lane {lane}", lanes - 1)]
    NoLane { road: usize, lane: u32, lanes: u32 },
}

/// A connector from `from` to `to` (headings: the direction of travel at each end), as one or
/// two segments laid from `from`.
pub fn biarc(from: PlanePose, to: PlanePose) -> Result<Vec<Segment>, ConnectorError> {
    let finite = [from.x, from.y, from.heading, to.x, to.y, to.heading].iter().all(|v| v.is_finite());
    if !finite {
        return Err(ConnectorError::NotFinite);
    }
    let (t1, t2) = (unit(from.heading), unit(to.heading));
    let v = (to.x - from.x, to.y - from.y);
    let distance = dot(v, v).sqrt();
    if distance < 1e-3 {
        return Err(ConnectorError::SamePoint(distance));
    }
    let sum = (t1.0 + t2.0, t1.1 + t2.1);
    // |v − t·sum|² = 4t²  ⇔  (|sum|² − 4) t² − 2 (v·sum) t + |v|² = 0, with |sum|² − 4 = 2(t1·t2 − 1).
    let a = 2.0 * (dot(t1, t2) - 1.0);
    let b = -2.0 * dot(v, sum);
    let c = dot(v, v);
    let t = if a.abs() < 1e-6 {
        // Parallel headings: the equation is linear.
        if b >= 0.0 {
            return Err(ConnectorError::Behind);
        }
        -c / b
    } else {
        // a < 0 and c > 0: one positive root, always.
        (-b - (b * b - 4.0 * a * c).sqrt()) / (2.0 * a)
    };
    let joint = (0.5 * (from.x + t * t1.0 + to.x - t * t2.0), 0.5 * (from.y + t * t1.1 + to.y - t * t2.1));
    let first = arc_to(from, joint);
    let middle = PlanePose { x: joint.0, y: joint.1, heading: from.heading + turn(from, joint) };
    let second = arc_to(middle, (to.x, to.y));
    Ok([first, second].into_iter().flatten().collect())
}

/// The arc (or straight) leaving `start` along its heading that passes through `point`; none
/// when the point is `start` itself.
fn arc_to(start: PlanePose, point: (f32, f32)) -> Option<Segment> {
    let chord = (point.0 - start.x, point.1 - start.y);
    let length = dot(chord, chord).sqrt();
    if length < 1e-6 {
        return None;
    }
    let angle = turn(start, point);
    // A chord of length L subtending a turn θ has radius L / (2 sin(θ/2)).
    let curvature = 2.0 * (0.5 * angle).sin() / length;
    Some(if curvature.abs() < STRAIGHT_CURVATURE {
        Segment::Straight { length }
    } else {
        Segment::Arc { radius: 1.0 / curvature.abs(), angle: angle.to_degrees() }
    })
}

/// How far the heading turns along the arc from `start` through `point`: twice the angle between
/// the start's heading and the chord.
fn turn(start: PlanePose, point: (f32, f32)) -> f32 {
    let chord = (point.0 - start.x, point.1 - start.y);
    let t = unit(start.heading);
    2.0 * wrap_angle((t.0 * chord.1 - t.1 * chord.0).atan2(dot(t, chord)))
}

fn unit(heading: f32) -> (f32, f32) {
    let (sin, cos) = heading.sin_cos();
    (cos, sin)
}

fn dot(a: (f32, f32), b: (f32, f32)) -> f32 {
    a.0 * b.0 + a.1 * b.1
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::f32::consts::{FRAC_PI_2, PI};

    /// The connector laid from `from` as a road: where it ends, and its largest heading jump
    /// between neighbouring samples 0.1 m apart (no kink means a small one).
    fn laid(from: PlanePose, to: PlanePose) -> (PlanePose, f32, RoadGeometry) {
        let segments = biarc(from, to).unwrap();
        let road = Road { segments, ..Road::default() };
        let geometry = RoadGeometry::laid_from(&road, from);
        let steps = (geometry.length() / 0.1).ceil() as usize;
        let mut jump = 0.0f32;
        for i in 0..steps {
            let (a, b) = (geometry.centre_pose(i as f32 * 0.1), geometry.centre_pose((i + 1) as f32 * 0.1));
            jump = jump.max(wrap_angle(b.heading - a.heading).abs());
        }
        (geometry.end_pose(), jump, geometry)
    }

    fn pose(x: f32, y: f32, heading: f32) -> PlanePose {
        PlanePose { x, y, heading }
    }

    #[test]
    fn a_connector_ends_on_the_target_lane_heading_its_way_without_a_kink() {
        let cases = [
            // A left turn at a four-way junction: 12 m across, a quarter turn.
            (pose(0.0, 0.0, 0.0), pose(12.0, 12.0, FRAC_PI_2)),
            // A right turn.
            (pose(0.0, 0.0, 0.0), pose(8.0, -8.0, -FRAC_PI_2)),
            // A lane change onto a parallel road (an on-ramp's merge): an S-curve.
            (pose(0.0, 0.0, 0.0), pose(60.0, 3.5, 0.0)),
            // Straight on through a junction.
            (pose(5.0, 2.0, 0.3), pose(5.0 + 20.0 * 0.3f32.cos(), 2.0 + 20.0 * 0.3f32.sin(), 0.3)),
            // A roundabout's exit: an odd angle, the start heading not axis-aligned.
            (pose(-3.0, 7.0, 2.0), pose(-15.0, 20.0, 2.9)),
            // A U-turn.
            (pose(0.0, 0.0, 0.0), pose(0.0, 10.0, PI)),
        ];
        for (from, to) in cases {
            let (end, jump, geometry) = laid(from, to);
            let miss = ((end.x - to.x).powi(2) + (end.y - to.y).powi(2)).sqrt();
            assert!(miss < 1e-3, "{from:?} → {to:?}: ends {miss} m off");
            assert!(wrap_angle(end.heading - to.heading).abs() < 1e-3, "{from:?} → {to:?}: heading {end:?}");
            // 0.1 m along an arc of radius r turns 0.1 / r; a kink would turn far more at once.
            let sharpest =
                geometry.breakpoints().iter().map(|&s| geometry.curvature(s).abs()).fold(0.0, f32::max);
            assert!(jump <= 0.1 * sharpest + 1e-3, "{from:?} → {to:?}: a kink of {jump} rad");
            // It starts the way the lane runs.
            let start = geometry.centre_pose(0.0);
            assert!(wrap_angle(start.heading - from.heading).abs() < 1e-5);
        }
    }

    #[test]
    fn straight_on_is_one_straight_and_impossible_joins_are_named() {
        let segments = biarc(pose(0.0, 0.0, 0.0), pose(30.0, 0.0, 0.0)).unwrap();
        let total: f32 = segments
            .iter()
            .map(|s| match *s {
                Segment::Straight { length } => length,
                Segment::Arc { .. } => panic!("an arc on a straight join: {segments:?}"),
            })
            .sum();
        assert!((total - 30.0).abs() < 1e-4, "{segments:?}");
        assert_eq!(biarc(pose(0.0, 0.0, 0.0), pose(-30.0, 0.0, 0.0)), Err(ConnectorError::Behind));
        assert!(matches!(biarc(pose(1.0, 1.0, 0.0), pose(1.0, 1.0, 1.0)), Err(ConnectorError::SamePoint(_))));
        assert_eq!(biarc(pose(f32::NAN, 0.0, 0.0), pose(1.0, 0.0, 0.0)), Err(ConnectorError::NotFinite));
    }

    #[test]
    fn a_t_junction_joins_the_side_roads_lanes_to_the_main_roads_starts_both_ways() {
        // The main road runs east from (20, 0) in two parts (west and east of the junction, 14 m
        // apart); the side road comes up from the south and ends 10 m short of the main road.
        let two = |start: PlanePose, length: f32| {
            let road = Road { segments: vec![Segment::Straight { length }], lanes: 2, ..Road::default() };
            RoadGeometry::laid_from(&road, start)
        };
        let roads = [
            two(pose(-100.0, 0.0, 0.0), 93.0),       // 0: main, west part, ends at x = -7
            two(pose(7.0, 0.0, 0.0), 100.0),         // 1: main, east part
            two(pose(0.0, -100.0, FRAC_PI_2), 90.0), // 2: side road, ends at y = -10
        ];
        let right =
            Connector::join(&roads, LaneRef { road: 2, lane: 0 }, LaneRef { road: 1, lane: 0 }).unwrap();
        let straight =
            Connector::join(&roads, LaneRef { road: 0, lane: 1 }, LaneRef { road: 1, lane: 1 }).unwrap();
        for c in [&right, &straight] {
            let (from, to) = (&roads[c.from.road], &roads[c.to.road]);
            let leaves = from.pose(from.length(), from.lane_centre(c.from.lane));
            let joins = to.pose(0.0, to.lane_centre(c.to.lane));
            let (start, end) = (c.geometry.centre_pose(0.0), c.geometry.end_pose());
            for (a, b) in [(start, leaves), (end, joins)] {
                assert!((a.x - b.x).abs() < 1e-3 && (a.y - b.y).abs() < 1e-3, "{a:?} vs {b:?}");
                assert!(wrap_angle(a.heading - b.heading).abs() < 1e-3, "{a:?} vs {b:?}");
            }
            assert_eq!((c.geometry.lanes(), c.geometry.lane_width()), (1, from.lane_width()));
        }
        // Straight on is 14 m of straight; the right turn is longer than its chord and turns a
        // quarter to the right (negative curvature).
        assert!((straight.geometry.length() - 14.0).abs() < 1e-3);
        assert!(right.geometry.curvature(0.5 * right.geometry.length()) < 0.0);
        let bad =
            Connector::join(&roads, LaneRef { road: 2, lane: 2 }, LaneRef { road: 1, lane: 0 }).unwrap_err();
        assert_eq!(bad.to_string(), "road 2 has 2 lanes (0 to 1): no lane 2");
        let bad =
            Connector::join(&roads, LaneRef { road: 3, lane: 0 }, LaneRef { road: 1, lane: 0 }).unwrap_err();
        assert_eq!(bad.to_string(), "road 3: there are 3 roads (0 to 2)");
    }
}
