//! `lepton bench render`: camera frames per second, and env steps per second with frames.

use super::report::BenchReport;
use crate::args::at_least_one;
use crate::error::{CliError, CliResult};
use crate::scenario_arg::load_scenario;
use lepton_agents::{KeepLanePolicy, Policy};
use lepton_sim::CameraSensors;
use lepton_sim::scenario::{FrameFormat, Scenario};
use lepton_sim::{Act, Reset};
use std::sync::Arc;
use std::time::Instant;

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
    /// The images each camera draws: `rgb` (always), `depth`, `semantic`, comma-separated. With
    /// depth or semantic, RGB alone is measured too, in the same process, for the cost ratio.
    #[arg(long, value_enum, value_delimiter = ',', default_value = "rgb")]
    pub sensors: Vec<SensorArg>,
    /// Rendered frames (and then env steps) per environment, after a warm-up of 5.
    #[arg(long, default_value_t = 100, value_parser = at_least_one::<u64>())]
    pub steps: u64,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Print the result as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SensorArg {
    Rgb,
    Depth,
    Semantic,
}

pub fn bench(args: &RenderBenchArgs) -> CliResult<BenchReport> {
    let mut scenario = load_scenario(&args.scenario)?;
    for (name, value) in [("--width", args.width), ("--height", args.height)] {
        if value.is_some_and(|v| !(8..=1024).contains(&v)) {
            return Err(CliError::Usage(format!("{name} must be from 8 to 1024")));
        }
    }
    scenario.camera.width = args.width.unwrap_or(scenario.camera.width);
    scenario.camera.height = args.height.unwrap_or(scenario.camera.height);
    if args.grey {
        scenario.camera.format = FrameFormat::Grey;
    }
    let scenario = Arc::new(scenario);
    let adapter = lepton_render::probe_adapter()?;
    let sensors = CameraSensors {
        depth: args.sensors.contains(&SensorArg::Depth),
        semantic: args.sensors.contains(&SensorArg::Semantic),
    };
    let (render_seconds, step_seconds) = time_cameras(&scenario, args, sensors)?;
    // The colour frame alone, in the same process, for what the extra images cost.
    let rgb_alone =
        if sensors.any() { Some(time_cameras(&scenario, args, CameraSensors::NONE)?) } else { None };
    let total = (args.envs as u64 * args.steps) as f64;
    let camera = &scenario.camera;
    let names: Vec<&str> = ["rgb"]
        .into_iter()
        .chain(sensors.depth.then_some("depth"))
        .chain(sensors.semantic.then_some("semantic"))
        .collect();
    let mut report = BenchReport::new("render")
        .setup("scenario", scenario.name.clone())
        .setup("adapter", adapter)
        .setup("envs", args.envs)
        .setup("width", camera.width)
        .setup("height", camera.height)
        .setup("format", if camera.format == FrameFormat::Rgb { "rgb" } else { "grey" })
        .setup("steps_per_env", args.steps)
        // Frames rendered and read back per second, without physics.
        .figure("camera_frames_per_second", total / render_seconds, "camera frames/s")
        // Env steps per second with a frame in every observation (physics, rendering, readback).
        .figure("env_steps_per_second", total / step_seconds, "env steps/s with frames");
    report = report.setup("sensors", names.join(","));
    if let Some((rgb_render, rgb_step)) = rgb_alone {
        report = report
            .figure(
                "rgb_alone_camera_frames_per_second",
                total / rgb_render,
                "camera frames/s with RGB alone",
            )
            .figure("cost_against_rgb", render_seconds / rgb_render, "× RGB alone's time per frame")
            .figure("step_cost_against_rgb", step_seconds / rgb_step, "× RGB alone's time per env step");
    }
    Ok(report)
}

/// Seconds to render `args.steps` frames of every env (no physics), then to take as many env
/// steps with frames, with the images `sensors` asks for.
fn time_cameras(
    scenario: &Arc<Scenario>,
    args: &RenderBenchArgs,
    sensors: CameraSensors,
) -> CliResult<(f64, f64)> {
    let mut envs = lepton_render::sensor_vec_env(scenario.clone(), args.envs, args.seed, sensors)?;
    let mut observations: Vec<_> =
        envs.try_reset(Reset::All(args.seed), None)?.into_iter().map(|(o, _)| o).collect();

    for _ in 0..5 {
        envs.render_frames()?;
    }
    let started = Instant::now();
    for _ in 0..args.steps {
        envs.render_frames()?;
    }
    let render_seconds = started.elapsed().as_secs_f64();

    let mut policy = KeepLanePolicy::new(scenario, None);
    let starts = vec![false; args.envs];
    let started = Instant::now();
    for _ in 0..args.steps {
        let actions = policy.act(&observations.iter().collect::<Vec<_>>(), &starts)?;
        observations = envs.try_step(Act::Discrete(&actions), None)?.obs;
    }
    Ok((render_seconds, started.elapsed().as_secs_f64()))
}
