"use strict";
// The `Engine` class (a compiled policy and the key environment it serves: its options, the
// decisions, the lifecycle plans), and the policy helpers `alignPolicy` and `loadPolicy`.

const { PolicyError, call } = require("./errors.cjs");
const KeyCache = require("./keycache.cjs");

/** The default store-error report: one `console.warn` per distinct problem. */
const warn = (error) => console.warn(`keyscope: ${error.message}`);

/** A policy option (a document or its JSON text) → the JSON text the engine compiles. */
function policyText(policy) {
  if (policy === undefined || policy === null) return undefined;
  if (typeof policy === "string") return policy;
  if (typeof policy === "object") return JSON.stringify(policy);
  throw new PolicyError("policy must be a policy document (object) or its JSON text", "document");
}

module.exports = function createEngine(wasm, decide, plans, keys) {
  /** A compiled policy and the key environment it serves. */
  class Engine {
    /**
     * @param {{ policy?: string | object, environment?: "live" | "test", keyCache?: number,
     *   onStoreError?: (error: StoreError) => void }} [options]
     */
    constructor(options = {}) {
      if (options === null || typeof options !== "object") {
        throw new TypeError("Engine options must be an object: { policy?, environment? }");
      }
      const { policy, environment, keyCache = 1024, onStoreError } = options;
      const text = policyText(policy);
      if (environment !== undefined && typeof environment !== "string") {
        throw new TypeError('environment must be "live" or "test"');
      }
      if (!Number.isInteger(keyCache) || keyCache < 0) throw new TypeError("keyCache must be a whole number ≥ 0");
      if (onStoreError !== undefined && typeof onStoreError !== "function") {
        throw new TypeError("onStoreError must be a function");
      }
      this._wasm = call(() => new wasm.Engine(text, environment));
      this._permissions = this._wasm.permissions;
      this._roles = this._wasm.roles;
      this._roleIndex = new Map(this._roles.map((r, i) => [r, i]));
      this._denials = [];
      this._onStoreError = onStoreError ?? warn;
      this._reported = new Set();
      this._keyCache = new KeyCache(keyCache);
    }

    /** `live` or `test`. */
    get environment() {
      return this._wasm.environment;
    }

    /** The policy's key prefix (`keyPrefix`, default `ck`): keys are `<prefix>_live_…` / `<prefix>_test_…`. */
    get keyPrefix() {
      return this._wasm.keyPrefix;
    }

    /** The policy's base path, e.g. `/api/v1`. */
    get basePath() {
      return this._wasm.basePath;
    }

    /** A new key of this engine's prefix and environment: `{ secret, hash, hint, environment }`. */
    generateKey() {
      return keys.generateKey({ environment: this.environment, prefix: this.keyPrefix });
    }

    /** Validates a key offline as one of this engine's prefix and environment (throws a `KeyError`). */
    parseKey(text) {
      return keys.parseKey(text, { environment: this.environment, prefix: this.keyPrefix });
    }

    /** Every permission the policy knows, in policy order. */
    get permissions() {
      return [...this._permissions];
    }

    /** Every role the policy knows. */
    get roles() {
      return [...this._roles];
    }

    /** Whether `url` lies under the policy's base path (the requests this engine decides). */
    covers(url) {
      return this._wasm.covers(url);
    }

    /**
     * Decides a request, answering lookups from `store` (async callbacks allowed).
     * A store that throws, rejects or answers something unusable denies `503 unavailable`.
     */
    async authorize(request, store, options) {
      return decide(this, request, store, options, false);
    }

    /**
     * Decides a request against a synchronous store (in-memory maps, caches): the same
     * decision as `authorize`, without a promise per lookup. A store method returning a
     * promise denies with `503 unavailable` (use `authorize` for async stores).
     */
    authorizeSync(request, store, options) {
      return decide(this, request, store, options, true);
    }

    // ---- Key lifecycle: the gateway's rules for a backend that manages its own keys ----

    /**
     * Plans a new key: `{ secret, hash, record }` — show `secret` once, store `record` under
     * `hash`. Throws a `LifecycleError` naming the rule (membership, who may create the scope,
     * scope/project, grants within the actor's role, name, expiry).
     */
    planCreate(request) {
      return plans.planCreate(this, request);
    }

    /**
     * Plans the rotation of `key` (its stored record) by `actor`: `{ secret, hash, record,
     * oldRevokedAt }` — the new key (the actor's, with the old one's settings) and, when a grace
     * period is given, when the old key stops (else null: it works until revoked).
     */
    planRotate(request) {
      return plans.planRotate(this, request);
    }

    /** Plans the revocation of `key` by `actor`: `{ revokedAt, changed }` (never moved later). */
    planRevoke(request) {
      return plans.planRevoke(this, request);
    }

    /** Checks that `role` is a role of the policy (a member's role must be); throws if not. */
    planMemberRole(role) {
      plans.planMemberRole(this, role);
    }

    // ---- What a key list shows: the gateway's and the console's rules ----

    /** Throws a `LifecycleError` unless `actor` may revoke or rotate `key`. */
    checkKeyChange(request) {
      plans.checkKeyChange(this, request);
    }

    /** `key`'s status at `now` with its creator's role: `active`, `revoked`, `expired`, `creator_left`. */
    keyStatus(request) {
      return plans.keyStatus(this, request);
    }

    /** Where `key` stands for the viewer `actor`: `{ preset, status, canChange, canRotate, canRevoke, canEditControls }`. */
    keyStanding(request) {
      return plans.keyStanding(this, request);
    }

    /** The preset that `permissions` (a key's explicit grants, or null) amount to, or null. */
    presetOf(permissions) {
      return plans.presetOf(this, permissions);
    }

    /** What a member of `role` (null: no member) may do with keys. */
    keyAbilities(role) {
      return plans.keyAbilities(this, role);
    }

    /** The policy's presets, in policy order. */
    get presets() {
      return this._wasm.presets;
    }

    /** The path of the policy's `/me` view, base path included, or null. */
    get mePath() {
      return this._wasm.mePath ?? null;
    }
  }

  /** The Align policy document (what `new Engine()` compiles), as a fresh object. */
  function alignPolicy() {
    return JSON.parse(wasm.alignPolicyJson());
  }

  /**
   * A policy document checked by compiling it: the same object back, or a `PolicyError`
   * naming the bad field.
   */
  function loadPolicy(document) {
    const text = policyText(document);
    if (text === undefined) throw new PolicyError("a policy document is required", "document");
    const compiled = call(() => new wasm.Engine(text, undefined));
    compiled.free();
    return typeof document === "string" ? JSON.parse(document) : document;
  }

  return { Engine, alignPolicy, loadPolicy };
};
