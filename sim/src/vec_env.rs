//! N environments stepped in parallel (rayon), resetting finished ones automatically, optionally
//! with camera frames from one batched renderer ([`Cameras`]; `lepton_render::camera_vec_env`).
//!
//! Env i of a vector env with base seed S is exactly a single [`Env`] with seed S + i that is
//! reset with `reset(None)` whenever an episode ends. Rendering only reads the worlds, so it never
//! changes a trajectory.

use crate::cameras::{Cameras, RenderError};
use crate::env::{Env, EnvSnapshot, Info, Observation, RestoreError, Step};
use crate::episode::EndReason;
use crate::network::Network;
use crate::scenario::Scenario;
use crate::vehicle::Control;
use rayon::prelude::*;
use std::sync::Arc;

/// The results of one step of all environments.
#[derive(Debug, Clone)]
pub struct VecStep {
    /// Each env's observation after the step; for an env whose episode just ended, the first
    /// observation of its next episode.
    pub obs: Vec<Observation>,
    pub rewards: Vec<f32>,
    pub terminated: Vec<bool>,
    pub truncated: Vec<bool>,
    /// Each env's info for the step just taken (for an ended episode, its last step: end reason,
    /// return terms, ground truth).
    pub infos: Vec<Info>,
    /// For an env whose episode just ended, the episode's last observation (needed to bootstrap
    /// truncated episodes); `None` otherwise.
    pub final_obs: Vec<Option<Observation>>,
    /// For an env whose episode just ended, the episode's return, length and end reason (as
    /// Gymnasium's RecordEpisodeStatistics reports them); `None` otherwise.
    pub episodes: Vec<Option<EpisodeStats>>,
}

/// A finished episode.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct EpisodeStats {
    /// The sum of its rewards, in step order.
    pub episode_return: f32,
    /// Policy steps.
    pub length: u32,
    pub end: EndReason,
}

/// Everything a [`VecEnv`] needs to continue exactly: each env's snapshot and its episode's
/// return and length so far (the return as its f32 bits, so it comes back exact).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct VecEnvSnapshot {
    pub envs: Vec<EnvSnapshot>,
    pub return_bits: Vec<u32>,
    pub lengths: Vec<u32>,
}

/// Memory of the caller's that a camera vector env draws into directly, instead of giving each
/// observation a frame of its own (the `rows` of [`VecEnv::try_reset`] and [`VecEnv::try_step`]): env i's frame is bytes
/// `i * len..(i + 1) * len` (`len` = [`Cameras::frame_len`], height × width × channels). Only the
/// envs a call resets or steps are written; for an env whose episode just ended (with autoreset)
/// the episode's last frame goes to its row of `last` and the next episode's first to `current`.
/// Both hold `n * len` bytes for `n` envs; shorter rows are the caller's bug (those methods
/// panic on them).
pub struct FrameRows<'a> {
    pub current: &'a mut [u8],
    pub last: &'a mut [u8],
}

/// Which envs [`VecEnv::try_reset`] resets.
#[derive(Debug, Clone, Copy)]
pub enum Reset<'a> {
    /// Every env, restarting env i's seed stream at `base_seed + i`.
    All(u64),
    /// The envs named, each with its seed (restarting its stream, as [`Env::reset`]) or `None`
    /// (continuing it).
    These(&'a [(usize, Option<u64>)]),
}

