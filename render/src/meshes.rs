//! Meshes of the driving scene. Everything that never moves (ground, sky, road, shoulders,
//! markings, obstacles) is one mesh, drawn with one draw call per camera; cars are one mesh each.
//!
//! Each vertex names a palette entry in its first texture coordinate (see [`Palette`]) and carries
//! a vertex colour: white on flat surfaces, the object's colour and per-face shading on objects.
//! An environment's material holds the palette, so one mesh serves every environment and its
//! randomised look costs nothing per vertex.

use bevy::asset::RenderAssetUsages;
use bevy::math::{Quat, Vec3};
use bevy::mesh::{Indices, Mesh, PrimitiveTopology};
use lepton_sim::network::Network;
use lepton_sim::road::{RoadGeometry, plane_to_world};
use lepton_sim::scenario::{Markings, Obstacle, ObstacleKind, Scenario, Trigger};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// Palette entries a vertex can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Palette {
    Ground = 0,
    Road = 1,
    Shoulder = 2,
    Marking = 3,
    Sky = 4,
    /// Objects: the light falling on them; their colours are in the vertex colours.
    Object = 5,
    /// Parts coloured per instance (NPC bodies in the batched renderer, which draws every NPC
    /// of a camera with one call): the object light times the vertex colour times the
    /// instance's tint. Other materials never see it.
    Tinted = 6,
}

/// Number of palette entries an environment's look provides (the entries above, then white).
pub const PALETTE_SIZE: usize = 8;

/// NPC body colours, cycled over the traffic slots.
pub const NPC_COLOURS: [[f32; 3]; 6] = [
    [0.7, 0.1, 0.1],
    [0.1, 0.25, 0.7],
    [0.85, 0.85, 0.85],
    [0.1, 0.1, 0.1],
    [0.2, 0.55, 0.25],
    [0.8, 0.6, 0.1],
];

/// Heights of the flat layers above the ground (m): far enough apart to never fight for depth.
pub const SHOULDER_HEIGHT: f32 = 0.02;
pub const ROAD_HEIGHT: f32 = 0.03;
pub const MARKING_HEIGHT: f32 = 0.045;
/// How far the grass and the sky walls reach beyond the road (m).
pub const HORIZON: f32 = 2000.0;

/// Width of painted lines (m), and the dash pattern between lanes (m).
const LINE_WIDTH: f32 = 0.15;
const DASH_LENGTH: f32 = 3.0;
const DASH_GAP: f32 = 6.0;

/// A box's faces: corners (per axis 0 for the minimum, 1 for the maximum; counter-clockwise seen
/// from outside), outward normal, and the light baked on it (lit from above and slightly from
/// the front-left).
#[allow(clippy::type_complexity)]
const BOX_FACES: [([[usize; 3]; 4], [f32; 3], f32); 6] = [
    ([[0, 1, 0], [0, 1, 1], [1, 1, 1], [1, 1, 0]], [0.0, 1.0, 0.0], 1.0),
    ([[0, 0, 0], [1, 0, 0], [1, 0, 1], [0, 0, 1]], [0.0, -1.0, 0.0], 0.35),
    ([[1, 0, 0], [1, 1, 0], [1, 1, 1], [1, 0, 1]], [1.0, 0.0, 0.0], 0.7),
    ([[0, 0, 0], [0, 0, 1], [0, 1, 1], [0, 1, 0]], [-1.0, 0.0, 0.0], 0.55),
    ([[0, 0, 0], [0, 1, 0], [1, 1, 0], [1, 0, 0]], [0.0, 0.0, -1.0], 0.8),
    ([[0, 0, 1], [1, 0, 1], [1, 1, 1], [0, 1, 1]], [0.0, 0.0, 1.0], 0.62),
];

/// For boxes of shared corners: the corner each face's triangles start at, a different one for
/// every face. Flat shading colours a triangle by its first vertex.
const FIRST_CORNERS: [[usize; 3]; 6] = [[0, 1, 0], [0, 0, 0], [1, 0, 0], [0, 0, 1], [1, 1, 0], [1, 1, 1]];

