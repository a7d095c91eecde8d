//! `lepton render --sensor lidar`: each env's lidar as its range image (near warm, far cool, no
//! return black) above its points seen from above (the car in white at the centre, forward up,
//! ±half the range forward and back; the road's returns grey, everything standing on it coloured
//! by height).

use super::{RenderArgs, save_png};
use crate::error::CliResult;
use lepton_agents::{KeepLanePolicy, Policy};
use lepton_sim::scenario::Scenario;
use lepton_sim::{LidarBeams, VecEnv};
use std::process::ExitCode;
use std::sync::Arc;

/// Width of a panel (pixels).
const WIDTH: u32 = 720;
/// Height of the view from above (pixels): ±half the range forward and back.
const ABOVE: u32 = 360;
const GUTTER: u32 = 4;

pub fn run(args: &RenderArgs, scenario: Arc<Scenario>, seed: u64) -> CliResult<ExitCode> {
    let mut scenario = (*scenario).clone();
    let lidar = scenario.lidar.get_or_insert_with(Default::default).clone();
    let scenario = Arc::new(scenario);
    let beams = LidarBeams::new(&lidar);
    let mut envs = VecEnv::new(scenario.clone(), args.envs, seed);
    let mut obs: Vec<_> = envs.reset(seed).into_iter().map(|(o, _)| o).collect();
    let mut policy = KeepLanePolicy::new(&scenario, None);
    let mut starts = vec![true; args.envs];
    for _ in 0..args.steps {
        let actions = policy.act(&obs.iter().collect::<Vec<_>>(), &starts)?;
        let step = envs.step(&actions);
        starts = step.episodes.iter().map(Option::is_some).collect();
        obs = step.obs;
    }

    let (channels, rays) = beams.shape();
    let (sx, sy) = ((WIDTH / rays as u32).max(1), (128 / channels as u32).max(2));
    let image_height = channels as u32 * sy;
    let panel = image_height + GUTTER + ABOVE;
    let mut sheet = image::RgbImage::from_pixel(
        rays as u32 * sx + 2 * GUTTER,
        args.envs as u32 * (panel + GUTTER) + GUTTER,
        image::Rgb([20, 20, 20]),
    );
    for (i, o) in obs.iter().enumerate() {
        let ego = envs.envs()[i].world().ego_state();
        let mount = [lidar.mount.forward, lidar.mount.up, -lidar.mount.left];
        let sensor_height = ego.position[1] + rotate(ego.rotation, mount)[1];
        let ranges = o.lidar.as_deref().expect("a scenario with a lidar scans every step");
        let y0 = GUTTER + i as u32 * (panel + GUTTER);
        // The range image, each beam a block of sx × sy pixels.
        for (k, &r) in ranges.iter().enumerate() {
            let colour = if r >= lidar.range { [0, 0, 0] } else { colour_map(1.0 - r / lidar.range) };
            let (row, column) = ((k / rays) as u32, (k % rays) as u32);
            for dy in 0..sy {
                for dx in 0..sx {
                    sheet.put_pixel(GUTTER + column * sx + dx, y0 + row * sy + dy, image::Rgb(colour));
                }
            }
        }
        // From above: forward up, left to the left, ±half the range forward and back.
        let (x0, top) = (GUTTER, y0 + image_height + GUTTER);
        let width = rays as u32 * sx;
        let metres = ABOVE as f32 / lidar.range;
        let centre = (x0 as f32 + 0.5 * width as f32, top as f32 + 0.5 * ABOVE as f32);
        for y in top..top + ABOVE {
            for x in x0..x0 + width {
                sheet.put_pixel(x, y, image::Rgb([8, 8, 12]));
            }
        }
        for [forward, left, up] in beams.points(ranges) {
            let (x, y) = (centre.0 - left * metres, centre.1 - forward * metres);
            if x < x0 as f32 || x >= (x0 + width) as f32 || y < top as f32 || y >= (top + ABOVE) as f32 {
                continue;
            }
            // Height above the road, in the world (the car pitches and rolls); what stands on the
            // road is coloured by it.
            let height = sensor_height + rotate(ego.rotation, [forward, up, -left])[1];
            let (colour, size) =
                if height < 0.15 { ([90, 90, 90], 1) } else { (colour_map(0.4 + height / 3.0), 3) };
            for dy in 0..size {
                for dx in 0..size {
                    let (px, py) =
                        ((x as u32 + dx).min(x0 + width - 1), (y as u32 + dy).min(top + ABOVE - 1));
                    sheet.put_pixel(px, py, image::Rgb(colour));
                }
            }
        }
        // The car: a white box of its length and width.
        let (length, wide) = (scenario.ego.vehicle.length * metres, scenario.ego.vehicle.width * metres);
        let forward_offset = lidar.mount.forward * metres;
        for y in (centre.1 + forward_offset - 0.5 * length) as u32
            ..=(centre.1 + forward_offset + 0.5 * length) as u32
        {
            for x in (centre.0 - 0.5 * wide) as u32..=(centre.0 + 0.5 * wide) as u32 {
                sheet.put_pixel(x, y, image::Rgb([240, 240, 240]));
            }
        }
    }
    save_png(&sheet, &args.output)?;
    eprintln!(
        "{}: {} lidars of {channels} × {rays} beams, {} m ({} steps driven)",
        args.output.display(),
        args.envs,
        lidar.range,
        args.steps
    );
    Ok(ExitCode::SUCCESS)
}

/// `v` turned by the unit quaternion `q` (x, y, z, w): v + 2w(q×v) + 2q×(q×v).
fn rotate(q: [f32; 4], v: [f32; 3]) -> [f32; 3] {
    let cross = |a: [f32; 3], b: [f32; 3]| {
        [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]]
    };
    let u = [q[0], q[1], q[2]];
    let t = cross(u, v).map(|c| 2.0 * c);
    let s = cross(u, t);
    [v[0] + q[3] * t[0] + s[0], v[1] + q[3] * t[1] + s[1], v[2] + q[3] * t[2] + s[2]]
}

/// A perceptually ordered colour for `t` in [0, 1]: dark blue through teal and green to yellow
/// (five stops of matplotlib's viridis, linearly between).
fn colour_map(t: f32) -> [u8; 3] {
    const STOPS: [[f32; 3]; 5] = [
        [68.0, 1.0, 84.0],
        [59.0, 82.0, 139.0],
        [33.0, 145.0, 140.0],
        [94.0, 201.0, 98.0],
        [253.0, 231.0, 37.0],
    ];
    let t = t.clamp(0.0, 1.0) * (STOPS.len() - 1) as f32;
    let (i, f) = ((t.floor() as usize).min(STOPS.len() - 2), t - t.floor().min((STOPS.len() - 2) as f32));
    let mix = |k: usize| (STOPS[i][k] + (STOPS[i + 1][k] - STOPS[i][k]) * f).round() as u8;
    [mix(0), mix(1), mix(2)]
}
