//! The model registry: a folder of numbered versions per pipeline name, each a perception model
//! and the policy trained on it, with its lineage (every stage's input hash, command, result and
//! figures) and an XXH3-64 of every file, and channels (`candidate`, `production`) naming
//! versions.
//!
//! ```text
//! registry/NAME/v0001/{model/, policy/, frame_stats.json, lineage.json}
//! registry/NAME/channels.json      {"candidate": 2, "production": 2, "production_history": [1, 2],
//!                                   "lineages": {"1": "<XXH3-64 of v0001/lineage.json>", ...},
//!                                   "checksum": "<XXH3-64 of the rest>"}
//! ```
//!
//! A chain of hashes: `channels.json` checks itself and records each version's `lineage.json`,
//! which records every other file of its version. Every copy is fsynced file by file and folder
//! by folder before `channels.json` names it; `repair` rebuilds a damaged `channels.json` from
//! the versions, keeping what it can read of production's history.

use crate::stage::{StageRecord, code_version};
use lepton_artifacts::lock::FolderLock;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Why a registry operation failed; every message names the file or folder it is about.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// A file or folder that cannot be read or written.
    #[error("{}: {source}", path.display())]
    File { path: PathBuf, source: std::io::Error },
    /// A name, a channel or a version that is not there, a damaged or changed file.
    #[error("{0}")]
    Refused(String),
    /// Another process changes this entry now (a promotion, a channel move, a rollback).
    #[error(transparent)]
    Lock(#[from] lepton_artifacts::lock::LockError),
}

type Result<T> = std::result::Result<T, RegistryError>;

/// The error of an I/O failure on `path`.
fn file(path: &Path) -> impl FnOnce(std::io::Error) -> RegistryError + '_ {
    move |source| RegistryError::File { path: path.to_path_buf(), source }
}

/// Checks a registry entry's name: 1 to 100 of `A-Z a-z 0-9 _ . -`, not starting with `.`, so
/// that it names one folder inside the registry and nothing else (no `..`, no separators).
pub fn check_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 100
        && !name.starts_with('.')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c));
    if ok {
        Ok(())
    } else {
        Err(RegistryError::Refused(format!(
            "{name:?}: not a registry name (1 to 100 letters, digits, '_', '.' or '-', not starting with '.')"
        )))
    }
}

/// A version's summary of its training frames, by data source (`FrameStats`), for the monitor's
/// drift checks.
pub const FRAME_STATS: &str = "frame_stats.json";

/// What a promotion made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Promotion {
    pub name: String,
    pub version: u32,
    pub dir: PathBuf,
}

/// A version's record.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Lineage {
    pub name: String,
    pub version: u32,
    pub scenario: String,
    pub code_version: String,
    pub stages: Vec<StageRecord>,
    /// XXH3-64 (hex) of every file of the version, by its path inside the version folder.
    pub files: BTreeMap<String, String>,
}

