// Revocation everywhere at once (the strict store mode, the default): after an admin call that
// revokes a key, removes its creator or downgrades their role returns, no request is decided on
// the old state — even where KV still holds the old projection, as a far location's edge cache
// would. Plus: writes whose projections fail say exactly what was saved and stay correct; an
// unknown key creates no per-key object.
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { rawRequest, sha256Hex, startGateway, startOrigin } from "./lib/gateway.mjs";
import { newKey } from "./lib/keys.mjs";

const ORG = "org_c";
const get = (gw, path, key) => rawRequest(gw.port, { method: "GET", path, headers: [["x-api-key", key]] });
const post = (gw, path, key) => rawRequest(gw.port, { method: "POST", path, headers: [["x-api-key", key]], body: "{}" });
const reasonOf = (res) => JSON.parse(res.body).reason;

/** The KV projection of a key (what every location's edge cache starts from). */
async function projection(gw, secret) {
  const kv = await gw.mf.getKVNamespace("KEYS", "gateway");
  return kv.get(`key:${sha256Hex(secret)}`);
}

/** Writes an old projection back, as a location whose edge cache has not caught up holds it. */
async function plantStale(gw, secret, stale) {
  const kv = await gw.mf.getKVNamespace("KEYS", "gateway");
  await kv.put(`key:${sha256Hex(secret)}`, stale);
}

describe("strict mode: no request is decided on state older than the last admin call", () => {
  let origin;
  let gw;
  before(async () => {
    origin = await startOrigin();
    gw = await startGateway({ originUrl: origin.url, clock: true });
    await gw.admin.putMember(ORG, "u_admin", "admin");
    await gw.admin.putMember(ORG, "u_boss", "admin");
  });
  after(async () => {
    await gw?.dispose();
    await origin?.close();
  });

  const newKey = (user = "u_admin", name = "k") =>
    gw.admin.createKey(ORG, { actingUserId: user, name, scope: "organization" });

  // Each key is used before the change, so the isolate's cache holds its pre-change entry too:
  // neither that cache nor the planted KV entry can decide revocation or role.
  test("a revoked key is refused although the stale projection says it is live", async () => {
    const k = await newKey();
    assert.equal((await get(gw, "/api/v1/projects", k.secret)).status, 200);
    const stale = await projection(gw, k.secret);
    assert.equal(JSON.parse(stale).record.revokedAt, null, "the projection we plant says live");
    await gw.admin.revokeKey(ORG, k.key.id, "u_admin");
    await plantStale(gw, k.secret, stale);
    for (let i = 0; i < 3; i++) {
      const res = await get(gw, "/api/v1/projects", k.secret);
      assert.equal(res.status, 401);
      assert.equal(reasonOf(res), "key_revoked");
    }
  });

  test("a removed creator's key is refused although the stale projection holds their role", async () => {
    await gw.admin.putMember(ORG, "u_leaver", "admin");
    const k = await newKey("u_leaver");
    assert.equal((await get(gw, "/api/v1/projects", k.secret)).status, 200);
    const stale = await projection(gw, k.secret);
    assert.equal(JSON.parse(stale).role, "admin");
    await gw.admin.removeMember(ORG, "u_leaver");
    await plantStale(gw, k.secret, stale);
    const res = await get(gw, "/api/v1/projects", k.secret);
    assert.equal(res.status, 401);
    assert.equal(reasonOf(res), "key_revoked");
    assert.match(JSON.parse(res.body).message, /no longer a member/);
  });

  test("a downgraded creator's key acts with the new role although the stale projection holds the old one", async () => {
    await gw.admin.putMember(ORG, "u_down", "admin");
    const k = await newKey("u_down");
    const invite = await post(gw, "/api/v1/users/invite", k.secret);
    assert.equal(invite.status, 200, "an admin may invite users");
    const stale = await projection(gw, k.secret);
    await gw.admin.putMember(ORG, "u_down", "member");
    await plantStale(gw, k.secret, stale);
    const res = await post(gw, "/api/v1/users/invite", k.secret);
    assert.equal(res.status, 403);
    assert.equal(reasonOf(res), "forbidden");
    assert.match(JSON.parse(res.body).message, /invite:user/);
    assert.equal((await get(gw, "/api/v1/projects", k.secret)).status, 200, "reads still pass");
  });

  test("the end of a rotation's grace period stops the old key although its stale projection says live", async () => {
    const k = await newKey();
    const stale = await projection(gw, k.secret);
    // The worker's clock stands still from the rotation on, and moves to the grace period's end.
    await gw.clock.freeze();
    try {
      const rotated = await gw.admin.rotateKey(ORG, k.key.id, { actingUserId: "u_admin", gracePeriodSeconds: 1 });
      await plantStale(gw, k.secret, stale);
      assert.equal((await get(gw, "/api/v1/projects", k.secret)).status, 200, "within the grace period");
      assert.equal((await get(gw, "/api/v1/projects", rotated.secret)).status, 200, "the new key works");
      await gw.clock.advance(999);
      assert.equal((await get(gw, "/api/v1/projects", k.secret)).status, 200, "still within the grace period 999 ms later");
      await gw.clock.advance(1);
      const res = await get(gw, "/api/v1/projects", k.secret);
      assert.equal(res.status, 401);
      assert.equal(reasonOf(res), "key_revoked");
      assert.equal((await get(gw, "/api/v1/projects", rotated.secret)).status, 200);
    } finally {
      await gw.clock.release();
    }
  });
});

