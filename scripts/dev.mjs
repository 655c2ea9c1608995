// The body of `scripts/dev` (which installs and builds first): fresh local state, migrations,
// demo origin, wrangler dev, then the demo world seeded through the admin API.
import { execFileSync, spawn } from "node:child_process";
import { generateKeyPairSync, randomBytes, sign } from "node:crypto";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";

const GATEWAY = "http://localhost:8787";
const PORTS = [8787, 8788];
const WRANGLER = "node_modules/.bin/wrangler";
const run = (cmd, args) => execFileSync(cmd, args, { stdio: ["ignore", "pipe", "inherit"] }).toString();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Whether something accepts connections on 127.0.0.1:`port`. */
const listening = (port) =>
  new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    socket.once("connect", () => (socket.destroy(), resolve(true)));
    socket.once("error", () => resolve(false));
  });

// A gateway or origin left over from elsewhere would answer instead of ours (or make wrangler
// fail with "Address already in use"): say so plainly.
for (const port of PORTS) {
  if (await listening(port)) {
    console.error(`scripts/dev: something already listens on 127.0.0.1:${port}; stop it first (e.g. \`lsof -i :${port}\`)`);
    process.exit(1);
  }
}

// The admin API's service token: wrangler dev reads secrets from .dev.vars (never committed).
const vars = existsSync(".dev.vars") ? readFileSync(".dev.vars", "utf8") : "";
let token = /^KEYSCOPE_ADMIN_TOKEN\s*=\s*"?([^"\n]+)"?/m.exec(vars)?.[1];
if (!token) {
  token = randomBytes(24).toString("base64url");
  writeFileSync(".dev.vars", `${vars}${vars && !vars.endsWith("\n") ? "\n" : ""}KEYSCOPE_ADMIN_TOKEN="${token}"\n`);
  console.log("==> wrote a new admin token to .dev.vars");
}

// Secret scanning, as GitHub would call it: a P-256 key pair made for this run stands in for
// GitHub's, its public half is the local key set (KEYSCOPE_GITHUB_KEYS in .dev.vars, replaced each
// run); the private half only signs the sample leak report printed below, and is never written.
const github = generateKeyPairSync("ec", { namedCurve: "P-256" });
const GITHUB_KEY_ID = randomBytes(32).toString("hex");
const keySet = JSON.stringify({
  public_keys: [{ key_identifier: GITHUB_KEY_ID, key: github.publicKey.export({ type: "spki", format: "pem" }), is_current: true }],
});
{
  const kept = readFileSync(".dev.vars", "utf8").split("\n").filter((l) => l && !l.startsWith("KEYSCOPE_GITHUB_KEYS="));
  // Single quotes: dotenv keeps the JSON (its `\n` escapes included) exactly as written.
  writeFileSync(".dev.vars", `${[...kept, `KEYSCOPE_GITHUB_KEYS='${keySet}'`].join("\n")}\n`);
}

console.log("==> fresh local state, D1 migrations");
rmSync(".wrangler/state", { recursive: true, force: true });
run(WRANGLER, ["d1", "migrations", "apply", "DB", "--local"]);

// Each child leads its own process group (`detached`), so that stopping kills the whole tree
// (wrangler → workerd) and not only the first process; a terminal's Ctrl-C reaches only us.
console.log("==> starting the demo origin and the gateway");
const spawnGroup = (name, cmd, args) => {
  const child = spawn(cmd, args, { stdio: ["ignore", "inherit", "inherit"], detached: true });
  child.name = name;
  child.exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  return child;
};
const children = [
  spawnGroup("demo origin", process.execPath, ["scripts/demo-origin.mjs"]),
  spawnGroup("gateway (wrangler)", WRANGLER, ["dev", "--local", "--ip", "127.0.0.1", "--port", "8787", "--show-interactive-dev-session=false"]),
];
const signalGroups = (signal) => {
  for (const child of children) {
    try {
      process.kill(-child.pid, signal);
    } catch {} // the group is gone already
  }
};

let stopping = null;
let stopped = false;
/** Stops every child's process group (TERM, then KILL after 5 s), waits for the ports, exits. */
function stop(code, why) {
  stopping ??= (async () => {
    if (why) console.error(`==> ${why}; stopping`);
    signalGroups("SIGTERM");
    const all = Promise.all(children.map((c) => (c.exitCode === null && c.signalCode === null ? c.exited : null)));
    if ((await Promise.race([all.then(() => "done"), sleep(5000)])) !== "done") signalGroups("SIGKILL");
    // workerd may outlive wrangler for a moment: wait until both ports are free (or KILL).
    for (let i = 0; i < 50 && (await Promise.all(PORTS.map(listening))).some(Boolean); i++) {
      if (i === 30) signalGroups("SIGKILL");
      await sleep(100);
    }
    stopped = true;
    process.exit(code);
  })();
  return stopping;
}
process.on("SIGINT", () => stop(130));
process.on("SIGTERM", () => stop(143));
process.on("SIGHUP", () => stop(129));
// Last resort if we die some other way (an exception): no group outlives us.
process.on("exit", () => stopped || signalGroups("SIGKILL"));
for (const child of children) {
  child.exited.then(({ code, signal }) => stop(code || 1, `the ${child.name} exited (${signal ?? `code ${code}`})`));
}

