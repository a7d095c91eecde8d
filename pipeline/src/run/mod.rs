//! Running a pipeline, top to bottom: collect → held-out collect → train perception →
//! perception gate → train the agent on it → agent gate → promote. Every stage is one `lepton`
//! command ([`crate::commands`]) whose output is cached by the hash of its inputs ([`cache`]);
//! the data comes from the pipeline's scenario and its field conditions ([`mod@sources`]); the gates
//! hold candidates to thresholds and to production ([`gates`]); the run ends in a report
//! ([`report`]).

pub mod cache;
pub mod gates;
pub mod report;
pub mod sources;

use crate::commands::{Lepton, args};
use crate::error::{Result, file};
use crate::figures::Figures;
use crate::file::PipelineFile;
use crate::registry;
use crate::stage::StageRecord;
use cache::{Ran, StageCache, StageOutput, settings};
use lepton_artifacts::lock::FolderLock;
use report::PipelineReport;
use sources::{FieldData, base_dir, collect, scenario_argument, sources, work_dir};
use std::path::{Path, PathBuf};

/// Runs (or finds) every stage of `pipeline`, read from `path`, with the `lepton` program given.
/// One run of a pipeline at a time: its working folder is locked, and a second run (or monitor)
/// is refused at once, naming this one.
pub fn run(pipeline: &PipelineFile, path: &Path, lepton: &Lepton) -> Result<PipelineReport> {
    let work = work_dir(pipeline, &base_dir(path)?);
    let _lock = FolderLock::acquire(&work)?;
    run_locked(pipeline, path, lepton, &FieldData::read(&work)?)
}

