"use strict";
// The JavaScript half of the numeric protocol between the wasm engine (`npm/src/lib.rs`) and
// `keyscope.cjs`. Every constant comes from the wasm module: nothing here is a number or a field
// list that Rust also writes.

module.exports = function createCodec(wasm) {
  const { Step } = wasm;
  const [RADIX, ROLE_RADIX] = wasm.codec();
  const DENIAL_FIELDS = wasm.denialFields();
  const RECORD_FIELDS = wasm.recordFields();
  const LOOKUPS = new Set([Step.LookupKey, Step.LookupRole, Step.LookupResource]);

  return {
    Step,
    /** The field names of a key record, in the order the engine takes them. */
    RECORD_FIELDS,
    /** The step an outcome number carries. */
    step: (outcome) => outcome % RADIX,
    /** Whether the step asks the store for something. */
    isLookup: (step) => LOOKUPS.has(step),
    /**
     * A narrow allow's payload → `[filtered, role index, permission set as one double]`.
     * @param {number} outcome
     */
    allow(outcome) {
      const payload = (outcome - (outcome % RADIX)) / RADIX;
      const filtered = payload % 2;
      const rest = (payload - filtered) / 2;
      const role = rest % ROLE_RADIX;
      return [filtered === 1, role, (rest - role) / ROLE_RADIX];
    },
    /** A denial's number. */
    denial: (outcome) => (outcome - (outcome % RADIX)) / RADIX,
    /** A packed denial → its fields by name. */
    unpackDenial(packed) {
      const parts = packed.split("\n");
      const out = {};
      // The message never contains a newline (policy-core writes one sentence); the last field
      // may be empty.
      DENIAL_FIELDS.forEach((name, i) => (out[name] = parts[i]));
      return out;
    },
    /** A record's fields in the engine's order. */
    recordArgs: (record) => RECORD_FIELDS.map((f) => record[f]),
  };
};
