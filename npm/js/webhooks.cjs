"use strict";
// The receiver's side of keyscope's event webhooks: `verifyWebhook` checks the
// `Keyscope-Signature` header against the raw body with the rule the gateway signs by
// (keyscope-webhook, through wasm), then parses the body. This file only checks the arguments'
// types and turns the wasm error into a `WebhookError`.

const { WebhookError, fromWasm } = require("./errors.cjs");

module.exports = function createWebhooks(wasm) {
  const encoder = new TextEncoder();
  const decoder = new TextDecoder("utf-8", { fatal: true });

  /** `value` as bytes: a string is UTF-8; a Buffer, typed array or ArrayBuffer as it is. */
  function bytesOf(value, what) {
    if (typeof value === "string") return encoder.encode(value);
    if (value instanceof Uint8Array) return value;
    if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
    if (value instanceof ArrayBuffer) return new Uint8Array(value);
    throw new TypeError(`${what} must be a string, a Buffer, a typed array or an ArrayBuffer`);
  }

  /**
   * Verifies a keyscope event webhook and returns its parsed body (`{ type, event }`). `body` is
   * the raw request body exactly as received (before any JSON parsing), `header` the
   * `Keyscope-Signature` header, `secret` the deployment's `KEYSCOPE_EVENTS_SECRET`. Throws a
   * `WebhookError` (`code`: `missing_header`, `malformed_header`, `no_signature`,
   * `outside_tolerance`, `mismatch`, `malformed_body`) when the delivery is not genuine.
   * `toleranceSeconds` (default 300) bounds the age of the signature; `now` (Unix milliseconds
   * or a `Date`, default the clock) is the time to judge it at.
   */
  function verifyWebhook(body, header, secret, { toleranceSeconds, now } = {}) {
    const bodyBytes = bytesOf(body, "body");
    const secretBytes = bytesOf(secret, "secret");
    if (secretBytes.length === 0) throw new TypeError("secret must not be empty");
    if (toleranceSeconds !== undefined && !(Number.isFinite(toleranceSeconds) && toleranceSeconds >= 0)) {
      throw new TypeError("toleranceSeconds must be a finite number of seconds, 0 or more");
    }
    const nowMs = now === undefined ? Date.now() : now instanceof Date ? now.getTime() : now;
    if (!Number.isFinite(nowMs)) throw new TypeError("now must be Unix milliseconds or a Date");
    if (typeof header !== "string" || header.trim() === "") {
      throw new WebhookError("missing_header", "the request has no Keyscope-Signature header");
    }
    try {
      wasm.verifyWebhookSignature(header, secretBytes, bodyBytes, nowMs / 1000, toleranceSeconds);
    } catch (e) {
      const error = fromWasm(e);
      throw error instanceof WebhookError ? error : e;
    }
    try {
      return JSON.parse(decoder.decode(bodyBytes));
    } catch (cause) {
      throw new WebhookError("malformed_body", "the signed body is not a JSON event", { cause });
    }
  }

  return { verifyWebhook };
};
