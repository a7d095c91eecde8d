//! Monitoring in the field: `lepton pipeline monitor FILE.ron` drives the production version in
//! each field condition the file names (and in the pipeline's own scenario, as the control),
//! and at each check measures what a factory would watch: input drift (the frames' statistics
//! against each training source's, by the normed Wasserstein distance, no labels needed), the
//! perception's error (the simulator knows the truth) and the policy's success rate. A condition
//! past a threshold is added to the training data (`field.json`) and the pipeline runs again
//! through the same gates; the next check shows whether that repaired it. Every check is kept in
//! `pipeline-runs/NAME/monitor/history.json`, drawn in `monitor.png` and summed up in
//! `monitor.md`.

use crate::commands::{Lepton, args};
use crate::error::{PipelineError, Result, file};
use crate::file::{BASE, PipelineFile};
use crate::history::{self, Check, ConditionCheck, Retraining};
use crate::registry::{self, Promotion};
use crate::run::report::PipelineReport;
use crate::run::sources::{FieldData, base_dir, condition_scenarios, scenario_argument, work_dir};
use lepton_perception::dataset::{Dataset, FrameFeatures, FrameStats};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;

/// What a monitor run did.
#[derive(Debug, Clone, Serialize)]
pub struct MonitorReport {
    pub pipeline: String,
    pub checks: Vec<Check>,
    /// Whether the last check found every condition within its thresholds, or the retraining it
    /// set off promoted a version.
    pub healthy: bool,
    /// The pipeline runs the checks set off.
    #[serde(skip)]
    pub runs: Vec<PipelineReport>,
}

