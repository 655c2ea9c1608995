"use strict";
// keyscope's JavaScript API over the wasm engine. Everything that decides comes from the wasm
// module (policy-core); this file reads requests, drives the lookup loop with the caller's
// store, and writes responses.

module.exports = function createKeyscope(wasm, crypto) {
  const { Step } = wasm;
  const ALLOW = Step.Allow;
  const DENY = Step.Deny;
  const LOOKUP_KEY = Step.LookupKey;
  const LOOKUP_ROLE = Step.LookupRole;
  const LOOKUP_RESOURCE = Step.LookupResource;

  /** A compiled policy and the key environment it serves. */
  class Engine {
    /**
     * @param {{ policy?: string | object, environment?: "live" | "test" }} [options]
     */
    constructor(options = {}) {
      if (options === null || typeof options !== "object") {
        throw new TypeError("Engine options must be an object: { policy?, environment? }");
      }
      const { policy, environment } = options;
      let text;
      if (policy === undefined || policy === null) text = undefined;
      else if (typeof policy === "string") text = policy;
      else if (typeof policy === "object") text = JSON.stringify(policy);
      else throw new TypeError("policy must be a policy document (object) or its JSON text");
      if (environment !== undefined && typeof environment !== "string") {
        throw new TypeError('environment must be "live" or "test"');
      }
      this._wasm = new wasm.Engine(text, environment);
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
      return this._wasm.permissions;
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
      const d = this._begin(request, options);
      let step = d.step;
      for (;;) {
        switch (step) {
          case ALLOW:
          case DENY:
            return finish(d, step);
          case LOOKUP_KEY:
            step = await answerKey(d, store, d.lookupHash);
            break;
          case LOOKUP_ROLE:
            step = await answerRole(d, store, d.lookupOrganizationId, d.lookupUserId);
            break;
          case LOOKUP_RESOURCE:
            step = await answerResource(d, store, d.lookupKind, d.lookupId);
            break;
          default:
            step = d.storeFailed();
        }
      }
    }

    /**
     * Decides a request against a synchronous store (in-memory maps, caches): the same
     * decision as `authorize`, without a promise per lookup. A store method returning a
     * promise denies with `503 unavailable` (use `authorize` for async stores).
     */
    authorizeSync(request, store, options) {
      const d = this._begin(request, options);
      let step = d.step;
      for (;;) {
        switch (step) {
          case ALLOW:
          case DENY:
            return finish(d, step);
          case LOOKUP_KEY:
            step = syncAnswer(d, () => store.findKey(d.lookupHash), (v) => provideKey(d, v));
            break;
          case LOOKUP_ROLE:
            step = syncAnswer(
              d,
              () => store.findRole(d.lookupOrganizationId, d.lookupUserId),
              (v) => provideRole(d, v),
            );
            break;
          case LOOKUP_RESOURCE:
            step = syncAnswer(
              d,
              () => requireResourceLookup(store)(d.lookupKind, d.lookupId),
              (v) => provideResource(d, v),
            );
            break;
          default:
            step = d.storeFailed();
        }
      }
    }

    _begin(request, options) {
      if (request === null || typeof request !== "object") {
        throw new TypeError("request must be an object with method, url and headers");
      }
      const method = request.method;
      const url = request.originalUrl ?? request.url;
      if (typeof method !== "string" || typeof url !== "string") {
        throw new TypeError("request.method and request.url must be strings");
      }
      const headers = request.headers;
      const now = options?.now ?? Date.now();
      const nowMs = now instanceof Date ? now.getTime() : now;
      return this._wasm.start(method, url, header(headers, "x-api-key"), header(headers, "authorization"), nowMs);
    }
  }

  function header(headers, name) {
    if (headers === undefined || headers === null) return undefined;
    let value;
    if (typeof headers.get === "function") value = headers.get(name);
    else {
      value = headers[name];
      if (value === undefined) {
        for (const k of Object.keys(headers)) {
          if (k.toLowerCase() === name) {
            value = headers[k];
            break;
          }
        }
      }
    }
    if (value === undefined || value === null) return undefined;
    // Repeated headers (Node keeps them as arrays) are one value, as HTTP joins them.
    if (Array.isArray(value)) return value.join(", ");
    return String(value);
  }

  function requireResourceLookup(store) {
    if (typeof store.findResource !== "function") {
      throw new TypeError("the store has no findResource, which project-scoped keys need");
    }
    return store.findResource.bind(store);
  }

  async function answerKey(d, store, hash) {
    let value;
    try {
      value = await store.findKey(hash);
    } catch {
      return d.storeFailed();
    }
    return provideKey(d, value);
  }

  async function answerRole(d, store, organizationId, userId) {
    let value;
    try {
      value = await store.findRole(organizationId, userId);
    } catch {
      return d.storeFailed();
    }
    return provideRole(d, value);
  }

  async function answerResource(d, store, kind, id) {
    let value;
    try {
      value = await requireResourceLookup(store)(kind, id);
    } catch {
      return d.storeFailed();
    }
    return provideResource(d, value);
  }

  function syncAnswer(d, lookup, provide) {
    let value;
    try {
      value = lookup();
    } catch {
      return d.storeFailed();
    }
    if (value !== null && typeof value === "object" && typeof value.then === "function") {
      // A promise here would be an unanswered lookup: fail closed.
      value.then(undefined, () => {});
      return d.storeFailed();
    }
    return provide(value);
  }

  function provideKey(d, value) {
    if (value === undefined || value === null) return d.provideNoKey();
    if (value instanceof KeyRecord) return d.provideKey(value._wasm);
    const plain = normalizeRecord(value);
    if (plain === undefined) return d.storeFailed();
    return d.provideKeyJson(JSON.stringify(plain));
  }

  function provideRole(d, value) {
    if (value === undefined || value === null) return d.provideRole(undefined);
    if (typeof value !== "string") return d.storeFailed();
    return d.provideRole(value);
  }

  function provideResource(d, value) {
    if (value === undefined || value === null) return d.provideResource(undefined, undefined);
    if (typeof value !== "object" || typeof value.organizationId !== "string" || typeof value.projectId !== "string") {
      return d.storeFailed();
    }
    return d.provideResource(value.organizationId, value.projectId);
  }

  const RECORD_TIMES = ["createdAt", "lastUsedAt", "revokedAt", "expiresAt"];
  const RECORD_FIELDS = ["id", "name", "hint", "organizationId", "createdBy", "scope", "scopedProjectId", "permissions"];

  /** A store row → the record the engine reads: known fields only, times as Unix ms. */
  function normalizeRecord(value) {
    if (typeof value !== "object") return undefined;
    const out = {};
    for (const f of RECORD_FIELDS) if (value[f] !== undefined) out[f] = value[f];
    for (const f of RECORD_TIMES) {
      const t = value[f];
      if (t === undefined || t === null) continue;
      const ms = t instanceof Date ? t.getTime() : typeof t === "string" ? Date.parse(t) : t;
      if (typeof ms !== "number" || !Number.isFinite(ms)) return undefined;
      out[f] = Math.trunc(ms);
    }
    return out;
  }

  /** A key record prepared once (e.g. in a cache) and handed to decisions without conversion. */
  class KeyRecord {
    /** @param {object} record the stored record (times as Date, ISO string or Unix ms) */
    constructor(record) {
      const plain = record !== null && typeof record === "object" ? normalizeRecord(record) : undefined;
      if (plain === undefined) throw new TypeError("not a key record: expected an object with valid times");
      this._wasm = wasm.KeyRecord.fromJson(JSON.stringify(plain));
      this.id = plain.id;
    }
  }

  const JSON_HEADERS = Object.freeze({ "content-type": "application/json; charset=utf-8", "cache-control": "no-store" });

  /** The decision's result. */
  function finish(d, step) {
    if (step === ALLOW) {
      const p = d.allowPacked.split("\n");
      return new Allowed(d, p);
    }
    return new Denied(d.status, d.reason, d.message, d.wwwAuthenticate);
  }

  class Allowed {
    constructor(d, p) {
      this._d = d;
      this.allowed = true;
      this.status = 200;
      this.keyId = p[0];
      this.organizationId = p[1];
      this.userId = p[2];
      this.role = p[3];
      this.scope = p[4];
      this.projectFilter = p[5] === "" ? null : p[5];
      this.servesMe = p[6] === "1";
    }
    /** The key's effective permissions, in policy order. */
    get permissions() {
      return this._d.effectivePermissions;
    }
    /** The `/me` view of the key. */
    me() {
      return JSON.parse(this._d.meJson);
    }
    /** The `/me` view as a JSON body. */
    meJson() {
      return this._d.meJson;
    }
    /** The identity headers an origin behind a gateway receives (`X-Keyscope-*`). */
    identityHeaders() {
      const flat = this._d.identityHeaders;
      const out = {};
      for (let i = 0; i < flat.length; i += 2) out[flat[i]] = flat[i + 1];
      return out;
    }
  }

  class Denied {
    constructor(status, reason, message, wwwAuthenticate) {
      this.allowed = false;
      this.status = status;
      this.reason = reason;
      this.message = message;
      this.wwwAuthenticate = wwwAuthenticate ?? null;
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
