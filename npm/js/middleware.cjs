"use strict";
// The middleware: Express, Hono and `fetch`-handler adapters over one settings check and one
// responder, deciding requests under the policy's base path (by default), then holding an
// allowed request to its key's limits (`limiter.cjs`), and the module-level `authorize` on the
// default Align engine.

const { JSON_HEADERS } = require("./decision.cjs");

module.exports = function createMiddleware(Engine, limits) {
  let defaultEngine;
  /** `options.engine`, else the default Align engine (made on first use). */
  function engineOf(options) {
    if (options?.engine) return options.engine;
    defaultEngine ??= new Engine();
    return defaultEngine;
  }

  /** An optional function option. */
  function fn(options, name) {
    const value = options[name];
    if (value !== undefined && typeof value !== "function") throw new TypeError(`${name} must be a function`);
    return value;
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
      onStoreError: options.onStoreError,
      limits: limits.settings(options),
      clientIp: fn(options, "clientIp"),
      clock: fn(options, "clock"),
    };
  }

  /** The request's time: the `clock` option's, else now (Unix ms). */
  function nowOf(m) {
    return limits.millis(m.clock === undefined ? undefined : m.clock());
  }

  /**
   * The store for one decision: `m.store`, with the record `findKey` answered kept (as given:
   * a value or a promise), so that the key's limits can be read from it once allowed.
   */
  function recording(m) {
    const store = m.store;
    const seen = { found: undefined, store: undefined };
    seen.store = {
      findKey: (hash) => (seen.found = store.findKey(hash)),
      findRole: (organizationId, userId) => store.findRole(organizationId, userId),
    };
    if (typeof store.findResource === "function") seen.store.findResource = (kind, id) => store.findResource(kind, id);
    return seen;
  }

  /**
   * Decides `request` at `now`, then holds an allowed decision to its key's limits. Resolves to
   * `{ decision, limited }`: `limited` is the limits' answer for an allowed decision (its
   * `headers()` go on the response; when not allowed it is the answer), else undefined.
   */
  async function decideAndLimit(m, request, now) {
    const seen = recording(m);
    const decision = await m.engine.authorize(request, seen.store, { now, onStoreError: m.onStoreError });
    if (!decision.allowed) return { decision, limited: undefined };
    // The key's limits: from the decision when it carries them, else from the record the store
    // returned (a plain record, or a `KeyRecord` handle exposing them).
    const source = "rateLimit" in decision || "quota" in decision ? decision : await seen.found;
    const key = { id: decision.keyId, rateLimit: source?.rateLimit, quota: source?.quota };
    return { decision, limited: await limits.check(m.limits, key, now) };
  }

  /** The JSON text of a denial's body (the engine's own text when it has it). */
  const bodyOf = (denied) => (typeof denied.bodyJson === "function" ? denied.bodyJson() : JSON.stringify(denied.body()));

  /**
   * The one responder: what the middleware answers for `decision` and its limits' answer, or
   * undefined when the request goes on to the application.
   */
  function response(m, { decision, limited }) {
    if (!decision.allowed) return { status: decision.status, headers: decision.headers(), body: JSON.stringify(decision.body()) };
    if (!limited.allowed) return { status: limited.status, headers: limited.headers(), body: bodyOf(limited) };
    if (m.serveMe && decision.servesMe) {
      return { status: 200, headers: { ...JSON_HEADERS, ...limited.headers() }, body: decision.meJson() };
    }
    return undefined;
  }

  /** The request as the engine reads it, with the client's address. */
  const requestOf = (method, url, headers, clientIp) => ({
    method,
    url,
    headers,
    clientIp: typeof clientIp === "string" && clientIp !== "" ? clientIp : undefined,
  });

  /** Decides a request with the default Align engine (or `options.engine`). */
  function authorize(request, store, options) {
    return engineOf(options).authorize(request, store, options);
  }

  /**
   * Express middleware, for the app, a path or a router: requests under the policy's base path
   * (judged on `req.originalUrl`) are decided — denials answered with SPEC's JSON body, an
   * allowed request past its key's limits answered `429`, `GET …/me` with the key's `/me` view
   * (unless `serveMe: false`), otherwise `req.keyscope` holds the decision, the response carries
   * `RateLimit-Policy` / `RateLimit`, and `next()` runs. Other requests pass untouched (unless
   * `paths: "all"`). The client's address is `req.ip` (behind a proxy, set Express's
   * `trust proxy`), or the `clientIp` option's answer for `req`.
   */
  function express(options) {
    const m = middleware(options);
    return function keyscopeExpress(req, res, next) {
      const url = req.originalUrl ?? req.url;
      if (!m.all && !m.engine.covers(url)) return next();
      let request;
      let now;
      try {
        request = requestOf(req.method, url, req.headers, m.clientIp === undefined ? req.ip : m.clientIp(req));
        now = nowOf(m);
      } catch (err) {
        return next(err);
      }
      decideAndLimit(m, request, now).then((answer) => {
        const r = response(m, answer);
        if (r === undefined) {
          req.keyscope = answer.decision;
          res.set(answer.limited.headers());
          return next();
        }
        res.status(r.status).set(r.headers).send(r.body);
      }, next);
    };
  }

  /**
   * Hono middleware (app-wide or per route): requests under the policy's base path are decided
   * and limited as by `express`; `c.get("keyscope")` holds the decision. The client's address is
   * the `clientIp` option's answer for `c` (none by default: a key with an address allow-list is
   * then refused).
   */
  function hono(options) {
    const m = middleware(options);
    return async function keyscopeHono(c, next) {
      if (!m.all && !m.engine.covers(c.req.url)) return next();
      const raw = c.req.raw;
      const request = requestOf(raw.method, raw.url, raw.headers, m.clientIp?.(c));
      const answer = await decideAndLimit(m, request, nowOf(m));
      const r = response(m, answer);
      if (r !== undefined) return c.body(r.body, r.status, r.headers);
      c.set("keyscope", answer.decision);
      await next();
      for (const [name, value] of Object.entries(answer.limited.headers())) c.header(name, value);
    };
  }

  /** `response` with `headers` set (on a copy when its headers are immutable, as `fetch`'s are). */
  function withHeaders(response, headers) {
    const entries = Object.entries(headers);
    if (entries.length === 0 || !(response instanceof Response)) return response;
    try {
      for (const [name, value] of entries) response.headers.set(name, value);
      return response;
    } catch {
      const copy = new Response(response.body, response);
      for (const [name, value] of entries) copy.headers.set(name, value);
      return copy;
    }
  }

  /**
   * Wraps a `fetch`-style handler `(request, decision, ...rest) => Response`: requests under
   * the policy's base path are decided and limited as by `express`; other requests reach
   * `handler` with a `null` decision (unless `paths: "all"`). The client's address is the
   * `clientIp` option's answer for `(request, ...rest)` (none by default: a key with an address
   * allow-list is then refused).
   */
  function withKeyscope(handler, options) {
    if (typeof handler !== "function") throw new TypeError("withKeyscope needs a handler function");
    const m = middleware(options);
    return async function keyscopeFetch(request, ...rest) {
      if (!m.all && !m.engine.covers(request.url)) return handler(request, null, ...rest);
      const clientIp = m.clientIp?.(request, ...rest);
      const answer = await decideAndLimit(m, requestOf(request.method, request.url, request.headers, clientIp), nowOf(m));
      const r = response(m, answer);
      if (r !== undefined) return new Response(r.body, { status: r.status, headers: r.headers });
      return withHeaders(await handler(request, answer.decision, ...rest), answer.limited.headers());
    };
  }

  return { authorize, express, hono, withKeyscope };
};
