//! The environment API, Gymnasium's conventions in Rust: `reset(seed) -> (obs, info)` and
//! `step(action) -> Step { obs, reward, terminated, truncated, info }`.
//!
//! Time: one policy step applies the chosen action for `actions.repeat` physics steps of
//! `episode.dt` seconds each. `terminated` is a real end (collision, off-road, success); `truncated`
//! a cut-off (time limit, stuck, flipped, non-finite physics).
//!
//! Seeds: `reset(Some(seed))` restarts the env's seed stream; each episode draws its own episode
//! seed from that stream, and everything random in the episode (spawn jitter, traffic, the look)
//! comes from the episode seed. `reset(None)` continues the stream.

use crate::car_episode::CarEpisode;
pub use crate::episode::Info;
use crate::episode::{EndReason, RewardTerms};
use crate::ground_truth::GroundTruth;
use crate::lidar::{LidarBeams, LidarScan};
use crate::network::Network;
use crate::road::RoadGeometry;
use crate::scenario::Scenario;
use crate::vehicle::Control;
use crate::world::World;
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use std::sync::Arc;

/// A camera frame: `height × width × channels` bytes, row-major (channels 3 = RGB, 1 = grey).
#[derive(Clone, PartialEq, Eq)]
pub struct Frame {
    pub width: u32,
    pub height: u32,
    pub channels: u8,
    pub data: Vec<u8>,
}

impl std::fmt::Debug for Frame {
    /// A summary, not thousands of bytes: size, channels, and a checksum of the pixels.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let checksum = self
            .data
            .iter()
            .fold(0xcbf2_9ce4_8422_2325u64, |h, &b| (h ^ b as u64).wrapping_mul(0x100_0000_01b3));
        write!(f, "Frame({}×{}×{}, fnv {checksum:016x})", self.width, self.height, self.channels)
    }
}

/// What the agent observes: the ground-truth state, the camera frame when a renderer is attached,
/// and the lidar's range image when the scenario mounts one.
#[derive(Debug, Clone, PartialEq)]
pub struct Observation {
    pub state: GroundTruth,
    pub frame: Option<Frame>,
    /// `channels × rays` ranges in metres, row-major (see [`crate::lidar`]).
    pub lidar: Option<Vec<f32>>,
    /// The depth camera's image, when the cameras draw one: height × width metres along the
    /// camera's forward axis, rows top to bottom.
    pub depth: Option<Vec<f32>>,
    /// The semantic camera's image, when the cameras draw one: height × width classes.
    pub semantic: Option<Vec<u8>>,
    /// The object list (`scenario.vehicles`): `count` rows of [`crate::vehicle_list::FEATURES`].
    pub vehicles: Option<Vec<f32>>,
}

impl Observation {
    /// The ground-truth state alone: no frame, no lidar.
    pub fn of_state(state: GroundTruth) -> Self {
        Self { state, frame: None, lidar: None, depth: None, semantic: None, vehicles: None }
    }
}

/// The result of one policy step.
#[derive(Debug, Clone)]
pub struct Step {
    pub obs: Observation,
    pub reward: f32,
    pub terminated: bool,
    pub truncated: bool,
    pub info: Info,
}

/// One driving environment. On a multi-agent scenario it drives car 0 (the others coast): the
/// whole world is [`crate::MultiAgentEnv`]'s.
pub struct Env {
    scenario: Arc<Scenario>,
    network: Arc<Network>,
    controls: Vec<Control>,
    world: World,
    seeder: ChaCha8Rng,
    episode: CarEpisode,
    /// The controls applied so far this episode (after clamping): with the episode seed they
    /// rebuild the episode exactly (see [`EnvSnapshot`]).
    applied: Vec<[f32; 2]>,
    /// The scenario's lidar, when it mounts one.
    lidar: Option<Arc<LidarBeams>>,
}

/// Why a snapshot cannot be restored: it is not of this scenario, or not of these envs.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RestoreError {
    #[error(
        "the episode ends after {after} of its {recorded} recorded steps ({end:?}): the snapshot is \
         not of this scenario"
    )]
    EndsEarly { after: usize, recorded: usize, end: Option<EndReason> },
    #[error("the snapshot holds {got} envs, not {want}")]
    EnvCount { got: usize, want: usize },
    #[error("env {env}: {error}")]
    Env { env: usize, error: Box<RestoreError> },
}

