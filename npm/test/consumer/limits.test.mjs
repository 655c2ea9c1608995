// Per-key limits without Redis: the limits suite on the in-process limiter, its bounded memory,
// limiter failures failing closed, and the limits in real Express, Hono and fetch apps on
// loopback (429 with the engine's body, Retry-After, RateLimit-Policy, RateLimit on every
// allowed answer, only allowed requests counting) with an injected clock, and the client
// address each adapter hands to the decision.
import assert from "node:assert/strict";
import { once } from "node:events";
import { after, before, describe, test } from "node:test";
import express from "express";
import { Hono } from "hono";
import { serve } from "@hono/node-server";
import keyscope from "keyscope";
import { at, hit, limiterSuite } from "./limits-suite.mjs";

limiterSuite("in-process limiter", () => keyscope.memoryLimiter(), (name) => `key_${name}`);

describe("the in-process limiter", () => {
  test("forgets idle keys, and keeps a quota's count until its window ends", async () => {
    const limiter = keyscope.memoryLimiter();
    const t = at("2026-11-23T12:00:00.000Z");
    for (let i = 0; i < 500; i++) await hit(limiter, { id: `key_${i}`, rateLimit: { perSecond: 5 } }, t);
    await hit(limiter, { id: "key_quota", quota: { limit: 5, period: "day" } }, t);
    assert.equal(limiter.size, 501);
    await hit(limiter, { id: "key_0", rateLimit: { perSecond: 5 } }, t + 60_000);
    assert.equal(limiter.size, 2, "idle rate windows forgotten; the day's count kept");
    const next = await hit(limiter, { id: "key_quota", quota: { limit: 5, period: "day" } }, t + 60_000);
    assert.equal(next.state, '"day";r=3;t=43140', "the count survived the sweep");
    await hit(limiter, { id: "key_0", rateLimit: { perSecond: 5 } }, at("2026-11-24T00:00:10.000Z"));
    assert.equal(limiter.size, 1, "the day ended: its count forgotten");
  });

  test("separate in-process limiters count separately", async () => {
    const [a, b] = [keyscope.memoryLimiter(), keyscope.memoryLimiter()];
    const key = { id: "key_sep", rateLimit: { perSecond: 1 } };
    const t = at("2026-11-23T12:00:00.000Z");
    assert.equal((await hit(a, key, t)).status, 200);
    assert.equal((await hit(b, key, t)).status, 200);
    assert.equal((await hit(a, key, t + 1)).status, 429);
  });
});

