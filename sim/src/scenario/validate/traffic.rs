//! NPC traffic: counts, lanes, speeds, and whether the cars fit on the road.

use super::*;

pub(super) fn traffic(c: &mut Checker, traffic: &Traffic, road: &RoadFacts, ego: &Ego) {
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
