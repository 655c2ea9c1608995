// Edge benchmark: the auth worker vs a pass-through worker (same build settings, no
// authorization) in front of the same loopback origin, in one run. Bounded: a fixed number of
// requests per round, loopback only. Reports p50/p99 latency, the added latency, requests/s and
// the worker bundle sizes.
//
//   node bench/edge/bench.mjs            (scripts/bench-edge builds both workers first)
import { readFileSync } from "node:fs";
import http from "node:http";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { ROOT, sha256Hex, startGateway } from "../../tests/e2e/lib/gateway.mjs";

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 2000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 1);
const ROUNDS = 3;

// A minimal origin: the same for both workers, as cheap as possible.
const origin = http.createServer((req, res) => {
  req.resume();
  req.on("end", () => {
    res.writeHead(200, { "content-type": "application/json", "content-length": 2 });
    res.end("{}");
  });
});
await new Promise((r) => origin.listen(0, "127.0.0.1", r));
const originUrl = `http://127.0.0.1:${origin.address().port}`;

// Warm keys, loaded through the write path and used once before timing. Requests go round-robin
// over KEYS keys, as traffic from many integrations does; with the limiter on, each key stays
// under its limit of 10 per second (KEYS × 10 exceeds any rate this loopback run reaches), so
// every request is admitted and the key's window is written, as in production.
const KEYS = Number(process.env.BENCH_KEYS ?? 200);
const keygen = (await import("node:child_process")).execFileSync(join(ROOT, "target/release/keyscope"), ["keygen", "--count", String(KEYS)]);
const secrets = keygen
  .toString()
  .trim()
  .split("\n")
  .map((line) => JSON.parse(line).secret);
const LIMIT = "10";
const variants = {
  strict: { KEYSCOPE_STORE: "strict", KEYSCOPE_RATE_LIMIT: "off" },
  strictLimited: { KEYSCOPE_STORE: "strict", KEYSCOPE_RATE_LIMIT: LIMIT },
  kv: { KEYSCOPE_STORE: "kv", KEYSCOPE_RATE_LIMIT: "off" },
  kvLimited: { KEYSCOPE_STORE: "kv", KEYSCOPE_RATE_LIMIT: LIMIT },
  // Every key with its own rate and a monthly quota (SPEC "Key controls"): both judged in the
  // same object hop, and the RateLimit fields written on every answer.
  strictControls: { KEYSCOPE_STORE: "strict", KEYSCOPE_RATE_LIMIT: LIMIT },
};
const CONTROLS = { rateLimit: { perSecond: 50 }, quota: { limit: 1_000_000_000, period: "month" } };
const gateways = {};
for (const [name, bindings] of Object.entries(variants)) {
  const gw = await startGateway({ originUrl, bindings });
  await gw.admin.putMember("org_a", "u_admin", "admin");
  await gw.admin.importKeys(
    "org_a",
    secrets.map((secret, i) => ({
      id: `key_bench_${i}`, keyHash: sha256Hex(secret), hint: secret.slice(-4), name: "bench", createdBy: "u_admin", scope: "organization",
      ...(name === "strictControls" ? CONTROLS : {}),
    })),
  );
  gateways[name] = gw;
}
const passShim = join(ROOT, "bench", "passthrough-worker", "build", "worker", "shim.mjs");
gateways.pass = await startGateway({ originUrl, scriptPath: passShim, withoutKv: true });
gateways.passKv = await startGateway({ originUrl, scriptPath: passShim });
await (await gateways.passKv.mf.getKVNamespace("KEYS", "gateway")).put("key:probe", JSON.stringify({ probe: true }));
// The pass-through worker with one Durable Object hop per request (to keyscope's own class).
const SHIM = join(ROOT, "edge-worker", "build", "worker", "shim.mjs");
gateways.passDo = await startGateway({
  originUrl,
  scriptPath: passShim,
  withoutKv: true,
  miniflare: {
    durableObjects: { KEY_STATE: { className: "KeyState", scriptName: "keyscope-objects" } },
    workers: [
      {
        name: "keyscope-objects",
        modules: true,
        scriptPath: SHIM,
        modulesRules: [
          { type: "ESModule", include: ["**/*.js", "**/*.mjs"] },
          { type: "CompiledWasm", include: ["**/*.wasm"] },
        ],
        compatibilityDate: "2025-01-01",
        d1Databases: ["DB"],
        durableObjects: { KEY_STATE: "KeyState" },
      },
    ],
  },
});

