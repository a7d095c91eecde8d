//! The rules of an episode: physics step, time limit, goal, what ends it.

use super::*;

pub(super) fn episode(c: &mut Checker, episode: &Episode, road: &RoadFacts, spawn_s: f32) {
    c.positive("episode.dt", episode.dt, 0.1);
    c.count("episode.max_steps", episode.max_steps.into(), 1, 1_000_000);
    c.positive("episode.stuck_time", episode.stuck_time, 3600.0);
    c.in_range("episode.stuck_speed", episode.stuck_speed, 0.0, MAX_SPEED);
    let path = "episode.success";
    match episode.success {
        Some(Success::Laps(laps)) => {
            if !road.closed {
                c.report(path, "Laps needs a closed road (road.closed is false): use RoadEnd or Distance");
            } else if !(1..=1000).contains(&laps) {
                c.report(path, format!("Laps must be from 1 to 1000 (got Laps({laps}))"));
            }
        }
        Some(Success::RoadEnd) if road.closed => {
            c.report(path, "RoadEnd needs an open road (road.closed is true): use Laps or Distance");
        }
        Some(Success::Distance(distance)) => {
            if !c.finite(path, distance) {
                return;
            }
            let available = match (&road.geometry, road.closed) {
                (Some(geometry), false) => Some(geometry.length() - spawn_s.clamp(0.0, geometry.length())),
                _ => None,
            };
            if distance <= 0.0 || distance > MAX_ROAD_LENGTH * 10.0 {
                c.report(
                    path,
                    format!(
                        "Distance must be greater than 0 and at most {} m (got Distance({}))",
                        num(MAX_ROAD_LENGTH * 10.0),
                        num(distance)
                    ),
                );
            } else if let Some(available) = available.filter(|&a| distance > a) {
                c.report(
                    path,
                    format!(
                        "Distance({}) cannot be reached: the road ends {} m after the ego spawn",
                        num(distance),
                        short(available)
                    ),
                );
            }
        }
        _ => {}
    }
}
