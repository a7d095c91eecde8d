//! The pipeline file: the loop from data to a promoted model, one RON file. Every section has
//! defaults, unknown fields are errors, and every value is validated with its field path.

pub use crate::error::FieldProblem;
use crate::error::{PipelineError, Result, file};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The pipeline's own scenario among the data sources and the monitor's conditions (a field
/// condition may not take this name).
pub const BASE: &str = "base";

/// The largest pipeline seed (2^62): the offsets the stages add stay far below u64's end.
pub const MAX_SEED: u64 = 1 << 62;

/// A whole pipeline: collect → train perception → gate it → train the agent on it → gate it →
/// promote.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default, rename = "Pipeline")]
pub struct PipelineFile {
    /// Names the registry entry the pipeline promotes into, and its working folder.
    pub name: String,
    /// A shipped scenario's name or a scenario file (relative to the pipeline file).
    pub scenario: String,
    /// Seeds every stage (collection, training, evaluation).
    pub seed: u64,
    pub collect: Collect,
    pub clean: Clean,
    pub perception: Perception,
    pub perception_gate: PerceptionGate,
    pub agent: Agent,
    pub agent_gate: AgentGate,
    pub retrain: Retrain,
    /// The registry folder (relative to the pipeline file).
    pub registry: String,
    /// Watching production in field conditions (`lepton pipeline monitor`).
    pub monitor: Monitor,
}

/// `lepton pipeline monitor`: production driven in field conditions — variants of the scenario —
/// each check collecting frames and episodes there and measuring input drift (frame statistics
/// against the training data's), the perception's error (the simulator knows the truth) and the
/// success rate. A condition past a threshold has data collected there, added to the training
/// data, and the pipeline reruns through the same gates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Monitor {
    pub conditions: Vec<Condition>,
    /// Frames collected in each condition at each check.
    pub frames: u64,
    /// Episodes driven in each condition at each check.
    pub episodes: usize,
    /// Input drift: the frames' distance from the nearest training data, in training standard
    /// deviations (normed Wasserstein, largest over the frame features; None: not checked).
    pub max_drift: Option<f64>,
    /// Lane-offset MAE of the perception in the condition (m).
    pub max_lane_mae: Option<f32>,
    /// Success rate of the policy in the condition.
    pub min_success_rate: Option<f32>,
    /// Training frames collected in a condition once it crossed a threshold, and held-out frames
    /// for the gate there.
    pub retrain_frames: u64,
    pub retrain_held_out_frames: u64,
}

impl Default for Monitor {
    fn default() -> Self {
        Self {
            conditions: Vec::new(),
            frames: 1000,
            episodes: 16,
            max_drift: Some(1.0),
            max_lane_mae: Some(0.3),
            min_success_rate: Some(0.8),
            retrain_frames: 10_000,
            retrain_held_out_frames: 2_000,
        }
    }
}

/// A field condition: the pipeline's scenario (or another file) with, optionally, another look.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    /// Names the condition in reports and stage names.
    pub name: String,
    /// A shipped scenario or a file relative to the pipeline file (default: the pipeline's).
    #[serde(default)]
    pub scenario: Option<String>,
    /// Changes to the scenario's look: colours, sun.
    #[serde(default)]
    pub look: Option<lepton_sim::scenario::LookChange>,
}

/// What a gate that says no sets off: training again with the escalation rule (perception: twice
/// the epochs and the next seed; agent: the configured steps once more and the next seed), up to
/// `attempts` trainings in all; then the pipeline stops with exit 1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Retrain {
    pub attempts: u32,
    /// A failed perception gate also collects more training frames (as many again) in each
    /// condition whose held-out frames it failed on.
    pub more_data: bool,
}

impl Default for Retrain {
    fn default() -> Self {
        Self { attempts: 3, more_data: true }
    }
}

impl Default for PipelineFile {
    fn default() -> Self {
        Self {
            name: "unnamed".into(),
            scenario: "lane_keep".into(),
            seed: 1,
            collect: Collect::default(),
            clean: Clean::default(),
            perception: Perception::default(),
            perception_gate: PerceptionGate::default(),
            agent: Agent::default(),
            agent_gate: AgentGate::default(),
            retrain: Retrain::default(),
            registry: "registry".into(),
            monitor: Monitor::default(),
        }
    }
}

