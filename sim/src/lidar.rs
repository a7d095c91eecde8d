//! The lidar: a range image of rapier ray casts from a mount on the ego car, against the ground,
//! the obstacles and the other cars (never the ego itself).
//!
//! A scan casts `channels × rays` beams. Casting each beam against every collider costs beams ×
//! colliders ray tests, though most beams of a driving scene meet only the ground, so [`scan`]
//! turns the loop around: for each collider within range it works out which rows and columns of
//! the range image can meet it (a conservative box of angles around it, as seen from the sensor)
//! and casts only those beams against it — the same parry ray test rapier's query pipeline runs
//! at its leaves, so every range is the one [`scan_every_collider`] returns, bit for bit (tested).
//!
//! Noise, when the scenario asks for it, is drawn from the episode's seed and step, so a scan is a
//! function of the world and those two numbers: the same seed gives the same scans, and a resumed
//! run sees what the original saw.

use crate::scenario::Lidar;
use crate::world::World;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};
use rapier3d::prelude::*;
use std::f32::consts::{PI, TAU};

/// A scenario's lidar, its beam directions worked out once.
#[derive(Debug, Clone, PartialEq)]
pub struct LidarBeams {
    spec: Lidar,
    /// Each row's elevation and each column's azimuth (radians; azimuth counter-clockwise from
    /// straight ahead, so positive is left).
    elevations: Vec<f32>,
    azimuths: Vec<f32>,
    /// Unit direction of beam (row, column) in the car's body frame (x forward, y up, z right),
    /// row-major.
    directions: Vec<[f32; 3]>,
}

impl LidarBeams {
    pub fn new(spec: &Lidar) -> Self {
        let (channels, rays) = (spec.channels as usize, spec.rays as usize);
        let (lowest, highest) = (spec.vertical_fov.0.to_radians(), spec.vertical_fov.1.to_radians());
        // Row 0 is the top beam, as in an image; one channel looks at the middle.
        let elevations: Vec<f32> = (0..channels)
            .map(|i| match channels {
                1 => 0.5 * (lowest + highest),
                _ => highest - (highest - lowest) * i as f32 / (channels - 1) as f32,
            })
            .collect();
        // Columns run from the car's left to its right, centred straight ahead: the middle of
        // each of `rays` equal slices of the sweep.
        let fov = spec.horizontal_fov.to_radians();
        let azimuths: Vec<f32> =
            (0..rays).map(|j| 0.5 * fov - fov * (j as f32 + 0.5) / rays as f32).collect();
        let directions = elevations
            .iter()
            .flat_map(|&e| azimuths.iter().map(move |&a| [e.cos() * a.cos(), e.sin(), -e.cos() * a.sin()]))
            .collect();
        Self { spec: spec.clone(), elevations, azimuths, directions }
    }

    pub fn spec(&self) -> &Lidar {
        &self.spec
    }

    /// (channels, rays): the range image's rows and columns.
    pub fn shape(&self) -> (usize, usize) {
        (self.elevations.len(), self.azimuths.len())
    }

    /// Beams per scan.
    pub fn len(&self) -> usize {
        self.directions.len()
    }

    pub fn is_empty(&self) -> bool {
        self.directions.is_empty()
    }

    /// Each row's elevation (radians, row 0 the top beam).
    pub fn elevations(&self) -> &[f32] {
        &self.elevations
    }

    /// Each column's azimuth (radians counter-clockwise from straight ahead: left is positive).
    pub fn azimuths(&self) -> &[f32] {
        &self.azimuths
    }

    /// The point each return of `ranges` hit, in the sensor's frame: (forward, left, up) metres
    /// from the lidar, the ROS convention. Beams that hit nothing (range ≥ the lidar's) are left
    /// out.
    pub fn points(&self, ranges: &[f32]) -> Vec<[f32; 3]> {
        self.directions
            .iter()
            .zip(ranges)
            .filter(|&(_, &r)| r < self.spec.range)
            .map(|(d, &r)| [r * d[0], -r * d[2], r * d[1]])
            .collect()
    }

    /// Where the sensor is and how it is turned: car `car`'s body pose with the mount applied.
    fn sensor_pose(&self, world: &World, car: usize) -> Pose {
        let body = world.physics().bodies[world.car_body(car)].position();
        let mount = &self.spec.mount;
        let offset = body.rotation * Vector::new(mount.forward, mount.up, -mount.left);
        Pose::from_parts(body.translation + offset, body.rotation)
    }
}

/// One scan of a world: `channels × rays` ranges in metres, row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct LidarScan {
    pub channels: usize,
    pub rays: usize,
    /// Metres to the first thing each beam hit; the lidar's `range` where it hit nothing.
    pub ranges: Vec<f32>,
}

