//! `lepton bench train`: DQN learner updates per second on random batches, greedy actions per
//! second, and optionally the env steps per second of a short DQN-from-pixels training run.

use super::report::BenchReport;
use super::run;
use crate::args::{DeviceArg, KernelsArg, at_least_one};
use crate::error::{CliError, CliResult};
use crate::scenario_arg::load_scenario;
use burn::prelude::Device;
use burn::tensor::{Distribution, Tensor};
use lepton_agents::dqn::{DqnConfig, DqnLearner, InputShape, QNetwork};
use lepton_agents::replay::Batch;
use rand::{Rng, SeedableRng};
use std::sync::Arc;
use std::time::Instant;

#[derive(clap::Args)]
pub struct TrainBenchArgs {
    #[command(flatten)]
    pub device: DeviceArg,
    /// Env steps of a real DQN-from-pixels training run to time as well (0: learner only).
    #[arg(long, default_value_t = 0)]
    pub env_steps: u64,
    /// Scenario of that run.
    #[arg(long, default_value = "lane_keep")]
    pub scenario: String,
    /// Parallel envs of that run.
    #[arg(long, default_value_t = 8, value_parser = at_least_one::<usize>())]
    pub envs: usize,
    /// Learner updates to time (after two warm-up updates).
    #[arg(long, default_value_t = 20, value_parser = at_least_one::<usize>())]
    pub updates: usize,
    #[arg(long, default_value_t = 32, value_parser = at_least_one::<usize>())]
    pub batch_size: usize,
    /// Frame side (square, grey); 0 benchmarks the MLP on the 7-value state instead.
    #[arg(long, default_value_t = 84)]
    pub size: usize,
    #[arg(long, default_value_t = 4, value_parser = at_least_one::<usize>())]
    pub stack: usize,
    #[command(flatten)]
    pub kernels: KernelsArg,
    #[arg(long)]
    pub json: bool,
}

pub fn bench(args: &TrainBenchArgs) -> CliResult<BenchReport> {
    let device = args.device.device().clone();
    args.kernels.select();
    let input = if args.size == 0 {
        InputShape::Vector(lepton_perception::DrivingState::LEN)
    } else {
        InputShape::Frames { stack: args.stack, channels: 1, height: args.size, width: args.size }
    };
    let actions = 9;
    let config = DqnConfig { batch_size: args.batch_size, ..DqnConfig::default() };
    let mut learner = DqnLearner::new(input, actions, &config, &device, 0)
        .map_err(|e| CliError::Usage(format!("--size {}: {e}", args.size)))?;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
    let n = args.batch_size;
    let mut values = |len: usize| (0..len).map(|_| rng.random::<f32>()).collect::<Vec<_>>();
    let batch = Batch {
        size: n,
        obs: values(n * input.len()),
        next_obs: values(n * input.len()),
        actions: (0..n).map(|i| i % actions).collect(),
        returns: vec![1.0; n],
        discounts: vec![0.99; n],
        weights: vec![1.0; n],
        slots: (0..n).collect(),
    };
    for _ in 0..2 {
        learner.update(batch.clone());
    }
    learner.profile = Default::default();
    // Only the updates are timed: in training each batch is sampled fresh and handed over, so the
    // copy that lets this loop reuse one batch is not part of an update.
    let mut updating = std::time::Duration::ZERO;
    for _ in 0..args.updates {
        let batch = batch.clone();
        let started = Instant::now();
        learner.update(batch);
        updating += started.elapsed();
    }
    let updates_per_second = args.updates as f64 / updating.as_secs_f64();
    let envs = n.min(8);
    let obs = batch.obs[..envs * input.len()].to_vec();
    learner.q_values(obs.clone(), envs);
    let started = Instant::now();
    let rounds = 20;
    for _ in 0..rounds {
        learner.q_values(obs.clone(), envs);
    }
    let act_per_second = (rounds * envs) as f64 / started.elapsed().as_secs_f64();
    // One update: the training forward and its backward (~2 forwards) on the batch, and the
    // target network's forward (and the online one's, for Double DQN) on the next observations.
    let forward = QNetwork::forward_flops(input, &config.network, actions) as f64;
    let passes = 3.0 + 1.0 + if config.double { 1.0 } else { 0.0 };
    let update_gflop = forward * passes * n as f64 / 1e9;
    let matmul = matmul_gflop_per_second(&device);
    let env_steps_per_second = match args.env_steps {
        0 => None,
        steps => Some(time_training_run(args, &device, steps)?),
    };
    let network = if args.size == 0 {
        "mlp".to_string()
    } else {
        format!("nature_cnn {}x{}x{}", args.stack, args.size, args.size)
    };
    let mut report = BenchReport::new("train")
        .setup("device", args.device.name())
        .setup("kernels", args.kernels.name())
        .setup("network", network)
        .setup("batch_size", n)
        .setup("acting_envs", envs)
        .setup("update_gflop", update_gflop)
        .figure("learner_updates_per_second", updates_per_second, "learner updates/s")
        .figure("update_gflop_per_second", updates_per_second * update_gflop, "GFLOP/s in updates")
        .figure("matmul_gflop_per_second", matmul, "GFLOP/s in a 1024² matrix product")
        .figure("greedy_actions_per_second", act_per_second, "greedy actions/s")
        .figure(
            "env_steps_per_second_bound_at_train_frequency",
            updates_per_second * config.train_frequency as f64,
            "env steps/s bound by the learner",
        )
        .figure("env_steps_per_second", env_steps_per_second, "env steps/s training DQN from pixels");
    // Where one update's time goes (ms), phase by phase.
    for (phase, ms) in learner.profile.per_update_ms() {
        report = report.figure(format!("update_ms_{phase}"), ms, format!("ms per update in {phase}"));
    }
    Ok(report)
}

/// This device's matrix-multiply throughput: 1024 × 1024 f32 products, the reference for how
/// well the convolutions and dense layers of an update use the machine.
fn matmul_gflop_per_second(device: &Device) -> f64 {
    let n = 1024;
    let a = Tensor::<2>::random([n, n], Distribution::Uniform(-1.0, 1.0), device);
    let b = Tensor::<2>::random([n, n], Distribution::Uniform(-1.0, 1.0), device);
    let product = || a.clone().matmul(b.clone()).into_data();
    product();
    let rounds = 5;
    let started = Instant::now();
    for _ in 0..rounds {
        product();
    }
    rounds as f64 * 2.0 * (n * n * n) as f64 / started.elapsed().as_secs_f64() / 1e9
}

/// Env steps/s of a short DQN-from-pixels run (rendering, acting, replay and learning at the
/// default train frequency): `lepton bench run` with this benchmark's batch and stack.
fn time_training_run(args: &TrainBenchArgs, device: &Device, steps: u64) -> CliResult<f64> {
    let scenario = Arc::new(load_scenario(&args.scenario)?);
    let config = run::dqn_from_pixels(args.envs, steps, args.batch_size, args.stack);
    let run_dir = std::env::temp_dir().join(format!("lepton-bench-train-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&run_dir);
    let result = run::time_run(config, scenario, &run_dir, device, run::warm_up(steps));
    let _ = std::fs::remove_dir_all(&run_dir);
    result
}
