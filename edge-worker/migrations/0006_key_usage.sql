-- Usage per key and hour (SPEC "Key controls", the issue "Per-key controls" item 4): requests a
-- key made, allowed and denied by reason, counted by the key's Durable Object (where the request
-- already goes) and written here in batches, off the hot path. `hour` is the hour's start, Unix
-- milliseconds (UTC). Rows older than 90 days are removed by the scheduled clean-up.
CREATE TABLE key_usage (
  key_id          TEXT NOT NULL,
  organization_id TEXT NOT NULL,
  hour            INTEGER NOT NULL,
  allowed         INTEGER NOT NULL DEFAULT 0,
  key_revoked     INTEGER NOT NULL DEFAULT 0,
  scope_violation INTEGER NOT NULL DEFAULT 0,
  forbidden       INTEGER NOT NULL DEFAULT 0,
  not_found       INTEGER NOT NULL DEFAULT 0,
  rate_limited    INTEGER NOT NULL DEFAULT 0,
  unavailable     INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (key_id, hour)
);

CREATE INDEX key_usage_by_organization ON key_usage (organization_id, hour);
CREATE INDEX key_usage_by_hour ON key_usage (hour);
