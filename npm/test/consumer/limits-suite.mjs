// The limits suite every limiter passes (limits.test.mjs: in process; limits-redis.test.mjs:
// against a real redis-server): the per-second limit, the default rate and "off", day and month
// quotas on an injected clock, Retry-After and both header fields exact, and a request refused
// by one limit consuming none of the other. Times are injected (`now`): nothing sleeps and no
// assertion depends on the wall clock.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import keyscope from "keyscope";

export const at = (iso) => Date.parse(iso);

/** Checks one request of `key` at `now` (ms) and returns what a response would carry. */
export async function hit(limiter, key, now, options = {}) {
  const answer = await keyscope.checkLimits(key, { limiter, now, defaultPerSecond: "off", ...options });
  const headers = answer.headers();
  return {
    status: answer.status,
    policy: headers["ratelimit-policy"],
    state: headers["ratelimit"],
    retryAfter: headers["retry-after"],
    body: answer.allowed ? undefined : answer.bodyJson(),
    answer,
  };
}

const rateBody = (n, s) =>
  JSON.stringify({ reason: "rate_limited", message: `Too many requests for this key: its rate limit is ${n} per second; retry after ${s} second(s).` });
const quotaBody = (n, period, s) =>
  JSON.stringify({ reason: "rate_limited", message: `This key's quota of ${n} requests per ${period} is used up; retry after ${s} second(s).` });

/**
 * The suite for limiters made by `make()` (a fresh limiter, or one sharing its store with the
 * previous ones); `id(name)` makes a key id unique to this run.
 */
