// Browsers (through a bundler such as Vite or webpack): the wasm is fetched next to this
// module and instantiated before the package's exports are used (top-level await).
import init, * as bindings from "../dist/web/keyscope_wasm.js";
import createKeyscope from "./keyscope.cjs";

await init({ module_or_path: new URL("../dist/web/keyscope_wasm_bg.wasm", import.meta.url) });
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
