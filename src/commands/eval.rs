//! `lepton eval`: greedy episodes of a trained run on fixed seeds.

use crate::args::{DeviceArg, MAX_EPISODES, count};
use crate::error::CliResult;
use lepton_agents::GreedyPolicy;
use lepton_agents::run::{
    EvalReport, HELD_OUT_SEED_OFFSET, eval_env_seeds, eval_envs, evaluate_multi_agent, evaluate_showing,
};
use lepton_render::sensor_pictures::SensorView;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

#[derive(clap::Args)]
pub struct EvalArgs {
    /// Run directory from `lepton train`, `registry:NAME[@CHANNEL]`, or `keep-lane:SCENARIO` for
    /// the scripted lane keeper (the baseline).
    pub run: PathBuf,
    #[arg(long, default_value_t = 20, value_parser = count::<usize>(MAX_EPISODES))]
    pub episodes: usize,
    /// First env seed (default: the run's eval_seed + 1,000,000, so that the episodes differ from
    /// those that chose the best checkpoint during training).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Use the last checkpoint instead of the best.
    #[arg(long)]
    pub last: bool,
    #[arg(long)]
    pub json: bool,
    /// Record each episode from the chase camera as an MP4 video into this folder (with
    /// videos.json listing them).
    #[arg(long)]
    pub video: Option<PathBuf>,
    /// What the videos show: the chase camera's colour, its depth (near bright, far dark) or
    /// its semantic classes (in the documented palette).
    #[arg(long, value_enum, default_value_t = VideoSensor::Camera, requires = "video")]
    pub video_sensor: VideoSensor,
    /// Drive in another scenario than the one the run trained on (a shipped name or a file):
    /// the same policy in other conditions — another look, light, traffic. Its camera and
    /// actions must be the run's.
    #[arg(long)]
    pub scenario: Option<String>,
    #[command(flatten)]
    pub device: DeviceArg,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum VideoSensor {
    Camera,
    Depth,
    Semantic,
}

impl VideoSensor {
    fn view(self) -> SensorView {
        match self {
            VideoSensor::Camera => SensorView::Camera,
            VideoSensor::Depth => SensorView::Depth,
            VideoSensor::Semantic => SensorView::Semantic,
        }
    }
}

/// Several cars' worlds are not recorded yet: `--video` is refused for them.
fn no_videos_of_several_cars<T>(video: Option<T>) -> CliResult<()> {
    match video {
        Some(_) => {
            Err(crate::error::CliError::Usage("--video: multi-agent worlds are not recorded yet".into()))
        }
        None => Ok(()),
    }
}

/// Videos go into a folder of their own: one that holds earlier videos is refused, not overwritten.
fn check_video_dir(dir: Option<&std::path::Path>) -> CliResult<()> {
    let Some(dir) = dir else { return Ok(()) };
    let holds_videos = std::fs::read_dir(dir).is_ok_and(|entries| {
        entries.filter_map(|e| e.ok()).any(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name == "videos.json" || name.ends_with(".mp4")
        })
    });
    if holds_videos {
        return Err(crate::error::CliError::Usage(format!(
            "--video {}: already holds videos; choose another folder (or move them away first)",
            dir.display()
        )));
    }
    Ok(())
}

