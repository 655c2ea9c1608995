// The body of `scripts/test-api` (which installs schemathesis and builds first): starts the built
// gateway on workerd (Miniflare, as the e2e suite does) with an admin token, then runs
// schemathesis against edge-worker/openapi.json three times — with the token, without one, and
// with a wrong one — every check, a fixed seed, a bounded number of examples per operation.
// Prints every failure (operation, check, request) and exits 1 if there is any.
//
//   node scripts/test-api.mjs [--max-examples N] [--seed S] [--findings FILE.md] [--report-dir DIR]
import { spawn } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { ADMIN_TOKEN, ROOT, startGateway, startReceiver } from "../tests/e2e/lib/gateway.mjs";

const { values: opts } = parseArgs({
  options: {
    "max-examples": { type: "string", default: "50" },
    seed: { type: "string", default: "20261124" },
    findings: { type: "string" },
    "report-dir": { type: "string", default: join(ROOT, "target", "schemathesis") },
    // Only summarise the reports of an earlier run (no gateway, no schemathesis).
    "from-reports": { type: "boolean", default: false },
  },
});
const SCHEMATHESIS = join(ROOT, ".venv", "bin", "schemathesis");
const SCHEMA = join(ROOT, "edge-worker", "openapi.json");
const REPORTS = opts["report-dir"];
const RUN_BUDGET_MS = 15 * 60_000;
let base = "";

const FROM_REPORTS = opts["from-reports"];
if (!FROM_REPORTS) {
  rmSync(REPORTS, { recursive: true, force: true });
  mkdirSync(REPORTS, { recursive: true });
}

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
    // The hooks (tests/api/schemathesis_hooks.py) state the one rule JSON Schema cannot: a new
    // key's expiresAt is in the future.
    const env = { ...process.env, SCHEMATHESIS_HOOKS: "schemathesis_hooks", PYTHONPATH: join(ROOT, "tests", "api") };
    const child = spawn(SCHEMATHESIS, args, { cwd: ROOT, env, stdio: ["ignore", "pipe", "inherit"] });
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

/** Text of a recorded body (`{"$base64": …}` or a string), shortened. */
const bodyText = (body, max = 400) => {
  if (body == null) return "";
  const text = typeof body === "string" ? body : Buffer.from(body.$base64 ?? "", "base64").toString("utf8");
  return text.length > max ? `${text.slice(0, max)}…` : text;
};

/**
 * The failures of one run, from its NDJSON event stream: every failed check of every scenario,
 * grouped by operation, check and the server's answer (status and `reason`/`message`), with one
 * request that shows it and how many cases did.
 */
function failuresOf(run) {
  const path = join(REPORTS, `${run.slug}.ndjson`);
  if (!existsSync(path)) return [];
  const found = new Map();
  for (const line of readFileSync(path, "utf8").split("\n")) {
    if (!line.includes('"failure"')) continue;
    let recorder;
    try {
      recorder = JSON.parse(line).ScenarioFinished?.recorder;
    } catch {
      continue;
    }
    if (!recorder) continue;
    for (const [caseId, checks] of Object.entries(recorder.checks ?? {})) {
      for (const check of checks) {
        if (check.status !== "failure") continue;
        const failure = check.failure_info?.failure ?? {};
        const interaction = recorder.interactions?.[caseId];
        const response = interaction?.response;
        let answer = response ? `${response.status_code}` : "no response";
        try {
          const json = JSON.parse(bodyText(response?.content, 100_000));
          if (json?.reason) answer += ` ${json.reason}: ${json.message}`;
        } catch {
          if (response?.content) answer += ` ${bodyText(response.content, 200)}`;
        }
        const operation = failure.operation ?? recorder.label ?? "(unknown)";
        const key = [operation, check.name, failure.code, answer].join("|");
        const entry = found.get(key) ?? {
          operation,
          check: check.name,
          code: failure.code ?? "",
          title: failure.title ?? "",
          message: (failure.message ?? "").trim(),
          answer,
          request: interaction?.request
            ? `${interaction.request.method} ${interaction.request.uri}${interaction.request.body != null ? ` ${bodyText(interaction.request.body)}` : ""}`
            : "",
          scenario: recorder.cases?.[caseId]?.value?.meta?.phase?.data?.description ?? "",
          count: 0,
        };
        entry.count++;
        found.set(key, entry);
      }
    }
  }
  return [...found.values()].sort((a, b) => a.operation.localeCompare(b.operation) || a.check.localeCompare(b.check));
}

const results = [];
if (FROM_REPORTS) {
  for (const run of runs) results.push({ run, code: 0, failures: failuresOf(run) });
} else {
  // Secret scanning configured (a key set of a pair made here), so its endpoint answers what a
  // deployment's would: 4xx for every unsigned or mis-signed report, never "not configured".
  const { publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const keySet = JSON.stringify({
    public_keys: [{ key_identifier: "test-key", key: publicKey.export({ type: "spki", format: "pem" }), is_current: true }],
  });
  // Event webhooks configured too (a loopback receiver), so that replay and the deliveries
  // listing answer as a deployment's do.
  const receiver = await startReceiver();
  const gateway = await startGateway({
    bindings: { KEYSCOPE_GITHUB_KEYS: keySet, KEYSCOPE_EVENTS_URL: receiver.url, KEYSCOPE_EVENTS_SECRET: "whsec_test_api" },
  });
  base = `http://127.0.0.1:${gateway.port}`;
  try {
    // A little world, so that some generated requests meet existing rows.
    await gateway.admin.putMember("org_demo", "u_admin", "admin");
    await gateway.admin.putMember("org_demo", "u_member", "member");
    await gateway.admin.createKey("org_demo", { actingUserId: "u_admin", name: "existing", scope: "organization" });
    for (const run of runs) {
      console.log(`\n==> schemathesis, ${run.name}: all checks, seed ${opts.seed}, at most ${opts["max-examples"]} examples per operation`);
      const code = await schemathesis(run);
      results.push({ run, code, failures: failuresOf(run) });
    }
  } finally {
    await gateway.dispose();
    await receiver.close();
  }
}

let total = 0;
const lines = [];
for (const { run, code, failures } of results) {
  total += failures.length + (code !== 0 && failures.length === 0 ? 1 : 0);
  lines.push(`## ${run.name} (schemathesis exit ${code}): ${failures.length} distinct failure(s)`, "");
  if (code !== 0 && failures.length === 0) lines.push(`- schemathesis exited ${code} without a failure in its report; see ${REPORTS}/${run.slug}.txt`, "");
  for (const f of failures) {
    lines.push(`- **${f.operation}** — \`${f.check}\` (${f.code} ${f.title}), ${f.count} case(s)`);
    lines.push(`  - server answered: \`${f.answer}\``);
    if (f.message) lines.push(`  - schemathesis: ${f.message.replaceAll("\n", "; ")}`);
    if (f.scenario) lines.push(`  - generated as: ${f.scenario.replaceAll("\n", "; ")}`);
    if (f.request) lines.push(`  - request: \`${f.request}\``);
  }
  lines.push("");
}
const report = lines.join("\n");
console.log(`\n==> schemathesis findings\n\n${report}`);
if (opts.findings) writeFileSync(opts.findings, report);
process.exit(total ? 1 : 0);
