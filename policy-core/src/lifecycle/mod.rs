//! The rules of a key's life outside a request (SPEC "Keys"), as plans.
//!
//! Each plan takes what the store holds (the key record, the acting user's current role), the
//! time and, where something new is made, a fresh id and the new key's hint — and returns what to
//! write, or a [`LifecycleError`] that names the rule. Plans do no I/O, read no clock and draw no
//! random numbers: the caller reads, plans, then writes the plan in one transaction.
//!
//! | plan | file |
//! |---|---|
//! | create a key ([`Policy::plan_create`]) | `create.rs` |
//! | rotate a key ([`Policy::plan_rotate`]) | `rotate.rs` |
//! | revoke a key ([`Policy::plan_revoke`]) | `revoke.rs` |
//! | import keys by hash ([`Policy::plan_import`]) | `import.rs` |
//! | set a member's role ([`Policy::plan_member_role`]) | `member.rs` |
//! | who may create which key with which grants, who may change it, who is a member | `grants.rs` |
//! | a rotation's grace period, one parse rule for every surface ([`GracePeriod`]) | `grace.rs` |
//! | a new key's id from the caller's random bytes ([`key_id`]) | `id.rs` |
//! | a key's status at `now`, its creator included ([`KeyStatus`]); what a key list shows ([`KeyStanding`]) | `status.rs` |
//! | the audit facts each change implies ([`Fact`]) | `facts.rs` |
//! | field rules (ids, names, hints, times) and the errors, each with its rule `code` | this file |

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use crate::key::record::{Scope, Timestamp};
use crate::policy::Policy;
use crate::route::PathId;

mod controls;
mod create;
mod facts;
mod grace;
mod grants;
mod id;
mod import;
mod member;
mod revoke;
mod rotate;
mod status;

pub use controls::{cidr_texts, Controls, ControlsAsk, ControlsChange};
pub use create::CreateKey;
pub use facts::{Fact, FactAction, FactActor, FactCause, FactDetail};
pub use grace::GracePeriod;
pub use grants::{check_scope_project, Grants, KeyAbilities, NewKey};
pub use id::{key_id, KEY_ID_PREFIX, KEY_ID_RANDOM_BYTES};
pub use import::{ImportError, ImportedKey, PlannedImport};
pub use revoke::RevocationPlan;
pub use rotate::RotationPlan;
pub use status::{KeyStanding, KeyStatus};

/// A key's name holds at most this many characters (and at least one that is not blank).
pub const MAX_NAME_CHARS: usize = 100;
/// A key's hint holds 1 to this many characters (keyscope's own keys show 4).
pub const MAX_HINT_CHARS: usize = 8;
/// The longest rotation grace period, in seconds: 30 days.
pub const MAX_GRACE_SECONDS: u32 = 30 * 24 * 3600;
/// An import holds 1 to this many keys.
pub const MAX_IMPORT_KEYS: usize = 1000;
/// The earliest time a key may carry: 2000-01-01T00:00:00Z (Unix milliseconds).
pub const EARLIEST_TIME: Timestamp = Timestamp(946_684_800_000);
/// The latest time a key may carry: 9999-12-31T23:59:59.999Z (Unix milliseconds).
pub const LATEST_TIME: Timestamp = Timestamp(253_402_300_799_999);

/// Who is acting: a user and their current role in the key's organization.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Actor<'a> {
    /// The acting user's id (`actingUserId`).
    pub user_id: &'a str,
    /// Their current role in the organization; `None` when they are not a member.
    pub role: Option<&'a str>,
}

/// What the caller made for a new key: a fresh id and the hint of the new secret
/// ([`crate::ApiKey::hint`]). The secret itself never enters a plan.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyMaterial<'a> {
    /// The new key's id (1–64 characters of `A-Za-z0-9_-`).
    pub id: &'a str,
    /// The new key's hint.
    pub hint: &'a str,
}

/// How an adapter answers a [`LifecycleError`]: the class decides the status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The request is malformed or asks for something no one may have (`400`).
    Invalid,
    /// The acting user may not do this (`403`).
    Forbidden,
    /// The state forbids it: rotating a revoked key, importing an id or hash twice (`409`).
    Conflict,
}

