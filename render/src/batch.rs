//! What the training cameras draw, as plain data for one render pass: the scenario's meshes merged
//! into one vertex and index buffer, and each frame's views (camera and palette per environment),
//! mesh instances and draws. Built on the CPU each step; the pass uploads and draws it as is.

use crate::look::EpisodeLook;
use crate::meshes::{self, NPC_COLOURS, PALETTE_SIZE};
use crate::scene::{EGO_COLOUR, Poses, chase_camera, mounted_camera};
use bevy::camera::CameraProjection;
use bevy::math::{Mat4, Quat, Vec3, Vec4};
use bevy::mesh::{Indices, Mesh, VertexAttributeValues};
use bevy::prelude::{PerspectiveProjection, Resource, Transform};
use bevy::render::extract_resource::ExtractResource;
use bytemuck::{Pod, Zeroable};
use lepton_sim::network::Network;
use lepton_sim::scenario::Scenario;
use lepton_sim::traffic::NPC_SIZE;

/// Near plane of the training cameras (m).
pub const NEAR: f32 = 0.1;

/// One vertex as the pass reads it.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Pod, Zeroable)]
pub struct GpuVertex {
    pub position: [f32; 3],
    /// The palette entry the vertex takes its colour from ([`Palette`](super::meshes::Palette)).
    pub entry: u32,
    /// Multiplied with the palette colour: baked light and object colours.
    pub colour: [f32; 4],
}

/// One environment's view: its camera and its episode's palette.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Pod, Zeroable)]
pub struct GpuView {
    pub clip_from_world: [f32; 16],
    pub palette: [[f32; 4]; PALETTE_SIZE],
}

/// One mesh instance: where it stands, whose view it is drawn in, and the colour of its
/// [`Palette::Tinted`](super::meshes::Palette::Tinted) parts.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Pod, Zeroable)]
pub struct GpuInstance {
    pub world_from_local: [f32; 16],
    pub view: u32,
    pub tint: [f32; 3],
    /// The [`Class`] of the instance's objects (the semantic camera's).
    pub class: u32,
}

/// The semantic camera's classes: what each pixel shows. Flat parts take theirs from their
/// palette entry (road, lane marking, shoulder, grass, sky); objects from the instance they
/// belong to (cars are vehicles; cones, boxes, barriers and signal poles are obstacles).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Class {
    Road = 0,
    LaneMarking = 1,
    Shoulder = 2,
    Vehicle = 3,
    Obstacle = 4,
    Sky = 5,
    Ground = 6,
}

impl Class {
    pub const ALL: [Class; 7] = [
        Class::Road,
        Class::LaneMarking,
        Class::Shoulder,
        Class::Vehicle,
        Class::Obstacle,
        Class::Sky,
        Class::Ground,
    ];

    /// Its name, as documented and as Python reports it.
    pub fn name(self) -> &'static str {
        match self {
            Class::Road => "road",
            Class::LaneMarking => "lane_marking",
            Class::Shoulder => "shoulder",
            Class::Vehicle => "vehicle",
            Class::Obstacle => "obstacle",
            Class::Sky => "sky",
            Class::Ground => "ground",
        }
    }

    /// The colour pictures show it in (sRGB), after the Cityscapes palette where it has one.
    pub fn colour(self) -> [u8; 3] {
        match self {
            Class::Road => [128, 64, 128],
            Class::LaneMarking => [255, 255, 255],
            Class::Shoulder => [244, 35, 232],
            Class::Vehicle => [0, 0, 142],
            Class::Obstacle => [220, 220, 0],
            Class::Sky => [70, 130, 180],
            Class::Ground => [107, 142, 35],
        }
    }
}

/// Where one mesh lies in the merged buffers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MeshRange {
    pub first_index: u32,
    pub index_count: u32,
    pub base_vertex: i32,
}

/// Every mesh the cameras can see, merged: the static scene first, then the NPC car (its body
/// tinted per instance), the obstacles events place, and the ego car (drawn by the chase view only: the car's own
/// camera sits inside it).
pub struct SceneGeometry {
    pub vertices: Vec<GpuVertex>,
    pub indices: Vec<u32>,
    pub static_scene: MeshRange,
    pub npc: MeshRange,
    /// The obstacles events make appear, with the event each belongs to.
    pub event_obstacles: Vec<(usize, MeshRange)>,
    pub ego: MeshRange,
    /// Cameras must see this far to see the sky walls (m).
    pub extent: f32,
}

