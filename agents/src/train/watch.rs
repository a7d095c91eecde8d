//! A trained run as the viewer's driver: greedy actions, with the Q-values, the perceived state
//! and the frame as the network receives it laid open for the HUD.

use super::agent::Agent;
use super::config::RunConfig;
use super::observe::{Encoded, Observer, Stack};
use lepton_perception::DrivingState;
use lepton_sim::Observation;
use lepton_sim::scenario::{Camera, Scenario};
use lepton_sim::viewer::{Decision, Driver, InputImage};

pub struct TrainedDriver {
    name: String,
    config: RunConfig,
    agent: Agent,
    observer: Observer,
    /// Frames per network input (1 unless the agent reads stacked pixels).
    stack: usize,
    stacks: Vec<Stack>,
    actions: usize,
    /// The camera the run was trained with: a reloaded scenario must keep its shape.
    camera: Camera,
}

impl TrainedDriver {
    /// `agent` loaded from a checkpoint of a run trained on `trained_on`; `name` labels it in the
    /// HUD.
    pub fn new(
        name: String,
        config: RunConfig,
        agent: Agent,
        observer: Observer,
        stack: usize,
        trained_on: &Scenario,
    ) -> Self {
        Self {
            name,
            config,
            agent,
            observer,
            stack,
            stacks: Vec::new(),
            actions: trained_on.actions.set.len(),
            camera: trained_on.camera.clone(),
        }
    }
}

impl Driver for TrainedDriver {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn needs_frames(&self) -> bool {
        self.observer.needs_frames()
    }

    fn adopt(&mut self, scenario: &Scenario) -> Result<(), String> {
        if scenario.actions.set.len() != self.actions {
            return Err(format!(
                "the agent was trained with {} actions; scenario \"{}\" has {} (actions.set)",
                self.actions,
                scenario.name,
                scenario.actions.set.len()
            ));
        }
        let (a, b) = (&self.camera, &scenario.camera);
        if self.needs_frames() && (a.width, a.height, a.format) != (b.width, b.height, b.format) {
            return Err(format!(
                "the agent reads {}x{} {:?} frames; scenario \"{}\" renders {}x{} {:?} (camera)",
                a.width, a.height, a.format, scenario.name, b.width, b.height, b.format
            ));
        }
        Ok(())
    }

    fn decide(
        &mut self,
        observations: &[&Observation],
        episode_start: &[bool],
    ) -> Result<Vec<Decision>, String> {
        let n = observations.len();
        self.stacks.resize(n, Stack::default());
        let encoded = self.observer.encode(observations).map_err(|e| e.to_string())?;
        for ((stack, e), &start) in self.stacks.iter_mut().zip(&encoded).zip(episode_start) {
            if let Encoded::Frame(frame) = e {
                stack.push(frame, self.stack, start);
            }
        }
        let inputs = self.agent.inputs(&self.config, &encoded, &self.stacks);
        let q_values = self.agent.q_values(&inputs);
        Ok(q_values
            .into_iter()
            .zip(&encoded)
            .zip(observations)
            .map(|((q, e), o)| {
                // Ties go to the lowest index, as in the agent's own greedy choice.
                let action = (0..q.len()).fold(0, |best, j| if q[j] > q[best] { j } else { best });
                let perceived = match e {
                    Encoded::State(state, _) => {
                        Some(DrivingState::NAMES.iter().map(|n| n.to_string()).zip(state.to_vec()).collect())
                    }
                    Encoded::Frame(_) => None,
                };
                let input = self.observer.input_image(o).map(|image| InputImage {
                    width: image.width,
                    height: image.height,
                    channels: image.channels,
                    data: image.data,
                });
                Decision { action, q_values: Some(q), perceived, input }
            })
            .collect())
    }
}
