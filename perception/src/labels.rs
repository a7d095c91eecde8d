//! What the perception CNN predicts, in a fixed order: regression heads clipped to a range, and
//! lane-free flags as classification heads. Labels come from the simulator's ground truth.

use lepton_sim::DrivingState;
use lepton_sim::ground_truth::GAP_RANGE;

/// Index of each ground-truth field in a stored label vector ([`DrivingState::to_vec`] order).
pub mod field {
    use lepton_sim::DrivingState;
    pub const LANE_OFFSET: usize = DrivingState::index("lane_offset");
    pub const HEADING_ERROR: usize = DrivingState::index("heading_error");
    pub const SPEED: usize = DrivingState::index("speed");
    pub const CURVATURE_AHEAD: usize = DrivingState::index("curvature_ahead");
    pub const GAP_OWN: usize = DrivingState::index("gap_own");
    pub const GAP_LEFT: usize = DrivingState::index("gap_left");
    pub const GAP_RIGHT: usize = DrivingState::index("gap_right");
}

/// Number of stored label values per sample.
pub const LABEL_LEN: usize = DrivingState::LEN;

/// One regression output: which label it reads and the range it is clipped to.
#[derive(Debug, Clone, Copy)]
pub struct Regression {
    pub field: usize,
    pub min: f32,
    pub max: f32,
}

impl Regression {
    /// The label's name, from [`DrivingState::NAMES`].
    pub fn name(&self) -> &'static str {
        DrivingState::NAMES[self.field]
    }
}

/// The regression heads, in output order. Speed is not among them: it comes from odometry.
pub const REGRESSIONS: [Regression; 6] = [
    Regression { field: field::LANE_OFFSET, min: -2.5, max: 2.5 },
    Regression { field: field::HEADING_ERROR, min: -0.7, max: 0.7 },
    Regression { field: field::CURVATURE_AHEAD, min: -0.05, max: 0.05 },
    Regression { field: field::GAP_OWN, min: 0.0, max: GAP_RANGE },
    Regression { field: field::GAP_LEFT, min: 0.0, max: GAP_RANGE },
    Regression { field: field::GAP_RIGHT, min: 0.0, max: GAP_RANGE },
];

/// A lane counts as free when it exists and nothing is within this distance ahead in it (m).
pub const FREE_GAP: f32 = 20.0;

/// The classification heads, in output order: (name, the gap label it is derived from).
pub const FLAGS: [(&str, usize); 2] = [("left_free", field::GAP_LEFT), ("right_free", field::GAP_RIGHT)];

/// The regression targets of a label vector, clipped to their ranges.
pub fn regression_targets(labels: &[f32]) -> [f32; REGRESSIONS.len()] {
    REGRESSIONS.map(|r| labels[r.field].clamp(r.min, r.max))
}

/// The flag targets (1.0 true, 0.0 false) of a label vector.
pub fn flag_targets(labels: &[f32]) -> [f32; FLAGS.len()] {
    FLAGS.map(|(_, gap)| if labels[gap] >= FREE_GAP { 1.0 } else { 0.0 })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_are_clipped_and_flags_need_a_lane_with_room() {
        let labels = [3.0, -0.1, 9.0, 0.001, 80.0, 25.0, 0.0];
        let r = regression_targets(&labels);
        assert_eq!(r, [2.5, -0.1, 0.001, 60.0, 25.0, 0.0]);
        assert_eq!(flag_targets(&labels), [1.0, 0.0], "no lane on the right is not free");
        assert_eq!(flag_targets(&[0.0, 0.0, 0.0, 0.0, 60.0, 19.0, 60.0]), [0.0, 1.0]);
    }
}