/// Accumulates triangles with a palette entry and a colour per vertex.
struct MeshBuilder {
    positions: Vec<[f32; 3]>,
    normals: Vec<[f32; 3]>,
    palette: Vec<[f32; 2]>,
    colours: Vec<[f32; 4]>,
    indices: Vec<u32>,
    /// Applied to objects added by [`MeshBuilder::cuboid`].
    rotation: Quat,
    translation: Vec3,
    /// Whether faces carry baked light (the flat look); the viewer's lit look lights them itself.
    baked: bool,
    /// Whether cars get their wheels in the mesh (the lit look moves wheels of their own).
    wheels: bool,
    /// Whether the sky box is part of the static scene (the lit look draws a sky dome instead).
    sky: bool,
    /// How finely arcs are cut into chords.
    sampling: Sampling,
    /// Whether boxes share their eight corners among their faces (a third of the vertices to
    /// shade, for meshes drawn many times per frame; only the batched renderer's flat-shading
    /// pass reads them right).
    shared_corners: bool,
}

/// How finely road bands follow arcs.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Sampling {
    /// A chord every 3°: single roads, whose frames (and every golden trace learned from them)
    /// predate road networks.
    Every3Degrees,
    /// Chords within this many metres of the arc, and at least 3°. Road networks pack tight
    /// curves (roundabouts, turning connectors) into view, and a CPU rasteriser pays for every
    /// visible triangle: 3 cm is under half a pixel at 5 m in a 96-pixel frame.
    Within(f32),
}

/// The chord tolerance of road networks' bands (m), see [`Sampling::Within`].
const NETWORK_CHORD_TOLERANCE: f32 = 0.03;

impl MeshBuilder {
    fn new() -> Self {
        Self {
            positions: Vec::new(),
            normals: Vec::new(),
            palette: Vec::new(),
            colours: Vec::new(),
            indices: Vec::new(),
            rotation: Quat::IDENTITY,
            translation: Vec3::ZERO,
            baked: true,
            wheels: true,
            sky: true,
            sampling: Sampling::Every3Degrees,
            shared_corners: false,
        }
    }

    /// A builder for the viewer's lit look: no baked light, no wheels, no sky box.
    fn lit() -> Self {
        Self { baked: false, wheels: false, sky: false, ..Self::new() }
    }

    fn quad(&mut self, corners: [[f32; 3]; 4], normal: [f32; 3], entry: Palette, colour: [f32; 3]) {
        let base = self.positions.len() as u32;
        self.positions.extend(corners);
        self.normals.extend([normal; 4]);
        self.palette.extend([[entry as u32 as f32, 0.0]; 4]);
        self.colours.extend([[colour[0], colour[1], colour[2], 1.0]; 4]);
        self.indices.extend([base, base + 1, base + 2, base, base + 2, base + 3]);
    }

    /// A box from `min` to `max` in the current object frame (x forward, y up, z right), each face
    /// shaded as [`BOX_FACES`] says.
    fn cuboid(&mut self, min: [f32; 3], max: [f32; 3], colour: [f32; 3]) {
        self.cuboid_of(min, max, colour, Palette::Object);
    }

