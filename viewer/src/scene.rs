//! The env on screen as bevy entities, built with the training renderer's scene code (so the
//! user sees the agent's colours): built at start and after a reload, moved to the latest
//! snapshot every frame.

use crate::cameras::{Follow, ViewCamera};
use crate::playback::{CameraMode, Playback};
use crate::report::Report;
use crate::session::Snapshot;
use crate::simulation::Sim;
use bevy::camera::visibility::RenderLayers;
use bevy::core_pipeline::tonemapping::{DebandDither, Tonemapping};
use bevy::light::cluster::ClusterConfig;
use bevy::prelude::*;
use bevy::render::view::Msaa;
use lepton_sim::render::scene::{EnvScene, SceneMeshes};
use lepton_sim::road::RoadGeometry;

#[derive(Resource)]
struct ShownScene {
    meshes: SceneMeshes,
    scene: EnvScene,
    /// The snapshot generation it was built for (a reload bumps it).
    generation: u64,
}

pub struct ScenePlugin;

impl Plugin for ScenePlugin {
    fn build(&self, app: &mut App) {
        app.add_systems(Startup, spawn_view)
            .add_systems(Update, show.in_set(crate::systems::ViewerSystems::Scene));
    }
}

/// The camera, and the scene of the first snapshot.
fn spawn_view(world: &mut World) {
    let snapshot = world.resource::<Sim>().snapshot.clone();
    let shown = build(world, &snapshot);
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

fn build(world: &mut World, snapshot: &Snapshot) -> ShownScene {
    let scenario = &snapshot.scenario;
    let road = RoadGeometry::new(&scenario.road);
    let meshes = SceneMeshes::new(&mut world.resource_mut::<Assets<Mesh>>(), scenario, &road);
    let mut scene = EnvScene::spawn(world, &meshes, scenario, RenderLayers::layer(0), true);
    scene.show_trigger_markers(world, &meshes, RenderLayers::layer(0));
    ShownScene { meshes, scene, generation: snapshot.generation }
}

/// Rebuilds the scene after a reload, then moves it to where the env on screen has its cars.
fn show(world: &mut World) {
    let snapshot = world.resource::<Sim>().snapshot.clone();
    if world.resource::<ShownScene>().generation != snapshot.generation {
        let old = world.remove_resource::<ShownScene>().expect("scene");
        for entity in old.scene.entities().collect::<Vec<_>>() {
            world.despawn(entity);
        }
        let shown = build(world, &snapshot);
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
    let (env, camera) = {
        let playback = world.resource::<Playback>();
        (playback.env.min(snapshot.envs.len() - 1), playback.camera)
    };
    let state = &snapshot.envs[env];
    world.resource_scope(|world, mut shown: Mut<ShownScene>| {
        shown.scene.apply_look(world, &snapshot.scenario, state.episode_seed, state.poses.events);
        let ego = shown.scene.sync(world, &state.poses);
        world.resource_mut::<Follow>().ego = ego;
        // The car's own camera sits inside the car.
        let visibility = if camera == CameraMode::Car { Visibility::Hidden } else { Visibility::Inherited };
        if let Some(mut v) = world.get_mut::<Visibility>(shown.scene.ego) {
            v.set_if_neq(visibility);
        }
    });
    let mut report = world.resource_mut::<Report>();
    let first = snapshot.envs[0].poses.ego.0;
    let start = *report.first_ego.get_or_insert(first);
    report.report.ego_moved = Vec3::from_array(first).distance(Vec3::from_array(start));
    report.publish();
}
