//! Running a pipeline: each stage is one `lepton` command run as a child process, its output
//! folder named by the hash of everything it depends on — its settings, the outputs of the stages
//! before it, the scenario and this program's version — so an unchanged stage is found, not
//! redone, and a changed one reruns with everything after it. A stage writes into
//! `NAME.partial` and the folder is renamed when its `stage.json` is in place: a pipeline killed
//! at any moment reruns what was not finished, and nothing half-written is ever used.

use super::file::PipelineFile;
use super::records::StageLine;
use crate::error::{CliError, CliResult, file};
use lepton_pipeline::registry::{self, Promotion};
use lepton_pipeline::stage::{How, StageRecord, StageResult, code_version};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// A stage's place and record.
#[derive(Debug, Clone)]
pub struct StageOutput {
    pub dir: PathBuf,
    pub record: StageRecord,
    /// Whether it was found from an earlier run rather than run now.
    pub cached: bool,
}

impl StageOutput {
    fn passed(&self) -> bool {
        !self.record.result.failed()
    }
}

/// What a pipeline run did.
#[derive(Debug, Clone, Serialize)]
pub struct PipelineReport {
    pub pipeline: String,
    pub stages: Vec<StageLine>,
    /// The registry version promoted, if the gates passed.
    pub promoted: Option<Promotion>,
    /// Whether every stage was found done: nothing ran.
    pub nothing_to_do: bool,
}

/// The pipeline's own scenario among the data sources.
pub const BASE: &str = "base";

/// Where training data comes from: the pipeline's scenario (`base`), the field conditions the
/// file trains on from the start (`collect.conditions`), and each one the monitor found drifted
/// and added (`field.json`).
#[derive(Debug, Clone)]
pub struct Source {
    pub name: String,
    /// The scenario as the stages' commands take it (a shipped name or an absolute file).
    pub scenario_arg: String,
    /// Its resolved text, part of the keys of the stages that drive it.
    pub scenario_text: String,
    pub frames: u64,
    pub held_out_frames: u64,
    /// The first seed of its training frames; its held-out frames start 1,000,000 later.
    pub seed: u64,
}

impl Source {
    /// A stage's name for this source: `collect` for the base, `collect@dusk` for a condition.
    fn stage(&self, stage: &str) -> String {
        if self.name == BASE { stage.into() } else { format!("{stage}@{}", self.name) }
    }
}

/// The folder a pipeline's runs, field data and monitoring live in.
pub fn work_dir(pipeline: &PipelineFile, base: &Path) -> PathBuf {
    base.join("pipeline-runs").join(&pipeline.name)
}

/// The folder of the pipeline file, absolute (the stages' commands record paths).
pub fn base_dir(path: &Path) -> CliResult<PathBuf> {
    let base = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    base.canonicalize().map_err(file(base))
}

/// Every field condition of the file resolved to a scenario file of its own:
/// `pipeline-runs/NAME/conditions/COND.ron` (rewritten only when it changes), validated like any
/// scenario. Returns (name, scenario argument, scenario).
pub fn condition_scenarios(
    pipeline: &PipelineFile,
    base: &Path,
) -> CliResult<Vec<(String, String, lepton_sim::scenario::Scenario)>> {
    let dir = work_dir(pipeline, base).join("conditions");
    let mut out = Vec::new();
    for (i, condition) in pipeline.monitor.conditions.iter().enumerate() {
        let from = condition.scenario.as_deref().unwrap_or(&pipeline.scenario);
        let mut scenario = crate::scenario_arg::load_scenario(&scenario_argument(from, base))?;
        if let Some(change) = &condition.look {
            scenario.look = scenario.look.with_change(change);
        }
        scenario.name = format!("{}@{}", scenario.name, condition.name);
        let text = lepton_sim::scenario::to_ron(&scenario);
        let origin = format!("monitor.conditions[{i}] ({})", condition.name);
        let scenario = lepton_sim::scenario::parse_str(&text, &origin)?;
        let path = dir.join(format!("{}.ron", condition.name));
        if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
            std::fs::create_dir_all(&dir).map_err(file(&dir))?;
            lepton_artifacts::atomic::write(&path, text.as_bytes()).map_err(file(&path))?;
        }
        out.push((condition.name.clone(), path.display().to_string(), scenario));
    }
    Ok(out)
}

