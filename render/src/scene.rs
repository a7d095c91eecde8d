//! Scene building, shared by the training renderer and the viewer: one environment's world as
//! bevy entities on a render layer (the static scene in one mesh, and the cars), its randomised
//! look in one material, and its poses each step.

use crate::flat_material::FlatMaterial;
use crate::look::EpisodeLook;
use crate::meshes::{self, NPC_COLOURS};
use bevy::camera::visibility::RenderLayers;
use bevy::prelude::*;
use lepton_sim::network::Network;
use lepton_sim::scenario::{Camera as CameraConfig, Scenario};
use lepton_sim::traffic::NPC_SIZE;
use lepton_sim::vehicle::RIDE_HEIGHT;
use lepton_sim::world::World as SimWorld;

pub const EGO_COLOUR: [f32; 3] = [0.95, 0.8, 0.05];

/// Meshes every environment of a scenario shares.
pub struct SceneMeshes {
    world: Handle<Mesh>,
    ego: Handle<Mesh>,
    npcs: Vec<Handle<Mesh>>,
    /// The obstacles events place, with the event each belongs to.
    event_obstacles: Vec<(usize, Handle<Mesh>)>,
    /// Stripes across the road where position triggers lie (the viewer shows them).
    pub trigger_markers: Handle<Mesh>,
    /// Cameras must see this far to see the sky walls (m).
    pub extent: f32,
}

impl SceneMeshes {
    pub fn new(meshes: &mut Assets<Mesh>, scenario: &Scenario, network: &Network) -> Self {
        let vehicle = &scenario.ego.vehicle;
        let road = network.first_road();
        Self {
            world: meshes.add(meshes::static_scene(scenario, network)),
            ego: meshes.add(meshes::car([vehicle.length, vehicle.width, 1.45], EGO_COLOUR)),
            npcs: NPC_COLOURS.iter().map(|&c| meshes.add(meshes::car(NPC_SIZE, c))).collect(),
            event_obstacles: lepton_sim::events::event_obstacles(&scenario.events)
                .map(|(event, o)| (event, meshes.add(meshes::event_obstacle(o, road, false))))
                .collect(),
            trigger_markers: meshes.add(meshes::trigger_markers(scenario, network)),
            extent: meshes::scene_extent(network),
        }
    }
}

/// The entities of one environment's scene.
pub struct EnvScene {
    pub ego: Entity,
    npcs: Vec<Entity>,
    /// The other learning cars of a multi-agent world.
    others: Vec<Entity>,
    /// The static scene: road, ground, obstacles, sky.
    ground: Entity,
    /// The obstacles events place (hidden until their event happens), with their event.
    event_obstacles: Vec<(usize, Entity)>,
    /// Extra entities a caller attached (trigger markers).
    extras: Vec<Entity>,
    material: Handle<FlatMaterial>,
    /// The episode, and the look-changing events that had happened, whose look is applied.
    look_seed: Option<(u64, u64)>,
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
        let look = EpisodeLook::draw(&scenario.look, 0);
        let material = world.resource_mut::<Assets<FlatMaterial>>().add(FlatMaterial::new(&look.palette()));
        let entity = |mesh: &Handle<Mesh>| {
            (Mesh3d(mesh.clone()), MeshMaterial3d(material.clone()), Transform::default(), layer.clone())
        };
        let ground = world.spawn(entity(&meshes.world)).id();
        let ego_visibility = if show_ego { Visibility::Inherited } else { Visibility::Hidden };
        let ego = world.spawn((entity(&meshes.ego), ego_visibility)).id();
        let npcs = (0..scenario.traffic.count as usize)
            .map(|k| world.spawn((entity(&meshes.npcs[k % meshes.npcs.len()]), Visibility::Hidden)).id())
            .collect();
        let others = (1..scenario.agent_count())
            .map(|_| world.spawn((entity(&meshes.ego), Visibility::Hidden)).id())
            .collect();
        let event_obstacles = meshes
            .event_obstacles
            .iter()
            .map(|(event, mesh)| (*event, world.spawn((entity(mesh), Visibility::Hidden)).id()))
            .collect();
        Self { ego, npcs, others, ground, event_obstacles, extras: Vec::new(), material, look_seed: None }
    }

    /// Adds the stripes that mark position triggers (the viewer's, not the training frames').
    pub fn show_trigger_markers(&mut self, world: &mut World, meshes: &SceneMeshes, layer: RenderLayers) {
        let markers = (
            Mesh3d(meshes.trigger_markers.clone()),
            MeshMaterial3d(self.material.clone()),
            Transform::default(),
            layer,
        );
        self.extras.push(world.spawn(markers).id());
    }

    /// Applies the look of episode `episode_seed` after the events in `happened`, unless it is
    /// applied already.
    pub fn apply_look(&mut self, world: &mut World, scenario: &Scenario, episode_seed: u64, happened: u64) {
        let look_events = happened & lepton_sim::events::look_mask(&scenario.events);
        if self.look_seed == Some((episode_seed, look_events)) {
            return;
        }
        self.look_seed = Some((episode_seed, look_events));
        let look = EpisodeLook::with_events(&scenario.look, episode_seed, &scenario.events, look_events);
        if let Some(mut material) = world.resource_mut::<Assets<FlatMaterial>>().get_mut(&self.material) {
            *material = FlatMaterial::new(&look.palette());
        }
    }

    /// Moves the cars to `poses`; returns the ego car's transform (its origin on the ground).
    pub fn sync(&self, world: &mut World, poses: &Poses) -> Transform {
        let ego_transform = poses.ego_ground_transform();
        *world.get_mut::<Transform>(self.ego).expect("ego entity") = ego_transform;
        for (i, &entity) in self.npcs.iter().enumerate() {
            let mut entity = world.entity_mut(entity);
            match poses.npcs.get(i).copied().flatten() {
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
        for (i, &entity) in self.others.iter().enumerate() {
            let mut entity = world.entity_mut(entity);
            match poses.others.get(i).copied().flatten() {
                Some(pose) => {
                    *entity.get_mut::<Visibility>().expect("car visibility") = Visibility::Inherited;
                    *entity.get_mut::<Transform>().expect("car transform") = Poses::ground_transform(pose);
                }
                None => *entity.get_mut::<Visibility>().expect("car visibility") = Visibility::Hidden,
            }
        }
        for &(event, entity) in &self.event_obstacles {
            let shown =
                if poses.events & (1 << event) != 0 { Visibility::Inherited } else { Visibility::Hidden };
            world.get_mut::<Visibility>(entity).expect("obstacle visibility").set_if_neq(shown);
        }
        ego_transform
    }

    /// Every entity of this scene (to despawn it when the world is rebuilt).
    pub fn entities(&self) -> impl Iterator<Item = Entity> + '_ {
        std::iter::once(self.ego)
            .chain(self.npcs.iter().copied())
            .chain(self.others.iter().copied())
            .chain(std::iter::once(self.ground))
            .chain(self.event_obstacles.iter().map(|&(_, e)| e))
            .chain(self.extras.iter().copied())
    }
}

