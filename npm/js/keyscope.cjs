"use strict";
// keyscope's JavaScript API over the wasm engine. Everything that decides comes from the wasm
// module (policy-core); this file reads requests, drives the lookup loop with the caller's
// store, reports store answers it cannot use, and writes responses.

const createCodec = require("./codec.cjs");
const errors = require("./errors.cjs");

const { KeyError, PolicyError, StoreError, CheckKeyError, fromWasm } = errors;

module.exports = function createKeyscope(wasm, crypto) {
  const codec = createCodec(wasm);
  const { Step } = codec;
  // Methods that cross the boundary as numbers.
  const METHOD_CODES = new Map(wasm.methods().map((m, i) => [m, i]));

  const call = (fn) => {
    try {
      return fn();
    } catch (e) {
      throw fromWasm(e);
    }
  };

  /** The default store-error report: one `console.warn` per distinct problem. */
  const warn = (error) => console.warn(`keyscope: ${error.message}`);

  /** A compiled policy and the key environment it serves. */
  class Engine {
    /**
     * @param {{ policy?: string | object, environment?: "live" | "test", keyCache?: number,
     *   onStoreError?: (error: StoreError) => void }} [options]
     */
    constructor(options = {}) {
      if (options === null || typeof options !== "object") {
        throw new TypeError("Engine options must be an object: { policy?, environment? }");
      }
      const { policy, environment, keyCache = 1024, onStoreError } = options;
      const text = policyText(policy);
      if (environment !== undefined && typeof environment !== "string") {
        throw new TypeError('environment must be "live" or "test"');
      }
      if (!Number.isInteger(keyCache) || keyCache < 0) throw new TypeError("keyCache must be a whole number ≥ 0");
      if (onStoreError !== undefined && typeof onStoreError !== "function") {
        throw new TypeError("onStoreError must be a function");
      }
      this._wasm = call(() => new wasm.Engine(text, environment));
      this._permissions = this._wasm.permissions;
      this._roles = this._wasm.roles;
      this._roleIndex = new Map(this._roles.map((r, i) => [r, i]));
      this._denials = [];
      this._onStoreError = onStoreError ?? warn;
      this._reported = new Set();
      // Key headers that passed the offline checks → the key's hash (FIFO, bounded): a key
      // seen again skips the checksum and SHA-256. Revocation and everything after the
      // offline checks are decided afresh on every request.
      // One map per way of presenting a key, so that no spelling of one header can pass for
      // another: X-Api-Key alone, Authorization alone, both (length-prefixed).
      // Each maps the header value(s) → [index in the engine's table, hash hex].
      this._keyCache = { x: new Map(), a: new Map(), both: new Map() };
      this._keyCacheSize = keyCache;
      this._keyCacheSlots = []; // index → [map, key], to evict
      this._keyCacheNext = 0;
    }

    /** `live` or `test`. */
    get environment() {
      return this._wasm.environment;
    }

    /** The policy's base path, e.g. `/api/v1`. */
    get basePath() {
      return this._wasm.basePath;
    }

    /** Every permission the policy knows, in policy order. */
    get permissions() {
      return [...this._permissions];
    }

    /** Every role the policy knows. */
    get roles() {
      return [...this._roles];
    }

    /** Whether `url` lies under the policy's base path (the requests this engine decides). */
    covers(url) {
      return this._wasm.covers(url);
    }

    /**
     * Decides a request, answering lookups from `store` (async callbacks allowed).
     * A store that throws, rejects or answers something unusable denies `503 unavailable`.
     */
    async authorize(request, store, options) {
      return drive(this, begin(this, request, options), store, options, false);
    }

    /**
     * Decides a request against a synchronous store (in-memory maps, caches): the same
     * decision as `authorize`, without a promise per lookup. A store method returning a
     * promise denies with `503 unavailable` (use `authorize` for async stores).
     */
    authorizeSync(request, store, options) {
      return drive(this, begin(this, request, options), store, options, true);
    }

    // ---- Key lifecycle: the gateway's rules for a backend that manages its own keys ----

    /**
     * Plans a new key: `{ secret, hash, record }` — show `secret` once, store `record` under
     * `hash`. Throws a `LifecycleError` naming the rule (membership, who may create the scope,
     * scope/project, grants within the actor's role, name, expiry).
     */
    planCreate({ organizationId, actor, name, scope, scopedProjectId, preset, permissions, expiresAt, id, now } = {}) {
      const key = generateKey({ environment: this.environment });
      const request = { organizationId, actor, name, scope, scopedProjectId, preset, permissions, expiresAt: millis(expiresAt, "expiresAt"), id: id ?? newId(), hint: key.hint, now: clock(now) };
      const record = fromPlanRecord(JSON.parse(call(() => this._wasm.planCreate(JSON.stringify(request)))));
      return { secret: key.secret, hash: key.hash, record };
    }

    /**
     * Plans the rotation of `key` (its stored record) by `actor`: `{ secret, hash, record,
     * oldRevokedAt }` — the new key (the actor's, with the old one's settings) and, when a grace
     * period is given, when the old key stops (else null: it works until revoked).
     */
    planRotate({ actor, key, gracePeriodSeconds, id, now } = {}) {
      const fresh = generateKey({ environment: this.environment });
      const request = { actor, key: toPlanRecord(key), gracePeriodSeconds, id: id ?? newId(), hint: fresh.hint, now: clock(now) };
      const plan = JSON.parse(call(() => this._wasm.planRotate(JSON.stringify(request))));
      return { secret: fresh.secret, hash: fresh.hash, record: fromPlanRecord(plan.new), oldRevokedAt: plan.oldRevokedAt === null ? null : new Date(plan.oldRevokedAt) };
    }

    /** Plans the revocation of `key` by `actor`: `{ revokedAt, changed }` (never moved later). */
    planRevoke({ actor, key, now } = {}) {
      const request = { actor, key: toPlanRecord(key), now: clock(now) };
      const plan = JSON.parse(call(() => this._wasm.planRevoke(JSON.stringify(request))));
      return { revokedAt: new Date(plan.revokedAt), changed: plan.changed };
    }

    /** Checks that `role` is a role of the policy (a member's role must be); throws if not. */
    planMemberRole(role) {
      if (typeof role !== "string") throw new TypeError("role must be a string");
      call(() => this._wasm.planMemberRole(role));
    }
  }

  /** A time option → Unix ms (undefined stays undefined). */
  function millis(t, name) {
    if (t === undefined || t === null) return undefined;
    const ms = t instanceof Date ? t.getTime() : typeof t === "string" ? Date.parse(t) : t;
    if (typeof ms !== "number" || !Number.isFinite(ms)) throw new TypeError(`${name} must be a Date, an ISO 8601 string or Unix ms`);
    return Math.trunc(ms);
  }

  const clock = (now) => millis(now ?? Date.now(), "now");

  /** A fresh key id: `key_` and 24 hex digits from the CSPRNG. */
  function newId() {
    return `key_${[...randomBytes(12)].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
  }

  /** A stored record → policy-core's form (times as Unix ms, absent fields left out). */
  function toPlanRecord(record) {
    const plain = normalizeRecord(record);
    if (plain.problem !== undefined) throw new errors.RecordError(`not a key record: ${plain.field} ${plain.problem}`, plain.field);
    // The engine's record rules (a scope's name, a project key's project, a creation time).
    call(() => new wasm.KeyRecord(...codec.recordArgs(plain))).free();
    return plain;
  }

  /** policy-core's record → the JavaScript form (times as `Date`, absent ones null). */
  function fromPlanRecord(r) {
    const at = (ms) => (ms === undefined || ms === null ? null : new Date(ms));
    return {
      id: r.id,
      name: r.name,
      hint: r.hint,
      organizationId: r.organizationId,
      createdBy: r.createdBy,
      scope: r.scope,
      scopedProjectId: r.scopedProjectId ?? null,
      permissions: r.permissions ?? null,
      createdAt: at(r.createdAt),
      lastUsedAt: at(r.lastUsedAt),
      revokedAt: at(r.revokedAt),
      expiresAt: at(r.expiresAt),
    };
  }

  function policyText(policy) {
    if (policy === undefined || policy === null) return undefined;
    if (typeof policy === "string") return policy;
    if (typeof policy === "object") return JSON.stringify(policy);
    throw new PolicyError("policy must be a policy document (object) or its JSON text", "document");
  }

  /** Reports a store problem through `onStoreError`, once per distinct problem per engine. */
  function report(engine, options, error) {
    const id = `${error.code}\n${error.lookup}\n${error.field ?? ""}\n${error.message}`;
    if (engine._reported.has(id)) return;
    engine._reported.add(id);
    try {
      (options?.onStoreError ?? engine._onStoreError)(error);
    } catch {
      // A failing report must not change the decision.
    }
  }

  /** One decision in progress: its slot in the wasm engine and what the store answered. */
  class Pending {
    constructor(slot, outcome, hash) {
      this.slot = slot;
      this.outcome = outcome;
      this.hash = hash;
      this.record = undefined;
    }
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
    const xApiKey = header(headers, "x-api-key");
    const authorization = header(headers, "authorization");
    const w = engine._wasm;
    const slot = w.reserve();
    let cache;
    let cacheKey;
    if (engine._keyCacheSize > 0) {
      if (authorization === undefined) {
        cache = engine._keyCache.x;
        cacheKey = xApiKey;
      } else if (xApiKey === undefined) {
        cache = engine._keyCache.a;
        cacheKey = authorization;
      } else {
        cache = engine._keyCache.both;
        cacheKey = `${xApiKey.length}:${xApiKey}${authorization}`;
      }
    }
    const known = cacheKey === undefined ? undefined : cache.get(cacheKey);
    const methodCode = METHOD_CODES.get(method);
    if (known !== undefined && methodCode !== undefined) {
      return new Pending(slot, w.startKnown(slot, methodCode, url, known[0], now), known[1]);
    }
    const outcome = w.start(slot, method, url, xApiKey, authorization, now);
    if (outcome !== Step.LookupKey) return new Pending(slot, outcome, undefined);
    const hash = w.lookupHash(slot);
    if (cacheKey !== undefined) remember(engine, slot, cache, cacheKey, hash);
    return new Pending(slot, outcome, hash);
  }

  const isThenable = (v) => v !== null && typeof v === "object" && typeof v.then === "function";

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

  const withOutcome = (d, outcome) => ((d.outcome = outcome), d);

  const LOOKUP_NAMES = { [Step.LookupKey]: "findKey", [Step.LookupRole]: "findRole", [Step.LookupResource]: "findResource" };

  function lookupFailed(step, err) {
    const what = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    return new StoreError("lookup_failed", LOOKUP_NAMES[step], undefined,
      `store.${LOOKUP_NAMES[step]} failed (${what}); the request was denied 503`, err);
  }

  function failed(engine, d, options, error) {
    report(engine, options, error);
    return engine._wasm.storeFailed(d.slot);
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

  const OWNER_FIELDS = ["organizationId", "projectId"];

  function describe(v) {
    if (v === undefined) return "missing";
    if (v === null) return "null";
    if (typeof v === "string") return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
    return `a ${Array.isArray(v) ? "array" : typeof v}`;
  }

  const snake = (name) => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

  function recordProblem({ field, problem }, row) {
    let hint = "";
    if (row !== null && typeof row === "object" && row[field] === undefined && row[snake(field)] !== undefined) {
      hint = ` (the row has "${snake(field)}": map your columns to camelCase)`;
    }
    return new StoreError("invalid_record", "findKey", field,
      `store.findKey returned a record whose ${field} ${problem}${hint}; the request was denied 503`);
  }

  /** The final outcome → the decision's result. */
  function settle(engine, d, outcome) {
    const w = engine._wasm;
    const step = codec.step(outcome);
    if (step === Step.Allow) {
      const p = codec.payload(outcome);
      return new Allowed(engine, d.record, codec.filtered(p), codec.role(p), codec.permissionSet(p), 0, undefined, false);
    }
    if (step === Step.Deny) return denial(engine, codec.denial(outcome));
    // `/me`, or an allow under a policy too wide for one number.
    const me = step === Step.AllowMe ? w.finishMe(d.slot) : undefined;
    const out = w.finishAllowWide(d.slot);
    // Not an allow after all: never answered as one.
    if (out === undefined) return denial(engine, w.finishDeny(d.slot));
    return new Allowed(engine, d.record, out[0] === 1, out[1], out[2], out[3], me, true);
  }

  function denial(engine, n) {
    return (engine._denials[n] ??= Object.freeze(new Denied(codec.unpackDenial(engine._wasm.denial(n)))));
  }

  /** Keeps a validated key's hash in the engine's table, evicting the oldest (FIFO). */
  function remember(engine, slot, cache, cacheKey, hash) {
    const index = engine._keyCacheNext;
    engine._keyCacheNext = (index + 1) % engine._keyCacheSize;
    const evicted = engine._keyCacheSlots[index];
    if (evicted !== undefined) evicted[0].delete(evicted[1]);
    if (engine._wasm.rememberHash(slot, index)) {
      engine._keyCacheSlots[index] = [cache, cacheKey];
      cache.set(cacheKey, [index, hash]);
    } else engine._keyCacheSlots[index] = undefined;
  }

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

  const STRING_FIELDS = new Set(["id", "name", "hint", "organizationId", "createdBy", "scope"]);
  const TIME_FIELDS = new Set(["createdAt", "lastUsedAt", "revokedAt", "expiresAt"]);

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
        const ms = v instanceof Date ? v.getTime() : typeof v === "string" ? Date.parse(v) : v;
        if (typeof ms !== "number" || !Number.isFinite(ms)) {
          return { field: f, problem: `is ${describe(v)} (a Date, an ISO 8601 string or Unix milliseconds is required)` };
        }
        out[f] = Math.trunc(ms);
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

  /**
   * A key record prepared once (e.g. in a cache) and handed to decisions without conversion. The
   * wasm side holds it compiled for the policy of the engine deciding on it (its grants as a
   * bitset), compiled on its first decision and again only under an engine with another policy.
   */
  class KeyRecord {
    /** @param {object} record the stored record (times as Date, ISO string or Unix ms) */
    constructor(record) {
      const plain = normalizeRecord(record);
      if (plain.problem !== undefined) {
        throw new errors.RecordError(`not a key record: ${plain.field} ${plain.problem}`, plain.field);
      }
      this._wasm = call(() => new wasm.KeyRecord(...codec.recordArgs(plain)));
      // The identity as the engine holds it.
      const [id, organizationId, createdBy, scope, scopedProjectId] = this._wasm.identity();
      this._identity = Object.freeze({ id, organizationId, createdBy, scope, scopedProjectId: scopedProjectId || undefined });
      this.id = id;
    }
  }

  const JSON_HEADERS = Object.freeze({ "content-type": "application/json; charset=utf-8", "cache-control": "no-store" });

  /**
   * An allowed request and the identity the engine allowed it for: the record it decided on,
   * the role (by its index in the policy) and permission set it computed.
   */
  class Allowed {
    #set;
    #high;
    #wide;
    #names;
    #me;
    constructor(engine, record, filtered, role, set, high, me, wide) {
      this.allowed = true;
      this.status = 200;
      this.keyId = record.id;
      this.organizationId = record.organizationId;
      this.userId = record.createdBy;
      this.role = engine._roles[role];
      this.scope = record.scope;
      this.projectFilter = filtered ? record.scopedProjectId : null;
      this.servesMe = me !== undefined;
      this.#set = set;
      this.#high = high;
      this.#wide = wide;
      this.#names = engine._permissions;
      this.#me = me;
    }
    /** The key's effective permissions, in policy order. */
    get permissions() {
      const names = [];
      for (let i = 0; i < this.#names.length; i++) {
        // Narrow: up to 40 bits in one double, so no 32-bit operators on it.
        const bit = this.#wide
          ? i < 32
            ? (this.#set >>> i) & 1
            : (this.#high >>> (i - 32)) & 1
          : Math.floor(this.#set / 2 ** i) % 2;
        if (bit === 1) names.push(this.#names[i]);
      }
      return names;
    }
    /** On `GET …/me`: the key's `/me` view (else null). */
    me() {
      return this.#me === undefined ? null : JSON.parse(this.#me);
    }
    /** On `GET …/me`: the `/me` view as a JSON body (else null). */
    meJson() {
      return this.#me ?? null;
    }
    /** The documented fields only. */
    toJSON() {
      const { allowed, status, keyId, organizationId, userId, role, scope, projectFilter, servesMe } = this;
      return { allowed, status, keyId, organizationId, userId, role, scope, projectFilter, servesMe, permissions: this.permissions };
    }
  }

  class Denied {
    constructor({ status, reason, message, wwwAuthenticate }) {
      this.allowed = false;
      this.status = Number(status);
      this.reason = reason;
      this.message = message;
      this.wwwAuthenticate = wwwAuthenticate || null;
    }
    /** SPEC's JSON body: `{"reason", "message"}`. */
    body() {
      return { reason: this.reason, message: this.message };
    }
    /** The response headers a denial carries (`WWW-Authenticate` on 401). */
    headers() {
      const h = { ...JSON_HEADERS };
      if (this.wwwAuthenticate) h["www-authenticate"] = this.wwwAuthenticate;
      return h;
    }
    /** The documented fields only. */
    toJSON() {
      const { allowed, status, reason, message, wwwAuthenticate } = this;
      return { allowed, status, reason, message, wwwAuthenticate };
    }
  }

  // ---- Policies --------------------------------------------------------------------------

  /** The Align policy document (what `new Engine()` compiles), as a fresh object. */
  function alignPolicy() {
    return JSON.parse(wasm.alignPolicyJson());
  }

  /**
   * A policy document checked by compiling it: the same object back, or a `PolicyError`
   * naming the bad field.
   */
  function loadPolicy(document) {
    const text = policyText(document);
    if (text === undefined) throw new PolicyError("a policy document is required", "document");
    const compiled = call(() => new wasm.Engine(text, undefined));
    compiled.free();
    return typeof document === "string" ? JSON.parse(document) : document;
  }

  // ---- Keys ------------------------------------------------------------------------------

  function randomBytes(n) {
    const bytes = new Uint8Array(n);
    crypto.getRandomValues(bytes);
    return bytes;
  }

  /**
   * A new API key from the platform's CSPRNG (Web Crypto). Show `secret` once; store `hash`.
   * @param {{ environment?: "live" | "test" }} [options]
   */
  function generateKey(options = {}) {
    const environment = options.environment ?? "live";
    const [secret, hash, hint] = call(() => wasm.generateKey(environment, randomBytes(64)));
    return { secret, hash, hint, environment };
  }

  /**
   * Validates a key offline (format, checksum, and `environment` when given). Throws a
   * `KeyError` with a `code`; the message never echoes the key.
   */
  function parseKey(text, options = {}) {
    if (typeof text !== "string") throw new KeyError("not_a_string", "a key must be a string");
    const [secret, hash, hint, environment] = call(() => wasm.parseKey(text, options.environment));
    return { secret, hash, hint, environment };
  }

  /** Whether `text` is a well-formed key of `environment` (when given) with a valid checksum. */
  function isValidKey(text, options = {}) {
    try {
      parseKey(text, options);
      return true;
    } catch {
      return false;
    }
  }

  /** The SHA-256 (hex) of a valid key: what stores keep instead of the key. */
  function hashKey(text) {
    return parseKey(text).hash;
  }

  /** The last four characters of a valid key, shown in key lists. */
  function keyHint(text) {
    return parseKey(text).hint;
  }

  // ---- Middleware --------------------------------------------------------------------------

  let defaultEngine;
  function engineOf(options) {
    if (options?.engine) return options.engine;
    defaultEngine ??= new Engine();
    return defaultEngine;
  }

  /** The middleware's settings, checked once. */
  function middleware(options) {
    const store = options?.store;
    if (!store || typeof store.findKey !== "function" || typeof store.findRole !== "function") {
      throw new TypeError("keyscope middleware needs { store } with findKey(hash) and findRole(organizationId, userId)");
    }
    const paths = options.paths ?? "basePath";
    if (paths !== "basePath" && paths !== "all") throw new TypeError('paths must be "basePath" or "all"');
    return {
      store,
      engine: engineOf(options),
      serveMe: options.serveMe !== false,
      all: paths === "all",
      decide: options.onStoreError === undefined ? undefined : { onStoreError: options.onStoreError },
    };
  }

  /**
   * The one responder: what the middleware answers for `decision`, or undefined when the
   * request goes on to the application.
   */
  function response(m, decision) {
    if (!decision.allowed) return { status: decision.status, headers: decision.headers(), body: JSON.stringify(decision.body()) };
    if (m.serveMe && decision.servesMe) return { status: 200, headers: JSON_HEADERS, body: decision.meJson() };
    return undefined;
  }

  /** Decides a request with the default Align engine (or `options.engine`). */
  function authorize(request, store, options) {
    return engineOf(options).authorize(request, store, options);
  }

  /**
   * Express middleware, for the app, a path or a router: requests under the policy's base path
   * (judged on `req.originalUrl`) are decided — denials answered with SPEC's JSON body, `GET
   * …/me` with the key's `/me` view (unless `serveMe: false`), otherwise `req.keyscope` holds
   * the decision and `next()` runs. Other requests pass untouched (unless `paths: "all"`).
   */
  function express(options) {
    const m = middleware(options);
    return function keyscopeExpress(req, res, next) {
      if (!m.all && !m.engine.covers(req.originalUrl ?? req.url)) return next();
      m.engine.authorize(req, m.store, m.decide).then((decision) => {
        const r = response(m, decision);
        if (r === undefined) {
          req.keyscope = decision;
          return next();
        }
        res.status(r.status).set(r.headers).send(r.body);
      }, next);
    };
  }

  /**
   * Hono middleware (app-wide or per route): requests under the policy's base path are decided
   * as by `express`; `c.get("keyscope")` holds the decision.
   */
  function hono(options) {
    const m = middleware(options);
    return async function keyscopeHono(c, next) {
      if (!m.all && !m.engine.covers(c.req.url)) return next();
      const decision = await m.engine.authorize(c.req.raw, m.store, m.decide);
      const r = response(m, decision);
      if (r !== undefined) return c.body(r.body, r.status, r.headers);
      c.set("keyscope", decision);
      await next();
    };
  }

  /**
   * Wraps a `fetch`-style handler `(request, decision, ...rest) => Response`: requests under
   * the policy's base path are decided as by `express`; other requests reach `handler` with a
   * `null` decision (unless `paths: "all"`).
   */
  function withKeyscope(handler, options) {
    if (typeof handler !== "function") throw new TypeError("withKeyscope needs a handler function");
    const m = middleware(options);
    return async function keyscopeFetch(request, ...rest) {
      if (!m.all && !m.engine.covers(request.url)) return handler(request, null, ...rest);
      const decision = await m.engine.authorize(request, m.store, m.decide);
      const r = response(m, decision);
      if (r !== undefined) return new Response(r.body, { status: r.status, headers: r.headers });
      return handler(request, decision, ...rest);
    };
  }

  // ---- The integration side of `/me` ---------------------------------------------------------

  /**
   * At start-up: asks the gateway (`GET {baseUrl}/me`) what `key` may do and throws a
   * `CheckKeyError` unless it holds every permission in `require`. Resolves to the `/me` view.
   */
  async function checkKey({ baseUrl, key, require = [], timeoutMs = 10_000, fetch: doFetch = globalThis.fetch } = {}) {
    if (typeof baseUrl !== "string" || baseUrl === "") throw new TypeError("checkKey needs baseUrl, e.g. https://api.example.com/api/v1");
    if (typeof key !== "string" || key === "") throw new CheckKeyError("missing_key", "checkKey needs the key (e.g. from an environment variable)");
    if (!Array.isArray(require) || !require.every((p) => typeof p === "string")) throw new TypeError("require must be an array of permission names");
    const url = `${baseUrl.replace(/\/+$/, "")}/me`;
    let res;
    let text;
    try {
      res = await doFetch(url, { headers: { authorization: `Bearer ${key}`, accept: "application/json" }, signal: AbortSignal.timeout(timeoutMs) });
      text = await res.text();
    } catch (err) {
      const why = err?.name === "TimeoutError" ? `no answer within ${timeoutMs} ms` : (err?.cause?.code ?? err?.message ?? String(err));
      throw new CheckKeyError("unreachable", `could not reach ${url}: ${why}`, { cause: err });
    }
    let body;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    if (!res.ok) {
      const reason = body?.reason;
      const code = reason === "key_revoked" ? "key_revoked" : reason === "invalid_key" ? "invalid_key" : reason === "missing_key" ? "missing_key" : "denied";
      const said = typeof body?.message === "string" ? body.message : `HTTP ${res.status}`;
      const lead = code === "key_revoked" ? "the key has been revoked" : code === "invalid_key" ? "the key was refused" : "the gateway refused the key";
      throw new CheckKeyError(code, `${lead}: ${said} (${res.status} ${reason ?? "no reason"})`, { status: res.status });
    }
    if (body === null || typeof body !== "object" || !Array.isArray(body.effectivePermissions)) {
      throw new CheckKeyError("bad_response", `${url} did not answer with a /me view`, { status: res.status });
    }
    const held = new Set(body.effectivePermissions);
    const missing = require.filter((p) => !held.has(p));
    if (missing.length > 0) {
      const where = body.scope === "project" ? `project-scoped key (project ${body.scopedProjectId})` : "organization-scoped key";
      throw new CheckKeyError("missing_permissions",
        `the key lacks ${missing.join(", ")} (${where} ${body.apiKeyId} in organization ${body.organizationId}, role ${body.role})`,
        { missing, scope: body.scope, projectId: body.scopedProjectId ?? null, status: res.status });
    }
    return body;
  }

  return {
    Engine,
    KeyRecord,
    KeyscopeError: errors.KeyscopeError,
    KeyError,
    PolicyError,
    RecordError: errors.RecordError,
    StoreError,
    CheckKeyError,
    LifecycleError: errors.LifecycleError,
    authorize,
    alignPolicy,
    loadPolicy,
    generateKey,
    parseKey,
    isValidKey,
    hashKey,
    keyHint,
    express,
    hono,
    withKeyscope,
    checkKey,
  };
};
