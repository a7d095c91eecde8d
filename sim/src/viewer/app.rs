//! The window's bevy app: plugins, the scene of the env on screen, and the per-frame loop that
//! reloads the scenario, advances the simulation and syncs the scene; the screenshot mode.

use super::cameras::{self, Follow, FreeFly, ViewCamera};
use super::controls::{self, Playback};
use super::driver::Driver;
use super::hud;
use super::reload::ScenarioWatcher;
use super::session::{Request, SessionHandle, Snapshot};
use super::{ViewerOptions, ViewerReport};
use crate::render::flat_material::FlatMaterialPlugin;
use crate::render::probe_adapter;
use crate::render::renderer::render_plugin;
use crate::render::scene::{EnvScene, SceneMeshes};
use crate::road::RoadGeometry;
use bevy::camera::visibility::RenderLayers;
use bevy::core_pipeline::tonemapping::{DebandDither, Tonemapping};
use bevy::light::cluster::ClusterConfig;
use bevy::pbr::PbrPlugin;
use bevy::prelude::*;
use bevy::render::render_resource::{CachedPipelineState, PipelineCache};
use bevy::render::view::Msaa;
use bevy::render::view::window::screenshot::{Screenshot, ScreenshotCaptured};
use bevy::render::{Render, RenderApp};
use bevy::window::{ExitCondition, WindowResolution};
use bevy::winit::{UpdateMode, WinitSettings};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// Most policy steps one frame may run (beyond it, time runs slower than asked).
const MAX_STEPS_PER_FRAME: u32 = 16;

/// Everything the viewer's frame loop works with.
#[derive(Resource)]
pub struct Viewer {
    session: Mutex<SessionHandle>,
    pub snapshot: Snapshot,
    watcher: Option<ScenarioWatcher>,
    pub driver_name: String,
    /// The last reload's error, shown until a reload succeeds.
    pub error: Option<String>,
    report: ViewerReport,
    first_ego: Option<[f32; 3]>,
    screenshot: Option<(PathBuf, u32)>,
    /// Frames shown since the pipelines became ready (screenshot mode counts these).
    frames: u32,
    screenshot_requested: bool,
    outcome: Arc<Mutex<Option<Result<ViewerReport, String>>>>,
    /// The report so far, for a window closed by the user.
    latest: Arc<Mutex<ViewerReport>>,
}

