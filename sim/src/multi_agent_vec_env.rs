//! N multi-agent worlds stepped in parallel (rayon), each starting its next episode once every
//! car has ended, optionally with a camera on every car from one batched renderer ([`Cameras`];
//! `lepton_render::camera_multi_agent_vec_env`): car c of world w draws into tile w × cars + c.
//!
//! World w of a vector env with base seed S is exactly a [`MultiAgentEnv`] seeded S + w that is
//! reset with `reset(None)` whenever its episode is over. Rendering only reads the worlds.

use crate::cameras::{Cameras, RenderError};
use crate::env::{Info, Observation};
use crate::multi_agent::{MultiAgentEnv, MultiStep};
use crate::network::Network;
use crate::scenario::Scenario;
use crate::vehicle::Control;
use rayon::prelude::*;
use std::sync::Arc;

/// The results of one step of every world.
#[derive(Debug, Clone)]
pub struct MultiAgentVecStep {
    /// World w's step: each car's result (`None` for a car that had left).
    pub worlds: Vec<MultiStep>,
    /// For a world whose episode was over after the step: every car's first observation and
    /// info of the next episode (the world has reset); `None` otherwise.
    pub resets: Vec<Option<Vec<(Observation, Info)>>>,
}

/// Several multi-agent worlds of one scenario.
pub struct MultiAgentVecEnv {
    worlds: Vec<MultiAgentEnv>,
    cameras: Option<Box<dyn Cameras>>,
    cars: usize,
    /// Whether a world whose episode is over resets within the step (else the caller resets).
    autoreset: bool,
}

impl MultiAgentVecEnv {
    /// `n` worlds of `scenario`, world w seeded `base_seed + w`.
    pub fn new(scenario: Arc<Scenario>, n: usize, base_seed: u64) -> Self {
        let worlds: Vec<MultiAgentEnv> = (0..n as u64)
            .into_par_iter()
            .map(|w| MultiAgentEnv::new(scenario.clone(), base_seed.wrapping_add(w)))
            .collect();
        Self { worlds, cameras: None, cars: scenario.agent_count(), autoreset: true }
    }

