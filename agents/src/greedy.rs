//! A trained agent as a [`Policy`]: it perceives as in training (its own frame stacks) and acts
//! greedily, with the Q-values, the perceived state and the frame as the network receives it
//! laid open (the viewer's HUD shows them).

use crate::agent::{Agent, argmax};
use crate::policy::{Decision, Policy, PolicyError};
use lepton_perception::{Percept, Perception};
use lepton_sim::Observation;
use lepton_sim::scenario::{Camera, Scenario};

pub struct GreedyPolicy {
    name: String,
    agent: Box<dyn Agent>,
    /// Keeps each shown env's frame stack, as in training.
    perception: Perception,
    actions: usize,
    /// The camera the run was trained with: a reloaded scenario must keep its shape.
    camera: Camera,
}

impl GreedyPolicy {
    /// `agent` (e.g. loaded from a checkpoint of a run) trained on `trained_on`; `name` labels it.
    pub fn new(name: String, agent: Box<dyn Agent>, perception: Perception, trained_on: &Scenario) -> Self {
        Self {
            name,
            agent,
            perception,
            actions: trained_on.actions.set.len(),
            camera: trained_on.camera.clone(),
        }
    }
}

impl GreedyPolicy {
    /// The agent back (the trainer lends it for an evaluation).
    pub fn into_agent(self) -> Box<dyn Agent> {
        self.agent
    }
}

impl Policy for GreedyPolicy {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn needs_frames(&self) -> bool {
        self.perception.needs_frames()
    }

    fn needs_depth(&self) -> bool {
        self.perception.needs_depth()
    }

    fn adopt(&mut self, scenario: &Scenario) -> Result<(), PolicyError> {
        if scenario.actions.set.len() != self.actions {
            return Err(PolicyError::ActionCount {
                trained: self.actions,
                scenario: scenario.name.clone(),
                has: scenario.actions.set.len(),
            });
        }
        let (a, b) = (&self.camera, &scenario.camera);
        if self.needs_frames() && (a.width, a.height, a.format) != (b.width, b.height, b.format) {
            let shape = |c: &Camera| format!("{}x{} {:?}", c.width, c.height, c.format);
            return Err(PolicyError::Camera {
                trained: shape(a),
                scenario: scenario.name.clone(),
                has: shape(b),
            });
        }
        Ok(())
    }

    /// The greedy actions alone, without laying the decision open.
    fn act(
        &mut self,
        observations: &[&Observation],
        episode_start: &[bool],
    ) -> Result<Vec<usize>, PolicyError> {
        let percepts = self.perception.perceive(observations, episode_start)?;
        Ok(self.agent.greedy(&percepts))
    }

    fn decide(
        &mut self,
        observations: &[&Observation],
        episode_start: &[bool],
    ) -> Result<Vec<Decision>, PolicyError> {
        let percepts = self.perception.perceive(observations, episode_start)?;
        // Ties go to the lowest index, as in the agent's own greedy choice.
        let q_values = self.agent.q_values(&percepts);
        Ok(q_values
            .into_iter()
            .zip(&percepts)
            .zip(observations)
            .map(|((q, p), o)| {
                let action = argmax(&q);
                let perceived = match p {
                    Percept::State(state) => Some(*state),
                    Percept::Vehicles(rows) => Some(rows.ego),
                    Percept::Frames(_) => None,
                };
                let input = o.frame.as_ref().and_then(|f| self.perception.input_image(f));
                Decision { action, q_values: Some(q), perceived, input }
            })
            .collect())
    }
}
