// The middleware in real Express and Hono apps, and the fetch wrapper, on loopback HTTP.
import assert from "node:assert/strict";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { after, before, describe, test } from "node:test";
import express from "express";
import { Hono } from "hono";
import { serve } from "@hono/node-server";
import keyscope from "keyscope";

const admin = keyscope.generateKey();
const member = keyscope.generateKey();
const projectKey = keyscope.generateKey();
const revoked = keyscope.generateKey();
const readOnly = keyscope.generateKey();
const broken = keyscope.generateKey();
const testKey = keyscope.generateKey({ environment: "test" });

const record = (key, fields) => ({
  id: fields.id,
  name: fields.id,
  hint: key.hint,
  organizationId: "org_a",
  createdBy: "u_admin",
  scope: "organization",
  createdAt: new Date("2026-01-01T00:00:00Z"),
  ...fields,
});
const keys = new Map([
  [admin.hash, record(admin, { id: "k_admin" })],
  [member.hash, record(member, { id: "k_member", createdBy: "u_member" })],
  [projectKey.hash, record(projectKey, { id: "k_project", scope: "project", scopedProjectId: "p1" })],
  [revoked.hash, record(revoked, { id: "k_revoked", revokedAt: "2026-02-01T00:00:00Z" })],
  [readOnly.hash, record(readOnly, { id: "k_read", permissions: ["read:project"] })],
]);
const roles = new Map([["org_a/u_admin", "admin"], ["org_a/u_member", "member"]]);
const store = {
  async findKey(hash) {
    if (hash === broken.hash) throw new Error("database down");
    return keys.get(hash);
  },
  async findRole(org, user) {
    return roles.get(`${org}/${user}`);
  },
  async findResource(kind, id) {
    return id === "te_1" ? { organizationId: "org_a", projectId: "p1" } : id === "te_2" ? { organizationId: "org_a", projectId: "p2" } : null;
  },
};

// What every app answers for an allowed request: who keyscope said is calling.
const identity = (d) => ({ keyId: d.keyId, role: d.role, scope: d.scope, projectFilter: d.projectFilter });

function expressApp() {
  const app = express();
  app.use(keyscope.express({ store }));
  app.all("/api/v1/{*rest}", (req, res) => res.json(identity(req.keyscope)));
  return app;
}

function honoApp() {
  const app = new Hono();
  app.use("*", keyscope.hono({ store }));
  app.all("*", (c) => c.json(identity(c.get("keyscope"))));
  return app;
}

function fetchHandler() {
  return keyscope.withKeyscope(async (_request, decision) => Response.json(identity(decision)), { store });
}

async function listen(kind) {
  if (kind === "express") {
    const server = expressApp().listen(0, "127.0.0.1");
    await once(server, "listening");
    return { url: `http://127.0.0.1:${server.address().port}`, close: () => server.close() };
  }
  const fetch = kind === "hono" ? honoApp().fetch : fetchHandler();
  const server = serve({ fetch, hostname: "127.0.0.1", port: 0 });
  await once(server, "listening");
  return { url: `http://127.0.0.1:${server.address().port}`, close: () => server.close() };
}

const CASES = [
  { name: "no key: 401 missing_key with a challenge", path: "/api/v1/projects", status: 401, reason: "missing_key" },
  { name: "malformed key", key: "ck_live_nope", path: "/api/v1/projects", status: 401, reason: "invalid_key" },
  { name: "test key on a live engine", key: testKey.secret, path: "/api/v1/projects", status: 401, reason: "invalid_key" },
  { name: "unknown key", key: keyscope.generateKey().secret, path: "/api/v1/projects", status: 401, reason: "invalid_key" },
  { name: "revoked key", key: revoked.secret, path: "/api/v1/projects", status: 401, reason: "key_revoked" },
  { name: "admin key allowed", key: admin.secret, path: "/api/v1/projects", status: 200, body: { keyId: "k_admin", role: "admin", scope: "organization", projectFilter: null } },
  { name: "Bearer works too", bearer: admin.secret, path: "/api/v1/users", status: 200 },
  { name: "member lacks invite:user", key: member.secret, method: "POST", path: "/api/v1/users/invite", status: 403, reason: "forbidden" },
  { name: "explicit grants narrow", key: readOnly.secret, method: "POST", path: "/api/v1/projects", status: 403, reason: "forbidden" },
  { name: "project key on an org endpoint", key: projectKey.secret, path: "/api/v1/users", status: 403, reason: "scope_violation" },
  { name: "project key list is filtered", key: projectKey.secret, path: "/api/v1/projects", status: 200, body: { keyId: "k_project", role: "admin", scope: "project", projectFilter: "p1" } },
  { name: "project key, own resource", key: projectKey.secret, method: "PATCH", path: "/api/v1/time-entries/te_1", status: 200 },
  { name: "project key, other project's resource", key: projectKey.secret, method: "PATCH", path: "/api/v1/time-entries/te_2", status: 404, reason: "not_found" },
  { name: "unknown endpoint", key: admin.secret, path: "/api/v1/nope", status: 404, reason: "not_found" },
  { name: "store failure fails closed", key: broken.secret, path: "/api/v1/projects", status: 503, reason: "unavailable" },
  { name: "/me is answered by keyscope", key: readOnly.secret, path: "/api/v1/me", status: 200, me: { apiKeyId: "k_read", permissions: ["read:project"], effectivePermissions: ["read:project"], role: "admin" } },
];

