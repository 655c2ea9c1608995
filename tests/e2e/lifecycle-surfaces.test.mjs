// The same key lifecycle inputs through every surface — the admin API, the key console's API and
// the npm package's plans — give the same outcome and the same rule `code` (policy-core's), so
// the surfaces cannot disagree. The worker runs on workerd (Miniflare) as in the other e2e tests;
// the npm package is the one `bash scripts/build-npm` writes (npm/js over npm/dist).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { createRequire } from "node:module";
import { join } from "node:path";
import { ROOT, startGateway } from "./lib/gateway.mjs";

const keyscope = createRequire(import.meta.url)(join(ROOT, "npm", "js", "index.cjs"));
const engine = new keyscope.Engine();

const ORG = "org_surfaces";
const ROLES = { u_admin: "admin", u_eng: "engineer", u_other: "engineer", u_mem: "member" };
const HOST = "http://keyscope.test";
const DAY = 86_400_000;

let gw;
const consoles = {};

/** A console session for `user`: its cookie and CSRF proof, from a link the admin API issues. */
async function consoleSession(user) {
  const issued = await gw.admin.ok("POST", `/organizations/${ORG}/console-sessions`, { actingUserId: user });
  const opened = await gw.mf.dispatchFetch(issued.url, { redirect: "manual" });
  assert.equal(opened.status, 303);
  const cookie = opened.headers.get("set-cookie").split(";")[0];
  const session = await (await gw.mf.dispatchFetch(`${HOST}/console/api/session`, { headers: { cookie } })).json();
  assert.equal(session.userId, user);
  return { cookie, csrf: session.csrfToken };
}

/** A JSON POST body as text, so that a number can be written as JSON writes it (`60.0`). */
const text = (body) => (typeof body === "string" ? body : JSON.stringify(body));

async function answer(res) {
  const raw = await res.text();
  return { status: res.status, body: raw ? JSON.parse(raw) : null };
}

