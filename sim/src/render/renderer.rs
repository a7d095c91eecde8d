//! The batched headless renderer: one bevy `App` draws the cameras of all N environments, each
//! into its own tile of one render target, and reads every tile back with one copy per frame.
//!
//! Each environment's scene sits on its own render layer, so cameras only see their own world.
//! Training frames are unlit with light baked into the colours (no shadows, MSAA, tonemapping or
//! post-processing), and the app is stepped by hand without pipelined rendering, so the frame
//! returned after a step shows the world after that step.

use super::look::EpisodeLook;
use super::meshes;
use super::readback::{ReadbackPlugin, TargetReadback};
use crate::env::Frame;
use crate::road::{RoadGeometry, plane_to_world};
use crate::scenario::{FrameFormat, ObstacleKind, Scenario};
use crate::traffic::NPC_SIZE;
use crate::vehicle::RIDE_HEIGHT;
use crate::world::World as SimWorld;
use bevy::camera::visibility::RenderLayers;
use bevy::camera::{ImageRenderTarget, RenderTarget, Viewport};
use bevy::core_pipeline::tonemapping::{DebandDither, Tonemapping};
use bevy::pbr::PbrPlugin;
use bevy::prelude::*;
use bevy::render::render_resource::{TextureFormat, TextureUsages};
use bevy::render::renderer::RenderDevice;
use bevy::render::settings::{RenderCreation, WgpuSettings};
use bevy::render::view::Msaa;
use bevy::render::{RenderPlugin, settings::Backends};
use bevy::window::ExitCondition;
use std::fmt;
use std::sync::{Arc, Mutex};

/// Why frames cannot be rendered.
#[derive(Debug, Clone, PartialEq)]
pub enum RenderError {
    /// No Vulkan (or other) adapter: neither a GPU nor a software rasteriser is installed.
    NoAdapter,
    /// Rendering or reading back failed.
    Failed(String),
}

impl fmt::Display for RenderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RenderError::NoAdapter => write!(
                f,
                "no graphics adapter found for rendering camera frames: install a GPU driver, or Mesa's \
                 software rasteriser lavapipe (Debian/Ubuntu: apt-get install mesa-vulkan-drivers libvulkan1)"
            ),
            RenderError::Failed(message) => write!(f, "rendering failed: {message}"),
        }
    }
}

impl std::error::Error for RenderError {}

/// Near and far planes of the training cameras (m), and the half size of the sky box around them.
const NEAR: f32 = 0.1;
const FAR: f32 = 2000.0;
const SKY_HALF_SIZE: f32 = 600.0;
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

/// Checks that wgpu can find an adapter before bevy is asked to (bevy panics without one).
pub fn probe_adapter() -> Result<String, RenderError> {
    probe().map(|(name, _)| name)
}

/// The adapter's name and limits.
fn probe() -> Result<(String, wgpu::Limits), RenderError> {
    let backends = Backends::from_env().unwrap_or(Backends::VULKAN | Backends::GL);
    let instance = wgpu::Instance::new(wgpu::InstanceDescriptor {
        backends,
        ..wgpu::InstanceDescriptor::new_without_display_handle()
    });
    let adapter = pollster_block_on(instance.request_adapter(&wgpu::RequestAdapterOptions::default()))
        .map_err(|_| RenderError::NoAdapter)?;
    let info = adapter.get_info();
    Ok((format!("{} ({:?})", info.name, info.backend), adapter.limits()))
}

/// Runs a future that completes without waiting on anything else (adapter requests do).
fn pollster_block_on<F: std::future::Future>(future: F) -> F::Output {
    bevy::tasks::block_on(future)
}

/// Per-environment materials: the episode's look lives here.
struct EnvMaterials {
    ground: Handle<StandardMaterial>,
    road: Handle<StandardMaterial>,
    shoulder: Handle<StandardMaterial>,
    marking: Handle<StandardMaterial>,
    sky: Handle<StandardMaterial>,
    /// Objects carry their colours in vertex colours; this is the light falling on them.
    objects: Handle<StandardMaterial>,
}

