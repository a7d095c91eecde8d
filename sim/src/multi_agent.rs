//! Several learning cars in one world: PettingZoo's parallel API in Rust. Every car acts each
//! step; the world steps them together; each gets its own observation, reward, end and info.
//!
//! A car whose episode ends leaves the world (`episode.agent_end: Leave`, the default) while
//! the others drive on, and the world's episode is over once every car has ended; or it starts
//! again at its spawn (`Respawn`), and the world's episode runs to `episode.max_steps`.
//!
//! Seeds as in [`crate::Env`]: `reset(Some(seed))` restarts the seed stream, each episode draws
//! its seed from it, and everything random in the episode (spawn jitter of every car, traffic,
//! respawns) comes from that seed. Same seed and actions, the same steps, bit for bit.
//!
//! ```
//! use lepton_sim::{MultiAgentEnv, scenario};
//! use std::sync::Arc;
//!
//! let scenario = Arc::new(scenario::load_named("platoon")?);
//! let mut env = MultiAgentEnv::new(scenario, 7);
//! let first = env.reset(Some(7));
//! assert_eq!(first.len(), env.num_agents());
//! while !env.episode_over() {
//!     // Every car takes action 1 (straight on at 40% throttle); cars that left are ignored.
//!     let step = env.step(&vec![1; env.num_agents()]);
//!     for (car, result) in step.agents.iter().enumerate() {
//!         if let Some(result) = result.as_ref().filter(|r| r.terminated || r.truncated) {
//!             println!("car {car}: {:?}", result.info.end);
//!         }
//!     }
//! }
//! # Ok::<(), lepton_sim::scenario::ScenarioError>(())
//! ```

use crate::car_episode::CarEpisode;
use crate::env::{Info, Observation};
use crate::episode::{EndReason, RewardTerms};
use crate::ground_truth::GroundTruth;
use crate::lidar::LidarBeams;
use crate::network::Network;
use crate::scenario::{AgentEnd, Reward, Scenario};
use crate::vehicle::Control;
use crate::world::{Contacts, World};
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::sync::Arc;

/// One car's result of a step.
#[derive(Debug, Clone)]
pub struct AgentStep {
    pub obs: Observation,
    pub reward: f32,
    pub terminated: bool,
    pub truncated: bool,
    pub info: Info,
    /// With `agent_end: Respawn`, on the step a car's episode ended: the first observation and
    /// info of its new episode (it is back at its spawn and acts again next step).
    pub respawn: Option<(Observation, Info)>,
}

/// The result of one step of every car.
#[derive(Debug, Clone)]
pub struct MultiStep {
    /// Car i's result; `None` for a car that had already left the world.
    pub agents: Vec<Option<AgentStep>>,
    /// Whether the world's episode is over: every car has ended, or `max_steps` have passed.
    pub episode_over: bool,
}

/// A world of several learning cars (a one-car scenario gives a one-agent env).
pub struct MultiAgentEnv {
    scenario: Arc<Scenario>,
    network: Arc<Network>,
    controls: Vec<Control>,
    world: World,
    seeder: ChaCha8Rng,
    episode_seed: u64,
    /// Respawn jitter, drawn from the episode's seed.
    respawns: ChaCha8Rng,
    /// Each car's episode.
    cars: Vec<CarEpisode>,
    /// Each car's reward weights.
    rewards: Vec<Reward>,
    /// Whether each car is still driving (with `Leave`, a car whose episode ended is not).
    alive: Vec<bool>,
    /// Policy steps of the world's episode.
    step: u32,
    /// Cars whose episode the last step ended, due to start again.
    pending: Vec<usize>,
    lidar: Option<Arc<LidarBeams>>,
}

/// Mixed into the episode seed for the respawn stream, so respawns never repeat the spawn draws.
const RESPAWN_STREAM: u64 = 0x7265_7370_6177_6e21;

impl MultiAgentEnv {
    /// An environment for `scenario` whose seed stream starts at `seed`; ready to step
    /// (as if `reset(Some(seed))` had been called).
    pub fn new(scenario: Arc<Scenario>, seed: u64) -> Self {
        let network = Arc::new(Network::new(&scenario).expect("a validated scenario's network can be laid"));
        let mut seeder = ChaCha8Rng::seed_from_u64(seed);
        let episode_seed = seeder.next_u64();
        let world = World::new(&scenario, network.clone(), &mut ChaCha8Rng::seed_from_u64(episode_seed));
        let mut env = Self {
            controls: scenario.actions.controls(),
            rewards: scenario.agent_starts().iter().map(|a| a.reward.clone()).collect(),
            lidar: scenario.lidar.as_ref().map(|spec| Arc::new(LidarBeams::new(spec))),
            scenario,
            network,
            world,
            seeder,
            episode_seed,
            respawns: ChaCha8Rng::seed_from_u64(0),
            cars: Vec::new(),
            alive: Vec::new(),
            step: 0,
            pending: Vec::new(),
        };
        env.start_episode(episode_seed);
        env
    }

