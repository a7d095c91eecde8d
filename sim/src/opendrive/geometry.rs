//! OpenDRIVE plan-view geometry as Lepton segments. Every geometry — line, arc, spiral
//! (clothoid), `poly3`, `paramPoly3` — is cut into pieces and each piece is laid as a *biarc*:
//! two arcs (or straights) from the curve's pose at one cut to its pose at the next, tangent at
//! both, as Lepton's junction connectors are made. Position and heading are therefore exact at
//! every cut and errors do not add up along a road; the cuts are made finer until the middle of
//! every piece is within a tenth of the tolerance too. Lines and arcs need one piece (a quarter
//! turn at most). Work is in f64; only the finished segments become f32.

use super::Fault;
use super::notes::Notes;
use super::xml::{Geometry, Kind, Road};
use crate::scenario::Segment;
use std::f64::consts::{PI, TAU};

/// How far (m) an imported road may stray from its OpenDRIVE reference line: at every
/// geometry's end (and every cut inside one) and in the middle of every piece between cuts, the
/// laid segments are within this distance of the curve...
pub const TOLERANCE_M: f64 = 0.05;
/// ... and this heading difference (degrees). Curves are fitted to a tenth of both, and biarcs
/// are exact at the cuts, so a road of many geometries stays within them too; a geometry that
/// cannot be fitted so is noted.
pub const TOLERANCE_DEG: f64 = 0.5;

/// What each curve is fitted to (m, radians).
const FIT_M: f64 = TOLERANCE_M / 10.0;
const FIT_RAD: f64 = TOLERANCE_DEG / 10.0 * PI / 180.0;
/// A geometry starting farther than this from where the one before it ends breaks the road.
const FAR_M: f64 = 1.0;
const FAR_DEG: f64 = 5.0;
/// Largest radius laid as an arc (m; Lepton takes up to 100 km): a gentler turn is laid as this
/// arc between two straights, which turns as far and, to first order, ends in the same place.
const MAX_RADIUS: f64 = 50_000.0;
/// Most pieces one geometry is cut into.
const MAX_PIECES: usize = 4096;
/// Segments shorter than this (m) are left out: they change nothing measurable.
const NEGLIGIBLE: f64 = 1e-6;
/// Longest geometry (m): Lepton's longest road.
const MAX_LENGTH: f64 = 100_000.0;
/// Most a line, arc or spiral may turn (radians, about 160 full circles): more is no road, and
/// would take unbounded work to integrate.
const MAX_TURN: f64 = 1000.0;

/// A point on the plane with a heading (radians, counter-clockwise from +x).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Pose {
    pub x: f64,
    pub y: f64,
    pub heading: f64,
}

impl Pose {
    /// Distance (m) and absolute heading difference (radians) to `other`.
    pub(super) fn gap(&self, other: &Pose) -> (f64, f64) {
        ((self.x - other.x).hypot(self.y - other.y), wrap(self.heading - other.heading).abs())
    }

    /// The same point facing the other way.
    pub(super) fn turned(self) -> Pose {
        Pose { heading: wrap(self.heading + PI), ..self }
    }

    /// The pose `left` metres to the left (right when negative).
    pub(super) fn shifted(self, left: f64) -> Pose {
        let (sin, cos) = self.heading.sin_cos();
        Pose { x: self.x - left * sin, y: self.y + left * cos, heading: self.heading }
    }
}

/// An angle wrapped into (−π, π].
pub(super) fn wrap(a: f64) -> f64 {
    let a = (a + PI).rem_euclid(TAU) - PI;
    if a <= -PI { a + TAU } else { a }
}

/// A piece of a Lepton road in f64: a straight, or an arc of signed curvature (1/m, + left)
/// whose radius is at most [`MAX_RADIUS`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Seg {
    Straight(f64),
    Arc { length: f64, curvature: f64 },
}

impl Seg {
    pub(super) fn length(&self) -> f64 {
        match *self {
            Seg::Straight(length) | Seg::Arc { length, .. } => length,
        }
    }