    /// [`MeshBuilder::cuboid`] with its faces on palette entry `entry`.
    fn cuboid_of(&mut self, min: [f32; 3], max: [f32; 3], colour: [f32; 3], entry: Palette) {
        let (r, t) = (self.rotation, self.translation);
        let place = |c: [usize; 3]| {
            let p = Vec3::new([min[0], max[0]][c[0]], [min[1], max[1]][c[1]], [min[2], max[2]][c[2]]);
            (r * p + t).to_array()
        };
        let turn = |n: [f32; 3]| (r * Vec3::from_array(n)).to_array();
        let baked = self.baked;
        let shade = |f: f32| if baked { colour.map(|c| c * f) } else { colour };
        if !self.shared_corners {
            for (corners, normal, light) in BOX_FACES {
                self.quad(corners.map(place), turn(normal), entry, shade(light));
            }
            return;
        }
        // Eight corners, each carrying the colour of the face whose triangles start at it.
        let base = self.positions.len() as u32;
        for k in 0..8 {
            let corner = [k >> 2 & 1, k >> 1 & 1, k & 1];
            let face = FIRST_CORNERS.iter().position(|&c| c == corner).unwrap_or(0);
            let (_, normal, light) = BOX_FACES[face];
            let c = shade(light);
            self.positions.push(place(corner));
            self.normals.push(turn(normal));
            self.palette.push([entry as u32 as f32, 0.0]);
            self.colours.push([c[0], c[1], c[2], 1.0]);
        }
        let id = |c: [usize; 3]| base + (c[0] * 4 + c[1] * 2 + c[2]) as u32;
        for ((corners, _, _), first) in BOX_FACES.iter().zip(FIRST_CORNERS) {
            // The same corners in the same turn, begun at the face's own corner.
            let r = corners.iter().position(|&c| c == first).expect("a face's first corner is its own");
            let at = |i: usize| id(corners[(r + i) % 4]);
            self.indices.extend([at(0), at(1), at(2), at(0), at(2), at(3)]);
        }
    }

    fn build(self) -> Mesh {
        let mut mesh = Mesh::new(PrimitiveTopology::TriangleList, RenderAssetUsages::RENDER_WORLD)
            .with_inserted_attribute(Mesh::ATTRIBUTE_POSITION, self.positions)
            .with_inserted_attribute(Mesh::ATTRIBUTE_NORMAL, self.normals)
            .with_inserted_attribute(Mesh::ATTRIBUTE_UV_0, self.palette)
            .with_inserted_attribute(Mesh::ATTRIBUTE_COLOR, self.colours);
        mesh.insert_indices(Indices::U32(self.indices));
        mesh
    }
}

/// Arc-length samples along the road from `from` to `to`: the ends of every straight piece, and
/// every 3° along arcs. Few vertices matter: a CPU rasteriser shades every one for every camera.
///
/// With [`Sampling::Within`] arcs take the longest step (at least 3°) whose chords stay within
/// the tolerance of the road's outer edge.
fn road_samples(road: &RoadGeometry, from: f32, to: f32, sampling: Sampling) -> Vec<f32> {
    let three_degrees = 3f32.to_radians();
    let outer = road.drivable_half_width();
    let step = |curvature: f32| match sampling {
        Sampling::Every3Degrees => three_degrees,
        Sampling::Within(tolerance) => {
            // A chord across angle θ of radius r lies r·(1 − cos θ/2) inside the arc.
            let r = 1.0 / curvature + outer;
            (2.0 * (1.0 - tolerance / r).clamp(-1.0, 1.0).acos()).max(three_degrees)
        }
    };
    let mut samples = vec![from];
    for pair in road.breakpoints().windows(2) {
        let (start, end) = (pair[0].max(from), pair[1].min(to));
        if end <= start {
            continue;
        }
        let curvature = road.curvature(0.5 * (start + end)).abs();
        let steps =
            if curvature > 0.0 { ((end - start) * curvature / step(curvature)).ceil().max(1.0) } else { 1.0 };
        for i in 1..=steps as usize {
            samples.push(start + (end - start) * i as f32 / steps);
        }
    }
    samples
}

/// A flat band of the road between lateral offsets `d0 < d1`, from `s0` to `s1`, at `height`.
#[allow(clippy::too_many_arguments)]
fn band(
    b: &mut MeshBuilder,
    road: &RoadGeometry,
    s0: f32,
    s1: f32,
    d0: f32,
    d1: f32,
    height: f32,
    entry: Palette,
) {
    let samples = road_samples(road, s0, s1, b.sampling);
    for pair in samples.windows(2) {
        let [a, c] = [pair[0], pair[1]];
        let p = |s: f32, d: f32| {
            let pose = road.pose(s, d);
            plane_to_world(pose.x, pose.y, height)
        };
        b.quad([p(a, d0), p(c, d0), p(c, d1), p(a, d1)], [0.0, 1.0, 0.0], entry, [1.0; 3]);
    }
}

