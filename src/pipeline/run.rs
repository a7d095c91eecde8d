//! Running a pipeline: each stage is one `lepton` command run as a child process, its output
//! folder named by the hash of everything it depends on — its settings, the outputs of the stages
//! before it, the scenario and this program's version — so an unchanged stage is found, not
//! redone, and a changed one reruns with everything after it. A stage writes into
//! `NAME.partial` and the folder is renamed when its `stage.json` is in place: a pipeline killed
//! at any moment reruns what was not finished, and nothing half-written is ever used.

use super::file::PipelineFile;
use super::registry::{self, Promotion};
use crate::error::{CliError, CliResult, file};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// The program version a stage's outputs depend on: a different build may give other outputs.
pub fn code_version() -> String {
    format!("{}+{}", env!("CARGO_PKG_VERSION"), option_env!("LEPTON_GIT_COMMIT").unwrap_or("unknown"))
}

/// What a finished stage left, as `stage.json` records it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageRecord {
    pub stage: String,
    /// The hash of the stage's inputs (hex), which also names its folder.
    pub key: String,
    /// `done`, or for gates `passed` / `failed`.
    pub result: String,
    pub seconds: f64,
    /// The command it ran.
    pub command: Vec<String>,
    /// What the stage measured (a gate's evaluation), when it did.
    #[serde(default)]
    pub figures: Option<serde_json::Value>,
}

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
        self.record.result != "failed"
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

#[derive(Debug, Clone, Serialize)]
pub struct StageLine {
    pub stage: String,
    pub key: String,
    /// `ran` or `cached`.
    pub how: String,
    pub result: String,
    pub seconds: f64,
    /// The stage's folder.
    #[serde(skip)]
    pub dir: PathBuf,
    /// A gate's figures.
    #[serde(skip)]
    pub figures: Option<serde_json::Value>,
}

