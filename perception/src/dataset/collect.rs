//! Collecting labelled frames: the scripted lane keeper drives, with noise and perturbations so
//! that the frames cover off-centre, off-heading and near-obstacle states, under a randomised look.

use super::anomaly::{AnomalyChecker, Candidate, Thresholds};
use super::store::{DatasetError, DatasetWriter, FrameShape, Manifest, Planes, Sample, depth_to_plane};
use lepton_sim::RenderError;
use lepton_sim::drivers::KeepLane;
use lepton_sim::scenario::{self, Scenario};
use lepton_sim::{Act, Reset};
use lepton_sim::{Control, DrivingState, Observation};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};
use std::path::Path;
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    #[error(transparent)]
    Render(#[from] RenderError),
    #[error(transparent)]
    Dataset(#[from] DatasetError),
    /// The anomaly checks rejected almost everything: collecting would never finish.
    #[error(
        "only {accepted} of {offered} frames passed the anomaly checks (rejected: {reasons}); \
         the scenario or the collection settings produce unusable frames"
    )]
    MostlyRejected { accepted: u64, offered: u64, reasons: String },
}

/// Frames offered before collection gives up when fewer than one in [`GIVE_UP_RATIO`] passes.
const GIVE_UP_AFTER: u64 = 2_000;
const GIVE_UP_RATIO: u64 = 20;

/// How to collect.
#[derive(Debug, Clone)]
pub struct CollectConfig {
    /// Accepted frames to collect.
    pub frames: u64,
    pub envs: usize,
    pub seed: u64,
    /// Samples per chunk file.
    pub chunk_size: usize,
    /// Keep every n-th policy step of each env (1 = all; consecutive frames are near-copies).
    pub every: u32,
    /// Std of the steering noise added to the driver (fraction of full lock).
    pub steer_noise: f32,
    /// Chance per step that a perturbation (a burst of hard steering) starts.
    pub perturb_chance: f32,
    /// The anomaly rules (`step_seconds` comes from the scenario).
    pub thresholds: Thresholds,
    /// The camera's depth and classes to store beside each frame (labels for depth input and
    /// the segmentation head), drawn in the same pass.
    pub planes: Planes,
}

impl Default for CollectConfig {
    fn default() -> Self {
        Self {
            frames: 20_000,
            envs: 16,
            seed: 0,
            chunk_size: 1024,
            every: 1,
            steer_noise: 0.08,
            perturb_chance: 0.03,
            thresholds: Thresholds::default(),
            planes: Planes::default(),
        }
    }
}

/// What came of a collection.
#[derive(Debug, Clone)]
pub struct CollectReport {
    pub manifest: Manifest,
    pub policy_steps: u64,
    pub seconds: f64,
}

/// One env's noisy driver: the lane keeper aims at a wandering target offset inside the lane,
/// with coloured steering noise, a per-episode cruise speed, and now and then a burst of hard
/// steering that throws the car off heading (and sometimes off the road).
struct NoisyDriver {
    driver: KeepLane,
    rng: ChaCha8Rng,
    target_offset: f32,
    steps_to_new_target: u32,
    noise: f32,
    burst: Option<(u32, f32)>,
    half_lane: f32,
    base_speed: f32,
}

impl NoisyDriver {
    fn new(scenario: &Scenario, seed: u64) -> Self {
        let base_speed = scenario.reward.target_speed;
        let driver = KeepLane::new(base_speed, scenario.ego.vehicle.max_steer, scenario.ego.vehicle.length);
        let mut d = Self {
            driver,
            rng: ChaCha8Rng::seed_from_u64(seed),
            target_offset: 0.0,
            steps_to_new_target: 0,
            noise: 0.0,
            burst: None,
            half_lane: 0.5 * scenario.road.lane_width,
            base_speed,
        };
        d.new_episode();
        d
    }

    fn new_episode(&mut self) {
        self.driver.target_speed = self.base_speed * self.rng.random_range(0.5..1.3);
        self.burst = None;
        self.steps_to_new_target = 0;
    }

