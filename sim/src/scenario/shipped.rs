//! The scenarios in `scenarios/`, embedded, so that a name like `lane_keep` works anywhere — in
//! the command line and in the Python package alike, with the same messages.

use super::{Problem, Scenario, ScenarioError, load, parse_str};
use std::path::Path;

/// (name, RON text) of every shipped scenario.
pub const SHIPPED: &[(&str, &str)] = &[
    ("lane_keep", include_str!("../../scenarios/lane_keep.ron")),
    ("obstacles", include_str!("../../scenarios/obstacles.ron")),
    ("highway", include_str!("../../scenarios/highway.ron")),
    ("tiny", include_str!("../../scenarios/tiny.ron")),
    ("cut_in", include_str!("../../scenarios/cut_in.ron")),
    ("emergency_brake", include_str!("../../scenarios/emergency_brake.ron")),
    ("merge", include_str!("../../scenarios/merge.ron")),
    ("intersection", include_str!("../../scenarios/intersection.ron")),
    ("roundabout", include_str!("../../scenarios/roundabout.ron")),
    ("platoon", include_str!("../../scenarios/platoon.ron")),
];

/// The shipped scenarios with several learning cars (`agents`).
pub const SHIPPED_MULTI_AGENT: &[&str] = &["platoon"];

/// Loads `arg` as a file if one exists there, else as a shipped scenario's name (with or without
/// `.ron`).
pub fn load_named(arg: &str) -> Result<Scenario, ScenarioError> {
    let path = Path::new(arg);
    if path.exists() {
        return load(path);
    }
    let name = arg.strip_suffix(".ron").unwrap_or(arg);
    match SHIPPED.iter().find(|(shipped, _)| *shipped == name) {
        Some((name, text)) => parse_str(text, &format!("<shipped {name}>")),
        None => {
            let names: Vec<_> = SHIPPED.iter().map(|(n, _)| *n).collect();
            Err(ScenarioError {
                origin: arg.to_string(),
                problems: vec![Problem::Io(format!(
                    "no such file, and not a shipped scenario (shipped: {})",
                    names.join(", ")
                ))],
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shipped_scenario_loads_by_name_and_an_unknown_name_lists_them() {
        for (name, _) in SHIPPED {
            assert_eq!(load_named(name).unwrap().name, *name);
        }
        assert_eq!(load_named("tiny.ron").unwrap().name, "tiny");
        let message = load_named("nowhere").unwrap_err().to_string();
        assert!(
            message.starts_with("nowhere: no such file") && message.contains("lane_keep, obstacles"),
            "{message}"
        );
    }
}
