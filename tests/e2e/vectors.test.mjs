// Every conformance vector, over real HTTP, against the edge worker on workerd.
// Allowed cases must reach the origin with the right identity; denied cases must not reach it.
//
// Every vector file runs in the default store mode (strict); the kv and d1 modes run the files
// whose cases depend on what a store returns (docs/decisions/0090-vectors-per-store-mode.md).
// One gateway per store mode, environment and policy holds the worlds of all its files at once (they
// agree where they overlap: `mergeWorlds` checks it), so a mode costs one workerd start. Its
// clock stands at the vectors' `now` (startGateway's `clock`), so their times load as written.
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

// The store modes: strict (the default: KV + the key's Durable Object) runs every file; kv
// (edge-cached) and d1 run the files whose answers depend on what the store returns: the key
// lifecycle (unknown, revoked, expired, creator removed), every field of the record (/me echoes
// them) and the creator's role and resources' owners. The rest (the role × endpoint matrix, path
// and header parsing, the environment prefix) is decided before or apart from any lookup, on
// the same inputs in every mode; consistency.test.mjs proves what differs between the modes.
// The files of other policies run in every mode: their tenant, user and prefix rules are new
// on every path.
const MODES = {
  strict: null,
  kv: ["keys_and_headers.json", "me.json", "grants_and_precedence.json", "workspaces.json", "catalog.json", "key_controls.json"],
  d1: ["keys_and_headers.json", "me.json", "grants_and_precedence.json", "workspaces.json", "catalog.json", "key_controls.json"],
};

/**
 * The worlds of several vector files as one: members and resources must agree where files share
 * them, key ids and secrets must be unique, no file's key may be presented by another file's
 * case (a case's "unknown key" must stay unknown), and every key's creator must have the same
 * membership in the union as in its own file — so each case decides as in its own world.
 */
function mergeWorlds(files) {
  const union = { members: new Map(), resources: new Map(), keys: [] };
  const seen = new Map();
  for (const { file, vector } of files) {
    for (const m of vector.members ?? []) {
      const at = `${m.organizationId}/${m.userId}`;
      const had = union.members.get(at);
      assert.ok(had === undefined || had.role === m.role, `${file}: member ${at} is ${m.role}, elsewhere ${had?.role}`);
      union.members.set(at, m);
    }
    for (const r of vector.resources ?? []) {
      const at = `${r.kind}/${r.id}`;
      const had = union.resources.get(at);
      assert.ok(had === undefined || JSON.stringify(had) === JSON.stringify(r), `${file}: resource ${at} differs between files`);
      union.resources.set(at, r);
    }
    for (const k of vector.keys ?? []) {
      for (const id of [`id ${k.id}`, `secret ${k.secret}`]) {
        assert.ok(!seen.has(id), `${file}: key ${k.id} (its ${id.split(" ")[0]}) is also in ${seen.get(id)}`);
        seen.set(id, file);
      }
      union.keys.push(k);
    }
  }
  for (const { file, vector } of files) {
    const own = new Set((vector.members ?? []).map((m) => `${m.organizationId}/${m.userId}`));
    for (const k of vector.keys ?? []) {
      const at = `${k.organizationId}/${k.createdBy}`;
      assert.equal(union.members.has(at), own.has(at), `${file}: ${k.id}'s creator's membership differs in the union`);
    }
    const others = union.keys.filter((k) => !(vector.keys ?? []).includes(k));
    for (const c of vector.cases) {
      const sent = JSON.stringify(c.headers ?? {});
      for (const k of others) assert.ok(!sent.includes(k.secret), `${file}: "${c.name}" presents ${k.id} of another file`);
    }
  }
  return {
    now: files[0].vector.now,
    members: [...union.members.values()],
    resources: [...union.resources.values()],
    keys: union.keys,
  };
}

const groups = [];
for (const [storeKind, only] of Object.entries(MODES)) {
  const files = vectorFiles().filter(({ file }) => !only || only.includes(file));
  if (only) assert.deepEqual(files.map((f) => f.file).sort(), [...only].sort(), `every file listed for ${storeKind} exists`);
  const setting = ({ vector }) => `${vector.environment ?? "live"} ${vector.policy ?? "align"}`;
  for (const at of [...new Set(files.map(setting))].sort()) {
    const same = files.filter((f) => setting(f) === at);
    groups.push({ storeKind, environment: same[0].vector.environment ?? "live", policyText: same[0].policyText, policy: same[0].vector.policy ?? "Align", files: same });
  }
}

for (const { storeKind, environment, policyText, policy, files } of groups) {
  describe(`vectors over HTTP (store: ${storeKind}, environment: ${environment}, policy: ${policy})`, () => {
    let origin;
    let gateway;
    before(async () => {
      const world = mergeWorlds(files);
      assert.ok(files.every(({ vector }) => vector.now === world.now), "the files share one `now`");
      origin = await startOrigin();
      gateway = await startGateway({
        originUrl: origin.url,
        clock: true,
        // The policy as a binding: the test clock's entry has no bundled one (bundled policies
        // have their own test, large-policy.test.mjs).
        bindings: { KEYSCOPE_ENVIRONMENT: environment, KEYSCOPE_STORE: storeKind, ...(policyText ? { KEYSCOPE_POLICY: policyText } : {}) },
      });
      // The worker's clock stands at the vectors' `now`, as the native runners' does: a key
      // expiring exactly `now` is decided at that instant, not a few milliseconds after it.
      const now = await gateway.clock.freeze(Date.parse(world.now));
      await loadWorld(gateway.admin, world, { now });
    });
    after(async () => {
      await gateway?.dispose();
      await origin?.close();
    });

    for (const { file, vector, mePath } of files) {
      describe(`vectors/${file} (store: ${storeKind})`, () => {
        const keysById = new Map((vector.keys ?? []).map((k) => [k.id, k]));
        const members = new Map((vector.members ?? []).map((m) => [`${m.organizationId}/${m.userId}`, m.role]));

        for (const c of vector.cases) {
          test(c.name, async () => {
            const before = origin.received.length;
            // The client's address as Cloudflare's edge sets it (CF-Connecting-IP, which the edge
            // overwrites whatever a client sends). workerd keeps a value the client sent and
            // fills in the socket's address otherwise, so a case whose address is unknown sends
            // one that is no address.
            const headers = Object.entries(c.headers ?? {});
            headers.push(["cf-connecting-ip", c.clientIp ?? "unknown"]);
            const res = await rawRequest(gateway.port, {
              method: c.method,
              path: wirePath(c.path),
              headers,
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
              for (const k of vector.keys ?? []) assert.ok(!res.body.includes(k.secret.slice(-36)), "never echo a key");
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
            const isMe = c.path.split("?")[0] === mePath;
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
  });
}
