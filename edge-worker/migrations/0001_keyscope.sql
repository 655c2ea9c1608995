-- keyscope's source of truth. KV holds projections of these rows for the hot path
-- (see ARCHITECTURE.md "Stores"); every write goes here first.

CREATE TABLE members (
  organization_id TEXT NOT NULL,
  user_id         TEXT NOT NULL,
  role            TEXT NOT NULL,
  PRIMARY KEY (organization_id, user_id)
);

CREATE TABLE resources (
  kind            TEXT NOT NULL,
  id              TEXT NOT NULL,
  organization_id TEXT NOT NULL,
  project_id      TEXT NOT NULL,
  PRIMARY KEY (kind, id)
);

CREATE TABLE api_keys (
  id                TEXT PRIMARY KEY,
  key_hash          TEXT NOT NULL UNIQUE CHECK (length(key_hash) = 64),
  organization_id   TEXT NOT NULL,
  created_by        TEXT NOT NULL,
  name              TEXT NOT NULL,
  hint              TEXT NOT NULL,
  scope             TEXT NOT NULL CHECK (scope IN ('organization', 'project')),
  scoped_project_id TEXT,
  permissions       TEXT,            -- JSON array of explicit grants, or NULL to inherit
  created_at        INTEGER NOT NULL, -- Unix milliseconds
  last_used_at      INTEGER,
  revoked_at        INTEGER,
  expires_at        INTEGER,
  CHECK (scope = 'organization' OR scoped_project_id IS NOT NULL)
);

CREATE INDEX api_keys_by_creator ON api_keys (organization_id, created_by);