/// The entities of one environment's scene.
struct EnvScene {
    camera: Entity,
    ego: Entity,
    sky: Entity,
    npcs: Vec<Entity>,
    materials: EnvMaterials,
    /// The episode whose look is applied.
    look_seed: Option<u64>,
}

/// Renders the camera frames of N environments of one scenario.
pub struct Renderer {
    app: App,
    scenes: Vec<EnvScene>,
    tile: [u32; 2],
    columns: u32,
    target_size: [u32; 2],
    format: FrameFormat,
    scenario: Arc<Scenario>,
    pixels: Arc<Mutex<super::readback::Pixels>>,
}

fn unlit(colour: [f32; 3]) -> StandardMaterial {
    StandardMaterial {
        base_color: Color::linear_rgb(colour[0], colour[1], colour[2]),
        unlit: true,
        cull_mode: None,
        double_sided: true,
        ..default()
    }
}

impl Renderer {
    /// A renderer for `envs` environments of `scenario`, with frames as the scenario's camera says.
    pub fn new(scenario: Arc<Scenario>, road: &RoadGeometry, envs: usize) -> Result<Self, RenderError> {
        probe()?;
        let camera = &scenario.camera;
        let tile = [camera.width, camera.height];
        let columns = (envs as f64).sqrt().ceil().max(1.0) as u32;
        let rows = (envs as u32).div_ceil(columns).max(1);
        let target_size = [columns * tile[0], rows * tile[1]];

        let mut app = App::new();
        app.add_plugins(
            DefaultPlugins
                .set(WindowPlugin {
                    primary_window: None,
                    exit_condition: ExitCondition::DontExit,
                    close_when_requested: false,
                    ..default()
                })
                .set(RenderPlugin {
                    render_creation: RenderCreation::Automatic(Box::new(WgpuSettings {
                        backends: Some(Backends::from_env().unwrap_or(Backends::VULKAN | Backends::GL)),
                        ..default()
                    })),
                    synchronous_pipeline_compilation: true,
                    ..default()
                })
                // Training frames need no depth prepass. (Bevy 0.19 draws nothing when its GPU
                // instance-buffer builder is off on an adapter that could run it, so it stays on.)
                .set(PbrPlugin { prepass_enabled: false, ..default() }),
        )
        .add_plugins(ReadbackPlugin);
        app.finish();
        app.cleanup();
        let device = app.world().resource::<RenderDevice>().clone();
        let mut target =
            Image::new_target_texture(target_size[0], target_size[1], TextureFormat::Rgba8UnormSrgb, None);
        target.texture_descriptor.usage |= TextureUsages::COPY_SRC;
        let target = app.world_mut().resource_mut::<Assets<Image>>().add(target);
        let readback = TargetReadback::new(&device, target.clone(), target_size[0], target_size[1]);
        let pixels = readback.pixels.clone();
        app.sub_app_mut(bevy::render::RenderApp).insert_resource(readback);

        let scenes = build_scenes(app.world_mut(), &scenario, road, envs, &target, tile, columns);
        let mut renderer =
            Self { app, scenes, tile, columns, target_size, format: camera.format, scenario, pixels };
        renderer.warm_up()?;
        Ok(renderer)
    }

