//! `lepton pipeline`: a new pipeline file, or a run of one; `lepton registry`: what the
//! pipelines promoted.

use crate::error::{CliError, CliResult, file};
use lepton_pipeline::run::sources::{base_dir, work_dir};
use lepton_pipeline::{Lepton, PipelineFile, registry};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Subcommand)]
pub enum PipelineCommand {
    /// Print a commented pipeline file that runs as it is (or write it with -o).
    New {
        /// The pipeline's name: 1 to 100 letters, digits, '_', '-' or '.'.
        name: String,
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// Replace the -o file when it exists.
        #[arg(long)]
        force: bool,
    },
    /// Run a pipeline: every stage not already done with the same inputs, then promote the
    /// candidate if both gates pass (exit 1 when a gate says no; production is untouched).
    Run {
        file: PathBuf,
        /// Print the run's report as JSON on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Watch production in the file's field conditions (monitor.conditions): input drift, the
    /// perception's error and the success rate at each check; a condition past a threshold has
    /// data collected there and the pipeline retrains through its gates (exit 1 when a check ends
    /// with a threshold crossed and nothing promoted).
    Monitor {
        file: PathBuf,
        /// Checks to run, one after the other (each a fresh set of seeds).
        #[arg(long, default_value_t = 1, value_parser = crate::args::count::<u32>(10_000))]
        checks: u32,
        /// Only watch and report: never retrain.
        #[arg(long)]
        no_retrain: bool,
        /// Print the checks as JSON on stdout.
        #[arg(long)]
        json: bool,
    },
}

#[derive(clap::Subcommand)]
pub enum RegistryCommand {
    /// Every entry with its versions and channels (JSON).
    List {
        #[arg(long, default_value = "registry")]
        registry: PathBuf,
    },
    /// One version's lineage, after checking every file against its recorded hash
    /// (NAME, NAME@VERSION or NAME@CHANNEL).
    Show {
        entry: String,
        #[arg(long, default_value = "registry")]
        registry: PathBuf,
    },
    /// Point a channel (default production) at NAME@VERSION, after checking its files.
    Promote {
        entry: String,
        #[arg(long, default_value = "production")]
        channel: String,
        #[arg(long, default_value = "registry")]
        registry: PathBuf,
    },
    /// Production goes back to the version it served before.
    Rollback {
        name: String,
        #[arg(long, default_value = "registry")]
        registry: PathBuf,
    },
    /// Rebuild a damaged channels.json from the versions on disk: each whole version recorded
    /// again, the channels and production's history kept as far as the old file reads (kept
    /// beside it as channels.json.damaged).
    Repair {
        name: String,
        #[arg(long, default_value = "registry")]
        registry: PathBuf,
    },
}

pub fn run(command: PipelineCommand) -> CliResult<ExitCode> {
    match command {
        PipelineCommand::New { name, output, force } => {
            // The name goes into the file (and names its working folder and registry entry).
            if let Some(problem) = lepton_pipeline::file::name_problem(&name) {
                return Err(CliError::Usage(format!("{name:?}: {problem}")));
            }
            let text = lepton_pipeline::file::template(&name);
            match output {
                Some(path) if path.exists() && !force => {
                    return Err(CliError::Usage(format!(
                        "{}: already exists; choose another -o, or pass --force to replace it",
                        path.display()
                    )));
                }
                Some(path) => lepton_artifacts::atomic::write(&path, text.as_bytes()).map_err(file(&path))?,
                None => print!("{text}"),
            }
            Ok(ExitCode::SUCCESS)
        }
        PipelineCommand::Monitor { file: path, checks, no_retrain, json } => {
            monitor(path, checks, no_retrain, json)
        }
        PipelineCommand::Run { file: path, json } => {
            let pipeline = PipelineFile::read(&path)?;
            let report = lepton_pipeline::run(&pipeline, &path, &Lepton::this_program()?)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&report).expect("the report serialises"));
            }
            for line in &report.stages {
                eprintln!(
                    "  {:<16} {:<7} {:<7} {:>8.1} s  {}",
                    line.stage, line.how, line.result, line.seconds, line.key
                );
            }
            if report.nothing_to_do {
                eprintln!("pipeline {}: nothing to do, every stage is up to date", report.pipeline);
            }
            match &report.promoted {
                Some(p) => eprintln!(
                    "pipeline {}: promoted version {} ({})",
                    report.pipeline,
                    p.version,
                    p.dir.display()
                ),
                None if report.refused() => {
                    eprintln!(
                        "pipeline {}: a gate said no (see its report.md); nothing promoted, production untouched",
                        report.pipeline
                    );
                    return Ok(ExitCode::from(1));
                }
                None => {}
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn monitor(path: PathBuf, checks: u32, no_retrain: bool, json: bool) -> CliResult<ExitCode> {
    let pipeline = PipelineFile::read(&path)?;
    let lepton = Lepton::this_program()?;
    let report = lepton_pipeline::monitor(&pipeline, &path, &lepton, checks, !no_retrain)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report).expect("the report serialises"));
    }
    let work = work_dir(&pipeline, &base_dir(&path)?);
    eprintln!("monitor {}: {}", report.pipeline, work.join("monitor").join("monitor.md").display());
    Ok(if report.healthy { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

pub fn run_registry(command: RegistryCommand) -> CliResult<ExitCode> {
    match command {
        RegistryCommand::List { registry: dir } => {
            println!(
                "{}",
                serde_json::to_string_pretty(&registry::list(&dir)?).expect("the list serialises")
            );
        }
        RegistryCommand::Show { entry, registry: dir } => {
            let lineage = registry::verify(&registry::version_dir(&dir, &entry)?)?;
            println!("{}", serde_json::to_string_pretty(&lineage).expect("the lineage serialises"));
        }
        RegistryCommand::Promote { entry, channel, registry: dir } => {
            let channels = registry::set_channel(&dir, &entry, &channel)?;
            println!("{}", serde_json::to_string_pretty(&channels).expect("the channels serialise"));
        }
        RegistryCommand::Rollback { name, registry: dir } => {
            let channels = registry::rollback(&dir, &name)?;
            println!("{}", serde_json::to_string_pretty(&channels).expect("the channels serialise"));
        }
        RegistryCommand::Repair { name, registry: dir } => {
            let repaired = registry::repair(&dir, &name)?;
            for (version, why) in &repaired.left_out {
                eprintln!("registry repair {name}: version {version} left out: {why}");
            }
            println!("{}", serde_json::to_string_pretty(&repaired).expect("the repair serialises"));
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use lepton_pipeline::PipelineFile;

    #[test]
    fn the_shipped_example_pipeline_is_valid() {
        let file = PipelineFile::parse(include_str!("../../pipelines/lane_keep.ron")).unwrap();
        assert_eq!(file.validate(), []);
        assert_eq!(file.scenario, "lane_keep");
    }
}
