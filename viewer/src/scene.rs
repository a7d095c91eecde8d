//! The envs as bevy entities, each in both looks — the agent's (the training renderer's scene
//! code and colours) and the lit one (`lit_scene`) — on render layers of its own: built at
//! start and after a reload, moved to the latest snapshot every frame; the cameras, and the grid
//! that shows every env at once.

use crate::cameras::{Follow, ViewCamera};
use crate::lit_scene::{LitScene, ViewerLook, layers_of};
use crate::playback::{CameraMode, Playback};
use crate::report::Report;
use crate::session::Snapshot;
use crate::simulation::Sim;
use bevy::camera::visibility::RenderLayers;
use bevy::core_pipeline::tonemapping::{DebandDither, Tonemapping};
use bevy::light::cluster::ClusterConfig;
use bevy::prelude::*;
use bevy::render::view::Msaa;
use lepton_render::scene::{EnvScene, SceneMeshes};
use lepton_sim::network::Network;

/// Each env's scene in both looks, on render layers of its own ([`layers_of`]).
#[derive(Resource)]
struct ShownScene {
    meshes: SceneMeshes,
    envs: Vec<(EnvScene, LitScene)>,
    /// The snapshot generation it was built for (a reload bumps it).
    generation: u64,
}

/// Whether the window shows every env at once, each in its tile with its chase camera (`G`).
#[derive(Resource, Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grid {
    pub on: bool,
}

/// The camera of env `k`'s tile in grid mode (tile 0 is the [`ViewCamera`]'s).
#[derive(Component)]
struct GridCamera(usize);

pub struct ScenePlugin;

impl Plugin for ScenePlugin {
    fn build(&self, app: &mut App) {
        app.add_plugins(crate::sunlit_material::SunlitMaterialPlugin)
            .add_systems(Startup, spawn_view)
            .add_systems(Update, (show, aim_cameras).chain().in_set(crate::systems::ViewerSystems::Scene));
    }
}

/// The cameras, and the scene of the first snapshot.
fn spawn_view(world: &mut World) {
    let snapshot = world.resource::<Sim>().snapshot.clone();
    let shown = build(world, &snapshot);
    let far = shown.meshes.extent;
    world.insert_resource(shown);
    world.resource_mut::<Follow>().camera = Some(snapshot.scenario.camera_of(0));
    let camera = |order: isize, active: bool| {
        (
            Camera3d::default(),
            Camera { order, is_active: active, ..default() },
            Projection::Perspective(PerspectiveProjection {
                fov: 60f32.to_radians(),
                near: 0.1,
                far,
                ..default()
            }),
            // The agent look's colours are the frames' colours: no tone mapping. No MSAA: on
            // lavapipe 4× MSAA cost more than half the frame rate (9.5 against 23 frames/s).
            Msaa::Off,
            Tonemapping::None,
            DebandDither::Disabled,
            ClusterConfig::Single,
            Transform::default(),
            RenderLayers::layer(0),
        )
    };
    world.spawn((ViewCamera, camera(0, true), IsDefaultUiCamera));
    for k in 1..snapshot.envs.len() {
        world.spawn((GridCamera(k), camera(k as isize, false)));
    }
}

fn build(world: &mut World, snapshot: &Snapshot) -> ShownScene {
    let scenario = &snapshot.scenario;
    // A scenario the viewer shows has been validated: its network can be laid.
    let network = Network::new(scenario).expect("a validated scenario's network can be laid");
    let meshes = SceneMeshes::new(&mut world.resource_mut::<Assets<Mesh>>(), scenario, &network);
    let envs = (0..snapshot.envs.len())
        .map(|k| {
            let (flat, lit) = layers_of(k);
            let mut scene = EnvScene::spawn(world, &meshes, scenario, RenderLayers::layer(flat), true);
            scene.show_trigger_markers(world, &meshes, RenderLayers::layer(flat));
            (scene, LitScene::spawn(world, scenario, &network, meshes.extent, lit))
        })
        .collect();
    ShownScene { meshes, envs, generation: snapshot.generation }
}

