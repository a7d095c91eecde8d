//! Lepton's lab-to-factory loop as a library, for the command line (`lepton pipeline`,
//! `lepton registry`) and the Python package alike: the model registry — numbered versions of a
//! perception model and the policy trained on it, their lineage and the hash of every file,
//! channels naming versions, and `registry:NAME[@CHANNEL|@VERSION]` names checked before use
//! ([`registry`]) — and the records pipeline stages leave ([`stage`]).
//!
//! ```
//! use lepton_pipeline::registry::{self, RegistryError};
//!
//! let dir = tempfile::tempdir()?;
//! // Nothing promoted yet: the name is refused, naming the folder it looked in.
//! let error = registry::version_dir(dir.path(), "lane_keep@production").unwrap_err();
//! assert!(matches!(error, RegistryError::Refused(_)));
//! assert!(error.to_string().ends_with("lane_keep: no such registry entry"));
//! # Ok::<(), std::io::Error>(())
//! ```

pub mod registry;
pub mod stage;

pub use registry::RegistryError;
pub use stage::{How, StageRecord, StageResult, VERSION, code_version};
