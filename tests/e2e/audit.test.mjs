// The audit log over HTTP against workerd: every admin mutation records its event (actor, time,
// key id and hint or member, source IP and user agent) in the change's own batch; a mutation that
// fails records nothing; the listing filters by key, actor, action and time and pages with a
// cursor; events reach the webhook receiver signed, and a failing receiver never fails a call.
import assert from "node:assert/strict";
import { createHmac, randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { catalogueProblems } from "./lib/events.mjs";
import { sha256Hex, startGateway, startReceiver, waitFor } from "./lib/gateway.mjs";

const ORG = "org_audit";
const IP = "203.0.113.7";
const UA = "audit-test/1.0";
const EVENTS_SECRET = `whsec_${randomBytes(16).toString("hex")}`;
const CLIENT = { "cf-connecting-ip": IP, "user-agent": UA };

describe("audit log", () => {
  let gw;
  let receiver;
  const call = (method, path, body) => gw.admin.call(method, path, body, { headers: CLIENT });
  const ok = async (method, path, body) => {
    const res = await call(method, path, body);
    assert.ok(res.status < 300, `${method} ${path}: ${res.status} ${res.text}`);
    return res.body;
  };
  const events = async (query = "") => (await gw.admin.ok("GET", `/organizations/${ORG}/audit-events${query}`)).events;
  const all = async () => {
    const out = [];
    let cursor = "";
    for (;;) {
      const page = await gw.admin.ok("GET", `/organizations/${ORG}/audit-events?limit=100${cursor}`);
      out.push(...page.events);
      if (!page.nextCursor) return out;
      cursor = `&cursor=${page.nextCursor}`;
    }
  };
  /** Runs `fn` (a failing mutation) and asserts the log did not change. */
  const leavesNoEvent = async (what, fn) => {
    const before_ = await all();
    await fn();
    assert.deepEqual(await all(), before_, `${what} left an event`);
  };
  const sourceOk = (event) => {
    assert.equal(event.source.ip, IP);
    assert.equal(event.source.userAgent, UA);
    assert.match(event.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.match(event.id, /^evt_[0-9a-f]{24}$/);
    assert.equal(event.organizationId, ORG);
    assert.equal(event.details.via, "admin_api");
  };

  before(async () => {
    receiver = await startReceiver();
    gw = await startGateway({ clock: true, bindings: { KEYSCOPE_EVENTS_URL: receiver.url, KEYSCOPE_EVENTS_SECRET: EVENTS_SECRET } });
  });
  after(async () => {
    await gw.dispose();
    await receiver.close();
  });

  test("members: added, role changed, removed — by the service token; no-ops and failures record nothing", async () => {
    await ok("PUT", `/organizations/${ORG}/members/u_admin`, { role: "admin" });
    await ok("PUT", `/organizations/${ORG}/members/u_eng`, { role: "member" });
    const [added] = await events("?action=member.added&limit=1");
    assert.equal(added.userId, "u_eng");
    assert.equal(added.actor, "service_token");
    assert.equal(added.details.role, "member");
    assert.equal(added.keyId, null);
    sourceOk(added);

    await ok("PUT", `/organizations/${ORG}/members/u_eng`, { role: "engineer" });
    const [changed] = await events("?action=member.role_changed");
    assert.deepEqual([changed.userId, changed.details.previousRole, changed.details.role], ["u_eng", "member", "engineer"]);
    sourceOk(changed);

    await leavesNoEvent("an unchanged role", () => ok("PUT", `/organizations/${ORG}/members/u_eng`, { role: "engineer" }));
    await leavesNoEvent("an unknown role", async () =>
      assert.equal((await call("PUT", `/organizations/${ORG}/members/u_x`, { role: "wizard" })).status, 400));

    await ok("PUT", `/organizations/${ORG}/members/u_temp`, { role: "member" });
    assert.equal((await call("DELETE", `/organizations/${ORG}/members/u_temp`)).status, 204);
    const [removed] = await events("?action=member.removed");
    assert.deepEqual([removed.userId, removed.actor, removed.details.previousRole], ["u_temp", "service_token", "member"]);
    sourceOk(removed);
    await leavesNoEvent("removing a non-member", async () =>
      assert.equal((await call("DELETE", `/organizations/${ORG}/members/u_temp`)).status, 404));
  });

  test("keys: created, revoked, rotated, imported — with the acting user, key id and hint", async () => {
    const created = await ok("POST", `/organizations/${ORG}/keys`, { actingUserId: "u_eng", name: "CI", scope: "project", scopedProjectId: "p1" });
    const [c] = await events(`?keyId=${created.key.id}`);
    assert.deepEqual([c.action, c.actor, c.keyId, c.keyHint, c.details.name], ["key.created", "user:u_eng", created.key.id, created.key.hint, "CI"]);
    sourceOk(c);
    assert.ok(!JSON.stringify(await all()).includes(created.secret.slice(8)), "no secret in the log");
    await leavesNoEvent("a refused creation", async () =>
      assert.equal((await call("POST", `/organizations/${ORG}/keys`, { actingUserId: "u_nobody", name: "x", scope: "organization" })).status, 403));

    await leavesNoEvent("a revocation by someone else", async () =>
      assert.equal((await call("POST", `/organizations/${ORG}/keys/${created.key.id}/revoke`, { actingUserId: "u_nobody" })).status, 403));
    const revoked = await ok("POST", `/organizations/${ORG}/keys/${created.key.id}/revoke`, { actingUserId: "u_admin" });
    const [r] = await events(`?keyId=${created.key.id}&action=key.revoked`);
    assert.deepEqual([r.cause, r.actor, r.keyHint, r.details.revokedAt], ["user", "user:u_admin", created.key.hint, revoked.key.revokedAt]);
    sourceOk(r);
    await leavesNoEvent("revoking a revoked key", () => ok("POST", `/organizations/${ORG}/keys/${created.key.id}/revoke`, { actingUserId: "u_admin" }));
    await leavesNoEvent("rotating a revoked key", async () =>
      assert.equal((await call("POST", `/organizations/${ORG}/keys/${created.key.id}/rotate`, { actingUserId: "u_admin" })).status, 409));

    const old = await ok("POST", `/organizations/${ORG}/keys`, { actingUserId: "u_eng", name: "deploy", scope: "project", scopedProjectId: "p1" });
    const rotated = await ok("POST", `/organizations/${ORG}/keys/${old.key.id}/rotate`, { actingUserId: "u_eng", gracePeriodSeconds: 60 });
    const ofOld = await events(`?keyId=${old.key.id}`);
    const rot = ofOld.find((e) => e.action === "key.rotated");
    assert.deepEqual([rot.actor, rot.details.newKeyId, rot.details.gracePeriodSeconds], ["user:u_eng", rotated.key.id, 60]);
    const grace = ofOld.find((e) => e.action === "key.revoked");
    assert.deepEqual([grace.cause, grace.details.revokedAt, grace.details.rotatedTo], ["rotation_grace_ended", rotated.previous.revokedAt, rotated.key.id]);
    const [born] = await events(`?keyId=${rotated.key.id}`);
    assert.deepEqual([born.action, born.details.rotatedFrom, born.keyHint], ["key.created", old.key.id, rotated.key.hint]);
    sourceOk(rot);

    const secret = "ck_live_0Cz2TYfoijWDQLGWSQAxUtlEzk2JEB26ayHr";
    const imported = await ok("POST", `/organizations/${ORG}/keys/import`, {
      keys: [{ id: "key_imp1", keyHash: sha256Hex(secret), hint: secret.slice(-4), name: "old", createdBy: "u_eng", scope: "organization" }],
    });
    const [imp] = await events("?keyId=key_imp1");
    assert.deepEqual([imp.action, imp.actor, imp.keyHint, imp.details.createdBy], ["key.imported", "service_token", imported.keys[0].hint, "u_eng"]);
    sourceOk(imp);
    await leavesNoEvent("an import of an existing hash", async () =>
      assert.equal((await call("POST", `/organizations/${ORG}/keys/import`, {
        keys: [
          { id: "key_imp2", keyHash: sha256Hex("other"), hint: "abcd", name: "a", createdBy: "u_eng", scope: "organization" },
          { id: "key_imp3", keyHash: sha256Hex(secret), hint: "abcd", name: "b", createdBy: "u_eng", scope: "organization" },
        ],
      })).status, 409));
  });

  test("filters by actor, action and time; pages with a cursor; refuses bad parameters", async () => {
    const everything = await all();
    assert.ok(everything.length >= 10);
    for (let i = 1; i < everything.length; i++) {
      const [a, b] = [everything[i - 1], everything[i]];
      assert.ok(a.time > b.time || (a.time === b.time && a.id > b.id), "newest first, by (time, id)");
    }
    const paged = [];
    let cursor = "";
    for (;;) {
      const page = await gw.admin.ok("GET", `/organizations/${ORG}/audit-events?limit=3${cursor}`);
      assert.ok(page.events.length <= 3);
      paged.push(...page.events);
      if (!page.nextCursor) break;
      cursor = `&cursor=${page.nextCursor}`;
    }
    assert.deepEqual(paged, everything, "pages join into the whole log, once each");

    assert.ok((await events("?actor=service_token")).every((e) => e.actor === "service_token"));
    const byEng = await events("?actor=user:u_eng");
    assert.ok(byEng.length >= 3 && byEng.every((e) => e.actor === "user:u_eng"));
    assert.ok((await events("?action=key.created")).every((e) => e.action === "key.created"));
    const middle = everything[Math.floor(everything.length / 2)].time;
    const since = await events(`?since=${middle}`);
    const until = await events(`?until=${middle}`);
    assert.ok(since.every((e) => e.time >= middle) && until.every((e) => e.time < middle));
    assert.equal(since.length + until.length, everything.length);
    assert.deepEqual(await events("?keyId=key_none"), []);
    assert.deepEqual((await gw.admin.ok("GET", "/organizations/org_other/audit-events")).events, [], "per organization");

    for (const bad of ["limit=0", "limit=101", "action=key.deleted", "actor=root", "cursor=bogus", "since=yesterday", "page=2"]) {
      const res = await gw.admin.call("GET", `/organizations/${ORG}/audit-events?${bad}`);
      assert.equal(res.status, 400, bad);
      assert.equal(res.body.reason, "invalid_request", bad);
    }
    assert.equal((await gw.admin.call("GET", `/organizations/${ORG}/audit-events`, undefined, { token: "wrong" })).status, 401);
    assert.equal((await gw.admin.call("POST", `/organizations/${ORG}/audit-events`)).status, 405);
  });

  test("events reach the webhook receiver signed; a failing receiver never fails the call", async () => {
    // Recorded and signed while the worker's clock stands still at `at`: both times are exact.
    const at = await gw.clock.freeze();
    let latest;
    let hook;
    try {
      await ok("PUT", `/organizations/${ORG}/members/u_signed`, { role: "member" });
      [latest] = await events("?limit=1");
      assert.equal(latest.time, new Date(at).toISOString(), "recorded at the worker's time");
      hook = await receiver.waitFor((d) => JSON.parse(d.body).event.id === latest.id);
    } finally {
      await gw.clock.release();
    }
    assert.ok(hook, "delivered");
    const { t, v1 } = Object.fromEntries(hook.headers["keyscope-signature"].split(",").map((p) => p.split("=")));
    assert.equal(createHmac("sha256", EVENTS_SECRET).update(`${t}.${hook.body}`).digest("hex"), v1);
    assert.equal(Number(t), Math.floor(at / 1000), "signed at the worker's time (Unix seconds)");
    assert.equal(JSON.parse(hook.body).type, latest.action);

    receiver.setStatus(500);
    const res = await call("PUT", `/organizations/${ORG}/members/u_late`, { role: "member" });
    assert.equal(res.status, 200, "the call succeeds whatever the receiver says");
    const [ev] = await events("?action=member.added&limit=1");
    const tries = await receiver.waitFor((d) => JSON.parse(d.body).event.id === ev.id);
    assert.ok(tries, "tried");
    const deliveries = () => receiver.received.filter((d) => JSON.parse(d.body).event.id === ev.id).length;
    await waitFor(() => deliveries() >= 2, "a second delivery after the receiver's 500");
    assert.ok(deliveries() >= 2, "retried after a failure");
    receiver.setStatus(200);
  });

  test("every delivery is an event of the catalogue (docs/events.schema.json)", async () => {
    // Each event of the log reaches the receiver; the deliveries cover every type the tests made.
    // A delivery failure is recorded, never delivered itself.
    const logged = (await all()).filter((e) => e.action !== "event.delivery_failed");
    await waitFor(() => logged.every((e) => receiver.received.some((d) => JSON.parse(d.body).event.id === e.id)), "every logged event delivered");
    for (const d of receiver.received) assert.equal(catalogueProblems(d.body), null, d.body);
    const types = new Set(receiver.received.map((d) => {
      const { type, event } = JSON.parse(d.body);
      return event.cause ? `${type}:${event.cause}` : type;
    }));
    for (const type of ["key.created", "key.rotated", "key.revoked:user", "key.revoked:rotation_grace_ended", "key.imported", "member.added", "member.role_changed", "member.removed"]) {
      assert.ok(types.has(type), `a ${type} delivery was checked (seen: ${[...types].join(", ")})`);
    }
  });
});