/// Rebuilds the scenes after a reload, then moves each to where its env has its cars.
fn show(world: &mut World) {
    let snapshot = world.resource::<Sim>().snapshot.clone();
    if world.resource::<ShownScene>().generation != snapshot.generation {
        let old = world.remove_resource::<ShownScene>().expect("scene");
        for (scene, lit) in &old.envs {
            for entity in scene.entities().chain(lit.entities()).collect::<Vec<_>>() {
                world.despawn(entity);
            }
        }
        let shown = build(world, &snapshot);
        let far = shown.meshes.extent;
        world.insert_resource(shown);
        world.resource_mut::<Follow>().camera = Some(snapshot.scenario.camera_of(0));
        let mut cameras = world.query::<&mut Projection>();
        for mut projection in cameras.iter_mut(world) {
            if let Projection::Perspective(p) = projection.as_mut() {
                p.far = far;
            }
        }
    }
    let (shown_env, camera, grid) = {
        let playback = world.resource::<Playback>();
        (playback.env.min(snapshot.envs.len() - 1), playback.camera, world.resource::<Grid>().on)
    };
    world.resource_scope(|world, mut shown: Mut<ShownScene>| {
        for (k, (scene, lit)) in shown.envs.iter_mut().enumerate() {
            // Off screen, an env's scene waits; it catches up when it is shown.
            if !grid && k != shown_env {
                continue;
            }
            let state = &snapshot.envs[k];
            scene.apply_look(world, &snapshot.scenario, state.episode_seed, state.poses.events);
            lit.apply_look(world, &snapshot.scenario, state.episode_seed, state.poses.events);
            let ego = scene.sync(world, &state.poses);
            lit.sync(world, &state.poses);
            if k == shown_env {
                world.resource_mut::<Follow>().ego = ego;
            }
            // The car's own camera sits inside the car (the main camera's env only).
            let inside = camera == CameraMode::Car && k == if grid { 0 } else { shown_env };
            let visibility = if inside { Visibility::Hidden } else { Visibility::Inherited };
            let parts: Vec<Entity> = std::iter::once(scene.ego).chain(lit.ego_parts()).collect();
            for entity in parts {
                if let Some(mut v) = world.get_mut::<Visibility>(entity) {
                    v.set_if_neq(visibility);
                }
            }
        }
    });
    let mut report = world.resource_mut::<Report>();
    let first = snapshot.envs[0].poses.ego.0;
    let start = *report.first_ego.get_or_insert(first);
    report.report.ego_moved = Vec3::from_array(first).distance(Vec3::from_array(start));
    report.publish();
}

/// Points every camera at its env's layer in the look asked for and, in grid mode, gives each
/// env a tile of the window with a chase camera of its own (the main camera keeps tile 0 and
/// its mode).
#[allow(clippy::type_complexity)]
fn aim_cameras(
    look: Res<ViewerLook>,
    grid: Res<Grid>,
    playback: Res<Playback>,
    sim: Res<Sim>,
    windows: Query<&Window>,
    mut main: Query<(&mut Camera, &mut RenderLayers), (With<ViewCamera>, Without<GridCamera>)>,
    mut tiles: Query<(&GridCamera, &mut Camera, &mut RenderLayers, &mut Transform), Without<ViewCamera>>,
) {
    let envs = sim.snapshot.envs.len();
    let layer = |env: usize| {
        let (flat, lit) = layers_of(env);
        RenderLayers::layer(if look.agent { flat } else { lit })
    };
    let size = windows.iter().next().map(|w| UVec2::new(w.physical_width(), w.physical_height()));
    let columns = (envs as f32).sqrt().ceil().max(1.0) as u32;
    let rows = (envs as u32).div_ceil(columns).max(1);
    let tile = |k: usize| {
        size.map(|s| {
            let (w, h) = (s.x / columns, s.y / rows);
            bevy::camera::Viewport {
                physical_position: UVec2::new(k as u32 % columns * w, k as u32 / columns * h),
                physical_size: UVec2::new(w.max(1), h.max(1)),
                ..default()
            }
        })
    };
    let on = grid.on && envs > 1;
    for (mut camera, mut layers) in &mut main {
        let want = layer(if on { 0 } else { playback.env.min(envs - 1) });
        if *layers != want {
            *layers = want;
        }
        let viewport = if on { tile(0) } else { None };
        if !same_viewport(&camera.viewport, &viewport) {
            camera.viewport = viewport;
        }
    }
    for (GridCamera(k), mut camera, mut layers, mut transform) in &mut tiles {
        if camera.is_active != on {
            camera.is_active = on;
        }
        if !on {
            continue;
        }
        let want = layer(*k);
        if *layers != want {
            *layers = want;
        }
        let viewport = tile(*k);
        if !same_viewport(&camera.viewport, &viewport) {
            camera.viewport = viewport;
        }
        if let Some(state) = sim.snapshot.envs.get(*k) {
            let ego = state.poses.ego_ground_transform();
            *transform = crate::cameras::chase(&ego);
        }
    }
}

/// Whether two viewports cover the same pixels (setting an equal one would still mark the
/// camera changed).
fn same_viewport(a: &Option<bevy::camera::Viewport>, b: &Option<bevy::camera::Viewport>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => {
            a.physical_position == b.physical_position && a.physical_size == b.physical_size
        }
        _ => false,
    }
}
