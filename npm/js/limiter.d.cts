// Types of per-key limits (limiter.cjs): the limiter interface, the in-process and Redis
// limiters, `checkLimits`, and the middleware's options for them (merged into
// `MiddlewareOptions`). Re-exported by api.d.cts.
import type { Denied, KeyscopeError, QuotaSetting, RateLimitSetting } from "./api.cjs";

/**
 * What a limiter compares its counters with for one request, computed by the engine from the
 * key's `rateLimit` and `quota` and the deployment's default rate. Times are Unix ms.
 */
export interface LimitPlan {
  /** The request's time. */
  readonly now: number;
  /** An admission made at or before this time has left the one-second rate window. */
  readonly since: number;
  /** The rate in force, per second (the key's own or the default); 0: no rate limit. */
  readonly perSecond: number;
  /** The key's quota per window; 0: no quota. */
  readonly quota: number;
  /** The start of the quota's UTC calendar window (00:00 UTC of the day, or of the 1st of the month); 0 without a quota. */
  readonly windowStart: number;
  /** The end of that window (the next window's start); 0 without a quota. */
  readonly windowEnd: number;
  /** When the key's counters are of no more use if nothing more is counted (they may be forgotten then). */
  readonly expiresAt: number;
}

/** A limiter's report on one request: whether it was refused, and the counters afterwards. */
export interface LimitCount {
  /** `null`: admitted and counted in both limits; `"quota"` or `"rate"`: refused by that limit, counted in neither. */
  refused: "rate" | "quota" | null;
  /** The admissions in the rate window after `plan.since` (this request included when admitted); 0 without a rate. */
  inSecond: number;
  /** The oldest of them (Unix ms), or -1 when there is none. */
  oldest: number;
  /** The quota's count in its current window (this request included when admitted); 0 without a quota. */
  used: number;
}

/**
 * Where per-key counters live. `hit` judges and counts one request of key `keyId`, atomically:
 * if `plan.quota > 0` and the count of the window starting at `plan.windowStart` (0 for a count
 * of an older window; a newer window's count stands) is `plan.quota` or more, it is refused by
 * the quota; else if `plan.perSecond > 0` and `plan.perSecond` or more admissions were made after
 * `plan.since`, it is refused by the rate; otherwise it is admitted and counted in both. A
 * refused request counts in neither. The arithmetic (windows, `Retry-After`, headers) is the
 * engine's; a limiter only stores and compares. Throwing or rejecting answers `503 unavailable`.
 */
export interface Limiter {
  hit(keyId: string, plan: LimitPlan): LimitCount | Promise<LimitCount>;
}

/** The in-process limiter: counters in a Map (per process), idle keys forgotten. */
export interface MemoryLimiter extends Limiter {
  /** How many keys' counters are held. */
  readonly size: number;
}

/**
 * The in-process limiter (the middleware's default): exact within one process; each process
 * counts on its own. Memory is bounded: a key's counters are forgotten once its rate window is
 * empty and its quota's window has ended.
 */
export declare function memoryLimiter(): MemoryLimiter;

