// The receiver's side of event webhooks, from the installed package: an Express app checks real
// deliveries of the gateway on workerd (Miniflare, as the e2e suite starts it) with
// `verifyWebhook`, exactly as the README shows, and every way a delivery can be not genuine is a
// `WebhookError` with its code. The signature format is also checked against an independent
// HMAC in Node, so that the documented scheme is the one verified.
import assert from "node:assert/strict";
import { createHmac, randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { after, before, describe, test } from "node:test";
import express from "express";
import keyscope, { verifyWebhook, WebhookError } from "keyscope";
import { startGateway, startOrigin } from "../../../tests/e2e/lib/gateway.mjs";

const ORG = "org_hooks";
const SECRET = `whsec_${randomBytes(16).toString("hex")}`;
const sign = (t, body, secret = SECRET) => `t=${t},v1=${createHmac("sha256", secret).update(`${t}.`).update(body).digest("hex")}`;
const codeOf = (fn) => {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof WebhookError, `${e?.name}: ${e?.message}`);
    assert.ok(e instanceof keyscope.KeyscopeError);
    assert.ok(!e.message.includes(SECRET), "no message holds the secret");
    return e.code;
  }
  return "verified";
};

describe("verifyWebhook against the gateway's real deliveries", () => {
  let origin;
  let gw;
  let server;
  const verified = [];
  const raw = [];
  const refused = [];

  before(async () => {
    // The README's receiver: the raw body, checked before it is parsed.
    const app = express();
    app.post("/hooks/keyscope", express.raw({ type: "application/json" }), (req, res) => {
      raw.push({ header: req.get("keyscope-signature"), body: req.body });
      try {
        verified.push(verifyWebhook(req.body, req.get("keyscope-signature"), SECRET));
        res.status(204).end();
      } catch (e) {
        refused.push(e.code);
        res.status(400).json({ code: e.code });
      }
    });
    server = await new Promise((resolve) => {
      const s = app.listen(0, "127.0.0.1", () => resolve(s));
    });
    // Miniflare resolves the worker's modules from the repository root, as the e2e suite runs.
    process.chdir(fileURLToPath(new URL("../../../", import.meta.url)));
    origin = await startOrigin();
    gw = await startGateway({
      originUrl: origin.url,
      bindings: { KEYSCOPE_EVENTS_URL: `http://127.0.0.1:${server.address().port}/hooks/keyscope`, KEYSCOPE_EVENTS_SECRET: SECRET },
    });
    await gw.admin.putMember(ORG, "u_admin", "admin");
  });
  after(async () => {
    await gw?.dispose();
    await origin?.close();
    await new Promise((resolve) => server.close(resolve));
  });

  const until = async (probe, what) => {
    for (let i = 0; i < 600; i++) {
      const hit = probe();
      if (hit) return hit;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.fail(`no ${what} within 30 s (verified ${verified.length}, refused ${refused.join(",")})`);
  };

  test("a real delivery verifies and parses; a tampered or misdirected one is a WebhookError with its code", async () => {
    const { key } = await gw.admin.createKey(ORG, { actingUserId: "u_admin", name: "hooked", scope: "organization" });
    const event = await until(() => verified.find((e) => e.type === "key.created" && e.event.keyId === key.id), "key.created delivery");
    assert.equal(event.event.organizationId, ORG);
    assert.deepEqual(refused, [], "every real delivery verifies");

    const { header, body } = raw.find((r) => JSON.parse(r.body).event.keyId === key.id);
    const t = Number(/t=(\d+)/.exec(header)[1]);
    const at = t * 1000;
    const text = body.toString("utf8");
    assert.equal(header, sign(t, text), "the worker signs as documented: HMAC-SHA256 of \"<t>.<raw body>\"");

    // The same delivery as a string, a Buffer, a typed array and an ArrayBuffer.
    for (const given of [text, body, new Uint8Array(body), body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength)]) {
      assert.equal(verifyWebhook(given, header, SECRET, { now: at }).event.keyId, key.id);
    }
    assert.equal(verifyWebhook(text, header, new TextEncoder().encode(SECRET), { now: new Date(at) }).type, "key.created");

    const cases = [
      ["another secret", () => verifyWebhook(text, header, "whsec_other", { now: at }), "mismatch"],
      ["one byte more", () => verifyWebhook(`${text} `, header, SECRET, { now: at }), "mismatch"],
      ["another event's body", () => verifyWebhook(text.replace(key.id, "key_other"), header, SECRET, { now: at }), "mismatch"],
      ["replayed after the tolerance", () => verifyWebhook(text, header, SECRET, { now: at + 301_000 }), "outside_tolerance"],
      ["from the future", () => verifyWebhook(text, header, SECRET, { now: at - 301_000 }), "outside_tolerance"],
      ["a wider tolerance", () => verifyWebhook(text, header, SECRET, { now: at + 301_000, toleranceSeconds: 400 }), "verified"],
      ["at the edge of the tolerance", () => verifyWebhook(text, header, SECRET, { now: at + 300_000 }), "verified"],
      ["no v1", () => verifyWebhook(text, `t=${t}`, SECRET, { now: at }), "no_signature"],
      ["no t", () => verifyWebhook(text, header.replace(/t=\d+,/, ""), SECRET, { now: at }), "malformed_header"],
      ["two t", () => verifyWebhook(text, `t=${t},${header}`, SECRET, { now: at }), "malformed_header"],
      ["not a header", () => verifyWebhook(text, "garbage", SECRET, { now: at }), "malformed_header"],
      ["no header", () => verifyWebhook(text, undefined, SECRET, { now: at }), "missing_header"],
      ["an empty header", () => verifyWebhook(text, " ", SECRET, { now: at }), "missing_header"],
      // While a secret is rotated a sender may sign with both: one matching v1 is enough.
      ["rotation: an old and the current signature", () => verifyWebhook(text, `${sign(t, text, "whsec_old")},v1=${header.split("v1=")[1]}`, SECRET, { now: at }), "verified"],
      ["a signed body that is not JSON", () => verifyWebhook("not json", sign(t, "not json"), SECRET, { now: at }), "malformed_body"],
    ];
    for (const [what, fn, expected] of cases) assert.equal(codeOf(fn), expected, what);
  });

  test("arguments of the wrong type are TypeErrors, not a verified delivery", () => {
    const header = sign(1, "{}");
    assert.throws(() => verifyWebhook({}, header, SECRET), TypeError);
    assert.throws(() => verifyWebhook("{}", header, ""), TypeError);
    assert.throws(() => verifyWebhook("{}", header, 42), TypeError);
    assert.throws(() => verifyWebhook("{}", header, SECRET, { toleranceSeconds: -1 }), TypeError);
    assert.throws(() => verifyWebhook("{}", header, SECRET, { now: Number.NaN }), TypeError);
  });
});
