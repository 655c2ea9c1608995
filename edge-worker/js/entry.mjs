// The worker's entry: the policy bundled at build time (scripts/build-worker writes
// ./policy.mjs from KEYSCOPE_POLICY_FILE, or `null` for the default Align policy), then the
// worker itself. The policy is a module of the bundle, not a variable, so no variable's size
// limit applies to it (docs/decisions/0067-policy-bundled-at-build.md). The worker reads the
// global once per isolate, with its other configuration (edge-worker/src/config.rs).
import policy from "./policy.mjs";

globalThis.KEYSCOPE_BUNDLED_POLICY = policy;

export * from "./shim.mjs";
export { default } from "./shim.mjs";