/// Copies the candidate into the next version of `name` and points both channels at it (the
/// pipeline only promotes a candidate that passed its gates).
pub fn promote(
    registry: &Path,
    name: &str,
    model: &Path,
    run: &Path,
    stages: &[&StageRecord],
    scenario: &str,
    extra_files: &[(&str, &[u8])],
) -> Result<Promotion> {
    check_name(name)?;
    let entry = registry.join(name);
    // One writer per entry: two promotions never take the same version number.
    let _lock = FolderLock::acquire(&entry)?;
    let version = versions(&entry)?.last().copied().unwrap_or(0).checked_add(1).filter(|&v| v <= 9999);
    let version = version.ok_or_else(|| {
        RegistryError::Refused(format!("{}: 9999 versions already; no version number left", entry.display()))
    })?;
    let dir = entry.join(format!("v{version:04}"));
    let staged = entry.join(format!("v{version:04}.partial"));
    if staged.exists() {
        std::fs::remove_dir_all(&staged).map_err(file(&staged))?;
    }
    copy_dir(model, &staged.join("model"))?;
    for part in ["config.ron", "scenario.ron", "eval.json", "checkpoints/best"] {
        let from = run.join(part);
        let to = staged.join("policy").join(part);
        if from.is_dir() {
            copy_dir(&from, &to)?;
        } else if from.is_file() {
            std::fs::create_dir_all(to.parent().unwrap_or(&staged)).map_err(file(&to))?;
            std::fs::copy(&from, &to).map_err(file(&from))?;
        }
    }
    // The policy's configuration names the perception model it was trained on: the registry's
    // own copy from now on, so the version stands on its own.
    let config = staged.join("policy").join(lepton_agents::run::files::CONFIG);
    if let Ok(text) = std::fs::read_to_string(&config) {
        let own_model = registry
            .canonicalize()
            .map_err(file(registry))?
            .join(name)
            .join(format!("v{version:04}"))
            .join("model");
        let quoted = |p: &Path| format!("{:?}", p.display().to_string());
        let rewritten = text.replace(&quoted(model), &quoted(&own_model));
        lepton_artifacts::atomic::write(&config, rewritten.as_bytes()).map_err(file(&config))?;
    }
    for (name, bytes) in extra_files {
        let path = staged.join(name);
        lepton_artifacts::atomic::write(&path, bytes).map_err(file(&path))?;
    }
    let lineage = Lineage {
        name: name.into(),
        version,
        scenario: scenario.into(),
        code_version: code_version(),
        stages: stages.iter().map(|s| (*s).clone()).collect(),
        files: hashes(&staged)?,
    };
    let json = serde_json::to_string_pretty(&lineage).expect("a lineage serialises");
    lepton_artifacts::atomic::write(&staged.join("lineage.json"), json.as_bytes()).map_err(file(&staged))?;
    // Every file and folder on disk (replace_dir fsyncs the whole tree) before channels.json
    // names the version.
    lepton_artifacts::atomic::replace_dir(&staged, &dir).map_err(file(&dir))?;
    lepton_artifacts::atomic::sync_dir(&entry).map_err(file(&entry))?;
    let mut channels = channels_or_new(&entry)?;
    channels
        .lineages
        .insert(version, format!("{:016x}", lepton_artifacts::checksum::content_hash(json.as_bytes())));
    channels.candidate = Some(version);
    channels.set_production(version);
    write_channels(&entry, &channels)?;
    Ok(Promotion { name: name.into(), version, dir })
}

/// Which folder of a version a command wants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// The policy: a run directory (`lepton eval`, `lepton view --policy`).
    Policy,
    /// The perception model (`lepton train --model`, `lepton perception eval`).
    Model,
}

/// `registry:NAME[@CHANNEL|@VERSION]` (default channel `production`; the registry folder is
/// `$LEPTON_REGISTRY` or `registry`) → that version's policy or model folder, after checking
/// every file against its recorded hash. Any other path is returned as it is.
pub fn resolve(arg: &Path, part: Part) -> Result<PathBuf> {
    let Some(spec) = arg.to_str().and_then(|s| s.strip_prefix("registry:")) else {
        return Ok(arg.to_path_buf());
    };
    resolve_in(&default_registry(), spec, part)
}

/// The registry folder `registry:` names refer to: `$LEPTON_REGISTRY`, or `registry`.
pub fn default_registry() -> PathBuf {
    std::env::var_os("LEPTON_REGISTRY").map_or_else(|| PathBuf::from("registry"), PathBuf::from)
}

/// `NAME[@CHANNEL|@VERSION]` in `registry` → that version's policy or model folder, after
/// checking every file against its recorded hash.
pub fn resolve_in(registry: &Path, spec: &str, part: Part) -> Result<PathBuf> {
    let dir = version_dir(registry, spec)?;
    verify(&dir)?;
    Ok(dir.join(match part {
        Part::Policy => "policy",
        Part::Model => "model",
    }))
}

/// The folder of `NAME[@CHANNEL|@VERSION]` in `registry`.
pub fn version_dir(registry: &Path, spec: &str) -> Result<PathBuf> {
    let (name, which) = spec.split_once('@').unwrap_or((spec, "production"));
    check_name(name)?;
    let entry = registry.join(name);
    if !entry.is_dir() {
        return Err(RegistryError::Refused(format!("{}: no such registry entry", entry.display())));
    }
    let version = match which.strip_prefix('v').unwrap_or(which).parse::<u32>() {
        Ok(v) => v,
        Err(_) => channels(&entry)?.get(which).ok_or_else(|| {
            RegistryError::Refused(format!("{}: no channel {which:?}", entry.join("channels.json").display()))
        })?,
    };
    let dir = entry.join(format!("v{version:04}"));
    if !dir.is_dir() {
        return Err(RegistryError::Refused(format!("{}: no such version", dir.display())));
    }
    Ok(dir)
}

