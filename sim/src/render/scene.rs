//! Scene building, shared by the training renderer and the viewer: one environment's road,
//! obstacles and cars as bevy entities on a render layer, its look, and its poses each step.

use super::flat_material::FlatMaterial;
use super::look::EpisodeLook;
use super::meshes;
use crate::road::{RoadGeometry, plane_to_world};
use crate::scenario::{Camera as CameraConfig, ObstacleKind, Scenario};
use crate::traffic::NPC_SIZE;
use crate::vehicle::RIDE_HEIGHT;
use crate::world::World as SimWorld;
use bevy::camera::visibility::RenderLayers;
use bevy::prelude::*;

/// Half size of the sky box that follows each camera (m).
pub const SKY_HALF_SIZE: f32 = 600.0;
/// NPC body colours, cycled.
const NPC_COLOURS: [[f32; 3]; 6] = [
    [0.7, 0.1, 0.1],
    [0.1, 0.25, 0.7],
    [0.85, 0.85, 0.85],
    [0.1, 0.1, 0.1],
    [0.2, 0.55, 0.25],
    [0.8, 0.6, 0.1],
];
const EGO_COLOUR: [f32; 3] = [0.95, 0.8, 0.05];

/// Meshes every environment of a scenario shares.
pub struct SceneMeshes {
    ground: Handle<Mesh>,
    road: Handle<Mesh>,
    shoulders: Option<Handle<Mesh>>,
    markings: Option<Handle<Mesh>>,
    sky: Handle<Mesh>,
    ego: Handle<Mesh>,
    npcs: Vec<Handle<Mesh>>,
    /// One per obstacle with its pose, in the scenario's order.
    obstacles: Vec<(Handle<Mesh>, Transform)>,
}

impl SceneMeshes {
    pub fn new(meshes: &mut Assets<Mesh>, scenario: &Scenario, road: &RoadGeometry) -> Self {
        let [x0, y0, x1, y1] = road.bounds();
        let centre = [0.5 * (x0 + x1), 0.5 * (y0 + y1)];
        let half = 0.5 * (x1 - x0).max(y1 - y0) + 1.5 * SKY_HALF_SIZE;
        let vehicle = &scenario.ego.vehicle;
        Self {
            ground: meshes.add(meshes::ground(centre, half)),
            road: meshes.add(meshes::road_surface(road)),
            shoulders: meshes::shoulders(road).map(|m| meshes.add(m)),
            markings: meshes::markings(road, scenario.road.markings).map(|m| meshes.add(m)),
            sky: meshes.add(meshes::sky_box(SKY_HALF_SIZE)),
            ego: meshes.add(meshes::car([vehicle.length, vehicle.width, 1.45], EGO_COLOUR)),
            npcs: NPC_COLOURS.iter().map(|&c| meshes.add(meshes::car(NPC_SIZE, c))).collect(),
            // Obstacles stand where the world puts them; their placement does not depend on the seed.
            obstacles: scenario
                .obstacles
                .iter()
                .map(|o| {
                    let size = o.size.unwrap_or_else(|| o.kind.default_size());
                    let mesh = meshes.add(match o.kind {
                        ObstacleKind::Cone => meshes::cone(size),
                        ObstacleKind::Box => meshes::crate_box(size),
                        ObstacleKind::Barrier => meshes::barrier(size),
                    });
                    let d = o.lane.map_or(0.0, |lane| road.lane_centre(lane)) + o.offset;
                    let pose = road.pose(o.s, d);
                    let transform = Transform {
                        translation: Vec3::from_array(plane_to_world(pose.x, pose.y, 0.0)),
                        rotation: Quat::from_rotation_y(pose.heading),
                        ..default()
                    };
                    (mesh, transform)
                })
                .collect(),
        }
    }
}

/// Per-environment materials: the episode's look lives here.
struct EnvMaterials {
    ground: Handle<FlatMaterial>,
    road: Handle<FlatMaterial>,
    shoulder: Handle<FlatMaterial>,
    marking: Handle<FlatMaterial>,
    sky: Handle<FlatMaterial>,
    /// Objects carry their colours in vertex colours; this is the light falling on them.
    objects: Handle<FlatMaterial>,
}

/// A material of one colour: the light is baked into it.
fn unlit(colour: [f32; 3]) -> FlatMaterial {
    FlatMaterial::new(colour)
}

/// The entities of one environment's scene.
pub struct EnvScene {
    pub ego: Entity,
    sky: Entity,
    npcs: Vec<Entity>,
    materials: EnvMaterials,
    /// The episode whose look is applied.
    look_seed: Option<u64>,
}

