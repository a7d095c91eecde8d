//! Frames, the screenshot mode and recording: the viewer counts a frame only once every render
//! pipeline has compiled (so no counted frame is half drawn); with `--screenshot FILE --frames N`
//! it captures the window after N counted frames, writes the PNG atomically and exits; with
//! `--record FILE` it captures every counted frame (one policy step each) into an MP4.

use crate::error::ViewerError;
use crate::report::Report;
use bevy::prelude::*;
use bevy::render::render_resource::{CachedPipelineState, PipelineCache};
use bevy::render::view::window::screenshot::{Screenshot, ScreenshotCaptured};
use bevy::render::{Render, RenderApp};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// Capture the window after `frames` counted frames into `path`.
#[derive(Resource, Clone)]
pub struct ScreenshotPlan {
    pub path: PathBuf,
    pub frames: u32,
    requested: bool,
}

impl ScreenshotPlan {
    pub fn new(path: PathBuf, frames: u32) -> Self {
        Self { path, frames, requested: false }
    }
}

/// Record every counted frame of the window into an MP4 (up to `frames` frames, then exit).
#[derive(Resource, Clone)]
pub struct RecordPlan {
    pub path: PathBuf,
    pub frames: Option<u32>,
    /// The video being written, shared with the capture observers and with [`crate::run`],
    /// which finishes it when the app ends.
    pub video: Arc<Mutex<Option<lepton_render::video::VideoWriter>>>,
    /// The first error, if a frame could not be written.
    pub error: Arc<Mutex<Option<ViewerError>>>,
    /// Frames per second of the video: one policy step per frame plays in real time.
    pub fps: f32,
    requested: u32,
}

impl RecordPlan {
    pub fn new(path: PathBuf, frames: Option<u32>, fps: f32) -> Self {
        Self { path, frames, video: Arc::default(), error: Arc::default(), fps, requested: 0 }
    }

    /// Whether frame `shown` still belongs in the recording.
    pub fn wants(&self, shown: u32) -> bool {
        self.frames.is_none_or(|n| shown <= n)
    }
}

/// Run this many counted frames, then exit (`--frames N` alone: a timed run).
#[derive(Resource, Clone, Copy)]
pub struct FrameLimit(pub u32);

/// Frames shown, and whether this one counts (the pipelines are ready, or no screenshot waits).
#[derive(Resource, Default)]
pub struct Frames {
    pub shown: u32,
    pub counting: bool,
    /// When the first frame after the warm-up was shown, for the frame rate.
    since: Option<std::time::Instant>,
}

impl Frames {
    /// Run condition: the simulation and reloads move only on counted frames.
    pub fn counting(frames: Res<Frames>) -> bool {
        frames.counting
    }
}

/// Render-world pipeline counts, so the first counted frame is never half drawn.
#[derive(Resource, Clone, Default)]
struct PipelineWatch(Arc<(AtomicUsize, AtomicBool)>);

#[derive(Resource, Default)]
struct WarmUp {
    last_count: usize,
    settled: u32,
    ready: bool,
}

pub struct ScreenshotPlugin;

impl Plugin for ScreenshotPlugin {
    fn build(&self, app: &mut App) {
        let watch = PipelineWatch::default();
        app.insert_resource(watch.clone())
            .init_resource::<WarmUp>()
            .init_resource::<Frames>()
            .add_systems(Update, count_frame.in_set(crate::systems::ViewerSystems::Input))
            .add_systems(
                Update,
                (capture, record, stop_after)
                    .in_set(crate::systems::ViewerSystems::Capture)
                    .run_if(Frames::counting),
            );
        app.sub_app_mut(RenderApp).insert_resource(watch).add_systems(Render, watch_pipelines);
    }
}

fn watch_pipelines(cache: Res<PipelineCache>, watch: Res<PipelineWatch>) {
    let mut count = 0;
    let mut pending = cache.waiting_pipelines().next().is_some();
    for pipeline in cache.pipelines() {
        count += 1;
        if !matches!(pipeline.state, CachedPipelineState::Ok(_) | CachedPipelineState::Err(_)) {
            pending = true;
        }
    }
    watch.0.0.store(count, Ordering::Relaxed);
    watch.0.1.store(pending, Ordering::Relaxed);
}

/// Counts the frame; until every pipeline has compiled and the set stopped growing, a screenshot
/// run shows the first state without advancing.
fn count_frame(
    watch: Res<PipelineWatch>,
    plan: Option<Res<ScreenshotPlan>>,
    record: Option<Res<RecordPlan>>,
    mut warm: ResMut<WarmUp>,
    mut frames: ResMut<Frames>,
    mut report: ResMut<Report>,
) {
    report.report.frames += 1;
    if !warm.ready {
        let (count, pending) = (watch.0.0.load(Ordering::Relaxed), watch.0.1.load(Ordering::Relaxed));
        warm.settled = if count > 0 && count == warm.last_count && !pending { warm.settled + 1 } else { 0 };
        warm.last_count = count;
        warm.ready = warm.settled >= 3;
        if warm.ready {
            eprintln!("viewer: ready");
        }
    }
    frames.counting = warm.ready || (plan.is_none() && record.is_none());
    if frames.counting {
        frames.shown += 1;
    }
    // The frame rate once the pipelines have compiled: frames shown per second of wall time.
    if warm.ready {
        let since = *frames.since.get_or_insert_with(std::time::Instant::now);
        let seconds = since.elapsed().as_secs_f64();
        report.report.warm_frames += 1;
        if seconds > 0.0 {
            report.report.frames_per_second = ((report.report.warm_frames - 1) as f64 / seconds) as f32;
        }
    }
}

