//! The key service: what the admin API ([`crate::admin`]) and the key console
//! ([`crate::console`]) both do with keys, so that neither surface leans on the other.
//!
//! | module | job |
//! |---|---|
//! | [`lifecycle`] | create, rotate, revoke, change controls: read → plan → apply; fresh ids and secrets |
//! | this file | what a change needs ([`Ctx`]); a plan's audit facts as stored events |
//! | [`view`] | what a key looks like in an answer, and a saved change's `pending` |
//! | [`usage`] | a key's usage: the range asked for, its buckets |
//! | [`input`] | bodies, ids, times, query strings (natively tested) |
//! | [`error`] | the reason codes both APIs answer with |
//!
//! Every key change records its audit events in its own D1 batch and, once saved, publishes
//! them ([`crate::events`]).

pub mod error;
pub mod input;
pub mod lifecycle;
pub mod usage;
pub mod view;

use keyscope_audit::{AuditAction, AuditActor, AuditEvent, AuditSource, RevokeCause};
use policy_core::{Fact, FactAction, FactActor, FactCause, FactDetail};
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
        Ok(Writer::open(self.env, self.config)?)
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

    /// The audit event of a fact a plan implies (policy-core says what happened, who did it and
    /// its details): this request's event id, source and surface (`details.via`), at `at`.
    pub fn event_of(&self, fact: &Fact, at: policy_core::Timestamp) -> Result<AuditEvent, ServiceError> {
        let mut event = self.event(
            &fact.organization_id,
            action_of(fact.action)?,
            actor_of(&fact.actor),
            at,
        )?;
        if let Some((id, hint)) = &fact.key {
            event.key_id = Some(id.clone());
            event.key_hint = Some(hint.clone());
        }
        event.user_id.clone_from(&fact.user_id);
        for (name, value) in &fact.details {
            let value = match value {
                FactDetail::Text(text) => serde_json::Value::String(text.clone()),
                FactDetail::Time(t) => serde_json::Value::String(crate::clock::format_time(*t)),
                FactDetail::Seconds(s) => serde_json::Value::from(*s),
                FactDetail::Count(n) => serde_json::Value::from(*n),
                FactDetail::List(items) => serde_json::Value::from(items.clone()),
                FactDetail::Null => serde_json::Value::Null,
            };
            event.details.insert((*name).to_owned(), value);
        }
        event
            .details
            .insert("via".into(), serde_json::Value::String(self.via.into()));
        Ok(event)
    }

    /// [`Ctx::event_of`] for each fact, in order.
    pub fn events_of(
        &self,
        facts: &[Fact],
        at: policy_core::Timestamp,
    ) -> Result<Vec<AuditEvent>, ServiceError> {
        facts.iter().map(|fact| self.event_of(fact, at)).collect()
    }

    /// Publishes saved events as webhooks, after the answer.
    pub fn publish(&self, events: &[AuditEvent]) {
        crate::events::publish(self.env, self.config, self.platform, events);
    }
}

/// The stored action of a fact's.
fn action_of(action: FactAction) -> Result<AuditAction, ServiceError> {
    Ok(match action {
        FactAction::KeyCreated => AuditAction::KeyCreated,
        FactAction::KeyRotated => AuditAction::KeyRotated,
        FactAction::KeyRevoked(FactCause::User) => AuditAction::KeyRevoked(RevokeCause::User),
        FactAction::KeyRevoked(FactCause::RotationGraceEnded) => {
            AuditAction::KeyRevoked(RevokeCause::RotationGraceEnded)
        }
        FactAction::KeyImported => AuditAction::KeyImported,
        FactAction::KeyControlsChanged => AuditAction::KeyControlsChanged,
        FactAction::MemberAdded => AuditAction::MemberAdded,
        FactAction::MemberRoleChanged => AuditAction::MemberRoleChanged,
        FactAction::MemberRemoved => AuditAction::MemberRemoved,
        // A fact this build cannot record: nothing is changed rather than left unrecorded.
        _ => {
            return Err(ServiceError::new(
                Reason::Unavailable,
                "the change implies an audit event this build cannot record; nothing was changed",
            ))
        }
    })
}

/// The stored actor of a fact's.
fn actor_of(actor: &FactActor) -> AuditActor {
    match actor {
        FactActor::User(id) => AuditActor::User(id.clone()),
        FactActor::ServiceToken => AuditActor::ServiceToken,
    }
}