for (const kind of ["express", "hono", "fetch"]) {
  describe(`${kind} middleware`, () => {
    let app;
    before(async () => {
      app = await listen(kind);
    });
    after(() => app.close());

    for (const c of CASES) {
      test(c.name, async () => {
        const headers = {};
        if (c.key) headers["x-api-key"] = c.key;
        if (c.bearer) headers.authorization = `Bearer ${c.bearer}`;
        const res = await fetch(app.url + c.path, { method: c.method ?? "GET", headers });
        const text = await res.text();
        assert.equal(res.status, c.status, text);
        const body = JSON.parse(text);
        if (c.reason) {
          assert.match(res.headers.get("content-type"), /^application\/json/);
          assert.deepEqual(Object.keys(body), ["reason", "message"]);
          assert.equal(body.reason, c.reason);
          assert.equal(res.headers.get("www-authenticate") !== null, c.status === 401);
          if (c.key) assert.ok(!text.includes(c.key.slice(8)), "the key is never echoed");
          return;
        }
        if (c.body) assert.deepEqual(body, c.body);
        if (c.me) for (const [k, v] of Object.entries(c.me)) assert.deepEqual(body[k], v, k);
      });
    }
  });
}

describe("configuration errors", () => {
  test("middleware without a store is refused at set-up", () => {
    assert.throws(() => keyscope.express({}), /store/);
    assert.throws(() => keyscope.hono({ store: { findKey() {} } }), /findRole/);
    assert.throws(() => keyscope.withKeyscope(() => {}, undefined), /store/);
  });
  test("an invalid policy names the field", () => {
    const policy = JSON.parse(JSON.stringify(require_align()));
    policy.endpoints[0].permission = "nope";
    assert.throws(() => new keyscope.Engine({ policy }), (err) => err.name === "PolicyError" && err.field === "endpoints[0].permission");
  });
  test("an unknown environment is refused", () => {
    assert.throws(() => new keyscope.Engine({ environment: "prod" }), /environment/);
  });
});

function require_align() {
  return JSON.parse(readFileSync(new URL("../../../policy-core/policies/align.json", import.meta.url), "utf8"));
}

