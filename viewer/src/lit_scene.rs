//! The viewer's own look, for people rather than networks: surfaces lit by the episode's sun and
//! sky ([`SunlitMaterial`]), cars casting shadows away from the sun, a sky dome fading to a hazy
//! horizon, distance haze, and cars whose wheels turn with the distance driven and steer with
//! the front-wheel angle. Each env's lit scene has a render layer of its own, beside its flat
//! look (the training renderer's own meshes and colours, [`layers_of`]); `L` switches the
//! cameras between the two.
//!
//! The geometry is the training scene's (same road, markings, obstacles, car bodies), built
//! without baked shading and with each vertex's palette entry resolved to the episode's colours,
//! so both looks show the same world.

use crate::sunlit_material::{Sunlight, SunlitMaterial};
use bevy::camera::visibility::RenderLayers;
use bevy::mesh::{Indices, PrimitiveTopology};
use bevy::prelude::*;
use lepton_render::EpisodeLook;
use lepton_render::meshes::{self, NPC_COLOURS, PALETTE_SIZE, Palette, WHEEL_RADIUS};
use lepton_render::scene::{EGO_COLOUR, Poses};
use lepton_sim::network::Network;
use lepton_sim::scenario::Scenario;
use lepton_sim::traffic::NPC_SIZE;

/// The render layers of env `env`'s two looks: the agent's flat look, and the lit one.
pub fn layers_of(env: usize) -> (usize, usize) {
    (2 * env, 2 * env + 1)
}

/// Which look the camera shows (`L` toggles).
#[derive(Resource, Debug, Clone, Copy, PartialEq, Eq)]
pub struct ViewerLook {
    /// True: exactly what the agent's camera renders (flat, baked light).
    pub agent: bool,
}

/// Distance haze: from here (m) to the far end it fades into the horizon's colour.
const HAZE_START: f32 = 150.0;
const HAZE_END: f32 = 1200.0;
/// How dark a shadow is (its opacity over what it falls on).
const SHADOW_OPACITY: f32 = 0.5;

/// One car: its body and wheels, and how far its wheels have turned.
struct Car {
    body: Entity,
    wheels: [Entity; 4],
    /// Its shadow on the ground, a mesh of its own rebuilt as the car and the sun move.
    shadow: Entity,
    size: [f32; 3],
    spots: [[f32; 3]; 4],
    /// Wheel rotation (radians) and the body position it was last updated at.
    spin: f32,
    last: Option<Vec3>,
}

/// The lit look's entities for the env on screen.
pub struct LitScene {
    ground: Entity,
    ground_source: Mesh,
    ego: Car,
    npcs: Vec<Car>,
    /// The other learning cars of a multi-agent world.
    others: Vec<Car>,
    event_obstacles: Vec<(usize, Entity)>,
    sky: Entity,
    markers: Entity,
    /// The shadows of the file's obstacles, one mesh, rebuilt when the sun moves.
    obstacle_shadows: Entity,
    /// Where each of the file's obstacles stands (its ground centre) and its size.
    obstacle_boxes: Vec<(Transform, [f32; 3])>,
    /// The lit surfaces' material: its light follows the episode's look.
    material: Handle<SunlitMaterial>,
    /// Unit vector towards the sun (world).
    towards_sun: Vec3,
    /// The episode and look-changing events whose colours and sun are applied.
    look_key: Option<(u64, u64)>,
}