/// The folder of the version `name`'s production channel serves: none when nothing of `name` was
/// promoted yet (no entry, or no version and no channels in it), an error when the entry is there
/// but its channels or the version they name are damaged or missing — a gate must not skip its
/// comparison with production because production could not be read.
pub fn production(registry: &Path, name: &str) -> Result<Option<PathBuf>> {
    check_name(name)?;
    let entry = registry.join(name);
    if !entry.is_dir() {
        return Ok(None);
    }
    if !entry.join(CHANNELS).exists() && versions(&entry)?.is_empty() {
        return Ok(None);
    }
    match channels(&entry)?.production {
        None => Ok(None),
        Some(_) => version_dir(registry, &format!("{name}@production")).map(Some),
    }
}

/// The version numbers of an entry, ascending.
fn versions(entry: &Path) -> Result<Vec<u32>> {
    let mut found: Vec<u32> = std::fs::read_dir(entry)
        .map_err(file(entry))?
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_str().and_then(|n| n.strip_prefix('v')).and_then(|n| n.parse().ok()))
        .collect();
    found.sort();
    Ok(found)
}

/// The number of a version folder (`.../v0003` → 3).
fn version_of(dir: &Path) -> Option<u32> {
    dir.file_name()?.to_str()?.strip_prefix('v')?.parse().ok()
}

/// Which version each channel serves, and the versions production served in order.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Channels {
    pub candidate: Option<u32>,
    pub production: Option<u32>,
    /// Every version production has served, oldest first (rollback goes back along it).
    #[serde(default)]
    pub production_history: Vec<u32>,
    /// XXH3-64 (hex) of each version's `lineage.json`, by version number.
    #[serde(default)]
    pub lineages: BTreeMap<u32, String>,
    /// XXH3-64 (hex) of the other fields as written: a damaged or hand-edited file is caught.
    #[serde(default)]
    pub checksum: String,
}

impl Channels {
    pub fn get(&self, channel: &str) -> Option<u32> {
        match channel {
            "candidate" => self.candidate,
            "production" => self.production,
            _ => None,
        }
    }

    /// The checksum of everything but the checksum.
    fn seal(&self) -> String {
        let unsealed = Channels { checksum: String::new(), ..self.clone() };
        let text = serde_json::to_string(&unsealed).expect("channels serialise");
        format!("{:016x}", lepton_artifacts::checksum::content_hash(text.as_bytes()))
    }

    fn set_production(&mut self, version: u32) {
        if self.production != Some(version) {
            self.production = Some(version);
            self.production_history.push(version);
        }
    }
}

/// The channels file of an entry.
const CHANNELS: &str = "channels.json";

/// The channels of an entry (`channels.json`): missing or damaged, an error naming it.
pub fn channels(entry: &Path) -> Result<Channels> {
    let path = entry.join(CHANNELS);
    let text = std::fs::read_to_string(&path).map_err(file(&path))?;
    let repair = |what: String| {
        let name = entry.file_name().map_or(String::new(), |n| n.to_string_lossy().into_owned());
        RegistryError::Refused(format!(
            "{}: {what}; `lepton registry repair {name}` rebuilds it from the versions",
            path.display()
        ))
    };
    let channels: Channels = serde_json::from_str(&text).map_err(|e| repair(e.to_string()))?;
    if channels.checksum != channels.seal() {
        return Err(repair("its checksum does not match its contents (damaged, or edited by hand)".into()));
    }
    Ok(channels)
}

/// The channels of an entry, or none yet when it has no `channels.json` (a first promotion);
/// a damaged one is an error, never silently replaced (that would lose production's history).
fn channels_or_new(entry: &Path) -> Result<Channels> {
    if entry.join(CHANNELS).exists() { channels(entry) } else { Ok(Channels::default()) }
}

fn write_channels(entry: &Path, channels: &Channels) -> Result<()> {
    let path = entry.join(CHANNELS);
    let sealed = Channels { checksum: channels.seal(), ..channels.clone() };
    let text = serde_json::to_string_pretty(&sealed).expect("channels serialise");
    lepton_artifacts::atomic::write(&path, text.as_bytes()).map_err(file(&path))
}