describe("kv mode keeps its documented weaker guarantee", () => {
  test("a stale projection is what decides (the bound is KV's cache time)", async () => {
    const origin = await startOrigin();
    const gw = await startGateway({ originUrl: origin.url, bindings: { KEYSCOPE_STORE: "kv" } });
    try {
      await gw.admin.putMember(ORG, "u_admin", "admin");
      const k = await gw.admin.createKey(ORG, { actingUserId: "u_admin", name: "k", scope: "organization" });
      const stale = await projection(gw, k.secret);
      await gw.admin.revokeKey(ORG, k.key.id, "u_admin");
      assert.equal((await get(gw, "/api/v1/projects", k.secret)).status, 401, "the writer's own projection is fresh");
      await plantStale(gw, k.secret, stale);
      assert.equal((await get(gw, "/api/v1/projects", k.secret)).status, 200, "a stale edge cache would still allow");
    } finally {
      await gw.dispose();
      await origin.close();
    }
  });
});

describe("an unknown key touches no per-key object", () => {
  test("a flood of well-formed unknown keys creates no object storage; a known key does", async () => {
    const origin = await startOrigin();
    const persist = mkdtempSync(join(tmpdir(), "keyscope-do-"));
    const gw = await startGateway({ originUrl: origin.url, bindings: { KEYSCOPE_RATE_LIMIT: "100" }, miniflare: { durableObjectsPersist: persist } });
    const files = () => {
      const walk = (dir) => readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? walk(join(dir, f)) : [f]));
      return walk(persist).filter((f) => f.endsWith(".sqlite")).length;
    };
    try {
      await gw.admin.putMember(ORG, "u_admin", "admin");
      const k = await gw.admin.createKey(ORG, { actingUserId: "u_admin", name: "k", scope: "organization" });
      const before = files();
      for (let i = 0; i < 50; i++) {
        const res = await get(gw, "/api/v1/projects", newKey());
        assert.equal(res.status, 401);
        assert.equal(reasonOf(res), "invalid_key");
      }
      assert.equal(files(), before, "no object was created for an unknown key");
      assert.equal((await get(gw, "/api/v1/projects", k.secret)).status, 200);
      assert.equal(files(), before + 1, "the known key's object exists (the count is not vacuous)");
    } finally {
      await gw.dispose();
      await origin.close();
    }
  });
});

// A KV namespace whose writes fail on demand (wrapped binding): `__fail_writes` = "1" in the
// inner namespace makes every put/delete throw, as a KV outage after D1 committed would.
const FAULTY_KV = `
export default function (env) {
  const real = env.REAL;
  const failing = async () => (await real.get("__fail_writes")) === "1";
  const write = (op) => async (...args) => {
    if (await failing()) throw new Error("injected KV write failure");
    return real[op](...args);
  };
  return {
    get: (...args) => real.get(...args),
    getWithMetadata: (...args) => real.getWithMetadata(...args),
    list: (...args) => real.list(...args),
    put: write("put"),
    delete: write("delete"),
  };
}`;

