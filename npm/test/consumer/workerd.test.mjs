// The package through its `workerd` export condition: bundled as wrangler does (esbuild,
// conditions workerd/worker, the .wasm as a module) and run on workerd with Miniflare (both from
// the repository's own node_modules).
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { after, before, test } from "node:test";

const here = fileURLToPath(new URL(".", import.meta.url));
const root = fileURLToPath(new URL("../../../", import.meta.url));
const { Miniflare } = createRequire(root + "package.json")("miniflare");

let mf;
before(() => {
  execFileSync(root + "node_modules/.bin/esbuild", [
    "workerd-worker.mjs", "--bundle", "--format=esm", "--conditions=workerd,worker", "--platform=neutral",
    "--loader:.wasm=copy", "--outdir=.workerd-out", "--log-level=warning",
  ], { cwd: here });
  mf = new Miniflare({
    modules: true,
    scriptPath: here + ".workerd-out/workerd-worker.js",
    modulesRules: [{ type: "ESModule", include: ["**/*.js"] }, { type: "CompiledWasm", include: ["**/*.wasm"] }],
    compatibilityDate: "2025-01-01",
  });
});
after(() => mf?.dispose());

test("on workerd: allow, deny with SPEC's body, /me", async () => {
  const key = await (await mf.dispatchFetch("http://x/key")).text();
  let res = await mf.dispatchFetch("http://x/api/v1/projects", { headers: { "x-api-key": key } });
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { keyId: "k1" });
  res = await mf.dispatchFetch("http://x/api/v1/projects");
  assert.equal(res.status, 401);
  assert.equal(res.headers.get("www-authenticate"), 'Bearer realm="keyscope"');
  assert.equal((await res.json()).reason, "missing_key");
  res = await mf.dispatchFetch("http://x/api/v1/me", { headers: { authorization: `Bearer ${key}` } });
  assert.equal(res.status, 200);
  assert.equal((await res.json()).apiKeyId, "k1");
});
