//! The stage cache: a stage's output folder is named by the hash of everything it depends on —
//! its settings, the outputs of the stages before it, the scenario and this program's version —
//! so an unchanged stage is found, not redone, and a changed one reruns with everything after it.
//! A stage writes into `NAME-KEY.partial` and the folder is renamed when its `stage.json` is in
//! place: a pipeline killed at any moment reruns what was not finished, and nothing half-written
//! is ever used.

use super::report::{PipelineReport, write_report};
use crate::error::{Result, file};
use crate::figures::Figures;
use crate::file::PipelineFile;
use crate::registry::Promotion;
use crate::stage::{How, StageLine, StageRecord, StageResult, code_version};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// A stage's place and record.
#[derive(Debug, Clone)]
pub struct StageOutput {
    pub dir: PathBuf,
    pub record: StageRecord,
    /// Whether it was found from an earlier run rather than run now.
    pub cached: bool,
}

impl StageOutput {
    pub fn passed(&self) -> bool {
        !self.record.result.failed()
    }
}

/// What running a stage gave.
pub struct Ran {
    pub command: Vec<String>,
    pub result: StageResult,
    pub figures: Option<Figures>,
}

impl Ran {
    /// A stage that made what it makes, measuring nothing.
    pub fn done(command: Vec<String>) -> Self {
        Self { command, result: StageResult::Done, figures: None }
    }
}

/// A value in the stable text form stage keys are made of.
pub fn settings<T: Serialize>(value: &T) -> String {
    ron::to_string(value).expect("stage settings serialise")
}

/// The stages of one run, found or run in order, and their lines for the report.
pub struct StageCache {
    /// `pipeline-runs/NAME`.
    pub work: PathBuf,
    /// The pipeline's resolved scenario, part of every key.
    pub scenario_text: String,
    lines: Vec<StageLine>,
}

impl StageCache {
    pub fn new(work: PathBuf, scenario_text: String) -> Self {
        Self { work, scenario_text, lines: Vec::new() }
    }

    /// Finds stage `name` with these `settings` and `inputs` done, or runs it into a fresh
    /// partial folder and then puts that in place.
    pub fn stage(
        &mut self,
        name: &str,
        settings: &str,
        inputs: &[&StageOutput],
        run: impl FnOnce(&Path) -> Result<Ran>,
    ) -> Result<StageOutput> {
        let mut text = format!("{name}\n{settings}\n{}\n{}\n", self.scenario_text, code_version());
        for input in inputs {
            text.push_str(&input.record.key);
            text.push('\n');
        }
        let key = format!("{:016x}", lepton_artifacts::checksum::content_hash(text.as_bytes()));
        let dir = self.work.join("stages").join(format!("{name}-{key}"));
        let record_path = dir.join("stage.json");
        if let Ok(found) = std::fs::read_to_string(&record_path)
            && let Ok(record) = serde_json::from_str::<StageRecord>(&found)
            && record.key == key
        {
            eprintln!("pipeline: {name}: cached ({})", dir.display());
            self.lines.push(line(&record, How::Cached, &dir));
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
            key,
            result: ran.result,
            seconds: started.elapsed().as_secs_f64(),
            command: ran.command,
            figures: ran.figures,
        };
        let json = serde_json::to_string_pretty(&record).expect("a stage record serialises");
        lepton_artifacts::atomic::write(&partial.join("stage.json"), json.as_bytes())
            .map_err(file(&partial))?;
        lepton_artifacts::atomic::replace_dir(&partial, &dir).map_err(file(&dir))?;
        eprintln!("pipeline: {name}: {} in {:.1} s", record.result, record.seconds);
        self.lines.push(line(&record, How::Ran, &dir));
        Ok(StageOutput { dir, record, cached: false })
    }

    /// The run's report, also written as `report.md` (with `gates.png`) in the working folder.
    pub fn report(self, pipeline: &PipelineFile, promoted: Option<Promotion>) -> PipelineReport {
        let nothing_to_do = self.lines.iter().all(|l| l.how == How::Cached);
        let report =
            PipelineReport { pipeline: pipeline.name.clone(), stages: self.lines, promoted, nothing_to_do };
        // The report is a convenience: failing to write it does not fail the pipeline.
        if let Err(e) = write_report(&self.work, &report, pipeline) {
            eprintln!("pipeline: {}: the report was not written: {e}", self.work.display());
        }
        report
    }
}

fn line(record: &StageRecord, how: How, dir: &Path) -> StageLine {
    StageLine {
        stage: record.stage.clone(),
        key: record.key.clone(),
        how,
        result: record.result,
        seconds: record.seconds,
        dir: dir.to_path_buf(),
        figures: record.figures.clone(),
    }
}
