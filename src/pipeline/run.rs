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

    let collect = runner.stage("collect", &ron(&(c.frames, c.envs, &seed)), &[], |out| {
        let data = out.join("data").display().to_string();
        let (frames, envs) = (c.frames.to_string(), c.envs.to_string());
        let a = args(&[
            "perception",
            "collect",
            &scenario_arg,
            "--frames",
            &frames,
            "--envs",
            &envs,
            "--seed",
            &seed,
            "--out",
            &data,
        ]);
        Ok(Ran::done(lepton(a)?))
    })?;
    let held_out_seed = (pipeline.seed + 1_000_000).to_string();
    let held_out =
        runner.stage("held_out", &ron(&(c.held_out_frames, c.envs, &held_out_seed)), &[], |out| {
            let data = out.join("data").display().to_string();
            let (frames, envs) = (c.held_out_frames.to_string(), c.envs.to_string());
            let a = args(&[
                "perception",
                "collect",
                &scenario_arg,
                "--frames",
                &frames,
                "--envs",
                &envs,
                "--seed",
                &held_out_seed,
                "--out",
                &data,
            ]);
            Ok(Ran::done(lepton(a)?))
        })?;
    let p = &pipeline.perception;
    let perception = runner.stage("perception", &ron(&(p, &seed)), &[&collect], |out| {
        let (data, model) =
            (collect.dir.join("data").display().to_string(), out.join("model").display().to_string());
        let epochs = p.epochs.to_string();
        let mut a =
            args(&["perception", "train", &data, "--out", &model, "--epochs", &epochs, "--seed", &seed]);
        if p.grey {
            a.push("--grey".into());
        }
        Ok(Ran::done(lepton(a)?))
    })?;
    let g = &pipeline.perception_gate;
    let perception_gate = runner.stage("perception_gate", &ron(g), &[&perception, &held_out], |_| {
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
        gate(lepton_gate(a)?)
    })?;
    if !perception_gate.passed() {
        return Ok(runner.report(pipeline, None));
    }
    let agent = &pipeline.agent;
    let config = agent.config.as_ref().map(|c| base.join(c));
    let config_text = match &config {
        Some(path) => std::fs::read_to_string(path).map_err(file(path))?,
        None => String::new(),
    };
    let policy = runner.stage(
        "agent",
        &ron(&(agent.steps, agent.envs, &seed, &config_text)),
        &[&perception],
        |out| {
            let model = perception.dir.join("model").display().to_string();
            let (steps, envs) = (agent.steps.to_string(), agent.envs.to_string());
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
                &seed,
            ]);
            if let Some(config) = &config {
                a.extend(["--config".to_string(), config.display().to_string()]);
            }
            a.extend(["--out".to_string(), out.join("run").display().to_string()]);
            Ok(Ran::done(lepton(a)?))
        },
    )?;
    let ag = &pipeline.agent_gate;
    let agent_gate = runner.stage("agent_gate", &ron(ag), &[&policy], |_| {
        let (run, episodes) = (policy.dir.join("run").display().to_string(), ag.episodes.to_string());
        let a = args(&["eval", &run, "--episodes", &episodes, "--json"]);
        let (_, figures, _) = lepton_gate(a.clone())?;
        let success = figures.get("success_rate").and_then(|v| v.as_f64()).unwrap_or(0.0);
        let passed = success >= ag.min_success_rate as f64;
        Ok(Ran {
            command: a,
            result: if passed { "passed" } else { "failed" }.into(),
            figures: Some(figures),
        })
    })?;
    if !agent_gate.passed() {
        return Ok(runner.report(pipeline, None));
    }
    let registry_dir = base.join(&pipeline.registry);
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
            &runner_scenario_name(&scenario),
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

fn runner_scenario_name(scenario: &lepton_sim::scenario::Scenario) -> String {
    scenario.name.clone()
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

/// Runs `lepton ARGS` (this very program) with its progress on our stderr; an exit other than 0
/// stops the pipeline with the command named.
fn lepton(a: Vec<String>) -> CliResult<Vec<String>> {
    let exe = std::env::current_exe()
        .map_err(|e| CliError::Usage(format!("cannot find the lepton program: {e}")))?;
    let status = Command::new(&exe)
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
    let exe = std::env::current_exe()
        .map_err(|e| CliError::Usage(format!("cannot find the lepton program: {e}")))?;
    let output = Command::new(&exe)
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
        });
        Ok(StageOutput { dir, record, cached: false })
    }

    fn report(self, pipeline: &PipelineFile, promoted: Option<Promotion>) -> PipelineReport {
        let nothing_to_do = self.lines.iter().all(|l| l.how == "cached");
        PipelineReport { pipeline: pipeline.name.clone(), stages: self.lines, promoted, nothing_to_do }
    }
}
