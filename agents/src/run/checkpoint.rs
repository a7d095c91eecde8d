//! Checkpoints: everything a run needs to continue exactly — counters, RNG, ε step, and the
//! agent (Q-table; or online and target networks, optimiser state and replay buffer).
//!
//! A checkpoint is a folder written whole under a temporary name and then renamed into place;
//! the previous one is kept as `NAME.old` until the new one is in, so a run killed at any moment
//! leaves one complete checkpoint behind. Its `state.json`, written last, lists every file's size
//! and CRC-32C; a file that does not match is refused, naming it.

use crate::agent::{Agent, PartError};
use lepton_artifacts::atomic;
use lepton_artifacts::checksum::{self, FileSum};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub const STATE_FILE: &str = "state.json";

/// The layout of a checkpoint folder. 2: the loop's own state (environments, percepts) and a
/// CRC-32C per file. Older checkpoints cannot be resumed exactly and are refused.
pub const FORMAT: u32 = 2;

/// The loop's own state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainerState {
    /// Env steps taken (summed over envs); ε is a function of it.
    pub step: u64,
    pub updates: u64,
    pub episodes: u64,
    pub rng: ChaCha8Rng,
    /// Best evaluation mean return so far.
    pub best_eval: Option<f32>,
    pub next_eval: u64,
    pub next_checkpoint: u64,
    pub next_log: u64,
    /// The rows of metrics.csv when the checkpoint was taken: a resumed run cuts it back there.
    pub metrics_rows: u64,
}

/// What `state.json` holds: the format, the loop's state, and each file's size and CRC-32C
/// (Castagnoli, as in iSCSI and ext4), checked before the file is used; `check` is the CRC-32C
/// of the rest (as compact JSON), so a flipped digit in the state itself is caught too.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StateFile {
    format: u32,
    state: TrainerState,
    files: BTreeMap<String, FileSum>,
    check: u32,
}

impl StateFile {
    fn checksum(format: u32, state: &TrainerState, files: &BTreeMap<String, FileSum>) -> u32 {
        checksum::crc32c(&serde_json::to_vec(&(format, state, files)).expect("state serialises"))
    }
}

/// One named blob of a checkpoint.
pub struct Part<'a> {
    pub file: &'a str,
    pub bytes: &'a [u8],
}

#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct CheckpointError {
    pub path: PathBuf,
    pub message: String,
}

fn err(path: &Path, message: impl ToString) -> CheckpointError {
    CheckpointError { path: path.to_path_buf(), message: message.to_string() }
}

/// Whether `dir` is a whole checkpoint (its state file, written last, is there).
fn complete(dir: &Path) -> bool {
    dir.join(STATE_FILE).is_file()
}

/// Writes `state` and `parts` as the checkpoint folder `dir`, atomically and durably: the folder
/// is written whole under `NAME.tmp`, every file and the folder fsynced, then renamed into place.
/// The previous checkpoint is kept as `NAME.old` until the new one is in, so at every moment one
/// whole checkpoint is on disk.
pub fn save(dir: &Path, state: &TrainerState, parts: &[Part]) -> Result<(), CheckpointError> {
    let tmp = dir.with_extension("tmp");
    let old = dir.with_extension("old");
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).map_err(|e| err(&tmp, e))?;
    let write = |name: &str, bytes: &[u8]| -> Result<(), CheckpointError> {
        let path = tmp.join(name);
        let mut file = std::fs::File::create(&path).map_err(|e| err(&path, e))?;
        std::io::Write::write_all(&mut file, bytes).map_err(|e| err(&path, e))?;
        file.sync_all().map_err(|e| err(&path, e))
    };
    let mut files = BTreeMap::new();
    for part in parts {
        write(part.file, part.bytes)?;
        files.insert(part.file.to_string(), FileSum::of(part.bytes));
    }
    // The state goes last: a folder with a state file is complete.
    let check = StateFile::checksum(FORMAT, state, &files);
    let state_file = StateFile { format: FORMAT, state: state.clone(), files, check };
    write(STATE_FILE, &serde_json::to_vec_pretty(&state_file).expect("state serialises"))?;
    atomic::sync_dir(&tmp).map_err(|e| err(&tmp, e))?;
    if complete(dir) {
        // The old copy goes only while a whole newer one stands.
        let _ = std::fs::remove_dir_all(&old);
        std::fs::rename(dir, &old).map_err(|e| err(dir, e))?;
    } else if dir.exists() {
        std::fs::remove_dir_all(dir).map_err(|e| err(dir, e))?;
    }
    std::fs::rename(&tmp, dir).map_err(|e| err(dir, e))?;
    let parent = dir.parent().unwrap_or(Path::new("."));
    atomic::sync_dir(parent).map_err(|e| err(parent, e))?;
    let _ = std::fs::remove_dir_all(&old);
    Ok(())
}