describe("engine behaviour around the store", () => {
  const now = Date.parse("2026-06-01T00:00:00Z");
  const req = (key, path = "/api/v1/projects", method = "GET") => ({ method, url: path, headers: { "x-api-key": key } });

  test("the key cache never outlives revocation, role changes or eviction", () => {
    const engine = new keyscope.Engine({ keyCache: 2 });
    const rows = new Map([[admin.hash, record(admin, { id: "k_admin" })], [member.hash, record(member, { id: "k_member", createdBy: "u_member" })]]);
    const role = new Map([["u_admin", "admin"], ["u_member", "member"]]);
    const mem = { findKey: (h) => rows.get(h), findRole: (_o, u) => role.get(u) };
    const third = keyscope.generateKey();
    rows.set(third.hash, record(third, { id: "k_third" }));
    for (let round = 0; round < 3; round++) {
      for (const k of [admin, member, third]) assert.equal(engine.authorizeSync(req(k.secret), mem, { now }).allowed, true);
    }
    rows.set(admin.hash, record(admin, { id: "k_admin", revokedAt: now - 1 }));
    assert.equal(engine.authorizeSync(req(admin.secret), mem, { now }).reason, "key_revoked");
    role.set("u_member", "member");
    assert.equal(engine.authorizeSync(req(member.secret, "/api/v1/users/invite", "POST"), mem, { now }).reason, "forbidden");
    role.set("u_member", "admin");
    assert.equal(engine.authorizeSync(req(member.secret, "/api/v1/users/invite", "POST"), mem, { now }).allowed, true);
    role.delete("u_member");
    assert.equal(engine.authorizeSync(req(member.secret), mem, { now }).reason, "key_revoked");
    // A cached key presented in another header, or in a malformed spelling, is judged afresh.
    const bearer = (k) => ({ method: "GET", url: "/api/v1/projects", headers: { authorization: `Bearer ${k}` } });
    assert.equal(engine.authorizeSync(bearer(third.secret), mem, { now }).allowed, true);
    const odd = { method: "GET", url: "/api/v1/projects", headers: { "x-api-key": `\u0000Bearer ${third.secret}` } };
    assert.equal(engine.authorizeSync(odd, mem, { now }).reason, "invalid_key");
    const both = { method: "GET", url: "/api/v1/projects", headers: { "x-api-key": third.secret, authorization: `Bearer ${member.secret}` } };
    assert.equal(engine.authorizeSync(both, mem, { now }).reason, "invalid_key", "two different keys");
    assert.equal(engine.authorizeSync(both, mem, { now }).reason, "invalid_key", "and again, from the cache or not");
    const uncached = new keyscope.Engine({ keyCache: 0 });
    assert.equal(uncached.authorizeSync(req(third.secret), mem, { now }).allowed, true);
    assert.throws(() => new keyscope.Engine({ keyCache: -1 }), /keyCache/);
  });

  test("store answers of the wrong shape fail closed (503), never open", async () => {
    const engine = new keyscope.Engine({ onStoreError: () => {} });
    const bad = [
      { findKey: () => ({ id: 1 }), findRole: () => "admin" },
      { findKey: () => record(admin, { id: "k", scope: "galaxy" }), findRole: () => "admin" },
      { findKey: () => record(admin, { id: "k", createdAt: "not a date" }), findRole: () => "admin" },
      { findKey: () => record(admin, { id: "k", permissions: "read:project" }), findRole: () => "admin" },
      { findKey: () => record(admin, { id: "k" }), findRole: () => 42 },
      { findKey: () => record(admin, { id: "k" }), findRole: () => "superuser" },
      { findKey: () => { throw new Error("down"); }, findRole: () => "admin" },
    ];
    for (const store of bad) {
      const d = await engine.authorize(req(admin.secret), store, { now });
      assert.equal(d.status, 503, JSON.stringify(d));
      assert.equal(d.reason, "unavailable");
    }
    const sync = engine.authorizeSync(req(admin.secret), { findKey: async () => null, findRole: () => "admin" }, { now });
    assert.equal(sync.reason, "unavailable", "a promise from a synchronous store is an unanswered lookup");
    const noResource = await engine.authorize(req(projectKey.secret, "/api/v1/time-entries/te_1", "PATCH"), { findKey: () => keys.get(projectKey.hash), findRole: () => "admin" }, { now });
    assert.equal(noResource.reason, "unavailable", "a project key needs findResource");
  });

  test("plain rows and prepared KeyRecords decide alike", () => {
    const engine = new keyscope.Engine();
    const row = record(readOnly, { id: "k_read", permissions: ["read:project"] });
    const prepared = new keyscope.KeyRecord(row);
    for (const found of [row, prepared]) {
      const store = { findKey: () => found, findRole: () => "admin" };
      assert.equal(engine.authorizeSync(req(readOnly.secret), store, { now }).allowed, true);
      assert.equal(engine.authorizeSync(req(readOnly.secret, "/api/v1/projects", "POST"), store, { now }).reason, "forbidden");
      assert.deepEqual(engine.authorizeSync(req(readOnly.secret, "/api/v1/me"), store, { now }).me().effectivePermissions, ["read:project"]);
    }
    assert.throws(() => new keyscope.KeyRecord({ id: "x" }), (e) => e instanceof keyscope.RecordError && e.field === "name");
  });

  test("key helpers", () => {
    const k = keyscope.generateKey({ environment: "test" });
    assert.match(k.secret, /^ck_test_[0-9A-Za-z]{36}$/);
    assert.equal(keyscope.hashKey(k.secret), createHash("sha256").update(k.secret).digest("hex"));
    assert.equal(keyscope.keyHint(k.secret), k.secret.slice(-4));
    assert.equal(keyscope.isValidKey(k.secret, { environment: "live" }), false);
    const tampered = k.secret.slice(0, 10) + (k.secret[10] === "a" ? "b" : "a") + k.secret.slice(11);
    assert.throws(() => keyscope.parseKey(tampered), (e) => e.name === "KeyError" && e.code === "checksum_mismatch" && !e.message.includes(tampered));
    assert.throws(() => keyscope.parseKey(42), (e) => e instanceof keyscope.KeyError && e.code === "not_a_string");
  });
});

describe("no decision is left behind", () => {
  test("every decision releases its slot, whatever the store does", async () => {
    const engine = new keyscope.Engine({ onStoreError: () => {} });
    const hostile = new Proxy({}, { get() { throw new Error("boom"); } });
    const stores = [
      { findKey: () => hostile, findRole: () => "admin" },
      { findKey: () => { throw new Error("down"); }, findRole: () => "admin" },
      { findKey: async () => keys.get(admin.hash), findRole: async () => { throw new Error("down"); } },
      { findKey: () => keys.get(admin.hash), findRole: () => "admin" },
    ];
    for (const store of stores) {
      for (let i = 0; i < 3; i++) {
        const d = await engine.authorize({ method: "GET", url: "/api/v1/projects", headers: { "x-api-key": admin.secret } }, store);
        assert.ok(d.allowed || d.reason === "unavailable", JSON.stringify(d));
      }
    }
    assert.equal(engine._wasm.pending, 0, "no slot is left occupied");
  });
});
