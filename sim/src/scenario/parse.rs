//! Reading scenario text: RON syntax and types (with line and column), then meaning (with field
//! paths), then resolution of context-dependent defaults.

use super::schema::{Scenario, Success};
use super::validate::{FieldProblem, validate};
use ron::extensions::Extensions;
use std::fmt;
use std::path::Path;

/// One thing wrong with a scenario file.
#[derive(Debug, Clone, PartialEq)]
pub enum Problem {
    /// Syntax, unknown fields, missing fields and wrong types: where in the text.
    Syntax { line: usize, col: usize, message: String },
    /// A value that parses but makes no sense: which field.
    Field(FieldProblem),
    /// The file could not be read.
    Io(String),
}

/// Everything wrong with one scenario file; displays as one line per problem.
#[derive(Debug, Clone, PartialEq)]
pub struct ScenarioError {
    /// The file name (or a description of where the text came from).
    pub origin: String,
    pub problems: Vec<Problem>,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, problem) in self.problems.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            match problem {
                Problem::Syntax { line, col, message } => {
                    write!(f, "{}:{line}:{col}: {message}", self.origin)?
                }
                Problem::Field(p) => write!(f, "{}: {}: {}", self.origin, p.path, p.message)?,
                Problem::Io(message) => write!(f, "{}: {message}", self.origin)?,
            }
        }
        Ok(())
    }
}

impl std::error::Error for ScenarioError {}

fn ron_options() -> ron::Options {
    // `implicit_some` lets authors write `lane: 1` for an optional field instead of `Some(1)`.
    ron::Options::default().with_default_extension(Extensions::IMPLICIT_SOME)
}

/// Parses, validates and resolves scenario text; `origin` names it in error messages.
pub fn parse_str(text: &str, origin: &str) -> Result<Scenario, ScenarioError> {
    let mut scenario: Scenario = ron_options().from_str(text).map_err(|e| ScenarioError {
        origin: origin.to_string(),
        problems: vec![Problem::Syntax {
            line: e.span.start.line,
            col: e.span.start.col,
            message: e.code.to_string(),
        }],
    })?;
    let problems = validate(&scenario);
    if !problems.is_empty() {
        return Err(ScenarioError {
            origin: origin.to_string(),
            problems: problems.into_iter().map(Problem::Field).collect(),
        });
    }
    resolve(&mut scenario);
    Ok(scenario)
}

/// Reads and parses a scenario file.
pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
    let origin = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|e| ScenarioError { origin: origin.clone(), problems: vec![Problem::Io(e.to_string())] })?;
    parse_str(&text, &origin)
}

/// Fills the defaults that depend on other fields.
fn resolve(scenario: &mut Scenario) {
    if scenario.episode.success.is_none() {
        scenario.episode.success =
            Some(if scenario.road.closed { Success::Laps(1) } else { Success::RoadEnd });
    }
}

/// The scenario as pretty RON, every field written out.
pub fn to_ron(scenario: &Scenario) -> String {
    let config = ron::ser::PrettyConfig::new().struct_names(true).indentor("    ".to_string());
    ron_options().to_string_pretty(scenario, config).expect("a scenario always serialises")
}
