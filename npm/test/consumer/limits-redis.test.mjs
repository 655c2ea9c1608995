// Per-key limits shared through a real redis-server: the limits suite on `redisLimiter` (one
// node-redis client, then two limiters on two connections — one called node-redis's way, one
// ioredis's — taking turns), concurrent requests through two limiters holding one exact limit,
// and the script surviving a SCRIPT FLUSH. The server is the one scripts/test-npm starts
// (KEYSCOPE_TEST_REDIS_URL); run by hand without it, this file starts its own redis-server on a
// free loopback port. Nothing is skipped: no Redis is a failure.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createServer } from "node:net";
import { after, before, describe, test } from "node:test";
import { createClient } from "redis";
import keyscope from "keyscope";
import { at, hit, limiterSuite } from "./limits-suite.mjs";

const run = `${process.pid}-${Date.now()}`;
const id = (name) => `key_${name}_${run}`;

async function freePort() {
  const server = createServer().listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address();
  server.close();
  return port;
}

/** The Redis to test against: the script's, or one started here (stopped at the end). */
async function startRedis() {
  if (process.env.KEYSCOPE_TEST_REDIS_URL) return { url: process.env.KEYSCOPE_TEST_REDIS_URL, stop() {} };
  const port = await freePort();
  const child = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { stdio: "ignore" });
  const failed = new Promise((_, reject) => child.once("error", (e) => reject(new Error(`redis-server could not be started: ${e.message}`))));
  const url = `redis://127.0.0.1:${port}`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    const probe = createClient({ url, socket: { reconnectStrategy: false } });
    probe.on("error", () => {});
    try {
      await Promise.race([probe.connect(), failed]);
      await probe.ping();
      await probe.quit();
      break;
    } catch (e) {
      if (Date.now() > deadline || /could not be started/.test(e.message)) {
        child.kill();
        throw e;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return { url, stop: () => child.kill() };
}

let redis;
const clients = [];
async function connect() {
  const client = createClient({ url: redis.url });
  client.on("error", () => {});
  await client.connect();
  clients.push(client);
  return client;
}

/** ioredis's calling convention (`evalsha(sha, numKeys, ...keys, ...args)`) over a node-redis connection. */
const ioredisShaped = (client) => ({
  evalsha: (sha, numKeys, ...rest) => client.sendCommand(["EVALSHA", sha, String(numKeys), ...rest]),
  eval: (script, numKeys, ...rest) => client.sendCommand(["EVAL", script, String(numKeys), ...rest]),
});

let single;
let pair;
before(async () => {
  redis = await startRedis();
  const [a, b] = [await connect(), await connect()];
  single = keyscope.redisLimiter(a);
  const first = keyscope.redisLimiter(a, { prefix: "ks-test:" });
  const second = keyscope.redisLimiter(ioredisShaped(b), { prefix: "ks-test:" });
  let turn = 0;
  pair = { hit: (keyId, plan) => (turn++ % 2 === 0 ? first : second).hit(keyId, plan), first, second };
});
after(async () => {
  for (const c of clients) await c.quit().catch(() => {});
  redis?.stop();
});

limiterSuite("Redis limiter", () => single, (name) => id(`one_${name}`));
limiterSuite("two Redis limiters taking turns", () => pair, (name) => id(`two_${name}`));

describe("Redis: two limiters on two connections share one exact limit", () => {
  test("40 concurrent requests at once through both: exactly the rate (7) admitted", async () => {
    const key = { id: id("burst"), rateLimit: { perSecond: 7 } };
    const t = at("2026-11-23T12:00:00.000Z");
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) => hit(i % 2 ? pair.first : pair.second, key, t + (i % 5))),
    );
    assert.equal(answers.filter((a) => a.status === 200).length, 7);
    assert.equal(answers.filter((a) => a.status === 429).length, 33);
    const states = answers.filter((a) => a.status === 200).map((a) => a.state).sort();
    assert.deepEqual(states, [0, 1, 2, 3, 4, 5, 6].map((r) => `"second";r=${r};t=1`), "each admission saw its own count");
  });

  test("a quota of 5 a day across both, under concurrency: exactly 5 admitted, then 429 until midnight", async () => {
    const key = { id: id("quota-burst"), quota: { limit: 5, period: "day" } };
    const t = at("2026-11-23T18:00:00.000Z");
    const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => hit(i % 2 ? pair.first : pair.second, key, t + i)));
    assert.equal(answers.filter((a) => a.status === 200).length, 5);
    for (const a of answers.filter((x) => x.status === 429)) assert.equal(a.state, `"day";r=0;t=${a.retryAfter}`);
    assert.equal((await hit(pair.first, key, at("2026-11-24T00:00:00.000Z"))).state, '"day";r=4;t=86400');
  });

  test("the limits hold after Redis forgets the script (SCRIPT FLUSH: EVALSHA falls back to EVAL)", async () => {
    const key = { id: id("flush"), rateLimit: { perSecond: 1 } };
    const t = at("2026-11-23T12:00:00.000Z");
    await clients[0].sendCommand(["SCRIPT", "FLUSH"]);
    assert.equal((await hit(single, key, t)).status, 200);
    await clients[1].sendCommand(["SCRIPT", "FLUSH"]);
    assert.equal((await hit(pair.second, key, t + 1)).status, 200, "another prefix: other counters");
    assert.equal((await hit(single, key, t + 2)).status, 429);
  });

  test("a key's counters expire in Redis", async () => {
    const key = { id: id("ttl"), quota: { limit: 5, period: "day" }, rateLimit: { perSecond: 5 } };
    const t = Date.now();
    await hit(single, key, t);
    const rateTtl = await clients[0].pTTL(`keyscope:{${key.id}}:rate`);
    const countTtl = await clients[0].pTTL(`keyscope:{${key.id}}:count`);
    assert.ok(rateTtl > 0 && rateTtl <= 61_000, `rate window kept ${rateTtl} ms`);
    const toMidnight = (Math.floor(t / 86_400_000) + 1) * 86_400_000 - t; // UTC days are whole multiples of 86,400,000 ms
    assert.ok(countTtl > 0 && countTtl <= Math.max(toMidnight, 1000) + 60_000, `count kept ${countTtl} ms (midnight in ${toMidnight})`);
  });

  test("Redis down: 503 unavailable, reported", async () => {
    const broken = createClient({ url: redis.url });
    broken.on("error", () => {});
    await broken.connect();
    const limiter = keyscope.redisLimiter(broken);
    await broken.quit();
    const reports = [];
    const answer = await keyscope.checkLimits({ id: id("down") }, { limiter, onLimiterError: (e) => reports.push(e) });
    assert.equal(answer.status, 503);
    assert.equal(answer.body().reason, "unavailable");
    assert.equal(reports[0]?.code, "limiter_failed");
  });
});
