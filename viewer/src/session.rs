//! The viewer's simulation thread: it owns the envs (and, for drivers that read pixels, the
//! headless renderer that draws their camera frames exactly as in training) and the driver, and
//! answers each request with a snapshot of every env. Keeping the training renderer's bevy app on
//! its own thread keeps it apart from the window's app.

use crate::error::ViewerError;
use lepton_agents::{Decision, Policy};
use lepton_render::scene::Poses;
use lepton_render::sensor_pictures::{SensorView, depth_picture, semantic_picture};
use lepton_sim::env::Observation;
use lepton_sim::episode::EndReason;
use lepton_sim::ground_truth::GroundTruth;
use lepton_sim::scenario::Scenario;
use lepton_sim::vec_env::VecEnv;
use lepton_sim::vehicle::Control;
use lepton_sim::{Act, Frame, Reset};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::thread::JoinHandle;

/// What the window asks of the simulation.
pub enum Request {
    /// One policy step of every env. `keyboard` drives when there is no driver.
    Step { keyboard: Control },
    /// Every env starts a new episode.
    Reset,
    /// Replace the scenario (hot reload). On an error the running world carries on.
    Reload(Arc<Scenario>),
}

/// One env as the window draws it and the HUD reports it.
#[derive(Debug, Clone)]
pub struct EnvSnapshot {
    pub poses: Poses,
    pub episode_seed: u64,
    pub episode_step: u32,
    pub episodes_done: u32,
    pub ground_truth: GroundTruth,
    /// The action index and control applied in the last step (none yet at an episode start).
    pub last_action: Option<usize>,
    pub last_control: Control,
    pub last_reward: f32,
    pub episode_return: f32,
    /// How the last finished episode ended, and its return.
    pub last_end: Option<(EndReason, f32)>,
    /// The driver's decision for the next step, made from the current observation.
    pub decision: Option<Decision>,
    /// The depth or semantic image of the car's camera as a picture, and what it shows, when the
    /// inset shows one.
    pub sensor_picture: Option<(&'static str, Frame)>,
}

/// Every env after a request.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub scenario: Arc<Scenario>,
    /// Bumped each time the scenario is replaced, so the window rebuilds its scene.
    pub generation: u64,
    pub steps: u64,
    pub envs: Vec<EnvSnapshot>,
}

/// The window's end of the simulation thread.
pub struct SessionHandle {
    requests: Sender<Request>,
    replies: Receiver<Result<Snapshot, ViewerError>>,
    thread: Option<JoinHandle<()>>,
}

impl SessionHandle {
    /// Starts the thread; returns once the first snapshot (or the error that prevents one) is in.
    pub fn start(
        scenario: Arc<Scenario>,
        envs: usize,
        seed: u64,
        driver: Option<Box<dyn Policy>>,
        inset: SensorView,
    ) -> Result<(Self, Snapshot), ViewerError> {
        let (requests, inbox) = channel();
        let (outbox, replies) = channel();
        let thread = std::thread::Builder::new()
            .name("lepton-viewer-sim".into())
            .spawn(move || {
                let mut session = match Session::new(scenario, envs, seed, driver, inset) {
                    Ok(s) => s,
                    Err(e) => {
                        let _ = outbox.send(Err(e));
                        return;
                    }
                };
                let _ = outbox.send(Ok(session.snapshot()));
                while let Ok(request) = inbox.recv() {
                    if outbox.send(session.handle(request)).is_err() {
                        break;
                    }
                }
            })
            .map_err(ViewerError::Thread)?;
        let mut handle = Self { requests, replies, thread: Some(thread) };
        let first = handle.receive()?;
        Ok((handle, first))
    }

    /// Sends a request and waits for its answer.
    pub fn call(&mut self, request: Request) -> Result<Snapshot, ViewerError> {
        self.requests.send(request).map_err(|_| ViewerError::Stopped("it exited".into()))?;
        self.receive()
    }

