// Writes the policy module the worker's entry imports: edge-worker/build/worker/policy.mjs and
// entry.mjs (scripts/build-worker runs this after every build, skipped or not).
//
//   node scripts/bundle-policy.mjs [POLICY_FILE] [OUT_DIR]
//
// POLICY_FILE (default: $KEYSCOPE_POLICY_FILE; none = the default Align policy) must be valid
// JSON; scripts/build-worker validates it with `keyscope policy check` before calling this.
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const file = process.argv[2] || process.env.KEYSCOPE_POLICY_FILE || "";
const out = process.argv[3] || join(root, "edge-worker", "build", "worker");
mkdirSync(out, { recursive: true });
let text = null;
if (file) {
  text = readFileSync(file, "utf8");
  JSON.parse(text); // a file that is not JSON fails the build here, not the gateway later
}
writeFileSync(join(out, "policy.mjs"), `export default ${JSON.stringify(text)};\n`);
copyFileSync(join(root, "edge-worker", "js", "entry.mjs"), join(out, "entry.mjs"));
console.log(`bundle-policy: ${file ? `bundled ${file}` : "no policy file: the default Align policy"}`);
