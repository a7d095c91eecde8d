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
use crate::stage::{How, StageLine, StageRecord, StageResult};
use lepton_artifacts::lock::LOCK_FILE;
use serde::Serialize;
use std::collections::BTreeMap;
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
    /// The program the stages run ([`crate::Lepton::identity`]), part of every key.
    identity: String,
    lines: Vec<StageLine>,
}

impl StageCache {
    pub fn new(work: PathBuf, scenario_text: String, identity: String) -> Self {
        Self { work, scenario_text, identity, lines: Vec::new() }
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
        self.stage_checked(name, settings, inputs, |_| None, run)
    }

    /// [`stage`](Self::stage), where a stage found done is also asked `stale(dir)`: a reason it
    /// no longer holds (the registry version a promotion made is gone) runs it again.
    pub fn stage_checked(
        &mut self,
        name: &str,
        settings: &str,
        inputs: &[&StageOutput],
        stale: impl FnOnce(&Path) -> Option<String>,
        run: impl FnOnce(&Path) -> Result<Ran>,
    ) -> Result<StageOutput> {
        let mut text = format!("{name}\n{settings}\n{}\n{}\n", self.scenario_text, self.identity);
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
            // Done before, and its outputs are still what it made: found, not redone.
            let reason = match outputs(&dir) {
                Ok(now) if now == record.outputs => stale(&dir),
                Ok(now) => Some(changed(&record.outputs, &now)),
                Err(e) => Some(e.to_string()),
            };
            match reason {
                None => {
                    eprintln!("pipeline: {name}: cached ({})", dir.display());
                    self.lines.push(line(&record, How::Cached, &dir));
                    return Ok(StageOutput { dir, record, cached: true });
                }
                Some(reason) => eprintln!("pipeline: {name}: done before, but {reason}: running it again"),
            }
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
            outputs: outputs(&partial)?,
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

/// The XXH3-64 (hex) of every file a stage left in `dir`, by relative path (but its record and a
/// lock file): what a later run checks before it trusts the stage as done.
fn outputs(dir: &Path) -> Result<BTreeMap<String, String>> {
    Ok(crate::registry::file_hashes(dir, &["stage.json", LOCK_FILE])?)
}

/// What differs between the outputs a stage recorded and those there now, in a few words.
fn changed(recorded: &BTreeMap<String, String>, now: &BTreeMap<String, String>) -> String {
    if let Some(gone) = recorded.keys().find(|k| !now.contains_key(*k)) {
        return format!("{gone} is gone");
    }
    if let Some(edited) = recorded.iter().find(|(k, v)| now.get(*k).is_some_and(|n| n != *v)) {
        return format!("{} was changed", edited.0);
    }
    let added = now.keys().find(|k| !recorded.contains_key(*k)).cloned().unwrap_or_default();
    format!("{added} was added")
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs stage `name` (writing `out.txt`) in `cache`; whether it ran (true) or was found.
    fn stage(
        cache: &mut StageCache,
        name: &str,
        settings: &str,
        inputs: &[&StageOutput],
    ) -> (bool, StageOutput) {
        let mut ran = false;
        let out = cache
            .stage(name, settings, inputs, |dir| {
                ran = true;
                std::fs::write(dir.join("out.txt"), settings).unwrap();
                Ok(Ran::done(vec![name.into()]))
            })
            .unwrap();
        (ran, out)
    }

    #[test]
    fn keys_follow_settings_inputs_scenario_and_program_and_outputs_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        let work = dir.path().to_path_buf();
        let cache =
            |scenario: &str, program: &str| StageCache::new(work.clone(), scenario.into(), program.into());
        let mut a = cache("road", "build-1");
        let (ran, first) = stage(&mut a, "collect", "100", &[]);
        assert!(ran && first.passed() && !first.cached);
        assert_eq!(first.record.outputs.keys().collect::<Vec<_>>(), ["out.txt"]);
        let (ran, train) = stage(&mut a, "train", "x", &[&first]);
        assert!(ran);
        // The same again: found, with the same key.
        let mut b = cache("road", "build-1");
        let (ran, again) = stage(&mut b, "collect", "100", &[]);
        assert!(!ran && again.cached && again.record.key == first.record.key);
        assert!(!stage(&mut b, "train", "x", &[&again]).0);
        // Other settings, another scenario or another build of the program: other keys, run.
        for (scenario, program, settings) in
            [("road", "build-1", "200"), ("other", "build-1", "100"), ("road", "build-2", "100")]
        {
            let (ran, other) = stage(&mut cache(scenario, program), "collect", settings, &[]);
            assert!(ran && other.record.key != first.record.key, "{scenario} {program} {settings}");
        }
        // An input with another key changes the key of what depends on it.
        let other_input = stage(&mut cache("road", "build-2"), "collect", "100", &[]).1;
        let (ran, retrained) = stage(&mut cache("road", "build-1"), "train", "x", &[&other_input]);
        assert!(ran && retrained.record.key != train.record.key);
        // An output changed, removed or added after the stage ran: run again.
        let damages: [fn(&Path); 3] = [
            |d| std::fs::write(d.join("out.txt"), "edited").unwrap(),
            |d| std::fs::remove_file(d.join("out.txt")).unwrap(),
            |d| std::fs::write(d.join("stray.bin"), "x").unwrap(),
        ];
        for damage in damages {
            damage(&first.dir);
            let (ran, redone) = stage(&mut cache("road", "build-1"), "collect", "100", &[]);
            assert!(ran && redone.record.key == first.record.key);
            assert_eq!(std::fs::read_to_string(first.dir.join("out.txt")).unwrap(), "100");
            assert!(!first.dir.join("stray.bin").exists(), "the folder was replaced whole");
        }
        // A stage found done that says it is stale runs again.
        let mut c = cache("road", "build-1");
        let mut ran = false;
        c.stage_checked(
            "collect",
            "100",
            &[],
            |_| Some("the registry is gone".into()),
            |d| {
                ran = true;
                std::fs::write(d.join("out.txt"), "100").unwrap();
                Ok(Ran::done(vec![]))
            },
        )
        .unwrap();
        assert!(ran);
        // The report lists what ran and what was found.
        let report = c.report(&PipelineFile::default(), None);
        assert_eq!(report.stages.len(), 1);
        assert!(!report.nothing_to_do);
    }
}
