// Run by browser.test.mjs under `node --conditions=browser`.
import { readFile } from "node:fs/promises";

let fetched;
globalThis.fetch = async (url) => {
  fetched = new URL(url).pathname;
  return new Response(await readFile(new URL(url)), { headers: { "content-type": "application/wasm" } });
};
const entry = import.meta.resolve("keyscope");
const { decide } = await import("./browser-entry.mjs");
console.log(JSON.stringify({ entry, fetched, decision: await decide() }));
