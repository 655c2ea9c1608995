// A stand-in for the console API (ARCHITECTURE.md, "The key console"), for developing and testing
// the screen alone. In-memory, loopback only, never shipped. It serves edge-worker/console/ under
// /console/ with the CSP the worker sends, and holds the contract's session rules (CSRF proof,
// errors as {"reason","message","code"?}). Every key rule is the npm package's plans — policy-core,
// the same rules the gateway's console API runs — so the mock cannot follow a rule of its own.
// It needs the package built (`bash scripts/build-npm`).
//
//   node tests/console/mock-server.mjs [port]     then open http://127.0.0.1:PORT/console/open?as=admin
//
// Test hooks (not part of the contract) live under /__mock/.

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

/** Runs a plan, answering its refusal as the console API does. */
function plan(fn) {
  try {
    return fn();
  } catch (error) {
    throw refusal(error);
  }
}

/** Starts the mock on 127.0.0.1; resolves to { url, state, close }. */
export async function startMock(port = 0) {
  const state = { keys: [], sessions: new Map(), failNext: null };
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

/** A stored record as the console shows it: the admin API's view and where it stands (npm's). */
function view(session, record) {
  const standing = engine.keyStanding({ actor: actorOf(session), key: record, creatorRole: ROLES[record.createdBy] ?? null });
  return {
    ...record,
    createdAt: iso(record.createdAt),
    lastUsedAt: iso(record.lastUsedAt),
    expiresAt: iso(record.expiresAt),
    revokedAt: iso(record.revokedAt),
    ...standing,
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
    const { name, scope, scopedProjectId, preset, permissions, expiresAt, ...rest } = body;
    const unknown = Object.keys(rest);
    if (unknown.length) throw new Refusal(400, "invalid_request", `Invalid JSON body: unknown field ${unknown[0]}.`);
    if (expiresAt !== undefined && expiresAt !== null && typeof expiresAt !== "string") {
      throw new Refusal(400, "invalid_request", "ExpiresAt must be an RFC 3339 time.");
    }
    const made = plan(() => engine.planCreate({ organizationId: ORG, actor, name, scope, scopedProjectId: scopedProjectId ?? undefined, preset: preset ?? undefined, permissions: permissions ?? undefined, expiresAt: expiresAt ?? undefined }));
    state.keys.push(made.record);
    send(res, 201, { key: view(session, made.record), secret: made.secret });
    return;
  }

  const match = /^\/keys\/([A-Za-z0-9_-]{1,64})\/(rotate|revoke)$/.exec(path);
  const key = match && state.keys.find((k) => k.id === match[1]);
  if (!key) throw new Refusal(404, "not_found", "No such key.");
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
