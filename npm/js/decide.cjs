"use strict";
// The decision loop: reads a request, starts its decision in the wasm engine, asks the caller's
// store what the engine needs until the decision is final, and turns the final outcome into an
// `Allowed` or `Denied`. A store answer it cannot use is reported (`StoreError`) and denies
// `503 unavailable`: the loop never fails open.

const { StoreError } = require("./errors.cjs");
const { Allowed, Denied } = require("./decision.cjs");

/**
 * The value of header `name` (lower-case): `Headers#get`, or a plain object's property as
 * written by Node (lower-case), else any spelling of it. Repeated headers (arrays) are one
 * value joined by ", ", as HTTP joins them.
 */
function header(headers, name) {
  if (headers === undefined || headers === null) return undefined;
  let value;
  if (typeof headers.get === "function") value = headers.get(name);
  else {
    value = headers[name];
    if (value === undefined) {
      for (const k in headers) {
        if (k.length === name.length && k.toLowerCase() === name) {
          value = headers[k];
          break;
        }
      }
    }
  }
  if (value === undefined || value === null) return undefined;
  if (Array.isArray(value)) return value.join(", ");
  return String(value);
}

const isThenable = (v) => v !== null && typeof v === "object" && typeof v.then === "function";

/** One decision in progress: its slot in the wasm engine and what the store answered. */
class Pending {
  constructor(slot, outcome, hash) {
    this.slot = slot;
    this.outcome = outcome;
    this.hash = hash;
    this.record = undefined;
  }
}

const withOutcome = (d, outcome) => ((d.outcome = outcome), d);

const snake = (name) => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

const OWNER_FIELDS = ["organizationId", "projectId"];

/** How many distinct store problems an engine remembers, to report each once (oldest forgotten first). */
const REPORTED_PROBLEMS = 256;

