// The gateway's requirements beyond the vectors: writes take effect on the very next request,
// store failures fail closed, the key never reaches the origin, identity cannot be forged, and
// requests and responses pass through untouched otherwise.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { rawRequest, sha256Hex, startGateway, startOrigin } from "./lib/gateway.mjs";
import { newKey } from "./lib/keys.mjs";

let counter = 0;
/** A key made outside keyscope and imported by hash through the admin API. */
async function addKey(admin, { org = "org_a", user, scope = "organization", project, permissions } = {}) {
  const secret = newKey();
  const id = `key_req_${++counter}`;
  await admin.importKeys(org, [
    { id, keyHash: sha256Hex(secret), hint: secret.slice(-4), name: id, createdBy: user, scope, scopedProjectId: project, permissions },
  ]);
  return { secret, id, user };
}

const get = (port, path, key, extra = []) => rawRequest(port, { method: "GET", path, headers: [["x-api-key", key], ...extra] });
const reason = (res) => JSON.parse(res.body).reason;

describe("the gateway", () => {
  let origin;
  let gw;
  before(async () => {
    origin = await startOrigin();
    gw = await startGateway({ originUrl: origin.url });
    await gw.admin.putMember("org_a", "u_admin", "admin");
    await gw.admin.putMember("org_a", "u_mgr", "manager");
    await gw.admin.putResource("time_entry", "te_1", "org_a", "p1");
  });
  after(async () => {
    await gw?.dispose();
    await origin?.close();
  });

  test("a revocation takes effect on the very next request", async () => {
    const { secret, id } = await addKey(gw.admin, { user: "u_admin" });
    assert.equal((await get(gw.port, "/api/v1/projects", secret)).status, 200);
    await gw.admin.revokeKey("org_a", id, "u_admin");
    const res = await get(gw.port, "/api/v1/projects", secret);
    assert.equal(res.status, 401);
    assert.equal(reason(res), "key_revoked");
  });

  test("a role change applies to the creator's keys on the very next request", async () => {
    await gw.admin.putMember("org_a", "u_changing", "manager");
    const { secret } = await addKey(gw.admin, { user: "u_changing", scope: "project", project: "p1" });
    const approve = () => rawRequest(gw.port, { method: "POST", path: "/api/v1/time-entries/te_1/approve", headers: [["authorization", `Bearer ${secret}`]] });
    assert.equal((await approve()).status, 200);
    await gw.admin.putMember("org_a", "u_changing", "member");
    const res = await approve();
    assert.equal(res.status, 403);
    assert.deepEqual(JSON.parse(res.body), { reason: "forbidden", message: "Missing approve:time_entry permission." });
    await gw.admin.putMember("org_a", "u_changing", "manager");
    assert.equal((await approve()).status, 200, "and back again");
  });

  test("removing the creator stops all their keys on the very next request", async () => {
    await gw.admin.putMember("org_a", "u_leaving", "admin");
    const a = await addKey(gw.admin, { user: "u_leaving" });
    const b = await addKey(gw.admin, { user: "u_leaving", scope: "project", project: "p1" });
    assert.equal((await get(gw.port, "/api/v1/me", a.secret)).status, 200);
    await gw.admin.removeMember("org_a", "u_leaving");
    for (const key of [a, b]) {
      const res = await get(gw.port, "/api/v1/me", key.secret);
      assert.equal(res.status, 401);
      assert.equal(reason(res), "key_revoked");
    }
  });

  test("the key is stripped and identity headers cannot be forged", async () => {
    const { secret, id } = await addKey(gw.admin, { user: "u_mgr", scope: "project", project: "p1" });
    const before = origin.received.length;
    const res = await rawRequest(gw.port, {
      method: "GET",
      path: "/api/v1/search?q=time&project=p9",
      headers: [
        ["authorization", `Bearer ${secret}`],
        ["X-Keyscope-Role", "admin"],
        ["x-keyscope-scope", "organization"],
        ["X-KEYSCOPE-PROJECT-FILTER", "p9"],
        ["x-keyscope-made-up", "1"],
        ["x-custom", "kept"],
      ],
    });
    assert.equal(res.status, 200);
    const got = origin.received[before];
    assert.equal(got.url, "/api/v1/search?q=time&project=p9", "path and query pass through");
    assert.equal(got.headers.authorization, undefined);
    assert.equal(got.headers["x-api-key"], undefined);
    assert.equal(got.headers["x-keyscope-role"], "manager");
    assert.equal(got.headers["x-keyscope-scope"], "project");
    assert.equal(got.headers["x-keyscope-project-filter"], "p1");
    assert.equal(got.headers["x-keyscope-key-id"], id);
    assert.equal(got.headers["x-keyscope-made-up"], undefined);
    assert.equal(got.headers["x-custom"], "kept");
    for (const value of Object.values(got.headers)) assert.ok(!String(value).includes(secret.slice(8)), "the secret never reaches the origin");
  });

  test("an Authorization header with another scheme is the origin's and passes through", async () => {
    const { secret } = await addKey(gw.admin, { user: "u_admin" });
    const before = origin.received.length;
    const res = await get(gw.port, "/api/v1/users", secret, [["authorization", "Basic dXNlcjpwYXNz"]]);
    assert.equal(res.status, 200);
    assert.equal(origin.received[before].headers.authorization, "Basic dXNlcjpwYXNz");
    assert.equal(origin.received[before].headers["x-api-key"], undefined);
  });

  test("methods and bodies pass through, and the origin's response comes back as is", async () => {
    const { secret } = await addKey(gw.admin, { user: "u_admin" });
    const body = JSON.stringify({ note: "ünïcode ✓", minutes: 42 });
    for (const [method, path] of [["POST", "/api/v1/projects/p1/entries"], ["PATCH", "/api/v1/time-entries/te_1"]]) {
      const before = origin.received.length;
      const res = await rawRequest(gw.port, {
        method, path, body,
        headers: [["x-api-key", secret], ["content-type", "application/json"], ["x-reply-status", "201"]],
      });
      assert.equal(res.status, 201, "the origin's status");
      assert.equal(res.headers["x-origin"], "stub", "the origin's headers");
      assert.deepEqual(JSON.parse(res.body), { origin: true, method, url: path });
      const got = origin.received[before];
      assert.equal(got.method, method);
      assert.equal(got.body, body);
      assert.equal(got.headers["content-type"], "application/json");
    }
  });

  test("/me is answered at the edge with SPEC's fields", async () => {
    const { secret, id } = await addKey(gw.admin, { user: "u_mgr", permissions: ["read:entry", "approve:time_entry", "invite:user"] });
    const before = origin.received.length;
    const res = await get(gw.port, "/api/v1/me", secret);
    assert.equal(res.status, 200);
    assert.match(res.headers["content-type"], /application\/json/);
    assert.equal(origin.received.length, before);
    assert.deepEqual(JSON.parse(res.body), {
      apiKeyId: id, scope: "organization", scopedProjectId: null, scopedProjectIds: null,
      permissions: ["read:entry", "approve:time_entry", "invite:user"], organizationId: "org_a",
      role: "manager", effectivePermissions: ["read:entry", "approve:time_entry"], name: id, hint: secret.slice(-4),
      allowedCidrs: null, rateLimit: null, quota: null,
    });
  });

  test("hostile input gets a clear JSON error, never a crash", async () => {
    const { secret } = await addKey(gw.admin, { user: "u_admin" });
    const cases = [
      [{ method: "GET", path: "/api/v1/me", headers: [["x-api-key", Buffer.from([0xc3, 0x28, 0xff, 0xfe])]] }, 401, "invalid_key"],
      [{ method: "GET", path: "/api/v1/me", headers: [["x-api-key", "k".repeat(16_000)]] }, 401, "invalid_key"],
      [{ method: "GET", path: "/api/v1/me", headers: [["authorization", `Bearer ${"\u00e9".repeat(100)}`]] }, 401, "invalid_key"],
      [{ method: "GET", path: `/api/v1/projects/${"%".repeat(300)}/entries`, headers: [["x-api-key", secret]] }, 404, "not_found"],
      [{ method: "GET", path: `/api/v1/${"a/".repeat(500)}x`, headers: [["x-api-key", secret]] }, 404, "not_found"],
      [{ method: "DELETE", path: "/api/v1/me", headers: [["x-api-key", secret]] }, 404, "not_found"],
      [{ method: "OPTIONS", path: "/api/v1/projects", headers: [["x-api-key", secret]] }, 404, "not_found"],
      [{ method: "GET", path: "/", headers: [] }, 401, "missing_key"],
    ];
    for (const [request, status, code] of cases) {
      const res = await rawRequest(gw.port, request);
      assert.equal(res.status, status, `${request.method} ${request.path.slice(0, 40)}`);
      assert.equal(reason(res), code);
    }
  });
});