/// Scans `world` with `beams` into `out` (`beams.len()` ranges), with noise drawn from
/// `noise_seed` (see [`noise_seed`]).
///
/// # Panics
/// If `out` does not hold exactly `beams.len()` ranges: that is a bug in the caller.
pub fn scan(world: &World, beams: &LidarBeams, noise_seed: u64, out: &mut [f32]) {
    scan_from(world, 0, beams, noise_seed, out)
}

/// [`scan`] from the lidar on learning car `car` (multi-agent worlds; car 0 is the ego).
pub fn scan_from(world: &World, car: usize, beams: &LidarBeams, noise_seed: u64, out: &mut [f32]) {
    assert_eq!(out.len(), beams.len(), "one range per beam");
    let range = beams.spec.range;
    out.fill(range);
    let sensor = beams_sensor(world, car, beams);
    let reach = Aabb::new(sensor.origin - Vector::splat(range), sensor.origin + Vector::splat(range));
    let (_, rays) = beams.shape();
    for collider in seen_colliders(world, car) {
        let aabb = collider.compute_aabb();
        if !aabb.intersects(&reach) {
            continue;
        }
        let window = sensor.window(beams, &aabb);
        let (shape, pose) = (collider.shape(), collider.position());
        for row in window.rows.clone() {
            for column in window.columns() {
                let k = row * rays + column;
                let ray = Ray::new(sensor.origin, sensor.directions[k]);
                if let Some(toi) = shape.cast_ray(pose, &ray, out[k], true) {
                    out[k] = out[k].min(toi);
                }
            }
        }
    }
    add_noise(out, range, beams.spec.noise, noise_seed);
}

/// [`scan`] by its definition: every beam cast against every collider. The reference it is
/// tested against, and the figure it is measured against.
pub fn scan_every_collider(world: &World, beams: &LidarBeams, noise_seed: u64, out: &mut [f32]) {
    assert_eq!(out.len(), beams.len(), "one range per beam");
    let range = beams.spec.range;
    let sensor = beams_sensor(world, 0, beams);
    let colliders: Vec<&Collider> = seen_colliders(world, 0).collect();
    for (k, out) in out.iter_mut().enumerate() {
        let ray = Ray::new(sensor.origin, sensor.directions[k]);
        *out = colliders
            .iter()
            .filter_map(|c| c.shape().cast_ray(c.position(), &ray, range, true))
            .fold(range, f32::min);
    }
    add_noise(out, range, beams.spec.noise, noise_seed);
}

/// What a lidar sees: every collider that is there (an event's obstacle only once it has
/// appeared; a learning car only while it is in the world), except car `car`'s own.
///
/// The colliders are read directly rather than through rapier's broad-phase tree: the tree is
/// brought up to date at the start of a physics step, so it is empty before an episode's first
/// step and a step behind the moving cars after each one.
fn seen_colliders(world: &World, car: usize) -> impl Iterator<Item = &Collider> {
    let ego = world.car_body(car);
    world
        .physics()
        .colliders
        .iter()
        .map(|(_, c)| c)
        .filter(move |c| c.is_enabled() && c.parent() != Some(ego))
}

