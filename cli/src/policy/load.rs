//! Reading a policy document from a file, with every refusal naming the field by its path in
//! the document (`endpoints[12].param: …`), syntax errors included.

use std::fmt;
use std::path::{Path, PathBuf};

use policy_core::{Policy, PolicyDocument, PolicyError};

/// Why a policy file was refused.
#[derive(Debug)]
pub enum LoadError {
    /// The file could not be read.
    Io(PathBuf, std::io::Error),
    /// The document is not a valid policy.
    Refused {
        /// The file.
        path: PathBuf,
        /// The field's path in the document (`endpoints[3].projectKey`), when the problem is
        /// one field's.
        field: Option<String>,
        /// What is wrong.
        problem: String,
    },
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::Io(path, err) => write!(f, "{}: {err}", path.display()),
            LoadError::Refused {
                path,
                field: Some(field),
                problem,
            } => write!(f, "{}: {field}: {problem}", path.display()),
            LoadError::Refused {
                path,
                field: None,
                problem,
            } => write!(f, "{}: {problem}", path.display()),
        }
    }
}

/// Reads, validates and compiles the policy document at `path`.
pub fn read(path: &Path) -> Result<Policy, LoadError> {
    let text = std::fs::read_to_string(path).map_err(|err| LoadError::Io(path.into(), err))?;
    parse(&text).map_err(|(field, problem)| LoadError::Refused {
        path: path.into(),
        field,
        problem,
    })
}

/// Parses and compiles a document as `Policy::from_json` does, naming the field of a syntax
/// error by its path (serde's own message gives only the line and column).
pub fn parse(text: &str) -> Result<Policy, (Option<String>, String)> {
    let mut json = serde_json::Deserializer::from_str(text);
    let document: PolicyDocument = match serde_path_to_error::deserialize(&mut json) {
        Ok(document) => document,
        Err(err) => {
            let field = err.path().to_string();
            let field = (field != ".").then_some(field);
            return Err((field, err.into_inner().to_string()));
        }
    };
    // The same check `from_json` makes after the document: nothing may follow it.
    json.end().map_err(|err| (None, err.to_string()))?;
    Policy::compile(&document).map_err(|err| match err {
        PolicyError::Invalid(bad) => (Some(bad.field().to_owned()), bad.problem().to_owned()),
        other => (None, other.to_string()),
    })
}