describe("limiter failures fail closed", () => {
  const key = { id: "key_f", rateLimit: { perSecond: 5 } };
  const now = at("2026-11-23T12:00:00.000Z");
  const cases = [
    { name: "a limiter that throws", limiter: { hit: () => { throw new Error("redis down"); } }, code: "limiter_failed", says: /redis down/ },
    { name: "a limiter that rejects", limiter: { hit: async () => Promise.reject(new Error("timeout")) }, code: "limiter_failed", says: /timeout/ },
    { name: "a limiter answering nonsense", limiter: { hit: () => ({ refused: "maybe", inSecond: 0, oldest: -1, used: 0 }) }, code: "invalid_answer" },
    { name: "a limiter answering nothing", limiter: { hit: () => undefined }, code: "invalid_answer" },
    { name: "a limiter refusing by a limit the key lacks", limiter: { hit: () => ({ refused: "quota", inSecond: 0, oldest: -1, used: 0 }) }, code: "invalid_answer", says: /quota limit/ },
  ];
  for (const c of cases) {
    test(`${c.name}: 503 unavailable, reported once`, async () => {
      const reports = [];
      const onLimiterError = (e) => reports.push(e);
      for (let i = 0; i < 3; i++) {
        const a = await keyscope.checkLimits(key, { limiter: c.limiter, now, onLimiterError });
        assert.equal(a.allowed, false);
        assert.equal(a.status, 503);
        assert.deepEqual(JSON.parse(a.bodyJson()), a.body());
        assert.equal(a.body().reason, "unavailable");
      }
      assert.equal(reports.length, 1);
      assert.ok(reports[0] instanceof keyscope.LimiterError);
      assert.equal(reports[0].code, c.code);
      if (c.says) assert.match(reports[0].message, c.says);
    });
  }
  test("unusable limits on the record: 503, the field named", async () => {
    const reports = [];
    const onLimiterError = (e) => reports.push(e);
    for (const [bad, field] of [
      [{ rateLimit: { perSecond: 0 } }, "rateLimit.perSecond"],
      [{ rateLimit: { perSecond: 10_001 } }, "rateLimit.perSecond"],
      [{ rateLimit: 5 }, "rateLimit"],
      [{ quota: { limit: 5, period: "week" } }, "quota.period"],
      [{ quota: { limit: 0, period: "day" } }, "quota.limit"],
    ]) {
      const a = await keyscope.checkLimits({ id: "key_bad", ...bad }, { now, onLimiterError });
      assert.equal(a.status, 503, field);
      assert.equal(reports.at(-1).code, "invalid_limits");
      assert.equal(reports.at(-1).field, field);
    }
  });
  test("settings are checked when given", async () => {
    await assert.rejects(keyscope.checkLimits({ id: "k" }, { limiter: {} }), /limiter must have hit/);
    await assert.rejects(keyscope.checkLimits({ id: "k" }, { defaultPerSecond: "ten" }), /defaultPerSecond/);
    await assert.rejects(keyscope.checkLimits({}, {}), /checkLimits needs/);
    assert.throws(() => keyscope.express({ store: { findKey() {}, findRole() {} }, defaultPerSecond: -1 }), /defaultPerSecond/);
    assert.throws(() => keyscope.hono({ store: { findKey() {}, findRole() {} }, clientIp: "1.2.3.4" }), /clientIp must be a function/);
    assert.throws(() => keyscope.redisLimiter({}), /node-redis/);
  });
});

// ---- The middleware -------------------------------------------------------------------------

const rated = keyscope.generateKey();
const quotaed = keyscope.generateKey();
const plain = keyscope.generateKey();
const fenced = keyscope.generateKey();
const record = (key, fields) => ({
  name: fields.id,
  hint: key.hint,
  organizationId: "org_a",
  createdBy: "u_admin",
  scope: "organization",
  createdAt: new Date("2026-01-01T00:00:00Z"),
  ...fields,
});
const keys = new Map([
  [rated.hash, record(rated, { id: "k_rated", rateLimit: { perSecond: 2 } })],
  [quotaed.hash, record(quotaed, { id: "k_quota", quota: { limit: 2, period: "day" } })],
  [plain.hash, record(plain, { id: "k_plain" })],
  [fenced.hash, record(fenced, { id: "k_fenced", allowedCidrs: ["127.0.0.0/8", "::1/128"] })],
]);
const store = {
  async findKey(hash) {
    return keys.get(hash);
  },
  async findRole() {
    return "admin";
  },
};

/** A clock the tests move. */
const clock = { now: at("2026-11-23T22:00:00.000Z") };
const settings = (extra) => ({ store, clock: () => clock.now, ...extra });

function apps(extra = {}) {
  const e = express();
  e.use(keyscope.express(settings({ limiter: keyscope.memoryLimiter(), ...extra })));
  e.all("/api/v1/{*rest}", (req, res) => res.json({ keyId: req.keyscope.keyId }));
  const h = new Hono();
  h.use("*", keyscope.hono(settings({ limiter: keyscope.memoryLimiter(), clientIp: (c) => c.env.incoming.socket.remoteAddress, ...extra })));
  h.all("*", (c) => c.json({ keyId: c.get("keyscope").keyId }));
  const honoBare = new Hono();
  honoBare.use("*", keyscope.hono(settings({ limiter: keyscope.memoryLimiter(), ...extra })));
  honoBare.all("*", (c) => c.json({ keyId: c.get("keyscope").keyId }));
  const fetchHandler = keyscope.withKeyscope(async (_request, decision) => Response.json({ keyId: decision.keyId }), settings({ limiter: keyscope.memoryLimiter(), clientIp: (_request, info) => info?.remoteAddress, ...extra }));
  return {
    express: e,
    hono: h.fetch,
    honoBare: honoBare.fetch,
    fetch: (request, env) => fetchHandler(request, { remoteAddress: env.incoming.socket.remoteAddress }),
  };
}

