// A policy of any size at the edge, and the admin API's explanations, on workerd.
//
// - The 2,000-endpoint, 256-permission policy of tests/vectors/policies/large.json is bundled
//   into the worker as `scripts/build-worker` bundles KEYSCOPE_POLICY_FILE (a module beside the
//   build, no variable): far beyond the 5 KB a Worker variable may hold, it is served and decides
//   (its vectors also run over HTTP in vectors.test.mjs).
// - A bundled policy that is not valid never takes the gateway down: every answer is 503 JSON.
// - Keys the admin API creates carry the policy's prefix; `…/explain` and `…/access` answer with
//   the check that decides, on the tenant-in-the-path policy of tests/vectors/policies/workspaces.json.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { ROOT, rawRequest, sha256Hex, startGateway, startOrigin } from "./lib/gateway.mjs";

const policy = (name) => readFileSync(join(ROOT, "tests", "vectors", "policies", name), "utf8");
const get = (port, path, key) => rawRequest(port, { method: "GET", path, headers: key ? [["x-api-key", key]] : [] });
const body = (res) => JSON.parse(res.body);

describe("a 2,000-endpoint, 256-permission policy bundled into the worker", () => {
  const text = policy("large.json");
  const doc = JSON.parse(text);
  let origin;
  let gateway;
  let owner;
  let last;
  before(async () => {
    origin = await startOrigin();
    gateway = await startGateway({ originUrl: origin.url, bundledPolicy: text });
    await gateway.admin.putMember("org_a", "u_owner", "owner");
    owner = await gateway.admin.createKey("org_a", { actingUserId: "u_owner", name: "all", scope: "organization" });
    last = await gateway.admin.createKey("org_a", {
      actingUserId: "u_owner",
      name: "the 256th permission only",
      scope: "organization",
      permissions: [doc.permissions[255]],
    });
  });
  after(async () => {
    await gateway?.dispose();
    await origin?.close();
  });

  test("the policy is far beyond what a variable may hold", () => {
    assert.equal(doc.endpoints.length, 2000);
    assert.equal(doc.permissions.length, 256);
    assert.ok(Buffer.byteLength(text) > 50 * 5 * 1024, `${Buffer.byteLength(text)} bytes`);
  });

  test("keys are made with the policy's prefix", () => {
    assert.match(owner.secret, /^big_live_[0-9A-Za-z]{36}$/);
    assert.equal(owner.key.hint, owner.secret.slice(-4));
  });

  test("the last row, which needs the 256th permission, is served", async () => {
    const row = doc.endpoints[1999];
    const path = `/v1${row.path.replace(":org", "org_a")}`;
    for (const key of [owner.secret, last.secret]) {
      const before = origin.received.length;
      const res = await get(gateway.port, path.replace(":projectId", "p1"), key);
      assert.equal(res.status, 200, res.body);
      assert.equal(origin.received.length, before + 1);
      assert.equal(origin.received.at(-1).headers["x-keyscope-organization-id"], "org_a");
    }
  });

  test("another tenant, another permission, an unknown row and a foreign prefix are refused", async () => {
    assert.equal(body(await get(gateway.port, "/v1/orgs/org_b/c001", owner.secret)).reason, "scope_violation");
    const forbidden = await get(gateway.port, "/v1/orgs/org_a/c001", last.secret);
    assert.equal(forbidden.status, 403);
    assert.equal(body(forbidden).reason, "forbidden");
    assert.equal(body(await get(gateway.port, "/v1/orgs/org_a/c400", owner.secret)).reason, "not_found");
    const ck = await get(gateway.port, "/v1/orgs/org_a/c001", `ck_live_${owner.secret.slice(9)}`);
    assert.equal(ck.status, 401);
    assert.equal(body(ck).reason, "invalid_key");
  });

  test("a static segment beside a parameter is its own row", async () => {
    const before = origin.received.length;
    // c001's rows are POST: settings needs read:r001's pair, the item row write.
    const settings = await rawRequest(gateway.port, { method: "POST", path: "/v1/orgs/org_a/c001/settings", headers: [["x-api-key", last.secret]] });
    assert.equal(body(settings).message, `Missing ${doc.endpoints[7].permission} permission.`);
    const item = await rawRequest(gateway.port, { method: "POST", path: "/v1/orgs/org_a/c001/it_1", headers: [["x-api-key", last.secret]] });
    assert.equal(body(item).message, `Missing ${doc.endpoints[6].permission} permission.`);
    assert.equal(origin.received.length, before);
  });
});

