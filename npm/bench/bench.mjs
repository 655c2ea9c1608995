// Decisions per second on one request mix, in one run, of:
//   keyscope (the npm package, wasm) · @cedar-policy/cedar-wasm · casbin · hand-written JS.
// Path matching + decision; key lookup excluded (every peer gets the key's record from memory).
// All peers must agree on every request before anything is timed.
//
//   scripts/bench-npm            (builds the package and the mix, then runs this)
//   node bench.mjs <mix.json> [seconds per run] [rounds]
// Agreement is checked in this process; each timed run is a fresh `node` process running one
// peer (so no peer's JIT state or garbage affects another's), rounds interleaved, medians kept.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { newEnforcer, newModelFromString, StringAdapter } from "casbin";
import * as cedar from "@cedar-policy/cedar-wasm/nodejs";

const require = createRequire(import.meta.url);
const keyscope = require("keyscope");

const world = JSON.parse(readFileSync(process.argv[2], "utf8"));
const TIMED_PEER = process.argv[3] === "--time" ? process.argv[4] : undefined;
const PAIRED = process.argv[3] === "--pair";
const SECONDS = Number(TIMED_PEER ? process.argv[5] : PAIRED ? process.argv[4] : (process.argv[3] ?? 1.5));
const ROUNDS = Number(process.argv[4] ?? 3);
const samples = world.samples;

// ---- The Align rules as a static table (what the hand-written peer and the others route by) --
const TABLE = [
  ["GET", "me", null, "allow"],
  ["GET", "projects", "read:project", "filtered"],
  ["POST", "projects", "write:project", "deny"],
  ["DELETE", "projects/:id", "delete:project", "deny"],
  ["GET", "projects/:id/entries", "read:entry", "own_path"],
  ["POST", "projects/:id/entries", "write:entry", "own_path"],
  ["GET", "projects/:id/time-entries", "read:time_entry", "own_path"],
  ["POST", "projects/:id/time-entries", "write:time_entry", "own_path"],
  ["GET", "time-entries", "read:time_entry", "deny"],
  ["PATCH", "time-entries/:id", "write:time_entry", "own_resource"],
  ["POST", "time-entries/:id/approve", "approve:time_entry", "own_resource"],
  ["POST", "time-entries/:id/reject", "approve:time_entry", "own_resource"],
  ["POST", "time-entries/:id/unlock", "approve:time_entry", "own_resource"],
  ["GET", "users", "read:user", "deny"],
  ["POST", "users/invite", "invite:user", "deny"],
  ["GET", "webhooks", "read:webhook", "deny"],
  ["POST", "webhooks", "write:webhook", "deny"],
  ["GET", "integration-links", "read:integration_link", "filtered"],
  ["GET", "audit-events", "read:audit_event", "filtered"],
  ["GET", "search", "search", "filtered"],
];
const ALL = [
  "read:project", "write:project", "delete:project", "read:entry", "write:entry", "read:time_entry",
  "write:time_entry", "approve:time_entry", "read:user", "invite:user", "read:webhook", "write:webhook",
  "read:integration_link", "read:audit_event", "search",
];
const MEMBER = ALL.filter((p) => !["approve:time_entry", "invite:user", "delete:project"].includes(p));
const ROLES = {
  member: new Set(MEMBER),
  engineer: new Set(MEMBER),
  manager: new Set([...MEMBER, "approve:time_entry"]),
  admin: new Set(ALL),
};
const resources = new Map(Object.entries(world.resources));