    /// Renders until every pipeline the scene needs is compiled and the set of pipelines stops
    /// growing (shaders load asynchronously), so the first real frame is never black or blank.
    fn warm_up(&mut self) -> Result<(), RenderError> {
        use bevy::render::render_resource::{CachedPipelineState, PipelineCache};
        use bevy::shader::ShaderCacheError;
        let mut settled = 0;
        let mut last_count = usize::MAX;
        for _ in 0..200 {
            self.app.update();
            let render_world = self.app.sub_app(bevy::render::RenderApp).world();
            let cache = render_world.resource::<PipelineCache>();
            let mut count = 0;
            for pipeline in cache.pipelines() {
                count += 1;
                match &pipeline.state {
                    CachedPipelineState::Ok(_) => {}
                    // Shaders still loading: bevy retries these.
                    CachedPipelineState::Err(
                        ShaderCacheError::ShaderNotLoaded(_) | ShaderCacheError::ShaderImportNotYetAvailable,
                    )
                    | CachedPipelineState::Queued
                    | CachedPipelineState::Creating(_) => count = usize::MAX / 2,
                    CachedPipelineState::Err(e) => {
                        return Err(RenderError::Failed(format!("a shader failed: {e}")));
                    }
                }
            }
            let waiting = cache.waiting_pipelines().next().is_some();
            settled = if count > 0 && count == last_count && !waiting { settled + 1 } else { 0 };
            last_count = count;
            if settled >= 2 {
                return Ok(());
            }
        }
        Err(RenderError::Failed("the render pipelines did not become ready within 200 frames".into()))
    }

    /// Number of environments.
    pub fn len(&self) -> usize {
        self.scenes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.scenes.is_empty()
    }

    /// Size of the whole tiled target (pixels).
    pub fn target_size(&self) -> [u32; 2] {
        self.target_size
    }

