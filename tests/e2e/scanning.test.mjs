// GitHub's secret-scanning partner protocol against workerd, with a P-256 key pair made here:
// a signed report of a live key revokes it (next request 401 key_revoked), records an audit event
// with the leak's URL and source and sends a signed webhook; flag mode marks it and keeps it
// working; false positives and every refusal change nothing; 1,000 tokens are answered.
import assert from "node:assert/strict";
import { generateKeyPairSync, randomBytes, sign } from "node:crypto";
import { createRequire } from "node:module";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { catalogueProblems } from "./lib/events.mjs";
import { ROOT, rawRequest, sha256Hex, startGateway, startOrigin, startReceiver } from "./lib/gateway.mjs";

const ORG = "org_leak";
const PATH = "/secret-scanning/v1/github";
const TYPE = "keyscope_api_key";
const EVENTS_SECRET = `whsec_${randomBytes(16).toString("hex")}`;

const github = generateKeyPairSync("ec", { namedCurve: "P-256" });
const stranger = generateKeyPairSync("ec", { namedCurve: "P-256" });
const KEY_ID = "90a421169f0a406205f1563a953312f0be898d3c7b6c06b681aa86a874555f4a";
const KEY_SET = JSON.stringify({
  public_keys: [{ key_identifier: KEY_ID, key: github.publicKey.export({ type: "spki", format: "pem" }), is_current: true }],
});

const signed = (body, privateKey = github.privateKey) => sign("sha256", Buffer.from(body), privateKey).toString("base64");

