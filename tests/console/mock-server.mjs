// A stand-in for the console API (ARCHITECTURE.md, "The key console"), for developing and testing
// the screen alone. In-memory, loopback only, never shipped. It serves edge-worker/console/ under
// /console/ with the CSP the worker sends, and holds the contract's session rules (CSRF proof,
// errors as {"reason","message","code"?}). Every key rule is the npm package's plans — policy-core,
// the same rules the gateway's console API runs — so the mock cannot follow a rule of its own.
// It needs the package built (`bash scripts/build-npm`).
//
//   node tests/console/mock-server.mjs [port]     then open http://127.0.0.1:PORT/console/open?as=admin
//
// Test hooks (not part of the contract) live under /__mock/. A key's 30-day usage is made up
// (the same pattern of days for every key, relative to today, so runs are repeatable) unless a
// test sets it with /__mock/usage.

import { createServer } from "node:http";
import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const keyscope = createRequire(import.meta.url)("../../npm/js/index.cjs");
const engine = new keyscope.Engine();

const ASSETS = fileURLToPath(new URL("../../edge-worker/console/", import.meta.url));
const FILES = {
  "/console/": ["index.html", "text/html; charset=utf-8"],
  "/console/console.js": ["console.js", "text/javascript; charset=utf-8"],
  "/console/console.css": ["console.css", "text/css; charset=utf-8"],
};
export const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; " +
  "img-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
const COOKIE = "keyscope_console";
const ORG = "org_acme";
const PROJECTS = [{ id: "proj_web" }, { id: "proj_mobile" }];
// The organization's members: a session link `?as=<role>` signs in as the member of that role.
const USERS = { admin: "usr_ada", engineer: "usr_eng", member: "usr_mem" };
const ROLES = Object.fromEntries(Object.entries(USERS).map(([role, user]) => [user, role]));

class Refusal extends Error {
  constructor(status, reason, message, code) {
    super(message);
    this.status = status;
    this.reason = reason;
    this.code = code;
  }
}

/** The key service's first letter is lower case (it answers programs); the page shows sentences. */
const sentence = (message) => {
  const text = message.charAt(0).toUpperCase() + message.slice(1);
  return text.endsWith(".") ? text : `${text}.`;
};

/** A refused plan as the console API answers it: the reason by the rule's class, and its code. */
function refusal(error) {
  if (error instanceof keyscope.LifecycleError) {
    const reason = { forbidden: "forbidden", conflict: "conflict" }[error.kind] ?? "invalid_request";
    return new Refusal(error.status, reason, sentence(error.message), error.code);
  }
  if (error instanceof TypeError || error instanceof keyscope.RecordError) {
    return new Refusal(400, "invalid_request", sentence(error.message));
  }
  return error;
}

/** Runs a plan, answering its refusal as the console API does (`word` rewords its message). */
function plan(fn, word = (message) => message) {
  try {
    return fn();
  } catch (error) {
    const refused = refusal(error);
    if (refused instanceof Refusal) refused.message = word(refused.message);
    throw refused;
  }
}

