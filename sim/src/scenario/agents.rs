//! The learning cars of a scenario: its `agents`, or the ego alone, each resolved against the
//! ego's defaults.

use super::schema::{Camera, Reward, Route, Scenario, Spawn};

/// A learning car as the world starts it: its fields resolved against the ego's.
#[derive(Debug, Clone, Copy)]
pub struct AgentStart<'a> {
    pub route: Option<&'a Route>,
    pub spawn: &'a Spawn,
    pub start_speed: f32,
    pub reward: &'a Reward,
}

impl Scenario {
    /// The learning cars of the world, each resolved against the ego's defaults: the `agents`
    /// when the file declares some, else the ego alone.
    pub fn agent_starts(&self) -> Vec<AgentStart<'_>> {
        if self.agents.is_empty() {
            return vec![AgentStart {
                route: self.ego.route.as_ref(),
                spawn: &self.ego.spawn,
                start_speed: self.ego.start_speed,
                reward: &self.reward,
            }];
        }
        self.agents
            .iter()
            .map(|a| AgentStart {
                route: a.route.as_ref().or(self.ego.route.as_ref()),
                spawn: &a.spawn,
                start_speed: a.start_speed.unwrap_or(self.ego.start_speed),
                reward: a.reward.as_ref().unwrap_or(&self.reward),
            })
            .collect()
    }

    /// How many learning cars the world holds (1 without `agents`).
    pub fn agent_count(&self) -> usize {
        self.agents.len().max(1)
    }

    /// Learning car `car`'s camera: `camera`, placed and aimed as its `agents[car].camera` says.
    pub fn camera_of(&self, car: usize) -> Camera {
        match self.agents.get(car).and_then(|a| a.camera.as_ref()) {
            Some(view) => {
                Camera { fov: view.fov, mount: view.mount.clone(), pitch: view.pitch, ..self.camera.clone() }
            }
            None => self.camera.clone(),
        }
    }
}
