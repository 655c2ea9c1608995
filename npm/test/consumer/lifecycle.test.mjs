// Key lifecycle plans from the package: a JavaScript backend that manages its own keys gets the
// gateway's rules and errors (policy-core's plans), and the keys it plans decide as expected.
import assert from "node:assert/strict";
import { test } from "node:test";
import keyscope from "keyscope";

const engine = new keyscope.Engine();
const now = Date.parse("2026-06-01T00:00:00Z");
const admin = { userId: "u_admin", role: "admin" };
const engineer = { userId: "u_eng", role: "engineer" };
const refused = (code, extra = {}) => (e) => {
  assert.ok(e instanceof keyscope.LifecycleError && e instanceof keyscope.KeyscopeError, String(e));
  assert.equal(e.code, code, e.message);
  for (const [k, v] of Object.entries(extra)) assert.equal(e[k], v, k);
  return true;
};

test("create: a record to store, a secret to show once, and it decides", () => {
  const planned = engine.planCreate({ organizationId: "org_a", actor: engineer, name: "deploy", scope: "project", scopedProjectId: "p1", preset: "read", now });
  assert.equal(keyscope.hashKey(planned.secret), planned.hash);
  assert.equal(planned.record.hint, keyscope.keyHint(planned.secret));
  assert.equal(planned.record.createdBy, "u_eng");
  assert.equal(planned.record.createdAt.getTime(), now);
  assert.match(planned.record.id, /^key_[0-9a-f]{24}$/);
  assert.ok(planned.record.permissions.includes("read:project") && !planned.record.permissions.includes("write:project"));
  const store = { findKey: (h) => (h === planned.hash ? planned.record : null), findRole: () => "engineer" };
  const req = (method, url) => ({ method, url, headers: { "x-api-key": planned.secret } });
  assert.equal(engine.authorizeSync(req("GET", "/api/v1/projects/p1/entries"), store, { now }).allowed, true);
  assert.equal(engine.authorizeSync(req("POST", "/api/v1/projects/p1/entries"), store, { now }).reason, "forbidden");
});

test("create: the gateway's rules, as errors naming the rule and field", () => {
  const base = { organizationId: "org_a", name: "k", now };
  assert.throws(() => engine.planCreate({ ...base, actor: engineer, scope: "organization" }), refused("may_not_create", { status: 403, kind: "forbidden" }));
  assert.throws(() => engine.planCreate({ ...base, actor: { userId: "u_x", role: null }, scope: "organization" }), refused("not_a_member", { status: 403 }));
  assert.throws(() => engine.planCreate({ ...base, actor: admin, scope: "project" }), refused("project_required", { status: 400 }));
  assert.throws(() => engine.planCreate({ ...base, actor: { userId: "u_m", role: "member" }, scope: "project", scopedProjectId: "p1" }), refused("may_not_create"));
  assert.throws(() => engine.planCreate({ ...base, actor: engineer, scope: "project", scopedProjectId: "p1", permissions: ["invite:user"] }), refused("beyond_role", { status: 403 }));
  assert.throws(() => engine.planCreate({ ...base, actor: admin, scope: "organization", permissions: ["nope"] }), refused("unknown_permissions", { field: "permissions", status: 400 }));
  assert.throws(() => engine.planCreate({ ...base, actor: admin, scope: "organization", name: "  " }), refused("invalid_name", { field: "name" }));
  assert.throws(() => engine.planCreate({ ...base, actor: admin, scope: "organization", expiresAt: now - 1 }), refused("expiry_not_in_future", { field: "expiresAt" }));
  assert.throws(() => engine.planCreate({ ...base, actor: admin, scope: "organization", preset: "read", permissions: ["search"] }), refused("preset_and_permissions", { field: "preset", status: 400 }));
});

test("rotate and revoke: who may, and what changes", () => {
  const { record } = engine.planCreate({ organizationId: "org_a", actor: engineer, name: "deploy", scope: "project", scopedProjectId: "p1", now });
  const rotated = engine.planRotate({ actor: admin, key: record, gracePeriodSeconds: 3600, now: now + 1000 });
  assert.equal(rotated.record.createdBy, "u_admin", "the new key is the actor's");
  assert.equal(rotated.record.scopedProjectId, "p1");
  assert.equal(rotated.oldRevokedAt.getTime(), now + 1000 + 3600 * 1000);
  assert.equal(keyscope.hashKey(rotated.secret), rotated.hash);
  assert.throws(() => engine.planRotate({ actor: { userId: "u_other", role: "engineer" }, key: record, now }), refused("not_yours", { status: 403 }));
  assert.throws(() => engine.planRotate({ actor: admin, key: record, gracePeriodSeconds: 31 * 86400, now }), refused("grace_too_long", { field: "gracePeriodSeconds" }));

  const revoked = engine.planRevoke({ actor: engineer, key: record, now: now + 5 });
  assert.deepEqual(revoked, { revokedAt: new Date(now + 5), changed: true });
  const again = engine.planRevoke({ actor: engineer, key: { ...record, revokedAt: new Date(now) }, now: now + 5 });
  assert.deepEqual(again, { revokedAt: new Date(now), changed: false }, "a revocation is never moved later");
  assert.throws(() => engine.planRotate({ actor: admin, key: { ...record, revokedAt: new Date(now) }, now: now + 5 }), refused("key_revoked", { status: 409, kind: "conflict" }));
  assert.throws(() => engine.planRevoke({ actor: admin, key: { ...record, createdAt: undefined }, now }), (e) => e instanceof keyscope.RecordError && e.field === "createdAt");
});

test("member roles", () => {
  assert.equal(engine.planMemberRole("manager"), undefined);
  assert.throws(() => engine.planMemberRole("Admin"), refused("unknown_role", { field: "role" }));
});
