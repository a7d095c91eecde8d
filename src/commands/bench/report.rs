//! The one shape of every benchmark's result: what ran (the setup) and what it measured (rates
//! with their units), printed as one line for people or as one flat JSON object (`--json`) for
//! scripts that set figures side by side.

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::Value;
use std::borrow::Cow;

pub struct BenchReport {
    /// The benchmark's name, e.g. `sim`.
    bench: &'static str,
    /// What ran, in order: scenario, envs, sizes, device...
    setup: Vec<(&'static str, Value)>,
    /// What it measured, in order.
    figures: Vec<Figure>,
}

/// One measured figure: its JSON key, value and unit as printed.
pub struct Figure {
    pub key: Cow<'static, str>,
    pub value: Option<f64>,
    pub unit: Cow<'static, str>,
}

impl BenchReport {
    pub fn new(bench: &'static str) -> Self {
        Self { bench, setup: Vec::new(), figures: Vec::new() }
    }

    /// Something about what ran.
    pub fn setup(mut self, key: &'static str, value: impl Into<Value>) -> Self {
        self.setup.push((key, value.into()));
        self
    }

    /// A measured figure; `None` when this run did not measure it (it prints as `null`).
    pub fn figure(
        mut self,
        key: impl Into<Cow<'static, str>>,
        value: impl Into<Option<f64>>,
        unit: impl Into<Cow<'static, str>>,
    ) -> Self {
        self.figures.push(Figure { key: key.into(), value: value.into(), unit: unit.into() });
        self
    }

    /// The report as one line: the setup, then each figure measured.
    pub fn line(&self) -> String {
        let setup: Vec<String> = self.setup.iter().map(|(k, v)| format!("{k} {}", plain(v))).collect();
        let figures: Vec<String> = self
            .figures
            .iter()
            .filter_map(|f| f.value.map(|v| format!("{} {}", rounded(v), f.unit)))
            .collect();
        format!("bench {} ({}): {}", self.bench, setup.join(", "), figures.join(", "))
    }

    /// Prints the report on stdout: JSON with `json`, else [`BenchReport::line`].
    pub fn print(&self, json: bool) {
        if json {
            println!("{}", serde_json::to_string_pretty(self).expect("a report serialises"));
        } else {
            println!("{}", self.line());
        }
    }
}

/// Flat, in order: the setup's keys, then the figures' keys.
impl Serialize for BenchReport {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.setup.len() + self.figures.len()))?;
        for (key, value) in &self.setup {
            map.serialize_entry(key, value)?;
        }
        for figure in &self.figures {
            map.serialize_entry(&figure.key, &figure.value)?;
        }
        map.end()
    }
}

fn plain(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.as_f64().filter(|v| v.fract() != 0.0).map_or(n.to_string(), rounded),
        other => other.to_string(),
    }
}

/// Three significant figures at least, no more decimals than help.
fn rounded(v: f64) -> String {
    if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else if v.abs() >= 1.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.3}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_is_one_flat_json_object_in_order_and_one_line() {
        let report = BenchReport::new("sim")
            .setup("scenario", "tiny")
            .setup("envs", 3)
            .figure("env_steps_per_second", 81234.56, "env steps/s")
            .figure("loss", None, "");
        let json = serde_json::to_string(&report).unwrap();
        assert_eq!(json, r#"{"scenario":"tiny","envs":3,"env_steps_per_second":81234.56,"loss":null}"#);
        assert_eq!(report.line(), "bench sim (scenario tiny, envs 3): 81235 env steps/s");
    }
}
