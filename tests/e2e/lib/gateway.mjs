// Starts the built edge worker on workerd (Miniflare) with local KV and D1, a loopback stub
// origin that records what it receives, and a raw HTTP client that sends requests byte for byte
// (no URL normalisation, any method case, any header bytes).
import { createHash } from "node:crypto";
import { readFileSync, readdirSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Miniflare } from "miniflare";
import { KeyStore, applyMigrations } from "../../../edge-worker/js/store.mjs";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const SHIM = join(ROOT, "edge-worker", "build", "worker", "shim.mjs");
const MIGRATIONS = join(ROOT, "edge-worker", "migrations");

export const sha256Hex = (text) => createHash("sha256").update(text).digest("hex");

/** A loopback origin that answers 200 with a JSON echo and remembers every request. */
export async function startOrigin() {
  const received = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const entry = { method: req.method, url: req.url, headers: req.headers, body: Buffer.concat(chunks).toString() };
      received.push(entry);
      const status = Number(req.headers["x-reply-status"] ?? 200);
      res.writeHead(status, { "content-type": "application/json", "x-origin": "stub" });
      res.end(JSON.stringify({ origin: true, method: entry.method, url: entry.url }));
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    received,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

/**
 * Starts the gateway. `options.bindings` overrides vars; `options.withoutKv` drops the KV
 * binding (a store that cannot be reached); `options.scriptPath` runs another built worker.
 */
export async function startGateway({ originUrl, bindings = {}, withoutKv = false, scriptPath = SHIM } = {}) {
  const mf = new Miniflare({
    modules: true,
    scriptPath,
    modulesRules: [
      { type: "ESModule", include: ["**/*.js", "**/*.mjs"] },
      { type: "CompiledWasm", include: ["**/*.wasm"] },
    ],
    compatibilityDate: "2025-01-01",
    kvNamespaces: withoutKv ? [] : ["KEYS"],
    d1Databases: ["DB"],
    bindings: { ORIGIN_URL: originUrl ?? "http://127.0.0.1:9", KEYSCOPE_ENVIRONMENT: "live", ...bindings },
    host: "127.0.0.1",
    port: 0,
  });
  const url = await mf.ready;
  const db = await mf.getD1Database("DB");
  const sql = readdirSync(MIGRATIONS)
    .filter((f) => f.endsWith(".sql"))
    .sort()
    .map((f) => readFileSync(join(MIGRATIONS, f), "utf8"));
  await applyMigrations(db, sql);
  const kv = withoutKv ? null : await mf.getKVNamespace("KEYS");
  return { mf, port: Number(url.port), store: kv ? new KeyStore({ db, kv }) : null, db, dispose: () => mf.dispose() };
}

/**
 * Sends one HTTP/1.1 request exactly as given. `headers` is a list of [name, value] pairs;
 * values may be strings or Buffers (for bytes that are not UTF-8).
 */
export function rawRequest(port, { method, path, headers = [], body }) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1");
    const chunks = [];
    socket.setTimeout(10_000, () => socket.destroy(new Error("timeout")));
    const parse = () => {
      const raw = Buffer.concat(chunks).toString("latin1");
      const split = raw.indexOf("\r\n\r\n");
      if (split < 0) return null;
      const head = raw.slice(0, split).split("\r\n");
      const status = Number(head[0].split(" ")[1]);
      const responseHeaders = {};
      for (const line of head.slice(1)) {
        const at = line.indexOf(":");
        responseHeaders[line.slice(0, at).trim().toLowerCase()] = line.slice(at + 1).trim();
      }
      let text = raw.slice(split + 4);
      const length = responseHeaders["content-length"];
      if (/chunked/i.test(responseHeaders["transfer-encoding"] ?? "")) {
        if (!text.endsWith("0\r\n\r\n")) return null;
        text = dechunk(text);
      } else if (length != null && method !== "HEAD" && status !== 204 && status !== 304) {
        if (Buffer.byteLength(text, "latin1") < Number(length)) return null;
      } else if (length == null && method !== "HEAD" && status !== 204 && status !== 304) {
        return null; // read to close
      }
      return { status, headers: responseHeaders, body: Buffer.from(text, "latin1").toString("utf8") };
    };
    let done = false;
    const finish = (result) => {
      if (done) return;
      done = true;
      socket.destroy();
      resolve(result);
    };
    socket.on("data", (c) => {
      chunks.push(c);
      const result = parse();
      if (result) finish(result);
    });
    socket.on("error", (err) => (done ? undefined : reject(err)));
    socket.on("close", () => {
      const result = parse();
      if (result) finish(result);
      else if (!done) reject(new Error("connection closed before a full response"));
    });
    const bodyBuf = body == null ? null : Buffer.from(body);
    const lines = [`${method} ${path} HTTP/1.1`, "Host: keyscope.test", "Connection: close"];
    const parts = [];
    for (const [name, value] of headers) parts.push(Buffer.concat([Buffer.from(`${name}: `), Buffer.from(value), Buffer.from("\r\n")]));
    if (bodyBuf) lines.push(`Content-Length: ${bodyBuf.length}`);
    socket.write(Buffer.concat([Buffer.from(lines.join("\r\n") + "\r\n"), ...parts, Buffer.from("\r\n"), ...(bodyBuf ? [bodyBuf] : [])]));
  });
}

function dechunk(text) {
  let out = "";
  let rest = text;
  for (;;) {
    const eol = rest.indexOf("\r\n");
    if (eol < 0) return out;
    const size = parseInt(rest.slice(0, eol), 16);
    if (!size) return out;
    out += rest.slice(eol + 2, eol + 2 + size);
    rest = rest.slice(eol + 2 + size + 2);
  }
}

/** Percent-encodes the bytes a request line cannot carry raw (non-ASCII), as a client would. */
export const wirePath = (path) => path.replace(/[^\x21-\x7e]/gu, (c) => encodeURIComponent(c));

/**
 * Loads a vector file's world through the store's write path. Vector times are shifted so the
 * file's `now` is the real present (the worker reads the real clock).
 */
export async function loadWorld(store, vector) {
  const shift = vector.now ? Date.now() - Date.parse(vector.now) : 0;
  const at = (t) => (t == null ? null : Date.parse(t) + shift);
  for (const m of vector.members ?? []) await store.putMember(m.organizationId, m.userId, m.role);
  for (const r of vector.resources ?? []) await store.putResource(r.kind, r.id, r.organizationId, r.projectId);
  for (const k of vector.keys ?? []) {
    await store.putKey({
      hash: sha256Hex(k.secret),
      id: k.id,
      name: k.name,
      hint: k.secret.slice(-4),
      organizationId: k.organizationId,
      createdBy: k.createdBy,
      scope: k.scope,
      scopedProjectId: k.scopedProjectId ?? null,
      permissions: k.permissions ?? null,
      createdAt: at(k.createdAt),
      lastUsedAt: at(k.lastUsedAt),
      revokedAt: at(k.revokedAt),
      expiresAt: at(k.expiresAt),
    });
  }
}

export const vectorFiles = () =>
  readdirSync(join(ROOT, "tests", "vectors"))
    .filter((f) => f.endsWith(".json"))
    .sort()
    .map((f) => ({ file: f, vector: JSON.parse(readFileSync(join(ROOT, "tests", "vectors", f), "utf8")) }));
