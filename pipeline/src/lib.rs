//! Lepton's lab-to-factory loop as a library, for the command line (`lepton pipeline`,
//! `lepton registry`) and the Python package alike:
//!
//! - [`mod@file`]: the pipeline file (one RON file: data, cleaning, perception, gates, agent,
//!   retraining, registry, monitoring), read and validated with every problem named;
//! - [`mod@run`]: collect → held-out collect → train perception → perception gate → train the agent
//!   → agent gate → promote, each stage one `lepton` command ([`commands`]) cached by the hash
//!   of its inputs, its measurements typed ([`figures`]), the run written up in `report.md`;
//! - [`mod@monitor`]: production watched in field conditions (input drift, the perception's error,
//!   the success rate) and retrained from drifted data, its checks kept in [`history`];
//! - [`registry`]: numbered versions of a perception model and the policy trained on it, their
//!   lineage and the hash of every file, channels naming versions, and
//!   `registry:NAME[@CHANNEL|@VERSION]` names checked before use;
//! - [`stage`]: the records stages leave; [`plots`]: the gates' and the monitor's pictures.
//!
//! ```
//! use lepton_pipeline::file::{PipelineFile, template};
//! use lepton_pipeline::registry::{self, RegistryError};
//!
//! // `lepton pipeline new lk` prints this template; it reads back valid, with its defaults.
//! let dir = tempfile::tempdir()?;
//! let path = dir.path().join("lk.ron");
//! std::fs::write(&path, template("lk"))?;
//! let pipeline = PipelineFile::read(&path).expect("the template is valid");
//! assert_eq!((pipeline.name.as_str(), pipeline.scenario.as_str()), ("lk", "lane_keep"));
//!
//! // Nothing promoted yet: the name is refused, naming the folder it looked in.
//! let error = registry::version_dir(dir.path(), "lk@production").unwrap_err();
//! assert!(matches!(error, RegistryError::Refused(_)));
//! assert!(error.to_string().ends_with("lk: no such registry entry"));
//! # Ok::<(), std::io::Error>(())
//! ```

pub mod commands;
pub mod error;
pub mod figures;
pub mod file;
pub mod history;
mod json_file;
pub mod monitor;
pub mod plots;
pub mod registry;
pub mod run;
pub mod stage;

pub use commands::Lepton;
pub use error::PipelineError;
pub use figures::Figures;
pub use file::PipelineFile;
pub use monitor::{MonitorReport, monitor};
pub use registry::RegistryError;
pub use run::report::PipelineReport;
pub use run::run;
pub use stage::{How, StageLine, StageRecord, StageResult, VERSION, code_version};
