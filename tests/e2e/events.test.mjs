// Key events that are never lost, against workerd with Cloudflare Queues (Miniflare): each
// change writes its deliveries to D1's outbox in its own batch, the worker enqueues them, and its
// queue consumer delivers them. A receiver that fails on demand: down for a while then up
// (everything delivered, in order per key, every try of an event under one id), always failing
// (dead-lettered after the schedule, recorded in the audit log), too slow (the try times out),
// answering Retry-After (the next try waits for it), and a runtime restart between enqueue and
// delivery (the sweeper finds the delivery again); notices go out once each. A refused change
// delivers nothing. Waits poll with a bound; no sleeps.
import assert from "node:assert/strict";
import http from "node:http";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { createRequire } from "node:module";
import { join } from "node:path";
import { ROOT, startGateway, waitFor } from "./lib/gateway.mjs";
import { catalogueProblems } from "./lib/events.mjs";

const { verifyWebhook } = createRequire(import.meta.url)(join(ROOT, "npm", "js", "index.cjs"));
const SECRET = `whsec_${randomBytes(16).toString("hex")}`;

/** A receiver whose answer the test sets: `status`, and `retryAfter` seconds on failures. */
async function startFlakyReceiver() {
  const tries = [];
  let status = 200;
  let retryAfter;
  let stallMs = 0;
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString();
      const answered = status;
      const stalled = stallMs;
      tries.push({ at: Date.now(), id: req.headers["keyscope-event-id"], signature: req.headers["keyscope-signature"], body, status: stalled ? "stalled" : answered });
      const headers = answered >= 300 && retryAfter !== undefined ? { "retry-after": String(retryAfter) } : {};
      setTimeout(() => {
        if (res.destroyed) return;
        res.writeHead(answered, headers);
        res.end();
      }, stalled);
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}/hooks`,
    tries,
    set: (s, after) => ((status = s), (retryAfter = after)),
    /** Answers only after `ms` from now on (0: at once). */
    stall: (ms) => (stallMs = ms),
    delivered: () => tries.filter((t) => typeof t.status === "number" && t.status < 300),
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

async function world(org, bindings = {}) {
  const receiver = await startFlakyReceiver();
  const gw = await startGateway({ bindings: { KEYSCOPE_EVENTS_URL: receiver.url, KEYSCOPE_EVENTS_SECRET: SECRET, ...bindings } });
  await gw.admin.putMember(org, "u_admin", "admin");
  const outbox = async (id) => (await gw.db.prepare("SELECT * FROM event_outbox WHERE event_id = ?1").bind(id).first()) ?? null;
  const logged = async (query = "limit=100") => (await gw.admin.ok("GET", `/organizations/${org}/audit-events?${query}`)).events;
  return { receiver, gw, outbox, logged, close: async () => (await gw.dispose(), await receiver.close()) };
}

describe("event delivery through a queue", () => {
  test("a receiver down for a while: everything is delivered once it is up, in order per key, one id per event", async () => {
    const w = await world("org_down", { KEYSCOPE_EVENTS_RETRY: "1,1,1,1,1,1,1,1,1,1" });
    try {
      w.receiver.set(503);
      const { key } = await w.gw.admin.createKey("org_down", { actingUserId: "u_admin", name: "one", scope: "organization" });
      await w.gw.admin.ok("POST", `/organizations/org_down/keys/${key.id}/revoke`, { actingUserId: "u_admin" });
      const events = (await w.logged()).reverse(); // oldest first
      const [created] = await w.logged("action=key.created&limit=1");
      // Tried, and tried again, while the receiver is down; the key's later event waits for it.
      await waitFor(() => w.receiver.tries.filter((t) => t.id === created.id).length >= 2, "key.created tried twice while the receiver is down");
      assert.equal(w.receiver.delivered().filter((t) => JSON.parse(t.body).event.keyId === key.id).length, 0);
      w.receiver.set(200);
      await waitFor(
        () => events.every((e) => w.receiver.delivered().some((t) => t.id === e.id)),
        "every event delivered once the receiver is up",
      );
      for (const e of events) {
        assert.equal((await w.outbox(e.id)).state, "delivered", e.action);
        assert.equal(w.receiver.delivered().filter((t) => t.id === e.id).length, 1, `${e.action} delivered once`);
      }
      for (const t of w.receiver.tries) {
        const delivery = verifyWebhook(t.body, t.signature, SECRET);
        assert.equal(delivery.event.id, t.id, "Keyscope-Event-Id is the event's id on every try");
        assert.equal(catalogueProblems(t.body), null);
      }
      const ofKey = w.receiver.delivered().filter((t) => JSON.parse(t.body).event.keyId === key.id).map((t) => JSON.parse(t.body).type);
      assert.deepEqual(ofKey, ["key.created", "key.revoked"], "in order per key");
    } finally {
      await w.close();
    }
  });

  test("a receiver that always fails: dead-lettered after the schedule, recorded in the audit log", async () => {
    const w = await world("org_dead", { KEYSCOPE_EVENTS_RETRY: "1,1" });
    try {
      w.receiver.set(500);
      await w.gw.admin.ok("PUT", "/organizations/org_dead/members/u_gone", { role: "member" });
      const [added] = await w.logged("action=member.added&limit=1");
      await waitFor(async () => (await w.outbox(added.id))?.state === "dead", "the delivery is dead");
      const row = await w.outbox(added.id);
      assert.equal(row.attempts, 3, "tried once, then after each of the two pauses");
      assert.equal(row.last_status, 500);
      assert.equal(w.receiver.tries.filter((t) => t.id === added.id).length, 3);
      const [failed] = await w.logged("action=event.delivery_failed");
      assert.ok(failed, "event.delivery_failed is in the audit log");
      assert.equal(failed.actor, "system");
      assert.deepEqual([failed.details.eventId, failed.details.eventType, failed.details.attempts, failed.details.lastStatus], [added.id, "member.added", 3, 500]);
      assert.equal(await w.outbox(failed.id), null, "a delivery failure is not delivered itself");
    } finally {
      await w.close();
    }
  });

  test("a receiver too slow to answer: the try times out and the next one delivers", { timeout: 120_000 }, async () => {
    const w = await world("org_slow", { KEYSCOPE_EVENTS_RETRY: "1,1,1" });
    try {
      w.receiver.stall(60_000); // far past the worker's 10-second wait
      await w.gw.admin.ok("PUT", "/organizations/org_slow/members/u_s", { role: "member" });
      const [added] = await w.logged("action=member.added&limit=1");
      await waitFor(() => w.receiver.tries.some((t) => t.id === added.id), "the first try reached the receiver");
      w.receiver.stall(0);
      await waitFor(async () => (await w.outbox(added.id))?.state === "delivered", "delivered on a later try", { timeoutMs: 60_000 });
      const row = await w.outbox(added.id);
      assert.equal(row.attempts, 2, "the stalled try counted as one failed try");
      assert.equal(w.receiver.delivered().filter((t) => t.id === added.id).length, 1);
    } finally {
      await w.close();
    }
  });

  test("Retry-After: the next try waits at least as long as the receiver asked", async () => {
    const w = await world("org_later", { KEYSCOPE_EVENTS_RETRY: "1,1,1" });
    try {
      w.receiver.set(429, 3);
      await w.gw.admin.ok("PUT", "/organizations/org_later/members/u_x", { role: "member" });
      const [added] = await w.logged("action=member.added&limit=1");
      await waitFor(() => w.receiver.tries.some((t) => t.id === added.id), "first try");
      w.receiver.set(200);
      await waitFor(() => w.receiver.delivered().some((t) => t.id === added.id), "delivered after the pause asked for", { timeoutMs: 30_000 });
      const [first, second] = w.receiver.tries.filter((t) => t.id === added.id);
      assert.ok(second.at - first.at >= 2_900, `the second try came ${second.at - first.at} ms after the first; Retry-After asked for 3 s`);
      const row = await w.outbox(added.id);
      assert.equal(row.state, "delivered");
      assert.equal(row.attempts, 2);
    } finally {
      await w.close();
    }
  });

  test("a restart between enqueue and delivery loses nothing: the sweeper enqueues the delivery again", async () => {
    const w = await world("org_restart", { KEYSCOPE_EVENTS_RETRY: "600" });
    try {
      // The first try fails and the next is 10 minutes away: the message waits in the queue.
      w.receiver.set(503);
      await w.gw.admin.ok("PUT", "/organizations/org_restart/members/u_r", { role: "member" });
      const [added] = await w.logged("action=member.added&limit=1");
      await waitFor(async () => (await w.outbox(added.id))?.attempts === 1, "first try recorded");
      await w.gw.restart();
      w.receiver.set(200);
      // The sweeper takes deliveries untouched and not due for a minute: make this one so.
      await w.gw.db.prepare("UPDATE event_outbox SET updated_at = updated_at - 700000, next_attempt_at = next_attempt_at - 700000 WHERE event_id = ?1").bind(added.id).run();
      await w.gw.sweep();
      await waitFor(async () => (await w.outbox(added.id))?.state === "delivered", "delivered after the restart");
      assert.equal(w.receiver.delivered().filter((t) => t.id === added.id).length, 1);
    } finally {
      await w.close();
    }
  });

  test("notices: key.expiring 7 days and 1 day before, key.rotation_grace_ending, each once", async () => {
    const w = await world("org_notice");
    try {
      const iso = (ms) => new Date(Date.now() + ms).toISOString();
      const day = 86_400_000;
      const create = async (name, expiresAt) =>
        (await w.gw.admin.createKey("org_notice", { actingUserId: "u_admin", name, scope: "organization", expiresAt })).key;
      const week = await create("expires in six days", iso(6 * day));
      const soon = await create("expires in twelve hours", iso(day / 2));
      const later = await create("expires in a month", iso(30 * day));
      const old = await create("rotated", undefined);
      await w.gw.admin.ok("POST", `/organizations/org_notice/keys/${old.id}/rotate`, { actingUserId: "u_admin", gracePeriodSeconds: 600 });
      await w.gw.sweep();
      await w.gw.sweep(); // a second sweep sends nothing new
      const notices = async () => (await w.logged("limit=100")).filter((e) => e.actor === "system");
      const seen = (await notices()).map((e) => [e.action, e.keyId, e.details.within]).sort();
      assert.deepEqual(seen, [
        ["key.expiring", soon.id, "1d"],
        ["key.expiring", week.id, "7d"],
        ["key.rotation_grace_ending", old.id, "1h"],
      ].sort());
      assert.ok(!seen.some(([, id]) => id === later.id), "a month away: no notice yet");
      const all = await notices();
      await waitFor(() => all.every((e) => w.receiver.delivered().some((t) => t.id === e.id)), "the notices delivered");
      for (const t of w.receiver.delivered()) assert.equal(catalogueProblems(t.body), null, t.body);
      const expiring = all.find((e) => e.keyId === week.id);
      assert.equal(expiring.details.expiresAt, week.expiresAt);
    } finally {
      await w.close();
    }
  });

  test("settled deliveries are forgotten after 30 days; pending ones and the audit log stay", async () => {
    const w = await world("org_prune", { KEYSCOPE_EVENTS_RETRY: "600" });
    try {
      await w.gw.admin.ok("PUT", "/organizations/org_prune/members/u_old", { role: "member" });
      const [old] = await w.logged("action=member.added&limit=1");
      await waitFor(async () => (await w.outbox(old.id))?.state === "delivered", "delivered");
      w.receiver.set(503);
      await w.gw.admin.ok("PUT", "/organizations/org_prune/members/u_waiting", { role: "member" });
      const [waiting] = await w.logged("action=member.added&limit=1");
      await waitFor(async () => (await w.outbox(waiting.id))?.attempts === 1, "the second one is pending");
      // Both rows 31 days old, as if settled (or last tried) then.
      await w.gw.db.prepare("UPDATE event_outbox SET updated_at = updated_at - 2678400000").run();
      await w.gw.sweep();
      assert.equal(await w.outbox(old.id), null, "the settled delivery is forgotten");
      assert.equal((await w.outbox(waiting.id)).state, "pending", "a pending one stays");
      assert.ok((await w.logged("limit=100")).some((e) => e.id === old.id), "its event stays in the audit log");
    } finally {
      await w.close();
    }
  });

  test("a refused change delivers nothing; a change always has its delivery", async () => {
    const w = await world("org_refused");
    try {
      const res = await w.gw.admin.call("PUT", "/organizations/org_refused/members/u_y", { role: "wizard" });
      assert.equal(res.status, 400);
      const { n } = await w.gw.db.prepare("SELECT count(*) AS n FROM event_outbox").first();
      const events = await w.logged();
      assert.equal(n, events.length, "one delivery per logged event, none for the refused change");
      await waitFor(() => events.every((e) => w.receiver.delivered().some((t) => t.id === e.id)), "the committed changes' events delivered");
    } finally {
      await w.close();
    }
  });
});
