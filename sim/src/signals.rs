//! Traffic lights at junctions (issue 26): a fixed cycle of phases, each green for the lanes that
//! come in from some roads, then amber, then red everywhere for a moment so the junction clears.
//! The light of a lane is a pure function of the episode's clock, so seeded runs stay exact.

use crate::scenario::Signals;
use serde::Serialize;

/// What a lane coming into a junction is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Light {
    Green,
    /// Stop unless too close to stop.
    Amber,
    Red,
}

impl Light {
    /// The light's name as Python infos and logs give it: `green`, `amber`, `red`.
    pub fn name(self) -> &'static str {
        match self {
            Light::Green => "green",
            Light::Amber => "amber",
            Light::Red => "red",
        }
    }
}

/// A junction's lights, laid out with road indices.
#[derive(Debug, Clone, PartialEq)]
pub struct SignalPlan {
    /// Per phase: the roads (network road indices) with green, and seconds of green.
    phases: Vec<(Vec<usize>, f32)>,
    amber: f32,
    all_red: f32,
    offset: f32,
    /// Seconds of one whole cycle.
    cycle: f32,
}

impl SignalPlan {
    /// `signals` with each phase's green roads given as indices (`green[p]` for phase `p`).
    pub fn new(signals: &Signals, green: Vec<Vec<usize>>) -> Self {
        let phases: Vec<(Vec<usize>, f32)> =
            green.into_iter().zip(signals.phases.iter().map(|p| p.time)).collect();
        let cycle = phases.iter().map(|(_, time)| time + signals.amber + signals.all_red).sum();
        Self { phases, amber: signals.amber, all_red: signals.all_red, offset: signals.offset, cycle }
    }

    /// The light the lanes coming in from road `road` show `time` seconds into the episode.
    pub fn light(&self, road: usize, time: f32) -> Light {
        if self.cycle <= 0.0 {
            return Light::Red;
        }
        let mut t = (time + self.offset).rem_euclid(self.cycle);
        for (green, duration) in &self.phases {
            let span = duration + self.amber + self.all_red;
            if t < span {
                return if !green.contains(&road) {
                    Light::Red
                } else if t < *duration {
                    Light::Green
                } else if t < duration + self.amber {
                    Light::Amber
                } else {
                    Light::Red
                };
            }
            t -= span;
        }
        Light::Red
    }

    /// Seconds of one whole cycle.
    pub fn cycle(&self) -> f32 {
        self.cycle
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Phase;

    #[test]
    fn phases_run_green_amber_all_red_in_turn_and_repeat() {
        let signals = Signals {
            phases: vec![Phase { green: vec![], time: 10.0 }, Phase { green: vec![], time: 20.0 }],
            amber: 3.0,
            all_red: 1.0,
            offset: 0.0,
        };
        let plan = SignalPlan::new(&signals, vec![vec![0, 1], vec![2]]);
        assert_eq!(plan.cycle(), 38.0);
        let lights = |t: f32| [0, 1, 2, 3].map(|road| plan.light(road, t));
        use Light::*;
        assert_eq!(lights(0.0), [Green, Green, Red, Red]);
        assert_eq!(lights(9.9), [Green, Green, Red, Red]);
        assert_eq!(lights(10.5), [Amber, Amber, Red, Red]);
        assert_eq!(lights(13.5), [Red, Red, Red, Red], "all red while the junction clears");
        assert_eq!(lights(14.5), [Red, Red, Green, Red]);
        assert_eq!(lights(35.0), [Red, Red, Amber, Red]);
        assert_eq!(lights(37.5), [Red, Red, Red, Red]);
        assert_eq!(lights(38.5), [Green, Green, Red, Red], "the cycle repeats");
        let late = SignalPlan::new(&Signals { offset: 14.0, ..signals }, vec![vec![0, 1], vec![2]]);
        assert_eq!(late.light(2, 0.5), Green, "the offset starts the cycle later");
    }
}