async function listen(kind, app) {
  if (kind === "express") {
    const server = app.listen(0, "127.0.0.1");
    await once(server, "listening");
    return { url: `http://127.0.0.1:${server.address().port}`, close: () => server.close() };
  }
  const server = serve({ fetch: app, hostname: "127.0.0.1", port: 0 });
  await once(server, "listening");
  return { url: `http://127.0.0.1:${server.address().port}`, close: () => server.close() };
}

const get = async (app, path, key) => {
  const res = await fetch(app.url + path, { headers: key ? { "x-api-key": key.secret } : {} });
  const text = await res.text();
  return {
    status: res.status,
    text,
    policy: res.headers.get("ratelimit-policy"),
    state: res.headers.get("ratelimit"),
    retryAfter: res.headers.get("retry-after"),
    type: res.headers.get("content-type"),
  };
};

for (const kind of ["express", "hono", "fetch"]) {
  describe(`${kind} middleware: limits`, () => {
    let app;
    before(async () => {
      app = await listen(kind, apps()[kind]);
    });
    after(() => app.close());

    test("a key's own rate: headers on allowed answers, then 429 with the engine's body", async () => {
      clock.now = at("2026-11-23T22:00:00.000Z");
      const first = await get(app, "/api/v1/projects", rated);
      assert.equal(first.status, 200, first.text);
      assert.equal(first.text, '{"keyId":"k_rated"}');
      assert.deepEqual([first.policy, first.state, first.retryAfter], ['"second";q=2;w=1', '"second";r=1;t=1', null]);
      clock.now += 10;
      assert.equal((await get(app, "/api/v1/me", rated)).state, '"second";r=0;t=1', "/me counts and carries the fields");
      clock.now += 10;
      const refused = await get(app, "/api/v1/projects", rated);
      assert.equal(refused.status, 429);
      assert.match(refused.type, /^application\/json/);
      assert.equal(refused.text, '{"reason":"rate_limited","message":"Too many requests for this key: its rate limit is 2 per second; retry after 1 second(s)."}');
      assert.deepEqual([refused.retryAfter, refused.policy, refused.state], ["1", '"second";q=2;w=1', '"second";r=0;t=1']);
      clock.now = at("2026-11-23T22:00:01.000Z");
      assert.equal((await get(app, "/api/v1/projects", rated)).status, 200, "a second later: a place again");
    });

    test("a day quota on the injected clock; only allowed requests count", async () => {
      clock.now = at("2026-11-23T22:00:00.000Z");
      const first = await get(app, "/api/v1/projects", quotaed);
      assert.deepEqual([first.status, first.policy, first.state], [200, '"second";q=10;w=1, "day";q=2;w=86400', '"second";r=9;t=1, "day";r=1;t=7200']);
      clock.now += 1000;
      // A denial by the decision (unknown endpoint) answers no limit fields and counts nothing.
      const denied = await get(app, "/api/v1/nope", quotaed);
      assert.deepEqual([denied.status, denied.policy, denied.state], [404, null, null]);
      const second = await get(app, "/api/v1/projects", quotaed);
      assert.equal(second.state, '"second";r=9;t=1, "day";r=0;t=7199');
      clock.now += 1000;
      const refused = await get(app, "/api/v1/projects", quotaed);
      assert.equal(refused.status, 429);
      assert.equal(refused.retryAfter, "7198");
      assert.equal(refused.text, `{"reason":"rate_limited","message":"This key's quota of 2 requests per day is used up; retry after 7198 second(s)."}`);
      assert.equal(refused.state, '"second";r=10;t=0, "day";r=0;t=7198');
      clock.now = at("2026-11-24T00:00:00.000Z");
      const tomorrow = await get(app, "/api/v1/projects", quotaed);
      assert.deepEqual([tomorrow.status, tomorrow.state], [200, '"second";r=9;t=1, "day";r=1;t=86400']);
    });

    test("the default rate (10 per second) holds a key without its own", async () => {
      clock.now = at("2026-11-23T22:00:05.000Z");
      for (let i = 0; i < 10; i++) assert.equal((await get(app, "/api/v1/projects", plain)).status, 200, `request ${i}`);
      const refused = await get(app, "/api/v1/projects", plain);
      assert.deepEqual([refused.status, refused.retryAfter], [429, "1"]);
      assert.equal((await get(app, "/api/v1/projects")).status, 401, "no key: 401, never limited");
    });
  });
}