/// [`run`], by a caller that holds the working folder's lock, training on the base scenario and
/// the field conditions `field` names (the monitor's retraining, before `field.json` says so).
pub(crate) fn run_locked(
    pipeline: &PipelineFile,
    path: &Path,
    lepton: &Lepton,
    field: &FieldData,
) -> Result<PipelineReport> {
    let base = &base_dir(path)?;
    let work = work_dir(pipeline, base);
    let scenario_arg = scenario_argument(&pipeline.scenario, base);
    let scenario = lepton_sim::scenario::load_named(&scenario_arg)?;
    let scenario_text = lepton_sim::scenario::to_ron(&scenario);
    let sources = sources(pipeline, base, field, &scenario_arg, &scenario_text)?;
    let mut stages = StageCache::new(work, scenario_text, lepton.identity()?.to_string());

    // Labelled frames from every source for training, and held-out frames (other seeds) for the
    // perception gate.
    let mut training = Vec::new();
    for (i, s) in sources.iter().enumerate() {
        training.push((i, collect(&mut stages, lepton, &s.stage("collect"), s, s.frames, s.seed, pipeline)?));
    }
    let mut held_out = Vec::new();
    for s in &sources {
        held_out.push(collect(
            &mut stages,
            lepton,
            &s.stage("held_out"),
            s,
            s.held_out_frames,
            s.seed + 1_000_000,
            pipeline,
        )?);
    }
    // The data gate: a collection whose frames mostly broke the anomaly rules stops here.
    if training.iter().map(|(_, d)| d).chain(&held_out).any(|d| !d.passed()) {
        return Ok(stages.report(pipeline, None));
    }
    // Training and its gate, retried with the escalation rule while the gate says no: each retry
    // trains the CNN with twice the epochs and the next seed, on more data from the conditions
    // whose held-out frames it failed on.
    let p = &pipeline.perception;
    let g = &pipeline.perception_gate;
    let attempts = pipeline.retrain.attempts.max(1);
    // The version in production: candidates must not fall behind it on the same held-out data.
    let registry_dir = base.join(&pipeline.registry);
    // None only before the first promotion: a registry that cannot be read stops the run.
    let production = registry::production(&registry_dir, &pipeline.name)?;
    let mut trained = None;
    let mut failing: Vec<usize> = Vec::new();
    for attempt in 0..attempts {
        if attempt > 0 && pipeline.retrain.more_data {
            for &i in &failing {
                let s = &sources[i];
                let name = format!("{}#{}", s.stage("collect"), attempt + 1);
                let more = collect(
                    &mut stages,
                    lepton,
                    &name,
                    s,
                    s.frames,
                    s.seed + 100_000 * attempt as u64,
                    pipeline,
                )?;
                if !more.passed() {
                    return Ok(stages.report(pipeline, None));
                }
                training.push((i, more));
            }
        }
        let seed_k = (pipeline.seed + attempt as u64).to_string();
        let epochs = (p.epochs << attempt.min(10)).to_string();
        let data: Vec<&StageOutput> = training.iter().map(|(_, d)| d).collect();
        let perception = stages.stage(
            &attempt_name("perception", attempt),
            &settings(&(p, &seed_k, &epochs)),
            &data,
            |out| {
                let mut a = args(&["perception", "train"]);
                a.extend(data.iter().map(|d| d.dir.join("data").display().to_string()));
                let model = out.join("model").display().to_string();
                a.extend(args(&["--out", &model, "--epochs", &epochs, "--seed", &seed_k]));
                if p.grey {
                    a.push("--grey".into());
                }
                Ok(Ran::done(lepton.run(a)?))
            },
        )?;
        // Production's model made by this very stage is no rival (see the agent gate).
        let rival = production
            .clone()
            .filter(|dir| gates::lineage_key(dir, "perception").as_deref() != Some(&perception.record.key));
        let rival_id = rival.as_ref().map(|d| d.display().to_string()).unwrap_or_default();
        let mut inputs = vec![&perception];
        inputs.extend(&held_out);
        let gate_stage = stages.stage(
            &attempt_name("perception_gate", attempt),
            &settings(&(g, &rival_id)),
            &inputs,
            |_| {
                let model = perception.dir.join("model");
                gates::over_sources(
                    &sources,
                    |k, _| {
                        let data = held_out[k].dir.join("data");
                        gates::perception_verdict(lepton, &model, &data, g, rival.as_deref())
                    },
                    Figures::Perception,
                )
            },
        )?;
        if gate_stage.passed() {
            trained = Some((perception, gate_stage));
            break;
        }
        // The conditions it failed on (recorded in the gate's figures, so a cached gate tells too).
        let named = gate_stage.record.figures.as_ref().map_or(&[][..], |f| f.failing());
        failing = named.iter().filter_map(|n| sources.iter().position(|s| &s.name == n)).collect();
    }
    let Some((perception, perception_gate)) = trained else {
        return Ok(stages.report(pipeline, None));
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
        let agent_settings = settings(&(&steps, agent.envs, &seed_k, &config_text));
        let policy =
            stages.stage(&attempt_name("agent", attempt), &agent_settings, &[&perception], |out| {
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
                Ok(Ran::done(lepton.run(a)?))
            })?;
        // Production made from this very agent stage is no rival: it is compared with, and its
        // version is part of the gate's key, only when it came from other inputs.
        let rival = production
            .clone()
            .filter(|dir| gates::lineage_key(dir, "agent").as_deref() != Some(&policy.record.key));
        let rival_id = rival.as_ref().map(|d| d.display().to_string()).unwrap_or_default();
        let field: Vec<&str> = sources.iter().map(|s| s.scenario_text.as_str()).collect();
        let gate_settings = settings(&(ag, &rival_id, &field));
        let gate_stage =
            stages.stage(&attempt_name("agent_gate", attempt), &gate_settings, &[&policy], |_| {
                // The same held-out episodes in every source's scenario.
                gates::over_sources(
                    &sources,
                    |_, source| {
                        let run = policy.dir.join("run");
                        gates::agent_verdict(lepton, &run, source, &scenario_arg, ag, rival.as_deref())
                    },
                    Figures::Agent,
                )
            })?;
        if gate_stage.passed() {
            passed = Some((policy, gate_stage));
            break;
        }
    }
    let Some((policy, agent_gate)) = passed else {
        return Ok(stages.report(pipeline, None));
    };
    let mut promotion = None;
    let mut made: Vec<&StageOutput> = training.iter().map(|(_, d)| d).collect();
    made.extend(&held_out);
    made.extend([&perception, &perception_gate, &policy, &agent_gate]);
    // Found done only while the version it promoted is still in the registry, whole: a deleted
    // registry gets the candidate promoted again.
    let still_there = |dir: &Path| {
        let promoted = std::fs::read_to_string(dir.join("promotion.json")).ok();
        let promoted: Option<registry::Promotion> = promoted.and_then(|t| serde_json::from_str(&t).ok());
        match promoted.map(|p| registry::verify(&p.dir)) {
            Some(Ok(_)) => None,
            Some(Err(e)) => Some(format!("the version it promoted is not whole ({e})")),
            None => Some("its promotion.json does not read".to_string()),
        }
    };
    let key_text = settings(&registry_dir.display().to_string());
    let promote = stages.stage_checked("promote", &key_text, &made, still_there, |out| {
        let lineage: Vec<&StageRecord> = made.iter().map(|s| &s.record).collect();
        // Each source's training frames summarised, for the monitor's drift checks.
        let mut frame_stats = std::collections::BTreeMap::new();
        for (i, source) in sources.iter().enumerate() {
            let dirs: Vec<PathBuf> =
                training.iter().filter(|(k, _)| *k == i).map(|(_, d)| d.dir.join("data")).collect();
            let dataset = lepton_perception::dataset::Dataset::open_all(&dirs)?;
            frame_stats.insert(source.name.clone(), lepton_perception::dataset::FrameStats::of(&dataset)?);
        }
        let stats_json = serde_json::to_string_pretty(&frame_stats).expect("frame statistics serialise");
        let promoted = registry::promote(
            &registry_dir,
            &pipeline.name,
            &perception.dir.join("model"),
            &policy.dir.join("run"),
            &lineage,
            &scenario.name,
            &[(registry::FRAME_STATS, stats_json.as_bytes())],
        )?;
        let promotion_json = serde_json::to_string_pretty(&promoted).expect("a promotion serialises");
        lepton_artifacts::atomic::write(&out.join("promotion.json"), promotion_json.as_bytes())
            .map_err(file(out))?;
        promotion = Some(promoted);
        Ok(Ran::done(vec!["promote".into()]))
    })?;
    if promote.cached {
        // Promoted by an earlier run of the same inputs: say which version that was.
        let path = promote.dir.join("promotion.json");
        promotion = std::fs::read_to_string(&path).ok().and_then(|t| serde_json::from_str(&t).ok());
    }
    Ok(stages.report(pipeline, promotion))
}

/// A stage's name in attempt `k` (the first attempt has the plain name).
fn attempt_name(stage: &str, k: u32) -> String {
    if k == 0 { stage.to_string() } else { format!("{stage}#{}", k + 1) }
}