/// The noise seed of an episode's step: a scan is a function of the world, the episode seed and
/// the step, never of the order scans were taken in.
pub fn noise_seed(episode_seed: u64, episode_step: u32) -> u64 {
    // SplitMix64's finaliser over the pair: neighbouring steps get unrelated streams.
    let mut z = episode_seed ^ (u64::from(episode_step).wrapping_add(1)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Gaussian range noise of `sigma` metres on every return (not on beams that hit nothing), kept
/// within [0, range].
fn add_noise(out: &mut [f32], range: f32, sigma: f32, seed: u64) {
    if sigma <= 0.0 {
        return;
    }
    let normal = Normal::new(0.0f32, sigma).expect("a validated lidar's noise is finite and ≥ 0");
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    for r in out.iter_mut() {
        let e = normal.sample(&mut rng);
        if *r < range {
            *r = (*r + e).clamp(0.0, range);
        }
    }
}

/// The sensor of one scan: where it is, and each beam's direction in the world.
struct Sensor {
    origin: Vector,
    rotation: Rotation,
    directions: Vec<Vector>,
}

fn beams_sensor(world: &World, car: usize, beams: &LidarBeams) -> Sensor {
    let pose = beams.sensor_pose(world, car);
    let directions = beams.directions.iter().map(|d| pose.rotation * Vector::from(*d)).collect();
    Sensor { origin: pose.translation, rotation: pose.rotation, directions }
}

/// The beams that may meet a collider: a block of rows and a run of columns (which may wrap
/// around a full sweep).
struct Window {
    rows: std::ops::Range<usize>,
    /// First column and how many.
    first_column: usize,
    column_count: usize,
    rays: usize,
}

impl Window {
    fn columns(&self) -> impl Iterator<Item = usize> + '_ {
        (self.first_column..self.first_column + self.column_count).map(|c| c % self.rays)
    }
}

impl Sensor {
    /// Which beams can meet what lies in the world box `aabb`: the box's corners in the sensor's
    /// frame bound it by a box there, and that box by an interval of elevation and one of azimuth.
    /// Conservative by a beam's width on every side, so only beams that cannot reach it are
    /// skipped.
    fn window(&self, beams: &LidarBeams, aabb: &Aabb) -> Window {
        let (channels, rays) = beams.shape();
        let all = Window { rows: 0..channels, first_column: 0, column_count: rays, rays };
        let inverse = self.rotation.inverse();
        let (mut lo, mut hi) = (Vector::splat(f32::INFINITY), Vector::splat(f32::NEG_INFINITY));
        for corner in aabb.vertices() {
            let p = inverse * (corner - self.origin);
            lo = lo.min(p);
            hi = hi.max(p);
        }
        // In the sensor's frame: x forward, y up, z right. Inside the box's footprint every
        // azimuth, and almost every elevation, can meet it.
        let footprint_holds_sensor = lo.x <= 0.0 && hi.x >= 0.0 && lo.z <= 0.0 && hi.z >= 0.0;
        if footprint_holds_sensor || !lo.is_finite() || !hi.is_finite() {
            return all;
        }

        // Nearest and farthest horizontal distance from the sensor to the box's footprint (the
        // nearest along an axis: 0 inside the interval, else its nearer end).
        let gap = |lo: f32, hi: f32| lo.max(0.0) - hi.min(0.0);
        let (near_x, near_z) = (gap(lo.x, hi.x), gap(lo.z, hi.z));
        let near = (near_x * near_x + near_z * near_z).sqrt();
        let far = (lo.x.abs().max(hi.x.abs()).powi(2) + lo.z.abs().max(hi.z.abs()).powi(2)).sqrt();
        let elevation = |height: f32, reach: f32| height.atan2(reach);
        let top = if hi.y > 0.0 { elevation(hi.y, near) } else { elevation(hi.y, far) };
        let bottom = if lo.y < 0.0 { elevation(lo.y, near) } else { elevation(lo.y, far) };
        let rows = row_span(beams.elevations(), bottom, top);

        // Azimuths of the footprint's corners, measured from its centre's so they do not wrap:
        // a footprint that does not hold the sensor spans less than half a turn.
        let azimuth = |x: f32, z: f32| (-z).atan2(x);
        let centre = azimuth(0.5 * (lo.x + hi.x), 0.5 * (lo.z + hi.z));
        let (mut left, mut right) = (0.0f32, 0.0f32);
        for (x, z) in [(lo.x, lo.z), (lo.x, hi.z), (hi.x, lo.z), (hi.x, hi.z)] {
            let delta = wrap(azimuth(x, z) - centre);
            left = left.max(delta);
            right = right.min(delta);
        }
        let fov = beams.spec.horizontal_fov.to_radians();
        let slice = fov / rays as f32;
        // Column j looks at fov/2 − (j + ½)·slice; a beam a slice wide either way is kept.
        let column_of = |a: f32| (0.5 * fov - a) / slice - 0.5;
        let (first, last) = (column_of(centre + left) - 1.0, column_of(centre + right) + 1.0);
        let (first, last) = if fov >= TAU - 1e-6 {
            // A full sweep: columns wrap around, so the run may start left of column 0.
            (first.floor() as i64, last.ceil() as i64)
        } else {
            // A partial sweep: the interval, or the same one a turn either way, may overlap it;
            // the union of the overlaps is kept (a conservative run of columns).
            let turn = TAU / slice;
            let last_column = rays as f32 - 1.0;
            [0.0, turn, -turn]
                .iter()
                .map(|shift| ((first + shift).max(0.0), (last + shift).min(last_column)))
                .filter(|(a, b)| a <= b)
                .fold((i64::MAX, i64::MIN), |(lo, hi), (a, b)| {
                    (lo.min(a.floor() as i64), hi.max(b.ceil() as i64))
                })
        };
        if rows.is_empty() || last < first {
            return Window { rows: 0..0, first_column: 0, column_count: 0, rays };
        }
        let count = ((last - first + 1) as usize).min(rays);
        Window { rows, first_column: first.rem_euclid(rays as i64) as usize, column_count: count, rays }
    }
}

/// The rows whose elevations lie within [bottom, top], widened by one row either way.
fn row_span(elevations: &[f32], bottom: f32, top: f32) -> std::ops::Range<usize> {
    // Elevations fall from row 0 down.
    let first = elevations.iter().position(|&e| e <= top).unwrap_or(elevations.len());
    let end = elevations.iter().rposition(|&e| e >= bottom).map_or(0, |i| i + 1);
    first.saturating_sub(1)..(end + 1).min(elevations.len())
}

/// An angle into (−π, π].
fn wrap(a: f32) -> f32 {
    let a = a.rem_euclid(TAU);
    if a > PI { a - TAU } else { a }
}
