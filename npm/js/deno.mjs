// Deno (the `deno` export condition): the wasm's bytes ship inside a JavaScript module, so
// loading keyscope needs no read (or net) permission.
import * as bindings from "../dist/web/keyscope_wasm.js";
import { wasmBase64 } from "../dist/deno/keyscope_wasm_bytes.mjs";
import createKeyscope from "./keyscope.cjs";

bindings.initSync({ module: Uint8Array.from(atob(wasmBase64), (c) => c.charCodeAt(0)) });
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
