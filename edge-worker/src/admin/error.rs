//! The admin API's errors: a reason code, its status and a message naming what is wrong.
//! Written with the gateway's body shape `{"reason", "message"}`.

use policy_core::{ErrorKind, ImportError, LifecycleError, WWW_AUTHENTICATE};
use serde::Serialize;

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
}

/// The admin API's reason codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Reason {
    /// 400: the request is malformed or asks for something invalid.
    InvalidRequest,
    /// 401: no or wrong service token.
    Unauthorized,
    /// 403: the acting user may not do this.
    Forbidden,
    /// 404: no such route, organization member, resource or key.
    NotFound,
    /// 405: the route exists with other methods.
    MethodNotAllowed,
    /// 409: the state forbids it (a key id or hash that exists, a revoked key).
    Conflict,
    /// 413: the body is too large.
    PayloadTooLarge,
    /// 503: a store failed or the API is not configured (nothing was done).
    Unavailable,
}

impl Reason {
    /// The code written in `reason`.
    pub const fn code(self) -> &'static str {
        match self {
            Reason::InvalidRequest => "invalid_request",
            Reason::Unauthorized => "unauthorized",
            Reason::Forbidden => "forbidden",
            Reason::NotFound => "not_found",
            Reason::MethodNotAllowed => "method_not_allowed",
            Reason::Conflict => "conflict",
            Reason::PayloadTooLarge => "payload_too_large",
            Reason::Unavailable => "unavailable",
        }
    }

    /// The HTTP status.
    pub const fn status(self) -> u16 {
        match self {
            Reason::InvalidRequest => 400,
            Reason::Unauthorized => 401,
            Reason::Forbidden => 403,
            Reason::NotFound => 404,
            Reason::MethodNotAllowed => 405,
            Reason::Conflict => 409,
            Reason::PayloadTooLarge => 413,
            Reason::Unavailable => 503,
        }
    }
}

impl AdminError {
    /// An error with this reason and message.
    pub fn new(reason: Reason, message: impl Into<String>) -> AdminError {
        AdminError {
            reason,
            message: message.into(),
            allow: None,
        }
    }

    /// `400 invalid_request`.
    pub fn invalid(message: impl Into<String>) -> AdminError {
        AdminError::new(Reason::InvalidRequest, message)
    }

    /// `404 not_found`: no such `what`.
    pub fn not_found(what: &str) -> AdminError {
        AdminError::new(Reason::NotFound, format!("no such {what}"))
    }

    /// `405 method_not_allowed` with the methods the route answers.
    pub fn method_not_allowed(allow: &'static str) -> AdminError {
        AdminError {
            reason: Reason::MethodNotAllowed,
            message: format!("this route answers {allow}"),
            allow: Some(allow),
        }
    }

    /// Writes the error.
    pub fn respond(&self) -> Answer {
        #[derive(Serialize)]
        struct Body<'a> {
            reason: &'static str,
            message: &'a str,
        }
        let response = json(
            self.reason.status(),
            &Body {
                reason: self.reason.code(),
                message: &self.message,
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

impl From<StoreError> for AdminError {
    /// A store failure before anything was written (the write path returns saved-but-pending
    /// changes as success, never as an error).
    fn from(err: StoreError) -> AdminError {
        match err {
            StoreError::Conflict(_) => AdminError::new(
                Reason::Conflict,
                "a key with this id or hash already exists; nothing was written",
            ),
            other => {
                worker::console_error!("keyscope admin: store failed: {other}");
                AdminError::new(
                    Reason::Unavailable,
                    "the key store is unavailable; nothing was changed, try again",
                )
            }
        }
    }
}

impl AdminError {
    /// A refused plan: `policy-core` classifies it, the message names what is wrong.
    fn refused(kind: ErrorKind, message: String) -> AdminError {
        let reason = match kind {
            ErrorKind::Forbidden => Reason::Forbidden,
            ErrorKind::Conflict => Reason::Conflict,
            _ => Reason::InvalidRequest,
        };
        AdminError::new(reason, message)
    }
}

impl From<LifecycleError> for AdminError {
    fn from(err: LifecycleError) -> AdminError {
        AdminError::refused(err.kind(), err.to_string())
    }
}

impl From<ImportError> for AdminError {
    fn from(err: ImportError) -> AdminError {
        AdminError::refused(err.kind(), err.to_string())
    }
}
