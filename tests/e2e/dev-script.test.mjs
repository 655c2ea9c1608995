// `scripts/dev` stops cleanly: started, ready, stopped with SIGINT (what Ctrl-C sends) → nothing
// listens on 8787 (gateway) or 8788 (demo origin), and a second `scripts/dev` right after comes up
// again. When wrangler dies, `scripts/dev` notices, stops the origin and exits non-zero. The curl
// lines it prints answer what its demo world says they do, and its signed leak report revokes the
// key it names.
//
// The README's "Your API" walkthrough (examples/clockify/README.md), command by command:
// from-openapi → check → test → explain → `scripts/dev examples/clockify` and its curls.
//
// Needs ports 8787 and 8788 free. Reuses the built worker (scripts/test builds it before this
// suite); the [build] command wrangler dev runs on each start finds the build up to date
// (scripts/build-worker skips a build whose inputs are unchanged) and builds nothing.
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import net from "node:net";
import { join } from "node:path";
import { test } from "node:test";
import { ROOT } from "./lib/gateway.mjs";

const PORTS = [8787, 8788];
const READY = "keyscope gateway: http://localhost:8787";

const listening = (port) =>
  new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    socket.once("connect", () => (socket.destroy(), resolve(true)));
    socket.once("error", () => resolve(false));
  });

/** Starts `scripts/dev` in its own process group; resolves once it printed its banner. */
function startDev(args = []) {
  const child = spawn("bash", ["scripts/dev", ...args], {
    cwd: ROOT,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    // Reuse the worker the suite was built with (scripts/dev builds it when it is missing).
    env: { ...process.env, KEYSCOPE_SKIP_BUILD: "1" },
  });
  let output = "";
  const exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  const ready = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`scripts/dev not ready in 10 min:\n${output.slice(-3000)}`)), 600_000);
    const watch = (chunk) => {
      output += chunk;
      if (output.includes(READY)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout.on("data", watch);
    child.stderr.on("data", watch);
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`scripts/dev exited (${signal ?? code}) before it was ready:\n${output.slice(-3000)}`));
    });
  });
  ready.catch(() => {});
  return { child, ready, exited, output: () => output };
}

/** Kills whatever is left of a run (the test's safety net, not what is tested). */
function cleanup(dev) {
  try {
    process.kill(-dev.child.pid, "SIGKILL");
  } catch {}
}

/**
 * Sends every curl line `scripts/dev` printed under "Try:" and checks each answers the status its
 * demo world (`worldFile`) says: the printed keys and paths are the ones that were seeded.
 */
async function checkTries(output, worldFile) {
  const world = JSON.parse(readFileSync(join(ROOT, worldFile), "utf8"));
  const tries = output.slice(output.indexOf("\nTry:")).split("\n# the admin API")[0];
  const curls = [...tries.matchAll(/curl -s -X (\w+) (http:\/\/localhost:8787\S+) -H '([^:]+): ([^']+)'/g)].slice(0, world.tries.length);
  assert.equal(curls.length, world.tries.length, "one curl line per try");
  for (const [i, [, method, url, header, value]] of curls.entries()) {
    const res = await fetch(url.replace("localhost", "127.0.0.1"), { method, headers: { [header]: value } });
    assert.equal(res.status, world.tries[i].status, `${world.tries[i].what}: ${method} ${url} → ${res.status} ${await res.text()}`);
  }
}

/**
 * Runs the printed secret-scanning demo: the leaked key works, the signed report is accepted
 * (GitHub's feedback: a true positive), and the key is refused from the next request on.
 */
async function checkLeakDemo(output) {
  const section = output.slice(output.indexOf("\nSecret scanning"));
  const [, method, url, value] = section.match(/curl -s -X (\w+) (http:\/\/localhost:8787\S+) -H 'X-Api-Key: ([^']+)'/);
  const call = () => fetch(url.replace("localhost", "127.0.0.1"), { method, headers: { "x-api-key": value } });
  assert.equal((await call()).status, 200, "the key to be leaked works before the report");
  const [, id] = section.match(/-H 'Github-Public-Key-Identifier: ([0-9a-f]+)'/);
  const [, signature] = section.match(/-H 'Github-Public-Key-Signature: ([^']+)'/);
  const [, body] = section.match(/ -d '([^']+)'/);
  const res = await fetch("http://127.0.0.1:8787/secret-scanning/v1/github", {
    method: "POST",
    headers: { "content-type": "application/json", "github-public-key-identifier": id, "github-public-key-signature": signature },
    body,
  });
  assert.equal(res.status, 200, await res.clone().text());
  assert.equal((await res.json())[0].label, "true_positive");
  const after = await call();
  assert.equal(after.status, 401);
  assert.equal((await after.json()).reason, "key_revoked");
}

