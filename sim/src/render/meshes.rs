//! Meshes of the driving scene, built from the road geometry and a few boxes. Objects carry their
//! colours and per-face shading in vertex colours, so one mesh serves every environment; the
//! per-environment light is the material's colour.

use crate::road::{RoadGeometry, plane_to_world};
use crate::scenario::Markings;
use bevy::asset::RenderAssetUsages;
use bevy::mesh::{Indices, Mesh, PrimitiveTopology};

/// Heights of the flat layers above the ground (m): far enough apart to never fight for depth.
pub const SHOULDER_HEIGHT: f32 = 0.02;
pub const ROAD_HEIGHT: f32 = 0.03;
pub const MARKING_HEIGHT: f32 = 0.045;

/// Width of painted lines (m), and the dash pattern between lanes (m).
const LINE_WIDTH: f32 = 0.15;
const DASH_LENGTH: f32 = 3.0;
const DASH_GAP: f32 = 6.0;

/// Accumulates triangles with optional vertex colours.
#[derive(Default)]
struct MeshBuilder {
    positions: Vec<[f32; 3]>,
    normals: Vec<[f32; 3]>,
    colours: Vec<[f32; 4]>,
    indices: Vec<u32>,
}

impl MeshBuilder {
    fn quad(&mut self, corners: [[f32; 3]; 4], normal: [f32; 3], colour: [f32; 3]) {
        let base = self.positions.len() as u32;
        self.positions.extend(corners);
        self.normals.extend([normal; 4]);
        self.colours.extend([[colour[0], colour[1], colour[2], 1.0]; 4]);
        self.indices.extend([base, base + 1, base + 2, base, base + 2, base + 3]);
    }

    /// An axis-aligned box from `min` to `max` (x forward, y up, z right), each face shaded as if
    /// lit from above and slightly from the front-left.
    fn cuboid(&mut self, min: [f32; 3], max: [f32; 3], colour: [f32; 3]) {
        let [x0, y0, z0] = min;
        let [x1, y1, z1] = max;
        let shade = |f: f32| colour.map(|c| c * f);
        self.quad([[x0, y1, z0], [x0, y1, z1], [x1, y1, z1], [x1, y1, z0]], [0.0, 1.0, 0.0], shade(1.0));
        self.quad([[x0, y0, z0], [x1, y0, z0], [x1, y0, z1], [x0, y0, z1]], [0.0, -1.0, 0.0], shade(0.35));
        self.quad([[x1, y0, z0], [x1, y1, z0], [x1, y1, z1], [x1, y0, z1]], [1.0, 0.0, 0.0], shade(0.7));
        self.quad([[x0, y0, z0], [x0, y0, z1], [x0, y1, z1], [x0, y1, z0]], [-1.0, 0.0, 0.0], shade(0.55));
        self.quad([[x0, y0, z0], [x0, y1, z0], [x1, y1, z0], [x1, y0, z0]], [0.0, 0.0, -1.0], shade(0.8));
        self.quad([[x0, y0, z1], [x1, y0, z1], [x1, y1, z1], [x0, y1, z1]], [0.0, 0.0, 1.0], shade(0.62));
    }

    fn build(self, with_colours: bool) -> Mesh {
        let mut mesh = Mesh::new(PrimitiveTopology::TriangleList, RenderAssetUsages::RENDER_WORLD)
            .with_inserted_attribute(Mesh::ATTRIBUTE_POSITION, self.positions)
            .with_inserted_attribute(Mesh::ATTRIBUTE_NORMAL, self.normals);
        if with_colours {
            mesh.insert_attribute(Mesh::ATTRIBUTE_COLOR, self.colours);
        }
        mesh.insert_indices(Indices::U32(self.indices));
        mesh
    }
}

/// Arc-length samples along the road from `from` to `to`: the ends of every straight piece, and
/// every 3° along arcs. Few vertices matter: a CPU rasteriser shades every one for every camera.
fn road_samples(road: &RoadGeometry, from: f32, to: f32) -> Vec<f32> {
    let mut samples = vec![from];
    for pair in road.breakpoints().windows(2) {
        let (start, end) = (pair[0].max(from), pair[1].min(to));
        if end <= start {
            continue;
        }
        let curvature = road.curvature(0.5 * (start + end)).abs();
        let steps = if curvature > 0.0 {
            ((end - start) * curvature / 3f32.to_radians()).ceil().max(1.0)
        } else {
            1.0
        };
        for i in 1..=steps as usize {
            samples.push(start + (end - start) * i as f32 / steps);
        }
    }
    samples
}

/// A flat band of the road between lateral offsets `d0 < d1`, from `s0` to `s1`, at `height`.
fn band(builder: &mut MeshBuilder, road: &RoadGeometry, s0: f32, s1: f32, d0: f32, d1: f32, height: f32) {
    let samples = road_samples(road, s0, s1);
    for pair in samples.windows(2) {
        let [a, b] = [pair[0], pair[1]];
        let p = |s: f32, d: f32| {
            let pose = road.pose(s, d);
            plane_to_world(pose.x, pose.y, height)
        };
        // Counter-clockwise seen from above: right edge forward, then left edge back.
        builder.quad([p(a, d0), p(b, d0), p(b, d1), p(a, d1)], [0.0, 1.0, 0.0], [1.0; 3]);
    }
}

/// The lanes' surface.
pub fn road_surface(road: &RoadGeometry) -> Mesh {
    let mut b = MeshBuilder::default();
    let hw = road.half_width();
    band(&mut b, road, 0.0, road.length(), -hw, hw, ROAD_HEIGHT);
    b.build(false)
}