    /// Starts a new episode of every car; `Some(seed)` restarts the seed stream first. Returns
    /// each car's first observation and info.
    pub fn reset(&mut self, seed: Option<u64>) -> Vec<(Observation, Info)> {
        if let Some(seed) = seed {
            self.seeder = ChaCha8Rng::seed_from_u64(seed);
        }
        let episode_seed = self.seeder.next_u64();
        self.world =
            World::new(&self.scenario, self.network.clone(), &mut ChaCha8Rng::seed_from_u64(episode_seed));
        self.start_episode(episode_seed)
    }

    fn start_episode(&mut self, episode_seed: u64) -> Vec<(Observation, Info)> {
        self.episode_seed = episode_seed;
        self.respawns = ChaCha8Rng::seed_from_u64(episode_seed ^ RESPAWN_STREAM);
        self.step = 0;
        self.pending.clear();
        let n = self.world.car_count();
        self.cars = (0..n).map(|i| CarEpisode::start(&self.world, i, episode_seed)).collect();
        self.alive = vec![true; n];
        (0..n).map(|i| self.first_look(i)).collect()
    }

    /// Car `i`'s observation and info at the start of its episode.
    fn first_look(&self, i: usize) -> (Observation, Info) {
        let state = GroundTruth::measure_of(&self.world, i);
        let car = self.world.car_state(i);
        let info = self.cars[i].info(&self.world, i, state, &car, None, RewardTerms::default());
        (self.observe(i, state), info)
    }

    /// Takes discrete action `actions[i]` for car i (entries of cars that left are ignored).
    ///
    /// # Panics
    /// If `actions` does not hold one action per car, or an action of a driving car is not below
    /// [`MultiAgentEnv::num_actions`]: that is a bug in the caller.
    pub fn step(&mut self, actions: &[usize]) -> MultiStep {
        assert_eq!(actions.len(), self.num_agents(), "one action per car");
        let controls: Vec<Control> = actions
            .iter()
            .zip(&self.alive)
            .map(|(&a, &alive)| {
                if !alive {
                    return Control::default();
                }
                assert!(a < self.controls.len(), "action {a} out of range 0..{}", self.controls.len());
                self.controls[a]
            })
            .collect();
        self.step_controls(&controls)
    }

    /// Takes continuous action `[steer, throttle]` for each car, clipped into the scenario's
    /// `actions.continuous` ranges (the full ranges when it declares none).
    pub fn step_continuous(&mut self, actions: &[[f32; 2]]) -> MultiStep {
        let ranges = self.scenario.actions.continuous.unwrap_or_default();
        let controls: Vec<Control> = actions.iter().map(|&a| ranges.control(a)).collect();
        self.step_controls(&controls)
    }

    /// Applies control `controls[i]` to car i for one policy step (`actions.repeat` physics
    /// steps); a car whose episode ends during them stops there while the others go on.
    ///
    /// # Panics
    /// If `controls` does not hold one control per car.
    pub fn step_controls(&mut self, controls: &[Control]) -> MultiStep {
        let mut step = self.step_deferring_respawns(controls);
        self.respawn_pending(&mut step);
        step
    }

