// `scripts/dev` stops cleanly: started, ready, stopped with SIGINT (what Ctrl-C sends) → nothing
// listens on 8787 (gateway) or 8788 (demo origin), and a second `scripts/dev` right after comes up
// again. When wrangler dies, `scripts/dev` notices, stops the origin and exits non-zero.
//
// Needs ports 8787 and 8788 free. Reuses the built worker (scripts/test builds it before this
// suite); the [build] command wrangler dev runs on each start finds the build up to date
// (scripts/build-worker skips a build whose inputs are unchanged) and builds nothing.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
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
function startDev() {
  const child = spawn("bash", ["scripts/dev"], {
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
