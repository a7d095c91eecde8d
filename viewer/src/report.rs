//! What a viewer session did, and how it ends: the report printed at the end, and the result the
//! app hands back when it exits (the report, or the error that stopped it).

use crate::error::ViewerError;
use bevy::prelude::*;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// What a viewer session did, printed when it ends.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct ViewerReport {
    pub frames: u64,
    /// Policy steps of the shown envs.
    pub steps: u64,
    pub reloads: u32,
    pub failed_reloads: u32,
    /// The last reload error, if the last reload failed.
    pub reload_error: Option<String>,
    /// Straight-line distance the first env's car moved from its first shown position (m).
    pub ego_moved: f32,
    pub screenshot: Option<PathBuf>,
    /// Frames shown after the render pipelines compiled, and their rate (frames per second of
    /// wall time).
    pub warm_frames: u64,
    pub frames_per_second: f32,
    /// The video `--record` wrote.
    pub recorded: Option<lepton_render::video::VideoSummary>,
}

/// The report so far, and where the session's result goes when it ends.
#[derive(Resource, Default)]
pub struct Report {
    pub report: ViewerReport,
    /// Where the first env's car was first shown (for `ego_moved`).
    pub first_ego: Option<[f32; 3]>,
    /// The result, once the session has ended by itself.
    pub outcome: Arc<Mutex<Option<Result<ViewerReport, ViewerError>>>>,
    /// The report as of the last frame, for a window closed by the user.
    pub latest: Arc<Mutex<ViewerReport>>,
}

impl Report {
    /// Ends the app with `result` (an error of the simulation, or the report).
    pub fn finish(&self, result: Result<ViewerReport, ViewerError>, exit: &mut MessageWriter<AppExit>) {
        let failed = result.is_err();
        *self.outcome.lock().unwrap_or_else(|e| e.into_inner()) = Some(result);
        exit.write(if failed { AppExit::error() } else { AppExit::Success });
    }

    /// Keeps the report of this frame for a window closed by the user.
    pub fn publish(&self) {
        *self.latest.lock().unwrap_or_else(|e| e.into_inner()) = self.report.clone();
    }
}