    /// Where the segment laid from `p` ends (as Lepton's road pieces lay it).
    fn advance(&self, p: Pose) -> Pose {
        match *self {
            Seg::Straight(length) => Pose {
                x: p.x + length * p.heading.cos(),
                y: p.y + length * p.heading.sin(),
                heading: p.heading,
            },
            Seg::Arc { length, curvature: k } => {
                let h = p.heading + k * length;
                Pose {
                    x: p.x + (h.sin() - p.heading.sin()) / k,
                    y: p.y - (h.cos() - p.heading.cos()) / k,
                    heading: h,
                }
            }
        }
    }
}

/// Where `segs` laid from `start` end.
pub(super) fn lay(start: Pose, segs: &[Seg]) -> Pose {
    segs.iter().fold(start, |p, s| s.advance(p))
}

/// Appends a piece of `length` metres turning `turn` radians at constant curvature, as segments
/// Lepton can lay (arcs of at most half a turn, radius at most [`MAX_RADIUS`]).
fn emit(length: f64, turn: f64, out: &mut Vec<Seg>) {
    if length <= 0.0 {
        return;
    }
    if turn.abs() < 1e-12 {
        out.push(Seg::Straight(length));
        return;
    }
    let curvature = turn / length;
    if curvature.abs() >= 1.0 / MAX_RADIUS {
        let parts = (turn.abs() / PI).ceil().max(1.0);
        for _ in 0..parts as usize {
            out.push(Seg::Arc { length: length / parts, curvature });
        }
    } else {
        // Too gentle for one arc: the same turn on the widest arc, centred between straights.
        let arc = turn.abs() * MAX_RADIUS;
        let straight = 0.5 * (length - arc);
        out.push(Seg::Straight(straight));
        out.push(Seg::Arc { length: arc, curvature: turn.signum() / MAX_RADIUS });
        out.push(Seg::Straight(straight));
    }
}

/// The segments laid the other way: from the end back to the start.
pub(super) fn reversed(segs: &[Seg]) -> Vec<Seg> {
    segs.iter()
        .rev()
        .map(|&s| match s {
            Seg::Arc { length, curvature } => Seg::Arc { length, curvature: -curvature },
            straight => straight,
        })
        .collect()
}

/// The segments of the curve `left` metres to the left of `segs` (right when negative): arcs keep
/// their turn, their radius grows on the outside. `Err(radius)` when an arc is tighter than the
/// shift (its parallel folds).
pub(super) fn offset(segs: &[Seg], left: f64) -> Result<Vec<Seg>, f64> {
    segs.iter()
        .map(|&s| match s {
            Seg::Arc { length, curvature } => {
                let radius = 1.0 / curvature.abs();
                let shifted = radius - curvature.signum() * left;
                if shifted <= 0.0 {
                    return Err(radius);
                }
                let turn = curvature * length;
                Ok(Seg::Arc { length: turn.abs() * shifted, curvature: curvature.signum() / shifted })
            }
            straight => Ok(straight),
        })
        .collect()
}

/// Lepton's segments for `segs`: neighbouring straights merged, negligible pieces left out.
pub(super) fn to_segments(segs: &[Seg]) -> Vec<Segment> {
    let mut out = Vec::new();
    let mut straight = 0.0;
    for seg in segs {
        match *seg {
            Seg::Straight(length) => straight += length,
            Seg::Arc { length, curvature } => {
                if straight >= NEGLIGIBLE {
                    out.push(Segment::Straight { length: straight as f32 });
                }
                straight = 0.0;
                if length >= NEGLIGIBLE {
                    let radius = (1.0 / curvature.abs()) as f32;
                    out.push(Segment::Arc { radius, angle: (curvature * length).to_degrees() as f32 });
                }
            }
        }
    }
    if straight >= NEGLIGIBLE {
        out.push(Segment::Straight { length: straight as f32 });
    }
    out
}

/// Gauss–Legendre nodes and weights (8 points on [−1, 1]).
const GAUSS: [(f64, f64); 8] = [
    (-0.960_289_856_497_536_3, 0.101_228_536_290_376_3),
    (-0.796_666_477_413_626_7, 0.222_381_034_453_374_5),
    (-0.525_532_409_916_329, 0.313_706_645_877_887_3),
    (-0.183_434_642_495_649_8, 0.362_683_783_378_362),
    (0.183_434_642_495_649_8, 0.362_683_783_378_362),
    (0.525_532_409_916_329, 0.313_706_645_877_887_3),
    (0.796_666_477_413_626_7, 0.222_381_034_453_374_5),
    (0.960_289_856_497_536_3, 0.101_228_536_290_376_3),
];

