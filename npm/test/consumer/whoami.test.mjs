// The integration side of `/me` against the real gateway on workerd (Miniflare, as the e2e
// suite starts it): `keyscope.checkKey` from the installed package, and `keyscope whoami` from
// the CLI (built by scripts/test-npm). Required permissions all present → ok; one missing → an
// error naming it, the key's scope and project; a revoked key → an error saying so; the gateway
// down → a clear error, quickly.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import net from "node:net";
import { fileURLToPath } from "node:url";
import { after, before, describe, test } from "node:test";
import keyscope from "keyscope";
import { startGateway } from "../../../tests/e2e/lib/gateway.mjs";

const ORG = "org_w";
const cli = fileURLToPath(new URL("../../../target/debug/keyscope", import.meta.url));
let gw;
let base;
let orgKey;
let projectKey;
let revokedKey;
let downUrl;

before(async () => {
  // workerd resolves the worker's modules from the working directory: the repository root, as
  // in the e2e suite (each test file runs in its own process).
  process.chdir(fileURLToPath(new URL("../../../", import.meta.url)));
  gw = await startGateway();
  base = `http://127.0.0.1:${gw.port}/api/v1`;
  await gw.admin.putMember(ORG, "u_admin", "admin");
  await gw.admin.putMember(ORG, "u_eng", "engineer");
  orgKey = (await gw.admin.createKey(ORG, { actingUserId: "u_admin", name: "sync", scope: "organization", preset: "read" })).secret;
  projectKey = (await gw.admin.createKey(ORG, { actingUserId: "u_eng", name: "deploy", scope: "project", scopedProjectId: "p1" })).secret;
  const revoked = await gw.admin.createKey(ORG, { actingUserId: "u_admin", name: "old", scope: "organization" });
  await gw.admin.revokeKey(ORG, revoked.key.id, "u_admin");
  revokedKey = revoked.secret;
  // A port nothing listens on: take one, then close it.
  const probe = net.createServer().listen(0, "127.0.0.1");
  await new Promise((r) => probe.once("listening", r));
  downUrl = `http://127.0.0.1:${probe.address().port}/api/v1`;
  await new Promise((r) => probe.close(r));
});
after(() => gw?.dispose());

describe("keyscope.checkKey", () => {
  test("all required permissions present: resolves to the /me view", async () => {
    const me = await keyscope.checkKey({ baseUrl: base, key: orgKey, require: ["read:project", "read:entry"] });
    assert.equal(me.scope, "organization");
    assert.ok(me.effectivePermissions.includes("read:project"));
  });

  test("one missing: names it, the scope and the project", async () => {
    await assert.rejects(keyscope.checkKey({ baseUrl: `${base}/`, key: projectKey, require: ["read:project", "invite:user"] }), (e) => {
      assert.ok(e instanceof keyscope.CheckKeyError);
      assert.equal(e.code, "missing_permissions");
      assert.deepEqual(e.missing, ["invite:user"]);
      assert.equal(e.scope, "project");
      assert.equal(e.projectId, "p1");
      assert.match(e.message, /invite:user/);
      assert.match(e.message, /project p1/);
      assert.ok(!e.message.includes(projectKey.slice(8)), "never the key");
      return true;
    });
  });

  test("a revoked key: says so", async () => {
    await assert.rejects(keyscope.checkKey({ baseUrl: base, key: revokedKey, require: ["read:project"] }), (e) => {
      assert.equal(e.code, "key_revoked");
      assert.equal(e.status, 401);
      assert.match(e.message, /revoked/);
      return true;
    });
  });

  test("the gateway down: a clear error, not a hang", async () => {
    const started = Date.now();
    await assert.rejects(keyscope.checkKey({ baseUrl: downUrl, key: orgKey, timeoutMs: 3000 }), (e) => {
      assert.equal(e.code, "unreachable");
      assert.match(e.message, /could not reach/);
      return true;
    });
    assert.ok(Date.now() - started < 3500);
  });
});

describe("keyscope whoami (CLI)", () => {
  const whoami = (key, args, via = "env") =>
    spawnSync(cli, ["whoami", ...args], {
      encoding: "utf8",
      input: via === "stdin" ? key : "",
      env: via === "env" ? { ...process.env, KEYSCOPE_KEY: key } : { PATH: process.env.PATH },
      timeout: 20_000,
    });

  test("all required present → exit 0 and the /me view (key from the environment)", () => {
    const out = whoami(orgKey, ["--url", base, "--require", "read:project,read:entry"]);
    assert.equal(out.status, 0, out.stderr);
    assert.equal(JSON.parse(out.stdout).scope, "organization");
    assert.ok(!out.stdout.includes(orgKey.slice(8)) && !out.stderr.includes(orgKey.slice(8)), "never echoed");
  });

  test("one missing → exit 1 naming it, the scope and project (key from stdin)", () => {
    const out = whoami(projectKey, ["--url", base, "--require", "read:project", "--require", "invite:user"], "stdin");
    assert.equal(out.status, 1);
    assert.match(out.stderr, /lacks invite:user/);
    assert.match(out.stderr, /project-scoped key \(project p1\)/);
    assert.ok(!out.stderr.includes(projectKey.slice(8)), "never echoed");
  });

  test("a revoked key → exit 1 saying so", () => {
    const out = whoami(revokedKey, ["--url", base, "--require", "read:project"]);
    assert.equal(out.status, 1);
    assert.match(out.stderr, /revoked/);
  });

  test("the gateway down → exit 1 with a clear error, quickly", () => {
    const out = whoami(orgKey, ["--url", downUrl, "--timeout", "3"]);
    assert.equal(out.status, 1);
    assert.match(out.stderr, /could not reach the gateway/);
    assert.equal(out.error, undefined, "finished before the harness timeout");
  });

  test("no URL → usage (exit 2)", () => {
    assert.equal(whoami(orgKey, []).status, 2);
  });
});
