// The admin API over HTTP against workerd: create-once keys, listing, the creation rules per
// role, grants beyond the role, revoke / rotate / role change / removal on the next request,
// last used, the per-key rate limit, and every class of bad input answered with a 4xx JSON error
// and nothing written.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { Validator } from "@seriousme/openapi-schema-validator";
import { AdminClient, ROOT, rawRequest, startGateway, startOrigin, startReceiver, waitFor } from "./lib/gateway.mjs";

const ORG = "org_a";
const get = (gw, path, key, method = "GET") => rawRequest(gw.port, { method, path, headers: [["x-api-key", key]] });
const reasonOf = (res) => JSON.parse(res.body).reason;
/** A time as the worker writes it (RFC 3339, UTC, three fraction digits). */
const iso = (ms) => new Date(ms).toISOString();

/** Every route the tests below called successfully, as `METHOD /template` (checked against the OpenAPI document). */
const EXERCISED = new Set();
function track(admin) {
  const call = admin.call.bind(admin);
  admin.call = async (method, path, ...rest) => {
    const template = path
      .split("?")[0]
      .replace(/^\/organizations\/[^/]+/, "/organizations/{organizationId}")
      .replace(/\/members\/[^/]+$/, "/members/{userId}")
      .replace(/\/keys\/(?!import$)[^/]+/, "/keys/{keyId}")
      .replace(/^\/resources\/(?!batch$)[^/]+\/[^/]+$/, "/resources/{kind}/{id}");
    const res = await call(method, path, ...rest);
    if (res.status < 300) EXERCISED.add(`${method} /admin/v1${template}`);
    return res;
  };
  return admin;
}

async function world() {
  const origin = await startOrigin();
  const gw = await startGateway({ originUrl: origin.url, clock: true });
  const admin = track(gw.admin);
  for (const [user, role] of [["u_admin", "admin"], ["u_eng", "engineer"], ["u_mgr", "manager"], ["u_member", "member"]]) {
    await admin.putMember(ORG, user, role);
  }
  await admin.putResource("time_entry", "te_1", ORG, "p1");
  return { origin, gw, admin };
}