/// A pose: position and rotation quaternion (x, y, z, w), as plain arrays so they cross the
/// rapier (glam 0.33) ↔ bevy (glam 0.32) boundary and threads unchanged.
pub type Pose = ([f32; 3], [f32; 4]);

/// Where the cars of one world are, and which scripted events have happened: all a scene needs
/// to draw it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Poses {
    /// The ego car's centre of mass.
    pub ego: Pose,
    /// Each NPC slot's pose; `None` while the slot is inactive.
    pub npcs: Vec<Option<Pose>>,
    /// The scenario's events that have happened (bit i: `events[i]`): they place obstacles and
    /// change the look.
    pub events: lepton_sim::events::EventMask,
    /// The ego's front-wheel angle (radians, positive left), for cars drawn with wheels.
    pub ego_steer: f32,
    /// The other learning cars of a multi-agent world (those but the ego, in car order),
    /// centres of mass; `None` for one that has left the world.
    pub others: Vec<Option<Pose>>,
    /// Which learning car is the ego of these poses (its camera is `scenario.camera_of(car)`).
    pub car: usize,
}

impl Poses {
    pub fn of(sim: &SimWorld, npc_slots: usize) -> Self {
        Self::of_car(sim, npc_slots, 0)
    }

    /// The poses as learning car `car` sees them: it is the ego (its camera's car, drawn where
    /// it is even once it has left the world), the other learning cars are `others`.
    pub fn of_car(sim: &SimWorld, npc_slots: usize, car: usize) -> Self {
        let ego = sim.car_state(car);
        Self {
            ego: (ego.position, ego.rotation),
            npcs: (0..npc_slots).map(|i| sim.npc_pose(i)).collect(),
            events: sim.events_happened(),
            ego_steer: ego.steer_angle,
            others: (0..sim.car_count()).filter(|&i| i != car).map(|i| sim.car_pose(i)).collect(),
            car,
        }
    }

    /// The transform of another learning car's body, its origin on the ground (as the ego's).
    pub fn ground_transform((position, rotation): Pose) -> Transform {
        let rotation = Quat::from_array(rotation);
        let translation = Vec3::from_array(position) + rotation * Vec3::new(0.0, -RIDE_HEIGHT, 0.0);
        Transform { translation, rotation, ..default() }
    }

    /// The ego car's transform with its origin on the ground (its pose is its centre of mass).
    pub fn ego_ground_transform(&self) -> Transform {
        Self::ground_transform(self.ego)
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

/// The chase camera: 8 m behind and 3.2 m above the car, looking at a point 4 m ahead of it.
/// It follows the car's heading but not its roll or pitch, so the horizon stays level.
pub fn chase_camera(ego: &Transform) -> Transform {
    let forward = ego.rotation * Vec3::X;
    let heading = Vec3::new(forward.x, 0.0, forward.z).normalize_or(Vec3::X);
    let eye = ego.translation - 8.0 * heading + Vec3::new(0.0, 3.2, 0.0);
    let target = ego.translation + 4.0 * heading + Vec3::new(0.0, 0.8, 0.0);
    Transform::from_translation(eye).looking_at(target, Vec3::Y)
}