/// Runs `checks` checks of production in the field conditions of `pipeline` (read from
/// `path`), with the `lepton` program given; with `retrain`, a check that crosses a threshold
/// retrains from the drifted data.
pub fn monitor(
    pipeline: &PipelineFile,
    path: &Path,
    lepton: &Lepton,
    checks: u32,
    retrain: bool,
) -> Result<MonitorReport> {
    let base = base_dir(path)?;
    let work = work_dir(pipeline, &base);
    // The monitor writes the history and field.json, and retrains: one at a time, and never
    // beside a `pipeline run` of the same file.
    let _lock = lepton_artifacts::lock::FolderLock::acquire(&work)?;
    let m = &pipeline.monitor;
    if m.conditions.is_empty() {
        return Err(PipelineError::Refused(format!(
            "{}: monitor.conditions: empty; name at least one field condition to watch",
            path.display()
        )));
    }
    let mut watched = vec![(BASE.to_string(), scenario_argument(&pipeline.scenario, &base))];
    for c in condition_scenarios(pipeline, &base)? {
        watched.push((c.name, c.scenario_arg));
    }
    let registry_dir = base.join(&pipeline.registry);
    let mut history = history::read(&work)?;
    let mut report = MonitorReport {
        pipeline: pipeline.name.clone(),
        checks: Vec::new(),
        healthy: true,
        runs: Vec::new(),
    };
    for _ in 0..checks {
        let production = registry::version_dir(&registry_dir, &format!("{}@production", pipeline.name))
            .map_err(|e| {
                PipelineError::Refused(format!(
                    "{e}: nothing of {} is in production; run `lepton pipeline run {}` first",
                    pipeline.name,
                    path.display()
                ))
            })?;
        let lineage = registry::verify(&production)?;
        let stats_path = production.join(registry::FRAME_STATS);
        let training: BTreeMap<String, FrameStats> =
            std::fs::read_to_string(&stats_path).map_err(file(&stats_path)).and_then(|t| {
                serde_json::from_str(&t).map_err(|e| PipelineError::Damaged {
                    path: stats_path.clone(),
                    what: "the training data's frame statistics",
                    message: e.to_string(),
                })
            })?;
        let number = history.last().map_or(Some(1), |c| c.check.checked_add(1)).ok_or_else(|| {
            PipelineError::Refused(format!("{}: no check number left", history::path(&work).display()))
        })?;
        let started =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
        eprintln!("monitor {}: check {number} of version {}", pipeline.name, lineage.version);
        // Fresh seeds at every check: new episodes, as the field would give.
        let seed = pipeline.seed + 50_000_000 + number as u64 * 100_000;
        let scratch = work.join("monitor").join(format!("check-{number:04}.partial"));
        if scratch.exists() {
            std::fs::remove_dir_all(&scratch).map_err(file(&scratch))?;
        }
        let mut conditions = Vec::new();
        for (i, (name, scenario)) in watched.iter().enumerate() {
            let seed = seed + 10_000 * i as u64;
            let data = scratch.join(name);
            conditions.push(watch(pipeline, lepton, &production, &training, name, scenario, &data, seed)?);
        }
        // The frames were for measuring only: the history keeps the figures.
        std::fs::remove_dir_all(&scratch).map_err(file(&scratch))?;
        for c in &conditions {
            let alarms = if c.alarms.is_empty() { "ok".to_string() } else { c.alarms.join("; ") };
            eprintln!(
                "  {:<12} drift {:>6}  lane MAE {:>6}  success {:>5}  {alarms}",
                c.name,
                shown(c.drift, 3),
                shown(c.lane_offset_mae, 3),
                shown(c.success_rate, 2)
            );
        }
        let alarmed: Vec<String> =
            conditions.iter().filter(|c| !c.alarms.is_empty()).map(|c| c.name.clone()).collect();
        let mut check = Check { check: number, started, version: lineage.version, conditions, retrain: None };
        report.healthy = alarmed.is_empty();
        // Data from the field conditions that crossed a threshold; the base is trained on already.
        let mut field = FieldData::read(&work)?;
        let trained = |n: &String| field.conditions.contains(n) || pipeline.collect.conditions.contains(n);
        let new: Vec<String> = alarmed.iter().filter(|n| *n != BASE && !trained(n)).cloned().collect();
        if !alarmed.is_empty() && retrain && new.is_empty() {
            eprintln!(
                "monitor {}: {} crossed a threshold, but its data is in training already; \
                 retraining on the same data would change nothing (more data or another model is needed)",
                pipeline.name,
                alarmed.join(", ")
            );
        }
        if retrain && !new.is_empty() {
            eprintln!("monitor {}: collecting data in {} and retraining", pipeline.name, new.join(", "));
            field.conditions.extend(new.iter().cloned());
            field.conditions.sort_by_key(|n| m.conditions.iter().position(|c| &c.name == n));
            let began = std::time::Instant::now();
            // field.json says so only once the retraining has its outcome: a retraining that
            // failed or was killed is retried by the next check, its finished stages found done.
            let run = match crate::run::run_locked(pipeline, path, lepton, &field) {
                Ok(run) => run,
                Err(e) => {
                    let seconds = began.elapsed().as_secs_f64();
                    let failed = Some(e.to_string());
                    check.retrain = Some(Retraining { conditions: new, promoted: None, seconds, failed });
                    history.push(check);
                    history::write(&work, &history)?;
                    return Err(e);
                }
            };
            field.write(&work)?;
            let promoted = run.promoted.as_ref().map(|p: &Promotion| p.version);
            let seconds = began.elapsed().as_secs_f64();
            check.retrain = Some(Retraining { conditions: new, promoted, seconds, failed: None });
            report.healthy = promoted.is_some();
            match promoted {
                Some(v) => eprintln!("monitor {}: retrained; version {v} in production", pipeline.name),
                None => eprintln!(
                    "monitor {}: retrained, but a gate said no; production untouched",
                    pipeline.name
                ),
            }
            report.runs.push(run);
        }
        history.push(check.clone());
        report.checks.push(check);
        history::write(&work, &history)?;
        if let Err(e) = crate::plots::monitor(&history, m, &work.join("monitor").join("monitor.png")) {
            eprintln!("monitor {}: the plot was not drawn: {e}", pipeline.name);
        }
        write_summary(&work, pipeline, &history)?;
        if !report.healthy {
            break;
        }
    }
    Ok(report)
}