/// Labelled frames for training, and a held-out set (other seeds) for the perception gate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Collect {
    pub frames: u64,
    pub held_out_frames: u64,
    pub envs: usize,
    /// Field conditions (names in monitor.conditions) trained on from the start, beside the
    /// pipeline's scenario: as many frames from each, gated on each.
    pub conditions: Vec<String>,
}

impl Default for Collect {
    fn default() -> Self {
        Self { frames: 20_000, held_out_frames: 4_000, envs: 16, conditions: Vec::new() }
    }
}

/// The anomaly rules every collected frame is checked against (a frame that breaks one is not
/// stored and is counted by reason in the dataset's manifest), and the data gate: a collection
/// that had to throw away more than `max_rejected_fraction` of its frames stops the pipeline
/// (exit 1), as something is wrong with the world or the camera, not with a few frames.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Clean {
    /// A frame whose brightest and darkest values differ by at most this is blank.
    pub blank_range: u8,
    /// Movement allowed per step beyond 1.5 × speed × step time (m) before it is a teleport.
    pub teleport_slack: f32,
    /// Uprightness (1 upright, 0.5 = 60° of tilt) below which the car has flipped.
    pub min_uprightness: f32,
    pub max_rejected_fraction: f32,
}

impl Default for Clean {
    fn default() -> Self {
        // The rules' defaults are the collector's own.
        let t = lepton_perception::dataset::anomaly::Thresholds::default();
        Self {
            blank_range: t.blank_range,
            teleport_slack: t.teleport_slack,
            min_uprightness: t.min_uprightness,
            max_rejected_fraction: 0.2,
        }
    }
}

/// Training the CNN perception.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Perception {
    pub epochs: usize,
    /// Train on grey frames.
    pub grey: bool,
}

impl Default for Perception {
    fn default() -> Self {
        Self { epochs: 10, grey: false }
    }
}

/// The perception must do at least this well on the held-out frames.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PerceptionGate {
    /// Mean absolute error of the lane offset (m).
    pub max_lane_mae: Option<f32>,
    /// Of the heading error (degrees).
    pub max_heading_mae: Option<f32>,
    /// Of the gaps (m).
    pub max_gap_mae: Option<f32>,
    /// Accuracy of the lane-free flags, in [0, 1].
    pub min_flag_accuracy: Option<f32>,
    /// Once a version is in production, the candidate's lane-offset MAE on the held-out frames
    /// may exceed production's by at most this much (m).
    pub production_margin: f32,
}

impl Default for PerceptionGate {
    fn default() -> Self {
        Self {
            max_lane_mae: Some(0.3),
            max_heading_mae: Some(5.0),
            max_gap_mae: None,
            min_flag_accuracy: None,
            production_margin: 0.02,
        }
    }
}

/// Training the agent (tabular Q-learning) on the candidate perception.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Agent {
    pub steps: u64,
    pub envs: usize,
    /// A run configuration file (relative to the pipeline file), or the defaults.
    pub config: Option<String>,
}

impl Default for Agent {
    fn default() -> Self {
        Self { steps: 100_000, envs: 8, config: None }
    }
}

/// The agent must succeed this often on held-out seeds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AgentGate {
    pub episodes: usize,
    pub min_success_rate: f32,
    /// Once a version is in production, the candidate's mean return on the same episodes must be
    /// at least production's minus this margin.
    pub production_margin: f32,
    /// When set, the candidate's mean return must be at least the scripted lane keeper's on the
    /// same episodes minus this margin.
    pub scripted_margin: Option<f32>,
}

impl Default for AgentGate {
    fn default() -> Self {
        Self { episodes: 16, min_success_rate: 0.8, production_margin: 0.0, scripted_margin: None }
    }
}

impl PipelineFile {
    /// Reads and validates a pipeline file: a syntax error with its line and column, wrong
    /// values with their field paths (all of them at once).
    pub fn read(path: &Path) -> Result<PipelineFile> {
        let text = std::fs::read_to_string(path).map_err(file(path))?;
        let pipeline = Self::parse(&text).map_err(|e| PipelineError::Syntax {
            path: path.to_path_buf(),
            line: e.span.start.line,
            column: e.span.start.col,
            message: e.code.to_string(),
        })?;
        let problems = pipeline.validate();
        if !problems.is_empty() {
            return Err(PipelineError::Invalid { path: path.to_path_buf(), problems });
        }
        Ok(pipeline)
    }