pub fn run(args: EvalArgs) -> CliResult<ExitCode> {
    check_video_dir(args.video.as_deref())?;
    if let Some(scenario) = args.run.to_str().and_then(|s| s.strip_prefix("keep-lane:")) {
        return baseline(scenario, &args);
    }
    let mut run = crate::trained_run::open(&args.run, args.last, args.device.device())?;
    if let Some(name) = &args.scenario {
        let other = crate::scenario_arg::load_scenario(name)?;
        for (field, same) in [
            ("camera", other.camera == run.scenario.camera),
            ("actions", other.actions == run.scenario.actions),
        ] {
            if !same {
                return Err(crate::error::CliError::Usage(format!(
                    "{name}: its {field} settings differ from those {} was trained with; the policy cannot drive it",
                    args.run.display()
                )));
            }
        }
        run.scenario = other;
    }
    let seed = args.seed.unwrap_or(run.config.eval_seed.saturating_add(HELD_OUT_SEED_OFFSET));
    // The seeds whose evaluations chose checkpoints/best during training.
    // (A multi-agent evaluation plays world k from seed + k: one seed per episode.)
    let seeds = |from: u64, episodes: usize| match run.scenario.agent_count() {
        1 => eval_env_seeds(from, episodes),
        _ => [from, from.saturating_add(episodes.max(1) as u64)],
    };
    let chose_best = seeds(run.config.eval_seed, run.config.eval_episodes);
    let ours = seeds(seed, args.episodes);
    // The last checkpoint was not chosen by any evaluation: every seed is held out for it.
    let held_out = ours[1] <= chose_best[0] || chose_best[1] <= ours[0] || args.last;
    if !held_out {
        eprintln!(
            "warning: env seeds {}..{} overlap {}..{}, whose episodes chose the best checkpoint; \
             this score is not held-out",
            ours[0], ours[1], chose_best[0], chose_best[1]
        );
    }
    // `best`, `last` (or a kept `last.old`): where the agent came from, inside the run.
    let checkpoint = run.checkpoint.file_name().map_or(String::new(), |n| n.to_string_lossy().into_owned());
    let perception = run.perception.fresh(eval_envs(args.episodes));
    let mut greedy = GreedyPolicy::new(run.config.agent.name().into(), run.agent, perception, &run.scenario);
    let video = args.video.as_deref().map(|dir| (dir, args.video_sensor.view()));
    let scenario = Arc::new(run.scenario);
    let summary = if scenario.agent_count() > 1 {
        // Every car driven by the one network; each car's episode counts.
        no_videos_of_several_cars(video)?;
        evaluate_multi_agent(&mut greedy, &scenario, args.episodes, seed)?
    } else {
        evaluate_showing(&mut greedy, &scenario, args.episodes, seed, video)?
    };
    if args.json {
        let report = EvalReport { summary, checkpoint, best_chosen_on_env_seeds: chose_best, held_out };
        println!("{}", serde_json::to_string_pretty(&report).expect("summary serialises"));
    } else {
        println!(
            "{} episodes from env seeds {}..{}{}: return {:.2} ± {:.2}, success {:.0}%, collisions {}, off-road {}, |lane offset| {:.3} m",
            summary.episodes,
            ours[0],
            ours[1],
            if held_out { " (held out)" } else { "" },
            summary.mean_return,
            summary.std_return,
            summary.success_rate * 100.0,
            summary.collisions,
            summary.off_road,
            summary.mean_abs_lane_offset
        );
        if let (Some(dir), false) = (&args.video, summary.videos.is_empty()) {
            let bytes: u64 = summary.videos.iter().map(|v| v.video.bytes).sum();
            let seconds: f64 = summary.videos.iter().map(|v| v.video.seconds).sum();
            println!(
                "{} videos in {} ({:.0} s of driving, {:.1} MB; list: videos.json)",
                summary.videos.len(),
                dir.display(),
                seconds,
                bytes as f64 / 1e6
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `lepton eval keep-lane:SCENARIO`: the scripted lane keeper on the same kind of episodes, the
/// baseline a trained agent is held against (default seeds: those `lepton eval` uses for a run
/// with the default eval_seed).
fn baseline(scenario: &str, args: &EvalArgs) -> CliResult<ExitCode> {
    let scenario = Arc::new(crate::scenario_arg::load_scenario(scenario)?);
    let seed = args.seed.unwrap_or(1_000_000 + HELD_OUT_SEED_OFFSET);
    let mut policy = lepton_agents::KeepLanePolicy::new(&scenario, None);
    let video = args.video.as_deref().map(|dir| (dir, args.video_sensor.view()));
    let summary = if scenario.agent_count() > 1 {
        // The lane keeper drives every car.
        no_videos_of_several_cars(video)?;
        evaluate_multi_agent(&mut policy, &scenario, args.episodes, seed)?
    } else {
        evaluate_showing(&mut policy, &scenario, args.episodes, seed, video)?
    };
    if args.json {
        let report = EvalReport {
            summary,
            checkpoint: "keep-lane".into(),
            best_chosen_on_env_seeds: [0, 0],
            held_out: true,
        };
        println!("{}", serde_json::to_string_pretty(&report).expect("summary serialises"));
    } else {
        println!(
            "keep-lane, {} episodes from env seed {seed}: return {:.2} ± {:.2}, success {:.0}%, collisions {}, off-road {}",
            summary.episodes,
            summary.mean_return,
            summary.std_return,
            summary.success_rate * 100.0,
            summary.collisions,
            summary.off_road
        );
    }
    Ok(ExitCode::SUCCESS)
}
