//! The loop from data to a deployed model, in one command: `lepton pipeline run FILE.ron` runs
//! collect → held-out collect → train perception → perception gate → train the agent on it →
//! agent gate → promote, each stage cached by the hash of its inputs (run.rs), into a registry of
//! versions with lineage and file hashes (`lepton_pipeline::registry`, a library the Python package
//! calls too); `lepton pipeline monitor` watches
//! production in field conditions and retrains from drifted data (monitor.rs). The file's format
//! is file.rs; the report's pictures are plots.rs; what the parts hand each other, records.rs.

pub mod file;
pub mod monitor;
pub mod plots;
pub mod records;
pub mod run;