describe("middleware: defaultPerSecond off, the limiter option shared", () => {
  test('"off": no fields for a key without limits; a key\'s own limits still apply', async () => {
    const app = await listen("express", apps({ defaultPerSecond: "off" }).express);
    try {
      clock.now = at("2026-11-23T22:00:00.000Z");
      const free = await get(app, "/api/v1/projects", plain);
      assert.deepEqual([free.status, free.policy, free.state], [200, null, null]);
      assert.equal((await get(app, "/api/v1/projects", quotaed)).policy, '"day";q=2;w=86400');
      assert.equal((await get(app, "/api/v1/projects", rated)).policy, '"second";q=2;w=1');
    } finally {
      app.close();
    }
  });

  test("two apps given one limiter share its counts", async () => {
    const limiter = keyscope.memoryLimiter();
    const one = await listen("express", apps({ limiter }).express);
    const two = await listen("hono", apps({ limiter }).hono);
    try {
      clock.now = at("2026-11-23T22:30:00.000Z");
      assert.equal((await get(one, "/api/v1/projects", rated)).status, 200);
      assert.equal((await get(two, "/api/v1/projects", rated)).status, 200);
      assert.equal((await get(one, "/api/v1/projects", rated)).status, 429);
      assert.equal((await get(two, "/api/v1/projects", rated)).status, 429);
    } finally {
      one.close();
      two.close();
    }
  });

  test("a failing limiter answers 503 unavailable, never the application", async () => {
    const reports = [];
    const limiter = { hit: async () => { throw new Error("redis down"); } };
    const app = await listen("express", apps({ limiter, onLimiterError: (e) => reports.push(e) }).express);
    try {
      const res = await get(app, "/api/v1/projects", plain);
      assert.equal(res.status, 503);
      assert.equal(JSON.parse(res.text).reason, "unavailable");
      assert.equal(reports[0].code, "limiter_failed");
    } finally {
      app.close();
    }
  });
});

test("withKeyscope: a handler's immutable Response (as fetch returns) still gets the fields", async () => {
  clock.now = at("2026-11-23T22:00:00.000Z");
  const handler = keyscope.withKeyscope(() => Response.redirect("https://example.com/next", 302), settings({ limiter: keyscope.memoryLimiter() }));
  const res = await handler(new Request("http://localhost/api/v1/projects", { headers: { "x-api-key": rated.secret } }));
  assert.equal(res.status, 302);
  assert.equal(res.headers.get("location"), "https://example.com/next");
  assert.equal(res.headers.get("ratelimit"), '"second";r=1;t=1');
});

describe("middleware: the client address reaches the decision", () => {
  const all = apps({ defaultPerSecond: "off" });
  const servers = {};
  before(async () => {
    for (const kind of ["express", "hono", "honoBare", "fetch"]) servers[kind] = await listen(kind === "express" ? "express" : "hono", all[kind]);
  });
  after(() => Object.values(servers).forEach((s) => s.close()));

  for (const kind of ["express", "hono", "fetch"]) {
    test(`${kind}: a key allowed from 127.0.0.0/8 is allowed from loopback`, async () => {
      const res = await get(servers[kind], "/api/v1/projects", fenced);
      assert.equal(res.status, 200, res.text);
    });
  }
  test("hono without a clientIp option: the address is unknown, so the fenced key is refused (fail closed)", async () => {
    const res = await get(servers.honoBare, "/api/v1/projects", fenced);
    assert.equal(res.status, 403);
    assert.deepEqual(JSON.parse(res.text), { reason: "forbidden", message: "This key cannot be used from this address." });
    assert.equal((await get(servers.honoBare, "/api/v1/projects", plain)).status, 200, "a key without a list is not affected");
  });
});