/// Lanes, shoulders and markings.
fn road_layers(b: &mut MeshBuilder, road: &RoadGeometry, style: Markings) {
    let (hw, outer, length) = (road.half_width(), road.drivable_half_width(), road.length());
    band(b, road, 0.0, length, -hw, hw, ROAD_HEIGHT, Palette::Road);
    if road.shoulder() > 0.0 {
        band(b, road, 0.0, length, -outer, -hw, SHOULDER_HEIGHT, Palette::Shoulder);
        band(b, road, 0.0, length, hw, outer, SHOULDER_HEIGHT, Palette::Shoulder);
    }
    if style == Markings::None {
        return;
    }
    let half_line = 0.5 * LINE_WIDTH;
    for edge in [-hw + half_line, hw - half_line] {
        band(b, road, 0.0, length, edge - half_line, edge + half_line, MARKING_HEIGHT, Palette::Marking);
    }
    for k in 1..road.lanes() {
        let d = -hw + k as f32 * road.lane_width();
        let (dash, gap) = if style == Markings::Solid { (length, 0.0) } else { (DASH_LENGTH, DASH_GAP) };
        let mut s = 0.0;
        while s < length {
            let end = (s + dash).min(length);
            band(b, road, s, end, d - half_line, d + half_line, MARKING_HEIGHT, Palette::Marking);
            s += dash + gap;
        }
    }
}

/// Grass to the horizon and an inward-looking sky box around every road.
fn ground_and_sky(b: &mut MeshBuilder, network: &Network) {
    let [x0, y0, x1, y1] = network.bounds();
    let (cx, cy) = (0.5 * (x0 + x1), 0.5 * (y0 + y1));
    let h = 0.5 * (x1 - x0).max(y1 - y0) + HORIZON;
    let p = |dx: f32, dy: f32, up: f32| plane_to_world(cx + dx, cy + dy, up);
    b.quad(
        [p(-h, -h, 0.0), p(h, -h, 0.0), p(h, h, 0.0), p(-h, h, 0.0)],
        [0.0, 1.0, 0.0],
        Palette::Ground,
        [1.0; 3],
    );
    if !b.sky {
        return;
    }
    let top = h;
    let corners = [(-h, -h), (h, -h), (h, h), (-h, h)];
    for i in 0..4 {
        let (ax, ay) = corners[i];
        let (bx, by) = corners[(i + 1) % 4];
        b.quad(
            [p(ax, ay, -1.0), p(bx, by, -1.0), p(bx, by, top), p(ax, ay, top)],
            [0.0; 3],
            Palette::Sky,
            [1.0; 3],
        );
    }
    b.quad(
        [p(-h, -h, top), p(h, -h, top), p(h, h, top), p(-h, h, top)],
        [0.0, -1.0, 0.0],
        Palette::Sky,
        [1.0; 3],
    );
}

/// `mesh` with each vertex's palette entry resolved to its colour in `palette` (linear RGBA),
/// for materials that take vertex colours as they are (the viewer's lit look).
pub fn resolve_palette(mesh: &Mesh, palette: &[[f32; 4]; PALETTE_SIZE]) -> Mesh {
    use bevy::mesh::VertexAttributeValues;
    let mut out = mesh.clone();
    let (Some(VertexAttributeValues::Float32x2(uvs)), Some(VertexAttributeValues::Float32x4(colours))) =
        (mesh.attribute(Mesh::ATTRIBUTE_UV_0), mesh.attribute(Mesh::ATTRIBUTE_COLOR))
    else {
        return out;
    };
    let resolved: Vec<[f32; 4]> = uvs
        .iter()
        .zip(colours)
        .map(|(uv, c)| {
            let p = palette[((uv[0] + 0.5) as usize).min(PALETTE_SIZE - 1)];
            [c[0] * p[0], c[1] * p[1], c[2] * p[2], c[3] * p[3]]
        })
        .collect();
    out.insert_attribute(Mesh::ATTRIBUTE_COLOR, resolved);
    out
}

