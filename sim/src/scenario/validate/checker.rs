//! The range checks and the wording every part of the scenario shares.

use super::*;

/// Collects problems; each check reports what is required and what was found.
#[derive(Default)]
pub(super) struct Checker {
    pub(super) problems: Vec<FieldProblem>,
}

/// One end of an allowed range of numbers.
#[derive(Clone, Copy)]
pub(super) enum Bound {
    /// The value may equal the bound.
    Incl(f32),
    /// The value must stay strictly beyond the bound.
    Excl(f32),
}

impl Checker {
    pub(super) fn report(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.problems.push(FieldProblem { path: path.into(), message: message.into() });
    }

    /// Reports NaN and infinities; true when `value` is a finite number.
    pub(super) fn finite(&mut self, path: &str, value: f32) -> bool {
        if !value.is_finite() {
            self.report(path, format!("must be a finite number (got {value})"));
        }
        value.is_finite()
    }

    /// Checks `lo ≤ value ≤ hi` (or strictly, per bound) and finiteness; true when it holds.
    pub(super) fn bounded(&mut self, path: &str, value: f32, lo: Bound, hi: Bound) -> bool {
        if !self.finite(path, value) {
            return false;
        }
        let message = match (lo, hi) {
            (Bound::Incl(lo), _) if value < lo => format!("must be at least {}", num(lo)),
            (Bound::Excl(lo), _) if value <= lo => format!("must be greater than {}", num(lo)),
            (_, Bound::Incl(hi)) if value > hi => format!("must be at most {}", num(hi)),
            (_, Bound::Excl(hi)) if value >= hi => format!("must be less than {}", num(hi)),
            _ => return true,
        };
        self.report(path, format!("{message} (got {})", num(value)));
        false
    }

    /// `lo ≤ value ≤ hi`.
    pub(super) fn in_range(&mut self, path: &str, value: f32, lo: f32, hi: f32) -> bool {
        self.bounded(path, value, Bound::Incl(lo), Bound::Incl(hi))
    }

    /// `0 < value ≤ max`.
    pub(super) fn positive(&mut self, path: &str, value: f32, max: f32) -> bool {
        self.bounded(path, value, Bound::Excl(0.0), Bound::Incl(max))
    }

    /// `lo ≤ value ≤ hi` for a whole number.
    pub(super) fn count(&mut self, path: &str, value: u64, lo: u64, hi: u64) -> bool {
        if value < lo {
            self.report(path, format!("must be at least {lo} (got {value})"));
        } else if value > hi {
            self.report(path, format!("must be at most {hi} (got {value})"));
        }
        (lo..=hi).contains(&value)
    }

    /// A lane index must name one of the road's lanes (unknown when `road.lanes` is itself wrong).
    pub(super) fn lane(&mut self, path: &str, lane: u32, lanes: Option<u32>) -> bool {
        match lanes {
            Some(lanes) if lane >= lanes => {
                let allowed = if lanes == 1 {
                    "must be 0, the only lane".to_string()
                } else {
                    format!("must be a lane index from 0 to {}", lanes - 1)
                };
                self.report(path, format!("{allowed} (road.lanes is {lanes}; got {lane})"));
                false
            }
            _ => true,
        }
    }

    /// Each channel of a colour in [0, 1].
    pub(super) fn colour(&mut self, path: &str, colour: [f32; 3]) {
        for (i, channel) in colour.into_iter().enumerate() {
            self.in_range(&format!("{path}[{i}]"), channel, 0.0, 1.0);
        }
    }
}
/// A number as a user would write it: plain for ordinary magnitudes, exponent form for extremes.
pub(super) fn num(value: f32) -> String {
    let magnitude = value.abs();
    if value.is_finite() && magnitude != 0.0 && !(1e-3..1e6).contains(&magnitude) {
        format!("{value:e}")
    } else {
        format!("{value}")
    }
}

/// A computed length or angle, rounded to two decimals for messages.
pub(super) fn short(value: f32) -> String {
    let text = format!("{value:.2}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" { "0".to_string() } else { text.to_string() }
}