// ---- Hand-written JS: what a team writes instead of adopting a library -------------------
const PATTERNS = TABLE.map((row) => row[1].split("/"));
const ID = /^[A-Za-z0-9_-]{1,64}$/;
function route(method, target) {
  const q = target.indexOf("?");
  const path = q === -1 ? target : target.slice(0, q);
  if (!path.startsWith("/api/v1/")) return null;
  const segments = path.slice(8).split("/");
  for (const s of segments) if (s === "" || s === "." || s === "..") return null;
  const m = method === "HEAD" ? "GET" : method;
  rows: for (let i = 0; i < TABLE.length; i++) {
    const pattern = PATTERNS[i];
    if (TABLE[i][0] !== m || pattern.length !== segments.length) continue;
    let id = null;
    for (let j = 0; j < pattern.length; j++) {
      if (pattern[j] === ":id") {
        let decoded;
        try {
          decoded = decodeURIComponent(segments[j]);
        } catch {
          continue rows;
        }
        if (!ID.test(decoded)) continue rows;
        id = decoded;
      } else if (pattern[j] !== segments[j]) continue rows;
    }
    return { row: i, id };
  }
  return null;
}
const handKeys = world.keys.map((k) => ({
  organization: k.record.organizationId,
  project: k.record.scope === "project" ? k.record.scopedProjectId : null,
  grants: k.record.permissions ? new Set(k.record.permissions) : null,
  role: k.role,
}));
function handwritten(sample) {
  const r = route(sample.method, sample.target);
  if (r === null) return { allow: false, reason: "not_found" };
  const key = handKeys[sample.key];
  const [, , permission, rule] = TABLE[r.row];
  if (key.project !== null) {
    if (rule === "deny") return { allow: false, reason: "scope_violation" };
    if (rule === "own_path" && r.id !== key.project) return { allow: false, reason: "scope_violation" };
  }
  if (permission !== null) {
    if (!ROLES[key.role].has(permission) || (key.grants !== null && !key.grants.has(permission))) {
      return { allow: false, reason: "forbidden" };
    }
  }
  if (key.project !== null && rule === "own_resource") {
    const owner = resources.get(r.id);
    if (!owner || owner[0] !== key.organization || owner[1] !== key.project) return { allow: false, reason: "not_found" };
  }
  return { allow: true, filter: rule === "filtered" && key.project !== null ? key.project : null };
}

// What a hand-written implementation also has to do before its decision: hash the presented key
// to find its record (stores keep hashes).
const handByHash = new Map(world.keys.map((k, i) => [k.hash, i]));
function handwrittenWithHash(sample, headers) {
  const key = headers["x-api-key"];
  const index = handByHash.get(createHash("sha256").update(key).digest("hex"));
  return handwritten(index === sample.key ? sample : { ...sample, key: index });
}

// ---- keyscope: the npm package's public API, from the X-Api-Key header ---------------------
const engine = new keyscope.Engine();
const uncached = new keyscope.Engine({ keyCache: 0 });
const prepared = new Map(world.keys.map((k) => [k.hash, new keyscope.KeyRecord(k.record)]));
const plain = new Map(world.keys.map((k) => [k.hash, k.record]));
// organization → user → role (two map reads, no string building: lookups are excluded).
const roleMaps = new Map();
for (const k of world.keys) {
  if (!roleMaps.has(k.record.organizationId)) roleMaps.set(k.record.organizationId, new Map());
  roleMaps.get(k.record.organizationId).set(k.record.createdBy, k.role);
}
const findRole = (org, user) => roleMaps.get(org)?.get(user);
const findResource = (kind, id) => {
  const owner = kind === "time_entry" ? resources.get(id) : undefined;
  return owner ? { organizationId: owner[0], projectId: owner[1] } : undefined;
};
const preparedStore = { findKey: (hash) => prepared.get(hash), findRole, findResource };
const plainStore = { findKey: (hash) => plain.get(hash), findRole, findResource };
const requests = samples.map((s) => ({ method: s.method, url: s.target, headers: { "x-api-key": world.keys[s.key].secret } }));
const NOW = { now: 1 };
const keyscopePrepared = (i) => engine.authorizeSync(requests[i], preparedStore, NOW);
const keyscopePlain = (i) => engine.authorizeSync(requests[i], plainStore, NOW);
const keyscopeUncached = (i) => uncached.authorizeSync(requests[i], preparedStore, NOW);
const verdict = (d) => (d.allowed ? { allow: true, filter: d.projectFilter } : { allow: false, reason: d.reason });

