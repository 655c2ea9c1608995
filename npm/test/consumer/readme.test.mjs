// The READMEs' TypeScript blocks (the package's README as installed, and the repository
// README's JavaScript section) are extracted and compiled under `strict` against the installed
// package, so an example can never again fail to compile. Free names the examples take as given
// (`db`, `listProjects`, `log`) are declared in readme-prelude.d.ts; the block that exports
// `store` is `store.ts`, which the others import.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { test } from "node:test";

const here = fileURLToPath(new URL(".", import.meta.url));
const out = `${here}.readme/`;

function blocks(markdown) {
  return [...markdown.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((m) => m[1]);
}

test("every README TypeScript block compiles under strict", () => {
  const packageReadme = readFileSync(`${here}node_modules/keyscope/README.md`, "utf8");
  const rootReadme = readFileSync(`${here}../../../README.md`, "utf8");
  const section = rootReadme.slice(rootReadme.indexOf("## Using keyscope from JavaScript"));
  const jsSection = section.slice(0, section.indexOf("\n## ", 3));
  const all = [...blocks(packageReadme), ...blocks(jsSection)];
  assert.ok(blocks(packageReadme).length >= 10, "the package README's examples were found");
  assert.ok(blocks(jsSection).length >= 1, "the repository README's example was found");
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out);
  writeFileSync(`${out}package.json`, '{ "type": "module" }\n');
  all.forEach((code, i) => writeFileSync(`${out}${/export const store\b/.test(code) ? "store" : `block${i}`}.ts`, code));
  try {
    execFileSync(`${here}node_modules/.bin/tsc`, ["-p", "tsconfig.readme.json"], { cwd: here, encoding: "utf8" });
  } catch (e) {
    assert.fail(`tsc refused a README example:\n${e.stdout}${e.stderr}`);
  }
});