    /// `n` worlds whose cars' observations carry camera frames (and the depth and semantic
    /// images the cameras draw), from the cameras `make` builds for `tiles` = n × cars.
    pub fn with_cameras<C: Cameras + 'static>(
        scenario: Arc<Scenario>,
        n: usize,
        base_seed: u64,
        make: impl FnOnce(Arc<Scenario>, &Network, usize) -> Result<C, RenderError>,
    ) -> Result<Self, RenderError> {
        let mut envs = Self::new(scenario.clone(), n, base_seed);
        let network = Network::new(&scenario).expect("a validated scenario's network can be laid");
        envs.cameras = Some(Box::new(make(scenario, &network, n * envs.cars)?));
        Ok(envs)
    }

    /// With `false`, a world whose episode is over stays over until [`MultiAgentVecEnv::reset`]
    /// (PettingZoo's way); by default it resets within the step.
    pub fn set_autoreset(&mut self, autoreset: bool) {
        self.autoreset = autoreset;
    }

    /// How many worlds.
    pub fn num_worlds(&self) -> usize {
        self.worlds.len()
    }

    /// How many learning cars each world holds.
    pub fn num_agents(&self) -> usize {
        self.cars
    }

    pub fn worlds(&self) -> &[MultiAgentEnv] {
        &self.worlds
    }

    /// The cameras, when the worlds have them.
    pub fn cameras(&self) -> Option<&dyn Cameras> {
        self.cameras.as_deref()
    }

    /// Starts a new episode in every world; `Some(seed)` restarts world w's seed stream at
    /// seed + w. Every car's first observation and info, world by world.
    pub fn reset(&mut self, base_seed: Option<u64>) -> Result<Vec<Vec<(Observation, Info)>>, RenderError> {
        let mut first: Vec<Vec<(Observation, Info)>> = self
            .worlds
            .par_iter_mut()
            .enumerate()
            .map(|(w, world)| world.reset(base_seed.map(|s| s.wrapping_add(w as u64))))
            .collect();
        if self.cameras.is_some() {
            let all: Vec<(usize, usize)> =
                (0..self.worlds.len()).flat_map(|w| (0..self.cars).map(move |c| (w, c))).collect();
            self.draw(&all)?;
            for (w, looks) in first.iter_mut().enumerate() {
                for (c, (obs, _)) in looks.iter_mut().enumerate() {
                    self.attach(w, c, obs);
                }
            }
        }
        Ok(first)
    }

    /// Steps every world with discrete `actions`, car c of world w taking `actions[w × cars + c]`
    /// (the entries of cars that left are ignored); worlds whose episode is over reset.
    ///
    /// # Panics
    /// If `actions` is not worlds × cars long, or an action of a driving car is out of range.
    pub fn step(&mut self, actions: &[usize]) -> Result<MultiAgentVecStep, RenderError> {
        assert_eq!(actions.len(), self.worlds.len() * self.cars, "one action per car of every world");
        let controls: Vec<Control> = self
            .worlds
            .iter()
            .enumerate()
            .flat_map(|(w, world)| {
                let actions = &actions[w * self.cars..(w + 1) * self.cars];
                let live = world.live_agents();
                actions.iter().enumerate().map(move |(c, &a)| {
                    if !live.contains(&c) {
                        return Control::default();
                    }
                    assert!(a < world.num_actions(), "action {a} out of range 0..{}", world.num_actions());
                    world.controls()[a]
                })
            })
            .collect();
        self.step_controls(&controls)
    }

    /// Steps every world with one control per car (world-major); worlds whose episode is over
    /// reset. With cameras, each car's result carries the frame of the world after the step
    /// (a car that ended: its last frame); a respawned car's and a reset world's first
    /// observations carry their own.
    pub fn step_controls(&mut self, controls: &[Control]) -> Result<MultiAgentVecStep, RenderError> {
        let cars = self.cars;
        assert_eq!(controls.len(), self.worlds.len() * cars, "one control per car of every world");
        let mut worlds: Vec<MultiStep> = self
            .worlds
            .par_iter_mut()
            .zip(controls.par_chunks(cars))
            .map(|(world, controls)| world.step_deferring_respawns(controls))
            .collect();
        if self.cameras.is_some() {
            let stepped: Vec<(usize, usize)> = stepped_cars(&worlds);
            self.draw(&stepped)?;
            for (w, c) in stepped {
                let result = worlds[w].agents[c].as_mut().expect("a stepped car has a result");
                self.attach(w, c, &mut result.obs);
            }
        }
        // Cars that start again, and worlds whose episode is over, begin anew.
        let mut resets = vec![None; self.worlds.len()];
        let mut fresh: Vec<(usize, usize)> = Vec::new();
        for (w, (world, step)) in self.worlds.iter_mut().zip(worlds.iter_mut()).enumerate() {
            world.respawn_pending(step);
            fresh.extend(
                step.agents
                    .iter()
                    .enumerate()
                    .filter(|(_, a)| a.as_ref().is_some_and(|a| a.respawn.is_some()))
                    .map(|(c, _)| (w, c)),
            );
            if step.episode_over && self.autoreset {
                resets[w] = Some(world.reset(None));
                fresh.extend((0..cars).map(|c| (w, c)));
            }
        }
        if self.cameras.is_some() && !fresh.is_empty() {
            self.draw(&fresh)?;
            for (w, c) in fresh {
                if let Some(looks) = resets[w].as_mut() {
                    self.attach(w, c, &mut looks[c].0);
                } else if let Some((obs, _)) = worlds[w].agents[c].as_mut().and_then(|a| a.respawn.as_mut()) {
                    self.attach(w, c, obs);
                }
            }
        }
        Ok(MultiAgentVecStep { worlds, resets })
    }

    /// Draws the tiles of cars `(world, car)` as the worlds stand now.
    fn draw(&mut self, cars: &[(usize, usize)]) -> Result<(), RenderError> {
        let Some(cameras) = self.cameras.as_mut() else { return Ok(()) };
        for &(w, c) in cars {
            let world = &self.worlds[w];
            cameras.sync_car(w * self.cars + c, world.world(), c, world.episode_seed());
        }
        cameras.render()
    }

    /// Puts car c of world w's images from the last draw on `obs`.
    fn attach(&self, w: usize, c: usize, obs: &mut Observation) {
        let Some(cameras) = self.cameras.as_deref() else { return };
        let tile = w * self.cars + c;
        obs.frame = Some(cameras.frame(tile));
        obs.depth = cameras.depth(tile);
        obs.semantic = cameras.semantic(tile);
    }
}

/// Every (world, car) with a result in `worlds`.
fn stepped_cars(worlds: &[MultiStep]) -> Vec<(usize, usize)> {
    worlds
        .iter()
        .enumerate()
        .flat_map(|(w, step)| {
            step.agents.iter().enumerate().filter(|(_, a)| a.is_some()).map(move |(c, _)| (w, c))
        })
        .collect()
}