/** Starts the mock on 127.0.0.1; resolves to { url, state, close }. */
export async function startMock(port = 0) {
  const state = { keys: [], sessions: new Map(), failNext: null, usage: new Map() };
  const server = createServer((req, res) => {
    handle(state, req, res).catch((error) => {
      const refusal = error instanceof Refusal ? error : new Refusal(503, "unavailable", "The console is unavailable.");
      send(res, refusal.status, { reason: refusal.reason, message: refusal.message, ...(refusal.code ? { code: refusal.code } : {}) });
    });
  });
  await new Promise((resolve) => server.listen(port, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${server.address().port}`;
  return {
    url,
    state,
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(resolve); }),
  };
}

function send(res, status, body, headers = {}) {
  res.writeHead(status, {
    "content-type": "application/json",
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
    ...headers,
  });
  res.end(body === null ? "" : JSON.stringify(body));
}

async function handle(state, req, res) {
  const url = new URL(req.url, "http://mock");
  const path = url.pathname;

  if (req.method === "GET" && FILES[path]) {
    const [file, type] = FILES[path];
    res.writeHead(200, {
      "content-type": type,
      "content-security-policy": CSP,
      "x-content-type-options": "nosniff",
      "referrer-policy": "no-referrer",
      "cache-control": "no-cache",
    });
    res.end(await readFile(ASSETS + file));
    return;
  }
  if (req.method === "GET" && path === "/console") {
    res.writeHead(308, { location: "/console/" }).end();
    return;
  }
  // Stands in for the one-time session link: a cookie, then a redirect that drops the query.
  if (req.method === "GET" && path === "/console/open") {
    const role = url.searchParams.get("as") ?? "admin";
    if (!USERS[role]) {
      // A forged, used or expired link: no cookie, and the page says so.
      res.writeHead(303, {
        location: "/console/#link-expired",
        "cache-control": "no-store",
        "referrer-policy": "no-referrer",
      }).end();
      return;
    }
    const id = randomBytes(18).toString("base64url");
    state.sessions.set(id, {
      role,
      userId: USERS[role],
      csrfToken: randomBytes(18).toString("base64url"),
      returnUrl: url.searchParams.get("return"),
    });
    res.writeHead(303, {
      location: "/console/",
      "cache-control": "no-store",
      "set-cookie": `${COOKIE}=${id}; Path=/console; HttpOnly; SameSite=Strict; Max-Age=3600`,
      "referrer-policy": "no-referrer",
    }).end();
    return;
  }
  if (path.startsWith("/__mock/")) {
    hook(state, path, url, res);
    return;
  }
  if (path.startsWith("/console/api/")) {
    await consoleApi(state, req, res, path.slice("/console/api".length));
    return;
  }
  throw new Refusal(404, "not_found", "Nothing here.");
}

function hook(state, path, url, res) {
  if (path === "/__mock/fail-next") {
    state.failNext = {
      status: Number(url.searchParams.get("status") ?? 503),
      reason: url.searchParams.get("reason") ?? "unavailable",
      message: url.searchParams.get("message"),
      raw: url.searchParams.get("raw"),
    };
  } else if (path === "/__mock/end-sessions") {
    state.sessions.clear();
  } else if (path === "/__mock/reset") {
    state.keys.length = 0;
    state.sessions.clear();
    state.failNext = null;
    state.usage.clear();
  } else if (path === "/__mock/usage") {
    // `?id=<key id>&days=<JSON [{"daysAgo", "allowed", "denied": {reason: n}}]>`: that key's
    // traffic (0 = today, 29 = the first day shown); `days=[]` is a key never used.
    state.usage.set(url.searchParams.get("id"), JSON.parse(url.searchParams.get("days") ?? "[]"));
  } else if (path === "/__mock/use") {
    const key = state.keys.find((k) => k.id === url.searchParams.get("id"));
    if (key) key.lastUsedAt = new Date();
  } else {
    throw new Refusal(404, "not_found", "No such hook.");
  }
  send(res, 200, { ok: true });
}

function sessionOf(state, req) {
  const cookies = Object.fromEntries((req.headers.cookie ?? "").split(/;\s*/).map((c) => c.split("=")));
  const session = state.sessions.get(cookies[COOKIE]);
  if (!session) {
    throw new Refusal(401, "session_expired", "Your console session has expired or was never valid.");
  }
  return session;
}

const actorOf = (session) => ({ userId: session.userId, role: session.role });
const iso = (t) => (t === null ? null : new Date(t).toISOString());

/** The projects a record names, sorted (the key service's form; none for organization keys). */
function projectsOf(record) {
  const ids = record.scopedProjectIds ?? (record.scopedProjectId ? [record.scopedProjectId] : []);
  return [...ids].sort();
}

/**
 * A stored record as the console shows it: the admin API's view — every output holds both
 * project fields (SPEC "Key controls"), absent controls as null — and where it stands (npm's).
 */
function view(session, record) {
  const standing = engine.keyStanding({ actor: actorOf(session), key: record, creatorRole: ROLES[record.createdBy] ?? null });
  const projects = projectsOf(record);
  return {
    ...record,
    scopedProjectId: projects.length === 1 ? projects[0] : null,
    scopedProjectIds: record.scope === "organization" || projects.length === 0 ? null : projects,
    allowedCidrs: record.allowedCidrs ?? null,
    rateLimit: record.rateLimit ?? null,
    quota: record.quota ?? null,
    createdAt: iso(record.createdAt),
    lastUsedAt: iso(record.lastUsedAt),
    expiresAt: iso(record.expiresAt),
    revokedAt: iso(record.revokedAt),
    ...standing,
    // policy-core's rule (KeyStanding::can_edit_controls: may change it, and it may be rotated),
    // for a package built before the field was written out.
    canEditControls: standing.canEditControls ?? standing.canRotate,
  };
}

/**
 * The allow-list and limits of a change, read by policy-core as a new key's are (the blocks
 * parsed and written back in canonical form, the limits' bounds): a plan of a throwaway
 * organization key with those controls, whose record is all that is kept. Its refusal is the
 * refusal of the change (`invalid_cidrs` and its message naming the block).
 */
function checkedControls(change) {
  const probe = plan(() => engine.planCreate({
    organizationId: ORG,
    actor: { userId: USERS.admin, role: "admin" },
    name: "controls check",
    scope: "organization",
    preset: "read",
    allowedCidrs: change.allowedCidrs ?? undefined,
    rateLimit: change.rateLimit ?? undefined,
    quota: change.quota ?? undefined,
  }), (message) => message
    // The probe's request is not the caller's body: name it as the console API does, without
    // a position in a document the caller never sent.
    .replace(/^Lifecycle request: /, "Invalid JSON body: ")
    .replace(/ at line \d+ column \d+\.$/, "."));
  return probe.record;
}

const USAGE_REASONS = ["key_revoked", "scope_violation", "forbidden", "not_found", "rate_limited", "unavailable"];

/** The made-up traffic of a key no test set: most days used, some denials, some quiet days. */
function sampleDays() {
  const days = [];
  for (let daysAgo = 29; daysAgo >= 0; daysAgo -= 1) {
    const n = 29 - daysAgo;
    if (n % 7 === 3 || n % 11 === 5) continue;
    days.push({
      daysAgo,
      allowed: 20 + ((n * 37) % 61) + (n % 7 === 0 ? 40 : 0),
      denied: {
        rate_limited: n % 5 === 1 ? 4 + (n % 4) : 0,
        scope_violation: n % 6 === 2 ? 3 : 0,
        forbidden: n % 9 === 4 ? 2 : 0,
        key_revoked: 0,
        not_found: n % 8 === 6 ? 1 : 0,
        unavailable: 0,
      },
    });
  }
  return days;
}

/** `GET …/usage`: days since 00:00 UTC 29 days ago, only those with traffic, ascending. */
function usageOf(state, key, at = Date.now()) {
  const today = Math.floor(at / 86400e3) * 86400e3;
  const days = state.usage.get(key.id) ?? sampleDays();
  const buckets = days
    .filter((d) => d.daysAgo >= 0 && d.daysAgo <= 29)
    .sort((a, b) => b.daysAgo - a.daysAgo)
    .map((d) => ({
      start: new Date(today - d.daysAgo * 86400e3).toISOString().replace(".000Z", "Z"),
      allowed: d.allowed ?? 0,
      denied: Object.fromEntries(USAGE_REASONS.map((r) => [r, d.denied?.[r] ?? 0])),
    }))
    .filter((b) => b.allowed > 0 || Object.values(b.denied).some((n) => n > 0));
  return {
    keyId: key.id,
    granularity: "day",
    since: new Date(today - 29 * 86400e3).toISOString().replace(".000Z", "Z"),
    until: new Date(at).toISOString(),
    buckets,
  };
}

async function readJson(req) {
  let text = "";
  for await (const chunk of req) {
    text += chunk;
    if (text.length > 65536) throw new Refusal(400, "invalid_request", "The request body is too large.");
  }
  try {
    const value = JSON.parse(text);
    if (value && typeof value === "object" && !Array.isArray(value)) return value;
  } catch {
    // fall through
  }
  throw new Refusal(400, "invalid_request", "The request body must be a JSON object.");
}

async function consoleApi(state, req, res, path) {
  const session = sessionOf(state, req);
  if (state.failNext) {
    const fail = state.failNext;
    state.failNext = null;
    if (fail.raw !== null) {
      res.writeHead(fail.status, { "content-type": "text/html" }).end(fail.raw);
      return;
    }
    throw new Refusal(fail.status, fail.reason, fail.message ?? "The key store is unavailable; try again shortly.");
  }
  if (req.method === "GET" && path === "/session") {
    const can = engine.keyAbilities(session.role);
    send(res, 200, {
      organizationId: ORG,
      userId: session.userId,
      role: session.role,
      gatewayUrl: "https://api.example.test",
      keyHeader: keyscope.KEY_HEADER_NAME,
      mePath: engine.mePath,
      csrfToken: session.csrfToken,
      returnUrl: session.returnUrl ?? null,
      can,
      presets: engine.presets,
      projects: engine.keyAbilities(session.role).createProjectKeys ? PROJECTS : [],
    });
    return;
  }
  if (req.method === "GET" && path === "/keys") {
    const every = engine.keyAbilities(session.role).manageEveryKey;
    const shown = state.keys.filter((k) => every || k.createdBy === session.userId);
    send(res, 200, { keys: shown.map((k) => view(session, k)) });
    return;
  }
  const usage = /^\/keys\/([A-Za-z0-9_-]{1,64})\/usage$/.exec(path);
  if (req.method === "GET" && usage) {
    const every = engine.keyAbilities(session.role).manageEveryKey;
    const key = state.keys.find((k) => k.id === usage[1] && (every || k.createdBy === session.userId));
    if (!key) throw new Refusal(404, "not_found", "There is no such key in this organization.");
    send(res, 200, usageOf(state, key));
    return;
  }
  if (req.method !== "POST") throw new Refusal(404, "not_found", "Nothing here.");
  const origin = req.headers.origin;
  if (req.headers["x-keyscope-csrf"] !== session.csrfToken ||
    (origin !== undefined && origin !== `http://${req.headers.host}`)) {
    throw new Refusal(403, "forbidden", "The request did not carry the console's CSRF proof.");
  }
  if (!(req.headers["content-type"] ?? "").startsWith("application/json")) {
    throw new Refusal(400, "invalid_request", "The request body must be JSON.");
  }
  const body = await readJson(req);
  const actor = actorOf(session);

  if (path === "/keys") {
    const { name, scope, scopedProjectId, scopedProjectIds, preset, permissions, expiresAt, allowedCidrs, rateLimit, quota, ...rest } = body;
    const unknown = Object.keys(rest);
    if (unknown.length) throw new Refusal(400, "invalid_request", `Invalid JSON body: unknown field ${unknown[0]}.`);
    if (expiresAt !== undefined && expiresAt !== null && typeof expiresAt !== "string") {
      throw new Refusal(400, "invalid_request", "ExpiresAt must be an RFC 3339 time.");
    }
    const made = plan(() => engine.planCreate({
      organizationId: ORG, actor, name, scope,
      scopedProjectId: scopedProjectId ?? undefined, scopedProjectIds: scopedProjectIds ?? undefined,
      preset: preset ?? undefined, permissions: permissions ?? undefined, expiresAt: expiresAt ?? undefined,
      allowedCidrs: allowedCidrs ?? undefined, rateLimit: rateLimit ?? undefined, quota: quota ?? undefined,
    }));
    state.keys.push(made.record);
    send(res, 201, { key: view(session, made.record), secret: made.secret });
    return;
  }

  const match = /^\/keys\/([A-Za-z0-9_-]{1,64})\/(rotate|revoke|controls)$/.exec(path);
  const key = match && state.keys.find((k) => k.id === match[1]);
  if (!key) throw new Refusal(404, "not_found", "No such key.");
  if (match[2] === "controls") {
    // Each field absent (unchanged), null (removed) or a value (set), in policy-core's order:
    // who may (the key's creator or an admin), then whether it still may change (not once revoked
    // or expired: `409`, the refusal a rotation plan gives), then the values.
    const { allowedCidrs, rateLimit, quota, ...rest } = body;
    const unknown = Object.keys(rest);
    if (unknown.length) throw new Refusal(400, "invalid_request", `Invalid JSON body: unknown field ${unknown[0]}.`);
    plan(() => engine.checkKeyChange({ actor, key }));
    const status = engine.keyStatus({ key, creatorRole: ROLES[key.createdBy] ?? null });
    if (status === "revoked" || status === "expired") plan(() => engine.planRotate({ actor, key, gracePeriodSeconds: 0 }));
    const checked = checkedControls({ allowedCidrs, rateLimit, quota });
    if (allowedCidrs !== undefined) key.allowedCidrs = allowedCidrs === null ? null : checked.allowedCidrs;
    if (rateLimit !== undefined) key.rateLimit = rateLimit === null ? null : checked.rateLimit;
    if (quota !== undefined) key.quota = quota === null ? null : checked.quota;
    send(res, 200, { key: view(session, key) });
    return;
  }
  if (match[2] === "revoke") {
    const revoked = plan(() => engine.planRevoke({ actor, key }));
    key.revokedAt = revoked.revokedAt;
    send(res, 200, { key: view(session, key) });
    return;
  }
  const rotated = plan(() => engine.planRotate({ actor, key, gracePeriodSeconds: body.gracePeriodSeconds }));
  if (rotated.oldRevokedAt !== null) key.revokedAt = rotated.oldRevokedAt;
  state.keys.push(rotated.record);
  send(res, 201, { key: view(session, rotated.record), secret: rotated.secret, previous: view(session, key) });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const mock = await startMock(Number(process.argv[2] ?? 8790));
  console.log(`console mock: ${mock.url}/console/open?as=admin (or as=engineer, as=member)`);
}
