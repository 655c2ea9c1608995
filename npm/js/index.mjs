// Node (ES modules): the same instance as `require("keyscope")`.
import keyscope from "./index.cjs";

export const {
  Engine,
  KeyRecord,
  authorize,
  generateKey,
  parseKey,
  isValidKey,
  hashKey,
  keyHint,
  express,
  hono,
  withKeyscope,
} = keyscope;
export default keyscope;
