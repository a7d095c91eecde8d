//! The loop from data to a deployed model, in one command: `lepton pipeline run FILE.ron` runs
//! collect → held-out collect → train perception → perception gate → train the agent on it →
//! agent gate → promote, each stage cached by the hash of its inputs (run.rs), into a registry of
//! versions with lineage and file hashes (registry.rs); `lepton pipeline monitor` watches
//! production in field conditions and retrains from drifted data (monitor.rs). The file's format
//! is file.rs; the report's pictures are plots.rs.

pub mod file;
pub mod monitor;
pub mod plots;
pub mod registry;
pub mod run;
