//! Scripted drivers on ground truth: a physics sanity check, a baseline to beat, and the driver
//! that collects perception data.

use crate::ground_truth::DrivingState;
use crate::vehicle::Control;

/// Keeps its lane with a Stanley-style steering law plus curvature feed-forward, holds a target
/// speed, and brakes for anything ahead in its lane. It never changes lanes.
#[derive(Debug, Clone)]
pub struct KeepLane {
    /// Cruise speed (m/s).
    pub target_speed: f32,
    /// Front-wheel angle at full steering lock (radians).
    pub max_steer: f32,
    /// Distance between the axles (m).
    pub wheelbase: f32,
    /// Cross-track gain of the Stanley law.
    pub cross_track_gain: f32,
    /// Deceleration it plans with when something is ahead (m/s²).
    pub braking: f32,
    /// Gap it stops at behind something in its lane (m).
    pub stop_gap: f32,
    /// Sideways acceleration it takes curves at, at most (m/s²): it slows for the curvature
    /// ahead. Unlimited from [`KeepLane::new`] (one-road scenarios' curves are gentle);
    /// [`KeepLane::through_junctions`] sets a comfortable one for junctions' tight turns.
    pub lateral_accel: f32,
}

impl KeepLane {
    /// A driver for a car with `max_steer` degrees of lock and a body `length` metres long.
    pub fn new(target_speed: f32, max_steer_degrees: f32, length: f32) -> Self {
        Self {
            target_speed,
            max_steer: max_steer_degrees.to_radians(),
            wheelbase: 0.6 * length,
            cross_track_gain: 1.5,
            braking: 4.0,
            stop_gap: 4.0,
            lateral_accel: f32::INFINITY,
        }
    }

    /// [`KeepLane::new`] slowing to take curves at 2.5 m/s² sideways: a junction's turns have
    /// radii of 10 to 20 m.
    pub fn through_junctions(target_speed: f32, max_steer_degrees: f32, length: f32) -> Self {
        Self { lateral_accel: 2.5, ..Self::new(target_speed, max_steer_degrees, length) }
    }

    /// The continuous command for the state `gt`.
    pub fn control(&self, gt: &DrivingState) -> Control {
        let speed = gt.speed.max(0.0);
        let feed_forward = (self.wheelbase * gt.curvature_ahead).atan();
        let cross_track = (self.cross_track_gain * gt.lane_offset / (1.0 + speed)).atan();
        let angle = feed_forward - gt.heading_error - cross_track;
        let steer = (angle / self.max_steer).clamp(-1.0, 1.0);

        // Slow down so as to stop `stop_gap` short of whatever is ahead.
        let room = (gt.gap_own - self.stop_gap).max(0.0);
        let safe_speed = (2.0 * self.braking * room).sqrt();
        let mut wanted = self.target_speed.min(safe_speed);
        if self.lateral_accel.is_finite() && gt.curvature_ahead != 0.0 {
            wanted = wanted.min((self.lateral_accel / gt.curvature_ahead.abs()).sqrt());
        }
        let throttle = ((wanted - speed) * 0.5).clamp(-1.0, 1.0);
        Control { steer, throttle }
    }

    /// The discrete action nearest to [`KeepLane::control`] (steering weighs more than throttle).
    pub fn act(&self, gt: &DrivingState, actions: &[Control]) -> usize {
        nearest_action(self.control(gt), actions)
    }
}

/// Index of the action closest to `wanted`.
pub fn nearest_action(wanted: Control, actions: &[Control]) -> usize {
    let cost = |a: &Control| 4.0 * (a.steer - wanted.steer).powi(2) + (a.throttle - wanted.throttle).powi(2);
    (0..actions.len()).min_by(|&i, &j| cost(&actions[i]).total_cmp(&cost(&actions[j]))).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steers_back_toward_the_lane_centre() {
        let driver = KeepLane::new(10.0, 30.0, 4.4);
        let gt = |lane_offset, heading_error| DrivingState {
            lane_offset,
            heading_error,
            speed: 10.0,
            gap_own: 60.0,
            ..Default::default()
        };
        assert!(driver.control(&gt(1.0, 0.0)).steer < 0.0, "left of centre → steer right");
        assert!(driver.control(&gt(-1.0, 0.0)).steer > 0.0);
        assert!(driver.control(&gt(0.0, 0.2)).steer < 0.0, "pointing left → steer right");
        assert_eq!(driver.control(&gt(0.0, 0.0)).steer, 0.0);
    }

    #[test]
    fn brakes_for_something_close_ahead() {
        let driver = KeepLane::new(10.0, 30.0, 4.4);
        let gt = DrivingState { speed: 10.0, gap_own: 6.0, ..Default::default() };
        assert!(driver.control(&gt).throttle < -0.5);
        let clear = DrivingState { speed: 5.0, gap_own: 60.0, ..Default::default() };
        assert!(driver.control(&clear).throttle > 0.5);
    }

    #[test]
    fn picks_the_nearest_action() {
        let actions = [
            Control { steer: 0.0, throttle: 0.5 },
            Control { steer: 0.5, throttle: 0.5 },
            Control { steer: 0.0, throttle: -1.0 },
        ];
        assert_eq!(nearest_action(Control { steer: 0.4, throttle: 0.0 }, &actions), 1);
        assert_eq!(nearest_action(Control { steer: 0.0, throttle: -0.8 }, &actions), 2);
        assert_eq!(nearest_action(Control { steer: 0.05, throttle: 0.3 }, &actions), 0);
    }
}