/// ∫ f over [a, b] in `parts` equal parts, 8-point Gauss–Legendre on each.
fn integrate(a: f64, b: f64, parts: usize, f: impl Fn(f64) -> (f64, f64)) -> (f64, f64) {
    let h = (b - a) / parts as f64;
    let mut sum = (0.0, 0.0);
    for i in 0..parts {
        let mid = a + (i as f64 + 0.5) * h;
        for (x, w) in GAUSS {
            let v = f(mid + 0.5 * h * x);
            sum.0 += w * v.0 * 0.5 * h;
            sum.1 += w * v.1 * 0.5 * h;
        }
    }
    sum
}

fn cubic(c: &[f64; 4], p: f64) -> f64 {
    c[0] + p * (c[1] + p * (c[2] + p * c[3]))
}

fn cubic_slope(c: &[f64; 4], p: f64) -> f64 {
    c[1] + p * (2.0 * c[2] + p * 3.0 * c[3])
}

/// One plan-view geometry as a curve: poses along it, and its fit as segments.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Curve {
    /// The geometry's (x, y, hdg): the frame of its local coordinates.
    origin: Pose,
    /// Its length as written (m).
    length: f64,
    form: Form,
}

#[derive(Debug, Clone, PartialEq)]
enum Form {
    Line,
    Arc(f64),
    /// Curvature from `.0` to `.1`, linear in arc length.
    Spiral(f64, f64),
    /// (u(p), v(p)) in the local frame, p in [0, end]; `poly3` is u = p.
    Param {
        u: [f64; 4],
        v: [f64; 4],
        end: f64,
    },
}

/// A curve's fit: its segments, and how far their cuts came from the curve.
#[derive(Debug, Clone)]
pub(super) struct Fit {
    pub segs: Vec<Seg>,
    pub worst_m: f64,
    pub worst_rad: f64,
}

impl Curve {
    pub(super) fn new(g: &Geometry) -> Self {
        let origin = Pose { x: g.x, y: g.y, heading: g.hdg };
        let form = match g.kind {
            Kind::Line => Form::Line,
            Kind::Arc { curvature: 0.0 } => Form::Line,
            Kind::Arc { curvature } => Form::Arc(curvature),
            Kind::Spiral { start, end } => Form::Spiral(start, end),
            Kind::ParamPoly3 { u, v, normalized } => {
                Form::Param { u, v, end: if normalized { 1.0 } else { g.length } }
            }
            Kind::Poly3 { a, b, c, d } => {
                let (u, v) = ([0.0, 1.0, 0.0, 0.0], [a, b, c, d]);
                // u where the curve has run `length` metres: the arc length grows at least as
                // fast as u, so it lies in [0, length].
                let mut end = g.length;
                for _ in 0..60 {
                    let error = param_length(&u, &v, 0.0, end, 64) - g.length;
                    if error.abs() < 1e-10 {
                        break;
                    }
                    end = (end - error / param_speed(&u, &v, end)).clamp(0.0, g.length);
                }
                Form::Param { u, v, end }
            }
        };
        Self { origin, length: g.length, form }
    }

    /// The heading of a spiral `s` metres along it.
    fn spiral_heading(&self, k0: f64, k1: f64, s: f64) -> f64 {
        self.origin.heading + k0 * s + (k1 - k0) * s * s / (2.0 * self.length)
    }

    /// The pose at parameter `p` of a parametric curve.
    fn param_pose(&self, u: &[f64; 4], v: &[f64; 4], p: f64) -> Pose {
        let (sin, cos) = self.origin.heading.sin_cos();
        let (lu, lv) = (cubic(u, p), cubic(v, p));
        Pose {
            x: self.origin.x + lu * cos - lv * sin,
            y: self.origin.y + lu * sin + lv * cos,
            heading: self.origin.heading + cubic_slope(v, p).atan2(cubic_slope(u, p)),
        }
    }

