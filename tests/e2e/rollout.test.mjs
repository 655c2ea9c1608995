// Stored data survives a gradual deployment and a rollback: what a newer version writes (a field
// of the KV projection, a column of a D1 row, an audit event of a kind this version does not
// know) is read as far as it is understood, through the real stores on workerd.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { rawRequest, sha256Hex, startGateway, startOrigin } from "./lib/gateway.mjs";
import { newKey } from "./lib/keys.mjs";

const ORG = "org_rollout";
let counter = 0;
async function addKey(admin) {
  const secret = newKey();
  const id = `key_rollout_${++counter}`;
  await admin.importKeys(ORG, [
    { id, keyHash: sha256Hex(secret), hint: secret.slice(-4), name: id, createdBy: "u_admin", scope: "organization" },
  ]);
  return { secret, id };
}
const get = (port, secret) => rawRequest(port, { method: "GET", path: "/api/v1/projects", headers: [["x-api-key", secret]] });

for (const store of ["strict", "d1"]) {
  describe(`a newer version's stored fields (KEYSCOPE_STORE = ${store})`, () => {
    let origin;
    let gw;
    before(async () => {
      origin = await startOrigin();
      gw = await startGateway({ originUrl: origin.url, bindings: { KEYSCOPE_STORE: store } });
      await gw.admin.putMember(ORG, "u_admin", "admin");
    });
    after(async () => {
      await gw?.dispose();
      await origin?.close();
    });

    test("a KV projection with fields this version does not know still decides", async () => {
      const { secret } = await addKey(gw.admin);
      const kv = await gw.mf.getKVNamespace("KEYS");
      const name = `key:${sha256Hex(secret)}`;
      const entry = JSON.parse(await kv.get(name));
      entry.version = 2;
      entry.record.labels = { team: "web" };
      await kv.put(name, JSON.stringify(entry));
      const res = await get(gw.port, secret);
      assert.equal(res.status, 200, res.body);
    });

    test("a D1 key row with a column this version does not know still decides", async () => {
      const db = await gw.mf.getD1Database("DB");
      await db.exec("ALTER TABLE api_keys ADD COLUMN labels TEXT DEFAULT '{\"team\":\"web\"}'");
      try {
        const { secret } = await addKey(gw.admin);
        assert.equal((await get(gw.port, secret)).status, 200);
        const listed = await gw.admin.ok("GET", `/organizations/${ORG}/keys`);
        assert.ok(listed.keys.length >= 1);
      } finally {
        await db.exec("ALTER TABLE api_keys DROP COLUMN labels");
      }
    });
  });
}

describe("an audit page holding an event a newer version wrote", () => {
  let gw;
  before(async () => {
    gw = await startGateway({});
    await gw.admin.putMember(ORG, "u_admin", "admin");
  });
  after(() => gw?.dispose());

  test("still reads: the event is left out, the cursor moves past it", async () => {
    await addKey(gw.admin);
    const db = await gw.mf.getD1Database("DB");
    const time = Date.now() + 60_000; // newest, so it is the first row of the first page
    const body = JSON.stringify({
      id: "evt_newer", organizationId: ORG, action: "key.paused", actor: "robot:scheduler", time,
      keyId: null, keyHint: null, userId: null, source: {}, details: {}, region: "eu",
    });
    await db
      .prepare("INSERT INTO audit_events (id, organization_id, time, action, actor, key_id, body) VALUES (?1, ?2, ?3, ?4, ?5, NULL, ?6)")
      .bind("evt_newer", ORG, time, "key.paused", "robot:scheduler", body)
      .run();
    const all = await gw.admin.ok("GET", `/organizations/${ORG}/audit-events`);
    assert.ok(all.events.length >= 2, JSON.stringify(all));
    assert.ok(!all.events.some((e) => e.id === "evt_newer"));
    // A page of one whose only row is the newer event: empty, with a cursor past it.
    const first = await gw.admin.ok("GET", `/organizations/${ORG}/audit-events?limit=1`);
    assert.deepEqual(first.events, []);
    assert.ok(first.nextCursor);
    const second = await gw.admin.ok("GET", `/organizations/${ORG}/audit-events?limit=1&cursor=${encodeURIComponent(first.nextCursor)}`);
    assert.equal(second.events.length, 1);
    assert.equal(second.events[0].id, all.events[0].id);
  });
});
