//! `lepton scenario check|new|map|show`.

use crate::error::{CliError, CliResult};
use crate::scenario_arg::load_scenario;
use clap::Subcommand;
use lepton_sim::scenario;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum ScenarioCommand {
    /// Check scenario files: exit 0 when all are valid, 2 otherwise (one line per problem on stderr).
    Check {
        /// The scenario files to check.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Print a commented scenario template on stdout (or write it with --out).
    New {
        /// The scenario's name.
        name: String,
        /// What to start from: `loop` (one road, every section), or a road network: `merge` (an
        /// on-ramp onto a motorway), `intersection` (four-way, a left turn), `roundabout`
        /// (three arms, the second exit).
        #[arg(long, default_value = "loop", value_parser = ["loop", "merge", "intersection", "roundabout"])]
        template: String,
        /// Write the template to this file instead; an existing file is never overwritten.
        #[arg(long, short)]
        out: Option<PathBuf>,
    },
    /// Draw a scenario from above (road, lanes, markings, obstacles, the ego's spawn range, NPC
    /// starts, a marker every 50 m) as a PNG or SVG, to see a file before running it.
    Map {
        /// A scenario file, or the name of a shipped scenario.
        file: String,
        /// The picture to write: NAME.png or NAME.svg.
        #[arg(long, short)]
        out: PathBuf,
    },
    /// Import an OpenDRIVE road network (.xodr, 1.4–1.8) as a scenario: driving lanes, line, arc,
    /// spiral and (param)poly3 geometry as straights and arcs, junctions by their lane links.
    /// What it cannot represent is listed on stderr (`note: ...`) and in the file's header.
    Import {
        /// The OpenDRIVE file.
        file: PathBuf,
        /// Write the scenario here (NAME.ron) instead of stdout; an existing file is kept unless
        /// --force.
        #[arg(long, short)]
        out: Option<PathBuf>,
        /// Replace an existing --out file.
        #[arg(long)]
        force: bool,
    },
    /// Print a scenario with every default filled in.
    Show {
        /// A scenario file, or the name of a shipped scenario (lane_keep, obstacles, highway, tiny).
        file: String,
    },
}

pub fn run(command: ScenarioCommand) -> CliResult<ExitCode> {
    match command {
        ScenarioCommand::Check { files } => check(&files),
        ScenarioCommand::New { name, template, out } => new(&name, &template, out),
        ScenarioCommand::Map { file, out } => {
            let scenario = load_scenario(&file)?;
            lepton_render::map::draw(&scenario, &out)?;
            stdout(&format!("{}\n", out.display()))?;
            Ok(ExitCode::SUCCESS)
        }
        ScenarioCommand::Import { file, out, force } => import(&file, out, force),
        ScenarioCommand::Show { file } => {
            let scenario = load_scenario(&file)?;
            stdout(&format!("{}\n", scenario::to_ron(&scenario)))?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Prints `FILE: ok` on stdout for each valid file and every problem on stderr.
fn check(files: &[PathBuf]) -> CliResult<ExitCode> {
    let mut all_valid = true;
    for file in files {
        match scenario::load(file) {
            Ok(_) => stdout(&format!("{}: ok\n", file.display()))?,
            Err(error) => {
                eprintln!("{error}");
                all_valid = false;
            }
        }
    }
    Ok(if all_valid { ExitCode::SUCCESS } else { ExitCode::from(2) })
}

fn new(name: &str, kind: &str, out: Option<PathBuf>) -> CliResult<ExitCode> {
    let text = scenario::template_of(kind, name)
        .ok_or_else(|| CliError::Usage(format!("--template {kind}: not a template")))?;
    // The template is valid by construction; only the name can make it fail (e.g. an empty one).
    scenario::parse_str(&text, "the template")
        .map_err(|e| CliError::Usage(format!("cannot make a scenario named {name:?}: {e}")))?;
    let Some(path) = out else {
        stdout(&text)?;
        return Ok(ExitCode::SUCCESS);
    };
    let mut file =
        std::fs::OpenOptions::new().write(true).create_new(true).open(&path).map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => {
                CliError::Usage(format!("{}: already exists; not overwriting it", path.display()))
            }
            _ => CliError::File { path: path.clone(), source: e },
        })?;
    file.write_all(text.as_bytes()).map_err(crate::error::file(&path))?;
    eprintln!("wrote {}", path.display());
    Ok(ExitCode::SUCCESS)
}

/// `lepton scenario import`: the scenario RON, headed by where it came from and what was left out.
fn import(file: &std::path::Path, out: Option<PathBuf>, force: bool) -> CliResult<ExitCode> {
    if let Some(path) = &out
        && path.exists()
        && !force
    {
        return Err(CliError::Usage(format!(
            "{}: already exists; not overwriting it without --force",
            path.display()
        )));
    }
    let imported = lepton_sim::opendrive::import(file)?;
    for note in &imported.notes {
        eprintln!("note: {note}");
    }
    let mut text = format!(
        "// Imported by `lepton scenario import` from {} (OpenDRIVE): {} roads, {} junctions.\n",
        file.display(),
        imported.scenario.network.as_ref().map_or(0, |n| n.roads.len()),
        imported.scenario.network.as_ref().map_or(0, |n| n.junctions.len()),
    );
    if !imported.notes.is_empty() {
        text.push_str("// Left out (Lepton does not model these):\n");
        for note in &imported.notes {
            text.push_str(&format!("// - {note}\n"));
        }
    }
    text.push_str(&scenario::to_ron(&imported.scenario));
    text.push('\n');
    // What is written is read back as any scenario is: the importer's promise, checked.
    scenario::parse_str(&text, &file.display().to_string())?;
    match out {
        None => stdout(&text)?,
        Some(path) => {
            lepton_artifacts::atomic::write(&path, text.as_bytes()).map_err(crate::error::file(&path))?;
            eprintln!("wrote {}", path.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Writes `text` to stdout; a closed pipe (`lepton scenario show x | head`) is not an error.
fn stdout(text: &str) -> CliResult {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(crate::error::file("<stdout>".as_ref())(e))
        }
        _ => Ok(()),
    }
}