impl ErrorKind {
    /// The class's name: `invalid`, `forbidden` or `conflict`.
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Invalid => "invalid",
            ErrorKind::Forbidden => "forbidden",
            ErrorKind::Conflict => "conflict",
        }
    }

    /// The HTTP status of this class: `400`, `403` or `409`.
    pub const fn status(self) -> u16 {
        match self {
            ErrorKind::Invalid => 400,
            ErrorKind::Forbidden => 403,
            ErrorKind::Conflict => 409,
        }
    }
}

/// Why a key may not be created, rotated, revoked or imported as asked, or a role not given.
/// Messages name the field at fault with the admin API's (camelCase) names.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LifecycleError {
    /// The acting user is not a member of the organization (or holds a role the policy does not
    /// define).
    NotAMember,
    /// The acting user's role may not create keys of this scope.
    MayNotCreate {
        /// The acting user's role.
        role: String,
        /// The scope asked for.
        scope: Scope,
    },
    /// A project key needs a project.
    ProjectRequired,
    /// An organization key cannot name a project.
    ProjectNotAllowed,
    /// Both `scopedProjectId` and `scopedProjectIds` were given: a key's projects come from one.
    ProjectFieldsBoth,
    /// `scopedProjectIds` holds more than 50 ids, or one twice.
    InvalidProjects(crate::key::projects::ProjectIdsError),
    /// `allowedCidrs` is empty, too long, or holds a malformed block.
    InvalidCidrs(crate::key::cidr::CidrError),
    /// The preset does not exist.
    UnknownPreset {
        /// The preset asked for.
        preset: String,
        /// The presets the policy defines.
        known: Vec<String>,
    },
    /// Explicit grants name permissions the policy does not define (an empty name included).
    UnknownPermissions(Vec<String>),
    /// Permission names that are no names at all (empty, blank, control characters, too long).
    MalformedPermissions(Vec<String>),
    /// Explicit grants go beyond the acting user's role.
    BeyondRole {
        /// The acting user's role.
        role: String,
        /// The permissions asked for that the role does not hold, in policy order.
        permissions: Vec<String>,
    },
    /// Only the key's creator, or a role that may manage every key (an admin), may revoke or
    /// rotate it.
    NotYours,
    /// An id is not 1–64 characters of `A-Za-z0-9_-`.
    InvalidId {
        /// The field, e.g. `actingUserId`.
        field: &'static str,
    },
    /// A name is blank or longer than [`MAX_NAME_CHARS`] characters.
    InvalidName,
    /// A hint is empty or longer than [`MAX_HINT_CHARS`] characters.
    InvalidHint,
    /// A key hash is not 64 hexadecimal digits (SHA-256).
    InvalidKeyHash,
    /// A time is outside [`EARLIEST_TIME`]..=[`LATEST_TIME`].
    TimeOutOfRange {
        /// The field, e.g. `expiresAt`.
        field: &'static str,
    },
    /// A new key's expiry is not in the future.
    ExpiryNotInFuture,
    /// A rotation grace period that is not a whole number of seconds from 0 up (a fraction, a
    /// negative number, text, a boolean…).
    InvalidGracePeriod,
    /// A rotation grace period longer than [`MAX_GRACE_SECONDS`].
    GraceTooLong {
        /// The period asked for, in seconds (saturated at `u64::MAX`).
        seconds: u64,
    },
    /// Both a preset and explicit permissions were given: a key's grants come from one.
    PresetAndPermissions,
    /// The key is revoked (its revocation time has come): it cannot be rotated.
    KeyRevoked,
    /// The key has expired: a rotation would copy an expiry in the past.
    KeyExpired,
    /// The role is not one the policy defines.
    UnknownRole {
        /// The role asked for.
        role: String,
        /// The roles the policy defines.
        known: Vec<String>,
    },
    /// An import names the same key id or hash twice (`409`, like a key that is already stored).
    Duplicate {
        /// `id` or `keyHash`.
        field: &'static str,
        /// The index of the first key that holds it.
        first: usize,
    },
}