/// The env on screen as bevy entities.
#[derive(Resource)]
struct ShownScene {
    meshes: SceneMeshes,
    scene: EnvScene,
    generation: u64,
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

pub fn run(options: ViewerOptions, driver: Option<Box<dyn Driver>>) -> Result<ViewerReport, String> {
    probe_adapter().map_err(|e| e.to_string())?;
    if options.envs == 0 {
        return Err("--envs must be at least 1".into());
    }
    let driver_name = driver.as_ref().map_or("keyboard (arrow keys)".to_string(), |d| d.name());
    let scenario = Arc::new(options.scenario);
    let (session, snapshot) = SessionHandle::start(scenario, options.envs, options.seed, driver)?;
    let outcome = Arc::new(Mutex::new(None));
    let latest = Arc::new(Mutex::new(ViewerReport::default()));
    let viewer = Viewer {
        session: Mutex::new(session),
        snapshot,
        watcher: options.watch.map(ScenarioWatcher::new),
        driver_name,
        error: None,
        report: ViewerReport::default(),
        first_ego: None,
        screenshot: options.screenshot,
        frames: 0,
        screenshot_requested: false,
        outcome: outcome.clone(),
        latest: latest.clone(),
    };

    let [width, height] = options.window;
    let mut resolution = WindowResolution::new(width, height);
    // Logical = physical pixels, so screenshots have the size asked for on any display.
    resolution.set_scale_factor_override(Some(1.0));
    let mut app = App::new();
    app.add_plugins(
        DefaultPlugins
            .set(WindowPlugin {
                primary_window: Some(Window {
                    title: format!("Lepton — {}", viewer.snapshot.scenario.name),
                    resolution,
                    ..default()
                }),
                exit_condition: ExitCondition::OnPrimaryClosed,
                ..default()
            })
            .set(render_plugin())
            .set(PbrPlugin { prepass_enabled: false, ..default() }),
    )
    .add_plugins(FlatMaterialPlugin)
    // Keep drawing when the window has no focus (under Xvfb it never has).
    .insert_resource(WinitSettings {
        focused_mode: UpdateMode::Continuous,
        unfocused_mode: UpdateMode::Continuous,
    })
    .insert_resource(Playback::new(options.envs, options.camera, options.hud))
    .insert_resource(viewer)
    .init_resource::<FreeFly>()
    .init_resource::<Follow>()
    .init_resource::<WarmUp>()
    .add_systems(Startup, (spawn_view, hud::spawn_hud))
    .add_systems(Update, (controls::read_keys, simulate, cameras::place_camera, hud::update_hud).chain());
    let watch = PipelineWatch::default();
    app.insert_resource(watch.clone());
    app.sub_app_mut(RenderApp).insert_resource(watch).add_systems(Render, watch_pipelines);
    let exit = app.run();

    let result = outcome.lock().unwrap_or_else(|e| e.into_inner()).take();
    match (result, exit) {
        (Some(result), _) => result,
        (None, AppExit::Success) => Ok(latest.lock().unwrap_or_else(|e| e.into_inner()).clone()),
        (None, AppExit::Error(code)) => Err(format!("the viewer stopped with code {code}")),
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

/// The camera, and the scene of the first snapshot.
fn spawn_view(world: &mut World) {
    let snapshot = world.resource::<Viewer>().snapshot.clone();
    let shown = build_scene(world, &snapshot);
    let far = shown.meshes.extent;
    world.insert_resource(shown);
    world.resource_mut::<Follow>().camera = Some(snapshot.scenario.camera.clone());
    world.spawn((
        ViewCamera,
        Camera3d::default(),
        Projection::Perspective(PerspectiveProjection {
            fov: 60f32.to_radians(),
            near: 0.1,
            far,
            ..default()
        }),
        // The scene's colours are the training frames' colours: no tone mapping, but smooth edges.
        Msaa::Sample4,
        Tonemapping::None,
        DebandDither::Disabled,
        ClusterConfig::Single,
        Transform::default(),
        RenderLayers::layer(0),
        IsDefaultUiCamera,
    ));
}

fn build_scene(world: &mut World, snapshot: &Snapshot) -> ShownScene {
    let scenario = &snapshot.scenario;
    let road = RoadGeometry::new(&scenario.road);
    let meshes = SceneMeshes::new(&mut world.resource_mut::<Assets<Mesh>>(), scenario, &road);
    let scene = EnvScene::spawn(world, &meshes, scenario, RenderLayers::layer(0), true);
    ShownScene { meshes, scene, generation: snapshot.generation }
}

/// Once per frame: hot reload, playback, and the scene of the env on screen.
fn simulate(world: &mut World) {
    let frame_seconds = world.resource::<Time>().delta_secs();
    world.resource_scope(|world, mut viewer: Mut<Viewer>| {
        let viewer = viewer.as_mut();
        viewer.report.frames += 1;
        let screenshot_mode = viewer.screenshot.is_some();
        let was_warm = world.resource::<WarmUp>().ready;
        if !warmed_up(world) {
            // Until every pipeline is compiled, show the first state without advancing (so a
            // screenshot's frames are all whole frames).
            sync_scene(world, viewer);
            if screenshot_mode {
                return;
            }
        } else if !was_warm {
            eprintln!("viewer: ready");
        }
        viewer.frames += 1;

        // Hot reload: a good file replaces the world, a broken one is reported and ignored.
        if let Some(result) = viewer.watcher.as_mut().and_then(ScenarioWatcher::poll) {
            let path = viewer.watcher.as_ref().map(|w| w.path().display().to_string()).unwrap_or_default();
            let reloaded = result
                .and_then(|s| viewer.session.get_mut().expect("session").call(Request::Reload(Arc::new(s))));
            match reloaded {
                Ok(snapshot) => {
                    eprintln!("viewer: reloaded {path}");
                    viewer.snapshot = snapshot;
                    viewer.report.reloads += 1;
                    viewer.error = None;
                    viewer.report.reload_error = None;
                    viewer.first_ego = None;
                }
                Err(error) => {
                    eprintln!("viewer: reload failed, the last good world keeps running:\n{error}");
                    viewer.report.failed_reloads += 1;
                    viewer.report.reload_error = Some(error.clone());
                    viewer.error = Some(error);
                }
            }
        }

        // Playback.
        let mut playback = world.resource_mut::<Playback>();
        let step_seconds = {
            let s = &viewer.snapshot.scenario;
            s.episode.dt * s.actions.repeat.max(1) as f32
        };
        let mut requests = Vec::new();
        if std::mem::take(&mut playback.reset) {
            requests.push(Request::Reset);
        }
        let steps = if screenshot_mode {
            // Exactly one step per frame: the screenshot of frame N shows step N.
            let (_, frames) = viewer.screenshot.as_ref().expect("screenshot mode");
            u32::from(viewer.frames <= *frames)
        } else if playback.paused {
            u32::from(std::mem::take(&mut playback.step_once))
        } else {
            playback.owed += frame_seconds * playback.speed();
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
            match viewer.session.get_mut().expect("session").call(request) {
                Ok(snapshot) => {
                    viewer.snapshot = snapshot;
                    viewer.report.steps += u64::from(stepped);
                }
                Err(error) => {
                    finish(world, viewer, Err(error));
                    return;
                }
            }
        }

        sync_scene(world, viewer);

        // Screenshot mode: after N frames, capture the window and exit once it is written.
        if let Some((path, frames)) = viewer.screenshot.clone()
            && viewer.frames >= frames
            && !viewer.screenshot_requested
        {
            viewer.screenshot_requested = true;
            let outcome = viewer.outcome.clone();
            let mut report = viewer.report.clone();
            report.screenshot = Some(path.clone());
            world.spawn(Screenshot::primary_window()).observe(
                move |captured: On<ScreenshotCaptured>, mut exit: MessageWriter<AppExit>| {
                    let result = save_png(&captured.image, &path).map(|()| report.clone());
                    let failed = result.is_err();
                    *outcome.lock().unwrap_or_else(|e| e.into_inner()) = Some(result);
                    exit.write(if failed { AppExit::error() } else { AppExit::Success });
                },
            );
        }
    });
}

/// Whether the render pipelines have all compiled and stopped appearing.
fn warmed_up(world: &mut World) -> bool {
    let (count, pending) = {
        let watch = world.resource::<PipelineWatch>();
        (watch.0.0.load(Ordering::Relaxed), watch.0.1.load(Ordering::Relaxed))
    };
    let mut warm = world.resource_mut::<WarmUp>();
    if warm.ready {
        return true;
    }
    warm.settled = if count > 0 && count == warm.last_count && !pending { warm.settled + 1 } else { 0 };
    warm.last_count = count;
    warm.ready = warm.settled >= 3;
    warm.ready
}

/// Ends the app with `result` (an error of the simulation, or the report).
fn finish(world: &mut World, viewer: &mut Viewer, result: Result<ViewerReport, String>) {
    let failed = result.is_err();
    *viewer.outcome.lock().unwrap_or_else(|e| e.into_inner()) = Some(result);
    world.write_message(if failed { AppExit::error() } else { AppExit::Success });
}

/// Writes the window's pixels as an RGB PNG, atomically (temporary file, then rename).
fn save_png(image: &Image, path: &std::path::Path) -> Result<(), String> {
    let rgb = image.clone().try_into_dynamic().map_err(|e| format!("screenshot: {e}"))?.to_rgb8();
    let tmp = path.with_extension("png.tmp");
    rgb.save_with_format(&tmp, bevy::image::ImageFormat::Png.as_image_crate_format().expect("png"))
        .map_err(|e| format!("{}: {e}", path.display()))?;
    std::fs::rename(&tmp, path).map_err(|e| format!("{}: {e}", path.display()))
}

/// The scene: rebuilt after a reload, then moved to where the env on screen has its cars.
fn sync_scene(world: &mut World, viewer: &mut Viewer) {
    let env = world.resource::<Playback>().env;
    let snapshot = &viewer.snapshot;
    let rebuild = world.resource::<ShownScene>().generation != snapshot.generation;
    if rebuild {
        let old = world.remove_resource::<ShownScene>().expect("scene");
        for entity in old.scene.entities().collect::<Vec<_>>() {
            world.despawn(entity);
        }
        let shown = build_scene(world, snapshot);
        let far = shown.meshes.extent;
        world.insert_resource(shown);
        world.resource_mut::<Follow>().camera = Some(snapshot.scenario.camera.clone());
        let mut cameras = world.query_filtered::<&mut Projection, With<ViewCamera>>();
        for mut projection in cameras.iter_mut(world) {
            if let Projection::Perspective(p) = projection.as_mut() {
                p.far = far;
            }
        }
    }
    let shown_env = env.min(snapshot.envs.len() - 1);
    let state = &snapshot.envs[shown_env];
    let camera_mode = world.resource::<Playback>().camera;
    world.resource_scope(|world, mut shown: Mut<ShownScene>| {
        shown.scene.apply_look(world, &snapshot.scenario, state.episode_seed);
        let ego = shown.scene.sync(world, &state.poses);
        world.resource_mut::<Follow>().ego = ego;
        // The car's own camera sits inside the car.
        let visibility =
            if camera_mode == cameras::CameraMode::Car { Visibility::Hidden } else { Visibility::Inherited };
        if let Some(mut v) = world.get_mut::<Visibility>(shown.scene.ego) {
            v.set_if_neq(visibility);
        }
    });
    let first = snapshot.envs[0].poses.ego.0;
    let start = *viewer.first_ego.get_or_insert(first);
    viewer.report.ego_moved = Vec3::from_array(first).distance(Vec3::from_array(start));
    *viewer.latest.lock().unwrap_or_else(|e| e.into_inner()) = viewer.report.clone();
}