/// Distance from the roads' bounds to the sky walls, for the far plane of cameras (m).
pub fn scene_extent(network: &Network) -> f32 {
    let [x0, y0, x1, y1] = network.bounds();
    3.0 * ((x1 - x0).max(y1 - y0) + 2.0 * HORIZON)
}

/// Everything that never moves, as one mesh.
pub fn static_scene(scenario: &Scenario, network: &Network) -> Mesh {
    static_scene_from(MeshBuilder::new(), scenario, network)
}

/// The static scene for the viewer's lit look: unshaded colours, no sky box.
pub fn lit_static_scene(scenario: &Scenario, network: &Network) -> Mesh {
    static_scene_from(MeshBuilder::lit(), scenario, network)
}

fn static_scene_from(mut b: MeshBuilder, scenario: &Scenario, network: &Network) -> Mesh {
    if scenario.network.is_some() {
        b.sampling = Sampling::Within(NETWORK_CHORD_TOLERANCE);
    }
    ground_and_sky(&mut b, network);
    let markings = scenario.network.as_ref().map_or(scenario.road.markings, |n| n.markings);
    for carriageway in &network.carriageways {
        road_layers(&mut b, &carriageway.geometry, markings);
    }
    // A junction's surface: its connectors' lanes, unmarked, covering the box between the roads.
    for path in &network.connectors {
        let road = &path.connector.geometry;
        let hw = road.half_width();
        band(&mut b, road, 0.0, road.length(), -hw, hw, ROAD_HEIGHT, Palette::Road);
    }
    if markings != Markings::None {
        stop_lines(&mut b, scenario, network);
    }
    for o in &scenario.obstacles {
        obstacle(&mut b, o, obstacle_road(scenario, network, o));
    }
    b.build()
}

/// A stop line across the end of every lane that must stop or yield where it enters a junction:
/// every approach of a junction with lights, the roads without the right of way at one with a
/// `priority`.
fn stop_lines(b: &mut MeshBuilder, scenario: &Scenario, network: &Network) {
    let Some(file) = &scenario.network else { return };
    let mut drawn = Vec::new();
    for (k, path) in network.connectors.iter().enumerate() {
        let junction = &file.junctions[path.junction];
        let yields = junction.signals.is_some() || (!junction.priority.is_empty() && !network.priority[k]);
        let from = path.connector.from;
        if !yields || drawn.contains(&(from.road, from.lane)) {
            continue;
        }
        drawn.push((from.road, from.lane));
        let road = &network.carriageways[from.road].geometry;
        let (end, d, half) = (road.length(), road.lane_centre(from.lane), 0.5 * road.lane_width());
        band(b, road, end - 0.6, end - 0.2, d - half, d + half, MARKING_HEIGHT, Palette::Marking);
    }
}

/// The road obstacle `o` stands on: on a network the one it names, else the single road.
pub fn obstacle_road<'a>(scenario: &Scenario, network: &'a Network, o: &Obstacle) -> &'a RoadGeometry {
    o.road
        .as_deref()
        .and_then(|name| network.obstacle_carriageway(scenario.ego.route.as_ref(), name))
        .map_or(network.first_road(), |k| &network.carriageways[k].geometry)
}

/// One obstacle that an event makes appear, as a mesh of its own in world coordinates (`lit`:
/// for the viewer's lit look).
pub fn event_obstacle(o: &Obstacle, road: &RoadGeometry, lit: bool) -> Mesh {
    let mut b = if lit { MeshBuilder::lit() } else { MeshBuilder::new() };
    obstacle(&mut b, o, road);
    b.build()
}

