//! The whole vocabulary of denials: reason codes, their HTTP statuses, and the one human
//! sentence each denial carries. Change a message here and every target changes with it.

use alloc::string::String;
use core::fmt;

use crate::key::limits::QuotaPeriod;

use serde::Serialize;

use crate::key::KeyError;
use crate::policy::Permission;

/// A denial's reason code (SPEC "Reason codes").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Reason {
    /// `401`: no key presented.
    MissingKey,
    /// `401`: malformed, failed checksum, wrong environment, or unknown.
    InvalidKey,
    /// `401`: revoked, expired, or the creator is no longer a member.
    KeyRevoked,
    /// `403`: a project key outside its project or on an organization-wide endpoint.
    ScopeViolation,
    /// `403`: in scope, but the key lacks the endpoint's permission.
    Forbidden,
    /// `404`: unknown endpoint, or a resource outside the key's scope.
    NotFound,
    /// `429`: the key exceeded its rate limit.
    RateLimited,
    /// `503`: a store could not be reached or answered inconsistently (fail closed).
    Unavailable,
    /// `502`: the request was allowed but the origin could not be reached (gateways only).
    BadGateway,
    /// `400`: the request was allowed but cannot be forwarded as sent (gateways only), e.g. a
    /// `GET` carrying a body.
    InvalidRequest,
}

impl Reason {
    /// Every reason, in precedence order (the rate-limit and availability answers last).
    pub const ALL: [Reason; 10] = [
        Reason::MissingKey,
        Reason::InvalidKey,
        Reason::KeyRevoked,
        Reason::ScopeViolation,
        Reason::Forbidden,
        Reason::NotFound,
        Reason::RateLimited,
        Reason::Unavailable,
        Reason::BadGateway,
        Reason::InvalidRequest,
    ];