impl SceneGeometry {
    pub fn new(scenario: &Scenario, network: &Network) -> Self {
        let road = network.first_road();
        let empty = MeshRange { first_index: 0, index_count: 0, base_vertex: 0 };
        let mut geometry = Self {
            vertices: Vec::new(),
            indices: Vec::new(),
            static_scene: empty,
            npc: empty,
            event_obstacles: Vec::new(),
            ego: empty,
            extent: meshes::scene_extent(network),
        };
        geometry.static_scene = geometry.append(&meshes::static_scene(scenario, network));
        geometry.npc = geometry.append(&meshes::tinted_car(NPC_SIZE));
        for (event, obstacle) in lepton_sim::events::event_obstacles(&scenario.events) {
            let range = geometry.append(&meshes::event_obstacle(obstacle, road, false));
            geometry.event_obstacles.push((event, range));
        }
        let vehicle = &scenario.ego.vehicle;
        geometry.ego = geometry.append(&meshes::car([vehicle.length, vehicle.width, 1.45], EGO_COLOUR));
        geometry
    }

    /// Appends a mesh built by [`meshes`] (positions, palette entries in UV x, colours, u32 indices).
    fn append(&mut self, mesh: &Mesh) -> MeshRange {
        let attribute = |id| mesh.attribute(id).expect("scene meshes carry positions, UVs and colours");
        let (
            VertexAttributeValues::Float32x3(positions),
            VertexAttributeValues::Float32x2(uvs),
            VertexAttributeValues::Float32x4(colours),
        ) = (
            attribute(Mesh::ATTRIBUTE_POSITION),
            attribute(Mesh::ATTRIBUTE_UV_0),
            attribute(Mesh::ATTRIBUTE_COLOR),
        )
        else {
            unreachable!("meshes::MeshBuilder writes these formats");
        };
        let Some(Indices::U32(indices)) = mesh.indices() else {
            unreachable!("meshes::MeshBuilder writes u32 indices");
        };
        let range = MeshRange {
            first_index: self.indices.len() as u32,
            index_count: indices.len() as u32,
            base_vertex: self.vertices.len() as i32,
        };
        self.vertices.extend(positions.iter().zip(uvs).zip(colours).map(|((&position, uv), &colour)| {
            // The same rounding the viewer's FlatMaterial applies to the entry.
            GpuVertex { position, entry: (uv[0] + 0.5) as u32, colour }
        }));
        self.indices.extend_from_slice(indices);
        range
    }
}

/// How N environments' tiles sit in the one target: a near-square grid, row by row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TileLayout {
    pub envs: usize,
    /// One tile (pixels): the camera's frame size.
    pub tile: [u32; 2],
    pub columns: u32,
    pub rows: u32,
}

impl TileLayout {
    pub fn new(envs: usize, tile: [u32; 2]) -> Self {
        let columns = (envs as f64).sqrt().ceil().max(1.0) as u32;
        Self { envs, tile, columns, rows: (envs as u32).div_ceil(columns).max(1) }
    }

    /// Size of the whole target (pixels).
    pub fn target_size(&self) -> [u32; 2] {
        [self.columns * self.tile[0], self.rows * self.tile[1]]
    }

    /// Top-left pixel of environment `env`'s tile.
    pub fn origin(&self, env: u32) -> [u32; 2] {
        [env % self.columns * self.tile[0], env / self.columns * self.tile[1]]
    }
}

/// Which mesh a draw uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DrawMesh {
    StaticScene,
    /// Every NPC the tile's camera can see, one instance each.
    Npcs,
    /// The `k`-th of [`SceneGeometry::event_obstacles`].
    EventObstacle(usize),
    Ego,
}

/// Where a renderer's cameras look from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum View {
    /// The scenario's camera on the car: what the agent sees.
    Car,
    /// Behind and above the car, looking over it: what a person watching wants (videos).
    Chase { width: u32, height: u32 },
}

impl View {
    /// Frame size in pixels.
    pub fn size(self, scenario: &Scenario) -> [u32; 2] {
        match self {
            View::Car => [scenario.camera.width, scenario.camera.height],
            View::Chase { width, height } => [width, height],
        }
    }
}

