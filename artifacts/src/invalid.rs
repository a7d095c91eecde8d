//! A configuration value out of its range: the error of every `validate()` outside scenario files
//! (run configurations, agents, discretisers), naming the field by its path as written in RON.

/// `field` (e.g. `dqn.gamma`, `discretiser.bins[1].edges`) is invalid; `problem` says why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {problem}")]
pub struct InvalidField {
    pub field: String,
    pub problem: String,
}

impl InvalidField {
    pub fn new(field: impl Into<String>, problem: impl Into<String>) -> Self {
        Self { field: field.into(), problem: problem.into() }
    }
}
