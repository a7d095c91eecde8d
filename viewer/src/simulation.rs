//! The simulation as the window sees it: the session on its own thread, the snapshot of every env
//! after the last request, and the system that advances it at the pace playback asks for.

use crate::error::ViewerError;
use crate::playback::Playback;
use crate::report::Report;
use crate::screenshot::{Frames, RecordPlan, ScreenshotPlan};
use crate::session::{Request, SessionHandle, Snapshot};
use bevy::prelude::*;
use std::sync::Mutex;

/// Most policy steps one frame may run (beyond it, time runs slower than asked).
const MAX_STEPS_PER_FRAME: u32 = 16;

/// The simulation thread's handle and its latest snapshot.
#[derive(Resource)]
pub struct Sim {
    session: Mutex<SessionHandle>,
    pub snapshot: Snapshot,
    /// Who drives, for the HUD.
    pub driver_name: String,
}

impl Sim {
    pub fn new(session: SessionHandle, snapshot: Snapshot, driver_name: String) -> Self {
        Self { session: Mutex::new(session), snapshot, driver_name }
    }

    /// Sends a request to the simulation thread; on success the snapshot is the new one.
    pub fn call(&mut self, request: Request) -> Result<(), ViewerError> {
        self.snapshot = self.session.get_mut().unwrap_or_else(|e| e.into_inner()).call(request)?;
        Ok(())
    }
}

/// Advances the simulation each frame.
pub struct SimulationPlugin;

impl Plugin for SimulationPlugin {
    fn build(&self, app: &mut App) {
        app.add_systems(Update, advance.in_set(crate::systems::ViewerSystems::Step).run_if(Frames::counting));
    }
}

/// Resets and steps as playback asks: in real time at the chosen speed, one step at a time when
/// paused, or exactly one step per frame in screenshot and record modes (so frame N shows step N).
fn advance(
    time: Res<Time>,
    frames: Res<Frames>,
    (plan, record): (Option<Res<ScreenshotPlan>>, Option<Res<RecordPlan>>),
    mut playback: ResMut<Playback>,
    mut sim: ResMut<Sim>,
    mut report: ResMut<Report>,
    mut exit: MessageWriter<AppExit>,
) {
    let step_seconds = {
        let s = &sim.snapshot.scenario;
        s.episode.dt * s.actions.repeat.max(1) as f32
    };
    let mut requests = Vec::new();
    if std::mem::take(&mut playback.reset) {
        requests.push(Request::Reset);
    }
    let steps = if let Some(plan) = plan {
        u32::from(frames.shown <= plan.frames)
    } else if let Some(record) = record.filter(|_| !playback.paused) {
        // Recording: one step per frame, so the video (a frame per step) plays in real time.
        u32::from(record.wants(frames.shown))
    } else if playback.paused {
        u32::from(std::mem::take(&mut playback.step_once))
    } else {
        playback.owed += time.delta_secs() * playback.speed();
        let due = (playback.owed / step_seconds).floor() as u32;
        playback.owed -= due as f32 * step_seconds;
        if due > MAX_STEPS_PER_FRAME {
            playback.owed = 0.0;
        }
        due.min(MAX_STEPS_PER_FRAME)
    };
    let keyboard = playback.keyboard;
    requests.extend((0..steps).map(|_| Request::Step { keyboard }));
    for request in requests {
        let stepped = matches!(request, Request::Step { .. });
        if let Err(error) = sim.call(request) {
            report.finish(Err(error), &mut exit);
            return;
        }
        report.report.steps += u64::from(stepped);
    }
}
