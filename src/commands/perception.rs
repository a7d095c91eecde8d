//! `lepton perception collect|train|eval`: the data pipeline behind the perception CNN.

use crate::args::{DeviceArg, MAX_ENVS, MAX_FRAMES, at_least_one, count, size};
use crate::commands::bench::render::SensorArg;
use crate::error::{CliError, CliResult, file};
use crate::ron_file::read_ron;
use crate::scenario_arg::load_scenario;
use indicatif::{ProgressBar, ProgressStyle};
use lepton_perception::cnn::{self, CnnModel, TrainConfig};
use lepton_perception::dataset::{self, CollectConfig, Dataset};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Subcommand)]
pub enum PerceptionCommand {
    /// Drive the scripted driver with noise and perturbations and record labelled camera frames.
    Collect(CollectArgs),
    /// Train the perception CNN on a collected dataset.
    Train(TrainArgs),
    /// Score a trained model on a dataset (ideally one collected with other seeds).
    Eval(EvalArgs),
    /// Input drift of a dataset against training datasets: the population stability index of
    /// the frames' per-channel histograms (0: the same; above 0.25: a large shift).
    Drift(DriftArgs),
}

#[derive(clap::Args)]
pub struct DriftArgs {
    /// The training dataset(s) to compare with.
    #[arg(required = true, num_args = 1..)]
    pub reference: Vec<PathBuf>,
    /// The dataset from the field.
    #[arg(long)]
    pub field: PathBuf,
}

#[derive(clap::Args)]
pub struct CollectArgs {
    /// Scenario file or shipped scenario name.
    pub scenario: String,
    /// Accepted frames to record.
    #[arg(long, default_value_t = 20_000, value_parser = count::<u64>(MAX_FRAMES))]
    pub frames: u64,
    /// Output folder (created; must not already hold a dataset).
    #[arg(long)]
    pub out: PathBuf,
    /// Base seed (default: the scenario's). Use different seeds for training and evaluation sets.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Parallel environments (camera tiles).
    #[arg(long, default_value_t = 16, value_parser = count::<usize>(MAX_ENVS))]
    pub envs: usize,
    /// Samples per chunk file.
    #[arg(long, default_value_t = 1024, value_parser = count::<usize>(65_536))]
    pub chunk_size: usize,
    /// Keep every n-th policy step of each episode.
    #[arg(long, default_value_t = 1, value_parser = at_least_one::<u32>())]
    pub every: u32,
    /// Anomaly rule: a frame whose brightest and darkest values differ by at most this is blank.
    #[arg(long, default_value_t = 4)]
    pub blank_range: u8,
    /// Anomaly rule: movement allowed per step beyond 1.5 × speed × step time (m) before a
    /// sample is a teleport.
    #[arg(long, default_value_t = 1.0)]
    pub teleport_slack: f32,
    /// Anomaly rule: the car's uprightness (1 upright, 0.5 = 60° of tilt) below which it has
    /// flipped.
    #[arg(long, default_value_t = 0.5)]
    pub min_uprightness: f32,
    /// Also store the camera's depth and/or semantic classes beside each frame, from the same
    /// render pass (`depth,semantic`): depth input and segmentation labels for `perception train`.
    #[arg(long, value_enum, value_delimiter = ',')]
    pub sensors: Vec<crate::commands::bench::render::SensorArg>,
}

