// A typed use of the per-key limits: `tsc --noEmit` must accept it against the installed package,
// with a real node-redis client given to `redisLimiter` and the limit options on every adapter.
import express from "express";
import { Hono } from "hono";
import { createClient } from "redis";
import { express as expressTyped } from "keyscope/express";
import { hono as honoTyped } from "keyscope/hono";
import keyscope, {
  LimiterError,
  checkLimits,
  memoryLimiter,
  redisLimiter,
  withKeyscope,
  type KeyStore,
  type LimitCount,
  type Limiter,
  type LimitPlan,
  type LimitsDenied,
} from "keyscope";

const store: KeyStore = { findKey: async () => null, findRole: async () => "admin" };
const client = createClient({ url: "redis://127.0.0.1:6379" });
const shared: Limiter = redisLimiter(client, { prefix: "myapp:" });
const local = memoryLimiter();
const held: number = local.size;

// A limiter of one's own: counters anywhere, by the rule the interface documents.
const never: Limiter = {
  hit(_keyId: string, plan: LimitPlan): LimitCount {
    return { refused: plan.quota > 0 ? "quota" : null, inSecond: 0, oldest: -1, used: plan.quota };
  },
};

const app = express();
app.set("trust proxy", "loopback");
app.use(expressTyped({ store, limiter: shared, defaultPerSecond: 20, onLimiterError: (e: LimiterError) => console.warn(e.code) }));
app.use(keyscope.express({ store, defaultPerSecond: "off", clientIp: (req) => req.ip, clock: () => Date.now() }));

const hono = new Hono();
hono.use("*", honoTyped({ store, limiter: local, clientIp: (c) => c.req.header("cf-connecting-ip") }));

const handler = withKeyscope(async (_request: Request, decision) => new Response(decision?.keyId ?? "outside"), {
  store,
  limiter: never,
  clientIp: (request: Request) => request.headers.get("cf-connecting-ip") ?? undefined,
});

async function direct(): Promise<number> {
  const answer = await checkLimits({ id: "key_1", rateLimit: { perSecond: 5 }, quota: { limit: 1000, period: "day" } }, { now: new Date() });
  const headers: Record<string, string> = answer.headers();
  if (!answer.allowed) {
    const denied: LimitsDenied = answer;
    return denied.retryAfter ?? denied.status;
  }
  return Object.keys(headers).length;
}

void held;
void handler;
void direct;
