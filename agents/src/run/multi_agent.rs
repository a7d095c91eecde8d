//! Training several cars with one shared network, top to bottom (parameter sharing, as in
//! Gupta et al. 2017 and RLlib's shared policy):
//! every car of every world is a slot of the agent → act ε-greedily for all driving cars at once
//! → step the worlds → each car's transition into the shared replay (its own n-step stream) →
//! learn → log each car's finished episodes → evaluate on fixed seeds → checkpoint.
//!
//! The cars see what the run's perception makes of their own observations: the driving state
//! (ground truth or a perception CNN), or stacked frames of their own cameras (a tile per car of
//! every world in one render pass). Steps count transitions: one per driving car per world step.

use super::checkpoint::{self, TrainerState};
use super::config::RunConfig;
use super::error::{RunError, io};
use super::eval::{EpisodeLog, EvalSummary};
use super::files;
use super::loop_state::Interval;
use super::metrics::{MetricsWriter, Row};
use super::trainer::{
    Progress, RunSummary, log_training, note_return, record_eval, resolve_perception, write_final_eval,
};
use crate::agent::Experience;
use crate::explore::Explorer;
use crate::greedy::GreedyPolicy;
use crate::policy::Policy;
use burn::prelude::Device;
use lepton_artifacts::atomic;
use lepton_perception::Perception;
use lepton_sim::scenario::Scenario;
use lepton_sim::{AgentStep, CameraSensors, MultiAgentVecEnv, Observation};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

/// Trains one network for every car of a multi-agent scenario.
pub struct MultiAgentTrainer {
    /// The run's configuration; `envs` counts worlds, each holding every car.
    pub config: RunConfig,
    pub scenario: Arc<Scenario>,
    pub run_dir: PathBuf,
    pub device: Device,
}

/// A car's episode under way: its return and length so far.
#[derive(Debug, Clone, Copy, Default)]
struct Tally {
    episode_return: f32,
    length: u32,
}

