//! Obstacles: on the road, in lanes that exist, of sensible sizes.

use super::*;

pub(super) fn obstacles(c: &mut Checker, obstacles: &[Obstacle], road: &RoadFacts) {
    if obstacles.len() > MAX_OBSTACLES {
        c.report("obstacles", format!("must have at most {MAX_OBSTACLES} entries (got {})", obstacles.len()));
    }
    for (i, o) in obstacles.iter().enumerate() {
        single_road(c, &format!("obstacles[{i}]"), o);
        obstacle(c, &format!("obstacles[{i}]"), o, road);
    }
}

/// On a single road an obstacle names no road.
pub(super) fn single_road(c: &mut Checker, path: &str, obstacle: &Obstacle) {
    if obstacle.road.is_some() {
        c.report(format!("{path}.road"), "names a road of a road network: leave it out on a single road");
    }
}
/// One obstacle: on the road, in a lane that exists, of a sensible size.
pub(super) fn obstacle(c: &mut Checker, path: &str, obstacle: &Obstacle, road: &RoadFacts) {
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
