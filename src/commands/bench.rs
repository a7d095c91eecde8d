//! `lepton bench`: throughput measurements, human-readable or `--json`.

use crate::args::{DeviceArg, at_least_one};
use crate::error::{CliError, CliResult};
use crate::scenario_arg::load_scenario;
use clap::Subcommand;
use lepton_agents::{KeepLanePolicy, Policy, RandomPolicy};
use lepton_sim::VecEnv;
use serde::Serialize;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

#[derive(Subcommand)]
pub enum BenchCommand {
    /// Environment steps per second without rendering (a vector env stepped in parallel).
    Sim(SimArgs),
    /// Camera frames per second, and environment steps per second with frames.
    Render(RenderBenchArgs),
    /// DQN learner updates per second (Nature CNN on stacked frames, or the MLP on the state),
    /// and greedy inference frames per second.
    Train(TrainBenchArgs),
    /// Perception CNN inference frames per second on random frames.
    Perception(PerceptionBenchArgs),
}

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
    #[arg(long)]
    pub json: bool,
}

#[derive(clap::Args)]
pub struct PerceptionBenchArgs {
    #[command(flatten)]
    pub device: DeviceArg,
    #[arg(long, default_value_t = 64, value_parser = at_least_one::<usize>())]
    pub batch_size: usize,
    /// Frame side (square).
    #[arg(long, default_value_t = 84)]
    pub size: u32,
    /// Channels (3 RGB, 1 grey).
    #[arg(long, default_value_t = 3)]
    pub channels: u8,
    /// Batches to time (after one warm-up batch).
    #[arg(long, default_value_t = 20, value_parser = at_least_one::<usize>())]
    pub batches: usize,
    #[arg(long)]
    pub json: bool,
}