describe("failing closed", () => {
  test("no KV binding: 503 unavailable, never allow, never reach the origin", async () => {
    const origin = await startOrigin();
    const gw = await startGateway({ originUrl: origin.url, withoutKv: true });
    try {
      const res = await get(gw.port, "/api/v1/projects", newKey());
      assert.equal(res.status, 503);
      assert.deepEqual(Object.keys(JSON.parse(res.body)), ["reason", "message"]);
      assert.equal(reason(res), "unavailable");
      assert.equal(origin.received.length, 0);
      const missing = await rawRequest(gw.port, { method: "GET", path: "/api/v1/projects" });
      assert.equal(reason(missing), "missing_key", "offline checks still answer first");
    } finally {
      await gw.dispose();
      await origin.close();
    }
  });

  test("a corrupt store entry: 503 unavailable", async () => {
    const origin = await startOrigin();
    const gw = await startGateway({ originUrl: origin.url });
    try {
      const secret = newKey();
      const kv = await gw.mf.getKVNamespace("KEYS");
      await kv.put(`key:${sha256Hex(secret)}`, "{not json");
      const res = await get(gw.port, "/api/v1/projects", secret);
      assert.equal(res.status, 503);
      assert.equal(reason(res), "unavailable");
      assert.equal(origin.received.length, 0);
    } finally {
      await gw.dispose();
      await origin.close();
    }
  });

  test("an invalid policy document: 503 unavailable, not a crash", async () => {
    const gw = await startGateway({ bindings: { KEYSCOPE_POLICY: '{"basePath": "/x"}' } });
    try {
      const res = await get(gw.port, "/x/anything", newKey());
      assert.equal(res.status, 503);
      assert.equal(reason(res), "unavailable");
    } finally {
      await gw.dispose();
    }
  });

  test("an unreachable origin: 502 with a JSON body", async () => {
    const gw = await startGateway({ originUrl: "http://127.0.0.1:9" });
    try {
      await gw.admin.putMember("org_a", "u_admin", "admin");
      const { secret } = await addKey(gw.admin, { user: "u_admin" });
      const res = await get(gw.port, "/api/v1/projects", secret);
      assert.equal(res.status, 502);
      assert.equal(reason(res), "bad_gateway");
    } finally {
      await gw.dispose();
    }
  });
});

