//! The training loop, top to bottom:
//! observe every env → act ε-greedily → step the envs (auto-reset) → learn (tabular update, or
//! store in replay and run the DQN updates that are due) → log finished episodes and training
//! rows → evaluate on fixed seeds → checkpoint (last, and best by evaluation return).

use super::checkpoint::{self, Checkpoint, CheckpointError, TrainerState};
use super::config::RunConfig;
use super::error::{RunError, io};
use super::eval::{EvalSummary, eval_envs, evaluate};
use super::files;
use super::loop_state::{Interval, LoopState};
use super::metrics::{MetricsWriter, Row};
use crate::agent::{Experience, PartError};
use crate::explore::Explorer;
use crate::greedy::GreedyPolicy;
use burn::prelude::Device;
use lepton_artifacts::atomic;
use lepton_perception::{Percept, PerceptShape, Perception, PerceptionKind};
use lepton_sim::scenario::Scenario;
use lepton_sim::{Act, Reset};
use lepton_sim::{Observation, VecEnv, VecStep};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

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

/// The perception a run uses: the configured one, else the agent's default (`model`: the
/// perception CNN given on the command line).
pub fn resolve_perception(config: &RunConfig, model: Option<&Path>) -> Result<PerceptionKind, RunError> {
    match &config.perception {
        Some(kind) => Ok(kind.clone()),
        None => Ok(config.agent.default_perception(model)?),
    }
}

/// Writes a `train` row when one is due (every `log_every` steps) and starts a new interval.
pub(super) fn log_training(
    metrics: &mut MetricsWriter,
    path: &Path,
    state: &mut TrainerState,
    interval: &mut Interval,
    epsilon: f64,
    steps_per_second: f64,
    log_every: u64,
) -> Result<(), RunError> {
    if state.step < state.next_log {
        return Ok(());
    }
    metrics.write(&Row::train(state.step, interval, epsilon, steps_per_second)).map_err(io(path))?;
    *interval = Interval::default();
    while state.next_log <= state.step {
        state.next_log += log_every;
    }
    Ok(())
}

/// Records an evaluation: its `eval` row, `checkpoints/best` when it beats the best so far, and
/// the step of the next one. Best goes before last: a run killed between the two resumes from the
/// previous last checkpoint, redoes this evaluation and writes the same best again.
pub(super) fn record_eval(
    metrics: &mut MetricsWriter,
    run_dir: &Path,
    state: &mut TrainerState,
    agent: &dyn crate::Agent,
    summary: &EvalSummary,
    eval_every: u64,
) -> Result<(), RunError> {
    let path = run_dir.join(files::METRICS);
    metrics.write(&Row::eval(state.step, summary)).map_err(io(&path))?;
    if state.best_eval.is_none_or(|b| summary.mean_return > b) {
        state.best_eval = Some(summary.mean_return);
        checkpoint::save_agent(&run_dir.join(files::BEST), state, agent, false, &[])?;
    }
    while state.next_eval <= state.step {
        state.next_eval = state.next_eval.saturating_add(eval_every.max(1));
    }
    Ok(())
}

/// Keeps the last 20 episode returns (the progress bar's recent return).
pub(super) fn note_return(recent: &mut std::collections::VecDeque<f32>, episode_return: f32) {
    recent.push_back(episode_return);
    if recent.len() > 20 {
        recent.pop_front();
    }
}

/// Writes the run's last evaluation to `RUN/eval.json` (atomically), when there was one.
pub(super) fn write_final_eval(run_dir: &Path, eval: Option<&EvalSummary>) -> Result<(), RunError> {
    if let Some(eval) = eval {
        let json = serde_json::to_string_pretty(eval).expect("eval serialises");
        let path = run_dir.join(files::EVAL);
        atomic::write(&path, json.as_bytes()).map_err(io(&path))?;
    }
    Ok(())
}

