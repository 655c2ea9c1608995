// The body of `scripts/dev` (which installs and builds first): fresh local state, migrations,
// demo world, demo origin, wrangler dev.
import { execFileSync, spawn } from "node:child_process";
import { rmSync } from "node:fs";
import { getPlatformProxy } from "wrangler";
import { KeyStore } from "../edge-worker/js/store.mjs";

const GATEWAY = "http://localhost:8787";
const run = (cmd, args) => execFileSync(cmd, args, { stdio: ["ignore", "pipe", "inherit"] }).toString();

console.log("==> fresh local state, D1 migrations");
rmSync(".wrangler/state", { recursive: true, force: true });
run("npx", ["wrangler", "d1", "migrations", "apply", "DB", "--local"]);

console.log("==> seeding the demo organization");
const { env, dispose } = await getPlatformProxy({ configPath: "wrangler.toml", persist: true });
const store = new KeyStore({ db: env.DB, kv: env.KEYS });
const org = "org_demo";
for (const [user, role] of [["u_admin", "admin"], ["u_manager", "manager"], ["u_engineer", "engineer"], ["u_member", "member"], ["u_former", "member"]]) {
  await store.putMember(org, user, role);
}
for (const [id, project] of [["te_web_1", "p_web"], ["te_mobile_1", "p_mobile"]]) {
  await store.putResource("time_entry", id, org, project);
}
const READ = ["read:project", "read:entry", "read:time_entry", "read:user", "read:webhook", "read:integration_link", "read:audit_event", "search"];
const demo = [
  { label: "org admin, full", id: "key_admin", user: "u_admin", scope: "organization" },
  { label: "project engineer (p_web), full", id: "key_web_ci", user: "u_engineer", scope: "project", project: "p_web" },
  { label: "read-only (read preset), org", id: "key_dashboard", user: "u_admin", scope: "organization", permissions: READ },
  { label: "project manager (p_web)", id: "key_approvals", user: "u_manager", scope: "project", project: "p_web" },
  { label: "revoked", id: "key_old_deploy", user: "u_admin", scope: "organization", revoke: true },
  { label: "creator removed", id: "key_former", user: "u_former", scope: "organization" },
];
const generated = run("target/release/keyscope", ["keygen", "--count", String(demo.length)]).trim().split("\n").map((l) => JSON.parse(l));
const keys = {};
for (const [i, k] of demo.entries()) {
  const g = generated[i];
  await store.putKey({
    hash: g.hash, id: k.id, name: k.label, hint: g.hint, organizationId: org, createdBy: k.user,
    scope: k.scope, scopedProjectId: k.project ?? null, permissions: k.permissions ?? null, createdAt: Date.now(),
  });
  if (k.revoke) await store.revokeKey(k.id);
  keys[k.id] = g.secret;
}
await store.removeMember(org, "u_former");
await dispose();

console.log("==> starting the demo origin and the gateway");
const children = [
  spawn(process.execPath, ["scripts/demo-origin.mjs"], { stdio: "inherit" }),
  spawn("npx", ["wrangler", "dev", "--local", "--ip", "127.0.0.1", "--port", "8787", "--show-interactive-dev-session=false"], {
    stdio: ["ignore", "inherit", "inherit"],
    detached: true,
  }),
];
const stop = () => {
  for (const child of children) {
    try {
      process.kill(child.detached ? -child.pid : child.pid, "SIGTERM");
    } catch {}
  }
  process.exit(0);
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
for (const child of children) child.on("exit", (code) => code && stop());

// Wait for the gateway before printing, so the curl lines work when they appear.
for (let i = 0; i < 120; i++) {
  try {
    await fetch(`${GATEWAY}/api/v1/me`);
    break;
  } catch {
    await new Promise((r) => setTimeout(r, 500));
  }
}

const line = (what, method, path, key, header = "x-api-key") =>
  `  # ${what}\n  curl -s -X ${method} ${GATEWAY}${path} -H '${header === "x-api-key" ? `X-Api-Key: ${key}` : `Authorization: Bearer ${key}`}'\n`;
console.log(`
keyscope gateway: ${GATEWAY}  (origin: http://127.0.0.1:8788, organization ${org})

Demo keys (shown once; only their SHA-256 is stored):
${demo.map((k) => `  ${k.label.padEnd(34)} ${keys[k.id]}`).join("\n")}

Try:
${line("allowed: the project key reads its own project's entries (origin echoes the identity headers)", "GET", "/api/v1/projects/p_web/entries", keys.key_web_ci)}
${line("allowed, filtered: the origin is told X-Keyscope-Project-Filter: p_web", "GET", "/api/v1/projects", keys.key_web_ci, "bearer")}
${line("403 scope_violation: a project key on an org-wide endpoint", "GET", "/api/v1/users", keys.key_web_ci)}
${line("403 forbidden: a read-only key cannot create projects", "POST", "/api/v1/projects", keys.key_dashboard)}
${line("401 key_revoked: a revoked key", "GET", "/api/v1/me", keys.key_old_deploy)}
${line("401 key_revoked: its creator left the organization", "GET", "/api/v1/projects", keys.key_former)}
${line("/me: what a key can learn about itself", "GET", "/api/v1/me", keys.key_admin)}
${line("allowed: a manager's project key approves an entry of its project", "POST", "/api/v1/time-entries/te_web_1/approve", keys.key_approvals)}
${line("404 not_found: another project's entry is invisible to a project key", "POST", "/api/v1/time-entries/te_mobile_1/approve", keys.key_approvals)}
Ctrl-C stops the gateway and the origin.
`);