    /// The pose `ds` metres along a spiral from `from` (at `s`), integrated numerically.
    fn spiral_step(&self, k0: f64, k1: f64, from: Pose, s: f64, ds: f64) -> Pose {
        let turn = (self.spiral_heading(k0, k1, s + ds) - self.spiral_heading(k0, k1, s)).abs();
        let sharpest = k0.abs().max(k1.abs()) * ds;
        let parts = (turn.max(sharpest) / 0.05).max(ds / 5.0).ceil().clamp(1.0, 1e5) as usize;
        let (dx, dy) = integrate(s, s + ds, parts, |t| {
            (self.spiral_heading(k0, k1, t).cos(), self.spiral_heading(k0, k1, t).sin())
        });
        Pose { x: from.x + dx, y: from.y + dy, heading: self.spiral_heading(k0, k1, s + ds) }
    }

    /// Where the curve starts (a `poly3` with a ≠ 0 starts off its origin).
    pub(super) fn start(&self) -> Pose {
        match &self.form {
            Form::Param { u, v, .. } => self.param_pose(u, v, 0.0),
            _ => self.origin,
        }
    }

    /// Where the curve ends: exactly for lines, arcs and polynomials, by fine integration for
    /// spirals.
    pub(super) fn end(&self) -> Pose {
        match self.form {
            Form::Spiral(k0, k1) => self.spiral_step(k0, k1, self.origin, 0.0, self.length),
            Form::Param { ref u, ref v, end } => self.param_pose(u, v, end),
            Form::Line | Form::Arc(_) => exact_arc(self.origin, self.length, self.turn_of_arc()),
        }
    }

    fn turn_of_arc(&self) -> f64 {
        match self.form {
            Form::Arc(k) => k * self.length,
            _ => 0.0,
        }
    }

    /// Its length along the curve (m): as written, except for a `paramPoly3`, whose curve says.
    pub(super) fn arc_length(&self) -> f64 {
        match self.form {
            Form::Param { ref u, ref v, end } => param_length(u, v, 0.0, end, 64),
            _ => self.length,
        }
    }

    /// `n + 1` poses from start to end, and the n pieces between them as (length, turn).
    fn samples(&self, n: usize) -> (Vec<Pose>, Vec<(f64, f64)>) {
        let mut poses = vec![self.start()];
        let mut pieces = Vec::with_capacity(n);
        match self.form {
            Form::Line | Form::Arc(_) => {
                let (h, turn) = (self.length / n as f64, self.turn_of_arc() / n as f64);
                for i in 1..=n {
                    poses.push(exact_arc(self.origin, h * i as f64, turn * i as f64));
                    pieces.push((h, turn));
                }
            }
            Form::Spiral(k0, k1) => {
                let h = self.length / n as f64;
                for i in 0..n {
                    let s = h * i as f64;
                    poses.push(self.spiral_step(k0, k1, poses[i], s, h));
                    pieces.push((h, self.spiral_heading(k0, k1, s + h) - self.spiral_heading(k0, k1, s)));
                }
            }
            Form::Param { ref u, ref v, end } => {
                let h = end / n as f64;
                for i in 0..n {
                    let (p, q) = (h * i as f64, h * (i + 1) as f64);
                    let next = self.param_pose(u, v, q);
                    pieces.push((param_length(u, v, p, q, 2), wrap(next.heading - poses[i].heading)));
                    poses.push(next);
                }
            }
        }
        (poses, pieces)
    }

    fn initial_pieces(&self) -> usize {
        let count = match self.form {
            Form::Line => 1.0,
            Form::Arc(k) => (k * self.length).abs() / (0.5 * PI),
            // Pieces turning half a radian at most keep biarcs close to the curve from the start.
            Form::Spiral(k0, k1) => k0.abs().max(k1.abs()) * self.length / 0.5,
            Form::Param { .. } => self.length / 20.0,
        };
        (count.ceil() as usize).clamp(1, MAX_PIECES)
    }