/// Points `channel` of `NAME@VERSION` at that version, after checking its files.
pub fn set_channel(registry: &Path, spec: &str, channel: &str) -> Result<Channels> {
    let dir = version_dir(registry, spec)?;
    verify(&dir)?;
    let entry = dir.parent().unwrap_or(registry).to_path_buf();
    let version = version_of(&dir).expect("version_dir names a version folder");
    let _lock = FolderLock::acquire(&entry)?;
    let mut channels = channels_or_new(&entry)?;
    match channel {
        "production" => channels.set_production(version),
        "candidate" => channels.candidate = Some(version),
        other => {
            return Err(RegistryError::Refused(format!(
                "--channel {other:?}: the channels are candidate and production"
            )));
        }
    }
    write_channels(&entry, &channels)?;
    Ok(channels)
}

/// Production goes back to the version it served before the current one.
pub fn rollback(registry: &Path, name: &str) -> Result<Channels> {
    check_name(name)?;
    let entry = registry.join(name);
    if !entry.is_dir() {
        return Err(RegistryError::Refused(format!("{}: no such registry entry", entry.display())));
    }
    let _lock = FolderLock::acquire(&entry)?;
    let mut channels = channels(&entry)?;
    if channels.production_history.len() < 2 {
        return Err(RegistryError::Refused(format!(
            "{}: production has served no earlier version to roll back to",
            entry.join("channels.json").display()
        )));
    }
    channels.production_history.pop();
    let previous = *channels.production_history.last().expect("at least one left");
    verify(&entry.join(format!("v{previous:04}")))?;
    channels.production = Some(previous);
    write_channels(&entry, &channels)?;
    Ok(channels)
}

/// Reads a version's lineage and checks every file against its recorded hash.
pub fn verify(dir: &Path) -> Result<Lineage> {
    let path = dir.join("lineage.json");
    let text = std::fs::read_to_string(&path).map_err(file(&path))?;
    // The lineage itself against the hash channels.json recorded when the version was promoted.
    let entry = dir.parent().unwrap_or(dir);
    let recorded = match version_of(dir) {
        Some(version) => channels(entry)?.lineages.get(&version).cloned(),
        None => None,
    };
    let recorded = recorded.ok_or_else(|| {
        RegistryError::Refused(format!(
            "{}: not among the versions {} records (an interrupted promotion, or a folder copied in)",
            dir.display(),
            entry.join(CHANNELS).display()
        ))
    })?;
    let got = format!("{:016x}", lepton_artifacts::checksum::content_hash(text.as_bytes()));
    if got != recorded {
        return Err(RegistryError::Refused(format!(
            "{}: XXH3-64 {got}, but {} records {recorded}: the file was changed after promotion",
            path.display(),
            CHANNELS
        )));
    }
    verify_files(dir, &text)
}

/// A version's files against the lineage whose text is `text` (itself not checked here).
fn verify_files(dir: &Path, text: &str) -> Result<Lineage> {
    let path = dir.join("lineage.json");
    let lineage: Lineage =
        serde_json::from_str(text).map_err(|e| RegistryError::Refused(format!("{}: {e}", path.display())))?;
    // The lineage is this folder's: its name and number, not another version's copied here.
    let entry_name = dir.parent().and_then(|e| e.file_name()).map(|n| n.to_string_lossy().into_owned());
    if version_of(dir) != Some(lineage.version) || entry_name.as_deref() != Some(lineage.name.as_str()) {
        return Err(RegistryError::Refused(format!(
            "{}: records {}@{}, which is not this folder",
            path.display(),
            lineage.name,
            lineage.version
        )));
    }
    let found = hashes(dir)?;
    if let Some(extra) = found.keys().find(|f| !lineage.files.contains_key(*f)) {
        return Err(RegistryError::Refused(format!(
            "{}: not in lineage.json: added after promotion",
            dir.join(extra).display()
        )));
    }
    for (file_name, want) in &lineage.files {
        match found.get(file_name) {
            Some(got) if got == want => {}
            Some(got) => {
                return Err(RegistryError::Refused(format!(
                    "{}: XXH3-64 {got}, but lineage.json records {want}: the file was changed after promotion",
                    dir.join(file_name).display()
                )));
            }
            None => {
                return Err(RegistryError::Refused(format!("{}: missing", dir.join(file_name).display())));
            }
        }
    }
    Ok(lineage)
}

/// XXH3-64 of every file under `dir` (but `lineage.json`), by relative path.
fn hashes(dir: &Path) -> Result<BTreeMap<String, String>> {
    file_hashes(dir, &["lineage.json"])
}

