// Middleware scope (only the policy's base path is decided: app-wide, on a path, on a router,
// per route), store errors that explain themselves, exported error classes, what a decision
// serialises to, and the shipped policy document.
import assert from "node:assert/strict";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { after, before, describe, test } from "node:test";
import express from "express";
import { Hono } from "hono";
import { serve } from "@hono/node-server";
import keyscope from "keyscope";

const require = createRequire(import.meta.url);
const admin = keyscope.generateKey();
const row = {
  id: "k_admin",
  name: "CI",
  hint: admin.hint,
  organizationId: "org_a",
  createdBy: "u_admin",
  scope: "organization",
  createdAt: new Date("2026-01-01T00:00:00Z"),
};
const store = { findKey: (h) => (h === admin.hash ? row : null), findRole: () => "admin" };
const auth = { "x-api-key": admin.secret };

async function listen(handlerOrApp, kind) {
  const server = kind === "express" ? handlerOrApp.listen(0, "127.0.0.1") : serve({ fetch: handlerOrApp, hostname: "127.0.0.1", port: 0 });
  await once(server, "listening");
  return { url: `http://127.0.0.1:${server.address().port}`, close: () => server.close() };
}

const get = async (app, path, headers = {}) => {
  const res = await fetch(app.url + path, { headers });
  return { status: res.status, text: await res.text() };
};

describe("the middleware decides only under the policy's base path", () => {
  const apps = {};
  before(async () => {
    // Express, app-wide: /health and /login are the app's own.
    const e = express();
    e.use(keyscope.express({ store }));
    e.get("/health", (_req, res) => res.send("ok"));
    e.get("/api/v1/projects", (req, res) => res.json({ keyId: req.keyscope?.keyId }));
    apps.expressApp = await listen(e, "express");

    // Express, on a router mounted at the base path, and per route.
    const r = express.Router();
    r.use(keyscope.express({ store }));
    r.get("/projects", (req, res) => res.json({ keyId: req.keyscope?.keyId }));
    const e2 = express();
    e2.use("/api/v1", r);
    e2.get("/login", (_req, res) => res.send("login"));
    e2.get("/other/projects", keyscope.express({ store }), (_req, res) => res.send("not ours"));
    apps.expressRouter = await listen(e2, "express");

    // Express, on a path.
    const e3 = express();
    e3.use("/api", keyscope.express({ store }));
    e3.get("/api/v1/projects", (req, res) => res.json({ keyId: req.keyscope?.keyId }));
    e3.get("/health", (_req, res) => res.send("ok"));
    apps.expressPath = await listen(e3, "express");

    // Hono, app-wide and per route.
    const h = new Hono();
    h.use(keyscope.hono({ store }));
    h.get("/health", (c) => c.text("ok"));
    h.get("/api/v1/projects", (c) => c.json({ keyId: c.get("keyscope").keyId }));
    apps.honoApp = await listen(h.fetch, "hono");
    const h2 = new Hono();
    const api = new Hono();
    api.get("/projects", keyscope.hono({ store }), (c) => c.json({ keyId: c.get("keyscope").keyId }));
    h2.route("/api/v1", api);
    h2.get("/login", (c) => c.text("login"));
    apps.honoRoute = await listen(h2.fetch, "hono");

    // fetch: outside the base path the handler runs with a null decision.
    apps.fetch = await listen(keyscope.withKeyscope((_req, d) => (d ? Response.json({ keyId: d.keyId }) : new Response("ok")), { store }), "fetch");
  });
  after(() => Object.values(apps).forEach((a) => a.close()));

  for (const name of ["expressApp", "expressRouter", "expressPath", "honoApp", "honoRoute", "fetch"]) {
    test(`${name}: inside the base path decided, outside untouched`, async () => {
      const app = apps[name];
      assert.deepEqual(await get(app, "/api/v1/projects", auth), { status: 200, text: '{"keyId":"k_admin"}' });
      assert.equal((await get(app, "/api/v1/projects")).status, 401, "no key inside the base path");
      const nope = await get(app, "/api/v1/nope", auth);
      if (name !== "honoRoute") {
        // The policy is the allow-list: an unlisted endpoint under the base path is 404 not_found.
        assert.equal(nope.status, 404);
        assert.equal(JSON.parse(nope.text).reason, "not_found");
      }
      const outside = name === "expressRouter" || name === "honoRoute" ? "/login" : "/health";
      const res = await get(app, outside);
      assert.equal(res.status, 200, `${outside} is the app's own`);
      assert.match(res.text, /^(ok|login)$/);
    });
  }

  test("per route outside the base path: passed through", async () => {
    assert.deepEqual(await get(apps.expressRouter, "/other/projects"), { status: 200, text: "not ours" });
  });

  test('paths: "all" decides everything', async () => {
    const e = express();
    e.use(keyscope.express({ store, paths: "all" }));
    e.get("/health", (_req, res) => res.send("ok"));
    const app = await listen(e, "express");
    try {
      assert.equal((await get(app, "/health")).status, 401);
    } finally {
      app.close();
    }
  });
});