describe("admin API: keys", () => {
  let w;
  before(async () => {
    w = await world();
  });
  after(async () => {
    await w.gw.dispose();
    await w.origin.close();
  });

  test("create returns the secret once; list and get never show it or its hash", async () => {
    const created = await w.admin.createKey(ORG, { actingUserId: "u_admin", name: "CI", scope: "organization", preset: "read" });
    assert.match(created.secret, /^ck_live_[0-9A-Za-z]{36}$/);
    assert.equal(created.key.hint, created.secret.slice(-4));
    assert.deepEqual(Object.keys(created.key).sort(), [
      "allowedCidrs", "createdAt", "createdBy", "expiresAt", "hint", "id", "lastUsedAt", "name", "organizationId", "permissions",
      "quota", "rateLimit", "revokedAt", "scope", "scopedProjectId", "scopedProjectIds",
    ]);
    assert.equal(created.key.lastUsedAt, null, "never used");
    assert.ok(created.key.permissions.every((p) => p.startsWith("read:") || p === "search"));
    assert.equal((await get(w.gw, "/api/v1/projects", created.secret)).status, 200, "the key works at once");
    assert.equal(reasonOf(await get(w.gw, "/api/v1/projects", created.secret, "POST")), "forbidden", "read-only");

    const listed = await w.admin.listKeys(ORG);
    const mine = listed.keys.find((k) => k.id === created.key.id);
    assert.ok(mine, "listed");
    for (const text of [JSON.stringify(listed), JSON.stringify(await w.admin.ok("GET", `/organizations/${ORG}/keys/${created.key.id}`))]) {
      assert.ok(!text.includes(created.secret.slice(8)), "the secret is never returned again");
      assert.ok(!/[0-9a-f]{64}/.test(text), "nor its hash");
    }
    const [event] = (await w.admin.ok("GET", `/organizations/${ORG}/audit-events?keyId=${created.key.id}`)).events;
    assert.deepEqual([event.action, event.actor], ["key.created", "user:u_admin"], "recorded (audit.test.mjs tests the log)");
    const byCreator = await w.admin.listKeys(ORG, "u_eng");
    assert.ok(byCreator.keys.every((k) => k.createdBy === "u_eng"));
    assert.ok(!byCreator.keys.some((k) => k.id === created.key.id));
  });

  test("creation rules per role", async () => {
    const attempt = (actingUserId, scope, extra = {}) =>
      w.admin.call("POST", `/organizations/${ORG}/keys`, { actingUserId, name: "k", scope, ...(scope === "project" ? { scopedProjectId: "p1" } : {}), ...extra });
    const cases = [
      ["u_admin", "organization", 201], ["u_admin", "project", 201],
      ["u_eng", "organization", 403], ["u_eng", "project", 201],
      ["u_mgr", "organization", 403], ["u_mgr", "project", 403],
      ["u_member", "organization", 403], ["u_member", "project", 403],
      ["u_stranger", "project", 403],
    ];
    for (const [user, scope, status] of cases) {
      const res = await attempt(user, scope);
      assert.equal(res.status, status, `${user} ${scope}: ${res.text}`);
      if (status === 403) {
        assert.equal(res.body.reason, "forbidden");
        assert.equal(typeof res.body.message, "string");
      }
    }
  });

  test("grants beyond the acting user's role are refused by name; unknown ones too", async () => {
    const beyond = await w.admin.call("POST", `/organizations/${ORG}/keys`, {
      actingUserId: "u_eng", name: "k", scope: "project", scopedProjectId: "p1", permissions: ["read:project", "approve:time_entry"],
    });
    assert.equal(beyond.status, 403);
    assert.match(beyond.body.message, /approve:time_entry/);
    assert.doesNotMatch(beyond.body.message, /read:project/);
    const unknown = await w.admin.call("POST", `/organizations/${ORG}/keys`, {
      actingUserId: "u_admin", name: "k", scope: "organization", permissions: ["reed:project"],
    });
    assert.equal(unknown.status, 400);
    assert.match(unknown.body.message, /reed:project/);
  });

  test("revoke takes effect on the next request and is permanent", async () => {
    const { key, secret } = await w.admin.createKey(ORG, { actingUserId: "u_eng", name: "deploy", scope: "project", scopedProjectId: "p1" });
    assert.equal((await get(w.gw, "/api/v1/projects/p1/entries", secret)).status, 200);
    const other = await w.admin.call("POST", `/organizations/${ORG}/keys/${key.id}/revoke`, { actingUserId: "u_mgr" });
    assert.equal(other.status, 403, "a manager may not revoke an engineer's key");
    const revoked = await w.admin.revokeKey(ORG, key.id, "u_admin");
    assert.ok(revoked.key.revokedAt);
    assert.equal(reasonOf(await get(w.gw, "/api/v1/projects/p1/entries", secret)), "key_revoked");
    const again = await w.admin.revokeKey(ORG, key.id, "u_eng");
    assert.equal(again.key.revokedAt, revoked.key.revokedAt, "revoking again changes nothing");
    const rotate = await w.admin.call("POST", `/organizations/${ORG}/keys/${key.id}/rotate`, { actingUserId: "u_eng" });
    assert.equal(rotate.status, 409, "a revoked key is not rotated");
    const synced = await w.admin.call("POST", `/organizations/${ORG}/keys/${key.id}/sync`);
    assert.equal(synced.status, 200, "a sync rewrites the projections");
    assert.equal(synced.body.key.revokedAt, revoked.key.revokedAt, "and changes nothing");
    assert.equal(synced.body.pending, undefined, "nothing is pending");
    assert.equal(reasonOf(await get(w.gw, "/api/v1/projects/p1/entries", secret)), "key_revoked");
  });

  test("rotation (seed 001): create new → switch → confirm → revoke old; both work meanwhile", async () => {
    const old = await w.admin.createKey(ORG, { actingUserId: "u_admin", name: "billing sync", scope: "organization", permissions: ["read:project", "read:entry"] });
    const rotated = await w.admin.rotateKey(ORG, old.key.id, { actingUserId: "u_admin" });
    assert.notEqual(rotated.secret, old.secret);
    assert.equal(rotated.key.name, "billing sync");
    assert.deepEqual(rotated.key.permissions, ["read:project", "read:entry"]);
    assert.equal(rotated.previous.revokedAt, null, "without a grace period the old key stays until revoked");
    for (const secret of [old.secret, rotated.secret]) assert.equal((await get(w.gw, "/api/v1/projects", secret)).status, 200);
    await w.admin.revokeKey(ORG, old.key.id, "u_admin");
    assert.equal(reasonOf(await get(w.gw, "/api/v1/projects", old.secret)), "key_revoked");
    assert.equal((await get(w.gw, "/api/v1/projects", rotated.secret)).status, 200);

    // The worker's clock stands still at `at`: the grace period's end is exact.
    const at = await w.gw.clock.freeze();
    try {
      const graced = await w.admin.rotateKey(ORG, rotated.key.id, { actingUserId: "u_admin", gracePeriodSeconds: 3600 });
      assert.equal(graced.previous.revokedAt, iso(at + 3_600_000), "revocation scheduled at the end of the grace period");
      assert.equal((await get(w.gw, "/api/v1/projects", rotated.secret)).status, 200, "still valid during the grace period");
      const now = await w.admin.rotateKey(ORG, graced.key.id, { actingUserId: "u_admin", gracePeriodSeconds: 0 });
      assert.equal(now.previous.revokedAt, iso(at), "a zero grace revokes now");
      assert.equal(reasonOf(await get(w.gw, "/api/v1/projects", graced.secret)), "key_revoked", "a zero grace revokes at once");
      assert.equal((await get(w.gw, "/api/v1/projects", now.secret)).status, 200);
    } finally {
      await w.gw.clock.release();
    }
  });

  test("a role change and a removal apply on the next request", async () => {
    await w.admin.putMember(ORG, "u_shifting", "engineer");
    const { secret } = await w.admin.createKey(ORG, { actingUserId: "u_shifting", name: "k", scope: "project", scopedProjectId: "p1" });
    const approve = () => rawRequest(w.gw.port, { method: "POST", path: "/api/v1/time-entries/te_1/approve", headers: [["x-api-key", secret]] });
    assert.equal(reasonOf(await approve()), "forbidden", "engineers do not approve");
    await w.admin.putMember(ORG, "u_shifting", "manager");
    assert.equal((await approve()).status, 200, "now a manager");
    await w.admin.removeMember(ORG, "u_shifting");
    assert.equal(reasonOf(await approve()), "key_revoked", "creator removed");
  });

  test("last used is recorded after use", async () => {
    const { key, secret } = await w.admin.createKey(ORG, { actingUserId: "u_admin", name: "used", scope: "organization" });
    assert.equal(key.lastUsedAt, null);
    // Used at `at` (the worker's clock stands still): last used is that time, exactly.
    const at = await w.gw.clock.freeze();
    try {
      assert.equal((await get(w.gw, "/api/v1/me", secret)).status, 200);
      const seen = await waitFor(
        async () => (await w.admin.ok("GET", `/organizations/${ORG}/keys/${key.id}`)).lastUsedAt,
        "lastUsedAt set",
      );
      assert.equal(seen, iso(at), "last used is the time of the use");
    } finally {
      await w.gw.clock.release();
    }
  });

  test("explain and access answer for a key under the default policy, forwarding nothing", async () => {
    const { key } = await w.admin.createKey(ORG, { actingUserId: "u_admin", name: "reader", scope: "organization", preset: "read" });
    const before = w.origin.received.length;
    const explain = (method, path) => w.admin.ok("POST", `/organizations/${ORG}/keys/${key.id}/explain`, { method, path });
    const write = await explain("POST", "/api/v1/projects");
    assert.deepEqual(
      [write.allowed, write.status, write.check, write.endpoint],
      [false, 403, "permission", { method: "POST", path: "/projects" }],
    );
    const read = await explain("GET", "/api/v1/projects");
    assert.deepEqual([read.allowed, read.status, read.check], [true, 200, "allowed"]);
    const table = await w.admin.ok("GET", `/organizations/${ORG}/keys/${key.id}/access`);
    assert.equal(table.keyId, key.id);
    const rows = Object.fromEntries(table.endpoints.map((r) => [`${r.method} ${r.path}`, r.allowed]));
    assert.equal(rows["GET /projects"], true);
    assert.equal(rows["POST /projects"], false);
    assert.equal(w.origin.received.length, before, "explaining is not a request to the origin");
  });

  // The console itself, in a browser: tests/console/gateway.test.mjs.
  test("a console session link is one-time, for a member only", async () => {
    const res = await w.admin.call("POST", `/organizations/${ORG}/console-sessions`, { actingUserId: "u_eng" });
    assert.equal(res.status, 201, res.text);
    const link = new URL(res.body.url);
    assert.equal(link.pathname, "/console/open");
    const open = () => rawRequest(w.gw.port, { method: "GET", path: `${link.pathname}${link.search}` });
    const first = await open();
    assert.equal(first.status, 303);
    assert.equal(first.headers.location, "/console/");
    assert.match(first.headers["set-cookie"], /^keyscope_console=[0-9a-f]{64}; Path=\/console; .*HttpOnly; SameSite=Strict$/);
    assert.equal((await open()).headers.location, "/console/#link-expired", "a link works once");
    const stranger = await w.admin.call("POST", `/organizations/${ORG}/console-sessions`, { actingUserId: "u_nobody" });
    assert.equal(stranger.status, 404);
  });

  test("a key's controls change by the rules, and its usage is read by key and by organization", async () => {
    const made = await w.admin.createKey(ORG, { actingUserId: "u_eng", name: "ctl", scope: "project", scopedProjectIds: ["p2", "p1"] });
    assert.deepEqual([made.key.scopedProjectId, made.key.scopedProjectIds], [null, ["p1", "p2"]], "sorted; no single project");
    const path = `/organizations/${ORG}/keys/${made.key.id}/controls`;
    const set = await w.admin.ok("POST", path, { actingUserId: "u_eng", allowedCidrs: ["192.0.2.9/24"], quota: { limit: 100, period: "day" } });
    assert.deepEqual([set.key.allowedCidrs, set.key.quota, set.key.rateLimit], [["192.0.2.0/24"], { limit: 100, period: "day" }, null]);
    const bad = await w.admin.call("POST", path, { actingUserId: "u_eng", allowedCidrs: ["192.0.2.0/33"] });
    assert.deepEqual([bad.status, bad.body.code], [400, "invalid_cidrs"]);
    assert.match(bad.body.message, /192\.0\.2\.0\/33/);
    const other = await w.admin.call("POST", path, { actingUserId: "u_mgr", rateLimit: null });
    assert.deepEqual([other.status, other.body.code], [403, "not_yours"], "not the creator, not an admin");
    const usage = await w.admin.ok("GET", `/organizations/${ORG}/keys/${made.key.id}/usage?granularity=hour`);
    assert.deepEqual([usage.keyId, usage.granularity, usage.buckets], [made.key.id, "hour", []], "no request yet");
    const org = await w.admin.ok("GET", `/organizations/${ORG}/usage?limit=5`);
    assert.ok(Array.isArray(org.keys) && org.keys.length <= 5);
    const none = await w.admin.ok("GET", `/organizations/${ORG}/limits`);
    assert.deepEqual(none, { defaultRateLimit: null, defaultQuota: null, cap: null }, "none set");
    const limits = { defaultRateLimit: null, defaultQuota: { limit: 100000, period: "month" }, cap: { limit: 1000000, period: "month" } };
    assert.deepEqual(await w.admin.ok("PUT", `/organizations/${ORG}/limits`, limits), limits);
    assert.deepEqual(await w.admin.ok("PUT", `/organizations/${ORG}/limits`, {}), { defaultRateLimit: null, defaultQuota: null, cap: null }, "{} removes them");
  });
});

