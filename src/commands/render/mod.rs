//! `lepton render`: what the agent sees, for scenario authors. Drives every env with the keep-lane
//! baseline for a few steps, then saves all camera tiles in one PNG, scaled up nearest-neighbour
//! (`--sensor lidar`: each env's range image and its points from above, [`lidar`]). In a
//! multi-agent scenario every car of every world has its tile (world by world, car by car).

mod lidar;

use crate::error::{CliError, CliResult, file};
use crate::scenario_arg::load_scenario;
use lepton_agents::{KeepLanePolicy, Policy};
use lepton_render::sensor_pictures::{depth_picture, semantic_picture};
use lepton_sim::{Act, Reset};
use lepton_sim::{CameraSensors, Frame};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

#[derive(clap::Args)]
pub struct RenderArgs {
    /// Scenario file or shipped scenario name.
    pub scenario: String,
    /// Where to write the PNG.
    #[arg(short, long)]
    pub output: PathBuf,
    /// Number of environments (tiles).
    #[arg(long, default_value_t = 4, value_parser = crate::args::count::<usize>(crate::args::MAX_ENVS))]
    pub envs: usize,
    /// Base seed (default: the scenario's).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Policy steps to drive before taking the picture.
    #[arg(long, default_value_t = 0)]
    pub steps: u64,
    /// Which sensor to show: the camera; its depth image (near bright, far dark) or semantic
    /// classes (in the documented palette), from the same render pass; or the lidar (the
    /// scenario's, or the default one).
    #[arg(long, value_enum, default_value_t = Sensor::Camera)]
    pub sensor: Sensor,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Sensor {
    Camera,
    Depth,
    Semantic,
    Lidar,
}

pub fn run(args: RenderArgs) -> CliResult<ExitCode> {
    let scenario = Arc::new(load_scenario(&args.scenario)?);
    let seed = args.seed.unwrap_or(scenario.seed);
    if args.sensor == Sensor::Lidar {
        return lidar::run(&args, scenario, seed);
    }
    let sensors =
        CameraSensors { depth: args.sensor == Sensor::Depth, semantic: args.sensor == Sensor::Semantic };
    let obs = if scenario.agent_count() > 1 {
        every_cars_view(&args, &scenario, seed, sensors)?
    } else {
        let mut envs = lepton_render::sensor_vec_env(scenario.clone(), args.envs, seed, sensors)?;
        let mut obs: Vec<_> = envs.try_reset(Reset::All(seed), None)?.into_iter().map(|(o, _)| o).collect();
        let mut policy = KeepLanePolicy::new(&scenario, None);
        let mut starts = vec![true; args.envs];
        for _ in 0..args.steps {
            let actions = policy.act(&obs.iter().collect::<Vec<_>>(), &starts)?;
            let step = envs.try_step(Act::Discrete(&actions), None)?;
            starts = step.episodes.iter().map(Option::is_some).collect();
            obs = step.obs;
        }
        obs
    };
    let pictures: Vec<Frame> = obs
        .iter()
        .map(|o| {
            let frame = o.frame.as_ref().expect("envs with cameras give frames");
            match args.sensor {
                Sensor::Depth => depth_picture(
                    frame.width,
                    frame.height,
                    o.depth.as_deref().expect("the depth camera draws"),
                ),
                Sensor::Semantic => semantic_picture(
                    frame.width,
                    frame.height,
                    o.semantic.as_deref().expect("the semantic camera draws"),
                ),
                Sensor::Camera | Sensor::Lidar => frame.clone(),
            }
        })
        .collect();
    let frames: Vec<&Frame> = pictures.iter().collect();
    save_png(&contact_sheet(&frames), &args.output)?;
    eprintln!(
        "{}: {} tiles of {}×{} ({}), shown ×{}",
        args.output.display(),
        frames.len(),
        frames[0].width,
        frames[0].height,
        match args.sensor {
            Sensor::Depth => "depth",
            Sensor::Semantic => "semantic classes",
            _ if frames[0].channels == 3 => "RGB",
            _ => "grey",
        },
        scale_for(frames[0])
    );
    Ok(ExitCode::SUCCESS)
}

/// Every car's observation in `args.envs` multi-agent worlds after `args.steps` steps of the lane
/// keeper driving every car (a car that left keeps its last view; a world that ended restarts).
fn every_cars_view(
    args: &RenderArgs,
    scenario: &Arc<lepton_sim::scenario::Scenario>,
    seed: u64,
    sensors: CameraSensors,
) -> CliResult<Vec<lepton_sim::Observation>> {
    let mut worlds = lepton_render::camera_multi_agent_vec_env(scenario.clone(), args.envs, seed, sensors)?;
    let cars = worlds.num_agents();
    let mut obs: Vec<_> = worlds.reset(Some(seed))?.into_iter().flatten().map(|(o, _)| o).collect();
    let mut policy = KeepLanePolicy::new(scenario, None);
    let mut starts = vec![true; obs.len()];
    for _ in 0..args.steps {
        let actions = policy.act(&obs.iter().collect::<Vec<_>>(), &starts)?;
        let step = worlds.step(&actions)?;
        starts.fill(false);
        for (w, world) in step.worlds.into_iter().enumerate() {
            for (c, result) in world.agents.into_iter().enumerate() {
                if let Some(result) = result {
                    obs[w * cars + c] = result.respawn.map_or(result.obs, |(first, _)| first);
                }
            }
        }
        for (w, looks) in step.resets.into_iter().enumerate() {
            for (c, (first, _)) in looks.into_iter().flatten().enumerate() {
                obs[w * cars + c] = first;
                starts[w * cars + c] = true;
            }
        }
    }
    Ok(obs)
}

/// Writes `picture` to `path` as a PNG, making its folder if needed.
fn save_png(picture: &image::RgbImage, path: &std::path::Path) -> CliResult<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(file(dir))?;
    }
    picture.save(path).map_err(|e| CliError::Write {
        path: path.to_path_buf(),
        what: "PNG",
        source: std::io::Error::other(e),
    })
}

/// Scale-up factor so a tile is at least 256 pixels tall.
fn scale_for(frame: &Frame) -> u32 {
    (256 / frame.height.max(1)).max(1)
}

/// All frames on a grid, each scaled up nearest-neighbour, with 2-pixel dark gutters.
pub fn contact_sheet(frames: &[&Frame]) -> image::RgbImage {
    let (w, h) = (frames[0].width, frames[0].height);
    let scale = scale_for(frames[0]);
    let columns = (frames.len() as f64).sqrt().ceil() as u32;
    let rows = (frames.len() as u32).div_ceil(columns);
    let gutter = 2;
    let (tile_w, tile_h) = (w * scale + gutter, h * scale + gutter);
    let mut sheet = image::RgbImage::from_pixel(
        columns * tile_w + gutter,
        rows * tile_h + gutter,
        image::Rgb([20, 20, 20]),
    );
    for (i, frame) in frames.iter().enumerate() {
        let (x0, y0) = (gutter + (i as u32 % columns) * tile_w, gutter + (i as u32 / columns) * tile_h);
        for y in 0..h * scale {
            for x in 0..w * scale {
                let p = ((y / scale) * w + x / scale) as usize;
                let rgb = if frame.channels == 3 {
                    [frame.data[3 * p], frame.data[3 * p + 1], frame.data[3 * p + 2]]
                } else {
                    [frame.data[p]; 3]
                };
                sheet.put_pixel(x0 + x, y0 + y, image::Rgb(rgb));
            }
        }
    }
    sheet
}
