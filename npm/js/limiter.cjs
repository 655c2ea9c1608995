"use strict";
// Per-key limits for JavaScript backends: the limiter interface's two implementations — in
// process (`memoryLimiter`, a Map) and shared through Redis (`redisLimiter`, one Lua script) —
// and `checkLimits`, which asks a limiter about one allowed request and answers as the gateway
// does. The arithmetic comes from the wasm engine (keyscope-ratelimit): which rate applies, the
// quota's UTC calendar window, `Retry-After`, the `RateLimit-Policy` / `RateLimit` header
// fields and the 429 body. A limiter only stores counters and compares them with the plan's
// numbers, by this rule, atomically with the count:
//
//   1. the quota (if `plan.quota > 0`): its count in the window starting at `plan.windowStart`
//      (a count held for an older window is 0; for a newer one, that count) — if it is
//      `plan.quota` or more, refused by the quota;
//   2. the rate (if `plan.perSecond > 0`): the admissions made after `plan.since` — if there
//      are `plan.perSecond` or more, refused by the rate;
//   3. otherwise admitted: counted in both. A refused request counts in neither.

const { KeyscopeError } = require("./errors.cjs");
const { Denied, JSON_HEADERS } = require("./decision.cjs");

/**
 * Why a limit could not be checked; the request was answered `503 unavailable` (reported
 * through `onLimiterError`). `code`: `limiter_failed` (the limiter threw or rejected, e.g.
 * Redis down), `invalid_answer` (the limiter's answer is not a count), `invalid_limits` (the
 * key's `rateLimit` or `quota` cannot be a limit; `field` names it).
 */
class LimiterError extends KeyscopeError {
  constructor(code, message, field, cause) {
    super(code, message, cause === undefined ? undefined : { cause });
    this.field = field ?? null;
  }
}

/** How often (by the requests' clock) the in-process limiter forgets idle keys. */
const SWEEP_MS = 10_000;
/** How much longer Redis keeps a key's counters than they are of use: room for the clocks of
 * the processes sharing it. */
const REDIS_SLACK_MS = 60_000;
/** How many distinct limiter problems are remembered, to report each once. */
const REPORTED_PROBLEMS = 256;

/** One key's counters in process: the rate's admission times (oldest first, from `head`) and the quota's window and count. */
class Counters {
  constructor() {
    this.times = [];
    this.head = 0;
    this.start = -Infinity;
    this.used = 0;
    this.expiresAt = -Infinity;
  }

  hit(plan) {
    const { now, perSecond, quota } = plan;
    let inSecond = 0;
    let oldest = -1;
    const times = this.times;
    if (perSecond > 0) {
      let head = this.head;
      while (head < times.length && times[head] <= plan.since) head++;
      if (head > 32 && head * 2 >= times.length) {
        times.splice(0, head);
        head = 0;
      }
      this.head = head;
      inSecond = times.length - head;
      if (inSecond > 0) oldest = times[head];
    }
    let used = 0;
    if (quota > 0 && this.start >= plan.windowStart) used = this.used;
    if (quota > 0 && used >= quota) return { refused: "quota", inSecond, oldest, used };
    if (perSecond > 0 && inSecond >= perSecond) return { refused: "rate", inSecond, oldest, used };
    if (perSecond > 0) {
      times.push(now);
      inSecond++;
      oldest = oldest < 0 ? now : Math.min(oldest, now);
    }
    if (quota > 0) {
      if (this.start < plan.windowStart) this.start = plan.windowStart;
      this.used = ++used;
    }
    if (plan.expiresAt > this.expiresAt) this.expiresAt = plan.expiresAt;
    return { refused: null, inSecond, oldest, used };
  }
}

/**
 * The in-process limiter: counters in a Map, per process (each process has its own limits; use
 * `redisLimiter` to share them). Memory is bounded: a key's counters are forgotten once they
 * are of no more use (its rate window is empty and its quota's window has ended), swept as
 * requests arrive.
 */
function memoryLimiter() {
  const keys = new Map();
  let nextSweep = -Infinity;
  function sweep(now) {
    for (const [id, counters] of keys) if (counters.expiresAt <= now) keys.delete(id);
  }
  return {
    hit(keyId, plan) {
      if (plan.now >= nextSweep) {
        sweep(plan.now);
        nextSweep = plan.now + SWEEP_MS;
      }
      let counters = keys.get(keyId);
      if (counters === undefined) {
        counters = new Counters();
        keys.set(keyId, counters);
      }
      return counters.hit(plan);
    },
    /** How many keys' counters are held. */
    get size() {
      return keys.size;
    },
  };
}

