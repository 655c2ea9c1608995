"use strict";
// The validated-key cache (`keyCache`): key headers that passed the offline checks → the key's
// hash, kept at an index of the engine's table (`rememberHash` / `startKnown`), FIFO and bounded.
// A key seen again skips the checksum and SHA-256; revocation and everything after the offline
// checks are decided afresh on every request.

class KeyCache {
  /** @param {number} capacity how many keys to keep (0: none) */
  constructor(capacity) {
    this.capacity = capacity;
    // One map per way of presenting a key, so that no spelling of one header can pass for
    // another: X-Api-Key alone, Authorization alone, both (length-prefixed). Each maps the
    // header value(s) → [index in the engine's table, hash hex].
    this.x = new Map();
    this.a = new Map();
    this.both = new Map();
    this.slots = []; // index → [map, key], to evict
    this.next = 0;
    // Where the last `find` looked, for the `remember` that may follow it (both run within one
    // synchronous `begin`).
    this.map = undefined;
    this.key = undefined;
  }

  /** The `[index, hash]` kept for these header values, if any. */
  find(xApiKey, authorization) {
    if (this.capacity === 0) {
      this.key = undefined;
      return undefined;
    }
    if (authorization === undefined) {
      this.map = this.x;
      this.key = xApiKey;
    } else if (xApiKey === undefined) {
      this.map = this.a;
      this.key = authorization;
    } else {
      this.map = this.both;
      this.key = `${xApiKey.length}:${xApiKey}${authorization}`;
    }
    return this.key === undefined ? undefined : this.map.get(this.key);
  }

  /**
   * Keeps the hash of the key the last `find` missed, in the engine's table (`wasmEngine`, whose
   * decision in `slot` is at `LookupKey`), evicting the oldest.
   */
  remember(wasmEngine, slot, hash) {
    const map = this.map;
    const key = this.key;
    if (key === undefined) return;
    const index = this.next;
    this.next = (index + 1) % this.capacity;
    const evicted = this.slots[index];
    if (evicted !== undefined) evicted[0].delete(evicted[1]);
    if (wasmEngine.rememberHash(slot, index)) {
      this.slots[index] = [map, key];
      map.set(key, [index, hash]);
    } else this.slots[index] = undefined;
  }
}

module.exports = KeyCache;
