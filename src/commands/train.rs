//! `lepton train`: headless training of Q-learning or DQN on a scenario, into a run directory.

use crate::args::{DeviceArg, at_least_one};
use crate::error::{CliError, CliResult, file};
use crate::ron_file::read_run_config;
use crate::scenario_arg::load_scenario;
use clap::ValueEnum;
use indicatif::{ProgressBar, ProgressStyle};
use lepton_agents::AgentConfig;
use lepton_agents::plot::{Series, plot};
use lepton_agents::run::{MultiAgentTrainer, RunConfig, Trainer, files, metrics, resolve_perception};
use lepton_perception::PerceptionKind;
use lepton_sim::scenario::Scenario;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Agent {
    Qlearning,
    Dqn,
}

impl Agent {
    fn name(self) -> &'static str {
        match self {
            Agent::Qlearning => "qlearning",
            Agent::Dqn => "dqn",
        }
    }
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum PerceptionArg {
    /// The simulator's ground truth.
    GroundTruth,
    /// A trained perception CNN (give --model).
    Cnn,
    /// Stacked grey camera frames (DQN's Nature CNN).
    Pixels,
    /// The driving state and an object list of the nearest cars and obstacles (DQN; the ego
    /// attends over it with `network.attention`). Adds the default `vehicles` sensor when the
    /// scenario has none.
    Vehicles,
}

#[derive(clap::Args)]
pub struct TrainArgs {
    /// Scenario file or shipped scenario name.
    pub scenario: String,
    #[arg(long, value_enum)]
    pub agent: Agent,
    /// Run configuration (RON, fields of RunConfig, e.g. `(envs: 8, agent: Dqn(gamma: 0.99))`;
    /// any field left out keeps its default).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Env steps in total (summed over envs).
    #[arg(long)]
    pub steps: Option<u64>,
    #[arg(long, value_parser = crate::args::count::<usize>(crate::args::MAX_ENVS))]
    pub envs: Option<usize>,
    #[arg(long)]
    pub seed: Option<u64>,
    #[command(flatten)]
    pub device: DeviceArg,
    /// Run directory (default runs/SCENARIO-AGENT).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Continue the run in --out from its last checkpoint.
    #[arg(long)]
    pub resume: bool,
    #[arg(long, value_enum)]
    pub perception: Option<PerceptionArg>,
    /// Perception model folder (from `lepton perception train`) for --perception cnn.
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Record the periodic evaluation's episodes as MP4 videos (chase camera) every N steps,
    /// into RUN/videos/step-S/.
    #[arg(long, value_parser = at_least_one::<u64>())]
    pub video_every: Option<u64>,
}

pub fn run(args: TrainArgs) -> CliResult<ExitCode> {
    let scenario = Arc::new(load_scenario(&args.scenario)?);
    let agent = args.agent.name();
    // What a multi-agent world cannot do yet is refused before anything is read or written.
    if scenario.agent_count() > 1 {
        for (asked, what) in [
            (args.resume, "--resume (a multi-agent run keeps no world snapshots yet)"),
            (args.video_every.is_some(), "--video-every (multi-agent worlds are not recorded yet)"),
        ] {
            if asked {
                return Err(CliError::Usage(format!(
                    "{}: {} cars share this world; {what} is for single-car scenarios",
                    scenario.name,
                    scenario.agent_count()
                )));
            }
        }
    }
    // Without --out, a new run gets a fresh folder (runs/NAME-AGENT, then -2, -3, …); --resume
    // continues the newest one.
    let out = match &args.out {
        Some(out) => out.clone(),
        None => default_run_dir(&format!("runs/{}-{agent}", scenario.name), args.resume),
    };
    let mut config = match (&args.config, args.resume) {
        (Some(path), _) => read_run_config(path)?,
        // A resumed run keeps the configuration it started with.
        (None, true) => read_run_config(&out.join(files::CONFIG))?,
        (None, false) => RunConfig::default(),
    };
    if config.agent.name() != agent {
        // --agent chooses the kind; a configuration that tunes the other kind is a mistake.
        if AgentConfig::default_of(config.agent.name()).as_ref() != Some(&config.agent) {
            return Err(CliError::Usage(format!(
                "--agent {agent}: the configuration sets agent: {}(...); choose one",
                if config.agent.name() == "dqn" { "Dqn" } else { "QLearning" }
            )));
        }
        config.agent = AgentConfig::default_of(agent).expect("a known agent");
    }
    if let Some(v) = args.steps {
        config.steps = v;
    }
    if let Some(v) = args.envs {
        config.envs = v;
    }
    if let Some(v) = args.seed {
        config.seed = v;
    }
    if let Some(p) = args.perception {
        config.perception = Some(match p {
            PerceptionArg::GroundTruth => PerceptionKind::GroundTruth,
            PerceptionArg::Cnn => PerceptionKind::Cnn {
                model: args
                    .model
                    .clone()
                    .ok_or_else(|| CliError::Usage("--perception cnn needs --model MODEL_DIR".into()))?,
            },
            PerceptionArg::Pixels => PerceptionKind::default_pixels(),
            PerceptionArg::Vehicles => PerceptionKind::Vehicles,
        });
    }
    // A field out of range is named, with the file it came from when there is one.
    config.validate().map_err(|e| match &args.config {
        Some(path) => CliError::at(path, e),
        None => e.into(),
    })?;
    let model = match &args.model {
        Some(m) => Some(lepton_pipeline::registry::resolve(m, lepton_pipeline::registry::Part::Model)?),
        None => None,
    };
    let multi_agent = scenario.agent_count() > 1;
    if multi_agent {
        // Several cars learn one network, by default from the driving state (fast);
        // `--perception pixels` gives each car its own camera.
        if config.perception.is_none() {
            config.perception = Some(PerceptionKind::GroundTruth);
        }
    }
    let perception = resolve_perception(&config, model.as_deref())?;
    // One writer per run directory: a second `train` into it is refused at once, naming this one.
    let _lock = lepton_artifacts::lock::FolderLock::acquire(&out)?;
    if !args.resume && out.join(files::LAST).exists() {
        return Err(CliError::Usage(format!(
            "{}: a run is already here; pass --resume to continue it or choose another --out",
            out.display()
        )));
    }
    // An object list needs its sensor: the scenario's own, or the default one (written into the
    // run's scenario.ron, so that evaluation lists the same objects).
    let scenario = match (&perception, &scenario.vehicles) {
        (PerceptionKind::Vehicles, None) => {
            Arc::new(Scenario { vehicles: Some(Default::default()), ..(*scenario).clone() })
        }
        _ => scenario,
    };
    config.perception = Some(perception);
    let scenario = if args.resume { check_resume(&out, &config, scenario)? } else { scenario };
    let trainer = Trainer {
        config: config.clone(),
        scenario,
        run_dir: out.clone(),
        device: args.device.device().clone(),
        video_every: args.video_every,
    };

    let bar = ProgressBar::new(config.steps).with_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} steps {msg}").expect("valid template"),
    );
    let show = |p: lepton_agents::run::Progress| {
        bar.set_position(p.step);
        let ret = p.recent_return.map_or(String::from("-"), |r| format!("{r:.2}"));
        let loss = p.loss.map_or(String::from("-"), |l| format!("{l:.4}"));
        bar.set_message(format!(
            "{:.0} steps/s  return {ret}  ε {:.3}  loss {loss}",
            p.steps_per_second, p.epsilon
        ));
    };
    let summary = if multi_agent {
        let Trainer { config, scenario, run_dir, device, .. } = trainer;
        MultiAgentTrainer { config, scenario, run_dir, device }.run(show)?
    } else {
        trainer.run(args.resume, show)?
    };
    bar.finish_and_clear();

    let rows = metrics::read(&out.join(files::METRICS)).map_err(file(&out))?;
    plot(&[Series { name: run_name(&out), rows }], &out.join(files::CURVE))?;
    println!("{}", serde_json::to_string_pretty(&summary).expect("summary serialises"));
    Ok(ExitCode::SUCCESS)
}

