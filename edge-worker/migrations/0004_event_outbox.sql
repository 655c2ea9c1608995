-- The event outbox: one row per audit event to deliver to KEYSCOPE_EVENTS_URL, inserted in the
-- same D1 batch as the event (so a committed change always has its delivery, and a refused one
-- none), then carried by the EVENTS queue. The row is the delivery's state: pending until a
-- receiver answered 2xx (delivered) or the retry schedule ran out (dead, and dead-lettered).
CREATE TABLE event_outbox (
  event_id        TEXT PRIMARY KEY,
  organization_id TEXT NOT NULL,
  key_id          TEXT,             -- deliveries of one key go in order
  created_at      INTEGER NOT NULL, -- the event's time, Unix milliseconds
  state           TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'dead')),
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER,          -- when the queue is to bring it back, Unix milliseconds
  last_status     INTEGER,          -- the receiver's last HTTP status (NULL: no answer)
  last_error      TEXT,             -- why the last try failed (never a secret)
  updated_at      INTEGER NOT NULL  -- when the row last changed or was (re)enqueued
);

CREATE INDEX event_outbox_pending ON event_outbox (state, updated_at);
CREATE INDEX event_outbox_by_key ON event_outbox (key_id, state, created_at, event_id);
CREATE INDEX event_outbox_by_organization ON event_outbox (organization_id, updated_at DESC);

-- Notices sent about a key, each once: `expiring_7d`, `expiring_1d` (before its expiresAt) and
-- `grace_ending` (before a rotated key's grace period ends). The scheduled handler inserts the
-- notice in the batch of its audit event, so a notice exists exactly when its event does.
CREATE TABLE key_notices (
  key_id TEXT NOT NULL,
  notice TEXT NOT NULL,
  PRIMARY KEY (key_id, notice)
);
CREATE INDEX api_keys_by_expiry ON api_keys (expires_at) WHERE expires_at IS NOT NULL;
CREATE INDEX api_keys_by_revocation ON api_keys (revoked_at) WHERE revoked_at IS NOT NULL;
