//! Hot reload: watches the scenario file and parses it again when its contents change. A broken
//! file yields its error (file, line, column) and the caller keeps the last good world.

use crate::error::ViewerError;
use crate::report::Report;
use crate::screenshot::Frames;
use crate::session::Request;
use crate::simulation::Sim;
use bevy::prelude::*;
use lepton_sim::scenario::{self, Scenario};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::SystemTime;

/// The watched file (if any) and the last reload's error, shown until a reload succeeds.
#[derive(Resource, Default)]
pub struct ReloadStatus {
    watcher: Option<ScenarioWatcher>,
    pub error: Option<String>,
}

impl ReloadStatus {
    pub fn watching(path: Option<PathBuf>) -> Self {
        Self { watcher: path.map(ScenarioWatcher::new), error: None }
    }
}

/// Polls the scenario file each counted frame: a good file replaces the world, a broken one is
/// reported (stderr, HUD, report) and the last good world keeps running.
pub struct ReloadPlugin;

impl Plugin for ReloadPlugin {
    fn build(&self, app: &mut App) {
        app.add_systems(
            Update,
            reload.in_set(crate::systems::ViewerSystems::Reload).run_if(Frames::counting),
        );
    }
}

fn reload(mut status: ResMut<ReloadStatus>, mut sim: ResMut<Sim>, mut report: ResMut<Report>) {
    let Some(watcher) = status.watcher.as_mut() else { return };
    let Some(result) = watcher.poll() else { return };
    let path = watcher.path().display().to_string();
    match result.and_then(|s| sim.call(Request::Reload(Arc::new(s)))) {
        Ok(()) => {
            eprintln!("viewer: reloaded {path}");
            report.report.reloads += 1;
            report.report.reload_error = None;
            report.first_ego = None;
            status.error = None;
        }
        Err(error) => {
            let error = error.to_string();
            eprintln!("viewer: reload failed, the last good world keeps running:\n{error}");
            report.report.failed_reloads += 1;
            report.report.reload_error = Some(error.clone());
            status.error = Some(error);
        }
    }
}

/// Polls one scenario file. Polling (one `stat` per frame) needs no watcher thread and sees
/// editors that replace the file as well as those that write it in place.
pub struct ScenarioWatcher {
    path: PathBuf,
    stamp: Option<(SystemTime, u64)>,
    contents: Option<String>,
}

impl ScenarioWatcher {
    /// Watches `path`, whose current contents are the running world's.
    pub fn new(path: PathBuf) -> Self {
        let stamp = stamp_of(&path);
        let contents = std::fs::read_to_string(&path).ok();
        Self { path, stamp, contents }
    }

    pub fn path(&self) -> &std::path::Path {
        &self.path
    }

    /// `None` while the file is unchanged; else the new scenario or why it cannot be used.
    pub fn poll(&mut self) -> Option<Result<Scenario, ViewerError>> {
        let stamp = stamp_of(&self.path);
        if stamp == self.stamp {
            return None;
        }
        self.stamp = stamp;
        let contents = match std::fs::read_to_string(&self.path) {
            Ok(c) => c,
            // Editors that save by rename leave a moment with no file: wait for the next stamp.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
            Err(source) => return Some(Err(ViewerError::Io { path: self.path.clone(), source })),
        };
        // A touch without a change (or a write of the same text) rebuilds nothing.
        if self.contents.as_deref() == Some(contents.as_str()) {
            return None;
        }
        self.contents = Some(contents.clone());
        Some(scenario::parse_str(&contents, &self.path.display().to_string()).map_err(ViewerError::from))
    }
}

fn stamp_of(path: &std::path::Path) -> Option<(SystemTime, u64)> {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.modified().ok()?, meta.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "(name: \"a\")";

    #[test]
    fn reports_changes_once_and_errors_with_their_line() {
        let dir = std::env::temp_dir().join(format!("lepton-watch-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("s.ron");
        std::fs::write(&path, GOOD).unwrap();
        let mut watcher = ScenarioWatcher::new(path.clone());
        assert!(watcher.poll().is_none(), "unchanged file");

        std::fs::write(&path, "(\n  name: \"a\",\n  bogus: 1,\n)").unwrap();
        let error = watcher.poll().expect("a change").expect_err("a broken file").to_string();
        assert!(error.contains("s.ron:3:"), "error names file and line: {error}");
        assert!(watcher.poll().is_none(), "reported once");

        std::fs::write(&path, "(name: \"b\")").unwrap();
        let scenario = watcher.poll().expect("a change").expect("a good file");
        assert_eq!(scenario.name, "b");
        std::fs::remove_dir_all(&dir).ok();
    }
}
