//! Anomaly checks on collected samples. Every rejection has a named reason and is counted in the
//! dataset's manifest; nothing is dropped silently.

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::Hash;

/// Why a sample was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Anomaly {
    /// The frame is one flat colour (or nearly): nothing rendered, or a camera inside a wall.
    BlankFrame,
    /// A label is NaN or infinite.
    NonFiniteLabel,
    /// The car moved further in one step than its speed allows.
    Teleport,
    /// The car is tilted past the flip limit or upside down.
    Flipped,
    /// The physics state itself is broken (non-finite pose).
    PhysicsInvalid,
    /// Byte-for-byte the same frame as an earlier sample (a car standing still, a stuck reset).
    DuplicateFrame,
}

impl Anomaly {
    pub const ALL: [Anomaly; 6] = [
        Anomaly::BlankFrame,
        Anomaly::NonFiniteLabel,
        Anomaly::Teleport,
        Anomaly::Flipped,
        Anomaly::PhysicsInvalid,
        Anomaly::DuplicateFrame,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Anomaly::BlankFrame => "blank_frame",
            Anomaly::NonFiniteLabel => "non_finite_label",
            Anomaly::Teleport => "teleport",
            Anomaly::Flipped => "flipped",
            Anomaly::PhysicsInvalid => "physics_invalid",
            Anomaly::DuplicateFrame => "duplicate_frame",
        }
    }
}

/// What the checker needs to know about one candidate sample.
#[derive(Debug, Clone, Copy)]
pub struct Candidate<'a> {
    /// The frame, u8 H × W × C.
    pub frame: &'a [u8],
    pub labels: &'a [f32],
    /// Which episode the sample belongs to, and its step in it.
    pub episode_seed: u64,
    pub step: u32,
    /// The car's world position (m) and forward speed (m/s).
    pub position: [f32; 3],
    pub speed: f32,
    /// The world's up axis in the car's frame: 1 upright, ≤ 0.5 tilted past 60°.
    pub uprightness: f32,
}

/// Thresholds of the checks.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Thresholds {
    /// A frame whose brightest and darkest values differ by at most this is blank.
    pub blank_range: u8,
    /// Seconds between consecutive samples of one episode.
    pub step_seconds: f32,
    /// Allowed movement per step beyond `speed × step_seconds × 1.5` (m).
    pub teleport_slack: f32,
    /// Uprightness below this is a flip (0.5 = 60° of tilt).
    pub min_uprightness: f32,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self { blank_range: 4, step_seconds: 0.08, teleport_slack: 1.0, min_uprightness: 0.5 }
    }
}

/// Runs every check on a stream of samples; remembers frame hashes and each episode's last
/// position, and counts rejections by reason.
#[derive(Debug, Default)]
pub struct AnomalyChecker {
    pub thresholds: Thresholds,
    seen_frames: HashSet<u64>,
    last_position: HashMap<u64, (u32, [f32; 3], f32)>,
    rejected: BTreeMap<Anomaly, u64>,
    accepted: u64,
}

impl AnomalyChecker {
    pub fn new(thresholds: Thresholds) -> Self {
        Self { thresholds, ..Default::default() }
    }

    /// Checks one sample: `Ok(())` keeps it, `Err(reason)` rejects it (and counts the reason).
    pub fn check(&mut self, sample: &Candidate) -> Result<(), Anomaly> {
        let verdict = self.verdict(sample);
        match verdict {
            Ok(()) => self.accepted += 1,
            Err(reason) => *self.rejected.entry(reason).or_default() += 1,
        }
        verdict
    }

    fn verdict(&mut self, sample: &Candidate) -> Result<(), Anomaly> {
        let t = self.thresholds;
        if sample.position.iter().any(|v| !v.is_finite()) || !sample.uprightness.is_finite() {
            return Err(Anomaly::PhysicsInvalid);
        }
        if sample.labels.iter().any(|v| !v.is_finite()) || !sample.speed.is_finite() {
            return Err(Anomaly::NonFiniteLabel);
        }
        if sample.uprightness < t.min_uprightness {
            return Err(Anomaly::Flipped);
        }
        // Movement since this episode's previous sample; a first sample has nothing to compare.
        let previous =
            self.last_position.insert(sample.episode_seed, (sample.step, sample.position, sample.speed));
        if let Some((step, position, speed)) = previous
            && sample.step > step
        {
            let moved = distance(position, sample.position);
            let steps = (sample.step - step) as f32;
            let fastest = speed.abs().max(sample.speed.abs());
            if moved > fastest * t.step_seconds * steps * 1.5 + t.teleport_slack * steps {
                return Err(Anomaly::Teleport);
            }
        }
        let (lo, hi) = sample.frame.iter().fold((u8::MAX, u8::MIN), |(lo, hi), &v| (lo.min(v), hi.max(v)));
        if sample.frame.is_empty() || hi.saturating_sub(lo) <= t.blank_range {
            return Err(Anomaly::BlankFrame);
        }
        if !self.seen_frames.insert(frame_hash(sample.frame)) {
            return Err(Anomaly::DuplicateFrame);
        }
        Ok(())
    }