// ---- casbin: RESTful RBAC with keyMatch2 routing, key attributes in the matcher ------------
const CASBIN_MODEL = `
[request_definition]
r = sub, obj, act

[policy_definition]
p = role, path, method, perm, rule

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = r.act == p.method && keyMatch2(r.obj, p.path) && r.sub.role == p.role && granted(r.sub.grants, p.perm) && inScope(r.sub.project, r.sub.organization, p.rule, p.path, r.obj)
`;
const casbinLines = [];
for (const [role, perms] of Object.entries(ROLES)) {
  for (const [method, path, perm, rule] of TABLE) {
    if (perm === null || perms.has(perm)) casbinLines.push(`p, ${role}, /api/v1/${path}, ${method}, ${perm ?? "none"}, ${rule}`);
  }
}
const enforcer = await newEnforcer(newModelFromString(CASBIN_MODEL), new StringAdapter(casbinLines.join("\n")));
await enforcer.addFunction("granted", (grants, perm) => perm === "none" || grants === "*" || grants.split(",").includes(perm));
await enforcer.addFunction("inScope", (project, organization, rule, pattern, path) => {
  if (project === "") return true;
  if (rule === "deny") return false;
  if (rule !== "own_path" && rule !== "own_resource") return true;
  const at = pattern.split("/").indexOf(":id");
  let id;
  try {
    id = decodeURIComponent(path.split("/")[at]);
  } catch {
    return false;
  }
  if (rule === "own_path") return id === project;
  const owner = resources.get(id);
  return owner !== undefined && owner[0] === organization && owner[1] === project;
});
const casbinSubjects = world.keys.map((k) => ({
  role: k.role,
  grants: k.record.permissions ? k.record.permissions.join(",") : "*",
  project: k.record.scope === "project" ? k.record.scopedProjectId : "",
  organization: k.record.organizationId,
}));
function casbinDecide(sample) {
  const q = sample.target.indexOf("?");
  const path = q === -1 ? sample.target : sample.target.slice(0, q);
  const method = sample.method === "HEAD" ? "GET" : sample.method;
  return enforcer.enforceSync(casbinSubjects[sample.key], path, method);
}

// ---- Cedar (wasm): the Align rules as Cedar policies, entities per request -----------------
const CEDAR_POLICIES = `
@id("member") permit(principal in Role::"member", action in [${MEMBER.map((p) => `Action::"${p}"`).join(", ")}], resource);
@id("engineer") permit(principal in Role::"engineer", action in [${MEMBER.map((p) => `Action::"${p}"`).join(", ")}], resource);
@id("manager") permit(principal in Role::"manager", action in [${[...ROLES.manager].map((p) => `Action::"${p}"`).join(", ")}], resource);
@id("admin") permit(principal in Role::"admin", action, resource);
@id("me") permit(principal, action == Action::"me", resource);
@id("grants") forbid(principal, action, resource) when {
  action != Action::"me" && principal.hasGrants && !(principal.grants.contains(context.permission))
};
@id("scope_deny") forbid(principal, action, resource) when { principal.scope == "project" && resource.projectKey == "deny" };
@id("scope_path") forbid(principal, action, resource) when {
  principal.scope == "project" && resource.projectKey == "own_path" && context.pathProject != principal.project
};
@id("resource") forbid(principal, action, resource) when {
  principal.scope == "project" && resource.projectKey == "own_resource" && !context.resourceVisible
};`;
const parsed = cedar.preparsePolicySet("align", { staticPolicies: CEDAR_POLICIES });
assert.equal(parsed.type, "success", JSON.stringify(parsed));
function cedarDecide(sample) {
  const r = route(sample.method, sample.target);
  if (r === null) return false;
  const k = handKeys[sample.key];
  const [, , permission, rule] = TABLE[r.row];
  const visible = k.project !== null && rule === "own_resource" && (() => {
    const owner = resources.get(r.id);
    return owner !== undefined && owner[0] === k.organization && owner[1] === k.project;
  })();
  const answer = cedar.statefulIsAuthorized({
    principal: { type: "Key", id: String(sample.key) },
    action: { type: "Action", id: permission ?? "me" },
    resource: { type: "Endpoint", id: String(r.row) },
    context: { permission: permission ?? "me", pathProject: r.id ?? "", resourceVisible: visible },
    preparsedPolicySetId: "align",
    entities: [
      {
        uid: { type: "Key", id: String(sample.key) },
        attrs: {
          scope: k.project !== null ? "project" : "organization",
          project: k.project ?? "",
          hasGrants: k.grants !== null,
          grants: k.grants ? [...k.grants] : [],
        },
        parents: [{ type: "Role", id: k.role }],
      },
      { uid: { type: "Role", id: k.role }, attrs: {}, parents: [] },
      { uid: { type: "Endpoint", id: String(r.row) }, attrs: { projectKey: rule }, parents: [] },
    ],
  });
  if (answer.type !== "success") throw new Error(JSON.stringify(answer.errors));
  return answer.response.decision === "allow";
}

