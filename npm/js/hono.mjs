// `import { hono } from "keyscope/hono"` (Node): the root entry's `hono` middleware.
import keyscope from "./index.mjs";

export const { hono } = keyscope;