/** The part of a node-redis client (v4 and later) `redisLimiter` uses. */
export interface NodeRedisClientLike {
  evalSha(sha1: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
  eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
}

/** The part of an ioredis client `redisLimiter` uses. */
export interface IoRedisClientLike {
  evalsha(sha1: string, numKeys: number, ...keysAndArgs: string[]): Promise<unknown>;
  eval(script: string, numKeys: number, ...keysAndArgs: string[]): Promise<unknown>;
}

/** Options of `redisLimiter`. */
export interface RedisLimiterOptions {
  /** Starts every Redis key the limiter writes (default `keyscope:`). */
  prefix?: string;
}

/**
 * A limiter whose counters live in Redis: every process and limiter using the same Redis shares
 * one limit per key, exactly — each request is judged and counted by one Lua script, so
 * concurrent requests cannot overshoot, and a request refused by one limit consumes none of the
 * other. Counters expire once they are of no more use. `client` must be connected.
 */
export declare function redisLimiter(client: NodeRedisClientLike | IoRedisClientLike, options?: RedisLimiterOptions): Limiter;

/** A key as `checkLimits` needs it: its id and its record's limits. */
export interface LimitedKey {
  /** The key's id (`Allowed.keyId`). */
  id: string;
  /** The key's own rate (absent or null: the deployment's default). */
  rateLimit?: RateLimitSetting | null;
  /** The key's quota (absent or null: none). */
  quota?: QuotaSetting | null;
}

/** Options of `checkLimits`, and the middleware's limit options. */
export interface LimitOptions {
  /** Where the counters live (default: the package's one in-process limiter). */
  limiter?: Limiter;
  /**
   * The deployment's rate per key, for keys without their own `rateLimit` (default 10, as the
   * edge gateway's `KEYSCOPE_RATE_LIMIT`); `"off"` or 0: none (a key's own limits still apply).
   */
  defaultPerSecond?: number | "off";
  /** Called once per distinct problem that answered `503 unavailable` (default: `console.warn`). */
  onLimiterError?: (error: LimiterError) => void;
}

/** Options of one `checkLimits` call. */
export interface CheckLimitsOptions extends LimitOptions {
  /** The request's time (default: now). */
  now?: Date | number;
}

/** The limits admitted the request (and counted it). */
export interface LimitsAllowed {
  readonly allowed: true;
  readonly status: 200;
  /** `ratelimit-policy` and `ratelimit` for the response (empty when no limit applies). */
  headers(): Record<string, string>;
}

/** The limits refused the request (`429 rate_limited`), or could not be checked (`503 unavailable`). */
export interface LimitsDenied extends Denied {
  /** Whole seconds until a retry can succeed (429), else null. */
  readonly retryAfter: number | null;
  /** The response headers: JSON, `retry-after`, `ratelimit-policy`, `ratelimit`. */
  headers(): Record<string, string>;
  /** The body as the engine wrote it: `{"reason":"rate_limited","message":…}`. */
  bodyJson(): string;
}

/**
 * Holds one allowed request of `key` to its limits: checks and counts it with `options.limiter`
 * (default: in-process). Never rejects for a limiter failure: that answers `503 unavailable`
 * (fail closed). Only admitted requests count.
 */
export declare function checkLimits(key: LimitedKey, options?: CheckLimitsOptions): Promise<LimitsAllowed | LimitsDenied>;

/** Why a limiter problem denied a request: `limiter_failed`, `invalid_answer`, `invalid_limits`. */
export type LimiterErrorCode = "limiter_failed" | "invalid_answer" | "invalid_limits";

/** A limit that could not be checked (reported through `onLimiterError`; the request was answered 503). */
export declare class LimiterError extends KeyscopeError {
  readonly code: LimiterErrorCode;
  /** For `invalid_limits`: the key's field at fault (`rateLimit`, `rateLimit.perSecond`, `quota`, `quota.limit`, `quota.period`), else null. */
  readonly field: string | null;
}

declare module "./api.cjs" {
  interface MiddlewareOptions extends LimitOptions {
    /**
     * The client's address for the decision (a key with `allowedCidrs` is refused without one).
     * Express: default `req.ip` (behind a proxy, set Express's `trust proxy`, else `req.ip` is
     * the proxy's); this function, given `req`, overrides it. Hono: given the context `c`;
     * `withKeyscope`: given the request and the handler's other arguments. Default for Hono and
     * `withKeyscope`: none, so a key with an address allow-list is refused (fail closed).
     */
    clientIp?: (requestOrContext: any, ...rest: any[]) => string | undefined;
    /** The middleware's clock, for the decision and the limits (default: `Date.now`). */
    clock?: () => Date | number;
  }
}