impl LitScene {
    pub fn spawn(
        world: &mut World,
        scenario: &Scenario,
        network: &Network,
        extent: f32,
        layer: usize,
    ) -> Self {
        let road = network.first_road();
        let layer = RenderLayers::layer(layer);
        let look = EpisodeLook::draw(&scenario.look, 0);
        let ground_source = meshes::lit_static_scene(scenario, network);
        let resolved = meshes::resolve_palette(&ground_source, &raw_palette(&look));
        let material = world
            .resource_mut::<Assets<SunlitMaterial>>()
            .add(SunlitMaterial { light: Sunlight::unlit(), blend: false });
        let glow = world
            .resource_mut::<Assets<SunlitMaterial>>()
            .add(SunlitMaterial { light: Sunlight::unlit(), blend: false });
        let shade = world
            .resource_mut::<Assets<SunlitMaterial>>()
            .add(SunlitMaterial { light: Sunlight::unlit(), blend: true });
        let mesh = world.resource_mut::<Assets<Mesh>>().add(resolved);
        let ground = world
            .spawn((Mesh3d(mesh), MeshMaterial3d(material.clone()), Transform::default(), layer.clone()))
            .id();

        let wheel_mesh = world.resource_mut::<Assets<Mesh>>().add(meshes::lit_wheel());
        let vehicle = &scenario.ego.vehicle;
        let ego_size = [vehicle.length, vehicle.width, 1.45];
        let car = |world: &mut World, size: [f32; 3], colour: [f32; 3], visible: bool| {
            let shown = if visible { Visibility::Inherited } else { Visibility::Hidden };
            let part = |world: &mut World, mesh: Handle<Mesh>, material: &Handle<SunlitMaterial>| {
                let part = (Mesh3d(mesh), MeshMaterial3d(material.clone()), Transform::default(), shown);
                world.spawn((part, layer.clone())).id()
            };
            let body_mesh = world.resource_mut::<Assets<Mesh>>().add(meshes::lit_car_body(size, colour));
            let body = part(world, body_mesh, &material);
            let wheels = [0; 4].map(|_| part(world, wheel_mesh.clone(), &material));
            let shadow_mesh = world.resource_mut::<Assets<Mesh>>().add(shadow_mesh(&[]));
            let shadow = part(world, shadow_mesh, &shade);
            Car { body, wheels, shadow, size, spots: meshes::wheel_spots(size), spin: 0.0, last: None }
        };
        let ego = car(world, ego_size, EGO_COLOUR, true);
        let npcs = (0..scenario.traffic.count as usize)
            .map(|k| car(world, NPC_SIZE, NPC_COLOURS[k % NPC_COLOURS.len()], false))
            .collect();
        // The other learning cars of a multi-agent world look like the ego.
        let others = (1..scenario.agent_count()).map(|_| car(world, ego_size, EGO_COLOUR, false)).collect();
        let event_obstacles = lepton_sim::events::event_obstacles(&scenario.events)
            .map(|(event, o)| {
                let mesh = world.resource_mut::<Assets<Mesh>>().add(meshes::event_obstacle(o, road, true));
                let entity =
                    (Mesh3d(mesh), MeshMaterial3d(material.clone()), Transform::default(), layer.clone());
                (event, world.spawn((entity, Visibility::Hidden)).id())
            })
            .collect();

        // Trigger stripes glow: unlit, so they read in shadow and at dusk.
        let markers_mesh =
            meshes::resolve_palette(&meshes::trigger_markers(scenario, network), &[[1.0; 4]; PALETTE_SIZE]);
        let markers_mesh = world.resource_mut::<Assets<Mesh>>().add(markers_mesh);
        let markers = world
            .spawn((Mesh3d(markers_mesh), MeshMaterial3d(glow.clone()), Transform::default(), layer.clone()))
            .id();

        // The sky: a dome around the whole scene, coloured from the horizon up; not hazed.
        let [x0, y0, x1, y1] = network.bounds();
        let centre =
            Vec3::from_array(lepton_sim::road::plane_to_world(0.5 * (x0 + x1), 0.5 * (y0 + y1), 0.0));
        let sky_mesh = world.resource_mut::<Assets<Mesh>>().add(sky_dome(&look, 0.45 * extent));
        let sky = world
            .spawn((
                Mesh3d(sky_mesh),
                MeshMaterial3d(glow),
                Transform::from_translation(centre),
                layer.clone(),
            ))
            .id();
        let obstacle_boxes = scenario
            .obstacles
            .iter()
            .map(|o| {
                let d = o.lane.map_or(0.0, |lane| road.lane_centre(lane)) + o.offset;
                let pose = road.pose(o.s, d);
                let at = Vec3::from_array(lepton_sim::road::plane_to_world(pose.x, pose.y, 0.0));
                let placed =
                    Transform::from_translation(at).with_rotation(Quat::from_rotation_y(pose.heading));
                (placed, o.size.unwrap_or(o.kind.default_size()))
            })
            .collect();
        let shadows = world.resource_mut::<Assets<Mesh>>().add(shadow_mesh(&[]));
        let obstacle_shadows = world
            .spawn((Mesh3d(shadows), MeshMaterial3d(shade.clone()), Transform::default(), layer.clone()))
            .id();
        Self {
            ground,
            ground_source,
            ego,
            npcs,
            others,
            event_obstacles,
            sky,
            markers,
            obstacle_shadows,
            obstacle_boxes,
            material,
            towards_sun: Vec3::Y,
            look_key: None,
        }
    }

