// The package through its `browser` export condition: Node resolves "keyscope" with the
// `browser` condition (`--conditions=browser`), the entry fetches its wasm from next to itself
// (`new URL(…, import.meta.url)`, as bundlers such as Vite and webpack expect) through a
// `fetch` that serves files — there is no browser on the test machine.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { test } from "node:test";

const here = fileURLToPath(new URL(".", import.meta.url));

test("with the browser condition: the wasm is fetched, instantiated and decides", () => {
  const out = execFileSync(process.execPath, ["--conditions=browser", "browser-run.mjs"], { cwd: here, encoding: "utf8" });
  const result = JSON.parse(out);
  assert.match(result.entry, /\/keyscope\/js\/browser\.mjs$/, "the browser entry was chosen");
  assert.match(result.fetched, /\/keyscope\/dist\/web\/keyscope_wasm_bg\.wasm$/);
  assert.deepEqual(result.decision, { allowed: true, keyId: "k1", reason: "forbidden" });
});