/// Steps the envs with `chosen` and perceives what each saw after its action: the final
/// observation where an episode ended (its env has already reset).
fn step_and_perceive(
    envs: &mut VecEnv,
    perception: &mut Perception,
    chosen: &[usize],
) -> Result<(VecStep, Vec<Percept>), RunError> {
    let step = envs.try_step(Act::Discrete(chosen), None)?;
    let after: Vec<&Observation> =
        step.final_obs.iter().zip(&step.obs).map(|(f, o)| f.as_ref().unwrap_or(o)).collect();
    let next = perception.perceive(&after, &vec![false; chosen.len()])?;
    Ok((step, next))
}

pub struct Trainer {
    /// The run's configuration; its perception is [`resolve_perception`]'s.
    pub config: RunConfig,
    pub scenario: Arc<Scenario>,
    pub run_dir: PathBuf,
    pub device: Device,
    /// Record the periodic evaluation as videos every this many steps (in `run_dir/videos/`).
    pub video_every: Option<u64>,
}

impl Trainer {
    /// Trains (or with `resume`, continues the run in `run_dir`), calling `progress` each step.
    pub fn run(&self, resume: bool, mut progress: impl FnMut(Progress)) -> Result<RunSummary, RunError> {
        let config = &self.config;
        config.validate()?;
        if self.scenario.actions.continuous.is_some() {
            return Err(RunError::ContinuousActions { scenario: self.scenario.name.clone() });
        }
        let started = Instant::now();
        std::fs::create_dir_all(self.run_dir.join("checkpoints")).map_err(io(&self.run_dir))?;

        let mut perception = Perception::new(&resolve_perception(config, None)?, config.envs, &self.device)?;
        let actions = self.scenario.actions.set.len();
        let shape = perception.shape(&self.scenario);
        let mut agent =
            config.agent.build(shape, actions, config.envs, config.steps, config.seed, &self.device)?;

        let mut state = TrainerState {
            step: 0,
            updates: 0,
            episodes: 0,
            rng: ChaCha8Rng::seed_from_u64(config.seed ^ 0xA6E7),
            best_eval: None,
            next_eval: if config.eval_every > 0 { config.eval_every } else { u64::MAX },
            next_checkpoint: config.checkpoint_every,
            next_log: config.log_every,
            metrics_rows: 0,
        };
        // A resume continues from the last checkpoint; a run killed before its first one starts
        // over (from the configuration and scenario it wrote), which is the same run.
        let last = self.run_dir.join(files::LAST);
        let found = if resume { checkpoint::locate(&last) } else { None };
        if resume && found.is_none() && !self.run_dir.join(files::CONFIG).is_file() {
            return Err(RunError::NothingToResume { last });
        }
        let mut restored = None;
        if let Some(dir) = found {
            let checkpoint = Checkpoint::open(&dir)?;
            checkpoint.load_agent(agent.as_mut(), true)?;
            let stack_len = match shape {
                PerceptShape::State | PerceptShape::Vehicles { .. } => None,
                PerceptShape::Frames { stack, channels, height, width } => {
                    Some(stack * channels * height * width)
                }
            };
            let read = |file: &str| checkpoint.read(file).map_err(|e| PartError::new(file, e.message));
            let saved = LoopState::from_parts(&read, config.envs, stack_len)
                .map_err(|e| CheckpointError { path: dir.join(&e.file), message: e.message })?;
            state = checkpoint.state;
            if state.step > config.steps {
                return Err(RunError::Config(lepton_artifacts::InvalidField::new(
                    "steps",
                    format!(
                        "{} is below the step this run has reached ({}); ask for more",
                        config.steps, state.step
                    ),
                )));
            }
            restored = Some(saved);
        } else {
            let (config_path, scenario_path) =
                (self.run_dir.join(files::CONFIG), self.run_dir.join(files::SCENARIO));
            // The configuration last: its presence says the run has started, so a run killed
            // between the two writes is started afresh rather than resumed without its scenario.
            atomic::write(&scenario_path, lepton_sim::scenario::to_ron(&self.scenario).as_bytes())
                .map_err(io(&scenario_path))?;
            atomic::write(&config_path, config.to_ron().as_bytes()).map_err(io(&config_path))?;
        }
        let resumed_from = restored.as_ref().map(|_| state.step);
        let metrics_path = self.run_dir.join(files::METRICS);
        let tensorboard = self.run_dir.join(files::TENSORBOARD);
        let mut metrics = MetricsWriter::open(&metrics_path, restored.as_ref().map(|_| state.metrics_rows))
            .map_err(io(&metrics_path))?
            .with_tensorboard(&tensorboard, resumed_from)
            .map_err(io(&tensorboard))?;

        // The envs start from the run's seed, or carry on exactly where the checkpoint left them
        // (each episode under way replayed), with the percepts and frame stacks they had.
        let mut envs = if perception.needs_frames() {
            let sensors = lepton_sim::CameraSensors { depth: perception.needs_depth(), semantic: false };
            lepton_render::sensor_vec_env(self.scenario.clone(), config.envs, config.seed, sensors)?
        } else {
            VecEnv::new(self.scenario.clone(), config.envs, config.seed)
        };
        let mut explorer = Explorer::new(agent.exploration(), config.envs);
        let (mut current, mut starts, mut interval, mut recent) = match restored {
            Some(saved) => {
                explorer.restore(saved.held.clone()).map_err(|message| CheckpointError {
                    path: last.join(super::loop_state::LOOP_FILE),
                    message,
                })?;
                envs.restore(&saved.envs).map_err(|e| CheckpointError {
                    path: last.join(super::loop_state::LOOP_FILE),
                    message: e.to_string(),
                })?;
                perception.restore_stacks(&saved.current)?;
                (saved.current, saved.starts, saved.interval, saved.recent.into_iter().collect())
            }
            None => {
                let first: Vec<Observation> =
                    envs.try_reset(Reset::All(config.seed), None)?.into_iter().map(|(o, _)| o).collect();
                let starts = vec![true; config.envs];
                let current = perception.perceive(&first.iter().collect::<Vec<_>>(), &starts)?;
                (current, starts, Interval::default(), std::collections::VecDeque::new())
            }
        };
        let mut last_loss = None;
        let mut final_eval = None;
        let loop_started = Instant::now();
        // The first step at which an evaluation is recorded (a resumed run starts past its own).
        let mut next_video = match self.video_every {
            Some(every) => (state.step / every.max(1) + 1).saturating_mul(every.max(1)),
            None => u64::MAX,
        };
        let start_step = state.step;

        while state.step < config.steps {
            let epsilon = agent.epsilon(state.step);
            let chosen = explorer.act(&agent.greedy(&current), &starts, epsilon, actions, &mut state.rng);
            let (before, after) = (state.step, state.step + config.envs as u64);

            // Step, render and perceive; with `overlap_learning`, the updates that are due run on a
            // second thread meanwhile. Acting is done and the envs never touch the agent or the
            // RNG, so both threads see exactly what the serial loop would hand them.
            let (stepped, overlapped) = if config.overlap_learning {
                let (agent, rng) = (&mut agent, &mut state.rng);
                std::thread::scope(|scope| {
                    let learner = scope.spawn(move || agent.train(before, after, rng));
                    let stepped = step_and_perceive(&mut envs, &mut perception, &chosen);
                    let trained = learner.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
                    (stepped, trained)
                })
            } else {
                (step_and_perceive(&mut envs, &mut perception, &chosen), None)
            };
            let (step, mut next) = stepped?;
            for i in 0..config.envs {
                let (reward, terminated, truncated) =
                    (step.rewards[i], step.terminated[i], step.truncated[i]);
                let td = agent.observe(
                    i,
                    &Experience {
                        percept: &current[i],
                        episode_start: starts[i],
                        action: chosen[i],
                        reward,
                        terminated,
                        truncated,
                        next: &next[i],
                    },
                );
                if let Some(td) = td {
                    interval.loss_sum += (td * td) as f64;
                    interval.loss_n += 1;
                }
            }
            state.step = after;
            let trained =
                if config.overlap_learning { overlapped } else { agent.train(before, after, &mut state.rng) };
            if let Some(stats) = trained {
                interval.loss_sum += stats.loss as f64;
                interval.loss_n += 1;
                interval.q_sum += stats.mean_q as f64;
                interval.q_n += 1;
                last_loss = Some(stats.loss);
            }

            // Move on: ended episodes are logged and their envs start over from the reset frame.
            let ended: Vec<usize> = (0..config.envs).filter(|&i| step.episodes[i].is_some()).collect();
            let restarted = if ended.is_empty() {
                Vec::new()
            } else {
                let first: Vec<&Observation> = ended.iter().map(|&i| &step.obs[i]).collect();
                perception.perceive_envs(&ended, &first, &vec![true; ended.len()])?
            };
            for (&i, restart) in ended.iter().zip(restarted) {
                let episode = step.episodes[i].expect("ended envs report their episode");
                metrics
                    .write(&Row::episode(state.step, i, episode.episode_return, episode.length, episode.end))
                    .map_err(io(&metrics_path))?;
                state.episodes += 1;
                note_return(&mut recent, episode.episode_return);
                next[i] = restart;
            }
            starts = step.episodes.iter().map(Option::is_some).collect();
            current = next;

            let elapsed = loop_started.elapsed().as_secs_f64().max(1e-9);
            let steps_per_second = (state.step - start_step) as f64 / elapsed;
            log_training(
                &mut metrics,
                &metrics_path,
                &mut state,
                &mut interval,
                epsilon,
                steps_per_second,
                config.log_every,
            )?;
            let finished = state.step >= config.steps;
            if state.step >= state.next_eval || finished {
                // The agent is lent to a greedy policy with frame stacks of its own, and taken back.
                let eval_perception = perception.fresh(eval_envs(config.eval_episodes));
                let mut greedy = GreedyPolicy::new("eval".into(), agent, eval_perception, &self.scenario);
                // Videos of this evaluation when a multiple of --video-every has been passed.
                let video_dir = match self.video_every {
                    Some(every) if state.step >= next_video => {
                        next_video = (state.step / every.max(1) + 1).saturating_mul(every.max(1));
                        Some(self.run_dir.join(files::VIDEOS).join(format!("step-{:09}", state.step)))
                    }
                    _ => None,
                };
                let summary = evaluate(
                    &mut greedy,
                    &self.scenario,
                    config.eval_episodes,
                    config.eval_seed,
                    video_dir.as_deref(),
                )?;
                agent = greedy.into_agent();
                record_eval(
                    &mut metrics,
                    &self.run_dir,
                    &mut state,
                    agent.as_ref(),
                    &summary,
                    config.eval_every,
                )?;
                final_eval = Some(summary);
            }
            if state.step >= state.next_checkpoint || finished {
                while state.next_checkpoint <= state.step {
                    state.next_checkpoint += config.checkpoint_every;
                }
                state.updates = agent.updates();
                // Every row so far is on disk before the checkpoint that counts it.
                state.metrics_rows = metrics.sync().map_err(io(&metrics_path))?;
                let between_steps = LoopState {
                    envs: envs.snapshot(),
                    current: current.clone(),
                    starts: starts.clone(),
                    interval,
                    recent: recent.iter().copied().collect(),
                    held: explorer.held().to_vec(),
                };
                checkpoint::save_agent(&last, &state, agent.as_ref(), true, &between_steps.to_parts())?;
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
        write_final_eval(&self.run_dir, final_eval.as_ref())?;
        let seconds = started.elapsed().as_secs_f64();
        Ok(RunSummary {
            run_dir: self.run_dir.clone(),
            agent: agent.name(),
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
}
