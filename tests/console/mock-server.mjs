// A stand-in for the console API (ARCHITECTURE.md, "The key console"), for developing and testing
// the screen alone. In-memory, loopback only, never shipped. It serves edge-worker/console/ under
// /console/ with the CSP the worker sends, and mirrors the contract's rules: roles, CSRF proof,
// who may change which key, errors as {"reason","message"}.
//
//   node tests/console/mock-server.mjs [port]     then open http://127.0.0.1:PORT/console/open?as=admin
//
// Test hooks (not part of the contract) live under /__mock/.

import { createServer } from "node:http";
import { randomBytes, randomUUID } from "node:crypto";
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";

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
const READ = ["read:project", "read:entry", "read:time_entry", "read:user", "read:webhook",
  "read:integration_link", "read:audit_event", "search"];
const PRESET_GRANTS = { read: READ, write: [...READ, "write:entry", "write:time_entry"], full: null };
const KEY_CREATORS = { organization: ["admin"], project: ["admin", "engineer"] };
const USERS = { admin: "usr_ada", engineer: "usr_eng", member: "usr_mem" };
const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

class Refusal extends Error {
  constructor(status, reason, message) {
    super(message);
    this.status = status;
    this.reason = reason;
  }
}

/** Starts the mock on 127.0.0.1; resolves to { url, state, close }. */
export async function startMock(port = 0) {
  const state = { keys: [], sessions: new Map(), failNext: null };
  const server = createServer((req, res) => {
    handle(state, req, res).catch((error) => {
      const refusal = error instanceof Refusal ? error : new Refusal(503, "unavailable", "The console is unavailable.");
      send(res, refusal.status, { reason: refusal.reason, message: refusal.message });
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
    if (key) key.lastUsedAt = new Date().toISOString();
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

function canChange(session, key) {
  return key.createdBy === session.userId || KEY_CREATORS.organization.includes(session.role);
}

function view(session, key) {
  const preset = Object.keys(PRESET_GRANTS).find((name) =>
    JSON.stringify(PRESET_GRANTS[name]) === JSON.stringify(key.permissions)) ?? null;
  return { ...key, preset, canChange: canChange(session, key) };
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

function secret() {
  const body = [...randomBytes(36)].map((b) => ALPHABET[b % 62]).join("").slice(0, 36);
  return `ck_live_${body}`; // the shape of a key (44 characters); the checksum is not computed here
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
    const can = {
      createOrganizationKeys: KEY_CREATORS.organization.includes(session.role),
      createProjectKeys: KEY_CREATORS.project.includes(session.role),
      manageEveryKey: KEY_CREATORS.organization.includes(session.role),
    };
    send(res, 200, {
      organizationId: ORG,
      userId: session.userId,
      role: session.role,
      gatewayUrl: "https://api.example.test",
      keyHeader: "X-Api-Key",
      mePath: "/api/v1/me",
      csrfToken: session.csrfToken,
      returnUrl: session.returnUrl ?? null,
      can,
      presets: Object.keys(PRESET_GRANTS),
      projects: PROJECTS,
    });
    return;
  }
  if (req.method === "GET" && path === "/keys") {
    const mine = state.keys.filter((k) => canChange(session, k) || k.createdBy === session.userId);
    send(res, 200, { keys: mine.map((k) => view(session, k)) });
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
  const now = Date.now();

  if (path === "/keys") {
    const { name, scope, scopedProjectId, preset, expiresAt } = body;
    if (typeof name !== "string" || !name.trim() || [...name].length > 100) {
      throw new Refusal(400, "invalid_request", "The name must be 1 to 100 characters.");
    }
    if (scope !== "organization" && scope !== "project") {
      throw new Refusal(400, "invalid_request", "The scope must be organization or project.");
    }
    if (!KEY_CREATORS[scope].includes(session.role)) {
      throw new Refusal(403, "forbidden", `Your role (${session.role}) may not create ${scope} keys.`);
    }
    if (scope === "project" && !PROJECTS.some((p) => p.id === scopedProjectId)) {
      throw new Refusal(400, "invalid_request", "Pick one of the organization's projects.");
    }
    if (!Object.hasOwn(PRESET_GRANTS, preset)) {
      throw new Refusal(400, "invalid_request", "The preset must be read, write or full.");
    }
    if (expiresAt !== undefined && !(Date.parse(expiresAt) > now)) {
      throw new Refusal(400, "invalid_request", "The expiry must be a time in the future.");
    }
    const value = secret();
    const key = {
      id: `key_${randomUUID().replaceAll("-", "").slice(0, 24)}`,
      name,
      hint: value.slice(-4),
      organizationId: ORG,
      createdBy: session.userId,
      scope,
      scopedProjectId: scope === "project" ? scopedProjectId : null,
      permissions: PRESET_GRANTS[preset],
      createdAt: new Date(now).toISOString(),
      lastUsedAt: null,
      expiresAt: expiresAt === undefined ? null : new Date(expiresAt).toISOString(),
      revokedAt: null,
    };
    state.keys.push(key);
    send(res, 201, { key: view(session, key), secret: value });
    return;
  }

  const match = /^\/keys\/([A-Za-z0-9_-]{1,64})\/(rotate|revoke)$/.exec(path);
  const key = match && state.keys.find((k) => k.id === match[1] &&
    (canChange(session, k) || k.createdBy === session.userId));
  if (!key) throw new Refusal(404, "not_found", "No such key in this organization.");
  if (!canChange(session, key)) {
    throw new Refusal(403, "forbidden", "Only the key's creator or an admin may change it.");
  }
  const revoked = key.revokedAt !== null && Date.parse(key.revokedAt) <= now;
  if (match[2] === "revoke") {
    if (!revoked) key.revokedAt = new Date(now).toISOString();
    send(res, 200, { key: view(session, key) });
    return;
  }
  if (revoked) throw new Refusal(409, "conflict", "A revoked key cannot be rotated.");
  const grace = body.gracePeriodSeconds;
  if (!Number.isInteger(grace) || grace < 0 || grace > 30 * 86400) {
    throw new Refusal(400, "invalid_request", "The grace period must be 0 to 30 days, in seconds.");
  }
  const value = secret();
  const fresh = {
    ...key,
    id: `key_${randomUUID().replaceAll("-", "").slice(0, 24)}`,
    hint: value.slice(-4),
    createdBy: session.userId,
    createdAt: new Date(now).toISOString(),
    lastUsedAt: null,
    revokedAt: null,
  };
  const end = now + grace * 1000;
  if (key.revokedAt === null || Date.parse(key.revokedAt) > end) key.revokedAt = new Date(end).toISOString();
  state.keys.push(fresh);
  send(res, 201, { key: view(session, fresh), secret: value, previous: view(session, key) });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const mock = await startMock(Number(process.argv[2] ?? 8790));
  console.log(`console mock: ${mock.url}/console/open?as=admin (or as=engineer, as=member)`);
}
