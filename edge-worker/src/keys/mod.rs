//! The key service: what the admin API ([`crate::admin`]) and the key console
//! ([`crate::console`]) both do with keys, so that neither surface leans on the other.
//!
//! | module | job |
//! |---|---|
//! | [`lifecycle`] | create, rotate, revoke: read → plan → apply; fresh ids and secrets |
//! | [`view`] | what a key looks like in an answer, and a saved change's `pending` |
//! | [`input`] | bodies, ids, times, query strings (natively tested) |
//! | [`error`] | the reason codes both APIs answer with |
//!
//! Every key change records its audit events in its own D1 batch and, once saved, publishes
//! them ([`crate::events`]).

pub mod error;
pub mod input;
pub mod lifecycle;
pub mod view;

use policy_core::{AuditAction, AuditActor, AuditEvent, AuditSource};
use worker::{Context, Env};

use self::error::{Reason, ServiceError};
use crate::config::Config;
use crate::store::write::Writer;

/// What every key change needs: the request's bindings, configuration and origin.
pub struct Ctx<'a> {
    /// The platform bindings.
    pub env: &'a Env,
    /// The isolate's configuration.
    pub config: &'a Config,
    /// The request's platform context (`wait_until`, for event webhooks).
    pub platform: &'a Context,
    /// Where the request came from, for its audit events.
    pub source: AuditSource,
    /// Which surface made the change (`admin_api`, `console`), recorded in `details.via`.
    pub via: &'static str,
}

impl Ctx<'_> {
    /// The write side of the stores.
    pub fn writer(&self) -> Result<Writer, ServiceError> {
        Ok(Writer::open(self.env, self.config.store)?)
    }

    /// A new audit event of this request, by `actor`, at `at`.
    pub fn event(
        &self,
        org: &str,
        action: AuditAction,
        actor: AuditActor,
        at: policy_core::Timestamp,
    ) -> Result<AuditEvent, ServiceError> {
        crate::events::event(org, action, actor, self.source.clone(), at)
            .map_err(|e| ServiceError::new(Reason::Unavailable, format!("{e}; nothing was changed")))
    }

    /// Publishes saved events as webhooks, after the answer.
    pub fn publish(&self, events: &[AuditEvent]) {
        crate::events::publish(self.config, self.platform, events);
    }
}