#[derive(clap::Args)]
pub struct RenderBenchArgs {
    /// Scenario file or shipped scenario name.
    #[arg(long, default_value = "lane_keep")]
    pub scenario: String,
    /// Number of environments (camera tiles).
    #[arg(long, default_value_t = 16, value_parser = at_least_one::<usize>())]
    pub envs: usize,
    /// Frame width (default: the scenario's camera).
    #[arg(long)]
    pub width: Option<u32>,
    /// Frame height (default: the scenario's camera).
    #[arg(long)]
    pub height: Option<u32>,
    /// Grey frames instead of the scenario's format.
    #[arg(long)]
    pub grey: bool,
    /// Rendered frames (and then env steps) per environment, after a warm-up of 5.
    #[arg(long, default_value_t = 100, value_parser = at_least_one::<u64>())]
    pub steps: u64,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Print the result as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

#[derive(Serialize)]
struct RenderBench {
    scenario: String,
    adapter: String,
    envs: usize,
    width: u32,
    height: u32,
    format: &'static str,
    steps_per_env: u64,
    /// Frames rendered and read back per second, without physics.
    camera_frames_per_second: f64,
    /// Env steps per second with a frame in every observation (physics, rendering, readback).
    env_steps_per_second: f64,
}

#[derive(clap::Args)]
pub struct SimArgs {
    /// Scenario file or shipped scenario name.
    #[arg(long, default_value = "lane_keep")]
    pub scenario: String,
    /// Number of environments stepped in parallel.
    #[arg(long, default_value_t = 16, value_parser = at_least_one::<usize>())]
    pub envs: usize,
    /// Policy steps per environment (after a warm-up of 20).
    #[arg(long, default_value_t = 2000, value_parser = at_least_one::<u64>())]
    pub steps: u64,
    /// Base seed.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Drive with random actions instead of the keep-lane driver (more resets).
    #[arg(long)]
    pub random: bool,
    /// Print the result as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

#[derive(Serialize)]
struct SimBench {
    scenario: String,
    envs: usize,
    steps_per_env: u64,
    action_repeat: u32,
    threads: usize,
    policy: &'static str,
    seconds: f64,
    env_steps_per_second: f64,
    physics_steps_per_second: f64,
    episodes_ended: u64,
}

pub fn run(command: BenchCommand) -> CliResult<ExitCode> {
    match command {
        BenchCommand::Sim(args) => bench_sim(args),
        BenchCommand::Render(args) => bench_render(args),
        BenchCommand::Train(args) => bench_train(args),
        BenchCommand::Perception(args) => bench_perception(args),
    }
}

fn bench_train(args: TrainBenchArgs) -> CliResult<ExitCode> {
    use lepton_agents::dqn::{DqnConfig, DqnLearner, InputShape};
    use lepton_agents::replay::Batch;
    use rand::{Rng, SeedableRng};
    let device = args.device.device().clone();
    let input = if args.size == 0 {
        InputShape::Vector(lepton_perception::DrivingState::LEN)
    } else {
        InputShape::Frames { stack: args.stack, channels: 1, height: args.size, width: args.size }
    };
    let actions = 9;
    let config = DqnConfig { batch_size: args.batch_size, ..DqnConfig::default() };
    let mut learner = DqnLearner::new(input, actions, &config, &device, 0).map_err(CliError)?;
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
        learner.update(&batch);
    }
    let started = std::time::Instant::now();
    for _ in 0..args.updates {
        learner.update(&batch);
    }
    let updates_per_second = args.updates as f64 / started.elapsed().as_secs_f64();
    let envs = n.min(8);
    let obs = batch.obs[..envs * input.len()].to_vec();
    learner.q_values(obs.clone(), envs);
    let started = std::time::Instant::now();
    let rounds = 20;
    for _ in 0..rounds {
        learner.q_values(obs.clone(), envs);
    }
    let act_per_second = (rounds * envs) as f64 / started.elapsed().as_secs_f64();
    let env_steps_per_second = match args.env_steps {
        0 => None,
        steps => Some(time_training_run(&args, &device, steps)?),
    };
    let report = serde_json::json!({
        "device": args.device.name(),
        "env_steps_per_second": env_steps_per_second,
        "network": if args.size == 0 { "mlp".to_string() } else { format!("nature_cnn {}x{}x{}", args.stack, args.size, args.size) },
        "batch_size": n,
        "learner_updates_per_second": updates_per_second,
        "greedy_actions_per_second": act_per_second,
        "acting_envs": envs,
        "env_steps_per_second_bound_at_train_frequency": updates_per_second * config.train_frequency as f64,
    });
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report).expect("report serialises"));
    } else {
        println!(
            "{updates_per_second:.1} learner updates/s at batch {n}; {act_per_second:.0} greedy actions/s{}",
            env_steps_per_second
                .map_or(String::new(), |v| format!("; {v:.1} env steps/s training DQN from pixels"))
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Env steps/s of a short DQN-from-pixels run (rendering, acting, replay and learning at the
/// default train frequency), timed after learning has started and before the final evaluation.
fn time_training_run(args: &TrainBenchArgs, device: &burn::prelude::Device, steps: u64) -> CliResult<f64> {
    use lepton_agents::AgentConfig;
    use lepton_agents::dqn::DqnConfig;
    use lepton_agents::run::{RunConfig, Trainer};
    use lepton_perception::PerceptionKind;
    let scenario = Arc::new(load_scenario(&args.scenario)?);
    let dqn = DqnConfig {
        batch_size: args.batch_size,
        learning_starts: (steps / 4).min(1_000),
        ..DqnConfig::default()
    };
    let mut config =
        RunConfig { agent: AgentConfig::Dqn(dqn), envs: args.envs.max(1), steps, ..RunConfig::default() };
    config.perception = Some(PerceptionKind::Pixels { grey: true, resize: None, stack: args.stack });
    config.eval_every = u64::MAX / 4;
    config.checkpoint_every = u64::MAX / 4;
    config.eval_episodes = 1;
    let run_dir = std::env::temp_dir().join(format!("lepton-bench-train-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&run_dir);
    let trainer =
        Trainer { config: config.clone(), scenario, run_dir: run_dir.clone(), device: device.clone() };
    let warm = (steps / 4).min(1_000) + config.envs as u64 * 4;
    let mut marks: Vec<(u64, Instant)> = Vec::new();
    let result = trainer.run(false, |p| {
        // Progress comes after the final evaluation for the last step: leave that one out.
        if p.step >= warm && p.step < p.total {
            marks.push((p.step, Instant::now()));
        }
    });
    let _ = std::fs::remove_dir_all(&run_dir);
    result.map_err(|e| CliError(e.to_string()))?;
    match (marks.first(), marks.last()) {
        (Some(a), Some(b)) if b.0 > a.0 => Ok((b.0 - a.0) as f64 / b.1.duration_since(a.1).as_secs_f64()),
        _ => Err(CliError(format!(
            "--env-steps {steps}: too few steps to time after learning starts (try 800)"
        ))),
    }
}

fn bench_perception(args: PerceptionBenchArgs) -> CliResult<ExitCode> {
    use lepton_perception::cnn::{CnnConfig, CnnModel, ModelMeta};
    use lepton_perception::dataset::FrameShape;
    use lepton_perception::preprocess::Preprocess;
    let device = args.device.device().clone();
    if args.size < 17 {
        return Err(CliError("--size: at least 17 pixels".into()));
    }
    let frame = FrameShape { width: args.size, height: args.size, channels: args.channels };
    let cnn = CnnConfig::new(args.channels as usize, args.size as usize, args.size as usize);
    let meta = ModelMeta::new(frame, Preprocess::default(), cnn.clone(), vec![0.0; 6], vec![1.0; 6]);
    let model = CnnModel { net: cnn.init(&device), meta, device: device.clone() };
    let frames: Vec<Vec<u8>> = (0..args.batch_size)
        .map(|i| (0..frame.len()).map(|k| ((k * 31 + i * 7) % 251) as u8).collect())
        .collect();
    let refs: Vec<&[u8]> = frames.iter().map(Vec::as_slice).collect();
    model.predict(&refs);
    let started = std::time::Instant::now();
    for _ in 0..args.batches {
        model.predict(&refs);
    }
    let per_second = (args.batches * args.batch_size) as f64 / started.elapsed().as_secs_f64();
    let report = serde_json::json!({
        "device": args.device.name(),
        "frame": format!("{}x{}x{}", args.size, args.size, args.channels),
        "batch_size": args.batch_size,
        "frames_per_second": per_second,
    });
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report).expect("report serialises"));
    } else {
        println!("{per_second:.0} frames/s (preprocessing + CNN) at batch {}", args.batch_size);
    }
    Ok(ExitCode::SUCCESS)
}

fn bench_sim(args: SimArgs) -> CliResult<ExitCode> {
    let scenario = Arc::new(load_scenario(&args.scenario)?);
    let mut envs = VecEnv::new(scenario.clone(), args.envs, args.seed);
    let mut observations: Vec<_> = envs.reset(args.seed).into_iter().map(|(obs, _)| obs).collect();
    // Random actions come from one stream per env (seeded seed + i), as a training run's would.
    let mut policy: Box<dyn Policy> = if args.random {
        Box::new(RandomPolicy::new(envs.num_actions(), args.seed))
    } else {
        Box::new(KeepLanePolicy::new(&scenario, None))
    };
    let mut episodes_ended = 0;
    let mut starts = vec![true; args.envs];
    let mut step_all = |envs: &mut VecEnv, observations: &mut Vec<lepton_sim::Observation>| {
        let actions = policy.act(&observations.iter().collect::<Vec<_>>(), &starts).expect("baselines act");
        let step = envs.step(&actions);
        *observations = step.obs;
        starts = step.episodes.iter().map(Option::is_some).collect();
        step.episodes.iter().flatten().count() as u64
    };
    for _ in 0..20 {
        step_all(&mut envs, &mut observations);
    }
    let started = Instant::now();
    for _ in 0..args.steps {
        episodes_ended += step_all(&mut envs, &mut observations);
    }
    let seconds = started.elapsed().as_secs_f64();
    let env_steps = (args.envs as u64 * args.steps) as f64;
    let result = SimBench {
        scenario: scenario.name.clone(),
        envs: args.envs,
        steps_per_env: args.steps,
        action_repeat: scenario.actions.repeat,
        threads: rayon::current_num_threads(),
        policy: if args.random { "random" } else { "keep_lane" },
        seconds,
        env_steps_per_second: env_steps / seconds,
        physics_steps_per_second: env_steps * scenario.actions.repeat as f64 / seconds,
        episodes_ended,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&result).expect("serialises"));
    } else {
        println!(
            "{}: {} envs × {} steps in {:.2} s on {} threads: {:.0} env steps/s ({:.0} physics steps/s, repeat {}), {} episodes ended",
            result.scenario,
            result.envs,
            result.steps_per_env,
            result.seconds,
            result.threads,
            result.env_steps_per_second,
            result.physics_steps_per_second,
            result.action_repeat,
            result.episodes_ended
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn bench_render(args: RenderBenchArgs) -> CliResult<ExitCode> {
    let mut scenario = load_scenario(&args.scenario)?;
    for (name, value) in [("--width", args.width), ("--height", args.height)] {
        if value.is_some_and(|v| !(8..=1024).contains(&v)) {
            return Err(CliError(format!("{name} must be from 8 to 1024")));
        }
    }
    scenario.camera.width = args.width.unwrap_or(scenario.camera.width);
    scenario.camera.height = args.height.unwrap_or(scenario.camera.height);
    if args.grey {
        scenario.camera.format = lepton_sim::scenario::FrameFormat::Grey;
    }
    let scenario = Arc::new(scenario);
    let render_error = |e: lepton_sim::render::RenderError| CliError(e.to_string());
    let adapter = lepton_sim::render::probe_adapter().map_err(render_error)?;
    let mut envs = VecEnv::with_camera(scenario.clone(), args.envs, args.seed).map_err(render_error)?;
    let mut observations: Vec<_> =
        envs.try_reset(args.seed).map_err(render_error)?.into_iter().map(|(o, _)| o).collect();

    for _ in 0..5 {
        envs.render_frames().map_err(render_error)?;
    }
    let started = Instant::now();
    for _ in 0..args.steps {
        envs.render_frames().map_err(render_error)?;
    }
    let render_seconds = started.elapsed().as_secs_f64();

    let mut policy = KeepLanePolicy::new(&scenario, None);
    let starts = vec![false; args.envs];
    let started = Instant::now();
    for _ in 0..args.steps {
        let actions = policy.act(&observations.iter().collect::<Vec<_>>(), &starts).map_err(CliError)?;
        observations = envs.try_step(&actions).map_err(render_error)?.obs;
    }
    let step_seconds = started.elapsed().as_secs_f64();
    let total = (args.envs as u64 * args.steps) as f64;
    let result = RenderBench {
        scenario: scenario.name.clone(),
        adapter,
        envs: args.envs,
        width: scenario.camera.width,
        height: scenario.camera.height,
        format: if scenario.camera.format == lepton_sim::scenario::FrameFormat::Rgb { "rgb" } else { "grey" },
        steps_per_env: args.steps,
        camera_frames_per_second: total / render_seconds,
        env_steps_per_second: total / step_seconds,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&result).expect("serialises"));
    } else {
        println!(
            "{}: {} envs, {}×{} {} on {}: {:.0} camera frames/s, {:.0} env steps/s with frames",
            result.scenario,
            result.envs,
            result.width,
            result.height,
            result.format,
            result.adapter,
            result.camera_frames_per_second,
            result.env_steps_per_second
        );
    }
    Ok(ExitCode::SUCCESS)
}
