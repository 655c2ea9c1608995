// keyscope's store write path: D1 is the source of truth, KV holds the hot-path projections the
// worker reads (see edge-worker/src/kv.rs for the layout). Every write goes to D1 first, then the
// affected KV entries are rewritten, so the very next request at this location sees the change.
//
// `db` and `kv` are a D1 database and a KV namespace binding (inside a Worker, from wrangler's
// getPlatformProxy, or from Miniflare).

/** @typedef {{organizationId: string, projectId: string}} Owner */

const keyName = (hash) => `key:${hash}`;
const resourceName = (kind, id) => `res:${kind}:${id}`;

/** Reads the migration files and applies them in order (what `wrangler d1 migrations apply` does). */
export async function applyMigrations(db, sqlFiles) {
  for (const sql of sqlFiles) {
    const statements = sql
      .split("\n")
      .map((line) => line.replace(/--.*$/, ""))
      .join("\n")
      .split(";")
      .map((s) => s.trim())
      .filter(Boolean);
    for (const statement of statements) await db.prepare(statement).run();
  }
}

export class KeyStore {
  constructor({ db, kv }) {
    this.db = db;
    this.kv = kv;
  }

  /** Adds a member or changes their role; their keys act with it from the next request. */
  async putMember(organizationId, userId, role) {
    await this.db
      .prepare(
        "INSERT INTO members (organization_id, user_id, role) VALUES (?1, ?2, ?3) " +
          "ON CONFLICT (organization_id, user_id) DO UPDATE SET role = excluded.role",
      )
      .bind(organizationId, userId, role)
      .run();
    await this.refreshCreator(organizationId, userId);
  }

  /** Removes a member: every key they created answers key_revoked from the next request. */
  async removeMember(organizationId, userId) {
    await this.db
      .prepare("DELETE FROM members WHERE organization_id = ?1 AND user_id = ?2")
      .bind(organizationId, userId)
      .run();
    await this.refreshCreator(organizationId, userId);
  }

  /** Records which organization and project own a resource. */
  async putResource(kind, id, organizationId, projectId) {
    await this.db
      .prepare(
        "INSERT INTO resources (kind, id, organization_id, project_id) VALUES (?1, ?2, ?3, ?4) " +
          "ON CONFLICT (kind, id) DO UPDATE SET organization_id = excluded.organization_id, project_id = excluded.project_id",
      )
      .bind(kind, id, organizationId, projectId)
      .run();
    await this.kv.put(resourceName(kind, id), JSON.stringify({ organizationId, projectId }));
  }

  /** Forgets a resource (project keys then get not_found for it). */
  async removeResource(kind, id) {
    await this.db.prepare("DELETE FROM resources WHERE kind = ?1 AND id = ?2").bind(kind, id).run();
    await this.kv.delete(resourceName(kind, id));
  }

  /**
   * Stores a key by hash. `key` holds `hash` (lowercase hex SHA-256 of the key string) and the
   * metadata of SPEC's Keys section, times in Unix milliseconds. The secret never reaches here.
   */
  async putKey(key) {
    if (!/^[0-9a-f]{64}$/.test(key.hash)) throw new Error("a key hash is 64 lowercase hex digits");
    await this.db
      .prepare(
        "INSERT INTO api_keys (id, key_hash, organization_id, created_by, name, hint, scope, scoped_project_id, " +
          "permissions, created_at, last_used_at, revoked_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
      )
      .bind(
        key.id,
        key.hash,
        key.organizationId,
        key.createdBy,
        key.name,
        key.hint,
        key.scope,
        key.scopedProjectId ?? null,
        key.permissions == null ? null : JSON.stringify(key.permissions),
        key.createdAt,
        key.lastUsedAt ?? null,
        key.revokedAt ?? null,
        key.expiresAt ?? null,
      )
      .run();
    await this.refreshKey(key.id);
  }

  /** Revokes a key, permanently; effective from the next request. */
  async revokeKey(id, at = Date.now()) {
    await this.db
      .prepare("UPDATE api_keys SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL")
      .bind(id, at)
      .run();
    await this.refreshKey(id);
  }

  /** Rewrites the KV entries of every key a user created in an organization. */
  async refreshCreator(organizationId, userId) {
    const { results } = await this.db
      .prepare("SELECT id FROM api_keys WHERE organization_id = ?1 AND created_by = ?2")
      .bind(organizationId, userId)
      .all();
    for (const row of results) await this.refreshKey(row.id);
  }

  /** Rewrites one key's KV entry from D1: the record plus its creator's current role. */
  async refreshKey(id) {
    const row = await this.db
      .prepare(
        "SELECT k.*, m.role AS creator_role FROM api_keys k LEFT JOIN members m " +
          "ON m.organization_id = k.organization_id AND m.user_id = k.created_by WHERE k.id = ?1",
      )
      .bind(id)
      .first();
    if (!row) throw new Error(`no key with id ${id}`);
    const record = {
      id: row.id,
      name: row.name,
      hint: row.hint,
      organizationId: row.organization_id,
      createdBy: row.created_by,
      scope: row.scope,
      scopedProjectId: row.scoped_project_id,
      permissions: row.permissions == null ? null : JSON.parse(row.permissions),
      createdAt: row.created_at,
      lastUsedAt: row.last_used_at,
      revokedAt: row.revoked_at,
      expiresAt: row.expires_at,
    };
    await this.kv.put(keyName(row.key_hash), JSON.stringify({ record, role: row.creator_role ?? null }));
  }
}
