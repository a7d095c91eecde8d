//! `lepton bench sim`: env steps per second without rendering, a vector env stepped in parallel.

use super::report::BenchReport;
use crate::args::at_least_one;
use crate::error::CliResult;
use crate::scenario_arg::load_scenario;
use lepton_agents::{KeepLanePolicy, Policy, RandomPolicy};
use lepton_sim::VecEnv;
use lepton_sim::scenario::Scenario;
use std::sync::Arc;
use std::time::Instant;

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
    /// Replace the scenario's NPC count (`traffic.count`), e.g. 16 cars on `intersection`.
    #[arg(long)]
    pub npcs: Option<u32>,
    /// Drive with random actions instead of the keep-lane driver (more resets).
    #[arg(long)]
    pub random: bool,
    /// Print the result as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

pub fn bench(args: &SimArgs) -> CliResult<BenchReport> {
    let mut scenario = load_scenario(&args.scenario)?;
    if let Some(count) = args.npcs {
        scenario.traffic.count = count;
        // Checked as the file would be: a count that does not fit the road is refused by field.
        scenario = lepton_sim::scenario::parse_str(
            &lepton_sim::scenario::to_ron(&scenario),
            &format!("{} with --npcs {count}", args.scenario),
        )?;
    }
    let scenario = Arc::new(scenario);
    let (seconds, episodes_ended) = drive(&scenario, args.envs, args.steps, args.seed, args.random)?;
    let env_steps = (args.envs as u64 * args.steps) as f64;
    let repeat = scenario.actions.repeat;
    Ok(BenchReport::new("sim")
        .setup("scenario", scenario.name.clone())
        .setup("envs", args.envs)
        .setup("npcs", scenario.traffic.count)
        .setup("steps_per_env", args.steps)
        .setup("action_repeat", repeat)
        .setup("threads", rayon::current_num_threads())
        .setup("policy", if args.random { "random" } else { "keep_lane" })
        .setup("seconds", seconds)
        .setup("episodes_ended", episodes_ended)
        .figure("env_steps_per_second", env_steps / seconds, "env steps/s")
        .figure("physics_steps_per_second", env_steps * repeat as f64 / seconds, "physics steps/s"))
}

/// Steps `n` envs of `scenario` for `steps` policy steps each (after 20 to warm up), driven by the
/// keep-lane driver or at random; returns the seconds the timed steps took and the episodes that
/// ended in them.
pub(super) fn drive(
    scenario: &Arc<Scenario>,
    n: usize,
    steps: u64,
    seed: u64,
    random: bool,
) -> CliResult<(f64, u64)> {
    let mut envs = VecEnv::new(scenario.clone(), n, seed);
    let mut observations: Vec<_> = envs.reset(seed).into_iter().map(|(obs, _)| obs).collect();
    // Random actions come from one stream per env (seeded seed + i), as a training run's would.
    let mut policy: Box<dyn Policy> = if random {
        Box::new(RandomPolicy::new(envs.num_actions(), seed))
    } else {
        Box::new(KeepLanePolicy::new(scenario, None))
    };
    let mut episodes_ended = 0;
    let mut starts = vec![true; n];
    let mut step_all =
        |envs: &mut VecEnv, observations: &mut Vec<lepton_sim::Observation>| -> CliResult<u64> {
            let actions = policy.act(&observations.iter().collect::<Vec<_>>(), &starts)?;
            let step = envs.step(&actions);
            *observations = step.obs;
            starts = step.episodes.iter().map(Option::is_some).collect();
            Ok(step.episodes.iter().flatten().count() as u64)
        };
    for _ in 0..20 {
        step_all(&mut envs, &mut observations)?;
    }
    let started = Instant::now();
    for _ in 0..steps {
        episodes_ended += step_all(&mut envs, &mut observations)?;
    }
    Ok((started.elapsed().as_secs_f64(), episodes_ended))
}
