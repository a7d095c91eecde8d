//! What the perception CNN predicts, in a fixed order: regression heads clipped to a range, and
//! lane-free flags as classification heads. Labels come from the simulator's ground truth.

use lepton_sim::ground_truth::GAP_RANGE;

/// Index of each ground-truth field in a stored label vector (`GroundTruth::to_array` order).
pub mod field {
    pub const LANE_OFFSET: usize = 0;
    pub const HEADING_ERROR: usize = 1;
    pub const SPEED: usize = 2;
    pub const CURVATURE_AHEAD: usize = 3;
    pub const GAP_OWN: usize = 4;
    pub const GAP_LEFT: usize = 5;
    pub const GAP_RIGHT: usize = 6;
}

/// Number of stored label values per sample.
pub const LABEL_LEN: usize = 7;

/// One regression output: which label it reads and the range it is clipped to.
#[derive(Debug, Clone, Copy)]
pub struct Regression {
    pub name: &'static str,
    pub field: usize,
    pub min: f32,
    pub max: f32,
}

/// The regression heads, in output order. Speed is not among them: it comes from odometry.
pub const REGRESSIONS: [Regression; 6] = [
    Regression { name: "lane_offset", field: field::LANE_OFFSET, min: -2.5, max: 2.5 },
    Regression { name: "heading_error", field: field::HEADING_ERROR, min: -0.7, max: 0.7 },
    Regression { name: "curvature_ahead", field: field::CURVATURE_AHEAD, min: -0.05, max: 0.05 },
    Regression { name: "gap_own", field: field::GAP_OWN, min: 0.0, max: GAP_RANGE },
    Regression { name: "gap_left", field: field::GAP_LEFT, min: 0.0, max: GAP_RANGE },
    Regression { name: "gap_right", field: field::GAP_RIGHT, min: 0.0, max: GAP_RANGE },
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