    /// Parses a pipeline file's text (`Some(..)` may be left out of optional values); not
    /// validated.
    pub fn parse(text: &str) -> std::result::Result<PipelineFile, ron::error::SpannedError> {
        ron::Options::default()
            .with_default_extension(ron::extensions::Extensions::IMPLICIT_SOME)
            .from_str(text)
    }

    /// Every problem with the file's values (empty when valid).
    pub fn validate(&self) -> Vec<FieldProblem> {
        let mut problems = Vec::new();
        let mut report =
            |path: &str, message: String| problems.push(FieldProblem { path: path.into(), message });
        // Every stage's seed is this one plus an offset (sources, attempts, checks): bounded so
        // that no sum can overflow.
        if self.seed > MAX_SEED {
            report("seed", format!("must be at most {MAX_SEED} (got {})", self.seed));
        }
        if let Some(problem) = name_problem(&self.name) {
            report("name", format!("{problem} (got {:?})", self.name));
        }
        if self.scenario.trim().is_empty() {
            report("scenario", "must name a shipped scenario or a scenario file".into());
        }
        let at_least = |report: &mut dyn FnMut(&str, String), path: &str, value: u64, min: u64, max: u64| {
            if !(min..=max).contains(&value) {
                report(path, format!("must be from {min} to {max} (got {value})"));
            }
        };
        at_least(&mut report, "collect.frames", self.collect.frames, 10, 100_000_000);
        at_least(&mut report, "collect.held_out_frames", self.collect.held_out_frames, 10, 100_000_000);
        at_least(&mut report, "collect.envs", self.collect.envs as u64, 1, 1024);
        if !(self.clean.teleport_slack.is_finite() && self.clean.teleport_slack >= 0.0) {
            report(
                "clean.teleport_slack",
                format!("must be a number ≥ 0 (got {})", self.clean.teleport_slack),
            );
        }
        for (path, v) in [
            ("clean.min_uprightness", self.clean.min_uprightness),
            ("clean.max_rejected_fraction", self.clean.max_rejected_fraction),
        ] {
            if !(v.is_finite() && (0.0..=1.0).contains(&v)) {
                report(path, format!("must be in [0, 1] (got {v})"));
            }
        }
        at_least(&mut report, "perception.epochs", self.perception.epochs as u64, 1, 10_000);
        at_least(&mut report, "agent.steps", self.agent.steps, 1, 1_000_000_000);
        at_least(&mut report, "agent.envs", self.agent.envs as u64, 1, 1024);
        at_least(&mut report, "agent_gate.episodes", self.agent_gate.episodes as u64, 1, 10_000);
        at_least(&mut report, "retrain.attempts", self.retrain.attempts as u64, 1, 10);
        let gate = &self.perception_gate;
        for (path, value) in [
            ("perception_gate.max_lane_mae", gate.max_lane_mae),
            ("perception_gate.max_heading_mae", gate.max_heading_mae),
            ("perception_gate.max_gap_mae", gate.max_gap_mae),
        ] {
            if let Some(v) = value.filter(|v| !(v.is_finite() && *v > 0.0)) {
                report(path, format!("must be a positive number (got {v})"));
            }
        }
        for (path, value) in [
            ("perception_gate.min_flag_accuracy", gate.min_flag_accuracy),
            ("agent_gate.min_success_rate", Some(self.agent_gate.min_success_rate)),
        ] {
            if let Some(v) = value.filter(|v| !(v.is_finite() && (0.0..=1.0).contains(v))) {
                report(path, format!("must be in [0, 1] (got {v})"));
            }
        }
        if !self.perception_gate.production_margin.is_finite() {
            report(
                "perception_gate.production_margin",
                format!("must be a finite number (got {})", self.perception_gate.production_margin),
            );
        }
        if !self.agent_gate.production_margin.is_finite() {
            report(
                "agent_gate.production_margin",
                format!("must be a finite number (got {})", self.agent_gate.production_margin),
            );
        }
        if self.registry.trim().is_empty() {
            report("registry", "must name a folder".into());
        }
        let m = &self.monitor;
        for (i, name) in self.collect.conditions.iter().enumerate() {
            if !m.conditions.iter().any(|c| &c.name == name) {
                let known: Vec<&str> = m.conditions.iter().map(|c| c.name.as_str()).collect();
                report(
                    &format!("collect.conditions[{i}]"),
                    format!("{name:?} is not a field condition (monitor.conditions: {known:?})"),
                );
            }
        }
        at_least(&mut report, "monitor.frames", m.frames, 10, 100_000_000);
        at_least(&mut report, "monitor.episodes", m.episodes as u64, 1, 10_000);
        at_least(&mut report, "monitor.retrain_frames", m.retrain_frames, 10, 100_000_000);
        at_least(&mut report, "monitor.retrain_held_out_frames", m.retrain_held_out_frames, 10, 100_000_000);
        if let Some(v) = m.max_drift.filter(|v| !(v.is_finite() && *v > 0.0)) {
            report("monitor.max_drift", format!("must be a positive number (got {v})"));
        }
        if let Some(v) = m.max_lane_mae.filter(|v| !(v.is_finite() && *v > 0.0)) {
            report("monitor.max_lane_mae", format!("must be a positive number (got {v})"));
        }
        if let Some(v) = m.min_success_rate.filter(|v| !(v.is_finite() && (0.0..=1.0).contains(v))) {
            report("monitor.min_success_rate", format!("must be in [0, 1] (got {v})"));
        }
        for (i, c) in m.conditions.iter().enumerate() {
            let path = format!("monitor.conditions[{i}].name");
            let ok = !c.name.is_empty()
                && c.name.len() <= 40
                && c.name.chars().all(|ch| ch.is_ascii_alphanumeric() || "_-".contains(ch));
            if !ok {
                report(&path, format!("must be 1 to 40 letters, digits, '_' or '-' (got {:?})", c.name));
            } else if m.conditions[..i].iter().any(|o| o.name == c.name) {
                report(&path, format!("{:?} names two conditions", c.name));
            } else if c.name == BASE {
                report(&path, "\"base\" is the pipeline's own scenario; choose another name".into());
            }
            if c.scenario.as_ref().is_some_and(|s| s.trim().is_empty()) {
                report(&format!("monitor.conditions[{i}].scenario"), "must name a scenario".into());
            }
        }
        problems
    }
}