export function limiterSuite(name, make, id) {
  describe(`${name}: per-key limits`, () => {
    test("the per-second limit holds, then frees a place as the oldest admission leaves", async () => {
      const limiter = make();
      const key = { id: id("rate"), rateLimit: { perSecond: 3 } };
      const t = at("2026-11-23T12:00:00.000Z");
      for (const [i, r] of [2, 1, 0].entries()) {
        const a = await hit(limiter, key, t + i * 100);
        assert.deepEqual([a.status, a.policy, a.state, a.retryAfter], [200, '"second";q=3;w=1', `"second";r=${r};t=1`, undefined]);
      }
      const refused = await hit(limiter, key, t + 300);
      assert.equal(refused.status, 429);
      assert.equal(refused.retryAfter, "1");
      assert.equal(refused.policy, '"second";q=3;w=1');
      assert.equal(refused.state, '"second";r=0;t=1');
      assert.equal(refused.body, rateBody(3, 1));
      assert.equal(refused.answer.reason, "rate_limited");
      assert.equal(refused.answer.retryAfter, 1);
      assert.match(refused.answer.headers()["content-type"], /^application\/json/);
      assert.equal((await hit(limiter, key, t + 999)).status, 429, "the first admission is still in the window");
      assert.equal((await hit(limiter, key, t + 1000)).state, '"second";r=0;t=1', "the first left: a place");
      assert.equal((await hit(limiter, key, t + 1050)).status, 429, "the second (at +100) has not left");
      assert.equal((await hit(limiter, key, t + 1100)).status, 200);
    });

    test("the default rate applies to a key without its own; off leaves only the key's own limits", async () => {
      const limiter = make();
      const t = at("2026-11-23T12:00:00.000Z");
      const plain = { id: id("default") };
      assert.equal((await hit(limiter, plain, t, { defaultPerSecond: 2 })).policy, '"second";q=2;w=1');
      assert.equal((await hit(limiter, plain, t + 1, { defaultPerSecond: 2 })).state, '"second";r=0;t=1');
      const refused = await hit(limiter, plain, t + 2, { defaultPerSecond: 2 });
      assert.deepEqual([refused.status, refused.body], [429, rateBody(2, 1)]);
      const off = await hit(limiter, plain, t + 3, { defaultPerSecond: "off" });
      assert.deepEqual([off.status, off.policy, off.state], [200, undefined, undefined], "no limit: no header");
      assert.equal((await hit(limiter, plain, t + 4, { defaultPerSecond: 0 })).policy, undefined, "0 is off");
      const own = { id: id("own"), rateLimit: { perSecond: 1 } };
      assert.equal((await hit(limiter, own, t, { defaultPerSecond: "off" })).policy, '"second";q=1;w=1');
      assert.equal((await hit(limiter, own, t + 1, { defaultPerSecond: 50 })).status, 429, "the key's own rate wins");
      const defaulted = await keyscope.checkLimits({ id: id("ten") }, { limiter, now: t });
      assert.equal(defaulted.headers()["ratelimit-policy"], '"second";q=10;w=1', "the default default is 10");
    });

    test("a day quota counts in the UTC day and resets at midnight", async () => {
      const limiter = make();
      const key = { id: id("day"), quota: { limit: 3, period: "day" } };
      const t = at("2026-11-23T10:00:00.000Z");
      for (let i = 0; i < 3; i++) {
        const a = await hit(limiter, key, t + i * 1000);
        assert.equal(a.status, 200);
        assert.equal(a.policy, '"day";q=3;w=86400');
        assert.equal(a.state, `"day";r=${2 - i};t=${14 * 3600 - i}`);
      }
      const refused = await hit(limiter, key, t + 3000);
      assert.equal(refused.status, 429);
      assert.equal(refused.retryAfter, String(14 * 3600 - 3));
      assert.equal(refused.state, `"day";r=0;t=${14 * 3600 - 3}`);
      assert.equal(refused.body, quotaBody(3, "day", 14 * 3600 - 3));
      const lastMs = await hit(limiter, key, at("2026-11-23T23:59:59.999Z"));
      assert.deepEqual([lastMs.status, lastMs.retryAfter], [429, "1"], "Retry-After is at least 1");
      const midnight = await hit(limiter, key, at("2026-11-24T00:00:00.000Z"));
      assert.deepEqual([midnight.status, midnight.state], [200, '"day";r=2;t=86400'], "a new day, a new count");
    });

    test("a month quota counts in the calendar month (29 days of a leap February)", async () => {
      const limiter = make();
      const key = { id: id("month"), quota: { limit: 2, period: "month" } };
      const first = await hit(limiter, key, at("2024-02-29T12:00:00.000Z"));
      assert.deepEqual([first.policy, first.state], ['"month";q=2;w=2505600', '"month";r=1;t=43200']);
      await hit(limiter, key, at("2024-02-29T12:00:01.000Z"));
      const refused = await hit(limiter, key, at("2024-02-29T12:00:02.000Z"));
      assert.deepEqual([refused.status, refused.retryAfter], [429, String(43200 - 2)]);
      assert.equal(refused.body, quotaBody(2, "month", 43198));
      const march = await hit(limiter, key, at("2024-03-01T00:00:00.000Z"));
      assert.deepEqual([march.status, march.policy, march.state], [200, '"month";q=2;w=2678400', '"month";r=1;t=2678400']);
    });

    test("a request refused by the rate consumes none of the quota", async () => {
      const limiter = make();
      const key = { id: id("rate-not-quota"), rateLimit: { perSecond: 2 }, quota: { limit: 3, period: "day" } };
      const t = at("2026-11-23T12:00:00.000Z");
      assert.equal((await hit(limiter, key, t)).state, '"second";r=1;t=1, "day";r=2;t=43200');
      assert.equal((await hit(limiter, key, t + 1)).state, '"second";r=0;t=1, "day";r=1;t=43200');
      for (let i = 2; i < 6; i++) {
        const refused = await hit(limiter, key, t + i);
        assert.equal(refused.status, 429);
        assert.equal(refused.body, rateBody(2, 1));
        assert.equal(refused.state, '"second";r=0;t=1, "day";r=1;t=43200', "the quota is untouched");
      }
      const third = await hit(limiter, key, t + 1000);
      assert.deepEqual([third.status, third.state], [200, '"second";r=0;t=1, "day";r=0;t=43199']);
      const quota = await hit(limiter, key, t + 5000);
      assert.deepEqual([quota.status, quota.retryAfter, quota.body], [429, "43195", quotaBody(3, "day", 43195)]);
    });

    test("a request refused by the quota consumes none of the rate", async () => {
      const limiter = make();
      const key = { id: id("quota-not-rate"), rateLimit: { perSecond: 2 }, quota: { limit: 1, period: "day" } };
      assert.equal((await hit(limiter, key, at("2026-11-23T23:59:58.000Z"))).status, 200);
      for (const ms of ["500", "600", "700"]) {
        const refused = await hit(limiter, key, at(`2026-11-23T23:59:59.${ms}Z`));
        assert.deepEqual([refused.status, refused.retryAfter], [429, "1"]);
        assert.equal(refused.body, quotaBody(1, "day", 1));
        assert.equal(refused.state, '"second";r=2;t=0, "day";r=0;t=1', "nothing counted in the rate window");
      }
      // The new day's first request: had the refusals counted, the rate (2/s) would refuse it.
      const midnight = await hit(limiter, key, at("2026-11-24T00:00:00.000Z"));
      assert.deepEqual([midnight.status, midnight.state], [200, '"second";r=1;t=1, "day";r=0;t=86400']);
      const again = await hit(limiter, key, at("2026-11-24T00:00:00.100Z"));
      assert.deepEqual([again.status, again.retryAfter], [429, "86400"]);
    });

    test("when both limits are reached, the quota is the one named (its retry is the one that succeeds)", async () => {
      const limiter = make();
      const key = { id: id("both"), rateLimit: { perSecond: 1 }, quota: { limit: 1, period: "day" } };
      await hit(limiter, key, at("2026-11-23T12:00:00.000Z"));
      const refused = await hit(limiter, key, at("2026-11-23T12:00:00.001Z"));
      assert.deepEqual([refused.retryAfter, refused.body], ["43200", quotaBody(1, "day", 43200)]);
    });
  });
}