describe("writes whose projections fail say what was saved, and stay correct", () => {
  let origin;
  let gw;
  let inner;
  before(async () => {
    origin = await startOrigin();
    gw = await startGateway({
      originUrl: origin.url,
      withoutKv: true,
      miniflare: {
        wrappedBindings: { KEYS: { scriptName: "kv-faults" } },
        workers: [{ name: "kv-faults", modules: true, script: FAULTY_KV, kvNamespaces: ["REAL"] }],
      },
    });
    inner = await gw.mf.getKVNamespace("REAL", "kv-faults");
    await gw.admin.putMember(ORG, "u_admin", "admin");
  });
  after(async () => {
    await gw?.dispose();
    await origin?.close();
  });

  test("a revocation whose KV refresh fails is saved, says so, and applies to the next request", async () => {
    const k = await gw.admin.createKey(ORG, { actingUserId: "u_admin", name: "k", scope: "organization" });
    assert.equal((await get(gw, "/api/v1/projects", k.secret)).status, 200);
    await inner.put("__fail_writes", "1");
    try {
      const res = await gw.admin.call("POST", `/organizations/${ORG}/keys/${k.key.id}/revoke`, { actingUserId: "u_admin" });
      assert.equal(res.status, 200, res.text);
      assert.ok(res.body.key.revokedAt, "the answer shows the saved revocation");
      assert.deepEqual(res.body.pending, [{ keyId: k.key.id, projection: "kv" }], "and exactly what is behind");
      const after = await get(gw, "/api/v1/projects", k.secret);
      assert.equal(after.status, 401, "decided on the new state although KV still says live");
      assert.equal(reasonOf(after), "key_revoked");
    } finally {
      await inner.delete("__fail_writes");
    }
    const repaired = await gw.admin.call("POST", `/organizations/${ORG}/keys/${k.key.id}/sync`);
    assert.equal(repaired.status, 200, repaired.text);
    assert.equal(repaired.body.pending, undefined, "the sync call repairs it");
    assert.ok(JSON.parse(await inner.get(`key:${sha256Hex(k.secret)}`)).record.revokedAt);
  });

  test("a rotation whose projections fail still returns the new secret, and says the new key is pending", async () => {
    const k = await gw.admin.createKey(ORG, { actingUserId: "u_admin", name: "r", scope: "organization" });
    await inner.put("__fail_writes", "1");
    let rotated;
    try {
      const res = await gw.admin.call("POST", `/organizations/${ORG}/keys/${k.key.id}/rotate`, { actingUserId: "u_admin", gracePeriodSeconds: 0 });
      assert.equal(res.status, 201, res.text);
      rotated = res.body;
      assert.match(rotated.secret, /^ck_live_/, "the new secret is never lost");
      const pendingKeys = rotated.pending.map((p) => p.keyId).sort();
      assert.deepEqual(pendingKeys, [k.key.id, rotated.key.id].sort());
      const old = await get(gw, "/api/v1/projects", k.secret);
      assert.equal(old.status, 401, "the old key stopped: its object read D1");
      const fresh = await get(gw, "/api/v1/projects", rotated.secret);
      assert.equal(fresh.status, 401, "the new key is not at the edge yet: refused, never guessed");
      assert.equal(reasonOf(fresh), "invalid_key");
    } finally {
      await inner.delete("__fail_writes");
    }
    await gw.admin.ok("POST", `/organizations/${ORG}/keys/${rotated.key.id}/sync`);
    assert.equal((await get(gw, "/api/v1/projects", rotated.secret)).status, 200, "after the sync, the new key works");
  });

  test("a key-state object that cannot be reached: a revocation changes nothing and says so", async () => {
    const origin2 = await startOrigin();
    const gw2 = await startGateway({ originUrl: origin2.url, withoutKeyState: true });
    try {
      await gw2.admin.putMember(ORG, "u_admin", "admin");
      const k = await gw2.admin.createKey(ORG, { actingUserId: "u_admin", name: "k", scope: "organization" });
      const res = await gw2.admin.call("POST", `/organizations/${ORG}/keys/${k.key.id}/revoke`, { actingUserId: "u_admin" });
      assert.equal(res.status, 503);
      assert.match(res.body.message, /nothing was changed/);
      const shown = await gw2.admin.ok("GET", `/organizations/${ORG}/keys/${k.key.id}`);
      assert.equal(shown.revokedAt, null, "indeed nothing was written");
      assert.equal((await get(gw2, "/api/v1/projects", k.secret)).status, 503, "and the hot path fails closed");
    } finally {
      await gw2.dispose();
      await origin2.close();
    }
  });
});
