//! # keyscope-audit — the audit trail as data
//!
//! What happened to a key or a membership, who did it, when, and from where. Plain data, no
//! I/O, `no_std` + `alloc`. Times are Unix milliseconds ([`Timestamp`]) as stored; an API view
//! formats them as RFC 3339. An event is written in the same store batch as the change it
//! records, so one never exists without the other.
//!
//! The stored form ([`AuditEvent`]'s JSON) tolerates fields it does not know: a log written by a
//! newer version during a gradual deployment (or read after a rollback) still lists. What a
//! request asks for (an action name, an actor, a cursor) is parsed strictly.
#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

extern crate alloc;

use alloc::format;
use alloc::string::{String, ToString};
use core::fmt;
use core::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use policy_core::Timestamp;

/// Why a key was revoked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RevokeCause {
    /// A member or the service token revoked it through the admin API or console.
    User,
    /// A rotation's grace period ended (the revocation was scheduled by the rotation).
    RotationGraceEnded,
    /// A verified secret-scanning report.
    LeakReport,
}

impl RevokeCause {
    /// `user`, `rotation_grace_ended` or `leak_report`.
    pub const fn as_str(self) -> &'static str {
        match self {
            RevokeCause::User => "user",
            RevokeCause::RotationGraceEnded => "rotation_grace_ended",
            RevokeCause::LeakReport => "leak_report",
        }
    }

    /// Parses [`RevokeCause::as_str`]'s names.
    pub fn from_name(name: &str) -> Option<RevokeCause> {
        [
            RevokeCause::User,
            RevokeCause::RotationGraceEnded,
            RevokeCause::LeakReport,
        ]
        .into_iter()
        .find(|cause| cause.as_str() == name)
    }
}

/// What happened. Written as `key.created`, `member.role_changed`, … with, for
/// `key.revoked`, a separate `cause`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AuditAction {
    /// A key was created.
    KeyCreated,
    /// A key was rotated (the event names the old key; details carry the new key's id).
    KeyRotated,
    /// A key was revoked, and why.
    KeyRevoked(RevokeCause),
    /// A key was imported by hash.
    KeyImported,
    /// A key was reported leaked and marked, not revoked (`KEYSCOPE_ON_LEAK=flag`).
    KeyLeakFlagged,
    /// A user became a member of the organization.
    MemberAdded,
    /// A member's role changed.
    MemberRoleChanged,
    /// A member left or was removed.
    MemberRemoved,
    /// A key expires soon: sent once 7 days and once 1 day before its `expiresAt`.
    KeyExpiring,
    /// A rotated key's grace period ends within the hour: it stops working then.
    KeyRotationGraceEnding,
    /// An event's webhook could not be delivered: every try of the retry schedule failed, and
    /// the delivery went to the dead-letter queue (the event names the undelivered one in its
    /// details). Never delivered itself.
    EventDeliveryFailed,
    /// A key's address allow-list or limits changed (the details hold them as they now are).
    KeyControlsChanged,
}

/// Every action name, in the order of [`AuditAction`]: for filters and documentation.
pub const ACTION_NAMES: [&str; 12] = [
    "key.created",
    "key.rotated",
    "key.revoked",
    "key.imported",
    "key.leak_flagged",
    "member.added",
    "member.role_changed",
    "member.removed",
    "key.expiring",
    "key.rotation_grace_ending",
    "event.delivery_failed",
    "key.controls_changed",
];

/// An action name or cause that is not one of ours, or a cause where none belongs.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuditParseError {
    /// Not one of [`ACTION_NAMES`].
    UnknownAction,
    /// `key.revoked` without a known cause, or a cause on another action.
    BadCause,
    /// An actor not of the form `user:<id>`, `service_token` or `scanner:<name>`.
    BadActor,
    /// A pagination cursor this API did not issue.
    BadCursor,
}

impl fmt::Display for AuditParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AuditParseError::UnknownAction => "unknown audit action",
            AuditParseError::BadCause => {
                "key.revoked needs a cause (user, rotation_grace_ended, leak_report); other actions take none"
            }
            AuditParseError::BadActor => "an actor is user:<id>, service_token, scanner:<name> or system",
            AuditParseError::BadCursor => "the cursor was not issued by this API",
        })
    }
}

impl core::error::Error for AuditParseError {}