/** POSTs a report the way GitHub does; `headers` overrides the signature headers. */
async function report(gw, body, { keyId = KEY_ID, signature = signed(body), send = body } = {}) {
  const headers = { "content-type": "application/json", "user-agent": "GitHub-Secret-Scanning/1.0" };
  if (keyId !== null) headers["github-public-key-identifier"] = keyId;
  if (signature !== null) headers["github-public-key-signature"] = signature;
  const res = await gw.mf.dispatchFetch(`http://keyscope.test${PATH}`, { method: "POST", headers, body: send });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

const leak = (token, n = 0) => ({ token, type: TYPE, url: `https://github.com/acme/app/blob/abc${n}/.env`, source: "content" });
const call = (gw, key) => rawRequest(gw.port, { method: "GET", path: "/api/v1/projects", headers: [["x-api-key", key]] });

/** The receiver's check the README shows: the npm package's `verifyWebhook`. */
const { verifyWebhook } = createRequire(import.meta.url)(join(ROOT, "npm", "js", "index.cjs"));
const verifyKeyscopeSignature = (header, body, secret) => {
  try {
    verifyWebhook(body, header, secret);
    return true;
  } catch (e) {
    if (e.name !== "WebhookError") throw e;
    return false;
  }
};

async function world(bindings = {}) {
  const origin = await startOrigin();
  const receiver = await startReceiver();
  const gw = await startGateway({
    originUrl: origin.url,
    bindings: { KEYSCOPE_GITHUB_KEYS: KEY_SET, KEYSCOPE_EVENTS_URL: receiver.url, KEYSCOPE_EVENTS_SECRET: EVENTS_SECRET, ...bindings },
  });
  await gw.admin.putMember(ORG, "u_admin", "admin");
  const newKey = async (name) =>
    (await gw.admin.createKey(ORG, { actingUserId: "u_admin", name, scope: "organization" }));
  const events = async (query = "") => (await gw.admin.ok("GET", `/organizations/${ORG}/audit-events${query}`)).events;
  return { origin, receiver, gw, newKey, events, close: async () => (await gw.dispose(), await origin.close(), await receiver.close()) };
}

describe("secret scanning: revoke (the default)", () => {
  let w;
  before(async () => {
    w = await world();
  });
  after(async () => w.close());

  test("a signed report of a live key revokes it at once, records it and tells the SaaS", async () => {
    const { key, secret } = await w.newKey("leaky");
    assert.equal((await call(w.gw, secret)).status, 200);
    const res = await report(w.gw, JSON.stringify([leak(secret, 1)]));
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, [{ token_hash: sha256Hex(secret), token_type: TYPE, label: "true_positive" }]);

    const next = await call(w.gw, secret);
    assert.equal(next.status, 401);
    const denial = JSON.parse(next.body);
    assert.equal(denial.reason, "key_revoked");
    assert.match(denial.message, /revoked/);

    const [event] = await w.events(`?keyId=${key.id}&action=key.revoked`);
    assert.equal(event.cause, "leak_report");
    assert.equal(event.actor, "scanner:github");
    assert.equal(event.keyHint, key.hint);
    assert.equal(event.source.leakUrl, "https://github.com/acme/app/blob/abc1/.env");
    assert.equal(event.source.leakSource, "content");
    assert.equal(event.details.tokenType, TYPE);
    assert.ok(!JSON.stringify(event).includes(secret.slice(8)), "the token is never stored");
    const view = await w.gw.admin.ok("GET", `/organizations/${ORG}/keys/${key.id}`);
    assert.equal(view.revokedAt, event.details.revokedAt);

    const hook = await w.receiver.waitFor((d) => JSON.parse(d.body).event?.id === event.id);
    assert.ok(hook, "the webhook reached the receiver");
    assert.equal(hook.method, "POST");
    const payload = JSON.parse(hook.body);
    assert.equal(payload.type, "key.revoked");
    assert.equal(payload.event.keyId, key.id);
    assert.equal(catalogueProblems(hook.body), null, "a key.revoked (leak_report) of the catalogue");
    assert.ok(verifyKeyscopeSignature(hook.headers["keyscope-signature"], hook.body, EVENTS_SECRET), "valid signature");
    assert.ok(!verifyKeyscopeSignature(hook.headers["keyscope-signature"], hook.body, "another-secret"));
    assert.ok(!verifyKeyscopeSignature(hook.headers["keyscope-signature"], hook.body + " ", EVENTS_SECRET));

    // Reported again: still ours, nothing changes.
    const again = await report(w.gw, JSON.stringify([leak(secret, 2), leak(secret, 3)]));
    assert.deepEqual(again.body.map((e) => e.label), ["true_positive", "true_positive"]);
    assert.equal((await w.events(`?keyId=${key.id}&action=key.revoked`)).length, 1, "repeated reports are harmless");
  });

  test("unknown and foreign tokens are false positives and change nothing", async () => {
    const { key, secret } = await w.newKey("bystander");
    const before_ = await w.events();
    // Well formed but unknown here (a vector's key), a test-environment key, and noise.
    // The last is the bystander's key with its final checksum character changed (never to itself).
    const altered = secret.slice(0, -1) + (secret.endsWith("x") ? "y" : "x");
    const tokens = ["ck_live_0Cz2TYfoijWDQLGWSQAxUtlEzk2JEB26ayHr", "ck_test_" + "A".repeat(36), "ghp_notours", altered];
    const res = await report(w.gw, JSON.stringify(tokens.map((t, i) => leak(t, i))));
    assert.equal(res.status, 200);
    assert.deepEqual(res.body.map((e) => e.label), tokens.map(() => "false_positive"));
    assert.deepEqual(res.body.map((e) => e.token_hash), tokens.map(sha256Hex), "hashes only, never the token");
    assert.ok(!JSON.stringify(res.body).includes("ghp_notours"));
    assert.deepEqual(await w.events(), before_, "no event");
    assert.equal((await call(w.gw, secret)).status, 200, "a bystander key keeps working");
    assert.equal((await w.gw.admin.ok("GET", `/organizations/${ORG}/keys/${key.id}`)).revokedAt, null);
  });

  test("a bad, missing or misdirected signature, an unknown key id or a truncated body: 4xx, nothing changed", async () => {
    const { key, secret } = await w.newKey("target");
    const body = JSON.stringify([leak(secret)]);
    const other = JSON.stringify([leak(secret, 9)]);
    const before_ = await w.events();
    const cases = [
      ["signed by another key", { signature: signed(body, stranger.privateKey) }, 401, "bad_signature"],
      ["a signature over another body", { signature: signed(other) }, 401, "bad_signature"],
      ["an unknown key identifier", { keyId: "not-a-github-key" }, 401, "unknown_key_identifier"],
      ["no signature", { signature: null }, 401, "missing_signature"],
      ["no key identifier", { keyId: null }, 401, "missing_signature"],
      ["a signature that is not base64", { signature: "%%%" }, 401, "malformed_signature"],
      ["a signature that is not DER", { signature: Buffer.from("not der").toString("base64") }, 401, "malformed_signature"],
      ["a truncated body", { send: body.slice(0, -5) }, 401, "bad_signature"],
      ["a truncated body, signed as sent", { send: body.slice(0, -5), signature: signed(body.slice(0, -5)) }, 400, "invalid_request"],
      ["an empty report", { send: "[]", signature: signed("[]") }, 400, "invalid_request"],
    ];
    for (const [what, options, status, reason] of cases) {
      const res = await report(w.gw, body, options);
      assert.equal(res.status, status, what);
      assert.equal(res.body.reason, reason, what);
      assert.equal(typeof res.body.message, "string", what);
    }
    const huge = JSON.stringify([{ ...leak(secret), url: "x".repeat(1 << 20) }]);
    const tooBig = await report(w.gw, huge);
    assert.equal(tooBig.status, 413);
    assert.equal(tooBig.body.reason, "payload_too_large");
    const get = await w.gw.mf.dispatchFetch(`http://keyscope.test${PATH}`);
    assert.equal(get.status, 405);
    assert.equal(get.headers.get("allow"), "POST");
    assert.equal((await get.json()).reason, "method_not_allowed");

    assert.deepEqual(await w.events(), before_, "no event");
    assert.equal((await call(w.gw, secret)).status, 200, "the key still works");
    assert.equal((await w.gw.admin.ok("GET", `/organizations/${ORG}/keys/${key.id}`)).revokedAt, null);
  });

  test("a report of 1,000 tokens is answered; 1,001 is refused", async () => {
    const { secret } = await w.newKey("one-of-many");
    const tokens = Array.from({ length: 999 }, (_, i) => leak(`ghp_${randomBytes(18).toString("hex")}`, i));
    tokens.splice(500, 0, leak(secret, 500));
    const res = await report(w.gw, JSON.stringify(tokens));
    assert.equal(res.status, 200);
    assert.equal(res.body.length, 1000);
    assert.equal(res.body.filter((e) => e.label === "true_positive").length, 1);
    assert.equal(res.body[500].label, "true_positive");
    assert.equal((await call(w.gw, secret)).status, 401);
    const more = await report(w.gw, JSON.stringify([...tokens, leak("ghp_x")]));
    assert.equal(more.status, 413);
  });
});