/// A resume continues the run as it was started: the run directory's configuration and scenario
/// are the truth, and a resume that asks for anything else (but more steps) is refused, naming the
/// first field that differs. Returns the run's scenario.
fn check_resume(out: &Path, asked: &RunConfig, scenario: Arc<Scenario>) -> CliResult<Arc<Scenario>> {
    let config_path = out.join(files::CONFIG);
    if !config_path.is_file() {
        return Ok(scenario); // nothing to check against: the trainer says there is nothing to resume
    }
    let stored = read_run_config(&config_path)?;
    stored.validate().map_err(|e| CliError::at(&config_path, e))?;
    let asked = RunConfig { steps: stored.steps, ..asked.clone() };
    if let Some((field, was, now)) = first_difference(&value(&stored), &value(&asked), "") {
        return Err(CliError::Usage(format!(
            "{}: this run was started with {field} = {was}, and this resume asks for {now}; a resumed \
             run keeps its configuration (only --steps may change): resume without the change, or \
             start a new run with another --out",
            config_path.display()
        )));
    }
    let scenario_path = out.join(files::SCENARIO);
    let stored_scenario = lepton_sim::scenario::load(&scenario_path)?;
    if let Some((field, was, now)) = first_difference(&value(&stored_scenario), &value(&*scenario), "") {
        return Err(CliError::Usage(format!(
            "{}: this run was trained on a scenario with {field} = {was}; the scenario given has {now}; \
             resume with the run's own scenario (the file above), or start a new run with another --out",
            scenario_path.display()
        )));
    }
    Ok(Arc::new(stored_scenario))
}

fn value<T: serde::Serialize>(v: &T) -> serde_json::Value {
    serde_json::to_value(v).expect("configurations and scenarios serialise")
}

/// The first field (as a dotted path) where `a` and `b` differ, with both values.
fn first_difference(
    a: &serde_json::Value,
    b: &serde_json::Value,
    path: &str,
) -> Option<(String, String, String)> {
    use serde_json::Value;
    let join = |key: &str| if path.is_empty() { key.to_string() } else { format!("{path}.{key}") };
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            keys.into_iter().find_map(|k| {
                let (va, vb) = (x.get(k).unwrap_or(&Value::Null), y.get(k).unwrap_or(&Value::Null));
                first_difference(va, vb, &join(k))
            })
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .find_map(|(i, (va, vb))| first_difference(va, vb, &join(&i.to_string()))),
        _ if a == b => None,
        _ => Some((
            if path.is_empty() { "(the whole)".into() } else { path.to_string() },
            a.to_string(),
            b.to_string(),
        )),
    }
}

fn default_run_dir(base: &str, resume: bool) -> PathBuf {
    let candidate = |k: usize| PathBuf::from(if k == 1 { base.to_string() } else { format!("{base}-{k}") });
    let taken = |k: usize| candidate(k).exists();
    let mut k = 1;
    while taken(k + 1) || (taken(k) && !resume) {
        k += 1;
    }
    candidate(k)
}

pub fn run_name(dir: &Path) -> String {
    dir.file_name().map_or_else(|| dir.display().to_string(), |n| n.to_string_lossy().into_owned())
}
