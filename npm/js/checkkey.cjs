"use strict";
// The integration side of `/me`: `checkKey` asks the gateway, at start-up, what a key may do and
// fails early when it lacks a permission it needs. This file makes the HTTP call; the URL, the
// headers and the judgment of the answer are policy-core's (the same as `keyscope whoami`'s).

const { CheckKeyError } = require("./errors.cjs");

module.exports = function createCheckKey(wasm, headers) {
  /**
   * At start-up: asks the gateway (`GET {baseUrl}/me`) what `key` may do and throws a
   * `CheckKeyError` unless it holds every permission in `require`. Resolves to the `/me` view.
   */
  async function checkKey({ baseUrl, key, require = [], timeoutMs = 10_000, fetch: doFetch = globalThis.fetch } = {}) {
    if (typeof baseUrl !== "string" || baseUrl === "") throw new TypeError("checkKey needs baseUrl, e.g. https://api.example.com/api/v1");
    if (typeof key !== "string" || key === "") throw new CheckKeyError("missing_key", "checkKey needs the key (e.g. from an environment variable)");
    if (!Array.isArray(require) || !require.every((p) => typeof p === "string")) throw new TypeError("require must be an array of permission names");
    const url = wasm.meUrl(baseUrl);
    let res;
    let text;
    try {
      const sent = { [headers.AUTHORIZATION_HEADER]: `${headers.BEARER_SCHEME} ${key}`, accept: "application/json" };
      res = await doFetch(url, { headers: sent, signal: AbortSignal.timeout(timeoutMs) });
      text = await res.text();
    } catch (err) {
      const why = err?.name === "TimeoutError" ? `no answer within ${timeoutMs} ms` : (err?.cause?.code ?? err?.message ?? String(err));
      throw new CheckKeyError("unreachable", `could not reach ${url}: ${why}`, { cause: err });
    }
    const unfit = wasm.checkMe(res.status, text, require);
    if (unfit !== "") {
      const { code, message, missing, scope, projectId } = JSON.parse(unfit);
      const where = code === "bad_response" ? `${url}: ` : "";
      throw new CheckKeyError(code, `${where}${message}`, { missing, scope, projectId, status: res.status });
    }
    return JSON.parse(text);
  }

  return checkKey;
};
