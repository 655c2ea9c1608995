// Whether a worker build is up to date: scripts/build-worker asks before building and records
// after, so that one run of scripts/test (which builds, then starts scripts/dev, whose wrangler
// runs the build command again, then bench-load and test-api) builds the worker once.
//
//   node scripts/build-inputs.mjs check <crate-dir>    exit 0: the last build's inputs and
//                                                      outputs are unchanged; 1: build
//   node scripts/build-inputs.mjs record <crate-dir>   after a build: remember both
//
// The inputs: every file of each local crate the crate depends on (from `cargo metadata`, so a
// new sibling crate counts without a change here), Cargo.lock, the workspace manifest, the
// build scripts, the tools' versions and the variables that change the output. The outputs:
// every file under <crate-dir>/build, so an edited or half-written build is rebuilt. Anything
// this cannot work out (no cargo metadata, a tool missing) means "build".
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const [mode, crateArg] = process.argv.slice(2);
if (!["check", "record"].includes(mode) || !crateArg) {
  console.error("usage: build-inputs.mjs check|record <crate-dir>");
  process.exit(2);
}
const crate = resolve(crateArg);
const targetDir = process.env.CARGO_TARGET_DIR ? resolve(process.env.CARGO_TARGET_DIR) : join(ROOT, "target");
const stampFile = join(targetDir, "keyscope-build-stamps", `${relative(ROOT, crate).replaceAll("/", "+") || basename(crate)}.json`);
// Directories that are outputs, caches or other projects, never a crate's source.
const SKIP = new Set(["target", "build", "node_modules", "pkg", "dist", ".git", ".wrangler"]);

const run = (cmd, args) => execFileSync(cmd, args, { cwd: ROOT, stdio: ["ignore", "pipe", "ignore"], maxBuffer: 256 << 20 }).toString();

/** Every file under `dir` (relative to ROOT), skipping outputs and nested crates not listed. */
function files(dir, crateDirs, out = []) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (SKIP.has(entry.name) || entry.name.startsWith(".")) continue;
      if (existsSync(join(path, "Cargo.toml")) && !crateDirs.has(path)) continue;
      files(path, crateDirs, out);
    } else if (entry.isFile()) out.push(path);
  }
  return out;
}

/** The directories of the local packages `crate` depends on, itself included. */
function localCrates() {
  const meta = JSON.parse(run("cargo", ["metadata", "--format-version", "1", "--locked", "--filter-platform", "wasm32-unknown-unknown"]));
  const byId = new Map(meta.packages.map((p) => [p.id, p]));
  const root = meta.packages.find((p) => dirname(p.manifest_path) === crate);
  if (!root) throw new Error(`no package at ${crate}`);
  const nodes = new Map(meta.resolve.nodes.map((n) => [n.id, n]));
  const seen = new Set();
  const walk = (id) => {
    if (seen.has(id)) return;
    seen.add(id);
    for (const dep of nodes.get(id)?.deps ?? []) walk(dep.pkg);
  };
  walk(root.id);
  return new Set([...seen].map((id) => byId.get(id)).filter((p) => p && p.source === null).map((p) => dirname(p.manifest_path)));
}

function hashFiles(paths) {
  const hash = createHash("sha256");
  for (const path of [...paths].sort()) {
    hash.update(`${relative(ROOT, path)}\0`);
    hash.update(readFileSync(path));
    hash.update("\0");
  }
  return hash.digest("hex");
}

function inputs() {
  const crateDirs = localCrates();
  const paths = [...crateDirs].flatMap((dir) => files(dir, crateDirs));
  for (const extra of ["Cargo.lock", "Cargo.toml", ".cargo/config.toml", "rust-toolchain.toml", "rust-toolchain", "scripts/build-worker", "scripts/lib.sh"]) {
    if (existsSync(join(ROOT, extra))) paths.push(join(ROOT, extra));
  }
  const tools = [
    run("rustc", ["-vV"]),
    run("worker-build", ["--version"]),
    run(process.env.WASM_BINDGEN_BIN ?? "wasm-bindgen", ["--version"]),
    run(process.env.WASM_OPT_BIN ?? "wasm-opt", ["--version"]),
  ];
  const vars = Object.entries(process.env)
    .filter(([k]) => k === "KEYSCOPE_WASM_NAMES" || k === "RUSTFLAGS" || /^CARGO_(ENCODED_RUSTFLAGS|PROFILE_|BUILD_|TARGET_WASM32)/.test(k))
    .sort();
  return createHash("sha256").update(hashFiles(paths)).update(JSON.stringify({ tools, vars })).digest("hex");
}

// The policy module and entry scripts/bundle-policy.mjs writes beside the build on every run
// (and the tests' per-policy copies) are not outputs of the build.
const BUNDLE = /[\\/]worker[\\/](entry|policy)(-[\w]+)?\.mjs$/;

function outputs() {
  const build = join(crate, "build");
  if (!existsSync(build) || !statSync(build).isDirectory()) return null;
  const all = files(build, new Set()).filter((f) => !BUNDLE.test(f));
  return all.length ? hashFiles(all) : null;
}

try {
  if (mode === "record") {
    mkdirSync(dirname(stampFile), { recursive: true });
    writeFileSync(stampFile, JSON.stringify({ inputs: inputs(), outputs: outputs() }) + "\n");
    process.exit(0);
  }
  const stamp = JSON.parse(readFileSync(stampFile, "utf8"));
  const out = outputs();
  process.exit(out !== null && stamp.outputs === out && stamp.inputs === inputs() ? 0 : 1);
} catch {
  process.exit(1); // no stamp yet, or something unknown: build
}
