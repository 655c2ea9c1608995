// What a key list shows of a key, from the package: its status at `now` (a creator who left
// included), its preset, who may change it, what a role may do with keys; the key headers and
// the `/me` path. The same rules the gateway's console shows (policy-core's).
import assert from "node:assert/strict";
import { test } from "node:test";
import keyscope, { KEY_HEADER, KEY_HEADER_NAME, AUTHORIZATION_HEADER } from "keyscope";

const engine = new keyscope.Engine();
const now = Date.parse("2026-06-01T00:00:00Z");
const engineer = { userId: "u_eng", role: "engineer" };
const planned = engine.planCreate({ organizationId: "org_a", actor: engineer, name: "deploy", scope: "project", scopedProjectId: "p1", preset: "read", now });
const key = planned.record;

test("a key's status: revoked, then expired, then a creator who left", () => {
  const status = (changes, creatorRole, at = now + 1) => engine.keyStatus({ key: { ...key, ...changes }, creatorRole, now: at });
  assert.equal(status({}, "engineer"), "active");
  assert.equal(status({ revokedAt: now + 10 }, "engineer"), "active", "a scheduled revocation");
  assert.equal(status({ revokedAt: now + 1 }, "engineer"), "revoked", "revoked at now");
  assert.equal(status({ expiresAt: now + 1 }, "engineer"), "expired", "expiring at now");
  assert.equal(status({ revokedAt: now, expiresAt: now }, null), "revoked");
  assert.equal(status({ expiresAt: now }, null), "expired");
  assert.equal(status({}, null), "creator_left");
  assert.equal(status({}, "intern"), "creator_left", "a role the policy does not define is no membership");
  assert.throws(() => engine.keyStatus({ key, creatorRole: 3, now }), TypeError);
});

test("where a key stands for its viewer, as the console shows it", () => {
  const standing = (actor, changes = {}, creatorRole = "engineer") => engine.keyStanding({ actor, key: { ...key, ...changes }, creatorRole, now: now + 1 });
  assert.deepEqual(standing(engineer), { preset: "read", status: "active", canChange: true, canRotate: true, canRevoke: true, canEditControls: true });
  assert.deepEqual(standing({ userId: "u_x", role: "engineer" }), { preset: "read", status: "active", canChange: false, canRotate: false, canRevoke: false, canEditControls: false });
  const admin = { userId: "u_boss", role: "admin" };
  assert.deepEqual(standing(admin, { expiresAt: now }), { preset: "read", status: "expired", canChange: true, canRotate: false, canRevoke: true, canEditControls: false });
  assert.deepEqual(standing(admin, { revokedAt: now }), { preset: "read", status: "revoked", canChange: true, canRotate: false, canRevoke: false, canEditControls: false });
  assert.deepEqual(standing(admin, {}, null), { preset: "read", status: "creator_left", canChange: true, canRotate: true, canRevoke: true, canEditControls: true });
});

test("a key's preset, who may change it, and what a role may do", () => {
  assert.equal(engine.presetOf(key.permissions), "read");
  assert.equal(engine.presetOf(null), "full");
  assert.equal(engine.presetOf(["read:project"]), null);
  assert.deepEqual(engine.presets, ["full", "read", "write"]);
  assert.equal(engine.checkKeyChange({ actor: engineer, key }), undefined);
  assert.equal(engine.checkKeyChange({ actor: { userId: "u_boss", role: "admin" }, key }), undefined);
  assert.throws(() => engine.checkKeyChange({ actor: { userId: "u_x", role: "engineer" }, key }),
    (e) => e instanceof keyscope.LifecycleError && e.code === "not_yours" && e.status === 403);
  assert.throws(() => engine.checkKeyChange({ actor: { userId: "u_eng", role: null }, key }),
    (e) => e instanceof keyscope.LifecycleError && e.code === "not_a_member");
  assert.deepEqual(engine.keyAbilities("engineer"), { createOrganizationKeys: false, createProjectKeys: true, manageEveryKey: false });
  assert.deepEqual(engine.keyAbilities("admin"), { createOrganizationKeys: true, createProjectKeys: true, manageEveryKey: true });
  assert.deepEqual(engine.keyAbilities(null), { createOrganizationKeys: false, createProjectKeys: false, manageEveryKey: false });
});

test("a fresh key id, the key headers and the /me path are the engine's", () => {
  assert.match(planned.record.id, /^key_[0-9a-f]{24}$/);
  assert.notEqual(engine.planCreate({ organizationId: "org_a", actor: engineer, name: "b", scope: "project", scopedProjectId: "p1", now }).record.id, planned.record.id);
  assert.equal(KEY_HEADER, "x-api-key");
  assert.equal(AUTHORIZATION_HEADER, "authorization");
  assert.equal(KEY_HEADER_NAME, "X-Api-Key");
  assert.equal(keyscope.KEY_HEADER, KEY_HEADER);
  assert.equal(engine.mePath, "/api/v1/me");
});

test("a grace period follows the gateway's one rule", () => {
  const rotate = (gracePeriodSeconds) => engine.planRotate({ actor: engineer, key, gracePeriodSeconds, now: now + 1 });
  assert.equal(rotate(60).oldRevokedAt.getTime(), now + 1 + 60_000);
  assert.equal(rotate(null).oldRevokedAt, null);
  for (const bad of [-1, 1.5, "60", NaN, Infinity, true]) {
    assert.throws(() => rotate(bad), (e) => e instanceof keyscope.LifecycleError && e.code === "invalid_grace_period" && e.field === "gracePeriodSeconds", String(bad));
  }
  assert.throws(() => rotate(30 * 86400 + 1), (e) => e.code === "grace_too_long");
});
