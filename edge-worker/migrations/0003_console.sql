-- The key console (ARCHITECTURE.md "The key console"): one-time session links and the
-- sessions they open. Only SHA-256 digests (lowercase hex) of the link tokens and session
-- cookies are stored; the CSRF proof is derived from the cookie and stored nowhere.

CREATE TABLE console_links (
  token_hash      TEXT PRIMARY KEY CHECK (length(token_hash) = 64),
  organization_id TEXT NOT NULL,
  user_id         TEXT NOT NULL,
  return_url      TEXT,
  expires_at      INTEGER NOT NULL  -- Unix milliseconds
);

CREATE TABLE console_sessions (
  session_hash    TEXT PRIMARY KEY CHECK (length(session_hash) = 64),
  organization_id TEXT NOT NULL,
  user_id         TEXT NOT NULL,
  return_url      TEXT,
  expires_at      INTEGER NOT NULL  -- Unix milliseconds
);

CREATE INDEX console_links_by_expiry ON console_links (expires_at);
CREATE INDEX console_sessions_by_expiry ON console_sessions (expires_at);