impl LifecycleError {
    /// The class of the error, which decides the adapter's status.
    pub fn kind(&self) -> ErrorKind {
        match self {
            LifecycleError::NotAMember
            | LifecycleError::MayNotCreate { .. }
            | LifecycleError::BeyondRole { .. }
            | LifecycleError::NotYours => ErrorKind::Forbidden,
            LifecycleError::KeyRevoked | LifecycleError::KeyExpired | LifecycleError::Duplicate { .. } => {
                ErrorKind::Conflict
            }
            LifecycleError::ProjectRequired
            | LifecycleError::ProjectNotAllowed
            | LifecycleError::ProjectFieldsBoth
            | LifecycleError::InvalidProjects(_)
            | LifecycleError::InvalidCidrs(_)
            | LifecycleError::UnknownPreset { .. }
            | LifecycleError::UnknownPermissions(_)
            | LifecycleError::MalformedPermissions(_)
            | LifecycleError::InvalidId { .. }
            | LifecycleError::InvalidName
            | LifecycleError::InvalidHint
            | LifecycleError::InvalidKeyHash
            | LifecycleError::TimeOutOfRange { .. }
            | LifecycleError::ExpiryNotInFuture
            | LifecycleError::InvalidGracePeriod
            | LifecycleError::GraceTooLong { .. }
            | LifecycleError::PresetAndPermissions
            | LifecycleError::UnknownRole { .. } => ErrorKind::Invalid,
        }
    }

    /// The rule that refused, as a stable code: what every surface writes (npm's
    /// `LifecycleError.code`, the admin and console APIs' `code`).
    pub const fn code(&self) -> &'static str {
        match self {
            LifecycleError::NotAMember => "not_a_member",
            LifecycleError::MayNotCreate { .. } => "may_not_create",
            LifecycleError::ProjectRequired => "project_required",
            LifecycleError::ProjectNotAllowed => "project_not_allowed",
            LifecycleError::ProjectFieldsBoth => "project_fields_both",
            LifecycleError::InvalidProjects(_) => "invalid_projects",
            LifecycleError::InvalidCidrs(_) => "invalid_cidrs",
            LifecycleError::UnknownPreset { .. } => "unknown_preset",
            LifecycleError::UnknownPermissions(_) => "unknown_permissions",
            LifecycleError::MalformedPermissions(_) => "malformed_permissions",
            LifecycleError::BeyondRole { .. } => "beyond_role",
            LifecycleError::NotYours => "not_yours",
            LifecycleError::InvalidId { .. } => "invalid_id",
            LifecycleError::InvalidName => "invalid_name",
            LifecycleError::InvalidHint => "invalid_hint",
            LifecycleError::InvalidKeyHash => "invalid_key_hash",
            LifecycleError::TimeOutOfRange { .. } => "time_out_of_range",
            LifecycleError::ExpiryNotInFuture => "expiry_not_in_future",
            LifecycleError::InvalidGracePeriod => "invalid_grace_period",
            LifecycleError::GraceTooLong { .. } => "grace_too_long",
            LifecycleError::PresetAndPermissions => "preset_and_permissions",
            LifecycleError::KeyRevoked => "key_revoked",
            LifecycleError::KeyExpired => "key_expired",
            LifecycleError::UnknownRole { .. } => "unknown_role",
            LifecycleError::Duplicate { .. } => "duplicate",
        }
    }

    /// The request field at fault, with the admin API's name, when one field is; the message
    /// then starts with it.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            LifecycleError::InvalidId { field }
            | LifecycleError::TimeOutOfRange { field }
            | LifecycleError::Duplicate { field, .. } => Some(field),
            LifecycleError::InvalidName => Some("name"),
            LifecycleError::InvalidHint => Some("hint"),
            LifecycleError::InvalidKeyHash => Some("keyHash"),
            LifecycleError::ExpiryNotInFuture => Some("expiresAt"),
            LifecycleError::InvalidGracePeriod | LifecycleError::GraceTooLong { .. } => {
                Some("gracePeriodSeconds")
            }
            LifecycleError::PresetAndPermissions => Some("preset"),
            LifecycleError::UnknownPermissions(_) | LifecycleError::MalformedPermissions(_) => {
                Some("permissions")
            }
            LifecycleError::UnknownPreset { .. } => Some("preset"),
            LifecycleError::ProjectFieldsBoth | LifecycleError::InvalidProjects(_) => {
                Some("scopedProjectIds")
            }
            LifecycleError::InvalidCidrs(_) => Some("allowedCidrs"),
            LifecycleError::UnknownRole { .. } => Some("role"),
            _ => None,
        }
    }

    /// Whether the request is refused for who is asking (`403`): `kind() == Forbidden`.
    pub fn is_forbidden(&self) -> bool {
        self.kind() == ErrorKind::Forbidden
    }
}

