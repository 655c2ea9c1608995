// Starts the built edge worker on workerd (Miniflare) with local KV and D1, a loopback stub
// origin that records what it receives, and a raw HTTP client that sends requests byte for byte
// (no URL normalisation, any method case, any header bytes).
import { createHash, randomBytes } from "node:crypto";
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Miniflare } from "miniflare";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const WORKER_DIR = join(ROOT, "edge-worker", "build", "worker");
const SHIM = join(WORKER_DIR, "shim.mjs");

/**
 * The worker's production entry (edge-worker/js/entry.mjs) with `policyText` as the policy
 * bundled at build time, written beside the build as scripts/bundle-policy.mjs writes it (one
 * copy per policy, named by its hash, so that gateways of several policies can run at once).
 */
export function bundledEntry(policyText) {
  const tag = createHash("sha256").update(policyText).digest("hex").slice(0, 12);
  const entry = readFileSync(join(ROOT, "edge-worker", "js", "entry.mjs"), "utf8").replace(`from "./policy.mjs"`, `from "./policy-${tag}.mjs"`);
  writeFileSync(join(WORKER_DIR, `policy-${tag}.mjs`), `export default ${JSON.stringify(policyText)};\n`);
  writeFileSync(join(WORKER_DIR, `entry-${tag}.mjs`), entry);
  return join(WORKER_DIR, `entry-${tag}.mjs`);
}
// The same worker behind a clock the test sets (startGateway's `clock` option).
const CLOCK_ENTRY = join(ROOT, "tests", "e2e", "lib", "clock-worker.mjs");
const MIGRATIONS = join(ROOT, "edge-worker", "migrations");

export const sha256Hex = (text) => createHash("sha256").update(text).digest("hex");

/** The admin API's service token in tests. */
export const ADMIN_TOKEN = `test-${randomBytes(12).toString("hex")}`;

/** Applies migration files in order (what `wrangler d1 migrations apply` does). */
export async function applyMigrations(db, sqlFiles) {
  for (const sql of sqlFiles) {
    const statements = sql
      .split("\n")
      .map((line) => line.replace(/--.*$/, ""))
      .join("\n")
      .split(";")
      .map((s) => s.trim())
      .filter(Boolean);
    for (const statement of statements) await db.prepare(statement).run();
  }
}

/**
 * A client of the admin API (`/admin/v1`). `call` returns every answer; the named helpers throw
 * unless the answer is a success, so tests read as the operations they perform.
 */
export class AdminClient {
  constructor(mf, token = ADMIN_TOKEN) {
    this.mf = mf;
    this.token = token;
  }

  async call(method, path, body, { token = this.token, headers = {}, rawBody } = {}) {
    const init = { method, headers: { ...headers } };
    if (token !== null) init.headers.authorization = `Bearer ${token}`;
    if (rawBody !== undefined) init.body = rawBody;
    else if (body !== undefined) {
      init.body = JSON.stringify(body);
      init.headers["content-type"] = "application/json";
    }
    const res = await this.mf.dispatchFetch(`http://keyscope.test/admin/v1${path}`, init);
    const text = await res.text();
    let json = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {}
    return { status: res.status, headers: Object.fromEntries(res.headers), body: json, text };
  }