describe("store answers of the wrong shape: 503 and one report naming the field", () => {
  const base = { ...row };
  const cases = [
    { name: "missing createdAt", key: { ...base, createdAt: undefined }, lookup: "findKey", field: "createdAt", code: "invalid_record" },
    { name: "snake_case columns", key: { id: "k", name: "n", hint: "abcd", organization_id: "org_a", created_by: "u", scope: "organization", created_at: 0 }, lookup: "findKey", field: "organizationId", code: "invalid_record", says: /organization_id/ },
    { name: 'scope: "org"', key: { ...base, scope: "org" }, lookup: "findKey", field: "scope", code: "invalid_record" },
    { name: "a project key without scopedProjectId", key: { ...base, scope: "project" }, lookup: "findKey", field: "scopedProjectId", code: "invalid_record" },
    { name: 'role "Admin"', key: base, role: "Admin", lookup: "findRole", code: "invalid_role", says: /"Admin"/ },
    { name: "no findRole at all", key: base, role: null, noRole: true, lookup: "findRole", code: "lookup_failed" },
  ];
  for (const c of cases) {
    test(c.name, async () => {
      const reports = [];
      const engine = new keyscope.Engine({ onStoreError: (e) => reports.push(e) });
      const s = { findKey: () => c.key, findRole: c.noRole ? undefined : () => c.role ?? "admin" };
      for (let i = 0; i < 3; i++) {
        const d = await engine.authorize({ method: "GET", url: "/api/v1/projects", headers: auth }, s);
        assert.equal(d.status, 503);
        assert.equal(d.reason, "unavailable");
      }
      assert.equal(reports.length, 1, "exactly one report for three requests");
      const [e] = reports;
      assert.ok(e instanceof keyscope.StoreError);
      assert.ok(e instanceof keyscope.KeyscopeError);
      assert.equal(e.code, c.code);
      assert.equal(e.lookup, c.lookup);
      if (c.field) {
        assert.equal(e.field, c.field);
        assert.match(e.message, new RegExp(c.field));
      }
      if (c.says) assert.match(e.message, c.says);
      assert.ok(!e.message.includes(admin.secret) && !e.message.includes(admin.secret.slice(8)), "never the key");
    });
  }

  test("the default report is one console.warn per distinct problem, through the middleware", async () => {
    const warned = [];
    const original = console.warn;
    console.warn = (...args) => warned.push(args.join(" "));
    try {
      const h = new Hono();
      h.use(keyscope.hono({ store: { findKey: () => ({ ...row, scope: "org" }), findRole: () => "admin" }, engine: new keyscope.Engine() }));
      for (let i = 0; i < 3; i++) assert.equal((await h.request("/api/v1/projects", { headers: auth })).status, 503);
    } finally {
      console.warn = original;
    }
    assert.equal(warned.length, 1);
    assert.match(warned[0], /scope/);
  });

  test("a store failing with a new message every time is reported each time, in bounded memory", async () => {
    const reports = [];
    const engine = new keyscope.Engine({ onStoreError: (e) => reports.push(e.message) });
    let n = 0;
    const failing = {
      findKey: () => {
        n += 1;
        throw new Error(`timeout after request ${n}`);
      },
      findRole: () => "admin",
    };
    const requests = 5000;
    for (let i = 0; i < requests; i++) {
      const d = engine.authorizeSync({ method: "GET", url: "/api/v1/projects", headers: auth }, failing);
      assert.equal(d.status, 503);
    }
    assert.equal(reports.length, requests, "every distinct problem is reported");
    assert.equal(new Set(reports).size, requests);
    // The de-duplication remembers a bounded number of problems, whatever the store says.
    assert.ok(engine._reported.size <= 256, `remembers ${engine._reported.size} problems`);
    // A problem still remembered is not reported again.
    const again = { findKey: () => { throw new Error(`timeout after request ${n}`); }, findRole: () => "admin" };
    engine.authorizeSync({ method: "GET", url: "/api/v1/projects", headers: auth }, again);
    assert.equal(reports.length, requests);
  });

  test("a middleware-level onStoreError is used", async () => {
    const reports = [];
    const h = new Hono();
    h.use(keyscope.hono({ store: { findKey: () => ({ ...row, createdAt: "yesterday" }), findRole: () => "admin" }, engine: new keyscope.Engine(), onStoreError: (e) => reports.push(e) }));
    assert.equal((await h.request("/api/v1/projects", { headers: auth })).status, 503);
    assert.deepEqual(reports.map((e) => e.field), ["createdAt"]);
  });
});

