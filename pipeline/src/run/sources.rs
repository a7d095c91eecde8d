//! Where training data comes from — the pipeline's scenario (`base`), the field conditions the
//! file trains on from the start (`collect.conditions`), and each one the monitor found drifted
//! and added (`field.json`) — and the collection stage that gathers it, every frame checked
//! against the anomaly rules.

use super::cache::{Ran, StageCache, StageOutput, settings};
use crate::commands::{Lepton, args};
use crate::error::{PipelineError, Result, file};
use crate::figures::{CollectionFigures, Figures};
use crate::file::{BASE, PipelineFile};
use crate::stage::StageResult;
use lepton_sim::scenario::Scenario;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// One source of training data.
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
    pub fn stage(&self, stage: &str) -> String {
        if self.name == BASE { stage.into() } else { format!("{stage}@{}", self.name) }
    }
}

/// The folder a pipeline's runs, field data and monitoring live in.
pub fn work_dir(pipeline: &PipelineFile, base: &Path) -> PathBuf {
    base.join("pipeline-runs").join(&pipeline.name)
}

/// The folder of the pipeline file, absolute (the stages' commands record paths).
pub fn base_dir(path: &Path) -> Result<PathBuf> {
    let base = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    base.canonicalize().map_err(file(base))
}

/// A scenario argument as the stages' commands take it: a shipped name as it is, a file relative
/// to the pipeline file made absolute.
pub fn scenario_argument(scenario: &str, base: &Path) -> String {
    let path = base.join(scenario);
    if path.is_file() { path.display().to_string() } else { scenario.to_string() }
}

/// A field condition resolved to a scenario file of its own.
#[derive(Debug, Clone)]
pub struct ConditionScenario {
    pub name: String,
    /// `pipeline-runs/NAME/conditions/COND.ron`, as the stages' commands take it.
    pub scenario_arg: String,
    pub scenario: Scenario,
}

/// Every field condition of the file resolved to a scenario file of its own:
/// `pipeline-runs/NAME/conditions/COND.ron` (rewritten only when it changes), validated like any
/// scenario.
pub fn condition_scenarios(pipeline: &PipelineFile, base: &Path) -> Result<Vec<ConditionScenario>> {
    let dir = work_dir(pipeline, base).join("conditions");
    let mut out = Vec::new();
    for (i, condition) in pipeline.monitor.conditions.iter().enumerate() {
        let from = condition.scenario.as_deref().unwrap_or(&pipeline.scenario);
        let mut scenario = lepton_sim::scenario::load_named(&scenario_argument(from, base))?;
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
        out.push(ConditionScenario {
            name: condition.name.clone(),
            scenario_arg: path.display().to_string(),
            scenario,
        });
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

    /// The file in `work` (none yet: no conditions).
    pub fn read(work: &Path) -> Result<FieldData> {
        crate::json_file::read_or_default(&Self::path(work), "a field data file")
    }

    pub fn write(&self, work: &Path) -> Result<()> {
        crate::json_file::write(&Self::path(work), self)
    }
}

/// The data sources of a run: the base scenario, then the field conditions the file trains on
/// from the start or `field` names (`field.json`, or the monitor's retraining), in the file's
/// order.
pub fn sources(
    pipeline: &PipelineFile,
    base: &Path,
    field: &FieldData,
    scenario_arg: &str,
    scenario_text: &str,
) -> Result<Vec<Source>> {
    let work = work_dir(pipeline, base);
    let conditions = condition_scenarios(pipeline, base)?;
    for name in &field.conditions {
        if !conditions.iter().any(|c| &c.name == name) {
            return Err(PipelineError::Refused(format!(
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
    for (i, c) in conditions.into_iter().enumerate() {
        let (frames, held_out_frames) = if pipeline.collect.conditions.contains(&c.name) {
            (pipeline.collect.frames, pipeline.collect.held_out_frames)
        } else if field.conditions.contains(&c.name) {
            (pipeline.monitor.retrain_frames, pipeline.monitor.retrain_held_out_frames)
        } else {
            continue;
        };
        out.push(Source {
            name: c.name,
            scenario_arg: c.scenario_arg,
            scenario_text: lepton_sim::scenario::to_ron(&c.scenario),
            frames,
            held_out_frames,
            seed: pipeline.seed + 10_000_000 * (i as u64 + 1),
        });
    }
    Ok(out)
}

/// Collects `frames` labelled frames of `source` from `seed` (or finds them collected), every
/// frame checked against the anomaly rules; the stage fails when more than the clean section's
/// `max_rejected_fraction` of the frames were thrown away.
pub fn collect(
    stages: &mut StageCache,
    lepton: &Lepton,
    name: &str,
    source: &Source,
    frames: u64,
    seed: u64,
    pipeline: &PipelineFile,
) -> Result<StageOutput> {
    // The base scenario is part of every key already; a condition's is part of its stages'.
    let scenario = if source.name == BASE { "" } else { source.scenario_text.as_str() };
    let (envs, clean) = (pipeline.collect.envs, &pipeline.clean);
    stages.stage(name, &settings(&(frames, envs, seed.to_string(), scenario, clean)), &[], |out| {
        let data = out.join("data");
        let data_arg = data.display().to_string();
        let (frames, envs, seed) = (frames.to_string(), envs.to_string(), seed.to_string());
        let (blank, slack, upright) =
            (clean.blank_range.to_string(), clean.teleport_slack.to_string(), clean.min_uprightness.to_string());
        let command = lepton.run(args(&[
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
        ]))?;
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
            figures: Some(Figures::Collection(CollectionFigures {
                samples: manifest.samples,
                rejected: manifest.rejected.clone(),
                rejected_fraction: fraction,
            })),
        })
    })
}