describe("KEYSCOPE_STORE = d1 (no KV propagation delay)", () => {
  test("reads D1 directly: a row written only to D1 works, and its revocation applies at once", async () => {
    const origin = await startOrigin();
    const gw = await startGateway({ originUrl: origin.url, bindings: { KEYSCOPE_STORE: "d1" } });
    try {
      const secret = newKey();
      // Straight into D1, bypassing the KV projections: only a D1 reader can see this key.
      await gw.db.prepare("INSERT INTO members (organization_id, user_id, role) VALUES ('org_a', 'u_1', 'manager')").run();
      await gw.db
        .prepare("INSERT INTO api_keys (id, key_hash, organization_id, created_by, name, hint, scope, scoped_project_id, permissions, created_at) VALUES ('key_d1', ?1, 'org_a', 'u_1', 'D1 only', ?2, 'project', 'p1', ?3, 0)")
        .bind(sha256Hex(secret), secret.slice(-4), JSON.stringify(["read:project", "read:entry"]))
        .run();
      const me = await get(gw.port, "/api/v1/me", secret);
      assert.equal(me.status, 200);
      assert.deepEqual(JSON.parse(me.body).effectivePermissions, ["read:project", "read:entry"]);
      assert.equal((await get(gw.port, "/api/v1/projects/p1/entries", secret)).status, 200);
      await gw.db.prepare("UPDATE api_keys SET revoked_at = 1 WHERE id = 'key_d1'").run();
      assert.equal(reason(await get(gw.port, "/api/v1/projects/p1/entries", secret)), "key_revoked");
    } finally {
      await gw.dispose();
      await origin.close();
    }
  });

  test("an unknown KEYSCOPE_STORE fails closed", async () => {
    const gw = await startGateway({ bindings: { KEYSCOPE_STORE: "redis" } });
    try {
      const res = await get(gw.port, "/api/v1/me", newKey());
      assert.equal(res.status, 503);
      assert.equal(reason(res), "unavailable");
    } finally {
      await gw.dispose();
    }
  });
});