#[derive(clap::Args)]
pub struct TrainArgs {
    /// Dataset folders from `lepton perception collect` (several train as one: data from
    /// several conditions; their frames must have one shape).
    #[arg(required = true, num_args = 1..)]
    pub datasets: Vec<PathBuf>,
    /// Model folder to write (model.bpk, model.json, metrics.csv, train_config.json). Training
    /// happens in OUT.partial beside it, which is put in place in one rename when it is done; an
    /// existing OUT is refused unless --force.
    #[arg(long)]
    pub out: PathBuf,
    /// Replace the model already in --out (it stays whole until the new one is complete).
    #[arg(long)]
    pub force: bool,
    /// Training configuration (RON, fields of TrainConfig); flags below override it.
    #[arg(long)]
    pub config: Option<PathBuf>,
    #[arg(long)]
    pub epochs: Option<usize>,
    #[arg(long)]
    pub batch_size: Option<usize>,
    #[arg(long)]
    pub learning_rate: Option<f64>,
    #[arg(long)]
    pub seed: Option<u64>,
    /// Train on grey (luma) frames.
    #[arg(long)]
    pub grey: bool,
    /// Resize frames first, as WIDTHxHEIGHT (e.g. 64x64).
    #[arg(long, value_parser = size)]
    pub resize: Option<(u32, u32)>,
    /// Feed the camera's depth as an extra input channel (a dataset collected with
    /// `--sensors depth`; the model then needs the depth camera).
    #[arg(long)]
    pub depth_input: bool,
    /// Train a segmentation head on the dataset's classes (collected with `--sensors semantic`),
    /// its cross-entropy weighted by W against the driving-state loss (`segmentation_weight`).
    #[arg(long, value_name = "W")]
    pub segmentation: Option<f32>,
    #[command(flatten)]
    pub device: DeviceArg,
}

#[derive(clap::Args)]
pub struct EvalArgs {
    /// Model folder from `lepton perception train`.
    pub model: PathBuf,
    /// Dataset folder to score on.
    pub dataset: PathBuf,
    /// Print the report as JSON on stdout.
    #[arg(long)]
    pub json: bool,
    #[arg(long, default_value_t = 64, value_parser = count::<usize>(65_536))]
    pub batch_size: usize,
    #[command(flatten)]
    pub device: DeviceArg,
    /// Fail (exit 1) when the lane-offset MAE is above this (m).
    #[arg(long)]
    pub max_lane_mae: Option<f32>,
    /// Fail when the heading MAE is above this (degrees).
    #[arg(long)]
    pub max_heading_mae: Option<f32>,
    /// Fail when the own-lane gap MAE is above this (m).
    #[arg(long)]
    pub max_gap_mae: Option<f32>,
    /// Fail when any flag's accuracy is below this (0–1).
    #[arg(long)]
    pub min_flag_accuracy: Option<f32>,
}

pub fn run(command: PerceptionCommand) -> CliResult<ExitCode> {
    match command {
        PerceptionCommand::Collect(args) => collect(args),
        PerceptionCommand::Train(args) => train(args),
        PerceptionCommand::Eval(args) => eval(args),
        PerceptionCommand::Drift(args) => drift(args),
    }
}

fn bar(len: u64, template: &str) -> ProgressBar {
    ProgressBar::new(len).with_style(ProgressStyle::with_template(template).expect("valid template"))
}

fn collect(args: CollectArgs) -> CliResult<ExitCode> {
    let scenario = load_scenario(&args.scenario)?;
    let config = CollectConfig {
        frames: args.frames,
        envs: args.envs,
        seed: args.seed.unwrap_or(scenario.seed),
        chunk_size: args.chunk_size.max(1),
        every: args.every,
        thresholds: lepton_perception::dataset::anomaly::Thresholds {
            blank_range: args.blank_range,
            teleport_slack: args.teleport_slack,
            min_uprightness: args.min_uprightness,
            ..Default::default()
        },
        planes: lepton_perception::dataset::Planes {
            depth: args.sensors.contains(&SensorArg::Depth),
            semantic: args.sensors.contains(&SensorArg::Semantic),
        },
        ..CollectConfig::default()
    };
    for (flag, value) in
        [("--teleport-slack", args.teleport_slack), ("--min-uprightness", args.min_uprightness)]
    {
        if !(value.is_finite() && value >= 0.0) {
            return Err(CliError::Usage(format!("{flag}: must be a number ≥ 0 (got {value})")));
        }
    }
    let progress = bar(args.frames, "collect {bar:40} {pos}/{len} frames {per_sec} eta {eta}");
    let report = dataset::collect(&scenario, &args.out, &config, |n| progress.set_position(n))?;
    progress.finish_and_clear();
    let m = &report.manifest;
    let summary = serde_json::json!({
        "dataset": args.out,
        "scenario": m.scenario,
        "samples": m.samples,
        "episodes": m.episodes,
        "chunks": m.chunks.len(),
        "frame": m.frame,
        "planes": m.planes,
        "rejected": m.rejected,
        "label_stats": m.label_stats,
        "policy_steps": report.policy_steps,
        "seconds": report.seconds,
        "frames_per_second": m.samples as f64 / report.seconds,
    });
    println!("{}", serde_json::to_string_pretty(&summary).expect("summary serialises"));
    Ok(ExitCode::SUCCESS)
}