/** The admin API: `actingUserId` names who acts. */
async function viaAdmin(action, user, body, keyId) {
  const path = action === "create" ? `/organizations/${ORG}/keys` : `/organizations/${ORG}/keys/${keyId}/${action}`;
  const withActor = text(body).replace(/^\{/, `{"actingUserId":${JSON.stringify(user)}${text(body) === "{}" ? "" : ","}`);
  const res = await gw.admin.call("POST", path, undefined, { rawBody: withActor, headers: { "content-type": "application/json" } });
  return { status: res.status, body: res.body };
}

/** The console API, as the signed-in `user` (the page's own request: cookie, proof, JSON). */
async function viaConsole(action, user, body, keyId) {
  const { cookie, csrf } = consoles[user];
  const path = action === "create" ? "/console/api/keys" : `/console/api/keys/${keyId}/${action}`;
  const res = await gw.mf.dispatchFetch(`${HOST}${path}`, {
    method: "POST",
    headers: { cookie, "content-type": "application/json", "x-keyscope-csrf": csrf },
    body: text(body),
  });
  return answer(res);
}

/** The npm plans, with what the store holds: the actor's role and the key's stored record. */
function viaNpm(action, user, body, record) {
  const actor = { userId: user, role: ROLES[user] ?? null };
  const input = typeof body === "string" ? JSON.parse(body) : body;
  try {
    if (action === "create") {
      const { record: made } = engine.planCreate({ organizationId: ORG, actor, ...input });
      return { status: 201, body: { key: made } };
    }
    if (action === "rotate") {
      const plan = engine.planRotate({ actor, key: record, gracePeriodSeconds: input.gracePeriodSeconds });
      return { status: 201, body: { key: plan.record, previous: { ...record, revokedAt: plan.oldRevokedAt ?? record.revokedAt } } };
    }
    const plan = engine.planRevoke({ actor, key: record });
    return { status: 200, body: { key: { ...record, revokedAt: plan.revokedAt }, changed: plan.changed } };
  } catch (error) {
    assert.ok(error instanceof keyscope.LifecycleError, `npm throws a LifecycleError, not ${error?.name}: ${error?.message}`);
    return { status: error.status, body: { code: error.code, message: error.message } };
  }
}

/** An outcome as the three surfaces must agree on it: the status and the rule's code. */
const outcome = ({ status, body }) => ({ status, code: status < 300 ? null : body?.code ?? null });

/** A fresh key of u_eng's for one surface, as stored (the admin API's view of it). */
async function freshKey(extra = {}) {
  const { key } = await gw.admin.createKey(ORG, { actingUserId: "u_eng", name: "deploy", scope: "project", scopedProjectId: "proj_web", preset: "read", ...extra });
  return key;
}

/** A key imported as stored elsewhere: revoked or expired in the past (creates refuse those). */
async function importedKey(fields) {
  const id = `key_${randomBytes(12).toString("hex")}`;
  await gw.admin.importKeys(ORG, [{
    id, keyHash: randomBytes(32).toString("hex"), hint: "abcd", name: "old", createdBy: "u_eng",
    scope: "project", scopedProjectId: "proj_web", createdAt: new Date(Date.now() - 10 * DAY).toISOString(), ...fields,
  }]);
  return (await gw.admin.ok("GET", `/organizations/${ORG}/keys/${id}`));
}

/**
 * Runs one case through all three surfaces. `key` makes the stored key each surface acts on (a
 * fresh one each, so that a success on one cannot change another's input).
 */
async function everywhere({ action, user, body, key }) {
  const results = {};
  for (const [surface, run] of [["admin", viaAdmin], ["console", viaConsole], ["npm", viaNpm]]) {
    const stored = key ? await key() : undefined;
    results[surface] = surface === "npm" ? run(action, user, body, stored) : await run(action, user, body, stored?.id);
    results[surface].stored = stored;
  }
  return results;
}

function assertSame(results, expected, what) {
  for (const [surface, result] of Object.entries(results)) {
    assert.deepEqual(outcome(result), expected, `${what} via ${surface}: ${JSON.stringify(result.body)}`);
  }
  if (expected.code !== null) {
    // The same rule says the same thing: the console writes the admin API's message as a sentence.
    const said = results.admin.body.message;
    assert.equal(results.npm.body.message, said, what);
    assert.equal(results.console.body.message, `${said.charAt(0).toUpperCase()}${said.slice(1)}${said.endsWith(".") ? "" : "."}`, what);
    assert.deepEqual(Object.keys(results.admin.body), ["reason", "message", "code"], what);
    assert.deepEqual(Object.keys(results.console.body), ["reason", "message", "code"], what);
    assert.equal(results.console.body.reason, results.admin.body.reason, what);
  }
}

before(async () => {
  gw = await startGateway();
  for (const [user, role] of Object.entries(ROLES)) await gw.admin.putMember(ORG, user, role);
  await gw.admin.putResource("time_entry", "te_web", ORG, "proj_web");
  for (const user of Object.keys(ROLES)) consoles[user] = await consoleSession(user);
});

after(async () => {
  await gw?.dispose();
});

describe("a rotation's grace period: one rule on every surface", () => {
  for (const [what, grace, expected] of [
    ["60.0 (a whole number, as JSON may write it)", "60.0", { status: 201, code: null }],
    ["60", "60", { status: 201, code: null }],
    ["-1", "-1", { status: 400, code: "invalid_grace_period" }],
    ["more than 30 days", "2592001", { status: 400, code: "grace_too_long" }],
    ["a string", '"60"', { status: 400, code: "invalid_grace_period" }],
    ["a fraction", "60.5", { status: 400, code: "invalid_grace_period" }],
  ]) {
    test(`gracePeriodSeconds ${what}`, async () => {
      const results = await everywhere({ action: "rotate", user: "u_eng", body: `{"gracePeriodSeconds":${grace}}`, key: freshKey });
      assertSame(results, expected, what);
      if (expected.status === 201) {
        // The old key stops 60 s after the rotation, on every surface.
        for (const [surface, { body }] of Object.entries(results)) {
          const ends = Date.parse(body.previous.revokedAt) - Date.parse(body.key.createdAt);
          assert.equal(ends, 60_000, `${surface}: the old key ends 60 s after the rotation`);
        }
      }
    });
  }
});

describe("a key's state: the same conflicts and no-ops everywhere", () => {
  test("an expired key cannot be rotated (409 key_expired)", async () => {
    const expired = () => importedKey({ expiresAt: new Date(Date.now() - DAY).toISOString() });
    assertSame(await everywhere({ action: "rotate", user: "u_eng", body: {}, key: expired }), { status: 409, code: "key_expired" }, "rotate expired");
  });

  test("a revoked key cannot be rotated (409 key_revoked)", async () => {
    const revoked = () => importedKey({ revokedAt: new Date(Date.now() - DAY).toISOString() });
    assertSame(await everywhere({ action: "rotate", user: "u_eng", body: {}, key: revoked }), { status: 409, code: "key_revoked" }, "rotate revoked");
  });

  test("revoking a revoked key changes nothing and succeeds", async () => {
    const at = new Date(Date.now() - DAY).toISOString();
    const results = await everywhere({ action: "revoke", user: "u_eng", body: {}, key: () => importedKey({ revokedAt: at }) });
    assertSame(results, { status: 200, code: null }, "revoke revoked");
    for (const [surface, { body }] of Object.entries(results)) {
      assert.equal(new Date(body.key.revokedAt).toISOString(), at, `${surface}: the earlier revocation is kept`);
    }
    assert.equal(results.npm.body.changed, false);
  });

  test("only the creator or an admin may revoke (403 not_yours)", async () => {
    assertSame(await everywhere({ action: "revoke", user: "u_other", body: {}, key: freshKey }), { status: 403, code: "not_yours" }, "non-creator revoke");
    assertSame(await everywhere({ action: "revoke", user: "u_admin", body: {}, key: freshKey }), { status: 200, code: null }, "admin revoke");
  });
});

describe("creating a key: the same rules everywhere", () => {
  for (const [what, user, body, expected] of [
    ["a project key for a project no resource names yet", "u_eng",
      { name: "new project", scope: "project", scopedProjectId: "proj_unseen", preset: "read" }, { status: 201, code: null }],
    ["both a preset and permissions", "u_eng",
      { name: "both", scope: "project", scopedProjectId: "proj_web", preset: "read", permissions: ["search"] }, { status: 400, code: "preset_and_permissions" }],
    ["grants beyond the creator's role", "u_eng",
      { name: "approver", scope: "project", scopedProjectId: "proj_web", permissions: ["approve:time_entry"] }, { status: 403, code: "beyond_role" }],
    ["a member creating an organization key", "u_mem",
      { name: "org", scope: "organization", preset: "read" }, { status: 403, code: "may_not_create" }],
    ["an engineer creating an organization key", "u_eng",
      { name: "org", scope: "organization" }, { status: 403, code: "may_not_create" }],
    ["an unknown preset", "u_admin",
      { name: "root", scope: "organization", preset: "root" }, { status: 400, code: "unknown_preset" }],
    ["an expiry in the past", "u_admin",
      { name: "late", scope: "organization", expiresAt: "2001-01-01T00:00:00Z" }, { status: 400, code: "expiry_not_in_future" }],
    ["a blank name", "u_admin", { name: "  ", scope: "organization" }, { status: 400, code: "invalid_name" }],
  ]) {
    test(what, async () => {
      const results = await everywhere({ action: "create", user, body });
      assertSame(results, expected, what);
      if (expected.status === 201) {
        for (const [surface, { body: made }] of Object.entries(results)) {
          assert.equal(made.key.scopedProjectId, body.scopedProjectId, surface);
          assert.match(made.key.id, /^key_[0-9a-f]{24}$/, `${surface}: one key id format`);
        }
      }
    });
  }
});

describe("what a key list shows: the console's standing is the npm package's", () => {
  test("status, preset and what the viewer may do agree, a creator who left included", async () => {
    await gw.admin.putMember(ORG, "u_leaving", "engineer");
    const { key: leaving } = await gw.admin.createKey(ORG, { actingUserId: "u_leaving", name: "leaving", scope: "project", scopedProjectId: "proj_web", preset: "write" });
    await gw.admin.removeMember(ORG, "u_leaving");
    const listed = await (await gw.mf.dispatchFetch(`${HOST}/console/api/keys`, { headers: { cookie: consoles.u_admin.cookie } })).json();
    const roles = { ...ROLES };
    let seen = 0;
    for (const shown of listed.keys) {
      const { preset, status, canChange, canRotate, canRevoke, canEditControls, ...record } = shown;
      const expected = engine.keyStanding({ actor: { userId: "u_admin", role: "admin" }, key: record, creatorRole: roles[record.createdBy] ?? null });
      assert.deepEqual({ preset, status, canChange, canRotate, canRevoke, canEditControls }, expected, record.id);
      seen += 1;
    }
    assert.ok(seen > 10, "every key the console lists");
    const shown = listed.keys.find((k) => k.id === leaving.id);
    assert.deepEqual([shown.status, shown.preset], ["creator_left", "write"]);
  });
});