// ---- Agreement first --------------------------------------------------------------------------
async function checkAgreement() {
const counts = {};
for (let i = 0; i < samples.length; i++) {
  const s = samples[i];
  const expected = handwritten(s);
  const what = `request ${i} (${s.method} ${s.target}, key ${s.key})`;
  assert.deepEqual(verdict(keyscopePrepared(i)), expected, `keyscope vs hand-written JS: ${what}`);
  assert.deepEqual(verdict(keyscopePlain(i)), expected, `keyscope (plain records): ${what}`);
  assert.deepEqual(verdict(keyscopeUncached(i)), expected, `keyscope (no key cache): ${what}`);
  assert.deepEqual(verdict(await engine.authorize(requests[i], preparedStore, NOW)), expected, `keyscope async: ${what}`);
  assert.deepEqual(handwrittenWithHash(s, requests[i].headers), expected, `hand-written JS with hashing: ${what}`);
  assert.equal(casbinDecide(s), expected.allow, `casbin: ${what}`);
  assert.equal(cedarDecide(s), expected.allow, `cedar-wasm: ${what}`);
  const label = expected.allow ? "allow" : expected.reason;
  counts[label] = (counts[label] ?? 0) + 1;
}
console.log(`agreement: all peers agree on ${samples.length} requests`, counts);
}

// ---- Timing -------------------------------------------------------------------------------------
let sink = 0;
function measure(fn) {
  // Warm up, then run whole passes over the mix until SECONDS have passed.
  for (let r = 0; r < 3; r++) for (let i = 0; i < samples.length; i++) sink += fn(i) ? 1 : 0;
  let n = 0;
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(Math.round(SECONDS * 1e9));
  let now = start;
  while (now < deadline) {
    for (let i = 0; i < samples.length; i++) sink += fn(i) ? 1 : 0;
    n += samples.length;
    now = process.hrtime.bigint();
  }
  return Number(now - start) / n; // ns per decision
}
async function measureAsync(fn) {
  for (let i = 0; i < samples.length; i++) sink += (await fn(i)).allowed ? 1 : 0;
  let n = 0;
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(Math.round(SECONDS * 1e9));
  let now = start;
  while (now < deadline) {
    for (let i = 0; i < samples.length; i++) sink += (await fn(i)).allowed ? 1 : 0;
    n += samples.length;
    now = process.hrtime.bigint();
  }
  return Number(now - start) / n;
}

