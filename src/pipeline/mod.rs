//! The loop from data to a deployed model, in one command: `lepton pipeline run FILE.ron` runs
//! collect → held-out collect → train perception → perception gate → train the agent on it →
//! agent gate → promote, each stage cached by the hash of its inputs (run.rs), into a registry of
//! versions with lineage and file hashes (registry.rs). The file's format is file.rs.

pub mod file;
pub mod registry;
pub mod run;
