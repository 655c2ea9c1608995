"use strict";
// A decision's result as the caller sees it: `Allowed` (the identity and permissions the engine
// decided with) or `Denied` (SPEC's status, reason, message and headers). Plain data: nothing
// here decides.

/** The headers of every JSON answer keyscope writes (denials, `/me`). */
const JSON_HEADERS = Object.freeze({ "content-type": "application/json; charset=utf-8", "cache-control": "no-store" });

/**
 * An allowed request and the identity the engine allowed it for: the record it decided on,
 * the role (by its index in the policy) and permission set it computed.
 */
class Allowed {
  #set;
  #names;
  #me;
  /** `set`: a number under a narrow policy (at most 40 bits), else 32-bit words, lowest first. */
  constructor(engine, record, filtered, role, set, me) {
    this.allowed = true;
    this.status = 200;
    this.keyId = record.id;
    this.organizationId = record.organizationId;
    this.userId = record.createdBy;
    this.role = engine._roles[role];
    this.scope = record.scope;
    // The record's projects, sorted and joined (the engine's filter), or its one project.
    this.projectFilter = filtered ? (record.projectFilter ?? record.scopedProjectId) : null;
    this.servesMe = me !== undefined;
    // The key's own limits, for a limiter (null: none of its own).
    this.rateLimit = record.rateLimit ?? null;
    this.quota = record.quota ?? null;
    this.#set = set;
    this.#names = engine._permissions;
    this.#me = me;
  }
  /** The key's effective permissions, in policy order. */
  get permissions() {
    const names = [];
    for (let i = 0; i < this.#names.length; i++) {
      // Narrow: up to 40 bits in one double, so no 32-bit operators on it.
      const bit =
        typeof this.#set === "number" ? Math.floor(this.#set / 2 ** i) % 2 : (this.#set[i >>> 5] >>> (i & 31)) & 1;
      if (bit === 1) names.push(this.#names[i]);
    }
    return names;
  }
  /** On `GET …/me`: the key's `/me` view (else null). */
  me() {
    return this.#me === undefined ? null : JSON.parse(this.#me);
  }
  /** On `GET …/me`: the `/me` view as a JSON body (else null). */
  meJson() {
    return this.#me ?? null;
  }
  /** The documented fields only. */
  toJSON() {
    const { allowed, status, keyId, organizationId, userId, role, scope, projectFilter, servesMe } = this;
    return { allowed, status, keyId, organizationId, userId, role, scope, projectFilter, servesMe, permissions: this.permissions };
  }
}

/** A denied request: SPEC's status, reason and message. */
class Denied {
  constructor({ status, reason, message, wwwAuthenticate }) {
    this.allowed = false;
    this.status = Number(status);
    this.reason = reason;
    this.message = message;
    this.wwwAuthenticate = wwwAuthenticate || null;
  }
  /** SPEC's JSON body: `{"reason", "message"}`. */
  body() {
    return { reason: this.reason, message: this.message };
  }
  /** The response headers a denial carries (`WWW-Authenticate` on 401). */
  headers() {
    const h = { ...JSON_HEADERS };
    if (this.wwwAuthenticate) h["www-authenticate"] = this.wwwAuthenticate;
    return h;
  }
  /** The documented fields only. */
  toJSON() {
    const { allowed, status, reason, message, wwwAuthenticate } = this;
    return { allowed, status, reason, message, wwwAuthenticate };
  }
}

module.exports = { Allowed, Denied, JSON_HEADERS };
