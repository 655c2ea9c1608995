// Every entry point exports the same API. The CommonJS object (`require("keyscope")`, built by
// js/keyscope.cjs) is the one source; each ES module entry (Node, workerd, Deno, browsers) lists
// its named exports statically, so a name added to the object must be added to every list: this
// test fails until it is. The Node ES module entry is also imported, so its exports are checked
// as Node sees them, not only as written.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { test } from "node:test";

const require = createRequire(import.meta.url);
const cjs = require("keyscope");
const names = Object.keys(cjs).sort();
const packageDir = dirname(require.resolve("keyscope/package.json"));

/** The names an entry file exports through `export const { … } = keyscope;`. */
function listed(file) {
  const text = readFileSync(join(packageDir, "js", file), "utf8");
  const lists = [...text.matchAll(/export const \{([^}]*)\}\s*=\s*keyscope;/g)];
  assert.equal(lists.length, 1, `${file} has one export list`);
  return lists[0][1].split(",").map((name) => name.trim()).filter(Boolean).sort();
}

test("the CommonJS API is what the package documents, nothing missing", () => {
  for (const name of ["Engine", "authorize", "express", "hono", "withKeyscope", "checkKey", "generateKey", "KEY_HEADER", "LifecycleError"]) {
    assert.ok(names.includes(name), name);
  }
});

for (const file of ["index.mjs", "workerd.mjs", "deno.mjs", "browser.mjs"]) {
  test(`js/${file} exports exactly the CommonJS API`, () => {
    assert.deepEqual(listed(file), names);
  });
}

test("the Node ES module entry is the CommonJS instance, name for name", async () => {
  const esm = await import("keyscope");
  assert.equal(esm.default, cjs);
  assert.deepEqual(Object.keys(esm).filter((name) => name !== "default").sort(), names);
  for (const name of names) assert.equal(esm[name], cjs[name], name);
});

test("keyscope/express and keyscope/hono are the root's middleware, from CommonJS and ES modules", async () => {
  assert.equal(require("keyscope/express").express, cjs.express);
  assert.equal(require("keyscope/hono").hono, cjs.hono);
  assert.equal((await import("keyscope/express")).express, cjs.express);
  assert.equal((await import("keyscope/hono")).hono, cjs.hono);
});

for (const runtime of ["workerd", "deno", "browser"]) {
  test(`keyscope/hono's ${runtime} entry takes hono from that runtime's root entry`, () => {
    const text = readFileSync(join(packageDir, "js", `hono.${runtime}.mjs`), "utf8");
    assert.match(text, new RegExp(`import keyscope from "\\./${runtime}\\.mjs";`));
    const pkg = JSON.parse(readFileSync(join(packageDir, "package.json"), "utf8"));
    assert.equal(pkg.exports["./hono"][runtime].default, `./js/hono.${runtime}.mjs`);
    assert.equal(pkg.exports["."][runtime].default, `./js/${runtime}.mjs`);
  });
}
