//! Exploration schedules: ε as a function of the environment step.

use lepton_artifacts::InvalidField;
use serde::{Deserialize, Serialize};

/// How ε falls from `start` to `end` over `steps` env steps, then stays at `end`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum EpsilonSchedule {
    /// A straight line from `start` to `end`.
    Linear { start: f64, end: f64, steps: u64 },
    /// Geometric decay: `start · (end/start)^(step/steps)`, so ε reaches `end` at `steps`.
    Exponential { start: f64, end: f64, steps: u64 },
}

impl Default for EpsilonSchedule {
    fn default() -> Self {
        EpsilonSchedule::Linear { start: 1.0, end: 0.05, steps: 50_000 }
    }
}

impl EpsilonSchedule {
    pub fn value(&self, step: u64) -> f64 {
        match *self {
            EpsilonSchedule::Linear { start, end, steps } => {
                let t = if steps == 0 { 1.0 } else { (step as f64 / steps as f64).min(1.0) };
                start + (end - start) * t
            }
            EpsilonSchedule::Exponential { start, end, steps } => {
                let t = if steps == 0 { 1.0 } else { (step as f64 / steps as f64).min(1.0) };
                if start <= 0.0 || end <= 0.0 {
                    start + (end - start) * t
                } else {
                    start * (end / start).powf(t)
                }
            }
        }
    }

    /// Checks the values; the message names the field.
    pub fn validate(&self, path: &str) -> Result<(), InvalidField> {
        let (EpsilonSchedule::Linear { start, end, .. } | EpsilonSchedule::Exponential { start, end, .. }) =
            *self;
        for (name, v) in [("start", start), ("end", end)] {
            if !(0.0..=1.0).contains(&v) {
                return Err(InvalidField::new(
                    format!("{path}.{name}"),
                    format!("{v} is not a probability in [0, 1]"),
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_falls_in_a_straight_line_then_holds() {
        let s = EpsilonSchedule::Linear { start: 1.0, end: 0.1, steps: 100 };
        assert_eq!(s.value(0), 1.0);
        assert!((s.value(50) - 0.55).abs() < 1e-12);
        assert!((s.value(100) - 0.1).abs() < 1e-12);
        assert!((s.value(10_000) - 0.1).abs() < 1e-12);
    }

    #[test]
    fn exponential_halves_geometrically() {
        let s = EpsilonSchedule::Exponential { start: 1.0, end: 0.01, steps: 100 };
        assert_eq!(s.value(0), 1.0);
        assert!((s.value(50) - 0.1).abs() < 1e-12, "half-way is the geometric mean");
        assert!((s.value(100) - 0.01).abs() < 1e-12);
        assert!((s.value(500) - 0.01).abs() < 1e-12);
        assert!(s.value(25) > s.value(26));
    }

    #[test]
    fn out_of_range_values_name_the_field() {
        let s = EpsilonSchedule::Linear { start: 1.5, end: 0.1, steps: 1 };
        assert_eq!(s.validate("epsilon").unwrap_err().field, "epsilon.start");
    }
}
