// Node (ES modules): the same instance as `require("keyscope")`.
import keyscope from "./index.cjs";

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
  KEY_HEADER,
  KEY_HEADER_NAME,
  AUTHORIZATION_HEADER,
} = keyscope;
export default keyscope;
