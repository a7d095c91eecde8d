//! The one interface that chooses actions: a batched [`Policy`] decides for every env of a step
//! at once. The scripted and random baselines every learned agent is measured against live here;
//! a trained agent acts through [`crate::greedy::GreedyPolicy`]. Rollouts, benchmarks, `render`
//! and the viewer all drive through it.

use lepton_perception::DrivingState;
use lepton_perception::preprocess::Image;
use lepton_sim::drivers::KeepLane;
use lepton_sim::scenario::Scenario;
use lepton_sim::{Control, Observation};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// What a policy decided for one env, and what it saw on the way.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Decision {
    /// Index into the scenario's action set.
    pub action: usize,
    /// The value of each action (Q-learning and DQN), in action-set order.
    pub q_values: Option<Vec<f32>>,
    /// The driving state it perceived (ground truth or the CNN's reading).
    pub perceived: Option<DrivingState>,
    /// The camera frame after its preprocessing (the newest of a frame stack), H × W × C.
    pub input: Option<Image>,
}

/// Why a policy cannot drive a scenario, or could not decide.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("the agent was trained with {trained} actions; scenario \"{scenario}\" has {has} (actions.set)")]
    ActionCount { trained: usize, scenario: String, has: usize },
    /// Frames of another size or format than the agent was trained on (`WxH Format`).
    #[error("the agent reads {trained} frames; scenario \"{scenario}\" renders {has} (camera)")]
    Camera { trained: String, scenario: String, has: String },
    #[error(transparent)]
    Perception(#[from] lepton_perception::PerceptionError),
}

/// Chooses one action per env for a batch of observations (observation i is env i's).
pub trait Policy: Send {
    /// A short name for logs, summaries and the viewer's HUD.
    fn name(&self) -> String;

    /// Whether it reads camera frames (the envs then render them, exactly as in training).
    fn needs_frames(&self) -> bool {
        false
    }

    /// Whether it reads the depth camera as well (a perception CNN with depth input).
    fn needs_depth(&self) -> bool {
        false
    }

    /// Takes on `scenario`, or says why it cannot drive it (another action count, a camera shape
    /// it was not trained on…). On an error the policy is left as it was.
    fn adopt(&mut self, _scenario: &Scenario) -> Result<(), PolicyError> {
        Ok(())
    }

    /// One decision per env; `episode_start[i]` says env i just began an episode (frame stacks
    /// restart there).
    fn decide(
        &mut self,
        observations: &[&Observation],
        episode_start: &[bool],
    ) -> Result<Vec<Decision>, PolicyError>;

    /// The actions alone.
    fn act(
        &mut self,
        observations: &[&Observation],
        episode_start: &[bool],
    ) -> Result<Vec<usize>, PolicyError> {
        Ok(self.decide(observations, episode_start)?.into_iter().map(|d| d.action).collect())
    }
}

/// Uniformly random actions, from one seeded stream per env (env i's seeded `base_seed + i`), so
/// an env's actions do not depend on how many envs run beside it.
pub struct RandomPolicy {
    actions: usize,
    base_seed: u64,
    streams: Vec<ChaCha8Rng>,
}

impl RandomPolicy {
    pub fn new(actions: usize, base_seed: u64) -> Self {
        assert!(actions > 0, "a policy needs at least one action");
        Self { actions, base_seed, streams: Vec::new() }
    }
}

impl Policy for RandomPolicy {
    fn name(&self) -> String {
        "random".into()
    }

    fn adopt(&mut self, scenario: &Scenario) -> Result<(), PolicyError> {
        self.actions = scenario.actions.set.len().max(1);
        Ok(())
    }