  async ok(method, path, body) {
    const res = await this.call(method, path, body);
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${res.text}`);
    return res.body;
  }

  putMember(org, user, role) {
    return this.ok("PUT", `/organizations/${org}/members/${user}`, { role });
  }
  removeMember(org, user) {
    return this.ok("DELETE", `/organizations/${org}/members/${user}`);
  }
  putResource(kind, id, organizationId, projectId) {
    return this.ok("PUT", `/resources/${kind}/${id}`, { organizationId, projectId });
  }
  resourceBatch(batch) {
    return this.ok("POST", "/resources/batch", batch);
  }
  importKeys(org, keys) {
    return this.ok("POST", `/organizations/${org}/keys/import`, { keys });
  }
  createKey(org, body) {
    return this.ok("POST", `/organizations/${org}/keys`, body);
  }
  revokeKey(org, id, actingUserId) {
    return this.ok("POST", `/organizations/${org}/keys/${id}/revoke`, { actingUserId });
  }
  rotateKey(org, id, body) {
    return this.ok("POST", `/organizations/${org}/keys/${id}/rotate`, body);
  }
  listKeys(org, createdBy) {
    return this.ok("GET", `/organizations/${org}/keys${createdBy ? `?createdBy=${createdBy}` : ""}`);
  }
}

/**
 * Polls `probe` (sync or async) until it returns something truthy, and returns that: for what
 * the worker does after it answered (`waitUntil`: last used, webhook deliveries). Throws after
 * `timeoutMs`, naming `what`: the bound stops a stuck run, it is not a time the behaviour must
 * meet (assert the event, never how soon it came).
 */
export async function waitFor(probe, what, { timeoutMs = 30_000, everyMs = 25 } = {}) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const hit = await probe();
    if (hit) return hit;
    if (Date.now() > until) throw new Error(`gave up waiting after ${timeoutMs} ms for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** A loopback origin that answers 200 with a JSON echo and remembers every request. */
export async function startOrigin() {
  const received = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const entry = { method: req.method, url: req.url, headers: req.headers, body: Buffer.concat(chunks).toString() };
      received.push(entry);
      const status = Number(req.headers["x-reply-status"] ?? 200);
      res.writeHead(status, { "content-type": "application/json", "x-origin": "stub" });
      res.end(JSON.stringify({ origin: true, method: entry.method, url: entry.url }));
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    received,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

/**
 * A loopback receiver of event webhooks: remembers every delivery (headers and raw body) and
 * answers `status()` (200 unless a test changes it). `waitFor(pred)` polls until a delivery
 * matches, for deliveries sent after the answer (`waitUntil`); it gives up (null) after
 * `timeoutMs`, a bound for a stuck run rather than a deadline the delivery must meet.
 */
export async function startReceiver() {
  const received = [];
  let status = 200;
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString();
      received.push({ method: req.method, headers: req.headers, body, status });
      res.writeHead(status, { "content-type": "text/plain" });
      res.end("ok");
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}/hooks/keyscope`,
    received,
    setStatus: (s) => (status = s),
    async waitFor(pred, timeoutMs = 30_000) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const hit = received.find(pred);
        if (hit) return hit;
        if (Date.now() > until) return null;
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

/**
 * The clock of a gateway started with `clock: true`: `freeze(ms)` stops the worker's clock (the
 * gateway's and its key-state objects') at Unix ms `ms`, `advance(ms)` moves a frozen clock on,
 * `release()` lets it follow the real one again. Each resolves once the worker has the new time.
 */
class TestClock {
  constructor(mf) {
    this.mf = mf;
    this.frozenAt = null;
  }
  async #put(frozenAt) {
    const res = await this.mf.dispatchFetch("http://keyscope.test/__test/clock", { method: "PUT", body: JSON.stringify({ frozenAt }) });
    const body = await res.json();
    if (res.status !== 200 || body.frozenAt !== frozenAt) throw new Error(`the test clock refused ${frozenAt}: ${JSON.stringify(body)}`);
    this.frozenAt = frozenAt;
    return frozenAt;
  }
  /** Has key `keyId`'s object write its pending usage to D1 now (its alarm's job). */
  async flushUsage(keyId) {
    const res = await this.mf.dispatchFetch(`http://keyscope.test/__test/flush-usage?key=${encodeURIComponent(keyId)}`, { method: "POST" });
    const body = await res.text();
    if (res.status !== 200) throw new Error(`usage not written: ${res.status} ${body}`);
  }
  freeze(ms = Date.now()) {
    return this.#put(ms);
  }
  advance(ms) {
    if (this.frozenAt === null) throw new Error("advance needs a frozen clock");
    return this.#put(this.frozenAt + ms);
  }
  release() {
    return this.#put(null);
  }
}

/**
 * Starts the gateway. `options.bindings` overrides vars (the per-key rate limit is off unless a
 * test sets KEYSCOPE_RATE_LIMIT); `options.withoutKv` drops the KV binding (a store that cannot
 * be reached), `options.withoutKeyState` the key-state objects' (rate limiter and, in the strict
 * store mode, revocation and role); `options.scriptPath` runs another
 * built worker; `options.clock` runs the built worker behind a test clock (`gateway.clock`, a
 * TestClock: tests of time — windows, grace periods, timestamps — set the time instead of
 * waiting for it).
 */
export async function startGateway({ originUrl, bindings = {}, withoutKv = false, withoutKeyState = false, scriptPath = SHIM, miniflare = {}, clock = false, bundledPolicy } = {}) {
  const isKeyscope = scriptPath === SHIM;
  if (bundledPolicy !== undefined && clock) throw new Error("startGateway: a bundled policy runs without the test clock");
  const entry = bundledPolicy !== undefined && isKeyscope ? bundledEntry(bundledPolicy) : scriptPath;
  const gatewayOptions = {
    modules: true,
    scriptPath: clock && isKeyscope ? CLOCK_ENTRY : entry,
    ...(clock && isKeyscope ? { modulesRoot: ROOT } : {}),
    modulesRules: [
      { type: "ESModule", include: ["**/*.js", "**/*.mjs"] },
      { type: "CompiledWasm", include: ["**/*.wasm"] },
    ],
    compatibilityDate: "2025-01-01",
    kvNamespaces: withoutKv ? [] : ["KEYS"],
    d1Databases: ["DB"],
    durableObjects: isKeyscope && !withoutKeyState ? { KEY_STATE: "KeyState" } : {},
    // Event deliveries ride Cloudflare Queues, as in wrangler.toml (workerd runs them locally).
    ...(isKeyscope
      ? {
          queueProducers: { EVENTS: "keyscope-events", EVENTS_DEAD: "keyscope-events-dead" },
          queueConsumers: { "keyscope-events": { maxBatchSize: 10, maxBatchTimeout: 0.05, maxRetries: 100 } },
        }
      : {}),
    bindings: {
      ORIGIN_URL: originUrl ?? "http://127.0.0.1:9",
      KEYSCOPE_ENVIRONMENT: "live",
      KEYSCOPE_ADMIN_TOKEN: ADMIN_TOKEN,
      KEYSCOPE_RATE_LIMIT: "off",
      // Tests do not wait 30 s for a retry: one second, twice (a test may ask for other pauses).
      KEYSCOPE_EVENTS_RETRY: "1,1",
      ...bindings,
    },
  };
  // `miniflare.workers` adds workers beside the gateway (e.g. a wrapped binding that injects
  // failures); other `miniflare` options apply to the gateway itself.
  const { workers: extraWorkers, ...gatewayExtra } = miniflare;
  const gateway = { name: "gateway", ...gatewayOptions, ...gatewayExtra };
  const options = extraWorkers
    ? { host: "127.0.0.1", port: 0, workers: [gateway, ...extraWorkers] }
    : { host: "127.0.0.1", port: 0, ...gateway };
  const mf = new Miniflare(options);
  const url = await mf.ready;
  const db = await mf.getD1Database("DB", "gateway");
  const sql = readdirSync(MIGRATIONS)
    .filter((f) => f.endsWith(".sql"))
    .sort()
    .map((f) => readFileSync(join(MIGRATIONS, f), "utf8"));
  await applyMigrations(db, sql);
  const gw = {
    mf,
    port: Number(url.port),
    admin: new AdminClient(mf),
    db,
    clock: clock && isKeyscope ? new TestClock(mf) : undefined,
    /** Runs the scheduled handler once (the cron trigger's sweep). */
    sweep: async () => (await mf.getWorker("gateway")).scheduled({ cron: "* * * * *" }),
    /**
     * Restarts the runtime (a new workerd process: what was in flight in memory is gone; D1 keeps
     * its data), and opens D1 again.
     */
    restart: async () => {
      await mf.setOptions(options);
      gw.db = await mf.getD1Database("DB", "gateway");
    },
    dispose: () => mf.dispose(),
  };
  return gw;
}

/**
 * Sends one HTTP/1.1 request exactly as given. `headers` is a list of [name, value] pairs;
 * values may be strings or Buffers (for bytes that are not UTF-8).
 */
export function rawRequest(port, { method, path, headers = [], body }) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1");
    const chunks = [];
    socket.setTimeout(10_000, () => socket.destroy(new Error("timeout")));
    const parse = () => {
      let raw = Buffer.concat(chunks).toString("latin1");
      // Interim answers (`100 Continue`) precede the response: skip them.
      while (/^HTTP\/1\.[01] 1\d\d /.test(raw) && !raw.startsWith("HTTP/1.1 101") && raw.includes("\r\n\r\n")) {
        raw = raw.slice(raw.indexOf("\r\n\r\n") + 4);
      }
      const split = raw.indexOf("\r\n\r\n");
      if (split < 0) return null;
      const head = raw.slice(0, split).split("\r\n");
      const status = Number(head[0].split(" ")[1]);
      const responseHeaders = {};
      for (const line of head.slice(1)) {
        const at = line.indexOf(":");
        responseHeaders[line.slice(0, at).trim().toLowerCase()] = line.slice(at + 1).trim();
      }
      let text = raw.slice(split + 4);
      const length = responseHeaders["content-length"];
      if (/chunked/i.test(responseHeaders["transfer-encoding"] ?? "")) {
        if (!text.endsWith("0\r\n\r\n")) return null;
        text = dechunk(text);
      } else if (length != null && method !== "HEAD" && status !== 204 && status !== 304) {
        if (Buffer.byteLength(text, "latin1") < Number(length)) return null;
      } else if (length == null && method !== "HEAD" && status !== 204 && status !== 304) {
        return null; // read to close
      }
      return { status, headers: responseHeaders, body: Buffer.from(text, "latin1").toString("utf8") };
    };
    let done = false;
    const finish = (result) => {
      if (done) return;
      done = true;
      socket.destroy();
      resolve(result);
    };
    socket.on("data", (c) => {
      chunks.push(c);
      const result = parse();
      if (result) finish(result);
    });
    socket.on("error", (err) => (done ? undefined : reject(err)));
    socket.on("close", () => {
      const result = parse();
      if (result) finish(result);
      else if (!done) reject(new Error("connection closed before a full response"));
    });
    const bodyBuf = body == null ? null : Buffer.from(body);
    const lines = [`${method} ${path} HTTP/1.1`, "Host: keyscope.test", "Connection: close"];
    const parts = [];
    for (const [name, value] of headers) parts.push(Buffer.concat([Buffer.from(`${name}: `), Buffer.from(value), Buffer.from("\r\n")]));
    if (bodyBuf) lines.push(`Content-Length: ${bodyBuf.length}`);
    socket.write(Buffer.concat([Buffer.from(lines.join("\r\n") + "\r\n"), ...parts, Buffer.from("\r\n"), ...(bodyBuf ? [bodyBuf] : [])]));
  });
}