    /// Every entity (to despawn the scene when the world is rebuilt).
    pub fn entities(&self) -> Vec<Entity> {
        let cars = std::iter::once(&self.ego).chain(&self.npcs).chain(&self.others);
        let mut all: Vec<Entity> =
            cars.flat_map(|c| [c.body, c.shadow].into_iter().chain(c.wheels)).collect();
        all.extend(self.event_obstacles.iter().map(|&(_, e)| e));
        all.extend([self.ground, self.sky, self.markers, self.obstacle_shadows]);
        all
    }

    /// Colours, sky and sun of episode `episode_seed` after the events in `happened`.
    pub fn apply_look(&mut self, world: &mut World, scenario: &Scenario, episode_seed: u64, happened: u64) {
        let look_events = happened & lepton_sim::events::look_mask(&scenario.events);
        if self.look_key == Some((episode_seed, look_events)) {
            return;
        }
        self.look_key = Some((episode_seed, look_events));
        let look = EpisodeLook::with_events(&scenario.look, episode_seed, &scenario.events, look_events);
        let resolved = meshes::resolve_palette(&self.ground_source, &raw_palette(&look));
        replace_mesh(world, self.ground, resolved);
        let radius = world
            .get::<Mesh3d>(self.sky)
            .and_then(|m| world.resource::<Assets<Mesh>>().get(&m.0).map(mesh_radius))
            .unwrap_or(1000.0);
        replace_mesh(world, self.sky, sky_dome(&look, radius));
        // The sun: from its elevation and azimuth (counter-clockwise from the road plane's +x).
        let (el, az) = (look.sun_elevation, look.sun_azimuth);
        let towards_sun = Vec3::from_array(lepton_sim::road::plane_to_world(
            el.cos() * az.cos(),
            el.cos() * az.sin(),
            el.sin(),
        ));
        self.towards_sun = towards_sun.normalize();
        let outlines: Vec<Vec<Vec2>> = self
            .obstacle_boxes
            .iter()
            .map(|(at, size)| shadow_outline(at, *size, self.towards_sun))
            .collect();
        replace_mesh(world, self.obstacle_shadows, shadows_mesh(&outlines));
        // Linear light: the sun from its brightness, the sky's light tinted by its colour.
        let b = look.brightness;
        let sky = look.sky.map(|c| c * 0.55 * b.sqrt());
        let light = Sunlight {
            towards_sun: self.towards_sun.extend(0.0),
            sun: Vec4::new(1.0, 0.96, 0.88, 1.0) * 0.85 * b,
            sky: Vec4::new(sky[0], sky[1], sky[2], 1.0),
            ground: Vec4::new(0.25, 0.25, 0.22, 1.0) * b.sqrt(),
            haze: {
                let h = horizon_colour(&look);
                Vec4::new(h[0], h[1], h[2], 1.0)
            },
            fog: Vec4::new(HAZE_START, HAZE_END, 1.0, 0.0),
        };
        if let Some(mut material) = world.resource_mut::<Assets<SunlitMaterial>>().get_mut(&self.material) {
            material.light = light;
        }
    }