describe("admin API: rate limit", () => {
  test("the 11th request within a second for one key is 429; another key is unaffected", async () => {
    const origin = await startOrigin();
    const gw = await startGateway({ originUrl: origin.url, clock: true, bindings: { KEYSCOPE_RATE_LIMIT: "10" } });
    try {
      const admin = track(gw.admin);
      await admin.putMember(ORG, "u_admin", "admin");
      const a = await admin.createKey(ORG, { actingUserId: "u_admin", name: "a", scope: "organization" });
      const b = await admin.createKey(ORG, { actingUserId: "u_admin", name: "b", scope: "organization" });
      // Every request below is made at the same instant of the worker's clock, however long
      // the machine takes to send them; then the clock moves to the window's end.
      await gw.clock.freeze();
      const statuses = [];
      for (let i = 0; i < 11; i++) statuses.push((await get(gw, "/api/v1/projects", a.secret)).status);
      assert.deepEqual(statuses.slice(0, 10), Array(10).fill(200), `the first ten pass: ${statuses}`);
      const limited = await get(gw, "/api/v1/projects", a.secret);
      assert.equal(limited.status, 429);
      assert.deepEqual(JSON.parse(limited.body).reason, "rate_limited");
      assert.ok(Number(limited.headers["retry-after"]) >= 1, "Retry-After");
      assert.equal(limited.headers["retry-after"], "1", "the oldest admission leaves the window in a second");
      assert.equal((await get(gw, "/api/v1/projects", b.secret)).status, 200, "another key is unaffected");
      await gw.clock.advance(999);
      assert.equal((await get(gw, "/api/v1/projects", a.secret)).status, 429, "still limited 999 ms later");
      await gw.clock.advance(1);
      assert.equal((await get(gw, "/api/v1/projects", a.secret)).status, 200, "and it refills");
    } finally {
      await gw.dispose();
      await origin.close();
    }
  });

  test("a limiter that is missing or misconfigured fails closed (503), never open", async () => {
    const origin = await startOrigin();
    const gw = await startGateway({ originUrl: origin.url, withoutKeyState: true, bindings: { KEYSCOPE_RATE_LIMIT: "10" } });
    try {
      await gw.admin.putMember(ORG, "u_admin", "admin");
      const k = await gw.admin.createKey(ORG, { actingUserId: "u_admin", name: "a", scope: "organization" });
      const res = await get(gw, "/api/v1/projects", k.secret);
      assert.equal(res.status, 503);
      assert.equal(reasonOf(res), "unavailable");
      assert.equal(origin.received.length, 0, "never reaches the origin");
    } finally {
      await gw.dispose();
      await origin.close();
    }
  });

  test("a misconfigured limit refuses everything with a truthful 503, the admin API included", async () => {
    const origin = await startOrigin();
    const gw = await startGateway({ originUrl: origin.url, bindings: { KEYSCOPE_RATE_LIMIT: "ten" } });
    try {
      const admin = await gw.admin.call("PUT", `/organizations/${ORG}/members/u_admin`, { role: "admin" });
      assert.equal(admin.status, 503);
      assert.match(admin.body.message, /misconfigured/);
      const res = await get(gw, "/api/v1/projects", "ck_live_" + "a".repeat(36));
      assert.equal(res.status, 503);
      assert.equal(reasonOf(res), "unavailable");
      assert.match(JSON.parse(res.body).message, /misconfigured/, "not blamed on the key store");
      assert.equal(origin.received.length, 0, "never reaches the origin");
    } finally {
      await gw.dispose();
      await origin.close();
    }
  });
});