    /// Moves environment `env`'s cars and camera to where `world` has them, and applies the look
    /// of episode `episode_seed` if it is not applied yet.
    pub fn sync(&mut self, env: usize, world: &SimWorld, episode_seed: u64) {
        if self.scenes[env].look_seed != Some(episode_seed) {
            self.apply_look(env, episode_seed);
        }
        let ego = world.ego_state();
        let rotation = Quat::from_array(ego.rotation);
        let com = Vec3::from_array(ego.position);
        let ground_origin = com + rotation * Vec3::new(0.0, -RIDE_HEIGHT, 0.0);
        let mount = &self.scenario.camera.mount;
        let camera_position = ground_origin + rotation * Vec3::new(mount.forward, mount.up, -mount.left);
        // Bevy cameras look along −Z; the car faces +X.
        let camera_rotation = rotation
            * Quat::from_rotation_y(-std::f32::consts::FRAC_PI_2)
            * Quat::from_rotation_x(self.scenario.camera.pitch.to_radians());

        let scene = &self.scenes[env];
        let (camera, ego_entity, sky) = (scene.camera, scene.ego, scene.sky);
        let npcs = scene.npcs.clone();
        let w = self.app.world_mut();
        *w.get_mut::<Transform>(ego_entity).expect("ego entity") =
            Transform { translation: ground_origin, rotation, ..default() };
        *w.get_mut::<Transform>(camera).expect("camera entity") =
            Transform { translation: camera_position, rotation: camera_rotation, ..default() };
        w.get_mut::<Transform>(sky).expect("sky entity").translation =
            Vec3::new(camera_position.x, 0.0, camera_position.z);
        for (i, entity) in npcs.into_iter().enumerate() {
            let pose = world.npc_pose(i);
            let mut entity = w.entity_mut(entity);
            match pose {
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
    }

    fn apply_look(&mut self, env: usize, episode_seed: u64) {
        let look = EpisodeLook::draw(&self.scenario.look, episode_seed);
        let scene = &mut self.scenes[env];
        scene.look_seed = Some(episode_seed);
        let mut materials = self.app.world_mut().resource_mut::<Assets<StandardMaterial>>();
        let light = look.light_from_above();
        let mut set = |handle: &Handle<StandardMaterial>, colour: [f32; 3]| {
            if let Some(mut m) = materials.get_mut(handle) {
                m.base_color = Color::linear_rgb(colour[0], colour[1], colour[2]);
            }
        };
        set(&scene.materials.ground, look.lit(look.ground));
        set(&scene.materials.road, look.lit(look.road));
        set(&scene.materials.shoulder, look.lit(look.shoulder));
        set(&scene.materials.marking, look.lit(look.marking));
        set(&scene.materials.sky, look.sky.map(|c| (c * look.brightness.sqrt()).clamp(0.0, 1.0)));
        set(&scene.materials.objects, [light.min(1.0); 3]);
    }

    /// Renders every environment's camera and reads all tiles back.
    pub fn render(&mut self) -> Result<(), RenderError> {
        self.pixels.lock().unwrap_or_else(|e| e.into_inner()).fresh = false;
        self.app.update();
        let pixels = self.pixels.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(error) = &pixels.error {
            return Err(RenderError::Failed(error.clone()));
        }
        if !pixels.fresh {
            return Err(RenderError::Failed("the frame was not rendered".into()));
        }
        Ok(())
    }

    /// Environment `env`'s frame from the last [`Renderer::render`], in the scenario's format.
    pub fn frame(&self, env: usize) -> Frame {
        let [w, h] = self.tile;
        let (column, row) = (env as u32 % self.columns, env as u32 / self.columns);
        let pixels = self.pixels.lock().unwrap_or_else(|e| e.into_inner());
        let stride = self.target_size[0] as usize * 4;
        let channels: u8 = if self.format == FrameFormat::Rgb { 3 } else { 1 };
        let mut data = Vec::with_capacity((w * h) as usize * channels as usize);
        for y in 0..h as usize {
            let start = (row as usize * h as usize + y) * stride + column as usize * w as usize * 4;
            let line = &pixels.rgba[start..start + w as usize * 4];
            for px in line.chunks_exact(4) {
                match self.format {
                    FrameFormat::Rgb => data.extend_from_slice(&px[..3]),
                    FrameFormat::Grey => data.push(luma(px[0], px[1], px[2])),
                }
            }
        }
        Frame { width: w, height: h, channels, data }
    }

    /// The whole tiled target as tightly packed RGBA rows (what `lepton render` saves).
    pub fn tiled_rgba(&self) -> Vec<u8> {
        self.pixels.lock().unwrap_or_else(|e| e.into_inner()).rgba.clone()
    }
}

/// ITU-R BT.601 luma of an sRGB-encoded pixel, in integer arithmetic.
pub fn luma(r: u8, g: u8, b: u8) -> u8 {
    ((299 * r as u32 + 587 * g as u32 + 114 * b as u32 + 500) / 1000) as u8
}

/// Meshes every environment shares.
struct SharedMeshes {
    ground: Handle<Mesh>,
    road: Handle<Mesh>,
    shoulders: Option<Handle<Mesh>>,
    markings: Option<Handle<Mesh>>,
    sky: Handle<Mesh>,
    ego: Handle<Mesh>,
    npcs: Vec<Handle<Mesh>>,
    /// One per obstacle, in the world's order.
    obstacles: Vec<Handle<Mesh>>,
}

fn build_scenes(
    world: &mut World,
    scenario: &Scenario,
    road: &RoadGeometry,
    envs: usize,
    target: &Handle<Image>,
    tile: [u32; 2],
    columns: u32,
) -> Vec<EnvScene> {
    let meshes = {
        let mut meshes = world.resource_mut::<Assets<Mesh>>();
        let [x0, y0, x1, y1] = road.bounds();
        let centre = [0.5 * (x0 + x1), 0.5 * (y0 + y1)];
        let half = 0.5 * (x1 - x0).max(y1 - y0) + 1.5 * SKY_HALF_SIZE;
        let vehicle = &scenario.ego.vehicle;
        SharedMeshes {
            ground: meshes.add(meshes::ground(centre, half)),
            road: meshes.add(meshes::road_surface(road)),
            shoulders: meshes::shoulders(road).map(|m| meshes.add(m)),
            markings: meshes::markings(road, scenario.road.markings).map(|m| meshes.add(m)),
            sky: meshes.add(meshes::sky_box(SKY_HALF_SIZE)),
            ego: meshes.add(meshes::car([vehicle.length, vehicle.width, 1.45], EGO_COLOUR)),
            npcs: NPC_COLOURS.iter().map(|&c| meshes.add(meshes::car(NPC_SIZE, c))).collect(),
            obstacles: scenario
                .obstacles
                .iter()
                .map(|o| {
                    let size = o.size.unwrap_or_else(|| o.kind.default_size());
                    meshes.add(match o.kind {
                        ObstacleKind::Cone => meshes::cone(size),
                        ObstacleKind::Box => meshes::crate_box(size),
                        ObstacleKind::Barrier => meshes::barrier(size),
                    })
                })
                .collect(),
        }
    };
    // Obstacles stand where the world puts them; their placement does not depend on the seed.
    let placed: Vec<(Vec3, Quat)> = scenario
        .obstacles
        .iter()
        .map(|o| {
            let d = o.lane.map_or(0.0, |lane| road.lane_centre(lane)) + o.offset;
            let pose = road.pose(o.s, d);
            (Vec3::from_array(plane_to_world(pose.x, pose.y, 0.0)), Quat::from_rotation_y(pose.heading))
        })
        .collect();
    let fov = scenario.camera.fov.to_radians();

    (0..envs)
        .map(|i| {
            let layer = RenderLayers::layer(i + 1);
            let materials = {
                let mut assets = world.resource_mut::<Assets<StandardMaterial>>();
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
            let flat = |mesh: &Handle<Mesh>, material: &Handle<StandardMaterial>| {
                (Mesh3d(mesh.clone()), MeshMaterial3d(material.clone()), Transform::default(), layer.clone())
            };
            world.spawn(flat(&meshes.ground, &materials.ground));
            world.spawn(flat(&meshes.road, &materials.road));
            if let Some(m) = &meshes.shoulders {
                world.spawn(flat(m, &materials.shoulder));
            }
            if let Some(m) = &meshes.markings {
                world.spawn(flat(m, &materials.marking));
            }
            let sky = world.spawn(flat(&meshes.sky, &materials.sky)).id();
            for (mesh, (position, rotation)) in meshes.obstacles.iter().zip(&placed) {
                world.spawn((
                    Mesh3d(mesh.clone()),
                    MeshMaterial3d(materials.objects.clone()),
                    Transform { translation: *position, rotation: *rotation, ..default() },
                    layer.clone(),
                ));
            }
            // The ego car is hidden from its own camera, which sits inside its cabin.
            let ego = world.spawn((flat(&meshes.ego, &materials.objects), Visibility::Hidden)).id();
            let npcs = (0..scenario.traffic.count as usize)
                .map(|k| {
                    let mesh = &meshes.npcs[k % meshes.npcs.len()];
                    world.spawn((flat(mesh, &materials.objects), Visibility::Hidden)).id()
                })
                .collect();
            let (column, row) = (i as u32 % columns, i as u32 / columns);
            let camera = world
                .spawn((
                    Camera3d::default(),
                    Camera {
                        viewport: Some(Viewport {
                            physical_position: UVec2::new(column * tile[0], row * tile[1]),
                            physical_size: UVec2::new(tile[0], tile[1]),
                            ..default()
                        }),
                        order: i as isize,
                        ..default()
                    },
                    RenderTarget::Image(ImageRenderTarget { handle: target.clone(), scale_factor: 1.0 }),
                    Projection::Perspective(PerspectiveProjection {
                        fov,
                        near: NEAR,
                        far: FAR,
                        aspect_ratio: tile[0] as f32 / tile[1] as f32,
                        ..default()
                    }),
                    Msaa::Off,
                    Tonemapping::None,
                    DebandDither::Disabled,
                    Transform::default(),
                    layer.clone(),
                ))
                .id();
            EnvScene { camera, ego, sky, npcs, materials, look_seed: None }
        })
        .collect()
}
