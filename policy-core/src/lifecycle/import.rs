//! Importing keys by hash, to migrate from another system without seeing their secrets.
//!
//! A migration carries state, but garbage is not state. Kept as they are: revocations and
//! expiries in the past (the key answers `key_revoked`), creators who are not members (their
//! keys answer `key_revoked` until they are), keys beyond the creator's current role (made
//! before a downgrade: the key acts with the current role, never more), permission names the
//! policy does not define (granted by an older policy or another system: they grant nothing),
//! any order of the times. Refused: malformed ids, hashes, names and hints; a project on an
//! organization key or none on a project key; empty, blank or control-character permission
//! names; times outside the years 2000–9999; an id or hash given twice.

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use super::{
    check_hint, check_id, check_name, check_scope_project, check_time, ControlsAsk, ErrorKind,
    LifecycleError, MAX_IMPORT_KEYS,
};
use crate::key::record::{KeyRecord, Scope, Timestamp};
use crate::key::KeyHash;
use crate::policy::Policy;

/// One key to import, as the caller parsed it, with the creator's current role read from the
/// store.
#[derive(Clone, Copy, Debug)]
pub struct ImportedKey<'a> {
    /// The key's id: the one given, or a fresh one the caller made when none was given.
    pub id: &'a str,
    /// SHA-256 of the whole key string, as 64 hexadecimal digits (either case).
    pub key_hash: &'a str,
    /// The key's hint (1–8 characters).
    pub hint: &'a str,
    /// The key's name (1–100 characters, not blank).
    pub name: &'a str,
    /// The user who created the key.
    pub created_by: &'a str,
    /// The creator's current role in the organization, `None` if they are not a member (a role
    /// the policy does not define counts as none: such keys are denied `503` at the edge anyway).
    pub creator_role: Option<&'a str>,
    /// The key's scope.
    pub scope: Scope,
    /// The key's controls: its projects (exactly for project keys), allow-list and limits.
    pub controls: ControlsAsk<'a>,
    /// Explicit grants, or `None` to inherit the creator's role.
    pub permissions: Option<&'a [String]>,
    /// When the key was created (`None`: `now`).
    pub created_at: Option<Timestamp>,
    /// When the key was last used.
    pub last_used_at: Option<Timestamp>,
    /// When the key was or will be revoked (may be past).
    pub revoked_at: Option<Timestamp>,
    /// When the key expires (may be past).
    pub expires_at: Option<Timestamp>,
}

/// One imported key, ready to store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlannedImport {
    /// The lookup hash.
    pub hash: KeyHash,
    /// The record.
    pub record: KeyRecord,
}

/// Why an import was refused (as a whole: an import is all or nothing). The data is refused,
/// not the caller: an invalid request (`400`), or a conflict (`409`) for an id or hash given
/// twice — as for one already stored.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ImportError {
    /// No keys were given.
    Empty,
    /// More than [`MAX_IMPORT_KEYS`] keys were given.
    TooMany {
        /// How many were given.
        given: usize,
    },
    /// The key at `index` breaks a rule.
    Key {
        /// Its index in the import (`keys[index]`).
        index: usize,
        /// The rule it breaks.
        error: LifecycleError,
    },
}

impl ImportError {
    /// [`ErrorKind::Conflict`] for an id or hash given twice, else [`ErrorKind::Invalid`] (even
    /// for a rule that is a `403` when a user acts: no user acts in an import).
    pub fn kind(&self) -> ErrorKind {
        match self {
            ImportError::Key { error, .. } if error.kind() == ErrorKind::Conflict => ErrorKind::Conflict,
            _ => ErrorKind::Invalid,
        }
    }