describe("admin API: bad input", () => {
  let w;
  before(async () => {
    w = await world();
  });
  after(async () => {
    await w.gw.dispose();
    await w.origin.close();
  });

  const countKeys = async () => (await w.admin.listKeys(ORG)).keys.length;

  test("no token, a wrong token, another scheme: 401 with a challenge", async () => {
    for (const token of [null, "wrong", ""]) {
      const res = await w.admin.call("GET", `/organizations/${ORG}/keys`, undefined, { token });
      assert.equal(res.status, 401);
      assert.equal(res.body.reason, "unauthorized");
      assert.match(res.headers["www-authenticate"], /^Bearer/);
    }
    const basic = await w.admin.call("GET", `/organizations/${ORG}/keys`, undefined, { token: null, headers: { authorization: "Basic Zm9vOmJhcg==" } });
    assert.equal(basic.status, 401);
  });

  test("every bad body is a 4xx JSON error and writes nothing", async () => {
    const before = await countKeys();
    const path = `/organizations/${ORG}/keys`;
    const valid = { actingUserId: "u_admin", name: "k", scope: "organization" };
    const bad = [
      ["not JSON", { rawBody: "{nope" }, 400],
      ["empty body", { rawBody: "" }, 400],
      ["unknown field", { ...valid, color: "blue" }, 400],
      ["wrong type", { ...valid, name: 42 }, 400],
      ["missing field", { actingUserId: "u_admin", scope: "organization" }, 400],
      ["unknown scope", { ...valid, scope: "galaxy" }, 400],
      ["both preset and permissions", { ...valid, preset: "read", permissions: [] }, 400, "preset_and_permissions"],
      ["unknown preset", { ...valid, preset: "root" }, 400, "unknown_preset"],
      ["expiry in the past", { ...valid, expiresAt: "2001-01-01T00:00:00Z" }, 400, "expiry_not_in_future"],
      ["expiry not a time", { ...valid, expiresAt: "tomorrow" }, 400],
      ["blank name", { ...valid, name: "  " }, 400, "invalid_name"],
      ["project key without a project", { ...valid, scope: "project" }, 400, "project_required"],
      ["organization key with a project", { ...valid, scopedProjectId: "p1" }, 400, "project_not_allowed"],
      ["bad acting user id", { ...valid, actingUserId: "u admin" }, 400],
      ["oversize body", { ...valid, name: "x".repeat(70 * 1024) }, 413],
    ];
    for (const [what, body, status, code] of bad) {
      const res = body.rawBody !== undefined ? await w.admin.call("POST", path, undefined, { rawBody: body.rawBody }) : await w.admin.call("POST", path, body);
      assert.equal(res.status, status, `${what}: ${res.text}`);
      // `{reason, message}`, plus the rule's `code` exactly when a lifecycle rule refused.
      assert.deepEqual(Object.keys(res.body), code === undefined ? ["reason", "message"] : ["reason", "message", "code"], what);
      assert.equal(res.body.code, code, what);
      assert.match(res.headers["content-type"], /^application\/json/);
    }
    assert.equal(await countKeys(), before, "nothing was written");
  });

  test("unknown ids and routes are 404, wrong methods 405", async () => {
    const checks = [
      ["GET", `/organizations/${ORG}/keys/key_nope`, undefined, 404],
      ["POST", `/organizations/${ORG}/keys/key_nope/revoke`, { actingUserId: "u_admin" }, 404],
      ["POST", `/organizations/${ORG}/keys/key_nope/rotate`, { actingUserId: "u_admin" }, 404],
      ["DELETE", `/organizations/${ORG}/members/u_nobody`, undefined, 404],
      ["DELETE", "/resources/time_entry/te_nope", undefined, 404],
      ["GET", "/nothing/here", undefined, 404],
      ["PATCH", `/organizations/${ORG}/keys`, undefined, 405],
      ["PUT", `/organizations/${ORG}/members/u_x`, { role: "overlord" }, 400],
      ["GET", `/organizations/${ORG}/keys?color=blue`, undefined, 400],
    ];
    for (const [method, path, body, status] of checks) {
      const res = await w.admin.call(method, path, body);
      assert.equal(res.status, status, `${method} ${path}: ${res.text}`);
      assert.equal(typeof res.body.reason, "string");
    }
  });

  test("a failed import or resource batch writes nothing", async () => {
    const before = await countKeys();
    const hash = (c) => c.repeat(64);
    const good = { keyHash: hash("a"), hint: "aaaa", name: "imported", createdBy: "u_admin", scope: "organization" };
    const res = await w.admin.call("POST", `/organizations/${ORG}/keys/import`, {
      keys: [good, { ...good, keyHash: "not-a-hash" }],
    });
    assert.equal(res.status, 400);
    assert.match(res.body.message, /keys\[1\]\.keyHash/);
    const dup = await w.admin.call("POST", `/organizations/${ORG}/keys/import`, { keys: [good, { ...good, id: "key_other" }] });
    assert.equal(dup.status, 409, "the same hash twice");
    assert.equal(await countKeys(), before, "neither import wrote anything");

    const batch = await w.admin.call("POST", "/resources/batch", {
      put: [{ kind: "time_entry", id: "te_new", organizationId: ORG, projectId: "p1" }, { kind: "time_entry", id: "bad id", organizationId: ORG, projectId: "p1" }],
    });
    assert.equal(batch.status, 400);
    const probe = await w.admin.call("DELETE", "/resources/time_entry/te_new");
    assert.equal(probe.status, 404, "the valid half of the batch was not written");
    const ok = await w.admin.resourceBatch({ put: [{ kind: "time_entry", id: "te_new", organizationId: ORG, projectId: "p1" }], remove: [{ kind: "time_entry", id: "te_1" }] });
    assert.deepEqual(ok, { put: 1, removed: 1 });
    assert.equal((await w.admin.call("DELETE", "/resources/time_entry/te_new")).status, 204);

    const imported = await w.admin.importKeys(ORG, [good]);
    assert.equal(imported.keys[0].hint, "aaaa");
    assert.equal(await countKeys(), before + 1, "the corrected import is written whole");
  });
});