/// Drives production in one condition: frames for drift and the perception's error, episodes for
/// the success rate.
#[allow(clippy::too_many_arguments)]
fn watch(
    pipeline: &PipelineFile,
    lepton: &Lepton,
    production: &Path,
    training: &BTreeMap<String, FrameStats>,
    name: &str,
    scenario: &str,
    data: &Path,
    seed: u64,
) -> Result<ConditionCheck> {
    let m = &pipeline.monitor;
    let (frames, envs, seed_text) =
        (m.frames.to_string(), pipeline.collect.envs.to_string(), seed.to_string());
    let data_arg = data.display().to_string();
    lepton.run(args(&[
        "perception",
        "collect",
        scenario,
        "--frames",
        &frames,
        "--envs",
        &envs,
        "--seed",
        &seed_text,
        "--out",
        &data_arg,
    ]))?;
    let features = FrameFeatures::of(&Dataset::open(data)?)?;
    let nearest = training
        .iter()
        .filter_map(|(source, reference)| reference.drift(&features).map(|d| (d, source.clone())))
        .min_by(|a, b| a.0.distance.total_cmp(&b.0.distance));
    let model = production.join("model").display().to_string();
    let (_, perception, _) = lepton.gate::<lepton_perception::cnn::EvalReport>(
        args(&["perception", "eval", &model, &data_arg, "--json"]),
        "a perception evaluation",
    )?;
    let policy = production.join("policy").display().to_string();
    let episodes = m.episodes.to_string();
    let driving_seed = (seed + 5_000).to_string();
    let (_, driving, _) = lepton.gate::<lepton_agents::run::EvalReport>(
        args(&[
            "eval",
            &policy,
            "--scenario",
            scenario,
            "--episodes",
            &episodes,
            "--seed",
            &driving_seed,
            "--json",
        ]),
        "an agent evaluation",
    )?;
    let mut check = ConditionCheck {
        name: name.into(),
        drift: nearest.as_ref().map(|n| n.0.distance),
        drift_feature: nearest.as_ref().map(|n| n.0.feature.clone()),
        nearest_training_data: nearest.map(|n| n.1),
        lane_offset_mae: perception.mae.get("lane_offset").copied(),
        heading_mae_degrees: Some(perception.heading_mae_degrees),
        success_rate: Some(driving.summary.success_rate),
        mean_return: Some(driving.summary.mean_return),
        alarms: Vec::new(),
    };
    if let (Some(limit), Some(v)) = (m.max_drift, check.drift)
        && v > limit
    {
        let feature = check.drift_feature.as_deref().unwrap_or("?");
        check.alarms.push(format!("input drift {v:.3} > {limit} ({feature})"));
    }
    if let (Some(limit), Some(v)) = (m.max_lane_mae, check.lane_offset_mae)
        && v > limit
    {
        check.alarms.push(format!("lane-offset MAE {v:.3} m > {limit}"));
    }
    if let (Some(limit), Some(v)) = (m.min_success_rate, check.success_rate)
        && v < limit
    {
        check.alarms.push(format!("success rate {v:.2} < {limit}"));
    }
    Ok(check)
}

fn shown(value: Option<impl Into<f64>>, decimals: usize) -> String {
    value.map_or("-".into(), |v| format!("{:.decimals$}", v.into()))
}

/// `monitor.md`: the drift picture and a table per check.
fn write_summary(work: &Path, pipeline: &PipelineFile, history: &[Check]) -> Result<()> {
    use std::fmt::Write as _;
    let m = &pipeline.monitor;
    let mut md = String::new();
    let limit = |v: Option<String>| v.unwrap_or_else(|| "not checked".into());
    let _ = writeln!(md, "# Monitoring `{}` in the field\n", pipeline.name);
    let _ = writeln!(
        md,
        "Thresholds: input drift (normed Wasserstein distance to the nearest training data, in its standard deviations) {}, lane-offset MAE {}, \
         success rate {}. {} frames and {} episodes per condition per check.\n",
        limit(m.max_drift.map(|v| format!("≤ {v}"))),
        limit(m.max_lane_mae.map(|v| format!("≤ {v} m"))),
        limit(m.min_success_rate.map(|v| format!("≥ {v}"))),
        m.frames,
        m.episodes
    );
    let _ = writeln!(md, "![drift, error and success over the checks](monitor.png)\n");
    for check in history {
        let _ = writeln!(md, "## Check {} (version {})\n", check.check, check.version);
        let _ = writeln!(
            md,
            "| condition | drift (σ) | nearest training data | lane MAE (m) | heading MAE (°) | success | mean return | alarms |\n\
             | --- | ---: | --- | ---: | ---: | ---: | ---: | --- |"
        );
        for c in &check.conditions {
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} | {} | {} | {} |",
                c.name,
                shown(c.drift, 3),
                c.nearest_training_data.as_deref().unwrap_or("-"),
                shown(c.lane_offset_mae, 3),
                shown(c.heading_mae_degrees, 2),
                shown(c.success_rate, 2),
                shown(c.mean_return, 1),
                if c.alarms.is_empty() { "—".into() } else { c.alarms.join("; ") }
            );
        }
        if let Some(r) = &check.retrain {
            let outcome = match (r.promoted, &r.failed) {
                (Some(v), _) => format!("version {v} promoted"),
                (None, Some(why)) => format!("it stopped ({why}); the next check retrains again"),
                (None, None) => "a gate said no; production untouched".into(),
            };
            let _ = writeln!(
                md,
                "\nRetrained with data from {} ({:.0} s): {outcome}. See [the pipeline's report](../report.md).",
                r.conditions.join(", "),
                r.seconds
            );
        }
        let _ = writeln!(md);
    }
    let path = work.join("monitor").join("monitor.md");
    lepton_artifacts::atomic::write(&path, md.as_bytes()).map_err(file(&path))
}