/// Everything an [`Env`] needs to continue exactly where it was: its seed stream, the seed of
/// the episode under way and the controls applied in it so far.
///
/// The world is rebuilt by replaying the episode rather than by serialising rapier's state: the
/// simulation is deterministic, so the replay lands bit for bit where the episode stood; the
/// snapshot is a few bytes per step; and it does not depend on rapier's internal layout, which
/// changes between rapier versions.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct EnvSnapshot {
    pub seeder: ChaCha8Rng,
    pub episode_seed: u64,
    /// (steer, throttle) per policy step of the episode so far.
    pub controls: Vec<[f32; 2]>,
}

impl Env {
    /// An environment for `scenario` whose seed stream starts at `seed`; ready to step
    /// (as if `reset(Some(seed))` had been called).
    pub fn new(scenario: Arc<Scenario>, seed: u64) -> Self {
        let network = Arc::new(Network::new(&scenario).expect("a validated scenario's network can be laid"));
        let controls = scenario.actions.controls();
        let lidar = scenario.lidar.as_ref().map(|spec| Arc::new(LidarBeams::new(spec)));
        let mut seeder = ChaCha8Rng::seed_from_u64(seed);
        let episode_seed = seeder.next_u64();
        let world = World::new(&scenario, network.clone(), &mut ChaCha8Rng::seed_from_u64(episode_seed));
        let mut env = Self {
            scenario,
            network,
            controls,
            world,
            seeder,
            episode: CarEpisode::default(),
            applied: Vec::new(),
            lidar,
        };
        env.start_episode(episode_seed);
        env
    }

    /// What [`Env::restore`] needs to bring this env back exactly as it is now.
    pub fn snapshot(&self) -> EnvSnapshot {
        EnvSnapshot {
            seeder: self.seeder.clone(),
            episode_seed: self.episode.seed,
            controls: self.applied.clone(),
        }
    }

    /// An env of `scenario` exactly as it was when `snapshot` was taken: the episode is rebuilt
    /// from its seed and its controls are replayed. An episode that could not have lasted that
    /// long (the snapshot is not from this scenario) is an error.
    pub fn restore(scenario: Arc<Scenario>, snapshot: &EnvSnapshot) -> Result<Self, RestoreError> {
        let mut env = Self::new(scenario, 0);
        env.seeder = snapshot.seeder.clone();
        env.world = World::new(
            &env.scenario,
            env.network.clone(),
            &mut ChaCha8Rng::seed_from_u64(snapshot.episode_seed),
        );
        env.start_episode(snapshot.episode_seed);
        for (k, &[steer, throttle]) in snapshot.controls.iter().enumerate() {
            let step = env.step_control(Control { steer, throttle });
            if step.terminated || step.truncated {
                return Err(RestoreError::EndsEarly {
                    after: k + 1,
                    recorded: snapshot.controls.len(),
                    end: step.info.end,
                });
            }
        }
        Ok(env)
    }

    /// Starts a new episode; `Some(seed)` restarts the seed stream first.
    pub fn reset(&mut self, seed: Option<u64>) -> (Observation, Info) {
        if let Some(seed) = seed {
            self.seeder = ChaCha8Rng::seed_from_u64(seed);
        }
        let episode_seed = self.seeder.next_u64();
        self.world =
            World::new(&self.scenario, self.network.clone(), &mut ChaCha8Rng::seed_from_u64(episode_seed));
        self.start_episode(episode_seed)
    }

    fn start_episode(&mut self, episode_seed: u64) -> (Observation, Info) {
        self.applied.clear();
        let ego = self.world.ego_state();
        self.episode = CarEpisode::start(&self.world, 0, episode_seed);
        let state = GroundTruth::measure(&self.world);
        (self.observe(state), self.episode.info(&self.world, 0, state, &ego, None, RewardTerms::default()))
    }

    /// Takes discrete action `action` (an index into the scenario's action set).
    ///
    /// # Panics
    /// If `action` is not below [`Env::num_actions`]: that is a bug in the caller.
    pub fn step(&mut self, action: usize) -> Step {
        assert!(action < self.controls.len(), "action {action} out of range 0..{}", self.controls.len());
        self.step_control(self.controls[action])
    }

