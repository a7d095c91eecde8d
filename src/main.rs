//! `lepton`: the command-line program that ties scenario files, the driving world, perception and
//! agents together. Results go to stdout, progress and errors to stderr; bad input exits with 2.

mod args;
mod commands;
mod error;
mod ron_file;
mod scenario_arg;
mod trained_run;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "lepton", version = lepton_pipeline::VERSION, about = "Reinforcement learning on a 3D driving simulator")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check, create and inspect scenario files.
    #[command(subcommand)]
    Scenario(commands::scenario::ScenarioCommand),
    /// Drive one environment with a scripted or random policy; print a JSON summary.
    Rollout(commands::rollout::RolloutArgs),
    /// Render what the agent sees (every env's camera tile) to a PNG.
    Render(commands::render::RenderArgs),
    /// Train an agent (tabular Q-learning or DQN) headless into a run directory.
    Train(commands::train::TrainArgs),
    /// Evaluate a trained run greedily on fixed seeds.
    Eval(commands::eval::EvalArgs),
    /// Plot reward curves of one or more runs.
    Plot(commands::plot::PlotArgs),
    /// The perception data pipeline: collect labelled frames, train the CNN, evaluate it.
    #[command(subcommand)]
    Perception(commands::perception::PerceptionCommand),
    /// Watch a trained agent, the scripted driver or yourself drive, in a 3D window.
    View(commands::view::ViewArgs),
    /// Measure throughput.
    #[command(subcommand)]
    Bench(commands::bench::BenchCommand),
    /// Run the loop from data to a promoted model, each stage cached by its inputs.
    #[command(subcommand)]
    Pipeline(commands::pipeline::PipelineCommand),
    /// What the pipelines promoted: versions, channels, lineage.
    #[command(subcommand)]
    Registry(commands::pipeline::RegistryCommand),
}

fn main() -> ExitCode {
    // Mesa's CPU rasteriser (lavapipe) hands every small draw to worker threads; for the tiny
    // frames of RL training that costs more than it saves (measured: 1.7× more frames/s without).
    // Set here, before any thread exists; a user's own setting wins.
    // The viewer's window is large enough to gain from lavapipe's threads.
    let viewing = std::env::args().nth(1).as_deref() == Some("view");
    if viewing && std::env::var_os("XDG_RUNTIME_DIR").is_none() {
        // winit and Mesa want a private runtime folder; make one rather than print errors.
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let uid = std::fs::metadata("/proc/self").map_or(0, |m| m.uid());
        let dir = std::env::temp_dir().join(format!("lepton-runtime-{uid}"));
        if std::fs::create_dir_all(&dir).is_ok()
            && std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).is_ok()
        {
            // SAFETY: no other thread has been started yet.
            unsafe { std::env::set_var("XDG_RUNTIME_DIR", &dir) };
        }
    }
    if std::env::var_os("LP_NUM_THREADS").is_none() && !viewing {
        // SAFETY: no other thread has been started yet.
        unsafe { std::env::set_var("LP_NUM_THREADS", "0") };
    }
    // burn first puts optimiser state it loads (resumed checkpoints) on its default device, which
    // is a GPU backend when one is compiled in; the learner moves it to the chosen --device anyway,
    // so keep the default on the CPU backend that always works.
    if std::env::var_os("BURN_DEVICE").is_none() {
        // SAFETY: no other thread has been started yet.
        unsafe { std::env::set_var("BURN_DEVICE", "flex") };
    }
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                // bevy and wgpu warn about software rendering and shutdown order; that is noise here.
                .unwrap_or_else(|_| {
                    tracing_subscriber::EnvFilter::new("warn,bevy_render=error,bevy_ecs=error,wgpu=error")
                }),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Scenario(command) => commands::scenario::run(command),
        Command::Rollout(args) => commands::rollout::run(args),
        Command::Render(args) => commands::render::run(args),
        Command::Train(args) => commands::train::run(args),
        Command::Eval(args) => commands::eval::run(args),
        Command::Plot(args) => commands::plot::run(args),
        Command::Perception(command) => commands::perception::run(command),
        Command::Bench(command) => commands::bench::run(command),
        Command::View(args) => commands::view::run(args),
        Command::Pipeline(command) => commands::pipeline::run(command),
        Command::Registry(command) => commands::pipeline::run_registry(command),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            // Each line names what it is about (a file, a field, an option), compiler-style.
            eprintln!("{error}");
            ExitCode::from(error.exit_code())
        }
    }
}