// The check-and-count in Redis: the rule above, in one script, so that it is atomic across
// every process sharing the Redis. KEYS[1]: the rate's sorted set of admission times;
// KEYS[2]: a hash holding the quota's window start and count, and a sequence that keeps apart
// admissions made in the same millisecond. Both keys carry the key id as a hash tag (one
// cluster slot). ARGV: now, since, perSecond, quota, windowStart, rate TTL, hash TTL (ms).
const SCRIPT = `
local now = ARGV[1]
local per_second = tonumber(ARGV[3])
local quota = tonumber(ARGV[4])
local window_start = tonumber(ARGV[5])
local in_second, oldest, used = 0, -1, 0
if per_second > 0 then
  redis.call("ZREMRANGEBYSCORE", KEYS[1], "-inf", ARGV[2])
  in_second = redis.call("ZCARD", KEYS[1])
  if in_second > 0 then
    oldest = tonumber(redis.call("ZRANGE", KEYS[1], 0, 0, "WITHSCORES")[2])
  end
end
local held = nil
if quota > 0 then
  held = tonumber(redis.call("HGET", KEYS[2], "start"))
  if held ~= nil and held >= window_start then
    used = tonumber(redis.call("HGET", KEYS[2], "used")) or 0
  end
  if used >= quota then return {2, in_second, oldest, used} end
end
if per_second > 0 and in_second >= per_second then return {1, in_second, oldest, used} end
if per_second > 0 then
  local seq = redis.call("HINCRBY", KEYS[2], "seq", 1)
  redis.call("ZADD", KEYS[1], now, now .. ":" .. seq)
  redis.call("PEXPIRE", KEYS[1], ARGV[6])
  in_second = in_second + 1
  if oldest < 0 or tonumber(now) < oldest then oldest = tonumber(now) end
end
if quota > 0 then
  if held ~= nil and held >= window_start then
    redis.call("HINCRBY", KEYS[2], "used", 1)
  else
    redis.call("HSET", KEYS[2], "start", ARGV[5], "used", 1)
  end
  used = used + 1
end
redis.call("PEXPIRE", KEYS[2], ARGV[7])
return {0, in_second, oldest, used}
`;