/// `--force` replaces a model this command wrote and nothing else: not a folder of other files,
/// and never one that holds, or lies inside, a dataset the same training reads.
fn refuse_to_replace(out: &std::path::Path, datasets: &[std::path::PathBuf]) -> CliResult<()> {
    if !out.join(cnn::saved::META_FILE).is_file() {
        return Err(CliError::Usage(format!(
            "{}: --force replaces a trained model (a folder with {}), and this is not one; choose another --out",
            out.display(),
            cnn::saved::META_FILE
        )));
    }
    let out_abs = out.canonicalize().map_err(file(out))?;
    for data in datasets {
        let data_abs = data.canonicalize().map_err(file(data))?;
        if data_abs.starts_with(&out_abs) || out_abs.starts_with(&data_abs) {
            return Err(CliError::Usage(format!(
                "--out {}: holds or lies inside {}, a dataset this training reads; choose another --out",
                out.display(),
                data.display()
            )));
        }
    }
    Ok(())
}

fn open_dataset(path: &std::path::Path) -> CliResult<Dataset> {
    Ok(Dataset::open(path)?)
}

fn train(args: TrainArgs) -> CliResult<ExitCode> {
    // Never silently over someone's model: an occupied --out needs --force.
    let occupied = args.out.exists() && std::fs::read_dir(&args.out).map_or(true, |mut d| d.next().is_some());
    if occupied && !args.force {
        let what = if args.out.join(cnn::saved::META_FILE).exists() { "a trained model" } else { "files" };
        return Err(CliError::Usage(format!(
            "{}: {what} already here; choose another --out, or pass --force to replace it",
            args.out.display()
        )));
    }
    if occupied {
        refuse_to_replace(&args.out, &args.datasets)?;
    }
    let device = args.device.device().clone();
    let dataset = Dataset::open_all(&args.datasets)?;
    let mut config = match &args.config {
        Some(path) => read_ron::<TrainConfig>(path)?,
        None => TrainConfig::default(),
    };
    if let Some(v) = args.epochs {
        config.epochs = v;
    }
    if let Some(v) = args.batch_size {
        config.batch_size = v;
    }
    if let Some(v) = args.learning_rate {
        config.learning_rate = v;
    }
    if let Some(v) = args.seed {
        config.seed = v;
    }
    config.grey |= args.grey;
    if args.resize.is_some() {
        config.resize = args.resize;
    }
    config.depth_input |= args.depth_input;
    if let Some(weight) = args.segmentation {
        config.segmentation_weight = weight;
    }
    // A field out of range is named, with the file it came from when there is one.
    config.validate().map_err(|e| match &args.config {
        Some(path) => CliError::at(path, e),
        None => e.into(),
    })?;

    // A killed training leaves only OUT.partial (cleared by the next one), never half a model.
    let mut staging = args.out.as_os_str().to_os_string();
    staging.push(".partial");
    let staging = std::path::PathBuf::from(staging);
    if staging.exists() {
        std::fs::remove_dir_all(&staging).map_err(file(&staging))?;
    }
    let progress = bar(0, "epoch {prefix} {bar:40} {pos}/{len} frames {per_sec} {msg}");
    let report = cnn::train(&dataset, &staging, &config, &device, |p| {
        progress.set_length(p.epoch_samples as u64);
        progress.set_prefix(format!("{}/{}", p.epoch, p.epochs));
        progress.set_position(p.samples as u64);
        let best = if p.best_validation_loss.is_finite() {
            format!(" best val {:.4}", p.best_validation_loss)
        } else {
            String::new()
        };
        progress.set_message(format!("loss {:.4}{best}", p.train_loss));
    })?;
    progress.finish_and_clear();
    lepton_artifacts::atomic::replace_dir(&staging, &args.out).map_err(file(&args.out))?;
    println!("{}", serde_json::to_string_pretty(&report).expect("report serialises"));
    Ok(ExitCode::SUCCESS)
}