/// What is wrong with a pipeline's name, if anything: it names the working folder
/// (`pipeline-runs/NAME`) and the registry entry, so it must be one plain folder name.
pub fn name_problem(name: &str) -> Option<&'static str> {
    let ok = !name.is_empty()
        && name.len() <= 100
        && name.chars().all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c))
        && !name.starts_with('.');
    (!ok).then_some("must be 1 to 100 letters, digits, '_', '-' or '.', not starting with '.'")
}

/// A commented pipeline file that runs as it is (`lepton pipeline new`), for a name that
/// [`name_problem`] accepts.
pub fn template(name: &str) -> String {
    format!(
        r#"// A Lepton pipeline: collect labelled frames → train the CNN perception → gate it on held-out
// frames → train the agent on the candidate perception → gate it on held-out seeds → promote it
// in the registry. Every stage's output is cached by the hash of its inputs: running the file
// again does only what changed. `lepton pipeline run {name}.ron`
Pipeline(
    name: "{name}",
    scenario: "lane_keep",   // a shipped scenario or a .ron file, relative to this file
    seed: 1,
    collect: (
        frames: 20000,          // training frames
        held_out_frames: 4000,  // frames from other seeds, for the perception gate
        envs: 16,
    ),
    // The anomaly rules every collected frame is checked against (one that breaks a rule is not
    // stored, and counted by reason), and the data gate: a collection that throws away more
    // than max_rejected_fraction of its frames stops the pipeline with exit 1.
    clean: (blank_range: 4, teleport_slack: 1.0, min_uprightness: 0.5, max_rejected_fraction: 0.2),
    perception: (epochs: 10, grey: false),
    // The candidate perception must do this well on the held-out frames (None: not checked).
    perception_gate: (
        max_lane_mae: Some(0.3),     // m
        max_heading_mae: Some(5.0),  // degrees
        max_gap_mae: None,           // m
        min_flag_accuracy: None,     // [0, 1]
        production_margin: 0.02,     // m of lane MAE a candidate may lose against production
    ),
    // Tabular Q-learning on the candidate perception (config: a run configuration file).
    agent: (steps: 100000, envs: 8, config: None),
    // The agent must succeed this often on held-out seeds to be promoted, and once a version is
    // in production, return at least production's mean return (minus the margin) on them; with
    // scripted_margin: Some(m), at least the scripted lane keeper's minus m as well.
    agent_gate: (episodes: 16, min_success_rate: 0.8, production_margin: 0.0, scripted_margin: None),
    // A gate that says no trains again (perception: twice the epochs, the next seed and, with
    // more_data, as many frames again from each condition it failed on; agent: the steps once
    // more, the next seed), up to this many trainings in all; then exit 1.
    retrain: (attempts: 3, more_data: true),
    registry: "registry",
    // `lepton pipeline monitor {name}.ron`: production watched in field conditions
    // (the scenario with another look, or another scenario file). At each check, in each
    // condition: input drift (frame features against the nearest training data, in training
    // standard deviations), the perception's lane-offset error and the success rate. A condition
    // past a threshold has data collected (retrain_frames) and the pipeline retrains on it
    // through the same gates.
    monitor: (
        conditions: [
            // Low sun, red sky, a third of the light: the CNN trained at midday loses the lane.
            (name: "dusk", look: (sky: (0.9, 0.45, 0.25), sun_brightness: 3000.0, sun_elevation: 8.0)),
        ],
        frames: 1000,
        episodes: 16,
        max_drift: Some(1.0),
        max_lane_mae: Some(0.3),
        min_success_rate: Some(0.8),
        retrain_frames: 10000,
        retrain_held_out_frames: 2000,
    ),
)
"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_template_parses_to_the_defaults_and_is_valid() {
        let file = PipelineFile::parse(&template("lk")).unwrap();
        let defaults = PipelineFile { name: "lk".into(), ..Default::default() };
        assert_eq!(file.monitor.conditions[0].name, "dusk");
        assert_eq!(
            PipelineFile {
                monitor: Monitor { conditions: Vec::new(), ..file.monitor.clone() },
                ..file.clone()
            },
            defaults
        );
        assert_eq!(file.validate(), []);
    }

    #[test]
    fn bad_values_are_named_by_their_field() {
        let file = PipelineFile {
            name: "../x".into(),
            collect: Collect { frames: 0, ..Default::default() },
            agent_gate: AgentGate { min_success_rate: 1.5, ..Default::default() },
            ..Default::default()
        };
        let paths: Vec<_> = file.validate().into_iter().map(|p| p.path).collect();
        assert_eq!(paths, ["name", "collect.frames", "agent_gate.min_success_rate"]);
        // A seed every stage's offset can be added to without overflowing.
        let huge = PipelineFile { name: "ok".into(), seed: u64::MAX, ..Default::default() };
        let paths: Vec<_> = huge.validate().into_iter().map(|p| p.path).collect();
        assert_eq!(paths, ["seed"]);
        assert!(
            PipelineFile { name: "ok".into(), seed: MAX_SEED, ..Default::default() }.validate().is_empty()
        );
    }

    #[test]
    fn a_file_is_read_with_its_syntax_errors_and_every_bad_value_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.ron");
        std::fs::write(&path, "Pipeline(\n  name: \"ok\",\n  seed: x,\n)").unwrap();
        let syntax = PipelineFile::read(&path).unwrap_err().to_string();
        assert!(syntax.starts_with(&format!("{}:3:", path.display())), "{syntax}");
        std::fs::write(&path, "Pipeline(name: \"a b\", collect: (frames: 0))").unwrap();
        let invalid = PipelineFile::read(&path).unwrap_err().to_string();
        let lines: Vec<&str> = invalid.lines().collect();
        assert_eq!(lines.len(), 2, "{invalid}");
        assert!(lines[0].starts_with(&format!("{}: name: ", path.display())), "{invalid}");
        assert!(lines[1].starts_with(&format!("{}: collect.frames: ", path.display())), "{invalid}");
        std::fs::write(&path, template("lk")).unwrap();
        assert_eq!(PipelineFile::read(&path).unwrap().name, "lk");
        let missing = PipelineFile::read(&dir.path().join("none.ron")).unwrap_err();
        assert!(matches!(missing, PipelineError::File { .. }));
    }
}