    /// The reason code as written in bodies and vectors, e.g. `scope_violation`.
    pub const fn code(self) -> &'static str {
        match self {
            Reason::MissingKey => "missing_key",
            Reason::InvalidKey => "invalid_key",
            Reason::KeyRevoked => "key_revoked",
            Reason::ScopeViolation => "scope_violation",
            Reason::Forbidden => "forbidden",
            Reason::NotFound => "not_found",
            Reason::RateLimited => "rate_limited",
            Reason::Unavailable => "unavailable",
            Reason::BadGateway => "bad_gateway",
            Reason::InvalidRequest => "invalid_request",
        }
    }

    /// Parses a reason code.
    pub fn from_code(code: &str) -> Option<Reason> {
        Reason::ALL.into_iter().find(|r| r.code() == code)
    }

    /// The HTTP status.
    pub const fn status(self) -> u16 {
        match self {
            Reason::MissingKey | Reason::InvalidKey | Reason::KeyRevoked => 401,
            Reason::ScopeViolation | Reason::Forbidden => 403,
            Reason::NotFound => 404,
            Reason::RateLimited => 429,
            Reason::Unavailable => 503,
            Reason::BadGateway => 502,
            Reason::InvalidRequest => 400,
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// Why exactly a request was denied; decides the reason and the message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cause<'a> {
    /// No key header.
    NoKey,
    /// `X-Api-Key` and `Authorization` present different keys.
    ConflictingHeaders,
    /// A presented value is not a well-formed key of this deployment.
    Malformed(KeyError),
    /// No key with this hash exists.
    UnknownKey,
    /// The key was revoked.
    Revoked,
    /// The key is past its `expiresAt`.
    Expired,
    /// The key's creator is no longer a member of the organization.
    CreatorRemoved,
    /// The key has an address allow-list, and the client's address is in none of its blocks
    /// (or is unknown).
    AddressNotAllowed,
    /// No endpoint row matches the method and path.
    UnknownEndpoint,
    /// A project key on an endpoint project keys may not call.
    OrganizationEndpoint,
    /// A project key naming another project in the path.
    OtherProject,
    /// The path names an organization other than the key's.
    OtherOrganization,
    /// The path names a user other than the key's creator, on a row without
    /// `othersPermission`.
    OwnUserOnly,
    /// The key lacks this permission, which the endpoint row requires.
    MissingPermission(Permission<'a>),
    /// The resource is unknown or outside the key's project.
    ResourceNotVisible,
    /// Too many requests; retry after this many seconds.
    RateLimited {
        /// Seconds until a retry can succeed (the `Retry-After` value).
        retry_after: u32,
        /// The limit that was reached.
        limit: Exceeded,
    },
    /// A store failed or could not be reached.
    StoreUnavailable,
    /// A store answered with data the policy cannot use (e.g. a role it does not define).
    StoreInconsistent,
    /// The gateway's own configuration cannot be used (a bad variable or a missing binding).
    Misconfigured,
    /// The gateway could not reach the origin for an allowed request.
    OriginUnreachable,
    /// An allowed `GET` or `HEAD` request carries a body, which cannot be forwarded.
    BodyNotAllowed,
}

impl Cause<'_> {
    /// The reason code this cause answers with.
    pub const fn reason(&self) -> Reason {
        match self {
            Cause::NoKey => Reason::MissingKey,
            Cause::ConflictingHeaders | Cause::Malformed(_) | Cause::UnknownKey => Reason::InvalidKey,
            Cause::Revoked | Cause::Expired | Cause::CreatorRemoved => Reason::KeyRevoked,
            Cause::OrganizationEndpoint | Cause::OtherProject | Cause::OtherOrganization => {
                Reason::ScopeViolation
            }
            Cause::MissingPermission(_) | Cause::OwnUserOnly | Cause::AddressNotAllowed => Reason::Forbidden,
            Cause::UnknownEndpoint | Cause::ResourceNotVisible => Reason::NotFound,
            Cause::RateLimited { .. } => Reason::RateLimited,
            Cause::StoreUnavailable | Cause::StoreInconsistent | Cause::Misconfigured => Reason::Unavailable,
            Cause::OriginUnreachable => Reason::BadGateway,
            Cause::BodyNotAllowed => Reason::InvalidRequest,
        }
    }
}

impl fmt::Display for Cause<'_> {
    /// The human sentence. It never echoes the key and never names a resource the key
    /// cannot see.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cause::NoKey => {
                f.write_str("No API key was presented; send it as X-Api-Key or as Authorization: Bearer.")
            }
            Cause::ConflictingHeaders => {
                f.write_str("The X-Api-Key and Authorization headers present different keys.")
            }
            Cause::Malformed(KeyError::WrongEnvironment { key }) => {
                write!(
                    f,
                    "The API key is a {key} key, which this deployment does not accept."
                )
            }
            Cause::Malformed(KeyError::ChecksumMismatch) => {
                f.write_str("The API key is not valid: its checksum does not match.")
            }
            Cause::Malformed(_) => f.write_str("The API key is malformed."),
            Cause::UnknownKey => f.write_str("The API key is not recognised."),
            Cause::Revoked => f.write_str("The API key has been revoked."),
            Cause::Expired => f.write_str("The API key has expired."),
            Cause::CreatorRemoved => {
                f.write_str("The API key's creator is no longer a member of the organization.")
            }
            Cause::UnknownEndpoint => f.write_str("No such endpoint."),
            Cause::OrganizationEndpoint => {
                f.write_str("A project-scoped key cannot call this organization-wide endpoint.")
            }
            Cause::OtherProject => f.write_str("This key is scoped to a different project."),
            Cause::OtherOrganization => f.write_str("This key belongs to another organization."),
            Cause::OwnUserOnly => f.write_str("This endpoint is limited to the key's own user."),
            Cause::MissingPermission(permission) => write!(f, "Missing {} permission.", permission.name()),
            Cause::ResourceNotVisible => f.write_str("Not found."),
            Cause::AddressNotAllowed => f.write_str("This key cannot be used from this address."),
            Cause::RateLimited { retry_after, limit } => match limit {
                Exceeded::Rate { per_second } => write!(
                    f,
                    "Too many requests for this key: its rate limit is {per_second} per second; retry after {retry_after} second(s)."
                ),
                Exceeded::Quota { limit, period } => write!(
                    f,
                    "This key's quota of {limit} requests per {} is used up; retry after {retry_after} second(s).",
                    period.as_str()
                ),
                Exceeded::Organization { limit, period } => write!(
                    f,
                    "The organization's quota of {limit} requests per {}, shared by all its keys, is used up; retry after {retry_after} second(s).",
                    period.as_str()
                ),
            },
            Cause::StoreUnavailable => f.write_str("The key store is unavailable; try again shortly."),
            Cause::Misconfigured => {
                f.write_str("The gateway is misconfigured; its operator must fix its settings.")
            }
            Cause::StoreInconsistent => {
                f.write_str("The key store returned data this policy cannot use; try again shortly.")
            }
            Cause::OriginUnreachable => f.write_str("The API behind this gateway could not be reached."),
            Cause::BodyNotAllowed => {
                f.write_str("A GET or HEAD request cannot carry a body through this gateway.")
            }
        }
    }
}