/// Ends a timed run after its frames.
fn stop_after(frames: Res<Frames>, limit: Option<Res<FrameLimit>>, mut exit: MessageWriter<AppExit>) {
    if limit.is_some_and(|l| frames.shown >= l.0) {
        exit.write(AppExit::Success);
    }
}

/// After the planned frames, captures the window; the app exits once the PNG is written.
fn capture(
    mut commands: Commands,
    frames: Res<Frames>,
    plan: Option<ResMut<ScreenshotPlan>>,
    report: Res<Report>,
) {
    let Some(mut plan) = plan else { return };
    if frames.shown < plan.frames || plan.requested {
        return;
    }
    plan.requested = true;
    let path = plan.path.clone();
    let outcome = report.outcome.clone();
    let mut done = report.report.clone();
    done.screenshot = Some(path.clone());
    commands.spawn(Screenshot::primary_window()).observe(
        move |captured: On<ScreenshotCaptured>, mut exit: MessageWriter<AppExit>| {
            let result = save_png(&captured.image, &path).map(|()| done.clone());
            let failed = result.is_err();
            *outcome.lock().unwrap_or_else(|e| e.into_inner()) = Some(result);
            exit.write(if failed { AppExit::error() } else { AppExit::Success });
        },
    );
}

/// Captures this frame into the recording; after the planned frames the app exits once the last
/// capture is written.
fn record(mut commands: Commands, frames: Res<Frames>, plan: Option<ResMut<RecordPlan>>) {
    let Some(mut plan) = plan else { return };
    if !plan.wants(frames.shown) || plan.requested >= frames.shown {
        return;
    }
    plan.requested = frames.shown;
    let last = plan.frames == Some(frames.shown);
    let (video, error, path, fps) = (plan.video.clone(), plan.error.clone(), plan.path.clone(), plan.fps);
    commands.spawn(Screenshot::primary_window()).observe(
        move |captured: On<ScreenshotCaptured>, mut exit: MessageWriter<AppExit>| {
            if let Err(e) = append_frame(&captured.image, &video, &path, fps) {
                error.lock().unwrap_or_else(|e| e.into_inner()).get_or_insert(e);
                exit.write(AppExit::error());
            } else if last {
                exit.write(AppExit::Success);
            }
        },
    );
}

/// Appends the window's pixels (cropped to even sides, as H.264 needs) to the video, starting it
/// with the first frame's size.
fn append_frame(
    image: &Image,
    video: &Mutex<Option<lepton_render::video::VideoWriter>>,
    path: &std::path::Path,
    fps: f32,
) -> Result<(), ViewerError> {
    let encoding = |message: String| ViewerError::Screenshot { path: path.to_path_buf(), message };
    let dynamic = image.clone().try_into_dynamic().map_err(|e| encoding(e.to_string()))?;
    let mut video = video.lock().unwrap_or_else(|e| e.into_inner());
    let frame = fit_frame(&dynamic, video.as_ref().map(|v| v.size()));
    let (width, height) = (frame.width, frame.height);
    if video.is_none() {
        *video = Some(
            lepton_render::video::VideoWriter::create(path, [width, height], fps)
                .map_err(|e| encoding(e.to_string()))?,
        );
    }
    video.as_mut().expect("started above").push(&frame).map_err(|e| encoding(e.to_string()))
}

/// A window capture as a video frame: the first sets the video's size (cropped to even sides,
/// as H.264 wants); a window resized during the recording goes on being recorded, scaled to the
/// video's `size`.
fn fit_frame(capture: &image::DynamicImage, size: Option<[u32; 2]>) -> lepton_sim::Frame {
    let even = [capture.width() & !1, capture.height() & !1];
    let [width, height] = size.unwrap_or(even);
    let rgb = if even == [width, height] {
        capture.crop_imm(0, 0, width, height).to_rgb8()
    } else {
        capture.resize_exact(width, height, image::imageops::FilterType::Triangle).to_rgb8()
    };
    lepton_sim::Frame { width, height, channels: 3, data: rgb.into_raw() }
}

/// Writes the window's pixels as an RGB PNG, atomically.
fn save_png(image: &Image, path: &std::path::Path) -> Result<(), ViewerError> {
    let encoding = |message: String| ViewerError::Screenshot { path: path.to_path_buf(), message };
    let rgb = image.clone().try_into_dynamic().map_err(|e| encoding(e.to_string()))?.to_rgb8();
    let mut png = std::io::Cursor::new(Vec::new());
    rgb.write_to(&mut png, bevy::image::ImageFormat::Png.as_image_crate_format().expect("png"))
        .map_err(|e| encoding(e.to_string()))?;
    lepton_artifacts::atomic::write(path, png.get_ref())
        .map_err(|source| ViewerError::Io { path: path.to_path_buf(), source })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_resized_during_a_recording_is_scaled_to_the_videos_size() {
        let capture = image::DynamicImage::ImageRgb8(image::RgbImage::from_fn(101, 61, |x, _| {
            image::Rgb([if x < 50 { 255 } else { 0 }, 0, 0])
        }));
        let first = fit_frame(&capture, None);
        assert_eq!((first.width, first.height, first.data.len()), (100, 60, 100 * 60 * 3));
        let bigger = image::DynamicImage::ImageRgb8(image::RgbImage::new(300, 200));
        let scaled = fit_frame(&bigger, Some([100, 60]));
        assert_eq!((scaled.width, scaled.height, scaled.data.len()), (100, 60, 100 * 60 * 3));
        let smaller = fit_frame(&capture, Some([200, 120]));
        assert_eq!((smaller.width, smaller.height), (200, 120));
        assert_eq!(smaller.data[0], 255, "the picture is scaled, not cropped: the left stays red");
        assert_eq!(smaller.data[3 * 199], 0);
    }
}
