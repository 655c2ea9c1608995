//! A finished decision's outcome: the number `start*` and `provide*` return (an allow's role
//! and permission set ride in it under a narrow policy), the wide and `/me` allows read with
//! `finishAllowWide` / `finishMe`, and denials numbered once so JavaScript caches their bodies.

use policy_core::{Cause, Decision as CoreDecision, Exceeded, KeyError};
use wasm_bindgen::prelude::*;

use crate::engine::Engine;
use crate::protocol::{Step, OUTCOME_RADIX, ROLE_RADIX};

#[wasm_bindgen]
impl Engine {
    /// At `AllowMe`: the `/me` view as a JSON body (the slot stays until `finishAllowWide`).
    #[wasm_bindgen(js_name = finishMe)]
    pub fn finish_me(&self, slot: u32) -> Option<String> {
        self.auth(slot)?.me().map(|me| me.to_json())
    }

    /// At `AllowMe` / `AllowWide`: `[filtered, role, w0, …, w7]` — whether the project filter
    /// (the key record's project) applies, the index in `roles` of the role the key acted with,
    /// and the effective permission set as eight 32-bit words, lowest first (bit `i % 32` of
    /// word `i / 32` = `permissions[i]`); `undefined` if the decision is not an allow. Releases
    /// the slot.
    #[wasm_bindgen(js_name = finishAllowWide)]
    pub fn finish_allow_wide(&mut self, slot: u32) -> Option<Vec<u32>> {
        let (filtered, role, set) = self.take_allow(slot)?;
        let mut out = vec![u32::from(filtered), role];
        for word in set {
            out.push(word as u32);
            out.push((word >> 32) as u32);
        }
        Some(out)
    }

    /// At `Deny`: the number of the denial, whose body `denial(n)` gives (the same number for
    /// the same denial, so callers cache them). Releases the slot.
    #[wasm_bindgen(js_name = finishDeny)]
    pub fn finish_deny(&mut self, slot: u32) -> u32 {
        let unavailable = policy_core::Denial::unavailable();
        let (key, packed) = {
            let denial = match self.auth(slot).and_then(|a| a.decision()) {
                Some(CoreDecision::Deny(denial)) => denial,
                // Asked too early or for an allowed decision: never an allow by mistake.
                _ => unavailable,
            };
            let key = denial_key(denial.cause());
            // Only a denial not seen before is written out.
            let seen = self.denials.iter().position(|(k, _)| *k == key);
            (key, seen.ok_or_else(|| pack_denial(&denial)))
        };
        self.release(slot);
        match packed {
            Ok(n) => n as u32,
            Err(packed) => {
                self.denials.push((key, packed));
                (self.denials.len() - 1) as u32
            }
        }
    }

    /// Denial number `n` as `status\nreason\nmessage\nwww-authenticate` (the last empty unless
    /// 401); the `503 unavailable` denial for an unknown number.
    pub fn denial(&self, n: u32) -> String {
        match self.denials.get(n as usize) {
            Some((_, packed)) => packed.clone(),
            None => pack_denial(&policy_core::Denial::unavailable()),
        }
    }
}

/// What makes two denials' bodies the same, computed without writing them out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DenialKey {
    /// A cause without data, by its position in this list.
    Plain(u8),
    /// A malformed key (the message depends on the error).
    Malformed(KeyError),
    /// A missing permission, by its index in the policy's permissions.
    Permission(usize),
    /// Rate limited, retry after this many seconds, by this limit.
    RateLimited(u32, Exceeded),
}

/// The key a denial's body is cached under.
fn denial_key(cause: Cause<'_>) -> DenialKey {
    match cause {
        Cause::Malformed(error) => DenialKey::Malformed(error),
        Cause::MissingPermission(permission) => DenialKey::Permission(permission.index()),
        Cause::RateLimited { retry_after, limit } => DenialKey::RateLimited(retry_after, limit),
        Cause::NoKey => DenialKey::Plain(0),
        Cause::ConflictingHeaders => DenialKey::Plain(1),
        Cause::UnknownKey => DenialKey::Plain(2),
        Cause::Revoked => DenialKey::Plain(3),
        Cause::Expired => DenialKey::Plain(4),
        Cause::CreatorRemoved => DenialKey::Plain(5),
        Cause::UnknownEndpoint => DenialKey::Plain(6),
        Cause::OrganizationEndpoint => DenialKey::Plain(7),
        Cause::OtherProject => DenialKey::Plain(8),
        Cause::OtherOrganization => DenialKey::Plain(15),
        Cause::OwnUserOnly => DenialKey::Plain(16),
        Cause::ResourceNotVisible => DenialKey::Plain(9),
        Cause::StoreUnavailable => DenialKey::Plain(10),
        Cause::StoreInconsistent => DenialKey::Plain(11),
        Cause::OriginUnreachable => DenialKey::Plain(12),
        Cause::Misconfigured => DenialKey::Plain(13),
        Cause::BodyNotAllowed => DenialKey::Plain(14),
        Cause::AddressNotAllowed => DenialKey::Plain(17),
    }
}

/// A denial's body as `status\nreason\nmessage\nwww-authenticate` (`DENIAL_FIELDS` order).
fn pack_denial(denial: &policy_core::Denial<'_>) -> String {
    format!(
        "{}\n{}\n{}\n{}",
        denial.status(),
        denial.reason().code(),
        denial.message(),
        denial.www_authenticate().unwrap_or("")
    )
}

impl Engine {
    /// `step + 8 × payload`: an allow under a narrow policy carries `filtered + 2 × (role + 256 ×
    /// set)`, a denial its number (see `denial`); both release the slot. Lookups, and the allows
    /// read with `finishAllowWide`, carry nothing.
    pub(crate) fn outcome(&mut self, slot: u32, step: Step) -> f64 {
        let payload = match step {
            Step::Allow if !self.narrow => return f64::from(Step::AllowWide as u8),
            Step::Allow => match self.take_allow(slot) {
                // INVARIANT: narrow sets are below 2^40 and roles below 256: this double is exact.
                Some((filtered, role, set)) => {
                    f64::from(u8::from(filtered))
                        + 2.0 * (f64::from(role) + f64::from(ROLE_RADIX) * set[0] as f64)
                }
                None => return self.outcome(slot, Step::Deny),
            },
            Step::Deny => f64::from(self.finish_deny(slot)),
            _ => 0.0,
        };
        f64::from(step as u8) + f64::from(OUTCOME_RADIX) * payload
    }

    /// An allow's project filter flag, role index and permission set; releases the slot.
    fn take_allow(
        &mut self,
        slot: u32,
    ) -> Option<(bool, u32, [u64; policy_core::policy::permissions::WORDS])> {
        let out = {
            let allow = self.auth(slot)?.decision()?.allowed()?;
            (
                allow.project_filter.is_some(),
                allow.role_id.index() as u32,
                allow.effective_permissions.words(),
            )
        };
        self.release(slot);
        Some(out)
    }
}
