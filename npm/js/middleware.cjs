"use strict";
// The middleware: Express, Hono and `fetch`-handler adapters over one settings check and one
// responder, deciding requests under the policy's base path (by default), and the module-level
// `authorize` on the default Align engine.

const { JSON_HEADERS } = require("./decision.cjs");

module.exports = function createMiddleware(Engine) {
  let defaultEngine;
  /** `options.engine`, else the default Align engine (made on first use). */
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

  return { authorize, express, hono, withKeyscope };
};