describe("errors and what decisions serialise to", () => {
  test("error classes are exported, with stable codes", () => {
    assert.throws(() => keyscope.parseKey("ck_live_nope"), (e) => e instanceof keyscope.KeyError && e instanceof keyscope.KeyscopeError && e.code === "wrong_length");
    assert.throws(() => new keyscope.Engine({ policy: { basePath: 5 } }), (e) => e instanceof keyscope.PolicyError && e.code === "invalid_policy" && e.field === "basePath");
    assert.throws(() => new keyscope.Engine({ policy: "{" }), (e) => e instanceof keyscope.PolicyError && e.field === "document");
    const bad = keyscope.alignPolicy();
    bad.endpoints[2].projectKey = "sometimes";
    assert.throws(() => keyscope.loadPolicy(bad), (e) => e instanceof keyscope.PolicyError && e.field === "endpoints[2].projectKey");
    bad.endpoints[2].projectKey = "deny";
    bad.endpoints[0].permission = "nope";
    assert.throws(() => new keyscope.Engine({ policy: bad }), (e) => e instanceof keyscope.PolicyError && e.field === "endpoints[0].permission");
    assert.throws(() => new keyscope.KeyRecord({ ...row, scope: "org" }), (e) => e instanceof keyscope.RecordError && e.field === "scope");
  });

  test("JSON.stringify(decision) writes the documented fields only", async () => {
    const d = await keyscope.authorize({ method: "GET", url: "/api/v1/projects", headers: auth }, store);
    assert.deepEqual(Object.keys(JSON.parse(JSON.stringify(d))), ["allowed", "status", "keyId", "organizationId", "userId", "role", "scope", "projectFilter", "servesMe", "permissions"]);
    assert.equal(JSON.parse(JSON.stringify(d)).role, "admin");
    const denied = await keyscope.authorize({ method: "GET", url: "/api/v1/projects", headers: {} }, store);
    assert.deepEqual(Object.keys(JSON.parse(JSON.stringify(denied))), ["allowed", "status", "reason", "message", "wwwAuthenticate"]);
  });

  test("the Align policy ships as keyscope/policies/align.json and through alignPolicy()", () => {
    const file = JSON.parse(readFileSync(require.resolve("keyscope/policies/align.json"), "utf8"));
    assert.deepEqual(keyscope.alignPolicy(), file);
    assert.deepEqual(keyscope.loadPolicy(JSON.stringify(file)), file);
    assert.equal(new keyscope.Engine({ policy: file }).basePath, "/api/v1");
  });

  test("the package carries its LICENSE (Apache-2.0)", () => {
    const license = readFileSync(new URL("./node_modules/keyscope/LICENSE", import.meta.url), "utf8");
    assert.match(license, /Apache License\s+Version 2\.0/);
  });
});
