//! Where everything lives, named once: the bindings, the KV key names, the Durable Object
//! addresses and the D1 queries. Every other module refers to these names.

/// The KV namespace binding (hot-path projections of D1 rows).
pub const KV_BINDING: &str = "KEYS";
/// The D1 binding (the source of truth).
pub const D1_BINDING: &str = "DB";
/// The Durable Object binding: one object per key id holds the key's mutable state (revocation,
/// the creator's current role) and its rate-limit window.
pub const KEY_STATE_BINDING: &str = "KEY_STATE";

/// KV: the projection of the key with this SHA-256 (lowercase hex).
pub fn kv_key(hash_hex: &str) -> String {
    format!("key:{hash_hex}")
}

/// KV: an organization's limits (policy-core's `OrganizationLimits` JSON).
pub fn kv_organization(organization_id: &str) -> String {
    format!("org:{organization_id}")
}

/// KV: the owner of a resource.
pub fn kv_resource(kind: &str, id: &str) -> String {
    format!("res:{kind}:{id}")
}

/// The columns of a key row joined with its creator's membership: the only select that
/// becomes a `KeyRecord` (see `rows.rs`).
pub const KEY_ROW_SELECT: &str = "SELECT k.*, m.role AS creator_role FROM api_keys k LEFT JOIN members m \
     ON m.organization_id = k.organization_id AND m.user_id = k.created_by";

/// A key's mutable state, read by its Durable Object: `?1` = key id.
pub const KEY_STATE_SELECT: &str = "SELECT k.revoked_at, k.controls, m.role AS creator_role FROM api_keys k \
     LEFT JOIN members m ON m.organization_id = k.organization_id AND m.user_id = k.created_by \
     WHERE k.id = ?1";

/// `lastUsedAt` is written at most this often per key.
pub const LAST_USED_EVERY_MS: i64 = 60_000;

/// Inserts a key row; parameters from `rows::key_insert_params`.
pub const KEY_INSERT: &str =
    "INSERT INTO api_keys (id, key_hash, organization_id, created_by, name, hint, scope, \
     scoped_project_id, permissions, created_at, last_used_at, revoked_at, expires_at, controls) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)";

/// Sets a key's controls (`rows::controls_param`): `?1` id, `?2` the JSON or NULL.
pub const KEY_CONTROLS_UPDATE: &str = "UPDATE api_keys SET controls = ?2 WHERE id = ?1";

/// Sets a key's revocation time: `?1` id, `?2` the time (the plan decided it; never later
/// than an existing revocation — policy-core's rule).
pub const KEY_REVOKE: &str = "UPDATE api_keys SET revoked_at = ?2 WHERE id = ?1";

/// Records a use: `?1` id, `?2` now, `?3` now minus [`LAST_USED_EVERY_MS`] (a second writer
/// within the interval is a no-op).
pub const KEY_TOUCH: &str =
    "UPDATE api_keys SET last_used_at = ?2 WHERE id = ?1 AND (last_used_at IS NULL OR last_used_at <= ?3)";

/// Ids of the keys a user created in an organization: `?1` organization, `?2` user.
pub const KEYS_OF_CREATOR: &str = "SELECT id FROM api_keys WHERE organization_id = ?1 AND created_by = ?2";

/// A member's role: `?1` organization, `?2` user.
pub const MEMBER_ROLE: &str = "SELECT role FROM members WHERE organization_id = ?1 AND user_id = ?2";

/// The roles of several members, in one query: `?1` organization, `?2` a JSON array of user
/// ids (one parameter, whatever their number).
pub const MEMBER_ROLES: &str = "SELECT user_id, role FROM members WHERE organization_id = ?1 \
     AND user_id IN (SELECT value FROM json_each(?2))";

/// Adds a member or changes their role: `?1` organization, `?2` user, `?3` role.
pub const MEMBER_PUT: &str = "INSERT INTO members (organization_id, user_id, role) VALUES (?1, ?2, ?3) \
     ON CONFLICT (organization_id, user_id) DO UPDATE SET role = excluded.role";

/// Removes a member: `?1` organization, `?2` user.
pub const MEMBER_DELETE: &str = "DELETE FROM members WHERE organization_id = ?1 AND user_id = ?2";

/// A resource's owner: `?1` kind, `?2` id.
pub const RESOURCE_SELECT: &str =
    "SELECT organization_id AS organizationId, project_id AS projectId FROM resources WHERE kind = ?1 AND id = ?2";