    fn receive(&mut self) -> Result<Snapshot, ViewerError> {
        match self.replies.recv() {
            Ok(reply) => reply,
            Err(_) => {
                // The thread is gone: report its panic if it had one.
                let why = match self.thread.take().map(JoinHandle::join) {
                    Some(Err(panic)) => panic
                        .downcast_ref::<String>()
                        .cloned()
                        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                        .unwrap_or_else(|| "unknown panic".into()),
                    _ => "it exited".into(),
                };
                Err(ViewerError::Stopped(why))
            }
        }
    }
}

/// Episode bookkeeping per env that the envs themselves do not keep.
#[derive(Debug, Clone, Default)]
struct Tally {
    last_action: Option<usize>,
    last_control: Control,
    last_reward: f32,
    episodes_done: u32,
    last_end: Option<(EndReason, f32)>,
    episode_step: u32,
}

struct Session {
    scenario: Arc<Scenario>,
    generation: u64,
    envs: VecEnv,
    seed: u64,
    driver: Option<Box<dyn Policy>>,
    observations: Vec<Observation>,
    decisions: Option<Vec<Decision>>,
    tallies: Vec<Tally>,
    steps: u64,
    /// What the HUD's inset shows: the network's input, or the camera's depth or classes.
    inset: SensorView,
}

impl Session {
    fn new(
        scenario: Arc<Scenario>,
        n: usize,
        seed: u64,
        mut driver: Option<Box<dyn Policy>>,
        inset: SensorView,
    ) -> Result<Self, ViewerError> {
        if let Some(d) = driver.as_mut() {
            d.adopt(&scenario)?;
        }
        let envs = build_envs(&scenario, n, seed, driver.as_deref(), inset)?;
        let mut session = Self {
            scenario,
            generation: 0,
            envs,
            seed,
            driver,
            observations: Vec::new(),
            decisions: None,
            tallies: vec![Tally::default(); n],
            steps: 0,
            inset,
        };
        session.reset()?;
        Ok(session)
    }

    fn handle(&mut self, request: Request) -> Result<Snapshot, ViewerError> {
        match request {
            Request::Step { keyboard } => self.step(keyboard)?,
            Request::Reset => self.reset()?,
            Request::Reload(scenario) => self.reload(scenario)?,
        }
        Ok(self.snapshot())
    }

    /// New episodes everywhere, continuing each env's seed stream so a reset shows a new episode.
    fn reset(&mut self) -> Result<(), ViewerError> {
        let first = if self.steps == 0 && self.generation == 0 {
            self.envs.try_reset(Reset::All(self.seed), None)
        } else {
            self.seed = self.seed.wrapping_add(self.envs.len() as u64 * 1_000_003);
            self.envs.try_reset(Reset::All(self.seed), None)
        }?;
        self.observations = first.into_iter().map(|(o, _)| o).collect();
        for tally in &mut self.tallies {
            *tally =
                Tally { episodes_done: tally.episodes_done, last_end: tally.last_end, ..Tally::default() };
        }
        let starts = vec![true; self.envs.len()];
        self.decide(&starts)
    }

    fn decide(&mut self, starts: &[bool]) -> Result<(), ViewerError> {
        self.decisions = match self.driver.as_mut() {
            Some(driver) => Some(driver.decide(&self.observations.iter().collect::<Vec<_>>(), starts)?),
            None => None,
        };
        Ok(())
    }

