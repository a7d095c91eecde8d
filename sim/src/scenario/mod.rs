//! Scenario files: RON text → parsed → validated → a resolved [`Scenario`].
//!
//! `parse` turns text into the schema types, reporting syntax errors, unknown fields and wrong types
//! with line and column. `validate` checks meaning (lane counts, geometry, ranges, finiteness) and
//! reports each problem with its field path. `resolve` fills in defaults that depend on other fields.

mod parse;
mod schema;
mod shipped;
mod template;
mod validate;

mod agents;
pub use agents::AgentStart;
pub use parse::{Problem, ScenarioError, load, parse_str, to_ron};
pub use schema::*;
pub use shipped::{SHIPPED, SHIPPED_MULTI_AGENT, load_named};
pub use template::{TEMPLATES, template, template_of};
pub use validate::FieldProblem;