    /// [`MultiAgentEnv::step_controls`] short of the respawns: a car due to start again is out of
    /// the world until [`MultiAgentEnv::respawn_pending`] (cameras draw its last frame between).
    pub(crate) fn step_deferring_respawns(&mut self, controls: &[Control]) -> MultiStep {
        let n = self.num_agents();
        assert_eq!(controls.len(), n, "one control per car");
        if self.episode_over() {
            return MultiStep { agents: vec![None; n], episode_over: true };
        }
        let clamp = |v: f32| if v.is_finite() { v.clamp(-1.0, 1.0) } else { 0.0 };
        let mut driving: Vec<Control> = controls
            .iter()
            .zip(&self.alive)
            .map(|(c, &alive)| {
                if alive {
                    Control { steer: clamp(c.steer), throttle: clamp(c.throttle) }
                } else {
                    Control::default()
                }
            })
            .collect();
        let events_before = self.world.events_happened();
        let mut tallies: Vec<_> =
            (0..n).map(|i| self.alive[i].then(|| self.cars[i].begin_step(&self.world, i))).collect();
        let mut touched = vec![Contacts::default(); n];
        for _ in 0..self.scenario.actions.repeat {
            if !tallies.iter().flatten().any(|t| t.end.is_none()) {
                break;
            }
            self.world.step_cars(&driving, &mut touched);
            for i in 0..n {
                let Some(tally) = tallies[i].as_mut().filter(|t| t.end.is_none()) else { continue };
                self.cars[i].after_physics(tally, &self.world, i, &self.scenario, touched[i]);
                if tally.end.is_some() {
                    // It stops here: out of the others' way for the rest of the step.
                    driving[i] = Control::default();
                    self.world.remove_car(i);
                }
            }
        }
        self.step += 1;
        let out_of_time = self.step >= self.scenario.episode.max_steps;
        let happened = self.world.events_happened() & !events_before;
        let mut agents = Vec::with_capacity(n);
        for (i, tally) in tallies.iter().enumerate() {
            let Some(tally) = tally else {
                agents.push(None);
                continue;
            };
            let (state, terms, mut end) =
                self.cars[i].end_step(tally, &self.world, i, &self.scenario, &self.rewards[i]);
            if end.is_none() && out_of_time {
                end = Some(EndReason::TimeLimit);
            }
            let mut info = self.cars[i].info(&self.world, i, state, &tally.state, end, terms);
            info.events = happened;
            let result = AgentStep {
                obs: self.observe(i, state),
                reward: terms.total(),
                terminated: end.is_some_and(EndReason::is_terminal),
                truncated: end.is_some_and(|r| !r.is_terminal()),
                info,
                respawn: None,
            };
            if end.is_some() {
                if self.world.car_present(i) {
                    self.world.remove_car(i);
                }
                if self.scenario.episode.agent_end == AgentEnd::Respawn && !out_of_time {
                    self.pending.push(i);
                } else {
                    self.alive[i] = false;
                }
            }
            agents.push(Some(result));
        }
        MultiStep { agents, episode_over: self.episode_over() }
    }

    /// Starts again every car whose episode the last step ended (`agent_end: Respawn`), in car
    /// order, and gives each its new episode's first look in `step`.
    pub(crate) fn respawn_pending(&mut self, step: &mut MultiStep) {
        for i in std::mem::take(&mut self.pending) {
            self.world.respawn_car(i, &mut self.respawns);
            self.cars[i] = CarEpisode::start(&self.world, i, self.episode_seed);
            if let Some(Some(result)) = step.agents.get_mut(i) {
                result.respawn = Some(self.first_look(i));
            }
        }
    }

    /// Car `i`'s observation of the world as it stands: `state`, and its lidar's scan when the
    /// scenario mounts one.
    fn observe(&self, i: usize, state: GroundTruth) -> Observation {
        let lidar = self.lidar.as_deref().map(|beams| {
            let mut ranges = vec![0.0; beams.len()];
            let seed = crate::lidar::noise_seed(self.episode_seed ^ i as u64, self.step);
            crate::lidar::scan_from(&self.world, i, beams, seed, &mut ranges);
            ranges
        });
        let vehicles =
            self.scenario.vehicles.as_ref().map(|spec| crate::vehicle_list::measure(&self.world, i, spec));
        Observation { lidar, vehicles, ..Observation::of_state(state) }
    }

    /// Whether the world's episode is over: every car has ended, or `max_steps` have passed.
    pub fn episode_over(&self) -> bool {
        !self.alive.iter().any(|&a| a) || self.step >= self.scenario.episode.max_steps
    }

    /// How many learning cars the scenario declares (its `agents`, or 1).
    pub fn num_agents(&self) -> usize {
        self.world.car_count()
    }

    /// The cars still driving in this episode.
    pub fn live_agents(&self) -> Vec<usize> {
        (0..self.num_agents()).filter(|&i| self.alive[i]).collect()
    }

    /// Size of the discrete action set (every car's).
    pub fn num_actions(&self) -> usize {
        self.controls.len()
    }

    /// The control each discrete action applies.
    pub fn controls(&self) -> &[Control] {
        &self.controls
    }

    /// The seed of the current episode.
    pub fn episode_seed(&self) -> u64 {
        self.episode_seed
    }

    /// Policy steps of the world's episode so far.
    pub fn episode_step(&self) -> u32 {
        self.step
    }

    pub fn scenario(&self) -> &Scenario {
        &self.scenario
    }

    pub fn world(&self) -> &World {
        &self.world
    }

    /// The scenario's lidar, its beams laid out (`None` when it mounts none).
    pub fn lidar(&self) -> Option<&LidarBeams> {
        self.lidar.as_deref()
    }
}
