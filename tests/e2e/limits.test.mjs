// SPEC "Key controls", limits: a key's own rate (overriding the deployment's default) and its
// quota per UTC calendar day or month, held by the key's Durable Object in the same hop as its
// state. Allowed answers and 429s carry RateLimit-Policy and RateLimit; a 429 says which limit
// and when to retry. The worker's clock is set by the test (never a sleep, never a wall-clock
// window): every request below is made at an instant the test chose.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { startGateway, startOrigin } from "./lib/gateway.mjs";

const ORG = "org_lim";

async function call(gw, path, secret, method = "GET", clientIp = undefined) {
  const headers = { "x-api-key": secret, ...(clientIp ? { "cf-connecting-ip": clientIp } : {}) };
  const res = await fetch(`http://127.0.0.1:${gw.port}${path}`, { method, headers });
  const body = await res.text();
  return {
    status: res.status,
    body: body ? JSON.parse(body) : null,
    policy: res.headers.get("ratelimit-policy"),
    state: res.headers.get("ratelimit"),
    retryAfter: res.headers.get("retry-after"),
  };
}

for (const store of ["strict", "d1"]) {
  describe(`limits at the edge (store: ${store})`, () => {
    let origin;
    let gw;
    before(async () => {
      origin = await startOrigin();
      gw = await startGateway({ originUrl: origin.url, clock: true, bindings: { KEYSCOPE_RATE_LIMIT: "10", KEYSCOPE_STORE: store } });
      await gw.admin.putMember(ORG, "u_admin", "admin");
    });
    after(async () => {
      await gw?.dispose();
      await origin?.close();
    });
    const create = (body) => gw.admin.createKey(ORG, { actingUserId: "u_admin", name: "k", scope: "organization", ...body });

    test("a key's own rate overrides the default; every answer says what is left", async () => {
      const own = await create({ rateLimit: { perSecond: 2 } });
      const plain = await create({});
      await gw.clock.freeze(Date.parse("2026-11-23T12:00:00Z"));
      const first = await call(gw, "/api/v1/projects", own.secret);
      assert.equal(first.status, 200);
      assert.equal(first.policy, '"second";q=2;w=1');
      assert.equal(first.state, '"second";r=1;t=1');
      const second = await call(gw, "/api/v1/projects", own.secret);
      assert.equal(second.state, '"second";r=0;t=1');
      const third = await call(gw, "/api/v1/projects", own.secret);
      assert.equal(third.status, 429);
      assert.equal(third.body.reason, "rate_limited");
      assert.match(third.body.message, /rate limit is 2 per second/);
      assert.equal(third.retryAfter, "1");
      assert.equal(third.policy, '"second";q=2;w=1', "a 429 carries the fields too");
      assert.equal(third.state, '"second";r=0;t=1');
      const other = await call(gw, "/api/v1/projects", plain.secret);
      assert.equal(other.status, 200, "another key has its own window");
      assert.equal(other.policy, '"second";q=10;w=1', "a key without its own rate has the deployment's");
      assert.equal(other.state, '"second";r=9;t=1');
      await gw.clock.advance(1000);
      assert.equal((await call(gw, "/api/v1/projects", own.secret)).status, 200, "the window moved on");
    });

    test("a daily quota holds until 00:00 UTC, says so, and refills then", async () => {
      const k = await create({ quota: { limit: 3, period: "day" } });
      await gw.clock.freeze(Date.parse("2026-11-23T23:59:00Z"));
      const states = [];
      for (let i = 0; i < 3; i++) {
        const res = await call(gw, "/api/v1/projects", k.secret);
        assert.equal(res.status, 200);
        assert.equal(res.policy, '"second";q=10;w=1, "day";q=3;w=86400');
        states.push(res.state);
      }
      assert.deepEqual(states, [2, 1, 0].map((r, i) => `"second";r=${9 - i};t=1, "day";r=${r};t=60`));
      const spent = await call(gw, "/api/v1/projects", k.secret);
      assert.equal(spent.status, 429);
      assert.match(spent.body.message, /quota of 3 requests per day is used up/);
      assert.equal(spent.retryAfter, "60", "until midnight UTC");
      await gw.clock.advance(60_000);
      const next = await call(gw, "/api/v1/projects", k.secret);
      assert.equal(next.status, 200, "a new day");
      assert.equal(next.state, '"second";r=9;t=1, "day";r=2;t=86400');
    });

    test("a monthly quota counts the calendar month; only allowed requests count", async () => {
      const k = await create({ quota: { limit: 1, period: "month" }, preset: "read" });
      await gw.clock.freeze(Date.parse("2026-02-28T12:00:00Z"));
      const refused = await call(gw, "/api/v1/projects", k.secret, "POST");
      assert.equal(refused.status, 403, "read-only: forbidden");
      assert.equal(refused.policy, null, "a refusal for another reason says nothing of the limits");
      const allowed = await call(gw, "/api/v1/projects", k.secret);
      assert.equal(allowed.status, 200, "the refused request did not count");
      assert.equal(allowed.policy, '"second";q=10;w=1, "month";q=1;w=2419200', "February 2026 has 28 days");
      const spent = await call(gw, "/api/v1/projects", k.secret);
      assert.equal(spent.status, 429);
      assert.match(spent.body.message, /per month/);
      assert.equal(spent.retryAfter, String(12 * 3600), "until March 1st, 00:00 UTC");
      await gw.clock.advance(12 * 3600 * 1000);
      assert.equal((await call(gw, "/api/v1/projects", k.secret)).status, 200, "March");
    });

    test("a change of the allow-list or the limits holds from the very next request", async () => {
      const k = await create({ rateLimit: { perSecond: 1 } });
      await gw.clock.freeze(Date.parse("2026-11-25T08:00:00Z"));
      const first = await call(gw, "/api/v1/projects", k.secret, "GET", "192.0.2.1");
      assert.equal(first.policy, '"second";q=1;w=1', "the key is now known to this isolate");
      const changed = await gw.admin.ok("POST", `/organizations/${ORG}/keys/${k.key.id}/controls`, {
        actingUserId: "u_admin",
        rateLimit: { perSecond: 3 },
        allowedCidrs: ["192.0.2.0/24"],
      });
      assert.deepEqual([changed.key.rateLimit, changed.key.allowedCidrs], [{ perSecond: 3 }, ["192.0.2.0/24"]]);
      const after = await call(gw, "/api/v1/projects", k.secret, "GET", "192.0.2.1");
      assert.equal(after.status, 200);
      assert.equal(after.policy, '"second";q=3;w=1', "the new rate, not the cached one");
      assert.equal(after.state, '"second";r=1;t=1', "the earlier admission still counts, this one once");
      const elsewhere = await call(gw, "/api/v1/projects", k.secret, "GET", "198.51.100.1");
      assert.equal(elsewhere.status, 403);
      assert.equal(elsewhere.body.reason, "forbidden");
      await gw.admin.ok("POST", `/organizations/${ORG}/keys/${k.key.id}/controls`, { actingUserId: "u_admin", allowedCidrs: null });
      await gw.clock.advance(1000);
      const anywhere = await call(gw, "/api/v1/projects", k.secret, "GET", "198.51.100.1");
      assert.equal(anywhere.status, 200, "the list removed: any address");
      assert.equal(anywhere.policy, '"second";q=3;w=1', "the rate kept (absent: unchanged)");
      const events = await gw.admin.ok("GET", `/organizations/${ORG}/audit-events?keyId=${k.key.id}&action=key.controls_changed`);
      assert.equal(events.events.length, 2);
      assert.deepEqual(events.events.map((e) => e.details.allowedCidrs).sort(), [["192.0.2.0/24"], null].sort());
    });

    test("/me is counted and carries the fields like any allowed answer", async () => {
      const k = await create({ rateLimit: { perSecond: 1 } });
      await gw.clock.freeze(Date.parse("2026-11-24T08:00:00Z"));
      const me = await call(gw, "/api/v1/me", k.secret);
      assert.equal(me.status, 200);
      assert.deepEqual(me.body.rateLimit, { perSecond: 1 });
      assert.equal(me.state, '"second";r=0;t=1');
      assert.equal((await call(gw, "/api/v1/me", k.secret)).status, 429);
    });
  });
}