    /// Forgets an episode's last position (call when an episode ends, to bound memory).
    pub fn end_episode(&mut self, episode_seed: u64) {
        self.last_position.remove(&episode_seed);
    }

    pub fn accepted(&self) -> u64 {
        self.accepted
    }

    /// Rejections so far, by reason name; every reason is listed, zeros included.
    pub fn rejected(&self) -> BTreeMap<String, u64> {
        Anomaly::ALL
            .iter()
            .map(|&a| (a.name().to_string(), self.rejected.get(&a).copied().unwrap_or(0)))
            .collect()
    }
}

fn distance(a: [f32; 3], b: [f32; 3]) -> f32 {
    ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2) + (a[2] - b[2]).powi(2)).sqrt()
}

/// A 64-bit hash of the frame bytes: XXH3-64 (seed 0), a published algorithm, so the same in
/// every run and every build.
pub fn frame_hash(frame: &[u8]) -> u64 {
    lepton_artifacts::checksum::content_hash(frame)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(seed: u8) -> Vec<u8> {
        (0..300u32).map(|i| (i as u8).wrapping_mul(7).wrapping_add(seed)).collect()
    }

    fn candidate<'a>(frame: &'a [u8], labels: &'a [f32], step: u32, x: f32) -> Candidate<'a> {
        Candidate {
            frame,
            labels,
            episode_seed: 42,
            step,
            position: [x, 0.5, 0.0],
            speed: 10.0,
            uprightness: 1.0,
        }
    }

    #[test]
    fn clean_samples_pass() {
        let mut checker = AnomalyChecker::default();
        let labels = [0.0; 7];
        let (a, b) = (frame(1), frame(2));
        assert_eq!(checker.check(&candidate(&a, &labels, 0, 0.0)), Ok(()));
        assert_eq!(checker.check(&candidate(&b, &labels, 1, 0.8)), Ok(()));
        assert_eq!(checker.accepted(), 2);
        assert!(checker.rejected().values().all(|&n| n == 0));
    }

    #[test]
    fn each_planted_anomaly_is_caught_with_its_reason() {
        let mut checker = AnomalyChecker::default();
        let labels = [0.0; 7];
        let good = frame(1);
        assert_eq!(checker.check(&candidate(&good, &labels, 0, 0.0)), Ok(()));

        let blank = vec![128u8; 300];
        assert_eq!(checker.check(&candidate(&blank, &labels, 1, 0.8)), Err(Anomaly::BlankFrame));
        let nearly_blank: Vec<u8> = (0..300).map(|i| 100 + (i % 3) as u8).collect();
        assert_eq!(checker.check(&candidate(&nearly_blank, &labels, 2, 1.6)), Err(Anomaly::BlankFrame));

        let nan = [0.0, f32::NAN, 0.0, 0.0, 0.0, 0.0, 0.0];
        let f3 = frame(3);
        assert_eq!(checker.check(&candidate(&f3, &nan, 3, 2.4)), Err(Anomaly::NonFiniteLabel));
        let inf = [f32::INFINITY, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0];
        assert_eq!(checker.check(&candidate(&f3, &inf, 3, 2.4)), Err(Anomaly::NonFiniteLabel));

        // 10 m/s for 0.08 s is 0.8 m; 30 m in one step is a teleport.
        let f4 = frame(4);
        assert_eq!(checker.check(&candidate(&f4, &labels, 4, 33.0)), Err(Anomaly::Teleport));

        let mut flipped = candidate(&f4, &labels, 5, 33.8);
        flipped.uprightness = -0.9;
        assert_eq!(checker.check(&flipped), Err(Anomaly::Flipped));

        let mut broken = candidate(&f4, &labels, 6, 34.6);
        broken.position[1] = f32::NAN;
        assert_eq!(checker.check(&broken), Err(Anomaly::PhysicsInvalid));

        assert_eq!(checker.check(&candidate(&good, &labels, 7, 35.4)), Err(Anomaly::DuplicateFrame));

        let rejected = checker.rejected();
        assert_eq!(rejected["blank_frame"], 2);
        assert_eq!(rejected["non_finite_label"], 2);
        assert_eq!(rejected["teleport"], 1);
        assert_eq!(rejected["flipped"], 1);
        assert_eq!(rejected["physics_invalid"], 1);
        assert_eq!(rejected["duplicate_frame"], 1);
        assert_eq!(checker.accepted(), 1);
    }

    #[test]
    fn movement_is_judged_per_episode() {
        let mut checker = AnomalyChecker::default();
        let labels = [0.0; 7];
        let (a, b) = (frame(1), frame(2));
        assert_eq!(checker.check(&candidate(&a, &labels, 0, 0.0)), Ok(()));
        // Another episode starting far away is not a teleport of the first one.
        let mut other = candidate(&b, &labels, 0, 500.0);
        other.episode_seed = 7;
        assert_eq!(checker.check(&other), Ok(()));
    }
}