    /// Places the cars of `poses`; wheels turn with the distance each car moved since the last
    /// call and the ego's front wheels steer.
    pub fn sync(&mut self, world: &mut World, poses: &Poses) {
        let ego = poses.ego_ground_transform();
        let sun = self.towards_sun;
        place_car(world, &mut self.ego, Some(ego), poses.ego_steer, sun);
        for (i, car) in self.npcs.iter_mut().enumerate() {
            let pose = poses.npcs.get(i).copied().flatten().map(|(position, rotation)| Transform {
                translation: Vec3::from_array(position),
                rotation: Quat::from_array(rotation),
                ..default()
            });
            place_car(world, car, pose, 0.0, sun);
        }
        for (i, car) in self.others.iter_mut().enumerate() {
            let pose = poses.others.get(i).copied().flatten().map(Poses::ground_transform);
            place_car(world, car, pose, 0.0, sun);
        }
        for &(event, entity) in &self.event_obstacles {
            let shown =
                if poses.events & (1 << event) != 0 { Visibility::Inherited } else { Visibility::Hidden };
            if let Some(mut v) = world.get_mut::<Visibility>(entity) {
                v.set_if_neq(shown);
            }
        }
    }

    /// The ego car's body, hidden by the car camera.
    pub fn ego_parts(&self) -> impl Iterator<Item = Entity> + '_ {
        std::iter::once(self.ego.body).chain(self.ego.wheels)
    }
}

/// Moves `car` to `pose` (hidden when `None`), turning its wheels by the distance driven and
/// casting its shadow away from the sun.
fn place_car(world: &mut World, car: &mut Car, pose: Option<Transform>, steer: f32, towards_sun: Vec3) {
    let shown = if pose.is_some() { Visibility::Inherited } else { Visibility::Hidden };
    for entity in [car.body, car.shadow].into_iter().chain(car.wheels) {
        if let Some(mut v) = world.get_mut::<Visibility>(entity) {
            v.set_if_neq(shown);
        }
    }
    let Some(body) = pose else {
        car.last = None;
        return;
    };
    if let Some(last) = car.last {
        let moved = body.translation - last;
        // A jump (a reset, a reload) is not driving.
        if moved.length() < 10.0 {
            let forward = body.rotation * Vec3::X;
            car.spin = (car.spin - moved.dot(forward) / WHEEL_RADIUS).rem_euclid(std::f32::consts::TAU);
        }
    }
    let first = car.last.is_none();
    car.last = Some(body.translation);
    if let Some(mut t) = world.get_mut::<Transform>(car.body) {
        *t = body;
    }
    let shadow = shadow_mesh(&shadow_outline(&body, car.size, towards_sun));
    if first {
        // A new mesh the first time: one changed before its first upload upsets bevy's allocator.
        replace_mesh(world, car.shadow, shadow);
    } else if let Some(handle) = world.get::<Mesh3d>(car.shadow).map(|m| m.0.clone())
        && let Some(mut mesh) = world.resource_mut::<Assets<Mesh>>().get_mut(&handle)
    {
        *mesh = shadow;
    }
    for (k, (&entity, spot)) in car.wheels.iter().zip(car.spots).enumerate() {
        let steer = if k < 2 { steer } else { 0.0 };
        // The car's frame: x forward, y up, z right; the wheel's axle is its z axis.
        let local = Transform {
            translation: Vec3::from_array(spot),
            rotation: Quat::from_rotation_y(steer) * Quat::from_rotation_z(car.spin),
            ..default()
        };
        if let Some(mut t) = world.get_mut::<Transform>(entity) {
            *t = body * local;
        }
    }
}

/// Gives `entity` a new mesh asset (the old one is dropped once nothing uses it).
fn replace_mesh(world: &mut World, entity: Entity, mesh: Mesh) {
    let handle = world.resource_mut::<Assets<Mesh>>().add(mesh);
    if let Some(mut m) = world.get_mut::<Mesh3d>(entity) {
        m.0 = handle;
    }
}

/// The look's colours as they are (no baked light): the lit look lights them itself.
fn raw_palette(look: &EpisodeLook) -> [[f32; 4]; PALETTE_SIZE] {
    let mut p = [[1.0; 4]; PALETTE_SIZE];
    let rgba = |c: [f32; 3]| [c[0], c[1], c[2], 1.0];
    p[Palette::Ground as usize] = rgba(look.ground);
    p[Palette::Road as usize] = rgba(look.road);
    p[Palette::Shoulder as usize] = rgba(look.shoulder);
    p[Palette::Marking as usize] = rgba(look.marking);
    p[Palette::Sky as usize] = rgba(look.sky);
    p
}