/// One instanced draw in environment `env`'s tile: `count` instances from `instance` on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Draw {
    pub env: u32,
    pub mesh: DrawMesh,
    pub instance: u32,
    pub count: u32,
    /// Whether faces turned away from the camera may be skipped: closed boxes wholly in front
    /// of a camera outside them, whose front faces hide their back faces (drawn, a back face
    /// could only win a pixel on the silhouette edge it shares with a front face).
    pub cull_back: bool,
}

/// Everything one frame draws, for every environment, as the tiled pass uploads it. Draws come
/// in environment order.
#[derive(Resource, ExtractResource, Clone, Default)]
pub struct TiledFrame {
    pub views: Vec<GpuView>,
    pub instances: Vec<GpuInstance>,
    pub draws: Vec<Draw>,
}

/// Builds each frame's [`TiledFrame`] from the environments' poses and episodes.
pub struct CameraBatch {
    view: View,
    views: Vec<GpuView>,
    /// The episode, and the look-changing events that had happened, that each view's palette shows.
    look_seeds: Vec<Option<(u64, u64)>>,
    /// Per environment: its instances and draws (static scene first, then visible NPCs).
    per_env: Vec<(Vec<GpuInstance>, Vec<Draw>)>,
}

impl CameraBatch {
    pub fn new(envs: usize, view: View) -> Self {
        Self {
            view,
            views: vec![GpuView::zeroed(); envs],
            look_seeds: vec![None; envs],
            per_env: vec![(Vec::new(), Vec::new()); envs],
        }
    }

    /// Most mesh instances one environment draws: the static scene, every traffic slot and
    /// every obstacle an event can place.
    pub fn instances_per_env(scenario: &Scenario) -> usize {
        2 + scenario.traffic.count as usize
            + (scenario.agent_count() - 1)
            + lepton_sim::events::event_obstacles(&scenario.events).count()
    }

    /// Places environment `env`'s camera and cars as `poses` has them, with the look of episode
    /// `episode_seed`.
    pub fn sync(&mut self, env: usize, scenario: &Scenario, poses: &Poses, episode_seed: u64) {
        let look_events = poses.events & lepton_sim::events::look_mask(&scenario.events);
        if self.look_seeds[env] != Some((episode_seed, look_events)) {
            self.look_seeds[env] = Some((episode_seed, look_events));
            self.views[env].palette =
                EpisodeLook::with_events(&scenario.look, episode_seed, &scenario.events, look_events)
                    .palette();
        }
        let ego = poses.ego_ground_transform();
        let (camera, fov) = match self.view {
            View::Car => {
                let camera = scenario.camera_of(poses.car);
                (mounted_camera(&ego, &camera), camera.fov)
            }
            View::Chase { .. } => (chase_camera(&ego), CHASE_FOV),
        };
        let [width, height] = self.view.size(scenario);
        let clip_from_world = clip_from_world(fov, width as f32 / height as f32, &camera);
        self.views[env].clip_from_world = clip_from_world.to_cols_array();
        let frustum = Frustum::of(&clip_from_world);

        let view = env as u32;
        let (instances, draws) = &mut self.per_env[env];
        instances.clear();
        draws.clear();
        let instance = |world_from_local: Mat4, tint: [f32; 3], class: Class| GpuInstance {
            world_from_local: world_from_local.to_cols_array(),
            view,
            tint,
            class: class as u32,
        };
        let mut add = |mesh: DrawMesh, world_from_local: Mat4, class: Class| {
            draws.push(Draw {
                env: view,
                mesh,
                instance: instances.len() as u32,
                count: 1,
                cull_back: false,
            });
            instances.push(instance(world_from_local, [1.0; 3], class));
        };
        add(DrawMesh::StaticScene, Mat4::IDENTITY, Class::Obstacle);
        if let View::Chase { .. } = self.view {
            add(DrawMesh::Ego, ego.to_matrix(), Class::Vehicle);
        }
        // The other learning cars of a multi-agent world, drawn as the ego is.
        for pose in poses.others.iter().flatten() {
            add(DrawMesh::Ego, Poses::ground_transform(*pose).to_matrix(), Class::Vehicle);
        }
        // The NPCs in view in one draw, or two: a CPU rasteriser pays per draw call and per
        // vertex, also for cars behind the camera. Cars the camera is in or next to (a crash)
        // show their insides where the near plane cuts them: they are drawn from both sides.
        let npc_radius = npc_bounding_radius();
        let mut near = Vec::new();
        let first_far = instances.len() as u32;
        for (slot, pose) in poses.npcs.iter().enumerate() {
            if let Some((position, rotation)) = pose {
                let (translation, rotation) = (Vec3::from_array(*position), Quat::from_array(*rotation));
                let centre = translation + rotation * Vec3::new(0.0, 0.5 * NPC_SIZE[2], 0.0);
                if !frustum.may_see(centre, npc_radius) {
                    continue;
                }
                let transform = Transform { translation, rotation, ..Default::default() };
                let npc =
                    instance(transform.to_matrix(), NPC_COLOURS[slot % NPC_COLOURS.len()], Class::Vehicle);
                if camera.translation.distance(centre) > npc_radius + CLEAR_OF_NEAR_PLANE {
                    instances.push(npc);
                } else {
                    near.push(npc);
                }
            }
        }
        let far = instances.len() as u32 - first_far;
        if far > 0 {
            draws.push(Draw {
                env: view,
                mesh: DrawMesh::Npcs,
                instance: first_far,
                count: far,
                cull_back: true,
            });
        }
        if !near.is_empty() {
            let (instance, count) = (instances.len() as u32, near.len() as u32);
            draws.push(Draw { env: view, mesh: DrawMesh::Npcs, instance, count, cull_back: false });
            instances.extend(near);
        }
        if poses.events != 0 {
            let placed = lepton_sim::events::event_obstacles(&scenario.events).map(|(event, _)| event);
            for (k, event) in placed.enumerate() {
                if poses.events & (1 << event) != 0 {
                    draws.push(Draw {
                        env: view,
                        mesh: DrawMesh::EventObstacle(k),
                        instance: instances.len() as u32,
                        count: 1,
                        cull_back: false,
                    });
                    instances.push(instance(Mat4::IDENTITY, [1.0; 3], Class::Obstacle));
                }
            }
        }
    }