let ready = false;
for (let i = 0; i < 240 && !ready && !stopping; i++) {
  try {
    await fetch(`${GATEWAY}/api/v1/me`);
    ready = true;
  } catch {
    await sleep(500);
  }
}
if (stopping) await stopping;
if (!ready) await stop(1, "the gateway did not answer within 120 s");

// The demo world: scripts/demo-world.json for the default Align policy, or the world.json of the
// directory `scripts/dev DIR` was given (its policy.json is the bundled policy).
const worldFile = process.env.KEYSCOPE_DEV_WORLD || "scripts/demo-world.json";
const world = JSON.parse(readFileSync(worldFile, "utf8"));
console.log(`==> seeding the demo organization through the admin API (${worldFile})`);
async function admin(method, path, body) {
  const res = await fetch(`${GATEWAY}/admin/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) await stop(1, `admin ${method} ${path} answered ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}
const org = world.organization;
for (const [user, role] of Object.entries(world.members)) {
  await admin("PUT", `/organizations/${org}/members/${user}`, { role });
}
if (world.resources.length) {
  await admin("POST", "/resources/batch", { put: world.resources.map((r) => ({ organizationId: org, ...r })) });
}
const keys = {};
const keyIds = {};
for (const k of world.keys) {
  const created = await admin("POST", `/organizations/${org}/keys`, k.body);
  keys[k.id] = created.secret;
  keyIds[k.id] = created.key.id;
  if (k.revoke) await admin("POST", `/organizations/${org}/keys/${created.key.id}/revoke`, { actingUserId: k.body.actingUserId });
}
for (const user of world.removeMembers) await admin("DELETE", `/organizations/${org}/members/${user}`);

// One more key, made to be leaked, like the key of the first allowed try: the sample report names
// it, signed as GitHub signs reports.
const allowedTry = world.tries.find((t) => t.key && t.status === 200) ?? world.tries[0];
const leakedLike = world.keys.find((k) => k.id === allowedTry.key) ?? world.keys[0];
const leaked = await admin("POST", `/organizations/${org}/keys`, { ...leakedLike.body, name: "Leaked on purpose (secret-scanning demo)" });
const leakReport = JSON.stringify([
  { token: leaked.secret, type: "keyscope_api_key", url: "https://github.com/example/app/blob/main/.env", source: "content" },
]);
const leakSignature = sign("sha256", Buffer.from(leakReport), github.privateKey).toString("base64");

// Asked for before anything is printed, so the summary ends the output once everything is done.
const consoleLinks = await consoleLinkLines();

// The first refused try is the one the explain line asks about.
const explained = world.tries.find((t) => t.key && t.status >= 400) ?? world.tries[0];
const line = ({ what, method, path, key, raw, bearer }) => {
  const secret = raw ?? keys[key];
  return `  # ${what}\n  curl -s -X ${method} ${GATEWAY}${path} -H '${bearer ? `Authorization: Bearer ${secret}` : `X-Api-Key: ${secret}`}'\n`;
};
console.log(`
keyscope gateway: ${GATEWAY}  (origin: http://127.0.0.1:8788, organization ${org})

Demo keys (returned once by the admin API; only their SHA-256 is stored):
${world.keys.map((k) => `  ${k.label.padEnd(34)} ${keys[k.id]}`).join("\n")}

Try:
${world.tries.map(line).join("\n")}
  # the admin API (token in .dev.vars): the organization's keys, with last used
  curl -s ${GATEWAY}/admin/v1/organizations/${org}/keys -H 'Authorization: Bearer ${token}'
  # why was it refused? the check that decides (nothing is forwarded), and the key's access table
  curl -s -X POST ${GATEWAY}/admin/v1/organizations/${org}/keys/${keyIds[explained.key]}/explain -H 'Authorization: Bearer ${token}' -H 'content-type: application/json' -d '{"method": "${explained.method}", "path": "${explained.path}"}'
  curl -s ${GATEWAY}/admin/v1/organizations/${org}/keys/${keyIds[explained.key]}/access -H 'Authorization: Bearer ${token}'

Key console (each link opens once, within 10 minutes; more: POST ${GATEWAY}/admin/v1/organizations/${org}/console-sessions):
${consoleLinks}

Secret scanning (a local key set stands in for GitHub's): this key works until it is reported
  curl -s -X ${allowedTry.method} ${GATEWAY}${allowedTry.path} -H 'X-Api-Key: ${leaked.secret}'
  # the report GitHub would send, signed: the key is revoked at once, the next call is 401 key_revoked
  curl -s -X POST ${GATEWAY}/secret-scanning/v1/github -H 'content-type: application/json' -H 'Github-Public-Key-Identifier: ${GITHUB_KEY_ID}' -H 'Github-Public-Key-Signature: ${leakSignature}' -d '${leakReport}'

More than 10 requests a second with one key answer 429 rate_limited. Ctrl-C stops everything.
`);

// ---- The key console: one-time links for the demo admin and the demo engineer ----------------

/** Asks the admin API for a console link per demo user (each works once, within 10 minutes). */
async function consoleLinkLines() {
  const lines = [];
  for (const [who, user] of Object.entries(world.consoleUsers)) {
    const { url, expiresAt } = await admin("POST", `/organizations/${org}/console-sessions`, {
      actingUserId: user,
      returnUrl: "http://127.0.0.1:8788/",
    });
    lines.push(`  ${who.padEnd(9)} ${url}   (until ${expiresAt})`);
  }
  return lines.join("\n");
}
