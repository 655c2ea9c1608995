// The body of `scripts/dev` (which installs and builds first): fresh local state, migrations,
// demo origin, wrangler dev, then the demo world seeded through the admin API.
import { execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";

const GATEWAY = "http://localhost:8787";
const run = (cmd, args) => execFileSync(cmd, args, { stdio: ["ignore", "pipe", "inherit"] }).toString();

// The admin API's service token: wrangler dev reads secrets from .dev.vars (never committed).
const vars = existsSync(".dev.vars") ? readFileSync(".dev.vars", "utf8") : "";
let token = /^KEYSCOPE_ADMIN_TOKEN\s*=\s*"?([^"\n]+)"?/m.exec(vars)?.[1];
if (!token) {
  token = randomBytes(24).toString("base64url");
  writeFileSync(".dev.vars", `${vars}${vars && !vars.endsWith("\n") ? "\n" : ""}KEYSCOPE_ADMIN_TOKEN="${token}"\n`);
  console.log("==> wrote a new admin token to .dev.vars");
}

console.log("==> fresh local state, D1 migrations");
rmSync(".wrangler/state", { recursive: true, force: true });
run("npx", ["wrangler", "d1", "migrations", "apply", "DB", "--local"]);

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

for (let i = 0; i < 120; i++) {
  try {
    await fetch(`${GATEWAY}/api/v1/me`);
    break;
  } catch {
    await new Promise((r) => setTimeout(r, 500));
  }
}

console.log("==> seeding the demo organization through the admin API");
async function admin(method, path, body) {
  const res = await fetch(`${GATEWAY}/admin/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`admin ${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}
const org = "org_demo";
for (const [user, role] of [["u_admin", "admin"], ["u_manager", "manager"], ["u_engineer", "engineer"], ["u_member", "member"], ["u_former", "engineer"]]) {
  await admin("PUT", `/organizations/${org}/members/${user}`, { role });
}
await admin("POST", "/resources/batch", {
  put: [
    { kind: "time_entry", id: "te_web_1", organizationId: org, projectId: "p_web" },
    { kind: "time_entry", id: "te_mobile_1", organizationId: org, projectId: "p_mobile" },
  ],
});
// The manager's key on p_web: created by the admin (managers may not create keys), so it acts
// with the admin's role, narrowed to what an approver needs.
const demo = [
  { label: "org admin, full", id: "admin", body: { actingUserId: "u_admin", name: "Admin CLI", scope: "organization" } },
  { label: "project engineer (p_web), full", id: "web_ci", body: { actingUserId: "u_engineer", name: "Web CI", scope: "project", scopedProjectId: "p_web" } },
  { label: "read-only (read preset), org", id: "dashboard", body: { actingUserId: "u_admin", name: "Dashboard", scope: "organization", preset: "read" } },
  { label: "approver on p_web", id: "approvals", body: { actingUserId: "u_admin", name: "Approvals bot", scope: "project", scopedProjectId: "p_web", permissions: ["read:time_entry", "approve:time_entry"] } },
  { label: "revoked", id: "old_deploy", body: { actingUserId: "u_admin", name: "Old deploy", scope: "organization" }, revoke: true },
  { label: "creator removed", id: "former", body: { actingUserId: "u_former", name: "Former's script", scope: "project", scopedProjectId: "p_web" } },
];
const keys = {};
for (const k of demo) {
  const created = await admin("POST", `/organizations/${org}/keys`, k.body);
  keys[k.id] = created.secret;
  if (k.revoke) await admin("POST", `/organizations/${org}/keys/${created.key.id}/revoke`, { actingUserId: "u_admin" });
}
await admin("DELETE", `/organizations/${org}/members/u_former`);

const line = (what, method, path, key, header = "x-api-key") =>
  `  # ${what}\n  curl -s -X ${method} ${GATEWAY}${path} -H '${header === "x-api-key" ? `X-Api-Key: ${key}` : `Authorization: Bearer ${key}`}'\n`;
console.log(`
keyscope gateway: ${GATEWAY}  (origin: http://127.0.0.1:8788, organization ${org})

Demo keys (returned once by the admin API; only their SHA-256 is stored):
${demo.map((k) => `  ${k.label.padEnd(34)} ${keys[k.id]}`).join("\n")}

Try:
${line("allowed: the project key reads its own project's entries (origin echoes the identity headers)", "GET", "/api/v1/projects/p_web/entries", keys.web_ci)}
${line("allowed, filtered: the origin is told X-Keyscope-Project-Filter: p_web", "GET", "/api/v1/projects", keys.web_ci, "bearer")}
${line("403 scope_violation: a project key on an org-wide endpoint", "GET", "/api/v1/users", keys.web_ci)}
${line("403 forbidden: a read-only key cannot create projects", "POST", "/api/v1/projects", keys.dashboard)}
${line("401 key_revoked: a revoked key", "GET", "/api/v1/me", keys.old_deploy)}
${line("401 key_revoked: its creator left the organization", "GET", "/api/v1/projects/p_web/entries", keys.former)}
${line("/me: what a key can learn about itself", "GET", "/api/v1/me", keys.admin)}
${line("allowed: the approver key approves an entry of its project", "POST", "/api/v1/time-entries/te_web_1/approve", keys.approvals)}
${line("404 not_found: another project's entry is invisible to a project key", "POST", "/api/v1/time-entries/te_mobile_1/approve", keys.approvals)}
  # the admin API (token in .dev.vars): the organization's keys, with last used
  curl -s ${GATEWAY}/admin/v1/organizations/${org}/keys -H 'Authorization: Bearer ${token}'

More than 10 requests a second with one key answer 429 rate_limited. Ctrl-C stops everything.
`);

// ---- The key console: one-time links for the demo admin and the demo engineer ----------------
await printConsoleLinks();

/** Asks the admin API for a console link per demo user and prints them (each works once, 10 min). */
async function printConsoleLinks() {
  const lines = [];
  for (const [who, user] of [["admin", "u_admin"], ["engineer", "u_engineer"]]) {
    const { url, expiresAt } = await admin("POST", `/organizations/${org}/console-sessions`, {
      actingUserId: user,
      returnUrl: "http://127.0.0.1:8788/",
    });
    lines.push(`  ${who.padEnd(9)} ${url}   (until ${expiresAt})`);
  }
  console.log(`Key console (each link opens once, within 10 minutes; more: POST ${GATEWAY}/admin/v1/organizations/${org}/console-sessions):
${lines.join("\n")}
`);
}
