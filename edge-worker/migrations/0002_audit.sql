-- The audit log (ARCHITECTURE.md "Audit log and event webhooks"): one row per key or membership
-- event, inserted in the same D1 batch as the change it records. `body` is the event as
-- policy-core's AuditEvent serializes it (the one field list); the other columns repeat what
-- the listing filters and orders on.
CREATE TABLE audit_events (
  id              TEXT PRIMARY KEY,
  organization_id TEXT NOT NULL,
  time            INTEGER NOT NULL, -- Unix milliseconds
  action          TEXT NOT NULL,    -- key.created, key.revoked, member.added, ...
  actor           TEXT NOT NULL,    -- user:<id>, service_token or scanner:<name>
  key_id          TEXT,
  body            TEXT NOT NULL     -- JSON
);

-- Pages run newest first by (time, id) within an organization, optionally for one key, actor
-- or action.
CREATE INDEX audit_events_by_time ON audit_events (organization_id, time DESC, id DESC);
CREATE INDEX audit_events_by_key ON audit_events (organization_id, key_id, time DESC, id DESC);
CREATE INDEX audit_events_by_actor ON audit_events (organization_id, actor, time DESC, id DESC);
CREATE INDEX audit_events_by_action ON audit_events (organization_id, action, time DESC, id DESC);

-- When a secret-scanning report marked the key leaked (KEYSCOPE_ON_LEAK=flag); NULL otherwise.
ALTER TABLE api_keys ADD COLUMN leaked_at INTEGER;