/// Runs (or finds) every stage of `pipeline`, read from `path`.
pub fn run(pipeline: &PipelineFile, path: &Path) -> CliResult<PipelineReport> {
    let base = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    // Absolute paths: the stages' commands record them (a run's config names its model).
    let base = &base.canonicalize().map_err(file(base))?;
    let work = base.join("pipeline-runs").join(&pipeline.name);
    let scenario_arg = scenario_argument(&pipeline.scenario, base);
    let scenario = crate::scenario_arg::load_scenario(&scenario_arg)?;
    let scenario_text = lepton_sim::scenario::to_ron(&scenario);
    let mut runner = Runner { work, scenario_text, lines: Vec::new() };
    let seed = pipeline.seed.to_string();
    let c = &pipeline.collect;

    // Labelled frames for training, and held-out frames from other seeds for the perception gate.
    let mut collect = |name: &str, frames: u64, seed: &str| {
        runner.stage(name, &ron(&(frames, c.envs, seed)), &[], |out| {
            let data = out.join("data").display().to_string();
            let (frames, envs) = (frames.to_string(), c.envs.to_string());
            let a = args(&[
                "perception",
                "collect",
                &scenario_arg,
                "--frames",
                &frames,
                "--envs",
                &envs,
                "--seed",
                seed,
                "--out",
                &data,
            ]);
            Ok(Ran::done(lepton(a)?))
        })
    };
    let held_out_seed = (pipeline.seed + 1_000_000).to_string();
    let training = collect("collect", c.frames, &seed)?;
    let held_out = collect("held_out", c.held_out_frames, &held_out_seed)?;
    let collect = training;
    // Training and its gate, retried with the escalation rule while the gate says no: each retry
    // trains the CNN with twice the epochs and the next seed.
    let p = &pipeline.perception;
    let g = &pipeline.perception_gate;
    let attempts = pipeline.retrain.attempts.max(1);
    // The version in production: candidates must not fall behind it on the same held-out data.
    let registry_dir = base.join(&pipeline.registry);
    let production = registry::version_dir(&registry_dir, &format!("{}@production", pipeline.name)).ok();
    let mut trained = None;
    for attempt in 0..attempts {
        let seed_k = (pipeline.seed + attempt as u64).to_string();
        let epochs = (p.epochs << attempt.min(10)).to_string();
        let perception = runner.stage(
            &attempt_name("perception", attempt),
            &ron(&(p, &seed_k, &epochs)),
            &[&collect],
            |out| {
                let (data, model) =
                    (collect.dir.join("data").display().to_string(), out.join("model").display().to_string());
                let mut a = args(&[
                    "perception",
                    "train",
                    &data,
                    "--out",
                    &model,
                    "--epochs",
                    &epochs,
                    "--seed",
                    &seed_k,
                ]);
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
        let gate_stage = runner.stage(
            &attempt_name("perception_gate", attempt),
            &ron(&(g, &rival_id)),
            &[&perception, &held_out],
            |_| {
                let model = perception.dir.join("model").display().to_string();
                let data = held_out.dir.join("data").display().to_string();
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
                let mut ran = gate(lepton_gate(a)?)?;
                if let (Some(production), Some(figures)) = (&rival, ran.figures.as_mut()) {
                    // Production's model on the same held-out frames, its files checked first.
                    registry::verify(production)?;
                    let theirs = production.join("model").display().to_string();
                    let (_, them, _) = lepton_gate(args(&["perception", "eval", &theirs, &data, "--json"]))?;
                    let lane_mae = |v: &serde_json::Value| v["mae"]["lane_offset"].as_f64();
                    if let (Some(ours), Some(best)) = (lane_mae(figures), lane_mae(&them)) {
                        if ours > best + g.production_margin as f64 {
                            ran.result = "failed".into();
                        }
                        if let Some(map) = figures.as_object_mut() {
                            map.insert("production_lane_offset_mae".into(), serde_json::json!(best));
                        }
                    }
                }
                Ok(ran)
            },
        )?;
        if gate_stage.passed() {
            trained = Some((perception, gate_stage));
            break;
        }
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
    // The version in production: a candidate must not fall behind it on the same episodes.
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
        let gate_settings = ron(&(ag, &rival_id));
        let gate_stage =
            runner.stage(&attempt_name("agent_gate", attempt), &gate_settings, &[&policy], |_| {
                let run = policy.dir.join("run").display().to_string();
                let episodes = ag.episodes.to_string();
                let a = args(&["eval", &run, "--episodes", &episodes, "--seed", EVAL_SEED, "--json"]);
                let (_, mut figures, _) = lepton_gate(a.clone())?;
                let number = |v: &serde_json::Value, k: &str| v.get(k).and_then(|x| x.as_f64());
                let success = number(&figures, "success_rate").unwrap_or(0.0);
                let mut passed = success >= ag.min_success_rate as f64;
                if let Some(margin) = ag.scripted_margin {
                    // The scripted lane keeper on the same episodes.
                    let baseline = format!("keep-lane:{scenario_arg}");
                    let b =
                        args(&["eval", &baseline, "--episodes", &episodes, "--seed", EVAL_SEED, "--json"]);
                    let (_, them, _) = lepton_gate(b)?;
                    let (ours, theirs) = (number(&figures, "mean_return"), number(&them, "mean_return"));
                    if let (Some(ours), Some(theirs)) = (ours, theirs) {
                        passed &= ours >= theirs - margin as f64;
                    }
                    if let Some(map) = figures.as_object_mut() {
                        map.insert("scripted_mean_return".into(), them["mean_return"].clone());
                        map.insert("scripted_success_rate".into(), them["success_rate"].clone());
                    }
                }
                if let Some(production) = &rival {
                    // The same episodes for production, whose files are checked first.
                    registry::verify(production)?;
                    let theirs = production.join("policy").display().to_string();
                    let b = args(&["eval", &theirs, "--episodes", &episodes, "--seed", EVAL_SEED, "--json"]);
                    let (_, them, _) = lepton_gate(b)?;
                    let (ours, best) = (number(&figures, "mean_return"), number(&them, "mean_return"));
                    if let (Some(ours), Some(best)) = (ours, best) {
                        passed &= ours >= best - ag.production_margin as f64;
                    }
                    if let Some(map) = figures.as_object_mut() {
                        map.insert("production_mean_return".into(), them["mean_return"].clone());
                        map.insert("production_success_rate".into(), them["success_rate"].clone());
                    }
                }
                Ok(Ran {
                    command: a,
                    result: if passed { "passed" } else { "failed" }.into(),
                    figures: Some(figures),
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
    let stages = [&collect, &held_out, &perception, &perception_gate, &policy, &agent_gate];
    let promote = runner.stage("promote", &ron(&registry_dir.display().to_string()), &stages, |out| {
        let lineage: Vec<&StageRecord> = stages.iter().map(|s| &s.record).collect();
        let promoted = registry::promote(
            &registry_dir,
            &pipeline.name,
            &perception.dir.join("model"),
            &policy.dir.join("run"),
            &lineage,
            &scenario.name,
        )?;
        std::fs::write(
            out.join("promotion.json"),
            serde_json::to_string_pretty(&promoted).unwrap_or_default(),
        )
        .map_err(file(out))?;
        promotion = Some(promoted);
        Ok(Ran { command: vec!["promote".into()], result: "done".into(), figures: None })
    })?;
    if promote.cached {
        // Promoted by an earlier run of the same inputs: say which version that was.
        let path = promote.dir.join("promotion.json");
        promotion = std::fs::read_to_string(&path).ok().and_then(|t| serde_json::from_str(&t).ok());
    }
    Ok(runner.report(pipeline, promotion))
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
fn scenario_argument(scenario: &str, base: &Path) -> String {
    let path = base.join(scenario);
    if path.is_file() { path.display().to_string() } else { scenario.to_string() }
}

/// A value in the stable text form keys are made of.
fn ron<T: Serialize>(value: &T) -> String {
    ron::to_string(value).unwrap_or_default()
}

/// Owned command-line arguments.
fn args(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// What running a stage gave.
struct Ran {
    command: Vec<String>,
    result: String,
    figures: Option<serde_json::Value>,
}

impl Ran {
    fn done(command: Vec<String>) -> Self {
        Self { command, result: "done".into(), figures: None }
    }
}

/// A gate's run: its command's JSON, and whether it passed (exit 0) or fell short (exit 1).
fn gate((command, figures, passed): (Vec<String>, serde_json::Value, bool)) -> CliResult<Ran> {
    Ok(Ran { command, result: if passed { "passed" } else { "failed" }.into(), figures: Some(figures) })
}

/// This very program: the stages run the build that runs the pipeline.
fn this_program() -> CliResult<PathBuf> {
    std::env::current_exe().map_err(|e| CliError::Usage(format!("cannot find the lepton program: {e}")))
}

/// Runs `lepton ARGS` (this very program) with its progress on our stderr; an exit other than 0
/// stops the pipeline with the command named.
fn lepton(a: Vec<String>) -> CliResult<Vec<String>> {
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
fn lepton_gate(a: Vec<String>) -> CliResult<(Vec<String>, serde_json::Value, bool)> {
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
        let key = format!("{:016x}", xxhash_rust::xxh3::xxh3_64(text.as_bytes()));
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
                how: "cached".into(),
                result: record.result.clone(),
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
        lepton_sim::atomic::write(&partial.join("stage.json"), json.as_bytes()).map_err(file(&partial))?;
        lepton_sim::atomic::replace_dir(&partial, &dir).map_err(file(&dir))?;
        eprintln!("pipeline: {name}: {} in {:.1} s", record.result, record.seconds);
        self.lines.push(StageLine {
            stage: name.into(),
            key,
            how: "ran".into(),
            result: record.result.clone(),
            seconds: record.seconds,
            dir: dir.clone(),
            figures: record.figures.clone(),
        });
        Ok(StageOutput { dir, record, cached: false })
    }

    fn report(self, pipeline: &PipelineFile, promoted: Option<Promotion>) -> PipelineReport {
        let nothing_to_do = self.lines.iter().all(|l| l.how == "cached");
        let report =
            PipelineReport { pipeline: pipeline.name.clone(), stages: self.lines, promoted, nothing_to_do };
        // The report is a convenience: failing to write it does not fail the pipeline.
        if let Err(e) = write_report(&self.work, &report) {
            eprintln!("pipeline: {}: the report was not written: {e}", self.work.display());
        }
        report
    }
}

/// `report.md` in the pipeline's folder: every stage (ran or cached, result, time), each gate's
/// figures, the promotion, and the reward curve of the agent that was gated last.
fn write_report(work: &Path, report: &PipelineReport) -> std::io::Result<()> {
    use std::fmt::Write as _;
    std::fs::create_dir_all(work)?;
    let mut md = String::new();
    let _ = writeln!(md, "# Pipeline `{}`\n", report.pipeline);
    let verdict = match &report.promoted {
        Some(p) => format!("**Promoted**: version {} ({}).", p.version, p.dir.display()),
        None if report.stages.iter().any(|s| s.result == "failed") => {
            "**Not promoted**: a gate said no on every attempt; production is untouched.".into()
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
    for s in report.stages.iter().filter(|s| s.stage.contains("gate")) {
        let Some(figures) = &s.figures else { continue };
        let _ = writeln!(md, "\n## {} ({})\n", s.stage, s.result);
        // Numbers, and the numbers one level down (the perception's MAEs and flag accuracies).
        for (k, v) in figures.as_object().into_iter().flatten() {
            match v.as_object() {
                Some(inner) if k == "mae" || k == "accuracy" => {
                    for (name, x) in inner.iter().filter(|(_, x)| x.is_number()) {
                        let _ = writeln!(md, "- {k} {name}: {x}");
                    }
                }
                None if v.is_number() && !k.ends_with("per_second") && k != "batch_size" => {
                    let _ = writeln!(md, "- {k}: {v}");
                }
                _ => {}
            }
        }
    }
    let agent =
        report.stages.iter().rev().find(|s| s.stage.starts_with("agent") && !s.stage.contains("gate"));
    if let Some(curve) = agent.map(|a| a.dir.join("run").join("reward_curve.png")).filter(|p| p.is_file()) {
        std::fs::copy(&curve, work.join("reward_curve.png"))?;
        let _ = writeln!(md, "\n## The agent's training\n\n![reward curve](reward_curve.png)");
    }
    lepton_sim::atomic::write(&work.join("report.md"), md.as_bytes())
}