describe("limits at the edge: the limiter off", () => {
  test("KEYSCOPE_RATE_LIMIT=off leaves keys without their own limits unlimited, and no fields", async () => {
    const origin = await startOrigin();
    const gw = await startGateway({ originUrl: origin.url, clock: true, bindings: { KEYSCOPE_RATE_LIMIT: "off" } });
    try {
      await gw.admin.putMember(ORG, "u_admin", "admin");
      const plain = await gw.admin.createKey(ORG, { actingUserId: "u_admin", name: "p", scope: "organization" });
      const own = await gw.admin.createKey(ORG, { actingUserId: "u_admin", name: "o", scope: "organization", rateLimit: { perSecond: 1 } });
      await gw.clock.freeze(Date.parse("2026-11-23T12:00:00Z"));
      for (let i = 0; i < 12; i++) {
        const res = await call(gw, "/api/v1/projects", plain.secret);
        assert.equal(res.status, 200);
        assert.equal(res.policy, null);
      }
      assert.equal((await call(gw, "/api/v1/projects", own.secret)).policy, '"second";q=1;w=1', "a key's own rate still holds");
      assert.equal((await call(gw, "/api/v1/projects", own.secret)).status, 429);
    } finally {
      await gw.dispose();
      await origin.close();
    }
  });
});