impl EnvScene {
    /// Spawns one environment's scene on `layer`. `show_ego` hides the ego car when the camera
    /// sits inside it.
    pub fn spawn(
        world: &mut World,
        meshes: &SceneMeshes,
        scenario: &Scenario,
        layer: RenderLayers,
        show_ego: bool,
    ) -> Self {
        let materials = {
            let mut assets = world.resource_mut::<Assets<FlatMaterial>>();
            let look = EpisodeLook::draw(&scenario.look, 0);
            EnvMaterials {
                ground: assets.add(unlit(look.lit(look.ground))),
                road: assets.add(unlit(look.lit(look.road))),
                shoulder: assets.add(unlit(look.lit(look.shoulder))),
                marking: assets.add(unlit(look.lit(look.marking))),
                sky: assets.add(unlit(look.sky)),
                objects: assets.add(unlit([1.0; 3])),
            }
        };
        let entity = |mesh: &Handle<Mesh>, material: &Handle<FlatMaterial>, transform: Transform| {
            (Mesh3d(mesh.clone()), MeshMaterial3d(material.clone()), transform, layer.clone())
        };
        world.spawn(entity(&meshes.ground, &materials.ground, Transform::default()));
        world.spawn(entity(&meshes.road, &materials.road, Transform::default()));
        if let Some(m) = &meshes.shoulders {
            world.spawn(entity(m, &materials.shoulder, Transform::default()));
        }
        if let Some(m) = &meshes.markings {
            world.spawn(entity(m, &materials.marking, Transform::default()));
        }
        let sky = world.spawn(entity(&meshes.sky, &materials.sky, Transform::default())).id();
        for (mesh, transform) in &meshes.obstacles {
            world.spawn(entity(mesh, &materials.objects, *transform));
        }
        let ego_visibility = if show_ego { Visibility::Inherited } else { Visibility::Hidden };
        let ego =
            world.spawn((entity(&meshes.ego, &materials.objects, Transform::default()), ego_visibility)).id();
        let npcs = (0..scenario.traffic.count as usize)
            .map(|k| {
                let mesh = &meshes.npcs[k % meshes.npcs.len()];
                world.spawn((entity(mesh, &materials.objects, Transform::default()), Visibility::Hidden)).id()
            })
            .collect();
        Self { ego, sky, npcs, materials, look_seed: None }
    }

    /// Applies the look of episode `episode_seed` unless it is applied already.
    pub fn apply_look(&mut self, world: &mut World, scenario: &Scenario, episode_seed: u64) {
        if self.look_seed == Some(episode_seed) {
            return;
        }
        self.look_seed = Some(episode_seed);
        let look = EpisodeLook::draw(&scenario.look, episode_seed);
        let mut materials = world.resource_mut::<Assets<FlatMaterial>>();
        let mut set = |handle: &Handle<FlatMaterial>, colour: [f32; 3]| {
            if let Some(mut m) = materials.get_mut(handle) {
                m.colour = LinearRgba::rgb(colour[0], colour[1], colour[2]);
            }
        };
        set(&self.materials.ground, look.lit(look.ground));
        set(&self.materials.road, look.lit(look.road));
        set(&self.materials.shoulder, look.lit(look.shoulder));
        set(&self.materials.marking, look.lit(look.marking));
        set(&self.materials.sky, look.sky.map(|c| (c * look.brightness.sqrt()).clamp(0.0, 1.0)));
        set(&self.materials.objects, [look.light_from_above().min(1.0); 3]);
    }

    /// Moves the cars to where `sim` has them; returns the ego car's transform (its origin on the
    /// ground).
    pub fn sync(&self, world: &mut World, sim: &SimWorld) -> Transform {
        let ego = sim.ego_state();
        let rotation = Quat::from_array(ego.rotation);
        let ground_origin = Vec3::from_array(ego.position) + rotation * Vec3::new(0.0, -RIDE_HEIGHT, 0.0);
        let ego_transform = Transform { translation: ground_origin, rotation, ..default() };
        *world.get_mut::<Transform>(self.ego).expect("ego entity") = ego_transform;
        for (i, &entity) in self.npcs.iter().enumerate() {
            let mut entity = world.entity_mut(entity);
            match sim.npc_pose(i) {
                Some((position, rotation)) => {
                    *entity.get_mut::<Visibility>().expect("npc visibility") = Visibility::Inherited;
                    *entity.get_mut::<Transform>().expect("npc transform") = Transform {
                        translation: Vec3::from_array(position),
                        rotation: Quat::from_array(rotation),
                        ..default()
                    };
                }
                None => *entity.get_mut::<Visibility>().expect("npc visibility") = Visibility::Hidden,
            }
        }
        ego_transform
    }
}

impl EnvScene {
    /// Centres the sky box under a camera at `camera`.
    pub fn move_sky(&self, world: &mut World, camera: Vec3) {
        world.get_mut::<Transform>(self.sky).expect("sky entity").translation =
            Vec3::new(camera.x, 0.0, camera.z);
    }
}

/// Where the car's own camera sits, as the scenario mounts it on a car at `ego`.
pub fn mounted_camera(ego: &Transform, camera: &CameraConfig) -> Transform {
    let mount = &camera.mount;
    let translation = ego.translation + ego.rotation * Vec3::new(mount.forward, mount.up, -mount.left);
    // Bevy cameras look along −Z; the car faces +X.
    let rotation = ego.rotation
        * Quat::from_rotation_y(-std::f32::consts::FRAC_PI_2)
        * Quat::from_rotation_x(camera.pitch.to_radians());
    Transform { translation, rotation, ..default() }
}
