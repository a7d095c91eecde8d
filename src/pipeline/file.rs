//! The pipeline file: the loop from data to a promoted model, one RON file. Every section has
//! defaults, unknown fields are errors, and every value is validated with its field path.

use serde::{Deserialize, Serialize};

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
    pub perception: Perception,
    pub perception_gate: PerceptionGate,
    pub agent: Agent,
    pub agent_gate: AgentGate,
    pub retrain: Retrain,
    /// The registry folder (relative to the pipeline file).
    pub registry: String,
}

/// What a gate that says no sets off: training again with the escalation rule (perception: twice
/// the epochs and the next seed; agent: the configured steps once more and the next seed), up to
/// `attempts` trainings in all; then the pipeline stops with exit 1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Retrain {
    pub attempts: u32,
}

impl Default for Retrain {
    fn default() -> Self {
        Self { attempts: 3 }
    }
}

impl Default for PipelineFile {
    fn default() -> Self {
        Self {
            name: "unnamed".into(),
            scenario: "lane_keep".into(),
            seed: 1,
            collect: Collect::default(),
            perception: Perception::default(),
            perception_gate: PerceptionGate::default(),
            agent: Agent::default(),
            agent_gate: AgentGate::default(),
            retrain: Retrain::default(),
            registry: "registry".into(),
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
}

impl Default for Collect {
    fn default() -> Self {
        Self { frames: 20_000, held_out_frames: 4_000, envs: 16 }
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

/// A value that parses but makes no sense, with its field path.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldProblem {
    pub path: String,
    pub message: String,
}

impl PipelineFile {
    /// Every problem with the file's values (empty when valid).
    pub fn validate(&self) -> Vec<FieldProblem> {
        let mut problems = Vec::new();
        let mut report =
            |path: &str, message: String| problems.push(FieldProblem { path: path.into(), message });
        let name_ok = !self.name.trim().is_empty()
            && self.name.len() <= 100
            && self.name.chars().all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c))
            && !self.name.starts_with('.');
        if !name_ok {
            report(
                "name",
                format!("must be 1 to 100 letters, digits, '_', '-' or '.' (got {:?})", self.name),
            );
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
        problems
    }
}

/// A commented pipeline file that runs as it is (`lepton pipeline new`).
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
    // A gate that says no trains again (perception: twice the epochs, next seed; agent: the steps
    // once more, next seed), up to this many trainings in all; then exit 1.
    retrain: (attempts: 3),
    registry: "registry",
)
"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_template_parses_to_the_defaults_and_is_valid() {
        let file: PipelineFile = ron::Options::default()
            .with_default_extension(ron::extensions::Extensions::IMPLICIT_SOME)
            .from_str(&template("lk"))
            .unwrap();
        assert_eq!(file, PipelineFile { name: "lk".into(), ..Default::default() });
        assert_eq!(file.validate(), []);
    }

    #[test]
    fn the_shipped_example_is_valid() {
        let text = include_str!("../../pipelines/lane_keep.ron");
        let file: PipelineFile = ron::Options::default()
            .with_default_extension(ron::extensions::Extensions::IMPLICIT_SOME)
            .from_str(text)
            .unwrap();
        assert_eq!(file.validate(), []);
        assert_eq!(file.scenario, "lane_keep");
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
    }
}
