//! The gates: the perception gate on every source's held-out frames and the agent gate in every
//! source's scenario, each holding the candidate to its thresholds and, once a version is in
//! production, to production's figures on the same frames and episodes.

use super::cache::Ran;
use super::sources::Source;
use crate::commands::{Lepton, args};
use crate::error::Result;
use crate::figures::{AgentFigures, FieldFigures, GateFigures, PerceptionFigures};
use crate::file::{AgentGate, PerceptionGate};
use crate::registry;
use crate::stage::{StageRecord, StageResult};
use std::collections::BTreeMap;
use std::path::Path;

/// The first env seed of the agent gate's evaluations, candidate and production alike (held out
/// from training's evaluations, which start at 1,000,000).
const EVAL_SEED: &str = "2000000";

/// A gate run on every data source in turn: the base source's command and figures, each other
/// source's figures and verdict under `field`, the names of those that failed under `failing` (a
/// retry collects more data there), and passed only if every source passed.
pub fn over_sources<T>(
    sources: &[Source],
    mut verdict: impl FnMut(usize, &Source) -> Result<(Vec<String>, T, bool)>,
    figures: impl FnOnce(GateFigures<T>) -> crate::figures::Figures,
) -> Result<Ran> {
    let mut base = None;
    let mut field = BTreeMap::new();
    let mut failing = Vec::new();
    for (k, source) in sources.iter().enumerate() {
        let (command, found, passed) = verdict(k, source)?;
        if !passed {
            failing.push(source.name.clone());
        }
        if base.is_none() {
            base = Some((command, found));
        } else {
            field.insert(source.name.clone(), FieldFigures { figures: found, passed });
        }
    }
    let (command, base) = base.expect("the base source is always there");
    Ok(Ran {
        command,
        result: StageResult::gate(failing.is_empty()),
        figures: Some(figures(GateFigures { base, field, failing })),
    })
}

/// The perception gate on one held-out set: the thresholds, and once a version is in
/// production, not worse than production's lane-offset MAE on the same frames (plus the margin).
pub fn perception_verdict(
    lepton: &Lepton,
    model: &Path,
    data: &Path,
    g: &PerceptionGate,
    rival: Option<&Path>,
) -> Result<(Vec<String>, PerceptionFigures, bool)> {
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
    const WHAT: &str = "a perception evaluation";
    let (command, eval, mut passed) = lepton.gate(a, WHAT)?;
    let mut figures = PerceptionFigures { eval, production_lane_offset_mae: None };
    if let Some(production) = rival {
        // Production's model on the same held-out frames, its files checked first.
        registry::verify(production)?;
        let theirs = production.join("model").display().to_string();
        let (_, them, _) = lepton.gate(args(&["perception", "eval", &theirs, &data, "--json"]), WHAT)?;
        let them = PerceptionFigures { eval: them, production_lane_offset_mae: None };
        passed &= error_holds(figures.lane_offset_mae(), them.lane_offset_mae(), g.production_margin);
        figures.production_lane_offset_mae = them.lane_offset_mae();
    }
    // The thresholds were the command's to check; a figure it could not compute fails here too.
    passed &= figures.lane_offset_mae().is_some_and(f32::is_finite);
    Ok((command, figures, passed))
}

