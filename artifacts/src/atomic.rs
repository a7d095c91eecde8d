//! Writing files that later commands read: whole or not at all. The bytes go to a temporary file
//! beside the target — created exclusively under an unpredictable name, so no other process can
//! have placed it there first — are flushed to disk, and the file is renamed into place, so a
//! reader (or a run killed half-way) never sees a half-written file.

use std::io::Write;
use std::path::{Path, PathBuf};
use tempfile::TempPath;

/// Writes `bytes` to `path` atomically.
pub fn write(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = temporary(path)?;
    let mut file = std::fs::OpenOptions::new().write(true).open(&tmp)?;
    file.write_all(bytes)?;
    drop(file);
    commit(tmp, path)
}

/// A new, empty file beside `path` under an unpredictable name (`.NAME.XXXXXX.tmp.EXT`: the
/// target's extension kept last, for writers that choose a format by it), for files written bit
/// by bit — a CSV trace, a video, a plot a drawing library writes. Removed again when dropped,
/// unless [`commit`] moves it to `path`.
pub fn temporary(path: &Path) -> std::io::Result<TempPath> {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let suffix = match path.extension() {
        Some(ext) => format!(".tmp.{}", ext.to_string_lossy()),
        None => ".tmp".to_string(),
    };
    let prefix = format!(".{name}.");
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(&suffix);
    // As a plain File::create would make it (0666 less the umask), not tempfile's private 0600:
    // what Lepton writes is meant to be read by the user's other tools.
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
    Ok(builder.tempfile_in(parent(path))?.into_temp_path())
}

/// Moves the finished temporary file `tmp` to `path`: its data fsynced, renamed, the folder
/// fsynced.
pub fn commit(tmp: TempPath, path: &Path) -> std::io::Result<()> {
    std::fs::File::open(&tmp)?.sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    sync_parent(path)
}

/// Puts the finished folder `staged` at `dir` in one rename, replacing what was there: a reader
/// sees the old folder or the new one, never a mix. Every file and folder under `staged` is
/// fsynced first, so what the new name points at survives a power cut. The old one is kept as
/// `NAME.old` until the new one is in.
pub fn replace_dir(staged: &Path, dir: &Path) -> std::io::Result<()> {
    let mut old = dir.as_os_str().to_os_string();
    old.push(".old");
    let old = PathBuf::from(old);
    sync_tree(staged)?;
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

/// fsyncs every file and folder under `dir`, and `dir` itself, deepest first. Symbolic links are
/// not followed (what they point at is not this tree's).
pub fn sync_tree(dir: &Path) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        if kind.is_dir() {
            sync_tree(&entry.path())?;
        } else if kind.is_file() {
            std::fs::File::open(entry.path())?.sync_all()?;
        }
    }
    sync_dir(dir)
}

/// Flushes a folder's entries (files created or renamed in it) to disk, so that a rename
/// survives a power cut, not only a killed process.
pub fn sync_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

/// Flushes the entries of the folder `path` is in.
pub fn sync_parent(path: &Path) -> std::io::Result<()> {
    sync_dir(parent(path))
}

/// The folder `path` is in (`.` for a bare file name).
fn parent(path: &Path) -> &Path {
    path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."))
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
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1, "no temporary left behind");

        // Temporaries: unpredictable, beside the target, the extension last, gone unless committed.
        let (a, b) = (super::temporary(&path).unwrap(), super::temporary(&path).unwrap());
        assert_ne!(a.to_path_buf(), b.to_path_buf());
        assert_eq!(a.parent(), Some(dir.as_path()));
        assert!(a.file_name().unwrap().to_str().unwrap().starts_with(".a.json."));
        assert_eq!(a.extension().unwrap(), "json");
        let dropped = b.to_path_buf();
        drop(b);
        assert!(!dropped.exists());
        std::fs::write(&a, b"third").unwrap();
        super::commit(a, &path).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"third");
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
        assert!(super::write(&dir.join("missing/b.json"), b"x").is_err(), "no folder, no file");

        // A folder replaced whole, nested folders and all (each synced on the way; a link to
        // something outside is left as a link, not followed).
        let (staged, target) = (dir.join("staged"), dir.join("model"));
        for (version, text) in [(1, "first"), (2, "second")] {
            std::fs::create_dir_all(staged.join("run/checkpoints")).unwrap();
            std::fs::write(staged.join("m.json"), text).unwrap();
            std::fs::write(staged.join("run/checkpoints/state.json"), text).unwrap();
            std::fs::write(staged.join(format!("only-{version}")), "").unwrap();
            std::os::unix::fs::symlink("/nonexistent", staged.join("run/dangling")).unwrap();
            super::replace_dir(&staged, &target).unwrap();
        }
        assert_eq!(std::fs::read_to_string(target.join("m.json")).unwrap(), "second");
        assert_eq!(std::fs::read_to_string(target.join("run/checkpoints/state.json")).unwrap(), "second");
        assert!(!target.join("only-1").exists() && !staged.exists() && !dir.join("model.old").exists());
        std::fs::remove_dir_all(dir).unwrap();
    }
}