/// The haze at the horizon: the sky's colour, paler.
fn horizon_colour(look: &EpisodeLook) -> [f32; 3] {
    let light = look.brightness.sqrt().min(1.5);
    look.sky.map(|c| ((0.55 * c + 0.45 * 0.92) * light).min(1.0))
}

/// A sphere of `radius` coloured from the horizon's haze up to the sky's colour at the zenith.
fn sky_dome(look: &EpisodeLook, radius: f32) -> Mesh {
    let mut mesh = Sphere::new(radius).mesh().uv(24, 12);
    let horizon = horizon_colour(look);
    let light = look.brightness.sqrt().min(1.5);
    let zenith = look.sky.map(|c| (0.8 * c * light).min(1.0));
    let colours: Vec<[f32; 4]> = match mesh.attribute(Mesh::ATTRIBUTE_POSITION) {
        Some(bevy::mesh::VertexAttributeValues::Float32x3(positions)) => positions
            .iter()
            .map(|p| {
                let t = (p[1] / radius).clamp(0.0, 1.0).powf(0.6);
                let c: Vec<f32> = (0..3).map(|i| horizon[i] + (zenith[i] - horizon[i]) * t).collect();
                [c[0], c[1], c[2], 1.0]
            })
            .collect(),
        _ => Vec::new(),
    };
    mesh.insert_attribute(Mesh::ATTRIBUTE_COLOR, colours);
    mesh
}

/// The radius a sky dome was built with.
fn mesh_radius(mesh: &Mesh) -> f32 {
    match mesh.attribute(Mesh::ATTRIBUTE_POSITION) {
        Some(bevy::mesh::VertexAttributeValues::Float32x3(positions)) => {
            positions.iter().map(|p| Vec3::from_array(*p).length()).fold(1.0, f32::max)
        }
        _ => 1000.0,
    }
}

/// The outline (x, z on the ground) of the shadow a box car of `size` at `body` casts: the
/// convex hull of its footprint and of its roof's corners projected along the sun's rays.
fn shadow_outline(body: &Transform, size: [f32; 3], towards_sun: Vec3) -> Vec<Vec2> {
    let [l, w, h] = size;
    // A low sun casts long shadows; below ~6° they would reach the horizon.
    let up = towards_sun.y.max(0.1);
    let shift = -Vec2::new(towards_sun.x, towards_sun.z) / up * (0.85 * h);
    let mut points = Vec::with_capacity(8);
    for (dx, dz) in [(0.5, 0.5), (-0.5, 0.5), (-0.5, -0.5), (0.5, -0.5)] {
        let corner = body.transform_point(Vec3::new(dx * l, 0.0, dz * w));
        let on_ground = Vec2::new(corner.x, corner.z);
        points.push(on_ground);
        points.push(on_ground + shift);
    }
    convex_hull(points)
}

/// The convex hull of a few points, counter-clockwise (Andrew's monotone chain).
fn convex_hull(mut points: Vec<Vec2>) -> Vec<Vec2> {
    points.sort_by(|a, b| a.x.total_cmp(&b.x).then(a.y.total_cmp(&b.y)));
    let cross = |o: Vec2, a: Vec2, b: Vec2| (a - o).perp_dot(b - o);
    let mut hull: Vec<Vec2> = Vec::with_capacity(points.len() + 1);
    for pass in 0..2 {
        let start = hull.len();
        let ordered: Box<dyn Iterator<Item = &Vec2>> =
            if pass == 0 { Box::new(points.iter()) } else { Box::new(points.iter().rev()) };
        for &p in ordered {
            while hull.len() >= start + 2 && cross(hull[hull.len() - 2], hull[hull.len() - 1], p) <= 0.0 {
                hull.pop();
            }
            hull.push(p);
        }
        hull.pop();
    }
    hull
}

/// A flat dark polygon just above the road and its markings, as a triangle fan.
fn shadow_mesh(outline: &[Vec2]) -> Mesh {
    shadows_mesh(std::slice::from_ref(&outline.to_vec()))
}

