// Bun and Deno, both installed from the npm registry as packages (devDependencies here), run
// the same smoke test against the installed package; Deno with no permissions (the `deno`
// export condition carries the wasm inside a module, so nothing is read from disk).
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { test } from "node:test";

const here = fileURLToPath(new URL(".", import.meta.url));
const expected = { allowed: true, keyId: "k1", reason: "forbidden", keyError: "KeyError" };
const run = (bin, args) => JSON.parse(execFileSync(`${here}node_modules/.bin/${bin}`, args, { cwd: here, encoding: "utf8", env: { ...process.env, NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" } }).trim());

test("Bun", () => {
  assert.deepEqual(run("bun", ["runtimes/smoke.mjs"]), expected);
});

test("Deno, with no permissions", () => {
  assert.deepEqual(run("deno", ["run", "--no-prompt", "--node-modules-dir=manual", "runtimes/smoke.mjs"]), expected);
});
