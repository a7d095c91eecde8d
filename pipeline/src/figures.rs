//! What the stages measured, typed: the data gate's anomaly counts, and the perception gate's and
//! the agent gate's figures for each data source. `stage.json` and a registry version's lineage
//! keep them as JSON, in the shape the gates' commands print (`lepton perception eval --json`,
//! `lepton eval --json`) with the gate's comparisons beside it.

use lepton_agents::run::EvalReport as DrivingReport;
use lepton_perception::cnn::EvalReport as PerceptionReport;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What a stage measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Figures {
    /// A collection: what the anomaly rules threw away (the data gate).
    Collection(CollectionFigures),
    /// The perception gate, for every data source.
    Perception(GateFigures<PerceptionFigures>),
    /// The agent gate, for every data source.
    Agent(GateFigures<AgentFigures>),
    /// Figures this build does not know (a lineage written by another version): kept as they
    /// are, so the version's lineage still reads.
    Other(serde_json::Value),
}

impl Figures {
    /// The data sources a gate failed on (a retry collects more data there).
    pub fn failing(&self) -> &[String] {
        match self {
            Figures::Perception(g) => &g.failing,
            Figures::Agent(g) => &g.failing,
            Figures::Collection(_) | Figures::Other(_) => &[],
        }
    }

    /// The figures as report lines (`- name: value`): the base source's first, then each field
    /// condition's under a heading of its own.
    pub fn report_lines(&self) -> Vec<String> {
        match self {
            Figures::Collection(c) => c.lines(),
            Figures::Perception(g) => g.lines(PerceptionFigures::lines),
            Figures::Agent(g) => g.lines(AgentFigures::lines),
            Figures::Other(v) => vec![format!("- {v}")],
        }
    }
}

/// A collection's data gate: how many frames were kept, and how many each anomaly rule threw away.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CollectionFigures {
    pub samples: u64,
    /// Frames thrown away, by rule.
    pub rejected: BTreeMap<String, u64>,
    /// Thrown away / (kept + thrown away).
    pub rejected_fraction: f64,
}

impl CollectionFigures {
    fn lines(&self) -> Vec<String> {
        let mut out = vec![format!("- samples: {}", self.samples)];
        out.extend(self.rejected.iter().map(|(rule, n)| format!("- rejected {rule}: {n}")));
        out.push(format!("- rejected_fraction: {}", self.rejected_fraction));
        out
    }
}

/// A gate's figures: the base source's, every other source's under `field` with its own verdict,
/// and the names of the sources it failed on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound(deserialize = "T: Deserialize<'de>"))]
pub struct GateFigures<T> {
    #[serde(flatten)]
    pub base: T,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub field: BTreeMap<String, FieldFigures<T>>,
    #[serde(default)]
    pub failing: Vec<String>,
}

/// One field condition's figures in a gate, and whether it passed there.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldFigures<T> {
    #[serde(flatten)]
    pub figures: T,
    pub passed: bool,
}

impl<T> GateFigures<T> {
    /// The base source's figures, then each field condition's (by name), in the report's order.
    pub fn by_source(&self) -> impl Iterator<Item = (&str, &T)> {
        std::iter::once((crate::file::BASE, &self.base))
            .chain(self.field.iter().map(|(name, f)| (name.as_str(), &f.figures)))
    }

    fn lines(&self, lines: impl Fn(&T) -> Vec<String>) -> Vec<String> {
        let mut out = lines(&self.base);
        if !self.failing.is_empty() {
            out.push(format!("- failing: {}", self.failing.join(", ")));
        }
        for (name, f) in &self.field {
            out.push(format!("\nIn the field condition `{name}`:\n"));
            out.extend(lines(&f.figures));
            out.push(format!("- passed: {}", f.passed));
        }
        out
    }
}

/// The perception gate on one source's held-out frames: the candidate's evaluation, and
/// production's lane-offset MAE on the same frames once a version is in production.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PerceptionFigures {
    #[serde(flatten)]
    pub eval: PerceptionReport,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub production_lane_offset_mae: Option<f32>,
}

impl PerceptionFigures {
    pub fn lane_offset_mae(&self) -> Option<f32> {
        self.eval.mae.get("lane_offset").copied()
    }

    fn lines(&self) -> Vec<String> {
        let e = &self.eval;
        let mut out = vec![format!("- samples: {}", e.samples)];
        out.extend(e.mae.iter().map(|(name, v)| format!("- mae {name}: {v}")));
        out.push(format!("- heading_mae_degrees: {}", e.heading_mae_degrees));
        out.extend(e.accuracy.iter().map(|(name, v)| format!("- accuracy {name}: {v}")));
        out.push(format!("- overlapping_episodes: {}", e.overlapping_episodes));
        out.extend(self.production_lane_offset_mae.map(|v| format!("- production_lane_offset_mae: {v}")));
        out
    }
}

/// The agent gate in one source's scenario: the candidate's held-out evaluation, and on the same
/// episodes the scripted lane keeper's and production's, when the gate compares with them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentFigures {
    #[serde(flatten)]
    pub eval: DrivingReport,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scripted_mean_return: Option<f32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scripted_success_rate: Option<f32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub production_mean_return: Option<f32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub production_success_rate: Option<f32>,
}

impl AgentFigures {
    /// The candidate's figures alone.
    pub fn of(eval: DrivingReport) -> Self {
        Self {
            eval,
            scripted_mean_return: None,
            scripted_success_rate: None,
            production_mean_return: None,
            production_success_rate: None,
        }
    }