impl AuditAction {
    /// The action's name, e.g. `key.revoked` (the cause is separate: [`AuditAction::cause`]).
    pub const fn as_str(self) -> &'static str {
        match self {
            AuditAction::KeyCreated => "key.created",
            AuditAction::KeyRotated => "key.rotated",
            AuditAction::KeyRevoked(_) => "key.revoked",
            AuditAction::KeyImported => "key.imported",
            AuditAction::KeyLeakFlagged => "key.leak_flagged",
            AuditAction::MemberAdded => "member.added",
            AuditAction::MemberRoleChanged => "member.role_changed",
            AuditAction::MemberRemoved => "member.removed",
            AuditAction::KeyExpiring => "key.expiring",
            AuditAction::KeyRotationGraceEnding => "key.rotation_grace_ending",
            AuditAction::EventDeliveryFailed => "event.delivery_failed",
            AuditAction::KeyControlsChanged => "key.controls_changed",
        }
    }

    /// The revocation cause, for `key.revoked`.
    pub const fn cause(self) -> Option<RevokeCause> {
        match self {
            AuditAction::KeyRevoked(cause) => Some(cause),
            _ => None,
        }
    }

    /// Whether the action is about a key (and so the event carries a key id).
    pub const fn is_key_event(self) -> bool {
        matches!(
            self,
            AuditAction::KeyCreated
                | AuditAction::KeyRotated
                | AuditAction::KeyRevoked(_)
                | AuditAction::KeyImported
                | AuditAction::KeyLeakFlagged
                | AuditAction::KeyExpiring
                | AuditAction::KeyRotationGraceEnding
        )
    }

    /// Rebuilds an action from its stored name and cause.
    pub fn from_parts(name: &str, cause: Option<&str>) -> Result<AuditAction, AuditParseError> {
        let action = match name {
            "key.created" => AuditAction::KeyCreated,
            "key.rotated" => AuditAction::KeyRotated,
            "key.revoked" => {
                let cause = cause
                    .and_then(RevokeCause::from_name)
                    .ok_or(AuditParseError::BadCause)?;
                return Ok(AuditAction::KeyRevoked(cause));
            }
            "key.imported" => AuditAction::KeyImported,
            "key.leak_flagged" => AuditAction::KeyLeakFlagged,
            "member.added" => AuditAction::MemberAdded,
            "member.role_changed" => AuditAction::MemberRoleChanged,
            "member.removed" => AuditAction::MemberRemoved,
            "key.expiring" => AuditAction::KeyExpiring,
            "key.rotation_grace_ending" => AuditAction::KeyRotationGraceEnding,
            "event.delivery_failed" => AuditAction::EventDeliveryFailed,
            "key.controls_changed" => AuditAction::KeyControlsChanged,
            _ => return Err(AuditParseError::UnknownAction),
        };
        match cause {
            None => Ok(action),
            Some(_) => Err(AuditParseError::BadCause),
        }
    }
}

impl fmt::Display for AuditAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who did it. Written as one string — `user:<id>`, `service_token`, `scanner:<name>`, `system` — which is
/// also the form of the API's `actor` filter and of the store column.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum AuditActor {
    /// A member acting through the admin API (on behalf of) or the console.
    User(String),
    /// The deployment's admin service token, acting on no user's behalf.
    ServiceToken,
    /// A secret scanner, by name (`github`).
    Scanner(String),
    /// keyscope itself (a delivery that ran out of tries).
    System,
}

impl fmt::Display for AuditActor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuditActor::User(id) => write!(f, "user:{id}"),
            AuditActor::ServiceToken => f.write_str("service_token"),
            AuditActor::Scanner(name) => write!(f, "scanner:{name}"),
            AuditActor::System => f.write_str("system"),
        }
    }
}

impl FromStr for AuditActor {
    type Err = AuditParseError;

    fn from_str(text: &str) -> Result<AuditActor, AuditParseError> {
        match text {
            "service_token" => return Ok(AuditActor::ServiceToken),
            "system" => return Ok(AuditActor::System),
            _ => {}
        }
        match text.split_once(':') {
            Some(("user", id)) if !id.is_empty() => Ok(AuditActor::User(id.to_string())),
            Some(("scanner", name)) if !name.is_empty() => Ok(AuditActor::Scanner(name.to_string())),
            _ => Err(AuditParseError::BadActor),
        }
    }
}

impl Serialize for AuditActor {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for AuditActor {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<AuditActor, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// Where the change came from: the request's client, or the leak's location. Stored inside the
/// event; fields a newer version adds are ignored on reading.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditSource {
    /// The client's IP address (`CF-Connecting-IP`), if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    /// The request's `User-Agent`, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    /// For a leak: where the token was found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leak_url: Option<String>,
    /// For a leak: the kind of place (`content`, `commit`, `npm`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leak_source: Option<String>,
}

/// One audit event, as stored and as the API lists it (camelCase; `time` in Unix ms here — the
/// API view formats it as RFC 3339).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "EventWire", into = "EventWire")]
pub struct AuditEvent {
    /// Unique event id (the adapter makes it, e.g. `evt_` + random).
    pub id: String,
    /// The organization the event belongs to.
    pub organization_id: String,
    /// What happened.
    pub action: AuditAction,
    /// Who did it.
    pub actor: AuditActor,
    /// When.
    pub time: Timestamp,
    /// The key concerned (key events).
    pub key_id: Option<String>,
    /// The key's hint (its last four characters), so a reader can tell keys apart.
    pub key_hint: Option<String>,
    /// The member concerned (member events).
    pub user_id: Option<String>,
    /// Where it came from.
    pub source: AuditSource,
    /// Action-specific facts (a rotation's new key id and grace period, a role change's old and
    /// new role, …); an empty object when there are none.
    pub details: serde_json::Map<String, serde_json::Value>,
}

/// The flat serialized form: `action` and `cause` as two strings. Fields it does not know (what
/// a newer version writes) are ignored, so a stored log survives a rollout and a rollback.
#[derive(Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct EventWire {
    id: String,
    organization_id: String,
    action: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cause: Option<String>,
    actor: AuditActor,
    time: Timestamp,
    #[serde(default)]
    key_id: Option<String>,
    #[serde(default)]
    key_hint: Option<String>,
    #[serde(default)]
    user_id: Option<String>,
    #[serde(default)]
    source: AuditSource,
    #[serde(default)]
    details: serde_json::Map<String, serde_json::Value>,
}

