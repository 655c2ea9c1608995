// The package under another API's policy (SPEC "Policy documents: any API"): the policy's key
// prefix in every key helper and plan, the tenant and the user in the path, and more than 64
// permissions read back from a decision.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import keyscope from "keyscope";

const POLICIES = join(import.meta.dirname, "..", "..", "..", "tests", "vectors", "policies");
const workspaces = readFileSync(join(POLICIES, "workspaces.json"), "utf8");
const catalog = JSON.parse(readFileSync(join(POLICIES, "catalog.json"), "utf8"));
const now = Date.parse("2026-06-01T00:00:00Z");

test("an engine makes and reads keys of its policy's prefix, and refuses others", () => {
  const engine = new keyscope.Engine({ policy: workspaces });
  assert.equal(engine.keyPrefix, "clk");
  const key = engine.generateKey();
  assert.match(key.secret, /^clk_live_[0-9A-Za-z]{36}$/);
  assert.equal(engine.parseKey(key.secret).hash, key.hash);
  assert.throws(() => engine.parseKey(keyscope.generateKey().secret), (e) => e instanceof keyscope.KeyError && e.code === "wrong_length");
  assert.equal(keyscope.hashKey(key.secret, { prefix: "clk" }), key.hash);
  assert.equal(keyscope.isValidKey(key.secret), false, "the default prefix is ck");
  assert.throws(() => keyscope.generateKey({ prefix: "Clk" }), TypeError);
  const planned = engine.planCreate({ organizationId: "ws_a", actor: { userId: "u_1", role: "member" }, name: "bot", scope: "project", scopedProjectId: "p1", now });
  assert.match(planned.secret, /^clk_live_/);
  assert.equal(new keyscope.Engine().keyPrefix, "ck");
});

test("the tenant and the user in the path decide", () => {
  const engine = new keyscope.Engine({ policy: workspaces });
  const key = engine.generateKey();
  const record = { id: "key_1", name: "k", hint: key.hint, organizationId: "ws_a", createdBy: "u_1", scope: "organization", scopedProjectId: null, permissions: null, createdAt: now };
  const store = { findKey: (h) => (h === key.hash ? record : null), findRole: () => "member", findResource: () => null };
  const decide = (url) => engine.authorizeSync({ method: "GET", url, headers: { "x-api-key": key.secret } }, store, { now });
  assert.equal(decide("/api/v1/workspaces/ws_a/projects").allowed, true);
  const other = decide("/api/v1/workspaces/ws_b/projects");
  assert.deepEqual([other.status, other.reason, other.message], [403, "scope_violation", "This key belongs to another organization."]);
  assert.equal(decide("/api/v1/workspaces/ws_a/user/u_1/time-entries").allowed, true);
  assert.equal(decide("/api/v1/workspaces/ws_a/user/u_2/time-entries").reason, "forbidden");
});

test("a decision reads back permissions past the first 64 (a wide policy)", () => {
  const engine = new keyscope.Engine({ policy: catalog });
  const key = engine.generateKey();
  const high = ["read:k99", "write:k64", "read:k32", "read:k00"];
  const record = { id: "key_w", name: "k", hint: key.hint, organizationId: "org_a", createdBy: "u_e", scope: "organization", scopedProjectId: null, permissions: high, createdAt: now };
  const store = { findKey: () => record, findRole: () => "editor", findResource: () => null };
  const d = engine.authorizeSync({ method: "GET", url: "/v2/orgs/org_a/k99", headers: { "x-api-key": key.secret } }, store, { now });
  assert.equal(d.allowed, true, d.message);
  assert.deepEqual(d.permissions, catalog.permissions.filter((p) => high.includes(p)));
  assert.equal(engine.permissions.length, 200);
});