    /// The curve as segments laid from its start: a biarc per piece, the pieces halved until
    /// every cut and the quarter points of every piece are within a tenth of the tolerance (or
    /// [`MAX_PIECES`] is reached).
    pub(super) fn fit(&self) -> Fit {
        let mut n = self.initial_pieces();
        loop {
            // Poses at the cuts (indices 4i) and at each piece's quarter points between them.
            let (poses, quarters) = self.samples(4 * n);
            let mut segs = Vec::new();
            let mut pose = poses[0];
            let (mut worst_m, mut worst_rad) = (0.0f64, 0.0f64);
            for i in 0..n {
                let from = segs.len();
                match biarc(pose, poses[4 * i + 4]) {
                    Some(arcs) => arcs.into_iter().for_each(|(length, turn)| emit(length, turn, &mut segs)),
                    // No biarc (the next cut lies behind): arcs that turn as the curve does.
                    None => quarters[4 * i..4 * i + 4]
                        .iter()
                        .for_each(|&(length, turn)| emit(length, turn, &mut segs)),
                }
                let piece = &segs[from..];
                let length: f64 = piece.iter().map(Seg::length).sum();
                for k in 1..=4 {
                    let laid = along(pose, piece, length * k as f64 / 4.0);
                    let (m, rad) = laid.gap(&poses[4 * i + k]);
                    worst_m = worst_m.max(m);
                    worst_rad = worst_rad.max(rad);
                }
                pose = lay(pose, piece);
            }
            if (worst_m <= FIT_M && worst_rad <= FIT_RAD) || n >= MAX_PIECES {
                return Fit { segs, worst_m, worst_rad };
            }
            n = (n * 2).min(MAX_PIECES);
        }
    }
}

/// The pose `distance` metres along `segs` laid from `start`.
fn along(start: Pose, segs: &[Seg], distance: f64) -> Pose {
    let mut pose = start;
    let mut left = distance;
    for seg in segs {
        let length = seg.length();
        if left <= length {
            let part = match *seg {
                Seg::Straight(_) => Seg::Straight(left),
                Seg::Arc { curvature, .. } => Seg::Arc { length: left, curvature },
            };
            return part.advance(pose);
        }
        pose = seg.advance(pose);
        left -= length;
    }
    pose
}

/// The biarc from `from` to `to` as (length, turn) pieces: the construction of
/// [`crate::connector::biarc`] (equal tangent lengths) in f64. `None` when there is none: the
/// two poses coincide, or `to` lies behind `from` facing the same way.
fn biarc(from: Pose, to: Pose) -> Option<Vec<(f64, f64)>> {
    let unit = |h: f64| (h.cos(), h.sin());
    let dot = |a: (f64, f64), b: (f64, f64)| a.0 * b.0 + a.1 * b.1;
    let (t1, t2) = (unit(from.heading), unit(to.heading));
    let v = (to.x - from.x, to.y - from.y);
    let c = dot(v, v);
    if c < 1e-18 {
        return None;
    }
    let sum = (t1.0 + t2.0, t1.1 + t2.1);
    // |v − t·sum|² = 4t²: a t² + b t + c = 0 with a ≤ 0 < c; its positive root, in the form that
    // stays exact as a → 0 (parallel headings).
    let a = 2.0 * (dot(t1, t2) - 1.0);
    let b = -2.0 * dot(v, sum);
    let t = 2.0 * c / (-b + (b * b - 4.0 * a * c).max(0.0).sqrt());
    if !t.is_finite() || t <= 0.0 {
        return None;
    }
    let joint = (0.5 * (from.x + t * t1.0 + to.x - t * t2.0), 0.5 * (from.y + t * t1.1 + to.y - t * t2.1));
    let (first, turn) = arc_to(from, joint);
    let middle = Pose { x: joint.0, y: joint.1, heading: from.heading + turn };
    let (second, _) = arc_to(middle, (to.x, to.y));
    Some([first, second].into_iter().flatten().collect())
}

/// The arc leaving `start` along its heading through `point`, as (length, turn), and its turn;
/// no arc when the point is `start` itself.
fn arc_to(start: Pose, point: (f64, f64)) -> (Option<(f64, f64)>, f64) {
    let chord = (point.0 - start.x, point.1 - start.y);
    let length = chord.0.hypot(chord.1);
    if length < 1e-12 {
        return (None, 0.0);
    }
    let (sin, cos) = start.heading.sin_cos();
    // Twice the angle between the heading and the chord.
    let turn = 2.0 * wrap((cos * chord.1 - sin * chord.0).atan2(cos * chord.0 + sin * chord.1));
    let half = 0.5 * turn;
    // A chord of length L subtending a turn θ lies on an arc of length L (θ/2) / sin(θ/2).
    let arc = if half.abs() < 1e-9 { length } else { length * half / half.sin() };
    (Some((arc, turn)), turn)
}

