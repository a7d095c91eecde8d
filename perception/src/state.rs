//! The driving state an agent acts on: named fields and a fixed-order vector.

use lepton_sim::GroundTruth;

/// What perception reports about the ego car's situation.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct DrivingState {
    /// Offset from the centre of the nearest lane (m, positive left).
    pub lane_offset: f32,
    /// Car heading minus road heading (radians, positive left).
    pub heading_error: f32,
    /// Forward speed from odometry (m/s).
    pub speed: f32,
    /// Road curvature ahead (1/m, positive left).
    pub curvature_ahead: f32,
    /// Free distance ahead in the own, left and right lane (m; 0 where there is no lane).
    pub gap_own: f32,
    pub gap_left: f32,
    pub gap_right: f32,
}

impl DrivingState {
    /// Field names in the order of [`DrivingState::to_vec`].
    pub const NAMES: [&'static str; 7] = GroundTruth::NAMES;
    /// Length of [`DrivingState::to_vec`].
    pub const LEN: usize = Self::NAMES.len();
    /// Typical magnitude of each field, so a network's inputs are of order one.
    pub const SCALE: [f32; Self::LEN] = [2.0, 0.5, 20.0, 0.05, 60.0, 60.0, 60.0];

    /// The state read straight from the simulator.
    pub fn from_ground_truth(gt: &GroundTruth) -> Self {
        let [lane_offset, heading_error, speed, curvature_ahead, gap_own, gap_left, gap_right] =
            gt.to_array();
        Self { lane_offset, heading_error, speed, curvature_ahead, gap_own, gap_left, gap_right }
    }

    /// [`DrivingState::to_vec`] divided by [`DrivingState::SCALE`], appended to `out`.
    pub fn write_scaled(&self, out: &mut Vec<f32>) {
        out.extend(self.to_vec().iter().zip(Self::SCALE).map(|(x, k)| x / k));
    }

    /// The state as a fixed-order vector (see [`DrivingState::NAMES`]).
    pub fn to_vec(&self) -> [f32; Self::LEN] {
        [
            self.lane_offset,
            self.heading_error,
            self.speed,
            self.curvature_ahead,
            self.gap_own,
            self.gap_left,
            self.gap_right,
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_ground_truth_order_and_values() {
        let gt = GroundTruth {
            lane_offset: 0.1,
            heading_error: 0.2,
            speed: 3.0,
            curvature_ahead: 0.04,
            gap_own: 5.0,
            gap_left: 6.0,
            gap_right: 0.0,
            ..Default::default()
        };
        let state = DrivingState::from_ground_truth(&gt);
        assert_eq!(state.to_vec(), gt.to_array());
        assert_eq!(state.speed, 3.0);
        assert_eq!(DrivingState::NAMES[4], "gap_own");
    }
}