/// Records a resource's owner: `?1` kind, `?2` id, `?3` organization, `?4` project.
pub const RESOURCE_PUT: &str =
    "INSERT INTO resources (kind, id, organization_id, project_id) VALUES (?1, ?2, ?3, ?4) \
     ON CONFLICT (kind, id) DO UPDATE SET organization_id = excluded.organization_id, \
     project_id = excluded.project_id";

/// Forgets a resource: `?1` kind, `?2` id.
pub const RESOURCE_DELETE: &str = "DELETE FROM resources WHERE kind = ?1 AND id = ?2";

/// Inserts an audit event: `?1` id, `?2` organization, `?3` time, `?4` action, `?5` actor,
/// `?6` key id, `?7` the event as JSON.
pub const AUDIT_INSERT: &str =
    "INSERT INTO audit_events (id, organization_id, time, action, actor, key_id, body) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";

/// [`AUDIT_INSERT`] only while the member exists (placed before their removal in the batch, so a
/// removal that finds no member records nothing): `?1`…`?7` as there, `?8` the user id.
pub const AUDIT_INSERT_IF_MEMBER: &str =
    "INSERT INTO audit_events (id, organization_id, time, action, actor, key_id, body) \
     SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7 WHERE EXISTS \
     (SELECT 1 FROM members WHERE organization_id = ?2 AND user_id = ?8)";

/// The delivery of the audit event `?1`, queued for `KEYSCOPE_EVENTS_URL` (run right after the
/// event's insert in the same batch: an event that was not inserted gets no delivery).
pub const OUTBOX_INSERT: &str =
    "INSERT INTO event_outbox (event_id, organization_id, key_id, created_at, updated_at) \
     SELECT id, organization_id, key_id, time, time FROM audit_events WHERE id = ?1";

/// A delivery and its event's body: `?1` event id.
pub const OUTBOX_ROW: &str = "SELECT o.state, o.attempts, o.key_id, o.created_at, a.body \
     FROM event_outbox o JOIN audit_events a ON a.id = o.event_id WHERE o.event_id = ?1";

/// The earliest delivery of the same key still pending before this one, and when it is next due:
/// `?1` key id, `?2` created at, `?3` event id (deliveries of one key go in the order of their
/// events).
pub const OUTBOX_EARLIER_PENDING: &str = "SELECT event_id, next_attempt_at FROM event_outbox \
     WHERE key_id = ?1 AND state = 'pending' AND (created_at < ?2 OR (created_at = ?2 AND event_id < ?3)) \
     ORDER BY created_at, event_id LIMIT 1";

/// Records one try of a pending delivery: `?1` event id, `?2` state (`pending`, `delivered`,
/// `dead`), `?3` next attempt (ms or NULL), `?4` status (or NULL), `?5` error (or NULL), `?6` now.
pub const OUTBOX_TRIED: &str = "UPDATE event_outbox SET state = ?2, attempts = attempts + 1, \
     next_attempt_at = ?3, last_status = ?4, last_error = ?5, updated_at = ?6 \
     WHERE event_id = ?1 AND state = 'pending'";

/// Pending deliveries neither touched nor due since `?1` (ms): enqueued and lost, or never
/// enqueued; at most `?2` of them, oldest first.
pub const OUTBOX_STALE: &str = "SELECT event_id FROM event_outbox \
     WHERE state = 'pending' AND max(updated_at, coalesce(next_attempt_at, 0)) <= ?1 \
     ORDER BY updated_at LIMIT ?2";

/// Forgets settled deliveries (delivered or dead) last changed before `?1` (ms), at most `?2` of
/// them (the audit log keeps the events; a replay makes a delivery again).
pub const OUTBOX_PRUNE: &str =
    "DELETE FROM event_outbox WHERE event_id IN (SELECT event_id FROM event_outbox \
     WHERE state != 'pending' AND updated_at < ?1 ORDER BY updated_at LIMIT ?2)";

/// Marks a pending delivery as (re)enqueued at `?2`: `?1` event id.
pub const OUTBOX_ENQUEUED: &str =
    "UPDATE event_outbox SET updated_at = ?2 WHERE event_id = ?1 AND state = 'pending'";

/// The events a replay sends again, oldest first: `?1` organization, `?2` since, `?3` until
/// (ms), `?4` key id or NULL, `?5` action or NULL, `?6` at most. A delivery failure is never
/// sent.
pub const REPLAY_SELECT: &str = "SELECT id FROM audit_events \
     WHERE organization_id = ?1 AND time >= ?2 AND time <= ?3 AND action != 'event.delivery_failed' \
     AND (?4 IS NULL OR key_id = ?4) AND (?5 IS NULL OR action = ?5) ORDER BY time, id LIMIT ?6";

