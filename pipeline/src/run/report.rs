//! What a run did, for the command line (`--json`) and for people: `report.md` in the pipeline's
//! folder, with every stage (ran or cached, result, time), each measuring stage's figures, the
//! gates' picture, the promotion and the reward curve of the agent that was gated last.

use crate::file::PipelineFile;
use crate::registry::Promotion;
use crate::stage::StageLine;
use serde::Serialize;
use std::fmt::Write as _;
use std::path::Path;

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

impl PipelineReport {
    /// Whether a gate (or the data gate) said no: nothing was promoted.
    pub fn refused(&self) -> bool {
        self.promoted.is_none() && self.stages.iter().any(|s| s.result.failed())
    }
}

/// Writes `report.md` (and `gates.png`, and a copy of the last agent's reward curve) into `work`.
pub fn write_report(work: &Path, report: &PipelineReport, pipeline: &PipelineFile) -> std::io::Result<()> {
    std::fs::create_dir_all(work)?;
    let mut md = String::new();
    let _ = writeln!(md, "# Pipeline `{}`\n", report.pipeline);
    let verdict = match &report.promoted {
        Some(p) => format!("**Promoted**: version {} ({}).", p.version, p.dir.display()),
        None if report.refused() => {
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
    match crate::plots::gates(&report.stages, pipeline, &work.join("gates.png")) {
        Ok(()) => {
            let _ =
                writeln!(md, "\n## The gates, attempt by attempt\n\n![gate figures per attempt](gates.png)");
        }
        Err(e) => eprintln!("pipeline: the gates' picture was not drawn: {e}"),
    }
    // Every stage that measured something: the collections' anomaly counts, the gates' figures.
    for s in &report.stages {
        let Some(figures) = &s.figures else { continue };
        let _ = writeln!(md, "\n## {} ({})\n", s.stage, s.result);
        for line in figures.report_lines() {
            let _ = writeln!(md, "{line}");
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
