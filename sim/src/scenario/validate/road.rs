//! The road: segments, lanes and widths, closing a loop, and positions along it.

use super::*;

pub(super) fn road(c: &mut Checker, road: &Road) -> RoadFacts {
    let lanes_ok = c.count("road.lanes", road.lanes.into(), 1, MAX_LANES);
    let width_ok = c.positive("road.lane_width", road.lane_width, 10.0);
    let shoulder_ok = c.in_range("road.shoulder", road.shoulder, 0.0, 50.0);
    c.positive("road.friction", road.friction, 3.0);
    // Half the road's width including shoulders, when known: tighter arcs fold their inner edge.
    let half_width = (lanes_ok && width_ok && shoulder_ok)
        .then_some(0.5 * road.lanes as f32 * road.lane_width + road.shoulder);

    let formula = "road.lanes × road.lane_width / 2 + road.shoulder";
    let segments_ok = segments(c, "road", &road.segments, half_width.map(|h| (h, formula)));
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
/// Checks a chain of segments at `{prefix}.segments`; `half_width` (lanes plus shoulder from the
/// centre line, when known, and how it is reckoned) bounds the radii. True when every segment is
/// valid.
pub(super) fn segments(
    c: &mut Checker,
    prefix: &str,
    segments: &[Segment],
    half_width: Option<(f32, &str)>,
) -> bool {
    let before = c.problems.len();

    if segments.is_empty() {
        c.report(format!("{prefix}.segments"), "must not be empty: a road needs at least one segment");
    } else if segments.len() > MAX_SEGMENTS {
        c.report(
            format!("{prefix}.segments"),
            format!("must have at most {MAX_SEGMENTS} segments (got {})", segments.len()),
        );
    }
    let mut total = 0.0;
    for (i, segment) in segments.iter().enumerate() {
        let path = format!("{prefix}.segments[{i}]");
        match *segment {
            Segment::Straight { length } => {
                if c.positive(&format!("{path}.length"), length, MAX_ROAD_LENGTH) {
                    total += length;
                }
            }
            Segment::Arc { radius, angle } => {
                let radius_path = format!("{path}.radius");
                let radius_ok = match half_width {
                    Some((half, formula)) if radius.is_finite() && radius <= half => {
                        c.report(
                            radius_path,
                            format!(
                                "must be greater than half the road width, {} m ({formula}): a \
                                 tighter arc folds its inner edge over itself (got {})",
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
            format!("{prefix}.segments"),
            format!(
                "the road must be at most {} m long in all (got {} m)",
                num(MAX_ROAD_LENGTH),
                short(total)
            ),
        );
    }
    c.problems.len() == before
}

/// Checks an arc-length position along the road: [0, length] on an open road, [0, length) on a loop.
pub(super) fn along_road(c: &mut Checker, path: &str, s: f32, road: &RoadFacts) {
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