async function load(port, path) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const latencies = new Float64Array(REQUESTS);
  let next = 0;
  let sent = 0;
  let failures = 0;
  const one = () =>
    new Promise((resolve) => {
      const t0 = process.hrtime.bigint();
      const secret = secrets[sent++ % secrets.length];
      const req = http.request({ host: "127.0.0.1", port, path, agent, headers: { "x-api-key": secret } }, (res) => {
        res.resume();
        res.on("end", () => {
          if (res.statusCode !== 200) failures++;
          resolve(Number(process.hrtime.bigint() - t0) / 1e6);
        });
      });
      req.on("error", () => {
        failures++;
        resolve(0);
      });
      req.end();
    });
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < REQUESTS) {
        const i = next++;
        latencies[i] = await one();
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  agent.destroy();
  latencies.sort();
  const pct = (p) => latencies[Math.min(REQUESTS - 1, Math.floor(p * REQUESTS))];
  return { p50: pct(0.5), p99: pct(0.99), rps: REQUESTS / seconds, failures };
}

const path = process.env.BENCH_PATH ?? "/api/v1/projects?page=1";
const ROWS = [
  ["pass", "pass-through worker"],
  ["passKv", "pass-through + 1 KV read"],
  ["passDo", "pass-through + 1 DO hop"],
  ["strict", "keyscope strict, limiter off"],
  ["strictLimited", "keyscope strict + limiter (default)"],
  ["strictControls", "keyscope strict + own rate + quota"],
  ["kv", "keyscope kv"],
  ["kvLimited", "keyscope kv + limiter"],
];
for (const [name] of ROWS) await load(gateways[name].port, path); // warm isolates, caches and objects
const results = Object.fromEntries(ROWS.map(([name]) => [name, []]));
for (let round = 0; round < ROUNDS; round++) {
  for (const [name] of ROWS) results[name].push(await load(gateways[name].port, path));
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const summary = (rs) => ({
  p50: median(rs.map((r) => r.p50)),
  p99: median(rs.map((r) => r.p99)),
  rps: median(rs.map((r) => r.rps)),
  failures: rs.reduce((n, r) => n + r.failures, 0),
});
const s = Object.fromEntries(ROWS.map(([name]) => [name, summary(results[name])]));
const size = (file) => {
  const bytes = readFileSync(file);
  return { raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
};
const authWasm = size(join(ROOT, "edge-worker", "build", "index_bg.wasm"));
const passWasm = size(join(ROOT, "bench", "passthrough-worker", "build", "index_bg.wasm"));
const kib = (n) => (n / 1024).toFixed(1);
const row = (label, r) =>
  `${label.padEnd(38)} ${r.p50.toFixed(3).padStart(7)}  ${r.p99.toFixed(3).padStart(7)}  ${r.rps.toFixed(0).padStart(7)}   ${r.failures}`;
const versus = (label, a, b) =>
  `${label.padEnd(38)} ${(a.p50 - b.p50).toFixed(3).padStart(7)}  ${(a.p99 - b.p99).toFixed(3).padStart(7)}  throughput ratio ${(a.rps / b.rps).toFixed(2)}`;

console.log(`edge benchmark: ${ROUNDS} rounds × ${REQUESTS} requests, ${CONCURRENCY} connections, GET ${path}, ${KEYS} warm keys round-robin, limit ${LIMIT}/s when on`);
console.log(`${"".padEnd(38)}  p50 ms   p99 ms    req/s   failures`);
for (const [name, label] of ROWS) console.log(row(label, s[name]));
console.log("differences (p50 ms, p99 ms):");
console.log(versus("default − (pass + DO hop)", s.strictLimited, s.passDo));
console.log(versus("own rate + quota − default", s.strictControls, s.strictLimited));
console.log(versus("strict, limiter off − (pass + DO hop)", s.strict, s.passDo));
console.log(versus("strict+limiter − kv+limiter", s.strictLimited, s.kvLimited));
console.log(versus("strict − pass-through", s.strict, s.pass));
console.log(versus("kv − (pass + KV read)", s.kv, s.passKv));
console.log(`wasm: keyscope ${kib(authWasm.raw)} KiB raw / ${kib(authWasm.gzip)} KiB gzip; pass-through ${kib(passWasm.raw)} KiB raw / ${kib(passWasm.gzip)} KiB gzip`);

for (const gw of Object.values(gateways)) await gw.dispose();
origin.close();
if (Object.values(s).some((r) => r.failures)) process.exit(1);