    fn decide(&mut self, observations: &[&Observation], _: &[bool]) -> Result<Vec<Decision>, PolicyError> {
        while self.streams.len() < observations.len() {
            let i = self.streams.len() as u64;
            self.streams.push(ChaCha8Rng::seed_from_u64(self.base_seed.wrapping_add(i)));
        }
        Ok(self.streams[..observations.len()]
            .iter_mut()
            .map(|rng| Decision { action: rng.random_range(0..self.actions), ..Default::default() })
            .collect())
    }
}

/// The scripted lane keeper on ground truth, choosing the nearest action of the scenario's set.
pub struct KeepLanePolicy {
    driver: KeepLane,
    controls: Vec<Control>,
    /// Cruise speed (m/s); `None`: the scenario's reward target speed.
    target_speed: Option<f32>,
}

impl KeepLanePolicy {
    /// Drives `scenario`'s car at `target_speed` m/s (default: the reward's target speed); on a
    /// road network slowing for the junctions' tight turns.
    pub fn new(scenario: &Scenario, target_speed: Option<f32>) -> Self {
        let vehicle = &scenario.ego.vehicle;
        let speed = target_speed.unwrap_or(scenario.reward.target_speed);
        let driver = if scenario.network.is_some() {
            KeepLane::through_junctions(speed, vehicle.max_steer, vehicle.length)
        } else {
            KeepLane::new(speed, vehicle.max_steer, vehicle.length)
        };
        Self { driver, controls: scenario.actions.controls(), target_speed }
    }
}

impl Policy for KeepLanePolicy {
    fn name(&self) -> String {
        "keep_lane".into()
    }

    fn adopt(&mut self, scenario: &Scenario) -> Result<(), PolicyError> {
        *self = Self::new(scenario, self.target_speed);
        Ok(())
    }

    fn decide(&mut self, observations: &[&Observation], _: &[bool]) -> Result<Vec<Decision>, PolicyError> {
        Ok(observations
            .iter()
            .map(|o| Decision {
                action: self.driver.act(&o.state.driving, &self.controls),
                ..Default::default()
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lepton_sim::GroundTruth;

    fn obs(lane_offset: f32) -> Observation {
        Observation::of_state(GroundTruth {
            driving: DrivingState { lane_offset, speed: 10.0, gap_own: 60.0, ..Default::default() },
            ..Default::default()
        })
    }

    #[test]
    fn random_policy_is_seeded_per_env_and_covers_every_action() {
        let o = obs(0.0);
        let mut a = RandomPolicy::new(5, 3);
        let mut b = RandomPolicy::new(5, 3);
        let xs: Vec<Vec<usize>> = (0..200).map(|_| a.act(&[&o, &o], &[false; 2]).unwrap()).collect();
        let ys: Vec<Vec<usize>> = (0..200).map(|_| b.act(&[&o, &o], &[false; 2]).unwrap()).collect();
        assert_eq!(xs, ys);
        for action in 0..5 {
            assert!(xs.iter().any(|x| x[0] == action) && xs.iter().any(|x| x[1] == action));
        }
        assert!(xs.iter().flatten().all(|&x| x < 5));
        // Env 0's stream is the same whether it runs alone or beside others.
        let mut alone = RandomPolicy::new(5, 3);
        let solo: Vec<usize> = (0..200).map(|_| alone.act(&[&o], &[false]).unwrap()[0]).collect();
        assert_eq!(solo, xs.iter().map(|x| x[0]).collect::<Vec<_>>());
        assert_ne!(solo, xs.iter().map(|x| x[1]).collect::<Vec<_>>(), "env 1 has a stream of its own");
    }

    #[test]
    fn keep_lane_policy_steers_back_with_the_scenario_actions() {
        let scenario = Scenario::default();
        let mut policy = KeepLanePolicy::new(&scenario, Some(10.0));
        let (right, left) = (obs(1.0), obs(-1.0));
        let actions = policy.act(&[&right, &left], &[false; 2]).unwrap();
        assert!(scenario.actions.set[actions[0]].steer < 0.0);
        assert!(scenario.actions.set[actions[1]].steer > 0.0);
    }
}
