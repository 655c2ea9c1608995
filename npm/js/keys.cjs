"use strict";
// The key helpers: a new key from the platform's CSPRNG (Web Crypto), a key validated offline
// (format, checksum, environment) with its hash and hint, and the names of the headers that
// carry a key (policy-core's). The checks are the engine's; no error message ever echoes a key.

const { KeyError, call } = require("./errors.cjs");

module.exports = function createKeys(wasm, crypto) {
  const [keyHeader, keyHeaderName, authorizationHeader, bearerScheme] = wasm.keyHeaders();
  /** The headers that carry a key: `KEY_HEADER` (`x-api-key`) and `AUTHORIZATION_HEADER` (`Bearer <key>`). */
  const headers = Object.freeze({ KEY_HEADER: keyHeader, KEY_HEADER_NAME: keyHeaderName, AUTHORIZATION_HEADER: authorizationHeader, BEARER_SCHEME: bearerScheme });

  /** `n` bytes from the CSPRNG. */
  function randomBytes(n) {
    const bytes = new Uint8Array(n);
    crypto.getRandomValues(bytes);
    return bytes;
  }

  /**
   * A new API key from the platform's CSPRNG (Web Crypto). Show `secret` once; store `hash`.
   * `prefix` is the deployment's key prefix (a policy's `keyPrefix`; default `ck`).
   * @param {{ environment?: "live" | "test", prefix?: string }} [options]
   */
  function generateKey(options = {}) {
    const environment = options.environment ?? "live";
    const [secret, hash, hint] = call(() => wasm.generateKey(environment, randomBytes(64), options.prefix));
    return { secret, hash, hint, environment };
  }

  /**
   * Validates a key offline (format, checksum, and `environment` when given) as a key of
   * `prefix` (default `ck`). Throws a `KeyError` with a `code`; the message never echoes the key.
   */
  function parseKey(text, options = {}) {
    if (typeof text !== "string") throw new KeyError("not_a_string", "a key must be a string");
    const [secret, hash, hint, environment] = call(() => wasm.parseKey(text, options.environment, options.prefix));
    return { secret, hash, hint, environment };
  }

  /** Whether `text` is a well-formed key of `environment` (when given) with a valid checksum. */
  function isValidKey(text, options = {}) {
    try {
      parseKey(text, options);
      return true;
    } catch {
      return false;
    }
  }

  /** The SHA-256 (hex) of a valid key (of `options.prefix`, default `ck`): what stores keep instead of the key. */
  function hashKey(text, options = {}) {
    return parseKey(text, options).hash;
  }

  /** The last four characters of a valid key (of `options.prefix`, default `ck`), shown in key lists. */
  function keyHint(text, options = {}) {
    return parseKey(text, options).hint;
  }

  return { randomBytes, generateKey, parseKey, isValidKey, hashKey, keyHint, headers };
};
