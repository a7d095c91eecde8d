//! Helpers shared by the sim integration tests.
#![allow(dead_code)]

use lepton_sim::scenario::{self, Scenario};
use std::path::PathBuf;
use std::sync::Arc;

/// The workspace's `scenarios/` folder.
pub fn scenarios_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scenarios")
}

/// A shipped scenario by name.
pub fn shipped(name: &str) -> Arc<Scenario> {
    Arc::new(scenario::load(&scenarios_dir().join(format!("{name}.ron"))).expect("shipped scenario is valid"))
}

/// A scenario from RON text (must be valid).
pub fn from_text(text: &str) -> Arc<Scenario> {
    Arc::new(scenario::parse_str(text, "<test>").unwrap_or_else(|e| panic!("{e}")))
}