function dechunk(text) {
  let out = "";
  let rest = text;
  for (;;) {
    const eol = rest.indexOf("\r\n");
    if (eol < 0) return out;
    const size = parseInt(rest.slice(0, eol), 16);
    if (!size) return out;
    out += rest.slice(eol + 2, eol + 2 + size);
    rest = rest.slice(eol + 2 + size + 2);
  }
}

/** Percent-encodes the bytes a request line cannot carry raw (non-ASCII), as a client would. */
export const wirePath = (path) => path.replace(/[^\x21-\x7e]/gu, (c) => encodeURIComponent(c));

/**
 * Loads a vector file's world through the admin API (members, a resource batch, keys imported
 * by hash). Vector times are shifted so the file's `now` is `options.now`: by default the real
 * present (what a worker on the real clock reads); a gateway whose test clock is frozen at the
 * file's `now` passes that, and the times load as written.
 */
export async function loadWorld(admin, vector, { now = Date.now() } = {}) {
  const shift = vector.now ? now - Date.parse(vector.now) : 0;
  const at = (t) => (t == null ? undefined : new Date(Date.parse(t) + shift).toISOString());
  for (const m of vector.members ?? []) await admin.putMember(m.organizationId, m.userId, m.role);
  const resources = vector.resources ?? [];
  if (resources.length) {
    await admin.resourceBatch({ put: resources.map(({ kind, id, organizationId, projectId }) => ({ kind, id, organizationId, projectId })) });
  }
  const byOrg = new Map();
  for (const k of vector.keys ?? []) {
    const keys = byOrg.get(k.organizationId) ?? [];
    keys.push({
      id: k.id,
      keyHash: sha256Hex(k.secret),
      hint: k.secret.slice(-4),
      name: k.name,
      createdBy: k.createdBy,
      scope: k.scope,
      scopedProjectId: k.scopedProjectId ?? undefined,
      scopedProjectIds: k.scopedProjectIds ?? undefined,
      allowedCidrs: k.allowedCidrs ?? undefined,
      rateLimit: k.rateLimit ?? undefined,
      quota: k.quota ?? undefined,
      permissions: k.permissions ?? undefined,
      createdAt: at(k.createdAt),
      lastUsedAt: at(k.lastUsedAt),
      revokedAt: at(k.revokedAt),
      expiresAt: at(k.expiresAt),
    });
    byOrg.set(k.organizationId, keys);
  }
  for (const [org, keys] of byOrg) await admin.importKeys(org, keys);
}

/**
 * Every vector file with the text of the policy it names (`policyText`, null for Align) and the
 * path of that policy's `/me` view.
 */
export const vectorFiles = () =>
  readdirSync(join(ROOT, "tests", "vectors"))
    .filter((f) => f.endsWith(".json"))
    .sort()
    .map((f) => {
      const vector = JSON.parse(readFileSync(join(ROOT, "tests", "vectors", f), "utf8"));
      const policyText = vector.policy ? readFileSync(join(ROOT, "tests", "vectors", vector.policy), "utf8") : null;
      const doc = policyText ? JSON.parse(policyText) : { basePath: "/api/v1", endpoints: [{ path: "/me", serve: "me" }] };
      const me = doc.endpoints.find((e) => e.serve === "me");
      return { file: f, vector, policyText, mePath: me ? doc.basePath + me.path : null };
    });
