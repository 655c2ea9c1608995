//! The admin API's errors: the key service's reason codes ([`Reason`]), their status, a
//! message naming what is wrong and, for a refused lifecycle rule, its `code`. Written with the
//! gateway's body shape `{"reason", "message"}` plus `code` when a rule refused.

use policy_core::{ImportError, LifecycleError, WWW_AUTHENTICATE};
use serde::Serialize;

pub use crate::keys::error::Reason;
use crate::keys::error::ServiceError;
use crate::respond::{json, Answer};
use crate::store::StoreError;

/// An admin API error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminError {
    /// The reason code.
    pub reason: Reason,
    /// One sentence for the caller.
    pub message: String,
    /// For `405`: the methods the route answers (the `Allow` header).
    pub allow: Option<&'static str>,
    /// The lifecycle rule that refused, when one did (`code` in the body).
    pub code: Option<&'static str>,
}

impl AdminError {
    /// An error with this reason and message.
    pub fn new(reason: Reason, message: impl Into<String>) -> AdminError {
        AdminError {
            reason,
            message: message.into(),
            allow: None,
            code: None,
        }
    }

    /// `400 invalid_request`.
    pub fn invalid(message: impl Into<String>) -> AdminError {
        AdminError::new(Reason::InvalidRequest, message)
    }

    /// `404 not_found`: no such `what`.
    pub fn not_found(what: &str) -> AdminError {
        ServiceError::not_found(what).into()
    }

    /// `405 method_not_allowed` with the methods the route answers.
    pub fn method_not_allowed(allow: &'static str) -> AdminError {
        AdminError {
            reason: Reason::MethodNotAllowed,
            message: format!("this route answers {allow}"),
            allow: Some(allow),
            code: None,
        }
    }

    /// Writes the error.
    pub fn respond(&self) -> Answer {
        #[derive(Serialize)]
        struct Body<'a> {
            reason: &'static str,
            message: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            code: Option<&'static str>,
        }
        let response = json(
            self.reason.status(),
            &Body {
                reason: self.reason.code(),
                message: &self.message,
                code: self.code,
            },
        )?;
        if self.reason == Reason::Unauthorized {
            response.headers().set("www-authenticate", WWW_AUTHENTICATE)?;
        }
        if let Some(allow) = self.allow {
            response.headers().set("allow", allow)?;
        }
        Ok(response)
    }
}

impl From<ServiceError> for AdminError {
    fn from(err: ServiceError) -> AdminError {
        AdminError {
            code: err.code,
            ..AdminError::new(err.reason, err.message)
        }
    }
}

impl From<StoreError> for AdminError {
    /// A store failure before anything was written ([`ServiceError`]'s rule).
    fn from(err: StoreError) -> AdminError {
        ServiceError::from(err).into()
    }
}

impl From<LifecycleError> for AdminError {
    fn from(err: LifecycleError) -> AdminError {
        ServiceError::from(err).into()
    }
}

impl From<ImportError> for AdminError {
    fn from(err: ImportError) -> AdminError {
        ServiceError::from(err).into()
    }
}