impl fmt::Display for LifecycleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LifecycleError::NotAMember => f.write_str("actingUserId is not a member of the organization"),
            LifecycleError::MayNotCreate { role, scope } => {
                write!(f, "a user with role {role} may not create {scope}-scoped keys")
            }
            LifecycleError::ProjectRequired => {
                f.write_str("a project-scoped key needs scopedProjectId or scopedProjectIds (1-50 projects)")
            }
            LifecycleError::ProjectNotAllowed => {
                f.write_str("an organization-scoped key cannot name a scopedProjectId or scopedProjectIds")
            }
            LifecycleError::ProjectFieldsBoth => {
                f.write_str("scopedProjectIds: give scopedProjectId or scopedProjectIds, not both")
            }
            LifecycleError::InvalidProjects(e) => write!(f, "scopedProjectIds: {e}"),
            LifecycleError::InvalidCidrs(e) => write!(f, "allowedCidrs: {e}"),
            LifecycleError::UnknownPreset { preset, known } => {
                write!(f, "preset {preset:?} is unknown; presets: {}", known.join(", "))
            }
            LifecycleError::MalformedPermissions(names) => {
                write!(
                    f,
                    "permissions must be non-blank names of at most 128 characters: {names:?}"
                )
            }
            LifecycleError::UnknownPermissions(names) => {
                f.write_str("permissions names unknown permissions: ")?;
                for (i, name) in names.iter().enumerate() {
                    let sep = if i == 0 { "" } else { ", " };
                    write!(f, "{sep}{name:?}")?;
                }
                Ok(())
            }
            LifecycleError::BeyondRole { role, permissions } => write!(
                f,
                "permissions go beyond the role {role}: {}",
                permissions.join(", ")
            ),
            LifecycleError::NotYours => {
                f.write_str("only the key's creator or an organization admin may change this key")
            }
            LifecycleError::InvalidId { field } => {
                write!(f, "{field} must be 1-64 characters of A-Z, a-z, 0-9, '_' and '-'")
            }
            LifecycleError::InvalidName => {
                write!(f, "name must be 1-{MAX_NAME_CHARS} characters and not blank")
            }
            LifecycleError::InvalidHint => write!(f, "hint must be 1-{MAX_HINT_CHARS} characters"),
            LifecycleError::InvalidKeyHash => f.write_str("keyHash must be 64 hex digits (SHA-256)"),
            LifecycleError::TimeOutOfRange { field } => {
                write!(f, "{field} must be between the years 2000 and 9999")
            }
            LifecycleError::ExpiryNotInFuture => f.write_str("expiresAt must be in the future"),
            LifecycleError::InvalidGracePeriod => write!(
                f,
                "gracePeriodSeconds must be a whole number of seconds from 0 to {MAX_GRACE_SECONDS} (30 days)"
            ),
            LifecycleError::GraceTooLong { seconds } => write!(
                f,
                "gracePeriodSeconds is at most {MAX_GRACE_SECONDS} (30 days), not {seconds}"
            ),
            LifecycleError::PresetAndPermissions => f.write_str("give preset or permissions, not both"),
            LifecycleError::KeyRevoked => f.write_str("the key is revoked; create a new key instead"),
            LifecycleError::KeyExpired => f.write_str("the key has expired; create a new key instead"),
            LifecycleError::UnknownRole { role, known } => {
                write!(f, "role {role:?} is unknown; roles: {}", known.join(", "))
            }
            LifecycleError::Duplicate { field, first } => {
                write!(f, "{field} repeats that of keys[{first}]")
            }
        }
    }
}

