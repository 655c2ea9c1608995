// workerd / Cloudflare Workers (wrangler bundles this): the wasm module is imported as a
// compiled WebAssembly.Module and instantiated synchronously.
import * as bindings from "../dist/web/keyscope_wasm.js";
import wasmModule from "../dist/web/keyscope_wasm_bg.wasm";
import createKeyscope from "./keyscope.cjs";

bindings.initSync({ module: wasmModule });
const keyscope = createKeyscope(bindings, globalThis.crypto);

export const {
  Engine,
  KeyRecord,
  KeyscopeError,
  KeyError,
  PolicyError,
  RecordError,
  StoreError,
  CheckKeyError,
  LifecycleError,
  WebhookError,
  LimiterError,
  authorize,
  alignPolicy,
  loadPolicy,
  generateKey,
  parseKey,
  isValidKey,
  hashKey,
  keyHint,
  express,
  hono,
  withKeyscope,
  checkKey,
  verifyWebhook,
  memoryLimiter,
  redisLimiter,
  checkLimits,
  KEY_HEADER,
  KEY_HEADER_NAME,
  AUTHORIZATION_HEADER,
} = keyscope;
export default keyscope;