/// Adds obstacle `o` where the road places it.
fn obstacle(b: &mut MeshBuilder, o: &Obstacle, road: &RoadGeometry) {
    let size = o.size.unwrap_or_else(|| o.kind.default_size());
    let d = o.lane.map_or(0.0, |lane| road.lane_centre(lane)) + o.offset;
    let pose = road.pose(o.s, d);
    b.rotation = Quat::from_rotation_y(pose.heading);
    b.translation = Vec3::from_array(plane_to_world(pose.x, pose.y, 0.0));
    match o.kind {
        ObstacleKind::Cone => cone(b, size),
        ObstacleKind::Box => crate_box(b, size),
        ObstacleKind::Barrier => barrier(b, size),
    }
    b.rotation = Quat::IDENTITY;
    b.translation = Vec3::ZERO;
}

/// Where the scenario's position triggers (`EgoAt`) lie: a thin bright stripe across the road
/// at each (on a network across the route's carriageway of the road it names), for the viewer
/// (training frames never show them).
pub fn trigger_markers(scenario: &Scenario, network: &Network) -> Mesh {
    let mut b = MeshBuilder::new();
    let route =
        network.route(scenario.ego.route.as_ref(), &mut ChaCha8Rng::seed_from_u64(0)).unwrap_or_default();
    for event in &scenario.events {
        if let Trigger::EgoAt { s, road } = &event.when
            && let Some(road) = network.trigger_road(&route, road.as_deref())
        {
            let half = 0.5 * road.lanes() as f32 * road.lane_width() + road.shoulder();
            let pose = road.pose(*s, 0.0);
            b.rotation = Quat::from_rotation_y(pose.heading);
            b.translation = Vec3::from_array(plane_to_world(pose.x, pose.y, 0.0));
            b.cuboid([-0.2, 0.0, -half], [0.2, 0.04, half], [1.0, 0.2, 0.85]);
        }
    }
    b.build()
}

/// A car `size` = (length, width, height) with its origin on the ground at its centre:
/// a body, a darker glass cabin set back, and four wheels.
pub fn car(size: [f32; 3], colour: [f32; 3]) -> Mesh {
    car_from(MeshBuilder::new(), size, colour, Palette::Object)
}

/// [`car`] with a white body on [`Palette::Tinted`]: each instance gives the body its colour,
/// so one mesh and one draw serve every NPC of a camera. The product is the same in f32 as a
/// body built in its colour (x·1·c = c·x), so frames do not change.
///
/// Its boxes share their corners: every NPC in view is drawn in every frame.
pub fn tinted_car(size: [f32; 3]) -> Mesh {
    car_from(MeshBuilder { shared_corners: true, ..MeshBuilder::new() }, size, [1.0; 3], Palette::Tinted)
}

/// A car's body and cabin for the lit look, without wheels (see [`WHEEL_RADIUS`], [`wheel_spots`]).
pub fn lit_car_body(size: [f32; 3], colour: [f32; 3]) -> Mesh {
    car_from(MeshBuilder::lit(), size, colour, Palette::Object)
}

/// Radius and width of a car's wheels (m).
pub const WHEEL_RADIUS: f32 = 0.33;
pub const WHEEL_WIDTH: f32 = 0.24;

/// Where a car of `size` has its wheel centres, in its frame (x forward, z right): front left,
/// front right, rear left, rear right.
pub fn wheel_spots(size: [f32; 3]) -> [[f32; 3]; 4] {
    let (x, z) = (0.3 * size[0], 0.5 * size[1] - 0.5 * WHEEL_WIDTH + 0.02);
    [[x, WHEEL_RADIUS, -z], [x, WHEEL_RADIUS, z], [-x, WHEEL_RADIUS, -z], [-x, WHEEL_RADIUS, z]]
}

