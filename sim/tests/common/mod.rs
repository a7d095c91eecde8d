//! Helpers shared by the sim integration tests.
#![allow(dead_code)]

use lepton_sim::scenario::{self, Scenario};
use std::path::PathBuf;
use std::sync::Arc;

/// The crate's `scenarios/` folder, found when the test runs (not baked in at compile time:
/// clones at other paths share one cargo target folder, and cargo does not rebuild a test when
/// only the checkout's path changed).
pub fn scenarios_dir() -> PathBuf {
    PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo test sets CARGO_MANIFEST_DIR"))
        .join("scenarios")
}

/// A shipped scenario by name.
pub fn shipped(name: &str) -> Arc<Scenario> {
    Arc::new(scenario::load(&scenarios_dir().join(format!("{name}.ron"))).expect("shipped scenario is valid"))
}

/// A scenario from RON text (must be valid).
pub fn from_text(text: &str) -> Arc<Scenario> {
    Arc::new(scenario::parse_str(text, "<test>").unwrap_or_else(|e| panic!("{e}")))
}