impl core::error::Error for LifecycleError {}

impl Policy {
    /// Whether a member of `role` may manage every key of the organization — revoke or rotate
    /// keys they did not create. That is an admin: a role that may create organization keys.
    pub fn may_manage_every_key(&self, role: &str) -> bool {
        self.may_create_key(role, Scope::Organization)
    }
}

/// An id a request path can name ([`PathId::is_valid`]).
pub(crate) fn check_id(field: &'static str, value: &str) -> Result<(), LifecycleError> {
    if PathId::is_valid(value) {
        Ok(())
    } else {
        Err(LifecycleError::InvalidId { field })
    }
}

/// A name: 1 to [`MAX_NAME_CHARS`] characters, not only whitespace.
pub(crate) fn check_name(name: &str) -> Result<(), LifecycleError> {
    if name.trim().is_empty() || name.chars().count() > MAX_NAME_CHARS {
        Err(LifecycleError::InvalidName)
    } else {
        Ok(())
    }
}

/// A hint: 1 to [`MAX_HINT_CHARS`] characters.
pub(crate) fn check_hint(hint: &str) -> Result<(), LifecycleError> {
    if hint.is_empty() || hint.chars().count() > MAX_HINT_CHARS {
        Err(LifecycleError::InvalidHint)
    } else {
        Ok(())
    }
}

/// A time within [`EARLIEST_TIME`]..=[`LATEST_TIME`].
pub(crate) fn check_time(field: &'static str, at: Option<Timestamp>) -> Result<(), LifecycleError> {
    match at {
        Some(t) if !(EARLIEST_TIME..=LATEST_TIME).contains(&t) => {
            Err(LifecycleError::TimeOutOfRange { field })
        }
        _ => Ok(()),
    }
}

pub(crate) use status::revoked_by;

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::collections::BTreeSet;
    use alloc::vec;

    #[test]
    fn every_rule_has_its_own_code() {
        let errors = vec![
            LifecycleError::NotAMember,
            LifecycleError::MayNotCreate {
                role: "member".into(),
                scope: Scope::Project,
            },
            LifecycleError::ProjectRequired,
            LifecycleError::ProjectNotAllowed,
            LifecycleError::UnknownPreset {
                preset: "x".into(),
                known: Vec::new(),
            },
            LifecycleError::UnknownPermissions(Vec::new()),
            LifecycleError::MalformedPermissions(Vec::new()),
            LifecycleError::BeyondRole {
                role: "member".into(),
                permissions: Vec::new(),
            },
            LifecycleError::NotYours,
            LifecycleError::InvalidId { field: "id" },
            LifecycleError::InvalidName,
            LifecycleError::InvalidHint,
            LifecycleError::InvalidKeyHash,
            LifecycleError::TimeOutOfRange { field: "expiresAt" },
            LifecycleError::ExpiryNotInFuture,
            LifecycleError::InvalidGracePeriod,
            LifecycleError::GraceTooLong { seconds: 1 },
            LifecycleError::PresetAndPermissions,
            LifecycleError::KeyRevoked,
            LifecycleError::KeyExpired,
            LifecycleError::UnknownRole {
                role: "x".into(),
                known: Vec::new(),
            },
            LifecycleError::Duplicate {
                field: "id",
                first: 0,
            },
        ];
        let codes: BTreeSet<&str> = errors.iter().map(LifecycleError::code).collect();
        assert_eq!(codes.len(), errors.len(), "codes are distinct");
        assert!(codes
            .iter()
            .all(|c| c.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')));
        assert_eq!(LifecycleError::NotYours.code(), "not_yours");
        assert_eq!(ErrorKind::Conflict.as_str(), "conflict");
    }
}
