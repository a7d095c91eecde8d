//! Road geometry: the centre line as a chain of straight and arc pieces, lanes across it, and the
//! road frame that maps any ground point to (s, d, heading) and back.
//!
//! The road lives in a 2D plane (x, y) with headings counter-clockwise from +x. The 3D world is
//! y-up, so the plane maps to the world as (x, y) → (x, 0, −y) and a heading is a yaw about +Y
//! (see [`plane_to_world`]).

use crate::scenario::{Road, Segment};
use std::f32::consts::{PI, TAU};

/// A point on the road plane with a heading.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlanePose {
    pub x: f32,
    pub y: f32,
    /// Radians, counter-clockwise from +x.
    pub heading: f32,
}

/// A point in road coordinates.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RoadPoint {
    /// Arc length along the centre line (m); in [0, length) on a closed road.
    pub s: f32,
    /// Lateral offset from the centre line (m), positive to the left.
    pub d: f32,
    /// Heading of the centre line at `s` (radians).
    pub heading: f32,
}

/// One piece of the centre line: starts at `start`, runs `length` metres with constant curvature.
/// Everything projection needs that does not depend on the query point is precomputed.
#[derive(Debug, Clone, Copy)]
struct Piece {
    s0: f32,
    length: f32,
    start: PlanePose,
    end: PlanePose,
    /// 1/radius, positive turning left; 0 for a straight.
    curvature: f32,
    /// Unit direction at the start.
    cos0: f32,
    sin0: f32,
    /// Arc centre and the angle from it to the start (arcs only).
    centre: (f32, f32),
    phi0: f32,
    /// Bounds of the piece: (min x, min y, max x, max y).
    bounds: [f32; 4],
}

impl Piece {
    fn new(s0: f32, length: f32, start: PlanePose, curvature: f32) -> Self {
        let (sin0, cos0) = start.heading.sin_cos();
        let mut piece = Self {
            s0,
            length,
            start,
            end: start,
            curvature,
            cos0,
            sin0,
            centre: (0.0, 0.0),
            phi0: 0.0,
            bounds: [0.0; 4],
        };
        if curvature != 0.0 {
            piece.centre = (start.x - sin0 / curvature, start.y + cos0 / curvature);
            piece.phi0 = (start.y - piece.centre.1).atan2(start.x - piece.centre.0);
        }
        piece.end = piece.pose_at(length);
        let samples =
            if curvature == 0.0 { 1 } else { (length * curvature.abs() / 0.2).ceil().max(1.0) as usize };
        let mut b = [f32::INFINITY, f32::INFINITY, f32::NEG_INFINITY, f32::NEG_INFINITY];
        for i in 0..=samples {
            let p = piece.pose_at(length * i as f32 / samples as f32);
            b = [b[0].min(p.x), b[1].min(p.y), b[2].max(p.x), b[3].max(p.y)];
        }
        // Chords of at most 0.2 rad stay within 0.5% of the radius of the arc.
        let slack = if curvature == 0.0 { 0.0 } else { 0.01 / curvature.abs() };
        piece.bounds = [b[0] - slack, b[1] - slack, b[2] + slack, b[3] + slack];
        piece
    }

    fn pose_at(&self, t: f32) -> PlanePose {
        if self.curvature == 0.0 {
            PlanePose {
                x: self.start.x + t * self.cos0,
                y: self.start.y + t * self.sin0,
                heading: self.start.heading,
            }
        } else {
            let k = self.curvature;
            let h = self.start.heading + k * t;
            PlanePose {
                x: self.start.x + (h.sin() - self.sin0) / k,
                y: self.start.y - (h.cos() - self.cos0) / k,
                heading: h,
            }
        }
    }

    /// Squared distance from (x, y) to this piece's bounds (0 inside).
    fn bounds_distance_squared(&self, x: f32, y: f32) -> f32 {
        let dx = (self.bounds[0] - x).max(x - self.bounds[2]).max(0.0);
        let dy = (self.bounds[1] - y).max(y - self.bounds[3]).max(0.0);
        dx * dx + dy * dy
    }