    /// The rule that refused: `import_size` for an empty or too large import, else the code of
    /// the key's rule ([`LifecycleError::code`]).
    pub const fn code(&self) -> &'static str {
        match self {
            ImportError::Empty | ImportError::TooMany { .. } => "import_size",
            ImportError::Key { error, .. } => error.code(),
        }
    }
}

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ImportError::Empty | ImportError::TooMany { .. } => {
                write!(f, "keys holds 1 to {MAX_IMPORT_KEYS} keys")
            }
            // `keys[1].keyHash must be …` when the error names its field, else `keys[1]: …`.
            ImportError::Key { index, error } => match error.field() {
                Some(_) => write!(f, "keys[{index}].{error}"),
                None => write!(f, "keys[{index}]: {error}"),
            },
        }
    }
}

impl core::error::Error for ImportError {}

impl Policy {
    /// Plans an import into `organization_id`: the records to store with their hashes, in the
    /// order given, or the first key (by index) that breaks a rule (see the module's rules).
    pub fn plan_import(
        &self,
        organization_id: &str,
        keys: &[ImportedKey<'_>],
        now: Timestamp,
    ) -> Result<Vec<PlannedImport>, ImportError> {
        if keys.is_empty() {
            return Err(ImportError::Empty);
        }
        if keys.len() > MAX_IMPORT_KEYS {
            return Err(ImportError::TooMany { given: keys.len() });
        }
        let mut planned: Vec<PlannedImport> = Vec::with_capacity(keys.len());
        for (index, key) in keys.iter().enumerate() {
            let at = |error| ImportError::Key { index, error };
            check_id("organizationId", organization_id).map_err(at)?;
            let entry = self.plan_one(organization_id, key, now).map_err(at)?;
            let earlier = |same: &dyn Fn(&PlannedImport) -> bool| planned.iter().position(same);
            if let Some(first) = earlier(&|p| p.record.id == entry.record.id) {
                return Err(at(LifecycleError::Duplicate { field: "id", first }));
            }
            if let Some(first) = earlier(&|p| p.hash == entry.hash) {
                return Err(at(LifecycleError::Duplicate {
                    field: "keyHash",
                    first,
                }));
            }
            planned.push(entry);
        }
        Ok(planned)
    }

    fn plan_one(
        &self,
        organization_id: &str,
        key: &ImportedKey<'_>,
        now: Timestamp,
    ) -> Result<PlannedImport, LifecycleError> {
        check_id("id", key.id)?;
        let hash = Some(key.key_hash)
            .filter(|h| h.len() == 64)
            .and_then(KeyHash::from_hex)
            .ok_or(LifecycleError::InvalidKeyHash)?;
        check_hint(key.hint)?;
        check_name(key.name)?;
        check_id("createdBy", key.created_by)?;
        let controls = key.controls.check()?;
        check_scope_project(key.scope, &controls.projects)?;
        check_time("createdAt", key.created_at)?;
        check_time("lastUsedAt", key.last_used_at)?;
        check_time("revokedAt", key.revoked_at)?;
        check_time("expiresAt", key.expires_at)?;
        if let Some(names) = key.permissions {
            // Unknown names are state (a permission an older policy had grants nothing now);
            // an empty or blank name, or one with control characters, is garbage.
            let garbage: Vec<String> = names
                .iter()
                .filter(|n| n.trim().is_empty() || n.len() > 128 || n.chars().any(char::is_control))
                .cloned()
                .collect();
            if !garbage.is_empty() {
                return Err(LifecycleError::MalformedPermissions(garbage));
            }
        }
        let permissions = key.permissions.map(<[String]>::to_vec);
        Ok(PlannedImport {
            hash,
            record: KeyRecord {
                id: key.id.to_string(),
                name: key.name.to_string(),
                hint: key.hint.to_string(),
                organization_id: organization_id.to_string(),
                created_by: key.created_by.to_string(),
                scope: key.scope,
                scoped_project_ids: controls.projects,
                allowed_cidrs: controls.allowed_cidrs,
                rate_limit: controls.rate_limit,
                quota: controls.quota,
                permissions,
                created_at: key.created_at.unwrap_or(now),
                last_used_at: key.last_used_at,
                revoked_at: key.revoked_at,
                expires_at: key.expires_at,
            },
        })
    }
}
