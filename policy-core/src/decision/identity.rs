//! The identity an allowed request carries to the origin (SPEC "What the origin receives"):
//! the header names, and which headers a client may never send.

/// The prefix of every identity header; a client-sent header with it is dropped.
pub const IDENTITY_HEADER_PREFIX: &str = "x-keyscope-";
/// Identity header: the key id.
pub const IDENTITY_KEY_ID: &str = "X-Keyscope-Key-Id";
/// Identity header: the organization.
pub const IDENTITY_ORGANIZATION_ID: &str = "X-Keyscope-Organization-Id";
/// Identity header: the key's creator.
pub const IDENTITY_USER_ID: &str = "X-Keyscope-User-Id";
/// Identity header: the creator's current role.
pub const IDENTITY_ROLE: &str = "X-Keyscope-Role";
/// Identity header: the key's scope.
pub const IDENTITY_SCOPE: &str = "X-Keyscope-Scope";
/// Identity header: the project to filter to, on "filtered" rows.
pub const IDENTITY_PROJECT_FILTER: &str = "X-Keyscope-Project-Filter";

/// Whether a header (any case) is one the edge sets itself and a client may never send.
pub fn is_identity_header(name: &str) -> bool {
    name.as_bytes()
        .get(..IDENTITY_HEADER_PREFIX.len())
        .is_some_and(|start| start.eq_ignore_ascii_case(IDENTITY_HEADER_PREFIX.as_bytes()))
}
