//! The boundary's protocol: the numbers and name lists that both halves of the package read,
//! written only here. JavaScript takes every one of them from the functions below
//! (`npm/js/codec.cjs`), so no number or field list is written on both sides.

use wasm_bindgen::prelude::*;

/// What a decision needs next, or its result. `start*` and every `provide*` return an outcome
/// `step + 8 × payload`: `Allow` carries `filtered + 2 × (role + 256 × permission set)` and
/// `Deny` the denial's number (see `denial`), and both release the slot; the other steps carry
/// 0.
#[wasm_bindgen]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Allowed under a narrow policy: the role and permission set ride in the outcome.
    Allow = 0,
    /// Denied: the outcome carries the denial's number (its body from `denial`).
    Deny = 1,
    /// Look up the key record stored under `lookupHash` and call `provideKey*`.
    LookupKey = 2,
    /// Look up the current role of the key record's `organizationId`/`createdBy` and call
    /// `provideRole`.
    LookupRole = 3,
    /// Look up who owns the resource `lookupResource` names and call `provideResource`.
    LookupResource = 4,
    /// Allowed, and keyscope answers the request itself with the `/me` view: read it with
    /// `finishMe`, then `finishAllowWide`.
    AllowMe = 5,
    /// Allowed, under a policy too wide for one number (more than 40 permissions, or 256 roles
    /// or more): read it with `finishAllowWide`.
    AllowWide = 6,
}

/// An outcome is `step + OUTCOME_RADIX × payload` (see [`Step`]).
pub(crate) const OUTCOME_RADIX: u32 = 8;

/// The boundary's numeric protocol, for the JavaScript codec (`npm/js/codec.cjs`), so that no
/// number is written on both sides: `[outcome radix, role radix]`.
#[wasm_bindgen]
pub fn codec() -> Vec<u32> {
    vec![OUTCOME_RADIX, ROLE_RADIX]
}

/// The fields of a key record in the order `KeyRecord`'s constructor and `provideKeyFields`
/// take them (camelCase, as JavaScript stores name them).
///
/// `controls` is not a field of a stored record: it carries, as one JSON object, the fields a
/// key holds beyond one project (`scopedProjectIds`, `allowedCidrs`, `rateLimit`, `quota`),
/// and is absent for a record with none of them (so the common record crosses no JSON).
pub(crate) const RECORD_FIELDS: [&str; 13] = [
    "id",
    "name",
    "hint",
    "organizationId",
    "createdBy",
    "scope",
    "scopedProjectId",
    "permissions",
    "controls",
    "createdAt",
    "lastUsedAt",
    "revokedAt",
    "expiresAt",
];

/// The record fields, in constructor order.
#[wasm_bindgen(js_name = recordFields)]
pub fn record_fields() -> Vec<String> {
    RECORD_FIELDS.iter().map(|f| (*f).to_owned()).collect()
}

/// The fields of a packed denial (see [`Engine::denial`](crate::Engine::denial)), in order.
pub(crate) const DENIAL_FIELDS: [&str; 4] = ["status", "reason", "message", "wwwAuthenticate"];

/// The fields of a packed denial, in order (joined by `\n`).
#[wasm_bindgen(js_name = denialFields)]
pub fn denial_fields() -> Vec<String> {
    DENIAL_FIELDS.iter().map(|f| (*f).to_owned()).collect()
}

/// The methods `startKnown` takes by number (anything else goes through `start`).
pub(crate) const METHODS: [&str; 7] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

/// The methods `startKnown` takes by number, in order.
#[wasm_bindgen]
pub fn methods() -> Vec<String> {
    METHODS.iter().map(|m| (*m).to_owned()).collect()
}

/// Policies of up to this many permissions (and fewer than [`ROLE_RADIX`] roles) return an
/// allow's role and permission set inside the outcome number: `8 × (filtered + 2 × (role +
/// 256 × set))` stays below 2^53, exact in a double.
pub(crate) const NARROW_PERMISSIONS: usize = 40;

/// Narrow allows carry the role's index below this many roles (`8 × 2 × 256 × 2^40 = 2^52`).
pub(crate) const ROLE_RADIX: u32 = 256;