    /// Writes every environment's view, instances and draws into `frame`.
    pub fn gather(&self, frame: &mut TiledFrame) {
        frame.views.clone_from(&self.views);
        frame.instances.clear();
        frame.draws.clear();
        for (instances, draws) in &self.per_env {
            let first = frame.instances.len() as u32;
            frame.draws.extend(draws.iter().map(|d| Draw { instance: d.instance + first, ..*d }));
            frame.instances.extend_from_slice(instances);
        }
    }
}

/// How far outside a box's bounding sphere a camera must be for the near plane (0.1 m) never to
/// cut the box where the camera can see (m): within the field of view the near plane is closer
/// than 0.2 m.
const CLEAR_OF_NEAR_PLANE: f32 = 1.0;

/// A sphere around an NPC car's mesh (m), about its middle: half its diagonal, and spare for
/// the wheels that stand out 2 cm.
fn npc_bounding_radius() -> f32 {
    0.5 * Vec3::from_array(NPC_SIZE).length() + 0.25
}

/// The planes a camera sees between: left, right, bottom, top and near (reverse Z, so the far
/// plane is at infinity), each as (normal, offset) with the inside where n·p + d ≥ 0.
struct Frustum([Vec4; 5]);

impl Frustum {
    /// The planes of `clip_from_world` (Gribb and Hartmann): a point is in view when
    /// −w ≤ x ≤ w, −w ≤ y ≤ w and z ≤ w in clip space.
    fn of(clip_from_world: &Mat4) -> Self {
        let [r0, r1, r2, r3] = [0, 1, 2, 3].map(|i| clip_from_world.row(i));
        let planes = [r3 + r0, r3 - r0, r3 + r1, r3 - r1, r3 - r2];
        Self(planes.map(|p| p / p.truncate().length().max(f32::MIN_POSITIVE)))
    }

    /// Whether any of the sphere at `centre` with `radius` may be in view.
    fn may_see(&self, centre: Vec3, radius: f32) -> bool {
        self.0.iter().all(|p| p.truncate().dot(centre) + p.w >= -radius)
    }
}

/// Vertical field of view of the chase camera (degrees).
const CHASE_FOV: f32 = 55.0;