impl TryFrom<EventWire> for AuditEvent {
    type Error = AuditParseError;

    fn try_from(wire: EventWire) -> Result<AuditEvent, AuditParseError> {
        Ok(AuditEvent {
            action: AuditAction::from_parts(&wire.action, wire.cause.as_deref())?,
            id: wire.id,
            organization_id: wire.organization_id,
            actor: wire.actor,
            time: wire.time,
            key_id: wire.key_id,
            key_hint: wire.key_hint,
            user_id: wire.user_id,
            source: wire.source,
            details: wire.details,
        })
    }
}

impl From<AuditEvent> for EventWire {
    fn from(event: AuditEvent) -> EventWire {
        EventWire {
            action: event.action.as_str().to_string(),
            cause: event.action.cause().map(|cause| cause.as_str().to_string()),
            id: event.id,
            organization_id: event.organization_id,
            actor: event.actor,
            time: event.time,
            key_id: event.key_id,
            key_hint: event.key_hint,
            user_id: event.user_id,
            source: event.source,
            details: event.details,
        }
    }
}

/// The largest page the audit listing returns; also its default.
pub const MAX_PAGE_SIZE: usize = 100;

/// Filters of `GET …/audit-events`. Every filter set must match; the time range is
/// `[from, to)`. The adapter turns this into its store query.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// Only events about this key.
    pub key_id: Option<String>,
    /// Only events by this actor.
    pub actor: Option<AuditActor>,
    /// Only events with this action name (`key.revoked` matches every cause).
    pub action: Option<&'static str>,
    /// Only events at or after this time.
    pub from: Option<Timestamp>,
    /// Only events before this time.
    pub to: Option<Timestamp>,
}

impl AuditFilter {
    /// Parses an action filter value into its canonical name.
    pub fn action_name(text: &str) -> Result<&'static str, AuditParseError> {
        ACTION_NAMES
            .into_iter()
            .find(|name| *name == text)
            .ok_or(AuditParseError::UnknownAction)
    }
}

/// Where the next page starts. Pages run newest first, ordered by `(time, id)` descending; the
/// cursor is the last event shown, so the next page holds events strictly before it, written
/// `<time ms>.<event id>`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AuditCursor {
    /// The last shown event's time.
    pub time: Timestamp,
    /// The last shown event's id.
    pub id: String,
}

/// The longest cursor accepted, in characters.
const MAX_CURSOR_LEN: usize = 512;

impl AuditCursor {
    /// The cursor after `event`.
    pub fn after(event: &AuditEvent) -> AuditCursor {
        AuditCursor {
            time: event.time,
            id: event.id.clone(),
        }
    }

    /// The form given to clients as `nextCursor`: `<unix ms>.<event id>`, e.g.
    /// `1764000000123.evt_0a1b`. It is a position in the listing order, not a secret: any
    /// well-formed position is a valid cursor (`openapi.json` states its pattern exactly).
    pub fn encode(&self) -> String {
        format!("{}.{}", self.time.millis(), self.id)
    }

    /// Reads a cursor back: a canonical integer (no `+`, no leading zeros), a `.`, and an event
    /// id of 1–64 characters of `A-Z a-z 0-9 _ -`; anything else is
    /// [`AuditParseError::BadCursor`].
    pub fn decode(text: &str) -> Result<AuditCursor, AuditParseError> {
        if text.len() > MAX_CURSOR_LEN {
            return Err(AuditParseError::BadCursor);
        }
        let (millis, id) = text.split_once('.').ok_or(AuditParseError::BadCursor)?;
        let millis: i64 = millis.parse().map_err(|_| AuditParseError::BadCursor)?;
        let id_ok = !id.is_empty()
            && id.len() <= 64
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        let cursor = AuditCursor {
            time: Timestamp(millis),
            id: id.to_string(),
        };
        // Only the exact text `encode` makes is accepted (no `+5` or `007`).
        if !id_ok || cursor.encode() != text {
            return Err(AuditParseError::BadCursor);
        }
        Ok(cursor)
    }
}