    /// The parameter t in [0, length] of the point on this piece nearest to (x, y), and the squared
    /// distance to it, without evaluating the pose there.
    fn nearest(&self, x: f32, y: f32) -> (f32, f32) {
        let end_distance = |t: f32| {
            let p = if t == 0.0 { self.start } else { self.end };
            (x - p.x).powi(2) + (y - p.y).powi(2)
        };
        if self.curvature == 0.0 {
            let (dx, dy) = (x - self.start.x, y - self.start.y);
            let t = dx * self.cos0 + dy * self.sin0;
            if t <= 0.0 {
                return (0.0, end_distance(0.0));
            }
            if t >= self.length {
                return (self.length, end_distance(self.length));
            }
            let lateral = -dx * self.sin0 + dy * self.cos0;
            return (t, lateral * lateral);
        }
        let k = self.curvature;
        let (dx, dy) = (x - self.centre.0, y - self.centre.1);
        let phi = dy.atan2(dx);
        // Angle travelled along the arc from its start, in [0, 2π).
        let swept = ((phi - self.phi0) * k.signum()).rem_euclid(TAU);
        let radius = 1.0 / k.abs();
        let t = swept * radius;
        if t <= self.length {
            let radial = (dx * dx + dy * dy).sqrt() - radius;
            (t, radial * radial)
        } else {
            let (to_end, to_start) = (end_distance(self.length), end_distance(0.0));
            if to_end <= to_start { (self.length, to_end) } else { (0.0, to_start) }
        }
    }
}

/// The road: centre line, lanes and edges.
#[derive(Debug, Clone)]
pub struct RoadGeometry {
    pieces: Vec<Piece>,
    length: f32,
    closed: bool,
    lanes: u32,
    lane_width: f32,
    shoulder: f32,
}

impl RoadGeometry {
    /// Lays the segments end to end from the origin, heading along +x.
    pub fn new(road: &Road) -> Self {
        Self::laid_from(road, PlanePose { x: 0.0, y: 0.0, heading: 0.0 })
    }

    /// Lays the segments end to end from `start` (a road of a network, a junction's connector).
    pub fn laid_from(road: &Road, start: PlanePose) -> Self {
        let mut pieces = Vec::with_capacity(road.segments.len());
        let mut pose = start;
        let mut s0 = 0.0;
        for segment in &road.segments {
            let (length, curvature) = match *segment {
                Segment::Straight { length } => (length, 0.0),
                Segment::Arc { radius, angle } => {
                    let angle = angle.to_radians();
                    (radius * angle.abs(), angle.signum() / radius)
                }
            };
            let piece = Piece::new(s0, length, pose, curvature);
            pose = piece.end;
            s0 += length;
            pieces.push(piece);
        }
        Self {
            pieces,
            length: s0,
            closed: road.closed,
            lanes: road.lanes,
            lane_width: road.lane_width,
            shoulder: road.shoulder,
        }
    }

    /// Total centre-line length (m).
    pub fn length(&self) -> f32 {
        self.length
    }

    pub fn closed(&self) -> bool {
        self.closed
    }

    pub fn lanes(&self) -> u32 {
        self.lanes
    }

    pub fn lane_width(&self) -> f32 {
        self.lane_width
    }

    pub fn shoulder(&self) -> f32 {
        self.shoulder
    }

    /// Distance from the centre line to the outer edge of the outer lanes (m).
    pub fn half_width(&self) -> f32 {
        0.5 * self.lanes as f32 * self.lane_width
    }

    /// Distance from the centre line to where off-road begins: lanes plus shoulder (m).
    pub fn drivable_half_width(&self) -> f32 {
        self.half_width() + self.shoulder
    }

    /// Lateral offset of a lane's centre from the road centre line (m).
    pub fn lane_centre(&self, lane: u32) -> f32 {
        (lane as f32 + 0.5) * self.lane_width - self.half_width()
    }