/// XXH3-64 (hex) of every file under `dir` whose name is not in `skip`, by relative path; a
/// symbolic link anywhere is refused, never followed. Registry versions and the pipeline's stage
/// folders are checked with it.
pub(crate) fn file_hashes(dir: &Path, skip: &[&str]) -> Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).map_err(file(&d))? {
            let entry = entry.map_err(file(&d))?;
            let path = entry.path();
            let kind = plain(&entry)?;
            if kind.is_dir() {
                stack.push(path);
            } else if path.file_name().is_some_and(|n| !skip.iter().any(|s| n == *s)) {
                let bytes = std::fs::read(&path).map_err(file(&path))?;
                let relative = path.strip_prefix(dir).unwrap_or(&path).display().to_string();
                out.insert(relative, format!("{:016x}", lepton_artifacts::checksum::content_hash(&bytes)));
            }
        }
    }
    Ok(out)
}

/// A folder entry's type, without following links: a registry version holds plain files and
/// folders only, so a symbolic link (which could lead a walk out of the version, or round in a
/// circle) is refused.
fn plain(entry: &std::fs::DirEntry) -> Result<std::fs::FileType> {
    let kind = entry.file_type().map_err(file(&entry.path()))?;
    if kind.is_symlink() {
        return Err(RegistryError::Refused(format!(
            "{}: a symbolic link; registry versions hold plain files and folders only",
            entry.path().display()
        )));
    }
    Ok(kind)
}

/// What `repair` did to an entry.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Repair {
    /// The versions whose files all match their lineage, now recorded in channels.json.
    pub versions: Vec<u32>,
    /// The versions left out, and why (their folders are left as they are).
    pub left_out: Vec<(u32, String)>,
    /// Production's history as it could be read from the old channels.json (versions left out
    /// dropped), and whether the old file read at all.
    pub history_kept: bool,
    pub channels: Channels,
}

/// Rebuilds `NAME/channels.json` from the versions on disk: each version whose files match its
/// own lineage is recorded with its lineage's hash; the channels and production's history are
/// kept from the old file as far as it reads (its checksum not required) and they name recorded
/// versions. The old file is kept beside it as `channels.json.damaged`.
pub fn repair(registry: &Path, name: &str) -> Result<Repair> {
    check_name(name)?;
    let entry = registry.join(name);
    if !entry.is_dir() {
        return Err(RegistryError::Refused(format!("{}: no such registry entry", entry.display())));
    }
    let _lock = FolderLock::acquire(&entry)?;
    let mut rebuilt = Channels::default();
    let (mut whole, mut left_out) = (Vec::new(), Vec::new());
    for version in versions(&entry)? {
        let dir = entry.join(format!("v{version:04}"));
        let path = dir.join("lineage.json");
        let checked = std::fs::read_to_string(&path)
            .map_err(file(&path))
            .and_then(|text| verify_files(&dir, &text).map(|_| text));
        match checked {
            Ok(text) => {
                let hash = format!("{:016x}", lepton_artifacts::checksum::content_hash(text.as_bytes()));
                rebuilt.lineages.insert(version, hash);
                whole.push(version);
            }
            Err(e) => left_out.push((version, e.to_string())),
        }
    }
    // What the old file says, read leniently (no checksum, unknown fields ignored).
    let old_path = entry.join(CHANNELS);
    let old: Option<serde_json::Value> =
        std::fs::read_to_string(&old_path).ok().and_then(|t| serde_json::from_str(&t).ok());
    let number =
        |v: &serde_json::Value| v.as_u64().and_then(|n| u32::try_from(n).ok()).filter(|n| whole.contains(n));
    if let Some(old) = &old {
        rebuilt.production_history =
            old["production_history"].as_array().into_iter().flatten().filter_map(number).collect();
        rebuilt.candidate = number(&old["candidate"]);
        rebuilt.production = number(&old["production"]);
        if let Some(p) = rebuilt.production
            && rebuilt.production_history.last() != Some(&p)
        {
            rebuilt.production_history.push(p);
        }
    }
    if old_path.exists() {
        let kept = entry.join("channels.json.damaged");
        std::fs::copy(&old_path, &kept).map_err(file(&kept))?;
    }
    write_channels(&entry, &rebuilt)?;
    lepton_artifacts::atomic::sync_dir(&entry).map_err(file(&entry))?;
    Ok(Repair { versions: whole, left_out, history_kept: old.is_some(), channels: channels(&entry)? })
}

fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to).map_err(file(to))?;
    for entry in std::fs::read_dir(from).map_err(file(from))? {
        let entry = entry.map_err(file(from))?;
        let path = entry.path();
        let target = to.join(path.file_name().unwrap_or_default());
        if plain(&entry)?.is_dir() {
            copy_dir(&path, &target)?;
        } else {
            std::fs::copy(&path, &target).map_err(file(&path))?;
        }
    }
    Ok(())
}

/// Every entry of a registry with its versions and channels, for `lepton registry list`.
pub fn list(registry: &Path) -> Result<serde_json::Value> {
    let mut entries = serde_json::Map::new();
    if !registry.is_dir() {
        return Err(RegistryError::Refused(format!("{}: no registry here", registry.display())));
    }
    let mut names: Vec<_> = std::fs::read_dir(registry)
        .map_err(file(registry))?
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_dir())
        .collect();
    names.sort_by_key(|e| e.file_name());
    for entry in names {
        let name = entry.file_name().to_string_lossy().into_owned();
        let versions = versions(&entry.path())?;
        let channels = channels_or_new(&entry.path())?;
        entries.insert(name, serde_json::json!({ "versions": versions, "channels": channels }));
    }
    Ok(serde_json::Value::Object(entries))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stage::StageResult;

    /// A perception model folder and a training run folder, as the stages leave them.
    fn candidate(dir: &Path, tag: &str) -> (PathBuf, PathBuf) {
        let (model, run) = (dir.join(format!("model-{tag}")), dir.join(format!("run-{tag}")));
        std::fs::create_dir_all(&model).unwrap();
        std::fs::write(model.join("model.json"), format!("{{\"tag\": \"{tag}\"}}")).unwrap();
        std::fs::write(model.join("weights.bin"), tag.repeat(10)).unwrap();
        std::fs::create_dir_all(run.join("checkpoints/best")).unwrap();
        let config = format!("(model: {:?})", model.display().to_string());
        std::fs::write(run.join("config.ron"), config).unwrap();
        std::fs::write(run.join("eval.json"), "{}").unwrap();
        std::fs::write(run.join("checkpoints/best/state.json"), tag).unwrap();
        (model, run)
    }

    fn record(stage: &str) -> StageRecord {
        StageRecord {
            stage: stage.into(),
            key: "00".into(),
            result: StageResult::Done,
            seconds: 1.0,
            command: vec![],
            figures: None,
            outputs: Default::default(),
        }
    }

    #[test]
    fn promote_verify_channels_rollback_and_refusals() {
        let scratch = tempfile::tempdir().unwrap();
        let registry = scratch.path().join("registry");
        let stages = [record("perception"), record("agent")];
        let stages: Vec<&StageRecord> = stages.iter().collect();
        for tag in ["one", "two"] {
            let (model, run) = candidate(scratch.path(), tag);
            let promoted =
                promote(&registry, "tiny", &model, &run, &stages, "tiny", &[(FRAME_STATS, b"{}")]).unwrap();
            assert_eq!(
                promoted.dir,
                registry.join("tiny").join(if tag == "one" { "v0001" } else { "v0002" })
            );
        }
        // Both channels follow the newest promotion; production keeps its history.
        let entry = registry.join("tiny");
        let channels_now = channels(&entry).unwrap();
        assert_eq!((channels_now.candidate, channels_now.production), (Some(2), Some(2)));
        assert_eq!(channels_now.production_history, vec![1, 2]);

        // Names resolve to versions, by channel or number, files checked.
        assert_eq!(version_dir(&registry, "tiny").unwrap(), entry.join("v0002"));
        assert_eq!(version_dir(&registry, "tiny@v1").unwrap(), entry.join("v0001"));
        assert_eq!(version_dir(&registry, "tiny@1").unwrap(), entry.join("v0001"));
        assert_eq!(resolve_in(&registry, "tiny@candidate", Part::Model).unwrap(), entry.join("v0002/model"));
        let lineage = verify(&entry.join("v0001")).unwrap();
        assert_eq!((lineage.version, lineage.stages.len()), (1, 2));
        assert!(lineage.files.contains_key("model/weights.bin") && lineage.files.contains_key(FRAME_STATS));
        // The policy's config names the registry's own copy of the model, not the stage folder.
        let config = std::fs::read_to_string(entry.join("v0001/policy/config.ron")).unwrap();
        assert!(config.contains("v0001/model"), "{config}");

        // Rollback goes back along production's history, once.
        let back = rollback(&registry, "tiny").unwrap();
        assert_eq!((back.production, back.candidate), (Some(1), Some(2)));
        let refused = rollback(&registry, "tiny").unwrap_err().to_string();
        assert!(refused.contains("no earlier version"), "{refused}");
        let moved = set_channel(&registry, "tiny@2", "production").unwrap();
        assert_eq!(moved.production_history, vec![1, 2]);
        assert!(
            set_channel(&registry, "tiny@2", "staging")
                .unwrap_err()
                .to_string()
                .contains("candidate and production")
        );

        // What cannot be had is refused, naming the place.
        for (spec, says) in [
            ("nothing", "no such registry entry"),
            ("tiny@v9", "no such version"),
            ("tiny@beta", "no channel \"beta\""),
        ] {
            let error = version_dir(&registry, spec).unwrap_err();
            assert!(
                matches!(error, RegistryError::Refused(_)) && error.to_string().contains(says),
                "{error}"
            );
        }

        // A changed or missing file is caught before the version is used.
        std::fs::write(entry.join("v0002/model/weights.bin"), "tampered").unwrap();
        let error = resolve_in(&registry, "tiny", Part::Model).unwrap_err().to_string();
        assert!(error.contains("weights.bin") && error.contains("changed after promotion"), "{error}");
        std::fs::remove_file(entry.join("v0001/policy/eval.json")).unwrap();
        let error = verify(&entry.join("v0001")).unwrap_err().to_string();
        assert!(error.ends_with("eval.json: missing"), "{error}");

        // A file added to a version, or a lineage copied from another version, is caught too.
        std::fs::write(entry.join("v0002/model/extra.bin"), "x").unwrap();
        let error = verify(&entry.join("v0002")).unwrap_err().to_string();
        assert!(error.contains("extra.bin: not in lineage.json"), "{error}");
        std::fs::remove_file(entry.join("v0002/model/extra.bin")).unwrap();
        // lineage.json itself is checked against the hash channels.json recorded.
        std::fs::copy(entry.join("v0001/lineage.json"), entry.join("v0002/lineage.json")).unwrap();
        let error = verify(&entry.join("v0002")).unwrap_err().to_string();
        assert!(
            error.contains("v0002/lineage.json: XXH3-64") && error.contains("changed after promotion"),
            "{error}"
        );

        // The listing names every entry with its versions and channels.
        let listed = list(&registry).unwrap();
        assert_eq!(listed["tiny"]["versions"], serde_json::json!([1, 2]));
        assert!(
            list(&scratch.path().join("elsewhere")).unwrap_err().to_string().contains("no registry here")
        );
    }

    #[test]
    fn names_that_leave_the_registry_are_refused() {
        let scratch = tempfile::tempdir().unwrap();
        let registry = scratch.path().join("registry");
        let (model, run) = candidate(scratch.path(), "one");
        for name in ["../x", "a/b", ".", "..", ".hidden", "", "a b", &"n".repeat(101)] {
            let error = promote(&registry, name, &model, &run, &[], "tiny", &[]).unwrap_err().to_string();
            assert!(error.contains("not a registry name"), "{name:?}: {error}");
            assert!(version_dir(&registry, &format!("{name}@1")).is_err());
            assert!(rollback(&registry, name).unwrap_err().to_string().contains("not a registry name"));
        }
        assert!(!scratch.path().join("x").exists(), "nothing was written outside the registry");
        check_name("lane_keep-2.v1").unwrap();
    }

    #[test]
    fn damaged_channels_are_never_replaced_and_production_is_none_only_before_the_first_promotion() {
        let scratch = tempfile::tempdir().unwrap();
        let registry = scratch.path().join("registry");
        assert_eq!(production(&registry, "tiny").unwrap(), None, "no registry yet");
        let (model, run) = candidate(scratch.path(), "one");
        promote(&registry, "tiny", &model, &run, &[], "tiny", &[]).unwrap();
        let entry = registry.join("tiny");
        assert_eq!(production(&registry, "tiny").unwrap(), Some(entry.join("v0001")));
        let good = std::fs::read_to_string(entry.join("channels.json")).unwrap();
        for damage in ["{\"production\": 1, \"unknown\": 2}", "{\"production\": ", ""] {
            std::fs::write(entry.join("channels.json"), damage).unwrap();
            let error = production(&registry, "tiny").unwrap_err().to_string();
            assert!(error.contains("channels.json"), "{error}");
            let refused = promote(&registry, "tiny", &model, &run, &[], "tiny", &[]).unwrap_err();
            assert!(refused.to_string().contains("channels.json"), "{refused}");
            assert!(set_channel(&registry, "tiny@1", "production").is_err());
            assert!(list(&registry).is_err());
            assert_eq!(
                std::fs::read_to_string(entry.join("channels.json")).unwrap(),
                damage,
                "left as it was"
            );
        }
        std::fs::write(entry.join("channels.json"), &good).unwrap();
        // Production pointing at a version that is gone is an error too, not "no production".
        std::fs::remove_dir_all(entry.join("v0001")).unwrap();
        assert!(production(&registry, "tiny").unwrap_err().to_string().contains("no such version"));
    }

    #[test]
    fn symbolic_links_in_a_version_are_refused_not_followed() {
        let scratch = tempfile::tempdir().unwrap();
        let registry = scratch.path().join("registry");
        let (model, run) = candidate(scratch.path(), "one");
        // A link in the candidate: refused at promotion, before anything is copied through it.
        std::os::unix::fs::symlink("..", model.join("up")).unwrap();
        let error = promote(&registry, "tiny", &model, &run, &[], "tiny", &[]).unwrap_err().to_string();
        assert!(error.contains("symbolic link"), "{error}");
        std::fs::remove_file(model.join("up")).unwrap();
        promote(&registry, "tiny", &model, &run, &[], "tiny", &[]).unwrap();
        // One planted in a promoted version: refused at the check, which never walks through it.
        let version = registry.join("tiny").join("v0001");
        std::os::unix::fs::symlink("..", version.join("model").join("loop")).unwrap();
        let error = verify(&version).unwrap_err().to_string();
        assert!(error.contains("loop: a symbolic link"), "{error}");
    }

    #[test]
    fn repair_rebuilds_channels_from_the_versions_keeping_what_reads_of_the_history() {
        let scratch = tempfile::tempdir().unwrap();
        let registry = scratch.path().join("registry");
        for tag in ["one", "two", "three"] {
            let (model, run) = candidate(scratch.path(), tag);
            promote(&registry, "tiny", &model, &run, &[], "tiny", &[]).unwrap();
        }
        let entry = registry.join("tiny");
        rollback(&registry, "tiny").unwrap(); // production: 2, history [1, 2]
        // Edited by hand: valid JSON, but its checksum no longer matches — refused, not used.
        let path = entry.join("channels.json");
        let edited = std::fs::read_to_string(&path).unwrap().replace("\"candidate\": 3", "\"candidate\": 1");
        std::fs::write(&path, &edited).unwrap();
        let refused = production(&registry, "tiny").unwrap_err().to_string();
        assert!(
            refused.contains("checksum does not match") && refused.contains("registry repair tiny"),
            "{refused}"
        );
        // Version 3 damaged as well: repair records 1 and 2, leaves 3 out, keeps the history.
        std::fs::write(entry.join("v0003/model/weights.bin"), "tampered").unwrap();
        let repaired = repair(&registry, "tiny").unwrap();
        assert_eq!(repaired.versions, [1, 2]);
        assert_eq!(repaired.left_out.len(), 1);
        assert!(repaired.left_out[0].1.contains("weights.bin"), "{:?}", repaired.left_out);
        assert!(repaired.history_kept);
        let c = &repaired.channels;
        assert_eq!((c.production, c.candidate, c.production_history.clone()), (Some(2), Some(1), vec![1, 2]));
        assert_eq!(production(&registry, "tiny").unwrap(), Some(entry.join("v0002")));
        verify(&entry.join("v0001")).unwrap();
        assert!(verify(&entry.join("v0003")).unwrap_err().to_string().contains("not among the versions"));
        assert_eq!(std::fs::read_to_string(entry.join("channels.json.damaged")).unwrap(), edited);
        // Unreadable: the versions are recorded again, nothing is in production until promoted.
        std::fs::write(&path, "{\"production\": ").unwrap();
        let repaired = repair(&registry, "tiny").unwrap();
        assert!(!repaired.history_kept && repaired.channels.production.is_none());
        set_channel(&registry, "tiny@1", "production").unwrap();
        assert_eq!(production(&registry, "tiny").unwrap(), Some(entry.join("v0001")));
    }
}
