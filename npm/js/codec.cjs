"use strict";
// The JavaScript half of the numeric protocol between the wasm engine (`npm/src/protocol.rs`)
// and the rest of `js/`. Every constant comes from the wasm module: nothing here is a number or
// a field list that Rust also writes.

module.exports = function createCodec(wasm) {
  const { Step } = wasm;
  const [RADIX, ROLE_RADIX] = wasm.codec();
  const DENIAL_FIELDS = wasm.denialFields();
  const RECORD_FIELDS = wasm.recordFields();
  const { LookupKey, LookupRole, LookupResource } = Step;

  return {
    Step,
    /** The field names of a key record, in the order the engine takes them. */
    RECORD_FIELDS,
    /** The step an outcome number carries. */
    step: (outcome) => outcome % RADIX,
    /** Whether the step asks the store for something. */
    isLookup: (step) => step === LookupKey || step === LookupRole || step === LookupResource,
    /** A narrow allow's payload: `filtered + 2 × (role + ROLE_RADIX × permission set)`. */
    payload: (outcome) => (outcome - (outcome % RADIX)) / RADIX,
    /** Whether a narrow allow's payload applies the project filter. */
    filtered: (payload) => payload % 2 === 1,
    /** The index in the policy's roles of the role a narrow allow acted with. */
    role: (payload) => ((payload - (payload % 2)) / 2) % ROLE_RADIX,
    /** A narrow allow's permission set, as one double (bit i = permission i). */
    permissionSet(payload) {
      const rest = (payload - (payload % 2)) / 2;
      return (rest - (rest % ROLE_RADIX)) / ROLE_RADIX;
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