    /// The lane nearest to lateral offset `d` (clamped to the real lanes when on the shoulder).
    pub fn nearest_lane(&self, d: f32) -> u32 {
        let index = ((d + self.half_width()) / self.lane_width).floor();
        index.clamp(0.0, (self.lanes - 1) as f32) as u32
    }

    /// Where the last segment ends; on a well-formed closed road this is the origin heading +x.
    pub fn end_pose(&self) -> PlanePose {
        self.pieces.last().map_or(PlanePose { x: 0.0, y: 0.0, heading: 0.0 }, |p| p.end)
    }

    /// Wraps `s` into [0, length) on a closed road; clamps it on an open one.
    pub fn wrap_s(&self, s: f32) -> f32 {
        if self.closed { s.rem_euclid(self.length) } else { s.clamp(0.0, self.length) }
    }

    /// Signed distance along the road from `from` to `to`; on a closed road the shorter way round.
    pub fn delta_s(&self, from: f32, to: f32) -> f32 {
        let delta = to - from;
        if self.closed {
            let half = 0.5 * self.length;
            (delta + half).rem_euclid(self.length) - half
        } else {
            delta
        }
    }

    fn piece_at(&self, s: f32) -> &Piece {
        let index = self.pieces.partition_point(|p| p.s0 <= s).saturating_sub(1);
        &self.pieces[index]
    }

    /// Centre-line pose at arc length `s`.
    pub fn centre_pose(&self, s: f32) -> PlanePose {
        let s = self.wrap_s(s);
        let piece = self.piece_at(s);
        piece.pose_at((s - piece.s0).min(piece.length))
    }

    /// The plane pose at road coordinates (s, d), heading along the road.
    pub fn pose(&self, s: f32, d: f32) -> PlanePose {
        let centre = self.centre_pose(s);
        PlanePose {
            x: centre.x - d * centre.heading.sin(),
            y: centre.y + d * centre.heading.cos(),
            heading: centre.heading,
        }
    }

    /// Arc lengths where pieces begin, plus the road's length: between two neighbours the
    /// curvature is constant.
    pub fn breakpoints(&self) -> Vec<f32> {
        self.pieces.iter().map(|p| p.s0).chain(std::iter::once(self.length)).collect()
    }

    /// Signed curvature (1/m, positive turning left) of the centre line at `s`.
    pub fn curvature(&self, s: f32) -> f32 {
        self.piece_at(self.wrap_s(s)).curvature
    }

    /// Projects a plane point onto the road: the nearest centre-line point gives s and heading,
    /// the signed offset from it gives d. Pieces whose bounds are farther than the best candidate
    /// so far are skipped.
    pub fn project(&self, x: f32, y: f32) -> RoadPoint {
        let mut best: Option<(&Piece, f32)> = None;
        let mut best_distance = f32::INFINITY;
        for piece in &self.pieces {
            if piece.bounds_distance_squared(x, y) >= best_distance {
                continue;
            }
            let (t, distance) = piece.nearest(x, y);
            if distance < best_distance {
                best_distance = distance;
                best = Some((piece, t));
            }
        }
        let Some((piece, t)) = best else {
            return RoadPoint { s: 0.0, d: f32::NAN, heading: 0.0 };
        };
        let pose = piece.pose_at(t);
        let d = -(x - pose.x) * pose.heading.sin() + (y - pose.y) * pose.heading.cos();
        RoadPoint { s: self.wrap_s(piece.s0 + t), d, heading: pose.heading }
    }

    /// Axis-aligned bounds of the road and its shoulders on the plane: (min x, min y, max x, max y).
    pub fn bounds(&self) -> [f32; 4] {
        let margin = self.drivable_half_width();
        let mut b = [f32::INFINITY, f32::INFINITY, f32::NEG_INFINITY, f32::NEG_INFINITY];
        let samples = (self.length / 2.0).ceil().max(1.0) as usize;
        for i in 0..=samples {
            let p = self.centre_pose(self.length * i as f32 / samples as f32);
            b = [b[0].min(p.x), b[1].min(p.y), b[2].max(p.x), b[3].max(p.y)];
        }
        [b[0] - margin, b[1] - margin, b[2] + margin, b[3] + margin]
    }
}