/// The pose `length` metres along an arc turning `turn` radians (a line when 0) from `from`.
fn exact_arc(from: Pose, length: f64, turn: f64) -> Pose {
    if turn == 0.0 {
        Seg::Straight(length).advance(from)
    } else {
        Seg::Arc { length, curvature: turn / length }.advance(from)
    }
}

fn param_speed(u: &[f64; 4], v: &[f64; 4], p: f64) -> f64 {
    cubic_slope(u, p).hypot(cubic_slope(v, p))
}

/// Arc length of a parametric cubic between parameters `a` and `b`.
fn param_length(u: &[f64; 4], v: &[f64; 4], a: f64, b: f64, parts: usize) -> f64 {
    integrate(a, b, parts, |p| (param_speed(u, v, p), 0.0)).0
}

/// A road's reference line as segments laid from its start.
#[derive(Debug, Clone)]
pub(super) struct Shape {
    pub start: Pose,
    pub segs: Vec<Seg>,
    /// Where the segments end.
    pub end: Pose,
    pub length: f64,
}

impl Shape {
    /// The same line driven from its end to its start.
    pub(super) fn reversed(&self) -> Shape {
        Shape {
            start: self.end.turned(),
            segs: reversed(&self.segs),
            end: self.start.turned(),
            length: self.length,
        }
    }
}

