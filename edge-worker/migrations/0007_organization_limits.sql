-- An organization's limits (the issue "Per-key controls", item 2): the rate and quota of its keys
-- that have none of their own, and a cap all its keys share, as policy-core's
-- OrganizationLimits JSON. KV holds a projection (`org:<id>`) the gateway reads, cached per
-- isolate for a minute.
CREATE TABLE organization_limits (
  organization_id TEXT PRIMARY KEY,
  limits          TEXT NOT NULL
);