/// The field conditions whose data the training includes: `pipeline-runs/NAME/field.json`,
/// written by the monitor.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FieldData {
    pub conditions: Vec<String>,
}

impl FieldData {
    pub fn path(work: &Path) -> PathBuf {
        work.join("field.json")
    }

    pub fn read(work: &Path) -> CliResult<FieldData> {
        let path = Self::path(work);
        match std::fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text)
                .map_err(|e| CliError::Usage(format!("{}: not a field data file: {e}", path.display()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(FieldData::default()),
            Err(e) => Err(file(&path)(e)),
        }
    }

    pub fn write(&self, work: &Path) -> CliResult<()> {
        let path = Self::path(work);
        std::fs::create_dir_all(work).map_err(file(work))?;
        let json = serde_json::to_string_pretty(self).unwrap_or_default();
        lepton_artifacts::atomic::write(&path, json.as_bytes()).map_err(file(&path))
    }
}

/// The data sources of a run: the base scenario, then the field conditions in `field.json`, in
/// the file's order.
fn sources(
    pipeline: &PipelineFile,
    base: &Path,
    scenario_arg: &str,
    scenario_text: &str,
) -> CliResult<Vec<Source>> {
    let work = work_dir(pipeline, base);
    let field = FieldData::read(&work)?;
    let conditions = condition_scenarios(pipeline, base)?;
    for name in &field.conditions {
        if !conditions.iter().any(|(n, _, _)| n == name) {
            return Err(CliError::Usage(format!(
                "{}: names the field condition {name:?}, which the pipeline file no longer has \
                 (add it back to monitor.conditions, or take it out of this file)",
                FieldData::path(&work).display()
            )));
        }
    }
    let mut out = vec![Source {
        name: BASE.into(),
        scenario_arg: scenario_arg.into(),
        scenario_text: scenario_text.into(),
        frames: pipeline.collect.frames,
        held_out_frames: pipeline.collect.held_out_frames,
        seed: pipeline.seed,
    }];
    // Conditions the file trains on from the start get the base's frame counts; those the
    // monitor added, its retraining counts.
    for (i, (name, arg, scenario)) in conditions.into_iter().enumerate() {
        let (frames, held_out_frames) = if pipeline.collect.conditions.contains(&name) {
            (pipeline.collect.frames, pipeline.collect.held_out_frames)
        } else if field.conditions.contains(&name) {
            (pipeline.monitor.retrain_frames, pipeline.monitor.retrain_held_out_frames)
        } else {
            continue;
        };
        out.push(Source {
            name,
            scenario_arg: arg,
            scenario_text: lepton_sim::scenario::to_ron(&scenario),
            frames,
            held_out_frames,
            seed: pipeline.seed + 10_000_000 * (i as u64 + 1),
        });
    }
    Ok(out)
}

/// Runs (or finds) every stage of `pipeline`, read from `path`.
pub fn run(pipeline: &PipelineFile, path: &Path) -> CliResult<PipelineReport> {
    let base = &base_dir(path)?;
    let work = work_dir(pipeline, base);
    let scenario_arg = scenario_argument(&pipeline.scenario, base);
    let scenario = crate::scenario_arg::load_scenario(&scenario_arg)?;
    let scenario_text = lepton_sim::scenario::to_ron(&scenario);
    let sources = sources(pipeline, base, &scenario_arg, &scenario_text)?;
    let mut runner = Runner { work, scenario_text, lines: Vec::new() };

    // Labelled frames from every source for training, and held-out frames (other seeds) for the
    // perception gate.
    let mut training = Vec::new();
    for (i, s) in sources.iter().enumerate() {
        training.push((i, collect(&mut runner, &s.stage("collect"), s, s.frames, s.seed, pipeline)?));
    }
    let mut held_out = Vec::new();
    for s in &sources {
        held_out.push(collect(
            &mut runner,
            &s.stage("held_out"),
            s,
            s.held_out_frames,
            s.seed + 1_000_000,
            pipeline,
        )?);
    }
    // The data gate: a collection whose frames mostly broke the anomaly rules stops here.
    if training.iter().map(|(_, d)| d).chain(&held_out).any(|d| !d.passed()) {
        return Ok(runner.report(pipeline, None));
    }
    // Training and its gate, retried with the escalation rule while the gate says no: each retry
    // trains the CNN with twice the epochs and the next seed, on more data from the conditions
    // whose held-out frames it failed on.
    let p = &pipeline.perception;
    let g = &pipeline.perception_gate;
    let attempts = pipeline.retrain.attempts.max(1);
    // The version in production: candidates must not fall behind it on the same held-out data.
    let registry_dir = base.join(&pipeline.registry);
    let production = registry::version_dir(&registry_dir, &format!("{}@production", pipeline.name)).ok();
    let mut trained = None;
    let mut failing: Vec<usize> = Vec::new();
    for attempt in 0..attempts {
        if attempt > 0 && pipeline.retrain.more_data {
            for &i in &failing {
                let s = &sources[i];
                let name = format!("{}#{}", s.stage("collect"), attempt + 1);
                let more =
                    collect(&mut runner, &name, s, s.frames, s.seed + 100_000 * attempt as u64, pipeline)?;
                if !more.passed() {
                    return Ok(runner.report(pipeline, None));
                }
                training.push((i, more));
            }
        }
        let seed_k = (pipeline.seed + attempt as u64).to_string();
        let epochs = (p.epochs << attempt.min(10)).to_string();
        let data: Vec<&StageOutput> = training.iter().map(|(_, d)| d).collect();
        let perception = runner.stage(
            &attempt_name("perception", attempt),
            &ron(&(p, &seed_k, &epochs)),
            &data,
            |out| {
                let mut a = args(&["perception", "train"]);
                a.extend(data.iter().map(|d| d.dir.join("data").display().to_string()));
                let model = out.join("model").display().to_string();
                a.extend(args(&["--out", &model, "--epochs", &epochs, "--seed", &seed_k]));
                if p.grey {
                    a.push("--grey".into());
                }
                Ok(Ran::done(lepton(a)?))
            },
        )?;
        // Production's model made by this very stage is no rival (see the agent gate).
        let rival = production
            .clone()
            .filter(|dir| lineage_key(dir, "perception").as_deref() != Some(&perception.record.key));
        let rival_id = rival.as_ref().map(|d| d.display().to_string()).unwrap_or_default();
        let mut inputs = vec![&perception];
        inputs.extend(&held_out);
        let gate_stage = runner.stage(
            &attempt_name("perception_gate", attempt),
            &ron(&(g, &rival_id)),
            &inputs,
            |_| {
                let model = perception.dir.join("model");
                gate_over_sources(&sources, |k, _| {
                    perception_verdict(&model, &held_out[k].dir.join("data"), g, rival.as_deref())
                })
            },
        )?;
        if gate_stage.passed() {
            trained = Some((perception, gate_stage));
            break;
        }
        // The conditions it failed on (recorded in the gate's figures, so a cached gate tells too).
        let named = gate_stage.record.figures.as_ref().and_then(|f| f["failing"].as_array().cloned());
        failing = named
            .unwrap_or_default()
            .iter()
            .filter_map(|n| sources.iter().position(|s| Some(s.name.as_str()) == n.as_str()))
            .collect();
    }
    let Some((perception, perception_gate)) = trained else {
        return Ok(runner.report(pipeline, None));
    };
    let agent = &pipeline.agent;
    let config = agent.config.as_ref().map(|c| base.join(c));
    let config_text = match &config {
        Some(path) => std::fs::read_to_string(path).map_err(file(path))?,
        None => String::new(),
    };
    // The agent and its gate, retried while the gate says no: each retry trains for one more
    // time the configured steps, from the next seed.
    let ag = &pipeline.agent_gate;
    let mut passed = None;
    for attempt in 0..attempts {
        let seed_k = (pipeline.seed + attempt as u64).to_string();
        let steps = (agent.steps * (1 + attempt as u64)).to_string();
        let settings = ron(&(&steps, agent.envs, &seed_k, &config_text));
        let policy = runner.stage(&attempt_name("agent", attempt), &settings, &[&perception], |out| {
            let model = perception.dir.join("model").display().to_string();
            let envs = agent.envs.to_string();
            let mut a = args(&[
                "train",
                &scenario_arg,
                "--agent",
                "qlearning",
                "--model",
                &model,
                "--steps",
                &steps,
                "--envs",
                &envs,
                "--seed",
                &seed_k,
            ]);
            if let Some(config) = &config {
                a.extend(["--config".to_string(), config.display().to_string()]);
            }
            a.extend(["--out".to_string(), out.join("run").display().to_string()]);
            Ok(Ran::done(lepton(a)?))
        })?;
        // Production made from this very agent stage is no rival: it is compared with, and its
        // version is part of the gate's key, only when it came from other inputs.
        let rival =
            production.clone().filter(|dir| lineage_key(dir, "agent").as_deref() != Some(&policy.record.key));
        let rival_id = rival.as_ref().map(|d| d.display().to_string()).unwrap_or_default();
        let field: Vec<&str> = sources.iter().map(|s| s.scenario_text.as_str()).collect();
        let gate_settings = ron(&(ag, &rival_id, &field));
        let gate_stage =
            runner.stage(&attempt_name("agent_gate", attempt), &gate_settings, &[&policy], |_| {
                // The same held-out episodes in every source's scenario.
                gate_over_sources(&sources, |_, source| {
                    agent_verdict(&policy.dir.join("run"), source, &scenario_arg, ag, rival.as_deref())
                })
            })?;
        if gate_stage.passed() {
            passed = Some((policy, gate_stage));
            break;
        }
    }
    let Some((policy, agent_gate)) = passed else {
        return Ok(runner.report(pipeline, None));
    };
    let mut promotion = None;
    let mut stages: Vec<&StageOutput> = training.iter().map(|(_, d)| d).collect();
    stages.extend(&held_out);
    stages.extend([&perception, &perception_gate, &policy, &agent_gate]);
    let promote = runner.stage("promote", &ron(&registry_dir.display().to_string()), &stages, |out| {
        let lineage: Vec<&StageRecord> = stages.iter().map(|s| &s.record).collect();
        // Each source's training frames summarised, for the monitor's drift checks.
        let mut frame_stats = std::collections::BTreeMap::new();
        for (i, source) in sources.iter().enumerate() {
            let dirs: Vec<PathBuf> =
                training.iter().filter(|(k, _)| *k == i).map(|(_, d)| d.dir.join("data")).collect();
            let dataset = lepton_perception::dataset::Dataset::open_all(&dirs)?;
            frame_stats.insert(source.name.clone(), lepton_perception::dataset::FrameStats::of(&dataset)?);
        }
        let stats_json = serde_json::to_string_pretty(&frame_stats).unwrap_or_default();
        let promoted = registry::promote(
            &registry_dir,
            &pipeline.name,
            &perception.dir.join("model"),
            &policy.dir.join("run"),
            &lineage,
            &scenario.name,
            &[(registry::FRAME_STATS, stats_json.as_bytes())],
        )?;
        std::fs::write(
            out.join("promotion.json"),
            serde_json::to_string_pretty(&promoted).unwrap_or_default(),
        )
        .map_err(file(out))?;
        promotion = Some(promoted);
        Ok(Ran::done(vec!["promote".into()]))
    })?;
    if promote.cached {
        // Promoted by an earlier run of the same inputs: say which version that was.
        let path = promote.dir.join("promotion.json");
        promotion = std::fs::read_to_string(&path).ok().and_then(|t| serde_json::from_str(&t).ok());
    }
    Ok(runner.report(pipeline, promotion))
}

/// Collects `frames` labelled frames of `source` from `seed` (or finds them collected), every
/// frame checked against the anomaly rules; the stage fails when more than the clean section's
/// `max_rejected_fraction` of the frames were thrown away.
fn collect(
    runner: &mut Runner,
    name: &str,
    source: &Source,
    frames: u64,
    seed: u64,
    pipeline: &PipelineFile,
) -> CliResult<StageOutput> {
    // The base scenario is part of every key already; a condition's is part of its stages'.
    let scenario = if source.name == BASE { "" } else { source.scenario_text.as_str() };
    let (envs, clean) = (pipeline.collect.envs, &pipeline.clean);
    runner.stage(name, &ron(&(frames, envs, seed.to_string(), scenario, clean)), &[], |out| {
        let data = out.join("data");
        let data_arg = data.display().to_string();
        let (frames, envs, seed) = (frames.to_string(), envs.to_string(), seed.to_string());
        let (blank, slack, upright) =
            (clean.blank_range.to_string(), clean.teleport_slack.to_string(), clean.min_uprightness.to_string());
        let a = args(&[
            "perception",
            "collect",
            &source.scenario_arg,
            "--frames",
            &frames,
            "--envs",
            &envs,
            "--seed",
            &seed,
            "--blank-range",
            &blank,
            "--teleport-slack",
            &slack,
            "--min-uprightness",
            &upright,
            "--out",
            &data_arg,
        ]);
        let command = lepton(a)?;
        // The data gate: what the anomaly rules threw away, by reason.
        let manifest = lepton_perception::dataset::Manifest::load(&data)?;
        let rejected: u64 = manifest.rejected.values().sum();
        let fraction = rejected as f64 / (rejected + manifest.samples).max(1) as f64;
        let passed = fraction <= clean.max_rejected_fraction as f64;
        if !passed {
            eprintln!(
                "pipeline: {name}: {:.1}% of the frames broke the anomaly rules (at most {:.1}% allowed): {:?}",
                fraction * 100.0,
                clean.max_rejected_fraction * 100.0,
                manifest.rejected
            );
        }
        Ok(Ran {
            command,
            result: if passed { StageResult::Done } else { StageResult::Failed },
            figures: Some(serde_json::json!({
                "samples": manifest.samples,
                "rejected": manifest.rejected,
                "rejected_fraction": fraction,
            })),
        })
    })
}

/// A gate run on every data source in turn: the base source's command and figures, each other
/// source's figures and verdict under `field.NAME`, the names of those that failed under
/// `failing` (a retry collects more data there), and passed only if every source passed.
fn gate_over_sources(
    sources: &[Source],
    mut verdict: impl FnMut(usize, &Source) -> CliResult<(Vec<String>, serde_json::Value, bool)>,
) -> CliResult<Ran> {
    let mut ran: Option<Ran> = None;
    let mut failed = Vec::new();
    for (k, source) in sources.iter().enumerate() {
        let (command, figures, passed) = verdict(k, source)?;
        if !passed {
            failed.push(source.name.clone());
        }
        match ran.as_mut() {
            None => ran = Some(Ran { command, result: StageResult::Failed, figures: Some(figures) }),
            Some(first) => field_figures(first, &source.name, figures, passed),
        }
    }
    let mut ran = ran.expect("the base source is always there");
    ran.result = StageResult::gate(failed.is_empty());
    if let Some(map) = ran.figures.as_mut().and_then(|f| f.as_object_mut()) {
        map.insert("failing".into(), serde_json::json!(failed));
    }
    Ok(ran)
}

/// A field source's figures and verdict, under `field.NAME` of the base source's.
fn field_figures(first: &mut Ran, name: &str, mut figures: serde_json::Value, passed: bool) {
    if let Some(map) = figures.as_object_mut() {
        map.insert("passed".into(), serde_json::json!(passed));
    }
    if let Some(map) = first.figures.as_mut().and_then(|f| f.as_object_mut()) {
        let field = map.entry("field").or_insert_with(|| serde_json::json!({}));
        if let Some(field) = field.as_object_mut() {
            field.insert(name.into(), figures);
        }
    }
}

/// The perception gate on one held-out set: the thresholds, and once a version is in
/// production, not worse than production's lane-offset MAE on the same frames (plus the margin).
fn perception_verdict(
    model: &Path,
    data: &Path,
    g: &super::file::PerceptionGate,
    rival: Option<&Path>,
) -> CliResult<(Vec<String>, serde_json::Value, bool)> {
    let (model, data) = (model.display().to_string(), data.display().to_string());
    let mut a = args(&["perception", "eval", &model, &data, "--json"]);
    for (flag, value) in [
        ("--max-lane-mae", g.max_lane_mae),
        ("--max-heading-mae", g.max_heading_mae),
        ("--max-gap-mae", g.max_gap_mae),
        ("--min-flag-accuracy", g.min_flag_accuracy),
    ] {
        if let Some(v) = value {
            a.extend([flag.to_string(), v.to_string()]);
        }
    }
    let (command, mut figures, mut passed) = lepton_gate(a)?;
    if let Some(production) = rival {
        // Production's model on the same held-out frames, its files checked first.
        registry::verify(production)?;
        let theirs = production.join("model").display().to_string();
        let (_, them, _) = lepton_gate(args(&["perception", "eval", &theirs, &data, "--json"]))?;
        let lane_mae = |v: &serde_json::Value| v["mae"]["lane_offset"].as_f64();
        if let (Some(ours), Some(best)) = (lane_mae(&figures), lane_mae(&them)) {
            passed &= ours <= best + g.production_margin as f64;
            if let Some(map) = figures.as_object_mut() {
                map.insert("production_lane_offset_mae".into(), serde_json::json!(best));
            }
        }
    }
    Ok((command, figures, passed))
}

/// The agent gate in one source's scenario: the success rate, and optionally the mean return
/// against the scripted lane keeper's and production's on the same episodes.
fn agent_verdict(
    run: &Path,
    source: &Source,
    base_scenario: &str,
    ag: &super::file::AgentGate,
    rival: Option<&Path>,
) -> CliResult<(Vec<String>, serde_json::Value, bool)> {
    let episodes = ag.episodes.to_string();
    let eval = |what: &str| {
        let mut a = args(&["eval", what, "--episodes", &episodes, "--seed", EVAL_SEED, "--json"]);
        if source.scenario_arg != base_scenario && !what.starts_with("keep-lane:") {
            a.extend(["--scenario".into(), source.scenario_arg.clone()]);
        }
        lepton_gate(a)
    };
    let (command, mut figures, _) = eval(&run.display().to_string())?;
    let number = |v: &serde_json::Value, k: &str| v.get(k).and_then(|x| x.as_f64());
    let success = number(&figures, "success_rate").unwrap_or(0.0);
    let mut passed = success >= ag.min_success_rate as f64;
    if let Some(margin) = ag.scripted_margin {
        // The scripted lane keeper on the same episodes.
        let (_, them, _) = eval(&format!("keep-lane:{}", source.scenario_arg))?;
        if let (Some(ours), Some(theirs)) = (number(&figures, "mean_return"), number(&them, "mean_return")) {
            passed &= ours >= theirs - margin as f64;
        }
        if let Some(map) = figures.as_object_mut() {
            map.insert("scripted_mean_return".into(), them["mean_return"].clone());
            map.insert("scripted_success_rate".into(), them["success_rate"].clone());
        }
    }
    if let Some(production) = rival {
        // The same episodes for production, whose files are checked first.
        registry::verify(production)?;
        let (_, them, _) = eval(&production.join("policy").display().to_string())?;
        if let (Some(ours), Some(best)) = (number(&figures, "mean_return"), number(&them, "mean_return")) {
            passed &= ours >= best - ag.production_margin as f64;
        }
        if let Some(map) = figures.as_object_mut() {
            map.insert("production_mean_return".into(), them["mean_return"].clone());
            map.insert("production_success_rate".into(), them["success_rate"].clone());
        }
    }
    Ok((command, figures, passed))
}

/// The key of the `stage` (its last attempt) a registry version was made by, from its lineage.
fn lineage_key(version: &Path, stage: &str) -> Option<String> {
    let text = std::fs::read_to_string(version.join("lineage.json")).ok()?;
    let lineage: registry::Lineage = serde_json::from_str(&text).ok()?;
    let made_by = |s: &&StageRecord| s.stage == stage || s.stage.starts_with(&format!("{stage}#"));
    lineage.stages.iter().rev().find(made_by).map(|s| s.key.clone())
}

/// The first env seed of the agent gate's evaluations, candidate and production alike (held out
/// from training's evaluations, which start at 1,000,000).
const EVAL_SEED: &str = "2000000";

/// A stage's name in attempt `k` (the first attempt has the plain name).
fn attempt_name(stage: &str, k: u32) -> String {
    if k == 0 { stage.to_string() } else { format!("{stage}#{}", k + 1) }
}

/// A scenario argument as the stages' commands take it: a shipped name as it is, a file relative
/// to the pipeline file made absolute.
pub fn scenario_argument(scenario: &str, base: &Path) -> String {
    let path = base.join(scenario);
    if path.is_file() { path.display().to_string() } else { scenario.to_string() }
}

/// A value in the stable text form keys are made of.
fn ron<T: Serialize>(value: &T) -> String {
    ron::to_string(value).unwrap_or_default()
}

/// Owned command-line arguments.
pub fn args(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// What running a stage gave.
struct Ran {
    command: Vec<String>,
    result: StageResult,
    figures: Option<serde_json::Value>,
}

impl Ran {
    fn done(command: Vec<String>) -> Self {
        Self { command, result: StageResult::Done, figures: None }
    }
}

/// This very program: the stages run the build that runs the pipeline.
fn this_program() -> CliResult<PathBuf> {
    std::env::current_exe().map_err(|e| CliError::Usage(format!("cannot find the lepton program: {e}")))
}

/// Runs `lepton ARGS` (this very program) with its progress on our stderr; an exit other than 0
/// stops the pipeline with the command named.
pub fn lepton(a: Vec<String>) -> CliResult<Vec<String>> {
    let status = Command::new(this_program()?)
        .args(&a)
        .stdout(std::process::Stdio::null())
        .status()
        .map_err(|e| CliError::Usage(format!("cannot run lepton {}: {e}", a.join(" "))))?;
    if !status.success() {
        return Err(CliError::Usage(format!(
            "pipeline stage failed: `lepton {}` exited with {status}",
            a.join(" ")
        )));
    }
    Ok(a)
}

/// Runs a gate's `lepton ARGS --json`: its JSON, and whether it exited 0 (1: fell short).
pub fn lepton_gate(a: Vec<String>) -> CliResult<(Vec<String>, serde_json::Value, bool)> {
    let output = Command::new(this_program()?)
        .args(&a)
        .stderr(std::process::Stdio::inherit())
        .output()
        .map_err(|e| CliError::Usage(format!("cannot run lepton {}: {e}", a.join(" "))))?;
    let code = output.status.code();
    if !matches!(code, Some(0) | Some(1)) {
        return Err(CliError::Usage(format!(
            "pipeline gate failed to run: `lepton {}` exited with {}",
            a.join(" "),
            output.status
        )));
    }
    let figures = serde_json::from_slice(&output.stdout).unwrap_or(serde_json::Value::Null);
    Ok((a, figures, code == Some(0)))
}

struct Runner {
    work: PathBuf,
    scenario_text: String,
    lines: Vec<StageLine>,
}

impl Runner {
    /// Finds stage `name` with these `settings` and `inputs` done, or runs it.
    fn stage(
        &mut self,
        name: &str,
        settings: &str,
        inputs: &[&StageOutput],
        run: impl FnOnce(&Path) -> CliResult<Ran>,
    ) -> CliResult<StageOutput> {
        let mut text = format!("{name}\n{settings}\n{}\n{}\n", self.scenario_text, code_version());
        for input in inputs {
            text.push_str(&input.record.key);
            text.push('\n');
        }
        let key = format!("{:016x}", lepton_artifacts::checksum::content_hash(text.as_bytes()));
        let dir = self.work.join("stages").join(format!("{name}-{key}"));
        let record_path = dir.join("stage.json");
        if let Ok(found) = std::fs::read_to_string(&record_path)
            && let Ok(record) = serde_json::from_str::<StageRecord>(&found)
            && record.key == key
        {
            eprintln!("pipeline: {name}: cached ({})", dir.display());
            self.lines.push(StageLine {
                stage: name.into(),
                key: key.clone(),
                how: How::Cached,
                result: record.result,
                seconds: record.seconds,
                dir: dir.clone(),
                figures: record.figures.clone(),
            });
            return Ok(StageOutput { dir, record, cached: true });
        }
        eprintln!("pipeline: {name}: running");
        let partial = dir.with_extension("partial");
        if partial.exists() {
            std::fs::remove_dir_all(&partial).map_err(file(&partial))?;
        }
        std::fs::create_dir_all(&partial).map_err(file(&partial))?;
        let started = Instant::now();
        let ran = run(&partial)?;
        let record = StageRecord {
            stage: name.into(),
            key: key.clone(),
            result: ran.result,
            seconds: started.elapsed().as_secs_f64(),
            command: ran.command,
            figures: ran.figures,
        };
        let json = serde_json::to_string_pretty(&record).unwrap_or_default();
        lepton_artifacts::atomic::write(&partial.join("stage.json"), json.as_bytes())
            .map_err(file(&partial))?;
        lepton_artifacts::atomic::replace_dir(&partial, &dir).map_err(file(&dir))?;
        eprintln!("pipeline: {name}: {} in {:.1} s", record.result, record.seconds);
        self.lines.push(StageLine {
            stage: name.into(),
            key,
            how: How::Ran,
            result: record.result,
            seconds: record.seconds,
            dir: dir.clone(),
            figures: record.figures.clone(),
        });
        Ok(StageOutput { dir, record, cached: false })
    }

    fn report(self, pipeline: &PipelineFile, promoted: Option<Promotion>) -> PipelineReport {
        let nothing_to_do = self.lines.iter().all(|l| l.how == How::Cached);
        let report =
            PipelineReport { pipeline: pipeline.name.clone(), stages: self.lines, promoted, nothing_to_do };
        // The report is a convenience: failing to write it does not fail the pipeline.
        if let Err(e) = write_report(&self.work, &report, pipeline) {
            eprintln!("pipeline: {}: the report was not written: {e}", self.work.display());
        }
        report
    }
}

/// `report.md` in the pipeline's folder: every stage (ran or cached, result, time), each gate's
/// figures, the promotion, and the reward curve of the agent that was gated last.
fn write_report(work: &Path, report: &PipelineReport, pipeline: &PipelineFile) -> std::io::Result<()> {
    use std::fmt::Write as _;
    std::fs::create_dir_all(work)?;
    let mut md = String::new();
    let _ = writeln!(md, "# Pipeline `{}`\n", report.pipeline);
    let verdict = match &report.promoted {
        Some(p) => format!("**Promoted**: version {} ({}).", p.version, p.dir.display()),
        None if report.stages.iter().any(|s| s.result.failed()) => {
            "**Not promoted**: a gate said no on every attempt (or the data broke the anomaly rules); \
             production is untouched."
                .into()
        }
        None => "Not promoted.".into(),
    };
    let _ = writeln!(
        md,
        "{verdict}{}\n",
        if report.nothing_to_do { " Nothing ran: every stage was up to date." } else { "" }
    );
    let _ = writeln!(md, "| stage | how | result | seconds | key |\n| --- | --- | --- | ---: | --- |");
    for s in &report.stages {
        let _ = writeln!(md, "| {} | {} | {} | {:.1} | `{}` |", s.stage, s.how, s.result, s.seconds, s.key);
    }
    match super::plots::gates(&report.stages, pipeline, &work.join("gates.png")) {
        Ok(()) => {
            let _ =
                writeln!(md, "\n## The gates, attempt by attempt\n\n![gate figures per attempt](gates.png)");
        }
        Err(e) => eprintln!("pipeline: the gates' picture was not drawn: {e}"),
    }
    // Numbers, and the numbers one level down (the perception's MAEs and flag accuracies, the
    // rejections by reason).
    let numbers = |md: &mut String, figures: &serde_json::Value, prefix: &str| {
        for (k, v) in figures.as_object().into_iter().flatten() {
            match v.as_object() {
                Some(inner) if k == "mae" || k == "accuracy" || k == "rejected" => {
                    for (name, x) in inner.iter().filter(|(_, x)| x.is_number()) {
                        let _ = writeln!(md, "- {prefix}{k} {name}: {x}");
                    }
                }
                None if (v.is_number() || v.is_boolean())
                    && !k.ends_with("per_second")
                    && k != "batch_size" =>
                {
                    let _ = writeln!(md, "- {prefix}{k}: {v}");
                }
                _ => {}
            }
        }
    };
    // Every stage that measured something: the collections' anomaly counts, the gates' figures.
    for s in &report.stages {
        let Some(figures) = &s.figures else { continue };
        let _ = writeln!(md, "\n## {} ({})\n", s.stage, s.result);
        numbers(&mut md, figures, "");
        for (name, field) in figures["field"].as_object().into_iter().flatten() {
            let _ = writeln!(md, "\nIn the field condition `{name}`:\n");
            numbers(&mut md, field, "");
        }
    }
    let agent =
        report.stages.iter().rev().find(|s| s.stage.starts_with("agent") && !s.stage.contains("gate"));
    if let Some(curve) = agent.map(|a| a.dir.join("run").join("reward_curve.png")).filter(|p| p.is_file()) {
        std::fs::copy(&curve, work.join("reward_curve.png"))?;
        let _ = writeln!(md, "\n## The agent's training\n\n![reward curve](reward_curve.png)");
    }
    lepton_artifacts::atomic::write(&work.join("report.md"), md.as_bytes())
}