/// The agent gate in one source's scenario: the success rate, and optionally the mean return
/// against the scripted lane keeper's and production's on the same episodes.
pub fn agent_verdict(
    lepton: &Lepton,
    run: &Path,
    source: &Source,
    base_scenario: &str,
    ag: &AgentGate,
    rival: Option<&Path>,
) -> Result<(Vec<String>, AgentFigures, bool)> {
    let episodes = ag.episodes.to_string();
    let eval = |what: &str| {
        let mut a = args(&["eval", what, "--episodes", &episodes, "--seed", EVAL_SEED, "--json"]);
        if source.scenario_arg != base_scenario && !what.starts_with("keep-lane:") {
            a.extend(["--scenario".into(), source.scenario_arg.clone()]);
        }
        lepton.gate::<lepton_agents::run::EvalReport>(a, "an agent evaluation")
    };
    let (command, ours, _) = eval(&run.display().to_string())?;
    let mut figures = AgentFigures::of(ours);
    let ours = &figures.eval.summary;
    let mut passed = score_holds(ours.success_rate, ag.min_success_rate, 0.0);
    let (our_return, mut scripted, mut production) = (ours.mean_return, None, None);
    if let Some(margin) = ag.scripted_margin {
        // The scripted lane keeper on the same episodes.
        let (_, them, _) = eval(&format!("keep-lane:{}", source.scenario_arg))?;
        passed &= score_holds(our_return, them.summary.mean_return, margin);
        scripted = Some(them.summary);
    }
    if let Some(rival) = rival {
        // The same episodes for production, whose files are checked first.
        registry::verify(rival)?;
        let (_, them, _) = eval(&rival.join("policy").display().to_string())?;
        passed &= score_holds(our_return, them.summary.mean_return, ag.production_margin);
        production = Some(them.summary);
    }
    figures.scripted_mean_return = scripted.as_ref().map(|s| s.mean_return);
    figures.scripted_success_rate = scripted.as_ref().map(|s| s.success_rate);
    figures.production_mean_return = production.as_ref().map(|s| s.mean_return);
    figures.production_success_rate = production.as_ref().map(|s| s.success_rate);
    Ok((command, figures, passed))
}

/// Whether an error (lower is better) holds against another's: `ours ≤ theirs + margin`. A
/// missing or NaN figure on either side fails: a gate never passes on what it could not measure.
fn error_holds(ours: Option<f32>, theirs: Option<f32>, margin: f32) -> bool {
    matches!((ours, theirs), (Some(o), Some(t)) if o <= t + margin)
}

/// Whether a score (higher is better: a success rate, a mean return) holds against a bar:
/// `ours ≥ bar − margin`; NaN fails.
fn score_holds(ours: f32, bar: f32, margin: f32) -> bool {
    ours >= bar - margin
}

/// The key of the `stage` (its last attempt) a registry version was made by, from its lineage.
pub fn lineage_key(version: &Path, stage: &str) -> Option<String> {
    let text = std::fs::read_to_string(version.join("lineage.json")).ok()?;
    let lineage: registry::Lineage = serde_json::from_str(&text).ok()?;
    let made_by = |s: &&StageRecord| s.stage == stage || s.stage.starts_with(&format!("{stage}#"));
    lineage.stages.iter().rev().find(made_by).map(|s| s.key.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gate_decisions_pass_fail_and_never_pass_on_a_missing_or_nan_figure() {
        // The perception gate against production's lane-offset MAE.
        assert!(error_holds(Some(0.10), Some(0.12), 0.0), "better than production");
        assert!(error_holds(Some(0.13), Some(0.12), 0.02), "worse, within the margin");
        assert!(!error_holds(Some(0.20), Some(0.12), 0.02), "production is better");
        assert!(!error_holds(None, Some(0.12), 1.0) && !error_holds(Some(0.1), None, 1.0), "missing");
        assert!(
            !error_holds(Some(f32::NAN), Some(0.12), 1.0) && !error_holds(Some(0.1), Some(f32::NAN), 1.0)
        );
        // The agent gate: a success rate against its minimum, a mean return against a rival's.
        assert!(score_holds(0.8, 0.8, 0.0), "a rate equal to the minimum passes");
        assert!(!score_holds(0.75, 0.8, 0.0));
        assert!(score_holds(9.5, 10.0, 1.0) && !score_holds(8.5, 10.0, 1.0));
        assert!(!score_holds(f32::NAN, 0.0, 0.0) && !score_holds(1.0, f32::NAN, 0.0));
    }
}