/// What [`VecEnv::try_step`] steps each env with.
#[derive(Debug, Clone, Copy)]
pub enum Act<'a> {
    /// An index into the scenario's action set per env (what agents choose).
    Discrete(&'a [usize]),
    /// A steer and throttle per env (scripted drivers, data collection).
    Controls(&'a [Control]),
    /// A continuous action `[steer, throttle]` per env (what continuous agents choose), clipped
    /// into the scenario's `actions.continuous` ranges.
    Continuous(&'a [[f32; 2]]),
}

/// A batch of environments of one scenario.
pub struct VecEnv {
    envs: Vec<Env>,
    cameras: Option<Box<dyn Cameras>>,
    /// Each env's return and length so far in its current episode.
    returns: Vec<f32>,
    lengths: Vec<u32>,
    /// Whether an env whose episode ends is reset in the same step (see [`VecEnv::set_autoreset`]).
    autoreset: bool,
}

impl VecEnv {
    /// `n` environments; env i is seeded `base_seed + i`.
    pub fn new(scenario: Arc<Scenario>, n: usize, base_seed: u64) -> Self {
        let envs = (0..n as u64)
            .into_par_iter()
            .map(|i| Env::new(scenario.clone(), base_seed.wrapping_add(i)))
            .collect();
        Self { envs, cameras: None, returns: vec![0.0; n], lengths: vec![0; n], autoreset: true }
    }

    /// With autoreset off, an env whose episode ends stays at its last step — its observation is
    /// the episode's last, `final_obs` is `None` — until [`VecEnv::try_reset`] resets it: for
    /// callers that reset on their own (a single Gymnasium env). Stepping an ended env before
    /// then is the caller's bug. On by default.
    pub fn set_autoreset(&mut self, on: bool) {
        self.autoreset = on;
    }

    /// `n` environments whose observations carry camera frames, drawn by the cameras `make`
    /// builds for the scenario, its roads and `n` envs (`lepton_render::camera_vec_env` passes
    /// the batched renderer). With no envs, `make` is not called.
    pub fn with_cameras<C: Cameras + 'static>(
        scenario: Arc<Scenario>,
        n: usize,
        base_seed: u64,
        make: impl FnOnce(Arc<Scenario>, &Network, usize) -> Result<C, RenderError>,
    ) -> Result<Self, RenderError> {
        let mut envs = Self::new(scenario.clone(), n, base_seed);
        let network = envs.envs.first().map(|e| e.network().clone());
        if let Some(network) = network {
            envs.cameras = Some(Box::new(make(scenario, &network, n)?));
        }
        Ok(envs)
    }

    /// What [`VecEnv::restore`] needs to bring every env back exactly as it is now.
    pub fn snapshot(&self) -> VecEnvSnapshot {
        VecEnvSnapshot {
            envs: self.envs.iter().map(Env::snapshot).collect(),
            return_bits: self.returns.iter().map(|r| r.to_bits()).collect(),
            lengths: self.lengths.clone(),
        }
    }

    /// Puts every env back as `snapshot` has it (replaying each episode under way, in parallel).
    /// The number of envs must match.
    pub fn restore(&mut self, snapshot: &VecEnvSnapshot) -> Result<(), RestoreError> {
        let n = self.envs.len();
        if snapshot.envs.len() != n || snapshot.return_bits.len() != n || snapshot.lengths.len() != n {
            return Err(RestoreError::EnvCount { got: snapshot.envs.len(), want: n });
        }
        let Some(scenario) = self.envs.first().map(Env::shared_scenario) else {
            return Ok(());
        };
        let envs: Result<Vec<Env>, RestoreError> = snapshot
            .envs
            .par_iter()
            .enumerate()
            .map(|(i, s)| {
                Env::restore(scenario.clone(), s)
                    .map_err(|e| RestoreError::Env { env: i, error: Box::new(e) })
            })
            .collect();
        self.envs = envs?;
        self.returns = snapshot.return_bits.iter().map(|&b| f32::from_bits(b)).collect();
        self.lengths = snapshot.lengths.clone();
        Ok(())
    }

    /// The cameras, when the envs have them.
    pub fn cameras(&self) -> Option<&dyn Cameras> {
        self.cameras.as_deref()
    }

    /// Renders every env as it stands now and returns the frames (empty without cameras).
    pub fn render_frames(&mut self) -> Result<Vec<crate::env::Frame>, RenderError> {
        let mut observations: Vec<Observation> =
            self.envs.iter().map(|_| Observation::of_state(Default::default())).collect();
        self.attach_frames(observations.iter_mut().enumerate().map(|(i, o)| (i, o, false)), &mut None)?;
        Ok(observations.into_iter().filter_map(|o| o.frame).collect())
    }

    /// Renders the envs listed in `which` (all are drawn; only their frames are taken) and puts
    /// each one's frame in its row of the caller's `rows` (`last` rows for the entries marked
    /// so), or without rows on its observation.
    fn attach_frames<'o>(
        &mut self,
        which: impl Iterator<Item = (usize, &'o mut Observation, bool)>,
        rows: &mut Option<&mut FrameRows<'_>>,
    ) -> Result<(), RenderError> {
        let Some(renderer) = self.cameras.as_mut() else { return Ok(()) };
        for (i, env) in self.envs.iter().enumerate() {
            renderer.sync(i, env.world(), env.episode_seed());
        }
        renderer.render()?;
        let len = renderer.frame_len();
        let sensors = renderer.sensors();
        for (i, obs, last) in which {
            if sensors.depth {
                obs.depth = renderer.depth(i);
            }
            if sensors.semantic {
                obs.semantic = renderer.semantic(i);
            }
            match rows {
                None => obs.frame = Some(renderer.frame(i)),
                Some(rows) => {
                    let rows = if last { &mut *rows.last } else { &mut *rows.current };
                    renderer.frame_into(i, &mut rows[i * len..(i + 1) * len]);
                }
            }
        }
        Ok(())
    }

    pub fn len(&self) -> usize {
        self.envs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.envs.is_empty()
    }

    pub fn num_actions(&self) -> usize {
        self.envs.first().map_or(0, Env::num_actions)
    }

    /// Restarts every env's seed stream at `base_seed + i` and returns the first observations.
    ///
    /// # Panics
    /// If the envs have cameras and rendering fails; [`VecEnv::try_reset`] returns the error.
    pub fn reset(&mut self, base_seed: u64) -> Vec<(Observation, Info)> {
        self.try_reset(Reset::All(base_seed), None).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Resets the envs `which` says and returns their first observations, in that order, with
    /// frames when the envs have cameras — on the observations, or written into `rows` when
    /// given (the observations then carry none).
    pub fn try_reset(
        &mut self,
        which: Reset<'_>,
        mut rows: Option<&mut FrameRows<'_>>,
    ) -> Result<Vec<(Observation, Info)>, RenderError> {
        let (indices, mut first): (Vec<usize>, Vec<(Observation, Info)>) = match which {
            Reset::All(base_seed) => {
                let first = self
                    .envs
                    .par_iter_mut()
                    .enumerate()
                    .map(|(i, env)| env.reset(Some(base_seed.wrapping_add(i as u64))))
                    .collect();
                self.returns.fill(0.0);
                self.lengths.fill(0);
                ((0..self.envs.len()).collect(), first)
            }
            Reset::These(these) => {
                let mut first = Vec::with_capacity(these.len());
                for &(i, seed) in these {
                    first.push(self.envs[i].reset(seed));
                    self.returns[i] = 0.0;
                    self.lengths[i] = 0;
                }
                (these.iter().map(|w| w.0).collect(), first)
            }
        };
        self.attach_frames(
            first.iter_mut().map(|(obs, _)| obs).enumerate().map(|(k, o)| (indices[k], o, false)),
            &mut rows,
        )?;
        Ok(first)
    }

    /// Steps env i with `actions[i]`, all in parallel, auto-resetting finished episodes.
    ///
    /// # Panics
    /// If the envs have cameras and rendering fails; [`VecEnv::try_step`] returns the error.
    pub fn step(&mut self, actions: &[usize]) -> VecStep {
        self.try_step(Act::Discrete(actions), None).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Steps every env with its action or control, all in parallel, auto-resetting finished
    /// episodes (unless [`VecEnv::set_autoreset`] turned that off).
    ///
    /// With cameras, every env is drawn after its physics step; envs whose episodes ended are then
    /// reset and drawn again, so both their final and their first observation carry a frame. With
    /// `rows`, the frames are written there instead of onto the observations: every env's frame
    /// after its step in `rows.current`, except for envs whose episodes ended, whose last frame goes
    /// to `rows.last` and whose next episode's first to `rows.current`.
    pub fn try_step(
        &mut self,
        act: Act<'_>,
        rows: Option<&mut FrameRows<'_>>,
    ) -> Result<VecStep, RenderError> {
        let steps = match act {
            Act::Discrete(actions) => self.step_each(actions, |env, &a| env.step(a)),
            Act::Controls(controls) => self.step_each(controls, |env, &c| env.step_control(c)),
            Act::Continuous(actions) => self.step_each(actions, |env, &a| env.step_continuous(a)),
        };
        self.finish_step(steps, rows)
    }

    /// Steps env i with `actions[i]`, all in parallel.
    fn step_each<T: Sync>(&mut self, actions: &[T], step: impl Fn(&mut Env, &T) -> Step + Sync) -> Vec<Step> {
        assert_eq!(actions.len(), self.envs.len(), "one action per environment");
        self.envs.par_iter_mut().zip(actions.par_iter()).map(|(env, a)| step(env, a)).collect()
    }

    /// Draws the stepped envs, then resets and draws again those whose episodes ended.
    fn finish_step(
        &mut self,
        mut steps: Vec<Step>,
        mut rows: Option<&mut FrameRows<'_>>,
    ) -> Result<VecStep, RenderError> {
        let autoreset = self.autoreset;
        self.attach_frames(
            steps
                .iter_mut()
                .enumerate()
                .map(|(i, s)| (i, &mut s.obs, autoreset && (s.terminated || s.truncated))),
            &mut rows,
        )?;

        let mut first_obs: Vec<Option<Observation>> = self
            .envs
            .par_iter_mut()
            .enumerate()
            .map(|(i, env)| {
                (autoreset && (steps[i].terminated || steps[i].truncated)).then(|| env.reset(None).0)
            })
            .collect();
        if first_obs.iter().any(Option::is_some) {
            self.attach_frames(
                first_obs.iter_mut().enumerate().filter_map(|(i, o)| o.as_mut().map(|o| (i, o, false))),
                &mut rows,
            )?;
        }

        let n = steps.len();
        let mut out = VecStep {
            obs: Vec::with_capacity(n),
            rewards: Vec::with_capacity(n),
            terminated: Vec::with_capacity(n),
            truncated: Vec::with_capacity(n),
            infos: Vec::with_capacity(n),
            final_obs: Vec::with_capacity(n),
            episodes: Vec::with_capacity(n),
        };
        for (i, (step, first)) in steps.into_iter().zip(first_obs).enumerate() {
            self.returns[i] += step.reward;
            self.lengths[i] += 1;
            let ended = step.terminated || step.truncated;
            out.episodes.push(ended.then(|| EpisodeStats {
                episode_return: std::mem::take(&mut self.returns[i]),
                length: std::mem::take(&mut self.lengths[i]),
                end: step.info.end.expect("an ended episode has a reason"),
            }));
            out.rewards.push(step.reward);
            out.terminated.push(step.terminated);
            out.truncated.push(step.truncated);
            out.infos.push(step.info);
            match first {
                Some(first) => {
                    out.obs.push(first);
                    out.final_obs.push(Some(step.obs));
                }
                None => {
                    out.obs.push(step.obs);
                    out.final_obs.push(None);
                }
            }
        }
        Ok(out)
    }

    pub fn envs(&self) -> &[Env] {
        &self.envs
    }

    /// Each env's return in its current episode so far (its [`EpisodeStats`] when it ends).
    pub fn returns_so_far(&self) -> &[f32] {
        &self.returns
    }

    /// Mutable access to env `i`, for tests and tools that place cars by hand.
    pub fn env_mut(&mut self, i: usize) -> &mut Env {
        &mut self.envs[i]
    }
}