/// Wraps an angle into (−π, π].
pub fn wrap_angle(a: f32) -> f32 {
    let a = (a + PI).rem_euclid(TAU) - PI;
    if a <= -PI { a + TAU } else { a }
}

/// A road-plane point at height `up` as world coordinates (y-up): (x, y) → (x, up, −y).
pub fn plane_to_world(x: f32, y: f32, up: f32) -> [f32; 3] {
    [x, up, -y]
}

/// World coordinates back to the road plane.
pub fn world_to_plane(p: [f32; 3]) -> (f32, f32) {
    (p[0], -p[2])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Markings;

    fn road(segments: Vec<Segment>, closed: bool) -> RoadGeometry {
        RoadGeometry::new(&Road {
            segments,
            lanes: 2,
            lane_width: 3.5,
            shoulder: 1.0,
            closed,
            friction: 1.0,
            markings: Markings::Standard,
        })
    }

    fn square_loop() -> RoadGeometry {
        let mut segments = Vec::new();
        for _ in 0..4 {
            segments.push(Segment::Straight { length: 50.0 });
            segments.push(Segment::Arc { radius: 20.0, angle: 90.0 });
        }
        road(segments, true)
    }

    #[test]
    fn a_loop_of_four_quarter_turns_closes() {
        let r = square_loop();
        let end = r.end_pose();
        assert!(end.x.abs() < 1e-3 && end.y.abs() < 1e-3, "{end:?}");
        assert!((wrap_angle(end.heading)).abs() < 1e-4);
        let expected = 200.0 + 4.0 * 20.0 * std::f32::consts::FRAC_PI_2;
        assert!((r.length() - expected).abs() < 1e-3);
    }

    #[test]
    fn projection_inverts_pose_everywhere_on_the_road() {
        let r = square_loop();
        for i in 0..400 {
            let s = r.length() * i as f32 / 400.0;
            for d in [-4.0, -1.75, 0.0, 1.75, 4.0] {
                let p = r.pose(s, d);
                let q = r.project(p.x, p.y);
                assert!(r.delta_s(s, q.s).abs() < 1e-2, "s {s} → {}", q.s);
                assert!((q.d - d).abs() < 1e-2, "d {d} → {} at s {s}", q.d);
                assert!(wrap_angle(q.heading - p.heading).abs() < 1e-3);
            }
        }
    }

    #[test]
    fn right_turns_put_positive_offsets_on_the_left() {
        let r = road(vec![Segment::Arc { radius: 30.0, angle: -90.0 }], false);
        let end = r.end_pose();
        assert!((end.x - 30.0).abs() < 1e-3 && (end.y + 30.0).abs() < 1e-3, "{end:?}");
        let p = r.pose(20.0, 2.0);
        let q = r.project(p.x, p.y);
        assert!((q.d - 2.0).abs() < 1e-3 && (q.s - 20.0).abs() < 1e-3);
        assert!(r.curvature(10.0) < 0.0);
    }

    #[test]
    fn lanes_are_numbered_from_the_right() {
        let r = road(vec![Segment::Straight { length: 10.0 }], false);
        assert_eq!(r.lane_centre(0), -1.75);
        assert_eq!(r.lane_centre(1), 1.75);
        assert_eq!(r.nearest_lane(-3.0), 0);
        assert_eq!(r.nearest_lane(0.1), 1);
        assert_eq!(r.nearest_lane(9.0), 1);
    }

    #[test]
    fn delta_s_goes_the_short_way_round_a_loop() {
        let r = square_loop();
        let l = r.length();
        assert!((r.delta_s(l - 1.0, 1.0) - 2.0).abs() < 1e-3);
        assert!((r.delta_s(1.0, l - 1.0) + 2.0).abs() < 1e-3);
        assert!((wrap_angle(3.5 * PI) + 0.5 * PI).abs() < 1e-5);
    }
}