/// Makes the delivery of event `?1` pending again from its first try, at `?2` (ms); an event
/// saved while events were not delivered gets its delivery now.
pub const OUTBOX_REPLAY: &str =
    "INSERT INTO event_outbox (event_id, organization_id, key_id, created_at, updated_at) \
     SELECT id, organization_id, key_id, time, ?2 FROM audit_events WHERE id = ?1 \
     ON CONFLICT (event_id) DO UPDATE SET state = 'pending', attempts = 0, next_attempt_at = NULL, \
     last_status = NULL, last_error = NULL, updated_at = excluded.updated_at";

/// An organization's deliveries, last changed first: `?1` organization, `?2` state or NULL,
/// `?3` at most.
pub const OUTBOX_RECENT: &str = "SELECT o.event_id, a.action, o.key_id, o.state, o.attempts, \
     o.next_attempt_at, o.last_status, o.last_error, o.updated_at \
     FROM event_outbox o JOIN audit_events a ON a.id = o.event_id \
     WHERE o.organization_id = ?1 AND (?2 IS NULL OR o.state = ?2) \
     ORDER BY o.updated_at DESC, o.event_id DESC LIMIT ?3";

/// Keys due a notice at `?1` (ms), at most `?2`: a live key expiring within 7 days
/// (`expiring_7d`) or 1 day (`expiring_1d`), a rotated key whose grace period ends within an hour
/// (`grace_ending`), each once (`key_notices`).
pub const KEYS_DUE_A_NOTICE: &str = "SELECT id, organization_id, hint, created_by, notice, due_at FROM ( \
     SELECT id, organization_id, hint, created_by, expires_at AS due_at, \
       CASE WHEN expires_at <= ?1 + 86400000 THEN 'expiring_1d' ELSE 'expiring_7d' END AS notice \
       FROM api_keys WHERE expires_at > ?1 AND expires_at <= ?1 + 604800000 \
       AND (revoked_at IS NULL OR revoked_at > expires_at) \
     UNION ALL \
     SELECT id, organization_id, hint, created_by, revoked_at AS due_at, 'grace_ending' AS notice \
       FROM api_keys WHERE revoked_at > ?1 AND revoked_at <= ?1 + 3600000 \
       AND (expires_at IS NULL OR expires_at > revoked_at) \
   ) AS due WHERE NOT EXISTS (SELECT 1 FROM key_notices n WHERE n.key_id = due.id AND n.notice = due.notice) \
   ORDER BY due_at LIMIT ?2";

/// Records notice `?2` of key `?1` (fails if it was sent: the batch holding it is refused).
pub const NOTICE_INSERT: &str = "INSERT INTO key_notices (key_id, notice) VALUES (?1, ?2)";

/// Records notice `?2` of key `?1` as sent if it was not (a wider notice a tighter one covers).
pub const NOTICE_COVERED: &str = "INSERT OR IGNORE INTO key_notices (key_id, notice) VALUES (?1, ?2)";

/// The queue that carries deliveries, and the one a delivery goes to when its tries ran out.
pub const EVENTS_QUEUE_BINDING: &str = "EVENTS";
/// The dead-letter queue of deliveries.
pub const EVENTS_DEAD_LETTER_BINDING: &str = "EVENTS_DEAD";

/// The start of the audit listing's select; the filters follow (see `write/reads.rs`).
pub const AUDIT_SELECT: &str = "SELECT id, time, body FROM audit_events WHERE organization_id = ?1";

/// Marks a key leaked: `?1` id, `?2` the time (only the first report's time is kept).
pub const KEY_FLAG_LEAKED: &str = "UPDATE api_keys SET leaked_at = ?2 WHERE id = ?1 AND leaked_at IS NULL";

/// Keys by hash, for a secret-scanning report (after [`KEY_ROW_SELECT`]): `?1` a JSON array of
/// lowercase hex hashes, so a report of any size is one query with one parameter.
pub const KEYS_BY_HASHES: &str = "WHERE k.key_hash IN (SELECT value FROM json_each(?1))";

/// Stores a console link: `?1` token digest, `?2` organization, `?3` user, `?4` return URL,
/// `?5` expiry.
pub const LINK_INSERT: &str =
    "INSERT INTO console_links (token_hash, organization_id, user_id, return_url, expires_at) \
     VALUES (?1, ?2, ?3, ?4, ?5)";

