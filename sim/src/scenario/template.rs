//! The commented template printed by `lepton scenario new`.

/// A commented scenario named `name` that passes `lepton scenario check`.
pub fn template(name: &str) -> String {
    format!("Scenario(name: {name:?})\n") // HELPER: replace
}