impl MultiAgentTrainer {
    pub fn run(&self, mut progress: impl FnMut(Progress)) -> Result<RunSummary, RunError> {
        let config = &self.config;
        config.validate()?;
        if self.scenario.actions.continuous.is_some() {
            return Err(RunError::ContinuousActions { scenario: self.scenario.name.clone() });
        }
        let started = Instant::now();
        std::fs::create_dir_all(self.run_dir.join("checkpoints")).map_err(io(&self.run_dir))?;
        let cars = self.scenario.agent_count();
        let slots = config.envs * cars;
        let mut perception = Perception::new(&resolve_perception(config, None)?, slots, &self.device)?;
        let actions = self.scenario.actions.set.len();
        let shape = perception.shape(&self.scenario);
        let mut agent = config.agent.build(shape, actions, slots, config.steps, config.seed, &self.device)?;
        let (config_path, scenario_path) =
            (self.run_dir.join(files::CONFIG), self.run_dir.join(files::SCENARIO));
        // The configuration last, as a single-car run writes them.
        atomic::write(&scenario_path, lepton_sim::scenario::to_ron(&self.scenario).as_bytes())
            .map_err(io(&scenario_path))?;
        atomic::write(&config_path, config.to_ron().as_bytes()).map_err(io(&config_path))?;
        let metrics_path = self.run_dir.join(files::METRICS);
        let tensorboard = self.run_dir.join(files::TENSORBOARD);
        let mut metrics = MetricsWriter::open(&metrics_path, None)
            .map_err(io(&metrics_path))?
            .with_tensorboard(&tensorboard, None)
            .map_err(io(&tensorboard))?;
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

        // World w is seeded `seed + w`, as env w of a vector env; its car c is slot w·cars + c.
        let mut envs = if perception.needs_frames() {
            let sensors = CameraSensors { depth: perception.needs_depth(), semantic: false };
            lepton_render::camera_multi_agent_vec_env(
                self.scenario.clone(),
                config.envs,
                config.seed,
                sensors,
            )?
        } else {
            MultiAgentVecEnv::new(self.scenario.clone(), config.envs, config.seed)
        };
        let first: Vec<Observation> =
            envs.reset(Some(config.seed))?.into_iter().flatten().map(|(o, _)| o).collect();
        let mut current = perception.perceive(&first.iter().collect::<Vec<_>>(), &vec![true; slots])?;
        let mut starts = vec![true; slots];
        let mut explorer = Explorer::new(agent.exploration(), slots);
        let mut tallies = vec![Tally::default(); slots];
        let mut interval = Interval::default();
        let mut recent: VecDeque<f32> = VecDeque::new();
        let (mut last_loss, mut final_eval) = (None, None);
        let loop_started = Instant::now();

        while state.step < config.steps {
            let epsilon = agent.epsilon(state.step);
            // One draw per slot, driving or not, so the RNG stream does not depend on who left.
            let chosen = explorer.act(&agent.greedy(&current), &starts, epsilon, actions, &mut state.rng);
            let before = state.step;
            let step = envs.step(&chosen)?;
            let mut stepped: Vec<(usize, &AgentStep)> = Vec::new();
            let mut fresh: Vec<(usize, &Observation)> = Vec::new();
            for (w, world) in step.worlds.iter().enumerate() {
                for (c, result) in world.agents.iter().enumerate() {
                    let Some(result) = result else { continue };
                    stepped.push((w * cars + c, result));
                    if let Some((obs, _)) = &result.respawn {
                        fresh.push((w * cars + c, obs));
                    }
                }
                // A world whose episode is over has started the next: every car anew.
                if let Some(looks) = &step.resets[w] {
                    fresh.extend(looks.iter().enumerate().map(|(c, (obs, _))| (w * cars + c, obs)));
                }
            }
            let slots_stepped: Vec<usize> = stepped.iter().map(|s| s.0).collect();
            let after_obs: Vec<&Observation> = stepped.iter().map(|s| &s.1.obs).collect();
            let next = perception.perceive_envs(&slots_stepped, &after_obs, &vec![false; stepped.len()])?;
            for (&(slot, result), next) in stepped.iter().zip(&next) {
                let td = agent.observe(
                    slot,
                    &Experience {
                        percept: &current[slot],
                        episode_start: starts[slot],
                        action: chosen[slot],
                        reward: result.reward,
                        terminated: result.terminated,
                        truncated: result.truncated,
                        next,
                    },
                );
                if let Some(td) = td {
                    interval.loss_sum += (td * td) as f64;
                    interval.loss_n += 1;
                }
                let tally = &mut tallies[slot];
                tally.episode_return += result.reward;
                tally.length += 1;
                starts[slot] = false;
                current[slot] = next.clone();
                if let Some(end) = result.info.end {
                    metrics
                        .write(&Row::episode(
                            before + stepped.len() as u64,
                            slot,
                            tally.episode_return,
                            tally.length,
                            end,
                        ))
                        .map_err(io(&metrics_path))?;
                    state.episodes += 1;
                    note_return(&mut recent, tally.episode_return);
                    *tally = Tally::default();
                }
            }
            state.step = before + stepped.len() as u64;
            if let Some(stats) = agent.train(before, state.step, &mut state.rng) {
                interval.loss_sum += stats.loss as f64;
                interval.loss_n += 1;
                interval.q_sum += stats.mean_q as f64;
                interval.q_n += 1;
                last_loss = Some(stats.loss);
            }
            if !fresh.is_empty() {
                let indices: Vec<usize> = fresh.iter().map(|f| f.0).collect();
                let observations: Vec<&Observation> = fresh.iter().map(|f| f.1).collect();
                let percepts =
                    perception.perceive_envs(&indices, &observations, &vec![true; indices.len()])?;
                for (slot, percept) in indices.into_iter().zip(percepts) {
                    current[slot] = percept;
                    starts[slot] = true;
                    tallies[slot] = Tally::default();
                }
            }

            let steps_per_second = state.step as f64 / loop_started.elapsed().as_secs_f64().max(1e-9);
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
                let mut greedy =
                    GreedyPolicy::new("eval".into(), agent, perception.fresh(cars), &self.scenario);
                let summary = evaluate_multi_agent(
                    &mut greedy,
                    &self.scenario,
                    config.eval_episodes,
                    config.eval_seed,
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
                state.metrics_rows = metrics.sync().map_err(io(&metrics_path))?;
                // The policy alone: a multi-agent run does not resume yet (no world snapshots).
                checkpoint::save_agent(&self.run_dir.join(files::LAST), &state, agent.as_ref(), false, &[])?;
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
        Ok(RunSummary {
            run_dir: self.run_dir.clone(),
            agent: agent.name(),
            steps: state.step,
            episodes: state.episodes,
            updates: agent.updates(),
            seconds: started.elapsed().as_secs_f64(),
            env_steps_per_second: state.step as f64 / loop_started.elapsed().as_secs_f64().max(1e-9),
            final_eval,
            best_eval_return: state.best_eval,
            replay_bytes_per_transition: agent.replay_bytes_per_transition(),
            resumed_from_step: None,
        })
    }
}

/// Plays `episodes` world episodes of `policy` driving every car, world k seeded `seed + k`.
/// The summary counts car episodes: `episodes × cars` returns, success and end reasons per car.
pub fn evaluate_multi_agent(
    policy: &mut dyn Policy,
    scenario: &Arc<Scenario>,
    episodes: usize,
    seed: u64,
) -> Result<EvalSummary, RunError> {
    policy.adopt(scenario)?;
    let mut world = if policy.needs_frames() {
        let sensors = CameraSensors { depth: policy.needs_depth(), semantic: false };
        lepton_render::camera_multi_agent_vec_env(scenario.clone(), 1, seed, sensors)?
    } else {
        MultiAgentVecEnv::new(scenario.clone(), 1, seed)
    };
    let cars = world.num_agents();
    let mut log = EpisodeLog::default();
    for k in 0..episodes.max(1) {
        let world_seed = seed.wrapping_add(k as u64);
        let first = world.reset(Some(world_seed))?.remove(0);
        let mut observations: Vec<Observation> = first.into_iter().map(|(o, _)| o).collect();
        let mut starts = vec![true; cars];
        let mut tallies = vec![Tally::default(); cars];
        loop {
            // Every car's latest observation, so that car c keeps frame stack c; the actions of
            // cars that left are ignored.
            let actions = policy.act(&observations.iter().collect::<Vec<_>>(), &starts)?;
            let mut step = world.step(&actions)?;
            let over = step.worlds[0].episode_over;
            for (c, result) in step.worlds.remove(0).agents.into_iter().enumerate() {
                let Some(result) = result else { continue };
                log.step(result.info.ground_truth.driving.lane_offset);
                tallies[c].episode_return += result.reward;
                tallies[c].length += 1;
                starts[c] = false;
                observations[c] = result.obs;
                if let Some(end) = result.info.end {
                    log.end(end, tallies[c].episode_return, tallies[c].length, world_seed);
                    tallies[c] = Tally::default();
                    if let Some((obs, _)) = result.respawn {
                        observations[c] = obs;
                        starts[c] = true;
                    }
                }
            }
            if over {
                break;
            }
        }
    }
    Ok(log.summary(seed, [seed, seed.saturating_add(episodes.max(1) as u64)], Vec::new()))
}
