//! Why a policy document was refused.

use alloc::string::String;
use core::fmt;

/// Why a policy document was refused.
#[derive(Debug)]
#[non_exhaustive]
pub enum PolicyError {
    /// The text is not JSON of the document's shape (serde's message names the field,
    /// line and column, including unknown fields).
    Syntax(serde_json::Error),
    /// The document parsed but a field's value is invalid.
    Invalid(InvalidField),
}

/// A field of a policy document with an invalid value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvalidField {
    field: String,
    problem: String,
}

impl InvalidField {
    pub(super) fn error(field: impl Into<String>, problem: impl Into<String>) -> PolicyError {
        PolicyError::Invalid(InvalidField {
            field: field.into(),
            problem: problem.into(),
        })
    }

    /// The path of the bad field, e.g. `endpoints[3].permission`.
    pub fn field(&self) -> &str {
        &self.field
    }

    /// What is wrong with it.
    pub fn problem(&self) -> &str {
        &self.problem
    }
}

impl core::error::Error for PolicyError {}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PolicyError::Syntax(err) => write!(f, "policy document: {err}"),
            PolicyError::Invalid(bad) => write!(f, "policy document: {}: {}", bad.field, bad.problem),
        }
    }
}
