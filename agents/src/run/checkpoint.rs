//! Checkpoints: everything a run needs to continue exactly — counters, RNG, ε step, and the
//! agent (Q-table; or online and target networks, optimiser state and replay buffer).
//!
//! A checkpoint is a folder written whole under a temporary name and then renamed into place;
//! the previous one is kept as `NAME.old` until the new one is in, so a run killed at any moment
//! leaves one complete checkpoint behind.

use crate::agent::{Agent, PartError};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

pub const STATE_FILE: &str = "state.json";

/// The loop's own state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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

/// Writes `state` and `parts` as the checkpoint folder `dir`, atomically.
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
    for part in parts {
        write(part.file, part.bytes)?;
    }
    // The state goes last: a folder with a state file is complete.
    write(STATE_FILE, &serde_json::to_vec_pretty(state).expect("state serialises"))?;
    let _ = std::fs::remove_dir_all(&old);
    if dir.exists() {
        std::fs::rename(dir, &old).map_err(|e| err(dir, e))?;
    }
    std::fs::rename(&tmp, dir).map_err(|e| err(dir, e))?;
    let _ = std::fs::remove_dir_all(&old);
    Ok(())
}

/// The complete checkpoint folder at `dir` (or its kept previous copy, if the run died while
/// swapping them).
pub fn locate(dir: &Path) -> Option<PathBuf> {
    [dir.to_path_buf(), dir.with_extension("old")].into_iter().find(|d| d.join(STATE_FILE).is_file())
}

pub fn load_state(dir: &Path) -> Result<TrainerState, CheckpointError> {
    let path = dir.join(STATE_FILE);
    let text = std::fs::read_to_string(&path).map_err(|e| err(&path, e))?;
    serde_json::from_str(&text).map_err(|e| err(&path, format!("not a checkpoint state: {e}")))
}

pub fn read_part(dir: &Path, file: &str) -> Result<Vec<u8>, CheckpointError> {
    let path = dir.join(file);
    std::fs::read(&path).map_err(|e| err(&path, e))
}

/// Writes `agent` (and `state`) as the checkpoint folder `dir`; `with_replay: false` leaves the
/// replay buffer out (the "best" checkpoint only needs the policy).
pub fn save_agent(
    dir: &Path,
    state: &TrainerState,
    agent: &dyn Agent,
    with_replay: bool,
) -> Result<(), CheckpointError> {
    let parts = agent.to_parts(with_replay).map_err(|e| err(&dir.join(&e.file), e.message))?;
    let parts: Vec<Part> = parts.iter().map(|(file, bytes)| Part { file, bytes }).collect();
    save(dir, state, &parts)
}

/// Restores the freshly built `agent` from the checkpoint folder `dir`.
pub fn load_agent(dir: &Path, agent: &mut dyn Agent, with_replay: bool) -> Result<(), CheckpointError> {
    let read = |file: &str| read_part(dir, file).map_err(|e| PartError::new(file, e.message));
    agent.load_parts(&read, with_replay).map_err(|e| err(&dir.join(&e.file), e.message))
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
        };
        save(&dir, &state, &[Part { file: "a.bin", bytes: b"first" }]).unwrap();
        state.step = 20;
        save(&dir, &state, &[Part { file: "a.bin", bytes: b"second" }]).unwrap();
        let found = locate(&dir).unwrap();
        assert_eq!(load_state(&found).unwrap(), state);
        assert_eq!(read_part(&found, "a.bin").unwrap(), b"second");
        assert!(!dir.with_extension("tmp").exists() && !dir.with_extension("old").exists());

        // A run killed between the two renames leaves only the old copy: it is found.
        std::fs::rename(&dir, dir.with_extension("old")).unwrap();
        assert_eq!(locate(&dir).unwrap(), dir.with_extension("old"));
        // A half-written folder (no state file) is never taken for a checkpoint.
        std::fs::remove_dir_all(dir.with_extension("old")).unwrap();
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("a.bin"), b"partial").unwrap();
        assert!(locate(&dir).is_none());
        std::fs::remove_dir_all(root).unwrap();
    }
}
