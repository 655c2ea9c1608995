"use strict";
// Key records on the JavaScript side: a store row read into the fields the engine takes (only
// their types are checked here; which values are valid the engine says), a plan's record read
// back, and the `KeyRecord` handle that holds a record inside the engine across decisions. The
// field names come from the engine (`codec.RECORD_FIELDS`); only their kinds are written here.

const { RecordError, call } = require("./errors.cjs");

const STRING_FIELDS = new Set(["id", "name", "hint", "organizationId", "createdBy", "scope"]);
const TIME_FIELDS = new Set(["createdAt", "lastUsedAt", "revokedAt", "expiresAt"]);
/** The fields the engine's `controls` carries (SPEC "Key controls"). */
const CONTROL_FIELDS = ["scopedProjectIds", "allowedCidrs", "rateLimit", "quota"];

/** A time as keyscope takes one (a `Date`, an ISO 8601 string or Unix ms) → Unix ms, or NaN. */
function toMillis(t) {
  const ms = t instanceof Date ? t.getTime() : typeof t === "string" ? Date.parse(t) : t;
  return typeof ms === "number" ? ms : NaN;
}

/** A value as a store problem's message shows it (never more than 40 characters of a string). */
function describe(v) {
  if (v === undefined) return "missing";
  if (v === null) return "null";
  if (typeof v === "string") return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  return `a ${Array.isArray(v) ? "array" : typeof v}`;
}

module.exports = function createRecords(wasm, codec) {
  /**
   * A store row → the fields the engine reads (times as Unix ms), or `{ field, problem }` for
   * the first field of the wrong type. Which values are valid (the scope's name, a project
   * key's project, a creation time) the engine says.
   */
  function normalizeRecord(value) {
    if (value === null || typeof value !== "object") return { field: "record", problem: `is ${describe(value)} (an object is required)` };
    const out = {};
    for (const f of codec.RECORD_FIELDS) {
      const v = value[f];
      if (STRING_FIELDS.has(f)) {
        if (typeof v !== "string") return { field: f, problem: `is ${describe(v)} (a string is required)` };
        out[f] = v;
      } else if (TIME_FIELDS.has(f)) {
        if (v === undefined || v === null) continue;
        const ms = toMillis(v);
        if (!Number.isFinite(ms)) {
          return { field: f, problem: `is ${describe(v)} (a Date, an ISO 8601 string or Unix milliseconds is required)` };
        }
        out[f] = Math.trunc(ms);
      } else if (f === "controls") {
        // Not a stored field: the key's controls beyond one project, as one JSON object, only
        // when the record has any (see the engine's RECORD_FIELDS).
        const controls = {};
        let any = false;
        for (const c of CONTROL_FIELDS) {
          if (value[c] !== undefined && value[c] !== null) {
            controls[c] = value[c];
            any = true;
          }
        }
        if (any) out.controls = JSON.stringify(controls);
        // The limits as the decision reports them (the engine refuses the record if they are
        // not valid, so no allowed decision carries invalid ones).
        out.rateLimit = value.rateLimit ?? undefined;
        out.quota = value.quota ?? undefined;
      } else if (f === "permissions") {
        if (v !== undefined && v !== null && !(Array.isArray(v) && v.every((g) => typeof g === "string"))) {
          return { field: f, problem: `is ${describe(v)} (an array of permission names or null is required)` };
        }
        out[f] = v ?? undefined;
      } else {
        if (v !== undefined && v !== null && typeof v !== "string") return { field: f, problem: `is ${describe(v)} (a string or null is required)` };
        out[f] = v ?? undefined;
      }
    }
    return out;
  }

  /** policy-core's record (a plan's JSON) → the JavaScript form (times as `Date`, absent ones null). */
  function fromPlanRecord(r) {
    const out = {};
    for (const f of codec.RECORD_FIELDS) {
      const v = r[f];
      if (STRING_FIELDS.has(f)) out[f] = v;
      else if (TIME_FIELDS.has(f)) out[f] = v === undefined || v === null ? null : new Date(v);
      else if (f === "controls") for (const c of CONTROL_FIELDS) out[c] = r[c] ?? null;
      else out[f] = v ?? null;
    }
    return out;
  }

  /** A record the caller gave → the engine's fields, or a `RecordError` naming the bad field. */
  function recordFields(record) {
    const plain = normalizeRecord(record);
    if (plain.problem !== undefined) throw new RecordError(`not a key record: ${plain.field} ${plain.problem}`, plain.field);
    return plain;
  }

  /**
   * A key record prepared once (e.g. in a cache) and handed to decisions without conversion. The
   * wasm side holds it compiled for the policy of the engine deciding on it (its grants as a
   * bitset), compiled on its first decision and again only under an engine with another policy.
   */
  class KeyRecord {
    /** @param {object} record the stored record (times as Date, ISO string or Unix ms) */
    constructor(record) {
      const plain = recordFields(record);
      this._wasm = call(() => new wasm.KeyRecord(...codec.recordArgs(plain)));
      // The identity as the engine holds it.
      const [id, organizationId, createdBy, scope, projectFilter] = this._wasm.identity();
      this._identity = Object.freeze({
        id, organizationId, createdBy, scope, projectFilter: projectFilter || undefined,
        rateLimit: plain.rateLimit, quota: plain.quota,
      });
      this.id = id;
    }
  }

  return { KeyRecord, normalizeRecord, recordFields, fromPlanRecord, describe, toMillis };
};
