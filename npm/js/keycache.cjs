"use strict";
// The validated-key cache (`keyCache`): key headers that passed the offline checks → the key's
// hash, kept at an index of the engine's table (`rememberHash` / `startKnown`), FIFO and bounded.
// A key seen again skips the checksum and SHA-256; revocation and everything after the offline
// checks are decided afresh on every request.
//
// There is one map per way of presenting a key, so that no spelling of one header can pass for
// another: `x` (X-Api-Key alone), `a` (Authorization alone), `both` (keyed by the X-Api-Key
// value's length, `:`, then both values). `begin` (`decide.cjs`) picks and reads the map inline,
// on the hot path (a method call there made `scripts/bench-npm`'s paired ratio measurably worse);
// only remembering a new key is a call.

class KeyCache {
  /** @param {number} capacity how many keys to keep (0: none) */
  constructor(capacity) {
    this.capacity = capacity;
    // Each map: the header value(s) → [index in the engine's table, hash hex].
    this.x = new Map();
    this.a = new Map();
    this.both = new Map();
    this.slots = []; // index → [map, key], to evict
    this.next = 0;
  }

  /**
   * Keeps `hash` under `key` in `map` (one of this cache's), at the next index of the engine's
   * table (`wasmEngine`, whose decision in `slot` is at `LookupKey`), evicting the oldest.
   */
  remember(wasmEngine, slot, map, key, hash) {
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