for (const store of ["strict", "d1"]) {
  describe(`an organization's limits (store: ${store})`, () => {
    test("defaults for keys without their own, and a cap all its keys share", async () => {
      const origin = await startOrigin();
      const gw = await startGateway({ originUrl: origin.url, clock: true, bindings: { KEYSCOPE_RATE_LIMIT: "10", KEYSCOPE_STORE: store } });
      try {
        const org = "org_cap";
        await gw.admin.putMember(org, "u_admin", "admin");
        const limits = { defaultRateLimit: { perSecond: 2 }, defaultQuota: null, cap: { limit: 3, period: "day" } };
        assert.deepEqual(await gw.admin.ok("PUT", `/organizations/${org}/limits`, limits), limits);
        assert.deepEqual(await gw.admin.ok("GET", `/organizations/${org}/limits`), limits);
        const bad = await gw.admin.call("PUT", `/organizations/${org}/limits`, { caps: {} });
        assert.equal(bad.status, 400, "an unknown field");
        const plain = await gw.admin.createKey(org, { actingUserId: "u_admin", name: "plain", scope: "organization", preset: "read" });
        const own = await gw.admin.createKey(org, { actingUserId: "u_admin", name: "own", scope: "organization", rateLimit: { perSecond: 5 } });
        await gw.clock.freeze(Date.parse("2026-11-23T18:00:00Z"));
        const first = await call(gw, "/api/v1/projects", plain.secret);
        assert.equal(first.status, 200);
        assert.equal(first.policy, '"second";q=2;w=1', "the organization's default rate");
        assert.equal((await call(gw, "/api/v1/projects", own.secret)).policy, '"second";q=5;w=1', "a key's own rate stands");
        assert.equal((await call(gw, "/api/v1/projects", plain.secret, "POST")).status, 403, "refused for another reason");
        assert.equal((await call(gw, "/api/v1/projects", own.secret)).status, 200, "the third request of the day: the refused one did not count");
        const capped = await call(gw, "/api/v1/projects", plain.secret);
        assert.equal(capped.status, 429);
        assert.equal(capped.body.reason, "rate_limited");
        assert.match(capped.body.message, /organization's quota of 3 requests per day, shared by all its keys/);
        assert.equal(capped.retryAfter, String(6 * 3600), "until midnight UTC");
        assert.equal((await call(gw, "/api/v1/projects", own.secret)).status, 429, "every key of the organization");
        await gw.clock.advance(6 * 3600 * 1000);
        assert.equal((await call(gw, "/api/v1/projects", own.secret)).status, 200, "a new day");
      } finally {
        await gw.dispose();
        await origin.close();
      }
    });
  });
}
