"use strict";
// The errors keyscope throws or reports, each with a stable `code`, and the mapping of the wasm
// engine's named errors onto them. No message ever contains a key.

/** The base of every keyscope error. */
class KeyscopeError extends Error {
  constructor(code, message, options) {
    super(message, options);
    this.code = code;
  }
  get name() {
    return this.constructor.name;
  }
}

/**
 * A key refused offline. `code`: `wrong_length`, `unknown_prefix`, `bad_character`,
 * `checksum_mismatch`, `wrong_environment` (or `not_a_string`).
 */
class KeyError extends KeyscopeError {}

/** A policy document refused. `code`: `invalid_policy`; `field` names the bad field. */
class PolicyError extends KeyscopeError {
  constructor(message, field) {
    super("invalid_policy", message);
    this.field = field;
  }
}

/** Fields that do not make a key record (`new KeyRecord`). `code`: `invalid_record`. */
class RecordError extends KeyscopeError {
  constructor(message, field) {
    super("invalid_record", message);
    this.field = field;
  }
}

/**
 * Why a store's answer denied a request `503 unavailable` (reported through `onStoreError`).
 * `code`: `invalid_record` (findKey), `invalid_role` (findRole), `invalid_resource`
 * (findResource), `lookup_failed` (threw or rejected), `missing_lookup` (no such method),
 * `async_lookup` (a promise given to `authorizeSync`). `lookup` names the method, `field` the
 * field when one is wrong.
 */
class StoreError extends KeyscopeError {
  constructor(code, lookup, field, message, cause) {
    super(code, message, cause === undefined ? undefined : { cause });
    this.lookup = lookup;
    this.field = field;
  }
}

/**
 * `checkKey` found the key unfit. `code`: `missing_permissions` (see `missing`), `key_revoked`,
 * `invalid_key`, `missing_key`, `denied` (another refusal), `unreachable`, `bad_response`.
 */
class CheckKeyError extends KeyscopeError {
  constructor(code, message, details = {}) {
    super(code, message, details.cause === undefined ? undefined : { cause: details.cause });
    this.missing = details.missing ?? [];
    this.scope = details.scope ?? null;
    this.projectId = details.projectId ?? null;
    this.status = details.status ?? null;
  }
}

/**
 * A key lifecycle plan refused (`engine.planCreate`, `planRotate`, `planRevoke`,
 * `planMemberRole`): the same rules and messages as the gateway's admin API. `code` names the
 * rule (`not_a_member`, `may_not_create`, `beyond_role`, `not_yours`, `key_revoked`, …),
 * `field` the request field at fault (or null), `status` the admin API's (400, 403, 409) and
 * `kind` its class (`invalid`, `forbidden`, `conflict`).
 */
class LifecycleError extends KeyscopeError {
  constructor(code, message, field, status, kind) {
    super(code, message);
    this.field = field;
    this.status = status;
    this.kind = kind;
  }
}

/**
 * A webhook delivery that is not genuine (`verifyWebhook`). `code`: `missing_header`,
 * `malformed_header`, `no_signature`, `outside_tolerance`, `mismatch`, `malformed_body`.
 */
class WebhookError extends KeyscopeError {}

/** A wasm-side `Error` (named, with `code`/`field`) → the matching class; others unchanged. */
function fromWasm(error) {
  if (error === null || typeof error !== "object") return error;
  switch (error.name) {
    case "KeyError":
      return new KeyError(error.code, error.message);
    case "PolicyError":
      return new PolicyError(error.message, error.field ?? "document");
    case "RecordError":
      return new RecordError(error.message, error.field);
    case "TypeError":
      return new TypeError(error.message);
    case "RangeError":
      return new RangeError(error.message);
    case "WebhookError":
      return new WebhookError(error.code, error.message);
    case "LifecycleError": {
      const [code, field, status, kind] = String(error.details).split("\n");
      return new LifecycleError(code, error.message, field || null, Number(status), kind);
    }
    default:
      return error;
  }
}

/** Runs `fn` (a call into wasm), throwing what it throws as the matching class (`fromWasm`). */
function call(fn) {
  try {
    return fn();
  } catch (e) {
    throw fromWasm(e);
  }
}

module.exports = { KeyscopeError, KeyError, PolicyError, RecordError, StoreError, CheckKeyError, LifecycleError, WebhookError, fromWasm, call };
