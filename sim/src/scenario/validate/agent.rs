//! What the agent does, sees and is paid: the action set, the camera, the lidar and the reward.

use super::*;

pub(super) fn actions(c: &mut Checker, actions: &Actions) {
    if actions.set.is_empty() {
        c.report("actions.set", "must not be empty: the agent needs at least one action");
    } else if actions.set.len() > MAX_ACTIONS {
        c.report(
            "actions.set",
            format!("must have at most {MAX_ACTIONS} actions (got {})", actions.set.len()),
        );
    }
    for (i, action) in actions.set.iter().enumerate() {
        c.in_range(&format!("actions.set[{i}].steer"), action.steer, -1.0, 1.0);
        c.in_range(&format!("actions.set[{i}].throttle"), action.throttle, -1.0, 1.0);
    }
    if let Some(continuous) = &actions.continuous {
        for (name, (lo, hi)) in [("steer", continuous.steer), ("throttle", continuous.throttle)] {
            let path = format!("actions.continuous.{name}");
            let ends_ok = c.in_range(&format!("{path}.0"), lo, -1.0, 1.0)
                & c.in_range(&format!("{path}.1"), hi, -1.0, 1.0);
            if ends_ok && lo >= hi {
                c.report(
                    &path,
                    format!("({lo}, {hi}) is not a range: write (lowest, highest), lowest below highest"),
                );
            }
        }
    }
    c.count("actions.repeat", actions.repeat.into(), 1, 100);
}
pub(super) fn camera(c: &mut Checker, camera: &Camera) {
    c.count("camera.width", camera.width.into(), 8, 1024);
    c.count("camera.height", camera.height.into(), 8, 1024);
    c.bounded("camera.fov", camera.fov, Bound::Excl(10.0), Bound::Excl(170.0));
    c.in_range("camera.pitch", camera.pitch, -89.0, 89.0);
    c.in_range("camera.mount.forward", camera.mount.forward, -20.0, 20.0);
    c.in_range("camera.mount.up", camera.mount.up, -20.0, 20.0);
    c.in_range("camera.mount.left", camera.mount.left, -20.0, 20.0);
}
pub(super) fn lidar(c: &mut Checker, lidar: &Lidar) {
    c.count("lidar.channels", lidar.channels.into(), 1, 256);
    c.count("lidar.rays", lidar.rays.into(), 1, 8192);
    c.bounded("lidar.range", lidar.range, Bound::Excl(0.0), Bound::Incl(500.0));
    let (lo, hi) = lidar.vertical_fov;
    let ends_ok = c.in_range("lidar.vertical_fov.0", lo, -89.0, 89.0)
        & c.in_range("lidar.vertical_fov.1", hi, -89.0, 89.0);
    if ends_ok && lo > hi {
        c.report(
            "lidar.vertical_fov",
            format!("({lo}, {hi}) is not a range: write (lowest, highest), lowest not above highest"),
        );
    }
    c.bounded("lidar.horizontal_fov", lidar.horizontal_fov, Bound::Excl(0.0), Bound::Incl(360.0));
    c.in_range("lidar.mount.forward", lidar.mount.forward, -20.0, 20.0);
    c.in_range("lidar.mount.up", lidar.mount.up, -20.0, 20.0);
    c.in_range("lidar.mount.left", lidar.mount.left, -20.0, 20.0);
    c.in_range("lidar.noise", lidar.noise, 0.0, 10.0);
}

pub(super) fn reward(c: &mut Checker, scenario: &Scenario) {
    reward_weights(c, "reward", &scenario.reward);
}

/// The weights of reward `r`, found at `path` (`reward`, or an agent's own).
pub(super) fn reward_weights(c: &mut Checker, path: &str, r: &Reward) {
    let weights = [
        ("progress", r.progress),
        ("lane_centre", r.lane_centre),
        ("speed", r.speed),
        ("collision", r.collision),
        ("off_road", r.off_road),
        ("wrong_way", r.wrong_way),
        ("red_light", r.red_light),
        ("step", r.step),
        ("success", r.success),
    ];
    for (field, weight) in weights {
        c.in_range(&format!("{path}.{field}"), weight, -MAX_WEIGHT, MAX_WEIGHT);
    }
    c.positive(&format!("{path}.target_speed"), r.target_speed, MAX_SPEED);
}
