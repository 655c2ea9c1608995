"use strict";
// keyscope's JavaScript API over the wasm engine. Everything that decides comes from the wasm
// module (policy-core); this file reads requests, drives the lookup loop with the caller's
// store, and writes responses.

module.exports = function createKeyscope(wasm, crypto) {
  const { Step } = wasm;
  const ALLOW = Step.Allow;
  const ALLOW_ME = Step.AllowMe;
  const DENY = Step.Deny;
  const LOOKUP_KEY = Step.LookupKey;
  const LOOKUP_ROLE = Step.LookupRole;
  const LOOKUP_RESOURCE = Step.LookupResource;
  // Methods that cross the boundary as numbers.
  const METHOD_CODES = new Map(wasm.methods().map((m, i) => [m, i]));

  /** A compiled policy and the key environment it serves. */
  class Engine {
    /**
     * @param {{ policy?: string | object, environment?: "live" | "test" }} [options]
     */
    constructor(options = {}) {
      if (options === null || typeof options !== "object") {
        throw new TypeError("Engine options must be an object: { policy?, environment? }");
      }
      const { policy, environment, keyCache = 1024 } = options;
      let text;
      if (policy === undefined || policy === null) text = undefined;
      else if (typeof policy === "string") text = policy;
      else if (typeof policy === "object") text = JSON.stringify(policy);
      else throw new TypeError("policy must be a policy document (object) or its JSON text");
      if (environment !== undefined && typeof environment !== "string") {
        throw new TypeError('environment must be "live" or "test"');
      }
      if (!Number.isInteger(keyCache) || keyCache < 0) throw new TypeError("keyCache must be a whole number ≥ 0");
      this._wasm = new wasm.Engine(text, environment);
      this._permissions = this._wasm.permissions;
      this._roleIndex = new Map(this._wasm.roles.map((r, i) => [r, i]));
      this._denials = [];
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
      return this._wasm.roles;
    }

    /**
     * Decides a request, answering lookups from `store` (async callbacks allowed).
     * A store that throws or rejects denies with `503 unavailable`.
     */
    async authorize(request, store, options) {
      const w = this._wasm;
      const d = begin(this, request, options);
      let outcome = d.outcome;
      for (;;) {
        const step = outcome % 8;
        if (step !== LOOKUP_KEY && step !== LOOKUP_ROLE && step !== LOOKUP_RESOURCE) return settle(this, d, outcome);
        let value;
        try {
          value = await lookup(w, store, d, step);
        } catch {
          outcome = w.storeFailed(d.slot);
          continue;
        }
        outcome = answerOrFail(this, d, step, value);
      }
    }

    /**
     * Decides a request against a synchronous store (in-memory maps, caches): the same
     * decision as `authorize`, without a promise per lookup. A store method returning a
     * promise denies with `503 unavailable` (use `authorize` for async stores).
     */
    authorizeSync(request, store, options) {
      const w = this._wasm;
      const d = begin(this, request, options);
      let outcome = d.outcome;
      for (;;) {
        const step = outcome % 8;
        if (step !== LOOKUP_KEY && step !== LOOKUP_ROLE && step !== LOOKUP_RESOURCE) return settle(this, d, outcome);
        let value;
        try {
          value = lookup(w, store, d, step);
        } catch {
          outcome = w.storeFailed(d.slot);
          continue;
        }
        if (value !== null && typeof value === "object" && typeof value.then === "function") {
          // A promise here is an unanswered lookup: fail closed.
          value.then(undefined, () => {});
          outcome = w.storeFailed(d.slot);
        } else outcome = answerOrFail(this, d, step, value);
      }
    }
  }

  /** One decision in progress: its slot in the wasm engine and what the store answered. */
  class Pending {
    constructor(slot, outcome, hash) {
      this.slot = slot;
      this.outcome = outcome;
      this.hash = hash;
      this.record = undefined;
      this.role = undefined;
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
      if (authorization === undefined) [cache, cacheKey] = [engine._keyCache.x, xApiKey];
      else if (xApiKey === undefined) [cache, cacheKey] = [engine._keyCache.a, authorization];
      else [cache, cacheKey] = [engine._keyCache.both, `${xApiKey.length}:${xApiKey}${authorization}`];
    }
    const known = cacheKey === undefined ? undefined : cache.get(cacheKey);
    const methodCode = METHOD_CODES.get(method);
    if (known !== undefined && methodCode !== undefined) {
      return new Pending(slot, w.startKnown(slot, methodCode, url, known[0], now), known[1]);
    }
    const outcome = w.start(slot, method, url, xApiKey, authorization, now);
    if (outcome !== LOOKUP_KEY) return new Pending(slot, outcome, undefined);
    const hash = w.lookupHash(slot);
    if (cacheKey !== undefined) remember(engine, slot, cache, cacheKey, hash);
    return new Pending(slot, outcome, hash);
  }

  /** Asks the store what `step` needs (its answer, or a promise of it). */
  function lookup(w, store, d, step) {
    if (step === LOOKUP_KEY) return store.findKey(d.hash);
    if (step === LOOKUP_ROLE) return store.findRole(d.record.organizationId, d.record.createdBy);
    const [kind, id] = w.lookupResource(d.slot).split("\n");
    return resourceLookup(store)(kind, id);
  }

  /** `answer`, where an answer that cannot even be read (a throwing getter) fails closed. */
  function answerOrFail(engine, d, step, value) {
    try {
      return answer(engine, d, step, value);
    } catch {
      return engine._wasm.storeFailed(d.slot);
    }
  }

  /** Hands a store's answer to the decision; returns the next outcome. */
  function answer(engine, d, step, value) {
    const w = engine._wasm;
    const slot = d.slot;
    if (step === LOOKUP_KEY) {
      if (value === undefined || value === null) return w.provideNoKey(slot);
      if (value instanceof KeyRecord) {
        d.record = value.record;
        return w.provideKey(slot, value._wasm);
      }
      const plain = normalizeRecord(value);
      if (plain === undefined) return w.storeFailed(slot);
      d.record = plain;
      return w.provideKeyFields(slot, ...recordArgs(plain));
    }
    if (step === LOOKUP_ROLE) {
      if (value === undefined || value === null) return w.provideRole(slot, undefined);
      if (typeof value !== "string") return w.storeFailed(slot);
      d.role = value;
      const index = engine._roleIndex.get(value);
      return index === undefined ? w.provideRole(slot, value) : w.provideRoleIndex(slot, index);
    }
    if (value === undefined || value === null) return w.provideResource(slot, undefined, undefined);
    if (typeof value !== "object" || typeof value.organizationId !== "string" || typeof value.projectId !== "string") {
      return w.storeFailed(slot);
    }
    return w.provideResource(slot, value.organizationId, value.projectId);
  }

  /** The final outcome → the decision's result. */
  function settle(engine, d, outcome) {
    const w = engine._wasm;
    const step = outcome % 8;
    const payload = (outcome - step) / 8;
    if (step === ALLOW) return new Allowed(engine, d, payload % 2 === 1, Math.floor(payload / 2), 0, undefined, false);
    if (step === DENY) return (engine._denials[payload] ??= denied(w.denial(payload)));
    // `/me`, or an allow under a policy too wide for one number.
    const me = step === ALLOW_ME ? w.finishMe(d.slot) : undefined;
    const out = w.finishAllowWide(d.slot);
    if (out === undefined) {
      const n = w.finishDeny(d.slot); // not an allow after all: never answered as one
      return (engine._denials[n] ??= denied(w.denial(n)));
    }
    return new Allowed(engine, d, out[0] === 1, out[1], out[2], me, true);
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

  function resourceLookup(store) {
    if (typeof store.findResource !== "function") {
      throw new TypeError("the store has no findResource, which project-scoped keys need");
    }
    return store.findResource.bind(store);
  }

  const RECORD_STRINGS = ["id", "name", "hint", "organizationId", "createdBy", "scope"];
  const RECORD_TIMES = ["createdAt", "lastUsedAt", "revokedAt", "expiresAt"];

  /**
   * A store row → the record the engine reads: known fields only, times as Unix ms; undefined
   * when a field has the wrong type (the decision then fails closed).
   */
  function normalizeRecord(value) {
    if (value === null || typeof value !== "object") return undefined;
    const out = {};
    for (const f of RECORD_STRINGS) {
      if (typeof value[f] !== "string") return undefined;
      out[f] = value[f];
    }
    const project = value.scopedProjectId;
    if (project !== undefined && project !== null && typeof project !== "string") return undefined;
    out.scopedProjectId = project ?? undefined;
    const grants = value.permissions;
    if (grants !== undefined && grants !== null && !(Array.isArray(grants) && grants.every((g) => typeof g === "string"))) {
      return undefined;
    }
    out.permissions = grants ?? undefined;
    for (const f of RECORD_TIMES) {
      const t = value[f];
      if (t === undefined || t === null) continue;
      const ms = t instanceof Date ? t.getTime() : typeof t === "string" ? Date.parse(t) : t;
      if (typeof ms !== "number" || !Number.isFinite(ms)) return undefined;
      out[f] = Math.trunc(ms);
    }
    if (out.createdAt === undefined) return undefined;
    return out;
  }

  /** The engine's record from a normalized one: `make(...fields)`. */
  function recordArgs(p) {
    return [p.id, p.name, p.hint, p.organizationId, p.createdBy, p.scope, p.scopedProjectId, p.permissions, p.createdAt, p.lastUsedAt, p.revokedAt, p.expiresAt];
  }

  /** A key record prepared once (e.g. in a cache) and handed to decisions without conversion. */
  class KeyRecord {
    /** @param {object} record the stored record (times as Date, ISO string or Unix ms) */
    constructor(record) {
      const plain = normalizeRecord(record);
      if (plain === undefined) {
        throw new TypeError(
          "not a key record: id, name, hint, organizationId, createdBy and scope must be strings, " +
            "scopedProjectId a string or null, permissions an array of strings or null, createdAt a time",
        );
      }
      this._wasm = new wasm.KeyRecord(...recordArgs(plain));
      this.record = Object.freeze(plain);
      this.id = plain.id;
    }
  }

  const JSON_HEADERS = Object.freeze({ "content-type": "application/json; charset=utf-8", "cache-control": "no-store" });

  /** An allowed request: the identity is the record and role the store gave for it. */
  class Allowed {
    constructor(engine, pending, filtered, low, high, me, wide) {
      const record = pending.record;
      this.allowed = true;
      this.status = 200;
      this.keyId = record.id;
      this.organizationId = record.organizationId;
      this.userId = record.createdBy;
      this.role = pending.role;
      this.scope = record.scope;
      this.projectFilter = filtered ? record.scopedProjectId : null;
      this.servesMe = me !== undefined;
      this._low = low;
      this._high = high;
      this._names = engine._permissions;
      // Wide: `low`/`high` are 32-bit halves; narrow: `low` holds up to 48 bits as a double.
      this._wideBits = wide;
      this._me = me;
    }
    /** The key's effective permissions, in policy order. */
    get permissions() {
      const names = [];
      for (let i = 0; i < this._names.length; i++) {
        // Narrow: up to 48 bits in one double, so no 32-bit operators on it.
        const set = this._wideBits
          ? i < 32
            ? (this._low >>> i) & 1
            : (this._high >>> (i - 32)) & 1
          : Math.floor(this._low / 2 ** i) % 2;
        if (set === 1) names.push(this._names[i]);
      }
      return names;
    }
    /** On `GET …/me`: the key's `/me` view (else null). */
    me() {
      return this._me === undefined ? null : JSON.parse(this._me);
    }
    /** On `GET …/me`: the `/me` view as a JSON body (else null). */
    meJson() {
      return this._me ?? null;
    }
  }

  /** `status\nreason\nmessage\nwww-authenticate` → the denial (shared, frozen). */
  function denied(packed) {
    const a = packed.indexOf("\n");
    const b = packed.indexOf("\n", a + 1);
    const c = packed.lastIndexOf("\n");
    const d = new Denied(Number(packed.slice(0, a)), packed.slice(a + 1, b), packed.slice(b + 1, c), packed.slice(c + 1) || null);
    return Object.freeze(d);
  }

  class Denied {
    constructor(status, reason, message, wwwAuthenticate) {
      this.allowed = false;
      this.status = status;
      this.reason = reason;
      this.message = message;
      this.wwwAuthenticate = wwwAuthenticate;
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
    const [secret, hash, hint] = wasm.generateKey(options.environment ?? "live", randomBytes(64));
    return { secret, hash, hint, environment: options.environment ?? "live" };
  }

  /**
   * Validates a key offline (format, checksum, and `environment` when given). Throws a
   * `KeyError` with a `code`; the message never echoes the key.
   */
  function parseKey(text, options = {}) {
    if (typeof text !== "string") {
      const e = new TypeError("a key must be a string");
      throw e;
    }
    const [secret, hash, hint, environment] = wasm.parseKey(text, options.environment);
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

  function checkStore(options) {
    const store = options?.store;
    if (!store || typeof store.findKey !== "function" || typeof store.findRole !== "function") {
      throw new TypeError("keyscope middleware needs { store } with findKey(hash) and findRole(org, user)");
    }
    return store;
  }

  /** Decides a request with the default Align engine (or `options.engine`). */
  function authorize(request, store, options) {
    return engineOf(options).authorize(request, store, options);
  }

  /**
   * Express middleware: denials are answered with SPEC's JSON body; `GET …/me` is answered
   * with the key's `/me` view (unless `serveMe: false`); otherwise `req.keyscope` holds the
   * decision and `next()` runs.
   */
  function express(options) {
    const store = checkStore(options);
    const engine = engineOf(options);
    const serveMe = options.serveMe !== false;
    return function keyscopeExpress(req, res, next) {
      engine.authorize(req, store).then(
        (decision) => {
          if (!decision.allowed) {
            res.status(decision.status).set(decision.headers()).send(JSON.stringify(decision.body()));
            return;
          }
          if (serveMe && decision.servesMe) {
            res.status(200).set(JSON_HEADERS);
            res.send(decision.meJson());
            return;
          }
          req.keyscope = decision;
          next();
        },
        (err) => next(err),
      );
    };
  }

  /**
   * Hono middleware: denials are answered with SPEC's JSON body; `GET …/me` with the `/me`
   * view (unless `serveMe: false`); otherwise `c.get("keyscope")` holds the decision.
   */
  function hono(options) {
    const store = checkStore(options);
    const engine = engineOf(options);
    const serveMe = options.serveMe !== false;
    return async function keyscopeHono(c, next) {
      const decision = await engine.authorize(c.req.raw, store);
      if (!decision.allowed) return c.body(JSON.stringify(decision.body()), decision.status, decision.headers());
      if (serveMe && decision.servesMe) {
        return c.body(decision.meJson(), 200, JSON_HEADERS);
      }
      c.set("keyscope", decision);
      await next();
    };
  }

  /**
   * Wraps a `fetch`-style handler `(request, decision, ...rest) => Response`: denials are
   * answered with SPEC's JSON body, `GET …/me` with the `/me` view (unless `serveMe: false`).
   */
  function withKeyscope(handler, options) {
    if (typeof handler !== "function") throw new TypeError("withKeyscope needs a handler function");
    const store = checkStore(options);
    const engine = engineOf(options);
    const serveMe = options.serveMe !== false;
    return async function keyscopeFetch(request, ...rest) {
      const decision = await engine.authorize(request, store);
      if (!decision.allowed) {
        return new Response(JSON.stringify(decision.body()), { status: decision.status, headers: decision.headers() });
      }
      if (serveMe && decision.servesMe) {
        return new Response(decision.meJson(), {
          status: 200,
          headers: JSON_HEADERS,
        });
      }
      return handler(request, decision, ...rest);
    };
  }

  return {
    Engine,
    KeyRecord,
    authorize,
    generateKey,
    parseKey,
    isValidKey,
    hashKey,
    keyHint,
    express,
    hono,
    withKeyscope,
  };
};
