// Every conformance vector, over real HTTP, against the edge worker on workerd.
// Allowed cases must reach the origin with the right identity; denied cases must not reach it.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { loadWorld, rawRequest, startGateway, startOrigin, vectorFiles, wirePath } from "./lib/gateway.mjs";

// What the platform does before any Worker code runs (workerd here, Cloudflare's edge in
// production), so the gateway never sees these requests as sent:
// - methods the HTTP server does not know (lower-case `get`, made-up `BREW`) are refused by the
//   runtime itself (501) — they never reach the origin, which is what SPEC's not_found protects;
// - `.` and `..` segments are resolved (RFC 3986), and the gateway decides on, and forwards,
//   the resolved path — so the decision and the origin always see the same path.
const KNOWN_METHODS = new Set(["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "TRACE"]);
const hasDotSegment = (path) => path.split("?")[0].split("/").some((s) => s === "." || s === "..");

const IDENTITY = ["x-keyscope-key-id", "x-keyscope-organization-id", "x-keyscope-user-id", "x-keyscope-role", "x-keyscope-scope"];

// Every store mode: strict (default: KV + the key's Durable Object), kv (edge-cached) and d1.
for (const storeKind of ["strict", "kv", "d1"])
for (const { file, vector } of vectorFiles()) {
  describe(`vectors/${file} (store: ${storeKind})`, () => {
    let origin;
    let gateway;
    const keysById = new Map((vector.keys ?? []).map((k) => [k.id, k]));
    const members = new Map((vector.members ?? []).map((m) => [`${m.organizationId}/${m.userId}`, m.role]));

    before(async () => {
      origin = await startOrigin();
      gateway = await startGateway({
        originUrl: origin.url,
        bindings: { KEYSCOPE_ENVIRONMENT: vector.environment ?? "live", KEYSCOPE_STORE: storeKind },
      });
      await loadWorld(gateway.admin, vector);
    });
    after(async () => {
      await gateway?.dispose();
      await origin?.close();
    });

    for (const c of vector.cases) {
      test(c.name, async () => {
        const before = origin.received.length;
        const res = await rawRequest(gateway.port, {
          method: c.method,
          path: wirePath(c.path),
          headers: Object.entries(c.headers ?? {}),
        });
        const reached = origin.received.slice(before);
        const e = c.expect;
        if (!KNOWN_METHODS.has(c.method)) {
          assert.equal(reached.length, 0, "an unknown method never reaches the origin");
          assert.ok(res.status >= 400 && res.status !== 500, `refused, got ${res.status}`);
          return;
        }
        if (hasDotSegment(c.path)) {
          const resolved = new URL(wirePath(c.path), "http://x").pathname;
          assert.ok(res.status < 500, `no server error, got ${res.status}`);
          for (const got of reached) {
            assert.equal(got.url.split("?")[0], resolved, "the origin gets the path the decision was made on");
          }
          return;
        }
        if (!e.allow) {
          assert.equal(reached.length, 0, "a denied request must not reach the origin");
          assert.equal(res.status, e.status ?? res.status);
          if (res.status === 401) assert.match(res.headers["www-authenticate"] ?? "", /^Bearer/);
          if (c.method === "HEAD") return; // no body on HEAD
          const body = JSON.parse(res.body);
          assert.equal(body.reason, e.reason);
          assert.equal(typeof body.message, "string");
          for (const k of vector.keys ?? []) assert.ok(!res.body.includes(k.secret.slice(8)), "never echo a key");
          return;
        }
        assert.equal(res.status, 200, `expected allow, got ${res.status} ${res.body}`);
        if (e.me) {
          assert.equal(reached.length, 0, "/me is answered at the edge");
          if (c.method !== "HEAD") {
            const me = JSON.parse(res.body);
            for (const [field, value] of Object.entries(e.me)) assert.deepEqual(me[field], value, `/me ${field}`);
          }
          return;
        }
        const isMe = /^\/api\/v1\/me(\?|$)/.test(c.path);
        if (isMe) return assert.equal(reached.length, 0, "/me is answered at the edge");
        assert.equal(reached.length, 1, "an allowed request reaches the origin once");
        const got = reached[0];
        assert.equal(got.method, c.method === "HEAD" ? "HEAD" : c.method);
        assert.equal(got.headers["x-api-key"], undefined, "the key is stripped");
        assert.ok(!/bearer/i.test(got.headers.authorization ?? ""), "a Bearer key is stripped");
        for (const name of IDENTITY) assert.ok(got.headers[name], `identity header ${name}`);
        const key = keysById.get(got.headers["x-keyscope-key-id"]);
        assert.ok(key, "the identity names a key of the world");
        assert.equal(got.headers["x-keyscope-organization-id"], key.organizationId);
        assert.equal(got.headers["x-keyscope-user-id"], key.createdBy);
        assert.equal(got.headers["x-keyscope-role"], members.get(`${key.organizationId}/${key.createdBy}`));
        assert.equal(got.headers["x-keyscope-scope"], key.scope);
        assert.equal(got.headers["x-keyscope-project-filter"], e.projectFilter ?? undefined);
      });
    }
  });
}
