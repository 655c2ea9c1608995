"use strict";
// Runs every conformance vector (tests/vectors/*.json) through an installed `keyscope`
// module: SPEC's expectations exactly (no gateway or platform in between), for both the async
// `authorize` and `authorizeSync`, each file under the policy it names (default: Align).
const assert = require("node:assert/strict");
const { createHash } = require("node:crypto");
const { readdirSync, readFileSync } = require("node:fs");
const { join } = require("node:path");
const { describe, test } = require("node:test");

const VECTORS = join(__dirname, "..", "..", "..", "tests", "vectors");

function world(vector) {
  const keys = new Map();
  for (const { secret, ...record } of vector.keys ?? []) {
    keys.set(createHash("sha256").update(secret).digest("hex"), { ...record, hint: secret.slice(-4) });
  }
  const roles = new Map((vector.members ?? []).map((m) => [`${m.organizationId}\n${m.userId}`, m.role]));
  const resources = new Map((vector.resources ?? []).map((r) => [`${r.kind}\n${r.id}`, r]));
  const sync = {
    findKey: (hash) => keys.get(hash),
    findRole: (org, user) => roles.get(`${org}\n${user}`),
    findResource: (kind, id) => resources.get(`${kind}\n${id}`),
  };
  const async = {
    findKey: async (hash) => sync.findKey(hash),
    findRole: async (org, user) => sync.findRole(org, user),
    findResource: async (kind, id) => sync.findResource(kind, id),
  };
  return { sync, async, roles, keys };
}

function check(c, vector, w, d, engine) {
  const e = c.expect;
  assert.equal(d.allowed, e.allow, `allowed (${d.reason ?? ""} ${d.message ?? ""})`);
  if (!e.allow) {
    assert.equal(d.status, e.status);
    assert.equal(d.reason, e.reason);
    assert.equal(typeof d.message, "string");
    assert.deepEqual(Object.keys(d.body()), ["reason", "message"]);
    assert.equal(d.wwwAuthenticate !== null, d.status === 401, "WWW-Authenticate exactly on 401");
    for (const k of vector.keys ?? []) assert.ok(!d.message.includes(k.secret.slice(-36, -6)), "never echo a key");
    return;
  }
  assert.equal(d.status, 200);
  assert.equal(d.projectFilter, e.projectFilter ?? null, "project filter");
  const key = (vector.keys ?? []).find((k) => k.id === d.keyId);
  assert.ok(key, "the identity names a key of the world");
  assert.equal(d.organizationId, key.organizationId);
  assert.equal(d.userId, key.createdBy);
  assert.equal(d.scope, key.scope);
  assert.equal(d.role, w.roles.get(`${key.organizationId}\n${key.createdBy}`));
  const isMe = c.path.split("?")[0] === engine.mePath;
  assert.equal(d.servesMe, isMe, "servesMe exactly on GET /me");
  if (!isMe) assert.equal(d.me(), null);
  if (e.me) {
    assert.ok(d.servesMe, "a /me request is served by keyscope");
    const me = d.me();
    for (const [field, value] of Object.entries(e.me)) assert.deepEqual(me[field], value, `/me ${field}`);
    assert.deepEqual(me.effectivePermissions, d.permissions);
  }
}

module.exports = function runVectors(keyscope, flavour) {
  const files = readdirSync(VECTORS).filter((f) => f.endsWith(".json")).sort();
  assert.ok(files.length > 0, "vectors found");
  for (const file of files) {
    const vector = JSON.parse(readFileSync(join(VECTORS, file), "utf8"));
    const policy = vector.policy === undefined ? undefined : readFileSync(join(VECTORS, vector.policy), "utf8");
    const engine = new keyscope.Engine({ environment: vector.environment ?? "live", policy });
    const now = Date.parse(vector.now);
    const w = world(vector);
    describe(`${flavour}: vectors/${file}`, () => {
      for (const c of vector.cases) {
        test(c.name, async () => {
          const request = { method: c.method, url: c.path, headers: c.headers ?? {}, clientIp: c.clientIp };
          check(c, vector, w, await engine.authorize(request, w.async, { now }), engine);
          check(c, vector, w, engine.authorizeSync(request, w.sync, { now }), engine);
        });
      }
    });
  }
};
