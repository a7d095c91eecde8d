//! Who drives in the viewer: a trained agent ([`crate::trained::TrainedDriver`]), the scripted
//! lane keeper, or with no driver at all the keyboard. Each decision says what the driver saw on
//! the way, typed, for the HUD.

use lepton_perception::DrivingState;
use lepton_perception::preprocess::Image;
use lepton_sim::drivers::KeepLane;
use lepton_sim::env::Observation;
use lepton_sim::scenario::Scenario;
use lepton_sim::vehicle::Control;

/// What a driver decided for one env, and what it saw on the way.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Decision {
    /// Index into the scenario's action set.
    pub action: usize,
    /// The value of each action (Q-learning and DQN), in action-set order.
    pub q_values: Option<Vec<f32>>,
    /// The driving state the driver perceived (ground truth or the CNN's reading).
    pub perceived: Option<DrivingState>,
    /// The camera frame after the driver's preprocessing (the newest of a frame stack), H × W × C.
    pub input: Option<Image>,
}

/// Chooses actions for the viewer's envs. It runs on the viewer's simulation thread.
pub trait Driver: Send {
    /// A short name for the HUD.
    fn name(&self) -> String;
    /// Whether it reads camera frames (the envs then render them, exactly as in training).
    fn needs_frames(&self) -> bool;
    /// Takes on `scenario`, or says why it cannot drive it (another action count, a camera
    /// shape it was not trained on…). Called at start and before a reloaded scenario replaces
    /// the running one; on an error the driver must be left as it was.
    fn adopt(&mut self, scenario: &Scenario) -> Result<(), String>;
    /// One decision per env; `episode_start[i]` says env i just began an episode (frame stacks
    /// restart there).
    fn decide(
        &mut self,
        observations: &[&Observation],
        episode_start: &[bool],
    ) -> Result<Vec<Decision>, String>;
}

/// The scripted lane keeper, choosing the nearest action of the scenario's set.
pub struct KeepLaneDriver {
    driver: KeepLane,
    controls: Vec<Control>,
}

impl KeepLaneDriver {
    /// Cruises at the scenario's reward target speed.
    pub fn new(scenario: &Scenario) -> Self {
        let vehicle = &scenario.ego.vehicle;
        Self {
            driver: KeepLane::new(scenario.reward.target_speed, vehicle.max_steer, vehicle.length),
            controls: controls_of(scenario),
        }
    }
}

/// The scenario's action set as controls.
pub fn controls_of(scenario: &Scenario) -> Vec<Control> {
    scenario.actions.controls()
}

impl Driver for KeepLaneDriver {
    fn name(&self) -> String {
        "keep-lane (scripted)".into()
    }

    fn needs_frames(&self) -> bool {
        false
    }

    fn adopt(&mut self, scenario: &Scenario) -> Result<(), String> {
        *self = Self::new(scenario);
        Ok(())
    }

    fn decide(&mut self, observations: &[&Observation], _: &[bool]) -> Result<Vec<Decision>, String> {
        Ok(observations
            .iter()
            .map(|o| Decision { action: self.driver.act(&o.state, &self.controls), ..Default::default() })
            .collect())
    }
}