/// The `WWW-Authenticate` challenge every `401` carries.
pub const WWW_AUTHENTICATE: &str = "Bearer realm=\"keyscope\"";

/// A denial: status, reason code and message, ready to be written as SPEC's JSON body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Denial<'a> {
    cause: Cause<'a>,
}

#[derive(Serialize)]
struct DenialBody<'a> {
    reason: &'static str,
    message: &'a str,
}

impl<'a> Denial<'a> {
    /// A denial for `cause`.
    pub const fn new(cause: Cause<'a>) -> Denial<'a> {
        Denial { cause }
    }

    /// `503 unavailable`: what a caller answers when a store lookup fails.
    pub const fn unavailable() -> Denial<'static> {
        Denial {
            cause: Cause::StoreUnavailable,
        }
    }

    /// `429 rate_limited`: `limit` was reached; retry after `retry_after` seconds.
    pub const fn rate_limited(retry_after: u32, limit: Exceeded) -> Denial<'static> {
        Denial {
            cause: Cause::RateLimited { retry_after, limit },
        }
    }

    /// The precise cause.
    pub const fn cause(&self) -> Cause<'a> {
        self.cause
    }

    /// The reason code.
    pub const fn reason(&self) -> Reason {
        self.cause.reason()
    }

    /// The HTTP status.
    pub const fn status(&self) -> u16 {
        self.cause.reason().status()
    }

    /// The human sentence.
    pub fn message(&self) -> String {
        alloc::format!("{}", self.cause)
    }

    /// The `Retry-After` value in seconds, for `429`.
    pub const fn retry_after(&self) -> Option<u32> {
        match self.cause {
            Cause::RateLimited { retry_after, .. } => Some(retry_after),
            _ => None,
        }
    }

    /// Whether the response should carry `WWW-Authenticate: Bearer` (every 401).
    pub const fn challenges(&self) -> bool {
        self.status() == 401
    }

    /// The `WWW-Authenticate` value the response carries, on 401 only.
    pub const fn www_authenticate(&self) -> Option<&'static str> {
        if self.challenges() {
            Some(WWW_AUTHENTICATE)
        } else {
            None
        }
    }

    /// SPEC's body: `{"reason": "<code>", "message": "<sentence>"}`.
    pub fn to_json(&self) -> String {
        let message = self.message();
        let body = DenialBody {
            reason: self.reason().code(),
            message: &message,
        };
        // INVARIANT: two strings always serialize.
        serde_json::to_string(&body).unwrap_or_default()
    }
}

impl fmt::Display for Denial<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.status(), self.reason(), self.cause)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_parses_back_and_a_body_on_get_is_a_client_error() {
        for reason in Reason::ALL {
            assert_eq!(Reason::from_code(reason.code()), Some(reason));
        }
        let denial = Denial::new(Cause::BodyNotAllowed);
        assert_eq!(denial.status(), 400);
        assert_eq!(denial.reason().code(), "invalid_request");
        assert_eq!(
            denial.to_json(),
            r#"{"reason":"invalid_request","message":"A GET or HEAD request cannot carry a body through this gateway."}"#
        );
        assert_eq!(denial.www_authenticate(), None);
    }
}

/// Which limit a `429 rate_limited` reached (its message says which). Serialized as
/// `{"kind":"rate","perSecond":10}`, `{"kind":"quota","limit":1000,"period":"day"}`, … (a
/// limiter that answers across a process boundary says it this way).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum Exceeded {
    /// The key's rate: its own `rateLimit` or the deployment's default.
    Rate {
        /// Requests per second.
        per_second: u32,
    },
    /// The key's own quota.
    Quota {
        /// Requests per period.
        limit: u64,
        /// The calendar window.
        period: QuotaPeriod,
    },
    /// The organization's quota, which all its keys share.
    Organization {
        /// Requests per period.
        limit: u64,
        /// The calendar window.
        period: QuotaPeriod,
    },
}
