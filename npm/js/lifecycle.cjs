"use strict";
// The key lifecycle plans behind `engine.planCreate`, `planRotate`, `planRevoke` and
// `planMemberRole`, and what a key list shows of a key (`keyStanding`, `keyStatus`, `presetOf`,
// `checkKeyChange`, `keyAbilities`): the gateway's rules (in the engine) for a backend that
// manages its own keys. This file draws the random bytes (the secret, a fresh id), converts times
// and the requests and plans to and from the engine's JSON form (records through
// `records.cjs`), and nothing more: every rule is the engine's.

const { call } = require("./errors.cjs");

module.exports = function createLifecycle(wasm, codec, records, keys) {
  const { recordFields, fromPlanRecord, toMillis } = records;
  const { generateKey, randomBytes } = keys;
  const idBytes = wasm.keyIdBytes();

  /** A time option → Unix ms (undefined stays undefined). */
  function millis(t, name) {
    if (t === undefined || t === null) return undefined;
    const ms = toMillis(t);
    if (!Number.isFinite(ms)) throw new TypeError(`${name} must be a Date, an ISO 8601 string or Unix ms`);
    return Math.trunc(ms);
  }

  const clock = (now) => millis(now ?? Date.now(), "now");

  /** A fresh key id, in the engine's format, from the CSPRNG. */
  function newId() {
    return wasm.newKeyId(randomBytes(idBytes));
  }

  /**
   * A value as JSON carries it to the engine, which judges it: JSON has no NaN or Infinity (they
   * would become null, i.e. absent), so those travel as text and are refused like text.
   */
  const asJson = (v) => (typeof v === "number" && !Number.isFinite(v) ? String(v) : v);

  /** A stored record → policy-core's form (times as Unix ms, absent fields left out). */
  function toPlanRecord(record) {
    const plain = recordFields(record);
    // The engine's record rules (a scope's name, a project key's project, a creation time).
    call(() => new wasm.KeyRecord(...codec.recordArgs(plain))).free();
    // The controls travel as one JSON field to the record constructor; a plan reads them as the
    // record's own fields.
    const { controls, ...fields } = plain;
    return controls === undefined ? fields : { ...fields, ...JSON.parse(controls) };
  }

  /** `engine.planCreate`: `{ secret, hash, record }`. */
  function planCreate(engine, { organizationId, actor, name, scope, scopedProjectId, scopedProjectIds, preset, permissions, expiresAt, allowedCidrs, rateLimit, quota, id, now } = {}) {
    const key = generateKey({ environment: engine.environment, prefix: engine.keyPrefix });
    const request = { organizationId, actor, name, scope, scopedProjectId, scopedProjectIds, preset, permissions, expiresAt: millis(expiresAt, "expiresAt"), allowedCidrs, rateLimit, quota, id: id ?? newId(), hint: key.hint, now: clock(now) };
    const record = fromPlanRecord(JSON.parse(call(() => engine._wasm.planCreate(JSON.stringify(request)))));
    return { secret: key.secret, hash: key.hash, record };
  }

  /** `engine.planRotate`: `{ secret, hash, record, oldRevokedAt }`. */
  function planRotate(engine, { actor, key, gracePeriodSeconds, id, now } = {}) {
    const fresh = generateKey({ environment: engine.environment, prefix: engine.keyPrefix });
    const request = { actor, key: toPlanRecord(key), gracePeriodSeconds: asJson(gracePeriodSeconds), id: id ?? newId(), hint: fresh.hint, now: clock(now) };
    const plan = JSON.parse(call(() => engine._wasm.planRotate(JSON.stringify(request))));
    return { secret: fresh.secret, hash: fresh.hash, record: fromPlanRecord(plan.new), oldRevokedAt: plan.oldRevokedAt === null ? null : new Date(plan.oldRevokedAt) };
  }

  /** `engine.planRevoke`: `{ revokedAt, changed }`. */
  function planRevoke(engine, { actor, key, now } = {}) {
    const request = { actor, key: toPlanRecord(key), now: clock(now) };
    const plan = JSON.parse(call(() => engine._wasm.planRevoke(JSON.stringify(request))));
    return { revokedAt: new Date(plan.revokedAt), changed: plan.changed };
  }

  /** `engine.planMemberRole`: throws unless `role` is a role of the policy. */
  function planMemberRole(engine, role) {
    if (typeof role !== "string") throw new TypeError("role must be a string");
    call(() => engine._wasm.planMemberRole(role));
  }

  /** `engine.checkKeyChange`: throws unless `actor` may revoke or rotate `key`. */
  function checkKeyChange(engine, { actor, key } = {}) {
    call(() => engine._wasm.checkKeyChange(JSON.stringify({ actor, key: toPlanRecord(key) })));
  }

  /** `engine.keyStatus`: `active`, `revoked`, `expired` or `creator_left` at `now`. */
  function keyStatus(engine, { key, creatorRole, now } = {}) {
    if (creatorRole !== undefined && creatorRole !== null && typeof creatorRole !== "string") {
      throw new TypeError("creatorRole must be a string or null");
    }
    return call(() => engine._wasm.keyStatus(JSON.stringify({ key: toPlanRecord(key), creatorRole: creatorRole ?? null, now: clock(now) })));
  }

  /** `engine.keyStanding`: `{ preset, status, canChange, canRotate, canRevoke, canEditControls }` for the viewer `actor`. */
  function keyStanding(engine, { actor, key, creatorRole, now } = {}) {
    if (creatorRole !== undefined && creatorRole !== null && typeof creatorRole !== "string") {
      throw new TypeError("creatorRole must be a string or null");
    }
    const request = { actor, key: toPlanRecord(key), creatorRole: creatorRole ?? null, now: clock(now) };
    return JSON.parse(call(() => engine._wasm.keyStanding(JSON.stringify(request))));
  }

  /** `engine.presetOf`: the preset explicit grants amount to, or null. */
  function presetOf(engine, permissions) {
    if (permissions !== null && !(Array.isArray(permissions) && permissions.every((p) => typeof p === "string"))) {
      throw new TypeError("permissions must be an array of permission names or null");
    }
    return call(() => engine._wasm.presetOf(JSON.stringify(permissions))) ?? null;
  }

  /** `engine.keyAbilities`: what a member of `role` (null: no member) may do with keys. */
  function keyAbilities(engine, role) {
    if (role !== undefined && role !== null && typeof role !== "string") throw new TypeError("role must be a string or null");
    return JSON.parse(engine._wasm.keyAbilities(role ?? undefined));
  }

  return { planCreate, planRotate, planRevoke, planMemberRole, checkKeyChange, keyStatus, keyStanding, presetOf, keyAbilities };
};