describe("admin API: event webhooks (replay, deliveries)", () => {
  let gw;
  let receiver;
  let admin;
  before(async () => {
    receiver = await startReceiver();
    gw = await startGateway({ bindings: { KEYSCOPE_EVENTS_URL: receiver.url, KEYSCOPE_EVENTS_SECRET: "whsec_admin_test" } });
    admin = track(gw.admin);
  });
  after(async () => {
    await gw.dispose();
    await receiver.close();
  });
  const tries = (id) => receiver.received.filter((d) => d.headers["keyscope-event-id"] === id).length;

  test("replay sends the chosen events again under their ids; deliveries shows their state", async () => {
    const since = new Date().toISOString();
    await admin.putMember(ORG, "u_admin", "admin");
    const { key } = await admin.createKey(ORG, { actingUserId: "u_admin", name: "hooked", scope: "organization" });
    const [created] = (await admin.ok("GET", `/organizations/${ORG}/audit-events?keyId=${key.id}`)).events;
    await waitFor(() => tries(created.id) === 1, "the first delivery");
    const listed = await admin.ok("GET", `/organizations/${ORG}/events/deliveries?state=delivered`);
    const row = listed.deliveries.find((d) => d.eventId === created.id);
    assert.deepEqual([row.type, row.keyId, row.state, row.attempts, row.lastStatus, row.nextAttemptAt], ["key.created", key.id, "delivered", 1, 200, null]);

    const res = await admin.call("POST", `/organizations/${ORG}/events/replay`, { since, keyId: key.id, type: "key.created" });
    assert.equal(res.status, 202, res.text);
    assert.deepEqual(res.body, { replayed: 1, eventIds: [created.id], more: false, enqueued: true });
    await waitFor(() => tries(created.id) === 2, "the replayed delivery, under the same event id");
    const again = JSON.parse(receiver.received.filter((d) => d.headers["keyscope-event-id"] === created.id)[1].body);
    assert.equal(again.event.id, created.id);
    const none = await admin.call("POST", `/organizations/${ORG}/events/replay`, { since, type: "member.removed" });
    assert.deepEqual(none.body, { replayed: 0, eventIds: [], more: false, enqueued: true });
  });

  test("bad input is a 400 that names it; without webhooks configured both are absent (404)", async () => {
    for (const body of [{}, { since: "yesterday" }, { since: "2026-01-01T00:00:00Z", type: "key.deleted" }, { since: "2026-01-01T00:00:00Z", type: "event.delivery_failed" }, { since: "2026-01-01T00:00:00Z", extra: 1 }]) {
      const res = await gw.admin.call("POST", `/organizations/${ORG}/events/replay`, body);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal(res.body.reason, "invalid_request");
    }
    for (const query of ["state=lost", "limit=0", "limit=101", "page=2"]) {
      assert.equal((await gw.admin.call("GET", `/organizations/${ORG}/events/deliveries?${query}`)).status, 400, query);
    }
    const plain = await startGateway();
    try {
      assert.equal((await plain.admin.call("GET", `/organizations/${ORG}/events/deliveries`)).status, 404);
      const res = await plain.admin.call("POST", `/organizations/${ORG}/events/replay`, { since: "2026-01-01T00:00:00Z" });
      assert.equal(res.status, 404);
      assert.equal(res.body.reason, "not_found");
    } finally {
      await plain.dispose();
    }
  });
});

