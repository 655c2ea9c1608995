"use strict";
// The key lifecycle plans behind `engine.planCreate`, `planRotate`, `planRevoke` and
// `planMemberRole`: the gateway's rules (in the engine) for a backend that manages its own keys.
// This file makes the secret and a fresh id, converts times and the requests and plans to and
// from the engine's JSON form (records through `records.cjs`), and nothing more.

const { call } = require("./errors.cjs");

module.exports = function createLifecycle(wasm, codec, records, keys) {
  const { recordFields, fromPlanRecord, toMillis } = records;
  const { generateKey, randomBytes } = keys;

  /** A time option → Unix ms (undefined stays undefined). */
  function millis(t, name) {
    if (t === undefined || t === null) return undefined;
    const ms = toMillis(t);
    if (!Number.isFinite(ms)) throw new TypeError(`${name} must be a Date, an ISO 8601 string or Unix ms`);
    return Math.trunc(ms);
  }

  const clock = (now) => millis(now ?? Date.now(), "now");

  /** A fresh key id: `key_` and 24 hex digits from the CSPRNG. */
  function newId() {
    return `key_${[...randomBytes(12)].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
  }

  /** A stored record → policy-core's form (times as Unix ms, absent fields left out). */
  function toPlanRecord(record) {
    const plain = recordFields(record);
    // The engine's record rules (a scope's name, a project key's project, a creation time).
    call(() => new wasm.KeyRecord(...codec.recordArgs(plain))).free();
    return plain;
  }

  /** `engine.planCreate`: `{ secret, hash, record }`. */
  function planCreate(engine, { organizationId, actor, name, scope, scopedProjectId, preset, permissions, expiresAt, id, now } = {}) {
    const key = generateKey({ environment: engine.environment });
    const request = { organizationId, actor, name, scope, scopedProjectId, preset, permissions, expiresAt: millis(expiresAt, "expiresAt"), id: id ?? newId(), hint: key.hint, now: clock(now) };
    const record = fromPlanRecord(JSON.parse(call(() => engine._wasm.planCreate(JSON.stringify(request)))));
    return { secret: key.secret, hash: key.hash, record };
  }

  /** `engine.planRotate`: `{ secret, hash, record, oldRevokedAt }`. */
  function planRotate(engine, { actor, key, gracePeriodSeconds, id, now } = {}) {
    const fresh = generateKey({ environment: engine.environment });
    const request = { actor, key: toPlanRecord(key), gracePeriodSeconds, id: id ?? newId(), hint: fresh.hint, now: clock(now) };
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

  return { planCreate, planRotate, planRevoke, planMemberRole };
};