const PEERS = {
  keyscope: () => measure((i) => keyscopePrepared(i).allowed),
  "keyscope, plain-object records": () => measure((i) => keyscopePlain(i).allowed),
  "keyscope, no key cache": () => measure((i) => keyscopeUncached(i).allowed),
  "keyscope, async authorize": () => measureAsync((i) => engine.authorize(requests[i], preparedStore, NOW)),
  "hand-written JS": () => measure((i) => handwritten(samples[i]).allow),
  "hand-written JS + SHA-256 of the key": () => measure((i) => handwrittenWithHash(samples[i], requests[i].headers).allow),
  casbin: () => measure((i) => casbinDecide(samples[i])),
  "cedar-wasm": () => measure((i) => cedarDecide(samples[i])),
};

/**
 * keyscope and hand-written JS in one process, alternating one pass over the mix each (order
 * swapped every time), for SECONDS × 2: each pass pair is measured under the same machine load,
 * so the median of the pass ratios holds on a busy machine where separate runs drift.
 */
function paired() {
  const a = (i) => keyscopePrepared(i).allowed;
  const b = (i) => handwritten(samples[i]).allow;
  const pass = (fn) => {
    const start = process.hrtime.bigint();
    for (let i = 0; i < samples.length; i++) sink += fn(i) ? 1 : 0;
    return Number(process.hrtime.bigint() - start);
  };
  for (let r = 0; r < 20; r++) {
    pass(a);
    pass(b);
  }
  const ratios = [];
  const deadline = process.hrtime.bigint() + BigInt(Math.round(SECONDS * 2e9));
  for (let n = 0; process.hrtime.bigint() < deadline; n++) {
    const [ta, tb] = n % 2 === 0 ? [pass(a), pass(b)] : [pass(b), pass(a)].reverse();
    ratios.push(ta / tb);
  }
  ratios.sort((x, y) => x - y);
  return { ratio: ratios[Math.floor(ratios.length / 2)], pairs: ratios.length };
}

if (PAIRED) {
  console.log(JSON.stringify({ ...paired(), sink }));
} else if (TIMED_PEER !== undefined) {
  // A child run: time one peer and print ns/decision.
  console.log(JSON.stringify({ ns: await PEERS[TIMED_PEER](), sink }));
} else {
  await checkAgreement();
  const self = fileURLToPath(import.meta.url);
  const results = Object.fromEntries(Object.keys(PEERS).map((name) => [name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const name of Object.keys(PEERS)) {
      const out = execFileSync(process.execPath, [self, process.argv[2], "--time", name, String(SECONDS)], { encoding: "utf8" });
      results[name].push(JSON.parse(out.trim().split("\n").pop()).ns);
    }
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const pairs = [];
  for (let round = 0; round < ROUNDS; round++) {
    const out = execFileSync(process.execPath, [self, process.argv[2], "--pair", String(SECONDS)], { encoding: "utf8" });
    pairs.push(JSON.parse(out.trim().split("\n").pop()).ratio);
  }
  const ns = Object.fromEntries(Object.entries(results).map(([name, xs]) => [name, median(xs)]));
  const base = ns.keyscope;
  console.log(`\nmedian of ${ROUNDS} runs × ${SECONDS}s per peer, each in its own process; ${samples.length}-request mix; node ${process.version}`);
  console.log("| peer | ns/decision | decisions/s | keyscope vs peer |");
  console.log("|---|---:|---:|---:|");
  for (const [name, t] of Object.entries(ns)) {
    const ratio = t / base;
    const vs = name === "keyscope" ? "—" : ratio >= 1 ? `keyscope ${ratio.toFixed(ratio >= 10 ? 0 : 2)}× faster` : `keyscope ${(1 / ratio).toFixed(2)}× slower`;
    console.log(`| ${name} | ${t.toFixed(0)} | ${Math.round(1e9 / t).toLocaleString("en")} | ${vs} |`);
  }
  console.log(`\nkeyscope ÷ hand-written JS, paired in one process (median pass ratio; ${ROUNDS} processes): ` +
    `${pairs.map((r) => r.toFixed(2)).join(", ")} → median ${median(pairs).toFixed(2)}×`);
}
