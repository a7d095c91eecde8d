//! One writer at a time: an advisory lock on a folder's `.lepton.lock` file (the operating
//! system's file lock, `flock` on Linux), held by the command that writes there — a training run
//! in its run directory, a pipeline run or monitor in its working folder, a promotion in its
//! registry entry. A second writer is refused at once, told which process holds the folder and
//! what it runs. Readers take no lock: every file is written atomically, so they never block and
//! never see half a file. The system drops the lock when its holder exits, however it exits, so a
//! lock left by a killed process is simply taken over.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// The lock file's name inside the folder it guards.
pub const LOCK_FILE: &str = ".lepton.lock";

/// Why a folder could not be locked.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Another process writes there now.
    #[error(
        "{}: in use by process {pid} (`{command}`); wait for it to finish or stop it — one writer at a time",
        dir.display()
    )]
    Held { dir: PathBuf, pid: String, command: String },
    /// The lock file could not be created, read or locked.
    #[error("{}: cannot lock: {source}", path.display())]
    File { path: PathBuf, source: std::io::Error },
}

/// The lock on one folder, held until dropped.
#[derive(Debug)]
pub struct FolderLock {
    /// Kept open: closing the file releases the lock.
    _file: File,
    dir: PathBuf,
}

impl FolderLock {
    /// Locks `dir` (created if missing) for this process, writing this process's id and command
    /// line into the lock file; refused at once with [`LockError::Held`] when another process
    /// holds it.
    pub fn acquire(dir: &Path) -> Result<Self, LockError> {
        let path = dir.join(LOCK_FILE);
        let error = |source| LockError::File { path: path.clone(), source };
        std::fs::create_dir_all(dir).map_err(error)?;
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(error)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut text = String::new();
                let _ = file.read_to_string(&mut text);
                let mut lines = text.lines();
                let pid = lines.next().filter(|p| !p.is_empty()).unwrap_or("unknown").to_string();
                let command = lines.next().unwrap_or("unknown").to_string();
                return Err(LockError::Held { dir: dir.to_path_buf(), pid, command });
            }
            Err(TryLockError::Error(e)) => return Err(error(e)),
        }
        // Who holds it, for the next writer's message (the lock, not this text, is what counts).
        let command: Vec<String> = std::env::args().collect();
        let holder = format!("{}\n{}\n", std::process::id(), command.join(" "));
        file.set_len(0).and_then(|()| file.seek(SeekFrom::Start(0))).map_err(error)?;
        file.write_all(holder.as_bytes()).and_then(|()| file.flush()).map_err(error)?;
        Ok(Self { _file: file, dir: dir.to_path_buf() })
    }

    /// The folder this lock guards.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_writer_is_refused_naming_the_holder_and_the_lock_passes_on_when_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("run");
        let held = FolderLock::acquire(&folder).unwrap();
        assert_eq!(held.dir(), folder);
        // A second open file description is a second writer, even in the same process.
        let refused = FolderLock::acquire(&folder).unwrap_err();
        match &refused {
            LockError::Held { pid, .. } => assert_eq!(pid, &std::process::id().to_string()),
            other => panic!("not refused as held: {other}"),
        }
        assert!(
            refused.to_string().contains(&format!("in use by process {}", std::process::id())),
            "{refused}"
        );
        drop(held);
        let again = FolderLock::acquire(&folder).unwrap();
        let text = std::fs::read_to_string(folder.join(LOCK_FILE)).unwrap();
        assert_eq!(text.lines().next(), Some(std::process::id().to_string().as_str()));
        drop(again);
    }
}
