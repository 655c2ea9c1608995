//! The console API's errors: `{"reason", "message"}` like every other answer, the message a
//! sentence the page shows as it is, plus `code` when a lifecycle rule refused (the admin API's
//! and npm's code for the same rule).

use policy_core::LifecycleError;
use serde::Serialize;

use crate::keys::error::ServiceError;
use crate::respond::{json, Answer};
use crate::store::StoreError;

/// A console API error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleError {
    /// The HTTP status.
    pub status: u16,
    /// The reason code.
    pub reason: &'static str,
    /// One sentence for the person using the page.
    pub message: String,
    /// The lifecycle rule that refused, when one did.
    pub code: Option<&'static str>,
}

impl ConsoleError {
    /// `401 session_expired`: the page drops what it shows.
    pub fn session_expired(message: &str) -> ConsoleError {
        ConsoleError {
            status: 401,
            reason: "session_expired",
            message: message.into(),
            code: None,
        }
    }

    /// `403 forbidden`.
    pub fn forbidden(message: &str) -> ConsoleError {
        ConsoleError {
            status: 403,
            reason: "forbidden",
            message: message.into(),
            code: None,
        }
    }

    /// `400 invalid_request`.
    pub fn invalid(message: impl Into<String>) -> ConsoleError {
        ConsoleError {
            status: 400,
            reason: "invalid_request",
            message: message.into(),
            code: None,
        }
    }

    /// `404 not_found`.
    pub fn not_found(message: &str) -> ConsoleError {
        ConsoleError {
            status: 404,
            reason: "not_found",
            message: message.into(),
            code: None,
        }
    }

    /// `405 method_not_allowed`.
    pub fn method_not_allowed(allow: &str) -> ConsoleError {
        ConsoleError {
            status: 405,
            reason: "method_not_allowed",
            message: format!("This address answers {allow} only."),
            code: None,
        }
    }

    /// Writes the error.
    pub fn respond(&self) -> Answer {
        #[derive(Serialize)]
        struct Body<'a> {
            reason: &'a str,
            message: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            code: Option<&'a str>,
        }
        let response = json(
            self.status,
            &Body {
                reason: self.reason,
                message: &self.message,
                code: self.code,
            },
        )?;
        response.headers().set("x-content-type-options", "nosniff")?;
        Ok(response)
    }
}

/// The key service's first letter is lower case (the admin API answers programs); the page shows
/// sentences.
fn sentence(message: &str) -> String {
    let mut chars = message.chars();
    let mut out: String = chars
        .next()
        .map(|c| c.to_uppercase().collect())
        .unwrap_or_default();
    out.push_str(chars.as_str());
    if !out.ends_with('.') {
        out.push('.');
    }
    out
}

impl From<ServiceError> for ConsoleError {
    fn from(err: ServiceError) -> ConsoleError {
        ConsoleError {
            status: err.reason.status(),
            reason: err.reason.code(),
            message: sentence(&err.message),
            code: err.code,
        }
    }
}

impl From<StoreError> for ConsoleError {
    fn from(err: StoreError) -> ConsoleError {
        ServiceError::from(err).into()
    }
}

impl From<LifecycleError> for ConsoleError {
    fn from(err: LifecycleError) -> ConsoleError {
        ServiceError::from(err).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admin_messages_become_sentences() {
        assert_eq!(sentence("no such key"), "No such key.");
        assert_eq!(sentence("Done."), "Done.");
        assert_eq!(sentence(""), ".");
    }
}