/// The camera's clip-from-world matrix, computed as bevy computes it for its own cameras
/// (reverse-Z infinite perspective; view from world as the inverse of the camera's transform).
fn clip_from_world(fov_degrees: f32, aspect_ratio: f32, camera: &Transform) -> Mat4 {
    let projection = PerspectiveProjection {
        fov: fov_degrees.to_radians(),
        near: NEAR,
        aspect_ratio,
        ..Default::default()
    };
    projection.get_clip_from_view() * camera.to_matrix().inverse()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lane_keep() -> Scenario {
        lepton_sim::scenario::load_named("lane_keep").expect("shipped scenario")
    }

    /// The car's camera at the origin, facing +X (the car's forward).
    fn camera_at_origin(scenario: &Scenario) -> Mat4 {
        let camera = mounted_camera(&Transform::default(), &scenario.camera);
        let aspect = scenario.camera.width as f32 / scenario.camera.height as f32;
        clip_from_world(scenario.camera.fov, aspect, &camera)
    }

    #[test]
    fn the_frustum_sees_what_is_ahead_and_not_what_is_behind_or_far_aside() {
        let frustum = Frustum::of(&camera_at_origin(&lane_keep()));
        let r = npc_bounding_radius();
        assert!(frustum.may_see(Vec3::new(20.0, 0.75, 0.0), r));
        assert!(frustum.may_see(Vec3::new(2000.0, 0.75, 0.0), r), "the far plane is at infinity");
        assert!(!frustum.may_see(Vec3::new(-20.0, 0.75, 0.0), r), "behind the camera");
        assert!(!frustum.may_see(Vec3::new(20.0, 0.75, 300.0), r), "far to the right");
        assert!(!frustum.may_see(Vec3::new(20.0, 200.0, 0.0), r), "far above");
        // A car whose centre is just outside the left edge still shows its side.
        let left = (0..400)
            .map(|k| Vec3::new(20.0, 0.75, -0.1 * k as f32))
            .find(|&p| !frustum.may_see(p, 0.0))
            .expect("the left edge is within 40 m at 20 m ahead");
        assert!(frustum.may_see(left, r));
        // Along the edge plane's normal the step is shorter than along z: step twice the radius.
        assert!(!frustum.may_see(left - Vec3::new(0.0, 0.0, 2.0 * r + 0.5), r));
    }

    #[test]
    fn every_npc_in_view_is_one_instance_of_one_draw_in_its_slots_colour() {
        let scenario = lane_keep();
        let ahead = |x: f32, z: f32| Some(([x, 0.0, z], [0.0, 0.0, 0.0, 1.0]));
        let poses = Poses {
            ego: ([0.0, lepton_sim::vehicle::RIDE_HEIGHT, 0.0], [0.0, 0.0, 0.0, 1.0]),
            npcs: vec![
                ahead(20.0, 0.0),
                ahead(-20.0, 0.0),
                None,
                ahead(40.0, 3.5),
                None,
                None,
                None,
                ahead(30.0, -3.5),
            ],
            events: 0,
            ego_steer: 0.0,
            others: Vec::new(),
            car: 0,
        };
        let mut batch = CameraBatch::new(2, View::Car);
        batch.sync(1, &scenario, &poses, 7);
        let mut frame = TiledFrame::default();
        batch.gather(&mut frame);
        let draws: Vec<_> = frame.draws.iter().map(|d| (d.env, d.mesh, d.count, d.cull_back)).collect();
        assert_eq!(draws, [(1, DrawMesh::StaticScene, 1, false), (1, DrawMesh::Npcs, 3, true)]);
        let npcs = &frame.instances[frame.draws[1].instance as usize..][..3];
        let tints: Vec<_> = npcs.iter().map(|i| i.tint).collect();
        assert_eq!(tints, [NPC_COLOURS[0], NPC_COLOURS[3], NPC_COLOURS[7 % NPC_COLOURS.len()]]);
        assert!(npcs.iter().all(|i| i.view == 1));
        assert_eq!(npcs[1].world_from_local[12..15], [40.0, 0.0, 3.5], "the car's place, as given");
        assert_eq!(frame.instances[0].tint, [1.0; 3], "the static scene is not tinted");

        // A car on top of the ego (a crash) is drawn from both sides, in a draw of its own.
        let mut crash = poses.clone();
        crash.npcs[4] = ahead(1.0, 0.0);
        batch.sync(0, &scenario, &crash, 7);
        batch.gather(&mut frame);
        let draws: Vec<_> = frame.draws.iter().map(|d| (d.env, d.mesh, d.count, d.cull_back)).collect();
        assert_eq!(
            draws[..3],
            [
                (0, DrawMesh::StaticScene, 1, false),
                (0, DrawMesh::Npcs, 3, true),
                (0, DrawMesh::Npcs, 1, false)
            ]
        );
        assert_eq!(frame.instances[frame.draws[2].instance as usize].tint, NPC_COLOURS[4]);
    }
}