fn eval(args: EvalArgs) -> CliResult<ExitCode> {
    let device = args.device.device().clone();
    let model_dir = lepton_pipeline::registry::resolve(&args.model, lepton_pipeline::registry::Part::Model)?;
    let model = CnnModel::load(&model_dir, &device)?;
    let dataset = open_dataset(&args.dataset)?;
    let progress = bar(dataset.len(), "eval {bar:40} {pos}/{len} frames {per_sec}");
    let report = cnn::evaluate(&model, &dataset, args.batch_size, |n| progress.set_position(n))?;
    progress.finish_and_clear();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report).expect("report serialises"));
    } else {
        println!("{} frames of {}", report.samples, args.dataset.display());
        for (name, mae) in &report.mae {
            println!("  MAE {name:<16} {mae:.4}");
        }
        println!("  MAE heading (degrees)  {:.3}", report.heading_mae_degrees);
        for (name, acc) in &report.accuracy {
            println!("  accuracy {name:<11} {:.2}%", acc * 100.0);
        }
        if let Some(segmentation) = &report.segmentation {
            println!(
                "  segmentation: pixel accuracy {:.2}%, mIoU {:.3}",
                segmentation.pixel_accuracy * 100.0,
                segmentation.miou
            );
            for (class, iou) in &segmentation.iou {
                println!("    IoU {class:<13} {iou:.3}");
            }
        }
        println!(
            "  inference {:.0} frames/s at batch {}",
            report.inference_frames_per_second, report.batch_size
        );
    }
    if report.overlapping_episodes > 0 {
        eprintln!(
            "warning: {} episodes of {} were in the model's training set; the score is not held-out",
            report.overlapping_episodes,
            args.dataset.display()
        );
    }
    let thresholds = cnn::Thresholds {
        max_lane_mae: args.max_lane_mae,
        max_heading_mae_degrees: args.max_heading_mae,
        max_gap_mae: args.max_gap_mae,
        min_flag_accuracy: args.min_flag_accuracy,
    };
    let failures = thresholds.failures(&report);
    if failures.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    for failure in failures {
        eprintln!("{}: {failure}", args.model.display());
    }
    eprintln!("{}: the model falls short; do not promote it", args.model.display());
    Ok(ExitCode::from(1))
}

fn drift(args: DriftArgs) -> CliResult<ExitCode> {
    use lepton_perception::dataset::{FrameFeatures, FrameStats};
    let field = FrameFeatures::of(&open_dataset(&args.field)?)?;
    let mut against = Vec::new();
    for reference in &args.reference {
        let drift = FrameStats::of(&open_dataset(reference)?)?.drift(&field).ok_or_else(|| {
            CliError::Usage(format!(
                "{}: its frames have other channels than {}'s",
                args.field.display(),
                reference.display()
            ))
        })?;
        against.push(
            serde_json::json!({"reference": reference, "distance": drift.distance, "feature": drift.feature}),
        );
    }
    let nearest = against.iter().filter_map(|a| a["distance"].as_f64()).fold(f64::INFINITY, f64::min);
    let report = serde_json::json!({"field": args.field, "distance": nearest, "against": against});
    println!("{}", serde_json::to_string_pretty(&report).expect("report serialises"));
    Ok(ExitCode::SUCCESS)
}