describe("secret scanning: flag mode (KEYSCOPE_ON_LEAK=flag)", () => {
  let w;
  before(async () => {
    w = await world({ KEYSCOPE_ON_LEAK: "flag" });
  });
  after(async () => w.close());

  test("the key keeps working, is marked leaked in the key view, once", async () => {
    const { key, secret } = await w.newKey("flagged");
    assert.equal((await w.gw.admin.ok("GET", `/organizations/${ORG}/keys/${key.id}`)).leakedAt, undefined);
    const res = await report(w.gw, JSON.stringify([leak(secret)]));
    assert.deepEqual(res.body.map((e) => e.label), ["true_positive"]);
    assert.equal((await call(w.gw, secret)).status, 200, "still works");
    const view = await w.gw.admin.ok("GET", `/organizations/${ORG}/keys/${key.id}`);
    assert.match(view.leakedAt, /^\d{4}-\d\d-\d\dT/);
    assert.equal(view.revokedAt, null);
    const listed = (await w.gw.admin.listKeys(ORG)).keys.find((k) => k.id === key.id);
    assert.equal(listed.leakedAt, view.leakedAt);
    const [event] = await w.events(`?keyId=${key.id}&action=key.leak_flagged`);
    assert.equal(event.actor, "scanner:github");
    assert.equal(event.details.leakedAt, view.leakedAt);
    assert.equal(event.source.leakUrl, leak(secret).url);
    const hook = await w.receiver.waitFor((d) => JSON.parse(d.body).event?.id === event.id);
    assert.ok(hook);
    assert.equal(catalogueProblems(hook.body), null, "a key.leak_flagged of the catalogue");

    await report(w.gw, JSON.stringify([leak(secret, 7)]));
    assert.equal((await w.gw.admin.ok("GET", `/organizations/${ORG}/keys/${key.id}`)).leakedAt, view.leakedAt, "first report kept");
    assert.equal((await w.events(`?keyId=${key.id}&action=key.leak_flagged`)).length, 1);
  });
});

describe("secret scanning: configuration", () => {
  test("without KEYSCOPE_GITHUB_KEYS the endpoint is absent: 404 not_found, not an outage", async () => {
    for (const bindings of [{}, { KEYSCOPE_ON_LEAK: "flag" }, { KEYSCOPE_GITHUB_KEYS: "  " }]) {
      const gw = await startGateway({ bindings });
      try {
        const res = await report(gw, JSON.stringify([leak("ghp_x")]));
        assert.equal(res.status, 404, JSON.stringify(bindings));
        assert.equal(res.body.reason, "not_found");
      } finally {
        await gw.dispose();
      }
    }
  });

  test("a key set or KEYSCOPE_ON_LEAK that does not parse: 503 unavailable (configured, but broken)", async () => {
    for (const bindings of [{ KEYSCOPE_GITHUB_KEYS: KEY_SET, KEYSCOPE_ON_LEAK: "delete" }, { KEYSCOPE_GITHUB_KEYS: "{}" }]) {
      const gw = await startGateway({ bindings });
      try {
        const res = await report(gw, JSON.stringify([leak("ghp_x")]));
        assert.equal(res.status, 503, JSON.stringify(bindings));
        assert.equal(res.body.reason, "unavailable");
      } finally {
        await gw.dispose();
      }
    }
  });
});
