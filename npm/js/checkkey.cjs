"use strict";
// The integration side of `/me`: `checkKey` asks the gateway, at start-up, what a key may do
// and fails early when it lacks a permission the integration needs. No wasm: only `fetch`.

const { CheckKeyError } = require("./errors.cjs");

/**
 * At start-up: asks the gateway (`GET {baseUrl}/me`) what `key` may do and throws a
 * `CheckKeyError` unless it holds every permission in `require`. Resolves to the `/me` view.
 */
async function checkKey({ baseUrl, key, require = [], timeoutMs = 10_000, fetch: doFetch = globalThis.fetch } = {}) {
  if (typeof baseUrl !== "string" || baseUrl === "") throw new TypeError("checkKey needs baseUrl, e.g. https://api.example.com/api/v1");
  if (typeof key !== "string" || key === "") throw new CheckKeyError("missing_key", "checkKey needs the key (e.g. from an environment variable)");
  if (!Array.isArray(require) || !require.every((p) => typeof p === "string")) throw new TypeError("require must be an array of permission names");
  const url = `${baseUrl.replace(/\/+$/, "")}/me`;
  let res;
  let text;
  try {
    res = await doFetch(url, { headers: { authorization: `Bearer ${key}`, accept: "application/json" }, signal: AbortSignal.timeout(timeoutMs) });
    text = await res.text();
  } catch (err) {
    const why = err?.name === "TimeoutError" ? `no answer within ${timeoutMs} ms` : (err?.cause?.code ?? err?.message ?? String(err));
    throw new CheckKeyError("unreachable", `could not reach ${url}: ${why}`, { cause: err });
  }
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (!res.ok) {
    const reason = body?.reason;
    const code = reason === "key_revoked" ? "key_revoked" : reason === "invalid_key" ? "invalid_key" : reason === "missing_key" ? "missing_key" : "denied";
    const said = typeof body?.message === "string" ? body.message : `HTTP ${res.status}`;
    const lead = code === "key_revoked" ? "the key has been revoked" : code === "invalid_key" ? "the key was refused" : "the gateway refused the key";
    throw new CheckKeyError(code, `${lead}: ${said} (${res.status} ${reason ?? "no reason"})`, { status: res.status });
  }
  if (body === null || typeof body !== "object" || !Array.isArray(body.effectivePermissions)) {
    throw new CheckKeyError("bad_response", `${url} did not answer with a /me view`, { status: res.status });
  }
  const held = new Set(body.effectivePermissions);
  const missing = require.filter((p) => !held.has(p));
  if (missing.length > 0) {
    const where = body.scope === "project" ? `project-scoped key (project ${body.scopedProjectId})` : "organization-scoped key";
    throw new CheckKeyError("missing_permissions",
      `the key lacks ${missing.join(", ")} (${where} ${body.apiKeyId} in organization ${body.organizationId}, role ${body.role})`,
      { missing, scope: body.scope, projectId: body.scopedProjectId ?? null, status: res.status });
  }
  return body;
}

module.exports = checkKey;
