//! Writing files that later commands read: whole or not at all. The bytes go to a temporary file
//! beside the target, are flushed to disk, and the file is renamed into place, so a reader (or a
//! run killed half-way) never sees a half-written file.

use std::io::Write;
use std::path::{Path, PathBuf};

/// Writes `bytes` to `path` atomically.
pub fn write(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = temporary(path);
    let result = (|| {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)?;
        sync_parent(path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// For files written bit by bit (a CSV trace, a plot): the caller writes to
/// [`temporary`]`(path)` and hands the open file here when done; it is fsynced and renamed to
/// `path`, and the folder fsynced.
pub fn finish(file: std::fs::File, path: &Path) -> std::io::Result<()> {
    file.sync_all()?;
    drop(file);
    std::fs::rename(temporary(path), path)?;
    sync_parent(path)
}

/// Moves the finished file `tmp` (written by someone else, e.g. a drawing library) to `path`:
/// its data fsynced, renamed, the folder fsynced.
pub fn commit(tmp: &Path, path: &Path) -> std::io::Result<()> {
    std::fs::File::open(tmp)?.sync_all()?;
    std::fs::rename(tmp, path)?;
    sync_parent(path)
}

/// Puts the finished folder `staged` at `dir` in one rename, replacing what was there: a reader
/// sees the old folder or the new one, never a mix. The old one is kept as `NAME.old` until the
/// new one is in.
pub fn replace_dir(staged: &Path, dir: &Path) -> std::io::Result<()> {
    let mut old = dir.as_os_str().to_os_string();
    old.push(".old");
    let old = PathBuf::from(old);
    // Every file's data on disk, then the folder's entries, before it goes in.
    for entry in std::fs::read_dir(staged)? {
        let entry = entry?;
        if entry.file_type()?.is_file() {
            std::fs::File::open(entry.path())?.sync_all()?;
        }
    }
    sync_dir(staged)?;
    if dir.exists() {
        if old.exists() {
            std::fs::remove_dir_all(&old)?;
        }
        std::fs::rename(dir, &old)?;
    }
    std::fs::rename(staged, dir)?;
    sync_parent(dir)?;
    if old.exists() {
        std::fs::remove_dir_all(&old)?;
    }
    Ok(())
}

/// Flushes a folder's entries (files created or renamed in it) to disk, so that a rename
/// survives a power cut, not only a killed process.
pub fn sync_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

/// Flushes the entries of the folder `path` is in.
pub fn sync_parent(path: &Path) -> std::io::Result<()> {
    sync_dir(path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new(".")))
}

/// The temporary name beside `path`: `NAME.tmp`.
pub fn temporary(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".tmp");
    path.with_file_name(name)
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_write_replaces_the_file_whole_and_leaves_no_temporary() {
        let dir = std::env::temp_dir().join(format!("lepton-atomic-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("a.json");
        super::write(&path, b"first").unwrap();
        super::write(&path, b"second").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"second");
        assert!(!super::temporary(&path).exists());
        assert!(super::write(&dir.join("missing/b.json"), b"x").is_err(), "no folder, no file");

        // A folder replaced whole.
        let (staged, target) = (dir.join("staged"), dir.join("model"));
        for (version, text) in [(1, "first"), (2, "second")] {
            std::fs::create_dir_all(&staged).unwrap();
            std::fs::write(staged.join("m.json"), text).unwrap();
            std::fs::write(staged.join(format!("only-{version}")), "").unwrap();
            super::replace_dir(&staged, &target).unwrap();
        }
        assert_eq!(std::fs::read_to_string(target.join("m.json")).unwrap(), "second");
        assert!(!target.join("only-1").exists() && !staged.exists() && !dir.join("model.old").exists());
        std::fs::remove_dir_all(dir).unwrap();
    }
}
