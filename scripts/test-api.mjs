// The body of `scripts/test-api` (which installs schemathesis and builds first): starts the built
// gateway on workerd (Miniflare, as the e2e suite does) with an admin token, then runs
// schemathesis against edge-worker/openapi.json three times — with the token, without one, and
// with a wrong one — every check, a fixed seed, a bounded number of examples per operation.
// Prints every failure (operation, check, request) and exits 1 if there is any.
//
//   node scripts/test-api.mjs [--max-examples N] [--seed S] [--findings FILE.md] [--report-dir DIR]
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { ADMIN_TOKEN, ROOT, startGateway } from "../tests/e2e/lib/gateway.mjs";

const { values: opts } = parseArgs({
  options: {
    "max-examples": { type: "string", default: "50" },
    seed: { type: "string", default: "20261124" },
    findings: { type: "string" },
    "report-dir": { type: "string", default: join(ROOT, "target", "schemathesis") },
  },
});
const SCHEMATHESIS = join(ROOT, ".venv", "bin", "schemathesis");
const SCHEMA = join(ROOT, "edge-worker", "openapi.json");
const REPORTS = opts["report-dir"];
const RUN_BUDGET_MS = 15 * 60_000;

rmSync(REPORTS, { recursive: true, force: true });
mkdirSync(REPORTS, { recursive: true });

const gateway = await startGateway();
const base = `http://127.0.0.1:${gateway.port}`;
// A little world, so that some generated requests meet existing rows.
await gateway.admin.putMember("org_demo", "u_admin", "admin");
await gateway.admin.putMember("org_demo", "u_member", "member");
await gateway.admin.createKey("org_demo", { actingUserId: "u_admin", name: "existing", scope: "organization" });

const runs = [
  { name: "admin token", slug: "token", headers: [`Authorization: Bearer ${ADMIN_TOKEN}`] },
  { name: "no token", slug: "no-token", headers: [] },
  { name: "wrong token", slug: "wrong-token", headers: ["Authorization: Bearer not-the-admin-token"] },
];

/** Runs schemathesis once; resolves to its exit code. */
function schemathesis(run) {
  const args = [
    "run", SCHEMA,
    "--url", base,
    "--checks", "all",
    "--seed", opts.seed,
    "--max-examples", opts["max-examples"],
    "--workers", "1",
    "--generation-database", "none",
    "--no-color",
    "--report", "ndjson",
    "--report-ndjson-path", join(REPORTS, `${run.slug}.ndjson`),
    ...run.headers.flatMap((h) => ["--header", h]),
  ];
  return new Promise((resolve) => {
    const child = spawn(SCHEMATHESIS, args, { stdio: ["ignore", "pipe", "inherit"] });
    const out = [];
    child.stdout.on("data", (c) => {
      out.push(c);
      process.stdout.write(c);
    });
    const timer = setTimeout(() => child.kill("SIGTERM"), RUN_BUDGET_MS);
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      writeFileSync(join(REPORTS, `${run.slug}.txt`), Buffer.concat(out));
      resolve(code ?? (signal ? 124 : 1));
    });
  });
}

/** The failures of one run, from its NDJSON event stream: {operation, check, message, request}. */
function failuresOf(run) {
  const path = join(REPORTS, `${run.slug}.ndjson`);
  if (!existsSync(path)) return [];
  const found = new Map();
  for (const line of readFileSync(path, "utf8").split("\n")) {
    if (!line.trim()) continue;
    let event;
    try {
      event = JSON.parse(line);
    } catch {
      continue;
    }
    collect(event, found);
  }
  return [...found.values()];
}

// Walks an event for check results that failed; schemathesis' NDJSON nests them under the
// scenario's recorder (`checks` per case id, each with `name`, `status`, `failure_info`).
function collect(node, found, operation) {
  if (Array.isArray(node)) {
    for (const item of node) collect(item, found, operation);
    return;
  }
  if (!node || typeof node !== "object") return;
  const label = typeof node.label === "string" && /^[A-Z]+ \//.test(node.label) ? node.label : operation;
  if (typeof node.name === "string" && node.status === "FAILURE" && node.failure_info) {
    const info = node.failure_info;
    const failure = info.failure ?? {};
    const title = failure.title ?? failure.message ?? "";
    const curl = info.code_sample ?? "";
    const key = `${label}|${node.name}|${title}`;
    if (!found.has(key)) {
      found.set(key, {
        operation: label ?? "(unknown)",
        check: node.name,
        title,
        message: (failure.message ?? "").trim(),
        request: curl.trim(),
        count: 0,
      });
    }
    found.get(key).count++;
    return;
  }
  for (const value of Object.values(node)) collect(value, found, label);
}

const results = [];
try {
  for (const run of runs) {
    console.log(`\n==> schemathesis, ${run.name}: all checks, seed ${opts.seed}, at most ${opts["max-examples"]} examples per operation`);
    const code = await schemathesis(run);
    results.push({ run, code, failures: failuresOf(run) });
  }
} finally {
  await gateway.dispose();
}

let total = 0;
const lines = [];
for (const { run, code, failures } of results) {
  total += failures.length + (code !== 0 && failures.length === 0 ? 1 : 0);
  lines.push(`## ${run.name} (schemathesis exit ${code}): ${failures.length} distinct failure(s)`, "");
  if (code !== 0 && failures.length === 0) lines.push(`- schemathesis exited ${code} without a failure in its report; see ${REPORTS}/${run.slug}.txt`, "");
  for (const f of failures) {
    lines.push(`- **${f.operation}** — check \`${f.check}\`: ${f.title} (${f.count}×)`);
    if (f.message) lines.push(`  - ${f.message.replaceAll("\n", "\n    ")}`);
    if (f.request) lines.push("  - request:", "    ```", `    ${f.request.replaceAll("\n", "\n    ")}`, "    ```");
  }
  lines.push("");
}
const report = lines.join("\n");
console.log(`\n==> schemathesis findings\n\n${report}`);
if (opts.findings) writeFileSync(opts.findings, report);
process.exit(total ? 1 : 0);
