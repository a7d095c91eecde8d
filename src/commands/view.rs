//! `lepton view`: the 3D viewer. A trained run drives greedily (`--policy RUN_DIR`), the scripted
//! lane keeper drives (`--policy keep-lane`), or the arrow keys do.

use crate::args::{DeviceArg, at_least_one, window_size};
use crate::error::{CliError, CliResult};
use crate::scenario_arg::load_scenario;
use lepton_agents::{GreedyPolicy, KeepLanePolicy, Policy};
use lepton_render::sensor_pictures::SensorView;
use lepton_viewer::{self as viewer, CameraMode, ViewerOptions};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Inset {
    Network,
    Depth,
    Semantic,
}

#[derive(clap::Args)]
pub struct ViewArgs {
    /// Scenario file (watched: saving it rebuilds the world) or shipped scenario name.
    pub scenario: String,
    /// Who drives: a run directory from `lepton train` (greedy, best checkpoint) or `keep-lane`
    /// (the scripted driver). Without it, the arrow keys drive.
    #[arg(long)]
    pub policy: Option<String>,
    /// Use the run's last checkpoint instead of its best.
    #[arg(long)]
    pub last: bool,
    /// Environments to switch between with Tab.
    #[arg(long, default_value_t = 1, value_parser = crate::args::count::<usize>(64))]
    pub envs: usize,
    /// Base seed (default: the scenario's).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Starting camera: chase, top-down, free or car.
    #[arg(long, default_value = "chase")]
    pub camera: String,
    /// Window size, WIDTHxHEIGHT.
    #[arg(long, default_value = "1280x720", value_parser = window_size)]
    pub size: [u32; 2],
    /// Start with the HUD hidden (U toggles it).
    #[arg(long)]
    pub no_hud: bool,
    /// Start with the agent's own look (flat, baked light: what its camera renders) instead of
    /// the lit one (L toggles it).
    #[arg(long)]
    pub agent_look: bool,
    /// What the HUD's inset shows: the network's input, or the car camera's depth (near bright)
    /// or semantic classes, drawn by the training renderer's pass.
    #[arg(long, value_enum, default_value_t = Inset::Network)]
    pub inset: Inset,
    /// Start with every env on screen at once, each in a tile with its chase camera (G toggles).
    #[arg(long)]
    pub grid: bool,
    /// Run --frames frames, save a PNG of the window here and exit (works under Xvfb).
    #[arg(long, requires = "frames")]
    pub screenshot: Option<PathBuf>,
    /// Frames (one policy step each) before the screenshot, or to record; alone, frames to run
    /// in real time before exiting (the report gives the frame rate).
    #[arg(long, value_parser = at_least_one::<u32>())]
    pub frames: Option<u32>,
    /// Record the window into this MP4 (H.264), one policy step per frame so it plays in real
    /// time; with --frames N, N frames and exit, else until the window closes.
    #[arg(long, conflicts_with = "screenshot")]
    pub record: Option<PathBuf>,
    /// Learner device for a trained policy's networks.
    #[command(flatten)]
    pub device: DeviceArg,
    /// Print the session's report as JSON on stdout when the viewer closes.
    #[arg(long)]
    pub json: bool,
}

/// A local X display (`DISPLAY=:N`) must accept connections on its socket: winit panics when it
/// cannot open the display, so a server that is gone is reported here instead.
fn check_local_x_display() -> CliResult {
    let Some(display) = std::env::var_os("DISPLAY") else { return Ok(()) };
    let display = display.to_string_lossy().into_owned();
    let Some(number) = display.strip_prefix(':').and_then(|rest| rest.split('.').next()) else {
        return Ok(()); // host:N or another form: winit will say
    };
    let socket = Path::new("/tmp/.X11-unix").join(format!("X{number}"));
    match std::os::unix::net::UnixStream::connect(&socket) {
        Ok(_) => Ok(()),
        Err(e) => Err(CliError::Usage(format!(
            "DISPLAY={display}: no X server accepts connections at {} ({e}): start one, or run the \
             viewer under a virtual one: xvfb-run -a lepton view ...",
            socket.display()
        ))),
    }
}

pub fn run(args: ViewArgs) -> CliResult<ExitCode> {
    // winit panics without a display; say what to do instead.
    if std::env::var_os("DISPLAY").is_none() && std::env::var_os("WAYLAND_DISPLAY").is_none() {
        return Err(CliError::Usage(
            "no display: the viewer needs an X11 display (set DISPLAY), or run it under a virtual one: \
             xvfb-run -a lepton view ... (Debian/Ubuntu: apt-get install xvfb xauth)"
                .into(),
        ));
    }
    check_local_x_display()?;
    let scenario = load_scenario(&args.scenario)?;
    let watch = Path::new(&args.scenario).is_file().then(|| PathBuf::from(&args.scenario));
    let camera: CameraMode = args.camera.parse().map_err(|e| CliError::Usage(format!("--camera: {e}")))?;

    let driver: Option<Box<dyn Policy>> = match args.policy.as_deref() {
        None => None,
        Some("keep-lane") => Some(Box::new(KeepLanePolicy::new(&scenario, None))),
        Some(run) => Some(Box::new(greedy_policy(Path::new(run), args.last, args.device.device())?)),
    };
    let options = ViewerOptions {
        seed: args.seed.unwrap_or(scenario.seed),
        scenario,
        watch,
        envs: args.envs,
        camera,
        window: args.size,
        hud: !args.no_hud,
        agent_look: args.agent_look,
        inset: match args.inset {
            Inset::Network => SensorView::Camera,
            Inset::Depth => SensorView::Depth,
            Inset::Semantic => SensorView::Semantic,
        },
        grid: args.grid,
        // Alone, --frames times a run: N frames at the normal pace, then exit.
        frames: args.frames.filter(|_| args.screenshot.is_none() && args.record.is_none()),
        screenshot: args.screenshot.zip(args.frames),
        record: args.record.clone().map(|path| (path, args.frames)),
    };
    let report = viewer::run(options, driver)?;
    eprintln!(
        "viewer: {} frames, {} steps, {} reloads ({} failed), the car moved {:.1} m{}",
        report.frames,
        report.steps,
        report.reloads,
        report.failed_reloads,
        report.ego_moved,
        report.screenshot.as_ref().map_or(String::new(), |p| format!(", screenshot {}", p.display()))
    );
    if let (Some(path), Some(video)) = (&args.record, &report.recorded) {
        eprintln!(
            "viewer: recorded {} frames ({:.1} s, {:.1} MB) to {}",
            video.frames,
            video.seconds,
            video.bytes as f64 / 1e6,
            path.display()
        );
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report).expect("report serialises"));
    }
    Ok(ExitCode::SUCCESS)
}

/// The greedy agent of a run directory, from its best (or last) checkpoint.
fn greedy_policy(run: &Path, last: bool, device: &burn::prelude::Device) -> CliResult<GreedyPolicy> {
    let opened = crate::trained_run::open(run, last, device).map_err(|e| CliError::Hint {
        source: Box::new(e),
        hint: "--policy takes a run directory from `lepton train` or keep-lane",
    })?;
    let dir = &opened.checkpoint;
    let config = opened.config;
    let name = format!(
        "{} from {} ({})",
        config.agent.name(),
        run.file_name().map_or_else(|| run.display().to_string(), |n| n.to_string_lossy().into_owned()),
        dir.file_name().map_or(String::new(), |n| n.to_string_lossy().into_owned())
    );
    Ok(GreedyPolicy::new(name, opened.agent, opened.perception, &opened.scenario))
}