module.exports = function createDecide(wasm, codec, records) {
  // The headers that carry a key, as policy-core names them.
  const [KEY_HEADER, , AUTHORIZATION_HEADER] = wasm.keyHeaders();
  const { Step } = codec;
  const { KeyRecord, normalizeRecord, describe } = records;
  // Methods that cross the boundary as numbers.
  const METHOD_CODES = new Map(wasm.methods().map((m, i) => [m, i]));
  const LOOKUP_NAMES = { [Step.LookupKey]: "findKey", [Step.LookupRole]: "findRole", [Step.LookupResource]: "findResource" };

  /**
   * Decides `request` with `engine`, answering lookups from `store`: `authorize` (`sync`
   * false: a promise when the store answers with one) and `authorizeSync` (`sync` true).
   */
  function decide(engine, request, store, options, sync) {
    return drive(engine, begin(engine, request, options), store, options, sync);
  }

  /** Reads the request and starts its decision (the offline key checks are cached). */
  function begin(engine, request, options) {
    if (request === null || typeof request !== "object") {
      throw new TypeError("request must be an object with method, url and headers");
    }
    const method = request.method;
    const url = request.originalUrl ?? request.url;
    if (typeof method !== "string" || typeof url !== "string") {
      throw new TypeError("request.method and request.url must be strings");
    }
    let now = options === undefined || options.now === undefined ? Date.now() : options.now;
    if (now instanceof Date) now = now.getTime();
    if (typeof now !== "number" || !Number.isFinite(now)) throw new TypeError("options.now must be a Date or Unix ms");
    const headers = request.headers;
    // The client's address as the caller knows it (Express: `req.ip`); a key with an address
    // allow-list is refused without one.
    const clientIp = typeof request.clientIp === "string" ? request.clientIp : undefined;
    const xApiKey = header(headers, KEY_HEADER);
    const authorization = header(headers, AUTHORIZATION_HEADER);
    const w = engine._wasm;
    const slot = w.reserve();
    // The key cache's map for these headers (see `keycache.cjs`), read inline.
    const keyCache = engine._keyCache;
    let cache;
    let cacheKey;
    if (keyCache.capacity > 0) {
      if (authorization === undefined) {
        cache = keyCache.x;
        cacheKey = xApiKey;
      } else if (xApiKey === undefined) {
        cache = keyCache.a;
        cacheKey = authorization;
      } else {
        cache = keyCache.both;
        cacheKey = `${xApiKey.length}:${xApiKey}${authorization}`;
      }
    }
    const known = cacheKey === undefined ? undefined : cache.get(cacheKey);
    const methodCode = METHOD_CODES.get(method);
    if (known !== undefined && methodCode !== undefined) {
      return new Pending(slot, w.startKnown(slot, methodCode, url, known[0], clientIp, now), known[1]);
    }
    const outcome = w.start(slot, method, url, xApiKey, authorization, clientIp, now);
    if (outcome !== Step.LookupKey) return new Pending(slot, outcome, undefined);
    const hash = w.lookupHash(slot);
    if (cacheKey !== undefined) keyCache.remember(w, slot, cache, cacheKey, hash);
    return new Pending(slot, outcome, hash);
  }

  /**
   * The lookup loop, for `authorize` and `authorizeSync` alike: asks the store what the engine
   * needs until the decision is final. An answer that is a promise suspends the loop (async)
   * or fails the lookup (sync).
   */
  function drive(engine, d, store, options, sync) {
    let outcome = d.outcome;
    for (;;) {
      const step = codec.step(outcome);
      if (!codec.isLookup(step)) return settle(engine, d, outcome);
      let value;
      let thenable;
      try {
        value = lookup(engine, store, d, step);
        thenable = isThenable(value);
      } catch (err) {
        outcome = failed(engine, d, options, err instanceof StoreError ? err : lookupFailed(step, err));
        continue;
      }
      if (thenable) {
        if (sync) {
          value.then(undefined, () => {});
          outcome = failed(engine, d, options, new StoreError("async_lookup", LOOKUP_NAMES[step], undefined,
            `store.${LOOKUP_NAMES[step]} returned a promise to authorizeSync (use authorize for async stores); the request was denied 503`));
          continue;
        }
        return value.then(
          (v) => drive(engine, withOutcome(d, answer(engine, d, step, v, options)), store, options, false),
          (err) => drive(engine, withOutcome(d, failed(engine, d, options, lookupFailed(step, err))), store, options, false),
        );
      }
      outcome = answer(engine, d, step, value, options);
    }
  }

  /** Asks the store what `step` needs (its answer, or a promise of it). */
  function lookup(engine, store, d, step) {
    if (step === Step.LookupKey) return store.findKey(d.hash);
    if (step === Step.LookupRole) return store.findRole(d.record.organizationId, d.record.createdBy);
    if (typeof store.findResource !== "function") {
      throw new StoreError("missing_lookup", "findResource", undefined,
        "the store has no findResource(kind, id), which project-scoped keys need on per-resource endpoints; the request was denied 503");
    }
    const [kind, id] = engine._wasm.lookupResource(d.slot).split("\n");
    return store.findResource(kind, id);
  }

  /** Hands a store's answer to the decision; returns the next outcome. Never throws. */
  function answer(engine, d, step, value, options) {
    const w = engine._wasm;
    const slot = d.slot;
    try {
      if (step === Step.LookupKey) {
        if (value === undefined || value === null) return w.provideNoKey(slot);
        if (value instanceof KeyRecord) {
          d.record = value._identity;
          return w.provideKey(slot, value._wasm);
        }
        const plain = normalizeRecord(value);
        if (plain.problem !== undefined) return failed(engine, d, options, recordProblem(plain, value));
        d.record = plain;
        const outcome = w.provideKeyFields(slot, ...codec.recordArgs(plain));
        if (plain.controls !== undefined) plain.projectFilter = w.keyProjectFilter(slot);
        const refused = w.takeRecordProblem();
        if (refused !== undefined) {
          const [field, problem] = refused.split("\n");
          report(engine, options, recordProblem({ field, problem }, value));
        }
        return outcome;
      }
      if (step === Step.LookupRole) {
        if (value === undefined || value === null) return w.provideRole(slot, undefined);
        const index = typeof value === "string" ? engine._roleIndex.get(value) : undefined;
        if (index === undefined) {
          const shown = typeof value === "string" ? JSON.stringify(value) : `a ${typeof value}`;
          return failed(engine, d, options, new StoreError("invalid_role", "findRole", undefined,
            `store.findRole returned ${shown}, which is not a role of the policy (${engine._roles.join(", ")}; names are case-sensitive); the request was denied 503`));
        }
        return w.provideRoleIndex(slot, index);
      }
      if (value === undefined || value === null) return w.provideResource(slot, undefined, undefined);
      for (const field of OWNER_FIELDS) {
        if (typeof value !== "object" || typeof value[field] !== "string") {
          return failed(engine, d, options, new StoreError("invalid_resource", "findResource", field,
            `store.findResource returned an owner whose ${field} is ${describe(value?.[field])} (a string is required: { organizationId, projectId } or null); the request was denied 503`));
        }
      }
      return w.provideResource(slot, value.organizationId, value.projectId);
    } catch (err) {
      // An answer that cannot even be read (a throwing getter): fail closed.
      return failed(engine, d, options, lookupFailed(step, err));
    }
  }

  /** The final outcome → the decision's result. */
  function settle(engine, d, outcome) {
    const w = engine._wasm;
    const step = codec.step(outcome);
    if (step === Step.Allow) {
      const p = codec.payload(outcome);
      return new Allowed(engine, d.record, codec.filtered(p), codec.role(p), codec.permissionSet(p), undefined);
    }
    if (step === Step.Deny) return denial(engine, codec.denial(outcome));
    // `/me`, or an allow under a policy too wide for one number.
    const me = step === Step.AllowMe ? w.finishMe(d.slot) : undefined;
    const out = w.finishAllowWide(d.slot);
    // Not an allow after all: never answered as one.
    if (out === undefined) return denial(engine, w.finishDeny(d.slot));
    return new Allowed(engine, d.record, out[0] === 1, out[1], out.subarray(2), me);
  }

  /** Denial number `n` of `engine`, its body read from wasm once and cached. */
  function denial(engine, n) {
    return (engine._denials[n] ??= Object.freeze(new Denied(codec.unpackDenial(engine._wasm.denial(n)))));
  }

  // ---- Store problems: each reported once, and the decision denied 503 ----------------------

  /**
   * Reports a store problem through `onStoreError`, once per distinct problem among the last
   * `REPORTED_PROBLEMS` the engine saw: the memory is bounded even when a store's messages carry
   * ids or times, so that every failure is a new problem.
   */
  function report(engine, options, error) {
    const id = `${error.code}\n${error.lookup}\n${error.field ?? ""}\n${error.message}`;
    const reported = engine._reported;
    if (reported.has(id)) return;
    reported.add(id);
    if (reported.size > REPORTED_PROBLEMS) reported.delete(reported.values().next().value);
    try {
      (options?.onStoreError ?? engine._onStoreError)(error);
    } catch {
      // A failing report must not change the decision.
    }
  }

  /** Reports `error` and fails the lookup: the decision becomes `503 unavailable`. */
  function failed(engine, d, options, error) {
    report(engine, options, error);
    return engine._wasm.storeFailed(d.slot);
  }

  /** A lookup that threw or rejected. */
  function lookupFailed(step, err) {
    const what = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    return new StoreError("lookup_failed", LOOKUP_NAMES[step], undefined,
      `store.${LOOKUP_NAMES[step]} failed (${what}); the request was denied 503`, err);
  }

  /** A record from `findKey` whose `field` is wrong (with a hint when the row is snake_case). */
  function recordProblem({ field, problem }, row) {
    let hint = "";
    if (row !== null && typeof row === "object" && row[field] === undefined && row[snake(field)] !== undefined) {
      hint = ` (the row has "${snake(field)}": map your columns to camelCase)`;
    }
    return new StoreError("invalid_record", "findKey", field,
      `store.findKey returned a record whose ${field} ${problem}${hint}; the request was denied 503`);
  }

  return decide;
};