    fn control(&mut self, gt: &DrivingState, config: &CollectConfig) -> Control {
        if self.steps_to_new_target == 0 {
            self.target_offset = self.rng.random_range(-0.8..0.8) * self.half_lane;
            self.steps_to_new_target = self.rng.random_range(10..60);
        }
        self.steps_to_new_target -= 1;
        let aimed = DrivingState { lane_offset: gt.lane_offset - self.target_offset, ..*gt };
        let mut control = self.driver.control(&aimed);

        // Ornstein–Uhlenbeck steering noise: smooth, so the car drifts rather than jitters.
        let white = Normal::new(0.0, config.steer_noise).expect("finite std").sample(&mut self.rng);
        self.noise = 0.8 * self.noise + white;
        control.steer += self.noise;

        if self.burst.is_none() && self.rng.random::<f32>() < config.perturb_chance {
            let side = if self.rng.random::<bool>() { 1.0 } else { -1.0 };
            self.burst = Some((self.rng.random_range(2..8), side * self.rng.random_range(0.4..1.0)));
        }
        if let Some((left, steer)) = self.burst.as_mut() {
            control.steer = *steer;
            *left -= 1;
            if *left == 0 {
                self.burst = None;
            }
        }
        control
    }
}

/// The scenario with a randomised look switched on (the scenario's own jitter where it has one).
pub fn with_randomised_look(scenario: &Scenario) -> Scenario {
    let mut scenario = scenario.clone();
    let r = &mut scenario.look.randomise;
    if r.brightness == 0.0 && r.colour == 0.0 && r.sun_angle == 0.0 {
        r.brightness = 0.3;
        r.colour = 0.05;
        r.sun_angle = 20.0;
    }
    scenario
}

/// Drives `config.envs` cameras until `config.frames` samples pass the anomaly checks, writing
/// them to `out`. `progress(accepted)` is called after every policy step.
pub fn collect(
    scenario: &Scenario,
    out: &Path,
    config: &CollectConfig,
    mut progress: impl FnMut(u64),
) -> Result<CollectReport, CollectError> {
    let started = std::time::Instant::now();
    let scenario = Arc::new(with_randomised_look(scenario));
    let sensors = lepton_sim::CameraSensors { depth: config.planes.depth, semantic: config.planes.semantic };
    let mut envs = lepton_render::sensor_vec_env(scenario.clone(), config.envs, config.seed, sensors)?;
    let first = envs.try_reset(Reset::All(config.seed), None)?;
    let camera = &scenario.camera;
    let channels = match camera.format {
        lepton_sim::scenario::FrameFormat::Rgb => 3,
        lepton_sim::scenario::FrameFormat::Grey => 1,
    };
    let shape = FrameShape { width: camera.width, height: camera.height, channels };
    let mut writer = DatasetWriter::create(out, shape, config.chunk_size)?.with_planes(config.planes);
    let step_seconds = scenario.episode.dt * scenario.actions.repeat as f32;
    let mut checker = AnomalyChecker::new(Thresholds { step_seconds, ..config.thresholds });

    let mut drivers: Vec<NoisyDriver> =
        (0..config.envs).map(|i| NoisyDriver::new(&scenario, config.seed ^ (0xC011EC7 + i as u64))).collect();
    let mut obs: Vec<Observation> = first.into_iter().map(|(o, _)| o).collect();
    let mut policy_steps = 0u64;

    // The first observation of every episode is a sample too.
    for (i, o) in obs.iter().enumerate() {
        let env = &envs.envs()[i];
        offer(&mut writer, &mut checker, o, env.episode_seed(), 0, env.world().ego_state(), config)?;
    }
    while writer.samples() < config.frames {
        let controls: Vec<Control> =
            drivers.iter_mut().zip(&obs).map(|(d, o)| d.control(&o.state.driving, config)).collect();
        let step = envs.try_step(Act::Controls(&controls), None)?;
        policy_steps += 1;
        for (i, (o, info)) in step.obs.iter().zip(&step.infos).enumerate() {
            let ended = step.final_obs[i].is_some();
            // The last frame of an episode (a crash, a stop behind a cone) is worth keeping too;
            // its physics state is the step's, reported in `info`.
            let last = step.final_obs[i].as_ref().unwrap_or(o);
            if info.episode_step % config.every == 0 || ended {
                let physics = PhysicsSnapshot::from_info(info, envs.envs()[i].world().ego_state(), ended);
                offer_snapshot(
                    &mut writer,
                    &mut checker,
                    last,
                    info.episode_seed,
                    info.episode_step,
                    physics,
                )?;
            }
            if ended {
                checker.end_episode(info.episode_seed);
                drivers[i].new_episode();
                let env = &envs.envs()[i];
                offer(&mut writer, &mut checker, o, env.episode_seed(), 0, env.world().ego_state(), config)?;
            }
            if writer.samples() >= config.frames {
                break;
            }
        }
        obs = step.obs;
        progress(writer.samples());
        let rejected = checker.rejected();
        let (accepted, rejected_total) = (writer.samples(), rejected.values().sum::<u64>());
        let offered = accepted + rejected_total;
        if offered >= GIVE_UP_AFTER && accepted * GIVE_UP_RATIO < offered {
            let reasons: Vec<String> =
                rejected.iter().filter(|(_, n)| **n > 0).map(|(name, n)| format!("{name} {n}")).collect();
            return Err(CollectError::MostlyRejected { accepted, offered, reasons: reasons.join(", ") });
        }
    }

    let template = Manifest {
        format_version: 0,
        scenario: scenario.name.clone(),
        scenario_ron: scenario::to_ron(&scenario),
        base_seed: config.seed,
        envs: config.envs,
        frame: shape,
        planes: Default::default(),
        label_names: Vec::new(),
        samples: 0,
        episodes: 0,
        episode_seeds: Vec::new(),
        rejected: checker.rejected(),
        label_stats: Default::default(),
        chunks: Vec::new(),
    };
    let manifest = writer.finish(template)?;
    Ok(CollectReport { manifest, policy_steps, seconds: started.elapsed().as_secs_f64() })
}

