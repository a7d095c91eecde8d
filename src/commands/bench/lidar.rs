//! `lepton bench lidar`: rays per second and env steps per second with a lidar on every car,
//! against the same envs without one, and the scan against its definition (every beam cast
//! against every collider).

use super::report::BenchReport;
use super::sim::drive;
use crate::args::at_least_one;
use crate::error::CliResult;
use crate::scenario_arg::load_scenario;
use lepton_sim::Env;
use lepton_sim::drivers::KeepLane;
use lepton_sim::lidar::{LidarBeams, scan, scan_every_collider};
use lepton_sim::scenario::{Lidar, Scenario};
use std::sync::Arc;
use std::time::Instant;

#[derive(clap::Args)]
pub struct LidarBenchArgs {
    /// Scenario file or shipped scenario name; its own lidar, or the default one.
    #[arg(long, default_value = "highway")]
    pub scenario: String,
    /// Number of environments stepped in parallel.
    #[arg(long, default_value_t = 16, value_parser = at_least_one::<usize>())]
    pub envs: usize,
    /// Beams stacked vertically (replaces the scenario's).
    #[arg(long, value_parser = at_least_one::<u32>())]
    pub channels: Option<u32>,
    /// Rays per sweep per channel (replaces the scenario's).
    #[arg(long, value_parser = at_least_one::<u32>())]
    pub rays: Option<u32>,
    /// Policy steps per environment (after a warm-up of 20).
    #[arg(long, default_value_t = 200, value_parser = at_least_one::<u64>())]
    pub steps: u64,
    /// Base seed.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Print the result as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

pub fn bench(args: &LidarBenchArgs) -> CliResult<BenchReport> {
    let mut scenario = load_scenario(&args.scenario)?;
    let mut lidar = scenario.lidar.clone().unwrap_or_default();
    lidar.channels = args.channels.unwrap_or(lidar.channels);
    lidar.rays = args.rays.unwrap_or(lidar.rays);
    scenario.lidar = Some(lidar.clone());
    // Checked as the file would be: a sensor out of bounds is refused by field.
    let scenario = Arc::new(lepton_sim::scenario::parse_str(
        &lepton_sim::scenario::to_ron(&scenario),
        &format!("{} with its lidar", args.scenario),
    )?);
    let without = Arc::new(Scenario { lidar: None, ..(*scenario).clone() });

    let (seconds, _) = drive(&scenario, args.envs, args.steps, args.seed, false)?;
    let (plain_seconds, _) = drive(&without, args.envs, args.steps, args.seed, false)?;
    let env_steps = (args.envs as u64 * args.steps) as f64;
    let beams = (lidar.channels * lidar.rays) as f64;
    let (fast, definition) = one_thread_scans(&scenario, &lidar);

    Ok(BenchReport::new("lidar")
        .setup("scenario", scenario.name.clone())
        .setup("envs", args.envs)
        .setup("npcs", scenario.traffic.count)
        .setup("channels", lidar.channels)
        .setup("rays", lidar.rays)
        .setup("range", lidar.range)
        .setup("steps_per_env", args.steps)
        .setup("threads", rayon::current_num_threads())
        .setup("seconds", seconds)
        .figure("env_steps_per_second", env_steps / seconds, "env steps/s with the lidar")
        .figure("rays_per_second", env_steps * beams / seconds, "rays/s in the vector env")
        .figure("env_steps_per_second_without", env_steps / plain_seconds, "env steps/s without it")
        .figure("lidar_cost", plain_seconds / seconds, "× the speed without a lidar")
        .figure("scan_rays_per_second_one_thread", fast, "rays/s, one scan at a time on one thread")
        .figure(
            "definition_rays_per_second_one_thread",
            definition,
            "rays/s casting every beam at every collider",
        )
        .figure("speedup_over_definition", fast / definition, "×"))
}

/// Rays per second on one thread, scanning an env as it drives: the windowed scan, then every
/// beam against every collider. Each is timed over the same 40 world states.
fn one_thread_scans(scenario: &Arc<Scenario>, lidar: &Lidar) -> (f64, f64) {
    let beams = LidarBeams::new(lidar);
    let mut env = Env::new(scenario.clone(), 0);
    let driver = KeepLane::new(12.0, scenario.ego.vehicle.max_steer, scenario.ego.vehicle.length);
    let mut out = vec![0.0; beams.len()];
    let (mut fast, mut definition) = (0.0, 0.0);
    let mut state = env.reset(Some(0)).0.state;
    for _ in 0..40 {
        let started = Instant::now();
        scan(env.world(), &beams, 0, &mut out);
        fast += started.elapsed().as_secs_f64();
        let started = Instant::now();
        scan_every_collider(env.world(), &beams, 0, &mut out);
        definition += started.elapsed().as_secs_f64();
        let step = env.step_control(driver.control(&state.driving));
        state = if step.terminated || step.truncated { env.reset(None).0.state } else { step.obs.state };
    }
    let rays = 40.0 * beams.len() as f64;
    (rays / fast, rays / definition)
}