    /// Takes continuous action `[steer, throttle]` for one policy step, each clipped into the
    /// scenario's `actions.continuous` ranges (the full ranges when it declares none).
    pub fn step_continuous(&mut self, action: [f32; 2]) -> Step {
        let control = self.scenario.actions.continuous.unwrap_or_default().control(action);
        self.step_control(control)
    }

    /// Applies a continuous control for one policy step (scripted drivers, keyboard driving).
    pub fn step_control(&mut self, control: Control) -> Step {
        let control = Control {
            steer: if control.steer.is_finite() { control.steer.clamp(-1.0, 1.0) } else { 0.0 },
            throttle: if control.throttle.is_finite() { control.throttle.clamp(-1.0, 1.0) } else { 0.0 },
        };
        self.applied.push([control.steer, control.throttle]);
        let events_before = self.world.events_happened();
        let mut tally = self.episode.begin_step(&self.world, 0);
        for _ in 0..self.scenario.actions.repeat {
            let contacts = self.world.step(control);
            self.episode.after_physics(&mut tally, &self.world, 0, &self.scenario, contacts);
            if tally.end.is_some() {
                break;
            }
        }
        let (state, terms, end) =
            self.episode.end_step(&tally, &self.world, 0, &self.scenario, &self.scenario.reward);
        let mut info = self.episode.info(&self.world, 0, state, &tally.state, end, terms);
        info.events = self.world.events_happened() & !events_before;
        Step {
            obs: self.observe(state),
            reward: terms.total(),
            terminated: end.is_some_and(EndReason::is_terminal),
            truncated: end.is_some_and(|r| !r.is_terminal()),
            info,
        }
    }

    /// The observation of the world as it stands: `state`, and the lidar's scan and the object list
    /// when the scenario has them.
    fn observe(&self, state: GroundTruth) -> Observation {
        Observation {
            lidar: self.lidar_scan().map(|scan| scan.ranges),
            vehicles: self
                .scenario
                .vehicles
                .as_ref()
                .map(|spec| crate::vehicle_list::measure(&self.world, 0, spec)),
            ..Observation::of_state(state)
        }
    }

    /// The lidar's scan of the world as it stands (`None` when the scenario mounts no lidar).
    pub fn lidar_scan(&self) -> Option<LidarScan> {
        let beams = self.lidar.as_deref()?;
        let (channels, rays) = beams.shape();
        let mut ranges = vec![0.0; beams.len()];
        crate::lidar::scan(&self.world, beams, self.lidar_noise_seed(), &mut ranges);
        Some(LidarScan { channels, rays, ranges })
    }

    /// The scenario's lidar, its beams laid out (`None` when it mounts none).
    pub fn lidar(&self) -> Option<&LidarBeams> {
        self.lidar.as_deref()
    }

    /// The seed of this step's lidar noise: the episode's seed and step.
    pub fn lidar_noise_seed(&self) -> u64 {
        crate::lidar::noise_seed(self.episode.seed, self.episode.step)
    }

    /// The seed of the current episode (everything random in it was drawn from this).
    pub fn episode_seed(&self) -> u64 {
        self.episode.seed
    }

    /// Size of the discrete action set.
    pub fn num_actions(&self) -> usize {
        self.controls.len()
    }

    /// The control each action applies.
    pub fn controls(&self) -> &[Control] {
        &self.controls
    }

    /// The scenario, shared.
    pub fn shared_scenario(&self) -> Arc<Scenario> {
        self.scenario.clone()
    }

    pub fn scenario(&self) -> &Scenario {
        &self.scenario
    }

    /// The road (on a network: the road this episode's route starts on).
    pub fn road(&self) -> &RoadGeometry {
        self.world.road()
    }

    /// Every road and junction connector of the scenario, laid out.
    pub fn network(&self) -> &Arc<Network> {
        &self.network
    }

    pub fn world(&self) -> &World {
        &self.world
    }

    /// Mutable access to the world, for tests and tools that place the car by hand.
    pub fn world_mut(&mut self) -> &mut World {
        &mut self.world
    }
}