    fn lines(&self) -> Vec<String> {
        let s = &self.eval.summary;
        let mut out = vec![
            format!("- episodes: {}", s.episodes),
            format!("- mean_return: {}", s.mean_return),
            format!("- std_return: {}", s.std_return),
            format!("- success_rate: {}", s.success_rate),
            format!("- collisions: {}", s.collisions),
            format!("- off_road: {}", s.off_road),
            format!("- mean_abs_lane_offset: {}", s.mean_abs_lane_offset),
            format!("- mean_length: {}", s.mean_length),
            format!("- held_out: {}", self.eval.held_out),
        ];
        for (name, value) in [
            ("scripted_mean_return", self.scripted_mean_return),
            ("scripted_success_rate", self.scripted_success_rate),
            ("production_mean_return", self.production_mean_return),
            ("production_success_rate", self.production_success_rate),
        ] {
            out.extend(value.map(|v| format!("- {name}: {v}")));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn perception(lane: f32) -> PerceptionFigures {
        PerceptionFigures {
            eval: PerceptionReport {
                samples: 100,
                mae: BTreeMap::from([("lane_offset".into(), lane), ("gap_own".into(), 1.5)]),
                heading_mae_degrees: 2.0,
                accuracy: BTreeMap::from([("left_free".into(), 0.9)]),
                inference_frames_per_second: 1000.0,
                preprocess_frames_per_second: 5000.0,
                batch_size: 64,
                overlapping_episodes: 0,
                segmentation: None,
            },
            production_lane_offset_mae: None,
        }
    }

    fn agent(success: f32) -> AgentFigures {
        AgentFigures::of(DrivingReport {
            summary: lepton_agents::run::EvalSummary {
                episodes: 2,
                seed: 7,
                env_seeds: [7, 9],
                episode_seeds: vec![7, 8],
                mean_return: 3.5,
                std_return: 0.5,
                success_rate: success,
                collisions: 0,
                off_road: 1,
                mean_abs_lane_offset: 0.25,
                mean_length: 40.0,
                end_reasons: BTreeMap::from([("success".into(), 1), ("off_road".into(), 1)]),
                returns: vec![3.0, 4.0],
                videos: Vec::new(),
            },
            checkpoint: "best".into(),
            best_chosen_on_env_seeds: [1_000_000, 1_000_002],
            held_out: true,
        })
    }

    /// Through JSON and back, as stage.json and lineage.json keep figures.
    fn round_trip(figures: &Figures) -> (serde_json::Value, Figures) {
        let json = serde_json::to_value(figures).unwrap();
        (json.clone(), serde_json::from_value(json).unwrap())
    }

    #[test]
    fn each_stage_kind_reads_back_as_itself_in_the_shape_its_command_prints() {
        let gate = Figures::Perception(GateFigures {
            base: PerceptionFigures { production_lane_offset_mae: Some(0.2), ..perception(0.1) },
            field: BTreeMap::from([(
                "dusk".into(),
                FieldFigures { figures: perception(0.9), passed: false },
            )]),
            failing: vec!["dusk".into()],
        });
        let (json, back) = round_trip(&gate);
        assert_eq!(back, gate);
        // The command's own JSON, flat, with the gate's figures beside it.
        assert_eq!(json["mae"]["lane_offset"].as_f64(), Some(0.1f32 as f64));
        assert_eq!(json["production_lane_offset_mae"].as_f64(), Some(0.2f32 as f64));
        assert_eq!(json["field"]["dusk"]["passed"], false);
        assert_eq!(json["failing"], serde_json::json!(["dusk"]));
        assert_eq!(back.failing(), ["dusk"]);

        let driving = Figures::Agent(GateFigures {
            base: AgentFigures { scripted_mean_return: Some(2.0), ..agent(0.5) },
            field: BTreeMap::new(),
            failing: Vec::new(),
        });
        let (json, back) = round_trip(&driving);
        assert_eq!(back, driving);
        assert_eq!((json["success_rate"].as_f64(), json["held_out"].as_bool()), (Some(0.5), Some(true)));
        assert!(json.get("field").is_none() && json.get("production_mean_return").is_none());

        let collection = Figures::Collection(CollectionFigures {
            samples: 90,
            rejected: BTreeMap::from([("flipped".into(), 10)]),
            rejected_fraction: 0.1,
        });
        assert_eq!(round_trip(&collection).1, collection);

        // Figures of a kind this build does not know are kept as they are.
        let other: Figures = serde_json::from_str(r#"{"something": [1, 2]}"#).unwrap();
        assert!(matches!(&other, Figures::Other(v) if v["something"][1] == 2));
        assert!(other.failing().is_empty());
    }

    #[test]
    fn report_lines_name_every_figure_and_each_field_condition() {
        let gate = Figures::Perception(GateFigures {
            base: perception(0.1),
            field: BTreeMap::from([(
                "dusk".into(),
                FieldFigures { figures: perception(0.9), passed: false },
            )]),
            failing: vec!["dusk".into()],
        });
        let text = gate.report_lines().join("\n");
        for expected in [
            "- mae lane_offset: 0.1",
            "- accuracy left_free: 0.9",
            "- failing: dusk",
            "In the field condition `dusk`:",
            "- mae lane_offset: 0.9",
            "- passed: false",
        ] {
            assert!(text.contains(expected), "{expected:?} missing from\n{text}");
        }
        assert!(!text.contains("frames_per_second"), "speeds are not gate figures:\n{text}");
        let sources: Vec<&str> = match &gate {
            Figures::Perception(g) => g.by_source().map(|(name, _)| name).collect(),
            _ => unreachable!(),
        };
        assert_eq!(sources, ["base", "dusk"]);
        let lines =
            Figures::Agent(GateFigures { base: agent(1.0), field: BTreeMap::new(), failing: Vec::new() })
                .report_lines();
        assert!(lines.contains(&"- success_rate: 1".to_string()), "{lines:?}");
    }
}
