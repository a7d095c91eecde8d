//! The discretiser: bins chosen fields of a [`DrivingState`] and combines the bins into one table
//! index (mixed radix), for tabular Q-learning.

use crate::state::DrivingState;
use lepton_artifacts::InvalidField;
use serde::{Deserialize, Serialize};

/// Bin edges for one state field: `edges.len() + 1` bins, `(-∞, e0), [e0, e1), …, [e_last, ∞)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldBins {
    /// A name from [`DrivingState::NAMES`].
    pub field: String,
    /// Increasing bin edges.
    pub edges: Vec<f32>,
}

/// Which fields to bin and where.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Discretiser {
    pub bins: Vec<FieldBins>,
}

impl Default for Discretiser {
    /// Lane offset, heading error, curvature ahead and the own-lane gap: 7 × 7 × 3 × 3 = 441
    /// states, enough for lane keeping with a brake for what is ahead.
    fn default() -> Self {
        let bins = |field: &str, edges: &[f32]| FieldBins { field: field.into(), edges: edges.to_vec() };
        Self {
            bins: vec![
                bins("lane_offset", &[-1.0, -0.5, -0.15, 0.15, 0.5, 1.0]),
                bins("heading_error", &[-0.15, -0.07, -0.02, 0.02, 0.07, 0.15]),
                bins("curvature_ahead", &[-0.01, 0.01]),
                bins("gap_own", &[12.0, 30.0]),
            ],
        }
    }
}

impl Discretiser {
    /// Checks field names and edge order; the message names the offending entry.
    pub fn validate(&self) -> Result<(), InvalidField> {
        if self.bins.is_empty() {
            return Err(InvalidField::new("discretiser.bins", "at least one field is needed"));
        }
        for (i, b) in self.bins.iter().enumerate() {
            if field_index(&b.field).is_none() {
                return Err(InvalidField::new(
                    format!("discretiser.bins[{i}].field"),
                    format!("unknown field \"{}\" (known: {})", b.field, DrivingState::NAMES.join(", ")),
                ));
            }
            if b.edges.iter().any(|e| !e.is_finite()) || b.edges.windows(2).any(|w| w[0] >= w[1]) {
                return Err(InvalidField::new(
                    format!("discretiser.bins[{i}].edges"),
                    "must be finite and strictly increasing",
                ));
            }
        }
        if self.bins.iter().map(|b| b.edges.len() as u128 + 1).product::<u128>() > 1 << 24 {
            return Err(InvalidField::new("discretiser.bins", "more than 16.7 million states"));
        }
        Ok(())
    }

    /// Number of table rows.
    pub fn num_states(&self) -> usize {
        self.bins.iter().map(|b| b.edges.len() + 1).product()
    }

    /// The bin of each field, in `bins` order.
    pub fn bins_of(&self, state: &DrivingState) -> Vec<usize> {
        let values = state.to_vec();
        self.bins
            .iter()
            .map(|b| {
                let v = values[field_index(&b.field).expect("validated field")];
                // NaN goes to the middle bin rather than panicking or skewing to an end.
                if v.is_nan() { b.edges.len() / 2 } else { b.edges.partition_point(|&e| e <= v) }
            })
            .collect()
    }

    /// The table index: the bins as digits of a mixed-radix number, first field most significant.
    pub fn index(&self, state: &DrivingState) -> usize {
        self.bins.iter().zip(self.bins_of(state)).fold(0, |acc, (b, bin)| acc * (b.edges.len() + 1) + bin)
    }
}

fn field_index(name: &str) -> Option<usize> {
    DrivingState::NAMES.iter().position(|n| *n == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn two_fields() -> Discretiser {
        Discretiser {
            bins: vec![
                FieldBins { field: "lane_offset".into(), edges: vec![-0.5, 0.5] },
                FieldBins { field: "speed".into(), edges: vec![5.0] },
            ],
        }
    }

    #[test]
    fn bins_combine_into_a_mixed_radix_index() {
        let d = two_fields();
        d.validate().unwrap();
        assert_eq!(d.num_states(), 6);
        let s = |lane_offset, speed| DrivingState { lane_offset, speed, ..Default::default() };
        assert_eq!(d.index(&s(-1.0, 0.0)), 0);
        assert_eq!(d.index(&s(-1.0, 9.0)), 1);
        assert_eq!(d.index(&s(0.0, 0.0)), 2);
        assert_eq!(d.index(&s(0.5, 0.0)), 4, "an edge value falls in the upper bin");
        assert_eq!(d.index(&s(3.0, 9.0)), 5);
        let all: std::collections::BTreeSet<usize> =
            [-1.0, 0.0, 1.0].iter().flat_map(|&o| [0.0, 9.0].map(|v| d.index(&s(o, v)))).collect();
        assert_eq!(all.len(), 6, "every state reachable, no collisions");
    }

    #[test]
    fn bad_configurations_name_the_field() {
        let mut d = two_fields();
        d.bins[1].field = "sped".into();
        assert!(d.validate().unwrap_err().to_string().contains("bins[1].field"));
        let mut d = two_fields();
        d.bins[0].edges = vec![0.5, -0.5];
        assert!(d.validate().unwrap_err().to_string().contains("bins[0].edges"));
        Discretiser::default().validate().unwrap();
        assert_eq!(Discretiser::default().num_states(), 441);
    }
}