describe("admin API: not configured", () => {
  test("without KEYSCOPE_ADMIN_TOKEN the admin API answers 503 and does nothing", async () => {
    const gw = await startGateway({ bindings: { KEYSCOPE_ADMIN_TOKEN: "" } });
    try {
      const res = await new AdminClient(gw.mf).call("PUT", `/organizations/${ORG}/members/u_admin`, { role: "admin" });
      assert.equal(res.status, 503);
      assert.equal(res.body.reason, "unavailable");
    } finally {
      await gw.dispose();
    }
  });
});

describe("the OpenAPI document (edge-worker/openapi.json)", () => {
  const file = join(ROOT, "edge-worker", "openapi.json");
  const doc = JSON.parse(readFileSync(file, "utf8"));

  test("is a valid OpenAPI 3.1 document whose references all resolve", async () => {
    const validator = new Validator();
    const result = await validator.validate(doc);
    assert.equal(result.valid, true, JSON.stringify(result.errors));
    assert.equal(validator.version, "3.1");
    assert.doesNotThrow(() => validator.resolveRefs());
  });

  test("describes exactly the routes the tests exercise", () => {
    const documented = new Set();
    for (const [path, item] of Object.entries(doc.paths)) {
      if (!path.startsWith("/admin/v1/")) continue; // the secret-scanning endpoint: scanning.test.mjs
      for (const method of ["get", "put", "post", "delete", "patch"]) if (item[method]) documented.add(`${method.toUpperCase()} ${path}`);
    }
    assert.ok(EXERCISED.size > 0);
    assert.deepEqual([...EXERCISED].filter((r) => !documented.has(r)), [], "exercised but undocumented");
    assert.deepEqual([...documented].filter((r) => !EXERCISED.has(r)), [], "documented but never exercised");
  });
});