    fn step(&mut self, keyboard: Control) -> Result<(), ViewerError> {
        let n = self.envs.len();
        let step = match &self.decisions {
            Some(decisions) => {
                let actions: Vec<usize> = decisions.iter().map(|d| d.action).collect();
                for (tally, &a) in self.tallies.iter_mut().zip(&actions) {
                    tally.last_action = Some(a);
                    tally.last_control = self.scenario.actions.set[a].control();
                }
                self.envs.try_step(Act::Discrete(&actions), None)
            }
            None => {
                for tally in &mut self.tallies {
                    tally.last_action = None;
                    tally.last_control = keyboard;
                }
                self.envs.try_step(Act::Controls(&vec![keyboard; n]), None)
            }
        }?;
        self.steps += 1;
        let mut starts = vec![false; n];
        for (i, (tally, start)) in self.tallies.iter_mut().zip(&mut starts).enumerate() {
            tally.last_reward = step.rewards[i];
            tally.episode_step = step.infos[i].episode_step;
            if let Some(episode) = step.episodes[i] {
                tally.last_end = Some((episode.end, episode.episode_return));
                tally.episodes_done += 1;
                tally.episode_step = 0;
                *start = true;
            }
        }
        self.observations = step.obs;
        self.decide(&starts)
    }

    /// Replaces the scenario; on any error the running world and driver are left as they were.
    fn reload(&mut self, scenario: Arc<Scenario>) -> Result<(), ViewerError> {
        if let Some(driver) = self.driver.as_mut() {
            driver.adopt(&scenario)?;
        }
        let mut envs = build_envs(&scenario, self.envs.len(), self.seed, self.driver.as_deref(), self.inset)?;
        let first = envs.try_reset(Reset::All(self.seed), None)?;
        self.scenario = scenario;
        self.envs = envs;
        self.generation += 1;
        self.observations = first.into_iter().map(|(o, _)| o).collect();
        for tally in &mut self.tallies {
            *tally = Tally::default();
        }
        let starts = vec![true; self.envs.len()];
        self.decide(&starts)
    }

    fn snapshot(&self) -> Snapshot {
        let slots = self.scenario.traffic.count as usize;
        let envs = self
            .envs
            .envs()
            .iter()
            .zip(&self.tallies)
            .zip(&self.observations)
            .zip(self.envs.returns_so_far())
            .enumerate()
            .map(|(i, (((env, tally), obs), &episode_return))| EnvSnapshot {
                poses: Poses::of(env.world(), slots),
                episode_seed: env.episode_seed(),
                episode_step: tally.episode_step,
                episodes_done: tally.episodes_done,
                ground_truth: obs.state,
                last_action: tally.last_action,
                last_control: tally.last_control,
                last_reward: tally.last_reward,
                episode_return,
                last_end: tally.last_end,
                decision: self.decisions.as_ref().map(|d| d[i].clone()),
                sensor_picture: sensor_picture(&self.scenario, obs),
            })
            .collect();
        Snapshot { scenario: self.scenario.clone(), generation: self.generation, steps: self.steps, envs }
    }
}

/// The camera's depth or classes in `obs` as a picture, when it carries one.
fn sensor_picture(scenario: &Scenario, obs: &Observation) -> Option<(&'static str, Frame)> {
    let (w, h) = (scenario.camera.width, scenario.camera.height);
    match (&obs.depth, &obs.semantic) {
        (Some(depth), _) => Some(("depth (near bright)", depth_picture(w, h, depth))),
        (_, Some(classes)) => Some(("semantic classes", semantic_picture(w, h, classes))),
        _ => None,
    }
}

/// Envs for `scenario`, with camera frames when the driver reads them, and the depth or semantic
/// camera when the inset shows one.
fn build_envs(
    scenario: &Arc<Scenario>,
    n: usize,
    seed: u64,
    driver: Option<&dyn Policy>,
    inset: SensorView,
) -> Result<VecEnv, ViewerError> {
    if inset != SensorView::Camera {
        Ok(lepton_render::sensor_vec_env(scenario.clone(), n, seed, inset.sensors())?)
    } else if driver.is_some_and(|d| d.needs_frames()) {
        Ok(lepton_render::camera_vec_env(scenario.clone(), n, seed)?)
    } else {
        Ok(VecEnv::new(scenario.clone(), n, seed))
    }
}