/// The shoulders on both sides (None when the road has none).
pub fn shoulders(road: &RoadGeometry) -> Option<Mesh> {
    if road.shoulder() <= 0.0 {
        return None;
    }
    let mut b = MeshBuilder::default();
    let (hw, outer) = (road.half_width(), road.drivable_half_width());
    band(&mut b, road, 0.0, road.length(), -outer, -hw, SHOULDER_HEIGHT);
    band(&mut b, road, 0.0, road.length(), hw, outer, SHOULDER_HEIGHT);
    Some(b.build(false))
}

/// Lane markings: solid edge lines and dashed lines between lanes (or as `style` says).
pub fn markings(road: &RoadGeometry, style: Markings) -> Option<Mesh> {
    if style == Markings::None {
        return None;
    }
    let mut b = MeshBuilder::default();
    let hw = road.half_width();
    let half_line = 0.5 * LINE_WIDTH;
    for edge in [-hw + half_line, hw - half_line] {
        band(&mut b, road, 0.0, road.length(), edge - half_line, edge + half_line, MARKING_HEIGHT);
    }
    for k in 1..road.lanes() {
        let d = -hw + k as f32 * road.lane_width();
        if style == Markings::Solid {
            band(&mut b, road, 0.0, road.length(), d - half_line, d + half_line, MARKING_HEIGHT);
            continue;
        }
        let mut s = 0.0;
        while s < road.length() {
            let end = (s + DASH_LENGTH).min(road.length());
            band(&mut b, road, s, end, d - half_line, d + half_line, MARKING_HEIGHT);
            s += DASH_LENGTH + DASH_GAP;
        }
    }
    Some(b.build(false))
}

/// The ground: one square `half_size` metres from `centre` each way, on the plane.
pub fn ground(centre: [f32; 2], half_size: f32) -> Mesh {
    let mut b = MeshBuilder::default();
    let [x, y] = centre;
    let p = |dx: f32, dy: f32| plane_to_world(x + dx, y + dy, 0.0);
    let h = half_size;
    b.quad([p(-h, -h), p(h, -h), p(h, h), p(-h, h)], [0.0, 1.0, 0.0], [1.0; 3]);
    b.build(false)
}

/// An inward-looking box around the camera, painted with the sky colour by its material.
pub fn sky_box(half_size: f32) -> Mesh {
    let mut b = MeshBuilder::default();
    b.cuboid([-half_size, -0.5, -half_size], [half_size, half_size, half_size], [1.0; 3]);
    let mut mesh = b.build(false);
    mesh.remove_attribute(Mesh::ATTRIBUTE_COLOR);
    mesh
}

/// A car `size` = (length, width, height) with its origin on the ground at its centre:
/// a body, a darker glass cabin set back, and four wheels.
pub fn car(size: [f32; 3], colour: [f32; 3]) -> Mesh {
    let [l, w, h] = size;
    let (hl, hw) = (0.5 * l, 0.5 * w);
    let mut b = MeshBuilder::default();
    let body_top = 0.55 * h;
    b.cuboid([-hl, 0.25, -hw], [hl, body_top, hw], colour);
    b.cuboid([-0.35 * l, body_top, -hw + 0.12], [0.15 * l, h, hw - 0.12], [0.12, 0.14, 0.18]);
    let wheel = [0.05, 0.05, 0.05];
    for x in [-0.3 * l, 0.3 * l] {
        for (z0, z1) in [(-hw - 0.02, -hw + 0.25), (hw - 0.25, hw + 0.02)] {
            b.cuboid([x - 0.33, 0.0, z0], [x + 0.33, 0.66, z1], wheel);
        }
    }
    b.build(true)
}

/// A traffic cone `size` = (length, width, height): a stepped orange pyramid with a white band.
pub fn cone(size: [f32; 3]) -> Mesh {
    let [l, w, h] = size;
    let orange = [0.95, 0.35, 0.05];
    let mut b = MeshBuilder::default();
    b.cuboid([-0.5 * l, 0.0, -0.5 * w], [0.5 * l, 0.06 * h, 0.5 * w], orange);
    let steps = 5;
    for i in 0..steps {
        let t0 = i as f32 / steps as f32;
        let t1 = (i + 1) as f32 / steps as f32;
        let r = 0.5 * (1.0 - 0.8 * t0) * 0.7;
        let colour = if i == 2 { [0.95, 0.95, 0.95] } else { orange };
        b.cuboid([-r * l, t0 * h, -r * w], [r * l, t1 * h, r * w], colour);
    }
    b.build(true)
}

/// A crate `size` = (length, width, height).
pub fn crate_box(size: [f32; 3]) -> Mesh {
    let [l, w, h] = size;
    let mut b = MeshBuilder::default();
    b.cuboid([-0.5 * l, 0.0, -0.5 * w], [0.5 * l, h, 0.5 * w], [0.55, 0.38, 0.18]);
    b.build(true)
}

/// A barrier `size` = (depth along the road, width across it, height), striped red and white.
pub fn barrier(size: [f32; 3]) -> Mesh {
    let [l, w, h] = size;
    let stripes = 6;
    let mut b = MeshBuilder::default();
    for i in 0..stripes {
        let z0 = -0.5 * w + w * i as f32 / stripes as f32;
        let z1 = -0.5 * w + w * (i + 1) as f32 / stripes as f32;
        let colour = if i % 2 == 0 { [0.85, 0.08, 0.06] } else { [0.95, 0.95, 0.95] };
        b.cuboid([-0.5 * l, 0.3 * h, z0], [0.5 * l, h, z1], colour);
    }
    for z in [-0.4 * w, 0.4 * w] {
        b.cuboid([-0.5 * l, 0.0, z - 0.05], [0.5 * l, 0.3 * h, z + 0.05], [0.3, 0.3, 0.3]);
    }
    b.build(true)
}