/// Takes a console link, once, unless expired: `?1` token digest, `?2` now.
pub const LINK_REDEEM: &str = "DELETE FROM console_links WHERE token_hash = ?1 AND expires_at > ?2 \
     RETURNING organization_id, user_id, return_url";

/// Sweeps expired console links: `?1` now.
pub const LINKS_SWEEP: &str = "DELETE FROM console_links WHERE expires_at <= ?1";

/// Sweeps expired console sessions: `?1` now.
pub const SESSIONS_SWEEP: &str = "DELETE FROM console_sessions WHERE expires_at <= ?1";

/// Stores a console session: `?1` cookie digest, `?2` organization, `?3` user, `?4` return
/// URL, `?5` expiry.
pub const SESSION_INSERT: &str =
    "INSERT INTO console_sessions (session_hash, organization_id, user_id, return_url, expires_at) \
     VALUES (?1, ?2, ?3, ?4, ?5)";

/// A console session unless expired: `?1` cookie digest, `?2` now.
pub const SESSION_SELECT: &str = "SELECT organization_id, user_id, return_url FROM console_sessions \
     WHERE session_hash = ?1 AND expires_at > ?2";

/// Ends a console session: `?1` cookie digest.
pub const SESSION_DELETE: &str = "DELETE FROM console_sessions WHERE session_hash = ?1";

/// An organization's projects, every one its resources name, in order: `?1` organization.
pub const PROJECTS_OF_ORGANIZATION: &str =
    "SELECT DISTINCT project_id FROM resources WHERE organization_id = ?1 ORDER BY project_id LIMIT 1000";

/// Adds a key's counts for one hour to its usage row (`?1` key, `?2` organization, `?3` hour,
/// then the counts in `usage::Outcome::ALL` order). A change may lower `allowed` (a request
/// recounted as denied after its hour was written); it never goes below zero.
pub const USAGE_ADD: &str = "INSERT INTO key_usage (key_id, organization_id, hour, allowed, key_revoked, \
     scope_violation, forbidden, not_found, rate_limited, unavailable) \
     VALUES (?1, ?2, ?3, max(0, ?4), ?5, ?6, ?7, ?8, ?9, ?10) \
     ON CONFLICT (key_id, hour) DO UPDATE SET allowed = max(0, allowed + ?4), \
     key_revoked = key_revoked + ?5, scope_violation = scope_violation + ?6, forbidden = forbidden + ?7, \
     not_found = not_found + ?8, rate_limited = rate_limited + ?9, unavailable = unavailable + ?10";

/// A key's usage rows: `?1` organization, `?2` key, `?3` since, `?4` until (Unix ms).
pub const USAGE_OF_KEY: &str = "SELECT hour, allowed, key_revoked, scope_violation, forbidden, not_found, \
     rate_limited, unavailable FROM key_usage WHERE organization_id = ?1 AND key_id = ?2 AND hour >= ?3 \
     AND hour < ?4 ORDER BY hour";

/// An organization's keys by traffic: `?1` organization, `?2` since, `?3` until, `?4` limit.
pub const USAGE_OF_ORGANIZATION: &str = "SELECT u.key_id, k.name, k.hint, SUM(u.allowed) AS allowed, \
     SUM(u.key_revoked) AS key_revoked, SUM(u.scope_violation) AS scope_violation, SUM(u.forbidden) AS forbidden, \
     SUM(u.not_found) AS not_found, SUM(u.rate_limited) AS rate_limited, SUM(u.unavailable) AS unavailable \
     FROM key_usage u JOIN api_keys k ON k.id = u.key_id WHERE u.organization_id = ?1 AND u.hour >= ?2 \
     AND u.hour < ?3 GROUP BY u.key_id ORDER BY SUM(u.allowed + u.key_revoked + u.scope_violation + u.forbidden \
     + u.not_found + u.rate_limited + u.unavailable) DESC, u.key_id LIMIT ?4";

/// Forgets usage rows before `?1` (Unix ms).
pub const USAGE_PRUNE: &str = "DELETE FROM key_usage WHERE hour < ?1";

/// An organization's limits: `?1` organization.
pub const ORG_LIMITS_SELECT: &str = "SELECT limits FROM organization_limits WHERE organization_id = ?1";

/// Sets an organization's limits: `?1` organization, `?2` the JSON.
pub const ORG_LIMITS_PUT: &str = "INSERT INTO organization_limits (organization_id, limits) VALUES (?1, ?2) \
     ON CONFLICT (organization_id) DO UPDATE SET limits = excluded.limits";
