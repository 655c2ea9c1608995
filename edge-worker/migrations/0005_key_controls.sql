-- Key controls (SPEC "Key controls"): a key's projects beyond one, its address allow-list, its
-- rate and quota, as one JSON object (camelCase: scopedProjectIds, allowedCidrs, rateLimit,
-- quota; NULL when the key has none of them). scoped_project_id keeps the first of a key's
-- projects, so that the CHECK on project keys holds and a version that does not read this
-- column sees a narrower key, never a wider one.
ALTER TABLE api_keys ADD COLUMN controls TEXT;
