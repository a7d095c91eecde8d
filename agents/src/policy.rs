//! The policy interface and the baseline policies.

use lepton_sim::drivers::KeepLane;
use lepton_sim::scenario::Scenario;
use lepton_sim::{Control, Observation};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Chooses a discrete action (an index into the scenario's action set) for an observation.
pub trait Policy {
    fn act(&mut self, obs: &Observation) -> usize;
    /// A short name for logs and summaries.
    fn name(&self) -> &'static str;
}

/// Uniformly random actions from a seeded stream.
pub struct RandomPolicy {
    actions: usize,
    rng: ChaCha8Rng,
}

impl RandomPolicy {
    pub fn new(actions: usize, seed: u64) -> Self {
        assert!(actions > 0, "a policy needs at least one action");
        Self { actions, rng: ChaCha8Rng::seed_from_u64(seed) }
    }
}

impl Policy for RandomPolicy {
    fn act(&mut self, _obs: &Observation) -> usize {
        self.rng.random_range(0..self.actions)
    }

    fn name(&self) -> &'static str {
        "random"
    }
}

/// The scripted lane keeper on ground truth, restricted to the scenario's action set.
pub struct KeepLanePolicy {
    driver: KeepLane,
    controls: Vec<Control>,
}

impl KeepLanePolicy {
    /// Drives `scenario`'s car at `target_speed` m/s.
    pub fn new(scenario: &Scenario, target_speed: f32) -> Self {
        let vehicle = &scenario.ego.vehicle;
        Self {
            driver: KeepLane::new(target_speed, vehicle.max_steer, vehicle.length),
            controls: scenario.actions.controls(),
        }
    }
}

impl Policy for KeepLanePolicy {
    fn act(&mut self, obs: &Observation) -> usize {
        self.driver.act(&obs.state, &self.controls)
    }

    fn name(&self) -> &'static str {
        "keep_lane"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lepton_sim::GroundTruth;

    fn obs(lane_offset: f32) -> Observation {
        Observation {
            state: GroundTruth { lane_offset, speed: 10.0, gap_own: 60.0, ..Default::default() },
            frame: None,
        }
    }

    #[test]
    fn random_policy_is_seeded_and_covers_every_action() {
        let mut a = RandomPolicy::new(5, 3);
        let mut b = RandomPolicy::new(5, 3);
        let xs: Vec<_> = (0..200).map(|_| a.act(&obs(0.0))).collect();
        let ys: Vec<_> = (0..200).map(|_| b.act(&obs(0.0))).collect();
        assert_eq!(xs, ys);
        for action in 0..5 {
            assert!(xs.contains(&action));
        }
        assert!(xs.iter().all(|&x| x < 5));
    }

    #[test]
    fn keep_lane_policy_steers_back_with_the_scenario_actions() {
        let scenario = Scenario::default();
        let mut policy = KeepLanePolicy::new(&scenario, 10.0);
        let right = policy.act(&obs(1.0));
        let left = policy.act(&obs(-1.0));
        assert!(scenario.actions.set[right].steer < 0.0);
        assert!(scenario.actions.set[left].steer > 0.0);
    }
}