/** The CLI, as the walkthrough runs it (`cargo run -q -p keyscope-cli --`). */
const keyscope = (...args) => execFileSync("cargo", ["run", "-q", "-p", "keyscope-cli", "--", ...args], { cwd: ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });

/** The direct children of `pid` with their command lines. */
function childrenOf(pid) {
  const out = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(join("/proc", entry, "stat"), "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === pid) out.push({ pid: Number(entry), cmdline: readFileSync(join("/proc", entry, "cmdline"), "utf8").replaceAll("\0", " ") });
    } catch {} // gone meanwhile
  }
  return out;
}

test("scripts/dev: Ctrl-C frees 8787 and 8788, a second run works, a dead wrangler stops it", { timeout: 1_500_000 }, async (t) => {
  for (const port of PORTS) assert.equal(await listening(port), false, `port ${port} must be free before this test`);

  // 1. Start, use, stop with SIGINT.
  const first = startDev();
  t.after(() => cleanup(first));
  await first.ready;
  const me = await fetch("http://127.0.0.1:8787/api/v1/me");
  assert.equal(me.status, 401);
  assert.equal((await me.json()).reason, "missing_key");
  const origin = await fetch("http://127.0.0.1:8788/anything");
  assert.equal(origin.status, 200);
  await checkTries(first.output(), "scripts/demo-world.json");
  await checkLeakDemo(first.output());
  process.kill(first.child.pid, "SIGINT");
  const stopped = await first.exited;
  for (const port of PORTS) assert.equal(await listening(port), false, `port ${port} still listens after Ctrl-C`);
  assert.equal(stopped.code, 130, first.output().slice(-2000));

  // 2. A second run right after comes up and serves.
  const second = startDev();
  t.after(() => cleanup(second));
  await second.ready;
  assert.equal((await fetch("http://127.0.0.1:8787/api/v1/me")).status, 401);

  // 3. Wrangler dies: scripts/dev notices, stops the demo origin, exits non-zero.
  const wrangler = childrenOf(second.child.pid).find((c) => /wrangler/.test(c.cmdline));
  assert.ok(wrangler, `no wrangler child of scripts/dev: ${JSON.stringify(childrenOf(second.child.pid))}`);
  process.kill(-wrangler.pid, "SIGKILL");
  const died = await second.exited;
  assert.notEqual(died.code, 0);
  assert.match(second.output(), /the gateway \(wrangler\) exited/);
  for (const port of PORTS) assert.equal(await listening(port), false, `port ${port} still listens after wrangler died`);
});

test("the 'Your API' walkthrough: from-openapi, check, test, explain, scripts/dev examples/clockify", { timeout: 1_500_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "keyscope-walkthrough-"));
  const draft = join(dir, "draft.json");
  keyscope("policy", "from-openapi", "examples/clockify/openapi.yaml", "--organization-param", "workspaceId", "--user-param", "userId", "--prefix", "clk", "-o", draft);
  const made = JSON.parse(readFileSync(draft, "utf8"));
  const operations = readFileSync(join(ROOT, "examples/clockify/openapi.yaml"), "utf8").match(/^    (get|post|put|patch|delete):$/gm).length;
  assert.equal(made.endpoints.length, operations, "one row per operation");
  assert.equal(made.keyPrefix, "clk");
  assert.match(keyscope("policy", "check", draft), /:workspaceId/);

  const table = keyscope("policy", "check", "examples/clockify/policy.json");
  assert.match(table, /\/api\/v1\/workspaces\/:workspaceId\/user\/:userId\/time-entries/);
  keyscope("policy", "test", "examples/clockify/policy.json", "examples/clockify/vectors.json");
  const why = keyscope("policy", "explain", "--policy", "examples/clockify/policy.json", "--key", "examples/clockify/key.json", "--role", "member", "GET", "/api/v1/workspaces/ws_globex/projects");
  assert.match(why, /scope_violation/);
  assert.match(why, /organization/);

  for (const port of PORTS) assert.equal(await listening(port), false, `port ${port} must be free before this test`);
  const dev = startDev(["examples/clockify"]);
  t.after(() => cleanup(dev));
  await dev.ready;
  assert.match(dev.output(), /clk_live_[0-9A-Za-z]{36}/);
  await checkTries(dev.output(), "examples/clockify/world.json");
  process.kill(dev.child.pid, "SIGINT");
  assert.equal((await dev.exited).code, 130);
});
