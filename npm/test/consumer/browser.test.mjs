// The package through its `browser` export condition: bundled as a browser bundler does
// (esbuild, platform browser, the .wasm emitted as a file fetched at start-up), then run with a
// `fetch` that serves the bundle's files (no browser on the test machine).
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFile } from "node:fs/promises";
import { fileURLToPath, pathToFileURL } from "node:url";
import { test } from "node:test";

const here = fileURLToPath(new URL(".", import.meta.url));
const root = fileURLToPath(new URL("../../../", import.meta.url));

test("in a browser bundle: the wasm loads and decides", async () => {
  execFileSync(root + "node_modules/.bin/esbuild", [
    "browser-entry.mjs", "--bundle", "--format=esm", "--platform=browser", "--loader:.wasm=file",
    "--outdir=.browser-out", "--log-level=warning",
  ], { cwd: here });
  const realFetch = globalThis.fetch;
  globalThis.fetch = async (url) => {
    const u = new URL(url);
    assert.equal(u.protocol, "file:", "the wasm is fetched from next to the bundle");
    return new Response(await readFile(u), { headers: { "content-type": "application/wasm" } });
  };
  try {
    const bundle = await import(pathToFileURL(here + ".browser-out/browser-entry.js").href);
    assert.deepEqual(await bundle.decide(), { allowed: true, keyId: "k1", reason: "forbidden" });
  } finally {
    globalThis.fetch = realFetch;
  }
});