describe("a bundled policy that is not valid", () => {
  test("every answer is 503 JSON, and the gateway keeps answering", async () => {
    const gateway = await startGateway({ bundledPolicy: '{"basePath": "/x", "permissions": []}' });
    try {
      for (const path of ["/x/anything", "/admin/v1/organizations/org_a/keys", "/"]) {
        const res = await get(gateway.port, path, "ck_live_whatever");
        assert.equal(res.status, 503, path);
        assert.equal(body(res).reason, "unavailable");
      }
    } finally {
      await gateway.dispose();
    }
  });

  test("a bundled policy and KEYSCOPE_POLICY together are refused, not guessed between", async () => {
    const gateway = await startGateway({ bundledPolicy: policy("workspaces.json"), bindings: { KEYSCOPE_POLICY: policy("catalog.json") } });
    try {
      const res = await get(gateway.port, "/api/v1/workspaces", "clk_live_x");
      assert.equal(res.status, 503);
      assert.equal(body(res).reason, "unavailable");
    } finally {
      await gateway.dispose();
    }
  });
});

describe("the admin API explains a key's decisions (tenant and user in the path)", () => {
  let gateway;
  let key;
  before(async () => {
    gateway = await startGateway({ bundledPolicy: policy("workspaces.json") });
    await gateway.admin.putMember("ws_a", "u_member", "member");
    await gateway.admin.resourceBatch({ put: [{ kind: "expense", id: "ex_1", organizationId: "ws_a", projectId: "p1" }] });
    key = await gateway.admin.createKey("ws_a", { actingUserId: "u_member", name: "p1 bot", scope: "project", scopedProjectId: "p1" });
  });
  after(() => gateway?.dispose());

  const explain = (method, path) => gateway.admin.ok("POST", `/organizations/ws_a/keys/${key.key.id}/explain`, { method, path });

  test("a created key has the policy's prefix", () => {
    assert.match(key.secret, /^clk_live_/);
    assert.equal(sha256Hex(key.secret).length, 64);
  });

  test("each refusal names the check that gave it and the row", async () => {
    const other = await explain("GET", "/api/v1/workspaces/ws_b/projects");
    assert.deepEqual(
      { allowed: other.allowed, status: other.status, reason: other.reason, check: other.check, endpoint: other.endpoint },
      { allowed: false, status: 403, reason: "scope_violation", check: "organization", endpoint: { method: "GET", path: "/workspaces/:workspaceId/projects" } },
    );
    assert.equal(other.message, "This key belongs to another organization.");
    const user = await explain("POST", "/api/v1/workspaces/ws_a/user/u_other/time-entries");
    assert.equal(user.check, "user");
    assert.equal(user.message, "This endpoint is limited to the key's own user.");
    assert.equal((await explain("GET", "/api/v1/workspaces/ws_a/projects/p2")).check, "project_scope");
    assert.equal((await explain("GET", "/api/v1/nowhere")).check, "endpoint");
    const allowed = await explain("GET", "/api/v1/workspaces/ws_a/projects?page=2");
    assert.deepEqual([allowed.allowed, allowed.check, allowed.projectFilter], [true, "allowed", "p1"]);
  });

  test("an own_resource row is explained with the resource store's answer", async () => {
    assert.equal((await explain("GET", "/api/v1/workspaces/ws_a/expenses/ex_1")).check, "allowed");
    const unknown = await explain("GET", "/api/v1/workspaces/ws_a/expenses/ex_2");
    assert.deepEqual([unknown.status, unknown.reason, unknown.check], [404, "not_found", "resource"]);
  });

  test("the access table has every row", async () => {
    const table = await gateway.admin.ok("GET", `/organizations/ws_a/keys/${key.key.id}/access`);
    const doc = JSON.parse(policy("workspaces.json"));
    assert.equal(table.endpoints.length, doc.endpoints.length);
    const projects = table.endpoints.find((r) => r.method === "GET" && r.path === "/workspaces/:workspaceId/projects");
    assert.deepEqual([projects.allowed, projects.conditions], [true, [{ organization: "ws_a" }, { projectFilter: "p1" }]]);
    const create = table.endpoints.find((r) => r.method === "POST" && r.path === "/workspaces/:workspaceId/projects");
    assert.deepEqual([create.allowed, create.reason, create.check], [false, "scope_violation", "project_scope"]);
  });

  test("explaining forwards nothing and a bad request names its field", async () => {
    const res = await gateway.admin.call("POST", `/organizations/ws_a/keys/${key.key.id}/explain`, { method: "GET" });
    assert.equal(res.status, 400);
    const missing = await gateway.admin.call("POST", "/organizations/ws_a/keys/key_nope/explain", { method: "GET", path: "/" });
    assert.equal(missing.status, 404);
  });
});