/// A wheel for the lit look: a dark twelve-sided tyre around the z axis (the car's right), with
/// light spokes on both faces so that its turning shows. Centred on the origin.
pub fn lit_wheel() -> Mesh {
    let mut b = MeshBuilder::lit();
    let (r, hw, n) = (WHEEL_RADIUS, 0.5 * WHEEL_WIDTH, 12);
    let tyre = [0.04, 0.04, 0.045];
    let at = |k: usize, z: f32| {
        let a = std::f32::consts::TAU * k as f32 / n as f32;
        [r * a.cos(), r * a.sin(), z]
    };
    for k in 0..n {
        let a = std::f32::consts::TAU * (k as f32 + 0.5) / n as f32;
        let normal = [a.cos(), a.sin(), 0.0];
        b.quad([at(k, -hw), at(k + 1, -hw), at(k + 1, hw), at(k, hw)], normal, Palette::Object, tyre);
        // The faces, as fans of degenerate quads around the hub.
        for (z, nz) in [(-hw, -1.0), (hw, 1.0)] {
            b.quad(
                [[0.0, 0.0, z], at(k, z), at(k + 1, z), [0.0, 0.0, z]],
                [0.0, 0.0, nz],
                Palette::Object,
                tyre,
            );
        }
    }
    let spoke = [0.75, 0.75, 0.78];
    for z in [-hw - 0.012, hw] {
        b.cuboid([-0.8 * r, -0.05, z], [0.8 * r, 0.05, z + 0.012], spoke);
        b.cuboid([-0.05, -0.8 * r, z], [0.05, 0.8 * r, z + 0.012], spoke);
    }
    b.build()
}

fn car_from(mut b: MeshBuilder, size: [f32; 3], colour: [f32; 3], body: Palette) -> Mesh {
    let [l, w, h] = size;
    let (hl, hw) = (0.5 * l, 0.5 * w);
    let body_top = 0.55 * h;
    b.cuboid_of([-hl, 0.25, -hw], [hl, body_top, hw], colour, body);
    b.cuboid([-0.35 * l, body_top, -hw + 0.12], [0.15 * l, h, hw - 0.12], [0.12, 0.14, 0.18]);
    if !b.wheels {
        return b.build();
    }
    let wheel = [0.05, 0.05, 0.05];
    for x in [-0.3 * l, 0.3 * l] {
        for (z0, z1) in [(-hw - 0.02, -hw + 0.25), (hw - 0.25, hw + 0.02)] {
            b.cuboid([x - 0.33, 0.0, z0], [x + 0.33, 0.66, z1], wheel);
        }
    }
    b.build()
}

/// A traffic cone: a stepped orange pyramid with a white band.
fn cone(b: &mut MeshBuilder, [l, w, h]: [f32; 3]) {
    let orange = [0.95, 0.35, 0.05];
    b.cuboid([-0.5 * l, 0.0, -0.5 * w], [0.5 * l, 0.06 * h, 0.5 * w], orange);
    let steps = 5;
    for i in 0..steps {
        let t0 = i as f32 / steps as f32;
        let t1 = (i + 1) as f32 / steps as f32;
        let r = 0.5 * (1.0 - 0.8 * t0) * 0.7;
        let colour = if i == 2 { [0.95, 0.95, 0.95] } else { orange };
        b.cuboid([-r * l, t0 * h, -r * w], [r * l, t1 * h, r * w], colour);
    }
}

/// A wooden crate.
fn crate_box(b: &mut MeshBuilder, [l, w, h]: [f32; 3]) {
    b.cuboid([-0.5 * l, 0.0, -0.5 * w], [0.5 * l, h, 0.5 * w], [0.55, 0.38, 0.18]);
}

/// A barrier across the road, striped red and white, on two legs.
fn barrier(b: &mut MeshBuilder, [l, w, h]: [f32; 3]) {
    let stripes = 6;
    for i in 0..stripes {
        let z0 = -0.5 * w + w * i as f32 / stripes as f32;
        let z1 = -0.5 * w + w * (i + 1) as f32 / stripes as f32;
        let colour = if i % 2 == 0 { [0.85, 0.08, 0.06] } else { [0.95, 0.95, 0.95] };
        b.cuboid([-0.5 * l, 0.3 * h, z0], [0.5 * l, h, z1], colour);
    }
    for z in [-0.4 * w, 0.4 * w] {
        b.cuboid([-0.5 * l, 0.0, z - 0.05], [0.5 * l, 0.3 * h, z + 0.05], [0.3, 0.3, 0.3]);
    }
}