/// The physics facts the anomaly checks look at.
#[derive(Debug, Clone, Copy)]
struct PhysicsSnapshot {
    position: [f32; 3],
    speed: f32,
    uprightness: f32,
}

impl PhysicsSnapshot {
    /// For a step that ended an episode the env has already been reset, so the pose comes from
    /// `info` and the tilt from the end reason; otherwise from the live world.
    fn from_info(info: &lepton_sim::Info, ego: lepton_sim::world::EgoState, ended: bool) -> Self {
        if ended {
            let uprightness = match info.end {
                Some(lepton_sim::EndReason::Flipped) => 0.0,
                _ => 1.0,
            };
            let position = match info.end {
                Some(lepton_sim::EndReason::PhysicsInvalid) => [f32::NAN; 3],
                _ => info.position,
            };
            Self { position, speed: info.ground_truth.driving.speed, uprightness }
        } else {
            Self { position: ego.position, speed: ego.speed, uprightness: ego.uprightness }
        }
    }
}

fn offer(
    writer: &mut DatasetWriter,
    checker: &mut AnomalyChecker,
    obs: &Observation,
    episode_seed: u64,
    step: u32,
    ego: lepton_sim::world::EgoState,
    _config: &CollectConfig,
) -> Result<(), DatasetError> {
    let physics = PhysicsSnapshot { position: ego.position, speed: ego.speed, uprightness: ego.uprightness };
    offer_snapshot(writer, checker, obs, episode_seed, step, physics)
}

fn offer_snapshot(
    writer: &mut DatasetWriter,
    checker: &mut AnomalyChecker,
    obs: &Observation,
    episode_seed: u64,
    step: u32,
    physics: PhysicsSnapshot,
) -> Result<(), DatasetError> {
    let Some(frame) = obs.frame.as_ref() else { return Ok(()) };
    let labels = obs.state.to_array();
    let candidate = Candidate {
        frame: &frame.data,
        labels: &labels,
        episode_seed,
        step,
        position: physics.position,
        speed: physics.speed,
        uprightness: physics.uprightness,
    };
    if checker.check(&candidate).is_ok() {
        let depth = obs.depth.as_deref().unwrap_or_default().iter().map(|&d| depth_to_plane(d)).collect();
        let semantic = obs.semantic.clone().unwrap_or_default();
        writer.push(Sample { episode_seed, step, labels, frame: frame.data.clone(), depth, semantic })?;
    }
    Ok(())
}
