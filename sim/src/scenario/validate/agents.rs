//! The learning cars of a multi-agent scenario: how many, where each spawns (on its route's
//! first road, as the ego's spawn is checked) and that no two spawn on top of each other.

use super::*;

/// Most learning cars in one world.
const MAX_AGENTS: usize = 64;
/// Clearance between two cars' spawns in one lane, beyond touching (m): jitter aside, they must
/// not start in contact.
const SPAWN_CLEARANCE: f32 = 1.0;

/// Where an agent's route starts: the carriageway (its index in the laid network; 0 on a
/// single road) and what the spawn checks need to know of it. `None` where the route is invalid.
pub(super) type FirstRoad<'a> = Option<(usize, &'a RoadFacts)>;

/// Checks `scenario.agents`; `first_road(i)` is agent i's first road.
pub(super) fn agents<'a>(c: &mut Checker, scenario: &Scenario, first_road: impl Fn(usize) -> FirstRoad<'a>) {
    let agents = &scenario.agents;
    if agents.is_empty() {
        return;
    }
    if agents.len() < 2 || agents.len() > MAX_AGENTS {
        c.report(
            "agents",
            format!(
                "must list 2 to {MAX_AGENTS} cars (got {}): a scenario with one learning car gives it as `ego`",
                agents.len()
            ),
        );
        return;
    }
    let length = scenario.ego.vehicle.length;
    let mut placed: Vec<(usize, usize, f32, u32, f32)> = Vec::new();
    for (i, agent) in agents.iter().enumerate() {
        let path = format!("agents[{i}]");
        let spawn = &agent.spawn;
        if let Some(speed) = agent.start_speed {
            c.in_range(&format!("{path}.start_speed"), speed, 0.0, MAX_SPEED);
        }
        c.in_range(&format!("{path}.spawn.s_jitter"), spawn.s_jitter, 0.0, 1000.0);
        c.in_range(&format!("{path}.spawn.offset_jitter"), spawn.offset_jitter, 0.0, 10.0);
        c.in_range(&format!("{path}.spawn.heading_jitter"), spawn.heading_jitter, 0.0, 180.0);
        if let Some(reward) = &agent.reward {
            agent::reward_weights(c, &format!("{path}.reward"), reward);
        }
        if let Some(view) = &agent.camera {
            let at = |field: &str| format!("{path}.camera.{field}");
            c.bounded(&at("fov"), view.fov, Bound::Excl(10.0), Bound::Excl(170.0));
            c.in_range(&at("pitch"), view.pitch, -89.0, 89.0);
            c.in_range(&at("mount.forward"), view.mount.forward, -20.0, 20.0);
            c.in_range(&at("mount.up"), view.mount.up, -20.0, 20.0);
            c.in_range(&at("mount.left"), view.mount.left, -20.0, 20.0);
        }
        let Some((first, road)) = first_road(i) else { continue };
        let before = c.problems.len();
        along_road(c, &format!("{path}.spawn.s"), spawn.s, road);
        c.lane(&format!("{path}.spawn.lane"), spawn.lane, road.lanes);
        if c.problems.len() > before {
            continue;
        }
        // Two cars in one lane of one road, closer than a car's length (plus their jitter).
        let reach = spawn.s_jitter;
        for &(j, other_first, other_s, other_lane, other_reach) in &placed {
            let gap = match &road.geometry {
                Some(g) if road.closed => g.delta_s(other_s, spawn.s).abs(),
                _ => (spawn.s - other_s).abs(),
            };
            if other_first == first
                && other_lane == spawn.lane
                && gap < length + SPAWN_CLEARANCE + reach + other_reach
            {
                c.report(
                    format!("{path}.spawn"),
                    format!(
                        "overlaps agents[{j}]: both start in lane {} {} m apart, and a car is {} m long \
                         (keep spawns at least {} m apart in one lane, jitter included)",
                        spawn.lane,
                        short(gap),
                        short(length),
                        short(length + SPAWN_CLEARANCE + reach + other_reach)
                    ),
                );
            }
        }
        placed.push((i, first, spawn.s, spawn.lane, reach));
    }
}
