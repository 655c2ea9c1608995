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

// A warm key: the world is loaded through the write path, then read once before timing.
const secret = JSON.parse(
  (await import("node:child_process")).execFileSync(join(ROOT, "target/release/keyscope"), ["keygen"]).toString(),
).secret;
const auth = await startGateway({ originUrl });
// The same, with the per-key rate limiter on (a limit no run reaches: every request still makes
// the Durable Object hop).
const limited = await startGateway({ originUrl, bindings: { KEYSCOPE_RATE_LIMIT: "1000000" } });
for (const gw of [auth, limited]) {
  await gw.admin.putMember("org_a", "u_admin", "admin");
  await gw.admin.importKeys("org_a", [
    { id: "key_bench", keyHash: sha256Hex(secret), hint: secret.slice(-4), name: "bench", createdBy: "u_admin", scope: "organization" },
  ]);
}
const passShim = join(ROOT, "bench", "passthrough-worker", "build", "worker", "shim.mjs");
const pass = await startGateway({ originUrl, scriptPath: passShim, withoutKv: true });
const passKv = await startGateway({ originUrl, scriptPath: passShim });
await (await passKv.mf.getKVNamespace("KEYS")).put("key:probe", JSON.stringify({ probe: true }));

async function load(port, path) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const latencies = new Float64Array(REQUESTS);
  let next = 0;
  let failures = 0;
  const one = () =>
    new Promise((resolve) => {
      const t0 = process.hrtime.bigint();
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
await load(auth.port, path); // warm both isolates and the key's KV entry
await load(pass.port, path);
await load(passKv.port, path);
await load(limited.port, path);
const results = { auth: [], pass: [], passKv: [], limited: [] };
for (let round = 0; round < ROUNDS; round++) {
  results.pass.push(await load(pass.port, path));
  results.passKv.push(await load(passKv.port, path));
  results.auth.push(await load(auth.port, path));
  results.limited.push(await load(limited.port, path));
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const summary = (rs) => ({
  p50: median(rs.map((r) => r.p50)),
  p99: median(rs.map((r) => r.p99)),
  rps: median(rs.map((r) => r.rps)),
  failures: rs.reduce((n, r) => n + r.failures, 0),
});
const a = summary(results.auth);
const p = summary(results.pass);
const k = summary(results.passKv);
const l = summary(results.limited);
const size = (file) => {
  const bytes = readFileSync(file);
  return { raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
};
const authWasm = size(join(ROOT, "edge-worker", "build", "index_bg.wasm"));
const passWasm = size(join(ROOT, "bench", "passthrough-worker", "build", "index_bg.wasm"));
const kib = (n) => (n / 1024).toFixed(1);

console.log(`edge benchmark: ${ROUNDS} rounds × ${REQUESTS} requests, ${CONCURRENCY} connections, GET ${path}, warm key`);
console.log(`                      p50 ms   p99 ms    req/s   failures`);
console.log(`pass-through worker  ${p.p50.toFixed(3).padStart(7)}  ${p.p99.toFixed(3).padStart(7)}  ${p.rps.toFixed(0).padStart(7)}   ${p.failures}`);
console.log(`pass-through + 1 KV  ${k.p50.toFixed(3).padStart(7)}  ${k.p99.toFixed(3).padStart(7)}  ${k.rps.toFixed(0).padStart(7)}   ${k.failures}`);
console.log(`keyscope worker      ${a.p50.toFixed(3).padStart(7)}  ${a.p99.toFixed(3).padStart(7)}  ${a.rps.toFixed(0).padStart(7)}   ${a.failures}`);
console.log(`keyscope + limiter   ${l.p50.toFixed(3).padStart(7)}  ${l.p99.toFixed(3).padStart(7)}  ${l.rps.toFixed(0).padStart(7)}   ${l.failures}`);
console.log(`added by the limiter ${(l.p50 - a.p50).toFixed(3).padStart(7)}  ${(l.p99 - a.p99).toFixed(3).padStart(7)}  ratio ${(l.rps / a.rps).toFixed(2)}`);
console.log(`added by keyscope    ${(a.p50 - p.p50).toFixed(3).padStart(7)}  ${(a.p99 - p.p99).toFixed(3).padStart(7)}  ratio ${(a.rps / p.rps).toFixed(2)}`);
console.log(`keyscope beyond KV   ${(a.p50 - k.p50).toFixed(3).padStart(7)}  ${(a.p99 - k.p99).toFixed(3).padStart(7)}  ratio ${(a.rps / k.rps).toFixed(2)}`);
console.log(`wasm: keyscope ${kib(authWasm.raw)} KiB raw / ${kib(authWasm.gzip)} KiB gzip; pass-through ${kib(passWasm.raw)} KiB raw / ${kib(passWasm.gzip)} KiB gzip`);

await auth.dispose();
await limited.dispose();
await pass.dispose();
await passKv.dispose();
origin.close();
if (a.failures || p.failures || k.failures || l.failures) process.exit(1);
