// Hostile and careless clients against the gateway on workerd: `Expect: 100-continue`, GET and
// HEAD with a body, methods the admin API does not answer, CORS preflights (with and without
// KEYSCOPE_CORS_ORIGINS), connections that never send anything, a 10 MB body and a 64 KiB key
// header. Every answer is the origin's or a JSON error with a truthful reason; nothing crashes
// and nothing resets a key's rate limit.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import http from "node:http";
import net from "node:net";
import { after, before, describe, test } from "node:test";
import { rawRequest, startGateway } from "./lib/gateway.mjs";

const ORG = "org_a";
const APP = "https://app.example.test";

/** A loopback origin that records each request's method, headers, byte count and SHA-256. */
async function startCountingOrigin() {
  const received = [];
  const server = http.createServer((req, res) => {
    const hash = createHash("sha256");
    let bytes = 0;
    req.on("data", (c) => {
      bytes += c.length;
      hash.update(c);
    });
    req.on("end", () => {
      received.push({ method: req.method, url: req.url, headers: req.headers, bytes, sha256: hash.digest("hex") });
      res.writeHead(200, { "content-type": "application/json", "x-origin": "stub" });
      res.end(JSON.stringify({ origin: true, bytes }));
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    received,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

async function world(bindings = {}, { clock = false } = {}) {
  const origin = await startCountingOrigin();
  const gw = await startGateway({ originUrl: origin.url, bindings, clock });
  await gw.admin.putMember(ORG, "u_admin", "admin");
  const { secret } = await gw.admin.createKey(ORG, { actingUserId: "u_admin", name: "hostile", scope: "organization" });
  return { origin, gw, secret, close: async () => (await gw.dispose(), await origin.close()) };
}

const json = (res) => {
  assert.match(res.headers["content-type"] ?? "", /^application\/json/, `JSON, not ${res.headers["content-type"]}: ${res.body}`);
  return JSON.parse(res.body);
};
const noTrace = (res) => {
  assert.doesNotMatch(res.body, /\.rs:|panicked|at .*\(|RuntimeError|TypeError/, "no stack trace or internal error text");
};

describe("hostile clients on an allowed route", () => {
  let w;
  before(async () => {
    w = await world();
  });
  after(() => w.close());

  test("Expect: 100-continue reaches the origin as a plain request (no Expect), answered by the origin", async () => {
    const before = w.origin.received.length;
    const res = await rawRequest(w.gw.port, {
      method: "POST",
      path: "/api/v1/projects",
      headers: [["x-api-key", w.secret], ["content-type", "application/json"], ["expect", "100-continue"]],
      body: "{}",
    });
    noTrace(res);
    assert.equal(res.status, 200, res.body);
    assert.equal(res.headers["x-origin"], "stub", "the origin's own answer");
    assert.deepEqual(json(res), { origin: true, bytes: 2 });
    const seen = w.origin.received.slice(before);
    assert.equal(seen.length, 1);
    assert.equal(seen[0].headers.expect, undefined, "Expect is hop-by-hop: not forwarded");
    assert.equal(seen[0].headers["x-api-key"], undefined, "the key never reaches the origin");
  });

  test("GET and HEAD with a body: 400 invalid_request, nothing forwarded, never blamed on the store", async () => {
    const before = w.origin.received.length;
    const get = await rawRequest(w.gw.port, { method: "GET", path: "/api/v1/projects", headers: [["x-api-key", w.secret]], body: "hello" });
    noTrace(get);
    assert.equal(get.status, 400);
    assert.deepEqual(json(get), {
      reason: "invalid_request",
      message: "A GET or HEAD request cannot carry a body through this gateway.",
    });
    const head = await rawRequest(w.gw.port, { method: "HEAD", path: "/api/v1/projects", headers: [["x-api-key", w.secret]], body: "hello" });
    assert.equal(head.status, 400);
    assert.equal(w.origin.received.length, before, "the origin saw neither");
  });

  test("a GET with a body is still denied first when the key is missing or lacks the permission", async () => {
    const missing = await rawRequest(w.gw.port, { method: "GET", path: "/api/v1/projects", body: "hello" });
    assert.equal(missing.status, 401);
    assert.equal(json(missing).reason, "missing_key");
    const unknown = await rawRequest(w.gw.port, { method: "GET", path: "/api/v1/nowhere", headers: [["x-api-key", w.secret]], body: "x" });
    assert.equal(unknown.status, 404);
    assert.equal(json(unknown).reason, "not_found");
  });

  test("a GET declaring an empty body (Content-Length: 0) is forwarded", async () => {
    const res = await rawRequest(w.gw.port, {
      method: "GET",
      path: "/api/v1/projects",
      headers: [["x-api-key", w.secret], ["content-length", "0"]],
    });
    assert.equal(res.status, 200, res.body);
    assert.equal(res.headers["x-origin"], "stub");
  });

  test("a 10 MB body reaches the origin whole (byte count and SHA-256)", async () => {
    const body = Buffer.alloc(10 * 1024 * 1024);
    for (let i = 0; i < body.length; i += 4096) body.writeUInt32BE(i, i); // not all zeros
    const before = w.origin.received.length;
    const res = await rawRequest(w.gw.port, {
      method: "POST",
      path: "/api/v1/projects",
      headers: [["x-api-key", w.secret], ["content-type", "application/octet-stream"]],
      body,
    });
    assert.equal(res.status, 200, res.body);
    const [seen] = w.origin.received.slice(before);
    assert.equal(seen.bytes, body.length);
    assert.equal(seen.sha256, createHash("sha256").update(body).digest("hex"));
  });

  test("a 64 KiB key header: 401 invalid_key as JSON, never echoed, and the gateway keeps serving", async () => {
    // (workerd itself refuses a header block beyond its limit, ~128 KiB, with 431 before the worker runs.)
    const huge = "ck_live_" + "a".repeat(64 * 1024);
    const res = await rawRequest(w.gw.port, { method: "GET", path: "/api/v1/projects", headers: [["x-api-key", huge]] });
    noTrace(res);
    assert.equal(res.status, 401);
    assert.deepEqual(json(res), { reason: "invalid_key", message: "The API key is malformed." });
    const ok = await rawRequest(w.gw.port, { method: "GET", path: "/api/v1/projects", headers: [["x-api-key", w.secret]] });
    assert.equal(ok.status, 200, "still serving");
  });

  test("many connections that send nothing do not stop the gateway serving others", async () => {
    const idle = [];
    try {
      for (let i = 0; i < 64; i++) {
        const socket = net.connect(w.gw.port, "127.0.0.1");
        socket.on("error", () => {});
        if (i % 2) socket.write("GET /api/v1/projects HTTP/1.1\r\nHost: keyscope.test\r\n"); // half a header block
        idle.push(socket);
      }
      await Promise.all(idle.map((s) => (s.connecting ? new Promise((r) => s.once("connect", r)) : null)));
      // Each request gives up after rawRequest's own bound (a stuck gateway fails it).
      const answers = await Promise.all(
        Array.from({ length: 10 }, () =>
          rawRequest(w.gw.port, { method: "GET", path: "/api/v1/projects", headers: [["x-api-key", w.secret]] }),
        ),
      );
      assert.deepEqual(answers.map((r) => r.status), Array(10).fill(200));
      const open = idle.filter((s) => !s.destroyed && s.readyState === "open").length;
      assert.equal(open, idle.length, "answered while the idle connections stay open");
    } finally {
      for (const socket of idle) socket.destroy();
    }
  });
});

describe("Expect: 100-continue does not reset the rate limit", () => {
  test("KEYSCOPE_RATE_LIMIT=10: 5 requests, an Expect request, 4 more pass; the 11th is 429", async () => {
    const w = await world({ KEYSCOPE_RATE_LIMIT: "10" }, { clock: true });
    try {
      // All eleven at one instant of the worker's clock, however long they take to send.
      await w.gw.clock.freeze();
      const plain = () => rawRequest(w.gw.port, { method: "GET", path: "/api/v1/projects", headers: [["x-api-key", w.secret]] });
      const statuses = [];
      for (let i = 0; i < 5; i++) statuses.push((await plain()).status);
      const expect = await rawRequest(w.gw.port, {
        method: "POST",
        path: "/api/v1/projects",
        headers: [["x-api-key", w.secret], ["expect", "100-continue"]],
        body: "{}",
      });
      noTrace(expect);
      statuses.push(expect.status);
      for (let i = 0; i < 4; i++) statuses.push((await plain()).status);
      assert.deepEqual(statuses, Array(10).fill(200), `ten admitted: ${statuses}`);
      const limited = await plain();
      assert.equal(limited.status, 429, "the window survived the Expect request");
      assert.equal(json(limited).reason, "rate_limited");
    } finally {
      await w.close();
    }
  });
});

describe("admin API: unknown methods", () => {
  let w;
  before(async () => {
    w = await world({}, { clock: true });
  });
  after(() => w.close());

  // Methods the platform does not know (a lower-case `get`) never reach the worker: workerd
  // answers them 501 itself (ARCHITECTURE.md "What the platform does before the worker runs").
  for (const method of ["get", "Post"]) {
    test(`${method} on a keys route is refused by the platform, never answered with data`, async () => {
      const res = await rawRequest(w.gw.port, {
        method,
        path: `/admin/v1/organizations/${ORG}/keys`,
        headers: [["authorization", `Bearer ${w.gw.admin.token}`]],
      });
      assert.ok([405, 501].includes(res.status), `${res.status}: ${res.body}`);
      assert.doesNotMatch(res.body, /"keys"/);
    });
  }

  for (const method of ["QUERY", "PROPFIND", "PATCH", "OPTIONS", "TRACE"]) {
    test(`${method} on a keys route is 405 with Allow, never data`, async () => {
      const res = await rawRequest(w.gw.port, {
        method,
        path: `/admin/v1/organizations/${ORG}/keys`,
        headers: [["authorization", `Bearer ${w.gw.admin.token}`]],
      });
      assert.equal(res.status, 405, res.body);
      assert.equal(res.headers.allow, "GET, POST");
      const body = json(res);
      assert.equal(body.reason, "method_not_allowed");
      assert.deepEqual(Object.keys(body).sort(), ["message", "reason"], "an error, not the key list");
    });
  }

  test("gracePeriodSeconds is a whole number however JSON writes it (60.0 is 60; 60.5 is refused)", async () => {
    const { key } = await w.gw.admin.createKey(ORG, { actingUserId: "u_admin", name: "grace", scope: "organization" });
    const half = await w.gw.admin.call("POST", `/organizations/${ORG}/keys/${key.id}/rotate`, undefined, {
      rawBody: '{"actingUserId":"u_admin","gracePeriodSeconds":60.5}',
      headers: { "content-type": "application/json" },
    });
    assert.equal(half.status, 400);
    assert.equal(half.body.reason, "invalid_request");
    // Rotated while the worker's clock stands still at `at`: the old key's end is exact.
    const at = await w.gw.clock.freeze();
    let whole;
    try {
      whole = await w.gw.admin.call("POST", `/organizations/${ORG}/keys/${key.id}/rotate`, undefined, {
        rawBody: '{"actingUserId":"u_admin","gracePeriodSeconds":60.0}',
        headers: { "content-type": "application/json" },
      });
    } finally {
      await w.gw.clock.release();
    }
    assert.equal(whole.status, 201, whole.text);
    const revokedAt = Date.parse(whole.body.previous.revokedAt);
    assert.equal(revokedAt, at + 60_000, `the old key ends in 60 s: ${whole.body.previous.revokedAt}`);
  });

  test("every 405 names the route's methods in Allow", async () => {
    const call = (method, path) =>
      rawRequest(w.gw.port, { method, path: `/admin/v1${path}`, headers: [["authorization", `Bearer ${w.gw.admin.token}`]] });
    for (const [method, path, allow] of [
      ["GET", `/organizations/${ORG}/members/u_admin`, "PUT, DELETE"],
      ["GET", `/organizations/${ORG}/keys/import`, "POST"],
      ["DELETE", `/organizations/${ORG}/keys/key_1`, "GET"],
      ["GET", `/organizations/${ORG}/keys/key_1/revoke`, "POST"],
      ["GET", "/resources/batch", "POST"],
      ["POST", "/resources/time_entry/te_1", "PUT, DELETE"],
    ]) {
      const res = await call(method, path);
      assert.equal(res.status, 405, `${method} ${path}`);
      assert.equal(res.headers.allow, allow, `${method} ${path}`);
      assert.equal(json(res).reason, "method_not_allowed");
    }
  });
});

describe("CORS", () => {
  const preflight = (port, origin = APP) =>
    rawRequest(port, {
      method: "OPTIONS",
      path: "/api/v1/projects",
      headers: [["origin", origin], ["access-control-request-method", "POST"], ["access-control-request-headers", "x-api-key, content-type"]],
    });

  test("unset: the gateway does no CORS; a preflight is decided like any request", async () => {
    const w = await world();
    try {
      const res = await preflight(w.gw.port);
      assert.equal(res.status, 401);
      assert.equal(json(res).reason, "missing_key");
      assert.equal(res.headers["access-control-allow-origin"], undefined);
      const call = await rawRequest(w.gw.port, { method: "GET", path: "/api/v1/projects", headers: [["x-api-key", w.secret], ["origin", APP]] });
      assert.equal(call.status, 200);
      assert.equal(call.headers["access-control-allow-origin"], undefined);
    } finally {
      await w.close();
    }
  });

  test("KEYSCOPE_CORS_ORIGINS set: preflights from allowed origins answered, every answer to them readable", async () => {
    const w = await world({ KEYSCOPE_CORS_ORIGINS: `${APP}, http://localhost:5173` });
    try {
      const before = w.origin.received.length;
      const pre = await preflight(w.gw.port);
      assert.equal(pre.status, 204);
      assert.equal(pre.headers["access-control-allow-origin"], APP);
      assert.equal(pre.headers["access-control-allow-headers"], "X-Api-Key, Authorization, Content-Type");
      const methods = pre.headers["access-control-allow-methods"].split(", ");
      for (const m of ["GET", "POST", "PATCH", "DELETE"]) assert.ok(methods.includes(m), `${m} in ${methods}`);
      assert.ok(Number(pre.headers["access-control-max-age"]) > 0);
      assert.match(pre.headers.vary, /Origin/);
      assert.equal(w.origin.received.length, before, "a preflight never reaches the origin");

      const other = await preflight(w.gw.port, "https://evil.example.test");
      assert.equal(other.status, 401, "another origin's preflight is decided like any request");
      assert.equal(other.headers["access-control-allow-origin"], undefined);

      const allowed = await rawRequest(w.gw.port, { method: "GET", path: "/api/v1/projects", headers: [["x-api-key", w.secret], ["origin", APP]] });
      assert.equal(allowed.status, 200);
      assert.equal(allowed.headers["x-origin"], "stub", "the origin's answer, with CORS added");
      assert.equal(allowed.headers["access-control-allow-origin"], APP);
      assert.match(allowed.headers.vary, /Origin/);

      const denied = await rawRequest(w.gw.port, { method: "GET", path: "/api/v1/projects", headers: [["origin", APP]] });
      assert.equal(denied.status, 401);
      assert.equal(json(denied).reason, "missing_key");
      assert.equal(denied.headers["access-control-allow-origin"], APP, "a denial is readable by the page");
      assert.match(denied.headers["access-control-expose-headers"], /WWW-Authenticate/);

      const stranger = await rawRequest(w.gw.port, { method: "GET", path: "/api/v1/projects", headers: [["x-api-key", w.secret], ["origin", "https://evil.example.test"]] });
      assert.equal(stranger.status, 200, "CORS is the browser's check, not an authorization");
      assert.equal(stranger.headers["access-control-allow-origin"], undefined);
      assert.match(stranger.headers.vary, /Origin/);
    } finally {
      await w.close();
    }
  });

  test("a KEYSCOPE_CORS_ORIGINS entry that is not an origin: a truthful 503", async () => {
    const w = await startGateway({ bindings: { KEYSCOPE_CORS_ORIGINS: "*" } });
    try {
      const res = await rawRequest(w.port, { method: "GET", path: "/api/v1/projects" });
      assert.equal(res.status, 503);
      assert.match(json(res).message, /misconfigured/);
    } finally {
      await w.dispose();
    }
  });
});