/** The script's SHA-1 (for EVALSHA), hex. */
async function sha1Hex(text) {
  const digest = await globalThis.crypto.subtle.digest("SHA-1", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The default limiter-problem report: one `console.warn` per distinct problem. */
const warn = (error) => console.warn(`keyscope: ${error.message}`);

const isNoScript = (err) => /^NOSCRIPT/.test(String(err?.message ?? ""));

/** How to run a script on `client`: node-redis (v4 and later) or ioredis. */
function scriptRunner(client) {
  if (client !== null && typeof client === "object") {
    if (typeof client.evalSha === "function" && typeof client.eval === "function") {
      return {
        evalSha: (sha, keys, args) => client.evalSha(sha, { keys, arguments: args }),
        eval: (script, keys, args) => client.eval(script, { keys, arguments: args }),
      };
    }
    if (typeof client.evalsha === "function" && typeof client.eval === "function") {
      return {
        evalSha: (sha, keys, args) => client.evalsha(sha, keys.length, ...keys, ...args),
        eval: (script, keys, args) => client.eval(script, keys.length, ...keys, ...args),
      };
    }
  }
  throw new TypeError("redisLimiter needs a connected node-redis (v4 or later) or ioredis client");
}

/**
 * A limiter whose counters live in Redis, shared exactly by every process (and every limiter)
 * using it: each request is judged and counted by one Lua script, so concurrent requests cannot
 * overshoot a limit, and one refused by a limit counts in neither. `client`: a connected
 * node-redis (v4 or later) or ioredis client. `prefix` (default `keyscope:`) starts every key
 * it writes; a key's counters expire once they are of no more use.
 */
function redisLimiter(client, { prefix = "keyscope:" } = {}) {
  const run = scriptRunner(client);
  if (typeof prefix !== "string") throw new TypeError("redisLimiter's prefix must be a string");
  let sha;
  return {
    async hit(keyId, plan) {
      sha ??= sha1Hex(SCRIPT);
      const keys = [`${prefix}{${keyId}}:rate`, `${prefix}{${keyId}}:count`];
      const args = [
        String(plan.now),
        String(plan.since),
        String(plan.perSecond),
        String(plan.quota),
        String(plan.windowStart),
        String(plan.now - plan.since + REDIS_SLACK_MS),
        String(Math.max(plan.expiresAt - plan.now, plan.now - plan.since) + REDIS_SLACK_MS),
      ];
      let reply;
      try {
        reply = await run.evalSha(await sha, keys, args);
      } catch (err) {
        if (!isNoScript(err)) throw err;
        reply = await run.eval(SCRIPT, keys, args);
      }
      if (!Array.isArray(reply) || reply.length !== 4) return reply;
      const [code, inSecond, oldest, used] = reply.map(Number);
      return { refused: code === 1 ? "rate" : code === 2 ? "quota" : null, inSecond, oldest, used };
    },
  };
}

module.exports = function createLimits(wasm) {
  const [POLICY_HEADER, STATE_HEADER, RETRY_AFTER_HEADER] = wasm.limitHeaderNames();
  const DEFAULT_PER_SECOND = wasm.defaultPerSecond();
  // The problems each report handler was given (each once), and the in-process limiter used
  // by default.
  const reportedBy = new WeakMap();
  let defaultLimiter;

  /** A limit answer that refused the request: the Rust denial's body and the limits' headers. */
  class LimitDenied extends Denied {
    #headers;
    #json;
    constructor(status, json, headers, retryAfter) {
      const { reason, message } = JSON.parse(json);
      super({ status, reason, message });
      this.retryAfter = retryAfter;
      this.#json = json;
      this.#headers = headers;
    }
    /** The response headers: JSON, `Retry-After` (429), `RateLimit-Policy`, `RateLimit`. */
    headers() {
      return { ...JSON_HEADERS, ...this.#headers };
    }
    /** The body as the engine wrote it. */
    bodyJson() {
      return this.#json;
    }
    /** The documented fields only. */
    toJSON() {
      return { ...super.toJSON(), retryAfter: this.retryAfter };
    }
  }

  /** A limit answer that admitted the request, with the header fields its response carries. */
  class LimitsAllowed {
    #headers;
    constructor(headers) {
      this.allowed = true;
      this.status = 200;
      this.#headers = headers;
    }
    /** `RateLimit-Policy` and `RateLimit` (none when no limit applies). */
    headers() {
      return { ...this.#headers };
    }
    toJSON() {
      return { allowed: true, status: 200, headers: this.headers() };
    }
  }
  const UNLIMITED = Object.freeze(new LimitsAllowed({}));

  /** `defaultPerSecond` as an option gives it: the default (10), `"off"`/0, or a whole number. */
  function defaultRate(value) {
    if (value === undefined) return DEFAULT_PER_SECOND;
    if (value === "off" || value === 0) return 0;
    if (Number.isInteger(value) && value > 0 && value <= 0xffffffff) return value;
    throw new TypeError('defaultPerSecond must be "off" or a whole number of requests per second (0 is off)');
  }

  /** The settings of `checkLimits` and the middleware, checked once. */
  function settings(options = {}) {
    const limiter = options.limiter ?? (defaultLimiter ??= memoryLimiter());
    if (limiter === null || typeof limiter !== "object" || typeof limiter.hit !== "function") {
      throw new TypeError("limiter must have hit(keyId, plan) (memoryLimiter(), redisLimiter(client) or your own)");
    }
    if (options.onLimiterError !== undefined && typeof options.onLimiterError !== "function") {
      throw new TypeError("onLimiterError must be a function");
    }
    return { limiter, defaultPerSecond: defaultRate(options.defaultPerSecond), onLimiterError: options.onLimiterError };
  }

  /**
   * Reports a limiter problem to the settings' `onLimiterError` (default: one `console.warn`),
   * once per distinct problem among the last `REPORTED_PROBLEMS` that handler was given.
   */
  function report(s, error) {
    const handler = s.onLimiterError ?? warn;
    let reported = reportedBy.get(handler);
    if (reported === undefined) reportedBy.set(handler, (reported = new Set()));
    const id = `${error.code}\n${error.field ?? ""}\n${error.message}`;
    if (reported.has(id)) return;
    reported.add(id);
    if (reported.size > REPORTED_PROBLEMS) reported.delete(reported.values().next().value);
    try {
      handler(error);
    } catch {
      // A failing report must not change the answer.
    }
  }

  /** The answer when the limits cannot be checked: `503 unavailable` (never fail open). */
  function unavailable(s, error) {
    report(s, error);
    const [status, json] = wasm.limiterUnavailable();
    return new LimitDenied(Number(status), json, {}, null);
  }

  /** A key's limit field as the engine takes it: absent/null → undefined; else its number. */
  const field = (value) => (value === undefined || value === null ? undefined : value);

  /**
   * Checks and counts one allowed request of `key` (`{ id, rateLimit?, quota? }`) at `now`
   * (Unix ms) with the settings `s`: a `LimitsAllowed` or a `LimitDenied` (429, or 503 when the
   * limiter fails or the key's limits are unusable).
   */
  async function check(s, key, now) {
    let plan;
    try {
      const rate = field(key.rateLimit);
      const quota = field(key.quota);
      if (rate !== undefined && (typeof rate !== "object" || typeof rate.perSecond !== "number")) {
        throw Object.assign(new Error("the key's rateLimit is not { perSecond: number }"), { field: "rateLimit" });
      }
      if (quota !== undefined && (typeof quota !== "object" || typeof quota.limit !== "number" || typeof quota.period !== "string")) {
        throw Object.assign(new Error('the key\'s quota is not { limit: number, period: "day" | "month" }'), { field: "quota" });
      }
      plan = wasm.limitPlan(rate?.perSecond, quota?.limit, quota?.period, s.defaultPerSecond, now);
    } catch (err) {
      return unavailable(s, new LimiterError("invalid_limits", `${err.message} (key ${key.id}); the request was denied 503`, err.field));
    }
    if (plan.length === 0) return UNLIMITED;
    const [perSecond, quotaLimit, period, windowStart, windowEnd, since, expiresAt] = plan;
    let count;
    try {
      count = await s.limiter.hit(key.id, { now, since, perSecond, quota: quotaLimit, windowStart, windowEnd, expiresAt });
    } catch (err) {
      const what = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
      return unavailable(s, new LimiterError("limiter_failed", `the limiter failed (${what}); the request was denied 503`, null, err));
    }
    const by = count !== null && typeof count === "object" ? count.refused : undefined;
    const refused = by === null ? 0 : by === "rate" ? 1 : by === "quota" ? 2 : undefined;
    if (refused === undefined || ![count.inSecond, count.oldest, count.used].every(Number.isFinite)) {
      return unavailable(s, new LimiterError("invalid_answer",
        "the limiter answered something other than { refused, inSecond, oldest, used }; the request was denied 503"));
    }
    const out = wasm.limitAnswer(perSecond, quotaLimit, period, now, refused, count.inSecond, count.oldest, count.used);
    const headers = { [POLICY_HEADER]: out[0], [STATE_HEADER]: out[1] };
    if (out.length === 2 && refused === 0) return new LimitsAllowed(headers);
    if (out.length !== 5) {
      // Refused by a limit the key does not have: an answer that cannot be right is never an allow.
      return unavailable(s, new LimiterError("invalid_answer",
        `the limiter refused by the ${by} limit, which the key does not have; the request was denied 503`));
    }
    headers[RETRY_AFTER_HEADER] = out[3];
    return new LimitDenied(Number(out[2]), out[4], headers, Number(out[3]));
  }

  /** `now` as options give it (a `Date`, Unix ms, or absent: the clock) → Unix ms. */
  function millis(now) {
    const ms = now === undefined ? Date.now() : now instanceof Date ? now.getTime() : now;
    if (typeof ms !== "number" || !Number.isFinite(ms)) throw new TypeError("now must be a Date or Unix ms");
    return Math.floor(ms);
  }

  /**
   * Checks and counts one request of `key` (`{ id, rateLimit?, quota? }`: an allowed key's id
   * and its record's limits) against `options.limiter` (default: the in-process limiter) under
   * `options.defaultPerSecond` (default 10; `"off"` or 0: no default rate). Resolves to an
   * answer whose `headers()` the response carries: allowed, or a denial (`429 rate_limited`
   * with `Retry-After`; `503 unavailable` when the limiter fails). Only admitted requests count.
   */
  async function checkLimits(key, options = {}) {
    if (key === null || typeof key !== "object" || typeof key.id !== "string") {
      throw new TypeError("checkLimits needs { id, rateLimit?, quota? }");
    }
    return check(settings(options), key, millis(options.now));
  }

  return { LimiterError, memoryLimiter, redisLimiter, checkLimits, settings, check, millis };
};