/// Several shadow polygons in one mesh.
fn shadows_mesh(outlines: &[Vec<Vec2>]) -> Mesh {
    let y = meshes::MARKING_HEIGHT + 0.01;
    let mut positions: Vec<[f32; 3]> = Vec::new();
    let mut indices: Vec<u32> = Vec::new();
    for outline in outlines.iter().filter(|o| o.len() >= 3) {
        let base = positions.len() as u32;
        positions.extend(outline.iter().map(|p| [p.x, y, p.y]));
        indices.extend((1..outline.len() as u32 - 1).flat_map(|k| [base, base + k, base + k + 1]));
    }
    // Never an empty mesh (bevy's mesh allocator does not take one): a point-sized triangle.
    if positions.is_empty() {
        positions = vec![[0.0, y, 0.0]; 3];
        indices = vec![0, 1, 2];
    }
    Mesh::new(PrimitiveTopology::TriangleList, bevy::asset::RenderAssetUsages::default())
        .with_inserted_attribute(Mesh::ATTRIBUTE_NORMAL, vec![[0.0, 1.0, 0.0]; positions.len()])
        .with_inserted_attribute(
            Mesh::ATTRIBUTE_COLOR,
            vec![[0.0, 0.0, 0.0, SHADOW_OPACITY]; positions.len()],
        )
        .with_inserted_attribute(Mesh::ATTRIBUTE_POSITION, positions)
        .with_inserted_indices(Indices::U32(indices))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_car_under_a_low_sun_casts_a_long_shadow_away_from_it() {
        let body = Transform::default();
        let size = [4.0, 2.0, 1.5];
        let high = shadow_outline(&body, size, Vec3::Y);
        let low = shadow_outline(&body, size, Vec3::new(1.0, 0.5, 0.0).normalize());
        let extent = |o: &[Vec2]| o.iter().map(|p| p.x).fold(f32::MAX, f32::min);
        assert!((extent(&high) + 2.0).abs() < 1e-4, "sun overhead: the footprint: {high:?}");
        // Sun in +x at ~27°: the shadow reaches ~2.5 m further towards −x.
        assert!(extent(&low) < -4.0, "{low:?}");
        assert_eq!(convex_hull(vec![Vec2::ZERO, Vec2::X, Vec2::Y, Vec2::ONE, Vec2::splat(0.5)]).len(), 4);
    }

    #[test]
    fn wheels_turn_with_the_distance_driven_and_the_front_ones_steer() {
        let mut world = World::new();
        world.init_resource::<Assets<Mesh>>();
        let spawn = |world: &mut World| world.spawn((Transform::default(), Visibility::Inherited)).id();
        let size = [4.4, 1.8, 1.45];
        let mut car = Car {
            body: spawn(&mut world),
            wheels: [0; 4].map(|_| spawn(&mut world)),
            shadow: spawn(&mut world),
            size,
            spots: meshes::wheel_spots(size),
            spin: 0.0,
            last: None,
        };
        let at = |x: f32| Some(Transform::from_xyz(x, 0.0, 0.0));
        place_car(&mut world, &mut car, at(0.0), 0.2, Vec3::Y);
        assert_eq!(car.spin, 0.0);
        // One metre forward (the car faces +x): the wheels turn by 1 / r radians.
        place_car(&mut world, &mut car, at(1.0), 0.2, Vec3::Y);
        let turned = std::f32::consts::TAU - car.spin;
        assert!((turned - 1.0 / WHEEL_RADIUS).abs() < 1e-4, "{turned}");
        let front = world.get::<Transform>(car.wheels[0]).unwrap().rotation;
        let rear = world.get::<Transform>(car.wheels[2]).unwrap().rotation;
        // The axle (the wheel's z) turns with the steering, whatever the spin.
        let steer = |q: Quat| (q * Vec3::Z).x.atan2((q * Vec3::Z).z);
        assert!((steer(front) - 0.2).abs() < 1e-4, "front wheels steer 0.2 rad: {}", steer(front));
        assert!(steer(rear).abs() < 1e-4);
        // A jump (a reset) does not spin the wheels; a hidden car hides its wheels.
        let before = car.spin;
        place_car(&mut world, &mut car, at(500.0), 0.0, Vec3::Y);
        assert_eq!(car.spin, before);
        place_car(&mut world, &mut car, None, 0.0, Vec3::Y);
        assert_eq!(*world.get::<Visibility>(car.wheels[3]).unwrap(), Visibility::Hidden);
    }
}