/// The road's plan view as one chain of segments from its first geometry's start. Geometries
/// that start a little off where the chain has got to are laid on from there (noted); one that
/// starts more than 1 m or 5° off is an error.
pub(super) fn road_shape(road: &Road, notes: &mut Notes) -> Result<Shape, Fault> {
    if road.geometries.is_empty() {
        return Err(Fault::at(&road.plan_view, "has no geometry: a road needs a reference line"));
    }
    let mut segs = Vec::new();
    let mut start = None;
    let mut pose: Option<Pose> = None;
    let mut written = 0.0;
    for (k, g) in road.geometries.iter().enumerate() {
        if (g.s - written).abs() > TOLERANCE_M {
            notes.line(format!(
                "road {}: planView / geometry[{k}] has s = {} where the geometries before it add up to \
                 {written:.3} m; their lengths are used",
                road.id, g.s
            ));
        }
        written += g.length;
        if g.length <= NEGLIGIBLE {
            continue;
        }
        if g.length > MAX_LENGTH {
            return Err(Fault::at(
                &g.loc,
                format!("length={} is longer than a Lepton road may be ({MAX_LENGTH} m)", g.length),
            ));
        }
        let sharpest = match g.kind {
            Kind::Arc { curvature } => curvature.abs(),
            Kind::Spiral { start, end } => start.abs().max(end.abs()),
            _ => 0.0,
        };
        if sharpest * g.length > MAX_TURN {
            return Err(Fault::at(
                &g.loc,
                format!(
                    "turns {:.0} full circles in {} m: no road does (at most {:.0})",
                    sharpest * g.length / TAU,
                    g.length,
                    MAX_TURN / TAU
                ),
            ));
        }
        let curve = Curve::new(g);
        let here = curve.start();
        if let Some(pose) = pose {
            let (m, rad) = pose.gap(&here);
            let deg = rad.to_degrees();
            if m > FAR_M || deg > FAR_DEG {
                return Err(Fault::at(
                    &g.loc,
                    format!(
                        "starts {m:.2} m and {deg:.1}° away from where the geometry before it ends: the \
                         reference line is broken (at most {FAR_M} m and {FAR_DEG}° are bridged)"
                    ),
                ));
            }
            if m > TOLERANCE_M || deg > TOLERANCE_DEG {
                notes.line(format!(
                    "road {}: planView / geometry[{k}] starts {m:.3} m and {deg:.2}° from where the \
                     geometry before it ends; it is laid on from there",
                    road.id
                ));
            }
        }
        if let Form::Param { .. } = curve.form {
            let along = curve.arc_length();
            if (along - g.length).abs() > TOLERANCE_M.max(0.01 * g.length) {
                notes.line(format!(
                    "road {}: planView / geometry[{k}] ({}) is {along:.3} m long along its curve but \
                     says length = {}; the curve is used",
                    road.id,
                    g.kind.word(),
                    g.length
                ));
            }
        }
        let fit = curve.fit();
        // The fit checks its cuts against sampled poses; the end is checked against the
        // curve's own end as well.
        let (end_m, end_rad) = lay(here, &fit.segs).gap(&curve.end());
        let (worst_m, worst_deg) = (fit.worst_m.max(end_m), fit.worst_rad.max(end_rad).to_degrees());
        if worst_m > TOLERANCE_M || worst_deg > TOLERANCE_DEG {
            notes.line(format!(
                "road {}: planView / geometry[{k}] ({}) is approximated only within {worst_m:.3} m and \
                 {worst_deg:.2}°",
                road.id,
                g.kind.word(),
            ));
        }
        let from = pose.unwrap_or(here);
        start.get_or_insert(here);
        pose = Some(lay(from, &fit.segs));
        segs.extend(fit.segs);
    }
    let Some(start) = start else {
        return Err(Fault::at(&road.plan_view, "has only geometries of length 0: the road has no length"));
    };
    if (written - road.length).abs() > TOLERANCE_M {
        notes.line(format!(
            "road {}: length = {} but its geometries add up to {written:.3} m; the geometries are used",
            road.id, road.length
        ));
    }
    let length = segs.iter().map(Seg::length).sum();
    let end = lay(start, &segs);
    Ok(Shape { start, segs, end, length })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::opendrive::xml::Loc;

    fn geometry(x: f64, y: f64, hdg: f64, length: f64, kind: Kind) -> Geometry {
        Geometry { loc: Loc { line: 1, path: String::new() }, s: 0.0, x, y, hdg, length, kind }
    }

    /// The end of a clothoid by the midpoint rule in a million steps, independent of the code
    /// under test.
    fn clothoid_end(x: f64, y: f64, hdg: f64, length: f64, k0: f64, k1: f64) -> Pose {
        let steps = 1_000_000;
        let h = length / steps as f64;
        let (mut px, mut py) = (x, y);
        for i in 0..steps {
            let s = (i as f64 + 0.5) * h;
            let heading = hdg + k0 * s + (k1 - k0) * s * s / (2.0 * length);
            px += h * heading.cos();
            py += h * heading.sin();
        }
        Pose { x: px, y: py, heading: hdg + 0.5 * (k0 + k1) * length }
    }

    #[track_caller]
    fn assert_within(laid: Pose, truth: Pose, m: f64, deg: f64) {
        let (dm, rad) = laid.gap(&truth);
        assert!(dm <= m && rad.to_degrees() <= deg, "{laid:?} vs {truth:?}: {dm} m, {}°", rad.to_degrees());
    }

    #[test]
    fn clothoids_are_laid_within_the_tolerance_of_a_finely_integrated_one() {
        let cases = [
            (0.0, 0.0, 0.0, 100.0, 0.0, 0.02),
            (10.0, -5.0, 1.0, 80.0, 0.02, -0.03),
            (-3.0, 4.0, -2.5, 250.0, -0.001, 0.001),
            (0.0, 0.0, 0.3, 60.0, 0.05, 0.0),
        ];
        for (x, y, hdg, length, k0, k1) in cases {
            let curve = Curve::new(&geometry(x, y, hdg, length, Kind::Spiral { start: k0, end: k1 }));
            let truth = clothoid_end(x, y, hdg, length, k0, k1);
            // The module's own integration agrees with the reference to a micrometre.
            assert_within(curve.end(), truth, 1e-6, 1e-6);
            let fit = curve.fit();
            assert!(fit.worst_m <= FIT_M && fit.worst_rad <= FIT_RAD, "{fit:?}");
            assert_within(lay(curve.start(), &fit.segs), truth, TOLERANCE_M / 10.0, TOLERANCE_DEG / 10.0);
            let laid: f64 = fit.segs.iter().map(Seg::length).sum();
            assert!((laid - length).abs() < 1e-3, "laid {laid} m of {length}");
            // And through f32 Lepton segments laid by Lepton's own road code.
            let road = crate::scenario::Road { segments: to_segments(&fit.segs), ..Default::default() };
            let start = crate::road::PlanePose { x: x as f32, y: y as f32, heading: hdg as f32 };
            let end = crate::road::RoadGeometry::laid_from(&road, start).end_pose();
            let end = Pose { x: end.x.into(), y: end.y.into(), heading: end.heading.into() };
            assert_within(end, truth, TOLERANCE_M, TOLERANCE_DEG);
        }
    }

    #[test]
    fn param_poly3_and_poly3_end_where_their_polynomials_do() {
        // A normalised S-bend: u from 0 to 100, v from 0 to 8 with zero slope at both ends.
        let s_bend =
            Kind::ParamPoly3 { u: [0.0, 100.0, 0.0, 0.0], v: [0.0, 0.0, 24.0, -16.0], normalized: true };
        let curve = Curve::new(&geometry(5.0, 5.0, 0.4, 101.0, s_bend));
        let (sin, cos) = 0.4f64.sin_cos();
        let truth = Pose { x: 5.0 + 100.0 * cos - 8.0 * sin, y: 5.0 + 100.0 * sin + 8.0 * cos, heading: 0.4 };
        assert_within(curve.end(), truth, 1e-9, 1e-9);
        let fit = curve.fit();
        assert_within(lay(curve.start(), &fit.segs), truth, FIT_M, FIT_RAD.to_degrees());
        // An arc-length-parameterised quarter-ish curve: p in [0, length].
        let bend =
            Kind::ParamPoly3 { u: [0.0, 1.0, 0.0, -0.0001], v: [0.0, 0.0, 0.01, 0.0], normalized: false };
        let curve = Curve::new(&geometry(0.0, 0.0, 0.0, 40.0, bend));
        let truth = Pose {
            x: 40.0 - 0.0001 * 64_000.0,
            y: 0.01 * 1600.0,
            heading: (0.02 * 40.0f64).atan2(1.0 - 0.0003 * 1600.0),
        };
        assert_within(curve.end(), truth, 1e-9, 1e-9);
        assert_within(lay(curve.start(), &curve.fit().segs), truth, FIT_M, FIT_RAD.to_degrees());
        // poly3: v = 0.002 u² runs `length` metres along the curve, not along u.
        let curve =
            Curve::new(&geometry(0.0, 0.0, 0.0, 50.0, Kind::Poly3 { a: 0.0, b: 0.0, c: 0.002, d: 0.0 }));
        let Form::Param { end, .. } = curve.form else { panic!("poly3 is parametric") };
        assert!(
            end < 50.0
                && (param_length(&[0.0, 1.0, 0.0, 0.0], &[0.0, 0.0, 0.002, 0.0], 0.0, end, 64) - 50.0).abs()
                    < 1e-8
        );
        let truth = Pose { x: end, y: 0.002 * end * end, heading: (0.004 * end).atan() };
        assert_within(lay(curve.start(), &curve.fit().segs), truth, FIT_M, FIT_RAD.to_degrees());
    }

    #[test]
    fn gentle_and_long_arcs_stay_within_what_lepton_lays() {
        // Radius 500 km over 3 km (gentler than Lepton's widest arc) and two and a half turns.
        for (curvature, length) in [(2e-6, 3000.0), (-0.05, 2.5 * TAU / 0.05)] {
            let g = geometry(1.0, 2.0, 0.7, length, Kind::Arc { curvature });
            let curve = Curve::new(&g);
            let fit = curve.fit();
            assert_within(lay(curve.start(), &fit.segs), curve.end(), FIT_M, FIT_RAD.to_degrees());
            for seg in to_segments(&fit.segs) {
                if let Segment::Arc { radius, angle } = seg {
                    assert!(radius <= MAX_RADIUS as f32 && angle != 0.0 && angle.abs() <= 180.0, "{seg:?}");
                }
            }
        }
    }

    #[test]
    fn reversing_and_offsetting_keep_the_shape() {
        let segs = vec![
            Seg::Straight(10.0),
            Seg::Arc { length: 20.0, curvature: 0.05 },
            Seg::Arc { length: 5.0, curvature: -0.1 },
        ];
        let start = Pose { x: 3.0, y: -1.0, heading: 0.2 };
        let end = lay(start, &segs);
        assert_within(lay(end.turned(), &reversed(&segs)), start.turned(), 1e-9, 1e-9);
        // 2 m to the right: the left turn's radius grows by 2, the right turn's shrinks.
        let right = offset(&segs, -2.0).unwrap();
        assert_within(lay(start.shifted(-2.0), &right), end.shifted(-2.0), 1e-9, 1e-9);
        assert_eq!(offset(&segs, -12.0), Err(10.0));
    }
}
