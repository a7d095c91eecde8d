//! The training loop, top to bottom:
//! observe every env → act ε-greedily → step the envs (auto-reset) → learn (tabular update, or
//! store in replay and run the DQN updates that are due) → log finished episodes and training
//! rows → evaluate on fixed seeds → checkpoint (last, and best by evaluation return).

use super::agent::Agent;
use super::checkpoint::{self, TrainerState};
use super::config::{AgentKind, RunConfig};
use super::eval::{EvalSummary, evaluate};
use super::metrics::{MetricsWriter, Row};
use super::observe::{Encoded, Observer, Stack};
use crate::dqn::InputShape;
use burn::prelude::Device;
use lepton_perception::PerceptionKind;
use lepton_sim::scenario::Scenario;
use lepton_sim::{Observation, VecEnv};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error("{0}")]
    Config(String),
    #[error(transparent)]
    Perception(#[from] lepton_perception::PerceptionError),
    #[error(transparent)]
    Render(#[from] lepton_sim::render::RenderError),
    #[error(transparent)]
    Checkpoint(#[from] checkpoint::CheckpointError),
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> TrainError + '_ {
    move |source| TrainError::Io { path: path.to_path_buf(), source }
}

/// Files of a run directory.
pub mod files {
    pub const CONFIG: &str = "config.ron";
    pub const SCENARIO: &str = "scenario.ron";
    pub const METRICS: &str = "metrics.csv";
    pub const LAST: &str = "checkpoints/last";
    pub const BEST: &str = "checkpoints/best";
    pub const EVAL: &str = "eval.json";
    pub const CURVE: &str = "reward_curve.png";
}

/// A progress report for bars.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    pub step: u64,
    pub total: u64,
    pub steps_per_second: f64,
    pub recent_return: Option<f32>,
    pub epsilon: f64,
    pub loss: Option<f32>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct RunSummary {
    pub run_dir: PathBuf,
    pub agent: &'static str,
    pub steps: u64,
    pub episodes: u64,
    pub updates: u64,
    pub seconds: f64,
    pub env_steps_per_second: f64,
    pub final_eval: Option<EvalSummary>,
    pub best_eval_return: Option<f32>,
    pub replay_bytes_per_transition: Option<f64>,
    pub resumed_from_step: Option<u64>,
}

/// The perception a run uses: the configured one, else the agent's default.
pub fn resolve_perception(config: &RunConfig, model: Option<&Path>) -> Result<PerceptionKind, TrainError> {
    if let Some(kind) = &config.perception {
        return Ok(kind.clone());
    }
    Ok(match (config.agent, model) {
        (_, Some(model)) => PerceptionKind::Cnn { model: model.to_path_buf() },
        (AgentKind::QLearning, None) => {
            return Err(TrainError::Config(
                "qlearning uses the Cnn perception by default: pass --model MODEL_DIR (from `lepton perception \
                 train`), or --perception ground-truth"
                    .into(),
            ));
        }
        (AgentKind::Dqn, None) => {
            PerceptionKind::Pixels { grey: true, resize: None, stack: config.dqn.frame_stack }
        }
    })
}

/// The DQN input for this perception and scenario camera.
pub fn input_shape(observer: &Observer, scenario: &Scenario, stack: usize) -> InputShape {
    let c = &scenario.camera;
    let channels = match c.format {
        lepton_sim::scenario::FrameFormat::Rgb => 3,
        lepton_sim::scenario::FrameFormat::Grey => 1,
    };
    match observer.frame_shape(channels, c.height, c.width) {
        Some((channels, height, width)) => InputShape::Frames { stack, channels, height, width },
        None => InputShape::Vector(lepton_perception::DrivingState::LEN),
    }
}

pub struct Trainer {
    pub config: RunConfig,
    pub scenario: Arc<Scenario>,
    pub perception: PerceptionKind,
    pub run_dir: PathBuf,
    pub device: Device,
}

impl Trainer {
    /// Trains (or with `resume`, continues the run in `run_dir`), calling `progress` each step.
    pub fn run(&self, resume: bool, mut progress: impl FnMut(Progress)) -> Result<RunSummary, TrainError> {
        let config = &self.config;
        config.validate().map_err(TrainError::Config)?;
        let started = Instant::now();
        std::fs::create_dir_all(self.run_dir.join("checkpoints")).map_err(io(&self.run_dir))?;

        let mut observer = Observer::new(&self.perception, config.envs, &self.device)?;
        let stack =
            if matches!(self.perception, PerceptionKind::Pixels { .. }) { config.dqn.frame_stack } else { 1 };
        let input = input_shape(&observer, &self.scenario, stack);
        let actions = self.scenario.actions.set.len();
        let mut agent = Agent::new(config, input, actions, &self.device).map_err(TrainError::Config)?;

        let mut state = TrainerState {
            step: 0,
            updates: 0,
            episodes: 0,
            rng: ChaCha8Rng::seed_from_u64(config.seed ^ 0xA6E7),
            best_eval: None,
            next_eval: if config.eval_every > 0 { config.eval_every } else { u64::MAX },
            next_checkpoint: config.checkpoint_every,
            next_log: config.log_every,
        };
        let mut resumed_from = None;
        if resume {
            let last = self.run_dir.join(files::LAST);
            let dir = checkpoint::locate(&last).ok_or_else(|| {
                TrainError::Config(format!("{}: no checkpoint to resume from", last.display()))
            })?;
            state = checkpoint::load_state(&dir)?;
            agent.load(&dir, true)?;
            resumed_from = Some(state.step);
        } else {
            std::fs::write(self.run_dir.join(files::CONFIG), config.to_ron()).map_err(io(&self.run_dir))?;
            std::fs::write(self.run_dir.join(files::SCENARIO), lepton_sim::scenario::to_ron(&self.scenario))
                .map_err(io(&self.run_dir))?;
        }
        let metrics_path = self.run_dir.join(files::METRICS);
        let mut metrics = MetricsWriter::open(&metrics_path, resumed_from).map_err(io(&metrics_path))?;

        // Envs restart at every (re)start, seeded from the step they start at, so a resumed run is
        // as reproducible as a fresh one.
        let env_seed = config.seed.wrapping_add(state.step.wrapping_mul(0x9E37_79B9));
        let mut envs = if observer.needs_frames() {
            VecEnv::with_camera(self.scenario.clone(), config.envs, env_seed)?
        } else {
            VecEnv::new(self.scenario.clone(), config.envs, env_seed)
        };
        let first: Vec<Observation> = envs.try_reset(env_seed)?.into_iter().map(|(o, _)| o).collect();
        let mut current = observer.encode(&first.iter().collect::<Vec<_>>())?;
        let mut starts = vec![true; config.envs];
        let mut stacks = vec![Stack::default(); config.envs];
        for (s, e) in stacks.iter_mut().zip(&current) {
            if let Encoded::Frame(f) = e {
                s.push(f, stack, true);
            }
        }
        let mut returns = vec![0.0f32; config.envs];
        let mut lengths = vec![0u32; config.envs];
        let mut recent: std::collections::VecDeque<f32> = Default::default();
        let mut interval = Interval::default();
        let mut last_loss = None;
        let mut final_eval = None;
        let loop_started = Instant::now();
        let start_step = state.step;

        while state.step < config.steps {
            let epsilon = match config.agent {
                AgentKind::QLearning => config.qlearning.epsilon.value(state.step),
                AgentKind::Dqn => config.dqn.epsilon.value(state.step),
            };
            let inputs = agent.inputs(config, &current, &stacks);
            let chosen = agent.act(&inputs, epsilon, actions, &mut state.rng);
            let step = envs.try_step(&chosen)?;

            // What each env saw after its action: the final observation where an episode ended.
            let after: Vec<&Observation> =
                step.final_obs.iter().zip(&step.obs).map(|(f, o)| f.as_ref().unwrap_or(o)).collect();
            let next = observer.encode(&after)?;
            for i in 0..config.envs {
                let (r, term, trunc) = (step.rewards[i], step.terminated[i], step.truncated[i]);
                let td =
                    agent.observe(config, i, &current[i], starts[i], chosen[i], r, term, trunc, &next[i]);
                if let Some(td) = td {
                    interval.loss_sum += (td * td) as f64;
                    interval.loss_n += 1;
                }
                returns[i] += r;
                lengths[i] += 1;
            }
            let before = state.step;
            state.step += config.envs as u64;
            if let Some(stats) = agent.train(config, before, state.step, &mut state.rng) {
                interval.loss_sum += stats.loss as f64;
                interval.loss_n += 1;
                interval.q_sum += stats.mean_q as f64;
                interval.q_n += 1;
                last_loss = Some(stats.loss);
            }

            // Move on: ended episodes are logged and their envs start over from the reset frame.
            let ended: Vec<usize> = (0..config.envs).filter(|&i| step.final_obs[i].is_some()).collect();
            let reset_encoded = if ended.is_empty() {
                Vec::new()
            } else {
                observer.encode(&ended.iter().map(|&i| &step.obs[i]).collect::<Vec<_>>())?
            };
            let mut next = next;
            for (k, &i) in ended.iter().enumerate() {
                let reason = step.infos[i].end.map(|e| e.name().to_string());
                metrics
                    .write(&Row {
                        kind: "episode".into(),
                        step: state.step,
                        env: Some(i),
                        episode_return: Some(returns[i]),
                        length: Some(lengths[i]),
                        end_reason: reason,
                        ..Default::default()
                    })
                    .map_err(io(&metrics_path))?;
                state.episodes += 1;
                recent.push_back(returns[i]);
                if recent.len() > 20 {
                    recent.pop_front();
                }
                returns[i] = 0.0;
                lengths[i] = 0;
                next[i] = reset_encoded[k].clone();
            }
            for i in 0..config.envs {
                starts[i] = step.final_obs[i].is_some();
                if let Encoded::Frame(f) = &next[i] {
                    stacks[i].push(f, stack, starts[i]);
                }
            }
            current = next;

            let elapsed = loop_started.elapsed().as_secs_f64().max(1e-9);
            let steps_per_second = (state.step - start_step) as f64 / elapsed;
            if state.step >= state.next_log {
                metrics
                    .write(&Row {
                        kind: "train".into(),
                        step: state.step,
                        loss: (interval.loss_n > 0)
                            .then(|| (interval.loss_sum / interval.loss_n as f64) as f32),
                        epsilon: Some(epsilon),
                        mean_q: (interval.q_n > 0).then(|| (interval.q_sum / interval.q_n as f64) as f32),
                        steps_per_second: Some(steps_per_second),
                        ..Default::default()
                    })
                    .map_err(io(&metrics_path))?;
                interval = Interval::default();
                while state.next_log <= state.step {
                    state.next_log += config.log_every;
                }
            }
            let finished = state.step >= config.steps;
            if state.step >= state.next_eval || finished {
                let summary =
                    self.evaluate(&agent, config, &mut observer_for_eval(&self.perception, &self.device)?)?;
                metrics
                    .write(&Row {
                        kind: "eval".into(),
                        step: state.step,
                        eval_return_mean: Some(summary.mean_return),
                        eval_return_std: Some(summary.std_return),
                        eval_success_rate: Some(summary.success_rate),
                        ..Default::default()
                    })
                    .map_err(io(&metrics_path))?;
                if state.best_eval.is_none_or(|b| summary.mean_return > b) {
                    state.best_eval = Some(summary.mean_return);
                    agent.save(&self.run_dir.join(files::BEST), &state, false)?;
                }
                while state.next_eval <= state.step {
                    state.next_eval = state.next_eval.saturating_add(config.eval_every.max(1));
                }
                final_eval = Some(summary);
            }
            if state.step >= state.next_checkpoint || finished {
                while state.next_checkpoint <= state.step {
                    state.next_checkpoint += config.checkpoint_every;
                }
                state.updates = agent.updates();
                agent.save(&self.run_dir.join(files::LAST), &state, true)?;
            }
            progress(Progress {
                step: state.step,
                total: config.steps,
                steps_per_second,
                recent_return: (!recent.is_empty()).then(|| recent.iter().sum::<f32>() / recent.len() as f32),
                epsilon,
                loss: last_loss,
            });
        }
        if let Some(eval) = &final_eval {
            let json = serde_json::to_string_pretty(eval).expect("eval serialises");
            std::fs::write(self.run_dir.join(files::EVAL), json).map_err(io(&self.run_dir))?;
        }
        let seconds = started.elapsed().as_secs_f64();
        Ok(RunSummary {
            run_dir: self.run_dir.clone(),
            agent: config.agent.name(),
            steps: state.step,
            episodes: state.episodes,
            updates: agent.updates(),
            seconds,
            env_steps_per_second: (state.step - start_step) as f64
                / loop_started.elapsed().as_secs_f64().max(1e-9),
            final_eval,
            best_eval_return: state.best_eval,
            replay_bytes_per_transition: agent.replay_bytes_per_transition(),
            resumed_from_step: resumed_from,
        })
    }

    fn evaluate(
        &self,
        agent: &Agent,
        config: &RunConfig,
        observer: &mut Observer,
    ) -> Result<EvalSummary, TrainError> {
        let stack =
            if matches!(self.perception, PerceptionKind::Pixels { .. }) { config.dqn.frame_stack } else { 1 };
        evaluate(agent, config, &self.scenario, observer, stack, config.eval_episodes, config.eval_seed)
    }
}

fn observer_for_eval(kind: &PerceptionKind, device: &Device) -> Result<Observer, TrainError> {
    Ok(Observer::new(kind, 1, device)?)
}

#[derive(Default)]
struct Interval {
    loss_sum: f64,
    loss_n: u64,
    q_sum: f64,
    q_n: u64,
}