/// The complete checkpoint folder at `dir` (or its kept previous copy, if the run died while
/// swapping them).
pub fn locate(dir: &Path) -> Option<PathBuf> {
    [dir.to_path_buf(), dir.with_extension("old")].into_iter().find(|d| complete(d))
}

/// A checkpoint folder opened for reading: its state, and its files checked against the sizes
/// and checksums the state file lists.
pub struct Checkpoint {
    pub dir: PathBuf,
    pub state: TrainerState,
    files: BTreeMap<String, FileSum>,
}

impl Checkpoint {
    /// Reads and checks `dir/state.json`.
    pub fn open(dir: &Path) -> Result<Self, CheckpointError> {
        let path = dir.join(STATE_FILE);
        let text = std::fs::read(&path).map_err(|e| err(&path, e))?;
        let value: serde_json::Value =
            serde_json::from_slice(&text).map_err(|e| err(&path, format!("damaged: not JSON ({e})")))?;
        let format = value.get("format").and_then(serde_json::Value::as_u64);
        if format != Some(FORMAT as u64) {
            return Err(err(
                &path,
                format!(
                    "checkpoint format {}, this Lepton reads format {FORMAT}: it was written by \
                     another version; start a new run (or use the Lepton that wrote it)",
                    format.map_or("none".into(), |f| f.to_string())
                ),
            ));
        }
        let file: StateFile =
            serde_json::from_value(value).map_err(|e| err(&path, format!("damaged: {e}")))?;
        if StateFile::checksum(file.format, &file.state, &file.files) != file.check {
            return Err(err(&path, "damaged: its contents do not match its check (CRC-32C)"));
        }
        Ok(Self { dir: dir.to_path_buf(), state: file.state, files: file.files })
    }

    /// The files the state lists.
    pub fn listed(&self) -> impl Iterator<Item = &str> {
        self.files.keys().map(String::as_str)
    }

    /// The bytes of `file`, after checking them against the state file's size and CRC-32C.
    pub fn read(&self, file: &str) -> Result<Vec<u8>, CheckpointError> {
        let path = self.dir.join(file);
        let want = self
            .files
            .get(file)
            .ok_or_else(|| err(&path, "not listed in the checkpoint's state.json (a foreign file?)"))?;
        let bytes = std::fs::read(&path).map_err(|e| err(&path, e))?;
        let got = FileSum::of(&bytes);
        if got.bytes != want.bytes {
            return Err(err(
                &path,
                format!("damaged: {} bytes, the checkpoint wrote {}", got.bytes, want.bytes),
            ));
        }
        if got.crc32c != want.crc32c {
            return Err(err(
                &path,
                format!("damaged: CRC-32C {:08x}, the checkpoint wrote {:08x}", got.crc32c, want.crc32c),
            ));
        }
        Ok(bytes)
    }

