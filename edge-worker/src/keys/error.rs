//! The key service's errors: a reason code, its status, a message naming what is wrong and, for
//! a refused lifecycle rule, the rule's `code` (policy-core's, the one npm's `LifecycleError`
//! carries). The admin API ([`crate::admin::error`]) and the console ([`crate::console::error`])
//! each write them with the body shape `{"reason", "message", "code"?}`.

use policy_core::{ErrorKind, ImportError, LifecycleError};

use crate::store::StoreError;

/// An error of the key service or of the input it was given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceError {
    /// The reason code.
    pub reason: Reason,
    /// One sentence for the caller.
    pub message: String,
    /// The lifecycle rule that refused ([`LifecycleError::code`]), when one did.
    pub code: Option<&'static str>,
}

/// The reason codes of the admin and console APIs.
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

impl ServiceError {
    /// An error with this reason and message.
    pub fn new(reason: Reason, message: impl Into<String>) -> ServiceError {
        ServiceError {
            reason,
            message: message.into(),
            code: None,
        }
    }

    /// `400 invalid_request`.
    pub fn invalid(message: impl Into<String>) -> ServiceError {
        ServiceError::new(Reason::InvalidRequest, message)
    }

    /// `404 not_found`: no such `what`.
    pub fn not_found(what: &str) -> ServiceError {
        ServiceError::new(Reason::NotFound, format!("no such {what}"))
    }

    /// A refused plan: `policy-core` classifies it and names its rule, the message says what
    /// is wrong.
    pub fn refused(kind: ErrorKind, code: &'static str, message: String) -> ServiceError {
        let reason = match kind {
            ErrorKind::Forbidden => Reason::Forbidden,
            ErrorKind::Conflict => Reason::Conflict,
            _ => Reason::InvalidRequest,
        };
        ServiceError {
            code: Some(code),
            ..ServiceError::new(reason, message)
        }
    }
}

impl From<StoreError> for ServiceError {
    /// A store failure before anything was written (the write path returns saved-but-pending
    /// changes as success, never as an error).
    fn from(err: StoreError) -> ServiceError {
        match err {
            StoreError::Conflict(_) => ServiceError::new(
                Reason::Conflict,
                "a key with this id or hash already exists; nothing was written",
            ),
            other => {
                worker::console_error!("keyscope admin: store failed: {other}");
                ServiceError::new(
                    Reason::Unavailable,
                    "the key store is unavailable; nothing was changed, try again",
                )
            }
        }
    }
}

impl From<LifecycleError> for ServiceError {
    fn from(err: LifecycleError) -> ServiceError {
        ServiceError::refused(err.kind(), err.code(), err.to_string())
    }
}

impl From<ImportError> for ServiceError {
    fn from(err: ImportError) -> ServiceError {
        ServiceError::refused(err.kind(), err.code(), err.to_string())
    }
}
