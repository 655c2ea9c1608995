// Usage per key (the issue "Per-key controls", item 4): hourly counts per key — allowed, and
// denied by reason — counted by the key's Durable Object and written to D1 in batches; the admin
// API reads them by hour or day, and the organization's keys by traffic. The worker's clock is
// the test's; the object's batch is written when the test asks (what its alarm does a minute
// after the first count), and the reads poll until the reports sent after each answer are in.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { startGateway, startOrigin, waitFor } from "./lib/gateway.mjs";

const ORG = "org_use";
const T = Date.parse("2026-11-23T12:30:00Z");
const HOUR = 3_600_000;

async function call(gw, path, secret, method = "GET") {
  const res = await fetch(`http://127.0.0.1:${gw.port}${path}`, { method, headers: { "x-api-key": secret } });
  await res.arrayBuffer();
  return res.status;
}

const none = { key_revoked: 0, scope_violation: 0, forbidden: 0, not_found: 0, rate_limited: 0, unavailable: 0 };

for (const store of ["strict", "d1"]) {
  describe(`usage per key (store: ${store})`, () => {
    let origin;
    let gw;
    before(async () => {
      origin = await startOrigin();
      gw = await startGateway({ originUrl: origin.url, clock: true, bindings: { KEYSCOPE_RATE_LIMIT: "off", KEYSCOPE_STORE: store } });
      await gw.admin.putMember(ORG, "u_admin", "admin");
    });
    after(async () => {
      await gw?.dispose();
      await origin?.close();
    });

    test("every outcome of a known key is counted in its hour, and read back by hour, day and key", async () => {
      const busy = await gw.admin.createKey(ORG, { actingUserId: "u_admin", name: "busy", scope: "organization", preset: "read", rateLimit: { perSecond: 4 } });
      const quiet = await gw.admin.createKey(ORG, { actingUserId: "u_admin", name: "quiet", scope: "organization" });
      await gw.clock.freeze(T);
      const statuses = [];
      for (let i = 0; i < 3; i++) statuses.push(await call(gw, "/api/v1/projects", busy.secret));
      statuses.push(await call(gw, "/api/v1/projects", busy.secret, "POST")); // read-only: forbidden
      statuses.push(await call(gw, "/api/v1/nope", busy.secret)); // not_found
      statuses.push(await call(gw, "/api/v1/projects", busy.secret)); // the 4th admitted
      statuses.push(await call(gw, "/api/v1/projects", busy.secret)); // over 4/s
      statuses.push(await call(gw, "/api/v1/projects", quiet.secret));
      assert.deepEqual(statuses, [200, 200, 200, 403, 404, 200, 429, 200]);
      await gw.clock.advance(HOUR);
      assert.equal(await call(gw, "/api/v1/projects", busy.secret), 200, "the next hour");
      await gw.admin.ok("POST", `/organizations/${ORG}/keys/${busy.key.id}/revoke`, { actingUserId: "u_admin" });
      assert.equal(await call(gw, "/api/v1/projects", busy.secret), 401, "revoked");

      const hourly = await waitFor(async () => {
        await gw.clock.flushUsage(busy.key.id);
        await gw.clock.flushUsage(quiet.key.id);
        const body = await gw.admin.ok("GET", `/organizations/${ORG}/keys/${busy.key.id}/usage?granularity=hour&since=2026-11-23T00:00:00Z&until=2026-11-24T00:00:00Z`);
        const total = body.buckets.reduce((n, b) => n + b.allowed + Object.values(b.denied).reduce((a, c) => a + c, 0), 0);
        return total === 9 ? body : null;
      }, "the busy key's nine requests in its usage");
      assert.equal(hourly.granularity, "hour");
      assert.deepEqual(hourly.buckets, [
        { start: "2026-11-23T12:00:00.000Z", allowed: 4, denied: { ...none, forbidden: 1, not_found: 1, rate_limited: 1 } },
        { start: "2026-11-23T13:00:00.000Z", allowed: 1, denied: { ...none, key_revoked: 1 } },
      ]);
      const daily = await gw.admin.ok("GET", `/organizations/${ORG}/keys/${busy.key.id}/usage?since=2026-11-01T00:00:00Z&until=2026-11-30T00:00:00Z`);
      assert.equal(daily.granularity, "day", "day is the default");
      assert.deepEqual(daily.buckets, [
        { start: "2026-11-23T00:00:00.000Z", allowed: 5, denied: { ...none, key_revoked: 1, forbidden: 1, not_found: 1, rate_limited: 1 } },
      ]);
      const org = await waitFor(async () => {
        const body = await gw.admin.ok("GET", `/organizations/${ORG}/usage?since=2026-11-23T00:00:00Z&until=2026-11-24T00:00:00Z`);
        return body.keys.length === 2 ? body : null;
      }, "both keys in the organization's usage");
      assert.deepEqual(org.keys.map((k) => [k.keyId, k.name, k.total, k.allowed]), [
        [busy.key.id, "busy", 9, 5],
        [quiet.key.id, "quiet", 1, 1],
      ], "busiest first");
      const empty = await gw.admin.ok("GET", `/organizations/${ORG}/keys/${quiet.key.id}/usage?since=2026-11-24T00:00:00Z&until=2026-11-23T00:00:00Z`);
      assert.deepEqual(empty.buckets, [], "a range that ends before it starts matches nothing");
      const other = await gw.admin.call("GET", `/organizations/org_else/keys/${busy.key.id}/usage`);
      assert.equal(other.status, 404, "another organization's key is not there");
    });
  });
}