    /// Restores the freshly built `agent` from this checkpoint.
    pub fn load_agent(&self, agent: &mut dyn Agent, with_replay: bool) -> Result<(), CheckpointError> {
        let read = |file: &str| self.read(file).map_err(|e| PartError::new(file, e.message));
        agent.load_parts(&read, with_replay).map_err(|e| err(&self.dir.join(&e.file), e.message))
    }
}

/// Writes `agent`, `state` and `extra` files as the checkpoint folder `dir`; `with_replay:
/// false` leaves the replay buffer out (the "best" checkpoint only needs the policy).
pub fn save_agent(
    dir: &Path,
    state: &TrainerState,
    agent: &dyn Agent,
    with_replay: bool,
    extra: &[(&'static str, Vec<u8>)],
) -> Result<(), CheckpointError> {
    let parts = agent.to_parts(with_replay).map_err(|e| err(&dir.join(&e.file), e.message))?;
    let parts: Vec<Part> = parts.iter().chain(extra).map(|(file, bytes)| Part { file, bytes }).collect();
    save(dir, state, &parts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn a_checkpoint_replaces_the_previous_one_whole() {
        let root = std::env::temp_dir().join(format!("lepton-ckpt-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root).unwrap();
        let dir = root.join("last");
        let mut state = TrainerState {
            step: 10,
            updates: 2,
            episodes: 1,
            rng: ChaCha8Rng::seed_from_u64(4),
            best_eval: None,
            next_eval: 100,
            next_checkpoint: 20,
            next_log: 15,
            metrics_rows: 0,
        };
        save(&dir, &state, &[Part { file: "a.bin", bytes: b"first" }]).unwrap();
        state.step = 20;
        save(&dir, &state, &[Part { file: "a.bin", bytes: b"second" }]).unwrap();
        let found = Checkpoint::open(&locate(&dir).unwrap()).unwrap();
        assert_eq!(found.state, state);
        assert_eq!(found.read("a.bin").unwrap(), b"second");
        // A flipped bit, a truncation, a file the state does not list: each refused, named.
        std::fs::write(dir.join("a.bin"), b"secone").unwrap();
        assert!(found.read("a.bin").unwrap_err().to_string().contains("CRC-32C"));
        std::fs::write(dir.join("a.bin"), b"sec").unwrap();
        assert!(found.read("a.bin").unwrap_err().to_string().contains("3 bytes"));
        assert!(found.read("b.bin").unwrap_err().to_string().contains("not listed"));
        std::fs::write(dir.join(STATE_FILE), b"{\"format\": 1}").unwrap();
        let old = Checkpoint::open(&dir).err().unwrap().to_string();
        assert!(old.contains("format 1") && old.contains("state.json"), "{old}");
        std::fs::write(dir.join(STATE_FILE), b"{\"format\": 2, \"sta").unwrap();
        assert!(Checkpoint::open(&dir).err().unwrap().to_string().contains("damaged"));
        save(&dir, &state, &[Part { file: "a.bin", bytes: b"second" }]).unwrap();
        assert!(!dir.with_extension("tmp").exists() && !dir.with_extension("old").exists());

        // A run killed between the two renames leaves only the old copy: it is found.
        std::fs::rename(&dir, dir.with_extension("old")).unwrap();
        assert_eq!(locate(&dir).unwrap(), dir.with_extension("old"));
        // Saving again keeps the only whole copy until the new one is in.
        save(&dir, &state, &[Part { file: "a.bin", bytes: b"third" }]).unwrap();
        assert_eq!(Checkpoint::open(&locate(&dir).unwrap()).unwrap().read("a.bin").unwrap(), b"third");
        assert!(!dir.with_extension("old").exists());
        // A half-written folder (no state file) is never taken for a checkpoint.
        std::fs::remove_dir_all(&dir).unwrap();
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("a.bin"), b"partial").unwrap();
        assert!(locate(&dir).is_none());
        std::fs::remove_dir_all(root).unwrap();
    }
}
